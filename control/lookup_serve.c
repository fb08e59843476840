/* SPDX-License-Identifier: MIT */
/*
 * The lookup service's server (sn_lookup.h): answers a request frame from
 * the tables of the node's scopes, on the caller's thread (a dataplane
 * lcore), never touching the control thread.
 *
 * Each item is answered inside one read-side critical section, so its
 * answer is one state of the tables: an entry is one immutable object read
 * once (reg_by_name for a name, pg_by_name for a member), never torn. The
 * answer is written straight into the caller's frame buffer; when it does
 * not fit behind the items already there, those go out first and the item
 * is answered again, from the tables again, into the empty frame: a page is
 * cut short (more = 1 and its cursor) only when a whole frame is too small,
 * and TOO_BIG only when not even one entry fits one.
 *
 * Liveness: like synode_lookup, a name held by a local process known dead
 * is UNDEFINED and left out of scans; for handles that is one table read.
 * For local OS processes synode_lookup reads /proc/PID/stat, a system call
 * and a FILE: not on this path. Their names are answered until the control
 * thread purges them (its pidfd fires within milliseconds of the death).
 *
 * Counts: REG_COUNT of the whole scope is O(1); of one node, MEMBER_COUNT
 * and GROUP_COUNT walk the table (GROUP_COUNT jumps from group to group).
 */
#include <errno.h>
#include <string.h>

#include "core_internal.h"
#include "sn_lookup.h"

/* The answer frame being built. */
struct out {
	struct sn_lookup_enc e;    /* header written; e.cap leaves the MAC room */
	void *buf;
	size_t cap;
	uint8_t key_id;
	sn_lookup_emit_fn emit;
	void *arg;
	struct sn_lookup_stats *st;
};

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool full;
};

enum fit {
	FIT,    /* the whole answer */
	CUT,    /* a page cut short by the frame's end */
	NONE,   /* not even its first entry */
};

static void
out_reset(struct out *o)
{
	sn_lookup_enc_start(&o->e, o->buf, o->cap, SN_LOOKUP_ANSWER, o->key_id);
}

static void
out_flush(struct out *o)
{
	int len;

	if (o->e.count == 0)
		return;
	len = sn_lookup_enc_end(&o->e);
	if (len > 0) {
		o->emit(o->buf, (size_t)len, o->arg);
		o->st->answers_frames++;
	}
	out_reset(o);
}

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
set_le16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_pid(struct wbuf *b, const char *node, size_t node_len, uint64_t id)
{
	put_le(b, node_len, 1);
	put(b, node, node_len);
	put_le(b, id, 8);
}

static size_t
room(const struct wbuf *b)
{
	return b->full ? 0 : b->cap - b->len;
}

/* Keys compare as rtab does: bytes, then a proper prefix first. */
static int
keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t min = alen < blen ? alen : blen;
	int c = min ? memcmp(a, b, min) : 0;

	if (c != 0 || alen == blen)
		return c;
	return alen < blen ? -1 : 1;
}

static bool
has_prefix(const struct rtab_obj *o, const void *p, size_t plen)
{
	return plen == 0 ||
	       (rtab_obj_key_len(o) >= plen && memcmp(rtab_obj_key(o), p, plen) == 0);
}

/* The first object with a key >= @p k. */
static const struct rtab_obj *
seek_ge(const struct rtab_oset *t, const void *k, size_t len)
{
	const struct rtab_obj *o;

	if (len == 0)
		return rtab_oset_first(t);
	if (len > RTAB_KEY_MAX)
		return NULL;
	o = rtab_oset_lookup(t, k, len);
	return o != NULL ? o : rtab_oset_next(t, k, len);
}

/* Whether a name held by @p v may be answered (see the top comment). */
static bool
holder_alive(struct synode *n, const struct sn_reg_val *v)
{
	const char *node = (const char *)(v + 1);
	struct synode_pid pid;

	if (v->id < SYNODE_HANDLE_ID_BASE || v->node_len != n->name_len ||
	    memcmp(node, n->name, n->name_len) != 0)
		return true;
	pid.id = v->id;
	memcpy(pid.node, node, v->node_len);
	pid.node[v->node_len] = 0;
	return sn_pid_maybe_alive(n, &pid);
}

/* -------------------------------------------------------------- answers */

static enum fit
ans_lookup(struct synode *n, struct sn_scope *sc, const struct sn_lookup_req *r,
	   struct wbuf *b, size_t status_at)
{
	const struct rtab_obj *o = rtab_set_lookup(sc->reg_by_name, r->key, r->key_len);
	const struct sn_reg_val *v;

