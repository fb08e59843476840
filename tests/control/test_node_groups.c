/* SPDX-License-Identifier: MIT */
/*
 * Process groups of one node through the embedding API (synode.h), against
 * Syn 3.4's syn_pg: every case checks results, error codes and the exact
 * events. Proves:
 *   - join: ok with a "joined" event; joining again with other meta updates
 *     it ("member_updated" with prev_meta), with the same meta it is a
 *     no-op; leave: ok with a "left" event carrying the member's meta, then
 *     not_in_group (also for a group never joined);
 *   - members: ordered by pid (children and handles joined in shuffled
 *     order), each with its own meta; the node filter (this node: all;
 *     another: none, and the callback never runs); is_member; member_count
 *     whole and per node;
 *   - group_names / group_count: only groups with members, each once, in
 *     byte order, with the node filter; a group disappears when its last
 *     member leaves;
 *   - update_member: ok with an event, same meta no-op, undefined when not
 *     a member (never joined, left, other group);
 *   - binary group names ("a", "a\0", "a\0b", "ab", "a\xff", "\0", "\xff":
 *     NUL and 0xff bytes, groups that are prefixes of others) keep their
 *     members apart in every read and event;
 *   - invalid_scope from every group function; empty group names -EINVAL,
 *     long ones -ENAMETOOLONG (255, and a node's max_name_len of 10), meta
 *     over the limit -EMSGSIZE; not_alive for a reaped child, a zombie and
 *     a closed handle.
 *
 * Options: --seed N (shuffles the join order), --only CASE.
 */
#include "node_test_util.h"

/* Members seen by synode_members(), in order. */
struct members_seen {
	unsigned n;
	struct synode_pid pid[16];
	char meta[16][32];
};

static void
member_visit(const struct synode_member *m, void *arg)
{
	struct members_seen *s = arg;

	CHECK(s->n < 16);
	CHECK(m->meta_len < sizeof(s->meta[0]));
	CHECK(m->meta != NULL || m->meta_len == 0);
	CHECK(m->time.wall_ns > 0);
	s->pid[s->n] = m->pid;
	if (m->meta_len)
		memcpy(s->meta[s->n], m->meta, m->meta_len);
	s->meta[s->n][m->meta_len] = 0;
	s->n++;
}

static void
member_never(const struct synode_member *m, void *arg)
{
	(void)m;
	(void)arg;
	CHECK_MSG(0, "members called its callback for an invalid scope or a node filter");
}

/* Group names seen by synode_group_names(), in order. */
struct names_seen {
	unsigned n;
	size_t len[16];
	unsigned char name[16][16];
};

static void
name_visit(const void *g, size_t len, void *arg)
{
	struct names_seen *s = arg;

	CHECK(s->n < 16);
	CHECK(len > 0 && len <= sizeof(s->name[0]));
	memcpy(s->name[s->n], g, len);
	s->len[s->n] = len;
	s->n++;
}

static void
name_never(const void *g, size_t len, void *arg)
{
	(void)g;
	(void)len;
	(void)arg;
	CHECK_MSG(0, "group_names called its callback for an invalid scope or a node filter");
}

/* Byte order: memcmp, a proper prefix first. */
static int
bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static void
case_join_leave(void)
{
	struct nt_node t;
	struct synode_pid h, h2;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	h2 = nt_handle(&t);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h), 0);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h), 1);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h2), 0);
	CHECK_EQ(synode_is_member(t.n, "s2", "g", 1, &h), 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);

	/* the same meta: nothing happens */
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m1", 2), 0);
	nt_expect_none(&t.col, 0);
	/* other meta: an update */
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", NT_S("g"), &h, NT_S("m2"), NT_S("m1"),
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", NT_S("g"), &h, NULL, 0, NT_S("m2"),
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m3", 2), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", NT_S("g"), &h, NT_S("m3"), "", 0,
		  "normal");
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);

	/* a second member; the same group in s2 is another group */
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h2, "x", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h2, NT_S("x"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s2", "g", 1, &h, "y", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g"), &h, NT_S("y"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 2);
	CHECK_EQ(synode_member_count(t.n, "s2", "g", 1, NULL), 1);

	/* leave: the event carries the member's meta */
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &h), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g"), &h, NT_S("m3"), NT_NOPREV, "normal");
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h), 0);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h2), 1);
	CHECK_EQ(synode_is_member(t.n, "s2", "g", 1, &h), 1);
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &h), -SYNODE_ENOT_IN_GROUP);
	CHECK_EQ(synode_leave(t.n, "s1", "never", 5, &h), -SYNODE_ENOT_IN_GROUP);
	CHECK_EQ(synode_leave(t.n, "s2", "g2", 2, &h2), -SYNODE_ENOT_IN_GROUP);
	nt_expect_none(&t.col, 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);

	/* join again after leaving: a new "joined" */
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m3", 2), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NT_S("m3"), NT_NOPREV,
		  "normal");

	CHECK(strcmp(synode_strerror(-SYNODE_ENOT_IN_GROUP), "not_in_group") == 0);
	nt_node_stop(&t);
}

