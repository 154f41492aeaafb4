/**
 * fanotify(7) through libc, bound with koffi: groups, marks, permission events and their answers.
 *
 * Used only by the guard worker (guard-worker.ts), never on the agent's main thread: reading a permission group
 * blocks, and every open of a marked file waits until this process answers it. Constants and struct layouts are
 * those of linux/fanotify.h (stable kernel ABI).
 */
import koffi from 'koffi';
import { StingerError } from '@stinger/retry';
import { readSync, writeSync } from 'node:fs';

export const FAN = {
  // fanotify_init flags
  CLOEXEC: 0x1,
  NONBLOCK: 0x2,
  CLASS_NOTIF: 0x0,
  CLASS_CONTENT: 0x4,
  UNLIMITED_QUEUE: 0x10,
  UNLIMITED_MARKS: 0x20,
  REPORT_DFID_NAME: 0xc00,
  // fanotify_mark flags
  MARK_ADD: 0x1,
  MARK_REMOVE: 0x2,
  MARK_FLUSH: 0x80,
  /** The mask is of events to ignore on this inode, even those a file system mark asks for; the kernel clears it when the file is modified. */
  MARK_IGNORED_MASK: 0x20,
  MARK_FILESYSTEM: 0x100,
  // event masks
  MOVED_TO: 0x80,
  CREATE: 0x100,
  Q_OVERFLOW: 0x4000,
  OPEN_PERM: 0x10000,
  OPEN_EXEC_PERM: 0x40000,
  EVENT_ON_CHILD: 0x08000000,
  ONDIR: 0x40000000,
  // responses
  ALLOW: 0x1,
  DENY: 0x2,
} as const;

const O_RDONLY = 0;
const O_LARGEFILE = 0o100000;
const O_CLOEXEC = 0o2000000;
const POLLIN = 0x1;
const EAGAIN = 11;
const EINTR = 4;
/** struct fanotify_event_metadata: event_len u32, vers u8, reserved u8, metadata_len u16, mask u64, fd s32, pid s32. */
const METADATA_SIZE = 24;
const METADATA_VERSION = 3;

/** A failed libc call, with the errno it set. */
export class FanotifyError extends StingerError {
  readonly errno: number;
  constructor(call: string, errno: number, detail = '') {
    super(`${call}${detail ? ` ${detail}` : ''}: ${errnoName(errno)}`);
    this.errno = errno;
  }
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM (operation not permitted: fanotify needs CAP_SYS_ADMIN)',
  2: 'ENOENT (no such file)',
  13: 'EACCES',
  17: 'EEXIST',
  22: 'EINVAL (not supported by this kernel)',
  24: 'EMFILE',
  28: 'ENOSPC (too many marks: fs.fanotify.max_user_marks)',
  38: 'ENOSYS (no fanotify in this kernel)',
  95: 'EOPNOTSUPP',
};

function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

interface Libc {
  fanotify_init(flags: number, eventFlags: number): number;
  fanotify_mark(fd: number, flags: number, mask: bigint, dirfd: number, path: string): number;
  poll(fds: Buffer, count: number, timeoutMs: number): number;
  close(fd: number): number;
}

let libc: Libc | null = null;

function bind(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    fanotify_init: lib.func('int fanotify_init(unsigned int flags, unsigned int event_f_flags)'),
    fanotify_mark: lib.func('int fanotify_mark(int fd, unsigned int flags, uint64_t mask, int dirfd, const char *path)'),
    poll: lib.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)'),
    close: lib.func('int close(int fd)'),
  } as Libc;
  return libc;
}

const AT_FDCWD = -100;

/** One permission (or notification) event. `fd` is an open descriptor of the file: close it after answering. */
export interface FanotifyEvent {
  readonly mask: bigint;
  readonly fd: number;
  /** Thread group id of the process that caused the event. */
  readonly pid: number;
}

/** A fanotify group: its descriptor, marks, and events. Not thread-safe; owned by one thread. */
export class FanotifyGroup {
  readonly fd: number;
  readonly #buffer = Buffer.alloc(64 * 1024);
  readonly #response = Buffer.alloc(8);
  #closed = false;

  constructor(flags: number) {
    const fd = bind().fanotify_init(flags | FAN.CLOEXEC | FAN.NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (fd < 0) throw new FanotifyError('fanotify_init', koffi.errno());
    this.fd = fd;
  }

  /** Adds `mask` to the mark of `path` (its inode, or its whole file system with MARK_FILESYSTEM). */
  add(path: string, mask: number, flags = 0): void {
    this.#mark(FAN.MARK_ADD | flags, mask, path);
  }

  /** Removes `mask` from the mark of `path`. */
  remove(path: string, mask: number, flags = 0): void {
    this.#mark(FAN.MARK_REMOVE | flags, mask, path);
  }

  #mark(flags: number, mask: number, path: string): void {
    if (bind().fanotify_mark(this.fd, flags, BigInt(mask), AT_FDCWD, path) < 0) throw new FanotifyError('fanotify_mark', koffi.errno(), path);
  }

  /** Removes every inode mark of the group (file system marks stay). */
  flushInodeMarks(): void {
    if (bind().fanotify_mark(this.fd, FAN.MARK_FLUSH, 0n, AT_FDCWD, '/') < 0) throw new FanotifyError('fanotify_mark(FLUSH)', koffi.errno());
  }

  /** The events queued now (none when there are none: the group is non-blocking). */
  read(): FanotifyEvent[] {
    let length: number;
    try {
      length = readSync(this.fd, this.#buffer, 0, this.#buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EINTR') return [];
      throw error;
    }
    const events: FanotifyEvent[] = [];
    for (let offset = 0; offset + METADATA_SIZE <= length; ) {
      const eventLength = this.#buffer.readUInt32LE(offset);
      if (this.#buffer.readUInt8(offset + 4) !== METADATA_VERSION || eventLength < METADATA_SIZE) break;
      events.push({ mask: this.#buffer.readBigUInt64LE(offset + 8), fd: this.#buffer.readInt32LE(offset + 16), pid: this.#buffer.readInt32LE(offset + 20) });
      offset += eventLength;
    }
    return events;
  }

  /** Answers a permission event. Throws when the kernel refuses the answer (the waiter is gone: ENOENT). */
  respond(fd: number, allow: boolean): void {
    this.#response.writeInt32LE(fd, 0);
    this.#response.writeUInt32LE(allow ? FAN.ALLOW : FAN.DENY, 4);
    writeSync(this.fd, this.#response);
  }

  /** Closing the group lets every waiting and future open of its marked files proceed. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeDescriptor(this.fd);
  }
}

/**
 * Closes a descriptor the kernel gave outside Node's bookkeeping (a group, an event's file): through libc, since
 * node:fs warns about descriptors it did not open.
 */
export function closeDescriptor(fd: number): void {
  bind().close(fd);
}

/**
 * Waits until one of `fds` is readable or `timeoutMs` passed; returns the readable ones. Blocks the calling
 * thread: the guard worker's loop only.
 */
export function pollReadable(fds: readonly number[], timeoutMs: number): number[] {
  const buffer = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, index) => {
    buffer.writeInt32LE(fd, index * 8);
    buffer.writeInt16LE(POLLIN, index * 8 + 4);
  });
  const ready = bind().poll(buffer, fds.length, timeoutMs);
  if (ready < 0) {
    const errno = koffi.errno();
    if (errno === EINTR || errno === EAGAIN) return [];
    throw new FanotifyError('poll', errno);
  }
  return fds.filter((_, index) => (buffer.readInt16LE(index * 8 + 6) & ~0) !== 0);
}
