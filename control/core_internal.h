/* SPDX-License-Identifier: MIT */
/*
 * Private to the node core (node.c, scope.c, registry.c, groups.c, proc.c):
 * the node, its scopes and how their four tables encode Syn's data.
 *
 * Tables of a scope (DESIGN.md, Tables), all written by the control thread:
 *   reg_by_name  set          name                  -> struct sn_reg_val
 *   reg_by_pid   bag          pidkey                -> name
 *   pg_by_name   ordered_set  grpkey(group) pidkey  -> struct sn_member_val
 *   pg_by_pid    ordered_set  pidkey grpkey(group)  -> (empty)
 *   reg_names    ordered_set  name                  -> (empty)
 * reg_names holds the names of reg_by_name in byte order, for the lookup
 * service's scans (lookup_serve.c): a name is added before its reg_by_name
 * object and removed after it, so a scan that finds a name reads its entry
 * from reg_by_name (one object: never torn) and skips it if gone.
 *
 * pidkey(pid) = node name, 0x00, id as 8 bytes big-endian: node names hold
 * no NUL, so keys sort as synode_pid_cmp() orders pids, and a pidkey is a
 * prefix of nothing but itself.
 * grpkey(g) = g with each 0x00 written 0x00 0xff, then 0x00 0x01: binary-safe
 * and order-preserving (a group sorts before any group it is a proper
 * prefix of), so one group's members are one prefix scan.
 */
#ifndef SN_CORE_INTERNAL_H
#define SN_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <urcu/urcu-memb.h>
#include <urcu/wfcqueue.h>

#include "rtab_bag.h"
#include "rtab_oset.h"
#include "rtab_set.h"

#include "node_internal.h"
#include "sn_link.h"
#include "sn_wire.h"
#include "sync_internal.h"

/* ------------------------------------------------------------- encodings */

#define SN_PIDKEY_MAX (SYNODE_NODE_NAME_MAX + 1 + 8)
#define SN_GRPKEY_MAX (2 * SYNODE_NAME_MAX_LIMIT + 2)

size_t sn_pidkey(const struct synode_pid *pid, unsigned char *out);
/* Decodes a pidkey at the start of @p k; returns its length or 0. */
size_t sn_pidkey_decode(const unsigned char *k, size_t len, struct synode_pid *pid);
size_t sn_grpkey(const void *group, size_t len, unsigned char *out);
/* Decodes a grpkey at the start of @p k into @p out (>= SYNODE_NAME_MAX_LIMIT
 * bytes); returns the bytes consumed, or 0; *out_len gets the group length. */
size_t sn_grpkey_decode(const unsigned char *k, size_t len, unsigned char *out,
			size_t *out_len);

/* Value of reg_by_name: fixed part, then node name, then meta. */
struct sn_reg_val {
	uint64_t id;
	struct synode_time time;
	uint32_t meta_len;
	uint8_t node_len;
	uint8_t pad[3];
	/* char node[node_len]; unsigned char meta[meta_len]; */
};

/* Value of pg_by_name: fixed part, then meta. */
struct sn_member_val {
	struct synode_time time;
	uint32_t meta_len;
	uint32_t pad;
	/* unsigned char meta[meta_len]; */
};

/* Reads a reg_by_name object into @p e (pointers into the object). */
void sn_reg_decode(const struct rtab_obj *o, struct synode_reg_entry *e);

/* ----------------------------------------------------------------- scopes */

struct sn_scope {
	char name[SYNODE_SCOPE_NAME_MAX + 1];
	struct rtab_set *reg_by_name;
	struct rtab_bag *reg_by_pid;
	struct rtab_oset *pg_by_name;
	struct rtab_oset *pg_by_pid;
	struct rtab_oset *reg_names;
	/* the subcluster: link peers that serve this scope and synced with
	 * us (discover/ack_sync). Written by the control thread. */
	_Atomic uint64_t peers;
};

/* The scope named @p name or NULL. Call with rcu_read_lock held. */
struct sn_scope *sn_scope_find(struct synode *n, const char *name);
/* The same, taking the read lock itself (scopes are never freed while the
 * node runs). Caller RCU-registered. */
struct sn_scope *sn_scope_get(struct synode *n, const char *name);
/* Every scope, in a malloc'd array of *count (the control thread, the
 * only writer, may keep it while it runs). */
struct sn_scope **sn_scopes_all(struct synode *n, size_t *count);
/* Frees every scope and its tables (the node is stopping). */
void sn_scopes_free(struct synode *n);

/* -------------------------------------------------------------- processes */

