/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * What the LSM hooks of a rule set share (bpf_file_lsm.c: the file rules at file_open; bpf_file_path_lsm.c: the file
 * rules at the path_* hooks; bpf_exec_lsm.c: the exec rules at bprm_check_security): the file's path as the kernel
 * resolved it (in the caller's root) matched against the set's exact and prefix rules, and a prefix's directory by
 * identity among the file's ancestors.
 *
 * Include once per object after defining LSM_RULE_SET (the set's map prefix: file, exec) and LSM_RULE_OP (the
 * FILE_OP_* bit lsm_rule_for decides; hooks that resolve their own path pass their op to resolved_rule). The set's
 * maps are named <set>_rules_filter (its tracepoint object's, reused by libs/bpf loadFileSensor),
 * <set>_rules_resolved_exact / _prefix / _dirs and <set>_lsm_scratch (shared by every object of the set that
 * includes this). file_open and bprm_check_security are sleepable (bpf_d_path is allowed in sleepable LSM hooks
 * only), so nothing here uses an LPM trie or per-CPU memory.
 */
#ifndef STINGER_LSM_MATCH_H
#define STINGER_LSM_MATCH_H

#if !defined(LSM_RULE_SET) || !defined(LSM_RULE_OP)
#error "define LSM_RULE_SET (file, exec) and LSM_RULE_OP (a FILE_OP_* bit) before including lsm_match.h"
#endif

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_file.h"
#include "stinger_helpers.h"
#include "file_match.h"
#include "file_state.h"

#define LSM_CAT_(a, b) a##_##b
#define LSM_CAT(a, b) LSM_CAT_(a, b)
/* The rule set's map of that name: LSM_MAP(rules_filter) is file_rules_filter with LSM_RULE_SET file. */
#define LSM_MAP(name) LSM_CAT(LSM_RULE_SET, name)

/* The rule set's filter (its tracepoint object's, reused): whether any rule exists, and which lengths to try. */
PATH_FILTER_MAP(LSM_MAP(rules_filter));
RESOLVED_RULE_MAP(LSM_MAP(rules_resolved_exact));
RESOLVED_RULE_MAP(LSM_MAP(rules_resolved_prefix));

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
} LSM_MAP(rules_resolved_dirs) SEC(".maps");

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
} LSM_MAP(lsm_scratch) SEC(".maps");

#define EPERM 1
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/*
 * resolved_rule's result: 0 (no rule), or the rule's id (bits 0..31), action (32..39), how it matched (40..47) and
 * whether it keeps its records (bit 48: rule_keeps_records).
 */
#define RESOLVED_EXACT 1ULL
#define RESOLVED_PREFIX 2ULL
#define RESOLVED_KEEPS (1ULL << 48)

static __always_inline __u32 resolved_rule_id(__u64 r) { return (__u32)r; }
static __always_inline __u32 resolved_action(__u64 r) { return (r >> 32) & 0xff; }
static __always_inline __u32 resolved_flags(__u64 r)
{
	return ((r >> 40) & 0xff) == RESOLVED_EXACT ? FILE_FLAG_MATCH_EXACT : FILE_FLAG_MATCH_PREFIX;
}
/* Whether the resolved rule's records are of the kept tier whatever its action (rule_keeps_records). */
static __always_inline int resolved_keeps(__u64 r) { return (r & RESOLVED_KEEPS) != 0; }

static __always_inline __u64 pack_rule(const struct file_rule *rule, __u64 how)
{
	return rule->rule_id | ((__u64)(rule->action & 0xff) << 32) | (how << 40) |
	       (rule_keeps_records(rule->flags) ? RESOLVED_KEEPS : 0);
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
 * The rule for operation `op` (a FILE_OP_* bit) of the resolved path in the task's scratch (bpf_d_path or
 * bpf_file_path_lsm.c's walk wrote it, `n` bytes with its NUL): the exact
 * rule, else the longest prefix rule whose scope covers the task (a scoped prefix that passes over the task gives way
 * to the next shorter one, where the tracepoint falls back to the longest prefix for all tasks). Leaves the path cut
 * to its shortest tried prefix. A global function, so the caller's state after it is one, whatever length matched.
 */
__noinline __u64 resolved_rule(__u32 n, __u32 op)
{
	struct lsm_scratch *s = bpf_task_storage_get(&LSM_MAP(lsm_scratch), bpf_get_current_task_btf(), 0, 0);
	const struct path_filter *filter;
	const struct file_rule *rule;
	__u32 zero = 0, len;

	if (!s || n <= 1 || n > FILE_PATH_SIZE)
		return 0;
	filter = bpf_map_lookup_elem(&LSM_MAP(rules_filter), &zero);
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
		rule = bpf_map_lookup_elem(&LSM_MAP(rules_resolved_exact), &s->key);
		if (rule && (rule->ops & op) && !file_rule_passes_over(rule->flags))
			return pack_rule(rule, RESOLVED_EXACT);
	}
	/* From the longest length down; the key holds the first `at` bytes and zeros after them. */
	for (int i = 0; i < FILE_PATH_SIZE - 1; i++) {
		__u32 at = len - i;

		if (at < 1 || at > FILE_PATH_SIZE - 1)
			break;
		if (filter_bit_masked(filter->prefix_len, at)) {
			s->key.prefixlen = at * 8;
			rule = bpf_map_lookup_elem(&LSM_MAP(rules_resolved_prefix), &s->key);
			if (rule && (rule->ops & op) && !file_rule_passes_over(rule->flags))
				return pack_rule(rule, RESOLVED_PREFIX);
		}
		s->key.path[(at - 1) & (FILE_PATH_SIZE - 1)] = 0;
	}
	return 0;
}

