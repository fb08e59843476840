/* SPDX-License-Identifier: MIT */
/*
 * The hash index under every table: one writer, wait-free readers.
 *
 * Layout. An array of 2^n buckets, each one cache line: seven slots and a
 * pointer to an overflow bucket. A slot is one 64-bit word holding the top
 * 16 bits of the object's hash (the tag) and the object's address, so a
 * reader filters on the tag and loads the pointer in the same access, and
 * touches an object only when its tag matches (1 in 65536 for a miss). An
 * object is key header, key and value in one allocation: a hit costs the
 * bucket's line and the object's, where liburcu's cds_lfht walks a chain of
 * nodes. The array grows when there are more than RTAB_GROW_LOAD objects
 * per bucket on average (overflow chains stay rare and short) and shrinks
 * below one per two buckets.
 *
 * Why readers never see a torn or freed object:
 *   1. An object is written in full before its slot is published by a
 *      release store (R2); readers load slots with acquire (A2). Objects
 *      are never written again.
 *   2. An overflow bucket is initialised, its first slot included, before
 *      the release store that links it (R3, read by A3).
 *   3. A resize builds a new array off to the side, with the same object
 *      pointers, publishes it with a release store (R1, read by A1) and
 *      retires the old array and its overflow buckets; the old array is
 *      never written after that, so a reader that still walks it sees a
 *      state that existed.
 *   4. Objects and buckets taken out are retired and freed after a grace
 *      period (rtab_common.c), so a reader inside a read-side critical
 *      section never touches freed memory.
 * Objects never move between slots of a live array, so a lookup of a key
 * that is present for the whole lookup finds it; a replace swaps one slot
 * word, so a reader sees the old object or the new one.
 *
 * Progress: a lookup reads one bucket chain of a fixed array, whose length
 * only the single writer can extend: wait-free in practice, bounded by the
 * chain. Writers are serialised by the caller (rtab_env_write_begin()).
 */
#include <stdlib.h>

#include "rtab_internal.h"

/* Grow above this many objects per bucket (of seven slots) on average. */
#define RTAB_GROW_LOAD 5
static_assert(RTAB_GROW_LOAD < RTAB_BUCKET_SLOTS, "grow before buckets fill");

static struct rtab_harr *
harr_new(struct rtab_env *env, size_t nbuckets)
{
	struct rtab_harr *a = rtab_env_alloc(env, rtab_harr_size(nbuckets), 64);

	if (a == NULL)
		return NULL;
	memset(a, 0, rtab_harr_size(nbuckets));
	a->mask = nbuckets - 1;
	return a;
}

static void
harr_release(struct rtab_env *env, struct rtab_harr *a, bool retire)
{
	size_t nb = (size_t)a->mask + 1;

	for (size_t i = 0; i < nb && a->overflow; i++) {
		struct rtab_bucket *ob = atomic_load_explicit(&a->b[i].next,
							      memory_order_relaxed);
		while (ob != NULL) {
			struct rtab_bucket *next = atomic_load_explicit(&ob->next,
									memory_order_relaxed);
			if (retire)
				rtab_env_retire(env, ob, sizeof(*ob));
			else
				rtab_env_free_now(env, ob, sizeof(*ob));
			ob = next;
		}
	}
	if (retire)
		rtab_env_retire(env, a, rtab_harr_size(nb));
	else
		rtab_env_free_now(env, a, rtab_harr_size(nb));
}

static inline uint64_t
slot_word(const struct rtab_obj *o, uint64_t hv)
{
	return (RTAB_SLOT_TAG(hv) << 48) | (uint64_t)(uintptr_t)o;
}

/* Puts @p o in the first empty slot of its bucket chain in @p a. */
static int
hash_place(struct rtab_env *env, struct rtab_harr *a, const struct rtab_obj *o,
	   uint64_t hv)
{
	struct rtab_bucket *b = &a->b[hv & a->mask];
	struct rtab_bucket *ob;

	for (;;) {
		for (unsigned i = 0; i < RTAB_BUCKET_SLOTS; i++) {
			if (atomic_load_explicit(&b->slot[i], memory_order_relaxed) == 0) {
				RTAB_YIELD();
				/* R2: pairs with A2 in rtab_hash_find(). */
				atomic_store_explicit(&b->slot[i], slot_word(o, hv),
						      memory_order_release);
				return 0;
			}
		}
		struct rtab_bucket *next = atomic_load_explicit(&b->next, memory_order_relaxed);
		if (next == NULL)
			break;
		b = next;
	}
	ob = rtab_env_alloc(env, sizeof(*ob), 64);
	if (ob == NULL)
		return -ENOMEM;
	memset(ob, 0, sizeof(*ob));
	atomic_store_explicit(&ob->slot[0], slot_word(o, hv), memory_order_relaxed);
	RTAB_YIELD();
	/* R3: pairs with A3 in rtab_hash_find(); publishes ob->slot[0] too. */
	atomic_store_explicit(&b->next, ob, memory_order_release);
	a->overflow++;
	return 0;
}

