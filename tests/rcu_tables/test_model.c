/* SPDX-License-Identifier: MIT */
/*
 * Model-based random test of one table type (--type set|bag|oset): millions
 * of random operations (--ops, default 2,000,000), each checked at once
 * against a trivially correct reference, prove that the table behaves as the
 * reference does under any sequence of operations, through many resizes
 * (a tiny initial size; phases that fill the table and empty it).
 *
 * The reference. Keys come from a universe of --keys ids (default 3000):
 * byte strings of varied lengths (the empty key, long keys up to
 * RTAB_KEY_MAX, bytes 0x00 and 0xff, many keys sharing prefixes), sorted once
 * by memcmp-then-length so that the id of a key is its rank in the order.
 * A set or ordered set is then an array of versions per id (0: absent) and a
 * bitmap of present ids, the value of (id, version) being a pure function of
 * both; a bag is a bitmap of value ids per key id. Expectations for
 * next/prev/first/last and scans are found by walking the bitmap in id
 * order.
 *
 * Operations: insert, insert_new, delete, lookup, count after every write,
 * delete_match (now and then, also deleting everything), for the set bulk
 * lookups, for the bag delete_object, lookup (the visited objects),
 * lookup_object and key_count, for the ordered set first/last/next/prev,
 * next_obj walks and paged scans with small limits; and a full foreach
 * compared with the reference every --check-every ops and at the end.
 *
 * Options: --seed N, --type T, --ops N, --keys N, --check-every N.
 */
#include <errno.h>
#include <stdbool.h>

#include <urcu/urcu-memb.h>

#include "rtab_bag.h"
#include "rtab_oset.h"
#include "rtab_set.h"
#include "test_alloc.h"
#include "test_util.h"

enum tbl_type { T_SET, T_BAG, T_OSET };

/* Values per key id in the bag (bits of a uint16_t). */
#define BAG_V 16

struct ukey {
	unsigned char *b;
	size_t len;
};

static struct {
	enum tbl_type type;
	size_t nkeys;
	struct ukey *keys;        /* sorted: the id is the rank */
	uint64_t *present;        /* set/oset: bitmap of present ids */
	uint32_t *ver;            /* set/oset: version per id, 0 = absent */
	uint16_t *bag;            /* bag: value ids present per key id */
	size_t count;
	unsigned char *vbuf;      /* scratch value */
	struct rtab_set *set;
	struct rtab_bag *bg;
	struct rtab_oset *os;
	struct tu_rng rng;
	uint64_t op;              /* number of the current operation */
	size_t peak;              /* largest count seen */
	bool low;                 /* count went below 1/16 of the keys */
	uint64_t cycles;          /* times it then went above 1/2 of them */
	uint64_t stats[32];
} m;

enum {
	S_INS, S_INS_NEW, S_DEL, S_LOOKUP, S_DMATCH, S_BULK, S_DELOBJ, S_DELKEY,
	S_BLOOKUP, S_BOBJ, S_FIRST, S_NEXT, S_PREV, S_WALK, S_SCAN, S_SCANPAGE,
	S_FOREACH, S_ENOENT, S_EEXIST, S_REPLACED, S_NSTATS
};

static const char *const stat_names[S_NSTATS] = {
	"insert", "insert_new", "delete", "lookup", "delete_match", "bulk",
	"delete_object", "delete_key", "bag_lookup", "lookup_object", "first_last",
	"next", "prev", "next_obj_walk", "scan", "scan_page", "foreach",
	"-ENOENT", "-EEXIST", "replaced",
};

#define FAIL_OP(...)                                                            \
	do {                                                                    \
		fprintf(stderr, "at operation %" PRIu64 ": ", m.op);            \
		tu_failf(__FILE__, __LINE__, "model", __VA_ARGS__);             \
	} while (0)

static int
keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return (al > bl) - (al < bl);
}

static int
ukey_cmp(const void *x, const void *y)
{
	const struct ukey *a = x, *b = y;

	return keycmp(a->b, a->len, b->b, b->len);
}

/* ------------------------------------------------------------ universe */

static void
gen_bytes(struct tu_rng *r, unsigned char *p, size_t n)
{
	static const unsigned char alpha[] = { 0x00, 0x01, 'a', 'b', 0x7f, 0x80, 0xfe, 0xff };
	bool rich = tu_rng_below(r, 2);

	for (size_t i = 0; i < n; i++)
		p[i] = rich ? alpha[tu_rng_below(r, sizeof(alpha))]
			    : (unsigned char)tu_rng_next(r);
}

