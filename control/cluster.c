/* SPDX-License-Identifier: MIT */
/*
 * The node among its peers: what it does with the link (sn_link.h).
 *
 * Per scope, Syn's scope process protocol (syn_gen_scope): when a peer
 * comes up the node sends it DISCOVER for every scope it serves; a node
 * that serves the scope answers ACK_SYNC followed by its *local* data and
 * takes the asker into the scope's subcluster; the asker, on ACK_SYNC from
 * a node not yet in the subcluster, takes it in and answers with its own
 * ACK_SYNC and data. A scope added at run time is discovered the same way.
 * When a peer goes down, everything it owned is purged from every scope
 * (reason remote_scope_node_down); when it comes back, the exchange runs
 * again.
 *
 * Sync messages from a peer count only for scopes whose subcluster holds
 * it: the link delivers in order, so a peer's sync messages for a scope
 * always follow the DISCOVER / ACK_SYNC that took it in, and nothing of a
 * purged session can come back.
 *
 * Remote writes (Syn's register_on_node & co.): a write for a process
 * owned by a peer goes to that peer as a REQUEST; the owner executes it as
 * its own, which broadcasts the sync message to its subcluster, the caller
 * included, and then answers REPLY on the same ordered channel: by the
 * time the caller's waiter wakes up, the caller's tables have the write.
 *
 * Everything here runs on the control thread, but synode_peers().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

static const struct synode_reason reason_down = { SYNODE_REASON_NODE_DOWN, 0 };

static inline uint64_t
bit(unsigned id)
{
	return UINT64_C(1) << id;
}

static bool
have_link(const struct synode *n)
{
	return n->link != NULL && n->link->ops != NULL && n->link->ops->send != NULL;
}

int
sn_cluster_init(struct synode *n)
{
	n->out = malloc(SN_OUT_CAP);
	n->msgbuf = malloc(SN_WIRE_MSG_MAX);
	n->next_req_id = 1;
	return n->out != NULL && n->msgbuf != NULL ? 0 : -ENOMEM;
}

static void
remotes_fail(struct synode *n, int only_peer, int result)
{
	struct sn_remote **pp = &n->remotes;

	while (*pp != NULL) {
		struct sn_remote *r = *pp;

		if (only_peer >= 0 && r->peer != (unsigned)only_peer) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		r->wait->done(n, r->wait, result);
		free(r);
	}
}

void
sn_cluster_stop(struct synode *n)
{
	remotes_fail(n, -1, -ESHUTDOWN);
}

void
sn_cluster_fini(struct synode *n)
{
	while (n->remotes != NULL) {
		struct sn_remote *r = n->remotes;

		n->remotes = r->next;
		free(r);
	}
	free(n->out);
	free(n->msgbuf);
	n->out = n->msgbuf = NULL;
}

void
sn_wait_cancel(struct synode *n, struct sn_wait *w)
{
	struct sn_remote **pp = &n->remotes;

	while (*pp != NULL) {
		struct sn_remote *r = *pp;

		if (r->wait == w) {
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

/* ----------------------------------------------------------------- output */

/* Hands the current batch to the link. */
static void
out_push(struct synode *n)
{
	if (n->out_len > 0 && n->out_mask != 0)
		n->link->ops->send(n->link->ctx, n->out_mask, n->out, n->out_len);
	n->out_len = 0;
	n->out_mask = 0;
}

void
sn_peer_send_mask(struct synode *n, uint64_t mask, const struct sn_msg *m)
{
	int len;

	if (mask == 0 || !have_link(n))
		return;
	len = sn_wire_encode(n->msgbuf, SN_WIRE_MSG_MAX, m, n->name);
	if (len < 0) {
		sn_log(n, SYNODE_LOG_ERROR, "cannot encode a message of type %d: %s", m->type,
		       strerror(-len));
		return;
	}
	/* Consecutive messages for the same peers go as one batch. */
	if (mask != n->out_mask || n->out_len + (size_t)len > SN_OUT_CAP)
		out_push(n);
	if ((size_t)len > SN_OUT_CAP) {
		n->link->ops->send(n->link->ctx, mask, n->msgbuf, (size_t)len);
		return;
	}
	memcpy(n->out + n->out_len, n->msgbuf, (size_t)len);
	n->out_len += (size_t)len;
	n->out_mask = mask;
}

/* The up peer named @p node, or -1. */
static int
peer_by_name(const struct synode *n, const char *node)
{
	for (unsigned i = 0; i < SN_LINK_MAX_PEERS; i++)
		if (n->peers[i].up && strcmp(n->peers[i].name, node) == 0)
			return (int)i;
	return -1;
}

