/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Network sensor, socket syscalls: one net_event per connect(2), accept(2)/accept4(2), bind(2) and listen(2)
 * that user space asked to see.
 *
 * Hooks: syscalls/sys_enter_* and sys_exit_* of those calls. Syscall tracepoints are generated from the
 * SYSCALL_DEFINE macros and their records (the six arguments, the return value) have been ABI since 2.6.x; they
 * need no kernel-memory reads, so the sensor loads under lockdown=confidentiality. The address is the sockaddr
 * the caller passed, read from user memory: at entry for connect/bind (the buffer is the caller's input), at exit
 * for accept (the kernel fills the caller's buffer). Entry and exit are joined by the calling tid in
 * `net_pending`. What a tracepoint cannot give: the local address of a connect (chosen in the kernel), the peer
 * of an accept whose caller passed no buffer (fd only), the protocol (user space reads it from the fd if needed).
 *
 * Filtering happens before anything is parked or reserved: a call is reported when its syscall is watched for
 * every destination (net_watch.watch & NET_WATCH_*), or — connect only — when its destination matches an audit
 * rule in connect_watch_dest (then the record carries the rule_id and action AUDIT). The default (all zero)
 * reports nothing.
 *
 * listen(2) gets the port from `bound_by_fd`: the address a successful bind(2) gave pid+fd, recorded while
 * listens are watched and consumed by the listen. A socket bound before the sensor loaded, or bound implicitly
 * by the kernel, has no entry (NET_FLAG_ADDR_KNOWN clear); a closed and reused fd number that listens without a
 * bind of its own may show the old address (close(2) is not hooked: it is far too frequent to pay for this).
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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct net_watch_config);
} net_watch SEC(".maps");

/* Destinations whose connects are reported with a rule_id even when connects are not watched (audit rules). */
NET_RULE_MAP(connect_watch_dest, 4096);
NET_RULE_MAP(connect_watch_dest_all, 4096);

struct net_pending {
	struct net_event e;
	__u64 uaddr;    /* accept: the caller's sockaddr buffer (read at exit), else 0 */
	__u32 kept;     /* connect: its audit rule keeps its records (rule_keeps_records): written in the kept tier */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct net_pending);
} net_pending SEC(".maps");

struct bound_key {
	__u32 pid;
	__s32 fd;
};

struct bound_addr {
	__u16 family;
	__u16 port;
	__u32 pad;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct bound_key);
	__type(value, struct bound_addr);
} bound_by_fd SEC(".maps");

/* Watch on this CPU's view: 0 when the config slot is missing. */
static __always_inline __u32 watched(void)
{
	__u32 zero = 0;
	struct net_watch_config *cfg = bpf_map_lookup_elem(&net_watch, &zero);

	return cfg ? cfg->watch : 0;
}

struct sockaddr_in_user {
	__u16 family;
	__u16 port; /* network order */
	__u32 addr;
};

struct sockaddr_in6_user {
	__u16 family;
	__u16 port;
	__u32 flowinfo;
	__u8 addr[16];
};

/* Fills family/port/addr from a user sockaddr; sets NET_FLAG_ADDR_KNOWN or a reason why not. */
static __always_inline void read_sockaddr(struct net_event *e, const void *uaddr)
{
	__u16 family = 0;

	if (!uaddr)
		return;
	if (bpf_probe_read_user(&family, sizeof(family), uaddr)) {
		e->net_flags |= NET_FLAG_ADDR_FAULT;
		return;
	}
	if (family == NET_AF_INET) {
		struct sockaddr_in_user sin = {};

		if (bpf_probe_read_user(&sin, sizeof(sin), uaddr)) {
			e->net_flags |= NET_FLAG_ADDR_FAULT;
			return;
		}
		e->family = NET_AF_INET;
		e->port = bpf_ntohs(sin.port);
		__builtin_memcpy(e->addr, &sin.addr, 4);
		e->net_flags |= NET_FLAG_ADDR_KNOWN;
	} else if (family == NET_AF_INET6) {
		struct sockaddr_in6_user sin6 = {};

		if (bpf_probe_read_user(&sin6, sizeof(sin6), uaddr)) {
			e->net_flags |= NET_FLAG_ADDR_FAULT;
			return;
		}
		e->family = NET_AF_INET6;
		e->port = bpf_ntohs(sin6.port);
		__builtin_memcpy(e->addr, sin6.addr, 16);
		e->net_flags |= NET_FLAG_ADDR_KNOWN;
	} else {
		e->family = family;
		e->net_flags |= NET_FLAG_UNSUPPORTED_FAMILY;
	}
}

/* The audit rule for e's destination: real port first, then any port (see struct net_rule_key). */
static __always_inline struct net_rule_value *dest_rule(struct net_event *e)
{
	struct net_rule_key key = {};

	if (e->family == NET_AF_INET) {
		key.prefixlen = 16 + 128;
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], e->addr, 4);
	} else if (e->family == NET_AF_INET6) {
		key.prefixlen = 16 + 128;
		__builtin_memcpy(key.addr, e->addr, 16);
	} else {
		return NULL;
	}
	key.port = bpf_htons(e->port);
	return net_rule_for(&connect_watch_dest, &connect_watch_dest_all, &key);
}

static __always_inline void init_event(struct net_event *e, __s32 fd)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->fd = fd;
}

static __always_inline void park(struct net_pending *p)
{
	__u32 tid = current_tid();

	bpf_map_update_elem(&net_pending, &tid, p, BPF_ANY);
}

