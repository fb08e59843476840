/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of rtab_oset. Proves the operations it shares with rtab_set
 * (the list in unit_setlike.h: empty table, duplicates, limits, -EINVAL,
 * -ENOSPC, -ENOMEM at every allocation, count, memory, delete_match, foreach,
 * alignment, growth and shrink, -EBUSY for a second writer, a reader's object
 * outlives its deletion), and the order:
 *   - byte order with prefixes ("a" < "a\0" < "ab" < "b"), keys with 0x00 and
 *     0xff bytes, the empty key first; foreach, next_obj, first/last and
 *     next/prev (keys present and absent, before the first, after the last)
 *     all agree with a sorted reference;
 *   - scans with every combination of lo, hi and prefix (NULL, empty, a
 *     prefix of all 0xff bytes) and limits 1..5 and 1000, paged with the
 *     cursor until done, equal a brute-force filter of the reference; the
 *     cursor fields (started, done, key) say what the header says; empty
 *     ranges and an empty table give 0 and done; bad arguments -EINVAL;
 *   - a cursor goes on after its last key when the table changed between
 *     pages (its key deleted, keys added before and after it);
 *   - paging through --paging N keys (default 1,000,000) in pages of 1000,
 *     each page in its own read-side section, returns every key once, in
 *     order.
 *
 * Options: --seed N, --big N (grow/shrink keys), --paging N.
 */
#include "rtab_oset.h"
#include "unit_setlike.h"

SL_OPS_DEFINE(oset_ops, oset);

/* The order of rtab_oset.h: memcmp, then the shorter first. */
static int
keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return (al > bl) - (al < bl);
}

struct rkey {
	unsigned char b[8];
	size_t len;
};

static int
rkey_cmp(const void *x, const void *y)
{
	const struct rkey *a = x, *b = y;

	return keycmp(a->b, a->len, b->b, b->len);
}

static bool
obj_is(const struct rtab_obj *o, const struct rkey *k)
{
	return o != NULL && rtab_obj_key_len(o) == k->len &&
	       (k->len == 0 || memcmp(rtab_obj_key(o), k->b, k->len) == 0);
}

static struct sl_fx *
oset_open(size_t initial)
{
	static struct sl_fx fx;

	sl_open(&fx, &oset_ops, initial, 0);
	return &fx;
}

/* A sorted, duplicate-free reference of @p n keys. */
static size_t
ref_sort(struct rkey *ref, size_t n)
{
	size_t m = 0;

	qsort(ref, n, sizeof(*ref), rkey_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || rkey_cmp(&ref[m - 1], &ref[i]) != 0)
			ref[m++] = ref[i];
	return m;
}

/* Index of the first reference key > @p p (or >= with @p incl). */
static size_t
ref_upper(const struct rkey *ref, size_t n, const struct rkey *p, bool incl)
{
	size_t i = 0;

	while (i < n && (incl ? rkey_cmp(&ref[i], p) < 0 : rkey_cmp(&ref[i], p) <= 0))
		i++;
	return i;
}

