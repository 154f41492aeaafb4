/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * File sensor and exec/file enforcement: the records they write and the rule maps' keys and values.
 *
 * Same contract as stinger_event.h: fixed-width types, explicit padding, no bitfields, compiled identically for
 * the BPF target and the host; libs/bpf/src/file/records.ts mirrors every struct and constant and
 * file/records.layout.test.ts fails when they drift. Kinds 10..19 of event_header.kind belong to this header.
 */
#ifndef STINGER_FILE_H
#define STINGER_FILE_H

#include "stinger_event.h"

/*
 * event_header.kind (numbers in stinger_event.h): EVENT_KIND_FILE = struct file_event (open, unlink, rename, chmod,
 * chown of watched paths; every chdir and fchdir), EVENT_KIND_EXEC_RULE = struct exec_rule_event (an execve or
 * execveat matched an exec rule: audited or killed), EVENT_KIND_FILE_CLOSE = struct file_close_event (the last
 * descriptor of a watched open went: what was read and written through it).
 */

/* Bytes of a path kept, NUL included; the rule maps' key size. Longer paths are cut and flagged. */
#define FILE_PATH_SIZE 256

/* file_event.op and file_rule.ops (a mask of these bits). */
#define FILE_OP_OPEN (1U << 0)
#define FILE_OP_UNLINK (1U << 1)
#define FILE_OP_RENAME (1U << 2)
#define FILE_OP_CHMOD (1U << 3)
#define FILE_OP_CHOWN (1U << 4)
#define FILE_OP_CHDIR (1U << 5)  /* never in a rule: every chdir/fchdir is reported */
#define FILE_OP_FCHDIR (1U << 6) /* never in a rule */
#define FILE_OP_EXEC (1U << 7)   /* exec rules only */

/* file_rule.action */
#define RULE_ACTION_AUDIT 1
#define RULE_ACTION_KILL 2
#define RULE_ACTION_DENY 3 /* only where the LSM hooks run (bpf_file_lsm.c: open; bpf_file_path_lsm.c: unlink, rename, chmod,
			      chown): the operation fails with EPERM */

/* file_rule.flags */
#define RULE_FLAG_KILL_ON_NAME (1U << 0) /* a basename-only match (relative or unresolved path) may kill too */
#define RULE_FLAG_HOST_ONLY (1U << 1)    /* applies to host processes only: not to tasks under a pod cgroup root */
#define RULE_FLAG_PODS_ONLY (1U << 2)    /* applies to tasks under a pod cgroup root only */
/* Bit 14 is KEEP_RECORDS_RULE_FLAG (stinger_loss.h): the rule's records are never shed. */

/* file_event.action and exec_rule_event.action: what the kernel did. */
#define ACTION_TAKEN_NONE 0   /* reported without a rule (chdir, fchdir, truncated path) */
#define ACTION_TAKEN_AUDIT 1  /* reported because of rule_id */
#define ACTION_TAKEN_KILLED 2 /* SIGKILL sent because of rule_id: at syscall entry, or at the LSM hook (which also fails the open) */
#define ACTION_TAKEN_DENIED 3 /* the LSM hook failed the open with EPERM because of rule_id */

/* file_event.file_flags and exec_rule_event.exec_rule_flags */
#define FILE_FLAG_RELATIVE (1U << 0)          /* path does not start with '/': resolve against dirfd / cwd */
#define FILE_FLAG_NEEDS_RESOLUTION (1U << 1)  /* matched by basename only: user space must resolve and re-match */
#define FILE_FLAG_PATH_TRUNCATED (1U << 2)    /* path longer than FILE_PATH_SIZE - 1 */
#define FILE_FLAG_PATH2_TRUNCATED (1U << 3)
#define FILE_FLAG_MATCH_EXACT (1U << 4)       /* the rule matched by the whole path */
#define FILE_FLAG_MATCH_PREFIX (1U << 5)      /* ... by a path prefix */
#define FILE_FLAG_MATCH_NAME (1U << 6)        /* ... by the last path component */
#define FILE_FLAG_MATCH_PATH2 (1U << 7)       /* the rule matched path2 (rename target), not path */
#define FILE_FLAG_RESULT_KNOWN (1U << 8)      /* result holds the syscall's return value */
#define FILE_FLAG_PATH_FAULT (1U << 9)        /* the path could not be read from user memory */
#define FILE_FLAG_MATCH_CWD (1U << 10)        /* a relative path matched once joined to the process's cwd (cwd_by_tgid) */
#define FILE_FLAG_RESOLVED (1U << 11)         /* path2 is the path the kernel resolved (an LSM hook); for a rename path2 is
						 the new path and path3 the old one, both as the kernel resolved them.
						 The MATCH_* bits then say how the resolved path matched */
