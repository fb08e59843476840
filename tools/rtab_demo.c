/* SPDX-License-Identifier: MIT */
/*
 * rtab_demo: fills an rcu_tables set with a million names, then measures its
 * lookups (one at a time and in bulk, present and absent names) against
 * DPDK's rte_hash in lock-free mode, holding the same names, in the same
 * run. Prints a short table with the ratios; exits 0, or 1 if a lookup gave
 * a wrong answer. tools/demo builds and runs it; perf/ holds the full
 * benchmarks.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <urcu/urcu-memb.h>

#include "rtab_set.h"

#define DEMO_KEY_LEN 16
#define DEMO_BULK 32
#define DEMO_PROGRESS_EVERY 100000

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: rtab_demo [--keys N] [--seconds S]\n"
		"\n"
		"Fills an rcu_tables set with N random 16-character names (default\n"
		"1000000), then measures lookups/s of rtab_set and of DPDK rte_hash\n"
		"(lock-free mode, same names) for about S seconds each (default 0.5):\n"
		"single lookups and bulk lookups of 32, of present and absent names.\n"
		"One thread; DPDK runs without hugepages (--no-huge --no-pci).\n");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 64 printable characters; '_' is not one, so "_..." is never present. */
static const char demo_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";

/* n names of DEMO_KEY_LEN bytes, packed; absent ones start with '_'. */
static char *
make_names(size_t n, uint64_t seed, bool absent)
{
	char *b = malloc(n * DEMO_KEY_LEN);

	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char *p = b + i * DEMO_KEY_LEN;
		uint64_t r = 0;

		for (size_t j = 0; j < DEMO_KEY_LEN; j++) {
			if (j % 10 == 0)
				r = splitmix64(&seed);
			p[j] = demo_alphabet[r & 63];
			r >>= 6;
		}
		if (absent)
			p[0] = '_';
	}
	return b;
}

/* The same names in a random order, so that lookups do not follow the
 * order of insertion. */
