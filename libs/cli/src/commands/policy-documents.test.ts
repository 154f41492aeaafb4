import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicyDocuments } from './policy-documents.ts';

const policy = (name: string, action: string): Record<string, unknown> => ({
  apiVersion: 'stinger.io/v1alpha1',
  kind: 'TracingPolicy',
  metadata: { name, labels: { team: 'a' } },
  spec: { rules: [{ name: 'r', event: 'exec', action }] },
});

test('a JSON array of policies: each valid one keeps the object as written (what goes to the API server), problems carry line and column', () => {
  const text = JSON.stringify([policy('one', 'audit'), policy('two', 'audit'), policy('three', 'explode')], null, 2);
  const { documents, problems } = parsePolicyDocuments([{ source: 'p.json', text }]);
  assert.deepEqual(documents.map((d) => [d.policy.metadata.name, d.written['metadata']]), [
    ['one', { name: 'one', labels: { team: 'a' } }],
    ['two', { name: 'two', labels: { team: 'a' } }],
  ]);
  const line = text.slice(0, text.indexOf('"explode"')).split('\n').length;
  assert.deepEqual(problems, [`p.json:${line}:11 (document 3): spec.rules[0].action: "explode" is not one of audit, kill-in-kernel, kill, deny-connect, deny`]);
});
