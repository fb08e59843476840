/* SPDX-License-Identifier: MIT */
/*
 * cluster_bench: one node of perf/run-cluster's 3-node cluster, with the
 * dataplane, embedded in a program that drives it or watches it.
 *
 *   cluster_bench [EAL options] -- --role ROLE --name N --ip A.B.C.D/LEN
 *       --peer A.B.C.D ... --scope S --control PATH --json OUT [options]
 *
 * Roles:
 *   writer   Syn's benchmark shape: N handles (made untimed) and W worker
 *            threads that register N names (one per handle), unregister
 *            them, join N groups of one, leave them, join one group of N,
 *            leave it, and close the handles (a handle closing is a process
 *            dying: "kill"), once with names and once with groups. Each
 *            phase is timed from the workers' start until the other nodes
 *            (--observe PATH: their control sockets, through the client
 *            library) count the target; ops/s "with propagation" is N over
 *            that time. Registering also gives the dataplane's bytes sent
 *            per registration. With --idle-s S it first measures, for S
 *            seconds of a quiet cluster, the CPU used by itself and by
 *            each --idle-pid.
 *   latency  registers one name at a time at --rate per second for
 *            --seconds, each with meta = CLOCK_MONOTONIC ns at the call,
 *            and waits until the others count them all.
 *   observe  a node that serves its control socket and, in its event
 *            callback, records (arrival - meta) for every registration of a
 *            "lat-" name; at SIGTERM (or --life-s) it writes p50/p99/...
 *            All nodes run on one host: one monotonic clock.
 *
 * Threads: the EAL main lcore runs the dataplane loop (synode_dp_run());
 * the node has its control thread; the benchmark runs on a thread of its
 * own (plus the writer's workers). The process ends with _exit() after
 * writing its JSON: DPDK 22.11's memif may crash closing a port whose peer
 * is still connected (DESIGN.md, Running without a NIC).
 *
 * Exit status: 0 when every phase reached its target, 1 otherwise (the
 * JSON says which), 2 for a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include <rte_lcore.h>
#include <urcu/urcu-memb.h>

#include "synode.h"
#include "synode_client.h"
#include "synode_dp.h"

#define CB_MAX_PEERS 8
#define CB_MAX_OBSERVE 4
#define CB_MAX_IDLE_PIDS 8
#define CB_NAME_LEN 16             /* "bench-%010u" */
#define CB_META_LEN 8
#define CB_LAT_PREFIX "lat-"
#define CB_BIG "big"
/* Most latency samples one observer keeps. */
#define CB_LAT_MAX (1u << 22)

enum cb_role { CB_WRITER, CB_LATENCY, CB_OBSERVE };

/* Most writes per synode_batch() call. */
#define CB_BATCH_MAX 256

struct cb_opts {
	enum cb_role role;
	const char *name;
	uint32_t ip;
	uint8_t prefix_len;
	uint32_t peers[CB_MAX_PEERS];
	unsigned n_peers;
	const char *scope;
	const char *control;
	const char *json;
	enum synode_dp_poll poll;
	unsigned down_after_ms;
	const char *observe[CB_MAX_OBSERVE];
	unsigned n_observe;
	unsigned n;                 /* writer: processes */
	unsigned workers;           /* writer: worker threads */
	unsigned batch;             /* writer: writes per synode_batch() call; 1: single calls */
	double phase_timeout_s;
	double ready_timeout_s;
	double idle_s;
	pid_t idle_pids[CB_MAX_IDLE_PIDS];
	const char *idle_names[CB_MAX_IDLE_PIDS];
	unsigned n_idle_pids;
	unsigned rate;              /* latency: registrations per second */
	double seconds;             /* latency: for how long */
	double life_s;              /* observe: longest life */
};

static struct cb_opts opts = {
	.role = CB_WRITER,
	.scope = "bench",
	.poll = SYNODE_DP_POLL_ADAPTIVE,
	.n = 100000,
	.workers = 100,
	.batch = 1,
	.phase_timeout_s = 60,
	.ready_timeout_s = 30,
	.rate = 2000,
	.seconds = 3,
	.life_s = 600,
};

static struct synode *node;
static struct synode_dp *dp;
static volatile sig_atomic_t stop_asked;
static FILE *json_out;

/* ------------------------------------------------------------- helpers */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void
sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

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

	fprintf(stderr, "cluster_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: cluster_bench [EAL options] -- --role writer|latency|observe "
		"--name N --ip A.B.C.D/LEN --peer A.B.C.D ... --control PATH --json OUT\n"
		"  [--scope S] [--poll adaptive|busy] [--down-after-ms MS]\n"
		"  writer:  --observe PATH (x2) [--n N] [--workers W] [--batch B] [--phase-timeout-s S]\n"
		"           [--idle-s S --idle-pid NAME=PID ...]\n"
		"  latency: --observe PATH (x2) [--rate R] [--seconds S]\n"
		"  observe: [--life-s S]\n");
	exit(2);
}

/*
 * The process ends here: the JSON is written, the control socket removed,
 * and nothing of DPDK is closed (see the file's comment).
 */