static void
case_members_order(void)
{
	enum { NC = 3, NH = 3, N = NC + NH };
	struct nt_node t;
	struct nt_child c[NC];
	struct synode_pid p[N];
	char meta[N][8];
	unsigned order[N];
	struct members_seen s;
	struct tu_rng rng;

	tu_rng_init(&rng, tu_seed);
	nt_node_start(&t, NULL);
	for (unsigned i = 0; i < NC; i++) {
		nt_child_spawn(&c[i]);
		p[i] = nt_child_pid(&t, &c[i]);
	}
	for (unsigned i = NC; i < N; i++)
		p[i] = nt_handle(&t);
	for (unsigned i = 0; i < N; i++) {
		snprintf(meta[i], sizeof(meta[i]), "m%u", i);
		order[i] = i;
	}
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)tu_rng_below(&rng, i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (unsigned k = 0; k < N; k++) {
		unsigned i = order[k];

		CHECK_EQ(synode_join(t.n, "s1", "g", 1, &p[i], meta[i], strlen(meta[i])), 0);
		nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &p[i], NT_S(meta[i]),
			  NT_NOPREV, "normal");
	}

	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_members(t.n, "s1", "g", 1, NULL, member_visit, &s), N);
	CHECK_EQ(s.n, N);
	for (unsigned k = 0; k < N; k++) {
		unsigned i;

		if (k > 0)
			CHECK_MSG(synode_pid_cmp(&s.pid[k - 1], &s.pid[k]) < 0,
				  "members %u and %u out of order (ids %" PRIu64 ", %" PRIu64 ")",
				  k - 1, k, s.pid[k - 1].id, s.pid[k].id);
		for (i = 0; i < N; i++)
			if (synode_pid_cmp(&s.pid[k], &p[i]) == 0)
				break;
		CHECK_MSG(i < N, "member %u is not a process of the test", k);
		CHECK_MSG(strcmp(s.meta[k], meta[i]) == 0, "member %u meta %s", k, s.meta[k]);
	}
	/* OS pids sort before handles (ids below SYNODE_HANDLE_ID_BASE) */
	CHECK(s.pid[NC - 1].id < SYNODE_HANDLE_ID_BASE && s.pid[NC].id >= SYNODE_HANDLE_ID_BASE);

	/* the node filter */
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_members(t.n, "s1", "g", 1, NT_NODE, member_visit, &s), N);
	CHECK_EQ(s.n, N);
	CHECK_EQ(synode_members(t.n, "s1", "g", 1, "n2", member_never, NULL), 0);
	CHECK_EQ(synode_members(t.n, "s1", "g", 1, "n", member_never, NULL), 0);
	CHECK_EQ(synode_members(t.n, "s1", "other", 5, NULL, member_never, NULL), 0);
	CHECK_EQ(synode_members(t.n, "s2", "g", 1, NULL, member_never, NULL), 0);
	CHECK_EQ(synode_members(t.n, "s1", "g", 1, NULL, NULL, NULL), N);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), N);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NT_NODE), N);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, "n2"), 0);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &p[i]), 1);

	/* a member leaves from the middle: the order holds */
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &p[1]), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g"), &p[1], NT_S(meta[1]), NT_NOPREV,
		  "normal");
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_members(t.n, "s1", "g", 1, NULL, member_visit, &s), N - 1);
	for (unsigned k = 1; k < s.n; k++)
		CHECK(synode_pid_cmp(&s.pid[k - 1], &s.pid[k]) < 0);
	for (unsigned k = 0; k < s.n; k++)
		CHECK(synode_pid_cmp(&s.pid[k], &p[1]) != 0);

	/* the children die (reaped at once): their memberships go */
	for (unsigned i = 0; i < NC; i++)
		nt_child_cleanup(&c[i]);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_LEFT, "s1", NT_S("g"), &p[0], NT_S(meta[0]), NT_NOPREV,
			  "signal:KILL" },
			{ SYNODE_EV_LEFT, "s1", NT_S("g"), &p[2], NT_S(meta[2]), NT_NOPREV,
			  "signal:KILL" },
		};

		nt_expect_set(&t.col, w, 2);
	}
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), NH);
	nt_node_stop(&t);
}

