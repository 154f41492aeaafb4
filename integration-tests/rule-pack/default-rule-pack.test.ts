/**
 * The default rule pack end to end on the real kernel: `stinger policy apply --defaults` publishes the pack to a
 * running agent (monitor mode: nothing is killed), real commands run in simulated pods (kubelet-style cgroups) and
 * in plain host cgroups — for every rule a process can trigger on this machine, one that should fire it and a
 * near-miss that should not — and the events the agent published are turned into enriched Events (the enricher's
 * pure function, outside a cluster: container identity only) and run through the detector's PartitionDetector
 * with the policy records as the topic carries them. Each case runs in a cgroup of its own, so every alert is
 * told to its case by the event's cgroup path; each case asserts exactly which rules fired.
 *
 * What the machine does not have is faked only in private mount namespaces made before a case joins its cgroup:
 * a copy of timeout(1) bind-mounted at /usr/sbin/nginx (a "web server" that forks a shell), a home with SSH and
 * cloud credentials bound over /root, a service-account token bound over /run, scratch directories bound over
 * /usr/local/bin and a directory of /etc (so no case writes the machine's real system directories). Connects go to
 * documentation and private addresses nobody answers (non-blocking: the connect syscall is the event).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureTracefs, syscallTracepointExists } from '@stinger/bpf';
import { DetectionRules, PartitionDetector } from '@stinger/detection';
import { enrichEvent } from '@stinger/enrichment';
import { decodeCompiledPolicy, decodeRawEvent, type Alert, type EventKind, type RawEvent } from '@stinger/events';
import { DisabledPodIndex, NO_CLUSTER_REASON } from '@stinger/k8s';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { eventsMatching, policyStatusOf, runChild, type ChildResult } from '../helpers/agent-events.ts';
import { runStinger } from '../helpers/cli.ts';
import { hostCgroups } from '../helpers/host-cgroup.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { podCgroups } from '../helpers/pod-cgroup.ts';

const tag = randomBytes(4).toString('hex');
const prefix = `${uniqueName('rule-pack')}.`;
const nodeName = `rule-pack-node-${tag}`;
const cliEnv = () => ({ KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
// default-process-tree holds the pack's Rego rules, which PartitionDetector (below) does not evaluate: the Rego loop
// test (integration-tests/loop/rego-loop.test.ts) and libs/detection's rego-rules test run them.
const PACK_POLICIES = ['default-attack-chains', 'default-container-activity', 'default-credential-access', 'default-egress', 'default-process-tree', 'default-system-integrity'];

// The scratch rules watch /tmp/: the stage must be there whatever TMPDIR says.
const stage = mkdtempSync('/tmp/stinger-rule-pack-');
const pods = podCgroups();
const hosts = hostCgroups(`stinger-rule-pack-${tag}`);

/** One case: a script run in its own cgroup, and exactly the rules it must fire. */
interface Case {
  readonly name: string;
  readonly where: 'pod' | 'host';
  /** Run by /bin/sh after the shell joined the case's cgroup: every command it runs execs inside. */
  readonly script: string;
  /** Run first, on the host side, in a private mount namespace (bind mounts that fake what the machine lacks). */
  readonly setup?: string;
  readonly fires: readonly string[];
  /**
   * A near-miss the agent reports: an event of this kind must reach the detector from the case's cgroup (and be
   * judged not to match), so the near-miss is not merely unwatched.
   */
  readonly judged?: EventKind;
  /** Why the case cannot run on this machine (a tool missing). */
  readonly skip?: string;
}

