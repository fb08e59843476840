/* SPDX-License-Identifier: MIT */
/*
 * Processes of one node through the embedding API (synode.h): real Linux
 * children (fork) and handles, their deaths, strict mode, the counters and
 * concurrent callers. Proves:
 *   - a child registered and joined in two scopes, killed with SIGKILL,
 *     leaves every name and group of both scopes; each event carries the
 *     reason "signal:KILL"; SIGTERM gives "signal:TERM", _exit(3) "exit:3",
 *     exit(0) "normal"; it holds whether the test reaps the child before
 *     or after the node has seen the death; afterwards lookup gives
 *     undefined, counts drop, other processes keep theirs;
 *   - lookup of a name whose local process is dead gives undefined even
 *     before the control thread has handled the death (held at a gate in
 *     the event callback), for a reaped child and for a zombie;
 *   - a child that gave up all its names and groups is no longer watched:
 *     its death fires nothing;
 *   - handles: closing one fires its events with "normal"; a closed,
 *     unknown or foreign handle cannot be closed (undefined);
 *   - strict mode: the program's own pid and its handles may register,
 *     update, join, update_member; a child gets not_self for register,
 *     join and update_member, and an update of a name held by another
 *     (remote) process gets not_self; unregister and leave are not
 *     restricted (as in Syn);
 *   - synode_get_stats: requests count writes (not reads), events count
 *     events, monitors go up with a registered child and back down when it
 *     unregisters or dies;
 *   - an event callback (on the control thread) reads what was just
 *     written and writes inline, and its events follow in order; a
 *     callback cannot register or join a process that is being purged (a
 *     killed child, a closed handle): not_alive, nothing left behind; a death
 *     with 150 names and 150 groups fires each of the 300 events once;
 *   - 4 threads registering, updating and unregistering distinct names on
 *     their handles while 2 threads look them up: final counts exact, every
 *     event accounted for by kind, lookups never see torn data.
 *
 * Options: --seed N (readers' choices), --only CASE, --ops N (names per
 * writer thread in the threads case, default 3000).
 */
#include <stdatomic.h>

#include "node_test_util.h"
#include "sn_link.h"
#include "sn_wire.h"

/* A message as peer "n2" (link peer 5) would send it: n2 comes up and
 * syncs the scope first, so the node takes its sync messages. */
struct injected {
	unsigned char bytes[2 * 4096];
	size_t len;
	_Atomic int done;
};

static void
on_inject(struct synode *n, void *arg)
{
	struct injected *in = arg;

	sn_link_peer_up(n, 5, "n2", SN_WIRE_VERSION_MAX);
	(void)sn_link_receive(n, 5, in->bytes, in->len);
	atomic_store(&in->done, 1);
}

static void
inject_from_n2(struct synode *n, const struct sn_msg *m)
{
	static struct injected in;
	struct sn_msg ack = { .type = SN_MSG_ACK_SYNC, .scope = m->scope };
	int a = sn_wire_encode(in.bytes, sizeof(in.bytes), &ack, "n2");
	int b = sn_wire_encode(in.bytes + a, sizeof(in.bytes) - (size_t)a, m, "n2");

	CHECK(a > 0 && b > 0);
	in.len = (size_t)(a + b);
	atomic_store(&in.done, 0);
	CHECK_EQ(sn_link_post(n, on_inject, &in), 0);
	while (!atomic_load(&in.done))
		usleep(1000);
}

