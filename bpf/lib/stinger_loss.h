/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Loss per sensor: the slots of the lost_records and shed_records maps (stinger_maps.h). A program that finds the
 * shared ring buffer full counts the record in its own sensor's slot of lost_records (count_lost_record,
 * stinger_helpers.h); one that sheds an audit-only record because the ring is filling counts it in the same slot of
 * shed_records (output_audit_record). User space can so say which sensor lost or shed records in a storm (libs/bpf
 * SENSOR_LOSS_SLOTS, Sensor.lostRecords() and shedRecords(); a layout test holds the tables equal). A sensor is a
 * folder of bpf/: the Makefile defines STINGER_SENSOR_<folder> for each object.
 * No kernel types here: the layout test compiles this header for the host.
 */
#ifndef STINGER_LOSS_H
#define STINGER_LOSS_H

#define LOSS_SLOT_PROCESS 0
#define LOSS_SLOT_FILE 1
#define LOSS_SLOT_NETWORK 2
#define LOSS_SLOT_PRIVILEGE 3
#define LOSS_SLOTS 4

/*
 * The shared ring buffer `events` (stinger_maps.h). 8 MiB: ~ 100k exec records or ~ 110k fork/exit records of
 * headroom while user space catches up.
 */
#define EVENTS_RINGBUF_BYTES (8U << 20)

/*
 * Shedding by tier. Records fall in two tiers (bpf/README.md, "Loss and shedding"):
 * - kept: records of an action taken (a kill, a denial) and the records the process tree and cwd table are built
 *   from (exec, fork, exit, chdir/fchdir). Written while the ring has any room (output_record); lost, and counted in
 *   lost_records, only when it is full;
 * - audit: everything that only reports (a watched open, connect or setuid; egress and flow records; a close), unless
 *   the rule that caused it keeps its records (KEEP_RECORDS_RULE_FLAG below). Not
 *   written, and counted in shed_records, once the data the agent has not consumed yet exceeds this threshold
 *   (output_audit_record, audit_record_shed): the last quarter of the ring stays for the kept tier, so an audit
 *   storm the agent cannot keep up with does not take the place of a kill's record.
 */
#define SHED_AUDIT_ABOVE_BYTES (EVENTS_RINGBUF_BYTES / 4 * 3)

/*
 * A rule's records are of the kept tier whatever its action: the bit in a rule's flags word (file_rule.flags,
 * net_rule_value.flags), above every rule family's own flag bits and below the pid and pod scopes' (stinger_pid_scope.h,
 * stinger_pod_scope.h), so one encoding serves them all. User space sets it on the watch of a rule whose kill the
 * pipeline carries out (libs/agent): the record that watch reports is what the kill waits for, so it must not be
 * shed; it is lost only when the ring is full, like a kill-in-kernel's. Read through rule_keeps_records
 * (stinger_helpers.h).
 */
#define KEEP_RECORDS_RULE_FLAG (1U << 14)

#endif /* STINGER_LOSS_H */
