/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of rtab_bag. Proves every operation of rtab_bag.h and each edge
 * of the contract in rtab.h: empty bag; one object; an identical object is
 * not added again (1) while the same key with another value is (0), values
 * that differ only in length or emptiness are different objects; lookup
 * visits exactly the key's objects and stops on a non-zero return;
 * lookup_object and key_count; delete of a key returns how many went (0 if
 * none); delete_object of an absent object is -ENOENT; the largest key and
 * value and one byte more (-E2BIG, bag unchanged); NULL arguments (-EINVAL,
 * lookups find nothing); the empty key; max_objects counts objects (-ENOSPC);
 * allocation failure at every allocation of create, insert and the deletes
 * (-ENOMEM, bag unchanged and still usable; deletes never fail); count and
 * memory; delete_match; foreach; value alignment and the hash field; growth
 * to 200k objects (many keys, and one key with 20k objects) and shrink; a
 * second writer gets -EBUSY and changes nothing; an object a reader holds
 * stays intact until it leaves its read-side section.
 *
 * Options: --seed N, --big N (objects of the grow/shrink test).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include <urcu/urcu-memb.h>
#include <xxhash.h>

#include "rtab_bag.h"
#include "test_alloc.h"
#include "test_util.h"

#define BG_SEED 0xba9ba9ba9ba9ba9u

struct bg_fx {
	struct ta_alloc ta;
	struct rtab_params p;
	struct rtab_bag *b;
};

static void
bg_open(struct bg_fx *fx, size_t initial, size_t max)
{
	memset(fx, 0, sizeof(*fx));
	ta_init(&fx->ta);
	fx->p.name = "bag";
	fx->p.seed = BG_SEED;
	fx->p.initial_size = initial;
	fx->p.max_objects = max;
	fx->p.allocator = &fx->ta.a;
	fx->b = rtab_bag_create(&fx->p);
	CHECK(fx->b != NULL);
}

static void
bg_close(struct bg_fx *fx)
{
	rtab_bag_free(fx->b);
	urcu_memb_barrier();
	CHECK_EQ(atomic_load(&fx->ta.live), 0);
	CHECK_EQ(atomic_load(&fx->ta.live_bytes), 0);
}

static size_t
bg_key(unsigned kid, unsigned char *buf)
{
	return (size_t)snprintf((char *)buf, 32, "k%u", kid);
}

/* Value @p vid: "v<vid>" then vid % 7 bytes more, so lengths vary. */
static size_t
bg_val(unsigned vid, unsigned char *buf)
{
	size_t n = (size_t)snprintf((char *)buf, 32, "v%u", vid);

	for (unsigned i = 0; i < vid % 7; i++)
		buf[n++] = (unsigned char)(0xf0 + i);
	return n;
}

static int
bg_insert(const struct bg_fx *fx, unsigned kid, unsigned vid)
{
	unsigned char k[32], v[40];
	size_t kl = bg_key(kid, k), vl = bg_val(vid, v);

	return rtab_bag_insert(fx->b, k, kl, v, vl);
}

static int
bg_delete_object(const struct bg_fx *fx, unsigned kid, unsigned vid)
{
	unsigned char k[32], v[40];
	size_t kl = bg_key(kid, k), vl = bg_val(vid, v);

	return rtab_bag_delete_object(fx->b, k, kl, v, vl);
}

static long
bg_delete(const struct bg_fx *fx, unsigned kid)
{
	unsigned char k[32];
	size_t kl = bg_key(kid, k);

	return rtab_bag_delete(fx->b, k, kl);
}

static bool
bg_has(const struct bg_fx *fx, unsigned kid, unsigned vid)
{
	unsigned char k[32], v[40];
	size_t kl = bg_key(kid, k), vl = bg_val(vid, v);
	const struct rtab_obj *o;
	bool ok = true;

	urcu_memb_read_lock();
	o = rtab_bag_lookup_object(fx->b, k, kl, v, vl);
	if (o != NULL)
		ok = rtab_obj_key_len(o) == kl && memcmp(rtab_obj_key(o), k, kl) == 0 &&
		     rtab_obj_value_len(o) == vl && memcmp(rtab_obj_value(o), v, vl) == 0;
	urcu_memb_read_unlock();
	CHECK_MSG(ok, "object (%u, %u) with wrong bytes", kid, vid);
	return o != NULL;
}

/* What one rtab_bag_lookup() saw: value ids, each counted. */
struct bg_seen {
	unsigned kid;
	unsigned nvals;
	unsigned char *count;   /* [nvals] */
	size_t visits;
	size_t stop_at;
	int stop_ret;
};

/* Decodes "v<vid>" and checks that the object is exactly bg_val(vid). */
static unsigned
bg_val_id(const struct rtab_obj *o)
{
	char buf[48];
	unsigned char v[40];
	unsigned vid;
	size_t n = rtab_obj_value_len(o);

	CHECK(n < sizeof(buf));
	memcpy(buf, rtab_obj_value(o), n);
	buf[n] = '\0';
	CHECK(sscanf(buf, "v%u", &vid) == 1);
	CHECK_EQ(bg_val(vid, v), n);
	CHECK_MEM(v, rtab_obj_value(o), n);
	return vid;
}

static int
bg_visit(const struct rtab_obj *o, void *arg)
{
	struct bg_seen *s = arg;
	unsigned char k[32];
	size_t kl = bg_key(s->kid, k);
	unsigned vid = bg_val_id(o);

	CHECK_EQ(rtab_obj_key_len(o), kl);
	CHECK_MEM(rtab_obj_key(o), k, kl);
	CHECK_MSG(vid < s->nvals, "value %u", vid);
	s->count[vid]++;
	s->visits++;
	return s->visits == s->stop_at ? s->stop_ret : 0;
}

/* Proves that key @p kid holds exactly the values whose bit is set in
 * @p want (nvals of them), through lookup, lookup_object and key_count. */