static void
case_death_signal(void)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid cp, h;

	nt_node_start(&t, NULL);
	CHECK_MSG(!t.no_connector, "the node has no process-events connector (root needed)");
	h = nt_handle(&t);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	CHECK_EQ(synode_register(t.n, "s1", "c1", 2, &cp, "a", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("c1"), &cp, NT_S("a"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s1", "c1b", 3, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("c1b"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s2", "c2", 2, &cp, "b", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s2", NT_S("c2"), &cp, NT_S("b"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &cp, "x", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &cp, NT_S("x"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s2", "g", 1, &cp, "y", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g"), &cp, NT_S("y"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s2", "g2", 2, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g2"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	/* a bystander in the same names' scopes and group */
	CHECK_EQ(synode_register(t.n, "s1", "h1", 2, &h, "hm", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("h1"), &h, NT_S("hm"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "hg", 2), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NT_S("hg"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 3);
	CHECK_EQ(synode_group_count(t.n, "s2", NULL), 2);

	nt_child_kill(&c, SIGKILL);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("c1"), &cp, NT_S("a"), NT_NOPREV,
			  "signal:KILL" },
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("c1b"), &cp, NULL, 0, NT_NOPREV,
			  "signal:KILL" },
			{ SYNODE_EV_UNREGISTERED, "s2", NT_S("c2"), &cp, NT_S("b"), NT_NOPREV,
			  "signal:KILL" },
			{ SYNODE_EV_LEFT, "s1", NT_S("g"), &cp, NT_S("x"), NT_NOPREV, "signal:KILL" },
			{ SYNODE_EV_LEFT, "s2", NT_S("g"), &cp, NT_S("y"), NT_NOPREV, "signal:KILL" },
			{ SYNODE_EV_LEFT, "s2", NT_S("g2"), &cp, NULL, 0, NT_NOPREV, "signal:KILL" },
		};

		nt_expect_set(&t.col, w, 6);
	}
	/* reaped after the node saw it: gone everywhere, even as a zombie */
	nt_check_unreg(&t, "s1", "c1");
	nt_check_unreg(&t, "s1", "c1b");
	nt_check_unreg(&t, "s2", "c2");
	CHECK_EQ(nt_child_reap(&c), SIGKILL);
	nt_check_unreg(&t, "s1", "c1");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);
	CHECK_EQ(synode_registry_count(t.n, "s2", NULL), 0);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &cp), 0);
	CHECK_EQ(synode_is_member(t.n, "s2", "g", 1, &cp), 0);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);
	CHECK_EQ(synode_group_count(t.n, "s2", NULL), 0);
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 1);
	nt_check_reg(&t, "s1", "h1", &h, "hm");
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h), 1);
	/* its names are free for others; its pid is not alive */
	CHECK_EQ(synode_register(t.n, "s1", "c1", 2, &cp, NULL, 0), -SYNODE_ENOT_ALIVE);
	CHECK_EQ(synode_register(t.n, "s1", "c1", 2, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("c1"), &h, NULL, 0, NT_NOPREV,
		  "normal");
	nt_node_stop(&t);
}

/* One child's end, @p how: a signal (>0) or an exit code (-1 - code);
 * @p reap_first: reap before waiting for the events. */
static void
death_one(int how, bool reap_first, const char *reason)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid cp;
	int status;

	nt_node_start(&t, NULL);
	CHECK_MSG(!t.no_connector, "the node has no process-events connector (root needed)");
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	CHECK_EQ(synode_register(t.n, "s1", "n", 1, &cp, "m", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("n"), &cp, NT_S("m"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s2", "g", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g"), &cp, NULL, 0, NT_NOPREV, "normal");
	if (how > 0)
		nt_child_kill(&c, how);
	else
		nt_child_exit(&c, -1 - how);
	if (reap_first) {
		status = nt_child_reap(&c);
		if (how > 0)
			CHECK(WIFSIGNALED(status) && WTERMSIG(status) == how);
		else
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == -1 - how);
	}
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("n"), &cp, NT_S("m"), NT_NOPREV,
			  reason },
			{ SYNODE_EV_LEFT, "s2", NT_S("g"), &cp, NULL, 0, NT_NOPREV, reason },
		};

		nt_expect_set(&t.col, w, 2);
	}
	nt_check_unreg(&t, "s1", "n");
	CHECK_EQ(synode_member_count(t.n, "s2", "g", 1, NULL), 0);
	if (!reap_first)
		nt_child_reap(&c);
	nt_check_unreg(&t, "s1", "n");
	nt_node_stop(&t);
}

static void
case_death_term_reaped_first(void)
{
	death_one(SIGTERM, true, "signal:TERM");
}

static void
case_death_kill_reaped_first(void)
{
	death_one(SIGKILL, true, "signal:KILL");
}

static void
case_death_exit3(void)
{
	death_one(-1 - 3, false, "exit:3");
}

static void
case_death_exit3_reaped_first(void)
{
	death_one(-1 - 3, true, "exit:3");
}

static void
case_death_exit0(void)
{
	death_one(-1 - 0, false, "normal");
}

static void
case_death_exit0_reaped_first(void)
{
	death_one(-1 - 0, true, "normal");
}

/* A thread that unregisters one name (and so fires one event). */
struct unreg_job {
	struct synode *n;
	const char *scope, *name;
	int rc;
};

static void *
unreg_thread(void *arg)
{
	struct unreg_job *j = arg;

	j->rc = synode_unregister(j->n, j->scope, j->name, strlen(j->name));
	return NULL;
}

/*
 * Holds the control thread inside an event callback, kills the child
 * registered as "x" (reaped or left a zombie as @p reap says), and checks
 * that lookup already says undefined: the node must not hand out a dead
 * local process, whether or not it has handled the death yet.
 */
