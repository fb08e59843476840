/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the embedding API tests (test_node_*.c):
 *   - a node started with an event collector: the callback (on the node's
 *     control thread) deep-copies each event into a mutex+condvar queue,
 *     and the test waits for the exact events it expects, in order
 *     (nt_expect) or as a set (nt_expect_set), each wait bounded by
 *     NT_EVENT_WAIT_MS; nt_node_stop() fails on any event left unchecked;
 *   - real child processes (fork) that block until they are killed with a
 *     signal or told through a pipe to _exit(CODE), reaped when the test
 *     says so (before or after the node has seen the death);
 *   - a runner of named cases (--only NAME runs one; --cases A,B,... checks
 *     that meson.build lists every case).
 * CHECK macros and the seed come from tests/rcu_tables/test_util.h; a
 * failure ends the process at once, and PR_SET_PDEATHSIG takes the
 * children with it.
 */
#ifndef NODE_TEST_UTIL_H
#define NODE_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <urcu/urcu-memb.h>

#include "../rcu_tables/test_util.h"
#include "synode.h"

/** How long a test waits for an event it expects. */
#define NT_EVENT_WAIT_MS 5000

/** Name of the node every test starts (unless it says otherwise). */
#define NT_NODE "n1"

/* ---------------------------------------------------------------- events */

/** A deep copy of a synode_event. */
struct nt_event {
	enum synode_event_kind kind;
	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	unsigned char *name;
	size_t name_len;
	struct synode_pid pid;
	unsigned char *meta;
	size_t meta_len;
	bool has_prev;           /* prev_meta != NULL in the callback */
	unsigned char *prev;
	size_t prev_len;
	struct synode_reason reason;
	pid_t tid;               /* thread that ran the callback */
};

struct nt_collector {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct nt_event *q;      /* queue: [head, tail) */
	size_t head, tail, cap;
	bool count_only;         /* keep no copies, only count (stress) */
	uint64_t by_kind[SYNODE_EV_LEFT + 1];
	uint64_t total;
	bool gate_closed;        /* callbacks wait while closed (tests hold the
				    control thread with it) */
	unsigned gate_waiting;
	/* called on the control thread after each event is queued */
	void (*hook)(const struct synode_event *ev, void *arg);
	void *hook_arg;
};

static inline pid_t
nt_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline void *
nt_dup(const void *p, size_t len)
{
	unsigned char *d = malloc(len + 1);

	CHECK(d != NULL);
	if (len)
		memcpy(d, p, len);
	d[len] = 0;
	return d;
}

static inline void
nt_event_free(struct nt_event *e)
{
	free(e->name);
	free(e->meta);
	free(e->prev);
	memset(e, 0, sizeof(*e));
}

static inline void
nt_col_init(struct nt_collector *c)
{
	memset(c, 0, sizeof(*c));
	CHECK(pthread_mutex_init(&c->mu, NULL) == 0);
	CHECK(pthread_cond_init(&c->cv, NULL) == 0);
}