static void __attribute__((noreturn))
cb_exit(int status)
{
	static atomic_flag exiting = ATOMIC_FLAG_INIT;

	/* The first caller ends the process; another one waits for it. */
	if (atomic_flag_test_and_set(&exiting))
		for (;;)
			pause();
	if (json_out != NULL)
		fclose(json_out);
	fflush(stdout);
	fflush(stderr);
	if (opts.control != NULL)
		unlink(opts.control);
	_exit(status);
}

static unsigned long
parse_ulong(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		usage_error("%s '%s': a number up to %lu", opt, s, max);
	return v;
}

static double
parse_secs(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= 0 && v <= 86400))
		usage_error("%s '%s': seconds, 0 to 86400", opt, s);
	return v;
}

static uint32_t
parse_ip(const char *opt, const char *s, uint8_t *prefix_len)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;

	if (len >= sizeof(buf) || (slash != NULL) != (prefix_len != NULL))
		usage_error("%s '%s': wants %s", opt, s,
			    prefix_len != NULL ? "A.B.C.D/LEN" : "A.B.C.D");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		usage_error("%s '%s': not an IPv4 address", opt, s);
	if (prefix_len != NULL)
		*prefix_len = (uint8_t)parse_ulong(opt, slash + 1, 32);
	if (prefix_len != NULL && *prefix_len == 0)
		usage_error("%s '%s': a prefix length from 1 to 32", opt, s);
	return ntohl(a.s_addr);
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"role", required_argument, NULL, 'r'},
		{"name", required_argument, NULL, 'N'},
		{"ip", required_argument, NULL, 'i'},
		{"peer", required_argument, NULL, 'p'},
		{"scope", required_argument, NULL, 's'},
		{"control", required_argument, NULL, 'c'},
		{"json", required_argument, NULL, 'j'},
		{"poll", required_argument, NULL, 'P'},
		{"down-after-ms", required_argument, NULL, 'D'},
		{"observe", required_argument, NULL, 'o'},
		{"n", required_argument, NULL, 'n'},
		{"workers", required_argument, NULL, 'w'},
		{"batch", required_argument, NULL, 'B'},
		{"phase-timeout-s", required_argument, NULL, 'T'},
		{"ready-timeout-s", required_argument, NULL, 'R'},
		{"idle-s", required_argument, NULL, 'I'},
		{"idle-pid", required_argument, NULL, 'X'},
		{"rate", required_argument, NULL, 'a'},
		{"seconds", required_argument, NULL, 'S'},
		{"life-s", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (strcmp(optarg, "writer") == 0)
				opts.role = CB_WRITER;
			else if (strcmp(optarg, "latency") == 0)
				opts.role = CB_LATENCY;
			else if (strcmp(optarg, "observe") == 0)
				opts.role = CB_OBSERVE;
			else
				usage_error("--role '%s': writer, latency or observe", optarg);
			break;
		case 'N': opts.name = optarg; break;
		case 'i': opts.ip = parse_ip("--ip", optarg, &opts.prefix_len); break;
		case 'p':
			if (opts.n_peers == CB_MAX_PEERS)
				usage_error("--peer: at most %d", CB_MAX_PEERS);
			opts.peers[opts.n_peers++] = parse_ip("--peer", optarg, NULL);
			break;
		case 's': opts.scope = optarg; break;
		case 'c': opts.control = optarg; break;
		case 'j': opts.json = optarg; break;
		case 'P':
			if (strcmp(optarg, "busy") == 0)
				opts.poll = SYNODE_DP_POLL_BUSY;
			else if (strcmp(optarg, "adaptive") == 0)
				opts.poll = SYNODE_DP_POLL_ADAPTIVE;
			else
				usage_error("--poll '%s': adaptive or busy", optarg);
			break;
		case 'D':
			opts.down_after_ms = (unsigned)parse_ulong("--down-after-ms", optarg, 3600000);
			break;
		case 'o':
			if (opts.n_observe == CB_MAX_OBSERVE)
				usage_error("--observe: at most %d", CB_MAX_OBSERVE);
			opts.observe[opts.n_observe++] = optarg;
			break;
		case 'n': opts.n = (unsigned)parse_ulong("--n", optarg, 10000000); break;
		case 'w': opts.workers = (unsigned)parse_ulong("--workers", optarg, 1000); break;
		case 'B': opts.batch = (unsigned)parse_ulong("--batch", optarg, CB_BATCH_MAX); break;
		case 'T': opts.phase_timeout_s = parse_secs("--phase-timeout-s", optarg); break;
		case 'R': opts.ready_timeout_s = parse_secs("--ready-timeout-s", optarg); break;
		case 'I': opts.idle_s = parse_secs("--idle-s", optarg); break;
		case 'X': {
			char *eq = strchr(optarg, '=');

			if (eq == NULL || opts.n_idle_pids == CB_MAX_IDLE_PIDS)
				usage_error("--idle-pid '%s': NAME=PID, at most %d", optarg,
					    CB_MAX_IDLE_PIDS);
			*eq = '\0';
			opts.idle_names[opts.n_idle_pids] = optarg;
			opts.idle_pids[opts.n_idle_pids++] =
				(pid_t)parse_ulong("--idle-pid", eq + 1, INT_MAX);
			break;
		}
		case 'a': opts.rate = (unsigned)parse_ulong("--rate", optarg, 1000000); break;
		case 'S': opts.seconds = parse_secs("--seconds", optarg); break;
		case 'L': opts.life_s = parse_secs("--life-s", optarg); break;
		default:
			usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (opts.name == NULL || opts.ip == 0 || opts.control == NULL || opts.json == NULL)
		usage_error("--name, --ip, --control and --json are required");
	if (opts.role != CB_OBSERVE && opts.n_observe == 0)
		usage_error("--observe PATH: the other nodes' control sockets");
	if (opts.role == CB_WRITER && (opts.n == 0 || opts.workers == 0 || opts.batch == 0))
		usage_error("--n and --workers must be positive");
	if (opts.role == CB_LATENCY && (opts.rate == 0 || opts.seconds <= 0))
		usage_error("--rate and --seconds must be positive");
}

