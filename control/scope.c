/* SPDX-License-Identifier: MIT */
/*
 * Scopes and the encodings of their tables (core_internal.h).
 *
 * The scopes of a node are themselves an rtab_set (name -> struct sn_scope
 * pointer), so any thread finds a scope without a lock; a scope is never
 * removed while the node runs, so the pointer stays valid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

size_t
sn_pidkey(const struct synode_pid *pid, unsigned char *out)
{
	size_t len = strnlen(pid->node, SYNODE_NODE_NAME_MAX);

	memcpy(out, pid->node, len);
	out[len] = 0;
	for (int i = 0; i < 8; i++)
		out[len + 1 + i] = (unsigned char)(pid->id >> (56 - 8 * i));
	return len + 9;
}

size_t
sn_pidkey_decode(const unsigned char *k, size_t len, struct synode_pid *pid)
{
	const unsigned char *nul = memchr(k, 0, len < SYNODE_NODE_NAME_MAX + 1 ?
					  len : SYNODE_NODE_NAME_MAX + 1);
	size_t nlen;

	if (nul == NULL)
		return 0;
	nlen = (size_t)(nul - k);
	if (len < nlen + 9)
		return 0;
	memcpy(pid->node, k, nlen);
	pid->node[nlen] = '\0';
	pid->id = 0;
	for (int i = 0; i < 8; i++)
		pid->id = (pid->id << 8) | k[nlen + 1 + i];
	return nlen + 9;
}

size_t
sn_grpkey(const void *group, size_t len, unsigned char *out)
{
	const unsigned char *g = group;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		out[o++] = g[i];
		if (g[i] == 0)
			out[o++] = 0xff;
	}
	out[o++] = 0;
	out[o++] = 1;
	return o;
}

size_t
sn_grpkey_decode(const unsigned char *k, size_t len, unsigned char *out, size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if (k[i] != 0) {
			if (o == SYNODE_NAME_MAX_LIMIT)
				return 0;
			out[o++] = k[i];
			continue;
		}
		if (k[i + 1] == 1) {
			*out_len = o;
			return i + 2;
		}
		if (k[i + 1] != 0xff || o == SYNODE_NAME_MAX_LIMIT)
			return 0;
		out[o++] = 0;
		i++;
	}
	return 0;
}

void
sn_reg_decode(const struct rtab_obj *o, struct synode_reg_entry *e)
{
	const struct sn_reg_val *v = rtab_obj_value(o);
	const char *node = (const char *)(v + 1);

	e->name = rtab_obj_key(o);
	e->name_len = rtab_obj_key_len(o);
	e->pid.id = v->id;
	memcpy(e->pid.node, node, v->node_len);
	e->pid.node[v->node_len] = '\0';
	e->meta = node + v->node_len;
	e->meta_len = v->meta_len;
	e->time = v->time;
}

struct sn_scope *
sn_scope_find(struct synode *n, const char *name)
{
	const struct rtab_obj *o;
	struct sn_scope *sc;
	size_t len;

	if (name == NULL)
		return NULL;
	len = strnlen(name, SYNODE_SCOPE_NAME_MAX + 1);
	o = rtab_set_lookup(n->scopes, name, len);
	if (o == NULL)
		return NULL;
	memcpy(&sc, rtab_obj_value(o), sizeof(sc));
	return sc;
}

struct sn_scope *
sn_scope_get(struct synode *n, const char *name)
{
	struct sn_scope *sc;

	urcu_memb_read_lock();
	sc = sn_scope_find(n, name);
	urcu_memb_read_unlock();
	return sc;
}

static void
scope_free(struct sn_scope *sc)
{
	rtab_set_free(sc->reg_by_name);
	rtab_bag_free(sc->reg_by_pid);
	rtab_oset_free(sc->pg_by_name);
	rtab_oset_free(sc->pg_by_pid);
	rtab_oset_free(sc->reg_names);
	free(sc);
}

static bool
valid_scope_name(const char *s)
{
	size_t len = s ? strnlen(s, SYNODE_SCOPE_NAME_MAX + 1) : 0;

	if (len == 0 || len > SYNODE_SCOPE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '/' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

int
sn_add_scope(struct synode *n, const char *scope)
{
	struct rtab_params tp = { 0 };
	struct sn_scope *sc;
	int rc;

	if (!valid_scope_name(scope))
		return -EINVAL;
	urcu_memb_read_lock();
	sc = sn_scope_find(n, scope);
	urcu_memb_read_unlock();
	if (sc != NULL)
		return 0;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	strcpy(sc->name, scope);
	tp.name = sc->name;
	sc->reg_by_name = rtab_set_create(&tp);
	sc->reg_by_pid = rtab_bag_create(&tp);
	sc->pg_by_name = rtab_oset_create(&tp);
	sc->pg_by_pid = rtab_oset_create(&tp);
	sc->reg_names = rtab_oset_create(&tp);
	if (sc->reg_by_name == NULL || sc->reg_by_pid == NULL || sc->pg_by_name == NULL ||
	    sc->pg_by_pid == NULL || sc->reg_names == NULL) {
		scope_free(sc);
		return -ENOMEM;
	}
	rc = rtab_set_insert_new(n->scopes, scope, strlen(scope), &sc, sizeof(sc));
	if (rc < 0) {
		scope_free(sc);
		return rc;
	}
	sn_log(n, SYNODE_LOG_INFO, "serving scope %s", scope);
	sn_cluster_scope_added(n, sc);
	return 0;
}

static int
call_add_scope(struct synode *n, void *args)
{
	return sn_add_scope(n, args);
}

int
synode_add_scope(struct synode *n, const char *scope)
{
	if (n == NULL || !valid_scope_name(scope))
		return -EINVAL;
	return sn_call(n, call_add_scope, (void *)(uintptr_t)scope);
}

struct scopes_ctx {
	void (*fn)(const char *scope, void *arg);
	void *arg;
	int count;
	struct sn_scope **all;
};

static int
visit_scope(const struct rtab_obj *o, void *arg)
{
	struct scopes_ctx *c = arg;
	struct sn_scope *sc;

	memcpy(&sc, rtab_obj_value(o), sizeof(sc));
	if (c->fn != NULL)
		c->fn(sc->name, c->arg);
	if (c->all != NULL)
		c->all[c->count] = sc;
	c->count++;
	return 0;
}

int
synode_scopes(struct synode *n, void (*fn)(const char *scope, void *arg), void *arg)
{
	struct scopes_ctx c = { fn, arg, 0, NULL };

	if (n == NULL)
		return -EINVAL;
	urcu_memb_read_lock();
	rtab_set_foreach(n->scopes, visit_scope, &c);
	urcu_memb_read_unlock();
	return c.count;
}

struct sn_scope **
sn_scopes_all(struct synode *n, size_t *count)
{
	struct scopes_ctx c = { NULL, NULL, 0, NULL };

	c.all = calloc(rtab_set_count(n->scopes) + 1, sizeof(*c.all));
	if (c.all == NULL) {
		*count = 0;
		return NULL;
	}
	urcu_memb_read_lock();
	rtab_set_foreach(n->scopes, visit_scope, &c);
	urcu_memb_read_unlock();
	*count = (size_t)c.count;
	return c.all;
}

void
sn_scopes_free(struct synode *n)
{
	struct sn_scope **all;
	size_t count;

	if (n->scopes == NULL)
		return;
	all = sn_scopes_all(n, &count);
	for (size_t i = 0; i < count; i++)
		scope_free(all[i]);
	free(all);
	rtab_set_free(n->scopes);
	n->scopes = NULL;
}
