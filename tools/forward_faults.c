/* SPDX-License-Identifier: MIT */
/*
 * forward_faults.c: seeded fault decisions for synode-forward (see the
 * header). No DPDK here: tests/forward/test_forward_faults.c links it alone.
 */
#include "forward_faults.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void
fwd_rng_seed(struct fwd_rng *r, uint64_t seed)
{
	r->s = seed;
}

/* splitmix64: tiny, fast, and every seed (0 too) gives a good stream. */
uint64_t
fwd_rng_next(struct fwd_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint32_t
fwd_rng_below(struct fwd_rng *r, uint32_t n)
{
	/* Multiply-shift (Lemire) on the high 32 bits: no division. */
	return (uint32_t)(((fwd_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static bool
chance(struct fwd_rng *r, uint32_t ppm)
{
	/* Always one draw, whatever the rate: a decision made at 0 % draws
	 * as one at 10 % does, so a rate changed at run time does not shift
	 * every later decision of the other faults. */
	uint32_t x = fwd_rng_below(r, FWD_PPM);

	return x < ppm;
}

void
fwd_faults_init(struct fwd_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->reorder_us = 2000;
}

/* "12", "12.5", "0.0001" percent -> ppm; -1 when not a percentage. */
static long
parse_pct(const char *s, size_t n)
{
	long ppm = 0;
	long scale = 10000;     /* ppm per percent unit */
	size_t i = 0;
	bool digits = false;

	for (; i < n && isdigit((unsigned char)s[i]); i++) {
		ppm = ppm * 10 + (s[i] - '0');
		digits = true;
		if (ppm > 100)
			return -1;
	}
	ppm *= scale;
	if (i < n && s[i] == '.') {
		for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
			scale /= 10;
			if (scale == 0)
				return -1;      /* finer than 1 ppm */
			ppm += (s[i] - '0') * scale;
			digits = true;
		}
	}
	if (!digits || i != n || ppm > (long)FWD_PPM)
		return -1;
	return ppm;
}

static long
parse_uint(const char *s, size_t n, long max)
{
	long v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static bool
key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

static int
parse_item(struct fwd_faults *f, const char *k, size_t kn, const char *v, size_t vn,
	   char *err, size_t errlen)
{
	uint32_t *pct = NULL, *us = NULL;
	long x;

	if (key_is(k, kn, "loss"))
		pct = &f->loss_ppm;
	else if (key_is(k, kn, "dup"))
		pct = &f->dup_ppm;
	else if (key_is(k, kn, "reorder"))
		pct = &f->reorder_ppm;
	else if (key_is(k, kn, "corrupt"))
		pct = &f->corrupt_ppm;
	else if (key_is(k, kn, "delay") || key_is(k, kn, "delay-us"))
		us = &f->delay_us;
	else if (key_is(k, kn, "jitter") || key_is(k, kn, "jitter-us"))
		us = &f->jitter_us;
	else if (key_is(k, kn, "reorder-us"))
		us = &f->reorder_us;
	if (pct != NULL) {
		x = parse_pct(v, vn);
		if (x < 0) {
			snprintf(err, errlen, "%.*s=%.*s: a percentage 0..100 (at most 4 "
				 "decimals)", (int)kn, k, (int)vn, v);
			return -1;
		}
		*pct = (uint32_t)x;
		return 0;
	}
	if (us != NULL) {
		x = parse_uint(v, vn, FWD_MAX_DELAY_US);
		if (x < 0) {
			snprintf(err, errlen, "%.*s=%.*s: microseconds 0..%u", (int)kn, k,
				 (int)vn, v, FWD_MAX_DELAY_US);
			return -1;
		}
		*us = (uint32_t)x;
		return 0;
	}
	if (key_is(k, kn, "cut")) {
		const char *dash = memchr(v, '-', vn);
		long a, b;

		if (vn == 4 && memcmp(v, "none", 4) == 0) {
			memset(f->cut, 0, sizeof(f->cut));
			return 0;
		}
		a = dash ? parse_uint(v, (size_t)(dash - v), FWD_MAX_PORTS - 1) : -1;
		b = dash ? parse_uint(dash + 1, vn - (size_t)(dash - v) - 1,
				      FWD_MAX_PORTS - 1) : -1;
		if (a < 0 || b < 0 || a == b) {
			snprintf(err, errlen, "cut=%.*s: two different ports A-B (0..%d), "
				 "or none", (int)vn, v, FWD_MAX_PORTS - 1);
			return -1;
		}
		f->cut[a] |= UINT32_C(1) << b;
		f->cut[b] |= UINT32_C(1) << a;
		return 0;
	}
	snprintf(err, errlen, "unknown fault '%.*s' (loss, dup, reorder, corrupt, delay, "
		 "jitter, reorder-us, cut)", (int)kn, k);
	return -1;
}

int
fwd_faults_parse(struct fwd_faults *f, const char *spec, char *err, size_t errlen)
{
	struct fwd_faults nf = *f;
	const char *p = spec;

	/* One pass, bounded by the string's length. */
	while (*p != '\0') {
		const char *k, *eq, *end;

		if (*p == '#') {
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (*p == ',' || isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		k = p;
		while (*p != '\0' && *p != ',' && *p != '#' && !isspace((unsigned char)*p))
			p++;
		end = p;
		eq = memchr(k, '=', (size_t)(end - k));
		if (eq == NULL || eq == k) {
			snprintf(err, errlen, "'%.*s': KEY=VALUE wanted", (int)(end - k), k);
			return -1;
		}
		if (parse_item(&nf, k, (size_t)(eq - k), eq + 1, (size_t)(end - eq - 1),
			       err, errlen) < 0)
			return -1;
	}
	*f = nf;
	return 0;
}

static void
fmt_pct(char *buf, size_t len, uint32_t ppm)
{
	uint32_t frac = ppm % 10000;

	if (frac == 0) {
		snprintf(buf, len, "%u", ppm / 10000);
		return;
	}
	snprintf(buf, len, "%u.%04u", ppm / 10000, frac);
	/* Trailing zeros off: 0.1000 -> 0.1. */
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == '0'; n--)
		buf[n - 1] = '\0';
}

char *
fwd_faults_format(const struct fwd_faults *f, char *buf, size_t len)
{
	char l[16], d[16], r[16], c[16];
	size_t n;

	fmt_pct(l, sizeof(l), f->loss_ppm);
	fmt_pct(d, sizeof(d), f->dup_ppm);
	fmt_pct(r, sizeof(r), f->reorder_ppm);
	fmt_pct(c, sizeof(c), f->corrupt_ppm);
	snprintf(buf, len, "loss=%s,dup=%s,reorder=%s,corrupt=%s,delay=%u,jitter=%u,"
		 "reorder-us=%u", l, d, r, c, f->delay_us, f->jitter_us, f->reorder_us);
	for (unsigned a = 0; a < FWD_MAX_PORTS; a++)
		for (unsigned b = a + 1; b < FWD_MAX_PORTS; b++) {
			if (!(f->cut[a] & (UINT32_C(1) << b)))
				continue;
			n = strlen(buf);
			if (n + 1 < len)
				snprintf(buf + n, len - n, ",cut=%u-%u", a, b);
		}
	return buf;
}

static uint32_t
copy_delay(const struct fwd_faults *f, struct fwd_rng *r, bool *reordered)
{
	int64_t us = f->delay_us;

	*reordered = chance(r, f->reorder_ppm);
	if (f->jitter_us > 0)
		us += (int64_t)fwd_rng_below(r, 2 * f->jitter_us + 1) - f->jitter_us;
	if (us < 0)
		us = 0;
	if (*reordered)
		us += f->reorder_us;
	return (uint32_t)us;
}

void
fwd_decide(const struct fwd_faults *f, struct fwd_rng *r, unsigned in, unsigned out,
	   uint32_t len, struct fwd_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (in < FWD_MAX_PORTS && out < FWD_MAX_PORTS &&
	    (f->cut[in] & (UINT32_C(1) << out))) {
		d->cut = true;
		return;
	}
	if (chance(r, f->loss_ppm)) {
		d->lost = true;
		return;
	}
	if (chance(r, f->corrupt_ppm) && len > FWD_ETH_HDR) {
		d->ncorrupt = 1 + fwd_rng_below(r, FWD_MAX_CORRUPT);
		for (unsigned i = 0; i < d->ncorrupt; i++) {
			d->corrupt_off[i] = FWD_ETH_HDR + fwd_rng_below(r, len - FWD_ETH_HDR);
			d->corrupt_xor[i] = (uint8_t)(1 + fwd_rng_below(r, 255));
		}
	}
	d->copies = chance(r, f->dup_ppm) ? 2 : 1;
	for (unsigned i = 0; i < d->copies; i++)
		d->delay_us[i] = copy_delay(f, r, &d->reordered[i]);
}
