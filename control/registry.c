/* SPDX-License-Identifier: MIT */
/*
 * The registry: names to processes, with Syn's semantics (syn_registry).
 *
 * Writes run on the control thread and read the entry they change into a
 * copy first: the control thread holds no read lock while it writes, so a
 * pointer into a table would not survive its own deletes.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

#define REG_VAL_MAX (sizeof(struct sn_reg_val) + SYNODE_NODE_NAME_MAX + SYNODE_META_MAX_LIMIT)

/* A registry entry copied out of the table. */
struct reg_copy {
	bool found;
	struct synode_pid pid;
	struct synode_time time;
	size_t meta_len;
	unsigned char meta[SYNODE_META_MAX_LIMIT];
};

static void
reg_read(struct sn_scope *sc, const void *name, size_t len, struct reg_copy *c)
{
	const struct rtab_obj *o;
	struct synode_reg_entry e;

	urcu_memb_read_lock();
	o = rtab_set_lookup(sc->reg_by_name, name, len);
	c->found = o != NULL;
	if (o != NULL) {
		sn_reg_decode(o, &e);
		c->pid = e.pid;
		c->time = e.time;
		c->meta_len = e.meta_len;
		memcpy(c->meta, e.meta, e.meta_len);
	}
	urcu_memb_read_unlock();
}

/* Writes (name -> pid, meta, time) in the registry tables. @p old_pid: the
 * pid that held the name before, if another one. Returns 0 or -ENOMEM.
 * reg_names first: a scan may see a name whose entry is not there yet (it
 * skips it), never an entry it cannot reach. */
static int
reg_put(struct sn_scope *sc, const void *name, size_t len, const struct synode_pid *pid,
	const void *meta, size_t meta_len, const struct synode_time *t,
	const struct synode_pid *old_pid)
{
	unsigned char val[REG_VAL_MAX] __attribute__((aligned(8)));
	unsigned char pk[SN_PIDKEY_MAX];
	struct sn_reg_val *v = (struct sn_reg_val *)val;
	size_t node_len = strlen(pid->node);
	int rc, bag_rc, names_rc;

	memset(v, 0, sizeof(*v));
	v->id = pid->id;
	v->time = *t;
	v->meta_len = (uint32_t)meta_len;
	v->node_len = (uint8_t)node_len;
	memcpy(val + sizeof(*v), pid->node, node_len);
	if (meta_len)
		memcpy(val + sizeof(*v) + node_len, meta, meta_len);
	names_rc = rtab_oset_insert_new(sc->reg_names, name, len, NULL, 0);
	if (names_rc < 0 && names_rc != -EEXIST)
		return names_rc;
	bag_rc = rtab_bag_insert(sc->reg_by_pid, pk, sn_pidkey(pid, pk), name, len);
	if (bag_rc < 0) {
		rc = bag_rc;
		goto undo_names;
	}
	rc = rtab_set_insert(sc->reg_by_name, name, len, val, sizeof(*v) + node_len + meta_len);
	if (rc < 0) {
		if (bag_rc == 0) /* it was not there before: take it out again */
			(void)rtab_bag_delete_object(sc->reg_by_pid, pk, sn_pidkey(pid, pk), name, len);
		goto undo_names;
	}
	if (old_pid != NULL)
		(void)rtab_bag_delete_object(sc->reg_by_pid, pk, sn_pidkey(old_pid, pk), name, len);
	return 0;
undo_names:
	if (names_rc == 0)
		(void)rtab_oset_delete(sc->reg_names, name, len);
	return rc;
}

static void
reg_del(struct sn_scope *sc, const void *name, size_t len, const struct synode_pid *pid)
{
	unsigned char pk[SN_PIDKEY_MAX];

	(void)rtab_set_delete(sc->reg_by_name, name, len);
	(void)rtab_oset_delete(sc->reg_names, name, len);
	(void)rtab_bag_delete_object(sc->reg_by_pid, pk, sn_pidkey(pid, pk), name, len);
}

