/**
 * Measures connect(2) cost (report only): a C helper calls connect() on one UDP socket N times (no packet leaves)
 * from a throwaway cgroup, (a) with nothing loaded, (b) with the network sensor loaded (connects unwatched) and
 * the connect policy attached; also the policy alone and to that cgroup with a deny rule for another destination, (c) as (b) with connects
 * watched (every call is a ring-buffer record, drained by the reader). Median of RUNS runs each.
 * Run as root: npx node libs/bpf/src/network/measure-connect.ts [calls] [runs]
 */
import { attachConnectPolicy, loadNetworkSensor } from './sensor.ts';
import { decodeNetworkRecord } from './records.ts';
import { buildBpf, collect } from '../core/test-support.ts';
import { loadSensor } from '../core/sensor.ts';
import { buildTestHelper, createTestCgroup, runIn } from './test-support.ts';

const calls = Number(process.argv[2] ?? 200000);
const runs = Number(process.argv[3] ?? 5);

buildBpf();
const helper = buildTestHelper();
const cgroup = createTestCgroup();
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

async function median(label: string): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runIn(cgroup.path, helper.path, ['udp-connect-loop', String(calls), '127.0.0.1', '9']);
    rates.push(calls / (Number(run.stdout.trim()) / 1e9));
  }
  rates.sort((a, b) => a - b);
  const m = rates[Math.floor(rates.length / 2)] ?? 0;
  out(`${label}: median ${(m / 1e6).toFixed(3)} M connects/s (${(1e9 / m).toFixed(0)} ns each) over ${runs} runs of ${calls}`);
  return m;
}

try {
  const base = await median('no sensor');
  {
    // The policy alone: a sensor whose programs are all switched off only provides the shared ring buffer.
    const mapsOnly = loadSensor({ name: 'maps-only', objects: ['bpf_socket'], prepare: (o) => o.programs.forEach((p) => (p.autoload = false)) });
    const policyOnly = attachConnectPolicy({ sensor: mapsOnly, cgroupPath: cgroup.path });
    policyOnly.rules.addDeny({ cidr: '192.0.2.0/24', port: 443, ruleId: 1 });
    try {
      const m = await median('connect4 policy only');
      out(`ratio policy-only/base ${(m / base).toFixed(3)}`);
    } finally {
      policyOnly.close();
      mapsOnly.close();
    }
  }
  const sensor = loadNetworkSensor();
  const collector = collect(sensor, decodeNetworkRecord);
  const policy = attachConnectPolicy({ sensor, cgroupPath: cgroup.path });
  try {
    policy.rules.addDeny({ cidr: '192.0.2.0/24', port: 443, ruleId: 1 });
    const loaded = await median('sensor (unwatched) + connect4 policy');
    sensor.watch({ connect: true });
    const watched = await median('sensor (connect watched) + connect4 policy');
    out(`ratio unwatched/base ${(loaded / base).toFixed(3)}, watched/base ${(watched / base).toFixed(3)}`);
    out(`records received while watched: ${collector.reader.stats().records}, lost in kernel: ${sensor.lostRecords()}`);
  } finally {
    policy.close();
    await collector.stop();
    sensor.close();
  }
} finally {
  cgroup.remove();
  helper.remove();
}
