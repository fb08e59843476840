/* SPDX-License-Identifier: MIT */
/*
 * rtab_set: unique keys on the hash index of rtab_hash.c, which explains
 * the memory ordering; this file adds the ETS set semantics and the bulk
 * lookup.
 */
#include <stdlib.h>

#include "rtab_internal.h"
#include "rtab_set.h"

struct rtab_set {
	struct rtab_env env;
	struct rtab_hash h;
};

/* Keys looked up together by rtab_set_lookup_bulk(): enough to keep the
 * memory system busy, few enough to stay in registers and L1. */
#define SET_BULK_GROUP 16

struct rtab_set *
rtab_set_create(const struct rtab_params *params)
{
	struct rtab_set *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	int rc;

	if (s == NULL)
		return NULL;
	rc = rtab_env_init(&s->env, params);
	if (rc != 0)
		goto fail_env;
	rc = rtab_hash_init(&s->h, &s->env, params ? params->initial_size : 0, false);
	if (rc != 0)
		goto fail_hash;
	return s;

fail_hash:
	rtab_env_fini(&s->env);
fail_env:
	free(s);
	errno = -rc;
	return NULL;
}

static int
free_obj_now(const struct rtab_obj *o, void *arg)
{
	struct rtab_env *env = arg;

	rtab_env_free_now(env, (void *)(uintptr_t)o, rtab_obj_size(o->key_len, o->value_len));
	return 0;
}

void
rtab_set_free(struct rtab_set *s)
{
	if (s == NULL)
		return;
	/* Readers are gone (contract); retired objects wait in env. */
	rtab_hash_foreach(&s->h, free_obj_now, &s->env);
	rtab_hash_fini(&s->h);
	rtab_env_fini(&s->env);
	free(s);
}

static void
retire_obj(struct rtab_env *env, const struct rtab_obj *o)
{
	rtab_env_retire(env, (void *)(uintptr_t)o, rtab_obj_size(o->key_len, o->value_len));
}

