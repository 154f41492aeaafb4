/**
 * The agent's sensors on the real kernel, published to the real broker: a relative open resolved
 * against the cwd the agent tracked (`cd /etc && cat passwd`), a TCP connect, a setuid, a network
 * namespace unshare, and the fork tree's parent exec ids. File events come from an audit policy in
 * the agent's local policy directory (read at start, before Kafka); connect is watched by
 * STINGER_AGENT_WATCH, privilege and namespace changes by default.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawEvent } from '@stinger/events';
import { bootstrapTopics, topicName, type KafkaClient } from '@stinger/kafka';
import { buildBpf, freePort, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { closeServer, connectFromChild, eventsMatching, policyStatusOf, runChild, tcpListener } from '../helpers/agent-events.ts';
import { collectTopic, testBrokers, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';

const prefix = `${uniqueName('sensors')}.`;
const nodeName = `sensor-node-${randomBytes(4).toString('hex')}`;
const policyDir = mkdtempSync(join(tmpdir(), 'stinger-sensor-policies-'));
// Symlinks under a watched prefix: link -> real/secret, dirlink -> real/sub.
const linkDir = realpathSync(mkdtempSync(join(tmpdir(), 'stinger-sensor-links-')));
const AUDIT_PASSWD = [
  'apiVersion: stinger.io/v1alpha1',
  'kind: TracingPolicy',
  'metadata: { name: audit-passwd-read }',
  'spec:',
  '  mode: monitor',
  '  rules:',
  '    - name: passwd-open',
  '      event: file',
  '      match: { path: { equal: ["/etc/passwd"] }, op: [open] }',
  '      action: audit',
  '    - name: links-open',
  '      event: file',
  `      match: { path: { prefix: ["${linkDir}/"] }, op: [open, unlink] }`,
  '      action: audit',
  '',
].join('\n');

let client: KafkaClient;
let agent: RunningAgent | undefined;
let raw: Collector | undefined;
let statuses: Collector | undefined;
let server: Server | undefined;

before(async () => {
  buildBpf();
  writeFileSync(join(policyDir, 'audit-passwd.yaml'), AUDIT_PASSWD);
  mkdirSync(join(linkDir, 'real/sub'), { recursive: true });
  writeFileSync(join(linkDir, 'real/secret'), 'secret\n');
  writeFileSync(join(linkDir, 'real/sub/victim'), '');
  symlinkSync('real/secret', join(linkDir, 'link'));
  symlinkSync('real/sub', join(linkDir, 'dirlink'));
  symlinkSync('/bin/cat', join(linkDir, 'mycat'));
  client = testClient('sensor-test');
  await bootstrapTopics({ client, prefix });
  raw = await collectTopic(client, topicName('eventsRaw', prefix));
  statuses = await collectTopic(client, topicName('policyStatus', prefix));
  agent = await startAgent({
    brokers: testBrokers(),
    topicPrefix: prefix,
    nodeName,
    extraEnv: { STINGER_AGENT_POLICY_DIR: policyDir, STINGER_AGENT_WATCH: 'setid,capset,namespace,module,ptrace,mount,bpf,connect' },
  });
});

after(async () => {
  // The audit policy leaves with the agent; the file goes first so that nothing could re-read it.
  rmSync(policyDir, { recursive: true, force: true });
  rmSync(linkDir, { recursive: true, force: true });
  const code = await agent?.stop();
  await raw?.stop();
  await statuses?.stop();
  await closeServer(server);
  assert.equal(code, 0, 'the agent shuts down cleanly on SIGTERM');
});

/** Runs `sh -c 'cd /etc && cat passwd'`; returns the shell's exec event and the pids it forked. */
async function catPasswdInEtc(): Promise<{ shExec: RawEvent; childPids: Set<number> }> {
  const result = await runChild('/bin/sh', ['-c', 'cd /etc && cat passwd']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^root:/);
  const [shExec] = await eventsMatching(raw!, (e) => e.kind === 'exec' && e.process.pid === result.pid, { what: 'exec of the shell' });
  assert.ok(shExec);
  const forks = await eventsMatching(raw!, (e) => e.kind === 'fork' && e.process.pid === result.pid, { what: 'fork of the shell' });
  return { shExec, childPids: new Set(forks.map((f) => (f.payload.group === 'fork' ? f.payload.child_pid : 0))) };
}

