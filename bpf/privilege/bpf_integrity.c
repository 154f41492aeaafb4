/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Privilege sensor, kernel integrity: init_module(2)/finit_module(2) (module_event, with in-kernel module-load
 * rules), bpf(2) (bpf_event, for the commands user space selects), ptrace(2) (ptrace_event) and mount(2)
 * (mount_event).
 *
 * Hooks: syscalls/sys_enter_<call> builds the record from the arguments and user memory and parks it by tid;
 * syscalls/sys_exit_<call> adds the result and sends it. Syscall tracepoints are ABI; nothing reads kernel memory.
 * What user memory gives: finit_module's fd and flags, init_module's image length, both calls' parameter string;
 * bpf(BPF_PROG_LOAD)'s attr.prog_type, insn_cnt and prog_name (union bpf_attr offsets 0, 4, 48 — uapi);
 * mount's source, target and fstype strings and flags. Not available: the module's name (inside the ELF image
 * or the file; known in the kernel only after load) — user space resolves finit_module's fd or reads
 * /proc/modules after a successful load.
 *
 * Module rules (module_rules: cgroup v2 id -> struct scope_rule, match ignored): a load by a task of the rule's
 * cgroup subtree is reported with the rule_id; with action KILLED the caller gets SIGKILL at syscall entry and
 * the record is sent at once. The signal stops the caller from ever running again; whether the load itself
 * still completes depends on where the kernel next checks for fatal signals, so module denial that must hold
 * against a loaded module is the job of an LSM hook or modules_disabled, where the kernel allows them.
 * Watch bits: PRIV_WATCH_MODULE, PRIV_WATCH_BPF (with bpf_cmds), PRIV_WATCH_PTRACE, PRIV_WATCH_MOUNT.
 */
#include "priv_common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define BPF_CMD_PROG_LOAD 5

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct scope_rule);
} module_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct module_event);
} module_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct bpf_event);
} bpf_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ptrace_event);
} ptrace_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mount_event);
} mount_pending SEC(".maps");

/* mount_event is 496 bytes and module_event 224: built here, not on the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mount_event);
} mount_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct module_event);
} module_scratch SEC(".maps");

/* ---- init_module(umod, len, uargs), finit_module(fd, uargs, flags) ---- */

static __always_inline void enter_module(__u32 op, __s32 fd, __u64 len, const char *params, __u32 flags)
{
	__u32 zero = 0;
	__u32 tid = current_tid();
	struct scope_rule *rule = scope_rule_for(&module_rules, ~0ULL);
	struct module_event *e;

	if (!rule && !(priv_watched() & PRIV_WATCH_MODULE))
		return;
	e = bpf_map_lookup_elem(&module_scratch, &zero);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->op = op;
	e->fd = fd;
	e->len = len;
	e->module_flags = flags;
	if (params)
		bpf_probe_read_user_str(e->params, sizeof(e->params), params);
	e->action = apply_rule(rule, &e->rule_id);
	if (e->action == STINGER_ACTION_KILLED) {
		fill_header(&e->hdr, EVENT_KIND_MODULE, sizeof(*e));
		output_record(e, sizeof(*e));
		return;
	}
	bpf_map_update_elem(&module_pending, &tid, e, BPF_ANY);
}

static __always_inline void exit_module(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct module_event *e = bpf_map_lookup_elem(&module_pending, &tid);

	if (!e)
		return;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_MODULE, sizeof(*e));
	output_audit_record(e, sizeof(*e));
	bpf_map_delete_elem(&module_pending, &tid);
}