/* Proves that foreach, next_obj, first/last and next/prev follow @p ref. */
static void
check_order(struct sl_fx *fx, const struct rkey *ref, size_t n,
	    const struct rkey *probes, size_t np)
{
	const struct rtab_obj *o;
	size_t i;

	CHECK_EQ(rtab_oset_count(fx->t), n);
	urcu_memb_read_lock();
	o = rtab_oset_first(fx->t);
	CHECK(n == 0 ? o == NULL : obj_is(o, &ref[0]));
	o = rtab_oset_last(fx->t);
	CHECK(n == 0 ? o == NULL : obj_is(o, &ref[n - 1]));
	/* next_obj walks the whole order. */
	for (i = 0, o = rtab_oset_first(fx->t); o != NULL; o = rtab_oset_next_obj(fx->t, o), i++) {
		CHECK(i < n);
		CHECK_MSG(obj_is(o, &ref[i]), "next_obj walk at %zu", i);
	}
	CHECK_EQ(i, n);
	/* prev walks it backwards. */
	for (i = n, o = rtab_oset_last(fx->t); o != NULL;
	     o = rtab_oset_prev(fx->t, rtab_obj_key(o), rtab_obj_key_len(o))) {
		CHECK(i > 0);
		i--;
		CHECK_MSG(obj_is(o, &ref[i]), "prev walk at %zu", i);
	}
	CHECK_EQ(i, 0);
	/* next/prev of any key, present or not. */
	for (size_t j = 0; j < np; j++) {
		size_t up = ref_upper(ref, n, &probes[j], false);
		size_t lo = ref_upper(ref, n, &probes[j], true);

		o = rtab_oset_next(fx->t, probes[j].b, probes[j].len);
		CHECK_MSG(up == n ? o == NULL : obj_is(o, &ref[up]), "next of probe %zu", j);
		o = rtab_oset_prev(fx->t, probes[j].b, probes[j].len);
		CHECK_MSG(lo == 0 ? o == NULL : obj_is(o, &ref[lo - 1]), "prev of probe %zu", j);
		o = rtab_oset_lookup(fx->t, probes[j].b, probes[j].len);
		CHECK((lo < n && rkey_cmp(&ref[lo], &probes[j]) == 0) ? obj_is(o, &ref[lo])
								       : o == NULL);
	}
	urcu_memb_read_unlock();
}

struct order_walk {
	const struct rkey *ref;
	size_t n, i;
};

static int
order_visit(const struct rtab_obj *o, void *arg)
{
	struct order_walk *w = arg;

	CHECK(w->i < w->n);
	CHECK_MSG(obj_is(o, &w->ref[w->i]), "foreach at %zu", w->i);
	w->i++;
	return 0;
}

static void
check_foreach_order(struct sl_fx *fx, const struct rkey *ref, size_t n)
{
	struct order_walk w = { ref, n, 0 };

	urcu_memb_read_lock();
	CHECK_EQ(rtab_oset_foreach(fx->t, order_visit, &w), 0);
	urcu_memb_read_unlock();
	CHECK_EQ(w.i, n);
}

#define RK(s) { s, sizeof(s) - 1 }

