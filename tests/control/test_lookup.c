/* SPDX-License-Identifier: MIT */
/*
 * Proves the lookup service (control/sn_lookup.c, control/lookup_serve.c):
 *   - every request op survives encode + decode field for field; every
 *     truncation of a request or answer frame ends its walk in -EBADMSG;
 *     an item with a byte too many or too few is -EPROTO (answered
 *     MALFORMED), and the walk goes on; bad headers are refused;
 *   - served on a real node (no link): hits, misses, a name held by a dead
 *     local handle is UNDEFINED, invalid scope, DENIED, counts (whole scope,
 *     one node, members, groups), TOO_BIG;
 *   - MEMBERS pages through 1000 members with small limits and a small
 *     frame cap: every member exactly once, in pid order, more/cursor right;
 *   - prefix and range scans page the same way: every name exactly once, in
 *     byte order, cut by limit and by frame cap;
 *   - under churn (a writer re-registering names with meta = a version
 *     written twice) every answer a reader gets is a state that existed:
 *     the two copies equal, versions never going back per name.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../rcu_tables/test_util.h"
#include "core_internal.h"
#include "sn_lookup.h"

#define NODE "n1"
#define SCOPE "s"
#define FRAMES_MAX 4096

/* Answer frames collected from one serve call. */
static uint8_t frames[FRAMES_MAX][2048];
static size_t frame_len[FRAMES_MAX];
static unsigned n_frames;
static size_t emit_cap;

static void
collect(const void *f, size_t len, void *arg)
{
	(void)arg;
	CHECK(n_frames < FRAMES_MAX);
	CHECK(len <= emit_cap && len <= sizeof(frames[0]));
	memcpy(frames[n_frames], f, len);
	frame_len[n_frames++] = len;
}

static struct sn_lookup_stats stats;

/* Serves @p req with answer frames of at most @p cap bytes into frames[]. */
static int
serve(struct synode *n, const void *req, size_t len, size_t cap,
      const struct sn_lookup_ctx *ctx)
{
	static uint8_t buf[2048 + SN_LOOKUP_MAC_LEN];

	n_frames = 0;
	emit_cap = cap;
	CHECK(cap <= sizeof(buf));
	return sn_lookup_serve(n, req, len, buf, cap, ctx, collect, NULL, &stats);
}

/* Every answer of frames[] in order (checks each frame's header). */
static unsigned
all_answers(struct sn_lookup_ans *out, unsigned max)
{
	unsigned k = 0;

	for (unsigned f = 0; f < n_frames; f++) {
		struct sn_lookup_iter it;
		int count = sn_lookup_frame_check(frames[f], frame_len[f], SN_LOOKUP_ANSWER, NULL);
		int rc;

		CHECK(count > 0);
		sn_lookup_iter_init(&it, frames[f], frame_len[f]);
		while ((rc = sn_lookup_next_ans(&it, &out[k])) == 1) {
			CHECK(k + 1 < max);
			k++;
			count--;
		}
		CHECK_EQ(rc, 0);
		CHECK_EQ(count, 0);
	}
	return k;
}

static struct sn_lookup_req
req_of(enum sn_lookup_op op, uint32_t id, const char *scope, const void *key, size_t key_len)
{
	struct sn_lookup_req r;

	memset(&r, 0, sizeof(r));
	r.req_id = id;
	r.op = op;
	strcpy(r.scope, scope);
	r.key = key;
	r.key_len = key_len;
	r.limit = 10;
	return r;
}

/* One request, served: its one answer (pointers into frames[]). */
static struct sn_lookup_ans
ask(struct synode *n, const struct sn_lookup_req *r, size_t cap)
{
	static struct sn_lookup_ans a[4];
	uint8_t req[2048];
	struct sn_lookup_enc e;
	int len;

	sn_lookup_enc_start(&e, req, sizeof(req), SN_LOOKUP_REQUEST, 0);
	CHECK_EQ(sn_lookup_enc_req(&e, r), 0);
	len = sn_lookup_enc_end(&e);
	CHECK(len > 0);
	CHECK_EQ(serve(n, req, (size_t)len, cap, NULL), 1);
	CHECK_EQ(all_answers(a, 4), 1);
	CHECK(a[0].req_id == r->req_id);
	CHECK_EQ(a[0].op, r->op);
	return a[0];
}

