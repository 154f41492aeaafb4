/**
 * The guard's worker thread: owns the fanotify groups, keeps the marks in line with the identity rules and
 * roots the agent sends, and answers every permission event. It runs off the agent's main event loop, so a busy
 * or stalled event loop never holds up an open, and the agent never waits on its own marks (its own opens are
 * allowed at once: the answer comes from this thread, not the one that opened).
 *
 * Protocol (file-guard.ts is the other side), on the MessagePort in workerData:
 * - in: {type:'rules', rules}, {type:'roots', roots}, {type:'stop'}
 * - out: {type:'ready', fds}, {type:'unavailable', reason}, {type:'plan', marks, problems}, {type:'decision', …},
 *   {type:'failed', reason}
 * Counters go to the shared array in workerData (GUARD_COUNTERS order), so reading them costs the agent nothing.
 *
 * If this thread fails, it closes its groups before it ends: closing the descriptor lets every waiting and
 * future open of a marked file proceed (the kernel's rule; the agent being SIGKILLed closes it the same way).
 */
import { createHash } from 'node:crypto';
import { fstatSync, readFileSync, readlinkSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { closeDescriptor, FAN, FanotifyGroup, pollReadable, type FanotifyEvent } from './fanotify.ts';
import { decide, targetCovers, type GuardRule, type OpenerFacts, type RuleTarget, type Verdict } from './guard-rules.ts';
import { planMarks, type GuardRoot, type MarkPlan, type PlannedMark } from './mark-plan.ts';
import { accessOf, readBaseDirectory, readBlockedCall, type BlockedCall, readExecutable, readInPod, readRealUid, resolveInRoot, withinRoot } from './process-facts.ts';
import { bindMountPoints, isUnder, reachedBy, type ReachedBy } from './reached-by.ts';
import { GUARD_COUNTERS, SLOW_ANSWER_MS, type GuardDecision, type GuardRootSpec, type WorkerData, type WorkerMessage } from './protocol.ts';

const { port, selfPid, counters: counterBuffer } = workerData as WorkerData & { port: MessagePort };
const counters = new BigInt64Array(counterBuffer);
const count = (name: (typeof GUARD_COUNTERS)[number], by = 1n): void => void Atomics.add(counters, GUARD_COUNTERS.indexOf(name), by);
const setCount = (name: (typeof GUARD_COUNTERS)[number], value: bigint): void => void Atomics.store(counters, GUARD_COUNTERS.indexOf(name), value);

/** Executables larger than this are not hashed: an exec of one is allowed and counted (`digest_skipped`). */
const MAX_DIGEST_BYTES = 64 * 1024 * 1024;
const DIGEST_CACHE_SIZE = 4096;
const REPLAN_DELAY_MS = 20;

const HOST: GuardRoot = { id: 'host', root: '', pod: false };

let group: FanotifyGroup;
let notify: FanotifyGroup;
try {
  group = new FanotifyGroup(FAN.CLASS_CONTENT | FAN.UNLIMITED_QUEUE | FAN.UNLIMITED_MARKS);
  notify = new FanotifyGroup(FAN.CLASS_NOTIF | FAN.REPORT_DFID_NAME | FAN.UNLIMITED_QUEUE | FAN.UNLIMITED_MARKS);
} catch (error) {
  port.postMessage({ type: 'unavailable', reason: (error as Error).message } satisfies WorkerMessage);
  process.exit(0);
}

let rules: readonly GuardRule[] = [];
let roots: readonly GuardRoot[] = [HOST];
let plan: MarkPlan | null = null;
let watched = new Set<string>();
let replanAt = 0;
const digests = new Map<string, string>();
/** The digests the last plan was made for: when they change, executables ignored as clean must be asked about again. */
let plannedDigests = '';

port.postMessage({ type: 'ready', fds: [group.fd, notify.fd] } satisfies WorkerMessage);

try {
  for (let running = true; running; ) {
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      const message = received.message as { type: 'rules'; rules: GuardRule[] } | { type: 'roots'; roots: GuardRootSpec[] } | { type: 'stop' };
      if (message.type === 'stop') running = false;
      else if (message.type === 'rules') {
        rules = message.rules;
        replanAt = 1;
      } else {
        roots = [HOST, ...message.roots.map((spec) => ({ id: spec.id, root: `/proc/${spec.pid}/root`, pod: spec.pod }))];
        replanAt = 1;
      }
    }
    if (!running) break;
    if (replanAt !== 0 && Date.now() >= replanAt) {
      replanAt = 0;
      replan();
    }
    const ready = pollReadable([group.fd, notify.fd], replanAt !== 0 ? REPLAN_DELAY_MS : 100);
    if (ready.includes(group.fd)) for (const event of group.read()) answer(event);
    if (ready.includes(notify.fd)) {
      for (const event of notify.read()) if (event.fd >= 0) closeDescriptor(event.fd);
      // A file created or moved in below a watched directory: mark it soon (a burst of creations, one plan).
      if (replanAt === 0) replanAt = Date.now() + REPLAN_DELAY_MS;
    }
  }
} catch (error) {
  port.postMessage({ type: 'failed', reason: (error as Error).stack ?? String(error) } satisfies WorkerMessage);
} finally {
  group.close();
  notify.close();
  port.postMessage({ type: 'closed' } satisfies WorkerMessage);
}

