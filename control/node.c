/* SPDX-License-Identifier: MIT */
/*
 * The node: its lifecycle and its control thread.
 *
 * The control thread runs one epoll loop and is the only writer of the
 * node's tables. Other threads hand it writes through a wait-free queue
 * (liburcu's wfcqueue) and an eventfd, then sleep on a futex in the request
 * until it is done (sn_call()); the link's work (peers up and down, their
 * messages) comes in the same queue without a waiter (sn_link_post()). Nothing on the loop blocks: process
 * deaths come as pidfd events, exit statuses from the proc connector, the
 * control socket is non-blocking.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

#include "core_internal.h"
#include "rtab_tsan.h"

struct sn_fdwatch {
	int fd;
	sn_fd_fn fn;
	void *arg;
	bool dead;
};

/* ---------------------------------------------------------------- logging */

static const char *const level_names[] = {
	[SYNODE_LOG_ERROR] = "error",
	[SYNODE_LOG_WARNING] = "warning",
	[SYNODE_LOG_NOTICE] = "notice",
	[SYNODE_LOG_INFO] = "info",
	[SYNODE_LOG_DEBUG] = "debug",
};

void
sn_log(struct synode *n, enum synode_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > n->p.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n->p.log != NULL)
		n->p.log(level, msg, n->p.log_arg);
	else
		fprintf(stderr, "synode[%s] %s: %s\n", n->name, level_names[level], msg);
}

/* ------------------------------------------------------------ event loop */

int
sn_loop_add(struct synode *n, int fd, uint32_t events, sn_fd_fn fn, void *arg)
{
	struct sn_fdwatch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (w == NULL)
		return -ENOMEM;
	if (n->n_watches == n->cap_watches) {
		unsigned cap = n->cap_watches ? 2 * n->cap_watches : 16;
		struct sn_fdwatch **a = realloc(n->watches, cap * sizeof(*a));

		if (a == NULL) {
			free(w);
			return -ENOMEM;
		}
		n->watches = a;
		n->cap_watches = cap;
	}
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	ev.data.ptr = w;
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int err = errno;

		free(w);
		return -err;
	}
	n->watches[n->n_watches++] = w;
	return 0;
}

static struct sn_fdwatch *
watch_find(struct synode *n, int fd)
{
	struct sn_fdwatch **a = n->watches;

	for (unsigned i = 0; i < n->n_watches; i++)
		if (!a[i]->dead && a[i]->fd == fd)
			return a[i];
	return NULL;
}

