/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Path matching against the rule maps, shared by bpf_file.c and bpf_exec_policy.c (each object has its own maps
 * and passes them in). Everything is read from the syscall's user-memory argument; nothing reads kernel memory.
 *
 * Order, first rule whose ops contain `op` (and, for a scoped rule, whose scope covers the task) wins:
 *   1. absolute path: the exact map (key = the path and its NUL);
 *   2. absolute path: the prefix map (key = the prefix without NUL; the longest stored prefix wins, so
 *      overlapping prefixes with different ops must be merged by user space). When the longest is host-only
 *      (RULE_FLAG_HOST_ONLY) and the task is a pod's, or pods-only (RULE_FLAG_PODS_ONLY) and it is not, the
 *      longest prefix for all processes decides (the prefix_all map, which holds only those);
 *   1b. a relative path, when the syscall resolves it against the cwd and the kernel knows the cwd (cwd_by_tgid:
 *      learnt at chdir, inherited at fork) and both are plain (path_is_plain): cwd + '/' + path in the exact map,
 *      then the prefix map, as an absolute path would be (FILE_FLAG_MATCH_CWD);
 *   3. any path the first two did not match: the name map (key = last path component and its NUL), which user space fills
 *      with the basename of every watched path. Catches relative paths (`cd /etc && cat shadow`, openat on a
 *      directory fd) and absolute paths the string maps cannot see are the watched file (`/etc/./shadow`,
 *      `/tmp/link-to-etc/shadow`). Flagged NEEDS_RESOLUTION: user space resolves against its tracked cwd/fds and
 *      re-matches; the kernel kills on such a match only when the rule says RULE_FLAG_KILL_ON_NAME.
 * All three are LPM tries (struct path_prefix_key): a lookup compares only the key's prefixlen bits, so its cost
 * follows the string, not FILE_PATH_SIZE (a hash map would hash all 256 key bytes, twice per open: measured at
 * about twice the cost of the whole program). The exact and name maps store the NUL too, so only the whole
 * string matches them. A path of FILE_PATH_SIZE - 1 bytes or more cannot be an exact match (rules are shorter).
 * A path longer than FILE_PATH_SIZE - 1 that matched nothing is flagged NEEDS_RESOLUTION without a rule (long
 * non-canonical spellings cannot slip past). Suffix rules are not matched in the kernel: user space only.
 */
#ifndef STINGER_FILE_MATCH_H
#define STINGER_FILE_MATCH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stinger_file.h"
#include "stinger_maps.h"

#define AT_FDCWD -100

/* Per-CPU work area of one lookup: the LPM key (path after a u32 prefixlen) doubles as the exact-map key. */
struct match_scratch {
	struct path_prefix_key key;
	struct path_prefix_key name;
	struct path_prefix_key full;         /* a relative path joined to the cwd (join_cwd) */
	char joined[2 * FILE_PATH_SIZE];     /* where the join is built: cwd, '/', then up to FILE_PATH_SIZE read */
};

struct match {
	const struct file_rule *rule; /* NULL: no rule matched */
	__u32 flags;                  /* FILE_FLAG_* */
	__u32 len;                    /* bytes of the path read, NUL excluded */
};

/* The ancestor walk runs only for a scoped rule that matched the path: other lookups pay nothing for it. */
static __always_inline int rule_applies(const struct file_rule *rule, __u32 op)
{
	if (!rule || !(rule->ops & op))
		return 0;
	return !rule_scope_excludes_current(rule->flags, RULE_FLAG_HOST_ONLY, RULE_FLAG_PODS_ONLY);
}

/* 1 when the byte is `ch`, else 0, without a branch (see path_last_slash). */
static __always_inline __u64 byte_is(__u8 c, __u8 ch)
{
	__u64 x = c ^ ch, top;

	top = x | -x;
	asm volatile("" : "+r"(top));
	return (top >> 63) ^ 1;
}

/*
 * Whether the first `len` bytes of a path are plain: no "." or ".." component, no "//", no trailing '/' (except the
 * path "/"), so that joining and prefix matching on the string mean what they mean on the file system. `relative`:
 * the path is read as if a '/' preceded it. A global function with branch-free arithmetic in its loop, for the
 * verifier, as path_last_slash.
 */
