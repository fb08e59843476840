/* SPDX-License-Identifier: MIT */
/*
 * The lookup service's wire (issue 6): how clients that are not on the
 * node's host ask a node over UDP, and how the dataplane answers straight
 * from the tables, never touching the control thread.
 *
 * A lookup frame is the payload of one UDP datagram to the node's UDP port
 * (the port of the cluster's frames: the magic tells them apart). Every
 * integer is little-endian.
 *
 *   off size field
 *     0    4 magic "SYNL"
 *     4    1 version (SN_LOOKUP_VERSION)
 *     5    1 type: 1 REQUEST, 2 ANSWER
 *     6    1 flags: bit 0 MAC (a 16-byte trailer: the frame authenticated
 *            with the lookup key of key_id); others 0
 *     7    1 key_id: 0 (open) or the lookup key's id
 *     8    2 count of items
 *    10    2 reserved, 0
 *    12      items, then the MAC trailer if flagged
 *
 * Every item (request or answer) starts with u16 len: the bytes of the
 * item after this field. The item's fields fill exactly len bytes (one
 * encoding per item); so a server skips a malformed item and answers it
 * MALFORMED by its req_id, and only a len past the frame's end (or one too
 * short to hold a req_id), or bytes after the count-th item, drop the rest
 * of the frame.
 *
 * Request item: u16 len, u32 req_id, u8 op, u8 flags (0), str8 scope
 * (1..SYNODE_SCOPE_NAME_MAX bytes), then by op:
 *   LOOKUP        str16 name
 *   MEMBERS       str16 group, u16 limit, str16 cursor
 *   REG_COUNT     str8 node (empty: the whole scope)
 *   MEMBER_COUNT  str16 group
 *   GROUP_COUNT   (nothing)
 *   SCAN_PREFIX   str16 prefix, u16 limit, str16 cursor
 *   SCAN_RANGE    str16 from (inclusive), str16 to (exclusive; empty: to
 *                 the end), u16 limit, str16 cursor
 * Names, groups: 1..SYNODE_NAME_MAX_LIMIT bytes (prefix and from may be
 * empty: everything). limit: 1..SN_LOOKUP_LIMIT_MAX.
 * A cursor is empty for the first page, else the cursor of the previous
 * answer (the last key returned: a page starts after it):
 *   MEMBERS  the pidkey of the last member: node name, 0x00, id as 8 bytes
 *            big-endian (so pages go in pid order)
 *   SCAN_*   the last name returned (1..SYNODE_NAME_MAX_LIMIT bytes)
 * A MEMBERS cursor that is no pidkey is MALFORMED.
 *
 * Answer item: u16 len, u32 req_id, u8 op, u8 status, then, for status OK,
 * by op (other statuses: nothing; MALFORMED echoes the op byte as read):
 *   LOOKUP        pid, str16 meta
 *   MEMBERS       u16 n, n x (pid, str16 meta), u8 more, str16 cursor
 *   *_COUNT       u64 count
 *   SCAN_*        u16 n, n x (str16 name, pid, str16 meta), u8 more,
 *                 str16 cursor
 * where pid = str8 node + u64 id, str8 = u8 length + bytes, str16 = u16
 * length + bytes. A page that does not fit in the answer frame is cut
 * short with more = 1 and its cursor: the client asks again from there.
 * more is 0 or 1; more = 0 has an empty cursor, more = 1 at least one
 * entry and the cursor of the last one. LOOKUP and scans leave out names
 * held by a local handle known dead (as synode_lookup does; a local OS
 * process is not checked on this path: see lookup_serve.c).
 *
 * MAC: the encoder and the server set flag MAC exactly when key_id != 0
 * (answers carry ctx->key_id, the request's) and keep SN_LOOKUP_MAC_LEN
 * bytes of their cap free after the frame, for the caller to append the
 * trailer; lengths they return leave it out.
 * Answers come in one or more frames, in any order; the client matches
 * them by req_id.
 */
