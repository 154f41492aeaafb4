/**
 * Which inodes the guard marks for the identity rules in force, in each root it guards (the host's, and each
 * container's own file system seen through /proc/<pid>/root), and which rules target each marked inode.
 *
 * - an `equal` target: the file's inode; its parent directory is watched for creations and renames (a file
 *   replaced by rename, as `passwd` replaces /etc/shadow, is a new inode: it is marked on the next plan);
 * - a `prefix` target: every directory below it, marked for its children's opens (files created later are
 *   covered by their directory), and every file below it, so a hard link or bind mount elsewhere stays covered;
 * - exec rules naming a sha256: every file system of those roots, for exec only (the digest is checked per file
 *   and cached by inode and modification time).
 * Pure apart from the stat/readdir it is given (tests pass a fake; the worker passes node:fs).
 */
import { readdirSync, readFileSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { FAN } from './fanotify.ts';
import type { GuardRule, RuleTarget } from './guard-rules.ts';

/** A root the guard enforces in: the host's ('' root), or a container's. */
export interface GuardRoot {
  /** 'host', or the container id. */
  readonly id: string;
  /** '' for the host; `/proc/<pid>/root` for a container. */
  readonly root: string;
  readonly pod: boolean;
}

export interface PlannedMark {
  /** The path the agent marks it by (the root prepended). */
  readonly markPath: string;
  readonly mask: number;
  /** 0, or FAN.MARK_FILESYSTEM. */
  readonly flags: number;
}

/** A marked directory's rules: they apply to every file below it that no inode entry names. */
export interface DirectoryTargets {
  readonly rootId: string;
  readonly entries: readonly { readonly rule: GuardRule; readonly target: { readonly kind: 'equal' | 'prefix'; readonly path: string } }[];
}

export interface MarkPlan {
  /** By `${dev}:${ino}` (or `fs:${dev}` for a file system mark). */
  readonly marks: ReadonlyMap<string, PlannedMark>;
  /** Marked files: the rules that target each (in the root's own paths). */
  readonly targetsByInode: ReadonlyMap<string, readonly (RuleTarget & { readonly rootId: string })[]>;
  /** Marked directories of prefix targets. */
  readonly directories: ReadonlyMap<string, DirectoryTargets>;
  /** Directories watched for created or moved-in entries (the plan is made again when one changes). */
  readonly watchedDirectories: readonly string[];
  /** Exec rules that name digests. */
  readonly digestRules: readonly GuardRule[];
  /** One line per target the plan could not mark in full. */
  readonly problems: readonly string[];
}

export interface PlanFileSystem {
  stat(path: string): BigIntStats | null;
  readdir(path: string): Dirent[] | null;
  /** Mount points of file systems an exec can run a program from (for digest rules). */
  mountPoints(root: string): string[];
}

export const nodeFileSystem: PlanFileSystem = {
  stat(path) {
    try {
      return statSync(path, { bigint: true });
    } catch {
      return null;
    }
  },
  readdir(path) {
    try {
      return readdirSync(path, { withFileTypes: true });
    } catch {
      return null;
    }
  },
  mountPoints(root) {
    if (root !== '') return [`${root}/`];
    try {
      return readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((line) => line.split(' '))
        .filter((fields) => EXEC_FILE_SYSTEMS.has(fields[fields.indexOf('-') + 1] ?? ''))
        .map((fields) => (fields[4] ?? '/').replace(/\\040/g, ' '));
    } catch {
      return ['/'];
    }
  },
};

/** File system types programs are run from; pseudo file systems (proc, sysfs, cgroup…) are left alone. */
const EXEC_FILE_SYSTEMS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'f2fs', 'zfs', 'squashfs', 'vfat', '9p', 'virtiofs', 'fuse']);

/** Marks beyond this many are not made; the plan says which targets were cut short. */
export const MAX_MARKS = 50_000;

