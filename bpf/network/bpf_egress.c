/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Egress parser: what a connection's first payload, and each UDP datagram to port 53, asks for — the DNS query
 * name and type, the TLS ClientHello's server name (SNI) and ALPN, an HTTP/1.x request line and Host header — as
 * one egress_event (stinger_net.h) per parsed payload, for the process that owns the socket; and how many bytes and
 * packets the socket sent and received, as flow_event records.
 *
 * Hooks (attached with BPF links to a cgroup v2 directory, by default the root: every socket of the host):
 * - cgroup/connect4|6 (BPF_CGROUP_INET4/6_CONNECT, 4.17; run in __inet_stream_connect / udp connect in the
 *   caller's context) and cgroup/sendmsg4|6 (BPF_CGROUP_UDP4/6_SENDMSG, 4.18; udp_sendmsg with a destination,
 *   port 53 only): record the caller (fill_header) in the socket's local storage (egress_sockets,
 *   BPF_MAP_TYPE_SK_STORAGE, 5.2). Packets leave later, often from softirq or another task (TCP retransmits,
 *   deferred sends), so the owner is taken from here and never from the task running at egress. Both return 1:
 *   they never refuse anything (the connect policy is bpf_connect_policy.c).
 * - cgroup_skb/egress (BPF_CGROUP_INET_EGRESS, 4.10; ip_finish_output / ip6_finish_output): a socket without
 *   storage (accepted server sockets, sockets made before the parser loaded), or whose first payload was parsed
 *   (EGRESS_SOCKET_DONE), leaves after one storage lookup. Otherwise the packet's headers are read with
 *   bpf_skb_load_bytes (IPv4 with options, IPv6 without extension headers, TCP, UDP); a TCP packet without payload
 *   (SYN, ACK) waits for the next one. Only the bytes a field needs are copied: at most 512 bytes of a TCP payload
 *   are scanned (from a per-CPU scratch buffer), and DNS names, server names, ALPN lists, request lines and Host
 *   values go straight from the packet into the record, cut at their field's size. Returns 1: nothing is dropped.
 *
 * - cgroup_skb/egress also counts every packet of a socket with storage, and cgroup_skb/ingress (sk_filter) every
 *   packet it receives (skb->len and segments, atomically, in the storage); cgroup/sock_release writes the socket's
 *   flow_event (stinger_net.h) when it goes, and the next packet after flow_interval_ns writes an interim one, so a
 *   long connection is seen before it ends. The flow record carries the egress records' socket cookie: the two are
 *   joined on (node, cookie). Only sockets with storage are counted (those connect(2)ed, and UDP sockets that sent
 *   to port 53): a server's accepted sockets are not, nor is anything made before the parser attached.
 *
 * What cannot be parsed is said, not hidden: a ClientHello whose extensions go on past the packet (fragmented over
 * several TCP segments) without a server name in this one is EGRESS_PARSE_FRAGMENTED; cut values are _TRUNCATED;
 * lengths that do not add up are _MALFORMED. A first payload that is neither TLS nor HTTP (nor DNS over TCP to
 * port 53) makes no record. Every loop is bounded by a constant.
 *
 * Rate limit: a token bucket per cgroup v2 id (egress_buckets, credit in ns; egress_config from user space), so a
 * chatty pod cannot flood the shared ring. Records refused by it are counted per cgroup (egress_bucket.dropped)
 * and in total (egress_counters), as are records lost to a full ring (there and in lost_records). Flow records
 * have buckets of their own (flow_buckets, by the owner's cgroup), counted apart: a connection storm is cut and
 * counted too, and a refused final record loses that socket's counts (the count says how many).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "stinger_event.h"
#include "stinger_net.h"
#include "stinger_maps.h"
#include "stinger_helpers.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP_BE 0x0008   /* bpf_htons(0x0800) as skb->protocol holds it on little-endian */
#define ETH_P_IPV6_BE 0xdd86 /* bpf_htons(0x86dd) */
#define PROTO_TCP 6
#define PROTO_UDP 17
#define DNS_PORT 53
/* Bytes of a TCP first payload scanned for TLS/HTTP (the scratch buffer is twice as large for the verifier). */
#define SCAN_BYTES 512
#define SCAN_MASK (SCAN_BYTES - 1)
/* TLS extensions walked before giving up on the server name / ALPN. */
#define TLS_MAX_EXTENSIONS 24
#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ALPN 16
/* Labels of a DNS name walked (a name of 127 bytes has at most 63). */
#define DNS_MAX_LABELS 64

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct egress_socket);
} egress_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct egress_config);
} egress_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct egress_bucket);
} egress_buckets SEC(".maps");

