/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Process sensor, exit: one exit_event when the last thread of a process exits.
 *
 * sched/sched_process_exit fires in do_exit() for every exiting thread, in that thread's context, after
 * exit_signals() and before exit_notify(); stable since 2.6.x. Its `group_dead` field (added in 6.13) says the
 * thread group is now empty; on kernels without it the leader's exit (tid == pid) stands in.
 *
 * The exit status (task->exit_code / signal->group_exit_code) is kernel memory, which lockdown=confidentiality
 * forbids reading, and the tracepoint does not carry it. It is reconstructed from the two ways a process ends:
 *  - syscalls/sys_enter_exit_group: the code the process passed (glibc's exit() and a return from main end
 *    here) -> status = (code & 0xff) << 8. Wins over a signal seen earlier (see below).
 *  - signal/signal_deliver: fired in get_signal() when a signal is taken; with the default action (SIG_DFL) and
 *    a signal whose default is to terminate, the process dies of it -> status = signal number. The SIGKILL that
 *    tears down the other threads of an exiting group also passes here, hence exit_group overwrites and the
 *    signal never does. Core-dump status (0x80) is not known.
 * Not covered: a process whose last thread leaves with exit(2) (pthread_exit from main after all others): the
 * record then says EXIT_FLAG_STATUS_KNOWN = 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* pid -> pending wait(2) status (EXIT_FLAG_SIGNALED in bit 31 when it is a signal). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} exit_status_by_pid SEC(".maps");

#define STATUS_BY_SIGNAL (1U << 31)

SEC("tracepoint/syscalls/sys_enter_exit_group")
int sys_enter_exit_group(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 status = ((__u32)ctx->args[0] & 0xff) << 8;

	bpf_map_update_elem(&exit_status_by_pid, &pid, &status, BPF_ANY);
	return 0;
}

/* Layout from /sys/kernel/tracing/events/signal/signal_deliver/format. */
struct signal_deliver_args {
	__u64 common;
	__s32 sig;
	__s32 errno_;
	__s32 code;
	__u32 pad;
	__u64 sa_handler;
	__u64 sa_flags;
};

/* Signals whose default action terminates the process (signal(7): Term and Core). */
static __always_inline int default_action_kills(int sig)
{
	switch (sig) {
	case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: case 12:
	case 13: case 14: case 15: case 16: case 24: case 25: case 26: case 27: case 29: case 30: case 31:
		return 1;
	default:
		return sig >= 32 && sig <= 64; /* real-time signals terminate by default */
	}
}

SEC("tracepoint/signal/signal_deliver")
int signal_deliver(struct signal_deliver_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	int sig = ctx->sig;
	__u32 status;

	if (ctx->sa_handler != 0 /* SIG_DFL */ || !default_action_kills(sig))
		return 0;
	status = STATUS_BY_SIGNAL | (sig & 0x7f);
	bpf_map_update_elem(&exit_status_by_pid, &pid, &status, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(struct sched_process_exit_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 *pending;
	struct exit_event *e;

	if (!exit_empties_group(ctx))
		return 0;

	e = reserve_record(sizeof(*e));
	if (e) {
		fill_header(&e->hdr, EVENT_KIND_EXIT, sizeof(*e));
		pending = bpf_map_lookup_elem(&exit_status_by_pid, &pid);
		if (pending) {
			e->exit_flags = EXIT_FLAG_STATUS_KNOWN | ((*pending & STATUS_BY_SIGNAL) ? EXIT_FLAG_SIGNALED : 0);
			e->status = *pending & ~STATUS_BY_SIGNAL;
		} else {
			e->exit_flags = 0;
			e->status = 0;
		}
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&exit_status_by_pid, &pid);
	bpf_map_delete_elem(&ppid_by_pid, &pid);
	bpf_map_delete_elem(&pid_scope_tgids, &pid); /* a later process given this pid is in no scope */
	return 0;
}
