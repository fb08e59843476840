/* SPDX-License-Identifier: MIT */
/*
 * rtab_bag: many objects per key, never two identical objects (ETS bag
 * without duplicates). See rtab.h for the concurrency contract and errors.
 */
#ifndef RTAB_BAG_H
#define RTAB_BAG_H

#include "rtab.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rtab_bag;

/** Creates an empty bag. Returns NULL with errno set. Any thread. */
struct rtab_bag *rtab_bag_create(const struct rtab_params *params);

/** Frees @p b and its objects after a grace period (NULL: nothing).
 * Must NOT be called within a read-side critical section. */
void rtab_bag_free(struct rtab_bag *b);

/**
 * Inserts the object (key, value). Returns 0 if it was added, 1 if an
 * identical object was already present (nothing changes), or -EINVAL,
 * -E2BIG, -ENOMEM, -ENOSPC, -EBUSY.
 * Single writer; caller thread must be RCU-registered.
 */
int rtab_bag_insert(struct rtab_bag *b, const void *key, size_t key_len,
		    const void *value, size_t value_len);

/**
 * Calls @p visit on every object with @p key, in no particular order, until
 * it returns non-zero; returns that value, or 0 (also when none).
 * Call with rcu_read_lock held; wait-free.
 */
int rtab_bag_lookup(const struct rtab_bag *b, const void *key, size_t key_len,
		    rtab_visit_fn visit, void *arg);

/**
 * Returns the object (key, value) if present, else NULL.
 * Call with rcu_read_lock held; wait-free.
 */
const struct rtab_obj *rtab_bag_lookup_object(const struct rtab_bag *b,
					      const void *key, size_t key_len,
					      const void *value, size_t value_len);

/** Number of objects with @p key. Call with rcu_read_lock held. */
size_t rtab_bag_key_count(const struct rtab_bag *b, const void *key,
			  size_t key_len);

/**
 * Deletes every object with @p key. Returns the number deleted (0 if none),
 * or -EINVAL, -EBUSY. Single writer; caller thread must be RCU-registered.
 */
long rtab_bag_delete(struct rtab_bag *b, const void *key, size_t key_len);

/**
 * Deletes the object (key, value). Returns 0, or -ENOENT, -EINVAL, -EBUSY.
 * Single writer; caller thread must be RCU-registered.
 */
int rtab_bag_delete_object(struct rtab_bag *b, const void *key, size_t key_len,
			   const void *value, size_t value_len);

/**
 * Deletes every object for which @p match returns non-zero. Returns the
 * number deleted, or -EINVAL, -EBUSY. Single writer; caller thread must be
 * RCU-registered. @p match must not write to @p b.
 */
long rtab_bag_delete_match(struct rtab_bag *b, rtab_match_fn match, void *arg);

/**
 * Calls @p visit on every object until it returns non-zero; returns that
 * value, or 0. Call with rcu_read_lock held.
 */
int rtab_bag_foreach(const struct rtab_bag *b, rtab_visit_fn visit, void *arg);

/** Number of objects, O(1). MT-safe. */
size_t rtab_bag_count(const struct rtab_bag *b);

/** Bytes of memory the bag holds. MT-safe. */
size_t rtab_bag_memory(const struct rtab_bag *b);

#ifdef __cplusplus
}
#endif

#endif /* RTAB_BAG_H */