static const struct synode_reason reason_normal = { SYNODE_REASON_NORMAL, 0 };
static const struct synode_reason reason_conflict = { SYNODE_REASON_CONFLICT, 0 };

/* ------------------------------------------------------------------ writes */

/* Registers, or updates the meta of the same pid. Control thread. */
static int
reg_register(struct synode *n, struct sn_scope *sc, const void *name, size_t len,
	     const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	struct reg_copy *old = malloc(sizeof(*old));
	struct synode_time t;
	int rc;

	if (old == NULL)
		return -ENOMEM;
	reg_read(sc, name, len, old);
	if (old->found && synode_pid_cmp(&old->pid, pid) != 0) {
		rc = -SYNODE_ETAKEN;
	} else if (old->found) {
		rc = 0;
		if (old->meta_len != meta_len || memcmp(old->meta, meta, meta_len) != 0) {
			t = sn_now(n);
			rc = reg_put(sc, name, len, pid, meta, meta_len, &t, NULL);
			if (rc == 0) {
				sn_emit(n, SYNODE_EV_REGISTRY_UPDATED, sc, name, len, pid, meta,
					meta_len, old->meta, old->meta_len, &reason_normal);
				sn_broadcast(n, SN_MSG_SYNC_REGISTER, sc, name, len, pid, meta, meta_len,
					  &t, &reason_normal, NULL);
			}
		}
	} else {
		rc = sn_proc_ref(n, pid->id);
		if (rc == 0) {
			t = sn_now(n);
			rc = reg_put(sc, name, len, pid, meta, meta_len, &t, NULL);
			if (rc != 0) {
				sn_proc_unref(n, pid->id);
			} else {
				sn_emit(n, SYNODE_EV_REGISTERED, sc, name, len, pid, meta, meta_len,
					NULL, 0, &reason_normal);
				sn_broadcast(n, SN_MSG_SYNC_REGISTER, sc, name, len, pid, meta, meta_len,
					  &t, &reason_normal, NULL);
			}
		}
	}
	free(old);
	return rc;
}

int
sn_register(struct synode *n, const struct sn_origin *o, const char *scope,
	    const void *name, size_t name_len, const struct synode_pid *pid,
	    const void *meta, size_t meta_len)
{
	struct sn_scope *sc = sn_scope_get(n, scope);
	int rc;

	if (sc == NULL)
		return -SYNODE_EINVALID_SCOPE;
	if ((rc = sn_check_name(n, name, name_len)) != 0 ||
	    (rc = sn_check_meta(n, meta, meta_len)) != 0 || (rc = sn_check_pid(pid)) != 0)
		return rc;
	if (n->p.strict && !sn_origin_owns(n, o, pid))
		return -SYNODE_ENOT_SELF;
	if (!sn_pid_is_local(n, pid))
		return sn_remote_write(n, o, SN_OP_REGISTER, sc, name, name_len, pid, meta,
				       meta_len);
	if (!sn_proc_alive(n, pid->id))
		return -SYNODE_ENOT_ALIVE;
	return reg_register(n, sc, name, name_len, pid, meta, meta_len);
}

int
sn_update(struct synode *n, const struct sn_origin *o, const char *scope,
	  const void *name, size_t name_len, const void *meta, size_t meta_len)
{
	struct sn_scope *sc = sn_scope_get(n, scope);
	struct reg_copy *cur;
	struct synode_pid pid;
	int rc;

	if (sc == NULL)
		return -SYNODE_EINVALID_SCOPE;
	if ((rc = sn_check_name(n, name, name_len)) != 0 ||
	    (rc = sn_check_meta(n, meta, meta_len)) != 0)
		return rc;
	cur = malloc(sizeof(*cur));
	if (cur == NULL)
		return -ENOMEM;
	reg_read(sc, name, name_len, cur);
	pid = cur->pid;
	rc = !cur->found ? -SYNODE_EUNDEFINED : 0;
	free(cur);
	if (rc != 0)
		return rc;
	if (n->p.strict && !sn_origin_owns(n, o, &pid))
		return -SYNODE_ENOT_SELF;
	if (!sn_pid_is_local(n, &pid))
		return sn_remote_write(n, o, SN_OP_UPDATE, sc, name, name_len, &pid, meta,
				       meta_len);
	return reg_register(n, sc, name, name_len, &pid, meta, meta_len);
}

