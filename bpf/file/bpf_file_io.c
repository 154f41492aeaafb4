/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * File sensor, descriptor I/O: how much went through each watched open, from the open to the last close. The open
 * is tracked by bpf_file.c (file_io.h track_open); this object follows its descriptors and writes one
 * file_close_event (stinger_file.h) with the totals when the last one goes.
 *
 * Hooks, all syscalls/sys_enter_<name> + sys_exit_<name> tracepoints (stable ABI since 2.6.x, raw user arguments,
 * no kernel memory read: loads under lockdown=confidentiality) unless named otherwise:
 *  - read, pread64, readv, preadv, preadv2: a positive return is added to bytes_read;
 *    write, pwrite64, writev, pwritev, pwritev2: to bytes_written;
 *    sendfile64, splice, copy_file_range: to the input's bytes_read and the output's bytes_written.
 *  - mmap: the length of a successful mapping of a tracked descriptor is added to bytes_mapped. Reads and writes
 *    through the mapping are page faults, which no tracepoint here attributes to the file: not counted.
 *  - dup, dup2, dup3, fcntl(F_DUPFD, F_DUPFD_CLOEXEC): the new descriptor joins the open (one more reference);
 *    dup2/dup3 over a tracked descriptor releases that one first. fcntl(F_SETFD) updates close-on-exec.
 *  - close (entry only: Linux frees the descriptor whatever close returns, and a tracked one is open): the
 *    descriptor is released; the last one of an open writes the record.
 *  - sched/sched_process_exec: close-on-exec descriptors of the process are released (FILE_CLOSE_AT_EXEC).
 *  - sched/sched_process_exit, last thread (group_dead, or the leader before 6.13): every descriptor of the process
 *    is released (FILE_CLOSE_AT_EXIT). The kernel does it, not the agent, so the record exists whether or not
 *    user space saw the exit, and the totals are final.
 *
 * Cost: a read or write on an untracked descriptor does one hash lookup at entry (file_io_fds, miss: return) and
 * one at exit (file_io_pending, miss: return); neither while its map is empty (stinger_counted.h), the usual state
 * when no watched file is open. Exit and exec of a process that never had a tracked descriptor pay
 * one lookup (file_io_tgids). The loader attaches this object only while a watched path exists.
 *
 * Not followed: descriptors inherited by a forked child (the child's reads are not counted; the parent's close
 * still ends the open only when its own descriptors go), descriptors closed by close_range(2) (the entry goes
 * stale: counted FILE_IO_LOSS_STALE_FD when the number is reused by a watched open, dropped at exit), io_uring.
 *
 * Built with -mcpu=v3 (bpf/Makefile): releasing a reference needs the atomic fetch-and-add's old value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "stinger_file.h"
#include "file_io.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* What a syscall in flight will do to tracked opens when it returns, by calling tid. */
enum pending_kind {
	PENDING_TRANSFER = 1, /* read_id gets ret as bytes read, write_id as bytes written */
	PENDING_MMAP = 2,     /* read_id gets `length` as bytes mapped */
	PENDING_DUP = 3,      /* the returned fd joins read_id (0: none); `length` is its fd_flags */
};

struct io_pending {
	__u64 read_id;
	__u64 write_id;
	__u64 length;
	__u32 kind;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct io_pending);
} file_io_pending SEC(".maps");

/* The upper bound on file_io_pending's entries (stinger_counted.h). */
COUNTED_BOUND_MAP(file_io_pending_bound);

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline struct file_fd_entry *tracked_fd(__s32 fd)
{
	struct file_fd_key key = { .tgid = current_tgid(), .fd = fd };

	return counted_lookup(&file_io_fds, &key, &file_io_fds_bound);
}

static __always_inline void park(struct io_pending *p)
{
	__u32 tid = current_tid();

	counted_update(&file_io_pending, &tid, p, BPF_ANY, &file_io_pending_bound);
}

static __always_inline struct file_io_totals *totals_of(__u64 open_id)
{
	struct file_io_totals *t;

	if (!open_id)
		return NULL;
	t = bpf_map_lookup_elem(&file_io_opens, &open_id);
	if (!t)
		count_io_loss(FILE_IO_LOSS_EVICTED);
	return t;
}

