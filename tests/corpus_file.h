/* SPDX-License-Identifier: MIT */
/*
 * The seed-corpus generators' one file operation (tests/ctl/gen_corpus.c,
 * tests/control/gen_corpus_wire.c, gen_corpus_lookup.c,
 * tests/dataplane/gen_corpus_frame.c): write a seed, or with --check make
 * sure the committed file holds exactly these bytes.
 */
#ifndef TESTS_CORPUS_FILE_H
#define TESTS_CORPUS_FILE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes @p len bytes of @p buf to @p path, or (@p check) compares them
 * with it, naming @p prog and @p dir in a stale file's message. Returns 0,
 * or 1 after printing why. */
static inline int
corpus_file(const char *prog, const char *dir, const char *path, const void *buf,
	    size_t len, bool check)
{
	FILE *f = fopen(path, check ? "rb" : "wb");
	int bad = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (check) {
		/* one byte more than expected: a longer file is stale too */
		unsigned char *old = malloc(len + 1);
		size_t n = old != NULL ? fread(old, 1, len + 1, f) : 0;

		if (old == NULL || n != len || memcmp(old, buf, n) != 0) {
			fprintf(stderr, "%s: stale (run %s %s)\n", path, prog, dir);
			bad = 1;
		}
		free(old);
	} else if (fwrite(buf, 1, len, f) != len) {
		fprintf(stderr, "%s: write failed\n", path);
		bad = 1;
	}
	if (fclose(f) != 0)
		bad = 1;
	return bad;
}

#endif /* TESTS_CORPUS_FILE_H */
