/**
 * Simulated pods for tests on the real kernel: the cgroup v2 directories kubelet (systemd driver, BestEffort pod) and
 * containerd would create, under the real cgroup2 mount (docs/architecture.md: pods can be simulated faithfully this way).
 * Who calls: enricher and agent integration tests. `PodCgroups.remove()` deletes what it created, deepest first,
 * moving any process still inside to the root first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2MountPoint } from '@stinger/bpf';

export interface PodCgroups {
  /**
   * Creates the directories of one container of a pod (those missing); returns the container's path relative to
   * the cgroup2 mount, as the agent reports it: /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
   */
  container(podUid: string, containerId: string): string;
  /** The cgroup.procs file of a path container() returned: writing a pid moves that process into it. */
  procsOf(relative: string): string;
  /** Removes every directory this object created, deepest first. Idempotent. */
  remove(): void;
}

export interface PodProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A shell in a pod's cgroup (`procs`, from procsOf) that runs `script`: it moves itself there, then execs the shell
 * that runs the script, so the exec event tells the agent the process's new cgroup, as a container's processes have
 * theirs from the start.
 */
export function spawnInPod(procs: string, script: string): PodProcess {
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${procs}; exec /bin/sh -c '${script}'`], { stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

export function podCgroups(): PodCgroups {
  const mount = cgroup2MountPoint();
  const created: string[] = [];
  return {
    container(podUid, containerId) {
      const relative = [
        'kubepods.slice',
        'kubepods-besteffort.slice',
        `kubepods-besteffort-pod${podUid.replaceAll('-', '_')}.slice`,
        `cri-containerd-${containerId}.scope`,
      ];
      for (let depth = 1; depth <= relative.length; depth += 1) {
        const dir = join(mount, ...relative.slice(0, depth));
        if (!existsSync(dir)) {
          mkdirSync(dir);
          created.push(dir);
        }
      }
      return `/${relative.join('/')}`;
    },
    procsOf: (relative) => join(mount, relative, 'cgroup.procs'),
    remove: () => removeCgroups(mount, created),
  };
}

/**
 * Removes the cgroup directories a test created (`created`, in creation order, emptied as it goes), deepest first,
 * moving any process still inside to the root first. Idempotent. Shared with host-cgroup.ts.
 */
export function removeCgroups(mount: string, created: string[]): void {
  while (created.length > 0) {
    const dir = created.pop() as string;
    if (!existsSync(dir)) continue;
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((line) => line !== '')) {
      try {
        writeFileSync(join(mount, 'cgroup.procs'), pid);
      } catch {
        // exited meanwhile
      }
    }
    try {
      rmdirSync(dir);
    } catch (error) {
      // A shared parent (kubepods.slice, kubepods-besteffort.slice) this test made first may hold another test's
      // pod by now (two test processes on one machine): that one removes it when it is done.
      if ((error as NodeJS.ErrnoException).code === 'EBUSY' && holdsCgroups(dir)) continue;
      throw error;
    }
  }
}

/** Whether a cgroup directory has child cgroups. */
function holdsCgroups(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isDirectory());
}
