/**
 * Rows listed under their pod (host rows under their node): a heading with the pod, its workload and node and a
 * one-line summary, then one table per pod. Shared by the file-access and egress views.
 */
import type { ComponentChildren } from 'preact';
import { groupByPod, type PodKeyed } from '../domain/grouping.ts';
import { formatPod } from '../domain/format.ts';
import { actions } from '../store/state.ts';
import { Time } from './common.tsx';
import { useDispatch } from './store-context.ts';

export function PodGroups<T extends PodKeyed & { readonly workload: string | null; readonly binary: string }>(props: {
  rows: readonly T[];
  summary: (rows: readonly T[]) => string;
  columns: readonly string[];
  cells: (row: T) => ComponentChildren;
}) {
  const dispatch = useDispatch();
  const openTree = (target: { namespace: string; pod: string } | { node: string }) => {
    dispatch(actions.setTreeTarget(target));
    dispatch(actions.navigate('tree'));
  };
  return (
    <>
      {groupByPod(props.rows).map((group) => (
        <div class="group" key={group.key} data-pod={group.pod ?? ''} data-namespace={group.namespace ?? ''}>
          <h2 class="group-title">
            <span class="mono">{group.pod ? formatPod(group.namespace, group.pod) : `host ${group.node}`}</span>
            <span class="muted">
              {group.rows[0]?.workload ? `${group.rows[0].workload} · ` : ''}node {group.node} · {props.summary(group.rows)}
            </span>
            <button
              type="button"
              class="link"
              onClick={() => openTree(group.pod ? { namespace: group.namespace ?? '', pod: group.pod } : { node: group.node })}
            >
              process tree →
            </button>
          </h2>
          <table class="table">
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th key={c} class={c === 'count' || c === 'conns' || c === 'bytes' ? 'num' : ''}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {group.rows.map((row, i) => (
                <tr key={i} data-binary={row.binary}>
                  {props.cells(row)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

/** The first-seen and last-seen cells every grouped row ends with. */
export function SeenCells(props: { firstSeen: number; lastSeen: number }) {
  return (
    <>
      <td class="nowrap">
        <Time ms={props.firstSeen} />
      </td>
      <td class="nowrap">
        <Time ms={props.lastSeen} />
      </td>
    </>
  );
}