static void
bg_expect_key(const struct bg_fx *fx, unsigned kid, const unsigned char *want,
	      unsigned nvals)
{
	unsigned char k[32];
	size_t kl = bg_key(kid, k), n = 0;
	struct bg_seen s;

	memset(&s, 0, sizeof(s));
	s.kid = kid;
	s.nvals = nvals;
	s.count = calloc(nvals, 1);
	CHECK(s.count != NULL);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_lookup(fx->b, k, kl, bg_visit, &s), 0);
	for (unsigned v = 0; v < nvals; v++) {
		CHECK_MSG(s.count[v] == (want[v] ? 1 : 0), "key %u value %u seen %u times",
			  kid, v, s.count[v]);
		n += want[v] ? 1 : 0;
	}
	CHECK_EQ(rtab_bag_key_count(fx->b, k, kl), n);
	urcu_memb_read_unlock();
	for (unsigned v = 0; v < nvals; v++)
		CHECK_EQ(bg_has(fx, kid, v), want[v] ? 1 : 0);
	CHECK_EQ(s.visits, n);
	free(s.count);
}

static int
bg_count_visit(const struct rtab_obj *o, void *arg)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
bg_foreach_count(const struct bg_fx *fx)
{
	size_t n = 0;

	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_foreach(fx->b, bg_count_visit, &n), 0);
	urcu_memb_read_unlock();
	return n;
}

static int
bg_match_all(const struct rtab_obj *o, void *arg)
{
	(void)o;
	(void)arg;
	return 1;
}

static int
bg_match_none_counted(const struct rtab_obj *o, void *arg)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void
test_empty(void)
{
	struct bg_fx fx;
	size_t n = 0;
	unsigned char none[1] = { 0 };

	bg_open(&fx, 0, 0);
	CHECK_EQ(rtab_bag_count(fx.b), 0);
	bg_expect_key(&fx, 1, none, 1);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_lookup(fx.b, "", 0, bg_count_visit, &n), 0);
	CHECK_EQ(rtab_bag_key_count(fx.b, "", 0), 0);
	CHECK(rtab_bag_lookup_object(fx.b, "", 0, "", 0) == NULL);
	urcu_memb_read_unlock();
	CHECK_EQ(n, 0);
	CHECK_EQ(bg_delete(&fx, 1), 0);
	CHECK_EQ(bg_delete_object(&fx, 1, 0), -ENOENT);
	CHECK_EQ(bg_foreach_count(&fx), 0);
	CHECK_EQ(rtab_bag_delete_match(fx.b, bg_match_none_counted, &n), 0);
	CHECK_EQ(n, 0);
	bg_close(&fx);
	rtab_bag_free(NULL);
}

static void
test_objects(void)
{
	struct bg_fx fx;
	unsigned char want[8];
	const struct rtab_obj *o;

	bg_open(&fx, 0, 0);
	CHECK_EQ(bg_insert(&fx, 1, 0), 0);
	CHECK_EQ(rtab_bag_count(fx.b), 1);
	urcu_memb_read_lock();
	o = rtab_bag_lookup_object(fx.b, "k1", 2, "v0", 2);
	CHECK(o != NULL);
	CHECK(o->hash == XXH3_64bits_withSeed("k1", 2, BG_SEED));
	CHECK_EQ((uintptr_t)rtab_obj_value(o) % 8, 0);
	urcu_memb_read_unlock();
	/* The identical object again: 1, nothing added. */
	CHECK_EQ(bg_insert(&fx, 1, 0), 1);
	CHECK_EQ(rtab_bag_count(fx.b), 1);
	/* The same key with other values: added. */
	CHECK_EQ(bg_insert(&fx, 1, 1), 0);
	CHECK_EQ(bg_insert(&fx, 1, 2), 0);
	CHECK_EQ(bg_insert(&fx, 1, 2), 1);
	CHECK_EQ(rtab_bag_count(fx.b), 3);
	/* The same value under another key: another object. */
	CHECK_EQ(bg_insert(&fx, 2, 1), 0);
	CHECK_EQ(rtab_bag_count(fx.b), 4);
	memset(want, 0, sizeof(want));
	want[0] = want[1] = want[2] = 1;
	bg_expect_key(&fx, 1, want, 8);
	memset(want, 0, sizeof(want));
	want[1] = 1;
	bg_expect_key(&fx, 2, want, 8);
	memset(want, 0, sizeof(want));
	bg_expect_key(&fx, 3, want, 8);
	CHECK_EQ(bg_foreach_count(&fx), 4);

	/* Values that differ only in length, or are empty, are different. */
	CHECK_EQ(rtab_bag_insert(fx.b, "p", 1, "ab", 2), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, "p", 1, "ab\0", 3), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, "p", 1, "a", 1), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, "p", 1, "", 0), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, "p", 1, NULL, 0), 1); /* the same empty value */
	CHECK_EQ(rtab_bag_insert(fx.b, "p", 1, "ab", 2), 1);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_key_count(fx.b, "p", 1), 4);
	CHECK(rtab_bag_lookup_object(fx.b, "p", 1, "ab\0", 3) != NULL);
	CHECK(rtab_bag_lookup_object(fx.b, "p", 1, "ab\0\0", 4) == NULL);
	CHECK(rtab_bag_lookup_object(fx.b, "p", 1, "b", 1) == NULL);
	o = rtab_bag_lookup_object(fx.b, "p", 1, NULL, 0);
	CHECK(o != NULL);
	CHECK_EQ(rtab_obj_value_len(o), 0);
	CHECK(rtab_bag_lookup_object(fx.b, "p\0", 2, "ab", 2) == NULL);
	urcu_memb_read_unlock();
	CHECK_EQ(rtab_bag_delete_object(fx.b, "p", 1, "ab\0", 3), 0);
	CHECK_EQ(rtab_bag_delete_object(fx.b, "p", 1, "ab\0", 3), -ENOENT);
	urcu_memb_read_lock();
	CHECK(rtab_bag_lookup_object(fx.b, "p", 1, "ab", 2) != NULL);
	CHECK_EQ(rtab_bag_key_count(fx.b, "p", 1), 3);
	urcu_memb_read_unlock();

	/* delete_object takes exactly one object. */
	CHECK_EQ(bg_delete_object(&fx, 1, 1), 0);
	CHECK_EQ(bg_delete_object(&fx, 1, 1), -ENOENT);
	CHECK_EQ(bg_delete_object(&fx, 1, 5), -ENOENT);  /* key present, value not */
	CHECK_EQ(bg_delete_object(&fx, 9, 0), -ENOENT);  /* key absent */
	memset(want, 0, sizeof(want));
	want[0] = want[2] = 1;
	bg_expect_key(&fx, 1, want, 8);
	memset(want, 0, sizeof(want));
	want[1] = 1;
	bg_expect_key(&fx, 2, want, 8);
	CHECK_EQ(rtab_bag_count(fx.b), 6);

	/* delete of a key: how many went. */
	CHECK_EQ(bg_delete(&fx, 1), 2);
	CHECK_EQ(bg_delete(&fx, 1), 0);
	CHECK_EQ(rtab_bag_delete(fx.b, "p", 1), 3);
	CHECK_EQ(rtab_bag_count(fx.b), 1);
	memset(want, 0, sizeof(want));
	bg_expect_key(&fx, 1, want, 8);
	want[1] = 1;
	bg_expect_key(&fx, 2, want, 8);
	/* The last object of a key, then the key again. */
	CHECK_EQ(bg_delete_object(&fx, 2, 1), 0);
	CHECK_EQ(rtab_bag_count(fx.b), 0);
	CHECK_EQ(bg_insert(&fx, 2, 3), 0);
	memset(want, 0, sizeof(want));
	want[3] = 1;
	bg_expect_key(&fx, 2, want, 8);
	CHECK_EQ(bg_foreach_count(&fx), 1);
	bg_close(&fx);
}

