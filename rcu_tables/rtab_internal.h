/* SPDX-License-Identifier: MIT */
/*
 * Private to rcu_tables: what the three table types share.
 *
 *   struct rtab_env   parameters, memory accounting, deferred frees and the
 *                     single-writer guard of one table
 *   struct rtab_hash  the cache-conscious hash index (rtab_hash.c) that the
 *                     set, the bag (outer and inner) and the ordered set's
 *                     point lookups are built on
 */
#ifndef RTAB_INTERNAL_H
#define RTAB_INTERNAL_H

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "rtab.h"
#include "rtab_tsan.h"

/* ---------------------------------------------------------------- debug */

#ifdef RTAB_DEBUG_YIELD
/* Stress builds: yield at read and write sites with this probability. */
extern unsigned rtab_debug_yield_permille;
void rtab_debug_yield(void);
#define RTAB_YIELD() rtab_debug_yield()
#else
#define RTAB_YIELD() do { } while (0)
#endif

#define RTAB_LIKELY(x) __builtin_expect(!!(x), 1)
#define RTAB_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---------------------------------------------------------------- objects */

/* rtab_obj.flags: the low bits hold an ordered-set node's skiplist level. */
#define RTAB_OBJ_F_LEVEL_MASK 0x001fu
/* A bag's holder object: its value is a struct rtab_hash * of the key's
 * objects (see rtab_bag.c). */
#define RTAB_OBJ_F_HOLDER 0x0100u

static inline size_t
rtab_obj_size(size_t key_len, size_t value_len)
{
	return sizeof(struct rtab_obj) + ((key_len + 7u) & ~(size_t)7u) + value_len;
}

/* Byte order of keys: memcmp, then the shorter first. */
static inline int
rtab_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/*
 * Equality of @p n bytes, inline: a lookup compares one short key per hit,
 * where a call to the C library's memcmp cost more than the compare (8-byte
 * words, the last one overlapping; unaligned loads through memcpy).
 * Neither pointer is read when @p n is 0, so either may be NULL then.
 */
static inline bool
rtab_bytes_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	uint64_t x, y;
	uint32_t u, v;

	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, p + i, 8);
			memcpy(&y, q + i, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, p + n - 8, 8);
		memcpy(&y, q + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, p, 4);
		memcpy(&v, q, 4);
		if (u != v)
			return false;
		memcpy(&u, p + n - 4, 4);
		memcpy(&v, q + n - 4, 4);
		return u == v;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i])
			return false;
	return true;
}

static inline bool
rtab_obj_key_eq(const struct rtab_obj *o, const void *key, size_t key_len)
{
	return o->key_len == key_len && rtab_bytes_eq(rtab_obj_key(o), key, key_len);
}

static inline bool
rtab_obj_value_eq(const struct rtab_obj *o, const void *value, size_t value_len)
{
	return o->value_len == value_len && rtab_bytes_eq(rtab_obj_value(o), value, value_len);
}

/* On a public lookup: inline everything it calls, XXH3's short-key path
 * included (the compiler keeps XXH3_64bits_withSeed out of line). */
#define RTAB_LOOKUP_FN __attribute__((flatten))

/* -------------------------------------------------------- table environment */

/* Pointers retired by the writer, freed together after one grace period. */
#define RTAB_RETIRE_BATCH 255

struct rtab_retired {
	void *ptr;
	size_t size;
};

struct rtab_env;

struct rtab_retire_batch {
	struct rcu_head rcu;
	struct rtab_env *env;
	unsigned n;
	struct rtab_retired item[RTAB_RETIRE_BATCH];
};

struct rtab_env {
	const struct rcu_flavor_struct *flavor;
	struct rtab_allocator alloc;
	const char *name;
	uint64_t seed;
	size_t max_objects;
	_Atomic size_t bytes;     /* allocated and not yet freed */
	_Atomic int writing;      /* the single-writer guard */
	struct rtab_retire_batch *batch;  /* filling; never NULL after init */
	struct rtab_retire_batch *spare;  /* next batch, may be NULL */
	uint64_t rng;             /* writer's PRNG (skiplist levels) */
};

int rtab_env_init(struct rtab_env *env, const struct rtab_params *p);
/* Frees what is pending, after a grace period; the caller is outside any
 * read-side critical section and no reader uses the table any more. */
void rtab_env_fini(struct rtab_env *env);

void *rtab_env_alloc(struct rtab_env *env, size_t size, size_t align);
/* Frees at once: for memory no reader has seen. */
void rtab_env_free_now(struct rtab_env *env, void *ptr, size_t size);
/* Frees after a grace period. Never fails: when no batch can be had it
 * waits for a grace period itself (writers run outside read-side sections). */
void rtab_env_retire(struct rtab_env *env, void *ptr, size_t size);

/* A new object (key, value), not yet visible, with @p front extra bytes
 * before its header (the ordered set's links). */
