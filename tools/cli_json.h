/* SPDX-License-Identifier: MIT */
/*
 * synodectl's output of byte strings (names, group names, meta: bytes to
 * synode, not text) in JSON and in human-readable lines.
 *
 * JSON (through jansson, which does the escaping): bytes that are valid
 * UTF-8 become a JSON string (a NUL byte becomes "\u0000"); any other bytes
 * become an object {"base64": "..."} (RFC 4648 base64 of the raw bytes), so
 * that a consumer can never mistake them for text.
 *
 * Human-readable: valid UTF-8 is printed as it is, except control bytes
 * (below 0x20, and 0x7f), which are printed as \xNN, and a backslash,
 * printed as \\ so that the escapes are unambiguous; bytes that are not
 * valid UTF-8 are printed as \xNN too.
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/** True if @p len bytes at @p p are valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
bool cli_utf8_valid(const void *p, size_t len);

/** Base64 (RFC 4648, padded) of @p len bytes; malloc'd, NUL-terminated;
 * NULL if out of memory. */
char *cli_base64(const void *p, size_t len);

/** A new JSON value for bytes: a string, or {"base64": ...} (see above).
 * NULL if out of memory. */
json_t *cli_json_bytes(const void *p, size_t len);

/** Sets @p key of @p obj to cli_json_bytes(p, len). Returns 0 or -ENOMEM. */
int cli_json_set_bytes(json_t *obj, const char *key, const void *p, size_t len);

/** Prints @p v on one line of @p f (then flushes it), and releases it.
 * Returns 0, -ENOMEM (NULL @p v) or -EIO. */
int cli_json_print(FILE *f, json_t *v);

/** Prints bytes for humans on @p f (see above). */
void cli_text_bytes(FILE *f, const void *p, size_t len);

#endif /* CLI_JSON_H */
