/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram of the load generators (tools/synode_loadgen.c,
 * perf/lookup_udp_client.c): nanoseconds in log-linear buckets, 2^7
 * buckets per power of two (under 1% error) up to 2^41 ns, percentiles
 * read back in microseconds. Add with h[lat_hist_index(ns)]++.
 */
#ifndef SYNODE_LAT_HIST_H
#define SYNODE_LAT_HIST_H

#include <stdint.h>

#define LAT_HIST_SUB_BITS 7
#define LAT_HIST_N ((41 - LAT_HIST_SUB_BITS) << LAT_HIST_SUB_BITS)

static inline unsigned
lat_hist_index(uint64_t v)
{
	unsigned msb, i;

	if (v < (1u << LAT_HIST_SUB_BITS))
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	if (msb > 40)
		return LAT_HIST_N - 1;
	i = ((msb - LAT_HIST_SUB_BITS + 1) << LAT_HIST_SUB_BITS) +
	    (unsigned)((v >> (msb - LAT_HIST_SUB_BITS)) & ((1u << LAT_HIST_SUB_BITS) - 1));
	return i < LAT_HIST_N ? i : LAT_HIST_N - 1;
}

/* The lowest value of bucket @p i. */
static inline uint64_t
lat_hist_value(unsigned i)
{
	unsigned e;

	if (i < (1u << LAT_HIST_SUB_BITS))
		return i;
	e = (i >> LAT_HIST_SUB_BITS) - 1;
	return ((uint64_t)((1u << LAT_HIST_SUB_BITS) | (i & ((1u << LAT_HIST_SUB_BITS) - 1))))
	       << e;
}

/* Percentile @p q (0..1) of the @p total samples in @p h, in microseconds. */
static inline double
lat_hist_pct_us(const uint64_t *h, uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), seen = 0;

	if (total == 0)
		return 0;
	if (want >= total)
		want = total - 1;
	for (unsigned i = 0; i < LAT_HIST_N; i++) {
		seen += h[i];
		if (seen > want)
			return (double)lat_hist_value(i) / 1e3;
	}
	return (double)lat_hist_value(LAT_HIST_N - 1) / 1e3;
}

#endif /* SYNODE_LAT_HIST_H */