static void
check_truncations_end_bad(const uint8_t *f, size_t len, enum sn_lookup_type type)
{
	for (size_t cut = SN_LOOKUP_HDR_LEN; cut < len; cut++) {
		struct sn_lookup_iter it;
		struct sn_lookup_req r;
		struct sn_lookup_ans a;
		int rc;

		CHECK(sn_lookup_frame_check(f, cut, type, NULL) >= 0);
		sn_lookup_iter_init(&it, f, cut);
		do
			rc = type == SN_LOOKUP_REQUEST ? sn_lookup_next_req(&it, &r)
						       : sn_lookup_next_ans(&it, &a);
		while (rc == 1 || rc == -EPROTO);
		CHECK_MSG(rc == -EBADMSG, "cut %zu of %zu: %d", cut, len, rc);
	}
	for (size_t cut = 0; cut < SN_LOOKUP_HDR_LEN; cut++)
		CHECK_EQ(sn_lookup_frame_check(f, cut, type, NULL), -EBADMSG);
}

/* ------------------------------------------------------------ the codec */

static void
test_codec(void)
{
	static const uint8_t pk[] = { 'n', '1', 0, 0, 0, 0, 1, 0, 0, 0, 7 };
	struct sn_lookup_req in[7], out;
	uint8_t buf[4096];
	struct sn_lookup_enc e;
	struct sn_lookup_iter it;
	uint8_t kid = 9;
	int len;

	in[0] = req_of(SN_LOOKUP_OP_LOOKUP, 1, "s", "a\0b", 3);
	in[1] = req_of(SN_LOOKUP_OP_MEMBERS, 2, "s", "grp", 3);
	in[1].cursor = pk;
	in[1].cursor_len = sizeof(pk);
	in[1].limit = 1024;
	in[2] = req_of(SN_LOOKUP_OP_REG_COUNT, 3, "s", NULL, 0);
	strcpy(in[2].node, "n2");
	in[3] = req_of(SN_LOOKUP_OP_MEMBER_COUNT, 4, "s", "g", 1);
	in[4] = req_of(SN_LOOKUP_OP_GROUP_COUNT, 5, "scope-2", NULL, 0);
	in[5] = req_of(SN_LOOKUP_OP_SCAN_PREFIX, 6, "s", "r/", 2);
	in[5].cursor = "r/5";
	in[5].cursor_len = 3;
	in[6] = req_of(SN_LOOKUP_OP_SCAN_RANGE, 0xffffffffu, "s", "a", 1);
	in[6].to = "m";
	in[6].to_len = 1;
	in[6].limit = 1;

	sn_lookup_enc_start(&e, buf, sizeof(buf), SN_LOOKUP_REQUEST, 0);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(sn_lookup_enc_req(&e, &in[i]), 0);
	len = sn_lookup_enc_end(&e);
	CHECK(len > SN_LOOKUP_HDR_LEN);
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_REQUEST, &kid), 7);
	CHECK_EQ(kid, 0);
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_ANSWER, NULL), -EBADMSG);
	sn_lookup_iter_init(&it, buf, (size_t)len);
	for (int i = 0; i < 7; i++) {
		CHECK_EQ(sn_lookup_next_req(&it, &out), 1);
		CHECK(out.req_id == in[i].req_id);
		CHECK_EQ(out.op, in[i].op);
		CHECK(strcmp(out.scope, in[i].scope) == 0);
		CHECK(strcmp(out.node, in[i].node) == 0);
		CHECK_EQ(out.key_len, in[i].key_len);
		CHECK_MEM(out.key, in[i].key, in[i].key_len);
		CHECK_EQ(out.to_len, in[i].to_len);
		CHECK_MEM(out.to, in[i].to, in[i].to_len);
		CHECK_EQ(out.cursor_len, in[i].cursor_len);
		CHECK_MEM(out.cursor, in[i].cursor, in[i].cursor_len);
		if (in[i].op == SN_LOOKUP_OP_MEMBERS || in[i].op >= SN_LOOKUP_OP_SCAN_PREFIX)
			CHECK_EQ(out.limit, in[i].limit);
	}
	CHECK_EQ(sn_lookup_next_req(&it, &out), 0);
	check_truncations_end_bad(buf, (size_t)len, SN_LOOKUP_REQUEST);

	/* A byte too many or too few inside an item: MALFORMED, walk goes on. */
	for (int delta = -1; delta <= 1; delta += 2) {
		uint8_t f[256];
		int l;

		sn_lookup_enc_start(&e, f, sizeof(f), SN_LOOKUP_REQUEST, 0);
		CHECK_EQ(sn_lookup_enc_req(&e, &in[0]), 0);
		CHECK_EQ(sn_lookup_enc_req(&e, &in[3]), 0);
		l = sn_lookup_enc_end(&e);
		/* item 0: str16 name's length off by one, item len to match */
		f[SN_LOOKUP_HDR_LEN + 2 + 6 + 2] = (uint8_t)(3 + delta);
		sn_lookup_iter_init(&it, f, (size_t)l);
		CHECK_EQ(sn_lookup_next_req(&it, &out), -EPROTO);
		CHECK(out.req_id == 1);
		CHECK_EQ(sn_lookup_next_req(&it, &out), 1);
		CHECK(out.req_id == 4);
		CHECK_EQ(sn_lookup_next_req(&it, &out), 0);
		/* a trailing byte after the last item: framing broken */
		f[l] = 0;
		sn_lookup_iter_init(&it, f, (size_t)l + 1);
		CHECK_EQ(sn_lookup_next_req(&it, &out), -EPROTO);
		CHECK_EQ(sn_lookup_next_req(&it, &out), 1);
		CHECK_EQ(sn_lookup_next_req(&it, &out), -EBADMSG);
	}

	/* The encoder refuses what the decoder would. */
	out = req_of(SN_LOOKUP_OP_LOOKUP, 1, "s", "", 0);
	sn_lookup_enc_start(&e, buf, sizeof(buf), SN_LOOKUP_REQUEST, 0);
	CHECK_EQ(sn_lookup_enc_req(&e, &out), -EINVAL);
	out = req_of(SN_LOOKUP_OP_MEMBERS, 1, "s", "g", 1);
	out.limit = 0;
	CHECK_EQ(sn_lookup_enc_req(&e, &out), -EINVAL);
	out.limit = SN_LOOKUP_LIMIT_MAX + 1;
	CHECK_EQ(sn_lookup_enc_req(&e, &out), -EINVAL);
	out.limit = 1;
	out.cursor = "xx";
	out.cursor_len = 2;    /* no pidkey */
	CHECK_EQ(sn_lookup_enc_req(&e, &out), -EINVAL);
	out = req_of(SN_LOOKUP_OP_LOOKUP, 1, "", "a", 1);
	CHECK_EQ(sn_lookup_enc_req(&e, &out), -EINVAL);
	/* -ENOSPC leaves the frame as it was */
	sn_lookup_enc_start(&e, buf, SN_LOOKUP_HDR_LEN + 14, SN_LOOKUP_REQUEST, 0);
	CHECK_EQ(sn_lookup_enc_req(&e, &in[0]), -ENOSPC);
	CHECK_EQ(sn_lookup_enc_end(&e), SN_LOOKUP_HDR_LEN);
	/* the MAC room is kept, the flag set */
	sn_lookup_enc_start(&e, buf, SN_LOOKUP_HDR_LEN + SN_LOOKUP_MAC_LEN + 15,
			    SN_LOOKUP_REQUEST, 3);
	CHECK_EQ(sn_lookup_enc_req(&e, &in[0]), 0);
	len = sn_lookup_enc_end(&e);
	CHECK_EQ(len, SN_LOOKUP_HDR_LEN + 15);
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_REQUEST, &kid), 1);
	CHECK_EQ(kid, 3);
	buf[6] = 0; /* key_id without the flag */
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_REQUEST, NULL), -EBADMSG);
	buf[6] = 1;
	buf[0] = 'X';
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_REQUEST, NULL), -EBADMSG);
	buf[0] = 'S';
	buf[4] = 2;
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_REQUEST, NULL), -EBADMSG);
	buf[4] = 1;
	buf[10] = 1;
	CHECK_EQ(sn_lookup_frame_check(buf, (size_t)len, SN_LOOKUP_REQUEST, NULL), -EBADMSG);
	printf("codec: ok\n");
}

