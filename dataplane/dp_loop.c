/* SPDX-License-Identifier: MIT */
/*
 * The dataplane: create, run, stop, destroy; the peers and their sessions;
 * the loop and its adaptive polling.
 *
 * Sessions. For each peer we pick a random 64-bit session (l_session) and
 * learn its own for us (r_session) from its HELLOs. Every frame carries
 * both: src = the sender's, dst = the receiver's as the sender knows it.
 * A peer is up once we know its session (and name, and a version we both
 * speak) and it has shown it knows ours (a frame with dst == l_session).
 * HELLOs go to every known peer every down_after/5 (at least 20 ms), up or
 * not, and at once when a peer shows it does not know our session or when
 * we have just learned a new one of its: the handshake takes one round
 * trip when both are there. A session ends (the node is told: down) when
 * the peer is silent for down_after, when it shows up with a new session
 * (it restarted, or ended ours), or when the channel is reset (too far
 * behind, a protocol error); we then pick a new session and forget its, so
 * both sides start afresh, and the node resyncs after the next up.
 *
 *   HELLO(src S, dst D) from a peer with r_session R:
 *     S != R:  if up: session ends (down). R = S. Answer with a HELLO.
 *     D != l_session: answer with a HELLO (it does not know ours).
 *     D == l_session and not up: up.
 *   DATA(src S, dst D): S == R and D == l_session, or dropped (and a
 *     HELLO goes, so that a peer with a stale view learns ours).
 *
 * Neighbours: a peer's MAC and port come from ARP (requests and replies)
 * and from its frames; ARP requests go on every port until it answers, and
 * again when nothing was heard from it for a while.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_random.h>
#include <rte_ring.h>

#include <sodium.h>
#include <urcu/urcu-memb.h>

#include "dp_internal.h"
#include "sn_wire.h"

#define DP_LINK_CHECK_NS 100000000ull     /* link state, every 100 ms */
#define DP_ARP_STALE_MIN_NS 1000000000ull /* re-ARP a peer silent for 1 s+ */
#define DP_HELLO_NOW_MIN_NS 1000000ull    /* answers: at most one per ms */

static _Atomic unsigned dp_instances;

static const char *const dp_drop_names[DP_DROP_FRAME] = {
	[DP_DROP_ETH_SHORT] = "eth_short",
	[DP_DROP_MULTI_SEGMENT] = "multi_segment",
	[DP_DROP_NOT_OUR_MAC] = "not_our_mac",
	[DP_DROP_ETHERTYPE] = "ethertype",
	[DP_DROP_ARP_BAD] = "arp_bad",
	[DP_DROP_ARP_NOT_OURS] = "arp_not_ours",
	[DP_DROP_IP_BAD] = "ip_bad",
	[DP_DROP_IP_CHECKSUM] = "ip_checksum",
	[DP_DROP_IP_FRAGMENT] = "ip_fragment",
	[DP_DROP_IP_NOT_OURS] = "ip_not_ours",
	[DP_DROP_IP_PROTO] = "ip_proto",
	[DP_DROP_ICMP_BAD] = "icmp_bad",
	[DP_DROP_ICMP_NOT_ECHO] = "icmp_not_echo",
	[DP_DROP_UDP_BAD] = "udp_bad",
	[DP_DROP_UDP_CHECKSUM] = "udp_checksum",
	[DP_DROP_UDP_PORT] = "udp_port",
	[DP_DROP_UNKNOWN_PEER] = "unknown_peer",
	[DP_DROP_SESSION] = "session",
	[DP_DROP_NO_VERSION] = "no_common_version",
	[DP_DROP_BAD_MAC] = "bad_mac",
	[DP_DROP_REPLAYED] = "replayed",
	[DP_DROP_STALE_HELLO] = "stale_hello",
	[DP_DROP_PROTOCOL] = "protocol",
	[DP_DROP_SELF] = "self",
	[DP_DROP_TX_FULL] = "tx_full",
	[DP_DROP_NO_MBUF] = "no_mbuf",
	[DP_DROP_STALE_RECORD] = "stale_record",
};

/* ----------------------------------------------------------------- helpers */

uint64_t
dp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
dp_log(struct synode_dp *dp, enum synode_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > dp->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dp->log != NULL)
		dp->log(level, msg, dp->log_arg);
	else
		fprintf(stderr, "%s\n", msg);
}

static void
ip_format(uint32_t ip, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
}

/* A session id: random, never 0. */
static uint64_t
new_session(void)
{
	uint64_t s = 0;

	while (s == 0)
		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
			s = rte_rand();
	return s;
}

static unsigned
peer_id(const struct synode_dp *dp, const struct dp_peer *pr)
{
	return (unsigned)(pr - dp->peers);
}

static void
peer_set_state(struct dp_peer *pr, enum synode_peer_state st)
{
	atomic_store_explicit(&pr->ctr.state, (int)st, memory_order_relaxed);
}

static void
peer_set_info(struct dp_peer *pr)
{
	char ip[16];

	ip_format(pr->ip, ip, sizeof(ip));
	rte_spinlock_lock(&pr->info_lock);
	memcpy(pr->info_name, pr->name, sizeof(pr->info_name));
	snprintf(pr->info_addr, sizeof(pr->info_addr), "%s:%u", ip, pr->udp_port);
	rte_spinlock_unlock(&pr->info_lock);
}

