/* SPDX-License-Identifier: MIT */
/*
 * Private to control/: what the node core (node.c and friends) offers the
 * other parts of the control plane that run on its control thread, such as
 * the control-socket server (ctl_server.c).
 *
 * Every function here must be called on the control thread, except where
 * stated.
 */
#ifndef SN_NODE_INTERNAL_H
#define SN_NODE_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "synode.h"

/* ------------------------------------------------------------- event loop */

/* Called on the control thread when @p fd is ready (EPOLLIN, ...). */
typedef void (*sn_fd_fn)(struct synode *n, int fd, uint32_t events, void *arg);

/* Watches @p fd in the control thread's epoll set. Returns 0 or -errno. */
int sn_loop_add(struct synode *n, int fd, uint32_t events, sn_fd_fn fn, void *arg);
/* Changes the events watched for @p fd. Returns 0 or -errno. */
int sn_loop_mod(struct synode *n, int fd, uint32_t events);
/* Stops watching @p fd (before closing it). */
void sn_loop_del(struct synode *n, int fd);

/* ---------------------------------------------------------------- logging */

/* Logs one line at @p level through the node's log sink. MT-safe. */
void sn_log(struct synode *n, enum synode_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------- origins */

/*
 * Who asks for a write: strict mode lets an origin write only for its own
 * processes (its OS pid on this node's host, and the handles it created),
 * and an origin's handles die when it goes away.
 * conn == 0 is the embedding program (os_pid = getpid()).
 */
/*
 * A write for a process owned by another node is answered later: the
 * write function returns SN_PENDING and calls wait->done(n, wait, result)
 * on the control thread once the owner has answered (or cannot be
 * reached). Without a wait (NULL) such a write fails with -EDEADLK.
 */
#define SN_PENDING 1

struct sn_wait {
	void (*done)(struct synode *n, struct sn_wait *w, int result);
};

/* Forgets @p w: its done will not be called (its waiter went away). */
void sn_wait_cancel(struct synode *n, struct sn_wait *w);

struct sn_origin {
	pid_t os_pid;   /* the client's pid (SO_PEERCRED), or 0 if unknown */
	uint64_t conn;  /* a connection number, unique for the node's lifetime */
	struct sn_wait *wait;  /* how to answer a remote write later; or NULL */
	bool peer;      /* a peer node asking for its caller (strict: checked there) */
};

/* The wait of the request being executed (an embedding-API call), or NULL
 * when called inline on the control thread. */
struct sn_wait *sn_current_wait(struct synode *n);

/* Hands the messages batched for peers to the link and lets it send
 * them: before a write's answer goes out, so that a client's later writes
 * elsewhere come after it everywhere. */
void sn_peer_flush(struct synode *n);

/* The embedding program as the origin of the request being executed. */
struct sn_origin sn_embedder(struct synode *n);

/* A new connection number (never 0). */
uint64_t sn_origin_new_conn(struct synode *n);

/* The origin is gone (its connection closed): every handle it created
 * dies with reason "normal". */
void sn_origin_gone(struct synode *n, const struct sn_origin *o);

/* ----------------------------------------------- writes, with their origin */

/* As the synode_* functions of the same names, for origin @p o. */
int sn_add_scope(struct synode *n, const char *scope);
int sn_handle_new(struct synode *n, const struct sn_origin *o, struct synode_pid *pid);
int sn_handle_close(struct synode *n, const struct sn_origin *o,
		    const struct synode_pid *pid);
int sn_register(struct synode *n, const struct sn_origin *o, const char *scope,
		const void *name, size_t name_len, const struct synode_pid *pid,
		const void *meta, size_t meta_len);
int sn_update(struct synode *n, const struct sn_origin *o, const char *scope,
	      const void *name, size_t name_len, const void *meta, size_t meta_len);
int sn_unregister(struct synode *n, const struct sn_origin *o, const char *scope,
		  const void *name, size_t name_len);
int sn_join(struct synode *n, const struct sn_origin *o, const char *scope,
	    const void *group, size_t group_len, const struct synode_pid *pid,
	    const void *meta, size_t meta_len);
int sn_leave(struct synode *n, const struct sn_origin *o, const char *scope,
	     const void *group, size_t group_len, const struct synode_pid *pid);
int sn_update_member(struct synode *n, const struct sn_origin *o, const char *scope,
		     const void *group, size_t group_len, const struct synode_pid *pid,
		     const void *meta, size_t meta_len);

/* Reads are the public synode_* functions: the control thread is
 * RCU-registered. */

/* ----------------------------------------------------------------- events */

/* Adds a listener that receives every event after the embedding callback.
 * Returns 0 or -ENOMEM. */
int sn_listener_add(struct synode *n, synode_event_fn fn, void *arg);
/* Removes a listener (safe from inside a listener). */
void sn_listener_del(struct synode *n, synode_event_fn fn, void *arg);

/* ---------------------------------------------------------------- limits */

size_t sn_max_name_len(const struct synode *n);
size_t sn_max_meta_len(const struct synode *n);

/* ------------------------------------------------------------- statistics */

/* Adds to the counters of synode_get_stats(). */
void sn_stats_add(struct synode *n, int64_t clients, uint64_t client_errors,
		  uint64_t subscribers_dropped);

/* -------------------------------------------------- control-socket server */

/* Implemented by ctl_server.c; called by the node core. */
struct sn_ctl_server;
/* Creates the listening socket at @p path (mode 0660) and watches it.
 * Returns NULL with errno set (EADDRINUSE if a live node serves it). */
struct sn_ctl_server *sn_ctl_server_start(struct synode *n, const char *path);
/* Closes every connection and the socket, and removes the socket file. */
void sn_ctl_server_stop(struct sn_ctl_server *srv);

#endif /* SN_NODE_INTERNAL_H */
