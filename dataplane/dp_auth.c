/* SPDX-License-Identifier: MIT */
/*
 * The frame MAC of dp_auth.h, on libsodium. Why this construction and its
 * cost: see dp_auth.h and dataplane/README.md.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "dp_auth.h"

#define NONCE_OFF 8                 /* counter (8) and src session (8) */
#define NONCE_FRAME_BYTES 16

int
dp_auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
dp_auth_key_make(struct dp_auth_key *key, const void *material, size_t len)
{
	static const char domain[] = "synode cluster key v1";
	crypto_generichash_state st;
	uint8_t id[crypto_generichash_BYTES_MIN];

	if (key == NULL || material == NULL || len < DP_AUTH_KEY_MIN)
		return -EINVAL;
	/* The key: a hash of the file, under our own domain string. */
	crypto_generichash_init(&st, NULL, 0, sizeof(key->k));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, material, len);
	crypto_generichash_final(&st, key->k, sizeof(key->k));
	/* Its id: one byte of a hash of the key, never 0 (0: no MAC). */
	crypto_generichash(id, sizeof(id), (const uint8_t *)"key id", 6, key->k,
			   sizeof(key->k));
	key->id = (uint8_t)(1 + id[0] % 255);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

void
dp_auth_prepare(const struct dp_auth_keys *ks, struct dp_frame *f)
{
	if (ks == NULL || ks->n == 0) {
		f->flags &= (uint8_t)~DP_FRAME_F_MAC;
		f->key_id = 0;
		return;
	}
	f->flags |= DP_FRAME_F_MAC;
	f->key_id = ks->key[0].id;
}

static void
make_nonce(uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], const uint8_t *buf)
{
	memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	memcpy(nonce, buf + NONCE_OFF, NONCE_FRAME_BYTES);
}

static void
tag_of(const struct dp_auth_key *key, const uint8_t *buf, size_t len,
       uint8_t tag[DP_FRAME_MAC_LEN])
{
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long long tag_len;
	uint8_t none[1] = {0};

	make_nonce(nonce, buf);
	/* No message (0 bytes of none), the frame as associated data: a MAC. */
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(none, tag, &tag_len, none, 0, buf,
							    len, NULL, nonce, key->k);
}

size_t
dp_auth_seal(const struct dp_auth_keys *ks, uint8_t *buf, size_t len)
{
	if (ks == NULL || ks->n == 0 || len < DP_FRAME_HDR_LEN)
		return len;
	tag_of(&ks->key[0], buf, len, buf + len);
	return len + DP_FRAME_MAC_LEN;
}

enum dp_auth_status
dp_auth_check(const struct dp_auth_keys *ks, const uint8_t *buf, size_t len)
{
	uint8_t tag[DP_FRAME_MAC_LEN];
	bool has_mac;

	if (len < DP_FRAME_HDR_LEN)
		return DP_AUTH_TRUNC;
	has_mac = (buf[6] & DP_FRAME_F_MAC) != 0;
	if (ks == NULL || ks->n == 0)
		return has_mac ? DP_AUTH_BAD : DP_AUTH_OK;
	if (!has_mac)
		return DP_AUTH_BAD;
	if (len < DP_FRAME_HDR_LEN + DP_FRAME_MAC_LEN)
		return DP_AUTH_TRUNC;
	for (unsigned i = 0; i < ks->n && i < DP_AUTH_MAX_KEYS; i++) {
		if (ks->key[i].id != buf[7])
			continue;
		tag_of(&ks->key[i], buf, len - DP_FRAME_MAC_LEN, tag);
		/* Constant time: no timing oracle on the tag. */
		if (sodium_memcmp(tag, buf + len - DP_FRAME_MAC_LEN, DP_FRAME_MAC_LEN) == 0)
			return DP_AUTH_OK;
	}
	return DP_AUTH_BAD;
}

int
dp_lookup_key_make(struct dp_auth_key *key, const void *material, size_t len)
{
	static const char domain[] = "synode lookup key v1";
	crypto_generichash_state st;
	uint8_t id[crypto_generichash_BYTES_MIN];

	if (key == NULL || material == NULL || len < DP_AUTH_KEY_MIN)
		return -EINVAL;
	crypto_generichash_init(&st, NULL, 0, sizeof(key->k));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, material, len);
	crypto_generichash_final(&st, key->k, sizeof(key->k));
	crypto_generichash(id, sizeof(id), (const uint8_t *)"key id", 6, key->k,
			   sizeof(key->k));
	key->id = (uint8_t)(1 + id[0] % 255);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

void
dp_lookup_tag(const struct dp_auth_key *key, const uint8_t *buf, size_t len, uint8_t tag[16])
{
	crypto_generichash(tag, 16, buf, len, key->k, sizeof(key->k));
}

bool
dp_lookup_tag_ok(const struct dp_auth_key *key, const uint8_t *buf, size_t len,
		 const uint8_t tag[16])
{
	uint8_t want[16];

	dp_lookup_tag(key, buf, len, want);
	return sodium_memcmp(want, tag, sizeof(want)) == 0;
}
