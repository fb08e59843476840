/* SPDX-License-Identifier: MIT */
/*
 * synode-loadgen: a DPDK load generator for the lookup service (issue 6).
 *
 *   synode-loadgen [EAL options] -- --ip A.B.C.D --dst A.B.C.D [options]
 *   synode-loadgen [EAL options] -- --reflect --ip A.B.C.D [--seconds S]
 *
 * On one ethdev port (port 0: typically the client side of a node's
 * net_memif server port) it sends lookup request frames (control/
 * sn_lookup.h), --batch LOOKUP requests per frame for names of the set the
 * benchmarks register ("key-%08u", 0 <= i < --names; a share --miss-pct of
 * them ask for i >= --names, which no one registered), at --rate frames/s
 * or, with --rate 0, flat out with at most --window frames in flight. It
 * matches answers by req_id and reports answers/s, the latency of each
 * answer (TSC at the answer's arrival minus TSC when its request's frame
 * went) as p50/p99/p99.9, and the answers lost (not back within
 * --timeout-ms), as JSON.
 *
 * --reflect: the other end of an echo run. It sends every UDP frame it
 * gets back to where it came from (addresses and ports swapped), touching
 * nothing else: a loadgen in front of it measures what the link itself
 * carries, with the same frames, in the same run as the node's figures.
 * The loadgen takes a reflected request item as its answer (--echo only
 * changes what the JSON calls the run).
 *
 * Frames are built once: --templates frames of random names, sent in turn,
 * with only the req_ids (frame sequence * batch + item) written at send.
 * The frame's own codec here is that of the header, by hand, so that the
 * sending side costs next to nothing and the tool needs no node library.
 *
 * Both answer ARP requests for --ip. The destination MAC is learned by ARP
 * (one request every 100 ms for up to --arp-ms), else broadcast: the node
 * takes frames to the broadcast MAC and checks the IP.
 *
 * The process ends with _exit() after writing its JSON: DPDK 22.11's memif
 * may crash closing a port whose peer is still connected. Exit status: 0,
 * 1 for a failure (nothing answered, the port did not come up), 2 for a bad
 * command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#include "lat_hist.h"
#include "sn_lookup.h"

#define LG_BURST 32
#define LG_RING 1024           /* descriptors per queue */
#define LG_MBUFS 8191
#define LG_TEMPLATES_MAX 4096
#define LG_WINDOW_MAX 65536u   /* frames in flight; a power of two */
#define LG_NAME_LEN 12         /* "key-%08u" */
#define LG_FRAME_MAX 1472      /* UDP payload in a 1500-byte MTU */

/* Latency histogram: log-linear, 2^LG_SUB_BITS steps per power of two
 * (under 1% error), up to 2^40 ns. */

struct lg_opts {
	bool reflect;
	bool echo;
	uint32_t ip, dst;           /* host byte order */
	uint16_t port, src_port;
	double rate;                /* frames/s; 0: flat out */
	unsigned window;
	unsigned batch;
	unsigned names;
	unsigned miss_pct;
	const char *scope;
	double seconds;
	double warmup_s;
	unsigned timeout_ms;
	unsigned arp_ms;
	unsigned templates;
	uint64_t seed;
	const char *json;
};

static struct lg_opts opts = {
	.port = 4370,
	.src_port = 40000,
	.rate = 0,
	.window = 256,
	.batch = 16,
	.names = 100000,
	.miss_pct = 10,
	.scope = "lk",
	.seconds = 5,
	.warmup_s = 0.5,
	.timeout_ms = 100,
	.arp_ms = 1000,
	.templates = 1024,
	.seed = 1,
};

static volatile sig_atomic_t stop_asked;
static struct rte_mempool *pool;
static struct rte_ether_addr my_mac, dst_mac;
static bool dst_mac_known;
static FILE *json_out;

/* A request frame built once: its UDP payload, and where its req_ids are. */
struct lg_template {
	uint16_t len;
	uint16_t id_off[SN_LOOKUP_ITEMS_MAX];
	uint8_t data[LG_FRAME_MAX];
};

