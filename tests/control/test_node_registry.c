/* SPDX-License-Identifier: MIT */
/*
 * The registry of one node through the embedding API (synode.h), against
 * Syn 3.4's syn_registry: every case checks the results, the error codes
 * and the exact events (kind, scope, name, pid, meta, previous meta,
 * reason). Proves:
 *   - register: ok with a "registered" event; lookup gives pid and meta,
 *     and a short meta buffer gets a prefix while meta_len gets the full
 *     length; the same pid with new meta updates it ("registry_updated"
 *     with prev_meta), with the same meta it is a no-op without an event;
 *     another pid gets taken; a pid that does not exist (a reaped child),
 *     a zombie, a closed handle, a handle never made get not_alive, even
 *     for a taken name (Syn checks liveness first); a pid without a node
 *     is -EINVAL, another node's process unreachable (a single node);
 *   - update: changes meta with an event, the same meta is a no-op, an
 *     unknown name is undefined; unregister: ok with an event, then the
 *     name is undefined to lookup, unregister and update;
 *   - limits: empty names -EINVAL, names over 255 bytes (or a node's
 *     max_name_len of 10) -ENAMETOOLONG, meta over 4096 bytes (or 16)
 *     -EMSGSIZE, a node's limits over the highest ones refused at start;
 *   - invalid_scope from every registry function; add_scope at run time,
 *     and a name in one scope is not in another;
 *   - counts: whole, per node (this node; another gives 0), foreach visits
 *     each entry once with its pid and meta; a process with several names;
 *   - the text forms: error names, event names, reasons, pids.
 *
 * Options: --seed N (unused: no randomness), --only CASE.
 */
#include "node_test_util.h"

/* A meta buffer sentinel: bytes past what lookup may write stay as is. */
#define SENTINEL 0x5a

static void
case_register_lookup(void)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid h, cp, got;
	unsigned char buf[8];
	size_t len;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);

	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s1", "a", &h, "m1");

	/* meta copy-out: a short buffer gets a prefix, meta_len the full length */
	memset(buf, SENTINEL, sizeof(buf));
	len = 1;
	CHECK_EQ(synode_lookup(t.n, "s1", "a", 1, &got, buf, &len), 0);
	CHECK_EQ(len, 2);
	CHECK_EQ(buf[0], 'm');
	CHECK_EQ(buf[1], SENTINEL);
	/* no buffer at all: only the length */
	len = 0;
	CHECK_EQ(synode_lookup(t.n, "s1", "a", 1, NULL, NULL, &len), 0);
	CHECK_EQ(len, 2);
	/* neither pid nor meta: an existence check */
	CHECK_EQ(synode_lookup(t.n, "s1", "a", 1, NULL, NULL, NULL), 0);
	CHECK_EQ(synode_lookup(t.n, "s1", "b", 1, NULL, NULL, NULL), -SYNODE_EUNDEFINED);
	/* the name is in s1 only */
	CHECK_EQ(synode_lookup(t.n, "s2", "a", 1, NULL, NULL, NULL), -SYNODE_EUNDEFINED);

	/* a real process, with empty meta */
	CHECK_EQ(synode_register(t.n, "s1", "child", 5, &cp, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("child"), &cp, NULL, 0, NT_NOPREV,
		  "normal");
	memset(buf, SENTINEL, sizeof(buf));
	len = sizeof(buf);
	CHECK_EQ(synode_lookup(t.n, "s1", "child", 5, &got, buf, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(buf[0], SENTINEL);
	CHECK(synode_pid_cmp(&got, &cp) == 0);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 2);

	/* binary names and meta are bytes, not strings */
	CHECK_EQ(synode_register(t.n, "s1", "\0x\xff", 3, &h, "\0\0", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", "\0x\xff", 3, &h, "\0\0", 2, NT_NOPREV,
		  "normal");
	len = sizeof(buf);
	CHECK_EQ(synode_lookup(t.n, "s1", "\0x\xff", 3, &got, buf, &len), 0);
	CHECK_EQ(len, 2);
	CHECK(buf[0] == 0 && buf[1] == 0);
	CHECK_EQ(synode_lookup(t.n, "s1", "\0x", 2, NULL, NULL, NULL), -SYNODE_EUNDEFINED);

	nt_child_cleanup(&c);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("child"), &cp, NULL, 0, NT_NOPREV,
		  "signal:KILL");
	nt_node_stop(&t);
}

static void
case_reregister(void)
{
	struct nt_node t;
	struct synode_pid h, h2;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	h2 = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");

	/* same pid, same meta: ok, nothing happens */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m1", 2), 0);
	nt_expect_none(&t.col, 0);

	/* same pid, new meta: an update */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("a"), &h, NT_S("m2"),
		  NT_S("m1"), "normal");
	nt_check_reg(&t, "s1", "a", &h, "m2");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);

	/* to empty meta and back: still updates (prev_meta is set, empty) */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("a"), &h, NULL, 0, NT_S("m2"),
		  "normal");
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m3", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("a"), &h, NT_S("m3"), "", 0,
		  "normal");

	/* another pid: taken, and nothing changes */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h2, "x", 1), -SYNODE_ETAKEN);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h2, "m3", 2), -SYNODE_ETAKEN);
	nt_expect_none(&t.col, 0);
	nt_check_reg(&t, "s1", "a", &h, "m3");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);

	/* the same name in another scope is another name */
	CHECK_EQ(synode_register(t.n, "s2", "a", 1, &h2, "x", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s2", NT_S("a"), &h2, NT_S("x"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s1", "a", &h, "m3");
	nt_check_reg(&t, "s2", "a", &h2, "x");
	nt_node_stop(&t);
}