/* lookup and foreach stop on a non-zero return and return it. */
static void
test_visit_stop(void)
{
	enum { NV = 50 };
	struct bg_fx fx;
	struct bg_seen s;
	unsigned char count[NV];
	size_t n;

	bg_open(&fx, 0, 0);
	for (unsigned v = 0; v < NV; v++)
		CHECK_EQ(bg_insert(&fx, 7, v), 0);
	for (unsigned k = 0; k < 100; k++)
		CHECK_EQ(bg_insert(&fx, 100 + k, 1), 0);
	for (size_t stop = 1; stop <= NV; stop += 7) {
		memset(&s, 0, sizeof(s));
		memset(count, 0, sizeof(count));
		s.kid = 7;
		s.nvals = NV;
		s.count = count;
		s.stop_at = stop;
		s.stop_ret = -(int)stop;
		urcu_memb_read_lock();
		CHECK_EQ(rtab_bag_lookup(fx.b, "k7", 2, bg_visit, &s), -(int)stop);
		urcu_memb_read_unlock();
		CHECK_EQ(s.visits, stop);
	}
	n = 0;
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_foreach(fx.b, bg_count_visit, &n), 0);
	urcu_memb_read_unlock();
	CHECK_EQ(n, NV + 100);
	bg_close(&fx);
}

static int
bg_stop_after(const struct rtab_obj *o, void *arg)
{
	size_t *left = arg;

	(void)o;
	return --*left == 0 ? 99 : 0;
}

/* foreach counts every object and stops on a non-zero return. */
static void
test_foreach(void)
{
	enum { NK = 300, NV = 5 };
	struct bg_fx fx;
	size_t left, total = 0;

	bg_open(&fx, 0, 0);
	for (unsigned k = 0; k < NK; k++) {
		for (unsigned v = 0; v <= k % NV; v++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
		total += k % NV + 1;
	}
	CHECK_EQ(bg_foreach_count(&fx), total);
	CHECK_EQ(rtab_bag_count(fx.b), total);
	left = 17;
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_foreach(fx.b, bg_stop_after, &left), 99);
	urcu_memb_read_unlock();
	CHECK_EQ(left, 0);
	left = total;
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_foreach(fx.b, bg_stop_after, &left), 99); /* the last */
	urcu_memb_read_unlock();
	CHECK_EQ(left, 0);
	bg_close(&fx);
}

struct bg_mark_ctx {
	unsigned char seen[400][5];
};

static int
bg_visit_mark(const struct rtab_obj *o, void *arg)
{
	struct bg_mark_ctx *c = arg;
	char buf[32];
	unsigned kid, vid = bg_val_id(o);

	CHECK(rtab_obj_key_len(o) < sizeof(buf));
	memcpy(buf, rtab_obj_key(o), rtab_obj_key_len(o));
	buf[rtab_obj_key_len(o)] = '\0';
	CHECK(sscanf(buf, "k%u", &kid) == 1);
	CHECK(kid < 400 && vid < 5);
	c->seen[kid][vid]++;
	return 0;
}

/* foreach visits each object exactly once, whatever the number per key. */
static void
test_foreach_once(void)
{
	struct bg_fx fx;
	static struct bg_mark_ctx c;

	bg_open(&fx, 0, 0);
	for (unsigned k = 0; k < 400; k++)
		for (unsigned v = 0; v <= k % 5; v++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
	memset(&c, 0, sizeof(c));
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_foreach(fx.b, bg_visit_mark, &c), 0);
	urcu_memb_read_unlock();
	for (unsigned k = 0; k < 400; k++)
		for (unsigned v = 0; v < 5; v++)
			CHECK_EQ(c.seen[k][v], v <= k % 5 ? 1 : 0);
	bg_close(&fx);
}