static struct dp_peer *
peer_find(struct synode_dp *dp, uint32_t ip)
{
	unsigned n = atomic_load_explicit(&dp->n_peers, memory_order_relaxed);

	for (unsigned i = 0; i < n; i++)
		if (dp->peers[i].ip == ip)
			return &dp->peers[i];
	return NULL;
}

/* A new peer (lcore, or create before the lcore runs). NULL: no room. */
static struct dp_peer *
peer_add(struct synode_dp *dp, uint32_t ip, uint16_t udp_port)
{
	unsigned n = atomic_load_explicit(&dp->n_peers, memory_order_relaxed);
	struct dp_chan_params cp = {.seg_max = dp_frame_seg_max(dp->frame_cap)};
	struct dp_peer *pr;

	if (n == SN_LINK_MAX_PEERS)
		return NULL;
	pr = &dp->peers[n];
	pr->chan = dp_chan_create(&cp);
	if (pr->chan == NULL)
		return NULL;
	pr->in_use = true;
	pr->ip = ip;
	pr->udp_port = udp_port;
	pr->l_session = new_session();
	pr->hello_now = true;
	rte_spinlock_init(&pr->info_lock);
	peer_set_state(pr, SYNODE_PEER_CONNECTING);
	peer_set_info(pr);
	/* P1: pairs with the acquire in link_peer_info(). */
	atomic_store_explicit(&pr->published, true, memory_order_release);
	atomic_store_explicit(&dp->n_peers, n + 1, memory_order_relaxed);
	return pr;
}

/* ---------------------------------------------------------------- sessions */

void
dp_peer_session_end(struct synode_dp *dp, unsigned id, const char *why, bool reset)
{
	struct dp_peer *pr = &dp->peers[id];

	if (pr->up) {
		/* What arrived before the end goes first. */
		(void)dp_link_post_inbox(dp, id);
		if (dp_link_post_down(dp, id) < 0)
			dp_log(dp, SYNODE_LOG_ERROR, "dataplane: out of memory telling the "
			       "node that %s is down", pr->name);
		pr->up = false;
		peer_set_state(pr, SYNODE_PEER_DOWN);
		dp_log(dp, SYNODE_LOG_NOTICE, "dataplane: peer %s down: %s", pr->name, why);
	}
	if (reset) {
		dp_ctr_add(&dp->st.resets, 1);
		dp_log(dp, SYNODE_LOG_WARNING, "dataplane: session with %s reset: %s",
		       pr->name[0] ? pr->name : pr->info_addr, why);
	}
	pr->inbox.len = 0;
	dp_chan_reset(pr->chan);
	pr->l_session = new_session();
	pr->r_session = 0;
	dp_replay_reset(&pr->replay);
	pr->tx_counter = 0;
	pr->hello_now = true;
}

static bool
peer_try_up(struct synode_dp *dp, struct dp_peer *pr, uint64_t now)
{
	unsigned id = peer_id(dp, pr);

	if (pr->version == 0) {
		dp_drop(dp, DP_DROP_NO_VERSION);
		return false;
	}
	pr->gen++;
	pr->up = true;
	if (dp_link_post_up(dp, id) < 0) {
		pr->gen--;
		pr->up = false;
		return false; /* again at its next frame */
	}
	pr->last_rx_ns = now;
	pr->ever_up = true;
	peer_set_state(pr, SYNODE_PEER_UP);
	atomic_store_explicit(&pr->ctr.version, pr->version, memory_order_relaxed);
	dp_log(dp, SYNODE_LOG_NOTICE, "dataplane: peer %s (%s) up, protocol version %u",
	       pr->name, pr->info_addr, pr->version);
	return true;
}

static void
hello_rx(struct synode_dp *dp, struct dp_peer *pr, const struct dp_frame *f, uint64_t now)
{
	const struct dp_frame_hello *h = &f->hello;
	unsigned lo, hi;

	if (strcmp(h->name, dp->name) == 0) {
		dp_drop(dp, DP_DROP_SELF);
		dp_ctr_add(&pr->ctr.drops, 1);
		if (!pr->version_logged)
			dp_log(dp, SYNODE_LOG_ERROR, "dataplane: %s calls itself %s, our "
			       "own name: ignored", pr->info_addr, h->name);
		pr->version_logged = true;
		return;
	}
	if (f->src_session != pr->r_session) {
		/*
		 * A new session of the peer ends ours only if its HELLO names
		 * our current session: a HELLO replayed from one of its past
		 * sessions (its MAC still good) cannot, since our session is
		 * new and random each time. A restarted peer does not know
		 * ours yet: our answer tells it, and its next HELLO names it
		 * (one more round trip).
		 */
		if (pr->up && f->dst_session != pr->l_session) {
			dp_drop(dp, DP_DROP_STALE_HELLO);
			dp_ctr_add(&pr->ctr.drops, 1);
			if (now - pr->hello_sent_ns >= DP_HELLO_NOW_MIN_NS)
				pr->hello_now = true;
			return;
		}
		if (pr->up)
			dp_peer_session_end(dp, peer_id(dp, pr), "it has a new session "
					    "(restarted, or it ended ours)", false);
		pr->r_session = f->src_session;
		/* Its counters start again with its session. */
		dp_replay_reset(&pr->replay);
		dp_replay_mark(&pr->replay, f->counter);
		pr->hello_now = true;
		pr->version_logged = false;
	}
	if (strcmp(pr->name, h->name) != 0 || pr->udp_port != h->udp_port) {
		memcpy(pr->name, h->name, sizeof(pr->name));
		pr->udp_port = h->udp_port;
		peer_set_info(pr);
	}
	/* The highest version both speak. */
	hi = h->version_max < SN_WIRE_VERSION_MAX ? h->version_max : SN_WIRE_VERSION_MAX;
	lo = h->version_min > SN_WIRE_VERSION_MIN ? h->version_min : SN_WIRE_VERSION_MIN;
	pr->version = hi >= lo ? hi : 0;
	if (pr->version == 0 && !pr->version_logged) {
		dp_log(dp, SYNODE_LOG_ERROR, "dataplane: peer %s (%s) speaks protocol "
		       "versions %u..%u, this node %u..%u: none in common, it stays "
		       "connecting", h->name, pr->info_addr, h->version_min, h->version_max,
		       SN_WIRE_VERSION_MIN, SN_WIRE_VERSION_MAX);
		pr->version_logged = true;
	}
	pr->last_rx_ns = now;
	if (f->dst_session != pr->l_session)
		pr->hello_now = true;
	else if (!pr->up)
		peer_try_up(dp, pr, now);
}

