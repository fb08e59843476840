/* SPDX-License-Identifier: MIT */
/*
 * The control-socket protocol: codec of frames between a node
 * (ctl_server.c) and its clients (client.c, synodectl).
 *
 * Frame. Every integer is little endian; every frame is
 *
 *     u32 length      of the whole frame, header included, 12..131072
 *     u16 version     1
 *     u16 type        see below
 *     u32 request id  chosen by the client; an answer repeats it
 *     fields          as the table below says for the type, in order,
 *                     and nothing after the last one
 *
 * Field encodings:
 *
 *     str8(max)   u8 length (<= max) + bytes, no NUL byte among them
 *     scope       str8(63)
 *     node        str8(63)
 *     node?       u8 0 (every node) | u8 1 + node (that node only; the
 *                 node's own name means local)
 *     key         u16 length (<= SYNODE_NAME_MAX_LIMIT) + bytes: a
 *                 registry name or a group name, any bytes
 *     meta        u32 length (<= SYNODE_META_MAX_LIMIT) + bytes
 *     prev_meta?  u8 0 (none) | u8 1 + meta
 *     pid         node + u64 id
 *     time        u64 wall ns + u32 logical
 *     value       i64: a count (>= 0) or a negative error (-SYNODE_E*,
 *                 -errno as Linux numbers it)
 *     versions    u8 count (<= 16) + count x u16
 *     limits      u32 max name length + u32 max meta length + u8 flags
 *                 (bit 0: strict mode; other bits 0)
 *     stats       13 x u64, struct synode_stats in its order: requests,
 *                 events, monitors, clients, client_errors,
 *                 subscribers_dropped, peer_messages, drops_bad_mac,
 *                 drops_malformed, drops_truncated, drops_replayed,
 *                 drops_unknown_peer, drops_unknown_scope
 *     watch       u8 0 (whole scope) | u8 1 + key (that registry name) |
 *                 u8 2 + key (that group)
 *     ev_kind     u8 enum synode_event_kind (0..5)
 *     reason      u8 enum synode_reason_kind (0..6) + i32 code
 *     error       i32 code (negative, as value) + str8(127) text
 *     peer        str8(63) state + str8(63) address + u32 protocol
 *                 version (0: none yet) + u64 round-trip time in ns (0:
 *                 unknown) + 6 x u64: frames sent, frames received,
 *                 bytes sent, bytes received, retransmits, drops
 *
 * Requests (client to node), and what the node answers:
 *
 *     type                   fields                  answer
 *     0x01 HELLO             versions                HELLO_OK | ERROR
 *     0x02 STATUS            -                       STATUS_INFO, SCOPE_ITEM*,
 *                                                    PEER_ITEM*, END(scopes)
 *     0x03 NODES             scope                   PEER_ITEM*, END
 *     0x04 SCOPES            -                       SCOPE_ITEM*, END
 *     0x05 ADD_SCOPE         scope                   RESULT
 *     0x06 HANDLE_NEW        -                       PID | RESULT(error)
 *     0x07 HANDLE_CLOSE      pid                     RESULT
 *     0x08 REGISTER          scope key pid meta      RESULT
 *     0x09 UPDATE            scope key meta          RESULT
 *     0x0a UNREGISTER        scope key               RESULT
 *     0x0b LOOKUP            scope key               LOOKUP_OK | RESULT(error)
 *     0x0c REGISTRY          scope node?             REG_ITEM*, END
 *     0x0d REGISTRY_COUNT    scope node?             RESULT
 *     0x0e JOIN              scope key pid meta      RESULT
 *     0x0f LEAVE             scope key pid           RESULT
 *     0x10 UPDATE_MEMBER     scope key pid meta      RESULT
 *     0x11 MEMBERS           scope key node?         MEMBER_ITEM*, END
 *     0x12 IS_MEMBER         scope key pid           RESULT (1 or 0)
 *     0x13 MEMBER_COUNT      scope key node?         RESULT
 *     0x14 GROUP_NAMES       scope node?             GROUP_ITEM*, END
 *     0x15 GROUP_COUNT       scope node?             RESULT
 *     0x16 WATCH             scope watch             RESULT, then EVENT*
 *
 * Answers (node to client):
 *
 *     0x81 HELLO_OK          version node limits
 *     0x82 RESULT            value
 *     0x83 ERROR             error versions     (the node closes after it)
 *     0x84 STATUS_INFO       node stats
 *     0x85 SCOPE_ITEM        scope
 *     0x86 PEER_ITEM         node scope peer
 *     0x87 PID               pid
 *     0x88 LOOKUP_OK         pid meta
 *     0x89 REG_ITEM          key pid meta time
 *     0x8a MEMBER_ITEM       pid meta time
 *     0x8b GROUP_ITEM        key
 *     0x8c END               value: the number of items, or -error
 *     0x8d EVENT             ev_kind scope key pid meta prev_meta? reason
 *
 * Peers. NODES answers one PEER_ITEM per node of the scope's subcluster,
 * its scope field the scope asked. STATUS answers, for each peer the link
 * knows, one PEER_ITEM per scope that peer shares with the node, or a
 * single one with scope "" if it shares none; a peer's items are
 * consecutive and carry the same state, address and figures (a client
 * groups them into one peer with a list of scopes).
 *
 * A connection starts with HELLO, and then one request at a time: the
 * client sends the next one after the whole answer (several frames may be
 * sent at once; they are answered in order). Listings may hold millions
 * of entries: they stream one item per frame and end with END. After a
 * successful WATCH the node sends only EVENT frames (request id: the
 * WATCH's) and answers any further request with RESULT(-EBUSY).
 *
 * ERROR ends a connection; its codes: -EPROTONOSUPPORT (a frame of a
 * version the node does not speak, or a HELLO without version 1; the
 * frame lists the versions the node speaks), -EBADMSG (a malformed frame,
 * a request before HELLO, an answer's type sent as a request), -EMSGSIZE
 * (a frame declared over 128 KiB), -EACCES (the peer's uid/gid refused at
 * accept), -EMFILE (too many connections), -ENOMEM, -ENOBUFS (a watcher
 * dropped: it fell too far behind).
 *
 * The largest frame (an EVENT with the longest name and two metas) fits
 * the limit (static_assert below).
 *
 * Every encoding is canonical (one byte string per message): the decoder
 * refuses flags other than 0/1, trailing bytes, out-of-range kinds, so that
 * decode-then-encode gives back the input (tests/ctl/fuzz_ctl_proto.c).
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "ctl_proto_internal.h"

/* Field codes of the layout table. */
enum ctl_field {
	F_END = 0,
	F_VERSIONS,
	F_VERSION,
	F_SCOPE,
	F_NODE,
	F_NODE_OPT,
	F_KEY,
	F_META,
	F_PREV_META_OPT,
	F_PID,
	F_TIME,
	F_VALUE,
	F_LIMITS,
	F_STATS,
	F_WATCH,
	F_EV_KIND,
	F_REASON,
	F_ERROR,
	F_PEER,
};