/* The flow records' buckets, per cgroup v2 id of the socket's owner (egress_config.flow_cost_ns). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct egress_bucket);
} flow_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EGRESS_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} egress_counters SEC(".maps");

struct scan_buffer {
	__u8 bytes[SCAN_BYTES * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan_buffer);
} egress_scratch SEC(".maps");

/* Where the packet's payload is and whom it goes to. */
struct packet {
	__u32 payload_off;
	__u32 payload_len;
	__u16 family;
	__u16 protocol;
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline void count(__u32 slot)
{
	__u64 *counter = bpf_map_lookup_elem(&egress_counters, &slot);

	if (counter)
		*counter += 1; /* per-CPU slot */
}

/* ---- socket owners ---- */

static __always_inline void remember_owner(void *sk)
{
	struct egress_socket *s = bpf_sk_storage_get(&egress_sockets, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!s)
		return;
	fill_header(&s->owner, 0, 0);
	s->state = 0;
	s->pad = 0;
	/* New storage starts zeroed; a second connect or send to port 53 keeps the counts (one socket, one flow). */
	if (s->start_ns == 0)
		s->start_ns = bpf_ktime_get_boot_ns();
}

/* Every connect, and (dns_only) each unconnected send to port 53: the caller owns the socket from here on. */
static __always_inline int record_owner(struct bpf_sock_addr *ctx, int dns_only)
{
	struct bpf_sock *sk = ctx->sk;

	if (sk && (!dns_only || ctx->user_port == bpf_htons(DNS_PORT)))
		remember_owner(sk);
	return 1;
}

SEC("cgroup/connect4")
int egress_connect4(struct bpf_sock_addr *ctx)
{
	return record_owner(ctx, 0);
}

SEC("cgroup/connect6")
int egress_connect6(struct bpf_sock_addr *ctx)
{
	return record_owner(ctx, 0);
}

/* An unconnected UDP socket's datagram to port 53 (a connected one was recorded at connect). */
SEC("cgroup/sendmsg4")
int egress_sendmsg4(struct bpf_sock_addr *ctx)
{
	return record_owner(ctx, 1);
}

SEC("cgroup/sendmsg6")
int egress_sendmsg6(struct bpf_sock_addr *ctx)
{
	return record_owner(ctx, 1);
}

/* ---- rate limit ---- */

/*
 * 1 when the cgroup may write a record now (and its credit is taken), 0 when it is over its rate (counted in the
 * bucket and in counter slot `refused`). `buckets` is egress_buckets or flow_buckets; cost 0 = no limit.
 */
static __always_inline int take_credit_from(void *buckets, __u64 cgroup_id, __u64 now, __u64 cost, __u64 max_credit, __u32 refused)
{
	struct egress_bucket *bucket;

	if (cost == 0)
		return 1;
	bucket = bpf_map_lookup_elem(buckets, &cgroup_id);
	if (!bucket) {
		struct egress_bucket fresh = { .last_ns = now, .credit_ns = max_credit, .dropped = 0 };

		bpf_map_update_elem(buckets, &cgroup_id, &fresh, BPF_NOEXIST);
		bucket = bpf_map_lookup_elem(buckets, &cgroup_id);
		if (!bucket)
			return 1;
	}
	/* Racy across CPUs by design: a concurrent update may grant or refuse one record too many, never flood. */
	if (now > bucket->last_ns) {
		__u64 credit = bucket->credit_ns + (now - bucket->last_ns);

		bucket->credit_ns = credit > max_credit ? max_credit : credit;
		bucket->last_ns = now;
	}
	if (bucket->credit_ns >= cost) {
		bucket->credit_ns -= cost;
		return 1;
	}
	__sync_fetch_and_add(&bucket->dropped, 1);
	count(refused);
	return 0;
}

/* An egress record's credit, from the bucket of the socket's cgroup. */
static __always_inline int take_credit(__u64 cgroup_id, __u64 now)
{
	__u32 zero = 0;
	struct egress_config *config = bpf_map_lookup_elem(&egress_config, &zero);

	if (!config)
		return 1;
	return take_credit_from(&egress_buckets, cgroup_id, now, config->cost_ns, config->max_credit_ns, EGRESS_COUNTER_RATE_LIMITED);
}

/* ---- records ---- */

/*
 * Reserves a record for the socket's owner, or NULL (shed as audit while the ring fills, rate limited or ring full:
 * each counted). Shed before the rate limit is asked, so a shed record takes none of its cgroup's credit.
 */
static __always_inline struct egress_event *reserve(struct __sk_buff *skb, struct egress_socket *s, struct packet *p,
						     __u8 app)
{
	__u64 now = bpf_ktime_get_boot_ns();
	struct egress_event *e;

	if (audit_record_shed() || !take_credit(bpf_skb_cgroup_id(skb), now))
		return NULL;
	e = reserve_record(sizeof(*e));
	if (!e) {
		count(EGRESS_COUNTER_RING_FULL);
		return NULL;
	}
	__builtin_memcpy(&e->hdr, &s->owner, sizeof(e->hdr));
	e->hdr.kind = EVENT_KIND_EGRESS;
	e->hdr.flags = 0;
	e->hdr.size = sizeof(*e);
	e->hdr.time_ns = now;
	e->socket_cookie = bpf_get_socket_cookie(skb);
	e->family = p->family;
	e->protocol = p->protocol;
	e->sport = p->sport;
	e->dport = p->dport;
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	e->app = app;
	e->parse = EGRESS_PARSE_OK;
	e->dns_type = 0;
	e->name_len = 0;
	e->alpn_len = 0;
	e->request_len = 0;
	e->pad = 0;
	e->payload_len = p->payload_len;
	__builtin_memset(e->name, 0, sizeof(e->name));
	__builtin_memset(e->alpn, 0, sizeof(e->alpn));
	__builtin_memset(e->request, 0, sizeof(e->request));
	return e;
}

static __always_inline void submit(struct egress_event *e)
{
	bpf_ringbuf_submit(e, 0);
	count(EGRESS_COUNTER_EMITTED);
}

/*
 * Copies `len` packet bytes at `off` into a field of `size` bytes (NUL kept at the end); returns the bytes
 * copied, 0 when none could be. *cut is set when len did not fit.
 */
#define COPY_FIELD(skb, off, len, field, cut)                                                        \
	({                                                                                           \
		__u64 __n = (len);                                                                   \
		if (__n > sizeof(field) - 1) {                                                       \
			__n = sizeof(field) - 1;                                                     \
			*(cut) = 1;                                                                  \
		}                                                                                    \
		/*                                                                                   \
		 * The mask in asm, so the verifier sees the bound the compiler would fold away; the  \
		 * length goes to the helper as (n - 1 masked) + 1 because a 6.1 verifier does not    \
		 * learn n >= 1 from n != 0 and refuses a length that may be 0.                      \
		 */                                                                                  \
		if (__n > 0) {                                                                       \
			__u64 __m = __n - 1;                                                         \
			asm volatile("%[m] &= %[mask]" : [m] "+r"(__m) : [mask] "i"(sizeof(field) - 1)); \
			__n = __m + 1;                                                               \
			if (bpf_skb_load_bytes(skb, off, field, __n))                                \
				__n = 0;                                                             \
		}                                                                                    \
		(__u32) __n;                                                                         \
	})

static __always_inline __u32 load_u8(struct __sk_buff *skb, __u32 off, int *fault)
{
	__u8 v = 0;

	if (bpf_skb_load_bytes(skb, off, &v, 1))
		*fault = 1;
	return v;
}

static __always_inline __u32 load_be16(struct __sk_buff *skb, __u32 off, int *fault)
{
	__u8 v[2] = {};

	if (bpf_skb_load_bytes(skb, off, v, 2))
		*fault = 1;
	return ((__u32)v[0] << 8) | v[1];
}

/* ---- flows ---- */

/*
 * Writes the socket's flow record (its counts so far). The tuple is the one read from the socket's first packet
 * sent: a socket whose packets could not be read as IPv4/IPv6 TCP/UDP (IPv6 extension headers) has none and gets no
 * flow record (the release hook cannot read the socket's addresses). An audit record: shed while the ring fills
 * (stinger_loss.h); the counts are cumulative, so a later record of the socket still carries them.
 */
static __always_inline void emit_flow(struct egress_socket *s, __u64 cookie, __u8 reason)
{
	__u32 zero = 0;
	struct egress_config *config = bpf_map_lookup_elem(&egress_config, &zero);
	struct flow_event *e;
	__u64 now = bpf_ktime_get_boot_ns();

	if (!(s->state & EGRESS_SOCKET_TUPLE) || audit_record_shed())
		return;
	if (config && !take_credit_from(&flow_buckets, s->owner.cgroup_id, now, config->flow_cost_ns, config->flow_max_credit_ns,
					EGRESS_COUNTER_FLOWS_RATE_LIMITED))
		return;
	e = reserve_record(sizeof(*e));
	if (!e) {
		count(EGRESS_COUNTER_RING_FULL);
		return;
	}
	__builtin_memcpy(&e->hdr, &s->owner, sizeof(e->hdr));
	e->hdr.kind = EVENT_KIND_FLOW;
	e->hdr.flags = 0;
	e->hdr.size = sizeof(*e);
	e->hdr.time_ns = now;
	e->socket_cookie = cookie;
	e->family = s->family;
	e->protocol = s->protocol;
	e->sport = s->sport;
	e->dport = s->dport;
	__builtin_memcpy(e->saddr, s->saddr, 16);
	__builtin_memcpy(e->daddr, s->daddr, 16);
	e->bytes_sent = s->bytes_sent;
	e->bytes_received = s->bytes_received;
	e->packets_sent = s->packets_sent;
	e->packets_received = s->packets_received;
	e->start_ns = s->start_ns;
	e->reason = reason;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
	count(EGRESS_COUNTER_FLOWS);
}

/*
 * Every packet of a socket with storage, both ways: adds it to the socket's counts, and writes an interim flow
 * record when flow_interval_ns passed since the last one (or since the connect). Two CPUs may both find the
 * interval passed and write one interim record each: the counts are totals, so a reader keeps the largest.
 */
static __always_inline void count_packet(struct __sk_buff *skb, struct egress_socket *s, int sent)
{
	__u32 zero = 0, segs = skb->gso_segs;
	struct egress_config *config;
	__u64 now, since;

	if (segs == 0)
		segs = 1;
	if (sent) {
		__sync_fetch_and_add(&s->bytes_sent, skb->len);
		__sync_fetch_and_add(&s->packets_sent, segs);
	} else {
		__sync_fetch_and_add(&s->bytes_received, skb->len);
		__sync_fetch_and_add(&s->packets_received, segs);
	}
	config = bpf_map_lookup_elem(&egress_config, &zero);
	if (!config || config->flow_interval_ns == 0)
		return;
	now = bpf_ktime_get_boot_ns();
	since = s->reported_ns ? s->reported_ns : s->start_ns;
	if (now - since < config->flow_interval_ns)
		return;
	s->reported_ns = now;
	emit_flow(s, bpf_get_socket_cookie(skb), FLOW_REASON_INTERIM);
}

/*
 * cgroup/sock_release (BPF_CGROUP_INET_SOCK_RELEASE, 5.9; inet_release, when the socket's last file reference
 * goes: close(2) of the last descriptor, or its process's exit) in the releasing task's context: the socket's
 * final flow record, when it counted any packet. The storage goes with the socket (sk_destruct), so nothing is
 * left to clean up. Returns 1 (the hook cannot refuse anything).
 */
SEC("cgroup/sock_release")
int egress_sock_release(struct bpf_sock *ctx)
{
	struct egress_socket *s = bpf_sk_storage_get(&egress_sockets, ctx, 0, 0);

	if (s && (s->packets_sent | s->packets_received))
		emit_flow(s, bpf_get_socket_cookie(ctx), FLOW_REASON_END);
	return 1;
}

/*
 * cgroup_skb/ingress (BPF_CGROUP_INET_INGRESS, 4.10; sk_filter on the receiving socket, after the socket lookup):
 * counts what a socket with storage receives. Returns 1: nothing is dropped.
 */
SEC("cgroup_skb/ingress")
int egress_count_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct egress_socket *s;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	s = bpf_sk_storage_get(&egress_sockets, sk, 0, 0);
	if (s)
		count_packet(skb, s, 0);
	return 1;
}

