/* SPDX-License-Identifier: MIT */
/*
 * rcu_tables: ETS-like tables on userspace RCU.
 *
 * Three table types share this header's object model and parameters:
 *   rtab_set.h   unique keys, hashed
 *   rtab_bag.h   many objects per key, never two identical objects
 *   rtab_oset.h  unique keys in byte order, with range and prefix scans
 *
 * Concurrency contract (every table type):
 *   - Any number of readers on RCU-registered threads (the flavour given in
 *     rtab_params, urcu-memb by default) call the lookup, scan and iteration
 *     functions inside a read-side critical section. Readers take no lock,
 *     allocate nothing and finish in a bounded number of steps (wait-free).
 *   - One writer per table at a time. A second thread entering a write
 *     function while another is inside one gets -EBUSY and changes nothing;
 *     writers that share a table must serialise among themselves. Write
 *     functions must NOT be called within a read-side critical section:
 *     when memory runs short they wait for a grace period themselves.
 *   - Objects are immutable once published: an update publishes a new object
 *     and retires the old one, so a reader sees the old or the new object,
 *     never a mix. Retired memory is freed after a grace period.
 *   - A pointer returned by a lookup is valid until the reader leaves its
 *     read-side critical section.
 *
 * Errors are negative errno values: -EINVAL (NULL where an object is needed),
 * -E2BIG (key over RTAB_KEY_MAX or value over RTAB_VALUE_MAX), -ENOMEM
 * (allocation failed), -ENOSPC (max_objects reached), -EEXIST, -ENOENT,
 * -EBUSY (a second concurrent writer). A failed call leaves the table as it
 * was.
 */
#ifndef RTAB_H
#define RTAB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rcu_flavor_struct;

/** Longest key, in bytes. */
#define RTAB_KEY_MAX 1024
/** Longest value, in bytes. */
#define RTAB_VALUE_MAX 65536

/**
 * An object: a key and a value, both byte strings. Read-only for users;
 * the key bytes follow the header and the value starts at the next multiple
 * of 8 after the key, so a value may hold an aligned struct.
 */
struct rtab_obj {
	uint64_t hash;       /**< XXH3 of the key with the table's seed */
	uint16_t key_len;
	uint16_t flags;      /**< private to the library */
	uint32_t value_len;
};

/** Key bytes of @p o. Any context in which @p o is valid. */
static inline const void *
rtab_obj_key(const struct rtab_obj *o)
{
	return (const void *)(o + 1);
}

/** Key length of @p o. */
static inline size_t
rtab_obj_key_len(const struct rtab_obj *o)
{
	return o->key_len;
}

/** Value bytes of @p o (8-byte aligned). */
static inline const void *
rtab_obj_value(const struct rtab_obj *o)
{
	return (const void *)((const unsigned char *)(o + 1) +
			      (((size_t)o->key_len + 7u) & ~(size_t)7u));
}

/** Value length of @p o. */
static inline size_t
rtab_obj_value_len(const struct rtab_obj *o)
{
	return o->value_len;
}

/**
 * Memory for a table. Both functions must be MT-safe: free is called from
 * the RCU callback thread after a grace period.
 */
struct rtab_allocator {
	/** Returns @p size bytes aligned to @p align (a power of two), or NULL. */
	void *(*alloc)(void *arg, size_t size, size_t align);
	void (*free)(void *arg, void *ptr);
	void *arg;
};

/** Parameters of rtab_set_create(), rtab_bag_create(), rtab_oset_create().
 * Zero in any field means its default. */
struct rtab_params {
	const char *name;          /**< for messages; default "rtab" */
	uint64_t seed;             /**< XXH3 seed; default: random */
	size_t initial_size;       /**< objects to size for; default: small */
	size_t max_objects;        /**< inserts beyond it get -ENOSPC; default: no limit */
	/** RCU flavour of readers and of deferred frees; default urcu-memb. */
	const struct rcu_flavor_struct *flavor;
	/** Memory; default: the C library's aligned_alloc and free. */
	const struct rtab_allocator *allocator;
};

/** Visit callback: return 0 to go on, anything else to stop (returned). */
typedef int (*rtab_visit_fn)(const struct rtab_obj *o, void *arg);

/** Match callback of the delete_match functions: non-zero deletes @p o. */
typedef int (*rtab_match_fn)(const struct rtab_obj *o, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* RTAB_H */
