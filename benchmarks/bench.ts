/**
 * `npm run bench`: every benchmark of the node agent in one command, each beside its same-run reference, written into
 * docs/BENCHMARKS.md between the markers of its "Agent, re-measured" section (replacing the previous run's output), so
 * a regression shows as a diff of that file. Root, on the real kernel, from the repository root; builds the BPF
 * objects first. Each benchmark is its own script (run alone for its options) and cleans up after itself:
 *
 * - benchmarks/agent-pipeline.ts: ring buffer → decoded → RawEvent → Kafka, and the open/fork+exec loops with the agent;
 * - libs/bpf/scripts/measure-file-sensor.ts: the file sensor alone, per unwatched open (absolute and relative);
 * - benchmarks/file-io.ts: descriptor tracking per untracked read;
 * - benchmarks/file-guard.ts: enforcement by file identity, per open and per exec.
 *
 *   npm run bench [-- --quick]      (--quick: fewer runs and smaller loops, for a check that the command works)
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import { load } from './report.ts';

const DOC = 'docs/BENCHMARKS.md';
export const START_MARKER = '<!-- npm run bench: start (generated; edits between the markers are replaced) -->';
export const END_MARKER = '<!-- npm run bench: end -->';

interface Step {
  readonly title: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly quickArgs: readonly string[];
  /** The script prints JSON rather than markdown: shown in a code block. */
  readonly json?: boolean;
}

const STEPS: readonly Step[] = [
  { title: 'Agent pipeline and workload slowdown', script: 'benchmarks/agent-pipeline.ts', args: ['--runs', '3'], quickArgs: ['--runs', '1', '--opens', '100000', '--workload-opens', '100000', '--forks', '200'] },
  { title: 'File sensor alone, per unwatched open (absolute paths)', script: 'libs/bpf/scripts/measure-file-sensor.ts', args: ['5', '1000000', 'absolute'], quickArgs: ['1', '100000', 'absolute'], json: true },
  { title: 'File sensor alone, per unwatched open (relative paths)', script: 'libs/bpf/scripts/measure-file-sensor.ts', args: ['5', '1000000', 'relative'], quickArgs: ['1', '100000', 'relative'], json: true },
  { title: 'Descriptor tracking, per untracked read', script: 'benchmarks/file-io.ts', args: ['--runs', '5'], quickArgs: ['--runs', '1'] },
  { title: 'File guard, per open and per exec', script: 'benchmarks/file-guard.ts', args: ['--runs', '5'], quickArgs: ['--runs', '1', '--opens', '20000', '--marked-opens', '2000', '--forks', '200'] },
];

/** The document with the generated section replaced (or appended, with its heading, the first time). */
export function withSection(document: string, section: string): string {
  const block = `${START_MARKER}\n${section.trim()}\n${END_MARKER}`;
  const start = document.indexOf(START_MARKER);
  const end = document.indexOf(END_MARKER);
  if (start >= 0 && end > start) return `${document.slice(0, start)}${block}${document.slice(end + END_MARKER.length)}`;
  return `${document.trimEnd()}\n\n## Agent, re-measured by \`npm run bench\`\n\n${block}\n`;
}

/** A script's own headings, nested below its step's (a script prints `# Title` as if it had the page to itself). */
export function underSection(markdown: string): string {
  return markdown.replace(/^(#+) /gm, (_, hashes: string) => `###${hashes} `);
}

async function runStep(step: Step, quick: boolean): Promise<string> {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', step.script, ...(quick ? step.quickArgs : step.args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${step.script} ended with ${code}; docs/BENCHMARKS.md left as it was`);
  return output.trim();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const quick = values.quick ?? false;
  execFileSync('npm', ['run', '-s', '-w', '@stinger/bpf', 'build:bpf'], { stdio: 'inherit' });
  const started = new Date();
  const parts = [
    `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' with --quick (a check of the command, not figures to quote)' : ''}: ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}, kernel ${release()}, Node ${process.version}, load at start ${load()}. Each benchmark below prints its own method, reference and spread; ratios are within one run.`,
  ];
  for (const step of STEPS) {
    process.stdout.write(`\n== bench: ${step.title} (${step.script})\n`);
    const output = await runStep(step, quick);
    parts.push(`### ${step.title}\n\n\`npx node ${step.script} ${(quick ? step.quickArgs : step.args).join(' ')}\`\n\n${step.json ? `\`\`\`json\n${output}\n\`\`\`` : underSection(output)}`);
  }
  writeFileSync(DOC, withSection(readFileSync(DOC, 'utf8'), parts.join('\n\n')));
  process.stdout.write(`\n== bench: ${DOC} updated (${Math.round((Date.now() - started.getTime()) / 1000)} s)\n`);
}

if (import.meta.main) await main();
