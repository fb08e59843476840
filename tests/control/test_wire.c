/* SPDX-License-Identifier: MIT */
/*
 * Proves the codec of the messages between nodes (control/sn_wire.c):
 *   - every message type survives encode + decode field for field, with a
 *     pid of the sender sent as "the sender" (an empty node) and restored;
 *   - a REQUEST's pid is the receiver's own;
 *   - every truncation of a valid message is -EAGAIN (no whole message
 *     yet) or -EBADMSG, never accepted; a body with a byte too many or too
 *     few for its fields is -EBADMSG; bad reason kinds, ops and flags too;
 *   - random bytes never decode to more than they hold (seeded).
 */
#include <errno.h>
#include <string.h>

#include "../rcu_tables/test_util.h"
#include "sn_wire.h"

static unsigned char buf[SN_WIRE_MSG_MAX];

static struct sn_msg
sample(enum sn_msg_type t)
{
	struct sn_msg m;

	memset(&m, 0, sizeof(m));
	m.type = t;
	m.scope = "scope-1";
	m.name = "a\0name";
	m.name_len = 6;
	strcpy(m.pid.node, "alpha");
	m.pid.id = 0x0102030405060708ull;
	m.meta = "meta!";
	m.meta_len = 5;
	m.time.wall_ns = 1763700000123456789ull;
	m.time.logical = 7;
	m.reason.kind = SYNODE_REASON_SIGNAL;
	m.reason.code = 9;
	m.req_id = 0xdeadbeef;
	m.op = SN_OP_JOIN;
	m.result = -SYNODE_ETAKEN;
	return m;
}

static void
check_same(const struct sn_msg *a, const struct sn_msg *b)
{
	CHECK_EQ(a->type, b->type);
	if (a->type != SN_MSG_REPLY)
		CHECK(strcmp(a->scope, b->scope) == 0);
	switch (a->type) {
	case SN_MSG_SYNC_REGISTER:
	case SN_MSG_SYNC_JOIN:
		CHECK(a->time.wall_ns == b->time.wall_ns && a->time.logical == b->time.logical);
		/* fall through */
	case SN_MSG_SYNC_UNREGISTER:
	case SN_MSG_SYNC_LEAVE:
		CHECK_EQ(a->reason.kind, b->reason.kind);
		CHECK_EQ(a->reason.code, b->reason.code);
		/* fall through */
	case SN_MSG_REQUEST:
		CHECK_EQ(a->name_len, b->name_len);
		CHECK_MEM(a->name, b->name, a->name_len);
		CHECK_EQ(a->meta_len, b->meta_len);
		CHECK_MEM(a->meta, b->meta, a->meta_len);
		CHECK(synode_pid_cmp(&a->pid, &b->pid) == 0);
		break;
	default:
		break;
	}
	if (a->type == SN_MSG_REQUEST) {
		CHECK(a->req_id == b->req_id);
		CHECK_EQ(a->op, b->op);
	}
	if (a->type == SN_MSG_REPLY) {
		CHECK(a->req_id == b->req_id);
		CHECK_EQ(a->result, b->result);
	}
}

static void
test_round_trips(void)
{
	for (int t = SN_MSG_DISCOVER; t < SN_MSG_TYPE_END; t++) {
		struct sn_msg m = sample((enum sn_msg_type)t), d;
		/* a REQUEST names the receiver's process */
		const char *sender = "alpha", *self = t == SN_MSG_REQUEST ? "alpha" : "beta";
		int len = sn_wire_encode(buf, sizeof(buf), &m, "alpha");

		CHECK(len > SN_WIRE_MSG_HDR);
		CHECK_EQ(sn_wire_msg_len(buf, (size_t)len), (size_t)len);
		CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, sender, self), len);
		check_same(&m, &d);
		/* room for exactly the message, and one byte less */
		CHECK_EQ(sn_wire_encode(buf, (size_t)len, &m, "alpha"), len);
		CHECK_EQ(sn_wire_encode(buf, (size_t)len - 1, &m, "alpha"), -ENOSPC);
		/* every truncation is refused */
		for (int cut = 0; cut < len; cut++) {
			int r = sn_wire_decode(buf, (size_t)cut, &d, sender, self);

			CHECK_MSG(r == -EAGAIN, "type %d cut at %d: %d", t, cut, r);
		}
		/* a body one byte short or long for its fields (the length
		 * header says so) is malformed */
		if (t != SN_MSG_DISCOVER && t != SN_MSG_ACK_SYNC) {
			buf[2] = (unsigned char)(len - SN_WIRE_MSG_HDR - 1);
			CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, sender, self), -EBADMSG);
		}
		len = sn_wire_encode(buf, sizeof(buf), &m, "alpha");
		buf[len] = 0;
		buf[2] = (unsigned char)(len - SN_WIRE_MSG_HDR + 1);
		CHECK_EQ(sn_wire_decode(buf, (size_t)len + 1, &d, sender, self), -EBADMSG);
	}
}

