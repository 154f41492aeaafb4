/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Process sensor, exec: one exec_event per successful execve(2)/execveat(2).
 *
 * Two hooks cooperate, joined by the calling thread's tid:
 *
 * 1. syscalls/sys_enter_execve, syscalls/sys_enter_execveat — the syscall entry (syscall tracepoints are
 *    generated from the SYSCALL_DEFINE macros and have been ABI since 2.6.x). The argv pointers are user memory
 *    that still belongs to the caller here (after a successful exec the old mm is gone), so argv is read now with
 *    bpf_probe_read_user_str and parked in exec_by_tid together with the path argument.
 *
 * 2. sched/sched_process_exec — fired by exec_binprm() after the new image is committed (point of no return
 *    passed, comm already set), only for execs that succeed; format (filename, pid, old_pid) stable since 3.4.
 *    It completes the parked record and sends it. `old_pid` is the tid that called execve: when a non-leader
 *    thread execs, de_thread() gives it the leader's tid before this point, so the join uses old_pid.
 *
 *    The binary is the path the caller passed (EXEC_FLAG_FILENAME_FROM_USER), read at entry. For execve(2) that
 *    is exactly the tracepoint's filename (bprm->filename is the same string, getname()'d); for execveat(2) with
 *    a directory fd the kernel's name would be "/dev/fd/N/<path>". The tracepoint's own copy cannot be used:
 *    perf refuses to attach a program that reads ctx past the record's fixed fields (EACCES), and reading the
 *    __data_loc string otherwise needs bpf_probe_read_kernel, which lockdown=confidentiality forbids. A relative
 *    path is resolved by user space from the process's tracked cwd.
 *
 * 3. syscalls/sys_exit_execve, sys_exit_execveat — drop what a failed exec parked (success consumed it in 2).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Execs in flight: the record under construction, keyed by the tid that entered execve. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_event);
} exec_by_tid SEC(".maps");

/* A record-sized scratch per CPU: BPF stacks are 512 bytes, an exec_event is ~2.4 KiB. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} exec_scratch SEC(".maps");

/*
 * sched_process_exec's fixed fields, from /sys/kernel/tracing/events/sched/sched_process_exec/format. Only these
 * are readable: perf refuses to attach (EACCES) a program whose ctx reads go past the fixed part of the record,
 * and the __data_loc filename lies beyond it (reading it would need bpf_probe_read_kernel, which lockdown forbids).
 */
struct sched_process_exec_args {
	__u64 common; /* common_type, flags, preempt_count, pid: not readable from BPF */
	__u32 data_loc_filename;
	__s32 pid;
	__s32 old_pid;
};

static __always_inline void park_exec(const char *filename, const char *const *argv)
{
	__u32 zero = 0;
	struct exec_event *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	__u32 tid = current_tid();
	__u32 off = 0;
	__u32 flags = 0;
	__u32 argc = 0;
	long n;

	if (!e)
		return;

	n = bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
	e->filename_len = n > 0 ? n - 1 : 0;
	if (n == sizeof(e->filename))
		flags |= EXEC_FLAG_FILENAME_TRUNCATED;

	for (int i = 0; i < EXEC_ARGC_MAX; i++) {
		const char *arg = NULL;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i])) {
			flags |= EXEC_FLAG_ARGS_FAULT;
			break;
		}
		if (!arg)
			break;
		if (off >= EXEC_ARGS_SIZE) {
			flags |= EXEC_FLAG_ARGS_TRUNCATED;
			break;
		}
		off &= EXEC_ARGS_SIZE - 1;
		/*
		 * A constant size the verifier accepts: off < EXEC_ARGS_SIZE and the array is twice that long. A read
		 * that runs past EXEC_ARGS_SIZE is cut back below, so only the first EXEC_ARGS_SIZE bytes are sent.
		 */
		n = bpf_probe_read_user_str(&e->args[off], EXEC_ARGS_SIZE, arg);
		if (n <= 0) {
			flags |= EXEC_FLAG_ARGS_FAULT;
			break;
		}
		argc++;
		off += n;
		if (off >= EXEC_ARGS_SIZE) {
			if (off > EXEC_ARGS_SIZE || i < EXEC_ARGC_MAX - 1)
				flags |= EXEC_FLAG_ARGS_TRUNCATED;
			e->args[EXEC_ARGS_SIZE - 1] = 0;
			off = EXEC_ARGS_SIZE;
			break;
		}
		if (i == EXEC_ARGC_MAX - 1) {
			const char *next = NULL;

			if (!bpf_probe_read_user(&next, sizeof(next), &argv[i + 1]) && next)
				flags |= EXEC_FLAG_ARGS_TRUNCATED;
		}
	}
	e->args_len = off;
	e->argc = argc;
	e->exec_flags = flags;
	bpf_map_update_elem(&exec_by_tid, &tid, e, BPF_ANY);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	park_exec((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int sys_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	park_exec((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
	return 0;
}

static __always_inline void forget_exec(void)
{
	__u32 tid = current_tid();

	bpf_map_delete_elem(&exec_by_tid, &tid);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int sys_exit_execve(void *ctx)
{
	forget_exec();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int sys_exit_execveat(void *ctx)
{
	forget_exec();
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec(struct sched_process_exec_args *ctx)
{
	__u32 old_tid = ctx->old_pid;
	__u32 zero = 0;
	struct exec_event *e = bpf_map_lookup_elem(&exec_by_tid, &old_tid);
	__u32 args_len;

	if (!e) {
		/* An exec without a syscall (kernel_execve from a usermode helper), or one already in flight at load. */
		e = bpf_map_lookup_elem(&exec_scratch, &zero);
		if (!e)
			return 0;
		e->filename[0] = 0;
		e->filename_len = 0;
		e->args_len = 0;
		e->argc = 0;
		e->exec_flags = EXEC_FLAG_ARGS_MISSING;
	}
	e->exec_flags |= EXEC_FLAG_FILENAME_FROM_USER;
	e->old_tid = old_tid;
	args_len = e->args_len;
	if (args_len > EXEC_ARGS_SIZE)
		args_len = EXEC_ARGS_SIZE;
	args_len &= sizeof(e->args) - 1; /* a bound the verifier can see: the record never exceeds the map value */
	fill_header(&e->hdr, EVENT_KIND_EXEC, __builtin_offsetof(struct exec_event, args) + args_len);
	output_record(e, __builtin_offsetof(struct exec_event, args) + args_len);
	bpf_map_delete_elem(&exec_by_tid, &old_tid);
	return 0;
}
