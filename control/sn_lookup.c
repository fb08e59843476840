/* SPDX-License-Identifier: MIT */
/*
 * The codec of the lookup service's frames (sn_lookup.h): the request
 * encoder of clients, the header check, and the walks over request and
 * answer items. Every length read from a frame is checked against what is
 * left of its item before it is used, and an item's fields must fill its
 * length exactly: one encoding per item.
 */
#include <errno.h>
#include <string.h>

#include "sn_lookup.h"

static void
le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static unsigned
rd16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* ----------------------------------------------------------------- encode */

struct wbuf {
	uint8_t *p;
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
put_le(struct wbuf *b, uint64_t v, unsigned bytes)
{
	uint8_t c[8];

	for (unsigned i = 0; i < bytes; i++)
		c[i] = (uint8_t)(v >> (8 * i));
	put(b, c, bytes);
}

static void
put_str8(struct wbuf *b, const char *s)
{
	size_t n = strlen(s);

	put_le(b, n, 1);
	put(b, s, n);
}

static void
put_str16(struct wbuf *b, const void *s, size_t n)
{
	put_le(b, n, 2);
	put(b, s, n);
}

void
sn_lookup_enc_start(struct sn_lookup_enc *e, void *buf, size_t cap,
		    enum sn_lookup_type type, uint8_t key_id)
{
	size_t room = key_id ? SN_LOOKUP_MAC_LEN : 0;

	e->buf = buf;
	e->cap = cap >= room ? cap - room : 0;
	e->len = SN_LOOKUP_HDR_LEN;
	e->count = 0;
	e->full = e->cap < SN_LOOKUP_HDR_LEN;
	if (e->full)
		return;
	memset(e->buf, 0, SN_LOOKUP_HDR_LEN);
	e->buf[0] = 'S';
	e->buf[1] = 'Y';
	e->buf[2] = 'N';
	e->buf[3] = 'L';
	e->buf[4] = SN_LOOKUP_VERSION;
	e->buf[5] = (uint8_t)type;
	e->buf[6] = key_id ? SN_LOOKUP_F_MAC : 0;
	e->buf[7] = key_id;
}

static bool
str8_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	return n >= 1 && n <= max;
}

static bool
bytes_ok(const void *p, size_t n, size_t min)
{
	return n >= min && n <= SYNODE_NAME_MAX_LIMIT && (n == 0 || p != NULL);
}

/* Whether @p c (n bytes) is exactly one pidkey. */
static bool
pidkey_ok(const uint8_t *c, size_t n)
{
	const uint8_t *nul;

	if (n < 10 || n > SYNODE_NODE_NAME_MAX + 9)
		return false;
	nul = memchr(c, 0, n);
	return nul != NULL && nul != c && (size_t)(nul - c) + 9 == n;
}

static bool
cursor_ok(enum sn_lookup_op op, const void *c, size_t n)
{
	if (n == 0)
		return true;
	if (c == NULL)
		return false;
	return op == SN_LOOKUP_OP_MEMBERS ? pidkey_ok(c, n) : n <= SYNODE_NAME_MAX_LIMIT;
}

static bool
req_ok(const struct sn_lookup_req *r)
{
	bool paged = r->op == SN_LOOKUP_OP_MEMBERS || r->op == SN_LOOKUP_OP_SCAN_PREFIX ||
		     r->op == SN_LOOKUP_OP_SCAN_RANGE;

	if (r->op < SN_LOOKUP_OP_LOOKUP || r->op >= SN_LOOKUP_OP_END ||
	    !str8_ok(r->scope, SYNODE_SCOPE_NAME_MAX))
		return false;
	if (paged && (r->limit < 1 || r->limit > SN_LOOKUP_LIMIT_MAX ||
		      !cursor_ok(r->op, r->cursor, r->cursor_len)))
		return false;
	switch (r->op) {
	case SN_LOOKUP_OP_LOOKUP:
	case SN_LOOKUP_OP_MEMBERS:
	case SN_LOOKUP_OP_MEMBER_COUNT:
		return bytes_ok(r->key, r->key_len, 1);
	case SN_LOOKUP_OP_REG_COUNT:
		return strnlen(r->node, SYNODE_NODE_NAME_MAX + 1) <= SYNODE_NODE_NAME_MAX;
	case SN_LOOKUP_OP_GROUP_COUNT:
		return true;
	case SN_LOOKUP_OP_SCAN_PREFIX:
		return bytes_ok(r->key, r->key_len, 0);
	case SN_LOOKUP_OP_SCAN_RANGE:
		return bytes_ok(r->key, r->key_len, 0) && bytes_ok(r->to, r->to_len, 0);
	default:
		return false;
	}
}