/* ------------------------------------------------------- the observed nodes */

/* A connection to another node's control socket, for its counts. */
struct cb_peer_node {
	const char *path;
	struct synode_client *c;
	char name[SYNODE_NODE_NAME_MAX + 1];
};

static struct cb_peer_node others[CB_MAX_OBSERVE];

enum cb_count { CB_COUNT_REGISTRY, CB_COUNT_GROUPS, CB_COUNT_BIG, CB_COUNT_NONE };

static long
count_remote(struct synode_client *c, enum cb_count what)
{
	switch (what) {
	case CB_COUNT_REGISTRY:
		return synode_client_registry_count(c, opts.scope, NULL);
	case CB_COUNT_GROUPS:
		return synode_client_group_count(c, opts.scope, NULL);
	case CB_COUNT_BIG:
		return synode_client_member_count(c, opts.scope, CB_BIG, strlen(CB_BIG), NULL);
	default:
		return 0;
	}
}

static long
count_local(enum cb_count what)
{
	switch (what) {
	case CB_COUNT_REGISTRY:
		return synode_registry_count(node, opts.scope, NULL);
	case CB_COUNT_GROUPS:
		return synode_group_count(node, opts.scope, NULL);
	case CB_COUNT_BIG:
		return synode_member_count(node, opts.scope, CB_BIG, strlen(CB_BIG), NULL);
	default:
		return 0;
	}
}

static void
count_peer(const struct synode_peer_info *p, void *arg)
{
	(void)p;
	(*(unsigned *)arg)++;
}

/*
 * Waits until this node's scope has every other node in its subcluster and
 * each observed node has as many: the cluster is whole. Returns 0 or -1.
 */
static int
wait_ready(double timeout_s)
{
	double end = now_s() + timeout_s;
	unsigned want = opts.n_peers;

	for (unsigned i = 0; i < opts.n_observe; i++) {
		others[i].path = opts.observe[i];
		while (others[i].c == NULL) {
			others[i].c = synode_client_connect(others[i].path, 2000);
			if (others[i].c != NULL)
				break;
			if (now_s() > end || stop_asked) {
				fprintf(stderr, "cluster_bench: %s: %s\n", others[i].path,
					strerror(errno));
				return -1;
			}
			sleep_us(50000);
		}
		synode_client_set_timeout(others[i].c, 10000);
		snprintf(others[i].name, sizeof(others[i].name), "%s",
			 synode_client_node_name(others[i].c));
	}
	for (;;) {
		unsigned mine = 0;
		bool all = synode_peers(node, opts.scope, count_peer, &mine) >= (long)want;

		for (unsigned i = 0; all && i < opts.n_observe; i++) {
			long k = synode_client_nodes(others[i].c, opts.scope, NULL, NULL);

			if (k < 0) {
				fprintf(stderr, "cluster_bench: nodes on %s: %s\n",
					others[i].path, synode_strerror((int)k));
				return -1;
			}
			all = k >= (long)want;
		}
		if (all)
			return 0;
		if (now_s() > end || stop_asked) {
			fprintf(stderr, "cluster_bench: the cluster did not form within %.0f s "
				"(this node sees %u of %u peers in scope %s)\n",
				timeout_s, mine, want, opts.scope);
			return -1;
		}
		sleep_us(20000);
	}
}

/* ---------------------------------------------------------------- idle CPU */

/* utime + stime of a process, in clock ticks; -1 if it is gone. */
static long long
proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	FILE *f;
	size_t len;
	char *p;
	unsigned long long ut, st;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* The command name may hold spaces and parentheses: fields after the
	 * last ')' are state (3), ..., utime (14), stime (15). */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static void
