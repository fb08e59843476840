/* SPDX-License-Identifier: MIT */
/*
 * Private to control/: the hybrid logical clock and the rules by which a
 * node merges a registration it hears from a peer (Syn's
 * handle_registry_sync and resolve_conflict), as pure functions so that
 * every branch is tested on its own (tests/control/test_sync.c).
 */
#ifndef SN_SYNC_INTERNAL_H
#define SN_SYNC_INTERNAL_H

#include <stdbool.h>

#include "synode.h"

/* ------------------------------------------------- hybrid logical clock */

/*
 * Kulkarni et al., "Logical Physical Clocks" (2014): wall is the largest
 * physical time seen, logical orders events within one wall value. A
 * stamp is never older than one the node gave or received before, even
 * when the host clock steps back. Control thread only.
 */
struct sn_hlc {
	struct synode_time last;
};

/* <0, 0, >0 as @p a is older, equal, newer than @p b. */
int sn_time_cmp(const struct synode_time *a, const struct synode_time *b);

/* A stamp for a local event, given the physical time @p phys_ns. */
struct synode_time sn_hlc_now(struct sn_hlc *c, uint64_t phys_ns);

/* Merges a stamp received from a peer, given the physical time now. */
void sn_hlc_recv(struct sn_hlc *c, const struct synode_time *remote, uint64_t phys_ns);

/* Physical time: CLOCK_REALTIME in ns. */
uint64_t sn_phys_now(void);

/* ----------------------------------------------- registry sync decisions */

/* What a node does with an incoming sync_register for a name. */
enum sn_sync_action {
	SN_SYNC_ADD,            /* name free here: add it */
	SN_SYNC_REFRESH,        /* same pid: take the meta and time */
	SN_SYNC_RESOLVE,        /* held by a process of this node: resolve */
	SN_SYNC_REPLACE,        /* held by a third node's older entry: replace */
	SN_SYNC_IGNORE,         /* incoming is older: a late message, drop */
};

/*
 * @p have: the entry this node holds for the name, or NULL;
 * @p have_local: its process belongs to this node.
 */
enum sn_sync_action sn_sync_classify(const struct synode_conflict *have, bool have_local,
				     const struct synode_conflict *incoming);

/* Which side a conflict keeps. */
enum sn_keep {
	SN_KEEP_LOCAL,          /* the entry this node owns */
	SN_KEEP_REMOTE,         /* the incoming entry */
	SN_KEEP_NEITHER,        /* free the name */
};

/*
 * Resolves a conflict between the local entry and the incoming one with
 * @p fn (NULL: the newer time wins, a tie goes to the higher pid).
 */
enum sn_keep sn_resolve(synode_resolve_fn fn, void *arg, const char *scope,
			const void *name, size_t name_len,
			const struct synode_conflict *local,
			const struct synode_conflict *remote);

#endif /* SN_SYNC_INTERNAL_H */
