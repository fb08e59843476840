/* SPDX-License-Identifier: MIT */
/*
 * synode: the embedding API of a registry node.
 *
 * A node keeps, for every scope it serves, a registry (names -> process)
 * and process groups, with the semantics of Erlang's Syn 3.4. Start one
 * inside a program with synode_start(); it runs a control thread of its
 * own that executes every write, one at a time, and fires the events.
 *
 * Threads:
 *   - Write functions (register, update, unregister, join, leave,
 *     update_member, add_scope, handles) are MT-safe: called from any
 *     thread, they run on the control thread and return its answer. Called
 *     from an event callback (on the control thread) they run inline.
 *   - Read functions (lookup, members, counts, names, foreach) are MT-safe
 *     and wait-free; the calling thread must be RCU-registered
 *     (urcu_memb_register_thread(), the default flavour of rcu_tables) and
 *     must NOT hold an RCU read lock of its own across a write call. They
 *     read this node's tables directly, never the control thread.
 *
 * Processes of other nodes: a write for a process owned by another node
 * (register, update, unregister, join, leave, update_member) is executed
 * by its owner, as in Syn: the call waits for the owner's answer, and when
 * it returns 0 this node's tables have the write already. It fails with
 * -SYNODE_EUNREACHABLE when the owner is not in the scope's subcluster
 * (down, split away, not serving the scope), and with -EDEADLK when called
 * from an event callback (the control thread cannot wait for a peer).
 *
 * Errors: functions return 0 (or a count) on success, and on failure a
 * negative value: -SYNODE_E* for Syn's errors (synode_strerror() names
 * them as Syn does: "taken", "not_alive", ...), or -errno: -EINVAL (bad
 * argument, empty name), -ENAMETOOLONG (name over the node's limit),
 * -EMSGSIZE (meta over the node's limit), -ENOMEM, -ESHUTDOWN (the node is
 * stopping).
 */
#ifndef SYNODE_H
#define SYNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest node name, in bytes. */
#define SYNODE_NODE_NAME_MAX 63
/** Longest scope name, in bytes. */
#define SYNODE_SCOPE_NAME_MAX 63
/** Default and highest limits of names (registry names, group names). */
#define SYNODE_NAME_MAX_DEFAULT 255
#define SYNODE_NAME_MAX_LIMIT 1000
/** Default and highest limits of meta. */
#define SYNODE_META_MAX_DEFAULT 4096
#define SYNODE_META_MAX_LIMIT 60000
/** Local ids at and above this are handles; below, OS pids. */
#define SYNODE_HANDLE_ID_BASE (UINT64_C(1) << 32)

/** Syn's errors, returned negated. */
enum synode_error {
	SYNODE_EUNDEFINED = 1000,  /**< "undefined": no such name / entry */
	SYNODE_ETAKEN,             /**< "taken": name held by another process */
	SYNODE_ENOT_ALIVE,         /**< "not_alive": the process is not alive */
	SYNODE_ENOT_SELF,          /**< "not_self": strict mode, not the caller's */
	SYNODE_ENOT_IN_GROUP,      /**< "not_in_group" */
	SYNODE_ERACE_CONDITION,    /**< "race_condition": name moved meanwhile */
	SYNODE_EINVALID_SCOPE,     /**< "invalid_scope": the node does not serve it */
	SYNODE_EUNREACHABLE,       /**< "unreachable": the owner node cannot be reached */
	SYNODE_ERROR_END
};

/** Name of an error code (negative or positive): Syn's word for Syn's
 * errors ("taken"), strerror()'s text otherwise. Never NULL. */
const char *synode_strerror(int err);

/**
 * A process: an id local to its owner node. Text form "NODE/ID".
 * id < SYNODE_HANDLE_ID_BASE: the Linux process with that pid on NODE's
 * host. id >= SYNODE_HANDLE_ID_BASE: a handle (see synode_handle_new()).
 */