static void
case_not_alive(void)
{
	struct nt_node t;
	struct nt_child dead, zombie;
	struct synode_pid h, closed, never, dp, zp;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NULL, 0, NT_NOPREV,
		  "normal");

	/* a reaped child: its pid names no process */
	nt_child_spawn(&dead);
	dp = nt_child_pid(&t, &dead);
	nt_child_exit(&dead, 0);
	nt_child_reap(&dead);
	CHECK_EQ(synode_register(t.n, "s1", "d", 1, &dp, NULL, 0), -SYNODE_ENOT_ALIVE);
	/* liveness comes first: a taken name gives not_alive too (as in Syn) */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &dp, NULL, 0), -SYNODE_ENOT_ALIVE);

	/* a zombie (dead, not reaped) is not alive */
	nt_child_spawn(&zombie);
	zp = nt_child_pid(&t, &zombie);
	nt_child_kill(&zombie, SIGKILL);
	nt_child_wait_zombie(&zombie);
	CHECK_EQ(synode_register(t.n, "s1", "z", 1, &zp, NULL, 0), -SYNODE_ENOT_ALIVE);
	nt_child_reap(&zombie);

	/* a closed handle, and a handle never made */
	closed = nt_handle(&t);
	CHECK_EQ(synode_handle_close(t.n, &closed), 0);
	CHECK_EQ(synode_register(t.n, "s1", "c", 1, &closed, NULL, 0), -SYNODE_ENOT_ALIVE);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &closed, NULL, 0), -SYNODE_ENOT_ALIVE);
	never = h;
	never.id = h.id + 1000;
	CHECK_EQ(synode_register(t.n, "s1", "c", 1, &never, NULL, 0), -SYNODE_ENOT_ALIVE);

	nt_expect_none(&t.col, 0);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);
	nt_check_unreg(&t, "s1", "d");
	nt_check_unreg(&t, "s1", "z");
	nt_check_unreg(&t, "s1", "c");
	nt_node_stop(&t);
}

