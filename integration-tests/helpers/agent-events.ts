/**
 * Helpers for tests of the running agent's sensors and kernel enforcement: waiting for RawEvents and
 * policy status reports on the collected topics, and running child processes (a program, a TCP
 * connect) asynchronously so that the test's own event loop (Kafka consumers, listeners) keeps going.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { decodePolicyStatus, decodeRawEvent, type PolicyStatus, type RawEvent } from '@stinger/events';
import { runStinger } from './cli.ts';
import type { Collector } from './kafka.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The RawEvents of `collector` matching `predicate`, once there are at least `count`; rejects after `timeoutMs`. */
export async function eventsMatching(
  collector: Collector,
  predicate: (event: RawEvent) => boolean,
  options: { count?: number; timeoutMs?: number; what?: string } = {},
): Promise<RawEvent[]> {
  const { count = 1, timeoutMs = 20_000, what = 'matching events' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = collector.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0))).filter(predicate);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`${what}: only ${found.length} of ${count} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * The latest status `node` reported for policy `key` on the collected stinger.policies.status topic,
 * once `accept` holds for it; rejects after `timeoutMs` with the statuses seen so far.
 */
export async function policyStatusOf(
  collector: Collector,
  target: { node: string; key: string },
  options: { accept: (status: PolicyStatus | null) => boolean; timeoutMs?: number },
): Promise<PolicyStatus | null> {
  const { accept, timeoutMs = 30_000 } = options;
  const recordKey = `${target.node}/${target.key}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mine = collector.records.filter((r) => r.key?.toString() === recordKey);
    const latest = mine.at(-1);
    if (latest) {
      const status = latest.value ? decodePolicyStatus(latest.value) : null;
      if (accept(status)) return status;
    }
    if (Date.now() > deadline) {
      const seen = mine.map((r) => (r.value ? JSON.stringify(decodePolicyStatus(r.value), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) : 'tombstone'));
      throw new Error(`no accepted status for ${recordKey} after ${timeoutMs} ms; seen: [${seen.join(', ')}]`);
    }
    await sleep(100);
  }
}

export interface ChildResult {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end without blocking the event loop. */
export async function runChild(file: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<ChildResult> {
  const child = spawn(file, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ pid: child.pid ?? 0, code, signal, stdout, stderr });
    });
  });
}

/** What a TCP connect from a child Node process to 127.0.0.1:`port` gave: 'connected' or the error code (EPERM, ECONNREFUSED…). */
export async function connectFromChild(port: number): Promise<{ pid: number; outcome: string }> {
  const script = [
    "const s = require('node:net').connect({ host: '127.0.0.1', port: Number(process.argv[1]) });",
    "s.once('connect', () => { process.stdout.write('connected'); s.destroy(); });",
    "s.once('error', (e) => process.stdout.write(String(e.code)));",
  ].join('\n');
  const result = await runChild(process.execPath, ['-e', script, String(port)]);
  return { pid: result.pid, outcome: result.stdout.trim() };
}

/** A TCP listener on 127.0.0.1:`port` that accepts and closes connections. */
export async function tcpListener(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface ApplyPolicyOptions {
  /** Where the policy file is written. */
  readonly dir: string;
  readonly name: string;
  /** The rules as YAML lines, indented as list items under `rules:` (`- name: …`, `  event: …`). */
  readonly rules: readonly string[];
  /** The CLI's environment: the test's KAFKA_BROKERS and STINGER_TOPIC_PREFIX. */
  readonly env: Readonly<Record<string, string>>;
  /** The collected stinger.policies.status of the test's prefix, and the agent's node. */
  readonly statuses: Collector;
  readonly node: string;
}

/** `stinger policy apply` of a TracingPolicy with `rules`, then waits until the agent on `node` reports generation 1 applied. */
export async function applyPolicy(options: ApplyPolicyOptions): Promise<void> {
  const { dir, name, rules, env, statuses, node } = options;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, ['apiVersion: stinger.io/v1alpha1', 'kind: TracingPolicy', `metadata: { name: ${name} }`, 'spec:', '  rules:', ...rules.map((l) => `    ${l}`), ''].join('\n'));
  const result = runStinger(['policy', 'apply', file], env);
  assert.equal(result.status, 0, result.stderr);
  const status = await policyStatusOf(statuses, { node, key: name }, { accept: (s) => s !== null && s.generation === 1n });
  assert.equal(status?.state, 'applied', `the agent applied ${name}: ${status?.messages.join('; ')}`);
}
