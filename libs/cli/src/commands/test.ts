/**
 * `stinger test`: every check of the repository in one command — the README's test command and
 * what .ci/run runs. Steps: prerequisites, generated-code and CRD staleness, type check, lint, then every
 * unit and integration test in one node:test run (one shared real Kafka broker for the whole run).
 * All steps run even when one fails; the exit code is non-zero if any failed. The last line is
 * `tests: N passed, N failed`, counting each failed static check as a failed test.
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
}

interface StepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
}

const ALL_TESTS = ['libs/**/*.test.ts', 'services/**/*.test.ts', 'integration-tests/**/*.test.ts'];
const GLOBAL_SETUP = 'libs/testing/src/kafka-global-setup.ts';

function run(name: string, command: string, args: readonly string[]): StepResult {
  process.stdout.write(`\n== ${name}: ${[command, ...args].join(' ')}\n`);
  const started = performance.now();
  const env = processEnvironment();
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit', env: { ...env, NODE_OPTIONS: childNodeOptions(env['NODE_OPTIONS']) } });
  const seconds = (performance.now() - started) / 1000;
  return { name, ok: result.status === 0, seconds };
}

/** Counts from a TAP stream's closing comments (`# pass N`, `# fail N`). */
export function tapCounts(tap: string): { passed: number; failed: number } {
  const pick = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return { passed: pick('pass'), failed: pick('fail') + pick('cancelled') };
}

export function runTests(options: TestOptions): number {
  const { logger, patterns, skipStatic } = options;
  ensurePrerequisites(TEST_PREREQUISITES, logger);
  const node = process.execPath;
  const steps: StepResult[] = [];
  if (!skipStatic) {
    steps.push(run('generated code is current', node, ['libs/events/scripts/codegen.ts', '--check']));
    steps.push(run('generated CRDs are current', node, ['libs/policy-control/scripts/crds.ts', '--check']));
    steps.push(run('type check', node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']));
    steps.push(run('lint', node, ['node_modules/eslint/bin/eslint.js', '.']));
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
  let counts = { passed: 0, failed: 0 };
  try {
    counts = tapCounts(readFileSync(tapFile, 'utf8'));
  } catch {
    counts = { passed: 0, failed: 1 };
  }
  rmSync(tapDir, { recursive: true, force: true });
  process.stdout.write('\n== summary\n');
  for (const step of steps) process.stdout.write(`${step.ok ? 'ok  ' : 'FAIL'} ${step.name} (${step.seconds.toFixed(1)} s)\n`);
  const staticFailures = steps.filter((s) => s !== testStep && !s.ok).length;
  const testRunFailed = !testStep.ok && counts.failed === 0 ? 1 : 0;
  process.stdout.write(`tests: ${counts.passed} passed, ${counts.failed + staticFailures + testRunFailed} failed\n`);
  return steps.every((s) => s.ok) ? 0 : 1;
}
