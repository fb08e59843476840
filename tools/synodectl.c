/* SPDX-License-Identifier: MIT */
/*
 * synodectl: Syn's verbs on the command line, against a synode node over
 * its control socket, through the client library (control/synode_client.h)
 * and nothing else. One command per run; `synodectl --help` lists them, and
 * `synodectl COMMAND --help` shows a command's usage, options and --json
 * output (DESIGN.md, Interfaces, is the contract of both).
 *
 * Exit status: 0 ok; 1 undefined / not found (also: not a member, a watch
 * that timed out before its --count); 2 bad command line; 3 the node
 * refused the operation (taken, not_alive, not_self, not_in_group,
 * race_condition, invalid_scope, a name or meta over the node's limits,
 * ...); 4 the node cannot be reached (no socket, no answer in time, the
 * connection lost, the owner node unreachable). With --json, every failure
 * also prints {"error": "WORD"} on stdout; the message is on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli_json.h"
#include "synode_client.h"
#include "synode_lookup_client.h"

#ifndef SYNODE_VERSION
#define SYNODE_VERSION "unknown"
#endif

#define CTL_RUN_DIR "/run/synode"
#define CTL_DEFAULT_TIMEOUT_MS 5000
#define CTL_MAX_POS 3

/* Exit statuses (see the top of the file). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_NOT_FOUND 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_REFUSED 3
#define CTL_EXIT_UNREACHABLE 4

/* Options a command accepts, besides the global ones. */
#define CO_META (1u << 0)      /* --meta TEXT */
#define CO_OS_PID (1u << 1)    /* --os-pid N: the process, instead of NODE/ID */
#define CO_NODE (1u << 2)      /* --node N: only that node's */
#define CO_LOCAL (1u << 3)     /* --local: only this node's */
#define CO_WATCH (1u << 4)     /* --name NAME | --group GROUP, --count N */
#define CO_META_REQUIRED (1u << 5)
#define CO_REMOTE (1u << 6)    /* --remote ADDR[:PORT] [--lookup-key PATH] */
#define CO_REMOTE_ONLY (1u << 7)

#define CTL_LOOKUP_TRY_MS 200  /* --remote: a try waits this long */
#define CTL_LOOKUP_KEY_MAX 4096
#define REMOTE_HELP \
	"  --remote ADDR[:PORT]  ask the lookup service of the node at ADDR\n" \
	"             (its dataplane address; UDP port 4370 by default) instead\n" \
	"             of a control socket: from any host\n" \
	"  --lookup-key PATH  with --remote: sign the request with this lookup\n" \
	"             key file (synode --lookup-key SCOPE=PATH)\n"

struct ctl;

struct ctl_cmd {
	const char *name;
	const char *args;        /* synopsis after the name */
	unsigned min_pos, max_pos;
	int proc_pos;            /* index of the PROC argument, or -1 */
	unsigned opts;           /* CO_* */
	int (*run)(struct ctl *ctl);
	const char *summary;     /* one line, for synodectl --help */
	const char *help;        /* what it does, its options */
	const char *json;        /* its --json output */
	int (*remote)(struct ctl *ctl); /* --remote: through the lookup service */
};

struct ctl {
	/* Global options. */
	const char *socket;
	const char *socket_node;  /* --node before the command */
	bool json;
	int timeout_ms;           /* -1: no limit */
	bool timeout_given;
	/* The command and its arguments. */
	const struct ctl_cmd *cmd;
	const char *pos[CTL_MAX_POS];
	unsigned n_pos;
	const char *meta;
	bool os_pid_given;
	pid_t os_pid;
	const char *node;         /* --node filter */
	bool local;
	const char *w_name;
	const char *w_group;
	bool count_given;
	unsigned long count;
	const char *remote;       /* --remote ADDR[:PORT] */
	const char *lookup_key;   /* --lookup-key PATH */
	/* At run time. */
	struct synode_client *c;
	struct synode_lookup_client *lc;
	struct synode_pid proc;   /* the PROC argument, resolved */
};

/* ---------------------------------------------------------------- output */

static void usage_error(struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void
print_json_error(const char *word)
{
	cli_json_print(stdout, json_pack("{s:s}", "error", word));
}

static void
usage_error(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fputs("synodectl: ", stderr);
	if (ctl->cmd != NULL)
		fprintf(stderr, "%s: ", ctl->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (ctl->cmd != NULL)
		fprintf(stderr, "\nTry 'synodectl %s --help'.\n", ctl->cmd->name);
	else
		fputs("\nTry 'synodectl --help'.\n", stderr);
	if (ctl->json)
		print_json_error("usage");
	exit(CTL_EXIT_USAGE);
}

/* How a failure is named, explained and reported by the exit status. */
struct ctl_failure {
	const char *word;
	const char *why;
	int status;
};

static struct ctl_failure
classify(int err)
{
	switch (-err) {
	case SYNODE_EUNDEFINED:
		return (struct ctl_failure){"undefined", "not found", CTL_EXIT_NOT_FOUND};
	case SYNODE_ETAKEN:
		return (struct ctl_failure){"taken",
			"the name is registered to another process", CTL_EXIT_REFUSED};
	case SYNODE_ENOT_ALIVE:
		return (struct ctl_failure){"not_alive", "the process is not alive",
			CTL_EXIT_REFUSED};
	case SYNODE_ENOT_SELF:
		return (struct ctl_failure){"not_self",
			"strict mode: only the caller's own process", CTL_EXIT_REFUSED};
	case SYNODE_ENOT_IN_GROUP:
		return (struct ctl_failure){"not_in_group",
			"the process is not in the group", CTL_EXIT_REFUSED};
	case SYNODE_ERACE_CONDITION:
		return (struct ctl_failure){"race_condition",
			"the name changed hands meanwhile", CTL_EXIT_REFUSED};
	case SYNODE_EINVALID_SCOPE:
		return (struct ctl_failure){"invalid_scope",
			"the node does not serve this scope", CTL_EXIT_REFUSED};
	case SYNODE_EUNREACHABLE:
		return (struct ctl_failure){"unreachable",
			"the owner node cannot be reached", CTL_EXIT_UNREACHABLE};
	case EINVAL:
		return (struct ctl_failure){"invalid_argument",
			"invalid argument (an empty name?)", CTL_EXIT_REFUSED};
	case ENAMETOOLONG:
		return (struct ctl_failure){"name_too_long",
			"the name is longer than the node allows", CTL_EXIT_REFUSED};
	case EMSGSIZE:
		return (struct ctl_failure){"meta_too_long",
			"the meta is longer than the node allows", CTL_EXIT_REFUSED};
	case ENOMEM:
		return (struct ctl_failure){"no_memory", "out of memory", CTL_EXIT_REFUSED};
	case ESHUTDOWN:
		return (struct ctl_failure){"node_stopping", "the node is stopping",
			CTL_EXIT_UNREACHABLE};
	case ENOENT:
	case ECONNREFUSED:
		return (struct ctl_failure){"no_node", "no node serves this socket",
			CTL_EXIT_UNREACHABLE};
	case EACCES:
		return (struct ctl_failure){"permission_denied",
			"the node refused this user", CTL_EXIT_UNREACHABLE};
	case ETIMEDOUT:
		return (struct ctl_failure){"timeout", "the node did not answer in time",
			CTL_EXIT_UNREACHABLE};
	case ECONNRESET:
		return (struct ctl_failure){"connection_lost",
			"the node closed the connection", CTL_EXIT_UNREACHABLE};
	case EPROTO:
	case EPROTONOSUPPORT:
		return (struct ctl_failure){"protocol",
			"the node speaks a protocol this synodectl does not",
			CTL_EXIT_UNREACHABLE};
	case EBUSY:
		return (struct ctl_failure){"busy", "the connection is busy",
			CTL_EXIT_UNREACHABLE};
	default:
		return (struct ctl_failure){"error", NULL, CTL_EXIT_REFUSED};
	}
}

/* Reports a failed call (negative @p err); returns the exit status. */
static int
fail(struct ctl *ctl, int err)
{
	struct ctl_failure f = classify(err);

	if (f.why != NULL)
		fprintf(stderr, "synodectl: %s: %s: %s\n", ctl->cmd->name, f.word, f.why);
	else
		fprintf(stderr, "synodectl: %s: %s\n", ctl->cmd->name, synode_strerror(err));
	if (ctl->json)
		print_json_error(f.word);
	return f.status;
}

static int
out_of_memory(struct ctl *ctl)
{
	return fail(ctl, -ENOMEM);
}

/* Prints a JSON value (consumed) and returns the exit status. */
static int
print_json(struct ctl *ctl, json_t *v)
{
	if (v == NULL)
		return out_of_memory(ctl);
	if (cli_json_print(stdout, v) != 0) {
		fprintf(stderr, "synodectl: %s: cannot write the output\n", ctl->cmd->name);
		return CTL_EXIT_REFUSED;
	}
	return CTL_EXIT_OK;
}

static int
print_ok(struct ctl *ctl)
{
	return ctl->json ? print_json(ctl, json_pack("{s:b}", "ok", 1)) : CTL_EXIT_OK;
}

static int
print_count(struct ctl *ctl, long n)
{
	if (ctl->json)
		return print_json(ctl, json_pack("{s:I}", "count", (json_int_t)n));
	printf("%ld\n", n);
	return CTL_EXIT_OK;
}

static void
pid_text(const struct synode_pid *pid, char *buf, size_t size)
{
	if (synode_pid_format(pid, buf, size) < 0)
		snprintf(buf, size, "?");
}

/* {"pid": "NODE/ID", "node": "NODE"} into @p obj. */
static int
json_set_pid(json_t *obj, const struct synode_pid *pid)
{
	char buf[SYNODE_NODE_NAME_MAX + 32];

	pid_text(pid, buf, sizeof(buf));
	if (json_object_set_new(obj, "pid", json_string(buf)) != 0 ||
	    json_object_set_new(obj, "node", json_string(pid->node)) != 0)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------ collected byte strings */

/* An entry read from the node, copied so that it can be sorted. */
struct ctl_item {
	void *name;
	size_t name_len;
	struct synode_pid pid;
	void *meta;
	size_t meta_len;
};

struct ctl_items {
	struct ctl_item *v;
	size_t n, cap;
	bool nomem;
};

static void *
dup_bytes(const void *p, size_t len)
{
	void *d = malloc(len > 0 ? len : 1);

	if (d != NULL && len > 0)
		memcpy(d, p, len);
	return d;
}

static void
items_add(struct ctl_items *it, const void *name, size_t name_len,
	  const struct synode_pid *pid, const void *meta, size_t meta_len)
{
	struct ctl_item *e;

	if (it->nomem)
		return;
	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 16;
		struct ctl_item *v = realloc(it->v, cap * sizeof(*v));

		if (v == NULL) {
			it->nomem = true;
			return;
		}
		it->v = v;
		it->cap = cap;
	}
	e = &it->v[it->n];
	memset(e, 0, sizeof(*e));
	e->name = dup_bytes(name, name_len);
	e->meta = dup_bytes(meta, meta_len);
	if (e->name == NULL || e->meta == NULL) {
		free(e->name);
		free(e->meta);
		it->nomem = true;
		return;
	}
	e->name_len = name_len;
	e->meta_len = meta_len;
	if (pid != NULL)
		e->pid = *pid;
	it->n++;
}

static void
items_free(struct ctl_items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].name);
		free(it->v[i].meta);
	}
	free(it->v);
}