/* ---- DNS ---- */

/*
 * A DNS query at `off` (the header); emitted when it is a query with at least one question. The first question's
 * name is walked label by label (each length byte read from the packet, at most DNS_MAX_LABELS) to find its end;
 * exactly the name's bytes are copied, in wire form (the decoder writes them dotted), then the type after it.
 */
static __always_inline void parse_dns(struct __sk_buff *skb, struct egress_socket *s, struct packet *p, __u32 off,
				      __u32 len)
{
	struct egress_event *e;
	__u8 header[12];
	__u32 name = off + sizeof(header), pos = name, cut = 0, ended = 0, bad = 0, i;
	int fault = 0;

	if (len < sizeof(header) + 5 || bpf_skb_load_bytes(skb, off, header, sizeof(header)))
		return;
	if ((header[2] & 0x80) || (header[4] == 0 && header[5] == 0)) /* a response, or no question */
		return;
	e = reserve(skb, s, p, EGRESS_APP_DNS);
	if (!e)
		return;
	for (i = 0; i < DNS_MAX_LABELS; i++) {
		__u32 label = load_u8(skb, pos, &fault);

		if (fault)
			break;
		if (label == 0) {
			ended = 1;
			break;
		}
		if (label > 63) { /* a compression pointer or a reserved label type: not in a query's first name */
			bad = 1;
			break;
		}
		pos += 1 + label;
	}
	e->name_len = COPY_FIELD(skb, name, pos - name, e->name, &cut);
	if (ended && !cut)
		e->dns_type = load_be16(skb, pos + 1, &fault);
	if (bad || (fault && !ended))
		e->parse = EGRESS_PARSE_MALFORMED;
	else if (cut || !ended)
		e->parse = EGRESS_PARSE_TRUNCATED; /* longer than the field, or more labels than walked */
	else if (fault)
		e->parse = EGRESS_PARSE_MALFORMED; /* no room for the type */
	submit(e);
}

