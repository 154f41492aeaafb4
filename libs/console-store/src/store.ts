/**
 * The console's store: an SQLite database (node:sqlite, built into Node; chosen over DuckDB in docs/BENCHMARKS.md)
 * fed with the decoded records of stinger.events, stinger.alerts, stinger.enforcements and the agents' health, and
 * read by one query per API endpoint (queries.ts).
 *
 * Contract: one writer (the console's consumers, on the event loop); each ingest call is one transaction and
 * returns the rows it stored, for the live stream. A record seen again (redelivery) is not stored twice. Records
 * older than the retention are not stored; `prune` (called periodically by the service) removes what fell out of
 * the retention or beyond the row bound, so memory and disk stay bounded.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { AgentRow, AlertRow, EnforcementMessage, EventRow } from '@stinger/console-api';
import type { Alert, Enforcement, Event } from '@stinger/events';
import { alertColumns, alertRowOf, enforcementColumns, enforcementMessageOf, EVENT_COLUMNS, eventRecord, processColumns, type FlowTotals, type ProcessColumns } from './records.ts';
import { SCHEMA, SCHEMA_VERSION } from './schema.ts';

export interface ConsoleStoreOptions {
  /** SQLite file, created with its directory; ':memory:' for a store that keeps nothing on disk. */
  readonly path: string;
  /** Records older than this (ms) are neither stored nor kept. */
  readonly retentionMs: number;
  /** Most events kept; the oldest stored beyond it are pruned. Alerts are bounded the same. */
  readonly maxEvents: number;
  /**
   * A reader beside the one writer (the API's query workers): opens an existing store read-only and changes nothing.
   * WAL lets it read while the writer writes.
   */
  readonly readOnly?: boolean;
}

/** An agent's own report of its health (stinger.agents), in the API's terms. */
export interface AgentHealthReport {
  readonly node: string;
  readonly agentId: string;
  /** When the agent reported, ms since the epoch. */
  readonly time: number;
  readonly eventsPerSecond: number | null;
  readonly lost: AgentRow['lost'];
  readonly spool: AgentRow['spool'];
  readonly sensors: AgentRow['sensors'];
  readonly kernelFeatures: AgentRow['kernelFeatures'];
}

export interface PruneResult {
  readonly events: number;
  readonly alerts: number;
  readonly enforcements: number;
  readonly processes: number;
}

/** Deepest ancestry looked up for an event: enough for any real process tree, and a guard against a cycle. */
const MAX_ANCESTRY = 16;
/** Rows deleted per statement while pruning, so a large prune does not hold the database for long at once. */
const PRUNE_CHUNK = 20_000;

type Params = Record<string, SQLInputValue>;

/** `{a: 1}` → `{$a: 1}`: node:sqlite's named parameters. */
function named(columns: object): Params {
  const params: Params = {};
  for (const [key, value] of Object.entries(columns)) params[`$${key}`] = value as SQLInputValue;
  return params;
}

