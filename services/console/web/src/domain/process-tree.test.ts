import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessNode } from '@stinger/console-api';
import { findProcess, processLines } from './process-tree.ts';

function node(execId: string, start: number, more: { children?: ProcessNode[]; file?: number } = {}): ProcessNode {
  const { children = [], file = 0 } = more;
  return { pid: start, execId, binary: `/bin/${execId}`, args: null, start, exitCode: null, children, counts: { file, network: 0, privilege: 0 }, events: [] };
}

const forest = [node('shim', 1, { children: [node('sh', 2, { children: [node('curl', 5), node('cat', 3, { file: 2 })] })] })];

test('lines go depth first, children in start order, each with its depth', () => {
  assert.deepEqual(
    processLines(forest, new Set()).map((l) => [l.node.execId, l.depth]),
    [
      ['shim', 0],
      ['sh', 1],
      ['cat', 2],
      ['curl', 2],
    ],
  );
});

test('a collapsed branch hides its descendants but still counts them', () => {
  const lines = processLines(forest, new Set(['sh']));
  assert.deepEqual(lines.map((l) => l.node.execId), ['shim', 'sh']);
  assert.deepEqual(lines[1]?.subtree, { processes: 3, file: 2, network: 0, privilege: 0 });
  assert.equal(lines[1]?.hasChildren, true);
});

test('a process is found anywhere in the forest', () => {
  assert.equal(findProcess(forest, 'cat')?.pid, 3);
  assert.equal(findProcess(forest, 'nope'), null);
});