static void
data_rx(struct synode_dp *dp, struct dp_peer *pr, const struct dp_frame *f, uint64_t now)
{
	bool accept;
	int rc;

	if (pr->r_session == 0 || f->src_session != pr->r_session ||
	    f->dst_session != pr->l_session) {
		dp_drop(dp, DP_DROP_SESSION);
		dp_ctr_add(&pr->ctr.drops, 1);
		/* It believes in a session we do not have: tell it ours. */
		if (now - pr->hello_sent_ns >= DP_HELLO_NOW_MIN_NS)
			pr->hello_now = true;
		return;
	}
	/* It knows our session, we know its: the handshake is done. */
	if (!pr->up && !peer_try_up(dp, pr, now)) {
		dp_ctr_add(&pr->ctr.drops, 1);
		return;
	}
	pr->last_rx_ns = now;
	accept = atomic_load_explicit(&dp->posted_bytes, memory_order_relaxed) < DP_POSTED_MAX;
	rc = dp_chan_rx(pr->chan, f, now, &pr->inbox, accept);
	if (rc == -EPROTO) {
		dp_drop(dp, DP_DROP_PROTOCOL);
		dp_ctr_add(&pr->ctr.drops, 1);
		dp_peer_session_end(dp, peer_id(dp, pr), "protocol error", true);
	} else if (rc < 0) {
		dp_peer_session_end(dp, peer_id(dp, pr), "out of memory", true);
	}
}

