/* SPDX-License-Identifier: MIT */
/*
 * Proves the frame codec (dataplane/dp_frame.h):
 *   - HELLO and DATA frames (segments with and without MORE, an ack alone,
 *     a MAC trailer) decode to exactly what was encoded;
 *   - every truncation of a valid frame is rejected, with the reason the
 *     layout gives for where it was cut;
 *   - each malformation of a header, a HELLO body or a segment is rejected
 *     with its own reason;
 *   - random corruptions of valid frames never read outside the buffer
 *     (run under ASan) and whatever is accepted is self-consistent.
 * Takes --seed N (printed first) and --rounds N.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../rcu_tables/test_util.h"
#include "dp_frame.h"

#define CAP 1472

static void
hdr_defaults(struct dp_frame *f, uint8_t type)
{
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->counter = 0x0102030405060708ull;
	f->src_session = 0x1122334455667788ull;
	f->dst_session = 0x99aabbccddeeff00ull;
	if (type == DP_FRAME_DATA) {
		f->seq = 0xfffffff0u;
		f->ack = 77;
		f->echo = 0xbeef;
	}
}

static size_t
make_hello(uint8_t *buf, const char *name)
{
	struct dp_frame f;
	int n;

	hdr_defaults(&f, DP_FRAME_HELLO);
	f.hello.version_min = 1;
	f.hello.version_max = 3;
	f.hello.udp_port = 4370;
	strcpy(f.hello.name, name);
	n = dp_frame_encode_hello(buf, CAP, &f);
	CHECK(n > 0);
	return (size_t)n;
}

/* Three segments: 10 bytes, 300 bytes with MORE, 1 byte. */
static size_t
make_data(uint8_t *buf)
{
	struct dp_frame_enc e;
	struct dp_frame f;
	uint8_t bytes[300];

	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7 + 1);
	hdr_defaults(&f, DP_FRAME_DATA);
	dp_frame_enc_start(&e, buf, CAP);
	CHECK_EQ(dp_frame_enc_seg(&e, bytes, 10, 0), 0);
	CHECK_EQ(dp_frame_enc_seg(&e, bytes, 300, DP_FRAME_SEG_F_MORE), 0);
	CHECK_EQ(dp_frame_enc_seg(&e, bytes + 5, 1, 0), 0);
	return dp_frame_enc_end(&e, &f);
}

static void
test_hello_round_trip(void)
{
	uint8_t buf[CAP];
	struct dp_frame f;
	size_t len = make_hello(buf, "node-a.1");

	CHECK_EQ(len, DP_FRAME_HDR_LEN + 7 + 8);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
	CHECK_EQ(f.type, DP_FRAME_HELLO);
	CHECK_EQ(f.flags, 0);
	CHECK_EQ(f.key_id, 0);
	CHECK(f.counter == 0x0102030405060708ull);
	CHECK(f.src_session == 0x1122334455667788ull);
	CHECK(f.dst_session == 0x99aabbccddeeff00ull);
	CHECK_EQ(f.seq, 0);
	CHECK_EQ(f.ack, 0);
	CHECK_EQ(f.n_segs, 0);
	CHECK_EQ(f.hello.version_min, 1);
	CHECK_EQ(f.hello.version_max, 3);
	CHECK_EQ(f.hello.udp_port, 4370);
	CHECK_EQ(f.hello.name_len, 8);
	CHECK(strcmp(f.hello.name, "node-a.1") == 0);
	CHECK(f.mac == NULL);
	/* Little-endian on the wire, whatever the host. */
	CHECK_MEM(buf, "SYND", 4);
	CHECK_EQ(buf[8], 0x08);
	CHECK_EQ(buf[15], 0x01);

	/* A 63-byte name is the longest. */
	char name[DP_FRAME_NAME_MAX + 2];

	memset(name, 'n', DP_FRAME_NAME_MAX);
	name[DP_FRAME_NAME_MAX] = '\0';
	len = make_hello(buf, name);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
	CHECK(strcmp(f.hello.name, name) == 0);

	/* The encoder refuses what the decoder would. */
	hdr_defaults(&f, DP_FRAME_HELLO);
	f.hello.version_min = 1;
	f.hello.version_max = 1;
	f.hello.udp_port = 1;
	CHECK_EQ(dp_frame_encode_hello(buf, CAP, &f), -EINVAL); /* empty name */
	strcpy(f.hello.name, "a b");
	CHECK_EQ(dp_frame_encode_hello(buf, CAP, &f), -EINVAL);
	strcpy(f.hello.name, "ab");
	f.hello.version_min = 2;
	CHECK_EQ(dp_frame_encode_hello(buf, CAP, &f), -EINVAL);
	f.hello.version_min = 1;
	f.hello.udp_port = 0;
	CHECK_EQ(dp_frame_encode_hello(buf, CAP, &f), -EINVAL);
	f.hello.udp_port = 9;
	CHECK_EQ(dp_frame_encode_hello(buf, DP_FRAME_HDR_LEN + 8, &f), -ENOSPC);
	CHECK_EQ(dp_frame_encode_hello(buf, DP_FRAME_HDR_LEN + 9, &f), DP_FRAME_HDR_LEN + 9);
}

