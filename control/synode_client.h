/* SPDX-License-Identifier: MIT */
/*
 * synode client library: the embedding API of synode.h, over a node's
 * control socket, for programs on the node's host (synodectl is one).
 *
 * Every function mirrors its synode_* namesake, with a connection
 * (struct synode_client *) in place of the node. The shared types and
 * helpers (struct synode_pid, struct synode_event, enum synode_error,
 * synode_strerror(), synode_pid_format()/synode_pid_parse(), ...) are
 * synode.h's and are linked into this library too. It needs neither
 * liburcu nor rcu_tables: no RCU registration is asked of the caller.
 *
 * Threads: a connection is NOT MT-safe. Use one connection per thread, or
 * serialise the calls on a connection yourself. Distinct connections are
 * independent. Callbacks run on the calling thread, inside the call; they
 * must not call functions of the same connection.
 *
 * Calls block until the node answers, waiting at most the connection's
 * call timeout for each frame of the answer (synode_client_set_timeout();
 * by default the connect timeout, or none if that was negative): a long
 * listing may take longer in all, as long as the node keeps sending.
 *
 * Errors: functions return 0 (or a count) on success, and on failure a
 * negative value, as in synode.h: -SYNODE_E* for Syn's errors, -EINVAL,
 * -ENAMETOOLONG, -EMSGSIZE, -ENOMEM, -ESHUTDOWN (the node is stopping),
 * and for the connection itself:
 *   -ECONNREFUSED, -ENOENT   no node serves the socket path (connect)
 *   -EACCES                  the node refused this user (connect)
 *   -ECONNRESET              the node closed the connection, or an earlier
 *                            call on it failed mid-answer: the connection
 *                            is unusable from then on (close it)
 *   -ETIMEDOUT               the node did not answer in time (the
 *                            connection is unusable from then on)
 *   -EPROTO                  the node sent something this library does not
 *                            understand (unusable from then on)
 *   -EPROTONOSUPPORT         the node speaks no protocol version we speak
 *   -EBUSY                   the connection is watching (see below)
 * synode_strerror() names every one of them.
 *
 * Handles (synode_client_handle_new()) belong to the connection that made
 * them: when it closes, or the client process dies, they die with reason
 * "normal" and their registrations and memberships disappear.
 */
#ifndef SYNODE_CLIENT_H
#define SYNODE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synode.h"

