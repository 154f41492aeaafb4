import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRawEvent } from '@stinger/events';
import { silentLogger } from '@stinger/log';
import { ProcessCache } from '@stinger/process-cache';
import { EventBuilder } from './event-builder.ts';
import { AgentPipeline, isAuditOnly } from './pipeline.ts';
import { EventPublisher } from './publisher.ts';
import { EventSpool, type SpooledRecord } from './spool.ts';
import { execRecord, exitRecord, fileRecord, forkRecord } from './test-records.ts';

test('fork, exec and exit become sequenced RawEvents with process, parent and payload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  try {
    const sent: SpooledRecord[] = [];
    const sink = { queuedRecords: 0, enqueue: async (r: SpooledRecord) => void sent.push(r), sendBatch: async () => {} };
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: 1_000_000 }), logger: silentLogger() });
    await publisher.start();
    const cache = new ProcessCache({ nodeName: 'n1', procReader: { listPids: () => [], read: () => null } });
    const builder = new EventBuilder({ nodeName: 'n1', agentId: 'agent-1', bootId: 'boot-1', bootToWallNs: 1_000n, cache });
    const pipeline = new AgentPipeline({ nodeName: 'n1', builder, publisher });
    cache.fork({ parentPid: 1, childPid: 100, timeNs: 5n }); // the shell, known from an earlier fork
    pipeline.handle(forkRecord({ timeNs: 10n, pid: 100, childPid: 200 }));
    pipeline.handle(execRecord({ timeNs: 20n, pid: 200, uid: 1000, binary: '/usr/bin/cat', args: ['cat', '/etc/passwd'] }));
    assert.equal(pipeline.handle(fileRecord({ pid: 200, op: 'chdir', path: '/etc' })), null, 'a chdir only updates the cache');
    pipeline.handle(exitRecord({ timeNs: 30n, pid: 200, code: 0, signal: null }));
    await new Promise((resolve) => setImmediate(resolve));
    const events = sent.map((r) => decodeRawEvent(r.value));
    assert.deepEqual(events.map((e) => [e.kind, e.seq]), [['fork', 0n], ['exec', 1n], ['exit', 2n]]);
    assert.ok(sent.every((r) => r.key.toString() === 'n1'));
    const [fork, exec, exit] = events;
    assert.equal(fork?.process.pid, 100);
    assert.equal(fork?.payload.group === 'fork' && fork.payload.child_exec_id, 'n1:10:200');
    assert.equal(exec?.process.exec_id, 'n1:20:200');
    assert.equal(exec?.process.parent_exec_id, 'n1:5:100');
    assert.equal(exec?.parent?.exec_id, 'n1:5:100');
    assert.deepEqual(exec?.process.args, ['/etc/passwd']);
    assert.equal(exec?.process.start_time, 10n);
    assert.equal(exec?.time, 1_020n);
    assert.equal(exec?.agent_id, 'agent-1');
    assert.equal(exit?.process.exec_id, 'n1:20:200');
    assert.deepEqual(structuredClone(exit?.payload), { group: 'exit', code: 0, signal: 0 });
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an event of an unknown process is still published, marked by an empty binary', () => {
  const cache = new ProcessCache({ nodeName: 'n1', procReader: { listPids: () => [], read: () => null } });
  const builder = new EventBuilder({ nodeName: 'n1', agentId: 'a', bootId: null, bootToWallNs: 0n, cache });
  const event = builder.build(exitRecord({ timeNs: 1n, pid: 77, code: null, signal: 9 }));
  assert.equal(event?.process.exec_id, 'n1:0:77');
  assert.equal(event?.process.binary, '');
  assert.deepEqual(event?.payload, { group: 'exit', code: -1, signal: 9 });
  assert.equal(cache.stats().misses, 0);
});

test('isAuditOnly: an event without an action that is no process life cycle; an action or exec, fork, exit is kept', () => {
  const cache = new ProcessCache({ nodeName: 'n1', procReader: { listPids: () => [], read: () => null } });
  const builder = new EventBuilder({ nodeName: 'n1', agentId: 'a', bootId: null, bootToWallNs: 0n, cache });
  const open = builder.build(fileRecord({ pid: 200, op: 'open', path: '/etc/passwd' }));
  assert.ok(open !== null && open.action === null);
  assert.equal(isAuditOnly({ ...open, seq: 0n }), true, 'a watched open under an audit rule');
  assert.equal(isAuditOnly({ ...open, seq: 0n, action: { kind: 'sigkill', policy: 'p', rule: 'r' } }), false, 'a kill in the kernel');
  const exit = builder.build(exitRecord({ timeNs: 1n, pid: 200, code: 0, signal: null }));
  assert.ok(exit !== null);
  assert.equal(isAuditOnly({ ...exit, seq: 1n }), false, 'process life cycle');
});
