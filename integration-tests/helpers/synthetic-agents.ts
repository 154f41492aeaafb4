/**
 * Synthetic agents for the pipeline's fault tests (integration-tests/loop/crash-each-service,
 * integration-tests/kafka/broker-faults): each node writes RawEvents to stinger.events.raw as the agent does — per-agent
 * sequence numbers from 0, one idempotent batch per tick — so a reader can check every (node, seq) arrived exactly once.
 * Every `alertEvery`th event of a node is an exec of `<alertPrefix><node>-<seq>`, which the test's policy alerts on.
 */
import { encodeRawEvent, type RawEvent } from '@stinger/events';
import { createProducer, topicName, type KafkaClient } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SyntheticAgentsOptions {
  readonly client: KafkaClient;
  readonly prefix: string;
  readonly nodes: readonly string[];
  /** Events per node per tick, and the tick. */
  readonly perTick: number;
  readonly tickMs: number;
  readonly alertEvery: bigint;
  readonly alertPrefix: string;
  /**
   * true: a batch whose send fails is sent again, same records, until it is acknowledged (as the agent spools and
   * resends, under a new producer id: what the broker had written is there twice, and the enricher drops the repeat);
   * false: the failure ends `done`.
   */
  readonly resendFailed: boolean;
}

export interface SyntheticAgents {
  /** Settles when the stream stopped: rejects with a send's error when resendFailed is false. */
  readonly done: Promise<void>;
  /** `<node>/<seq>` of every alerting event sent. */
  readonly alerting: Set<string>;
  /** Per node, how many sequence numbers were used (0 to count-1). */
  sent(): { node: string; count: bigint }[];
  /** Failed sends that were sent again, the last failure and the records acknowledged. */
  resends(): { resends: number; lastError: string; acknowledged: number };
  /** Puts an event into the first node's stream; resolves with the sequence number it got once it is built. */
  inject(build: (node: string, seq: bigint) => RawEvent): Promise<bigint>;
  stop(): void;
  /** Stops without delivering what failed (after(): the brokers may be gone for good). */
  abandon(): void;
}

export function startSyntheticAgents(options: SyntheticAgentsOptions): SyntheticAgents {
  const { client, prefix, nodes, perTick, tickMs, alertEvery, alertPrefix, resendFailed } = options;
  const next = nodes.map(() => 0n);
  const injected: ((seq: bigint) => RawEvent)[] = [];
  const alerting = new Set<string>();
  let running = true;
  let abandoned = false;
  let resends = 0;
  let acknowledged = 0;
  let lastError = '';
  const producer = createProducer({ client });
  const event = (agent: number): RawEvent => {
    const node = nodes[agent]!;
    const seq = next[agent]!;
    next[agent] = seq + 1n;
    const time = BigInt(Date.now()) * 1_000_000n;
    const special = agent === 0 ? injected.shift() : undefined;
    if (special) return { ...special(seq), time };
    const alerts = seq % alertEvery === alertEvery - 1n;
    if (alerts) alerting.add(`${node}/${seq}`);
    const binary = alerts ? `${alertPrefix}${node}-${seq}` : '/usr/bin/true';
    return { ...sampleRawEvent({ node, seq, binary, pid: 1000 + Number(seq % 30_000n) }), id: `${node}-${seq}`, time };
  };
  const done = (async () => {
    await producer.connect();
    try {
      while (running) {
        const started = Date.now();
        const records = nodes.flatMap((node, agent) => Array.from({ length: perTick }, () => ({ key: node, value: encodeRawEvent(event(agent)) })));
        for (;;) {
          try {
            await producer.send(topicName('eventsRaw', prefix), records);
            acknowledged += records.length;
            break;
          } catch (error) {
            if (!resendFailed) throw error;
            if (abandoned) return;
            resends += 1;
            lastError = (error as Error).message;
            await sleep(500);
          }
        }
        await sleep(Math.max(0, tickMs - (Date.now() - started)));
      }
    } finally {
      await producer.disconnect();
    }
  })();
  return {
    done,
    alerting,
    sent: () => nodes.map((node, agent) => ({ node, count: next[agent]! })),
    resends: () => ({ resends, lastError, acknowledged }),
    inject(build) {
      return new Promise((resolve) => injected.push((seq) => (resolve(seq), build(nodes[0]!, seq))));
    },
    stop() {
      running = false;
    },
    abandon() {
      running = false;
      abandoned = true;
    },
  };
}

/** Every value from 0 to count-1 exactly once: the gaps and repeats otherwise, at most 10 of each. */
export function gapsAndRepeats(seqs: readonly bigint[], count: bigint): { gaps: string[]; repeats: string[] } {
  const seen = new Map<bigint, number>();
  for (const seq of seqs) seen.set(seq, (seen.get(seq) ?? 0) + 1);
  const gaps: string[] = [];
  const repeats: string[] = [];
  for (let seq = 0n; seq < count; seq++) if (!seen.has(seq) && gaps.length < 10) gaps.push(String(seq));
  for (const [seq, n] of seen) if ((n > 1 || seq >= count) && repeats.length < 10) repeats.push(`${seq}×${n}`);
  return { gaps, repeats };
}