static void
lookup_while_held(bool reap)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid cp, h;
	struct unreg_job job;
	pthread_t th;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	CHECK_EQ(synode_register(t.n, "s1", "x", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("x"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s1", "gate", 4, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("gate"), &h, NULL, 0, NT_NOPREV,
		  "normal");

	nt_gate(&t.col, true);
	job = (struct unreg_job){ t.n, "s1", "gate", 1 };
	CHECK(pthread_create(&th, NULL, unreg_thread, &job) == 0);
	nt_gate_wait_blocked(&t.col);
	/* the control thread now waits in the callback */
	nt_check_reg(&t, "s1", "x", &cp, "");
	nt_child_kill(&c, SIGKILL);
	nt_child_wait_zombie(&c);
	if (reap)
		nt_child_reap(&c);
	nt_check_unreg(&t, "s1", "x");
	nt_gate(&t.col, false);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK_EQ(job.rc, 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("gate"), &h, NULL, 0, NT_NOPREV,
		  "normal");
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("x"), &cp, NULL, 0, NT_NOPREV,
		  "signal:KILL");
	nt_check_unreg(&t, "s1", "x");
	nt_child_cleanup(&c);
	nt_node_stop(&t);
}

static void
case_lookup_dead_reaped(void)
{
	lookup_while_held(true);
}

static void
case_lookup_dead_zombie(void)
{
	lookup_while_held(false);
}

static void
case_unwatched_after_unregister(void)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid cp;
	struct synode_stats st;

	nt_node_start(&t, NULL);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	CHECK_EQ(synode_register(t.n, "s1", "n", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("n"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s2", "g", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g"), &cp, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_unregister(t.n, "s1", "n", 1), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("n"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_leave(t.n, "s2", "g", 1, &cp), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s2", NT_S("g"), &cp, NULL, 0, NT_NOPREV, "normal");
	synode_get_stats(t.n, &st);
	CHECK_EQ(st.monitors, 0);
	nt_child_kill(&c, SIGKILL);
	nt_child_wait_zombie(&c);
	/* the control thread's 100 ms tick and any pidfd would have fired */
	nt_expect_none(&t.col, 300);
	nt_child_reap(&c);
	nt_expect_none(&t.col, 100);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	nt_node_stop(&t);
}

static void
case_handles(void)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid h, h2, cp, foreign, never;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	h2 = nt_handle(&t);
	CHECK(synode_pid_cmp(&h, &h2) != 0);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "1", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NT_S("1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s2", "b", 1, &h, "2", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s2", NT_S("b"), &h, NT_S("2"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, "3", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NT_S("3"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h2, "4", 1), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h2, NT_S("4"), NT_NOPREV,
		  "normal");

	CHECK_EQ(synode_handle_close(t.n, &h), 0);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("a"), &h, NT_S("1"), NT_NOPREV,
			  "normal" },
			{ SYNODE_EV_UNREGISTERED, "s2", NT_S("b"), &h, NT_S("2"), NT_NOPREV,
			  "normal" },
			{ SYNODE_EV_LEFT, "s1", NT_S("g"), &h, NT_S("3"), NT_NOPREV, "normal" },
		};

		/* the events are fired before synode_handle_close() returns */
		CHECK_EQ(nt_pending(&t.col), 3);
		nt_expect_set(&t.col, w, 3);
	}
	nt_check_unreg(&t, "s1", "a");
	nt_check_unreg(&t, "s2", "b");
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h), 0);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h2), 1);

	/* what cannot be closed */
	CHECK_EQ(synode_handle_close(t.n, &h), -SYNODE_EUNDEFINED);
	never = h2;
	never.id += 1000;
	CHECK_EQ(synode_handle_close(t.n, &never), -SYNODE_EUNDEFINED);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	CHECK_EQ(synode_handle_close(t.n, &cp), -SYNODE_EUNDEFINED);
	foreign = h2;
	strcpy(foreign.node, "n2");
	CHECK_EQ(synode_handle_close(t.n, &foreign), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_is_member(t.n, "s1", "g", 1, &h2), 1);
	/* a closed handle is dead */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, NULL, 0), -SYNODE_ENOT_ALIVE);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, NULL, 0), -SYNODE_ENOT_ALIVE);
	/* a handle with nothing: closes without events */
	{
		struct synode_pid h3 = nt_handle(&t);

		CHECK_EQ(synode_handle_close(t.n, &h3), 0);
	}
	nt_expect_none(&t.col, 0);
	nt_child_cleanup(&c);
	nt_node_stop(&t);
}

