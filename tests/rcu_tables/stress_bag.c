/* SPDX-License-Identifier: MIT */
/*
 * Stress test of rtab_bag: one writer churns while reader threads check,
 * for --seconds. Each of the --keys shared keys holds one stable object
 * (never deleted) and up to 24 churn objects that come and go, so keys go
 * between one object and many and their own indexes resize; other keys hold
 * churn objects only and are deleted whole now and then, so the outer index
 * resizes too (phases grow the churn to half of its slots and shrink it to
 * almost none, with a delete_match bite at each turn). Proves that:
 *   - a stable object is always found by rtab_bag_lookup_object, and is
 *     visited exactly once by every rtab_bag_lookup of its key and by every
 *     foreach, though its key's other objects change meanwhile;
 *   - a lookup never visits the same object twice, nor an object of another
 *     key, and key_count of a shared key is never 0;
 *   - every value a reader sees is whole and of its key (checksum; freed
 *     memory is poisoned by the test allocator);
 *   - inserting an object that is present returns 1 and changes nothing;
 *   - the writer's return codes and count always match its model, and at
 *     the end the bag is exactly the model.
 * The library is the RTAB_DEBUG_YIELD build (--yield permille of its sites
 * yield the CPU).
 *
 * Options: --seed N, --seconds N, --yield N, --readers N, --keys N,
 * --churn-keys N. Run by hand for long: stress_bag --seconds 600 --yield 20
 */
#include <errno.h>

#include "rtab_bag.h"
#include "stress_util.h"

#define J 24                    /* churn objects per shared key */
#define JP 4                    /* churn objects per churn-only key */
#define STABLE_AUX 0xffffu

static struct st_common st;
static struct rtab_bag *bag;
static uint32_t nk = 2000;      /* shared keys: ids [0, nk) */
static uint32_t nc = 20000;     /* churn-only keys: ids [nk, nk + nc) */

/* A churn slot: a (key id, aux) pair; its object is (id, aux, version). */
static uint32_t
slot_of(uint32_t id, uint32_t aux)
{
	return id < nk ? id * J + aux : nk * J + (id - nk) * JP + aux;
}

static void
slot_key(uint32_t s, uint32_t *id, uint32_t *aux)
{
	if (s < nk * J) {
		*id = s / J;
		*aux = s % J;
	} else {
		*id = nk + (s - nk * J) / JP;
		*aux = (s - nk * J) % JP;
	}
}

/* ---------------------------------------------------------------- writer */

static struct {
	uint32_t nslots;
	uint32_t *ver;          /* per slot: version present, 0 = none */
	uint32_t *gen;          /* per slot: last version used */
	uint32_t *live, *pos;   /* present slots, dense, and their index */
	uint32_t nlive;
	size_t count;
	uint64_t ops, inserts, again, deletes, key_deletes, matches, cycles;
	struct tu_rng rng;
} w;

static void
w_insert(uint32_t s)
{
	unsigned char k[8], v[SV_MAX];
	uint32_t id, aux;
	size_t kl, vl;
	int r;

	slot_key(s, &id, &aux);
	kl = sk_make(k, id);
	if (w.ver[s]) {
		/* The same object again: 1, nothing changes. */
		vl = sv_make(v, id, aux, w.ver[s]);
		CHECK_EQ(rtab_bag_insert(bag, k, kl, v, vl), 1);
		w.again++;
		return;
	}
	w.ver[s] = ++w.gen[s];
	vl = sv_make(v, id, aux, w.ver[s]);
	r = rtab_bag_insert(bag, k, kl, v, vl);
	CHECK_EQ(r, 0);
	w.pos[s] = w.nlive;
	w.live[w.nlive++] = s;
	w.count++;
	w.inserts++;
}

static void
w_forget(uint32_t s)
{
	uint32_t p = w.pos[s], last = w.live[--w.nlive];

	w.live[p] = last;
	w.pos[last] = p;
	w.ver[s] = 0;
	w.count--;
}

