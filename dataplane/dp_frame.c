/* SPDX-License-Identifier: MIT */
/*
 * The frame codec of dp_frame.h. The decoder trusts no length: every read
 * is checked against the bytes received first, and it accepts a frame only
 * if every field is as the layout says, so that the rest of the dataplane
 * never meets a half-valid frame.
 */
#include <errno.h>
#include <string.h>

#include "dp_frame.h"

static const char *const dp_frame_status_names[DP_FRAME_STATUS_END] = {
	[DP_FRAME_OK] = "ok",
	[DP_FRAME_ETRUNC] = "truncated",
	[DP_FRAME_EMAGIC] = "bad_magic",
	[DP_FRAME_EVERSION] = "bad_format_version",
	[DP_FRAME_ETYPE] = "bad_type",
	[DP_FRAME_EFLAGS] = "bad_flags",
	[DP_FRAME_EKEY_ID] = "key_id_without_mac",
	[DP_FRAME_EMAC_TRUNC] = "mac_truncated",
	[DP_FRAME_ESESSION] = "no_session",
	[DP_FRAME_EHELLO_FIELDS] = "hello_fields",
	[DP_FRAME_EHELLO_TRUNC] = "hello_truncated",
	[DP_FRAME_EHELLO_NAME] = "hello_name",
	[DP_FRAME_EHELLO_VERSION] = "hello_version",
	[DP_FRAME_EHELLO_PORT] = "hello_port",
	[DP_FRAME_ESEG_TRUNC] = "segment_truncated",
	[DP_FRAME_ESEG_EMPTY] = "segment_empty",
	[DP_FRAME_ESEG_FLAGS] = "segment_flags",
	[DP_FRAME_ETRAILING] = "trailing_bytes",
};

const char *
dp_frame_status_name(enum dp_frame_status st)
{
	if ((unsigned)st >= DP_FRAME_STATUS_END)
		return "unknown";
	return dp_frame_status_names[st];
}

/* --------------------------------------------------- little-endian access */

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* ----------------------------------------------------------------- decode */

static bool
name_char_ok(uint8_t c)
{
	/* As node names on the command line: printable, no space, no '/'. */
	return c > ' ' && c < 0x7f && c != '/';
}

static enum dp_frame_status
decode_hello(const uint8_t *b, size_t len, struct dp_frame *f)
{
	struct dp_frame_hello *h = &f->hello;

	if (f->seq != 0 || f->ack != 0 || f->n_segs != 0 || f->echo != 0)
		return DP_FRAME_EHELLO_FIELDS;
	if (len < DP_FRAME_HELLO_MIN_LEN)
		return DP_FRAME_EHELLO_TRUNC;
	h->version_min = get16(b);
	h->version_max = get16(b + 2);
	h->udp_port = get16(b + 4);
	h->name_len = b[6];
	if (h->name_len == 0 || h->name_len > DP_FRAME_NAME_MAX)
		return DP_FRAME_EHELLO_NAME;
	if (len < 7u + h->name_len)
		return DP_FRAME_EHELLO_TRUNC;
	if (len > 7u + h->name_len)
		return DP_FRAME_ETRAILING;
	for (unsigned i = 0; i < h->name_len; i++)
		if (!name_char_ok(b[7 + i]))
			return DP_FRAME_EHELLO_NAME;
	memcpy(h->name, b + 7, h->name_len);
	h->name[h->name_len] = '\0';
	if (h->version_min == 0 || h->version_min > h->version_max)
		return DP_FRAME_EHELLO_VERSION;
	if (h->udp_port == 0)
		return DP_FRAME_EHELLO_PORT;
	return DP_FRAME_OK;
}

static enum dp_frame_status
decode_data(const uint8_t *b, size_t len, struct dp_frame *f)
{
	size_t off = 0;

	for (unsigned i = 0; i < f->n_segs; i++) {
		uint16_t slen;

		if (len - off < DP_FRAME_SEG_HDR_LEN)
			return DP_FRAME_ESEG_TRUNC;
		slen = get16(b + off);
		if (slen == 0)
			return DP_FRAME_ESEG_EMPTY;
		if ((b[off + 2] & ~DP_FRAME_SEG_F_MORE) != 0)
			return DP_FRAME_ESEG_FLAGS;
		off += DP_FRAME_SEG_HDR_LEN;
		if (len - off < slen)
			return DP_FRAME_ESEG_TRUNC;
		off += slen;
	}
	if (off != len)
		return DP_FRAME_ETRAILING;
	f->segs = b;
	f->segs_len = len;
	return DP_FRAME_OK;
}

