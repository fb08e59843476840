/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the control-socket tests: CHECK macros (a failed check prints
 * file:line, the expression, the values and the seed, then exits 1 at
 * once), a seedable PRNG (splitmix64) and --seed parsing (every program
 * prints the seed it uses first, so that a failure replays).
 */
#ifndef CTL_TEST_H
#define CTL_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t ct_seed;

static inline _Noreturn void
ct_failf(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s:%d: CHECK failed: %s", file, line, expr);
	if (fmt != NULL && fmt[0] != '\0') {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "\n(seed %" PRIu64 ": replay with --seed %" PRIu64 ")\n",
		ct_seed, ct_seed);
	fflush(stderr);
	_exit(1);
}

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond))                                                \
			ct_failf(__FILE__, __LINE__, #cond, NULL);          \
	} while (0)

#define CHECK_MSG(cond, ...)                                                \
	do {                                                                \
		if (!(cond))                                                \
			ct_failf(__FILE__, __LINE__, #cond, __VA_ARGS__);   \
	} while (0)

#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);   \
		if (ct_a_ != ct_b_)                                         \
			ct_failf(__FILE__, __LINE__, #a " == " #b,          \
				 "%lld != %lld", ct_a_, ct_b_);             \
	} while (0)

#define CHECK_MEM(p, q, n)                                                  \
	do {                                                                \
		size_t ct_n_ = (n);                                         \
		if (ct_n_ > 0 && memcmp((p), (q), ct_n_) != 0)              \
			ct_failf(__FILE__, __LINE__, #p " == " #q,          \
				 "%zu bytes differ", ct_n_);                \
	} while (0)

static uint64_t ct_rng_state;

static inline uint64_t
ct_rand(void)
{
	uint64_t z = (ct_rng_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Parses --seed N (others are left to the caller: returns the index of the
 * first argument it does not know, or argc). Prints the seed. */
static inline int
ct_parse_seed(int argc, char **argv)
{
	int i = 1;

	ct_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			ct_seed = strtoull(argv[++i], NULL, 0);
		else
			break;
	}
	ct_rng_state = ct_seed;
	printf("seed %" PRIu64 "\n", ct_seed);
	fflush(stdout);
	return i;
}

#endif /* CTL_TEST_H */