/* Unregisters @p name, held by local @p pid (read into @p cur). */
static void
reg_unregister(struct synode *n, struct sn_scope *sc, const void *name, size_t name_len,
	       const struct reg_copy *cur)
{
	reg_del(sc, name, name_len, &cur->pid);
	sn_proc_unref(n, cur->pid.id);
	sn_emit(n, SYNODE_EV_UNREGISTERED, sc, name, name_len, &cur->pid, cur->meta,
		cur->meta_len, NULL, 0, &reason_normal);
	sn_broadcast(n, SN_MSG_SYNC_UNREGISTER, sc, name, name_len, &cur->pid, cur->meta,
		     cur->meta_len, NULL, &reason_normal, NULL);
}

int
sn_unregister(struct synode *n, const struct sn_origin *o, const char *scope,
	      const void *name, size_t name_len)
{
	struct sn_scope *sc = sn_scope_get(n, scope);
	struct reg_copy *cur;
	int rc;

	(void)o;
	if (sc == NULL)
		return -SYNODE_EINVALID_SCOPE;
	if ((rc = sn_check_name(n, name, name_len)) != 0)
		return rc;
	cur = malloc(sizeof(*cur));
	if (cur == NULL)
		return -ENOMEM;
	reg_read(sc, name, name_len, cur);
	if (!cur->found)
		rc = -SYNODE_EUNDEFINED;
	else if (!sn_pid_is_local(n, &cur->pid))
		rc = sn_remote_write(n, o, SN_OP_UNREGISTER, sc, name, name_len, &cur->pid,
				     NULL, 0);
	else
		reg_unregister(n, sc, name, name_len, cur);
	free(cur);
	return rc;
}

int
sn_reg_remote_exec(struct synode *n, const struct sn_origin *o, enum sn_req_op op,
		   const char *scope, const void *name, size_t name_len,
		   const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	struct sn_scope *sc = sn_scope_get(n, scope);
	struct reg_copy *cur;
	int rc;

	(void)o;
	if (sc == NULL)
		return -SYNODE_EINVALID_SCOPE;
	if ((rc = sn_check_name(n, name, name_len)) != 0 ||
	    (rc = sn_check_meta(n, meta, meta_len)) != 0)
		return rc;
	cur = malloc(sizeof(*cur));
	if (cur == NULL)
		return -ENOMEM;
	reg_read(sc, name, name_len, cur);
	if (!cur->found)
		rc = -SYNODE_EUNDEFINED;
	else if (synode_pid_cmp(&cur->pid, pid) != 0)
		rc = -SYNODE_ERACE_CONDITION; /* the name moved since the caller looked */
	else if (op == SN_OP_UPDATE)
		rc = reg_register(n, sc, name, name_len, pid, meta, meta_len);
	else
		reg_unregister(n, sc, name, name_len, cur);
	free(cur);
	return rc;
}

/* --------------------------------------------------------- peer messages */

static void
kill_local(struct synode *n, const struct synode_pid *pid)
{
	if (n->p.conflict_signal > 0 && pid->id < SYNODE_HANDLE_ID_BASE && pid->id > 0)
		(void)kill((pid_t)pid->id, n->p.conflict_signal);
}