static void
case_bad_pids(void)
{
	struct nt_node t;
	struct synode_pid p;

	nt_node_start(&t, NULL);
	memset(&p, 0, sizeof(p));
	p.id = 1;
	/* no node name */
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &p, NULL, 0), -EINVAL);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, NULL, NULL, 0), -EINVAL);
	/* a process of another node, which a single node cannot reach */
	strcpy(p.node, "n2");
	p.id = (uint64_t)getpid();
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &p, NULL, 0), -SYNODE_EUNREACHABLE);
	/* ids no process can have */
	synode_pid_os(t.n, 0, &p);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &p, NULL, 0), -SYNODE_ENOT_ALIVE);
	p.id = (uint64_t)INT32_MAX + 1;
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &p, NULL, 0), -SYNODE_ENOT_ALIVE);
	p.id = SYNODE_HANDLE_ID_BASE - 1;
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &p, NULL, 0), -SYNODE_ENOT_ALIVE);
	nt_expect_none(&t.col, 0);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	/* the program itself is a live local process (not strict: anyone's) */
	synode_pid_os(t.n, getpid(), &p);
	CHECK_EQ(synode_register(t.n, "s1", "self", 4, &p, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("self"), &p, NULL, 0, NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s1", "self", &p, "");
	nt_node_stop(&t);
}

/* A foreach callback that must never run. */
static void
reg_never(const struct synode_reg_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	CHECK_MSG(0, "foreach called its callback for an invalid scope or a node filter");
}

static void
case_invalid_scope(void)
{
	struct nt_node t;
	struct synode_pid h, got;
	size_t len = 0;
	const char *bad[] = { "nope", "S1", "s1 ", "s" };

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m", 1), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NT_S("m"), NT_NOPREV,
		  "normal");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *s = bad[i];

		CHECK_EQ(synode_register(t.n, s, "a", 1, &h, "m", 1), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_register(t.n, s, "new", 3, &h, NULL, 0), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_update(t.n, s, "a", 1, "z", 1), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_unregister(t.n, s, "a", 1), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_lookup(t.n, s, "a", 1, &got, NULL, &len), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_registry_count(t.n, s, NULL), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_registry_count(t.n, s, NT_NODE), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_registry_foreach(t.n, s, NULL, reg_never, NULL),
			 -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_registry_foreach(t.n, s, NT_NODE, reg_never, NULL),
			 -SYNODE_EINVALID_SCOPE);
	}
	CHECK(strcmp(synode_strerror(-SYNODE_EINVALID_SCOPE), "invalid_scope") == 0);
	/* nothing changed */
	nt_expect_none(&t.col, 0);
	nt_check_reg(&t, "s1", "a", &h, "m");
	nt_node_stop(&t);
}

