/* SPDX-License-Identifier: MIT */
/*
 * The cluster key on the wire: the MAC trailer of every frame and the
 * replay window of a peer's session. Pure C (libsodium, no DPDK), so that
 * the unit tests use it as the dataplane does.
 *
 * The MAC. The 16-byte tag is Poly1305 under a one-time key that
 * XChaCha20 derives from the cluster key and a 24-byte nonce; libsodium's
 * crypto_aead_xchacha20poly1305_ietf with an empty message and the whole
 * frame (header and body) as the associated data. The nonce is the
 * frame's own counter and src session (header bytes 8..23) and 8 zero
 * bytes: a sender never uses a (session, counter) pair twice (its counter
 * grows within a session, a new session is 64 random bits), which is all
 * the construction asks. Why this one: perf/mac_bench on the build
 * machine (2 shared cores, libsodium 1.0.18), ns per tag of 100 / 500 /
 * 1500 bytes: XChaCha20-Poly1305 870 / 1100 / 1840; keyed BLAKE2b
 * (crypto_generichash, 16-byte out) 680 / 1510 / 3120; HMAC-SHA-512/256
 * (crypto_auth) 3700 / 7240 / 6900. Poly1305 is 1.4x BLAKE2b at 500 bytes
 * and 1.7x at 1500, the full data frames of a busy peer; BLAKE2b is ~20%
 * faster only on small frames (HELLOs, acks: few).
 *
 * Keys. A key file holds at least 32 random bytes; the key is their
 * BLAKE2b-256 hash (so any length works the same) and its key_id a byte
 * (1..255) derived from it: the receiver tries the keys it holds with that
 * id. Two keys may be held at once (a rollover: dp_auth_keys.key[0] signs,
 * both verify). With no key at all (--insecure) frames go without a MAC and
 * any frame that carries one is refused: a keyed node and an insecure one
 * never talk.
 */
#ifndef DP_AUTH_H
#define DP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_frame.h"

#define DP_AUTH_KEY_LEN 32
#define DP_AUTH_KEY_MIN 32          /* bytes of a key file, at least */
#define DP_AUTH_MAX_KEYS 2
#define DP_REPLAY_WINDOW 64         /* frames behind the newest still taken */

struct dp_auth_key {
	uint8_t id;                 /* 1..255 */
	uint8_t k[DP_AUTH_KEY_LEN];
};

/* Immutable once built: the lcore reads it while another set replaces it. */
struct dp_auth_keys {
	unsigned n;                 /* 0: insecure */
	struct dp_auth_key key[DP_AUTH_MAX_KEYS]; /* key[0] signs */
};

enum dp_auth_status {
	DP_AUTH_OK = 0,
	DP_AUTH_TRUNC,              /* shorter than a header (and its trailer) */
	DP_AUTH_BAD,                /* no MAC, unknown key id, wrong tag */
};

/** libsodium's init; 0 or -1. Thread-safe, idempotent. */
int dp_auth_init(void);

/** Builds a key from @p len (>= DP_AUTH_KEY_MIN) bytes of key file. */
int dp_auth_key_make(struct dp_auth_key *key, const void *material, size_t len);

/** Marks @p f (before it is encoded) as signed by @p ks's first key. */
void dp_auth_prepare(const struct dp_auth_keys *ks, struct dp_frame *f);

/**
 * Appends the tag to the @p len-byte frame at @p buf (encoded from a frame
 * dp_auth_prepare() marked; the buffer has DP_FRAME_MAC_LEN more bytes).
 * Returns the length with it (@p len when insecure).
 */
size_t dp_auth_seal(const struct dp_auth_keys *ks, uint8_t *buf, size_t len);

/**
 * Checks the MAC of the @p len bytes at @p buf, looking at nothing but the
 * header's flags, key_id and the nonce fields: the first thing done with a
 * frame received.
 */
enum dp_auth_status dp_auth_check(const struct dp_auth_keys *ks, const uint8_t *buf,
				  size_t len);

/*
 * Lookup keys (issue 6, --lookup-key): a client that is no peer has no
 * session and no counter to make a nonce of, so the tag of a lookup frame
 * is keyed BLAKE2b (crypto_generichash, 16 bytes) over the frame: a MAC
 * that needs no nonce. The key is a BLAKE2b-256 hash of the key file under
 * its own domain string (a lookup key never equals a cluster key made of
 * the same file), its id as dp_auth_key_make()'s. No replay window:
 * lookups are reads, a replayed one gets the same kind of answer. The
 * client library (control/lookup_client.c) computes the same.
 */
int dp_lookup_key_make(struct dp_auth_key *key, const void *material, size_t len);
void dp_lookup_tag(const struct dp_auth_key *key, const uint8_t *buf, size_t len,
		   uint8_t tag[16]);
/* The tag of the @p len bytes at @p buf is @p tag (constant time). */
bool dp_lookup_tag_ok(const struct dp_auth_key *key, const uint8_t *buf, size_t len,
		      const uint8_t tag[16]);

/*
 * The replay window of a peer's session: @c top the highest counter taken,
 * bit i of @c seen the counter top - i. A frame is fresh when its counter
 * is above top, or within the window and not yet seen.
 */
struct dp_replay {
	uint64_t top;
	uint64_t seen;
};

static inline void
dp_replay_reset(struct dp_replay *r)
{
	r->top = 0;
	r->seen = 0;
}

static inline bool
dp_replay_fresh(const struct dp_replay *r, uint64_t c)
{
	if (c == 0)
		return false;           /* counters start at 1 */
	if (c > r->top)
		return true;
	if (r->top - c >= DP_REPLAY_WINDOW)
		return false;
	return !((r->seen >> (r->top - c)) & 1);
}

/* Records @p c (dp_replay_fresh() said yes, and the MAC was good). */
static inline void
dp_replay_mark(struct dp_replay *r, uint64_t c)
{
	if (c > r->top) {
		uint64_t d = c - r->top;

		r->seen = d >= DP_REPLAY_WINDOW ? 0 : r->seen << d;
		r->seen |= 1;
		r->top = c;
	} else {
		r->seen |= (uint64_t)1 << (r->top - c);
	}
}

#endif /* DP_AUTH_H */
