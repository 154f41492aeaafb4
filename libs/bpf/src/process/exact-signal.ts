/**
 * Killing exactly one process: the agent's control commands name a process by pid and start time, and a pid can be
 * reused at any moment. A pidfd (pidfd_open, Linux 5.3) pins the process the pid named when it was opened: the start
 * time is checked after the pidfd is open, and the signal goes through the pidfd, so it reaches that process or no
 * process (ESRCH once it has exited), never a newcomer with the same pid.
 *
 * Lives in libs/bpf because that is where koffi may be used (the syscalls have no Node binding).
 */
import koffi from 'koffi';

const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_SEND_SIGNAL = 424;
const ESRCH = 3;
const SIGKILL = 9;

type Syscall = (...args: unknown[]) => number;
let bound: { syscall: Syscall; close: (fd: number) => number } | undefined;

function libc(): { syscall: Syscall; close: (fd: number) => number } {
  if (bound === undefined) {
    const lib = koffi.load('libc.so.6');
    bound = { syscall: lib.func('long syscall(long number, ...)') as Syscall, close: lib.func('int close(int fd)') as (fd: number) => number };
  }
  return bound;
}

export type ExactSignalResult = 'signalled' | 'gone' | 'mismatch';

export class ProcessSignalError extends Error {}

/**
 * SIGKILL to `pid` if, with the process pinned, `isSame()` still says it is the intended one.
 * @returns 'gone' when no process has the pid (or it exited before the signal), 'mismatch' when `isSame` says no.
 * @throws ProcessSignalError for any other failure (EPERM, no pidfd support), with the errno.
 */
export function killExactly(pid: number, isSame: () => boolean): ExactSignalResult {
  const { syscall, close } = libc();
  const fd = syscall(SYS_PIDFD_OPEN, 'int', pid, 'uint', 0);
  if (fd < 0) {
    const errno = koffi.errno();
    if (errno === ESRCH) return 'gone';
    throw new ProcessSignalError(`pidfd_open(${pid}) failed: errno ${errno}`);
  }
  try {
    if (!isSame()) return 'mismatch';
    const result = syscall(SYS_PIDFD_SEND_SIGNAL, 'int', fd, 'int', SIGKILL, 'void *', null, 'uint', 0);
    if (result === 0) return 'signalled';
    const errno = koffi.errno();
    if (errno === ESRCH) return 'gone';
    throw new ProcessSignalError(`pidfd_send_signal(${pid}) failed: errno ${errno}`);
  } finally {
    close(fd);
  }
}
