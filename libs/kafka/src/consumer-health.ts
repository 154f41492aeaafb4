/**
 * Health of a consumer-group member and of a producer, for the services' /healthz and /readyz (@stinger/metrics).
 *
 * The verdicts are pure functions of a small state record; `trackConsumerHealth` keeps that record from the kafkajs
 * instrumentation events and must be called before the consumer connects (the first group join is an event, not a
 * state that can be read later). `trackProducerHealth` reads the StingerProducer's own `connected`, which follows
 * the producer it replaces after a failed send.
 *
 * - Ready: the member has joined its group (GROUP_JOIN) and is in it now; a rebalance, a crash or a stop takes that
 *   back until the next join. A member with no partitions is ready: it is the standby of a group with more members
 *   than partitions, and counting it unready would stall every rollout of such a deployment.
 * - Live: false when the member is in its group but has sent no heartbeat for `heartbeatStaleMs`, or crashed with an
 *   error kafkajs does not restart from. kafkajs heartbeats from its fetch loop and from the batch handler, so no
 *   heartbeat means the handler is stuck; a broker that is away shows as not joined (not ready), never as not live.
 */
import type { Consumer } from 'kafkajs';
import { namespaced } from '@stinger/log';
import type { HealthCheck } from '@stinger/metrics';
import { fetchConsumerLag } from './admin.ts';
import type { KafkaClient } from './client.ts';
import type { StingerProducer } from './producer.ts';

/**
 * A joined member's longest silence before it counts as stuck. Well above what a healthy member shows: it heartbeats
 * every few seconds (every fetch wait, at most 5 s, when idle), and a batch handler that holds it longer than its
 * session timeout (10-30 s) has already cost it its partitions.
 */
export const STUCK_AFTER_MS = 90_000;

export interface ConsumerHealthState {
  /** When the member last joined, while it is in the group; null before the first join and after leaving it. */
  readonly joinedAtMs: number | null;
  /** Partitions assigned at the last join, over all topics. */
  readonly partitions: number;
  readonly lastHeartbeatMs: number | null;
  /** The error of a crash kafkajs gave up on; null while it runs or restarts. */
  readonly gaveUp: string | null;
}

export const INITIAL_CONSUMER_HEALTH: ConsumerHealthState = { joinedAtMs: null, partitions: 0, lastHeartbeatMs: null, gaveUp: null };

/** The kafkajs consumer events the verdict depends on, as plain data. */
export type ConsumerHealthEvent =
  | { readonly type: 'joined'; readonly atMs: number; readonly assignment: Readonly<Record<string, readonly number[]>> }
  | { readonly type: 'heartbeat'; readonly atMs: number }
  | { readonly type: 'left' }
  | { readonly type: 'crashed'; readonly error: string; readonly restarting: boolean };

export function nextConsumerHealth(state: ConsumerHealthState, event: ConsumerHealthEvent): ConsumerHealthState {
  switch (event.type) {
    case 'joined': {
      const partitions = Object.values(event.assignment).reduce((sum, list) => sum + list.length, 0);
      return { ...state, joinedAtMs: event.atMs, partitions, lastHeartbeatMs: event.atMs, gaveUp: null };
    }
    case 'heartbeat':
      return { ...state, lastHeartbeatMs: event.atMs };
    case 'left':
      return { ...state, joinedAtMs: null };
    case 'crashed':
      return { ...state, joinedAtMs: null, gaveUp: event.restarting ? null : event.error };
  }
}

export function judgeConsumerHealth(state: ConsumerHealthState, nowMs: number, heartbeatStaleMs: number): HealthCheck {
  const joined = state.joinedAtMs !== null;
  const sinceHeartbeatMs = state.lastHeartbeatMs === null ? null : nowMs - state.lastHeartbeatMs;
  const stuck = joined && sinceHeartbeatMs !== null && sinceHeartbeatMs > heartbeatStaleMs;
  return {
    live: state.gaveUp === null && !stuck,
    ready: joined,
    detail: { joined, partitions: state.partitions, sinceHeartbeatMs, ...(state.gaveUp === null ? {} : { gaveUp: state.gaveUp }) },
  };
}