int
sn_lookup_enc_req(struct sn_lookup_enc *e, const struct sn_lookup_req *r)
{
	struct wbuf b;
	size_t start;

	if (e->full)
		return -ENOSPC;
	if (r == NULL || !req_ok(r))
		return -EINVAL;
	if (e->count >= SN_LOOKUP_ITEMS_MAX)
		return -ENOSPC;
	start = e->len;
	b = (struct wbuf){ e->buf, start + 2, e->cap, e->cap - start < 2 };
	put_le(&b, r->req_id, 4);
	put_le(&b, r->op, 1);
	put_le(&b, 0, 1);
	put_str8(&b, r->scope);
	switch (r->op) {
	case SN_LOOKUP_OP_LOOKUP:
	case SN_LOOKUP_OP_MEMBER_COUNT:
		put_str16(&b, r->key, r->key_len);
		break;
	case SN_LOOKUP_OP_MEMBERS:
	case SN_LOOKUP_OP_SCAN_PREFIX:
		put_str16(&b, r->key, r->key_len);
		put_le(&b, r->limit, 2);
		put_str16(&b, r->cursor, r->cursor_len);
		break;
	case SN_LOOKUP_OP_REG_COUNT:
		put_le(&b, strlen(r->node), 1);
		put(&b, r->node, strlen(r->node));
		break;
	case SN_LOOKUP_OP_GROUP_COUNT:
		break;
	case SN_LOOKUP_OP_SCAN_RANGE:
		put_str16(&b, r->key, r->key_len);
		put_str16(&b, r->to, r->to_len);
		put_le(&b, r->limit, 2);
		put_str16(&b, r->cursor, r->cursor_len);
		break;
	default:
		return -EINVAL;
	}
	if (b.full)
		return -ENOSPC; /* e->len unchanged: the frame is as it was */
	le16(e->buf + start, (unsigned)(b.len - start - 2));
	e->len = b.len;
	e->count++;
	return 0;
}

int
sn_lookup_enc_end(struct sn_lookup_enc *e)
{
	if (e->full)
		return -ENOSPC;
	le16(e->buf + 8, e->count);
	return (int)e->len;
}

/* ----------------------------------------------------------------- decode */

int
sn_lookup_frame_check(const void *buf, size_t len, enum sn_lookup_type type,
		      uint8_t *key_id)
{
	const uint8_t *p = buf;
	unsigned count;

	if (p == NULL || len < SN_LOOKUP_HDR_LEN || memcmp(p, "SYNL", 4) != 0 ||
	    p[4] != SN_LOOKUP_VERSION || p[5] != (uint8_t)type)
		return -EBADMSG;
	if ((p[6] & ~SN_LOOKUP_F_MAC) != 0 || ((p[6] & SN_LOOKUP_F_MAC) != 0) != (p[7] != 0))
		return -EBADMSG;
	count = rd16(p + 8);
	if (rd16(p + 10) != 0 || count > SN_LOOKUP_ITEMS_MAX)
		return -EBADMSG;
	if (key_id != NULL)
		*key_id = p[7];
	return (int)count;
}

void
sn_lookup_iter_init(struct sn_lookup_iter *it, const void *frame, size_t len)
{
	const uint8_t *p = frame;

	if (p == NULL || len < SN_LOOKUP_HDR_LEN) {
		it->p = it->end = p;
		it->left = 0;
		return;
	}
	it->p = p + SN_LOOKUP_HDR_LEN;
	it->end = p + len;
	it->left = rd16(p + 8);
}

