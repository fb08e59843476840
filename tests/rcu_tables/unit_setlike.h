/* SPDX-License-Identifier: MIT */
/*
 * Unit tests shared by the two unique-key tables, rtab_set and rtab_oset,
 * run through a table of wrappers (struct sl_ops) so both get exactly the
 * same checks. test_set.c and test_oset.c add what is their own.
 *
 * What they prove, for each operation and edge of the contract in rtab.h and
 * rtab_set.h: empty table, one object, replace/insert_new on duplicates,
 * absent keys, the largest key and value and one byte more (-E2BIG, table
 * unchanged), NULL arguments (-EINVAL, lookups NULL), the empty key,
 * max_objects (-ENOSPC), allocation failure at every allocation of create,
 * insert, replace and resize (-ENOMEM, table unchanged and still usable),
 * deletes that never fail for lack of memory, count, memory accounting,
 * delete_match, foreach, value alignment and the hash field, growth to 200k
 * keys and shrink back, a second writer (-EBUSY, nothing changed), and that an
 * object a reader holds stays intact until it leaves its read-side section.
 */
#ifndef UNIT_SETLIKE_H
#define UNIT_SETLIKE_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <urcu/urcu-memb.h>
#include <xxhash.h>

#include "rtab.h"
#include "test_alloc.h"
#include "test_util.h"

struct sl_ops {
	const char *name;
	void *(*create)(const struct rtab_params *p);
	void (*destroy)(void *t);
	int (*insert)(void *t, const void *k, size_t kl, const void *v, size_t vl);
	int (*insert_new)(void *t, const void *k, size_t kl, const void *v, size_t vl);
	const struct rtab_obj *(*lookup)(const void *t, const void *k, size_t kl);
	int (*del)(void *t, const void *k, size_t kl);
	long (*delete_match)(void *t, rtab_match_fn fn, void *arg);
	int (*foreach)(const void *t, rtab_visit_fn fn, void *arg);
	size_t (*count)(const void *t);
	size_t (*memory)(const void *t);
};