int
sn_loop_mod(struct synode *n, int fd, uint32_t events)
{
	struct sn_fdwatch *w = watch_find(n, fd);
	struct epoll_event ev = { .events = events };

	if (w == NULL)
		return -ENOENT;
	ev.data.ptr = w;
	return epoll_ctl(n->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void
sn_loop_del(struct synode *n, int fd)
{
	struct sn_fdwatch *w = watch_find(n, fd);

	if (w == NULL)
		return;
	(void)epoll_ctl(n->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = true; /* freed after the current batch of events */
}

static void
watches_sweep(struct synode *n)
{
	struct sn_fdwatch **a = n->watches;
	unsigned j = 0;

	for (unsigned i = 0; i < n->n_watches; i++) {
		if (a[i]->dead)
			free(a[i]);
		else
			a[j++] = a[i];
	}
	n->n_watches = j;
}

/* --------------------------------------------------------------- requests */

static long
sn_futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, NULL, NULL, 0);
}

bool
sn_on_control_thread(const struct synode *n)
{
	return n->thread_tid != 0 && (pid_t)syscall(SYS_gettid) == n->thread_tid;
}

static void
req_complete(struct sn_req *r, int result)
{
	if (result == SN_PENDING)
		return;  /* r->wait.done completes it later */
	if (r->async) {
		free(r);  /* args live in the same allocation */
		return;
	}
	r->result = result;
	/* R5: pairs with A5 in sn_call(): the result is visible first. */
	atomic_store_explicit(&r->done, 1, memory_order_release);
	sn_futex(&r->done, FUTEX_WAKE_PRIVATE, 1);
}

static void
wake_control(struct synode *n)
{
	uint64_t one = 1;

	if (write(n->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		sn_log(n, SYNODE_LOG_ERROR, "eventfd write: %s", strerror(errno));
}

/*
 * Wake-ups. The control thread says in n->sleeping when it may block in
 * epoll_wait(); an enqueuer writes the eventfd only then, so writers that
 * keep a busy control thread fed pay no system call. The two sides order
 * "publish mine, then read theirs" with seq_cst (S1 here, S2 in
 * control_main()): either the enqueuer sees sleeping and wakes it, or the
 * control thread sees the request and does not block, so no wake-up is
 * lost. Neither side spins: on this 2-core machine with another process
 * busy, spinning 2 us or 20 us before blocking cut an embedding-API
 * register+unregister from 127K pairs/s to 56K and 11K (perf/node_bench),
 * the spinner burning the time slice the other thread needed.
 */

static int
enqueue(struct synode *n, struct sn_req *r)
{
	if (atomic_load_explicit(&n->stopping, memory_order_acquire))
		return -ESHUTDOWN;
	RTAB_TSAN_RELEASE(r); /* the wfcqueue hand-off, seen by TSan */
	cds_wfcq_enqueue(&n->qhead, &n->qtail, &r->qnode);
	atomic_thread_fence(memory_order_seq_cst); /* S1: pairs with S2 */
	if (atomic_load_explicit(&n->sleeping, memory_order_relaxed))
		wake_control(n);
	return 0;
}

static bool
queue_empty(struct synode *n)
{
	return cds_wfcq_empty(&n->qhead, &n->qtail);
}

static void
req_wait_done(struct synode *n, struct sn_wait *w, int result)
{
	struct sn_req *r = caa_container_of(w, struct sn_req, wait);

	(void)n;
	req_complete(r, result == SN_PENDING ? -EPROTO : result);
}

struct sn_wait *
sn_current_wait(struct synode *n)
{
	return n->cur_req != NULL ? &n->cur_req->wait : NULL;
}

struct sn_origin
sn_embedder(struct synode *n)
{
	struct sn_origin o = n->embedder;

	o.wait = sn_current_wait(n);
	return o;
}

int
sn_call(struct synode *n, int (*fn)(struct synode *, void *), void *args)
{
	struct sn_req r = { .fn = fn, .args = args, .wait = { req_wait_done } };
	int rc;

	if (sn_on_control_thread(n)) {
		/* Inline (an event callback): nothing here can wait for a peer. */
		struct sn_req *outer = n->cur_req;

		atomic_fetch_add_explicit(&n->st_requests, 1, memory_order_relaxed);
		n->cur_req = NULL;
		rc = fn(n, args);
		n->cur_req = outer;
		return rc == SN_PENDING ? -EDEADLK : rc;
	}
	cds_wfcq_node_init(&r.qnode);
	rc = enqueue(n, &r);
	if (rc != 0)
		return rc;
	/* A5: pairs with R5 in req_complete(). */
	while (atomic_load_explicit(&r.done, memory_order_acquire) == 0)
		sn_futex(&r.done, FUTEX_WAIT_PRIVATE, 0);
	return r.result;
}

static void
drain_requests(struct synode *n, bool refuse)
{
	struct sn_req *done[64];
	struct cds_wfcq_node *qn;
	unsigned n_done = 0;
	int rc;

	/*
	 * Callers are woken after the link has the messages their writes
	 * sent (sn_peer_flush()): a program that writes on one node and then
	 * on another finds its first write ahead of its second everywhere.
	 */
	while ((qn = __cds_wfcq_dequeue_blocking(&n->qhead, &n->qtail)) != NULL) {
		struct sn_req *r = caa_container_of(qn, struct sn_req, qnode);

		RTAB_TSAN_ACQUIRE(r);
		if (refuse && !r->async) {
			req_complete(r, -ESHUTDOWN);
			continue;
		}
		atomic_fetch_add_explicit(&n->st_requests, 1, memory_order_relaxed);
		n->cur_req = r->async ? NULL : r;
		rc = r->fn(n, r->args);
		n->cur_req = NULL;
		if (r->async || rc == SN_PENDING) {
			req_complete(r, rc);
			continue;
		}
		r->result = rc;
		done[n_done++] = r;
		if (n_done == sizeof(done) / sizeof(done[0])) {
			sn_peer_flush(n);
			for (unsigned i = 0; i < n_done; i++)
				req_complete(done[i], done[i]->result);
			n_done = 0;
		}
	}
	if (n_done > 0) {
		sn_peer_flush(n);
		for (unsigned i = 0; i < n_done; i++)
			req_complete(done[i], done[i]->result);
	}
}

static void
on_wake(struct synode *n, int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)arg;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		sn_log(n, SYNODE_LOG_ERROR, "eventfd read: %s", strerror(errno));
	drain_requests(n, false);
}

/* ------------------------------------------------------------ posted work */

/* Work a link posts (sn_link_post()): run once, then freed. */
struct posted {
	struct sn_req req;
	void (*fn)(struct synode *n, void *arg);
	void *arg;
};

static int
run_posted(struct synode *n, void *args)
{
	struct posted *p = args;

	p->fn(n, p->arg);
	return 0;
}

int
sn_link_post(struct synode *n, void (*fn)(struct synode *n, void *arg), void *arg)
{
	struct posted *p;
	int rc;

	if (n == NULL || fn == NULL)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	cds_wfcq_node_init(&p->req.qnode);
	p->req.fn = run_posted;
	p->req.args = p;
	p->req.async = true;
	p->fn = fn;
	p->arg = arg;
	rc = enqueue(n, &p->req);
	if (rc != 0)
		free(p);
	return rc;
}

void
sn_broadcast(struct synode *n, enum sn_msg_type type, const struct sn_scope *sc,
	     const void *name, size_t len, const struct synode_pid *pid, const void *meta,
	     size_t meta_len, const struct synode_time *t, const struct synode_reason *reason,
	     const char *except)
{
	struct sn_msg m = {
		.type = type,
		.scope = sc->name,
		.name = name,
		.name_len = len,
		.pid = *pid,
		.meta = meta,
		.meta_len = meta_len,
		.reason = *reason,
	};

	if (t != NULL)
		m.time = *t;
	sn_peer_send(n, sc, &m, except);
}

/* ----------------------------------------------------------------- events */

int
sn_listener_add(struct synode *n, synode_event_fn fn, void *arg)
{
	if (n->n_listeners == n->cap_listeners) {
		unsigned cap = n->cap_listeners ? 2 * n->cap_listeners : 8;
		struct sn_listener *a = realloc(n->listeners, cap * sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		n->listeners = a;
		n->cap_listeners = cap;
	}
	n->listeners[n->n_listeners++] = (struct sn_listener){ fn, arg, false };
	return 0;
}

static void
listeners_sweep(struct synode *n)
{
	unsigned j = 0;

	for (unsigned i = 0; i < n->n_listeners; i++)
		if (!n->listeners[i].removed)
			n->listeners[j++] = n->listeners[i];
	n->n_listeners = j;
}

void
sn_listener_del(struct synode *n, synode_event_fn fn, void *arg)
{
	for (unsigned i = 0; i < n->n_listeners; i++)
		if (n->listeners[i].fn == fn && n->listeners[i].arg == arg)
			n->listeners[i].removed = true;
	if (n->in_dispatch == 0)
		listeners_sweep(n);
}

void
sn_emit(struct synode *n, enum synode_event_kind kind, const struct sn_scope *sc,
	const void *name, size_t name_len, const struct synode_pid *pid,
	const void *meta, size_t meta_len, const void *prev, size_t prev_len,
	const struct synode_reason *reason)
{
	struct synode_event ev = {
		.kind = kind,
		.scope = sc->name,
		.name = name,
		.name_len = name_len,
		.pid = *pid,
		.meta = meta,
		.meta_len = meta_len,
		.prev_meta = prev,
		.prev_meta_len = prev_len,
		.reason = *reason,
	};

	atomic_fetch_add_explicit(&n->st_events, 1, memory_order_relaxed);
	n->in_dispatch++;
	if (n->p.on_event != NULL)
		n->p.on_event(&ev, n->p.event_arg);
	/* listeners added meanwhile wait for the next event */
	for (unsigned i = 0, end = n->n_listeners; i < end; i++)
		if (!n->listeners[i].removed)
			n->listeners[i].fn(&ev, n->listeners[i].arg);
	if (--n->in_dispatch == 0)
		listeners_sweep(n);
}

/* ---------------------------------------------------------------- origins */

uint64_t
sn_origin_new_conn(struct synode *n)
{
	return ++n->next_conn;
}

bool
sn_origin_owns(struct synode *n, const struct sn_origin *o, const struct synode_pid *pid)
{
	struct sn_proc *p;

	if (o->peer)
		return true;  /* the asking node checked its caller */
	if (!sn_pid_is_local(n, pid))
		return false;
	if (pid->id < SYNODE_HANDLE_ID_BASE)
		return o->os_pid > 0 && (uint64_t)o->os_pid == pid->id;
	p = sn_proc_find(n, pid->id);
	return p != NULL && p->is_handle && p->owner_conn == o->conn;
}

size_t
sn_max_name_len(const struct synode *n)
{
	return n->max_name_len;
}

size_t
sn_max_meta_len(const struct synode *n)
{
	return n->max_meta_len;
}

int
sn_check_name(const struct synode *n, const void *name, size_t len)
{
	if (name == NULL || len == 0)
		return -EINVAL;
	return len > n->max_name_len ? -ENAMETOOLONG : 0;
}

int
sn_check_pid(const struct synode_pid *pid)
{
	size_t len;

	if (pid == NULL)
		return -EINVAL;
	len = strnlen(pid->node, SYNODE_NODE_NAME_MAX + 1);
	return len == 0 || len > SYNODE_NODE_NAME_MAX ? -EINVAL : 0;
}

int
sn_check_meta(const struct synode *n, const void *meta, size_t len)
{
	if (meta == NULL && len)
		return -EINVAL;
	return len > n->max_meta_len ? -EMSGSIZE : 0;
}

struct synode_time
sn_now(struct synode *n)
{
	return sn_hlc_now(&n->hlc, sn_phys_now());
}

/* ------------------------------------------------------------- statistics */

void
sn_stats_add(struct synode *n, int64_t clients, uint64_t client_errors,
	     uint64_t subscribers_dropped)
{
	atomic_fetch_add_explicit(&n->st_clients, (uint64_t)clients, memory_order_relaxed);
	atomic_fetch_add_explicit(&n->st_client_errors, client_errors, memory_order_relaxed);
	atomic_fetch_add_explicit(&n->st_subscribers_dropped, subscribers_dropped,
				  memory_order_relaxed);
}

void
synode_get_stats(struct synode *n, struct synode_stats *st)
{
	st->requests = atomic_load_explicit(&n->st_requests, memory_order_relaxed);
	st->events = atomic_load_explicit(&n->st_events, memory_order_relaxed);
	st->monitors = atomic_load_explicit(&n->st_monitors, memory_order_relaxed);
	st->clients = atomic_load_explicit(&n->st_clients, memory_order_relaxed);
	st->client_errors = atomic_load_explicit(&n->st_client_errors, memory_order_relaxed);
	st->subscribers_dropped = atomic_load_explicit(&n->st_subscribers_dropped,
						       memory_order_relaxed);
	st->peer_messages = atomic_load_explicit(&n->st_peer_msgs, memory_order_relaxed);
	st->drops_bad_mac = st->drops_truncated = st->drops_replayed = 0;
	st->drops_unknown_peer = 0;
	st->drops_malformed = atomic_load_explicit(&n->st_peer_bad, memory_order_relaxed);
	st->drops_unknown_scope = atomic_load_explicit(&n->st_peer_unknown_scope,
						       memory_order_relaxed);
	if (n->link != NULL && n->link->ops != NULL && n->link->ops->stats != NULL)
		n->link->ops->stats(n->link->ctx, st);
}

/* ---------------------------------------------------------------- the loop */

static void *
control_main(void *arg)
{
	struct synode *n = arg;
	struct epoll_event evs[64];

	__atomic_store_n(&n->thread_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	urcu_memb_register_thread();
	while (!atomic_load_explicit(&n->stopping, memory_order_acquire)) {
		int k, timeout = 100;

		drain_requests(n, false);
		sn_peer_flush(n);
		atomic_store_explicit(&n->sleeping, true, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst); /* S2: pairs with S1 */
		if (!queue_empty(n))
			timeout = 0;  /* poll the fds, then serve the queue */
		k = epoll_wait(n->epfd, evs, 64, timeout);
		atomic_store_explicit(&n->sleeping, false, memory_order_relaxed);

		for (int i = 0; i < k; i++) {
			struct sn_fdwatch *w = evs[i].data.ptr;

			if (!w->dead)
				w->fn(n, w->fd, evs[i].events, w->arg);
		}
		watches_sweep(n);
		sn_proc_tick(n);
		sn_peer_flush(n);
	}
	/* Stopping: writes queued from now on are refused, and so are those
	 * still waiting for a peer's answer. */
	drain_requests(n, true);
	sn_cluster_stop(n);
	if (n->ctl != NULL) {
		sn_ctl_server_stop(n->ctl);
		n->ctl = NULL;
	}
	urcu_memb_unregister_thread();
	return NULL;
}

const char *
synode_name(const struct synode *n)
{
	return n->name;
}

static bool
valid_node_name(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > SYNODE_NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '@'))
			return false;
	}
	return true;
}

static void
node_free(struct synode *n)
{
	sn_cluster_fini(n);
	sn_proc_fini(n);
	sn_scopes_free(n);
	if (n->wakefd >= 0)
		close(n->wakefd);
	if (n->epfd >= 0)
		close(n->epfd);
	watches_sweep(n);
	for (unsigned i = 0; i < n->n_watches; i++)
		free(n->watches[i]);
	free(n->watches);
	free(n->listeners);
	free(n);
}

/* The rest of synode_start(), on the control thread: it writes tables. */
static int
start_on_thread(struct synode *n, void *args)
{
	int rc = 0;

	(void)args;
	for (unsigned i = 0; i < n->p.n_scopes && rc == 0; i++)
		rc = sn_add_scope(n, n->p.scopes[i]);
	if (rc < 0)
		return rc;
	if (n->p.control_path != NULL) {
		n->ctl = sn_ctl_server_start(n, n->p.control_path);
		if (n->ctl == NULL)
			return -errno;
	}
	return 0;
}

struct synode *
synode_start(const struct synode_params *p)
{
	struct synode *n;
	int rc = -EINVAL;

	if (p == NULL || !valid_node_name(p->name) ||
	    p->max_name_len > SYNODE_NAME_MAX_LIMIT || p->max_meta_len > SYNODE_META_MAX_LIMIT ||
	    (p->n_scopes && p->scopes == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->epfd = n->wakefd = n->cnfd = -1;
	n->p = *p;
	if (n->p.log_level == 0 && p->log == NULL && p->log_level == SYNODE_LOG_ERROR)
		n->p.log_level = SYNODE_LOG_NOTICE;
	strcpy(n->name, p->name);
	n->name_len = strlen(n->name);
	n->p.name = n->name;
	n->max_name_len = p->max_name_len ? p->max_name_len : SYNODE_NAME_MAX_DEFAULT;
	n->max_meta_len = p->max_meta_len ? p->max_meta_len : SYNODE_META_MAX_DEFAULT;
	n->embedder.os_pid = getpid();
	n->embedder.conn = 0;
	n->link = p->link;
	n->next_handle = SYNODE_HANDLE_ID_BASE;
	cds_wfcq_init(&n->qhead, &n->qtail);

	n->epfd = epoll_create1(EPOLL_CLOEXEC);
	n->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->epfd < 0 || n->wakefd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = sn_loop_add(n, n->wakefd, EPOLLIN, on_wake, NULL);
	if (rc != 0)
		goto fail;
	n->scopes = rtab_set_create(NULL);
	if (n->scopes == NULL) {
		rc = -errno;
		goto fail;
	}
	rc = sn_proc_init(n);
	if (rc == 0)
		rc = sn_cluster_init(n);
	if (rc != 0)
		goto fail;
	rc = -pthread_create(&n->thread, NULL, control_main, n);
	if (rc != 0)
		goto fail;
	/* Wait until the thread knows its id, so sn_call() can tell. */
	while (__atomic_load_n(&n->thread_tid, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	rc = sn_call(n, start_on_thread, NULL);
	if (rc != 0) {
		atomic_store_explicit(&n->stopping, true, memory_order_release);
		wake_control(n);
		pthread_join(n->thread, NULL);
		goto fail;
	}
	sn_log(n, SYNODE_LOG_INFO, "node %s started with %u scope(s)", n->name, p->n_scopes);
	return n;

fail:
	node_free(n);
	errno = -rc;
	return NULL;
}

void
synode_stop(struct synode *n)
{
	if (n == NULL)
		return;
	atomic_store_explicit(&n->stopping, true, memory_order_release);
	wake_control(n);
	pthread_join(n->thread, NULL);
	node_free(n);
}
