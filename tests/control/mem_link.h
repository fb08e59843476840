/* SPDX-License-Identifier: MIT */
/*
 * An in-memory peer link for tests: the nodes of one process, all peers of
 * each other. A pair of nodes can be cut, dropping or holding their
 * messages (a netsplit), and healed, releasing what was held in order.
 */
#ifndef MEM_LINK_H
#define MEM_LINK_H

#include <stdbool.h>

#include "sn_link.h"

#define MEM_LINK_NODES 8

struct mem_link;

struct mem_link *mem_link_new(void);
void mem_link_free(struct mem_link *l);
/* The link to put in synode_params.link of every node. */
struct synode_link *mem_link_of(struct mem_link *l);
/* Makes @p n a peer (after synode_start). */
void mem_link_attach(struct mem_link *l, struct synode *n);
/* Stops delivering to @p n (before synode_stop). */
void mem_link_detach(struct mem_link *l, struct synode *n);
/* Cuts a and b apart: their messages are held (@p hold) or dropped. */
void mem_link_cut(struct mem_link *l, struct synode *a, struct synode *b, bool hold);
/* Joins a and b again and delivers what was held, in order. */
void mem_link_heal(struct mem_link *l, struct synode *a, struct synode *b);
/* Messages sent so far. */
unsigned long mem_link_sent(struct mem_link *l);

#endif
