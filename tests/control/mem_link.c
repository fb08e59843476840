/* SPDX-License-Identifier: MIT */
/* The in-memory link of mem_link.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_link.h"
#include "sn_wire.h"

/* Bytes from one node to another, posted to the receiver. */
struct parcel {
	struct parcel *next;     /* in the held list */
	unsigned from, to;
	size_t len;
	unsigned char bytes[];
};

/* A session event, posted to the node that sees it. */
struct session_ev {
	unsigned peer;
	bool up;
	char name[SYNODE_NODE_NAME_MAX + 1];
};

struct slot {
	struct synode_link link;
	struct mem_link *l;
	unsigned index;
};

struct mem_link {
	pthread_mutex_t mu;
	struct slot slots[MEM_LINK_NODES];
	struct synode *nodes[MEM_LINK_NODES];
	unsigned char cut[MEM_LINK_NODES][MEM_LINK_NODES]; /* 0 open, 1 split, 2 hold */
	struct parcel *held, **held_tail;
	unsigned long sent;
};

static void
on_parcel(struct synode *n, void *arg)
{
	struct parcel *p = arg;

	(void)sn_link_receive(n, p->from, p->bytes, p->len);
	free(p);
}

static void
on_session(struct synode *n, void *arg)
{
	struct session_ev *e = arg;

	if (e->up)
		sn_link_peer_up(n, e->peer, e->name, SN_WIRE_VERSION_MAX);
	else
		sn_link_peer_down(n, e->peer);
	free(e);
}

/* Tells node @p to that its session with @p peer went up or down. */
static void
post_session(struct mem_link *l, unsigned to, unsigned peer, bool up)
{
	struct session_ev *e = calloc(1, sizeof(*e));

	if (e == NULL)
		abort();
	e->peer = peer;
	e->up = up;
	strcpy(e->name, synode_name(l->nodes[peer]));
	if (sn_link_post(l->nodes[to], on_session, e) != 0)
		free(e);
}

static void
deliver(struct mem_link *l, struct parcel *p)
{
	if (l->nodes[p->to] == NULL || sn_link_post(l->nodes[p->to], on_parcel, p) != 0)
		free(p);
}

static void
send_msgs(void *ctx, uint64_t peers, const void *msgs, size_t len)
{
	struct slot *s = ctx;
	struct mem_link *l = s->l;

	pthread_mutex_lock(&l->mu);
	l->sent++;
	for (unsigned j = 0; j < MEM_LINK_NODES; j++) {
		struct parcel *p;

		if (!(peers & (UINT64_C(1) << j)) || l->nodes[j] == NULL || j == s->index ||
		    l->cut[s->index][j] == 1)
			continue;
		p = malloc(sizeof(*p) + len);
		if (p == NULL)
			abort();
		p->next = NULL;
		p->from = s->index;
		p->to = j;
		p->len = len;
		memcpy(p->bytes, msgs, len);
		if (l->cut[s->index][j] == 2) {
			*l->held_tail = p;
			l->held_tail = &p->next;
		} else {
			deliver(l, p);
		}
	}
	pthread_mutex_unlock(&l->mu);
}

