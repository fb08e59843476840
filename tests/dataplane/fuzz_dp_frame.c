/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target of the frame decoder (dataplane/dp_frame.c), as the
 * dataplane uses it on every UDP payload it receives. Proves, for any
 * bytes:
 *   - dp_frame_decode() reads nothing out of bounds (ASan), does nothing
 *     undefined (UBSan) and answers OK or one of its documented reasons;
 *   - an accepted frame is self-consistent: its segment walk yields
 *     exactly n_segs segments, each non-empty, with no reserved flag,
 *     inside the body, ending where the body ends; a MAC points at the
 *     last DP_FRAME_MAC_LEN bytes;
 *   - an accepted frame re-encodes (dp_frame_enc_* or
 *     dp_frame_encode_hello, plus its MAC trailer copied) to the very same
 *     bytes, and those decode to the same frame: one encoding per frame,
 *     so no two peers can read one frame two ways.
 *
 * Seed corpus: tests/dataplane/corpus_frame/ (gen_corpus_frame writes it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The largest input re-encoded: a UDP payload's worth. The encoder keeps
 * DP_FRAME_MAC_LEN bytes free past the segments, so its buffer has them
 * on top.
 */
#define FRAME_CAP 65536
#define OUT_CAP (FRAME_CAP + DP_FRAME_MAC_LEN)

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* The header fields of two decoded frames agree. */
static bool
same_header(const struct dp_frame *a, const struct dp_frame *b)
{
	return a->type == b->type && a->flags == b->flags && a->key_id == b->key_id &&
	       a->counter == b->counter && a->src_session == b->src_session &&
	       a->dst_session == b->dst_session && a->seq == b->seq && a->ack == b->ack &&
	       a->n_segs == b->n_segs && a->echo == b->echo;
}

/* Walks the segments of an accepted DATA frame, checking each. */
static void
walk(const struct dp_frame *f, const uint8_t *data, size_t size)
{
	struct dp_frame_seg_iter it;
	struct dp_frame_seg s;
	const uint8_t *end = f->segs + f->segs_len;
	unsigned n = 0;

	dp_frame_seg_iter_init(&it, f);
	while (dp_frame_seg_next(&it, &s)) {
		check(s.len >= 1 && (s.flags & ~DP_FRAME_SEG_F_MORE) == 0);
		check(s.data >= data + DP_FRAME_HDR_LEN + DP_FRAME_SEG_HDR_LEN);
		check(s.data + s.len <= end);
		n++;
		check(n <= f->n_segs);
	}
	check(n == f->n_segs && it.p == end);
	check(f->segs + f->segs_len <= data + size);
}

/* Re-encodes the accepted frame @p f into @p out; returns its length. */
static size_t
reencode(const struct dp_frame *f, uint8_t *out)
{
	size_t len;

	if (f->type == DP_FRAME_HELLO) {
		int r = dp_frame_encode_hello(out, OUT_CAP, f);

		check(r > 0);
		len = (size_t)r;
	} else {
		struct dp_frame_enc e;
		struct dp_frame_seg_iter it;
		struct dp_frame_seg s;

		dp_frame_enc_start(&e, out, OUT_CAP);
		dp_frame_seg_iter_init(&it, f);
		while (dp_frame_seg_next(&it, &s))
			check(dp_frame_enc_seg(&e, s.data, s.len, s.flags) == 0);
		len = dp_frame_enc_end(&e, f);
	}
	/* The encoder leaves the MAC to its caller: a trailer after the body. */
	if (f->flags & DP_FRAME_F_MAC) {
		check(f->mac != NULL && len + DP_FRAME_MAC_LEN <= OUT_CAP);
		memcpy(out + len, f->mac, DP_FRAME_MAC_LEN);
		len += DP_FRAME_MAC_LEN;
	}
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_CAP];
	struct dp_frame f, g;
	enum dp_frame_status st;
	size_t len;

	st = dp_frame_decode(data, size, &f);
	check((unsigned)st < DP_FRAME_STATUS_END);
	check(strcmp(dp_frame_status_name(st), "unknown") != 0);
	if (st != DP_FRAME_OK)
		return 0;

	check(size >= DP_FRAME_HDR_LEN && f.src_session != 0);
	check(f.type == DP_FRAME_HELLO || f.type == DP_FRAME_DATA);
	if (f.flags & DP_FRAME_F_MAC)
		check(f.mac == data + size - DP_FRAME_MAC_LEN);
	else
		check(f.mac == NULL && f.key_id == 0);
	if (f.type == DP_FRAME_HELLO) {
		check(f.segs == NULL && f.n_segs == 0);
		check(f.hello.name_len >= 1 && f.hello.name_len <= DP_FRAME_NAME_MAX &&
		      strlen(f.hello.name) == f.hello.name_len);
	} else {
		walk(&f, data, size);
	}

	/*
	 * The encoder takes at most UINT16_MAX - 1 segments (it refuses to
	 * count to a wrap); the decoder would take one more, but such a frame
	 * is over 256 KiB, four times a UDP datagram: not a frame a peer sends.
	 */
	if (f.n_segs == UINT16_MAX || size > FRAME_CAP)
		return 0;
	len = reencode(&f, out);
	check(len == size && memcmp(out, data, size) == 0);

	st = dp_frame_decode(out, len, &g);
	check(st == DP_FRAME_OK && same_header(&f, &g));
	if (f.type == DP_FRAME_HELLO)
		check(memcmp(&f.hello, &g.hello, offsetof(struct dp_frame_hello, name)) == 0 &&
		      strcmp(f.hello.name, g.hello.name) == 0);
	else
		check(g.segs_len == f.segs_len &&
		      memcmp(g.segs, f.segs, f.segs_len) == 0);
	return 0;
}
