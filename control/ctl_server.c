/* SPDX-License-Identifier: MIT */
/*
 * The control-socket server: serves the protocol of ctl_proto.c to local
 * clients (the client library, synodectl) on an AF_UNIX stream socket,
 * from the node's control thread.
 *
 * Nothing here blocks the control thread, and no client can make the node
 * hold more than a bounded amount of memory for it:
 *   - A connection's input buffer holds at most one frame (CTL_FRAME_MAX);
 *     a frame declaring more is refused from its header alone.
 *   - Requests are executed in order, one frame at a time, and only while
 *     fewer than CTL_OUT_SOFT bytes of answers wait to be sent: a client
 *     that sends without reading stops being read (the kernel's socket
 *     buffer then stops it). A single answer is at most one frame, except
 *     the scope lists of STATUS and SCOPES (bounded by the node's scopes)
 *     and the peer lists of STATUS and NODES (bounded by the link's peers
 *     times the node's scopes).
 *   - Listings (REGISTRY, MEMBERS, GROUP_NAMES) can hold millions of
 *     entries, and the node's read API visits them by callback without a
 *     way to pause. They run on a worker thread of their own (at most
 *     CTL_MAX_JOBS at once; more wait in line): the worker, RCU-registered,
 *     calls the public synode_* read function (MT-safe and wait-free) and
 *     writes item frames straight to the socket through a CTL_JOB_BUF
 *     buffer, waiting with poll() when the socket is full. Meanwhile the
 *     control thread leaves the connection alone (its fd is out of the
 *     event loop). A client that stops reading for CTL_JOB_STALL_MS is
 *     closed. When the worker is done it queues itself and signals an
 *     eventfd; the control thread joins it and resumes the connection.
 *   - Watchers: one event listener filters every event for every
 *     watching connection and appends event frames to its output buffer,
 *     at most CTL_WATCH_MAX_EVENTS events or CTL_WATCH_MAX_BYTES bytes
 *     unsent; beyond that the watcher is dropped: an ERROR frame if it
 *     fits, then closed (deferred to the eventfd handler, not inside the
 *     node's event dispatch), and counted.
 *   - A malformed frame (bad length, field, type, or a request before
 *     HELLO) gets an ERROR frame and the connection is closed and counted;
 *     so is a peer whose credentials are refused at accept.
 *
 * Threads: everything runs on the control thread except job_main() and
 * the functions it calls (job_*), which touch only their job, its socket,
 * and srv->done_* under srv->done_lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include "ctl_proto_internal.h"
#include "node_internal.h"

/* Connections served at once; more are refused with an ERROR (-EMFILE). */
#define CTL_MAX_CONNS 1024
/* A connection's requests wait while this many answer bytes are unsent. */
#define CTL_OUT_SOFT (64 * 1024)
/* Watchers: unsent events (count, bytes) beyond which one is dropped. */
#define CTL_WATCH_MAX_EVENTS 4096
#define CTL_WATCH_MAX_BYTES (16u << 20)
/* Listing workers running at once, their buffer, and how long one waits
 * for a client that reads nothing. */
#define CTL_MAX_JOBS 16
#define CTL_JOB_BUF (2 * CTL_FRAME_MAX)
#define CTL_JOB_STALL_MS 10000
/* Connections accepted per wake-up, so the loop serves others too. */
#define CTL_ACCEPT_BATCH 64

enum conn_state {
	CONN_HELLO,     /* waiting for HELLO */
	CONN_OPEN,      /* executing requests */
	CONN_WATCHING,  /* a watcher: gets events, refuses requests */
	CONN_LIST_WAIT, /* a listing waits for its output to drain or a worker */
	CONN_LISTING,   /* a worker owns the socket */
	CONN_REMOTE,    /* a write waits for the owner node's answer */
	CONN_CLOSING,   /* to be destroyed by whoever runs it */
};

struct ctl_job;

struct ctl_conn {
	struct sn_ctl_server *srv;
	struct ctl_conn *prev, *next;   /* srv->conns */
	struct ctl_conn *wait_next;     /* srv->wait_*: listing waits for a worker */
	int fd;
	bool in_loop;                   /* fd in the event loop */
	bool queued;                    /* in srv->wait_* */
	bool drop;                      /* watcher to drop (deferred) */
	bool bad;                       /* ended mid-frame: a client error */
	uint32_t loop_events;
	enum conn_state state;
	struct sn_origin origin;        /* origin.wait = &wait */
	struct sn_wait wait;            /* CONN_REMOTE: a write of req_id wait_req */
	uint32_t wait_req;

	uint8_t *in;                    /* unread bytes: in[in_off, in_len) */
	size_t in_off, in_len, in_cap;

	uint8_t *out;                   /* unsent bytes: out[out_off, out_off + out_len) */
	size_t out_off, out_len, out_cap;
	uint64_t appended, sent;        /* stream offsets, for the event queue */

	/* Watcher. */
	uint32_t watch_req;
	uint8_t watch_kind;
	char watch_scope[SYNODE_SCOPE_NAME_MAX + 1];
	uint8_t *watch_key;
	size_t watch_key_len;
	uint64_t *ev_end;               /* ring: stream offset ending each unsent event */
	unsigned ev_head, ev_count;

	struct ctl_job *job;            /* LIST_WAIT, LISTING */
};

struct ctl_job {
	struct sn_ctl_server *srv;
	struct ctl_conn *conn;          /* control thread only */
	struct ctl_job *next;           /* srv->jobs (control thread) */
	struct ctl_job *done_next;      /* srv->done_* (under done_lock) */
	pthread_t thread;
	bool started;
	int fd;
	uint16_t type;
	uint32_t req_id;
	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	bool has_node;
	char node[SYNODE_NODE_NAME_MAX + 1];
	uint8_t key[SYNODE_NAME_MAX_LIMIT];
	size_t key_len;
	bool failed;                    /* the client is gone or too slow */
	size_t len;                     /* bytes in buf */
	uint8_t buf[CTL_JOB_BUF];
};

struct sn_ctl_server {
	struct synode *n;
	int lfd, evfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sock_dev;
	ino_t sock_ino;
	gid_t sock_gid;
	uid_t euid;
	bool listening;

	struct ctl_conn *conns;
	unsigned n_conns;
	unsigned n_drops;               /* watchers marked drop */

	struct ctl_job *jobs;           /* started, not yet joined */
	unsigned n_running;
	struct ctl_conn *wait_head, *wait_tail;

