/**
 * `stinger registry up | down` as a user runs them: up builds (or finds cached) and starts Apicurio Registry, detached,
 * and prints STINGER_SCHEMA_REGISTRY_URL=<url> last; the URL answers the Confluent-compatible API; a second up finds
 * it running; down stops it, and a second down says none was running. Its own STINGER_HOME, so its state is its own.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runStinger } from '../helpers/cli.ts';
import { registryUp } from '../helpers/registry.ts';
import { scratchDir } from '../helpers/scratch.ts';

const env = { STINGER_HOME: join(scratchDir('stinger-registry-command-'), 'home') };

// Whatever failed: a detached registry left running would outlive the test run. `down` with none running is harmless.
after(() => {
  runStinger(['registry', 'down'], env);
});

test('registry up prints the URL of a running registry; down stops it', { timeout: 420_000 }, async () => {
  const up = await registryUp(env);
  assert.equal(up.status, 0, up.stderr);
  const last = up.stdout.trimEnd().split('\n').at(-1) ?? '';
  const match = /^STINGER_SCHEMA_REGISTRY_URL=(http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7)$/.exec(last);
  assert.ok(match, `last line: ${last}`);
  const url = match[1] ?? '';
  const subjects = await fetch(`${url}/subjects`);
  assert.equal(subjects.status, 200);
  assert.deepEqual(await subjects.json(), []);

  const again = await registryUp(env);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /already running/);
  assert.equal(again.stdout.trimEnd().split('\n').at(-1), last);

  const down = runStinger(['registry', 'down'], env);
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stdout, /local registry stopped/);
  await assert.rejects(fetch(`${url}/subjects`), 'the registry no longer answers');
  assert.match(runStinger(['registry', 'down'], env).stdout, /no local registry was running/);
});