	if (o == NULL || !holder_alive(n, v = rtab_obj_value(o))) {
		b->p[status_at] = SN_LOOKUP_UNDEFINED;
		return FIT;
	}
	put_pid(b, (const char *)(v + 1), v->node_len, v->id);
	put_le(b, v->meta_len, 2);
	put(b, (const char *)(v + 1) + v->node_len, v->meta_len);
	return b->full ? NONE : FIT;
}

/* Ends a page: n at @p n_at, more and the cursor (room kept for them). */
static enum fit
page_end(struct wbuf *b, size_t n_at, unsigned count, bool more, bool cut,
	 const void *cursor, size_t cursor_len)
{
	set_le16(b->p + n_at, count);
	put_le(b, more, 1);
	put_le(b, more ? cursor_len : 0, 2);
	if (more)
		put(b, cursor, cursor_len);
	if (b->full)
		return NONE; /* cannot happen: the room was kept */
	return cut ? CUT : FIT;
}

static enum fit
ans_members(struct sn_scope *sc, const struct sn_lookup_req *r, struct wbuf *b)
{
	unsigned char k[SN_GRPKEY_MAX + SN_PIDKEY_MAX];
	size_t glen = sn_grpkey(r->key, r->key_len, k);
	const struct rtab_obj *x, *last = NULL;
	unsigned count = 0;
	bool more = false, cut = false;
	size_t n_at;

	if (r->cursor_len) {
		memcpy(k + glen, r->cursor, r->cursor_len);
		x = glen + r->cursor_len <= RTAB_KEY_MAX ?
			    rtab_oset_next(sc->pg_by_name, k, glen + r->cursor_len) : NULL;
	} else {
		/* a grpkey alone is no key: the first member is after it */
		x = glen <= RTAB_KEY_MAX ? rtab_oset_next(sc->pg_by_name, k, glen) : NULL;
	}
	n_at = b->len;
	put_le(b, 0, 2);
	for (; x != NULL && has_prefix(x, k, glen); x = rtab_oset_next_obj(sc->pg_by_name, x)) {
		const unsigned char *key = rtab_obj_key(x);
		size_t pk_len = rtab_obj_key_len(x) - glen;
		const struct sn_member_val *v = rtab_obj_value(x);
		struct synode_pid pid;
		size_t node_len;

		if (count == r->limit) {
			more = true;
			break;
		}
		if (sn_pidkey_decode(key + glen, pk_len, &pid) != pk_len)
			continue;
		node_len = strlen(pid.node);
		/* the entry, and the page's end with this entry's pidkey */
		if (room(b) < 1 + node_len + 8 + 2 + v->meta_len + 3 + pk_len) {
			if (count == 0)
				return NONE;
			more = cut = true;
			break;
		}
		put_pid(b, pid.node, node_len, pid.id);
		put_le(b, v->meta_len, 2);
		put(b, v + 1, v->meta_len);
		count++;
		last = x;
	}
	if (last == NULL)
		return page_end(b, n_at, 0, false, false, NULL, 0);
	return page_end(b, n_at, count, more, cut,
			(const unsigned char *)rtab_obj_key(last) + glen,
			rtab_obj_key_len(last) - glen);
}

static enum fit
ans_scan(struct synode *n, struct sn_scope *sc, const struct sn_lookup_req *r,
	 struct wbuf *b)
{
	bool prefix = r->op == SN_LOOKUP_OP_SCAN_PREFIX;
	const void *hi = prefix ? NULL : r->to;
	size_t hi_len = prefix ? 0 : r->to_len;
	const struct rtab_obj *x, *last = NULL;
	unsigned count = 0;
	bool more = false, cut = false;
	size_t n_at;