static void
w_delete_object(uint32_t s)
{
	unsigned char k[8], v[SV_MAX];
	uint32_t id, aux;
	size_t kl, vl;

	slot_key(s, &id, &aux);
	kl = sk_make(k, id);
	vl = sv_make(v, id, aux, w.ver[s] ? w.ver[s] : w.gen[s] + 1);
	CHECK_EQ(rtab_bag_delete_object(bag, k, kl, v, vl), w.ver[s] ? 0 : -ENOENT);
	if (w.ver[s]) {
		w_forget(s);
		w.deletes++;
	}
}

static void
w_delete_key(uint32_t id)
{
	unsigned char k[8];
	size_t kl = sk_make(k, id);
	long want = 0;

	for (uint32_t aux = 0; aux < JP; aux++) {
		uint32_t s = slot_of(id, aux);

		if (w.ver[s]) {
			w_forget(s);
			want++;
		}
	}
	CHECK_EQ(rtab_bag_delete(bag, k, kl), want);
	w.key_deletes++;
}

struct match_arg {
	uint32_t mod, rem;
};

/* Churn objects whose aux % mod == rem; never a stable one. */
static int
match_churn(const struct rtab_obj *o, void *arg)
{
	const struct match_arg *a = arg;
	struct sv_hdr h;

	sv_check_obj(o, &h);
	return h.aux != STABLE_AUX && h.aux % a->mod == a->rem;
}

static void
w_delete_match(void)
{
	struct match_arg a = { 2 + (uint32_t)tu_rng_below(&w.rng, 3), 0 };
	long want = 0;

	a.rem = (uint32_t)tu_rng_below(&w.rng, a.mod);
	for (uint32_t i = 0; i < w.nlive;) {
		uint32_t id, aux;

		slot_key(w.live[i], &id, &aux);
		if (aux % a.mod == a.rem) {
			w_forget(w.live[i]);
			want++;
		} else {
			i++;
		}
	}
	CHECK_EQ(rtab_bag_delete_match(bag, match_churn, &a), want);
	w.matches++;
}

static void
w_insert_stable(uint32_t id)
{
	unsigned char k[8], v[SV_MAX];
	size_t kl = sk_make(k, id), vl = sv_make(v, id, STABLE_AUX, 1);

	CHECK(rtab_bag_insert(bag, k, kl, v, vl) >= 0);
}