static void
case_name_limits(void)
{
	struct synode_params p;
	struct nt_node t;
	struct synode_pid h;
	char name[SYNODE_NAME_MAX_DEFAULT + 2];
	struct synode *bad;

	memset(name, 'n', sizeof(name));
	nt_node_start(&t, NULL);
	h = nt_handle(&t);

	/* empty names */
	CHECK_EQ(synode_register(t.n, "s1", "", 0, &h, NULL, 0), -EINVAL);
	CHECK_EQ(synode_register(t.n, "s1", NULL, 0, &h, NULL, 0), -EINVAL);
	CHECK_EQ(synode_update(t.n, "s1", "", 0, "m", 1), -EINVAL);
	CHECK_EQ(synode_unregister(t.n, "s1", "", 0), -EINVAL);
	CHECK_EQ(synode_lookup(t.n, "s1", "", 0, NULL, NULL, NULL), -EINVAL);

	/* 255 bytes are fine, 256 are too long */
	CHECK_EQ(synode_register(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", name, SYNODE_NAME_MAX_DEFAULT, &h, NULL,
		  0, NT_NOPREV, "normal");
	CHECK_EQ(synode_lookup(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT, NULL, NULL, NULL), 0);
	CHECK_EQ(synode_register(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT + 1, &h, NULL, 0),
		 -ENAMETOOLONG);
	CHECK_EQ(synode_update(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT + 1, "m", 1),
		 -ENAMETOOLONG);
	CHECK_EQ(synode_unregister(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT + 1),
		 -ENAMETOOLONG);
	CHECK_EQ(synode_unregister(t.n, "s1", name, SYNODE_NAME_MAX_DEFAULT), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", name, SYNODE_NAME_MAX_DEFAULT, &h,
		  NULL, 0, NT_NOPREV, "normal");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	nt_node_stop(&t);

	/* a node with a limit of 10 */
	nt_params(&p);
	p.max_name_len = 10;
	nt_node_start(&t, &p);
	h = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", name, 10, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", name, 10, &h, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s1", name, 11, &h, NULL, 0), -ENAMETOOLONG);
	CHECK_EQ(synode_update(t.n, "s1", name, 11, "m", 1), -ENAMETOOLONG);
	CHECK_EQ(synode_unregister(t.n, "s1", name, 11), -ENAMETOOLONG);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);
	nt_node_stop(&t);

	/* limits over the highest ones, and bad node names, are refused */
	nt_params(&p);
	p.max_name_len = SYNODE_NAME_MAX_LIMIT + 1;
	errno = 0;
	bad = synode_start(&p);
	CHECK(bad == NULL);
	CHECK_EQ(errno, EINVAL);
	nt_params(&p);
	p.max_meta_len = SYNODE_META_MAX_LIMIT + 1;
	errno = 0;
	bad = synode_start(&p);
	CHECK(bad == NULL);
	CHECK_EQ(errno, EINVAL);
	nt_params(&p);
	p.name = NULL;
	errno = 0;
	CHECK(synode_start(&p) == NULL);
	CHECK_EQ(errno, EINVAL);
	nt_params(&p);
	memset(name, 'x', SYNODE_NODE_NAME_MAX + 1);
	name[SYNODE_NODE_NAME_MAX + 1] = 0;
	p.name = name;
	errno = 0;
	CHECK(synode_start(&p) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* the highest limits themselves are fine */
	nt_params(&p);
	p.max_name_len = SYNODE_NAME_MAX_LIMIT;
	p.max_meta_len = SYNODE_META_MAX_LIMIT;
	nt_node_start(&t, &p);
	nt_node_stop(&t);
}

static void
case_meta_limits(void)
{
	static unsigned char meta[SYNODE_META_MAX_DEFAULT + 1];
	struct synode_params p;
	struct nt_node t;
	struct synode_pid h, got;
	size_t len;

	for (size_t i = 0; i < sizeof(meta); i++)
		meta[i] = (unsigned char)(i * 7);
	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, meta, SYNODE_META_MAX_DEFAULT + 1),
		 -EMSGSIZE);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, NULL, 1), -EINVAL);
	nt_expect_none(&t.col, 0);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, meta, SYNODE_META_MAX_DEFAULT), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, meta,
		  SYNODE_META_MAX_DEFAULT, NT_NOPREV, "normal");
	{
		static unsigned char out[SYNODE_META_MAX_DEFAULT];

		len = sizeof(out);
		CHECK_EQ(synode_lookup(t.n, "s1", "a", 1, &got, out, &len), 0);
		CHECK_EQ(len, SYNODE_META_MAX_DEFAULT);
		CHECK_MEM(out, meta, SYNODE_META_MAX_DEFAULT);
	}
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, meta, SYNODE_META_MAX_DEFAULT + 1), -EMSGSIZE);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, meta, SYNODE_META_MAX_DEFAULT + 1),
		 -EMSGSIZE);
	nt_expect_none(&t.col, 0);
	len = 0;
	CHECK_EQ(synode_lookup(t.n, "s1", "a", 1, NULL, NULL, &len), 0);
	CHECK_EQ(len, SYNODE_META_MAX_DEFAULT);
	nt_node_stop(&t);

	nt_params(&p);
	p.max_meta_len = 16;
	nt_node_start(&t, &p);
	h = nt_handle(&t);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, meta, 17), -EMSGSIZE);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, meta, 16), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, meta, 16, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, meta, 17), -EMSGSIZE);
	nt_expect_none(&t.col, 0);
	nt_node_stop(&t);
}