void
dp_peer_learn(struct synode_dp *dp, uint32_t ip, unsigned port_idx,
	      const struct rte_ether_addr *mac, uint64_t now)
{
	struct dp_peer *pr = peer_find(dp, ip);

	if (pr == NULL)
		return;
	if (!pr->mac_valid || pr->port_idx != port_idx ||
	    !rte_is_same_ether_addr(&pr->mac, mac)) {
		char m[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(m, sizeof(m), mac);
		dp_log(dp, SYNODE_LOG_INFO, "dataplane: %s is at %s on port %u",
		       pr->info_addr, m, dp->ports[port_idx].port_id);
		pr->mac = *mac;
		pr->port_idx = port_idx;
		pr->mac_valid = true;
		pr->hello_now = true;
	}
	pr->mac_seen_ns = now;
}

void
dp_peer_rx(struct synode_dp *dp, unsigned port_idx, const struct rte_ether_addr *src_mac,
	   uint32_t src_ip, uint16_t src_port, bool bcast, const uint8_t *payload,
	   size_t len, uint64_t now)
{
	struct dp_peer *pr = peer_find(dp, src_ip);
	enum dp_auth_status ast;
	enum dp_frame_status st;
	struct dp_frame f;

	(void)src_port; /* a peer says its port in its HELLOs */
	/* The MAC first: nothing of a frame is trusted before it. */
	ast = dp_auth_check(atomic_load_explicit(&dp->keys, memory_order_acquire), payload,
			    len);
	if (ast != DP_AUTH_OK) {
		dp_drop(dp, ast == DP_AUTH_TRUNC ? (enum dp_drop)(DP_DROP_FRAME + DP_FRAME_ETRUNC)
						 : DP_DROP_BAD_MAC);
		if (pr != NULL)
			dp_ctr_add(&pr->ctr.drops, 1);
		return;
	}
	st = dp_frame_decode(payload, len, &f);
	if (st != DP_FRAME_OK) {
		dp_drop(dp, (enum dp_drop)(DP_DROP_FRAME + st));
		if (pr != NULL)
			dp_ctr_add(&pr->ctr.drops, 1);
		return;
	}
	if (pr == NULL) {
		if (!(bcast && dp->broadcast && f.type == DP_FRAME_HELLO) ||
		    strcmp(f.hello.name, dp->name) == 0 ||
		    (pr = peer_add(dp, src_ip, f.hello.udp_port)) == NULL) {
			dp_drop(dp, DP_DROP_UNKNOWN_PEER);
			return;
		}
		dp_log(dp, SYNODE_LOG_NOTICE, "dataplane: found peer %s at %s by broadcast",
		       f.hello.name, pr->info_addr);
	}
	/*
	 * Replays: a frame of the peer's current session whose counter was
	 * seen or is behind the window. (Broadcast HELLOs are discovery only
	 * and change no state but a HELLO sent sooner; frames of another
	 * session are judged by the session rules below.)
	 */
	if (!bcast && pr->r_session != 0 && f.src_session == pr->r_session) {
		if (!dp_replay_fresh(&pr->replay, f.counter)) {
			dp_drop(dp, DP_DROP_REPLAYED);
			dp_ctr_add(&pr->ctr.drops, 1);
			return;
		}
		dp_replay_mark(&pr->replay, f.counter);
	}
	dp_peer_learn(dp, src_ip, port_idx, src_mac, now);
	dp_ctr_add(&pr->ctr.frames_rx, 1);
	dp_ctr_add(&pr->ctr.bytes_rx, len);
	if (bcast) {
		/* Discovery only: its sessions are in its unicast HELLOs. */
		if (!pr->up)
			pr->hello_now = true;
		return;
	}
	if (f.type == DP_FRAME_HELLO)
		hello_rx(dp, pr, &f, now);
	else
		data_rx(dp, pr, &f, now);
}

/* ------------------------------------------------------------------- sending */

static bool
peer_send(struct synode_dp *dp, struct dp_peer *pr, struct rte_mbuf *m, size_t len)
{
	if (!dp_net_udp_send(dp, pr->port_idx, &pr->mac, pr->ip, pr->udp_port, m, len))
		return false;
	dp_ctr_add(&pr->ctr.frames_tx, 1);
	dp_ctr_add(&pr->ctr.bytes_tx, len);
	return true;
}

static void
hello_fill(struct synode_dp *dp, struct dp_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->type = DP_FRAME_HELLO;
	f->hello.version_min = SN_WIRE_VERSION_MIN;
	f->hello.version_max = SN_WIRE_VERSION_MAX;
	f->hello.udp_port = dp->udp_port;
	memcpy(f->hello.name, dp->name, sizeof(f->hello.name));
}

static bool
hello_send(struct synode_dp *dp, const struct dp_auth_keys *ks, struct dp_peer *pr,
	   uint64_t now)
{
	struct dp_frame f;
	struct rte_mbuf *m;
	uint8_t *payload;
	int len;

	if (dp_port_tx_room(&dp->ports[pr->port_idx]) == 0)
		return false;
	m = dp_net_udp_alloc(dp, &payload);
	if (m == NULL)
		return false;
	hello_fill(dp, &f);
	f.counter = ++pr->tx_counter;
	f.src_session = pr->l_session;
	f.dst_session = pr->r_session;
	dp_auth_prepare(ks, &f);
	len = dp_frame_encode_hello(payload, dp->frame_cap - DP_FRAME_MAC_LEN, &f);
	if (len < 0) {
		rte_pktmbuf_free(m);
		return false;
	}
	len = (int)dp_auth_seal(ks, payload, (size_t)len);
	pr->hello_sent_ns = now;
	pr->hello_now = false;
	return peer_send(dp, pr, m, (size_t)len);
}

static void
hello_broadcast(struct synode_dp *dp, const struct dp_auth_keys *ks)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};

	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_frame f;
		struct rte_mbuf *m;
		uint8_t *payload;
		int len;

		if (!dp->ports[i].link_up || dp_port_tx_room(&dp->ports[i]) == 0)
			continue;
		m = dp_net_udp_alloc(dp, &payload);
		if (m == NULL)
			return;
		hello_fill(dp, &f);
		f.counter = ++dp->bcast_counter;
		f.src_session = dp->bcast_session;
		dp_auth_prepare(ks, &f);
		len = dp_frame_encode_hello(payload, dp->frame_cap - DP_FRAME_MAC_LEN, &f);
		if (len < 0) {
			rte_pktmbuf_free(m);
			return;
		}
		len = (int)dp_auth_seal(ks, payload, (size_t)len);
		dp_net_udp_send(dp, i, &bcast, 0xffffffffu, dp->udp_port, m, (size_t)len);
	}
}

/* Sends what the peer's channel wants; returns the frames sent. */
static unsigned
chan_send(struct synode_dp *dp, const struct dp_auth_keys *ks, struct dp_peer *pr,
	  uint64_t now)
{
	struct dp_port *pt = &dp->ports[pr->port_idx];
	unsigned n = 0;

	dp_chan_tick(pr->chan, now);
	while (n < DP_PEER_FRAMES_PER_TURN && dp_port_tx_room(pt) > 0 &&
	       dp_chan_tx_pending(pr->chan, now)) {
		struct dp_frame_enc e;
		struct dp_frame f;
		struct rte_mbuf *m;
		uint8_t *payload;

		m = dp_net_udp_alloc(dp, &payload);
		if (m == NULL)
			break;
		memset(&f, 0, sizeof(f));
		f.type = DP_FRAME_DATA;
		f.counter = ++pr->tx_counter;
		f.src_session = pr->l_session;
		f.dst_session = pr->r_session;
		dp_frame_enc_start(&e, payload, dp->frame_cap);
		dp_chan_tx(pr->chan, now, &e, &f);
		dp_auth_prepare(ks, &f);
		/* The encoder kept DP_FRAME_MAC_LEN bytes free for the tag. */
		if (!peer_send(dp, pr, m, dp_auth_seal(ks, payload, dp_frame_enc_end(&e, &f))))
			break;
		n++;
	}
	return n;
}