static void
test_sender_pid(void)
{
	struct sn_msg m = sample(SN_MSG_SYNC_REGISTER), d;
	int own = sn_wire_encode(buf, sizeof(buf), &m, "alpha");
	int other = sn_wire_encode(buf, sizeof(buf), &m, "gamma");

	/* the sender's own pid goes without its node name */
	CHECK_EQ(other - own, (int)strlen("alpha"));
	own = sn_wire_encode(buf, sizeof(buf), &m, "alpha");
	CHECK_EQ(sn_wire_decode(buf, (size_t)own, &d, "alpha", "x"), own);
	CHECK(strcmp(d.pid.node, "alpha") == 0);
	/* a sender without a name cannot stand for a pid */
	CHECK_EQ(sn_wire_decode(buf, (size_t)own, &d, NULL, "x"), -EBADMSG);
}

static void
test_bad_fields(void)
{
	struct sn_msg m = sample(SN_MSG_SYNC_LEAVE), d;
	int len = sn_wire_encode(buf, sizeof(buf), &m, "x");

	/* flags must be 0 */
	buf[1] = 1;
	CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, "x", "y"), -EBADMSG);
	buf[1] = 0;
	/* unknown type */
	buf[0] = 0x3f;
	CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, "x", "y"), -EBADMSG);
	/* a reason kind past the last */
	m.reason.kind = SYNODE_REASON_NORMAL;
	len = sn_wire_encode(buf, sizeof(buf), &m, "alpha");
	/* scope str8, name str16, node str8 (empty), id: then the reason */
	size_t at = SN_WIRE_MSG_HDR + 1 + strlen(m.scope) + 2 + m.name_len + 1 + 8;
	CHECK_EQ(buf[at], SYNODE_REASON_NORMAL);
	buf[at] = SYNODE_REASON_UNDEFINED + 1;
	CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, "x", "y"), -EBADMSG);
	/* an empty name */
	m = sample(SN_MSG_SYNC_REGISTER);
	m.name_len = 0;
	len = sn_wire_encode(buf, sizeof(buf), &m, "x");
	CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, "x", "y"), -EBADMSG);
	/* a request with an op out of range cannot be encoded or decoded */
	m = sample(SN_MSG_REQUEST);
	m.op = SN_OP_END;
	CHECK_EQ(sn_wire_encode(buf, sizeof(buf), &m, "x"), -EINVAL);
	m.op = SN_OP_REGISTER;
	len = sn_wire_encode(buf, sizeof(buf), &m, "x");
	buf[SN_WIRE_MSG_HDR + 4] = 0;
	CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, "x", "y"), -EBADMSG);
	/* a scope with a NUL inside */
	m = sample(SN_MSG_DISCOVER);
	len = sn_wire_encode(buf, sizeof(buf), &m, "x");
	buf[SN_WIRE_MSG_HDR + 2] = 0;
	CHECK_EQ(sn_wire_decode(buf, (size_t)len, &d, "x", "y"), -EBADMSG);
	/* too long a scope cannot be encoded */
	m.scope = "0123456789012345678901234567890123456789012345678901234567890123";
	CHECK_EQ(sn_wire_encode(buf, sizeof(buf), &m, "x"), -EINVAL);
}

static void
test_random(void)
{
	struct tu_rng r;
	struct sn_msg d;

	tu_rng_init(&r, tu_seed);
	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)tu_rng_below(&r, 96);
		int got;

		tu_rng_fill(&r, buf, len);
		if (len > 0 && tu_rng_permille(&r, 500))
			buf[0] = (unsigned char)(1 + tu_rng_below(&r, SN_MSG_TYPE_END - 1));
		if (len > 3 && tu_rng_permille(&r, 500)) {
			buf[1] = 0;
			buf[3] = 0;
			buf[2] = (unsigned char)tu_rng_below(&r, len);
		}
		got = sn_wire_decode(buf, len, &d, "p", "q");
		CHECK(got == -EAGAIN || got == -EBADMSG || (got > 0 && (size_t)got <= len));
		if (got > 0 && d.type != SN_MSG_REPLY)
			CHECK(strlen(d.scope) <= SYNODE_SCOPE_NAME_MAX);
	}
}

int
main(int argc, char **argv)
{
	tu_parse_args(argc, argv, NULL, 0);
	test_round_trips();
	test_sender_pid();
	test_bad_fields();
	test_random();
	printf("control_wire: ok\n");
	return 0;
}
