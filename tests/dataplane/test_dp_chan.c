/* SPDX-License-Identifier: MIT */
/*
 * Proves the reliable channel (dataplane/dp_chan.h), over a simulated link
 * with a simulated clock (seeded: a failure replays with --seed):
 *   - both ways at once, through 20% loss, 10% duplication and reordering
 *     (and a receiver that now and then refuses data), every message of
 *     every size up to SN_WIRE_MSG_MAX arrives exactly once, in order, and
 *     intact; sequence numbers wrap; the window is never exceeded, and no
 *     segment ever arrives outside the receiver's window;
 *   - one lost frame is resent on the receiver's GAP ack, before any
 *     timeout, even when the receiver takes the whole burst at once;
 *   - the RTT estimate follows the link's, also when it grows past the
 *     timeout; the timeout is at least rto_min, doubles on each expiry up
 *     to rto_max, and falls back with the next ack;
 *   - queued bytes beyond max_unsent are refused (-ENOBUFS) and a reset
 *     channel works again from its first sequence number;
 *   - bytes that are not whole messages are refused (-EINVAL), and a peer
 *     that cuts messages wrongly or acks unsent data is caught (-EPROTO).
 * Takes --seed N (printed first) and --msgs N (per direction, lossy run).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../rcu_tables/test_util.h"
#include "dp_chan.h"
#include "sn_wire.h"

#define CAP 1472                  /* UDP payload of a 1500-byte MTU */
#define MS 1000000ull
#define US 1000ull

/* ----------------------------------------------------------- the messages */

/* Message k of direction d: type 1..8, a body of 4..65535 bytes starting
 * with k, then bytes that depend on (d, k, i). */
static size_t
msg_body_len(unsigned d, uint32_t k)
{
	uint64_t h = tu_mix64(tu_seed ^ ((uint64_t)d << 40) ^ k);

	switch (h % 100) {
	case 0:
		return 65535;                       /* the largest */
	case 1: case 2: case 3:
		return 1000 + (h >> 8) % 9000;      /* several segments */
	case 4: case 5: case 6: case 7:
		return 1350 + (h >> 8) % 100;       /* about one segment */
	default:
		return 4 + (h >> 8) % 200;          /* registrations */
	}
}

static uint8_t
msg_byte(unsigned d, uint32_t k, size_t i)
{
	return (uint8_t)(tu_mix64(((uint64_t)d << 56) ^ ((uint64_t)k << 20) ^ (i / 8)) >> (8 * (i % 8)));
}

static size_t
msg_make(unsigned d, uint32_t k, uint8_t *buf)
{
	size_t blen = msg_body_len(d, k);

	buf[0] = (uint8_t)(1 + k % 8);
	buf[1] = 0;
	buf[2] = (uint8_t)blen;
	buf[3] = (uint8_t)(blen >> 8);
	memcpy(buf + 4, &k, 4);
	for (size_t i = 4; i < blen; i++)
		buf[4 + i] = msg_byte(d, k, i);
	return SN_WIRE_MSG_HDR + blen;
}

/* Checks the whole messages in @p out are direction d's, from *next on. */
static void
msgs_check(unsigned d, const struct dp_buf *out, uint32_t *next)
{
	size_t off = 0;

	while (off < out->len) {
		size_t m = sn_wire_msg_len(out->data + off, out->len - off);
		const uint8_t *p = out->data + off;
		uint32_t k;

		CHECK_MSG(m != 0 && m <= out->len - off, "a cut message at %zu", off);
		memcpy(&k, p + 4, 4);
		CHECK_MSG(k == *next, "dir %u: message %u, expected %u", d, k, *next);
		CHECK_EQ(m, SN_WIRE_MSG_HDR + msg_body_len(d, k));
		CHECK_EQ(p[0], 1 + k % 8);
		for (size_t i = 4; i < m - SN_WIRE_MSG_HDR; i++)
			CHECK_MSG(p[4 + i] == msg_byte(d, k, i), "message %u byte %zu", k, i);
		(*next)++;
		off += m;
	}
}

/* ---------------------------------------------------------- the sim link */

struct sim_frame {
	struct sim_frame *next;
	uint64_t at;
	unsigned to;
	size_t len;
	uint8_t data[CAP];
};

struct sim_side {
	struct dp_chan *c;
	struct dp_buf out;
	uint32_t sent, received;   /* messages queued / checked */
	uint64_t frames;
};