measure_idle(void)
{
	unsigned k = opts.n_idle_pids + 1;
	pid_t pids[CB_MAX_IDLE_PIDS + 1];
	const char *names[CB_MAX_IDLE_PIDS + 1];
	long long t0[CB_MAX_IDLE_PIDS + 1], t1[CB_MAX_IDLE_PIDS + 1];
	struct synode_dp_stats s0, s1;
	double w0, w1, hz = (double)sysconf(_SC_CLK_TCK);

	pids[0] = getpid();
	names[0] = opts.name;
	for (unsigned i = 0; i < opts.n_idle_pids; i++) {
		pids[i + 1] = opts.idle_pids[i];
		names[i + 1] = opts.idle_names[i];
	}
	synode_dp_get_stats(dp, &s0);
	w0 = now_s();
	for (unsigned i = 0; i < k; i++)
		t0[i] = proc_cpu_ticks(pids[i]);
	while (now_s() - w0 < opts.idle_s && !stop_asked)
		sleep_us(100000);
	for (unsigned i = 0; i < k; i++)
		t1[i] = proc_cpu_ticks(pids[i]);
	w1 = now_s();
	synode_dp_get_stats(dp, &s1);
	fprintf(json_out, " \"idle\": {\"seconds\": %.3f, \"poll\": \"%s\", "
		"\"writer_idle_sleeps\": %" PRIu64 ", \"writer_tx_frames\": %" PRIu64 ", \"nodes\": [",
		w1 - w0, opts.poll == SYNODE_DP_POLL_BUSY ? "busy" : "adaptive",
		s1.idle_sleeps - s0.idle_sleeps, s1.tx_frames - s0.tx_frames);
	for (unsigned i = 0; i < k; i++) {
		double pct = t0[i] < 0 || t1[i] < 0 ? -1
			: 100.0 * (double)(t1[i] - t0[i]) / hz / (w1 - w0);

		fprintf(json_out, "%s{\"node\": \"%s\", \"pid\": %d, \"cpu_pct\": %.2f}",
			i ? ", " : "", names[i], (int)pids[i], pct);
		fprintf(stderr, "cluster_bench: idle %s (pid %d): %.2f%% of a core\n",
			names[i], (int)pids[i], pct);
	}
	fprintf(json_out, "]},\n");
	fflush(json_out);
}

/* ------------------------------------------------------------- the writer */

enum cb_op {
	CB_OP_NEW, CB_OP_REGISTER, CB_OP_UNREGISTER, CB_OP_JOIN_OWN, CB_OP_LEAVE_OWN,
	CB_OP_JOIN_BIG, CB_OP_LEAVE_BIG, CB_OP_CLOSE,
};

struct cb_phase {
	const char *name;
	enum cb_op op;
	enum cb_count what;
	bool zero;          /* target 0, else N */
	bool timed;         /* reported; else a set-up step */
};

static const struct cb_phase cb_phases[] = {
	{"handles", CB_OP_NEW, CB_COUNT_NONE, false, false},
	{"register", CB_OP_REGISTER, CB_COUNT_REGISTRY, false, true},
	{"unregister", CB_OP_UNREGISTER, CB_COUNT_REGISTRY, true, true},
	{"join_own", CB_OP_JOIN_OWN, CB_COUNT_GROUPS, false, true},
	{"leave_own", CB_OP_LEAVE_OWN, CB_COUNT_GROUPS, true, true},
	{"join_big", CB_OP_JOIN_BIG, CB_COUNT_BIG, false, true},
	{"leave_big", CB_OP_LEAVE_BIG, CB_COUNT_BIG, true, true},
	{"register_again", CB_OP_REGISTER, CB_COUNT_REGISTRY, false, false},
	{"kill_registered", CB_OP_CLOSE, CB_COUNT_REGISTRY, true, true},
	{"handles_again", CB_OP_NEW, CB_COUNT_NONE, false, false},
	{"join_own_again", CB_OP_JOIN_OWN, CB_COUNT_GROUPS, false, false},
	{"kill_joined", CB_OP_CLOSE, CB_COUNT_GROUPS, true, true},
};

static struct synode_pid *handles;
static char (*names)[CB_NAME_LEN + 1];
static pthread_barrier_t go_barrier;
static const struct cb_phase *current;
static atomic_uint workers_done;
static atomic_ulong op_errors;
static atomic_int first_error;
static atomic_bool workers_quit;

struct cb_worker {
	pthread_t thread;
	unsigned from, to;      /* handles [from, to) */
};

static int
worker_op(enum cb_op op, unsigned i)
{
	uint64_t meta = i;

	switch (op) {
	case CB_OP_NEW:
		return synode_handle_new(node, &handles[i]);
	case CB_OP_REGISTER:
		return synode_register(node, opts.scope, names[i], CB_NAME_LEN, &handles[i],
				       &meta, sizeof(meta));
	case CB_OP_UNREGISTER:
		return synode_unregister(node, opts.scope, names[i], CB_NAME_LEN);
	case CB_OP_JOIN_OWN:
		return synode_join(node, opts.scope, names[i], CB_NAME_LEN, &handles[i],
				   &meta, sizeof(meta));
	case CB_OP_LEAVE_OWN:
		return synode_leave(node, opts.scope, names[i], CB_NAME_LEN, &handles[i]);
	case CB_OP_JOIN_BIG:
		return synode_join(node, opts.scope, CB_BIG, strlen(CB_BIG), &handles[i],
				   &meta, sizeof(meta));
	case CB_OP_LEAVE_BIG:
		return synode_leave(node, opts.scope, CB_BIG, strlen(CB_BIG), &handles[i]);
	case CB_OP_CLOSE:
		return synode_handle_close(node, &handles[i]);
	}
	return -EINVAL;
}

/* The phase's write for handle @p i as a batch entry; false if the
 * operation is no write (handles are made and closed one by one). */
