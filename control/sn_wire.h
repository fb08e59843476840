/* SPDX-License-Identifier: MIT */
/*
 * The messages nodes send each other (DESIGN.md, Wire), and their codec.
 *
 * A message is a 4-byte header and a body:
 *
 *   u8 type | u8 flags (0) | u16 body length (little-endian) | body
 *
 * Many messages go in one frame, and a message larger than a frame is cut
 * into segments by the dataplane's reliable channel and put together again
 * on the other side: a message is never longer than SN_WIRE_MSG_MAX. The
 * frame around them (addresses, sessions, sequence numbers, acks, the MAC)
 * is the dataplane's (dataplane/dp_frame.h).
 *
 * Bodies, every integer little-endian:
 *   DISCOVER, ACK_SYNC     str8 scope
 *   SYNC_REGISTER/JOIN     str8 scope, str16 name (or group), pid, time,
 *                          reason, str16 meta
 *   SYNC_UNREGISTER/LEAVE  str8 scope, str16 name, pid, reason, str16 meta
 *   REQUEST                u32 req_id, u8 op, str8 scope, str16 name,
 *                          u64 pid id (the receiver's process), str16 meta
 *   REPLY                  u32 req_id, i32 result (0 or -error)
 * where str8 = u8 length + bytes, str16 = u16 length + bytes,
 * pid = str8 node (empty: the sender) + u64 id,
 * time = u64 wall_ns + u32 logical,
 * reason = u8 kind + (i32 code, for exit and signal only).
 *
 * ACK_SYNC is followed, on the same channel, by the sender's local data as
 * SYNC_REGISTER / SYNC_JOIN messages with reason remote_scope_node_up.
 */
#ifndef SN_WIRE_H
#define SN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "synode.h"

/** Protocol versions this build speaks (peers use the highest both do). */
#define SN_WIRE_VERSION_MIN 1
#define SN_WIRE_VERSION_MAX 1

#define SN_WIRE_MSG_HDR 4
/** Longest message, header included. */
#define SN_WIRE_MSG_MAX (SN_WIRE_MSG_HDR + 65535)

enum sn_msg_type {
	SN_MSG_DISCOVER = 1,
	SN_MSG_ACK_SYNC = 2,
	SN_MSG_SYNC_REGISTER = 3,
	SN_MSG_SYNC_UNREGISTER = 4,
	SN_MSG_SYNC_JOIN = 5,
	SN_MSG_SYNC_LEAVE = 6,
	SN_MSG_REQUEST = 7,
	SN_MSG_REPLY = 8,
	SN_MSG_TYPE_END,
	/* 0x40 and up: lookup requests and answers (the lookup service) */
};

/** What a REQUEST asks the owner to do. */
enum sn_req_op {
	SN_OP_REGISTER = 1,
	SN_OP_UPDATE,
	SN_OP_UNREGISTER,
	SN_OP_JOIN,
	SN_OP_LEAVE,
	SN_OP_UPDATE_MEMBER,
	SN_OP_END
};

/* A message; pointers are valid while the bytes it came from are. */
struct sn_msg {
	enum sn_msg_type type;
	const char *scope;         /* NUL-terminated (decoded into scope_buf) */
	const void *name;          /* registry name or group */
	size_t name_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	struct synode_time time;
	struct synode_reason reason;
	uint32_t req_id;           /* REQUEST, REPLY */
	enum sn_req_op op;         /* REQUEST */
	int32_t result;            /* REPLY */
	char scope_buf[SYNODE_SCOPE_NAME_MAX + 1];
};

/*
 * Encodes @p m at @p buf (room for @p cap bytes) as sent by node @p self
 * (a pid of self's goes as "the sender"). Returns the bytes written,
 * -ENOSPC if it does not fit, -EINVAL if a field is out of range.
 */
int sn_wire_encode(void *buf, size_t cap, const struct sn_msg *m, const char *self);

/*
 * Decodes the message at the start of @p buf (@p len bytes) sent by node
 * @p sender (a pid with an empty node is the sender's; a REQUEST's pid is
 * @p self's). Returns the bytes consumed, or -EBADMSG (malformed), or
 * -EAGAIN if @p len holds only part of a message.
 */
int sn_wire_decode(const void *buf, size_t len, struct sn_msg *m, const char *sender,
		   const char *self);

/* Length of the whole message at @p buf from its header (>= 4), or 0 if
 * @p len < 4. */
size_t sn_wire_msg_len(const void *buf, size_t len);

#endif /* SN_WIRE_H */