/* Syn's resolve_conflict: @p local is ours, the message's entry is theirs. */
static void
reg_resolve(struct synode *n, struct sn_scope *sc, const struct sn_msg *m,
	    const struct reg_copy *local)
{
	struct synode_conflict mine = { local->pid, local->meta, local->meta_len, local->time };
	struct synode_conflict theirs = { m->pid, m->meta, m->meta_len, m->time };
	struct synode_time t;

	switch (sn_resolve(n->p.resolver, n->p.resolver_arg, sc->name, m->name, m->name_len,
			   &mine, &theirs)) {
	case SN_KEEP_REMOTE:
		sn_log(n, SYNODE_LOG_INFO, "scope %s: conflict on a name, keeping remote process",
		       sc->name);
		if (reg_put(sc, m->name, m->name_len, &m->pid, m->meta, m->meta_len, &m->time,
			    &local->pid) != 0)
			return;
		sn_proc_unref(n, local->pid.id);
		kill_local(n, &local->pid);
		sn_emit(n, SYNODE_EV_UNREGISTERED, sc, m->name, m->name_len, &local->pid,
			local->meta, local->meta_len, NULL, 0, &reason_conflict);
		sn_emit(n, SYNODE_EV_REGISTERED, sc, m->name, m->name_len, &m->pid, m->meta,
			m->meta_len, NULL, 0, &reason_conflict);
		break;
	case SN_KEEP_LOCAL:
		sn_log(n, SYNODE_LOG_INFO, "scope %s: conflict on a name, keeping local process",
		       sc->name);
		/* a newer stamp, sent to all (the other owner too) */
		t = sn_now(n);
		if (reg_put(sc, m->name, m->name_len, &local->pid, local->meta, local->meta_len,
			    &t, NULL) != 0)
			return;
		sn_broadcast(n, SN_MSG_SYNC_REGISTER, sc, m->name, m->name_len, &local->pid,
			  local->meta, local->meta_len, &t, &reason_conflict, NULL);
		break;
	case SN_KEEP_NEITHER:
		sn_log(n, SYNODE_LOG_INFO, "scope %s: conflict on a name, keeping neither",
		       sc->name);
		reg_del(sc, m->name, m->name_len, &local->pid);
		sn_proc_unref(n, local->pid.id);
		kill_local(n, &local->pid);
		sn_emit(n, SYNODE_EV_UNREGISTERED, sc, m->name, m->name_len, &local->pid,
			local->meta, local->meta_len, NULL, 0, &reason_conflict);
		/* the other owner removes its own when it resolves the same way */
		sn_broadcast(n, SN_MSG_SYNC_UNREGISTER, sc, m->name, m->name_len, &local->pid,
			  local->meta, local->meta_len, NULL, &reason_conflict, m->pid.node);
		break;
	}
}

void
sn_reg_sync_register(struct synode *n, struct sn_scope *sc, const struct sn_msg *m)
{
	struct reg_copy *have = malloc(sizeof(*have));
	struct synode_conflict h, in = { m->pid, m->meta, m->meta_len, m->time };

	if (have == NULL)
		return;
	reg_read(sc, m->name, m->name_len, have);
	if (have->found) {
		h.pid = have->pid;
		h.meta = have->meta;
		h.meta_len = have->meta_len;
		h.time = have->time;
	}
	switch (sn_sync_classify(have->found ? &h : NULL,
				 have->found && sn_pid_is_local(n, &have->pid), &in)) {
	case SN_SYNC_ADD:
		if (reg_put(sc, m->name, m->name_len, &m->pid, m->meta, m->meta_len, &m->time,
			    NULL) == 0)
			sn_emit(n, SYNODE_EV_REGISTERED, sc, m->name, m->name_len, &m->pid,
				m->meta, m->meta_len, NULL, 0, &m->reason);
		break;
	case SN_SYNC_REFRESH:
		if (reg_put(sc, m->name, m->name_len, &m->pid, m->meta, m->meta_len, &m->time,
			    NULL) == 0 &&
		    (have->meta_len != m->meta_len ||
		     memcmp(have->meta, m->meta, m->meta_len) != 0))
			sn_emit(n, SYNODE_EV_REGISTRY_UPDATED, sc, m->name, m->name_len, &m->pid,
				m->meta, m->meta_len, have->meta, have->meta_len, &m->reason);
		break;
	case SN_SYNC_RESOLVE:
		reg_resolve(n, sc, m, have);
		break;
	case SN_SYNC_REPLACE:
		if (reg_put(sc, m->name, m->name_len, &m->pid, m->meta, m->meta_len, &m->time,
			    &have->pid) != 0)
			break;
		sn_emit(n, SYNODE_EV_UNREGISTERED, sc, m->name, m->name_len, &have->pid,
			have->meta, have->meta_len, NULL, 0, &m->reason);
		sn_emit(n, SYNODE_EV_REGISTERED, sc, m->name, m->name_len, &m->pid, m->meta,
			m->meta_len, NULL, 0, &m->reason);
		break;
	case SN_SYNC_IGNORE:
		break;
	}
	free(have);
}

