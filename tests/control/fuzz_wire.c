/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target of the wire-message decoder (control/sn_wire.c). The
 * input is read as sn_link_receive() (control/cluster.c) reads the bytes
 * a peer's channel delivered: message after message, a malformed one
 * skipped by the length in its header, until the end or a cut message.
 * Proves, for any bytes:
 *   - sn_wire_decode() reads nothing out of bounds (ASan), does nothing
 *     undefined (UBSan), and answers a length within the input (at least a
 *     header), -EBADMSG or -EAGAIN, never anything else; after -EBADMSG
 *     the header's length moves the reader on (no endless loop);
 *   - a decoded message is well formed (scope and pid node NUL-terminated
 *     and in bounds, its strings inside the input, a known type, op and
 *     reason), re-encodes (sn_wire_encode, as its sender would) to no more
 *     bytes than it took, and those decode to an equal message;
 *   - the encoding of a decoded message is a fixed point: decoded again
 *     and encoded again, it is the same bytes.
 *
 * Seed corpus: tests/control/corpus_wire/ (gen_corpus_wire writes it).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sn_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The peer the bytes come from, and the receiving node. */
#define SENDER "n1"
#define SELF "n2"

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
same_msg(const struct sn_msg *a, const struct sn_msg *b)
{
	return a->type == b->type && strcmp(a->scope, b->scope) == 0 &&
	       same_bytes(a->name, a->name_len, b->name, b->name_len) &&
	       a->pid.id == b->pid.id && strcmp(a->pid.node, b->pid.node) == 0 &&
	       same_bytes(a->meta, a->meta_len, b->meta, b->meta_len) &&
	       a->time.wall_ns == b->time.wall_ns && a->time.logical == b->time.logical &&
	       a->reason.kind == b->reason.kind && a->reason.code == b->reason.code &&
	       a->req_id == b->req_id && a->op == b->op && a->result == b->result;
}

/* What any decoded message must be, whatever the bytes were. */
static void
check_decoded(const struct sn_msg *m, const uint8_t *data, size_t size)
{
	check(m->type >= SN_MSG_DISCOVER && m->type < SN_MSG_TYPE_END);
	check(m->scope == m->scope_buf &&
	      memchr(m->scope_buf, 0, sizeof(m->scope_buf)) != NULL);
	check(memchr(m->pid.node, 0, sizeof(m->pid.node)) != NULL);
	check(m->meta != NULL);
	if (m->name_len > 0)
		check((const uint8_t *)m->name >= data &&
		      (const uint8_t *)m->name + m->name_len <= data + size);
	if (m->meta_len > 0)
		check((const uint8_t *)m->meta >= data &&
		      (const uint8_t *)m->meta + m->meta_len <= data + size);
	switch (m->type) {
	case SN_MSG_SYNC_REGISTER:
	case SN_MSG_SYNC_UNREGISTER:
	case SN_MSG_SYNC_JOIN:
	case SN_MSG_SYNC_LEAVE:
		/* A pid always has an owner: the sender's when the wire says none. */
		check(m->name_len > 0 && m->pid.node[0] != 0);
		check(m->reason.kind <= SYNODE_REASON_UNDEFINED);
		break;
	case SN_MSG_REQUEST:
		check(m->name_len > 0 && strcmp(m->pid.node, SELF) == 0);
		check(m->op >= SN_OP_REGISTER && m->op < SN_OP_END);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t enc1[SN_WIRE_MSG_MAX], enc2[SN_WIRE_MSG_MAX];
	const uint8_t *p = data;
	size_t len = size;

	while (len > 0) {
		struct sn_msg m, m2, m3;
		int r = sn_wire_decode(p, len, &m, SENDER, SELF);
		int n1, n2, r2;
		size_t skip;

		if (r == -EAGAIN) {
			/* Only a cut message: its header says more than is there. */
			check(len < SN_WIRE_MSG_HDR || sn_wire_msg_len(p, len) > len);
			break;
		}
		if (r < 0) {
			check(r == -EBADMSG);
			skip = sn_wire_msg_len(p, len);
			check(skip >= SN_WIRE_MSG_HDR && skip <= len);
			p += skip;
			len -= skip;
			continue;
		}
		check((size_t)r >= SN_WIRE_MSG_HDR && (size_t)r <= len &&
		      (size_t)r == sn_wire_msg_len(p, len));
		check_decoded(&m, p, (size_t)r);

		/* As the sender would have written it. */
		n1 = sn_wire_encode(enc1, sizeof(enc1), &m, SENDER);
		check(n1 >= SN_WIRE_MSG_HDR && n1 <= r);
		r2 = sn_wire_decode(enc1, (size_t)n1, &m2, SENDER, SELF);
		check(r2 == n1 && same_msg(&m, &m2));
		n2 = sn_wire_encode(enc2, sizeof(enc2), &m2, SENDER);
		check(n2 == n1 && memcmp(enc1, enc2, (size_t)n1) == 0);
		/* Shorter only where the wire named the sender as a pid's node. */
		if (n1 != r)
			check(m.type >= SN_MSG_SYNC_REGISTER && m.type <= SN_MSG_SYNC_LEAVE &&
			      strcmp(m.pid.node, SENDER) == 0 &&
			      n1 + (int)strlen(SENDER) == r);
		/* A pid's node named on the wire stays, whoever the bytes come from. */
		check(sn_wire_decode(enc1, (size_t)n1, &m3, "other", SELF) == n1);
		if (m.type >= SN_MSG_SYNC_REGISTER && m.type <= SN_MSG_SYNC_LEAVE &&
		    strcmp(m.pid.node, SENDER) != 0)
			check(strcmp(m3.pid.node, m.pid.node) == 0);
		p += r;
		len -= (size_t)r;
	}
	return 0;
}
