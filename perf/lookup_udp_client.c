/* SPDX-License-Identifier: MIT */
/*
 * lookup_udp_client: the kernel-socket load client of perf/run-lookup's
 * baseline (issue 6). One thread, sendmmsg()/recvmmsg() on a UDP socket,
 * the same request frames as tools/synode-loadgen (--batch LOOKUP requests
 * per frame for "key-%08u", a share --miss-pct outside the set; req_id =
 * the frame's sequence number << 8 | item), flat out with at most --window
 * frames in flight, or at --rate frames/s. Reports answers/s, latency
 * percentiles and lost answers as JSON, in the loadgen's shape.
 *
 *   lookup_udp_client [--addr A.B.C.D] [--port P] [--rate FPS] [--window W]
 *       [--batch N] [--names N] [--miss-pct P] [--scope S] [--seconds S]
 *       [--warmup S] [--timeout-ms MS] [--json PATH]
 *
 * Frames are encoded once with the codec of control/sn_lookup.h (a ring of
 * templates, only the req_ids written at send) and answers walked with it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lat_hist.h"
#include "sn_lookup.h"

#define UC_BURST 32
#define UC_FRAME 1472
#define UC_TEMPLATES 1024
#define UC_WINDOW_MAX 65536u
/* Latency histogram: log-linear, 2^UC_SUB_BITS steps per power of two
 * (under 1% error), up to 2^40 ns (as tools/synode-loadgen's). */

static struct {
	uint32_t addr;
	uint16_t port;
	double rate;
	unsigned window, batch, names, miss_pct, timeout_ms;
	const char *scope;
	double seconds, warmup_s;
	const char *json;
} opts = {
	.addr = 0x7f000001,
	.port = 4371,
	.window = 256,
	.batch = 16,
	.names = 100000,
	.miss_pct = 10,
	.timeout_ms = 100,
	.scope = "lk",
	.seconds = 5,
	.warmup_s = 0.5,
};

struct uc_template {
	uint16_t len;
	uint16_t id_off[SN_LOOKUP_ITEMS_MAX];
	uint8_t data[UC_FRAME];
};

struct uc_slot {
	uint64_t seq;           /* UINT64_MAX: free */
	uint64_t ns;
	uint16_t left;
	bool timed;
};

static volatile sig_atomic_t stop_asked;
static struct uc_template *templates;
static struct uc_slot *slots;
static unsigned win;
static uint64_t seq_next, seq_oldest;
static uint64_t hist[LAT_HIST_N];
static struct {
	uint64_t frames_tx, frames_rx, send_fail, answers, answers_timed;
	uint64_t hits, misses, errors, lost, late, malformed;
} st;