const has = (tool: string): boolean => ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((dir) => existsSync(join(dir, tool)));
const missing = (...tools: string[]): string | undefined => {
  const absent = tools.filter((tool) => !has(tool));
  return absent.length === 0 ? undefined : `${absent.join(', ')} not installed`;
};
/** bpf(2)'s and finit_module(2)'s numbers, for perl's syscall(): a real process issues them, raw. */
const BPF_SYSCALL = process.arch === 'x64' ? 321 : process.arch === 'arm64' ? 280 : null;
const FINIT_MODULE_SYSCALL = process.arch === 'x64' ? 313 : process.arch === 'arm64' ? 273 : null;
/**
 * Why no process can load a module here, measured: the module sensor attaches to the init_module/finit_module
 * syscall tracepoints, which a kernel without module support (CONFIG_MODULES=n, like this project's CI kernel) does
 * not have. Undefined where they exist.
 */
function moduleSkipReason(): string | undefined {
  ensureTracefs();
  const tracepoints = ['sys_enter_init_module', 'sys_enter_finit_module'];
  if (!tracepoints.some(syscallTracepointExists)) {
    return `this kernel has no module support: syscalls:${tracepoints.join(' and ')} do not exist (the unit test fires kernel-module-load on a sampleEvent)`;
  }
  return FINIT_MODULE_SYSCALL === null ? `no finit_module(2) number for ${process.arch}` : undefined;
}
const perlBpf = (cmd: number) => `perl -e 'my $a = pack("L5", 1, 4, 4, 1, 0) . ("\\0" x 100); syscall(${BPF_SYSCALL}, ${cmd}, $a, length $a)'`;
/** A TCP connect that does not wait for an answer (the syscall is the event). */
const perlConnect = (perl: string, destination: string) => `${perl} -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => $ARGV[0], Proto => "tcp", Blocking => 0)' ${destination}`;
const OUTSIDE = '198.51.100.7:9'; // TEST-NET-2: a public, never-answered address
const etcDir = ['/etc/cron.d', '/etc/profile.d', '/etc/default'].find((dir) => existsSync(dir)) ?? '/etc/cron.d';
/**
 * Egress cases: DNS queries go to a loopback resolver address nobody answers (the agent reads the query as it leaves;
 * getent gives up at once), TLS ClientHellos and HTTP requests to a local sink that accepts and stays silent.
 */
const sink = createServer((socket) => socket.resume().on('error', () => undefined)).listen(0, '127.0.0.1');
await once(sink, 'listening');
const SINK_PORT = (sink.address() as { port: number }).port;
const withResolver = `mount --bind ${stage}/resolv.conf /etc/resolv.conf`;
const lookup = (name: string) => `getent ahostsv4 ${name} || true`;
const clientHello = (serverName: string) => `timeout 2 openssl s_client -connect 127.0.0.1:${SINK_PORT} -servername ${serverName} </dev/null >/dev/null 2>&1 || true`;

