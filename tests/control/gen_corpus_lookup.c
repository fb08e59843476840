/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_lookup: request frames encoded with
 * sn_lookup_enc_*() as a client sends them, one per op (names the fuzz
 * node holds: see fuzz_lookup.c), one with every op, one keyed (MAC flag
 * and key_id, trailer cut as the dataplane hands it on), one with a
 * malformed item between good ones.
 *
 *   gen_corpus_lookup DIR           writes DIR/<name>
 *   gen_corpus_lookup --check DIR   exits 1 unless DIR holds exactly those
 *                                   bytes (a test: the committed corpus is
 *                                   current)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../corpus_file.h"
#include "sn_lookup.h"

#define CAP 2048

static const uint8_t pidkey[] = { 'f', 'z', 0, 0, 0, 0, 1, 0, 0, 0, 2 };

static struct sn_lookup_req
sample(enum sn_lookup_op op)
{
	struct sn_lookup_req r;

	memset(&r, 0, sizeof(r));
	r.req_id = 100 + (uint32_t)op;
	r.op = op;
	strcpy(r.scope, "s");
	r.limit = 3;
	switch (op) {
	case SN_LOOKUP_OP_LOOKUP:
		r.key = "name-1";
		r.key_len = 6;
		break;
	case SN_LOOKUP_OP_MEMBERS:
		r.key = "g";
		r.key_len = 1;
		r.cursor = pidkey;
		r.cursor_len = sizeof(pidkey);
		break;
	case SN_LOOKUP_OP_REG_COUNT:
		strcpy(r.node, "fz");
		break;
	case SN_LOOKUP_OP_MEMBER_COUNT:
		r.key = "g";
		r.key_len = 1;
		break;
	case SN_LOOKUP_OP_SCAN_PREFIX:
		r.key = "name-";
		r.key_len = 5;
		r.cursor = "name-2";
		r.cursor_len = 6;
		break;
	case SN_LOOKUP_OP_SCAN_RANGE:
		r.key = "name-1";
		r.key_len = 6;
		r.to = "name-5";
		r.to_len = 6;
		break;
	default:
		break;
	}
	return r;
}

static const char *const op_names[] = {
	NULL, "lookup", "members", "reg_count", "member_count", "group_count",
	"scan_prefix", "scan_range",
};

/* One seed file: written, or checked (--check). */
static int
put_file(const char *dir, const char *name, const uint8_t *buf, size_t len, bool check)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return corpus_file("gen_corpus_lookup", dir, path, buf, len, check);
}

/* Every item of @p f must decode (the seeds keep the accepting paths warm),
 * but @p bad_items of them. */
static int
decodes(const uint8_t *f, int len, int bad_items)
{
	struct sn_lookup_iter it;
	struct sn_lookup_req r;
	int rc, bad = 0;

	if (len < 0 || sn_lookup_frame_check(f, (size_t)len, SN_LOOKUP_REQUEST, NULL) < 0)
		return 1;
	sn_lookup_iter_init(&it, f, (size_t)len);
	while ((rc = sn_lookup_next_req(&it, &r)) != 0) {
		if (rc == -EBADMSG)
			return 1;
		bad += rc == -EPROTO;
	}
	return bad != bad_items;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[CAP];
	bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
	const char *dir = argv[argc - 1];
	struct sn_lookup_enc e;
	struct sn_lookup_req r;
	int bad = 0, len, files = 0;

	if (argc != 2 && !check) {
		fprintf(stderr, "usage: gen_corpus_lookup [--check] DIR\n");
		return 2;
	}
	for (int op = SN_LOOKUP_OP_LOOKUP; op < SN_LOOKUP_OP_END; op++) {
		char name[64];

		r = sample((enum sn_lookup_op)op);
		sn_lookup_enc_start(&e, buf, sizeof(buf), SN_LOOKUP_REQUEST, 0);
		if (sn_lookup_enc_req(&e, &r) != 0)
			abort();
		len = sn_lookup_enc_end(&e);
		if (decodes(buf, len, 0)) {
			fprintf(stderr, "%s: does not decode\n", op_names[op]);
			bad = 1;
		}
		snprintf(name, sizeof(name), "%02x_%s", op, op_names[op]);
		bad |= put_file(dir, name, buf, (size_t)len, check);
		files++;
	}
	sn_lookup_enc_start(&e, buf, sizeof(buf), SN_LOOKUP_REQUEST, 0);
	for (int op = SN_LOOKUP_OP_LOOKUP; op < SN_LOOKUP_OP_END; op++) {
		r = sample((enum sn_lookup_op)op);
		if (sn_lookup_enc_req(&e, &r) != 0)
			abort();
	}
	len = sn_lookup_enc_end(&e);
	bad |= decodes(buf, len, 0);
	bad |= put_file(dir, "all_ops", buf, (size_t)len, check);

	sn_lookup_enc_start(&e, buf, sizeof(buf), SN_LOOKUP_REQUEST, 5);
	r = sample(SN_LOOKUP_OP_LOOKUP);
	if (sn_lookup_enc_req(&e, &r) != 0)
		abort();
	len = sn_lookup_enc_end(&e);
	bad |= decodes(buf, len, 0);
	bad |= put_file(dir, "keyed", buf, (size_t)len, check);

	/* lookup, a lookup whose name length is one short, group count */
	sn_lookup_enc_start(&e, buf, sizeof(buf), SN_LOOKUP_REQUEST, 0);
	r = sample(SN_LOOKUP_OP_LOOKUP);
	if (sn_lookup_enc_req(&e, &r) != 0 || sn_lookup_enc_req(&e, &r) != 0)
		abort();
	r = sample(SN_LOOKUP_OP_GROUP_COUNT);
	if (sn_lookup_enc_req(&e, &r) != 0)
		abort();
	len = sn_lookup_enc_end(&e);
	buf[SN_LOOKUP_HDR_LEN + 18 + 10] = 5; /* item 2 is 18 bytes on */
	bad |= decodes(buf, len, 1);
	bad |= put_file(dir, "malformed_item", buf, (size_t)len, check);
	files += 3;
	if (!bad)
		printf("%s: %d files %s\n", dir, files, check ? "current" : "written");
	return bad;
}
