/* SPDX-License-Identifier: MIT */
/*
 * synode-forward: a seeded, fault-injecting Ethernet hub between DPDK ports.
 *
 * This kernel has no netem, so this is how a cluster meets a bad network
 * (DESIGN.md, Running without a NIC). Every frame received on one port goes
 * out on every other port (a hub: enough for a handful of nodes, and it
 * needs no MAC learning, so ARP broadcasts and unicast alike just work);
 * each copy, port to port, gets its own fault decision: cut (partition),
 * lost, corrupted (random bytes after the Ethernet header), duplicated,
 * delayed (delay +- jitter), reordered (held back reorder-us more, so
 * later frames overtake it). The decisions are forward_faults.c's, from one
 * seeded generator drawn in the order frames are handled: the seed is
 * printed at start, and the same seed with the same input order replays.
 *
 * Delayed frames wait in a time-ordered queue (a binary heap) of bounded
 * size: when it is full a frame is dropped and counted (queue_full).
 *
 * Run-time changes: --control FILE holds a fault spec (forward_faults.h);
 * SIGHUP re-reads it and its contents replace the faults whole. A bad file
 * keeps the faults as they were (and says why). SIGUSR1 prints the
 * counters; SIGTERM/SIGINT stop: counters printed, stdout flushed, then
 * _exit(0) (DPDK 22.11's memif can crash closing a port whose peer is
 * connected).
 *
 * Polling is adaptive: an idle turn sleeps 1 us, doubling up to 1 ms, but
 * never past the next delayed frame's time; every loop is bounded.
 *
 * Typical use (tools/cluster --transport forward does this): the forwarder
 * is the memif server of each node's single port:
 *   synode-forward --no-huge --no-pci --no-shconf -m 64 \
 *     --vdev net_memif0,role=server,socket=/tmp/f1.sock,socket-abstract=no \
 *     --vdev net_memif1,role=server,socket=/tmp/f2.sock,socket-abstract=no \
 *     -- --seed 42 --loss 10 --dup 5 --reorder 20 --delay-us 1000 --jitter-us 500
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "forward_faults.h"

#define FWD_BURST 32
#define FWD_TXBUF 64
#define FWD_MBUFS 8191
#define FWD_MBUF_CACHE 128
#define FWD_QUEUE_DEFAULT 4096
#define FWD_QUEUE_MAX 65536
#define FWD_RELEASE_MAX 1024      /* delayed frames sent per turn, at most */
#define FWD_SLEEP_MAX_NS 1000000  /* 1 ms: the longest idle sleep */
#define FWD_CONTROL_MAX 4096      /* bytes of a control file */

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t dump_flag;
static volatile sig_atomic_t reload_flag;

struct fwd_item {
	uint64_t due_ns;
	uint64_t seq;           /* ties keep the order of arrival */
	struct rte_mbuf *m;
	uint16_t port;
};

struct fwd_counters {
	uint64_t rx[FWD_MAX_PORTS];
	uint64_t tx[FWD_MAX_PORTS];
	uint64_t cut;
	uint64_t lost;
	uint64_t corrupted;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t delayed;
	uint64_t queue_full;
	uint64_t nombuf;
	uint64_t tx_drop;
	uint64_t reloads;
	uint64_t bad_reloads;
};

struct fwd {
	uint16_t nports;
	uint16_t ports[FWD_MAX_PORTS];
	struct rte_mempool *pool;
	struct fwd_faults faults;
	struct fwd_rng rng;
	uint64_t seed;
	const char *control;
	struct fwd_item *heap;
	uint32_t qlen;
	uint32_t qcap;
	uint64_t seq;
	struct rte_mbuf *txbuf[FWD_MAX_PORTS][FWD_TXBUF];
	uint16_t txn[FWD_MAX_PORTS];
	struct fwd_counters c;
};

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_flag = 1;
	else if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: synode-forward [EAL options] -- [options]\n"
