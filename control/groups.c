/* SPDX-License-Identifier: MIT */
/*
 * Process groups, with Syn's semantics (syn_pg). A membership is one
 * object in each of pg_by_name (grpkey pidkey -> time, meta) and pg_by_pid
 * (pidkey grpkey); core_internal.h explains the keys. A group's members
 * are one prefix scan of pg_by_name, in pid order; a process's groups one
 * prefix scan of pg_by_pid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

#define MEMBER_KEY_MAX (SN_GRPKEY_MAX + SN_PIDKEY_MAX)
#define MEMBER_VAL_MAX (sizeof(struct sn_member_val) + SYNODE_META_MAX_LIMIT)
#define SCAN_PAGE 64

static const struct synode_reason reason_normal = { SYNODE_REASON_NORMAL, 0 };

/* A membership copied out of the table. */
struct member_copy {
	bool found;
	struct synode_time time;
	size_t meta_len;
	unsigned char meta[SYNODE_META_MAX_LIMIT];
};

static size_t
key_by_name(const void *group, size_t glen, const struct synode_pid *pid, unsigned char *k)
{
	size_t len = sn_grpkey(group, glen, k);

	return len + sn_pidkey(pid, k + len);
}

static size_t
key_by_pid(const void *group, size_t glen, const struct synode_pid *pid, unsigned char *k)
{
	size_t len = sn_pidkey(pid, k);

	return len + sn_grpkey(group, glen, k + len);
}

static void
member_read(struct sn_scope *sc, const unsigned char *k, size_t klen, struct member_copy *c)
{
	const struct rtab_obj *o;

	urcu_memb_read_lock();
	o = rtab_oset_lookup(sc->pg_by_name, k, klen);
	c->found = o != NULL;
	if (o != NULL) {
		const struct sn_member_val *v = rtab_obj_value(o);

		c->time = v->time;
		c->meta_len = v->meta_len;
		memcpy(c->meta, v + 1, v->meta_len);
	}
	urcu_memb_read_unlock();
}

static int
member_put(struct sn_scope *sc, const void *group, size_t glen, const struct synode_pid *pid,
	   const void *meta, size_t meta_len, const struct synode_time *t)
{
	unsigned char kn[MEMBER_KEY_MAX], kp[MEMBER_KEY_MAX];
	unsigned char val[MEMBER_VAL_MAX] __attribute__((aligned(8)));
	struct sn_member_val *v = (struct sn_member_val *)val;
	size_t kn_len = key_by_name(group, glen, pid, kn);
	size_t kp_len = key_by_pid(group, glen, pid, kp);
	int rc_pid, rc;

	memset(v, 0, sizeof(*v));
	v->time = *t;
	v->meta_len = (uint32_t)meta_len;
	if (meta_len)
		memcpy(v + 1, meta, meta_len);
	rc_pid = rtab_oset_insert(sc->pg_by_pid, kp, kp_len, NULL, 0);
	if (rc_pid < 0)
		return rc_pid;
	rc = rtab_oset_insert(sc->pg_by_name, kn, kn_len, val, sizeof(*v) + meta_len);
	if (rc < 0) {
		if (rc_pid == 0)
			(void)rtab_oset_delete(sc->pg_by_pid, kp, kp_len);
		return rc;
	}
	return 0;
}

static void
member_del(struct sn_scope *sc, const void *group, size_t glen, const struct synode_pid *pid)
{
	unsigned char k[MEMBER_KEY_MAX];

	(void)rtab_oset_delete(sc->pg_by_name, k, key_by_name(group, glen, pid, k));
	(void)rtab_oset_delete(sc->pg_by_pid, k, key_by_pid(group, glen, pid, k));
}

/* Checks shared by join, leave and update_member. */
static int
pg_check(struct synode *n, const struct sn_origin *o, struct sn_scope *sc,
	 const void *group, size_t glen, const struct synode_pid *pid, bool strict_applies)
{
	int rc;

	if (sc == NULL)
		return -SYNODE_EINVALID_SCOPE;
	if ((rc = sn_check_name(n, group, glen)) != 0 || (rc = sn_check_pid(pid)) != 0)
		return rc;
	if (strict_applies && n->p.strict && !sn_origin_owns(n, o, pid))
		return -SYNODE_ENOT_SELF;
	return 0;
}

