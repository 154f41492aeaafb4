/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Network sensor records, watch/rule map layouts and constants (bpf/network/). Same rules as stinger_event.h:
 * fixed-width types, explicit padding, no bitfields; the TypeScript tables in libs/bpf/src/network/records.ts must
 * match (network/records.layout.test.ts compiles this header with the host compiler and compares).
 *
 * EVENT_KIND_CONNECT .. EVENT_KIND_FLOW (20..25) are defined in stinger_event.h with the other kinds.
 */
#ifndef STINGER_NET_H
#define STINGER_NET_H

#include "stinger_event.h"

/* Address families as the kernel numbers them (AF_INET, AF_INET6); 0 when the address was not read. */
#define NET_AF_INET 2
#define NET_AF_INET6 10

/*
 * What Stinger did, in records (net_event.action, and the privilege records' action) and, for the rule maps,
 * what a rule asks for. 0 in a record: no rule was involved (emitted because the event type is watched).
 */
#define STINGER_ACTION_NONE 0
#define STINGER_ACTION_AUDIT 1  /* a rule matched and asked only for the record */
#define STINGER_ACTION_KILLED 2 /* a rule matched and the caller got SIGKILL at syscall entry */
#define STINGER_ACTION_DENIED 3 /* a rule matched and the operation was refused (connect: EPERM) */

/* net_event.net_flags */
#define NET_FLAG_ADDR_KNOWN (1U << 0)   /* family/addr/port were read (user sockaddr, or the bind table for listen) */
#define NET_FLAG_ADDR_FAULT (1U << 1)   /* the user sockaddr could not be read */
#define NET_FLAG_FROM_CGROUP (1U << 2)  /* written by the cgroup/connect4|6 policy program, not the syscall sensor */
#define NET_FLAG_UNSUPPORTED_FAMILY (1U << 3) /* a sockaddr of another family (AF_UNIX, AF_NETLINK, ...) */

/* net_watch_config.watch: which syscalls are reported for every destination. 0 = none (the default). */
#define NET_WATCH_CONNECT (1U << 0)
#define NET_WATCH_ACCEPT (1U << 1)
#define NET_WATCH_BIND (1U << 2)
#define NET_WATCH_LISTEN (1U << 3)
/* Set by user space while connect_watch_dest holds audit rules: connects are then looked up there. */
#define NET_WATCH_CONNECT_RULES (1U << 4)

/* flow_key.direction */
#define FLOW_INGRESS 0
#define FLOW_EGRESS 1

/*
 * connect(2), accept(2)/accept4(2), bind(2), listen(2). Which address `addr`/`port` hold depends on the kind:
 * connect — the destination; accept — the peer (only when the caller passed a sockaddr buffer); bind — the
 * local address asked for; listen — the address bound earlier by the same process on the same fd (from the
 * bind table; absent when the bind happened before the sensor loaded or the port was picked by the kernel).
 * IPv4 addresses sit in addr[0..3]; IPv6 in addr[0..15]; network byte order. `port` is host byte order.
 */
struct net_event {
	struct event_header hdr;
	__u16 family;     /* NET_AF_INET, NET_AF_INET6, or 0 */
	__u16 protocol;   /* IPPROTO_TCP/UDP when known (cgroup records); 0 from the syscall sensor */
	__u16 port;
	__u16 net_flags;  /* NET_FLAG_* */
	__s32 fd;         /* socket fd; for accept the listening socket's fd */
	__s32 result;     /* syscall return: 0 or -errno (connect may be -EINPROGRESS); accept: the new fd */
	__u32 backlog;    /* listen */
	__u32 rule_id;    /* the rule that caused the record, 0 when none */
	__u8 action;      /* STINGER_ACTION_* */
	__u8 pad[7];
	__u8 addr[16];
};

/* The one value of the single-slot array `net_watch`. */
struct net_watch_config {
	__u32 watch; /* NET_WATCH_* */
	__u32 pad;
};

/*
 * Key of the destination LPM tries (connect_deny for the cgroup/connect4|6 policy, connect_watch_dest for the
 * connect sensor's audit rules). IPv4 destinations are stored IPv4-mapped (::ffff:a.b.c.d), so one trie serves
 * both families and an IPv6 socket connecting to a mapped IPv4 address meets the IPv4 rules.
 * prefixlen counts bits from `port`: 16 (the port, always matched exactly) + 96 + the IPv4 prefix, or
 * 16 + the IPv6 prefix. A rule for any port is stored with port 0; the programs look up the real port first,
 * then port 0, so a port-specific rule wins over an any-port rule whatever their prefix lengths.
 */