"A seeded, fault-injecting Ethernet hub: every frame received on one DPDK port\n"
"goes out on every other port, each copy with its own fault decision.\n"
"EAL: e.g. --no-huge --no-pci --no-shconf -m 64\n"
"     --vdev net_memif0,role=server,socket=PATH,socket-abstract=no (one per port)\n"
"Options (rates in percent, decimals allowed):\n"
"  --seed N          the generator's seed (default: random); printed at start\n"
"  --loss PCT        drop a frame\n"
"  --dup PCT         send a frame twice (each copy its own delay)\n"
"  --reorder PCT     hold a frame back --reorder-us more (later ones overtake it)\n"
"  --reorder-us US   how long a reordered frame is held (default 2000)\n"
"  --delay-us US     delay every frame\n"
"  --jitter-us US    delay +- uniform(0..US), never below 0\n"
"  --corrupt PCT     flip 1..%d random bytes after the Ethernet header\n"
"  --partition A,B   nothing between ports A and B (0-based; repeatable)\n"
"  --faults SPEC     all of it as one spec: loss=10,dup=5,reorder=20,delay=1000,\n"
"                    jitter=500,reorder-us=2000,corrupt=0.1,cut=0-1\n"
"  --control FILE    a spec read at start (after the options) and again on\n"
"                    SIGHUP, replacing the faults whole\n"
"  --queue N         delayed frames held at most (default %d, max %d); beyond:\n"
"                    dropped and counted as queue_full\n"
"  --help            this text\n"
"Signals: SIGUSR1 prints the counters; SIGHUP re-reads --control; SIGTERM or\n"
"SIGINT stops (counters printed).\n",
		FWD_MAX_CORRUPT, FWD_QUEUE_DEFAULT, FWD_QUEUE_MAX);
}

static void
print_counters(const struct fwd *fw, const char *why)
{
	const struct fwd_counters *c = &fw->c;

	printf("synode-forward: counters (%s): seed=%" PRIu64, why, fw->seed);
	for (unsigned i = 0; i < fw->nports; i++)
		printf(" rx%u=%" PRIu64 " tx%u=%" PRIu64, i, c->rx[i], i, c->tx[i]);
	printf(" cut=%" PRIu64 " lost=%" PRIu64 " corrupted=%" PRIu64 " duplicated=%" PRIu64
	       " reordered=%" PRIu64 " delayed=%" PRIu64 " queue_full=%" PRIu64
	       " nombuf=%" PRIu64 " tx_drop=%" PRIu64 " queued=%u reloads=%" PRIu64
	       " bad_reloads=%" PRIu64 "\n",
	       c->cut, c->lost, c->corrupted, c->duplicated, c->reordered, c->delayed,
	       c->queue_full, c->nombuf, c->tx_drop, fw->qlen, c->reloads, c->bad_reloads);
	fflush(stdout);
}

static void
print_faults(const struct fwd *fw, const char *why)
{
	char buf[1024];

	printf("synode-forward: faults (%s): %s\n", why,
	       fwd_faults_format(&fw->faults, buf, sizeof(buf)));
	fflush(stdout);
}

/* Reads the control file into f (fresh faults). 0, or -1 with err. */
static int
read_control(const char *path, struct fwd_faults *f, char *err, size_t errlen)
{
	char buf[FWD_CONTROL_MAX + 1];
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Bounded: a file longer than the buffer is refused. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > FWD_CONTROL_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", path, FWD_CONTROL_MAX);
		return -1;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: holds a NUL byte", path);
		return -1;
	}
	fwd_faults_init(f);
	return fwd_faults_parse(f, buf, err, errlen);
}

static int
set_item(struct fwd_faults *f, const char *key, const char *val)
{
	char spec[128], err[256];

	snprintf(spec, sizeof(spec), "%s=%s", key, val);
	if (strchr(val, ',') != NULL || strchr(val, '=') != NULL ||
	    fwd_faults_parse(f, spec, err, sizeof(err)) < 0) {
		fprintf(stderr, "synode-forward: --%s '%s': bad value\n", key, val);
		return -1;
	}
	return 0;
}

enum {
	OPT_SEED = 256, OPT_LOSS, OPT_DUP, OPT_REORDER, OPT_REORDER_US, OPT_DELAY,
	OPT_JITTER, OPT_CORRUPT, OPT_PARTITION, OPT_FAULTS, OPT_CONTROL, OPT_QUEUE,
	OPT_HELP,
};