static struct lg_template *templates;

/* A frame in flight: slot seq % window. */
struct lg_slot {
	uint64_t seq;               /* UINT64_MAX: free */
	uint64_t tsc;
	uint16_t left;              /* answers still to come */
	bool timed;                 /* sent after the warm-up */
};

static struct lg_slot *slots;

struct lg_stats {
	uint64_t frames_tx, frames_rx, tx_full;
	uint64_t answers, answers_timed, hits, misses, errors;
	uint64_t lost, late, unknown, malformed, other_rx;
	uint64_t arp_replies;
	uint64_t hist[LAT_HIST_N];
};

static struct lg_stats st;

/* ------------------------------------------------------------- helpers */

static void
on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: synode-loadgen [EAL options] -- --ip A.B.C.D --dst A.B.C.D [options]\n"
		"       synode-loadgen [EAL options] -- --reflect --ip A.B.C.D [--seconds S]\n"
		"Sends lookup request frames (control/sn_lookup.h) on ethdev port 0 and\n"
		"reports answers/s, latency percentiles and lost answers as JSON.\n"
		"  --ip A.B.C.D       this end's address (answers ARP for it)\n"
		"  --dst A.B.C.D      the node's address\n"
		"  --port P           the node's UDP port (default 4370)\n"
		"  --src-port P       our UDP port (default 40000)\n"
		"  --rate FPS         request frames per second; 0: flat out (default 0)\n"
		"  --window W         most frames in flight with --rate 0 (default 256, max 65536)\n"
		"  --batch N          requests per frame (default 16, 1..256)\n"
		"  --names N          the registered set: key-%%08u, 0 <= i < N (default 100000)\n"
		"  --miss-pct P       share of requests for names not in the set (default 10)\n"
		"  --scope S          the scope asked (default lk)\n"
		"  --seconds S        how long to send (default 5; at most 3600)\n"
		"  --warmup S         the first S seconds are not counted (default 0.5)\n"
		"  --timeout-ms MS    an answer later than this is lost (default 100)\n"
		"  --arp-ms MS        ARP for --dst this long, then broadcast (default 1000)\n"
		"  --templates K      distinct frames, sent in turn (default 1024)\n"
		"  --seed N           names' PRNG seed (default 1)\n"
		"  --echo             the target reflects frames (synode-loadgen --reflect)\n"
		"  --reflect          be the reflector: send every UDP frame back\n"
		"  --json PATH        write the figures there (default stdout)\n"
		"  --help\n");
}

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "synode-loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(2);
}

/* The process ends here: nothing of DPDK is closed (see the file's
 * comment). */