static char *
shuffled(const char *names, size_t n, uint64_t seed)
{
	char *b = malloc(n * DEMO_KEY_LEN);
	uint32_t *perm = malloc(n * sizeof(*perm));

	if (b == NULL || perm == NULL) {
		free(b);
		free(perm);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = splitmix64(&seed) % (i + 1);
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(b + i * DEMO_KEY_LEN, names + (size_t)perm[i] * DEMO_KEY_LEN, DEMO_KEY_LEN);
	free(perm);
	return b;
}

struct demo {
	size_t n;                /* names, a multiple of DEMO_BULK */
	const char *order;       /* lookup order: names shuffled */
	const void **ptrs;       /* &order[i * DEMO_KEY_LEN], for bulk calls */
	struct rtab_set *set;
	struct rte_hash *hash;
	double seconds;          /* per measurement */
};

enum demo_impl { DEMO_RTAB, DEMO_RTE_HASH };

/* One pass over all names; returns how many were found. */
static uint64_t
pass(const struct demo *d, enum demo_impl impl, bool bulk)
{
	uint64_t found = 0;

	if (impl == DEMO_RTAB && !bulk) {
		for (size_t i = 0; i < d->n; i++) {
			urcu_memb_read_lock();
			found += rtab_set_lookup(d->set, d->order + i * DEMO_KEY_LEN,
						 DEMO_KEY_LEN) != NULL;
			urcu_memb_read_unlock();
		}
	} else if (impl == DEMO_RTAB) {
		uint32_t lens[DEMO_BULK];
		const struct rtab_obj *objs[DEMO_BULK];

		for (unsigned j = 0; j < DEMO_BULK; j++)
			lens[j] = DEMO_KEY_LEN;

		for (size_t i = 0; i < d->n; i += DEMO_BULK) {
			urcu_memb_read_lock();
			found += rtab_set_lookup_bulk(d->set, &d->ptrs[i], lens,
						      DEMO_BULK, objs);
			urcu_memb_read_unlock();
		}
	} else if (!bulk) {
		for (size_t i = 0; i < d->n; i++) {
			void *data;

			found += rte_hash_lookup_data(d->hash, d->order + i * DEMO_KEY_LEN,
						      &data) >= 0;
		}
	} else {
		void *data[DEMO_BULK];

		for (size_t i = 0; i < d->n; i += DEMO_BULK) {
			uint64_t hits;

			found += (unsigned)rte_hash_lookup_bulk_data(
				d->hash, &d->ptrs[i], DEMO_BULK, &hits, data);
		}
	}
	return found;
}

/*
 * Lookups per second over whole passes lasting at least d->seconds; *ok is
 * cleared if a pass found other than every name (present) or none (absent).
 */
static double
measure(const struct demo *d, enum demo_impl impl, bool bulk, bool present, bool *ok)
{
	uint64_t lookups = 0;
	double t0 = now_s(), t;

	do {
		uint64_t found = pass(d, impl, bulk);

		if (found != (present ? d->n : 0)) {
			fprintf(stderr, "rtab_demo: %s %s lookup of %s names found %llu of %zu\n",
				impl == DEMO_RTAB ? "rtab_set" : "rte_hash",
				bulk ? "bulk" : "single", present ? "present" : "absent",
				(unsigned long long)found, d->n);
			*ok = false;
		}
		lookups += d->n;
		t = now_s();
	} while (t - t0 < d->seconds);
	return (double)lookups / (t - t0);
}

static int
init_eal(const char *prog)
{
	char *args[] = {(char *)prog, "--no-huge", "--no-pci", "--no-shconf",
			"--no-telemetry", "-m", "512", "--log-level=lib.eal:error",
			NULL};
	cpu_set_t cpus;

	/* rte_eal_init pins this thread to one CPU: put the affinity back. */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
		return -errno;
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])) - 1, args) < 0) {
		fprintf(stderr, "rtab_demo: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"keys", required_argument, NULL, 'k'},
		{"seconds", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t n = 1000000;
	double seconds = 0.5;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			n = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	n -= n % DEMO_BULK;
	if (optind != argc || n == 0 || n > UINT32_MAX / 2 || !(seconds > 0)) {
		usage(stderr);
		return 2;
	}
	if (init_eal(argv[0]) != 0)
		return 1;

	int rc = 1;
	bool ok = true;
	struct demo d = {.n = n, .seconds = seconds};
	char *names = make_names(n, 42, false);
	char *absent = make_names(n, 4242, true);
	char *order = names ? shuffled(names, n, 7) : NULL;
	char *order_absent = absent ? shuffled(absent, n, 8) : NULL;
	const void **ptrs = malloc(n * sizeof(*ptrs));
	const void **ptrs_absent = malloc(n * sizeof(*ptrs_absent));

	if (!order || !order_absent || !ptrs || !ptrs_absent) {
		fprintf(stderr, "rtab_demo: out of memory\n");
		goto out_free_names;
	}
	for (size_t i = 0; i < n; i++) {
		ptrs[i] = order + i * DEMO_KEY_LEN;
		ptrs_absent[i] = order_absent + i * DEMO_KEY_LEN;
	}
	printf("rcu_tables demo: %zu names of %d printable characters, e.g. \"%.*s\"\n\n",
	       n, DEMO_KEY_LEN, DEMO_KEY_LEN, names);

	urcu_memb_register_thread();
	struct rtab_params params = {.name = "demo"};

	d.set = rtab_set_create(&params);
	if (d.set == NULL) {
		fprintf(stderr, "rtab_demo: rtab_set_create: %s\n", strerror(errno));
		goto out_unregister;
	}
	printf("Filling rtab_set (default size, grows as it fills):\n");
	double t0 = now_s();

	for (size_t i = 0; i < n; i++) {
		uint64_t value[2] = {i, 0};
		int r = rtab_set_insert(d.set, names + i * DEMO_KEY_LEN, DEMO_KEY_LEN,
					value, sizeof(value));

		if (r != 0) {
			fprintf(stderr, "rtab_demo: rtab_set_insert: %d (%s)\n", r, strerror(-r));
			goto out_free_set;
		}
		if ((i + 1) % DEMO_PROGRESS_EVERY == 0 || i + 1 == n) {
			double t = now_s() - t0;

			printf("  %8zu names  %6.2f s  %6.2f M inserts/s\n", i + 1, t,
			       (double)(i + 1) / t / 1e6);
		}
	}
	double set_fill = now_s() - t0;

	urcu_memb_barrier();
	printf("  count %zu, %.1f bytes per object (16-byte name, 16-byte value)\n\n",
	       rtab_set_count(d.set),
	       (double)rtab_set_memory(d.set) / (double)rtab_set_count(d.set));

	char hname[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = hname,
		/* rte_hash cannot grow: sized for n, with room for cuckoo moves */
		.entries = (uint32_t)(n + n / 4),
		.key_len = DEMO_KEY_LEN,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	snprintf(hname, sizeof(hname), "demo");
	d.hash = rte_hash_create(&hp);
	if (d.hash == NULL) {
		fprintf(stderr, "rtab_demo: rte_hash_create: %s\n", rte_strerror(rte_errno));
		goto out_free_set;
	}
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		int r = rte_hash_add_key_data(d.hash, names + i * DEMO_KEY_LEN,
					      (void *)(uintptr_t)(i + 1));

		if (r != 0) {
			fprintf(stderr, "rtab_demo: rte_hash_add_key_data: %d\n", r);
			goto out_free_hash;
		}
	}
	double hash_fill = now_s() - t0;

	printf("Inserts: rtab_set %.2f M/s (growing), rte_hash %.2f M/s (presized)\n\n",
	       (double)n / set_fill / 1e6, (double)n / hash_fill / 1e6);

	printf("Lookups, one thread, names in random order (M lookups/s):\n\n");
	printf("  %-24s %10s %15s %14s\n", "lookup", "rtab_set", "rte_hash (LF)", "rtab/rte_hash");
	printf("  %-24s %10s %15s %14s\n", "------------------------", "--------",
	       "-------------", "-------------");
	for (int bulk = 0; bulk <= 1; bulk++) {
		for (int present = 1; present >= 0; present--) {
			d.order = present ? order : order_absent;
			d.ptrs = present ? ptrs : ptrs_absent;
			double r = measure(&d, DEMO_RTAB, bulk, present, &ok);
			double h = measure(&d, DEMO_RTE_HASH, bulk, present, &ok);
			char what[32];

			snprintf(what, sizeof(what), "%s, %s", bulk ? "bulk of 32" : "single",
				 present ? "present" : "absent");
			printf("  %-24s %10.2f %15.2f %13.2fx\n", what, r / 1e6, h / 1e6, r / h);
		}
	}
	printf("\nrtab_set: one RCU read-side section per lookup (per 32 in bulk);\n"
	       "rte_hash: lock-free readers, fixed 16-byte keys. Full benchmarks: perf/run.\n");
	if (ok)
		rc = 0;

out_free_hash:
	rte_hash_free(d.hash);
out_free_set:
	rtab_set_free(d.set);
out_unregister:
	urcu_memb_unregister_thread();
out_free_names:
	free(ptrs_absent);
	free(ptrs);
	free(order_absent);
	free(order);
	free(absent);
	free(names);
	rte_eal_cleanup();
	return rc;
}