static int
set_insert(struct rtab_set *s, const void *key, size_t key_len,
	   const void *value, size_t value_len, bool replace)
{
	_Atomic uint64_t *slot;
	struct rtab_obj *o;
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
	if (slot != NULL && !replace) {
		rc = -EEXIST;
		goto out;
	}
	if (slot == NULL && s->env.max_objects &&
	    rtab_set_count(s) >= s->env.max_objects) {
		rc = -ENOSPC;
		goto out;
	}
	o = rtab_env_obj_new(&s->env, 0, key, key_len, value, value_len, hv, 0);
	if (o == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (slot != NULL) {
		const struct rtab_obj *old = rtab_slot_obj(atomic_load_explicit(slot,
							memory_order_relaxed));
		rtab_hash_replace(slot, o, hv);
		retire_obj(&s->env, old);
		rc = 1;
	} else {
		rc = rtab_hash_add(&s->h, o, hv);
		if (rc != 0)
			rtab_env_free_now(&s->env, o, rtab_obj_size(key_len, value_len));
	}
out:
	rtab_env_write_end(&s->env);
	return rc;
}

int
rtab_set_insert(struct rtab_set *s, const void *key, size_t key_len,
		const void *value, size_t value_len)
{
	return set_insert(s, key, key_len, value, value_len, true);
}

int
rtab_set_insert_new(struct rtab_set *s, const void *key, size_t key_len,
		    const void *value, size_t value_len)
{
	return set_insert(s, key, key_len, value, value_len, false);
}

RTAB_LOOKUP_FN const struct rtab_obj *
rtab_set_lookup(const struct rtab_set *s, const void *key, size_t key_len)
{
	if (RTAB_UNLIKELY(s == NULL || (key == NULL && key_len) || key_len > RTAB_KEY_MAX))
		return NULL;
	return rtab_hash_find(&s->h, rtab_hash_bytes(&s->env, key, key_len), key, key_len);
}

/*
 * Three passes over a group of keys, so that the cache misses of different
 * keys overlap instead of following one another: hash and prefetch the
 * buckets; read the buckets and prefetch the first object whose tag
 * matches; compare keys. A key whose bucket has an overflow chain or a
 * second matching tag takes the single-key path.
 */
RTAB_LOOKUP_FN unsigned
rtab_set_lookup_bulk(const struct rtab_set *s, const void *const keys[],
		     const uint32_t key_lens[], unsigned n, const struct rtab_obj *objs[])
{
	const struct rtab_bucket *b[SET_BULK_GROUP];
	const struct rtab_obj *cand[SET_BULK_GROUP];
	uint64_t hv[SET_BULK_GROUP];
	bool slow[SET_BULK_GROUP];
	const struct rtab_harr *a;
	unsigned found = 0;

	if (RTAB_UNLIKELY(s == NULL || keys == NULL || key_lens == NULL || objs == NULL))
		return 0;
	/* A1: pairs with R1 in rtab_hash.c. */
	a = atomic_load_explicit(&s->h.arr, memory_order_acquire);
	for (unsigned base = 0; base < n; base += SET_BULK_GROUP) {
		unsigned m = n - base < SET_BULK_GROUP ? n - base : SET_BULK_GROUP;

		for (unsigned i = 0; i < m; i++) {
			uint32_t len = key_lens[base + i];

			if (RTAB_UNLIKELY(len > RTAB_KEY_MAX ||
					  (keys[base + i] == NULL && len))) {
				b[i] = NULL;
				continue;
			}
			hv[i] = rtab_hash_bytes(&s->env, keys[base + i], len);
			b[i] = &a->b[hv[i] & a->mask];
			__builtin_prefetch(b[i]);
		}
		for (unsigned i = 0; i < m; i++) {
			const uint64_t tag = RTAB_SLOT_TAG(hv[i]);
			unsigned mask;

			cand[i] = NULL;
			slow[i] = false;
			if (b[i] == NULL)
				continue;
			mask = rtab_bucket_tag_mask(b[i], tag);
			slow[i] = (mask & (mask - 1)) != 0 ||
				  atomic_load_explicit(&b[i]->next, memory_order_relaxed) != NULL;
			if (mask != 0) {
				/* A2: pairs with R2 in rtab_hash.c. */
				uint64_t w = atomic_load_explicit(&b[i]->slot[__builtin_ctz(mask)],
								  memory_order_acquire);

				if (w != 0 && RTAB_SLOT_TAG(w) == tag)
					cand[i] = rtab_slot_obj(w);
				else
					slow[i] = true;
			}
			if (cand[i] != NULL) {
				__builtin_prefetch(cand[i]);
				if (sizeof(struct rtab_obj) + key_lens[base + i] > 64)
					__builtin_prefetch((const char *)cand[i] + 64);
			}
		}
		for (unsigned i = 0; i < m; i++) {
			const void *k = keys[base + i];
			uint32_t len = key_lens[base + i];
			const struct rtab_obj *o = NULL;

			if (b[i] == NULL) {
				/* bad key: a miss */
			} else if (cand[i] != NULL && cand[i]->hash == hv[i] &&
				   rtab_obj_key_eq(cand[i], k, len)) {
				o = cand[i];
			} else if (slow[i]) {
				o = rtab_hash_find(&s->h, hv[i], k, len);
			}
			objs[base + i] = o;
			found += o != NULL;
		}
	}
	return found;
}

int
rtab_set_delete(struct rtab_set *s, const void *key, size_t key_len)
{
	_Atomic uint64_t *slot;
	const struct rtab_obj *o;
	int rc = 0;

	if (s == NULL || (key == NULL && key_len))
		return -EINVAL;
	if (key_len > RTAB_KEY_MAX)
		return -ENOENT;
	if (!rtab_env_write_begin(&s->env))
		return -EBUSY;
	slot = rtab_hash_find_slot(&s->h, rtab_hash_bytes(&s->env, key, key_len),
				   key, key_len);
	if (slot == NULL) {
		rc = -ENOENT;
	} else {
		o = rtab_slot_obj(atomic_load_explicit(slot, memory_order_relaxed));
		rtab_hash_clear(&s->h, slot);
		retire_obj(&s->env, o);
	}
	rtab_env_write_end(&s->env);
	return rc;
}

struct match_ctx {
	struct rtab_env *env;
	rtab_match_fn match;
	void *arg;
	long deleted;
};

static void
delete_if_match(struct rtab_hash *h, _Atomic uint64_t *slot,
		const struct rtab_obj *o, void *arg)
{
	struct match_ctx *m = arg;

	if (m->match(o, m->arg)) {
		rtab_hash_clear(h, slot);
		retire_obj(m->env, o);
		m->deleted++;
	}
}

long
rtab_set_delete_match(struct rtab_set *s, rtab_match_fn match, void *arg)
{
	struct match_ctx m = { .match = match, .arg = arg };

	if (s == NULL || match == NULL)
		return -EINVAL;
	if (!rtab_env_write_begin(&s->env))
		return -EBUSY;
	m.env = &s->env;
	rtab_hash_walk_slots(&s->h, delete_if_match, &m);
	rtab_env_write_end(&s->env);
	return m.deleted;
}

int
rtab_set_foreach(const struct rtab_set *s, rtab_visit_fn visit, void *arg)
{
	if (s == NULL || visit == NULL)
		return -EINVAL;
	return rtab_hash_foreach(&s->h, visit, arg);
}

size_t
rtab_set_count(const struct rtab_set *s)
{
	return s ? atomic_load_explicit(&s->h.count, memory_order_relaxed) : 0;
}

size_t
rtab_set_memory(const struct rtab_set *s)
{
	return s ? sizeof(*s) + atomic_load_explicit(&s->env.bytes, memory_order_relaxed) : 0;
}