static void
case_strict(void)
{
	struct synode_params p;
	struct nt_node t;
	struct nt_child c;
	struct synode_pid self, h, cp, remote;
	struct sn_msg m;

	nt_params(&p);
	p.strict = true;
	nt_node_start(&t, &p);
	synode_pid_os(t.n, getpid(), &self);
	h = nt_handle(&t);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);

	/* the program's own process */
	CHECK_EQ(synode_register(t.n, "s1", "me", 2, &self, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("me"), &self, NT_S("m1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s1", "me", 2, &self, "m2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("me"), &self, NT_S("m2"),
		  NT_S("m1"), "normal");
	CHECK_EQ(synode_update(t.n, "s1", "me", 2, "m3", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("me"), &self, NT_S("m3"),
		  NT_S("m2"), "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &self, "j1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &self, NT_S("j1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &self, "j2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", NT_S("g"), &self, NT_S("j2"),
		  NT_S("j1"), "normal");
	/* its handles */
	CHECK_EQ(synode_register(t.n, "s1", "h", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("h"), &h, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_update(t.n, "s1", "h", 1, "u", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("h"), &h, NT_S("u"), "", 0,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &h, NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &h, "v", 1), 0);
	nt_expect(&t.col, SYNODE_EV_MEMBER_UPDATED, "s1", NT_S("g"), &h, NT_S("v"), "", 0,
		  "normal");

	/* another process: not_self, for a free name, a taken one, any group */
	CHECK_EQ(synode_register(t.n, "s1", "c", 1, &cp, NULL, 0), -SYNODE_ENOT_SELF);
	CHECK_EQ(synode_register(t.n, "s1", "me", 2, &cp, NULL, 0), -SYNODE_ENOT_SELF);
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &cp, NULL, 0), -SYNODE_ENOT_SELF);
	CHECK_EQ(synode_join(t.n, "s1", "g2", 2, &cp, NULL, 0), -SYNODE_ENOT_SELF);
	CHECK_EQ(synode_update_member(t.n, "s1", "g", 1, &cp, "x", 1), -SYNODE_ENOT_SELF);
	CHECK(strcmp(synode_strerror(-SYNODE_ENOT_SELF), "not_self") == 0);
	nt_expect_none(&t.col, 0);

	/* a name held by another process (a peer's, delivered as a peer
	 * would): update is not_self; unregister is not restricted */
	memset(&remote, 0, sizeof(remote));
	strcpy(remote.node, "n2");
	remote.id = 77;
	memset(&m, 0, sizeof(m));
	m.type = SN_MSG_SYNC_REGISTER;
	m.scope = "s1";
	m.name = "r";
	m.name_len = 1;
	m.pid = remote;
	m.meta = "rm";
	m.meta_len = 2;
	m.time.wall_ns = (uint64_t)time(NULL) * 1000000000u;
	m.reason.kind = SYNODE_REASON_NORMAL;
	inject_from_n2(t.n, &m);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("r"), &remote, NT_S("rm"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s1", "r", &remote, "rm");
	CHECK_EQ(synode_update(t.n, "s1", "r", 1, "x", 1), -SYNODE_ENOT_SELF);
	CHECK_EQ(synode_register(t.n, "s1", "r", 1, &remote, "x", 1), -SYNODE_ENOT_SELF);
	/* not refused for strictness: the owner (a peer) is merely unreachable */
	CHECK_EQ(synode_unregister(t.n, "s1", "r", 1), -SYNODE_EUNREACHABLE);
	/* leave is not restricted: a child that is no member is not_in_group */
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &cp), -SYNODE_ENOT_IN_GROUP);
	nt_expect_none(&t.col, 0);

	/* and for the program's own: both work */
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &self), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g"), &self, NT_S("j2"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_unregister(t.n, "s1", "me", 2), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("me"), &self, NT_S("m3"),
		  NT_NOPREV, "normal");
	CHECK_EQ(synode_handle_close(t.n, &h), 0);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("h"), &h, NT_S("u"), NT_NOPREV,
			  "normal" },
			{ SYNODE_EV_LEFT, "s1", NT_S("g"), &h, NT_S("v"), NT_NOPREV, "normal" },
		};

		nt_expect_set(&t.col, w, 2);
	}
	nt_child_cleanup(&c);
	nt_node_stop(&t);
}

