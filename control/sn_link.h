/* SPDX-License-Identifier: MIT */
/*
 * How a node talks to the other nodes: the link. The dataplane implements
 * one over DPDK (dataplane/); the tests implement one in memory
 * (tests/control/mem_link.c).
 *
 * The node speaks in wire messages (sn_wire.h), already encoded: the link
 * carries byte strings of whole messages to peers, reliably and in order
 * per peer, and tells the node when a peer comes up or goes down. What the
 * messages mean (discover, ack_sync, sync_*, remote request/reply) is the
 * node's business (control/cluster.c); the link never looks inside them
 * beyond the 4-byte message header that gives their length.
 *
 * Peers are numbered by the link, 0 .. SN_LINK_MAX_PEERS-1. A number
 * names one *session* with a peer between an up and a down: after a down
 * the link drops whatever the node still sends for it until the node has
 * seen that down (the link's own callback runs on the control thread, see
 * sn_link_post(), so it always knows what the node has seen).
 */
#ifndef SN_LINK_H
#define SN_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "synode.h"

/** Peers one node can have at once: a peer set is one 64-bit mask. */
#define SN_LINK_MAX_PEERS 64

struct synode_link_ops {
	/*
	 * Queues @p len bytes of whole wire messages for every peer whose bit
	 * is set in @p peers. Control thread; must not block; the bytes are
	 * copied. Per peer, messages arrive in the order of the calls, each
	 * once, or the session ends (a down).
	 */
	void (*send)(void *ctx, uint64_t peers, const void *msgs, size_t len);
	/* The node has finished a batch (one turn of its loop): make what was
	 * queued go. Control thread. */
	void (*flush)(void *ctx);
	/* Fills @p out for peer @p id; returns 0, or -ENOENT if the link has no
	 * such peer. Any thread (counters are read relaxed). May be NULL. */
	int (*peer_info)(void *ctx, unsigned id, struct synode_peer_info *out);
	/* Adds the link's counters (drops_* of frames) to @p st. Any thread.
	 * May be NULL. */
	void (*stats)(void *ctx, struct synode_stats *st);
};

struct synode_link {
	const struct synode_link_ops *ops;
	void *ctx;
};

/*
 * Runs @p fn(n, arg) on n's control thread, later, in the order of the
 * calls. MT-safe and wait-free for the caller (one allocation). This is
 * how a link hands everything to the node: it posts its own function,
 * which updates the link's view and then calls the sn_link_* functions
 * below. Returns 0, -ENOMEM or -ESHUTDOWN (fn is not called).
 */
int sn_link_post(struct synode *n, void (*fn)(struct synode *n, void *arg), void *arg);

/* Control thread, from a posted function: peer @p id (named @p name,
 * speaking protocol @p version) is up. The node starts discovery with it. */
void sn_link_peer_up(struct synode *n, unsigned id, const char *name, unsigned version);

/* Control thread: peer @p id is down; its session is over. The node purges
 * its data (reason remote_scope_node_down) and fails requests to it. */
void sn_link_peer_down(struct synode *n, unsigned id);

/* Control thread: whole wire messages from peer @p id, in order. Malformed
 * messages are dropped and counted; returns how many were. */
unsigned sn_link_receive(struct synode *n, unsigned id, const void *msgs, size_t len);

#endif /* SN_LINK_H */
