/* SPDX-License-Identifier: MIT */
/*
 * Proves, on three nodes in one process joined by an in-memory peer link
 * (mem_link.c), that everything a node sends and receives goes through
 * its link and that the merge rules hold end to end:
 *   - a registration, a meta update, an unregistration, a join and a leave
 *     made on one node reach the others, with their events and reasons;
 *   - the death of a process (a handle closed) leaves the other nodes with
 *     reason "normal" carried over;
 *   - a node outside a scope neither stores nor is asked about it;
 *   - a race on one name (a netsplit: both sides register it, the link
 *     holds the messages, then heals) ends with exactly one owner on every
 *     node, the newer registration kept, the loser's owner told with
 *     conflict_resolution, and identical registries everywhere;
 *   - a custom resolver that keeps neither frees the name on every node;
 *   - group memberships made on both sides of a split merge after healing;
 *   - a write for a process owned by another node goes to its owner and
 *     returns once the caller's own tables have it (read-your-writes), for
 *     every kind of write; with the owner split away it is unreachable;
 *   - a node that goes down (a split that ends the session) has its data
 *     purged everywhere with remote_scope_node_down, and when it comes
 *     back the scope resyncs with remote_scope_node_up.
 * A node writes its tables before it fires the event, so the test waits
 * (bounded) for each event as it waits for the tables.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-memb.h>

#include "../rcu_tables/test_util.h"
#include "mem_link.h"
#include "synode.h"

#define WAIT_MS 5000

struct ev_log {
	pthread_mutex_t mu;
	int n;
	struct {
		enum synode_event_kind kind;
		char scope[64];
		char name[64];
		struct synode_pid pid;
		struct synode_reason reason;
	} ev[256];
};

static void
on_event(const struct synode_event *e, void *arg)
{
	struct ev_log *l = arg;

	pthread_mutex_lock(&l->mu);
	if (l->n < 256) {
		l->ev[l->n].kind = e->kind;
		snprintf(l->ev[l->n].scope, 64, "%s", e->scope);
		snprintf(l->ev[l->n].name, 64, "%.*s", (int)e->name_len, (const char *)e->name);
		l->ev[l->n].pid = e->pid;
		l->ev[l->n].reason = e->reason;
		l->n++;
	}
	pthread_mutex_unlock(&l->mu);
}

/* Events of @p kind for @p name with reason @p reason seen by @p l. */
static int
ev_count(struct ev_log *l, enum synode_event_kind kind, const char *name,
	 enum synode_reason_kind reason)
{
	int c = 0;

	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < l->n; i++)
		if (l->ev[i].kind == kind && strcmp(l->ev[i].name, name) == 0 &&
		    l->ev[i].reason.kind == reason)
			c++;
	pthread_mutex_unlock(&l->mu);
	return c;
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits (bounded) until @p cond holds. */
#define WAIT_FOR(cond)                                                         \
	do {                                                                   \
		uint64_t wf_end_ = ms_now() + WAIT_MS;                         \
		while (!(cond) && ms_now() < wf_end_) {                        \
			struct timespec wf_ts_ = { 0, 1000000 };               \
			nanosleep(&wf_ts_, NULL);                              \
		}                                                              \
		CHECK_MSG((cond), "still false after %d ms", WAIT_MS);        \
	} while (0)

static struct mem_link *link_;
static struct synode *node[3];
static struct ev_log logs[3];

static struct synode *
start(int i, const char *name, const char *const *scopes, unsigned n_scopes,
      synode_resolve_fn resolver)
{
	struct synode_params p = {
		.name = name,
		.scopes = scopes,
		.n_scopes = n_scopes,
		.on_event = on_event,
		.event_arg = &logs[i],
		.resolver = resolver,
		.link = mem_link_of(link_, (unsigned)i),
		.log_level = SYNODE_LOG_WARNING,
	};
	struct synode *n;

	memset(&logs[i], 0, sizeof(logs[i]));
	pthread_mutex_init(&logs[i].mu, NULL);
	n = synode_start(&p);
	CHECK_MSG(n != NULL, "synode_start(%s): %s", name, strerror(errno));
	mem_link_attach(link_, (unsigned)i, n);
	return n;
}

