import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleRawEvent } from '@stinger/testing';
import { AgentApiFilterError } from './errors.ts';
import { compileEventFilter, toEventKinds } from './event-filter.ts';

const curl = sampleRawEvent({ node: 'n', seq: 0n, binary: '/usr/bin/curl', pid: 10 });
const bash = { ...sampleRawEvent({ node: 'n', seq: 1n, binary: '/bin/bash', pid: 11 }), kind: 'exit' as const };

describe('compileEventFilter', () => {
  it('matches everything when empty', () => {
    const matches = compileEventFilter({});
    assert.ok(matches(curl) && matches(bash));
  });

  it('ANDs every set field', () => {
    assert.ok(compileEventFilter({ kinds: ['exec'], binaryContains: 'curl', pid: 10 })(curl));
    assert.ok(!compileEventFilter({ kinds: ['exec'], binaryContains: 'curl', pid: 11 })(curl));
    assert.ok(!compileEventFilter({ kinds: ['exit'], binaryContains: 'curl' })(curl));
    assert.ok(compileEventFilter({ kinds: ['exec', 'exit'] })(bash));
    assert.ok(compileEventFilter({ execId: bash.process.exec_id })(bash));
    assert.ok(!compileEventFilter({ execId: bash.process.exec_id })(curl));
  });

  it('treats the wire defaults (empty string, pid 0) as unset', () => {
    assert.ok(compileEventFilter({ kinds: [], binaryContains: '', pid: 0, execId: '' })(bash));
  });
});

describe('toEventKinds', () => {
  it('refuses an unknown kind, naming it', () => {
    assert.throws(() => toEventKinds(['exec', 'teleport']), (error: unknown) => error instanceof AgentApiFilterError && /teleport/.test(error.message));
    assert.deepEqual(toEventKinds(['exec', 'file']), ['exec', 'file']);
  });
});
