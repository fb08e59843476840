/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the control-socket tests, over the project's test helpers
 * (tests/rcu_tables/test_util.h: CHECK macros that print file:line, the
 * values and the seed, then exit 1; splitmix64): one shared generator and
 * --seed parsing that leaves the other arguments to the caller.
 */
#ifndef CTL_TEST_H
#define CTL_TEST_H

#include "../rcu_tables/test_util.h"

static struct tu_rng ct_rng;

static inline uint64_t
ct_rand(void)
{
	return tu_rng_next(&ct_rng);
}

/* Seeds the generator and the seed that failed checks print. */
static inline void
ct_set_seed(uint64_t seed)
{
	tu_seed = seed;
	tu_rng_init(&ct_rng, seed);
}

/* Parses --seed N (others are left to the caller: returns the index of the
 * first argument it does not know, or argc). Prints the seed. */
static inline int
ct_parse_seed(int argc, char **argv)
{
	int i = 1;

	ct_set_seed((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			ct_set_seed(strtoull(argv[++i], NULL, 0));
		else
			break;
	}
	printf("seed %" PRIu64 "\n", tu_seed);
	fflush(stdout);
	return i;
}

#endif /* CTL_TEST_H */
