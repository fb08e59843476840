/* SPDX-License-Identifier: MIT */
/*
 * The link (control/sn_link.h) between the node's control thread and the
 * dataplane lcore.
 *
 * Control thread -> lcore. send() appends a record (peer mask, length,
 * bytes) to the open chunk; each chunk is stamped, when opened, with the
 * node's view of every peer's session generation (dp_ctl.gen: sessions the
 * node has seen begin). flush() closes the open chunk and moves the closed
 * ones into an SP/SC rte_ring; a full ring keeps them in a list on the
 * control side, in order, until the next flush: never blocking, never
 * dropping. The lcore, after taking chunks off a ring that some wait for,
 * posts a flush to the control thread so that they go even if the node
 * stays idle.
 *
 * The lcore queues a record for peer p only if p's session is up and its
 * generation is the chunk's: otherwise the node wrote it before it saw
 * the session end (and a new one begin), and it belongs to no session.
 *
 * Lcore -> control thread: everything goes through sn_link_post(), in
 * order, running post_run() on the control thread: it first updates the
 * control side's view (dp_ctl), closing the open chunk when the view
 * changes so that no chunk mixes two views, then calls the node. Received
 * messages go as one post per peer per loop turn.
 *
 * Ordering:
 *   R1: the ring's enqueue (release) pairs with its dequeue (acquire): the
 *       lcore sees the chunk's bytes.
 *   W1 (dp_wake) and S1 (dp_loop.c, idle_sleep): seq_cst fences; either the
 *       lcore sees the chunk in the ring before it sleeps or the control
 *       thread sees it sleeping and wakes it.
 *   P1: published (release, peer_add) pairs with its acquire in
 *       link_peer_info(): a reader sees the peer's address.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_ring.h>

#include "dp_internal.h"

#define DP_REC_HDR 16

enum dp_post_kind {
	DP_POST_UP,
	DP_POST_DOWN,
	DP_POST_RX,
	DP_POST_FLUSH,
};

struct dp_post {
	struct dp_post *next;
	struct synode_dp *dp;
	enum dp_post_kind kind;
	unsigned id;
	uint32_t gen;
	unsigned version;
	char name[SYNODE_NODE_NAME_MAX + 1];
	uint8_t *buf;
	size_t len;
};

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ------------------------------------------------------------- waking up */

void
dp_wake(struct synode_dp *dp)
{
	/* W1: pairs with S1 in idle_sleep(). */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&dp->sleeping, memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&dp->wake_word, 1, memory_order_release);
	syscall(SYS_futex, (uint32_t *)&dp->wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ----------------------------------------------------- control thread side */

/* Closes the open chunk: it waits for flush() in the control-side list. */
static void
ctl_close_chunk(struct synode_dp *dp)
{
	struct dp_ctl *ctl = &dp->ctl;
	struct dp_chunk *c = ctl->cur;

	if (c == NULL)
		return;
	ctl->cur = NULL;
	if (c->len == 0) {
		free(c);
		return;
	}
	c->next = NULL;
	if (ctl->wait_tail != NULL)
		ctl->wait_tail->next = c;
	else
		ctl->wait_head = c;
	ctl->wait_tail = c;
}

static void
link_send(void *ctx, uint64_t peers, const void *msgs, size_t len)
{
	struct synode_dp *dp = ctx;
	struct dp_ctl *ctl = &dp->ctl;
	size_t need = DP_REC_HDR + pad8(len);
	struct dp_chunk *c;
	uint32_t len32 = (uint32_t)len;

	/* A peer the node does not believe up has no session to send to. */
	peers &= ctl->up;
	if (peers == 0 || len == 0)
		return;
	if (len > UINT32_MAX) {
		/* Beyond any channel's queue: as lost, the sessions end. */
		atomic_fetch_or_explicit(&dp->ctl_lost, peers, memory_order_relaxed);
		return;
	}
	c = ctl->cur;
	if (c != NULL && c->cap - c->len < need) {
		ctl_close_chunk(dp);
		c = NULL;
	}
	if (c == NULL) {
		size_t cap = need > DP_CHUNK_SIZE ? need : DP_CHUNK_SIZE;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL) {
			/* These peers miss messages: their sessions must end, so
			 * that the node resyncs them (the lcore resets them). */
			atomic_fetch_or_explicit(&dp->ctl_lost, peers, memory_order_relaxed);
			return;
		}
		c->len = 0;
		c->cap = cap;
		memcpy(c->gen, ctl->gen, sizeof(c->gen));
		ctl->cur = c;
	}
	memcpy(c->data + c->len, &peers, 8);
	memcpy(c->data + c->len + 8, &len32, 4);
	memset(c->data + c->len + 12, 0, 4);
	memcpy(c->data + c->len + DP_REC_HDR, msgs, len);
	c->len += need;
}