/* ---------------------------------------------------------------- a node */

static struct synode *
node_start(void)
{
	static const char *const scopes[] = { SCOPE, "t" };
	struct synode_params p;
	struct synode *n;

	memset(&p, 0, sizeof(p));
	p.name = NODE;
	p.scopes = scopes;
	p.n_scopes = 2;
	p.log_level = SYNODE_LOG_ERROR;
	n = synode_start(&p);
	CHECK(n != NULL);
	return n;
}

/* A name held by a handle id that does not live (written as a peer's
 * sync would be, on the control thread). */
static int
put_dead(struct synode *n, void *arg)
{
	unsigned char val[sizeof(struct sn_reg_val) + 8] __attribute__((aligned(8)));
	struct sn_reg_val *v = (struct sn_reg_val *)val;
	struct sn_scope *sc = sn_scope_get(n, SCOPE);

	(void)arg;
	memset(val, 0, sizeof(val));
	v->id = SYNODE_HANDLE_ID_BASE + 999999;
	v->node_len = 2;
	memcpy(v + 1, NODE, 2);
	if (rtab_oset_insert(sc->reg_names, "dead", 4, NULL, 0) < 0)
		return -1;
	return rtab_set_insert(sc->reg_by_name, "dead", 4, val, sizeof(*v) + 2);
}

