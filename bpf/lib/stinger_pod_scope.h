/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Pod scopes (spec.selector podSelector / namespaces decided in the kernel): the numbers user space and the programs
 * share. The map is in stinger_maps.h (pod_scope_cgroups); libs/bpf core/rule-scope.ts and core/pod-scopes.ts mirror
 * these constants and core/pod-scope.layout.test.ts fails when they drift. Plain C: the host compiles it for that
 * test.
 */
#ifndef STINGER_POD_SCOPE_H
#define STINGER_POD_SCOPE_H

/* Scope slots: one per distinct pod selector in force; pod_scope_cgroups' values are a bit set of them (u64). */
#define POD_SCOPE_SLOTS 64
/* Pod cgroups pod_scope_cgroups holds, members of all scopes together (a node runs ~110 pods by default). */
#define POD_SCOPE_CGROUPS_MAX 4096
/*
 * Levels of cgroup v2 ancestors searched for a pod's cgroup: the pod cgroup roots lie at most POD_ROOT_SEARCH_DEPTH
 * levels down, a QoS class level and the pod's own directory below them.
 */
#define POD_SCOPE_SEARCH_DEPTH 6

/*
 * A rule's pod scope in its flags word (file_rule.flags, net_rule_value.flags): POD_SCOPE_RULE_FLAG set, the slot in
 * the six bits from POD_SCOPE_RULE_SLOT_SHIFT. Above the pid scope's bits (stinger_pid_scope.h: 15..21).
 */
#define POD_SCOPE_RULE_FLAG (1U << 22)
#define POD_SCOPE_RULE_SLOT_SHIFT 23

#endif /* STINGER_POD_SCOPE_H */