function inodeKey(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`;
}

function appliesIn(rule: GuardRule, root: GuardRoot): boolean {
  return rule.scope === 'all' || (rule.scope === 'pods') === root.pod;
}

export function planMarks(rules: readonly GuardRule[], roots: readonly GuardRoot[], fs: PlanFileSystem = nodeFileSystem): MarkPlan {
  const marks = new Map<string, PlannedMark>();
  const targetsByInode = new Map<string, (RuleTarget & { rootId: string })[]>();
  const directories = new Map<string, { rootId: string; entries: DirectoryTargets['entries'][number][] }>();
  const watched = new Set<string>();
  const problems: string[] = [];

  const mark = (key: string, wanted: PlannedMark): boolean => {
    const existing = marks.get(key);
    if (existing === undefined && marks.size >= MAX_MARKS) return false;
    marks.set(key, { ...wanted, mask: (existing?.mask ?? 0) | wanted.mask });
    return true;
  };

  for (const root of roots) {
    for (const rule of rules) {
      if (!appliesIn(rule, root)) continue;
      const openMask = rule.event === 'exec' ? FAN.OPEN_EXEC_PERM : FAN.OPEN_PERM;
      for (const target of rule.targets) {
        const where = `${rule.policy}/${rule.rule}: ${target.path}${root.id === 'host' ? '' : ` in container ${root.id.slice(0, 12)}`}`;
        if (target.kind === 'equal') {
          watched.add(`${root.root}${parentOf(target.path)}`);
          const stats = fs.stat(`${root.root}${target.path}`);
          if (stats === null) {
            if (root.id === 'host') problems.push(`${where} does not exist: marked when it is created`);
            continue;
          }
          const key = inodeKey(stats);
          if (!mark(key, { markPath: `${root.root}${target.path}`, mask: openMask, flags: 0 })) problems.push(`${where}: more than ${MAX_MARKS} marks`);
          pushTo(targetsByInode, key, { rule, path: target.path, rootId: root.id });
          continue;
        }
        // A prefix: the directory it names (or, for `/etc/sec`, the entries of /etc starting with `sec`).
        const endsInSlash = target.path.endsWith('/');
        const base = endsInSlash ? target.path.slice(0, -1) || '/' : parentOf(target.path);
        const namePrefix = endsInSlash ? '' : target.path.slice(base.length === 1 ? 1 : base.length + 1);
        const pending: string[] = [];
        if (endsInSlash) pending.push(base);
        else {
          watched.add(`${root.root}${base}`);
          for (const entry of fs.readdir(`${root.root}${base}`) ?? []) if (entry.name.startsWith(namePrefix)) pending.push(join(base, entry.name));
        }
        let cut = false;
        while (pending.length > 0 && !cut) {
          const path = pending.pop() as string;
          const stats = fs.stat(`${root.root}${path}`);
          if (stats === null) continue;
          const key = inodeKey(stats);
          if (stats.isDirectory()) {
            if (!mark(key, { markPath: `${root.root}${path}`, mask: openMask | FAN.EVENT_ON_CHILD, flags: 0 })) cut = true;
            const entry = directories.get(key) ?? { rootId: root.id, entries: [] };
            entry.entries.push({ rule, target });
            directories.set(key, entry);
            watched.add(`${root.root}${path}`);
            for (const child of fs.readdir(`${root.root}${path}`) ?? []) {
              if (child.isDirectory() || child.isFile()) pending.push(join(path, child.name));
            }
          } else if (stats.isFile()) {
            if (!mark(key, { markPath: `${root.root}${path}`, mask: openMask, flags: 0 })) cut = true;
            pushTo(targetsByInode, key, { rule, path, rootId: root.id });
          }
        }
        if (cut) problems.push(`${where}: more than ${MAX_MARKS} marks; files below it beyond that are not marked`);
        else if (root.id === 'host' && fs.stat(`${root.root}${base}`) === null) problems.push(`${where} does not exist: marked when it is created`);
      }
    }
  }

  const digestRules = rules.filter((rule) => rule.event === 'exec' && rule.sha256.length > 0);
  if (digestRules.length > 0) {
    for (const root of roots) {
      if (!digestRules.some((rule) => appliesIn(rule, root))) continue;
      for (const mountPoint of fs.mountPoints(root.root)) {
        const stats = fs.stat(mountPoint);
        if (stats !== null) mark(`fs:${stats.dev}`, { markPath: mountPoint, mask: FAN.OPEN_EXEC_PERM, flags: FAN.MARK_FILESYSTEM });
      }
    }
  }
  return { marks, targetsByInode, directories, watchedDirectories: [...watched], digestRules, problems };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

function join(directory: string, name: string): string {
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
}
