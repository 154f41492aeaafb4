import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitedLineage } from './exited-lineage.ts';

/** A parent map and the lineage that forgets from it, as PartitionDetector wires them. */
function tree(retentionNs: bigint) {
  const parents = new Map<string, string | null>();
  const lineage = new ExitedLineage({
    retentionNs,
    forget: (id) => {
      const parent = parents.get(id) ?? null;
      parents.delete(id);
      return parent;
    },
  });
  const add = (id: string, parent: string | null) => {
    parents.set(id, parent);
    if (parent !== null) lineage.linked(parent);
  };
  return { parents, lineage, add };
}

test('an exited process is forgotten once its exit is the retention old, by the time of a later exit', () => {
  const { parents, lineage, add } = tree(100n);
  add('a', null);
  add('b', null);
  lineage.exited('a', 1000n);
  lineage.exited('b', 1099n);
  assert.deepEqual([...parents.keys()], ['a', 'b'], 'not yet: 99 ns after');
  lineage.exited('c', 1100n);
  assert.deepEqual([...parents.keys()], ['b']);
  assert.deepEqual(lineage.stats(), { exited: 2, waiting: 0, parents: 0 });
});

test('an exited parent stays while a child names it, and goes with its last child, up the chain', () => {
  const { parents, lineage, add } = tree(10n);
  add('grandparent', null);
  add('parent', 'grandparent');
  add('child', 'parent');
  add('sibling', 'parent');
  lineage.exited('grandparent', 0n);
  lineage.exited('parent', 1n);
  lineage.exited('sibling', 2n);
  lineage.exited('x', 100n);
  assert.deepEqual([...parents.keys()], ['grandparent', 'parent', 'child'], 'the live child keeps its exited ancestors; the sibling went');
  assert.deepEqual(lineage.stats(), { exited: 1, waiting: 2, parents: 2 });
  lineage.exited('child', 200n);
  lineage.exited('y', 300n);
  assert.deepEqual([...parents.keys()], [], 'the child went, and with it the parent and the grandparent');
  assert.deepEqual(lineage.stats(), { exited: 1, waiting: 0, parents: 0 });
});

test('an entry its map dropped (size bound) is not waited for, and its parent is released', () => {
  const { parents, lineage, add } = tree(10n);
  add('parent', null);
  add('child', 'parent');
  lineage.exited('parent', 0n);
  lineage.exited('child', 1n);
  parents.delete('child');
  lineage.dropped('child');
  lineage.unlinked('parent');
  lineage.exited('z', 50n);
  assert.deepEqual([...parents.keys()], []);
  assert.deepEqual(lineage.stats(), { exited: 1, waiting: 0, parents: 0 });
});
