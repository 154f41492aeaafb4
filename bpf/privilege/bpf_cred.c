/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Privilege sensor, credentials: one setid_event per setuid/setgid/setreuid/setregid/setresuid/setresgid/
 * setfsuid/setfsgid(2) and one capset_event per capset(2), while watched (priv_watch.watch & PRIV_WATCH_SETID /
 * PRIV_WATCH_CAPSET; default: nothing).
 *
 * Hooks: syscalls/sys_enter_<call> parks the arguments by tid, syscalls/sys_exit_<call> adds the result and
 * sends. Syscall tracepoints are ABI (SYSCALL_DEFINE) and need no kernel-memory reads. capset's header and data
 * are user memory read at entry: header {version, pid}; data is one {effective, permitted, inheritable} u32
 * triple for _LINUX_CAPABILITY_VERSION_1 and two (low and high words) for versions 2 and 3. Note glibc's
 * setuid() in a multi-threaded process runs the syscall once per thread (setxid broadcast): one record each.
 */
#include "priv_common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CAP_VERSION_1 0x19980330

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct setid_event);
} setid_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct capset_event);
} capset_pending SEC(".maps");

static __always_inline void enter_setid(struct trace_event_raw_sys_enter *ctx, __u32 op, int nargs)
{
	struct setid_event e = {};
	__u32 tid = current_tid();

	if (!(priv_watched() & PRIV_WATCH_SETID))
		return;
	e.op = op;
	e.args[0] = ctx->args[0];
	e.args[1] = nargs > 1 ? (__u32)ctx->args[1] : 0;
	e.args[2] = nargs > 2 ? (__u32)ctx->args[2] : 0;
	bpf_map_update_elem(&setid_pending, &tid, &e, BPF_ANY);
}

static __always_inline void exit_setid(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct setid_event *e = bpf_map_lookup_elem(&setid_pending, &tid);

	if (!e)
		return;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_PRIVILEGE, sizeof(*e));
	output_audit_record(e, sizeof(*e));
	bpf_map_delete_elem(&setid_pending, &tid);
}

#define SETID_HOOKS(name, op, nargs)                                                                                \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                                 \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)                                                 \
	{                                                                                                           \
		enter_setid(ctx, op, nargs);                                                                        \
		return 0;                                                                                           \
	}                                                                                                           \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                                  \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)                                                   \
	{                                                                                                           \
		exit_setid(ctx);                                                                                    \
		return 0;                                                                                           \
	}

SETID_HOOKS(setuid, SETID_OP_SETUID, 1)
SETID_HOOKS(setgid, SETID_OP_SETGID, 1)
SETID_HOOKS(setreuid, SETID_OP_SETREUID, 2)
SETID_HOOKS(setregid, SETID_OP_SETREGID, 2)
SETID_HOOKS(setresuid, SETID_OP_SETRESUID, 3)
SETID_HOOKS(setresgid, SETID_OP_SETRESGID, 3)
SETID_HOOKS(setfsuid, SETID_OP_SETFSUID, 1)
SETID_HOOKS(setfsgid, SETID_OP_SETFSGID, 1)

struct cap_header_user {
	__u32 version;
	__s32 pid;
};

struct cap_data_user {
	__u32 effective;
	__u32 permitted;
	__u32 inheritable;
};

SEC("tracepoint/syscalls/sys_enter_capset")
int sys_enter_capset(struct trace_event_raw_sys_enter *ctx)
{
	struct capset_event e = {};
	struct cap_header_user header = {};
	struct cap_data_user data[2] = {};
	__u32 tid = current_tid();

	if (!(priv_watched() & PRIV_WATCH_CAPSET))
		return 0;
	if (!bpf_probe_read_user(&header, sizeof(header), (const void *)ctx->args[0])) {
		e.version = header.version;
		e.target_pid = header.pid;
	}
	if (ctx->args[1]) {
		long err = header.version == CAP_VERSION_1
				   ? bpf_probe_read_user(&data[0], sizeof(data[0]), (const void *)ctx->args[1])
				   : bpf_probe_read_user(data, sizeof(data), (const void *)ctx->args[1]);
		if (!err) {
			e.effective = (__u64)data[1].effective << 32 | data[0].effective;
			e.permitted = (__u64)data[1].permitted << 32 | data[0].permitted;
			e.inheritable = (__u64)data[1].inheritable << 32 | data[0].inheritable;
			e.cap_flags |= CAPSET_FLAG_DATA_READ;
		}
	}
	bpf_map_update_elem(&capset_pending, &tid, &e, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_capset")
int sys_exit_capset(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = current_tid();
	struct capset_event *e = bpf_map_lookup_elem(&capset_pending, &tid);

	if (!e)
		return 0;
	e->result = ctx->ret;
	fill_header(&e->hdr, EVENT_KIND_CAPSET, sizeof(*e));
	output_audit_record(e, sizeof(*e));
	bpf_map_delete_elem(&capset_pending, &tid);
	return 0;
}