static void
test_order_basic(void)
{
	static const struct rkey keys[] = {
		RK(""), RK("\0"), RK("\0\0"), RK("\0\x01"), RK("a"), RK("a\0"),
		RK("a\0\0"), RK("ab"), RK("ab\xff"), RK("abc"), RK("b"), RK("\x7f"),
		RK("\x80"), RK("\xfe"), RK("\xff"), RK("\xff\0"), RK("\xff\xff"),
		RK("\xff\xff\xff"), RK("a\xff\xff"), RK("\x01"),
	};
	enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
	struct rkey ref[NKEYS], probes[NKEYS * 6 + 4];
	size_t n, np = 0;
	struct tu_rng rng;
	unsigned perm[NKEYS];
	struct sl_fx *fx = oset_open(0);
	const struct rtab_obj *o;

	tu_rng_init(&rng, tu_seed ^ 0x0d);
	/* Empty: no first, last, next or prev. */
	urcu_memb_read_lock();
	CHECK(rtab_oset_first(fx->t) == NULL);
	CHECK(rtab_oset_last(fx->t) == NULL);
	CHECK(rtab_oset_next(fx->t, "", 0) == NULL);
	CHECK(rtab_oset_prev(fx->t, "\xff", 1) == NULL);
	CHECK(rtab_oset_first(NULL) == NULL);
	CHECK(rtab_oset_last(NULL) == NULL);
	CHECK(rtab_oset_next(NULL, "a", 1) == NULL);
	CHECK(rtab_oset_prev(NULL, "a", 1) == NULL);
	urcu_memb_read_unlock();

	/* Insert in random order. */
	for (unsigned i = 0; i < NKEYS; i++)
		perm[i] = i;
	for (unsigned i = NKEYS; i > 1; i--) {
		unsigned j = (unsigned)tu_rng_below(&rng, i), x = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = x;
	}
	for (unsigned i = 0; i < NKEYS; i++)
		CHECK_EQ(rtab_oset_insert(fx->t, keys[perm[i]].b, keys[perm[i]].len, "v", 1), 0);
	memcpy(ref, keys, sizeof(keys));
	n = ref_sort(ref, NKEYS);
	CHECK_EQ(n, NKEYS);

	/* The order the header promises, spelled out. */
	urcu_memb_read_lock();
	o = rtab_oset_next(fx->t, "a", 1);
	CHECK(obj_is(o, &keys[5]));               /* "a" < "a\0" */
	o = rtab_oset_next(fx->t, "a\0\0", 3);
	CHECK(obj_is(o, &keys[7]));               /* "a\0\0" < "ab" */
	o = rtab_oset_next(fx->t, "abc", 3);
	CHECK(obj_is(o, &keys[8]));               /* "abc" < "ab\xff" */
	o = rtab_oset_next(fx->t, "ab\xff", 3);
	CHECK(obj_is(o, &keys[18]));              /* "ab\xff" < "a\xff\xff" */
	o = rtab_oset_next(fx->t, "a\xff\xff", 3);
	CHECK(obj_is(o, &keys[10]));              /* "a\xff\xff" < "b" */
	o = rtab_oset_first(fx->t);
	CHECK(o != NULL && rtab_obj_key_len(o) == 0); /* the empty key first */
	o = rtab_oset_last(fx->t);
	CHECK(obj_is(o, &keys[17]));              /* "\xff\xff\xff" last */
	CHECK(rtab_oset_next(fx->t, "\xff\xff\xff", 3) == NULL);
	CHECK(rtab_oset_prev(fx->t, "", 0) == NULL);
	urcu_memb_read_unlock();

	/* Probes around every key. */
	for (size_t i = 0; i < n; i++) {
		struct rkey p = ref[i];

		probes[np++] = p;
		if (p.len < 7) {
			p.b[p.len] = 0;
			p.len++;
			probes[np++] = p;
			p.b[p.len - 1] = 0xff;
			probes[np++] = p;
			p.len--;
		}
		if (p.len > 0) {
			p.len--;
			probes[np++] = p;
			p.len++;
			if (p.b[p.len - 1] < 0xff) {
				p.b[p.len - 1]++;
				probes[np++] = p;
				p.b[p.len - 1]--;
			}
			if (p.b[p.len - 1] > 0) {
				p.b[p.len - 1]--;
				probes[np++] = p;
			}
		}
	}
	probes[np++] = (struct rkey)RK("\xff\xff\xff\xff\xff");
	probes[np++] = (struct rkey)RK("zzz");
	CHECK(np <= sizeof(probes) / sizeof(probes[0]));
	check_order(fx, ref, n, probes, np);
	check_foreach_order(fx, ref, n);

	/* Without the empty key and the largest: probes before the first and
	 * after the last. */
	CHECK_EQ(rtab_oset_delete(fx->t, "", 0), 0);
	CHECK_EQ(rtab_oset_delete(fx->t, "\xff\xff\xff", 3), 0);
	CHECK_EQ(rtab_oset_delete(fx->t, "ab", 2), 0);
	{
		struct rkey rest[NKEYS];
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (!(ref[i].len == 0 || (ref[i].len == 3 && !memcmp(ref[i].b, "\xff\xff\xff", 3)) ||
			      (ref[i].len == 2 && !memcmp(ref[i].b, "ab", 2))))
				rest[m++] = ref[i];
		CHECK_EQ(m, n - 3);
		check_order(fx, rest, m, probes, np);
		check_foreach_order(fx, rest, m);
	}
	sl_close(fx);
}

/* Every key matching @p r, after the cursor position @p after (NULL: none),
 * from the sorted reference: the expected output of a scan. */