static bool
deny_t(const char *scope, uint8_t key_id, void *arg)
{
	(void)arg;
	return strcmp(scope, "t") != 0 || key_id == 7;
}

static void
check_entry_pid(const struct sn_lookup_ans *a, const struct synode_pid *pid, const char *meta)
{
	struct sn_lookup_entry e;
	size_t pos = 0;

	CHECK_EQ(a->status, SN_LOOKUP_OK);
	CHECK_EQ(sn_lookup_next_entry(a, &pos, &e), 1);
	CHECK(synode_pid_cmp(&e.pid, pid) == 0);
	CHECK_EQ(e.meta_len, strlen(meta));
	CHECK_MEM(e.meta, meta, e.meta_len);
	CHECK_EQ(sn_lookup_next_entry(a, &pos, &e), 0);
}

static void
test_serve_basic(struct synode *n)
{
	static char bigmeta[3000];
	struct synode_pid h1, h2;
	struct sn_lookup_req r;
	struct sn_lookup_ans a;
	struct sn_lookup_ctx ctx = { 0, deny_t, NULL };
	uint8_t req[512];
	struct sn_lookup_enc e;
	struct sn_lookup_ans as[8];
	int len;

	CHECK_EQ(synode_handle_new(n, &h1), 0);
	CHECK_EQ(synode_handle_new(n, &h2), 0);
	CHECK_EQ(synode_register(n, SCOPE, "alpha", 5, &h1, "m1", 2), 0);
	CHECK_EQ(synode_register(n, SCOPE, "beta", 4, &h2, "m2", 2), 0);
	CHECK_EQ(synode_register(n, "t", "alpha", 5, &h2, "tt", 2), 0);
	CHECK_EQ(synode_join(n, SCOPE, "g1", 2, &h1, "x", 1), 0);
	CHECK_EQ(synode_join(n, SCOPE, "g1", 2, &h2, "y", 1), 0);
	CHECK_EQ(synode_join(n, SCOPE, "g2", 2, &h1, NULL, 0), 0);
	CHECK_EQ(synode_join(n, SCOPE, "g1\0", 3, &h2, NULL, 0), 0);
	memset(bigmeta, 'z', sizeof(bigmeta));
	CHECK_EQ(synode_register(n, SCOPE, "big", 3, &h1, bigmeta, 2000), 0);
	CHECK_EQ(sn_call(n, put_dead, NULL), 0);

	/* hits, misses, dead holder, invalid scope */
	r = req_of(SN_LOOKUP_OP_LOOKUP, 11, SCOPE, "alpha", 5);
	a = ask(n, &r, 512);
	check_entry_pid(&a, &h1, "m1");
	r = req_of(SN_LOOKUP_OP_LOOKUP, 12, "t", "alpha", 5);
	a = ask(n, &r, 512);
	check_entry_pid(&a, &h2, "tt");
	r = req_of(SN_LOOKUP_OP_LOOKUP, 13, SCOPE, "gamma", 5);
	CHECK_EQ(ask(n, &r, 512).status, SN_LOOKUP_UNDEFINED);
	r = req_of(SN_LOOKUP_OP_LOOKUP, 14, SCOPE, "dead", 4);
	CHECK_EQ(ask(n, &r, 512).status, SN_LOOKUP_UNDEFINED);
	CHECK_EQ(synode_lookup(n, SCOPE, "dead", 4, NULL, NULL, NULL), -SYNODE_EUNDEFINED);
	r = req_of(SN_LOOKUP_OP_LOOKUP, 15, "nope", "alpha", 5);
	CHECK_EQ(ask(n, &r, 512).status, SN_LOOKUP_INVALID_SCOPE);
	/* too big for a 512-byte frame, fits a 2048-byte one */
	r = req_of(SN_LOOKUP_OP_LOOKUP, 16, SCOPE, "big", 3);
	stats.too_big = 0;
	CHECK_EQ(ask(n, &r, 512).status, SN_LOOKUP_TOO_BIG);
	CHECK_EQ(stats.too_big, 1);
	a = ask(n, &r, 2048);
	CHECK_EQ(a.status, SN_LOOKUP_OK);

	/* counts: scope (with big and dead), per node, members, groups */
	r = req_of(SN_LOOKUP_OP_REG_COUNT, 20, SCOPE, NULL, 0);
	a = ask(n, &r, 512);
	CHECK_EQ(a.status, SN_LOOKUP_OK);
	CHECK_EQ(a.count, 4);
	strcpy(r.node, NODE);
	CHECK_EQ(ask(n, &r, 512).count, 4);
	strcpy(r.node, "n9");
	CHECK_EQ(ask(n, &r, 512).count, 0);
	r = req_of(SN_LOOKUP_OP_MEMBER_COUNT, 21, SCOPE, "g1", 2);
	CHECK_EQ(ask(n, &r, 512).count, 2);
	r = req_of(SN_LOOKUP_OP_MEMBER_COUNT, 21, SCOPE, "g1\0", 3);
	CHECK_EQ(ask(n, &r, 512).count, 1);
	r = req_of(SN_LOOKUP_OP_MEMBER_COUNT, 21, SCOPE, "g3", 2);
	CHECK_EQ(ask(n, &r, 512).count, 0);
	r = req_of(SN_LOOKUP_OP_GROUP_COUNT, 22, SCOPE, NULL, 0);
	CHECK_EQ(ask(n, &r, 512).count, 3);
	CHECK_EQ(synode_group_count(n, SCOPE, NULL), 3);
	r = req_of(SN_LOOKUP_OP_GROUP_COUNT, 22, "t", NULL, 0);
	CHECK_EQ(ask(n, &r, 512).count, 0);

	/* several items, denied, malformed, answered in order */
	sn_lookup_enc_start(&e, req, sizeof(req), SN_LOOKUP_REQUEST, 0);
	r = req_of(SN_LOOKUP_OP_LOOKUP, 31, SCOPE, "alpha", 5);
	CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
	r = req_of(SN_LOOKUP_OP_LOOKUP, 32, "t", "alpha", 5);
	CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
	r = req_of(SN_LOOKUP_OP_GROUP_COUNT, 33, SCOPE, NULL, 0);
	CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
	len = sn_lookup_enc_end(&e);
	/* items 1 and 2 are 17 bytes each (len, req_id, op, flags, scope, name) */
	req[SN_LOOKUP_HDR_LEN + 34 + 6] = 99; /* item 3's op */
	memset(&stats, 0, sizeof(stats));
	CHECK_EQ(serve(n, req, (size_t)len, 512, &ctx), 3);
	CHECK_EQ(all_answers(as, 8), 3);
	CHECK(as[0].req_id == 31 && as[0].status == SN_LOOKUP_OK);
	CHECK(as[1].req_id == 32 && as[1].status == SN_LOOKUP_DENIED);
	CHECK(as[2].req_id == 33 && as[2].status == SN_LOOKUP_MALFORMED && as[2].op == 99);
	CHECK(stats.frames == 1 && stats.items == 3 && stats.denied == 1 &&
	      stats.malformed_items == 1 && stats.answers_frames == 1);
	ctx.key_id = 7; /* the scope's key: allowed, answers carry the flag */
	CHECK_EQ(serve(n, req, (size_t)len, 512, &ctx), 3);
	CHECK_EQ(all_answers(as, 8), 3);
	CHECK(as[1].status == SN_LOOKUP_OK && frames[0][6] == SN_LOOKUP_F_MAC &&
	      frames[0][7] == 7);
	CHECK(frame_len[0] <= 512 - SN_LOOKUP_MAC_LEN);
	check_truncations_end_bad(frames[0], frame_len[0], SN_LOOKUP_ANSWER);

	/* an item past the frame's end: the earlier ones answered, the rest
	 * dropped and counted */
	req[SN_LOOKUP_HDR_LEN + 17] = 200; /* item 2's len */
	memset(&stats, 0, sizeof(stats));
	CHECK_EQ(serve(n, req, (size_t)len, 512, NULL), 1);
	CHECK_EQ(all_answers(as, 8), 1);
	CHECK(as[0].req_id == 31 && stats.malformed_frames == 1);
	/* 200 items into 256-byte frames: many frames, every item once, in order */
	{
		static uint8_t big[8192];
		static struct sn_lookup_ans many[256];

		sn_lookup_enc_start(&e, big, sizeof(big), SN_LOOKUP_REQUEST, 0);
		for (uint32_t i = 0; i < 200; i++) {
			r = req_of(i % 2 ? SN_LOOKUP_OP_LOOKUP : SN_LOOKUP_OP_MEMBER_COUNT,
				   1000 + i, SCOPE, i % 2 ? "beta" : "g1", i % 2 ? 4 : 2);
			CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
		}
		len = sn_lookup_enc_end(&e);
		memset(&stats, 0, sizeof(stats));
		CHECK_EQ(serve(n, big, (size_t)len, 256, NULL), 200);
		CHECK(n_frames > 5 && stats.answers_frames == n_frames);
		CHECK_EQ(all_answers(many, 256), 200);
		for (uint32_t i = 0; i < 200; i++) {
			CHECK(many[i].req_id == 1000 + i && many[i].status == SN_LOOKUP_OK);
			if (i % 2)
				check_entry_pid(&many[i], &h2, "m2");
			else
				CHECK_EQ(many[i].count, 2);
		}
		/* more than SN_LOOKUP_ITEMS_MAX items: the encoder says no */
		sn_lookup_enc_start(&e, big, sizeof(big), SN_LOOKUP_REQUEST, 0);
		r = req_of(SN_LOOKUP_OP_GROUP_COUNT, 1, SCOPE, NULL, 0);
		for (int i = 0; i < SN_LOOKUP_ITEMS_MAX; i++)
			CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
		CHECK_EQ(sn_lookup_enc_req(&e, &r), -ENOSPC);
	}
	/* not a request frame at all */
	CHECK_EQ(serve(n, "SYNL", 4, 512, NULL), -EBADMSG);
	CHECK_EQ(n_frames, 0);
	CHECK_EQ(serve(n, frames[0], 0, 512, NULL), -EBADMSG);
	printf("serve basic: ok\n");
}