/* Join, or update the meta of a member. @p must_exist: update_member. */
static int
pg_write(struct synode *n, struct sn_scope *sc, const void *group, size_t glen,
	 const struct synode_pid *pid, const void *meta, size_t meta_len, bool must_exist)
{
	unsigned char k[MEMBER_KEY_MAX];
	struct member_copy *old = malloc(sizeof(*old));
	struct synode_time t;
	int rc = 0;

	if (old == NULL)
		return -ENOMEM;
	member_read(sc, k, key_by_name(group, glen, pid, k), old);
	if (!old->found && must_exist) {
		rc = -SYNODE_EUNDEFINED;
	} else if (old->found) {
		if (old->meta_len != meta_len || memcmp(old->meta, meta, meta_len) != 0) {
			t = sn_now(n);
			rc = member_put(sc, group, glen, pid, meta, meta_len, &t);
			if (rc == 0) {
				sn_emit(n, SYNODE_EV_MEMBER_UPDATED, sc, group, glen, pid, meta,
					meta_len, old->meta, old->meta_len, &reason_normal);
				sn_broadcast(n, SN_MSG_SYNC_JOIN, sc, group, glen, pid, meta,
					     meta_len, &t, &reason_normal, NULL);
			}
		}
	} else if (!sn_proc_alive(n, pid->id)) {
		rc = -SYNODE_ENOT_ALIVE;
	} else if ((rc = sn_proc_ref(n, pid->id)) == 0) {
		t = sn_now(n);
		rc = member_put(sc, group, glen, pid, meta, meta_len, &t);
		if (rc != 0) {
			sn_proc_unref(n, pid->id);
		} else {
			sn_emit(n, SYNODE_EV_JOINED, sc, group, glen, pid, meta, meta_len, NULL, 0,
				&reason_normal);
			sn_broadcast(n, SN_MSG_SYNC_JOIN, sc, group, glen, pid, meta, meta_len, &t,
				     &reason_normal, NULL);
		}
	}
	free(old);
	return rc;
}

/* join and update_member: the same checks, the same write. */
static int
pg_join_or_update(struct synode *n, const struct sn_origin *o, const char *scope,
		  const void *group, size_t group_len, const struct synode_pid *pid,
		  const void *meta, size_t meta_len, bool must_exist)
{
	struct sn_scope *sc = sn_scope_get(n, scope);
	int rc = pg_check(n, o, sc, group, group_len, pid, true);

	if (rc == 0)
		rc = sn_check_meta(n, meta, meta_len);
	if (rc != 0)
		return rc;
	if (!sn_pid_is_local(n, pid))
		return sn_remote_write(n, o, must_exist ? SN_OP_UPDATE_MEMBER : SN_OP_JOIN, sc,
				       group, group_len, pid, meta, meta_len);
	return pg_write(n, sc, group, group_len, pid, meta, meta_len, must_exist);
}

int
sn_join(struct synode *n, const struct sn_origin *o, const char *scope, const void *group,
	size_t group_len, const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	return pg_join_or_update(n, o, scope, group, group_len, pid, meta, meta_len, false);
}

int
sn_update_member(struct synode *n, const struct sn_origin *o, const char *scope,
		 const void *group, size_t group_len, const struct synode_pid *pid,
		 const void *meta, size_t meta_len)
{
	return pg_join_or_update(n, o, scope, group, group_len, pid, meta, meta_len, true);
}