static inline void
nt_col_destroy(struct nt_collector *c)
{
	for (size_t i = c->head; i < c->tail; i++)
		nt_event_free(&c->q[i]);
	free(c->q);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

/* The node's event callback: runs on its control thread. */
static void
nt_on_event(const struct synode_event *ev, void *arg)
{
	struct nt_collector *c = arg;
	struct nt_event e;

	CHECK(ev != NULL && ev->scope != NULL);
	CHECK(ev->kind >= SYNODE_EV_REGISTERED && ev->kind <= SYNODE_EV_LEFT);
	CHECK(ev->name != NULL && ev->name_len > 0);
	CHECK(ev->meta != NULL || ev->meta_len == 0);
	memset(&e, 0, sizeof(e));
	pthread_mutex_lock(&c->mu);
	c->gate_waiting++;
	pthread_cond_broadcast(&c->cv);
	while (c->gate_closed)
		pthread_cond_wait(&c->cv, &c->mu);
	c->gate_waiting--;
	c->by_kind[ev->kind]++;
	c->total++;
	if (c->count_only) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	pthread_mutex_unlock(&c->mu);

	e.kind = ev->kind;
	CHECK(strlen(ev->scope) <= SYNODE_SCOPE_NAME_MAX);
	strcpy(e.scope, ev->scope);
	e.name = nt_dup(ev->name, ev->name_len);
	e.name_len = ev->name_len;
	e.pid = ev->pid;
	e.meta = nt_dup(ev->meta, ev->meta_len);
	e.meta_len = ev->meta_len;
	e.has_prev = ev->prev_meta != NULL;
	e.prev = ev->prev_meta ? nt_dup(ev->prev_meta, ev->prev_meta_len) : NULL;
	e.prev_len = ev->prev_meta_len;
	e.reason = ev->reason;
	e.tid = nt_gettid();

	pthread_mutex_lock(&c->mu);
	if (c->head > 0 && c->head == c->tail)
		c->head = c->tail = 0;
	if (c->tail == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct nt_event *q = realloc(c->q, cap * sizeof(*q));

		CHECK(q != NULL);
		c->q = q;
		c->cap = cap;
	}
	c->q[c->tail++] = e;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->hook != NULL)
		c->hook(ev, c->hook_arg);
}

static inline void
nt_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/** Takes the next event, waiting up to @p ms. Returns false on timeout. */
static inline bool
nt_next_event(struct nt_collector *c, unsigned ms, struct nt_event *out)
{
	struct timespec dl;
	bool got = false;

	nt_deadline(&dl, ms);
	pthread_mutex_lock(&c->mu);
	while (c->head == c->tail) {
		if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT)
			break;
	}
	if (c->head < c->tail) {
		*out = c->q[c->head++];
		got = true;
	}
	pthread_mutex_unlock(&c->mu);
	return got;
}

