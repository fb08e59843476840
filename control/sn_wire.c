/* SPDX-License-Identifier: MIT */
/* The codec of the messages between nodes (sn_wire.h). */
#include <errno.h>
#include <string.h>

#include "sn_wire.h"

/* ----------------------------------------------------------------- encode */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	bool full;
};

static void
put(struct wbuf *b, const void *v, size_t n)
{
	if (b->full || b->cap - b->len < n) {
		b->full = true;
		return;
	}
	if (n)
		memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void
put_u8(struct wbuf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void
put_le(struct wbuf *b, uint64_t v, unsigned bytes)
{
	unsigned char c[8];

	for (unsigned i = 0; i < bytes; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	put(b, c, bytes);
}

static void
put_str8(struct wbuf *b, const char *s)
{
	size_t n = strlen(s);

	put_u8(b, (unsigned)n);
	put(b, s, n);
}

static void
put_str16(struct wbuf *b, const void *s, size_t n)
{
	put_le(b, n, 2);
	put(b, s, n);
}

static bool
reason_has_code(enum synode_reason_kind k)
{
	return k == SYNODE_REASON_EXIT || k == SYNODE_REASON_SIGNAL;
}

int
sn_wire_encode(void *buf, size_t cap, const struct sn_msg *m, const char *self)
{
	struct wbuf b = { buf, SN_WIRE_MSG_HDR, cap, cap < SN_WIRE_MSG_HDR };
	size_t body;

	if (m->type < SN_MSG_DISCOVER || m->type >= SN_MSG_TYPE_END)
		return -EINVAL;
	if (m->type != SN_MSG_REPLY &&
	    (m->scope == NULL || strlen(m->scope) > SYNODE_SCOPE_NAME_MAX))
		return -EINVAL;
	if (m->name_len > 65535 || m->meta_len > 65535)
		return -EINVAL;
	switch (m->type) {
	case SN_MSG_DISCOVER:
	case SN_MSG_ACK_SYNC:
		put_str8(&b, m->scope);
		break;
	case SN_MSG_SYNC_REGISTER:
	case SN_MSG_SYNC_UNREGISTER:
	case SN_MSG_SYNC_JOIN:
	case SN_MSG_SYNC_LEAVE:
		put_str8(&b, m->scope);
		put_str16(&b, m->name, m->name_len);
		put_str8(&b, self != NULL && strcmp(m->pid.node, self) == 0 ? "" : m->pid.node);
		put_le(&b, m->pid.id, 8);
		if (m->type == SN_MSG_SYNC_REGISTER || m->type == SN_MSG_SYNC_JOIN) {
			put_le(&b, m->time.wall_ns, 8);
			put_le(&b, m->time.logical, 4);
		}
		put_u8(&b, m->reason.kind);
		if (reason_has_code(m->reason.kind))
			put_le(&b, (uint32_t)m->reason.code, 4);
		put_str16(&b, m->meta, m->meta_len);
		break;
	case SN_MSG_REQUEST:
		if (m->op < SN_OP_REGISTER || m->op >= SN_OP_END)
			return -EINVAL;
		put_le(&b, m->req_id, 4);
		put_u8(&b, m->op);
		put_str8(&b, m->scope);
		put_str16(&b, m->name, m->name_len);
		put_le(&b, m->pid.id, 8);
		put_str16(&b, m->meta, m->meta_len);
		break;
	case SN_MSG_REPLY:
		put_le(&b, m->req_id, 4);
		put_le(&b, (uint32_t)m->result, 4);
		break;
	default:
		return -EINVAL;
	}
	if (b.full)
		return -ENOSPC;
	body = b.len - SN_WIRE_MSG_HDR;
	if (body > 65535)
		return -EINVAL;
	b.p[0] = (unsigned char)m->type;
	b.p[1] = 0;
	b.p[2] = (unsigned char)body;
	b.p[3] = (unsigned char)(body >> 8);
	return (int)b.len;
}

/* ----------------------------------------------------------------- decode */

struct rbuf {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static const unsigned char *
take(struct rbuf *b, size_t n)
{
	const unsigned char *at;

	if (b->bad || b->len - b->off < n) {
		b->bad = true;
		return NULL;
	}
	at = b->p + b->off;
	b->off += n;
	return at;
}

static uint64_t
get_le(struct rbuf *b, unsigned bytes)
{
	const unsigned char *c = take(b, bytes);
	uint64_t v = 0;

	for (unsigned i = 0; c != NULL && i < bytes; i++)
		v |= (uint64_t)c[i] << (8 * i);
	return v;
}

/* A str8 into @p out (room for @p max + NUL): no NUL inside. */
static void
get_str8(struct rbuf *b, char *out, size_t max)
{
	size_t n = (size_t)get_le(b, 1);
	const unsigned char *s = take(b, n);

	if (s == NULL || n > max || memchr(s, 0, n) != NULL) {
		b->bad = true;
		out[0] = 0;
		return;
	}
	memcpy(out, s, n);
	out[n] = 0;
}

static const void *
get_str16(struct rbuf *b, size_t *n)
{
	*n = (size_t)get_le(b, 2);
	return take(b, *n);
}

size_t
sn_wire_msg_len(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len < SN_WIRE_MSG_HDR)
		return 0;
	return SN_WIRE_MSG_HDR + ((size_t)p[2] | (size_t)p[3] << 8);
}

int
sn_wire_decode(const void *buf, size_t len, struct sn_msg *m, const char *sender,
	       const char *self)
{
	const unsigned char *p = buf;
	size_t total = sn_wire_msg_len(buf, len);
	struct rbuf b;

	if (total == 0 || total > len)
		return -EAGAIN;
	memset(m, 0, offsetof(struct sn_msg, scope_buf));
	m->scope_buf[0] = 0;
	m->scope = m->scope_buf;
	m->type = (enum sn_msg_type)p[0];
	if (p[1] != 0)
		return -EBADMSG;
	b = (struct rbuf){ p, total, SN_WIRE_MSG_HDR, false };
	switch (m->type) {
	case SN_MSG_DISCOVER:
	case SN_MSG_ACK_SYNC:
		get_str8(&b, m->scope_buf, SYNODE_SCOPE_NAME_MAX);
		break;
	case SN_MSG_SYNC_REGISTER:
	case SN_MSG_SYNC_UNREGISTER:
	case SN_MSG_SYNC_JOIN:
	case SN_MSG_SYNC_LEAVE:
		get_str8(&b, m->scope_buf, SYNODE_SCOPE_NAME_MAX);
		m->name = get_str16(&b, &m->name_len);
		get_str8(&b, m->pid.node, SYNODE_NODE_NAME_MAX);
		if (!b.bad && m->pid.node[0] == 0) {
			if (sender == NULL || strlen(sender) > SYNODE_NODE_NAME_MAX)
				return -EBADMSG;
			strcpy(m->pid.node, sender);
		}
		m->pid.id = get_le(&b, 8);
		if (m->type == SN_MSG_SYNC_REGISTER || m->type == SN_MSG_SYNC_JOIN) {
			m->time.wall_ns = get_le(&b, 8);
			m->time.logical = (uint32_t)get_le(&b, 4);
		}
		m->reason.kind = (enum synode_reason_kind)get_le(&b, 1);
		if (m->reason.kind > SYNODE_REASON_UNDEFINED)
			return -EBADMSG;
		if (reason_has_code(m->reason.kind))
			m->reason.code = (int32_t)(uint32_t)get_le(&b, 4);
		m->meta = get_str16(&b, &m->meta_len);
		if (!b.bad && m->name_len == 0)
			return -EBADMSG;
		break;
	case SN_MSG_REQUEST:
		m->req_id = (uint32_t)get_le(&b, 4);
		m->op = (enum sn_req_op)get_le(&b, 1);
		if (m->op < SN_OP_REGISTER || m->op >= SN_OP_END)
			return -EBADMSG;
		get_str8(&b, m->scope_buf, SYNODE_SCOPE_NAME_MAX);
		m->name = get_str16(&b, &m->name_len);
		m->pid.id = get_le(&b, 8);
		m->meta = get_str16(&b, &m->meta_len);
		if (self == NULL || strlen(self) > SYNODE_NODE_NAME_MAX)
			return -EBADMSG;
		strcpy(m->pid.node, self);
		if (!b.bad && m->name_len == 0)
			return -EBADMSG;
		break;
	case SN_MSG_REPLY:
		m->req_id = (uint32_t)get_le(&b, 4);
		m->result = (int32_t)(uint32_t)get_le(&b, 4);
		break;
	default:
		return -EBADMSG;
	}
	/* Every byte of the body is accounted for: one encoding per message. */
	if (b.bad || b.off != total)
		return -EBADMSG;
	if (m->meta == NULL)
		m->meta = "";
	return (int)total;
}