	/* the page starts after the cursor, or at the range's start if later */
	if (r->cursor_len && keycmp(r->cursor, r->cursor_len, r->key, r->key_len) >= 0)
		x = rtab_oset_next(sc->reg_names, r->cursor, r->cursor_len);
	else
		x = seek_ge(sc->reg_names, r->key, r->key_len);
	n_at = b->len;
	put_le(b, 0, 2);
	for (; x != NULL; x = rtab_oset_next_obj(sc->reg_names, x)) {
		const void *name = rtab_obj_key(x);
		size_t name_len = rtab_obj_key_len(x);
		const struct rtab_obj *o;
		const struct sn_reg_val *v;

		if (prefix ? !has_prefix(x, r->key, r->key_len)
			   : hi_len && keycmp(name, name_len, hi, hi_len) >= 0)
			break;
		if (count == r->limit) {
			more = true;
			break;
		}
		o = rtab_set_lookup(sc->reg_by_name, name, name_len);
		if (o == NULL || !holder_alive(n, v = rtab_obj_value(o)))
			continue; /* going or gone, or its holder is dead */
		if (room(b) < 2 + name_len + 1 + v->node_len + 8 + 2 + v->meta_len + 3 +
				      name_len) {
			if (count == 0)
				return NONE;
			more = cut = true;
			break;
		}
		put_le(b, name_len, 2);
		put(b, name, name_len);
		put_pid(b, (const char *)(v + 1), v->node_len, v->id);
		put_le(b, v->meta_len, 2);
		put(b, (const char *)(v + 1) + v->node_len, v->meta_len);
		count++;
		last = x;
	}
	if (last == NULL)
		return page_end(b, n_at, 0, false, false, NULL, 0);
	return page_end(b, n_at, count, more, cut, rtab_obj_key(last), rtab_obj_key_len(last));
}

struct node_count {
	const char *node;
	size_t len;
	uint64_t count;
};

static int
count_node(const struct rtab_obj *o, void *arg)
{
	const struct sn_reg_val *v = rtab_obj_value(o);
	struct node_count *c = arg;

	if (v->node_len == c->len && memcmp(v + 1, c->node, c->len) == 0)
		c->count++;
	return 0;
}

static uint64_t
count_groups(const struct rtab_oset *t)
{
	unsigned char k[RTAB_KEY_MAX];
	const struct rtab_obj *x = rtab_oset_first(t);
	uint64_t count = 0;

	while (x != NULL) {
		const unsigned char *key = rtab_obj_key(x);
		size_t len = rtab_obj_key_len(x), end = 0;

		count++;
		/* the grpkey's end, 0x00 0x01; 0x00 0xff is an escaped NUL */
		for (size_t i = 0; i + 1 < len; i++) {
			if (key[i] != 0)
				continue;
			if (key[i + 1] == 1) {
				end = i + 2;
				break;
			}
			i++;
		}
		if (end == 0)
			break; /* no grpkey: not written by groups.c */
		/* past every key of this group: its grpkey with 0x01 -> 0x02 */
		memcpy(k, key, end - 1);
		k[end - 1] = 2;
		x = rtab_oset_next(t, k, end);
	}
	return count;
}

/*
 * The scope of the frame's previous item: a frame's items mostly ask the
 * same scope, and a scope, once served, lives as long as the node, so its
 * pointer may be kept across read-side sections (saves one hash lookup of
 * the three an exact lookup of a handle's name costs).
 */
struct scope_cache {
	bool valid;
	char name[SYNODE_SCOPE_NAME_MAX + 1];
	struct sn_scope *sc;
};

/* Call with the read lock held. */
static struct sn_scope *
scope_of(struct synode *n, const char *name, struct scope_cache *c)
{
	if (c->valid && strcmp(c->name, name) == 0)
		return c->sc;
	c->sc = sn_scope_find(n, name);
	c->valid = true;
	strcpy(c->name, name);
	return c->sc;
}

/* Writes the answer to @p r into @p b (from its len on): FIT, CUT or NONE. */
static enum fit
answer(struct synode *n, const struct sn_lookup_req *r, struct wbuf *b,
       struct scope_cache *cache)
{
	size_t start = b->len;
	struct sn_scope *sc = scope_of(n, r->scope, cache);
	enum fit f = FIT;

