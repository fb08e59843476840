/* SPDX-License-Identifier: MIT */
/*
 * Unit test of synode-forward's fault decisions (tools/forward_faults.c).
 * Proves: the same seed gives the same decisions (a failing cluster run
 * replays) and another seed others; each rate (loss, dup, reorder,
 * corrupt) comes out within a tolerance of what was asked over --rounds
 * decisions; delays stay within delay +- jitter (+ reorder-us when
 * reordered) with the asked mean; cuts are exact and both ways; corruption
 * never touches the Ethernet header nor goes past the frame; no fault at
 * all changes nothing; the spec parser refuses bad input, leaving the
 * faults as they were, and its format reads back the same.
 * Usage: test_forward_faults [--seed N] [--rounds N]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forward_faults.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static bool
same_decision(const struct fwd_decision *a, const struct fwd_decision *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static struct fwd_faults
spec(const char *s)
{
	struct fwd_faults f;
	char err[256];

	fwd_faults_init(&f);
	if (fwd_faults_parse(&f, s, err, sizeof(err)) != 0) {
		fprintf(stderr, "FAIL: spec '%s' refused: %s\n", s, err);
		exit(1);
	}
	return f;
}

static void
test_determinism(uint64_t seed, unsigned rounds)
{
	struct fwd_faults f = spec("loss=10,dup=5,reorder=20,delay=1000,jitter=500,corrupt=0.1");
	struct fwd_rng a, b, c;
	unsigned differ = 0;

	fwd_rng_seed(&a, seed);
	fwd_rng_seed(&b, seed);
	fwd_rng_seed(&c, seed + 1);
	for (unsigned i = 0; i < rounds; i++) {
		struct fwd_decision da, db, dc;
		unsigned in = i % 3, out = (i + 1) % 3;
		uint32_t len = 60 + i % 1400;

		fwd_decide(&f, &a, in, out, len, &da);
		fwd_decide(&f, &b, in, out, len, &db);
		fwd_decide(&f, &c, in, out, len, &dc);
		if (!same_decision(&da, &db)) {
			CHECK(0, "decision %u differs with the same seed", i);
			return;
		}
		differ += !same_decision(&da, &dc);
	}
	/* Most decisions are "deliver after a jittered delay": another seed
	 * changes nearly every one. */
	CHECK(differ > rounds / 2, "seed+1 changed only %u of %u decisions", differ, rounds);
}

static void
within(const char *what, double got, double want, double tol)
{
	CHECK(fabs(got - want) <= tol, "%s: %.5f, wanted %.5f +- %.5f", what, got, want, tol);
}

/* Binomial tolerance: 5 standard deviations of a fraction over n trials. */
static double
tol5(double p, double n)
{
	return 5.0 * sqrt(p * (1.0 - p) / n) + 1e-9;
}

static void
test_rates(uint64_t seed, unsigned rounds)
{
	struct fwd_faults f = spec("loss=10 dup=5 reorder=20 delay=1000 jitter=500 "
				   "reorder-us=3000 corrupt=0.1");
	struct fwd_rng r;
	double lost = 0, sent = 0, dup = 0, copies = 0, reord = 0, corrupt = 0;
	double delay_sum = 0, plain = 0;

	fwd_rng_seed(&r, seed);
	for (unsigned i = 0; i < rounds; i++) {
		struct fwd_decision d;
		uint32_t len = 60 + i % 1400;

		fwd_decide(&f, &r, 0, 1, len, &d);
		CHECK(!d.cut, "a cut without a partition");
		if (d.lost) {
			lost++;
			CHECK(d.copies == 0 && d.ncorrupt == 0, "a lost frame goes nowhere");
			continue;
		}
		sent++;
		CHECK(d.copies == 1 || d.copies == 2, "copies %u", d.copies);
		dup += d.copies == 2;
		corrupt += d.ncorrupt > 0;
		CHECK(d.ncorrupt <= FWD_MAX_CORRUPT, "ncorrupt %u", d.ncorrupt);
		for (unsigned k = 0; k < d.ncorrupt; k++) {
			CHECK(d.corrupt_off[k] >= FWD_ETH_HDR && d.corrupt_off[k] < len,
			      "corrupt offset %u of a %u-byte frame", d.corrupt_off[k], len);
			CHECK(d.corrupt_xor[k] != 0, "a flip that changes nothing");
		}
		for (unsigned k = 0; k < d.copies; k++) {
			uint32_t base = d.delay_us[k] - (d.reordered[k] ? 3000 : 0);

			copies++;
			reord += d.reordered[k];
			CHECK(d.delay_us[k] >= (d.reordered[k] ? 3000u : 0u),
			      "a reordered frame held less than reorder-us");
			CHECK(base >= 500 && base <= 1500, "delay %u outside 1000 +- 500", base);
			delay_sum += base;
			plain++;
		}
	}
	within("loss", lost / rounds, 0.10, tol5(0.10, rounds));
	within("dup", dup / sent, 0.05, tol5(0.05, sent));
	within("reorder", reord / copies, 0.20, tol5(0.20, copies));
	within("corrupt", corrupt / sent, 0.001, tol5(0.001, sent));
	within("mean delay (us)", delay_sum / plain, 1000.0, 5.0);
	printf("rates over %u decisions: loss %.4f dup %.4f reorder %.4f corrupt %.5f, "
	       "mean delay %.1f us\n", rounds, lost / rounds, dup / sent, reord / copies,
	       corrupt / sent, delay_sum / plain);
}

