/* SPDX-License-Identifier: MIT */
/*
 * The reliable channel of dp_chan.h.
 *
 * Sender state, in sequence space:
 *
 *     snd_una          snd_nxt                 snd_end
 *        | in flight      | queued, unsent        |
 *      head ........... next_new .............. tail
 *
 * Segments live in one list from head (the oldest unacked, seq snd_una)
 * to tail (the newest); next_new is the first never sent (NULL: none).
 * Only the tail may still grow, and only while unsent: once a segment has
 * gone out its bytes never change, so a resend is the same segment.
 * rtx is the next segment to resend (NULL: no resend under way); it never
 * points before head (acks move it).
 *
 * Receiver state: rcv_nxt, the next seq to deliver; ooo[seq & (window-1)]
 * holds segments that came ahead of a gap, for seq in (rcv_nxt, rcv_nxt +
 * window); part holds the beginning of a message cut across segments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_chan.h"
#include "sn_wire.h"

/* Free segments kept for reuse, at most. */
#define DP_CHAN_FREE_MAX 256
/* Send times of the latest frames, by counter, for the echoes. */
#define DP_CHAN_TX_TIMES 1024

struct dp_seg {
	struct dp_seg *next;
	uint64_t last_ns;     /* latest transmission */
	uint32_t seq;
	uint16_t len;
	uint8_t flags;
	uint8_t data[];
};

struct dp_rseg {
	uint16_t len;
	uint8_t flags;
	uint8_t data[];
};

struct dp_chan {
	struct dp_chan_params p;

	/* sender */
	struct dp_seg *head, *tail, *next_new, *rtx;
	uint32_t snd_una, snd_nxt, snd_end;
	uint32_t rtx_end;        /* resend segments before this */
	bool rtx_one;            /* resend one frame only */
	bool recovery;
	uint32_t recover;        /* snd_nxt when recovery began */
	size_t unsent_bytes;
	uint64_t rto_ns;
	uint64_t rto_deadline;   /* 0: timer off */
	uint64_t srtt_ns, rttvar_ns;
	uint64_t tx_counter[DP_CHAN_TX_TIMES], tx_time[DP_CHAN_TX_TIMES];
	struct dp_seg *free_segs;
	unsigned n_free;

	/* receiver */
	uint32_t rcv_nxt;
	struct dp_rseg **ooo;
	unsigned n_ooo;
	uint8_t *part;           /* SN_WIRE_MSG_MAX bytes, allocated when first needed */
	size_t part_len;
	bool ack_pending, ack_now;
	uint16_t echo;           /* counter of the latest frame that brought data */
	uint64_t ack_due;
	unsigned unacked_segs;

	struct dp_chan_stats st;
};

static void rto_update(struct dp_chan *c);

/* ------------------------------------------------------------------ buffer */