static void __attribute__((noreturn))
lg_exit(int status)
{
	if (json_out != NULL && json_out != stdout)
		fclose(json_out);
	fflush(stdout);
	fflush(stderr);
	_exit(status);
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

static uint32_t
parse_ip(const char *opt, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		usage_error("%s '%s': not an IPv4 address", opt, s);
	return ntohl(a.s_addr);
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ip", required_argument, NULL, 'i'},
		{"dst", required_argument, NULL, 'd'},
		{"port", required_argument, NULL, 'p'},
		{"src-port", required_argument, NULL, 'P'},
		{"rate", required_argument, NULL, 'r'},
		{"window", required_argument, NULL, 'w'},
		{"batch", required_argument, NULL, 'b'},
		{"names", required_argument, NULL, 'n'},
		{"miss-pct", required_argument, NULL, 'm'},
		{"scope", required_argument, NULL, 's'},
		{"seconds", required_argument, NULL, 'S'},
		{"warmup", required_argument, NULL, 'W'},
		{"timeout-ms", required_argument, NULL, 'T'},
		{"arp-ms", required_argument, NULL, 'A'},
		{"templates", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, 'e'},
		{"echo", no_argument, NULL, 'E'},
		{"reflect", no_argument, NULL, 'R'},
		{"json", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': opts.ip = parse_ip("--ip", optarg); break;
		case 'd': opts.dst = parse_ip("--dst", optarg); break;
		case 'p': opts.port = (uint16_t)parse_num("--port", optarg, 65535); break;
		case 'P': opts.src_port = (uint16_t)parse_num("--src-port", optarg, 65535); break;
		case 'r': opts.rate = parse_num("--rate", optarg, 1e9); break;
		case 'w': opts.window = (unsigned)parse_num("--window", optarg, LG_WINDOW_MAX); break;
		case 'b': opts.batch = (unsigned)parse_num("--batch", optarg, SN_LOOKUP_ITEMS_MAX); break;
		case 'n': opts.names = (unsigned)parse_num("--names", optarg, 1e8); break;
		case 'm': opts.miss_pct = (unsigned)parse_num("--miss-pct", optarg, 100); break;
		case 's': opts.scope = optarg; break;
		case 'S': opts.seconds = parse_num("--seconds", optarg, 3600); break;
		case 'W': opts.warmup_s = parse_num("--warmup", optarg, 3600); break;
		case 'T': opts.timeout_ms = (unsigned)parse_num("--timeout-ms", optarg, 60000); break;
		case 'A': opts.arp_ms = (unsigned)parse_num("--arp-ms", optarg, 60000); break;
		case 't': opts.templates = (unsigned)parse_num("--templates", optarg, LG_TEMPLATES_MAX); break;
		case 'e': opts.seed = (uint64_t)parse_num("--seed", optarg, 1e15); break;
		case 'E': opts.echo = true; break;
		case 'R': opts.reflect = true; break;
		case 'j': opts.json = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (opts.ip == 0)
		usage_error("--ip is required");
	if (opts.reflect)
		return;
	if (opts.dst == 0)
		usage_error("--dst is required");
	if (opts.batch == 0 || opts.names == 0 || opts.templates == 0 || opts.window == 0)
		usage_error("--batch, --names, --templates and --window must be positive");
	if (strlen(opts.scope) == 0 || strlen(opts.scope) > SYNODE_SCOPE_NAME_MAX)
		usage_error("--scope: 1 to %d bytes", SYNODE_SCOPE_NAME_MAX);
	if (opts.timeout_ms == 0)
		usage_error("--timeout-ms must be positive");
	if (opts.warmup_s >= opts.seconds)
		usage_error("--warmup must be shorter than --seconds");
}

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64: the names only need to be spread, not secret. */
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* --------------------------------------------------------------- frames */

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Builds the request frames: header, then --batch LOOKUP items. */
static int
build_templates(void)
{
	size_t scope_len = strlen(opts.scope);
	size_t item = 2 + 4 + 1 + 1 + 1 + scope_len + 2 + LG_NAME_LEN;
	uint64_t rng = opts.seed;

	if (SN_LOOKUP_HDR_LEN + item * opts.batch > LG_FRAME_MAX) {
		fprintf(stderr, "synode-loadgen: %u requests do not fit a %d-byte frame\n",
			opts.batch, LG_FRAME_MAX);
		return -1;
	}
	templates = calloc(opts.templates, sizeof(*templates));
	if (templates == NULL)
		return -1;
	for (unsigned t = 0; t < opts.templates; t++) {
		struct lg_template *f = &templates[t];
		uint8_t *p = f->data;

		put_u32(p, SN_LOOKUP_MAGIC);
		p[4] = SN_LOOKUP_VERSION;
		p[5] = SN_LOOKUP_REQUEST;
		p[6] = 0;
		p[7] = 0;
		put_u16(p + 8, (uint16_t)opts.batch);
		put_u16(p + 10, 0);
		p += SN_LOOKUP_HDR_LEN;
		for (unsigned i = 0; i < opts.batch; i++) {
			uint64_t r = rng_next(&rng);
			bool miss = (r % 100) < opts.miss_pct;
			unsigned k = (unsigned)((r >> 8) % opts.names) + (miss ? opts.names : 0);
			char name[LG_NAME_LEN + 1];

			/* A miss: the same shape of name, outside the set. */
			snprintf(name, sizeof(name), "key-%08u", k % 100000000u);
			put_u16(p, (uint16_t)(item - 2));
			p += 2;
			f->id_off[i] = (uint16_t)(p - f->data);
			put_u32(p, 0);
			p[4] = SN_LOOKUP_OP_LOOKUP;
			p[5] = 0;
			p[6] = (uint8_t)scope_len;
			memcpy(p + 7, opts.scope, scope_len);
			p += 7 + scope_len;
			put_u16(p, LG_NAME_LEN);
			memcpy(p + 2, name, LG_NAME_LEN);
			p += 2 + LG_NAME_LEN;
		}
		f->len = (uint16_t)(p - f->data);
	}
	return 0;
}

/* An mbuf holding Ethernet + IPv4 + UDP headers and @p len payload bytes
 * to copy in; NULL when the pool is empty. */
static struct rte_mbuf *
frame_new(const void *payload, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint16_t total = (uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + len);

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, total);
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	eth->dst_addr = dst_mac;
	eth->src_addr = my_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(opts.ip);
	ip->dst_addr = rte_cpu_to_be_32(opts.dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(opts.src_port);
	udp->dst_port = rte_cpu_to_be_16(opts.port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len));
	/* No UDP checksum (allowed in IPv4): the node checks one only when
	 * it is set, and the reflector leaves it as it is. */
	udp->dgram_cksum = 0;
	memcpy(udp + 1, payload, len);
	return m;
}

/* Answers an ARP request for our address in place, or learns the MAC of
 * --dst from its reply. Consumes @p m (sent or freed): 1 sent, 0 not. */
static int
arp_rx(struct rte_mbuf *m, struct rte_mbuf **tx, unsigned *n_tx)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	if (m->data_len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return 0;
	}
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) &&
	    rte_be_to_cpu_32(arp->arp_data.arp_sip) == opts.dst && !opts.reflect) {
		dst_mac = arp->arp_data.arp_sha;
		dst_mac_known = true;
		st.arp_replies++;
	}
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
	    rte_be_to_cpu_32(arp->arp_data.arp_tip) == opts.ip) {
		uint32_t sip = arp->arp_data.arp_sip;

		arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		arp->arp_data.arp_tha = arp->arp_data.arp_sha;
		arp->arp_data.arp_tip = sip;
		arp->arp_data.arp_sha = my_mac;
		arp->arp_data.arp_sip = rte_cpu_to_be_32(opts.ip);
		eth->dst_addr = eth->src_addr;
		eth->src_addr = my_mac;
		tx[(*n_tx)++] = m;
		return 1;
	}
	rte_pktmbuf_free(m);
	return 0;
}