/** Events queued and not yet taken. */
static inline size_t
nt_pending(struct nt_collector *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->tail - c->head;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/** Closes (true) or opens the gate: while closed, callbacks wait. */
static inline void
nt_gate(struct nt_collector *c, bool closed)
{
	pthread_mutex_lock(&c->mu);
	c->gate_closed = closed;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/** Waits until a callback waits at the closed gate (bounded). */
static inline void
nt_gate_wait_blocked(struct nt_collector *c)
{
	struct timespec dl;

	nt_deadline(&dl, NT_EVENT_WAIT_MS);
	pthread_mutex_lock(&c->mu);
	while (c->gate_waiting == 0)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT)
			break;
	CHECK_MSG(c->gate_waiting > 0, "no event reached the gate in %d ms",
		  NT_EVENT_WAIT_MS);
	pthread_mutex_unlock(&c->mu);
}

static inline uint64_t
nt_count_kind(struct nt_collector *c, enum synode_event_kind k)
{
	uint64_t v;

	pthread_mutex_lock(&c->mu);
	v = c->by_kind[k];
	pthread_mutex_unlock(&c->mu);
	return v;
}

static inline uint64_t
nt_count_total(struct nt_collector *c)
{
	uint64_t v;

	pthread_mutex_lock(&c->mu);
	v = c->total;
	pthread_mutex_unlock(&c->mu);
	return v;
}

/** An event a test expects. Names and meta are bytes with a length. */
struct nt_want {
	enum synode_event_kind kind;
	const char *scope;
	const void *name;
	size_t name_len;
	const struct synode_pid *pid;
	const void *meta;
	size_t meta_len;
	const void *prev;        /* NULL: the event must carry no prev_meta */
	size_t prev_len;
	const char *reason;      /* as synode_reason_format() prints it */
};

static inline void
nt_fmt_bytes(char *out, size_t size, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < len && o + 5 < size; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
			out[o++] = (char)b[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", b[i]);
		out[o] = 0;
	}
}

static inline void
nt_fmt_event(char *out, size_t size, const struct nt_event *e)
{
	char name[128], meta[128], prev[128], reason[64], pid[96];

	nt_fmt_bytes(name, sizeof(name), e->name, e->name_len);
	nt_fmt_bytes(meta, sizeof(meta), e->meta, e->meta_len);
	if (e->has_prev)
		nt_fmt_bytes(prev, sizeof(prev), e->prev, e->prev_len);
	else
		strcpy(prev, "(none)");
	synode_reason_format(&e->reason, reason, sizeof(reason));
	if (synode_pid_format(&e->pid, pid, sizeof(pid)) < 0)
		strcpy(pid, "?");
	snprintf(out, size, "%s scope=%s name=\"%s\" pid=%s meta=\"%s\" prev=\"%s\" reason=%s",
		 synode_event_name(e->kind), e->scope, name, pid, meta, prev, reason);
}

static inline void
nt_fmt_want(char *out, size_t size, const struct nt_want *w)
{
	char name[128], meta[128], prev[128], pid[96];

	nt_fmt_bytes(name, sizeof(name), w->name, w->name_len);
	nt_fmt_bytes(meta, sizeof(meta), w->meta, w->meta_len);
	if (w->prev != NULL)
		nt_fmt_bytes(prev, sizeof(prev), w->prev, w->prev_len);
	else
		strcpy(prev, "(none)");
	if (synode_pid_format(w->pid, pid, sizeof(pid)) < 0)
		strcpy(pid, "?");
	snprintf(out, size, "%s scope=%s name=\"%s\" pid=%s meta=\"%s\" prev=\"%s\" reason=%s",
		 synode_event_name(w->kind), w->scope, name, pid, meta, prev, w->reason);
}

/* Whether event @p e is the one @p w describes, field by field. */
static inline bool
nt_event_matches(const struct nt_event *e, const struct nt_want *w)
{
	char reason[64];

	synode_reason_format(&e->reason, reason, sizeof(reason));
	return e->kind == w->kind && strcmp(e->scope, w->scope) == 0 &&
	       e->name_len == w->name_len && memcmp(e->name, w->name, w->name_len) == 0 &&
	       synode_pid_cmp(&e->pid, w->pid) == 0 &&
	       e->meta_len == w->meta_len &&
	       (w->meta_len == 0 || memcmp(e->meta, w->meta, w->meta_len) == 0) &&
	       e->has_prev == (w->prev != NULL) &&
	       (!e->has_prev || (e->prev_len == w->prev_len &&
				 (w->prev_len == 0 || memcmp(e->prev, w->prev, w->prev_len) == 0))) &&
	       strcmp(reason, w->reason) == 0;
}

/* Events run on the control thread, never on the thread that asked. */
static pid_t nt_main_tid;

static inline void
nt_check_thread(const char *file, int line, const struct nt_event *e)
{
	if (e->tid == nt_main_tid)
		tu_failf(file, line, "event thread", "an event ran on the test's main thread");
}

/** The next event must be @p w (waits up to NT_EVENT_WAIT_MS). */
static inline void
nt_expect_at(const char *file, int line, struct nt_collector *c, const struct nt_want *w)
{
	char want[600], got[600];
	struct nt_event e;

	nt_fmt_want(want, sizeof(want), w);
	if (!nt_next_event(c, NT_EVENT_WAIT_MS, &e))
		tu_failf(file, line, "expected event", "none came in %d ms; wanted: %s",
			 NT_EVENT_WAIT_MS, want);
	nt_check_thread(file, line, &e);
	if (!nt_event_matches(&e, w)) {
		nt_fmt_event(got, sizeof(got), &e);
		tu_failf(file, line, "expected event", "\n  wanted: %s\n  got:    %s", want, got);
	}
	nt_event_free(&e);
}

/** The next @p n events must be those of @p w, in any order. */
static inline void
nt_expect_set_at(const char *file, int line, struct nt_collector *c,
		 const struct nt_want *w, size_t n)
{
	bool used[64] = { false };
	char buf[600];

	CHECK(n <= 64);
	for (size_t k = 0; k < n; k++) {
		struct nt_event e;
		size_t i;

		if (!nt_next_event(c, NT_EVENT_WAIT_MS, &e)) {
			fprintf(stderr, "  still missing:\n");
			for (i = 0; i < n; i++)
				if (!used[i]) {
					nt_fmt_want(buf, sizeof(buf), &w[i]);
					fprintf(stderr, "    %s\n", buf);
				}
			tu_failf(file, line, "expected events", "%zu of %zu came in %d ms",
				 k, n, NT_EVENT_WAIT_MS);
		}
		nt_check_thread(file, line, &e);
		for (i = 0; i < n; i++)
			if (!used[i] && nt_event_matches(&e, &w[i]))
				break;
		if (i == n) {
			nt_fmt_event(buf, sizeof(buf), &e);
			tu_failf(file, line, "expected events", "unexpected (or repeated): %s", buf);
		}
		used[i] = true;
		nt_event_free(&e);
	}
}

/** No event may come within @p ms (0: none may be queued now). */
static inline void
nt_expect_none_at(const char *file, int line, struct nt_collector *c, unsigned ms)
{
	struct nt_event e;
	char got[600];

	if (nt_next_event(c, ms, &e)) {
		nt_fmt_event(got, sizeof(got), &e);
		tu_failf(file, line, "no event", "got: %s", got);
	}
}

#define nt_expect(c, ...)                                                     \
	do {                                                                  \
		const struct nt_want nt_w_ = { __VA_ARGS__ };                 \
		nt_expect_at(__FILE__, __LINE__, (c), &nt_w_);                \
	} while (0)
#define nt_expect_set(c, w, n) nt_expect_set_at(__FILE__, __LINE__, (c), (w), (n))
#define nt_expect_none(c, ms) nt_expect_none_at(__FILE__, __LINE__, (c), (ms))

/* Shorthands for string names and meta in nt_want initialisers. */
#define NT_S(s) (s), strlen(s)
#define NT_NOPREV NULL, 0

/* ------------------------------------------------------------------ nodes */

struct nt_node {
	struct synode *n;
	struct nt_collector col;
	bool no_connector;       /* the node logged that exit reasons are lost */
};

static void
nt_log(enum synode_log_level level, const char *msg, void *arg)
{
	struct nt_node *t = arg;

	if (strstr(msg, "process-events connector") != NULL)
		t->no_connector = true;
	fprintf(stderr, "  node log (%d): %s\n", (int)level, msg);
}

static const char *const nt_default_scopes[] = { "s1", "s2" };

/** Parameters of a test node: NT_NODE serving s1 and s2. */
static inline void
nt_params(struct synode_params *p)
{
	memset(p, 0, sizeof(*p));
	p->name = NT_NODE;
	p->scopes = nt_default_scopes;
	p->n_scopes = 2;
	p->log_level = SYNODE_LOG_WARNING;
}

/** Starts a node with @p p (NULL: nt_params()) and an event collector. */
static inline void
nt_node_start(struct nt_node *t, const struct synode_params *p)
{
	struct synode_params q;

	memset(t, 0, sizeof(*t));
	if (p != NULL)
		q = *p;
	else
		nt_params(&q);
	nt_col_init(&t->col);
	q.on_event = nt_on_event;
	q.event_arg = &t->col;
	q.log = nt_log;
	q.log_arg = t;
	if (q.log_level == 0)
		q.log_level = SYNODE_LOG_WARNING;
	t->n = synode_start(&q);
	CHECK_MSG(t->n != NULL, "synode_start: %s", strerror(errno));
	CHECK(strcmp(synode_name(t->n), q.name) == 0);
}

/** Stops the node; every event must have been checked. */
static inline void
nt_node_stop(struct nt_node *t)
{
	nt_expect_none(&t->col, 0);
	synode_stop(t->n);
	t->n = NULL;
	nt_col_destroy(&t->col);
}

/** A write that changes nothing, so that every write asked before it, and
 * every death the control thread handled before it, is done. */
static inline void
nt_barrier(struct nt_node *t)
{
	CHECK_EQ(synode_add_scope(t->n, "s1"), 0);
}

/** A new handle of the node. */
static inline struct synode_pid
nt_handle(struct nt_node *t)
{
	struct synode_pid p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(synode_handle_new(t->n, &p), 0);
	CHECK(p.id >= SYNODE_HANDLE_ID_BASE);
	CHECK(strcmp(p.node, synode_name(t->n)) == 0);
	return p;
}

/* -------------------------------------------------------------- children */

/** A child process: blocks until killed, or told to _exit(CODE). */
struct nt_child {
	pid_t pid;
	int wfd;                 /* write CODE here: the child _exits(CODE) */
	bool reaped;
	int status;              /* wait status once reaped */
};

#define NT_MAX_CHILDREN 64
static pid_t nt_children[NT_MAX_CHILDREN];

static inline void
nt_child_spawn(struct nt_child *c)
{
	int fds[2];
	pid_t parent = getpid();
	unsigned slot;

	for (slot = 0; slot < NT_MAX_CHILDREN && nt_children[slot] != 0; slot++)
		;
	CHECK(slot < NT_MAX_CHILDREN);
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	c->pid = fork();
	CHECK(c->pid >= 0);
	if (c->pid == 0) {
		unsigned char code = 0;

		/* only async-signal-safe calls: the parent has threads */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		if (dup2(fds[0], 3) < 0)
			_exit(98);
		(void)syscall(SYS_close_range, 4u, ~0u, 0u);
		while (read(3, &code, 1) < 0 && errno == EINTR)
			;
		_exit(code);
	}
	close(fds[0]);
	c->wfd = fds[1];
	c->reaped = false;
	c->status = 0;
	nt_children[slot] = c->pid;
}

static inline void
nt_child_forget(pid_t pid)
{
	for (unsigned i = 0; i < NT_MAX_CHILDREN; i++)
		if (nt_children[i] == pid)
			nt_children[i] = 0;
}

/** The child's process as a synode_pid of node @p t. */
static inline struct synode_pid
nt_child_pid(struct nt_node *t, const struct nt_child *c)
{
	struct synode_pid p;

	memset(&p, 0, sizeof(p));
	synode_pid_os(t->n, c->pid, &p);
	CHECK_EQ(p.id, c->pid);
	CHECK(strcmp(p.node, synode_name(t->n)) == 0);
	return p;
}

/** Tells the child to _exit(@p code). */
static inline void
nt_child_exit(struct nt_child *c, int code)
{
	unsigned char b = (unsigned char)code;

	CHECK_EQ(write(c->wfd, &b, 1), 1);
}

static inline void
nt_child_kill(struct nt_child *c, int sig)
{
	CHECK_MSG(kill(c->pid, sig) == 0, "kill(%d): %s", (int)c->pid, strerror(errno));
}

/** Waits until the child is a zombie, without reaping it. */
static inline void
nt_child_wait_zombie(struct nt_child *c)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	CHECK_MSG(waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOWAIT) == 0, "waitid: %s",
		  strerror(errno));
	CHECK_EQ(si.si_pid, c->pid);
}