struct rbuf {
	const uint8_t *p, *end;
	bool bad;
};

static const uint8_t *
take(struct rbuf *b, size_t n)
{
	const uint8_t *at = b->p;

	if (b->bad || (size_t)(b->end - b->p) < n) {
		b->bad = true;
		return NULL;
	}
	b->p += n;
	return at;
}

static uint64_t
get_le(struct rbuf *b, unsigned bytes)
{
	const uint8_t *c = take(b, bytes);
	uint64_t v = 0;

	for (unsigned i = 0; c != NULL && i < bytes; i++)
		v |= (uint64_t)c[i] << (8 * i);
	return v;
}

/* A str8 into @p out (room for @p max + NUL), no NUL inside, at least
 * @p min bytes. */
static void
get_str8(struct rbuf *b, char *out, size_t min, size_t max)
{
	size_t n = (size_t)get_le(b, 1);
	const uint8_t *s = take(b, n);

	out[0] = 0;
	if (s == NULL || n < min || n > max || memchr(s, 0, n) != NULL) {
		b->bad = true;
		return;
	}
	memcpy(out, s, n);
	out[n] = 0;
}

static const void *
get_str16(struct rbuf *b, size_t *n, size_t min, size_t max)
{
	const void *s;

	*n = (size_t)get_le(b, 2);
	s = take(b, *n);
	if (s == NULL || *n < min || *n > max) {
		b->bad = true;
		*n = 0;
		return NULL;
	}
	return *n ? s : NULL;
}

/* The next item's bytes (after its length field) into @p b: 1, 0 at the
 * end, -EBADMSG for broken framing (the walk stops). */
static int
item_bytes(struct sn_lookup_iter *it, struct rbuf *b)
{
	size_t n;

	if (it->left == 0)
		return it->p == it->end ? 0 : -EBADMSG;
	if (it->end - it->p < 2)
		return -EBADMSG;
	n = rd16(it->p);
	if ((size_t)(it->end - it->p) - 2 < n)
		return -EBADMSG;
	b->p = it->p + 2;
	b->end = b->p + n;
	b->bad = false;
	it->p = b->end;
	it->left--;
	return 1;
}

int
sn_lookup_next_req(struct sn_lookup_iter *it, struct sn_lookup_req *r)
{
	struct rbuf b;
	int rc = item_bytes(it, &b);

	if (rc <= 0)
		return rc;
	memset(r, 0, sizeof(*r));
	if (b.end - b.p < 4)
		return -EBADMSG; /* no req_id to answer to */
	r->req_id = (uint32_t)get_le(&b, 4);
	r->op = (enum sn_lookup_op)get_le(&b, 1);
	if (b.bad || get_le(&b, 1) != 0 || r->op < SN_LOOKUP_OP_LOOKUP ||
	    r->op >= SN_LOOKUP_OP_END)
		return -EPROTO;
	get_str8(&b, r->scope, 1, SYNODE_SCOPE_NAME_MAX);
	switch (r->op) {
	case SN_LOOKUP_OP_LOOKUP:
	case SN_LOOKUP_OP_MEMBER_COUNT:
		r->key = get_str16(&b, &r->key_len, 1, SYNODE_NAME_MAX_LIMIT);
		break;
	case SN_LOOKUP_OP_MEMBERS:
	case SN_LOOKUP_OP_SCAN_PREFIX:
		r->key = get_str16(&b, &r->key_len, r->op == SN_LOOKUP_OP_MEMBERS ? 1 : 0,
				   SYNODE_NAME_MAX_LIMIT);
		r->limit = (unsigned)get_le(&b, 2);
		r->cursor = get_str16(&b, &r->cursor_len, 0, SYNODE_NAME_MAX_LIMIT);
		break;
	case SN_LOOKUP_OP_REG_COUNT:
		get_str8(&b, r->node, 0, SYNODE_NODE_NAME_MAX);
		break;
	case SN_LOOKUP_OP_GROUP_COUNT:
		break;
	case SN_LOOKUP_OP_SCAN_RANGE:
		r->key = get_str16(&b, &r->key_len, 0, SYNODE_NAME_MAX_LIMIT);
		r->to = get_str16(&b, &r->to_len, 0, SYNODE_NAME_MAX_LIMIT);
		r->limit = (unsigned)get_le(&b, 2);
		r->cursor = get_str16(&b, &r->cursor_len, 0, SYNODE_NAME_MAX_LIMIT);
		break;
	default:
		return -EPROTO;
	}
	if (b.bad || b.p != b.end || !req_ok(r))
		return -EPROTO;
	return 1;
}