static void
case_stats(void)
{
	struct nt_node t;
	struct nt_child c, d;
	struct synode_pid cp, dp;
	struct synode_stats a, b;
	uint64_t ev0;

	nt_node_start(&t, NULL);
	nt_child_spawn(&c);
	nt_child_spawn(&d);
	cp = nt_child_pid(&t, &c);
	dp = nt_child_pid(&t, &d);
	synode_get_stats(t.n, &a);
	ev0 = nt_count_total(&t.col);
	CHECK_EQ(a.monitors, 0);
	CHECK_EQ(a.events, ev0);
	CHECK_EQ(a.clients, 0);

	CHECK_EQ(synode_register(t.n, "s1", "c", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("c"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.requests, a.requests + 1);
	CHECK_EQ(b.events, a.events + 1);
	CHECK_EQ(b.monitors, 1);

	/* more names and groups of the same process: one monitor */
	CHECK_EQ(synode_register(t.n, "s2", "c", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s2", NT_S("c"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_join(t.n, "s1", "g", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s1", NT_S("g"), &cp, NULL, 0, NT_NOPREV, "normal");
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.requests, a.requests + 3);
	CHECK_EQ(b.events, a.events + 3);
	CHECK_EQ(b.monitors, 1);

	/* reads are no requests */
	nt_check_reg(&t, "s1", "c", &cp, "");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);
	CHECK_EQ(synode_member_count(t.n, "s1", "g", 1, NULL), 1);
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.requests, a.requests + 3);

	/* a second process: a second monitor */
	CHECK_EQ(synode_join(t.n, "s2", "g", 1, &dp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g"), &dp, NULL, 0, NT_NOPREV, "normal");
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.monitors, 2);

	/* c lets go of everything: its monitor goes at the last one */
	CHECK_EQ(synode_unregister(t.n, "s1", "c", 1), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("c"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_unregister(t.n, "s2", "c", 1), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s2", NT_S("c"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.monitors, 2);
	CHECK_EQ(synode_leave(t.n, "s1", "g", 1, &cp), 0);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s1", NT_S("g"), &cp, NULL, 0, NT_NOPREV, "normal");
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.monitors, 1);
	CHECK_EQ(b.requests, a.requests + 7);
	CHECK_EQ(b.events, a.events + 7);

	/* d dies: its monitor goes */
	nt_child_kill(&d, SIGKILL);
	nt_expect(&t.col, SYNODE_EV_LEFT, "s2", NT_S("g"), &dp, NULL, 0, NT_NOPREV,
		  "signal:KILL");
	nt_barrier(&t);
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.monitors, 0);
	CHECK_EQ(b.requests, a.requests + 8);
	CHECK_EQ(b.events, a.events + 8);
	CHECK_EQ(b.events, nt_count_total(&t.col));
	nt_child_reap(&d);

	/* and comes back with a new registration */
	CHECK_EQ(synode_register(t.n, "s1", "c", 1, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("c"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.monitors, 1);
	nt_child_cleanup(&c);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("c"), &cp, NULL, 0, NT_NOPREV,
		  "signal:KILL");
	nt_barrier(&t);
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.monitors, 0);
	CHECK_EQ(b.clients, 0);
	CHECK_EQ(b.client_errors, 0);
	CHECK_EQ(b.subscribers_dropped, 0);
	nt_node_stop(&t);
}

/* ------------------------------------------------- writes from a callback */

struct hook_ctx {
	struct synode *n;
	int lookup_on_registered;   /* lookup of "trigger" in its "registered" */
	struct synode_pid seen_pid;
	int register_rc, join_rc;
	int lookup_on_unregistered;
	unsigned calls;
};

static void
hook_writes(const struct synode_event *ev, void *arg)
{
	struct hook_ctx *x = arg;

	if (ev->name_len != 7 || memcmp(ev->name, "trigger", 7) != 0)
		return;
	x->calls++;
	if (ev->kind == SYNODE_EV_REGISTERED) {
		/* the control thread reads what it just wrote, then writes inline */
		x->lookup_on_registered = synode_lookup(x->n, "s1", "trigger", 7, &x->seen_pid,
							NULL, NULL);
		x->register_rc = synode_register(x->n, "s1", "inline", 6, &ev->pid, "i", 1);
		x->join_rc = synode_join(x->n, "s2", "g", 1, &ev->pid, NULL, 0);
	} else if (ev->kind == SYNODE_EV_UNREGISTERED) {
		x->lookup_on_unregistered = synode_lookup(x->n, "s1", "trigger", 7, NULL, NULL,
							  NULL);
	}
}

static void
case_callback_writes(void)
{
	struct nt_node t;
	struct synode_pid h;
	struct hook_ctx x;
	struct synode_stats a, b;

	nt_node_start(&t, NULL);
	memset(&x, 0, sizeof(x));
	x.n = t.n;
	x.lookup_on_registered = x.register_rc = x.join_rc = x.lookup_on_unregistered = 1;
	h = nt_handle(&t);
	synode_get_stats(t.n, &a);
	pthread_mutex_lock(&t.col.mu);
	t.col.hook = hook_writes;
	t.col.hook_arg = &x;
	pthread_mutex_unlock(&t.col.mu);

	CHECK_EQ(synode_register(t.n, "s1", "trigger", 7, &h, "t", 1), 0);
	/* all done before the outer call returned */
	CHECK_EQ(x.calls, 1);
	CHECK_EQ(x.lookup_on_registered, 0);
	CHECK(synode_pid_cmp(&x.seen_pid, &h) == 0);
	CHECK_EQ(x.register_rc, 0);
	CHECK_EQ(x.join_rc, 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("trigger"), &h, NT_S("t"), NT_NOPREV,
		  "normal");
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("inline"), &h, NT_S("i"), NT_NOPREV,
		  "normal");
	nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S("g"), &h, NULL, 0, NT_NOPREV, "normal");
	nt_check_reg(&t, "s1", "inline", &h, "i");
	CHECK_EQ(synode_is_member(t.n, "s2", "g", 1, &h), 1);
	synode_get_stats(t.n, &b);
	CHECK_EQ(b.requests, a.requests + 3);
	CHECK_EQ(b.events, a.events + 3);

	/* an "unregistered" callback no longer finds the name */
	CHECK_EQ(synode_unregister(t.n, "s1", "trigger", 7), 0);
	CHECK_EQ(x.calls, 2);
	CHECK_EQ(x.lookup_on_unregistered, -SYNODE_EUNDEFINED);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("trigger"), &h, NT_S("t"),
		  NT_NOPREV, "normal");
	pthread_mutex_lock(&t.col.mu);
	t.col.hook = NULL;
	pthread_mutex_unlock(&t.col.mu);
	nt_node_stop(&t);
}