static void
link_flush(void *ctx)
{
	struct synode_dp *dp = ctx;
	struct dp_ctl *ctl = &dp->ctl;
	unsigned n = 0;

	ctl_close_chunk(dp);
	while (ctl->wait_head != NULL) {
		/* R1: the enqueue releases the chunk's bytes to the lcore. */
		if (rte_ring_sp_enqueue(dp->ring, ctl->wait_head) != 0)
			break;
		ctl->wait_head = ctl->wait_head->next;
		n++;
	}
	if (ctl->wait_head == NULL)
		ctl->wait_tail = NULL;
	else
		atomic_store_explicit(&dp->ctl_waiting, 1, memory_order_relaxed);
	if (n > 0)
		dp_wake(dp);
}

static void
copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, SYNODE_NODE_NAME_MAX);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
link_peer_info(void *ctx, unsigned id, struct synode_peer_info *out)
{
	struct synode_dp *dp = ctx;
	struct dp_peer *pr;

	if (id >= SN_LINK_MAX_PEERS)
		return -ENOENT;
	pr = &dp->peers[id];
	/* P1: pairs with the release in peer_add(). */
	if (!atomic_load_explicit(&pr->published, memory_order_acquire))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	rte_spinlock_lock(&pr->info_lock);
	copy_name(out->node, pr->info_name);
	memcpy(out->addr, pr->info_addr, sizeof(out->addr));
	rte_spinlock_unlock(&pr->info_lock);
	out->addr[sizeof(out->addr) - 1] = '\0';
	out->state = (enum synode_peer_state)atomic_load_explicit(&pr->ctr.state,
								   memory_order_relaxed);
	out->version = atomic_load_explicit(&pr->ctr.version, memory_order_relaxed);
	out->rtt_ns = atomic_load_explicit(&pr->ctr.rtt_ns, memory_order_relaxed);
	out->frames_tx = atomic_load_explicit(&pr->ctr.frames_tx, memory_order_relaxed);
	out->frames_rx = atomic_load_explicit(&pr->ctr.frames_rx, memory_order_relaxed);
	out->bytes_tx = atomic_load_explicit(&pr->ctr.bytes_tx, memory_order_relaxed);
	out->bytes_rx = atomic_load_explicit(&pr->ctr.bytes_rx, memory_order_relaxed);
	out->retransmits = atomic_load_explicit(&pr->ctr.retransmits, memory_order_relaxed);
	out->drops = atomic_load_explicit(&pr->ctr.drops, memory_order_relaxed);
	return 0;
}

/* The node's status: frames dropped, by cause (any thread). */
static void
link_stats(void *ctx, struct synode_stats *st)
{
	struct synode_dp_stats d;

	synode_dp_get_stats(ctx, &d);
	st->drops_bad_mac += d.drop_bad_mac;
	st->drops_malformed += d.drop_malformed;
	st->drops_truncated += d.drop_truncated;
	st->drops_replayed += d.drop_replayed;
	st->drops_unknown_peer += d.drop_unknown_peer;
}

