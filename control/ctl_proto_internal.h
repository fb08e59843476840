/* SPDX-License-Identifier: MIT */
/*
 * Private to control/ and the client library: the control-socket protocol
 * codec (ctl_proto.c, where the table of every message and its fields is).
 *
 * A frame is a 12-byte header (u32 length of the whole frame, u16
 * protocol version, u16 message type, u32 request id, little endian) and
 * then the fields of its type. The decoder is a pure function over a byte
 * buffer: it allocates nothing, reads nothing past the bytes it is given,
 * and points into them for names and meta. The encoder writes into a
 * caller's buffer. Both are MT-safe (no state).
 */
#ifndef SN_CTL_PROTO_INTERNAL_H
#define SN_CTL_PROTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "synode.h"

/** The protocol version this code speaks (the only one so far). */
#define CTL_PROTO_VERSION 1
/** Bytes of the frame header. */
#define CTL_HDR_LEN 12
/** Largest frame, header included. */
#define CTL_FRAME_MAX (128 * 1024)
/** Most versions a HELLO or an ERROR may list. */
#define CTL_VERSIONS_MAX 16
/** Longest text of an ERROR frame, in bytes. */
#define CTL_TEXT_MAX 127
/** Longest peer state or address string, in bytes. */
#define CTL_STR_MAX 63

/** Message types. Requests (client to node) are below 0x80; answers and
 * events (node to client) from 0x81. */
enum ctl_msg_type {
	CTL_MSG_HELLO = 0x01,
	CTL_MSG_STATUS,
	CTL_MSG_NODES,
	CTL_MSG_SCOPES,
	CTL_MSG_ADD_SCOPE,
	CTL_MSG_HANDLE_NEW,
	CTL_MSG_HANDLE_CLOSE,
	CTL_MSG_REGISTER,
	CTL_MSG_UPDATE,
	CTL_MSG_UNREGISTER,
	CTL_MSG_LOOKUP,
	CTL_MSG_REGISTRY,
	CTL_MSG_REGISTRY_COUNT,
	CTL_MSG_JOIN,
	CTL_MSG_LEAVE,
	CTL_MSG_UPDATE_MEMBER,
	CTL_MSG_MEMBERS,
	CTL_MSG_IS_MEMBER,
	CTL_MSG_MEMBER_COUNT,
	CTL_MSG_GROUP_NAMES,
	CTL_MSG_GROUP_COUNT,
	CTL_MSG_WATCH,
	CTL_MSG_REQUEST_END,       /* not a type: one past the last request */

	CTL_MSG_HELLO_OK = 0x81,
	CTL_MSG_RESULT,
	CTL_MSG_ERROR,
	CTL_MSG_STATUS_INFO,
	CTL_MSG_SCOPE_ITEM,
	CTL_MSG_PEER_ITEM,
	CTL_MSG_PID,
	CTL_MSG_LOOKUP_OK,
	CTL_MSG_REG_ITEM,
	CTL_MSG_MEMBER_ITEM,
	CTL_MSG_GROUP_ITEM,
	CTL_MSG_END,
	CTL_MSG_EVENT,
	CTL_MSG_ANSWER_END,        /* not a type: one past the last answer */
};

/** What a WATCH filters on (ctl_msg.kind of a WATCH). */
enum ctl_watch_kind {
	CTL_WATCH_SCOPE = 0,  /* every event of the scope; no key */
	CTL_WATCH_NAME = 1,   /* registry events of name key */
	CTL_WATCH_GROUP = 2,  /* group events of group key */
};

/** HELLO_OK flags. */
#define CTL_FLAG_STRICT 0x01u

/** Decoder errors, returned negated. */
enum ctl_decode_error {
	CTL_ETRUNCATED = 1, /* fewer bytes than the frame: read more */
	CTL_ETOOBIG,        /* declared length over CTL_FRAME_MAX */
	CTL_EBADLEN,        /* declared length under CTL_HDR_LEN */
	CTL_EVERSION,       /* a protocol version we do not speak */
	CTL_ETYPE,          /* unknown message type */
	CTL_EFIELD,         /* a field overruns the frame, is out of range,
			     * or bytes are left over after the last field */
};

/** Name of a decoder error (negative or positive). Never NULL. */
const char *ctl_decode_strerror(int err);

/** The link's figures for a peer, as PEER_ITEM carries them. */
struct ctl_peer_figures {
	uint32_t version;       /* protocol version spoken; 0: none yet */
	uint64_t rtt_ns;        /* smoothed round-trip time; 0: unknown */
	uint64_t frames_tx, frames_rx;
	uint64_t bytes_tx, bytes_rx;
	uint64_t retransmits, drops;
};