static void
test_limits(void)
{
	struct bg_fx fx;
	unsigned char *big_k = malloc(RTAB_KEY_MAX + 1);
	unsigned char *big_v = malloc(RTAB_VALUE_MAX + 1);
	const struct rtab_obj *o;
	size_t mem;

	CHECK(big_k != NULL && big_v != NULL);
	for (size_t i = 0; i <= RTAB_KEY_MAX; i++)
		big_k[i] = (unsigned char)(i * 3 + 1);
	for (size_t i = 0; i <= RTAB_VALUE_MAX; i++)
		big_v[i] = (unsigned char)(i * 11 + 5);
	bg_open(&fx, 0, 0);
	CHECK_EQ(rtab_bag_insert(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX - 1), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX), 1);
	urcu_memb_read_lock();
	o = rtab_bag_lookup_object(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX);
	CHECK(o != NULL);
	CHECK_EQ(rtab_obj_key_len(o), RTAB_KEY_MAX);
	CHECK_MEM(rtab_obj_key(o), big_k, RTAB_KEY_MAX);
	CHECK_EQ(rtab_obj_value_len(o), RTAB_VALUE_MAX);
	CHECK_MEM(rtab_obj_value(o), big_v, RTAB_VALUE_MAX);
	CHECK_EQ(rtab_bag_key_count(fx.b, big_k, RTAB_KEY_MAX), 2);
	urcu_memb_read_unlock();
	mem = rtab_bag_memory(fx.b);
	CHECK(mem >= RTAB_KEY_MAX + 2 * (size_t)RTAB_VALUE_MAX);

	CHECK_EQ(rtab_bag_insert(fx.b, big_k, RTAB_KEY_MAX + 1, "v", 1), -E2BIG);
	CHECK_EQ(rtab_bag_insert(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX + 1), -E2BIG);
	CHECK_EQ(rtab_bag_insert(fx.b, "new", 3, big_v, RTAB_VALUE_MAX + 1), -E2BIG);
	CHECK_EQ(rtab_bag_count(fx.b), 2);
	CHECK_EQ(rtab_bag_memory(fx.b), mem);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_key_count(fx.b, big_k, RTAB_KEY_MAX), 2);
	CHECK_EQ(rtab_bag_key_count(fx.b, "new", 3), 0);
	CHECK(rtab_bag_lookup_object(fx.b, big_k, RTAB_KEY_MAX + 1, "v", 1) == NULL);
	CHECK(rtab_bag_lookup_object(fx.b, big_k, RTAB_KEY_MAX, big_v,
				     RTAB_VALUE_MAX + 1) == NULL);
	urcu_memb_read_unlock();
	CHECK(rtab_bag_delete_object(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX + 1) < 0);
	CHECK(rtab_bag_delete(fx.b, big_k, RTAB_KEY_MAX + 1) <= 0);
	CHECK_EQ(rtab_bag_count(fx.b), 2);
	CHECK_EQ(rtab_bag_delete_object(fx.b, big_k, RTAB_KEY_MAX, big_v, RTAB_VALUE_MAX), 0);
	CHECK_EQ(rtab_bag_delete(fx.b, big_k, RTAB_KEY_MAX), 1);
	CHECK_EQ(rtab_bag_count(fx.b), 0);
	bg_close(&fx);
	free(big_k);
	free(big_v);
}

static void
test_einval(void)
{
	struct bg_fx fx;
	size_t n = 0;

	bg_open(&fx, 0, 0);
	CHECK_EQ(bg_insert(&fx, 1, 1), 0);
	CHECK_EQ(rtab_bag_insert(NULL, "a", 1, "b", 1), -EINVAL);
	CHECK_EQ(rtab_bag_insert(fx.b, NULL, 1, "b", 1), -EINVAL);
	CHECK_EQ(rtab_bag_insert(fx.b, "a", 1, NULL, 1), -EINVAL);
	CHECK_EQ(rtab_bag_delete(NULL, "k1", 2), -EINVAL);
	CHECK_EQ(rtab_bag_delete(fx.b, NULL, 2), -EINVAL);
	CHECK_EQ(rtab_bag_delete_object(NULL, "k1", 2, "v1", 2), -EINVAL);
	CHECK_EQ(rtab_bag_delete_object(fx.b, NULL, 2, "v1", 2), -EINVAL);
	CHECK_EQ(rtab_bag_delete_object(fx.b, "k1", 2, NULL, 2), -EINVAL);
	CHECK_EQ(rtab_bag_delete_match(NULL, bg_match_all, NULL), -EINVAL);
	CHECK_EQ(rtab_bag_delete_match(fx.b, NULL, NULL), -EINVAL);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_lookup(NULL, "k1", 2, bg_count_visit, &n), 0);
	CHECK_EQ(rtab_bag_lookup(fx.b, NULL, 2, bg_count_visit, &n), 0);
	CHECK(rtab_bag_lookup_object(NULL, "k1", 2, "v1", 2) == NULL);
	CHECK(rtab_bag_lookup_object(fx.b, NULL, 2, "v1", 2) == NULL);
	CHECK(rtab_bag_lookup_object(fx.b, "k1", 2, NULL, 2) == NULL);
	CHECK_EQ(rtab_bag_key_count(NULL, "k1", 2), 0);
	CHECK_EQ(rtab_bag_key_count(fx.b, NULL, 2), 0);
	CHECK_EQ(rtab_bag_key_count(fx.b, "k1", 2), 1);
	urcu_memb_read_unlock();
	CHECK_EQ(n, 0);
	CHECK_EQ(rtab_bag_count(fx.b), 1);
	CHECK(bg_has(&fx, 1, 1));
	bg_close(&fx);
}

static void
test_empty_key(void)
{
	struct bg_fx fx;

	bg_open(&fx, 0, 0);
	CHECK_EQ(rtab_bag_insert(fx.b, "", 0, "a", 1), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, NULL, 0, "b", 1), 0);
	CHECK_EQ(rtab_bag_insert(fx.b, "x", 0, "a", 1), 1);
	CHECK_EQ(rtab_bag_insert(fx.b, "\0", 1, "a", 1), 0);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_key_count(fx.b, "", 0), 2);
	CHECK_EQ(rtab_bag_key_count(fx.b, "\0", 1), 1);
	CHECK(rtab_bag_lookup_object(fx.b, "", 0, "b", 1) != NULL);
	urcu_memb_read_unlock();
	CHECK_EQ(rtab_bag_delete(fx.b, "", 0), 2);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_key_count(fx.b, "", 0), 0);
	CHECK_EQ(rtab_bag_key_count(fx.b, "\0", 1), 1);
	urcu_memb_read_unlock();
	CHECK_EQ(rtab_bag_count(fx.b), 1);
	bg_close(&fx);
}