/* Defines the struct sl_ops @p var for the table type @p T (set, oset). */
#define SL_OPS_DEFINE(var, T)                                                  \
	static void *var##_create(const struct rtab_params *p)                 \
	{ return rtab_##T##_create(p); }                                        \
	static void var##_destroy(void *t) { rtab_##T##_free(t); }              \
	static int var##_insert(void *t, const void *k, size_t kl,              \
				const void *v, size_t vl)                       \
	{ return rtab_##T##_insert(t, k, kl, v, vl); }                          \
	static int var##_insert_new(void *t, const void *k, size_t kl,          \
				    const void *v, size_t vl)                   \
	{ return rtab_##T##_insert_new(t, k, kl, v, vl); }                      \
	static const struct rtab_obj *var##_lookup(const void *t,               \
						   const void *k, size_t kl)    \
	{ return rtab_##T##_lookup(t, k, kl); }                                 \
	static int var##_del(void *t, const void *k, size_t kl)                 \
	{ return rtab_##T##_delete(t, k, kl); }                                 \
	static long var##_delete_match(void *t, rtab_match_fn fn, void *arg)    \
	{ return rtab_##T##_delete_match(t, fn, arg); }                         \
	static int var##_foreach(const void *t, rtab_visit_fn fn, void *arg)    \
	{ return rtab_##T##_foreach(t, fn, arg); }                              \
	static size_t var##_count(const void *t) { return rtab_##T##_count(t); } \
	static size_t var##_memory(const void *t) { return rtab_##T##_memory(t); } \
	static const struct sl_ops var = {                                      \
		#T, var##_create, var##_destroy, var##_insert,                  \
		var##_insert_new, var##_lookup, var##_del, var##_delete_match,  \
		var##_foreach, var##_count, var##_memory,                       \
	}

#define SL_SEED 0x5eed0fc0ffee1234u

/* A table under test with its counting allocator. */
struct sl_fx {
	const struct sl_ops *ops;
	struct ta_alloc ta;
	struct rtab_params p;
	void *t;
};

static void
sl_open(struct sl_fx *fx, const struct sl_ops *ops, size_t initial, size_t max)
{
	memset(fx, 0, sizeof(*fx));
	fx->ops = ops;
	ta_init(&fx->ta);
	fx->p.name = ops->name;
	fx->p.seed = SL_SEED;
	fx->p.initial_size = initial;
	fx->p.max_objects = max;
	fx->p.allocator = &fx->ta.a;
	fx->t = ops->create(&fx->p);
	CHECK(fx->t != NULL);
}

/* Frees the table and proves that every block came back. */
static void
sl_close(struct sl_fx *fx)
{
	fx->ops->destroy(fx->t);
	urcu_memb_barrier();
	CHECK_EQ(atomic_load(&fx->ta.live), 0);
	CHECK_EQ(atomic_load(&fx->ta.live_bytes), 0);
}

/* Key of id @p id: "k" and the decimal id, unique per id. */
static size_t
sl_key(unsigned id, unsigned char *buf)
{
	return (size_t)snprintf((char *)buf, 32, "k%u", id);
}

/* Value of (id, version): 0..47 bytes that differ from version to version. */
static size_t
sl_val(unsigned id, unsigned ver, unsigned char *buf)
{
	uint64_t h = tu_mix64(((uint64_t)id << 32) | ver);
	size_t len = (size_t)(h % 48);

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(tu_mix64(h + i) >> 56);
	if (len > 0)
		buf[0] = (unsigned char)ver; /* versions below 256 always differ */
	return len;
}

static int
sl_insert_id(const struct sl_fx *fx, unsigned id, unsigned ver)
{
	unsigned char k[32], v[64];
	size_t kl = sl_key(id, k), vl = sl_val(id, ver, v);

	return fx->ops->insert(fx->t, k, kl, v, vl);
}

static int
sl_insert_new_id(const struct sl_fx *fx, unsigned id, unsigned ver)
{
	unsigned char k[32], v[64];
	size_t kl = sl_key(id, k), vl = sl_val(id, ver, v);

	return fx->ops->insert_new(fx->t, k, kl, v, vl);
}

static int
sl_delete_id(const struct sl_fx *fx, unsigned id)
{
	unsigned char k[32];
	size_t kl = sl_key(id, k);

	return fx->ops->del(fx->t, k, kl);
}

/* Proves that @p id holds (key, value(id, ver)), or is absent if ver < 0. */
#define sl_expect(fx, id, ver) sl_expect_at(__FILE__, __LINE__, fx, id, ver)

static void
sl_expect_at(const char *file, int line, const struct sl_fx *fx, unsigned id, int ver)
{
	unsigned char k[32], v[64];
	size_t kl = sl_key(id, k), vl = 0;
	const struct rtab_obj *o;
	bool ok;

	if (ver >= 0)
		vl = sl_val(id, (unsigned)ver, v);
	urcu_memb_read_lock();
	o = fx->ops->lookup(fx->t, k, kl);
	if (ver < 0)
		ok = o == NULL;
	else
		ok = o != NULL && rtab_obj_key_len(o) == kl &&
		     memcmp(rtab_obj_key(o), k, kl) == 0 &&
		     rtab_obj_value_len(o) == vl &&
		     (vl == 0 || memcmp(rtab_obj_value(o), v, vl) == 0);
	urcu_memb_read_unlock();
	if (!ok)
		tu_failf(file, line, "lookup", "key %u: expected %s (version %d)",
			 id, ver < 0 ? "absent" : "present", ver);
}

/* Proves the table holds exactly ids [0, n) at version @p ver. */
static void
sl_expect_range(const struct sl_fx *fx, unsigned n, unsigned extra_absent, int ver)
{
	CHECK_EQ(fx->ops->count(fx->t), n);
	for (unsigned id = 0; id < n; id++)
		sl_expect(fx, id, ver);
	for (unsigned id = n; id < n + extra_absent; id++)
		sl_expect(fx, id, -1);
}

static int
sl_count_visit(const struct rtab_obj *o, void *arg)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
sl_foreach_count(const struct sl_fx *fx)
{
	size_t n = 0;
	int r;

	urcu_memb_read_lock();
	r = fx->ops->foreach(fx->t, sl_count_visit, &n);
	urcu_memb_read_unlock();
	CHECK_EQ(r, 0);
	return n;
}

static int
sl_match_all(const struct rtab_obj *o, void *arg)
{
	(void)o;
	(void)arg;
	return 1;
}

static int
sl_match_none_counted(const struct rtab_obj *o, void *arg)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void
sl_test_empty(const struct sl_ops *ops)
{
	struct sl_fx fx;
	unsigned char k[1] = { 0 };
	size_t calls = 0;

	sl_open(&fx, ops, 0, 0);
	CHECK_EQ(ops->count(fx.t), 0);
	sl_expect(&fx, 0, -1);
	urcu_memb_read_lock();
	CHECK(ops->lookup(fx.t, k, 0) == NULL);
	CHECK(ops->lookup(fx.t, k, 1) == NULL);
	urcu_memb_read_unlock();
	CHECK_EQ(sl_delete_id(&fx, 0), -ENOENT);
	CHECK_EQ(ops->del(fx.t, k, 0), -ENOENT);
	CHECK_EQ(sl_foreach_count(&fx), 0);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_none_counted, &calls), 0);
	CHECK_EQ(calls, 0);
	CHECK_EQ(ops->count(fx.t), 0);
	sl_close(&fx);
	ops->destroy(NULL); /* does nothing */

	/* Zero params and NULL params both mean every default. */
	{
		struct rtab_params zero;
		void *t;

		memset(&zero, 0, sizeof(zero));
		t = ops->create(&zero);
		CHECK(t != NULL);
		CHECK_EQ(ops->insert(t, "a", 1, "b", 1), 0);
		CHECK_EQ(ops->count(t), 1);
		ops->destroy(t);
		t = ops->create(NULL);
		CHECK(t != NULL);
		CHECK_EQ(ops->count(t), 0);
		ops->destroy(t);
	}
}

static void
sl_test_one(const struct sl_ops *ops)
{
	struct sl_fx fx;
	const struct rtab_obj *o;
	static const char key[] = "hello";
	static const char val[] = "world, 16 bytes!";

	sl_open(&fx, ops, 0, 0);
	CHECK_EQ(ops->insert(fx.t, key, 5, val, 16), 0);
	CHECK_EQ(ops->count(fx.t), 1);
	urcu_memb_read_lock();
	o = ops->lookup(fx.t, key, 5);
	CHECK(o != NULL);
	CHECK_EQ(rtab_obj_key_len(o), 5);
	CHECK_MEM(rtab_obj_key(o), key, 5);
	CHECK_EQ(rtab_obj_value_len(o), 16);
	CHECK_MEM(rtab_obj_value(o), val, 16);
	/* The documented hash field: XXH3 of the key with the table's seed. */
	CHECK(o->hash == XXH3_64bits_withSeed(key, 5, SL_SEED));
	/* Neither a prefix nor an extension of the key matches. */
	CHECK(ops->lookup(fx.t, key, 4) == NULL);
	CHECK(ops->lookup(fx.t, "hello!", 6) == NULL);
	CHECK(ops->lookup(fx.t, "hellp", 5) == NULL);
	CHECK(ops->lookup(fx.t, "", 0) == NULL);
	urcu_memb_read_unlock();
	CHECK_EQ(sl_foreach_count(&fx), 1);
	CHECK_EQ(ops->del(fx.t, key, 5), 0);
	CHECK_EQ(ops->count(fx.t), 0);
	urcu_memb_read_lock();
	CHECK(ops->lookup(fx.t, key, 5) == NULL);
	urcu_memb_read_unlock();
	CHECK_EQ(ops->del(fx.t, key, 5), -ENOENT);
	CHECK_EQ(sl_foreach_count(&fx), 0);
	/* Back in after a delete. */
	CHECK_EQ(ops->insert_new(fx.t, key, 5, val, 3), 0);
	CHECK_EQ(ops->count(fx.t), 1);
	sl_close(&fx);
}

static void
sl_test_duplicates(const struct sl_ops *ops)
{
	struct sl_fx fx;

	sl_open(&fx, ops, 0, 0);
	CHECK_EQ(sl_insert_id(&fx, 1, 1), 0);
	CHECK_EQ(sl_insert_id(&fx, 1, 2), 1);      /* replaced */
	CHECK_EQ(ops->count(fx.t), 1);
	sl_expect(&fx, 1, 2);
	CHECK_EQ(sl_insert_id(&fx, 1, 2), 1);      /* same value: still a replace */
	CHECK_EQ(ops->count(fx.t), 1);
	sl_expect(&fx, 1, 2);
	CHECK_EQ(sl_insert_new_id(&fx, 1, 3), -EEXIST);
	sl_expect(&fx, 1, 2);                       /* old value kept */
	CHECK_EQ(ops->count(fx.t), 1);
	CHECK_EQ(sl_insert_new_id(&fx, 2, 1), 0);
	CHECK_EQ(sl_insert_new_id(&fx, 2, 5), -EEXIST);
	sl_expect(&fx, 2, 1);
	CHECK_EQ(ops->count(fx.t), 2);
	/* Replace with an empty value, then with a long one. */
	CHECK_EQ(ops->insert(fx.t, "k1", 2, NULL, 0), 1);
	urcu_memb_read_lock();
	CHECK(ops->lookup(fx.t, "k1", 2) != NULL);
	CHECK_EQ(rtab_obj_value_len(ops->lookup(fx.t, "k1", 2)), 0);
	urcu_memb_read_unlock();
	CHECK_EQ(sl_insert_id(&fx, 1, 7), 1);
	sl_expect(&fx, 1, 7);
	CHECK_EQ(sl_foreach_count(&fx), 2);
	sl_close(&fx);
}

static void
sl_test_absent(const struct sl_ops *ops)
{
	struct sl_fx fx;

	sl_open(&fx, ops, 0, 0);
	for (unsigned id = 0; id < 100; id += 2)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	for (unsigned id = 0; id < 100; id++) {
		sl_expect(&fx, id, id % 2 ? -1 : 0);
		if (id % 2)
			CHECK_EQ(sl_delete_id(&fx, id), -ENOENT);
	}
	CHECK_EQ(ops->count(fx.t), 50);
	sl_close(&fx);
}

static void
sl_test_limits(const struct sl_ops *ops)
{
	struct sl_fx fx;
	unsigned char *big_k = malloc(RTAB_KEY_MAX + 1);
	unsigned char *big_v = malloc(RTAB_VALUE_MAX + 1);
	const struct rtab_obj *o;
	size_t mem;

	CHECK(big_k != NULL && big_v != NULL);
	for (size_t i = 0; i <= RTAB_KEY_MAX; i++)
		big_k[i] = (unsigned char)(i * 7 + 1);
	for (size_t i = 0; i <= RTAB_VALUE_MAX; i++)
		big_v[i] = (unsigned char)(i * 13 + 5);

	sl_open(&fx, ops, 0, 0);
	/* The largest key and the largest value fit. */
	CHECK_EQ(ops->insert(fx.t, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX), 0);
	CHECK_EQ(ops->insert_new(fx.t, big_k, RTAB_KEY_MAX - 1, big_v, 1), 0);
	urcu_memb_read_lock();
	o = ops->lookup(fx.t, big_k, RTAB_KEY_MAX);
	CHECK(o != NULL);
	CHECK_EQ(rtab_obj_key_len(o), RTAB_KEY_MAX);
	CHECK_MEM(rtab_obj_key(o), big_k, RTAB_KEY_MAX);
	CHECK_EQ(rtab_obj_value_len(o), RTAB_VALUE_MAX);
	CHECK_MEM(rtab_obj_value(o), big_v, RTAB_VALUE_MAX);
	urcu_memb_read_unlock();
	CHECK_EQ(ops->count(fx.t), 2);
	mem = ops->memory(fx.t);
	CHECK(mem >= RTAB_KEY_MAX + RTAB_VALUE_MAX);

	/* One byte more is -E2BIG and changes nothing. */
	CHECK_EQ(ops->insert(fx.t, big_k, RTAB_KEY_MAX + 1, "v", 1), -E2BIG);
	CHECK_EQ(ops->insert_new(fx.t, big_k, RTAB_KEY_MAX + 1, "v", 1), -E2BIG);
	CHECK_EQ(ops->insert(fx.t, "new", 3, big_v, RTAB_VALUE_MAX + 1), -E2BIG);
	CHECK_EQ(ops->insert_new(fx.t, "new", 3, big_v, RTAB_VALUE_MAX + 1), -E2BIG);
	/* ... also when the key is present: the old value stays. */
	CHECK_EQ(ops->insert(fx.t, big_k, RTAB_KEY_MAX, big_v + 1, RTAB_VALUE_MAX + 1), -E2BIG);
	CHECK_EQ(ops->count(fx.t), 2);
	CHECK_EQ(ops->memory(fx.t), mem);
	urcu_memb_read_lock();
	CHECK(ops->lookup(fx.t, big_k, RTAB_KEY_MAX + 1) == NULL);
	CHECK(ops->lookup(fx.t, "new", 3) == NULL);
	o = ops->lookup(fx.t, big_k, RTAB_KEY_MAX);
	CHECK(o != NULL);
	CHECK_EQ(rtab_obj_value_len(o), RTAB_VALUE_MAX);
	CHECK_MEM(rtab_obj_value(o), big_v, RTAB_VALUE_MAX);
	urcu_memb_read_unlock();
	/* A key too long to be present cannot be deleted. */
	CHECK(ops->del(fx.t, big_k, RTAB_KEY_MAX + 1) < 0);
	CHECK_EQ(ops->count(fx.t), 2);

	CHECK_EQ(ops->del(fx.t, big_k, RTAB_KEY_MAX), 0);
	CHECK_EQ(ops->del(fx.t, big_k, RTAB_KEY_MAX - 1), 0);
	CHECK_EQ(ops->count(fx.t), 0);
	sl_close(&fx);
	free(big_k);
	free(big_v);
}

static void
sl_test_einval(const struct sl_ops *ops)
{
	struct sl_fx fx;

	sl_open(&fx, ops, 0, 0);
	CHECK_EQ(sl_insert_id(&fx, 1, 1), 0);
	CHECK_EQ(ops->insert(NULL, "a", 1, "b", 1), -EINVAL);
	CHECK_EQ(ops->insert_new(NULL, "a", 1, "b", 1), -EINVAL);
	CHECK_EQ(ops->insert(fx.t, NULL, 1, "b", 1), -EINVAL);
	CHECK_EQ(ops->insert_new(fx.t, NULL, 1, "b", 1), -EINVAL);
	CHECK_EQ(ops->insert(fx.t, "a", 1, NULL, 1), -EINVAL);
	CHECK_EQ(ops->insert_new(fx.t, "a", 1, NULL, 1), -EINVAL);
	CHECK_EQ(ops->del(NULL, "k1", 2), -EINVAL);
	CHECK_EQ(ops->del(fx.t, NULL, 2), -EINVAL);
	CHECK_EQ(ops->delete_match(NULL, sl_match_all, NULL), -EINVAL);
	CHECK_EQ(ops->delete_match(fx.t, NULL, NULL), -EINVAL);
	urcu_memb_read_lock();
	CHECK(ops->lookup(NULL, "k1", 2) == NULL);
	CHECK(ops->lookup(fx.t, NULL, 2) == NULL);
	urcu_memb_read_unlock();
	/* Nothing of that changed the table. */
	CHECK_EQ(ops->count(fx.t), 1);
	sl_expect(&fx, 1, 1);
	/* A value of length 0 needs no pointer. */
	CHECK_EQ(ops->insert(fx.t, "a", 1, NULL, 0), 0);
	CHECK_EQ(ops->count(fx.t), 2);
	sl_close(&fx);
}

static void
sl_test_empty_key(const struct sl_ops *ops)
{
	struct sl_fx fx;
	const struct rtab_obj *o;

	sl_open(&fx, ops, 0, 0);
	CHECK_EQ(ops->insert(fx.t, "", 0, "empty", 5), 0);
	CHECK_EQ(ops->insert(fx.t, "\0", 1, "zero", 4), 0);
	CHECK_EQ(ops->count(fx.t), 2);
	CHECK_EQ(ops->insert_new(fx.t, "x", 0, "other", 5), -EEXIST);
	CHECK_EQ(ops->insert(fx.t, "y", 0, "EMPTY", 5), 1);
	urcu_memb_read_lock();
	o = ops->lookup(fx.t, "z", 0);
	CHECK(o != NULL);
	CHECK_EQ(rtab_obj_key_len(o), 0);
	CHECK_EQ(rtab_obj_value_len(o), 5);
	CHECK_MEM(rtab_obj_value(o), "EMPTY", 5);
	o = ops->lookup(fx.t, "\0", 1);
	CHECK(o != NULL);
	CHECK_MEM(rtab_obj_value(o), "zero", 4);
	urcu_memb_read_unlock();
	/* A NULL key of length 0 is the empty key too. */
	urcu_memb_read_lock();
	o = ops->lookup(fx.t, NULL, 0);
	CHECK(o != NULL && rtab_obj_key_len(o) == 0);
	urcu_memb_read_unlock();
	CHECK_EQ(ops->insert_new(fx.t, NULL, 0, "", 0), -EEXIST);
	CHECK_EQ(ops->del(fx.t, NULL, 0), 0);
	CHECK_EQ(ops->del(fx.t, "", 0), -ENOENT);
	CHECK_EQ(ops->insert(fx.t, NULL, 0, NULL, 0), 0);
	CHECK_EQ(ops->del(fx.t, "", 0), 0);
	CHECK_EQ(ops->count(fx.t), 1);
	urcu_memb_read_lock();
	CHECK(ops->lookup(fx.t, "", 0) == NULL);
	CHECK(ops->lookup(fx.t, "\0", 1) != NULL);
	urcu_memb_read_unlock();
	sl_close(&fx);
}

static void
sl_test_max_objects(const struct sl_ops *ops)
{
	struct sl_fx fx;

	sl_open(&fx, ops, 0, 10);
	for (unsigned id = 0; id < 10; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	CHECK_EQ(sl_insert_id(&fx, 10, 0), -ENOSPC);
	CHECK_EQ(sl_insert_new_id(&fx, 11, 0), -ENOSPC);
	sl_expect_range(&fx, 10, 5, 0);
	/* Replacing adds nothing, so a full table still takes it. */
	CHECK_EQ(sl_insert_id(&fx, 3, 1), 1);
	sl_expect(&fx, 3, 1);
	CHECK_EQ(sl_delete_id(&fx, 3), 0);
	CHECK_EQ(sl_insert_new_id(&fx, 10, 0), 0);
	CHECK_EQ(sl_insert_id(&fx, 11, 0), -ENOSPC);
	CHECK_EQ(ops->count(fx.t), 10);
	sl_close(&fx);
}

/* Every allocation of create, in turn, fails: NULL with errno ENOMEM and
 * nothing leaked. */
static void
sl_test_enomem_create(const struct sl_ops *ops)
{
	struct ta_alloc ta;
	struct rtab_params p;
	int failures = 0;

	for (long nth = 1; nth < 1000; nth++) {
		void *t;
		long failed;

		ta_init(&ta);
		memset(&p, 0, sizeof(p));
		p.allocator = &ta.a;
		p.initial_size = 100;
		ta_fail_nth(&ta, nth);
		errno = 0;
		t = ops->create(&p);
		ta_fail_nth(&ta, 0);
		failed = atomic_load(&ta.n_failed);
		if (t == NULL) {
			CHECK_EQ(errno, ENOMEM);
			CHECK_EQ(failed, 1);
			failures++;
		} else {
			CHECK_EQ(ops->insert(t, "k", 1, "v", 1), 0);
			ops->destroy(t);
		}
		urcu_memb_barrier();
		CHECK_EQ(atomic_load(&ta.live), 0);
		if (failed == 0)
			break; /* past the last allocation of create */
	}
	CHECK(failures > 0);
}

/*
 * Allocation failure on the nth allocation, for every n until a whole run
 * makes no failing allocation: each insert (new keys, growing the table from
 * 1 slot so every resize is on the way), replace and insert_new either
 * succeeds or returns -ENOMEM leaving the table as it was; the same call
 * then succeeds.
 */
static void
sl_test_enomem_sweep(const struct sl_ops *ops)
{
	enum { K = 120, EXTRA = 20 };
	int enomem_seen = 0;
	long nth;

	for (nth = 1; nth < 100000; nth++) {
		struct sl_fx fx;
		bool failed = false;

		sl_open(&fx, ops, 1, 0);
		ta_fail_nth(&fx.ta, nth);
		for (unsigned id = 0; id < K; id++) {
			size_t mem = ops->memory(fx.t);
			int r = sl_insert_id(&fx, id, 0);

			if (r == -ENOMEM) {
				CHECK(!failed);
				failed = true;
				enomem_seen++;
				CHECK_EQ(ops->memory(fx.t), mem);
				sl_expect_range(&fx, id, 1, 0);
				r = sl_insert_id(&fx, id, 0);
			}
			CHECK_EQ(r, 0);
		}
		for (unsigned id = 0; id < K; id++) {
			size_t mem = ops->memory(fx.t);
			int r = sl_insert_id(&fx, id, 1);

			if (r == -ENOMEM) {
				CHECK(!failed);
				failed = true;
				enomem_seen++;
				CHECK_EQ(ops->memory(fx.t), mem);
				CHECK_EQ(ops->count(fx.t), K);
				sl_expect(&fx, id, 0);
				if (id > 0)
					sl_expect(&fx, id - 1, 1);
				r = sl_insert_id(&fx, id, 1);
			}
			CHECK_EQ(r, 1);
		}
		for (unsigned id = K; id < K + EXTRA; id++) {
			int r = sl_insert_new_id(&fx, id, 1);

			if (r == -ENOMEM) {
				CHECK(!failed);
				failed = true;
				enomem_seen++;
				sl_expect_range(&fx, id, 1, 1);
				r = sl_insert_new_id(&fx, id, 1);
			}
			CHECK_EQ(r, 0);
		}
		sl_expect_range(&fx, K + EXTRA, 10, 1);
		CHECK_EQ(sl_foreach_count(&fx), K + EXTRA);
		sl_close(&fx);
		if (atomic_load(&fx.ta.n_failed) == 0)
			break; /* nth is past the last allocation of the run */
	}
	CHECK(nth > K); /* the sweep went through every insert at least */
	CHECK(enomem_seen > K);
}

/* Deletes never fail for lack of memory: with every allocation failing,
 * deleting 2,000 keys one by one and by delete_match (shrinking the index
 * and filling retire batches) still works. */
static void
sl_test_enomem_delete(const struct sl_ops *ops)
{
	struct sl_fx fx;
	size_t calls = 0;

	sl_open(&fx, ops, 0, 0);
	for (unsigned id = 0; id < 2000; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	atomic_store(&fx.ta.fail_all, 1);
	CHECK_EQ(sl_insert_id(&fx, 5000, 0), -ENOMEM);
	CHECK_EQ(sl_insert_id(&fx, 7, 1), -ENOMEM); /* replace too */
	sl_expect(&fx, 7, 0);
	for (unsigned id = 1000; id < 2000; id++)
		CHECK_EQ(sl_delete_id(&fx, id), 0);
	sl_expect_range(&fx, 1000, 1000, 0);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_none_counted, &calls), 0);
	CHECK_EQ(calls, 1000);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_all, NULL), 1000);
	CHECK_EQ(ops->count(fx.t), 0);
	sl_expect(&fx, 0, -1);
	atomic_store(&fx.ta.fail_all, 0);
	for (unsigned id = 0; id < 100; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 2), 0);
	sl_expect_range(&fx, 100, 100, 2);
	sl_close(&fx);

	/* The allocations deletes make (retire batches, smaller index arrays)
	 * fail one at a time: every delete still succeeds. */
	for (long nth = 1; nth < 1000; nth++) {
		sl_open(&fx, ops, 0, 0);
		for (unsigned id = 0; id < 700; id++)
			CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
		ta_fail_nth(&fx.ta, nth);
		for (unsigned id = 699; id >= 100; id--) {
			CHECK_EQ(sl_delete_id(&fx, id), 0);
			if (id % 50 == 0)
				sl_expect_range(&fx, id, 700 - id, 0);
		}
		ta_fail_nth(&fx.ta, 0);
		CHECK_EQ(sl_insert_id(&fx, 5000, 0), 0);
		CHECK_EQ(ops->count(fx.t), 101);
		sl_close(&fx);
		if (atomic_load(&fx.ta.n_failed) == 0)
			break;
	}
}