	pthread_mutex_t done_lock;
	struct ctl_job *done_head;      /* finished workers, to join */
	atomic_bool stopping;

	uint8_t meta[SYNODE_META_MAX_LIMIT]; /* LOOKUP's copy of meta */
};

static void conn_pump(struct ctl_conn *c);
static void conn_destroy(struct ctl_conn *c, bool client_error);
static void conn_remote_done(struct synode *n, struct sn_wait *w, int result);

/* ------------------------------------------------------------ output buffer */

/* Room for @p need more bytes at the end of the output. */
static int
out_reserve(struct ctl_conn *c, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (c->out_off + c->out_len + need <= c->out_cap)
		return 0;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
		if (c->out_len + need <= c->out_cap)
			return 0;
	}
	cap = c->out_cap ? c->out_cap : 4096;
	while (cap < c->out_len + need)
		cap *= 2;
	p = realloc(c->out, cap);
	if (p == NULL)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Appends @p m to the output. Returns its length or -ENOMEM. */
static int
out_msg(struct ctl_conn *c, const struct ctl_msg *m)
{
	size_t want = 256;

	for (;;) {
		int len;

		if (out_reserve(c, want) != 0)
			return -ENOMEM;
		len = ctl_encode(m, c->out + c->out_off + c->out_len,
				 c->out_cap - c->out_off - c->out_len);
		if (len > 0) {
			c->out_len += (size_t)len;
			c->appended += (uint64_t)len;
			return len;
		}
		if (len != -ENOSPC || want >= CTL_FRAME_MAX)
			return -ENOMEM; /* -EINVAL: we built a bad message */
		want = CTL_FRAME_MAX;
	}
}

static void
out_result(struct ctl_conn *c, uint16_t type, uint32_t req_id, int64_t value)
{
	struct ctl_msg m;

	ctl_msg_init(&m, type, req_id);
	m.value = value;
	if (out_msg(c, &m) < 0)
		c->state = CONN_CLOSING;
}

/* An ERROR frame, then the connection closes. */
static void
out_error(struct ctl_conn *c, uint32_t req_id, int code, const char *text)
{
	if (out_reserve(c, 256) == 0) {
		int len = ctl_encode_error(c->out + c->out_off + c->out_len,
					   c->out_cap - c->out_off - c->out_len, req_id, code, text);

		if (len > 0) {
			c->out_len += (size_t)len;
			c->appended += (uint64_t)len;
		}
	}
	c->state = CONN_CLOSING;
}

/* Sends what it can without blocking. Returns 0, or -errno if the
 * connection is broken. */
