/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Maps shared by every sensor object. Each bpf/<sensor>/bpf_*.c is its own object file and declares these
 * maps by including this header; the loader (libs/bpf, loadSensor) creates them once with the first object and
 * makes every later object reuse the same map fds (bpf_map__reuse_fd), so all hooks write into one ring buffer,
 * one lost-records counter, one shed-records counter and one process table. Names and definitions must therefore
 * be identical in every object: change them only here.
 */
#ifndef STINGER_MAPS_H
#define STINGER_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_file.h"
#include "stinger_loss.h"
#include "stinger_pid_scope.h"
#include "stinger_pod_scope.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_RINGBUF_BYTES);
} events SEC(".maps");

/*
 * Records the kernel could not write because the ring buffer was full; one slot per sensor (LOSS_SLOT_*,
 * stinger_loss.h), per CPU, summed by user space.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lost_records SEC(".maps");

/*
 * Audit-only records not written because the ring buffer held more than SHED_AUDIT_ABOVE_BYTES the agent had not
 * consumed yet (stinger_loss.h); same slots and summing as lost_records.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} shed_records SEC(".maps");

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

/*
 * Pid scopes: the processes a pid selector (spec.selector.pids) names, for the rules the kernel decides for them.
 * pid_scope_tgids maps a tgid (host pid namespace) to the set of scopes it belongs to, one bit per scope slot
 * (0..PID_SCOPE_SLOTS-1, stinger_pid_scope.h; assigned by user space per distinct selector: libs/bpf
 * createPidScopes). A rule names its slot in its flags (PID_SCOPE_RULE_FLAG). User space adds
 * the named processes (and, for a scope that follows children, their descendants alive at the time); the fork
 * tracepoint (bpf_fork.c) gives a child its parent's bits of the scopes in pid_scope_follow; the exit of a process's
 * last thread (bpf_exit.c) removes its entry, so a pid reused later is not in any scope. A plain hash, not an LRU:
 * evicting a member would silently exempt it from its rules; when it is full a child is not added and
 * pid_scope_full counts it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PID_SCOPE_TGIDS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pid_scope_tgids SEC(".maps");

/* One slot: the scopes (bit per slot) whose members' children join them at fork (followChildren). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pid_scope_follow SEC(".maps");

/* Children of a member not added because pid_scope_tgids was full; one slot, per CPU, summed by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pid_scope_full SEC(".maps");

/* Whether a rule with `flags` is pid-scoped and the current process is not a member of its scope. */
static __always_inline int pid_scope_excludes_current(__u32 flags)
{
	__u32 tgid;
	__u64 *scopes;

	if (!(flags & PID_SCOPE_RULE_FLAG))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	scopes = bpf_map_lookup_elem(&pid_scope_tgids, &tgid);
	return !scopes || !((*scopes >> ((flags >> PID_SCOPE_RULE_SLOT_SHIFT) & (PID_SCOPE_SLOTS - 1))) & 1);
}

/*
 * Pod scopes: the pods a pod selector (spec.selector podSelector, namespaces) names, for the rules the kernel decides
 * for them. pod_scope_cgroups maps the cgroup v2 id of a pod's own cgroup (kubepods/<qos>/pod<uid>, or
 * kubepods-<qos>-pod<uid>.slice with the systemd driver) to the set of scopes the pod belongs to, one bit per scope
 * slot (0..POD_SCOPE_SLOTS-1, stinger_pod_scope.h; assigned by user space per distinct selector: libs/bpf
 * createPodScopes). User space writes it from the pods the API server puts on this node and their labels, and
 * rewrites it when a pod comes, goes or is relabelled. Keyed by the pod's cgroup rather than each container's: the
 * pod's exists before any of its containers, so a container's first process is covered from its first instruction.
 * A plain hash: evicting a pod would silently exempt it from its rules.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, POD_SCOPE_CGROUPS_MAX);
	__type(key, __u64);
	__type(value, __u64);
} pod_scope_cgroups SEC(".maps");

/*
 * Whether a rule with `flags` is pod-scoped and the current task is not in a pod of its scope: its cgroup ancestors
 * at levels 1..POD_SCOPE_SEARCH_DEPTH are looked up until one is listed (a task deeper in its container's cgroup is
 * still its pod's). Only pod-scoped rules pay for the walk.
 */
static __always_inline int pod_scope_excludes_current(__u32 flags)
{
	__u32 slot = (flags >> POD_SCOPE_RULE_SLOT_SHIFT) & (POD_SCOPE_SLOTS - 1);

	if (!(flags & POD_SCOPE_RULE_FLAG))
		return 0;
	for (int level = 1; level <= POD_SCOPE_SEARCH_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		__u64 *scopes;

		if (!id)
			return 1;
		scopes = bpf_map_lookup_elem(&pod_scope_cgroups, &id);
		if (scopes)
			return !((*scopes >> slot) & 1);
	}
	return 1;
}

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

/*
 * Every scope of a rule: host/pods (bits given by the rule family), its pid scope and its pod scope (flags). The pid
 * and pod lookups run only for a rule scoped that way.
 */
static __always_inline int rule_scope_excludes_current(__u32 flags, __u32 host_only_bit, __u32 pods_only_bit)
{
	return scope_excludes_current(flags & host_only_bit, flags & pods_only_bit) || pid_scope_excludes_current(flags) ||
	       pod_scope_excludes_current(flags);
}

#endif /* STINGER_MAPS_H */