struct sim {
	struct tu_rng r;
	uint64_t now;
	struct sim_side side[2];
	struct sim_frame *net;     /* unordered: delivered when due */
	unsigned loss, dup, refuse; /* permille */
	uint64_t delay_min, delay_jitter;
	bool cut;                  /* drop everything */
	unsigned window;
	uint64_t frames_lost;
};

static void
sim_init(struct sim *s, const struct dp_chan_params *p, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	tu_rng_init(&s->r, seed);
	s->now = 1000 * MS;
	for (int i = 0; i < 2; i++) {
		s->side[i].c = dp_chan_create(p);
		CHECK(s->side[i].c != NULL);
	}
	s->window = p->window ? p->window : DP_CHAN_WINDOW;
	s->delay_min = 1 * MS;
}

static void
sim_fini(struct sim *s)
{
	struct sim_frame *f;

	while ((f = s->net) != NULL) {
		s->net = f->next;
		free(f);
	}
	for (int i = 0; i < 2; i++) {
		dp_chan_free(s->side[i].c);
		dp_buf_free(&s->side[i].out);
	}
}

static void
sim_put(struct sim *s, unsigned to, const uint8_t *data, size_t len)
{
	struct sim_frame *f = malloc(sizeof(*f));

	CHECK(f != NULL);
	f->to = to;
	f->len = len;
	memcpy(f->data, data, len);
	f->at = s->now + s->delay_min +
		(s->delay_jitter ? tu_rng_below(&s->r, s->delay_jitter) : 0);
	f->next = s->net;
	s->net = f;
}

/* Side @p i sends what its channel wants, at most @p budget frames. */
static void
sim_send(struct sim *s, unsigned i, unsigned budget)
{
	struct sim_side *sd = &s->side[i];
	struct dp_chan_stats st;

	dp_chan_tick(sd->c, s->now);
	while (budget-- > 0 && dp_chan_tx_pending(sd->c, s->now)) {
		uint8_t buf[CAP];
		struct dp_frame_enc e;
		struct dp_frame h = {.type = DP_FRAME_DATA, .src_session = 1 + i,
				     .dst_session = 2 - i};
		size_t len;

		h.counter = ++sd->frames;
		dp_frame_enc_start(&e, buf, CAP);
		dp_chan_tx(sd->c, s->now, &e, &h);
		len = dp_frame_enc_end(&e, &h);
		dp_chan_get_stats(sd->c, &st);
		CHECK_MSG(st.in_flight <= s->window, "%u in flight", st.in_flight);
		if (s->cut || tu_rng_permille(&s->r, s->loss)) {
			s->frames_lost++;
			continue;
		}
		sim_put(s, 1 - i, buf, len);
		if (tu_rng_permille(&s->r, s->dup))
			sim_put(s, 1 - i, buf, len);
	}
}

/* Delivers the frames due; returns how many. */
static unsigned
sim_deliver(struct sim *s)
{
	struct sim_frame **pp = &s->net, *f;
	unsigned n = 0;

	while ((f = *pp) != NULL) {
		struct sim_side *sd;
		struct dp_frame fr;
		int rc;

		if (f->at > s->now) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		sd = &s->side[f->to];
		CHECK_EQ(dp_frame_decode(f->data, f->len, &fr), DP_FRAME_OK);
		rc = dp_chan_rx(sd->c, &fr, s->now, &sd->out,
				!tu_rng_permille(&s->r, s->refuse));
		CHECK_MSG(rc >= 0, "dp_chan_rx: %d", rc);
		msgs_check(1 - f->to, &sd->out, &sd->received);
		sd->out.len = 0;
		free(f);
		n++;
	}
	return n;
}

static void
sim_queue(struct sim *s, unsigned i, uint32_t n)
{
	static uint8_t buf[SN_WIRE_MSG_MAX * 4];
	struct sim_side *sd = &s->side[i];

	/* Several messages per call, as the node sends them. */
	while (n > 0) {
		size_t len = 0;
		unsigned k = 1 + (unsigned)tu_rng_below(&s->r, 4);

		for (; k > 0 && n > 0; k--, n--)
			len += msg_make(i, sd->sent++, buf + len);
		CHECK_EQ(dp_chan_queue(sd->c, buf, len), 0);
	}
}

