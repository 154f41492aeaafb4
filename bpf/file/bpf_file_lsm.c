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
 * Matching: the resolved path against the file sensor's exact and prefix rules (file_match.h match_resolved; hash
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
#include "file_match.h"
#include "file_state.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The file sensor's filter (bpf_file.c's, reused): whether any rule exists, and which lengths to try. */
PATH_FILTER_MAP(file_rules_filter);
RESOLVED_RULE_MAP(file_rules_resolved_exact);
RESOLVED_RULE_MAP(file_rules_resolved_prefix);

/*
 * The directories of the prefix rules that end in '/' and named a directory when the rule was added, by identity
 * (struct dir_identity_key; written by libs/bpf path-rules.ts beside the prefix map): a bind mount shows a file under
 * the mount's path, so the resolved string misses it, but the file's dentry still has the rule's directory among its
 * ancestors.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dir_identity_key);
	__type(value, struct file_rule);
} file_rules_resolved_dirs SEC(".maps");

/* Ancestors of an opened file looked at for a directory rule: a path of FILE_PATH_SIZE bytes has at most 128. */
#define DIR_WALK_DEPTH 32

/*
 * The hook's work area, one per task: a sleepable program may be preempted, so a per-CPU area could be another
 * task's by the time it is read. Created at a task's first open while rules exist; freed with the task.
 */
struct lsm_scratch {
	struct path_prefix_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lsm_scratch);
} file_lsm_scratch SEC(".maps");

#define EPERM 1
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/* resolved_rule's result: 0 (no rule), or the rule's id (bits 0..31), action (32..39) and how it matched (40..47). */
#define RESOLVED_EXACT 1ULL
#define RESOLVED_PREFIX 2ULL

static __always_inline __u32 resolved_rule_id(__u64 r) { return (__u32)r; }
static __always_inline __u32 resolved_action(__u64 r) { return (r >> 32) & 0xff; }
static __always_inline __u32 resolved_flags(__u64 r)
{
	return ((r >> 40) & 0xff) == RESOLVED_EXACT ? FILE_FLAG_MATCH_EXACT : FILE_FLAG_MATCH_PREFIX;
}

static __always_inline __u64 pack_rule(const struct file_rule *rule, __u64 how)
{
	return rule->rule_id | ((__u64)(rule->action & 0xff) << 32) | (how << 40);
}

/*
 * filter_bit for a bit the verifier cannot bound: clang knows the bit is below 256, drops the `& 3` of the word
 * index and indexes with the unbounded 64-bit register, which 6.1's verifier refuses ("R3 max value is outside of
 * the allowed memory range"); hiding the bit from clang keeps the mask in the object.
 */
static __always_inline __u64 filter_bit_masked(const __u64 *words, __u32 bit)
{
	__u64 b = bit;

	asm volatile("" : "+r"(b));
	return (words[(b >> 6) & 3] >> (b & 63)) & 1;
}

/*
 * Whether a rule's scope passes over the current task. A global function: verified once, not once per prefix length
 * resolved_rule tries (its pod and cgroup walks times 255 lengths would exceed the verifier's budget).
 */
__noinline int file_rule_passes_over(__u32 flags)
{
	return rule_scope_excludes_current(flags, RULE_FLAG_HOST_ONLY, RULE_FLAG_PODS_ONLY);
}

/*
 * The open rule for the resolved path in the task's scratch (bpf_d_path wrote it, `n` bytes with its NUL): the exact
 * rule, else the longest prefix rule whose scope covers the task (a scoped prefix that passes over the task gives way
 * to the next shorter one, where the tracepoint falls back to the longest prefix for all tasks). Leaves the path cut
 * to its shortest tried prefix. A global function, so the caller's state after it is one, whatever length matched.
 */
