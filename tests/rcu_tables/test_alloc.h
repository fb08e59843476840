/* SPDX-License-Identifier: MIT */
/*
 * A struct rtab_allocator for tests. It
 *   - counts allocations and live blocks and bytes, so a test proves that a
 *     freed table gave back every block (live == 0 after the grace period);
 *   - fails on request: the allocation numbered fail_at (one shot), or every
 *     allocation while fail_all is set, to drive every -ENOMEM path;
 *   - checks each free (a header with a magic word catches frees of foreign
 *     pointers and most double frees) and poisons the freed block, so a
 *     reader that still reads an object after it was freed sees garbage
 *     and its checksum fails even without a sanitizer;
 *   - checks that the alignment asked for is a power of two and honoured.
 * MT-safe: the library frees from the RCU callback thread.
 */
#ifndef TEST_ALLOC_H
#define TEST_ALLOC_H

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rtab.h"
#include "test_util.h"

#define TA_MAGIC 0x7461626c6f636b21u   /* "tablock!" */
#define TA_POISON 0xdb

struct ta_alloc {
	struct rtab_allocator a;
	atomic_long n_alloc;      /* allocations asked for, failed ones too */
	atomic_long live;         /* blocks not yet freed */
	atomic_long live_bytes;   /* bytes asked for and not yet freed */
	atomic_long fail_at;      /* fail the allocation with this number */
	atomic_int fail_all;      /* fail every allocation */
	atomic_long n_failed;     /* allocations refused */
};

/* Sits in the 16 (or align) bytes before the block handed out. */
struct ta_hdr {
	uint64_t magic;
	uint32_t size;
	uint32_t pad;             /* bytes from the malloc'd base to the block */
};

static inline void *
ta_alloc_fn(void *arg, size_t size, size_t align)
{
	struct ta_alloc *ta = arg;
	long n = atomic_fetch_add(&ta->n_alloc, 1) + 1;
	size_t pad;
	unsigned char *base;
	struct ta_hdr *h;

	CHECK_MSG(align != 0 && (align & (align - 1)) == 0, "align %zu", align);
	CHECK_MSG(size < ((size_t)1 << 31), "size %zu", size);
	if (atomic_load(&ta->fail_all) || n == atomic_load(&ta->fail_at)) {
		atomic_fetch_add(&ta->n_failed, 1);
		return NULL;
	}
	pad = align < sizeof(struct ta_hdr) ? sizeof(struct ta_hdr) : align;
	base = aligned_alloc(pad, (pad + size + pad - 1) & ~(pad - 1));
	if (base == NULL)
		return NULL;
	h = (struct ta_hdr *)(base + pad) - 1;
	h->magic = TA_MAGIC;
	h->size = (uint32_t)size;
	h->pad = (uint32_t)pad;
	atomic_fetch_add(&ta->live, 1);
	atomic_fetch_add(&ta->live_bytes, (long)size);
	/* Fresh memory holds garbage, as malloc's may: the library must not
	 * rely on zeroed blocks. */
	memset(base + pad, 0xa5, size);
	return base + pad;
}

static inline void
ta_free_fn(void *arg, void *ptr)
{
	struct ta_alloc *ta = arg;
	struct ta_hdr *h;
	size_t size, pad;

	if (ptr == NULL)
		return;
	h = (struct ta_hdr *)ptr - 1;
	CHECK_MSG(h->magic == TA_MAGIC, "free of %p: not a live block of this allocator", ptr);
	size = h->size;
	pad = h->pad;
	atomic_fetch_sub(&ta->live, 1);
	atomic_fetch_sub(&ta->live_bytes, (long)size);
	memset((unsigned char *)ptr - pad, TA_POISON, pad + size);
	free((unsigned char *)ptr - pad);
}

static inline void
ta_init(struct ta_alloc *ta)
{
	memset(ta, 0, sizeof(*ta));
	ta->a.alloc = ta_alloc_fn;
	ta->a.free = ta_free_fn;
	ta->a.arg = ta;
}

/** Makes the @p nth allocation from now fail (once); 0 disarms. */
static inline void
ta_fail_nth(struct ta_alloc *ta, long nth)
{
	atomic_store(&ta->fail_at, nth ? atomic_load(&ta->n_alloc) + nth : 0);
}

#endif /* TEST_ALLOC_H */
