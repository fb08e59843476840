/* SPDX-License-Identifier: MIT */
/*
 * Stress test of rtab_oset: one writer churns while reader threads walk the
 * order, for --seconds. Ids are spread over one key space whose byte order
 * is the order of ids: id % 10 == 0 is stable (replaced with new versions,
 * never deleted), id % 10 == 5 frozen (never touched), every other id churns
 * (inserted, replaced, deleted, also by delete_match, in phases that grow
 * the table to all of them and shrink it to almost none). Proves that:
 *   - a whole walk by next_obj in one read-side section gives strictly
 *     increasing keys and skips no stable or frozen key (a key present for
 *     the whole walk is never skipped), though the object it stands on is
 *     replaced or deleted meanwhile;
 *   - paging by rtab_oset_scan with a cursor, each page in its own read-side
 *     section, over the whole table or a lo/hi or prefix range, gives
 *     strictly increasing keys inside the range and skips no stable or
 *     frozen key of it; the cursor ends done;
 *   - next/prev of any key return the nearest key on that side: never
 *     beyond the nearest stable or frozen one; first/last likewise;
 *   - lookups always find stable keys, whose version goes backwards per
 *     reader by at most the one replace in flight (rtab_oset.h), and every
 *     value seen is whole and of its key (checksum; freed memory is
 *     poisoned by the test allocator);
 *   - the writer's return codes and count always match its model, and at
 *     the end the table is exactly the model.
 * The library is the RTAB_DEBUG_YIELD build (--yield permille of its sites
 * yield the CPU).
 *
 * Options: --seed N, --seconds N, --yield N, --readers N, --keys N.
 * Run by hand for long: stress_oset --seconds 600 --yield 20
 */
#include <errno.h>

#include "rtab_oset.h"
#include "stress_util.h"

static struct st_common st;
static struct rtab_oset *os;
static uint32_t nkeys = 30000;   /* ids [0, nkeys) */

static bool
is_fixed(uint32_t id)
{
	return id % 5 == 0;
}

/* The smallest fixed id >= @p id (may be >= nkeys). */
static uint32_t
fixed_at_or_after(uint32_t id)
{
	return (id + 4) / 5 * 5;
}

static uint32_t
last_fixed(void)
{
	return (nkeys - 1) / 5 * 5;
}

/* ---------------------------------------------------------------- writer */

static struct {
	uint32_t *ver;
	uint32_t *live, *pos;   /* present churn ids, dense, and their index */
	uint32_t nlive, nchurn;
	size_t count;
	uint64_t ops, inserts, replaces, deletes, matches, cycles;
	struct tu_rng rng;
} w;

static uint32_t
churn_id(uint32_t i)
{
	/* The i-th churn id: 8 in each block of 10. */
	static const uint8_t off[8] = { 1, 2, 3, 4, 6, 7, 8, 9 };

	return i / 8 * 10 + off[i % 8];
}

static uint32_t
churn_index(uint32_t id)
{
	uint32_t o = id % 10;

	return id / 10 * 8 + (o < 5 ? o - 1 : o - 2);
}

static void
w_insert(uint32_t id)
{
	unsigned char k[8], v[SV_MAX];
	size_t kl = sk_make(k, id), vl = sv_make(v, id, 0, w.ver[id] + 1);
	int r = rtab_oset_insert(os, k, kl, v, vl);

	CHECK_EQ(r, w.ver[id] ? 1 : 0);
	if (!w.ver[id]) {
		w.count++;
		if (!is_fixed(id)) {
			w.pos[churn_index(id)] = w.nlive;
			w.live[w.nlive++] = id;
		}
		w.inserts++;
	} else {
		w.replaces++;
	}
	w.ver[id]++;
}

static void
w_forget(uint32_t id)
{
	uint32_t p = w.pos[churn_index(id)], last = w.live[--w.nlive];

	w.live[p] = last;
	w.pos[churn_index(last)] = p;
	w.ver[id] = 0;
	w.count--;
}

static void
w_delete(uint32_t id)
{
	unsigned char k[8];
	size_t kl = sk_make(k, id);

	CHECK_EQ(rtab_oset_delete(os, k, kl), w.ver[id] ? 0 : -ENOENT);
	if (w.ver[id]) {
		w_forget(id);
		w.deletes++;
	}
}

struct match_arg {
	uint32_t mod, rem;
};

