/* SPDX-License-Identifier: MIT */
/*
 * How a node talks to the other nodes of its scopes: everything a node
 * sends goes through one call (the link's broadcast), and everything it
 * receives comes in through sn_link_deliver(). The dataplane implements a
 * link over DPDK; tests implement one in memory (tests/control/).
 */
#ifndef SN_LINK_H
#define SN_LINK_H

#include "synode.h"

enum sn_msg_type {
	SN_MSG_SYNC_REGISTER,    /* name, pid, meta, time, reason */
	SN_MSG_SYNC_UNREGISTER,  /* name, pid, meta, reason */
	SN_MSG_SYNC_JOIN,        /* group (in name), pid, meta, time, reason */
	SN_MSG_SYNC_LEAVE,       /* group (in name), pid, meta, reason */
};

/* A message between nodes; pointers are valid during the call only. */
struct sn_msg {
	enum sn_msg_type type;
	const char *scope;
	const void *name;
	size_t name_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	struct synode_time time;
	struct synode_reason reason;
};

struct synode_link_ops {
	/*
	 * Sends @p m to the other nodes that serve m->scope, except the node
	 * named @p except (NULL: none). Called on @p from's control thread; must
	 * not block. Delivery order per pair of nodes is the order of calls.
	 */
	void (*broadcast)(void *ctx, struct synode *from, const struct sn_msg *m,
			  const char *except);
};

struct synode_link {
	const struct synode_link_ops *ops;
	void *ctx;
};

/*
 * Hands a message from node @p from to @p n; it is copied and executed on
 * n's control thread later, in order. MT-safe. Returns 0 or -ENOMEM,
 * -ESHUTDOWN, -EINVAL (malformed: too long a name or meta).
 */
int sn_link_deliver(struct synode *n, const char *from, const struct sn_msg *m);

#endif /* SN_LINK_H */