static int
out_flush(struct ctl_conn *c)
{
	while (c->out_len > 0) {
		ssize_t k = send(c->fd, c->out + c->out_off, c->out_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		c->out_off += (size_t)k;
		c->out_len -= (size_t)k;
		c->sent += (uint64_t)k;
	}
	if (c->out_len == 0)
		c->out_off = 0;
	/* Events sent in full leave the watcher's queue. */
	while (c->ev_count > 0 && c->ev_end[c->ev_head] <= c->sent) {
		c->ev_head = (c->ev_head + 1) % CTL_WATCH_MAX_EVENTS;
		c->ev_count--;
	}
	return 0;
}

/* ------------------------------------------------------------ event loop */

static void on_conn(struct synode *n, int fd, uint32_t events, void *arg);

/* Watches what the connection's state calls for: input while requests
 * may run (and always for a watcher, to see it go), output while some is
 * unsent. */
static void
conn_watch_update(struct ctl_conn *c)
{
	uint32_t ev = 0;

	/* A listing's socket belongs to its worker, or waits for one out of
	 * the loop (see job_try_start()). */
	if (c->state == CONN_LISTING || c->state == CONN_CLOSING || c->queued)
		return;
	if ((c->state == CONN_HELLO || c->state == CONN_OPEN || c->state == CONN_WATCHING) &&
	    c->out_len <= CTL_OUT_SOFT)
		ev |= EPOLLIN;
	if (c->out_len > 0)
		ev |= EPOLLOUT;
	if (c->in_loop && ev == c->loop_events)
		return;
	if (!c->in_loop) {
		if (sn_loop_add(c->srv->n, c->fd, ev, on_conn, c) != 0) {
			c->state = CONN_CLOSING;
			return;
		}
		c->in_loop = true;
	} else if (sn_loop_mod(c->srv->n, c->fd, ev) != 0) {
		c->state = CONN_CLOSING;
		return;
	}
	c->loop_events = ev;
}

static void
srv_wake(struct sn_ctl_server *srv)
{
	uint64_t one = 1;

	(void)!write(srv->evfd, &one, sizeof(one));
}

/* ----------------------------------------------------------------- watchers */

static bool
watch_match(const struct ctl_conn *c, const struct synode_event *ev)
{
	bool registry = ev->kind == SYNODE_EV_REGISTERED ||
			ev->kind == SYNODE_EV_REGISTRY_UPDATED ||
			ev->kind == SYNODE_EV_UNREGISTERED;

	if (strcmp(ev->scope, c->watch_scope) != 0)
		return false;
	switch (c->watch_kind) {
	case CTL_WATCH_NAME:
		if (!registry)
			return false;
		break;
	case CTL_WATCH_GROUP:
		if (registry)
			return false;
		break;
	default:
		return true;
	}
	return ev->name_len == c->watch_key_len &&
	       (ev->name_len == 0 || memcmp(ev->name, c->watch_key, ev->name_len) == 0);
}

static void
watch_drop(struct ctl_conn *c, const char *why)
{
	struct sn_ctl_server *srv = c->srv;

	sn_log(srv->n, SYNODE_LOG_WARNING,
	       "control: dropping watcher (conn %llu, pid %d): %s",
	       (unsigned long long)c->origin.conn, (int)c->origin.os_pid, why);
	sn_stats_add(srv->n, 0, 0, 1);
	c->drop = true;
	srv->n_drops++;
	/* Closed from the eventfd handler: we may be inside the node's event
	 * dispatch here, where closing (its handles die) would fire more. */
	srv_wake(srv);
}

/* The node's event listener: queues @p ev for every watcher it matches. */
static void
on_event(const struct synode_event *ev, void *arg)
{
	struct sn_ctl_server *srv = arg;
	struct ctl_msg m;

	for (struct ctl_conn *c = srv->conns; c != NULL; c = c->next) {
		size_t before;
		int len;

		if (c->state != CONN_WATCHING || c->drop || !watch_match(c, ev))
			continue;
		ctl_msg_init(&m, CTL_MSG_EVENT, c->watch_req);
		m.kind = (uint8_t)ev->kind;
		strncpy(m.scope, ev->scope, SYNODE_SCOPE_NAME_MAX);
		m.key = ev->name;
		m.key_len = ev->name_len;
		m.pid = ev->pid;
		m.meta = ev->meta;
		m.meta_len = ev->meta_len;
		m.has_prev_meta = ev->prev_meta != NULL;
		m.prev_meta = ev->prev_meta;
		m.prev_meta_len = ev->prev_meta_len;
		m.reason = ev->reason;
		if (c->ev_count == CTL_WATCH_MAX_EVENTS) {
			watch_drop(c, "event queue full");
			continue;
		}
		before = c->out_len;
		len = out_msg(c, &m);
		if (len < 0) {
			watch_drop(c, "out of memory");
			continue;
		}
		if (c->out_len > CTL_WATCH_MAX_BYTES) {
			/* Over the byte bound: take it back, drop the watcher. */
			c->out_len = before;
			c->appended -= (uint64_t)len;
			watch_drop(c, "event queue over its byte limit");
			continue;
		}
		c->ev_end[(c->ev_head + c->ev_count) % CTL_WATCH_MAX_EVENTS] = c->appended;
		c->ev_count++;
		conn_watch_update(c);
		if (c->state == CONN_CLOSING) {
			/* The loop refused it: close it from the eventfd too. */
			c->drop = true;
			srv->n_drops++;
			srv_wake(srv);
		}
	}
}

/* Drops the watchers marked by on_event(): tells them why if the socket
 * takes it, and closes them. */
static void
drops_run(struct sn_ctl_server *srv)
{
	/* Closing one fires events (its handles die) that may mark more. */
	while (srv->n_drops > 0) {
		struct ctl_conn *next;

		srv->n_drops = 0;
		for (struct ctl_conn *c = srv->conns; c != NULL; c = next) {
			next = c->next;
			if (!c->drop)
				continue;
			out_error(c, c->watch_req, -ENOBUFS, "watcher dropped: event queue full");
			(void)out_flush(c);
			conn_destroy(c, false);
		}
	}
}

/* ----------------------------------------------------------------- listings */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Worker: sends the job's buffer, waiting for a slow client at most
 * CTL_JOB_STALL_MS without progress. Marks the job failed if it cannot. */
static void
job_flush(struct ctl_job *j)
{
	size_t off = 0;
	int64_t last = now_ms();

	while (off < j->len && !j->failed) {
		ssize_t k = send(j->fd, j->buf + off, j->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k > 0) {
			off += (size_t)k;
			last = now_ms();
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			j->failed = true;
			break;
		}
		if (atomic_load_explicit(&j->srv->stopping, memory_order_relaxed) ||
		    now_ms() - last > CTL_JOB_STALL_MS) {
			j->failed = true;
			break;
		}
		/* Short waits, so that a stopping node is noticed soon. */
		struct pollfd p = { .fd = j->fd, .events = POLLOUT };
		(void)poll(&p, 1, 100);
	}
	j->len = 0;
}

/* Worker: appends one frame, sending first if the buffer may not hold it. */
static void
job_put(struct ctl_job *j, const struct ctl_msg *m)
{
	int len;

	if (j->failed)
		return;
	if (atomic_load_explicit(&j->srv->stopping, memory_order_relaxed)) {
		j->failed = true;
		return;
	}
	if (sizeof(j->buf) - j->len < CTL_FRAME_MAX)
		job_flush(j);
	len = ctl_encode(m, j->buf + j->len, sizeof(j->buf) - j->len);
	if (len < 0)
		j->failed = true; /* cannot happen: the node's entries fit */
	else
		j->len += (size_t)len;
}

static void
job_reg_item(const struct synode_reg_entry *e, void *arg)
{
	struct ctl_job *j = arg;
	struct ctl_msg m;

	ctl_msg_init(&m, CTL_MSG_REG_ITEM, j->req_id);
	m.key = e->name;
	m.key_len = e->name_len;
	m.pid = e->pid;
	m.meta = e->meta;
	m.meta_len = e->meta_len;
	m.time = e->time;
	job_put(j, &m);
}

static void
job_member_item(const struct synode_member *e, void *arg)
{
	struct ctl_job *j = arg;
	struct ctl_msg m;

	ctl_msg_init(&m, CTL_MSG_MEMBER_ITEM, j->req_id);
	m.pid = e->pid;
	m.meta = e->meta;
	m.meta_len = e->meta_len;
	m.time = e->time;
	job_put(j, &m);
}

static void
job_group_item(const void *group, size_t len, void *arg)
{
	struct ctl_job *j = arg;
	struct ctl_msg m;

	ctl_msg_init(&m, CTL_MSG_GROUP_ITEM, j->req_id);
	m.key = group;
	m.key_len = len;
	job_put(j, &m);
}

static void *
job_main(void *arg)
{
	struct ctl_job *j = arg;
	struct synode *n = j->srv->n;
	const char *node = j->has_node ? j->node : NULL;
	struct ctl_msg m;
	long r;

	urcu_memb_register_thread();
	switch (j->type) {
	case CTL_MSG_REGISTRY:
		r = synode_registry_foreach(n, j->scope, node, job_reg_item, j);
		break;
	case CTL_MSG_MEMBERS:
		r = synode_members(n, j->scope, j->key, j->key_len, node, job_member_item, j);
		break;
	default:
		r = synode_group_names(n, j->scope, node, job_group_item, j);
		break;
	}
	urcu_memb_unregister_thread();
	ctl_msg_init(&m, CTL_MSG_END, j->req_id);
	m.value = r;
	job_put(j, &m);
	job_flush(j);

	pthread_mutex_lock(&j->srv->done_lock);
	j->done_next = j->srv->done_head;
	j->srv->done_head = j;
	pthread_mutex_unlock(&j->srv->done_lock);
	srv_wake(j->srv);
	return NULL;
}

/* Hands the connection's socket to a worker for its listing. */
static void
job_start(struct ctl_conn *c)
{
	struct sn_ctl_server *srv = c->srv;
	struct ctl_job *j = c->job;
	int rc;

	if (c->in_loop) {
		sn_loop_del(srv->n, c->fd);
		c->in_loop = false;
	}
	c->state = CONN_LISTING;
	j->fd = c->fd;
	rc = pthread_create(&j->thread, NULL, job_main, j);
	if (rc != 0) {
		sn_log(srv->n, SYNODE_LOG_WARNING, "control: no listing thread: %s",
		       strerror(rc));
		c->state = CONN_OPEN;
		c->job = NULL;
		out_result(c, CTL_MSG_END, j->req_id, -rc);
		free(j);
		conn_watch_update(c);
		return;
	}
	j->started = true;
	j->next = srv->jobs;
	srv->jobs = j;
	srv->n_running++;
}

/* A listing whose output has drained starts, or waits for a worker. */
static void
job_try_start(struct ctl_conn *c)
{
	struct sn_ctl_server *srv = c->srv;

	if (c->state != CONN_LIST_WAIT || c->out_len > 0 || c->queued)
		return;
	if (srv->n_running < CTL_MAX_JOBS) {
		job_start(c);
		return;
	}
	/* Out of the loop while it waits: nothing to read or send until its
	 * worker runs, and a hang-up would wake the loop again and again. */
	if (c->in_loop) {
		sn_loop_del(srv->n, c->fd);
		c->in_loop = false;
	}
	c->queued = true;
	c->wait_next = NULL;
	if (srv->wait_tail != NULL)
		srv->wait_tail->wait_next = c;
	else
		srv->wait_head = c;
	srv->wait_tail = c;
}

static void
wait_remove(struct ctl_conn *c)
{
	struct sn_ctl_server *srv = c->srv;
	struct ctl_conn **pp = &srv->wait_head, *prev = NULL;

	if (!c->queued)
		return;
	while (*pp != NULL && *pp != c) {
		prev = *pp;
		pp = &(*pp)->wait_next;
	}
	if (*pp == c) {
		*pp = c->wait_next;
		if (srv->wait_tail == c)
			srv->wait_tail = prev;
	}
	c->queued = false;
}

static void
job_unlink(struct sn_ctl_server *srv, struct ctl_job *j)
{
	for (struct ctl_job **pp = &srv->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

/* Joins the finished workers and gives their connections back to the
 * loop; starts the listings that waited. */
static void
jobs_reap(struct sn_ctl_server *srv)
{
	struct ctl_job *done, *j;

	pthread_mutex_lock(&srv->done_lock);
	done = srv->done_head;
	srv->done_head = NULL;
	pthread_mutex_unlock(&srv->done_lock);

	while ((j = done) != NULL) {
		struct ctl_conn *c = j->conn;

		done = j->done_next;
		pthread_join(j->thread, NULL);
		job_unlink(srv, j);
		srv->n_running--;
		c->job = NULL;
		if (j->failed) {
			sn_log(srv->n, SYNODE_LOG_INFO,
			       "control: closing conn %llu: listing not read",
			       (unsigned long long)c->origin.conn);
			free(j);
			c->state = CONN_CLOSING;
			conn_destroy(c, false);
			continue;
		}
		free(j);
		c->state = CONN_OPEN;
		conn_pump(c);
		if (c->state == CONN_CLOSING)
			conn_destroy(c, false);
	}
	while (srv->wait_head != NULL && srv->n_running < CTL_MAX_JOBS) {
		struct ctl_conn *c = srv->wait_head;

		srv->wait_head = c->wait_next;
		if (srv->wait_head == NULL)
			srv->wait_tail = NULL;
		c->queued = false;
		job_start(c);
	}
}

/* ----------------------------------------------------------------- requests */

struct scope_list {
	struct ctl_conn *c;
	uint32_t req_id;
	bool failed;
};

static void
put_scope(const char *scope, void *arg)
{
	struct scope_list *l = arg;
	struct ctl_msg m;

	ctl_msg_init(&m, CTL_MSG_SCOPE_ITEM, l->req_id);
	strncpy(m.scope, scope, SYNODE_SCOPE_NAME_MAX);
	if (!l->failed && out_msg(l->c, &m) < 0)
		l->failed = true;
}

/* SCOPE_ITEM for each scope, then END. */
static void
exec_scopes(struct ctl_conn *c, uint32_t req_id)
{
	struct scope_list l = { c, req_id, false };
	int count = synode_scopes(c->srv->n, put_scope, &l);

	if (l.failed)
		c->state = CONN_CLOSING;
	else
		out_result(c, CTL_MSG_END, req_id, count);
}

static void
exec_hello(struct ctl_conn *c, const struct ctl_msg *req)
{
	struct synode *n = c->srv->n;
	struct ctl_msg m;
	bool ok = false;

	for (unsigned i = 0; i < req->n_versions; i++)
		ok |= req->versions[i] == CTL_PROTO_VERSION;
	if (!ok) {
		out_error(c, req->req_id, -EPROTONOSUPPORT,
			  "no common protocol version; this node speaks 1");
		return;
	}
	ctl_msg_init(&m, CTL_MSG_HELLO_OK, req->req_id);
	m.version = CTL_PROTO_VERSION;
	m.has_node = true;
	strncpy(m.node, synode_name(n), SYNODE_NODE_NAME_MAX);
	m.max_name_len = (uint32_t)sn_max_name_len(n);
	m.max_meta_len = (uint32_t)sn_max_meta_len(n);
	if (out_msg(c, &m) < 0) {
		c->state = CONN_CLOSING;
		return;
	}
	c->state = CONN_OPEN;
}

static void
exec_watch(struct ctl_conn *c, const struct ctl_msg *req)
{
	long r = synode_registry_count(c->srv->n, req->scope, NULL);

	if (r < 0) {
		out_result(c, CTL_MSG_RESULT, req->req_id, r);
		return;
	}
	c->ev_end = malloc(CTL_WATCH_MAX_EVENTS * sizeof(*c->ev_end));
	c->watch_key = malloc(req->key_len > 0 ? req->key_len : 1);
	if (c->ev_end == NULL || c->watch_key == NULL) {
		out_result(c, CTL_MSG_RESULT, req->req_id, -ENOMEM);
		return;
	}
	if (req->key_len > 0)
		memcpy(c->watch_key, req->key, req->key_len);
	c->watch_key_len = req->key_len;
	c->watch_kind = req->kind;
	memcpy(c->watch_scope, req->scope, sizeof(c->watch_scope));
	c->watch_req = req->req_id;
	c->ev_head = c->ev_count = 0;
	out_result(c, CTL_MSG_RESULT, req->req_id, 0);
	if (c->state != CONN_CLOSING)
		c->state = CONN_WATCHING;
}

static void
exec_listing(struct ctl_conn *c, const struct ctl_msg *req)
{
	struct ctl_job *j = malloc(sizeof(*j));

	if (j == NULL) {
		out_result(c, CTL_MSG_END, req->req_id, -ENOMEM);
		return;
	}
	j->srv = c->srv;
	j->conn = c;
	j->next = j->done_next = NULL;
	j->started = false;
	j->fd = -1;
	j->type = req->type;
	j->req_id = req->req_id;
	memcpy(j->scope, req->scope, sizeof(j->scope));
	j->has_node = req->has_node;
	memcpy(j->node, req->node, sizeof(j->node));
	j->key_len = req->key_len;
	if (req->key_len > 0)
		memcpy(j->key, req->key, req->key_len);
	j->failed = false;
	j->len = 0;
	c->job = j;
	c->state = CONN_LIST_WAIT;
}

/* ------------------------------------------------------------------- peers */

/* Copies the string in src[0, src_size) (terminated there or not) into
 * @p dst, cut to fit and terminated. */
static void
copy_str(char *dst, size_t dst_size, const char *src, size_t src_size)
{
	size_t len = strnlen(src, src_size);

	if (len >= dst_size)
		len = dst_size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A PEER_ITEM for peer @p p and scope @p scope ("": none). */
static void
peer_item(struct ctl_msg *m, uint32_t req_id, const struct synode_peer_info *p,
	  const char *scope)
{
	const char *state = synode_peer_state_name(p->state);

	if (state == NULL)
		state = "unknown";
	ctl_msg_init(m, CTL_MSG_PEER_ITEM, req_id);
	m->has_node = true;
	copy_str(m->node, sizeof(m->node), p->node, sizeof(p->node));
	copy_str(m->scope, sizeof(m->scope), scope, SYNODE_SCOPE_NAME_MAX + 1);
	copy_str(m->state, sizeof(m->state), state, CTL_STR_MAX + 1);
	copy_str(m->address, sizeof(m->address), p->addr, sizeof(p->addr));
	m->peer.version = p->version;
	m->peer.rtt_ns = p->rtt_ns;
	m->peer.frames_tx = p->frames_tx;
	m->peer.frames_rx = p->frames_rx;
	m->peer.bytes_tx = p->bytes_tx;
	m->peer.bytes_rx = p->bytes_rx;
	m->peer.retransmits = p->retransmits;
	m->peer.drops = p->drops;
}

struct nodes_list {
	struct ctl_conn *c;
	uint32_t req_id;
	const char *scope;
	long sent;
	bool failed;
};

static void
nodes_put(const struct synode_peer_info *p, void *arg)
{
	struct nodes_list *l = arg;
	struct ctl_msg m;

	if (l->failed)
		return;
	peer_item(&m, l->req_id, p, l->scope);
	if (out_msg(l->c, &m) < 0)
		l->failed = true;
	else
		l->sent++;
}

/* NODES: a PEER_ITEM per node of the scope's subcluster, then END. */
static void
exec_nodes(struct ctl_conn *c, const struct ctl_msg *q)
{
	struct nodes_list l = { c, q->req_id, q->scope, 0, false };
	long r = synode_peers(c->srv->n, q->scope, nodes_put, &l);

	if (l.failed)
		c->state = CONN_CLOSING;
	else
		out_result(c, CTL_MSG_END, q->req_id, r < 0 ? r : l.sent);
}

/*
 * What STATUS reports: the node's scopes, the peers its link knows, and
 * which scopes each peer shares (shares[peer * n_scopes + scope]), read as
 * one synode_peers() per scope. Peers and scopes come from separate reads:
 * a peer that joins a subcluster between them is left out of that scope,
 * one unknown to the first read is left out altogether.
 */
struct status_view {
	char (*scopes)[SYNODE_SCOPE_NAME_MAX + 1];
	size_t n_scopes, cap_scopes;
	struct synode_peer_info *peers;
	size_t n_peers, cap_peers;
	uint8_t *shares;
	size_t cur_scope;
	bool nomem;
};

/* @p v (an array of *@p cap items of @p size bytes) with room for @p need
 * items: itself, a larger copy (*@p cap updated), or NULL (v unchanged). */
static void *
grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return v;
	while (c < need)
		c *= 2;
	v = realloc(v, c * size);
	if (v != NULL)
		*cap = c;
	return v;
}

static void
status_add_scope(const char *scope, void *arg)
{
	struct status_view *s = arg;
	void *v;

	if (s->nomem)
		return;
	v = grow(s->scopes, &s->cap_scopes, s->n_scopes + 1, sizeof(*s->scopes));
	if (v == NULL) {
		s->nomem = true;
		return;
	}
	s->scopes = v;
	memset(s->scopes[s->n_scopes], 0, sizeof(*s->scopes));
	strncpy(s->scopes[s->n_scopes++], scope, SYNODE_SCOPE_NAME_MAX);
}

static void
status_add_peer(const struct synode_peer_info *p, void *arg)
{
	struct status_view *s = arg;
	void *v;

	if (s->nomem)
		return;
	v = grow(s->peers, &s->cap_peers, s->n_peers + 1, sizeof(*s->peers));
	if (v == NULL) {
		s->nomem = true;
		return;
	}
	s->peers = v;
	s->peers[s->n_peers++] = *p;
}

/* Whether @p a and @p b name the same peer: the link names a peer by its
 * address; a peer without one yet, by its name. */
static bool
same_peer(const struct synode_peer_info *a, const struct synode_peer_info *b)
{
	if (a->addr[0] != '\0' || b->addr[0] != '\0')
		return strcmp(a->addr, b->addr) == 0 &&
		       (a->node[0] == '\0' || b->node[0] == '\0' ||
			strcmp(a->node, b->node) == 0);
	return a->node[0] != '\0' && strcmp(a->node, b->node) == 0;
}

static void
status_mark_share(const struct synode_peer_info *p, void *arg)
{
	struct status_view *s = arg;

	for (size_t i = 0; i < s->n_peers; i++) {
		if (same_peer(&s->peers[i], p)) {
			s->shares[i * s->n_scopes + s->cur_scope] = 1;
			return;
		}
	}
}

/* The rest of STATUS after STATUS_INFO: SCOPE_ITEM*, PEER_ITEM* (see the
 * top of ctl_proto.c), END(number of scopes). */
static void
exec_status_lists(struct ctl_conn *c, uint32_t req_id)
{
	struct synode *n = c->srv->n;
	struct status_view s = { 0 };
	struct ctl_msg m;
	long r = 0;
	bool failed = false;

	synode_scopes(n, status_add_scope, &s);
	for (size_t i = 0; !failed && !s.nomem && i < s.n_scopes; i++) {
		ctl_msg_init(&m, CTL_MSG_SCOPE_ITEM, req_id);
		memcpy(m.scope, s.scopes[i], sizeof(m.scope));
		failed = out_msg(c, &m) < 0;
	}
	if (!failed && !s.nomem)
		r = synode_peers(n, NULL, status_add_peer, &s);
	if (!failed && !s.nomem && r >= 0 && s.n_peers > 0 && s.n_scopes > 0) {
		s.shares = calloc(s.n_peers, s.n_scopes);
		s.nomem = s.shares == NULL;
		for (size_t i = 0; !s.nomem && i < s.n_scopes; i++) {
			s.cur_scope = i;
			synode_peers(n, s.scopes[i], status_mark_share, &s);
		}
	}
	for (size_t i = 0; !failed && !s.nomem && r >= 0 && i < s.n_peers; i++) {
		bool any = false;

		for (size_t j = 0; !failed && j < s.n_scopes; j++) {
			if (!s.shares[i * s.n_scopes + j])
				continue;
			peer_item(&m, req_id, &s.peers[i], s.scopes[j]);
			failed = out_msg(c, &m) < 0;
			any = true;
		}
		if (!failed && !any) {
			peer_item(&m, req_id, &s.peers[i], "");
			failed = out_msg(c, &m) < 0;
		}
	}
	if (failed)
		c->state = CONN_CLOSING;
	else
		out_result(c, CTL_MSG_END, req_id,
			   s.nomem ? -ENOMEM : r < 0 ? r : (int64_t)s.n_scopes);
	free(s.scopes);
	free(s.peers);
	free(s.shares);
}

/* Executes one request of an open connection. */
static void
exec_request(struct ctl_conn *c, const struct ctl_msg *q)
{
	struct synode *n = c->srv->n;
	const struct sn_origin *o = &c->origin;
	const char *node = q->has_node ? q->node : NULL;
	struct ctl_msg m;
	bool write = false;      /* may be answered later (SN_PENDING) */
	int64_t r;

	switch (q->type) {
	case CTL_MSG_HELLO:
		out_error(c, q->req_id, -EBADMSG, "HELLO twice");
		return;
	case CTL_MSG_STATUS:
		ctl_msg_init(&m, CTL_MSG_STATUS_INFO, q->req_id);
		m.has_node = true;
		strncpy(m.node, synode_name(n), SYNODE_NODE_NAME_MAX);
		synode_get_stats(n, &m.stats);
		if (out_msg(c, &m) < 0) {
			c->state = CONN_CLOSING;
			return;
		}
		exec_status_lists(c, q->req_id);
		return;
	case CTL_MSG_NODES:
		exec_nodes(c, q);
		return;
	case CTL_MSG_SCOPES:
		exec_scopes(c, q->req_id);
		return;
	case CTL_MSG_ADD_SCOPE:
		r = sn_add_scope(n, q->scope);
		break;
	case CTL_MSG_HANDLE_NEW:
		ctl_msg_init(&m, CTL_MSG_PID, q->req_id);
		r = sn_handle_new(n, o, &m.pid);
		if (r == 0) {
			if (out_msg(c, &m) < 0)
				c->state = CONN_CLOSING;
			return;
		}
		break;
	case CTL_MSG_HANDLE_CLOSE:
		r = sn_handle_close(n, o, &q->pid);
		break;
	case CTL_MSG_REGISTER:
		write = true;
		r = sn_register(n, o, q->scope, q->key, q->key_len, &q->pid, q->meta,
				q->meta_len);
		break;
	case CTL_MSG_UPDATE:
		write = true;
		r = sn_update(n, o, q->scope, q->key, q->key_len, q->meta, q->meta_len);
		break;
	case CTL_MSG_UNREGISTER:
		write = true;
		r = sn_unregister(n, o, q->scope, q->key, q->key_len);
		break;
	case CTL_MSG_LOOKUP: {
		size_t meta_len = sizeof(c->srv->meta);

		ctl_msg_init(&m, CTL_MSG_LOOKUP_OK, q->req_id);
		r = synode_lookup(n, q->scope, q->key, q->key_len, &m.pid, c->srv->meta,
				  &meta_len);
		if (r == 0) {
			m.meta = c->srv->meta;
			m.meta_len = meta_len < sizeof(c->srv->meta) ? meta_len
								      : sizeof(c->srv->meta);
			if (out_msg(c, &m) < 0)
				c->state = CONN_CLOSING;
			return;
		}
		break;
	}
	case CTL_MSG_REGISTRY:
	case CTL_MSG_MEMBERS:
	case CTL_MSG_GROUP_NAMES:
		exec_listing(c, q);
		return;
	case CTL_MSG_REGISTRY_COUNT:
		r = synode_registry_count(n, q->scope, node);
		break;
	case CTL_MSG_JOIN:
		write = true;
		r = sn_join(n, o, q->scope, q->key, q->key_len, &q->pid, q->meta, q->meta_len);
		break;
	case CTL_MSG_LEAVE:
		write = true;
		r = sn_leave(n, o, q->scope, q->key, q->key_len, &q->pid);
		break;
	case CTL_MSG_UPDATE_MEMBER:
		write = true;
		r = sn_update_member(n, o, q->scope, q->key, q->key_len, &q->pid, q->meta,
				     q->meta_len);
		break;
	case CTL_MSG_IS_MEMBER:
		r = synode_is_member(n, q->scope, q->key, q->key_len, &q->pid);
		break;
	case CTL_MSG_MEMBER_COUNT:
		r = synode_member_count(n, q->scope, q->key, q->key_len, node);
		break;
	case CTL_MSG_GROUP_COUNT:
		r = synode_group_count(n, q->scope, node);
		break;
	case CTL_MSG_WATCH:
		exec_watch(c, q);
		return;
	default:
		/* An answer's type, sent by a client. */
		sn_stats_add(n, 0, 1, 0);
		out_error(c, q->req_id, -EBADMSG, "not a request");
		return;
	}
	if (write && r == SN_PENDING) {
		/* A write for another node's process: answered when the owner
		 * has answered; the connection's next requests wait (in order). */
		c->wait_req = q->req_id;
		c->state = CONN_REMOTE;
		return;
	}
	if (write)
		sn_peer_flush(n);
	out_result(c, CTL_MSG_RESULT, q->req_id, r);
}

/* The owner node answered the write a connection waits for (or cannot be
 * reached): answer the client and go on with its next requests. */
static void
conn_remote_done(struct synode *n, struct sn_wait *w, int result)
{
	struct ctl_conn *c = caa_container_of(w, struct ctl_conn, wait);

	(void)n;
	if (c->state != CONN_REMOTE)
		return;
	c->state = CONN_OPEN;
	out_result(c, CTL_MSG_RESULT, c->wait_req, result);
	conn_pump(c);
	if (c->state == CONN_CLOSING)
		conn_destroy(c, false);
}

/* Decodes and executes the complete frames of the input buffer while the
 * connection may run requests. */
static void
conn_exec_frames(struct ctl_conn *c)
{
	struct synode *n = c->srv->n;

	while (c->out_len <= CTL_OUT_SOFT &&
	       (c->state == CONN_HELLO || c->state == CONN_OPEN || c->state == CONN_WATCHING)) {
		const uint8_t *p = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		struct ctl_msg m;
		uint32_t req_id = 0;
		int r = ctl_decode(p, avail, &m);

		if (r == -CTL_ETRUNCATED)
			return;
		if (r < 0) {
			(void)ctl_peek_header(p, avail, NULL, NULL, NULL, &req_id);
			sn_log(n, SYNODE_LOG_WARNING, "control: conn %llu (pid %d): %s",
			       (unsigned long long)c->origin.conn, (int)c->origin.os_pid,
			       ctl_decode_strerror(r));
			if (r == -CTL_EVERSION) {
				/* Not malformed: another version of the protocol. */
				out_error(c, req_id, -EPROTONOSUPPORT,
					  "unsupported protocol version; this node speaks 1");
				return;
			}
			sn_stats_add(n, 0, 1, 0);
			out_error(c, req_id, r == -CTL_ETOOBIG ? -EMSGSIZE : -EBADMSG,
				  ctl_decode_strerror(r));
			return;
		}
		if (c->state == CONN_HELLO) {
			if (m.type == CTL_MSG_HELLO) {
				exec_hello(c, &m);
			} else {
				sn_stats_add(n, 0, 1, 0);
				out_error(c, m.req_id, -EBADMSG, "HELLO first");
			}
		} else if (c->state == CONN_WATCHING) {
			if (m.type < CTL_MSG_REQUEST_END) {
				out_result(c, CTL_MSG_RESULT, m.req_id, -EBUSY);
			} else {
				sn_stats_add(n, 0, 1, 0);
				out_error(c, m.req_id, -EBADMSG, "not a request");
			}
		} else {
			exec_request(c, &m);
		}
		c->in_off += (size_t)r;
	}
}

/* Reads what the socket has, up to one frame ahead. Returns 1 if bytes
 * came, 0 if none (would block, or no room wanted), -1 if the connection
 * ended or broke. */
static int
conn_read(struct ctl_conn *c)
{
	size_t avail = c->in_len - c->in_off;
	uint32_t flen = 0;
	size_t want;
	ssize_t k;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, avail);
		c->in_len = avail;
		c->in_off = 0;
	}
	/* Room for the frame the header announces (the decoder has refused
	 * lengths over the limit already), or for a header and some more. */
	want = 4096;
	if (ctl_peek_header(c->in, c->in_len, &flen, NULL, NULL, NULL) == 0 && flen > want)
		want = flen <= CTL_FRAME_MAX ? flen : CTL_FRAME_MAX;
	if (want > c->in_cap) {
		uint8_t *p = realloc(c->in, want);

		if (p == NULL)
			return -1;
		c->in = p;
		c->in_cap = want;
	}
	if (c->in_len == c->in_cap)
		return 0; /* a whole frame is here: execute it first */
	k = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (k > 0) {
		c->in_len += (size_t)k;
		return 1;
	}
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return -1; /* end of stream, or an error */
}

/* Moves the connection forward as far as it can go without blocking:
 * sends answers, executes requests, reads more. */
static void
conn_pump(struct ctl_conn *c)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		bool progress = false;

		if (c->state == CONN_CLOSING || c->drop)
			return;
		if (out_flush(c) < 0) {
			c->state = CONN_CLOSING;
			return;
		}
		conn_exec_frames(c);
		if (c->state == CONN_CLOSING) {
			/* Send the ERROR frame if the socket takes it. */
			(void)out_flush(c);
			return;
		}
		if (c->state == CONN_LIST_WAIT) {
			(void)out_flush(c);
			job_try_start(c);
			if (c->state != CONN_LISTING)
				conn_watch_update(c);
			return;
		}
		if (c->out_len <= CTL_OUT_SOFT) {
			int r = conn_read(c);

			if (r < 0) {
				/* Gone with part of a frame sent: a truncated
				 * message, counted as a bad one. */
				c->bad = c->in_len > c->in_off;
				c->state = CONN_CLOSING;
				return;
			}
			progress = r > 0;
		}
		if (!progress)
			break;
	}
	conn_watch_update(c);
}

