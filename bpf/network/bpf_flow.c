/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Network sensor, flow counters: bytes and packets per (cgroup v2 id, direction), counted by cgroup_skb programs
 * attached to a cgroup v2 directory (user space picks it; by default the root of the cgroup v2 mount, which
 * covers every socket of the host). Nothing goes to the ring buffer: user space reads `flow_bytes` (per-CPU hash,
 * summed over CPUs) on its own schedule and computes rates from the differences.
 *
 * Hooks: cgroup_skb/ingress and cgroup_skb/egress (BPF_CGROUP_INET_INGRESS/EGRESS, since 4.10): run for every
 * IPv4/IPv6 packet a full socket of the subtree receives (sk_filter) or sends (ip_finish_output / ip6_output).
 * The key is the socket's cgroup (bpf_skb_cgroup_id), which for a program attached above it is the cgroup of the
 * process that created the socket. skb->len counts the network-layer packet (headers included). Both programs
 * return 1: they never drop anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_net.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flow_bytes SEC(".maps");

static __always_inline void count(struct __sk_buff *skb, __u32 direction)
{
	struct flow_key key = { .cgroup_id = bpf_skb_cgroup_id(skb), .direction = direction, .pad = 0 };
	struct flow_value *value = bpf_map_lookup_elem(&flow_bytes, &key);

	if (!value) {
		struct flow_value zero = {};

		bpf_map_update_elem(&flow_bytes, &key, &zero, BPF_NOEXIST);
		value = bpf_map_lookup_elem(&flow_bytes, &key);
		if (!value)
			return;
	}
	value->bytes += skb->len; /* per-CPU value: no other writer on this CPU while we run */
	value->packets += 1;
}

SEC("cgroup_skb/ingress")
int flow_ingress(struct __sk_buff *skb)
{
	count(skb, FLOW_INGRESS);
	return 1;
}

SEC("cgroup_skb/egress")
int flow_egress(struct __sk_buff *skb)
{
	count(skb, FLOW_EGRESS);
	return 1;
}
