/* SPDX-License-Identifier: MIT */
/*
 * lookup_node: the node of perf/run-lookup (issue 6). It embeds a node and
 * its dataplane, fills the lookup set (--names handles, each registered
 * under "key-%08u" in --scope with an 8-byte meta), then runs the
 * dataplane loop on the main lcore, which answers the lookup frames of
 * tools/synode-loadgen straight from the tables.
 *
 *   lookup_node [EAL options] -- --ip A.B.C.D/LEN [--name N] [--scope S]
 *       [--names N] [--poll adaptive|busy] [--life-s S] [--ready-file PATH]
 *       [--json PATH]
 *
 * No peers: a node of one, insecure (the cluster key only guards the
 * cluster's own frames; the scope's lookups are open). --ready-file is
 * written once the set is filled: the script starts the load then. At
 * SIGTERM or after --life-s it writes the dataplane's counters as JSON and
 * ends with _exit() (DPDK 22.11's memif may crash closing a port whose
 * peer is still connected).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
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

#include <rte_eal.h>
#include <rte_errno.h>
#include <urcu/urcu-memb.h>

#include "lookup_names.h"
#include "synode.h"
#include "synode_dp.h"


static struct {
	const char *name;
	uint32_t ip;
	uint8_t prefix_len;
	const char *scope;
	unsigned names;
	enum synode_dp_poll poll;
	double life_s;
	const char *ready_file;
	const char *json;
} opts = {
	.name = "lk1",
	.scope = "lk",
	.names = 100000,
	.poll = SYNODE_DP_POLL_BUSY,
	.life_s = 120,
};

static struct synode *node;
static struct synode_dp *dp;
static volatile sig_atomic_t stop_asked;

static void
on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
	if (dp != NULL)
		synode_dp_stop(dp);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lookup_node: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: lookup_node [EAL options] -- --ip A.B.C.D/LEN [--name N] "
		"[--scope S] [--names N]\n    [--poll adaptive|busy] [--life-s S] "
		"[--ready-file PATH] [--json PATH]\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"name", required_argument, NULL, 'N'},
		{"ip", required_argument, NULL, 'i'},
		{"scope", required_argument, NULL, 's'},
		{"names", required_argument, NULL, 'n'},
		{"poll", required_argument, NULL, 'P'},
		{"life-s", required_argument, NULL, 'L'},
		{"ready-file", required_argument, NULL, 'r'},
		{"json", required_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': opts.name = optarg; break;
		case 'i': {
			char buf[32], *slash, *end;
			struct in_addr a;
			unsigned long len;

			snprintf(buf, sizeof(buf), "%s", optarg);
			slash = strchr(buf, '/');
			if (slash == NULL)
				usage_error("--ip '%s': A.B.C.D/LEN", optarg);
			*slash = '\0';
			len = strtoul(slash + 1, &end, 10);
			if (inet_pton(AF_INET, buf, &a) != 1 || *end != '\0' || len < 1 || len > 32)
				usage_error("--ip '%s': A.B.C.D/LEN", optarg);
			opts.ip = ntohl(a.s_addr);
			opts.prefix_len = (uint8_t)len;
			break;
		}
		case 's': opts.scope = optarg; break;
		case 'n': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || v == 0 || v > 10000000)
				usage_error("--names '%s': 1 to 10000000", optarg);
			opts.names = (unsigned)v;
			break;
		}
		case 'P':
			if (strcmp(optarg, "busy") == 0)
				opts.poll = SYNODE_DP_POLL_BUSY;
			else if (strcmp(optarg, "adaptive") == 0)
				opts.poll = SYNODE_DP_POLL_ADAPTIVE;
			else
				usage_error("--poll '%s': adaptive or busy", optarg);
			break;
		case 'L': {
			char *end;

			opts.life_s = strtod(optarg, &end);
			if (*end != '\0' || !(opts.life_s > 0 && opts.life_s <= 86400))
				usage_error("--life-s '%s': seconds, up to 86400", optarg);
			break;
		}
		case 'r': opts.ready_file = optarg; break;
		case 'j': opts.json = optarg; break;
		default: usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (opts.ip == 0)
		usage_error("--ip is required");
}

/* The lookup set (perf/lookup_names.h), with its time. */
static int
fill_names(void)
{
	double t = now_s();
	int rc = lookup_names_fill(node, opts.scope, opts.names);

	if (rc != 0) {
		fprintf(stderr, "lookup_node: registering: %s\n", synode_strerror(rc));
		return -1;
	}
	fprintf(stderr, "lookup_node: %u names in scope %s in %.2f s\n", opts.names, opts.scope,
		now_s() - t);
	return 0;
}