void
sn_reg_sync_unregister(struct synode *n, struct sn_scope *sc, const struct sn_msg *m)
{
	struct reg_copy *have = malloc(sizeof(*have));

	if (have == NULL)
		return;
	reg_read(sc, m->name, m->name_len, have);
	if (have->found && synode_pid_cmp(&have->pid, &m->pid) == 0) {
		reg_del(sc, m->name, m->name_len, &have->pid);
		if (sn_pid_is_local(n, &have->pid))
			sn_proc_unref(n, have->pid.id);
		sn_emit(n, SYNODE_EV_UNREGISTERED, sc, m->name, m->name_len, &have->pid,
			have->meta, have->meta_len, NULL, 0, &m->reason);
	}
	free(have);
}

/* Names of a pid, copied out of reg_by_pid. */
struct name_list {
	size_t count, cap;
	struct { size_t len; unsigned char *bytes; } *v;
};

static int
collect_name(const struct rtab_obj *o, void *arg)
{
	struct name_list *l = arg;
	unsigned char *b;

	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	b = malloc(rtab_obj_value_len(o));
	if (b == NULL)
		return -ENOMEM;
	memcpy(b, rtab_obj_value(o), rtab_obj_value_len(o));
	l->v[l->count].bytes = b;
	l->v[l->count].len = rtab_obj_value_len(o);
	l->count++;
	return 0;
}

void
sn_reg_purge_pid(struct synode *n, struct sn_scope *sc, const struct synode_pid *pid,
		 const struct synode_reason *reason)
{
	unsigned char pk[SN_PIDKEY_MAX];
	struct name_list l = { 0 };
	struct reg_copy *have = malloc(sizeof(*have));

	if (have == NULL)
		return;
	urcu_memb_read_lock();
	(void)rtab_bag_lookup(sc->reg_by_pid, pk, sn_pidkey(pid, pk), collect_name, &l);
	urcu_memb_read_unlock();
	for (size_t i = 0; i < l.count; i++) {
		reg_read(sc, l.v[i].bytes, l.v[i].len, have);
		if (have->found && synode_pid_cmp(&have->pid, pid) == 0) {
			reg_del(sc, l.v[i].bytes, l.v[i].len, pid);
			sn_emit(n, SYNODE_EV_UNREGISTERED, sc, l.v[i].bytes, l.v[i].len, pid,
				have->meta, have->meta_len, NULL, 0, reason);
			sn_broadcast(n, SN_MSG_SYNC_UNREGISTER, sc, l.v[i].bytes, l.v[i].len, pid,
				  have->meta, have->meta_len, NULL, reason, NULL);
		} else {
			(void)rtab_bag_delete_object(sc->reg_by_pid, pk, sn_pidkey(pid, pk),
						     l.v[i].bytes, l.v[i].len);
		}
		free(l.v[i].bytes);
	}
	free(l.v);
	free(have);
}

/* Registry walks, all of it or one node's (foreach, counts, purges). */
struct reg_visit {
	const char *node;
	void (*fn)(const struct synode_reg_entry *e, void *arg);
	void *arg;
	long count;
};