static void
test_cut_and_none(uint64_t seed)
{
	struct fwd_faults f = spec("cut=0-1");
	struct fwd_faults none = spec("");
	struct fwd_rng r;

	fwd_rng_seed(&r, seed);
	for (unsigned i = 0; i < 10000; i++) {
		struct fwd_decision d;

		fwd_decide(&f, &r, 0, 1, 100, &d);
		CHECK(d.cut && d.copies == 0, "0->1 not cut");
		fwd_decide(&f, &r, 1, 0, 100, &d);
		CHECK(d.cut && d.copies == 0, "1->0 not cut");
		fwd_decide(&f, &r, 0, 2, 100, &d);
		CHECK(!d.cut && !d.lost && d.copies == 1 && d.delay_us[0] == 0 &&
		      d.ncorrupt == 0 && !d.reordered[0], "0->2 touched");
		fwd_decide(&none, &r, 2, 1, 100, &d);
		CHECK(!d.cut && !d.lost && d.copies == 1 && d.delay_us[0] == 0 &&
		      d.ncorrupt == 0 && !d.reordered[0], "no faults, yet a fault");
	}
	/* A frame no longer than the Ethernet header is never corrupted. */
	f = spec("corrupt=100");
	for (unsigned i = 0; i < 1000; i++) {
		struct fwd_decision d;

		fwd_decide(&f, &r, 0, 1, FWD_ETH_HDR, &d);
		CHECK(d.ncorrupt == 0, "a header-only frame corrupted");
		fwd_decide(&f, &r, 0, 1, FWD_ETH_HDR + 1, &d);
		CHECK(d.ncorrupt >= 1 && d.corrupt_off[0] == FWD_ETH_HDR, "corrupt=100 missed");
	}
}

static void
test_parser(void)
{
	static const char *const bad[] = {
		"loss", "loss=", "loss=101", "loss=-1", "loss=1.00001", "loss=abc",
		"delay=10000001", "delay=-5", "jitter=1x", "cut=1", "cut=1-1", "cut=0-32",
		"cut=a-b", "bogus=1", "=3", "loss=10,,dup", "reorder-us=99999999999",
	};
	struct fwd_faults f, g, before;
	char err[256], buf[1024];

	f = spec("loss=12.5 dup=0.0001, reorder=100\n# a comment, loss=99\n"
		 "corrupt=0.1 delay-us=7 jitter-us=3 reorder-us=9 cut=2-5 cut=0-31");
	CHECK(f.loss_ppm == 125000 && f.dup_ppm == 1 && f.reorder_ppm == 1000000 &&
	      f.corrupt_ppm == 1000 && f.delay_us == 7 && f.jitter_us == 3 &&
	      f.reorder_us == 9, "parsed %s", fwd_faults_format(&f, buf, sizeof(buf)));
	CHECK((f.cut[2] >> 5 & 1) && (f.cut[5] >> 2 & 1) && (f.cut[0] >> 31 & 1) &&
	      (f.cut[31] & 1), "cuts not both ways");
	/* The format reads back the same. */
	fwd_faults_format(&f, buf, sizeof(buf));
	g = spec(buf);
	CHECK(memcmp(&f, &g, sizeof(f)) == 0, "format '%s' reads back otherwise", buf);
	g = spec("cut=1-2 cut=none");
	for (unsigned i = 0; i < FWD_MAX_PORTS; i++)
		CHECK(g.cut[i] == 0, "cut=none left a cut");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		before = f;
		err[0] = '\0';
		CHECK(fwd_faults_parse(&f, bad[i], err, sizeof(err)) == -1,
		      "'%s' accepted", bad[i]);
		CHECK(err[0] != '\0', "'%s': no message", bad[i]);
		CHECK(memcmp(&f, &before, sizeof(f)) == 0, "'%s' changed the faults", bad[i]);
	}
}

int
main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL);
	unsigned rounds = 1000000;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--seed") == 0) {
			seed = strtoull(argv[i + 1], NULL, 0);
		} else if (strcmp(argv[i], "--rounds") == 0) {
			rounds = (unsigned)strtoul(argv[i + 1], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--seed N] [--rounds N]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 10000)
		rounds = 10000;
	printf("seed %" PRIu64 " (replay: --seed %" PRIu64 ")\n", seed, seed);
	test_determinism(seed, rounds / 4);
	test_rates(seed, rounds);
	test_cut_and_none(seed);
	test_parser();
	if (failures > 0) {
		fprintf(stderr, "%d failure(s), seed %" PRIu64 "\n", failures, seed);
		return 1;
	}
	printf("ok\n");
	return 0;
}
