/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * File sensor and file enforcement: one file_event per watched open, unlink, rename, chmod or chown, and one per
 * chdir/fchdir (always: user space keeps each process's cwd from these, short-lived processes are gone from /proc).
 * A successful chdir also sets the process's entry in cwd_by_tgid (stinger_maps.h), which relative paths are joined
 * to before matching (file_match.h); fchdir drops it, and the agent writes it back from /proc.
 *
 * Hooks: syscalls/sys_enter_<name> and sys_exit_<name> for open, openat, openat2, unlink, unlinkat, rmdir,
 * rename, renameat, renameat2, chmod, fchmodat, fchmodat2, chown, fchownat, lchown, chdir, fchdir. Syscall
 * tracepoints are generated from the SYSCALL_DEFINE macros and have been stable ABI since 2.6.x; their
 * arguments are the raw user values, so paths are read from user memory and nothing reads kernel memory (loads
 * under lockdown=confidentiality). fchmodat2 exists from 6.6: the loader skips it on older kernels.
 *
 * Entry: the path as given is matched (file_match.h). Unwatched: return before anything is written (the path's
 * copy, then only the lookups its length and bytes allow; nothing reaches the ring buffer). Its exit finds nothing
 * parked without a hash lookup while nothing is (file_by_tid_bound, stinger_counted.h). Watched with a KILL rule:
 * bpf_send_signal(SIGKILL) now, and the record (action KILLED) is sent at once. The signal is delivered when the
 * syscall returns to user space: the process never sees the opened fd (never reads the file), but a tracepoint
 * cannot veto the syscall itself, so an unlink/rename/chmod/chown or an O_TRUNC open still takes effect.
 * Watched otherwise: the record is parked in file_by_tid.
 *
 * Exit: a parked record gets the syscall's return value (fd or -errno) and is sent. An open that returned an fd
 * is also tracked from here on (file_io.h track_open; followed by bpf_file_io.c) and its record carries the open id
 * that the close record will name.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "stinger_file.h"
#include "file_match.h"
#include "file_io.h"
#include "file_state.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

DECLARE_RULE_MAPS(file);

/* A record-sized scratch per CPU (BPF stacks are 512 bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_event);
} file_scratch SEC(".maps");

static __always_inline struct file_event *new_event(__u32 op, __s32 dirfd)
{
	__u32 zero = 0;
	struct file_event *e = bpf_map_lookup_elem(&file_scratch, &zero);

	if (!e)
		return NULL;
	init_file_event(e, op);
	e->dirfd = dirfd;
	e->path2[0] = 0;
	e->path3[0] = 0;
	return e;
}

/*
 * The first rule that matched names the record. A rule that keeps its records (a pipeline kill's watch) marks it
 * FILE_FLAG_KEPT whichever path it matched, so the exit hook writes it in the kept tier.
 */
static __always_inline void apply_match(struct file_event *e, const struct match *m)
{
	if (m->rule && !e->rule_id) {
		e->rule_id = m->rule->rule_id;
		e->action = ACTION_TAKEN_AUDIT;
	}
	if (m->rule && rule_keeps_records(m->rule->flags))
		e->file_flags |= FILE_FLAG_KEPT;
}

/* Kills now and sends the record now, or parks it for the exit hook. */
static __always_inline void kill_or_park(struct file_event *e, int kill, __u64 size)
{
	__u32 tid = current_tid();

	if (kill) {
		bpf_send_signal(STINGER_SIGKILL);
		e->action = ACTION_TAKEN_KILLED;
		fill_header(&e->hdr, EVENT_KIND_FILE, size);
		output_record(e, size);
		return;
	}
	counted_update(&file_by_tid, &tid, e, BPF_ANY, &file_by_tid_bound);
}

/* One-path operations. Returns 0 when the path is not watched (nothing parked). */
static __always_inline int enter_one_path(__u32 op, __s32 dirfd, const char *path, struct file_event **out)
{
	__u32 zero = 0;
	struct match_scratch *s = bpf_map_lookup_elem(&file_match_scratch, &zero);
	struct file_event *e;
	struct match m;

	if (!s)
		return 0;
	match_path(s, path, RULE_MAPS(file), op, dirfd == AT_FDCWD, &m);
	if (!match_reported(&m) || ignored_process())
		return 0;
	e = new_event(op, dirfd);
	if (!e)
		return 0;
	__builtin_memcpy(e->path, s->key.path, sizeof(e->path));
	e->path_len = m.len;
	e->file_flags = m.flags;
	apply_match(e, &m);
	*out = e;
	return match_kills(&m) ? 2 : 1;
}

static __always_inline void enter_open(__s32 dirfd, const char *path, __u64 flags, __u32 mode)
{
	struct file_event *e = NULL;
	int watched = enter_one_path(FILE_OP_OPEN, dirfd, path, &e);

	if (!watched || !e)
		return;
	e->open_flags = flags;
	e->mode = mode;
	kill_or_park(e, watched == 2, ONE_PATH_SIZE);
}

static __always_inline void enter_simple(__u32 op, __s32 dirfd, const char *path, __u64 at_flags, __u32 mode)
{
	struct file_event *e = NULL;
	int watched = enter_one_path(op, dirfd, path, &e);

	if (!watched || !e)
		return;
	e->open_flags = at_flags;
	e->mode = mode;
	kill_or_park(e, watched == 2, ONE_PATH_SIZE);
}

static __always_inline void enter_chown(__s32 dirfd, const char *path, __u32 uid, __u32 gid, __u64 at_flags)
{
	struct file_event *e = NULL;
	int watched = enter_one_path(FILE_OP_CHOWN, dirfd, path, &e);

	if (!watched || !e)
		return;
	e->owner_uid = uid;
	e->owner_gid = gid;
	e->open_flags = at_flags;
	kill_or_park(e, watched == 2, ONE_PATH_SIZE);
}

static __always_inline void enter_rename(__s32 olddirfd, const char *oldpath, __s32 newdirfd, const char *newpath, __u64 flags)
{
	__u32 zero = 0;
	struct match_scratch *s = bpf_map_lookup_elem(&file_match_scratch, &zero);
	struct file_event *e = new_event(FILE_OP_RENAME, olddirfd);
	struct match m_old, m_new;
	__u32 new_flags;

	if (!s || !e)
		return;
	match_path(s, oldpath, RULE_MAPS(file), FILE_OP_RENAME, olddirfd == AT_FDCWD, &m_old);
	__builtin_memcpy(e->path, s->key.path, sizeof(e->path));
	match_path(s, newpath, RULE_MAPS(file), FILE_OP_RENAME, newdirfd == AT_FDCWD, &m_new);
	if ((!match_reported(&m_old) && !match_reported(&m_new)) || ignored_process())
		return;
	__builtin_memcpy(e->path2, s->key.path, sizeof(e->path2));
	e->path_len = m_old.len;
	e->path2_len = m_new.len;
	e->dirfd2 = newdirfd;
	e->open_flags = flags;
	/* path2's truncation has its own bit; a match on path2 alone is marked MATCH_PATH2 (path2[0] says if relative). */
	new_flags = m_new.flags & FILE_FLAG_PATH_TRUNCATED ? FILE_FLAG_PATH2_TRUNCATED : 0;
	e->file_flags = m_old.flags | new_flags;
	if (!m_old.rule && match_reported(&m_new)) {
		e->file_flags |= (m_new.flags & (FILE_FLAG_MATCH_EXACT | FILE_FLAG_MATCH_PREFIX | FILE_FLAG_MATCH_NAME |
						 FILE_FLAG_NEEDS_RESOLUTION)) |
				 FILE_FLAG_MATCH_PATH2;
		apply_match(e, &m_new);
	} else {
		apply_match(e, &m_old);
		apply_match(e, &m_new); /* names nothing more; a keeping rule on the new path keeps the record too */
	}
	kill_or_park(e, match_kills(&m_old) || match_kills(&m_new), TWO_PATH_SIZE);
}

/* What the cwd will be if a chdir in flight succeeds, by calling tid (len 0: not known to the kernel). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct cwd_entry);
} cwd_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cwd_entry);
} cwd_scratch SEC(".maps");

/*
 * chdir entry: the cwd it will make, parked for the exit. Absolute: the path itself ("/etc/" names "/etc"); relative:
 * joined to the known cwd. Only plain results (path_is_plain) are kept: anything else makes the cwd unknown.
 */
static __always_inline void park_cwd(const char *path)
{
	__u32 zero = 0, tid = current_tid();
	struct match_scratch *s = bpf_map_lookup_elem(&file_match_scratch, &zero);
	struct cwd_entry *c = bpf_map_lookup_elem(&cwd_scratch, &zero);
	long n, total;
	__u32 len;

	if (!s || !c)
		return;
	c->len = 0;
	c->pad = 0;
	__builtin_memset(s->key.path, 0, sizeof(s->key.path));
	n = bpf_probe_read_user_str(s->key.path, FILE_PATH_SIZE, path);
	if (n > 1 && n < FILE_PATH_SIZE) {
		len = n - 1;
		if (s->key.path[0] == '/') {
			if (len > 1 && s->key.path[(len - 1) & (FILE_PATH_SIZE - 1)] == '/') {
				len--;
				/*
				 * clang knows len < FILE_PATH_SIZE here and drops the mask, but the 6.1 verifier loses
				 * that bound through the 32-bit copy of n ("R2 unbounded memory access"): hide len from
				 * the compiler so the mask stays in the object.
				 */
				asm volatile("" : "+r"(len));
				s->key.path[len & (FILE_PATH_SIZE - 1)] = 0;
			}
			if (path_is_plain((struct path_key *)s->key.path, len, 0)) {
				__builtin_memcpy(c->path, s->key.path, FILE_PATH_SIZE);
				c->len = len;
			}
		} else {
			total = join_cwd(s, path, len);
			if (total > 0) {
				__builtin_memcpy(c->path, s->joined, FILE_PATH_SIZE);
				c->len = total;
			}
		}
	}
	bpf_map_update_elem(&cwd_pending, &tid, c, BPF_ANY);
}

/* chdir/fchdir exit: a successful chdir sets the process's cwd_by_tgid entry (or drops it: unknown); fchdir drops it. */
static __always_inline void commit_cwd(__u32 op, long ret)
{
	__u32 tid = current_tid(), tgid = bpf_get_current_pid_tgid() >> 32;
	struct cwd_entry *c = op == FILE_OP_CHDIR ? bpf_map_lookup_elem(&cwd_pending, &tid) : NULL;

	if (ret == 0) {
		if (c && c->len)
			bpf_map_update_elem(&cwd_by_tgid, &tgid, c, BPF_ANY);
		else
			bpf_map_delete_elem(&cwd_by_tgid, &tgid);
	}
	if (c)
		bpf_map_delete_elem(&cwd_pending, &tid);
}

/* chdir/fchdir: always reported, at exit with the result. */
static __always_inline void enter_chdir(__u32 op, __s32 fd, const char *path)
{
	__u32 tid = current_tid();
	struct file_event *e = new_event(op, fd);
	long n;

	if (!e)
		return;
	if (path) {
		n = bpf_probe_read_user_str(e->path, sizeof(e->path), path);
		if (n <= 0) {
			e->file_flags |= FILE_FLAG_PATH_FAULT;
			e->path[0] = 0;
		} else {
			e->path_len = n - 1;
			if (n == sizeof(e->path))
				e->file_flags |= FILE_FLAG_PATH_TRUNCATED;
			if (e->path[0] != '/')
				e->file_flags |= FILE_FLAG_RELATIVE;
		}
	}
	counted_update(&file_by_tid, &tid, e, BPF_ANY, &file_by_tid_bound);
	if (op == FILE_OP_CHDIR && path)
		park_cwd(path);
}

static __always_inline void exit_any(long ret)
{
	__u32 tid = current_tid();
	struct file_event *e = counted_lookup(&file_by_tid, &tid, &file_by_tid_bound);
	__u64 size;
	int kept;

	if (!e)
		return;
	e->result = ret;
	e->file_flags |= FILE_FLAG_RESULT_KNOWN;
	if (e->op == FILE_OP_CHDIR || e->op == FILE_OP_FCHDIR)
		commit_cwd(e->op, ret);
	if (e->op == FILE_OP_OPEN && ret >= 0)
		e->open_id = track_open(ret, e->open_flags);
	/*
	 * path2 is sent for a rename and for an operation an LSM hook resolved (bpf_file_lsm.c, bpf_file_path_lsm.c);
	 * path3 for a rename a hook resolved.
	 */
	if (e->op == FILE_OP_RENAME && (e->file_flags & FILE_FLAG_RESOLVED))
		size = sizeof(*e);
	else if (e->op == FILE_OP_RENAME || (e->file_flags & FILE_FLAG_RESOLVED))
		size = TWO_PATH_SIZE;
	else
		size = ONE_PATH_SIZE;
	fill_header(&e->hdr, EVENT_KIND_FILE, size);
	/*
	 * Kept tier (stinger_loss.h): the LSM hook's kill or denial; chdir/fchdir, whose cwd later relative paths are
	 * resolved with; a match of a rule that keeps its records (FILE_FLAG_KEPT: a pipeline kill waits for it). A watched
	 * operation that only reports is audit, shed while the ring fills (a KILL rule's record was sent at entry,
	 * kill_or_park).
	 */
	kept = e->action == ACTION_TAKEN_KILLED || e->action == ACTION_TAKEN_DENIED || e->op == FILE_OP_CHDIR ||
	       e->op == FILE_OP_FCHDIR || (e->file_flags & FILE_FLAG_KEPT);
	if (size == sizeof(*e))
		output_record_tiered(e, sizeof(*e), kept);
	else if (size == TWO_PATH_SIZE)
		output_record_tiered(e, TWO_PATH_SIZE, kept);
	else
		output_record_tiered(e, ONE_PATH_SIZE, kept);
	counted_delete(&file_by_tid, &tid, &file_by_tid_bound);
}

#define ARG(i) (ctx->args[i])
#define UPTR(i) ((const char *)ctx->args[i])

SEC("tracepoint/syscalls/sys_enter_open")
int sys_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	enter_open(AT_FDCWD, UPTR(0), ARG(1), ARG(2));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	enter_open(ARG(0), UPTR(1), ARG(2), ARG(3));
	return 0;
}