__noinline __u64 resolved_rule(__u32 n)
{
	struct lsm_scratch *s = bpf_task_storage_get(&file_lsm_scratch, bpf_get_current_task_btf(), 0, 0);
	const struct path_filter *filter;
	const struct file_rule *rule;
	__u32 zero = 0, len;

	if (!s || n <= 1 || n > FILE_PATH_SIZE)
		return 0;
	filter = bpf_map_lookup_elem(&file_rules_filter, &zero);
	if (!filter)
		return 0;
	len = n - 1;
	/* bpf_d_path leaves the bytes after the NUL as it found them; the hash keys need zeros there. */
	for (int i = 0; i < FILE_PATH_SIZE; i++) {
		if (i >= n)
			s->key.path[i] = 0;
	}
	if (filter_bit_masked(filter->exact_len, len)) {
		s->key.prefixlen = n * 8;
		rule = bpf_map_lookup_elem(&file_rules_resolved_exact, &s->key);
		if (rule && (rule->ops & FILE_OP_OPEN) && !file_rule_passes_over(rule->flags))
			return pack_rule(rule, RESOLVED_EXACT);
	}
	/* From the longest length down; the key holds the first `at` bytes and zeros after them. */
	for (int i = 0; i < FILE_PATH_SIZE - 1; i++) {
		__u32 at = len - i;

		if (at < 1 || at > FILE_PATH_SIZE - 1)
			break;
		if (filter_bit_masked(filter->prefix_len, at)) {
			s->key.prefixlen = at * 8;
			rule = bpf_map_lookup_elem(&file_rules_resolved_prefix, &s->key);
			if (rule && (rule->ops & FILE_OP_OPEN) && !file_rule_passes_over(rule->flags))
				return pack_rule(rule, RESOLVED_PREFIX);
		}
		s->key.path[(at - 1) & (FILE_PATH_SIZE - 1)] = 0;
	}
	return 0;
}

/*
 * The nearest ancestor directory of the opened file that a directory rule names (file_rules_resolved_dirs), packed as
 * resolved_rule's result; 0 when none within DIR_WALK_DEPTH levels. The walk follows d_parent inside the file's file
 * system, so it does not depend on the mount (or bind mount) the caller went through.
 */
static __always_inline __u64 dir_rule(struct file *file)
{
	struct dentry *d = file->f_path.dentry;
	struct dir_identity_key key = {};
	const struct file_rule *rule;

	for (int i = 0; i < DIR_WALK_DEPTH; i++) {
		struct dentry *parent = d->d_parent;
		struct inode *inode;

		if (!parent || parent == d)
			break;
		d = parent;
		inode = d->d_inode;
		if (!inode)
			break;
		key.dev = inode->i_sb->s_dev;
		key.ino = inode->i_ino;
		rule = bpf_map_lookup_elem(&file_rules_resolved_dirs, &key);
		if (rule && (rule->ops & FILE_OP_OPEN) && !file_rule_passes_over(rule->flags))
			return pack_rule(rule, RESOLVED_PREFIX);
	}
	return 0;
}

/* Whether a filter holds any exact or prefix rule: without one no open is looked at. */
static __always_inline int filter_has_rules(const struct path_filter *filter)
{
	__u64 any = 0;

	for (int i = 0; i < 4; i++)
		any |= filter->exact_len[i] | filter->prefix_len[i];
	return filter->valid && any;
}

static __always_inline __u32 action_taken(__u64 r)
{
	if (!r)
		return ACTION_TAKEN_NONE;
	switch (resolved_action(r)) {
	case RULE_ACTION_DENY:
		return ACTION_TAKEN_DENIED;
	case RULE_ACTION_KILL:
		return ACTION_TAKEN_KILLED;
	default:
		return ACTION_TAKEN_AUDIT;
	}
}

