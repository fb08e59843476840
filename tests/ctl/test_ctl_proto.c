/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the control-socket codec (control/ctl_proto.c). Proves:
 *   - every message type round-trips (encode, decode, compare every field
 *     the type carries, re-encode to the same bytes) at its smallest (empty
 *     names, meta and strings), its largest (63-byte scope and node names,
 *     SYNODE_NAME_MAX_LIMIT names, SYNODE_META_MAX_LIMIT meta and previous
 *     meta, 16 versions, extreme numbers) and a typical size;
 *   - every strict prefix of every such frame, alone in an exactly-sized
 *     heap buffer (so ASan sees any read past it), decodes to
 *     -CTL_ETRUNCATED, and a frame followed by more bytes decodes to its
 *     own length;
 *   - declared lengths over the limit (-CTL_ETOOBIG), under a header
 *     (-CTL_EBADLEN), one byte short or long (-CTL_EFIELD), other versions
 *     (-CTL_EVERSION), unknown types (-CTL_ETYPE), and each field out of
 *     range or overrunning the frame (-CTL_EFIELD), the peer figures of
 *     PEER_ITEM included;
 *   - the encoder refuses fields over their limits (-EINVAL) and every too
 *     small buffer (-ENOSPC) without writing past it;
 *   - random mutations of valid frames either fail to decode or decode to
 *     a message that re-encodes to the very same bytes (canonical form).
 *
 * Options: --seed N, --mutations N (default 200000).
 */
#include <errno.h>

#include "ctl_proto_internal.h"
#include "ctl_samples.h"
#include "ctl_test.h"

static uint8_t frame[CTL_FRAME_MAX];
static uint8_t frame2[CTL_FRAME_MAX];

/* Decodes @p len bytes copied into a heap buffer of exactly that size. */
static int
decode_exact(const void *buf, size_t len, struct ctl_msg *m)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int r;

	CHECK(copy != NULL);
	memcpy(copy, buf, len);
	r = ctl_decode(copy, len, m);
	/* A decoded message points into copy: the caller compares bytes
	 * against the original, so point it there instead. */
	if (r > 0) {
		if (m->key != NULL)
			m->key = (const uint8_t *)buf + ((const uint8_t *)m->key - copy);
		if (m->meta != NULL)
			m->meta = (const uint8_t *)buf + ((const uint8_t *)m->meta - copy);
		if (m->prev_meta != NULL)
			m->prev_meta =
				(const uint8_t *)buf + ((const uint8_t *)m->prev_meta - copy);
	}
	free(copy);
	return r;
}

