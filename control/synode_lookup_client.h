/* SPDX-License-Identifier: MIT */
/*
 * synode_lookup_client: asks a node's lookup service (issue 6,
 * control/sn_lookup.h) over a plain kernel UDP socket, from any host. No
 * liburcu, no DPDK: the requests go to the node's dataplane address and
 * UDP port, and its lcore answers from its tables.
 *
 *     struct synode_lookup_client *c = synode_lookup_open("10.0.0.1", 0, NULL, 0);
 *     struct synode_pid pid;
 *     char meta[256];
 *     size_t mlen = sizeof(meta);
 *     int st = synode_lookup_name(c, "s", "name", 4, &pid, meta, &mlen);
 *     // st: SN_LOOKUP_OK, SN_LOOKUP_UNDEFINED, ... or -ETIMEDOUT, -errno
 *     synode_lookup_close(c);
 *
 * UDP loses datagrams: each call sends its frames, waits up to the try
 * time for the answers, and sends again the frames whose answers did not
 * all come, a few times (synode_lookup_set_timeout), before -ETIMEDOUT.
 * Answers are matched to requests by req_id; late duplicates are ignored.
 * Many requests go in one frame (synode_lookup_batch). With a key (the
 * bytes of a key file, as synode --lookup-key), every request carries a
 * MAC and only answers with a valid MAC are believed.
 *
 * Not thread-safe: one client per thread (they are cheap: one socket).
 */
#ifndef SYNODE_LOOKUP_CLIENT_H
#define SYNODE_LOOKUP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "sn_lookup.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SYNODE_LOOKUP_TRY_MS_DEFAULT 200
#define SYNODE_LOOKUP_RETRIES_DEFAULT 4

struct synode_lookup_client;

/**
 * Opens a client of the node at IPv4 address @p addr ("A.B.C.D"), UDP
 * port @p port (0: 4370). @p key: NULL, or @p key_len (>= 32) bytes of a
 * lookup key file. Returns NULL with errno (EINVAL, ENOMEM, a socket's).
 */
struct synode_lookup_client *synode_lookup_open(const char *addr, uint16_t port,
						const void *key, size_t key_len);
void synode_lookup_close(struct synode_lookup_client *c);

/** Each try waits @p try_ms for its answers; @p retries more tries. */
void synode_lookup_set_timeout(struct synode_lookup_client *c, unsigned try_ms,
			       unsigned retries);

/** Called once per request answered: @p index in the batch; @p a points
 * into the frame received, valid during the call only. */
typedef void (*synode_lookup_answer_fn)(size_t index, const struct sn_lookup_ans *a,
					void *arg);

/**
 * Sends @p n requests (their req_id is the client's: set by the call), as
 * many per frame as fit, and calls @p fn for each answer. Returns 0 when
 * every request was answered, -ETIMEDOUT if some were not after every try
 * (@p fn was called for the others), -EINVAL (a request that does not
 * encode), -ENOMEM, or a socket's -errno.
 */
int synode_lookup_batch(struct synode_lookup_client *c, const struct sn_lookup_req *reqs,
			size_t n, synode_lookup_answer_fn fn, void *arg);

/**
 * Exact lookup. Returns the answer's status (SN_LOOKUP_OK: @p pid and the
 * meta filled; SN_LOOKUP_UNDEFINED, _INVALID_SCOPE, _DENIED, ...) or
 * -errno. @p meta_len: in, the room at @p meta; out, the meta's length
 * (the copy is cut to the room).
 */
int synode_lookup_name(struct synode_lookup_client *c, const char *scope, const void *name,
		       size_t name_len, struct synode_pid *pid, void *meta, size_t *meta_len);

/**
 * A count: @p op SN_LOOKUP_OP_REG_COUNT (@p key: a node name, or empty:
 * the whole scope), SN_LOOKUP_OP_MEMBER_COUNT (@p key: the group) or
 * SN_LOOKUP_OP_GROUP_COUNT (no key). Returns the status or -errno.
 */
int synode_lookup_count(struct synode_lookup_client *c, enum sn_lookup_op op,
			const char *scope, const void *key, size_t key_len, uint64_t *count);

/** An entry of a page; nonzero stops the walk (returned by the call). */
typedef int (*synode_lookup_entry_fn)(const struct sn_lookup_entry *e, void *arg);

/**
 * Every page of a MEMBERS, SCAN_PREFIX or SCAN_RANGE request (@p first:
 * its cursor is ignored; limit 0: the largest), @p fn for each entry in
 * order. Returns the status of the first page that is not OK, the value
 * of @p fn that stopped the walk, SN_LOOKUP_OK after the last page, or
 * -errno.
 */
int synode_lookup_pages(struct synode_lookup_client *c, const struct sn_lookup_req *first,
			synode_lookup_entry_fn fn, void *arg);

/** The members of @p group, every page. As synode_lookup_pages(). */
int synode_lookup_members(struct synode_lookup_client *c, const char *scope,
			  const void *group, size_t group_len, synode_lookup_entry_fn fn,
			  void *arg);

/** Registrations whose names start with @p prefix, in name order. */
int synode_lookup_scan_prefix(struct synode_lookup_client *c, const char *scope,
			      const void *prefix, size_t prefix_len, synode_lookup_entry_fn fn,
			      void *arg);

/** Registrations with names in [@p from, @p to) (@p to_len 0: to the end). */
int synode_lookup_scan_range(struct synode_lookup_client *c, const char *scope,
			     const void *from, size_t from_len, const void *to, size_t to_len,
			     synode_lookup_entry_fn fn, void *arg);

/** Text of a status: "ok", "undefined", "invalid_scope", "malformed",
 * "too_big", "denied", or "?". */
const char *synode_lookup_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* SYNODE_LOOKUP_CLIENT_H */
