/* SPDX-License-Identifier: MIT */
/*
 * The dataplane's frames: what a node puts in the payload of a UDP
 * datagram to another node, and its codec. Pure C (no DPDK types), so that
 * the unit tests and fuzzers use it as the dataplane does.
 *
 * Every integer is little-endian. A frame is a fixed 44-byte header, a
 * body, and, when flag MAC is set, a 16-byte MAC trailer (the cluster key,
 * dp_auth.h: checked before the frame is decoded):
 *
 *   off size field
 *     0    4 magic "SYND"
 *     4    1 frame-format version (DP_FRAME_VERSION)
 *     5    1 type: HELLO, DATA (LOOKUP_* reserved for the lookup service)
 *     6    1 flags: bit 0 MAC (a 16-byte trailer); bit 1 GAP (DATA only:
 *            the sender holds segments past a gap in what it received,
 *            so the ack's segment is missing there); others zero
 *     7    1 key_id: the key of the MAC; 0 without one
 *     8    8 frame counter, per sender session, from 1 (replay window)
 *    16    8 src session: the sender's, never 0
 *    24    8 dst session: the receiver's as the sender knows it; 0 unknown
 *    32    4 first seq: sequence number of the first segment (DATA)
 *    36    4 ack: cumulative; the next seq the sender expects (DATA)
 *    40    2 segment count (DATA)
 *    42    2 echo (DATA): the low 16 bits of the counter of the latest
 *            frame from the receiver that brought the sender new data in
 *            order; the receiver times its round trip with it
 *
 * HELLO body (seq, ack, count and echo zero):
 *     0    2 lowest protocol version spoken (>= 1)
 *     2    2 highest protocol version spoken (>= lowest)
 *     4    2 the sender's UDP port (not 0)
 *     6    1 name length, 1..63
 *     7    n name: printable ASCII, no space, no '/'
 *
 * DATA body: count segments, nothing after them (count 0: an ack alone):
 *     0    2 length, >= 1
 *     2    1 flags: bit 0 MORE (the last message goes on in the next
 *            segment); others zero
 *     3    n bytes: wire messages (control/sn_wire.h), the first one maybe
 *            the end of a message begun in earlier segments
 */
#ifndef DP_FRAME_H
#define DP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_FRAME_MAGIC 0x444e5953u    /* "SYND" read as a little-endian u32 */
#define DP_FRAME_VERSION 1
#define DP_FRAME_HDR_LEN 44
#define DP_FRAME_MAC_LEN 16
#define DP_FRAME_SEG_HDR_LEN 3
#define DP_FRAME_HELLO_MIN_LEN 8      /* body with a 1-byte name */
#define DP_FRAME_NAME_MAX 63

enum dp_frame_type {
	DP_FRAME_HELLO = 1,
	DP_FRAME_DATA = 2,
	/* 0x10..0x1f: the lookup service (requests, answers): later. */
	DP_FRAME_LOOKUP_FIRST = 0x10,
	DP_FRAME_LOOKUP_LAST = 0x1f,
};

enum {
	DP_FRAME_F_MAC = 1u << 0,      /* frame flag: a MAC trailer */
	DP_FRAME_F_GAP = 1u << 1,      /* frame flag (DATA): a gap past the ack */
	DP_FRAME_SEG_F_MORE = 1u << 0, /* segment flag: message continues */
};

/** Why the decoder rejected a frame (0: it did not). */
enum dp_frame_status {
	DP_FRAME_OK = 0,
	DP_FRAME_ETRUNC,          /**< shorter than the header */
	DP_FRAME_EMAGIC,          /**< not "SYND" */
	DP_FRAME_EVERSION,        /**< a frame format this build does not know */
	DP_FRAME_ETYPE,           /**< unknown (or not yet served) frame type */
	DP_FRAME_EFLAGS,          /**< reserved flag bits set (GAP on a HELLO) */
	DP_FRAME_EKEY_ID,         /**< key_id set without a MAC */
	DP_FRAME_EMAC_TRUNC,      /**< MAC flag, but no room for the trailer */
	DP_FRAME_ESESSION,        /**< src session 0 */
	DP_FRAME_EHELLO_FIELDS,   /**< HELLO with seq, ack, count or echo set */
	DP_FRAME_EHELLO_TRUNC,    /**< HELLO body too short for its name */
	DP_FRAME_EHELLO_NAME,     /**< empty, too long or unprintable name */
	DP_FRAME_EHELLO_VERSION,  /**< lowest version 0 or above the highest */
	DP_FRAME_EHELLO_PORT,     /**< UDP port 0 */
	DP_FRAME_ESEG_TRUNC,      /**< a segment runs past the body */
	DP_FRAME_ESEG_EMPTY,      /**< a segment of 0 bytes */
	DP_FRAME_ESEG_FLAGS,      /**< reserved segment flag bits set */
	DP_FRAME_ETRAILING,       /**< bytes after the last segment / the name */
	DP_FRAME_STATUS_END
};

