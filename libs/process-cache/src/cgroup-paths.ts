/**
 * cgroup id → cgroup path. BPF records carry the cgroup v2 id (bpf_get_current_cgroup_id), which is
 * the inode number of the cgroup's directory in the v2 hierarchy; the path (relative to the v2 root,
 * as in /proc/<pid>/cgroup) is what container identity is read from. The tree is walked once and
 * again on a miss (at most once per `rewalkIntervalMs`), so new containers resolve within a second.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