#ifndef SN_LOOKUP_H
#define SN_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synode.h"

#define SN_LOOKUP_MAGIC 0x4c4e5953u     /* "SYNL" read as a little-endian u32 */
#define SN_LOOKUP_VERSION 1
#define SN_LOOKUP_HDR_LEN 12
#define SN_LOOKUP_MAC_LEN 16
/** Flags of the header (byte 6). */
#define SN_LOOKUP_F_MAC 0x01
/** The smallest cap sn_lookup_serve() takes (header, MAC room, one
 * status-only answer). */
#define SN_LOOKUP_ANSWER_CAP_MIN (SN_LOOKUP_HDR_LEN + SN_LOOKUP_MAC_LEN + 64)
/** Most items in one frame. */
#define SN_LOOKUP_ITEMS_MAX 256
/** Largest page a request may ask for. */
#define SN_LOOKUP_LIMIT_MAX 1024

enum sn_lookup_type {
	SN_LOOKUP_REQUEST = 1,
	SN_LOOKUP_ANSWER = 2,
};

enum sn_lookup_op {
	SN_LOOKUP_OP_LOOKUP = 1,
	SN_LOOKUP_OP_MEMBERS,
	SN_LOOKUP_OP_REG_COUNT,
	SN_LOOKUP_OP_MEMBER_COUNT,
	SN_LOOKUP_OP_GROUP_COUNT,
	SN_LOOKUP_OP_SCAN_PREFIX,
	SN_LOOKUP_OP_SCAN_RANGE,
	SN_LOOKUP_OP_END
};

enum sn_lookup_status {
	SN_LOOKUP_OK = 0,
	SN_LOOKUP_UNDEFINED = 1,      /* no such name (LOOKUP) */
	SN_LOOKUP_INVALID_SCOPE = 2,  /* the node does not serve the scope */
	SN_LOOKUP_MALFORMED = 3,      /* the item made no sense */
	SN_LOOKUP_TOO_BIG = 4,        /* even one entry does not fit an answer */
	SN_LOOKUP_DENIED = 5,         /* the scope wants its lookup key */
};

/** One request, decoded; pointers into the frame. */
struct sn_lookup_req {
	uint32_t req_id;
	enum sn_lookup_op op;
	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	const void *key;        /* name, group, prefix or from */
	size_t key_len;
	const void *to;         /* SCAN_RANGE: exclusive end; NULL/0: none */
	size_t to_len;
	char node[SYNODE_NODE_NAME_MAX + 1]; /* REG_COUNT: "" = all */
	unsigned limit;         /* pages: 1..SN_LOOKUP_LIMIT_MAX */
	const void *cursor;
	size_t cursor_len;
};

/* ------------------------------------------------------------- serving */

struct synode;

/** How the server sends an answer frame (any length up to cap). */
typedef void (*sn_lookup_emit_fn)(const void *frame, size_t len, void *arg);

/** Who asks: what the dataplane learned of the request frame. */
struct sn_lookup_ctx {
	uint8_t key_id;   /* the lookup key that authenticated the frame; 0: none */
	/* May the frame read @p scope? NULL: every scope is open. */
	bool (*allowed)(const char *scope, uint8_t key_id, void *arg);
	void *arg;
};

/** Counters of a server (the caller's; added to). */
struct sn_lookup_stats {
	uint64_t frames, items, answers_frames;
	uint64_t malformed_frames, malformed_items, denied, too_big;
};

