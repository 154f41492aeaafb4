import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJavaRuntime, parseJavaMajorVersion } from './java-runtime.ts';
import { JavaRuntimeError } from './errors.ts';

test('parseJavaMajorVersion reads modern and 1.x version strings', () => {
  assert.equal(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment'), 17);
  assert.equal(parseJavaMajorVersion('openjdk version "21" 2023-09-19'), 21);
  assert.equal(parseJavaMajorVersion('java version "1.8.0_402"'), 8);
  assert.equal(parseJavaMajorVersion('openjdk version "25-ea" 2025-09-16'), 25);
  assert.equal(parseJavaMajorVersion('no version here'), null);
});

test('checkJavaRuntime names a missing java command', async () => {
  await assert.rejects(checkJavaRuntime('/nonexistent/java'), (error: unknown) => {
    assert.ok(error instanceof JavaRuntimeError);
    assert.match(error.message, /"\/nonexistent\/java" was not found on PATH; Kafka needs Java 17/);
    assert.equal(error.retriable, false);
    return true;
  });
});
