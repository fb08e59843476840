/* SPDX-License-Identifier: MIT */
/*
 * The client library (synode_client.h): synode.h's API over a node's
 * control socket. Blocking calls over a non-blocking socket: every wait is
 * a poll() bounded by the connection's timeout, so a node that hangs
 * costs a caller its timeout, never its thread.
 *
 * One request at a time per connection: a call sends its frame and reads
 * frames until its answer is complete (one RESULT-like frame, or items
 * then END). Any surprise on the stream (a wrong request id, an
 * unexpected type, an undecodable frame) or a timeout leaves the stream
 * at an unknown place, so the connection is marked broken and every later
 * call fails at once with the same error.
 *
 * Links only the codec (ctl_proto.c) and synode_util.c: no liburcu.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_proto_internal.h"
#include "synode_client.h"

/* Read buffer: one frame and room to read the next ones ahead. */
#define CLIENT_RBUF (CTL_FRAME_MAX + 64 * 1024)

struct synode_client {
	int fd;
	int timeout_ms;
	uint32_t next_id;
	int broken;             /* 0, or what every later call returns */
	bool watching;
	uint32_t watch_req;
	char node[SYNODE_NODE_NAME_MAX + 1];
	size_t max_name_len, max_meta_len;

	uint8_t *rbuf;          /* unread: rbuf[roff, rlen) */
	size_t roff, rlen;
	uint8_t wbuf[CTL_FRAME_MAX];
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @p deadline (-1: none) for poll(). */
static int
ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static int64_t
deadline_in(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* The stream is lost: this and every later call return @p err. */
static int
client_break(struct synode_client *c, int err)
{
	if (c->broken == 0)
		c->broken = err;
	return err;
}

/* Sends @p len bytes of wbuf. */
static int
send_all(struct synode_client *c, size_t len)
{
	int64_t deadline = deadline_in(c->timeout_ms);
	size_t off = 0;

	while (off < len) {
		ssize_t k = send(c->fd, c->wbuf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k > 0) {
			off += (size_t)k;
			deadline = deadline_in(c->timeout_ms);
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return client_break(c, errno == EPIPE ? -ECONNRESET : -errno);
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		int r = poll(&p, 1, ms_left(deadline));

		if (r == 0)
			return client_break(c, -ETIMEDOUT);
		if (r < 0 && errno != EINTR)
			return client_break(c, -errno);
	}
	return 0;
}

/*
 * Reads the next frame into @p m (which points into the read buffer until
 * the next read), waiting at most @p timeout_ms (negative: no limit).
 * Returns 1, 0 on timeout (the stream is intact: part of a frame may be
 * buffered), or -ECONNRESET (end of stream), -EPROTO, -errno.
 */
static int
read_frame(struct synode_client *c, struct ctl_msg *m, int timeout_ms)
{
	int64_t deadline = deadline_in(timeout_ms);

	for (;;) {
		int r = ctl_decode(c->rbuf + c->roff, c->rlen - c->roff, m);
		ssize_t k;

		if (r > 0) {
			c->roff += (size_t)r;
			return 1;
		}
		if (r != -CTL_ETRUNCATED)
			return client_break(c, -EPROTO);
		if (c->roff > 0) {
			memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
			c->rlen -= c->roff;
			c->roff = 0;
		}
		k = recv(c->fd, c->rbuf + c->rlen, CLIENT_RBUF - c->rlen, MSG_DONTWAIT);
		if (k > 0) {
			c->rlen += (size_t)k;
			continue;
		}
		if (k == 0)
			return client_break(c, -ECONNRESET);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return client_break(c, errno == EPIPE ? -ECONNRESET : -errno);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int left = ms_left(deadline);

		if (left == 0 && deadline >= 0)
			return 0;
		r = poll(&p, 1, left);
		if (r == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return client_break(c, -errno);
	}
}

/* The error an ERROR frame carries: the node closes after it. */
static int
error_frame(struct synode_client *c, const struct ctl_msg *m)
{
	int err = m->code < 0 ? m->code : -EPROTO;

	/* A dropped watcher: to the caller, the connection is gone. */
	if (err == -ENOBUFS)
		err = -ECONNRESET;
	client_break(c, -ECONNRESET);
	return err;
}

/* Reads the next frame of the answer to request @p id. */
static int
read_answer(struct synode_client *c, uint32_t id, struct ctl_msg *m)
{
	int r = read_frame(c, m, c->timeout_ms);

	if (r == 0)
		return client_break(c, -ETIMEDOUT);
	if (r < 0)
		return r;
	if (m->type == CTL_MSG_ERROR)
		return error_frame(c, m);
	if (m->req_id != id || m->type < CTL_MSG_HELLO_OK)
		return client_break(c, -EPROTO);
	return 0;
}

/* Whether a call may start; encodes and sends @p m with a new id. */
static int
send_request(struct synode_client *c, struct ctl_msg *m)
{
	int len;

	if (c == NULL)
		return -EINVAL;
	if (c->broken != 0)
		return c->broken;
	if (c->watching)
		return -EBUSY;
	m->req_id = ++c->next_id;
	len = ctl_encode(m, c->wbuf, sizeof(c->wbuf));
	if (len < 0)
		return -EINVAL; /* the argument checks let nothing else through */
	return send_all(c, (size_t)len);
}

/* A request answered by one RESULT. */
static int64_t
call_result(struct synode_client *c, struct ctl_msg *m)
{
	struct ctl_msg a;
	int r = send_request(c, m);

	if (r == 0)
		r = read_answer(c, m->req_id, &a);
	if (r < 0)
		return r;
	if (a.type != CTL_MSG_RESULT)
		return client_break(c, -EPROTO);
	return a.value;
}

/* ------------------------------------------------------- argument checks */

/* Scope of a request: NULL is -EINVAL; a name the node could not serve
 * (over SYNODE_SCOPE_NAME_MAX) gives @p too_long. */
static int
put_scope(struct ctl_msg *m, const char *scope, int too_long)
{
	size_t len;

	if (scope == NULL)
		return -EINVAL;
	len = strnlen(scope, SYNODE_SCOPE_NAME_MAX + 1);
	if (len > SYNODE_SCOPE_NAME_MAX)
		return too_long;
	memcpy(m->scope, scope, len + 1);
	return 0;
}

static int
put_key(struct ctl_msg *m, const void *key, size_t len)
{
	if (key == NULL && len > 0)
		return -EINVAL;
	if (len > SYNODE_NAME_MAX_LIMIT)
		return -ENAMETOOLONG;
	m->key = key;
	m->key_len = len;
	return 0;
}

static int
put_meta(struct ctl_msg *m, const void *meta, size_t len)
{
	if (meta == NULL && len > 0)
		return -EINVAL;
	if (len > SYNODE_META_MAX_LIMIT)
		return -EMSGSIZE;
	m->meta = meta;
	m->meta_len = len;
	return 0;
}

static int
put_pid(struct ctl_msg *m, const struct synode_pid *pid)
{
	if (pid == NULL || strnlen(pid->node, sizeof(pid->node)) > SYNODE_NODE_NAME_MAX)
		return -EINVAL;
	m->pid = *pid;
	return 0;
}

static int
put_node(struct ctl_msg *m, const char *node)
{
	size_t len;

	m->has_node = node != NULL;
	if (node == NULL)
		return 0;
	len = strnlen(node, SYNODE_NODE_NAME_MAX + 1);
	if (len > SYNODE_NODE_NAME_MAX)
		return -EINVAL;
	memcpy(m->node, node, len + 1);
	return 0;
}

/* ------------------------------------------------------------- connection */

static int
connect_retry(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		/* The node's backlog is full: it is busy, not gone. */
		if (deadline >= 0 && now_ms() >= deadline)
			return -ETIMEDOUT;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

struct synode_client *
synode_client_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct synode_client *c;
	struct ctl_msg m, a;
	int64_t deadline = deadline_in(timeout_ms);
	int rc, left;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->rbuf = malloc(CLIENT_RBUF);
	if (c->rbuf == NULL) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = connect_retry(c->fd, &sa, deadline);
	if (rc < 0)
		goto fail;

	/* HELLO, bounded by what is left of the connect timeout. */
	left = ms_left(deadline);
	c->timeout_ms = left;
	ctl_msg_init(&m, CTL_MSG_HELLO, 0);
	m.n_versions = 1;
	m.versions[0] = CTL_PROTO_VERSION;
	rc = send_request(c, &m);
	if (rc == -ECONNRESET) {
		/* The node may have refused us at once, and said why. */
		c->broken = 0;
		rc = 0;
	}
	if (rc == 0)
		rc = read_answer(c, m.req_id, &a);
	if (rc == 0 && (a.type != CTL_MSG_HELLO_OK || a.version != CTL_PROTO_VERSION))
		rc = -EPROTO;
	if (rc < 0)
		goto fail;
	memcpy(c->node, a.node, sizeof(c->node));
	c->max_name_len = a.max_name_len;
	c->max_meta_len = a.max_meta_len;
	c->timeout_ms = timeout_ms;
	return c;

fail:
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c);
	errno = -rc;
	return NULL;
}

void
synode_client_close(struct synode_client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->rbuf);
	free(c);
}

void
synode_client_set_timeout(struct synode_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

const char *
synode_client_node_name(const struct synode_client *c)
{
	return c->node;
}

size_t
synode_client_max_name_len(const struct synode_client *c)
{
	return c->max_name_len;
}

size_t
synode_client_max_meta_len(const struct synode_client *c)
{
	return c->max_meta_len;
}

void
synode_client_pid_os(const struct synode_client *c, pid_t os_pid, struct synode_pid *pid)
{
	pid->id = (uint64_t)os_pid;
	memcpy(pid->node, c->node, sizeof(pid->node));
}

int
synode_client_fd(const struct synode_client *c)
{
	return c->fd;
}

/* --------------------------------------------------------------- listings */

/* A peer of a PEER_ITEM; its strings are @p a's. */
static void
peer_of_item(struct synode_client_peer *p, const struct ctl_msg *a)
{
	*p = (struct synode_client_peer){
		.node = a->node,
		.scope = a->scope,
		.state = a->state,
		.address = a->address,
		.version = a->peer.version,
		.rtt_ns = a->peer.rtt_ns,
		.frames_tx = a->peer.frames_tx,
		.frames_rx = a->peer.frames_rx,
		.bytes_tx = a->peer.bytes_tx,
		.bytes_rx = a->peer.bytes_rx,
		.retransmits = a->peer.retransmits,
		.drops = a->peer.drops,
	};
}

/*
 * STATUS sends a peer as consecutive PEER_ITEMs, one per scope it shares
 * with the node (one with scope "" if none), each with the same state,
 * address and figures (ctl_proto.c): they are gathered here into one peer
 * and its list of scopes, given to the caller when the next peer or the
 * END comes.
 */
struct peer_group {
	bool pending;
	struct ctl_msg item;    /* the pending peer's first item */
	char (*scopes)[SYNODE_SCOPE_NAME_MAX + 1];
	const char **ptrs;
	size_t n, cap;
	bool lost;              /* the pending peer's scopes did not fit */
	bool nomem;             /* a peer was lost: the call fails at the END */
};

static bool
same_peer_item(const struct ctl_msg *a, const struct ctl_msg *b)
{
	return strcmp(a->node, b->node) == 0 && strcmp(a->address, b->address) == 0 &&
	       strcmp(a->state, b->state) == 0 && a->peer.version == b->peer.version &&
	       a->peer.rtt_ns == b->peer.rtt_ns && a->peer.frames_tx == b->peer.frames_tx &&
	       a->peer.frames_rx == b->peer.frames_rx && a->peer.bytes_tx == b->peer.bytes_tx &&
	       a->peer.bytes_rx == b->peer.bytes_rx &&
	       a->peer.retransmits == b->peer.retransmits && a->peer.drops == b->peer.drops;
}

static void
group_flush(struct peer_group *g, void (*fn)(const struct synode_client_peer *p, void *arg),
	    void *arg)
{
	struct synode_client_peer p;

	if (!g->pending)
		return;
	g->pending = false;
	if (g->lost) {
		g->lost = false;
		return;
	}
	for (size_t i = 0; i < g->n; i++)
		g->ptrs[i] = g->scopes[i];
	peer_of_item(&p, &g->item);
	p.scope = "";
	p.scopes = g->ptrs;
	p.n_scopes = g->n;
	fn(&p, arg);
}

static void
group_add(struct peer_group *g, const struct ctl_msg *a,
	  void (*fn)(const struct synode_client_peer *p, void *arg), void *arg)
{
	if (g->pending && !same_peer_item(&g->item, a))
		group_flush(g, fn, arg);
	if (!g->pending) {
		g->item = *a;
		g->n = 0;
		g->pending = true;
	}
	if (a->scope[0] == '\0' || g->lost)
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		void *s = realloc(g->scopes, cap * sizeof(*g->scopes));
		void *q;

		if (s != NULL)
			g->scopes = s;
		q = s != NULL ? realloc(g->ptrs, cap * sizeof(*g->ptrs)) : NULL;
		if (q == NULL) {
			g->nomem = g->lost = true;
			return;
		}
		g->ptrs = q;
		g->cap = cap;
	}
	memcpy(g->scopes[g->n++], a->scope, sizeof(*g->scopes));
}

struct list_fns {
	void (*scope)(const char *scope, void *arg);
	void (*peer)(const struct synode_client_peer *p, void *arg);
	struct peer_group *group; /* gather PEER_ITEMs by peer (status) */
	void (*reg)(const struct synode_reg_entry *e, void *arg);
	void (*member)(const struct synode_member *e, void *arg);
	void (*group_name)(const void *group, size_t len, void *arg);
	void *arg;
};

/* Reads items of the answer to @p id until its END; returns END's value. */
static long
read_items(struct synode_client *c, uint32_t id, const struct list_fns *f)
{
	struct ctl_msg a;

	for (;;) {
		int r = read_answer(c, id, &a);

		if (r < 0)
			return r;
		switch (a.type) {
		case CTL_MSG_END:
			if (f->group != NULL && f->peer != NULL)
				group_flush(f->group, f->peer, f->arg);
			if (f->group != NULL && f->group->nomem && a.value >= 0)
				return -ENOMEM;
			return (long)a.value;
		case CTL_MSG_SCOPE_ITEM:
			if (f->scope != NULL)
				f->scope(a.scope, f->arg);
			break;
		case CTL_MSG_PEER_ITEM:
			if (f->peer == NULL)
				break;
			if (f->group != NULL) {
				group_add(f->group, &a, f->peer, f->arg);
			} else {
				const char *scopes[1] = { a.scope };
				struct synode_client_peer p;

				peer_of_item(&p, &a);
				p.scopes = scopes;
				p.n_scopes = 1;
				f->peer(&p, f->arg);
			}
			break;
		case CTL_MSG_REG_ITEM:
			if (f->reg != NULL) {
				struct synode_reg_entry e = { a.key, a.key_len, a.pid, a.meta,
							      a.meta_len, a.time };
				f->reg(&e, f->arg);
			}
			break;
		case CTL_MSG_MEMBER_ITEM:
			if (f->member != NULL) {
				struct synode_member e = { a.pid, a.meta, a.meta_len, a.time };
				f->member(&e, f->arg);
			}
			break;
		case CTL_MSG_GROUP_ITEM:
			if (f->group_name != NULL)
				f->group_name(a.key, a.key_len, f->arg);
			break;
		default:
			return client_break(c, -EPROTO);
		}
	}
}

/* ----------------------------------------------------------------- status */

int
synode_client_status(struct synode_client *c, char *node, struct synode_stats *stats,
		     void (*scope_fn)(const char *scope, void *arg),
		     void (*peer_fn)(const struct synode_client_peer *p, void *arg), void *arg)
{
	struct peer_group g = { 0 };
	struct list_fns f = { .scope = scope_fn, .peer = peer_fn, .group = &g, .arg = arg };
	struct ctl_msg m, a;
	int r;
	long n;

	ctl_msg_init(&m, CTL_MSG_STATUS, 0);
	r = send_request(c, &m);
	if (r == 0)
		r = read_answer(c, m.req_id, &a);
	if (r < 0)
		return r;
	if (a.type != CTL_MSG_STATUS_INFO)
		return client_break(c, -EPROTO);
	if (node != NULL)
		memcpy(node, a.node, SYNODE_NODE_NAME_MAX + 1);
	if (stats != NULL)
		*stats = a.stats;
	n = read_items(c, m.req_id, &f);
	free(g.scopes);
	free(g.ptrs);
	return n < 0 ? (int)n : 0;
}

long
synode_client_nodes(struct synode_client *c, const char *scope,
		    void (*fn)(const struct synode_client_peer *p, void *arg), void *arg)
{
	struct list_fns f = { .peer = fn, .arg = arg };
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_NODES, 0);
	r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE);
	if (r == 0)
		r = send_request(c, &m);
	return r < 0 ? r : read_items(c, m.req_id, &f);
}