/**
 * An executable whose digest no rule names is not asked about again until it changes: an ignore mark on its inode
 * for exec permission (the kernel drops the ignore mark when the file is modified, so a changed file is hashed
 * again). This is what makes a digest rule cheap: only the first exec of each executable waits for a hash.
 */
function ignoreUntilModified(fd: number): void {
  try {
    group.add(`/proc/self/fd/${fd}`, FAN.OPEN_EXEC_PERM, FAN.MARK_IGNORED_MASK);
  } catch {
    count('errors');
  }
}

function replan(): void {
  const next = planMarks(rules, roots);
  const digestsNow = JSON.stringify(next.digestRules.map((rule) => rule.sha256));
  if (digestsNow !== plannedDigests && plan !== null) {
    // Ignore marks cannot be listed: flush every inode mark and make the plan's marks again from nothing.
    group.flushInodeMarks();
    plan = { ...plan, marks: new Map([...plan.marks].filter(([, mark]) => mark.flags === FAN.MARK_FILESYSTEM)) };
  }
  plannedDigests = digestsNow;
  const previous = plan?.marks ?? new Map<string, PlannedMark>();
  const problems = [...next.problems];
  for (const [key, mark] of next.marks) {
    const before = previous.get(key);
    if (before?.mask === mark.mask && before.markPath === mark.markPath) continue;
    try {
      group.add(mark.markPath, mark.mask, mark.flags);
      if (before && (before.mask & ~mark.mask) !== 0) group.remove(mark.markPath, before.mask & ~mark.mask, mark.flags);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const [key, before] of previous) {
    if (next.marks.has(key)) continue;
    // Only while the path still names the inode marked: a file replaced since keeps its new mark.
    if (keyOf(before) !== key) continue;
    try {
      group.remove(before.markPath, before.mask, before.flags);
    } catch {
      // the inode is gone, and its mark with it
    }
  }
  const nextWatched = new Set(next.watchedDirectories);
  for (const path of nextWatched) {
    if (watched.has(path)) continue;
    try {
      notify.add(path, FAN.CREATE | FAN.MOVED_TO | FAN.ONDIR);
    } catch {
      // a directory that does not exist (yet): its parent's plan covers it
    }
  }
  for (const path of watched) {
    if (nextWatched.has(path)) continue;
    try {
      notify.remove(path, FAN.CREATE | FAN.MOVED_TO | FAN.ONDIR);
    } catch {
      // gone
    }
  }
  watched = nextWatched;
  plan = next;
  setCount('marks', BigInt(next.marks.size));
  port.postMessage({ type: 'plan', marks: next.marks.size, problems } satisfies WorkerMessage);
}

function keyOf(mark: PlannedMark): string | null {
  try {
    const stats = statSync(mark.markPath, { bigint: true });
    return mark.flags === FAN.MARK_FILESYSTEM ? `fs:${stats.dev}` : `${stats.dev}:${stats.ino}`;
  } catch {
    return null;
  }
}

function answer(event: FanotifyEvent): void {
  if (event.fd < 0) {
    if ((event.mask & BigInt(FAN.Q_OVERFLOW)) !== 0n) count('errors');
    return;
  }
  const started = performance.now();
  count('events');
  let verdict: Verdict = { kind: 'allow' };
  let allow = true;
  let decision: GuardDecision | null = null;
  try {
    if (event.pid !== selfPid) {
      const exec = (event.mask & BigInt(FAN.OPEN_EXEC_PERM)) !== 0n;
      const stats = fstatSync(event.fd, { bigint: true });
      const located = locate(event, stats, exec);
      const digest = exec && plan !== null && plan.digestRules.length > 0 ? digestOf(event.fd, stats) : null;
      const targets = [...located.targets];
      if (digest !== null) {
        const path = located.path ?? hostPathOf(event.fd, event.pid);
        for (const rule of plan?.digestRules ?? []) if (rule.sha256.includes(digest)) targets.push({ rule, path });
      }
      if (digest !== null && targets.length === 0) ignoreUntilModified(event.fd);
      if (targets.length > 0) {
        // Read once: the decision may need the open flags, the report the path given.
        const call = once(() => readBlockedCall(event.pid));
        verdict = decideSafely(targets, openerFacts(event.pid, { exec, targetPath: targets[0]?.path ?? '', call }));
        if (verdict.kind !== 'allow') {
          allow = false;
          decision = describe(event, verdict, { exec, stats, digest, call: call() });
          if (verdict.kind === 'kill') killOpener(event.pid);
        }
      }
    }
  } catch (error) {
    count('errors');
    port.postMessage({ type: 'failed', reason: `answering pid ${event.pid}: ${(error as Error).message}` } satisfies WorkerMessage);
  }
  try {
    group.respond(event.fd, allow);
  } catch {
    // the opener is gone (killed while it waited): nothing to answer
  }
  closeDescriptor(event.fd);
  const elapsedMs = performance.now() - started;
  count(allow ? 'allowed' : verdict.kind === 'kill' ? 'killed' : 'denied');
  count('answer_micros', BigInt(Math.round(elapsedMs * 1000)));
  if (elapsedMs > SLOW_ANSWER_MS) count('slow_answers');
  if (decision !== null) port.postMessage({ type: 'decision', decision: { ...decision, answerMicros: Math.round(elapsedMs * 1000) } } satisfies WorkerMessage);
}

/** A decision that throws fails closed on the first target: the file is one a rule protects. */
function decideSafely(targets: readonly RuleTarget[], opener: OpenerFacts): Verdict {
  try {
    return decide(targets, opener);
  } catch {
    count('errors');
    const first = targets[0] as RuleTarget;
    return { kind: first.rule.action, rule: first.rule, path: first.path };
  }
}

/** The rules targeting the event's file: by its inode, else by the marked directory it lies in. */
function locate(event: FanotifyEvent, stats: BigIntStats, exec: boolean): { targets: readonly RuleTarget[]; path: string | null } {
  if (plan === null) return { targets: [], path: null };
  const key = `${stats.dev}:${stats.ino}`;
  const wanted = (rule: GuardRule): boolean => (rule.event === 'exec') === exec;
  const direct = plan.targetsByInode.get(key);
  if (direct !== undefined) {
    const targets = direct.filter((t) => wanted(t.rule));
    return { targets, path: targets[0]?.path ?? null };
  }
  if (plan.directories.size === 0) return { targets: [], path: null };
  // A file no plan has seen (created since): find the root and path it has there, then the directories' rules.
  let seen: string;
  try {
    seen = readlinkSync(`/proc/self/fd/${event.fd}`);
  } catch {
    return { targets: [], path: null };
  }
  for (const root of roots) {
    for (const path of candidatePaths(root, seen)) {
      let found: BigIntStats;
      try {
        found = statSync(`${root.root}${path}`, { bigint: true });
      } catch {
        continue;
      }
      if (found.dev !== stats.dev || found.ino !== stats.ino) continue;
      const targets: RuleTarget[] = [];
      for (const directory of plan.directories.values()) {
        if (directory.rootId !== root.id) continue;
        for (const entry of directory.entries) if (wanted(entry.rule) && targetCovers(entry.target, path)) targets.push({ rule: entry.rule, path });
      }
      if (targets.length > 0) {
        // Mark it now, so a hard link made to it later is covered; the next plan records it.
        try {
          group.add(`${root.root}${path}`, exec ? FAN.OPEN_EXEC_PERM : FAN.OPEN_PERM);
        } catch {
          // counted below as unresolved if it matters
        }
        replanAt ||= Date.now() + REPLAN_DELAY_MS;
        return { targets: dedupe(targets), path };
      }
    }
  }
  count('unresolved');
  return { targets: [], path: null };
}

function dedupe(targets: RuleTarget[]): RuleTarget[] {
  const seen = new Set<number>();
  return targets.filter((t) => !seen.has(t.rule.ruleId) && seen.add(t.rule.ruleId));
}

/** Where `seen` (the path the agent sees the file by) may lie in `root`: as is, or below the root's host path. */
function candidatePaths(root: GuardRoot, seen: string): string[] {
  if (root.root === '') return [seen];
  const inRoot = withinRoot(seen, rootPrefixOf(root.root));
  return inRoot === seen ? [seen] : [seen, inRoot];
}

/**
 * Where a root (`/proc/<pid>/root`) lies in the agent's view, as a prefix to strip from paths the agent sees: '' for
 * the agent's own root, or when it cannot be read (the process is gone).
 */
function rootPrefixOf(procRoot: string): string {
  try {
    const link = readlinkSync(procRoot);
    return link === '/' ? '' : link;
  } catch {
    return '';
  }
}

function once<T>(read: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: read() }).v;
}