static void
case_group_names(void)
{
	struct nt_node t;
	struct synode_pid h, h2;
	struct names_seen s;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	h2 = nt_handle(&t);
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 0);
	CHECK_EQ(synode_group_names(t.n, "s1", NULL, name_never, NULL), 0);

	/* joined in reverse order; g2 has two members */
	CHECK_EQ(synode_join(t.n, "s1", "g3", 2, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g3"), &h, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g2", 2, &h2, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g2"), &h2, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g2", 2, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g2"), &h, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g1", 2, &h2, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g1"), &h2, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_join(t.n, "s2", "z", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("z"), &h, NULL, 0, NT_NOPREV, "normal");

	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 3);
	CHECK_EQ(synode_group_count(t.n, "s1", NT_NODE), 3);
	CHECK_EQ(synode_group_count(t.n, "s1", "n2"), 0);
	CHECK_EQ(synode_group_count(t.n, "s2", NULL), 1);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_group_names(t.n, "s1", NULL, name_visit, &s), 3);
	CHECK_EQ(s.n, 3);
	CHECK(s.len[0] == 2 && memcmp(s.name[0], "g1", 2) == 0);
	CHECK(s.len[1] == 2 && memcmp(s.name[1], "g2", 2) == 0);
	CHECK(s.len[2] == 2 && memcmp(s.name[2], "g3", 2) == 0);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_group_names(t.n, "s1", NT_NODE, name_visit, &s), 3);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(synode_group_names(t.n, "s1", "n2", name_never, NULL), 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g2", 2, NULL), 2);
	CHECK_EQ(synode_member_count(t.n, "s1", "g2", 2, NT_NODE), 2);

	/* g2 loses one member: still there; then its last: gone */
	CHECK_EQ(synode_leave(t.n, "s1", "g2", 2, &h), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g2"), &h, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 3);
	CHECK_EQ(synode_leave(t.n, "s1", "g2", 2, &h2), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g2"), &h2, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 2);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_group_names(t.n, "s1", NULL, name_visit, &s), 2);
	CHECK(s.len[0] == 2 && memcmp(s.name[0], "g1", 2) == 0);
	CHECK(s.len[1] == 2 && memcmp(s.name[1], "g3", 2) == 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g2", 2, NULL), 0);

	/* a handle's end empties its groups: g3 goes, g1 stays */
	CHECK_EQ(synode_handle_close(t.n, &h), 0);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_LEFT, "s1", NT_S("g3"), &h, NULL, 0, NT_NOPREV, "normal" },
			{ SYNODE_EV_LEFT, "s2", NT_S("z"), &h, NULL, 0, NT_NOPREV, "normal" },
		};

		nt_expect_set(&t.col, w, 2);
	}
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 1);
	CHECK_EQ(synode_group_count(t.n, "s2", NULL), 0);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_group_names(t.n, "s1", NULL, name_visit, &s), 1);
	CHECK(s.len[0] == 2 && memcmp(s.name[0], "g1", 2) == 0);
	nt_node_stop(&t);
}

