/**
 * Parsing and normalisation of match values: absolute paths, CIDRs, ports and id ranges. Pure functions; the
 * validator turns their null results into issues.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv6 } from '@stinger/net-address';
import type { NumberRange } from './policy-types.ts';

/**
 * Lexical normalisation of an absolute path: repeated slashes collapse, `.` goes, `..` removes the component
 * before it (never above `/`). Symlinks are not resolved (the policy names the path the process passes, and the
 * pipeline catches what kernel-side string matching cannot). A trailing slash is kept when `keepTrailingSlash`
 * (a prefix `/etc/` must not match `/etcd`). Returns null for a relative path.
 */
export function normaliseAbsolutePath(path: string, keepTrailingSlash: boolean): string | null {
  if (!path.startsWith('/')) return null;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  const joined = `/${parts.join('/')}`;
  const trailing = keepTrailingSlash && joined !== '/' && /\/\.{0,2}$/.test(path);
  return trailing ? `${joined}/` : joined;
}

export interface ParsedCidr {
  readonly family: 4 | 6;
  /** Network address bytes (4 or 16), host bits zeroed. */
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
  /** `a.b.c.d/n` or RFC 5952 text `x::y/n`. */
  readonly canonical: string;
  /** The text had bits set below the prefix (`10.0.0.1/8`), which `canonical` clears. */
  readonly hostBitsCleared: boolean;
}

/**
 * An IPv4 or IPv6 CIDR, or a bare address (a host: /32 or /128). Host bits set below the prefix are cleared in
 * `canonical` (the caller reports that as a normalisation). Zone ids (`fe80::1%eth0`) are refused. Null when
 * `text` is neither.
 */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  let bytes: Uint8Array;
  let family: 4 | 6;
  if (isIPv4(address)) {
    family = 4;
    bytes = Uint8Array.from(address.split('.').map(Number));
  } else if (isIPv6(address) && !address.includes('%')) {
    family = 6;
    bytes = ipv6Bytes(address);
  } else {
    return null;
  }
  const maxPrefix = family === 4 ? 32 : 128;
  let prefixLength = maxPrefix;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefixLength = Number(prefixText);
    if (prefixLength > maxPrefix) return null;
  }
  let hostBitsCleared = false;
  for (let bit = prefixLength; bit < maxPrefix; bit++) {
    const index = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[index] ?? 0) & mask) !== 0) hostBitsCleared = true;
    bytes[index] = (bytes[index] ?? 0) & ~mask;
  }
  const addressText = family === 4 ? bytes.join('.') : formatIpv6(bytes);
  return { family, bytes, prefixLength, canonical: `${addressText}/${prefixLength}`, hostBitsCleared };
}

function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}


/**
 * A number in [min, max] or a range "low-high" with min <= low <= high <= max, from YAML (an integer, or a
 * string of digits). Null otherwise.
 */
export function parseNumberRange(value: unknown, bounds: { readonly min: number; readonly max: number }): NumberRange | null {
  const inBounds = (n: number): boolean => Number.isSafeInteger(n) && n >= bounds.min && n <= bounds.max;
  if (typeof value === 'number') return inBounds(value) ? { low: value, high: value } : null;
  if (typeof value !== 'string') return null;
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(value);
  if (match === null) return null;
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  return inBounds(low) && inBounds(high) && low <= high ? { low, high } : null;
}

export const PORT_BOUNDS = { min: 1, max: 65535 } as const;
/** (uid_t)-1 is "unchanged" in set*uid calls, so the largest real uid is 2^32 - 2. */
export const ID_BOUNDS = { min: 0, max: 4294967294 } as const;

/** "80" or "8000-8080": the text form CompiledPolicy carries. */
export function rangeText(range: NumberRange): string {
  return range.low === range.high ? String(range.low) : `${range.low}-${range.high}`;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate within a small edit distance (case-insensitive), or null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