#ifdef __cplusplus
extern "C" {
#endif

struct synode_client;

/**
 * Connects to the node serving the control socket @p path (for the
 * daemon, by default "/run/synode/NAME.sock") and agrees a protocol
 * version with it. Waits at most @p timeout_ms for both (negative: no
 * limit); @p timeout_ms is also the connection's first call timeout.
 * Returns NULL with errno set: EINVAL (path NULL, empty or too long for a
 * socket address), ENOENT or ECONNREFUSED (no node there), EACCES (the
 * node refused this user, or the file's permissions did), ETIMEDOUT,
 * EPROTONOSUPPORT (no common protocol version), EPROTO, ENOMEM.
 */
struct synode_client *synode_client_connect(const char *path, int timeout_ms);

/** Closes the connection (NULL: nothing); its handles die. */
void synode_client_close(struct synode_client *c);

/** Sets the time each later call may wait for the node, in ms (negative:
 * no limit). */
void synode_client_set_timeout(struct synode_client *c, int timeout_ms);

/** The node's name, as learnt at connect. Valid until close. */
const char *synode_client_node_name(const struct synode_client *c);

/** The node's limits of names and meta (its synode_params), learnt at
 * connect. */
size_t synode_client_max_name_len(const struct synode_client *c);
size_t synode_client_max_meta_len(const struct synode_client *c);

/** @p pid for the Linux process @p os_pid of the node's host (not
 * checked), as synode_pid_os(). */
void synode_client_pid_os(const struct synode_client *c, pid_t os_pid,
			  struct synode_pid *pid);

/* ------------------------------------------------------------------ status */

/** A peer node, valid during the callback. */
struct synode_client_peer {
	const char *node;    /**< peer node name ("" until it said its name) */
	const char *scope;   /**< nodes: the scope asked; status: "" */
	const char *state;   /**< "connecting", "up", "down" (synode_peer_state_name) */
	const char *address; /**< "A.B.C.D:PORT", or "" if unknown */
	/* The link's figures for the peer (struct synode_peer_info). */
	unsigned version;    /**< protocol version spoken; 0 if none yet */
	uint64_t rtt_ns;     /**< smoothed round-trip time; 0 if unknown */
	uint64_t frames_tx, frames_rx;
	uint64_t bytes_tx, bytes_rx;
	uint64_t retransmits; /**< frames sent again */
	uint64_t drops;      /**< frames from it dropped (bad, late, ...) */
	/** The scopes both serve, in the node's order (status), or the scope
	 * asked (nodes). */
	const char *const *scopes;
	size_t n_scopes;
};

/**
 * Reads the node's name (into @p node, SYNODE_NODE_NAME_MAX + 1 bytes; may
 * be NULL) and counters (into @p stats; may be NULL), calls @p scope_fn
 * (may be NULL) for each scope served and @p peer_fn (may be NULL) once for
 * each peer the node's link knows (a node without one has none), with the
 * scopes it shares with the node. Returns 0, -ENOMEM, or a connection
 * error; callbacks may have run before a failure.
 */
int synode_client_status(struct synode_client *c, char *node,
			 struct synode_stats *stats,
			 void (*scope_fn)(const char *scope, void *arg),
			 void (*peer_fn)(const struct synode_client_peer *p, void *arg),
			 void *arg);

/** Calls @p fn for each of the other nodes of @p scope's subcluster (those
 * that serve it and have synced with this node); returns their number,
 * -SYNODE_EINVALID_SCOPE, or a connection error. */
long synode_client_nodes(struct synode_client *c, const char *scope,
			 void (*fn)(const struct synode_client_peer *p, void *arg),
			 void *arg);

/* ------------------------------------------------------------------ scopes */

/** As synode_add_scope(): 0 (also if served already), -EINVAL,
 * -ENAMETOOLONG, -ENOMEM, or a connection error. */
int synode_client_add_scope(struct synode_client *c, const char *scope);

/** As synode_scopes(): calls @p fn (may be NULL) for each scope served;
 * returns their number or a connection error. */
int synode_client_scopes(struct synode_client *c,
			 void (*fn)(const char *scope, void *arg), void *arg);

/* --------------------------------------------------------------- processes */

/** A new handle process owned by the node and by this connection: it dies
 * when closed, or when the connection goes away. Returns 0 or -ENOMEM, or
 * a connection error. */
int synode_client_handle_new(struct synode_client *c, struct synode_pid *pid);

/** Closes a handle of this connection (it dies with reason "normal").
 * Returns 0 or -SYNODE_EUNDEFINED (not a live handle), -SYNODE_ENOT_SELF
 * (a handle of another connection, or of the embedding program), or a
 * connection error. */
int synode_client_handle_close(struct synode_client *c, const struct synode_pid *pid);

/* ---------------------------------------------------------------- registry */

/** As synode_register(). Names over SYNODE_NAME_MAX_LIMIT (-ENAMETOOLONG)
 * and meta over SYNODE_META_MAX_LIMIT (-EMSGSIZE) are refused before
 * sending; the node applies its own, lower limits. */
int synode_client_register(struct synode_client *c, const char *scope,
			   const void *name, size_t name_len,
			   const struct synode_pid *pid,
			   const void *meta, size_t meta_len);

/** As synode_update(). */
int synode_client_update(struct synode_client *c, const char *scope,
			 const void *name, size_t name_len,
			 const void *meta, size_t meta_len);

/** As synode_unregister(). */
int synode_client_unregister(struct synode_client *c, const char *scope,
			     const void *name, size_t name_len);

/**
 * As synode_lookup(): fills @p pid (may be NULL), copies up to *meta_len
 * bytes of meta into @p meta (may be NULL; then meta_len may be NULL too)
 * and sets *meta_len to the meta's full length. Returns 0,
 * -SYNODE_EUNDEFINED, -SYNODE_EINVALID_SCOPE, or a connection error.
 */
int synode_client_lookup(struct synode_client *c, const char *scope,
			 const void *name, size_t name_len,
			 struct synode_pid *pid, void *meta, size_t *meta_len);

/**
 * As synode_registry_foreach(): calls @p fn (may be NULL) for each
 * registration (of node @p node only, if not NULL; the node's own name for
 * the local ones), streamed as the node reads them. Returns their number,
 * -SYNODE_EINVALID_SCOPE, or a connection error (some callbacks may have
 * run). The entries are a snapshot per entry, not of the whole table.
 */
long synode_client_registry_foreach(struct synode_client *c, const char *scope,
				    const char *node,
				    void (*fn)(const struct synode_reg_entry *e, void *arg),
				    void *arg);

/** As synode_registry_count(). */
long synode_client_registry_count(struct synode_client *c, const char *scope,
				  const char *node);

/* ------------------------------------------------------------------ groups */

/** As synode_join(). */
int synode_client_join(struct synode_client *c, const char *scope,
		       const void *group, size_t group_len,
		       const struct synode_pid *pid, const void *meta, size_t meta_len);

/** As synode_leave(). */
int synode_client_leave(struct synode_client *c, const char *scope,
			const void *group, size_t group_len,
			const struct synode_pid *pid);

/** As synode_update_member(). */
int synode_client_update_member(struct synode_client *c, const char *scope,
				const void *group, size_t group_len,
				const struct synode_pid *pid,
				const void *meta, size_t meta_len);

/** As synode_members(): @p fn (may be NULL) for each member, ordered by
 * pid (of node @p node only, if not NULL). Returns their number,
 * -SYNODE_EINVALID_SCOPE, or a connection error. */
long synode_client_members(struct synode_client *c, const char *scope,
			   const void *group, size_t group_len, const char *node,
			   void (*fn)(const struct synode_member *m, void *arg),
			   void *arg);

/** As synode_is_member(): 1, 0, -SYNODE_EINVALID_SCOPE, or a connection
 * error. */
int synode_client_is_member(struct synode_client *c, const char *scope,
			    const void *group, size_t group_len,
			    const struct synode_pid *pid);

/** As synode_member_count(). */
long synode_client_member_count(struct synode_client *c, const char *scope,
				const void *group, size_t group_len, const char *node);

/** As synode_group_names(): @p fn (may be NULL) for each group name with
 * a member (of node @p node only, if not NULL), in byte order. */
long synode_client_group_names(struct synode_client *c, const char *scope,
			       const char *node,
			       void (*fn)(const void *group, size_t len, void *arg),
			       void *arg);

/** As synode_group_count(). */
long synode_client_group_count(struct synode_client *c, const char *scope,
			       const char *node);

/* ------------------------------------------------------------------- watch */

/**
 * Subscribes this connection to the events of @p scope: all of them, or
 * only those of registry name @p name (if not NULL), or only those of
 * group @p group (if not NULL); not both (-EINVAL). Returns 0,
 * -SYNODE_EINVALID_SCOPE, or a connection error.
 *
 * From then on the connection only delivers events: every other call on
 * it, and a second watch, returns -EBUSY. Read them with
 * synode_client_next_event() promptly: the node queues at most a few
 * thousand events per watcher, and drops a watcher that falls further
 * behind (next_event then returns -ECONNRESET; open a new connection).
 */
int synode_client_watch(struct synode_client *c, const char *scope,
			const void *name, size_t name_len,
			const void *group, size_t group_len);

/**
 * Waits at most @p timeout_ms (negative: no limit; 0: poll) for the next
 * event of the subscription and calls @p fn with it (pointers valid during
 * the call only). Returns 1 if an event was delivered, 0 on timeout,
 * -EINVAL (not watching), -ECONNRESET (node gone, or this watcher dropped
 * for a full queue), -EPROTO.
 */
int synode_client_next_event(struct synode_client *c,
			     void (*fn)(const struct synode_event *ev, void *arg),
			     void *arg, int timeout_ms);

/** The connection's socket, for poll()/epoll in an event loop. The
 * library reads ahead: call synode_client_next_event() with timeout 0
 * until it returns 0 before waiting for the socket again (it may return 0
 * at once if only part of an event has arrived). Do not read or write it. */
int synode_client_fd(const struct synode_client *c);

#ifdef __cplusplus
}
#endif

#endif /* SYNODE_CLIENT_H */
