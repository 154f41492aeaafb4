/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Records that cross the BPF ring buffer from the kernel to the agent.
 *
 * Contract: every record starts with `struct event_header`; `kind` says which struct follows and `size` is the
 * number of bytes the kernel wrote (header included). The layout is the wire contract with the TypeScript
 * decoders in libs/bpf/src/process/records.ts: only fixed-width types, explicit padding, no bitfields, so the same
 * header compiles identically for the BPF target (clang -target bpf, types from vmlinux.h) and for the host
 * compiler (types from <linux/types.h>), and the layout test in libs/bpf compares both with the decoders.
 * Change a struct here and the layout test fails until the decoder follows.
 */
#ifndef STINGER_EVENT_H
#define STINGER_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* event_header.kind; each sensor owns a range (mirrored with the kinds in libs/bpf/src/core/event-kinds.ts)
 * 1..9: process records (structs below) */
#define EVENT_KIND_EXEC 1
#define EVENT_KIND_EXIT 2
#define EVENT_KIND_FORK 3
/* 10..19: file records and exec-rule matches (structs in stinger_file.h) */
#define EVENT_KIND_FILE 10
#define EVENT_KIND_EXEC_RULE 11
#define EVENT_KIND_FILE_CLOSE 12
/* 20..29: network records (structs in stinger_net.h) */
#define EVENT_KIND_CONNECT 20
#define EVENT_KIND_ACCEPT 21
#define EVENT_KIND_BIND 22
#define EVENT_KIND_LISTEN 23
#define EVENT_KIND_EGRESS 24
#define EVENT_KIND_FLOW 25
/* 30..49: privilege, namespace and kernel-integrity records (structs in stinger_priv.h) */
#define EVENT_KIND_PRIVILEGE 30
#define EVENT_KIND_CAPSET 31
#define EVENT_KIND_NAMESPACE 32
#define EVENT_KIND_MODULE 33
#define EVENT_KIND_BPF 34
#define EVENT_KIND_PTRACE 35
#define EVENT_KIND_MOUNT 36

#define TASK_COMM_SIZE 16
/* Levels of cgroup v2 ancestors searched for a pod cgroup root (pod_cgroup_roots in stinger_maps.h). */
#define POD_ROOT_SEARCH_DEPTH 4
/* Bytes of the binary path kept (NUL included); longer paths are cut and flagged. */
#define EXEC_FILENAME_SIZE 256
/* Bytes of argv kept, NUL-separated; must be a power of two (offsets are masked with it for the verifier). */
#define EXEC_ARGS_SIZE 1024
/* At most this many argv entries are read. */
#define EXEC_ARGC_MAX 64

/* exec_event.exec_flags */
#define EXEC_FLAG_ARGS_TRUNCATED (1U << 0)     /* argv longer than EXEC_ARGS_SIZE or EXEC_ARGC_MAX */
#define EXEC_FLAG_ARGS_MISSING (1U << 1)       /* no sys_enter_execve* seen for this exec (kernel exec, or loaded mid-exec) */
#define EXEC_FLAG_FILENAME_TRUNCATED (1U << 2) /* binary path longer than EXEC_FILENAME_SIZE - 1 */
#define EXEC_FLAG_FILENAME_FROM_USER (1U << 3) /* path is the syscall argument, not the tracepoint's copy */
#define EXEC_FLAG_ARGS_FAULT (1U << 4)         /* reading argv from user memory failed part-way */

/* exit_event.exit_flags */
#define EXIT_FLAG_STATUS_KNOWN (1U << 0) /* status came from exit_group(2) or from a fatal signal's delivery */
#define EXIT_FLAG_SIGNALED (1U << 1)     /* the process was ended by the signal in the low 7 bits of status */

/* 64 bytes, shared by every record. Times are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns). */
struct event_header {
	__u16 kind;
	__u16 flags;     /* reserved, 0 */
	__u32 size;      /* bytes of the whole record as written by the kernel */
	__u64 time_ns;
	__u64 cgroup_id; /* cgroup v2 id of the task (bpf_get_current_cgroup_id) */
	__u32 pid;       /* thread group id (what user space calls the pid) */
	__u32 tid;       /* thread id */
	__u32 ppid;      /* parent's pid as tracked from fork records; 0 when the fork was before the sensor loaded */
	__u32 uid;
	__u32 gid;
	__u32 pad;
	char comm[TASK_COMM_SIZE];
};

/*
 * A successful execve/execveat. Emitted with a variable size: `args` is cut to `args_len` bytes, so the
 * record is offsetof(struct exec_event, args) + args_len bytes. `args_len` never exceeds EXEC_ARGS_SIZE;
 * the array is twice that size only so the verifier can prove every bounded write stays inside it.
 */
struct exec_event {
	struct event_header hdr;
	__u32 old_tid;      /* tid that called execve (differs from hdr.tid when a non-leader thread exec'd) */
	__u32 exec_flags;   /* EXEC_FLAG_* */
	__u16 filename_len; /* bytes of filename, NUL excluded */
	__u16 args_len;     /* bytes of args, each argument NUL-terminated */
	__u32 argc;         /* arguments captured in args */
	char filename[EXEC_FILENAME_SIZE];
	char args[EXEC_ARGS_SIZE * 2];
};

/* A new process (not a new thread: clone(CLONE_THREAD) is not reported). hdr is the parent. */
struct fork_event {
	struct event_header hdr;
	__u32 child_pid;
	__u32 pad;
};

/* The last thread of a process exited. */
struct exit_event {
	struct event_header hdr;
	__u32 status;     /* wait(2) status: exit code << 8, or the signal number when SIGNALED; 0 when unknown */
	__u32 exit_flags; /* EXIT_FLAG_* */
};

#endif /* STINGER_EVENT_H */