/* An audit record (stinger_loss.h): shed while the ring fills, like the open it closes. */
static __always_inline void emit_close(__u64 open_id, const struct file_io_totals *t, __s32 fd, __u32 close_flags)
{
	struct file_close_event *e;

	e = reserve_record_tiered(sizeof(*e), 0);
	if (!e)
		return;
	fill_header(&e->hdr, EVENT_KIND_FILE_CLOSE, sizeof(*e));
	e->open_id = open_id;
	e->bytes_read = t->bytes_read;
	e->bytes_written = t->bytes_written;
	e->bytes_mapped = t->bytes_mapped;
	e->reads = t->reads;
	e->writes = t->writes;
	e->maps = t->maps;
	e->fd = fd;
	e->close_flags = close_flags;
	bpf_ringbuf_submit(e, 0);
}

/* Drops one descriptor of open_id; the last one writes the record and drops the open. */
static __always_inline void release_fd(struct file_fd_key *key, __u64 open_id, __u32 close_flags)
{
	struct file_io_totals *t;

	counted_delete(&file_io_fds, key, &file_io_fds_bound);
	t = totals_of(open_id);
	if (!t)
		return;
	if (__sync_fetch_and_add(&t->refs, -1) != 1)
		return;
	emit_close(open_id, t, key->fd, close_flags);
	bpf_map_delete_elem(&file_io_opens, &open_id);
}

/* A read (write_fd < 0), a write (read_fd < 0) or a transfer between two descriptors. */
static __always_inline void enter_transfer(__s32 read_fd, __s32 write_fd)
{
	struct io_pending p = { .kind = PENDING_TRANSFER };
	struct file_fd_entry *entry;

	/* Ids, not the pointers, are combined below: the verifier refuses arithmetic on two map-value pointers. */
	if (read_fd >= 0) {
		entry = tracked_fd(read_fd);
		if (entry)
			p.read_id = entry->open_id;
	}
	if (write_fd >= 0) {
		entry = tracked_fd(write_fd);
		if (entry)
			p.write_id = entry->open_id;
	}
	if (!p.read_id && !p.write_id)
		return;
	park(&p);
}

/* dup/dup2/dup3/fcntl: parked when the old descriptor is tracked or the new number (dup2/dup3) is. */
static __always_inline void enter_dup(__s32 old_fd, __s32 new_fd, __u32 fd_flags)
{
	struct file_fd_entry *old = tracked_fd(old_fd);
	struct io_pending p = { .kind = PENDING_DUP, .length = fd_flags };

	if (old)
		p.read_id = old->open_id;
	else if (new_fd < 0 || !tracked_fd(new_fd))
		return;
	park(&p);
}

/* The returned descriptor `fd` now refers to open_id (0: to an untracked file). */
static __always_inline void exit_dup(__u64 open_id, __s32 fd, __u32 fd_flags)
{
	struct file_fd_key key = { .tgid = current_tgid(), .fd = fd };
	struct file_fd_entry *existing = counted_lookup(&file_io_fds, &key, &file_io_fds_bound);
	struct file_fd_entry entry = { .open_id = open_id, .fd_flags = fd_flags };
	struct file_io_totals *t;

	if (existing) {
		if (existing->open_id == open_id) /* dup2 onto a descriptor of the same open: nothing changes */
			return;
		release_fd(&key, existing->open_id, FILE_CLOSE_REPLACED);
	}
	t = totals_of(open_id);
	if (!t)
		return;
	__sync_fetch_and_add(&t->refs, 1);
	counted_update(&file_io_fds, &key, &entry, BPF_ANY, &file_io_fds_bound);
}

static __always_inline void add(__u64 *counter, __u64 *ops, __u64 n)
{
	__sync_fetch_and_add(counter, n);
	__sync_fetch_and_add(ops, 1);
}

