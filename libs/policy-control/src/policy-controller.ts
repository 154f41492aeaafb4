/**
 * PolicyController: custom resources in, signed stinger.policies records and `.status` out.
 *
 * Contract:
 *  - `upsert` / `remove` are called for every add, change and delete of a TracingPolicy or TracingPolicyNamespaced,
 *    in the API server's order; `listed` once, with every object, after the first complete list of both kinds.
 *    `nodeReport` for every record of stinger.policies.status.
 *  - All work runs one item at a time, in call order, so a key's publications and status writes never interleave.
 *  - Every record written is signed (signedPolicyRecord) with the key `signingKey()` returns at that moment (a rotated
 *    key is used at once), at a signed-at later than every record in force when the controller started and every
 *    record it signed since: a verifying consumer never takes a new record for a replay.
 *  - An invalid object publishes nothing; its status says why, field by field, and what stays in force.
 *  - A deleted object's key gets a signed tombstone; `listed` tombstones every key in force that no object accounts for.
 *  - A failed publication or status write is retried after `retryDelayMs` with the latest object for the key.
 *  - Reports from agents are coalesced for `statusDelayMs` before the status is written; a status equal to what the
 *    object shows is not written (the write's own update event therefore ends there).
 */
import type { PolicyStatus } from '@stinger/events';
import { namespaced, type Logger } from '@stinger/log';
import { signedPolicyRecord, type SigningKey } from '@stinger/trust';
import { NodeReports } from './node-reports.ts';
import type { PoliciesInForce, PolicyInForce } from './policies-in-force.ts';
import type { RuleCounts, TracingPolicyStatus } from './policy-status.ts';
import type { RegoCompilation } from '@stinger/rego';
import { judgePolicyObject, objectPolicyKey, regoSourceOf, orphanedKeys, ruleCounts, ruleCountsOfRecord, type PolicyObject, type PolicyVerdict } from './reconcile.ts';
import { buildPolicyStatus, statusUnchanged } from './status-builder.ts';

/** A record as signedPolicyRecord makes it, ready for the producer. */
export interface PolicyRecordToSend {
  readonly key: string;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer>;
}

/** The events a source of custom resources (PolicyResources) delivers. */
export interface PolicyObjectEvents {
  upsert(object: PolicyObject): void;
  remove(object: PolicyObject): void;
  listed(objects: readonly PolicyObject[]): void;
}

export interface PolicyControllerOptions {
  readonly logger: Logger;
  /** The verified view of stinger.policies at start (policiesInForce). */
  readonly initial: PoliciesInForce;
  /** Writes records to stinger.policies; resolves once the broker has them. */
  readonly publish: (records: readonly PolicyRecordToSend[]) => Promise<void>;
  /** Replaces the object's `.status` (resolves quietly when the object is gone). */
  readonly writeStatus: (object: PolicyObject, status: TracingPolicyStatus) => Promise<void>;
  /** The active signing key; throws when there is none. */
  readonly signingKey: () => SigningKey;
  /** Now, ns since the epoch. */
  readonly clock?: () => bigint;
  /** Compiles a policy's Rego module to WebAssembly (start-policy-control.ts: @stinger/rego with the cached opa). */
  readonly compileRego?: (rego: { readonly module: string; readonly entrypoint: string }) => Promise<RegoCompilation>;
  readonly statusDelayMs?: number;
  readonly retryDelayMs?: number;
}

interface InForce {
  readonly generation: bigint;
  readonly record: PolicyInForce['compiled'];
  /** undefined: not computed yet; null: cannot be (a record compilePolicy cannot read back). */
  counts: RuleCounts | null | undefined;
}

interface Tracked {
  object: PolicyObject;
  verdict: PolicyVerdict;
  publishError: string | null;
}

export class PolicyController implements PolicyObjectEvents {
  readonly #options: PolicyControllerOptions;
  readonly #logger: Logger;
  readonly #inForce = new Map<string, InForce>();
  readonly #objects = new Map<string, Tracked>();
  readonly #reports = new NodeReports();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #queue: Promise<void> = Promise.resolve();
  #lastSignedAtNs: bigint;
  #stopped = false;

  constructor(options: PolicyControllerOptions) {
    this.#options = options;
    this.#logger = namespaced(options.logger, 'PolicyController');
    for (const [key, { compiled }] of options.initial.policies) {
      this.#inForce.set(key, { generation: compiled?.generation ?? 0n, record: compiled, counts: undefined });
    }
    this.#lastSignedAtNs = options.initial.latestSignedAtNs;
  }

  upsert(object: PolicyObject): void {
    this.#enqueue(() => this.#reconcile(object));
  }

  remove(object: PolicyObject): void {
    this.#enqueue(() => this.#delete(object));
  }

  listed(objects: readonly PolicyObject[]): void {
    this.#enqueue(() => this.#tombstoneOrphans(new Set(objects.map(objectPolicyKey))));
  }