static bool
sim_idle(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		struct dp_chan_stats st;

		dp_chan_get_stats(s->side[i].c, &st);
		if (st.in_flight || st.unsent_bytes || s->side[1 - i].received != s->side[i].sent)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ tests */

static void
test_lossy(uint64_t msgs, unsigned window, uint32_t isn, unsigned loss)
{
	struct dp_chan_params p = {.seg_max = dp_frame_seg_max(CAP), .window = window,
				   .isn = isn};
	uint64_t start, steps = 0;
	struct sim s;

	sim_init(&s, &p, tu_seed ^ window);
	s.loss = loss;
	s.dup = 100;
	s.refuse = 20;
	s.delay_min = 200 * US;
	s.delay_jitter = 3 * MS;      /* reorders freely */
	start = s.now;
	while (!sim_idle(&s) || s.side[0].sent < msgs || s.side[1].sent < msgs) {
		for (unsigned i = 0; i < 2; i++) {
			struct dp_chan_stats st;

			dp_chan_get_stats(s.side[i].c, &st);
			if (s.side[i].sent < msgs && st.unsent_bytes < 256 * 1024)
				sim_queue(&s, i, 1 + (uint32_t)tu_rng_below(&s.r, 40));
			sim_send(&s, i, 64);
		}
		sim_deliver(&s);
		s.now += 100 * US;
		CHECK_MSG(++steps < 50000000, "no progress: %u/%u and %u/%u delivered",
			  s.side[1].received, s.side[0].sent, s.side[0].received,
			  s.side[1].sent);
	}
	for (unsigned i = 0; i < 2; i++) {
		struct dp_chan_stats st;

		dp_chan_get_stats(s.side[i].c, &st);
		CHECK(s.side[i].sent >= msgs);
		CHECK_EQ(s.side[1 - i].received, s.side[i].sent);
		CHECK_EQ(st.segs_out_of_window, 0);
		CHECK(st.max_in_flight <= s.window);
		if (loss > 0) {
			CHECK(st.segs_resent > 0);
			CHECK(st.segs_duplicate > 0);
			CHECK(st.segs_buffered > 0);
		}
		printf("window %u loss %u%%: side %u: %llu segs, %llu resent, %llu timeouts, "
		       "%llu fast, %llu dup, %llu buffered, max in flight %u, srtt %.2f ms\n",
		       s.window, loss / 10, i, (unsigned long long)st.segs_sent,
		       (unsigned long long)st.segs_resent, (unsigned long long)st.timeouts,
		       (unsigned long long)st.fast_resends, (unsigned long long)st.segs_duplicate,
		       (unsigned long long)st.segs_buffered, st.max_in_flight,
		       (double)st.srtt_ns / 1e6);
	}
	printf("  %llu messages each way in %.1f s of simulated time, %llu frames lost\n",
	       (unsigned long long)msgs, (double)(s.now - start) / 1e9,
	       (unsigned long long)s.frames_lost);
	sim_fini(&s);
}

/* One frame lost in a burst: resent on the GAP ack, no timeout. */
static void
test_fast_resend(void)
{
	struct dp_chan_params p = {.seg_max = dp_frame_seg_max(CAP)};
	struct dp_chan_stats st;
	struct sim s;
	uint64_t t0;

	sim_init(&s, &p, tu_seed);
	/* An RTT sample first, so that the timer is at rto_min (20 ms). */
	sim_queue(&s, 0, 1);
	for (int i = 0; i < 100; i++) {
		sim_send(&s, 0, 64);
		sim_send(&s, 1, 64);
		sim_deliver(&s);
		s.now += 100 * US;
	}
	CHECK(sim_idle(&s));
	/* A burst of many frames; the first is lost. */
	sim_queue(&s, 0, 300);
	s.loss = 1000;
	sim_send(&s, 0, 1);
	s.loss = 0;
	sim_send(&s, 0, 64);
	t0 = s.now;
	while (true) {
		dp_chan_get_stats(s.side[0].c, &st);
		if (st.in_flight == 0)
			break;
		sim_send(&s, 0, 64);
		sim_send(&s, 1, 64);
		sim_deliver(&s);
		s.now += 100 * US;
		CHECK(s.now - t0 < 15 * MS); /* well before the 20 ms timeout */
	}
	CHECK_EQ(st.timeouts, 0);
	CHECK(st.fast_resends >= 1);
	CHECK(st.segs_resent >= 1);
	sim_fini(&s);
}

static void
test_rtt_and_backoff(void)
{
	struct dp_chan_params p = {.seg_max = dp_frame_seg_max(CAP)};
	struct dp_chan_stats st;
	uint64_t last, prev_timeouts, want;
	struct sim s;

	sim_init(&s, &p, tu_seed);
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK_EQ(st.rto_ns, DP_CHAN_RTO_INIT_NS);
	CHECK_EQ(st.srtt_ns, 0);

	/* 5 ms each way: an RTT of 10 ms plus at most the ack delay; the
	 * timeout is then rto_min. */
	s.delay_min = 5 * MS;
	for (int i = 0; i < 100; i++) {
		sim_queue(&s, 0, 1);
		for (int j = 0; j < 100; j++) { /* 10 ms */
			sim_send(&s, 0, 64);
			sim_send(&s, 1, 64);
			sim_deliver(&s);
			s.now += 100 * US;
		}
	}
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK_MSG(st.srtt_ns >= 10 * MS && st.srtt_ns <= 10 * MS + DP_CHAN_ACK_DELAY_NS + 200 * US,
		  "srtt %llu", (unsigned long long)st.srtt_ns);
	CHECK_EQ(st.rto_ns, DP_CHAN_RTO_MIN_NS);
	/* 15 ms each way: the timeout is srtt plus a settled variance. */
	s.delay_min = 15 * MS;
	for (int i = 0; i < 100; i++) {
		sim_queue(&s, 0, 1);
		for (int j = 0; j < 400; j++) { /* 40 ms */
			sim_send(&s, 0, 64);
			sim_send(&s, 1, 64);
			sim_deliver(&s);
			s.now += 100 * US;
		}
	}
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK_MSG(st.srtt_ns >= 30 * MS && st.srtt_ns <= 30 * MS + DP_CHAN_ACK_DELAY_NS + 200 * US,
		  "srtt %llu", (unsigned long long)st.srtt_ns);
	CHECK_MSG(st.rto_ns >= st.srtt_ns && st.rto_ns <= st.srtt_ns + 2 * MS,
		  "rto %llu, srtt %llu", (unsigned long long)st.rto_ns,
		  (unsigned long long)st.srtt_ns);
	/* The first message at the longer RTT timed out once (rto was 20 ms). */
	CHECK_EQ(st.timeouts, 1);

	/* The link is cut: timeouts come at rto, then 2x, 4x ... up to 1 s. */
	s.cut = true;
	want = st.rto_ns;
	sim_queue(&s, 0, 1);
	sim_send(&s, 0, 64);
	last = s.now;
	prev_timeouts = st.timeouts;
	for (int n = 0; n < 9;) {
		s.now += 100 * US;
		sim_send(&s, 0, 64);
		dp_chan_get_stats(s.side[0].c, &st);
		if (st.timeouts == prev_timeouts)
			continue;
		CHECK_EQ(st.timeouts, prev_timeouts + 1);
		CHECK_MSG(s.now - last >= want && s.now - last <= want + 100 * US,
			  "timeout %d after %llu ns, wanted %llu", n,
			  (unsigned long long)(s.now - last), (unsigned long long)want);
		want = want * 2 < DP_CHAN_RTO_MAX_NS ? want * 2 : DP_CHAN_RTO_MAX_NS;
		CHECK_EQ(st.rto_ns, want);
		last = s.now;
		prev_timeouts = st.timeouts;
		n++;
	}
	CHECK_EQ(st.rto_ns, DP_CHAN_RTO_MAX_NS);
	/* Healed: delivered, and the ack's echo (of the last resend) is a
	 * sample that ends the backoff. */
	s.cut = false;
	while (!sim_idle(&s)) {
		sim_send(&s, 0, 64);
		sim_send(&s, 1, 64);
		sim_deliver(&s);
		s.now += 100 * US;
		CHECK(s.now - last < 3 * DP_CHAN_RTO_MAX_NS);
	}
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK_MSG(st.rto_ns < 40 * MS, "rto %llu", (unsigned long long)st.rto_ns);
	sim_fini(&s);
}

static void
test_overflow_and_reset(void)
{
	struct dp_chan_params p = {.seg_max = dp_frame_seg_max(CAP), .max_unsent = 70000,
				   .isn = 1000};
	struct dp_chan_stats st;
	uint8_t buf[1000];
	unsigned n = 0;
	struct sim s;
	int rc;

	sim_init(&s, &p, tu_seed);
	memset(buf, 0x33, sizeof(buf));
	buf[0] = 1;
	buf[1] = 0;
	buf[2] = (uint8_t)(sizeof(buf) - 4);
	buf[3] = (uint8_t)((sizeof(buf) - 4) >> 8);
	while ((rc = dp_chan_queue(s.side[0].c, buf, sizeof(buf))) == 0)
		n++;
	CHECK_EQ(rc, -ENOBUFS);
	CHECK_EQ(n, 70);
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK_EQ(st.unsent_bytes, 70000);
	/* Some in flight, then the session ends on both sides. */
	sim_send(&s, 0, 8);
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK(st.in_flight > 0);
	dp_chan_reset(s.side[0].c);
	dp_chan_reset(s.side[1].c);
	dp_chan_get_stats(s.side[0].c, &st);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(st.unsent_bytes, 0);
	/* The stale frames of the old session are what sessions are for: the
	 * dataplane drops them by session id; here they are dropped by hand. */
	while (s.net != NULL) {
		struct sim_frame *f = s.net;

		s.net = f->next;
		free(f);
	}
	while (s.side[0].sent < 50 || !sim_idle(&s)) {
		dp_chan_get_stats(s.side[0].c, &st);
		if (s.side[0].sent < 50 && st.unsent_bytes == 0)
			sim_queue(&s, 0, 1); /* any size fits the 70000 bytes */
		sim_send(&s, 0, 64);
		sim_send(&s, 1, 64);
		sim_deliver(&s);
		s.now += 100 * US;
	}
	CHECK_EQ(s.side[1].received, 50);
	sim_fini(&s);
}

static void
test_protocol_errors(void)
{
	struct dp_chan_params p = {.seg_max = dp_frame_seg_max(CAP)};
	struct dp_chan *c = dp_chan_create(&p);
	uint8_t msg[8] = {1, 0, 4, 0, 'a', 'b', 'c', 'd'}, buf[CAP];
	struct dp_buf out = {0};
	struct dp_frame_enc e;
	struct dp_frame h = {.type = DP_FRAME_DATA, .src_session = 1}, f;

	CHECK(c != NULL);
	/* Not whole messages. */
	CHECK_EQ(dp_chan_queue(c, msg, 3), -EINVAL);
	CHECK_EQ(dp_chan_queue(c, msg, 7), -EINVAL);
	CHECK_EQ(dp_chan_queue(c, msg, 0), 0);

	/* A whole message flagged MORE. */
	dp_frame_enc_start(&e, buf, CAP);
	CHECK_EQ(dp_frame_enc_seg(&e, msg, 8, DP_FRAME_SEG_F_MORE), 0);
	CHECK_EQ(dp_frame_decode(buf, dp_frame_enc_end(&e, &h), &f), DP_FRAME_OK);
	CHECK_EQ(dp_chan_rx(c, &f, 1, &out, true), -EPROTO);
	dp_chan_reset(c);
	/* Part of one, not flagged. */
	dp_frame_enc_start(&e, buf, CAP);
	CHECK_EQ(dp_frame_enc_seg(&e, msg, 6, 0), 0);
	CHECK_EQ(dp_frame_decode(buf, dp_frame_enc_end(&e, &h), &f), DP_FRAME_OK);
	CHECK_EQ(dp_chan_rx(c, &f, 1, &out, true), -EPROTO);
	dp_chan_reset(c);
	/* Done right: 6 bytes with MORE, then 2 without. */
	out.len = 0;
	dp_frame_enc_start(&e, buf, CAP);
	CHECK_EQ(dp_frame_enc_seg(&e, msg, 6, DP_FRAME_SEG_F_MORE), 0);
	CHECK_EQ(dp_frame_enc_seg(&e, msg + 6, 2, 0), 0);
	CHECK_EQ(dp_frame_decode(buf, dp_frame_enc_end(&e, &h), &f), DP_FRAME_OK);
	CHECK_EQ(dp_chan_rx(c, &f, 1, &out, true), 1);
	CHECK_EQ(out.len, 8);
	CHECK_MEM(out.data, msg, 8);
	/* An ack of what was never sent. */
	dp_frame_enc_start(&e, buf, CAP);
	h.ack = 1;
	h.seq = 2;
	CHECK_EQ(dp_frame_decode(buf, dp_frame_enc_end(&e, &h), &f), DP_FRAME_OK);
	CHECK_EQ(dp_chan_rx(c, &f, 1, &out, true), -EPROTO);
	dp_buf_free(&out);
	dp_chan_free(c);
}

int
main(int argc, char **argv)
{
	uint64_t msgs = 3000;
	struct tu_opt opts[] = {
		{"--msgs", &msgs, NULL, "messages each way in the lossy runs"},
	};

	tu_parse_args(argc, argv, opts, 1);
	test_protocol_errors();
	test_overflow_and_reset();
	test_rtt_and_backoff();
	test_fast_resend();
	/* A small window, so that it is full most of the time; sequence
	 * numbers wrap early in the run. */
	test_lossy(msgs, 64, UINT32_MAX - 500, 200);
	test_lossy(msgs, 0, 0, 200);
	test_lossy(msgs, 0, 0, 0);
	printf("ok\n");
	return 0;
}
