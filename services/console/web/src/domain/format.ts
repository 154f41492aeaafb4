/**
 * How times, sizes, counts, process chains and outcomes are written on the page. Times are shown in UTC, the
 * clock the agents and Kafka records use, so what the page says matches the logs and `stinger events`.
 */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `14:03:07` on the day of `now`, `Dec 01 14:03` on another day; UTC. */
export function formatTime(ms: number, now: number): string {
  const date = new Date(ms);
  const clock = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  if (new Date(now).toISOString().slice(0, 10) === date.toISOString().slice(0, 10)) return clock;
  const month = date.toLocaleString('en', { month: 'short', timeZone: 'UTC' });
  return `${month} ${pad(date.getUTCDate())} ${clock.slice(0, 5)}`;
}

/** `2026-12-02 14:03:07.123 UTC`, for tooltips. */
export function formatTimeExact(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; `just now` within a second (and for clocks slightly ahead). */
export function formatAgo(ms: number, now: number): string {
  const seconds = Math.floor((now - ms) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** Binary units: `512 B`, `1.5 KiB`, `12 MiB`; `—` when unknown. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `999`, `1.2k`, `34k`, `1.5M`. */
export function formatCount(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${count < 10_000 ? (count / 1000).toFixed(1) : Math.round(count / 1000)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

/** The last path component: `/usr/bin/cat` → `cat`. */
export function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1) || path;
}

/** A process chain read from the process outwards: `cat ← sh ← containerd-shim`. */
export function formatAncestry(binary: string, ancestry: readonly string[]): string {
  return [binary, ...ancestry].map(baseName).join(' ← ');
}

/** `namespace/pod`, or `host` for events outside any pod. */
export function formatPod(namespace: string | null, pod: string | null): string {
  if (pod === null || pod === '') return 'host';
  return namespace ? `${namespace}/${pod}` : pod;
}

/** `10.0.0.1:443`, `[2001:db8::1]:443`; the address alone when the port is unknown. */
export function formatEndpoint(address: string, port: number | null): string {
  if (port === null) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** What an enforcement outcome means for the person reading it. */
export type OutcomeTone = 'stopped' | 'allowed' | 'failed' | 'pending';

export function outcomeTone(outcome: string | null): OutcomeTone {
  switch (outcome) {
    case null:
      return 'pending';
    case 'killed':
    case 'killed_in_kernel':
    case 'denied_in_kernel':
      return 'stopped';
    case 'monitor_only':
    case 'audit_only':
    case 'dry_run':
    case 'protected':
      return 'allowed';
    default:
      return 'failed';
  }
}

/** `killed_in_kernel` → `killed in kernel`. */
export function formatOutcome(outcome: string): string {
  return outcome.replaceAll('_', ' ');
}

/** An alert's message without the `policy/rule: ` it may start with (the table shows the rule and policy already). */
export function alertMessage(alert: { readonly policy: string; readonly rule: string; readonly message: string }): string {
  const prefix = `${alert.policy}/${alert.rule}: `;
  return alert.message.startsWith(prefix) ? alert.message.slice(prefix.length) : alert.message;
}

/**
 * What an event did, from its one-line summary (`<time> <node> <kind> pid=… <binary> …`, as `stinger events -o
 * compact` writes it) without the time, node and kind the page shows in columns of their own. A summary of another
 * shape is kept whole.
 */
export function eventWhat(event: { readonly summary: string; readonly node: string; readonly kind: string }): string {
  const head = /^(\S+) (\S+) (\S+) +/.exec(event.summary);
  return head && head[2] === event.node && head[3] === event.kind ? event.summary.slice(head[0].length) : event.summary;
}

/** `1 connection`, `3 connections`; `plural` when adding an s will not do. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : plural}`;
}

/** The command line as typed: the binary's name and its arguments (`curl -s http://…`). */
export function formatCommand(binary: string, args: string | null): string {
  return args ? `${baseName(binary)} ${args}` : baseName(binary);
}

/** "read 2.1 KiB, wrote 10 B in 14 opens": what went through a binary's opens of a file. */
export function formatFileIo(io: { readonly bytesRead: number; readonly bytesWritten: number; readonly closes: number }): string {
  const parts = [`read ${formatBytes(io.bytesRead)}`];
  if (io.bytesWritten > 0) parts.push(`wrote ${formatBytes(io.bytesWritten)}`);
  return `${parts.join(', ')} in ${countOf(io.closes, 'open', 'opens')}`;
}
