/* SPDX-License-Identifier: MIT */
/*
 * Text forms and orders of synode.h's types, shared by the node and the
 * client library (which links this file without the rest of control/).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synode.h"

static const char *const syn_errors[] = {
	[SYNODE_EUNDEFINED - SYNODE_EUNDEFINED] = "undefined",
	[SYNODE_ETAKEN - SYNODE_EUNDEFINED] = "taken",
	[SYNODE_ENOT_ALIVE - SYNODE_EUNDEFINED] = "not_alive",
	[SYNODE_ENOT_SELF - SYNODE_EUNDEFINED] = "not_self",
	[SYNODE_ENOT_IN_GROUP - SYNODE_EUNDEFINED] = "not_in_group",
	[SYNODE_ERACE_CONDITION - SYNODE_EUNDEFINED] = "race_condition",
	[SYNODE_EINVALID_SCOPE - SYNODE_EUNDEFINED] = "invalid_scope",
	[SYNODE_EUNREACHABLE - SYNODE_EUNDEFINED] = "unreachable",
};

const char *
synode_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= SYNODE_EUNDEFINED && err < SYNODE_ERROR_END)
		return syn_errors[err - SYNODE_EUNDEFINED];
	return strerror(err);
}

int
synode_pid_format(const struct synode_pid *pid, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%" PRIu64, pid->node, pid->id);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int
synode_pid_parse(const char *text, struct synode_pid *pid)
{
	const char *slash = text ? strrchr(text, '/') : NULL;
	size_t nlen;
	char *end;
	unsigned long long id;

	if (slash == NULL || pid == NULL)
		return -EINVAL;
	nlen = (size_t)(slash - text);
	if (nlen == 0 || nlen > SYNODE_NODE_NAME_MAX || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	id = strtoull(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	memcpy(pid->node, text, nlen);
	pid->node[nlen] = '\0';
	pid->id = id;
	return 0;
}

int
synode_pid_cmp(const struct synode_pid *a, const struct synode_pid *b)
{
	int c = strcmp(a->node, b->node);

	if (c != 0)
		return c;
	return (a->id > b->id) - (a->id < b->id);
}

int
synode_reason_format(const struct synode_reason *r, char *buf, size_t size)
{
	const char *sig;
	int n;

	switch (r->kind) {
	case SYNODE_REASON_NORMAL:
		n = snprintf(buf, size, "normal");
		break;
	case SYNODE_REASON_EXIT:
		n = snprintf(buf, size, "exit:%d", r->code);
		break;
	case SYNODE_REASON_SIGNAL:
		sig = sigabbrev_np(r->code);
		n = sig ? snprintf(buf, size, "signal:%s", sig)
			: snprintf(buf, size, "signal:%d", r->code);
		break;
	case SYNODE_REASON_NODE_UP:
		n = snprintf(buf, size, "remote_scope_node_up");
		break;
	case SYNODE_REASON_NODE_DOWN:
		n = snprintf(buf, size, "remote_scope_node_down");
		break;
	case SYNODE_REASON_CONFLICT:
		n = snprintf(buf, size, "conflict_resolution");
		break;
	default:
		n = snprintf(buf, size, "undefined");
		break;
	}
	return n;
}

const char *
synode_event_name(enum synode_event_kind kind)
{
	switch (kind) {
	case SYNODE_EV_REGISTERED: return "registered";
	case SYNODE_EV_REGISTRY_UPDATED: return "registry_updated";
	case SYNODE_EV_UNREGISTERED: return "unregistered";
	case SYNODE_EV_JOINED: return "joined";
	case SYNODE_EV_MEMBER_UPDATED: return "member_updated";
	case SYNODE_EV_LEFT: return "left";
	}
	return "unknown";
}