#define CTL_FIELDS_MAX 8

struct ctl_layout {
	uint8_t f[CTL_FIELDS_MAX];
};

static const struct ctl_layout req_layout[CTL_MSG_REQUEST_END] = {
	[CTL_MSG_HELLO] = {{F_VERSIONS}},
	[CTL_MSG_STATUS] = {{F_END}},
	[CTL_MSG_NODES] = {{F_SCOPE}},
	[CTL_MSG_SCOPES] = {{F_END}},
	[CTL_MSG_ADD_SCOPE] = {{F_SCOPE}},
	[CTL_MSG_HANDLE_NEW] = {{F_END}},
	[CTL_MSG_HANDLE_CLOSE] = {{F_PID}},
	[CTL_MSG_REGISTER] = {{F_SCOPE, F_KEY, F_PID, F_META}},
	[CTL_MSG_UPDATE] = {{F_SCOPE, F_KEY, F_META}},
	[CTL_MSG_UNREGISTER] = {{F_SCOPE, F_KEY}},
	[CTL_MSG_LOOKUP] = {{F_SCOPE, F_KEY}},
	[CTL_MSG_REGISTRY] = {{F_SCOPE, F_NODE_OPT}},
	[CTL_MSG_REGISTRY_COUNT] = {{F_SCOPE, F_NODE_OPT}},
	[CTL_MSG_JOIN] = {{F_SCOPE, F_KEY, F_PID, F_META}},
	[CTL_MSG_LEAVE] = {{F_SCOPE, F_KEY, F_PID}},
	[CTL_MSG_UPDATE_MEMBER] = {{F_SCOPE, F_KEY, F_PID, F_META}},
	[CTL_MSG_MEMBERS] = {{F_SCOPE, F_KEY, F_NODE_OPT}},
	[CTL_MSG_IS_MEMBER] = {{F_SCOPE, F_KEY, F_PID}},
	[CTL_MSG_MEMBER_COUNT] = {{F_SCOPE, F_KEY, F_NODE_OPT}},
	[CTL_MSG_GROUP_NAMES] = {{F_SCOPE, F_NODE_OPT}},
	[CTL_MSG_GROUP_COUNT] = {{F_SCOPE, F_NODE_OPT}},
	[CTL_MSG_WATCH] = {{F_SCOPE, F_WATCH}},
};

