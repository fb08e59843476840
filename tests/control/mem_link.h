/* SPDX-License-Identifier: MIT */
/*
 * An in-memory link for tests: the nodes of one process, each a peer of
 * every other (peer id = the other's slot). Attaching a node brings its
 * sessions with the others up; a pair of nodes can be cut, either holding
 * their messages (a delay: nothing is lost) or as a netsplit (both see the
 * other go down), and healed again.
 */
#ifndef MEM_LINK_H
#define MEM_LINK_H

#include <stdbool.h>

#include "sn_link.h"

#define MEM_LINK_NODES 8

struct mem_link;

struct mem_link *mem_link_new(void);
void mem_link_free(struct mem_link *l);
/* The link to put in synode_params.link of the node of slot @p i. */
struct synode_link *mem_link_of(struct mem_link *l, unsigned i);
/* Puts @p n (started with mem_link_of(l, i)) in slot @p i: its sessions
 * with every attached node come up. */
void mem_link_attach(struct mem_link *l, unsigned i, struct synode *n);
/* Takes @p n out (before synode_stop): the others see it go down. */
void mem_link_detach(struct mem_link *l, struct synode *n);
/* Cuts a and b apart: their messages are held (@p hold), or the session
 * ends (both see the other down) and messages are dropped. */
void mem_link_cut(struct mem_link *l, struct synode *a, struct synode *b, bool hold);
/* Joins a and b again: delivers what was held in order, or brings the
 * session up again. */
void mem_link_heal(struct mem_link *l, struct synode *a, struct synode *b);
/* Message batches sent so far. */
unsigned long mem_link_sent(struct mem_link *l);

#endif