/* ----------------------------------------------------------------- scopes */

int
synode_client_add_scope(struct synode_client *c, const char *scope)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_ADD_SCOPE, 0);
	r = put_scope(&m, scope, -EINVAL);
	return r < 0 ? r : (int)call_result(c, &m);
}

int
synode_client_scopes(struct synode_client *c, void (*fn)(const char *scope, void *arg),
		     void *arg)
{
	struct list_fns f = { .scope = fn, .arg = arg };
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_SCOPES, 0);
	r = send_request(c, &m);
	return r < 0 ? r : (int)read_items(c, m.req_id, &f);
}

/* -------------------------------------------------------------- processes */

int
synode_client_handle_new(struct synode_client *c, struct synode_pid *pid)
{
	struct ctl_msg m, a;
	int r;

	if (pid == NULL)
		return -EINVAL;
	ctl_msg_init(&m, CTL_MSG_HANDLE_NEW, 0);
	r = send_request(c, &m);
	if (r == 0)
		r = read_answer(c, m.req_id, &a);
	if (r < 0)
		return r;
	if (a.type == CTL_MSG_RESULT)
		return a.value < 0 ? (int)a.value : client_break(c, -EPROTO);
	if (a.type != CTL_MSG_PID)
		return client_break(c, -EPROTO);
	*pid = a.pid;
	return 0;
}