/* count follows every change; memory grows with objects and falls once
 * deleted objects are freed after their grace period. */
static void
sl_test_count_memory(const struct sl_ops *ops)
{
	enum { N = 3000, VLEN = 200 };
	struct sl_fx fx;
	unsigned char v[VLEN];
	size_t mem0, mem, peak;

	memset(v, 0x42, sizeof(v));
	sl_open(&fx, ops, 0, 0);
	mem0 = ops->memory(fx.t);
	for (unsigned id = 0; id < N; id++) {
		unsigned char k[32];
		size_t kl = sl_key(id, k);

		CHECK_EQ(ops->insert(fx.t, k, kl, v, VLEN), 0);
		CHECK_EQ(ops->count(fx.t), id + 1);
	}
	peak = ops->memory(fx.t);
	CHECK_MSG(peak >= mem0 + (size_t)N * VLEN, "memory %zu -> %zu", mem0, peak);
	/* The allocator saw at least what memory() reports as live objects. */
	CHECK((size_t)atomic_load(&fx.ta.live_bytes) >= (size_t)N * VLEN);
	for (unsigned id = 0; id < N; id++) {
		CHECK_EQ(sl_delete_id(&fx, id), 0);
		CHECK_EQ(ops->count(fx.t), N - id - 1);
	}
	urcu_memb_barrier();
	mem = ops->memory(fx.t);
	CHECK_MSG(mem + (size_t)N * VLEN / 2 < peak, "memory %zu after deletes, peak %zu",
		  mem, peak);
	/* memory() counts what the allocator holds for the table, and at most
	 * the table's own header besides. */
	CHECK(mem >= (size_t)atomic_load(&fx.ta.live_bytes));
	CHECK(mem - (size_t)atomic_load(&fx.ta.live_bytes) < 4096);
	sl_close(&fx);
}