/* Checks that @p got carries every field of @p want that the type has. */
static void
check_same(const struct ctl_msg *want, const struct ctl_msg *got)
{
	unsigned f = ctl_sample_fields(want->type);

	CHECK_EQ(got->type, want->type);
	CHECK_EQ(got->req_id, want->req_id);
	if (f & CF_SCOPE)
		CHECK(strcmp(got->scope, want->scope) == 0);
	if (f & CF_NODE) {
		CHECK(got->has_node);
		CHECK(strcmp(got->node, want->node) == 0);
	}
	if (f & CF_NODE_OPT) {
		CHECK_EQ(got->has_node, want->has_node);
		if (want->has_node)
			CHECK(strcmp(got->node, want->node) == 0);
	}
	if ((f & CF_KEY) || ((f & CF_WATCH) && want->kind != CTL_WATCH_SCOPE)) {
		CHECK_EQ(got->key_len, want->key_len);
		CHECK_MEM(got->key, want->key, want->key_len);
	}
	if (f & CF_META) {
		CHECK_EQ(got->meta_len, want->meta_len);
		CHECK_MEM(got->meta, want->meta, want->meta_len);
	}
	if (f & CF_PREV) {
		CHECK_EQ(got->has_prev_meta, want->has_prev_meta);
		if (want->has_prev_meta) {
			CHECK_EQ(got->prev_meta_len, want->prev_meta_len);
			CHECK_MEM(got->prev_meta, want->prev_meta, want->prev_meta_len);
		}
	}
	if (f & CF_PID) {
		CHECK(got->pid.id == want->pid.id);
		CHECK(strcmp(got->pid.node, want->pid.node) == 0);
	}
	if (f & CF_TIME) {
		CHECK(got->time.wall_ns == want->time.wall_ns);
		CHECK_EQ(got->time.logical, want->time.logical);
	}
	if (f & CF_VALUE)
		CHECK(got->value == want->value);
	if (f & CF_VERSIONS) {
		CHECK_EQ(got->n_versions, want->n_versions);
		CHECK_MEM(got->versions, want->versions, want->n_versions * sizeof(uint16_t));
	}
	if (f & CF_VERSION)
		CHECK_EQ(got->version, want->version);
	if (f & CF_LIMITS) {
		CHECK_EQ(got->max_name_len, want->max_name_len);
		CHECK_EQ(got->max_meta_len, want->max_meta_len);
		CHECK_EQ(got->flags, want->flags);
	}
	if (f & CF_STATS)
		CHECK_MEM(&got->stats, &want->stats, sizeof(want->stats));
	if (f & (CF_WATCH | CF_EVKIND))
		CHECK_EQ(got->kind, want->kind);
	if (f & CF_REASON) {
		CHECK_EQ(got->reason.kind, want->reason.kind);
		CHECK_EQ(got->reason.code, want->reason.code);
	}
	if (f & CF_ERROR) {
		CHECK_EQ(got->code, want->code);
		CHECK(strcmp(got->text, want->text) == 0);
	}
	if (f & CF_PEER) {
		CHECK(strcmp(got->state, want->state) == 0);
		CHECK(strcmp(got->address, want->address) == 0);
		CHECK_EQ(got->peer.version, want->peer.version);
		CHECK(got->peer.rtt_ns == want->peer.rtt_ns);
		CHECK(got->peer.frames_tx == want->peer.frames_tx);
		CHECK(got->peer.frames_rx == want->peer.frames_rx);
		CHECK(got->peer.bytes_tx == want->peer.bytes_tx);
		CHECK(got->peer.bytes_rx == want->peer.bytes_rx);
		CHECK(got->peer.retransmits == want->peer.retransmits);
		CHECK(got->peer.drops == want->peer.drops);
	}
}

static void
test_round_trip(void)
{
	struct ctl_msg m, d;
	unsigned n = 0;

	for (size_t t = 0; t < CTL_SAMPLE_NTYPES; t++) {
		for (int v = 0; v < CTL_SAMPLE_VARIANTS; v++) {
			uint16_t type = ctl_sample_types[t];
			int len, len2;

			CHECK(ctl_msg_type_valid(type));
			ctl_sample(&m, type, v);
			len = ctl_encode(&m, frame, sizeof(frame));
			CHECK_MSG(len >= CTL_HDR_LEN, "type 0x%x variant %d: %d", type, v, len);
			CHECK_EQ(decode_exact(frame, (size_t)len, &d), len);
			check_same(&m, &d);
			len2 = ctl_encode(&d, frame2, sizeof(frame2));
			CHECK_EQ(len2, len);
			CHECK_MEM(frame2, frame, (size_t)len);
			n++;
		}
	}
	/* A frame followed by another decodes as the first alone. */
	ctl_sample(&m, CTL_MSG_REGISTER, CTL_SAMPLE_TYPICAL);
	int l1 = ctl_encode(&m, frame, sizeof(frame));
	ctl_sample(&m, CTL_MSG_STATUS, CTL_SAMPLE_MIN);
	int l2 = ctl_encode(&m, frame + l1, sizeof(frame) - (size_t)l1);
	CHECK(l1 > 0 && l2 > 0);
	CHECK_EQ(ctl_decode(frame, (size_t)(l1 + l2), &d), l1);
	CHECK_EQ(d.type, CTL_MSG_REGISTER);
	CHECK_EQ(ctl_decode(frame + l1, (size_t)l2, &d), l2);
	CHECK_EQ(d.type, CTL_MSG_STATUS);
	printf("round trip: %u messages (%zu types x %d sizes)\n", n, CTL_SAMPLE_NTYPES,
	       (int)CTL_SAMPLE_VARIANTS);
}