static void
test_max_objects(void)
{
	struct bg_fx fx;

	bg_open(&fx, 0, 10);
	for (unsigned v = 0; v < 6; v++)
		CHECK_EQ(bg_insert(&fx, 1, v), 0);
	for (unsigned v = 0; v < 4; v++)
		CHECK_EQ(bg_insert(&fx, 2, v), 0);
	/* Objects count, not keys: a new value of a present key is refused. */
	CHECK_EQ(bg_insert(&fx, 1, 6), -ENOSPC);
	CHECK_EQ(bg_insert(&fx, 3, 0), -ENOSPC);
	/* An identical object adds nothing: still 1. */
	CHECK_EQ(bg_insert(&fx, 1, 0), 1);
	CHECK_EQ(rtab_bag_count(fx.b), 10);
	CHECK(!bg_has(&fx, 1, 6));
	CHECK(!bg_has(&fx, 3, 0));
	CHECK_EQ(bg_delete_object(&fx, 2, 0), 0);
	CHECK_EQ(bg_insert(&fx, 3, 0), 0);
	CHECK_EQ(bg_insert(&fx, 3, 1), -ENOSPC);
	CHECK_EQ(bg_delete(&fx, 1), 6);
	CHECK_EQ(bg_insert(&fx, 3, 1), 0);
	CHECK_EQ(rtab_bag_count(fx.b), 5);
	bg_close(&fx);
}

static void
test_enomem_create(void)
{
	int failures = 0;

	for (long nth = 1; nth < 1000; nth++) {
		struct ta_alloc ta;
		struct rtab_params p;
		struct rtab_bag *b;
		long failed;

		ta_init(&ta);
		memset(&p, 0, sizeof(p));
		p.allocator = &ta.a;
		p.initial_size = 100;
		ta_fail_nth(&ta, nth);
		errno = 0;
		b = rtab_bag_create(&p);
		ta_fail_nth(&ta, 0);
		failed = atomic_load(&ta.n_failed);
		if (b == NULL) {
			CHECK_EQ(errno, ENOMEM);
			CHECK_EQ(failed, 1);
			failures++;
		} else {
			CHECK_EQ(rtab_bag_insert(b, "k", 1, "v", 1), 0);
			rtab_bag_free(b);
		}
		urcu_memb_barrier();
		CHECK_EQ(atomic_load(&ta.live), 0);
		if (failed == 0)
			break;
	}
	CHECK(failures > 0);
}

/* Reference of the sweep: which (key, value) pairs are in. */
enum { SW_K = 40, SW_V = 12 };

static void
sw_expect(const struct bg_fx *fx, unsigned char ref[SW_K][SW_V])
{
	size_t total = 0;

	for (unsigned k = 0; k < SW_K; k++) {
		bg_expect_key(fx, k, ref[k], SW_V);
		for (unsigned v = 0; v < SW_V; v++)
			total += ref[k][v];
	}
	CHECK_EQ(rtab_bag_count(fx->b), total);
}

/*
 * The nth allocation fails, for every n until a run makes no failing
 * allocation. The run adds keys one value at a time (the outer index and each
 * key's own index grow from nothing), so every allocation site of insert and
 * of each resize is hit: the failed insert returns -ENOMEM, the bag is as it
 * was, and the same insert then succeeds.
 */
static void
test_enomem_sweep(void)
{
	static unsigned char ref[SW_K][SW_V];
	int enomem_seen = 0;
	long nth;

	for (nth = 1; nth < 100000; nth++) {
		struct bg_fx fx;
		bool failed = false;

		bg_open(&fx, 1, 0);
		memset(ref, 0, sizeof(ref));
		ta_fail_nth(&fx.ta, nth);
		for (unsigned v = 0; v < SW_V; v++) {
			for (unsigned k = v; k < SW_K; k++) {
				size_t mem = rtab_bag_memory(fx.b);
				int r = bg_insert(&fx, k, v);

				if (r == -ENOMEM) {
					CHECK(!failed);
					failed = true;
					enomem_seen++;
					CHECK_EQ(rtab_bag_memory(fx.b), mem);
					sw_expect(&fx, ref);
					r = bg_insert(&fx, k, v);
				}
				CHECK_EQ(r, 0);
				ref[k][v] = 1;
			}
		}
		sw_expect(&fx, ref);
		bg_close(&fx);
		if (atomic_load(&fx.ta.n_failed) == 0)
			break;
	}
	CHECK(nth > SW_K);
	CHECK(enomem_seen > SW_K);
}