static void
case_update(void)
{
	struct nt_node t;
	struct synode_pid h;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, "m", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, "m2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("a"), &h, NT_S("m2"),
		  NT_S("m1"), "normal");
	nt_check_reg(&t, "s1", "a", &h, "m2");
	/* the same meta: Syn's noop */
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, "m2", 2), 0);
	nt_expect_none(&t.col, 0);
	/* update keeps the pid; an unknown name, or one of another scope */
	CHECK_EQ(synode_update(t.n, "s1", "b", 1, "m", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_update(t.n, "s2", "a", 1, "m", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTRY_UPDATED, "s1", NT_S("a"), &h, NULL, 0, NT_S("m2"),
		  "normal");
	nt_check_reg(&t, "s1", "a", &h, "");
	nt_expect_none(&t.col, 0);
	nt_node_stop(&t);
}

static void
case_unregister(void)
{
	struct nt_node t;
	struct synode_pid h;

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	CHECK_EQ(synode_unregister(t.n, "s1", "a", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h, "m1", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_register(t.n, "s1", "b", 1, &h, "m2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("b"), &h, NT_S("m2"), NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_unregister(t.n, "s2", "a", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_unregister(t.n, "s1", "a", 1), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("a"), &h, NT_S("m1"), NT_NOPREV,
		  "normal");
	nt_check_unreg(&t, "s1", "a");
	nt_check_reg(&t, "s1", "b", &h, "m2");
	CHECK_EQ(synode_unregister(t.n, "s1", "a", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_update(t.n, "s1", "a", 1, "x", 1), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);
	/* the name is free again, for anyone */
	{
		struct synode_pid h2 = nt_handle(&t);

		CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h2, NULL, 0), 0);
		nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h2, NULL, 0,
			  NT_NOPREV, "normal");
		nt_check_reg(&t, "s1", "a", &h2, "");
	}
	nt_expect_none(&t.col, 0);
	nt_node_stop(&t);
}

/* What foreach saw. */
struct reg_seen {
	unsigned calls;
	struct {
		const char *name;
		struct synode_pid pid;
		const char *meta;
		unsigned seen;
	} want[8];
	unsigned n_want;
};

static void
reg_visit(const struct synode_reg_entry *e, void *arg)
{
	struct reg_seen *s = arg;
	unsigned i;

	s->calls++;
	for (i = 0; i < s->n_want; i++)
		if (e->name_len == strlen(s->want[i].name) &&
		    memcmp(e->name, s->want[i].name, e->name_len) == 0)
			break;
	CHECK_MSG(i < s->n_want, "foreach visited an unknown name (%zu bytes)", e->name_len);
	s->want[i].seen++;
	CHECK(synode_pid_cmp(&e->pid, &s->want[i].pid) == 0);
	CHECK_EQ(e->meta_len, strlen(s->want[i].meta));
	CHECK_MEM(e->meta, s->want[i].meta, e->meta_len);
	CHECK(e->time.wall_ns > 0);
}

static void
case_counts_foreach(void)
{
	struct nt_node t;
	struct nt_child c;
	struct synode_pid h, cp;
	struct reg_seen s;
	const char *hn[] = { "h1", "h2", "h3" }, *cn[] = { "c1", "c2" };

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	nt_child_spawn(&c);
	cp = nt_child_pid(&t, &c);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	CHECK_EQ(synode_registry_count(t.n, "s1", NT_NODE), 0);
	CHECK_EQ(synode_registry_foreach(t.n, "s1", NULL, reg_never, NULL), 0);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(synode_register(t.n, "s1", hn[i], 2, &h, hn[i], 2), 0);
		nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S(hn[i]), &h, NT_S(hn[i]),
			  NT_NOPREV, "normal");
		s.want[s.n_want].name = hn[i];
		s.want[s.n_want].pid = h;
		s.want[s.n_want].meta = hn[i];
		s.n_want++;
	}
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(synode_register(t.n, "s1", cn[i], 2, &cp, "cm", 2), 0);
		nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S(cn[i]), &cp, NT_S("cm"),
			  NT_NOPREV, "normal");
		s.want[s.n_want].name = cn[i];
		s.want[s.n_want].pid = cp;
		s.want[s.n_want].meta = "cm";
		s.n_want++;
	}
	CHECK_EQ(synode_register(t.n, "s2", "other", 5, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s2", NT_S("other"), &h, NULL, 0, NT_NOPREV,
		  "normal");

	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 5);
	CHECK_EQ(synode_registry_count(t.n, "s1", NT_NODE), 5);
	CHECK_EQ(synode_registry_count(t.n, "s1", synode_name(t.n)), 5);
	CHECK_EQ(synode_registry_count(t.n, "s1", "n2"), 0);
	CHECK_EQ(synode_registry_count(t.n, "s1", "n"), 0);
	CHECK_EQ(synode_registry_count(t.n, "s2", NULL), 1);
	CHECK_EQ(synode_registry_count(t.n, "s2", NT_NODE), 1);

	CHECK_EQ(synode_registry_foreach(t.n, "s1", NULL, reg_visit, &s), 5);
	CHECK_EQ(s.calls, 5);
	for (unsigned i = 0; i < s.n_want; i++)
		CHECK_MSG(s.want[i].seen == 1, "%s seen %u times", s.want[i].name,
			  s.want[i].seen);
	for (unsigned i = 0; i < s.n_want; i++)
		s.want[i].seen = 0;
	s.calls = 0;
	CHECK_EQ(synode_registry_foreach(t.n, "s1", NT_NODE, reg_visit, &s), 5);
	CHECK_EQ(s.calls, 5);
	CHECK_EQ(synode_registry_foreach(t.n, "s1", "n2", reg_never, NULL), 0);
	/* a NULL callback counts */
	CHECK_EQ(synode_registry_foreach(t.n, "s1", NULL, NULL, NULL), 5);

	/* one process, several names: unregistering one leaves the others */
	CHECK_EQ(synode_unregister(t.n, "s1", "h2", 2), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s1", NT_S("h2"), &h, NT_S("h2"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s1", "h1", &h, "h1");
	nt_check_reg(&t, "s1", "h3", &h, "h3");
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 4);

	/* and its end takes all of them, in every scope */
	CHECK_EQ(synode_handle_close(t.n, &h), 0);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("h1"), &h, NT_S("h1"), NT_NOPREV,
			  "normal" },
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("h3"), &h, NT_S("h3"), NT_NOPREV,
			  "normal" },
			{ SYNODE_EV_UNREGISTERED, "s2", NT_S("other"), &h, NULL, 0, NT_NOPREV,
			  "normal" },
		};

		nt_expect_set(&t.col, w, 3);
	}
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 2);
	CHECK_EQ(synode_registry_count(t.n, "s2", NULL), 0);
	nt_check_unreg(&t, "s1", "h1");
	nt_check_reg(&t, "s1", "c1", &cp, "cm");

	nt_child_cleanup(&c);
	{
		const struct nt_want w[] = {
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("c1"), &cp, NT_S("cm"), NT_NOPREV,
			  "signal:KILL" },
			{ SYNODE_EV_UNREGISTERED, "s1", NT_S("c2"), &cp, NT_S("cm"), NT_NOPREV,
			  "signal:KILL" },
		};

		nt_expect_set(&t.col, w, 2);
	}
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
	CHECK_EQ(synode_registry_foreach(t.n, "s1", NULL, reg_never, NULL), 0);
	nt_node_stop(&t);
}

