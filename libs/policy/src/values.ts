/**
 * Parsing and normalisation of match values: absolute paths, ports and id ranges (CIDRs: @stinger/net-address's
 * parseCidr, re-exported). Pure functions; the validator turns their null results into issues.
 */
import type { NumberRange } from './policy-types.ts';

// Networks are parsed by the one CIDR parser the kernel rules and the detector share.
export { parseCidr, type ParsedCidr } from '@stinger/net-address';

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
