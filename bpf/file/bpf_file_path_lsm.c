/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Unlink, rmdir, rename, chmod and chown at their LSM hooks, on kernels that run BPF LSM programs: loaded beside
 * bpf_file.c and bpf_file_lsm.c when the file sensor runs in its `lsm` mode (libs/bpf chooseSensorMode), never on a
 * locked-down kernel.
 *
 * Hooks: lsm/path_unlink, path_rmdir, path_rename, path_chmod and path_chown (security_path_*(), which the VFS calls
 * after the path walk with the directory and entry, or the file, it resolved; CONFIG_SECURITY_PATH, which AppArmor
 * and TOMOYO need, so distribution kernels have it). Whatever name the caller used (a symlink in the directory part,
 * "//", "..", a path relative to the cwd or a directory fd, fchmod/fchown on a descriptor), the hook gets the dentry and
 * mount the kernel reached. Signatures as since 5.19 (path_rename's flags).
 *
 * Path: bpf_d_path is refused in these hooks (the kernel allows it in sleepable hooks only, and these are not among
 * them), so walk_path writes the path itself the way d_path does: names up the dentry tree, across each mount to its
 * mount point, until the caller's root (or the namespace's root mount). It reads kernel memory (bpf_probe_read_kernel
 * with CO-RE offsets), which lockdown forbids, as it forbids the hook itself.
 *
 * Matching and records, as bpf_file_lsm.c does for an open: the resolved path (for a rename the old path, else the
 * new one, FILE_FLAG_MATCH_PATH2) against the file rules for the operation (lsm_match.h); DENY fails the operation
 * with -EPERM, KILL does too and sends SIGKILL, AUDIT reports. When bpf_file.c parked a record for the syscall (the
 * path as given matched a rule), the resolved path goes into its path2 (a rename: the new path in path2, the old in
 * path3) with FILE_FLAG_RESOLVED, and this hook's decision into its rule and action; the exit tracepoint sends it with
 * the result. Otherwise, when the resolved path matched, a record is sent from here: path empty, result -EPERM when
 * refused (else unknown: the operation has not happened yet, and it may not come from a syscall the exit tracepoint
 * sees).
 *
 * Cost: nothing while no file rule exists and nothing is parked; with rules, every such operation on the node pays a
 * walk of its path (at most WALK_DEPTH names and WALK_MOUNTS mounts) and one hash lookup per stored prefix length. A
 * path deeper or longer than that is not resolved here (the tracepoint's record stays as it was).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "stinger_file.h"

#define LSM_RULE_SET file
/* The ops these hooks decide; each passes its own to resolved_rule (lsm_rule_for, which uses this, is unused here). */
#define LSM_RULE_OP (FILE_OP_UNLINK | FILE_OP_RENAME | FILE_OP_CHMOD | FILE_OP_CHOWN)
#include "lsm_match.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Names walk_path collects (a power of two: it indexes by a mask), and mounts it crosses. */
#define WALK_DEPTH 32
#define WALK_MOUNTS 8
#define PATH_MASK (FILE_PATH_SIZE - 1)


/* walk_path's work area: non-sleepable hooks, so one per CPU. */
struct path_walk {
	char path[2 * FILE_PATH_SIZE]; /* the path written; the second half is room the verifier needs, never used */
	char first[FILE_PATH_SIZE];    /* a rename's new path, resolved before the old one */
	const unsigned char *names[WALK_DEPTH];
	__u32 lens[WALK_DEPTH];
	/*
	 * The walk's counters live here rather than in registers: the verifier does not track map memory, so the loops
	 * are verified once instead of once per value a counter can have on each path through them.
	 */
	__u32 count; /* names collected */
	__u32 pos;   /* bytes of path written */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_walk);
} file_path_walk SEC(".maps");

