/* SPDX-License-Identifier: MIT */
/*
 * The body of every flavour_*.c: included after one flavour's header, whose
 * map macros turn the generic rcu_* names below into that flavour's
 * functions. The including file defines PERF_FLAVOUR_NAME (a string) and
 * PERF_FLAVOUR_SYM (the exported table); PERF_FLAVOUR_INLINE (set by meson
 * together with _LGPL_SOURCE) appends "-inline" / "_inline" to both.
 */
#ifndef PERF_FLAVOUR_IMPL_H
#define PERF_FLAVOUR_IMPL_H

#include "flavour.h"

#define PERF_CAT_(a, b) a##b
#define PERF_CAT(a, b) PERF_CAT_(a, b)

#ifdef PERF_FLAVOUR_INLINE
#define PERF_TABLE PERF_CAT(PERF_FLAVOUR_SYM, _inline)
#define PERF_NAME PERF_FLAVOUR_NAME "-inline"
#else
#define PERF_TABLE PERF_FLAVOUR_SYM
#define PERF_NAME PERF_FLAVOUR_NAME
#endif

/* Quiescent states of qsbr readers: one per this many lookups. */
#define PERF_QS_EVERY 256u

/*
 * The map macros may expand to inline functions or to macros, so each one
 * is wrapped in a real function for the table.
 */
static void
flav_register(void)
{
	rcu_register_thread();
}

static void
flav_unregister(void)
{
	rcu_unregister_thread();
}

static void
flav_quiescent(void)
{
	rcu_quiescent_state();
}

static void
flav_offline(void)
{
	rcu_thread_offline();
}

static void
flav_online(void)
{
	rcu_thread_online();
}

static void
flav_barrier(void)
{
	rcu_barrier();
}

static uint64_t
flav_set_lookup_run(const struct rtab_set *s, const char *keys, size_t key_len,
		    size_t nkeys, size_t *pos, uint64_t n)
{
	uint64_t found = 0;
	size_t p = *pos;

	for (uint64_t i = 0; i < n; i++) {
		rcu_read_lock();
		found += rtab_set_lookup(s, keys + p * key_len, key_len) != NULL;
		rcu_read_unlock();
		if (++p == nkeys)
			p = 0;
		if ((i + 1) % PERF_QS_EVERY == 0)
			rcu_quiescent_state();
	}
	*pos = p;
	return found;
}

const struct perf_flavour PERF_TABLE = {
	.name = PERF_NAME,
	.flavor = &rcu_flavor,
	.register_thread = flav_register,
	.unregister_thread = flav_unregister,
	.quiescent_state = flav_quiescent,
	.thread_offline = flav_offline,
	.thread_online = flav_online,
	.barrier = flav_barrier,
	.set_lookup_run = flav_set_lookup_run,
};

#endif /* PERF_FLAVOUR_IMPL_H */