/* A local process that holds a name or a membership, or a handle. */
struct sn_proc {
	uint64_t id;
	int pidfd;              /* OS processes; -1 for handles */
	uint64_t start_time;    /* /proc/PID/stat starttime: guards pid reuse */
	uint64_t owner_conn;    /* handles: the origin that created it */
	unsigned refs;          /* names and memberships held, all scopes */
	bool is_handle;
	bool dying;             /* being purged: nothing new may stick to it */
	bool exited;            /* pidfd fired; waiting for the exit status */
	bool have_status;
	int status;             /* wait status from the proc connector */
	uint64_t exited_at_ns;  /* when pidfd fired (monotonic) */
};

/* The record of local process @p id, or NULL. Control thread. */
struct sn_proc *sn_proc_find(struct synode *n, uint64_t id);
/* Whether local process @p id is alive, for writes (not_alive). */
bool sn_proc_alive(struct synode *n, uint64_t id);
/* Takes a reference (a name or membership) on local process @p id, starting
 * its monitor if needed. Returns 0 or -SYNODE_ENOT_ALIVE, -ENOMEM. */
int sn_proc_ref(struct synode *n, uint64_t id);
/* Drops a reference; the monitor stops at zero (handles live on). */
void sn_proc_unref(struct synode *n, uint64_t id);
/* Any thread (RCU-registered): false when local process @p pid is known
 * dead (a closed handle; an OS process gone, a zombie, or its pid reused). */
bool sn_pid_maybe_alive(struct synode *n, const struct synode_pid *pid);

int sn_proc_init(struct synode *n);
void sn_proc_fini(struct synode *n);
/* Deaths whose exit status did not come in time: reason undefined. */
void sn_proc_tick(struct synode *n);

/* Removes local process @p pid from every name and group of every scope,
 * with events carrying @p reason, and tells the peers. */
void sn_proc_purge(struct synode *n, const struct synode_pid *pid,
		   const struct synode_reason *reason);

/* ------------------------------------------------------------------- node */

/* A write waiting for the control thread. */
struct sn_req {
	struct cds_wfcq_node qnode;
	int (*fn)(struct synode *n, void *args);
	void *args;
	int result;
	_Atomic uint32_t done;   /* futex word */
	bool async;              /* free args + req when done (posted work) */
	struct sn_wait wait;     /* fn may answer later (SN_PENDING) */
};

/* A peer node as the control thread sees it (cluster.c). */
struct sn_peer {
	bool up;
	unsigned version;
	char name[SYNODE_NODE_NAME_MAX + 1];
};

/* A write sent to a process's owner node, waiting for its reply. */
struct sn_remote {
	struct sn_remote *next;
	uint32_t req_id;
	unsigned peer;
	struct sn_wait *wait;
};

/* Wire messages waiting to go to the link: one batch per peer set. */
#define SN_OUT_CAP (64 * 1024)

struct sn_listener {
	synode_event_fn fn;
	void *arg;
	bool removed;
};

struct synode {
	/* read-mostly */
	char name[SYNODE_NODE_NAME_MAX + 1];
	size_t name_len;
	struct synode_params p;
	size_t max_name_len, max_meta_len;
	struct rtab_set *scopes;            /* name -> struct sn_scope * */
	struct sn_origin embedder;
	const struct synode_link *link;

	/* control thread */
	pthread_t thread;
	pid_t thread_tid;
	int epfd;
	int wakefd;                          /* eventfd: requests queued */
	_Atomic bool stopping;
	_Atomic bool sleeping;               /* the control thread may block */
	struct cds_wfcq_head qhead;
	struct cds_wfcq_tail qtail;
	struct sn_hlc hlc;
	struct rtab_set *procs;              /* id -> struct sn_proc * */
	uint64_t next_handle;
	uint64_t next_conn;
	int cnfd;                            /* proc connector, or -1 */
	struct sn_listener *listeners;
	unsigned n_listeners, cap_listeners;
	unsigned in_dispatch;
	struct sn_ctl_server *ctl;
	struct sn_fdwatch **watches;         /* fd -> callback */
	unsigned n_watches, cap_watches;
	struct sn_req *cur_req;              /* the request being executed */

	/* peers (cluster.c), control thread */
	struct sn_peer peers[SN_LINK_MAX_PEERS];
	struct sn_remote *remotes;           /* writes waiting for their owner */
	uint32_t next_req_id;
	uint64_t out_mask;                   /* peers of the batch in out */
	size_t out_len;
	unsigned char *out;                  /* SN_OUT_CAP bytes */
	unsigned char *msgbuf;               /* SN_WIRE_MSG_MAX bytes */

	/* counters (MT-safe reads) */
	_Atomic uint64_t st_requests, st_events, st_monitors, st_clients;
	_Atomic uint64_t st_client_errors, st_subscribers_dropped;
	_Atomic uint64_t st_peer_msgs, st_peer_bad, st_remote_requests;
	_Atomic uint64_t st_peer_unknown_scope;
};

/* Whether the caller is the control thread. */
bool sn_on_control_thread(const struct synode *n);

