/** Shared test fixtures of this package's tests (not exported from index.ts). */
import type { RawEvent } from '@stinger/events';
import type { PodLike } from '@stinger/k8s';
import { sampleRawEvent } from '@stinger/testing';

export const containerId = 'c'.repeat(64);
export const podUid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
export const podPath = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${podUid.replaceAll('-', '_')}.slice/cri-containerd-${containerId}.scope`;

export function rawIn(cgroupPath: string | null, seq = 1n): RawEvent {
  const raw = sampleRawEvent({ node: 'n1', seq });
  return { ...raw, process: { ...raw.process, cgroup_path: cgroupPath } };
}

export function webPod(containerIds: readonly string[] = [containerId]): PodLike {
  return {
    metadata: { uid: podUid, name: 'web-h1-x', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': 'h1' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-h1', controller: true }] },
    spec: { nodeName: 'n1' },
    status: { containerStatuses: containerIds.map((id) => ({ name: 'app', containerID: `containerd://${id}`, image: 'nginx:1.27' })) },
  };
}

