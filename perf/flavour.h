/* SPDX-License-Identifier: MIT */
/*
 * perf_flavour: the read side of one liburcu flavour, for rtab_bench.
 *
 * liburcu's flavour headers map the generic rcu_* names to one flavour with
 * macros, so two flavours cannot share a translation unit. Each flavour_*.c
 * includes its own header and exports one of these tables; rtab_bench.cc
 * (C++) calls through it and never includes a flavour header besides
 * urcu-memb's.
 *
 * Every flavour_*.c is built twice: calling liburcu's read_lock/read_unlock
 * functions (what a program gets by default), and with _LGPL_SOURCE, where
 * they are inlined (the "_inline" tables).
 */
#ifndef PERF_FLAVOUR_H
#define PERF_FLAVOUR_H

#include <stddef.h>
#include <stdint.h>

#include "rtab_set.h"

#ifdef __cplusplus
extern "C" {
#endif

struct perf_flavour {
	const char *name;               /**< "memb", "mb-inline", ... */
	const struct rcu_flavor_struct *flavor;  /**< for rtab_params.flavor */
	void (*register_thread)(void);
	void (*unregister_thread)(void);
	/** qsbr: report a quiescent state; no-op for the other flavours. */
	void (*quiescent_state)(void);
	/** qsbr: go offline around a sleep; no-op for the other flavours. */
	void (*thread_offline)(void);
	void (*thread_online)(void);
	/** Waits for every call_rcu callback queued so far. */
	void (*barrier)(void);
	/**
	 * Looks up @p n keys of the @p nkeys keys packed @p key_len bytes apart
	 * in @p keys, from index *pos on (wrapping), one read-side critical
	 * section per lookup; qsbr reports a quiescent state every 256
	 * lookups. Advances *pos; returns how many were found.
	 * Caller thread must be registered with this flavour.
	 */
	uint64_t (*set_lookup_run)(const struct rtab_set *s, const char *keys,
				   size_t key_len, size_t nkeys, size_t *pos,
				   uint64_t n);
};

extern const struct perf_flavour perf_flavour_memb;
extern const struct perf_flavour perf_flavour_mb;
extern const struct perf_flavour perf_flavour_qsbr;
extern const struct perf_flavour perf_flavour_memb_inline;
extern const struct perf_flavour perf_flavour_mb_inline;
extern const struct perf_flavour perf_flavour_qsbr_inline;

#ifdef __cplusplus
}
#endif

#endif /* PERF_FLAVOUR_H */