static const struct synode_link_ops dp_link_ops = {
	.send = link_send,
	.flush = link_flush,
	.peer_info = link_peer_info,
	.stats = link_stats,
};

/* Runs on the control thread: what the lcore posted. */
static void
post_run(struct synode *n, void *arg)
{
	struct dp_post *p = arg;
	struct synode_dp *dp = p->dp;
	struct dp_ctl *ctl = &dp->ctl;
	uint64_t bit = UINT64_C(1) << p->id;

	switch (p->kind) {
	case DP_POST_UP:
		/* Records written from now on are for the new session. */
		ctl_close_chunk(dp);
		ctl->gen[p->id] = p->gen;
		ctl->up |= bit;
		sn_link_peer_up(n, p->id, p->name, p->version);
		break;
	case DP_POST_DOWN:
		ctl_close_chunk(dp);
		ctl->up &= ~bit;
		sn_link_peer_down(n, p->id);
		break;
	case DP_POST_RX:
		/* Posts come in order: a session's messages come between its up
		 * and its down. The test only guards that promise. */
		if ((ctl->up & bit) && ctl->gen[p->id] == p->gen)
			(void)sn_link_receive(n, p->id, p->buf, p->len);
		atomic_fetch_sub_explicit(&dp->posted_bytes, (int64_t)p->len,
					  memory_order_relaxed);
		break;
	case DP_POST_FLUSH:
		link_flush(dp);
		break;
	}
	free(p->buf);
	free(p);
}

void
dp_link_init(struct synode_dp *dp)
{
	dp->link.ops = &dp_link_ops;
	dp->link.ctx = dp;
}

void
dp_link_fini(struct synode_dp *dp)
{
	struct dp_chunk *c;
	struct dp_post *p;
	void *obj;

	ctl_close_chunk(dp);
	while ((c = dp->ctl.wait_head) != NULL) {
		dp->ctl.wait_head = c->next;
		free(c);
	}
	dp->ctl.wait_tail = NULL;
	if (dp->ring != NULL)
		while (rte_ring_sc_dequeue(dp->ring, &obj) == 0)
			free(obj);
	while ((p = dp->post_head) != NULL) {
		dp->post_head = p->next;
		free(p->buf);
		free(p);
	}
	dp->post_tail = NULL;
}

/* --------------------------------------------------------------- lcore side */

/* Queues a chunk's records on the peers' channels. */
static void
chunk_take(struct synode_dp *dp, struct dp_chunk *c)
{
	size_t off = 0;

	while (off + DP_REC_HDR <= c->len) {
		uint64_t peers;
		uint32_t len;
		const uint8_t *msgs;

		memcpy(&peers, c->data + off, 8);
		memcpy(&len, c->data + off + 8, 4);
		msgs = c->data + off + DP_REC_HDR;
		off += DP_REC_HDR + pad8(len);
		while (peers != 0) {
			unsigned id = (unsigned)__builtin_ctzll(peers);
			struct dp_peer *pr = &dp->peers[id];
			int rc;

			peers &= peers - 1;
			if (!pr->in_use || !pr->up || pr->gen != c->gen[id]) {
				dp_drop(dp, DP_DROP_STALE_RECORD);
				continue;
			}
			rc = dp_chan_queue(pr->chan, msgs, len);
			if (rc == -EINVAL) {
				dp_log(dp, SYNODE_LOG_ERROR, "dataplane: the node sent %u bytes "
				       "that are not whole messages to %s; dropped", len, pr->name);
				dp_drop(dp, DP_DROP_STALE_RECORD);
			} else if (rc < 0) {
				/* Too far behind (or no memory): a new session, and
				 * the node resyncs it. */
				dp_peer_session_end(dp, id, rc == -ENOBUFS
						    ? "too far behind (queue full)"
						    : "out of memory", true);
			}
		}
	}
	free(c);
}

