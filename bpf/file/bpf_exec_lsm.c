/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Exec enforcement at the LSM hook, on kernels that run BPF LSM programs: loaded beside bpf_exec_policy.c when the
 * file sensor runs in its `lsm` mode (libs/bpf chooseSensorMode), never on a locked-down kernel.
 *
 * Hook: lsm.s/bprm_check_security, i.e. security_bprm_check(), which search_binary_handler() calls with the binary
 * the kernel opened for execve/execveat (bprm->file), before any binary handler loads it: once for the program, and
 * again for the interpreter of a script (`#!`) or a binfmt_misc handler. Whatever name the caller used (a symlink,
 * "//", a path relative to the cwd or to a directory fd, a bind mount of a directory), the hook gets the file the
 * kernel resolved. Sleepable, for bpf_d_path (lsm_match.h).
 *
 * Matching: the resolved path against the exec rules (lsm_match.h, the exec_rules_* set, FILE_OP_EXEC). A DENY rule
 * fails the execve with -EPERM (the caller lives and gets the error); a KILL rule does the same and sends SIGKILL; an
 * AUDIT rule reports. A caller the tracepoint already killed at syscall entry gets -EPERM without a second record.
 *
 * Records: one exec_rule_event per match, its path the resolved path (FILE_FLAG_RESOLVED), dirfd AT_FDCWD. An audit
 * rule that the tracepoint matched by the name as given is reported by both, each with its path.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "stinger_file.h"

#define LSM_RULE_SET exec
#define LSM_RULE_OP FILE_OP_EXEC
#include "lsm_match.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("lsm.s/bprm_check_security")
int BPF_PROG(exec_check_enforce, struct linux_binprm *bprm, int ret)
{
	struct exec_rule_event *e;
	struct lsm_scratch *s;
	__u32 taken, refused;
	int applies;
	long n = 0;
	__u64 r;

	applies = lsm_hook_applies(ret);
	if (applies <= 0)
		return applies;
	r = lsm_rule_for(bprm->file, &s, &n, 0);
	if (!r || !s || n <= 1)
		return 0;
	taken = action_taken(r);
	refused = taken == ACTION_TAKEN_DENIED || taken == ACTION_TAKEN_KILLED;
	if (taken == ACTION_TAKEN_KILLED)
		bpf_send_signal(STINGER_SIGKILL);
	/*
	 * A refusal, or a match of a rule that keeps its records, is of the kept tier; an audit of the audit tier
	 * (stinger_loss.h): shed while the ring fills.
	 */
	e = reserve_record_tiered(sizeof(*e), refused || resolved_keeps(r));
	if (e) {
		fill_header(&e->hdr, EVENT_KIND_EXEC_RULE, sizeof(*e));
		e->rule_id = resolved_rule_id(r);
		e->action = taken;
		e->exec_rule_flags = resolved_flags(r) | FILE_FLAG_RESOLVED;
		e->dirfd = AT_FDCWD;
		e->at_flags = 0;
		e->path_len = n - 1;
		e->pad = 0;
		__builtin_memcpy(e->path, s->key.path, sizeof(e->path));
		bpf_ringbuf_submit(e, 0);
	}
	return refused ? -EPERM : 0;
}