static size_t
ref_scan(const struct rkey *ref, size_t n, const struct rtab_range *r,
	 const struct rkey *after, size_t *out, size_t max)
{
	size_t m = 0;

	for (size_t i = 0; i < n && m < max; i++) {
		const struct rkey *k = &ref[i];

		if (after && rkey_cmp(k, after) <= 0)
			continue;
		if (r->lo && keycmp(k->b, k->len, r->lo, r->lo_len) < 0)
			continue;
		if (r->hi && keycmp(k->b, k->len, r->hi, r->hi_len) >= 0)
			continue;
		if (r->prefix && r->prefix_len &&
		    (k->len < r->prefix_len || memcmp(k->b, r->prefix, r->prefix_len)))
			continue;
		out[m++] = i;
	}
	return m;
}

/*
 * Pages through @p r with @p limit, in a new read-side section per page, and
 * proves the pages are exactly the reference's keys in order, that the
 * cursor says started/done/key as documented, and that done stays done.
 */
static void
check_scan(struct sl_fx *fx, const struct rkey *ref, size_t n,
	   const struct rtab_range *r, unsigned limit)
{
	static size_t want[4096];
	static const struct rtab_obj *out[1001];
	static struct rtab_cursor cur;
	size_t nwant = ref_scan(ref, n, r, NULL, want, 4096), got = 0;
	unsigned pages = 0;

	CHECK(limit <= 1000);
	rtab_cursor_init(&cur);
	for (;;) {
		int m;

		out[limit] = (const struct rtab_obj *)&cur; /* must stay */
		urcu_memb_read_lock();
		m = rtab_oset_scan(fx->t, r, &cur, out, limit);
		CHECK_MSG(m >= 0 && (unsigned)m <= limit, "scan returned %d, limit %u", m, limit);
		for (int i = 0; i < m; i++) {
			CHECK_MSG(got < nwant, "scan gave more than %zu keys", nwant);
			CHECK_MSG(obj_is(out[i], &ref[want[got]]),
				  "key %zu of the scan (page %u, limit %u)", got, pages, limit);
			got++;
		}
		urcu_memb_read_unlock();
		CHECK(out[limit] == (const struct rtab_obj *)&cur);
		if (m > 0) {
			const struct rkey *last = &ref[want[got - 1]];

			CHECK(cur.started);
			CHECK_EQ(cur.key_len, last->len);
			CHECK_MEM(cur.key, last->b, last->len);
		}
		if (got < nwant)
			CHECK_MSG(!cur.done, "done with %zu of %zu keys left", nwant - got, nwant);
		if (m == 0) {
			CHECK(cur.done);
			break;
		}
		CHECK(++pages <= nwant + 1);
	}
	CHECK_EQ(got, nwant);
	if (nwant == 0)
		CHECK(!cur.started);
	/* Done stays done. */
	urcu_memb_read_lock();
	CHECK_EQ(rtab_oset_scan(fx->t, r, &cur, out, limit), 0);
	urcu_memb_read_unlock();
	CHECK(cur.done);
}

/* A random byte string over an alphabet rich in 0x00 and 0xff, 0..5 bytes. */
static void
rand_rkey(struct tu_rng *rng, struct rkey *k, size_t maxlen)
{
	static const unsigned char alpha[] = { 0x00, 0x01, 'a', 'b', 0xfe, 0xff };

	k->len = (size_t)tu_rng_below(rng, maxlen + 1);
	for (size_t i = 0; i < k->len; i++)
		k->b[i] = alpha[tu_rng_below(rng, sizeof(alpha))];
}