unsigned
dp_link_drain(struct synode_dp *dp)
{
	void *objs[16];
	unsigned total = 0, n;
	uint64_t lost;

	do {
		/* R1: the dequeue acquires what the control thread wrote. */
		n = rte_ring_sc_dequeue_burst(dp->ring, objs, 16, NULL);
		for (unsigned i = 0; i < n; i++)
			chunk_take(dp, objs[i]);
		total += n;
	} while (n > 0 && total < DP_CHUNKS_PER_TURN);

	/* Chunks wait on the control side: ask it to flush them now that there
	 * is room (the node may have nothing else to do for a while). */
	if (atomic_load_explicit(&dp->ctl_waiting, memory_order_relaxed) &&
	    rte_ring_count(dp->ring) < DP_RING_SIZE / 2 &&
	    atomic_exchange_explicit(&dp->ctl_waiting, 0, memory_order_relaxed)) {
		struct dp_post *p = calloc(1, sizeof(*p));

		if (p == NULL) {
			atomic_store_explicit(&dp->ctl_waiting, 1, memory_order_relaxed);
		} else {
			p->dp = dp;
			p->kind = DP_POST_FLUSH;
			p->next = NULL;
			if (dp->post_tail != NULL)
				dp->post_tail->next = p;
			else
				dp->post_head = p;
			dp->post_tail = p;
		}
	}
	lost = atomic_exchange_explicit(&dp->ctl_lost, 0, memory_order_relaxed);
	while (lost != 0) {
		unsigned id = (unsigned)__builtin_ctzll(lost);

		lost &= lost - 1;
		if (dp->peers[id].in_use && dp->peers[id].up)
			dp_peer_session_end(dp, id, "messages lost (out of memory)", true);
	}
	return total;
}

/* Queues a post; dp_link_post_flush() hands them to the node in order. */
static int
post_queue(struct synode_dp *dp, enum dp_post_kind kind, unsigned id)
{
	struct dp_peer *pr = &dp->peers[id];
	struct dp_post *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->dp = dp;
	p->kind = kind;
	p->id = id;
	p->gen = pr->gen;
	p->version = pr->version;
	copy_name(p->name, pr->name);
	if (kind == DP_POST_RX) {
		p->buf = pr->inbox.data;
		p->len = pr->inbox.len;
		pr->inbox.data = NULL;
		pr->inbox.len = pr->inbox.cap = 0;
		atomic_fetch_add_explicit(&dp->posted_bytes, (int64_t)p->len,
					  memory_order_relaxed);
	}
	p->next = NULL;
	if (dp->post_tail != NULL)
		dp->post_tail->next = p;
	else
		dp->post_head = p;
	dp->post_tail = p;
	return 0;
}

int
dp_link_post_up(struct synode_dp *dp, unsigned id)
{
	return post_queue(dp, DP_POST_UP, id);
}

int
dp_link_post_down(struct synode_dp *dp, unsigned id)
{
	return post_queue(dp, DP_POST_DOWN, id);
}

int
dp_link_post_inbox(struct synode_dp *dp, unsigned id)
{
	if (dp->peers[id].inbox.len == 0)
		return 0;
	return post_queue(dp, DP_POST_RX, id);
}

void
dp_link_post_flush(struct synode_dp *dp)
{
	struct dp_post *p;

	while ((p = dp->post_head) != NULL) {
		/* Once posted, p belongs to the control thread (it frees it). */
		struct dp_post *next = p->next;
		int rc = sn_link_post(dp->node, post_run, p);

		if (rc == -ENOMEM)
			return; /* next turn, in the same order */
		dp->post_head = next;
		if (rc < 0) {
			/* The node is stopping: nobody will read it. */
			if (p->kind == DP_POST_RX)
				atomic_fetch_sub_explicit(&dp->posted_bytes, (int64_t)p->len,
							  memory_order_relaxed);
			free(p->buf);
			free(p);
		}
	}
	dp->post_tail = NULL;
}