struct synode_pid {
	uint64_t id;
	char node[SYNODE_NODE_NAME_MAX + 1]; /**< owner, NUL-terminated */
};

/** Formats "NODE/ID" into @p buf; returns its length, or -ENOSPC. */
int synode_pid_format(const struct synode_pid *pid, char *buf, size_t size);
/** Parses "NODE/ID". Returns 0 or -EINVAL. */
int synode_pid_parse(const char *text, struct synode_pid *pid);
/** Orders pids (node name, then id): <0, 0, >0. Members come in this order. */
int synode_pid_cmp(const struct synode_pid *a, const struct synode_pid *b);

/** Hybrid logical time of a registration or membership. */
struct synode_time {
	uint64_t wall_ns;   /**< wall clock, ns since the epoch */
	uint32_t logical;   /**< tie-breaker within one wall_ns */
};

/** Why an event happened. */
enum synode_reason_kind {
	SYNODE_REASON_NORMAL,         /**< "normal": an API call; a handle closed */
	SYNODE_REASON_EXIT,           /**< "exit:CODE": the process exited */
	SYNODE_REASON_SIGNAL,         /**< "signal:NAME": killed by a signal */
	SYNODE_REASON_NODE_UP,        /**< "remote_scope_node_up" */
	SYNODE_REASON_NODE_DOWN,      /**< "remote_scope_node_down" */
	SYNODE_REASON_CONFLICT,       /**< "conflict_resolution" */
	SYNODE_REASON_UNDEFINED,      /**< "undefined": exit reason unknown */
};

struct synode_reason {
	enum synode_reason_kind kind;
	int code;   /**< exit code, or signal number */
};

/** Formats a reason as synodectl prints it ("signal:KILL"); returns length. */
int synode_reason_format(const struct synode_reason *r, char *buf, size_t size);

enum synode_event_kind {
	SYNODE_EV_REGISTERED,        /**< "registered" */
	SYNODE_EV_REGISTRY_UPDATED,  /**< "registry_updated" (prev_meta set) */
	SYNODE_EV_UNREGISTERED,      /**< "unregistered" */
	SYNODE_EV_JOINED,            /**< "joined" */
	SYNODE_EV_MEMBER_UPDATED,    /**< "member_updated" (prev_meta set) */
	SYNODE_EV_LEFT,              /**< "left" */
};

/** Event name as synodectl prints it. */
const char *synode_event_name(enum synode_event_kind kind);

/** An event; pointers are valid during the callback only. */
struct synode_event {
	enum synode_event_kind kind;
	const char *scope;
	const void *name;        /**< registry name, or group name */
	size_t name_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	const void *prev_meta;   /**< the meta before an update; else NULL */
	size_t prev_meta_len;
	struct synode_reason reason;
};

/** Event callback, run on the control thread, on every node of the
 * scope's subcluster. It must not block; its return value is ignored. */
typedef void (*synode_event_fn)(const struct synode_event *ev, void *arg);

/** One side of a registry conflict. */
struct synode_conflict {
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	struct synode_time time;
};

/**
 * Custom conflict resolver, run on the control thread of the two owner
 * nodes: returns 0 to keep @p a, 1 to keep @p b, -1 to keep neither (the
 * name is freed). Must be deterministic: both owners must agree.
 */
typedef int (*synode_resolve_fn)(const char *scope, const void *name, size_t name_len,
				 const struct synode_conflict *a,
				 const struct synode_conflict *b, void *arg);

/** Log levels (synode --log-level). */
enum synode_log_level {
	SYNODE_LOG_ERROR,
	SYNODE_LOG_WARNING,
	SYNODE_LOG_NOTICE,
	SYNODE_LOG_INFO,
	SYNODE_LOG_DEBUG,
};

/** Log sink; default: stderr, one line per message. */
typedef void (*synode_log_fn)(enum synode_log_level level, const char *msg, void *arg);