static int
match_churn(const struct rtab_obj *o, void *arg)
{
	const struct match_arg *a = arg;
	struct sv_hdr h;
	uint32_t id = sv_check_obj(o, &h);

	return !is_fixed(id) && (id / 10) % a->mod == a->rem;
}

static void
w_delete_match(void)
{
	struct match_arg a = { 2 + (uint32_t)tu_rng_below(&w.rng, 5), 0 };
	long want = 0;

	a.rem = (uint32_t)tu_rng_below(&w.rng, a.mod);
	for (uint32_t i = 0; i < w.nlive;) {
		uint32_t id = w.live[i];

		if ((id / 10) % a.mod == a.rem) {
			w_forget(id);
			want++;
		} else {
			i++;
		}
	}
	CHECK_EQ(rtab_oset_delete_match(os, match_churn, &a), want);
	w.matches++;
}

static void *
writer_main(void *arg)
{
	bool grow = true;

	(void)arg;
	urcu_memb_register_thread();
	while (!st_stopped(&st)) {
		uint64_t r = tu_rng_below(&w.rng, 100);

		if (r < 15)
			w_insert((uint32_t)tu_rng_below(&w.rng, nkeys / 10) * 10);
		else if (r < (grow ? 85 : 30))
			w_insert(churn_id((uint32_t)tu_rng_below(&w.rng, w.nchurn)));
		else if (w.nlive > 0 && r < 97)
			w_delete(w.live[tu_rng_below(&w.rng, w.nlive)]);
		else
			w_delete(churn_id((uint32_t)tu_rng_below(&w.rng, w.nchurn)));
		CHECK_EQ(rtab_oset_count(os), w.count);
		if (grow && w.nlive >= w.nchurn * 3 / 4) {
			grow = false;
			w_delete_match(); /* a big bite to start shrinking */
			CHECK_EQ(rtab_oset_count(os), w.count);
		} else if (!grow && w.nlive <= w.nchurn / 64) {
			grow = true;
			w.cycles++;
		}
		w.ops++;
	}
	urcu_memb_unregister_thread();
	return NULL;
}

/* ---------------------------------------------------------------- readers */

struct reader {
	pthread_t th;
	struct tu_rng rng;
	uint32_t *last_ver;     /* per stable id / 10 */
	uint64_t walks, scans, pages, probes, lookups;
};

/* Checks @p o (an object of the table) and returns its id; a stable id's
 * version may not go backwards for this reader. */
static uint32_t
r_check(struct reader *rd, const struct rtab_obj *o)
{
	struct sv_hdr h;
	uint32_t id = sv_check_obj(o, &h);

	CHECK_MSG(id < nkeys, "key %u", id);
	if (id % 10 == 5)
		CHECK_EQ(h.ver, 1);
	if (id % 10 == 0) {
		/* A replace switches the hash index and the skiplist levels one
		 * store at a time (rtab_oset.h): while the one replace in flight
		 * lasts, a reader may see the new version and then the old one,
		 * never an older one. */
		CHECK_MSG(h.ver + 1 >= rd->last_ver[id / 10],
			  "key %u: version %u after version %u", id, h.ver,
			  rd->last_ver[id / 10]);
		if (h.ver > rd->last_ver[id / 10])
			rd->last_ver[id / 10] = h.ver;
	}
	return id;
}

/* @p id follows @p prev (-1: none before it) in a walk of keys >= @p from:
 * strictly greater, and no fixed id >= from in between. */
static void
r_step(long prev, uint32_t id, uint32_t from, const char *what)
{
	uint32_t f = fixed_at_or_after(prev < 0 ? from : (uint32_t)prev + 1);

	if (prev >= 0)
		CHECK_MSG(id > (uint32_t)prev, "%s: key %u after key %ld", what, id, prev);
	CHECK_MSG(f >= id, "%s: went from key %ld to key %u, skipping key %u", what, prev, id,
		  f);
}

static void
r_walk(struct reader *rd)
{
	const struct rtab_obj *o;
	long prev = -1;

	urcu_memb_read_lock();
	for (o = rtab_oset_first(os); o != NULL; o = rtab_oset_next_obj(os, o)) {
		uint32_t id = r_check(rd, o);

		r_step(prev, id, 0, "next_obj walk");
		prev = id;
	}
	urcu_memb_read_unlock();
	CHECK_MSG(prev >= (long)last_fixed(), "next_obj walk ended at key %ld", prev);
	rd->walks++;
}