static int
peer_info(void *ctx, unsigned id, struct synode_peer_info *out)
{
	struct slot *s = ctx;
	struct mem_link *l = s->l;
	int rc = -ENOENT;

	pthread_mutex_lock(&l->mu);
	if (id < MEM_LINK_NODES && id != s->index && l->nodes[id] != NULL) {
		snprintf(out->node, sizeof(out->node), "%s", synode_name(l->nodes[id]));
		snprintf(out->addr, sizeof(out->addr), "mem:%u", id);
		out->state = l->cut[s->index][id] == 1 ? SYNODE_PEER_DOWN : SYNODE_PEER_UP;
		out->version = SN_WIRE_VERSION_MAX;
		rc = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static const struct synode_link_ops mem_link_ops = {
	.send = send_msgs,
	.peer_info = peer_info,
};

struct mem_link *
mem_link_new(void)
{
	struct mem_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		abort();
	pthread_mutex_init(&l->mu, NULL);
	for (unsigned i = 0; i < MEM_LINK_NODES; i++) {
		l->slots[i].link.ops = &mem_link_ops;
		l->slots[i].link.ctx = &l->slots[i];
		l->slots[i].l = l;
		l->slots[i].index = i;
	}
	l->held_tail = &l->held;
	return l;
}

void
mem_link_free(struct mem_link *l)
{
	while (l->held != NULL) {
		struct parcel *p = l->held;

		l->held = p->next;
		free(p);
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
}

struct synode_link *
mem_link_of(struct mem_link *l, unsigned i)
{
	return i < MEM_LINK_NODES ? &l->slots[i].link : NULL;
}

static int
index_of(struct mem_link *l, const struct synode *n)
{
	for (int i = 0; i < MEM_LINK_NODES; i++)
		if (l->nodes[i] == n)
			return i;
	return -1;
}

void
mem_link_attach(struct mem_link *l, unsigned i, struct synode *n)
{
	if (i >= MEM_LINK_NODES)
		abort();
	pthread_mutex_lock(&l->mu);
	l->nodes[i] = n;
	for (unsigned j = 0; j < MEM_LINK_NODES; j++) {
		if (j == i || l->nodes[j] == NULL)
			continue;
		post_session(l, i, j, true);
		post_session(l, j, i, true);
	}
	pthread_mutex_unlock(&l->mu);
}

/* Drops what is held between slots i and j. */
static void
drop_held(struct mem_link *l, int i, int j, bool deliver_them)
{
	struct parcel **pp;

	for (pp = &l->held; *pp != NULL;) {
		struct parcel *p = *pp;

		if ((int)p->from == i || (int)p->to == i) {
			if (j >= 0 && (int)p->from != j && (int)p->to != j) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			if (deliver_them)
				deliver(l, p);
			else
				free(p);
		} else {
			pp = &p->next;
		}
	}
	l->held_tail = pp;
}

void
mem_link_detach(struct mem_link *l, struct synode *n)
{
	pthread_mutex_lock(&l->mu);
	int i = index_of(l, n);

	if (i >= 0) {
		drop_held(l, i, -1, false);
		for (unsigned j = 0; j < MEM_LINK_NODES; j++)
			if ((int)j != i && l->nodes[j] != NULL && l->cut[i][j] != 1)
				post_session(l, j, (unsigned)i, false);
		l->nodes[i] = NULL;
		memset(l->cut[i], 0, sizeof(l->cut[i]));
		for (int j = 0; j < MEM_LINK_NODES; j++)
			l->cut[j][i] = 0;
	}
	pthread_mutex_unlock(&l->mu);
}

void
mem_link_cut(struct mem_link *l, struct synode *a, struct synode *b, bool hold_msgs)
{
	pthread_mutex_lock(&l->mu);
	int i = index_of(l, a), j = index_of(l, b);

	if (i >= 0 && j >= 0 && l->cut[i][j] == 0) {
		l->cut[i][j] = l->cut[j][i] = hold_msgs ? 2 : 1;
		if (!hold_msgs) {
			post_session(l, (unsigned)i, (unsigned)j, false);
			post_session(l, (unsigned)j, (unsigned)i, false);
		}
	}
	pthread_mutex_unlock(&l->mu);
}

void
mem_link_heal(struct mem_link *l, struct synode *a, struct synode *b)
{
	pthread_mutex_lock(&l->mu);
	int i = index_of(l, a), j = index_of(l, b);

	if (i >= 0 && j >= 0 && l->cut[i][j] != 0) {
		bool split = l->cut[i][j] == 1;

		l->cut[i][j] = l->cut[j][i] = 0;
		if (split) {
			post_session(l, (unsigned)i, (unsigned)j, true);
			post_session(l, (unsigned)j, (unsigned)i, true);
		} else {
			drop_held(l, i, j, true);
		}
	}
	pthread_mutex_unlock(&l->mu);
}

unsigned long
mem_link_sent(struct mem_link *l)
{
	unsigned long s;

	pthread_mutex_lock(&l->mu);
	s = l->sent;
	pthread_mutex_unlock(&l->mu);
	return s;
}
