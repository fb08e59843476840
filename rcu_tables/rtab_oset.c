/* SPDX-License-Identifier: MIT */
/*
 * rtab_oset: unique keys in byte order.
 *
 * Two indexes over the same objects: the hash index of rtab_hash.c for
 * point lookups (as fast as a set's), and a skiplist (Pugh, "Skip lists: a
 * probabilistic alternative to balanced trees", CACM 1990) for order, with
 * one writer and lock-free readers in the manner of RCU-protected linked
 * lists (McKenney, "Is Parallel Programming Hard", ch. 9). A node's links
 * sit just before its object header in the same allocation, so following a
 * link lands on the key to compare; a node has on average 4/3 links (p = 1/4).
 *
 * Ordering guarantees:
 *   1. A node is written in full, its links included, before the first
 *      release store (R4) that links it in; readers load links with
 *      acquire (A4). Links are published bottom-up, so a node reachable at
 *      some level is reachable at level 0.
 *   2. A node is unlinked top-down by pointing its predecessors past it;
 *      its own links are never written again, so a reader standing on it
 *      goes on to nodes that followed it when it was unlinked: keys keep
 *      increasing, and a key present for the whole walk is not skipped
 *      (every node between it and the reader was, at its own unlinking,
 *      followed by a node no greater than that key).
 *   3. A replace links a new node of the same level in the old node's
 *      place at every level; the old node keeps its links. A reader reaches
 *      the old object or the new one and, from either, the same successors.
 *   4. Unlinked nodes are retired and freed after a grace period.
 *   5. The level in use is a hint: a reader that reads it stale walks empty
 *      head links or starts lower, and finds the same nodes.
 * Walks by readers are bounded by the list length (lock-free, wait-free in
 * the absence of a writer).
 */
#include <stdlib.h>

#include "rtab_internal.h"
#include "rtab_oset.h"

#define OSET_MAX_LEVEL 24
static_assert(OSET_MAX_LEVEL <= RTAB_OBJ_F_LEVEL_MASK, "level fits in flags");

typedef const struct rtab_obj *_Atomic rtab_link;

struct rtab_oset {
	struct rtab_env env;
	struct rtab_hash h;
	_Atomic unsigned level;
	rtab_link head[OSET_MAX_LEVEL];
};

static inline unsigned
node_level(const struct rtab_obj *o)
{
	return o->flags & RTAB_OBJ_F_LEVEL_MASK;
}

/* Links of node @p o: links[i] is its successor at level i < node_level(o). */
static inline rtab_link *
node_links(const struct rtab_obj *o)
{
	return (rtab_link *)(uintptr_t)o - node_level(o);
}

static inline rtab_link *
links_of(const struct rtab_oset *s, const struct rtab_obj *o)
{
	return o ? node_links(o) : (rtab_link *)(uintptr_t)s->head;
}

static inline const struct rtab_obj *
link_load(const rtab_link *l)
{
	/* A4: pairs with R4 in link_store(). */
	return atomic_load_explicit(l, memory_order_acquire);
}

static inline void
link_store(rtab_link *l, const struct rtab_obj *o)
{
	RTAB_YIELD();
	/* R4: pairs with A4 in link_load(). */
	atomic_store_explicit(l, o, memory_order_release);
}

static size_t
node_bytes(const struct rtab_obj *o)
{
	return node_level(o) * sizeof(rtab_link) + rtab_obj_size(o->key_len, o->value_len);
}

static void
node_release(struct rtab_env *env, const struct rtab_obj *o, bool retire)
{
	void *base = node_links(o);

	if (retire)
		rtab_env_retire(env, base, node_bytes(o));
	else
		rtab_env_free_now(env, base, node_bytes(o));
}

/*
 * Walks down from level @p top - 1 and, at each level, stops before the
 * first node whose key is >= @p key (> @p key when @p after). Returns the
 * last node passed (NULL for the head). preds[i], if given, receives the
 * link at level i where the walk stopped; *succ, if given, the node it
 * stopped before at level 0 (NULL at the end). A reader must take that
 * node and never load the link again: by then the writer may have linked
 * in a node that the walk did not compare (a key deleted and inserted
 * again), and the answer would break the order.
 */