/*
 * Answers the request frame @p req (@p len bytes, MAC trailer already
 * checked and cut off by the caller) from @p n's tables: builds answer
 * frames of at most @p cap bytes in @p buf and hands each to @p emit, the
 * items in the order asked. Wait-free: no lock, no allocation, no control
 * thread; the caller's thread must be RCU-registered (urcu-memb) and not in
 * a read-side section (it takes one per item). Returns the items answered,
 * or -EBADMSG if @p req is no request frame (nothing emitted: drop it;
 * counted in malformed_frames), -EINVAL (NULL n, buf or emit; cap below
 * SN_LOOKUP_ANSWER_CAP_MIN). @p ctx NULL: open, key_id 0; @p st may be
 * NULL. @p emit runs outside any read-side section; @p buf is reused for
 * the next frame once it returns.
 */
int sn_lookup_serve(struct synode *n, const void *req, size_t len, void *buf, size_t cap,
		    const struct sn_lookup_ctx *ctx, sn_lookup_emit_fn emit, void *arg,
		    struct sn_lookup_stats *st);

/* ------------------------------------------------------------- the codec */

/* Request frames (clients). Start, add items (0; -ENOSPC: the item did not
 * fit or the frame has SN_LOOKUP_ITEMS_MAX, the frame is unchanged: end it
 * and start another; -EINVAL: the request breaks the rules above), end:
 * returns the frame's length (without the MAC trailer), or -ENOSPC (cap
 * below a header). */
struct sn_lookup_enc {
	uint8_t *buf;
	size_t cap, len;
	uint16_t count;
	bool full;
};
void sn_lookup_enc_start(struct sn_lookup_enc *e, void *buf, size_t cap,
			 enum sn_lookup_type type, uint8_t key_id);
int sn_lookup_enc_req(struct sn_lookup_enc *e, const struct sn_lookup_req *r);
int sn_lookup_enc_end(struct sn_lookup_enc *e);

/* Frame header check (magic, version, type, flags, key_id with MAC flag
 * exactly when non-zero, reserved 0, count <= SN_LOOKUP_ITEMS_MAX): returns
 * the item count, or -EBADMSG. @p key_id may be NULL. */
int sn_lookup_frame_check(const void *buf, size_t len, enum sn_lookup_type type,
			  uint8_t *key_id);

/* Walks the items of a frame (the whole frame, header checked, without
 * its MAC trailer). sn_lookup_next_req returns 1 and fills @p r; 0 at the
 * end; -EPROTO for a malformed item whose req_id (and op, 0 if unread) it
 * filled in: answer it MALFORMED, the walk goes on; -EBADMSG when the
 * framing is broken (an item past the end, the count not matching): the
 * walk cannot go on, drop the rest. */
struct sn_lookup_iter {
	const uint8_t *p, *end;
	unsigned left;
};
void sn_lookup_iter_init(struct sn_lookup_iter *it, const void *frame, size_t len);
int sn_lookup_next_req(struct sn_lookup_iter *it, struct sn_lookup_req *r);

/** An answer's entry (LOOKUP's one, or one of a page), decoded. */
struct sn_lookup_entry {
	const void *name;       /* SCAN_*: the name; else NULL */
	size_t name_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
};

/** One answer item, decoded (clients). Pointers into the frame. */
struct sn_lookup_ans {
	uint32_t req_id;
	enum sn_lookup_op op;
	enum sn_lookup_status status;
	uint64_t count;         /* *_COUNT */
	unsigned n;             /* entries: LOOKUP 1, pages n */
	const uint8_t *entries; /* walk with sn_lookup_next_entry() */
	size_t entries_len;
	bool more;
	const void *cursor;
	size_t cursor_len;
};
/* As sn_lookup_next_req, for answer frames: 1, 0, -EBADMSG (an item
 * that is not exactly its op's encoding also ends the walk). */
int sn_lookup_next_ans(struct sn_lookup_iter *it, struct sn_lookup_ans *a);
/* Entry @p i of @p a in order: call with *pos = 0 first. Returns 1, 0 at
 * the end, -EBADMSG. */
int sn_lookup_next_entry(const struct sn_lookup_ans *a, size_t *pos,
			 struct sn_lookup_entry *e);

#endif /* SN_LOOKUP_H */