/** Reaps the child; returns its wait status. */
static inline int
nt_child_reap(struct nt_child *c)
{
	pid_t r;

	CHECK(!c->reaped);
	while ((r = waitpid(c->pid, &c->status, 0)) < 0 && errno == EINTR)
		;
	CHECK_MSG(r == c->pid, "waitpid(%d): %s", (int)c->pid, strerror(errno));
	c->reaped = true;
	close(c->wfd);
	nt_child_forget(c->pid);
	return c->status;
}

/** Kills (SIGKILL) and reaps the child if the test has not. */
static inline void
nt_child_cleanup(struct nt_child *c)
{
	if (c->reaped)
		return;
	(void)kill(c->pid, SIGKILL);
	(void)nt_child_reap(c);
}

/* ------------------------------------------------------------------ cases */

struct nt_case {
	const char *name;
	void (*fn)(void);
};

/**
 * Runs the cases (or only the one --only names). The calling (main) thread
 * is RCU-registered for the read functions, and its id is recorded to
 * check that events come on the control thread.
 */
static inline int
nt_run(int argc, char **argv, const struct nt_case *cases, size_t n)
{
	const char *only = NULL, *list = NULL;
	struct tu_opt opts[] = {
		{ "--only", NULL, &only, "run only the case of this name" },
		{ "--cases", NULL, &list,
		  "run nothing; check that the cases are exactly this comma-separated list" },
	};
	unsigned ran = 0;

	tu_parse_args(argc, argv, opts, 2);
	if (list != NULL) {
		/* meson.build lists the cases to run one by one: none may be missed */
		size_t listed = 0;

		for (const char *p = list; *p != '\0'; listed++) {
			size_t len = strcspn(p, ",");
			size_t i;

			for (i = 0; i < n; i++)
				if (strlen(cases[i].name) == len &&
				    memcmp(cases[i].name, p, len) == 0)
					break;
			CHECK_MSG(i < n, "listed case %.*s does not exist", (int)len, p);
			p += len + (p[len] == ',');
		}
		CHECK_MSG(listed == n, "%zu cases listed, %zu exist: list them all in meson.build",
			  listed, n);
		printf("the %zu cases are listed\n", n);
		return 0;
	}
	nt_main_tid = nt_gettid();
	urcu_memb_register_thread();
	for (size_t i = 0; i < n; i++) {
		if (only != NULL && strcmp(only, cases[i].name) != 0)
			continue;
		printf("# %s\n", cases[i].name);
		fflush(stdout);
		cases[i].fn();
		printf("ok %s\n", cases[i].name);
		fflush(stdout);
		ran++;
	}
	urcu_memb_unregister_thread();
	CHECK_MSG(ran > 0, "no case named %s", only ? only : "(none)");
	printf("%u case(s) passed\n", ran);
	return 0;
}

