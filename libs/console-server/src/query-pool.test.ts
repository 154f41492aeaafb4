import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventsResponse } from '@stinger/console-api';
import { ConsoleStore } from '@stinger/console-store';
import { createLogger } from '@stinger/log';
import { sampleEvent } from '@stinger/testing';
import { createQueryPool } from './index.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');

test('worker threads answer from the store on disk, including rows written after they opened it; bad parameters are 400s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-pool-'));
  const path = join(dir, 'store.sqlite');
  const store = new ConsoleStore({ path, retentionMs: 3_600_000, maxEvents: 100 });
  const pool = createQueryPool({ store: { storePath: path, retentionMs: 3_600_000, maxEvents: 100 }, workers: 2, logger: createLogger({ name: 'test', level: 'silent' }) });
  try {
    const events = async () => {
      const answer = await pool.answer({ pathname: '/api/v1/events', search: '?kind=exec', now: NOW });
      assert.equal(answer.status, 200);
      return (JSON.parse(answer.status === 200 ? answer.json : '{}') as EventsResponse).events.map((e) => e.id);
    };
    assert.deepEqual(await events(), []);
    const event = sampleEvent({ seq: 1n, time: BigInt(NOW - 1000) * 1_000_000n });
    store.ingestEvents([event], NOW);
    // Both workers see it (the least busy one takes each request; two at once reach both).
    assert.deepEqual(await Promise.all([events(), events()]), [[event.id], [event.id]]);
    assert.deepEqual(await pool.answer({ pathname: '/api/v1/alerts', search: '?severity=loud', now: NOW }), {
      status: 400,
      error: 'severity: "loud": not one of info, low, medium, high, critical',
    });
    assert.equal((await pool.answer({ pathname: '/api/v1/nope', search: '', now: NOW })).status, 404);
  } finally {
    await pool.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
