/* SPDX-License-Identifier: MIT */
/*
 * The reliable ordered channel to one peer, for one session: pure C (no
 * DPDK types, no clock of its own: every call is given the time), so that
 * tests run it over a simulated link that loses, duplicates and reorders.
 *
 * Sending: the node's wire messages are queued (dp_chan_queue()) and cut
 * into segments of at most seg_max bytes, each with a 32-bit sequence
 * number. Small messages share a segment; a message that does not fit the
 * room left is cut, and the segment that holds its beginning carries MORE.
 * Segments are never cut anywhere else, so the receiver never holds more
 * than one message's worth of pieces. dp_chan_tx() packs consecutive
 * segments into a frame and puts the cumulative ack in it.
 *
 * Receiving: dp_chan_rx() takes a DATA frame's ack (freeing what the peer
 * has) and its segments: in order they are delivered, ahead of a gap they
 * wait in a window-sized buffer, duplicates are dropped. Delivered bytes
 * are put together into whole messages, appended to the caller's buffer.
 *
 * Retransmission (NewReno-like, with a go-back-N fallback):
 *   - a timer (RTO) on the oldest unacked segment: srtt + 4 rttvar (RFC
 *     6298), at least rto_min; each expiry doubles it up to rto_max (until
 *     the next RTT sample) and resends everything in flight, in order
 *     (go-back-N: the receiver keeps what it already has). RTT samples come
 *     from the frames' echo (dp_frame.h): each ack that moves names the
 *     frame it answers, resent or not;
 *   - a frame from the peer that acks the oldest unacked segment again and
 *     says GAP (the peer holds later segments: the oldest was lost), at
 *     least srtt/2 after that segment went (in recovery: srtt * 5/4 + the
 *     ack delay after its resend: that was lost too), or an ack that moves
 *     but stops
 *     short of what was in flight when recovery began (a partial ack): one
 *     frame resent from the oldest unacked segment at once. Counting
 *     duplicate acks would not do: a receiver that takes a burst of frames
 *     in one turn acks them once.
 * Window: at most `window` segments in flight. Unsent bytes beyond
 * max_unsent are refused (-ENOBUFS): the caller resets the session.
 *
 * Acks: piggybacked on every DATA frame, with GAP while segments wait
 * behind a gap; an ack-only frame is wanted ack_delay after the first
 * unacked segment arrived, at once after ack_every segments, and at once
 * on a duplicate, a gap or a segment outside the window.
 *
 * Not thread-safe: one channel belongs to one thread (the lcore).
 */
#ifndef DP_CHAN_H
#define DP_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_frame.h"

#define DP_CHAN_WINDOW 4096u                  /* segments in flight */
#define DP_CHAN_MAX_UNSENT ((size_t)64 << 20) /* 64 MiB */
#define DP_CHAN_RTO_MIN_NS 20000000ull        /* 20 ms: a shared 2-core box */
#define DP_CHAN_RTO_MAX_NS 1000000000ull      /* 1 s */
#define DP_CHAN_RTO_INIT_NS 100000000ull      /* before the first sample */
#define DP_CHAN_ACK_DELAY_NS 200000ull        /* 200 us */
#define DP_CHAN_ACK_EVERY 16u
/* A message is cut only if the room left in a segment is at least this;
 * otherwise it starts a segment of its own. */
#define DP_CHAN_CUT_MIN 64u

/** A growable byte buffer. */
struct dp_buf {
	uint8_t *data;
	size_t len, cap;
};

/** Appends @p n bytes. Returns 0 or -ENOMEM. */
int dp_buf_append(struct dp_buf *b, const void *p, size_t n);
/** Frees the bytes; the buffer is empty and usable again. */
void dp_buf_free(struct dp_buf *b);

/** Parameters of a channel; zero means the default. */
struct dp_chan_params {
	size_t seg_max;          /**< largest segment payload, required, <= 65535 */
	unsigned window;         /**< segments in flight, a power of 2 */
	size_t max_unsent;       /**< queued, unsent bytes allowed */
	uint64_t rto_min_ns, rto_max_ns, rto_init_ns;
	uint64_t ack_delay_ns;
	unsigned ack_every;
	uint32_t isn;            /**< first sequence number, the same both sides */
};

/** Counters (cumulative across resets) and state of a channel. */
struct dp_chan_stats {
	uint64_t segs_sent;          /**< segments sent the first time */
	uint64_t segs_resent;        /**< segments sent again */
	uint64_t frames_resent;      /**< frames with a segment sent again */
	uint64_t timeouts;           /**< RTO expiries (go-back-N) */
	uint64_t fast_resends;       /**< resends on dup acks or partial acks */
	uint64_t acks_alone;         /**< ack-only frames */
	uint64_t segs_delivered;     /**< in order, to the node */
	uint64_t segs_duplicate;     /**< received again, dropped */
	uint64_t segs_buffered;      /**< received ahead of a gap */
	uint64_t segs_out_of_window; /**< beyond the window, dropped */
	uint64_t msgs_delivered;
	uint64_t bytes_delivered;
	/* state */
	unsigned in_flight;          /**< segments sent, not acked */
	unsigned max_in_flight;      /**< the most ever */
	size_t unsent_bytes;
	uint64_t srtt_ns;            /**< 0 until the first sample */
	uint64_t rto_ns;
};

struct dp_chan;

/** A channel at its first sequence number. NULL with errno EINVAL/ENOMEM. */
struct dp_chan *dp_chan_create(const struct dp_chan_params *p);
void dp_chan_free(struct dp_chan *c);

/** Ends the session: drops everything queued, in flight or buffered; the
 * next session starts at isn again. Counters are kept. */
void dp_chan_reset(struct dp_chan *c);

/**
 * Queues @p len bytes of whole wire messages. Returns 0; -EINVAL if they
 * are not whole messages (nothing queued); -ENOBUFS if the unsent bytes
 * would exceed max_unsent (nothing queued: reset the session); -ENOMEM
 * (part may be queued: reset the session).
 */
int dp_chan_queue(struct dp_chan *c, const void *msgs, size_t len);

/**
 * Takes a DATA frame of this session: its ack, and (if @p accept_data)
 * its segments, appending the whole messages they complete, in order, to
 * @p out. With accept_data false the segments are left unacked, to come
 * again (the receiver is full). Returns the number of messages appended,
 * -EPROTO if the peer broke the protocol (an ack of unsent data, a
 * message cut where it must not be: reset the session), or -ENOMEM.
 */
int dp_chan_rx(struct dp_chan *c, const struct dp_frame *f, uint64_t now,
	       struct dp_buf *out, bool accept_data);

/** Runs the retransmission timer. */
void dp_chan_tick(struct dp_chan *c, uint64_t now);

/** Whether the channel wants a frame sent now (data, a resend or an ack). */
bool dp_chan_tx_pending(const struct dp_chan *c, uint64_t now);

/**
 * Fills a DATA frame begun with dp_frame_enc_start(): consecutive segments
 * (resends first); sets f->seq (first segment, or the next one if none),
 * f->ack, f->echo and DP_FRAME_F_GAP in f->flags. f->counter (set by the
 * caller, unique in the session, not 0) is remembered to time the frame's
 * round trip. Returns the segments put; 0 is an ack alone.
 */
unsigned dp_chan_tx(struct dp_chan *c, uint64_t now, struct dp_frame_enc *e,
		    struct dp_frame *f);

/** Fills @p st. */
void dp_chan_get_stats(const struct dp_chan *c, struct dp_chan_stats *st);

#endif /* DP_CHAN_H */