struct synode_link; /* the peer link (dataplane); NULL: a single node */

/** Parameters of synode_start(). Zero means the default. */
struct synode_params {
	const char *name;               /**< node name, required */
	const char *const *scopes;      /**< scopes served from the start */
	unsigned n_scopes;
	bool strict;                    /**< strict mode */
	size_t max_name_len;            /**< default SYNODE_NAME_MAX_DEFAULT */
	size_t max_meta_len;            /**< default SYNODE_META_MAX_DEFAULT */
	synode_event_fn on_event;       /**< may be NULL */
	void *event_arg;
	synode_resolve_fn resolver;     /**< NULL: newer time wins, ties higher pid */
	void *resolver_arg;
	int conflict_signal;            /**< signal sent to a local loser; 0: none */
	const char *control_path;       /**< control socket to serve; NULL: none */
	enum synode_log_level log_level;/**< default SYNODE_LOG_NOTICE */
	synode_log_fn log;              /**< NULL: stderr */
	void *log_arg;
	struct synode_link *link;       /**< peers; NULL: a single node */
};

struct synode;

/** Starts a node and its control thread. Returns NULL with errno set
 * (EINVAL, ENOMEM, EADDRINUSE for a control socket in use, ...). */
struct synode *synode_start(const struct synode_params *params);

/** Stops the control thread and frees the node (NULL: nothing). Must NOT
 * be called from the control thread or within an RCU read-side section. */
void synode_stop(struct synode *n);

/** This node's name. Any thread. */
const char *synode_name(const struct synode *n);

/* ------------------------------------------------------------------ scopes */

/** Serves @p scope from now on (0 if it already does). MT-safe. */
int synode_add_scope(struct synode *n, const char *scope);

/** Calls @p fn for each scope served; returns the number of scopes. */
int synode_scopes(struct synode *n, void (*fn)(const char *scope, void *arg), void *arg);

/* --------------------------------------------------------------- processes */

/** A new handle process owned by this node, alive until closed. MT-safe. */
int synode_handle_new(struct synode *n, struct synode_pid *pid);

/** Closes a handle: it dies with reason "normal" and leaves everything.
 * Returns 0 or -SYNODE_EUNDEFINED (not a live handle of this node). */
int synode_handle_close(struct synode *n, const struct synode_pid *pid);

/** @p pid for the Linux process @p os_pid of this host (not checked). */
void synode_pid_os(const struct synode *n, pid_t os_pid, struct synode_pid *pid);

/* ---------------------------------------------------------------- registry */

/**
 * Registers @p name for @p pid in @p scope; registering the same pid again
 * updates its meta. Returns 0, or -SYNODE_ETAKEN, -SYNODE_ENOT_ALIVE,
 * -SYNODE_ENOT_SELF, -SYNODE_EINVALID_SCOPE, -EINVAL, -ENAMETOOLONG,
 * -EMSGSIZE. MT-safe.
 */
int synode_register(struct synode *n, const char *scope, const void *name,
		    size_t name_len, const struct synode_pid *pid,
		    const void *meta, size_t meta_len);

/** Replaces the meta of @p name on its owner. Returns 0, -SYNODE_EUNDEFINED,
 * -SYNODE_ENOT_SELF, -SYNODE_EINVALID_SCOPE, ... MT-safe. */
int synode_update(struct synode *n, const char *scope, const void *name,
		  size_t name_len, const void *meta, size_t meta_len);

/** Unregisters @p name. Returns 0, -SYNODE_EUNDEFINED,
 * -SYNODE_ERACE_CONDITION, -SYNODE_EINVALID_SCOPE. MT-safe. */
int synode_unregister(struct synode *n, const char *scope, const void *name,
		      size_t name_len);