SEC("tracepoint/syscalls/sys_enter_init_module")
int sys_enter_init_module(struct trace_event_raw_sys_enter *ctx)
{
	enter_module(MODULE_OP_INIT, -1, ctx->args[1], (const char *)ctx->args[2], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_finit_module")
int sys_enter_finit_module(struct trace_event_raw_sys_enter *ctx)
{
	enter_module(MODULE_OP_FINIT, ctx->args[0], 0, (const char *)ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_init_module")
int sys_exit_init_module(struct trace_event_raw_sys_exit *ctx)
{
	exit_module(ctx);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_finit_module")
int sys_exit_finit_module(struct trace_event_raw_sys_exit *ctx)
{
	exit_module(ctx);
	return 0;
}

/* ---- bpf(cmd, uattr, size) ---- */

struct prog_load_attr_head {
	__u32 prog_type;
	__u32 insn_cnt;
};

SEC("tracepoint/syscalls/sys_enter_bpf")
int sys_enter_bpf(struct trace_event_raw_sys_enter *ctx)
{
	struct priv_watch_config *cfg = priv_config();
	__u32 cmd = ctx->args[0];
	__u32 tid = current_tid();
	struct bpf_event e = {};

	if (!cfg || !(cfg->watch & PRIV_WATCH_BPF) || cmd >= 64 || !(cfg->bpf_cmds & (1ULL << cmd)))
		return 0;
	e.cmd = cmd;
	if (cmd == BPF_CMD_PROG_LOAD && ctx->args[1]) {
		struct prog_load_attr_head head = {};
		const char *attr = (const char *)ctx->args[1];

		if (!bpf_probe_read_user(&head, sizeof(head), attr)) {
			e.prog_type = head.prog_type;
			e.insn_cnt = head.insn_cnt;
		}
		if (ctx->args[2] >= 48 + BPF_PROG_NAME_SIZE)
			bpf_probe_read_user(e.prog_name, sizeof(e.prog_name), attr + 48);
		e.prog_name[BPF_PROG_NAME_SIZE - 1] = 0;
	}
	bpf_map_update_elem(&bpf_pending, &tid, &e, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bpf")
int sys_exit_bpf(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct bpf_event *e = bpf_map_lookup_elem(&bpf_pending, &tid);

	if (!e)
		return 0;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_BPF, sizeof(*e));
	output_audit_record(e, sizeof(*e));
	bpf_map_delete_elem(&bpf_pending, &tid);
	return 0;
}

/* ---- ptrace(request, pid, addr, data) ---- */

SEC("tracepoint/syscalls/sys_enter_ptrace")
int sys_enter_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = current_tid();
	struct ptrace_event e = {};

	if (!(priv_watched() & PRIV_WATCH_PTRACE))
		return 0;
	e.request = ctx->args[0];
	e.target_pid = ctx->args[1];
	bpf_map_update_elem(&ptrace_pending, &tid, &e, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ptrace")
int sys_exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct ptrace_event *e = bpf_map_lookup_elem(&ptrace_pending, &tid);

	if (!e)
		return 0;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_PTRACE, sizeof(*e));
	output_audit_record(e, sizeof(*e));
	bpf_map_delete_elem(&ptrace_pending, &tid);
	return 0;
}

/* ---- mount(dev_name, dir_name, type, flags, data) ---- */

SEC("tracepoint/syscalls/sys_enter_mount")
int sys_enter_mount(struct trace_event_raw_sys_enter *ctx)
{
	__u32 zero = 0;
	__u32 tid = current_tid();
	struct mount_event *e;
	long n;

	if (!(priv_watched() & PRIV_WATCH_MOUNT))
		return 0;
	e = bpf_map_lookup_elem(&mount_scratch, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->mount_flags = ctx->args[3];
	if (ctx->args[0]) {
		n = bpf_probe_read_user_str(e->source, sizeof(e->source), (const char *)ctx->args[0]);
		if (n == sizeof(e->source))
			e->str_flags |= MOUNT_FLAG_SOURCE_TRUNCATED;
	}
	if (ctx->args[1]) {
		n = bpf_probe_read_user_str(e->target, sizeof(e->target), (const char *)ctx->args[1]);
		if (n == sizeof(e->target))
			e->str_flags |= MOUNT_FLAG_TARGET_TRUNCATED;
	}
	if (ctx->args[2]) {
		n = bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), (const char *)ctx->args[2]);
		if (n == sizeof(e->fstype))
			e->str_flags |= MOUNT_FLAG_FSTYPE_TRUNCATED;
	}
	bpf_map_update_elem(&mount_pending, &tid, e, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mount")
int sys_exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct mount_event *e = bpf_map_lookup_elem(&mount_pending, &tid);

	if (!e)
		return 0;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_MOUNT, sizeof(*e));
	output_audit_record(e, sizeof(*e));
	bpf_map_delete_elem(&mount_pending, &tid);
	return 0;
}
