/**
 * The container images of `stinger images build`, run by podman as a node would run them: every service image but the
 * agent's starts against the test run's broker as uid 65532, says it is running and stops cleanly on SIGTERM; the
 * agent image, privileged in the host's pid namespace, publishes the exec of a process the test runs on the host.
 *
 * podman runs with runc and `default_ulimits = []` (a containers.conf of the test's own, through CONTAINERS_CONF):
 * crun, and any raised RLIMIT, fail on machines that withhold CAP_SYS_RESOURCE. Containers are removed afterwards;
 * the images stay (they are the build's cache). Needs root, podman, runc and what `stinger images build` needs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stinger/config';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { freePort } from '../helpers/agent.ts';
import { eventsMatching } from '../helpers/agent-events.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';
import { testKeysDir } from '../helpers/keys.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STINGER = join(REPO_ROOT, 'libs/cli/bin/stinger.mjs');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NONROOT_UID = '65532';
/** The services whose images run unprivileged, with the log message that says each is up. */
const UNPRIVILEGED = ['policy-controller', 'enricher', 'detector', 'enforcer', 'console'] as const;

const scratch = mkdtempSync(join(tmpdir(), 'stinger-images-test-'));
const containersConf = join(scratch, 'containers.conf');
const keysDir = join(scratch, 'keys');
const prefix = `${uniqueName('images')}.`;
const containers: string[] = [];
let client: KafkaClient;
let buildOutput = '';