static void
arp_request(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = my_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = my_mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(opts.ip);
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = rte_cpu_to_be_32(opts.dst);
	if (rte_eth_tx_burst(0, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

static void
tx_all(struct rte_mbuf **tx, unsigned n)
{
	unsigned sent = 0;

	/* Replies are few; a full ring drops them (counted). */
	if (n > 0)
		sent = rte_eth_tx_burst(0, 0, tx, (uint16_t)n);
	for (unsigned i = sent; i < n; i++) {
		rte_pktmbuf_free(tx[i]);
		st.tx_full++;
	}
}

/* The UDP payload of @p m if it is IPv4/UDP to us (any port), else NULL. */
static const uint8_t *
udp_payload(struct rte_mbuf *m, size_t *len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp;
	size_t ihl, ip_len, udp_len;

	if (m->nb_segs != 1 || m->data_len < sizeof(*eth) + sizeof(*ip) + sizeof(*udp) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->next_proto_id != IPPROTO_UDP)
		return NULL;
	ihl = (size_t)(ip->version_ihl & 0xf) * 4;
	ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || ip_len < ihl + sizeof(*udp) ||
	    sizeof(*eth) + ip_len > m->data_len)
		return NULL;
	udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len < sizeof(*udp) || udp_len > ip_len - ihl)
		return NULL;
	*len = udp_len - sizeof(*udp);
	return (const uint8_t *)(udp + 1);
}

/* ------------------------------------------------------------- the port */

static int
port_init(void)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_link link;
	uint64_t until;
	int rc;

	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "synode-loadgen: no ethdev port (give one with --vdev)\n");
		return -1;
	}
	pool = rte_pktmbuf_pool_create("lg_pool", LG_MBUFS, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "synode-loadgen: mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if ((rc = rte_eth_dev_configure(0, 1, 1, &conf)) != 0 ||
	    (rc = rte_eth_rx_queue_setup(0, 0, LG_RING, rte_eth_dev_socket_id(0), NULL, pool)) != 0 ||
	    (rc = rte_eth_tx_queue_setup(0, 0, LG_RING, rte_eth_dev_socket_id(0), NULL)) != 0 ||
	    (rc = rte_eth_dev_start(0)) != 0) {
		fprintf(stderr, "synode-loadgen: port 0: %s\n", rte_strerror(-rc));
		return -1;
	}
	rte_eth_macaddr_get(0, &my_mac);
	/* memif: the link is up once the peer is connected. */
	until = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
	for (;;) {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(0, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (rte_get_tsc_cycles() > until || stop_asked) {
			fprintf(stderr, "synode-loadgen: port 0 did not come up in 10 s\n");
			return -1;
		}
		rte_delay_us_sleep(10000);
	}
}