static void __attribute__((noreturn))
ln_exit(int status)
{
	fflush(stdout);
	fflush(stderr);
	if (opts.ready_file != NULL)
		unlink(opts.ready_file);
	_exit(status);
}

/* Fills the set, says so, and stops the dataplane at the end of its life. */
static void *
ctl_main(void *arg)
{
	double end = now_s() + opts.life_s;

	(void)arg;
	if (fill_names() != 0) {
		stop_asked = 1;
		synode_dp_stop(dp);
		return NULL;
	}
	if (opts.ready_file != NULL) {
		FILE *f = fopen(opts.ready_file, "w");

		if (f != NULL) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	while (!stop_asked && now_s() < end) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	synode_dp_stop(dp);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct synode_dp_params dpp = {0};
	struct synode_params p = {0};
	struct synode_dp_stats s;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *scopes[1];
	pthread_t ctl;
	FILE *out;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "lookup_node: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	parse_opts(argc, argv);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	dpp.node_name = opts.name;
	dpp.ip = opts.ip;
	dpp.prefix_len = opts.prefix_len;
	dpp.poll = opts.poll;
	dpp.insecure = true;
	dpp.log_level = SYNODE_LOG_WARNING;
	dp = synode_dp_create(&dpp);
	if (dp == NULL) {
		fprintf(stderr, "lookup_node: synode_dp_create: %s\n", strerror(errno));
		ln_exit(1);
	}
	scopes[0] = opts.scope;
	p.name = opts.name;
	p.scopes = scopes;
	p.n_scopes = 1;
	p.log_level = SYNODE_LOG_WARNING;
	p.link = synode_dp_link(dp);
	node = synode_start(&p);
	if (node == NULL) {
		fprintf(stderr, "lookup_node: synode_start: %s\n", strerror(errno));
		ln_exit(1);
	}
	ret = synode_dp_attach(dp, node);
	if (ret != 0) {
		fprintf(stderr, "lookup_node: synode_dp_attach: %s\n", strerror(-ret));
		ln_exit(1);
	}
	if (pthread_create(&ctl, NULL, ctl_main, NULL) != 0) {
		fprintf(stderr, "lookup_node: pthread_create failed\n");
		ln_exit(1);
	}
	/* The dataplane loop on the main lcore: it answers the lookups. */
	ret = synode_dp_run(dp);
	if (ret != 0)
		fprintf(stderr, "lookup_node: synode_dp_run: %s\n", strerror(-ret));
	stop_asked = 1;
	pthread_join(ctl, NULL);
	synode_dp_get_stats(dp, &s);
	out = opts.json != NULL ? fopen(opts.json, "w") : stdout;
	if (out == NULL)
		out = stdout;
	fprintf(out, "{\"tool\": \"lookup_node\", \"names\": %u, \"scope\": \"%s\", \"poll\": \"%s\", "
		"\"rx_frames\": %" PRIu64 ", \"tx_frames\": %" PRIu64 ", \"rx_dropped\": %" PRIu64
		", \"lookup_frames\": %" PRIu64 ", \"lookup_answers\": %" PRIu64
		", \"lookup_malformed\": %" PRIu64 ", \"lookup_denied\": %" PRIu64
		", \"idle_sleeps\": %" PRIu64 "}\n",
		opts.names, opts.scope, opts.poll == SYNODE_DP_POLL_BUSY ? "busy" : "adaptive",
		s.rx_frames, s.tx_frames, s.rx_dropped, s.lookup_frames, s.lookup_answers,
		s.lookup_malformed, s.lookup_denied, s.idle_sleeps);
	if (out != stdout)
		fclose(out);
	ln_exit(ret == 0 ? 0 : 1);
}
