/* SPDX-License-Identifier: MIT */
/*
 * Proves the cluster key on the wire (dataplane/dp_auth.h):
 *   - a sealed HELLO and DATA frame pass dp_auth_check() and then decode;
 *   - flipping any single bit of a sealed frame (header, body or tag) makes
 *     it fail (bad_mac, or truncated-free: never OK), and so does a random
 *     forged tag, a frame without the MAC flag, the wrong key, an unknown
 *     key id, or a cut trailer (truncated);
 *   - an insecure receiver refuses a sealed frame, a keyed one an unsealed;
 *   - rotation: a set {new, old} verifies frames of either key and signs
 *     with the new; a set with only the new refuses the old;
 *   - the replay window: in order, out of order within the window, a
 *     duplicate, a counter behind the window, a jump that slides it, 0;
 *     and against a model (a set of every counter taken) for random
 *     counters.
 * Takes --seed N (printed first) and --rounds N.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../rcu_tables/test_util.h"
#include "dp_auth.h"
#include "dp_frame.h"

#define CAP 1472

static void
keys_one(struct dp_auth_keys *ks, uint8_t fill)
{
	uint8_t material[40];

	memset(material, fill, sizeof(material));
	memset(ks, 0, sizeof(*ks));
	CHECK_EQ(dp_auth_key_make(&ks->key[0], material, sizeof(material)), 0);
	ks->n = 1;
}

static size_t
sealed_hello(const struct dp_auth_keys *ks, uint8_t *buf, uint64_t counter)
{
	struct dp_frame f;
	int n;

	memset(&f, 0, sizeof(f));
	f.type = DP_FRAME_HELLO;
	f.counter = counter;
	f.src_session = 0x1122334455667788ull;
	f.dst_session = 42;
	f.hello.version_min = 1;
	f.hello.version_max = 1;
	f.hello.udp_port = 4370;
	strcpy(f.hello.name, "node-a");
	dp_auth_prepare(ks, &f);
	n = dp_frame_encode_hello(buf, CAP - DP_FRAME_MAC_LEN, &f);
	CHECK(n > 0);
	return dp_auth_seal(ks, buf, (size_t)n);
}

static size_t
sealed_data(const struct dp_auth_keys *ks, uint8_t *buf, size_t payload, struct tu_rng *r)
{
	uint8_t msg[CAP];
	struct dp_frame_enc e;
	struct dp_frame f;

	tu_rng_fill(r, msg, sizeof(msg));
	memset(&f, 0, sizeof(f));
	f.type = DP_FRAME_DATA;
	f.counter = 7;
	f.src_session = 99;
	f.dst_session = 100;
	f.seq = 5;
	f.ack = 9;
	dp_frame_enc_start(&e, buf, CAP);
	CHECK_EQ(dp_frame_enc_seg(&e, msg, payload, 0), 0);
	dp_auth_prepare(ks, &f);
	return dp_auth_seal(ks, buf, dp_frame_enc_end(&e, &f));
}

static void
test_seal_check(void)
{
	struct dp_auth_keys ks, other;
	uint8_t buf[CAP];
	struct dp_frame f;
	struct tu_rng r;
	size_t len;

	tu_rng_init(&r, tu_seed);
	keys_one(&ks, 1);
	keys_one(&other, 2);
	CHECK(ks.key[0].id != 0);
	len = sealed_hello(&ks, buf, 1);
	CHECK_EQ(dp_auth_check(&ks, buf, len), DP_AUTH_OK);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
	CHECK(f.flags & DP_FRAME_F_MAC);
	CHECK_EQ(f.key_id, ks.key[0].id);
	CHECK(strcmp(f.hello.name, "node-a") == 0);
	/* The wrong key (a different id, or the same id with another key). */
	CHECK_EQ(dp_auth_check(&other, buf, len), DP_AUTH_BAD);
	other.key[0].id = ks.key[0].id;
	CHECK_EQ(dp_auth_check(&other, buf, len), DP_AUTH_BAD);
	/* Insecure receiver: a MAC is refused; insecure sender: refused. */
	CHECK_EQ(dp_auth_check(NULL, buf, len), DP_AUTH_BAD);
	len = sealed_hello(NULL, buf, 1);
	CHECK_EQ(dp_auth_check(NULL, buf, len), DP_AUTH_OK);
	CHECK_EQ(dp_auth_check(&ks, buf, len), DP_AUTH_BAD);
	/* Truncated: no header, no room for the tag. */
	len = sealed_hello(&ks, buf, 1);
	CHECK_EQ(dp_auth_check(&ks, buf, DP_FRAME_HDR_LEN - 1), DP_AUTH_TRUNC);
	CHECK_EQ(dp_auth_check(&ks, buf, DP_FRAME_HDR_LEN + DP_FRAME_MAC_LEN - 1),
		 DP_AUTH_TRUNC);
	CHECK_EQ(dp_auth_check(&ks, buf, len - 1), DP_AUTH_BAD);
	/* DATA, small and full. */
	for (size_t p = 1; p <= dp_frame_seg_max(CAP); p += 211) {
		len = sealed_data(&ks, buf, p, &r);
		CHECK(len <= CAP);
		CHECK_EQ(dp_auth_check(&ks, buf, len), DP_AUTH_OK);
		CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
		CHECK_EQ(f.segs_len, p + DP_FRAME_SEG_HDR_LEN);
	}
	len = sealed_data(&ks, buf, dp_frame_seg_max(CAP), &r);
	CHECK_EQ(len, (size_t)CAP);
}

