/**
 * A DNS query storm from one cgroup against the real agent's egress parser (issue 17): the per-cgroup rate limit cuts
 * it in the kernel, and what it refused is counted where an operator looks — the agent's metrics
 * (stinger_lost_records_total{sensor="egress-parser",cause="rate_limited"}) and its health report on stinger.agents
 * (what `stinger status` shows) — while the queries within the limit arrive as egress events. Every query is a record
 * or a count, none lost silently. The storm goes to a loopback resolver address nobody answers (the query is read as
 * it leaves), from a host cgroup of its own so nothing else shares its bucket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeAgentHealth, decodeRawEvent } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { runChild } from '../helpers/agent-events.ts';
import { hostCgroups } from '../helpers/host-cgroup.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';

const QUERIES = 2000;
const RATE = 20;
const BURST = 40;
const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('egress-storm')}.`;
const nodeName = `egress-storm-node-${tag}`;
const cgroups = hostCgroups(`stinger-egress-storm-${tag}`);

/**
 * QUERIES DNS queries (type A) for <n>.storm-<tag>.test, sent by perl with sendto(2) from one unconnected UDP socket
 * as fast as it can (unconnected: the resolver's port-unreachable answers would fail a connected socket's sends).
 */
const STORM_PERL = String.raw`
use IO::Socket::INET;
use Socket qw(pack_sockaddr_in inet_aton);
my ($server, $tag, $count) = @ARGV;
my $s = IO::Socket::INET->new(Proto => 'udp') or die "socket: $!";
my $to = pack_sockaddr_in(53, inet_aton($server));
my $sent = 0;
for my $i (1 .. $count) {
  my $name = join('', map { chr(length $_) . $_ } ($i, "storm-$tag", 'test')) . "\0";
  $sent++ if defined $s->send(pack('nnnnnn', $i, 0x0100, 1, 0, 0, 0) . $name . pack('nn', 1, 1), 0, $to);
}
print "sent $sent\n";
`;

let client: KafkaClient;
let agent: RunningAgent | undefined;
let raw: Collector | undefined;
let agents: Collector | undefined;
let metricsAddress = '';

before(async () => {
  buildBpf();
  client = testClient('egress-storm-test');
  await bootstrapTopics({ client, prefix });
  raw = await collectTopic(client, topicName('eventsRaw', prefix));
  agents = await collectTopic(client, topicName('agents', prefix));
  metricsAddress = `127.0.0.1:${await freePort()}`;
  agent = await startAgent({
    brokers: testBrokers(),
    topicPrefix: prefix,
    nodeName,
    extraEnv: {
      STINGER_AGENT_METRICS_ADDRESS: metricsAddress,
      STINGER_AGENT_HEALTH_INTERVAL_MS: '1000',
      STINGER_AGENT_EGRESS_RATE: String(RATE),
      STINGER_AGENT_EGRESS_BURST: String(BURST),
    },
  });
});

after(async () => {
  const code = await agent?.stop();
  await raw?.stop();
  await agents?.stop();
  cgroups.remove();
  assert.equal(code, 0, 'the agent shuts down cleanly');
});

/** stinger_lost_records_total{sensor="egress-parser",cause="rate_limited"} from the agent's metrics endpoint. */
async function rateLimitedMetric(): Promise<number> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  return Number(/^stinger_lost_records_total\{sensor="egress-parser",cause="rate_limited"\} (\S+)$/m.exec(text)?.[1] ?? 0);
}

test('a query storm is cut to the cgroup rate and the rest counted in the metrics and the health report', { timeout: 120_000 }, async () => {
  const cgroup = cgroups.leaf('storm');
  const resolver = `127.53.${1 + Math.floor(Math.random() * 250)}.1`;
  // The shell joins the cgroup, then becomes perl: the storm is that cgroup's alone.
  const storm = await runChild('/bin/sh', ['-c', 'echo $$ > "$0" && exec perl -e "$1" "$2" "$3" "$4"', cgroups.procsOf(cgroup), STORM_PERL, resolver, tag, String(QUERIES)]);
  assert.equal(storm.code, 0, storm.stderr);
  assert.equal(storm.stdout.trim(), `sent ${QUERIES}`);

  // The records within the limit, as the agent published them; then what it refused, once they stop coming.
  const stormEvents = () =>
    raw!.records
      .map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)))
      .filter((e) => e.kind === 'egress' && e.payload.group === 'egress' && (e.payload.dns_name ?? '').endsWith(`.storm-${tag}.test`));
  let seen = -1;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const now = stormEvents().length;
    if (now > 0 && now === seen) break;
    seen = now;
  }
  const refused = await rateLimitedMetric();
  assert.ok(seen >= BURST && seen < BURST + 10 * RATE, `${seen} queries of ${QUERIES} passed a limit of ${RATE}/s, burst ${BURST}`);
  assert.equal(seen + refused, QUERIES, `every query is an event or a count (${seen} + ${refused})`);
  const misnamed = stormEvents().filter((e) => !(e.process.binary.endsWith('/perl') && e.process.cgroup_path === cgroup));
  assert.deepEqual(
    misnamed.map((e) => [e.process.binary, e.process.cgroup_path]),
    [],
    `named by the process and cgroup that sent them (perl, ${cgroup}): ${misnamed.length} of ${stormEvents().length} are not`,
  );

  // The health report on stinger.agents (what stinger status reads) carries the same count.
  let reported = 0;
  for (const deadline = Date.now() + 15_000; reported < refused && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const latest = agents!.records.filter((r) => r.key?.toString() === nodeName && r.value !== null).at(-1);
    const health = latest?.value ? decodeAgentHealth(latest.value) : undefined;
    reported = Number(health?.lost_records.find((l) => l.sensor === 'egress-parser' && l.cause === 'rate_limited')?.count ?? 0);
  }
  assert.equal(reported, refused, 'the health report counts the same refusals');
});
