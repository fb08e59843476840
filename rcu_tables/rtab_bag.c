/* SPDX-License-Identifier: MIT */
/*
 * rtab_bag: many objects per key, none identical.
 *
 * An outer hash index by key holds, per key, either the key's only object
 * (the common case: a process registered under one name) or a holder: an
 * object flagged RTAB_OBJ_F_HOLDER whose value is a pointer to an inner
 * hash index of the key's objects, told apart by value. So a key with one
 * object costs what a set's object costs, and a key with a million objects
 * still inserts, finds and deletes one of them in O(1).
 *
 * The writer moves a key between the two forms with one slot store in the
 * outer index, never changing an object a reader may hold:
 *   1 -> 2  the inner index is filled with the old object and the new one
 *           off to the side, then the holder replaces the old object in
 *           the outer slot (R2 of rtab_hash.c publishes it all). A reader
 *           sees the old object alone, or both.
 *   2 -> 1  the last object replaces the holder in the outer slot; the
 *           holder and the inner index are retired, not the object.
 *   n -> 0  the outer slot is cleared; everything under it is retired.
 * An object present throughout is therefore reachable throughout.
 */
#include <stdlib.h>

#include "rtab_internal.h"
#include "rtab_bag.h"

struct rtab_bag {
	struct rtab_env env;
	struct rtab_hash outer;
	_Atomic size_t count;
};

static inline bool
is_holder(const struct rtab_obj *o)
{
	return (o->flags & RTAB_OBJ_F_HOLDER) != 0;
}

static inline struct rtab_hash *
holder_inner(const struct rtab_obj *o)
{
	struct rtab_hash *inner;

	memcpy(&inner, rtab_obj_value(o), sizeof(inner));
	return inner;
}

static size_t
obj_bytes(const struct rtab_obj *o)
{
	return rtab_obj_size(o->key_len, o->value_len);
}

struct rtab_bag *
rtab_bag_create(const struct rtab_params *params)
{
	struct rtab_bag *b = aligned_alloc(64, (sizeof(*b) + 63) & ~(size_t)63);
	int rc;

	if (b == NULL)
		return NULL;
	rc = rtab_env_init(&b->env, params);
	if (rc != 0)
		goto fail_env;
	rc = rtab_hash_init(&b->outer, &b->env, params ? params->initial_size : 0, false);
	if (rc != 0)
		goto fail_hash;
	atomic_store_explicit(&b->count, 0, memory_order_relaxed);
	return b;

fail_hash:
	rtab_env_fini(&b->env);
fail_env:
	free(b);
	errno = -rc;
	return NULL;
}

/* Frees or retires a holder with its inner index and, if @p objects, the
 * objects in it. */
struct release_ctx {
	struct rtab_env *env;
	bool retire;
};

static int
release_obj(const struct rtab_obj *o, void *arg)
{
	struct release_ctx *r = arg;

	if (r->retire)
		rtab_env_retire(r->env, (void *)(uintptr_t)o, obj_bytes(o));
	else
		rtab_env_free_now(r->env, (void *)(uintptr_t)o, obj_bytes(o));
	return 0;
}

static void
release_holder(struct rtab_env *env, const struct rtab_obj *holder, bool objects,
	       bool retire)
{
	struct rtab_hash *inner = holder_inner(holder);
	struct release_ctx r = { env, retire };

	if (objects)
		rtab_hash_foreach(inner, release_obj, &r);
	if (retire) {
		rtab_hash_retire(inner);
		rtab_env_retire(env, inner, sizeof(*inner));
	} else {
		rtab_hash_fini(inner);
		rtab_env_free_now(env, inner, sizeof(*inner));
	}
	release_obj(holder, &r);
}

/* Releases an outer entry and all of its objects. */
static int
release_entry(const struct rtab_obj *o, void *arg)
{
	struct release_ctx *r = arg;

	if (is_holder(o))
		release_holder(r->env, o, true, r->retire);
	else
		release_obj(o, r);
	return 0;
}