/* ---- TLS ---- */

/* bpf_loop state of the extension walk (the callback is verified once, whatever the number of extensions). */
struct tls_walk {
	struct __sk_buff *skb;
	__u32 off;   /* the next extension's header */
	__u32 end;   /* end of the extensions */
	__u32 sni;   /* body of the server_name extension, 0 when not met */
	__u32 alpn;  /* body of the ALPN extension, 0 when not met */
	__u32 fault; /* a read ran past the packet */
};

static long tls_extension(__u32 index, struct tls_walk *walk)
{
	__u8 ext[4];
	__u32 type, length;

	if (walk->off + 4 > walk->end)
		return 1;
	if (bpf_skb_load_bytes(walk->skb, walk->off, ext, sizeof(ext))) {
		walk->fault = 1;
		return 1;
	}
	type = ((__u32)ext[0] << 8) | ext[1];
	length = ((__u32)ext[2] << 8) | ext[3];
	if (type == TLS_EXT_SERVER_NAME && length >= 5)
		walk->sni = walk->off + 4;
	else if (type == TLS_EXT_ALPN && length >= 3)
		walk->alpn = walk->off + 4;
	walk->off += 4 + length;
	return 0;
}

/*
 * A TLS record carrying a ClientHello (content type 22, handshake type 1). Walks the hello's fixed part and up
 * to TLS_MAX_EXTENSIONS extensions with packet reads; the server name and ALPN list are copied from the packet.
 */