static void
case_update_member(void)
{
	struct nt_node t;
	struct synode_pid h, h2, closed;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	h2 = nt_handle(&t);
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h, "m", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h, "m2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", NT_S("g"), &h, NT_S("m2"), NT_S("m1"),
		  "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h, "m2", 2), 0);
	nt_expect_none(&t.col, 0);
	{
		struct members_seen s;

		memset(&s, 0, sizeof(s));
		CHECK_EQ(synode_members(t.n, "s1", "g", 1, NULL, member_visit, &s), 1);
		CHECK(strcmp(s.meta[0], "m2") == 0);
	}
	/* not a member: of this group, of this scope, at all */
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h2, "m", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_update_member(t.n, "s1", "other", 5, &h, "m", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_update_member(t.n, "s2", "g", 1, &h, "m", 1), -SYNODE_EUNDEFINED);
	/* update_member never joins */
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h2), 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);
	/* after leaving */
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &h), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g"), &h, NT_S("m2"), NT_NOPREV, "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h, "m3", 2), -SYNODE_EUNDEFINED);
	/* a closed handle is no member */
	closed = nt_handle(&t);
	CHECK_EQ(synode_handle_close(t.n, &closed), 0);
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &closed, "m", 1), -SYNODE_EUNDEFINED);
	nt_expect_none(&t.col, 0);
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 0);
	nt_node_stop(&t);
}

static void
case_binary_names(void)
{
	static const struct {
		const char *g;
		size_t len;
	} groups[] = {
		{ "a", 1 },
		{ "a\0", 2 },
		{ "a\0b", 3 },
		{ "ab", 2 },
		{ "a\xff", 2 },
		{ "\0", 1 },
		{ "\xff", 1 },
		{ "\0\xff", 2 },
		{ "\xff\0", 2 },
	};
	enum { NG = sizeof(groups) / sizeof(groups[0]) };
	struct nt_node t;
	struct synode_pid h[NG];
	struct names_seen s;
	char meta[8];

	nt_node_start(&t, NULL);
	/* group i gets handle i, and handle 0 joins every group too */
	for (unsigned i = 0; i < NG; i++)
		h[i] = nt_handle(&t);
	for (unsigned i = 0; i < NG; i++) {
		snprintf(meta, sizeof(meta), "m%u", i);
		CHECK_EQ(synode_join(t.n, "s1", groups[i].g, groups[i].len, &h[i], NT_S(meta)), 0);
		nt_expect(&t.col, SYNODE_EV_JOINED, "s1", groups[i].g, groups[i].len, &h[i],
			  NT_S(meta), NT_NOPREV, "normal");
		if (i == 0)
			continue;
		CHECK_EQ(synode_join(t.n, "s1", groups[i].g, groups[i].len, &h[0], "all", 3), 0);
		nt_expect(&t.col, SYNODE_EV_JOINED, "s1", groups[i].g, groups[i].len, &h[0],
			  NT_S("all"), NT_NOPREV, "normal");
	}
	for (unsigned i = 0; i < NG; i++) {
		struct members_seen ms;
		unsigned want = i == 0 ? 1 : 2;

		memset(&ms, 0, sizeof(ms));
		CHECK_MSG(synode_members(t.n, "s1", groups[i].g, groups[i].len, NULL,
					 member_visit, &ms) == want, "group %u", i);
		CHECK_EQ(ms.n, want);
		CHECK_EQ(synode_member_count(t.n, "s1", groups[i].g, groups[i].len, NULL), want);
		/* h[0] < h[i]: handles are numbered in order */
		CHECK(synode_pid_cmp(&ms.pid[0], &h[0]) == 0);
		snprintf(meta, sizeof(meta), "m%u", i);
		if (i == 0) {
			CHECK(strcmp(ms.meta[0], meta) == 0);
		} else {
			CHECK(strcmp(ms.meta[0], "all") == 0);
			CHECK(synode_pid_cmp(&ms.pid[1], &h[i]) == 0);
			CHECK(strcmp(ms.meta[1], meta) == 0);
		}
		for (unsigned j = 1; j < NG; j++)
			CHECK_MSG(synode_is_member(t.n, "s1", groups[i].g, groups[i].len, &h[j]) ==
				  (i == j), "group %u, handle %u", i, j);
	}
	/* a group that is no one's: "b", "a\0\0", "a\xff\0" */
	CHECK_EQ(synode_member_count(t.n, "s1", "b", 1, NULL), 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "a\0\0", 3, NULL), 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "a\xff\0", 3, NULL), 0);

	/* every name once, in byte order */
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_group_names(t.n, "s1", NULL, name_visit, &s), NG);
	CHECK_EQ(s.n, NG);
	for (unsigned k = 1; k < NG; k++)
		CHECK_MSG(bytes_cmp(s.name[k - 1], s.len[k - 1], s.name[k], s.len[k]) < 0,
			  "names %u and %u out of order", k - 1, k);
	for (unsigned i = 0; i < NG; i++) {
		unsigned seen = 0;

		for (unsigned k = 0; k < NG; k++)
			seen += s.len[k] == groups[i].len &&
				memcmp(s.name[k], groups[i].g, groups[i].len) == 0;
		CHECK_MSG(seen == 1, "group %u listed %u times", i, seen);
	}
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), NG);

	/* leaving "a" touches no other group */
	CHECK_EQ(synode_leave(t.n, "s1", "a", 1, &h[0]), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("a"), &h[0], NT_S("m0"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), NG - 1);
	CHECK_EQ(synode_member_count(t.n, "s1", "a", 1, NULL), 0);
	for (unsigned i = 1; i < NG; i++)
		CHECK_EQ(synode_member_count(t.n, "s1", groups[i].g, groups[i].len, NULL), 2);
	/* leave "a\0" for h[1]: "a" and "a\0b" unchanged */
	CHECK_EQ(synode_leave(t.n, "s1", "a\0", 2, &h[1]), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", "a\0", 2, &h[1], NT_S("m1"), NT_NOPREV, "normal");
	CHECK_EQ(synode_leave(t.n, "s1", "a\0", 2, &h[2]), -SYNODE_ENOT_IN_GROUP);
	CHECK_EQ(synode_member_count(t.n, "s1", "a\0", 2, NULL), 1);
	CHECK_EQ(synode_member_count(t.n, "s1", "a\0b", 3, NULL), 2);
	/* update_member of a binary group */
	CHECK_EQ(synode_update_member(t.n, "s1", "\0\xff", 2, &h[7], "u", 1), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", "\0\xff", 2, &h[7], NT_S("u"),
		  NT_S("m7"), "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", "\0", 1, &h[7], "u", 1), -SYNODE_EUNDEFINED);

	/* handle 0 ends: it leaves all of them, each by its exact name */
	CHECK_EQ(synode_handle_close(t.n, &h[0]), 0);
	{
		struct nt_want w[NG - 1];

		for (unsigned i = 1; i < NG; i++)
			w[i - 1] = (struct nt_want){ SYNODE_EV_LEFT, "s1", groups[i].g,
						     groups[i].len, &h[0], NT_S("all"), NT_NOPREV,
						     "normal" };
		nt_expect_set(&t.col, w, NG - 1);
	}
	/* "a\0" lost both members */
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), NG - 2);
	for (unsigned i = 2; i < NG; i++)
		CHECK_EQ(synode_member_count(t.n, "s1", groups[i].g, groups[i].len, NULL), 1);
	nt_node_stop(&t);
}