static bool
worker_op_batch(enum cb_op op, unsigned i, struct synode_op *o, uint64_t *meta)
{
	*meta = i;
	memset(o, 0, sizeof(*o));
	o->scope = opts.scope;
	o->name = names[i];
	o->name_len = CB_NAME_LEN;
	o->pid = handles[i];
	o->meta = meta;
	o->meta_len = sizeof(*meta);
	switch (op) {
	case CB_OP_REGISTER:
		o->kind = SYNODE_OP_REGISTER;
		return true;
	case CB_OP_UNREGISTER:
		o->kind = SYNODE_OP_UNREGISTER;
		return true;
	case CB_OP_JOIN_OWN:
		o->kind = SYNODE_OP_JOIN;
		return true;
	case CB_OP_LEAVE_OWN:
		o->kind = SYNODE_OP_LEAVE;
		return true;
	case CB_OP_JOIN_BIG:
	case CB_OP_LEAVE_BIG:
		o->kind = op == CB_OP_JOIN_BIG ? SYNODE_OP_JOIN : SYNODE_OP_LEAVE;
		o->name = CB_BIG;
		o->name_len = strlen(CB_BIG);
		return true;
	default:
		return false;
	}
}

static void
count_error(int rc)
{
	int none = 0;

	atomic_fetch_add(&op_errors, 1);
	atomic_compare_exchange_strong(&first_error, &none, rc);
}

/* Runs handles [from, to) of the phase through synode_batch(), opts.batch
 * writes per call. */
static void
worker_run_batched(enum cb_op op, unsigned from, unsigned to)
{
	/* on the worker's 256 KiB stack: ~34 KiB */
	struct synode_op ops[CB_BATCH_MAX];
	uint64_t metas[CB_BATCH_MAX];

	for (unsigned i = from; i < to;) {
		unsigned k = 0;

		while (k < opts.batch && i < to) {
			(void)worker_op_batch(op, i, &ops[k], &metas[k]);
			k++;
			i++;
		}
		int rc = synode_batch(node, ops, k);

		for (unsigned j = 0; j < k; j++)
			if (rc != 0 || ops[j].result != 0)
				count_error(rc != 0 ? rc : ops[j].result);
	}
}

/* One worker: at each release of the barrier, runs the current phase's
 * operation over its slice of the handles. */
static void *
worker_main(void *arg)
{
	struct cb_worker *w = arg;
	struct synode_op probe;
	uint64_t probe_meta;

	for (;;) {
		pthread_barrier_wait(&go_barrier);
		if (atomic_load(&workers_quit))
			return NULL;
		if (opts.batch > 1 && worker_op_batch(current->op, w->from, &probe, &probe_meta)) {
			worker_run_batched(current->op, w->from, w->to);
			atomic_fetch_add(&workers_done, 1);
			continue;
		}
		for (unsigned i = w->from; i < w->to; i++) {
			int rc = worker_op(current->op, i);

			if (rc != 0) {
				int none = 0;

				atomic_fetch_add(&op_errors, 1);
				atomic_compare_exchange_strong(&first_error, &none, rc);
			}
		}
		atomic_fetch_add(&workers_done, 1);
	}
}

static void
write_dp_delta(const struct synode_dp_stats *a, const struct synode_dp_stats *b)
{
	fprintf(json_out, "\"tx_bytes\": %" PRIu64 ", \"tx_frames\": %" PRIu64
		", \"rx_bytes\": %" PRIu64 ", \"rx_frames\": %" PRIu64
		", \"retransmits\": %" PRIu64 ", \"resets\": %" PRIu64
		", \"rx_dropped\": %" PRIu64,
		b->tx_bytes - a->tx_bytes, b->tx_frames - a->tx_frames,
		b->rx_bytes - a->rx_bytes, b->rx_frames - a->rx_frames,
		b->retransmits - a->retransmits, b->resets - a->resets,
		b->rx_dropped - a->rx_dropped);
}

/*
 * Runs one phase: releases the workers, then polls the other nodes' counts
 * until each equals the target (or the phase's time is up). Returns true
 * if the target was reached everywhere.
 */
