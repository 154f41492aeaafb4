/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Maps shared by every sensor object. Each bpf/<sensor>/bpf_*.c is its own object file and declares these
 * maps by including this header; the loader (libs/bpf, loadSensor) creates them once with the first object and
 * makes every later object reuse the same map fds (bpf_map__reuse_fd), so all hooks write into one ring buffer,
 * one lost-records counter and one process table. Names and definitions must therefore be identical in every
 * object: change them only here.
 */
#ifndef STINGER_MAPS_H
#define STINGER_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_file.h"

/* 8 MiB: ~ 100k exec records or ~ 110k fork/exit records of headroom while user space catches up. */
#define EVENTS_RINGBUF_BYTES (8U << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_RINGBUF_BYTES);
} events SEC(".maps");

/* Records the kernel could not write because the ring buffer was full; one slot, per CPU, summed by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_records SEC(".maps");

/*
 * pid -> parent pid, filled from fork records and dropped at exit. Reading task->real_parent would need kernel
 * memory reads, which kernel lockdown can forbid; this table needs none. Processes that forked before the sensor
 * loaded are absent (ppid 0): user space fills those from /proc.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} ppid_by_pid SEC(".maps");

/*
 * cgroup v2 ids of the pod cgroup roots (kubepods.slice, or kubepods with the cgroupfs driver), filled and kept
 * current by user space (libs/bpf createPodCgroupRoots, from the agent). What host-only rules (selector.host: true)
 * tell pods by: a task is a pod's when one of its cgroup ancestors at levels 1..POD_ROOT_SEARCH_DEPTH is listed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u8);
} pod_cgroup_roots SEC(".maps");

/*
 * tgid -> struct cwd_entry: the working directory a relative path is joined to before the rule maps are asked
 * (file_match.h). Learnt by the file sensor at each successful chdir, copied to the child at fork (bpf_fork.c),
 * written by user space for processes older than the agent and after fchdir. No entry: unknown, and relative
 * paths fall back to the name map. LRU: a process evicted is one whose cwd is unknown again, never a wrong one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct cwd_entry);
} cwd_by_tgid SEC(".maps");

static __always_inline int current_in_pod(void)
{
	for (int level = 1; level <= POD_ROOT_SEARCH_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)
			return 0;
		if (bpf_map_lookup_elem(&pod_cgroup_roots, &id))
			return 1;
	}
	return 0;
}

/*
 * Whether a rule scoped to host processes only (host_only) or to pods only (pods_only) passes over the current
 * task. The ancestor walk runs only for a scoped rule: unscoped rules pay nothing.
 */
static __always_inline int scope_excludes_current(int host_only, int pods_only)
{
	if (!host_only && !pods_only)
		return 0;
	return host_only ? current_in_pod() : !current_in_pod();
}

#endif /* STINGER_MAPS_H */