void
sn_peer_send(struct synode *n, const struct sn_scope *sc, const struct sn_msg *m,
	     const char *except)
{
	uint64_t mask = atomic_load_explicit(&sc->peers, memory_order_relaxed);
	int id;

	if (mask == 0)
		return;
	if (except != NULL && (id = peer_by_name(n, except)) >= 0)
		mask &= ~bit((unsigned)id);
	sn_peer_send_mask(n, mask, m);
}

void
sn_peer_flush(struct synode *n)
{
	if (!have_link(n))
		return;
	out_push(n);
	if (n->link->ops->flush != NULL)
		n->link->ops->flush(n->link->ctx);
}

/* ------------------------------------------------------ discover, ack_sync */

static void
send_scope_msg(struct synode *n, enum sn_msg_type type, struct sn_scope *sc, unsigned id)
{
	struct sn_msg m = { .type = type, .scope = sc->name };

	sn_peer_send_mask(n, bit(id), &m);
}

/* ACK_SYNC and this node's own data of @p sc, to peer @p id. */
static void
send_ack_sync(struct synode *n, struct sn_scope *sc, unsigned id)
{
	send_scope_msg(n, SN_MSG_ACK_SYNC, sc, id);
	sn_reg_send_local(n, sc, bit(id));
	sn_pg_send_local(n, sc, bit(id));
}

static void
subcluster_add(struct synode *n, struct sn_scope *sc, unsigned id)
{
	uint64_t mask = atomic_load_explicit(&sc->peers, memory_order_relaxed);

	atomic_store_explicit(&sc->peers, mask | bit(id), memory_order_relaxed);
	sn_log(n, SYNODE_LOG_INFO, "scope %s: node %s joined the subcluster", sc->name,
	       n->peers[id].name);
}

void
sn_cluster_scope_added(struct synode *n, struct sn_scope *sc)
{
	for (unsigned i = 0; i < SN_LINK_MAX_PEERS; i++)
		if (n->peers[i].up)
			send_scope_msg(n, SN_MSG_DISCOVER, sc, i);
}

void
sn_link_peer_up(struct synode *n, unsigned id, const char *name, unsigned version)
{
	struct sn_scope **all;
	size_t count;
	int other;

	if (id >= SN_LINK_MAX_PEERS || name == NULL || name[0] == 0 ||
	    strlen(name) > SYNODE_NODE_NAME_MAX || strcmp(name, n->name) == 0) {
		sn_log(n, SYNODE_LOG_WARNING, "link: refusing peer %u named '%s'", id,
		       name ? name : "(null)");
		return;
	}
	if (n->peers[id].up)
		sn_link_peer_down(n, id);
	/* The same node by another way (a new address): one session at a time. */
	if ((other = peer_by_name(n, name)) >= 0)
		sn_link_peer_down(n, (unsigned)other);
	n->peers[id].up = true;
	n->peers[id].version = version;
	strcpy(n->peers[id].name, name);
	sn_log(n, SYNODE_LOG_NOTICE, "node %s is up (protocol %u)", name, version);
	all = sn_scopes_all(n, &count);
	for (size_t i = 0; all != NULL && i < count; i++)
		send_scope_msg(n, SN_MSG_DISCOVER, all[i], id);
	free(all);
}

void
sn_link_peer_down(struct synode *n, unsigned id)
{
	struct sn_peer *p;
	struct sn_scope **all;
	size_t count;

	if (id >= SN_LINK_MAX_PEERS || !n->peers[id].up)
		return;
	p = &n->peers[id];
	p->up = false;
	sn_log(n, SYNODE_LOG_NOTICE, "node %s is down", p->name);
	/* Whatever is batched for it belongs to the session that ended. */
	if (n->out_mask & bit(id)) {
		uint64_t rest = n->out_mask & ~bit(id);

		n->out_mask = rest;
		if (rest == 0)
			n->out_len = 0;
	}
	all = sn_scopes_all(n, &count);
	for (size_t i = 0; all != NULL && i < count; i++) {
		struct sn_scope *sc = all[i];
		uint64_t mask = atomic_load_explicit(&sc->peers, memory_order_relaxed);

		if (!(mask & bit(id)))
			continue;
		atomic_store_explicit(&sc->peers, mask & ~bit(id), memory_order_relaxed);
		sn_reg_purge_node(n, sc, p->name, &reason_down);
		sn_pg_purge_node(n, sc, p->name, &reason_down);
	}
	free(all);
	remotes_fail(n, (int)id, -SYNODE_EUNREACHABLE);
}