struct rtab_obj *rtab_env_obj_new(struct rtab_env *env, size_t front,
				  const void *key, size_t key_len,
				  const void *value, size_t value_len,
				  uint64_t hash, uint16_t flags);

/* The single-writer guard: returns false (the caller returns -EBUSY) when
 * another thread is inside a write function of the same table. */
static inline bool
rtab_env_write_begin(struct rtab_env *env)
{
	/* W1: pairs with W2 of the previous writer, so its stores are seen. */
	return atomic_exchange_explicit(&env->writing, 1, memory_order_acquire) == 0;
}

static inline void
rtab_env_write_end(struct rtab_env *env)
{
	atomic_store_explicit(&env->writing, 0, memory_order_release); /* W2 */
}

/* Checks of the public write functions, in this order. */
static inline int
rtab_check_kv(const void *key, size_t key_len, const void *value, size_t value_len)
{
	if ((key == NULL && key_len) || (value == NULL && value_len))
		return -EINVAL;
	if (key_len > RTAB_KEY_MAX || value_len > RTAB_VALUE_MAX)
		return -E2BIG;
	return 0;
}

/* --------------------------------------------------------------- hash index */

#define RTAB_BUCKET_SLOTS 7

/*
 * A slot holds a 16-bit tag (the hash's top bits) and an object pointer in
 * one word, so that a reader loads both in one atomic access: pointers on
 * the supported targets fit in 48 bits (checked at allocation).
 */
#define RTAB_SLOT_PTR_MASK ((UINT64_C(1) << 48) - 1)
#define RTAB_SLOT_TAG(h) ((h) >> 48)

struct rtab_bucket {
	_Alignas(64) _Atomic uint64_t slot[RTAB_BUCKET_SLOTS];
	struct rtab_bucket *_Atomic next;    /* overflow chain */
};
static_assert(sizeof(struct rtab_bucket) == 64, "a bucket is one cache line");
static_assert(_Alignof(struct rtab_bucket) == 64, "and starts one");

struct rtab_harr {
	uint64_t mask;                      /* buckets - 1 */
	size_t overflow;                    /* overflow buckets hanging off */
	struct rtab_bucket b[];             /* 64-byte aligned: one line each */
};

struct rtab_hash {
	struct rtab_harr *_Atomic arr;
	struct rtab_env *env;
	_Atomic size_t count;
	size_t min_buckets;
	bool by_value;       /* objects are told apart by value (bag inner) */
	bool no_shrink;      /* set while a caller walks the array in place */
};

/* Hash of a key or value under the table's seed. */
static inline uint64_t
rtab_hash_bytes(const struct rtab_env *env, const void *p, size_t len)
{
	return XXH3_64bits_withSeed(p, len, env->seed);
}

static inline const struct rtab_obj *
rtab_slot_obj(uint64_t s)
{
	return (const struct rtab_obj *)(uintptr_t)(s & RTAB_SLOT_PTR_MASK);
}

int rtab_hash_init(struct rtab_hash *h, struct rtab_env *env, size_t initial,
		   bool by_value);
/* Frees the arrays at once (objects are the caller's). */
void rtab_hash_fini(struct rtab_hash *h);
/* Retires the arrays (objects are the caller's). */
void rtab_hash_retire(struct rtab_hash *h);

/*
 * Which slots of @p b may hold @p tag: bit i for slot i. A filter only:
 * the caller loads a candidate slot atomically and checks it again, so a
 * stale or torn read here can only drop a slot that changed meanwhile (a
 * concurrent update, which a reader may miss), never return a wrong one;
 * a key present for the whole lookup keeps its tag in its slot and always
 * passes. With SSE2 the seven tags are compared at once (the tag is the top
 * 16-bit lane of each 64-bit slot) and no branch waits on the bucket's
 * line; under TSan, whose model has no such reads, slots are loaded one by
 * one. Used by bulk lookups, where it measured ~15% faster (rtab_set.c);
 * a single lookup scans slot by slot and stops at the first match.
 */
#if defined(__SSE2__) && !defined(RTAB_TSAN)
#include <emmintrin.h>

static inline unsigned
rtab_bucket_tag_mask(const struct rtab_bucket *b, uint64_t tag)
{
	const __m128i t = _mm_set1_epi16((short)tag);
	const __m128i *p = (const __m128i *)(const void *)b;
	unsigned m = 0;

	for (int j = 0; j < 4; j++) {
		unsigned e = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi16(_mm_load_si128(p + j), t));
		/* lane 3 -> bytes 6,7; lane 7 -> bytes 14,15 */
		m |= ((e >> 7) & 1u) << (2 * j) | ((e >> 15) & 1u) << (2 * j + 1);
	}
	return m & ((1u << RTAB_BUCKET_SLOTS) - 1); /* word 7 is the next pointer */
}
#else
static inline unsigned
rtab_bucket_tag_mask(const struct rtab_bucket *b, uint64_t tag)
{
	unsigned m = 0;

	for (unsigned i = 0; i < RTAB_BUCKET_SLOTS; i++) {
		uint64_t s = atomic_load_explicit(&b->slot[i], memory_order_relaxed);

		m |= (unsigned)(s != 0 && RTAB_SLOT_TAG(s) == tag) << i;
	}
	return m;
}
#endif