/* Scans over random ranges of a random key set, against brute force. */
static void
test_scan_model(void)
{
	enum { NINS = 900, NSCANS = 3000 };
	static struct rkey ref[NINS];
	struct tu_rng rng;
	struct sl_fx *fx = oset_open(0);
	size_t n;

	tu_rng_init(&rng, tu_seed ^ 0x5ca);
	for (size_t i = 0; i < NINS; i++) {
		rand_rkey(&rng, &ref[i], 5);
		CHECK(rtab_oset_insert(fx->t, ref[i].b, ref[i].len, ref[i].b, ref[i].len) >= 0);
	}
	n = ref_sort(ref, NINS);
	CHECK(n > 300);
	check_foreach_order(fx, ref, n);
	for (unsigned s = 0; s < NSCANS; s++) {
		struct rkey lo, hi, pre;
		struct rtab_range r;
		unsigned limit;

		memset(&r, 0, sizeof(r));
		rand_rkey(&rng, &lo, 4);
		rand_rkey(&rng, &hi, 4);
		rand_rkey(&rng, &pre, 3);
		switch (tu_rng_below(&rng, 4)) {
		case 0:
			break;
		case 1: /* a prefix of all 0xff bytes */
			memset(pre.b, 0xff, sizeof(pre.b));
			pre.len = 1 + (size_t)tu_rng_below(&rng, 3);
			r.prefix = pre.b;
			r.prefix_len = pre.len;
			break;
		default:
			r.prefix = pre.b;   /* len 0: an empty prefix, any key */
			r.prefix_len = pre.len;
			break;
		}
		if (tu_rng_below(&rng, 3)) {
			r.lo = lo.b;
			r.lo_len = lo.len;
		}
		if (tu_rng_below(&rng, 3)) {
			r.hi = hi.b;
			r.hi_len = hi.len;
		}
		/* Ranges right at the edges of present keys. */
		if (tu_rng_below(&rng, 4) == 0) {
			const struct rkey *k = &ref[tu_rng_below(&rng, n)];

			r.lo = k->b;
			r.lo_len = k->len;
		}
		if (tu_rng_below(&rng, 4) == 0) {
			const struct rkey *k = &ref[tu_rng_below(&rng, n)];

			r.hi = k->b;
			r.hi_len = k->len;
		}
		limit = tu_rng_below(&rng, 8) == 0 ? 1000 : 1 + (unsigned)tu_rng_below(&rng, 5);
		check_scan(fx, ref, n, &r, limit);
	}
	sl_close(fx);
}