#define FILE_FLAG_KEPT (1U << 12)             /* of the kept tier because a rule that matched keeps its records
						 (KEEP_RECORDS_RULE_FLAG): carried with a record parked from entry to exit */

/* A path buffer (the lookup's work area; not a map key). */
struct path_key {
	char path[FILE_PATH_SIZE];
};

/*
 * Key of every rule map (all BPF_MAP_TYPE_LPM_TRIE): prefixlen counts bits of path. Exact and name entries include
 * the terminating NUL in prefixlen (so only the whole string matches); prefix entries do not.
 */
struct path_prefix_key {
	__u32 prefixlen;
	char path[FILE_PATH_SIZE];
};

/*
 * Value of a rule set's filter map (one entry): a necessary condition for each of match_path's lookups, so an
 * unwatched path leaves after a few loads instead of three LPM walks. Written by user space (libs/bpf
 * file/path-rules.ts) on every rule change; `valid` 0 (never written) turns the filter off.
 */
/* Name lengths struct path_filter lists; with more, match_path scans every path for its last '/'. */
#define NAME_LENGTHS_MAX 16

struct path_filter {
	__u32 valid;
	__u32 dir_rules;       /* entries of the LSM hook's directory-identity map (bpf_file_lsm.c); 0: no walk */
	__u64 exact_len[4];    /* bit n: an exact rule of n bytes */
	__u64 prefix_first[4]; /* bit c: a prefix rule whose second byte (after the leading '/') is c; all: a prefix "/" */
	__u64 name[256];       /* name[n] bit (c & 63): a name entry of n bytes whose first byte is c */
	__u64 prefix_len[4];   /* bit n: a prefix rule of n bytes (the LSM hook tries only these lengths) */
	__u32 name_length_count; /* distinct name lengths: 0, no name rule; up to NAME_LENGTHS_MAX, in name_lengths */
	__u32 pad;
	__u8 name_lengths[NAME_LENGTHS_MAX]; /* each distinct name length (1..255), when at most NAME_LENGTHS_MAX */
};

/*
 * Key of the LSM hook's directory-identity map (bpf_file_lsm.c file_rules_resolved_dirs): a prefix rule's directory
 * as the kernel knows it, whatever path it is reached by (a bind mount of it, another mount of its file system).
 * dev is the kernel's dev_t of the directory's super block (MKDEV(major, minor) = major << 20 | minor), ino its inode
 * number; user space converts from stat(2).
 */
struct dir_identity_key {
	__u64 dev;
	__u64 ino;
};

/* Value of every rule map. */
struct file_rule {
	__u32 rule_id; /* assigned by user space; carried by the records the rule causes */
	__u32 action;  /* RULE_ACTION_* */
	__u32 ops;     /* FILE_OP_* the rule applies to */
	__u32 flags;   /* RULE_FLAG_* */
};

/*
 * A file operation. Emitted with a variable size: offsetof(path2) bytes when the operation has one path;
 * offsetof(path3) for a rename, or for an operation an LSM hook resolved (FILE_FLAG_RESOLVED); the whole struct for a
 * rename an LSM hook resolved. Fields that do not apply to `op` are 0.
 */
struct file_event {
	struct event_header hdr;
	__u32 op;         /* one FILE_OP_* bit */
	__u32 file_flags; /* FILE_FLAG_* */
	__u32 rule_id;    /* 0 when no rule caused the record */
	__u32 action;     /* ACTION_TAKEN_* */
	__s32 dirfd;      /* directory fd of *at() calls as given (AT_FDCWD = -100); fchdir: the fd; else -100 */
	__s32 dirfd2;     /* rename target's directory fd */
	__s64 result;     /* return value (fd, 0 or -errno) when FILE_FLAG_RESULT_KNOWN */
	__u64 open_flags; /* open: O_* flags; unlinkat/fchmodat/fchownat: AT_* flags; renameat2: RENAME_* flags */
	__u32 mode;       /* open: creation mode; chmod: new mode */
	__u32 owner_uid;  /* chown: new owner (0xffffffff = unchanged) */
	__u32 owner_gid;  /* chown: new group */
	__u16 path_len;   /* bytes of path, NUL excluded */
	__u16 path2_len;
	__u64 open_id;    /* a successful open: its id in the close record (file_close_event); else 0 */
	char path[FILE_PATH_SIZE];  /* the path exactly as the process passed it; empty when only the LSM hook saw the open */
	char path2[FILE_PATH_SIZE]; /* rename: the new path; with FILE_FLAG_RESOLVED: the path the kernel resolved */
	char path3[FILE_PATH_SIZE]; /* a rename with FILE_FLAG_RESOLVED: the old path the kernel resolved (NUL-terminated) */
};