/* During the purge of a dying process, a callback tries to give it a new
 * name and group. */
struct revive_ctx {
	struct synode *n;
	int register_rc, join_rc;
	unsigned calls;
};

static void
hook_revive(const struct synode_event *ev, void *arg)
{
	struct revive_ctx *x = arg;

	if (ev->kind != SYNODE_EV_UNREGISTERED || ev->name_len != 5 ||
	    memcmp(ev->name, "dying", 5) != 0)
		return;
	x->calls++;
	x->register_rc = synode_register(x->n, "s1", "again", 5, &ev->pid, NULL, 0);
	x->join_rc = synode_join(x->n, "s1", "g", 1, &ev->pid, NULL, 0);
}

/* @p child: the dying process is a child killed with SIGKILL, else a
 * handle closed. */
static void
revive_while_dying(bool child)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid p, h2;
	struct revive_ctx x;

	nt_node_start(&t, NULL);
	memset(&x, 0, sizeof(x));
	x.n = t.n;
	x.register_rc = x.join_rc = 1;
	if (child) {
		nt_child_spawn(&c);
		p = nt_child_pid(&t, &c);
	} else {
		p = nt_handle(&t);
	}
	CHECK_EQ(synode_register(t.n, "s1", "dying", 5, &p, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("dying"), &p, NULL, 0, NT_NOPREV,
		  "normal");
	pthread_mutex_lock(&t.col.mu);
	t.col.hook = hook_revive;
	t.col.hook_arg = &x;
	pthread_mutex_unlock(&t.col.mu);
	if (child)
		nt_child_kill(&c, SIGKILL);
	else
		CHECK_EQ(synode_handle_close(t.n, &p), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("dying"), &p, NULL, 0, NT_NOPREV,
		  child ? "signal:KILL" : "normal");
	nt_barrier(&t);
	pthread_mutex_lock(&t.col.mu);
	t.col.hook = NULL;
	pthread_mutex_unlock(&t.col.mu);
	CHECK_EQ(x.calls, 1);
	/* a process being purged is dead: nothing new may stick to it */
	CHECK_EQ(x.register_rc, -SYNODE_ENOT_ALIVE);
	CHECK_EQ(x.join_rc, -SYNODE_ENOT_ALIVE);
	nt_expect_none(&t.col, 0);
	nt_check_unreg(&t, "s1", "again");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	CHECK_EQ(synode_group_count(t.n, "s1", NULL), 0);
	/* and the name is free for the living */
	h2 = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", "again", 5, &h2, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("again"), &h2, NULL, 0, NT_NOPREV,
		  "normal");
	if (child)
		nt_child_cleanup(&c);
	nt_node_stop(&t);
}

static void
case_revive_dying_child(void)
{
	revive_while_dying(true);
}

static void
case_revive_dying_handle(void)
{
	revive_while_dying(false);
}

/* --------------------------------------------- a death with many entries */