const CASES: readonly Case[] = [
  // Credential access.
  { name: 'cat /etc/shadow in a pod', where: 'pod', script: 'cat /etc/shadow >/dev/null', fires: ['shadow-read'] },
  { name: 'near-miss: cat /etc/hostname and /etc/passwd', where: 'pod', script: 'cat /etc/hostname /etc/passwd >/dev/null', fires: [], judged: 'file' },
  // No /etc/sudoers here: the attempt is what the agent reports (result -ENOENT), and what the rule is about.
  { name: 'cat /etc/sudoers and ls /etc/sudoers.d', where: 'pod', script: 'cat /etc/sudoers; ls /etc/sudoers.d', fires: ['sudoers-read'] },
  { name: 'near-miss: cat /etc/sudo.conf', where: 'pod', script: 'cat /etc/sudo.conf', fires: [], judged: 'file' },
  { name: "cat of root's SSH private key", where: 'pod', setup: `mount --bind ${stage}/root /root`, script: 'cat /root/.ssh/id_ed25519 >/dev/null', fires: ['ssh-private-key-read'] },
  {
    name: 'near-miss: the public key, and ssh-keygen reading the private one',
    where: 'pod',
    setup: `mount --bind ${stage}/root /root`,
    script: 'cat /root/.ssh/id_ed25519.pub >/dev/null; ssh-keygen -l -f /root/.ssh/id_ed25519 >/dev/null',
    fires: [],
    judged: 'file',
    skip: missing('ssh-keygen'),
  },
  { name: 'cat ~/.aws/credentials', where: 'pod', setup: `mount --bind ${stage}/root /root`, script: 'cat /root/.aws/credentials >/dev/null', fires: ['cloud-credentials-read'] },
  {
    name: 'near-miss: ~/.aws/config read, chmod of the credentials file',
    where: 'pod',
    setup: `mount --bind ${stage}/root /root`,
    script: 'cat /root/.aws/config >/dev/null; chmod 600 /root/.aws/credentials',
    fires: [],
    judged: 'file',
  },
  {
    name: 'cat of the service-account token (through /var/run and ..data)',
    where: 'pod',
    setup: `mount --bind ${stage}/run /run`,
    script: 'cat /var/run/secrets/kubernetes.io/serviceaccount/token >/dev/null',
    fires: ['service-account-token-read'],
  },
  {
    name: 'near-miss: ca.crt and namespace beside the token',
    where: 'pod',
    setup: `mount --bind ${stage}/run /run`,
    script: 'cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt /var/run/secrets/kubernetes.io/serviceaccount/namespace >/dev/null',
    fires: [],
    judged: 'file',
  },

  // System integrity (host and pods).
  {
    name: 'uid 65534 asks setreuid for root (perl, given CAP_SETUID)',
    where: 'host',
    script: `setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+setuid --ambient-caps=+setuid perl -e '$< = 0; $> = 0'`,
    fires: ['setuid-to-root'],
  },
  {
    name: 'near-miss: uid 65534 setting its own uid, root setting root',
    where: 'host',
    script: `setpriv --reuid=65534 --regid=65534 --clear-groups perl -e '$> = 65534'; perl -e '$< = 0'`,
    fires: [],
    judged: 'privilege',
  },
  { name: 'strace -p of a running process', where: 'host', script: 'sleep 3 & timeout -s INT 0.5 strace -o /dev/null -p $!; kill $!', fires: ['ptrace-attach'], skip: missing('strace') },
  { name: 'near-miss: gdb running its own child (PTRACE_TRACEME, peeks and pokes)', where: 'host', script: 'gdb -q -batch -ex run --args /bin/true >/dev/null 2>&1', fires: [], judged: 'ptrace', skip: missing('gdb') },
  // An empty file is not a module: the load fails (ENOEXEC) and changes nothing, but the attempt is the event.
  {
    name: 'finit_module of a file (a module load attempt)',
    where: 'host',
    script: `perl -e 'open(my $f, "<", $ARGV[0]) or die; syscall(${FINIT_MODULE_SYSCALL}, fileno($f), "", 0)' ${stage}/empty.ko`,
    fires: ['kernel-module-load'],
    skip: moduleSkipReason(),
  },
  { name: `a file dropped in ${etcDir}`, where: 'pod', setup: `mount --bind ${stage}/etc-sub ${etcDir}`, script: `touch ${etcDir}/stinger-${tag}`, fires: ['etc-write'] },
  { name: `near-miss: a file of ${etcDir} read`, where: 'pod', setup: `mount --bind ${stage}/etc-sub ${etcDir}`, script: `cat ${etcDir}/existing >/dev/null`, fires: [], judged: 'file' },
  { name: 'a binary copied into /usr/local/bin', where: 'pod', setup: `mount --bind ${stage}/local-bin /usr/local/bin`, script: `cp /usr/bin/true /usr/local/bin/stinger-${tag}`, fires: ['system-binary-write'] },
  { name: 'near-miss: a binary of /usr/local/bin read', where: 'pod', setup: `mount --bind ${stage}/local-bin /usr/local/bin`, script: 'cat /usr/local/bin/existing >/dev/null', fires: [], judged: 'file' },

  // Container activity (pods only).
  { name: 'a shell started by a non-shell (timeout sh -c)', where: 'pod', script: 'timeout 5 sh -c true', fires: ['terminal-shell-in-container'] },
  { name: 'near-miss: a sub-shell of a shell', where: 'pod', script: 'sh -c true', fires: [], judged: 'exec' },
  {
    name: 'nginx (timeout bound at /usr/sbin/nginx) forks a shell',
    where: 'pod',
    setup: `mount --bind ${stage}/sbin /usr/sbin`,
    script: '/usr/sbin/nginx 5 sh -c true',
    fires: ['terminal-shell-in-container', 'web-server-shell'],
  },
  { name: 'near-miss: nginx runs a non-shell', where: 'pod', setup: `mount --bind ${stage}/sbin /usr/sbin`, script: '/usr/sbin/nginx 5 /usr/bin/true', fires: [], judged: 'exec' },
  { name: 'dpkg in a pod', where: 'pod', script: 'dpkg --version >/dev/null', fires: ['package-manager-in-container'], skip: missing('dpkg') },
  { name: 'near-miss: dpkg-query in a pod', where: 'pod', script: 'dpkg-query --version >/dev/null', fires: [], judged: 'exec', skip: missing('dpkg-query') },
  { name: 'unshare -n, and nsenter into the net namespace of a host process', where: 'pod', script: 'unshare -n true; nsenter -t $PPID -n true', fires: ['namespace-change-in-container'] },
  { name: 'a tmpfs mounted (and unmounted) in a pod', where: 'pod', setup: ':', script: `mount -t tmpfs stinger ${stage}/mnt && umount ${stage}/mnt`, fires: ['mount-in-container'] },
  // (The agent reports mount(2) only, not umount2: an unmount is no judged near-miss.)
  { name: 'near-miss: the same mount on the host', where: 'host', setup: ':', script: `mount -t tmpfs stinger ${stage}/mnt && umount ${stage}/mnt`, fires: [], judged: 'mount' },
  { name: 'BPF_MAP_CREATE from a pod', where: 'pod', script: perlBpf(0), fires: ['bpf-load-in-container'], skip: BPF_SYSCALL === null ? `no bpf(2) number for ${process.arch}` : undefined },
  { name: 'near-miss: BPF_MAP_CREATE on the host', where: 'host', script: perlBpf(0), fires: [], judged: 'bpf', skip: BPF_SYSCALL === null ? `no bpf(2) number for ${process.arch}` : undefined },
  { name: 'capsh keeping CAP_SYS_ADMIN', where: 'pod', script: 'capsh --caps=cap_sys_admin+ep --print >/dev/null', fires: ['dangerous-capabilities'], skip: missing('capsh') },
  { name: 'near-miss: capsh keeping CAP_NET_BIND_SERVICE', where: 'pod', script: 'capsh --caps=cap_net_bind_service+ep --print >/dev/null', fires: [], judged: 'capset', skip: missing('capsh') },
  { name: 'a connect to 10.255.255.1 (private, outside the pod network)', where: 'pod', script: perlConnect('perl', '10.255.255.1:9'), fires: ['private-network-connect'] },
  { name: 'near-miss: a pod address and a service address', where: 'pod', script: `${perlConnect('perl', '10.244.0.1:9')}; ${perlConnect('perl', '10.96.0.1:443')}`, fires: [], judged: 'connect' },
  { name: 'a connect to the metadata service', where: 'pod', script: perlConnect('perl', '169.254.169.254:80'), fires: ['metadata-service-connect'] },
  { name: 'near-miss: another link-local address', where: 'pod', script: perlConnect('perl', '169.254.1.1:80'), fires: [], judged: 'connect' },
  {
    name: 'near-miss: the container-only rules on the host (dpkg, a shell, unshare, the metadata service)',
    where: 'host',
    script: `dpkg --version >/dev/null; timeout 5 sh -c true; unshare -n true; ${perlConnect('perl', '169.254.169.254:80')}`,
    fires: [],
    judged: 'namespace',
  },

  // Attack chains (pods only).
  { name: 'a binary written in /tmp, then run', where: 'pod', script: `cp /usr/bin/true ${stage}/drop/dropped && ${stage}/drop/dropped`, fires: ['dropped-binary-run'] },
  { name: 'near-miss: a binary written in /tmp, another run', where: 'pod', script: `cp /usr/bin/true ${stage}/drop/written && /usr/bin/true`, fires: [], judged: 'file' },
  {
    name: 'a perl copied to /tmp connects out',
    where: 'pod',
    script: `cp /usr/bin/perl ${stage}/drop/perl-out && ${perlConnect(`${stage}/drop/perl-out`, OUTSIDE)}`,
    fires: ['dropped-binary-run', 'scratch-binary-connects-out'],
  },
  {
    name: 'near-miss: the same copy connects to loopback',
    where: 'pod',
    script: `cp /usr/bin/perl ${stage}/drop/perl-loopback && ${perlConnect(`${stage}/drop/perl-loopback`, '127.0.0.1:9')}`,
    fires: ['dropped-binary-run'],
  },
  { name: '/etc/shadow read, then a connect out by the same shell', where: 'pod', script: `cat /etc/shadow >/dev/null; ${perlConnect('perl', OUTSIDE)}`, fires: ['credential-read-then-connect', 'shadow-read'] },
  { name: 'near-miss: /etc/hostname read, then a connect out', where: 'pod', script: `cat /etc/hostname >/dev/null; ${perlConnect('perl', OUTSIDE)}`, fires: [], judged: 'connect' },
  // Egress: names read from the packets by the agent's egress parser.
  { name: 'an onion name resolved', where: 'pod', setup: withResolver, script: lookup('expyuzz4wqqyqhjn.onion'), fires: ['onion-name-resolved'] },
  { name: 'a mining pool resolved', where: 'pod', setup: withResolver, script: lookup('xmr-eu1.nanopool.org'), fires: ['mining-pool-resolved'] },
  { name: 'a tunnel service resolved', where: 'pod', setup: withResolver, script: lookup('abc123.ngrok-free.app'), fires: ['tunnel-or-drop-service-resolved'] },
  { name: 'near-miss: an ordinary name resolved', where: 'pod', setup: withResolver, script: lookup('registry.example.org'), fires: [], judged: 'egress' },
  { name: 'a TLS ClientHello naming an onion service', where: 'pod', script: clientHello('expyuzz4wqqyqhjn.onion'), fires: ['onion-server-name'], skip: missing('openssl') },
  { name: 'a TLS ClientHello naming a mining pool', where: 'pod', script: clientHello('pool.hashvault.pro'), fires: ['mining-pool-server-name'], skip: missing('openssl') },
  { name: 'near-miss: a ClientHello naming an ordinary server', where: 'pod', script: clientHello('api.example.org'), fires: [], judged: 'egress', skip: missing('openssl') },
  {
    name: 'an HTTP request to a file drop',
    where: 'pod',
    script: `curl -s -m 1 -H 'Host: transfer.sh' http://127.0.0.1:${SINK_PORT}/ || true`,
    fires: ['tunnel-or-drop-service-http-host'],
    skip: missing('curl'),
  },
];

