/**
 * Topic names that no other test, test file or earlier run has used, so tests sharing one broker never read each
 * other's records. Creating the topic is libs/kafka's job.
 */
import { randomBytes } from 'node:crypto';

const LEGAL = /^[A-Za-z0-9._-]+$/;
/** Kafka refuses longer names. */
const MAX_TOPIC_NAME_LENGTH = 249;

/** `<prefix>-<time base36>-<8 hex>`; throws when the prefix holds characters Kafka refuses or is too long. */
export function uniqueTopicName(prefix: string): string {
  if (!LEGAL.test(prefix)) throw new RangeError(`topic prefix "${prefix}" may only contain letters, digits, ".", "_" and "-"`);
  const name = `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) throw new RangeError(`topic prefix "${prefix}" is too long for a Kafka topic name`);
  return name;
}
