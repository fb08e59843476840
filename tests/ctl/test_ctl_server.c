/* SPDX-License-Identifier: MIT */
/*
 * Tests of the control-socket server (control/ctl_server.c) and the client
 * library (control/client.c) against a node started in this process on a
 * socket in a temporary directory. Proves:
 *   - the socket: its parent directories are made, mode 0660; a second
 *     node on the same path is refused (EADDRINUSE); a stale socket file
 *     is replaced; the file is removed when the node stops;
 *   - peers: with a link of the test's own (three peers, fixed figures,
 *     two of them brought into subclusters by DISCOVER messages), status
 *     lists each peer once with every figure and the scopes it shares
 *     (300 and more included), nodes SCOPE lists the subcluster only, an
 *     unknown scope is refused; synodectl prints them as documented (JSON
 *     and text, byte for byte; when $SYNODECTL is set);
 *   - every verb round-trips through the client (status, scopes,
 *     add_scope, handles, register/update/unregister/lookup with the
 *     largest name and meta, registry listing of 20000 entries and counts
 *     with node filters, join/leave/update_member/members/is_member/counts/
 *     group names), each answer equal to the node's own API;
 *   - an unknown scope gives -SYNODE_EINVALID_SCOPE for every verb;
 *   - watchers get the events of their scope, name or group only, with
 *     previous meta on updates, and nothing else; a watching connection
 *     refuses other calls (-EBUSY);
 *   - a handle dies when its connection closes: its registrations and
 *     memberships disappear;
 *   - garbage bytes, an oversized length, a request before HELLO, an
 *     answer type sent as a request, and a truncated frame followed by a
 *     close are each answered (ERROR frame with the right code) or just
 *     closed, counted in client_errors, and the node keeps serving other
 *     clients; a frame of another protocol version gets an ERROR naming
 *     version 1, not counted;
 *   - a client that asks for a long listing and reads nothing, or closes
 *     mid-listing, harms no one;
 *   - a watcher that never reads is dropped (subscribers_dropped) while
 *     the node keeps serving, and its client sees the end (-ECONNRESET);
 *   - a peer whose uid and gid are not allowed is refused at accept
 *     (EACCES, counted) (as root only: it runs a child as nobody);
 *   - clients are counted in and out.
 *
 * Options: --seed N.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <urcu/urcu-memb.h>

#include "ctl_proto_internal.h"
#include "ctl_test.h"
#include "sn_link.h"
#include "sn_wire.h"
#include "synode.h"
#include "synode_client.h"

#define NODE "n1"
#define TIMEOUT_MS 10000

static char tmpdir[64];
static char sock_path[256];
static struct synode *node;

static void
quiet_log(enum synode_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == SYNODE_LOG_ERROR)
		fprintf(stderr, "node: %s\n", msg);
}

static struct synode *
start_node(const char *path)
{
	static const char *const scopes[] = {"users", "groups"};
	struct synode_params p = {
		.name = NODE,
		.scopes = scopes,
		.n_scopes = 2,
		.max_name_len = SYNODE_NAME_MAX_LIMIT,
		.max_meta_len = SYNODE_META_MAX_LIMIT,
		.control_path = path,
		.log = quiet_log,
	};

	return synode_start(&p);
}

static struct synode_client *
connect_ok(void)
{
	struct synode_client *c = synode_client_connect(sock_path, TIMEOUT_MS);

	CHECK_MSG(c != NULL, "connect: %s", strerror(errno));
	return c;
}

static struct synode_stats
stats(void)
{
	struct synode_stats st;

	synode_get_stats(node, &st);
	return st;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits (at most 10 s) until @p cond holds; the condition is re-evaluated. */
#define WAIT_FOR(cond)                                                      \
	do {                                                                \
		int wf_i_ = 0;                                              \
		while (!(cond) && wf_i_++ < 1000)                           \
			sleep_ms(10);                                       \
		CHECK_MSG((cond), "still false after 10 s");                \
	} while (0)

/* -------------------------------------------------------------- raw socket */

static int
raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	strcpy(sa.sun_path, sock_path);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static void
raw_send(int fd, const void *buf, size_t len)
{
	CHECK_EQ(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void
raw_send_msg(int fd, struct ctl_msg *m)
{
	static uint8_t buf[CTL_FRAME_MAX];
	int len = ctl_encode(m, buf, sizeof(buf));

	CHECK(len > 0);
	raw_send(fd, buf, (size_t)len);
}

static void
raw_hello(int fd)
{
	struct ctl_msg m;

	ctl_msg_init(&m, CTL_MSG_HELLO, 1);
	m.n_versions = 1;
	m.versions[0] = CTL_PROTO_VERSION;
	raw_send_msg(fd, &m);
}

/* Reads one frame into @p m (pointing into a static buffer); returns 1, or
 * 0 at the end of the stream. Fails after 10 s. */
static int
raw_read(int fd, struct ctl_msg *m)
{
	static uint8_t buf[2 * CTL_FRAME_MAX];
	static size_t have;
	static int have_fd = -1;
	int waited = 0;

	if (have_fd != fd) {
		have = 0;
		have_fd = fd;
	}
	for (;;) {
		int r = ctl_decode(buf, have, m);

		if (r > 0) {
			/* The caller reads m before the next call: keep it
			 * valid by copying the rest out of the way later. */
			static uint8_t frame[CTL_FRAME_MAX];

			memcpy(frame, buf, (size_t)r);
			memmove(buf, buf + r, have - (size_t)r);
			have -= (size_t)r;
			CHECK_EQ(ctl_decode(frame, (size_t)r, m), r);
			return 1;
		}
		CHECK_EQ(r, -CTL_ETRUNCATED);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		CHECK_MSG(poll(&p, 1, 100) >= 0, "%s", strerror(errno));
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) {
			CHECK_MSG(++waited < 100, "no answer from the node");
			continue;
		}
		ssize_t k = recv(fd, buf + have, sizeof(buf) - have, 0);

		if (k == 0 || (k < 0 && errno == ECONNRESET)) {
			CHECK_EQ(have, 0);
			return 0;
		}
		CHECK(k > 0);
		have += (size_t)k;
	}
}

/* Expects an ERROR frame with @p code, then the end of the stream. */
static void
raw_expect_error_close(int fd, int code)
{
	struct ctl_msg m;

	CHECK_EQ(raw_read(fd, &m), 1);
	CHECK_EQ(m.type, CTL_MSG_ERROR);
	CHECK_EQ(m.code, code);
	CHECK_EQ(raw_read(fd, &m), 0);
}

/* The node answers a lookup on a fresh connection. */
static void
check_still_serving(void)
{
	struct synode_client *c = connect_ok();

	CHECK_EQ(synode_client_lookup(c, "users", "nobody", 6, NULL, NULL, NULL),
		 -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_client_registry_count(c, "users", NULL),
		 synode_registry_count(node, "users", NULL));
	synode_client_close(c);
}

/* ------------------------------------------------------------------ socket */

static void
test_socket(void)
{
	struct stat st;
	struct synode *other;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char stale[256];
	int fd;

	CHECK(stat(sock_path, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0660);

	errno = 0;
	other = start_node(sock_path);
	CHECK(other == NULL);
	CHECK_EQ(errno, EADDRINUSE);

	/* A socket file nobody listens on is taken over, and removed at stop. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", tmpdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, stale);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(stat(stale, &st) == 0);
	other = start_node(stale);
	CHECK_MSG(other != NULL, "%s", strerror(errno));
	synode_stop(other);
	CHECK(stat(stale, &st) != 0 && errno == ENOENT);

	/* No node: the client says so. */
	CHECK(synode_client_connect(stale, 1000) == NULL);
	CHECK(errno == ENOENT);
	CHECK(synode_client_connect(NULL, 1000) == NULL && errno == EINVAL);
	printf("socket: ok\n");
}

/* ------------------------------------------------------------------- verbs */

struct names {
	unsigned n;
	char s[8][SYNODE_SCOPE_NAME_MAX + 1];
};

static void
collect_scope(const char *scope, void *arg)
{
	struct names *l = arg;

	CHECK(l->n < 8);
	strcpy(l->s[l->n++], scope);
}

static bool
names_has(const struct names *l, const char *s)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->s[i], s) == 0)
			return true;
	return false;
}

