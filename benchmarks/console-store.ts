/**
 * The console's store: node:sqlite (built into Node 24) beside DuckDB (@duckdb/node-api, when it resolves) on the same
 * synthetic event rows, with the plain Avro decode rate of the same events as the reference of the run.
 *
 *   npx node benchmarks/console-store.ts [--rows N] [--runs K] [--duckdb DIR]
 *
 * Method (docs/BENCHMARKS.md has the reading):
 * - Rows: N events spread over 24 h ending now, 40 % file (500 paths, /etc/passwd among them), 20 % exec, 20 % exit,
 *   15 % connect (1000 destinations, bytes set on a third), 5 % privilege; 200 pods in 20 namespaces, 100 binaries.
 *   Each row carries what the console's events table keeps (columns plus a ~400-byte JSON detail). Generated once,
 *   before any timing, with a fixed seed.
 * - Ingest: into a fresh in-memory database with the console's indexes (time+kind; kind+time; path+time; pod+time).
 *   sqlite: one prepared INSERT per row, 1000 rows per transaction. DuckDB: its appender, flushed every 1000 rows.
 * - Queries, each timed 5 times after one warm-up on the filled database (the median counts): file access (rows of
 *   one path over the last hour grouped by pod, binary, ancestry, op and flags); events over time (60 buckets by kind
 *   over the whole 24 h); top talkers (connect rows of the last hour grouped by pod and binary, top 20 by count).
 * - The console's own path: ConsoleStore.ingestEvents (libs/console-store: the row above plus process upserts, ancestry
 *   lookups, the compact and JSON renderings) of 200,000 decoded file events from 2,000 processes, 500 per call, into
 *   an in-memory store.
 * - Reference: decodeEvent of the same events (single-object Avro), events/s.
 * - K runs (default 3); tables give medians (min–max) over runs.
 * - DuckDB is not a dependency of the repository: pass --duckdb DIR, a directory where `npm install @duckdb/node-api`
 *   was run, or it is skipped.
 */
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { ConsoleStore } from '@stinger/console-store';
import { decodeEvent, encodeEvent, type Event } from '@stinger/events';
import { sampleEvent } from '@stinger/testing';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, duckdb: { type: 'string' } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const BATCH = 1000;
const HOUR_MS = 3_600_000;

interface Row {
  id: string;
  time: number;
  node: string;
  kind: string;
  namespace: string;
  pod: string;
  binary_path: string;
  ancestry: string;
  path: string | null;
  op: string | null;
  flags: number | null;
  daddr: string | null;
  dport: number | null;
  bytes: number | null;
  detail: string;
}