static __always_inline void parse_tls(struct __sk_buff *skb, struct egress_socket *s, struct packet *p)
{
	__u32 start = p->payload_off, end = p->payload_off + p->payload_len;
	__u32 off = start + 9 + 2 + 32, hello_end, ext_end, cut = 0, sni = 0, alpn = 0, more;
	struct tls_walk walk = {};
	int fault = 0, found_name = 0;
	struct egress_event *e = reserve(skb, s, p, EGRESS_APP_TLS);

	if (!e)
		return;
	/* handshake header: type (1), length (3) */
	hello_end = start + 9 + ((load_u8(skb, start + 6, &fault) << 16) | load_be16(skb, start + 7, &fault));
	off += 1 + load_u8(skb, off, &fault);   /* session id */
	off += 2 + load_be16(skb, off, &fault); /* cipher suites */
	off += 1 + load_u8(skb, off, &fault);   /* compression methods */
	ext_end = off + 2 + load_be16(skb, off, &fault);
	off += 2;
	/* Walk the extensions for where the two of interest start; copy them after the walk (one copy each). */
	walk.skb = skb;
	walk.off = off;
	walk.end = ext_end;
	bpf_loop(TLS_MAX_EXTENSIONS, tls_extension, &walk, 0);
	sni = walk.sni;
	alpn = walk.alpn;
	off = walk.off;
	fault |= walk.fault;
	more = walk.off + 4 <= ext_end && !walk.fault;
	if (sni) {
		/* server_name_list length (2), name type (1, host_name = 0), name length (2), name */
		__u32 name_len = load_be16(skb, sni + 3, &fault);

		if (!fault && load_u8(skb, sni + 2, &fault) == 0) {
			e->name_len = COPY_FIELD(skb, sni + 5, name_len, e->name, &cut);
			found_name = e->name_len > 0;
			if (!found_name && name_len > 0)
				fault = 1;
		}
	}
	if (alpn) {
		/* The protocol list as sent (length-prefixed names): the decoder splits it. */
		__u32 list_len = load_be16(skb, alpn, &fault);

		if (!fault)
			e->alpn_len = COPY_FIELD(skb, alpn + 2, list_len, e->alpn, &cut);
	}
	if (fault || off > end) {
		/* A read ran past the packet: the hello goes on in later segments, or lies about its lengths. */
		if (!found_name)
			e->parse = hello_end > end ? EGRESS_PARSE_FRAGMENTED : EGRESS_PARSE_MALFORMED;
	} else if (!found_name && more) {
		e->parse = EGRESS_PARSE_TRUNCATED; /* more extensions than walked */
	} else if (cut) {
		e->parse = EGRESS_PARSE_TRUNCATED;
	}
	submit(e);
}