static int
visit_reg(const struct rtab_obj *o, void *arg)
{
	struct reg_visit *v = arg;
	struct synode_reg_entry e;

	sn_reg_decode(o, &e);
	if (v->node != NULL && strcmp(v->node, e.pid.node) != 0)
		return 0;
	v->count++;
	if (v->fn != NULL)
		v->fn(&e, v->arg);
	return 0;
}

/* Names of one node's registrations, copied out of reg_by_name. */
struct node_names {
	struct name_list l;
	int err;
};

static void
collect_node_name(const struct synode_reg_entry *e, void *arg)
{
	struct node_names *nn = arg;

	if (nn->err != 0)
		return;
	if (nn->l.count == nn->l.cap) {
		size_t cap = nn->l.cap ? 2 * nn->l.cap : 64;
		void *v = realloc(nn->l.v, cap * sizeof(*nn->l.v));

		if (v == NULL) {
			nn->err = -ENOMEM;
			return;
		}
		nn->l.v = v;
		nn->l.cap = cap;
	}
	nn->l.v[nn->l.count].bytes = malloc(e->name_len);
	if (nn->l.v[nn->l.count].bytes == NULL) {
		nn->err = -ENOMEM;
		return;
	}
	memcpy(nn->l.v[nn->l.count].bytes, e->name, e->name_len);
	nn->l.v[nn->l.count].len = e->name_len;
	nn->l.count++;
}

void
sn_reg_purge_node(struct synode *n, struct sn_scope *sc, const char *node,
		  const struct synode_reason *reason)
{
	struct node_names nn = { 0 };
	struct reg_visit v = { node, collect_node_name, &nn, 0 };
	struct reg_copy *have = malloc(sizeof(*have));

	if (have == NULL)
		return;
	urcu_memb_read_lock();
	rtab_set_foreach(sc->reg_by_name, visit_reg, &v);
	urcu_memb_read_unlock();
	if (nn.err != 0)
		sn_log(n, SYNODE_LOG_ERROR, "scope %s: purging node %s: out of memory",
		       sc->name, node);
	for (size_t i = 0; i < nn.l.count; i++) {
		const void *name = nn.l.v[i].bytes;
		size_t len = nn.l.v[i].len;

		reg_read(sc, name, len, have);
		if (have->found && strcmp(have->pid.node, node) == 0) {
			reg_del(sc, name, len, &have->pid);
			sn_emit(n, SYNODE_EV_UNREGISTERED, sc, name, len, &have->pid, have->meta,
				have->meta_len, NULL, 0, reason);
		}
		free(nn.l.v[i].bytes);
	}
	free(nn.l.v);
	free(have);
}

struct send_local {
	struct synode *n;
	struct sn_scope *sc;
	uint64_t mask;
};

static void
send_local_reg(const struct synode_reg_entry *e, void *arg)
{
	static const struct synode_reason up = { SYNODE_REASON_NODE_UP, 0 };
	struct send_local *sl = arg;
	struct sn_msg m = {
		.type = SN_MSG_SYNC_REGISTER,
		.scope = sl->sc->name,
		.name = e->name,
		.name_len = e->name_len,
		.pid = e->pid,
		.meta = e->meta,
		.meta_len = e->meta_len,
		.time = e->time,
		.reason = up,
	};

	sn_peer_send_mask(sl->n, sl->mask, &m);
}

void
sn_reg_send_local(struct synode *n, struct sn_scope *sc, uint64_t mask)
{
	struct send_local sl = { n, sc, mask };
	struct reg_visit v = { n->name, send_local_reg, &sl, 0 };

	/* Sending only copies bytes: fine inside the read-side section. */
	urcu_memb_read_lock();
	rtab_set_foreach(sc->reg_by_name, visit_reg, &v);
	urcu_memb_read_unlock();
}

/* ------------------------------------------------------------------- reads */