int
synode_client_handle_close(struct synode_client *c, const struct synode_pid *pid)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_HANDLE_CLOSE, 0);
	r = put_pid(&m, pid);
	return r < 0 ? r : (int)call_result(c, &m);
}

/* --------------------------------------------------------------- registry */

int
synode_client_register(struct synode_client *c, const char *scope, const void *name,
		       size_t name_len, const struct synode_pid *pid, const void *meta,
		       size_t meta_len)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_REGISTER, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, name, name_len)) < 0 || (r = put_pid(&m, pid)) < 0 ||
	    (r = put_meta(&m, meta, meta_len)) < 0)
		return r;
	return (int)call_result(c, &m);
}

int
synode_client_update(struct synode_client *c, const char *scope, const void *name,
		     size_t name_len, const void *meta, size_t meta_len)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_UPDATE, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, name, name_len)) < 0 || (r = put_meta(&m, meta, meta_len)) < 0)
		return r;
	return (int)call_result(c, &m);
}

int
synode_client_unregister(struct synode_client *c, const char *scope, const void *name,
			 size_t name_len)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_UNREGISTER, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, name, name_len)) < 0)
		return r;
	return (int)call_result(c, &m);
}

int
synode_client_lookup(struct synode_client *c, const char *scope, const void *name,
		     size_t name_len, struct synode_pid *pid, void *meta, size_t *meta_len)
{
	struct ctl_msg m, a;
	int r;

	if (meta != NULL && meta_len == NULL)
		return -EINVAL;
	ctl_msg_init(&m, CTL_MSG_LOOKUP, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, name, name_len)) < 0)
		return r;
	r = send_request(c, &m);
	if (r == 0)
		r = read_answer(c, m.req_id, &a);
	if (r < 0)
		return r;
	if (a.type == CTL_MSG_RESULT)
		return a.value < 0 ? (int)a.value : client_break(c, -EPROTO);
	if (a.type != CTL_MSG_LOOKUP_OK)
		return client_break(c, -EPROTO);
	if (pid != NULL)
		*pid = a.pid;
	if (meta_len != NULL) {
		if (meta != NULL)
			memcpy(meta, a.meta, a.meta_len < *meta_len ? a.meta_len : *meta_len);
		*meta_len = a.meta_len;
	}
	return 0;
}