struct sl_match_ctx {
	unsigned mod;
	size_t calls;
};

/* Matches keys "k<id>" with id % mod == 0. */
static int
sl_match_mod(const struct rtab_obj *o, void *arg)
{
	struct sl_match_ctx *c = arg;
	char buf[32];
	unsigned id;

	c->calls++;
	CHECK(rtab_obj_key_len(o) < sizeof(buf));
	memcpy(buf, rtab_obj_key(o), rtab_obj_key_len(o));
	buf[rtab_obj_key_len(o)] = '\0';
	CHECK(sscanf(buf, "k%u", &id) == 1);
	return id % c->mod == 0;
}

static void
sl_test_delete_match(const struct sl_ops *ops)
{
	enum { N = 1000 };
	struct sl_fx fx;
	struct sl_match_ctx c = { 3, 0 };

	sl_open(&fx, ops, 0, 0);
	for (unsigned id = 0; id < N; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_mod, &c), 334);
	CHECK_EQ(c.calls, N); /* each object offered exactly once */
	CHECK_EQ(ops->count(fx.t), N - 334);
	for (unsigned id = 0; id < N; id++)
		sl_expect(&fx, id, id % 3 == 0 ? -1 : 0);
	c.calls = 0;
	CHECK_EQ(ops->delete_match(fx.t, sl_match_mod, &c), 0); /* none left */
	CHECK_EQ(c.calls, N - 334);
	c.mod = 2;
	c.calls = 0;
	CHECK_EQ(ops->delete_match(fx.t, sl_match_mod, &c), 333);
	CHECK_EQ(ops->count(fx.t), 333);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_all, NULL), 333);
	CHECK_EQ(ops->count(fx.t), 0);
	CHECK_EQ(sl_foreach_count(&fx), 0);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_all, NULL), 0);
	/* The table works after it was emptied. */
	CHECK_EQ(sl_insert_id(&fx, 5, 5), 0);
	sl_expect(&fx, 5, 5);
	sl_close(&fx);
}