/* ------------------------------------------------------------- paging */

static void
test_members_paging(struct synode *n)
{
	enum { N = 1000 };
	static struct synode_pid pids[N];
	static bool seen[N];
	static uint8_t cursor[64];
	size_t cursor_len = 0;
	struct synode_pid prev = { 0, "" };
	unsigned got = 0, pages = 0, cut_by_cap = 0;
	char meta[32];

	for (int i = 0; i < N; i++) {
		CHECK_EQ(synode_handle_new(n, &pids[i]), 0);
		snprintf(meta, sizeof(meta), "member-%llu", (unsigned long long)pids[i].id);
		CHECK_EQ(synode_join(n, SCOPE, "big-group", 9, &pids[i], meta, strlen(meta)), 0);
	}
	CHECK(pids[N - 1].id - pids[0].id == N - 1); /* handle ids are consecutive */
	for (;;) {
		struct sn_lookup_req r = req_of(SN_LOOKUP_OP_MEMBERS, 100 + pages, SCOPE,
						"big-group", 9);
		struct sn_lookup_entry e;
		struct sn_lookup_ans a;
		size_t pos = 0;
		unsigned k = 0;

		r.limit = 1 + pages % 37;
		r.cursor = cursor_len ? cursor : NULL;
		r.cursor_len = cursor_len;
		a = ask(n, &r, 200 + (pages % 3) * 100);
		CHECK_EQ(a.status, SN_LOOKUP_OK);
		CHECK(a.n >= 1 && a.n <= r.limit);
		while (sn_lookup_next_entry(&a, &pos, &e) == 1) {
			uint64_t i = e.pid.id - pids[0].id;

			CHECK(synode_pid_cmp(&prev, &e.pid) < 0);
			CHECK(strcmp(e.pid.node, NODE) == 0 && i < N && !seen[i]);
			seen[i] = true;
			snprintf(meta, sizeof(meta), "member-%llu", (unsigned long long)e.pid.id);
			CHECK(e.meta_len == strlen(meta) && memcmp(e.meta, meta, e.meta_len) == 0);
			prev = e.pid;
			k++;
		}
		CHECK_EQ(k, a.n);
		got += k;
		pages++;
		if (a.n < r.limit && a.more)
			cut_by_cap++;
		if (!a.more) {
			CHECK_EQ(a.cursor_len, 0);
			break;
		}
		/* the cursor is the last pid's pidkey */
		CHECK(a.cursor_len == strlen(NODE) + 9 &&
		      memcmp(a.cursor, NODE, strlen(NODE) + 1) == 0);
		uint64_t id = 0;
		for (int b = 0; b < 8; b++)
			id = id << 8 | ((const uint8_t *)a.cursor)[strlen(NODE) + 1 + b];
		CHECK(id == prev.id);
		memcpy(cursor, a.cursor, a.cursor_len);
		cursor_len = a.cursor_len;
		CHECK(pages < 2 * N);
	}
	CHECK_EQ(got, N);
	CHECK(cut_by_cap > 0);
	printf("members paging: %u pages, %u cut by the frame\n", pages, cut_by_cap);
}

