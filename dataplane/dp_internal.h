/* SPDX-License-Identifier: MIT */
/*
 * Private to dataplane/: the dataplane's state and what its files offer
 * each other.
 *
 *   dp_port.c  ethdev ports: setup, buffered TX, link state
 *   dp_net.c   Ethernet, ARP, IPv4, UDP and ICMP echo on the lcore
 *   dp_loop.c  create/run/stop/destroy, peers and their sessions, timers,
 *              adaptive polling
 *   dp_link.c  the link (control/sn_link.h): records from the control
 *              thread to the lcore, posts from the lcore to the node
 *   dp_frame.c, dp_chan.c  frames and reliable channels (pure C)
 *
 * Threads. "lcore": only the thread in synode_dp_run(). "control": only
 * the node's control thread (the link's send/flush and the functions the
 * lcore posts to it). "any": atomics, read relaxed. The lcore and the
 * control thread share nothing else but the ring of chunks (rte_ring: its
 * enqueue releases, its dequeue acquires) and the wake word.
 */
#ifndef DP_INTERNAL_H
#define DP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "dp_auth.h"
#include "dp_chan.h"
#include "dp_frame.h"
#include "sn_link.h"
#include "synode_dp.h"

#define DP_MAX_PORTS 16
#define DP_RX_BURST 32
#define DP_RX_BURSTS_PER_TURN 4
#define DP_TX_BUF 512               /* frames buffered per port */
#define DP_MBUFS 4095               /* fits --no-huge -m 64 */
#define DP_MBUF_CACHE 128
#define DP_RING_SIZE 1024           /* chunks, control thread -> lcore */
#define DP_CHUNK_SIZE (64 * 1024)   /* bytes of records per chunk */
#define DP_MTU_DEFAULT 1500
#define DP_L2L3L4_LEN (14 + 20 + 8) /* Ethernet + IPv4 + UDP headers */
#define DP_LINK_WAIT_MS_DEFAULT 3000     /* not for memif ports */
#define DP_IDLE_SLEEP_MIN_NS 1000ull        /* adaptive polling: 1 us ... */
#define DP_IDLE_SLEEP_MAX_NS 1000000ull     /* ... doubling up to 1 ms */
#define DP_HELLO_MIN_NS 20000000ull         /* 20 ms */
#define DP_PEER_FRAMES_PER_TURN 64  /* frames one peer may send per turn */
#define DP_CHUNKS_PER_TURN 64
/* Bytes handed to the node and not yet taken: beyond, data frames are left
 * unacked (they come again) until the node catches up. */
#define DP_POSTED_MAX ((int64_t)64 << 20)

/* Why a frame (or a record) was dropped: synode_dp_foreach_drop(). */
enum dp_drop {
	DP_DROP_ETH_SHORT,
	DP_DROP_MULTI_SEGMENT,
	DP_DROP_NOT_OUR_MAC,
	DP_DROP_ETHERTYPE,
	DP_DROP_ARP_BAD,
	DP_DROP_ARP_NOT_OURS,
	DP_DROP_IP_BAD,
	DP_DROP_IP_CHECKSUM,
	DP_DROP_IP_FRAGMENT,
	DP_DROP_IP_NOT_OURS,
	DP_DROP_IP_PROTO,
	DP_DROP_ICMP_BAD,
	DP_DROP_ICMP_NOT_ECHO,
	DP_DROP_UDP_BAD,
	DP_DROP_UDP_CHECKSUM,
	DP_DROP_UDP_PORT,
	DP_DROP_UNKNOWN_PEER,
	DP_DROP_SESSION,            /* a session we do not have (stale, restarted) */
	DP_DROP_NO_VERSION,         /* no protocol version in common */
	DP_DROP_BAD_MAC,            /* no MAC, unknown key, wrong tag (or a MAC when insecure) */
	DP_DROP_REPLAYED,           /* counter seen, or behind the replay window */
	DP_DROP_STALE_HELLO,        /* a HELLO of a new session that does not know ours */
	DP_DROP_PROTOCOL,           /* the channel caught a protocol violation */
	DP_DROP_SELF,               /* our own broadcast, or our name */
	DP_DROP_TX_FULL,            /* a reply with no room to go */
	DP_DROP_NO_MBUF,
	DP_DROP_STALE_RECORD,       /* for a session the node had not seen end */
	DP_DROP_FRAME,              /* + enum dp_frame_status: malformed frames */
	DP_DROP_END = DP_DROP_FRAME + DP_FRAME_STATUS_END
};

/* One ethdev port. lcore, after create. */
struct dp_port {
	uint16_t port_id;
	struct rte_ether_addr mac;
	bool memif;
	bool memif_client;           /* reconnects by a restart (see dp_port.c) */
	bool link_up;
	uint64_t down_since_ns;      /* link down since; 0: up */
	uint16_t n_tx;
	struct rte_mbuf *tx[DP_TX_BUF];
};