static void
put_le(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
test_truncated(void)
{
	struct ctl_msg m, d;
	unsigned long checked = 0;

	for (size_t t = 0; t < CTL_SAMPLE_NTYPES; t++) {
		for (int v = 0; v < CTL_SAMPLE_VARIANTS; v++) {
			int len;

			ctl_sample(&m, ctl_sample_types[t], v);
			len = ctl_encode(&m, frame, sizeof(frame));
			CHECK(len > 0);
			/* Every strict prefix, for small frames; for large ones
			 * the header, the first and last 600 bytes, and a
			 * stride in between (all of them would be 10^10
			 * byte copies under ASan). */
			for (int cut = 0; cut < len; cut++) {
				if (len > 2000 && cut > 600 && cut < len - 600 && cut % 97 != 0)
					continue;
				CHECK_MSG(decode_exact(frame, (size_t)cut, &d) == -CTL_ETRUNCATED,
					  "type 0x%x variant %d cut at %d of %d", m.type, v,
					  cut, len);
				checked++;
			}
		}
	}
	printf("truncated: %lu prefixes\n", checked);
}

static void
test_header_errors(void)
{
	struct ctl_msg m, d;
	int len;

	ctl_sample(&m, CTL_MSG_LOOKUP, CTL_SAMPLE_TYPICAL);
	len = ctl_encode(&m, frame, sizeof(frame));
	CHECK(len > CTL_HDR_LEN);

	/* Declared length over the limit: known from the header alone. */
	memcpy(frame2, frame, (size_t)len);
	put_le(frame2, 4, CTL_FRAME_MAX + 1);
	CHECK_EQ(decode_exact(frame2, CTL_HDR_LEN, &d), -CTL_ETOOBIG);
	CHECK_EQ(decode_exact(frame2, (size_t)len, &d), -CTL_ETOOBIG);
	put_le(frame2, 4, UINT32_MAX);
	CHECK_EQ(decode_exact(frame2, CTL_HDR_LEN, &d), -CTL_ETOOBIG);
	/* Exactly the limit is allowed (then truncated here). */
	put_le(frame2, 4, CTL_FRAME_MAX);
	CHECK_EQ(decode_exact(frame2, (size_t)len, &d), -CTL_ETRUNCATED);

	/* Under a header. */
	for (uint32_t l = 0; l < CTL_HDR_LEN; l++) {
		put_le(frame2, 4, l);
		CHECK_EQ(decode_exact(frame2, (size_t)len, &d), -CTL_EBADLEN);
	}

	/* One byte short: the last field overruns; one long: a byte left. */
	memcpy(frame2, frame, (size_t)len);
	put_le(frame2, 4, (uint64_t)len - 1);
	CHECK_EQ(decode_exact(frame2, (size_t)len - 1, &d), -CTL_EFIELD);
	memcpy(frame2, frame, (size_t)len);
	frame2[len] = 0;
	put_le(frame2, 4, (uint64_t)len + 1);
	CHECK_EQ(decode_exact(frame2, (size_t)len + 1, &d), -CTL_EFIELD);
	/* A type without fields and a trailing byte. */
	ctl_sample(&m, CTL_MSG_STATUS, CTL_SAMPLE_MIN);
	CHECK_EQ(ctl_encode(&m, frame2, sizeof(frame2)), CTL_HDR_LEN);
	frame2[CTL_HDR_LEN] = 0;
	put_le(frame2, 4, CTL_HDR_LEN + 1);
	CHECK_EQ(decode_exact(frame2, CTL_HDR_LEN + 1, &d), -CTL_EFIELD);

	/* Versions: only 1. */
	const uint16_t bad_versions[] = {0, 2, 3, 0x100, UINT16_MAX};
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		memcpy(frame2, frame, (size_t)len);
		put_le(frame2 + 4, 2, bad_versions[i]);
		CHECK_EQ(decode_exact(frame2, (size_t)len, &d), -CTL_EVERSION);
		CHECK_EQ(decode_exact(frame2, CTL_HDR_LEN, &d), -CTL_EVERSION);
	}

	/* Types: every value outside the two ranges. */
	unsigned unknown = 0;
	for (unsigned type = 0; type <= UINT16_MAX; type++) {
		bool known = false;

		for (size_t t = 0; t < CTL_SAMPLE_NTYPES; t++)
			known |= ctl_sample_types[t] == type;
		CHECK_EQ(ctl_msg_type_valid(type), known);
		if (known)
			continue;
		memcpy(frame2, frame, (size_t)len);
		put_le(frame2 + 6, 2, type);
		CHECK_EQ(ctl_decode(frame2, (size_t)len, &d), -CTL_ETYPE);
		unknown++;
	}
	CHECK_EQ(unknown, 65536 - CTL_SAMPLE_NTYPES);

	/* Header peek. */
	uint32_t fl, id;
	uint16_t ver, type;
	CHECK_EQ(ctl_peek_header(frame, CTL_HDR_LEN - 1, &fl, &ver, &type, &id),
		 -CTL_ETRUNCATED);
	CHECK_EQ(ctl_peek_header(frame, CTL_HDR_LEN, &fl, &ver, &type, &id), 0);
	CHECK_EQ(fl, len);
	CHECK_EQ(ver, CTL_PROTO_VERSION);
	CHECK_EQ(type, CTL_MSG_LOOKUP);
	CHECK_EQ(id, 42);
	for (int e = 1; e <= CTL_EFIELD; e++)
		CHECK(strcmp(ctl_decode_strerror(-e), "unknown decoder error") != 0);
	printf("header errors: ok\n");
}

