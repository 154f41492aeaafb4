/**
 * Which match fields each rule event accepts, and what kind of value each field holds. The validator, the
 * compiler and the CRD schema all read these tables, so a field added here is accepted, compiled and published
 * together.
 */
import {
  CAPABILITIES,
  FILE_ACCESSES,
  FILE_OP_SYMBOLS,
  MODULE_OP_SYMBOLS,
  MOUNT_OP_SYMBOLS,
  NAMESPACE_OP_SYMBOLS,
  NAMESPACE_TYPES,
  type MatchField,
  type RuleEvent,
} from './policy-types.ts';

/**
 * - `path-match`: StringMatch whose equal/prefix values are absolute paths (normalised; suffixes are free text);
 * - `string-match`: StringMatch of free text;
 * - `symbols`: list of names from a closed set (`symbolsOf`) or matching `pattern`;
 * - `cidrs`: list of IPv4/IPv6 CIDRs or bare addresses;
 * - `ports`: list of ports 1-65535 or ranges "low-high";
 * - `ids`: list of uids 0-4294967294 or ranges "low-high";
 * - `digests`: list of SHA-256 digests, 64 hex digits (normalised to lower case).
 */
export type MatchFieldKind = 'path-match' | 'string-match' | 'symbols' | 'cidrs' | 'ports' | 'ids' | 'digests';

export interface MatchFieldDefinition {
  readonly kind: MatchFieldKind;
  readonly description: string;
  /** For `symbols` with an open set: the pattern each name must match. */
  readonly pattern?: RegExp;
  readonly patternDescription?: string;
}

export const MATCH_FIELDS: Readonly<Record<MatchField, MatchFieldDefinition>> = {
  binary: { kind: 'path-match', description: 'Executable of the acting process (for exec: the new image).' },
  parentBinary: { kind: 'path-match', description: "Executable of the acting process's parent." },
  uid: { kind: 'ids', description: 'Real uid of the acting process: uids or ranges "low-high".' },
  path: { kind: 'path-match', description: 'file: the file; mount: the mount point.' },
  op: { kind: 'symbols', description: 'Operation; the names depend on the event.' },
  daddr: { kind: 'cidrs', description: 'Remote address: IPv4/IPv6 CIDRs or addresses.' },
  dport: { kind: 'ports', description: 'Remote port: ports or ranges "low-high".' },
  sport: { kind: 'ports', description: 'Local port: ports or ranges "low-high".' },
  toUid: { kind: 'ids', description: 'privilege: any uid the set*uid call asks for.' },
  capabilities: { kind: 'symbols', description: 'CAP_* capability names.' },
  namespaces: { kind: 'symbols', description: 'Namespace types: cgroup, ipc, mnt, net, pid, time, user, uts.' },
  name: { kind: 'string-match', description: 'module: module name.' },
  fstype: {
    kind: 'symbols',
    description: 'mount: filesystem type, e.g. overlay, proc.',
    pattern: /^[a-z0-9][a-z0-9._-]*$/,
    patternDescription: 'a filesystem type name (lower-case letters, digits, ".", "_", "-")',
  },
  request: {
    kind: 'symbols',
    description: 'ptrace: request names, e.g. PTRACE_ATTACH.',
    pattern: /^PTRACE_[A-Z0-9_]+$/,
    patternDescription: 'a PTRACE_* request name',
  },
  command: {
    kind: 'symbols',
    description: 'bpf: command names, e.g. BPF_PROG_LOAD.',
    pattern: /^BPF_[A-Z0-9_]+$/,
    patternDescription: 'a BPF_* command name',
  },
  access: { kind: 'symbols', description: 'file: read and/or write, from the open flags (write: O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND).' },
  sha256: { kind: 'digests', description: "exec: SHA-256 digests of the executable's content (64 hex digits); a copy of a binary has the same digest." },
  dnsName: { kind: 'string-match', description: 'egress: DNS query name, e.g. suffix ".onion" (compared in lower case, without a trailing dot).' },
  serverName: { kind: 'string-match', description: 'egress: server name (SNI) of a TLS ClientHello (compared in lower case).' },
  httpHost: { kind: 'string-match', description: 'egress: Host header of an HTTP/1.x request (compared in lower case).' },
};

/** Fields holding DNS names: the validator lower-cases their values and drops a trailing dot, as the agent does. */
export const HOST_NAME_FIELDS: ReadonlySet<MatchField> = new Set(['dnsName', 'serverName', 'httpHost']);

export const ALL_MATCH_FIELDS = Object.keys(MATCH_FIELDS) as MatchField[];

/** Fields about the acting process, accepted by every event. */
const PROCESS_FIELDS: readonly MatchField[] = ['binary', 'parentBinary', 'uid'];

/** Match fields `event` accepts, in documentation order. */
export function matchFieldsOf(event: RuleEvent): readonly MatchField[] {
  switch (event) {
    case 'exec':
      return [...PROCESS_FIELDS, 'sha256'];
    case 'file':
      return [...PROCESS_FIELDS, 'path', 'op', 'access'];
    case 'connect':
    case 'accept':
      return [...PROCESS_FIELDS, 'daddr', 'dport', 'sport'];
    case 'listen':
      return [...PROCESS_FIELDS, 'sport'];
    case 'privilege':
      return [...PROCESS_FIELDS, 'toUid', 'capabilities'];
    case 'capset':
      return [...PROCESS_FIELDS, 'capabilities'];
    case 'namespace':
      return [...PROCESS_FIELDS, 'namespaces', 'op'];
    case 'module':
      return [...PROCESS_FIELDS, 'name', 'op'];
    case 'ptrace':
      return [...PROCESS_FIELDS, 'request'];
    case 'bpf':
      return [...PROCESS_FIELDS, 'command'];
    case 'mount':
      return [...PROCESS_FIELDS, 'path', 'fstype', 'op'];
    case 'egress':
      return [...PROCESS_FIELDS, 'daddr', 'dport', 'dnsName', 'serverName', 'httpHost'];
  }
}

/**
 * The closed set of names a `symbols` field takes for `event`; null when the field is open (checked by its
 * pattern). Only called for fields `matchFieldsOf(event)` accepts.
 */
export function symbolsOf(field: MatchField, event: RuleEvent): readonly string[] | null {
  if (field === 'capabilities') return CAPABILITIES;
  if (field === 'namespaces') return NAMESPACE_TYPES;
  if (field === 'access') return FILE_ACCESSES;
  if (field !== 'op') return null;
  switch (event) {
    case 'file':
      return FILE_OP_SYMBOLS;
    case 'namespace':
      return NAMESPACE_OP_SYMBOLS;
    case 'module':
      return MODULE_OP_SYMBOLS;
    case 'mount':
      return MOUNT_OP_SYMBOLS;
    case 'exec':
    case 'connect':
    case 'accept':
    case 'listen':
    case 'privilege':
    case 'capset':
    case 'ptrace':
    case 'bpf':
    case 'egress':
      return [];
  }
}
