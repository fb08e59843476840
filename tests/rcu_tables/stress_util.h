/* SPDX-License-Identifier: MIT */
/*
 * What the stress tests share:
 *   - self-checking values: a header (key id, aux, version, length, checksum)
 *     and a payload, the checksum over every other byte, so that a reader
 *     that sees a torn object, an object of another key, or freed memory
 *     (the test allocator poisons it) fails at once;
 *   - keys that carry their id in their first 4 bytes (big-endian, so the
 *     byte order of keys is the order of ids) and 0..4 more bytes;
 *   - the common options (--seconds, --yield, --readers), the yield
 *     probability of the library's RTAB_DEBUG_YIELD build, the stop flag.
 */
#ifndef STRESS_UTIL_H
#define STRESS_UTIL_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <urcu/urcu-memb.h>

#include "rtab.h"
#include "test_alloc.h"
#include "test_util.h"

/* Defined by the library when built with -DRTAB_DEBUG_YIELD (the
 * rcu_tables_yield variant the stress tests link with). */
extern unsigned rtab_debug_yield_permille;

struct sv_hdr {
	uint32_t id;
	uint32_t aux;
	uint32_t ver;
	uint32_t len;
	uint64_t sum;
};

#define SV_MAX 4096

static inline uint64_t
sv_sum(const unsigned char *v, size_t len)
{
	uint64_t h = 0x243f6a8885a308d3u;

	/* Everything but the sum field itself. */
	for (size_t i = 0; i < len; i++)
		if (i < offsetof(struct sv_hdr, sum) || i >= sizeof(struct sv_hdr))
			h = (h ^ v[i]) * 0x100000001b3u;
	return tu_mix64(h);
}

/* Writes the value of (id, aux, ver) into @p buf; returns its length
 * (24..~SV_MAX bytes, varying with the version). */
static inline size_t
sv_make(unsigned char *buf, uint32_t id, uint32_t aux, uint32_t ver)
{
	uint64_t h = tu_mix64(((uint64_t)id << 32) ^ ((uint64_t)aux << 20) ^ ver);
	size_t len = sizeof(struct sv_hdr) + (size_t)(h % 97 == 0 ? 3000 + h % 1000 : h % 120);
	struct sv_hdr hdr = { id, aux, ver, (uint32_t)len, 0 };

	memcpy(buf, &hdr, sizeof(hdr));
	for (size_t i = sizeof(hdr); i < len; i++)
		buf[i] = (unsigned char)(h >> (i % 8 * 8)) ^ (unsigned char)i;
	hdr.sum = sv_sum(buf, len);
	memcpy(buf, &hdr, sizeof(hdr));
	return len;
}

/* Checks that @p o holds a whole, intact value (whatever its key); fills
 * @p hdr. Fails the test otherwise. */
static inline void
sv_check(const struct rtab_obj *o, struct sv_hdr *hdr)
{
	const unsigned char *v = rtab_obj_value(o);
	size_t len = rtab_obj_value_len(o);

	CHECK_MSG(len >= sizeof(*hdr) && len <= SV_MAX, "value length %zu", len);
	memcpy(hdr, v, sizeof(*hdr));
	CHECK_MSG(hdr->len == len, "value length %zu, its header says %u (torn or freed object)",
		  len, hdr->len);
	CHECK_MSG(hdr->sum == sv_sum(v, len),
		  "checksum of the value of key %u version %u (torn or freed object)", hdr->id,
		  hdr->ver);
}

/* Key of id @p id: 4 bytes big-endian, then id % 5 bytes of 0x00/0xff. */
static inline size_t
sk_make(unsigned char *buf, uint32_t id)
{
	size_t n = 4 + id % 5;

	buf[0] = (unsigned char)(id >> 24);
	buf[1] = (unsigned char)(id >> 16);
	buf[2] = (unsigned char)(id >> 8);
	buf[3] = (unsigned char)id;
	for (size_t i = 4; i < n; i++)
		buf[i] = (id >> i) & 1 ? 0xff : 0x00;
	return n;
}

/* The id of key @p o; fails unless the key is exactly sk_make(id). */
static inline uint32_t
sk_id(const struct rtab_obj *o)
{
	const unsigned char *k = rtab_obj_key(o);
	unsigned char buf[16];
	uint32_t id;

	CHECK_MSG(rtab_obj_key_len(o) >= 4 && rtab_obj_key_len(o) <= 8, "key length %zu",
		  rtab_obj_key_len(o));
	id = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
	CHECK_EQ(sk_make(buf, id), rtab_obj_key_len(o));
	CHECK_MEM(buf, k, rtab_obj_key_len(o));
	return id;
}

/* Checks @p o as a whole: intact value, of the key it sits under. */
static inline uint32_t
sv_check_obj(const struct rtab_obj *o, struct sv_hdr *hdr)
{
	uint32_t id = sk_id(o);

	sv_check(o, hdr);
	CHECK_MSG(hdr->id == id, "key %u holds the value of key %u", id, hdr->id);
	return id;
}

/* ---------------------------------------------------------- the run */

struct st_common {
	uint64_t seconds;
	uint64_t yield;
	uint64_t readers;
	atomic_int stop;
};

#define ST_COMMON_OPTS(c)                                                        \
	{ "--seconds", &(c)->seconds, NULL, "how long the writer churns (default 5)" }, \
	{ "--yield", &(c)->yield, NULL,                                          \
	  "permille of library read/write sites that sched_yield (default 5)" },  \
	{ "--readers", &(c)->readers, NULL, "reader threads (default 2)" }

static inline void
st_defaults(struct st_common *c)
{
	c->seconds = 5;
	c->yield = 5;
	c->readers = 2;
	atomic_store(&c->stop, 0);
}

static inline void
st_start(struct st_common *c)
{
	CHECK_MSG(c->readers >= 1 && c->readers <= 64, "--readers 1..64");
	CHECK_MSG(c->yield <= 1000, "--yield 0..1000");
	__atomic_store_n(&rtab_debug_yield_permille, (unsigned)c->yield, __ATOMIC_RELAXED);
	printf("%" PRIu64 " s, %" PRIu64 " readers, yield %" PRIu64 " permille\n", c->seconds,
	       c->readers, c->yield);
	fflush(stdout);
}

static inline bool
st_stopped(struct st_common *c)
{
	return atomic_load_explicit(&c->stop, memory_order_relaxed) != 0;
}

/* Sleeps @p seconds (the writer and the readers run), then raises stop. */
static inline void
st_run_for(struct st_common *c)
{
	struct timespec ts = { (time_t)c->seconds, 0 };

	while (nanosleep(&ts, &ts) != 0)
		;
	atomic_store(&c->stop, 1);
}

#endif /* STRESS_UTIL_H */
