/* SPDX-License-Identifier: MIT */
/*
 * The lookup service's client library (synode_lookup_client.h): requests
 * encoded with sn_lookup.c's codec, sent over a connected UDP socket (the
 * kernel then gives us only the node's datagrams), answers matched by
 * req_id. Each batch takes req_ids base..base+n-1 from a random start, so
 * that the late answers of an earlier call are not taken for this one's.
 *
 * The MAC of a keyed frame is that of dataplane/dp_auth.c's
 * dp_lookup_tag(): keyed BLAKE2b-128 over the frame, the key a BLAKE2b-256
 * hash of the key file under the domain "synode lookup key v1". Kept the
 * same on both sides by hand (the library does not link the dataplane);
 * the cluster test proves they agree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "synode_lookup_client.h"

#define LC_DEFAULT_PORT 4370
#define LC_REQ_FRAME 1400          /* request frames: fit any MTU of 1500 */
#define LC_RX_BUF 65536
#define LC_KEY_LEN 32
#define LC_TAG_LEN SN_LOOKUP_MAC_LEN
#define LC_F_MAC 0x01

struct synode_lookup_client {
	int fd;
	bool keyed;
	uint8_t key_id;
	uint8_t key[LC_KEY_LEN];
	unsigned try_ms, retries;
	uint32_t next_id;
	uint8_t rx[LC_RX_BUF];
	uint8_t cursor[LC_RX_BUF];    /* the pages' cursor, between frames */
	size_t cursor_len;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
key_make(struct synode_lookup_client *c, const void *material, size_t len)
{
	static const char domain[] = "synode lookup key v1";
	crypto_generichash_state st;
	uint8_t id[crypto_generichash_BYTES_MIN];

	crypto_generichash_init(&st, NULL, 0, LC_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, material, len);
	crypto_generichash_final(&st, c->key, LC_KEY_LEN);
	crypto_generichash(id, sizeof(id), (const uint8_t *)"key id", 6, c->key, LC_KEY_LEN);
	c->key_id = (uint8_t)(1 + id[0] % 255);
	c->keyed = true;
	sodium_memzero(&st, sizeof(st));
}

struct synode_lookup_client *
synode_lookup_open(const char *addr, uint16_t port, const void *key, size_t key_len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct synode_lookup_client *c;
	int err;

	if (addr == NULL || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    (key != NULL && key_len < 32)) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	sa.sin_port = htons(port != 0 ? port : LC_DEFAULT_PORT);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->try_ms = SYNODE_LOOKUP_TRY_MS_DEFAULT;
	c->retries = SYNODE_LOOKUP_RETRIES_DEFAULT;
	if (getrandom(&c->next_id, sizeof(c->next_id), 0) != sizeof(c->next_id))
		c->next_id = (uint32_t)now_ms() * 2654435761u;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	if (key != NULL)
		key_make(c, key, key_len);
	return c;
fail:
	err = errno;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	errno = err;
	return NULL;
}

void
synode_lookup_close(struct synode_lookup_client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

void
synode_lookup_set_timeout(struct synode_lookup_client *c, unsigned try_ms, unsigned retries)
{
	if (c == NULL)
		return;
	c->try_ms = try_ms > 0 ? try_ms : 1;
	c->retries = retries;
}

const char *
synode_lookup_status_name(int status)
{
	switch (status) {
	case SN_LOOKUP_OK:
		return "ok";
	case SN_LOOKUP_UNDEFINED:
		return "undefined";
	case SN_LOOKUP_INVALID_SCOPE:
		return "invalid_scope";
	case SN_LOOKUP_MALFORMED:
		return "malformed";
	case SN_LOOKUP_TOO_BIG:
		return "too_big";
	case SN_LOOKUP_DENIED:
		return "denied";
	default:
		return "?";
	}
}

/* ------------------------------------------------------------- batches */

/* A request frame of a batch: the requests [first, last) in it. */
struct lc_frame {
	size_t first, last;
	size_t len;
	uint8_t buf[LC_REQ_FRAME];
};

/* Ends frame @p f (and signs it). */
static int
frame_end(struct synode_lookup_client *c, struct sn_lookup_enc *e, struct lc_frame *f)
{
	int len = sn_lookup_enc_end(e);

	if (len < 0)
		return len;
	f->len = (size_t)len;
	if (c->keyed) {
		f->buf[6] |= LC_F_MAC;
		f->buf[7] = c->key_id;
		crypto_generichash(f->buf + f->len, LC_TAG_LEN, f->buf, f->len, c->key,
				   LC_KEY_LEN);
		f->len += LC_TAG_LEN;
	}
	return 0;
}

static void
frame_start(struct synode_lookup_client *c, struct sn_lookup_enc *e, struct lc_frame *f,
	    size_t first)
{
	f->first = f->last = first;
	sn_lookup_enc_start(e, f->buf, sizeof(f->buf), SN_LOOKUP_REQUEST,
			    c->keyed ? c->key_id : 0);
}

/*
 * Encodes @p reqs into frames (*@p out, *@p n_out); req_id = base + index.
 * A frame takes requests until one does not fit (or ITEMS_MAX): then it
 * is encoded again with those that did, from a fresh encoder (an encoder
 * that said -ENOSPC may refuse to end).
 */
static int
encode(struct synode_lookup_client *c, const struct sn_lookup_req *reqs, size_t n,
       uint32_t base, struct lc_frame **out, size_t *n_out)
{
	struct lc_frame *fr = NULL;
	size_t nf = 0, cap = 0, i = 0;
	int rc;

	while (i < n) {
		struct sn_lookup_enc e;
		struct lc_frame *f;
		size_t k;

		if (nf == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct lc_frame *t = realloc(fr, ncap * sizeof(*fr));

			if (t == NULL) {
				free(fr);
				return -ENOMEM;
			}
			fr = t;
			cap = ncap;
		}
		f = &fr[nf++];
		/* How many fit. */
		frame_start(c, &e, f, i);
		for (k = i; k < n && k - i < SN_LOOKUP_ITEMS_MAX; k++) {
			struct sn_lookup_req r = reqs[k];

			r.req_id = base + (uint32_t)k;
			rc = sn_lookup_enc_req(&e, &r);
			if (rc == -ENOSPC && k > i)
				break;
			if (rc < 0) {
				free(fr);
				return rc == -ENOSPC ? -EMSGSIZE : -EINVAL;
			}
		}
		/* Those, again, ended. */
		frame_start(c, &e, f, i);
		for (size_t j = i; j < k; j++) {
			struct sn_lookup_req r = reqs[j];

			r.req_id = base + (uint32_t)j;
			rc = sn_lookup_enc_req(&e, &r);
			if (rc < 0) {
				free(fr);
				return -EINVAL;
			}
		}
		f->last = k;
		rc = frame_end(c, &e, f);
		if (rc < 0) {
			free(fr);
			return -EINVAL;
		}
		i = k;
	}
	*out = fr;
	*n_out = nf;
	return 0;
}

/* The answer frame in c->rx (@p len bytes): its length without a valid
 * trailer, or -1 if it is not to be believed. */
static ssize_t
answer_check(struct synode_lookup_client *c, size_t len)
{
	uint8_t tag[LC_TAG_LEN];
	uint8_t key_id;
	bool mac;

	if (len < SN_LOOKUP_HDR_LEN)
		return -1;
	mac = (c->rx[6] & LC_F_MAC) != 0;
	if (c->keyed != mac)
		return -1;
	if (mac) {
		if (len < SN_LOOKUP_HDR_LEN + LC_TAG_LEN || c->rx[7] != c->key_id)
			return -1;
		len -= LC_TAG_LEN;
		crypto_generichash(tag, sizeof(tag), c->rx, len, c->key, LC_KEY_LEN);
		if (sodium_memcmp(tag, c->rx + len, sizeof(tag)) != 0)
			return -1;
	}
	if (sn_lookup_frame_check(c->rx, len, SN_LOOKUP_ANSWER, &key_id) < 0)
		return -1;
	return (ssize_t)len;
}

static int
send_frames(struct synode_lookup_client *c, const struct lc_frame *fr, size_t nf,
	    const bool *answered)
{
	for (size_t i = 0; i < nf; i++) {
		bool all = true;

		for (size_t k = fr[i].first; k < fr[i].last && all; k++)
			all = answered[k];
		if (all)
			continue;
		if (send(c->fd, fr[i].buf, fr[i].len, 0) < 0 && errno != ECONNREFUSED &&
		    errno != EINTR && errno != EAGAIN && errno != ENOBUFS)
			return -errno;
	}
	return 0;
}

int
synode_lookup_batch(struct synode_lookup_client *c, const struct sn_lookup_req *reqs,
		    size_t n, synode_lookup_answer_fn fn, void *arg)
{
	struct lc_frame *fr = NULL;
	size_t nf = 0, left = n;
	uint32_t base;
	bool *answered;
	int rc;

	if (c == NULL || (n > 0 && reqs == NULL) || n > UINT32_MAX / 2)
		return -EINVAL;
	if (n == 0)
		return 0;
	base = c->next_id;
	c->next_id += (uint32_t)n;
	answered = calloc(n, sizeof(*answered));
	if (answered == NULL)
		return -ENOMEM;
	rc = encode(c, reqs, n, base, &fr, &nf);
	if (rc < 0)
		goto out;
	for (unsigned t = 0; t <= c->retries && left > 0; t++) {
		uint64_t deadline = now_ms() + c->try_ms;

		rc = send_frames(c, fr, nf, answered);
		if (rc < 0)
			goto out;
		while (left > 0) {
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			struct sn_lookup_iter it;
			struct sn_lookup_ans a;
			uint64_t now = now_ms();
			ssize_t len;

			if (now >= deadline)
				break;
			rc = poll(&pfd, 1, (int)(deadline - now));
			if (rc < 0 && errno != EINTR) {
				rc = -errno;
				goto out;
			}
			if (rc <= 0)
				continue;
			len = recv(c->fd, c->rx, sizeof(c->rx), MSG_DONTWAIT);
			if (len < 0)
				continue;   /* ECONNREFUSED: nobody there yet; try on */
			len = answer_check(c, (size_t)len);
			if (len < 0)
				continue;
			sn_lookup_iter_init(&it, c->rx, (size_t)len);
			while (sn_lookup_next_ans(&it, &a) == 1) {
				size_t idx = (size_t)(a.req_id - base);

				if (idx >= n || answered[idx])
					continue;
				answered[idx] = true;
				left--;
				if (fn != NULL)
					fn(idx, &a, arg);
			}
		}
	}
	rc = left > 0 ? -ETIMEDOUT : 0;
out:
	free(fr);
	free(answered);
	return rc;
}

/* ------------------------------------------------------------ one-shots */

struct lc_one {
	int status;
	struct sn_lookup_ans a;     /* valid in the callback only */
	struct synode_pid *pid;
	void *meta;
	size_t *meta_len;
	uint64_t *count;
	bool got;
};

static void
one_lookup(size_t index, const struct sn_lookup_ans *a, void *arg)
{
	struct lc_one *o = arg;
	struct sn_lookup_entry e;
	size_t pos = 0;

	(void)index;
	o->got = true;
	o->status = (int)a->status;
	if (a->status != SN_LOOKUP_OK)
		return;
	if (sn_lookup_next_entry(a, &pos, &e) != 1) {
		o->status = -EPROTO;
		return;
	}
	if (o->pid != NULL)
		*o->pid = e.pid;
	if (o->meta_len != NULL) {
		size_t room = *o->meta_len;

		if (o->meta != NULL && room > 0 && e.meta_len > 0)
			memcpy(o->meta, e.meta, e.meta_len < room ? e.meta_len : room);
		*o->meta_len = e.meta_len;
	}
}

int
synode_lookup_name(struct synode_lookup_client *c, const char *scope, const void *name,
		   size_t name_len, struct synode_pid *pid, void *meta, size_t *meta_len)
{
	struct sn_lookup_req r = {.op = SN_LOOKUP_OP_LOOKUP, .key = name, .key_len = name_len};
	struct lc_one o = {.pid = pid, .meta = meta, .meta_len = meta_len};
	int rc;

	if (scope == NULL || strlen(scope) > SYNODE_SCOPE_NAME_MAX)
		return -EINVAL;
	memcpy(r.scope, scope, strlen(scope) + 1);
	rc = synode_lookup_batch(c, &r, 1, one_lookup, &o);
	return rc < 0 ? rc : o.status;
}

static void
one_count(size_t index, const struct sn_lookup_ans *a, void *arg)
{
	struct lc_one *o = arg;

	(void)index;
	o->status = (int)a->status;
	if (a->status == SN_LOOKUP_OK && o->count != NULL)
		*o->count = a->count;
}

int
synode_lookup_count(struct synode_lookup_client *c, enum sn_lookup_op op, const char *scope,
		    const void *key, size_t key_len, uint64_t *count)
{
	struct sn_lookup_req r = {.op = op};
	struct lc_one o = {.count = count};
	int rc;

	if (scope == NULL || strlen(scope) > SYNODE_SCOPE_NAME_MAX)
		return -EINVAL;
	memcpy(r.scope, scope, strlen(scope) + 1);
	switch (op) {
	case SN_LOOKUP_OP_REG_COUNT:
		if (key_len > SYNODE_NODE_NAME_MAX || (key_len > 0 && key == NULL))
			return -EINVAL;
		if (key_len > 0)
			memcpy(r.node, key, key_len);
		r.node[key_len] = '\0';
		break;
	case SN_LOOKUP_OP_MEMBER_COUNT:
		r.key = key;
		r.key_len = key_len;
		break;
	case SN_LOOKUP_OP_GROUP_COUNT:
		break;
	default:
		return -EINVAL;
	}
	rc = synode_lookup_batch(c, &r, 1, one_count, &o);
	return rc < 0 ? rc : o.status;
}

/* ---------------------------------------------------------------- pages */

struct lc_page {
	struct synode_lookup_client *c;
	synode_lookup_entry_fn fn;
	void *arg;
	int status;         /* of the answer, or fn's stop value, or -EPROTO */
	bool stopped, more;
	unsigned n;
};

static void
one_page(size_t index, const struct sn_lookup_ans *a, void *arg)
{
	struct lc_page *pg = arg;
	struct sn_lookup_entry e;
	size_t pos = 0;
	int rc;

	(void)index;
	pg->status = (int)a->status;
	pg->more = false;
	pg->n = 0;
	if (a->status != SN_LOOKUP_OK)
		return;
	while ((rc = sn_lookup_next_entry(a, &pos, &e)) == 1) {
		pg->n++;
		rc = pg->fn != NULL ? pg->fn(&e, pg->arg) : 0;
		if (rc != 0) {
			pg->status = rc;
			pg->stopped = true;
			return;
		}
	}
	if (rc < 0) {
		pg->status = -EPROTO;
		return;
	}
	pg->more = a->more;
	if (a->more) {
		if (a->cursor_len > sizeof(pg->c->cursor)) {
			pg->status = -EPROTO;
			return;
		}
		if (a->cursor_len > 0)
			memcpy(pg->c->cursor, a->cursor, a->cursor_len);
		pg->c->cursor_len = a->cursor_len;
	}
}

int
synode_lookup_pages(struct synode_lookup_client *c, const struct sn_lookup_req *first,
		    synode_lookup_entry_fn fn, void *arg)
{
	struct lc_page pg = {.c = c, .fn = fn, .arg = arg};
	struct sn_lookup_req r;
	int rc;

	if (c == NULL || first == NULL ||
	    (first->op != SN_LOOKUP_OP_MEMBERS && first->op != SN_LOOKUP_OP_SCAN_PREFIX &&
	     first->op != SN_LOOKUP_OP_SCAN_RANGE))
		return -EINVAL;
	r = *first;
	if (r.limit == 0 || r.limit > SN_LOOKUP_LIMIT_MAX)
		r.limit = SN_LOOKUP_LIMIT_MAX;
	r.cursor = NULL;
	r.cursor_len = 0;
	/* Every page moves the cursor on; bounded all the same. */
	for (unsigned pages = 0; pages < (1u << 20); pages++) {
		rc = synode_lookup_batch(c, &r, 1, one_page, &pg);
		if (rc < 0)
			return rc;
		if (pg.stopped || pg.status != SN_LOOKUP_OK || !pg.more)
			return pg.status;
		if (pg.n == 0 && r.cursor_len == c->cursor_len &&
		    (r.cursor_len == 0 || memcmp(r.cursor, c->cursor, r.cursor_len) == 0))
			return -EPROTO; /* more, and no step forward */
		r.cursor = c->cursor;
		r.cursor_len = c->cursor_len;
	}
	return -EPROTO;
}

static int
pages_of(struct synode_lookup_client *c, enum sn_lookup_op op, const char *scope,
	 const void *key, size_t key_len, const void *to, size_t to_len,
	 synode_lookup_entry_fn fn, void *arg)
{
	struct sn_lookup_req r = {.op = op, .key = key, .key_len = key_len, .to = to,
				  .to_len = to_len};

	if (scope == NULL || strlen(scope) > SYNODE_SCOPE_NAME_MAX)
		return -EINVAL;
	memcpy(r.scope, scope, strlen(scope) + 1);
	return synode_lookup_pages(c, &r, fn, arg);
}

int
synode_lookup_members(struct synode_lookup_client *c, const char *scope, const void *group,
		      size_t group_len, synode_lookup_entry_fn fn, void *arg)
{
	return pages_of(c, SN_LOOKUP_OP_MEMBERS, scope, group, group_len, NULL, 0, fn, arg);
}

int
synode_lookup_scan_prefix(struct synode_lookup_client *c, const char *scope,
			  const void *prefix, size_t prefix_len, synode_lookup_entry_fn fn,
			  void *arg)
{
	return pages_of(c, SN_LOOKUP_OP_SCAN_PREFIX, scope, prefix, prefix_len, NULL, 0, fn,
			arg);
}

int
synode_lookup_scan_range(struct synode_lookup_client *c, const char *scope, const void *from,
			 size_t from_len, const void *to, size_t to_len,
			 synode_lookup_entry_fn fn, void *arg)
{
	return pages_of(c, SN_LOOKUP_OP_SCAN_RANGE, scope, from, from_len, to, to_len, fn,
			arg);
}