/* A record of an open only this hook saw: the resolved path in path2, the decision, -EPERM when refused. */
static __always_inline void send_resolved(const struct lsm_scratch *s, __u32 len, __u64 r, __u32 taken, __u64 open_flags)
{
	__u32 refused = taken == ACTION_TAKEN_DENIED || taken == ACTION_TAKEN_KILLED;
	struct file_event *e;

	/* A refusal is of the kept tier, an audit of the audit tier (stinger_loss.h): shed while the ring fills. */
	if (!refused && audit_record_shed())
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost_record();
		return;
	}
	fill_header(&e->hdr, EVENT_KIND_FILE, sizeof(*e));
	e->op = FILE_OP_OPEN;
	e->file_flags = resolved_flags(r) | FILE_FLAG_RESOLVED | (refused ? FILE_FLAG_RESULT_KNOWN : 0);
	e->rule_id = resolved_rule_id(r);
	e->action = taken;
	e->dirfd = AT_FDCWD;
	e->dirfd2 = AT_FDCWD;
	e->result = refused ? -EPERM : 0;
	e->open_flags = open_flags;
	e->mode = 0;
	e->owner_uid = 0;
	e->owner_gid = 0;
	e->path_len = 0;
	e->path2_len = len;
	e->open_id = 0;
	e->path[0] = 0;
	__builtin_memcpy(e->path2, s->key.path, sizeof(e->path2));
	bpf_ringbuf_submit(e, 0);
}

SEC("lsm.s/file_open")
int BPF_PROG(file_open_enforce, struct file *file, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct path_filter *filter;
	struct file_event *parked;
	struct lsm_scratch *s;
	__u32 zero = 0, tid, taken, len;
	__u64 r;
	long n;

	if (ret)
		return ret; /* an earlier LSM refused already */
	filter = bpf_map_lookup_elem(&file_rules_filter, &zero);
	if (!filter || !filter_has_rules(filter))
		return 0;
	if (task->flags & PF_KTHREAD)
		return 0;
	/* bpf_file.c killed the caller at syscall entry (and reported it): it must not get the file meanwhile. */
	if (task->pending.signal.sig[0] & (1UL << (STINGER_SIGKILL - 1)))
		return -EPERM;
	if (ignored_process())
		return 0;
	s = bpf_task_storage_get(&file_lsm_scratch, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	n = bpf_d_path((struct path *)&file->f_path, s->key.path, sizeof(s->key.path));
	if (n <= 1 || n > FILE_PATH_SIZE)
		return 0;
	len = n - 1;
	r = resolved_rule(n);
	if (!r && filter->dir_rules)
		r = dir_rule(file);
	tid = current_tid();
	parked = bpf_map_lookup_elem(&file_by_tid, &tid);
	if (parked && parked->op != FILE_OP_OPEN)
		parked = NULL;
	if (!r && !parked)
		return 0;
	/* resolved_rule cut the path while trying prefixes: resolve it again for the record (only for matched opens). */
	if (bpf_d_path((struct path *)&file->f_path, s->key.path, sizeof(s->key.path)) != n)
		s->key.path[0] = 0;
	taken = action_taken(r);
	if (taken == ACTION_TAKEN_KILLED)
		bpf_send_signal(STINGER_SIGKILL);
	if (parked) {
		__builtin_memcpy(parked->path2, s->key.path, sizeof(parked->path2));
		parked->path2_len = len;
		parked->file_flags |= FILE_FLAG_RESOLVED;
		if (r) {
			parked->file_flags &= ~(FILE_FLAG_MATCH_EXACT | FILE_FLAG_MATCH_PREFIX | FILE_FLAG_MATCH_NAME |
						FILE_FLAG_NEEDS_RESOLUTION | FILE_FLAG_MATCH_CWD);
			parked->file_flags |= resolved_flags(r);
			parked->rule_id = resolved_rule_id(r);
			parked->action = taken;
		}
	} else {
		send_resolved(s, len, r, taken, file->f_flags);
	}
	return taken == ACTION_TAKEN_DENIED || taken == ACTION_TAKEN_KILLED ? -EPERM : 0;
}