/* Appends "/" and `len` bytes of `name` at w->pos; -1 when that would not leave room for the NUL. */
static __always_inline int append_name(struct path_walk *w, const unsigned char *name, __u32 len)
{
	__u32 at = w->pos;

	if (len == 0 || at + 1 + len > FILE_PATH_SIZE - 1)
		return -1;
	/* clang knows both are below FILE_PATH_SIZE here and would drop the masks the verifier needs to see. */
	asm volatile("" : "+r"(at), "+r"(len));
	w->path[at & PATH_MASK] = '/';
	at = (at + 1) & PATH_MASK;
	bpf_probe_read_kernel(&w->path[at], len & PATH_MASK, name);
	w->pos = at + (len & PATH_MASK);
	return 0;
}

/*
 * Collects into w->names and w->lens the names from `dentry` (on mount `vfsmnt`) up to the caller's root, crossing
 * each mount to its mount point, as d_path walks: the name nearest the root last. Returns how many (w->count), or -1
 * when the walk does not reach a root within WALK_DEPTH names and WALK_MOUNTS mounts (a detached tree too). A global
 * function taking addresses: verified once.
 */
__noinline long walk_names(struct path_walk *w, __u64 dentry_addr, __u64 vfsmnt_addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct dentry *root = BPF_CORE_READ(task, fs, root.dentry);
	struct vfsmount *root_mnt = BPF_CORE_READ(task, fs, root.mnt);
	struct dentry *dentry = (struct dentry *)dentry_addr;
	struct vfsmount *vfsmnt = (struct vfsmount *)vfsmnt_addr;
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);

	if (!w)
		return -1;
	w->count = 0;
	for (int i = 0; i < WALK_DEPTH + WALK_MOUNTS; i++) {
		struct dentry *parent;
		__u32 count;

		if (dentry == root && vfsmnt == root_mnt)
			return w->count;
		if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			/* The namespace's root mount is its own parent: the path is complete from there. */
			if (up == mnt)
				return w->count;
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			vfsmnt = (void *)up + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		parent = BPF_CORE_READ(dentry, d_parent);
		count = w->count;
		if (parent == dentry || count >= WALK_DEPTH)
			return -1;
		w->names[count & (WALK_DEPTH - 1)] = BPF_CORE_READ(dentry, d_name.name);
		w->lens[count & (WALK_DEPTH - 1)] = BPF_CORE_READ(dentry, d_name.len);
		w->count = count + 1;
		dentry = parent;
	}
	return -1;
}

/*
 * Writes to w->path, NUL-terminated, "/" and each name walk_names collected, root first, then "/" and `last_len`
 * bytes at `last_name` when given. Returns the length without the NUL, or -1 when longer than FILE_PATH_SIZE - 1.
 * A global function: verified once.
 */
__noinline long join_names(struct path_walk *w, __u64 last_name, __u32 last_len)
{
	__u32 count;

	if (!w)
		return -1;
	w->pos = 0;
	count = w->count;
	for (int j = 0; j < WALK_DEPTH; j++) {
		__u32 at;

		if (j >= count)
			break;
		at = (count - 1 - j) & (WALK_DEPTH - 1);
		if (append_name(w, w->names[at], w->lens[at]) < 0)
			return -1;
	}
	if (last_name && append_name(w, (const unsigned char *)last_name, last_len) < 0)
		return -1;
	if (w->pos == 0) {
		w->path[0] = '/';
		w->pos = 1;
	}
	w->path[w->pos & PATH_MASK] = 0;
	return w->pos;
}

/*
 * Writes to w->path the path of `path` as d_path would from the caller's root, then "/" and the name of `last` when
 * given (the entry a directory operation names: unlink's victim, a rename's old or new name). Returns its length
 * without the NUL, or -1 when it is not resolved here: more than WALK_DEPTH names or WALK_MOUNTS mounts, longer than
 * FILE_PATH_SIZE - 1 bytes, or a dentry no longer reachable.
 */
static __always_inline long walk(struct path_walk *w, const struct path *path, struct dentry *last)
{
	__u64 last_name = 0;
	__u32 last_len = 0;

	if (walk_names(w, (__u64)BPF_CORE_READ(path, dentry), (__u64)BPF_CORE_READ(path, mnt)) < 0)
		return -1;
	if (last) {
		last_name = (__u64)BPF_CORE_READ(last, d_name.name);
		last_len = BPF_CORE_READ(last, d_name.len);
	}
	return join_names(w, last_name, last_len);
}