static void
scan_all(struct synode *n, enum sn_lookup_op op, const char *key, const char *to,
	 const char *lo, const char *hi, unsigned expect, const char *first_meta_check)
{
	static uint8_t cursor[SYNODE_NAME_MAX_LIMIT];
	static char prev[64];
	size_t cursor_len = 0;
	unsigned got = 0, pages = 0, cut = 0;

	(void)first_meta_check;
	prev[0] = 0;
	for (;;) {
		struct sn_lookup_req r = req_of(op, 500 + pages, SCOPE, key, strlen(key));
		struct sn_lookup_entry e;
		struct sn_lookup_ans a;
		size_t pos = 0;

		r.to = to;
		r.to_len = to ? strlen(to) : 0;
		r.limit = 1 + pages % 11;
		r.cursor = cursor_len ? cursor : NULL;
		r.cursor_len = cursor_len;
		a = ask(n, &r, 160 + (pages % 4) * 80);
		CHECK_EQ(a.status, SN_LOOKUP_OK);
		while (sn_lookup_next_entry(&a, &pos, &e) == 1) {
			char name[64], meta[80];

			CHECK(e.name_len < sizeof(name));
			memcpy(name, e.name, e.name_len);
			name[e.name_len] = 0;
			CHECK_MSG(strcmp(prev, name) < 0, "%s after %s", name, prev);
			CHECK(strcmp(name, lo) >= 0 && strcmp(name, hi) < 0);
			snprintf(meta, sizeof(meta), "meta of %s", name);
			CHECK(e.meta_len == strlen(meta) && memcmp(e.meta, meta, e.meta_len) == 0);
			strcpy(prev, name);
			got++;
		}
		pages++;
		if (a.more && a.n < r.limit)
			cut++;
		if (!a.more)
			break;
		CHECK(a.cursor_len == strlen(prev) && memcmp(a.cursor, prev, a.cursor_len) == 0);
		memcpy(cursor, a.cursor, a.cursor_len);
		cursor_len = a.cursor_len;
		CHECK(pages < 10000);
	}
	CHECK_EQ(got, expect);
	CHECK(cut > 0 || expect < 20);
	printf("scan %s..%s: %u names, %u pages, %u cut by the frame\n", lo, hi, got, pages,
	       cut);
}

