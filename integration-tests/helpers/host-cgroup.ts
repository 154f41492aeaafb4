/**
 * Plain cgroup v2 directories outside any pod (`/<name>/<leaf>` under the real cgroup2 mount): a host process moved
 * into one keeps being a host process for the agent and the enricher, but its events carry a cgroup path no other
 * process has, so a test can tell its own host processes from the rest of the machine. The counterpart of
 * pod-cgroup.ts for host processes. `remove()` deletes what it created, deepest first, moving any process still
 * inside to the root first.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2MountPoint } from '@stinger/bpf';
import { removeCgroups } from './pod-cgroup.ts';

export interface HostCgroups {
  /** Creates `/<group>/<leaf>` (those missing); returns the path relative to the cgroup2 mount, as the agent reports it. */
  leaf(leaf: string): string;
  /** The cgroup.procs file of a path leaf() returned: writing a pid moves that process into it. */
  procsOf(relative: string): string;
  /** Removes every directory this object created, deepest first. Idempotent. */
  remove(): void;
}

export function hostCgroups(group: string): HostCgroups {
  const mount = cgroup2MountPoint();
  const created: string[] = [];
  const make = (dir: string): void => {
    if (existsSync(dir)) return;
    mkdirSync(dir);
    created.push(dir);
  };
  return {
    leaf(leaf) {
      make(join(mount, group));
      make(join(mount, group, leaf));
      return `/${group}/${leaf}`;
    },
    procsOf: (relative) => join(mount, relative, 'cgroup.procs'),
    remove: () => removeCgroups(mount, created),
  };
}