/* Makes @p n distinct keys, sorted. */
static void
gen_universe(size_t n)
{
	size_t ncand = n * 2 + 16, nu = 0;
	struct ukey *cand = calloc(ncand, sizeof(*cand));
	struct tu_rng r;

	CHECK(cand != NULL);
	tu_rng_init(&r, tu_seed ^ 0x0411);
	for (size_t i = 0; i < ncand; i++) {
		unsigned mode = (unsigned)tu_rng_below(&r, 100);
		size_t len;

		if (i == 0) {
			len = 0;                          /* the empty key */
		} else if (i == 1) {
			len = RTAB_KEY_MAX;               /* the longest */
		} else if (mode < 35 && i > 2) {
			/* Shares a prefix with an earlier key. */
			const struct ukey *base = &cand[2 + tu_rng_below(&r, i - 2)];
			size_t pl = (size_t)tu_rng_below(&r, base->len + 1), extra;

			if (pl > 40)
				pl = 40;
			extra = (size_t)tu_rng_below(&r, 4);
			cand[i].b = malloc(pl + extra + 1);
			CHECK(cand[i].b != NULL);
			memcpy(cand[i].b, base->b, pl);
			gen_bytes(&r, cand[i].b + pl, extra);
			cand[i].len = pl + extra;
			continue;
		} else if (mode < 40) {
			len = 100 + (size_t)tu_rng_below(&r, RTAB_KEY_MAX - 99);
		} else {
			len = (size_t)tu_rng_below(&r, 25);
		}
		cand[i].b = malloc(len + 1);
		CHECK(cand[i].b != NULL);
		gen_bytes(&r, cand[i].b, len);
		cand[i].len = len;
	}
	/* Distinct, then n of them at random (keeping the first two), sorted. */
	qsort(cand, ncand, sizeof(*cand), ukey_cmp);
	for (size_t i = 0; i < ncand; i++) {
		if (nu > 0 && ukey_cmp(&cand[nu - 1], &cand[i]) == 0) {
			free(cand[i].b);
			continue;
		}
		cand[nu++] = cand[i];
	}
	CHECK_MSG(nu >= n, "only %zu distinct keys", nu);
	/* The empty key sorts first; move a longest key next to it. */
	CHECK_EQ(cand[0].len, 0);
	for (size_t i = 1; i < nu; i++) {
		if (cand[i].len == RTAB_KEY_MAX) {
			struct ukey t = cand[1];

			cand[1] = cand[i];
			cand[i] = t;
			break;
		}
	}
	CHECK_EQ(cand[1].len, RTAB_KEY_MAX);
	for (size_t i = 2; i < n; i++) {
		size_t j = i + (size_t)tu_rng_below(&r, nu - i);
		struct ukey t = cand[i];

		cand[i] = cand[j];
		cand[j] = t;
	}
	for (size_t i = n; i < nu; i++)
		free(cand[i].b);
	qsort(cand, n, sizeof(*cand), ukey_cmp);
	m.keys = cand;
	m.nkeys = n;
}

