/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Pieces every privilege object (bpf_cred.c, bpf_namespace.c, bpf_integrity.c) uses: its own `priv_watch`
 * config slot, the cgroup-scoped rule lookup, and the SIGKILL at syscall entry. Each object declares its own
 * maps (same names, separate kernel maps); user space sets them through libs/bpf (src/privilege/sensor.ts).
 */
#ifndef STINGER_PRIV_COMMON_H
#define STINGER_PRIV_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_event.h"
#include "stinger_priv.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct priv_watch_config);
} priv_watch SEC(".maps");

static __always_inline struct priv_watch_config *priv_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&priv_watch, &zero);
}

static __always_inline __u32 priv_watched(void)
{
	struct priv_watch_config *cfg = priv_config();

	return cfg ? cfg->watch : 0;
}

/*
 * The rule of `rules` (cgroup id -> struct scope_rule) that covers the current task: its own cgroup or the
 * nearest ancestor with a rule whose `match` meets `flags` (match 0 meets anything). The task's cgroup v2
 * ancestors are walked from the deepest level up (bpf_get_current_ancestor_cgroup_id returns 0 for levels below
 * the task's own cgroup), so the most specific rule wins. A host-only rule is passed over for a pod's task, a pods-only
 * rule for a host task (the walk goes on upwards). Costs nothing when `rules` is empty but the walk.
 */
static __always_inline struct scope_rule *scope_rule_for(void *rules, __u64 flags)
{
	for (int level = SCOPE_CGROUP_DEPTH - 1; level >= 0; level--) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		struct scope_rule *rule;

		if (!id)
			continue;
		rule = bpf_map_lookup_elem(rules, &id);
		if (!rule || (rule->match != 0 && !(rule->match & flags)))
			continue;
		if (scope_excludes_current(rule->flags & SCOPE_RULE_FLAG_HOST_ONLY, rule->flags & SCOPE_RULE_FLAG_PODS_ONLY))
			continue;
		return rule;
	}
	return NULL;
}

/* Applies a matched rule: SIGKILL for KILLED (the task never returns to user space), nothing for AUDIT. */
static __always_inline __u8 apply_rule(struct scope_rule *rule, __u32 *rule_id)
{
	if (!rule)
		return STINGER_ACTION_NONE;
	*rule_id = rule->rule_id;
	if (rule->action == STINGER_ACTION_KILLED) {
		bpf_send_signal(STINGER_SIGKILL);
		return STINGER_ACTION_KILLED;
	}
	return STINGER_ACTION_AUDIT;
}

#endif /* STINGER_PRIV_COMMON_H */