/* Scope names seen by synode_scopes(). */
struct scope_seen {
	char names[8][SYNODE_SCOPE_NAME_MAX + 1];
	unsigned n;
};

static void
scope_visit(const char *scope, void *arg)
{
	struct scope_seen *s = arg;

	CHECK(s->n < 8);
	CHECK(strlen(scope) <= SYNODE_SCOPE_NAME_MAX);
	strcpy(s->names[s->n++], scope);
}

static bool
scope_has(const struct scope_seen *s, const char *name)
{
	unsigned k = 0;

	for (unsigned i = 0; i < s->n; i++)
		k += strcmp(s->names[i], name) == 0;
	CHECK(k <= 1);
	return k == 1;
}

static void
case_scopes(void)
{
	struct nt_node t;
	struct synode_pid h, h2;
	struct scope_seen s;
	char longname[SYNODE_SCOPE_NAME_MAX + 2];

	nt_node_start(&t, NULL);
	h = nt_handle(&t);
	h2 = nt_handle(&t);
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_scopes(t.n, scope_visit, &s), 2);
	CHECK(scope_has(&s, "s1") && scope_has(&s, "s2") && !scope_has(&s, "s3"));

	CHECK_EQ(synode_register(t.n, "s3", "a", 1, &h, NULL, 0), -SYNODE_EINVALID_SCOPE);
	CHECK_EQ(synode_add_scope(t.n, "s3"), 0);
	CHECK_EQ(synode_add_scope(t.n, "s3"), 0); /* already served */
	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_scopes(t.n, scope_visit, &s), 3);
	CHECK(scope_has(&s, "s1") && scope_has(&s, "s2") && scope_has(&s, "s3"));
	CHECK_EQ(synode_scopes(t.n, NULL, NULL), 3);

	/* the new scope works, apart from the others */
	CHECK_EQ(synode_registry_count(t.n, "s3", NULL), 0);
	CHECK_EQ(synode_register(t.n, "s3", "a", 1, &h, "in3", 3), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s3", NT_S("a"), &h, NT_S("in3"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s3", "a", &h, "in3");
	nt_check_unreg(&t, "s1", "a");
	nt_check_unreg(&t, "s2", "a");
	CHECK_EQ(synode_register(t.n, "s1", "a", 1, &h2, "in1", 3), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, "s1", NT_S("a"), &h2, NT_S("in1"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s3", "a", &h, "in3");
	nt_check_reg(&t, "s1", "a", &h2, "in1");
	CHECK_EQ(synode_registry_count(t.n, "s3", NULL), 1);
	CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 1);
	CHECK_EQ(synode_registry_count(t.n, "s2", NULL), 0);
	CHECK_EQ(synode_unregister(t.n, "s3", "a", 1), 0);
	nt_expect(&t.col, SYNODE_EV_UNREGISTERED, "s3", NT_S("a"), &h, NT_S("in3"), NT_NOPREV,
		  "normal");
	nt_check_reg(&t, "s1", "a", &h2, "in1");

	/* bad scope names */
	memset(longname, 'x', sizeof(longname));
	longname[SYNODE_SCOPE_NAME_MAX + 1] = 0;
	CHECK_EQ(synode_add_scope(t.n, ""), -EINVAL);
	CHECK_EQ(synode_add_scope(t.n, NULL), -EINVAL);
	CHECK_EQ(synode_add_scope(t.n, longname), -EINVAL);
	CHECK_EQ(synode_add_scope(t.n, "a b"), -EINVAL);
	CHECK_EQ(synode_add_scope(t.n, "a/b"), -EINVAL);
	longname[SYNODE_SCOPE_NAME_MAX] = 0; /* 63 bytes: the longest */
	CHECK_EQ(synode_add_scope(t.n, longname), 0);
	CHECK_EQ(synode_register(t.n, longname, "a", 1, &h, NULL, 0), 0);
	nt_expect(&t.col, SYNODE_EV_REGISTERED, longname, NT_S("a"), &h, NULL, 0, NT_NOPREV,
		  "normal");
	CHECK_EQ(synode_scopes(t.n, NULL, NULL), 4);
	nt_node_stop(&t);

	/* a node with no scope at the start */
	{
		struct synode_params p;

		nt_params(&p);
		p.scopes = NULL;
		p.n_scopes = 0;
		nt_node_start(&t, &p);
		CHECK_EQ(synode_scopes(t.n, NULL, NULL), 0);
		CHECK_EQ(synode_registry_count(t.n, "s1", NULL), -SYNODE_EINVALID_SCOPE);
		CHECK_EQ(synode_add_scope(t.n, "s1"), 0);
		CHECK_EQ(synode_registry_count(t.n, "s1", NULL), 0);
		nt_node_stop(&t);
	}
}