/** The file's path in the opener's namespace, from the descriptor (for digest matches, which mark no path). */
function hostPathOf(fd: number, pid: number): string {
  try {
    return withinRoot(readlinkSync(`/proc/self/fd/${fd}`), rootPrefixOf(`/proc/${pid}/root`));
  } catch {
    return '';
  }
}

function openerFacts(pid: number, opened: { exec: boolean; targetPath: string; call: () => BlockedCall | null }): OpenerFacts {
  return {
    binary: opened.exec ? () => opened.targetPath : once(() => readExecutable(pid)),
    uid: once(() => readRealUid(pid)),
    inPod: once(() => readInPod(pid)),
    access: () => {
      const flags = opened.call()?.flags ?? null;
      return flags === null ? null : accessOf(flags);
    },
  };
}

function describe(
  event: FanotifyEvent,
  verdict: Verdict & { kind: 'deny' | 'kill' },
  { exec, stats, digest, call }: { exec: boolean; stats: BigIntStats; digest: string | null; call: BlockedCall | null },
): GuardDecision {
  const procRoot = `/proc/${event.pid}/root`;
  const strip = rootPrefixOf(procRoot);
  const reached: ReachedBy = reachedBy({
    given: call?.path ?? null,
    dirfd: call?.dirfd ?? -100,
    baseDirectory: call ? readBaseDirectory(event.pid, call.dirfd, strip) : null,
    target: verdict.path,
    realpath: (path) => resolveInRoot(procRoot, path),
    links: Number(stats.nlink),
    underBindMount: (path) => {
      try {
        return isUnder(bindMountPoints(readFileSync(`/proc/${event.pid}/mountinfo`, 'utf8')), path);
      } catch {
        return false;
      }
    },
  });
  return {
    ruleId: verdict.rule.ruleId,
    policy: verdict.rule.policy,
    rule: verdict.rule.rule,
    action: verdict.kind,
    event: exec ? 'exec' : 'file',
    pid: event.pid,
    timeNs: BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n,
    path: verdict.path,
    pathAsGiven: call?.path ?? verdict.path,
    reachedBy: reached,
    flags: call?.flags ?? 0,
    sha256: digest,
    answerMicros: 0,
  };
}

function killOpener(pid: number): void {
  try {
    // The process is blocked in this open until it is answered: the pid cannot name anything else yet.
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function digestOf(fd: number, stats: BigIntStats): string | null {
  const key = `${stats.dev}:${stats.ino}:${stats.mtimeNs}:${stats.size}`;
  const cached = digests.get(key);
  if (cached !== undefined) return cached;
  if (stats.size > BigInt(MAX_DIGEST_BYTES)) {
    count('digest_skipped');
    return null;
  }
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  for (let position = 0; ; ) {
    const got = readSync(fd, buffer, 0, buffer.length, position);
    if (got <= 0) break;
    hash.update(buffer.subarray(0, got));
    position += got;
  }
  const digest = hash.digest('hex');
  count('digests');
  if (digests.size >= DIGEST_CACHE_SIZE) digests.delete(digests.keys().next().value as string);
  digests.set(key, digest);
  return digest;
}