int
sn_leave(struct synode *n, const struct sn_origin *o, const char *scope, const void *group,
	 size_t group_len, const struct synode_pid *pid)
{
	struct sn_scope *sc = sn_scope_get(n, scope);
	unsigned char k[MEMBER_KEY_MAX];
	struct member_copy *old;
	int rc = pg_check(n, o, sc, group, group_len, pid, false);

	if (rc != 0)
		return rc;
	if (!sn_pid_is_local(n, pid))
		return sn_remote_write(n, o, SN_OP_LEAVE, sc, group, group_len, pid, NULL, 0);
	old = malloc(sizeof(*old));
	if (old == NULL)
		return -ENOMEM;
	member_read(sc, k, key_by_name(group, group_len, pid, k), old);
	if (!old->found) {
		rc = -SYNODE_ENOT_IN_GROUP;
	} else {
		member_del(sc, group, group_len, pid);
		sn_proc_unref(n, pid->id);
		sn_emit(n, SYNODE_EV_LEFT, sc, group, group_len, pid, old->meta, old->meta_len,
			NULL, 0, &reason_normal);
		sn_broadcast(n, SN_MSG_SYNC_LEAVE, sc, group, group_len, pid, old->meta,
			     old->meta_len, NULL, &reason_normal, NULL);
	}
	free(old);
	return rc;
}

/* --------------------------------------------------------- peer messages */

void
sn_pg_sync_join(struct synode *n, struct sn_scope *sc, const struct sn_msg *m)
{
	unsigned char k[MEMBER_KEY_MAX];
	struct member_copy *old = malloc(sizeof(*old));

	if (old == NULL)
		return;
	member_read(sc, k, key_by_name(m->name, m->name_len, &m->pid, k), old);
	if (!old->found) {
		if (member_put(sc, m->name, m->name_len, &m->pid, m->meta, m->meta_len,
			       &m->time) == 0)
			sn_emit(n, SYNODE_EV_JOINED, sc, m->name, m->name_len, &m->pid, m->meta,
				m->meta_len, NULL, 0, &m->reason);
	} else if (sn_time_cmp(&old->time, &m->time) < 0) {
		if (member_put(sc, m->name, m->name_len, &m->pid, m->meta, m->meta_len,
			       &m->time) == 0 &&
		    (old->meta_len != m->meta_len || memcmp(old->meta, m->meta, m->meta_len) != 0))
			sn_emit(n, SYNODE_EV_MEMBER_UPDATED, sc, m->name, m->name_len, &m->pid,
				m->meta, m->meta_len, old->meta, old->meta_len, &m->reason);
	}
	free(old);
}

void
sn_pg_sync_leave(struct synode *n, struct sn_scope *sc, const struct sn_msg *m)
{
	unsigned char k[MEMBER_KEY_MAX];
	struct member_copy *old = malloc(sizeof(*old));

	if (old == NULL)
		return;
	member_read(sc, k, key_by_name(m->name, m->name_len, &m->pid, k), old);
	if (old->found) {
		member_del(sc, m->name, m->name_len, &m->pid);
		sn_emit(n, SYNODE_EV_LEFT, sc, m->name, m->name_len, &m->pid, old->meta,
			old->meta_len, NULL, 0, &m->reason);
	}
	free(old);
}

/* ------------------------------------------------------------ prefix walks */

/* Calls @p fn on every object of @p t whose key starts with @p prefix, in
 * key order, until it returns non-zero. Call with rcu_read_lock held. */
static int
prefix_walk(const struct rtab_oset *t, const unsigned char *prefix, size_t plen,
	    int (*fn)(const struct rtab_obj *o, void *arg), void *arg)
{
	struct rtab_range r = { .prefix = prefix, .prefix_len = plen };
	struct rtab_cursor cur;
	const struct rtab_obj *page[SCAN_PAGE];
	int got, rc;

	rtab_cursor_init(&cur);
	while ((got = rtab_oset_scan(t, &r, &cur, page, SCAN_PAGE)) > 0)
		for (int i = 0; i < got; i++)
			if ((rc = fn(page[i], arg)) != 0)
				return rc;
	return 0;
}

/* Groups of a pid, copied out of pg_by_pid. */
struct group_list {
	size_t skip, count, cap;
	struct { size_t len; unsigned char *bytes; } *v;
};