/* Counters of one peer: written by the lcore (dp_ctr_add), read anywhere. */
struct dp_peer_ctr {
	_Atomic uint64_t frames_tx, frames_rx, bytes_tx, bytes_rx;
	_Atomic uint64_t retransmits, drops, rtt_ns;
	_Atomic int state;           /* enum synode_peer_state */
	_Atomic unsigned version;
};

struct dp_peer {
	/* lcore */
	bool in_use;
	uint32_t ip;                 /* host order */
	uint16_t udp_port;           /* where it listens */
	/* neighbour: where it is */
	bool mac_valid;
	struct rte_ether_addr mac;
	unsigned port_idx;
	uint64_t mac_seen_ns, arp_sent_ns;
	/* session */
	uint64_t l_session;          /* ours, for this peer */
	uint64_t r_session;          /* its, 0: unknown */
	uint64_t tx_counter;         /* frames sent in l_session */
	struct dp_replay replay;     /* counters taken in r_session */
	char name[SYNODE_NODE_NAME_MAX + 1]; /* from its HELLO */
	unsigned version;            /* spoken with it; 0: none in common */
	bool up;
	bool ever_up;
	bool hello_now;              /* send a HELLO this turn */
	bool version_logged;
	uint32_t gen;                /* sessions the node was told of */
	uint64_t last_rx_ns, hello_sent_ns;
	struct dp_chan *chan;
	struct dp_buf inbox;         /* messages received this turn */

	/* any thread */
	rte_spinlock_t info_lock;    /* info_name */
	char info_name[SYNODE_NODE_NAME_MAX + 1];
	char info_addr[48];          /* written before in_use is published */
	_Atomic bool published;
	struct dp_peer_ctr ctr;
};

/* Records for the lcore, a chunk at a time (dp_link.c). */
struct dp_chunk {
	struct dp_chunk *next;
	size_t len, cap;
	uint32_t gen[SN_LINK_MAX_PEERS];  /* the node's view when written */
	uint8_t data[];                   /* records: u64 peers, u32 len, bytes, pad to 8 */
};

/* The control thread's side of the link. control. */
struct dp_ctl {
	uint32_t gen[SN_LINK_MAX_PEERS];  /* sessions the node has seen begin */
	uint64_t up;                      /* peers the node believes up */
	struct dp_chunk *cur;             /* being written */
	struct dp_chunk *wait_head, *wait_tail; /* finished, no room in the ring */
};

struct dp_post;

/* A scope of the lookup service that wants its key (--lookup-key). */
struct dp_lookup_key {
	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	struct dp_auth_key key;
};

struct synode_dp {
	char name[SYNODE_NODE_NAME_MAX + 1];
	uint32_t ip, netmask, bcast;      /* host order */
	uint16_t udp_port;
	enum synode_dp_poll poll;
	bool broadcast;
	uint64_t down_after_ns, hello_ns;
	synode_log_fn log;
	void *log_arg;
	enum synode_log_level log_level;

	struct synode_link link;
	struct synode *node;

	/* ports, lcore */
	struct dp_port ports[DP_MAX_PORTS];
	unsigned n_ports;
	struct rte_mempool *pool;
	size_t frame_cap;                 /* UDP payload bytes per frame */
	uint64_t link_check_ns, bcast_hello_ns;
	uint64_t bcast_session;           /* src session of broadcast HELLOs */
	uint64_t bcast_counter;

	/* peers; in_use/ip/published also read by peer_info (any) */
	struct dp_peer peers[SN_LINK_MAX_PEERS];
	_Atomic unsigned n_peers;

	/* control thread -> lcore */
	struct rte_ring *ring;
	_Atomic int ctl_waiting;          /* chunks wait on the control side */
	_Atomic uint64_t ctl_lost;        /* peers whose records were lost (ENOMEM) */
	struct dp_ctl ctl;                /* control */

	/* lcore -> node */
	struct dp_post *post_head, *post_tail; /* not yet accepted by the node */
	_Atomic int64_t posted_bytes;

	/* polling and stopping */
	_Atomic uint32_t wake_word;
	_Atomic int sleeping;
	_Atomic int stop;
	_Atomic int running;

	/* The cluster keys: the lcore loads the pointer once a turn; a new set
	 * (synode_dp_set_keys) replaces it whole. A set replaced is freed
	 * after the loop's next turn, so that no reader ever sees one freed. */
	_Atomic(struct dp_auth_keys *) keys;
	rte_spinlock_t keys_lock;         /* writers of keys */
	_Atomic uint64_t turns;           /* loop turns: a set replaced is freed
					     once the loop has turned */