static void
case_text_forms(void)
{
	static const struct {
		int err;
		const char *text;
	} errs[] = {
		{ SYNODE_EUNDEFINED, "undefined" },
		{ SYNODE_ETAKEN, "taken" },
		{ SYNODE_ENOT_ALIVE, "not_alive" },
		{ SYNODE_ENOT_SELF, "not_self" },
		{ SYNODE_ENOT_IN_GROUP, "not_in_group" },
		{ SYNODE_ERACE_CONDITION, "race_condition" },
		{ SYNODE_EINVALID_SCOPE, "invalid_scope" },
		{ SYNODE_EUNREACHABLE, "unreachable" },
	};
	static const struct {
		struct synode_reason r;
		const char *text;
	} reasons[] = {
		{ { SYNODE_REASON_NORMAL, 0 }, "normal" },
		{ { SYNODE_REASON_EXIT, 3 }, "exit:3" },
		{ { SYNODE_REASON_SIGNAL, SIGKILL }, "signal:KILL" },
		{ { SYNODE_REASON_SIGNAL, SIGTERM }, "signal:TERM" },
		{ { SYNODE_REASON_NODE_UP, 0 }, "remote_scope_node_up" },
		{ { SYNODE_REASON_NODE_DOWN, 0 }, "remote_scope_node_down" },
		{ { SYNODE_REASON_CONFLICT, 0 }, "conflict_resolution" },
		{ { SYNODE_REASON_UNDEFINED, 0 }, "undefined" },
	};
	static const char *const events[] = {
		[SYNODE_EV_REGISTERED] = "registered",
		[SYNODE_EV_REGISTRY_UPDATED] = "registry_updated",
		[SYNODE_EV_UNREGISTERED] = "unregistered",
		[SYNODE_EV_JOINED] = "joined",
		[SYNODE_EV_MEMBER_UPDATED] = "member_updated",
		[SYNODE_EV_LEFT] = "left",
	};
	struct synode_pid p, q;
	char buf[128];

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		CHECK(strcmp(synode_strerror(-errs[i].err), errs[i].text) == 0);
		CHECK(strcmp(synode_strerror(errs[i].err), errs[i].text) == 0);
	}
	CHECK(strcmp(synode_strerror(-EINVAL), strerror(EINVAL)) == 0);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		CHECK_EQ(synode_reason_format(&reasons[i].r, buf, sizeof(buf)),
			 strlen(reasons[i].text));
		CHECK_MSG(strcmp(buf, reasons[i].text) == 0, "%s", buf);
	}
	for (int k = SYNODE_EV_REGISTERED; k <= SYNODE_EV_LEFT; k++)
		CHECK(strcmp(synode_event_name((enum synode_event_kind)k), events[k]) == 0);

	memset(&p, 0, sizeof(p));
	strcpy(p.node, "n1");
	p.id = 4242;
	CHECK_EQ(synode_pid_format(&p, buf, sizeof(buf)), 7);
	CHECK(strcmp(buf, "n1/4242") == 0);
	CHECK_EQ(synode_pid_format(&p, buf, 7), -ENOSPC);
	CHECK_EQ(synode_pid_parse("n1/4242", &q), 0);
	CHECK(synode_pid_cmp(&p, &q) == 0);
	CHECK_EQ(synode_pid_parse("n1", &q), -EINVAL);
	CHECK_EQ(synode_pid_parse("/5", &q), -EINVAL);
	CHECK_EQ(synode_pid_parse("n1/x", &q), -EINVAL);
	q.id = 4243;
	CHECK(synode_pid_cmp(&p, &q) < 0 && synode_pid_cmp(&q, &p) > 0);
	strcpy(q.node, "n0");
	CHECK(synode_pid_cmp(&p, &q) > 0);
}

int
main(int argc, char **argv)
{
	static const struct nt_case cases[] = {
		{ "register_lookup", case_register_lookup },
		{ "reregister", case_reregister },
		{ "not_alive", case_not_alive },
		{ "bad_pids", case_bad_pids },
		{ "invalid_scope", case_invalid_scope },
		{ "name_limits", case_name_limits },
		{ "meta_limits", case_meta_limits },
		{ "update", case_update },
		{ "unregister", case_unregister },
		{ "counts_foreach", case_counts_foreach },
		{ "scopes", case_scopes },
		{ "text_forms", case_text_forms },
	};

	return nt_run(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
