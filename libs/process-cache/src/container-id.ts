/**
 * Container identity from a cgroup path, for the layouts kubelet and container runtimes create
 * (containerd, CRI-O, Docker; systemd and cgroupfs drivers; cgroup v1 and v2). Pure; the enricher
 * maps the id to a pod. Returns null for host processes.
 *
 * Examples:
 *   systemd driver:  /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
 *                    .../crio-<id>.scope, .../docker-<id>.scope
 *   cgroupfs driver: /kubepods/besteffort/pod<uid>/<id>
 *   plain docker:    /docker/<id>, /system.slice/docker-<id>.scope
 */

const SCOPE_ID = /(?:cri-containerd|crio|docker|containerd|libpod)-([0-9a-f]{64})\.scope$/;
const BARE_ID = /\/([0-9a-f]{64})$/;
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

export function containerIdFromCgroupPath(path: string | null): string | null {
  if (!path) return null;
  const scope = SCOPE_ID.exec(path);
  if (scope?.[1]) return scope[1];
  const bare = BARE_ID.exec(path);
  return bare?.[1] ?? null;
}

/** The pod uid kubelet encoded into the cgroup path (underscores of the systemd driver become dashes). */
export function podUidFromCgroupPath(path: string | null): string | null {
  if (!path) return null;
  const match = POD_UID.exec(path);
  return match?.[1] ? match[1].replaceAll('_', '-') : null;
}
