/* SPDX-License-Identifier: MIT */
/*
 * Stress test of rtab_set: one writer churns while reader threads check,
 * for --seconds, that readers never see a broken table. Proves that:
 *   - a stable key (replaced with new versions, never deleted) is always
 *     found, by lookup and by lookup_bulk, and per reader its version never
 *     goes backwards (a reader never sees an older object after a newer);
 *   - every value a reader sees is whole and belongs to its key (a checksum
 *     over the value; the test allocator poisons freed memory, so an object
 *     freed before the readers were done shows up);
 *   - a frozen key (never touched after the start) is visited exactly once
 *     by every foreach, though resizes run meanwhile;
 *   - count stays within what the writer can have made it;
 *   - while churn keys are inserted, replaced, deleted (also by delete_match)
 *     in phases that grow the set to --churn keys and shrink it again, so
 *     that the index resizes both ways, over and over;
 *   - the writer's own view (return codes, count) always matches its model,
 *     and at the end the table holds exactly the model.
 * The library is the RTAB_DEBUG_YIELD build: --yield permille of its read
 * and write sites yield the CPU, to widen race windows.
 *
 * Options: --seed N, --seconds N, --yield N, --readers N, --churn N.
 * Run by hand for long: stress_set --seconds 600 --yield 20
 */
#include <errno.h>

#include "rtab_set.h"
#include "stress_util.h"

#define NF 200                  /* frozen ids [0, NF) */
#define NS 2000                 /* stable ids [NF, NF + NS) */
#define CHURN0 (NF + NS)        /* churn ids [CHURN0, CHURN0 + nchurn) */

static struct st_common st;
static struct rtab_set *set;
static uint32_t nchurn = 30000;

struct reader_stats {
	uint64_t lookups, bulks, foreachs, churn_hits;
};

/* ---------------------------------------------------------------- writer */

static struct {
	uint32_t *ver;          /* per id, 0 = absent */
	uint32_t *live;         /* present churn ids, dense */
	uint32_t *pos;          /* index in live of each churn id */
	uint32_t nlive;
	size_t count;
	uint64_t ops, replaces, deletes, inserts, matches, cycles;
	struct tu_rng rng;
} w;