/* Encodes @p m, applies @p patch at byte @p off (relative to the first
 * field) and expects -CTL_EFIELD. */
static void
expect_field_error(const struct ctl_msg *m, size_t off, const uint8_t *patch, size_t n,
		   const char *what)
{
	struct ctl_msg d;
	int len = ctl_encode(m, frame2, sizeof(frame2));

	CHECK(len > 0);
	CHECK_MSG((size_t)len >= CTL_HDR_LEN + off + n, "%s", what);
	memcpy(frame2 + CTL_HDR_LEN + off, patch, n);
	CHECK_MSG(decode_exact(frame2, (size_t)len, &d) == -CTL_EFIELD, "%s", what);
}

static void
test_field_errors(void)
{
	struct ctl_msg m;
	uint8_t b[8];

	/* Scope: length over 63, a length past the frame, a NUL inside. */
	ctl_sample(&m, CTL_MSG_ADD_SCOPE, CTL_SAMPLE_TYPICAL); /* "users" */
	b[0] = SYNODE_SCOPE_NAME_MAX + 1;
	expect_field_error(&m, 0, b, 1, "scope of 64 bytes");
	b[0] = 6;
	expect_field_error(&m, 0, b, 1, "scope past the frame");
	b[0] = 0;
	expect_field_error(&m, 2, b, 1, "NUL in a scope");

	/* Key: over SYNODE_NAME_MAX_LIMIT, past the frame. */
	ctl_sample(&m, CTL_MSG_LOOKUP, CTL_SAMPLE_TYPICAL); /* scope "users", key 5 */
	put_le(b, 2, SYNODE_NAME_MAX_LIMIT + 1);
	expect_field_error(&m, 6, b, 2, "key over the limit");
	put_le(b, 2, 6);
	expect_field_error(&m, 6, b, 2, "key past the frame");
	put_le(b, 2, UINT16_MAX);
	expect_field_error(&m, 6, b, 2, "key length 65535");

	/* Meta: over SYNODE_META_MAX_LIMIT, past the frame. */
	ctl_sample(&m, CTL_MSG_UPDATE, CTL_SAMPLE_TYPICAL); /* 6 + 7 bytes, meta 11 */
	put_le(b, 4, SYNODE_META_MAX_LIMIT + 1);
	expect_field_error(&m, 13, b, 4, "meta over the limit");
	put_le(b, 4, 12);
	expect_field_error(&m, 13, b, 4, "meta past the frame");
	put_le(b, 4, UINT32_MAX);
	expect_field_error(&m, 13, b, 4, "meta length 2^32-1");

	/* Pid node: over 63; NUL. */
	ctl_sample(&m, CTL_MSG_HANDLE_CLOSE, CTL_SAMPLE_TYPICAL); /* "node-a" */
	b[0] = SYNODE_NODE_NAME_MAX + 1;
	expect_field_error(&m, 0, b, 1, "pid node of 64 bytes");
	b[0] = 0;
	expect_field_error(&m, 1, b, 1, "NUL in a pid node");

	/* Node filter flag other than 0/1. */
	ctl_sample(&m, CTL_MSG_REGISTRY, CTL_SAMPLE_TYPICAL); /* "users", 1 "node-a" */
	b[0] = 2;
	expect_field_error(&m, 6, b, 1, "node filter flag 2");
	ctl_sample(&m, CTL_MSG_REGISTRY, CTL_SAMPLE_MIN); /* "", 0 */
	b[0] = 1;
	expect_field_error(&m, 1, b, 1, "node filter flag 1 without a name");

	/* Watch kind 3; a key kind without its key. */
	ctl_sample(&m, CTL_MSG_WATCH, CTL_SAMPLE_MIN); /* "", kind 0 */
	b[0] = 3;
	expect_field_error(&m, 1, b, 1, "watch kind 3");
	b[0] = CTL_WATCH_NAME;
	expect_field_error(&m, 1, b, 1, "watch by name without a name");

	/* Event kind, reason kind, previous-meta flag. */
	ctl_sample(&m, CTL_MSG_EVENT, CTL_SAMPLE_MIN);
	/* kind, scope "", key 0, pid "" + id, meta 0, prev 0, reason */
	b[0] = SYNODE_EV_LEFT + 1;
	expect_field_error(&m, 0, b, 1, "event kind 6");
	b[0] = 2;
	expect_field_error(&m, 1 + 1 + 2 + 1 + 8 + 4, b, 1, "prev_meta flag 2");
	b[0] = SYNODE_REASON_UNDEFINED + 1;
	expect_field_error(&m, 1 + 1 + 2 + 1 + 8 + 4 + 1, b, 1, "reason kind 7");

	/* Limits flags: unknown bits. */
	ctl_sample(&m, CTL_MSG_HELLO_OK, CTL_SAMPLE_MIN); /* version, node "", limits */
	b[0] = 0x02;
	expect_field_error(&m, 2 + 1 + 8, b, 1, "unknown HELLO_OK flag");

	/* Versions: more than 16; more than the frame holds. */
	ctl_sample(&m, CTL_MSG_HELLO, CTL_SAMPLE_MAX);
	b[0] = CTL_VERSIONS_MAX + 1;
	expect_field_error(&m, 0, b, 1, "17 versions");
	ctl_sample(&m, CTL_MSG_HELLO, CTL_SAMPLE_TYPICAL);
	b[0] = 2;
	expect_field_error(&m, 0, b, 1, "versions past the frame");

	/* Peer: state or address over 63 bytes or holding a NUL; figures cut
	 * short (a frame one byte short of the last u64). */
	ctl_sample(&m, CTL_MSG_PEER_ITEM, CTL_SAMPLE_TYPICAL);
	/* node "node-a" (7), scope "users" (6), state "up" (3), address
	 * "10.0.0.2:4370" (14), version (4), 7 x u64 */
	b[0] = CTL_STR_MAX + 1;
	expect_field_error(&m, 7 + 6, b, 1, "peer state of 64 bytes");
	expect_field_error(&m, 7 + 6 + 3, b, 1, "peer address of 64 bytes");
	b[0] = 0;
	expect_field_error(&m, 7 + 6 + 1, b, 1, "NUL in a peer state");
	expect_field_error(&m, 7 + 6 + 3 + 5, b, 1, "NUL in a peer address");
	{
		struct ctl_msg d;
		int len = ctl_encode(&m, frame2, sizeof(frame2));

		CHECK_EQ(len, CTL_HDR_LEN + 7 + 6 + 3 + 14 + 4 + 7 * 8);
		put_le(frame2, 4, (uint64_t)len - 1);
		CHECK_EQ(decode_exact(frame2, (size_t)len - 1, &d), -CTL_EFIELD);
	}

	/* Error text over 127 bytes. */
	ctl_sample(&m, CTL_MSG_ERROR, CTL_SAMPLE_MIN);
	b[0] = CTL_TEXT_MAX + 1;
	expect_field_error(&m, 4, b, 1, "error text of 128 bytes");
	printf("field errors: ok\n");
}