/** Short name of a status, for logs and counters ("truncated", ...). */
const char *dp_frame_status_name(enum dp_frame_status st);

/** A HELLO's body. */
struct dp_frame_hello {
	uint16_t version_min, version_max;
	uint16_t udp_port;
	uint8_t name_len;
	char name[DP_FRAME_NAME_MAX + 1];   /* NUL-terminated */
};

/** A decoded frame, or the header of one to encode. */
struct dp_frame {
	uint8_t type;              /* enum dp_frame_type */
	uint8_t flags;             /* DP_FRAME_F_* */
	uint8_t key_id;
	uint64_t counter;
	uint64_t src_session, dst_session;
	uint32_t seq, ack;
	uint16_t n_segs;
	uint16_t echo;
	/* Decoded DATA: the segments' region (walk it with dp_frame_seg_next). */
	const uint8_t *segs;
	size_t segs_len;
	/* Decoded, flag MAC: the trailer. */
	const uint8_t *mac;
	/* HELLO */
	struct dp_frame_hello hello;
};

/** One segment of a DATA frame. */
struct dp_frame_seg {
	const uint8_t *data;
	uint16_t len;
	uint8_t flags;
};

/**
 * Decodes the @p len bytes at @p buf into @p f. On DP_FRAME_OK, f's
 * pointers point into @p buf, and every segment of a DATA frame is whole
 * and well formed. Otherwise the reason; @p f is then undefined.
 * Reads nothing outside buf[0..len).
 */
enum dp_frame_status dp_frame_decode(const void *buf, size_t len, struct dp_frame *f);

/** Segment walk of a frame dp_frame_decode() accepted. */
struct dp_frame_seg_iter {
	const uint8_t *p, *end;
};

static inline void
dp_frame_seg_iter_init(struct dp_frame_seg_iter *it, const struct dp_frame *f)
{
	it->p = f->segs;
	it->end = f->segs != NULL ? f->segs + f->segs_len : NULL; /* HELLO: none */
}

/** Next segment into @p s; false at the end. */
bool dp_frame_seg_next(struct dp_frame_seg_iter *it, struct dp_frame_seg *s);

/*
 * Encoding. A frame is written at @p buf (room for @p cap bytes): start,
 * then segments (DATA) or nothing (HELLO: dp_frame_encode_hello() instead),
 * then end with the header's fields, which writes the header and the
 * count. The room left for segments always keeps DP_FRAME_MAC_LEN bytes
 * free, so that turning the MAC on later changes no segment sizes.
 */
struct dp_frame_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t n_segs;
};

/** Starts a frame; @p cap must be at least DP_FRAME_HDR_LEN + MAC_LEN. */
void dp_frame_enc_start(struct dp_frame_enc *e, void *buf, size_t cap);

/** Payload bytes a segment added now could carry (0: no room). */
size_t dp_frame_enc_room(const struct dp_frame_enc *e);

/** Appends a segment of @p len (1..room) bytes. Returns 0, or -ENOSPC. */
int dp_frame_enc_seg(struct dp_frame_enc *e, const void *data, size_t len, uint8_t flags);

/** Writes the header from @p f (type DATA, n_segs from the encoder);
 * returns the frame's length. */
size_t dp_frame_enc_end(struct dp_frame_enc *e, const struct dp_frame *f);

/** Writes a whole HELLO frame (header from @p f, body from f->hello).
 * Returns its length, or -ENOSPC, or -EINVAL (a bad name or version). */
int dp_frame_encode_hello(void *buf, size_t cap, const struct dp_frame *f);

/** Largest segment payload in a frame of @p cap bytes. */
static inline size_t
dp_frame_seg_max(size_t cap)
{
	size_t hdr = DP_FRAME_HDR_LEN + DP_FRAME_SEG_HDR_LEN + DP_FRAME_MAC_LEN;

	if (cap <= hdr)
		return 0;
	return cap - hdr > UINT16_MAX ? UINT16_MAX : cap - hdr;
}

/** Serial-number order of 32-bit sequence numbers (RFC 1982). */
static inline bool
dp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
dp_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

#endif /* DP_FRAME_H */