/*
 * The nearest ancestor directory of dentry `d` (an opened file, or the one an operation names) that a directory rule
 * for `op` names (<set>_rules_resolved_dirs), packed as resolved_rule's result; 0 when none within DIR_WALK_DEPTH
 * levels. The walk follows d_parent inside the file's file system, so it does not depend on the mount (or bind mount)
 * the caller went through.
 */
static __always_inline __u64 dir_rule(struct dentry *d, __u32 op)
{
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
		rule = bpf_map_lookup_elem(&LSM_MAP(rules_resolved_dirs), &key);
		if (rule && (rule->ops & op) && !file_rule_passes_over(rule->flags))
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

/*
 * A hook's decision on a file record (the tracepoint's parked one, or its own): its rule and action, and how the
 * resolved path matched (MATCH_PATH2: a rename's new path), in place of how the path as given did.
 */
static __always_inline void lsm_decide(struct file_event *e, __u64 r, __u32 taken, int matched_new)
{
	e->file_flags &= ~(FILE_FLAG_MATCH_EXACT | FILE_FLAG_MATCH_PREFIX | FILE_FLAG_MATCH_NAME | FILE_FLAG_MATCH_PATH2 |
			   FILE_FLAG_NEEDS_RESOLUTION | FILE_FLAG_MATCH_CWD);
	/* FILE_FLAG_KEPT stays when the path as given matched a keeping rule: the record is kept for either. */
	e->file_flags |= resolved_flags(r) | (resolved_keeps(r) ? FILE_FLAG_KEPT : 0) |
			 (matched_new ? FILE_FLAG_MATCH_PATH2 : 0);
	e->rule_id = resolved_rule_id(r);
	e->action = taken;
}

/* lsm_hook_applies's test of the caller alone: 1 to match, 0 to let it through (a kernel thread, the agent), -EPERM. */
static __always_inline int lsm_task_applies(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (task->flags & PF_KTHREAD)
		return 0;
	if (task->pending.signal.sig[0] & (1UL << (STINGER_SIGKILL - 1)))
		return -EPERM;
	if (ignored_process())
		return 0;
	return 1;
}

/*
 * The hooks' common start, given the hook's `ret` so far: 1 when the call is to be matched; 0 when it is let through
 * untouched (no rule in the set, a kernel thread, the agent); a negative errno to return as it is: an earlier LSM's
 * refusal, or -EPERM when the caller is dying of a SIGKILL the tracepoint sent at syscall entry (it was reported
 * there; it must not get the file meanwhile).
 */
static __always_inline int lsm_hook_applies(int ret)
{
	const struct path_filter *filter;
	__u32 zero = 0;

	if (ret)
		return ret;

	filter = bpf_map_lookup_elem(&LSM_MAP(rules_filter), &zero);
	if (!filter || !filter_has_rules(filter))
		return 0;
	return lsm_task_applies();
}


/*
 * The set's rule for `file`, packed (resolved_rule); its resolved path is left in the task's scratch (*s, *n bytes
 * with the NUL) when a rule matched or `keep_path` asks for it. 0 when the path could not be resolved or no rule
 * matched.
 */
static __always_inline __u64 lsm_rule_for(const struct file *file, struct lsm_scratch **s, long *n, int keep_path)
{
	const struct path_filter *filter;
	__u32 zero = 0;
	__u64 r;

	*s = bpf_task_storage_get(&LSM_MAP(lsm_scratch), bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!*s)
		return 0;
	*n = bpf_d_path((struct path *)&file->f_path, (*s)->key.path, sizeof((*s)->key.path));
	if (*n <= 1 || *n > FILE_PATH_SIZE)
		return 0;
	r = resolved_rule(*n, LSM_RULE_OP);
	filter = bpf_map_lookup_elem(&LSM_MAP(rules_filter), &zero);
	if (!r && filter && filter->dir_rules)
		r = dir_rule(file->f_path.dentry, LSM_RULE_OP);
	/* resolved_rule cut the path while trying prefixes: resolve it again for the record (only when one is sent). */
	if ((r || keep_path) && bpf_d_path((struct path *)&file->f_path, (*s)->key.path, sizeof((*s)->key.path)) != *n)
		(*s)->key.path[0] = 0;
	return r;
}

#endif /* STINGER_LSM_MATCH_H */