/* ---------------------------------------------------------- the reflector */

static int
run_reflect(void)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t end = opts.seconds > 0 ? rte_get_tsc_cycles() + (uint64_t)(opts.seconds * hz) : 0;
	uint64_t reflected = 0, dropped = 0, idle = 0;
	struct rte_mbuf *rx[LG_BURST], *tx[LG_BURST];

	fprintf(stderr, "synode-loadgen: reflecting on port 0\n");
	while (!stop_asked && (end == 0 || rte_get_tsc_cycles() < end)) {
		uint16_t n = rte_eth_rx_burst(0, 0, rx, LG_BURST);
		unsigned n_tx = 0;

		if (n == 0) {
			/* Two cores shared by both ends and the node: yield a
			 * little once idle for a while, never while busy. */
			if (++idle > 1024)
				rte_delay_us_sleep(idle > 65536 ? 1000 : 10);
			continue;
		}
		idle = 0;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = rx[i];
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			size_t len;

			if (m->data_len >= sizeof(*eth) &&
			    eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
				arp_rx(m, tx, &n_tx);
				continue;
			}
			if (udp_payload(m, &len) == NULL) {
				rte_pktmbuf_free(m);
				dropped++;
				continue;
			}
			/* Swap the addresses and the ports: both checksums are
			 * sums of the same words, unchanged. */
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
			struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip +
				(ip->version_ihl & 0xf) * 4);
			uint32_t a = ip->src_addr;
			uint16_t p = udp->src_port;

			eth->dst_addr = eth->src_addr;
			eth->src_addr = my_mac;
			ip->src_addr = ip->dst_addr;
			ip->dst_addr = a;
			udp->src_port = udp->dst_port;
			udp->dst_port = p;
			tx[n_tx++] = m;
			reflected++;
		}
		tx_all(tx, n_tx);
	}
	fprintf(json_out, "{\"tool\": \"synode-loadgen\", \"mode\": \"reflect\", "
		"\"reflected\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"tx_full\": %" PRIu64 "}\n",
		reflected, dropped, st.tx_full);
	return 0;
}

/* ----------------------------------------------------------- the sender */

static uint64_t seq_next, seq_oldest;
static uint64_t t_timed;        /* TSC: counting from here */
static unsigned win;            /* slots: a power of two >= window */