/* ---------------------------------------------------------- remote writes */

int
sn_remote_write(struct synode *n, const struct sn_origin *o, enum sn_req_op op,
		const struct sn_scope *sc, const void *name, size_t name_len,
		const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	struct sn_remote *r;
	struct sn_msg m;
	int id = peer_by_name(n, pid->node);

	if (o->peer || id < 0 || !have_link(n) ||
	    !(atomic_load_explicit(&sc->peers, memory_order_relaxed) & bit((unsigned)id)))
		return -SYNODE_EUNREACHABLE;
	if (o->wait == NULL)
		return -EDEADLK;
	r = malloc(sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	/* A request id not waiting already (ids wrap after 2^32). */
	for (;;) {
		struct sn_remote *q = n->remotes;

		if (++n->next_req_id == 0)
			n->next_req_id = 1;
		while (q != NULL && q->req_id != n->next_req_id)
			q = q->next;
		if (q == NULL)
			break;
	}
	r->req_id = n->next_req_id;
	r->peer = (unsigned)id;
	r->wait = o->wait;
	r->next = n->remotes;
	n->remotes = r;
	memset(&m, 0, sizeof(m));
	m.type = SN_MSG_REQUEST;
	m.scope = sc->name;
	m.name = name;
	m.name_len = name_len;
	m.pid = *pid;
	m.meta = meta;
	m.meta_len = meta_len;
	m.req_id = r->req_id;
	m.op = op;
	sn_peer_send_mask(n, bit((unsigned)id), &m);
	atomic_fetch_add_explicit(&n->st_remote_requests, 1, memory_order_relaxed);
	return SN_PENDING;
}

/* The owner's side: executes a peer's request and answers it. */
static void
exec_request(struct synode *n, unsigned id, const struct sn_msg *m)
{
	struct sn_origin o = { .peer = true };
	struct sn_msg reply = { .type = SN_MSG_REPLY, .req_id = m->req_id };
	int rc;

	switch (m->op) {
	case SN_OP_REGISTER:
		rc = sn_register(n, &o, m->scope, m->name, m->name_len, &m->pid, m->meta,
				 m->meta_len);
		break;
	case SN_OP_UPDATE:
	case SN_OP_UNREGISTER:
		rc = sn_reg_remote_exec(n, &o, m->op, m->scope, m->name, m->name_len, &m->pid,
					m->meta, m->meta_len);
		break;
	case SN_OP_JOIN:
		rc = sn_join(n, &o, m->scope, m->name, m->name_len, &m->pid, m->meta,
			     m->meta_len);
		break;
	case SN_OP_LEAVE:
		rc = sn_leave(n, &o, m->scope, m->name, m->name_len, &m->pid);
		break;
	case SN_OP_UPDATE_MEMBER:
		rc = sn_update_member(n, &o, m->scope, m->name, m->name_len, &m->pid, m->meta,
				      m->meta_len);
		break;
	default:
		rc = -EPROTO;
		break;
	}
	if (rc == SN_PENDING) /* cannot be: the pid is ours */
		rc = -SYNODE_EUNREACHABLE;
	reply.result = rc;
	sn_peer_send_mask(n, bit(id), &reply);
}

static void
take_reply(struct synode *n, unsigned id, const struct sn_msg *m)
{
	struct sn_remote **pp = &n->remotes;

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct sn_remote *r = *pp;

		if (r->req_id == m->req_id && r->peer == id) {
			*pp = r->next;
			r->wait->done(n, r->wait, m->result > 0 ? -EPROTO : m->result);
			free(r);
			return;
		}
	}
	sn_log(n, SYNODE_LOG_DEBUG, "reply %u from %s: nobody waits for it", m->req_id,
	       n->peers[id].name);
}

/* --------------------------------------------------------------- receive */