static void
r_scan(struct reader *rd)
{
	static _Thread_local struct rtab_cursor cur;
	static _Thread_local const struct rtab_obj *out[64];
	unsigned char lo[8], hi[8];
	struct rtab_range r;
	uint32_t from = 0, to = nkeys;  /* ids the range covers: [from, to) */
	unsigned limit = 1 + (unsigned)tu_rng_below(&rd->rng, 64);
	long prev = -1;
	int n;

	memset(&r, 0, sizeof(r));
	switch (tu_rng_below(&rd->rng, 3)) {
	case 0:
		break;
	case 1: /* [lo, hi) by ids */
		from = (uint32_t)tu_rng_below(&rd->rng, nkeys);
		to = from + (uint32_t)tu_rng_below(&rd->rng, nkeys - from + 1);
		r.lo = lo;
		r.lo_len = sk_make(lo, from);
		r.hi = hi;
		r.hi_len = sk_make(hi, to);
		break;
	default: /* a 3-byte prefix: ids [x * 256, x * 256 + 256) */
		from = (uint32_t)tu_rng_below(&rd->rng, nkeys) & ~UINT32_C(255);
		to = from + 256 < nkeys ? from + 256 : nkeys;
		sk_make(lo, from);
		r.prefix = lo;
		r.prefix_len = 3;
		break;
	}
	rtab_cursor_init(&cur);
	do {
		urcu_memb_read_lock();
		n = rtab_oset_scan(os, &r, &cur, out, limit);
		CHECK_MSG(n >= 0 && (unsigned)n <= limit, "scan returned %d", n);
		for (int i = 0; i < n; i++) {
			uint32_t id = r_check(rd, out[i]);

			CHECK_MSG(id >= from && id < to, "scan of [%u, %u): key %u", from, to, id);
			r_step(prev, id, from, "scan");
			prev = id;
		}
		urcu_memb_read_unlock();
		rd->pages++;
	} while (n > 0);
	CHECK(cur.done);
	/* Nothing fixed after the last key returned, up to the end. */
	{
		uint32_t f = fixed_at_or_after(prev < 0 ? from : (uint32_t)prev + 1);

		CHECK_MSG(f >= to, "scan of [%u, %u) ended at key %ld, before key %u", from, to,
			  prev, f);
	}
	rd->scans++;
}

