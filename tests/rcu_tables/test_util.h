/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the rcu_tables tests:
 *   - CHECK macros: a failed check prints file:line, the expression (and the
 *     two values, for the _EQ forms) and the seed, then ends the process with
 *     exit status 1 at once (a stress test's other threads must not go on
 *     with a broken table, so no atexit handlers run).
 *   - a seedable PRNG (splitmix64) and a stateless 64-bit mixer;
 *   - option parsing: every program takes --seed N and prints the seed it
 *     uses first, so that a failure replays with the same --seed.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The seed of this run; every random choice derives from it. */
static uint64_t tu_seed;

static inline _Noreturn void
tu_die(void)
{
	fprintf(stderr, "(seed %" PRIu64 ": replay with --seed %" PRIu64 ")\n",
		tu_seed, tu_seed);
	fflush(stdout);
	fflush(stderr);
	_exit(1);
}

static inline _Noreturn void
tu_failf(const char *file, int line, const char *expr, const char *fmt, ...)
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
	fputc('\n', stderr);
	tu_die();
}

/** Fails unless @p cond holds. */
#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond))                                                \
			tu_failf(__FILE__, __LINE__, #cond, NULL);          \
	} while (0)

/** Fails unless @p cond holds; the rest is a printf format and its args. */
#define CHECK_MSG(cond, ...)                                                \
	do {                                                                \
		if (!(cond))                                                \
			tu_failf(__FILE__, __LINE__, #cond, __VA_ARGS__);   \
	} while (0)

/** Fails unless the integers @p a and @p b are equal; prints both. */
#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);   \
		if (tu_a_ != tu_b_)                                         \
			tu_failf(__FILE__, __LINE__, #a " == " #b,          \
				 "%lld != %lld", tu_a_, tu_b_);             \
	} while (0)

/** Fails unless the @p n bytes at @p p and @p q are equal. */
#define CHECK_MEM(p, q, n)                                                  \
	do {                                                                \
		size_t tu_n_ = (n);                                         \
		if (tu_n_ != 0 && memcmp((p), (q), tu_n_) != 0)             \
			tu_failf(__FILE__, __LINE__,                        \
				 "memcmp(" #p ", " #q ", " #n ") == 0",     \
				 "%zu bytes differ", tu_n_);                \
	} while (0)

/* ------------------------------------------------------------------ PRNG */

/** splitmix64 (Steele, Lea, Flood 2014): fast, and every seed is good. */
struct tu_rng {
	uint64_t s;
};

/** Stateless mixer: a good 64-bit hash of @p x (splitmix64's finaliser). */
static inline uint64_t
tu_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static inline void
tu_rng_init(struct tu_rng *r, uint64_t seed)
{
	r->s = seed;
}

static inline uint64_t
tu_rng_next(struct tu_rng *r)
{
	r->s += 0x9e3779b97f4a7c15u;
	return tu_mix64(r->s);
}

/** Uniform in [0, n); n > 0. The modulo bias is far below what tests see. */
static inline uint64_t
tu_rng_below(struct tu_rng *r, uint64_t n)
{
	return tu_rng_next(r) % n;
}

/** True with probability @p permille / 1000. */
static inline int
tu_rng_permille(struct tu_rng *r, unsigned permille)
{
	return tu_rng_below(r, 1000) < permille;
}

static inline void
tu_rng_fill(struct tu_rng *r, void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n >= 8) {
		uint64_t x = tu_rng_next(r);
		memcpy(p, &x, 8);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t x = tu_rng_next(r);
		memcpy(p, &x, n);
	}
}

/* ------------------------------------------------------------------ time */

static inline uint64_t
tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --------------------------------------------------------------- options */

/** One option of a test program: "--name VALUE". */
struct tu_opt {
	const char *name;       /**< with the dashes, e.g. "--ops" */
	uint64_t *num;          /**< set for a numeric option */
	const char **str;       /**< set for a string option */
	const char *help;
};

static inline void
tu_usage(const char *prog, const struct tu_opt *opts, size_t n)
{
	fprintf(stderr, "usage: %s [--seed N]", prog);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " [%s %s]", opts[i].name, opts[i].num ? "N" : "S");
	fputs("\n  --seed N  seed of every random choice (default: from the clock)\n",
	      stderr);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %s  %s\n", opts[i].name, opts[i].help);
}

/**
 * Parses argv against @p opts (plus --seed and --help), sets tu_seed and
 * prints it. Exits with status 2 on a bad command line.
 */
static inline void
tu_parse_args(int argc, char **argv, const struct tu_opt *opts, size_t n)
{
	int have_seed = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct tu_opt *o = NULL;
		char *end;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			tu_usage(argv[0], opts, n);
			exit(0);
		}
		if (i + 1 >= argc)
			goto bad;
		if (strcmp(a, "--seed") == 0) {
			tu_seed = strtoull(argv[++i], &end, 0);
			if (*end != '\0')
				goto bad;
			have_seed = 1;
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (strcmp(a, opts[j].name) == 0)
				o = &opts[j];
		if (o == NULL)
			goto bad;
		i++;
		if (o->str != NULL) {
			*o->str = argv[i];
		} else {
			*o->num = strtoull(argv[i], &end, 0);
			if (*end != '\0' || argv[i][0] == '-')
				goto bad;
		}
	}
	if (!have_seed)
		tu_seed = tu_mix64(tu_now_ns() ^ ((uint64_t)getpid() << 32));
	printf("%s: seed %" PRIu64 "\n", argv[0], tu_seed);
	fflush(stdout);
	return;
bad:
	tu_usage(argv[0], opts, n);
	exit(2);
}

#endif /* TEST_UTIL_H */