/* The file rules' filter when any exact or prefix rule exists, else NULL. */
static __always_inline const struct path_filter *file_rules(void)
{
	__u32 zero = 0;
	const struct path_filter *filter = bpf_map_lookup_elem(&file_rules_filter, &zero);

	return filter && filter_has_rules(filter) ? filter : NULL;
}

/*
 * The file rule for `op` on the path in w->path (`len` bytes), and on the directories above `dentry` by identity; the
 * task's scratch holds the path while matching. 0 when no rule matched.
 */
static __always_inline __u64 rule_for(struct path_walk *w, long len, struct dentry *dentry, __u32 op)
{
	const struct path_filter *filter = file_rules();
	struct lsm_scratch *s;
	__u64 r;

	if (!filter)
		return 0;
	s = bpf_task_storage_get(&file_lsm_scratch, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	__builtin_memcpy(s->key.path, w->path, sizeof(s->key.path));
	r = resolved_rule(len + 1, op);
	if (!r && filter->dir_rules)
		r = dir_rule(dentry, op);
	return r;
}

/* The parked record of the caller's syscall when it is this operation's (bpf_file.c enter_*), else NULL. */
static __always_inline struct file_event *parked_record(__u32 op)
{
	__u32 tid = current_tid();
	struct file_event *parked = counted_lookup(&file_by_tid, &tid, &file_by_tid_bound);

	return parked && parked->op == op ? parked : NULL;
}

/*
 * What every hook does once the paths are resolved into `w` (path: the operation's path, `len` bytes; when `rename`,
 * a constant, the new path in w->first, `len_new` bytes): records and returns the decision. `mode`, `uid`, `gid` are
 * the operation's (chmod, chown), for a record sent from here.
 */
static __always_inline int report(struct path_walk *w, __u32 op, const int rename, long len, long len_new, __u64 r,
				  int matched_new, struct file_event *parked, __u32 mode, __u32 uid, __u32 gid)
{
	__u32 taken = action_taken(r);
	__u32 refused = taken == ACTION_TAKEN_DENIED || taken == ACTION_TAKEN_KILLED;
	struct file_event *e;

	if (taken == ACTION_TAKEN_KILLED)
		bpf_send_signal(STINGER_SIGKILL);
	if (parked) {
		e = parked;
	} else {
		/*
		 * A refusal, or a match of a rule that keeps its records, is of the kept tier; an audit of the audit tier
		 * (stinger_loss.h): shed while the ring fills.
		 */
		if (rename)
			e = reserve_record_tiered(sizeof(*e), refused || resolved_keeps(r));
		else
			e = reserve_record_tiered(TWO_PATH_SIZE, refused || resolved_keeps(r));
		if (!e)
			return refused ? -EPERM : 0;
		fill_header(&e->hdr, EVENT_KIND_FILE, rename ? sizeof(*e) : TWO_PATH_SIZE);
		init_file_event(e, op);
		e->file_flags = refused ? FILE_FLAG_RESULT_KNOWN : 0;
		e->result = refused ? -EPERM : 0;
		e->mode = mode;
		e->owner_uid = uid;
		e->owner_gid = gid;
	}
	e->file_flags = (e->file_flags & ~FILE_FLAG_PATH2_TRUNCATED) | FILE_FLAG_RESOLVED;
	if (rename) {
		__builtin_memcpy(e->path2, w->first, sizeof(e->path2));
		e->path2_len = len_new;
		__builtin_memcpy(e->path3, w->path, sizeof(e->path3));
	} else {
		__builtin_memcpy(e->path2, w->path, sizeof(e->path2));
		e->path2_len = len;
	}
	if (r)
		lsm_decide(e, r, taken, matched_new);
	if (!parked)
		bpf_ringbuf_submit(e, 0);
	return refused ? -EPERM : 0;
}

/*
 * Every hook's start, given `ret`, its verdict so far: the work area when the operation is to be resolved (*parked: the
 * tracepoint's record of it, or NULL), else NULL with *verdict what the hook returns (an earlier LSM's refusal as it
 * is; -EPERM for a caller dying of the tracepoint's SIGKILL; 0 for a kernel thread, the agent, nothing to match).
 */
static __always_inline struct path_walk *hook_start(int ret, __u32 op, struct file_event **parked, int *verdict)
{
	__u32 zero = 0;
	int applies;

	*verdict = ret;
	if (ret)
		return NULL;
	applies = lsm_task_applies();
	*verdict = applies < 0 ? applies : 0;
	if (applies <= 0)
		return NULL;
	*parked = parked_record(op);
	if (!*parked && !file_rules())
		return NULL;
	return bpf_map_lookup_elem(&file_path_walk, &zero);
}

/*
 * The common body of a one-path hook: `path` the file (chmod, chown), or the directory of `last` (unlink, rmdir).
 * `ret` is the hook's verdict so far (an earlier LSM's refusal is returned as it is).
 */
static __always_inline int one_path_hook(int ret, __u32 op, const struct path *path, struct dentry *last,
					 __u32 mode, __u32 uid, __u32 gid)
{
	struct file_event *parked = NULL;
	struct dentry *target;
	struct path_walk *w;
	int verdict;
	long len;
	__u64 r;

	w = hook_start(ret, op, &parked, &verdict);
	if (!w)
		return verdict;
	len = walk(w, path, last);
	if (len <= 0)
		return 0;
	target = last ? last : path->dentry;
	r = rule_for(w, len, target, op);
	if (!r && !parked)
		return 0;
	return report(w, op, 0, len, 0, r, 0, parked, mode, uid, gid);
}

SEC("lsm/path_unlink")
int BPF_PROG(path_unlink_enforce, const struct path *dir, struct dentry *dentry, int ret)
{
	return one_path_hook(ret, FILE_OP_UNLINK, dir, dentry, 0, 0, 0);
}

/* rmdir is reported as an unlink (bpf_file.c: AT_REMOVEDIR in its flags). */
SEC("lsm/path_rmdir")
int BPF_PROG(path_rmdir_enforce, const struct path *dir, struct dentry *dentry, int ret)
{
	return one_path_hook(ret, FILE_OP_UNLINK, dir, dentry, 0, 0, 0);
}

SEC("lsm/path_chmod")
int BPF_PROG(path_chmod_enforce, const struct path *path, umode_t mode, int ret)
{
	return one_path_hook(ret, FILE_OP_CHMOD, path, NULL, mode, 0, 0);
}

SEC("lsm/path_chown")
int BPF_PROG(path_chown_enforce, const struct path *path, __u32 uid, __u32 gid, int ret)
{
	/* kuid_t and kgid_t: one uid_t each, passed by value (BPF_PROG cannot take a struct argument). */
	return one_path_hook(ret, FILE_OP_CHOWN, path, NULL, 0, uid, gid);
}

SEC("lsm/path_rename")
int BPF_PROG(path_rename_enforce, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct file_event *parked = NULL;
	struct path_walk *w;
	int verdict, matched_new;
	long len_old, len_new;
	__u64 r;

	w = hook_start(ret, FILE_OP_RENAME, &parked, &verdict);
	if (!w)
		return verdict;
	len_new = walk(w, new_dir, new_dentry);
	if (len_new <= 0)
		return 0;
	__builtin_memcpy(w->first, w->path, sizeof(w->first));
	r = rule_for(w, len_new, new_dentry, FILE_OP_RENAME);
	matched_new = r != 0;
	len_old = walk(w, old_dir, old_dentry);
	if (len_old <= 0)
		return 0;
	/* The old path's rule names the record when both match, as at the tracepoint. */
	{
		__u64 r_old = rule_for(w, len_old, old_dentry, FILE_OP_RENAME);

		if (r_old) {
			r = r_old;
			matched_new = 0;
		}
	}
	if (!r && !parked)
		return 0;
	return report(w, FILE_OP_RENAME, 1, len_old, len_new, r, matched_new, parked, 0, 0, 0);
}