/* Deletes never fail for lack of memory. */
static void
test_enomem_delete(void)
{
	static unsigned char ref[SW_K][SW_V];
	struct bg_fx fx;

	/* With every allocation failing. */
	bg_open(&fx, 0, 0);
	memset(ref, 1, sizeof(ref));
	for (unsigned k = 0; k < SW_K; k++)
		for (unsigned v = 0; v < SW_V; v++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
	atomic_store(&fx.ta.fail_all, 1);
	CHECK_EQ(bg_insert(&fx, 0, SW_V), -ENOMEM);
	CHECK_EQ(bg_insert(&fx, SW_K, 0), -ENOMEM);
	CHECK_EQ(bg_insert(&fx, 0, 0), 1);
	for (unsigned k = 0; k < SW_K; k += 2) {
		for (unsigned v = 0; v < SW_V; v += 3) {
			CHECK_EQ(bg_delete_object(&fx, k, v), 0);
			ref[k][v] = 0;
		}
	}
	sw_expect(&fx, ref);
	for (unsigned k = 1; k < SW_K; k += 4) {
		CHECK_EQ(bg_delete(&fx, k), SW_V);
		memset(ref[k], 0, SW_V);
	}
	sw_expect(&fx, ref);
	CHECK(rtab_bag_delete_match(fx.b, bg_match_all, NULL) > 0);
	CHECK_EQ(rtab_bag_count(fx.b), 0);
	atomic_store(&fx.ta.fail_all, 0);
	CHECK_EQ(bg_insert(&fx, 3, 3), 0);
	CHECK_EQ(rtab_bag_count(fx.b), 1);
	bg_close(&fx);

	/* The allocations deletes make fail one at a time. */
	for (long nth = 1; nth < 1000; nth++) {
		bg_open(&fx, 0, 0);
		memset(ref, 1, sizeof(ref));
		for (unsigned k = 0; k < SW_K; k++)
			for (unsigned v = 0; v < SW_V; v++)
				CHECK_EQ(bg_insert(&fx, k, v), 0);
		ta_fail_nth(&fx.ta, nth);
		for (unsigned v = 0; v < SW_V; v++) {
			for (unsigned k = 0; k < SW_K; k++) {
				CHECK_EQ(bg_delete_object(&fx, k, v), 0);
				ref[k][v] = 0;
			}
			if (v % 4 == 0)
				sw_expect(&fx, ref);
		}
		ta_fail_nth(&fx.ta, 0);
		CHECK_EQ(rtab_bag_count(fx.b), 0);
		CHECK_EQ(bg_insert(&fx, 1, 1), 0);
		bg_close(&fx);
		if (atomic_load(&fx.ta.n_failed) == 0)
			break;
	}
}

static void
test_count_memory(void)
{
	enum { NK = 300, NV = 10, VLEN = 100 };
	struct bg_fx fx;
	unsigned char v[VLEN];
	size_t mem0, peak, mem, n = 0;

	bg_open(&fx, 0, 0);
	mem0 = rtab_bag_memory(fx.b);
	for (unsigned k = 0; k < NK; k++) {
		unsigned char key[32];
		size_t kl = bg_key(k, key);

		for (unsigned i = 0; i < NV; i++) {
			memset(v, (int)i, sizeof(v));
			CHECK_EQ(rtab_bag_insert(fx.b, key, kl, v, VLEN), 0);
			CHECK_EQ(rtab_bag_count(fx.b), ++n);
		}
	}
	peak = rtab_bag_memory(fx.b);
	CHECK_MSG(peak >= mem0 + (size_t)NK * NV * VLEN, "memory %zu -> %zu", mem0, peak);
	for (unsigned k = 0; k < NK; k++) {
		unsigned char key[32];
		size_t kl = bg_key(k, key);

		if (k % 2) {
			CHECK_EQ(rtab_bag_delete(fx.b, key, kl), NV);
			n -= NV;
		} else {
			for (unsigned i = 0; i < NV; i++) {
				memset(v, (int)i, sizeof(v));
				CHECK_EQ(rtab_bag_delete_object(fx.b, key, kl, v, VLEN), 0);
				n--;
			}
		}
		CHECK_EQ(rtab_bag_count(fx.b), n);
	}
	urcu_memb_barrier();
	mem = rtab_bag_memory(fx.b);
	CHECK_MSG(mem + (size_t)NK * NV * VLEN / 2 < peak, "memory %zu after deletes, peak %zu",
		  mem, peak);
	CHECK(mem >= (size_t)atomic_load(&fx.ta.live_bytes));
	CHECK(mem - (size_t)atomic_load(&fx.ta.live_bytes) < 4096);
	bg_close(&fx);
}

struct bg_match_ctx {
	unsigned mod;
	size_t calls;
};

/* Matches values whose id % mod == 0. */
static int
bg_match_val_mod(const struct rtab_obj *o, void *arg)
{
	struct bg_match_ctx *c = arg;

	c->calls++;
	return bg_val_id(o) % c->mod == 0;
}

static void
test_delete_match(void)
{
	enum { NK = 200, NV = 6 };
	struct bg_fx fx;
	struct bg_match_ctx c = { 3, 0 };
	unsigned char want[NV];

	bg_open(&fx, 0, 0);
	for (unsigned k = 0; k < NK; k++)
		for (unsigned v = 0; v < NV; v++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
	/* Values 0 and 3 of every key go; no key is emptied. */
	CHECK_EQ(rtab_bag_delete_match(fx.b, bg_match_val_mod, &c), 2 * NK);
	CHECK_EQ(c.calls, NK * NV);
	CHECK_EQ(rtab_bag_count(fx.b), NK * (NV - 2));
	for (unsigned v = 0; v < NV; v++)
		want[v] = v % 3 != 0;
	for (unsigned k = 0; k < NK; k++)
		bg_expect_key(&fx, k, want, NV);
	/* Then every value of key 5 and odd values elsewhere. */
	for (unsigned v = 0; v < NV; v++)
		if (v % 3)
			CHECK_EQ(bg_delete_object(&fx, 5, v), 0);
	CHECK_EQ(bg_insert(&fx, 5, 1), 0);
	c.mod = 2;
	c.calls = 0;
	CHECK_EQ(rtab_bag_delete_match(fx.b, bg_match_val_mod, &c), (NK - 1) * 2);
	CHECK_EQ(c.calls, (NK - 1) * (NV - 2) + 1);
	for (unsigned v = 0; v < NV; v++)
		want[v] = v == 1 || v == 5;
	for (unsigned k = 0; k < NK; k++)
		if (k != 5)
			bg_expect_key(&fx, k, want, NV);
	memset(want, 0, sizeof(want));
	want[1] = 1;
	bg_expect_key(&fx, 5, want, NV);
	CHECK_EQ(rtab_bag_delete_match(fx.b, bg_match_all, NULL), (NK - 1) * 2 + 1);
	CHECK_EQ(rtab_bag_count(fx.b), 0);
	CHECK_EQ(bg_foreach_count(&fx), 0);
	CHECK_EQ(bg_insert(&fx, 5, 1), 0);
	CHECK(bg_has(&fx, 5, 1));
	bg_close(&fx);
}

static void
test_alignment(void)
{
	struct bg_fx fx;
	unsigned char k[40], v[24];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (unsigned char)(0x0f ^ i);
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (unsigned char)(0x13 * i);
	bg_open(&fx, 0, 0);
	for (size_t kl = 0; kl <= 33; kl++)
		for (size_t vl = 0; vl < 3; vl++)
			CHECK_EQ(rtab_bag_insert(fx.b, k, kl, v, kl % 20 + vl), 0);
	urcu_memb_read_lock();
	for (size_t kl = 0; kl <= 33; kl++) {
		for (size_t vl = 0; vl < 3; vl++) {
			const struct rtab_obj *o =
				rtab_bag_lookup_object(fx.b, k, kl, v, kl % 20 + vl);

			CHECK(o != NULL);
			CHECK_EQ((uintptr_t)rtab_obj_value(o) % 8, 0);
			CHECK_EQ(rtab_obj_key_len(o), kl);
			CHECK_MEM(rtab_obj_key(o), k, kl);
			CHECK_EQ(rtab_obj_value_len(o), kl % 20 + vl);
			CHECK(o->hash == XXH3_64bits_withSeed(k, kl, BG_SEED));
		}
		CHECK_EQ(rtab_bag_key_count(fx.b, k, kl), 3);
	}
	urcu_memb_read_unlock();
	bg_close(&fx);
}

/* Grows to @p n objects: n*9/10 over keys of 5 values each and 10% under a
 * single key; then deletes all, half by delete_object in random order and
 * half by key, and the memory goes back down. */
static void
test_grow_shrink(unsigned n)
{
	struct bg_fx fx;
	struct tu_rng rng;
	unsigned nk = n * 9 / 10 / 5, nbig = n / 10, *order;
	size_t empty, peak, end;

	tu_rng_init(&rng, tu_seed ^ 0xb16);
	bg_open(&fx, 0, 0);
	empty = rtab_bag_memory(fx.b);
	for (unsigned v = 0; v < 5; v++)
		for (unsigned k = 0; k < nk; k++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
	for (unsigned v = 0; v < nbig; v++)
		CHECK_EQ(bg_insert(&fx, 4000000, v), 0);
	CHECK_EQ(rtab_bag_count(fx.b), nk * 5 + nbig);
	for (unsigned k = 0; k < nk; k += 37)
		for (unsigned v = 0; v < 6; v++)
			CHECK_EQ(bg_has(&fx, k, v), v < 5);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_bag_key_count(fx.b, "k4000000", 8), nbig);
	urcu_memb_read_unlock();
	for (unsigned v = 0; v < nbig; v += 101)
		CHECK(bg_has(&fx, 4000000, v));
	CHECK_EQ(bg_foreach_count(&fx), nk * 5 + nbig);
	peak = rtab_bag_memory(fx.b);

	order = malloc(nbig * sizeof(*order));
	CHECK(order != NULL);
	for (unsigned i = 0; i < nbig; i++)
		order[i] = i;
	for (unsigned i = nbig; i > 1; i--) {
		unsigned j = (unsigned)tu_rng_below(&rng, i), x = order[i - 1];

		order[i - 1] = order[j];
		order[j] = x;
	}
	for (unsigned i = 0; i < nbig; i++) {
		CHECK_EQ(bg_delete_object(&fx, 4000000, order[i]), 0);
		if (i % 101 == 0) {
			CHECK(!bg_has(&fx, 4000000, order[i]));
			if (i + 1 < nbig)
				CHECK(bg_has(&fx, 4000000, order[i + 1]));
		}
	}
	free(order);
	for (unsigned k = 0; k < nk; k++) {
		if (k % 2) {
			CHECK_EQ(bg_delete(&fx, k), 5);
		} else {
			for (unsigned v = 0; v < 5; v++)
				CHECK_EQ(bg_delete_object(&fx, k, 4 - v), 0);
		}
	}
	CHECK_EQ(rtab_bag_count(fx.b), 0);
	CHECK_EQ(bg_foreach_count(&fx), 0);
	urcu_memb_barrier();
	end = rtab_bag_memory(fx.b);
	CHECK_MSG(end < empty + peak / 8, "memory: %zu new, %zu at %u objects, %zu when emptied",
		  empty, peak, n, end);
	for (unsigned k = 0; k < 1000; k++)
		CHECK_EQ(bg_insert(&fx, k, k), 0);
	CHECK_EQ(rtab_bag_count(fx.b), 1000);
	bg_close(&fx);
}

/* ------------------------------------------------- tests with two threads */

static void
bg_wait_flag(atomic_int *flag, const char *what)
{
	uint64_t deadline = tu_now_ns() + 30ull * 1000000000u;

	while (atomic_load(flag) == 0) {
		CHECK_MSG(tu_now_ns() < deadline, "timed out waiting for %s", what);
		sched_yield();
	}
}

struct bg_writer_ctx {
	struct rtab_bag *b;
	atomic_int inside;
	atomic_int release;
	long result;
};

static int
bg_match_block(const struct rtab_obj *o, void *arg)
{
	struct bg_writer_ctx *c = arg;

	(void)o;
	if (atomic_load(&c->inside) == 0) {
		atomic_store(&c->inside, 1);
		bg_wait_flag(&c->release, "the release of the first writer");
	}
	return 0;
}

static void *
bg_writer_thread(void *arg)
{
	struct bg_writer_ctx *c = arg;

	urcu_memb_register_thread();
	c->result = rtab_bag_delete_match(c->b, bg_match_block, c);
	urcu_memb_unregister_thread();
	return NULL;
}

static void
test_second_writer(void)
{
	struct bg_fx fx;
	struct bg_writer_ctx c;
	pthread_t th;
	unsigned char want[4] = { 1, 1, 0, 0 };
	size_t mem;

	bg_open(&fx, 0, 0);
	for (unsigned k = 0; k < 10; k++)
		for (unsigned v = 0; v < 2; v++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
	memset(&c, 0, sizeof(c));
	c.b = fx.b;
	CHECK_EQ(pthread_create(&th, NULL, bg_writer_thread, &c), 0);
	bg_wait_flag(&c.inside, "the first writer to enter delete_match");
	mem = rtab_bag_memory(fx.b);
	CHECK_EQ(bg_insert(&fx, 1, 2), -EBUSY);
	CHECK_EQ(bg_insert(&fx, 100, 0), -EBUSY);
	CHECK_EQ(bg_insert(&fx, 1, 1), -EBUSY);
	CHECK_EQ(bg_delete_object(&fx, 1, 1), -EBUSY);
	CHECK_EQ(bg_delete_object(&fx, 1, 3), -EBUSY);
	CHECK_EQ(bg_delete(&fx, 2), -EBUSY);
	CHECK_EQ(rtab_bag_delete_match(fx.b, bg_match_all, NULL), -EBUSY);
	CHECK_EQ(rtab_bag_memory(fx.b), mem);
	CHECK_EQ(rtab_bag_count(fx.b), 20);
	for (unsigned k = 0; k < 10; k++)
		bg_expect_key(&fx, k, want, 4);
	atomic_store(&c.release, 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(c.result, 0);
	CHECK_EQ(bg_insert(&fx, 1, 2), 0);
	CHECK_EQ(bg_delete(&fx, 2), 2);
	CHECK_EQ(rtab_bag_count(fx.b), 19);
	bg_close(&fx);
}

struct bg_reader_ctx {
	struct rtab_bag *b;
	atomic_int holding;
	atomic_int writer_done;
};

static void *
bg_reader_thread(void *arg)
{
	struct bg_reader_ctx *c = arg;
	const struct rtab_obj *o1, *o2;
	unsigned char v1[40], v2[40];
	size_t v1l = bg_val(1, v1), v2l = bg_val(2, v2);

	urcu_memb_register_thread();
	urcu_memb_read_lock();
	o1 = rtab_bag_lookup_object(c->b, "k1", 2, v1, v1l);
	o2 = rtab_bag_lookup_object(c->b, "k2", 2, v2, v2l);
	CHECK(o1 != NULL && o2 != NULL);
	atomic_store(&c->holding, 1);
	bg_wait_flag(&c->writer_done, "the writer (did it wait for a grace period "
		     "while a reader was inside its read-side section?)");
	CHECK_EQ(rtab_obj_key_len(o1), 2);
	CHECK_MEM(rtab_obj_key(o1), "k1", 2);
	CHECK_EQ(rtab_obj_value_len(o1), v1l);
	CHECK_MEM(rtab_obj_value(o1), v1, v1l);
	CHECK_EQ(rtab_obj_key_len(o2), 2);
	CHECK_MEM(rtab_obj_key(o2), "k2", 2);
	CHECK_EQ(rtab_obj_value_len(o2), v2l);
	CHECK_MEM(rtab_obj_value(o2), v2, v2l);
	CHECK(rtab_bag_lookup_object(c->b, "k1", 2, v1, v1l) == NULL);
	CHECK(rtab_bag_lookup_object(c->b, "k2", 2, v2, v2l) == NULL);
	urcu_memb_read_unlock();
	urcu_memb_unregister_thread();
	return NULL;
}

/* Objects a reader holds stay intact until it leaves its read-side section,
 * though deleted (by object and by key) and followed by 2,000 retirements;
 * the writer never waits for the reader. */
static void
test_reader_holds(void)
{
	struct bg_fx fx;
	struct bg_reader_ctx c;
	pthread_t th;

	bg_open(&fx, 0, 0);
	for (unsigned k = 0; k < 10; k++)
		for (unsigned v = 0; v < 4; v++)
			CHECK_EQ(bg_insert(&fx, k, v), 0);
	memset(&c, 0, sizeof(c));
	c.b = fx.b;
	CHECK_EQ(pthread_create(&th, NULL, bg_reader_thread, &c), 0);
	bg_wait_flag(&c.holding, "the reader");
	CHECK_EQ(bg_delete_object(&fx, 1, 1), 0);
	CHECK_EQ(bg_delete(&fx, 2), 4);
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned k = 100; k < 1100; k++)
			CHECK_EQ(bg_insert(&fx, k, 0), 0);
		for (unsigned k = 100; k < 1100; k++)
			CHECK_EQ(bg_delete_object(&fx, k, 0), 0);
	}
	CHECK_EQ(rtab_bag_count(fx.b), 35);
	atomic_store(&c.writer_done, 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	bg_close(&fx);
}

#define RUN(name, call)                                                        \
	do {                                                                   \
		uint64_t t0_ = tu_now_ns();                                    \
		call;                                                          \
		printf("  %-28s ok  %6.3f s\n", name,                          \
		       (double)(tu_now_ns() - t0_) / 1e9);                     \
		fflush(stdout);                                                \
	} while (0)

int
main(int argc, char **argv)
{
	uint64_t big = 200000;
	const struct tu_opt opts[] = {
		{ "--big", &big, NULL, "objects of the grow/shrink test (default 200000)" },
	};

	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	urcu_memb_register_thread();
	RUN("empty", test_empty());
	RUN("objects", test_objects());
	RUN("visit_stop", test_visit_stop());
	RUN("foreach", test_foreach());
	RUN("foreach_once", test_foreach_once());
	RUN("limits", test_limits());
	RUN("einval", test_einval());
	RUN("empty_key", test_empty_key());
	RUN("max_objects", test_max_objects());
	RUN("enomem_create", test_enomem_create());
	RUN("enomem_sweep", test_enomem_sweep());
	RUN("enomem_delete", test_enomem_delete());
	RUN("count_memory", test_count_memory());
	RUN("delete_match", test_delete_match());
	RUN("alignment", test_alignment());
	RUN("grow_shrink", test_grow_shrink((unsigned)big));
	RUN("second_writer", test_second_writer());
	RUN("reader_holds", test_reader_holds());
	urcu_memb_unregister_thread();
	printf("test_bag: all checks passed\n");
	return 0;
}