/* An execve/execveat whose path matched an exec rule. Emitted whole (sizeof). */
struct exec_rule_event {
	struct event_header hdr;
	__u32 rule_id;
	__u32 action;          /* ACTION_TAKEN_* */
	__u32 exec_rule_flags; /* FILE_FLAG_* (RELATIVE, NEEDS_RESOLUTION, MATCH_*, PATH_TRUNCATED) */
	__s32 dirfd;           /* execveat's fd; -100 for execve */
	__u32 at_flags;        /* execveat's flags */
	__u16 path_len;
	__u16 pad;
	char path[FILE_PATH_SIZE];
};

/*
 * Descriptor tracking (bpf/file/file_io.h, bpf/file/bpf_file_io.c): a watched open that succeeds gets an open id;
 * every descriptor of it (the first, and dup/dup2/dup3/fcntl copies) points at the id in file_io_fds, and the id's
 * counters in file_io_opens count references. When the last descriptor goes (close, dup2 over it, exec of a
 * close-on-exec descriptor, exit of the process) one file_close_event carries the totals.
 */

/* file_fd_entry.fd_flags */
#define FD_FLAG_CLOEXEC (1U << 0) /* closed by a successful execve (O_CLOEXEC, dup3/fcntl cloexec, F_SETFD) */

/* file_close_event.close_flags: how the last descriptor went; 0 = close(2). */
#define FILE_CLOSE_AT_EXIT (1U << 0)  /* the process exited with the descriptor open */
#define FILE_CLOSE_AT_EXEC (1U << 1)  /* a close-on-exec descriptor closed by execve */
#define FILE_CLOSE_REPLACED (1U << 2) /* dup2/dup3 (or a stale entry) put another file at its number */

/* Slots of file_io_losses (per CPU, summed by user space): tracking that was given up, by reason. */
#define FILE_IO_LOSS_EVICTED 0   /* a tracked descriptor whose counters the LRU had dropped: its bytes are not reported */
#define FILE_IO_LOSS_STALE_FD 1  /* a new open got a number still tracked: an earlier close went unseen (close_range, fork) */
#define FILE_IO_LOSS_SWEEP_FULL 2 /* a process exited or exec'd with more tracked descriptors than one sweep releases */
#define FILE_IO_LOSS_UNTRACKED 3 /* a watched open could not be tracked (its id could not be stored) */
#define FILE_IO_LOSS_SLOTS 4

/* Key of file_io_fds: one descriptor of one process. */
struct file_fd_key {
	__u32 tgid;
	__s32 fd;
};

/* Value of file_io_fds. */
struct file_fd_entry {
	__u64 open_id;
	__u32 fd_flags; /* FD_FLAG_* */
	__u32 pad;
};

/* Value of file_io_opens (key: the open id): what went through an open, and how many descriptors still refer to it. */
struct file_io_totals {
	__u64 bytes_read;    /* positive returns of read, pread64, readv, preadv(2), sendfile/splice/copy_file_range from it */
	__u64 bytes_written; /* positive returns of write, pwrite64, writev, pwritev(2), sendfile/splice/copy_file_range to it */
	__u64 bytes_mapped;  /* lengths of successful mmaps of it (reads through a mapping are not seen) */
	__u64 reads;
	__u64 writes;
	__u64 maps;
	__s64 refs; /* descriptors in file_io_fds that point here */
};

/* The last descriptor of a watched open went. Emitted whole (sizeof). hdr: the process that closed it. */
struct file_close_event {
	struct event_header hdr;
	__u64 open_id; /* file_event.open_id of the open */
	__u64 bytes_read;
	__u64 bytes_written;
	__u64 bytes_mapped;
	__u64 reads;
	__u64 writes;
	__u64 maps;
	__s32 fd;           /* the last descriptor's number */
	__u32 close_flags;  /* FILE_CLOSE_* */
};

/*
 * Value of cwd_by_tgid (stinger_maps.h): a process's working directory as the kernel learnt it from chdir, or as
 * user space wrote it (processes older than the agent, fchdir). Only plain paths are kept: absolute, no "." or
 * ".." component, no "//", no trailing '/' (but "/" itself); a process whose cwd is anything else has no entry.
 */
struct cwd_entry {
	__u32 len; /* bytes of path, NUL excluded */
	__u32 pad;
	char path[FILE_PATH_SIZE];
};

#endif /* STINGER_FILE_H */