test('a relative open after `cd /etc` is reported with the absolute path and the path as given', { timeout: 30_000 }, async () => {
  const { childPids } = await catPasswdInEtc();
  const [event] = await eventsMatching(raw!, (e) => e.kind === 'file' && childPids.has(e.process.pid) && e.payload.group === 'file' && e.payload.path_as_given === 'passwd', {
    what: 'file event of cat',
  });
  assert.ok(event && event.payload.group === 'file');
  assert.equal(event.payload.path, '/etc/passwd');
  assert.equal(event.payload.op, 'open');
  assert.ok(event.payload.result >= 0, 'the open succeeded');
  assert.match(event.process.binary, /\/cat$/);
  assert.equal(event.action, null, 'an audit rule does not act');
  assert.equal(event.node, nodeName);
});

test('a watched open is followed to its close: the close event carries the path and the bytes read', { timeout: 30_000 }, async () => {
  const data = join(linkDir, 'real', 'data');
  writeFileSync(data, randomBytes(1000));
  const result = await runChild('/bin/dd', [`if=${data}`, 'of=/dev/null', 'bs=100', 'count=3', 'status=none']);
  assert.equal(result.code, 0, result.stderr);
  const [close] = await eventsMatching(raw!, (e) => e.process.pid === result.pid && e.payload.group === 'file' && e.payload.op === 'close', { what: 'close event of dd' });
  assert.ok(close?.payload.group === 'file');
  assert.equal(close.payload.path, data);
  assert.equal(close.payload.result, 0);
  assert.ok(close.payload.io !== null);
  const { bytes_read: bytesRead, reads, bytes_written: bytesWritten, closed_by: closedBy } = close.payload.io;
  assert.deepEqual({ bytesRead, reads, bytesWritten }, { bytesRead: 300n, reads: 3n, bytesWritten: 0n }, 'three reads of 100 bytes');
  assert.ok(closedBy === 'close' || closedBy === 'exit', closedBy);
  assert.match(close.process.binary, /\/dd$/);
});

test('symlinks are followed as the kernel followed them: a file link, `..` after a directory link, an unlinked name, a linked binary', { timeout: 30_000 }, async () => {
  const viaLink = await runChild('/bin/cat', [`${linkDir}/link`]);
  const viaDotDot = await runChild('/bin/cat', [`${linkDir}/dirlink/../secret`]);
  assert.equal(viaLink.stdout, 'secret\n');
  assert.equal(viaDotDot.stdout, 'secret\n', 'the kernel walks `..` from real/sub, not from the link');
  const removed = await runChild('/bin/rm', [`${linkDir}/dirlink/victim`]);
  assert.equal(removed.code, 0, removed.stderr);
  const fileEvent = async (pid: number, op: string) => {
    const [event] = await eventsMatching(raw!, (e) => e.process.pid === pid && e.payload.group === 'file' && e.payload.op === op, { what: `${op} by ${pid}` });
    assert.ok(event?.payload.group === 'file');
    return event.payload;
  };
  const link = await fileEvent(viaLink.pid, 'open');
  assert.deepEqual([link.path, link.path_as_given], [`${linkDir}/real/secret`, `${linkDir}/link`]);
  const dotDot = await fileEvent(viaDotDot.pid, 'open');
  assert.deepEqual([dotDot.path, dotDot.path_as_given], [`${linkDir}/real/secret`, `${linkDir}/dirlink/../secret`]);
  const viaBinaryLink = await runChild(join(linkDir, 'mycat'), [`${linkDir}/link`]);
  const [exec] = await eventsMatching(raw!, (e) => e.kind === 'exec' && e.process.pid === viaBinaryLink.pid, { what: 'exec through a link' });
  assert.ok(exec?.payload.group === 'exec');
  assert.equal(exec.process.binary, realpathSync('/bin/cat'), 'the binary the kernel ran, through both links (merged /usr too)');
  assert.equal(exec.payload.filename, join(linkDir, 'mycat'));
  const unlink = await fileEvent(removed.pid, 'unlink');
  assert.equal(unlink.path, `${linkDir}/real/sub/victim`, 'the file is gone: its directory is resolved, its name kept');
  assert.equal(unlink.result, 0);
});