__noinline int path_is_plain(struct path_key *key, __u32 len, __u32 relative)
{
	__u64 bad = 0, s1 = relative ? 1 : 0, s2 = 0, s3 = 0, d1 = 0, d2 = 0;

	if (!key || len == 0)
		return 0;
	for (int i = 0; i < FILE_PATH_SIZE - 1; i++) {
		__u64 s0, d0;

		if (i >= len)
			break;
		s0 = byte_is(key->path[i], '/');
		d0 = byte_is(key->path[i], '.');
		bad |= s0 & s1;            /* "//" */
		bad |= s0 & d1 & s2;       /* "/./" */
		bad |= s0 & d1 & d2 & s3;  /* "/../" */
		asm volatile("" : "+r"(bad));
		s3 = s2;
		s2 = s1;
		s1 = s0;
		d2 = d1;
		d1 = d0;
	}
	bad |= d1 & s2;                    /* ends in "/." */
	bad |= d1 & d2 & s3;               /* ends in "/.." */
	bad |= s1 & (len > 1 || relative); /* ends in '/' */
	return !bad;
}

/*
 * Joins the relative `user_path` to the calling process's cwd (cwd_by_tgid) in s->joined, NUL-terminated; one leading
 * "./" is dropped (`./tool`, `cat ./shadow`: the rest is read again into s->name, which the name lookup rewrites
 * later anyway). Returns the joined length (NUL excluded), or -1: no known cwd, a path that is not plain
 * (given_len bytes already in s->key.path), or a result of FILE_PATH_SIZE - 1 bytes or more.
 */
static __always_inline long join_cwd(struct match_scratch *s, const char *user_path, __u32 given_len)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct cwd_entry *cwd = bpf_map_lookup_elem(&cwd_by_tgid, &tgid);
	__u32 off;
	long n;

	if (!cwd || cwd->len == 0 || cwd->len > FILE_PATH_SIZE - 2)
		return -1;
	if (s->key.path[0] == '.' && s->key.path[1] == '/') {
		user_path += 2;
		n = bpf_probe_read_user_str(s->name.path, FILE_PATH_SIZE, user_path);
		if (n <= 1 || !path_is_plain((struct path_key *)s->name.path, n - 1, 1))
			return -1;
	} else if (!path_is_plain((struct path_key *)s->key.path, given_len, 1)) {
		return -1;
	}
	__builtin_memcpy(s->joined, cwd->path, FILE_PATH_SIZE);
	off = cwd->len;
	if (off != 1) { /* "/" + "x" is "/x" */
		s->joined[off & (2 * FILE_PATH_SIZE - 1)] = '/';
		off++;
	}
	off &= FILE_PATH_SIZE - 1;
	n = bpf_probe_read_user_str(&s->joined[off], FILE_PATH_SIZE, user_path);
	if (n <= 0 || off + n - 1 > FILE_PATH_SIZE - 2)
		return -1;
	return off + n - 1;
}

/*
 * Index of the last '/' in a NUL-padded path, or -1. A global (non-static) function: the verifier checks it once
 * on its own instead of once per caller state (inlined, the 255-step loop times the callers' distinct states
 * exceeds the 1M-instruction budget). The select in the loop body is arithmetic for the same reason (one verifier
 * state per index, not one per possible last_slash); the loop stops at the string's length.
 */
__noinline int path_last_slash(struct path_key *key, __u32 len)
{
	__s64 last_slash = -1;

	if (!key)
		return -1;
	for (int i = 0; i < FILE_PATH_SIZE - 1; i++) {
		__u64 x, top, nonzero, mask;

		if (i >= len)
			break;
		x = (__u8)key->path[i] ^ '/';

		/* The empty asm statements hide the values from clang, which would turn the arithmetic back into branches. */
		top = x | -x; /* top bit set unless x == 0 */
		asm volatile("" : "+r"(top));
		nonzero = top >> 63; /* 0 when the byte is '/' */
		asm volatile("" : "+r"(nonzero));
		mask = nonzero - 1; /* all ones when the byte is '/' */
		asm volatile("" : "+r"(mask));
		last_slash ^= (last_slash ^ i) & mask;
	}
	return last_slash;
}