/* Every single bit flipped, anywhere: never OK. Random forged tags too. */
static void
test_flips_and_forgeries(uint64_t rounds)
{
	struct dp_auth_keys ks;
	uint8_t buf[CAP], copy[CAP];
	struct tu_rng r;
	size_t len;

	tu_rng_init(&r, tu_seed ^ 1);
	keys_one(&ks, 3);
	len = sealed_data(&ks, buf, 300, &r);
	for (size_t i = 0; i < len * 8; i++) {
		memcpy(copy, buf, len);
		copy[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK_MSG(dp_auth_check(&ks, copy, len) != DP_AUTH_OK, "bit %zu flipped", i);
	}
	for (uint64_t i = 0; i < rounds; i++) {
		memcpy(copy, buf, len);
		tu_rng_fill(&r, copy + len - DP_FRAME_MAC_LEN, DP_FRAME_MAC_LEN);
		CHECK(dp_auth_check(&ks, copy, len) == DP_AUTH_BAD);
	}
	/* The MAC flag off (and key_id 0, as the decoder wants). */
	memcpy(copy, buf, len);
	copy[6] &= (uint8_t)~DP_FRAME_F_MAC;
	copy[7] = 0;
	CHECK_EQ(dp_auth_check(&ks, copy, len), DP_AUTH_BAD);
	printf("flips: %zu bits, forged tags: %llu, all refused\n", len * 8,
	       (unsigned long long)rounds);
}

static void
test_rotation(void)
{
	struct dp_auth_keys old_only, new_only, both, both_rev;
	uint8_t buf[CAP];
	size_t len;
	struct dp_frame f;

	keys_one(&old_only, 10);
	keys_one(&new_only, 11);
	/* A rollover: the new key signs, the old one is still accepted. */
	both = new_only;
	both.key[1] = old_only.key[0];
	both.n = 2;
	/* Before the switch: the old signs, the new accepted. */
	both_rev = old_only;
	both_rev.key[1] = new_only.key[0];
	both_rev.n = 2;

	len = sealed_hello(&old_only, buf, 1);
	CHECK_EQ(dp_auth_check(&both, buf, len), DP_AUTH_OK);
	CHECK_EQ(dp_auth_check(&both_rev, buf, len), DP_AUTH_OK);
	CHECK_EQ(dp_auth_check(&new_only, buf, len), DP_AUTH_BAD);
	len = sealed_hello(&both, buf, 2);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
	CHECK_EQ(f.key_id, new_only.key[0].id);
	CHECK_EQ(dp_auth_check(&new_only, buf, len), DP_AUTH_OK);
	CHECK_EQ(dp_auth_check(&both_rev, buf, len), DP_AUTH_OK);
	CHECK_EQ(dp_auth_check(&old_only, buf, len), DP_AUTH_BAD);
	/* Same id for both keys: the receiver tries each. */
	both.key[1].id = both.key[0].id;
	len = sealed_hello(&old_only, buf, 3);
	buf[7] = both.key[0].id;       /* the id is under the tag: re-seal */
	len = dp_auth_seal(&old_only, buf, len - DP_FRAME_MAC_LEN);
	CHECK_EQ(dp_auth_check(&old_only, buf, len), DP_AUTH_BAD); /* id differs now */
	{
		struct dp_auth_keys o = old_only;

		o.key[0].id = both.key[0].id;
		len = sealed_hello(&o, buf, 4);
		CHECK_EQ(dp_auth_check(&both, buf, len), DP_AUTH_OK);
	}
}

static void
test_replay_cases(void)
{
	struct dp_replay w;

	dp_replay_reset(&w);
	CHECK(!dp_replay_fresh(&w, 0));
	for (uint64_t c = 1; c <= 10; c++) {
		CHECK(dp_replay_fresh(&w, c));
		dp_replay_mark(&w, c);
		CHECK(!dp_replay_fresh(&w, c));
	}
	/* Out of order within the window: 20 then 15 then 15 again. */
	dp_replay_mark(&w, 20);
	CHECK(dp_replay_fresh(&w, 15));
	dp_replay_mark(&w, 15);
	CHECK(!dp_replay_fresh(&w, 15));
	CHECK(!dp_replay_fresh(&w, 10));
	CHECK(dp_replay_fresh(&w, 11));
	/* The window's edge: top - 63 is in, top - 64 is out. */
	dp_replay_mark(&w, 100);
	CHECK(!dp_replay_fresh(&w, 100 - DP_REPLAY_WINDOW));
	CHECK(dp_replay_fresh(&w, 100 - DP_REPLAY_WINDOW + 1));
	CHECK(!dp_replay_fresh(&w, 20));
	/* A jump past the whole window forgets all but the new top. */
	dp_replay_mark(&w, 1000);
	for (uint64_t c = 1000 - DP_REPLAY_WINDOW + 1; c < 1000; c++)
		CHECK(dp_replay_fresh(&w, c));
	CHECK(!dp_replay_fresh(&w, 1000));
	CHECK(!dp_replay_fresh(&w, 100));
	/* A new session: the counters start again. */
	dp_replay_reset(&w);
	CHECK(dp_replay_fresh(&w, 1));
}

/* Against a model: taken iff above every counter taken minus the window
 * and never taken before. */
static void
test_replay_model(uint64_t rounds)
{
	uint8_t *seen = calloc(1 << 16, 1);
	struct dp_replay w;
	struct tu_rng r;
	uint64_t top = 0, taken = 0;

	CHECK(seen != NULL);
	tu_rng_init(&r, tu_seed ^ 2);
	dp_replay_reset(&w);
	for (uint64_t i = 0; i < rounds && top + 200 < (1 << 16); i++) {
		/* Mostly near the top, behind or ahead, sometimes far ahead. */
		uint64_t c = top + (uint64_t)tu_rng_below(&r, 8);

		c = c > 80 ? c - (uint64_t)tu_rng_below(&r, 80) : c;
		if (tu_rng_permille(&r, 5))
			c = top + 1 + (uint64_t)tu_rng_below(&r, 150);
		bool want = c != 0 && !seen[c] && (c > top || top - c < DP_REPLAY_WINDOW);

		CHECK_MSG(dp_replay_fresh(&w, c) == want, "counter %llu top %llu",
			  (unsigned long long)c, (unsigned long long)top);
		if (want) {
			dp_replay_mark(&w, c);
			seen[c] = 1;
			top = c > top ? c : top;
			taken++;
		}
	}
	free(seen);
	printf("replay model: %llu counters taken, top %llu\n", (unsigned long long)taken,
	       (unsigned long long)top);
}

int
main(int argc, char **argv)
{
	uint64_t rounds = 20000;
	struct tu_opt opts[] = {
		{"--rounds", &rounds, NULL, "forged tags and replay-window steps"},
	};

	tu_parse_args(argc, argv, opts, 1);
	CHECK_EQ(dp_auth_init(), 0);
	test_seal_check();
	test_flips_and_forgeries(rounds);
	test_rotation();
	test_replay_cases();
	test_replay_model(rounds * 5);
	printf("ok\n");
	return 0;
}