test('the fork tree: the cat run by `sh -c` has the shell execution as parent', { timeout: 30_000 }, async () => {
  const { shExec, childPids } = await catPasswdInEtc();
  const [catExec] = await eventsMatching(raw!, (e) => e.kind === 'exec' && childPids.has(e.process.pid) && /\/cat$/.test(e.process.binary), { what: 'exec of cat' });
  assert.ok(catExec);
  assert.deepEqual(catExec.process.args, ['passwd']);
  assert.equal(catExec.process.cwd, '/etc', 'the cwd is the one the shell changed to');
  assert.equal(catExec.process.parent_exec_id, shExec.process.exec_id);
  assert.equal(catExec.parent?.exec_id, shExec.process.exec_id);
});

test('a TCP connect to a local listener is reported with its destination', { timeout: 30_000 }, async () => {
  const port = await freePort();
  server = await tcpListener(port);
  const client = await connectFromChild(port);
  assert.equal(client.outcome, 'connected');
  const [event] = await eventsMatching(raw!, (e) => e.kind === 'connect' && e.process.pid === client.pid, { what: 'connect event' });
  assert.ok(event && event.payload.group === 'network');
  assert.equal(event.payload.family, 'inet');
  assert.equal(event.payload.protocol, 'tcp');
  assert.equal(event.payload.daddr, '127.0.0.1');
  assert.equal(event.payload.dport, port);
  assert.equal(event.action, null);
});

test('a uid change is reported as a privilege event', { timeout: 30_000 }, async () => {
  const result = await runChild('setpriv', ['--reuid=65534', 'true']);
  assert.equal(result.code, 0, result.stderr);
  const [event] = await eventsMatching(raw!, (e) => e.kind === 'privilege' && e.process.pid === result.pid, { what: 'privilege event of setpriv' });
  assert.ok(event && event.payload.group === 'privilege');
  assert.match(event.payload.syscall, /^set(res|re)?uid$/);
  assert.equal(event.payload.ruid, 65534n);
  assert.equal(event.payload.result, 0);
  assert.match(event.process.binary, /\/setpriv$/);
});

test('`unshare -n` is reported as a namespace event naming net', { timeout: 30_000 }, async () => {
  const result = await runChild('unshare', ['-n', 'true']);
  assert.equal(result.code, 0, result.stderr);
  const [event] = await eventsMatching(raw!, (e) => e.kind === 'namespace' && e.process.pid === result.pid, { what: 'namespace event of unshare' });
  assert.ok(event && event.payload.group === 'namespace');
  assert.equal(event.payload.op, 'unshare');
  assert.ok(event.payload.namespaces.includes('net'), `namespaces: ${event.payload.namespaces.join(',')}`);
  assert.equal(event.payload.result, 0);
  assert.match(event.process.binary, /\/unshare$/);
});

// The local directory is read before Kafka is connected: its statuses must wait for the connection
// and still be delivered (they were once enqueued on a disconnected producer and lost).
test('a local policy is reported applied on the status topic', { timeout: 30_000 }, async () => {
  const status = await policyStatusOf(statuses!, { node: nodeName, key: 'audit-passwd-read' }, { accept: (s) => s !== null, timeoutMs: 10_000 });
  assert.equal(status?.state, 'applied');
  assert.equal(status?.kernel_rules, 2, 'the passwd rule and the links prefix rule');
});
