/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * What bpf_file.c (the syscall tracepoints) and the LSM hooks (bpf_file_lsm.c, bpf_file_path_lsm.c, where the kernel
 * allows them) share: maps (libs/bpf's loadFileSensor makes the later objects reuse the first one's, sensorMaps), so
 * all see one parked operation and one list of ignored processes; and how a record starts.
 */
#ifndef STINGER_FILE_STATE_H
#define STINGER_FILE_STATE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_counted.h"
#include "stinger_file.h"

/*
 * Operations in flight, keyed by the calling thread's tid: the tracepoint's entry parks, its exit sends. The LSM hook
 * adds what the kernel resolved (path2, FILE_FLAG_RESOLVED) and what it decided to a parked open of the same thread:
 * a record is parked only from the entry to the exit of one syscall, so a parked open the hook finds is the one it
 * is called for.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct file_event);
} file_by_tid SEC(".maps");

/* The upper bound on file_by_tid's entries (stinger_counted.h): an unwatched syscall's exit skips the lookup. */
COUNTED_BOUND_MAP(file_by_tid_bound);

/*
 * Processes (tgid -> 1) whose file operations are never reported nor acted on: the agent itself, put here by
 * user space at load (libs/bpf loadFileSensor). The agent opens files of its own (its spool, /proc) and walks
 * the paths it reports; a rule that matched those would have it report its own work, without end, and a kill
 * rule on such a path would kill the agent. Checked only after a rule matched: unwatched opens pay nothing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u8);
} file_ignored_tgids SEC(".maps");

static __always_inline int ignored_process(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&file_ignored_tgids, &tgid) != NULL;
}

/* The sizes a file_event is sent with (stinger_file.h): one path; two (a rename, or a resolved path in path2). */
#define ONE_PATH_SIZE __builtin_offsetof(struct file_event, path2)
#define TWO_PATH_SIZE __builtin_offsetof(struct file_event, path3)

/*
 * The fields of a file_event before its paths, for operation `op` as a record starts: no rule, nothing done, dirfds
 * AT_FDCWD, no result, an empty path. The caller fills in what it knows and the paths after `path` it sends.
 */
static __always_inline void init_file_event(struct file_event *e, __u32 op)
{
	e->op = op;
	e->file_flags = 0;
	e->rule_id = 0;
	e->action = ACTION_TAKEN_NONE;
	e->dirfd = AT_FDCWD;
	e->dirfd2 = AT_FDCWD;
	e->result = 0;
	e->open_flags = 0;
	e->mode = 0;
	e->owner_uid = 0;
	e->owner_gid = 0;
	e->path_len = 0;
	e->path2_len = 0;
	e->open_id = 0;
	e->path[0] = 0;
}

#endif /* STINGER_FILE_STATE_H */