let client: KafkaClient;
let agent: RunningAgent | undefined;
let raw: Collector | undefined;
let policies: Collector | undefined;
let statuses: Collector | undefined;
let appliedPack = false;
const cgroupOf = new Map<string, string>();
const results = new Map<string, ChildResult>();
/** Rules fired per cgroup path (a case's), and every alert for the failure messages. */
const firedIn = new Map<string, Set<string>>();
const alerts: Alert[] = [];
/** The raw events of each case's cgroup, for the judged check and failure messages. */
const rawIn = new Map<string, RawEvent[]>();

function prepareStage(): void {
  for (const dir of ['root/.ssh', 'root/.aws', 'run/secrets/kubernetes.io/serviceaccount/..2026_01_01_00_00_00.000000001', 'sbin', 'etc-sub', 'local-bin', 'mnt', 'drop']) {
    mkdirSync(join(stage, dir), { recursive: true });
  }
  writeFileSync(join(stage, 'root/.ssh/id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n', { mode: 0o600 });
  writeFileSync(join(stage, 'root/.ssh/id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q= test\n');
  writeFileSync(join(stage, 'root/.aws/credentials'), '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n', { mode: 0o600 });
  writeFileSync(join(stage, 'root/.aws/config'), '[default]\nregion = eu-west-1\n');
  // kubelet's projected volume: files in a timestamped directory, ..data pointing at it, the names linked through it.
  const sa = join(stage, 'run/secrets/kubernetes.io/serviceaccount');
  for (const name of ['token', 'ca.crt', 'namespace']) writeFileSync(join(sa, '..2026_01_01_00_00_00.000000001', name), `${name}\n`);
  symlinkSync('..2026_01_01_00_00_00.000000001', join(sa, '..data'));
  for (const name of ['token', 'ca.crt', 'namespace']) symlinkSync(`..data/${name}`, join(sa, name));
  copyFileSync('/usr/bin/timeout', join(stage, 'sbin/nginx'));
  chmodSync(join(stage, 'sbin/nginx'), 0o755);
  writeFileSync(join(stage, 'etc-sub/existing'), 'x\n');
  writeFileSync(join(stage, 'resolv.conf'), `nameserver 127.53.${1 + Math.floor(Math.random() * 250)}.1\noptions attempts:1 timeout:1\n`);
  writeFileSync(join(stage, 'local-bin/existing'), 'x\n');
  writeFileSync(join(stage, 'empty.ko'), '');
}

/** Runs a case: (a private mount namespace and its setup, then) join the cgroup, then the script. */
async function runCase(c: Case, cgroup: string): Promise<ChildResult> {
  const procs = c.where === 'pod' ? pods.procsOf(cgroup) : hosts.procsOf(cgroup);
  const body = `echo $$ > ${procs} || exit 98; ${c.script}; exit 0`;
  if (c.setup === undefined) return runChild('/bin/sh', ['-c', body]);
  return runChild('unshare', ['-m', '--propagation', 'private', '/bin/sh', '-c', `${c.setup} || exit 97; ${body}`]);
}

before(async () => {
  buildBpf();
  prepareStage();
  for (const [index, c] of CASES.entries()) {
    cgroupOf.set(c.name, c.where === 'pod' ? pods.container(randomUUID(), randomBytes(32).toString('hex')) : hosts.leaf(`case-${index}`));
  }
  client = testClient('rule-pack-test');
  await bootstrapTopics({ client, prefix });
  raw = await collectTopic(client, topicName('eventsRaw', prefix));
  policies = await collectTopic(client, topicName('policies', prefix));
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  // Default STINGER_AGENT_WATCH: file and connect events come only from the watches the pack's rules install.
  agent = await startAgent({ brokers: testBrokers(), topicPrefix: prefix, nodeName });

  const applied = runStinger(['policy', 'apply', '--defaults'], cliEnv());
  assert.equal(applied.status, 0, applied.stderr);
  appliedPack = true;
  for (const name of PACK_POLICIES) {
    assert.match(applied.stdout, new RegExp(`^${name}: created \\(generation 1,`, 'm'));
    const status = await policyStatusOf(statuses, { node: nodeName, key: name }, { accept: (s) => s !== null && s.generation === 1n });
    assert.notEqual(status?.state, 'rejected', `${name}: ${status?.messages.join('; ')}`);
  }
  // The pods-only watches need the pod cgroup root; the agent looks for it at start and every 5 s.
  const deadline = Date.now() + 15_000;
  while (!agent.log.some((line) => line.includes('"pod cgroup roots"') && line.includes('/kubepods.slice'))) {
    if (Date.now() > deadline) assert.fail('the agent never saw /kubepods.slice');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  for (const c of CASES) {
    if (c.skip !== undefined) continue;
    results.set(c.name, await runCase(c, cgroupOf.get(c.name) as string));
  }
  // Everything before a last exec has been published once that exec has: the agent publishes in ring order.
  const sentinel = await runChild('/bin/true', [`rule-pack-sentinel-${tag}`]);
  await eventsMatching(raw, (e) => e.kind === 'exec' && e.process.pid === sentinel.pid, { what: 'the sentinel exec' });
  await new Promise((resolve) => setTimeout(resolve, 1000));

  // The detector's input: the policy records as the topic holds them, the raw events enriched outside a cluster.
  const rules = new DetectionRules();
  for (const record of policies.records) if (record.key !== null && record.value !== null) rules.set(record.key.toString(), decodeCompiledPolicy(record.value));
  assert.equal(rules.size, PACK_POLICIES.length);
  const detector = new PartitionDetector({ rules });
  const pods404 = new DisabledPodIndex();
  const rawEvents: RawEvent[] = raw.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)));
  for (const rawEvent of rawEvents) alerts.push(...detector.observe(enrichEvent(rawEvent, pods404, { unavailableReason: NO_CLUSTER_REASON }), { emit: true }));
  alerts.push(...detector.flush({ emit: true }));
  for (const rawEvent of rawEvents) {
    const path = rawEvent.process.cgroup_path ?? '';
    const list = rawIn.get(path);
    if (list === undefined) rawIn.set(path, [rawEvent]);
    else list.push(rawEvent);
  }
  for (const alert of alerts) {
    const path = alert.event.process.cgroup_path ?? '';
    const set = firedIn.get(path) ?? new Set<string>();
    set.add(alert.rule);
    firedIn.set(path, set);
  }
});

