/**
 * Pod scopes in the kernel: which pods' tasks each pod-scoped rule applies to (pod_scope_cgroups in
 * bpf/lib/stinger_maps.h). The map's key is the cgroup v2 id of a pod's own cgroup (kubepods/<qos>/pod<uid>, or the
 * systemd driver's kubepods-<qos>-pod<uid>.slice), its value the bit set of the scope slots (0..POD_SCOPE_SLOTS-1) the
 * pod belongs to; the programs find a task's pod by its cgroup ancestors, so every container of the pod, and cgroups
 * a container nests below its own, are covered. This object only writes what it is told: which pods a selector
 * names is decided by the agent (libs/agent pod-scopes), which assigns the slots. The map is shared like the ring
 * buffer, so one set of scopes serves every sensor joined to `sensor`.
 *
 * Who calls: the agent, when a pod-scoped rule enters or leaves the kernel and when this node's pods change. Not
 * thread-safe; one PodScopeMap per agent (it owns the map).
 */
import { BpfError } from './errors.ts';
import { u64Key } from './map-keys.ts';
import type { Sensor } from './sensor.ts';

/** Entries pod_scope_cgroups holds (POD_SCOPE_CGROUPS_MAX): pod cgroups of all scopes together. */
export const POD_SCOPE_CGROUPS_MAX = 4096;
/** Levels of cgroup ancestors the kernel searches for a pod's cgroup (POD_SCOPE_SEARCH_DEPTH). */
export const POD_SCOPE_SEARCH_DEPTH = 6;

export interface PodScopeMap {
  /**
   * Sets the scope bits of the pod whose cgroup id is `cgroupId` (bit n: slot n); 0n removes the entry. Throws
   * BpfError when the map is full or the id is not a cgroup id.
   */
  set(cgroupId: bigint, scopes: bigint): void;
  /** The scope bits of a pod cgroup in the kernel map now (0n: none). */
  get(cgroupId: bigint): bigint;
  /** Every pod cgroup in the kernel map now, with its bits. */
  entries(): Map<bigint, bigint>;
}

export function createPodScopeMap(sensor: Sensor): PodScopeMap {
  const map = sensor.sharedMap('pod_scope_cgroups');
  const bits = (value: Uint8Array): bigint => new DataView(value.buffer, value.byteOffset).getBigUint64(0, true);
  return {
    set(cgroupId, scopes) {
      if (typeof cgroupId !== 'bigint' || cgroupId <= 0n || cgroupId >= 1n << 64n) throw new BpfError(`not a cgroup id: ${String(cgroupId)}`);
      if (scopes === 0n) {
        map.delete(u64Key(cgroupId));
        return;
      }
      const value = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, BigInt.asUintN(64, scopes), true);
      try {
        map.update(u64Key(cgroupId), value);
      } catch (error) {
        throw new BpfError(`pod scopes: cannot add the pod cgroup ${cgroupId} (at most ${POD_SCOPE_CGROUPS_MAX} pods): ${(error as Error).message}`);
      }
    },
    get(cgroupId) {
      const value = new Uint8Array(8);
      return map.lookup(u64Key(cgroupId), value) ? bits(value) : 0n;
    },
    entries() {
      const result = new Map<bigint, bigint>();
      for (const key of map.keys()) {
        const value = new Uint8Array(8);
        if (map.lookup(key, value)) result.set(bits(key), bits(value));
      }
      return result;
    },
  };
}