int
synode_lookup(struct synode *n, const char *scope, const void *name, size_t name_len,
	      struct synode_pid *pid, void *meta, size_t *meta_len)
{
	const struct rtab_obj *o;
	struct synode_reg_entry e;
	struct sn_scope *sc;
	int rc = 0;

	if (n == NULL || name == NULL || name_len == 0 || (meta != NULL && meta_len == NULL))
		return -EINVAL;
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	if (sc == NULL) {
		rc = -SYNODE_EINVALID_SCOPE;
		goto out;
	}
	o = rtab_set_lookup(sc->reg_by_name, name, name_len);
	if (o == NULL) {
		rc = -SYNODE_EUNDEFINED;
		goto out;
	}
	sn_reg_decode(o, &e);
	if (!sn_pid_maybe_alive(n, &e.pid)) {
		rc = -SYNODE_EUNDEFINED;
		goto out;
	}
	if (pid != NULL)
		*pid = e.pid;
	if (meta_len != NULL) {
		if (meta != NULL)
			memcpy(meta, e.meta, e.meta_len < *meta_len ? e.meta_len : *meta_len);
		*meta_len = e.meta_len;
	}
out:
	urcu_memb_read_unlock();
	return rc;
}

long
synode_registry_foreach(struct synode *n, const char *scope, const char *node,
			void (*fn)(const struct synode_reg_entry *e, void *arg), void *arg)
{
	struct reg_visit v = { node, fn, arg, 0 };
	struct sn_scope *sc;

	if (n == NULL)
		return -EINVAL;
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	if (sc != NULL)
		rtab_set_foreach(sc->reg_by_name, visit_reg, &v);
	urcu_memb_read_unlock();
	return sc == NULL ? -SYNODE_EINVALID_SCOPE : v.count;
}

long
synode_registry_count(struct synode *n, const char *scope, const char *node)
{
	struct sn_scope *sc;
	long count;

	if (node != NULL)
		return synode_registry_foreach(n, scope, node, NULL, NULL);
	if (n == NULL)
		return -EINVAL;
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	count = sc ? (long)rtab_set_count(sc->reg_by_name) : -SYNODE_EINVALID_SCOPE;
	urcu_memb_read_unlock();
	return count;
}

/* ----------------------------------------------- embedding API (writes) */

struct reg_args {
	const char *scope;
	const void *name;
	size_t name_len;
	const struct synode_pid *pid;
	const void *meta;
	size_t meta_len;
};

static int
call_register(struct synode *n, void *p)
{
	struct reg_args *a = p;
	struct sn_origin o = sn_embedder(n);

	return sn_register(n, &o, a->scope, a->name, a->name_len, a->pid, a->meta,
			   a->meta_len);
}

static int
call_update(struct synode *n, void *p)
{
	struct reg_args *a = p;
	struct sn_origin o = sn_embedder(n);

	return sn_update(n, &o, a->scope, a->name, a->name_len, a->meta, a->meta_len);
}

static int
call_unregister(struct synode *n, void *p)
{
	struct reg_args *a = p;
	struct sn_origin o = sn_embedder(n);

	return sn_unregister(n, &o, a->scope, a->name, a->name_len);
}

int
synode_register(struct synode *n, const char *scope, const void *name, size_t name_len,
		const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	struct reg_args a = { scope, name, name_len, pid, meta, meta_len };

	return n ? sn_call(n, call_register, &a) : -EINVAL;
}

int
synode_update(struct synode *n, const char *scope, const void *name, size_t name_len,
	      const void *meta, size_t meta_len)
{
	struct reg_args a = { scope, name, name_len, NULL, meta, meta_len };

	return n ? sn_call(n, call_update, &a) : -EINVAL;
}

int
synode_unregister(struct synode *n, const char *scope, const void *name, size_t name_len)
{
	struct reg_args a = { scope, name, name_len, NULL, NULL, 0 };

	return n ? sn_call(n, call_unregister, &a) : -EINVAL;
}