/* ----------------------------------------------------------- read helpers */

/** lookup of a string name; returns the result, fills @p pid and @p meta. */
static inline int
nt_lookup(struct nt_node *t, const char *scope, const char *name, struct synode_pid *pid,
	  char *meta, size_t meta_size)
{
	size_t len = meta_size;
	int rc;

	memset(pid, 0, sizeof(*pid));
	rc = synode_lookup(t->n, scope, name, strlen(name), pid, meta, &len);
	if (rc == 0 && meta != NULL) {
		CHECK_MSG(len < meta_size, "meta of %zu bytes", len);
		meta[len] = 0;
	}
	return rc;
}

/** Fails unless @p name is registered to @p pid with meta @p meta. */
#define nt_check_reg(t, scope, name, want_pid, want_meta)                    \
	do {                                                                 \
		struct synode_pid nt_p_;                                     \
		char nt_m_[256];                                             \
		CHECK_EQ(nt_lookup((t), (scope), (name), &nt_p_, nt_m_,      \
				   sizeof(nt_m_)), 0);                       \
		CHECK(synode_pid_cmp(&nt_p_, (want_pid)) == 0);              \
		CHECK_MSG(strcmp(nt_m_, (want_meta)) == 0, "meta \"%s\"",    \
			  nt_m_);                                            \
	} while (0)

/** Fails unless @p name is not registered. */
#define nt_check_unreg(t, scope, name)                                       \
	do {                                                                 \
		struct synode_pid nt_p_;                                     \
		CHECK_EQ(nt_lookup((t), (scope), (name), &nt_p_, NULL, 0),   \
			 -SYNODE_EUNDEFINED);                                \
	} while (0)

#endif /* NODE_TEST_UTIL_H */
