/* SPDX-License-Identifier: MIT */
/*
 * synode_dp: the DPDK dataplane of a node (DESIGN.md, Threads and Wire).
 *
 * It owns the node's DPDK ports (any ethdev: a NIC, net_memif,
 * net_af_packet), speaks UDP/IPv4 with ARP and ICMP echo on them, and
 * carries the node's wire messages (control/sn_wire.h) to its peers over
 * per-peer reliable ordered channels: sessions, heartbeats, sequence
 * numbers, cumulative acks, retransmission with backoff, a bounded window,
 * and a reset (down, then up: the node resyncs) when a peer falls too far
 * behind. It is the node's link (control/sn_link.h).
 *
 * Use, after rte_eal_init():
 *
 *     struct synode_dp *dp = synode_dp_create(&dpp);
 *     p.link = synode_dp_link(dp);
 *     struct synode *n = synode_start(&p);
 *     synode_dp_attach(dp, n);
 *     synode_dp_run(dp);          // on an lcore; returns after synode_dp_stop()
 *     synode_stop(n);
 *     synode_dp_destroy(dp);
 *
 * Threads: synode_dp_run() is the dataplane loop, on one lcore (the main
 * lcore, or one launched with rte_eal_remote_launch()). synode_dp_stop(),
 * synode_dp_get_stats() and synode_dp_foreach_drop() are MT-safe; the rest
 * is called by the program's main thread in the order above. The link's
 * functions run on the node's control thread (see dataplane/README.md).
 */
#ifndef SYNODE_DP_H
#define SYNODE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "synode.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default UDP port of the wire. */
#define SYNODE_DP_UDP_PORT 4370
/** Default time without a frame after which a peer is down. */
#define SYNODE_DP_DOWN_AFTER_MS 1000
/** Most peers given at start (and known at once). */
#define SYNODE_DP_MAX_PEERS 64

enum synode_dp_poll {
	SYNODE_DP_POLL_ADAPTIVE,   /**< sleep in growing steps when idle */
	SYNODE_DP_POLL_BUSY,       /**< never sleep: lowest latency, a whole core */
};

/** Most scopes with a lookup key (--lookup-key). */
#define SYNODE_DP_LOOKUP_KEYS_MAX 16

/** A scope of the lookup service (control/sn_lookup.h) that answers only
 * the frames authenticated with its key: the bytes of a key file (at least
 * 32). The other scopes answer anyone. */
struct synode_dp_lookup_key {
	const char *scope;
	const void *key;
	size_t key_len;
};

struct synode_dp_params {
	const char *node_name;       /**< this node's name, required */
	uint32_t ip;                 /**< address, host byte order, required */
	uint8_t prefix_len;          /**< 1..32 */
	uint16_t udp_port;           /**< 0: SYNODE_DP_UDP_PORT */
	const uint32_t *peers;       /**< peer addresses, host byte order */
	unsigned n_peers;
	bool broadcast;              /**< also discover peers by broadcast */
	enum synode_dp_poll poll;
	unsigned down_after_ms;      /**< 0: SYNODE_DP_DOWN_AFTER_MS */
	const uint16_t *port_ids;    /**< ethdev ports to use; NULL: every one */
	unsigned n_port_ids;
	unsigned link_wait_ms;       /**< create waits this long for the links
					  to come up (not memif's); 0: 3000 */
	/** The cluster key: the bytes of a key file (at least 32), the same
	 * on every node; every frame carries a MAC with it. Required unless
	 * @c insecure. @c key_next: a second key accepted too (a rollover). */
	const void *key;
	size_t key_len;
	const void *key_next;
	size_t key_next_len;
	bool insecure;               /**< no key: frames without a MAC */
	/** Scopes whose lookups want their key (issue 6); copied. */
	const struct synode_dp_lookup_key *lookup_keys;
	unsigned n_lookup_keys;      /**< <= SYNODE_DP_LOOKUP_KEYS_MAX */
	synode_log_fn log;           /**< NULL: stderr */
	void *log_arg;
	enum synode_log_level log_level;
};

struct synode_dp;

/** Configures and starts the ports. After rte_eal_init(). Returns NULL
 * with errno set (ENODEV: no port; EINVAL: bad parameters; ...). */
struct synode_dp *synode_dp_create(const struct synode_dp_params *p);

/** The link to put in synode_params.link. */
struct synode_link *synode_dp_link(struct synode_dp *dp);

/** Binds the dataplane to the node started with its link. Returns 0 or
 * -EINVAL. */
int synode_dp_attach(struct synode_dp *dp, struct synode *n);

/** Runs the dataplane loop on the calling thread (an lcore) until
 * synode_dp_stop(). Returns 0, or -errno if it could not run. */
int synode_dp_run(struct synode_dp *dp);

/** Makes synode_dp_run() return soon (within a loop turn: well under
 * 10 ms). MT-safe and async-signal-safe. */
void synode_dp_stop(struct synode_dp *dp);

/** Stops the ports and frees everything. After synode_dp_run() has
 * returned and after synode_stop(). */
void synode_dp_destroy(struct synode_dp *dp);

/** Replaces the cluster keys (see synode_dp_params): @p key signs from
 * now on, @p key_next (NULL: none) is accepted too. MT-safe; not for an
 * insecure dataplane. Returns 0, -EINVAL (a key under 32 bytes, or the
 * dataplane is insecure) or -ENOMEM. */
int synode_dp_set_keys(struct synode_dp *dp, const void *key, size_t key_len,
		       const void *key_next, size_t key_next_len);

/** Counters of the dataplane. */
struct synode_dp_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_dropped;        /**< not for us, malformed, unknown peer */
	uint64_t retransmits;
	uint64_t resets;            /**< sessions reset (peer too far behind) */
	uint64_t arp_replies, icmp_replies;
	uint64_t idle_sleeps;       /**< adaptive polling: times it slept */
	/* Frames dropped, by cause (each also in rx_dropped): */
	uint64_t drop_bad_mac;      /**< no MAC, unknown key id, wrong tag */
	uint64_t drop_malformed;    /**< the frame decoder's reasons */
	uint64_t drop_truncated;    /**< shorter than its header(s) or lengths */
	uint64_t drop_replayed;     /**< a counter seen, or behind the window */
	uint64_t drop_unknown_peer; /**< from an address that is no peer */
	uint64_t drop_session;      /**< for a session that is not the current one */
	/* The lookup service (issue 6): */
	uint64_t lookup_frames;     /**< lookup request frames received */
	uint64_t lookup_answers;    /**< answer frames sent */
	uint64_t lookup_malformed;  /**< frames and items that made no sense */
	uint64_t lookup_denied;     /**< items refused for want of their key,
					 and frames with a bad MAC */
};

/** Fills @p st. MT-safe. */
void synode_dp_get_stats(struct synode_dp *dp, struct synode_dp_stats *st);

/** Calls @p fn for each reason frames were dropped for, with its count
 * (those not 0): "not_our_mac", "ip_checksum", "session", "frame_truncated",
 * ... MT-safe (counts are read relaxed). */
void synode_dp_foreach_drop(struct synode_dp *dp,
			    void (*fn)(const char *reason, uint64_t count, void *arg),
			    void *arg);

/** Whether a port is a net_memif: DPDK 22.11 can crash closing one while
 * its peer is connected, so a program may prefer to _exit() instead of
 * synode_dp_destroy(). */
bool synode_dp_has_memif(const struct synode_dp *dp);

#ifdef __cplusplus
}
#endif

#endif /* SYNODE_DP_H */