static void
w_insert(uint32_t id)
{
	unsigned char k[8], v[SV_MAX];
	size_t kl = sk_make(k, id), vl = sv_make(v, id, 0, w.ver[id] + 1);
	int r = rtab_set_insert(set, k, kl, v, vl);

	CHECK_EQ(r, w.ver[id] ? 1 : 0);
	if (!w.ver[id]) {
		w.count++;
		if (id >= CHURN0) {
			w.pos[id - CHURN0] = w.nlive;
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
	uint32_t p = w.pos[id - CHURN0], last = w.live[--w.nlive];

	w.live[p] = last;
	w.pos[last - CHURN0] = p;
	w.ver[id] = 0;
	w.count--;
}

static void
w_delete(uint32_t id)
{
	unsigned char k[8];
	size_t kl = sk_make(k, id);
	int r = rtab_set_delete(set, k, kl);

	CHECK_EQ(r, w.ver[id] ? 0 : -ENOENT);
	if (w.ver[id]) {
		w_forget(id);
		w.deletes++;
	}
}

struct match_arg {
	uint32_t mod, rem;
};

/* Churn ids with id % mod == rem; never a frozen or stable one. */
static int
match_churn(const struct rtab_obj *o, void *arg)
{
	const struct match_arg *a = arg;
	struct sv_hdr h;
	uint32_t id = sv_check_obj(o, &h);

	return id >= CHURN0 && id % a->mod == a->rem;
}

static void
w_delete_match(void)
{
	struct match_arg a = { 3 + (uint32_t)tu_rng_below(&w.rng, 5), 0 };
	long want = 0;

	a.rem = (uint32_t)tu_rng_below(&w.rng, a.mod);
	for (uint32_t i = 0; i < w.nlive;) {
		uint32_t id = w.live[i];

		if (id % a.mod == a.rem) {
			w_forget(id);
			want++;
		} else {
			i++;
		}
	}
	CHECK_EQ(rtab_set_delete_match(set, match_churn, &a), want);
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

		/* Grow: churn inserts win; shrink: deletes win. */
		if (r < 15)
			w_insert(NF + (uint32_t)tu_rng_below(&w.rng, NS));
		else if (r < (grow ? 85 : 30))
			w_insert(CHURN0 + (uint32_t)tu_rng_below(&w.rng, nchurn));
		else if (w.nlive > 0 && r < 97)
			w_delete(w.live[tu_rng_below(&w.rng, w.nlive)]);
		else
			w_delete(CHURN0 + (uint32_t)tu_rng_below(&w.rng, nchurn));
		CHECK_EQ(rtab_set_count(set), w.count);
		if (grow && w.nlive >= nchurn * 3 / 4) {
			grow = false;
			w_delete_match(); /* a big bite to start shrinking */
			CHECK_EQ(rtab_set_count(set), w.count);
		} else if (!grow && w.nlive <= nchurn / 64) {
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
	unsigned idx;
	struct tu_rng rng;
	uint32_t last_ver[NS];
	uint8_t seen[NF];
	struct reader_stats s;
};

static const struct rtab_obj *
r_lookup(uint32_t id)
{
	unsigned char k[8];
	size_t kl = sk_make(k, id);

	return rtab_set_lookup(set, k, kl);
}

/* A stable or frozen object, seen by reader @p rd. */
static void
r_check_fixed(struct reader *rd, const struct rtab_obj *o, uint32_t want_id)
{
	struct sv_hdr h;
	uint32_t id;

	CHECK_MSG(o != NULL, "key %u, never deleted, not found", want_id);
	id = sv_check_obj(o, &h);
	CHECK_EQ(id, want_id);
	if (id < NF) {
		CHECK_EQ(h.ver, 1);
	} else {
		CHECK_MSG(h.ver >= rd->last_ver[id - NF],
			  "key %u: version %u after version %u", id, h.ver, rd->last_ver[id - NF]);
		rd->last_ver[id - NF] = h.ver;
	}
}

struct fe_arg {
	struct reader *rd;
	uint64_t n;
};

static int
r_foreach_visit(const struct rtab_obj *o, void *arg)
{
	struct fe_arg *a = arg;
	struct sv_hdr h;
	uint32_t id = sv_check_obj(o, &h);

	CHECK_MSG(id < CHURN0 + nchurn, "key %u", id);
	if (id < NF) {
		CHECK_EQ(h.ver, 1);
		CHECK_MSG(a->rd->seen[id]++ == 0, "frozen key %u visited twice", id);
	}
	a->n++;
	return 0;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	uint64_t iter = 0;

	urcu_memb_register_thread();
	while (!st_stopped(&st)) {
		uint64_t r = tu_rng_below(&rd->rng, 1000);
		size_t c = rtab_set_count(set);

		CHECK_MSG(c >= NF + NS && c <= NF + NS + nchurn, "count %zu", c);
		if (r < 500) {
			uint32_t id = (uint32_t)tu_rng_below(&rd->rng, NF + NS);

			urcu_memb_read_lock();
			r_check_fixed(rd, r_lookup(id), id);
			urcu_memb_read_unlock();
			rd->s.lookups++;
		} else if (r < 800) {
			uint32_t id = CHURN0 + (uint32_t)tu_rng_below(&rd->rng, nchurn);
			const struct rtab_obj *o;

			urcu_memb_read_lock();
			o = r_lookup(id);
			if (o != NULL) {
				struct sv_hdr h;

				CHECK_EQ(sv_check_obj(o, &h), id);
				rd->s.churn_hits++;
			}
			urcu_memb_read_unlock();
			rd->s.lookups++;
		} else if (r < 999 || iter < 1000) {
			enum { B = 32 };
			unsigned char kb[B][8];
			const void *keys[B];
			uint32_t lens[B], ids[B];
			const struct rtab_obj *objs[B];
			unsigned found, nfixed = 0;

			for (unsigned i = 0; i < B; i++) {
				ids[i] = i % 2 ? (uint32_t)tu_rng_below(&rd->rng, NF + NS)
					       : CHURN0 + (uint32_t)tu_rng_below(&rd->rng, nchurn);
				lens[i] = (uint32_t)sk_make(kb[i], ids[i]);
				keys[i] = kb[i];
				nfixed += ids[i] < CHURN0;
			}
			urcu_memb_read_lock();
			found = rtab_set_lookup_bulk(set, keys, lens, B, objs);
			CHECK(found >= nfixed);
			for (unsigned i = 0; i < B; i++) {
				if (ids[i] < CHURN0) {
					r_check_fixed(rd, objs[i], ids[i]);
				} else if (objs[i] != NULL) {
					struct sv_hdr h;

					CHECK_EQ(sv_check_obj(objs[i], &h), ids[i]);
				}
			}
			urcu_memb_read_unlock();
			rd->s.bulks++;
		} else {
			struct fe_arg a = { rd, 0 };

			memset(rd->seen, 0, sizeof(rd->seen));
			urcu_memb_read_lock();
			CHECK_EQ(rtab_set_foreach(set, r_foreach_visit, &a), 0);
			urcu_memb_read_unlock();
			for (uint32_t id = 0; id < NF; id++)
				CHECK_MSG(rd->seen[id] == 1, "frozen key %u visited %u times", id,
					  rd->seen[id]);
			CHECK(a.n >= NF + NS);
			rd->s.foreachs++;
		}
		iter++;
	}
	urcu_memb_unregister_thread();
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t churn = nchurn;
	struct tu_opt opts[] = {
		ST_COMMON_OPTS(&st),
		{ "--churn", &churn, NULL, "churn keys (default 30000)" },
	};
	static struct ta_alloc ta;
	struct rtab_params p;
	struct reader *rds;
	pthread_t wth;

	st_defaults(&st);
	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	CHECK_MSG(churn >= 100 && churn <= 10000000, "--churn 100..10000000");
	nchurn = (uint32_t)churn;
	st_start(&st);
	urcu_memb_register_thread();

	ta_init(&ta);
	memset(&p, 0, sizeof(p));
	p.name = "stress_set";
	p.seed = tu_seed | 1;
	p.initial_size = 1;
	p.allocator = &ta.a;
	set = rtab_set_create(&p);
	CHECK(set != NULL);
	tu_rng_init(&w.rng, tu_seed);
	w.ver = calloc(CHURN0 + nchurn, sizeof(*w.ver));
	w.live = calloc(nchurn, sizeof(*w.live));
	w.pos = calloc(nchurn, sizeof(*w.pos));
	CHECK(w.ver && w.live && w.pos);
	for (uint32_t id = 0; id < NF + NS; id++)
		w_insert(id);

	rds = calloc(st.readers, sizeof(*rds));
	CHECK(rds != NULL);
	for (unsigned i = 0; i < st.readers; i++) {
		rds[i].idx = i;
		tu_rng_init(&rds[i].rng, tu_seed + 1000 * (i + 1));
		CHECK_EQ(pthread_create(&rds[i].th, NULL, reader_main, &rds[i]), 0);
	}
	CHECK_EQ(pthread_create(&wth, NULL, writer_main, NULL), 0);
	st_run_for(&st);
	CHECK_EQ(pthread_join(wth, NULL), 0);
	for (unsigned i = 0; i < st.readers; i++) {
		CHECK_EQ(pthread_join(rds[i].th, NULL), 0);
		printf("reader %u: %" PRIu64 " lookups (%" PRIu64 " churn hits), %" PRIu64
		       " bulk lookups, %" PRIu64 " foreach\n", i, rds[i].s.lookups,
		       rds[i].s.churn_hits, rds[i].s.bulks, rds[i].s.foreachs);
		CHECK(rds[i].s.lookups > 0 && rds[i].s.bulks > 0);
	}
	printf("writer: %" PRIu64 " ops: %" PRIu64 " inserts, %" PRIu64 " replaces, %" PRIu64
	       " deletes, %" PRIu64 " delete_match, %" PRIu64 " grow/shrink cycles\n",
	       w.ops, w.inserts, w.replaces, w.deletes, w.matches, w.cycles);

	/* The table is exactly the writer's model. */
	CHECK_EQ(rtab_set_count(set), w.count);
	urcu_memb_read_lock();
	for (uint32_t id = 0; id < CHURN0 + nchurn; id++) {
		const struct rtab_obj *o = r_lookup(id);

		if (w.ver[id] == 0) {
			CHECK_MSG(o == NULL, "deleted key %u found", id);
		} else {
			struct sv_hdr h;

			CHECK_MSG(o != NULL, "key %u missing", id);
			CHECK_EQ(sv_check_obj(o, &h), id);
			CHECK_EQ(h.ver, w.ver[id]);
		}
	}
	urcu_memb_read_unlock();
	rtab_set_free(set);
	urcu_memb_barrier();
	CHECK_EQ(atomic_load(&ta.live), 0);
	urcu_memb_unregister_thread();
	free(rds);
	free(w.ver);
	free(w.live);
	free(w.pos);
	printf("stress_set: all checks passed\n");
	return 0;
}