static int
collect_group(const struct rtab_obj *o, void *arg)
{
	struct group_list *l = arg;
	unsigned char g[SYNODE_NAME_MAX_LIMIT];
	size_t glen;

	if (sn_grpkey_decode((const unsigned char *)rtab_obj_key(o) + l->skip,
			     rtab_obj_key_len(o) - l->skip, g, &glen) == 0)
		return 0;
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->count].bytes = malloc(glen ? glen : 1);
	if (l->v[l->count].bytes == NULL)
		return -ENOMEM;
	memcpy(l->v[l->count].bytes, g, glen);
	l->v[l->count].len = glen;
	l->count++;
	return 0;
}

void
sn_pg_purge_pid(struct synode *n, struct sn_scope *sc, const struct synode_pid *pid,
		const struct synode_reason *reason)
{
	unsigned char pk[SN_PIDKEY_MAX], k[MEMBER_KEY_MAX];
	struct group_list l = { .skip = sn_pidkey(pid, pk) };
	struct member_copy *old = malloc(sizeof(*old));

	if (old == NULL)
		return;
	urcu_memb_read_lock();
	(void)prefix_walk(sc->pg_by_pid, pk, l.skip, collect_group, &l);
	urcu_memb_read_unlock();
	for (size_t i = 0; i < l.count; i++) {
		const void *g = l.v[i].bytes;
		size_t glen = l.v[i].len;

		member_read(sc, k, key_by_name(g, glen, pid, k), old);
		member_del(sc, g, glen, pid);
		if (old->found) {
			sn_emit(n, SYNODE_EV_LEFT, sc, g, glen, pid, old->meta, old->meta_len, NULL,
				0, reason);
			sn_broadcast(n, SN_MSG_SYNC_LEAVE, sc, g, glen, pid, old->meta,
				     old->meta_len, NULL, reason, NULL);
		}
		free(l.v[i].bytes);
	}
	free(l.v);
	free(old);
}

/* Memberships of one node, copied out of pg_by_pid: (pid, group) pairs. */
struct node_members {
	size_t count, cap;
	struct { struct synode_pid pid; size_t len; unsigned char *group; } *v;
	int err;
};

static int
collect_member(const struct rtab_obj *o, void *arg)
{
	struct node_members *l = arg;
	const unsigned char *k = rtab_obj_key(o);
	size_t klen = rtab_obj_key_len(o), pl;
	unsigned char g[SYNODE_NAME_MAX_LIMIT];
	struct synode_pid pid;
	size_t glen;

	pl = sn_pidkey_decode(k, klen, &pid);
	if (pl == 0 || sn_grpkey_decode(k + pl, klen - pl, g, &glen) == 0)
		return 0;
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (v == NULL)
			return l->err = -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->count].group = malloc(glen ? glen : 1);
	if (l->v[l->count].group == NULL)
		return l->err = -ENOMEM;
	memcpy(l->v[l->count].group, g, glen);
	l->v[l->count].len = glen;
	l->v[l->count].pid = pid;
	l->count++;
	return 0;
}

/* Every membership of node @p node in @p sc, in (pid, group) order. */
static void
node_members(struct sn_scope *sc, const char *node, struct node_members *l)
{
	unsigned char prefix[SYNODE_NODE_NAME_MAX + 1];
	size_t plen = strlen(node);

	/* a pidkey starts with the node name and a NUL */
	memcpy(prefix, node, plen);
	prefix[plen++] = 0;
	urcu_memb_read_lock();
	(void)prefix_walk(sc->pg_by_pid, prefix, plen, collect_member, l);
	urcu_memb_read_unlock();
}

static void
node_members_free(struct node_members *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->v[i].group);
	free(l->v);
}

void
sn_pg_purge_node(struct synode *n, struct sn_scope *sc, const char *node,
		 const struct synode_reason *reason)
{
	unsigned char k[MEMBER_KEY_MAX];
	struct node_members l = { 0 };
	struct member_copy *old = malloc(sizeof(*old));

	if (old == NULL)
		return;
	node_members(sc, node, &l);
	if (l.err != 0)
		sn_log(n, SYNODE_LOG_ERROR, "scope %s: purging node %s: out of memory",
		       sc->name, node);
	for (size_t i = 0; i < l.count; i++) {
		const void *g = l.v[i].group;
		size_t glen = l.v[i].len;
		const struct synode_pid *pid = &l.v[i].pid;

		member_read(sc, k, key_by_name(g, glen, pid, k), old);
		member_del(sc, g, glen, pid);
		if (old->found)
			sn_emit(n, SYNODE_EV_LEFT, sc, g, glen, pid, old->meta, old->meta_len,
				NULL, 0, reason);
	}
	node_members_free(&l);
	free(old);
}