static const struct ctl_layout ans_layout[CTL_MSG_ANSWER_END - CTL_MSG_HELLO_OK] = {
	[CTL_MSG_HELLO_OK - CTL_MSG_HELLO_OK] = {{F_VERSION, F_NODE, F_LIMITS}},
	[CTL_MSG_RESULT - CTL_MSG_HELLO_OK] = {{F_VALUE}},
	[CTL_MSG_ERROR - CTL_MSG_HELLO_OK] = {{F_ERROR, F_VERSIONS}},
	[CTL_MSG_STATUS_INFO - CTL_MSG_HELLO_OK] = {{F_NODE, F_STATS}},
	[CTL_MSG_SCOPE_ITEM - CTL_MSG_HELLO_OK] = {{F_SCOPE}},
	[CTL_MSG_PEER_ITEM - CTL_MSG_HELLO_OK] = {{F_NODE, F_SCOPE, F_PEER}},
	[CTL_MSG_PID - CTL_MSG_HELLO_OK] = {{F_PID}},
	[CTL_MSG_LOOKUP_OK - CTL_MSG_HELLO_OK] = {{F_PID, F_META}},
	[CTL_MSG_REG_ITEM - CTL_MSG_HELLO_OK] = {{F_KEY, F_PID, F_META, F_TIME}},
	[CTL_MSG_MEMBER_ITEM - CTL_MSG_HELLO_OK] = {{F_PID, F_META, F_TIME}},
	[CTL_MSG_GROUP_ITEM - CTL_MSG_HELLO_OK] = {{F_KEY}},
	[CTL_MSG_END - CTL_MSG_HELLO_OK] = {{F_VALUE}},
	[CTL_MSG_EVENT - CTL_MSG_HELLO_OK] =
		{{F_EV_KIND, F_SCOPE, F_KEY, F_PID, F_META, F_PREV_META_OPT, F_REASON}},
};

/* The largest frame: an EVENT with the longest name, meta and prev_meta. */
#define CTL_PID_MAX (1 + SYNODE_NODE_NAME_MAX + 8)
#define CTL_EVENT_MAX                                                          \
	(CTL_HDR_LEN + 1 + (1 + SYNODE_SCOPE_NAME_MAX) +                       \
	 (2 + SYNODE_NAME_MAX_LIMIT) + CTL_PID_MAX +                           \
	 (4 + SYNODE_META_MAX_LIMIT) + (1 + 4 + SYNODE_META_MAX_LIMIT) + (1 + 4))
static_assert(CTL_EVENT_MAX <= CTL_FRAME_MAX, "an event must fit a frame");
static_assert(SYNODE_NAME_MAX_LIMIT <= UINT16_MAX, "key length is a u16");
static_assert(SYNODE_SCOPE_NAME_MAX <= UINT8_MAX && SYNODE_NODE_NAME_MAX <= UINT8_MAX &&
		      CTL_TEXT_MAX <= UINT8_MAX, "strings are str8");

