/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Exec enforcement: execve(2)/execveat(2) of a binary an exec rule names.
 *
 * Hooks: syscalls/sys_enter_execve and sys_enter_execveat (stable ABI since 2.6.x / 3.19), attached beside the
 * process sensor's own programs on the same tracepoints (bpf/process/bpf_exec.c, which records every exec; this
 * object only decides). The path is the one the caller passed, read from user memory and matched like file
 * paths (file_match.h, with the exec_rules_* maps and FILE_OP_EXEC).
 *
 * A KILL match sends SIGKILL at syscall entry: the kernel sees a fatal signal pending, the exec fails or the new
 * image is killed on its way back to user space, so not one instruction of the denied binary runs. Every audit or
 * kill match sends one exec_rule_event with the rule_id; an unmatched exec writes nothing, and neither does a DENY
 * match (bpf_exec_lsm.c refuses and reports it).
 *
 * Not seen here: execveat(fd, "", AT_EMPTY_PATH) (fexecve, memfd) has no path — the process sensor's exec
 * record and the pipeline cover it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "stinger_file.h"
#include "file_match.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

DECLARE_RULE_MAPS(exec);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_rule_event);
} exec_rule_scratch SEC(".maps");

static __always_inline void check_exec(__s32 dirfd, const char *path, __u32 at_flags)
{
	__u32 zero = 0;
	struct match_scratch *s = bpf_map_lookup_elem(&exec_match_scratch, &zero);
	struct exec_rule_event *e;
	struct match m;
	int kill;

	if (!s)
		return;
	match_path(s, path, RULE_MAPS(exec), FILE_OP_EXEC, dirfd == AT_FDCWD, &m);
	if (!m.rule)
		return; /* the process sensor reports every exec; this object reports only rule matches */
	/*
	 * A deny rule exists only where bpf_exec_lsm.c runs (libs/bpf denyOps): the hook decides on the binary the kernel
	 * resolved and reports the exec once; reporting the name as given here too would report it twice.
	 */
	if (m.rule->action == RULE_ACTION_DENY)
		return;
	kill = match_kills(&m);
	if (kill)
		bpf_send_signal(STINGER_SIGKILL);
	e = bpf_map_lookup_elem(&exec_rule_scratch, &zero);
	if (!e)
		return;
	e->rule_id = m.rule->rule_id;
	e->action = kill ? ACTION_TAKEN_KILLED : ACTION_TAKEN_AUDIT;
	e->exec_rule_flags = m.flags;
	e->dirfd = dirfd;
	e->at_flags = at_flags;
	e->path_len = m.len;
	e->pad = 0;
	__builtin_memcpy(e->path, s->key.path, sizeof(e->path));
	fill_header(&e->hdr, EVENT_KIND_EXEC_RULE, sizeof(*e));
	output_record_tiered(e, sizeof(*e), kill || rule_keeps_records(m.rule->flags));
}

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_policy_execve(struct trace_event_raw_sys_enter *ctx)
{
	check_exec(AT_FDCWD, (const char *)ctx->args[0], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int exec_policy_execveat(struct trace_event_raw_sys_enter *ctx)
{
	check_exec(ctx->args[0], (const char *)ctx->args[1], ctx->args[4]);
	return 0;
}
