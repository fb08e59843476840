/* SPDX-License-Identifier: MIT */
/*
 * The lookup benchmarks' name set, shared by perf/lookup_node.c (served by
 * the dataplane) and perf/lookup_udp_server.c (served over kernel UDP), so
 * that both serve the same tables: @p count handles, handle i registered in
 * @p scope as "key-%08u" with meta = i (8 bytes), through synode_batch().
 */
#ifndef PERF_LOOKUP_NAMES_H
#define PERF_LOOKUP_NAMES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "synode.h"

#define LOOKUP_NAMES_BATCH 256

/* Returns 0, or the first error (synode_strerror() names it). */
static inline int
lookup_names_fill(struct synode *n, const char *scope, unsigned count)
{
	static struct synode_op ops[LOOKUP_NAMES_BATCH];
	static char names[LOOKUP_NAMES_BATCH][16];
	static uint64_t metas[LOOKUP_NAMES_BATCH];

	for (unsigned base = 0; base < count; base += LOOKUP_NAMES_BATCH) {
		unsigned k = count - base < LOOKUP_NAMES_BATCH ? count - base : LOOKUP_NAMES_BATCH;
		int rc;

		for (unsigned i = 0; i < k; i++) {
			memset(&ops[i], 0, sizeof(ops[i]));
			rc = synode_handle_new(n, &ops[i].pid);
			if (rc != 0)
				return rc;
			metas[i] = base + i;
			ops[i].kind = SYNODE_OP_REGISTER;
			ops[i].scope = scope;
			ops[i].name = names[i];
			ops[i].name_len = (size_t)snprintf(names[i], sizeof(names[i]), "key-%08u",
							   base + i);
			ops[i].meta = &metas[i];
			ops[i].meta_len = sizeof(metas[i]);
		}
		rc = synode_batch(n, ops, k);
		for (unsigned i = 0; rc == 0 && i < k; i++)
			rc = ops[i].result;
		if (rc != 0)
			return rc;
	}
	return 0;
}

#endif /* PERF_LOOKUP_NAMES_H */