/* The id of key (p, len), or -1 when not in the universe. */
static long
key_id(const void *p, size_t len)
{
	size_t lo = 0, hi = m.nkeys;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = keycmp(m.keys[mid].b, m.keys[mid].len, p, len);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* First id whose key is >= (p, len) (strictly > with @p strict). */
static size_t
key_lower(const void *p, size_t len, bool strict)
{
	size_t lo = 0, hi = m.nkeys;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = keycmp(m.keys[mid].b, m.keys[mid].len, p, len);

		if (c < 0 || (strict && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* -------------------------------------------------------------- values */

/* Value of (id, version) for the set and ordered set, into m.vbuf. */
static size_t
sval(size_t id, uint32_t ver)
{
	uint64_t h = tu_mix64(((uint64_t)id << 32) ^ ver ^ tu_seed);
	unsigned r = (unsigned)(h % 1000);
	size_t len;

	if (r < 100)
		len = 0;
	else if (r < 900)
		len = 1 + (size_t)((h >> 12) % 64);
	else if (r < 997)
		len = 65 + (size_t)((h >> 12) % 2000);
	else
		len = 2000 + (size_t)((h >> 12) % (RTAB_VALUE_MAX - 1999));
	for (size_t i = 0; i < len; i += 8) {
		uint64_t x = tu_mix64(h + i);
		memcpy(m.vbuf + i, &x, len - i < 8 ? len - i : 8);
	}
	return len;
}

/* Value @p vid of key @p kid in the bag, into m.vbuf. Lengths differ per
 * vid; for even keys each value is a prefix of the next. */
static size_t
bval(size_t kid, unsigned vid)
{
	uint64_t h = tu_mix64(kid ^ (tu_seed << 1));
	size_t base = 1 + (size_t)(h % 40), len;

	if (vid == 0)
		return 0;
	len = base + vid - 1;
	if (vid == BAG_V - 1 && kid % 97 == 0)
		len = 5000;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t x = tu_mix64(h + i + (kid % 2 ? (uint64_t)vid << 40 : 0));
		memcpy(m.vbuf + i, &x, len - i < 8 ? len - i : 8);
	}
	return len;
}

/* The vid of a bag object of key @p kid, or fails. */
static unsigned
bval_id(size_t kid, const struct rtab_obj *o)
{
	for (unsigned v = 0; v < BAG_V; v++) {
		size_t len = bval(kid, v);

		if (len == rtab_obj_value_len(o) &&
		    (len == 0 || memcmp(m.vbuf, rtab_obj_value(o), len) == 0))
			return v;
	}
	FAIL_OP("key %zu: an object with a value the model never inserted", kid);
}

/* ---------------------------------------------------- present bitmap */

static void
present_set(size_t id, bool on)
{
	if (on)
		m.present[id / 64] |= UINT64_C(1) << (id % 64);
	else
		m.present[id / 64] &= ~(UINT64_C(1) << (id % 64));
}

/* First present id >= @p i, or nkeys. */
static size_t
present_next(size_t i)
{
	size_t w = i / 64;
	uint64_t x;

	if (i >= m.nkeys)
		return m.nkeys;
	x = m.present[w] & (~UINT64_C(0) << (i % 64));
	while (x == 0) {
		if (++w >= (m.nkeys + 63) / 64)
			return m.nkeys;
		x = m.present[w];
	}
	return w * 64 + (size_t)__builtin_ctzll(x);
}

/* Last present id < @p i, or -1. */
static long
present_prev(size_t i)
{
	size_t w;
	uint64_t x;

	if (i == 0)
		return -1;
	i--;
	w = i / 64;
	x = m.present[w] & (i % 64 == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (i % 64 + 1)) - 1);
	while (x == 0) {
		if (w == 0)
			return -1;
		x = m.present[--w];
	}
	return (long)(w * 64 + 63 - (size_t)__builtin_clzll(x));
}

/* ------------------------------------------------------- table access */

static int
t_insert(size_t id, const void *v, size_t vl, bool only_new)
{
	const struct ukey *k = &m.keys[id];

	if (m.type == T_SET)
		return only_new ? rtab_set_insert_new(m.set, k->b, k->len, v, vl)
				: rtab_set_insert(m.set, k->b, k->len, v, vl);
	return only_new ? rtab_oset_insert_new(m.os, k->b, k->len, v, vl)
			: rtab_oset_insert(m.os, k->b, k->len, v, vl);
}

static const struct rtab_obj *
t_lookup(const void *key, size_t len)
{
	return m.type == T_SET ? rtab_set_lookup(m.set, key, len)
			       : rtab_oset_lookup(m.os, key, len);
}

static size_t
t_count(void)
{
	switch (m.type) {
	case T_SET: return rtab_set_count(m.set);
	case T_BAG: return rtab_bag_count(m.bg);
	default: return rtab_oset_count(m.os);
	}
}

/* Proves that @p o is the object of present id @p id. */
static void
expect_obj(const struct rtab_obj *o, size_t id, const char *what)
{
	const struct ukey *k = &m.keys[id];
	size_t vl;

	if (o == NULL)
		FAIL_OP("%s: key %zu missing", what, id);
	if (rtab_obj_key_len(o) != k->len || (k->len && memcmp(rtab_obj_key(o), k->b, k->len)))
		FAIL_OP("%s: expected key %zu, got a key of length %zu (id %ld)", what, id,
			rtab_obj_key_len(o), key_id(rtab_obj_key(o), rtab_obj_key_len(o)));
	if (m.ver[id] == 0)
		FAIL_OP("%s: key %zu is not present", what, id);
	vl = sval(id, m.ver[id]);
	if (rtab_obj_value_len(o) != vl || (vl && memcmp(rtab_obj_value(o), m.vbuf, vl)))
		FAIL_OP("%s: key %zu: wrong value (version %u)", what, id, m.ver[id]);
}

static void
check_count(void)
{
	size_t c = t_count();

	if (c != m.count)
		FAIL_OP("count %zu, the model has %zu", c, m.count);
	if (c > m.peak)
		m.peak = c;
	if (c < m.nkeys / 16) {
		m.low = true;
	} else if (m.low && c > m.nkeys / 2) {
		m.low = false;
		m.cycles++;
	}
}

/* Bytewise hash of a key, for delete_match predicates. */
static uint64_t
key_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3u;
	return tu_mix64(h ^ len);
}

struct pred {
	uint64_t mod, rem, salt;
};

static bool
pred_key(const struct pred *p, const void *key, size_t len, size_t vlen)
{
	return (key_hash(key, len) + p->salt * vlen) % p->mod == p->rem;
}

static int
match_pred(const struct rtab_obj *o, void *arg)
{
	const struct pred *p = arg;

	return pred_key(p, rtab_obj_key(o), rtab_obj_key_len(o), rtab_obj_value_len(o));
}

/* ---------------------------------------------------- set and ordered set */

static void
sl_write(void)
{
	unsigned phase = (unsigned)((m.op / 20000) % 3);
	unsigned ins = phase == 0 ? 750 : phase == 1 ? 250 : 500;
	size_t id = (size_t)tu_rng_below(&m.rng, m.nkeys);
	uint64_t r = tu_rng_below(&m.rng, 1000);

	if (r < ins) {
		bool only_new = tu_rng_below(&m.rng, 3) == 0;
		uint32_t nv = m.ver[id] + 1;
		size_t vl = sval(id, nv);
		int ret = t_insert(id, m.vbuf, vl, only_new);

		m.stats[only_new ? S_INS_NEW : S_INS]++;
		if (only_new && m.ver[id]) {
			if (ret != -EEXIST)
				FAIL_OP("insert_new of present key %zu: %d", id, ret);
			m.stats[S_EEXIST]++;
		} else {
			int want = m.ver[id] ? 1 : 0;

			if (ret != want)
				FAIL_OP("insert of key %zu: %d, expected %d", id, ret, want);
			if (!m.ver[id]) {
				m.count++;
				present_set(id, true);
			} else {
				m.stats[S_REPLACED]++;
			}
			m.ver[id] = nv;
		}
	} else {
		const struct ukey *k = &m.keys[id];
		int ret = m.type == T_SET ? rtab_set_delete(m.set, k->b, k->len)
					  : rtab_oset_delete(m.os, k->b, k->len);

		m.stats[S_DEL]++;
		if (ret != (m.ver[id] ? 0 : -ENOENT))
			FAIL_OP("delete of key %zu: %d", id, ret);
		if (m.ver[id]) {
			m.ver[id] = 0;
			present_set(id, false);
			m.count--;
		} else {
			m.stats[S_ENOENT]++;
		}
	}
	check_count();
}

static void
sl_delete_match(bool all)
{
	struct pred p = { all ? 1 : 2 + tu_rng_below(&m.rng, 6), 0, tu_rng_next(&m.rng) };
	long want = 0, got;

	for (size_t id = 0; id < m.nkeys; id++) {
		if (m.ver[id] && pred_key(&p, m.keys[id].b, m.keys[id].len, sval(id, m.ver[id]))) {
			m.ver[id] = 0;
			present_set(id, false);
			want++;
		}
	}
	got = m.type == T_SET ? rtab_set_delete_match(m.set, match_pred, &p)
			      : rtab_oset_delete_match(m.os, match_pred, &p);
	m.stats[S_DMATCH]++;
	if (got != want)
		FAIL_OP("delete_match deleted %ld, expected %ld", got, want);
	m.count -= (size_t)want;
	check_count();
}

static void
sl_lookup(void)
{
	size_t id = (size_t)tu_rng_below(&m.rng, m.nkeys);
	const struct rtab_obj *o = t_lookup(m.keys[id].b, m.keys[id].len);

	m.stats[S_LOOKUP]++;
	if (m.ver[id])
		expect_obj(o, id, "lookup");
	else if (o != NULL)
		FAIL_OP("lookup: absent key %zu found", id);
}

static void
set_bulk(void)
{
	enum { MAXB = 64 };
	const void *keys[MAXB];
	uint32_t lens[MAXB];
	const struct rtab_obj *objs[MAXB];
	size_t ids[MAXB];
	unsigned n = (unsigned)tu_rng_below(&m.rng, MAXB + 1), want = 0, got;

	for (unsigned i = 0; i < n; i++) {
		ids[i] = (size_t)tu_rng_below(&m.rng, m.nkeys);
		if (i > 0 && tu_rng_below(&m.rng, 8) == 0)
			ids[i] = ids[tu_rng_below(&m.rng, i)];  /* a duplicate */
		keys[i] = m.keys[ids[i]].b;
		lens[i] = (uint32_t)m.keys[ids[i]].len;
		want += m.ver[ids[i]] != 0;
	}
	got = rtab_set_lookup_bulk(m.set, keys, lens, n, objs);
	m.stats[S_BULK]++;
	if (got != want)
		FAIL_OP("lookup_bulk found %u of %u, expected %u", got, n, want);
	for (unsigned i = 0; i < n; i++) {
		if (m.ver[ids[i]])
			expect_obj(objs[i], ids[i], "lookup_bulk");
		else if (objs[i] != NULL)
			FAIL_OP("lookup_bulk: absent key %zu found", ids[i]);
	}
}

struct fe_ctx {
	size_t n;
	long last;
	uint8_t *seen;
};

static int
sl_foreach_visit(const struct rtab_obj *o, void *arg)
{
	struct fe_ctx *c = arg;
	long id = key_id(rtab_obj_key(o), rtab_obj_key_len(o));

	if (id < 0)
		FAIL_OP("foreach: a key the model never inserted");
	if (m.type == T_OSET && id <= c->last)
		FAIL_OP("foreach: key %ld after key %ld", id, c->last);
	if (c->seen[id]++)
		FAIL_OP("foreach: key %ld visited twice", id);
	expect_obj(o, (size_t)id, "foreach");
	c->last = id;
	c->n++;
	return 0;
}

static void
sl_foreach_check(void)
{
	struct fe_ctx c = { 0, -1, calloc(m.nkeys, 1) };
	int r;

	CHECK(c.seen != NULL);
	r = m.type == T_SET ? rtab_set_foreach(m.set, sl_foreach_visit, &c)
			    : rtab_oset_foreach(m.os, sl_foreach_visit, &c);
	m.stats[S_FOREACH]++;
	if (r != 0 || c.n != m.count)
		FAIL_OP("foreach returned %d after %zu objects, the model has %zu", r, c.n,
			m.count);
	free(c.seen);
}

/* --------------------------------------------------------- ordered set */

/* A probe key: a universe key, or one next to it that is (mostly) not in
 * the universe. Points into a static buffer. */
static struct ukey
probe_key(void)
{
	static unsigned char buf[RTAB_KEY_MAX + 1];
	const struct ukey *k = &m.keys[tu_rng_below(&m.rng, m.nkeys)];
	struct ukey p = { buf, k->len };

	memcpy(buf, k->b, k->len);
	switch (tu_rng_below(&m.rng, 6)) {
	case 0: /* one byte more */
		if (p.len < RTAB_KEY_MAX)
			buf[p.len++] = tu_rng_below(&m.rng, 2) ? 0x00 : 0xff;
		break;
	case 1: /* one byte less */
		if (p.len > 0)
			p.len--;
		break;
	case 2: /* the last byte moved by one */
		if (p.len > 0)
			buf[p.len - 1] = (unsigned char)(buf[p.len - 1] + (tu_rng_below(&m.rng, 2) ? 1 : 255));
		break;
	default:
		break;
	}
	return p;
}

static void
os_first_last(void)
{
	size_t f = present_next(0);
	long l = present_prev(m.nkeys);
	const struct rtab_obj *o;

	m.stats[S_FIRST]++;
	o = rtab_oset_first(m.os);
	if (f < m.nkeys)
		expect_obj(o, f, "first");
	else if (o != NULL)
		FAIL_OP("first of an empty set");
	o = rtab_oset_last(m.os);
	if (l >= 0)
		expect_obj(o, (size_t)l, "last");
	else if (o != NULL)
		FAIL_OP("last of an empty set");
}

static void
os_next_prev(void)
{
	struct ukey p = probe_key();
	size_t up = key_lower(p.b, p.len, true);  /* first id with key > p */
	size_t lo = key_lower(p.b, p.len, false); /* first id with key >= p */
	size_t n = present_next(up);
	long v = present_prev(lo);
	const struct rtab_obj *o;

	m.stats[S_NEXT]++;
	o = rtab_oset_next(m.os, p.b, p.len);
	if (n == m.nkeys) {
		if (o != NULL)
			FAIL_OP("next: an object after the last");
	} else {
		expect_obj(o, n, "next");
	}
	m.stats[S_PREV]++;
	o = rtab_oset_prev(m.os, p.b, p.len);
	if (v < 0) {
		if (o != NULL)
			FAIL_OP("prev: an object before the first");
	} else {
		expect_obj(o, (size_t)v, "prev");
	}
}

static void
os_walk(void)
{
	size_t id = present_next((size_t)tu_rng_below(&m.rng, m.nkeys));
	unsigned steps = 1 + (unsigned)tu_rng_below(&m.rng, 20);
	const struct rtab_obj *o;

	m.stats[S_WALK]++;
	if (id == m.nkeys)
		return;
	o = rtab_oset_lookup(m.os, m.keys[id].b, m.keys[id].len);
	expect_obj(o, id, "walk start");
	for (unsigned s = 0; s < steps; s++) {
		id = present_next(id + 1);
		o = rtab_oset_next_obj(m.os, o);
		if (id == m.nkeys) {
			if (o != NULL)
				FAIL_OP("next_obj: an object after the last");
			return;
		}
		expect_obj(o, id, "next_obj");
	}
}

static void
os_scan(void)
{
	static struct rtab_cursor cur;
	struct rtab_range r;
	struct ukey lo, hi, pre;
	static unsigned char lob[RTAB_KEY_MAX + 1], hib[RTAB_KEY_MAX + 1], preb[RTAB_KEY_MAX + 1];
	const struct rtab_obj *out[9];
	unsigned limit = 1 + (unsigned)tu_rng_below(&m.rng, 8);
	size_t start, id;

	memset(&r, 0, sizeof(r));
	lo = probe_key();
	memcpy(lob, lo.b, lo.len);
	hi = probe_key();
	memcpy(hib, hi.b, hi.len);
	pre = probe_key();
	memcpy(preb, pre.b, pre.len);
	if (pre.len > 0)
		pre.len = (size_t)tu_rng_below(&m.rng, pre.len < 4 ? pre.len + 1 : 4);
	if (tu_rng_below(&m.rng, 3) == 0) { /* a prefix of all 0xff */
		pre.len = 1 + (size_t)tu_rng_below(&m.rng, 3);
		memset(preb, 0xff, pre.len);
	}
	if (tu_rng_below(&m.rng, 2)) {
		r.lo = lob;
		r.lo_len = lo.len;
	}
	if (tu_rng_below(&m.rng, 2)) {
		r.hi = hib;
		r.hi_len = hi.len;
	}
	if (tu_rng_below(&m.rng, 2)) {
		r.prefix = preb;
		r.prefix_len = pre.len;
	}
	/* The matching ids form one interval of the order: from the largest
	 * lower bound, while below hi and starting with the prefix. */
	start = r.lo ? key_lower(lob, lo.len, false) : 0;
	if (r.prefix && pre.len) {
		size_t ps = key_lower(preb, pre.len, false);
		if (ps > start)
			start = ps;
	}
	m.stats[S_SCAN]++;
	rtab_cursor_init(&cur);
	id = present_next(start);
	for (unsigned page = 0; page < 40; page++) {
		int n = rtab_oset_scan(m.os, &r, &cur, out, limit);

		m.stats[S_SCANPAGE]++;
		if (n < 0 || (unsigned)n > limit)
			FAIL_OP("scan returned %d, limit %u", n, limit);
		for (int i = 0; i <= n; i++) {
			bool in = id < m.nkeys;

			if (in && r.hi && keycmp(m.keys[id].b, m.keys[id].len, hib, hi.len) >= 0)
				in = false;
			if (in && r.prefix && pre.len &&
			    (m.keys[id].len < pre.len || memcmp(m.keys[id].b, preb, pre.len)))
				in = false;
			if (i == n) {
				/* After the page: done only if nothing is left. */
				if (in && cur.done)
					FAIL_OP("scan: done with key %zu left", id);
				if (n == 0 && in)
					FAIL_OP("scan: 0 with key %zu left", id);
				if (n == 0 && !cur.done)
					FAIL_OP("scan: 0 but not done");
				break;
			}
			if (!in)
				FAIL_OP("scan: object %d of page %u is past the range", i, page);
			expect_obj(out[i], id, "scan");
			id = present_next(id + 1);
		}
		if (n == 0)
			break;
	}
}

/* ------------------------------------------------------------------ bag */

static unsigned
popcount16(uint16_t x)
{
	return (unsigned)__builtin_popcount(x);
}

struct bl_ctx {
	size_t kid;
	uint16_t seen;
	unsigned n;
};

static int
bag_lookup_visit(const struct rtab_obj *o, void *arg)
{
	struct bl_ctx *c = arg;
	const struct ukey *k = &m.keys[c->kid];
	unsigned v;

	if (rtab_obj_key_len(o) != k->len || (k->len && memcmp(rtab_obj_key(o), k->b, k->len)))
		FAIL_OP("bag lookup of key %zu: an object of another key", c->kid);
	v = bval_id(c->kid, o);
	if (c->seen & (1u << v))
		FAIL_OP("bag lookup of key %zu: value %u twice", c->kid, v);
	c->seen |= (uint16_t)(1u << v);
	c->n++;
	return 0;
}

static void
bag_step(uint64_t r)
{
	/* Skewed keys: most operations on a small hot set, so keys hold many
	 * values and go between one and many. */
	size_t kid = tu_rng_below(&m.rng, 2) ? (size_t)tu_rng_below(&m.rng, m.nkeys / 16 + 1)
					     : (size_t)tu_rng_below(&m.rng, m.nkeys);
	unsigned vid = (unsigned)tu_rng_below(&m.rng, BAG_V);
	const struct ukey *k = &m.keys[kid];
	uint16_t bit = (uint16_t)(1u << vid);
	unsigned phase = (unsigned)((m.op / 20000) % 3);
	unsigned ins = phase == 0 ? 330 : phase == 1 ? 120 : 220;

	if (r < ins) {
		size_t vl = bval(kid, vid);
		int ret = rtab_bag_insert(m.bg, k->b, k->len, m.vbuf, vl);

		m.stats[S_INS]++;
		if (ret != ((m.bag[kid] & bit) ? 1 : 0))
			FAIL_OP("bag insert (%zu, %u): %d", kid, vid, ret);
		if (!(m.bag[kid] & bit)) {
			m.bag[kid] |= bit;
			m.count++;
		}
		check_count();
	} else if (r < 430) {
		size_t vl = bval(kid, vid);
		int ret = rtab_bag_delete_object(m.bg, k->b, k->len, m.vbuf, vl);

		m.stats[S_DELOBJ]++;
		if (ret != ((m.bag[kid] & bit) ? 0 : -ENOENT))
			FAIL_OP("bag delete_object (%zu, %u): %d", kid, vid, ret);
		if (m.bag[kid] & bit) {
			m.bag[kid] &= (uint16_t)~bit;
			m.count--;
		}
		check_count();
	} else if (r < 450) {
		long ret = rtab_bag_delete(m.bg, k->b, k->len);

		m.stats[S_DELKEY]++;
		if (ret != (long)popcount16(m.bag[kid]))
			FAIL_OP("bag delete of key %zu: %ld, expected %u", kid, ret,
				popcount16(m.bag[kid]));
		m.count -= popcount16(m.bag[kid]);
		m.bag[kid] = 0;
		check_count();
	} else if (r < 750) {
		struct bl_ctx c = { kid, 0, 0 };
		int ret;

		m.stats[S_BLOOKUP]++;
		urcu_memb_read_lock();
		ret = rtab_bag_lookup(m.bg, k->b, k->len, bag_lookup_visit, &c);
		if (ret != 0 || c.seen != m.bag[kid])
			FAIL_OP("bag lookup of key %zu: saw %#x, expected %#x", kid, c.seen,
				m.bag[kid]);
		if (rtab_bag_key_count(m.bg, k->b, k->len) != popcount16(m.bag[kid]))
			FAIL_OP("bag key_count of key %zu", kid);
		urcu_memb_read_unlock();
	} else {
		size_t vl = bval(kid, vid);
		const struct rtab_obj *o;

		m.stats[S_BOBJ]++;
		urcu_memb_read_lock();
		o = rtab_bag_lookup_object(m.bg, k->b, k->len, m.vbuf, vl);
		if ((o != NULL) != ((m.bag[kid] & bit) != 0))
			FAIL_OP("bag lookup_object (%zu, %u): %s", kid, vid,
				o ? "found" : "missing");
		if (o != NULL && (rtab_obj_key_len(o) != k->len || rtab_obj_value_len(o) != vl ||
				  (vl && memcmp(rtab_obj_value(o), m.vbuf, vl))))
			FAIL_OP("bag lookup_object (%zu, %u): wrong bytes", kid, vid);
		urcu_memb_read_unlock();
	}
}

static void
bag_delete_match(bool all)
{
	struct pred p = { all ? 1 : 2 + tu_rng_below(&m.rng, 6), 0, tu_rng_next(&m.rng) };
	long want = 0, got;

	for (size_t kid = 0; kid < m.nkeys; kid++) {
		for (unsigned v = 0; v < BAG_V; v++) {
			if (!(m.bag[kid] & (1u << v)))
				continue;
			if (pred_key(&p, m.keys[kid].b, m.keys[kid].len, bval(kid, v))) {
				m.bag[kid] &= (uint16_t)~(1u << v);
				want++;
			}
		}
	}
	got = rtab_bag_delete_match(m.bg, match_pred, &p);
	m.stats[S_DMATCH]++;
	if (got != want)
		FAIL_OP("bag delete_match deleted %ld, expected %ld", got, want);
	m.count -= (size_t)want;
	check_count();
}

static int
bag_foreach_visit(const struct rtab_obj *o, void *arg)
{
	struct fe_ctx *c = arg;
	long kid = key_id(rtab_obj_key(o), rtab_obj_key_len(o));
	unsigned v;

	if (kid < 0)
		FAIL_OP("bag foreach: a key the model never inserted");
	v = bval_id((size_t)kid, o);
	if (!(m.bag[kid] & (1u << v)))
		FAIL_OP("bag foreach: (%ld, %u) is not in the bag", kid, v);
	if (c->seen[(size_t)kid * BAG_V + v]++)
		FAIL_OP("bag foreach: (%ld, %u) visited twice", kid, v);
	c->n++;
	return 0;
}

static void
bag_foreach_check(void)
{
	struct fe_ctx c = { 0, -1, calloc(m.nkeys * BAG_V, 1) };
	int r;

	CHECK(c.seen != NULL);
	r = rtab_bag_foreach(m.bg, bag_foreach_visit, &c);
	m.stats[S_FOREACH]++;
	if (r != 0 || c.n != m.count)
		FAIL_OP("bag foreach returned %d after %zu objects, the model has %zu", r, c.n,
			m.count);
	free(c.seen);
}

/* ----------------------------------------------------------------- main */

static void
full_check(void)
{
	urcu_memb_read_lock();
	if (m.type == T_BAG)
		bag_foreach_check();
	else
		sl_foreach_check();
	urcu_memb_read_unlock();
	check_count();
}

int
main(int argc, char **argv)
{
	uint64_t ops = 2000000, nkeys = 3000, check_every = 100000;
	const char *type = "set";
	const struct tu_opt opts[] = {
		{ "--type", NULL, &type, "set, bag or oset (default set)" },
		{ "--ops", &ops, NULL, "random operations (default 2000000)" },
		{ "--keys", &nkeys, NULL, "keys in the universe (default 3000)" },
		{ "--check-every", &check_every, NULL,
		  "ops between full foreach checks (default 100000)" },
	};
	static struct ta_alloc ta;
	struct rtab_params p;
	uint64_t t0;

	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (strcmp(type, "set") == 0) {
		m.type = T_SET;
	} else if (strcmp(type, "bag") == 0) {
		m.type = T_BAG;
	} else if (strcmp(type, "oset") == 0) {
		m.type = T_OSET;
	} else {
		fprintf(stderr, "--type: set, bag or oset\n");
		return 2;
	}
	if (nkeys < 16 || nkeys > 1000000 || check_every == 0) {
		fprintf(stderr, "--keys: 16..1000000, --check-every: > 0\n");
		return 2;
	}
	t0 = tu_now_ns();
	tu_rng_init(&m.rng, tu_seed);
	gen_universe((size_t)nkeys);
	m.present = calloc((m.nkeys + 63) / 64, sizeof(*m.present));
	m.ver = calloc(m.nkeys, sizeof(*m.ver));
	m.bag = calloc(m.nkeys, sizeof(*m.bag));
	m.vbuf = malloc(RTAB_VALUE_MAX + 8);
	CHECK(m.present && m.ver && m.bag && m.vbuf);

	urcu_memb_register_thread();
	ta_init(&ta);
	memset(&p, 0, sizeof(p));
	p.name = type;
	p.seed = tu_mix64(tu_seed ^ 0x7ab1e);
	p.initial_size = (size_t)tu_rng_below(&m.rng, 4); /* 0: the default */
	p.allocator = &ta.a;
	if (m.type == T_SET)
		CHECK((m.set = rtab_set_create(&p)) != NULL);
	else if (m.type == T_BAG)
		CHECK((m.bg = rtab_bag_create(&p)) != NULL);
	else
		CHECK((m.os = rtab_oset_create(&p)) != NULL);

	for (m.op = 0; m.op < ops; m.op++) {
		uint64_t r = tu_rng_below(&m.rng, 1000);

		if (m.op % 250000 == 124999) {
			/* Now and then everything goes at once. */
			if (m.type == T_BAG)
				bag_delete_match(true);
			else
				sl_delete_match(true);
		} else if (tu_rng_below(&m.rng, 4000) == 0) {
			if (m.type == T_BAG)
				bag_delete_match(false);
			else
				sl_delete_match(false);
		} else if (m.type == T_BAG) {
			bag_step(r);
		} else if (r < 500) {
			sl_write();
		} else {
			urcu_memb_read_lock();
			if (r < 750)
				sl_lookup();
			else if (m.type == T_SET)
				set_bulk();
			else if (r < 820)
				os_next_prev();
			else if (r < 850)
				os_first_last();
			else if (r < 930)
				os_walk();
			else
				os_scan();
			urcu_memb_read_unlock();
		}
		if (m.op % check_every == check_every - 1)
			full_check();
	}
	full_check();

	if (m.type == T_SET)
		rtab_set_free(m.set);
	else if (m.type == T_BAG)
		rtab_bag_free(m.bg);
	else
		rtab_oset_free(m.os);
	urcu_memb_barrier();
	CHECK_EQ(atomic_load(&ta.live), 0);
	urcu_memb_unregister_thread();

	printf("test_model --type %s: %" PRIu64 " operations on %zu keys in %.1f s; "
	       "at most %zu objects, %" PRIu64 " cycles from under 1/16 to over 1/2 of the keys\n",
	       type, ops, m.nkeys, (double)(tu_now_ns() - t0) / 1e9, m.peak, m.cycles);
	for (int i = 0; i < S_NSTATS; i++)
		if (m.stats[i])
			printf("  %-14s %" PRIu64 "\n", stat_names[i], m.stats[i]);
	for (size_t i = 0; i < m.nkeys; i++)
		free(m.keys[i].b);
	free(m.keys);
	free(m.present);
	free(m.ver);
	free(m.bag);
	free(m.vbuf);
	printf("test_model: all checks passed\n");
	return 0;
}
