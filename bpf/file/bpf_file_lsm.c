/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * File enforcement at the LSM hook, on kernels that run BPF LSM programs (`bpf` in /sys/kernel/security/lsm, no
 * lockdown that refuses them): loaded beside bpf_file.c when the file sensor runs in its `lsm` mode (libs/bpf
 * chooseSensorMode), never on a locked-down kernel.
 *
 * Hook: lsm.s/file_open, i.e. security_file_open(), which do_dentry_open() calls for every open of a file after the
 * path walk is done and before the file is handed to the caller: whatever name the caller used (a symlink, "//",
 * "/./", a path relative to the cwd or to a directory fd), the hook gets the struct file the kernel resolved. LSM
 * hooks are the kernel's stable interface for access decisions (include/linux/lsm_hook_defs.h); file_open has had
 * this signature since BPF LSM exists (5.7). The program is sleepable because bpf_d_path is allowed there (and in
 * no non-sleepable LSM hook): it writes the file's path as seen from the caller's root, with mount points resolved.
 *
 * Matching: the resolved path against the file sensor's exact and prefix rules (lsm_match.h resolved_rule; hash
 * copies of the tries, sleepable programs may not use LPM tries) for the open operation. A DENY rule fails the open
 * with -EPERM before the caller gets a descriptor; a KILL rule does the same and sends SIGKILL to the caller; an
 * AUDIT rule reports. A bind mount shows the file under the mount's path (d_path follows the mount the caller went
 * through): a prefix rule naming a directory is also matched by that directory's identity among the file's
 * ancestors (dir_rule), which no mount changes.
 *
 * Records: when bpf_file.c parked a record for this open (the path as given matched a rule), the resolved path goes
 * into its path2 with FILE_FLAG_RESOLVED and this hook's decision into its rule and action; the exit tracepoint sends
 * it with the syscall's result. Otherwise (the given path did not match, or the open does not come from an open
 * syscall) a record is sent from here: path empty, path2 the resolved path, result -EPERM when denied.
 *
 * Cost: nothing while no exact or prefix rule exists (one array lookup); with rules, every open on the node pays a
 * bpf_d_path and one hash lookup per stored prefix length. Kernel threads and the agent's own process are never
 * acted on. A path too long for FILE_PATH_SIZE is not matched here (the tracepoint still flags it for user space).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "stinger_file.h"

#define LSM_RULE_SET file
#define LSM_RULE_OP FILE_OP_OPEN
#include "lsm_match.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* A record of an open only this hook saw: the resolved path in path2, the decision, -EPERM when refused. */
static __always_inline void send_resolved(const struct lsm_scratch *s, __u32 len, __u64 r, __u32 taken, __u64 open_flags)
{
	__u32 refused = taken == ACTION_TAKEN_DENIED || taken == ACTION_TAKEN_KILLED;
	__u32 kept = refused || resolved_keeps(r);
	struct file_event *e;

	/*
	 * A refusal, or a match of a rule that keeps its records, is of the kept tier; an audit of the audit tier
	 * (stinger_loss.h): shed while the ring fills.
	 */
	e = reserve_record_tiered(TWO_PATH_SIZE, kept);
	if (!e)
		return;
	fill_header(&e->hdr, EVENT_KIND_FILE, TWO_PATH_SIZE);
	init_file_event(e, FILE_OP_OPEN);
	e->file_flags = resolved_flags(r) | FILE_FLAG_RESOLVED | (refused ? FILE_FLAG_RESULT_KNOWN : 0) |
			(resolved_keeps(r) ? FILE_FLAG_KEPT : 0);
	e->rule_id = resolved_rule_id(r);
	e->action = taken;
	e->result = refused ? -EPERM : 0;
	e->open_flags = open_flags;
	e->path2_len = len;
	__builtin_memcpy(e->path2, s->key.path, sizeof(e->path2));
	bpf_ringbuf_submit(e, 0);
}

SEC("lsm.s/file_open")
int BPF_PROG(file_open_enforce, struct file *file, int ret)
{
	struct file_event *parked;
	struct lsm_scratch *s;
	__u32 tid, taken;
	int applies, has_parked;
	long n = 0;
	__u64 r;

	applies = lsm_hook_applies(ret);
	if (applies <= 0)
		return applies;
	tid = current_tid();
	parked = counted_lookup(&file_by_tid, &tid, &file_by_tid_bound);
	if (parked && parked->op != FILE_OP_OPEN)
		parked = NULL;
	/* A flag, not the pointer: clang would test `!r && !parked` as (r | parked) == 0, arithmetic on a pointer. */
	has_parked = parked != NULL;
	asm volatile("" : "+r"(has_parked));
	r = lsm_rule_for(file, &s, &n, has_parked);
	if (!s || n <= 1 || (!r && !has_parked))
		return 0;
	taken = action_taken(r);
	if (taken == ACTION_TAKEN_KILLED)
		bpf_send_signal(STINGER_SIGKILL);
	if (parked) {
		__builtin_memcpy(parked->path2, s->key.path, sizeof(parked->path2));
		parked->path2_len = n - 1;
		parked->file_flags |= FILE_FLAG_RESOLVED;
		if (r)
			lsm_decide(parked, r, taken, 0); /* an open's parked record never has MATCH_PATH2 */
	} else {
		send_resolved(s, n - 1, r, taken, file->f_flags);
	}
	return taken == ACTION_TAKEN_DENIED || taken == ACTION_TAKEN_KILLED ? -EPERM : 0;
}