/* Builds a frame of @p type from a body of @p n bytes. */
static size_t
raw_frame(uint16_t type, const uint8_t *body, size_t n)
{
	put_le(frame2, 4, CTL_HDR_LEN + n);
	put_le(frame2 + 4, 2, CTL_PROTO_VERSION);
	put_le(frame2 + 6, 2, type);
	put_le(frame2 + 8, 4, 1);
	memcpy(frame2 + CTL_HDR_LEN, body, n);
	return CTL_HDR_LEN + n;
}

/* Fields over their limits with every byte present (not overrunning):
 * refused for the limit itself; at the limit, accepted. */
static void
test_limits_with_bytes(void)
{
	static uint8_t body[CTL_FRAME_MAX];
	struct ctl_msg d;
	size_t n;

	for (int over = 0; over <= 1; over++) {
		int want_ok = over ? -CTL_EFIELD : 0;
		size_t len;

		/* ADD_SCOPE: scope of 63 + over bytes. */
		n = 0;
		body[n++] = (uint8_t)(SYNODE_SCOPE_NAME_MAX + over);
		memset(body + n, 's', SYNODE_SCOPE_NAME_MAX + (size_t)over);
		n += SYNODE_SCOPE_NAME_MAX + (size_t)over;
		len = raw_frame(CTL_MSG_ADD_SCOPE, body, n);
		CHECK_EQ(decode_exact(frame2, len, &d), over ? want_ok : (int)len);

		/* LOOKUP: scope "s", key of SYNODE_NAME_MAX_LIMIT + over. */
		n = 0;
		body[n++] = 1;
		body[n++] = 's';
		put_le(body + n, 2, SYNODE_NAME_MAX_LIMIT + (unsigned)over);
		n += 2;
		memset(body + n, 0, SYNODE_NAME_MAX_LIMIT + (size_t)over);
		n += SYNODE_NAME_MAX_LIMIT + (size_t)over;
		len = raw_frame(CTL_MSG_LOOKUP, body, n);
		CHECK_EQ(decode_exact(frame2, len, &d), over ? want_ok : (int)len);

		/* LOOKUP_OK: pid "", 0; meta of SYNODE_META_MAX_LIMIT + over. */
		n = 0;
		body[n++] = 0;
		memset(body + n, 0, 8);
		n += 8;
		put_le(body + n, 4, SYNODE_META_MAX_LIMIT + (unsigned)over);
		n += 4;
		memset(body + n, 0xff, SYNODE_META_MAX_LIMIT + (size_t)over);
		n += SYNODE_META_MAX_LIMIT + (size_t)over;
		len = raw_frame(CTL_MSG_LOOKUP_OK, body, n);
		CHECK_EQ(decode_exact(frame2, len, &d), over ? want_ok : (int)len);

		/* HELLO: 16 + over versions. */
		n = 0;
		body[n++] = (uint8_t)(CTL_VERSIONS_MAX + over);
		memset(body + n, 1, 2 * (CTL_VERSIONS_MAX + (size_t)over));
		n += 2 * (CTL_VERSIONS_MAX + (size_t)over);
		len = raw_frame(CTL_MSG_HELLO, body, n);
		CHECK_EQ(decode_exact(frame2, len, &d), over ? want_ok : (int)len);

		/* ERROR: text of 127 + over bytes, no versions. */
		n = 0;
		put_le(body, 4, (uint32_t)-EBADMSG);
		n += 4;
		body[n++] = (uint8_t)(CTL_TEXT_MAX + over);
		memset(body + n, 't', CTL_TEXT_MAX + (size_t)over);
		n += CTL_TEXT_MAX + (size_t)over;
		body[n++] = 0;
		len = raw_frame(CTL_MSG_ERROR, body, n);
		CHECK_EQ(decode_exact(frame2, len, &d), over ? want_ok : (int)len);

		/* PEER_ITEM: node "n", scope "s", state of 63 + over, address "",
		 * figures; then state "", address of 63 + over. */
		for (int field = 0; field < 2; field++) {
			n = 0;
			body[n++] = 1;
			body[n++] = 'n';
			body[n++] = 1;
			body[n++] = 's';
			for (int k = 0; k < 2; k++) {
				size_t l = k == field ? CTL_STR_MAX + (size_t)over : 0;

				body[n++] = (uint8_t)l;
				memset(body + n, k == 0 ? 'u' : '1', l);
				n += l;
			}
			memset(body + n, 0xff, 4 + 7 * 8);
			n += 4 + 7 * 8;
			len = raw_frame(CTL_MSG_PEER_ITEM, body, n);
			CHECK_EQ(decode_exact(frame2, len, &d), over ? want_ok : (int)len);
			if (!over) {
				CHECK_EQ(strlen(field == 0 ? d.state : d.address), CTL_STR_MAX);
				CHECK_EQ(d.peer.version, UINT32_MAX);
				CHECK(d.peer.rtt_ns == UINT64_MAX && d.peer.drops == UINT64_MAX);
			}
		}
	}
	printf("limits with every byte present: ok\n");
}