/* Timers and sending of one peer; returns the work done. */
static unsigned
peer_service(struct synode_dp *dp, const struct dp_auth_keys *ks, struct dp_peer *pr,
	     uint64_t now)
{
	uint64_t stale = dp->down_after_ns > DP_ARP_STALE_MIN_NS ? dp->down_after_ns
								 : DP_ARP_STALE_MIN_NS;
	unsigned work = 0;

	if ((!pr->mac_valid || now - pr->mac_seen_ns > stale) &&
	    now - pr->arp_sent_ns >= dp->hello_ns) {
		for (unsigned i = 0; i < dp->n_ports; i++)
			if (dp->ports[i].link_up)
				dp_net_arp_request(dp, i, pr->ip);
		pr->arp_sent_ns = now;
		work++;
	}
	if (pr->up && now - pr->last_rx_ns > dp->down_after_ns) {
		char why[64];

		snprintf(why, sizeof(why), "silent for %llu ms",
			 (unsigned long long)((now - pr->last_rx_ns) / 1000000));
		dp_peer_session_end(dp, peer_id(dp, pr), why, false);
		work++;
	}
	if (!pr->mac_valid)
		return work;
	if ((pr->hello_now && now - pr->hello_sent_ns >= DP_HELLO_NOW_MIN_NS) ||
	    now - pr->hello_sent_ns >= dp->hello_ns)
		work += hello_send(dp, ks, pr, now);
	if (pr->up) {
		struct dp_chan_stats cs;

		work += chan_send(dp, ks, pr, now);
		dp_chan_get_stats(pr->chan, &cs);
		if (cs.frames_resent != atomic_load_explicit(&pr->ctr.retransmits,
							     memory_order_relaxed)) {
			dp_ctr_add(&dp->st.retransmits,
				   cs.frames_resent - atomic_load_explicit(&pr->ctr.retransmits,
									   memory_order_relaxed));
			atomic_store_explicit(&pr->ctr.retransmits, cs.frames_resent,
					      memory_order_relaxed);
		}
		atomic_store_explicit(&pr->ctr.rtt_ns, cs.srtt_ns, memory_order_relaxed);
	}
	return work;
}

/* ------------------------------------------------------------------ the loop */

/* Adaptive polling: sleeps *step (doubled each idle turn, up to the most),
 * unless the control thread has queued work or stop was asked. */
static void
idle_sleep(struct synode_dp *dp, uint64_t *step)
{
	struct timespec ts;
	uint32_t word;

	*step = *step == 0 ? DP_IDLE_SLEEP_MIN_NS
		: (*step * 2 < DP_IDLE_SLEEP_MAX_NS ? *step * 2 : DP_IDLE_SLEEP_MAX_NS);
	word = atomic_load_explicit(&dp->wake_word, memory_order_acquire);
	atomic_store_explicit(&dp->sleeping, 1, memory_order_relaxed);
	/* S1: pairs with W1 in dp_wake(). */
	atomic_thread_fence(memory_order_seq_cst);
	if (rte_ring_count(dp->ring) == 0 &&
	    !atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)*step;
		syscall(SYS_futex, (uint32_t *)&dp->wake_word, FUTEX_WAIT_PRIVATE, word, &ts,
			NULL, 0);
		dp_ctr_add(&dp->st.idle_sleeps, 1);
	}
	atomic_store_explicit(&dp->sleeping, 0, memory_order_relaxed);
}

int
synode_dp_run(struct synode_dp *dp)
{
	struct rte_mbuf *pkts[DP_RX_BURST];
	uint64_t step = 0;
	int expected = 0;

	if (dp == NULL || dp->node == NULL)
		return -EINVAL;
	if (!atomic_compare_exchange_strong(&dp->running, &expected, 1))
		return -EBUSY;
	/* The lookup service reads the node's tables on this thread (the
	 * caller's thread must not be registered with urcu-memb already). */
	urcu_memb_register_thread();
	dp->rcu_registered = true;
	dp_log(dp, SYNODE_LOG_INFO, "dataplane: running on lcore %u, %s polling",
	       rte_lcore_id(), dp->poll == SYNODE_DP_POLL_BUSY ? "busy" : "adaptive");
	while (!atomic_load_explicit(&dp->stop, memory_order_acquire)) {
		uint64_t now = dp_now_ns();
		const struct dp_auth_keys *ks;
		unsigned work = 0, n_peers;

		/* T1: after this, a key set replaced before is no longer read
		 * (pairs with the wait in synode_dp_set_keys). */
		atomic_fetch_add(&dp->turns, 1);
		ks = atomic_load(&dp->keys);

		for (unsigned i = 0; i < dp->n_ports; i++) {
			/* A few bursts while they come full, so that a busy peer
			 * is not held to one burst per turn. */
			for (unsigned b = 0; b < DP_RX_BURSTS_PER_TURN; b++) {
				uint16_t n = rte_eth_rx_burst(dp->ports[i].port_id, 0, pkts,
							      DP_RX_BURST);

				for (uint16_t k = 0; k < n; k++)
					dp_net_rx(dp, i, pkts[k], now);
				work += n;
				if (n < DP_RX_BURST)
					break;
			}
		}
		work += dp_link_drain(dp);
		if (now >= dp->link_check_ns) {
			dp_ports_check_links(dp, now);
			dp->link_check_ns = now + DP_LINK_CHECK_NS;
		}
		if (dp->broadcast && now - dp->bcast_hello_ns >= dp->hello_ns) {
			hello_broadcast(dp, ks);
			dp->bcast_hello_ns = now;
		}
		n_peers = atomic_load_explicit(&dp->n_peers, memory_order_relaxed);
		for (unsigned i = 0; i < n_peers; i++)
			work += peer_service(dp, ks, &dp->peers[i], now);
		/* One post per peer per turn: everything it sent us in order. */
		for (unsigned i = 0; i < n_peers; i++)
			if (dp->peers[i].inbox.len > 0 && dp_link_post_inbox(dp, i) < 0)
				break; /* no memory: the inbox waits for the next turn */
		dp_link_post_flush(dp);
		dp_ports_tx_flush(dp);
		if (work > 0)
			step = 0;
		else if (dp->poll == SYNODE_DP_POLL_ADAPTIVE)
			idle_sleep(dp, &step);
	}
	dp_ports_tx_flush(dp);
	if (dp->rcu_registered) {
		urcu_memb_unregister_thread();
		dp->rcu_registered = false;
	}
	atomic_store_explicit(&dp->running, 0, memory_order_release);
	dp_log(dp, SYNODE_LOG_INFO, "dataplane: stopped");
	return 0;
}

