/**
 * What Rego rules cost the detector: the same events through the same detector (createDetector: prepareBatch, then
 * transform per record, as the service runs it), with the default pack's native rules only and with the pack's two
 * Rego rules (k8s/policies/process-tree.yaml, compiled by opa, evaluated in the worker thread) added, in the same run.
 *
 *   npx node --disable-warning=TimeoutNegativeWarning benchmarks/rego.ts [--records N] [--runs K] [--batch B]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Events: N synthetic enriched Events (benchmarks/synthetic-events.ts, the detector benchmark's mix: 12 nodes, 60 %
 *   in pods, exec 35 %, file 40 %, connect 15 %, privilege 10 %), each container's parent processes made its own
 *   (withPodParents), encoded once. Records go to 6 partitions by node, and
 *   reach the detector in batches of B records of one partition, partitions in turn (what a consumer fetch hands it).
 * - Stages: `native` — the pack's 22 native rules (3 sequences) and no evaluator; `native + Rego` — the
 *   same plus default-process-tree's module (its two rules; evaluated on exec events, with ancestry and the
 *   container's entry process). A new detector per stage and run; runs alternate the stage order; one unreported
 *   warm-up of each first.
 * - Throughput: records / wall-clock seconds over the whole stream (decoding, matching, encoding alerts; no broker, so
 *   the ratio is harsher than with Kafka's transaction per batch in the loop). Rego cost per evaluated event: the
 *   difference of the two stages' times divided by the evaluations the Rego stage counted. CPU per event: the
 *   process's CPU time (main thread and worker) over the stream, and its ratio; steadier than wall time when other
 *   work shares the cores, but blind to what the worker's overlap with the main thread buys on free cores.
 */
import { parseArgs } from 'node:util';
import { availableParallelism, cpus } from 'node:os';
import { createDetector, type DetectionRules } from '@stinger/detection';
import { encodeEvent } from '@stinger/events';
import type { ConsumedRecord } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { RegoBatchEvaluator } from '@stinger/rego';
import { fmt, load, median, spread } from './report.ts';
import { compiledRegoPolicy, loadPack, NODES, rulesOf, syntheticEvents, withPodParents } from './synthetic-events.ts';