static int
parse_args(struct fwd *fw, int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, OPT_SEED},
		{"loss", required_argument, NULL, OPT_LOSS},
		{"dup", required_argument, NULL, OPT_DUP},
		{"reorder", required_argument, NULL, OPT_REORDER},
		{"reorder-us", required_argument, NULL, OPT_REORDER_US},
		{"delay-us", required_argument, NULL, OPT_DELAY},
		{"jitter-us", required_argument, NULL, OPT_JITTER},
		{"corrupt", required_argument, NULL, OPT_CORRUPT},
		{"partition", required_argument, NULL, OPT_PARTITION},
		{"faults", required_argument, NULL, OPT_FAULTS},
		{"control", required_argument, NULL, OPT_CONTROL},
		{"queue", required_argument, NULL, OPT_QUEUE},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	bool seeded = false;
	char err[256], spec[64];
	int o;

	fwd_faults_init(&fw->faults);
	fw->qcap = FWD_QUEUE_DEFAULT;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		unsigned long long v;

		switch (o) {
		case OPT_SEED:
			errno = 0;
			v = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-') {
				fprintf(stderr, "synode-forward: --seed '%s': a number\n", optarg);
				return -1;
			}
			fw->seed = v;
			seeded = true;
			break;
		case OPT_LOSS:
			if (set_item(&fw->faults, "loss", optarg) < 0)
				return -1;
			break;
		case OPT_DUP:
			if (set_item(&fw->faults, "dup", optarg) < 0)
				return -1;
			break;
		case OPT_REORDER:
			if (set_item(&fw->faults, "reorder", optarg) < 0)
				return -1;
			break;
		case OPT_REORDER_US:
			if (set_item(&fw->faults, "reorder-us", optarg) < 0)
				return -1;
			break;
		case OPT_DELAY:
			if (set_item(&fw->faults, "delay", optarg) < 0)
				return -1;
			break;
		case OPT_JITTER:
			if (set_item(&fw->faults, "jitter", optarg) < 0)
				return -1;
			break;
		case OPT_CORRUPT:
			if (set_item(&fw->faults, "corrupt", optarg) < 0)
				return -1;
			break;
		case OPT_PARTITION: {
			unsigned a, b;
			int used = 0;

			if (sscanf(optarg, "%u,%u%n", &a, &b, &used) != 2 ||
			    (size_t)used != strlen(optarg)) {
				fprintf(stderr, "synode-forward: --partition '%s': A,B (two "
					"port numbers)\n", optarg);
				return -1;
			}
			snprintf(spec, sizeof(spec), "cut=%u-%u", a, b);
			if (fwd_faults_parse(&fw->faults, spec, err, sizeof(err)) < 0) {
				fprintf(stderr, "synode-forward: --partition: %s\n", err);
				return -1;
			}
			break;
		}
		case OPT_FAULTS:
			if (fwd_faults_parse(&fw->faults, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "synode-forward: --faults: %s\n", err);
				return -1;
			}
			break;
		case OPT_CONTROL:
			fw->control = optarg;
			break;
		case OPT_QUEUE:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v < 1 ||
			    v > FWD_QUEUE_MAX) {
				fprintf(stderr, "synode-forward: --queue '%s': 1..%d\n", optarg,
					FWD_QUEUE_MAX);
				return -1;
			}
			fw->qcap = (uint32_t)v;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "synode-forward: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (fw->control != NULL &&
	    read_control(fw->control, &fw->faults, err, sizeof(err)) < 0) {
		fprintf(stderr, "synode-forward: --control: %s\n", err);
		return -1;
	}
	if (!seeded && getrandom(&fw->seed, sizeof(fw->seed), 0) != sizeof(fw->seed))
		fw->seed = now_ns() ^ ((uint64_t)getpid() << 32);
	fwd_rng_seed(&fw->rng, fw->seed);
	return 0;
}

static int
port_init(struct fwd *fw, uint16_t port)
{
	struct rte_eth_conf conf;
	uint16_t nb_rxd = 1024, nb_txd = 1024;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	memset(&conf, 0, sizeof(conf));
	if (socket < 0)
		socket = 0;
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc < 0)
		return rc;
	rc = rte_eth_rx_queue_setup(port, 0, nb_rxd, (unsigned)socket, NULL, fw->pool);
	if (rc < 0)
		return rc;
	rc = rte_eth_tx_queue_setup(port, 0, nb_txd, (unsigned)socket, NULL);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_start(port);
	if (rc < 0)
		return rc;
	/* Not every PMD has it (memif has none): not an error. */
	(void)rte_eth_promiscuous_enable(port);
	return 0;
}