static void
count_peer(const struct synode_client_peer *p, void *arg)
{
	(void)p;
	++*(unsigned *)arg;
}

static void
test_status_scopes(struct synode_client *c)
{
	char name[SYNODE_NODE_NAME_MAX + 1] = "";
	struct synode_stats st;
	struct names l = { 0 };
	unsigned peers = 0;

	CHECK(strcmp(synode_client_node_name(c), NODE) == 0);
	CHECK_EQ(synode_client_max_name_len(c), SYNODE_NAME_MAX_LIMIT);
	CHECK_EQ(synode_client_max_meta_len(c), SYNODE_META_MAX_LIMIT);

	CHECK_EQ(synode_client_status(c, name, &st, collect_scope, NULL, &l), 0);
	CHECK(strcmp(name, NODE) == 0);
	CHECK(st.clients >= 1);
	CHECK_EQ(l.n, 2);
	CHECK(names_has(&l, "users") && names_has(&l, "groups"));
	/* A node without a link has no peers. */
	CHECK_EQ(synode_client_status(c, NULL, NULL, NULL, count_peer, &peers), 0);
	CHECK_EQ(peers, 0);

	CHECK_EQ(synode_client_add_scope(c, "extra"), 0);
	CHECK_EQ(synode_client_add_scope(c, "extra"), 0);
	CHECK_EQ(synode_client_add_scope(c, ""), -EINVAL);
	CHECK_EQ(synode_client_add_scope(c, NULL), -EINVAL);
	l.n = 0;
	CHECK_EQ(synode_client_scopes(c, collect_scope, &l), 3);
	CHECK(names_has(&l, "extra"));
	CHECK_EQ(synode_client_scopes(c, NULL, NULL), synode_scopes(node, NULL, NULL));
	CHECK_EQ(synode_client_nodes(c, "users", count_peer, &peers), 0);
	CHECK_EQ(synode_client_nodes(c, "nope", count_peer, &peers), -SYNODE_EINVALID_SCOPE);
	printf("status, scopes: ok\n");
}

/* ------------------------------------------------------------------- peers */

/*
 * A second node with a link of its own making: three peers as the link
 * sees them (fixed figures), two of them up and in subclusters through
 * DISCOVER messages handed to the node as a dataplane would. The link
 * sends nothing anywhere.
 */
#define PEERS_NODE "n2"
#define PEERS_EXTRA_SCOPES 300

static const struct synode_peer_info fake_peers[] = {
	{ "pa", "10.0.0.2:4370", SYNODE_PEER_UP, 1, 52300, 1001, 1002, 150003, 150004, 5, 6 },
	{ "pb", "10.0.0.3:4370", SYNODE_PEER_UP, 1, 1999, 11, 12, 13, 14, 15, 16 },
	{ "", "10.0.0.9:4370", SYNODE_PEER_CONNECTING, 0, 0, 3, 0, 210, 0, 2, 0 },
};
/* The link's peer numbers of fake_peers[]. */
static const unsigned fake_ids[] = { 0, 1, 5 };

static void
fake_send(void *ctx, uint64_t peers, const void *msgs, size_t len)
{
	(void)ctx, (void)peers, (void)msgs, (void)len;
}

static void
fake_flush(void *ctx)
{
	(void)ctx;
}

static int
fake_peer_info(void *ctx, unsigned id, struct synode_peer_info *out)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(fake_ids) / sizeof(fake_ids[0]); i++) {
		if (fake_ids[i] == id) {
			*out = fake_peers[i];
			return 0;
		}
	}
	return -ENOENT;
}

static const struct synode_link_ops fake_ops = {
	.send = fake_send, .flush = fake_flush, .peer_info = fake_peer_info,
};
static struct synode_link fake_link = { &fake_ops, NULL };

/* Hands peer @p id a DISCOVER of @p scope, as the link would. */
static void
fake_discover(struct synode *n, unsigned id, const char *scope)
{
	struct sn_msg m = { .type = SN_MSG_DISCOVER, .scope = scope };
	uint8_t buf[128];
	int len = sn_wire_encode(buf, sizeof(buf), &m, synode_name(n));

	CHECK(len > 0);
	CHECK_EQ(sn_link_receive(n, id, buf, (size_t)len), 0);
}

static char extra_scope_names[PEERS_EXTRA_SCOPES][16];

/* On n2's control thread: pa serves users, groups and the extra scopes;
 * pb users and a scope n2 does not serve; peer 5 has no session yet. */
static void
fake_bring_up(struct synode *n, void *arg)
{
	(void)arg;
	sn_link_peer_up(n, 0, "pa", 1);
	sn_link_peer_up(n, 1, "pb", 1);
	fake_discover(n, 0, "users");
	fake_discover(n, 0, "groups");
	for (unsigned i = 0; i < PEERS_EXTRA_SCOPES; i++)
		fake_discover(n, 0, extra_scope_names[i]);
	fake_discover(n, 1, "users");
	fake_discover(n, 1, "elsewhere");
}

struct peers_seen {
	unsigned n;
	struct {
		struct synode_client_peer p;  /* its strings: copies below */
		char node[SYNODE_NODE_NAME_MAX + 1], scope[SYNODE_SCOPE_NAME_MAX + 1];
		char state[64], address[64];
		bool users, groups, solo;
		size_t n_scopes, n_extra;
	} v[8];
};

static void
see_peer(const struct synode_client_peer *p, void *arg)
{
	struct peers_seen *s = arg;

	CHECK(s->n < 8);
	s->v[s->n].p = *p;
	strcpy(s->v[s->n].node, p->node);
	strcpy(s->v[s->n].scope, p->scope);
	strcpy(s->v[s->n].state, p->state);
	strcpy(s->v[s->n].address, p->address);
	s->v[s->n].n_scopes = p->n_scopes;
	for (size_t i = 0; i < p->n_scopes; i++) {
		s->v[s->n].users |= strcmp(p->scopes[i], "users") == 0;
		s->v[s->n].groups |= strcmp(p->scopes[i], "groups") == 0;
		s->v[s->n].solo |= strcmp(p->scopes[i], "solo") == 0;
		s->v[s->n].n_extra += strncmp(p->scopes[i], "x-", 2) == 0;
	}
	s->n++;
}

