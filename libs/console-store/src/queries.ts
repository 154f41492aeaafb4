/**
 * One query per endpoint of the console's API (libs/console-api), over the store's tables. Each takes the request's
 * filters, parsed and validated, and answers the endpoint's response body. Read-only.
 */
import type { SQLInputValue, SQLOutputValue } from 'node:sqlite';
import type {
  AgentsResponse,
  AlertsResponse,
  EgressNameRow,
  EgressResponse,
  EventsOverTimeResponse,
  EventsResponse,
  FacetsResponse,
  FileAccessQuery,
  FileAccessResponse,
  FileAccessRow,
  FileIoTotals,
  Filters,
  KillRecord,
  PodCommand,
  ProcessNode,
  ProcessTreeQuery,
  ProcessTreeResponse,
  TopFilesResponse,
  TopTalkersResponse,
} from '@stinger/console-api';
import { fileAccessOf } from '@stinger/detection';
import { openFlagNames } from './open-flags.ts';
import { alertRowOf, eventRowOf } from './records.ts';
import type { ConsoleStore } from './store.ts';

type Row = Record<string, unknown>;

interface Where {
  readonly sql: string;
  readonly params: SQLInputValue[];
}

/** LIKE pattern matching `text` anywhere, with LIKE's wildcards taken literally (ESCAPE '\'). */
const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The WHERE clause of the common filters over a table with time, namespace, pod, workload, node and binary_path.
 * `kinds`: the event kinds an endpoint is about (intersected with the filter's), or 'filter' for the filter's own;
 * null for a table without kinds.
 */
function whereOf(filters: Filters, kinds: readonly string[] | 'filter' | null, alias = ''): Where {
  const column = (name: string) => `${alias}${name}`;
  const clauses = [`${column('time')} >= ?`, `${column('time')} < ?`];
  const params: SQLInputValue[] = [filters.from, filters.to];
  for (const name of ['namespace', 'pod', 'workload', 'node'] as const) {
    const value = filters[name];
    if (value !== null) {
      clauses.push(`${column(name)} = ?`);
      params.push(value);
    }
  }
  if (filters.binary !== null) {
    clauses.push(`${column('binary_path')} LIKE ? ESCAPE '\\'`);
    params.push(containsPattern(filters.binary));
  }
  if (kinds !== null) {
    const wanted = kinds === 'filter' ? filters.kinds : filters.kinds.length === 0 ? kinds : kinds.filter((k) => filters.kinds.includes(k));
    if (kinds !== 'filter' || wanted.length > 0) {
      // An endpoint's kinds that the filter excludes entirely: no rows (`IN ()` is valid SQLite).
      clauses.push(`${column('kind')} IN (${wanted.map(() => '?').join(', ')})`);
      params.push(...wanted);
    }
  }
  return { sql: clauses.join(' AND '), params };
}

const strings = (rows: readonly Row[], column: string): string[] => rows.map((r) => r[column] as string);

export function queryFacets(store: ConsoleStore, filters: Filters): FacetsResponse {
  const window = [filters.from, filters.to];
  const distinct = (column: string, limit = 1000) =>
    strings(store.statement(`SELECT DISTINCT ${column} AS v FROM events WHERE time >= ? AND time < ? AND ${column} IS NOT NULL ORDER BY v LIMIT ${limit}`).all(...window), 'v');
  const pods = store.statement('SELECT DISTINCT namespace, pod FROM events WHERE time >= ? AND time < ? AND pod IS NOT NULL ORDER BY namespace, pod LIMIT 5000').all(...window);
  const workloads = store
    .statement('SELECT DISTINCT namespace, workload_kind, workload FROM events WHERE time >= ? AND time < ? AND workload IS NOT NULL ORDER BY namespace, workload LIMIT 5000')
    .all(...window);
  return {
    namespaces: distinct('namespace'),
    pods: pods.map((r) => ({ namespace: r['namespace'] as string, name: r['pod'] as string })),
    workloads: workloads.map((r) => ({ namespace: r['namespace'] as string, kind: (r['workload_kind'] as string | null) ?? '', name: r['workload'] as string })),
    binaries: distinct('binary_path'),
    kinds: distinct('kind'),
    nodes: distinct('node'),
    severities: strings(store.statement('SELECT DISTINCT severity AS v FROM alerts WHERE time >= ? AND time < ? ORDER BY v').all(...window), 'v'),
  };
}

export function queryEvents(store: ConsoleStore, filters: Filters): EventsResponse {
  const where = whereOf(filters, 'filter');
  const rows = store.statement(`SELECT * FROM events WHERE ${where.sql} ORDER BY time DESC, seq DESC LIMIT ?`).all(...where.params, filters.limit);
  return { events: rows.map(eventRowOf) };
}

/** The access a file event's op and flags stand for, in the contract's words. */
function accessOf(op: string, flags: number): FileAccessRow['access'] {
  const access = fileAccessOf(op, flags);
  if (access.length === 2) return 'read-write';
  return access[0] ?? 'none';
}

const KILL_OUTCOMES = ['killed', 'killed_in_kernel', 'denied_in_kernel', 'dry_run'];
const FILE_GROUP = ['path', 'namespace', 'pod', 'node', 'binary_path', 'ancestry', 'op', 'flags'] as const;
const groupKey = (row: Row): string => JSON.stringify(FILE_GROUP.map((c) => row[c]));
/** A file's close events are totalled per file, place and binary (the open's op and flags are not on a close). */
const IO_GROUP = ['path', 'namespace', 'pod', 'node', 'binary_path', 'ancestry'] as const;
const ioKey = (row: Row): string => JSON.stringify(IO_GROUP.map((c) => row[c]));

export function queryFileAccess(store: ConsoleStore, filters: Filters, query: FileAccessQuery): FileAccessResponse {
  const where = whereOf(filters, ['file'], 'e.');
  const pathClause = query.path !== null ? 'e.path = ?' : `e.path LIKE ? ESCAPE '\\'`;
  const pathParam = query.path ?? `${(query.pathPrefix ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const groups = store
    .statement(
      `SELECT ${FILE_GROUP.map((c) => `e.${c}`).join(', ')}, max(e.workload) AS workload, count(*) AS count, min(e.time) AS first_seen, max(e.time) AS last_seen
       FROM events e WHERE ${where.sql} AND ${pathClause} AND e.op IS NOT 'close'
       GROUP BY ${FILE_GROUP.map((c) => `e.${c}`).join(', ')} ORDER BY count DESC, last_seen DESC LIMIT ?`,
    )
    .all(...where.params, pathParam, filters.limit);
  // The kills of these accesses: in the kernel (the event's action) or by the pipeline (its alert's enforcement).
  const kills = new Map<string, KillRecord>();
  const killRows = store
    .statement(
      `SELECT ${FILE_GROUP.map((c) => `e.${c}`).join(', ')},
         coalesce(x.outcome, CASE e.action_kind WHEN 'sigkill' THEN 'killed_in_kernel' ELSE 'denied_in_kernel' END) AS outcome,
         coalesce(x.time, e.time) AS kill_time, coalesce(a.policy, e.action_policy) AS policy, coalesce(a.rule, e.action_rule) AS rule
       FROM events e
       LEFT JOIN alerts a ON a.event_id = e.id
       LEFT JOIN enforcements x ON x.alert_id = a.id AND x.outcome IN (${KILL_OUTCOMES.map(() => '?').join(', ')})
       WHERE ${where.sql} AND ${pathClause} AND (e.action_kind IS NOT NULL OR x.alert_id IS NOT NULL)
       ORDER BY kill_time`,
    )
    .all(...KILL_OUTCOMES, ...where.params, pathParam);
  for (const row of killRows) {
    kills.set(groupKey(row), { outcome: row['outcome'] as string, time: row['kill_time'] as number, policy: row['policy'] as string, rule: row['rule'] as string });
  }
  // What went through the opens: the close events of the same file, binary and place, whatever the open's flags.
  const ioTotals = new Map<string, FileIoTotals>();
  const ioRows = store
    .statement(
      `SELECT ${IO_GROUP.map((c) => `e.${c}`).join(', ')}, sum(e.io_read) AS io_read, sum(e.io_written) AS io_written, count(*) AS closes
       FROM events e WHERE ${where.sql} AND ${pathClause} AND e.op = 'close' AND e.io_read IS NOT NULL
       GROUP BY ${IO_GROUP.map((c) => `e.${c}`).join(', ')}`,
    )
    .all(...where.params, pathParam);
  for (const row of ioRows) {
    ioTotals.set(ioKey(row), { bytesRead: row['io_read'] as number, bytesWritten: row['io_written'] as number, closes: row['closes'] as number });
  }
  return {
    rows: groups.map((row) => {
      const op = row['op'] as string;
      const flags = row['flags'] as number;
      return {
        path: row['path'] as string,
        namespace: row['namespace'] as string | null,
        pod: row['pod'] as string | null,
        workload: row['workload'] as string | null,
        node: row['node'] as string,
        binary: row['binary_path'] as string,
        ancestry: JSON.parse(row['ancestry'] as string) as string[],
        op,
        flags: openFlagNames(op, flags),
        access: accessOf(op, flags),
        count: row['count'] as number,
        firstSeen: row['first_seen'] as number,
        lastSeen: row['last_seen'] as number,
        kill: kills.get(groupKey(row)) ?? null,
        io: ioTotals.get(ioKey(row)) ?? null,
      };
    }),
  };
}

/**
 * Outbound: connect events and flows to an address, unix sockets aside. Connections: the connect events, or the flows'
 * sockets where there are more (connects are reported only when watched; every connected socket has a flow).
 */
export function queryEgress(store: ConsoleStore, filters: Filters): EgressResponse {
  const where = whereOf(filters, ['connect', 'flow']);
  const group = 'namespace, pod, node, binary_path, args, ancestry, protocol, daddr, dport';
  const rows = store
    .statement(
      `SELECT ${group}, max(workload) AS workload, max(sum(kind = 'connect'), count(DISTINCT CASE WHEN kind = 'flow' THEN socket_cookie END)) AS connections,
         sum(bytes) AS bytes, min(time) AS first_seen, max(time) AS last_seen
       FROM events WHERE ${where.sql} AND daddr IS NOT NULL AND family IS NOT 'unix'
       GROUP BY ${group} ORDER BY connections DESC, last_seen DESC LIMIT ?`,
    )
    .all(...where.params, filters.limit);
  return {
    rows: rows.map((row) => ({
      ...podCommandOf(row),
      protocol: row['protocol'] as string,
      daddr: row['daddr'] as string,
      dport: row['dport'] as number | null,
      connections: row['connections'] as number,
      bytes: row['bytes'] as number | null,
      firstSeen: row['first_seen'] as number,
      lastSeen: row['last_seen'] as number,
    })),
    names: queryEgressNames(store, filters),
  };
}

/** The pod and command columns the egress queries group by (workload: the group's). */
function podCommandOf(row: Record<string, SQLOutputValue>): PodCommand {
  return {
    namespace: row['namespace'] as string | null,
    pod: row['pod'] as string | null,
    workload: row['workload'] as string | null,
    node: row['node'] as string,
    binary: row['binary_path'] as string,
    args: row['args'] as string | null,
    ancestry: JSON.parse(row['ancestry'] as string) as string[],
  };
}

/** Destinations listed per name row; the rest are counted in `count` only. */
const NAME_DESTINATIONS_MAX = 5;

/** The columns a name row is grouped by. */
const NAME_GROUP = ['namespace', 'pod', 'node', 'binary_path', 'args', 'ancestry', 'egress_app', 'egress_name'] as const;

/** Egress events grouped by pod, command, application and name, with the traffic of the sockets behind them. */
function queryEgressNames(store: ConsoleStore, filters: Filters): EgressNameRow[] {
  const where = whereOf(filters, ['egress']);
  const group = NAME_GROUP.join(', ');
  const rows = store
    .statement(
      `SELECT ${group}, max(workload) AS workload, count(*) AS count, sum(bytes) AS bytes, json_group_array(DISTINCT daddr) AS destinations,
         sum(json_extract(detail, '$.egress.parse') IS NOT 'ok') AS incomplete, min(time) AS first_seen, max(time) AS last_seen
       FROM events WHERE ${where.sql} AND egress_name IS NOT NULL
       GROUP BY ${group} ORDER BY count DESC, last_seen DESC LIMIT ?`,
    )
    .all(...where.params, filters.limit);
  // Each socket once per name row (a resolver socket sends many queries), with its flow rows' sum: its totals.
  const flows = store
    .statement(
      `SELECT ${group}, count(*) AS sockets,
         sum((SELECT sum(f.bytes_sent) FROM events f WHERE f.kind = 'flow' AND f.node = g.node AND f.socket_cookie = g.socket_cookie)) AS sent,
         sum((SELECT sum(f.bytes_received) FROM events f WHERE f.kind = 'flow' AND f.node = g.node AND f.socket_cookie = g.socket_cookie)) AS received
       FROM (SELECT DISTINCT ${group}, socket_cookie FROM events WHERE ${where.sql} AND egress_name IS NOT NULL AND socket_cookie IS NOT NULL) g
       GROUP BY ${group}`,
    )
    .all(...where.params);
  const nameKey = (row: Record<string, SQLOutputValue>): string => JSON.stringify(NAME_GROUP.map((column) => row[column]));
  const traffic = new Map(flows.map((row) => [nameKey(row), { sent: row['sent'] as number | null, received: row['received'] as number | null }]));
  return rows.map((row) => ({
    ...podCommandOf(row),
    application: row['egress_app'] as string,
    name: row['egress_name'] as string,
    destinations: (JSON.parse(row['destinations'] as string) as string[]).slice(0, NAME_DESTINATIONS_MAX),
    count: row['count'] as number,
    bytes: (row['bytes'] as number | null) ?? 0,
    bytesSent: traffic.get(nameKey(row))?.sent ?? null,
    bytesReceived: traffic.get(nameKey(row))?.received ?? null,
    incomplete: row['incomplete'] as number,
    firstSeen: row['first_seen'] as number,
    lastSeen: row['last_seen'] as number,
  }));
}

/** Event kinds counted as a process's network and privilege events (file: kind file). */
const NETWORK_KINDS = ['connect', 'accept', 'listen', 'bind', 'flow', 'egress'];
const PRIVILEGE_KINDS = ['privilege', 'capset', 'namespace', 'module', 'ptrace', 'bpf', 'mount'];
const EVENTS_PER_PROCESS = 50;

/**
 * The processes of one pod (or a node's host processes) seen within the window, as trees by parent: a process whose
 * parent is not among them is a root. At most `limit` processes, the most recently seen.
 */
export function queryProcessTree(store: ConsoleStore, filters: Filters, query: ProcessTreeQuery): ProcessTreeResponse {
  const scope =
    query.pod !== null
      ? { sql: 'namespace = ? AND pod = ?', params: [query.namespace, query.pod] as SQLInputValue[] }
      : { sql: 'namespace IS NULL AND node = ?', params: [query.node] as SQLInputValue[] };
  const processes = store
    .statement(`SELECT * FROM processes WHERE ${scope.sql} AND last_seen >= ? AND start < ? ORDER BY last_seen DESC LIMIT ?`)
    .all(...scope.params, filters.from, filters.to, filters.limit);
  type Counts = { -readonly [K in keyof ProcessNode['counts']]: number };
  type TreeNode = Omit<ProcessNode, 'counts'> & { children: ProcessNode[]; events: ProcessNode['events']; counts: Counts };
  const nodes = new Map<string, TreeNode>();
  for (const row of processes) {
    nodes.set(row['exec_id'] as string, {
      pid: row['pid'] as number,
      execId: row['exec_id'] as string,
      binary: row['binary_path'] as string,
      args: row['args'] as string | null,
      start: row['start'] as number,
      exitCode: row['exit_code'] as number | null,
      children: [],
      counts: { file: 0, network: 0, privilege: 0 },
      events: [],
    });
  }
  // Each listed process's own events, by the exec index: the cost follows the processes shown, not the pod's traffic.
  const where = whereOf({ ...filters, namespace: null, pod: null, node: null }, 'filter');
  const latest = store.statement(`SELECT * FROM events WHERE exec_id = ? AND ${where.sql} ORDER BY time DESC LIMIT ${EVENTS_PER_PROCESS}`);
  for (const [execId, node] of nodes) for (const row of latest.all(execId, ...where.params)) node.events.push(eventRowOf(row));
  const counts = store
    .statement(`SELECT exec_id, kind, count(*) AS n FROM events WHERE exec_id IN (SELECT value FROM json_each(?)) AND ${where.sql} GROUP BY exec_id, kind`)
    .all(JSON.stringify([...nodes.keys()]), ...where.params);
  for (const row of counts) {
    const node = nodes.get(row['exec_id'] as string);
    if (node === undefined) continue;
    const kind = row['kind'] as string;
    const n = row['n'] as number;
    const bucket = kind === 'file' ? 'file' : NETWORK_KINDS.includes(kind) ? 'network' : PRIVILEGE_KINDS.includes(kind) ? ('privilege' as const) : null;
    if (bucket !== null) node.counts[bucket] += n;
  }
  // A forked child that then called exec is one process, the program it ran: the agent names the child by the exec id
  // it carries until its exec, then the program by its own, both with the same pid and parent. The earlier image
  // folds into the latest (its events, counts and any children forked before the exec).
  const images = new Map<string, TreeNode[]>();
  for (const row of processes) {
    const key = `${(row['parent_exec_id'] as string | null) ?? ''}|${row['pid'] as number}`;
    images.set(key, [...(images.get(key) ?? []), nodes.get(row['exec_id'] as string)!]);
  }
  // Which image is the program: the one with an exec event of its own, then the later start, then the later last
  // sighting (a fork and its exec often fall in the same millisecond, so start alone ties).
  const lastSeen = new Map(processes.map((row) => [row['exec_id'] as string, row['last_seen'] as number]));
  const execOf = store.statement(`SELECT 1 FROM events WHERE exec_id = ? AND kind = 'exec' LIMIT 1`);
  const programRank = (node: TreeNode): [number, number, number] => [execOf.get(node.execId) === undefined ? 0 : 1, node.start, lastSeen.get(node.execId) ?? 0];
  const byProgramRank = (a: TreeNode, b: TreeNode): number => {
    const [ra, rb] = [programRank(a), programRank(b)];
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
  };
  const replacedBy = new Map<string, string>();
  for (const sameProcess of images.values()) {
    if (sameProcess.length < 2) continue;
    sameProcess.sort(byProgramRank);
    const program = sameProcess.at(-1)!;
    for (const image of sameProcess.slice(0, -1)) {
      program.events.push(...image.events);
      program.counts.file += image.counts.file;
      program.counts.network += image.counts.network;
      program.counts.privilege += image.counts.privilege;
      nodes.delete(image.execId);
      replacedBy.set(image.execId, program.execId);
    }
    program.events.sort((a, b) => b.time - a.time);
    program.events.splice(EVENTS_PER_PROCESS);
  }
  const roots: ProcessNode[] = [];
  for (const row of processes) {
    const node = nodes.get(row['exec_id'] as string);
    if (node === undefined) continue;
    const parentId = (row['parent_exec_id'] as string | null) ?? '';
    const parent = nodes.get(replacedBy.get(parentId) ?? parentId);
    if (parent !== undefined && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: ProcessNode, b: ProcessNode) => a.start - b.start;
  for (const node of nodes.values()) node.children.sort(byStart);
  return { roots: roots.sort(byStart) };
}

export function queryAlerts(store: ConsoleStore, filters: Filters): AlertsResponse {
  const where = whereOf(filters, null, 'a.');
  let severity = '';
  if (filters.severities.length > 0) severity = ` AND a.severity IN (${filters.severities.map(() => '?').join(', ')})`;
  const rows = store
    .statement(
      `SELECT a.*, x.outcome AS e_outcome, x.reason AS e_reason, x.time AS e_time FROM alerts a LEFT JOIN enforcements x ON x.alert_id = a.id
       WHERE ${where.sql}${severity} ORDER BY a.time DESC LIMIT ?`,
    )
    .all(...where.params, ...filters.severities, filters.limit);
  return { alerts: rows.map(alertRowOf) };
}

/** Window of the events-per-second figure of an agent that has not reported its own. */
const RATE_WINDOW_MS = 60_000;

/**
 * Every node seen within the retention (or the one `node` names): its agent's own health report when one arrived,
 * else what its events show.
 */
export function queryAgents(store: ConsoleStore, now: number, node: string | null = null): AgentsResponse {
  const rows = store.statement('SELECT * FROM agents WHERE ? IS NULL OR node = ? ORDER BY node').all(node, node);
  const rate = store.statement('SELECT count(*) AS n FROM events WHERE node = ? AND time >= ? AND time < ?');
  return {
    agents: rows.map((row) => {
      const health = row['health'] === null ? null : (JSON.parse(row['health'] as string) as Record<string, unknown>);
      const seen = rate.get(row['node'] as string, now - RATE_WINDOW_MS, now)?.['n'] as number;
      return {
        node: row['node'] as string,
        agentId: row['agent_id'] as string | null,
        lastSeen: row['last_seen'] as number,
        eventsPerSecond: (health?.['eventsPerSecond'] as number | null | undefined) ?? seen / (RATE_WINDOW_MS / 1000),
        lost: (health?.['lost'] ?? null) as AgentsResponse['agents'][number]['lost'],
        spool: (health?.['spool'] ?? null) as AgentsResponse['agents'][number]['spool'],
        sensors: (health?.['sensors'] ?? null) as AgentsResponse['agents'][number]['sensors'],
        kernelFeatures: (health?.['kernelFeatures'] ?? null) as AgentsResponse['agents'][number]['kernelFeatures'],
      };
    }),
  };
}

const CHART_BUCKETS = 60;

export function queryEventsOverTime(store: ConsoleStore, filters: Filters): EventsOverTimeResponse {
  const bucketMs = Math.max(1000, Math.ceil((filters.to - filters.from) / CHART_BUCKETS / 1000) * 1000);
  const where = whereOf(filters, 'filter');
  const rows = store.statement(`SELECT (time - ?) / ? AS bucket, kind, count(*) AS n FROM events WHERE ${where.sql} GROUP BY bucket, kind`).all(filters.from, bucketMs, ...where.params);
  const count = Math.ceil((filters.to - filters.from) / bucketMs);
  const buckets = Array.from({ length: count }, (_, i) => ({ time: filters.from + i * bucketMs, counts: {} as Record<string, number> }));
  for (const row of rows) {
    const bucket = buckets[Math.floor(row['bucket'] as number)];
    if (bucket !== undefined) bucket.counts[row['kind'] as string] = row['n'] as number;
  }
  return { bucketMs, buckets };
}

export function queryTopFiles(store: ConsoleStore, filters: Filters): TopFilesResponse {
  const where = whereOf(filters, ['file']);
  const rows = store
    .statement(
      `SELECT path, count(*) AS count, count(DISTINCT coalesce(namespace || '/' || pod, node)) AS pods FROM events WHERE ${where.sql} AND path IS NOT NULL
       GROUP BY path ORDER BY count DESC LIMIT ?`,
    )
    .all(...where.params, filters.limit);
  return { rows: rows.map((r) => ({ path: r['path'] as string, count: r['count'] as number, pods: r['pods'] as number })) };
}

export function queryTopTalkers(store: ConsoleStore, filters: Filters): TopTalkersResponse {
  const where = whereOf(filters, ['connect', 'flow']);
  const rows = store
    .statement(
      `SELECT namespace, pod, binary_path, sum(kind = 'connect') AS connections, sum(bytes) AS bytes FROM events
       WHERE ${where.sql} AND daddr IS NOT NULL AND family IS NOT 'unix' GROUP BY namespace, pod, binary_path ORDER BY connections DESC, bytes DESC LIMIT ?`,
    )
    .all(...where.params, filters.limit);
  return {
    rows: rows.map((r) => ({
      namespace: r['namespace'] as string | null,
      pod: r['pod'] as string | null,
      binary: r['binary_path'] as string,
      connections: r['connections'] as number,
      bytes: r['bytes'] as number | null,
    })),
  };
}
