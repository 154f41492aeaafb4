import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { boottimeNs, bootToWallOffsetNs } from './clock.ts';

test('the boot clock agrees with /proc/uptime and the offset gives the wall clock', () => {
  const uptimeNs = BigInt(Math.round(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1e9));
  const boot = boottimeNs();
  assert.ok(boot >= uptimeNs - 50_000_000n && boot <= uptimeNs + 1_000_000_000n, `boot ${boot} vs uptime ${uptimeNs}`);
  const wall = boottimeNs() + bootToWallOffsetNs();
  const now = BigInt(Date.now()) * 1_000_000n;
  assert.ok(wall > now - 50_000_000n && wall < now + 50_000_000n, `wall ${wall} vs Date.now ${now}`);
});
