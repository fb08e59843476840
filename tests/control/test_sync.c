/* SPDX-License-Identifier: MIT */
/*
 * Proves the merge rules a node applies to a registration it hears from a
 * peer, branch by branch as Syn's handle_registry_sync and resolve_conflict
 * take them (seed 001), and the hybrid logical clock they stamp with:
 *   - classify: name free -> add; same pid -> refresh; held by a local
 *     process -> resolve; held by a third node's older entry -> replace,
 *     newer or equal -> ignore;
 *   - resolve, default: the newer time wins either way round, a tie goes to
 *     the higher pid; a custom resolver's 0 / 1 / other pick local / remote
 *     / neither, and it sees the two entries the right way round;
 *   - the clock never goes back when the host clock does, orders events
 *     within one nanosecond, and a received stamp moves it past that stamp.
 */
#include <errno.h>
#include <string.h>

#include "../rcu_tables/test_util.h"
#include "sync_internal.h"

static struct synode_conflict
entry(const char *node, uint64_t id, uint64_t wall, uint32_t logical)
{
	struct synode_conflict c;

	memset(&c, 0, sizeof(c));
	strcpy(c.pid.node, node);
	c.pid.id = id;
	c.time.wall_ns = wall;
	c.time.logical = logical;
	c.meta = "m";
	c.meta_len = 1;
	return c;
}

static void
test_classify(void)
{
	struct synode_conflict in = entry("b", 7, 100, 0);
	struct synode_conflict same = entry("b", 7, 50, 0);
	struct synode_conflict local = entry("a", 1, 200, 0);
	struct synode_conflict older = entry("c", 3, 99, 5);
	struct synode_conflict newer = entry("c", 3, 100, 1);
	struct synode_conflict equal = entry("c", 3, 100, 0);

	CHECK_EQ(sn_sync_classify(NULL, false, &in), SN_SYNC_ADD);
	CHECK_EQ(sn_sync_classify(&same, false, &in), SN_SYNC_REFRESH);
	/* same pid wins over "local": a refresh of our own entry is no conflict */
	CHECK_EQ(sn_sync_classify(&same, true, &in), SN_SYNC_REFRESH);
	/* a local holder means a conflict, even when the incoming entry is older */
	CHECK_EQ(sn_sync_classify(&local, true, &in), SN_SYNC_RESOLVE);
	CHECK_EQ(sn_sync_classify(&older, false, &in), SN_SYNC_REPLACE);
	CHECK_EQ(sn_sync_classify(&newer, false, &in), SN_SYNC_IGNORE);
	CHECK_EQ(sn_sync_classify(&equal, false, &in), SN_SYNC_IGNORE);
}

struct seen {
	int calls;
	struct synode_pid a, b;
	int answer;
};

static int
custom(const char *scope, const void *name, size_t len, const struct synode_conflict *a,
       const struct synode_conflict *b, void *arg)
{
	struct seen *s = arg;

	CHECK(strcmp(scope, "sc") == 0);
	CHECK(len == 3 && memcmp(name, "nam", 3) == 0);
	s->calls++;
	s->a = a->pid;
	s->b = b->pid;
	return s->answer;
}

static void
test_resolve(void)
{
	struct synode_conflict old = entry("a", 1, 100, 0), young = entry("b", 2, 100, 1);
	struct synode_conflict lo = entry("a", 1, 100, 0), hi = entry("a", 2, 100, 0);
	struct synode_conflict other_node = entry("b", 1, 100, 0);
	struct seen s = { 0 };

	CHECK_EQ(sn_resolve(NULL, NULL, "sc", "nam", 3, &old, &young), SN_KEEP_REMOTE);
	CHECK_EQ(sn_resolve(NULL, NULL, "sc", "nam", 3, &young, &old), SN_KEEP_LOCAL);
	/* ties: the higher pid, compared as synode_pid_cmp (node, then id) */
	CHECK_EQ(sn_resolve(NULL, NULL, "sc", "nam", 3, &lo, &hi), SN_KEEP_REMOTE);
	CHECK_EQ(sn_resolve(NULL, NULL, "sc", "nam", 3, &hi, &lo), SN_KEEP_LOCAL);
	CHECK_EQ(sn_resolve(NULL, NULL, "sc", "nam", 3, &lo, &other_node), SN_KEEP_REMOTE);
	CHECK_EQ(sn_resolve(NULL, NULL, "sc", "nam", 3, &other_node, &lo), SN_KEEP_LOCAL);

	s.answer = 0;
	CHECK_EQ(sn_resolve(custom, &s, "sc", "nam", 3, &old, &young), SN_KEEP_LOCAL);
	CHECK(synode_pid_cmp(&s.a, &old.pid) == 0 && synode_pid_cmp(&s.b, &young.pid) == 0);
	s.answer = 1;
	CHECK_EQ(sn_resolve(custom, &s, "sc", "nam", 3, &old, &young), SN_KEEP_REMOTE);
	s.answer = -1;
	CHECK_EQ(sn_resolve(custom, &s, "sc", "nam", 3, &old, &young), SN_KEEP_NEITHER);
	s.answer = 7;
	CHECK_EQ(sn_resolve(custom, &s, "sc", "nam", 3, &old, &young), SN_KEEP_NEITHER);
	CHECK_EQ(s.calls, 4);
}

