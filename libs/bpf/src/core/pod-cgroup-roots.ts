/**
 * The pod cgroup roots the kernel tells pods by (pod_cgroup_roots in bpf/lib/stinger_maps.h): cgroup v2 ids
 * (directory inode numbers) of kubepods.slice (systemd driver) or kubepods (cgroupfs), at most 16. A task under
 * one of them, at most POD_ROOT_SEARCH_DEPTH levels below the v2 root, is a pod's; host-only rules
 * (selector.host: true) skip it. The map is shared like the ring buffer: one set reaches every sensor joined to
 * `sensor`. Who calls: the agent, at start before any policy, and again when the roots change (libs/process-cache
 * findPodCgroupRoots). Until it is set every task counts as a host process.
 */
import { BpfError } from './errors.ts';
import { u64Key } from './map-keys.ts';
import type { Sensor } from './sensor.ts';

export const MAX_POD_CGROUP_ROOTS = 16;
/** Levels of cgroup v2 ancestors the kernel searches for a pod cgroup root (POD_ROOT_SEARCH_DEPTH). */
export const POD_ROOT_SEARCH_DEPTH = 4;

export interface PodCgroupRoots {
  /** Replaces the set; returns whether it changed. Throws BpfError beyond MAX_POD_CGROUP_ROOTS. */
  set(ids: readonly bigint[]): boolean;
  list(): bigint[];
}

export function createPodCgroupRoots(sensor: Sensor): PodCgroupRoots {
  const map = sensor.sharedMap('pod_cgroup_roots');
  let current = new Set<bigint>();
  return {
    set(ids) {
      const next = new Set(ids);
      if (next.size > MAX_POD_CGROUP_ROOTS) throw new BpfError(`at most ${MAX_POD_CGROUP_ROOTS} pod cgroup roots, got ${next.size}`);
      if (next.size === current.size && [...next].every((id) => current.has(id))) return false;
      for (const id of current) if (!next.has(id)) map.delete(u64Key(id));
      for (const id of next) if (!current.has(id)) map.update(u64Key(id), Uint8Array.of(1));
      current = next;
      return true;
    },
    list: () => [...current],
  };
}