/**
 * Looks @p name up. On success fills @p pid (may be NULL) and copies up to
 * *meta_len bytes of meta into @p meta (may be NULL), setting *meta_len to
 * the meta's full length. Returns 0, -SYNODE_EUNDEFINED (also when the
 * process is local and dead), -SYNODE_EINVALID_SCOPE.
 * Caller thread must be RCU-registered; wait-free.
 */
int synode_lookup(struct synode *n, const char *scope, const void *name,
		  size_t name_len, struct synode_pid *pid, void *meta, size_t *meta_len);

/** A registry entry, valid during the callback. */
struct synode_reg_entry {
	const void *name;
	size_t name_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	struct synode_time time;
};

/** Calls @p fn for each registration (of @p node only, if not NULL);
 * returns their number or -SYNODE_EINVALID_SCOPE. Caller RCU-registered. */
long synode_registry_foreach(struct synode *n, const char *scope, const char *node,
			     void (*fn)(const struct synode_reg_entry *e, void *arg),
			     void *arg);

/** Number of registrations (of @p node only, if not NULL; pass
 * synode_name(n) for the local count), or -SYNODE_EINVALID_SCOPE. */
long synode_registry_count(struct synode *n, const char *scope, const char *node);

/* ------------------------------------------------------------------ groups */

/** Joins @p pid to @p group; joining again updates the meta. Returns 0,
 * -SYNODE_ENOT_ALIVE, -SYNODE_ENOT_SELF, -SYNODE_EINVALID_SCOPE, ... */
int synode_join(struct synode *n, const char *scope, const void *group,
		size_t group_len, const struct synode_pid *pid,
		const void *meta, size_t meta_len);

/** Returns 0, -SYNODE_ENOT_IN_GROUP, -SYNODE_EINVALID_SCOPE, ... MT-safe. */
int synode_leave(struct synode *n, const char *scope, const void *group,
		 size_t group_len, const struct synode_pid *pid);

/** Replaces a member's meta on its owner. Returns 0, -SYNODE_EUNDEFINED
 * (not a member), -SYNODE_ENOT_SELF, -SYNODE_EINVALID_SCOPE. MT-safe. */
int synode_update_member(struct synode *n, const char *scope, const void *group,
			 size_t group_len, const struct synode_pid *pid,
			 const void *meta, size_t meta_len);

/** A member, valid during the callback. */
struct synode_member {
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	struct synode_time time;
};

/** Calls @p fn for each member of @p group ordered by pid (of @p node only,
 * if not NULL); returns their number, or -SYNODE_EINVALID_SCOPE.
 * Caller RCU-registered. */
long synode_members(struct synode *n, const char *scope, const void *group,
		    size_t group_len, const char *node,
		    void (*fn)(const struct synode_member *m, void *arg), void *arg);

/** 1 if @p pid is a member of @p group, 0 if not, or -SYNODE_EINVALID_SCOPE. */
int synode_is_member(struct synode *n, const char *scope, const void *group,
		     size_t group_len, const struct synode_pid *pid);

/** Members of @p group (of @p node only, if not NULL), or -SYNODE_EINVALID_SCOPE. */
long synode_member_count(struct synode *n, const char *scope, const void *group,
			 size_t group_len, const char *node);

/** Calls @p fn for each group name with a member (of @p node only, if not
 * NULL), in byte order; returns their number or -SYNODE_EINVALID_SCOPE. */
long synode_group_names(struct synode *n, const char *scope, const char *node,
			void (*fn)(const void *group, size_t len, void *arg), void *arg);

/** Number of groups (with a member of @p node, if not NULL). */
long synode_group_count(struct synode *n, const char *scope, const char *node);

/* ----------------------------------------------------------------- batches */

/** Which write an entry of a batch is (the function of the same name). */
enum synode_op_kind {
	SYNODE_OP_REGISTER,
	SYNODE_OP_UPDATE,          /**< pid unused */
	SYNODE_OP_UNREGISTER,      /**< pid and meta unused */
	SYNODE_OP_JOIN,
	SYNODE_OP_LEAVE,           /**< meta unused */
	SYNODE_OP_UPDATE_MEMBER,
};

