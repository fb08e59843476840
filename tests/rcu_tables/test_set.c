/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of rtab_set. Proves every operation of rtab_set.h and each edge
 * of the contract in rtab.h (the shared list is in unit_setlike.h: empty
 * table, duplicates, limits, -EINVAL, -ENOSPC, -ENOMEM at every allocation,
 * count, memory, delete_match, foreach, alignment, growth to 200k keys and
 * shrink, a second writer gets -EBUSY, a reader's object outlives its
 * deletion), and here rtab_set_lookup_bulk: hits, misses, duplicate keys in
 * one batch, the empty and the longest key, batches of 0, 1 and 1000 keys,
 * each answer equal to the single lookup's.
 *
 * Options: --seed N, --big N (keys of the grow/shrink test, default 200000).
 */
#include "rtab_set.h"
#include "unit_setlike.h"

SL_OPS_DEFINE(set_ops, set);

/* Checks one bulk call of @p n keys against single lookups. */
static void
bulk_check(const struct rtab_set *s, const void *const keys[],
	   const uint32_t lens[], unsigned n, unsigned expect_found)
{
	const struct rtab_obj **objs = malloc((n + 1) * sizeof(*objs));
	unsigned found = 0;

	CHECK(objs != NULL);
	for (unsigned i = 0; i <= n; i++)
		objs[i] = (const struct rtab_obj *)&objs; /* garbage to overwrite */
	urcu_memb_read_lock();
	CHECK_EQ(rtab_set_lookup_bulk(s, keys, lens, n, objs), expect_found);
	for (unsigned i = 0; i < n; i++) {
		const struct rtab_obj *o = rtab_set_lookup(s, keys[i], lens[i]);

		CHECK_MSG(objs[i] == o, "key %u of %u", i, n);
		if (o != NULL) {
			found++;
			CHECK_EQ(rtab_obj_key_len(o), lens[i]);
			CHECK_MEM(rtab_obj_key(o), keys[i], lens[i]);
		}
	}
	urcu_memb_read_unlock();
	CHECK_EQ(found, expect_found);
	/* Nothing written past n. */
	CHECK(objs[n] == (const struct rtab_obj *)&objs);
	free(objs);
}

static void
test_bulk(void)
{
	enum { IDS = 2000, N = 1000 };
	struct sl_fx fx;
	struct tu_rng rng;
	static unsigned char keybuf[N + 2][32];
	static unsigned char big_key[RTAB_KEY_MAX + 1];
	const void *keys[N + 2];
	uint32_t lens[N + 2];
	unsigned expect = 0;

	tu_rng_init(&rng, tu_seed ^ 0xb01c);
	sl_open(&fx, &set_ops, 0, 0);
	/* Even ids present, odd absent. */
	for (unsigned id = 0; id < IDS; id += 2)
		CHECK_EQ(sl_insert_id(&fx, id, 0), 0);
	memset(big_key, 'x', sizeof(big_key));
	CHECK_EQ(rtab_set_insert(fx.t, "", 0, "e", 1), 0);
	CHECK_EQ(rtab_set_insert(fx.t, big_key, RTAB_KEY_MAX, "b", 1), 0);

	/* n = 0: nothing found, nothing written. */
	bulk_check(fx.t, keys, lens, 0, 0);

	/* n = 1: a hit, a miss, the empty key, the longest key, one too long. */
	keys[0] = keybuf[0];
	lens[0] = (uint32_t)sl_key(4, keybuf[0]);
	bulk_check(fx.t, keys, lens, 1, 1);
	lens[0] = (uint32_t)sl_key(5, keybuf[0]);
	bulk_check(fx.t, keys, lens, 1, 0);
	keys[0] = "";
	lens[0] = 0;
	bulk_check(fx.t, keys, lens, 1, 1);
	keys[0] = big_key;
	lens[0] = RTAB_KEY_MAX;
	bulk_check(fx.t, keys, lens, 1, 1);
	lens[0] = RTAB_KEY_MAX + 1;
	bulk_check(fx.t, keys, lens, 1, 0);

	/* n = 1000: hits, misses and many duplicates of one batch. */
	for (unsigned i = 0; i < N; i++) {
		unsigned id;

		if (i >= 10 && tu_rng_permille(&rng, 200)) {
			/* The same key again, by another pointer or the same. */
			unsigned j = (unsigned)tu_rng_below(&rng, i);

			if (tu_rng_below(&rng, 2)) {
				keys[i] = keys[j];
				lens[i] = lens[j];
			} else {
				memcpy(keybuf[i], keys[j], lens[j]);
				keys[i] = keybuf[i];
				lens[i] = lens[j];
			}
		} else {
			id = (unsigned)tu_rng_below(&rng, IDS + 200);
			keys[i] = keybuf[i];
			lens[i] = (uint32_t)sl_key(id, keybuf[i]);
		}
	}
	keys[N - 2] = "";
	lens[N - 2] = 0;
	keys[N - 1] = big_key;
	lens[N - 1] = RTAB_KEY_MAX;
	urcu_memb_read_lock();
	for (unsigned i = 0; i < N; i++)
		expect += rtab_set_lookup(fx.t, keys[i], lens[i]) != NULL;
	urcu_memb_read_unlock();
	CHECK(expect > N / 3 && expect < N); /* a real mix of hits and misses */
	bulk_check(fx.t, keys, lens, N, expect);

	/* Every batch size from 2 to 40, over the same keys. */
	for (unsigned n = 2; n <= 40; n++) {
		expect = 0;
		urcu_memb_read_lock();
		for (unsigned i = 0; i < n; i++)
			expect += rtab_set_lookup(fx.t, keys[i], lens[i]) != NULL;
		urcu_memb_read_unlock();
		bulk_check(fx.t, keys, lens, n, expect);
	}
	sl_close(&fx);
}

int
main(int argc, char **argv)
{
	uint64_t big = 200000;
	const struct tu_opt opts[] = {
		{ "--big", &big, NULL, "keys of the grow/shrink test (default 200000)" },
	};

	tu_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	urcu_memb_register_thread();
	sl_run_all(&set_ops, (unsigned)big);
	SL_RUN("bulk", test_bulk());
	urcu_memb_unregister_thread();
	printf("test_set: all checks passed\n");
	return 0;
}
