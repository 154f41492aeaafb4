import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAgentMetrics, type AgentMetrics, type MetricsHttpServer } from './metrics.ts';
import type { AgentApiSources, AgentHealth, CgroupFlow, PolicyStatusView } from './types.ts';

/** The value of one sample line `name{labels} value` of the exposition text; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let health: AgentHealth = {
  agentId: 'agent-1',
  node: 'node-a',
  uptimeSeconds: 1,
  sensors: [
    { name: 'process', state: 'loaded', reason: null, mode: 'tracepoint' },
    { name: 'file-guard', state: 'loaded', reason: null, mode: 'fanotify' },
    { name: 'feature:lsm', state: 'available', reason: null, mode: null },
  ],
  lostRecords: [
    { sensor: 'process', cause: 'ring_full', count: 5 },
    { sensor: 'file', cause: 'shed', count: 40_000 },
    { sensor: 'publisher', cause: 'spool_full', count: 2 },
  ],
  queueDepth: 17,
  kafka: { mode: 'direct', published: 10, acknowledged: 9, spooled: 0, spoolBytes: 2048 },
  processCache: { live: 40, exited: 6, misses: 3 },
};
const policies: PolicyStatusView[] = [
  { name: 'a', generation: 1, mode: 'enforce', state: 'applied', kernelRules: 1, pipelineRules: 0, messages: [] },
  { name: 'b', generation: 1, mode: 'enforce', state: 'applied', kernelRules: 1, pipelineRules: 0, messages: [] },
  { name: 'c', generation: 2, mode: 'monitor', state: 'rejected', kernelRules: 0, pipelineRules: 0, messages: ['bad'] },
];
let flows: CgroupFlow[] = [];
let filePaths = { followed: 0, lexical: 0 };
const sources: AgentApiSources = { health: () => health, policies: () => policies, flows: () => flows, filePaths: () => filePaths };

describe('agent metrics over HTTP', { timeout: 30_000 }, () => {
  let metrics: AgentMetrics;
  let served: MetricsHttpServer;
  let base: string;

  before(async () => {
    metrics = createAgentMetrics({ sources });
    served = await metrics.serve({ address: '127.0.0.1:0' });
    base = `http://127.0.0.1:${served.port}`;
  });

  after(async () => {
    await served.stop();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text();
  }

  it('/metrics exposes the named metrics with the values observed and pulled from the sources', async () => {
    metrics.observeEvent('exec');
    metrics.observeEvent('exec');
    metrics.observeEvent('exit');
    metrics.observeProduceLatency(3); // 3 ms: in the 5 ms bucket, not the 2.5 ms one
    metrics.observeProduceLatency(1500);
    const text = await scrape();

    assert.equal(sample(text, 'stinger_events_total{kind="exec"}'), 2);
    assert.equal(sample(text, 'stinger_events_total{kind="exit"}'), 1);
    assert.equal(sample(text, 'stinger_lost_records_total{sensor="process",cause="ring_full"}'), 5);
    assert.equal(sample(text, 'stinger_lost_records_total{sensor="file",cause="shed"}'), 40_000, 'audit records the kernel shed, by sensor');
    assert.equal(sample(text, 'stinger_lost_records_total{sensor="publisher",cause="spool_full"}'), 2);
    assert.equal(sample(text, 'stinger_queue_depth'), 17);
    assert.equal(sample(text, 'stinger_spool_bytes'), 2048);
    assert.equal(sample(text, 'stinger_sensor_mode{sensor="process",mode="tracepoint"}'), 1);
    assert.equal(sample(text, 'stinger_sensor_mode{sensor="file-guard",mode="fanotify"}'), 1);
    assert.ok(!text.includes('stinger_sensor_mode{sensor="feature:lsm"'), 'kernel features are not sensors');
    assert.equal(sample(text, 'stinger_produce_latency_seconds_bucket{le="0.001"}'), 0);
    assert.equal(sample(text, 'stinger_produce_latency_seconds_bucket{le="0.0025"}'), 0);
    assert.equal(sample(text, 'stinger_produce_latency_seconds_bucket{le="0.005"}'), 1);
    assert.equal(sample(text, 'stinger_produce_latency_seconds_bucket{le="2.5"}'), 2);
    assert.equal(sample(text, 'stinger_produce_latency_seconds_bucket{le="10"}'), 2);
    assert.equal(sample(text, 'stinger_produce_latency_seconds_count'), 2);
    assert.ok(Math.abs((sample(text, 'stinger_produce_latency_seconds_sum') ?? 0) - 1.503) < 1e-9);
    assert.equal(sample(text, 'stinger_process_cache_entries{state="live"}'), 40);
    assert.equal(sample(text, 'stinger_process_cache_entries{state="exited"}'), 6);
    assert.equal(sample(text, 'stinger_process_cache_misses_total'), 3);
    assert.equal(sample(text, 'stinger_policies{state="applied"}'), 2);
    assert.equal(sample(text, 'stinger_policies{state="partial"}'), 0);
    assert.equal(sample(text, 'stinger_policies{state="rejected"}'), 1);
    // prom-client's default process metrics, on this registry.
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it('counters pulled from cumulative sources advance by the difference and stay monotonic', async () => {
    health = {
      ...health,
      lostRecords: [{ sensor: 'process', cause: 'ring_full', count: 9 }],
      processCache: { ...health.processCache, misses: 10 },
    };
    let text = await scrape();
    assert.equal(sample(text, 'stinger_lost_records_total{sensor="process",cause="ring_full"}'), 9);
    assert.equal(sample(text, 'stinger_process_cache_misses_total'), 10);
    // The source starts again from zero (e.g. the sensor was reloaded): its new count adds on.
    health = { ...health, lostRecords: [{ sensor: 'process', cause: 'ring_full', count: 4 }] };
    text = await scrape();
    assert.equal(sample(text, 'stinger_lost_records_total{sensor="process",cause="ring_full"}'), 13);
    assert.equal(sample(text, 'stinger_process_cache_misses_total'), 10);
  });

  it('per-cgroup traffic from the flow counters is exposed by cgroup path and direction', async () => {
    flows = [
      { cgroup: '/kubepods.slice/pod-a.slice', direction: 'egress', bytes: 1500, packets: 3 },
      { cgroup: '/kubepods.slice/pod-a.slice', direction: 'ingress', bytes: 200, packets: 2 },
    ];
    let text = await scrape();
    assert.equal(sample(text, 'stinger_cgroup_network_bytes_total{cgroup="/kubepods.slice/pod-a.slice",direction="egress"}'), 1500);
    assert.equal(sample(text, 'stinger_cgroup_network_packets_total{cgroup="/kubepods.slice/pod-a.slice",direction="ingress"}'), 2);
    flows = [{ cgroup: '/kubepods.slice/pod-a.slice', direction: 'egress', bytes: 4000, packets: 5 }];
    text = await scrape();
    assert.equal(sample(text, 'stinger_cgroup_network_bytes_total{cgroup="/kubepods.slice/pod-a.slice",direction="egress"}'), 4000);
  });

  it('file-event paths are counted by resolution, followed or lexical', async () => {
    filePaths = { followed: 7, lexical: 2 };
    let text = await scrape();
    assert.equal(sample(text, 'stinger_file_paths_total{resolution="followed"}'), 7);
    assert.equal(sample(text, 'stinger_file_paths_total{resolution="lexical"}'), 2);
    filePaths = { followed: 9, lexical: 2 };
    text = await scrape();
    assert.equal(sample(text, 'stinger_file_paths_total{resolution="followed"}'), 9);
  });

  it('/healthz answers 200 with the health report (the agent has no checks: live while it serves)', async () => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { live: true, checks: {} });
  });

  it('an unknown path is 404', async () => {
    const response = await fetch(`${base}/metricsx`);
    assert.equal(response.status, 404);
    await response.arrayBuffer();
    const root = await fetch(`${base}/`);
    assert.equal(root.status, 404);
    await root.arrayBuffer();
  });

  it('two instances keep separate registries', async () => {
    const other = createAgentMetrics({ defaultMetrics: false });
    other.observeEvent('file');
    const text = await other.metrics();
    assert.equal(sample(text, 'stinger_events_total{kind="file"}'), 1);
    assert.equal(sample(text, 'stinger_events_total{kind="exec"}'), undefined);
    assert.equal(sample(await scrape(), 'stinger_events_total{kind="file"}'), undefined);
  });
});