	put_le(b, 0, 2);
	put_le(b, r->req_id, 4);
	put_le(b, r->op, 1);
	put_le(b, sc != NULL ? SN_LOOKUP_OK : SN_LOOKUP_INVALID_SCOPE, 1);
	if (b->full)
		return NONE;
	if (sc != NULL) {
		switch (r->op) {
		case SN_LOOKUP_OP_LOOKUP:
			f = ans_lookup(n, sc, r, b, start + 7);
			break;
		case SN_LOOKUP_OP_MEMBERS:
			f = ans_members(sc, r, b);
			break;
		case SN_LOOKUP_OP_REG_COUNT:
			if (r->node[0] == 0) {
				put_le(b, rtab_set_count(sc->reg_by_name), 8);
			} else {
				struct node_count c = { r->node, strlen(r->node), 0 };

				(void)rtab_set_foreach(sc->reg_by_name, count_node, &c);
				put_le(b, c.count, 8);
			}
			break;
		case SN_LOOKUP_OP_MEMBER_COUNT: {
			unsigned char k[SN_GRPKEY_MAX];
			size_t glen = sn_grpkey(r->key, r->key_len, k);
			const struct rtab_obj *x;
			uint64_t c = 0;

			x = glen <= RTAB_KEY_MAX ? rtab_oset_next(sc->pg_by_name, k, glen) : NULL;
			for (; x != NULL && has_prefix(x, k, glen);
			     x = rtab_oset_next_obj(sc->pg_by_name, x))
				c++;
			put_le(b, c, 8);
			break;
		}
		case SN_LOOKUP_OP_GROUP_COUNT:
			put_le(b, count_groups(sc->pg_by_name), 8);
			break;
		case SN_LOOKUP_OP_SCAN_PREFIX:
		case SN_LOOKUP_OP_SCAN_RANGE:
			f = ans_scan(n, sc, r, b);
			break;
		default:
			f = NONE;
			break;
		}
	}
	if (f == NONE || b->full)
		return NONE;
	set_le16(b->p + start, b->len - start - 2);
	return f;
}

/* An answer of @p status alone (8 bytes: always fits an empty frame). */
static void
status_item(struct out *o, uint32_t req_id, unsigned op, enum sn_lookup_status status)
{
	struct wbuf b;

	if (o->e.count >= SN_LOOKUP_ITEMS_MAX || o->e.cap - o->e.len < 8)
		out_flush(o);
	b = (struct wbuf){ o->e.buf, o->e.len, o->e.cap, false };
	put_le(&b, 6, 2);
	put_le(&b, req_id, 4);
	put_le(&b, op, 1);
	put_le(&b, status, 1);
	if (b.full)
		return;
	o->e.len = b.len;
	o->e.count++;
}

int
sn_lookup_serve(struct synode *n, const void *req, size_t len, void *buf, size_t cap,
		const struct sn_lookup_ctx *ctx, sn_lookup_emit_fn emit, void *arg,
		struct sn_lookup_stats *st)
{
	struct sn_lookup_stats dummy;
	struct scope_cache cache = { .valid = false };
	struct sn_lookup_iter it;
	struct sn_lookup_req r;
	uint8_t key_id = ctx != NULL ? ctx->key_id : 0;
	struct out o;
	int answered = 0, rc;

	if (st == NULL)
		st = &dummy;
	if (n == NULL || buf == NULL || emit == NULL || cap < SN_LOOKUP_ANSWER_CAP_MIN)
		return -EINVAL;
	if (sn_lookup_frame_check(req, len, SN_LOOKUP_REQUEST, NULL) < 0) {
		st->malformed_frames++;
		return -EBADMSG;
	}
	st->frames++;
	o = (struct out){ .buf = buf, .cap = cap, .key_id = key_id, .emit = emit, .arg = arg,
			  .st = st };
	out_reset(&o);
	sn_lookup_iter_init(&it, req, len);
	while ((rc = sn_lookup_next_req(&it, &r)) != 0) {
		if (rc == -EBADMSG) {
			st->malformed_frames++; /* the rest cannot be framed: dropped */
			break;
		}
		st->items++;
		answered++;
		if (rc < 0) {
			st->malformed_items++;
			status_item(&o, r.req_id, r.op, SN_LOOKUP_MALFORMED);
			continue;
		}
		if (ctx != NULL && ctx->allowed != NULL &&
		    !ctx->allowed(r.scope, key_id, ctx->arg)) {
			st->denied++;
			status_item(&o, r.req_id, r.op, SN_LOOKUP_DENIED);
			continue;
		}
		if (o.e.count >= SN_LOOKUP_ITEMS_MAX)
			out_flush(&o);
		for (;;) {
			/* an item's length is a u16 */
			size_t icap = o.e.cap - o.e.len > 2 + 65535 ? o.e.len + 2 + 65535 : o.e.cap;
			struct wbuf b = { o.e.buf, o.e.len, icap, false };
			enum fit f;

			urcu_memb_read_lock();
			f = answer(n, &r, &b, &cache);
			urcu_memb_read_unlock();
			if (f == FIT || (f == CUT && o.e.count == 0)) {
				o.e.len = b.len;
				o.e.count++;
				break;
			}
			if (o.e.count > 0) {
				/* again, into an empty frame: the tables are read again */
				out_flush(&o);
				continue;
			}
			st->too_big++;
			status_item(&o, r.req_id, r.op, SN_LOOKUP_TOO_BIG);
			break;
		}
	}
	out_flush(&o);
	return answered;
}