after(async () => {
  if (appliedPack) runStinger(['policy', 'delete', ...PACK_POLICIES], cliEnv());
  const code = await agent?.stop();
  await raw?.stop();
  await policies?.stop();
  await statuses?.stop();
  sink.close();
  pods.remove();
  hosts.remove();
  rmSync(stage, { recursive: true, force: true });
  assert.equal(code, 0, 'the agent shuts down cleanly on SIGTERM');
});

describe('the default rule pack on the real agent', () => {
  for (const c of CASES) {
    test(c.name, { skip: c.skip ?? false }, () => {
      const result = results.get(c.name);
      assert.ok(result, 'the case ran');
      assert.ok(result.code !== 97 && result.code !== 98, `the case set up and joined its cgroup: ${result.stderr}`);
      const cgroup = cgroupOf.get(c.name) as string;
      const fired = [...(firedIn.get(cgroup) ?? [])].sort();
      const messages = alerts.filter((a) => a.event.process.cgroup_path === cgroup).map((a) => a.message);
      const seen = rawIn.get(cgroup) ?? [];
      const context = `alerts in ${cgroup}:\n${messages.join('\n')}\nevents: ${seen.map((e) => `${e.kind} ${e.process.binary}`).join(', ')}\nstderr: ${result.stderr}`;
      assert.deepEqual(fired, [...c.fires].sort(), context);
      if (c.judged !== undefined) assert.ok(seen.some((e) => e.kind === c.judged), `a ${c.judged} event reached the detector from the case: ${context}`);
    });
  }

  test('every rule of the pack fired in a case that ran, or its case says why it cannot run here', () => {
    const ran = CASES.filter((c) => c.skip === undefined);
    const skipped = CASES.filter((c) => c.skip !== undefined);
    const all = new Set(policies!.records.filter((r) => r.value !== null).flatMap((r) => decodeCompiledPolicy(r.value as Buffer).rules.map((rule) => rule.name)));
    const unfired = [...all].filter((rule) => !ran.some((c) => c.fires.includes(rule)));
    const excused = unfired.filter((rule) => skipped.some((c) => c.fires.includes(rule)));
    assert.deepEqual(unfired, excused, `no case for: ${unfired.filter((r) => !excused.includes(r)).join(', ')}`);
    for (const c of skipped) console.log(`not run here: ${c.name}: ${c.skip}`);
  });
});
