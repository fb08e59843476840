/* SPDX-License-Identifier: MIT */
/*
 * forward_faults: the fault decisions of synode-forward, pure C (no DPDK),
 * so that a unit test can check them (tests/forward/).
 *
 * Every decision comes from one seeded generator (splitmix64), drawn in the
 * order frames are handled: the same seed, the same faults and the same
 * input order give the same decisions, so a failing run replays.
 *
 * Rates are kept in parts per million (0.1 % is 1000 ppm), so that a
 * decision is an integer comparison and no floating point enters the
 * replay.
 */
#ifndef SYNODE_FORWARD_FAULTS_H
#define SYNODE_FORWARD_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWD_MAX_PORTS 32
#define FWD_PPM 1000000u
#define FWD_MAX_CORRUPT 4          /* bytes flipped in one corrupted frame */
#define FWD_MAX_DELAY_US 10000000u /* 10 s: larger values are refused */
#define FWD_ETH_HDR 14             /* corruption never touches these bytes */

struct fwd_faults {
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t corrupt_ppm;
	uint32_t delay_us;     /* every frame */
	uint32_t jitter_us;    /* delay_us +- uniform(0..jitter_us), >= 0 */
	uint32_t reorder_us;   /* extra hold of a reordered frame */
	/* cut[i] bit j: nothing goes from port i to port j. Kept symmetric. */
	uint32_t cut[FWD_MAX_PORTS];
};

struct fwd_rng {
	uint64_t s;
};

/* What happens to one copy of a frame, from one port to another. */
struct fwd_decision {
	bool cut;              /* partitioned: dropped, nothing else drawn */
	bool lost;             /* dropped by --loss */
	unsigned copies;       /* 1, or 2 when duplicated (0 when dropped) */
	bool reordered[2];
	uint32_t delay_us[2];  /* per copy, from now */
	unsigned ncorrupt;     /* bytes to flip (0: intact) */
	uint32_t corrupt_off[FWD_MAX_CORRUPT];
	uint8_t corrupt_xor[FWD_MAX_CORRUPT];  /* never 0 */
};

void fwd_rng_seed(struct fwd_rng *r, uint64_t seed);
uint64_t fwd_rng_next(struct fwd_rng *r);
/* Uniform in [0, n), n > 0 (no modulo bias worth the name for n <= 2^32). */
uint32_t fwd_rng_below(struct fwd_rng *r, uint32_t n);

/* No faults at all. */
void fwd_faults_init(struct fwd_faults *f);

/*
 * Sets f from a spec: items KEY=VALUE separated by commas, blanks or
 * newlines; '#' starts a comment up to the end of the line. Keys: loss,
 * dup, reorder, corrupt (percent, decimals allowed: 0.1), delay, jitter,
 * reorder-us (microseconds; also delay-us, jitter-us), cut=A-B (ports A
 * and B cut from each other, both ways; repeatable; "cut=none" clears).
 * Starts from f as it is (call fwd_faults_init first for a fresh set).
 * Returns 0, or -1 with a message in err and f unchanged.
 */
int fwd_faults_parse(struct fwd_faults *f, const char *spec, char *err, size_t errlen);

/* The faults as a spec fwd_faults_parse reads back. Returns buf. */
char *fwd_faults_format(const struct fwd_faults *f, char *buf, size_t len);

/*
 * The decision for one frame of len bytes going from port in to port out.
 * Draws from r in a fixed order: cut (no draw), loss, corrupt (+ offsets),
 * dup, then for each copy reorder and jitter.
 */
void fwd_decide(const struct fwd_faults *f, struct fwd_rng *r, unsigned in, unsigned out,
		uint32_t len, struct fwd_decision *d);

#endif
