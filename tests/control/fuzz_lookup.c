/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target of the lookup service's request decoder
 * (control/sn_lookup.c) and of its server (control/lookup_serve.c) on a
 * small node. The input is a request frame as the dataplane hands it on
 * (MAC trailer cut). Proves, for any bytes:
 *   - sn_lookup_frame_check / sn_lookup_next_req read nothing out of
 *     bounds (ASan), do nothing undefined (UBSan), and answer only what
 *     sn_lookup.h says (a count <= SN_LOOKUP_ITEMS_MAX or -EBADMSG; 1, 0,
 *     -EPROTO or -EBADMSG), the walk taking at most count + 1 steps;
 *   - a decoded request is well formed (scope, node NUL-terminated, its
 *     bytes inside the input), re-encodes with sn_lookup_enc_req to the
 *     very bytes of its item (one encoding per item), and decodes again
 *     to the same request;
 *   - sn_lookup_serve on the node answers -EBADMSG exactly when the header
 *     is bad, else at most count items, every answer frame within the cap,
 *     a valid answer frame whose items all decode, entries included.
 *
 * Seed corpus: tests/control/corpus_lookup/ (gen_corpus_lookup writes it).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "sn_lookup.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__asan_default_options(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct synode *node;
static size_t cap_now;
static unsigned answers_seen;

/* The node lives as long as the process, which libFuzzer ends with exit():
 * its tables are no leak. (ASAN_OPTIONS in the environment still wins.) */
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	return n == 0 || ((const uint8_t *)p >= data && (const uint8_t *)p + n <= data + size);
}

static bool
same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
same_req(const struct sn_lookup_req *a, const struct sn_lookup_req *b)
{
	return a->req_id == b->req_id && a->op == b->op && strcmp(a->scope, b->scope) == 0 &&
	       strcmp(a->node, b->node) == 0 && a->limit == b->limit &&
	       same_bytes(a->key, a->key_len, b->key, b->key_len) &&
	       same_bytes(a->to, a->to_len, b->to, b->to_len) &&
	       same_bytes(a->cursor, a->cursor_len, b->cursor, b->cursor_len);
}

static void
check_answers(const void *frame, size_t len, void *arg)
{
	struct sn_lookup_iter it;
	struct sn_lookup_ans a;
	struct sn_lookup_entry e;
	int count, rc;

	(void)arg;
	check(len <= cap_now);
	count = sn_lookup_frame_check(frame, len, SN_LOOKUP_ANSWER, NULL);
	check(count > 0);
	sn_lookup_iter_init(&it, frame, len);
	while ((rc = sn_lookup_next_ans(&it, &a)) == 1) {
		size_t pos = 0;
		unsigned n = 0;

		while ((rc = sn_lookup_next_entry(&a, &pos, &e)) == 1)
			n++;
		check(rc == 0 && n == a.n);
		count--;
		answers_seen++;
	}
	check(rc == 0 && count == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const scopes[] = { "s" };
	struct synode_params p;
	struct synode_pid h;
	char name[16];

	(void)argc;
	(void)argv;
	memset(&p, 0, sizeof(p));
	p.name = "fz";
	p.scopes = scopes;
	p.n_scopes = 1;
	p.log_level = SYNODE_LOG_ERROR;
	node = synode_start(&p);
	check(node != NULL);
	for (int i = 0; i < 8; i++) {
		check(synode_handle_new(node, &h) == 0);
		snprintf(name, sizeof(name), "name-%d", i);
		check(synode_register(node, "s", name, strlen(name), &h, name, strlen(name)) == 0);
		check(synode_join(node, "s", "g", 1, &h, name, strlen(name)) == 0);
		check(synode_join(node, "s", name, strlen(name), &h, NULL, 0) == 0);
	}
	urcu_memb_register_thread();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t enc[65536], ans[2048];
	struct sn_lookup_iter it;
	struct sn_lookup_req r, r2;
	struct sn_lookup_stats st;
	int count, rc, steps = 0, served;

	count = sn_lookup_frame_check(data, size, SN_LOOKUP_REQUEST, NULL);
	check(count == -EBADMSG || (count >= 0 && count <= SN_LOOKUP_ITEMS_MAX));
	if (count >= 0) {
		sn_lookup_iter_init(&it, data, size);
		while ((rc = sn_lookup_next_req(&it, &r)) != 0) {
			check(rc == 1 || rc == -EPROTO || rc == -EBADMSG);
			/* count items, then at most the -EBADMSG of bytes after them */
			steps++;
			check(steps <= count || (steps == count + 1 && rc == -EBADMSG));
			if (rc == -EBADMSG)
				break;
			if (rc != 1)
				continue;
			check(memchr(r.scope, 0, sizeof(r.scope)) != NULL);
			check(memchr(r.node, 0, sizeof(r.node)) != NULL);
			check(r.op >= SN_LOOKUP_OP_LOOKUP && r.op < SN_LOOKUP_OP_END);
			check(inside(r.key, r.key_len, data, size) &&
			      inside(r.to, r.to_len, data, size) &&
			      inside(r.cursor, r.cursor_len, data, size));
			/* one encoding: the item re-encodes to its own bytes */
			{
				struct sn_lookup_enc e;
				struct sn_lookup_iter it2;
				const uint8_t *item_end = it.p;
				size_t item_len;
				int len;

				sn_lookup_enc_start(&e, enc, sizeof(enc), SN_LOOKUP_REQUEST, 0);
				check(sn_lookup_enc_req(&e, &r) == 0);
				len = sn_lookup_enc_end(&e);
				item_len = (size_t)len - SN_LOOKUP_HDR_LEN;
				check(item_end - data >= (ptrdiff_t)item_len);
				check(memcmp(enc + SN_LOOKUP_HDR_LEN, item_end - item_len,
					     item_len) == 0);
				sn_lookup_iter_init(&it2, enc, (size_t)len);
				check(sn_lookup_next_req(&it2, &r2) == 1 && same_req(&r, &r2));
			}
		}
	}
	/* served on the node, with a cap from the input's length */
	cap_now = size % 2 ? SN_LOOKUP_ANSWER_CAP_MIN + size % 300 : sizeof(ans);
	answers_seen = 0;
	memset(&st, 0, sizeof(st));
	served = sn_lookup_serve(node, data, size, ans, cap_now, NULL, check_answers, NULL, &st);
	check((served == -EBADMSG) == (count < 0));
	if (served >= 0)
		check(served <= count && answers_seen == (unsigned)served);
	return 0;
}