static void
test_data_round_trip(void)
{
	uint8_t buf[CAP], bytes[300];
	struct dp_frame_seg_iter it;
	struct dp_frame_seg s;
	struct dp_frame f;
	size_t len = make_data(buf);

	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(len, DP_FRAME_HDR_LEN + 3 * DP_FRAME_SEG_HDR_LEN + 311);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
	CHECK_EQ(f.type, DP_FRAME_DATA);
	CHECK(f.seq == 0xfffffff0u);
	CHECK_EQ(f.ack, 77);
	CHECK_EQ(f.echo, 0xbeef);
	CHECK_EQ(f.n_segs, 3);
	dp_frame_seg_iter_init(&it, &f);
	CHECK(dp_frame_seg_next(&it, &s));
	CHECK_EQ(s.len, 10);
	CHECK_EQ(s.flags, 0);
	CHECK_MEM(s.data, bytes, 10);
	CHECK(dp_frame_seg_next(&it, &s));
	CHECK_EQ(s.len, 300);
	CHECK_EQ(s.flags, DP_FRAME_SEG_F_MORE);
	CHECK_MEM(s.data, bytes, 300);
	CHECK(dp_frame_seg_next(&it, &s));
	CHECK_EQ(s.len, 1);
	CHECK_EQ(s.data[0], bytes[5]);
	CHECK(!dp_frame_seg_next(&it, &s));

	/* An ack alone. */
	struct dp_frame_enc e;
	struct dp_frame h;

	hdr_defaults(&h, DP_FRAME_DATA);
	dp_frame_enc_start(&e, buf, CAP);
	len = dp_frame_enc_end(&e, &h);
	CHECK_EQ(len, DP_FRAME_HDR_LEN);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_OK);
	CHECK_EQ(f.n_segs, 0);
	CHECK_EQ(f.ack, 77);
	dp_frame_seg_iter_init(&it, &f);
	CHECK(!dp_frame_seg_next(&it, &s));

	/* Room: a frame of CAP bytes takes one segment of dp_frame_seg_max(CAP),
	 * keeping the MAC's room, and not one byte more. */
	dp_frame_enc_start(&e, buf, CAP);
	CHECK_EQ(dp_frame_enc_room(&e), dp_frame_seg_max(CAP));
	uint8_t big[CAP];

	memset(big, 0xab, sizeof(big));
	CHECK_EQ(dp_frame_enc_seg(&e, big, dp_frame_seg_max(CAP) + 1, 0), -ENOSPC);
	CHECK_EQ(dp_frame_enc_seg(&e, big, 0, 0), -ENOSPC);
	CHECK_EQ(dp_frame_enc_seg(&e, big, dp_frame_seg_max(CAP), 0), 0);
	CHECK_EQ(dp_frame_enc_room(&e), 0);
	len = dp_frame_enc_end(&e, &h);
	CHECK_EQ(len + DP_FRAME_MAC_LEN, CAP);

	/* A MAC trailer: the decoder strips it and says where it is. */
	buf[6] = DP_FRAME_F_MAC;
	buf[7] = 3;
	memset(buf + len, 0x5a, DP_FRAME_MAC_LEN);
	CHECK_EQ(dp_frame_decode(buf, len + DP_FRAME_MAC_LEN, &f), DP_FRAME_OK);
	CHECK(f.mac == buf + len);
	CHECK_EQ(f.key_id, 3);
	CHECK_EQ(f.n_segs, 1);
	dp_frame_seg_iter_init(&it, &f);
	CHECK(dp_frame_seg_next(&it, &s));
	CHECK_EQ(s.len, dp_frame_seg_max(CAP));
	CHECK(!dp_frame_seg_next(&it, &s));
}