static void
on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lookup_udp_client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: lookup_udp_client [--addr A.B.C.D] [--port P] [--rate FPS] "
		"[--window W]\n    [--batch N] [--names N] [--miss-pct P] [--scope S] "
		"[--seconds S] [--warmup S]\n    [--timeout-ms MS] [--json PATH]\n");
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static double
parse_num(const char *opt, const char *s, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= max))
		usage_error("%s '%s': a number from 0 to %.0f", opt, s, max);
	return v;
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"addr", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"rate", required_argument, NULL, 'r'},
		{"window", required_argument, NULL, 'w'},
		{"batch", required_argument, NULL, 'b'},
		{"names", required_argument, NULL, 'n'},
		{"miss-pct", required_argument, NULL, 'm'},
		{"scope", required_argument, NULL, 's'},
		{"seconds", required_argument, NULL, 'S'},
		{"warmup", required_argument, NULL, 'W'},
		{"timeout-ms", required_argument, NULL, 'T'},
		{"json", required_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': {
			struct in_addr a;

			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage_error("--addr '%s': not an IPv4 address", optarg);
			opts.addr = ntohl(a.s_addr);
			break;
		}
		case 'p': opts.port = (uint16_t)parse_num("--port", optarg, 65535); break;
		case 'r': opts.rate = parse_num("--rate", optarg, 1e9); break;
		case 'w': opts.window = (unsigned)parse_num("--window", optarg, UC_WINDOW_MAX); break;
		case 'b': opts.batch = (unsigned)parse_num("--batch", optarg, SN_LOOKUP_ITEMS_MAX); break;
		case 'n': opts.names = (unsigned)parse_num("--names", optarg, 1e8); break;
		case 'm': opts.miss_pct = (unsigned)parse_num("--miss-pct", optarg, 100); break;
		case 's': opts.scope = optarg; break;
		case 'S': opts.seconds = parse_num("--seconds", optarg, 3600); break;
		case 'W': opts.warmup_s = parse_num("--warmup", optarg, 3600); break;
		case 'T': opts.timeout_ms = (unsigned)parse_num("--timeout-ms", optarg, 60000); break;
		case 'j': opts.json = optarg; break;
		default: usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (opts.batch == 0 || opts.names == 0 || opts.window == 0 || opts.port == 0 ||
	    opts.timeout_ms == 0)
		usage_error("--batch, --names, --window, --port and --timeout-ms must be positive");
	if (strlen(opts.scope) == 0 || strlen(opts.scope) > SYNODE_SCOPE_NAME_MAX)
		usage_error("--scope: 1 to %d bytes", SYNODE_SCOPE_NAME_MAX);
	if (opts.warmup_s >= opts.seconds)
		usage_error("--warmup must be shorter than --seconds");
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The loadgen's frames (same PRNG, same seed): built with the codec. */
static int
build_templates(void)
{
	uint64_t rng = 1;

	templates = calloc(UC_TEMPLATES, sizeof(*templates));
	if (templates == NULL)
		return -1;
	for (unsigned t = 0; t < UC_TEMPLATES; t++) {
		struct uc_template *f = &templates[t];
		struct sn_lookup_enc e;
		int len;

		sn_lookup_enc_start(&e, f->data, sizeof(f->data), SN_LOOKUP_REQUEST, 0);
		for (unsigned i = 0; i < opts.batch; i++) {
			uint64_t r = rng_next(&rng);
			bool miss = (r % 100) < opts.miss_pct;
			unsigned k = (unsigned)((r >> 8) % opts.names) + (miss ? opts.names : 0);
			char name[16];
			struct sn_lookup_req q = {0};

			q.op = SN_LOOKUP_OP_LOOKUP;
			snprintf(q.scope, sizeof(q.scope), "%s", opts.scope);
			q.key = name;
			q.key_len = (size_t)snprintf(name, sizeof(name), "key-%08u", k % 100000000u);
			/* The item's req_id follows its u16 length. */
			f->id_off[i] = (uint16_t)(e.len + 2);
			if (sn_lookup_enc_req(&e, &q) != 0) {
				fprintf(stderr, "lookup_udp_client: %u requests do not fit a frame\n",
					opts.batch);
				return -1;
			}
		}
		len = sn_lookup_enc_end(&e);
		if (len < 0)
			return -1;
		f->len = (uint16_t)len;
	}
	return 0;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
slot_retire(uint64_t now, uint64_t timeout)
{
	while (seq_oldest < seq_next) {
		struct uc_slot *s = &slots[seq_oldest & (win - 1)];

		if (s->seq == seq_oldest && s->left > 0) {
			if (now - s->ns < timeout)
				return;
			if (s->timed)
				st.lost += s->left;
		}
		s->seq = UINT64_MAX;
		seq_oldest++;
	}
}

static void
answers_rx(const uint8_t *p, size_t len, uint64_t now)
{
	struct sn_lookup_iter it;
	struct sn_lookup_ans a;
	int rc;

	uint8_t key_id;

	if (sn_lookup_frame_check(p, len, SN_LOOKUP_ANSWER, &key_id) < 0) {
		st.malformed++;
		return;
	}
	st.frames_rx++;
	sn_lookup_iter_init(&it, p, len);
	while ((rc = sn_lookup_next_ans(&it, &a)) == 1) {
		uint64_t seq = seq_oldest + (((a.req_id >> 8) - seq_oldest) & 0xffffffu);
		struct uc_slot *s = &slots[seq & (win - 1)];

		if (a.status == SN_LOOKUP_OK)
			st.hits++;
		else if (a.status == SN_LOOKUP_UNDEFINED)
			st.misses++;
		else
			st.errors++;
		if (seq >= seq_next || s->seq != seq || s->left == 0) {
			st.late++;
			continue;
		}
		s->left--;
		st.answers++;
		if (s->timed) {
			st.answers_timed++;
			hist[lat_hist_index(now - s->ns)]++;
		}
	}
	if (rc < 0)
		st.malformed++;
}

int
main(int argc, char **argv)
{
	static uint8_t rx_buf[UC_BURST][UC_FRAME + 1];
	struct mmsghdr tx_msg[UC_BURST], rx_msg[UC_BURST];
	struct iovec tx_iov[UC_BURST], rx_iov[UC_BURST];
	struct sockaddr_in to = {0};
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t t0, t_timed, t_end, t_stop, timeout, ns_per_frame = 0, due;
	uint64_t t_last = 0, answers_at_end = 0;
	unsigned window;
	int fd, buf = 4 << 20;
	double secs;
	FILE *f;

	parse_opts(argc, argv);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	window = opts.rate > 0 ? UC_WINDOW_MAX : opts.window;
	for (win = 1; win < window; win <<= 1)
		;
	slots = calloc(win, sizeof(*slots));
	if (slots == NULL || build_templates() != 0)
		return 1;
	for (unsigned i = 0; i < win; i++)
		slots[i].seq = UINT64_MAX;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = htonl(opts.addr);
	to.sin_port = htons(opts.port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		fprintf(stderr, "lookup_udp_client: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	for (unsigned i = 0; i < UC_BURST; i++) {
		rx_iov[i].iov_base = rx_buf[i];
		rx_iov[i].iov_len = sizeof(rx_buf[i]);
	}

	timeout = (uint64_t)opts.timeout_ms * 1000000;
	t0 = now_ns();
	t_timed = t0 + (uint64_t)(opts.warmup_s * 1e9);
	t_end = t0 + (uint64_t)(opts.seconds * 1e9);
	t_stop = t_end + timeout;
	if (opts.rate > 0)
		ns_per_frame = (uint64_t)(1e9 / opts.rate);
	due = t0;
	for (;;) {
		uint64_t now = now_ns();
		bool sending = now < t_end && !stop_asked;
		unsigned want = 0, n_tx = 0;
		int n;

		if (!sending && (now >= t_stop || seq_oldest == seq_next || stop_asked))
			break;
		if (sending) {
			if (opts.rate > 0) {
				while (due <= now && want < UC_BURST) {
					want++;
					due += ns_per_frame;
				}
				if (due + 64 * ns_per_frame < now)
					due = now;
			} else {
				uint64_t room = window - (seq_next - seq_oldest);

				want = room < UC_BURST ? (unsigned)room : UC_BURST;
			}
			for (unsigned i = 0; i < want; i++) {
				uint64_t seq = seq_next + i;
				struct uc_template *t = &templates[seq % UC_TEMPLATES];

				if (slots[seq & (win - 1)].seq != UINT64_MAX)
					break;
				for (unsigned k = 0; k < opts.batch; k++)
					put_u32(t->data + t->id_off[k], (uint32_t)(seq << 8) | k);
				/* The template is written again only UC_TEMPLATES
				 * frames later: sendmmsg() has copied it by then. */
				tx_iov[i].iov_base = t->data;
				tx_iov[i].iov_len = t->len;
				memset(&tx_msg[i].msg_hdr, 0, sizeof(tx_msg[i].msg_hdr));
				tx_msg[i].msg_hdr.msg_iov = &tx_iov[i];
				tx_msg[i].msg_hdr.msg_iovlen = 1;
				n_tx++;
			}
			if (n_tx > 0) {
				int s = sendmmsg(fd, tx_msg, n_tx, 0);
				uint64_t ts = now_ns();

				if (s < 0) {
					st.send_fail += n_tx;
					s = 0;
				}
				for (int i = 0; i < s; i++) {
					struct uc_slot *sl = &slots[seq_next & (win - 1)];

					sl->seq = seq_next;
					sl->ns = ts;
					sl->left = (uint16_t)opts.batch;
					sl->timed = ts >= t_timed;
					seq_next++;
				}
				st.frames_tx += (uint64_t)s;
			}
		}
		for (unsigned i = 0; i < UC_BURST; i++) {
			memset(&rx_msg[i].msg_hdr, 0, sizeof(rx_msg[i].msg_hdr));
			rx_msg[i].msg_hdr.msg_iov = &rx_iov[i];
			rx_msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, rx_msg, UC_BURST, MSG_DONTWAIT, NULL);
		now = now_ns();
		for (int i = 0; i < n; i++) {
			uint64_t before = st.answers_timed;

			answers_rx(rx_buf[i], rx_msg[i].msg_len, now);
			if (st.answers_timed != before && now <= t_end) {
				t_last = now;
				answers_at_end = st.answers_timed;
			}
		}
		slot_retire(now, timeout);
		if (n <= 0 && (n_tx == 0 || opts.rate > 0)) {
			/* Nothing to do for now: a short sleep, not a spin of a
			 * core the server needs. */
			struct timespec ts = { 0, 2000 };

			nanosleep(&ts, NULL);
		}
	}
	slot_retire(UINT64_MAX / 2, 0);
	close(fd);
	secs = t_last > t_timed ? (double)(t_last - t_timed) / 1e9 : 0;
	f = opts.json != NULL ? fopen(opts.json, "w") : stdout;
	if (f == NULL)
		f = stdout;
	fprintf(f, "{\"tool\": \"lookup_udp_client\", \"mode\": \"kernel-udp\", \"rate_fps\": %.0f, "
		"\"window\": %u, \"batch\": %u, \"names\": %u, \"miss_pct\": %u, \"scope\": \"%s\", "
		"\"seconds\": %.3f, \"warmup_s\": %.3f,\n"
		" \"frames_tx\": %" PRIu64 ", \"frames_rx\": %" PRIu64 ", \"send_fail\": %" PRIu64
		", \"answers\": %" PRIu64 ", \"answers_timed\": %" PRIu64 ", \"hits\": %" PRIu64
		", \"misses\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"lost\": %" PRIu64
		", \"late\": %" PRIu64 ", \"malformed\": %" PRIu64 ",\n"
		" \"timed_s\": %.6f, \"answers_per_s\": %.1f, \"frames_per_s\": %.1f,\n"
		" \"latency_us\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p999\": %.2f, "
		"\"max\": %.2f}}\n",
		opts.rate, opts.rate > 0 ? 0 : opts.window, opts.batch, opts.names, opts.miss_pct,
		opts.scope, opts.seconds, opts.warmup_s, st.frames_tx, st.frames_rx, st.send_fail,
		st.answers, st.answers_timed, st.hits, st.misses, st.errors, st.lost, st.late,
		st.malformed, secs, secs > 0 ? (double)answers_at_end / secs : 0.0,
		secs > 0 ? (double)answers_at_end / secs / opts.batch : 0.0,
		lat_hist_pct_us(hist, st.answers_timed, 0.5),
		lat_hist_pct_us(hist, st.answers_timed, 0.9),
		lat_hist_pct_us(hist, st.answers_timed, 0.99),
		lat_hist_pct_us(hist, st.answers_timed, 0.999),
		lat_hist_pct_us(hist, st.answers_timed, 1.0));
	if (f != stdout)
		fclose(f);
	fprintf(stderr, "lookup_udp_client: %.0f answers/s, p50 %.1f us, p99 %.1f us, lost %" PRIu64
		"\n", secs > 0 ? (double)answers_at_end / secs : 0.0,
		lat_hist_pct_us(hist, st.answers_timed, 0.5),
		lat_hist_pct_us(hist, st.answers_timed, 0.99),
		st.lost);
	return st.answers > 0 ? 0 : 1;
}