void
sn_pg_send_local(struct synode *n, struct sn_scope *sc, uint64_t mask)
{
	static const struct synode_reason up = { SYNODE_REASON_NODE_UP, 0 };
	unsigned char k[MEMBER_KEY_MAX];
	struct node_members l = { 0 };
	struct member_copy *old = malloc(sizeof(*old));

	if (old == NULL)
		return;
	node_members(sc, n->name, &l);
	if (l.err != 0)
		sn_log(n, SYNODE_LOG_ERROR, "scope %s: sending groups: out of memory",
		       sc->name);
	for (size_t i = 0; i < l.count; i++) {
		struct sn_msg m = {
			.type = SN_MSG_SYNC_JOIN,
			.scope = sc->name,
			.name = l.v[i].group,
			.name_len = l.v[i].len,
			.pid = l.v[i].pid,
			.reason = up,
		};

		member_read(sc, k, key_by_name(m.name, m.name_len, &m.pid, k), old);
		if (!old->found)
			continue;
		m.meta = old->meta;
		m.meta_len = old->meta_len;
		m.time = old->time;
		sn_peer_send_mask(n, mask, &m);
	}
	node_members_free(&l);
	free(old);
}

/* ------------------------------------------------------------------- reads */

struct member_visit {
	struct synode *n;
	size_t skip;             /* grpkey length */
	const char *node;
	void (*fn)(const struct synode_member *m, void *arg);
	void *arg;
	long count;
};

static int
visit_member(const struct rtab_obj *o, void *arg)
{
	struct member_visit *v = arg;
	const struct sn_member_val *val = rtab_obj_value(o);
	struct synode_member m;

	if (sn_pidkey_decode((const unsigned char *)rtab_obj_key(o) + v->skip,
			     rtab_obj_key_len(o) - v->skip, &m.pid) == 0)
		return 0;
	if (v->node != NULL && strcmp(v->node, m.pid.node) != 0)
		return 0;
	v->count++;
	if (v->fn != NULL) {
		m.meta = val + 1;
		m.meta_len = val->meta_len;
		m.time = val->time;
		v->fn(&m, v->arg);
	}
	return 0;
}

long
synode_members(struct synode *n, const char *scope, const void *group, size_t group_len,
	       const char *node, void (*fn)(const struct synode_member *m, void *arg),
	       void *arg)
{
	unsigned char gk[SN_GRPKEY_MAX];
	struct member_visit v = { n, 0, node, fn, arg, 0 };
	struct sn_scope *sc;

	if (n == NULL || group == NULL || group_len == 0 || group_len > SYNODE_NAME_MAX_LIMIT)
		return -EINVAL;
	v.skip = sn_grpkey(group, group_len, gk);
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	if (sc != NULL)
		(void)prefix_walk(sc->pg_by_name, gk, v.skip, visit_member, &v);
	urcu_memb_read_unlock();
	return sc == NULL ? -SYNODE_EINVALID_SCOPE : v.count;
}

long
synode_member_count(struct synode *n, const char *scope, const void *group,
		    size_t group_len, const char *node)
{
	return synode_members(n, scope, group, group_len, node, NULL, NULL);
}

int
synode_is_member(struct synode *n, const char *scope, const void *group, size_t group_len,
		 const struct synode_pid *pid)
{
	unsigned char k[MEMBER_KEY_MAX];
	struct sn_scope *sc;
	int rc;

	if (n == NULL || group == NULL || group_len == 0 || group_len > SYNODE_NAME_MAX_LIMIT ||
	    sn_check_pid(pid) != 0)
		return -EINVAL;
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	rc = sc == NULL ? -SYNODE_EINVALID_SCOPE
			: rtab_oset_lookup(sc->pg_by_name, k,
					   key_by_name(group, group_len, pid, k)) != NULL;
	urcu_memb_read_unlock();
	return rc;
}