/* A listing or a count of a scope, for every node or one (REGISTRY,
 * GROUP_NAMES; REGISTRY_COUNT, GROUP_COUNT). */
static long
scope_node_list(struct synode_client *c, uint16_t type, const char *scope,
		const char *node, struct list_fns *f)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, type, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_node(&m, node)) < 0 || (r = send_request(c, &m)) < 0)
		return r;
	return read_items(c, m.req_id, f);
}

static long
scope_node_count(struct synode_client *c, uint16_t type, const char *scope, const char *node)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, type, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_node(&m, node)) < 0)
		return r;
	return (long)call_result(c, &m);
}

long
synode_client_registry_foreach(struct synode_client *c, const char *scope, const char *node,
			       void (*fn)(const struct synode_reg_entry *e, void *arg),
			       void *arg)
{
	struct list_fns f = { .reg = fn, .arg = arg };

	return scope_node_list(c, CTL_MSG_REGISTRY, scope, node, &f);
}

long
synode_client_registry_count(struct synode_client *c, const char *scope, const char *node)
{
	return scope_node_count(c, CTL_MSG_REGISTRY_COUNT, scope, node);
}

/* ----------------------------------------------------------------- groups */

/* JOIN, LEAVE, UPDATE_MEMBER, IS_MEMBER: scope, group, pid, and meta. */
static int
group_pid_call(struct synode_client *c, uint16_t type, const char *scope,
	       const void *group, size_t group_len, const struct synode_pid *pid,
	       const void *meta, size_t meta_len)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, type, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, group, group_len)) < 0 || (r = put_pid(&m, pid)) < 0 ||
	    (r = put_meta(&m, meta, meta_len)) < 0)
		return r;
	return (int)call_result(c, &m);
}

