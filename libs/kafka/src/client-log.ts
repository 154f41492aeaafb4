/**
 * Which pino level a kafkajs log line gets. kafkajs logs at ERROR much that it then retries and recovers from (an
 * error answer on a connection, "Failed to send messages: … concurrent operation …" while a transaction's previous
 * request finishes, a group rebalancing, a coordinator moving or loading, a leader election); a new user reads those
 * as a broken pipeline. A failure that survives the client's retries reaches the caller as an exception and is
 * reported there, so these lines are demoted:
 *  - to `debug` when they are the protocol's normal course (CONCURRENT_TRANSACTIONS, rebalances, coordinator loading
 *    or moving, unstable offsets, fetch sessions): nobody needs them unless debugging the client;
 *  - to `warn` when the client is retrying something that should not happen in a healthy cluster (a leader election,
 *    a connection lost, a consumer restarting, a request timing out).
 * Every other ERROR line stays `error` (a crash with a non-retriable cause, an eachBatch handler throwing, a failed
 * listener, authentication).
 */
import { logLevel as KafkaLogLevel } from 'kafkajs';

export type PinoLevel = 'error' | 'warn' | 'info' | 'debug';

/** kafkajs error messages (protocol/error.js) of conditions the client retries as a matter of course. */
const ROUTINE = [
  'another concurrent operation on the same transaction', // CONCURRENT_TRANSACTIONS
  'The group is rebalancing', // REBALANCE_IN_PROGRESS
  "The coordinator is loading and hence can't process requests", // COORDINATOR_LOAD_IN_PROGRESS
  'The group coordinator is not available', // COORDINATOR_NOT_AVAILABLE
  'This is not the correct coordinator', // NOT_COORDINATOR
  'The coordinator is not aware of this member', // UNKNOWN_MEMBER_ID: the consumer re-joins
  'There are unstable offsets that need to be cleared', // UNSTABLE_OFFSET_COMMIT
  'The fetch session ID was not found', // FETCH_SESSION_ID_NOT_FOUND
];

/** Conditions the client retries that a healthy cluster should rarely show. */
const RECOVERED = [
  'There is no leader for this topic-partition', // LEADER_NOT_AVAILABLE
  'This server is not the leader for that topic-partition', // NOT_LEADER_OR_FOLLOWER
  'This server does not host this topic-partition', // UNKNOWN_TOPIC_OR_PARTITION (stale metadata)
  'The request timed out',
  'The server disconnected before a response was received',
  'Restarting the consumer in', // logged after a crash with a retriable cause: the consumer recovers
  'Offset out of range, resetting to default offset',
  'Failed to connect to seed broker, trying another broker',
  'Failed to connect to broker, reconnecting',
];

/** Consumer crashes whose cause the consumer restarts from (logged before "Restarting the consumer"). */
const RETRIABLE_CRASH = /^Crash: KafkaJS(NumberOfRetriesExceeded|ConnectionError|ConnectionClosedError|RequestTimeoutError)\b/;

function baseLevel(level: KafkaLogLevel): PinoLevel {
  switch (level) {
    case KafkaLogLevel.ERROR:
    case KafkaLogLevel.NOTHING:
      return 'error';
    case KafkaLogLevel.WARN:
      return 'warn';
    case KafkaLogLevel.INFO:
      return 'info';
    case KafkaLogLevel.DEBUG:
      return 'debug';
  }
}

/** The pino level of a kafkajs log line: its own level, with recovered-from errors demoted (see the file's header). */
export function kafkaLogLevel(entry: { readonly namespace: string; readonly level: KafkaLogLevel; readonly message: string }): PinoLevel {
  const level = baseLevel(entry.level);
  if (level !== 'error' && level !== 'warn') return level;
  const { message } = entry;
  if (ROUTINE.some((text) => message.includes(text))) return 'debug';
  if (level === 'warn') return 'warn';
  // Every error answer on a connection is logged there and then retried by the request's caller; what survives the
  // retries surfaces as an exception.
  if (entry.namespace === 'Connection') return 'warn';
  if (RECOVERED.some((text) => message.includes(text)) || RETRIABLE_CRASH.test(message)) return 'warn';
  return 'error';
}