struct names_visit {
	const char *node;
	void (*fn)(const void *group, size_t len, void *arg);
	void *arg;
	long count;
	unsigned char last[SYNODE_NAME_MAX_LIMIT];
	size_t last_len;
	bool have_last;
};

static int
visit_group_member(const struct rtab_obj *o, void *arg)
{
	struct names_visit *v = arg;
	unsigned char g[SYNODE_NAME_MAX_LIMIT];
	struct synode_pid pid;
	size_t glen, used;

	used = sn_grpkey_decode(rtab_obj_key(o), rtab_obj_key_len(o), g, &glen);
	if (used == 0 || sn_pidkey_decode((const unsigned char *)rtab_obj_key(o) + used,
					  rtab_obj_key_len(o) - used, &pid) == 0)
		return 0;
	if (v->node != NULL && strcmp(v->node, pid.node) != 0)
		return 0;
	if (v->have_last && v->last_len == glen && memcmp(v->last, g, glen) == 0)
		return 0;
	memcpy(v->last, g, glen);
	v->last_len = glen;
	v->have_last = true;
	v->count++;
	if (v->fn != NULL)
		v->fn(g, glen, v->arg);
	return 0;
}

long
synode_group_names(struct synode *n, const char *scope, const char *node,
		   void (*fn)(const void *group, size_t len, void *arg), void *arg)
{
	struct names_visit *v;
	struct sn_scope *sc;
	long count;

	if (n == NULL)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->node = node;
	v->fn = fn;
	v->arg = arg;
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	if (sc != NULL)
		(void)rtab_oset_foreach(sc->pg_by_name, visit_group_member, v);
	urcu_memb_read_unlock();
	count = sc == NULL ? -SYNODE_EINVALID_SCOPE : v->count;
	free(v);
	return count;
}

long
synode_group_count(struct synode *n, const char *scope, const char *node)
{
	return synode_group_names(n, scope, node, NULL, NULL);
}

/* ----------------------------------------------- embedding API (writes) */

struct pg_args {
	const char *scope;
	const void *group;
	size_t group_len;
	const struct synode_pid *pid;
	const void *meta;
	size_t meta_len;
};

static int
call_join(struct synode *n, void *p)
{
	struct pg_args *a = p;
	struct sn_origin o = sn_embedder(n);

	return sn_join(n, &o, a->scope, a->group, a->group_len, a->pid, a->meta,
		       a->meta_len);
}

static int
call_leave(struct synode *n, void *p)
{
	struct pg_args *a = p;
	struct sn_origin o = sn_embedder(n);

	return sn_leave(n, &o, a->scope, a->group, a->group_len, a->pid);
}

static int
call_update_member(struct synode *n, void *p)
{
	struct pg_args *a = p;
	struct sn_origin o = sn_embedder(n);

	return sn_update_member(n, &o, a->scope, a->group, a->group_len, a->pid,
				a->meta, a->meta_len);
}

int
synode_join(struct synode *n, const char *scope, const void *group, size_t group_len,
	    const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	struct pg_args a = { scope, group, group_len, pid, meta, meta_len };

	return n ? sn_call(n, call_join, &a) : -EINVAL;
}

int
synode_leave(struct synode *n, const char *scope, const void *group, size_t group_len,
	     const struct synode_pid *pid)
{
	struct pg_args a = { scope, group, group_len, pid, NULL, 0 };

	return n ? sn_call(n, call_leave, &a) : -EINVAL;
}

int
synode_update_member(struct synode *n, const char *scope, const void *group,
		     size_t group_len, const struct synode_pid *pid, const void *meta,
		     size_t meta_len)
{
	struct pg_args a = { scope, group, group_len, pid, meta, meta_len };

	return n ? sn_call(n, call_update_member, &a) : -EINVAL;
}