static __always_inline void exit_io(long ret)
{
	__u32 tid = current_tid();
	struct io_pending *p = counted_lookup(&file_io_pending, &tid, &file_io_pending_bound);
	struct file_io_totals *t;

	if (!p)
		return;
	switch (p->kind) {
	case PENDING_TRANSFER:
		if (ret <= 0)
			break;
		t = totals_of(p->read_id);
		if (t)
			add(&t->bytes_read, &t->reads, ret);
		t = totals_of(p->write_id);
		if (t)
			add(&t->bytes_written, &t->writes, ret);
		break;
	case PENDING_MMAP:
		if (ret < 0 && ret >= -4095) /* an error; any other value is the mapping's address */
			break;
		t = totals_of(p->read_id);
		if (t)
			add(&t->bytes_mapped, &t->maps, p->length);
		break;
	case PENDING_DUP:
		if (ret >= 0)
			exit_dup(p->read_id, ret, p->length);
		break;
	}
	counted_delete(&file_io_pending, &tid, &file_io_pending_bound);
}

#define ARG(i) (ctx->args[i])
#define FD(i) ((__s32)ctx->args[i])

#define READ_HOOK(name)                                                  \
	SEC("tracepoint/syscalls/sys_enter_" #name)                      \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)      \
	{                                                                \
		enter_transfer(FD(0), -1);                               \
		return 0;                                                \
	}
#define WRITE_HOOK(name)                                                 \
	SEC("tracepoint/syscalls/sys_enter_" #name)                      \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)      \
	{                                                                \
		enter_transfer(-1, FD(0));                               \
		return 0;                                                \
	}
#define EXIT_HOOK(name)                                                  \
	SEC("tracepoint/syscalls/sys_exit_" #name)                       \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)        \
	{                                                                \
		exit_io(ctx->ret);                                       \
		return 0;                                                \
	}

READ_HOOK(read)
READ_HOOK(pread64)
READ_HOOK(readv)
READ_HOOK(preadv)
READ_HOOK(preadv2)
WRITE_HOOK(write)
WRITE_HOOK(pwrite64)
WRITE_HOOK(writev)
WRITE_HOOK(pwritev)
WRITE_HOOK(pwritev2)

/* sendfile64(out_fd, in_fd, offset, count) */
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int sys_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	enter_transfer(FD(1), FD(0));
	return 0;
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags) and copy_file_range with the same first four arguments. */
SEC("tracepoint/syscalls/sys_enter_splice")
int sys_enter_splice(struct trace_event_raw_sys_enter *ctx)
{
	enter_transfer(FD(0), FD(2));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_copy_file_range")
int sys_enter_copy_file_range(struct trace_event_raw_sys_enter *ctx)
{
	enter_transfer(FD(0), FD(2));
	return 0;
}

#define MAP_ANONYMOUS 0x20

/* mmap(addr, length, prot, flags, fd, offset) */
SEC("tracepoint/syscalls/sys_enter_mmap")
int sys_enter_mmap(struct trace_event_raw_sys_enter *ctx)
{
	struct file_fd_entry *entry;
	struct io_pending p = { .kind = PENDING_MMAP };

	if ((ARG(3) & MAP_ANONYMOUS) || FD(4) < 0)
		return 0;
	entry = tracked_fd(FD(4));
	if (!entry)
		return 0;
	p.read_id = entry->open_id;
	p.length = ARG(1);
	park(&p);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup")
int sys_enter_dup(struct trace_event_raw_sys_enter *ctx)
{
	enter_dup(FD(0), -1, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int sys_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	enter_dup(FD(0), FD(1), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int sys_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	enter_dup(FD(0), FD(1), (ARG(2) & FILE_O_CLOEXEC) ? FD_FLAG_CLOEXEC : 0);
	return 0;
}

#define F_DUPFD 0
#define F_SETFD 2
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1

/* fcntl(fd, cmd, arg): only the commands that copy a descriptor or change close-on-exec look anything up. */
SEC("tracepoint/syscalls/sys_enter_fcntl")
int sys_enter_fcntl(struct trace_event_raw_sys_enter *ctx)
{
	__u64 cmd = ARG(1);
	struct file_fd_entry *entry;

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		enter_dup(FD(0), -1, cmd == F_DUPFD_CLOEXEC ? FD_FLAG_CLOEXEC : 0);
	} else if (cmd == F_SETFD) {
		entry = tracked_fd(FD(0));
		if (entry)
			entry->fd_flags = (ARG(2) & FD_CLOEXEC) ? FD_FLAG_CLOEXEC : 0;
	}
	return 0;
}

EXIT_HOOK(read)
EXIT_HOOK(pread64)
EXIT_HOOK(readv)
EXIT_HOOK(preadv)
EXIT_HOOK(preadv2)
EXIT_HOOK(write)
EXIT_HOOK(pwrite64)
EXIT_HOOK(writev)
EXIT_HOOK(pwritev)
EXIT_HOOK(pwritev2)
EXIT_HOOK(sendfile64)
EXIT_HOOK(splice)
EXIT_HOOK(copy_file_range)
EXIT_HOOK(mmap)
EXIT_HOOK(dup)
EXIT_HOOK(dup2)
EXIT_HOOK(dup3)
EXIT_HOOK(fcntl)

SEC("tracepoint/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct file_fd_key key = { .tgid = current_tgid(), .fd = FD(0) };
	struct file_fd_entry *entry = counted_lookup(&file_io_fds, &key, &file_io_fds_bound);

	if (entry)
		release_fd(&key, entry->open_id, 0);
	return 0;
}

/* One pass over file_io_fds collects at most SWEEP_FDS descriptors of one process (the context lives on the stack). */
#define SWEEP_FDS 16
#define SWEEP_PASSES 4

struct sweep {
	__u32 tgid;
	__u32 cloexec_only;
	__u32 found;
	__u32 full;
	struct file_fd_key keys[SWEEP_FDS];
};

static long collect_fd(struct bpf_map *map, struct file_fd_key *key, struct file_fd_entry *entry, struct sweep *s)
{
	if (key->tgid != s->tgid || (s->cloexec_only && !(entry->fd_flags & FD_FLAG_CLOEXEC)))
		return 0;
	if (s->found >= SWEEP_FDS) {
		s->full = 1;
		return 1; /* stop: release these, then pass again */
	}
	s->keys[s->found & (SWEEP_FDS - 1)] = *key;
	s->found++;
	return 0;
}

/*
 * Releases the descriptor `key` names if it is still tracked. A global function: verified once, not once for each of
 * the SWEEP_PASSES x SWEEP_FDS calls of sweep_process (inlined there, 6.18.44's verifier gave up on the exec hook with
 * E2BIG: over a million instructions processed).
 */
__noinline int release_swept_fd(struct file_fd_key *key, __u32 close_flags)
{
	struct file_fd_entry *entry;
	struct file_fd_key k;

	if (!key)
		return 0;
	/* On the stack: 6.1 takes no pointer argument of a global function (PTR_TO_MEM) as a map key. */
	k = *key;
	entry = bpf_map_lookup_elem(&file_io_fds, &k);
	if (entry)
		release_fd(&k, entry->open_id, close_flags);
	return 0;
}

/* Releases the process's descriptors (all, or the close-on-exec ones) found in file_io_fds. */
static __always_inline void sweep_process(__u32 tgid, int cloexec_only, __u32 close_flags)
{
	struct sweep s = { .tgid = tgid, .cloexec_only = cloexec_only };

	for (int pass = 0; pass < SWEEP_PASSES; pass++) {
		s.found = 0;
		s.full = 0;
		bpf_for_each_map_elem(&file_io_fds, collect_fd, &s, 0);
		for (int i = 0; i < SWEEP_FDS; i++) {
			if (i >= s.found)
				break;
			release_swept_fd(&s.keys[i], close_flags);
		}
		if (!s.full)
			return;
	}
	count_io_loss(FILE_IO_LOSS_SWEEP_FULL);
}

SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec(void *ctx)
{
	__u32 tgid = current_tgid();

	if (bpf_map_lookup_elem(&file_io_tgids, &tgid))
		sweep_process(tgid, 1, FILE_CLOSE_AT_EXEC);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(struct sched_process_exit_args *ctx)
{
	__u32 tgid = current_tgid();

	if (!exit_empties_group(ctx) || !bpf_map_lookup_elem(&file_io_tgids, &tgid))
		return 0;
	sweep_process(tgid, 0, FILE_CLOSE_AT_EXIT);
	bpf_map_delete_elem(&file_io_tgids, &tgid);
	return 0;
}
