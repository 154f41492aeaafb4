/**
 * Process tree of one pod (or one node's host processes): each process with its file, network and privilege
 * events; a collapsed branch still counts what happened under it. Selecting a process lists its events.
 */
import { useState } from 'preact/hooks';
import type { ProcessNode } from '@stinger/console-api';
import { findProcess, processLines } from '../domain/process-tree.ts';
import { baseName, eventWhat, formatPod } from '../domain/format.ts';
import { treeTargetOf, type TreeTarget } from '../domain/filters.ts';
import { actions } from '../store/state.ts';
import { Empty, KindBadge, Loaded, Time, ViewHeader } from './common.tsx';
import { useDispatch, useSelector } from './store-context.ts';

function targetValue(target: TreeTarget | null): string {
  if (target === null) return '';
  return 'node' in target ? `node:${target.node}` : `pod:${target.namespace}/${target.pod}`;
}

function parseTarget(value: string): TreeTarget | null {
  if (value.startsWith('node:')) return { node: value.slice(5) };
  if (value.startsWith('pod:')) {
    const rest = value.slice(4);
    const slash = rest.indexOf('/');
    return { namespace: rest.slice(0, slash), pod: rest.slice(slash + 1) };
  }
  return null;
}

function Counts(props: { file: number; network: number; privilege: number; muted?: boolean }) {
  return (
    <span class={`counts${props.muted ? ' is-muted' : ''}`}>
      {props.file > 0 && <span class="count kind-file" title="file events">{props.file} file</span>}
      {props.network > 0 && <span class="count kind-network" title="network events">{props.network} net</span>}
      {props.privilege > 0 && <span class="count kind-privilege" title="privilege events">{props.privilege} priv</span>}
    </span>
  );
}

function ProcessEvents(props: { node: ProcessNode }) {
  const { node } = props;
  return (
    <div class="panel process-events" data-exec-id={node.execId}>
      <h2>
        <span class="mono">{node.binary}</span> <span class="muted">pid {node.pid}</span>
      </h2>
      {node.args && <p class="mono small">{node.args}</p>}
      <p class="muted small">
        started <Time ms={node.start} />
        {node.exitCode !== null ? ` · exited ${node.exitCode}` : ' · running'}
      </p>
      {node.events.length === 0 ? (
        <Empty>No file, network or privilege events for this process.</Empty>
      ) : (
        <table class="table compact">
          <tbody>
            {node.events.map((e) => (
              <tr key={e.id}>
                <td class="nowrap">
                  <Time ms={e.time} />
                </td>
                <td>
                  <KindBadge kind={e.kind} />
                </td>
                <td class="mono ellipsis" title={e.summary}>
                  {eventWhat(e)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function ProcessTreeView() {
  const tree = useSelector((s) => s.tree);
  const location = useSelector((s) => s.location);
  const target = treeTargetOf(location);
  const facets = useSelector((s) => s.facets);
  const dispatch = useDispatch();
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const current = targetValue(target);
  const pods = (facets?.pods ?? []).map((p) => `pod:${p.namespace}/${p.name}`);
  const nodes = (facets?.nodes ?? []).map((n) => `node:${n}`);
  const choices = current === '' || pods.includes(current) || nodes.includes(current) ? [...pods, ...nodes] : [current, ...pods, ...nodes];
  const toggle = (execId: string) => {
    const next = new Set(collapsed);
    if (!next.delete(execId)) next.add(execId);
    setCollapsed(next);
  };
  return (
    <section class="view" data-view="tree">
      <ViewHeader title="Process tree" subtitle="Every process of a pod or a node's host, with what it did" resource={target === null ? undefined : tree}>
        <label class="field inline">
          <span>Pod or node</span>
          <select
            name="tree-target"
            value={current}
            onChange={(e) => {
              setSelected(null);
              setCollapsed(new Set());
              dispatch(actions.setTreeTarget(parseTarget(e.currentTarget.value)));
            }}
          >
            <option value="">choose…</option>
            {choices.map((c) => (
              <option key={c} value={c}>
                {c.startsWith('node:') ? `host processes on ${c.slice(5)}` : formatPod(...(splitPod(c.slice(4)) as [string, string]))}
              </option>
            ))}
          </select>
        </label>
      </ViewHeader>
      {target === null ? (
        <Empty>Choose a pod, or a node for its host processes.</Empty>
      ) : (
        <Loaded resource={tree}>
          {(roots) => {
            if (roots.length === 0) return <Empty>No processes seen in this window.</Empty>;
            const lines = processLines(roots, collapsed);
            const selectedNode = selected === null ? null : findProcess(roots, selected);
            return (
              <div class="tree-layout">
                <ul class="tree" role="tree">
                  {lines.map((line) => (
                    <li
                      key={line.node.execId}
                      role="treeitem"
                      aria-level={line.depth + 1}
                      aria-expanded={line.hasChildren ? !collapsed.has(line.node.execId) : undefined}
                      aria-selected={selected === line.node.execId}
                      class={`tree-line${selected === line.node.execId ? ' is-selected' : ''}`}
                      style={{ paddingLeft: `${line.depth * 18 + 4}px` }}
                      data-binary={line.node.binary}
                      data-depth={line.depth}
                      onClick={() => setSelected(line.node.execId)}
                    >
                      <button
                        type="button"
                        class="twisty"
                        aria-label={collapsed.has(line.node.execId) ? 'expand' : 'collapse'}
                        disabled={!line.hasChildren}
                        onClick={(e) => {
                          e.stopPropagation();
                          toggle(line.node.execId);
                        }}
                      >
                        {line.hasChildren ? (collapsed.has(line.node.execId) ? '▸' : '▾') : '·'}
                      </button>
                      <span class="mono proc-name" title={line.node.binary}>
                        {baseName(line.node.binary)}
                      </span>
                      <span class="mono muted proc-args">{line.node.args ?? ''}</span>
                      <span class="muted small">pid {line.node.pid}</span>
                      {line.node.exitCode !== null && <span class="muted small">exit {line.node.exitCode}</span>}
                      <Counts {...line.node.counts} />
                      {collapsed.has(line.node.execId) && line.subtree.processes > 1 && (
                        <span class="muted small">
                          +{line.subtree.processes - 1} below <Counts {...line.subtree} muted />
                        </span>
                      )}
                    </li>
                  ))}
                </ul>
                {selectedNode ? <ProcessEvents node={selectedNode} /> : <Empty>Select a process to see its events.</Empty>}
              </div>
            );
          }}
        </Loaded>
      )}
    </section>
  );
}

function splitPod(value: string): [string, string] {
  const slash = value.indexOf('/');
  return [value.slice(0, slash), value.slice(slash + 1)];
}
