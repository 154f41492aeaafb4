import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RuleIdRegistry, ruleIdOf } from './rule-ids.ts';

// Two rule names of policy "p" whose ids collide (found by search; FNV-1a 32 bit).
const A = { policy: 'p', rule: 'rule-356605' };
const B = { policy: 'p', rule: 'rule-1152310' };

describe('ruleIdOf', () => {
  test('is a deterministic u32 > 0 from policy and rule name', () => {
    assert.equal(ruleIdOf('deny-shadow-read', 'no-shadow-open'), ruleIdOf('deny-shadow-read', 'no-shadow-open'));
    assert.notEqual(ruleIdOf('a', 'bc'), ruleIdOf('ab', 'c'), 'the separator keeps policy and rule apart');
    const id = ruleIdOf('deny-shadow-read', 'no-shadow-open');
    assert.ok(Number.isInteger(id) && id > 0 && id <= 0xffffffff);
    assert.equal(ruleIdOf(A.policy, A.rule), ruleIdOf(B.policy, B.rule));
  });
});

describe('RuleIdRegistry', () => {
  test('assigns the hash, the same id again for the same rule, and looks rules up by id', () => {
    const registry = new RuleIdRegistry();
    const id = registry.assign({ policy: 'x', rule: 'y' });
    assert.equal(id, ruleIdOf('x', 'y'));
    assert.equal(registry.assign({ policy: 'x', rule: 'y' }), id);
    assert.deepEqual(registry.lookup(id), { policy: 'x', rule: 'y' });
    assert.equal(registry.size, 1);
    assert.deepEqual(registry.collisions(), []);
  });

  test('detects a collision, moves the later rule to the next free id and reports it', () => {
    const registry = new RuleIdRegistry();
    const first = registry.assign(A);
    const second = registry.assign(B);
    assert.equal(second, first + 1);
    assert.deepEqual(registry.collisions(), [{ ruleId: first, holder: A, requested: B, assigned: second }]);
    assert.deepEqual(registry.lookup(second), B);
  });

  test('release frees a policy\'s ids, so they can be taken again', () => {
    const registry = new RuleIdRegistry();
    const id = registry.assign(A);
    registry.assign({ policy: 'q', rule: 'r' });
    registry.release('p');
    assert.equal(registry.lookup(id), undefined);
    assert.equal(registry.idOf(A), undefined);
    assert.equal(registry.size, 1);
    assert.equal(registry.assign(B), id, 'B gets its own hash once A is gone');
  });
});