/* ---------------------------------------------------------- connections */

static void
conn_destroy(struct ctl_conn *c, bool client_error)
{
	struct sn_ctl_server *srv = c->srv;

	sn_wait_cancel(srv->n, &c->wait);
	wait_remove(c);
	if (c->job != NULL) {
		/* Only reached for a job that never started. */
		free(c->job);
		c->job = NULL;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	if (c->in_loop)
		sn_loop_del(srv->n, c->fd);
	close(c->fd);
	sn_log(srv->n, SYNODE_LOG_DEBUG, "control: conn %llu closed",
	       (unsigned long long)c->origin.conn);
	/* Its handles die: the node fires their events, which may reach other
	 * watchers; this connection is off the list already. */
	sn_origin_gone(srv->n, &c->origin);
	sn_stats_add(srv->n, -1, client_error || c->bad ? 1 : 0, 0);
	free(c->in);
	free(c->out);
	free(c->ev_end);
	free(c->watch_key);
	free(c);
}

static void
on_conn(struct synode *n, int fd, uint32_t events, void *arg)
{
	struct ctl_conn *c = arg;

	(void)n;
	(void)fd;
	if (c->state == CONN_LISTING || c->drop)
		return;
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		c->state = CONN_CLOSING;
	} else {
		conn_pump(c);
		/* A peer gone with nothing left to read. */
		if ((events & EPOLLHUP) && c->state != CONN_LISTING &&
		    c->state != CONN_LIST_WAIT && c->in_len == c->in_off)
			c->state = CONN_CLOSING;
	}
	if (c->state == CONN_CLOSING)
		conn_destroy(c, false);
}