/* The record this tid parked at syscall entry, if any. */
static __always_inline struct net_pending *take_parked(void)
{
	__u32 tid = current_tid();

	return bpf_map_lookup_elem(&net_pending, &tid);
}

static __always_inline void drop_parked(void)
{
	__u32 tid = current_tid();

	bpf_map_delete_elem(&net_pending, &tid);
}

/*
 * Audit tier, unless the record's rule keeps its records (`kept`: the watch of a rule whose kill the pipeline carries
 * out). Denials are bpf_connect_policy.c's records.
 */
static __always_inline void send(struct net_pending *p, __u16 kind, long ret)
{
	p->e.result = ret;
	fill_header(&p->e.hdr, kind, sizeof(p->e));
	output_record_tiered(&p->e, sizeof(p->e), p->kept);
}

/* ---- connect(fd, uservaddr, addrlen) ---- */

SEC("tracepoint/syscalls/sys_enter_connect")
int sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u32 watch = watched();
	struct net_pending p;
	struct net_rule_value *rule;

	if (!(watch & (NET_WATCH_CONNECT | NET_WATCH_CONNECT_RULES)))
		return 0;
	init_event(&p.e, ctx->args[0]);
	p.uaddr = 0;
	p.kept = 0;
	p.pad = 0;
	read_sockaddr(&p.e, (const void *)ctx->args[1]);
	if (watch & NET_WATCH_CONNECT_RULES) {
		rule = dest_rule(&p.e);
		if (rule) {
			p.e.rule_id = rule->rule_id;
			p.e.action = STINGER_ACTION_AUDIT;
			p.kept = rule_keeps_records(rule->flags);
		}
	}
	if (!(watch & NET_WATCH_CONNECT) && !p.e.rule_id)
		return 0;
	park(&p);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct net_pending *p = take_parked();

	if (!p)
		return 0;
	send(p, EVENT_KIND_CONNECT, ctx->ret);
	drop_parked();
	return 0;
}

/* ---- accept(fd, upeer_sockaddr, upeer_addrlen), accept4(..., flags) ---- */

static __always_inline void enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	struct net_pending p;

	if (!(watched() & NET_WATCH_ACCEPT))
		return;
	init_event(&p.e, ctx->args[0]);
	p.uaddr = ctx->args[1];
	p.kept = 0;
	p.pad = 0;
	park(&p);
}

/* Takes the return value, not ctx: clang would otherwise keep ctx+16 live, which the verifier refuses. */
static __always_inline void exit_accept(long ret)
{
	struct net_pending *p = take_parked();

	if (!p)
		return;
	if (ret >= 0)
		read_sockaddr(&p->e, (const void *)p->uaddr);
	send(p, EVENT_KIND_ACCEPT, ret);
	drop_parked();
}

SEC("tracepoint/syscalls/sys_enter_accept")
int sys_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	enter_accept(ctx);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int sys_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	enter_accept(ctx);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	exit_accept(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	exit_accept(ctx->ret);
	return 0;
}

/* ---- bind(fd, umyaddr, addrlen) ---- */

SEC("tracepoint/syscalls/sys_enter_bind")
int sys_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	struct net_pending p;

	/* Binds are parked while listens are watched too: the listen record takes its port from them. */
	if (!(watched() & (NET_WATCH_BIND | NET_WATCH_LISTEN)))
		return 0;
	init_event(&p.e, ctx->args[0]);
	p.uaddr = 0;
	p.kept = 0;
	p.pad = 0;
	read_sockaddr(&p.e, (const void *)ctx->args[1]);
	park(&p);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int sys_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct net_pending *p = take_parked();
	__u32 watch = watched();

	if (!p)
		return 0;
	if (ctx->ret == 0 && (watch & NET_WATCH_LISTEN) && (p->e.net_flags & NET_FLAG_ADDR_KNOWN)) {
		struct bound_key key = { .pid = bpf_get_current_pid_tgid() >> 32, .fd = p->e.fd };
		struct bound_addr addr = { .family = p->e.family, .port = p->e.port };

		__builtin_memcpy(addr.addr, p->e.addr, 16);
		bpf_map_update_elem(&bound_by_fd, &key, &addr, BPF_ANY);
	}
	if (watch & NET_WATCH_BIND)
		send(p, EVENT_KIND_BIND, ctx->ret);
	drop_parked();
	return 0;
}

/* ---- listen(fd, backlog) ---- */

SEC("tracepoint/syscalls/sys_enter_listen")
int sys_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	struct net_pending p;
	struct bound_key key = { .pid = bpf_get_current_pid_tgid() >> 32, .fd = ctx->args[0] };
	struct bound_addr *addr;

	if (!(watched() & NET_WATCH_LISTEN))
		return 0;
	init_event(&p.e, ctx->args[0]);
	p.uaddr = 0;
	p.kept = 0;
	p.pad = 0;
	p.e.backlog = ctx->args[1];
	addr = bpf_map_lookup_elem(&bound_by_fd, &key);
	if (addr) {
		p.e.family = addr->family;
		p.e.port = addr->port;
		__builtin_memcpy(p.e.addr, addr->addr, 16);
		p.e.net_flags |= NET_FLAG_ADDR_KNOWN;
		bpf_map_delete_elem(&bound_by_fd, &key);
	}
	park(&p);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int sys_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	struct net_pending *p = take_parked();

	if (!p)
		return 0;
	send(p, EVENT_KIND_LISTEN, ctx->ret);
	drop_parked();
	return 0;
}