/* Moves every object into a new array of @p nbuckets and publishes it. */
static int
hash_resize(struct rtab_hash *h, size_t nbuckets)
{
	struct rtab_harr *old = atomic_load_explicit(&h->arr, memory_order_relaxed);
	struct rtab_harr *a = harr_new(h->env, nbuckets);
	size_t nold = (size_t)old->mask + 1;

	if (a == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nold; i++) {
		for (struct rtab_bucket *b = &old->b[i]; b != NULL;
		     b = atomic_load_explicit(&b->next, memory_order_relaxed)) {
			for (unsigned j = 0; j < RTAB_BUCKET_SLOTS; j++) {
				uint64_t s = atomic_load_explicit(&b->slot[j],
								  memory_order_relaxed);
				const struct rtab_obj *o;

				if (s == 0)
					continue;
				o = rtab_slot_obj(s);
				if (hash_place(h->env, a, o, rtab_hash_of(h, o)) != 0) {
					harr_release(h->env, a, false);
					return -ENOMEM;
				}
			}
		}
	}
	RTAB_YIELD();
	/* R1: pairs with A1 in rtab_hash_find(). */
	atomic_store_explicit(&h->arr, a, memory_order_release);
	harr_release(h->env, old, true);
	return 0;
}

static size_t
pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n && p < ((size_t)1 << 40))
		p <<= 1;
	return p;
}

int
rtab_hash_init(struct rtab_hash *h, struct rtab_env *env, size_t initial,
	       bool by_value)
{
	size_t nb = pow2_at_least(initial / RTAB_GROW_LOAD + 1);
	struct rtab_harr *a = harr_new(env, nb);

	if (a == NULL)
		return -ENOMEM;
	h->env = env;
	h->min_buckets = nb;
	h->by_value = by_value;
	h->no_shrink = false;
	atomic_store_explicit(&h->count, 0, memory_order_relaxed);
	atomic_store_explicit(&h->arr, a, memory_order_release);
	return 0;
}

void
rtab_hash_fini(struct rtab_hash *h)
{
	harr_release(h->env, atomic_load_explicit(&h->arr, memory_order_relaxed), false);
}

void
rtab_hash_retire(struct rtab_hash *h)
{
	harr_release(h->env, atomic_load_explicit(&h->arr, memory_order_relaxed), true);
}

int
rtab_hash_add(struct rtab_hash *h, const struct rtab_obj *o, uint64_t hv)
{
	struct rtab_harr *a = atomic_load_explicit(&h->arr, memory_order_relaxed);
	size_t nb = (size_t)a->mask + 1;
	size_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
	int rc;

	/* A failed grow is not an error: overflow chains take the object. */
	if (count + 1 > nb * RTAB_GROW_LOAD && hash_resize(h, nb * 2) == 0)
		a = atomic_load_explicit(&h->arr, memory_order_relaxed);
	rc = hash_place(h->env, a, o, hv);
	if (rc == 0)
		atomic_store_explicit(&h->count, count + 1, memory_order_relaxed);
	return rc;
}

void
rtab_hash_replace(_Atomic uint64_t *slot, const struct rtab_obj *o, uint64_t hv)
{
	RTAB_YIELD();
	/* R2: pairs with A2 in rtab_hash_find(). */
	atomic_store_explicit(slot, slot_word(o, hv), memory_order_release);
}

void
rtab_hash_maybe_shrink(struct rtab_hash *h)
{
	struct rtab_harr *a = atomic_load_explicit(&h->arr, memory_order_relaxed);
	size_t nb = (size_t)a->mask + 1, target = nb;
	size_t count = atomic_load_explicit(&h->count, memory_order_relaxed);

	if (h->no_shrink)
		return;
	while (target > h->min_buckets && count < target / 2)
		target /= 2;
	if (target < nb)
		(void)hash_resize(h, target); /* failing to shrink is harmless */
}

void
rtab_hash_clear(struct rtab_hash *h, _Atomic uint64_t *slot)
{
	size_t count = atomic_load_explicit(&h->count, memory_order_relaxed);

	RTAB_YIELD();
	atomic_store_explicit(slot, 0, memory_order_relaxed);
	atomic_store_explicit(&h->count, count - 1, memory_order_relaxed);
	rtab_hash_maybe_shrink(h);
}

int
rtab_hash_foreach(const struct rtab_hash *h, rtab_visit_fn visit, void *arg)
{
	/* A1: pairs with R1 in hash_resize(). */
	const struct rtab_harr *a = atomic_load_explicit(&h->arr, memory_order_acquire);
	size_t nb = (size_t)a->mask + 1;

	for (size_t i = 0; i < nb; i++) {
		const struct rtab_bucket *b = &a->b[i];

		do {
			for (unsigned j = 0; j < RTAB_BUCKET_SLOTS; j++) {
				/* A2: pairs with R2. */
				uint64_t s = atomic_load_explicit(&b->slot[j],
								  memory_order_acquire);
				int rc;

				if (s == 0)
					continue;
				rc = visit(rtab_slot_obj(s), arg);
				if (rc != 0)
					return rc;
			}
			/* A3: pairs with R3. */
			b = atomic_load_explicit(&b->next, memory_order_acquire);
		} while (b != NULL);
	}
	return 0;
}

void
rtab_hash_walk_slots(struct rtab_hash *h, rtab_slot_fn fn, void *arg)
{
	struct rtab_harr *a = atomic_load_explicit(&h->arr, memory_order_relaxed);
	size_t nb = (size_t)a->mask + 1;
	bool was = h->no_shrink;

	h->no_shrink = true;
	for (size_t i = 0; i < nb; i++) {
		for (struct rtab_bucket *b = &a->b[i]; b != NULL;
		     b = atomic_load_explicit(&b->next, memory_order_relaxed)) {
			for (unsigned j = 0; j < RTAB_BUCKET_SLOTS; j++) {
				uint64_t s = atomic_load_explicit(&b->slot[j],
								  memory_order_relaxed);
				if (s != 0)
					fn(h, &b->slot[j], rtab_slot_obj(s), arg);
			}
		}
	}
	h->no_shrink = was;
	rtab_hash_maybe_shrink(h);
}