struct sl_visit_ctx {
	unsigned char seen[2000];
	size_t visits;
	size_t stop_at;
	int stop_ret;
};

static int
sl_visit_mark(const struct rtab_obj *o, void *arg)
{
	struct sl_visit_ctx *c = arg;
	char buf[32];
	unsigned id;

	CHECK(rtab_obj_key_len(o) < sizeof(buf));
	memcpy(buf, rtab_obj_key(o), rtab_obj_key_len(o));
	buf[rtab_obj_key_len(o)] = '\0';
	CHECK(sscanf(buf, "k%u", &id) == 1);
	CHECK(id < 2000);
	c->seen[id]++;
	c->visits++;
	return c->visits == c->stop_at ? c->stop_ret : 0;
}

static void
sl_test_foreach(const struct sl_ops *ops)
{
	enum { N = 1500 };
	struct sl_fx fx;
	struct sl_visit_ctx c;

	sl_open(&fx, ops, 0, 0);
	for (unsigned id = 0; id < N; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	for (unsigned id = 0; id < N; id += 5)
		CHECK_EQ(sl_insert_id(&fx, id, 1), 1); /* replaced ones too */
	memset(&c, 0, sizeof(c));
	urcu_memb_read_lock();
	CHECK_EQ(ops->foreach(fx.t, sl_visit_mark, &c), 0);
	urcu_memb_read_unlock();
	CHECK_EQ(c.visits, N);
	for (unsigned id = 0; id < 2000; id++)
		CHECK_EQ(c.seen[id], id < N ? 1 : 0);
	/* A non-zero return stops the walk at once and is returned. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 10;
	c.stop_ret = 42;
	urcu_memb_read_lock();
	CHECK_EQ(ops->foreach(fx.t, sl_visit_mark, &c), 42);
	urcu_memb_read_unlock();
	CHECK_EQ(c.visits, 10);
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	c.stop_ret = -7;
	urcu_memb_read_lock();
	CHECK_EQ(ops->foreach(fx.t, sl_visit_mark, &c), -7);
	urcu_memb_read_unlock();
	CHECK_EQ(c.visits, 1);
	memset(&c, 0, sizeof(c));
	c.stop_at = N;
	c.stop_ret = 3;
	urcu_memb_read_lock();
	CHECK_EQ(ops->foreach(fx.t, sl_visit_mark, &c), 3); /* on the last one */
	urcu_memb_read_unlock();
	CHECK_EQ(c.visits, N);
	sl_close(&fx);
}

/* Values start 8-byte aligned whatever the key length; key and value bytes
 * are exact. */
static void
sl_test_alignment(const struct sl_ops *ops)
{
	struct sl_fx fx;
	unsigned char k[40], v[24];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (unsigned char)(0xf0 ^ i);
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (unsigned char)(0x11 * i);
	sl_open(&fx, ops, 0, 0);
	for (size_t kl = 0; kl <= 33; kl++)
		CHECK_EQ(ops->insert(fx.t, k, kl, v, kl % 24), 0);
	urcu_memb_read_lock();
	for (size_t kl = 0; kl <= 33; kl++) {
		const struct rtab_obj *o = ops->lookup(fx.t, k, kl);

		CHECK(o != NULL);
		CHECK_EQ((uintptr_t)o % 8, 0);
		CHECK_EQ((uintptr_t)rtab_obj_value(o) % 8, 0);
		CHECK_EQ(rtab_obj_key_len(o), kl);
		CHECK_MEM(rtab_obj_key(o), k, kl);
		CHECK_EQ(rtab_obj_value_len(o), kl % 24);
		CHECK_MEM(rtab_obj_value(o), v, kl % 24);
		CHECK(o->hash == XXH3_64bits_withSeed(k, kl, SL_SEED));
	}
	urcu_memb_read_unlock();
	sl_close(&fx);
}

/* Grows from the default size to @p n keys, then deletes all in random
 * order: every key is found while present and gone once deleted, and the
 * memory goes back down (the index shrinks as well as grows). */
static void
sl_test_grow_shrink(const struct sl_ops *ops, unsigned n)
{
	struct sl_fx fx;
	struct tu_rng rng;
	unsigned *order = malloc(n * sizeof(*order));
	size_t empty, peak, end;

	CHECK(order != NULL);
	tu_rng_init(&rng, tu_seed ^ 0x6772);
	sl_open(&fx, ops, 0, 0);
	empty = ops->memory(fx.t);
	for (unsigned id = 0; id < n; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	CHECK_EQ(ops->count(fx.t), n);
	for (unsigned id = 0; id < n + 1000; id++)
		sl_expect(&fx, id, id < n ? 0 : -1);
	CHECK_EQ(sl_foreach_count(&fx), n);
	peak = ops->memory(fx.t);
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	for (unsigned i = n; i > 1; i--) {
		unsigned j = (unsigned)tu_rng_below(&rng, i), x = order[i - 1];

		order[i - 1] = order[j];
		order[j] = x;
	}
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(sl_delete_id(&fx, order[i]), 0);
		if (i % 97 == 0) {
			sl_expect(&fx, order[i], -1);
			if (i + 1 < n)
				sl_expect(&fx, order[i + 1], 0);
			CHECK_EQ(ops->count(fx.t), n - i - 1);
		}
	}
	CHECK_EQ(ops->count(fx.t), 0);
	CHECK_EQ(sl_foreach_count(&fx), 0);
	urcu_memb_barrier();
	end = ops->memory(fx.t);
	CHECK_MSG(end < empty + peak / 8, "memory: %zu new, %zu at %u keys, %zu when emptied",
		  empty, peak, n, end);
	/* And it grows again. */
	for (unsigned id = 0; id < 5000; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 3), 0);
	sl_expect_range(&fx, 5000, 100, 3);
	sl_close(&fx);
	free(order);
}