/* The entry of @p s for the fake peer @p k (by address); fails if none. */
static unsigned
seen_index(const struct peers_seen *s, size_t k)
{
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->v[i].address, fake_peers[k].addr) == 0)
			return i;
	CHECK_MSG(false, "peer %s not listed", fake_peers[k].addr);
	return 0;
}

/* Every figure of fake peer @p k came through unchanged. */
static void
check_figures(const struct peers_seen *s, unsigned i, size_t k)
{
	const struct synode_client_peer *p = &s->v[i].p;
	const struct synode_peer_info *f = &fake_peers[k];

	CHECK(strcmp(s->v[i].node, f->node) == 0);
	CHECK(strcmp(s->v[i].state, synode_peer_state_name(f->state)) == 0);
	CHECK_EQ(p->version, f->version);
	CHECK(p->rtt_ns == f->rtt_ns);
	CHECK(p->frames_tx == f->frames_tx && p->frames_rx == f->frames_rx);
	CHECK(p->bytes_tx == f->bytes_tx && p->bytes_rx == f->bytes_rx);
	CHECK(p->retransmits == f->retransmits && p->drops == f->drops);
}

/* Runs synodectl (path in $SYNODECTL) on @p sock with @p args; returns its
 * exit status and its stdout in @p out. */
static int
run_synodectl(const char *sock, const char *args, char *out, size_t size)
{
	const char *ctl = getenv("SYNODECTL");
	char cmd[1024];
	size_t n = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' --socket '%s' %s", ctl, sock, args);
	f = popen(cmd, "r");
	CHECK(f != NULL);
	while (n + 1 < size && !feof(f) && !ferror(f))
		n += fread(out + n, 1, size - 1 - n, f);
	out[n] = '\0';
	st = pclose(f);
	CHECK(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* synodectl's output of the fake peers, byte for byte. */
static void
test_peers_synodectl(const char *sock)
{
	static char out[1 << 16];
	const char *ctl = getenv("SYNODECTL");

	if (ctl == NULL || access(ctl, X_OK) != 0) {
		printf("peers, synodectl: skipped (no $SYNODECTL)\n");
		return;
	}
	CHECK_EQ(run_synodectl(sock, "--json nodes users", out, sizeof(out)), 0);
	CHECK_MSG(strcmp(out,
		"[{\"node\": \"pa\", \"address\": \"10.0.0.2:4370\", \"state\": \"up\", "
		"\"version\": 1, \"rtt_us\": 52, \"frames_tx\": 1001, \"frames_rx\": 1002, "
		"\"bytes_tx\": 150003, \"bytes_rx\": 150004, \"retransmits\": 5, \"drops\": 6}, "
		"{\"node\": \"pb\", \"address\": \"10.0.0.3:4370\", \"state\": \"up\", "
		"\"version\": 1, \"rtt_us\": 2, \"frames_tx\": 11, \"frames_rx\": 12, "
		"\"bytes_tx\": 13, \"bytes_rx\": 14, \"retransmits\": 15, \"drops\": 16}]\n") == 0,
		"%s", out);
	CHECK_EQ(run_synodectl(sock, "--json nodes solo", out, sizeof(out)), 0);
	CHECK(strcmp(out, "[]\n") == 0);
	CHECK_EQ(run_synodectl(sock, "--json nodes nope", out, sizeof(out)), 3);
	CHECK(strcmp(out, "{\"error\": \"invalid_scope\"}\n") == 0);

	/* Status: sorted by node name ("" first), scopes sorted. */
	CHECK_EQ(run_synodectl(sock, "--json status", out, sizeof(out)), 0);
	CHECK_MSG(strstr(out,
		"\"peers\": [{\"node\": \"\", \"address\": \"10.0.0.9:4370\", "
		"\"state\": \"connecting\", \"version\": null, \"rtt_us\": null, "
		"\"frames_tx\": 3, \"frames_rx\": 0, \"bytes_tx\": 210, \"bytes_rx\": 0, "
		"\"retransmits\": 2, \"drops\": 0, \"scopes\": []}, "
		"{\"node\": \"pa\", \"address\": \"10.0.0.2:4370\", \"state\": \"up\", "
		"\"version\": 1, \"rtt_us\": 52, \"frames_tx\": 1001, \"frames_rx\": 1002, "
		"\"bytes_tx\": 150003, \"bytes_rx\": 150004, \"retransmits\": 5, \"drops\": 6, "
		"\"scopes\": [\"groups\", \"users\", \"x-000\", \"x-001\"") != NULL, "%s", out);
	CHECK_MSG(strstr(out,
		"\"x-298\", \"x-299\"]}, "
		"{\"node\": \"pb\", \"address\": \"10.0.0.3:4370\", \"state\": \"up\", "
		"\"version\": 1, \"rtt_us\": 2, \"frames_tx\": 11, \"frames_rx\": 12, "
		"\"bytes_tx\": 13, \"bytes_rx\": 14, \"retransmits\": 15, \"drops\": 16, "
		"\"scopes\": [\"users\"]}], \"stats\": {") != NULL, "%s", out);

	/* Text: a table, aligned. */
	CHECK_EQ(run_synodectl(sock, "nodes users", out, sizeof(out)), 0);
	CHECK_MSG(strcmp(out,
		"NODE  ADDRESS        STATE  VERSION  RTT_MS  FRAMES_TX  FRAMES_RX  BYTES_TX"
		"  BYTES_RX  RETRANSMITS  DROPS\n"
		"pa    10.0.0.2:4370  up           1   0.052       1001       1002    150003"
		"    150004            5      6\n"
		"pb    10.0.0.3:4370  up           1   0.002         11         12        13"
		"        14           15     16\n") == 0, "%s", out);
	CHECK_EQ(run_synodectl(sock, "status", out, sizeof(out)), 0);
	CHECK_MSG(strstr(out,
		"\npeers:\n"
		"  NODE  ADDRESS        STATE       VERSION  RTT_MS  FRAMES_TX  FRAMES_RX"
		"  BYTES_TX  BYTES_RX  RETRANSMITS  DROPS  SCOPES\n"
		"  -     10.0.0.9:4370  connecting        -       -          3          0"
		"       210         0            2      0  -\n"
		"  pa    10.0.0.2:4370  up                1   0.052       1001       1002"
		"    150003    150004            5      6  groups,users,x-000,") != NULL,
		"%s", out);
	CHECK_MSG(strstr(out,
		"  pb    10.0.0.3:4370  up                1   0.002         11         12"
		"        13        14           15     16  users\n"
		"requests: ") != NULL, "%s", out);
	printf("peers, synodectl: ok\n");
}

static void
test_peers(void)
{
	static const char *const scopes[] = {"users", "groups", "solo"};
	char sock[300];
	struct synode_params p = {
		.name = PEERS_NODE,
		.scopes = scopes,
		.n_scopes = 3,
		.control_path = sock,
		.log = quiet_log,
		.link = &fake_link,
	};
	struct peers_seen s = { 0 };
	struct synode_client *c;
	struct synode *n2;
	unsigned i;

	snprintf(sock, sizeof(sock), "%s/" PEERS_NODE ".sock", tmpdir);
	n2 = synode_start(&p);
	CHECK_MSG(n2 != NULL, "synode_start: %s", strerror(errno));
	/* Scope names from x-000 (x-300 is served by n2 only). */
	for (unsigned k = 0; k < PEERS_EXTRA_SCOPES; k++)
		snprintf(extra_scope_names[k], sizeof(extra_scope_names[k]), "x-%03u", k);
	for (unsigned k = 0; k <= PEERS_EXTRA_SCOPES; k++) {
		char name[16];

		snprintf(name, sizeof(name), "x-%03u", k);
		CHECK_EQ(synode_add_scope(n2, name), 0);
	}
	CHECK_EQ(sn_link_post(n2, fake_bring_up, NULL), 0);
	WAIT_FOR(synode_peers(n2, "groups", NULL, NULL) == 1 &&
		 synode_peers(n2, "users", NULL, NULL) == 2 &&
		 synode_peers(n2, "x-299", NULL, NULL) == 1);

	c = synode_client_connect(sock, TIMEOUT_MS);
	CHECK_MSG(c != NULL, "connect: %s", strerror(errno));

	/* Status: each peer the link knows once, with the scopes it shares. */
	CHECK_EQ(synode_client_status(c, NULL, NULL, NULL, see_peer, &s), 0);
	CHECK_EQ(s.n, 3);
	i = seen_index(&s, 0);
	check_figures(&s, i, 0);
	CHECK(s.v[i].users && s.v[i].groups && !s.v[i].solo);
	CHECK_EQ(s.v[i].n_extra, PEERS_EXTRA_SCOPES);
	CHECK_EQ(s.v[i].n_scopes, 2 + PEERS_EXTRA_SCOPES);
	CHECK(strcmp(s.v[i].scope, "") == 0);
	i = seen_index(&s, 1);
	check_figures(&s, i, 1);
	CHECK(s.v[i].users && s.v[i].n_scopes == 1);
	i = seen_index(&s, 2);
	check_figures(&s, i, 2);
	CHECK_EQ(s.v[i].n_scopes, 0);

	/* Nodes: the subcluster only, with the scope asked. */
	s.n = 0;
	CHECK_EQ(synode_client_nodes(c, "users", see_peer, &s), 2);
	CHECK_EQ(s.n, 2);
	for (size_t k = 0; k < 2; k++) {
		i = seen_index(&s, k);
		check_figures(&s, i, k);
		CHECK(strcmp(s.v[i].scope, "users") == 0);
		CHECK(s.v[i].n_scopes == 1 && s.v[i].users);
	}
	s.n = 0;
	CHECK_EQ(synode_client_nodes(c, "groups", see_peer, &s), 1);
	CHECK(s.n == 1 && strcmp(s.v[0].node, "pa") == 0);
	CHECK_EQ(synode_client_nodes(c, "solo", see_peer, &s), 0);
	CHECK_EQ(synode_client_nodes(c, "x-300", see_peer, &s), 0);
	CHECK_EQ(synode_client_nodes(c, "elsewhere", see_peer, &s),
		 -SYNODE_EINVALID_SCOPE);
	CHECK_EQ(s.n, 1);
	/* The connection is still in step after all that. */
	CHECK_EQ(synode_client_registry_count(c, "users", NULL), 0);
	synode_client_close(c);

	test_peers_synodectl(sock);
	synode_stop(n2);
	printf("peers: ok\n");
}

struct reg_seen {
	unsigned n;
	uint8_t *seen;          /* by index, for "name-%u" */
	const struct synode_pid *pid;
};

static void
collect_reg(const struct synode_reg_entry *e, void *arg)
{
	struct reg_seen *r = arg;
	char buf[32];
	unsigned i;

	r->n++;
	CHECK(e->name_len < sizeof(buf));
	memcpy(buf, e->name, e->name_len);
	buf[e->name_len] = '\0';
	if (sscanf(buf, "name-%u", &i) != 1)
		return;
	CHECK(r->seen[i] == 0);
	r->seen[i] = 1;
	CHECK(e->pid.id == r->pid->id && strcmp(e->pid.node, r->pid->node) == 0);
	CHECK_EQ(e->meta_len, strlen(buf));
	CHECK_MEM(e->meta, buf, e->meta_len);
	CHECK(e->time.wall_ns > 0);
}

static void
test_registry(struct synode_client *c)
{
	static uint8_t big_name[SYNODE_NAME_MAX_LIMIT], big_meta[SYNODE_META_MAX_LIMIT];
	static uint8_t meta[SYNODE_META_MAX_LIMIT + 1];
	struct synode_pid h, h2, got;
	size_t meta_len;

	CHECK_EQ(synode_client_handle_new(c, &h), 0);
	CHECK(strcmp(h.node, NODE) == 0);
	CHECK(h.id >= SYNODE_HANDLE_ID_BASE);
	CHECK_EQ(synode_client_handle_new(c, &h2), 0);
	CHECK(h2.id != h.id);

	CHECK_EQ(synode_client_register(c, "users", "alice", 5, &h, "m1", 2), 0);
	meta_len = sizeof(meta);
	CHECK_EQ(synode_client_lookup(c, "users", "alice", 5, &got, meta, &meta_len), 0);
	CHECK(got.id == h.id && strcmp(got.node, NODE) == 0);
	CHECK_EQ(meta_len, 2);
	CHECK_MEM(meta, "m1", 2);
	/* The node's own view agrees. */
	CHECK_EQ(synode_lookup(node, "users", "alice", 5, &got, NULL, NULL), 0);
	CHECK(got.id == h.id);

	/* Short meta buffer: a prefix, and the full length. */
	meta_len = 1;
	memset(meta, 0, 4);
	CHECK_EQ(synode_client_lookup(c, "users", "alice", 5, NULL, meta, &meta_len), 0);
	CHECK_EQ(meta_len, 2);
	CHECK(meta[0] == 'm' && meta[1] == 0);

	CHECK_EQ(synode_client_update(c, "users", "alice", 5, "", 0), 0);
	meta_len = sizeof(meta);
	CHECK_EQ(synode_client_lookup(c, "users", "alice", 5, NULL, meta, &meta_len), 0);
	CHECK_EQ(meta_len, 0);
	CHECK_EQ(synode_client_register(c, "users", "alice", 5, &h2, NULL, 0),
		 -SYNODE_ETAKEN);
	CHECK_EQ(synode_client_register(c, "users", "", 0, &h2, NULL, 0), -EINVAL);
	CHECK_EQ(synode_client_unregister(c, "users", "alice", 5), 0);
	CHECK_EQ(synode_client_lookup(c, "users", "alice", 5, NULL, NULL, NULL),
		 -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_client_unregister(c, "users", "alice", 5), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_client_update(c, "users", "alice", 5, "x", 1), -SYNODE_EUNDEFINED);

	/* The largest name and meta; one byte more is refused before sending. */
	for (size_t i = 0; i < sizeof(big_name); i++)
		big_name[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < sizeof(big_meta); i++)
		big_meta[i] = (uint8_t)(i * 11 + 3);
	CHECK_EQ(synode_client_register(c, "users", big_name, sizeof(big_name), &h, big_meta,
					sizeof(big_meta)),
		 0);
	meta_len = sizeof(meta);
	CHECK_EQ(synode_client_lookup(c, "users", big_name, sizeof(big_name), &got, meta,
				      &meta_len),
		 0);
	CHECK_EQ(meta_len, sizeof(big_meta));
	CHECK_MEM(meta, big_meta, sizeof(big_meta));
	CHECK_EQ(synode_client_register(c, "users", big_name, sizeof(big_name) + 1, &h, NULL,
					0),
		 -ENAMETOOLONG);
	CHECK_EQ(synode_client_register(c, "users", "x", 1, &h, meta, SYNODE_META_MAX_LIMIT + 1),
		 -EMSGSIZE);
	CHECK_EQ(synode_client_unregister(c, "users", big_name, sizeof(big_name)), 0);

	/* A listing of 20000 entries (many worker flushes), and counts. */
	enum { N = 20000 };
	struct reg_seen r = { 0, calloc(N, 1), &h };
	CHECK(r.seen != NULL);
	for (unsigned i = 0; i < N; i++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "name-%u", i);

		CHECK_EQ(synode_register(node, "users", name, (size_t)len, &h, name, (size_t)len),
			 0);
	}
	CHECK_EQ(synode_client_registry_foreach(c, "users", NULL, collect_reg, &r), N);
	CHECK_EQ(r.n, N);
	for (unsigned i = 0; i < N; i++)
		CHECK(r.seen[i] == 1);
	CHECK_EQ(synode_client_registry_foreach(c, "users", "elsewhere", collect_reg, &r), 0);
	CHECK_EQ(synode_client_registry_foreach(c, "users", NODE, NULL, NULL), N);
	CHECK_EQ(synode_client_registry_count(c, "users", NULL), N);
	CHECK_EQ(synode_client_registry_count(c, "users", NODE), N);
	CHECK_EQ(synode_client_registry_count(c, "users", "elsewhere"), 0);
	CHECK_EQ(synode_client_registry_count(c, "groups", NULL), 0);
	free(r.seen);

	/* Handle close: its registrations go. */
	CHECK_EQ(synode_client_handle_close(c, &h), 0);
	CHECK_EQ(synode_client_handle_close(c, &h), -SYNODE_EUNDEFINED);
	CHECK_EQ(synode_client_registry_count(c, "users", NULL), 0);
	CHECK_EQ(synode_client_handle_close(c, &h2), 0);
	printf("registry: ok\n");
}

struct member_seen {
	unsigned n;
	struct synode_pid last;
	char metas[4][8];
};

static void
collect_member(const struct synode_member *m, void *arg)
{
	struct member_seen *s = arg;

	CHECK(s->n < 4);
	if (s->n > 0)
		CHECK(synode_pid_cmp(&s->last, &m->pid) < 0); /* ordered by pid */
	s->last = m->pid;
	CHECK(m->meta_len < 8);
	memcpy(s->metas[s->n], m->meta, m->meta_len);
	s->metas[s->n][m->meta_len] = '\0';
	s->n++;
}

static void
collect_group(const void *g, size_t len, void *arg)
{
	struct names *l = arg;

	CHECK(l->n < 8 && len <= SYNODE_SCOPE_NAME_MAX);
	memcpy(l->s[l->n], g, len);
	l->s[l->n++][len] = '\0';
}

static void
test_groups(struct synode_client *c)
{
	struct synode_pid a, b;
	struct member_seen s = { 0 };
	struct names l = { 0 };

	CHECK_EQ(synode_client_handle_new(c, &a), 0);
	CHECK_EQ(synode_client_handle_new(c, &b), 0);
	CHECK_EQ(synode_client_join(c, "groups", "g1", 2, &b, "mb", 2), 0);
	CHECK_EQ(synode_client_join(c, "groups", "g1", 2, &a, "ma", 2), 0);
	CHECK_EQ(synode_client_join(c, "groups", "g2", 2, &a, NULL, 0), 0);
	CHECK_EQ(synode_client_is_member(c, "groups", "g1", 2, &a), 1);
	CHECK_EQ(synode_client_is_member(c, "groups", "g2", 2, &b), 0);
	CHECK_EQ(synode_client_members(c, "groups", "g1", 2, NULL, collect_member, &s), 2);
	CHECK_EQ(s.n, 2);
	CHECK(strcmp(s.metas[0], "ma") == 0 && strcmp(s.metas[1], "mb") == 0);
	CHECK_EQ(synode_client_members(c, "groups", "g1", 2, "elsewhere", NULL, NULL), 0);
	CHECK_EQ(synode_client_member_count(c, "groups", "g1", 2, NULL), 2);
	CHECK_EQ(synode_client_member_count(c, "groups", "g1", 2, NODE), 2);
	CHECK_EQ(synode_client_member_count(c, "groups", "g1", 2, "elsewhere"), 0);
	CHECK_EQ(synode_client_group_names(c, "groups", NULL, collect_group, &l), 2);
	CHECK(l.n == 2 && strcmp(l.s[0], "g1") == 0 && strcmp(l.s[1], "g2") == 0);
	CHECK_EQ(synode_client_group_count(c, "groups", NULL), 2);
	CHECK_EQ(synode_client_group_count(c, "groups", "elsewhere"), 0);

	CHECK_EQ(synode_client_update_member(c, "groups", "g1", 2, &a, "new", 3), 0);
	s.n = 0;
	CHECK_EQ(synode_client_members(c, "groups", "g1", 2, NODE, collect_member, &s), 2);
	CHECK(strcmp(s.metas[0], "new") == 0);
	CHECK_EQ(synode_client_update_member(c, "groups", "g2", 2, &b, "x", 1),
		 -SYNODE_EUNDEFINED);

	CHECK_EQ(synode_client_leave(c, "groups", "g1", 2, &a), 0);
	CHECK_EQ(synode_client_leave(c, "groups", "g1", 2, &a), -SYNODE_ENOT_IN_GROUP);
	CHECK_EQ(synode_client_is_member(c, "groups", "g1", 2, &a), 0);
	CHECK_EQ(synode_client_member_count(c, "groups", "g1", 2, NULL), 1);
	CHECK_EQ(synode_member_count(node, "groups", "g1", 2, NULL), 1);
	CHECK_EQ(synode_client_handle_close(c, &a), 0);
	CHECK_EQ(synode_client_handle_close(c, &b), 0);
	CHECK_EQ(synode_client_group_count(c, "groups", NULL), 0);
	printf("groups: ok\n");
}

static void
test_invalid_scope(struct synode_client *c)
{
	struct synode_pid h;
	const int E = -SYNODE_EINVALID_SCOPE;
	char long_scope[100];

	CHECK_EQ(synode_client_handle_new(c, &h), 0);
	CHECK_EQ(synode_client_register(c, "nope", "a", 1, &h, NULL, 0), E);
	CHECK_EQ(synode_client_update(c, "nope", "a", 1, NULL, 0), E);
	CHECK_EQ(synode_client_unregister(c, "nope", "a", 1), E);
	CHECK_EQ(synode_client_lookup(c, "nope", "a", 1, NULL, NULL, NULL), E);
	CHECK_EQ(synode_client_registry_foreach(c, "nope", NULL, NULL, NULL), E);
	CHECK_EQ(synode_client_registry_count(c, "nope", NULL), E);
	CHECK_EQ(synode_client_join(c, "nope", "g", 1, &h, NULL, 0), E);
	CHECK_EQ(synode_client_leave(c, "nope", "g", 1, &h), E);
	CHECK_EQ(synode_client_update_member(c, "nope", "g", 1, &h, NULL, 0), E);
	CHECK_EQ(synode_client_members(c, "nope", "g", 1, NULL, NULL, NULL), E);
	CHECK_EQ(synode_client_is_member(c, "nope", "g", 1, &h), E);
	CHECK_EQ(synode_client_member_count(c, "nope", "g", 1, NULL), E);
	CHECK_EQ(synode_client_group_names(c, "nope", NULL, NULL, NULL), E);
	CHECK_EQ(synode_client_group_count(c, "nope", NULL), E);
	memset(long_scope, 's', sizeof(long_scope) - 1);
	long_scope[sizeof(long_scope) - 1] = '\0';
	CHECK_EQ(synode_client_lookup(c, long_scope, "a", 1, NULL, NULL, NULL), E);
	CHECK_EQ(synode_client_watch(c, "nope", NULL, 0, NULL, 0), E);
	/* Still usable after all these (not watching). */
	CHECK_EQ(synode_client_handle_close(c, &h), 0);
	printf("invalid scope: ok\n");
}

/* ------------------------------------------------------------------ events */

struct ev_seen {
	enum synode_event_kind kind;
	char scope[SYNODE_SCOPE_NAME_MAX + 1];
	char name[64];
	char meta[64];
	bool has_prev;
	char prev[64];
	struct synode_pid pid;
	struct synode_reason reason;
};

static void
copy_ev(const struct synode_event *ev, void *arg)
{
	struct ev_seen *s = arg;

	s->kind = ev->kind;
	strcpy(s->scope, ev->scope);
	CHECK(ev->name_len < 64 && ev->meta_len < 64);
	memcpy(s->name, ev->name, ev->name_len);
	s->name[ev->name_len] = '\0';
	memcpy(s->meta, ev->meta, ev->meta_len);
	s->meta[ev->meta_len] = '\0';
	s->has_prev = ev->prev_meta != NULL;
	if (s->has_prev) {
		CHECK(ev->prev_meta_len < 64);
		memcpy(s->prev, ev->prev_meta, ev->prev_meta_len);
		s->prev[ev->prev_meta_len] = '\0';
	}
	s->pid = ev->pid;
	s->reason = ev->reason;
}

static struct ev_seen
next_ev(struct synode_client *w)
{
	struct ev_seen s;

	memset(&s, 0, sizeof(s));
	CHECK_EQ(synode_client_next_event(w, copy_ev, &s, TIMEOUT_MS), 1);
	return s;
}

static void
test_watch(struct synode_client *c)
{
	struct synode_client *wn = connect_ok(), *wg = connect_ok(), *ws = connect_ok();
	struct synode_pid h;
	struct ev_seen e;

	CHECK_EQ(synode_client_watch(wn, "users", "w1", 2, "g", 1), -EINVAL);
	CHECK_EQ(synode_client_watch(wn, "users", "w1", 2, NULL, 0), 0);
	CHECK_EQ(synode_client_watch(wg, "groups", NULL, 0, "g1", 2), 0);
	CHECK_EQ(synode_client_watch(ws, "users", NULL, 0, NULL, 0), 0);
	CHECK_EQ(synode_client_watch(ws, "users", NULL, 0, NULL, 0), -EBUSY);
	CHECK_EQ(synode_client_lookup(wn, "users", "w1", 2, NULL, NULL, NULL), -EBUSY);
	CHECK_EQ(synode_client_next_event(c, NULL, NULL, 0), -EINVAL);
	CHECK_EQ(synode_client_next_event(wn, copy_ev, &e, 0), 0);

	CHECK_EQ(synode_client_handle_new(c, &h), 0);
	CHECK_EQ(synode_client_register(c, "users", "other", 5, &h, "o", 1), 0);
	CHECK_EQ(synode_client_register(c, "users", "w1", 2, &h, "v1", 2), 0);
	CHECK_EQ(synode_client_update(c, "users", "w1", 2, "v2", 2), 0);
	CHECK_EQ(synode_client_unregister(c, "users", "w1", 2), 0);
	CHECK_EQ(synode_client_join(c, "groups", "g0", 2, &h, NULL, 0), 0);
	CHECK_EQ(synode_client_join(c, "groups", "g1", 2, &h, "j", 1), 0);
	CHECK_EQ(synode_client_leave(c, "groups", "g1", 2, &h), 0);

	/* By name: w1's three events, not "other"'s. */
	e = next_ev(wn);
	CHECK_EQ(e.kind, SYNODE_EV_REGISTERED);
	CHECK(strcmp(e.scope, "users") == 0 && strcmp(e.name, "w1") == 0);
	CHECK(strcmp(e.meta, "v1") == 0 && !e.has_prev);
	CHECK(e.pid.id == h.id && strcmp(e.pid.node, NODE) == 0);
	CHECK_EQ(e.reason.kind, SYNODE_REASON_NORMAL);
	e = next_ev(wn);
	CHECK_EQ(e.kind, SYNODE_EV_REGISTRY_UPDATED);
	CHECK(strcmp(e.meta, "v2") == 0 && e.has_prev && strcmp(e.prev, "v1") == 0);
	e = next_ev(wn);
	CHECK_EQ(e.kind, SYNODE_EV_UNREGISTERED);
	CHECK(strcmp(e.name, "w1") == 0);
	CHECK_EQ(synode_client_next_event(wn, copy_ev, &e, 200), 0);

	/* By group: g1's join and leave. */
	e = next_ev(wg);
	CHECK_EQ(e.kind, SYNODE_EV_JOINED);
	CHECK(strcmp(e.name, "g1") == 0 && strcmp(e.meta, "j") == 0);
	e = next_ev(wg);
	CHECK_EQ(e.kind, SYNODE_EV_LEFT);
	CHECK_EQ(synode_client_next_event(wg, copy_ev, &e, 200), 0);

	/* The whole scope: "other" and w1's, none of the groups scope. */
	const char *want[] = {"other", "w1", "w1", "w1"};
	for (unsigned i = 0; i < 4; i++) {
		e = next_ev(ws);
		CHECK(strcmp(e.name, want[i]) == 0);
	}

	/* The handle closes: "other" goes, with reason normal. */
	CHECK_EQ(synode_client_handle_close(c, &h), 0);
	e = next_ev(ws);
	CHECK_EQ(e.kind, SYNODE_EV_UNREGISTERED);
	CHECK(strcmp(e.name, "other") == 0);
	CHECK_EQ(synode_client_next_event(ws, copy_ev, &e, 200), 0);
	CHECK_EQ(synode_client_next_event(wg, copy_ev, &e, 0), 0);

	synode_client_close(wn);
	synode_client_close(wg);
	synode_client_close(ws);
	printf("watch: ok\n");
}

/* ------------------------------------------------------ handles, clients */

static void
test_handle_dies_with_connection(void)
{
	struct synode_client *c = connect_ok();
	uint64_t clients = stats().clients;
	struct synode_pid h;

	CHECK_EQ(synode_client_handle_new(c, &h), 0);
	CHECK_EQ(synode_client_register(c, "users", "ephemeral", 9, &h, NULL, 0), 0);
	CHECK_EQ(synode_client_join(c, "groups", "eph", 3, &h, NULL, 0), 0);
	CHECK_EQ(synode_lookup(node, "users", "ephemeral", 9, NULL, NULL, NULL), 0);
	synode_client_close(c);
	WAIT_FOR(synode_lookup(node, "users", "ephemeral", 9, NULL, NULL, NULL) ==
		 -SYNODE_EUNDEFINED);
	WAIT_FOR(synode_member_count(node, "groups", "eph", 3, NULL) == 0);
	WAIT_FOR(stats().clients == clients - 1);
	/* Another connection cannot close someone else's handle. */
	struct synode_client *c1 = connect_ok(), *c2 = connect_ok();
	CHECK_EQ(synode_client_handle_new(c1, &h), 0);
	CHECK_EQ(synode_client_handle_close(c2, &h), -SYNODE_ENOT_SELF);
	CHECK_EQ(synode_client_handle_close(c1, &h), 0);
	synode_client_close(c1);
	synode_client_close(c2);
	printf("handle dies with its connection: ok\n");
}

/* ------------------------------------------------------------ bad clients */

static void
test_bad_clients(void)
{
	struct ctl_msg m;
	uint64_t errors = stats().client_errors;
	uint8_t buf[64];
	int fd;

	/* Garbage: a header claiming 16 bytes of an unknown type. */
	fd = raw_connect();
	raw_hello(fd);
	CHECK_EQ(raw_read(fd, &m), 1);
	CHECK_EQ(m.type, CTL_MSG_HELLO_OK);
	CHECK(strcmp(m.node, NODE) == 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)ct_rand();
	buf[0] = 16, buf[1] = buf[2] = buf[3] = 0; /* length 16 */
	buf[4] = 1, buf[5] = 0;                    /* version 1 */
	buf[6] = 0x7f, buf[7] = 0;                 /* no such type */
	raw_send(fd, buf, 16);
	raw_expect_error_close(fd, -EBADMSG);
	close(fd);
	WAIT_FOR(stats().client_errors == errors + 1);
	check_still_serving();

	/* Random bytes at once, no HELLO: bad length, version or type. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)ct_rand();
	fd = raw_connect();
	raw_send(fd, buf, sizeof(buf));
	CHECK_EQ(raw_read(fd, &m), 1);
	CHECK_EQ(m.type, CTL_MSG_ERROR);
	CHECK(m.code == -EBADMSG || m.code == -EMSGSIZE || m.code == -EPROTONOSUPPORT);
	close(fd);
	WAIT_FOR(stats().client_errors >= errors + 1 + (m.code != -EPROTONOSUPPORT));
	errors = stats().client_errors;

	/* An oversized length: refused from the header alone. */
	fd = raw_connect();
	raw_hello(fd);
	CHECK_EQ(raw_read(fd, &m), 1);
	memset(buf, 0, sizeof(buf));
	buf[0] = 0, buf[1] = 0, buf[2] = 0x10, buf[3] = 0; /* 1 MiB */
	buf[4] = 1;
	buf[6] = CTL_MSG_REGISTER;
	raw_send(fd, buf, CTL_HDR_LEN);
	raw_expect_error_close(fd, -EMSGSIZE);
	close(fd);
	WAIT_FOR(stats().client_errors == errors + 1);
	check_still_serving();

	/* A request before HELLO. */
	fd = raw_connect();
	ctl_msg_init(&m, CTL_MSG_STATUS, 5);
	raw_send_msg(fd, &m);
	raw_expect_error_close(fd, -EBADMSG);
	close(fd);
	WAIT_FOR(stats().client_errors == errors + 2);

	/* An answer's type sent as a request. */
	fd = raw_connect();
	raw_hello(fd);
	CHECK_EQ(raw_read(fd, &m), 1);
	ctl_msg_init(&m, CTL_MSG_RESULT, 6);
	raw_send_msg(fd, &m);
	raw_expect_error_close(fd, -EBADMSG);
	close(fd);
	WAIT_FOR(stats().client_errors == errors + 3);

	/* A truncated frame, then the client goes. */
	fd = raw_connect();
	raw_hello(fd);
	CHECK_EQ(raw_read(fd, &m), 1);
	ctl_msg_init(&m, CTL_MSG_REGISTER, 7);
	strcpy(m.scope, "users");
	m.key = "half";
	m.key_len = 4;
	strcpy(m.pid.node, NODE);
	m.pid.id = 1;
	static uint8_t frame[CTL_FRAME_MAX];
	int len = ctl_encode(&m, frame, sizeof(frame));
	CHECK(len > 10);
	raw_send(fd, frame, (size_t)len / 2);
	sleep_ms(20);
	close(fd);
	WAIT_FOR(stats().client_errors == errors + 4);
	CHECK_EQ(synode_lookup(node, "users", "half", 4, NULL, NULL, NULL), -SYNODE_EUNDEFINED);
	check_still_serving();

	/* Another version: an ERROR naming version 1, not counted. */
	fd = raw_connect();
	raw_hello(fd);
	CHECK_EQ(raw_read(fd, &m), 1);
	ctl_msg_init(&m, CTL_MSG_STATUS, 8);
	len = ctl_encode(&m, frame, sizeof(frame));
	frame[4] = 2;
	raw_send(fd, frame, (size_t)len);
	CHECK_EQ(raw_read(fd, &m), 1);
	CHECK_EQ(m.type, CTL_MSG_ERROR);
	CHECK_EQ(m.code, -EPROTONOSUPPORT);
	CHECK_EQ(m.n_versions, 1);
	CHECK_EQ(m.versions[0], CTL_PROTO_VERSION);
	CHECK_EQ(raw_read(fd, &m), 0);
	close(fd);
	/* A HELLO offering only other versions: the same. */
	fd = raw_connect();
	ctl_msg_init(&m, CTL_MSG_HELLO, 9);
	m.n_versions = 2;
	m.versions[0] = 2;
	m.versions[1] = 3;
	raw_send_msg(fd, &m);
	raw_expect_error_close(fd, -EPROTONOSUPPORT);
	close(fd);
	check_still_serving();
	CHECK_EQ(stats().client_errors, errors + 4);
	printf("bad clients: ok\n");
}

/* Listings nobody reads (more than the node runs at once: some wait for a
 * worker), and one abandoned midway. */
static void
test_unread_listing(void)
{
	enum { N_IDLE = 20 };
	struct synode_pid h;
	struct ctl_msg m;
	int idle[N_IDLE], gone;

	synode_pid_os(node, getpid(), &h);
	for (unsigned i = 0; i < 20000; i++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "big-%u", i);

		CHECK_EQ(synode_register(node, "users", name, (size_t)len, &h, name, (size_t)len), 0);
	}
	gone = raw_connect();
	raw_hello(gone);
	CHECK_EQ(raw_read(gone, &m), 1);
	ctl_msg_init(&m, CTL_MSG_REGISTRY, 10);
	strcpy(m.scope, "users");
	raw_send_msg(gone, &m);
	CHECK_EQ(raw_read(gone, &m), 1);
	CHECK_EQ(m.type, CTL_MSG_REG_ITEM);
	close(gone);
	for (int i = 0; i < N_IDLE; i++) {
		idle[i] = raw_connect();
		raw_hello(idle[i]);
		CHECK_EQ(raw_read(idle[i], &m), 1);
		ctl_msg_init(&m, CTL_MSG_REGISTRY, 10);
		strcpy(m.scope, "users");
		raw_send_msg(idle[i], &m);
	}
	/* Held by workers or waiting for one; everyone else is served. */
	for (int i = 0; i < 5; i++)
		check_still_serving();
	for (int i = 0; i < N_IDLE; i++)
		close(idle[i]);
	/* The waiting ones get their turn, find their client gone, and the
	 * next listing is served in full. */
	struct synode_client *c = connect_ok();
	CHECK_EQ(synode_client_registry_foreach(c, "users", NULL, NULL, NULL), 20000);
	synode_client_close(c);
	for (unsigned i = 0; i < 20000; i++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "big-%u", i);

		CHECK_EQ(synode_unregister(node, "users", name, (size_t)len), 0);
	}
	check_still_serving();
	printf("unread and abandoned listings: ok\n");
}