/* One entry at @p b: (str16 name if @p named), pid, str16 meta. */
static void
get_entry(struct rbuf *b, bool named, struct sn_lookup_entry *e)
{
	e->name = NULL;
	e->name_len = 0;
	if (named)
		e->name = get_str16(b, &e->name_len, 1, SYNODE_NAME_MAX_LIMIT);
	get_str8(b, e->pid.node, 1, SYNODE_NODE_NAME_MAX);
	e->pid.id = get_le(b, 8);
	e->meta = get_str16(b, &e->meta_len, 0, SYNODE_META_MAX_LIMIT);
}

int
sn_lookup_next_ans(struct sn_lookup_iter *it, struct sn_lookup_ans *a)
{
	struct sn_lookup_entry e;
	struct rbuf b;
	int rc = item_bytes(it, &b);
	unsigned more;

	if (rc <= 0)
		return rc;
	memset(a, 0, sizeof(*a));
	a->req_id = (uint32_t)get_le(&b, 4);
	a->op = (enum sn_lookup_op)get_le(&b, 1);
	a->status = (enum sn_lookup_status)get_le(&b, 1);
	if (b.bad || a->status > SN_LOOKUP_DENIED)
		return -EBADMSG;
	if (a->status != SN_LOOKUP_OK)
		return b.p == b.end ? 1 : -EBADMSG;
	switch (a->op) {
	case SN_LOOKUP_OP_LOOKUP:
		a->entries = b.p;
		get_entry(&b, false, &e);
		a->n = 1;
		a->entries_len = (size_t)(b.p - a->entries);
		break;
	case SN_LOOKUP_OP_REG_COUNT:
	case SN_LOOKUP_OP_MEMBER_COUNT:
	case SN_LOOKUP_OP_GROUP_COUNT:
		a->count = get_le(&b, 8);
		break;
	case SN_LOOKUP_OP_MEMBERS:
	case SN_LOOKUP_OP_SCAN_PREFIX:
	case SN_LOOKUP_OP_SCAN_RANGE:
		a->n = (unsigned)get_le(&b, 2);
		a->entries = b.p;
		for (unsigned i = 0; i < a->n && !b.bad; i++)
			get_entry(&b, a->op != SN_LOOKUP_OP_MEMBERS, &e);
		a->entries_len = b.bad ? 0 : (size_t)(b.p - a->entries);
		more = (unsigned)get_le(&b, 1);
		a->more = more == 1;
		a->cursor = get_str16(&b, &a->cursor_len, 0, SYNODE_NAME_MAX_LIMIT);
		if (more > 1 || (more == 0) != (a->cursor_len == 0) || (more && a->n == 0) ||
		    a->n > SN_LOOKUP_LIMIT_MAX)
			return -EBADMSG;
		if (more && !cursor_ok(a->op, a->cursor, a->cursor_len))
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	if (b.bad || b.p != b.end)
		return -EBADMSG;
	return 1;
}

int
sn_lookup_next_entry(const struct sn_lookup_ans *a, size_t *pos, struct sn_lookup_entry *e)
{
	struct rbuf b;

	if (a == NULL || pos == NULL || e == NULL || *pos > a->entries_len)
		return -EBADMSG;
	if (*pos == a->entries_len)
		return 0;
	b = (struct rbuf){ a->entries + *pos, a->entries + a->entries_len, false };
	get_entry(&b, a->op == SN_LOOKUP_OP_SCAN_PREFIX || a->op == SN_LOOKUP_OP_SCAN_RANGE, e);
	if (b.bad)
		return -EBADMSG;
	*pos = (size_t)(b.p - a->entries);
	return 1;
}
