/* SPDX-License-Identifier: MIT */
/*
 * lookup_udp_server: the baseline of perf/run-lookup (issue 6), what a user
 * would otherwise write: a plain kernel UDP server, one thread,
 * recvmmsg()/sendmmsg(), over the same tables. It embeds a node (no
 * dataplane: a node of one), fills the same lookup set as perf/lookup_node
 * (--names handles registered as "key-%08u" in --scope, 8-byte meta), and
 * answers each lookup frame with sn_lookup_serve(): the very answer code
 * of the dataplane, with kernel sockets instead of DPDK.
 *
 *   lookup_udp_server [--addr A.B.C.D] [--port P] [--scope S] [--names N]
 *       [--life-s S] [--ready-file PATH] [--json PATH]
 *
 * At SIGTERM or after --life-s it writes its counters as JSON and ends.
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

#include <urcu/urcu-memb.h>

#include "sn_lookup.h"
#include "lookup_names.h"
#include "synode.h"

#define US_BATCH 32            /* datagrams per recvmmsg() */
#define US_OUT_MAX (US_BATCH * 4) /* answer frames per turn */
#define US_FRAME 1472

static struct {
	uint32_t addr;
	uint16_t port;
	const char *scope;
	unsigned names;
	double life_s;
	const char *ready_file;
	const char *json;
} opts = {
	.addr = 0x7f000001,
	.port = 4371,
	.scope = "lk",
	.names = 100000,
	.life_s = 120,
};