static int
item_cmp_name(const void *a, const void *b)
{
	const struct ctl_item *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = n > 0 ? memcmp(x->name, y->name, n) : 0;

	if (c != 0)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static void
items_sort(struct ctl_items *it)
{
	if (it->n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(it->v, it->n, sizeof(*it->v), item_cmp_name);
}

static void
collect_name(const char *s, void *arg)
{
	items_add(arg, s, strlen(s), NULL, NULL, 0);
}

static void
collect_group(const void *group, size_t len, void *arg)
{
	items_add(arg, group, len, NULL, NULL, 0);
}

static void
collect_reg(const struct synode_reg_entry *e, void *arg)
{
	items_add(arg, e->name, e->name_len, &e->pid, e->meta, e->meta_len);
}

static void
collect_member(const struct synode_member *m, void *arg)
{
	items_add(arg, NULL, 0, &m->pid, m->meta, m->meta_len);
}

/* Prints names (scopes, groups): a JSON array of strings, or one a line. */
static int
print_names(struct ctl *ctl, struct ctl_items *it)
{
	json_t *arr;

	if (!ctl->json) {
		for (size_t i = 0; i < it->n; i++) {
			cli_text_bytes(stdout, it->v[i].name, it->v[i].name_len);
			putchar('\n');
		}
		return CTL_EXIT_OK;
	}
	arr = json_array();
	if (arr == NULL)
		return out_of_memory(ctl);
	for (size_t i = 0; i < it->n; i++) {
		if (json_array_append_new(arr, cli_json_bytes(it->v[i].name,
							      it->v[i].name_len)) != 0) {
			json_decref(arr);
			return out_of_memory(ctl);
		}
	}
	return print_json(ctl, arr);
}

/* ------------------------------------------------------------ the verbs */

static bool parse_ulong(const char *s, unsigned long min, unsigned long max,
			unsigned long *out);
static int print_reg(struct ctl *ctl, json_t *arr, const void *name, size_t name_len,
		     const struct synode_pid *pid, const void *meta, size_t mlen,
		     bool with_name);

/* ------------------------------------------------- through --remote (UDP) */

/* Reports a lookup status that is not OK (or -errno); the exit status. */
static int
remote_fail(struct ctl *ctl, int status)
{
	const char *word, *why;

	if (status < 0)
		return fail(ctl, status);
	switch (status) {
	case SN_LOOKUP_UNDEFINED:
		return fail(ctl, -SYNODE_EUNDEFINED);
	case SN_LOOKUP_INVALID_SCOPE:
		return fail(ctl, -SYNODE_EINVALID_SCOPE);
	case SN_LOOKUP_DENIED:
		word = "denied";
		why = "the scope answers only requests signed with its lookup key";
		break;
	case SN_LOOKUP_TOO_BIG:
		word = "too_big";
		why = "the answer does not fit a frame";
		break;
	default:
		word = "malformed";
		why = "the node found the request malformed";
		break;
	}
	fprintf(stderr, "synodectl: %s: %s: %s\n", ctl->cmd->name, word, why);
	if (ctl->json)
		print_json_error(word);
	return CTL_EXIT_REFUSED;
}

static int
remote_lookup(struct ctl *ctl)
{
	const char *name = ctl->pos[1];
	static char meta[65536];
	struct synode_pid pid;
	size_t mlen = sizeof(meta);
	int st = synode_lookup_name(ctl->lc, ctl->pos[0], name, strlen(name), &pid, meta, &mlen);

	if (st != SN_LOOKUP_OK)
		return remote_fail(ctl, st);
	if (mlen > sizeof(meta))
		mlen = sizeof(meta);
	return print_reg(ctl, NULL, name, strlen(name), &pid, meta, mlen, ctl->json) < 0
		? out_of_memory(ctl) : CTL_EXIT_OK;
}

static int
remote_count(struct ctl *ctl, enum sn_lookup_op op, const char *key)
{
	uint64_t n = 0;
	int st = synode_lookup_count(ctl->lc, op, ctl->pos[0], key, key != NULL ? strlen(key) : 0,
				     &n);

	return st != SN_LOOKUP_OK ? remote_fail(ctl, st) : print_count(ctl, (long)n);
}

static int
remote_registry_count(struct ctl *ctl)
{
	return remote_count(ctl, SN_LOOKUP_OP_REG_COUNT, ctl->node);
}

static int
remote_member_count(struct ctl *ctl)
{
	return remote_count(ctl, SN_LOOKUP_OP_MEMBER_COUNT, ctl->pos[1]);
}

static int
remote_group_count(struct ctl *ctl)
{
	return remote_count(ctl, SN_LOOKUP_OP_GROUP_COUNT, NULL);
}

struct remote_out {
	struct ctl *ctl;
	json_t *arr;
	bool named;
};

static int
remote_entry(const struct sn_lookup_entry *e, void *arg)
{
	struct remote_out *o = arg;

	return print_reg(o->ctl, o->arr, o->named ? e->name : NULL, e->name_len, &e->pid,
			 e->meta, e->meta_len, o->named) < 0 ? -ENOMEM : 0;
}

static int
remote_pages(struct ctl *ctl, bool named)
{
	struct remote_out o = {.ctl = ctl, .named = named};
	const char *key = ctl->pos[1];
	int st;

	if (ctl->json && (o.arr = json_array()) == NULL)
		return out_of_memory(ctl);
	if (named)
		st = synode_lookup_scan_prefix(ctl->lc, ctl->pos[0], key, strlen(key),
					       remote_entry, &o);
	else
		st = synode_lookup_members(ctl->lc, ctl->pos[0], key, strlen(key),
					   remote_entry, &o);
	if (st != SN_LOOKUP_OK) {
		json_decref(o.arr);
		return st == -ENOMEM ? out_of_memory(ctl) : remote_fail(ctl, st);
	}
	return ctl->json ? print_json(ctl, o.arr) : CTL_EXIT_OK;
}

static int
remote_members(struct ctl *ctl)
{
	return remote_pages(ctl, false);
}

static int
remote_scan(struct ctl *ctl)
{
	return remote_pages(ctl, true);
}

/* Opens ctl->lc for --remote ADDR[:PORT] [--lookup-key PATH]; a status
 * if it cannot (reported), or -1. */
static int
remote_open(struct ctl *ctl)
{
	static uint8_t key[CTL_LOOKUP_KEY_MAX];
	char addr[64];
	const char *colon = strchr(ctl->remote, ':');
	unsigned long port = 0;
	size_t key_len = 0, alen = colon != NULL ? (size_t)(colon - ctl->remote)
						 : strlen(ctl->remote);
	unsigned retries;
	int err;

	if (alen == 0 || alen >= sizeof(addr) ||
	    (colon != NULL && !parse_ulong(colon + 1, 1, 65535, &port)))
		usage_error(ctl, "--remote '%s': wants ADDR[:PORT] (an IPv4 address, a port "
			    "from 1 to 65535)", ctl->remote);
	memcpy(addr, ctl->remote, alen);
	addr[alen] = '\0';
	if (ctl->lookup_key != NULL) {
		FILE *f = fopen(ctl->lookup_key, "rb");

		if (f == NULL)
			usage_error(ctl, "--lookup-key '%s': %s", ctl->lookup_key,
				    strerror(errno));
		key_len = fread(key, 1, sizeof(key), f);
		fclose(f);
		if (key_len < 32)
			usage_error(ctl, "--lookup-key '%s': %zu bytes, at least 32 wanted",
				    ctl->lookup_key, key_len);
	}
	ctl->lc = synode_lookup_open(addr, (uint16_t)port, key_len > 0 ? key : NULL, key_len);
	err = errno;
	explicit_bzero(key, sizeof(key));
	if (ctl->lc == NULL) {
		if (err == EINVAL)
			usage_error(ctl, "--remote '%s': not an IPv4 address", ctl->remote);
		fprintf(stderr, "synodectl: %s: cannot open a UDP socket: %s\n",
			ctl->cmd->name, strerror(err));
		if (ctl->json)
			print_json_error("error");
		return CTL_EXIT_UNREACHABLE;
	}
	/* --timeout MS in all, in tries of CTL_LOOKUP_TRY_MS. */
	retries = ctl->timeout_ms > 0 ? (unsigned)ctl->timeout_ms / CTL_LOOKUP_TRY_MS : 25;
	synode_lookup_set_timeout(ctl->lc, ctl->timeout_ms > 0 &&
				  ctl->timeout_ms < CTL_LOOKUP_TRY_MS ? (unsigned)ctl->timeout_ms
								      : CTL_LOOKUP_TRY_MS,
				  retries > 0 ? retries - 1 : 0);
	return -1;
}

/* The --node / --local filter, as a node name or NULL for all. */
static const char *
node_filter(struct ctl *ctl)
{
	if (ctl->local)
		return synode_client_node_name(ctl->c);
	return ctl->node;
}

static size_t
meta_len(const struct ctl *ctl)
{
	return ctl->meta != NULL ? strlen(ctl->meta) : 0;
}

/* ------------------------------------------------------------------ peers */

/* A peer as read from the node, copied so that it can be sorted. */
struct peer_row {
	char node[SYNODE_NODE_NAME_MAX + 1];
	char address[64];
	char state[64];
	unsigned version;
	uint64_t rtt_ns, frames_tx, frames_rx, bytes_tx, bytes_rx, retransmits, drops;
	struct ctl_items scopes; /* status: the scopes it shares, sorted */
};

struct peer_rows {
	struct peer_row *v;
	size_t n, cap;
	bool nomem;
};

static void
collect_peer(const struct synode_client_peer *p, void *arg)
{
	struct peer_rows *rows = arg;
	struct peer_row *r;

	if (rows->nomem)
		return;
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 8;
		struct peer_row *v = realloc(rows->v, cap * sizeof(*v));

		if (v == NULL) {
			rows->nomem = true;
			return;
		}
		rows->v = v;
		rows->cap = cap;
	}
	r = &rows->v[rows->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->node, sizeof(r->node), "%s", p->node);
	snprintf(r->address, sizeof(r->address), "%s", p->address);
	snprintf(r->state, sizeof(r->state), "%s", p->state);
	r->version = p->version;
	r->rtt_ns = p->rtt_ns;
	r->frames_tx = p->frames_tx;
	r->frames_rx = p->frames_rx;
	r->bytes_tx = p->bytes_tx;
	r->bytes_rx = p->bytes_rx;
	r->retransmits = p->retransmits;
	r->drops = p->drops;
	for (size_t i = 0; i < p->n_scopes; i++)
		collect_name(p->scopes[i], &r->scopes);
	items_sort(&r->scopes);
	rows->nomem |= r->scopes.nomem;
}

static void
peer_rows_free(struct peer_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		items_free(&rows->v[i].scopes);
	free(rows->v);
}

/* By node name, then address (a peer may not have said its name yet). */
static int
peer_row_cmp(const void *a, const void *b)
{
	const struct peer_row *x = a, *y = b;
	int c = strcmp(x->node, y->node);

	return c != 0 ? c : strcmp(x->address, y->address);
}

static void
peer_rows_sort(struct peer_rows *rows)
{
	if (rows->n > 1)
		qsort(rows->v, rows->n, sizeof(*rows->v), peer_row_cmp);
}

/* The round-trip time in whole microseconds (at least 1 once measured). */
static json_int_t
rtt_us(uint64_t rtt_ns)
{
	uint64_t us = rtt_ns / 1000 + (rtt_ns % 1000 >= 500);

	return (json_int_t)(us > 0 ? us : 1);
}

/* A peer's JSON object; with its "scopes" if @p with_scopes. NULL if out
 * of memory. */
static json_t *
peer_json(const struct peer_row *r, bool with_scopes)
{
	json_t *o = json_object(), *scopes = NULL;
	bool bad = o == NULL;

	bad = bad || cli_json_set_bytes(o, "node", r->node, strlen(r->node)) != 0;
	bad = bad || cli_json_set_bytes(o, "address", r->address, strlen(r->address)) != 0;
	bad = bad || cli_json_set_bytes(o, "state", r->state, strlen(r->state)) != 0;
	bad = bad || json_object_set_new(o, "version", r->version > 0
					 ? json_integer(r->version) : json_null()) != 0;
	bad = bad || json_object_set_new(o, "rtt_us", r->rtt_ns > 0
					 ? json_integer(rtt_us(r->rtt_ns)) : json_null()) != 0;
	bad = bad || json_object_set_new(o, "frames_tx",
					 json_integer((json_int_t)r->frames_tx)) != 0;
	bad = bad || json_object_set_new(o, "frames_rx",
					 json_integer((json_int_t)r->frames_rx)) != 0;
	bad = bad || json_object_set_new(o, "bytes_tx",
					 json_integer((json_int_t)r->bytes_tx)) != 0;
	bad = bad || json_object_set_new(o, "bytes_rx",
					 json_integer((json_int_t)r->bytes_rx)) != 0;
	bad = bad || json_object_set_new(o, "retransmits",
					 json_integer((json_int_t)r->retransmits)) != 0;
	bad = bad || json_object_set_new(o, "drops",
					 json_integer((json_int_t)r->drops)) != 0;
	if (!bad && with_scopes) {
		scopes = json_array();
		bad = scopes == NULL || json_object_set_new(o, "scopes", scopes) != 0;
		for (size_t i = 0; !bad && i < r->scopes.n; i++)
			bad = json_array_append_new(scopes,
						    cli_json_bytes(r->scopes.v[i].name,
								   r->scopes.v[i].name_len)) != 0;
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The columns of the peer table; the last, SCOPES, is status's only. */
enum {
	PC_NODE, PC_ADDRESS, PC_STATE, PC_VERSION, PC_RTT, PC_FRAMES_TX, PC_FRAMES_RX,
	PC_BYTES_TX, PC_BYTES_RX, PC_RETRANSMITS, PC_DROPS, PC_SCOPES, PC_N
};

static const char *const peer_col_name[PC_N] = {
	"NODE", "ADDRESS", "STATE", "VERSION", "RTT_MS", "FRAMES_TX", "FRAMES_RX",
	"BYTES_TX", "BYTES_RX", "RETRANSMITS", "DROPS", "SCOPES",
};

/* Text from the node, for a table cell: printable ASCII as it is, other
 * bytes as \xNN (a cell never holds a space or a control byte); "-" if
 * empty. */
static void
text_cell(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	if (*s == '\0')
		s = "-";
	for (; *s != '\0' && o + 5 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch > ' ' && ch < 0x7f && ch != '\\')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
}

/* Cell @p col of row @p r (the header's if @p r is NULL). */
static void
peer_cell(const struct peer_row *r, int col, char *buf, size_t size)
{
	if (r == NULL) {
		snprintf(buf, size, "%s", peer_col_name[col]);
		return;
	}
	switch (col) {
	case PC_NODE: text_cell(buf, size, r->node); break;
	case PC_ADDRESS: text_cell(buf, size, r->address); break;
	case PC_STATE: text_cell(buf, size, r->state); break;
	case PC_VERSION:
		if (r->version > 0)
			snprintf(buf, size, "%u", r->version);
		else
			snprintf(buf, size, "-");
		break;
	case PC_RTT:
		if (r->rtt_ns > 0) {
			uint64_t us = (uint64_t)rtt_us(r->rtt_ns);

			snprintf(buf, size, "%" PRIu64 ".%03" PRIu64, us / 1000, us % 1000);
		} else
			snprintf(buf, size, "-");
		break;
	case PC_FRAMES_TX: snprintf(buf, size, "%" PRIu64, r->frames_tx); break;
	case PC_FRAMES_RX: snprintf(buf, size, "%" PRIu64, r->frames_rx); break;
	case PC_BYTES_TX: snprintf(buf, size, "%" PRIu64, r->bytes_tx); break;
	case PC_BYTES_RX: snprintf(buf, size, "%" PRIu64, r->bytes_rx); break;
	case PC_RETRANSMITS: snprintf(buf, size, "%" PRIu64, r->retransmits); break;
	case PC_DROPS: snprintf(buf, size, "%" PRIu64, r->drops); break;
	default: buf[0] = '\0'; break;
	}
}

/*
 * Prints the peers as a table with a header line, each line after
 * @p indent: text columns aligned left, numbers right, separated by two
 * spaces; with a last SCOPES column (comma-separated, "-" if none) if
 * @p with_scopes.
 */
static void
print_peer_table(const struct peer_rows *rows, const char *indent, bool with_scopes)
{
	int ncol = with_scopes ? PC_SCOPES : PC_DROPS + 1;
	size_t width[PC_N] = {0};
	char buf[256];

	for (size_t i = 0; i <= rows->n; i++) {
		for (int col = 0; col < ncol; col++) {
			size_t len;

			peer_cell(i == 0 ? NULL : &rows->v[i - 1], col, buf, sizeof(buf));
			len = strlen(buf);
			if (len > width[col])
				width[col] = len;
		}
	}
	for (size_t i = 0; i <= rows->n; i++) {
		const struct peer_row *r = i == 0 ? NULL : &rows->v[i - 1];

		fputs(indent, stdout);
		for (int col = 0; col < ncol; col++) {
			peer_cell(r, col, buf, sizeof(buf));
			if (col > 0)
				fputs("  ", stdout);
			printf(col <= PC_STATE ? "%-*s" : "%*s", (int)width[col], buf);
		}
		if (with_scopes) {
			fputs("  ", stdout);
			if (r == NULL)
				fputs(peer_col_name[PC_SCOPES], stdout);
			else if (r->scopes.n == 0)
				fputs("-", stdout);
			for (size_t k = 0; r != NULL && k < r->scopes.n; k++) {
				if (k > 0)
					putchar(',');
				cli_text_bytes(stdout, r->scopes.v[k].name,
					       r->scopes.v[k].name_len);
			}
		}
		putchar('\n');
	}
}

struct status_acc {
	struct ctl_items scopes;
	struct peer_rows peers;
};

static void
status_scope(const char *scope, void *arg)
{
	struct status_acc *a = arg;

	items_add(&a->scopes, scope, strlen(scope), NULL, NULL, 0);
}

static void
status_peer(const struct synode_client_peer *p, void *arg)
{
	struct status_acc *a = arg;

	collect_peer(p, &a->peers);
}

static void
status_acc_free(struct status_acc *a)
{
	items_free(&a->scopes);
	peer_rows_free(&a->peers);
}

static int
cmd_status(struct ctl *ctl)
{
	struct status_acc a = {0};
	struct synode_stats st;
	char node[SYNODE_NODE_NAME_MAX + 1];
	json_t *scopes, *peers, *obj;
	bool nomem = false;
	int rc;

	rc = synode_client_status(ctl->c, node, &st, status_scope, status_peer, &a);
	if (rc < 0) {
		status_acc_free(&a);
		return fail(ctl, rc);
	}
	if (a.peers.nomem || a.scopes.nomem) {
		status_acc_free(&a);
		return out_of_memory(ctl);
	}
	items_sort(&a.scopes);
	peer_rows_sort(&a.peers);

	if (!ctl->json) {
		printf("node: %s\nscopes:", node);
		for (size_t i = 0; i < a.scopes.n; i++) {
			putchar(' ');
			cli_text_bytes(stdout, a.scopes.v[i].name, a.scopes.v[i].name_len);
		}
		printf("\npeers:%s\n", a.peers.n == 0 ? " none" : "");
		if (a.peers.n > 0)
			print_peer_table(&a.peers, "  ", true);
		printf("requests: %" PRIu64 "\nevents: %" PRIu64 "\nmonitors: %" PRIu64
		       "\nclients: %" PRIu64 "\nclient errors: %" PRIu64
		       "\nwatchers dropped: %" PRIu64 "\npeer messages: %" PRIu64 "\n",
		       st.requests, st.events, st.monitors, st.clients, st.client_errors,
		       st.subscribers_dropped, st.peer_messages);
		printf("dropped from peers: bad_mac %" PRIu64 ", malformed %" PRIu64
		       ", truncated %" PRIu64 ", replayed %" PRIu64 ", unknown_peer %" PRIu64
		       ", unknown_scope %" PRIu64 "\n",
		       st.drops_bad_mac, st.drops_malformed, st.drops_truncated,
		       st.drops_replayed, st.drops_unknown_peer, st.drops_unknown_scope);
		status_acc_free(&a);
		return CTL_EXIT_OK;
	}
	scopes = json_array();
	for (size_t i = 0; scopes != NULL && i < a.scopes.n; i++)
		if (json_array_append_new(scopes, cli_json_bytes(a.scopes.v[i].name,
								 a.scopes.v[i].name_len)) != 0)
			nomem = true;
	peers = json_array();
	for (size_t i = 0; peers != NULL && i < a.peers.n; i++)
		if (json_array_append_new(peers, peer_json(&a.peers.v[i], true)) != 0)
			nomem = true;
	status_acc_free(&a);
	obj = json_pack("{s:s, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
			" s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
			"node", node, "scopes", scopes, "peers", peers, "stats",
			"requests", (json_int_t)st.requests,
			"events", (json_int_t)st.events,
			"monitors", (json_int_t)st.monitors,
			"clients", (json_int_t)st.clients,
			"client_errors", (json_int_t)st.client_errors,
			"subscribers_dropped", (json_int_t)st.subscribers_dropped,
			"peer_messages", (json_int_t)st.peer_messages,
			"drops",
			"bad_mac", (json_int_t)st.drops_bad_mac,
			"malformed", (json_int_t)st.drops_malformed,
			"truncated", (json_int_t)st.drops_truncated,
			"replayed", (json_int_t)st.drops_replayed,
			"unknown_peer", (json_int_t)st.drops_unknown_peer,
			"unknown_scope", (json_int_t)st.drops_unknown_scope);
	if (nomem) {
		json_decref(obj);
		return out_of_memory(ctl);
	}
	return print_json(ctl, obj);
}

static int
cmd_scopes(struct ctl *ctl)
{
	struct ctl_items it = {0};
	int rc = synode_client_scopes(ctl->c, collect_name, &it);

	if (rc < 0) {
		items_free(&it);
		return fail(ctl, rc);
	}
	if (it.nomem) {
		items_free(&it);
		return out_of_memory(ctl);
	}
	items_sort(&it);
	rc = print_names(ctl, &it);
	items_free(&it);
	return rc;
}

static int
cmd_add_scope(struct ctl *ctl)
{
	int rc = synode_client_add_scope(ctl->c, ctl->pos[0]);

	return rc < 0 ? fail(ctl, rc) : print_ok(ctl);
}

static int
cmd_nodes(struct ctl *ctl)
{
	struct peer_rows rows = {0};
	json_t *arr;
	long n;

	n = synode_client_nodes(ctl->c, ctl->pos[0], collect_peer, &rows);
	if (n < 0) {
		peer_rows_free(&rows);
		return fail(ctl, (int)n);
	}
	if (rows.nomem) {
		peer_rows_free(&rows);
		return out_of_memory(ctl);
	}
	peer_rows_sort(&rows);
	if (!ctl->json) {
		if (rows.n > 0)
			print_peer_table(&rows, "", false);
		peer_rows_free(&rows);
		return CTL_EXIT_OK;
	}
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < rows.n; i++) {
		if (json_array_append_new(arr, peer_json(&rows.v[i], false)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	peer_rows_free(&rows);
	return print_json(ctl, arr);
}

static int
cmd_register(struct ctl *ctl)
{
	const char *name = ctl->pos[1];
	char buf[SYNODE_NODE_NAME_MAX + 32];
	json_t *obj;
	int rc;

	rc = synode_client_register(ctl->c, ctl->pos[0], name, strlen(name), &ctl->proc,
				    ctl->meta, meta_len(ctl));
	if (rc < 0)
		return fail(ctl, rc);
	pid_text(&ctl->proc, buf, sizeof(buf));
	if (!ctl->json) {
		printf("%s\n", buf);
		return CTL_EXIT_OK;
	}
	obj = json_pack("{s:b, s:s}", "ok", 1, "pid", buf);
	return print_json(ctl, obj);
}

static int
cmd_update(struct ctl *ctl)
{
	const char *name = ctl->pos[1];
	int rc = synode_client_update(ctl->c, ctl->pos[0], name, strlen(name), ctl->meta,
				      meta_len(ctl));

	return rc < 0 ? fail(ctl, rc) : print_ok(ctl);
}

static int
cmd_unregister(struct ctl *ctl)
{
	const char *name = ctl->pos[1];
	int rc = synode_client_unregister(ctl->c, ctl->pos[0], name, strlen(name));

	return rc < 0 ? fail(ctl, rc) : print_ok(ctl);
}

/* One registration, as lookup and registry print it. */
static int
print_reg(struct ctl *ctl, json_t *arr, const void *name, size_t name_len,
	  const struct synode_pid *pid, const void *meta, size_t mlen, bool with_name)
{
	char buf[SYNODE_NODE_NAME_MAX + 32];
	json_t *o;

	if (!ctl->json) {
		pid_text(pid, buf, sizeof(buf));
		if (with_name) {
			cli_text_bytes(stdout, name, name_len);
			putchar('\t');
		}
		fputs(buf, stdout);
		if (mlen > 0) {
			putchar('\t');
			cli_text_bytes(stdout, meta, mlen);
		}
		putchar('\n');
		return 0;
	}
	o = json_object();
	if (o == NULL || (name != NULL && cli_json_set_bytes(o, "name", name, name_len) != 0) ||
	    json_set_pid(o, pid) != 0 || cli_json_set_bytes(o, "meta", meta, mlen) != 0) {
		json_decref(o);
		return -ENOMEM;
	}
	if (arr != NULL)
		return json_array_append_new(arr, o) != 0 ? -ENOMEM : 0;
	return print_json(ctl, o) == CTL_EXIT_OK ? 0 : -EIO;
}

static int
cmd_lookup(struct ctl *ctl)
{
	const char *name = ctl->pos[1];
	struct synode_pid pid;
	size_t cap = synode_client_max_meta_len(ctl->c), len;
	char *meta = NULL;
	int rc;

	/* The meta's length is known only after a lookup: retry if it grew. */
	for (;;) {
		char *m = realloc(meta, cap > 0 ? cap : 1);

		if (m == NULL) {
			free(meta);
			return out_of_memory(ctl);
		}
		meta = m;
		len = cap;
		rc = synode_client_lookup(ctl->c, ctl->pos[0], name, strlen(name), &pid,
					  meta, &len);
		if (rc < 0 || len <= cap)
			break;
		cap = len;
	}
	if (rc < 0) {
		free(meta);
		return fail(ctl, rc);
	}
	rc = print_reg(ctl, NULL, name, strlen(name), &pid, meta, len, ctl->json);
	free(meta);
	if (rc == -ENOMEM)
		return out_of_memory(ctl);
	return rc < 0 ? CTL_EXIT_REFUSED : CTL_EXIT_OK;
}

static int
cmd_registry(struct ctl *ctl)
{
	struct ctl_items it = {0};
	json_t *arr = NULL;
	long n;
	int rc = 0;

	n = synode_client_registry_foreach(ctl->c, ctl->pos[0], node_filter(ctl),
					   collect_reg, &it);
	if (n < 0) {
		items_free(&it);
		return fail(ctl, (int)n);
	}
	if (it.nomem || (ctl->json && (arr = json_array()) == NULL)) {
		items_free(&it);
		return out_of_memory(ctl);
	}
	/* The node streams its hash table's order: sort by name for people. */
	items_sort(&it);
	for (size_t i = 0; i < it.n && rc == 0; i++)
		rc = print_reg(ctl, arr, it.v[i].name, it.v[i].name_len, &it.v[i].pid,
			       it.v[i].meta, it.v[i].meta_len, true);
	items_free(&it);
	if (rc < 0) {
		json_decref(arr);
		return out_of_memory(ctl);
	}
	return ctl->json ? print_json(ctl, arr) : CTL_EXIT_OK;
}

static int
cmd_registry_count(struct ctl *ctl)
{
	long n = synode_client_registry_count(ctl->c, ctl->pos[0], node_filter(ctl));

	return n < 0 ? fail(ctl, (int)n) : print_count(ctl, n);
}

static int
cmd_join(struct ctl *ctl)
{
	const char *group = ctl->pos[1];
	int rc = synode_client_join(ctl->c, ctl->pos[0], group, strlen(group), &ctl->proc,
				    ctl->meta, meta_len(ctl));

	return rc < 0 ? fail(ctl, rc) : print_ok(ctl);
}

static int
cmd_leave(struct ctl *ctl)
{
	const char *group = ctl->pos[1];
	int rc = synode_client_leave(ctl->c, ctl->pos[0], group, strlen(group), &ctl->proc);

	return rc < 0 ? fail(ctl, rc) : print_ok(ctl);
}

static int
cmd_members(struct ctl *ctl)
{
	const char *group = ctl->pos[1];
	struct ctl_items it = {0};
	json_t *arr = NULL;
	long n;
	int rc = 0;

	n = synode_client_members(ctl->c, ctl->pos[0], group, strlen(group),
				  node_filter(ctl), collect_member, &it);
	if (n < 0) {
		items_free(&it);
		return fail(ctl, (int)n);
	}
	if (it.nomem || (ctl->json && (arr = json_array()) == NULL)) {
		items_free(&it);
		return out_of_memory(ctl);
	}
	/* In the node's order: by pid. */
	for (size_t i = 0; i < it.n && rc == 0; i++)
		rc = print_reg(ctl, arr, NULL, 0, &it.v[i].pid, it.v[i].meta,
			       it.v[i].meta_len, false);
	items_free(&it);
	if (rc < 0) {
		json_decref(arr);
		return out_of_memory(ctl);
	}
	return ctl->json ? print_json(ctl, arr) : CTL_EXIT_OK;
}

static int
cmd_is_member(struct ctl *ctl)
{
	const char *group = ctl->pos[1];
	int rc = synode_client_is_member(ctl->c, ctl->pos[0], group, strlen(group),
					 &ctl->proc);

	if (rc < 0)
		return fail(ctl, rc);
	/* --local: a member owned by this node (Syn's is_local_member). */
	if (rc == 1 && ctl->local &&
	    strcmp(ctl->proc.node, synode_client_node_name(ctl->c)) != 0)
		rc = 0;
	if (ctl->json) {
		int st = print_json(ctl, json_pack("{s:b}", "member", rc == 1));

		if (st != CTL_EXIT_OK)
			return st;
	} else {
		printf("%s\n", rc == 1 ? "true" : "false");
	}
	/* As grep: a script can write `if synodectl is-member ...`. */
	return rc == 1 ? CTL_EXIT_OK : CTL_EXIT_NOT_FOUND;
}

static int
cmd_member_count(struct ctl *ctl)
{
	const char *group = ctl->pos[1];
	long n = synode_client_member_count(ctl->c, ctl->pos[0], group, strlen(group),
					    node_filter(ctl));

	return n < 0 ? fail(ctl, (int)n) : print_count(ctl, n);
}

static int
cmd_groups(struct ctl *ctl)
{
	struct ctl_items it = {0};
	long n = synode_client_group_names(ctl->c, ctl->pos[0], node_filter(ctl),
					   collect_group, &it);
	int rc;

	if (n < 0) {
		items_free(&it);
		return fail(ctl, (int)n);
	}
	if (it.nomem) {
		items_free(&it);
		return out_of_memory(ctl);
	}
	rc = print_names(ctl, &it); /* in the node's order: bytes */
	items_free(&it);
	return rc;
}

static int
cmd_group_count(struct ctl *ctl)
{
	long n = synode_client_group_count(ctl->c, ctl->pos[0], node_filter(ctl));

	return n < 0 ? fail(ctl, (int)n) : print_count(ctl, n);
}

/* ----------------------------------------- watch and handle-new: waiting */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A signalfd for SIGINT, SIGTERM and SIGHUP, which end watch and
 * handle-new cleanly; -1 on failure. */
static int
stop_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

struct watch_state {
	struct ctl *ctl;
	unsigned long seen;
	bool nomem;
	bool output_lost;  /* stdout is gone (a closed pipe): stop */
};

static void
watch_event(const struct synode_event *ev, void *arg)
{
	struct watch_state *w = arg;
	struct ctl *ctl = w->ctl;
	bool group = ev->kind == SYNODE_EV_JOINED || ev->kind == SYNODE_EV_MEMBER_UPDATED ||
		     ev->kind == SYNODE_EV_LEFT;
	char reason[64], pid[SYNODE_NODE_NAME_MAX + 32];
	json_t *o;

	w->seen++;
	synode_reason_format(&ev->reason, reason, sizeof(reason));
	if (!ctl->json) {
		pid_text(&ev->pid, pid, sizeof(pid));
		printf("%s scope=%s %s=", synode_event_name(ev->kind), ev->scope,
		       group ? "group" : "name");
		cli_text_bytes(stdout, ev->name, ev->name_len);
		printf(" pid=%s meta=", pid);
		cli_text_bytes(stdout, ev->meta, ev->meta_len);
		if (ev->prev_meta != NULL) {
			fputs(" prev_meta=", stdout);
			cli_text_bytes(stdout, ev->prev_meta, ev->prev_meta_len);
		}
		printf(" reason=%s\n", reason);
		if (fflush(stdout) != 0 || ferror(stdout))
			w->output_lost = true;
		return;
	}
	o = json_pack("{s:s, s:s}", "event", synode_event_name(ev->kind), "scope", ev->scope);
	if (o == NULL || cli_json_set_bytes(o, group ? "group" : "name", ev->name,
					    ev->name_len) != 0 ||
	    json_set_pid(o, &ev->pid) != 0 ||
	    cli_json_set_bytes(o, "meta", ev->meta, ev->meta_len) != 0 ||
	    (ev->prev_meta != NULL &&
	     cli_json_set_bytes(o, "prev_meta", ev->prev_meta, ev->prev_meta_len) != 0) ||
	    json_object_set_new(o, "reason", json_string(reason)) != 0) {
		json_decref(o);
		w->nomem = true;
		return;
	}
	if (cli_json_print(stdout, o) != 0)
		w->output_lost = true;
}

static int
cmd_watch(struct ctl *ctl)
{
	struct watch_state w = {.ctl = ctl};
	int64_t deadline = ctl->timeout_given && ctl->timeout_ms >= 0
				   ? now_ms() + ctl->timeout_ms : -1;
	const char *name = ctl->w_name, *group = ctl->w_group;
	struct pollfd pfd[2];
	int sfd, rc;

	sfd = stop_signals_fd();
	if (sfd < 0) {
		fprintf(stderr, "synodectl: watch: signalfd: %s\n", strerror(errno));
		return CTL_EXIT_REFUSED;
	}
	rc = synode_client_watch(ctl->c, ctl->pos[0], name, name ? strlen(name) : 0,
				 group, group ? strlen(group) : 0);
	if (rc < 0) {
		close(sfd);
		return fail(ctl, rc);
	}
	/* On stderr, so that a script can wait until the watch is on. */
	fprintf(stderr, "synodectl: watching scope %s\n", ctl->pos[0]);

	pfd[0] = (struct pollfd){.fd = synode_client_fd(ctl->c), .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
	for (;;) {
		int64_t left = -1;

		/* The library reads ahead: drain it before polling again. */
		while ((rc = synode_client_next_event(ctl->c, watch_event, &w, 0)) == 1) {
			if (w.nomem) {
				close(sfd);
				return out_of_memory(ctl);
			}
			if (w.output_lost) {
				close(sfd);
				return CTL_EXIT_OK; /* as `watch | head -1` wants */
			}
			if (ctl->count_given && w.seen >= ctl->count) {
				close(sfd);
				return CTL_EXIT_OK;
			}
		}
		if (rc < 0) {
			close(sfd);
			return fail(ctl, rc);
		}
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left <= 0)
				break;
		}
		rc = poll(pfd, 2, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "synodectl: watch: poll: %s\n", strerror(errno));
			close(sfd);
			return CTL_EXIT_REFUSED;
		}
		if (rc > 0 && pfd[1].revents != 0) {
			close(sfd);
			return CTL_EXIT_OK; /* interrupted: the normal end */
		}
	}
	close(sfd);
	if (!ctl->count_given)
		return CTL_EXIT_OK;
	fprintf(stderr, "synodectl: watch: timeout: %lu of %lu events in %d ms\n",
		w.seen, ctl->count, ctl->timeout_ms);
	if (ctl->json)
		print_json_error("timeout");
	return CTL_EXIT_NOT_FOUND;
}

static int
cmd_handle_new(struct ctl *ctl)
{
	char buf[SYNODE_NODE_NAME_MAX + 32];
	struct synode_pid pid;
	struct pollfd pfd[2];
	int sfd, rc;

	sfd = stop_signals_fd();
	if (sfd < 0) {
		fprintf(stderr, "synodectl: handle-new: signalfd: %s\n", strerror(errno));
		return CTL_EXIT_REFUSED;
	}
	rc = synode_client_handle_new(ctl->c, &pid);
	if (rc < 0) {
		close(sfd);
		return fail(ctl, rc);
	}
	pid_text(&pid, buf, sizeof(buf));
	if (ctl->json)
		print_json(ctl, json_pack("{s:s, s:s}", "pid", buf, "node", pid.node));
	else
		printf("%s\n", buf);
	fflush(stdout);
	fprintf(stderr, "synodectl: holding %s until interrupted\n", buf);

	/* The handle lives as long as this connection: hold it. */
	pfd[0] = (struct pollfd){.fd = synode_client_fd(ctl->c), .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
	do {
		rc = poll(pfd, 2, -1);
	} while (rc < 0 && errno == EINTR);
	close(sfd);
	if (rc > 0 && pfd[1].revents == 0) {
		/* Nothing is due on this connection: the node went away. */
		fprintf(stderr, "synodectl: handle-new: connection_lost: the node "
			"closed the connection\n");
		return CTL_EXIT_UNREACHABLE;
	}
	rc = synode_client_handle_close(ctl->c, &pid);
	return rc < 0 ? fail(ctl, rc) : CTL_EXIT_OK;
}

/* ---------------------------------------------------- the command table */

#define PROC_HELP \
	"  PROC is the process: NODE/ID (as lookup prints it), or give\n" \
	"  --os-pid N instead for the Linux process N of the node's host.\n"
#define FILTER_HELP \
	"  --node N   only those of node N\n" \
	"  --local    only this node's\n"

static const struct ctl_cmd ctl_cmds[] = {
	{"status", "", 0, 0, -1, 0, cmd_status,
	 "the node's name, scopes, peers and counters",
	 "Shows the node's name, the scopes it serves, the peers its link knows\n"
	 "(a node started without a dataplane has none) and its counters. Each\n"
	 "peer: its node name (until it has said it: \"-\" in text, \"\" in JSON),\n"
	 "address, state (connecting, up, down), protocol version, round-trip\n"
	 "time (ms), frames and bytes sent and received, frames sent again\n"
	 "(retransmits), frames from it dropped (bad, late, ...), and the scopes\n"
	 "both serve. Then the node's counters, and what it dropped from peers by\n"
	 "cause: frames with a bad MAC (wrong or no cluster key), malformed,\n"
	 "truncated or replayed frames, frames from an address that is no peer,\n"
	 "and messages for a scope the node does not serve.\n",
	 "{\"node\": NAME, \"scopes\": [SCOPE, ...], \"peers\": [{\"node\", \"address\",\n"
	 " \"state\", \"version\", \"rtt_us\", \"frames_tx\", \"frames_rx\", \"bytes_tx\",\n"
	 " \"bytes_rx\", \"retransmits\", \"drops\", \"scopes\": [SCOPE, ...]}, ...],\n"
	 " \"stats\": {\"requests\", \"events\", \"monitors\", \"clients\",\n"
	 " \"client_errors\", \"subscribers_dropped\", \"peer_messages\"},\n"
	 " \"drops\": {\"bad_mac\", \"malformed\", \"truncated\", \"replayed\",\n"
	 " \"unknown_peer\", \"unknown_scope\"}}\n"
	 "(version and rtt_us are null until known; rtt_us is whole microseconds)\n", NULL},
	{"scopes", "", 0, 0, -1, 0, cmd_scopes,
	 "the scopes the node serves",
	 "Lists the scopes the node serves, in byte order.\n",
	 "[SCOPE, ...]\n", NULL},
	{"add-scope", "SCOPE", 1, 1, -1, 0, cmd_add_scope,
	 "serve one more scope",
	 "Makes the node serve SCOPE from now on (ok if it already does).\n",
	 "{\"ok\": true}\n", NULL},
	{"nodes", "SCOPE", 1, 1, -1, 0, cmd_nodes,
	 "the other nodes serving a scope",
	 "Lists the scope's other nodes (its subcluster: the peers that serve it\n"
	 "and have synced with this node; none for a node without a dataplane)\n"
	 "as a table: node, address, state, protocol version, round-trip time\n"
	 "(ms), frames and bytes sent and received, retransmits, drops, as in\n"
	 "status. Nothing is printed if there are none.\n",
	 "[{\"node\": NAME, \"address\": \"A.B.C.D:PORT\", \"state\": STATE, \"version\",\n"
	 " \"rtt_us\", \"frames_tx\", \"frames_rx\", \"bytes_tx\", \"bytes_rx\",\n"
	 " \"retransmits\", \"drops\"}, ...]\n", NULL},
	{"register", "SCOPE NAME [PROC] [--os-pid N] [--meta TEXT]", 2, 3, 2,
	 CO_META | CO_OS_PID, cmd_register,
	 "register a name for a process",
	 "Registers NAME for the process in SCOPE. Registering the same process\n"
	 "again updates its meta. Prints the process registered.\n"
	 PROC_HELP
	 "  --meta TEXT  the meta (default: empty)\n",
	 "{\"ok\": true, \"pid\": \"NODE/ID\"}\n", NULL},
	{"update", "SCOPE NAME --meta TEXT", 2, 2, -1, CO_META | CO_META_REQUIRED,
	 cmd_update,
	 "change the meta of a registration",
	 "Replaces the meta of NAME, on its owner node.\n"
	 "  --meta TEXT  the new meta (required)\n",
	 "{\"ok\": true}\n", NULL},
	{"unregister", "SCOPE NAME", 2, 2, -1, 0, cmd_unregister,
	 "unregister a name",
	 "Unregisters NAME (undefined if it is not registered).\n",
	 "{\"ok\": true}\n", NULL},
	{"lookup", "SCOPE NAME [--remote ADDR[:PORT] [--lookup-key PATH]]", 2, 2, -1,
	 CO_REMOTE, cmd_lookup,
	 "the process registered under a name",
	 "Looks NAME up. Text: NODE/ID, then a TAB and the meta if it has one.\n"
	 "Exit status 1 (undefined) if NAME is not registered.\n"
	 REMOTE_HELP,
	 "{\"name\": NAME, \"pid\": \"NODE/ID\", \"node\": NODE, \"meta\": META}\n",
	 remote_lookup},
	{"registry", "SCOPE [--node N | --local]", 1, 1, -1, CO_NODE | CO_LOCAL,
	 cmd_registry,
	 "every registration of a scope",
	 "Lists the registrations of SCOPE, by name. Text: NAME<TAB>NODE/ID, then\n"
	 "a TAB and the meta if it has one, per line.\n"
	 FILTER_HELP,
	 "[{\"name\": NAME, \"pid\": \"NODE/ID\", \"node\": NODE, \"meta\": META}, ...]\n", NULL},
	{"registry-count", "SCOPE [--node N | --local] [--remote ADDR[:PORT]]", 1, 1, -1,
	 CO_NODE | CO_LOCAL | CO_REMOTE,
	 cmd_registry_count,
	 "the number of registrations of a scope",
	 "Counts the registrations of SCOPE.\n" FILTER_HELP REMOTE_HELP,
	 "{\"count\": N}\n", remote_registry_count},
	{"join", "SCOPE GROUP [PROC] [--os-pid N] [--meta TEXT]", 2, 3, 2,
	 CO_META | CO_OS_PID, cmd_join,
	 "add a process to a group",
	 "Joins the process to GROUP; joining again updates its meta.\n"
	 PROC_HELP
	 "  --meta TEXT  the meta (default: empty)\n",
	 "{\"ok\": true}\n", NULL},
	{"leave", "SCOPE GROUP [PROC] [--os-pid N]", 2, 3, 2, CO_OS_PID, cmd_leave,
	 "remove a process from a group",
	 "Removes the process from GROUP (not_in_group if it is not in it).\n"
	 PROC_HELP,
	 "{\"ok\": true}\n", NULL},
	{"members", "SCOPE GROUP [--local] [--remote ADDR[:PORT]]", 2, 2, -1,
	 CO_LOCAL | CO_REMOTE, cmd_members,
	 "the members of a group, ordered by pid",
	 "Lists the members of GROUP ordered by pid (node name, then id). Text:\n"
	 "NODE/ID, then a TAB and the meta if it has one, per line.\n"
	 "  --local    only this node's\n" REMOTE_HELP,
	 "[{\"pid\": \"NODE/ID\", \"node\": NODE, \"meta\": META}, ...]\n",
	 remote_members},
	{"is-member", "SCOPE GROUP [PROC] [--os-pid N] [--local]", 2, 3, 2,
	 CO_OS_PID | CO_LOCAL, cmd_is_member,
	 "whether a process is in a group",
	 "Prints true or false; exit status 0 if the process is a member, 1 if\n"
	 "not (as grep).\n"
	 PROC_HELP
	 "  --local    a member owned by this node only\n",
	 "{\"member\": true}\n", NULL},
	{"member-count", "SCOPE GROUP [--node N | --local] [--remote ADDR[:PORT]]", 2, 2, -1,
	 CO_NODE | CO_LOCAL | CO_REMOTE,
	 cmd_member_count,
	 "the number of members of a group",
	 "Counts the members of GROUP.\n" FILTER_HELP REMOTE_HELP,
	 "{\"count\": N}\n", remote_member_count},
	{"groups", "SCOPE [--node N | --local]", 1, 1, -1, CO_NODE | CO_LOCAL, cmd_groups,
	 "the groups of a scope that have members",
	 "Lists the groups of SCOPE with at least one member, in byte order.\n"
	 FILTER_HELP,
	 "[GROUP, ...]\n", NULL},
	{"group-count", "SCOPE [--node N | --local] [--remote ADDR[:PORT]]", 1, 1, -1,
	 CO_NODE | CO_LOCAL | CO_REMOTE,
	 cmd_group_count,
	 "the number of groups of a scope",
	 "Counts the groups of SCOPE with at least one member.\n" FILTER_HELP REMOTE_HELP,
	 "{\"count\": N}\n", remote_group_count},
	{"scan", "SCOPE PREFIX --remote ADDR[:PORT] [--lookup-key PATH]", 2, 2, -1,
	 CO_REMOTE | CO_REMOTE_ONLY, NULL,
	 "registrations whose names start with a prefix (lookup service)",
	 "Lists the registrations of SCOPE whose names start with PREFIX, in name\n"
	 "(byte) order, every page, from the node's lookup service (--remote is\n"
	 "required). Text: NAME<TAB>NODE/ID, then a TAB and the meta if it has\n"
	 "one, per line.\n" REMOTE_HELP,
	 "[{\"name\": NAME, \"pid\": \"NODE/ID\", \"node\": NODE, \"meta\": META}, ...]\n",
	 remote_scan},
	{"watch", "SCOPE [--name NAME | --group GROUP] [--count N]", 1, 1, -1, CO_WATCH,
	 cmd_watch,
	 "print the events of a scope as they happen",
	 "Prints the events of SCOPE, one per line, as they happen, until\n"
	 "interrupted (SIGINT, SIGTERM or SIGHUP: exit status 0), until N events\n"
	 "(--count: exit status 0), or until --timeout MS have passed (exit status\n"
	 "0, or 1 with the error \"timeout\" if --count N events were not seen).\n"
	 "\"synodectl: watching scope SCOPE\" on stderr says when the watch is on.\n"
	 "Events: registered, registry_updated, unregistered, joined,\n"
	 "member_updated, left. Reasons: normal, exit:CODE, signal:NAME,\n"
	 "remote_scope_node_up, remote_scope_node_down, conflict_resolution,\n"
	 "undefined. Text: EVENT scope=S name=NAME|group=GROUP pid=NODE/ID\n"
	 "meta=META [prev_meta=META] reason=REASON.\n"
	 "  --name NAME    only the events of registry name NAME\n"
	 "  --group GROUP  only the events of group GROUP\n"
	 "  --count N      stop after N events\n",
	 "one object per line and event: {\"event\": EVENT, \"scope\": SCOPE,\n"
	 " \"name\": NAME (or \"group\": GROUP), \"pid\": \"NODE/ID\", \"node\": NODE,\n"
	 " \"meta\": META, [\"prev_meta\": META, for the *_updated events]\n"
	 " \"reason\": REASON}\n", NULL},
	{"handle-new", "", 0, 0, -1, 0, cmd_handle_new,
	 "create a handle process and hold it until interrupted",
	 "Creates a handle: a process owned by the node that lives as long as this\n"
	 "synodectl runs (a handle dies with its connection). Prints its NODE/ID,\n"
	 "then holds it until SIGINT, SIGTERM or SIGHUP, closes it (it dies with\n"
	 "reason normal, leaving its names and groups) and exits 0. Other\n"
	 "synodectl runs can register and join it meanwhile (not in strict mode),\n"
	 "e.g. a name that must vanish when a script ends:\n"
	 "  coproc synodectl handle-new; read -r pid <&\"${COPROC[0]}\"\n"
	 "  synodectl register SCOPE NAME \"$pid\"\n",
	 "{\"pid\": \"NODE/ID\", \"node\": NODE}\n", NULL},
};

#define CTL_N_CMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static const char ctl_bytes_help[] =
	"Names, groups and meta are bytes. With --json, valid UTF-8 is printed as a\n"
	"JSON string and anything else as {\"base64\": \"...\"} (RFC 4648, the raw\n"
	"bytes). In text, control bytes and invalid UTF-8 are printed as \\xNN and a\n"
	"backslash as \\\\.\n";

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: synodectl [--socket PATH | --node NAME] [--json] [--timeout MS]\n"
"                 COMMAND [ARGS] [OPTIONS]\n"
"       synodectl COMMAND --help | help [COMMAND] | --version\n"
"\n"
"Runs one of Syn's verbs against a synode node, over its control socket.\n"
"\n"
"Commands:\n");
	for (size_t i = 0; i < CTL_N_CMDS; i++)
		fprintf(f, "  %-15s %s\n", ctl_cmds[i].name, ctl_cmds[i].summary);
	fprintf(f,
"\n"
"Options (before the command; --json, --socket and --timeout also after it):\n"
"  --socket PATH  the node's control socket\n"
"  --node NAME    the node serving %s/NAME.sock (after the command,\n"
"                 --node is the command's own filter)\n"
"                 Neither: the only socket in %s (several there: a\n"
"                 usage error; none: exit status 4)\n"
"  --json         print JSON (one value per line), errors as {\"error\": WORD}\n"
"  --timeout MS   wait at most MS ms for the node (default %d; 0: no limit);\n"
"                 for watch, also how long to watch (default: until stopped)\n"
"  -h, --help     this text; `synodectl COMMAND --help` for a command\n"
"  -V, --version  the version\n"
"\n"
"A process (PROC) is NODE/ID, as lookup prints it, or --os-pid N for the\n"
"Linux process N of the node's host. Meta is given as --meta TEXT. Use --\n"
"before arguments that start with '-'.\n"
"\n"
"%s"
"\n"
"Exit status: 0 ok; 1 undefined / not found (is-member: not a member; watch:\n"
"timeout before --count events); 2 bad command line; 3 refused\n"
"by the node (taken, not_alive, not_self, not_in_group, race_condition,\n"
"invalid_scope, invalid_argument, name_too_long, meta_too_long, ...); 4 the\n"
"node cannot be reached (no_node, timeout, connection_lost, unreachable,\n"
"node_stopping, ...). The word in parentheses is the --json error.\n",
		CTL_RUN_DIR, CTL_RUN_DIR, CTL_DEFAULT_TIMEOUT_MS, ctl_bytes_help);
}

static void
cmd_usage(FILE *f, const struct ctl_cmd *cmd)
{
	fprintf(f, "Usage: synodectl [GLOBAL OPTIONS] %s%s%s\n\n%s\n--json prints:\n%s\n",
		cmd->name, cmd->args[0] ? " " : "", cmd->args, cmd->help, cmd->json);
	if (cmd->opts != 0 || cmd->max_pos > 0)
		fputs(ctl_bytes_help, f);
	fputs("\nGlobal options: --socket PATH | --node NAME, --json, --timeout MS "
	      "(synodectl --help).\n", f);
}

static const struct ctl_cmd *
find_cmd(const char *name)
{
	for (size_t i = 0; i < CTL_N_CMDS; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

/* ------------------------------------------------------ the command line */

static bool
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * Matches argv[*i] against option @p opt ("--meta"); takes its value from
 * "--meta=V" or from the next argument (advancing *i).
 * Returns false if it is another option.
 */
static bool
opt_value(struct ctl *ctl, int argc, char **argv, int *i, const char *opt,
	  const char **val)
{
	const char *a = argv[*i];
	size_t len = strlen(opt);

	if (strncmp(a, opt, len) != 0)
		return false;
	if (a[len] == '=') {
		*val = a + len + 1;
		return true;
	}
	if (a[len] != '\0')
		return false;
	if (*i + 1 >= argc)
		usage_error(ctl, "%s needs a value", opt);
	*val = argv[++*i];
	return true;
}

static bool
opt_flag(const char *a, const char *opt)
{
	return strcmp(a, opt) == 0;
}

/* The options accepted both before and after the command. */
static bool
parse_common_opt(struct ctl *ctl, int argc, char **argv, int *i)
{
	const char *v;
	unsigned long ms;

	if (opt_flag(argv[*i], "--json")) {
		ctl->json = true;
		return true;
	}
	if (opt_value(ctl, argc, argv, i, "--socket", &v)) {
		if (v[0] == '\0')
			usage_error(ctl, "--socket: empty path");
		ctl->socket = v;
		return true;
	}
	if (opt_value(ctl, argc, argv, i, "--timeout", &v)) {
		if (!parse_ulong(v, 0, INT_MAX, &ms))
			usage_error(ctl, "--timeout '%s': a number of ms (0: no limit)", v);
		ctl->timeout_ms = ms == 0 ? -1 : (int)ms;
		ctl->timeout_given = true;
		return true;
	}
	return false;
}

static void
check_allowed(struct ctl *ctl, unsigned bit, const char *opt)
{
	if ((ctl->cmd->opts & bit) == 0)
		usage_error(ctl, "%s does not go with this command", opt);
}

static void
parse_cmd_args(struct ctl *ctl, int argc, char **argv, int i)
{
	bool options_done = false;
	unsigned long v;
	const char *val;

	for (; i < argc; i++) {
		const char *a = argv[i];

		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (ctl->n_pos == CTL_MAX_POS || ctl->n_pos == ctl->cmd->max_pos)
				usage_error(ctl, "unexpected argument '%s'", a);
			ctl->pos[ctl->n_pos++] = a;
			continue;
		}
		if (opt_flag(a, "--")) {
			options_done = true;
		} else if (opt_flag(a, "--help") || opt_flag(a, "-h")) {
			cmd_usage(stdout, ctl->cmd);
			exit(CTL_EXIT_OK);
		} else if (parse_common_opt(ctl, argc, argv, &i)) {
			continue;
		} else if (opt_value(ctl, argc, argv, &i, "--remote", &val)) {
			check_allowed(ctl, CO_REMOTE, "--remote");
			ctl->remote = val;
		} else if (opt_value(ctl, argc, argv, &i, "--lookup-key", &val)) {
			check_allowed(ctl, CO_REMOTE, "--lookup-key");
			ctl->lookup_key = val;
		} else if (opt_value(ctl, argc, argv, &i, "--meta", &val)) {
			check_allowed(ctl, CO_META, "--meta");
			ctl->meta = val;
		} else if (opt_value(ctl, argc, argv, &i, "--os-pid", &val)) {
			check_allowed(ctl, CO_OS_PID, "--os-pid");
			if (!parse_ulong(val, 1, INT_MAX, &v))
				usage_error(ctl, "--os-pid '%s': a process id, from 1 to %d",
					    val, INT_MAX);
			ctl->os_pid = (pid_t)v;
			ctl->os_pid_given = true;
		} else if (opt_value(ctl, argc, argv, &i, "--node", &val)) {
			check_allowed(ctl, CO_NODE, "--node");
			ctl->node = val;
		} else if (opt_flag(a, "--local")) {
			check_allowed(ctl, CO_LOCAL, "--local");
			ctl->local = true;
		} else if (opt_value(ctl, argc, argv, &i, "--name", &val)) {
			check_allowed(ctl, CO_WATCH, "--name");
			ctl->w_name = val;
		} else if (opt_value(ctl, argc, argv, &i, "--group", &val)) {
			check_allowed(ctl, CO_WATCH, "--group");
			ctl->w_group = val;
		} else if (opt_value(ctl, argc, argv, &i, "--count", &val)) {
			check_allowed(ctl, CO_WATCH, "--count");
			if (!parse_ulong(val, 1, ULONG_MAX, &ctl->count))
				usage_error(ctl, "--count '%s': a number from 1", val);
			ctl->count_given = true;
		} else {
			usage_error(ctl, "unknown option '%s'", a);
		}
	}

	if (ctl->n_pos < ctl->cmd->min_pos)
		usage_error(ctl, "missing argument%s: %s",
			    ctl->cmd->min_pos - ctl->n_pos > 1 ? "s" : "", ctl->cmd->args);
	if (ctl->cmd->proc_pos >= 0) {
		bool positional = ctl->n_pos > (unsigned)ctl->cmd->proc_pos;

		if (positional && ctl->os_pid_given)
			usage_error(ctl, "give the process once: NODE/ID or --os-pid N");
		if (!positional && !ctl->os_pid_given)
			usage_error(ctl, "which process? give NODE/ID or --os-pid N");
		if (positional &&
		    synode_pid_parse(ctl->pos[ctl->cmd->proc_pos], &ctl->proc) != 0)
			usage_error(ctl, "'%s' is not a process: NODE/ID (a node name, "
				    "'/', a number), or --os-pid N",
				    ctl->pos[ctl->cmd->proc_pos]);
	}
	if ((ctl->cmd->opts & CO_META_REQUIRED) && ctl->meta == NULL)
		usage_error(ctl, "--meta TEXT is required");
	if (ctl->node != NULL && ctl->local)
		usage_error(ctl, "--node and --local do not go together");
	if (ctl->w_name != NULL && ctl->w_group != NULL)
		usage_error(ctl, "--name and --group do not go together");
	if ((ctl->cmd->opts & CO_REMOTE_ONLY) && ctl->remote == NULL)
		usage_error(ctl, "--remote ADDR[:PORT] is required");
	if (ctl->lookup_key != NULL && ctl->remote == NULL)
		usage_error(ctl, "--lookup-key goes with --remote");
	if (ctl->remote != NULL && ctl->local)
		usage_error(ctl, "--local does not go with --remote (give --node N)");
	if (ctl->remote != NULL && ctl->node != NULL && ctl->cmd->remote != remote_registry_count)
		usage_error(ctl, "--node does not go with --remote for this command");
}

static void
parse_command_line(struct ctl *ctl, int argc, char **argv)
{
	const char *v;
	int i;

	ctl->timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
	/* A usage error found before --json is parsed is JSON too. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			ctl->json = true;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (opt_flag(a, "--")) {
			i++;
			break;
		} else if (opt_flag(a, "--help") || opt_flag(a, "-h")) {
			usage(stdout);
			exit(CTL_EXIT_OK);
		} else if (opt_flag(a, "--version") || opt_flag(a, "-V")) {
			printf("synodectl %s\n", SYNODE_VERSION);
			exit(CTL_EXIT_OK);
		} else if (parse_common_opt(ctl, argc, argv, &i)) {
			continue;
		} else if (opt_value(ctl, argc, argv, &i, "--node", &v)) {
			ctl->socket_node = v;
		} else {
			usage_error(ctl, "unknown option '%s'", a);
		}
	}
	if (i >= argc)
		usage_error(ctl, "no command given");
	if (strcmp(argv[i], "help") == 0) {
		const struct ctl_cmd *cmd;

		if (i + 1 >= argc) {
			usage(stdout);
			exit(CTL_EXIT_OK);
		}
		cmd = find_cmd(argv[i + 1]);
		if (cmd == NULL || i + 2 < argc)
			usage_error(ctl, "help: no command '%s'", argv[i + 1]);
		cmd_usage(stdout, cmd);
		exit(CTL_EXIT_OK);
	}
	ctl->cmd = find_cmd(argv[i]);
	if (ctl->cmd == NULL)
		usage_error(ctl, "unknown command '%s'", argv[i]);
	parse_cmd_args(ctl, argc, argv, i + 1);
	if (ctl->socket != NULL && ctl->socket_node != NULL)
		usage_error(ctl, "--socket and --node (before the command) do not go together");
}

/* ------------------------------------------------------ finding the node */

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The socket to use: --socket; else CTL_RUN_DIR/NAME.sock for --node NAME;
 * else the only socket in CTL_RUN_DIR. Returns a status if there is none
 * to use (after reporting it), or -1 with @p buf filled.
 */
static int
choose_socket(struct ctl *ctl, char *buf, size_t size)
{
	char first[256] = "";
	struct dirent *de;
	unsigned found = 0;
	DIR *d;

	if (ctl->socket != NULL) {
		if (strlen(ctl->socket) >= size)
			usage_error(ctl, "--socket '%s': a socket path has at most %zu bytes",
				    ctl->socket, size - 1);
		snprintf(buf, size, "%s", ctl->socket);
		return -1;
	}
	if (ctl->socket_node != NULL) {
		if (ctl->socket_node[0] == '\0' || strchr(ctl->socket_node, '/') != NULL ||
		    strlen(ctl->socket_node) > SYNODE_NODE_NAME_MAX)
			usage_error(ctl, "--node '%s': not a node name", ctl->socket_node);
		snprintf(buf, size, CTL_RUN_DIR "/%s.sock", ctl->socket_node);
		return -1;
	}
	d = opendir(CTL_RUN_DIR);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".sock"))
			continue;
		if (found++ == 0)
			snprintf(first, sizeof(first), "%s", de->d_name);
	}
	if (d != NULL)
		closedir(d);
	if (found == 1 && strlen(CTL_RUN_DIR) + 1 + strlen(first) < size) {
		snprintf(buf, size, CTL_RUN_DIR "/%s", first);
		return -1;
	}
	if (found > 1)
		usage_error(ctl, "%u node sockets in %s: choose one with --node NAME "
			    "or --socket PATH", found, CTL_RUN_DIR);
	fprintf(stderr, "synodectl: %s: no_node: no node socket in %s; is synode "
		"running? (or give --socket PATH)\n", ctl->cmd->name, CTL_RUN_DIR);
	if (ctl->json)
		print_json_error("no_node");
	return CTL_EXIT_UNREACHABLE;
}

int
main(int argc, char **argv)
{
	struct ctl ctl = {0};
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int status;

	parse_command_line(&ctl, argc, argv);
	if (ctl.remote != NULL) {
		status = remote_open(&ctl);
		if (status >= 0)
			return status;
		signal(SIGPIPE, SIG_IGN);
		status = ctl.cmd->remote(&ctl);
		synode_lookup_close(ctl.lc);
		return status;
	}
	status = choose_socket(&ctl, path, sizeof(path));
	if (status >= 0)
		return status;
	/* A closed pipe on stdout must not kill us mid-way. */
	signal(SIGPIPE, SIG_IGN);

	ctl.c = synode_client_connect(path, ctl.timeout_ms);
	if (ctl.c == NULL) {
		int err = errno;
		struct ctl_failure f = classify(-err);

		fprintf(stderr, "synodectl: %s: %s: cannot reach the node at %s: %s\n",
			ctl.cmd->name, f.word, path, strerror(err));
		if (ctl.json)
			print_json_error(f.word);
		return err == EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_UNREACHABLE;
	}
	if (ctl.cmd->proc_pos >= 0 && ctl.os_pid_given)
		synode_client_pid_os(ctl.c, ctl.os_pid, &ctl.proc);

	status = ctl.cmd->run(&ctl);
	synode_client_close(ctl.c);
	return status;
}
