/* SPDX-License-Identifier: MIT */
/*
 * synode_batch(): many writes for one hand-off to the control thread.
 *
 * The writes run one after the other in one request, each with its own
 * wait (sn_wait) so that a write for another node's process can be
 * answered later; the request completes when the last of them has.
 */
#include <errno.h>
#include <stdlib.h>

#include "core_internal.h"

struct batch;

struct batch_wait {
	struct sn_wait w;
	struct batch *b;
	size_t i;
};

struct batch {
	struct synode_op *ops;
	size_t count;
	size_t pending;             /* writes not answered yet, +1 while issuing */
	struct sn_wait *outer;      /* the request's: completes the call */
	struct batch_wait *waits;   /* one per write, if there is an outer wait */
};

static void
op_done(struct synode *n, struct sn_wait *w, int result)
{
	struct batch_wait *bw = caa_container_of(w, struct batch_wait, w);
	struct batch *b = bw->b;

	b->ops[bw->i].result = result;
	if (--b->pending == 0)
		b->outer->done(n, b->outer, 0);
}

static int
exec_op(struct synode *n, const struct sn_origin *o, const struct synode_op *op)
{
	switch (op->kind) {
	case SYNODE_OP_REGISTER:
		return sn_register(n, o, op->scope, op->name, op->name_len, &op->pid, op->meta,
				   op->meta_len);
	case SYNODE_OP_UPDATE:
		return sn_update(n, o, op->scope, op->name, op->name_len, op->meta,
				 op->meta_len);
	case SYNODE_OP_UNREGISTER:
		return sn_unregister(n, o, op->scope, op->name, op->name_len);
	case SYNODE_OP_JOIN:
		return sn_join(n, o, op->scope, op->name, op->name_len, &op->pid, op->meta,
			       op->meta_len);
	case SYNODE_OP_LEAVE:
		return sn_leave(n, o, op->scope, op->name, op->name_len, &op->pid);
	case SYNODE_OP_UPDATE_MEMBER:
		return sn_update_member(n, o, op->scope, op->name, op->name_len, &op->pid,
					op->meta, op->meta_len);
	}
	return -EINVAL;
}

static int
run_batch(struct synode *n, void *args)
{
	struct batch *b = args;

	b->outer = sn_current_wait(n);
	if (b->outer != NULL) {
		b->waits = calloc(b->count, sizeof(*b->waits));
		if (b->waits == NULL)
			return -ENOMEM;
	}
	b->pending = 1;
	for (size_t i = 0; i < b->count; i++) {
		struct sn_origin o = n->embedder;
		int rc;

		if (b->waits != NULL) {
			b->waits[i] = (struct batch_wait){ { op_done }, b, i };
			o.wait = &b->waits[i].w;
		}
		rc = exec_op(n, &o, &b->ops[i]);
		if (rc == SN_PENDING)
			b->pending++;
		else
			b->ops[i].result = rc;
	}
	return --b->pending == 0 ? 0 : SN_PENDING;
}

int
synode_batch(struct synode *n, struct synode_op *ops, size_t count)
{
	struct batch b = { .ops = ops, .count = count };
	int rc;

	if (n == NULL || (ops == NULL && count > 0))
		return -EINVAL;
	if (count == 0)
		return 0;
	rc = sn_call(n, run_batch, &b);
	free(b.waits);
	return rc;
}