static void
test_scan_edges(void)
{
	static const struct rkey keys[] = {
		RK("\xfe\xff"), RK("\xff"), RK("\xff\xff"), RK("\xff\xff\0"),
		RK("\xff\xff\xff"), RK("\xff\xff\xff\xff"), RK("\xfe"), RK("a"),
		RK("ab"), RK("abc"), RK("abd"), RK("b"), RK(""), RK("\0"),
	};
	enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
	struct rkey ref[NKEYS];
	size_t n;
	struct sl_fx *fx = oset_open(0);
	struct rtab_range r;
	struct rtab_cursor cur;
	const struct rtab_obj *out[4];

	/* An empty table: 0 and done at once. */
	memset(&r, 0, sizeof(r));
	rtab_cursor_init(&cur);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_oset_scan(fx->t, &r, &cur, out, 4), 0);
	urcu_memb_read_unlock();
	CHECK(cur.done);
	CHECK(!cur.started);

	for (size_t i = 0; i < NKEYS; i++)
		CHECK_EQ(rtab_oset_insert(fx->t, keys[i].b, keys[i].len, "", 0), 0);
	memcpy(ref, keys, sizeof(keys));
	n = ref_sort(ref, NKEYS);

	/* Bad arguments. */
	rtab_cursor_init(&cur);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_oset_scan(NULL, &r, &cur, out, 4), -EINVAL);
	CHECK_EQ(rtab_oset_scan(fx->t, &r, NULL, out, 4), -EINVAL);
	CHECK_EQ(rtab_oset_scan(fx->t, &r, &cur, NULL, 4), -EINVAL);
	CHECK_EQ(rtab_oset_scan(fx->t, NULL, &cur, out, 4), -EINVAL);
	urcu_memb_read_unlock();
	CHECK(!cur.done && !cur.started);

	/* The whole table, limit 1 and more. */
	for (unsigned limit = 1; limit <= 4; limit++)
		check_scan(fx, ref, n, &r, limit);

	/* Prefixes of all 0xff bytes, with and without bounds. */
	r.prefix = "\xff\xff";
	r.prefix_len = 2;
	check_scan(fx, ref, n, &r, 1);
	check_scan(fx, ref, n, &r, 3);
	r.hi = "\xff\xff\xff";
	r.hi_len = 3;
	check_scan(fx, ref, n, &r, 1);
	r.lo = "\xff\xff\0";
	r.lo_len = 3;
	check_scan(fx, ref, n, &r, 2);
	memset(&r, 0, sizeof(r));
	r.prefix = "\xff";
	r.prefix_len = 1;
	check_scan(fx, ref, n, &r, 2);
	r.prefix = "\xff\xff\xff\xff\xff";
	r.prefix_len = 5;
	check_scan(fx, ref, n, &r, 2);       /* longer than any key: none */

	/* Prefix "ab" is "ab", "abc", "abd"; prefix "a" with hi "abd". */
	memset(&r, 0, sizeof(r));
	r.prefix = "ab";
	r.prefix_len = 2;
	check_scan(fx, ref, n, &r, 1);
	r.prefix = "a";
	r.prefix_len = 1;
	r.hi = "abd";
	r.hi_len = 3;
	check_scan(fx, ref, n, &r, 1);
	/* lo inside a prefix group, after the prefix's keys, before them. */
	r.hi = NULL;
	r.hi_len = 0;
	r.lo = "abc\0";
	r.lo_len = 4;
	check_scan(fx, ref, n, &r, 1);
	r.lo = "b";
	r.lo_len = 1;
	check_scan(fx, ref, n, &r, 1);
	r.lo = "";
	r.lo_len = 0;
	check_scan(fx, ref, n, &r, 1);

	/* Empty ranges: lo == hi, lo > hi, hi at the first key, lo after the
	 * last, a prefix no key has. */
	memset(&r, 0, sizeof(r));
	r.lo = r.hi = "ab";
	r.lo_len = r.hi_len = 2;
	check_scan(fx, ref, n, &r, 1);
	r.lo = "b";
	r.lo_len = 1;
	check_scan(fx, ref, n, &r, 3);
	memset(&r, 0, sizeof(r));
	r.hi = "";
	r.hi_len = 0;
	check_scan(fx, ref, n, &r, 3);
	memset(&r, 0, sizeof(r));
	r.lo = "\xff\xff\xff\xff\0";
	r.lo_len = 5;
	check_scan(fx, ref, n, &r, 3);
	memset(&r, 0, sizeof(r));
	r.prefix = "c";
	r.prefix_len = 1;
	check_scan(fx, ref, n, &r, 3);
	sl_close(fx);
}

/* Between pages the table changes: the cursor goes on after its last key. */
static void
test_scan_changes(void)
{
	struct sl_fx *fx = oset_open(0);
	struct rtab_range r;
	struct rtab_cursor cur;
	const struct rtab_obj *out[3];
	static const char *const expect[] = {
		"k025", "k04", "k05", "k06", "k07", "k08", "k09", "k11",
		"k12", "k13", "k14", "k15", "k16", "k17", "k18", "k19", "k20",
	};
	size_t ne = 0;
	int m;

	for (unsigned i = 0; i < 20; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%02u", i);
		CHECK_EQ(rtab_oset_insert(fx->t, k, 3, NULL, 0), 0);
	}
	memset(&r, 0, sizeof(r));
	r.prefix = "k";
	r.prefix_len = 1;
	rtab_cursor_init(&cur);
	urcu_memb_read_lock();
	CHECK_EQ(rtab_oset_scan(fx->t, &r, &cur, out, 3), 3);
	CHECK(rtab_obj_key_len(out[2]) == 3 && memcmp(rtab_obj_key(out[2]), "k02", 3) == 0);
	urcu_memb_read_unlock();
	CHECK_EQ(rtab_oset_delete(fx->t, "k02", 3), 0);  /* the cursor's key */
	CHECK_EQ(rtab_oset_delete(fx->t, "k03", 3), 0);
	CHECK_EQ(rtab_oset_insert(fx->t, "k01x", 4, NULL, 0), 0); /* before it */
	CHECK_EQ(rtab_oset_insert(fx->t, "k025", 4, NULL, 0), 0); /* after it */
	CHECK_EQ(rtab_oset_insert(fx->t, "k20", 3, NULL, 0), 0);  /* at the end */
	for (;;) {
		urcu_memb_read_lock();
		m = rtab_oset_scan(fx->t, &r, &cur, out, 3);
		CHECK(m >= 0 && m <= 3);
		for (int i = 0; i < m; i++) {
			CHECK(ne < sizeof(expect) / sizeof(expect[0]));
			CHECK_EQ(rtab_obj_key_len(out[i]), strlen(expect[ne]));
			CHECK_MEM(rtab_obj_key(out[i]), expect[ne], strlen(expect[ne]));
			ne++;
		}
		urcu_memb_read_unlock();
		if (m == 0)
			break;
		/* Deleting the key after the cursor between pages: skipped. */
		if (ne == 6)
			CHECK_EQ(rtab_oset_delete(fx->t, "k10", 3), 0);
	}
	CHECK_EQ(ne, sizeof(expect) / sizeof(expect[0]));
	CHECK(cur.done);
	sl_close(fx);
}

