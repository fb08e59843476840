/* SPDX-License-Identifier: MIT */
/*
 * The hybrid logical clock and the registry merge rules (sync_internal.h).
 */
#include <time.h>

#include "sync_internal.h"

int
sn_time_cmp(const struct synode_time *a, const struct synode_time *b)
{
	if (a->wall_ns != b->wall_ns)
		return a->wall_ns < b->wall_ns ? -1 : 1;
	return (a->logical > b->logical) - (a->logical < b->logical);
}

uint64_t
sn_phys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct synode_time
sn_hlc_now(struct sn_hlc *c, uint64_t phys_ns)
{
	if (phys_ns > c->last.wall_ns) {
		c->last.wall_ns = phys_ns;
		c->last.logical = 0;
	} else {
		c->last.logical++;
	}
	return c->last;
}

void
sn_hlc_recv(struct sn_hlc *c, const struct synode_time *r, uint64_t phys_ns)
{
	uint64_t wall = c->last.wall_ns;

	if (r->wall_ns > wall)
		wall = r->wall_ns;
	if (phys_ns > wall) {
		c->last.wall_ns = phys_ns;
		c->last.logical = 0;
		return;
	}
	if (wall == c->last.wall_ns && wall == r->wall_ns)
		c->last.logical = (c->last.logical > r->logical ? c->last.logical
								: r->logical) + 1;
	else if (wall == c->last.wall_ns)
		c->last.logical++;
	else
		c->last.logical = r->logical + 1;
	c->last.wall_ns = wall;
}

enum sn_sync_action
sn_sync_classify(const struct synode_conflict *have, bool have_local,
		 const struct synode_conflict *in)
{
	if (have == NULL)
		return SN_SYNC_ADD;
	if (synode_pid_cmp(&have->pid, &in->pid) == 0)
		return SN_SYNC_REFRESH;
	if (have_local)
		return SN_SYNC_RESOLVE;
	if (sn_time_cmp(&have->time, &in->time) < 0)
		return SN_SYNC_REPLACE;
	return SN_SYNC_IGNORE;
}

enum sn_keep
sn_resolve(synode_resolve_fn fn, void *arg, const char *scope, const void *name,
	   size_t name_len, const struct synode_conflict *local,
	   const struct synode_conflict *remote)
{
	int c;

	if (fn != NULL) {
		switch (fn(scope, name, name_len, local, remote, arg)) {
		case 0: return SN_KEEP_LOCAL;
		case 1: return SN_KEEP_REMOTE;
		default: return SN_KEEP_NEITHER;
		}
	}
	c = sn_time_cmp(&local->time, &remote->time);
	if (c == 0)
		c = synode_pid_cmp(&local->pid, &remote->pid);
	return c > 0 ? SN_KEEP_LOCAL : SN_KEEP_REMOTE;
}