/* ------------------------------------------------- tests with two threads */

/* Waits (bounded) until *flag is non-zero. */
static void
sl_wait_flag(atomic_int *flag, const char *what)
{
	uint64_t deadline = tu_now_ns() + 30ull * 1000000000u;

	while (atomic_load(flag) == 0) {
		CHECK_MSG(tu_now_ns() < deadline, "timed out waiting for %s", what);
		sched_yield();
	}
}

struct sl_writer_ctx {
	const struct sl_ops *ops;
	void *t;
	atomic_int inside;
	atomic_int release;
	long result;
};

/* Holds its thread inside delete_match until released. */
static int
sl_match_block(const struct rtab_obj *o, void *arg)
{
	struct sl_writer_ctx *c = arg;

	(void)o;
	if (atomic_load(&c->inside) == 0) {
		atomic_store(&c->inside, 1);
		sl_wait_flag(&c->release, "the release of the first writer");
	}
	return 0;
}

static void *
sl_writer_thread(void *arg)
{
	struct sl_writer_ctx *c = arg;

	urcu_memb_register_thread();
	c->result = c->ops->delete_match(c->t, sl_match_block, c);
	urcu_memb_unregister_thread();
	return NULL;
}

/* While thread A is inside a write, every write of thread B is -EBUSY and
 * changes nothing; once A is out, B writes. */
