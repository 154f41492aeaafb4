/**
 * The console's HTTP API, v1: what each endpoint answers. Shared by the server (services/console, libs/console-store)
 * and the page (services/console/web), so this file holds types and constants only and imports nothing: the browser
 * bundle imports it as it is.
 *
 * Every endpoint is GET under /api/v1, answers JSON, and takes the common filters (`filters.ts`). Times are ms since
 * the epoch. An error is `{error}` with status 400 (a bad parameter, named), 401 (token), 404 or 500.
 */

/** The endpoints, by what they answer. */
export const API_PATHS = {
  facets: '/api/v1/facets',
  events: '/api/v1/events',
  stream: '/api/v1/stream',
  fileAccess: '/api/v1/file-access',
  egress: '/api/v1/egress',
  processTree: '/api/v1/process-tree',
  alerts: '/api/v1/alerts',
  agents: '/api/v1/agents',
  eventsOverTime: '/api/v1/charts/events-over-time',
  topFiles: '/api/v1/charts/top-files',
  topTalkers: '/api/v1/charts/top-talkers',
} as const;
export type ApiPath = (typeof API_PATHS)[keyof typeof API_PATHS];

/** Event kinds (the Event schema's EventKind symbols). */
export const EVENT_KINDS = ['exec', 'exit', 'fork', 'file', 'connect', 'accept', 'listen', 'bind', 'flow', 'privilege', 'capset', 'namespace', 'module', 'ptrace', 'bpf', 'mount', 'egress'] as const;
export type EventKindName = (typeof EVENT_KINDS)[number];
/** Alert severities, lowest first (the Alert schema's Severity symbols). */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type SeverityName = (typeof SEVERITIES)[number];