void
synode_dp_stop(struct synode_dp *dp)
{
	if (dp == NULL)
		return;
	atomic_store_explicit(&dp->stop, 1, memory_order_release);
	atomic_fetch_add_explicit(&dp->wake_word, 1, memory_order_release);
	syscall(SYS_futex, (uint32_t *)&dp->wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ------------------------------------------------------------ create, free */

/* A key set from key file bytes; NULL with errno (EINVAL, ENOMEM). */
static struct dp_auth_keys *
keys_make(const void *key, size_t key_len, const void *key_next, size_t key_next_len)
{
	struct dp_auth_keys *ks = calloc(1, sizeof(*ks));

	if (ks == NULL)
		return NULL;
	if (dp_auth_key_make(&ks->key[0], key, key_len) < 0 ||
	    (key_next != NULL &&
	     dp_auth_key_make(&ks->key[1], key_next, key_next_len) < 0)) {
		free(ks);
		errno = EINVAL;
		return NULL;
	}
	ks->n = key_next != NULL ? 2 : 1;
	return ks;
}

int
synode_dp_set_keys(struct synode_dp *dp, const void *key, size_t key_len,
		   const void *key_next, size_t key_next_len)
{
	struct dp_auth_keys *ks, *old;
	uint64_t turns, t0;

	if (dp == NULL || atomic_load(&dp->keys) == NULL)
		return -EINVAL;      /* insecure: stays so */
	ks = keys_make(key, key_len, key_next, key_next_len);
	if (ks == NULL)
		return -errno;
	rte_spinlock_lock(&dp->keys_lock);
	/* T2: seq_cst with T1: once the loop has turned, it reads ks. */
	old = atomic_exchange(&dp->keys, ks);
	turns = atomic_load(&dp->turns);
	t0 = dp_now_ns();
	while (atomic_load(&dp->running) && atomic_load(&dp->turns) == turns &&
	       dp_now_ns() - t0 < 2000000000ull) {
		dp_wake(dp);
		usleep(100);
	}
	if (!atomic_load(&dp->running) || atomic_load(&dp->turns) != turns) {
		sodium_memzero(old, sizeof(*old));
		free(old);
	} /* else: a loop stuck for 2 s; the old set is left, not freed under it */
	rte_spinlock_unlock(&dp->keys_lock);
	dp_log(dp, SYNODE_LOG_NOTICE, "dataplane: keys replaced: signing with key id %u%s",
	       ks->key[0].id, ks->n > 1 ? ", a second key accepted" : "");
	return 0;
}

static bool
valid_name(const char *s)
{
	size_t len = s != NULL ? strnlen(s, SYNODE_NODE_NAME_MAX + 1) : 0;

	if (len == 0 || len > SYNODE_NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '/')
			return false;
	return true;
}

static int
check_params(const struct synode_dp_params *p)
{
	if (p == NULL || !valid_name(p->node_name) || p->ip == 0 || p->ip == 0xffffffffu ||
	    p->prefix_len < 1 || p->prefix_len > 32 || p->n_peers > SYNODE_DP_MAX_PEERS ||
	    (p->n_peers > 0 && p->peers == NULL) ||
	    (p->poll != SYNODE_DP_POLL_ADAPTIVE && p->poll != SYNODE_DP_POLL_BUSY))
		return -EINVAL;
	/* A key, or insecure: never both, never neither. */
	if (p->insecure ? (p->key != NULL || p->key_next != NULL)
			: (p->key == NULL || p->key_len < DP_AUTH_KEY_MIN ||
			   (p->key_next != NULL && p->key_next_len < DP_AUTH_KEY_MIN)))
		return -EINVAL;
	if (p->n_lookup_keys > SYNODE_DP_LOOKUP_KEYS_MAX ||
	    (p->n_lookup_keys > 0 && p->lookup_keys == NULL))
		return -EINVAL;
	for (unsigned i = 0; i < p->n_lookup_keys; i++) {
		const struct synode_dp_lookup_key *lk = &p->lookup_keys[i];

		if (lk->scope == NULL || lk->scope[0] == '\0' ||
		    strlen(lk->scope) > SYNODE_SCOPE_NAME_MAX || lk->key == NULL ||
		    lk->key_len < DP_AUTH_KEY_MIN)
			return -EINVAL;
	}
	for (unsigned i = 0; i < p->n_peers; i++) {
		if (p->peers[i] == 0 || p->peers[i] == 0xffffffffu || p->peers[i] == p->ip)
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (p->peers[i] == p->peers[j])
				return -EINVAL;
	}
	return 0;
}

struct synode_dp *
synode_dp_create(const struct synode_dp_params *p)
{
	char ring_name[RTE_RING_NAMESIZE], ip[16];
	struct synode_dp *dp;
	unsigned instance;
	int rc;

	rc = check_params(p);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	if (dp_auth_init() < 0) {
		errno = EIO;
		return NULL;
	}
	dp = calloc(1, sizeof(*dp));
	if (dp == NULL)
		return NULL;
	rte_spinlock_init(&dp->keys_lock);
	if (!p->insecure) {
		struct dp_auth_keys *ks = keys_make(p->key, p->key_len, p->key_next,
						    p->key_next_len);

		if (ks == NULL) {
			free(dp);
			return NULL;
		}
		atomic_store(&dp->keys, ks);
	}
	for (unsigned i = 0; i < p->n_lookup_keys; i++) {
		struct dp_lookup_key *lk = &dp->lookup_keys[i];

		memcpy(lk->scope, p->lookup_keys[i].scope, strlen(p->lookup_keys[i].scope) + 1);
		dp_lookup_key_make(&lk->key, p->lookup_keys[i].key, p->lookup_keys[i].key_len);
	}
	dp->n_lookup_keys = p->n_lookup_keys;
	memcpy(dp->name, p->node_name, strlen(p->node_name) + 1);
	dp->ip = p->ip;
	dp->netmask = p->prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> p->prefix_len);
	dp->bcast = p->prefix_len >= 31 ? 0xffffffffu : (dp->ip | ~dp->netmask);
	dp->udp_port = p->udp_port ? p->udp_port : SYNODE_DP_UDP_PORT;
	dp->poll = p->poll;
	dp->broadcast = p->broadcast;
	dp->down_after_ns = (uint64_t)(p->down_after_ms ? p->down_after_ms
						  : SYNODE_DP_DOWN_AFTER_MS) * 1000000;
	dp->hello_ns = dp->down_after_ns / 5 > DP_HELLO_MIN_NS ? dp->down_after_ns / 5
							       : DP_HELLO_MIN_NS;
	dp->log = p->log;
	dp->log_arg = p->log_arg;
	dp->log_level = p->log_level ? p->log_level : SYNODE_LOG_NOTICE;
	dp->bcast_session = new_session();
	dp_link_init(dp);

	instance = atomic_fetch_add(&dp_instances, 1);
	rc = dp_ports_init(dp, instance, p->port_ids, p->n_port_ids,
			   p->link_wait_ms ? p->link_wait_ms : DP_LINK_WAIT_MS_DEFAULT);
	if (rc < 0)
		goto fail_ports;

	dp->lookup_buf = malloc(dp->frame_cap);
	if (dp->lookup_buf == NULL) {
		rc = -ENOMEM;
		goto fail_ring;
	}
	snprintf(ring_name, sizeof(ring_name), "synode_dp%u", instance);
	dp->ring = rte_ring_create(ring_name, DP_RING_SIZE, (int)rte_socket_id(),
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (dp->ring == NULL) {
		rc = -rte_errno;
		goto fail_ring;
	}
	for (unsigned i = 0; i < p->n_peers; i++) {
		if (((p->peers[i] ^ dp->ip) & dp->netmask) != 0) {
			ip_format(p->peers[i], ip, sizeof(ip));
			dp_log(dp, SYNODE_LOG_WARNING, "dataplane: peer %s is outside %s's "
			       "subnet: reached by ARP on the segment all the same", ip,
			       dp->name);
		}
		if (peer_add(dp, p->peers[i], dp->udp_port) == NULL) {
			rc = -ENOMEM;
			goto fail_peers;
		}
	}
	ip_format(dp->ip, ip, sizeof(ip));
	dp_log(dp, SYNODE_LOG_INFO, "dataplane: %s at %s/%u udp %u: %u port(s), %u peer(s)%s, "
	       "frames of %zu bytes, down after %llu ms", dp->name, ip, p->prefix_len,
	       dp->udp_port, dp->n_ports, p->n_peers, dp->broadcast ? " + broadcast" : "",
	       dp->frame_cap, (unsigned long long)(dp->down_after_ns / 1000000));
	dp_tel_attach(dp);
	if (p->insecure)
		dp_log(dp, SYNODE_LOG_WARNING, "dataplane: insecure: frames are not "
		       "authenticated, and authenticated ones are dropped");
	else
		dp_log(dp, SYNODE_LOG_INFO, "dataplane: cluster key id %u%s",
		       atomic_load(&dp->keys)->key[0].id,
		       p->key_next != NULL ? ", a second key accepted" : "");
	return dp;

fail_peers:
	for (unsigned i = 0; i < SN_LINK_MAX_PEERS; i++)
		dp_chan_free(dp->peers[i].chan);
	rte_ring_free(dp->ring);
fail_ring:
fail_ports:
	free(dp->lookup_buf);
	dp_ports_close(dp);
	free(atomic_load(&dp->keys));
	free(dp);
	errno = -rc;
	return NULL;
}

struct synode_link *
synode_dp_link(struct synode_dp *dp)
{
	return dp != NULL ? &dp->link : NULL;
}

int
synode_dp_attach(struct synode_dp *dp, struct synode *n)
{
	if (dp == NULL || n == NULL || dp->node != NULL)
		return -EINVAL;
	dp->node = n;
	return 0;
}

bool
synode_dp_has_memif(const struct synode_dp *dp)
{
	return dp != NULL && dp_ports_have_memif(dp);
}

void
synode_dp_destroy(struct synode_dp *dp)
{
	if (dp == NULL)
		return;
	dp_tel_detach(dp);
	dp_link_fini(dp);
	for (unsigned i = 0; i < SN_LINK_MAX_PEERS; i++) {
		dp_chan_free(dp->peers[i].chan);
		dp_buf_free(&dp->peers[i].inbox);
	}
	dp_ports_close(dp);
	rte_ring_free(dp->ring);
	free(dp->lookup_buf);
	sodium_memzero(dp->lookup_keys, sizeof(dp->lookup_keys));
	if (atomic_load(&dp->keys) != NULL) {
		sodium_memzero(atomic_load(&dp->keys), sizeof(struct dp_auth_keys));
		free(atomic_load(&dp->keys));
	}
	free(dp);
}

void
synode_dp_get_stats(struct synode_dp *dp, struct synode_dp_stats *st)
{
	uint64_t dropped = 0;

	memset(st, 0, sizeof(*st));
	if (dp == NULL)
		return;
	st->rx_frames = atomic_load_explicit(&dp->st.rx_frames, memory_order_relaxed);
	st->tx_frames = atomic_load_explicit(&dp->st.tx_frames, memory_order_relaxed);
	st->rx_bytes = atomic_load_explicit(&dp->st.rx_bytes, memory_order_relaxed);
	st->tx_bytes = atomic_load_explicit(&dp->st.tx_bytes, memory_order_relaxed);
	st->retransmits = atomic_load_explicit(&dp->st.retransmits, memory_order_relaxed);
	st->resets = atomic_load_explicit(&dp->st.resets, memory_order_relaxed);
	st->arp_replies = atomic_load_explicit(&dp->st.arp_replies, memory_order_relaxed);
	st->icmp_replies = atomic_load_explicit(&dp->st.icmp_replies, memory_order_relaxed);
	st->idle_sleeps = atomic_load_explicit(&dp->st.idle_sleeps, memory_order_relaxed);
	st->lookup_frames = atomic_load_explicit(&dp->st.lookup_frames, memory_order_relaxed);
	st->lookup_answers = atomic_load_explicit(&dp->st.lookup_answers, memory_order_relaxed);
	st->lookup_malformed = atomic_load_explicit(&dp->st.lookup_malformed,
						    memory_order_relaxed);
	st->lookup_denied = atomic_load_explicit(&dp->st.lookup_denied, memory_order_relaxed);
	/* Frames received and dropped: not the replies that found no room, nor
	 * the node's records for ended sessions. */
	for (unsigned i = 0; i < DP_DROP_END; i++)
		if (i != DP_DROP_TX_FULL && i != DP_DROP_NO_MBUF && i != DP_DROP_STALE_RECORD)
			dropped += atomic_load_explicit(&dp->drops[i], memory_order_relaxed);
	st->rx_dropped = dropped;
	for (unsigned i = DP_DROP_FRAME; i < DP_DROP_END; i++) {
		uint64_t c = atomic_load_explicit(&dp->drops[i], memory_order_relaxed);

		switch ((enum dp_frame_status)(i - DP_DROP_FRAME)) {
		case DP_FRAME_ETRUNC:
		case DP_FRAME_EMAC_TRUNC:
		case DP_FRAME_EHELLO_TRUNC:
		case DP_FRAME_ESEG_TRUNC:
			st->drop_truncated += c;
			break;
		default:
			st->drop_malformed += c;
			break;
		}
	}
	st->drop_bad_mac = atomic_load_explicit(&dp->drops[DP_DROP_BAD_MAC], memory_order_relaxed);
	st->drop_replayed = atomic_load_explicit(&dp->drops[DP_DROP_REPLAYED],
						 memory_order_relaxed);
	st->drop_unknown_peer = atomic_load_explicit(&dp->drops[DP_DROP_UNKNOWN_PEER],
						     memory_order_relaxed);
	st->drop_session = atomic_load_explicit(&dp->drops[DP_DROP_SESSION], memory_order_relaxed) +
			   atomic_load_explicit(&dp->drops[DP_DROP_STALE_HELLO],
						memory_order_relaxed);
}

void
synode_dp_foreach_drop(struct synode_dp *dp,
		       void (*fn)(const char *reason, uint64_t count, void *arg), void *arg)
{
	char name[48];

	if (dp == NULL)
		return;
	for (unsigned i = 0; i < DP_DROP_END; i++) {
		uint64_t c = atomic_load_explicit(&dp->drops[i], memory_order_relaxed);

		if (c == 0)
			continue;
		if (i < DP_DROP_FRAME) {
			fn(dp_drop_names[i], c, arg);
		} else {
			snprintf(name, sizeof(name), "frame_%s",
				 dp_frame_status_name((enum dp_frame_status)(i - DP_DROP_FRAME)));
			fn(name, c, arg);
		}
	}
}