/* The heap: the earliest due (then the earliest seq) on top. */
static bool
item_before(const struct fwd_item *a, const struct fwd_item *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static bool
heap_push(struct fwd *fw, uint64_t due, uint16_t port, struct rte_mbuf *m)
{
	uint32_t i = fw->qlen;

	if (fw->qlen == fw->qcap)
		return false;
	fw->heap[i] = (struct fwd_item){ .due_ns = due, .seq = fw->seq++, .m = m,
					  .port = port };
	fw->qlen++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		struct fwd_item t;

		if (!item_before(&fw->heap[i], &fw->heap[parent]))
			break;
		t = fw->heap[i];
		fw->heap[i] = fw->heap[parent];
		fw->heap[parent] = t;
		i = parent;
	}
	return true;
}

static struct fwd_item
heap_pop(struct fwd *fw)
{
	struct fwd_item top = fw->heap[0];
	uint32_t i = 0;

	fw->heap[0] = fw->heap[--fw->qlen];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, min = i;
		struct fwd_item t;

		if (l < fw->qlen && item_before(&fw->heap[l], &fw->heap[min]))
			min = l;
		if (r < fw->qlen && item_before(&fw->heap[r], &fw->heap[min]))
			min = r;
		if (min == i)
			break;
		t = fw->heap[i];
		fw->heap[i] = fw->heap[min];
		fw->heap[min] = t;
		i = min;
	}
	return top;
}

static void
tx_flush(struct fwd *fw, unsigned out)
{
	uint16_t n = fw->txn[out], sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(fw->ports[out], 0, fw->txbuf[out], n);
	fw->c.tx[out] += sent;
	/* A port whose peer is not connected takes nothing: dropped. */
	for (uint16_t i = sent; i < n; i++) {
		rte_pktmbuf_free(fw->txbuf[out][i]);
		fw->c.tx_drop++;
	}
	fw->txn[out] = 0;
}

static void
tx_add(struct fwd *fw, unsigned out, struct rte_mbuf *m)
{
	if (fw->txn[out] == FWD_TXBUF)
		tx_flush(fw, out);
	fw->txbuf[out][fw->txn[out]++] = m;
}

/* Flips byte off of a (possibly chained) mbuf. */
static void
flip_byte(struct rte_mbuf *m, uint32_t off, uint8_t x)
{
	for (; m != NULL; m = m->next) {
		if (off < m->data_len) {
			rte_pktmbuf_mtod_offset(m, uint8_t *, off)[0] ^= x;
			return;
		}
		off -= m->data_len;
	}
}

static void
handle(struct fwd *fw, unsigned in, struct rte_mbuf *m, uint64_t now)
{
	for (unsigned out = 0; out < fw->nports; out++) {
		struct fwd_decision d;

		if (out == in)
			continue;
		fwd_decide(&fw->faults, &fw->rng, in, out, rte_pktmbuf_pkt_len(m), &d);
		if (d.cut) {
			fw->c.cut++;
			continue;
		}
		if (d.lost) {
			fw->c.lost++;
			continue;
		}
		if (d.ncorrupt > 0)
			fw->c.corrupted++;
		if (d.copies == 2)
			fw->c.duplicated++;
		for (unsigned k = 0; k < d.copies; k++) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, fw->pool, 0, UINT32_MAX);

			if (c == NULL) {
				fw->c.nombuf++;
				continue;
			}
			for (unsigned b = 0; b < d.ncorrupt; b++)
				flip_byte(c, d.corrupt_off[b], d.corrupt_xor[b]);
			if (d.reordered[k])
				fw->c.reordered++;
			if (d.delay_us[k] == 0) {
				tx_add(fw, out, c);
				continue;
			}
			fw->c.delayed++;
			if (!heap_push(fw, now + (uint64_t)d.delay_us[k] * 1000, (uint16_t)out,
				       c)) {
				rte_pktmbuf_free(c);
				fw->c.queue_full++;
			}
		}
	}
	rte_pktmbuf_free(m);
}

static void
reload(struct fwd *fw)
{
	struct fwd_faults nf;
	char err[256];

	reload_flag = 0;
	if (fw->control == NULL) {
		printf("synode-forward: SIGHUP without --control: nothing to read\n");
		fflush(stdout);
		return;
	}
	if (read_control(fw->control, &nf, err, sizeof(err)) < 0) {
		fw->c.bad_reloads++;
		printf("synode-forward: reload %" PRIu64 " refused, faults unchanged: %s\n",
		       fw->c.reloads + fw->c.bad_reloads, err);
		fflush(stdout);
		return;
	}
	fw->faults = nf;
	fw->c.reloads++;
	{
		char why[48];

		snprintf(why, sizeof(why), "reload %" PRIu64, fw->c.reloads + fw->c.bad_reloads);
		print_faults(fw, why);
	}
}