void
rtab_bag_free(struct rtab_bag *b)
{
	struct release_ctx r;

	if (b == NULL)
		return;
	r.env = &b->env;
	r.retire = false;
	rtab_hash_foreach(&b->outer, release_entry, &r);
	rtab_hash_fini(&b->outer);
	rtab_env_fini(&b->env);
	free(b);
}

/* 1 -> 2: a holder with an inner index of @p first and @p second. */
static struct rtab_obj *
holder_new(struct rtab_bag *b, const struct rtab_obj *first,
	   const struct rtab_obj *second)
{
	struct rtab_hash *inner = rtab_env_alloc(&b->env, sizeof(*inner), 8);
	struct rtab_obj *holder;

	if (inner == NULL)
		return NULL;
	if (rtab_hash_init(inner, &b->env, 2, true) != 0)
		goto fail_init;
	if (rtab_hash_add(inner, first, rtab_hash_of(inner, first)) != 0 ||
	    rtab_hash_add(inner, second, rtab_hash_of(inner, second)) != 0)
		goto fail_add;
	holder = rtab_env_obj_new(&b->env, 0, rtab_obj_key(first), first->key_len,
				  &inner, sizeof(inner), first->hash, RTAB_OBJ_F_HOLDER);
	if (holder == NULL)
		goto fail_add;
	return holder;

fail_add:
	rtab_hash_fini(inner);
fail_init:
	rtab_env_free_now(&b->env, inner, sizeof(*inner));
	return NULL;
}