static volatile sig_atomic_t stop_asked;
static struct synode *node;

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

	fprintf(stderr, "lookup_udp_server: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: lookup_udp_server [--addr A.B.C.D] [--port P] [--scope S] "
		"[--names N]\n    [--life-s S] [--ready-file PATH] [--json PATH]\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long
parse_ulong(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage_error("%s '%s': %lu to %lu", opt, s, min, max);
	return v;
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"addr", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"scope", required_argument, NULL, 's'},
		{"names", required_argument, NULL, 'n'},
		{"life-s", required_argument, NULL, 'L'},
		{"ready-file", required_argument, NULL, 'r'},
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
		case 'p': opts.port = (uint16_t)parse_ulong("--port", optarg, 1, 65535); break;
		case 's': opts.scope = optarg; break;
		case 'n': opts.names = (unsigned)parse_ulong("--names", optarg, 1, 10000000); break;
		case 'L': opts.life_s = (double)parse_ulong("--life-s", optarg, 1, 86400); break;
		case 'r': opts.ready_file = optarg; break;
		case 'j': opts.json = optarg; break;
		default: usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Answer frames of one turn, each to the sender of its request. */
struct us_out {
	unsigned n, overflow;
	const struct sockaddr_in *to;
	struct mmsghdr msg[US_OUT_MAX];
	struct iovec iov[US_OUT_MAX];
	struct sockaddr_in addr[US_OUT_MAX];
	uint8_t buf[US_OUT_MAX][US_FRAME];
};

static void
emit(const void *frame, size_t len, void *arg)
{
	struct us_out *o = arg;
	unsigned i = o->n;

	if (i == US_OUT_MAX || len > US_FRAME) {
		o->overflow++;
		return;
	}
	memcpy(o->buf[i], frame, len);
	o->addr[i] = *o->to;
	o->iov[i].iov_base = o->buf[i];
	o->iov[i].iov_len = len;
	memset(&o->msg[i].msg_hdr, 0, sizeof(o->msg[i].msg_hdr));
	o->msg[i].msg_hdr.msg_name = &o->addr[i];
	o->msg[i].msg_hdr.msg_namelen = sizeof(o->addr[i]);
	o->msg[i].msg_hdr.msg_iov = &o->iov[i];
	o->msg[i].msg_hdr.msg_iovlen = 1;
	o->n++;
}

int
main(int argc, char **argv)
{
	static uint8_t in_buf[US_BATCH][US_FRAME + 1], scratch[US_FRAME];
	static struct us_out out;
	struct mmsghdr in_msg[US_BATCH];
	struct iovec in_iov[US_BATCH];
	struct sockaddr_in in_addr[US_BATCH], sa_bind = {0};
	struct sn_lookup_stats st = {0};
	struct sn_lookup_ctx ctx = {0};
	struct synode_params p = {0};
	struct sigaction sa = { .sa_handler = on_signal };
	struct timeval tv = { 0, 100 * 1000 };
	const char *scopes[1];
	uint64_t datagrams = 0, sent = 0, send_fail = 0, dropped = 0;
	double t0, end, t_first = 0, t_last = 0;
	int fd, one = 1, rcvbuf = 4 << 20, rc;
	FILE *f;

	parse_opts(argc, argv);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	scopes[0] = opts.scope;
	p.name = "lk-udp";
	p.scopes = scopes;
	p.n_scopes = 1;
	p.log_level = SYNODE_LOG_WARNING;
	node = synode_start(&p);
	if (node == NULL) {
		fprintf(stderr, "lookup_udp_server: synode_start: %s\n", strerror(errno));
		return 1;
	}
	t0 = now_s();
	rc = lookup_names_fill(node, opts.scope, opts.names);
	if (rc != 0) {
		fprintf(stderr, "lookup_udp_server: filling the set: %s\n", synode_strerror(rc));
		synode_stop(node);
		return 1;
	}
	fprintf(stderr, "lookup_udp_server: %u names in %.2f s\n", opts.names, now_s() - t0);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa_bind.sin_family = AF_INET;
	sa_bind.sin_addr.s_addr = htonl(opts.addr);
	sa_bind.sin_port = htons(opts.port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa_bind, sizeof(sa_bind)) != 0) {
		fprintf(stderr, "lookup_udp_server: socket: %s\n", strerror(errno));
		synode_stop(node);
		return 1;
	}
	/* Bigger buffers, as a user tuning a server would: a burst of the
	 * client's window must not overflow them. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
	if (opts.ready_file != NULL && (f = fopen(opts.ready_file, "w")) != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}

	urcu_memb_register_thread();
	end = now_s() + opts.life_s;
	for (unsigned i = 0; i < US_BATCH; i++) {
		in_iov[i].iov_base = in_buf[i];
		in_iov[i].iov_len = sizeof(in_buf[i]);
	}
	while (!stop_asked && now_s() < end) {
		int n;

		for (unsigned i = 0; i < US_BATCH; i++) {
			memset(&in_msg[i].msg_hdr, 0, sizeof(in_msg[i].msg_hdr));
			in_msg[i].msg_hdr.msg_name = &in_addr[i];
			in_msg[i].msg_hdr.msg_namelen = sizeof(in_addr[i]);
			in_msg[i].msg_hdr.msg_iov = &in_iov[i];
			in_msg[i].msg_hdr.msg_iovlen = 1;
		}
		/* Blocks for the first datagram (at most SO_RCVTIMEO), then
		 * takes what is there. */
		n = recvmmsg(fd, in_msg, US_BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		if (t_first == 0)
			t_first = now_s();
		datagrams += (uint64_t)n;
		out.n = 0;
		for (int i = 0; i < n; i++) {
			size_t len = in_msg[i].msg_len;

			if (len > US_FRAME) {
				dropped++;
				continue;
			}
			out.to = &in_addr[i];
			if (sn_lookup_serve(node, in_buf[i], len, scratch, sizeof(scratch), &ctx,
					    emit, &out, &st) < 0)
				dropped++;
		}
		for (unsigned k = 0; k < out.n;) {
			int s = sendmmsg(fd, out.msg + k, out.n - k, 0);

			if (s <= 0) {
				send_fail += out.n - k;
				break;
			}
			k += (unsigned)s;
			sent += (uint64_t)s;
		}
		t_last = now_s();
	}
	urcu_memb_unregister_thread();
	close(fd);
	f = opts.json != NULL ? fopen(opts.json, "w") : stdout;
	if (f == NULL)
		f = stdout;
	fprintf(f, "{\"tool\": \"lookup_udp_server\", \"names\": %u, \"scope\": \"%s\", "
		"\"datagrams\": %" PRIu64 ", \"answer_frames\": %" PRIu64 ", \"send_fail\": %" PRIu64
		", \"dropped\": %" PRIu64 ", \"overflow\": %u, \"items\": %" PRIu64
		", \"malformed_frames\": %" PRIu64 ", \"busy_s\": %.3f}\n",
		opts.names, opts.scope, datagrams, sent, send_fail, dropped, out.overflow, st.items,
		st.malformed_frames, t_last > t_first ? t_last - t_first : 0.0);
	if (f != stdout)
		fclose(f);
	if (opts.ready_file != NULL)
		unlink(opts.ready_file);
	synode_stop(node);
	return 0;
}