/* ---- HTTP ---- */

static __always_inline int lower(__u8 c)
{
	return c | 0x20;
}

/* Whether the scanned bytes start with an HTTP/1.x method and a space. */
static __always_inline int http_method(const __u8 *b)
{
	switch (b[0]) {
	case 'G':
		return b[1] == 'E' && b[2] == 'T' && b[3] == ' ';
	case 'P':
		return (b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ') ||
		       (b[1] == 'U' && b[2] == 'T' && b[3] == ' ') ||
		       (b[1] == 'A' && b[2] == 'T' && b[3] == 'C' && b[4] == 'H' && b[5] == ' ');
	case 'H':
		return b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ';
	case 'D':
		return b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' && b[5] == 'E' && b[6] == ' ';
	case 'O':
		return b[1] == 'P' && b[2] == 'T' && b[3] == 'I' && b[4] == 'O' && b[5] == 'N' && b[6] == 'S';
	case 'C':
		return b[1] == 'O' && b[2] == 'N' && b[3] == 'N' && b[4] == 'E' && b[5] == 'C' && b[6] == 'T';
	}
	return 0;
}

/* bpf_loop state of the scans over the first bytes of an HTTP request (each callback is verified once). */
struct http_scan {
	struct scan_buffer *scan;
	__u32 n;           /* bytes in scan */
	__u32 from;        /* where the scan starts */
	__u32 line_end;    /* offset of the request line's CR, 0 when not found */
	__u32 host;        /* offset of the Host value's first byte, 0 when not found */
	__u32 host_end;    /* offset just past the Host value, 0 when not found */
	__u32 headers_end; /* the blank line ending the headers was met */
};

static long http_line_end(__u32 index, struct http_scan *h)
{
	__u32 i = (h->from + index) & SCAN_MASK;

	if (i + 1 >= h->n)
		return 1;
	if (h->scan->bytes[i] == '\r' && h->scan->bytes[i + 1] == '\n') {
		h->line_end = i;
		return 1;
	}
	return 0;
}

/* "\nHost:" at the start of a header line, any case; stops at the blank line ending the headers. */
static long http_host_header(__u32 index, struct http_scan *h)
{
	__u32 i = (h->from + index) & SCAN_MASK;
	__u8 *b = &h->scan->bytes[i];

	if (i + 6 >= h->n)
		return 1;
	if (b[0] != '\n')
		return 0;
	if (b[1] == '\r') {
		h->headers_end = 1;
		return 1;
	}
	if (lower(b[1]) == 'h' && lower(b[2]) == 'o' && lower(b[3]) == 's' && lower(b[4]) == 't' && b[5] == ':') {
		h->host = i + 6;
		return 1;
	}
	return 0;
}

/* The Host value: leading blanks skipped (h->host moves past them), ends at CR or LF. */
static long http_host_value(__u32 index, struct http_scan *h)
{
	__u32 i = (h->from + index) & SCAN_MASK;
	__u8 c;

	if (i >= h->n)
		return 1;
	c = h->scan->bytes[i];
	if ((c == ' ' || c == '\t') && i == h->host) {
		h->host = i + 1;
		return 0;
	}
	if (c == '\r' || c == '\n') {
		h->host_end = i;
		return 1;
	}
	return 0;
}

/*
 * An HTTP/1.x request whose first `n` bytes are in `scan`: the request line up to its CRLF, then the value of the
 * first Host header among the scanned bytes.
 */
static __always_inline void parse_http(struct __sk_buff *skb, struct egress_socket *s, struct packet *p,
				       struct scan_buffer *scan, __u32 n)
{
	struct http_scan h = { .scan = scan, .n = n, .from = 1 };
	__u32 cut = 0;
	struct egress_event *e = reserve(skb, s, p, EGRESS_APP_HTTP);

	if (!e)
		return;
	bpf_loop(SCAN_BYTES, http_line_end, &h, 0);
	if (h.line_end == 0) {
		e->request_len = COPY_FIELD(skb, p->payload_off, n, e->request, &cut);
		e->parse = n < p->payload_len || cut ? EGRESS_PARSE_TRUNCATED : EGRESS_PARSE_FRAGMENTED;
		submit(e);
		return;
	}
	e->request_len = COPY_FIELD(skb, p->payload_off, h.line_end, e->request, &cut);
	h.from = h.line_end + 1;
	bpf_loop(SCAN_BYTES, http_host_header, &h, 0);
	if (h.host) {
		h.from = h.host;
		bpf_loop(SCAN_BYTES, http_host_value, &h, 0);
		if (h.host_end > h.host)
			e->name_len = COPY_FIELD(skb, p->payload_off + h.host, h.host_end - h.host, e->name, &cut);
	}
	if (cut || (!h.headers_end && !h.host_end && n < p->payload_len))
		e->parse = EGRESS_PARSE_TRUNCATED;
	else if (!h.headers_end && !h.host_end)
		e->parse = EGRESS_PARSE_FRAGMENTED;
	submit(e);
}

/* ---- packets ---- */

/* Reads the IP and transport headers; 0 when the packet is not IPv4/IPv6 TCP/UDP (or a later IPv4 fragment). */
static __always_inline int read_packet(struct __sk_buff *skb, struct packet *p)
{
	__u32 l4;
	__u8 ports[4];

	__builtin_memset(p, 0, sizeof(*p));
	if (skb->protocol == ETH_P_IP_BE) {
		__u8 ip[20];

		if (bpf_skb_load_bytes(skb, 0, ip, sizeof(ip)))
			return 0;
		if ((ip[6] & 0x1f) || ip[7]) /* fragment offset: not the first fragment */
			return 0;
		p->family = NET_AF_INET;
		p->protocol = ip[9];
		__builtin_memcpy(p->saddr, &ip[12], 4);
		__builtin_memcpy(p->daddr, &ip[16], 4);
		l4 = (ip[0] & 0x0f) * 4;
	} else if (skb->protocol == ETH_P_IPV6_BE) {
		__u8 ip[40];

		if (bpf_skb_load_bytes(skb, 0, ip, sizeof(ip)))
			return 0;
		p->family = NET_AF_INET6;
		p->protocol = ip[6]; /* extension headers are not followed */
		__builtin_memcpy(p->saddr, &ip[8], 16);
		__builtin_memcpy(p->daddr, &ip[24], 16);
		l4 = 40;
	} else {
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
		return 0;
	p->sport = ((__u16)ports[0] << 8) | ports[1];
	p->dport = ((__u16)ports[2] << 8) | ports[3];
	if (p->protocol == PROTO_TCP) {
		__u8 doff;

		if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1))
			return 0;
		p->payload_off = l4 + (doff >> 4) * 4;
	} else if (p->protocol == PROTO_UDP) {
		p->payload_off = l4 + 8;
	} else {
		return 0;
	}
	p->payload_len = skb->len > p->payload_off ? skb->len - p->payload_off : 0;
	return 1;
}

