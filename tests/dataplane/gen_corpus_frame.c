/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_dp_frame: one small file per kind of
 * frame the dataplane sends or must take (HELLO, DATA with segments, with
 * MORE and GAP, an ack alone, each also with a MAC trailer), encoded with
 * the codec of dp_frame.h.
 *
 *   gen_corpus_frame DIR           writes DIR/<name>
 *   gen_corpus_frame --check DIR   exits 1 unless DIR holds exactly those
 *                                  bytes (a test: the committed corpus is
 *                                  current)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../corpus_file.h"
#include "dp_frame.h"

#define CAP 1472

static void
header(struct dp_frame *f, uint8_t type, bool mac)
{
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->flags = mac ? DP_FRAME_F_MAC : 0;
	f->key_id = mac ? 1 : 0;
	f->counter = 42;
	f->src_session = 0x1122334455667788ull;
	f->dst_session = 0x0102030405060708ull;
	if (type == DP_FRAME_DATA) {
		f->seq = 1000;
		f->ack = 77;
		f->echo = 41;
	}
}

/* A MAC trailer (its bytes do not matter to the decoder). */
static size_t
add_mac(uint8_t *buf, size_t len, bool mac)
{
	if (!mac)
		return len;
	for (unsigned i = 0; i < DP_FRAME_MAC_LEN; i++)
		buf[len + i] = (uint8_t)(0xa0 + i);
	return len + DP_FRAME_MAC_LEN;
}

static size_t
make_hello(uint8_t *buf, bool mac)
{
	struct dp_frame f;
	int n;

	header(&f, DP_FRAME_HELLO, mac);
	f.hello.version_min = 1;
	f.hello.version_max = 1;
	f.hello.udp_port = 4370;
	strcpy(f.hello.name, "n1");
	n = dp_frame_encode_hello(buf, CAP, &f);
	if (n < 0)
		abort();
	return add_mac(buf, (size_t)n, mac);
}

/*
 * Three segments as a channel cuts them: two whole wire messages (a
 * DISCOVER of scope "s" and a REPLY), then the start of a longer one with
 * MORE. The bytes are the wire's (control/sn_wire.h), written out here:
 * the frame decoder does not read them.
 */
static size_t
make_data(uint8_t *buf, uint8_t flags, unsigned n_segs, bool mac)
{
	static const uint8_t discover[] = { 1, 0, 2, 0, 1, 's' };
	static const uint8_t reply[] = { 8, 0, 8, 0, 7, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t part[] = { 3, 0, 0x40, 0, 1, 's', 4, 0, 'n', 'a', 'm', 'e' };
	const struct { const uint8_t *p; size_t len; uint8_t flags; } segs[] = {
		{ discover, sizeof(discover), 0 },
		{ reply, sizeof(reply), 0 },
		{ part, sizeof(part), DP_FRAME_SEG_F_MORE },
	};
	struct dp_frame_enc e;
	struct dp_frame f;

	header(&f, DP_FRAME_DATA, mac);
	f.flags |= flags;
	dp_frame_enc_start(&e, buf, CAP);
	for (unsigned i = 0; i < n_segs; i++)
		if (dp_frame_enc_seg(&e, segs[i].p, segs[i].len, segs[i].flags) != 0)
			abort();
	return add_mac(buf, dp_frame_enc_end(&e, &f), mac);
}

int
main(int argc, char **argv)
{
	static uint8_t buf[CAP + DP_FRAME_MAC_LEN];
	bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
	const char *dir = argv[argc - 1];
	int bad = 0;
	unsigned n_files = 0;

	if (argc != 2 && !check) {
		fprintf(stderr, "usage: gen_corpus_frame [--check] DIR\n");
		return 2;
	}
	for (int k = 0; k < 10; k++) {
		bool mac = k % 2 == 1;
		const char *name;
		char path[4096];
		size_t len;

		switch (k / 2) {
		case 0:
			name = "hello";
			len = make_hello(buf, mac);
			break;
		case 1:
			name = "data_3segs";
			len = make_data(buf, 0, 3, mac);
			break;
		case 2:
			name = "data_1seg";
			len = make_data(buf, 0, 1, mac);
			break;
		case 3:
			name = "data_gap";
			len = make_data(buf, DP_FRAME_F_GAP, 2, mac);
			break;
		default:
			name = "ack";
			len = make_data(buf, 0, 0, mac);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s%s", dir, name, mac ? "_mac" : "");
		n_files++;
		/* A seed the decoder refuses would leave the accepting paths cold. */
		{
			struct dp_frame d;
			enum dp_frame_status st = dp_frame_decode(buf, len, &d);

			if (st != DP_FRAME_OK) {
				fprintf(stderr, "%s: does not decode: %s\n", path,
					dp_frame_status_name(st));
				bad = 1;
			}
		}
		bad |= corpus_file("gen_corpus_frame", dir, path, buf, len, check);
	}
	if (!bad)
		printf("%s: %u files %s\n", dir, n_files, check ? "current" : "written");
	return bad;
}
