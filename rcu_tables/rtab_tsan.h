/* SPDX-License-Identifier: MIT */
/*
 * ThreadSanitizer annotations for hand-offs through liburcu, whose queues
 * (wfcqueue, call_rcu) order memory inside uninstrumented code that TSan
 * cannot see: the handing thread releases the object, the receiving thread
 * acquires it. Empty in other builds. For rcu_tables and its users.
 */
#ifndef RTAB_TSAN_H
#define RTAB_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define RTAB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RTAB_TSAN 1
#endif
#endif

#ifdef RTAB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define RTAB_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define RTAB_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define RTAB_TSAN_RELEASE(p) do { } while (0)
#define RTAB_TSAN_ACQUIRE(p) do { } while (0)
#endif

#endif /* RTAB_TSAN_H */
