/* SPDX-License-Identifier: MIT */
/*
 * Byte strings in synodectl's JSON and text output: see cli_json.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli_json.h"

/* Length of the valid UTF-8 sequence at @p s (at most @p n bytes), or 0. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0; /* a continuation byte, 0xc0, 0xc1 or above 0xf4 */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

bool
cli_utf8_valid(const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len;) {
		size_t l = utf8_seq_len(s + i, len - i);

		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

char *
cli_base64(const void *p, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0, i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

json_t *
cli_json_bytes(const void *p, size_t len)
{
	json_t *obj;
	char *b64;

	if (cli_utf8_valid(p, len))
		return json_stringn(len > 0 ? p : "", len);
	b64 = cli_base64(p, len);
	if (b64 == NULL)
		return NULL;
	obj = json_pack("{s:s}", "base64", b64);
	free(b64);
	return obj;
}

int
cli_json_set_bytes(json_t *obj, const char *key, const void *p, size_t len)
{
	json_t *v = cli_json_bytes(p, len);

	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return -ENOMEM;
	return 0;
}

int
cli_json_print(FILE *f, json_t *v)
{
	int rc = 0;

	if (v == NULL)
		return -ENOMEM;
	/*
	 * One value per line (JSON Lines, so that `watch` can stream), with
	 * jansson's default separators: {"ok": true}, as in DESIGN.md. Keys
	 * in the order they were set.
	 */
	if (json_dumpf(v, f, JSON_PRESERVE_ORDER) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0)
		rc = -EIO;
	json_decref(v);
	return rc;
}

void
cli_text_bytes(FILE *f, const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len;) {
		size_t l = utf8_seq_len(s + i, len - i);

		if (l == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			fprintf(f, "\\x%02x", s[i]);
			i++;
		} else if (s[i] == '\\') {
			fputs("\\\\", f);
			i++;
		} else {
			fwrite(s + i, 1, l, f);
			i += l;
		}
	}
}