static void
test_encoder_errors(void)
{
	struct ctl_msg m;
	uint8_t key[SYNODE_NAME_MAX_LIMIT + 1] = {0};
	static uint8_t meta[SYNODE_META_MAX_LIMIT + 1];

	ctl_sample(&m, CTL_MSG_REGISTER, CTL_SAMPLE_TYPICAL);
	m.key = key;
	m.key_len = SYNODE_NAME_MAX_LIMIT + 1;
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	m.key_len = SYNODE_NAME_MAX_LIMIT;
	m.meta = meta;
	m.meta_len = SYNODE_META_MAX_LIMIT + 1;
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	m.meta_len = 0;
	memset(m.scope, 'x', SYNODE_SCOPE_NAME_MAX + 1); /* no NUL within 64 */
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_sample(&m, CTL_MSG_REGISTER, CTL_SAMPLE_TYPICAL);
	m.key = NULL; /* length without bytes */
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_sample(&m, CTL_MSG_WATCH, CTL_SAMPLE_TYPICAL);
	m.kind = 3;
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_sample(&m, CTL_MSG_EVENT, CTL_SAMPLE_TYPICAL);
	m.kind = SYNODE_EV_LEFT + 1;
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_sample(&m, CTL_MSG_EVENT, CTL_SAMPLE_TYPICAL);
	m.reason.kind = (enum synode_reason_kind)(SYNODE_REASON_UNDEFINED + 1);
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_sample(&m, CTL_MSG_HELLO, CTL_SAMPLE_TYPICAL);
	m.n_versions = CTL_VERSIONS_MAX + 1;
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_sample(&m, CTL_MSG_HELLO_OK, CTL_SAMPLE_TYPICAL);
	m.flags = 0x80;
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_msg_init(&m, 0, 0);
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_msg_init(&m, CTL_MSG_REQUEST_END, 0);
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);
	ctl_msg_init(&m, CTL_MSG_ANSWER_END, 0);
	CHECK_EQ(ctl_encode(&m, frame, sizeof(frame)), -EINVAL);

	/* Every buffer size short of the frame: -ENOSPC, nothing written
	 * past the size (the guard bytes after it stay). */
	for (size_t t = 0; t < CTL_SAMPLE_NTYPES; t++) {
		ctl_sample(&m, ctl_sample_types[t], CTL_SAMPLE_TYPICAL);
		int len = ctl_encode(&m, frame, sizeof(frame));

		CHECK(len > 0);
		for (int size = 0; size < len; size++) {
			memset(frame2, 0xa5, (size_t)len + 16);
			CHECK_EQ(ctl_encode(&m, frame2, (size_t)size), -ENOSPC);
			for (int i = size; i < len + 16; i++)
				CHECK_MSG(frame2[i] == 0xa5, "type 0x%x size %d: byte %d written",
					  m.type, size, i);
		}
		CHECK_EQ(ctl_encode(&m, frame2, (size_t)len), len);
		CHECK_MEM(frame2, frame, (size_t)len);
	}

	/* The helpers. */
	struct ctl_msg d;
	int len = ctl_encode_error(frame, sizeof(frame), 7, -EPROTONOSUPPORT,
				   "a text much longer than the limit of the field, which "
				   "the encoder cuts at 127 bytes rather than failing, so "
				   "that an error frame always goes out");
	CHECK(len > 0);
	CHECK_EQ(ctl_decode(frame, (size_t)len, &d), len);
	CHECK_EQ(d.type, CTL_MSG_ERROR);
	CHECK_EQ(d.req_id, 7);
	CHECK_EQ(d.code, -EPROTONOSUPPORT);
	CHECK_EQ(strlen(d.text), CTL_TEXT_MAX);
	CHECK_EQ(d.n_versions, 1);
	CHECK_EQ(d.versions[0], CTL_PROTO_VERSION);
	len = ctl_encode_result(frame, sizeof(frame), CTL_MSG_END, 9, -SYNODE_EINVALID_SCOPE);
	CHECK_EQ(ctl_decode(frame, (size_t)len, &d), len);
	CHECK_EQ(d.type, CTL_MSG_END);
	CHECK_EQ(d.value, -SYNODE_EINVALID_SCOPE);
	CHECK_EQ(ctl_encode_result(frame, sizeof(frame), CTL_MSG_PID, 9, 0), -EINVAL);
	printf("encoder errors: ok\n");
}