/* Executes one message of peer @p id. Returns false if it made no sense. */
static bool
dispatch(struct synode *n, unsigned id, struct sn_msg *m)
{
	struct sn_scope *sc = NULL;
	uint64_t mask;

	if (m->type != SN_MSG_REPLY) {
		urcu_memb_read_lock();
		sc = sn_scope_find(n, m->scope);
		urcu_memb_read_unlock();
	}
	switch (m->type) {
	case SN_MSG_DISCOVER:
		if (sc == NULL)
			return true; /* not ours: the asker keeps us out of it */
		if (!(atomic_load_explicit(&sc->peers, memory_order_relaxed) & bit(id)))
			subcluster_add(n, sc, id);
		send_ack_sync(n, sc, id);
		return true;
	case SN_MSG_ACK_SYNC:
		if (sc == NULL)
			return true;
		if (!(atomic_load_explicit(&sc->peers, memory_order_relaxed) & bit(id))) {
			subcluster_add(n, sc, id);
			send_ack_sync(n, sc, id);
		}
		return true;
	case SN_MSG_SYNC_REGISTER:
	case SN_MSG_SYNC_UNREGISTER:
	case SN_MSG_SYNC_JOIN:
	case SN_MSG_SYNC_LEAVE:
		if (sc == NULL) {
			atomic_fetch_add_explicit(&n->st_peer_unknown_scope, 1,
						  memory_order_relaxed);
			return true; /* counted as such, not as malformed */
		}
		mask = atomic_load_explicit(&sc->peers, memory_order_relaxed);
		if (!(mask & bit(id)))
			return false;
		if (m->type == SN_MSG_SYNC_REGISTER || m->type == SN_MSG_SYNC_JOIN)
			sn_hlc_recv(&n->hlc, &m->time, sn_phys_now());
		if (m->type == SN_MSG_SYNC_REGISTER)
			sn_reg_sync_register(n, sc, m);
		else if (m->type == SN_MSG_SYNC_UNREGISTER)
			sn_reg_sync_unregister(n, sc, m);
		else if (m->type == SN_MSG_SYNC_JOIN)
			sn_pg_sync_join(n, sc, m);
		else
			sn_pg_sync_leave(n, sc, m);
		return true;
	case SN_MSG_REQUEST:
		exec_request(n, id, m);
		return true;
	case SN_MSG_REPLY:
		take_reply(n, id, m);
		return true;
	default:
		return false;
	}
}

unsigned
sn_link_receive(struct synode *n, unsigned id, const void *msgs, size_t len)
{
	const unsigned char *p = msgs;
	unsigned bad = 0;
	struct sn_msg m;

	if (id >= SN_LINK_MAX_PEERS || !n->peers[id].up)
		return 0;
	while (len > 0) {
		int r = sn_wire_decode(p, len, &m, n->peers[id].name, n->name);
		size_t skip;

		if (r == -EAGAIN) {
			/* a cut message: the link broke its promise */
			bad++;
			sn_log(n, SYNODE_LOG_WARNING, "from %s: %zu bytes of a partial message",
			       n->peers[id].name, len);
			break;
		}
		skip = r > 0 ? (size_t)r : sn_wire_msg_len(p, len);
		if (r < 0 || !dispatch(n, id, &m)) {
			bad++;
			sn_log(n, SYNODE_LOG_DEBUG, "from %s: dropped a message of type %u (%s)",
			       n->peers[id].name, p[0], r < 0 ? "malformed" : "out of place");
		}
		atomic_fetch_add_explicit(&n->st_peer_msgs, 1, memory_order_relaxed);
		p += skip;
		len -= skip;
	}
	if (bad)
		atomic_fetch_add_explicit(&n->st_peer_bad, bad, memory_order_relaxed);
	return bad;
}

/* ------------------------------------------------------------------ peers */

const char *
synode_peer_state_name(enum synode_peer_state s)
{
	switch (s) {
	case SYNODE_PEER_CONNECTING:
		return "connecting";
	case SYNODE_PEER_UP:
		return "up";
	case SYNODE_PEER_DOWN:
		return "down";
	}
	return "unknown";
}

long
synode_peers(struct synode *n, const char *scope,
	     void (*fn)(const struct synode_peer_info *p, void *arg), void *arg)
{
	uint64_t mask = ~UINT64_C(0);
	long count = 0;

	if (n == NULL)
		return -EINVAL;
	if (scope != NULL) {
		struct sn_scope *sc = sn_scope_get(n, scope);

		if (sc == NULL)
			return -SYNODE_EINVALID_SCOPE;
		mask = atomic_load_explicit(&sc->peers, memory_order_relaxed);
	}
	if (n->link == NULL || n->link->ops == NULL || n->link->ops->peer_info == NULL)
		return 0;
	for (unsigned i = 0; i < SN_LINK_MAX_PEERS; i++) {
		struct synode_peer_info info;

		if (!(mask & bit(i)))
			continue;
		memset(&info, 0, sizeof(info));
		if (n->link->ops->peer_info(n->link->ctx, i, &info) != 0)
			continue;
		count++;
		if (fn != NULL)
			fn(&info, arg);
	}
	return count;
}
