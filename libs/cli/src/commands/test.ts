/**
 * `stinger test`: every check of the repository in one command — the README's test command and
 * what .ci/run runs. Steps: prerequisites, generated-code and CRD staleness, type check, lint, then every
 * unit and integration test in one node:test run (one shared real Kafka broker for the whole run), then (the whole
 * suite only) the kernel tests again in a stock-kernel VM (`stinger vm-test`), with their own summary line.
 * All steps run even when one fails; the exit code is non-zero if any failed. The last line is
 * `tests: N passed, N failed, N skipped` (and `N todo` when there are any), counting each failed static check as
 * a failed test: a skipped test shows in the summary, never only in the scrolled-away output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@stinger/log';
import { ensurePrerequisites, TEST_PREREQUISITES } from '../prerequisites.ts';
import { processEnvironment } from '@stinger/config';
import { childNodeOptions, REPO_ROOT } from '../workspace.ts';

export interface TestOptions {
  readonly logger: Logger;
  /** Only these test files/globs (default: every test of the repository). */
  readonly patterns: readonly string[];
  readonly skipStatic: boolean;
  /** Run the kernel tests in the stock-kernel VM after the native run. */
  readonly vm: boolean;
}

export interface StepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
}

const ALL_TESTS = ['libs/**/*.test.ts', 'services/**/*.test.ts', 'integration-tests/**/*.test.ts'];
const GLOBAL_SETUP = 'libs/testing/src/kafka-global-setup.ts';
const NX_BIN = 'node_modules/nx/dist/bin/nx.js';
const ESLINT_BIN = 'node_modules/eslint/bin/eslint.js';
const STINGER_BIN = 'libs/cli/bin/stinger.mjs';

type Environment = Readonly<Record<string, string | undefined>>;

function childEnvironment(env: Environment): Record<string, string | undefined> {
  return { ...env, NODE_OPTIONS: childNodeOptions(env['NODE_OPTIONS']) };
}

function run(name: string, command: string, args: readonly string[]): StepResult {
  process.stdout.write(`\n== ${name}: ${[command, ...args].join(' ')}\n`);
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit', env: childEnvironment(processEnvironment()) });
  const seconds = (performance.now() - started) / 1000;
  return { name, ok: result.status === 0, seconds };
}

/** What @nx/eslint-plugin prints when it has no project graph to read: its module-boundary rule then checks nothing. */
export const BOUNDARY_RULE_SKIPPED = 'No cached ProjectGraph is available';

export interface LintResult extends StepResult {
  /** What the step printed (eslint's report among it); it is also written to this process's stdout. */
  readonly output: string;
}

/**
 * The lint step. @nx/enforce-module-boundaries reads Nx's cached project graph, which nothing builds on a clean
 * clone: eslint alone then prints BOUNDARY_RULE_SKIPPED for every file and exits 0 with the package boundaries
 * unchecked. So the step first builds the graph (`nx show projects`, as `npm run lint` does), then runs eslint on
 * `paths`, and fails if eslint still reports the rule skipped. `env` is the environment of both (tests point
 * NX_WORKSPACE_DATA_DIRECTORY at an empty directory to play a clean clone).
 */
export function lint(paths: readonly string[], env: Environment = processEnvironment()): LintResult {
  const name = 'lint';
  process.stdout.write(`\n== ${name}: nx show projects && eslint ${paths.join(' ')}\n`);
  const started = performance.now();
  const options = { cwd: REPO_ROOT, env: childEnvironment(env), encoding: 'utf8', maxBuffer: 256 << 20 } as const;
  const graph = spawnSync(process.execPath, [NX_BIN, 'show', 'projects'], options);
  const eslint = graph.status === 0 ? spawnSync(process.execPath, [ESLINT_BIN, ...paths], options) : null;
  const output = [
    graph.status === 0 ? '' : `the project graph could not be built (nx show projects exited ${graph.status ?? graph.signal}):\n${graph.stdout}${graph.stderr}`,
    eslint ? `${eslint.stdout}${eslint.stderr}` : '',
  ].join('');
  const skipped = output.includes(BOUNDARY_RULE_SKIPPED);
  const verdict = skipped ? `lint: the module-boundary rule was skipped (${BOUNDARY_RULE_SKIPPED}): the step fails\n` : '';
  process.stdout.write(output + verdict);
  const ok = graph.status === 0 && eslint?.status === 0 && !skipped;
  return { name, ok, seconds: (performance.now() - started) / 1000, output: output + verdict };
}

export interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly todo: number;
}

/** Counts from a TAP stream's closing comments (`# pass N`, `# fail N`, `# cancelled N`, `# skipped N`, `# todo N`). */
export function tapCounts(tap: string): TestCounts {
  const pick = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return { passed: pick('pass'), failed: pick('fail') + pick('cancelled'), skipped: pick('skipped'), todo: pick('todo') };
}

/** Two runs' counts together (the native run and the VM's). */
export function addCounts(a: TestCounts, b: TestCounts): TestCounts {
  return { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped, todo: a.todo + b.todo };
}

/** The summary's last line; `failed` includes failed static checks and a test run that failed without a count. */
export function summaryLine(counts: TestCounts): string {
  return `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${counts.todo > 0 ? `, ${counts.todo} todo` : ''}`;
}

export interface SummaryInput {
  /** Every step in the order run, the test run and the VM run among them. */
  readonly steps: readonly StepResult[];
  readonly testStep: StepResult;
  /** The native test run's counts. */
  readonly counts: TestCounts;
  /** The VM run of the kernel tests, when there was one. */
  readonly vm: { readonly step: StepResult; readonly counts: TestCounts } | null;
}

/**
 * The summary: one line per step, the VM's own counts when it ran, then the total line (native and VM counts
 * together, each failed static check and each run that failed without a count as one failed test).
 */
export function summaryText(input: SummaryInput): string {
  const { steps, testStep, counts, vm } = input;
  const lines = ['', '== summary', ...steps.map((step) => `${step.ok ? 'ok  ' : 'FAIL'} ${step.name} (${step.seconds.toFixed(1)} s)`)];
  const vmCounts = vm === null ? null : { ...vm.counts, failed: vm.counts.failed + (!vm.step.ok && vm.counts.failed === 0 ? 1 : 0) };
  if (vmCounts !== null) lines.push(`kernel tests in the VM: ${summaryLine(vmCounts).slice('tests: '.length)}`);
  const staticFailures = steps.filter((s) => s !== testStep && s !== vm?.step && !s.ok).length;
  const testRunFailed = !testStep.ok && counts.failed === 0 ? 1 : 0;
  const all = vmCounts === null ? counts : addCounts(counts, vmCounts);
  lines.push(summaryLine({ ...all, failed: all.failed + staticFailures + testRunFailed }));
  return `${lines.join('\n')}\n`;
}

export function runTests(options: TestOptions): number {
  const { logger, patterns, skipStatic, vm } = options;
  ensurePrerequisites(TEST_PREREQUISITES, logger);
  const node = process.execPath;
  const steps: StepResult[] = [];
  if (!skipStatic) {
    steps.push(run('generated code is current', node, ['libs/events/scripts/codegen.ts', '--check']));
    steps.push(run('generated CRDs are current', node, ['libs/policy-control/scripts/crds.ts', '--check']));
    steps.push(run('type check', node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']));
    steps.push(lint(['.']));
  }
  const tapDir = mkdtempSync(join(tmpdir(), 'stinger-test-'));
  const tapFile = join(tapDir, 'results.tap');
  // Kernel and broker tests share one machine: files run one at a time (docs/architecture.md).
  const testStep = run('tests', node, [
    '--test',
    '--test-concurrency=1',
    `--test-global-setup=${GLOBAL_SETUP}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...(patterns.length > 0 ? patterns : ALL_TESTS),
  ]);
  steps.push(testStep);
  let counts: TestCounts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  try {
    counts = tapCounts(readFileSync(tapFile, 'utf8'));
  } catch {
    counts = { ...counts, failed: 1 };
  }
  // The same kernel tests on a stock kernel: one VM run, after the native one (never two VMs or kernels' tests at once).
  const vmTapFile = join(tapDir, 'vm-results.tap');
  const vmStep = vm ? run('kernel tests in a stock-kernel VM', node, [STINGER_BIN, 'vm-test', '--tap', vmTapFile]) : null;
  let vmCounts: TestCounts | null = null;
  if (vmStep !== null) {
    steps.push(vmStep);
    try {
      vmCounts = tapCounts(readFileSync(vmTapFile, 'utf8'));
    } catch {
      vmCounts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
    }
  }
  rmSync(tapDir, { recursive: true, force: true });
  process.stdout.write(summaryText({ steps, testStep, counts, vm: vmStep === null || vmCounts === null ? null : { step: vmStep, counts: vmCounts } }));
  return steps.every((s) => s.ok) ? 0 : 1;
}
