/* SPDX-License-Identifier: MIT */
/*
 * rtab_oset: objects with unique keys kept in byte order (ETS ordered_set).
 * Keys compare as with memcmp, a proper prefix before the longer key.
 * Point lookups go through a hash index; order through an RCU skiplist.
 * See rtab.h for the concurrency contract and the errors.
 *
 * Replacing an object switches the hash index and each skiplist level to
 * the new object one store at a time. While one replace is in flight, a
 * reader may therefore get the new object by one path (a lookup, a walk)
 * and then the old one by another; once rtab_oset_insert() has returned,
 * every read gets the new one. (rtab_set and rtab_bag switch one slot, so
 * a reader that has seen the new object never sees the old one again.)
 */
#ifndef RTAB_OSET_H
#define RTAB_OSET_H

#include "rtab.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rtab_oset;

/** Creates an empty ordered set. Returns NULL with errno set. Any thread. */
struct rtab_oset *rtab_oset_create(const struct rtab_params *params);

/** Frees @p o and its objects after a grace period (NULL: nothing).
 * Must NOT be called within a read-side critical section. */
void rtab_oset_free(struct rtab_oset *o);

/** As rtab_set_insert(). Single writer; caller thread must be RCU-registered. */
int rtab_oset_insert(struct rtab_oset *o, const void *key, size_t key_len,
		     const void *value, size_t value_len);

/** As rtab_set_insert_new(). Single writer; caller thread must be RCU-registered. */
int rtab_oset_insert_new(struct rtab_oset *o, const void *key, size_t key_len,
			 const void *value, size_t value_len);

/** The object with @p key or NULL. Call with rcu_read_lock held; wait-free. */
const struct rtab_obj *rtab_oset_lookup(const struct rtab_oset *o,
					const void *key, size_t key_len);

/** As rtab_set_delete(). Single writer; caller thread must be RCU-registered. */
int rtab_oset_delete(struct rtab_oset *o, const void *key, size_t key_len);

/** As rtab_set_delete_match(). Single writer; caller thread must be RCU-registered. */
long rtab_oset_delete_match(struct rtab_oset *o, rtab_match_fn match, void *arg);

/** The object with the smallest key, or NULL. Call with rcu_read_lock held. */
const struct rtab_obj *rtab_oset_first(const struct rtab_oset *o);

/** The object with the largest key, or NULL. Call with rcu_read_lock held. */
const struct rtab_obj *rtab_oset_last(const struct rtab_oset *o);

/** The object with the smallest key > @p key (which need not be present),
 * or NULL. Call with rcu_read_lock held. */
const struct rtab_obj *rtab_oset_next(const struct rtab_oset *o,
				      const void *key, size_t key_len);

/** The object with the largest key < @p key, or NULL.
 * Call with rcu_read_lock held. */
const struct rtab_obj *rtab_oset_prev(const struct rtab_oset *o,
				      const void *key, size_t key_len);

/**
 * The successor of @p cur, an object this reader got from @p o in the same
 * read-side critical section; O(1). Keys come strictly increasing, and a key
 * present for the whole walk is never skipped. Call with rcu_read_lock held.
 */
const struct rtab_obj *rtab_oset_next_obj(const struct rtab_oset *o,
					  const struct rtab_obj *cur);

/**
 * What a scan covers: keys k with lo <= k < hi that start with prefix.
 * A NULL lo means from the first key, a NULL hi no upper bound, a NULL or
 * empty prefix any key.
 */
struct rtab_range {
	const void *lo;
	size_t lo_len;
	const void *hi;
	size_t hi_len;
	const void *prefix;
	size_t prefix_len;
};

/**
 * Where a scan stopped, so that the next call goes on from there (a new
 * read-side critical section may come between calls). Initialise with
 * rtab_cursor_init().
 */
struct rtab_cursor {
	uint32_t key_len;     /**< length of the last key returned */
	uint8_t started;      /**< a key has been returned */
	uint8_t done;         /**< no key of the range is left */
	unsigned char key[RTAB_KEY_MAX];
};

static inline void
rtab_cursor_init(struct rtab_cursor *c)
{
	c->key_len = 0;
	c->started = 0;
	c->done = 0;
}

/**
 * Stores in out[] up to @p limit objects of @p range, in key order, after the
 * cursor's last key, and moves the cursor. Returns how many were stored
 * (0 and cursor->done once the range is exhausted), or -EINVAL.
 * Call with rcu_read_lock held; the objects are valid until it is released.
 */
int rtab_oset_scan(const struct rtab_oset *o, const struct rtab_range *range,
		   struct rtab_cursor *cursor, const struct rtab_obj *out[],
		   unsigned limit);

/** Calls @p visit on every object in key order until it returns non-zero;
 * returns that value, or 0. Call with rcu_read_lock held. */
int rtab_oset_foreach(const struct rtab_oset *o, rtab_visit_fn visit, void *arg);

/** Number of objects, O(1). MT-safe. */
size_t rtab_oset_count(const struct rtab_oset *o);

/** Bytes of memory the ordered set holds. MT-safe. */
size_t rtab_oset_memory(const struct rtab_oset *o);

#ifdef __cplusplus
}
#endif

#endif /* RTAB_OSET_H */
