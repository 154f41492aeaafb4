/**
 * Rows grouped under their pod (host processes under their node), the way the file-access and egress views list
 * them: groups in first-appearance order of the server's ranking, rows within a group unchanged. Pure.
 */

export interface PodKeyed {
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly node: string;
}

export interface PodGroup<T> {
  /** `namespace/pod`, or `host:<node>`. */
  readonly key: string;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly node: string;
  readonly rows: readonly T[];
}

export function podKey(row: PodKeyed): string {
  return row.pod ? `${row.namespace ?? ''}/${row.pod}` : `host:${row.node}`;
}

export function groupByPod<T extends PodKeyed>(rows: readonly T[]): PodGroup<T>[] {
  const groups = new Map<string, { namespace: string | null; pod: string | null; node: string; rows: T[] }>();
  for (const row of rows) {
    const key = podKey(row);
    let group = groups.get(key);
    if (!group) {
      group = { namespace: row.namespace, pod: row.pod, node: row.node, rows: [] };
      groups.set(key, group);
    }
    group.rows.push(row);
  }
  return [...groups].map(([key, group]) => ({ key, ...group }));
}

/** Adds up one numeric field over rows; null values count as 0, and the sum is null only when every value is. */
export function sumOf<T>(rows: readonly T[], value: (row: T) => number | null): number | null {
  let total: number | null = null;
  for (const row of rows) {
    const v = value(row);
    if (v !== null) total = (total ?? 0) + v;
  }
  return total;
}