int
synode_client_join(struct synode_client *c, const char *scope, const void *group,
		   size_t group_len, const struct synode_pid *pid, const void *meta,
		   size_t meta_len)
{
	return group_pid_call(c, CTL_MSG_JOIN, scope, group, group_len, pid, meta, meta_len);
}

int
synode_client_leave(struct synode_client *c, const char *scope, const void *group,
		    size_t group_len, const struct synode_pid *pid)
{
	return group_pid_call(c, CTL_MSG_LEAVE, scope, group, group_len, pid, NULL, 0);
}

int
synode_client_update_member(struct synode_client *c, const char *scope, const void *group,
			    size_t group_len, const struct synode_pid *pid,
			    const void *meta, size_t meta_len)
{
	return group_pid_call(c, CTL_MSG_UPDATE_MEMBER, scope, group, group_len, pid, meta,
			      meta_len);
}

int
synode_client_is_member(struct synode_client *c, const char *scope, const void *group,
			size_t group_len, const struct synode_pid *pid)
{
	return group_pid_call(c, CTL_MSG_IS_MEMBER, scope, group, group_len, pid, NULL, 0);
}

long
synode_client_members(struct synode_client *c, const char *scope, const void *group,
		      size_t group_len, const char *node,
		      void (*fn)(const struct synode_member *m, void *arg), void *arg)
{
	struct list_fns f = { .member = fn, .arg = arg };
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_MEMBERS, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, group, group_len)) < 0 || (r = put_node(&m, node)) < 0 ||
	    (r = send_request(c, &m)) < 0)
		return r;
	return read_items(c, m.req_id, &f);
}