/* Every prefix of a valid frame is rejected, with the reason of its cut. */
static void
test_truncations(void)
{
	uint8_t buf[CAP];
	struct dp_frame f;
	size_t len = make_hello(buf, "abc");

	for (size_t l = 0; l < len; l++) {
		enum dp_frame_status st = dp_frame_decode(buf, l, &f);

		CHECK_MSG(st == (l < DP_FRAME_HDR_LEN ? DP_FRAME_ETRUNC : DP_FRAME_EHELLO_TRUNC),
			  "hello cut at %zu: %s", l, dp_frame_status_name(st));
	}
	len = make_data(buf);
	/* Segment ends (after header + bytes): 44+3+10, then +3+300, then +3+1. */
	size_t ends[] = {DP_FRAME_HDR_LEN + 13, DP_FRAME_HDR_LEN + 316, DP_FRAME_HDR_LEN + 320};

	for (size_t l = 0; l < len; l++) {
		enum dp_frame_status st = dp_frame_decode(buf, l, &f);
		enum dp_frame_status want = DP_FRAME_ESEG_TRUNC;

		if (l < DP_FRAME_HDR_LEN)
			want = DP_FRAME_ETRUNC;
		CHECK_MSG(st == want, "data cut at %zu: %s", l, dp_frame_status_name(st));
	}
	CHECK_EQ(ends[2], len);
	/* With the count lowered to match a cut at a segment's end, the rest is
	 * trailing bytes, and the cut frame is fine. */
	buf[40] = 1;
	CHECK_EQ(dp_frame_decode(buf, ends[0], &f), DP_FRAME_OK);
	CHECK_EQ(dp_frame_decode(buf, ends[1], &f), DP_FRAME_ETRAILING);
	buf[40] = 2;
	CHECK_EQ(dp_frame_decode(buf, ends[1], &f), DP_FRAME_OK);
	CHECK_EQ(dp_frame_decode(buf, len, &f), DP_FRAME_ETRAILING);

	/* MAC flag on a frame too short for the trailer. */
	len = make_data(buf);
	buf[6] = DP_FRAME_F_MAC;
	for (size_t l = DP_FRAME_HDR_LEN; l < DP_FRAME_HDR_LEN + DP_FRAME_MAC_LEN; l++)
		CHECK_EQ(dp_frame_decode(buf, l, &f), DP_FRAME_EMAC_TRUNC);
}

/* Decodes a copy of @p orig with byte @p off set to @p val. */
static enum dp_frame_status
mutated(const uint8_t *orig, size_t len, size_t off, uint8_t val)
{
	uint8_t buf[CAP];
	struct dp_frame f;

	memcpy(buf, orig, len);
	buf[off] = val;
	return dp_frame_decode(buf, len, &f);
}