function podman(args: readonly string[], timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('podman', ['--runtime', 'runc', ...args], {
    env: { ...processEnvironment(), CONTAINERS_CONF: containersConf },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function podmanOk(args: readonly string[], timeoutMs?: number): string {
  const result = podman(args, timeoutMs);
  assert.equal(result.status, 0, `podman ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Starts a detached container named after the service; returns its name (removed in `after`). */
function runContainer(service: string, options: readonly string[], env: Readonly<Record<string, string>>): string {
  const name = `stinger-test-${service}-${randomBytes(4).toString('hex')}`;
  containers.push(name);
  const envFlags = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  podmanOk(['run', '--detach', '--name', name, '--network', 'host', '--volume', `${keysDir}:/keys:ro`, ...envFlags, ...options, `localhost/stinger/${service}:${VERSION}`]);
  return name;
}

/** Resolves once the container logged `{"msg":"<message>"}`; fails with its log when it exits first or times out. */
async function waitForLog(name: string, message: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = podman(['logs', name]);
    if (`${logs.stdout}${logs.stderr}`.includes(`"msg":"${message}"`)) return;
    const state = podman(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim();
    if (state === 'exited' || Date.now() > deadline) {
      assert.fail(`${name} (${state}) never logged "${message}":\n${`${logs.stdout}${logs.stderr}`.split('\n').slice(-20).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The uid the container's main process runs as, read from the host's /proc (no user namespace: the same number). */
function uidOfContainer(name: string): string {
  const pid = podmanOk(['inspect', '--format', '{{.State.Pid}}', name]);
  const uidLine = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((line) => line.startsWith('Uid:'));
  return uidLine?.split(/\s+/)[1] ?? '';
}

/** SIGTERM through podman stop; returns the container's exit code. */
function stopContainer(name: string, graceSeconds: number): number {
  podmanOk(['stop', '--time', String(graceSeconds), name], (graceSeconds + 30) * 1000);
  return Number(podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name]));
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid);
}

before(async () => {
  writeFileSync(containersConf, '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n');
  // The test's signing keys, readable by the unprivileged services' uid (the originals are root's, mode 0600).
  cpSync(testKeysDir(), keysDir, { recursive: true });
  chownTree(keysDir, Number(NONROOT_UID));
  const build = spawnSync(process.execPath, [STINGER, 'images', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20 * 60_000 });
  buildOutput = `${build.stdout}${build.stderr}`;
  assert.equal(build.status, 0, `stinger images build failed:\n${buildOutput}`);
  client = testClient('images-test');
  await bootstrapTopics({ client, prefix });
});

after(() => {
  for (const name of containers) podman(['rm', '--force', '--time', '0', name]);
  rmSync(scratch, { recursive: true, force: true });
});

test('images build prints one stinger/<service>:<version> image per service and is cached the second time', { timeout: 10 * 60_000 }, () => {
  for (const service of [...UNPRIVILEGED, 'agent']) assert.match(buildOutput, new RegExp(`^stinger/${service}:${VERSION.replaceAll('.', '\\.')} sha256:[0-9a-f]{64} `, 'm'));
  const again = spawnSync(process.execPath, [STINGER, 'images', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 5 * 60_000 });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^cached in /m, 'a second build with the same inputs comes from the cache');
  assert.doesNotMatch(again.stdout, /^stinger\/\S+ sha256:\S+ .*(?<!already in podman)$/m, 'and copies nothing into podman again');
});

for (const service of UNPRIVILEGED) {
  test(`the ${service} image starts against the broker as uid ${NONROOT_UID} and stops cleanly on SIGTERM`, { timeout: 3 * 60_000 }, async () => {
    const name = runContainer(service, [], {
      KAFKA_BROKERS: testBrokers(),
      STINGER_TOPIC_PREFIX: prefix,
      STINGER_KEYS_DIR: '/keys',
      STINGER_NODE_NAME: 'image-test-node',
      STINGER_LOG_LEVEL: 'info',
      // Host network: ports of their own, so that nothing else on the machine is in the way.
      STINGER_CONSOLE_ADDRESS: '127.0.0.1:0',
      STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0',
      STINGER_DETECTOR_METRICS_ADDRESS: '127.0.0.1:0',
      STINGER_ENFORCER_METRICS_ADDRESS: '127.0.0.1:0',
      STINGER_POLICY_CONTROLLER_METRICS_ADDRESS: '127.0.0.1:0',
    });
    await waitForLog(name, `${service} running`, 90_000);
    assert.equal(uidOfContainer(name), NONROOT_UID);
    assert.equal(stopContainer(name, 25), 0, `${service} exits 0 on SIGTERM as the container's pid 1`);
  });
}

test('the agent image, privileged in the host pid namespace, publishes the exec of a host process', { timeout: 5 * 60_000 }, async () => {
  const nodeName = `image-node-${randomBytes(3).toString('hex')}`;
  let collector: Collector | undefined;
  try {
    collector = await collectTopic(client, topicName('eventsRaw', prefix));
    const mounts = ['/sys/fs/bpf', '/sys/kernel/tracing', '/sys/fs/cgroup'].flatMap((path) => ['--volume', `${path}:${path}`]);
    const name = runContainer(
      'agent',
      ['--privileged', '--pid', 'host', '--cgroupns', 'host', ...mounts, '--volume', '/sys/kernel/btf:/sys/kernel/btf:ro'],
      {
        KAFKA_BROKERS: testBrokers(),
        STINGER_TOPIC_PREFIX: prefix,
        STINGER_KEYS_DIR: '/keys',
        STINGER_NODE_NAME: nodeName,
        STINGER_LOG_LEVEL: 'info',
        STINGER_AGENT_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
        STINGER_AGENT_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      },
    );
    await waitForLog(name, 'agent running', 120_000);
    assert.equal(uidOfContainer(name), '0', 'the agent is the one image that runs as root');

    const marker = `image-${randomBytes(4).toString('hex')}`;
    const result = spawnSync('/bin/true', [marker]);
    assert.equal(result.status, 0);
    const [exec] = await eventsMatching(collector, (e) => e.kind === 'exec' && e.process.args[0] === marker, { timeoutMs: 30_000, what: `exec of /bin/true ${marker}` });
    assert.ok(exec);
    assert.equal(exec.node, nodeName);
    assert.equal(exec.process.pid, result.pid, 'the pid is the host pid: the agent sees the host, not its container');
    assert.match(exec.process.binary, /\/true$/);
    assert.equal(stopContainer(name, 70), 0, 'the agent exits 0 on SIGTERM, detaching its programs');
  } finally {
    await collector?.stop();
  }
});
