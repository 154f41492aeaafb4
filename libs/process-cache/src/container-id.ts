/**
 * Container identity from a cgroup path, for the layouts kubelet and container runtimes create
 * (containerd, CRI-O, Docker; systemd and cgroupfs drivers; cgroup v1 and v2). Pure; the enricher
 * maps the id to a pod. Returns null for host processes.
 *
 * Accepted inputs: a path relative to a cgroup mount, a path under a v1 controller hierarchy
 * (`/sys/fs/cgroup/memory/kubepods/...`), or a whole `/proc/<pid>/cgroup` line (`4:memory:/kubepods/...`,
 * `0::/kubepods.slice/...`).
 *
 * Examples:
 *   systemd driver:  /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
 *                    .../crio-<id>.scope, .../docker-<id>.scope, and nested ones below them (…-<id>.scope/init)
 *   systemd-managed runtime paths ("slice:prefix:name"): .../kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>
 *   cgroupfs driver: /kubepods/besteffort/pod<uid>/<id>, /kubepods/pod<uid>/<id> (guaranteed), /kubepods/burstable/pod<uid>/crio-<id>
 *   plain docker:    /docker/<id>, /system.slice/docker-<id>.scope
 * Skipped (not a container; null): CRI-O's and podman's monitor processes, `crio-conmon-<id>.scope` and
 * `libpod-conmon-<id>.scope`, which run in the pod's cgroup but are the runtime's, not the workload's.
 */

const PROC_CGROUP_LINE_PREFIX = /^\d+:[^:/]*:/;
const PREFIXED_ID = /^(?:cri-containerd|crio|docker|containerd|libpod)-([0-9a-f]{64})(?:\.scope)?$/;
const SYSTEMD_TRIPLE_ID = /:(?:cri-containerd|crio|docker|containerd|libpod):([0-9a-f]{64})$/;
const BARE_ID = /^([0-9a-f]{64})$/;
const CONMON = /^(?:crio|libpod)-conmon-[0-9a-f]{64}(?:\.scope)?$/;
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

function segmentsOf(path: string): string[] {
  return path.replace(PROC_CGROUP_LINE_PREFIX, '').split('/');
}

export function containerIdFromCgroupPath(path: string | null): string | null {
  if (!path) return null;
  const segments = segmentsOf(path);
  // Innermost first: a container may nest cgroups of its own below its scope (`<id>.scope/init`).
  for (let i = segments.length - 1; i >= 0; i -= 1) {
    const segment = segments[i] ?? '';
    if (CONMON.test(segment)) return null;
    const id = PREFIXED_ID.exec(segment)?.[1] ?? SYSTEMD_TRIPLE_ID.exec(segment)?.[1] ?? BARE_ID.exec(segment)?.[1];
    if (id) return id;
    // Above the pod's own cgroup nothing more is the container's.
    if (POD_UID.test(segment)) return null;
  }
  return null;
}

/** The pod uid kubelet encoded into the cgroup path (underscores of the systemd driver become dashes). */
export function podUidFromCgroupPath(path: string | null): string | null {
  if (!path) return null;
  const match = POD_UID.exec(path);
  return match?.[1] ? match[1].replaceAll('_', '-') : null;
}

/**
 * Whether kubelet made this cgroup (it lies under `kubepods`, or names a pod uid): its processes
 * belong to a pod, so an enricher that does not know the pod yet should wait for it rather than call
 * the process a host process.
 */
export function isKubernetesPodCgroup(path: string | null): boolean {
  if (!path) return false;
  return segmentsOf(path).some((segment) => segment === 'kubepods' || segment.startsWith('kubepods-') || segment === 'kubepods.slice') || POD_UID.test(path);
}