/** xorshift32: the same rows every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

function makeRows(count: number, now: number): Row[] {
  const next = random(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const paths = Array.from({ length: 500 }, (_, i) => (i === 0 ? '/etc/passwd' : `/var/lib/app/${i}/data.db`));
  const binaries = Array.from({ length: 100 }, (_, i) => `/usr/bin/tool${i}`);
  const pods = Array.from({ length: 200 }, (_, i) => ({ namespace: `ns-${i % 20}`, pod: `pod-${i}` }));
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const roll = next();
    const kind = roll < 0.4 ? 'file' : roll < 0.6 ? 'exec' : roll < 0.8 ? 'exit' : roll < 0.95 ? 'connect' : 'privilege';
    const where = pick(pods);
    const binary = pick(binaries);
    const row: Row = {
      id: `ev-${i}`,
      time: now - Math.floor(next() * 24 * HOUR_MS),
      node: `node-${i % 8}`,
      kind,
      namespace: where.namespace,
      pod: where.pod,
      binary_path: binary,
      ancestry: JSON.stringify(['/bin/sh', '/usr/bin/containerd-shim']),
      path: kind === 'file' ? (next() < 0.05 ? '/etc/passwd' : pick(paths)) : null,
      op: kind === 'file' ? 'open' : null,
      flags: kind === 'file' ? pick([0, 0o2000000, 0o101]) : null,
      daddr: kind === 'connect' ? `10.0.${Math.floor(next() * 4)}.${Math.floor(next() * 250)}` : null,
      dport: kind === 'connect' ? pick([443, 80, 5432, 6379]) : null,
      bytes: kind === 'connect' && next() < 0.33 ? Math.floor(next() * 1e6) : null,
      detail: '',
    };
    row.detail = JSON.stringify({ ...row, detail: undefined, process: { pid: 1000 + (i % 30000), binary, args: ['--flag', 'value'], cwd: '/srv' }, pad: 'x'.repeat(200) });
    rows.push(row);
  }
  return rows;
}

const COLUMNS = ['id', 'time', 'node', 'kind', 'namespace', 'pod', 'binary_path', 'ancestry', 'path', 'op', 'flags', 'daddr', 'dport', 'bytes', 'detail'] as const;
const INDEXES = ['CREATE INDEX ev_time ON events(time, kind)', 'CREATE INDEX ev_kind ON events(kind, time)', 'CREATE INDEX ev_path ON events(path, time)', 'CREATE INDEX ev_pod ON events(namespace, pod, time)'];

function queries(now: number): { name: string; sql: string; params: (string | number)[] }[] {
  return [
    {
      name: 'file access /etc/passwd, 1 h',
      sql: `SELECT namespace, pod, binary_path, ancestry, op, flags, count(*) AS n, min(time) AS first, max(time) AS last FROM events
            WHERE path = ? AND time >= ? AND time < ? GROUP BY namespace, pod, binary_path, ancestry, op, flags ORDER BY n DESC LIMIT 200`,
      params: ['/etc/passwd', now - HOUR_MS, now],
    },
    {
      name: 'events over time by kind, 24 h',
      sql: `SELECT (time - ?) / ? AS bucket, kind, count(*) AS n FROM events WHERE time >= ? AND time < ? GROUP BY bucket, kind`,
      params: [now - 24 * HOUR_MS, (24 * HOUR_MS) / 60, now - 24 * HOUR_MS, now],
    },
    {
      name: 'top talkers, 1 h',
      sql: `SELECT namespace, pod, binary_path, count(*) AS n, sum(bytes) AS b FROM events WHERE kind = 'connect' AND time >= ? AND time < ?
            GROUP BY namespace, pod, binary_path ORDER BY n DESC LIMIT 20`,
      params: [now - HOUR_MS, now],
    },
  ];
}

interface RunResult {
  ingestPerSecond: number;
  queryMs: number[];
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function timeQuery(run: () => unknown): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

function runSqlite(rows: readonly Row[], now: number): RunResult {
  const db = new DatabaseSync(':memory:');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time INTEGER NOT NULL, node TEXT, kind TEXT, namespace TEXT, pod TEXT,
           binary_path TEXT, ancestry TEXT, path TEXT, op TEXT, flags INTEGER, daddr TEXT, dport INTEGER, bytes INTEGER, detail TEXT)`);
  for (const sql of INDEXES) db.exec(sql);
  const insert = db.prepare(`INSERT OR IGNORE INTO events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  const start = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    db.exec('BEGIN');
    for (const row of rows.slice(i, i + BATCH)) insert.run(...COLUMNS.map((c) => row[c]));
    db.exec('COMMIT');
  }
  const ingestPerSecond = rows.length / ((performance.now() - start) / 1000);
  const queryMs = queries(now).map((q) => {
    const statement = db.prepare(q.sql);
    return timeQuery(() => statement.all(...q.params));
  });
  db.close();
  return { ingestPerSecond, queryMs };
}

interface DuckDbApi {
  DuckDBInstance: { create(path: string): Promise<{ connect(): Promise<DuckDbConnection> }> };
}
interface DuckDbConnection {
  run(sql: string, params?: unknown[]): Promise<unknown>;
  runAndReadAll(sql: string, params?: unknown[]): Promise<{ getRowObjects(): unknown[] }>;
  createAppender(table: string): Promise<DuckDbAppender>;
  closeSync(): void;
}
interface DuckDbAppender {
  appendVarchar(value: string): void;
  appendBigInt(value: bigint): void;
  appendInteger(value: number): void;
  appendNull(): void;
  endRow(): void;
  flushSync(): void;
  closeSync(): void;
}

async function runDuckDb(api: DuckDbApi, rows: readonly Row[], now: number): Promise<RunResult> {
  const instance = await api.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE events (id VARCHAR PRIMARY KEY, time BIGINT NOT NULL, node VARCHAR, kind VARCHAR, namespace VARCHAR, pod VARCHAR,
                        binary_path VARCHAR, ancestry VARCHAR, path VARCHAR, op VARCHAR, flags INTEGER, daddr VARCHAR, dport INTEGER, bytes BIGINT, detail VARCHAR)`);
  for (const sql of INDEXES) await connection.run(sql);
  const appender = await connection.createAppender('events');
  const text = (value: string | null) => (value === null ? appender.appendNull() : appender.appendVarchar(value));
  const int = (value: number | null) => (value === null ? appender.appendNull() : appender.appendInteger(value));
  const start = performance.now();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    text(row.id);
    appender.appendBigInt(BigInt(row.time));
    for (const value of [row.node, row.kind, row.namespace, row.pod, row.binary_path, row.ancestry, row.path, row.op]) text(value);
    int(row.flags);
    text(row.daddr);
    int(row.dport);
    if (row.bytes === null) appender.appendNull();
    else appender.appendBigInt(BigInt(row.bytes));
    text(row.detail);
    appender.endRow();
    if ((i + 1) % BATCH === 0) appender.flushSync();
  }
  appender.flushSync();
  appender.closeSync();
  const ingestPerSecond = rows.length / ((performance.now() - start) / 1000);
  const queryMs: number[] = [];
  for (const q of queries(now)) {
    const run = () => connection.runAndReadAll(q.sql, q.params);
    await run();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    queryMs.push(median(times));
  }
  connection.closeSync();
  return { ingestPerSecond, queryMs };
}

const STORE_EVENTS = 200_000;
const STORE_BATCH = 500;

function fileEvents(count: number, now: number): Event[] {
  return Array.from({ length: count }, (_, i) =>
    sampleEvent({
      seq: BigInt(i),
      time: BigInt(now - (count - i)) * 1_000_000n,
      kind: 'file',
      process: { pid: 1000 + (i % 2000), binary: `/usr/bin/tool${i % 100}`, exec_id: `node-a:${i % 2000}`, parent_exec_id: 'node-a:shell' },
      parent: { pid: 100, binary: '/bin/sh', exec_id: 'node-a:shell' },
      payload: { group: 'file', op: 'open', path: `/var/lib/app/${i % 500}`, path_as_given: `/var/lib/app/${i % 500}`, new_path: null, flags: 0, mode: null, result: 3, reached_by: null, io: null },
    }),
  );
}

function decodeReference(events: readonly Event[]): number {
  const encoded = events.map((event) => encodeEvent(event));
  const start = performance.now();
  for (const bytes of encoded) decodeEvent(bytes);
  return encoded.length / ((performance.now() - start) / 1000);
}

function consoleStoreIngest(events: readonly Event[], now: number): number {
  const store = new ConsoleStore({ path: ':memory:', retentionMs: 24 * HOUR_MS, maxEvents: events.length });
  const start = performance.now();
  for (let i = 0; i < events.length; i += STORE_BATCH) store.ingestEvents(events.slice(i, i + STORE_BATCH), now);
  const perSecond = events.length / ((performance.now() - start) / 1000);
  store.close();
  return perSecond;
}

async function loadDuckDb(dir: string | undefined): Promise<DuckDbApi | null> {
  if (dir === undefined) return null;
  try {
    const require = createRequire(join(dir, 'package.json'));
    return (await import(require.resolve('@duckdb/node-api'))) as DuckDbApi;
  } catch (error) {
    console.error(`DuckDB skipped: ${(error as Error).message}`);
    return null;
  }
}

const duckdb = await loadDuckDb(values.duckdb);
const now = Date.now();
console.error(`generating ${ROWS} rows…`);
const rows = makeRows(ROWS, now);
const events = fileEvents(STORE_EVENTS, now);
const results: Record<string, RunResult[]> = { 'node:sqlite': [], DuckDB: [] };
const reference: number[] = [];
const storeIngest: number[] = [];
for (let run = 0; run < RUNS; run++) {
  console.error(`run ${run + 1}/${RUNS}`);
  reference.push(decodeReference(events));
  storeIngest.push(consoleStoreIngest(events, now));
  results['node:sqlite']?.push(runSqlite(rows, now));
  if (duckdb !== null) results['DuckDB']?.push(await runDuckDb(duckdb, rows, now));
}

const fmt = (xs: readonly number[], digits = 0) =>
  `${median(xs).toLocaleString('en-US', { maximumFractionDigits: digits })} (${Math.min(...xs).toLocaleString('en-US', { maximumFractionDigits: digits })}–${Math.max(...xs).toLocaleString('en-US', { maximumFractionDigits: digits })})`;
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${ROWS.toLocaleString('en-US')} rows × ${RUNS} runs\n`);
console.log(`| | ingest rows/s | ${queries(now).map((q) => `${q.name} (ms)`).join(' | ')} |`);
console.log(`|---|---|${queries(now).map(() => '---').join('|')}|`);
for (const [engine, runs] of Object.entries(results)) {
  if (runs.length === 0) continue;
  const perQuery = queries(now).map((_, i) => fmt(runs.map((r) => r.queryMs[i] ?? NaN), 1));
  console.log(`| ${engine} | ${fmt(runs.map((r) => r.ingestPerSecond))} | ${perQuery.join(' | ')} |`);
}
console.log(`| ConsoleStore.ingestEvents (the console's path) | ${fmt(storeIngest)} | | | |`);
console.log(`| reference: decodeEvent | ${fmt(reference)} | | | |`);