struct net_rule_key {
	__u32 prefixlen;
	__u16 port;   /* network byte order; 0 = any port */
	__u8 addr[16];
	__u16 pad;    /* 0; beyond any prefix */
};

struct net_rule_value {
	__u32 rule_id;
	__u32 action; /* STINGER_ACTION_AUDIT, or STINGER_ACTION_DENIED (connect policy) */
	__u32 flags;  /* NET_RULE_FLAG_* */
	__u32 pad;
};

/* net_rule_value.flags */
#define NET_RULE_FLAG_HOST_ONLY (1U << 0) /* a pod's task falls back to the rules for all processes (the *_all map) */
#define NET_RULE_FLAG_PODS_ONLY (1U << 1) /* a host task falls back to the rules for all processes */
/* Bit 14 is KEEP_RECORDS_RULE_FLAG (stinger_loss.h): the rule's records are never shed (connect_watch_dest). */

struct flow_key {
	__u64 cgroup_id; /* cgroup v2 id of the socket's cgroup */
	__u32 direction; /* FLOW_INGRESS, FLOW_EGRESS */
	__u32 pad;
};

/* Per CPU; user space sums the CPUs. */
struct flow_value {
	__u64 bytes;
	__u64 packets;
};

/*
 * Egress parser (bpf/network/bpf_egress.c): what the first payload of a connection, or a UDP datagram to port 53,
 * said. One record per parsed payload, written for the socket's owner (the task that connected it, or that sent
 * the datagram), not for whatever task runs when the packet leaves.
 */
#define EGRESS_APP_DNS 1  /* a DNS query: name = QNAME as sent (length-prefixed labels, root label left out), dns_type = QTYPE */
#define EGRESS_APP_TLS 2  /* a TLS ClientHello: name = SNI host name, alpn = the protocol name list as sent (length-prefixed) */
#define EGRESS_APP_HTTP 3 /* an HTTP/1.x request: request = request line (no CRLF), name = Host header value */

/* egress_event.parse: whether the fields are complete */
#define EGRESS_PARSE_OK 0
#define EGRESS_PARSE_TRUNCATED 1  /* a value was longer than its field (cut) or beyond the bytes scanned */
#define EGRESS_PARSE_FRAGMENTED 2 /* the message goes on past this packet and the field was not in it */
#define EGRESS_PARSE_MALFORMED 3  /* lengths inside the message do not add up */

#define EGRESS_NAME_SIZE 128   /* bytes of name kept, NUL excluded at most EGRESS_NAME_SIZE - 1 */
#define EGRESS_ALPN_SIZE 32
#define EGRESS_REQUEST_SIZE 128

/*
 * hdr is the socket's owner as recorded at connect(2) or sendmsg(2) (pid, tid, ppid, uid, gid, comm, cgroup_id);
 * hdr.time_ns is when the packet left. Addresses as in net_event (network byte order, IPv4 in [0..3]); ports
 * host byte order. name/alpn/request hold name_len/alpn_len/request_len bytes copied from the packet (the rest of
 * each field is zero): only what the field's protocol defines, never the bytes after it. The decoder turns DNS
 * labels and the ALPN list into text, so the kernel runs no per-byte loop over them.
 */
struct egress_event {
	struct event_header hdr;
	__u64 socket_cookie; /* bpf_get_socket_cookie: the same for every record of one socket */
	__u16 family;        /* NET_AF_INET, NET_AF_INET6 (of the packet) */
	__u16 protocol;      /* IPPROTO_TCP, IPPROTO_UDP */
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 app;            /* EGRESS_APP_* */
	__u8 parse;          /* EGRESS_PARSE_* */
	__u16 dns_type;      /* DNS QTYPE; 0 when not read */
	__u16 name_len;
	__u16 alpn_len;
	__u16 request_len;
	__u16 pad;
	__u32 payload_len;   /* bytes of application payload in this packet */
	char name[EGRESS_NAME_SIZE];
	char alpn[EGRESS_ALPN_SIZE];
	char request[EGRESS_REQUEST_SIZE];
};

