/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Descriptor tracking of watched opens, shared by the two objects that touch it: bpf_file.c starts it (the exit of
 * a watched open that returned an fd: track_open) and bpf_file_io.c follows it (reads, writes, mmaps, dups,
 * closes, exec and exit). Both declare the maps below by including this header; the loader (libs/bpf
 * loadFileSensor) makes bpf_file_io reuse bpf_file's map fds, so the definitions must stay identical: change them
 * only here. Structs and constants are the wire contract in stinger_file.h.
 *
 * Bounds: every map is an LRU hash or a fixed array. Under pressure the least recently used descriptors and opens
 * are forgotten; a forgotten open is counted in file_io_losses when a descriptor of it is next used (its bytes are
 * then not reported), never reported with wrong totals.
 */
#ifndef STINGER_FILE_IO_H
#define STINGER_FILE_IO_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_counted.h"
#include "stinger_file.h"

#define FILE_O_CLOEXEC 02000000

/* (tgid, fd) -> the open the descriptor refers to. The one lookup an untracked read or write pays. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct file_fd_key);
	__type(value, struct file_fd_entry);
} file_io_fds SEC(".maps");

/* The upper bound on file_io_fds's entries (stinger_counted.h): while nothing is tracked, reads and closes skip it. */
COUNTED_BOUND_MAP(file_io_fds_bound);

/* open id -> counters and reference count. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct file_io_totals);
} file_io_opens SEC(".maps");

/*
 * Processes that have (or had) a tracked descriptor: the exit and exec hooks sweep file_io_fds only for these, so
 * every other process's exit or exec pays one lookup. Dropped at the process's exit.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} file_io_tgids SEC(".maps");

/* Open ids: per CPU, the CPU in the top 16 bits, a sequence below (no atomics needed in bpf_file.c). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} file_io_open_seq SEC(".maps");

/* FILE_IO_LOSS_* slots, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FILE_IO_LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} file_io_losses SEC(".maps");

static __always_inline void count_io_loss(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&file_io_losses, &slot);

	if (n)
		*n += 1; /* per-CPU slot */
}

/*
 * Starts tracking descriptor `fd` of the current process, just returned by a watched open with `open_flags`.
 * Returns the open id, or 0 when it could not be tracked (counted). An id is never reused: an insert that finds
 * it taken (two programs interleaved on one CPU between the sequence's read and write) fails rather than merge
 * two opens' counters.
 */
static __always_inline __u64 track_open(__s32 fd, __u64 open_flags)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&file_io_open_seq, &zero);
	struct file_io_totals totals = { .refs = 1 };
	struct file_fd_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct file_fd_entry entry = { .fd_flags = (open_flags & FILE_O_CLOEXEC) ? FD_FLAG_CLOEXEC : 0 };
	__u8 one = 1;
	__u64 id;

	if (!seq)
		return 0;
	*seq += 1;
	id = ((__u64)bpf_get_smp_processor_id() << 48) | (*seq & ((1ULL << 48) - 1));
	if (bpf_map_update_elem(&file_io_opens, &id, &totals, BPF_NOEXIST)) {
		count_io_loss(FILE_IO_LOSS_UNTRACKED);
		return 0;
	}
	if (counted_lookup(&file_io_fds, &key, &file_io_fds_bound))
		count_io_loss(FILE_IO_LOSS_STALE_FD);
	entry.open_id = id;
	counted_update(&file_io_fds, &key, &entry, BPF_ANY, &file_io_fds_bound);
	bpf_map_update_elem(&file_io_tgids, &key.tgid, &one, BPF_ANY);
	return id;
}

#endif /* STINGER_FILE_IO_H */