static const struct rtab_obj *
sl_descend(const struct rtab_oset *s, unsigned top, const void *key, size_t len,
	   bool after, rtab_link *preds[], const struct rtab_obj **succ)
{
	const struct rtab_obj *x = NULL, *nx = NULL;
	rtab_link *xl = links_of(s, NULL);

	for (unsigned i = top; i-- > 0;) {
		for (;;) {
			int c;

			nx = link_load(&xl[i]);
			if (nx == NULL)
				break;
			c = rtab_key_cmp(rtab_obj_key(nx), nx->key_len, key, len);
			if (c > 0 || (c == 0 && !after))
				break;
			x = nx;
			xl = node_links(nx);
			RTAB_YIELD();
		}
		if (preds != NULL)
			preds[i] = &xl[i];
	}
	if (succ != NULL)
		*succ = nx;  /* top >= 1: the last compare was at level 0 */
	return x;
}

static inline unsigned
levels_in_use(const struct rtab_oset *s)
{
	return atomic_load_explicit(&s->level, memory_order_relaxed);
}

struct rtab_oset *
rtab_oset_create(const struct rtab_params *params)
{
	struct rtab_oset *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	int rc;

	if (s == NULL)
		return NULL;
	rc = rtab_env_init(&s->env, params);
	if (rc != 0)
		goto fail_env;
	rc = rtab_hash_init(&s->h, &s->env, params ? params->initial_size : 0, false);
	if (rc != 0)
		goto fail_hash;
	atomic_store_explicit(&s->level, 1, memory_order_relaxed);
	for (unsigned i = 0; i < OSET_MAX_LEVEL; i++)
		atomic_store_explicit(&s->head[i], NULL, memory_order_relaxed);
	return s;

fail_hash:
	rtab_env_fini(&s->env);
fail_env:
	free(s);
	errno = -rc;
	return NULL;
}

void
rtab_oset_free(struct rtab_oset *s)
{
	const struct rtab_obj *o, *next;

	if (s == NULL)
		return;
	for (o = link_load(&s->head[0]); o != NULL; o = next) {
		next = link_load(&node_links(o)[0]);
		node_release(&s->env, o, false);
	}
	rtab_hash_fini(&s->h);
	rtab_env_fini(&s->env);
	free(s);
}

/* Pugh's random level with p = 1/4. Writer only. */
static unsigned
random_level(struct rtab_env *env)
{
	uint64_t x = env->rng;
	unsigned level;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	env->rng = x;
	level = 1 + (unsigned)__builtin_ctzll(x | (UINT64_C(1) << 62)) / 2;
	return level < OSET_MAX_LEVEL ? level : OSET_MAX_LEVEL;
}