static bool
run_phase(const struct cb_phase *ph, bool *first_reported)
{
	long target = ph->zero ? 0 : (long)opts.n;
	unsigned nw = opts.workers;
	double reached_at[CB_MAX_OBSERVE] = {0};
	long last[CB_MAX_OBSERVE] = {0};
	unsigned left = ph->what == CB_COUNT_NONE ? 0 : opts.n_observe;
	double t0, end, local_done = -1, now;
	unsigned polls = 0;
	struct synode_dp_stats s0, s1;
	bool ok;
	long local = 0;

	current = ph;
	atomic_store(&workers_done, 0);
	atomic_store(&op_errors, 0);
	atomic_store(&first_error, 0);
	synode_dp_get_stats(dp, &s0);
	pthread_barrier_wait(&go_barrier);
	t0 = now_s();
	end = t0 + opts.phase_timeout_s;
	for (;;) {
		now = now_s();
		if (local_done < 0 && atomic_load(&workers_done) == nw)
			local_done = now - t0;
		for (unsigned i = 0; i < opts.n_observe && ph->what != CB_COUNT_NONE; i++) {
			long k;

			if (reached_at[i] > 0)
				continue;
			k = count_remote(others[i].c, ph->what);
			if (k < 0) {
				fprintf(stderr, "cluster_bench: count on %s: %s\n",
					others[i].path, synode_strerror((int)k));
				end = 0;
				break;
			}
			last[i] = k;
			if (k == target) {
				reached_at[i] = now_s() - t0;
				left--;
			}
		}
		polls++;
		if ((left == 0 && local_done >= 0) || now > end || stop_asked)
			break;
		/* The counts cross the other nodes' control threads, which are
		 * busy applying what we send: poll every half millisecond. */
		sleep_us(500);
	}
	synode_dp_get_stats(dp, &s1);
	/* Workers stuck past the phase's time: nothing sensible can follow. */
	while (atomic_load(&workers_done) != nw && now_s() < t0 + opts.phase_timeout_s + 10)
		sleep_us(1000);
	if (atomic_load(&workers_done) != nw) {
		fprintf(stderr, "cluster_bench: %s: workers still busy 10 s after the "
			"phase's time\n", ph->name);
		fprintf(json_out, "%s\n  {\"name\": \"%s\", \"reached\": false, "
			"\"note\": \"workers stuck\"}\n ]}\n", *first_reported ? "," : "",
			ph->name);
		cb_exit(1);
	}
	if (ph->what != CB_COUNT_NONE)
		local = count_local(ph->what);
	else
		local = target;
	ok = left == 0 && local == target && atomic_load(&op_errors) == 0;
	if (!ph->timed && ok)
		return true;

	int err = atomic_load(&first_error);
	double prop = 0;
	for (unsigned i = 0; i < opts.n_observe; i++)
		if (reached_at[i] > prop)
			prop = reached_at[i];
	/* How far the slowest node got, in operations seen. */
	long slowest = (long)opts.n;
	for (unsigned i = 0; i < opts.n_observe; i++) {
		long done = ph->zero ? (long)opts.n - last[i] : last[i];

		if (reached_at[i] == 0 && done < slowest)
			slowest = done;
	}
	fprintf(json_out, "%s\n  {\"name\": \"%s\", \"timed\": %s, \"ops\": %u, \"target\": %ld, "
		"\"reached\": %s, \"errors\": %lu, \"first_error\": %s%s%s, "
		"\"local_s\": %.6f, \"propagated_s\": %.6f, \"ops_per_s\": %.1f, "
		"\"elapsed_s\": %.6f, \"progress\": %ld, \"local_count\": %ld, \"polls\": %u, "
		"\"nodes\": [",
		*first_reported ? "," : "", ph->name, ph->timed ? "true" : "false",
		opts.n, target, ok ? "true" : "false", atomic_load(&op_errors),
		err != 0 ? "\"" : "", err != 0 ? synode_strerror(err) : "null",
		err != 0 ? "\"" : "", local_done,
		ok ? prop : -1.0, ok && prop > 0 ? opts.n / prop : 0.0,
		now_s() - t0, ok ? (long)opts.n : slowest, local, polls);
	for (unsigned i = 0; i < opts.n_observe; i++)
		fprintf(json_out, "%s{\"node\": \"%s\", \"count\": %ld, \"reached_s\": %.6f}",
			i ? ", " : "", others[i].name, last[i], reached_at[i]);
	fprintf(json_out, "], ");
	write_dp_delta(&s0, &s1);
	fprintf(json_out, "}");
	fflush(json_out);
	*first_reported = true;
	fprintf(stderr, "cluster_bench: %-16s %s: local %.3f s, everywhere %.3f s, %.0f ops/s, "
		"tx %.1f B/op (errors %lu)\n", ph->name, ok ? "ok" : "NOT REACHED",
		local_done, ok ? prop : -1.0, ok && prop > 0 ? opts.n / prop : 0.0,
		(double)(s1.tx_bytes - s0.tx_bytes) / opts.n, atomic_load(&op_errors));
	return ok;
}

static int
run_writer(void)
{
	unsigned nw = opts.workers < opts.n ? opts.workers : opts.n;
	struct cb_worker *ws;
	bool all_ok = true, first = false;
	size_t k;

	opts.workers = nw;
	handles = calloc(opts.n, sizeof(*handles));
	names = calloc(opts.n, sizeof(*names));
	ws = calloc(nw, sizeof(*ws));
	if (handles == NULL || names == NULL || ws == NULL) {
		fprintf(stderr, "cluster_bench: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < opts.n; i++)
		snprintf(names[i], sizeof(names[i]), "bench-%010u", i);
	pthread_barrier_init(&go_barrier, NULL, nw + 1);
	for (unsigned w = 0; w < nw; w++) {
		ws[w].from = (unsigned)((uint64_t)opts.n * w / nw);
		ws[w].to = (unsigned)((uint64_t)opts.n * (w + 1) / nw);
		/* Small stacks: 100 workers only call the API. */
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 256 * 1024);
		if (pthread_create(&ws[w].thread, &a, worker_main, &ws[w]) != 0) {
			fprintf(stderr, "cluster_bench: pthread_create failed\n");
			cb_exit(1);
		}
		pthread_attr_destroy(&a);
	}
	fprintf(json_out, " \"batch\": %u,", opts.batch);
	fprintf(json_out, " \"n\": %u, \"workers\": %u, \"name_len\": %d, \"meta_len\": %d,\n"
		" \"phases\": [", opts.n, nw, CB_NAME_LEN, CB_META_LEN);
	for (k = 0; k < sizeof(cb_phases) / sizeof(cb_phases[0]); k++) {
		if (!run_phase(&cb_phases[k], &first)) {
			all_ok = false;
			if (!cb_phases[k].timed)
				fprintf(stderr, "cluster_bench: set-up step %s failed\n",
					cb_phases[k].name);
			break;
		}
	}
	fprintf(json_out, "\n ],\n \"completed\": %s}\n", all_ok ? "true" : "false");
	atomic_store(&workers_quit, true);
	pthread_barrier_wait(&go_barrier);
	return all_ok ? 0 : 1;
}

/* ------------------------------------------------------------ the latency */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}