static void
test_hlc(void)
{
	struct sn_hlc c = { { 0, 0 } };
	struct synode_time t1, t2, t3, r;

	t1 = sn_hlc_now(&c, 1000);
	CHECK(t1.wall_ns == 1000 && t1.logical == 0);
	t2 = sn_hlc_now(&c, 1000);                 /* same ns: logical orders */
	CHECK(sn_time_cmp(&t2, &t1) > 0 && t2.logical == 1);
	t3 = sn_hlc_now(&c, 500);                  /* the host clock stepped back */
	CHECK(sn_time_cmp(&t3, &t2) > 0 && t3.wall_ns == 1000);
	/* a peer ahead of us: our next stamp is past its stamp */
	r.wall_ns = 5000;
	r.logical = 9;
	sn_hlc_recv(&c, &r, 1200);
	t1 = sn_hlc_now(&c, 1300);
	CHECK(sn_time_cmp(&t1, &r) > 0);
	CHECK(t1.wall_ns == 5000 && t1.logical == 11);
	/* physical time catching up resets the logical part */
	t2 = sn_hlc_now(&c, 6000);
	CHECK(t2.wall_ns == 6000 && t2.logical == 0);
	/* a stale peer stamp never moves us back */
	r.wall_ns = 10;
	r.logical = 0;
	sn_hlc_recv(&c, &r, 6000);
	t3 = sn_hlc_now(&c, 6000);
	CHECK(sn_time_cmp(&t3, &t2) > 0);
	/* equal wall times: logical is past both */
	c.last.wall_ns = 7000;
	c.last.logical = 3;
	r.wall_ns = 7000;
	r.logical = 8;
	sn_hlc_recv(&c, &r, 100);
	CHECK(c.last.wall_ns == 7000 && c.last.logical == 9);
	CHECK(sn_phys_now() > UINT64_C(1600000000) * 1000000000u);
}

static void
test_text(void)
{
	struct synode_pid p, q;
	struct synode_reason r = { SYNODE_REASON_SIGNAL, 9 };
	char buf[96];

	CHECK_EQ(synode_pid_parse("node-1/4294967299", &p), 0);
	CHECK(strcmp(p.node, "node-1") == 0 && p.id == UINT64_C(4294967299));
	CHECK_EQ(synode_pid_format(&p, buf, sizeof(buf)), 17);
	CHECK(strcmp(buf, "node-1/4294967299") == 0);
	CHECK_EQ(synode_pid_format(&p, buf, 5), -ENOSPC);
	CHECK_EQ(synode_pid_parse("nonode", &q), -EINVAL);
	CHECK_EQ(synode_pid_parse("/12", &q), -EINVAL);
	CHECK_EQ(synode_pid_parse("a/", &q), -EINVAL);
	CHECK_EQ(synode_pid_parse("a/12x", &q), -EINVAL);
	CHECK_EQ(synode_pid_parse("a/-1", &q), -EINVAL);
	CHECK_EQ(synode_reason_format(&r, buf, sizeof(buf)), 11);
	CHECK(strcmp(buf, "signal:KILL") == 0);
	r.kind = SYNODE_REASON_EXIT;
	r.code = 3;
	synode_reason_format(&r, buf, sizeof(buf));
	CHECK(strcmp(buf, "exit:3") == 0);
	r.kind = SYNODE_REASON_CONFLICT;
	synode_reason_format(&r, buf, sizeof(buf));
	CHECK(strcmp(buf, "conflict_resolution") == 0);
	CHECK(strcmp(synode_strerror(-SYNODE_ETAKEN), "taken") == 0);
	CHECK(strcmp(synode_strerror(SYNODE_EINVALID_SCOPE), "invalid_scope") == 0);
	CHECK(strcmp(synode_event_name(SYNODE_EV_MEMBER_UPDATED), "member_updated") == 0);
}

int
main(void)
{
	test_classify();
	test_resolve();
	test_hlc();
	test_text();
	printf("control_sync: ok\n");
	return 0;
}
