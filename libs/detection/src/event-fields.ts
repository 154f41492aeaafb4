/**
 * The values an enriched Event holds for each policy match field, as the detector compares them. One table for
 * every consumer of match semantics (the detector's rules, the enforcer's re-check), so a field means the same
 * thing wherever it is read. Numbers are returned as numbers, names and paths as strings; a field the event does
 * not carry yields no values, and a condition on it never holds.
 */
import type { Event, Process } from '@stinger/events';
import { CAPABILITIES, type MatchField } from '@stinger/policy';

export type FieldValue = string | number;

const O_ACCMODE = 0o3;
const O_PATH = 0o10000000;
const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const WRITE_FLAGS = 0o100 /* O_CREAT */ | 0o1000 /* O_TRUNC */ | 0o2000; /* O_APPEND */

/**
 * read/write intent of a file event: open by its flags (O_PATH: neither — it only names the file, as `cp` probing its
 * target does), read as read, close as neither (its access was its open's), every other operation (unlink, rename,
 * chmod, …) writes.
 */
export function fileAccessOf(op: string, flags: number): ('read' | 'write')[] {
  if (op === 'read') return ['read'];
  if (op === 'close') return []; // the access was the open's
  if (op !== 'open') return ['write'];
  if ((flags & O_PATH) !== 0) return [];
  const mode = flags & O_ACCMODE;
  const access: ('read' | 'write')[] = [];
  if (mode === 0 || mode === O_RDWR) access.push('read');
  if (mode === O_WRONLY || mode === O_RDWR || (flags & WRITE_FLAGS) !== 0) access.push('write');
  return access;
}

function capabilityNames(mask: bigint): string[] {
  const names: string[] = [];
  CAPABILITIES.forEach((name, bit) => {
    if ((mask >> BigInt(bit)) & 1n) names.push(name);
  });
  return names;
}

const binaryOf = (process: Process | null): FieldValue[] => (process === null ? [] : [process.binary]);

/** The values `event` holds for `field` (empty when it holds none). */
export function fieldValues(event: Event, field: MatchField): readonly FieldValue[] {
  const { payload } = event;
  switch (field) {
    case 'binary':
      return binaryOf(event.process);
    case 'parentBinary':
      return binaryOf(event.parent);
    case 'uid':
      return [Number(event.process.uid)];
    case 'path':
      if (payload.group === 'file') {
        // The resolved path is what was reached (symlinks followed); the given one is what the kernel matched.
        return payload.path_as_given.startsWith('/') && payload.path_as_given !== payload.path ? [payload.path, payload.path_as_given] : [payload.path];
      }
      return payload.group === 'mount' ? [payload.target] : [];
    case 'op':
      return payload.group === 'file' || payload.group === 'namespace' || payload.group === 'module' || payload.group === 'mount' ? [payload.op] : [];
    case 'access':
      return payload.group === 'file' ? fileAccessOf(payload.op, payload.flags) : [];
    case 'daddr':
      if (payload.group === 'egress') return [payload.daddr];
      return payload.group === 'network' && payload.daddr !== null ? [payload.daddr] : [];
    case 'dport':
      if (payload.group === 'egress') return [payload.dport];
      return payload.group === 'network' && payload.dport !== null ? [payload.dport] : [];
    case 'sport':
      return payload.group === 'network' && payload.sport !== null ? [payload.sport] : [];
    case 'toUid':
      return payload.group === 'privilege' ? [payload.ruid, payload.euid, payload.suid].filter((v) => v !== null).map(Number) : [];
    case 'capabilities':
      return payload.group === 'capset' ? capabilityNames(payload.effective | payload.permitted) : [];
    case 'namespaces':
      return payload.group === 'namespace' ? payload.namespaces : [];
    case 'name':
      return payload.group === 'module' && payload.name !== null ? [payload.name] : [];
    case 'fstype':
      return payload.group === 'mount' && payload.fstype !== null ? [payload.fstype] : [];
    case 'request':
      return payload.group === 'ptrace' ? [payload.request_name] : [];
    case 'command':
      return payload.group === 'bpf' ? [payload.cmd_name] : [];
    case 'sha256':
      // Policies hold lower-case digests; the agent's are too, but a digest from elsewhere need not be.
      return payload.group === 'exec' && payload.sha256 !== null ? [payload.sha256.toLowerCase()] : [];
    // Lower-cased by the agent; again here for records from elsewhere.
    case 'dnsName':
      return payload.group === 'egress' && payload.dns_name !== null ? [payload.dns_name.toLowerCase()] : [];
    case 'serverName':
      return payload.group === 'egress' && payload.server_name !== null ? [payload.server_name.toLowerCase()] : [];
    case 'httpHost':
      return payload.group === 'egress' && payload.http_host !== null ? [payload.http_host.toLowerCase()] : [];
  }
}