static void
r_probe(struct reader *rd)
{
	uint32_t p = (uint32_t)tu_rng_below(&rd->rng, nkeys);
	unsigned char k[8];
	size_t kl = sk_make(k, p);
	const struct rtab_obj *o;

	urcu_memb_read_lock();
	o = rtab_oset_next(os, k, kl);
	if (fixed_at_or_after(p + 1) < nkeys) {
		uint32_t id;

		CHECK_MSG(o != NULL, "next of key %u: none", p);
		id = r_check(rd, o);
		CHECK_MSG(id > p && id <= fixed_at_or_after(p + 1), "next of key %u: key %u", p, id);
	} else if (o != NULL) {
		CHECK(r_check(rd, o) > p);
	}
	o = rtab_oset_prev(os, k, kl);
	if (p > 0) {
		uint32_t id, before = (p - 1) / 5 * 5;

		CHECK_MSG(o != NULL, "prev of key %u: none", p);
		id = r_check(rd, o);
		CHECK_MSG(id < p && id >= before, "prev of key %u: key %u", p, id);
	} else {
		CHECK(o == NULL);
	}
	o = rtab_oset_first(os);
	CHECK(o != NULL && r_check(rd, o) == 0);
	o = rtab_oset_last(os);
	CHECK(o != NULL && r_check(rd, o) >= last_fixed());
	/* A fixed key by lookup. */
	p = p / 5 * 5;
	kl = sk_make(k, p);
	o = rtab_oset_lookup(os, k, kl);
	CHECK_MSG(o != NULL, "key %u, never deleted, not found", p);
	CHECK_EQ(r_check(rd, o), p);
	urcu_memb_read_unlock();
	rd->probes++;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;

	urcu_memb_register_thread();
	while (!st_stopped(&st)) {
		uint64_t r = tu_rng_below(&rd->rng, 100);
		size_t c = rtab_oset_count(os);

		CHECK_MSG(c >= nkeys / 5 && c <= nkeys, "count %zu", c);
		if (r < 10 || rd->walks == 0)
			r_walk(rd);
		else if (r < 40 || rd->scans == 0)
			r_scan(rd);
		else
			r_probe(rd);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t keys = nkeys;
	struct tu_opt opts[] = {
		ST_COMMON_OPTS(&st),
		{ "--keys", &keys, NULL, "ids in the key space (default 30000; 1/5 fixed)" },
	};
	static struct ta_alloc ta;
	struct rtab_params p;
	struct reader *rds;
	pthread_t wth;

	st_defaults(&st);
	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	CHECK_MSG(keys >= 100 && keys <= 10000000 && keys % 10 == 0,
		  "--keys 100..10000000, a multiple of 10");
	nkeys = (uint32_t)keys;
	st_start(&st);
	urcu_memb_register_thread();

	ta_init(&ta);
	memset(&p, 0, sizeof(p));
	p.name = "stress_oset";
	p.seed = tu_seed | 1;
	p.initial_size = 1;
	p.allocator = &ta.a;
	os = rtab_oset_create(&p);
	CHECK(os != NULL);
	tu_rng_init(&w.rng, tu_seed);
	w.nchurn = nkeys / 10 * 8;
	w.ver = calloc(nkeys, sizeof(*w.ver));
	w.live = calloc(w.nchurn, sizeof(*w.live));
	w.pos = calloc(w.nchurn, sizeof(*w.pos));
	CHECK(w.ver && w.live && w.pos);
	for (uint32_t i = 0; i < w.nchurn; i++)
		CHECK_EQ(churn_index(churn_id(i)), i);
	for (uint32_t id = 0; id < nkeys; id += 5)
		w_insert(id);

	rds = calloc(st.readers, sizeof(*rds));
	CHECK(rds != NULL);
	for (unsigned i = 0; i < st.readers; i++) {
		tu_rng_init(&rds[i].rng, tu_seed + 1000 * (i + 1));
		rds[i].last_ver = calloc(nkeys / 10, sizeof(uint32_t));
		CHECK(rds[i].last_ver != NULL);
		CHECK_EQ(pthread_create(&rds[i].th, NULL, reader_main, &rds[i]), 0);
	}
	CHECK_EQ(pthread_create(&wth, NULL, writer_main, NULL), 0);
	st_run_for(&st);
	CHECK_EQ(pthread_join(wth, NULL), 0);
	for (unsigned i = 0; i < st.readers; i++) {
		CHECK_EQ(pthread_join(rds[i].th, NULL), 0);
		printf("reader %u: %" PRIu64 " next_obj walks, %" PRIu64 " scans (%" PRIu64
		       " pages), %" PRIu64 " next/prev probes\n", i, rds[i].walks, rds[i].scans,
		       rds[i].pages, rds[i].probes);
		CHECK(rds[i].walks > 0 && rds[i].scans > 0);
		free(rds[i].last_ver);
	}
	printf("writer: %" PRIu64 " ops: %" PRIu64 " inserts, %" PRIu64 " replaces, %" PRIu64
	       " deletes, %" PRIu64 " delete_match, %" PRIu64 " grow/shrink cycles\n",
	       w.ops, w.inserts, w.replaces, w.deletes, w.matches, w.cycles);

	/* The table is exactly the writer's model, in order. */
	CHECK_EQ(rtab_oset_count(os), w.count);
	urcu_memb_read_lock();
	{
		const struct rtab_obj *o = rtab_oset_first(os);

		for (uint32_t id = 0; id < nkeys; id++) {
			struct sv_hdr h;

			if (w.ver[id] == 0)
				continue;
			CHECK_MSG(o != NULL, "key %u missing", id);
			CHECK_EQ(sv_check_obj(o, &h), id);
			CHECK_EQ(h.ver, w.ver[id]);
			o = rtab_oset_next_obj(os, o);
		}
		CHECK(o == NULL);
	}
	urcu_memb_read_unlock();
	rtab_oset_free(os);
	urcu_memb_barrier();
	CHECK_EQ(atomic_load(&ta.live), 0);
	urcu_memb_unregister_thread();
	free(rds);
	free(w.ver);
	free(w.live);
	free(w.pos);
	printf("stress_oset: all checks passed\n");
	return 0;
}