/* Refuses a connection with an ERROR frame, if the socket takes it. */
static void
refuse(int fd, int code, const char *text)
{
	uint8_t buf[256];
	int len = ctl_encode_error(buf, sizeof(buf), 0, code, text);

	if (len > 0)
		(void)!send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
on_accept(struct synode *n, int lfd, uint32_t events, void *arg)
{
	struct sn_ctl_server *srv = arg;

	(void)events;
	for (int i = 0; i < CTL_ACCEPT_BATCH; i++) {
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct ctl_conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sn_log(n, SYNODE_LOG_WARNING, "control: accept: %s",
				       strerror(errno));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
			close(fd);
			continue;
		}
		if (cr.uid != 0 && cr.uid != srv->euid && cr.gid != srv->sock_gid) {
			sn_log(n, SYNODE_LOG_WARNING,
			       "control: refused pid %d (uid %u, gid %u): not root, the "
			       "node's user or the socket's group",
			       (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
			sn_stats_add(n, 0, 1, 0);
			refuse(fd, -EACCES, "permission denied");
			continue;
		}
		if (srv->n_conns >= CTL_MAX_CONNS) {
			sn_log(n, SYNODE_LOG_WARNING, "control: refused pid %d: %u connections",
			       (int)cr.pid, srv->n_conns);
			refuse(fd, -EMFILE, "too many connections");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c != NULL) {
			c->in_cap = 4096; /* grows to the largest frame it gets */
			c->in = malloc(c->in_cap);
		}
		if (c == NULL || c->in == NULL) {
			free(c);
			refuse(fd, -ENOMEM, "out of memory");
			continue;
		}
		c->srv = srv;
		c->fd = fd;
		c->state = CONN_HELLO;
		c->origin.os_pid = cr.pid;
		c->origin.conn = sn_origin_new_conn(n);
		c->origin.wait = &c->wait;
		c->wait.done = conn_remote_done;
		c->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = c;
		srv->conns = c;
		srv->n_conns++;
		sn_stats_add(n, 1, 0, 0);
		sn_log(n, SYNODE_LOG_DEBUG, "control: conn %llu from pid %d",
		       (unsigned long long)c->origin.conn, (int)cr.pid);
		conn_watch_update(c);
		if (c->state == CONN_CLOSING)
			conn_destroy(c, false);
	}
}

static void
on_wake(struct synode *n, int fd, uint32_t events, void *arg)
{
	struct sn_ctl_server *srv = arg;
	uint64_t v;

	(void)n;
	(void)events;
	(void)!read(fd, &v, sizeof(v));
	jobs_reap(srv);
	drops_run(srv);
}

/* ------------------------------------------------------------ start, stop */

/* mkdir -p of the directory of @p path, 0755. */
static int
mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* 1 if something accepts connections on @p sa, 0 if not (the file may be
 * left by a node that died), -errno if it cannot tell. */
static int
socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		rc = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		rc = 1; /* its backlog is full: alive */
	else if (errno == ECONNREFUSED || errno == ENOENT)
		rc = 0;
	else
		rc = -errno;
	close(fd);
	return rc;
}

struct sn_ctl_server *
sn_ctl_server_start(struct synode *n, const char *path)
{
	struct sn_ctl_server *srv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int rc;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->n = n;
	srv->lfd = srv->evfd = -1;
	srv->euid = geteuid();
	strcpy(srv->path, path);
	strcpy(sa.sun_path, path);
	pthread_mutex_init(&srv->done_lock, NULL);
	atomic_init(&srv->stopping, false);

	rc = mkdir_parents(path);
	if (rc < 0)
		goto fail;
	rc = socket_live(&sa);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		rc = -EADDRINUSE;
		goto fail;
	}
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path); /* stale: nobody answers on it */

	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		goto fail;
	}
	srv->listening = true;
	if (chmod(path, 0660) != 0 || lstat(path, &st) != 0 || listen(srv->lfd, 128) != 0) {
		rc = -errno;
		goto fail;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	srv->sock_gid = st.st_gid;

	srv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->evfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = sn_loop_add(n, srv->evfd, EPOLLIN, on_wake, srv);
	if (rc < 0)
		goto fail;
	rc = sn_loop_add(n, srv->lfd, EPOLLIN, on_accept, srv);
	if (rc < 0)
		goto fail_loop_evfd;
	rc = sn_listener_add(n, on_event, srv);
	if (rc < 0)
		goto fail_loop_lfd;
	sn_log(n, SYNODE_LOG_INFO, "control: serving %s", path);
	return srv;

fail_loop_lfd:
	sn_loop_del(n, srv->lfd);
fail_loop_evfd:
	sn_loop_del(n, srv->evfd);
fail:
	if (srv->evfd >= 0)
		close(srv->evfd);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->listening)
		(void)unlink(path);
	pthread_mutex_destroy(&srv->done_lock);
	free(srv);
	sn_log(n, SYNODE_LOG_ERROR, "control: cannot serve %s: %s", path, strerror(-rc));
	errno = -rc;
	return NULL;
}

void
sn_ctl_server_stop(struct sn_ctl_server *srv)
{
	struct stat st;

	if (srv == NULL)
		return;
	sn_listener_del(srv->n, on_event, srv);
	/* Workers see the flag within one poll() slice and stop sending. */
	atomic_store_explicit(&srv->stopping, true, memory_order_relaxed);
	while (srv->jobs != NULL) {
		struct ctl_job *j = srv->jobs;

		srv->jobs = j->next;
		pthread_join(j->thread, NULL);
		j->conn->job = NULL;
		j->conn->state = CONN_CLOSING;
		free(j);
	}
	srv->done_head = NULL; /* all freed above */
	srv->wait_head = srv->wait_tail = NULL;
	while (srv->conns != NULL) {
		srv->conns->queued = false;
		conn_destroy(srv->conns, false);
	}
	sn_loop_del(srv->n, srv->lfd);
	sn_loop_del(srv->n, srv->evfd);
	close(srv->lfd);
	close(srv->evfd);
	/* Remove the file only if it is still ours. */
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev && st.st_ino == srv->sock_ino)
		(void)unlink(srv->path);
	pthread_mutex_destroy(&srv->done_lock);
	free(srv);
}