static void
slot_retire(uint64_t now, uint64_t timeout)
{
	while (seq_oldest < seq_next) {
		struct lg_slot *s = &slots[seq_oldest & (win - 1)];

		if (s->seq == seq_oldest && s->left > 0) {
			if (now - s->tsc < timeout)
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
	unsigned count;
	const uint8_t *end = p + len;
	bool echo;

	if (len < SN_LOOKUP_HDR_LEN || get_u32(p) != SN_LOOKUP_MAGIC ||
	    p[4] != SN_LOOKUP_VERSION) {
		st.other_rx++;
		return;
	}
	echo = p[5] == SN_LOOKUP_REQUEST;
	if (!echo && p[5] != SN_LOOKUP_ANSWER) {
		st.malformed++;
		return;
	}
	st.frames_rx++;
	count = get_u16(p + 8);
	p += SN_LOOKUP_HDR_LEN;
	for (unsigned i = 0; i < count; i++) {
		uint32_t id;
		uint8_t status;
		uint64_t seq;
		struct lg_slot *s;
		size_t ilen;

		/* Every item: u16 len, then u32 req_id, u8 op, u8 status (an
		 * answer) or flags (our own request, reflected). */
		if (end - p < 2 || (ilen = get_u16(p)) < 6 || (size_t)(end - p) - 2 < ilen) {
			st.malformed++;
			return;
		}
		id = get_u32(p + 2);
		status = echo ? SN_LOOKUP_OK : p[2 + 5];
		p += 2 + ilen;
		if (echo || status == SN_LOOKUP_OK)
			st.hits++;
		else if (status == SN_LOOKUP_UNDEFINED)
			st.misses++;
		else
			st.errors++;
		/* req_id = low 24 bits of the frame's seq, then the item
		 * (8 bits): the window (<= 2^16 frames) is far narrower. */
		seq = seq_oldest + (((id >> 8) - seq_oldest) & 0xffffffu);
		s = &slots[seq & (win - 1)];
		if (seq >= seq_next || s->seq != seq || s->left == 0) {
			/* Retired (late), or never sent. */
			if (seq < seq_next && s->seq == UINT64_MAX)
				st.late++;
			else
				st.unknown++;
			continue;
		}
		s->left--;
		st.answers++;
		if (s->timed) {
			st.answers_timed++;
			st.hist[lat_hist_index((now - s->tsc) * UINT64_C(1000000000) / rte_get_tsc_hz())]++;
		}
	}
}

static int
run_load(void)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t timeout = (uint64_t)opts.timeout_ms * hz / 1000;
	uint64_t t0, t_end, t_stop, next_arp, arp_until, tsc_per_frame = 0, due = 0;
	unsigned window = opts.rate > 0 ? LG_WINDOW_MAX : opts.window;
	uint64_t frames_timed = 0, t_last_answer = 0, answers_at_end = 0;
	struct rte_mbuf *rx[LG_BURST], *tx[LG_BURST];
	double secs;
	int rc = 0;

	for (win = 1; win < window; win <<= 1)
		;
	slots = calloc(win, sizeof(*slots));
	if (slots == NULL || build_templates() != 0)
		return 1;
	for (unsigned i = 0; i < win; i++)
		slots[i].seq = UINT64_MAX;
	memset(&dst_mac, 0xff, sizeof(dst_mac));

	/* ARP for the node, then broadcast if nobody answers. */
	t0 = rte_get_tsc_cycles();
	arp_until = t0 + (uint64_t)opts.arp_ms * hz / 1000;
	next_arp = t0;
	while (!dst_mac_known && !stop_asked && rte_get_tsc_cycles() < arp_until) {
		uint16_t n;
		unsigned n_tx = 0;

		if (rte_get_tsc_cycles() >= next_arp) {
			arp_request();
			next_arp += hz / 10;
		}
		n = rte_eth_rx_burst(0, 0, rx, LG_BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(rx[i], struct rte_ether_hdr *);

			if (rx[i]->data_len >= sizeof(*eth) &&
			    eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
				arp_rx(rx[i], tx, &n_tx);
			else
				rte_pktmbuf_free(rx[i]);
		}
		tx_all(tx, n_tx);
		if (n == 0)
			rte_delay_us_sleep(100);
	}
	fprintf(stderr, "synode-loadgen: sending to %s (%s)\n",
		dst_mac_known ? "the MAC learned by ARP" : "broadcast", opts.echo ? "echo" : "lookup");

	t0 = rte_get_tsc_cycles();
	t_timed = t0 + (uint64_t)(opts.warmup_s * hz);
	t_end = t0 + (uint64_t)(opts.seconds * hz);
	t_stop = t_end + timeout;
	if (opts.rate > 0)
		tsc_per_frame = (uint64_t)((double)hz / opts.rate);
	due = t0;
	for (;;) {
		uint64_t now = rte_get_tsc_cycles();
		bool sending = now < t_end && !stop_asked;
		unsigned n_tx = 0;
		uint16_t n;

		if (!sending && (now >= t_stop || seq_oldest == seq_next || stop_asked))
			break;
		/* Send: what is due at --rate, or up to the window. */
		if (sending) {
			unsigned want = 0;

			if (opts.rate > 0) {
				while (due <= now && want < LG_BURST) {
					want++;
					due += tsc_per_frame;
				}
				/* Far behind (the CPU was taken away): do not
				 * make up for it in one burst. */
				if (due + 64 * tsc_per_frame < now)
					due = now;
			} else {
				uint64_t room = window - (seq_next - seq_oldest);

				want = room < LG_BURST ? (unsigned)room : LG_BURST;
			}
			for (unsigned i = 0; i < want; i++) {
				struct lg_template *f = &templates[seq_next % opts.templates];
				struct lg_slot *s = &slots[seq_next & (win - 1)];
				struct rte_mbuf *m;
				uint8_t *pl;

				if (s->seq != UINT64_MAX)
					break; /* the window wrapped: --rate beyond it */
				m = frame_new(f->data, f->len);
				if (m == NULL)
					break;
				pl = rte_pktmbuf_mtod_offset(m, uint8_t *, sizeof(struct rte_ether_hdr) +
					sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr));
				for (unsigned k = 0; k < opts.batch; k++)
					put_u32(pl + f->id_off[k],
						(uint32_t)(seq_next << 8) | k);
				s->seq = seq_next;
				s->left = (uint16_t)opts.batch;
				s->tsc = rte_get_tsc_cycles();
				s->timed = s->tsc >= t_timed;
				frames_timed += s->timed;
				tx[n_tx++] = m;
				seq_next++;
			}
			if (n_tx > 0) {
				uint16_t sent = rte_eth_tx_burst(0, 0, tx, (uint16_t)n_tx);

				/* Not taken: undo the sequence numbers. */
				for (unsigned i = sent; i < n_tx; i++) {
					rte_pktmbuf_free(tx[i]);
					seq_next--;
					if (slots[seq_next & (win - 1)].timed)
						frames_timed--;
					slots[seq_next & (win - 1)].seq = UINT64_MAX;
					st.tx_full++;
				}
				st.frames_tx += sent;
				n_tx = 0;
			}
		}
		n = rte_eth_rx_burst(0, 0, rx, LG_BURST);
		now = rte_get_tsc_cycles();
		for (uint16_t i = 0; i < n; i++) {
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(rx[i], struct rte_ether_hdr *);
			const uint8_t *pl;
			size_t len;

			if (rx[i]->data_len >= sizeof(*eth) &&
			    eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
				arp_rx(rx[i], tx, &n_tx);
				continue;
			}
			pl = udp_payload(rx[i], &len);
			if (pl != NULL) {
				uint64_t before = st.answers_timed;

				answers_rx(pl, len, now);
				if (st.answers_timed != before && now <= t_end) {
					t_last_answer = now;
					answers_at_end = st.answers_timed;
				}
			} else {
				st.other_rx++;
			}
			rte_pktmbuf_free(rx[i]);
		}
		tx_all(tx, n_tx);
		slot_retire(now, timeout);
		/* With a --rate well under the link's, do not spin a shared
		 * core between frames; flat out with the window full and
		 * nothing back, let a task waiting for this core (the node,
		 * on a small machine) have it: sched_yield() returns at once
		 * when there is none. */
		if (opts.rate > 0 && n == 0 && due > now + hz / 20000)
			rte_delay_us_sleep(10);
		else if (opts.rate == 0 && n == 0 && seq_next - seq_oldest >= window)
			sched_yield();
	}
	slot_retire(UINT64_MAX / 2, 0);
	/* Rate over the timed part of the sending window: answers counted
	 * from the warm-up's end to the last one before the send stopped. */
	secs = t_last_answer > t_timed ? (double)(t_last_answer - t_timed) / (double)hz : 0;
	fprintf(json_out,
		"{\"tool\": \"synode-loadgen\", \"mode\": \"%s\", \"rate_fps\": %.0f, "
		"\"window\": %u, \"batch\": %u, \"names\": %u, \"miss_pct\": %u, \"scope\": \"%s\", "
		"\"seconds\": %.3f, \"warmup_s\": %.3f, \"dst_mac\": \"%s\",\n"
		" \"frames_tx\": %" PRIu64 ", \"frames_rx\": %" PRIu64 ", \"frames_timed\": %" PRIu64
		", \"tx_full\": %" PRIu64 ",\n"
		" \"answers\": %" PRIu64 ", \"answers_timed\": %" PRIu64 ", \"hits\": %" PRIu64
		", \"misses\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"lost\": %" PRIu64
		", \"late\": %" PRIu64 ", \"unknown\": %" PRIu64 ", \"malformed\": %" PRIu64
		", \"other_rx\": %" PRIu64 ",\n"
		" \"timed_s\": %.6f, \"answers_per_s\": %.1f, \"frames_per_s\": %.1f,\n"
		" \"latency_us\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p999\": %.2f, "
		"\"max\": %.2f}}\n",
		opts.echo ? "echo" : "lookup", opts.rate, opts.rate > 0 ? 0 : opts.window,
		opts.batch, opts.names, opts.miss_pct, opts.scope, opts.seconds, opts.warmup_s,
		dst_mac_known ? "arp" : "broadcast",
		st.frames_tx, st.frames_rx, frames_timed, st.tx_full,
		st.answers, st.answers_timed, st.hits, st.misses, st.errors, st.lost, st.late,
		st.unknown, st.malformed, st.other_rx,
		secs, secs > 0 ? (double)answers_at_end / secs : 0.0,
		secs > 0 ? (double)answers_at_end / secs / opts.batch : 0.0,
		lat_hist_pct_us(st.hist, st.answers_timed, 0.5),
		lat_hist_pct_us(st.hist, st.answers_timed, 0.9),
		lat_hist_pct_us(st.hist, st.answers_timed, 0.99),
		lat_hist_pct_us(st.hist, st.answers_timed, 0.999),
		lat_hist_pct_us(st.hist, st.answers_timed, 1.0));
	fprintf(stderr, "synode-loadgen: %" PRIu64 " answers in %.2f s: %.0f answers/s, "
		"p50 %.1f us, p99 %.1f us, lost %" PRIu64 "\n", answers_at_end, secs,
		secs > 0 ? (double)answers_at_end / secs : 0.0,
		lat_hist_pct_us(st.hist, st.answers_timed, 0.5),
		lat_hist_pct_us(st.hist, st.answers_timed, 0.99), st.lost);
	if (st.answers == 0)
		rc = 1;
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	/* --help without EAL: look past "--" for it. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "synode-loadgen: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	argv[0] = (char *)"synode-loadgen";
	parse_opts(argc, argv);
	json_out = stdout;
	if (opts.json != NULL) {
		json_out = fopen(opts.json, "w");
		if (json_out == NULL) {
			fprintf(stderr, "synode-loadgen: %s: %s\n", opts.json, strerror(errno));
			lg_exit(1);
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (port_init() != 0)
		lg_exit(1);
	lg_exit(opts.reflect ? run_reflect() : run_load());
}