static void
test_malformations(void)
{
	uint8_t hello[CAP], data[CAP], buf[CAP];
	size_t hlen = make_hello(hello, "abc");
	size_t dlen = make_data(data);
	struct dp_frame f;

	/* Header. */
	CHECK_EQ(mutated(hello, hlen, 0, 'X'), DP_FRAME_EMAGIC);
	CHECK_EQ(mutated(data, dlen, 3, 0), DP_FRAME_EMAGIC);
	CHECK_EQ(mutated(hello, hlen, 4, 0), DP_FRAME_EVERSION);
	CHECK_EQ(mutated(hello, hlen, 4, 2), DP_FRAME_EVERSION);
	CHECK_EQ(mutated(hello, hlen, 5, 0), DP_FRAME_ETYPE);
	CHECK_EQ(mutated(hello, hlen, 5, 3), DP_FRAME_ETYPE);
	CHECK_EQ(mutated(data, dlen, 5, DP_FRAME_LOOKUP_FIRST), DP_FRAME_ETYPE);
	CHECK_EQ(mutated(data, dlen, 5, 0xff), DP_FRAME_ETYPE);
	for (unsigned bit = 2; bit < 8; bit++)
		CHECK_EQ(mutated(data, dlen, 6, (uint8_t)(1u << bit)), DP_FRAME_EFLAGS);
	CHECK_EQ(mutated(data, dlen, 6, DP_FRAME_F_GAP), DP_FRAME_OK);
	CHECK_EQ(mutated(hello, hlen, 6, DP_FRAME_F_GAP), DP_FRAME_EFLAGS);
	CHECK_EQ(mutated(data, dlen, 7, 1), DP_FRAME_EKEY_ID);
	CHECK_EQ(mutated(data, dlen, 42, 1), DP_FRAME_OK); /* any echo */
	CHECK_EQ(mutated(hello, hlen, 42, 1), DP_FRAME_EHELLO_FIELDS);
	CHECK_EQ(mutated(hello, hlen, 43, 1), DP_FRAME_EHELLO_FIELDS);
	memcpy(buf, data, dlen);
	memset(buf + 16, 0, 8);
	CHECK_EQ(dp_frame_decode(buf, dlen, &f), DP_FRAME_ESESSION);
	/* dst session 0 is fine: "unknown". */
	memcpy(buf, data, dlen);
	memset(buf + 24, 0, 8);
	CHECK_EQ(dp_frame_decode(buf, dlen, &f), DP_FRAME_OK);

	/* HELLO body: at 44 vmin, 46 vmax, 48 port, 50 name length, 51 name. */
	CHECK_EQ(mutated(hello, hlen, 32, 1), DP_FRAME_EHELLO_FIELDS);
	CHECK_EQ(mutated(hello, hlen, 39, 1), DP_FRAME_EHELLO_FIELDS);
	CHECK_EQ(mutated(hello, hlen, 40, 1), DP_FRAME_EHELLO_FIELDS);
	CHECK_EQ(mutated(hello, hlen, 44, 0), DP_FRAME_EHELLO_VERSION);
	CHECK_EQ(mutated(hello, hlen, 44, 4), DP_FRAME_EHELLO_VERSION);
	CHECK_EQ(mutated(hello, hlen, 46, 0), DP_FRAME_EHELLO_VERSION);
	memcpy(buf, hello, hlen);
	buf[48] = buf[49] = 0;
	CHECK_EQ(dp_frame_decode(buf, hlen, &f), DP_FRAME_EHELLO_PORT);
	CHECK_EQ(mutated(hello, hlen, 50, 0), DP_FRAME_EHELLO_NAME);
	CHECK_EQ(mutated(hello, hlen, 50, 64), DP_FRAME_EHELLO_NAME);
	CHECK_EQ(mutated(hello, hlen, 50, 255), DP_FRAME_EHELLO_NAME);
	CHECK_EQ(mutated(hello, hlen, 50, 4), DP_FRAME_EHELLO_TRUNC);
	CHECK_EQ(mutated(hello, hlen, 50, 2), DP_FRAME_ETRAILING);
	CHECK_EQ(mutated(hello, hlen, 51, ' '), DP_FRAME_EHELLO_NAME);
	CHECK_EQ(mutated(hello, hlen, 52, '/'), DP_FRAME_EHELLO_NAME);
	CHECK_EQ(mutated(hello, hlen, 53, 0x7f), DP_FRAME_EHELLO_NAME);
	CHECK_EQ(mutated(hello, hlen, 53, 0), DP_FRAME_EHELLO_NAME);
	memcpy(buf, hello, hlen);
	buf[hlen] = 'x';
	CHECK_EQ(dp_frame_decode(buf, hlen + 1, &f), DP_FRAME_ETRAILING);

	/* Segments: the first at 44 (length 10), flags at 46; the last at 44+316. */
	CHECK_EQ(mutated(data, dlen, 44, 0), DP_FRAME_ESEG_EMPTY);
	CHECK_EQ(mutated(data, dlen, 46, 2), DP_FRAME_ESEG_FLAGS);
	CHECK_EQ(mutated(data, dlen, 46, 0x80), DP_FRAME_ESEG_FLAGS);
	CHECK_EQ(mutated(data, dlen, DP_FRAME_HDR_LEN + 316, 2), DP_FRAME_ESEG_TRUNC);
	CHECK_EQ(mutated(data, dlen, 45, 0xff), DP_FRAME_ESEG_TRUNC);
	CHECK_EQ(mutated(data, dlen, 40, 4), DP_FRAME_ESEG_TRUNC);
	CHECK_EQ(mutated(data, dlen, 40, 0), DP_FRAME_ETRAILING);
	CHECK_EQ(mutated(data, dlen, 40, 2), DP_FRAME_ETRAILING);
	CHECK_EQ(mutated(data, dlen, 41, 1), DP_FRAME_ESEG_TRUNC);
	memcpy(buf, data, dlen);
	buf[dlen] = 0;
	CHECK_EQ(dp_frame_decode(buf, dlen + 1, &f), DP_FRAME_ETRAILING);

	/* Every reason has a name. */
	for (int st = 0; st < DP_FRAME_STATUS_END; st++)
		CHECK(strcmp(dp_frame_status_name((enum dp_frame_status)st), "unknown") != 0);
	CHECK(strcmp(dp_frame_status_name(DP_FRAME_STATUS_END), "unknown") == 0);
}

