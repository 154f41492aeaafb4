/**
 * The top entries of a V8 CPU profile (`node --cpu-prof`), by self time and by the time of each package or repository
 * file, as markdown tables: what docs/BENCHMARKS.md quotes when it says where a benchmark's time goes.
 *
 *   node benchmarks/cpu-profile-top.ts <file.cpuprofile> [--top N] [--callers NAME]
 *
 * `--callers NAME`: instead, where the self time of functions named NAME (e.g. a native call) comes from: the
 * nearest caller in this repository's own files, summed.
 *
 * Also imported by benchmarks/agent-pipeline.ts (`--agent-cpu-prof`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** A short place for a script URL: the package under node_modules, the repository-relative path, or node's own. */
export function placeOf(url: string): string {
  if (url === '') return '(native or V8)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  if (path.startsWith(REPO_ROOT)) return path.slice(REPO_ROOT.length);
  return path;
}

export interface ProfileTop {
  /** Sampled time, ms. */
  readonly totalMs: number;
  /** Functions by self time: `name (place:line)`, ms, share of the total. */
  readonly functions: readonly { readonly what: string; readonly ms: number; readonly share: number }[];
  /** Self time summed per package or repository file. */
  readonly places: readonly { readonly what: string; readonly ms: number; readonly share: number }[];
}

/** Self time per function and per place, largest first. */
export function profileTop(profile: CpuProfile, top: number): ProfileTop {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    const place = placeOf(frame.url);
    const what = `${frame.functionName || '(anonymous)'} (${place}${frame.url ? `:${frame.lineNumber + 1}` : ''})`;
    functions.set(what, (functions.get(what) ?? 0) + us);
    places.set(place, (places.get(place) ?? 0) + us);
  }
  const ranked = (entries: Map<string, number>) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, us]) => ({ what, ms: us / 1000, share: totalUs === 0 ? 0 : us / totalUs }));
  return { totalMs: totalUs / 1000, functions: ranked(functions), places: ranked(places) };
}

/** Self time of the functions named `name`, summed by their nearest caller in a repository file (not node_modules). */
export function callersOf(profile: CpuProfile, name: string, top: number): ProfileTop['functions'] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const own = (node: ProfileNode): boolean => node.callFrame.url.startsWith('file://') && !node.callFrame.url.includes('/node_modules/');
  const byCaller = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    if (node?.callFrame.functionName !== name) return;
    const us = profile.timeDeltas[index] ?? 0;
    totalUs += us;
    let caller = parent.get(id);
    while (caller !== undefined && !own(byId.get(caller) as ProfileNode)) caller = parent.get(caller);
    const frame = caller === undefined ? undefined : byId.get(caller)?.callFrame;
    const what = frame ? `${frame.functionName || '(anonymous)'} (${placeOf(frame.url)}:${frame.lineNumber + 1})` : '(no repository caller)';
    byCaller.set(what, (byCaller.get(what) ?? 0) + us);
  });
  return [...byCaller]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([what, us]) => ({ what, ms: us / 1000, share: totalUs === 0 ? 0 : us / totalUs }));
}

/** The two tables as markdown. */
export function renderProfileTop(result: ProfileTop): string {
  const table = (title: string, rows: ProfileTop['functions']) =>
    [`| ${title} | self ms | share |`, '|---|---:|---:|', ...rows.map((row) => `| ${row.what.replaceAll('|', '\\|')} | ${row.ms.toFixed(1)} | ${(row.share * 100).toFixed(1)} % |`)].join('\n');
  return [`sampled: ${result.totalMs.toFixed(0)} ms`, '', table('function (place:line)', result.functions), '', table('package or file', result.places)].join('\n');
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' }, callers: { type: 'string' } } });
  const [file] = positionals;
  if (file === undefined) throw new Error('usage: node benchmarks/cpu-profile-top.ts <file.cpuprofile> [--top N] [--callers NAME]');
  const profile = readProfile(file);
  if (values.callers === undefined) {
    console.log(renderProfileTop(profileTop(profile, Number(values.top))));
  } else {
    const rows = callersOf(profile, values.callers, Number(values.top));
    console.log([`| nearest repository caller of ${values.callers} | self ms | share |`, '|---|---:|---:|', ...rows.map((row) => `| ${row.what} | ${row.ms.toFixed(1)} | ${(row.share * 100).toFixed(1)} % |`)].join('\n'));
  }
}