enum dp_frame_status
dp_frame_decode(const void *buf, size_t len, struct dp_frame *f)
{
	const uint8_t *b = buf;
	size_t body_len;

	if (len < DP_FRAME_HDR_LEN)
		return DP_FRAME_ETRUNC;
	if (get32(b) != DP_FRAME_MAGIC)
		return DP_FRAME_EMAGIC;
	if (b[4] != DP_FRAME_VERSION)
		return DP_FRAME_EVERSION;
	f->type = b[5];
	f->flags = b[6];
	f->key_id = b[7];
	if (f->type != DP_FRAME_HELLO && f->type != DP_FRAME_DATA)
		return DP_FRAME_ETYPE;
	if ((f->flags & ~(DP_FRAME_F_MAC | DP_FRAME_F_GAP)) != 0 ||
	    (f->type != DP_FRAME_DATA && (f->flags & DP_FRAME_F_GAP)))
		return DP_FRAME_EFLAGS;
	if (f->key_id != 0 && !(f->flags & DP_FRAME_F_MAC))
		return DP_FRAME_EKEY_ID;
	f->counter = get64(b + 8);
	f->src_session = get64(b + 16);
	f->dst_session = get64(b + 24);
	f->seq = get32(b + 32);
	f->ack = get32(b + 36);
	f->n_segs = get16(b + 40);
	f->echo = get16(b + 42);
	if (f->src_session == 0)
		return DP_FRAME_ESESSION;

	body_len = len - DP_FRAME_HDR_LEN;
	f->mac = NULL;
	if (f->flags & DP_FRAME_F_MAC) {
		if (body_len < DP_FRAME_MAC_LEN)
			return DP_FRAME_EMAC_TRUNC;
		body_len -= DP_FRAME_MAC_LEN;
		f->mac = b + DP_FRAME_HDR_LEN + body_len;
	}
	f->segs = NULL;
	f->segs_len = 0;
	if (f->type == DP_FRAME_HELLO)
		return decode_hello(b + DP_FRAME_HDR_LEN, body_len, f);
	return decode_data(b + DP_FRAME_HDR_LEN, body_len, f);
}

bool
dp_frame_seg_next(struct dp_frame_seg_iter *it, struct dp_frame_seg *s)
{
	/* The decoder checked every segment: only the end needs a test. */
	if (it->p >= it->end)
		return false;
	s->len = get16(it->p);
	s->flags = it->p[2];
	s->data = it->p + DP_FRAME_SEG_HDR_LEN;
	it->p += DP_FRAME_SEG_HDR_LEN + s->len;
	return true;
}

/* ----------------------------------------------------------------- encode */

static void
put_header(uint8_t *b, const struct dp_frame *f, uint8_t type, uint16_t n_segs)
{
	put32(b, DP_FRAME_MAGIC);
	b[4] = DP_FRAME_VERSION;
	b[5] = type;
	b[6] = f->flags;
	b[7] = f->key_id;
	put64(b + 8, f->counter);
	put64(b + 16, f->src_session);
	put64(b + 24, f->dst_session);
	put32(b + 32, type == DP_FRAME_DATA ? f->seq : 0);
	put32(b + 36, type == DP_FRAME_DATA ? f->ack : 0);
	put16(b + 40, n_segs);
	put16(b + 42, type == DP_FRAME_DATA ? f->echo : 0);
}

void
dp_frame_enc_start(struct dp_frame_enc *e, void *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->len = DP_FRAME_HDR_LEN;
	e->n_segs = 0;
}

size_t
dp_frame_enc_room(const struct dp_frame_enc *e)
{
	size_t used = e->len + DP_FRAME_SEG_HDR_LEN + DP_FRAME_MAC_LEN;

	if (e->n_segs == UINT16_MAX || used >= e->cap)
		return 0;
	return e->cap - used > UINT16_MAX ? UINT16_MAX : e->cap - used;
}

int
dp_frame_enc_seg(struct dp_frame_enc *e, const void *data, size_t len, uint8_t flags)
{
	if (len == 0 || len > dp_frame_enc_room(e))
		return -ENOSPC;
	put16(e->buf + e->len, (uint16_t)len);
	e->buf[e->len + 2] = flags;
	memcpy(e->buf + e->len + DP_FRAME_SEG_HDR_LEN, data, len);
	e->len += DP_FRAME_SEG_HDR_LEN + len;
	e->n_segs++;
	return 0;
}

size_t
dp_frame_enc_end(struct dp_frame_enc *e, const struct dp_frame *f)
{
	put_header(e->buf, f, DP_FRAME_DATA, e->n_segs);
	return e->len;
}

int
dp_frame_encode_hello(void *buf, size_t cap, const struct dp_frame *f)
{
	const struct dp_frame_hello *h = &f->hello;
	size_t nlen = strnlen(h->name, DP_FRAME_NAME_MAX + 1);
	size_t len = DP_FRAME_HDR_LEN + 7 + nlen;
	uint8_t *b = buf;

	if (nlen == 0 || nlen > DP_FRAME_NAME_MAX || h->version_min == 0 ||
	    h->version_min > h->version_max || h->udp_port == 0)
		return -EINVAL;
	for (size_t i = 0; i < nlen; i++)
		if (!name_char_ok((uint8_t)h->name[i]))
			return -EINVAL;
	if (len > cap)
		return -ENOSPC;
	put_header(b, f, DP_FRAME_HELLO, 0);
	b += DP_FRAME_HDR_LEN;
	put16(b, h->version_min);
	put16(b + 2, h->version_max);
	put16(b + 4, h->udp_port);
	b[6] = (uint8_t)nlen;
	memcpy(b + 7, h->name, nlen);
	return (int)len;
}
