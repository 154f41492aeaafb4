import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@stinger/log';
import { KAFKA_POM_PATH, KAFKA_VERSION, resolveKafkaDistribution, tailLines } from './kafka-distribution.ts';
import { MavenResolveError } from './errors.ts';

test('KAFKA_VERSION is the version pinned in pom.xml', () => {
  const pom = readFileSync(KAFKA_POM_PATH, 'utf8');
  assert.equal(/<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1], KAFKA_VERSION);
});

test('resolveKafkaDistribution names a missing mvn command', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'stinger-kafka-dist-'));
  try {
    await assert.rejects(
      resolveKafkaDistribution({ cacheDir, logger: silentLogger(), mavenCommand: '/nonexistent/mvn' }),
      (error: unknown) => {
        assert.ok(error instanceof MavenResolveError);
        assert.match(error.message, /"\/nonexistent\/mvn" was not found on PATH/);
        return true;
      },
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('tailLines keeps the last lines without the trailing newline', () => {
  assert.equal(tailLines('a\nb\nc\n', 2), 'b\nc');
  assert.equal(tailLines('a', 5), 'a');
});
