/* SPDX-License-Identifier: MIT */
/*
 * rtab_set: a hash table of objects with unique keys (ETS set).
 * See rtab.h for the concurrency contract and the errors.
 */
#ifndef RTAB_SET_H
#define RTAB_SET_H

#include "rtab.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rtab_set;

/**
 * Creates an empty set. Returns NULL with errno set (EINVAL, ENOMEM).
 * Any thread.
 */
struct rtab_set *rtab_set_create(const struct rtab_params *params);

/**
 * Frees @p s and every object in it, after a grace period (NULL: nothing).
 * Must NOT be called within a read-side critical section; no reader may use
 * @p s once this is called.
 */
void rtab_set_free(struct rtab_set *s);

/**
 * Inserts an object, replacing the object with the same key.
 * Returns 0 if the key was new, 1 if an object was replaced, or
 * -EINVAL, -E2BIG, -ENOMEM, -ENOSPC, -EBUSY.
 * Single writer; caller thread must be RCU-registered.
 */
int rtab_set_insert(struct rtab_set *s, const void *key, size_t key_len,
		    const void *value, size_t value_len);

/**
 * Inserts an object unless its key is present.
 * Returns 0, or -EEXIST, -EINVAL, -E2BIG, -ENOMEM, -ENOSPC, -EBUSY.
 * Single writer; caller thread must be RCU-registered.
 */
int rtab_set_insert_new(struct rtab_set *s, const void *key, size_t key_len,
			const void *value, size_t value_len);

/**
 * Returns the object with @p key, or NULL if none (or bad arguments).
 * Call with rcu_read_lock held; wait-free.
 */
const struct rtab_obj *rtab_set_lookup(const struct rtab_set *s,
				       const void *key, size_t key_len);

/**
 * Looks up @p n keys at once, overlapping their memory accesses.
 * objs[i] receives the object of keys[i] or NULL. Returns the number found.
 * Call with rcu_read_lock held; wait-free.
 */
unsigned rtab_set_lookup_bulk(const struct rtab_set *s,
			      const void *const keys[], const uint32_t key_lens[],
			      unsigned n, const struct rtab_obj *objs[]);

/**
 * Deletes the object with @p key. Returns 0, or -ENOENT, -EINVAL, -EBUSY.
 * Single writer; caller thread must be RCU-registered.
 */
int rtab_set_delete(struct rtab_set *s, const void *key, size_t key_len);

/**
 * Deletes every object for which @p match returns non-zero.
 * Returns the number deleted, or -EINVAL, -EBUSY.
 * Single writer; caller thread must be RCU-registered. @p match must not
 * write to @p s.
 */
long rtab_set_delete_match(struct rtab_set *s, rtab_match_fn match, void *arg);

/**
 * Calls @p visit on every object, in no particular order, until it returns
 * non-zero; returns that value, or 0. An object present for the whole
 * iteration is visited exactly once.
 * Call with rcu_read_lock held.
 */
int rtab_set_foreach(const struct rtab_set *s, rtab_visit_fn visit, void *arg);

/** Number of objects, O(1). MT-safe. */
size_t rtab_set_count(const struct rtab_set *s);

/** Bytes of memory the set holds (objects, buckets, pending frees). MT-safe. */
size_t rtab_set_memory(const struct rtab_set *s);

#ifdef __cplusplus
}
#endif

#endif /* RTAB_SET_H */