static int
run_latency(void)
{
	unsigned total = (unsigned)(opts.rate * opts.seconds);
	struct synode_pid h;
	uint64_t t0, *call_ns;
	unsigned sent = 0, errors = 0;
	double end, reached = -1, wait0;
	int rc;

	call_ns = calloc(total ? total : 1, sizeof(*call_ns));
	if (call_ns == NULL || (rc = synode_handle_new(node, &h)) != 0) {
		fprintf(stderr, "cluster_bench: latency set-up failed\n");
		return 1;
	}
	t0 = now_ns();
	for (unsigned i = 0; i < total && !stop_asked; i++) {
		/* Paced on an absolute schedule: a late call does not shift the
		 * ones after it. */
		uint64_t due = t0 + (uint64_t)i * UINT64_C(1000000000) / opts.rate;
		struct timespec ts = { .tv_sec = (time_t)(due / 1000000000),
				       .tv_nsec = (long)(due % 1000000000) };
		char name[32];
		uint64_t stamp;
		int len = snprintf(name, sizeof(name), CB_LAT_PREFIX "%08u", i);

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		stamp = now_ns();
		rc = synode_register(node, opts.scope, name, (size_t)len, &h, &stamp, sizeof(stamp));
		if (rc != 0)
			errors++;
		else
			call_ns[sent++] = now_ns() - stamp;
	}
	/* Every one seen by every other node? */
	wait0 = now_s();
	end = wait0 + opts.phase_timeout_s;
	long last[CB_MAX_OBSERVE] = {0};
	for (;;) {
		bool all = true;

		for (unsigned i = 0; i < opts.n_observe; i++) {
			last[i] = synode_client_registry_count(others[i].c, opts.scope, NULL);
			all = all && last[i] == (long)sent;
		}
		if (all) {
			reached = now_s() - wait0;
			break;
		}
		if (now_s() > end || stop_asked)
			break;
		sleep_us(1000);
	}
	/* The writer's own view: how long the call took (the node's write,
	 * its control thread's round trip). */
	qsort(call_ns, sent, sizeof(*call_ns), cmp_u64);
	fprintf(json_out, " \"rate\": %u, \"seconds\": %.3f, \"sent\": %u, \"errors\": %u, "
		"\"all_seen\": %s, \"seen_after_s\": %.6f, \"counts\": [%ld, %ld], "
		"\"call_us\": {\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}}\n",
		opts.rate, opts.seconds, sent, errors, reached >= 0 ? "true" : "false",
		reached, last[0], opts.n_observe > 1 ? last[1] : 0L,
		sent ? call_ns[sent / 2] / 1e3 : 0, sent ? call_ns[(size_t)(sent * 0.99)] / 1e3 : 0,
		sent ? call_ns[sent - 1] / 1e3 : 0);
	synode_handle_close(node, &h);
	return reached >= 0 && errors == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ the observer */

static uint64_t *lat_ns;
static atomic_uint lat_n;       /* written by the control thread only */
static atomic_uint lat_dropped;

/* Control thread: one event. Must not block: a few compares and a store. */
static void
observe_event(const struct synode_event *ev, void *arg)
{
	uint64_t now = now_ns(), stamp;
	unsigned i;

	(void)arg;
	if (ev->kind != SYNODE_EV_REGISTERED || ev->meta_len != sizeof(stamp) ||
	    ev->name_len < sizeof(CB_LAT_PREFIX) - 1 ||
	    memcmp(ev->name, CB_LAT_PREFIX, sizeof(CB_LAT_PREFIX) - 1) != 0)
		return;
	memcpy(&stamp, ev->meta, sizeof(stamp));
	i = atomic_load_explicit(&lat_n, memory_order_relaxed);
	if (i == CB_LAT_MAX) {
		atomic_fetch_add_explicit(&lat_dropped, 1, memory_order_relaxed);
		return;
	}
	lat_ns[i] = now >= stamp ? now - stamp : 0;
	/* R1: pairs with A1 in run_observe(). */
	atomic_store_explicit(&lat_n, i + 1, memory_order_release);
}

static int
run_observe(void)
{
	double end = now_s() + opts.life_s;
	unsigned n;

	while (!stop_asked && now_s() < end)
		sleep_us(50000);
	/* A1: pairs with R1 in observe_event(). */
	n = atomic_load_explicit(&lat_n, memory_order_acquire);
	qsort(lat_ns, n, sizeof(*lat_ns), cmp_u64);
	fprintf(json_out, " \"samples\": %u, \"dropped\": %u, \"stopped_by\": \"%s\"",
		n, atomic_load(&lat_dropped), stop_asked ? "signal" : "life-s");
	if (n > 0) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < n; i++)
			sum += lat_ns[i];
		fprintf(json_out, ", \"latency_us\": {\"min\": %.2f, \"p50\": %.2f, \"p90\": %.2f, "
			"\"p99\": %.2f, \"p999\": %.2f, \"max\": %.2f, \"mean\": %.2f}",
			lat_ns[0] / 1e3, lat_ns[n / 2] / 1e3, lat_ns[(size_t)(n * 0.9)] / 1e3,
			lat_ns[(size_t)(n * 0.99)] / 1e3, lat_ns[(size_t)(n * 0.999)] / 1e3,
			lat_ns[n - 1] / 1e3, (double)sum / n / 1e3);
		fprintf(stderr, "cluster_bench: %u samples: p50 %.2f us, p99 %.2f us, max %.2f us\n",
			n, lat_ns[n / 2] / 1e3, lat_ns[(size_t)(n * 0.99)] / 1e3,
			lat_ns[n - 1] / 1e3);
	}
	fprintf(json_out, "}\n");
	return 0;
}