/* A watcher that never reads is dropped; the node goes on. */
static void
test_slow_watcher(void)
{
	struct synode_client *w = connect_ok(), *c = connect_ok();
	uint64_t dropped = stats().subscribers_dropped;
	static char meta[1000];
	struct synode_pid h;
	unsigned got = 0;
	int r;

	memset(meta, 'm', sizeof(meta));
	CHECK_EQ(synode_client_watch(w, "users", NULL, 0, NULL, 0), 0);
	CHECK_EQ(synode_client_handle_new(c, &h), 0);
	/* 6000 events of ~1 KiB: the socket holds a few hundred, the queue
	 * 4096; the rest overflows it. */
	for (unsigned i = 0; i < 3000 && stats().subscribers_dropped == dropped; i++) {
		CHECK_EQ(synode_register(node, "users", "flood", 5, &h, meta, sizeof(meta)), 0);
		CHECK_EQ(synode_unregister(node, "users", "flood", 5), 0);
	}
	WAIT_FOR(stats().subscribers_dropped == dropped + 1);
	/* Meanwhile and after, others are served. */
	CHECK_EQ(synode_client_registry_count(c, "users", NULL), 0);
	check_still_serving();
	/* The watcher reads what reached its socket, then the end. */
	while ((r = synode_client_next_event(w, NULL, NULL, TIMEOUT_MS)) == 1)
		got++;
	CHECK_EQ(r, -ECONNRESET);
	CHECK(got < 6000);
	CHECK_EQ(synode_client_next_event(w, NULL, NULL, 0), -ECONNRESET);
	synode_client_close(w);
	CHECK_EQ(synode_client_handle_close(c, &h), 0);
	synode_client_close(c);
	printf("slow watcher: dropped after %u events read, ok\n", got);
}