static void
sl_test_second_writer(const struct sl_ops *ops)
{
	struct sl_fx fx;
	struct sl_writer_ctx c;
	pthread_t th;
	size_t mem;

	sl_open(&fx, ops, 0, 0);
	for (unsigned id = 0; id < 10; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	memset(&c, 0, sizeof(c));
	c.ops = ops;
	c.t = fx.t;
	CHECK_EQ(pthread_create(&th, NULL, sl_writer_thread, &c), 0);
	sl_wait_flag(&c.inside, "the first writer to enter delete_match");
	mem = ops->memory(fx.t);
	CHECK_EQ(sl_insert_id(&fx, 100, 0), -EBUSY);
	CHECK_EQ(sl_insert_id(&fx, 1, 1), -EBUSY);
	CHECK_EQ(sl_insert_new_id(&fx, 101, 0), -EBUSY);
	CHECK_EQ(sl_delete_id(&fx, 2), -EBUSY);
	CHECK_EQ(sl_delete_id(&fx, 200), -EBUSY);
	CHECK_EQ(ops->delete_match(fx.t, sl_match_all, NULL), -EBUSY);
	CHECK_EQ(ops->memory(fx.t), mem);
	sl_expect_range(&fx, 10, 200, 0);
	atomic_store(&c.release, 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(c.result, 0);
	CHECK_EQ(sl_insert_id(&fx, 100, 0), 0);
	CHECK_EQ(sl_delete_id(&fx, 2), 0);
	CHECK_EQ(ops->count(fx.t), 10);
	sl_close(&fx);
}

struct sl_reader_ctx {
	const struct sl_fx *fx;
	atomic_int holding;
	atomic_int writer_done;
	atomic_int reader_done;
};

static void *
sl_reader_thread(void *arg)
{
	struct sl_reader_ctx *c = arg;
	const struct sl_ops *ops = c->fx->ops;
	unsigned char k1[32], k2[32], v1[64], v2[64];
	size_t k1l = sl_key(1, k1), k2l = sl_key(2, k2);
	size_t v1l = sl_val(1, 0, v1), v2l = sl_val(2, 0, v2);
	const struct rtab_obj *o1, *o2;

	urcu_memb_register_thread();
	urcu_memb_read_lock();
	o1 = ops->lookup(c->fx->t, k1, k1l);
	o2 = ops->lookup(c->fx->t, k2, k2l);
	CHECK(o1 != NULL && o2 != NULL);
	atomic_store(&c->holding, 1);
	sl_wait_flag(&c->writer_done, "the writer (did it wait for a grace period "
		     "while a reader was inside its read-side section?)");
	/* Replaced and deleted meanwhile, and 1000 more objects retired, yet
	 * what this reader holds is intact. */
	CHECK_EQ(rtab_obj_key_len(o1), k1l);
	CHECK_MEM(rtab_obj_key(o1), k1, k1l);
	CHECK_EQ(rtab_obj_value_len(o1), v1l);
	CHECK_MEM(rtab_obj_value(o1), v1, v1l);
	CHECK_EQ(rtab_obj_key_len(o2), k2l);
	CHECK_MEM(rtab_obj_key(o2), k2, k2l);
	CHECK_EQ(rtab_obj_value_len(o2), v2l);
	CHECK_MEM(rtab_obj_value(o2), v2, v2l);
	/* A new lookup sees the new state. */
	CHECK(ops->lookup(c->fx->t, k2, k2l) == NULL);
	o1 = ops->lookup(c->fx->t, k1, k1l);
	CHECK(o1 != NULL);
	v1l = sl_val(1, 1, v1);
	CHECK_EQ(rtab_obj_value_len(o1), v1l);
	CHECK_MEM(rtab_obj_value(o1), v1, v1l);
	urcu_memb_read_unlock();
	urcu_memb_unregister_thread();
	atomic_store(&c->reader_done, 1);
	return NULL;
}

/* An object a reader got stays intact (not freed, not changed) until the
 * reader leaves its read-side section, though the writer replaced and
 * deleted it and retired enough memory to send batches to call_rcu; the
 * writer never waits for that reader. The allocator poisons freed blocks,
 * so an early free shows as wrong bytes even without a sanitizer. */
static void
sl_test_reader_holds(const struct sl_ops *ops)
{
	struct sl_fx fx;
	struct sl_reader_ctx c;
	pthread_t th;

	sl_open(&fx, ops, 0, 0);
	for (unsigned id = 0; id < 10; id++)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	memset(&c, 0, sizeof(c));
	c.fx = &fx;
	CHECK_EQ(pthread_create(&th, NULL, sl_reader_thread, &c), 0);
	sl_wait_flag(&c.holding, "the reader");
	CHECK_EQ(sl_insert_id(&fx, 1, 1), 1);
	CHECK_EQ(sl_delete_id(&fx, 2), 0);
	for (unsigned round = 0; round < 4; round++)
		for (unsigned id = 100; id < 1100; id++)
			CHECK_EQ(sl_insert_id(&fx, id, round), round ? 1 : 0);
	for (unsigned id = 100; id < 1100; id++)
		CHECK_EQ(sl_delete_id(&fx, id), 0);
	CHECK_EQ(ops->count(fx.t), 9);
	atomic_store(&c.writer_done, 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(atomic_load(&c.reader_done), 1);
	sl_close(&fx);
}

/* Runs @p call, printing its name and how long it took. */
#define SL_RUN(name, call)                                                     \
	do {                                                                   \
		uint64_t t0_ = tu_now_ns();                                    \
		call;                                                          \
		printf("  %-28s ok  %6.3f s\n", name,                          \
		       (double)(tu_now_ns() - t0_) / 1e9);                     \
		fflush(stdout);                                                \
	} while (0)

/* Runs every shared test on @p ops. */
static void
sl_run_all(const struct sl_ops *ops, unsigned big)
{
	SL_RUN("empty", sl_test_empty(ops));
	SL_RUN("one", sl_test_one(ops));
	SL_RUN("duplicates", sl_test_duplicates(ops));
	SL_RUN("absent", sl_test_absent(ops));
	SL_RUN("limits", sl_test_limits(ops));
	SL_RUN("einval", sl_test_einval(ops));
	SL_RUN("empty_key", sl_test_empty_key(ops));
	SL_RUN("max_objects", sl_test_max_objects(ops));
	SL_RUN("enomem_create", sl_test_enomem_create(ops));
	SL_RUN("enomem_sweep", sl_test_enomem_sweep(ops));
	SL_RUN("enomem_delete", sl_test_enomem_delete(ops));
	SL_RUN("count_memory", sl_test_count_memory(ops));
	SL_RUN("delete_match", sl_test_delete_match(ops));
	SL_RUN("foreach", sl_test_foreach(ops));
	SL_RUN("alignment", sl_test_alignment(ops));
	SL_RUN("grow_shrink", sl_test_grow_shrink(ops, big));
	SL_RUN("second_writer", sl_test_second_writer(ops));
	SL_RUN("reader_holds", sl_test_reader_holds(ops));
}

#endif /* UNIT_SETLIKE_H */
