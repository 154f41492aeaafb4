/**
 * KRaft cluster ids: a 16-byte random UUID written as unpadded base64url (22 characters), the form
 * `kafka-storage random-uuid` prints. Generated here so a start does not pay a JVM launch for it.
 */
import { randomBytes } from 'node:crypto';

const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/**
 * A fresh cluster id. Like Kafka's `Uuid.randomUuid()` it never starts with `-` (a command line would read it as an
 * option) and is never the all-zero or reserved metadata-topic UUID.
 */
export function randomClusterId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    const id = bytes.toString('base64url');
    if (!id.startsWith('-') && !isReservedUuid(bytes)) return id;
  }
}

/** True for a string Kafka's `Uuid.fromString` accepts as a cluster id. */
export function isClusterId(value: string): boolean {
  return CLUSTER_ID_PATTERN.test(value);
}

/** Kafka reserves 0/0 (ZERO_UUID) and 0/1 (METADATA_TOPIC_ID). */
function isReservedUuid(bytes: Buffer): boolean {
  return bytes.subarray(0, 15).every((b) => b === 0) && (bytes[15] === 0 || bytes[15] === 1);
}