static void
case_errors(void)
{
	static unsigned char meta[SYNODE_META_MAX_DEFAULT + 1];
	char name[SYNODE_NAME_MAX_DEFAULT + 1];
	const char *bad[] = { "nope", "S1", "s" };
	struct synode_params p;
	struct nt_node t;
	struct nt_child dead, zombie;
	struct synode_pid h, closed, dp, zp;

	memset(name, 'g', sizeof(name));
	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "m", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NT_S("m"), NT_NOPREV, "normal");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *s = bad[i];

		CHECK_EQ(synode_join(t.n, s, "g", 1, &h, "m", 1), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_leave(t.n, s, "g", 1, &h), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_update_member(t.n, s, "g", 1, &h, "x", 1),
			 -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_members(t.n, s, "g", 1, NULL, member_never, NULL),
			 -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_members(t.n, s, "g", 1, NT_NODE, member_never, NULL),
			 -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_is_member(t.n, s, "g", 1, &h), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_member_count(t.n, s, "g", 1, NULL), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_member_count(t.n, s, "g", 1, NT_NODE), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_group_names(t.n, s, NULL, name_never, NULL),
			 -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_group_names(t.n, s, NT_NODE, name_never, NULL),
			 -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_group_count(t.n, s, NULL), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_group_count(t.n, s, NT_NODE), -SYNODE_EINVALID_SCOPE);
	}

	/* empty and long group names */
	CHECK_EQ(synode_join(t.n, "s1", "", 0, &h, NULL, 0), -EINVAL);
	CHECK_EQ(synode_join(t.n, "s1", NULL, 0, &h, NULL, 0), -EINVAL);
	CHECK_EQ(synode_leave(t.n, "s1", "", 0, &h), -EINVAL);
	CHECK_EQ(synode_update_member(t.n, "s1", "", 0, &h, NULL, 0), -EINVAL);
	CHECK_EQ(synode_members(t.n, "s1", "", 0, NULL, member_never, NULL), -EINVAL);
	CHECK_EQ(synode_is_member(t.n, "s1", "", 0, &h), -EINVAL);
	CHECK_EQ(synode_member_count(t.n, "s1", "", 0, NULL), -EINVAL);
	CHECK_EQ(synode_join(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT + 1, &h, NULL, 0),
		 -ENAMETOOLONG);
	CHECK_EQ(synode_leave(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT + 1, &h), -ENAMETOOLONG);
	CHECK_EQ(synode_update_member(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT + 1, &h, NULL, 0),
		 -ENAMETOOLONG);
	CHECK_EQ(synode_join(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", name, SYNODE_NAME_MAX_DEFAULT, &h, NULL, 0,
		  NT_NOPREV, "normal");
	CHECK_EQ(synode_is_member(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT, &h), 1);

	/* meta over the limit */
	CHECK_EQ(synode_join(t.n, "s1", "g2", 2, &h, meta, SYNODE_META_MAX_DEFAULT + 1),
		 -EMSGSIZE);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, meta, SYNODE_META_MAX_DEFAULT + 1),
		 -EMSGSIZE);
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h, meta, SYNODE_META_MAX_DEFAULT + 1),
		 -EMSGSIZE);
	CHECK_EQ(synode_join(t.n, "s1", "g2", 2, &h, NULL, 1), -EINVAL);
	CHECK_EQ(synode_join(t.n, "s1", "g2", 2, &h, meta, SYNODE_META_MAX_DEFAULT), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g2"), &h, meta, SYNODE_META_MAX_DEFAULT,
		  NT_NOPREV, "normal");

	/* not_alive: a reaped child, a zombie, a closed handle */
	nt_child_spawn(&dead);
	dp = nt_child_pid(&t, &dead);
	nt_child_exit(&dead, 0);
	nt_child_reap(&dead);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &dp, NULL, 0), -SYNODE_ENOT_ALIVE);
	nt_child_spawn(&zombie);
	zp = nt_child_pid(&t, &zombie);
	nt_child_kill(&zombie, SIGKILL);
	nt_child_wait_zombie(&zombie);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &zp, NULL, 0), -SYNODE_ENOT_ALIVE);
	nt_child_reap(&zombie);
	closed = nt_handle(&t);
	CHECK_EQ(synode_handle_close(t.n, &closed), 0);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &closed, NULL, 0), -SYNODE_ENOT_ALIVE);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &closed), 0);
	nt_expect_none(&t.col, 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);
	nt_node_stop(&t);

	/* a node whose names are at most 10 bytes */
	nt_params(&p);
	p.max_name_len = 10;
	nt_node_start(&t, &p);
	h = nt_handle(&t);
	CHECK_EQ(synode_join(t.n, "s1", name, 11, &h, NULL, 0), -ENAMETOOLONG);
	CHECK_EQ(synode_join(t.n, "s1", name, 10, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", name, 10, &h, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", name, 11, &h, "m", 1), -ENAMETOOLONG);
	CHECK_EQ(synode_leave(t.n, "s1", name, 11, &h), -ENAMETOOLONG);
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 1);
	nt_node_stop(&t);
}

int
main(int argc, char **argv)
{
	static const struct nt_case cases[] = {
		{ "join_leave", case_join_leave },
		{ "members_order", case_members_order },
		{ "group_names", case_group_names },
		{ "update_member", case_update_member },
		{ "binary_names", case_binary_names },
		{ "errors", case_errors },
	};

	return nt_run(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