/**
 * A decoded (or to-be-encoded) message: one flat structure whose fields
 * each type uses a subset of (see the table in ctl_proto.c). Strings that
 * the node uses as C strings are copied, NUL-terminated; key and meta point
 * into the decoded buffer and live as long as it does.
 */
struct ctl_msg {
	uint16_t type;          /* enum ctl_msg_type */
	uint32_t req_id;        /* an answer carries its request's id */

	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	/* node: node name (HELLO_OK, STATUS_INFO, PEER_ITEM), or the node
	 * filter of a listing or count when has_node (else: every node). */
	bool has_node;
	char node[SYNODE_NODE_NAME_MAX + 1];
	const void *key;        /* registry name or group name */
	size_t key_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	bool has_prev_meta;
	const void *prev_meta;
	size_t prev_meta_len;
	struct synode_time time;
	int64_t value;          /* RESULT, END: count or -error */
	uint8_t kind;           /* WATCH: ctl_watch_kind; EVENT: synode_event_kind */
	struct synode_reason reason;
	uint16_t version;       /* HELLO_OK: the version agreed */
	uint8_t n_versions;     /* HELLO: versions the client speaks;
				 * ERROR: those the node speaks */
	uint16_t versions[CTL_VERSIONS_MAX];
	uint32_t max_name_len, max_meta_len;
	uint8_t flags;          /* HELLO_OK: CTL_FLAG_* */
	struct synode_stats stats;
	int32_t code;           /* ERROR: -errno or -SYNODE_E* */
	char text[CTL_TEXT_MAX + 1];
	/* PEER_ITEM: the peer's state ("up", ...) and address, and the link's
	 * figures for it (struct synode_peer_info). */
	char state[CTL_STR_MAX + 1], address[CTL_STR_MAX + 1];
	struct ctl_peer_figures peer;
};

/** Clears @p m and sets its type and request id. */
void ctl_msg_init(struct ctl_msg *m, uint16_t type, uint32_t req_id);

/** True if @p type is a known request or answer type. */
bool ctl_msg_type_valid(unsigned type);

/**
 * Decodes the frame at the start of @p buf (@p len bytes available).
 * Returns its length (> 0) and fills @p m, or a negative -CTL_E*:
 * the header is checked first (truncated, too big, bad length, version,
 * type, in this order: a reader learns a frame is hopeless from its
 * header alone), then the frame's bytes must all be there
 * (-CTL_ETRUNCATED), then its fields (-CTL_EFIELD). @p m is undefined after
 * an error. Never reads outside buf[0, len).
 */
int ctl_decode(const void *buf, size_t len, struct ctl_msg *m);

/**
 * Reads only the header at the start of @p buf: fills any non-NULL of
 * @p frame_len, @p version, @p type, @p req_id. Returns 0, or
 * -CTL_ETRUNCATED if @p len < CTL_HDR_LEN. Checks nothing else.
 */
int ctl_peek_header(const void *buf, size_t len, uint32_t *frame_len,
		    uint16_t *version, uint16_t *type, uint32_t *req_id);

/**
 * Encodes @p m (the fields its type uses) into @p buf. Returns the frame's
 * length, or -ENOSPC (@p size too small), -EINVAL (unknown type, a field
 * out of range: a string or name or meta too long, a string holding a NUL,
 * a bad kind or count).
 */
int ctl_encode(const struct ctl_msg *m, void *buf, size_t size);

/** Encodes an ERROR frame (code, text, and the versions this code speaks).
 * Returns its length or -ENOSPC. */
int ctl_encode_error(void *buf, size_t size, uint32_t req_id, int32_t code,
		     const char *text);

/** Encodes a RESULT (or, with @p type CTL_MSG_END, an END) frame. */
int ctl_encode_result(void *buf, size_t size, uint16_t type, uint32_t req_id,
		      int64_t value);

/* The u64 counters of struct synode_stats, in their order on the wire. */
#define CTL_STATS_N (sizeof(struct synode_stats) / sizeof(uint64_t))
_Static_assert(sizeof(struct synode_stats) % sizeof(uint64_t) == 0,
	       "struct synode_stats: u64 counters only");

static inline uint64_t
ctl_stats_get(const struct synode_stats *st, size_t i)
{
	uint64_t v;

	memcpy(&v, (const unsigned char *)st + i * sizeof(v), sizeof(v));
	return v;
}

static inline void
ctl_stats_set(struct synode_stats *st, size_t i, uint64_t v)
{
	memcpy((unsigned char *)st + i * sizeof(v), &v, sizeof(v));
}

#endif /* SN_CTL_PROTO_INTERNAL_H */
