/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Destination rule lookup shared by the connect policy (deny) and the socket sensor (audit destinations). Each
 * keeps two LPM tries of struct net_rule_key -> struct net_rule_value: every rule, and the rules for all
 * processes only (the *_all map). The longest match decides; when its scope (NET_RULE_FLAG_HOST_ONLY or _PODS_ONLY,
 * or a pid scope: PID_SCOPE_RULE_FLAG) passes over the task (rule_scope_excludes_current), the longest match among
 * the rules for all processes decides. The
 * destination's own port is looked up first, then port 0 (any port).
 */
#ifndef STINGER_NET_MATCH_H
#define STINGER_NET_MATCH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_net.h"
#include "stinger_maps.h"

#define NET_RULE_MAP(map_name, entries)                              \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                 \
		__uint(max_entries, entries);                        \
		__uint(map_flags, BPF_F_NO_PREALLOC);                \
		__type(key, struct net_rule_key);                    \
		__type(value, struct net_rule_value);                \
	} map_name SEC(".maps")

static __always_inline struct net_rule_value *net_rule_at(void *rules, void *rules_all, struct net_rule_key *key)
{
	struct net_rule_value *rule = bpf_map_lookup_elem(rules, key);

	if (rule && rule_scope_excludes_current(rule->flags, NET_RULE_FLAG_HOST_ONLY, NET_RULE_FLAG_PODS_ONLY))
		rule = bpf_map_lookup_elem(rules_all, key);
	return rule;
}

/* The rule for key's destination: key->port first, then any port (key->port is left 0). */
static __always_inline struct net_rule_value *net_rule_for(void *rules, void *rules_all, struct net_rule_key *key)
{
	struct net_rule_value *rule = net_rule_at(rules, rules_all, key);

	if (rule)
		return rule;
	key->port = 0;
	return net_rule_at(rules, rules_all, key);
}

#endif /* STINGER_NET_MATCH_H */