static void
case_death_many(void)
{
	enum { NN = 150, NG = 150 };
	struct nt_node t;
	struct nt_child c;
	struct synode_pid cp;
	bool seen_name[NN] = { false }, seen_group[NG] = { false };
	char name[16];

	nt_node_start(&t, NULL);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	t.col.count_only = false;
	for (unsigned i = 0; i < NN; i++) {
		snprintf(name, sizeof(name), "n%03u", i);
		CHECK_EQ(synode_register(t.n, "s1", name, strlen(name), &cp, name, strlen(name)),
			 0);
		nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S(name), &cp, NT_S(name),
			  NT_NOPREV, "normal");
	}
	for (unsigned i = 0; i < NG; i++) {
		snprintf(name, sizeof(name), "g%03u", i);
		CHECK_EQ(synode_join(t.n, "s2", name, strlen(name), &cp, name, strlen(name)), 0);
		nt_expect(&t.col, SYNODE_EV_JOINED, "s2", NT_S(name), &cp, NT_S(name), NT_NOPREV,
			  "normal");
	}
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), NN);
	CHECK_EQ(synode_group_count(t.n, "s2", NULL), NG);
	nt_child_kill(&c, SIGKILL);
	for (unsigned k = 0; k < NN + NG; k++) {
		struct nt_event e;
		char reason[64];
		unsigned i;

		CHECK_MSG(nt_next_event(&t.col, NT_EVENT_WAIT_MS, &e), "event %u of %u", k,
			  NN + NG);
		synode_reason_format(&e.reason, reason, sizeof(reason));
		CHECK_MSG(strcmp(reason, "signal:KILL") == 0, "reason %s", reason);
		CHECK(e.reason.kind == SYNODE_REASON_SIGNAL && e.reason.code == SIGKILL);
		CHECK(synode_pid_cmp(&e.pid, &cp) == 0);
		CHECK(e.name_len == 4 && e.meta_len == 4 && memcmp(e.name, e.meta, 4) == 0);
		CHECK(!e.has_prev);
		i = (unsigned)atoi((const char *)e.name + 1);
		if (e.kind == SYNODE_EV_UNREGISTERED) {
			CHECK(strcmp(e.scope, "s1") == 0 && e.name[0] == 'n' && i < NN);
			CHECK_MSG(!seen_name[i], "name %u twice", i);
			seen_name[i] = true;
		} else {
			CHECK_EQ(e.kind, SYNODE_EV_LEFT);
			CHECK(strcmp(e.scope, "s2") == 0 && e.name[0] == 'g' && i < NG);
			CHECK_MSG(!seen_group[i], "group %u twice", i);
			seen_group[i] = true;
		}
		nt_event_free(&e);
	}
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	CHECK_EQ(synode_group_count(t.n, "s2", NULL), 0);
	nt_child_reap(&c);
	nt_node_stop(&t);
}

/* ---------------------------------------------------------------- threads */

#define W_THREADS 4
#define R_THREADS 2

static uint64_t opt_ops = 3000;

struct writer {
	pthread_t th;
	unsigned idx;
	struct synode *n;
	struct synode_pid h[2];
	uint64_t registered, updated, unregistered, remaining;
};

struct reader {
	pthread_t th;
	struct synode *n;
	uint64_t seed;
	uint64_t lookups, hits;
};

static struct writer writers[W_THREADS];
static _Atomic int writers_done;