	/* The lookup service (dp_lookup.c), lcore after create. */
	struct dp_lookup_key lookup_keys[SYNODE_DP_LOOKUP_KEYS_MAX];
	unsigned n_lookup_keys;
	uint8_t *lookup_buf;              /* an answer being built: frame_cap */
	bool rcu_registered;              /* the lcore thread, with urcu-memb */

	/* counters, any */
	struct {
		_Atomic uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes;
		_Atomic uint64_t retransmits, resets, arp_replies, icmp_replies;
		_Atomic uint64_t idle_sleeps;
		_Atomic uint64_t lookup_frames, lookup_answers;
		_Atomic uint64_t lookup_malformed, lookup_denied;
	} st;
	_Atomic uint64_t drops[DP_DROP_END];
};

/* A counter only the lcore writes: no read-modify-write needed. */
static inline void
dp_ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline void
dp_drop(struct synode_dp *dp, enum dp_drop why)
{
	dp_ctr_add(&dp->drops[why], 1);
}

void dp_log(struct synode_dp *dp, enum synode_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Now, ns, monotonic. */
uint64_t dp_now_ns(void);

/* dp_port.c */
/* @p instance makes the mempool's name unique in the process. */
int dp_ports_init(struct synode_dp *dp, unsigned instance, const uint16_t *port_ids,
		  unsigned n_port_ids, unsigned link_wait_ms);
void dp_ports_close(struct synode_dp *dp);
bool dp_ports_have_memif(const struct synode_dp *dp);
/* lcore: */
unsigned dp_port_tx_room(const struct dp_port *pt);
bool dp_port_tx_put(struct synode_dp *dp, struct dp_port *pt, struct rte_mbuf *m);
void dp_ports_tx_flush(struct synode_dp *dp);
void dp_ports_check_links(struct synode_dp *dp, uint64_t now);

/* dp_net.c, lcore */
void dp_net_rx(struct synode_dp *dp, unsigned port_idx, struct rte_mbuf *m, uint64_t now);
/* A frame for UDP payload of up to dp->frame_cap bytes; *payload points to it. */
struct rte_mbuf *dp_net_udp_alloc(struct synode_dp *dp, uint8_t **payload);
/* Sends a frame from dp_net_udp_alloc() with @p len payload bytes. Takes m. */
bool dp_net_udp_send(struct synode_dp *dp, unsigned port_idx, const struct rte_ether_addr *dst_mac,
		     uint32_t dst_ip, uint16_t dst_port, struct rte_mbuf *m, size_t len);
void dp_net_arp_request(struct synode_dp *dp, unsigned port_idx, uint32_t target_ip);

/* dp_loop.c, lcore: called by dp_net.c */
void dp_peer_learn(struct synode_dp *dp, uint32_t ip, unsigned port_idx,
		   const struct rte_ether_addr *mac, uint64_t now);
/* A UDP datagram to our port (@p bcast: sent to a broadcast address). */
void dp_peer_rx(struct synode_dp *dp, unsigned port_idx, const struct rte_ether_addr *src_mac,
		uint32_t src_ip, uint16_t src_port, bool bcast, const uint8_t *payload,
		size_t len, uint64_t now);
/* Ends peer @p id's session (reported down if it was up); a new one begins. */
void dp_peer_session_end(struct synode_dp *dp, unsigned id, const char *why, bool reset);

/* dp_lookup.c, lcore: a UDP datagram to our port that starts with the
 * lookup magic, from anyone (@p m: the request; freed by the caller). */
void dp_lookup_rx(struct synode_dp *dp, unsigned port_idx, const struct rte_ether_addr *src_mac,
		  uint32_t src_ip, uint16_t src_port, const uint8_t *payload, size_t len);

/* dp_tel.c: DPDK telemetry (/synode/...) of the process's first dataplane */
void dp_tel_attach(struct synode_dp *dp);
void dp_tel_detach(struct synode_dp *dp);

/* dp_link.c */
void dp_link_init(struct synode_dp *dp);
void dp_link_fini(struct synode_dp *dp);               /* after the lcore stopped */
/* lcore: */
unsigned dp_link_drain(struct synode_dp *dp);          /* chunks taken */
int dp_link_post_up(struct synode_dp *dp, unsigned id);
int dp_link_post_down(struct synode_dp *dp, unsigned id);
int dp_link_post_inbox(struct synode_dp *dp, unsigned id);
void dp_link_post_flush(struct synode_dp *dp);         /* retry posts the node refused */
/* control: wakes the lcore if it sleeps. MT-safe, async-signal-safe. */
void dp_wake(struct synode_dp *dp);

#endif /* DP_INTERNAL_H */
