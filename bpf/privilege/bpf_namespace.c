/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Privilege sensor, namespaces: one ns_event per setns(2), unshare(2), and clone(2)/clone3(2) with a CLONE_NEW*
 * flag (plain forks and threads are ignored at the first instruction), and in-kernel enforcement of namespace
 * rules.
 *
 * Hooks: syscalls/sys_enter_{setns,unshare,clone,clone3} and the matching sys_exit_*. The flags are syscall
 * arguments (setns: fd, nstype; unshare: flags; clone: flags is argument 0 on x86-64) or, for clone3, the first
 * u64 of the caller's struct clone_args in user memory. No kernel memory is read.
 *
 * Rules (ns_rules: cgroup v2 id -> struct scope_rule, see SCOPE_CGROUP_DEPTH): a call whose CLONE_NEW* flags meet
 * a rule of the caller's cgroup subtree is reported with the rule_id; with action KILLED the caller gets
 * SIGKILL at syscall entry and the record (action KILLED, result 0) is sent at once. SIGKILL is acted on before
 * the task returns to user space: clone/clone3 fail in copy_process (fatal signal pending) so no child runs;
 * unshare/setns may complete in the kernel but no instruction of the caller runs in the new namespace, which
 * goes away with the task. setns with nstype 0 (any) meets every rule: the fd's namespace type is kernel memory.
 * Without a rule, calls are reported only while priv_watch.watch & PRIV_WATCH_NAMESPACE.
 */
#include "priv_common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct scope_rule);
} ns_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ns_event);
} ns_pending SEC(".maps");

static __always_inline void enter_ns(__u32 op, __u64 flags, __s32 fd)
{
	/* setns(fd, 0) joins whatever namespace fd is: treat as every type for the rules. */
	__u64 rule_flags = (op == NS_OP_SETNS && flags == 0) ? NS_CLONE_NEW_MASK : flags;
	struct scope_rule *rule = scope_rule_for(&ns_rules, rule_flags);
	struct ns_event e = {};
	__u32 tid = current_tid();

	if (!rule && !(priv_watched() & PRIV_WATCH_NAMESPACE))
		return;
	e.flags = flags;
	e.op = op;
	e.fd = fd;
	e.action = apply_rule(rule, &e.rule_id);
	if (e.action == STINGER_ACTION_KILLED) {
		fill_header(&e.hdr, EVENT_KIND_NAMESPACE, sizeof(e));
		output_record(&e, sizeof(e));
		return;
	}
	bpf_map_update_elem(&ns_pending, &tid, &e, BPF_ANY);
}

static __always_inline void exit_ns(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct ns_event *e = bpf_map_lookup_elem(&ns_pending, &tid);

	if (!e)
		return;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_NAMESPACE, sizeof(*e));
	output_audit_record(e, sizeof(*e)); /* parked: no kill (a kill's record was sent at entry) */
	bpf_map_delete_elem(&ns_pending, &tid);
}

SEC("tracepoint/syscalls/sys_enter_setns")
int sys_enter_setns(struct trace_event_raw_sys_enter *ctx)
{
	enter_ns(NS_OP_SETNS, (__u32)ctx->args[1], ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unshare")
int sys_enter_unshare(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = ctx->args[0];

	if (flags & NS_CLONE_NEW_MASK)
		enter_ns(NS_OP_UNSHARE, flags, -1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone")
int sys_enter_clone(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = ctx->args[0];

	if (flags & NS_CLONE_NEW_MASK)
		enter_ns(NS_OP_CLONE, flags, -1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int sys_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), (const void *)ctx->args[0]);
	if (flags & NS_CLONE_NEW_MASK)
		enter_ns(NS_OP_CLONE3, flags, -1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_setns")
int sys_exit_setns(struct trace_event_raw_sys_exit *ctx)
{
	exit_ns(ctx);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unshare")
int sys_exit_unshare(struct trace_event_raw_sys_exit *ctx)
{
	exit_ns(ctx);
	return 0;
}

/* Fires in the parent (ret = child pid or -errno) and in the child (ret 0, another tid: nothing parked). */
SEC("tracepoint/syscalls/sys_exit_clone")
int sys_exit_clone(struct trace_event_raw_sys_exit *ctx)
{
	exit_ns(ctx);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int sys_exit_clone3(struct trace_event_raw_sys_exit *ctx)
{
	exit_ns(ctx);
	return 0;
}