/* As root: a child running as nobody, with the socket opened to all, is
 * refused by its credentials. */
static void
test_refused_peer(const char *self)
{
	uint64_t errors = stats().client_errors;
	pid_t child;
	int status;

	if (geteuid() != 0) {
		printf("refused peer: skipped (not root)\n");
		return;
	}
	CHECK(chmod(tmpdir, 0755) == 0);
	CHECK(chmod(sock_path, 0666) == 0);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		execl(self, self, "--connect-only", sock_path, (char *)NULL);
		_exit(4);
	}
	CHECK(waitpid(child, &status, 0) == child);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	WAIT_FOR(stats().client_errors == errors + 1);
	CHECK(chmod(sock_path, 0660) == 0);
	CHECK(chmod(tmpdir, 0700) == 0);
	printf("refused peer: ok\n");
}

/* The child of test_refused_peer(): 0 if refused with EACCES. */
static int
connect_only(const char *path)
{
	struct synode_client *c = synode_client_connect(path, TIMEOUT_MS);

	if (c != NULL) {
		fprintf(stderr, "child: connected, not refused\n");
		return 1;
	}
	if (errno != EACCES) {
		fprintf(stderr, "child: %s, not EACCES\n", strerror(errno));
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct synode_client *c;
	uint64_t clients0;
	int i;

	if (argc == 3 && strcmp(argv[1], "--connect-only") == 0)
		return connect_only(argv[2]);
	i = ct_parse_seed(argc, argv);
	if (i < argc) {
		fprintf(stderr, "usage: %s [--seed N]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	urcu_memb_register_thread();
	strcpy(tmpdir, "/tmp/ctl-test.XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	/* Parent directories that do not exist yet. */
	snprintf(sock_path, sizeof(sock_path), "%s/run/synode/" NODE ".sock", tmpdir);
	node = start_node(sock_path);
	CHECK_MSG(node != NULL, "synode_start: %s", strerror(errno));
	clients0 = stats().clients;

	test_socket();
	c = connect_ok();
	CHECK_EQ(stats().clients, clients0 + 1);
	test_status_scopes(c);
	test_peers();
	test_registry(c);
	test_groups(c);
	test_invalid_scope(c);
	test_watch(c);
	test_handle_dies_with_connection();
	test_bad_clients();
	test_unread_listing();
	test_slow_watcher();
	test_refused_peer(argv[0]);
	synode_client_close(c);
	WAIT_FOR(stats().clients == clients0);

	/* Stopping with a listing unread and a client connected. */
	{
		struct synode_pid h;
		struct ctl_msg m;
		struct synode_client *idle = connect_ok();
		int fd = raw_connect();

		synode_pid_os(node, getpid(), &h);
		for (unsigned k = 0; k < 20000; k++) {
			char name[32];
			int len = snprintf(name, sizeof(name), "s-%u", k);

			CHECK_EQ(synode_register(node, "users", name, (size_t)len, &h, NULL, 0), 0);
		}
		raw_hello(fd);
		CHECK_EQ(raw_read(fd, &m), 1);
		ctl_msg_init(&m, CTL_MSG_REGISTRY, 11);
		strcpy(m.scope, "users");
		raw_send_msg(fd, &m);
		sleep_ms(50);
		urcu_memb_unregister_thread();
		synode_stop(node);
		CHECK_EQ(synode_client_registry_count(idle, "users", NULL), -ECONNRESET);
		synode_client_close(idle);
		close(fd);
	}
	struct stat st;
	CHECK(stat(sock_path, &st) != 0 && errno == ENOENT);
	snprintf(sock_path, sizeof(sock_path), "%s/run/synode", tmpdir);
	rmdir(sock_path);
	snprintf(sock_path, sizeof(sock_path), "%s/run", tmpdir);
	rmdir(sock_path);
	CHECK(rmdir(tmpdir) == 0);
	printf("ok\n");
	return 0;
}
