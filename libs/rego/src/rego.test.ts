import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadConfig } from '@stinger/config';
import { createLogger } from '@stinger/log';
import { buildOpa, compileRego, OPA_VERSION, RegoBatchEvaluator, regoAlertsOf, type RegoResult } from './index.ts';

const MODULE = `package stinger

alerts contains alert if {
  endswith(input.event.process.binary, "/nc")
  alert := {"rule": "netcat", "severity": "high", "message": sprintf("netcat under %s", [input.ancestors[0].binary]), "tags": ["T1059"], "action": "kill"}
}

alerts contains {"rule": "slow", "message": "never", "severity": "low"} if {
  input.event.process.binary == "/usr/bin/slow"
  count([x | some x in numbers.range(1, 100000000); x < 0]) > 0
}

alerts contains {"rule": "Bad Name", "message": "malformed"} if input.event.process.binary == "/usr/bin/malformed"
`;

const input = (binary: string): string => JSON.stringify({ event: { kind: 'exec', process: { binary } }, ancestors: [{ binary: '/bin/sh' }] });
const opaPath = async (): Promise<string> => (await buildOpa({ cacheDir: loadConfig().cacheDir, logger: createLogger({ name: 'test', level: 'warn' }) })).path;

describe('Rego', () => {
  test('the pinned opa is the one go.mod requires', () => {
    assert.match(readFileSync(new URL('../go/go.mod', import.meta.url), 'utf8'), new RegExp(`github.com/open-policy-agent/opa ${OPA_VERSION.replaceAll('.', '\\.')}\\n`));
  });

  test('a module that does not compile comes back with the line opa names', async () => {
    const result = await compileRego({ module: 'package stinger\n\nalerts contains a if {\n  a := input.x +\n}\n', entrypoint: 'stinger/alerts' }, { opaPath: await opaPath() });
    assert.equal(result.wasm, undefined);
    assert.deepEqual(result.problems?.map((p) => p.line), [5]);
    assert.match(result.problems?.[0]?.message ?? '', /rego_parse_error/);
  });

  test('an entrypoint the module does not define is refused', async () => {
    const result = await compileRego({ module: 'package stinger\n\nallow := true\n', entrypoint: 'stinger/alerts' }, { opaPath: await opaPath() });
    assert.ok(result.problems !== undefined && result.problems.length > 0);
  });

  test('compiled to wasm, evaluated in the worker: alerts, no alert, a malformed entry dropped, an overrun stopped and the batch goes on', async () => {
    const compiled = await compileRego({ module: MODULE, entrypoint: 'stinger/alerts' }, { opaPath: await opaPath() });
    assert.ok(compiled.wasm !== undefined, JSON.stringify(compiled.problems));
    const evaluator = new RegoBatchEvaluator({ budgetMs: 200 });
    try {
      evaluator.set('p', compiled.wasm);
      const started = performance.now();
      const results = await evaluator.evaluate([
        { key: 'p', input: input('/usr/bin/nc') },
        { key: 'p', input: input('/usr/bin/slow') },
        { key: 'p', input: input('/usr/bin/ls') },
        { key: 'p', input: input('/usr/bin/malformed') },
        { key: 'gone', input: input('/usr/bin/nc') },
        { key: 'p', input: input('/bin/nc') },
      ]);
      const summary = results.map((r: RegoResult) => (r.kind === 'alerts' ? `${r.alerts.map((a) => `${a.rule}:${a.action}:${a.message}`).join(',')}/${r.malformed}` : r.kind));
      assert.deepEqual(summary, ['netcat:kill:netcat under /bin/sh/0', 'stopped', '/0', '/1', 'failed', 'netcat:kill:netcat under /bin/sh/0']);
      assert.ok(performance.now() - started < 5000, 'the overrun is stopped within its budget, not run to its end');
      assert.deepEqual({ ...evaluator.stats }, { evaluations: 6, stopped: 1, failed: 1, workerRestarts: 1 });
    } finally {
      await evaluator.close();
    }
  });

  test('an undefined rule is no alert; entries that are not alerts are counted', () => {
    assert.deepEqual(regoAlertsOf([{}]), { alerts: [], malformed: 0 });
    assert.deepEqual(regoAlertsOf([{ result: [{ message: 'm' }, 7, { message: 'x', action: 'kill-in-kernel' }] }]), {
      alerts: [{ rule: 'rego', severity: 'medium', message: 'm', tags: [], action: 'audit' }],
      malformed: 2,
    });
  });
});