/** One write of a batch. */
struct synode_op {
	enum synode_op_kind kind;
	const char *scope;
	const void *name;          /**< registry name, or group */
	size_t name_len;
	struct synode_pid pid;
	const void *meta;
	size_t meta_len;
	int result;                /**< out: what the single call returns */
};

/**
 * Runs the @p count writes of @p ops in order, as the single calls one
 * after the other would, each result in ops[i].result; but all in one turn
 * of the control thread, for one thread hand-off instead of @p count: the
 * way to make many writes fast (one call of synode_register() costs a
 * wake-up of the control thread and one of the caller). Writes for other
 * nodes' processes go to their owners together, and the call returns when
 * every owner has answered. Returns 0 (see each result), -EINVAL, -ENOMEM
 * or -ESHUTDOWN (no result set). MT-safe.
 */
int synode_batch(struct synode *n, struct synode_op *ops, size_t count);

/* ------------------------------------------------------------------- peers */

/** State of a peer node as the link sees it. */
enum synode_peer_state {
	SYNODE_PEER_CONNECTING,  /**< "connecting": known, no session yet */
	SYNODE_PEER_UP,          /**< "up": a session, heartbeats coming */
	SYNODE_PEER_DOWN,        /**< "down": silent past --down-after-ms */
};

/** Name of a peer state as synodectl prints it. */
const char *synode_peer_state_name(enum synode_peer_state s);

/** A peer node, for synodectl status / nodes. */
struct synode_peer_info {
	char node[SYNODE_NODE_NAME_MAX + 1]; /**< "" until it said its name */
	char addr[48];             /**< "A.B.C.D:PORT" */
	enum synode_peer_state state;
	unsigned version;          /**< protocol version spoken; 0 if none */
	uint64_t rtt_ns;           /**< smoothed round-trip time; 0 if unknown */
	uint64_t frames_tx, frames_rx;
	uint64_t bytes_tx, bytes_rx;
	uint64_t retransmits;      /**< frames sent again */
	uint64_t drops;            /**< frames from it dropped (bad, late, ...) */
};

/**
 * Calls @p fn for each peer the node's link knows (@p scope NULL), or for
 * each node of @p scope's subcluster (the peers that serve it and have
 * synced with this node). Returns their number, or -SYNODE_EINVALID_SCOPE.
 * MT-safe; with a scope the caller must be RCU-registered (as for reads).
 * A node without a link has no peers.
 */
long synode_peers(struct synode *n, const char *scope,
		  void (*fn)(const struct synode_peer_info *p, void *arg), void *arg);

/* ---------------------------------------------------------------- counters */

/** Counters of a node, for synodectl status. */
struct synode_stats {
	uint64_t requests;           /**< writes executed */
	uint64_t events;             /**< events fired */
	uint64_t monitors;           /**< processes watched now */
	uint64_t clients;            /**< control connections now */
	uint64_t client_errors;      /**< connections closed for bad messages */
	uint64_t subscribers_dropped;/**< watchers dropped for a full queue */
	uint64_t peer_messages;      /**< messages received from peers */
	/* Dropped from peers, by cause (frames: the link's; messages: the node's) */
	uint64_t drops_bad_mac;      /**< frames: no MAC, unknown key, wrong tag */
	uint64_t drops_malformed;    /**< frames the decoder refused; bad messages */
	uint64_t drops_truncated;    /**< frames shorter than their lengths */
	uint64_t drops_replayed;     /**< frames seen before, or too old */
	uint64_t drops_unknown_peer; /**< frames from an address that is no peer */
	uint64_t drops_unknown_scope;/**< messages for a scope this node does not serve */
};

/** Fills @p st. MT-safe. */
void synode_get_stats(struct synode *n, struct synode_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* SYNODE_H */