export interface HealthTracker {
  check(): HealthCheck;
}

export interface TrackConsumerHealthOptions {
  /** Longest a joined member may go without a heartbeat before it counts as stuck (not live). */
  readonly heartbeatStaleMs: number;
  readonly now?: () => number;
}

export function trackConsumerHealth(consumer: Consumer, options: TrackConsumerHealthOptions): HealthTracker {
  const now = options.now ?? Date.now;
  let state = INITIAL_CONSUMER_HEALTH;
  const apply = (event: ConsumerHealthEvent) => {
    state = nextConsumerHealth(state, event);
  };
  const { events } = consumer;
  consumer.on(events.GROUP_JOIN, ({ payload }) => apply({ type: 'joined', atMs: now(), assignment: payload.memberAssignment }));
  consumer.on(events.HEARTBEAT, () => apply({ type: 'heartbeat', atMs: now() }));
  consumer.on(events.REBALANCING, () => apply({ type: 'left' }));
  consumer.on(events.STOP, () => apply({ type: 'left' }));
  consumer.on(events.DISCONNECT, () => apply({ type: 'left' }));
  consumer.on(events.CRASH, ({ payload }) => apply({ type: 'crashed', error: payload.error.message, restarting: payload.restart }));
  return { check: () => judgeConsumerHealth(state, now(), options.heartbeatStaleMs) };
}

/** Ready while connected: a producer reconnects on its own, so a disconnect is never a reason to restart. */
export function trackProducerHealth(producer: Pick<StingerProducer, 'connected'>): HealthTracker {
  return {
    check: () => {
      const { connected } = producer;
      return { live: true, ready: connected, detail: { connected } };
    },
  };
}

/**
 * Caught up once: the group's lag was at or below `maxLag` at some measurement since start. Falling behind later
 * does not unready it (a burst is no reason to stop a rollout); the lag stays in the detail and in the logs.
 */
export interface CatchUpState {
  readonly lag: bigint | null;
  readonly caughtUp: boolean;
}

export function nextCatchUp(state: CatchUpState, lag: bigint, maxLag: bigint): CatchUpState {
  return { lag, caughtUp: state.caughtUp || lag <= maxLag };
}

export function judgeCatchUp(state: CatchUpState): HealthCheck {
  return { live: true, ready: state.caughtUp, detail: { caughtUp: state.caughtUp, lag: state.lag === null ? null : Number(state.lag) } };
}

export interface WatchCatchUpOptions {
  readonly client: KafkaClient;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Records behind the topics' ends still counted as caught up (transaction markers are never delivered). */
  readonly maxLag: bigint;
  readonly intervalMs: number;
}

export interface CatchUpWatch extends HealthTracker {
  stop(): void;
}

/** Measures the group's lag every `intervalMs` (the first time at once) until stopped; a failed measurement is logged at debug and retried. */
export function watchCatchUp(options: WatchCatchUpOptions): CatchUpWatch {
  const { client, groupId, topics, maxLag } = options;
  const logger = namespaced(client.logger, 'CatchUp');
  let state: CatchUpState = { lag: null, caughtUp: false };
  async function measure(): Promise<void> {
    let total = 0n;
    for (const topic of topics) total += (await fetchConsumerLag(client, groupId, topic)).lag;
    const wasCaughtUp = state.caughtUp;
    state = nextCatchUp(state, total, maxLag);
    if (state.caughtUp && !wasCaughtUp) logger.info({ groupId, lag: Number(total) }, 'caught up');
  }
  const run = () => void measure().catch((error: unknown) => logger.debug({ err: error, groupId }, 'lag not measured'));
  const timer = setInterval(run, options.intervalMs);
  timer.unref();
  run();
  return { check: () => judgeCatchUp(state), stop: () => clearInterval(timer) };
}