/*
 * One object's rule maps (DECLARE_RULE_MAPS): prefix_all holds the prefix rules for all processes only. Built at
 * each call site by RULE_MAPS(set); match_path is inlined, so the map references stay constants the loader
 * relocates (map pointers kept in global data would not be).
 */
struct rule_maps {
	void *exact;
	void *prefix;
	void *prefix_all;
	void *name;
	void *filter;
};

#define RULE_MAPS(set)                                                                                 \
	(&(struct rule_maps){ .exact = &set##_rules_exact, .prefix = &set##_rules_prefix,              \
			      .prefix_all = &set##_rules_prefix_all, .name = &set##_rules_name,        \
			      .filter = &set##_rules_filter })

/* Bit `bit` (0..255) of a 256-bit set. */
static __always_inline __u64 filter_bit(const __u64 *words, __u32 bit)
{
	return (words[(bit >> 6) & 3] >> (bit & 63)) & 1;
}

/*
 * Reads `user_path` into s->key.path and looks it up. On return s->key.path holds the path as given (NUL-padded).
 * m->flags says how it matched; when nothing matched and the path needs no resolution, the caller reports nothing.
 */
/* The prefix rule for a path in `key`, past a scoped one that passes over the task (see the order above). */
static __always_inline const struct file_rule *prefix_rule(struct rule_maps *maps, struct path_prefix_key *key, __u32 op)
{
	const struct file_rule *rule = bpf_map_lookup_elem(maps->prefix, key);

	if (rule && (rule->ops & op) && rule_scope_excludes_current(rule->flags, RULE_FLAG_HOST_ONLY, RULE_FLAG_PODS_ONLY))
		rule = bpf_map_lookup_elem(maps->prefix_all, key);
	return rule;
}

/*
 * Whether a relative path of `len` bytes (in s->key.path) joined to the caller's cwd could match an exact or a prefix
 * rule, by the filter: the joined length (one leading "./" dropped, as join_cwd does) among the exact rules' lengths,
 * or the joined path's second byte among the prefixes'. Known from the cwd entry alone, before the join's copies;
 * false when the cwd is not known (join_cwd would fail too).
 */
static __always_inline int joined_may_match(const struct match_scratch *s, const struct path_filter *filter, __u32 len)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct cwd_entry *cwd = bpf_map_lookup_elem(&cwd_by_tgid, &tgid);
	__u32 rest = 0, total;
	__u8 second;

	if (!cwd || cwd->len == 0 || cwd->len > FILE_PATH_SIZE - 2)
		return 0;
	if (s->key.path[0] == '.' && s->key.path[1] == '/')
		rest = 2;
	if (cwd->len == 1) { /* "/" + "x" is "/x" */
		total = 1 + len - rest;
		second = s->key.path[rest & 3];
	} else {
		total = cwd->len + 1 + len - rest;
		second = cwd->path[1];
	}
	if (total < FILE_PATH_SIZE) {
		/* Bounded where the verifier sees it: clang would drop the mask after the comparison above. */
		total &= FILE_PATH_SIZE - 1;
		asm volatile("" : "+r"(total));
		if (filter_bit(filter->exact_len, total))
			return 1;
	}
	return filter_bit(filter->prefix_first, second);
}

/* A relative path joined to the cwd (join_cwd), looked up as an absolute one. Returns 1 when a rule matched. */
static __always_inline int match_joined(struct match_scratch *s, const char *user_path, struct rule_maps *maps, __u32 op,
					const struct path_filter *filter, struct match *m)
{
	const struct file_rule *rule;
	long total;

	if (filter && !joined_may_match(s, filter, m->len))
		return 0;
	total = join_cwd(s, user_path, m->len);

	if (total < 0)
		return 0;
	__builtin_memcpy(s->full.path, s->joined, FILE_PATH_SIZE);
	s->full.prefixlen = (total + 1) * 8;
	rule = bpf_map_lookup_elem(maps->exact, &s->full);
	if (rule_applies(rule, op)) {
		m->rule = rule;
		m->flags |= FILE_FLAG_MATCH_EXACT | FILE_FLAG_MATCH_CWD;
		return 1;
	}
	s->full.prefixlen = total * 8;
	rule = prefix_rule(maps, &s->full, op);
	if (rule_applies(rule, op)) {
		m->rule = rule;
		m->flags |= FILE_FLAG_MATCH_PREFIX | FILE_FLAG_MATCH_CWD;
		return 1;
	}
	return 0;
}

/*
 * Whether the path's last component may be a name rule's, by the lengths the filter lists: some name of length n
 * whose first byte is in the filter and follows a '/' n bytes before the end (or starts the path). A false answer
 * is certain (a matching name's length is listed, and the '/' before it is the last); a true one is checked in full.
 */
static __always_inline int name_may_match(const struct match_scratch *s, const struct path_filter *filter, __u32 len)
{
	for (int k = 0; k < NAME_LENGTHS_MAX; k++) {
		__u32 n;
		__u8 first;

		if (k >= filter->name_length_count)
			break;
		n = filter->name_lengths[k];
		if (n == 0 || n > len)
			continue;
		if (n < len && s->key.path[(len - n - 1) & (FILE_PATH_SIZE - 1)] != '/')
			continue;
		first = s->key.path[(len - n) & (FILE_PATH_SIZE - 1)];
		if ((filter->name[n & 255] >> (first & 63)) & 1)
			return 1;
	}
	return 0;
}

/* `at_cwd`: the syscall resolves a relative path against the cwd (dirfd AT_FDCWD), so it may be joined to it. */
static __always_inline void match_path(struct match_scratch *s, const char *user_path, struct rule_maps *maps, __u32 op,
				       int at_cwd, struct match *m)
{
	const struct file_rule *rule;
	const struct path_filter *filter;
	__u32 zero = 0;
	long n;
	__s64 last_slash = -1;

	m->rule = NULL;
	m->flags = 0;
	m->len = 0;
	__builtin_memset(s->key.path, 0, sizeof(s->key.path));
	n = bpf_probe_read_user_str(s->key.path, sizeof(s->key.path), user_path);
	if (n <= 0) {
		m->flags = FILE_FLAG_PATH_FAULT;
		return;
	}
	m->len = n - 1;
	if (n == sizeof(s->key.path))
		m->flags |= FILE_FLAG_PATH_TRUNCATED;
	filter = bpf_map_lookup_elem(maps->filter, &zero);
	if (filter && !filter->valid)
		filter = NULL;
	if (s->key.path[0] != '/') {
		m->flags |= FILE_FLAG_RELATIVE;
		if (at_cwd && !(m->flags & FILE_FLAG_PATH_TRUNCATED) && match_joined(s, user_path, maps, op, filter, m))
			return;
	} else {
		if (!(m->flags & FILE_FLAG_PATH_TRUNCATED) && (!filter || filter_bit(filter->exact_len, m->len))) {
			s->key.prefixlen = (m->len + 1) * 8; /* the NUL included: only the whole string matches */
			rule = bpf_map_lookup_elem(maps->exact, &s->key);
		} else {
			rule = NULL;
		}
		if (rule_applies(rule, op)) {
			m->rule = rule;
			m->flags |= FILE_FLAG_MATCH_EXACT;
			return;
		}
		s->key.prefixlen = m->len * 8;
		rule = !filter || filter_bit(filter->prefix_first, (__u8)s->key.path[1]) ? prefix_rule(maps, &s->key, op) : NULL;
		if (rule_applies(rule, op)) {
			m->rule = rule;
			m->flags |= FILE_FLAG_MATCH_PREFIX;
			return;
		}
	}
	if (m->flags & FILE_FLAG_PATH_TRUNCATED) {
		m->flags |= FILE_FLAG_NEEDS_RESOLUTION;
		return;
	}
	/* The scan for the last '/' below is most of an unwatched open's cost: first, whether any name rule could apply. */
	if (filter && (filter->name_length_count == 0 ||
		       (filter->name_length_count <= NAME_LENGTHS_MAX && !name_may_match(s, filter, m->len))))
		return;
	last_slash = path_last_slash((struct path_key *)s->key.path, m->len);
	if (filter) {
		/* No name entry of this length starts with this byte: nothing to look up (nor read again). */
		__u32 start = (__u32)(last_slash + 1) & (FILE_PATH_SIZE - 1);
		__u8 first = s->key.path[start];

		if (!((filter->name[(m->len - start) & 255] >> (first & 63)) & 1))
			return;
	}
	if (last_slash < 0) {
		s->key.prefixlen = (m->len + 1) * 8;
		rule = bpf_map_lookup_elem(maps->name, &s->key);
	} else {
		/* Not sent anywhere, so not cleared: the lookup compares only prefixlen bits. */
		n = bpf_probe_read_user_str(s->name.path, sizeof(s->name.path), user_path + last_slash + 1);
		if (n <= 0)
			return;
		s->name.prefixlen = n * 8;
		rule = bpf_map_lookup_elem(maps->name, &s->name);
	}
	if (rule_applies(rule, op)) {
		m->rule = rule;
		m->flags |= FILE_FLAG_MATCH_NAME | FILE_FLAG_NEEDS_RESOLUTION;
	}
}

/* Whether a match is one the kernel acts on: a KILL rule, matched by path, or by name when the rule allows it. */
static __always_inline int match_kills(const struct match *m)
{
	if (!m->rule || m->rule->action != RULE_ACTION_KILL)
		return 0;
	if (m->flags & (FILE_FLAG_MATCH_EXACT | FILE_FLAG_MATCH_PREFIX))
		return 1;
	return (m->flags & FILE_FLAG_MATCH_NAME) && (m->rule->flags & RULE_FLAG_KILL_ON_NAME);
}

/* Whether the match is reported at all. */
static __always_inline int match_reported(const struct match *m)
{
	return m->rule || (m->flags & FILE_FLAG_NEEDS_RESOLUTION);
}

/* A path rule map: an LPM trie of struct path_prefix_key -> struct file_rule (see the order above). */
#define PATH_RULE_MAP(map_name)                                      \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                 \
		__uint(max_entries, 4096);                           \
		__uint(map_flags, BPF_F_NO_PREALLOC);                \
		__type(key, struct path_prefix_key);                 \
		__type(value, struct file_rule);                     \
	} map_name SEC(".maps")

