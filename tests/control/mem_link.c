/* SPDX-License-Identifier: MIT */
/* The in-memory peer link of mem_link.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem_link.h"

struct held {
	struct held *next;
	struct synode *from, *to;
	struct sn_msg m;
	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	unsigned char data[];
};

struct mem_link {
	struct synode_link link;
	pthread_mutex_t mu;
	struct synode *nodes[MEM_LINK_NODES];
	unsigned char cut[MEM_LINK_NODES][MEM_LINK_NODES]; /* 0 open, 1 drop, 2 hold */
	struct held *held, **held_tail;
	unsigned long sent;
};

static int
index_of(struct mem_link *l, const struct synode *n)
{
	for (int i = 0; i < MEM_LINK_NODES; i++)
		if (l->nodes[i] == n)
			return i;
	return -1;
}

static void
hold(struct mem_link *l, struct synode *from, struct synode *to, const struct sn_msg *m)
{
	struct held *h = malloc(sizeof(*h) + m->name_len + m->meta_len);

	if (h == NULL)
		abort();
	h->next = NULL;
	h->from = from;
	h->to = to;
	h->m = *m;
	strcpy(h->scope, m->scope);
	memcpy(h->data, m->name, m->name_len);
	if (m->meta_len)
		memcpy(h->data + m->name_len, m->meta, m->meta_len);
	h->m.scope = h->scope;
	h->m.name = h->data;
	h->m.meta = h->data + m->name_len;
	*l->held_tail = h;
	l->held_tail = &h->next;
}

static void
broadcast(void *ctx, struct synode *from, const struct sn_msg *m, const char *except)
{
	struct mem_link *l = ctx;
	int f;

	pthread_mutex_lock(&l->mu);
	f = index_of(l, from);
	for (int i = 0; f >= 0 && i < MEM_LINK_NODES; i++) {
		struct synode *to = l->nodes[i];

		if (to == NULL || to == from ||
		    (except != NULL && strcmp(except, synode_name(to)) == 0))
			continue;
		l->sent++;
		if (l->cut[f][i] == 1)
			continue;
		if (l->cut[f][i] == 2)
			hold(l, from, to, m);
		else
			(void)sn_link_deliver(to, synode_name(from), m);
	}
	pthread_mutex_unlock(&l->mu);
}

static const struct synode_link_ops mem_link_ops = { .broadcast = broadcast };

struct mem_link *
mem_link_new(void)
{
	struct mem_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		abort();
	pthread_mutex_init(&l->mu, NULL);
	l->link.ops = &mem_link_ops;
	l->link.ctx = l;
	l->held_tail = &l->held;
	return l;
}

void
mem_link_free(struct mem_link *l)
{
	while (l->held != NULL) {
		struct held *h = l->held;

		l->held = h->next;
		free(h);
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
}

struct synode_link *
mem_link_of(struct mem_link *l)
{
	return &l->link;
}

void
mem_link_attach(struct mem_link *l, struct synode *n)
{
	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < MEM_LINK_NODES; i++) {
		if (l->nodes[i] == NULL) {
			l->nodes[i] = n;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
}

void
mem_link_detach(struct mem_link *l, struct synode *n)
{
	pthread_mutex_lock(&l->mu);
	int i = index_of(l, n);

	if (i >= 0) {
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

	if (i >= 0 && j >= 0)
		l->cut[i][j] = l->cut[j][i] = hold_msgs ? 2 : 1;
	pthread_mutex_unlock(&l->mu);
}

void
mem_link_heal(struct mem_link *l, struct synode *a, struct synode *b)
{
	struct held **pp;

	pthread_mutex_lock(&l->mu);
	int i = index_of(l, a), j = index_of(l, b);

	if (i >= 0 && j >= 0)
		l->cut[i][j] = l->cut[j][i] = 0;
	for (pp = &l->held; *pp != NULL;) {
		struct held *h = *pp;

		if ((h->from == a && h->to == b) || (h->from == b && h->to == a)) {
			(void)sn_link_deliver(h->to, synode_name(h->from), &h->m);
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
	l->held_tail = pp;
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