static void
run(struct fwd *fw)
{
	struct rte_mbuf *pkts[FWD_BURST];
	uint64_t sleep_ns = 0;

	while (!stop_flag) {
		uint64_t now = now_ns();
		unsigned work = 0;

		if (reload_flag)
			reload(fw);
		if (dump_flag) {
			dump_flag = 0;
			print_counters(fw, "SIGUSR1");
		}
		for (unsigned in = 0; in < fw->nports; in++) {
			uint16_t n = rte_eth_rx_burst(fw->ports[in], 0, pkts, FWD_BURST);

			fw->c.rx[in] += n;
			work += n;
			for (uint16_t k = 0; k < n; k++)
				handle(fw, in, pkts[k], now);
		}
		for (unsigned k = 0; k < FWD_RELEASE_MAX && fw->qlen > 0 &&
		     fw->heap[0].due_ns <= now; k++) {
			struct fwd_item it = heap_pop(fw);

			tx_add(fw, it.port, it.m);
			work++;
		}
		for (unsigned out = 0; out < fw->nports; out++)
			tx_flush(fw, out);
		if (work > 0) {
			sleep_ns = 0;
			continue;
		}
		/* Idle: sleep, longer each idle turn, never past the next due
		 * frame. */
		sleep_ns = sleep_ns == 0 ? 1000 : sleep_ns * 2;
		if (sleep_ns > FWD_SLEEP_MAX_NS)
			sleep_ns = FWD_SLEEP_MAX_NS;
		{
			uint64_t nap = sleep_ns;
			struct timespec ts;

			if (fw->qlen > 0) {
				uint64_t due = fw->heap[0].due_ns;

				nap = due <= now ? 0 : (due - now < nap ? due - now : nap);
			}
			if (nap > 0) {
				ts.tv_sec = 0;
				ts.tv_nsec = (long)nap;
				nanosleep(&ts, NULL);
			}
		}
	}
}

int
main(int argc, char **argv)
{
	static struct fwd fw;
	struct sigaction sa;
	uint16_t port;
	int eal_args;

	/* --help without EAL (which would print its own). */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	eal_args = rte_eal_init(argc, argv);
	if (eal_args < 0) {
		fprintf(stderr, "synode-forward: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= eal_args;
	argv += eal_args;
	if (parse_args(&fw, argc, argv) < 0)
		_exit(2);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	RTE_ETH_FOREACH_DEV(port) {
		if (fw.nports == FWD_MAX_PORTS) {
			fprintf(stderr, "synode-forward: more than %d ports\n", FWD_MAX_PORTS);
			_exit(2);
		}
		fw.ports[fw.nports++] = port;
	}
	if (fw.nports < 2) {
		fprintf(stderr, "synode-forward: %u port(s): at least 2 wanted (--vdev ...)\n",
			fw.nports);
		_exit(2);
	}
	fw.heap = calloc(fw.qcap, sizeof(*fw.heap));
	fw.pool = rte_pktmbuf_pool_create("fwd_pool", FWD_MBUFS, FWD_MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (fw.heap == NULL || fw.pool == NULL) {
		fprintf(stderr, "synode-forward: no memory for %u queued frames or %d mbufs\n",
			fw.qcap, FWD_MBUFS);
		_exit(1);
	}
	for (unsigned i = 0; i < fw.nports; i++) {
		int rc = port_init(&fw, fw.ports[i]);

		if (rc < 0) {
			fprintf(stderr, "synode-forward: port %u: %s\n", fw.ports[i],
				rte_strerror(-rc));
			_exit(1);
		}
	}
	printf("synode-forward: seed %" PRIu64 " (replay: --seed %" PRIu64 ")\n", fw.seed,
	       fw.seed);
	print_faults(&fw, "start");
	printf("synode-forward: ready, %u ports, queue %u\n", fw.nports, fw.qcap);
	fflush(stdout);

	run(&fw);

	while (fw.qlen > 0)
		rte_pktmbuf_free(heap_pop(&fw).m);
	print_counters(&fw, "exit");
	fflush(stdout);
	fflush(stderr);
	/* DPDK 22.11's memif can crash closing a port whose peer is still
	 * connected: no rte_eal_cleanup(), no port close. */
	_exit(0);
}