/* A rule set's struct path_filter (one entry; see match_path). */
#define PATH_FILTER_MAP(map_name)                                    \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_ARRAY);                    \
		__uint(max_entries, 1);                              \
		__type(key, __u32);                                  \
		__type(value, struct path_filter);                   \
	} map_name SEC(".maps")

#define DECLARE_RULE_MAPS(prefix)                                    \
	PATH_RULE_MAP(prefix##_rules_exact);                         \
	PATH_RULE_MAP(prefix##_rules_prefix);                        \
	PATH_RULE_MAP(prefix##_rules_prefix_all);                    \
	PATH_RULE_MAP(prefix##_rules_name);                          \
	PATH_FILTER_MAP(prefix##_rules_filter);                      \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);             \
		__uint(max_entries, 1);                              \
		__type(key, __u32);                                  \
		__type(value, struct match_scratch);                 \
	} prefix##_match_scratch SEC(".maps")

/*
 * Matching a path the kernel resolved (bpf_file_lsm.c). That hook is a sleepable program (bpf_d_path is allowed in
 * sleepable LSM hooks only) and sleepable programs may not use LPM tries, so user space (libs/bpf path-rules.ts)
 * keeps the exact and prefix rules a second time in hash maps with the same keys (struct path_prefix_key, zero past
 * the prefixlen bits), and the filter's prefix_len bits say which prefix lengths to try (lsm_match.h
 * resolved_rule). The resolved path is absolute and canonical, so the name map and the cwd join have no part there.
 */
#define RESOLVED_RULE_MAP(map_name)                                  \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_HASH);                     \
		__uint(max_entries, 4096);                           \
		__type(key, struct path_prefix_key);                 \
		__type(value, struct file_rule);                     \
	} map_name SEC(".maps")

#endif /* STINGER_FILE_MATCH_H */
