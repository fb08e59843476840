/* SPDX-License-Identifier: MIT */
/*
 * What every table shares: parameters, memory, deferred frees, objects.
 *
 * Deferred frees. The writer retires memory that readers may still hold
 * into a batch; a full batch goes to call_rcu() of the table's flavour as
 * one callback (rtab_reclaim_cb), so a grace period is paid per 255 frees
 * and objects carry no rcu_head. A retired pointer waits at most until 255
 * more are retired, or until the table is freed. Retiring never fails: a
 * spare batch is kept, and when none can be allocated the writer waits for
 * a grace period itself and frees the full batch in place (writers run
 * outside read-side critical sections).
 *
 * Flavour. urcu-memb is the default. Measured (perf/run, "RCU flavours":
 * a 1M-key set, 16-byte keys, one lookup per read-side section; the idle
 * run in perf/results/rtab-latest.md), M lookups/s:
 *                   1 reader   2 readers   2 readers + 1% writer
 *   qsbr              7.8        14.9         10.0
 *   memb (inline)     5.4        11.3         10.6
 *   memb (called)     4.7        10.5          8.1
 *   mb (inline)       2.4         4.9          4.1   (a fence per lock)
 * qsbr's readers are the fastest while nothing writes; with a writer memb
 * kept up. What decides is that qsbr makes every reader thread report
 * quiescent states or stall grace periods, a duty the embedding API cannot
 * put on its callers' threads; memb asks nothing of readers. Readers should
 * inline its read side (_LGPL_SOURCE): called out of line, through the
 * dynamic TLS of a shared library, a lock/unlock pair costs ~20 ns here.
 * DPDK lcores, which report quiescent states anyway, can pass qsbr in
 * rtab_params.flavor.
 */
#include <stdlib.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "rtab_internal.h"
#include "rtab_tsan.h"

#ifdef RTAB_DEBUG_YIELD
unsigned rtab_debug_yield_permille;

void
rtab_debug_yield(void)
{
	static _Thread_local uint64_t x = 0x9e3779b97f4a7c15u;
	unsigned p = __atomic_load_n(&rtab_debug_yield_permille, __ATOMIC_RELAXED);

	if (p == 0)
		return;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	if (x % 1000 < p)
		sched_yield();
}
#endif

/*
 * Bucket arrays of 2 MiB and more are 2 MiB aligned and advised for
 * transparent huge pages: a random bucket then costs no page walk (measured
 * on a 1M-key set: ~8% more lookups/s). Objects come from malloc.
 */
#define HUGE_PAGE ((size_t)2 << 20)