/* Random corruption: never a read outside the frame (ASan), and what is
 * accepted walks to exactly its end. */
static void
test_random_corruption(uint64_t rounds)
{
	uint8_t orig[2][CAP], buf[CAP];
	size_t olen[2] = {make_hello(orig[0], "fuzz"), make_data(orig[1])};
	struct tu_rng r;
	unsigned ok = 0;

	tu_rng_init(&r, tu_seed);
	for (uint64_t i = 0; i < rounds; i++) {
		unsigned which = (unsigned)tu_rng_below(&r, 2);
		size_t len = olen[which];
		struct dp_frame f;
		uint8_t *copy;

		memcpy(buf, orig[which], len);
		for (unsigned k = (unsigned)tu_rng_below(&r, 4) + 1; k > 0; k--)
			buf[tu_rng_below(&r, len)] = (uint8_t)tu_rng_next(&r);
		if (tu_rng_permille(&r, 300))
			len = (size_t)tu_rng_below(&r, len + 1);
		/* An exact-size heap copy: ASan sees any read past its end. */
		copy = malloc(len ? len : 1);
		CHECK(copy != NULL);
		memcpy(copy, buf, len);
		if (dp_frame_decode(copy, len, &f) == DP_FRAME_OK) {
			struct dp_frame_seg_iter it;
			struct dp_frame_seg s;
			size_t total = 0;
			unsigned n = 0;

			ok++;
			dp_frame_seg_iter_init(&it, &f);
			while (dp_frame_seg_next(&it, &s)) {
				CHECK(s.len > 0);
				CHECK(s.data >= copy && s.data + s.len <= copy + len);
				total += DP_FRAME_SEG_HDR_LEN + s.len;
				n++;
			}
			CHECK_EQ(n, f.n_segs);
			CHECK_EQ(total, f.segs_len);
		}
		free(copy);
	}
	printf("random corruption: %llu frames, %u accepted\n", (unsigned long long)rounds, ok);
}

int
main(int argc, char **argv)
{
	uint64_t rounds = 200000;
	struct tu_opt opts[] = {
		{"--rounds", &rounds, NULL, "random corruptions to decode"},
	};

	tu_parse_args(argc, argv, opts, 1);
	test_hello_round_trip();
	test_data_round_trip();
	test_truncations();
	test_malformations();
	test_random_corruption(rounds);
	printf("ok\n");
	return 0;
}
