import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSpool, decodeSpoolSegment, encodeSpoolEntry } from './spool.ts';

const rec = (i: number) => ({ key: Buffer.from('node'), value: Buffer.from(`event-${i}`) });

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('records come back oldest first across segments, and delivered segments are deleted', () => {
  withDir((dir) => {
    const spool = new EventSpool({ dir, maxBytes: 1_000_000, segmentBytes: 40 });
    for (let i = 0; i < 5; i += 1) assert.equal(spool.append(rec(i)), 'spooled');
    const seen: string[] = [];
    for (let segment = spool.oldest(); segment; segment = spool.oldest()) {
      seen.push(...segment.records.map((r) => r.value.toString()));
      spool.delivered(segment);
    }
    assert.deepEqual(seen, ['event-0', 'event-1', 'event-2', 'event-3', 'event-4']);
    assert.equal(spool.isEmpty, true);
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('past maxBytes records are refused and counted, never silently lost', () => {
  withDir((dir) => {
    const entry = encodeSpoolEntry(rec(0)).length;
    const spool = new EventSpool({ dir, maxBytes: entry * 3 });
    const accepted = [0, 1, 2, 3, 4].map((i) => spool.append(rec(i)));
    assert.deepEqual(accepted, ['spooled', 'spooled', 'spooled', 'full', 'full']);
    assert.equal(spool.stats().dropped, 2);
    assert.equal(spool.stats().records, 3);
  });
});

test('audit records are shed past three quarters of maxBytes and counted apart; the last quarter stays for the others', () => {
  withDir((dir) => {
    const entry = encodeSpoolEntry(rec(0)).length;
    const spool = new EventSpool({ dir, maxBytes: entry * 4 });
    const audit = [0, 1, 2, 3].map((i) => spool.append(rec(i), true));
    assert.deepEqual(audit, ['spooled', 'spooled', 'spooled', 'shed'], 'audit records fill three of the four entries');
    assert.equal(spool.append(rec(4)), 'spooled', 'a record of an action still finds room');
    assert.equal(spool.append(rec(5)), 'full');
    assert.equal(spool.append(rec(6), true), 'shed');
    assert.deepEqual([spool.stats().records, spool.stats().shed, spool.stats().dropped], [4, 2, 1]);
  });
});

test('segments left by a previous run are delivered first; a torn last entry is ignored', () => {
  withDir((dir) => {
    const first = new EventSpool({ dir, maxBytes: 1_000_000 });
    first.append(rec(1));
    first.append(rec(2));
    first.close();
    const [name] = readdirSync(dir);
    assert.ok(name);
    appendFileSync(join(dir, name), Buffer.from([9, 0, 0, 0, 9])); // the agent died mid-write
    const second = new EventSpool({ dir, maxBytes: 1_000_000 });
    assert.equal(second.stats().records, 2);
    second.append(rec(3));
    const segment = second.oldest();
    assert.deepEqual(segment?.records.map((r) => r.value.toString()), ['event-1', 'event-2']);
  });
});

test('decodeSpoolSegment reads back what encodeSpoolEntry wrote', () => {
  const bytes = Buffer.concat([encodeSpoolEntry(rec(7)), encodeSpoolEntry({ key: Buffer.alloc(0), value: Buffer.from([0xc3, 1]) })]);
  const records = decodeSpoolSegment(bytes);
  assert.equal(records.length, 2);
  assert.equal(records[0]?.value.toString(), 'event-7');
  assert.deepEqual(records[1]?.value, Buffer.from([0xc3, 1]));
});