static const struct ctl_layout *
layout_of(unsigned type)
{
	if (type >= CTL_MSG_HELLO && type < CTL_MSG_REQUEST_END)
		return &req_layout[type];
	if (type >= CTL_MSG_HELLO_OK && type < CTL_MSG_ANSWER_END)
		return &ans_layout[type - CTL_MSG_HELLO_OK];
	return NULL;
}

bool
ctl_msg_type_valid(unsigned type)
{
	return layout_of(type) != NULL;
}

void
ctl_msg_init(struct ctl_msg *m, uint16_t type, uint32_t req_id)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->req_id = req_id;
}

const char *
ctl_decode_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case CTL_ETRUNCATED: return "truncated frame";
	case CTL_ETOOBIG: return "frame over the size limit";
	case CTL_EBADLEN: return "frame length shorter than a header";
	case CTL_EVERSION: return "unsupported protocol version";
	case CTL_ETYPE: return "unknown message type";
	case CTL_EFIELD: return "malformed field";
	default: return "unknown decoder error";
	}
}

/* ---------------------------------------------------------------- reading */

/* A cursor over the fields of one frame; every read checks the bytes left. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static uint64_t
le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool
rd_uint(struct rd *r, unsigned n, uint64_t *v)
{
	if (r->left < n)
		return false;
	*v = le_get(r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static bool
rd_u8(struct rd *r, uint8_t *v)
{
	uint64_t x;

	if (!rd_uint(r, 1, &x))
		return false;
	*v = (uint8_t)x;
	return true;
}

static bool
rd_bytes(struct rd *r, size_t n, const void **out)
{
	if (r->left < n)
		return false;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

/* str8 into @p dst (max + 1 bytes), NUL-terminated. */
static bool
rd_str(struct rd *r, size_t max, char *dst)
{
	uint8_t len;
	const void *s;

	if (!rd_u8(r, &len) || len > max || !rd_bytes(r, len, &s))
		return false;
	if (memchr(s, '\0', len) != NULL)
		return false; /* would cut the C string: not canonical */
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/* u16-length key, or u32-length meta, with its limit. */
static bool
rd_blob(struct rd *r, unsigned len_bytes, size_t max, const void **p, size_t *len)
{
	uint64_t n;

	if (!rd_uint(r, len_bytes, &n) || n > max)
		return false;
	*len = (size_t)n;
	return rd_bytes(r, *len, p);
}

static bool
rd_flag(struct rd *r, bool *flag)
{
	uint8_t v;

	if (!rd_u8(r, &v) || v > 1)
		return false;
	*flag = v == 1;
	return true;
}

static bool
rd_pid(struct rd *r, struct synode_pid *pid)
{
	return rd_str(r, SYNODE_NODE_NAME_MAX, pid->node) && rd_uint(r, 8, &pid->id);
}

static bool
rd_versions(struct rd *r, struct ctl_msg *m)
{
	uint64_t v;

	if (!rd_u8(r, &m->n_versions) || m->n_versions > CTL_VERSIONS_MAX)
		return false;
	for (unsigned i = 0; i < m->n_versions; i++) {
		if (!rd_uint(r, 2, &v))
			return false;
		m->versions[i] = (uint16_t)v;
	}
	return true;
}

static bool
rd_field(struct rd *r, enum ctl_field f, struct ctl_msg *m)
{
	uint64_t v, w;
	uint8_t b;

	switch (f) {
	case F_END:
		return true;
	case F_VERSIONS:
		return rd_versions(r, m);
	case F_VERSION:
		if (!rd_uint(r, 2, &v))
			return false;
		m->version = (uint16_t)v;
		return true;
	case F_SCOPE:
		return rd_str(r, SYNODE_SCOPE_NAME_MAX, m->scope);
	case F_NODE:
		m->has_node = true;
		return rd_str(r, SYNODE_NODE_NAME_MAX, m->node);
	case F_NODE_OPT:
		if (!rd_flag(r, &m->has_node))
			return false;
		return !m->has_node || rd_str(r, SYNODE_NODE_NAME_MAX, m->node);
	case F_KEY:
		return rd_blob(r, 2, SYNODE_NAME_MAX_LIMIT, &m->key, &m->key_len);
	case F_META:
		return rd_blob(r, 4, SYNODE_META_MAX_LIMIT, &m->meta, &m->meta_len);
	case F_PREV_META_OPT:
		if (!rd_flag(r, &m->has_prev_meta))
			return false;
		return !m->has_prev_meta ||
		       rd_blob(r, 4, SYNODE_META_MAX_LIMIT, &m->prev_meta, &m->prev_meta_len);
	case F_PID:
		return rd_pid(r, &m->pid);
	case F_TIME:
		if (!rd_uint(r, 8, &m->time.wall_ns) || !rd_uint(r, 4, &v))
			return false;
		m->time.logical = (uint32_t)v;
		return true;
	case F_VALUE:
		if (!rd_uint(r, 8, &v))
			return false;
		m->value = (int64_t)v;
		return true;
	case F_LIMITS:
		if (!rd_uint(r, 4, &v) || !rd_uint(r, 4, &w) || !rd_u8(r, &m->flags))
			return false;
		m->max_name_len = (uint32_t)v;
		m->max_meta_len = (uint32_t)w;
		return (m->flags & ~CTL_FLAG_STRICT) == 0;
	case F_STATS:
		for (size_t i = 0; i < CTL_STATS_N; i++) {
			if (!rd_uint(r, 8, &v))
				return false;
			ctl_stats_set(&m->stats, i, v);
		}
		return true;
	case F_WATCH:
		if (!rd_u8(r, &m->kind) || m->kind > CTL_WATCH_GROUP)
			return false;
		return m->kind == CTL_WATCH_SCOPE ||
		       rd_blob(r, 2, SYNODE_NAME_MAX_LIMIT, &m->key, &m->key_len);
	case F_EV_KIND:
		return rd_u8(r, &m->kind) && m->kind <= SYNODE_EV_LEFT;
	case F_REASON:
		if (!rd_u8(r, &b) || b > SYNODE_REASON_UNDEFINED || !rd_uint(r, 4, &v))
			return false;
		m->reason.kind = (enum synode_reason_kind)b;
		m->reason.code = (int32_t)(uint32_t)v;
		return true;
	case F_ERROR:
		if (!rd_uint(r, 4, &v))
			return false;
		m->code = (int32_t)(uint32_t)v;
		return rd_str(r, CTL_TEXT_MAX, m->text);
	case F_PEER:
		if (!rd_str(r, CTL_STR_MAX, m->state) || !rd_str(r, CTL_STR_MAX, m->address) ||
		    !rd_uint(r, 4, &v))
			return false;
		m->peer.version = (uint32_t)v;
		return rd_uint(r, 8, &m->peer.rtt_ns) && rd_uint(r, 8, &m->peer.frames_tx) &&
		       rd_uint(r, 8, &m->peer.frames_rx) && rd_uint(r, 8, &m->peer.bytes_tx) &&
		       rd_uint(r, 8, &m->peer.bytes_rx) &&
		       rd_uint(r, 8, &m->peer.retransmits) && rd_uint(r, 8, &m->peer.drops);
	}
	return false;
}

int
ctl_peek_header(const void *buf, size_t len, uint32_t *frame_len, uint16_t *version,
		uint16_t *type, uint32_t *req_id)
{
	const uint8_t *p = buf;

	if (len < CTL_HDR_LEN)
		return -CTL_ETRUNCATED;
	if (frame_len != NULL)
		*frame_len = (uint32_t)le_get(p, 4);
	if (version != NULL)
		*version = (uint16_t)le_get(p + 4, 2);
	if (type != NULL)
		*type = (uint16_t)le_get(p + 6, 2);
	if (req_id != NULL)
		*req_id = (uint32_t)le_get(p + 8, 4);
	return 0;
}

int
ctl_decode(const void *buf, size_t len, struct ctl_msg *m)
{
	uint32_t flen, req_id;
	uint16_t version, type;
	const struct ctl_layout *lay;
	struct rd r;

	if (ctl_peek_header(buf, len, &flen, &version, &type, &req_id) < 0)
		return -CTL_ETRUNCATED;
	if (flen > CTL_FRAME_MAX)
		return -CTL_ETOOBIG;
	if (flen < CTL_HDR_LEN)
		return -CTL_EBADLEN;
	if (version != CTL_PROTO_VERSION)
		return -CTL_EVERSION;
	lay = layout_of(type);
	if (lay == NULL)
		return -CTL_ETYPE;
	if (len < flen)
		return -CTL_ETRUNCATED;

	ctl_msg_init(m, type, req_id);
	r.p = (const uint8_t *)buf + CTL_HDR_LEN;
	r.left = flen - CTL_HDR_LEN;
	for (unsigned i = 0; i < CTL_FIELDS_MAX && lay->f[i] != F_END; i++)
		if (!rd_field(&r, (enum ctl_field)lay->f[i], m))
			return -CTL_EFIELD;
	if (r.left != 0)
		return -CTL_EFIELD;
	return (int)flen;
}

/* ---------------------------------------------------------------- writing */

/* A cursor over the caller's buffer: a write past its end marks it full and
 * writes nothing, so the encoder checks once at the end. */
struct wr {
	uint8_t *p;
	size_t left;
	bool full;
};

static void
wr_uint(struct wr *w, unsigned n, uint64_t v)
{
	if (w->full || w->left < n) {
		w->full = true;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		w->p[i] = (uint8_t)(v >> (8 * i));
	w->p += n;
	w->left -= n;
}

static void
wr_bytes(struct wr *w, const void *s, size_t n)
{
	if (w->full || w->left < n) {
		w->full = true;
		return;
	}
	if (n > 0)
		memcpy(w->p, s, n);
	w->p += n;
	w->left -= n;
}

static bool
wr_str(struct wr *w, const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len > max)
		return false;
	wr_uint(w, 1, len);
	wr_bytes(w, s, len);
	return true;
}

static bool
wr_blob(struct wr *w, unsigned len_bytes, size_t max, const void *p, size_t len)
{
	if (len > max || (len > 0 && p == NULL))
		return false;
	wr_uint(w, len_bytes, len);
	wr_bytes(w, p, len);
	return true;
}

static bool
wr_field(struct wr *w, enum ctl_field f, const struct ctl_msg *m)
{
	switch (f) {
	case F_END:
		return true;
	case F_VERSIONS:
		if (m->n_versions > CTL_VERSIONS_MAX)
			return false;
		wr_uint(w, 1, m->n_versions);
		for (unsigned i = 0; i < m->n_versions; i++)
			wr_uint(w, 2, m->versions[i]);
		return true;
	case F_VERSION:
		wr_uint(w, 2, m->version);
		return true;
	case F_SCOPE:
		return wr_str(w, m->scope, SYNODE_SCOPE_NAME_MAX);
	case F_NODE:
		return wr_str(w, m->node, SYNODE_NODE_NAME_MAX);
	case F_NODE_OPT:
		wr_uint(w, 1, m->has_node);
		return !m->has_node || wr_str(w, m->node, SYNODE_NODE_NAME_MAX);
	case F_KEY:
		return wr_blob(w, 2, SYNODE_NAME_MAX_LIMIT, m->key, m->key_len);
	case F_META:
		return wr_blob(w, 4, SYNODE_META_MAX_LIMIT, m->meta, m->meta_len);
	case F_PREV_META_OPT:
		wr_uint(w, 1, m->has_prev_meta);
		return !m->has_prev_meta ||
		       wr_blob(w, 4, SYNODE_META_MAX_LIMIT, m->prev_meta, m->prev_meta_len);
	case F_PID:
		if (!wr_str(w, m->pid.node, SYNODE_NODE_NAME_MAX))
			return false;
		wr_uint(w, 8, m->pid.id);
		return true;
	case F_TIME:
		wr_uint(w, 8, m->time.wall_ns);
		wr_uint(w, 4, m->time.logical);
		return true;
	case F_VALUE:
		wr_uint(w, 8, (uint64_t)m->value);
		return true;
	case F_LIMITS:
		if ((m->flags & ~CTL_FLAG_STRICT) != 0)
			return false;
		wr_uint(w, 4, m->max_name_len);
		wr_uint(w, 4, m->max_meta_len);
		wr_uint(w, 1, m->flags);
		return true;
	case F_STATS:
		for (size_t i = 0; i < CTL_STATS_N; i++)
			wr_uint(w, 8, ctl_stats_get(&m->stats, i));
		return true;
	case F_WATCH:
		if (m->kind > CTL_WATCH_GROUP)
			return false;
		wr_uint(w, 1, m->kind);
		return m->kind == CTL_WATCH_SCOPE ||
		       wr_blob(w, 2, SYNODE_NAME_MAX_LIMIT, m->key, m->key_len);
	case F_EV_KIND:
		if (m->kind > SYNODE_EV_LEFT)
			return false;
		wr_uint(w, 1, m->kind);
		return true;
	case F_REASON:
		if ((unsigned)m->reason.kind > SYNODE_REASON_UNDEFINED)
			return false;
		wr_uint(w, 1, (unsigned)m->reason.kind);
		wr_uint(w, 4, (uint32_t)m->reason.code);
		return true;
	case F_ERROR:
		wr_uint(w, 4, (uint32_t)m->code);
		return wr_str(w, m->text, CTL_TEXT_MAX);
	case F_PEER:
		if (!wr_str(w, m->state, CTL_STR_MAX) || !wr_str(w, m->address, CTL_STR_MAX))
			return false;
		wr_uint(w, 4, m->peer.version);
		wr_uint(w, 8, m->peer.rtt_ns);
		wr_uint(w, 8, m->peer.frames_tx);
		wr_uint(w, 8, m->peer.frames_rx);
		wr_uint(w, 8, m->peer.bytes_tx);
		wr_uint(w, 8, m->peer.bytes_rx);
		wr_uint(w, 8, m->peer.retransmits);
		wr_uint(w, 8, m->peer.drops);
		return true;
	}
	return false;
}

int
ctl_encode(const struct ctl_msg *m, void *buf, size_t size)
{
	const struct ctl_layout *lay = layout_of(m->type);
	struct wr w;
	size_t len;

	if (lay == NULL)
		return -EINVAL;
	if (size > CTL_FRAME_MAX)
		size = CTL_FRAME_MAX; /* a frame never grows past the limit */
	w.p = buf;
	w.left = size;
	w.full = false;
	wr_uint(&w, 4, 0); /* length, patched below */
	wr_uint(&w, 2, CTL_PROTO_VERSION);
	wr_uint(&w, 2, m->type);
	wr_uint(&w, 4, m->req_id);
	for (unsigned i = 0; i < CTL_FIELDS_MAX && lay->f[i] != F_END; i++)
		if (!wr_field(&w, (enum ctl_field)lay->f[i], m))
			return -EINVAL;
	if (w.full)
		return -ENOSPC;
	len = size - w.left;
	w.p = buf;
	w.left = 4;
	wr_uint(&w, 4, len);
	return (int)len;
}

int
ctl_encode_error(void *buf, size_t size, uint32_t req_id, int32_t code, const char *text)
{
	struct ctl_msg m;

	ctl_msg_init(&m, CTL_MSG_ERROR, req_id);
	m.code = code;
	/* Truncated to the field's limit; a NUL ends it anyway. */
	strncpy(m.text, text != NULL ? text : "", CTL_TEXT_MAX);
	m.n_versions = 1;
	m.versions[0] = CTL_PROTO_VERSION;
	return ctl_encode(&m, buf, size);
}

int
ctl_encode_result(void *buf, size_t size, uint16_t type, uint32_t req_id, int64_t value)
{
	struct ctl_msg m;

	if (type != CTL_MSG_RESULT && type != CTL_MSG_END)
		return -EINVAL;
	ctl_msg_init(&m, type, req_id);
	m.value = value;
	return ctl_encode(&m, buf, size);
}
