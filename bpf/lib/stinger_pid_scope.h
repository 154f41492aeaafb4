/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Pid scopes (spec.selector.pids decided in the kernel): the numbers user space and the programs share. The maps are
 * in stinger_maps.h (pid_scope_tgids, pid_scope_follow, pid_scope_full); libs/bpf core/rule-scope.ts and
 * core/pid-scopes.ts mirror these constants and core/pid-scope.layout.test.ts fails when they drift. Plain C: the
 * host compiles it for that test.
 */
#ifndef STINGER_PID_SCOPE_H
#define STINGER_PID_SCOPE_H

/* Scope slots: one per distinct pid selector in force; pid_scope_tgids' values are a bit set of them (u64). */
#define PID_SCOPE_SLOTS 64
/* Processes pid_scope_tgids holds, members of all scopes together. */
#define PID_SCOPE_TGIDS_MAX 16384

/*
 * A rule's pid scope in its flags word (file_rule.flags, net_rule_value.flags): PID_SCOPE_RULE_FLAG set, the slot in
 * the bits from PID_SCOPE_RULE_SLOT_SHIFT. Above every rule family's own flag bits, so one encoding serves them all.
 */
#define PID_SCOPE_RULE_FLAG (1U << 15)
#define PID_SCOPE_RULE_SLOT_SHIFT 16

#endif /* STINGER_PID_SCOPE_H */