export interface ErrorBody {
  readonly error: string;
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

export interface WorkloadRef {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
}

/** GET /api/v1/facets: the values present within the window, for the filter pickers. */
export interface FacetsResponse {
  readonly namespaces: string[];
  readonly pods: PodRef[];
  readonly workloads: WorkloadRef[];
  readonly binaries: string[];
  readonly kinds: string[];
  readonly nodes: string[];
  readonly severities: string[];
}

/** One event. `namespace`, `pod`, `workload` and `container` are null for host processes. */
export interface EventRow {
  readonly id: string;
  readonly time: number;
  readonly node: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly workload: string | null;
  readonly container: string | null;
  readonly pid: number;
  readonly binary: string;
  /** The arguments after argv[0], space-separated (quoted where needed); null when there were none. */
  readonly args: string | null;
  readonly parentBinary: string | null;
  /** Binaries of the ancestors, nearest parent first, as far as known. */
  readonly ancestry: string[];
  /** One readable line, like `stinger events -o compact`. */
  readonly summary: string;
  /** The decoded event as JSON (the event-model names of `stinger events -o json`). */
  readonly detail: Record<string, unknown>;
}

/** GET /api/v1/events: newest first. */
export interface EventsResponse {
  readonly events: EventRow[];
}

/** What the pipeline did about an alert (stinger.enforcements). */
export interface EnforcementOutcome {
  readonly outcome: string;
  readonly reason: string | null;
  readonly time: number;
}

export interface AlertRow {
  readonly id: string;
  readonly time: number;
  readonly severity: string;
  readonly policy: string;
  readonly rule: string;
  readonly message: string;
  readonly mode: string;
  readonly action: string;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly node: string;
  readonly binary: string;
  readonly pid: number;
  readonly count: number;
  readonly tags: string[];
  /** null while no outcome is known. */
  readonly enforcement: EnforcementOutcome | null;
}

/** GET /api/v1/alerts: newest first. */
export interface AlertsResponse {
  readonly alerts: AlertRow[];
}

/** The `data` of an `event: enforcement` message of the stream. */
export interface EnforcementMessage {
  readonly alertId: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly time: number;
}

/** Server-Sent Event names of GET /api/v1/stream; the data of each is EventRow, AlertRow, EnforcementMessage. */
export const STREAM_EVENTS = ['event', 'alert', 'enforcement'] as const;

/** A kill the pipeline or the kernel carried out on an access. */
export interface KillRecord {
  /** e.g. killed_in_kernel, denied_in_kernel, killed, dry_run. */
  readonly outcome: string;
  readonly time: number;
  readonly policy: string;
  readonly rule: string;
}

/** One row per (pod or host, binary, ancestry, op, flags) that accessed the path. */
export interface FileAccessRow {
  readonly path: string;
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly workload: string | null;
  readonly node: string;
  readonly binary: string;
  readonly ancestry: string[];
  /** The file operation, e.g. open, unlink, rename. */
  readonly op: string;
  /** Its flags as names, e.g. "O_RDONLY|O_CLOEXEC"; "" when none apply. */
  readonly flags: string;
  readonly access: 'read' | 'write' | 'read-write' | 'none';
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** The latest kill of such an access, if there was one. */
  readonly kill: KillRecord | null;
  /**
   * What went through this binary's opens of this file (in this pod, with this ancestry), from the agent's close
   * events: bytes read and written, over how many opens closed. Null when no close was reported (the file is not
   * watched by a rule, or no open has closed yet). The same for every row of one file and binary.
   */
  readonly io: FileIoTotals | null;
}

export interface FileIoTotals {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly closes: number;
}

/** GET /api/v1/file-access?path=… (or pathPrefix=…): most frequent first. */
export interface FileAccessResponse {
  readonly rows: FileAccessRow[];
}

/** A pod (or host: namespace and pod null) and a command in it, as the egress rows are grouped. */
export interface PodCommand {
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly workload: string | null;
  readonly node: string;
  readonly binary: string;
  readonly args: string | null;
  readonly ancestry: string[];
}

/** Outbound connections of one pod (or host) and command to one destination. */
export interface EgressRow extends PodCommand {
  readonly protocol: string;
  readonly daddr: string;
  readonly dport: number | null;
  /** connect events, or the sockets of the flows seen where there are more (connects are reported only when watched). */
  readonly connections: number;
  /** Bytes sent plus received of the flows seen (flow events, each socket once); null when no flow carried a count. */
  readonly bytes: number | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/**
 * Names one pod (or host) and command asked for on its way out, as the agent's egress parser read them: DNS query
 * names, TLS server names (SNI), HTTP Host headers.
 */
export interface EgressNameRow extends PodCommand {
  /** dns (resolved), tls or http (contacted). */
  readonly application: string;
  readonly name: string;
  /** Addresses the packets went to (the resolver for dns), at most a few. */
  readonly destinations: string[];
  /** Queries (dns) or connections (tls, http). */
  readonly count: number;
  /** Bytes of the queries or first requests read (not the connections' whole traffic). */
  readonly bytes: number;
  /**
   * The whole traffic of the sockets that asked for the name (their flow events, joined on node and socket cookie):
   * bytes sent and received, network layer, so far. A socket that asked for several names (a resolver socket)
   * counts toward each. null while no flow of those sockets is stored (still open and younger than the agent's
   * flow interval, or written by an agent without flow records).
   */
  readonly bytesSent: number | null;
  readonly bytesReceived: number | null;
  /** Records whose fields could not all be read (truncated, fragmented, malformed). */
  readonly incomplete: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** GET /api/v1/egress: connections, most first; names, most asked for first. */
export interface EgressResponse {
  readonly rows: EgressRow[];
  readonly names: EgressNameRow[];
}

export interface ProcessEventCounts {
  readonly file: number;
  readonly network: number;
  readonly privilege: number;
}

export interface ProcessNode {
  readonly pid: number;
  readonly execId: string;
  readonly binary: string;
  readonly args: string | null;
  /** First time the process was seen (its exec, when seen). */
  readonly start: number;
  /** null while running or when its exit was not seen. */
  readonly exitCode: number | null;
  readonly children: ProcessNode[];
  readonly counts: ProcessEventCounts;
  /** Its events within the window, newest first, at most 50. */
  readonly events: EventRow[];
}

/** GET /api/v1/process-tree?namespace=…&pod=… (or node=… for host processes). */
export interface ProcessTreeResponse {
  readonly roots: ProcessNode[];
}

export interface LostRecords {
  readonly cause: string;
  readonly sensor: string;
  readonly count: number;
}

export interface SensorState {
  readonly name: string;
  readonly state: string;
  readonly reason: string | null;
}

/** One node's agent; fields the agent has not reported (no AgentHealth record yet) are null. */
export interface AgentRow {
  readonly node: string;
  readonly agentId: string | null;
  /** Last event or health report from the node. */
  readonly lastSeen: number;
  readonly eventsPerSecond: number | null;
  readonly lost: LostRecords[] | null;
  readonly spool: { readonly mode: string; readonly spooledBytes: number | null } | null;
  readonly sensors: SensorState[] | null;
  readonly kernelFeatures: Record<string, boolean> | null;
}

/** GET /api/v1/agents. */
export interface AgentsResponse {
  readonly agents: AgentRow[];
}

/** GET /api/v1/charts/events-over-time: about 60 buckets over the window, oldest first; `time` is a bucket's start. */
export interface EventsOverTimeResponse {
  readonly bucketMs: number;
  readonly buckets: { readonly time: number; readonly counts: Record<string, number> }[];
}

/** GET /api/v1/charts/top-files. */
export interface TopFilesResponse {
  readonly rows: { readonly path: string; readonly count: number; readonly pods: number }[];
}

/** GET /api/v1/charts/top-talkers. */
export interface TopTalkersResponse {
  readonly rows: { readonly namespace: string | null; readonly pod: string | null; readonly binary: string; readonly connections: number; readonly bytes: number | null }[];
}
