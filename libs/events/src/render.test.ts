import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { codecs } from './codec.ts';
import { describeFileIo, formatBytes, formatTimeNs, renderEventCompact, renderEventJson } from './render.ts';

const golden = codecs.RawEvent.fromJson(readFileSync(new URL('../../../schemas/golden/RawEvent.v2.json', import.meta.url), 'utf8'));

test('time renders as RFC 3339 with nanoseconds', () => {
  assert.equal(formatTimeNs(1_732_900_000_123_456_789n), '2024-11-29T17:06:40.123456789Z');
  assert.equal(formatTimeNs(5n), '1970-01-01T00:00:00.000000005Z');
});

test('JSON rendering names the payload after its group and keeps 64-bit values exact', () => {
  const json = renderEventJson(golden);
  assert.equal(json['kind'], golden.kind);
  assert.ok(!('payload' in json));
  assert.ok(golden.payload.group in json);
  assert.equal(json['seq'], '9007199254740993', 'beyond 2^53 stays exact as a string');
  assert.equal(typeof json['time'], 'string');
  assert.doesNotThrow(() => JSON.stringify(json));
});

test('compact rendering is one line with kind, pid and binary', () => {
  const line = renderEventCompact(golden);
  assert.ok(!line.includes('\n'));
  assert.match(line, new RegExp(`${golden.kind}\\s+pid=${golden.process.pid} ${golden.process.binary.replaceAll('/', '\\/')}`));
});

test('compact rendering quotes arguments with spaces or newlines, so one event stays one line', () => {
  const event = { ...golden, kind: 'exec' as const, payload: { group: 'exec' as const, filename: '/bin/sh', euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null }, process: { ...golden.process, args: ['-c', 'echo a\necho b', 'plain'] } };
  const line = renderEventCompact(event);
  assert.ok(!line.includes('\n'), line);
  assert.match(line, /-c "echo a\\necho b" plain/);
});

test('compact rendering with withPod names the pod (namespace/name) of an enriched event after the node', () => {
  const pod = { namespace: 'shop', name: 'web-1', uid: 'u', labels: {}, annotations: {}, workload: null, workload_kind: null, container: null };
  const event = { ...golden, pod, enrichment: { status: 'enriched' as const, reason: null } };
  assert.match(renderEventCompact(event, { withPod: true }), new RegExp(`^\\S+ ${golden.node} shop/web-1 ${golden.kind}\\s+pid=`));
  assert.match(renderEventCompact(event), new RegExp(`^\\S+ ${golden.node} ${golden.kind}\\s+pid=`));
});

test('a file close says what went through the open: "closed /etc/passwd: read 2.1 KiB (3 reads), mapped 4.0 KiB"', () => {
  const close = codecs.RawEvent.fromJson(readFileSync(new URL('../../../schemas/golden/RawEvent.v4.json', import.meta.url), 'utf8'));
  assert.match(renderEventCompact(close), / file\s+pid=4242 \/usr\/bin\/cat closed \/etc\/passwd: read 2\.1 KiB \(3 reads\), mapped 4\.0 KiB$/);
  const io = { bytes_read: 0n, bytes_written: 10n, reads: 0n, writes: 1n, bytes_mapped: 0n, closed_by: 'exit' } as const;
  assert.equal(describeFileIo(io), 'wrote 10 B (1 write), at exit');
  assert.equal(describeFileIo({ ...io, bytes_written: 0n, writes: 0n, closed_by: 'close' }), 'nothing read or written');
  assert.deepEqual([formatBytes(1023n), formatBytes(1024n), formatBytes(3n * 1024n * 1024n)], ['1023 B', '1.0 KiB', '3.0 MiB']);
});

test('compact rendering of a flow (the RawEvent v6 golden vector): both directions\' totals and whether the socket is gone', () => {
  const flow = codecs.RawEvent.fromJson(readFileSync(new URL('../../../schemas/golden/RawEvent.v6.json', import.meta.url), 'utf8'));
  assert.match(renderEventCompact(flow), /flow +pid=\d+ \S+ tcp 10\.244\.1\.7:43122 -> 198\.51\.100\.20:443 sent=4180 received=1048131 \(ended\)$/);
});
