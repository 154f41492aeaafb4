/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Connect policy: refuses connect(2) to denied destinations for the tasks of the cgroup v2 subtree it is
 * attached to (user space picks the directory: a pod's, a container's, a test's own).
 *
 * Hooks: cgroup/connect4 and cgroup/connect6 (BPF_CGROUP_INET4_CONNECT / INET6_CONNECT, stable since 4.17), run
 * by the kernel in inet_stream_connect/udp connect paths (__inet_stream_connect → BPF_CGROUP_RUN_PROG_INET*_CONNECT)
 * before any packet leaves, with the destination the caller asked for in ctx->user_ip4/user_ip6/user_port.
 * Returning 0 makes the connect fail with EPERM; 1 lets it through. No kernel memory is read.
 *
 * Rules: connect_deny, an LPM trie keyed by struct net_rule_key (IPv4 stored IPv4-mapped; port 0 = any port;
 * the real port is looked up first, then port 0). A denied connect writes one net_event (kind CONNECT,
 * action DENIED, the rule_id, result -EPERM, NET_FLAG_FROM_CGROUP) to the shared ring buffer whatever the
 * network sensor watches: enforcement is always reported. Not covered: UDP sendto(2)/sendmsg(2) without
 * connect (cgroup/sendmsg4|6 would be the hooks).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "stinger_event.h"
#include "stinger_net.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"
#include "net_match.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define STINGER_EPERM 1

NET_RULE_MAP(connect_deny, 16384);
NET_RULE_MAP(connect_deny_all, 16384);

static __always_inline struct net_rule_value *deny_rule(struct net_rule_key *key)
{
	struct net_rule_value *rule = net_rule_for(&connect_deny, &connect_deny_all, key);

	return rule && rule->action == STINGER_ACTION_DENIED ? rule : NULL;
}

static __always_inline int refuse(struct bpf_sock_addr *ctx, struct net_rule_key *key, __u16 port_be,
				  struct net_rule_value *rule)
{
	struct net_event *e = reserve_record(sizeof(*e));

	if (!e)
		return 0;
	fill_header(&e->hdr, EVENT_KIND_CONNECT, sizeof(*e));
	e->protocol = ctx->protocol;
	e->port = bpf_ntohs(port_be);
	e->net_flags = NET_FLAG_ADDR_KNOWN | NET_FLAG_FROM_CGROUP;
	e->fd = -1;
	e->result = -STINGER_EPERM;
	e->backlog = 0;
	e->rule_id = rule->rule_id;
	e->action = STINGER_ACTION_DENIED;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	if (ctx->user_family == NET_AF_INET) {
		e->family = NET_AF_INET;
		__builtin_memset(e->addr, 0, sizeof(e->addr));
		__builtin_memcpy(e->addr, &key->addr[12], 4);
	} else {
		e->family = NET_AF_INET6;
		__builtin_memcpy(e->addr, key->addr, 16);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	struct net_rule_key key = {};
	__u32 ip = ctx->user_ip4;
	__u16 port = (__u16)ctx->user_port;
	struct net_rule_value *rule;

	key.prefixlen = 16 + 128;
	key.port = port;
	key.addr[10] = 0xff;
	key.addr[11] = 0xff;
	__builtin_memcpy(&key.addr[12], &ip, 4);
	rule = deny_rule(&key);
	if (!rule)
		return 1;
	return refuse(ctx, &key, port, rule);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	struct net_rule_key key = {};
	__u32 ip[4];
	__u16 port = (__u16)ctx->user_port;
	struct net_rule_value *rule;

	ip[0] = ctx->user_ip6[0];
	ip[1] = ctx->user_ip6[1];
	ip[2] = ctx->user_ip6[2];
	ip[3] = ctx->user_ip6[3];
	key.prefixlen = 16 + 128;
	key.port = port;
	__builtin_memcpy(key.addr, ip, 16);
	rule = deny_rule(&key);
	if (!rule)
		return 1;
	return refuse(ctx, &key, port, rule);
}
