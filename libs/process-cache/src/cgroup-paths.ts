/**
 * cgroup id → cgroup path. BPF records carry the cgroup v2 id (bpf_get_current_cgroup_id), which is
 * the inode number of the cgroup's directory in the v2 hierarchy; the path (relative to the v2 root,
 * as in /proc/<pid>/cgroup) is what container identity is read from. The tree is walked once and
 * again on a miss (at most once per `rewalkIntervalMs`), so new containers resolve within a second.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { podUidFromCgroupPath } from './container-id.ts';

export interface CgroupPathResolverOptions {
  /** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in a hybrid layout). */
  readonly mountPoint: string;
  readonly rewalkIntervalMs?: number;
  /** Bound on directories visited per walk. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export interface CgroupPathResolver {
  pathOf(cgroupId: bigint): string | null;
  readonly size: number;
}

export function createCgroupPathResolver(options: CgroupPathResolverOptions): CgroupPathResolver {
  const { mountPoint, rewalkIntervalMs = 1000, maxEntries = 100_000, now = Date.now } = options;
  let paths = new Map<bigint, string>();
  let lastWalk = -Infinity;

  function walk(): void {
    const next = new Map<bigint, string>();
    const stack: string[] = [''];
    while (stack.length > 0 && next.size < maxEntries) {
      const relative = stack.pop() as string;
      const absolute = join(mountPoint, relative);
      try {
        next.set(statSync(absolute, { bigint: true }).ino, relative === '' ? '/' : relative);
        for (const entry of readdirSync(absolute, { withFileTypes: true })) {
          if (entry.isDirectory()) stack.push(`${relative}/${entry.name}`);
        }
      } catch {
        // A cgroup removed while walking: skip it.
      }
    }
    paths = next;
    lastWalk = now();
  }

  return {
    pathOf(cgroupId) {
      const known = paths.get(cgroupId);
      if (known !== undefined) return known;
      if (now() - lastWalk < rewalkIntervalMs) return null;
      walk();
      return paths.get(cgroupId) ?? null;
    },
    get size() {
      return paths.size;
    },
  };
}

/** Directory names kubelet gives the root of all pod cgroups: systemd driver, cgroupfs driver. */
export const POD_CGROUP_ROOT_NAMES: readonly string[] = ['kubepods.slice', 'kubepods'];

/**
 * The pod cgroup roots under a cgroup v2 mount: directories named kubepods.slice or kubepods, at most `maxDepth`
 * levels below the mount (kubelet puts them at level 1, or deeper under a nested runtime), with their cgroup ids
 * (inode numbers) and paths. Their subtrees are not searched. The agent calls this at start and then periodically,
 * to give host-only kernel rules something to tell pods by (libs/bpf FileSensor.podCgroupRoots).
 */
export function findPodCgroupRoots(mountPoint: string, maxDepth = 4): { id: bigint; path: string }[] {
  return findCgroupDirs(mountPoint, { start: '', maxDepth, match: (name) => POD_CGROUP_ROOT_NAMES.includes(name) }).map(({ id, path }) => ({ id, path }));
}

/**
 * Directories at most `maxDepth` levels below `start` (relative to the mount) whose name `match` accepts, with their
 * cgroup ids; a matched directory's subtree is not searched, and at most 10,000 directories are read. Directories
 * removed while walking are skipped.
 */
function findCgroupDirs(
  mountPoint: string,
  { start, maxDepth, match }: { readonly start: string; readonly maxDepth: number; readonly match: (name: string) => boolean },
): { id: bigint; path: string; name: string }[] {
  const found: { id: bigint; path: string; name: string }[] = [];
  const stack: { relative: string; depth: number }[] = [{ relative: start, depth: 0 }];
  let visited = 0;
  while (stack.length > 0 && visited < 10_000) {
    const { relative, depth } = stack.pop() as { relative: string; depth: number };
    visited += 1;
    let entries;
    try {
      entries = readdirSync(join(mountPoint, relative), { withFileTypes: true });
    } catch {
      continue; // removed while walking
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const child = `${relative}/${entry.name}`;
      if (match(entry.name)) {
        try {
          found.push({ id: statSync(join(mountPoint, child), { bigint: true }).ino, path: child, name: entry.name });
        } catch {
          // removed while walking
        }
      } else if (depth + 1 < maxDepth) {
        stack.push({ relative: child, depth: depth + 1 });
      }
    }
  }
  return found;
}

/**
 * The pods' own cgroups under the pod cgroup roots (paths relative to the v2 mount, from findPodCgroupRoots): pod uid →
 * cgroup id of kubepods/<qos>/pod<uid> or kubepods/pod<uid> (cgroupfs driver), or
 * kubepods-<qos>-pod<uid>.slice / kubepods-pod<uid>.slice (systemd driver; underscores in the uid read as dashes).
 * At most `maxDepth` levels below a root (the QoS level and the pod's); a pod's subtree is not searched. kubelet
 * makes a pod's cgroup before it starts any of its containers, so a pod found here has run no process yet or is
 * covered from now on. Who calls: the agent, for its kernel pod scopes, when its node's pods change and on a timer.
 */
export function findPodCgroups(mountPoint: string, rootPaths: readonly string[], maxDepth = 2): Map<string, bigint> {
  const pods = new Map<string, bigint>();
  for (const root of rootPaths) {
    for (const { id, name } of findCgroupDirs(mountPoint, { start: root, maxDepth, match: (dir) => podUidFromCgroupPath(dir) !== null })) {
      pods.set(podUidFromCgroupPath(name) as string, id);
    }
  }
  return pods;
}