/* Waits until the nodes serving @p scope have all synced with each other
 * (discover / ack_sync): each has the @p others in its subcluster. */
static void
wait_formed(const char *scope, long others)
{
	for (int i = 0; i < 3; i++)
		if (node[i] != NULL && synode_registry_count(node[i], scope, NULL) >= 0)
			WAIT_FOR(synode_peers(node[i], scope, NULL, NULL) == others);
}

static void
stop_all(void)
{
	for (int i = 0; i < 3; i++) {
		if (node[i] == NULL)
			continue;
		mem_link_detach(link_, node[i]);
		synode_stop(node[i]);
		node[i] = NULL;
	}
	mem_link_free(link_);
	link_ = NULL;
}

static int
lookup_id(struct synode *n, const char *scope, const char *name, uint64_t *id)
{
	struct synode_pid pid;
	int rc = synode_lookup(n, scope, name, strlen(name), &pid, NULL, NULL);

	if (rc == 0 && id != NULL)
		*id = pid.id;
	return rc;
}

static int
meta_is(struct synode *n, const char *name, const char *meta)
{
	char buf[64];
	size_t len = sizeof(buf);

	if (synode_lookup(n, "s", name, strlen(name), NULL, buf, &len) != 0)
		return 0;
	return len == strlen(meta) && memcmp(buf, meta, len) == 0;
}

static void
test_propagation(void)
{
	static const char *const s[] = { "s" };
	static const char *const other[] = { "other" };
	struct synode_pid h;
	uint64_t id = 0;

	link_ = mem_link_new();
	node[0] = start(0, "a", s, 1, NULL);
	node[1] = start(1, "b", s, 1, NULL);
	node[2] = start(2, "c", other, 1, NULL);
	wait_formed("s", 1);

	CHECK_EQ(synode_handle_new(node[0], &h), 0);
	CHECK_EQ(synode_register(node[0], "s", "svc", 3, &h, "v1", 2), 0);
	WAIT_FOR(lookup_id(node[1], "s", "svc", &id) == 0);
	CHECK(id == h.id);
	WAIT_FOR(ev_count(&logs[1], SYNODE_EV_REGISTERED, "svc", SYNODE_REASON_NORMAL) == 1);
	/* c serves another scope: it stores nothing of s and says so */
	CHECK_EQ(lookup_id(node[2], "s", "svc", NULL), -SYNODE_EINVALID_SCOPE);
	CHECK_EQ(logs[2].n, 0);

	CHECK_EQ(synode_update(node[0], "s", "svc", 3, "v2", 2), 0);
	WAIT_FOR(meta_is(node[1], "svc", "v2"));
	WAIT_FOR(ev_count(&logs[1], SYNODE_EV_REGISTRY_UPDATED, "svc", SYNODE_REASON_NORMAL) == 1);

	CHECK_EQ(synode_join(node[0], "s", "grp", 3, &h, "m", 1), 0);
	WAIT_FOR(synode_member_count(node[1], "s", "grp", 3, NULL) == 1);
	CHECK_EQ(synode_is_member(node[1], "s", "grp", 3, &h), 1);
	CHECK_EQ(synode_member_count(node[1], "s", "grp", 3, "a"), 1);
	CHECK_EQ(synode_member_count(node[1], "s", "grp", 3, "b"), 0);

	CHECK_EQ(synode_leave(node[0], "s", "grp", 3, &h), 0);
	WAIT_FOR(synode_member_count(node[1], "s", "grp", 3, NULL) == 0);
	WAIT_FOR(ev_count(&logs[1], SYNODE_EV_LEFT, "grp", SYNODE_REASON_NORMAL) == 1);

	CHECK_EQ(synode_unregister(node[0], "s", "svc", 3), 0);
	WAIT_FOR(lookup_id(node[1], "s", "svc", NULL) == -SYNODE_EUNDEFINED);
	WAIT_FOR(ev_count(&logs[1], SYNODE_EV_UNREGISTERED, "svc", SYNODE_REASON_NORMAL) == 1);

	/* a death: the handle closes, its name and membership go everywhere */
	CHECK_EQ(synode_register(node[0], "s", "svc2", 4, &h, NULL, 0), 0);
	CHECK_EQ(synode_join(node[0], "s", "grp", 3, &h, NULL, 0), 0);
	WAIT_FOR(synode_member_count(node[1], "s", "grp", 3, NULL) == 1 &&
		 lookup_id(node[1], "s", "svc2", NULL) == 0);
	CHECK_EQ(synode_handle_close(node[0], &h), 0);
	WAIT_FOR(lookup_id(node[1], "s", "svc2", NULL) == -SYNODE_EUNDEFINED &&
		 synode_member_count(node[1], "s", "grp", 3, NULL) == 0);
	CHECK_EQ(synode_registry_count(node[1], "s", NULL), 0);
	CHECK(mem_link_sent(link_) > 0);
	stop_all();
}