static void *
writer_main(void *arg)
{
	bool grow = true;

	(void)arg;
	urcu_memb_register_thread();
	while (!st_stopped(&st)) {
		uint64_t r = tu_rng_below(&w.rng, 100);

		if (r < (grow ? 80 : 25)) {
			w_insert((uint32_t)tu_rng_below(&w.rng, w.nslots));
		} else if (r < 95) {
			if (w.nlive > 0)
				w_delete_object(w.live[tu_rng_below(&w.rng, w.nlive)]);
			else
				w_delete_object((uint32_t)tu_rng_below(&w.rng, w.nslots));
		} else if (r < 98) {
			w_delete_key(nk + (uint32_t)tu_rng_below(&w.rng, nc));
		} else {
			/* A stable object again: 1, nothing changes. */
			unsigned char k[8], v[SV_MAX];
			uint32_t id = (uint32_t)tu_rng_below(&w.rng, nk);
			size_t kl = sk_make(k, id), vl = sv_make(v, id, STABLE_AUX, 1);

			CHECK_EQ(rtab_bag_insert(bag, k, kl, v, vl), 1);
		}
		CHECK_EQ(rtab_bag_count(bag), w.count);
		if (grow && w.nlive >= w.nslots / 2) {
			grow = false;
			w_delete_match(); /* a big bite to start shrinking */
			CHECK_EQ(rtab_bag_count(bag), w.count);
		} else if (!grow && w.nlive <= w.nslots / 64) {
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
	uint8_t *seen_stable;   /* [nk], per foreach */
	uint64_t lookups, objects, lookup_objects, foreachs, max_per_key;
};

struct lk_arg {
	uint32_t id;
	unsigned stable, n, nseen;
	uint64_t seen[64];      /* (aux << 32 | ver) of the objects visited */
};

static int
lookup_visit(const struct rtab_obj *o, void *arg)
{
	struct lk_arg *a = arg;
	struct sv_hdr h;
	uint64_t tag;

	CHECK_EQ(sv_check_obj(o, &h), a->id);
	if (h.aux == STABLE_AUX) {
		CHECK_EQ(h.ver, 1);
		a->stable++;
	} else {
		CHECK_MSG(h.aux < (a->id < nk ? J : JP), "key %u: aux %u", a->id, h.aux);
	}
	tag = (uint64_t)h.aux << 32 | h.ver;
	for (unsigned i = 0; i < a->nseen; i++)
		CHECK_MSG(a->seen[i] != tag, "key %u: object (%u, %u) visited twice", a->id,
			  h.aux, h.ver);
	if (a->nseen < 64)
		a->seen[a->nseen++] = tag;
	a->n++;
	return 0;
}

struct fe_arg {
	struct reader *rd;
	uint64_t n;
};

static int
foreach_visit(const struct rtab_obj *o, void *arg)
{
	struct fe_arg *a = arg;
	struct sv_hdr h;
	uint32_t id = sv_check_obj(o, &h);

	CHECK_MSG(id < nk + nc, "key %u", id);
	if (h.aux == STABLE_AUX) {
		CHECK(id < nk);
		CHECK_MSG(a->rd->seen_stable[id]++ == 0, "stable object of key %u visited twice",
			  id);
	}
	a->n++;
	return 0;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;

	urcu_memb_register_thread();
	while (!st_stopped(&st)) {
		uint64_t r = tu_rng_below(&rd->rng, 1000);
		size_t c = rtab_bag_count(bag);

		CHECK_MSG(c >= nk && c <= nk + w.nslots, "count %zu", c);
		if (r < 450) {
			/* All objects of a key: the stable one exactly once. */
			struct lk_arg a;
			unsigned char k[8];
			size_t kl, kc;

			memset(&a, 0, sizeof(a));
			a.id = r < 350 ? (uint32_t)tu_rng_below(&rd->rng, nk)
				       : nk + (uint32_t)tu_rng_below(&rd->rng, nc);
			kl = sk_make(k, a.id);
			urcu_memb_read_lock();
			CHECK_EQ(rtab_bag_lookup(bag, k, kl, lookup_visit, &a), 0);
			kc = rtab_bag_key_count(bag, k, kl);
			urcu_memb_read_unlock();
			if (a.id < nk) {
				CHECK_MSG(a.stable == 1, "key %u: stable object seen %u times", a.id,
					  a.stable);
				CHECK_MSG(kc >= 1, "key %u: key_count 0", a.id);
			} else {
				CHECK_EQ(a.stable, 0);
			}
			CHECK(kc <= J + 1);
			if (a.n > rd->max_per_key)
				rd->max_per_key = a.n;
			rd->lookups++;
			rd->objects += a.n;
		} else if (r < 998 && rd->foreachs > 0) {
			unsigned char k[8], v[SV_MAX];
			uint32_t id = (uint32_t)tu_rng_below(&rd->rng, nk);
			size_t kl = sk_make(k, id), vl = sv_make(v, id, STABLE_AUX, 1);
			const struct rtab_obj *o;
			struct sv_hdr h;

			urcu_memb_read_lock();
			o = rtab_bag_lookup_object(bag, k, kl, v, vl);
			CHECK_MSG(o != NULL, "stable object of key %u not found", id);
			CHECK_EQ(sv_check_obj(o, &h), id);
			CHECK_EQ(h.aux, STABLE_AUX);
			urcu_memb_read_unlock();
			rd->lookup_objects++;
		} else {
			struct fe_arg a = { rd, 0 };

			memset(rd->seen_stable, 0, nk);
			urcu_memb_read_lock();
			CHECK_EQ(rtab_bag_foreach(bag, foreach_visit, &a), 0);
			urcu_memb_read_unlock();
			for (uint32_t id = 0; id < nk; id++)
				CHECK_MSG(rd->seen_stable[id] == 1,
					  "stable object of key %u visited %u times by foreach", id,
					  rd->seen_stable[id]);
			rd->foreachs++;
		}
	}
	urcu_memb_unregister_thread();
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t keys = nk, ckeys = nc;
	struct tu_opt opts[] = {
		ST_COMMON_OPTS(&st),
		{ "--keys", &keys, NULL, "shared keys, with a stable object (default 2000)" },
		{ "--churn-keys", &ckeys, NULL, "keys with churn objects only (default 20000)" },
	};
	static struct ta_alloc ta;
	struct rtab_params p;
	struct reader *rds;
	pthread_t wth;

	st_defaults(&st);
	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	CHECK_MSG(keys >= 10 && keys <= 1000000 && ckeys >= 10 && ckeys <= 10000000,
		  "--keys 10..1000000, --churn-keys 10..10000000");
	nk = (uint32_t)keys;
	nc = (uint32_t)ckeys;
	st_start(&st);
	urcu_memb_register_thread();

	ta_init(&ta);
	memset(&p, 0, sizeof(p));
	p.name = "stress_bag";
	p.seed = tu_seed | 1;
	p.initial_size = 1;
	p.allocator = &ta.a;
	bag = rtab_bag_create(&p);
	CHECK(bag != NULL);
	tu_rng_init(&w.rng, tu_seed);
	w.nslots = nk * J + nc * JP;
	w.ver = calloc(w.nslots, sizeof(*w.ver));
	w.gen = calloc(w.nslots, sizeof(*w.gen));
	w.live = calloc(w.nslots, sizeof(*w.live));
	w.pos = calloc(w.nslots, sizeof(*w.pos));
	CHECK(w.ver && w.gen && w.live && w.pos);
	for (uint32_t id = 0; id < nk; id++)
		w_insert_stable(id);
	w.count = nk;

	rds = calloc(st.readers, sizeof(*rds));
	CHECK(rds != NULL);
	for (unsigned i = 0; i < st.readers; i++) {
		tu_rng_init(&rds[i].rng, tu_seed + 1000 * (i + 1));
		rds[i].seen_stable = calloc(nk, 1);
		CHECK(rds[i].seen_stable != NULL);
		CHECK_EQ(pthread_create(&rds[i].th, NULL, reader_main, &rds[i]), 0);
	}
	CHECK_EQ(pthread_create(&wth, NULL, writer_main, NULL), 0);
	st_run_for(&st);
	CHECK_EQ(pthread_join(wth, NULL), 0);
	for (unsigned i = 0; i < st.readers; i++) {
		CHECK_EQ(pthread_join(rds[i].th, NULL), 0);
		printf("reader %u: %" PRIu64 " key lookups (%" PRIu64 " objects, at most %" PRIu64
		       " per key), %" PRIu64 " lookup_object, %" PRIu64 " foreach\n", i,
		       rds[i].lookups, rds[i].objects, rds[i].max_per_key, rds[i].lookup_objects,
		       rds[i].foreachs);
		CHECK(rds[i].lookups > 0 && rds[i].foreachs > 0);
		free(rds[i].seen_stable);
	}
	printf("writer: %" PRIu64 " ops: %" PRIu64 " inserts, %" PRIu64 " identical again, %"
	       PRIu64 " delete_object, %" PRIu64 " key deletes, %" PRIu64 " delete_match, %"
	       PRIu64 " grow/shrink cycles\n", w.ops, w.inserts, w.again, w.deletes,
	       w.key_deletes, w.matches, w.cycles);

	/* The bag is exactly the writer's model. */
	CHECK_EQ(rtab_bag_count(bag), w.count);
	urcu_memb_read_lock();
	for (uint32_t id = 0; id < nk + nc; id++) {
		unsigned char k[8];
		size_t kl = sk_make(k, id), want = id < nk;
		uint32_t naux = id < nk ? J : JP;

		for (uint32_t aux = 0; aux < naux; aux++) {
			uint32_t s = slot_of(id, aux);

			if (w.ver[s]) {
				unsigned char v[SV_MAX];
				size_t vl = sv_make(v, id, aux, w.ver[s]);

				CHECK_MSG(rtab_bag_lookup_object(bag, k, kl, v, vl) != NULL,
					  "object (%u, %u) missing", id, aux);
				want++;
			}
		}
		CHECK_EQ(rtab_bag_key_count(bag, k, kl), want);
	}
	urcu_memb_read_unlock();
	rtab_bag_free(bag);
	urcu_memb_barrier();
	CHECK_EQ(atomic_load(&ta.live), 0);
	urcu_memb_unregister_thread();
	free(rds);
	free(w.ver);
	free(w.gen);
	free(w.live);
	free(w.pos);
	printf("stress_bag: all checks passed\n");
	return 0;
}