/* Random byte changes, insertions of length bytes, and cuts of valid
 * frames: a decode either fails, or its message re-encodes to the same
 * bytes (no two encodings of one message; nothing read out of bounds). */
static void
test_mutations(unsigned long count)
{
	struct ctl_msg m, d;
	unsigned long ok = 0, fail = 0;

	for (unsigned long i = 0; i < count; i++) {
		uint16_t type = ctl_sample_types[ct_rand() % CTL_SAMPLE_NTYPES];
		int variant = ct_rand() % 8 == 0 ? CTL_SAMPLE_MAX
			      : ct_rand() % 2	  ? CTL_SAMPLE_TYPICAL
						  : CTL_SAMPLE_MIN;
		int len, r;

		ctl_sample(&m, type, variant);
		len = ctl_encode(&m, frame, sizeof(frame));
		CHECK(len > 0);
		unsigned nmut = 1 + (unsigned)(ct_rand() % 3);
		for (unsigned k = 0; k < nmut; k++) {
			size_t at = (size_t)(ct_rand() % (uint64_t)len);

			switch (ct_rand() % 3) {
			case 0: frame[at] = (uint8_t)ct_rand(); break;
			case 1: frame[at] ^= (uint8_t)(1u << (ct_rand() % 8)); break;
			default: frame[at] = (uint8_t)(ct_rand() % 3); break;
			}
		}
		/* Keep the header's length mostly right so fields get tested. */
		if (ct_rand() % 4 != 0)
			put_le(frame, 4, (uint64_t)len);
		r = decode_exact(frame, (size_t)len, &d);
		if (r > 0) {
			CHECK(r <= len);
			CHECK_EQ(ctl_encode(&d, frame2, sizeof(frame2)), r);
			CHECK_MEM(frame2, frame, (size_t)r);
			ok++;
		} else {
			CHECK(r >= -CTL_EFIELD && r <= -CTL_ETRUNCATED);
			fail++;
		}
	}
	printf("mutations: %lu decoded and re-encoded identically, %lu refused\n", ok, fail);
	CHECK(ok > 0 && fail > 0);
}

int
main(int argc, char **argv)
{
	unsigned long mutations = 200000;
	int i = ct_parse_seed(argc, argv);

	for (; i < argc; i++) {
		if (strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
			mutations = strtoul(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			ct_set_seed(strtoull(argv[++i], NULL, 0));
		} else {
			fprintf(stderr, "usage: %s [--seed N] [--mutations N]\n", argv[0]);
			return 2;
		}
	}
	test_round_trip();
	test_truncated();
	test_header_errors();
	test_field_errors();
	test_limits_with_bytes();
	test_encoder_errors();
	test_mutations(mutations);
	printf("ok\n");
	return 0;
}
