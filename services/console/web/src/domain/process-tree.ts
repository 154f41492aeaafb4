/**
 * The process tree as the page draws it: one line per process, indented by depth, with the events of its whole
 * subtree counted so a collapsed branch still says what happened under it. Pure.
 */
import type { ProcessNode } from '@stinger/console-api';

export interface ProcessLine {
  readonly node: ProcessNode;
  readonly depth: number;
  /** execId of every ancestor, root first: the line is hidden when one of them is collapsed. */
  readonly path: readonly string[];
  readonly hasChildren: boolean;
  readonly subtree: { readonly processes: number; readonly file: number; readonly network: number; readonly privilege: number };
}

function subtreeTotals(node: ProcessNode): ProcessLine['subtree'] {
  const totals = { processes: 1, file: node.counts.file, network: node.counts.network, privilege: node.counts.privilege };
  for (const child of node.children) {
    const t = subtreeTotals(child);
    totals.processes += t.processes;
    totals.file += t.file;
    totals.network += t.network;
    totals.privilege += t.privilege;
  }
  return totals;
}

/** Depth-first, children in start order; lines under a collapsed execId are left out. */
export function processLines(roots: readonly ProcessNode[], collapsed: ReadonlySet<string>): ProcessLine[] {
  const lines: ProcessLine[] = [];
  const visit = (node: ProcessNode, path: readonly string[]) => {
    lines.push({ node, depth: path.length, path, hasChildren: node.children.length > 0, subtree: subtreeTotals(node) });
    if (collapsed.has(node.execId)) return;
    const children = [...node.children].sort((a, b) => a.start - b.start);
    for (const child of children) visit(child, [...path, node.execId]);
  };
  for (const root of [...roots].sort((a, b) => a.start - b.start)) visit(root, []);
  return lines;
}

/** The node with this execId anywhere in the forest, or null. */
export function findProcess(roots: readonly ProcessNode[], execId: string): ProcessNode | null {
  for (const root of roots) {
    if (root.execId === execId) return root;
    const found = findProcess(root.children, execId);
    if (found) return found;
  }
  return null;
}