function insertSql(table: string, columns: readonly string[], conflict: string): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `$${c}`).join(', ')}) ${conflict}`;
}

export class ConsoleStore {
  readonly db: DatabaseSync;
  readonly retentionMs: number;
  readonly maxEvents: number;
  readonly #statements = new Map<string, StatementSync>();

  constructor(options: ConsoleStoreOptions) {
    this.retentionMs = options.retentionMs;
    this.maxEvents = options.maxEvents;
    if (options.readOnly === true) {
      this.db = new DatabaseSync(options.path, { readOnly: true });
      return;
    }
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new DatabaseSync(options.path);
    // WAL: readers (API requests) never wait for the writer's transaction; NORMAL sync is safe with WAL and what is
    // lost in a power cut is re-read from Kafka (offsets are committed after the store's transaction).
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;');
    const version = (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version !== 0 && version !== SCHEMA_VERSION) {
      // The store is a cache of Kafka's topics: a store of another layout is dropped and refilled, never migrated.
      for (const table of ['events', 'processes', 'alerts', 'enforcements', 'agents']) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
    }
    this.db.exec(SCHEMA);
    this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  /** A statement prepared once per store. */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(work: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Whether nothing was ever stored (a new or emptied store). */
  isEmpty(): boolean {
    return this.statement('SELECT NOT EXISTS (SELECT 1 FROM events) AND NOT EXISTS (SELECT 1 FROM alerts) AS empty').get()?.['empty'] === 1;
  }

  /** Stores the events within the retention; returns the rows stored (not those already there), in input order. */
  ingestEvents(events: readonly Event[], now: number): EventRow[] {
    const cutoff = now - this.retentionMs;
    return this.#transaction(() => {
      const stored: EventRow[] = [];
      const nodes = new Map<string, { agentId: string; time: number }>();
      const touched = new Map<string, number>();
      const insert = this.statement(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT(id) DO NOTHING`);
      for (const event of events) {
        const time = Number(event.time / 1_000_000n);
        if (time < cutoff) continue;
        this.#recordProcesses(event, touched);
        const { columns, row } = eventRecord(event, this.#ancestry(event), this.#flowTotals(event));
        if (insert.run(...EVENT_COLUMNS.map((name) => columns[name])).changes === 0) continue;
        stored.push(row);
        const seen = nodes.get(event.node);
        if (seen === undefined || seen.time < time) nodes.set(event.node, { agentId: event.agent_id, time });
      }
      const lastSeen = this.statement('UPDATE processes SET last_seen = max(last_seen, ?) WHERE exec_id = ?');
      for (const [execId, time] of touched) lastSeen.run(time, execId);
      for (const [node, seen] of nodes) {
        this.statement(
          `INSERT INTO agents (node, agent_id, last_seen) VALUES ($node, $agent_id, $time)
           ON CONFLICT(node) DO UPDATE SET agent_id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.agent_id ELSE agent_id END,
                                           last_seen = max(last_seen, excluded.last_seen)`,
        ).run({ $node: node, $agent_id: seen.agentId, $time: seen.time });
      }
      return stored;
    });
  }

  /**
   * Keeps the processes an event names: its process, its parent and a fork's child. Within one batch a process already
   * written is written again only when the event changes it (exec, exit); otherwise only its latest time is noted in
   * `touched`, written once at the batch's end — most events of a batch come from the same few processes.
   */
  #recordProcesses(event: Event, touched: Map<string, number>): void {
    const records: ProcessColumns[] = [];
    if (event.parent !== null) records.push(processColumns(event, event.parent, 'parent'));
    records.push(processColumns(event, event.process, 'process'));
    if (event.payload.group === 'fork') {
      const { child_exec_id: childExecId, child_pid: childPid } = event.payload;
      // The child runs its parent's program until it calls exec.
      records.push({ ...processColumns(event, event.process, 'child'), exec_id: childExecId, pid: childPid, parent_exec_id: event.process.exec_id });
    }
    for (const record of records) {
      const seen = touched.get(record.exec_id);
      if (seen === undefined || record.is_exec === 1 || record.exit_code !== null) this.#upsertProcess(record);
      touched.set(record.exec_id, Math.max(seen ?? record.seen, record.seen));
    }
  }

  #upsertProcess(columns: ProcessColumns): void {
    this.statement(
      `INSERT INTO processes (exec_id, node, pid, parent_exec_id, binary_path, args, namespace, pod, start, last_seen, exit_code)
       VALUES ($exec_id, $node, $pid, $parent_exec_id, $binary_path, $args, $namespace, $pod, $seen, $seen, $exit_code)
       ON CONFLICT(exec_id) DO UPDATE SET
         last_seen = max(last_seen, excluded.last_seen),
         start = min(start, excluded.start),
         parent_exec_id = coalesce(parent_exec_id, excluded.parent_exec_id),
         binary_path = CASE WHEN $is_exec THEN excluded.binary_path ELSE binary_path END,
         args = CASE WHEN $is_exec THEN excluded.args ELSE coalesce(args, excluded.args) END,
         namespace = coalesce(namespace, excluded.namespace),
         pod = coalesce(pod, excluded.pod),
         exit_code = coalesce(excluded.exit_code, exit_code)`,
    ).run(named(columns));
  }

  /** The event's ancestors' binaries, nearest first: its parent as the event carries it, then the stored processes. */
  #ancestry(event: Event): string[] {
    const ancestry: string[] = [];
    let next: string | null = event.process.parent_exec_id;
    if (event.parent !== null) {
      ancestry.push(event.parent.binary);
      next = event.parent.parent_exec_id;
    }
    const lookup = this.statement('SELECT binary_path, parent_exec_id FROM processes WHERE exec_id = ?');
    const seen = new Set<string>([event.process.exec_id]);
    while (next !== null && ancestry.length < MAX_ANCESTRY && !seen.has(next)) {
      seen.add(next);
      const row = lookup.get(next);
      if (row === undefined) break;
      ancestry.push(row['binary_path'] as string);
      next = row['parent_exec_id'] as string | null;
    }
    return ancestry;
  }

  /** Stores the alerts within the retention; returns the rows stored, with any enforcement already known. */
  ingestAlerts(alerts: readonly Alert[], now: number): AlertRow[] {
    const cutoff = now - this.retentionMs;
    return this.#transaction(() => {
      const stored: AlertRow[] = [];
      for (const alert of alerts) {
        const columns = alertColumns(alert);
        if (columns.time < cutoff) continue;
        if (this.statement(insertSql('alerts', Object.keys(columns), 'ON CONFLICT(id) DO NOTHING')).run(named(columns)).changes === 0) continue;
        const enforcement = this.statement('SELECT outcome AS e_outcome, reason AS e_reason, time AS e_time FROM enforcements WHERE alert_id = ?').get(columns.id);
        stored.push(alertRowOf({ ...columns, ...enforcement }));
      }
      return stored;
    });
  }

  /** Stores each alert's outcome (a later outcome of one alert replaces an earlier one); returns those stored. */
  ingestEnforcements(enforcements: readonly Enforcement[], now: number): EnforcementMessage[] {
    const cutoff = now - this.retentionMs;
    return this.#transaction(() => {
      const stored: EnforcementMessage[] = [];
      for (const enforcement of enforcements) {
        const columns = enforcementColumns(enforcement);
        if (columns.time < cutoff) continue;
        const upsert = this.statement(
          insertSql(
            'enforcements',
            Object.keys(columns),
            `ON CONFLICT(alert_id) DO UPDATE SET outcome = excluded.outcome, reason = excluded.reason, time = excluded.time WHERE excluded.time >= enforcements.time`,
          ),
        );
        if (upsert.run(named(columns)).changes > 0) stored.push(enforcementMessageOf(columns));
      }
      return stored;
    });
  }

  /** Keeps each node's latest health report. */
  ingestAgentHealth(reports: readonly AgentHealthReport[]): void {
    this.#transaction(() => {
      for (const report of reports) {
        const { node, agentId, time, ...health } = report;
        this.statement(
          `INSERT INTO agents (node, agent_id, last_seen, health, health_time) VALUES ($node, $agent_id, $time, $health, $time)
           ON CONFLICT(node) DO UPDATE SET agent_id = excluded.agent_id, last_seen = max(last_seen, excluded.last_seen),
             health = excluded.health, health_time = excluded.health_time
           WHERE agents.health_time IS NULL OR excluded.health_time >= agents.health_time`,
        ).run({ $node: node, $agent_id: agentId, $time: time, $health: JSON.stringify(health) });
      }
    });
  }

  #deleteInChunks(sql: string, params: SQLInputValue[]): number {
    let total = 0;
    for (;;) {
      const changes = Number(this.statement(sql).run(...params, PRUNE_CHUNK).changes);
      total += changes;
      if (changes < PRUNE_CHUNK) return total;
    }
  }

  /** A flow event's socket's totals so far (its stored rows hold increases); zeros for other events. */
  #flowTotals(event: Event): FlowTotals {
    const { payload } = event;
    if (event.kind !== 'flow' || payload.group !== 'network' || payload.socket_cookie === null) return { sent: 0, received: 0 };
    const totals = this.statement(
      "SELECT coalesce(sum(bytes_sent), 0) AS sent, coalesce(sum(bytes_received), 0) AS received FROM events WHERE kind = 'flow' AND node = ? AND socket_cookie = ?",
    ).get(event.node, payload.socket_cookie.toString());
    return { sent: (totals?.['sent'] as number | undefined) ?? 0, received: (totals?.['received'] as number | undefined) ?? 0 };
  }

  /** Removes what is older than the retention or beyond the row bound. The service calls it every few seconds. */
  prune(now: number): PruneResult {
    const cutoff = now - this.retentionMs;
    let events = this.#deleteInChunks('DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time < ? LIMIT ?)', [cutoff]);
    const newest = this.statement('SELECT max(seq) AS seq FROM events').get()?.['seq'] as number | null;
    if (newest !== null) events += this.#deleteInChunks('DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? ORDER BY seq LIMIT ?)', [newest - this.maxEvents]);
    const oldest = (this.statement('SELECT min(time) AS time FROM events').get()?.['time'] as number | null) ?? now;
    // A process is kept while it has events stored, so trees and ancestry stay whole for what is shown.
    const processes = this.#deleteInChunks('DELETE FROM processes WHERE exec_id IN (SELECT exec_id FROM processes WHERE last_seen < ? LIMIT ?)', [Math.max(cutoff, Math.min(oldest, now))]);
    let alerts = this.#deleteInChunks('DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE time < ? LIMIT ?)', [cutoff]);
    alerts += Number(this.statement('DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY time DESC LIMIT -1 OFFSET ?)').run(this.maxEvents).changes);
    const enforcements = this.#deleteInChunks('DELETE FROM enforcements WHERE alert_id IN (SELECT alert_id FROM enforcements WHERE time < ? LIMIT ?)', [cutoff]);
    this.statement('DELETE FROM agents WHERE last_seen < ?').run(cutoff);
    return { events, alerts, enforcements, processes };
  }

  close(): void {
    this.db.close();
  }
}
