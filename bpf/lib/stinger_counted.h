/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Counted hash maps: a hash map fronted by an upper bound on its entries, so the syscall paths that nearly always
 * find nothing (the exit of an unwatched open, the close or read of an untracked descriptor) skip the hash lookup
 * while the map is empty; reading the bound is an array lookup the JIT inlines.
 *
 * Contract: every insert into and delete from the map goes through counted_update / counted_delete. The bound rises
 * after each insert that succeeded and falls after each delete that removed an entry, so it never falls below the
 * entries; an overwrite of an existing key or an LRU eviction leaves it above them, which costs lookups that find
 * nothing, never a missed entry. A thread that inserted and then looks up sees its own increment (program order),
 * and another thread can only look up a key it learnt of through the inserter, after the insert.
 */
#ifndef STINGER_COUNTED_H
#define STINGER_COUNTED_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* The bound of one counted map: a one-entry array of __u64. */
#define COUNTED_BOUND_MAP(map_name)                                  \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_ARRAY);                    \
		__uint(max_entries, 1);                              \
		__type(key, __u32);                                  \
		__type(value, __u64);                                \
	} map_name SEC(".maps")

static __always_inline __u64 *counted_bound(void *bound_map)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(bound_map, &zero);
}

static __always_inline long counted_update(void *map, const void *key, const void *value, __u64 flags, void *bound_map)
{
	__u64 *bound = counted_bound(bound_map);
	long err = bpf_map_update_elem(map, key, value, flags);

	if (!err && bound)
		__sync_fetch_and_add(bound, 1);
	return err;
}

static __always_inline long counted_delete(void *map, const void *key, void *bound_map)
{
	__u64 *bound = counted_bound(bound_map);
	long err = bpf_map_delete_elem(map, key);

	if (!err && bound)
		__sync_fetch_and_add(bound, -1);
	return err;
}

/* The entry for `key`, or NULL; no hash lookup while the bound says the map is empty. */
static __always_inline void *counted_lookup(void *map, const void *key, void *bound_map)
{
	__u64 *bound = counted_bound(bound_map);

	if (bound && *bound == 0)
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

#endif /* STINGER_COUNTED_H */