/* ------------------------------------------------------------------- main */

static void *
bench_main(void *arg)
{
	int rc = 1;

	(void)arg;
	urcu_memb_register_thread();
	fprintf(json_out, "{\"tool\": \"cluster_bench\", \"role\": \"%s\", \"node\": \"%s\", "
		"\"poll\": \"%s\", \"scope\": \"%s\", \"pid\": %d,\n",
		opts.role == CB_WRITER ? "writer" : opts.role == CB_LATENCY ? "latency" : "observe",
		opts.name, opts.poll == SYNODE_DP_POLL_BUSY ? "busy" : "adaptive", opts.scope,
		(int)getpid());
	if (opts.role == CB_OBSERVE) {
		rc = run_observe();
		goto out;
	}
	{
		double t = now_s();

		if (wait_ready(opts.ready_timeout_s) != 0) {
			fprintf(json_out, " \"error\": \"the cluster did not form\"}\n");
			goto out;
		}
		fprintf(json_out, " \"ready_s\": %.3f,\n", now_s() - t);
	}
	if (opts.role == CB_WRITER && opts.idle_s > 0)
		measure_idle();
	rc = opts.role == CB_WRITER ? run_writer() : run_latency();
out:
	urcu_memb_unregister_thread();
	cb_exit(rc);
}

int
main(int argc, char **argv)
{
	struct synode_dp_params dpp = {0};
	struct synode_params p = {0};
	const char *scopes[1];
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t bench;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "cluster_bench: rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	parse_opts(argc, argv);
	json_out = fopen(opts.json, "w");
	if (json_out == NULL) {
		fprintf(stderr, "cluster_bench: %s: %s\n", opts.json, strerror(errno));
		cb_exit(1);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (opts.role == CB_OBSERVE) {
		lat_ns = calloc(CB_LAT_MAX, sizeof(*lat_ns));
		if (lat_ns == NULL)
			cb_exit(1);
	}

	dpp.node_name = opts.name;
	dpp.ip = opts.ip;
	dpp.prefix_len = opts.prefix_len;
	dpp.peers = opts.peers;
	dpp.n_peers = opts.n_peers;
	dpp.poll = opts.poll;
	dpp.down_after_ms = opts.down_after_ms;
	dpp.log_level = SYNODE_LOG_WARNING;
	/* Frames carry the cluster key's MAC, as in a real cluster: a fixed
	 * benchmark key, the same on the 3 nodes (issue 5). */
	dpp.key = "synode cluster_bench key, not a secret: 0123456789abcdef";
	dpp.key_len = strlen(dpp.key);
	dp = synode_dp_create(&dpp);
	if (dp == NULL) {
		fprintf(stderr, "cluster_bench: synode_dp_create: %s\n", strerror(errno));
		cb_exit(1);
	}
	scopes[0] = opts.scope;
	p.name = opts.name;
	p.scopes = scopes;
	p.n_scopes = 1;
	p.control_path = opts.control;
	p.log_level = SYNODE_LOG_WARNING;
	p.link = synode_dp_link(dp);
	if (opts.role == CB_OBSERVE)
		p.on_event = observe_event;
	node = synode_start(&p);
	if (node == NULL) {
		fprintf(stderr, "cluster_bench: synode_start: %s\n", strerror(errno));
		cb_exit(1);
	}
	ret = synode_dp_attach(dp, node);
	if (ret != 0) {
		fprintf(stderr, "cluster_bench: synode_dp_attach: %s\n", strerror(-ret));
		cb_exit(1);
	}
	fprintf(stderr, "cluster_bench: %s ready on %s\n", opts.name, opts.control);
	if (pthread_create(&bench, NULL, bench_main, NULL) != 0) {
		fprintf(stderr, "cluster_bench: pthread_create failed\n");
		cb_exit(1);
	}
	/* The dataplane loop on the main lcore, until a signal stops it; the
	 * benchmark thread ends the process. */
	ret = synode_dp_run(dp);
	if (ret != 0)
		fprintf(stderr, "cluster_bench: synode_dp_run: %s\n", strerror(-ret));
	/* Stopped by a signal: the benchmark thread writes what it has and
	 * ends the process; if it does not within a while, end it here. A
	 * loop, not one sleep(): more signals would cut that short. */
	stop_asked = 1;
	{
		double until = now_s() + (opts.role == CB_OBSERVE ? 5 : 15);

		while (now_s() < until)
			sleep_us(100000);
	}
	cb_exit(1);
}