/*
 * The slot holding the object whose key (value, for a by_value index) is
 * @p k with hash @p hv, and in *word what the slot held when it matched; or
 * NULL. Readers (rcu_read_lock held) and the writer.
 */
static inline _Atomic uint64_t *
rtab_hash_scan(const struct rtab_hash *h, uint64_t hv, const void *k, size_t len,
	       uint64_t *word)
{
	/* A1: pairs with R1 in hash_resize(). */
	const struct rtab_harr *a = atomic_load_explicit(&h->arr, memory_order_acquire);
	struct rtab_bucket *b = (struct rtab_bucket *)&a->b[hv & a->mask];
	const uint64_t tag = RTAB_SLOT_TAG(hv);

	do {
		/* slot by slot: a single lookup stops at the first match, which
		 * measured faster than rtab_bucket_tag_mask() here */
		for (unsigned i = 0; i < RTAB_BUCKET_SLOTS; i++) {
			/* A2: pairs with R2 in hash_place()/rtab_hash_replace(). */
			uint64_t s = atomic_load_explicit(&b->slot[i], memory_order_acquire);
			const struct rtab_obj *o;

			if (s == 0 || RTAB_SLOT_TAG(s) != tag)
				continue;
			o = rtab_slot_obj(s);
			if (h->by_value ? rtab_obj_value_eq(o, k, len)
					: (o->hash == hv && rtab_obj_key_eq(o, k, len))) {
				*word = s;
				return &b->slot[i];
			}
		}
		RTAB_YIELD();
		/* A3: pairs with R3 in hash_place(). */
		b = atomic_load_explicit(&b->next, memory_order_acquire);
	} while (b != NULL);
	return NULL;
}

/*
 * Reader: the object whose key (value, for a by_value index) is @p k with
 * hash @p hv. Call with rcu_read_lock held, or from the writer. It returns
 * the object of the word it loaded, never the slot reloaded.
 */
static inline const struct rtab_obj *
rtab_hash_find(const struct rtab_hash *h, uint64_t hv, const void *k, size_t len)
{
	uint64_t word;

	return rtab_hash_scan(h, hv, k, len, &word) ? rtab_slot_obj(word) : NULL;
}

/* Writer: the slot holding the object for @p k, or NULL. */
static inline _Atomic uint64_t *
rtab_hash_find_slot(struct rtab_hash *h, uint64_t hv, const void *k, size_t len)
{
	uint64_t word;

	return rtab_hash_scan(h, hv, k, len, &word);
}

/* Writer: adds @p o (absent) with hash @p hv, growing the array when due.
 * Returns 0 or -ENOMEM (nothing changed). */
int rtab_hash_add(struct rtab_hash *h, const struct rtab_obj *o, uint64_t hv);
/* Writer: puts @p o where the slot's object was (same key). */
void rtab_hash_replace(_Atomic uint64_t *slot, const struct rtab_obj *o, uint64_t hv);
/* Writer: empties the slot; shrinks the array when due. */
void rtab_hash_clear(struct rtab_hash *h, _Atomic uint64_t *slot);
/* Writer: shrinks when the count fell low (after in-place walks). */
void rtab_hash_maybe_shrink(struct rtab_hash *h);

/* Calls @p visit on each object. Reader (rcu_read_lock held) or writer. */
int rtab_hash_foreach(const struct rtab_hash *h, rtab_visit_fn visit, void *arg);

/*
 * Writer: calls @p fn on every non-empty slot of the current array, in
 * place; @p fn may clear or replace that slot. Shrinking waits until the
 * walk is over.
 */
typedef void (*rtab_slot_fn)(struct rtab_hash *h, _Atomic uint64_t *slot,
			     const struct rtab_obj *o, void *arg);
void rtab_hash_walk_slots(struct rtab_hash *h, rtab_slot_fn fn, void *arg);

/* Bytes of one array of @p nbuckets buckets. */
static inline size_t
rtab_harr_size(size_t nbuckets)
{
	return sizeof(struct rtab_harr) + nbuckets * sizeof(struct rtab_bucket);
}

/* Hash by which @p o is placed in @p h. */
static inline uint64_t
rtab_hash_of(const struct rtab_hash *h, const struct rtab_obj *o)
{
	return h->by_value ? rtab_hash_bytes(h->env, rtab_obj_value(o), o->value_len)
			   : o->hash;
}

#endif /* RTAB_INTERNAL_H */