int
dp_buf_append(struct dp_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *d;

		while (cap - b->len < n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void
dp_buf_free(struct dp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ------------------------------------------------------------- lifecycle */

struct dp_chan *
dp_chan_create(const struct dp_chan_params *p)
{
	struct dp_chan *c;

	if (p == NULL || p->seg_max == 0 || p->seg_max > UINT16_MAX ||
	    (p->window != 0 && (p->window & (p->window - 1)) != 0)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->p = *p;
	if (c->p.window == 0)
		c->p.window = DP_CHAN_WINDOW;
	if (c->p.max_unsent == 0)
		c->p.max_unsent = DP_CHAN_MAX_UNSENT;
	if (c->p.rto_min_ns == 0)
		c->p.rto_min_ns = DP_CHAN_RTO_MIN_NS;
	if (c->p.rto_max_ns == 0)
		c->p.rto_max_ns = DP_CHAN_RTO_MAX_NS;
	if (c->p.rto_max_ns < c->p.rto_min_ns)
		c->p.rto_max_ns = c->p.rto_min_ns;
	if (c->p.rto_init_ns == 0)
		c->p.rto_init_ns = DP_CHAN_RTO_INIT_NS;
	if (c->p.ack_delay_ns == 0)
		c->p.ack_delay_ns = DP_CHAN_ACK_DELAY_NS;
	if (c->p.ack_every == 0)
		c->p.ack_every = DP_CHAN_ACK_EVERY;
	c->ooo = calloc(c->p.window, sizeof(*c->ooo));
	if (c->ooo == NULL) {
		free(c);
		return NULL;
	}
	dp_chan_reset(c);
	return c;
}

static void
seg_put(struct dp_chan *c, struct dp_seg *s)
{
	if (c->n_free < DP_CHAN_FREE_MAX) {
		s->next = c->free_segs;
		c->free_segs = s;
		c->n_free++;
	} else {
		free(s);
	}
}

static struct dp_seg *
seg_get(struct dp_chan *c)
{
	struct dp_seg *s = c->free_segs;

	if (s != NULL) {
		c->free_segs = s->next;
		c->n_free--;
	} else {
		s = malloc(sizeof(*s) + c->p.seg_max);
		if (s == NULL)
			return NULL;
	}
	s->next = NULL;
	s->last_ns = 0;
	s->len = 0;
	s->flags = 0;
	return s;
}

void
dp_chan_reset(struct dp_chan *c)
{
	struct dp_seg *s, *next;

	for (s = c->head; s != NULL; s = next) {
		next = s->next;
		seg_put(c, s);
	}
	c->head = c->tail = c->next_new = c->rtx = NULL;
	c->snd_una = c->snd_nxt = c->snd_end = c->p.isn;
	c->rtx_end = c->p.isn;
	c->rtx_one = false;
	c->recovery = false;
	c->unsent_bytes = 0;
	c->rto_deadline = 0;
	/* srtt is the path's, not the session's: it stays. */
	rto_update(c);
	memset(c->tx_counter, 0, sizeof(c->tx_counter));
	c->echo = 0;

	for (unsigned i = 0; i < c->p.window && c->n_ooo > 0; i++) {
		if (c->ooo[i] != NULL) {
			free(c->ooo[i]);
			c->ooo[i] = NULL;
			c->n_ooo--;
		}
	}
	c->rcv_nxt = c->p.isn;
	c->part_len = 0;
	c->ack_pending = c->ack_now = false;
	c->ack_due = 0;
	c->unacked_segs = 0;
}

void
dp_chan_free(struct dp_chan *c)
{
	struct dp_seg *s;

	if (c == NULL)
		return;
	dp_chan_reset(c);
	while ((s = c->free_segs) != NULL) {
		c->free_segs = s->next;
		free(s);
	}
	free(c->ooo);
	free(c->part);
	free(c);
}

/* ---------------------------------------------------------------- sending */

/* Appends one whole message of @p len bytes to the queue. */
static int
queue_msg(struct dp_chan *c, const uint8_t *p, size_t len)
{
	while (len > 0) {
		struct dp_seg *t = c->tail;
		/* The tail grows only while unsent (then next_new is set). */
		size_t room = c->next_new != NULL ? c->p.seg_max - t->len : 0;

		if (room > 0 && (len <= room || room >= DP_CHAN_CUT_MIN)) {
			size_t k = len < room ? len : room;

			memcpy(t->data + t->len, p, k);
			t->len = (uint16_t)(t->len + k);
			p += k;
			len -= k;
			if (len > 0)
				t->flags |= DP_FRAME_SEG_F_MORE;
			continue;
		}
		t = seg_get(c);
		if (t == NULL)
			return -ENOMEM;
		t->seq = c->snd_end++;
		if (c->tail != NULL)
			c->tail->next = t;
		else
			c->head = t;
		c->tail = t;
		if (c->next_new == NULL)
			c->next_new = t;
	}
	return 0;
}

int
dp_chan_queue(struct dp_chan *c, const void *msgs, size_t len)
{
	const uint8_t *p = msgs;
	size_t off;

	for (off = 0; off < len;) {
		size_t m = sn_wire_msg_len(p + off, len - off);

		if (m == 0 || m > len - off)
			return -EINVAL;
		off += m;
	}
	if (len > c->p.max_unsent - c->unsent_bytes)
		return -ENOBUFS;
	for (off = 0; off < len;) {
		size_t m = sn_wire_msg_len(p + off, len - off);
		int rc = queue_msg(c, p + off, m);

		if (rc < 0)
			return rc;
		c->unsent_bytes += m;
		off += m;
	}
	return 0;
}

static unsigned
in_flight(const struct dp_chan *c)
{
	return (unsigned)(c->snd_nxt - c->snd_una);
}

bool
dp_chan_tx_pending(const struct dp_chan *c, uint64_t now)
{
	if (c->rtx != NULL)
		return true;
	if (c->next_new != NULL && in_flight(c) < c->p.window)
		return true;
	return c->ack_now || (c->ack_pending && now >= c->ack_due);
}

static void
arm_timer(struct dp_chan *c, uint64_t now)
{
	c->rto_deadline = now + c->rto_ns;
	if (c->rto_deadline == 0)
		c->rto_deadline = 1;
}

unsigned
dp_chan_tx(struct dp_chan *c, uint64_t now, struct dp_frame_enc *e, struct dp_frame *f)
{
	uint32_t *seq = &f->seq;
	struct dp_seg *s = NULL;
	unsigned n = 0;

	*seq = c->snd_nxt;
	if (c->rtx != NULL) {
		s = c->rtx;
		*seq = s->seq;
		if (s->seq == c->snd_una)
			arm_timer(c, now); /* the oldest goes again: time it anew */
		while (s != NULL && s != c->next_new && dp_seq_lt(s->seq, c->rtx_end) &&
		       dp_frame_enc_seg(e, s->data, s->len, s->flags) == 0) {
			s->last_ns = now;
			c->st.segs_resent++;
			n++;
			s = s->next;
		}
		if (n > 0)
			c->st.frames_resent++;
		if (c->rtx_one || s == NULL || s == c->next_new || !dp_seq_lt(s->seq, c->rtx_end))
			c->rtx = NULL;
		else
			c->rtx = s;
		/* Go on with new segments only if they follow at once. */
		if (n > 0 && s != c->next_new)
			goto done;
	}
	if (n == 0)
		*seq = c->snd_nxt;
	while ((s = c->next_new) != NULL && in_flight(c) < c->p.window &&
	       dp_frame_enc_seg(e, s->data, s->len, s->flags) == 0) {
		if (in_flight(c) == 0)
			arm_timer(c, now);
		s->last_ns = now;
		c->snd_nxt++;
		c->unsent_bytes -= s->len;
		c->next_new = s->next;
		c->st.segs_sent++;
		n++;
	}
	if (in_flight(c) > c->st.max_in_flight)
		c->st.max_in_flight = in_flight(c);
done:
	if (f->counter != 0) {
		c->tx_counter[f->counter % DP_CHAN_TX_TIMES] = f->counter;
		c->tx_time[f->counter % DP_CHAN_TX_TIMES] = now;
	}
	f->echo = c->echo;
	f->ack = c->rcv_nxt;
	if (c->n_ooo > 0)
		f->flags |= DP_FRAME_F_GAP;
	if (n == 0)
		c->st.acks_alone++;
	c->ack_pending = c->ack_now = false;
	c->unacked_segs = 0;
	return n;
}

/* Resend one frame from the oldest unacked segment, at once. */
static void
resend_head(struct dp_chan *c)
{
	if (c->rtx != NULL || c->head == NULL || c->head == c->next_new)
		return;
	c->rtx = c->head;
	c->rtx_end = c->snd_nxt;
	c->rtx_one = true;
	c->st.fast_resends++;
}

void
dp_chan_tick(struct dp_chan *c, uint64_t now)
{
	if (c->rto_deadline == 0 || now < c->rto_deadline)
		return;
	if (in_flight(c) == 0) {
		c->rto_deadline = 0;
		return;
	}
	/* Timeout: back off, then go back N (everything in flight again). */
	c->st.timeouts++;
	c->rto_ns = c->rto_ns * 2 < c->p.rto_max_ns ? c->rto_ns * 2 : c->p.rto_max_ns;
	c->rtx = c->head;
	c->rtx_end = c->snd_nxt;
	c->rtx_one = false;
	c->recovery = true;
	c->recover = c->snd_nxt;
	arm_timer(c, now);
}

/* The timeout from the smoothed RTT (RFC 6298): no backoff. */
static void
rto_update(struct dp_chan *c)
{
	uint64_t rto = c->srtt_ns == 0 ? c->p.rto_init_ns : c->srtt_ns + 4 * c->rttvar_ns;

	if (rto < c->p.rto_min_ns)
		rto = c->p.rto_min_ns;
	if (rto > c->p.rto_max_ns)
		rto = c->p.rto_max_ns;
	c->rto_ns = rto;
}

static void
rtt_sample(struct dp_chan *c, uint64_t r)
{
	/* RFC 6298, in integers. */
	if (c->srtt_ns == 0) {
		c->srtt_ns = r ? r : 1;
		c->rttvar_ns = r / 2;
	} else {
		uint64_t d = c->srtt_ns > r ? c->srtt_ns - r : r - c->srtt_ns;

		c->rttvar_ns = (3 * c->rttvar_ns + d) / 4;
		c->srtt_ns = (7 * c->srtt_ns + r) / 8;
		if (c->srtt_ns == 0)
			c->srtt_ns = 1;
	}
}

/* The round trip of the frame @p f echoes, if we still know when it went. */
static bool
echo_rtt(const struct dp_chan *c, const struct dp_frame *f, uint64_t now, uint64_t *rtt)
{
	unsigned slot = f->echo % DP_CHAN_TX_TIMES;

	if (c->tx_counter[slot] == 0 || (uint16_t)c->tx_counter[slot] != f->echo ||
	    now < c->tx_time[slot])
		return false;
	*rtt = now - c->tx_time[slot];
	return true;
}

static int
take_ack(struct dp_chan *c, const struct dp_frame *f, uint64_t now)
{
	uint32_t a = f->ack;
	uint64_t rtt;

	if (dp_seq_lt(c->snd_nxt, a))
		return -EPROTO; /* acks what was never sent */
	if (!dp_seq_lt(c->snd_una, a)) {
		/*
		 * The oldest is missing past a gap at the peer: resend it if it
		 * had time to arrive (half an RTT after it went: the GAP comes
		 * from later frames) or, in recovery already, if its resend had
		 * time to be acked (it was lost too).
		 */
		if (a == c->snd_una && (f->flags & DP_FRAME_F_GAP) && in_flight(c) > 0 &&
		    (!c->recovery ? now - c->head->last_ns >= c->srtt_ns / 2
				  : c->srtt_ns != 0 && now - c->head->last_ns >=
				    c->srtt_ns + c->srtt_ns / 4 + c->p.ack_delay_ns)) {
			if (!c->recovery) {
				c->recovery = true;
				c->recover = c->snd_nxt;
			}
			resend_head(c);
		}
		return 0;
	}
	while (c->head != NULL && dp_seq_lt(c->head->seq, a)) {
		struct dp_seg *s = c->head;

		c->head = s->next;
		if (c->rtx == s)
			c->rtx = s->next;
		seg_put(c, s);
	}
	if (c->head == NULL)
		c->tail = NULL;
	c->snd_una = a;
	if (c->rtx != NULL && (c->rtx == c->next_new || !dp_seq_lt(c->rtx->seq, c->rtx_end)))
		c->rtx = NULL;
	/*
	 * An RTT sample from the echo: it names the very frame it answers,
	 * so resends are no ambiguity (no need for Karn's rule), and a sample
	 * ends a backoff. Only from acks that move: those answer fresh data.
	 */
	if (echo_rtt(c, f, now, &rtt)) {
		rtt_sample(c, rtt);
		rto_update(c);
	}
	if (c->recovery) {
		if (dp_seq_lt(a, c->recover))
			resend_head(c); /* partial ack: the next hole */
		else
			c->recovery = false;
	}
	if (in_flight(c) > 0)
		arm_timer(c, now);
	else
		c->rto_deadline = 0;
	return 0;
}

/* ---------------------------------------------------------------- receiving */

/*
 * Appends a delivered segment's bytes to @p out as whole messages; the
 * beginning of a cut message waits in c->part. A segment with MORE must
 * end inside a message and one without it at a message's end.
 */
static int
deliver(struct dp_chan *c, const uint8_t *p, size_t n, uint8_t flags, struct dp_buf *out)
{
	size_t run = 0, m;

	while (c->part_len > 0 && n > 0) {
		size_t need, k;

		if (c->part_len < SN_WIRE_MSG_HDR)
			need = SN_WIRE_MSG_HDR - c->part_len;
		else
			need = sn_wire_msg_len(c->part, c->part_len) - c->part_len;
		k = n < need ? n : need;
		memcpy(c->part + c->part_len, p, k);
		c->part_len += k;
		p += k;
		n -= k;
		if (c->part_len >= SN_WIRE_MSG_HDR &&
		    c->part_len == sn_wire_msg_len(c->part, c->part_len)) {
			if (dp_buf_append(out, c->part, c->part_len) < 0)
				return -ENOMEM;
			c->st.msgs_delivered++;
			c->part_len = 0;
		}
	}
	/* Whole messages: one copy for the run of them. */
	while ((m = sn_wire_msg_len(p + run, n - run)) != 0 && m <= n - run) {
		run += m;
		c->st.msgs_delivered++;
	}
	if (dp_buf_append(out, p, run) < 0)
		return -ENOMEM;
	p += run;
	n -= run;
	if (n > 0) {
		if (c->part == NULL && (c->part = malloc(SN_WIRE_MSG_MAX)) == NULL)
			return -ENOMEM;
		memcpy(c->part, p, n); /* n < the message's length <= MSG_MAX */
		c->part_len = n;
	}
	if (((flags & DP_FRAME_SEG_F_MORE) != 0) != (c->part_len > 0))
		return -EPROTO;
	return 0;
}

int
dp_chan_rx(struct dp_chan *c, const struct dp_frame *f, uint64_t now,
	   struct dp_buf *out, bool accept_data)
{
	struct dp_frame_seg_iter it;
	struct dp_frame_seg s;
	uint64_t msgs0 = c->st.msgs_delivered;
	unsigned delivered = 0;
	uint32_t seq = f->seq;
	unsigned mask = c->p.window - 1;
	int rc;

	rc = take_ack(c, f, now);
	if (rc < 0)
		return rc;
	if (!accept_data)
		return 0;

	dp_frame_seg_iter_init(&it, f);
	for (; dp_frame_seg_next(&it, &s); seq++) {
		struct dp_rseg *r;

		if (dp_seq_lt(seq, c->rcv_nxt)) {
			c->st.segs_duplicate++;
			c->ack_now = true;
			continue;
		}
		if (seq - c->rcv_nxt >= c->p.window) {
			c->st.segs_out_of_window++;
			c->ack_now = true;
			continue;
		}
		if (seq != c->rcv_nxt) {
			if (c->ooo[seq & mask] != NULL) {
				c->st.segs_duplicate++;
			} else {
				r = malloc(sizeof(*r) + s.len);
				if (r == NULL)
					return -ENOMEM;
				r->len = s.len;
				r->flags = s.flags;
				memcpy(r->data, s.data, s.len);
				c->ooo[seq & mask] = r;
				c->n_ooo++;
				c->st.segs_buffered++;
			}
			c->ack_now = true; /* a gap: tell the sender now */
			continue;
		}
		rc = deliver(c, s.data, s.len, s.flags, out);
		if (rc < 0)
			return rc;
		c->st.bytes_delivered += s.len;
		c->rcv_nxt++;
		delivered++;
		/* The gap may be filled: what waited behind it follows. */
		while (c->n_ooo > 0 && (r = c->ooo[c->rcv_nxt & mask]) != NULL) {
			c->ooo[c->rcv_nxt & mask] = NULL;
			c->n_ooo--;
			rc = deliver(c, r->data, r->len, r->flags, out);
			c->st.bytes_delivered += r->len;
			free(r);
			if (rc < 0)
				return rc;
			c->rcv_nxt++;
			delivered++;
		}
	}
	if (delivered > 0) {
		c->echo = (uint16_t)f->counter;
		c->st.segs_delivered += delivered;
		if (!c->ack_pending) {
			c->ack_pending = true;
			c->ack_due = now + c->p.ack_delay_ns;
		}
		c->unacked_segs += delivered;
		if (c->unacked_segs >= c->p.ack_every || c->n_ooo > 0)
			c->ack_now = true;
	}
	return (int)(c->st.msgs_delivered - msgs0);
}

void
dp_chan_get_stats(const struct dp_chan *c, struct dp_chan_stats *st)
{
	*st = c->st;
	st->in_flight = in_flight(c);
	st->unsent_bytes = c->unsent_bytes;
	st->srtt_ns = c->srtt_ns;
	st->rto_ns = c->rto_ns;
}