/* struct open_how (include/uapi/linux/openat2.h): flags, mode, resolve — all __u64. */
struct open_how_user {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

SEC("tracepoint/syscalls/sys_enter_openat2")
int sys_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how_user how = {};

	bpf_probe_read_user(&how, sizeof(how), (const void *)ARG(2));
	enter_open(ARG(0), UPTR(1), how.flags, how.mode);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int sys_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	enter_simple(FILE_OP_UNLINK, AT_FDCWD, UPTR(0), 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int sys_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	enter_simple(FILE_OP_UNLINK, ARG(0), UPTR(1), ARG(2), 0);
	return 0;
}

/* rmdir(p) is unlinkat(AT_FDCWD, p, AT_REMOVEDIR): reported as FILE_OP_UNLINK with that flag. */
SEC("tracepoint/syscalls/sys_enter_rmdir")
int sys_enter_rmdir(struct trace_event_raw_sys_enter *ctx)
{
	enter_simple(FILE_OP_UNLINK, AT_FDCWD, UPTR(0), 0x200 /* AT_REMOVEDIR */, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_rename")
int sys_enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	enter_rename(AT_FDCWD, UPTR(0), AT_FDCWD, UPTR(1), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int sys_enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	enter_rename(ARG(0), UPTR(1), ARG(2), UPTR(3), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int sys_enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	enter_rename(ARG(0), UPTR(1), ARG(2), UPTR(3), ARG(4));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_chmod")
int sys_enter_chmod(struct trace_event_raw_sys_enter *ctx)
{
	enter_simple(FILE_OP_CHMOD, AT_FDCWD, UPTR(0), 0, ARG(1));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fchmodat")
int sys_enter_fchmodat(struct trace_event_raw_sys_enter *ctx)
{
	enter_simple(FILE_OP_CHMOD, ARG(0), UPTR(1), 0, ARG(2));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fchmodat2")
int sys_enter_fchmodat2(struct trace_event_raw_sys_enter *ctx)
{
	enter_simple(FILE_OP_CHMOD, ARG(0), UPTR(1), ARG(3), ARG(2));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_chown")
int sys_enter_chown(struct trace_event_raw_sys_enter *ctx)
{
	enter_chown(AT_FDCWD, UPTR(0), ARG(1), ARG(2), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_lchown")
int sys_enter_lchown(struct trace_event_raw_sys_enter *ctx)
{
	enter_chown(AT_FDCWD, UPTR(0), ARG(1), ARG(2), 0x100 /* AT_SYMLINK_NOFOLLOW */);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fchownat")
int sys_enter_fchownat(struct trace_event_raw_sys_enter *ctx)
{
	enter_chown(ARG(0), UPTR(1), ARG(2), ARG(3), ARG(4));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_chdir")
int sys_enter_chdir(struct trace_event_raw_sys_enter *ctx)
{
	enter_chdir(FILE_OP_CHDIR, AT_FDCWD, UPTR(0));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fchdir")
int sys_enter_fchdir(struct trace_event_raw_sys_enter *ctx)
{
	enter_chdir(FILE_OP_FCHDIR, ARG(0), NULL);
	return 0;
}

#define EXIT_HOOK(name)                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                   \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)    \
	{                                                            \
		exit_any(ctx->ret);                                  \
		return 0;                                            \
	}

EXIT_HOOK(open)
EXIT_HOOK(openat)
EXIT_HOOK(openat2)
EXIT_HOOK(unlink)
EXIT_HOOK(unlinkat)
EXIT_HOOK(rmdir)
EXIT_HOOK(rename)
EXIT_HOOK(renameat)
EXIT_HOOK(renameat2)
EXIT_HOOK(chmod)
EXIT_HOOK(fchmodat)
EXIT_HOOK(fchmodat2)
EXIT_HOOK(chown)
EXIT_HOOK(lchown)
EXIT_HOOK(fchownat)
EXIT_HOOK(chdir)
EXIT_HOOK(fchdir)