static void
w_name(char *buf, size_t size, unsigned w, uint64_t i)
{
	snprintf(buf, size, "w%u-%" PRIu64, w, i);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	char name[32], meta[40];

	for (uint64_t i = 0; i < opt_ops; i++) {
		const struct synode_pid *h = &w->h[i % 2];

		w_name(name, sizeof(name), w->idx, i);
		CHECK_EQ(synode_register(w->n, "s1", name, strlen(name), h, name, strlen(name)),
			 0);
		w->registered++;
		w->remaining++;
		if (i % 3 == 0) {
			snprintf(meta, sizeof(meta), "u%s", name);
			CHECK_EQ(synode_register(w->n, "s1", name, strlen(name), h, meta,
						 strlen(meta)), 0);
			w->updated++;
		}
		if (i % 2 == 1) {
			w_name(name, sizeof(name), w->idx, i - 1);
			CHECK_EQ(synode_unregister(w->n, "s1", name, strlen(name)), 0);
			CHECK_EQ(synode_unregister(w->n, "s1", name, strlen(name)),
				 -SYNODE_EUNDEFINED);
			w->unregistered++;
			w->remaining--;
		}
	}
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct tu_rng rng;
	char name[32], meta[64];

	tu_rng_init(&rng, r->seed);
	urcu_memb_register_thread();
	while (!atomic_load(&writers_done)) {
		unsigned w = (unsigned)tu_rng_below(&rng, W_THREADS);
		uint64_t i = tu_rng_below(&rng, opt_ops);
		struct synode_pid pid;
		size_t len = sizeof(meta) - 1;
		long count;
		int rc;

		w_name(name, sizeof(name), w, i);
		rc = synode_lookup(r->n, "s1", name, strlen(name), &pid, meta, &len);
		r->lookups++;
		CHECK_MSG(rc == 0 || rc == -SYNODE_EUNDEFINED, "lookup: %d", rc);
		if (rc == 0) {
			r->hits++;
			CHECK(len < sizeof(meta));
			meta[len] = 0;
			CHECK(strcmp(pid.node, NT_NODE) == 0);
			CHECK_MSG(pid.id == writers[w].h[i % 2].id, "%s held by %" PRIu64, name,
				  pid.id);
			CHECK_MSG(strcmp(meta, name) == 0 ||
				  (meta[0] == 'u' && strcmp(meta + 1, name) == 0),
				  "%s has meta %s", name, meta);
		}
		count = synode_registry_count(r->n, "s1", NULL);
		CHECK(count >= 0 && count <= (long)(W_THREADS * opt_ops));
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static void
case_threads(void)
{
	struct nt_node t;
	struct reader readers[R_THREADS];
	struct synode_stats st;
	uint64_t reg = 0, upd = 0, unreg = 0, remaining = 0, lookups = 0;
	uint64_t t0 = tu_now_ns();

	nt_node_start(&t, NULL);
	t.col.count_only = true;
	atomic_store(&writers_done, 0);
	for (unsigned i = 0; i < W_THREADS; i++) {
		memset(&writers[i], 0, sizeof(writers[i]));
		writers[i].idx = i;
		writers[i].n = t.n;
		writers[i].h[0] = nt_handle(&t);
		writers[i].h[1] = nt_handle(&t);
	}
	for (unsigned i = 0; i < R_THREADS; i++) {
		memset(&readers[i], 0, sizeof(readers[i]));
		readers[i].n = t.n;
		readers[i].seed = tu_mix64(tu_seed + i);
		CHECK(pthread_create(&readers[i].th, NULL, reader_main, &readers[i]) == 0);
	}
	for (unsigned i = 0; i < W_THREADS; i++)
		CHECK(pthread_create(&writers[i].th, NULL, writer_main, &writers[i]) == 0);
	for (unsigned i = 0; i < W_THREADS; i++) {
		CHECK(pthread_join(writers[i].th, NULL) == 0);
		reg += writers[i].registered;
		upd += writers[i].updated;
		unreg += writers[i].unregistered;
		remaining += writers[i].remaining;
	}
	atomic_store(&writers_done, 1);
	for (unsigned i = 0; i < R_THREADS; i++) {
		CHECK(pthread_join(readers[i].th, NULL) == 0);
		lookups += readers[i].lookups;
	}
	printf("  %" PRIu64 " registered, %" PRIu64 " updated, %" PRIu64
	       " unregistered, %" PRIu64 " lookups in %.2f s\n",
	       reg, upd, unreg, lookups, (double)(tu_now_ns() - t0) / 1e9);
	CHECK(lookups > 0);
	CHECK_EQ(reg, W_THREADS * opt_ops);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), remaining);
	CHECK_EQ(synode_registry_count(t.n, "s1", NT_NODE), remaining);
	CHECK_EQ(synode_registry_foreach(t.n, "s1", NULL, NULL, NULL), remaining);
	CHECK_EQ(nt_count_kind(&t.col, SYNODE_EV_REGISTERED), reg);
	CHECK_EQ(nt_count_kind(&t.col, SYNODE_EV_REGISTRY_UPDATED), upd);
	CHECK_EQ(nt_count_kind(&t.col, SYNODE_EV_UNREGISTERED), unreg);
	CHECK_EQ(nt_count_total(&t.col), reg + upd + unreg);
	/* every surviving name is where its writer left it */
	for (unsigned w = 0; w < W_THREADS; w++)
		for (uint64_t i = 0; i < opt_ops; i++) {
			char name[32];
			int rc;

			w_name(name, sizeof(name), w, i);
			rc = synode_lookup(t.n, "s1", name, strlen(name), NULL, NULL, NULL);
			CHECK_EQ(rc, (i % 2 == 0 && i + 1 < opt_ops) ? -SYNODE_EUNDEFINED : 0);
		}
	/* closing the handles takes the rest */
	for (unsigned i = 0; i < W_THREADS; i++) {
		CHECK_EQ(synode_handle_close(t.n, &writers[i].h[0]), 0);
		CHECK_EQ(synode_handle_close(t.n, &writers[i].h[1]), 0);
	}
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	CHECK_EQ(nt_count_kind(&t.col, SYNODE_EV_UNREGISTERED), unreg + remaining);
	synode_get_stats(t.n, &st);
	CHECK_EQ(st.events, nt_count_total(&t.col));
	nt_node_stop(&t);
}

int
main(int argc, char **argv)
{
	static const struct nt_case cases[] = {
		{ "death_signal", case_death_signal },
		{ "death_term_reaped_first", case_death_term_reaped_first },
		{ "death_kill_reaped_first", case_death_kill_reaped_first },
		{ "death_exit3", case_death_exit3 },
		{ "death_exit3_reaped_first", case_death_exit3_reaped_first },
		{ "death_exit0", case_death_exit0 },
		{ "death_exit0_reaped_first", case_death_exit0_reaped_first },
		{ "lookup_dead_reaped", case_lookup_dead_reaped },
		{ "lookup_dead_zombie", case_lookup_dead_zombie },
		{ "unwatched_after_unregister", case_unwatched_after_unregister },
		{ "handles", case_handles },
		{ "strict", case_strict },
		{ "stats", case_stats },
		{ "callback_writes", case_callback_writes },
		{ "revive_dying_child", case_revive_dying_child },
		{ "revive_dying_handle", case_revive_dying_handle },
		{ "death_many", case_death_many },
		{ "threads", case_threads },
	};
	int i, j;

	/* --ops N is this program's own; the rest goes to nt_run() */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
			opt_ops = strtoull(argv[++i], NULL, 10);
			CHECK(opt_ops >= 2);
			continue;
		}
		argv[j++] = argv[i];
	}
	return nt_run(j, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