  nodeReport(recordKey: string, status: PolicyStatus | null): void {
    const key = this.#reports.apply(recordKey, status);
    if (key !== null && this.#objects.has(key)) this.#later(key, this.#options.statusDelayMs ?? 200);
  }

  /** The generation of the record in force for `key`, if any (tests, stats). */
  inForceGeneration(key: string): bigint | null {
    return this.#inForce.get(key)?.generation ?? null;
  }

  /** Resolves when every queued item has run. */
  async settled(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.#queue;
      await last;
    } while (last !== this.#queue);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.settled();
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#stopped) return;
      try {
        await work();
      } catch (error) {
        this.#logger.error({ err: error }, 'reconcile step failed');
      }
    });
  }

  /** Reconciles `key` again after `ms` with its latest object (coalesced: one pending timer per key). */
  #later(key: string, ms: number): void {
    if (this.#stopped || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      const tracked = this.#objects.get(key);
      if (tracked) this.upsert(tracked.object);
      else if (this.#inForce.has(key)) this.#enqueue(() => this.#tombstone([key], 'deleted'));
    }, ms);
    timer.unref();
    this.#timers.set(key, timer);
  }

  #nextSignedAt(): bigint {
    const now = this.#options.clock?.() ?? BigInt(Date.now()) * 1_000_000n;
    this.#lastSignedAtNs = now > this.#lastSignedAtNs ? now : this.#lastSignedAtNs + 1n;
    return this.#lastSignedAtNs;
  }

  async #reconcile(object: PolicyObject): Promise<void> {
    const key = objectPolicyKey(object);
    const before = this.#objects.get(key);
    const inForce = this.#inForce.get(key);
    const source = regoSourceOf(object);
    const rego = source === null || this.#options.compileRego === undefined ? undefined : await this.#options.compileRego(source);
    const verdict = judgePolicyObject(object, inForce?.record, rego);
    const tracked: Tracked = { object, verdict, publishError: null };
    this.#objects.set(key, tracked);
    if (verdict.kind === 'invalid') {
      if (before?.verdict.kind !== 'invalid' || before.verdict.generation !== verdict.generation) {
        this.#logger.warn({ policy: key, generation: verdict.generation, errors: verdict.errors }, 'policy refused: nothing published');
      }
    } else if (verdict.publish) {
      const { compiled } = verdict.result;
      try {
        await this.#options.publish([signedPolicyRecord(key, compiled, { key: this.#options.signingKey(), signedAtNs: this.#nextSignedAt() })]);
        this.#inForce.set(key, { generation: compiled.generation, record: compiled, counts: ruleCounts(verdict.result) });
        this.#logger.info(
          { policy: key, generation: compiled.generation, mode: compiled.mode, kernelRules: verdict.result.kernelRules.length, pipelineRules: verdict.result.pipelineRules.length },
          'policy published',
        );
      } catch (error) {
        tracked.publishError = (error as Error).message;
        this.#logger.error({ policy: key, err: error }, 'publishing the policy failed; retrying');
        this.#later(key, this.#options.retryDelayMs ?? 2000);
      }
    } else if (inForce && inForce.counts === undefined) {
      inForce.counts = ruleCounts(verdict.result);
    }
    await this.#writeStatus(key);
  }

  async #delete(object: PolicyObject): Promise<void> {
    const key = objectPolicyKey(object);
    this.#objects.delete(key);
    if (this.#inForce.has(key)) await this.#tombstone([key], 'deleted');
  }

  async #tombstoneOrphans(objectKeys: ReadonlySet<string>): Promise<void> {
    const orphans = orphanedKeys(this.#inForce.keys(), objectKeys);
    if (orphans.length > 0) await this.#tombstone(orphans, 'orphaned');
  }

  async #tombstone(keys: readonly string[], why: 'deleted' | 'orphaned'): Promise<void> {
    // Recreated while the tombstone waited (a retry): the object is the authority, not the tombstone.
    const gone = keys.filter((key) => !this.#objects.has(key) && this.#inForce.has(key));
    if (gone.length === 0) return;
    try {
      const signingKey = this.#options.signingKey();
      await this.#options.publish(gone.map((key) => signedPolicyRecord(key, null, { key: signingKey, signedAtNs: this.#nextSignedAt() })));
    } catch (error) {
      this.#logger.error({ policies: gone, err: error }, 'publishing tombstones failed; retrying');
      for (const key of gone) this.#later(key, this.#options.retryDelayMs ?? 2000);
      return;
    }
    for (const key of gone) this.#inForce.delete(key);
    this.#logger.info({ policies: gone, reason: why }, why === 'deleted' ? 'policy deleted: tombstone published' : 'no custom resource for these policies: tombstones published');
  }

  async #writeStatus(key: string): Promise<void> {
    const tracked = this.#objects.get(key);
    if (!tracked) return;
    const inForce = this.#inForce.get(key);
    if (inForce && inForce.counts === undefined) inForce.counts = inForce.record === null ? null : ruleCountsOfRecord(inForce.record);
    const status = buildPolicyStatus({
      verdict: tracked.verdict,
      inForce: inForce ? { generation: inForce.generation, counts: inForce.counts ?? null } : null,
      publishError: tracked.publishError,
      reports: this.#reports.of(key),
      previous: tracked.object.status,
      now: new Date(),
    });
    if (statusUnchanged(status, tracked.object.status)) return;
    try {
      await this.#options.writeStatus(tracked.object, status);
      // What the object shows now, until the informer delivers it with its new resourceVersion.
      tracked.object = { ...tracked.object, status: JSON.parse(JSON.stringify(status)) as unknown };
    } catch (error) {
      this.#logger.warn({ policy: key, err: error }, 'writing the status failed; retrying');
      this.#later(key, this.#options.retryDelayMs ?? 2000);
    }
  }
}