static void *
default_alloc(void *arg, size_t size, size_t align)
{
	(void)arg;
	if (size >= HUGE_PAGE) {
		size_t len = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		void *p = aligned_alloc(HUGE_PAGE, len);

		if (p != NULL)
			(void)madvise(p, len, MADV_HUGEPAGE); /* advice only */
		return p;
	}
	if (align <= 16)
		return malloc(size);
	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

static void
default_free(void *arg, void *ptr)
{
	(void)arg;
	free(ptr);
}

static const struct rtab_allocator default_allocator = {
	.alloc = default_alloc,
	.free = default_free,
	.arg = NULL,
};

void *
rtab_env_alloc(struct rtab_env *env, size_t size, size_t align)
{
	void *p = env->alloc.alloc(env->alloc.arg, size, align);

	if (p == NULL)
		return NULL;
	/* Slots keep a pointer in 48 bits (rtab_internal.h). */
	if (RTAB_UNLIKELY((uintptr_t)p > RTAB_SLOT_PTR_MASK)) {
		env->alloc.free(env->alloc.arg, p);
		return NULL;
	}
	atomic_fetch_add_explicit(&env->bytes, size, memory_order_relaxed);
	return p;
}

void
rtab_env_free_now(struct rtab_env *env, void *ptr, size_t size)
{
	if (ptr == NULL)
		return;
	env->alloc.free(env->alloc.arg, ptr);
	atomic_fetch_sub_explicit(&env->bytes, size, memory_order_relaxed);
}

static void
batch_free_items(struct rtab_retire_batch *rb)
{
	for (unsigned i = 0; i < rb->n; i++)
		rtab_env_free_now(rb->env, rb->item[i].ptr, rb->item[i].size);
	rb->n = 0;
}

/* Runs on the flavour's call_rcu thread after a grace period. */
static void
rtab_reclaim_cb(struct rcu_head *head)
{
	struct rtab_retire_batch *rb = caa_container_of(head, struct rtab_retire_batch, rcu);
	struct rtab_env *env;

	RTAB_TSAN_ACQUIRE(rb); /* pairs with the release in rtab_env_retire() */
	env = rb->env;

	batch_free_items(rb);
	rtab_env_free_now(env, rb, sizeof(*rb));
	RTAB_TSAN_RELEASE(env); /* the last touch of env: pairs with rtab_env_fini() */
}

static struct rtab_retire_batch *
batch_new(struct rtab_env *env)
{
	struct rtab_retire_batch *rb = rtab_env_alloc(env, sizeof(*rb), 16);

	if (rb != NULL) {
		rb->env = env;
		rb->n = 0;
	}
	return rb;
}

void
rtab_env_retire(struct rtab_env *env, void *ptr, size_t size)
{
	struct rtab_retire_batch *rb = env->batch;

	if (rb->n == RTAB_RETIRE_BATCH) {
		if (env->spare == NULL)
			env->spare = batch_new(env);
		if (env->spare != NULL) {
			RTAB_TSAN_RELEASE(rb); /* the call_rcu hand-off, seen by TSan */
			env->flavor->update_call_rcu(&rb->rcu, rtab_reclaim_cb);
			rb = env->batch = env->spare;
			env->spare = batch_new(env); /* may fail: retried next time */
		} else {
			/* Out of memory: wait for the readers here instead. */
			env->flavor->update_synchronize_rcu();
			batch_free_items(rb);
		}
	}
	rb->item[rb->n].ptr = ptr;
	rb->item[rb->n].size = size;
	rb->n++;
}

struct rtab_obj *
rtab_env_obj_new(struct rtab_env *env, size_t front, const void *key,
		 size_t key_len, const void *value, size_t value_len,
		 uint64_t hash, uint16_t flags)
{
	size_t size = front + rtab_obj_size(key_len, value_len);
	unsigned char *p = rtab_env_alloc(env, size, 8);
	struct rtab_obj *o;

	if (p == NULL)
		return NULL;
	o = (struct rtab_obj *)(p + front);
	o->hash = hash;
	o->key_len = (uint16_t)key_len;
	o->flags = flags;
	o->value_len = (uint32_t)value_len;
	if (key_len)
		memcpy(o + 1, key, key_len);
	if (value_len)
		memcpy((void *)(uintptr_t)rtab_obj_value(o), value, value_len);
	return o;
}

int
rtab_env_init(struct rtab_env *env, const struct rtab_params *p)
{
	static const struct rtab_params defaults;

	if (p == NULL)
		p = &defaults;
	memset(env, 0, sizeof(*env));
	env->flavor = p->flavor ? p->flavor : &urcu_memb_flavor;
	env->alloc = p->allocator ? *p->allocator : default_allocator;
	if (env->alloc.alloc == NULL || env->alloc.free == NULL)
		return -EINVAL;
	env->name = p->name ? p->name : "rtab";
	env->max_objects = p->max_objects;
	env->seed = p->seed;
	if (env->seed == 0 && getrandom(&env->seed, sizeof(env->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(env->seed))
		env->seed = (uint64_t)(uintptr_t)env ^ 0x243f6a8885a308d3u;
	env->rng = env->seed ^ 0x9e3779b97f4a7c15u;
	if (env->rng == 0)
		env->rng = 1;
	env->batch = batch_new(env);
	if (env->batch == NULL)
		return -ENOMEM;
	env->spare = batch_new(env);
	return 0;
}

void
rtab_env_fini(struct rtab_env *env)
{
	/* Readers are gone; earlier batches may still sit in call_rcu queues. */
	env->flavor->update_synchronize_rcu();
	batch_free_items(env->batch);
	rtab_env_free_now(env, env->batch, sizeof(*env->batch));
	if (env->spare != NULL)
		rtab_env_free_now(env, env->spare, sizeof(*env->spare));
	/* Their callbacks touch env->bytes: let them finish first. */
	env->flavor->barrier();
	RTAB_TSAN_ACQUIRE(env); /* what they did is done: the caller frees env */
}