static int
oset_insert(struct rtab_oset *s, const void *key, size_t key_len,
	    const void *value, size_t value_len, bool replace)
{
	rtab_link *preds[OSET_MAX_LEVEL];
	_Atomic uint64_t *slot;
	const struct rtab_obj *old = NULL;
	struct rtab_obj *o;
	unsigned level, top;
	uint64_t hv;
	int rc;

	if (s == NULL)
		return -EINVAL;
	rc = rtab_check_kv(key, key_len, value, value_len);
	if (rc != 0)
		return rc;
	if (!rtab_env_write_begin(&s->env))
		return -EBUSY;
	hv = rtab_hash_bytes(&s->env, key, key_len);
	slot = rtab_hash_find_slot(&s->h, hv, key, key_len);
	if (slot != NULL) {
		if (!replace) {
			rc = -EEXIST;
			goto out;
		}
		old = rtab_slot_obj(atomic_load_explicit(slot, memory_order_relaxed));
	} else if (s->env.max_objects && rtab_oset_count(s) >= s->env.max_objects) {
		rc = -ENOSPC;
		goto out;
	}
	level = old ? node_level(old) : random_level(&s->env);
	o = rtab_env_obj_new(&s->env, level * sizeof(rtab_link), key, key_len,
			     value, value_len, hv, (uint16_t)level);
	if (o == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (old == NULL) {
		/* The hash index first: it is the step that can fail. */
		rc = rtab_hash_add(&s->h, o, hv);
		if (rc != 0) {
			node_release(&s->env, o, false);
			goto out;
		}
	}
	top = levels_in_use(s);
	if (level > top) {
		for (unsigned i = top; i < level; i++)
			preds[i] = &s->head[i];
	}
	(void)sl_descend(s, top, key, key_len, false, preds, NULL);
	for (unsigned i = 0; i < level; i++) {
		const struct rtab_obj *succ = old ? link_load(&node_links(old)[i])
						  : link_load(preds[i]);
		atomic_store_explicit(&node_links(o)[i], succ, memory_order_relaxed);
	}
	for (unsigned i = 0; i < level; i++)
		link_store(preds[i], o);
	if (level > top)
		atomic_store_explicit(&s->level, level, memory_order_relaxed);
	if (old != NULL) {
		rtab_hash_replace(slot, o, hv);
		node_release(&s->env, old, true);
		rc = 1;
	}
out:
	rtab_env_write_end(&s->env);
	return rc;
}

int
rtab_oset_insert(struct rtab_oset *s, const void *key, size_t key_len,
		 const void *value, size_t value_len)
{
	return oset_insert(s, key, key_len, value, value_len, true);
}

int
rtab_oset_insert_new(struct rtab_oset *s, const void *key, size_t key_len,
		     const void *value, size_t value_len)
{
	return oset_insert(s, key, key_len, value, value_len, false);
}

RTAB_LOOKUP_FN const struct rtab_obj *
rtab_oset_lookup(const struct rtab_oset *s, const void *key, size_t key_len)
{
	if (RTAB_UNLIKELY(s == NULL || (key == NULL && key_len) || key_len > RTAB_KEY_MAX))
		return NULL;
	return rtab_hash_find(&s->h, rtab_hash_bytes(&s->env, key, key_len), key, key_len);
}

/* Unlinks @p o (in the index) from both indexes and retires it. Writer. */
static void
oset_remove(struct rtab_oset *s, _Atomic uint64_t *slot, const struct rtab_obj *o)
{
	rtab_link *preds[OSET_MAX_LEVEL];
	unsigned level = node_level(o);

	(void)sl_descend(s, levels_in_use(s), rtab_obj_key(o), o->key_len, false, preds, NULL);
	for (unsigned i = level; i-- > 0;) {
		assert(link_load(preds[i]) == o);
		link_store(preds[i], link_load(&node_links(o)[i]));
	}
	rtab_hash_clear(&s->h, slot);
	node_release(&s->env, o, true);
}

int
rtab_oset_delete(struct rtab_oset *s, const void *key, size_t key_len)
{
	_Atomic uint64_t *slot;
	int rc = 0;

	if (s == NULL || (key == NULL && key_len))
		return -EINVAL;
	if (key_len > RTAB_KEY_MAX)
		return -ENOENT;
	if (!rtab_env_write_begin(&s->env))
		return -EBUSY;
	slot = rtab_hash_find_slot(&s->h, rtab_hash_bytes(&s->env, key, key_len),
				   key, key_len);
	if (slot == NULL)
		rc = -ENOENT;
	else
		oset_remove(s, slot, rtab_slot_obj(atomic_load_explicit(slot,
								       memory_order_relaxed)));
	rtab_env_write_end(&s->env);
	return rc;
}

long
rtab_oset_delete_match(struct rtab_oset *s, rtab_match_fn match, void *arg)
{
	const struct rtab_obj *o, *next;
	long deleted = 0;

	if (s == NULL || match == NULL)
		return -EINVAL;
	if (!rtab_env_write_begin(&s->env))
		return -EBUSY;
	for (o = link_load(&s->head[0]); o != NULL; o = next) {
		/* o's links stay as they are when o is removed */
		next = link_load(&node_links(o)[0]);
		if (match(o, arg)) {
			oset_remove(s, rtab_hash_find_slot(&s->h, o->hash, rtab_obj_key(o),
							   o->key_len), o);
			deleted++;
		}
	}
	rtab_env_write_end(&s->env);
	return deleted;
}

const struct rtab_obj *
rtab_oset_first(const struct rtab_oset *s)
{
	return s ? link_load(&s->head[0]) : NULL;
}

const struct rtab_obj *
rtab_oset_last(const struct rtab_oset *s)
{
	const struct rtab_obj *x = NULL;
	rtab_link *xl;

	if (s == NULL)
		return NULL;
	xl = links_of(s, NULL);
	for (unsigned i = levels_in_use(s); i-- > 0;) {
		const struct rtab_obj *nx;

		while ((nx = link_load(&xl[i])) != NULL) {
			x = nx;
			xl = node_links(nx);
		}
	}
	return x;
}

static inline bool
bad_key(const void *key, size_t key_len)
{
	return (key == NULL && key_len) || key_len > RTAB_KEY_MAX;
}

const struct rtab_obj *
rtab_oset_next(const struct rtab_oset *s, const void *key, size_t key_len)
{
	const struct rtab_obj *next;

	if (s == NULL || bad_key(key, key_len))
		return NULL;
	(void)sl_descend(s, levels_in_use(s), key, key_len, true, NULL, &next);
	return next;
}

const struct rtab_obj *
rtab_oset_prev(const struct rtab_oset *s, const void *key, size_t key_len)
{
	if (s == NULL || bad_key(key, key_len))
		return NULL;
	return sl_descend(s, levels_in_use(s), key, key_len, false, NULL, NULL);
}

const struct rtab_obj *
rtab_oset_next_obj(const struct rtab_oset *s, const struct rtab_obj *cur)
{
	if (s == NULL || cur == NULL)
		return NULL;
	return link_load(&node_links(cur)[0]);
}

/* The first object with a key >= @p key. */
static const struct rtab_obj *
seek_ge(const struct rtab_oset *s, const void *key, size_t key_len)
{
	const struct rtab_obj *next;

	(void)sl_descend(s, levels_in_use(s), key, key_len, false, NULL, &next);
	return next;
}

static bool
in_range(const struct rtab_range *r, const struct rtab_obj *o)
{
	if (r->hi != NULL &&
	    rtab_key_cmp(rtab_obj_key(o), o->key_len, r->hi, r->hi_len) >= 0)
		return false;
	if (r->prefix_len &&
	    (o->key_len < r->prefix_len ||
	     memcmp(rtab_obj_key(o), r->prefix, r->prefix_len) != 0))
		return false;
	return true;
}

int
rtab_oset_scan(const struct rtab_oset *s, const struct rtab_range *r,
	       struct rtab_cursor *c, const struct rtab_obj *out[], unsigned limit)
{
	const struct rtab_obj *x;
	unsigned n = 0;

	if (s == NULL || r == NULL || c == NULL || (out == NULL && limit) ||
	    bad_key(r->lo, r->lo_len) || bad_key(r->hi, r->hi_len) ||
	    bad_key(r->prefix, r->prefix_len) || c->key_len > RTAB_KEY_MAX)
		return -EINVAL;
	if (c->done || limit == 0)
		return 0;
	if (c->started) {
		x = rtab_oset_next(s, c->key, c->key_len);
	} else {
		const void *lo = r->lo;
		size_t lo_len = r->lo_len;

		if (r->prefix_len && (lo == NULL || rtab_key_cmp(r->prefix, r->prefix_len,
								 lo, lo_len) > 0)) {
			lo = r->prefix;
			lo_len = r->prefix_len;
		}
		x = lo ? seek_ge(s, lo, lo_len) : rtab_oset_first(s);
	}
	while (x != NULL && n < limit && in_range(r, x)) {
		out[n++] = x;
		x = rtab_oset_next_obj(s, x);
	}
	if (n > 0) {
		const struct rtab_obj *last = out[n - 1];

		memcpy(c->key, rtab_obj_key(last), last->key_len);
		c->key_len = last->key_len;
		c->started = 1;
	}
	if (x == NULL || !in_range(r, x))
		c->done = 1;
	return (int)n;
}

int
rtab_oset_foreach(const struct rtab_oset *s, rtab_visit_fn visit, void *arg)
{
	if (s == NULL || visit == NULL)
		return -EINVAL;
	for (const struct rtab_obj *o = link_load(&s->head[0]); o != NULL;
	     o = link_load(&node_links(o)[0])) {
		int rc = visit(o, arg);

		if (rc != 0)
			return rc;
	}
	return 0;
}

size_t
rtab_oset_count(const struct rtab_oset *s)
{
	return s ? atomic_load_explicit(&s->h.count, memory_order_relaxed) : 0;
}

size_t
rtab_oset_memory(const struct rtab_oset *s)
{
	return s ? sizeof(*s) + atomic_load_explicit(&s->env.bytes, memory_order_relaxed) : 0;
}