/* Runs @p fn(n, args) on the control thread and returns its result (inline
 * when already there). Any thread; -ESHUTDOWN once the node stops. */
int sn_call(struct synode *n, int (*fn)(struct synode *, void *), void *args);

/* Fires an event to the embedding callback and the listeners. */
void sn_emit(struct synode *n, enum synode_event_kind kind, const struct sn_scope *sc,
	     const void *name, size_t name_len, const struct synode_pid *pid,
	     const void *meta, size_t meta_len, const void *prev, size_t prev_len,
	     const struct synode_reason *reason);

/* Sends @p m to the scope's subcluster (but @p except, a node name, may be
 * NULL): the one way out to peers. */
void sn_peer_send(struct synode *n, const struct sn_scope *sc, const struct sn_msg *m,
		  const char *except);
/* Sends @p m to the peers of @p mask (cluster.c). */
void sn_peer_send_mask(struct synode *n, uint64_t mask, const struct sn_msg *m);
/* Builds a message and sends it with sn_peer_send(); @p t may be NULL. */
void sn_broadcast(struct synode *n, enum sn_msg_type type, const struct sn_scope *sc,
		  const void *name, size_t len, const struct synode_pid *pid,
		  const void *meta, size_t meta_len, const struct synode_time *t,
		  const struct synode_reason *reason, const char *except);

/* A stamp for a local write. */
struct synode_time sn_now(struct synode *n);

static inline bool
sn_pid_is_local(const struct synode *n, const struct synode_pid *pid)
{
	return strcmp(pid->node, n->name) == 0;
}

/* Strict mode and ownership: may origin @p o write for @p pid? */
bool sn_origin_owns(struct synode *n, const struct sn_origin *o,
		    const struct synode_pid *pid);

/* ------------------------------------------------- cluster (cluster.c) */

int sn_cluster_init(struct synode *n);
void sn_cluster_fini(struct synode *n);
/* The node stops: every write waiting for a peer fails with -ESHUTDOWN. */
void sn_cluster_stop(struct synode *n);
/* A scope was added: discover it with every peer that is up. */
void sn_cluster_scope_added(struct synode *n, struct sn_scope *sc);

/*
 * Sends a write for a process owned by another node to that node (Syn's
 * *_on_node): returns SN_PENDING and calls o->wait->done later with the
 * owner's answer (after the owner's sync message for it, so the caller's
 * tables have it), or returns -SYNODE_EUNREACHABLE (no session with the
 * owner in this scope), -EDEADLK (no way to wait: called inline on the
 * control thread), -ENOMEM.
 */
int sn_remote_write(struct synode *n, const struct sn_origin *o, enum sn_req_op op,
		    const struct sn_scope *sc, const void *name, size_t name_len,
		    const struct synode_pid *pid, const void *meta, size_t meta_len);

/* The owner side of a remote write: checks that @p pid still holds
 * @p name (update, unregister: else race_condition / undefined). */
int sn_reg_remote_exec(struct synode *n, const struct sn_origin *o, enum sn_req_op op,
		       const char *scope, const void *name, size_t name_len,
		       const struct synode_pid *pid, const void *meta, size_t meta_len);

/* Removes everything node @p node owns in @p sc (it went down). */
void sn_reg_purge_node(struct synode *n, struct sn_scope *sc, const char *node,
		       const struct synode_reason *reason);
void sn_pg_purge_node(struct synode *n, struct sn_scope *sc, const char *node,
		      const struct synode_reason *reason);
/* Sends this node's own data of @p sc to @p peer (ack_sync). */
void sn_reg_send_local(struct synode *n, struct sn_scope *sc, uint64_t mask);
void sn_pg_send_local(struct synode *n, struct sn_scope *sc, uint64_t mask);

/* Registry and groups, control thread: the writes that peers send. */
void sn_reg_sync_register(struct synode *n, struct sn_scope *sc, const struct sn_msg *m);
void sn_reg_sync_unregister(struct synode *n, struct sn_scope *sc, const struct sn_msg *m);
void sn_pg_sync_join(struct synode *n, struct sn_scope *sc, const struct sn_msg *m);
void sn_pg_sync_leave(struct synode *n, struct sn_scope *sc, const struct sn_msg *m);

/* Removes every name and membership of local @p pid in @p sc. */
void sn_reg_purge_pid(struct synode *n, struct sn_scope *sc, const struct synode_pid *pid,
		      const struct synode_reason *reason);
void sn_pg_purge_pid(struct synode *n, struct sn_scope *sc, const struct synode_pid *pid,
		     const struct synode_reason *reason);

/* Checks of names, meta and pids (names against the node's limits). */
int sn_check_name(const struct synode *n, const void *name, size_t len);
int sn_check_pid(const struct synode_pid *pid);
int sn_check_meta(const struct synode *n, const void *meta, size_t len);

#endif /* SN_CORE_INTERNAL_H */