/* @p n keys "%08u" paged 1000 at a time, one read-side section per page. */
static void
test_paging(unsigned n)
{
	struct sl_fx *fx = oset_open(0);
	struct rtab_range r;
	static struct rtab_cursor cur;
	static const struct rtab_obj *out[1000];
	unsigned next = 0, step = 7919;
	int m;

	while (n % step == 0)
		step += 2;
	/* Insert in a scattered order: id = i * step mod n visits each once
	 * since step and n are coprime (step is prime and does not divide n). */
	for (unsigned i = 0; i < n; i++) {
		char k[16];
		unsigned id = (unsigned)(((uint64_t)i * step) % n);

		snprintf(k, sizeof(k), "%08u", id);
		CHECK_EQ(rtab_oset_insert(fx->t, k, 8, &id, sizeof(id)), 0);
	}
	CHECK_EQ(rtab_oset_count(fx->t), n);
	memset(&r, 0, sizeof(r));
	rtab_cursor_init(&cur);
	do {
		urcu_memb_read_lock();
		m = rtab_oset_scan(fx->t, &r, &cur, out, 1000);
		CHECK(m >= 0 && m <= 1000);
		for (int i = 0; i < m; i++) {
			char k[16];
			unsigned id;

			snprintf(k, sizeof(k), "%08u", next);
			CHECK_EQ(rtab_obj_key_len(out[i]), 8);
			CHECK_MSG(memcmp(rtab_obj_key(out[i]), k, 8) == 0, "key %u", next);
			CHECK_EQ(rtab_obj_value_len(out[i]), sizeof(id));
			memcpy(&id, rtab_obj_value(out[i]), sizeof(id));
			CHECK_EQ(id, next);
			next++;
		}
		urcu_memb_read_unlock();
	} while (m > 0);
	CHECK(cur.done);
	CHECK_EQ(next, n);
	sl_close(fx);
}

int
main(int argc, char **argv)
{
	uint64_t big = 200000, paging = 1000000;
	const struct tu_opt opts[] = {
		{ "--big", &big, NULL, "keys of the grow/shrink test (default 200000)" },
		{ "--paging", &paging, NULL, "keys of the paging test (default 1000000)" },
	};

	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	urcu_memb_register_thread();
	sl_run_all(&oset_ops, (unsigned)big);
	SL_RUN("order_basic", test_order_basic());
	SL_RUN("scan_edges", test_scan_edges());
	SL_RUN("scan_model", test_scan_model());
	SL_RUN("scan_changes", test_scan_changes());
	SL_RUN("paging", test_paging((unsigned)paging));
	urcu_memb_unregister_thread();
	printf("test_oset: all checks passed\n");
	return 0;
}
