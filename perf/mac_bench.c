/* SPDX-License-Identifier: MIT */
/*
 * mac_bench: the cost of trust. Frames per second on one core through the
 * dataplane's frame path with the cluster key (encode, MAC, check the MAC,
 * decode: dataplane/dp_auth.h) against the same path without it, in the
 * same run, for DATA frames of a few sizes; and, for the record of why
 * dp_auth.c uses XChaCha20-Poly1305, the tag alone with the other MACs of
 * libsodium that were candidates.
 *
 *   mac_bench [--ms MS]     (MS per measurement, default 300)
 *
 * Prints one line per frame size and a ratio; no assertion on speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "dp_auth.h"
#include "dp_frame.h"

#define CAP 1472                    /* UDP payload of a 1500-byte MTU */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

/* One frame sent and received: encode (+ seal), (check +) decode. */
static size_t
one_frame(const struct dp_auth_keys *ks, uint8_t *buf, const uint8_t *msg, size_t payload,
	  uint64_t counter)
{
	struct dp_frame_enc e;
	struct dp_frame f;
	size_t len;

	memset(&f, 0, sizeof(f));
	f.type = DP_FRAME_DATA;
	f.counter = counter;
	f.src_session = 0x1234;
	f.dst_session = 0x5678;
	dp_frame_enc_start(&e, buf, CAP);
	if (dp_frame_enc_seg(&e, msg, payload, 0) != 0)
		abort();
	dp_auth_prepare(ks, &f);
	len = dp_auth_seal(ks, buf, dp_frame_enc_end(&e, &f));
	if (dp_auth_check(ks, buf, len) != DP_AUTH_OK ||
	    dp_frame_decode(buf, len, &f) != DP_FRAME_OK)
		abort();
	return f.segs_len;
}

static double
rate(const struct dp_auth_keys *ks, size_t payload, double secs)
{
	static uint8_t buf[CAP], msg[CAP];
	uint64_t n = 0;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 256; i++)
			sink += one_frame(ks, buf, msg, payload, ++n);
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

enum alt { ALT_XCHACHA_POLY, ALT_BLAKE2B, ALT_HMAC512, ALT_AESGCM, ALT_N };

/* AES-256-GCM: measured only where the CPU has AES-NI; not a candidate
 * (its 96-bit nonce cannot hold a 64-bit session and a 64-bit counter, and
 * a nonce used twice gives its hash key away). */
static const char *const alt_names[ALT_N] = {
	"xchacha20-poly1305 (used)", "blake2b keyed, 16 B", "hmac-sha512/256",
	"aes256gcm (not a choice)",
};

static double
tag_ns(enum alt a, size_t len, double secs)
{
	static uint8_t buf[CAP], key[32], tag[64], nonce[24];
	unsigned long long tl;
	uint64_t n = 0;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 256; i++, n++) {
			buf[0] = (uint8_t)n;
			nonce[0] = (uint8_t)n;
			switch (a) {
			case ALT_XCHACHA_POLY:
				crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
					tag + 32, tag, &tl, tag + 32, 0, buf, len, NULL, nonce, key);
				break;
			case ALT_AESGCM:
				crypto_aead_aes256gcm_encrypt_detached(
					tag + 32, tag, &tl, tag + 32, 0, buf, len, NULL, nonce, key);
				break;
			case ALT_BLAKE2B:
				crypto_generichash(tag, 16, buf, len, key, sizeof(key));
				break;
			default:
				crypto_auth_hmacsha512256(tag, buf, len, key);
				break;
			}
			sink += tag[0];
		}
		t = now_s() - t0;
	} while (t < secs);
	return t / (double)n * 1e9;
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = {100, 500, 1000, CAP - DP_FRAME_HDR_LEN -
				       DP_FRAME_SEG_HDR_LEN - DP_FRAME_MAC_LEN};
	struct dp_auth_keys ks = {.n = 1};
	uint8_t material[32];
	double secs = 0.3;

	if (argc == 3 && strcmp(argv[1], "--ms") == 0)
		secs = atof(argv[2]) / 1000.0;
	else if (argc != 1) {
		fprintf(stderr, "usage: mac_bench [--ms MS]\n");
		return 2;
	}
	if (dp_auth_init() < 0)
		return 1;
	randombytes_buf(material, sizeof(material));
	dp_auth_key_make(&ks.key[0], material, sizeof(material));

	printf("frames/s on one core: encode, MAC, check, decode (DATA, one segment)\n");
	printf("%8s %14s %14s %8s\n", "frame B", "no MAC", "MAC", "ratio");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t frame = DP_FRAME_HDR_LEN + DP_FRAME_SEG_HDR_LEN + sizes[i];
		double plain = rate(NULL, sizes[i], secs);
		double mac = rate(&ks, sizes[i], secs);

		printf("%8zu %14.0f %14.0f %8.2f\n", frame, plain, mac, mac / plain);
	}
	printf("\nns per tag, the candidates (libsodium %s)\n", sodium_version_string());
	printf("%8s", "bytes");
	for (int a = 0; a < ALT_N; a++)
		printf(" %26s", alt_names[a]);
	printf("\n");
	for (size_t len = 100; len <= 1500; len = len == 100 ? 500 : len + 1000) {
		printf("%8zu", len);
		for (int a = 0; a < ALT_N; a++)
			if (a != ALT_AESGCM || crypto_aead_aes256gcm_is_available())
				printf(" %26.0f", tag_ns((enum alt)a, len, secs / 2));
			else
				printf(" %26s", "-");
		printf("\n");
	}
	return 0;
}