static void
test_scans(struct synode *n)
{
	struct synode_pid h;
	char name[64], meta[80];

	CHECK_EQ(synode_handle_new(n, &h), 0);
	for (int i = 0; i < 600; i++) {
		/* registered out of order */
		int k = (i * 7919) % 600;

		snprintf(name, sizeof(name), "route/%04d/%s", k, k % 2 ? "odd-long-suffix" : "e");
		snprintf(meta, sizeof(meta), "meta of %s", name);
		CHECK_EQ(synode_register(n, SCOPE, name, strlen(name), &h, meta, strlen(meta)), 0);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "rout%d", i);
		snprintf(meta, sizeof(meta), "meta of %s", name);
		CHECK_EQ(synode_register(n, SCOPE, name, strlen(name), &h, meta, strlen(meta)), 0);
		snprintf(name, sizeof(name), "route0%d", i);
		snprintf(meta, sizeof(meta), "meta of %s", name);
		CHECK_EQ(synode_register(n, SCOPE, name, strlen(name), &h, meta, strlen(meta)), 0);
	}
	scan_all(n, SN_LOOKUP_OP_SCAN_PREFIX, "route/", NULL, "route/", "route0", 600, NULL);
	scan_all(n, SN_LOOKUP_OP_SCAN_PREFIX, "route/01", NULL, "route/01", "route/02", 100, NULL);
	scan_all(n, SN_LOOKUP_OP_SCAN_RANGE, "route/0100", "route/0250", "route/0100",
		 "route/0250", 150, NULL);
	scan_all(n, SN_LOOKUP_OP_SCAN_RANGE, "rout3", "route/0003", "rout3", "route/0003", 5,
		 NULL);
	scan_all(n, SN_LOOKUP_OP_SCAN_PREFIX, "nothing", NULL, "nothing", "nothinh", 0, NULL);
	/* the whole of it: from "" to the end (skips "dead": its holder is dead) */
	scan_all(n, SN_LOOKUP_OP_SCAN_RANGE, "route", "", "route", "\x7f", 605, NULL);
	/* a name taken away is gone from scans */
	CHECK_EQ(synode_unregister(n, SCOPE, "route/0001/odd-long-suffix", 26), 0);
	scan_all(n, SN_LOOKUP_OP_SCAN_PREFIX, "route/000", NULL, "route/000", "route/001", 9, NULL);
}

/* -------------------------------------------------------------- churn */

#define CHURN_NAMES 16

static _Atomic bool churn_stop;
static _Atomic uint64_t churn_version[CHURN_NAMES];

struct churn {
	struct synode *n;
	struct synode_pid h;
	uint64_t answers, scans;
};