long
synode_client_member_count(struct synode_client *c, const char *scope, const void *group,
			   size_t group_len, const char *node)
{
	struct ctl_msg m;
	int r;

	ctl_msg_init(&m, CTL_MSG_MEMBER_COUNT, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0 ||
	    (r = put_key(&m, group, group_len)) < 0 || (r = put_node(&m, node)) < 0)
		return r;
	return (long)call_result(c, &m);
}

long
synode_client_group_names(struct synode_client *c, const char *scope, const char *node,
			  void (*fn)(const void *group, size_t len, void *arg), void *arg)
{
	struct list_fns f = { .group_name = fn, .arg = arg };

	return scope_node_list(c, CTL_MSG_GROUP_NAMES, scope, node, &f);
}

long
synode_client_group_count(struct synode_client *c, const char *scope, const char *node)
{
	return scope_node_count(c, CTL_MSG_GROUP_COUNT, scope, node);
}

/* ------------------------------------------------------------------ watch */

int
synode_client_watch(struct synode_client *c, const char *scope, const void *name,
		    size_t name_len, const void *group, size_t group_len)
{
	struct ctl_msg m;
	int64_t r;

	if (name != NULL && group != NULL)
		return -EINVAL;
	ctl_msg_init(&m, CTL_MSG_WATCH, 0);
	if ((r = put_scope(&m, scope, -SYNODE_EINVALID_SCOPE)) < 0)
		return (int)r;
	if (name != NULL) {
		m.kind = CTL_WATCH_NAME;
		r = put_key(&m, name, name_len);
	} else if (group != NULL) {
		m.kind = CTL_WATCH_GROUP;
		r = put_key(&m, group, group_len);
	}
	if (r < 0)
		return (int)r;
	r = call_result(c, &m);
	if (r == 0) {
		c->watching = true;
		c->watch_req = m.req_id;
	}
	return (int)r;
}

int
synode_client_next_event(struct synode_client *c,
			 void (*fn)(const struct synode_event *ev, void *arg), void *arg,
			 int timeout_ms)
{
	struct ctl_msg m;
	int r;

	if (c == NULL || !c->watching)
		return -EINVAL;
	if (c->broken != 0)
		return c->broken;
	r = read_frame(c, &m, timeout_ms);
	if (r <= 0)
		return r;
	if (m.type == CTL_MSG_ERROR)
		return error_frame(c, &m);
	if (m.type != CTL_MSG_EVENT || m.req_id != c->watch_req)
		return client_break(c, -EPROTO);
	if (fn != NULL) {
		struct synode_event ev = {
			.kind = (enum synode_event_kind)m.kind,
			.scope = m.scope,
			.name = m.key,
			.name_len = m.key_len,
			.pid = m.pid,
			.meta = m.meta,
			.meta_len = m.meta_len,
			.prev_meta = m.has_prev_meta ? m.prev_meta : NULL,
			.prev_meta_len = m.has_prev_meta ? m.prev_meta_len : 0,
			.reason = m.reason,
		};
		fn(&ev, arg);
	}
	return 1;
}