/* Registries of every node, as "name=node/id" sorted, for equality. */
struct snap {
	int n;
	char e[16][96];
};

static void
snap_add(const struct synode_reg_entry *e, void *arg)
{
	struct snap *s = arg;

	if (s->n < 16)
		snprintf(s->e[s->n++], 96, "%.*s=%s/%llu", (int)e->name_len,
			 (const char *)e->name, e->pid.node, (unsigned long long)e->pid.id);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
snapshot(struct synode *n, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	CHECK(synode_registry_foreach(n, "s", NULL, snap_add, s) >= 0);
	qsort(s->e, (size_t)s->n, sizeof(s->e[0]), cmp_str);
}

static int
snaps_equal(void)
{
	struct snap a, b, c;

	snapshot(node[0], &a);
	snapshot(node[1], &b);
	snapshot(node[2], &c);
	return memcmp(&a, &b, sizeof(a)) == 0 && memcmp(&a, &c, sizeof(a)) == 0;
}

static void
test_netsplit_conflict(void)
{
	static const char *const s[] = { "s" };
	struct synode_pid ha, hb;
	uint64_t id;

	link_ = mem_link_new();
	for (int i = 0; i < 3; i++)
		node[i] = start(i, (const char *[]){ "a", "b", "c" }[i], s, 1, NULL);
	wait_formed("s", 2);
	mem_link_cut(link_, node[0], node[1], true);
	CHECK_EQ(synode_handle_new(node[0], &ha), 0);
	CHECK_EQ(synode_handle_new(node[1], &hb), 0);
	CHECK_EQ(synode_register(node[0], "s", "x", 1, &ha, "A", 1), 0);
	WAIT_FOR(lookup_id(node[2], "s", "x", NULL) == 0);
	/* b registers later: the newer time, the winner */
	CHECK_EQ(synode_register(node[1], "s", "x", 1, &hb, "B", 1), 0);
	WAIT_FOR(lookup_id(node[2], "s", "x", &id) == 0 && id == hb.id);
	CHECK_EQ(lookup_id(node[0], "s", "x", &id), 0);
	CHECK(id == ha.id);
	mem_link_heal(link_, node[0], node[1]);
	WAIT_FOR(lookup_id(node[0], "s", "x", &id) == 0 && id == hb.id);
	WAIT_FOR(snaps_equal());
	/* the loser's owner was told */
	WAIT_FOR(ev_count(&logs[0], SYNODE_EV_UNREGISTERED, "x", SYNODE_REASON_CONFLICT) == 1);
	WAIT_FOR(ev_count(&logs[0], SYNODE_EV_REGISTERED, "x", SYNODE_REASON_CONFLICT) == 1);
	/* the winner's owner keeps it without losing it */
	CHECK_EQ(ev_count(&logs[1], SYNODE_EV_UNREGISTERED, "x", SYNODE_REASON_CONFLICT), 0);
	CHECK(meta_is(node[0], "x", "B") && meta_is(node[2], "x", "B"));
	CHECK_EQ(synode_registry_count(node[0], "s", "a"), 0);
	/* a's handle still lives: it only lost the name */
	CHECK_EQ(synode_register(node[0], "s", "y", 1, &ha, NULL, 0), 0);
	WAIT_FOR(lookup_id(node[1], "s", "y", NULL) == 0);

	/* memberships on both sides of a split merge */
	mem_link_cut(link_, node[0], node[1], true);
	CHECK_EQ(synode_join(node[0], "s", "g", 1, &ha, NULL, 0), 0);
	CHECK_EQ(synode_join(node[1], "s", "g", 1, &hb, NULL, 0), 0);
	mem_link_heal(link_, node[0], node[1]);
	for (int i = 0; i < 3; i++)
		WAIT_FOR(synode_member_count(node[i], "s", "g", 1, NULL) == 2);
	stop_all();
}

static int
keep_neither(const char *scope, const void *name, size_t len,
	     const struct synode_conflict *a, const struct synode_conflict *b, void *arg)
{
	(void)scope, (void)name, (void)len, (void)a, (void)b, (void)arg;
	return -1;
}

static void
test_resolver_neither(void)
{
	static const char *const s[] = { "s" };
	struct synode_pid ha, hb;

	link_ = mem_link_new();
	for (int i = 0; i < 3; i++)
		node[i] = start(i, (const char *[]){ "a", "b", "c" }[i], s, 1, keep_neither);
	wait_formed("s", 2);
	mem_link_cut(link_, node[0], node[1], true);
	CHECK_EQ(synode_handle_new(node[0], &ha), 0);
	CHECK_EQ(synode_handle_new(node[1], &hb), 0);
	CHECK_EQ(synode_register(node[0], "s", "x", 1, &ha, NULL, 0), 0);
	CHECK_EQ(synode_register(node[1], "s", "x", 1, &hb, NULL, 0), 0);
	WAIT_FOR(ev_count(&logs[2], SYNODE_EV_REGISTERED, "x", SYNODE_REASON_NORMAL) == 2);
	mem_link_heal(link_, node[0], node[1]);
	for (int i = 0; i < 3; i++)
		WAIT_FOR(lookup_id(node[i], "s", "x", NULL) == -SYNODE_EUNDEFINED);
	WAIT_FOR(ev_count(&logs[0], SYNODE_EV_UNREGISTERED, "x", SYNODE_REASON_CONFLICT) == 1);
	WAIT_FOR(ev_count(&logs[1], SYNODE_EV_UNREGISTERED, "x", SYNODE_REASON_CONFLICT) == 1);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(synode_registry_count(node[i], "s", NULL), 0);
	stop_all();
}

static void
test_remote_writes(void)
{
	static const char *const s[] = { "s" };
	struct synode_pid h, got;
	uint64_t id = 0;
	size_t ml;
	char meta[16];

	link_ = mem_link_new();
	for (int i = 0; i < 3; i++)
		node[i] = start(i, (const char *[]){ "a", "b", "c" }[i], s, 1, NULL);
	wait_formed("s", 2);
	CHECK_EQ(synode_handle_new(node[0], &h), 0);

	/* b registers a's process: a writes it, and b has it on return */
	CHECK_EQ(synode_register(node[1], "s", "r", 1, &h, "m1", 2), 0);
	CHECK_EQ(lookup_id(node[1], "s", "r", &id), 0);
	CHECK(id == h.id);
	CHECK_EQ(lookup_id(node[0], "s", "r", NULL), 0);
	WAIT_FOR(lookup_id(node[2], "s", "r", NULL) == 0);
	/* the owner's rules apply: taken for another pid */
	struct synode_pid h2;
	CHECK_EQ(synode_handle_new(node[0], &h2), 0);
	CHECK_EQ(synode_register(node[1], "s", "r", 1, &h2, NULL, 0), -SYNODE_ETAKEN);
	/* update through b */
	CHECK_EQ(synode_update(node[1], "s", "r", 1, "m2", 2), 0);
	ml = sizeof(meta);
	CHECK_EQ(synode_lookup(node[1], "s", "r", 1, &got, meta, &ml), 0);
	CHECK(ml == 2 && memcmp(meta, "m2", 2) == 0);
	/* join, update_member, leave through c */
	CHECK_EQ(synode_join(node[2], "s", "g", 1, &h, "j", 1), 0);
	CHECK_EQ(synode_is_member(node[2], "s", "g", 1, &h), 1);
	CHECK_EQ(synode_update_member(node[2], "s", "g", 1, &h, "k", 1), 0);
	CHECK_EQ(synode_leave(node[2], "s", "g", 1, &h), 0);
	CHECK_EQ(synode_is_member(node[2], "s", "g", 1, &h), 0);
	CHECK_EQ(synode_leave(node[2], "s", "g", 1, &h), -SYNODE_ENOT_IN_GROUP);
	/* unregister through b */
	CHECK_EQ(synode_unregister(node[1], "s", "r", 1), 0);
	CHECK_EQ(lookup_id(node[1], "s", "r", NULL), -SYNODE_EUNDEFINED);
	WAIT_FOR(lookup_id(node[2], "s", "r", NULL) == -SYNODE_EUNDEFINED);
	/* a batch on b mixing b's own processes and a's: one call, every
	 * result as the single calls give it, b's tables written on return */
	{
		struct synode_pid hb;
		struct synode_op ops[5];

		CHECK_EQ(synode_handle_new(node[1], &hb), 0);
		memset(ops, 0, sizeof(ops));
		ops[0] = (struct synode_op){ SYNODE_OP_REGISTER, "s", "bl", 2, hb, "x", 1, 99 };
		ops[1] = (struct synode_op){ SYNODE_OP_REGISTER, "s", "ar", 2, h, NULL, 0, 99 };
		ops[2] = (struct synode_op){ SYNODE_OP_REGISTER, "s", "bl", 2, h, NULL, 0, 99 };
		ops[3] = (struct synode_op){ SYNODE_OP_JOIN, "s", "bg", 2, h, NULL, 0, 99 };
		ops[4] = (struct synode_op){ SYNODE_OP_LEAVE, "s", "zz", 2, hb, NULL, 0, 99 };
		CHECK_EQ(synode_batch(node[1], ops, 5), 0);
		CHECK_EQ(ops[0].result, 0);
		CHECK_EQ(ops[1].result, 0);
		CHECK_EQ(ops[2].result, -SYNODE_ETAKEN);
		CHECK_EQ(ops[3].result, 0);
		CHECK_EQ(ops[4].result, -SYNODE_ENOT_IN_GROUP);
		CHECK_EQ(lookup_id(node[1], "s", "ar", &id), 0);
		CHECK(id == h.id);
		CHECK_EQ(synode_is_member(node[1], "s", "bg", 2, &h), 1);
		WAIT_FOR(lookup_id(node[2], "s", "bl", NULL) == 0 &&
			 lookup_id(node[2], "s", "ar", NULL) == 0);
		CHECK_EQ(synode_batch(node[1], NULL, 0), 0);
		CHECK_EQ(synode_batch(node[1], NULL, 1), -EINVAL);
	}

	/* a's process, as seen from b with a split away: unreachable */
	mem_link_cut(link_, node[0], node[1], false);
	WAIT_FOR(synode_peers(node[1], "s", NULL, NULL) == 1);
	CHECK_EQ(synode_register(node[1], "s", "r", 1, &h, NULL, 0), -SYNODE_EUNREACHABLE);
	mem_link_heal(link_, node[0], node[1]);
	wait_formed("s", 2);
	CHECK_EQ(synode_register(node[1], "s", "r", 1, &h, NULL, 0), 0);
	stop_all();
}

static void
test_node_down_up(void)
{
	static const char *const s[] = { "s" };
	struct synode_pid ha, hb;

	link_ = mem_link_new();
	for (int i = 0; i < 3; i++)
		node[i] = start(i, (const char *[]){ "a", "b", "c" }[i], s, 1, NULL);
	wait_formed("s", 2);
	CHECK_EQ(synode_handle_new(node[0], &ha), 0);
	CHECK_EQ(synode_handle_new(node[1], &hb), 0);
	CHECK_EQ(synode_register(node[0], "s", "xa", 2, &ha, NULL, 0), 0);
	CHECK_EQ(synode_join(node[0], "s", "g", 1, &ha, NULL, 0), 0);
	CHECK_EQ(synode_register(node[1], "s", "xb", 2, &hb, NULL, 0), 0);
	for (int i = 0; i < 3; i++)
		WAIT_FOR(synode_registry_count(node[i], "s", NULL) == 2 &&
			 synode_member_count(node[i], "s", "g", 1, NULL) == 1);

	/* a is cut from both: each side purges the other's data */
	mem_link_cut(link_, node[0], node[1], false);
	mem_link_cut(link_, node[0], node[2], false);
	for (int i = 1; i < 3; i++) {
		WAIT_FOR(synode_registry_count(node[i], "s", NULL) == 1 &&
			 synode_member_count(node[i], "s", "g", 1, NULL) == 0);
		WAIT_FOR(ev_count(&logs[i], SYNODE_EV_UNREGISTERED, "xa",
				  SYNODE_REASON_NODE_DOWN) == 1);
		WAIT_FOR(ev_count(&logs[i], SYNODE_EV_LEFT, "g", SYNODE_REASON_NODE_DOWN) == 1);
	}
	WAIT_FOR(synode_registry_count(node[0], "s", NULL) == 1);
	WAIT_FOR(ev_count(&logs[0], SYNODE_EV_UNREGISTERED, "xb", SYNODE_REASON_NODE_DOWN) == 1);
	/* b writes meanwhile: a learns of it when it comes back */
	CHECK_EQ(synode_unregister(node[1], "s", "xb", 2), 0);
	CHECK_EQ(synode_register(node[1], "s", "xb2", 3, &hb, NULL, 0), 0);

	mem_link_heal(link_, node[0], node[1]);
	mem_link_heal(link_, node[0], node[2]);
	wait_formed("s", 2);
	for (int i = 0; i < 3; i++)
		WAIT_FOR(synode_registry_count(node[i], "s", NULL) == 2 &&
			 lookup_id(node[i], "s", "xb2", NULL) == 0 &&
			 lookup_id(node[i], "s", "xa", NULL) == 0 &&
			 synode_member_count(node[i], "s", "g", 1, NULL) == 1);
	WAIT_FOR(ev_count(&logs[1], SYNODE_EV_REGISTERED, "xa", SYNODE_REASON_NODE_UP) == 1);
	WAIT_FOR(ev_count(&logs[0], SYNODE_EV_REGISTERED, "xb2", SYNODE_REASON_NODE_UP) == 1);
	CHECK_EQ(lookup_id(node[0], "s", "xb", NULL), -SYNODE_EUNDEFINED);
	WAIT_FOR(snaps_equal());
	stop_all();
}

int
main(void)
{
	urcu_memb_register_thread();
	test_propagation();
	test_netsplit_conflict();
	test_resolver_neither();
	test_remote_writes();
	test_node_down_up();
	urcu_memb_unregister_thread();
	printf("control_mem_cluster: ok\n");
	return 0;
}