int
rtab_bag_insert(struct rtab_bag *b, const void *key, size_t key_len,
		const void *value, size_t value_len)
{
	_Atomic uint64_t *slot;
	const struct rtab_obj *cur;
	struct rtab_obj *o, *holder;
	uint64_t hv;
	int rc;

	if (b == NULL)
		return -EINVAL;
	rc = rtab_check_kv(key, key_len, value, value_len);
	if (rc != 0)
		return rc;
	if (!rtab_env_write_begin(&b->env))
		return -EBUSY;
	hv = rtab_hash_bytes(&b->env, key, key_len);
	slot = rtab_hash_find_slot(&b->outer, hv, key, key_len);
	cur = slot ? rtab_slot_obj(atomic_load_explicit(slot, memory_order_relaxed)) : NULL;
	if (cur != NULL && (is_holder(cur)
			    ? rtab_hash_find(holder_inner(cur),
					     rtab_hash_bytes(&b->env, value, value_len),
					     value, value_len) != NULL
			    : rtab_obj_value_eq(cur, value, value_len))) {
		rc = 1;
		goto out;
	}
	if (b->env.max_objects && rtab_bag_count(b) >= b->env.max_objects) {
		rc = -ENOSPC;
		goto out;
	}
	o = rtab_env_obj_new(&b->env, 0, key, key_len, value, value_len, hv, 0);
	if (o == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (cur == NULL) {
		rc = rtab_hash_add(&b->outer, o, hv);
	} else if (is_holder(cur)) {
		struct rtab_hash *inner = holder_inner(cur);

		rc = rtab_hash_add(inner, o, rtab_hash_of(inner, o));
	} else {
		holder = holder_new(b, cur, o);
		if (holder == NULL)
			rc = -ENOMEM;
		else
			rtab_hash_replace(slot, holder, hv);
	}
	if (rc != 0)
		rtab_env_free_now(&b->env, o, obj_bytes(o));
	else
		atomic_store_explicit(&b->count, rtab_bag_count(b) + 1, memory_order_relaxed);
out:
	rtab_env_write_end(&b->env);
	return rc;
}

/* The outer entry of @p key: an object or a holder, or NULL. */
RTAB_LOOKUP_FN static const struct rtab_obj *
bag_entry(const struct rtab_bag *b, const void *key, size_t key_len)
{
	if (RTAB_UNLIKELY(b == NULL || (key == NULL && key_len) || key_len > RTAB_KEY_MAX))
		return NULL;
	return rtab_hash_find(&b->outer, rtab_hash_bytes(&b->env, key, key_len),
			      key, key_len);
}

int
rtab_bag_lookup(const struct rtab_bag *b, const void *key, size_t key_len,
		rtab_visit_fn visit, void *arg)
{
	const struct rtab_obj *e;

	if (visit == NULL)
		return -EINVAL;
	e = bag_entry(b, key, key_len);
	if (e == NULL)
		return 0;
	if (is_holder(e))
		return rtab_hash_foreach(holder_inner(e), visit, arg);
	return visit(e, arg);
}

const struct rtab_obj *
rtab_bag_lookup_object(const struct rtab_bag *b, const void *key, size_t key_len,
		       const void *value, size_t value_len)
{
	const struct rtab_obj *e;

	if (RTAB_UNLIKELY((value == NULL && value_len) || value_len > RTAB_VALUE_MAX))
		return NULL;
	e = bag_entry(b, key, key_len);
	if (e == NULL)
		return NULL;
	if (is_holder(e))
		return rtab_hash_find(holder_inner(e),
				      rtab_hash_bytes(&b->env, value, value_len),
				      value, value_len);
	return rtab_obj_value_eq(e, value, value_len) ? e : NULL;
}

size_t
rtab_bag_key_count(const struct rtab_bag *b, const void *key, size_t key_len)
{
	const struct rtab_obj *e = bag_entry(b, key, key_len);

	if (e == NULL)
		return 0;
	if (is_holder(e))
		return atomic_load_explicit(&holder_inner(e)->count, memory_order_relaxed);
	return 1;
}

static void
count_sub(struct rtab_bag *b, size_t n)
{
	atomic_store_explicit(&b->count, rtab_bag_count(b) - n, memory_order_relaxed);
}

/* The only object left in @p inner. */
static int
take_first(const struct rtab_obj *o, void *arg)
{
	*(const struct rtab_obj **)arg = o;
	return 1;
}

/* After objects left a holder's inner index: back to one object, or none. */
static void
holder_settle(struct rtab_bag *b, _Atomic uint64_t *slot, const struct rtab_obj *holder)
{
	struct rtab_hash *inner = holder_inner(holder);
	size_t left = atomic_load_explicit(&inner->count, memory_order_relaxed);
	const struct rtab_obj *last = NULL;

	if (left > 1)
		return;
	if (left == 1) {
		rtab_hash_foreach(inner, take_first, &last);
		rtab_hash_replace(slot, last, holder->hash);
	} else {
		/* inside rtab_hash_walk_slots() this does not shrink */
		rtab_hash_clear(&b->outer, slot);
	}
	release_holder(&b->env, holder, false, true);
}

long
rtab_bag_delete(struct rtab_bag *b, const void *key, size_t key_len)
{
	_Atomic uint64_t *slot;
	const struct rtab_obj *e;
	struct release_ctx r;
	long n = 0;

	if (b == NULL || (key == NULL && key_len))
		return -EINVAL;
	if (key_len > RTAB_KEY_MAX)
		return 0;
	if (!rtab_env_write_begin(&b->env))
		return -EBUSY;
	slot = rtab_hash_find_slot(&b->outer, rtab_hash_bytes(&b->env, key, key_len),
				   key, key_len);
	if (slot != NULL) {
		e = rtab_slot_obj(atomic_load_explicit(slot, memory_order_relaxed));
		n = is_holder(e) ? (long)atomic_load_explicit(&holder_inner(e)->count,
							      memory_order_relaxed) : 1;
		rtab_hash_clear(&b->outer, slot);
		r.env = &b->env;
		r.retire = true;
		release_entry(e, &r);
		count_sub(b, (size_t)n);
	}
	rtab_env_write_end(&b->env);
	return n;
}

int
rtab_bag_delete_object(struct rtab_bag *b, const void *key, size_t key_len,
		       const void *value, size_t value_len)
{
	_Atomic uint64_t *slot, *islot;
	const struct rtab_obj *e, *o;
	struct rtab_hash *inner;
	int rc = -ENOENT;

	if (b == NULL || (key == NULL && key_len) || (value == NULL && value_len))
		return -EINVAL;
	if (key_len > RTAB_KEY_MAX || value_len > RTAB_VALUE_MAX)
		return -ENOENT;
	if (!rtab_env_write_begin(&b->env))
		return -EBUSY;
	slot = rtab_hash_find_slot(&b->outer, rtab_hash_bytes(&b->env, key, key_len),
				   key, key_len);
	if (slot == NULL)
		goto out;
	e = rtab_slot_obj(atomic_load_explicit(slot, memory_order_relaxed));
	if (!is_holder(e)) {
		if (!rtab_obj_value_eq(e, value, value_len))
			goto out;
		rtab_hash_clear(&b->outer, slot);
		rtab_env_retire(&b->env, (void *)(uintptr_t)e, obj_bytes(e));
	} else {
		inner = holder_inner(e);
		islot = rtab_hash_find_slot(inner, rtab_hash_bytes(&b->env, value, value_len),
					    value, value_len);
		if (islot == NULL)
			goto out;
		o = rtab_slot_obj(atomic_load_explicit(islot, memory_order_relaxed));
		rtab_hash_clear(inner, islot);
		rtab_env_retire(&b->env, (void *)(uintptr_t)o, obj_bytes(o));
		holder_settle(b, slot, e);
	}
	count_sub(b, 1);
	rc = 0;
out:
	rtab_env_write_end(&b->env);
	return rc;
}

struct match_ctx {
	struct rtab_bag *bag;
	rtab_match_fn match;
	void *arg;
	long deleted;
};

static void
inner_delete_if_match(struct rtab_hash *h, _Atomic uint64_t *slot,
		      const struct rtab_obj *o, void *arg)
{
	struct match_ctx *m = arg;

	if (m->match(o, m->arg)) {
		rtab_hash_clear(h, slot);
		rtab_env_retire(&m->bag->env, (void *)(uintptr_t)o, obj_bytes(o));
		m->deleted++;
	}
}

static void
outer_delete_if_match(struct rtab_hash *h, _Atomic uint64_t *slot,
		      const struct rtab_obj *e, void *arg)
{
	struct match_ctx *m = arg;

	if (is_holder(e)) {
		rtab_hash_walk_slots(holder_inner(e), inner_delete_if_match, m);
		holder_settle(m->bag, slot, e);
	} else if (m->match(e, m->arg)) {
		rtab_hash_clear(h, slot);
		rtab_env_retire(&m->bag->env, (void *)(uintptr_t)e, obj_bytes(e));
		m->deleted++;
	}
}

long
rtab_bag_delete_match(struct rtab_bag *b, rtab_match_fn match, void *arg)
{
	struct match_ctx m = { .bag = b, .match = match, .arg = arg };

	if (b == NULL || match == NULL)
		return -EINVAL;
	if (!rtab_env_write_begin(&b->env))
		return -EBUSY;
	rtab_hash_walk_slots(&b->outer, outer_delete_if_match, &m);
	count_sub(b, (size_t)m.deleted);
	rtab_env_write_end(&b->env);
	return m.deleted;
}

struct visit_ctx {
	rtab_visit_fn visit;
	void *arg;
};

static int
visit_entry(const struct rtab_obj *e, void *arg)
{
	struct visit_ctx *v = arg;

	if (is_holder(e))
		return rtab_hash_foreach(holder_inner(e), v->visit, v->arg);
	return v->visit(e, v->arg);
}

int
rtab_bag_foreach(const struct rtab_bag *b, rtab_visit_fn visit, void *arg)
{
	struct visit_ctx v = { visit, arg };

	if (b == NULL || visit == NULL)
		return -EINVAL;
	return rtab_hash_foreach(&b->outer, visit_entry, &v);
}

size_t
rtab_bag_count(const struct rtab_bag *b)
{
	return b ? atomic_load_explicit(&b->count, memory_order_relaxed) : 0;
}

size_t
rtab_bag_memory(const struct rtab_bag *b)
{
	return b ? sizeof(*b) + atomic_load_explicit(&b->env.bytes, memory_order_relaxed) : 0;
}