/* A TCP connection's first payload: TLS ClientHello, HTTP/1.x request, or DNS over TCP. */
static __always_inline void parse_first_payload(struct __sk_buff *skb, struct egress_socket *s, struct packet *p)
{
	__u32 zero = 0, n = p->payload_len;
	__u64 scan_len;
	struct scan_buffer *scan;

	if (p->dport == DNS_PORT) {
		if (n > 2) /* a 2-byte length, then the message */
			parse_dns(skb, s, p, p->payload_off + 2, n - 2);
		return;
	}
	scan = bpf_map_lookup_elem(&egress_scratch, &zero);
	if (!scan)
		return;
	if (n > SCAN_BYTES)
		n = SCAN_BYTES;
	if (n < 8)
		return;
	scan_len = n;
	asm volatile("%[n] &= %[mask]" : [n] "+r"(scan_len) : [mask] "i"(SCAN_BYTES * 2 - 1));
	if (scan_len < 8 || bpf_skb_load_bytes(skb, p->payload_off, scan->bytes, scan_len))
		return;
	if (scan->bytes[0] == 22 && scan->bytes[1] == 3 && scan->bytes[5] == 1)
		parse_tls(skb, s, p);
	else if (http_method(scan->bytes))
		parse_http(skb, s, p, scan, n);
}