static void *
churn_writer(void *arg)
{
	struct churn *c = arg;
	char name[16], meta[64];
	uint64_t v = 0;

	while (!atomic_load(&churn_stop)) {
		int i;

		v++;
		i = (int)(v % CHURN_NAMES);
		snprintf(name, sizeof(name), "churn-%02d", i);
		snprintf(meta, sizeof(meta), "%020llu/%020llu", (unsigned long long)v,
			 (unsigned long long)v);
		atomic_store(&churn_version[i], v);
		CHECK_EQ(synode_register(c->n, SCOPE, name, strlen(name), &c->h, meta,
					 strlen(meta)), 0);
		if (v % 7 == 0)
			CHECK_EQ(synode_unregister(c->n, SCOPE, name, strlen(name)), 0);
	}
	return NULL;
}

static uint64_t
meta_version(const struct sn_lookup_entry *e)
{
	char a[21], b[21];

	CHECK_EQ(e->meta_len, 41);
	memcpy(a, e->meta, 20);
	memcpy(b, (const char *)e->meta + 21, 20);
	a[20] = b[20] = 0;
	CHECK_MSG(strcmp(a, b) == 0, "torn meta %s / %s", a, b);
	return strtoull(a, NULL, 10);
}

static void *
churn_reader(void *arg)
{
	static struct sn_lookup_ans as[64];
	struct churn *c = arg;
	uint64_t last[CHURN_NAMES] = { 0 };
	uint8_t req[1024];
	char name[16];

	urcu_memb_register_thread();
	while (!atomic_load(&churn_stop)) {
		struct sn_lookup_enc e;
		struct sn_lookup_req r;
		unsigned k;
		int len;

		sn_lookup_enc_start(&e, req, sizeof(req), SN_LOOKUP_REQUEST, 0);
		for (int i = 0; i < CHURN_NAMES; i++) {
			snprintf(name, sizeof(name), "churn-%02d", i);
			r = req_of(SN_LOOKUP_OP_LOOKUP, (uint32_t)i, SCOPE, name, strlen(name));
			CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
		}
		r = req_of(SN_LOOKUP_OP_SCAN_PREFIX, 1000, SCOPE, "churn-", 6);
		r.limit = CHURN_NAMES;
		CHECK_EQ(sn_lookup_enc_req(&e, &r), 0);
		len = sn_lookup_enc_end(&e);
		CHECK_EQ(serve(c->n, req, (size_t)len, 2048, NULL), CHURN_NAMES + 1);
		k = all_answers(as, 64);
		CHECK_EQ(k, CHURN_NAMES + 1);
		for (unsigned j = 0; j < k; j++) {
			struct sn_lookup_entry en;
			size_t pos = 0;

			if (as[j].status == SN_LOOKUP_UNDEFINED)
				continue;
			CHECK_EQ(as[j].status, SN_LOOKUP_OK);
			while (sn_lookup_next_entry(&as[j], &pos, &en) == 1) {
				uint64_t v = meta_version(&en);
				unsigned i = as[j].req_id < CHURN_NAMES ? as[j].req_id
					: (unsigned)strtoul((const char *)en.name + 6, NULL, 10);

				CHECK(i < CHURN_NAMES && v % CHURN_NAMES == i);
				/* written before it was read */
				CHECK(v <= atomic_load(&churn_version[i]));
				if (as[j].req_id < CHURN_NAMES) {
					CHECK_MSG(v >= last[i], "version back %llu < %llu",
						  (unsigned long long)v,
						  (unsigned long long)last[i]);
					last[i] = v;
				}
				c->scans += as[j].req_id >= CHURN_NAMES;
			}
			c->answers++;
		}
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static void
test_churn(struct synode *n, unsigned ms)
{
	struct churn c = { n, { 0, "" }, 0, 0 };
	pthread_t w, r;
	uint64_t t0 = tu_now_ns();

	CHECK_EQ(synode_handle_new(n, &c.h), 0);
	CHECK_EQ(pthread_create(&w, NULL, churn_writer, &c), 0);
	CHECK_EQ(pthread_create(&r, NULL, churn_reader, &c), 0);
	while (tu_now_ns() - t0 < (uint64_t)ms * 1000000u)
		usleep(10000);
	atomic_store(&churn_stop, true);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	CHECK(c.answers > 100);
	printf("churn: %llu answers (%llu scan entries), writer at version %llu\n",
	       (unsigned long long)c.answers, (unsigned long long)c.scans,
	       (unsigned long long)atomic_load(&churn_version[0]));
}

int
main(int argc, char **argv)
{
	struct synode *n;

	(void)argc;
	(void)argv;
	tu_seed = 1;
	test_codec();
	urcu_memb_register_thread();
	n = node_start();
	test_serve_basic(n);
	test_members_paging(n);
	test_scans(n);
	urcu_memb_unregister_thread();
	test_churn(n, 1500);
	synode_stop(n);
	printf("lookup: ok\n");
	return 0;
}