/* egress_socket.state */
#define EGRESS_SOCKET_DONE (1U << 0)  /* the first payload was parsed (or the socket is of no interest): skip it */
#define EGRESS_SOCKET_TUPLE (1U << 1) /* family/protocol/addresses/ports were read from the first packet sent */

/*
 * Socket-local storage (egress_sockets): who owns the socket, whether its first payload was parsed, and the
 * socket's byte and packet counts both ways (the flow record's, see flow_event). The counters are added to
 * atomically: a socket's packets leave and arrive on several CPUs at once.
 */
struct egress_socket {
	struct event_header owner; /* filled by fill_header at connect/sendmsg; kind/size/time unused */
	__u32 state;               /* EGRESS_SOCKET_* */
	__u32 pad;
	__u64 bytes_sent;          /* skb->len of each packet sent: network-layer bytes, headers included */
	__u64 bytes_received;
	__u64 packets_sent;        /* segments: a GSO/GRO packet counts its gso_segs */
	__u64 packets_received;
	__u64 reported_ns;         /* when the last interim flow record was written (0: none yet) */
	__u64 start_ns;            /* when the socket's first packet was counted */
	__u16 family;              /* the tuple, from the first packet sent (EGRESS_SOCKET_TUPLE) */
	__u16 protocol;
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

/*
 * Written by user space in the single slot of egress_config. Rate limit per cgroup: each egress record costs
 * cost_ns of credit; a cgroup earns credit with time up to max_credit_ns (the burst). cost_ns 0 = no limit.
 * flow_interval_ns: a socket that is still open this long after its last flow record (or its first packet) gets an
 * interim flow record with its next packet; 0 = flow records only when the socket is released. Flow records have a
 * per-cgroup bucket of their own (flow_buckets, keyed by the owner's cgroup), so a connection storm cannot flood the
 * ring and DNS queries do not spend the flows' credit: flow_cost_ns 0 = no limit.
 */
struct egress_config {
	__u64 cost_ns;          /* 1e9 / records per second */
	__u64 max_credit_ns;    /* burst * cost_ns */
	__u64 flow_interval_ns;
	__u64 flow_cost_ns;
	__u64 flow_max_credit_ns;
};

/* flow_event.reason */
#define FLOW_REASON_END 1     /* the socket was released (close(2) of its last descriptor, or its owner's exit) */
#define FLOW_REASON_INTERIM 2 /* the socket is still open; flow_interval_ns passed since its last record */

/*
 * One connection's (one socket's) traffic, for the sockets whose owner the egress parser records: every socket
 * connected with connect(2) (TCP, and connected UDP) and every UDP socket that sent to port 53. Counts are the
 * socket's totals since its first packet (cumulative: an interim record's counts are contained in every later one
 * of the same cookie). hdr is the owner as in egress_event; hdr.time_ns is when the record was written.
 * socket_cookie is the one the same socket's egress records carry. Bytes and packets after the release (the FIN,
 * the rest of a send buffer) are not counted in any record. Addresses and ports as in egress_event, from the first
 * packet sent (a socket none of whose packets could be read as IPv4/IPv6 TCP/UDP has no flow record).
 */
struct flow_event {
	struct event_header hdr;
	__u64 socket_cookie;
	__u16 family;     /* NET_AF_INET, NET_AF_INET6 */
	__u16 protocol;   /* IPPROTO_TCP, IPPROTO_UDP */
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 packets_sent;
	__u64 packets_received;
	__u64 start_ns;   /* when the socket's first packet was counted (CLOCK_BOOTTIME) */
	__u8 reason;      /* FLOW_REASON_* */
	__u8 pad[7];
};

/* egress_buckets value, per cgroup v2 id of the socket. */
struct egress_bucket {
	__u64 last_ns;   /* when credit was last added */
	__u64 credit_ns;
	__u64 dropped;   /* records not written because the cgroup had no credit */
};

/* egress_counters slots (per CPU, summed by user space) */
#define EGRESS_COUNTER_EMITTED 0
#define EGRESS_COUNTER_RATE_LIMITED 1
#define EGRESS_COUNTER_RING_FULL 2 /* egress and flow records */
#define EGRESS_COUNTER_FLOWS 3     /* flow records written */
#define EGRESS_COUNTER_FLOWS_RATE_LIMITED 4 /* flow records not written: the owner's cgroup was over its flow rate */
#define EGRESS_COUNTERS 5

#endif /* STINGER_NET_H */