SEC("cgroup_skb/egress")
int egress_parse(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct egress_socket *s;
	struct packet p;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	s = bpf_sk_storage_get(&egress_sockets, sk, 0, 0);
	if (!s)
		return 1;
	count_packet(skb, s, 1);
	if (s->state & EGRESS_SOCKET_DONE)
		return 1;
	if (!read_packet(skb, &p)) {
		s->state |= EGRESS_SOCKET_DONE;
		return 1;
	}
	if (!(s->state & EGRESS_SOCKET_TUPLE)) {
		s->family = p.family;
		s->protocol = p.protocol;
		s->sport = p.sport;
		s->dport = p.dport;
		__builtin_memcpy(s->saddr, p.saddr, 16);
		__builtin_memcpy(s->daddr, p.daddr, 16);
		s->state |= EGRESS_SOCKET_TUPLE;
	}
	if (p.protocol == PROTO_UDP) {
		if (p.dport == DNS_PORT)
			parse_dns(skb, s, &p, p.payload_off, p.payload_len); /* every query of the socket */
		else
			s->state |= EGRESS_SOCKET_DONE;
		return 1;
	}
	if (p.payload_len == 0) /* handshake and pure ACKs: wait for the first data */
		return 1;
	s->state |= EGRESS_SOCKET_DONE;
	parse_first_payload(skb, s, &p);
	return 1;
}