const PARTITIONS = 6;
const STAGES = ['native', 'native + Rego'] as const;
type Stage = (typeof STAGES)[number];

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, batch: { type: 'string', default: '500' } } });
const positive = (name: string, raw: string): number => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got "${raw}"`);
  return value;
};
const options = { records: positive('records', values.records), runs: positive('runs', values.runs), batch: positive('batch', values.batch) };
const logger = createLogger({ name: 'bench-rego', level: 'warn' });

/** Batches of one partition each, partitions in turn. */
function batchesOf(records: readonly ConsumedRecord[], size: number): ConsumedRecord[][] {
  const byPartition = Array.from({ length: PARTITIONS }, () => [] as ConsumedRecord[]);
  for (const record of records) byPartition[record.partition]?.push(record);
  const batches: ConsumedRecord[][] = [];
  for (let start = 0; byPartition.some((list) => start < list.length); start += size) {
    for (const list of byPartition) if (start < list.length) batches.push(list.slice(start, start + size));
  }
  return batches;
}

interface StageResult {
  readonly seconds: number;
  /** CPU time of the whole process (main thread and Rego worker), user + system. */
  readonly cpuSeconds: number;
  readonly alerts: number;
  readonly regoEvaluations: number;
  readonly regoAlerts: number;
  readonly regoStopped: number;
}

async function runStage(rules: DetectionRules, rego: RegoBatchEvaluator | undefined, batches: readonly ConsumedRecord[][]): Promise<StageResult> {
  const detector = createDetector({ rules, alertsTopic: 'stinger.alerts', logger, readRange: async () => [], ...(rego ? { rego } : {}) });
  let alerts = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const batch of batches) {
    await detector.prepareBatch(batch);
    for (const record of batch) alerts += detector.transform(record).length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const { regoEvaluations, regoAlerts, regoStopped } = detector.stats;
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, alerts, regoEvaluations, regoAlerts, regoStopped };
}

const pack = loadPack();
const [regoKey, regoPolicy] = await compiledRegoPolicy(logger);
const nativeRuleCount = [...pack.values()].reduce((sum, compiled) => sum + compiled.rules.length, 0);
const events = withPodParents(syntheticEvents(options.records));
const records: ConsumedRecord[] = events.map((event, index) => {
  const node = Number(event.node.replace(/\D+/g, '')) || 0;
  return { topic: 'stinger.events', partition: node % PARTITIONS, offset: BigInt(index), key: Buffer.from(event.node), value: encodeEvent(event), headers: {}, timestampMs: Number(event.time / 1_000_000n) };
});
const batches = batchesOf(records, options.batch);
const execShare = events.filter((event) => event.kind === 'exec').length / events.length;

const rego = new RegoBatchEvaluator();
try {
  const rulesFor = (stage: Stage): DetectionRules => {
    const rules = rulesOf(pack);
    if (stage === 'native + Rego') rules.set(regoKey, regoPolicy);
    return rules;
  };
  const run = (stage: Stage) => runStage(rulesFor(stage), stage === 'native' ? undefined : rego, batches);
  for (const stage of STAGES) await run(stage); // warm-up: JIT, and the worker's start and module compile
  const results = new Map<Stage, StageResult[]>(STAGES.map((stage) => [stage, []]));
  for (let index = 0; index < options.runs; index++) {
    const order = index % 2 === 0 ? STAGES : [...STAGES].reverse();
    for (const stage of order) results.get(stage)?.push(await run(stage));
    console.error(`run ${index + 1}/${options.runs} done (${order.join(' → ')}); load ${load()}`);
  }

  const native = results.get('native') ?? [];
  const withRego = results.get('native + Rego') ?? [];
  const rate = (r: StageResult) => options.records / r.seconds;
  console.log(`# Stinger detector with Rego rules: ${fmt(options.records)} events × ${options.runs} runs, batches of ${fmt(options.batch)}`);
  console.log('');
  console.log(`- CPUs (nproc): ${availableParallelism()}, model: ${cpus()[0]?.model ?? 'unknown'}; Node ${process.version}; load average at start of report: ${load()}`);
  console.log(`- native rules: ${nativeRuleCount} of the default pack; Rego: ${regoKey}, 2 rules in one module, on exec events (${(execShare * 100).toFixed(0)} % of the events; ${NODES} nodes, ${PARTITIONS} partitions)`);
  console.log('');
  console.log('| stage | events/s, median (min–max) | ratio to native, median of runs (per run) | alerts | Rego evaluations / alerts / stopped |');
  console.log('|---|---:|---|---:|---:|');
  for (const [stage, runs] of results) {
    const ratios = runs.map((r, i) => rate(r) / rate(native[i] ?? r));
    const last = runs[runs.length - 1];
    console.log(`| ${stage} | ${spread(runs.map(rate))} | ${fmt(median(ratios), 2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}) | ${fmt(last?.alerts ?? 0)} | ${fmt(last?.regoEvaluations ?? 0)} / ${fmt(last?.regoAlerts ?? 0)} / ${fmt(last?.regoStopped ?? 0)} |`);
  }
  const perEvaluation = withRego.map((r, i) => ((r.seconds - (native[i]?.seconds ?? Number.NaN)) * 1e6) / Math.max(1, r.regoEvaluations));
  const nativePerEvent = native.map((r) => (r.seconds * 1e6) / options.records);
  console.log('');
  console.log(`- per event, native stage: ${spread(nativePerEvent, 2)} µs; Rego added per evaluated (exec) event: ${spread(perEvaluation, 2)} µs`);
  // CPU time holds better than wall time on a shared machine: other processes' load inflates it much less.
  const cpuPerEvent = (r: StageResult) => (r.cpuSeconds * 1e6) / options.records;
  const cpuRatios = withRego.map((r, i) => cpuPerEvent(native[i] ?? r) / cpuPerEvent(r));
  console.log(
    `- CPU per event (main thread + worker): native ${spread(native.map(cpuPerEvent), 2)} µs, native + Rego ${spread(withRego.map(cpuPerEvent), 2)} µs; ` +
      `native / native + Rego, median of runs: ${fmt(median(cpuRatios), 2)} (${cpuRatios.map((r) => r.toFixed(2)).join(', ')})`,
  );
  console.log(`- load average at end: ${load()}`);
} finally {
  await rego.close();
}
