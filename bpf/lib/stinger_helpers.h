/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Helpers every sensor uses to fill the shared header and to write records. Only BPF helpers that read the
 * current task's own identity are used (no bpf_probe_read_kernel / BPF_CORE_READ of kernel memory), so the
 * sensors load under kernel lockdown=confidentiality.
 */
#ifndef STINGER_HELPERS_H
#define STINGER_HELPERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "stinger_event.h"
#include "stinger_maps.h"

/* The signal a KILL rule sends at syscall entry (the BPF headers carry no signal numbers). */
#define STINGER_SIGKILL 9

/* The calling thread's id (the low half of pid_tgid): the key of every per-syscall "parked" map. */
static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

/* This object's slot of lost_records: its sensor, the folder it is built from (the Makefile's STINGER_SENSOR_*). */
#if defined(STINGER_SENSOR_process)
#define STINGER_LOSS_SLOT LOSS_SLOT_PROCESS
#elif defined(STINGER_SENSOR_file)
#define STINGER_LOSS_SLOT LOSS_SLOT_FILE
#elif defined(STINGER_SENSOR_network)
#define STINGER_LOSS_SLOT LOSS_SLOT_NETWORK
#elif defined(STINGER_SENSOR_privilege)
#define STINGER_LOSS_SLOT LOSS_SLOT_PRIVILEGE
#else
#error "a sensor object is built with -DSTINGER_SENSOR_<its folder> (bpf/Makefile): its records lost to a full ring count there"
#endif

/* One more in this object's sensor's slot of a per-CPU counter map of stinger_loss.h (lost_records, shed_records). */
static __always_inline void count_in_loss_slot(void *per_cpu_counters)
{
	__u32 slot = STINGER_LOSS_SLOT;
	__u64 *n = bpf_map_lookup_elem(per_cpu_counters, &slot);

	if (n)
		*n += 1; /* per-CPU slot: no other writer on this CPU while we run */
}

/* A record of this object's sensor that the full ring buffer refused. */
static __always_inline void count_lost_record(void)
{
	count_in_loss_slot(&lost_records);
}

static __always_inline void fill_header(struct event_header *hdr, __u16 kind, __u32 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 pid = pid_tgid >> 32;
	__u32 *ppid = bpf_map_lookup_elem(&ppid_by_pid, &pid);

	hdr->kind = kind;
	hdr->flags = 0;
	hdr->size = size;
	hdr->time_ns = bpf_ktime_get_boot_ns();
	hdr->cgroup_id = bpf_get_current_cgroup_id();
	hdr->pid = pid;
	hdr->tid = (__u32)pid_tgid;
	hdr->ppid = ppid ? *ppid : 0;
	hdr->uid = (__u32)uid_gid;
	hdr->gid = uid_gid >> 32;
	hdr->pad = 0;
	bpf_get_current_comm(hdr->comm, sizeof(hdr->comm));
}

/*
 * Copies a record of the kept tier (stinger_loss.h: an action taken, or process life cycle and cwd) into the ring
 * buffer, whatever its fill; counts it as lost when the ring is full.
 */
static __always_inline void output_record(void *record, __u64 size)
{
	if (bpf_ringbuf_output(&events, record, size, 0))
		count_lost_record();
}

/*
 * Whether an audit-only record must be shed now: the ring holds more than SHED_AUDIT_ABOVE_BYTES the agent has not
 * consumed (records written or reserved, BPF_RB_AVAIL_DATA), so the rest is kept for records of actions and process
 * life cycle. Counts the shed record in this sensor's slot of shed_records. The one place the shedding policy is
 * decided: reserve_record_tiered and output_audit_record ask it; a call site with more to check before it reserves
 * (bpf_egress.c's rate limits) asks it itself.
 */
static __always_inline int audit_record_shed(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) <= SHED_AUDIT_ABOVE_BYTES)
		return 0;
	count_in_loss_slot(&shed_records);
	return 1;
}

/*
 * Reserves `size` bytes of the ring for a record of the kept tier that the caller fills and submits (the in-place
 * counterpart of output_record); NULL, counted as lost, when the ring is full.
 */
static __always_inline void *reserve_record(__u64 size)
{
	void *record = bpf_ringbuf_reserve(&events, size, 0);

	if (!record)
		count_lost_record();
	return record;
}

/*
 * reserve_record for a record of either tier (the in-place counterpart of output_record_tiered): one of the audit
 * tier (`kept` 0) is shed while the ring fills (audit_record_shed), and NULL is returned for it.
 */
static __always_inline void *reserve_record_tiered(__u64 size, int kept)
{
	if (!kept && audit_record_shed())
		return NULL;
	return reserve_record(size);
}

/* output_record for a record of the audit tier: shed once the ring is filling (audit_record_shed). */
static __always_inline void output_audit_record(void *record, __u64 size)
{
	if (!audit_record_shed())
		output_record(record, size);
}

/*
 * Whether the records a rule causes are of the kept tier whatever its action: its flags word carries
 * KEEP_RECORDS_RULE_FLAG (stinger_loss.h; user space sets it on the watch of a rule whose kill the pipeline carries
 * out). Call sites that pick a tier by the rule OR this into their `kept`.
 */
static __always_inline int rule_keeps_records(__u32 rule_flags)
{
	return (rule_flags & KEEP_RECORDS_RULE_FLAG) != 0;
}

/*
 * output_record or output_audit_record by whether the record is of the kept tier (`kept`: it reports a kill or a
 * denial, or a cwd change, or its rule keeps its records: rule_keeps_records), for call sites whose records are one
 * or the other.
 */
static __always_inline void output_record_tiered(void *record, __u64 size, int kept)
{
	if (kept)
		output_record(record, size);
	else
		output_audit_record(record, size);
}

/* Layout from /sys/kernel/tracing/events/sched/sched_process_exit/format. */
struct sched_process_exit_args {
	__u64 common;
	char comm[16];
	__s32 pid;
	__s32 prio;
	__u8 group_dead;
};

/*
 * Whether the thread exiting at sched_process_exit is the last of its process. The tracepoint's `group_dead` (added
 * in 6.13) says so; on kernels without it the leader's exit (tid == pid) stands in.
 */
static __always_inline int exit_empties_group(struct sched_process_exit_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (bpf_core_field_exists(struct trace_event_raw_sched_process_exit, group_dead))
		return ctx->group_dead;
	return (pid_tgid >> 32) == (__u32)pid_tgid;
}

#endif /* STINGER_HELPERS_H */
