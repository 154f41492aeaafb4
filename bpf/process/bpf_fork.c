/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Process sensor, fork: one fork_event per new process (not per new thread).
 *
 * sched/sched_process_fork fires in kernel_clone() after copy_process() succeeded, in the parent's context,
 * before the child first runs — so the child's exec (if any) is always reported after its fork. The format
 * (parent_comm, parent_pid, child_comm, child_pid) has been stable since 2.6.x; parent_pid and child_pid are
 * thread ids.
 *
 * The tracepoint does not say whether a thread or a process was created, and the clone flags live in kernel
 * memory. They are taken at the syscall entry instead: syscalls/sys_enter_clone (flags are argument 0 on
 * x86-64) and syscalls/sys_enter_clone3 (flags are the first field of the user's struct clone_args), parked per
 * tid and consumed here. fork(2), vfork(2) and kernel threads (no syscall) create processes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define STINGER_CLONE_THREAD 0x00010000ULL

/* clone flags of a clone/clone3 in flight, by calling tid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} clone_flags_by_tid SEC(".maps");

static __always_inline void park_clone_flags(__u64 flags)
{
	__u32 tid = current_tid();

	bpf_map_update_elem(&clone_flags_by_tid, &tid, &flags, BPF_ANY);
}

SEC("tracepoint/syscalls/sys_enter_clone")
int sys_enter_clone(struct trace_event_raw_sys_enter *ctx)
{
	park_clone_flags(ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int sys_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), (const void *)ctx->args[0]);
	park_clone_flags(flags);
	return 0;
}

/* The child starts in its parent's cwd: its entry in cwd_by_tgid is the parent's, or none (a reused pid's is dropped). */
static __always_inline void inherit_cwd(__u32 parent, __u32 child)
{
	struct cwd_entry *cwd = bpf_map_lookup_elem(&cwd_by_tgid, &parent);

	if (cwd)
		bpf_map_update_elem(&cwd_by_tgid, &child, cwd, BPF_ANY);
	else
		bpf_map_delete_elem(&cwd_by_tgid, &child);
}

/*
 * The child joins the pid scopes of its parent that follow children (pid_scope_tgids, stinger_maps.h). One array
 * lookup when no scope follows children; a child left out because the map is full is counted in pid_scope_full.
 */
static __always_inline void inherit_pid_scopes(__u32 parent, __u32 child)
{
	__u32 zero = 0;
	__u64 *follow = bpf_map_lookup_elem(&pid_scope_follow, &zero);
	__u64 *scopes, inherited;

	if (!follow || !*follow)
		return;
	scopes = bpf_map_lookup_elem(&pid_scope_tgids, &parent);
	if (!scopes)
		return;
	inherited = *scopes & *follow;
	if (!inherited)
		return;
	if (bpf_map_update_elem(&pid_scope_tgids, &child, &inherited, BPF_ANY)) {
		__u64 *full = bpf_map_lookup_elem(&pid_scope_full, &zero);

		if (full)
			*full += 1; /* per-CPU slot */
	}
}

/*
 * The record's layout changed in 6.10: parent_comm and child_comm went from char[16] to __data_loc strings, moving
 * child_pid from offset 44 to 20. vmlinux.h's type is CO-RE (preserve_access_index), so libbpf relocates the
 * child_pid read to the running kernel's offset; a fixed struct read the parent's comm as the child's pid on 6.1.
 */
SEC("tracepoint/sched/sched_process_fork")
int sched_process_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 tid = current_tid();
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 child = ctx->child_pid;
	__u64 *flags = bpf_map_lookup_elem(&clone_flags_by_tid, &tid);
	int thread = flags && (*flags & STINGER_CLONE_THREAD);
	struct fork_event *e;

	if (flags)
		bpf_map_delete_elem(&clone_flags_by_tid, &tid);
	if (thread)
		return 0;
	inherit_cwd(parent, child);
	inherit_pid_scopes(parent, child);

	bpf_map_update_elem(&ppid_by_pid, &child, &parent, BPF_ANY);
	e = reserve_record(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, EVENT_KIND_FORK, sizeof(*e));
	e->child_pid = child;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
