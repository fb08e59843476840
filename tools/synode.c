/* SPDX-License-Identifier: MIT */
/*
 * synode: the registry node daemon, a thin main() around synode_start() and
 * synode_stop() (control/synode.h) and, with an EAL section, the DPDK
 * dataplane (dataplane/synode_dp.h). It parses and checks its command line,
 * starts a node that serves its control socket (synodectl talks to it),
 * logs "synode: NAME ready on PATH" at notice level, and stops cleanly on
 * SIGTERM or SIGINT (exit 0, socket removed).
 *
 * Command line, DPDK's convention: `synode [EAL options] -- OPTIONS`.
 * Without an EAL section it runs a single node, and the dataplane options
 * (--ip, --udp-port, --peer, --broadcast, --key-file, --key-file-next,
 * --insecure, --poll, --down-after-ms, --lookup-key) are refused with exit 2, never
 * ignored, so that nobody believes a node is clustered when it is not.
 * With one, it initialises DPDK, starts the dataplane on its ports (--ip
 * and a cluster key, or --insecure, are then required) and runs the
 * dataplane loop on the main lcore; a signal thread reads SIGTERM and
 * SIGINT (stops the loop) and SIGHUP (re-reads the key files).
 *
 * Exit status: 0 after a clean stop, 1 if the node could not start, 2 for
 * a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "synode.h"

#ifdef SYNODE_WITH_DATAPLANE
#include <rte_eal.h>
#include <rte_errno.h>

#include "synode_dp.h"
#endif

#ifndef SYNODE_VERSION
#define SYNODE_VERSION "unknown"
#endif

#define SD_RUN_DIR "/run/synode"
#define SD_MAX_SCOPES 256
#define SD_MAX_PEERS 64
#define SD_KEY_MIN_BYTES 32
#define SD_KEY_MAX_BYTES 4096       /* bytes of a key file read (hashed) */
#define SD_MAX_LOOKUP_KEYS 16       /* SYNODE_DP_LOOKUP_KEYS_MAX */
#define SD_DEFAULT_UDP_PORT 4370
#define SD_DEFAULT_DOWN_AFTER_MS 1000
#define SD_MAX_DOWN_AFTER_MS 3600000UL

/* Exit statuses. */
#define SD_EXIT_OK 0
#define SD_EXIT_FAIL 1
#define SD_EXIT_USAGE 2

struct sd_opts {
	const char *name;
	const char *scopes[SD_MAX_SCOPES];
	unsigned n_scopes;
	const char *control;         /* NULL: SD_RUN_DIR/NAME.sock */
	bool strict;
	enum synode_log_level log_level;
	size_t max_name_len;         /* 0: the node's default */
	size_t max_meta_len;         /* 0: the node's default */
	int conflict_signal;         /* 0: none */
	/* The dataplane: needs an EAL section (and a build with DPDK). */
	const char *dataplane_opt;   /* the first one given, for the message */
	const char *eal_first;       /* first word of the EAL section, if any */
	unsigned n_eal;
	bool have_ip;
	uint32_t ip;                 /* host byte order */
	uint8_t prefix_len;
	uint16_t udp_port;           /* 0: the default */
	uint32_t peers[SD_MAX_PEERS];
	unsigned n_peers;
	bool broadcast;
	const char *key_file;
	const char *key_file_next;   /* a second key, accepted too (rollover) */
	bool insecure;               /* no key: frames without a MAC */
	bool poll_busy;
	unsigned down_after_ms;      /* 0: the default */
	const char *netns;           /* ports in this network namespace */
	/* --lookup-key SCOPE=PATH (issue 6): scopes whose lookups want a key */
	char lookup_scope[SD_MAX_LOOKUP_KEYS][SYNODE_SCOPE_NAME_MAX + 1];
	const char *lookup_key_file[SD_MAX_LOOKUP_KEYS];
	unsigned n_lookup_keys;
};

/* -------------------------------------------------------------- logging */

static const char *const sd_level_names[] = {
	[SYNODE_LOG_ERROR] = "error",
	[SYNODE_LOG_WARNING] = "warning",
	[SYNODE_LOG_NOTICE] = "notice",
	[SYNODE_LOG_INFO] = "info",
	[SYNODE_LOG_DEBUG] = "debug",
};

static enum synode_log_level sd_log_level = SYNODE_LOG_NOTICE;

/*
 * The log sink of the node and of main(): one line on stderr, "TIMESTAMP
 * LEVEL: MESSAGE", UTC to the millisecond. The control thread and main()
 * both log, so each line goes out in a single write(): lines never mix.
 */
static void
sd_log_sink(enum synode_log_level level, const char *msg, void *arg)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t len;
	int n;

	(void)arg;
	if (level > sd_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + len, sizeof(line) - len, ".%03ldZ %s: %s",
		     ts.tv_nsec / 1000000L,
		     (unsigned)level < sizeof(sd_level_names) / sizeof(sd_level_names[0])
			     ? sd_level_names[level] : "log",
		     msg);
	if (n < 0)
		return;
	len += (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2; /* truncated: still one line */
	/* Strip the message's own newline, if any, then end the line. */
	while (len > 0 && line[len - 1] == '\n')
		len--;
	line[len++] = '\n';
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static void sd_log(enum synode_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sd_log(enum synode_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_log_sink(level, msg, NULL);
}

/* ------------------------------------------------------------ the usage */

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: synode [EAL options --] --name NAME --scope SCOPE [--scope SCOPE ...]\n"
"              [--control PATH] [--strict] [--log-level LEVEL]\n"
"              [--max-name-len N] [--max-meta-len N] [--conflict-signal SIG]\n"
"              [--ip A.B.C.D/LEN [--udp-port P] [--peer A.B.C.D ...]\n"
"               [--broadcast] (--key-file PATH [--key-file-next PATH] | --insecure)\n"
"               [--poll adaptive|busy]\n"
"               [--down-after-ms MS] [--netns NAME]]\n"
"       synode --help | --version\n"
"\n"
"A synode registry node: a process registry and process groups with the\n"
"semantics of Erlang's Syn 3.4, served to synodectl (and to programs using\n"
"the client library) over a Unix control socket. It logs one line\n"
"\"synode: NAME ready on PATH\" (notice level) once it serves, and stops\n"
"cleanly on SIGTERM or SIGINT: exit 0, socket removed. Without an EAL\n"
"section it runs a single node; with one, a node of a cluster, over DPDK.\n"
"\n"
"Node options:\n"
"  --name NAME          node name, unique in the cluster (required): 1 to %d\n"
"                       printable ASCII bytes, no '/' and no space\n"
"  --scope SCOPE        a scope served from the start (required, repeatable,\n"
"                       at most %d): 1 to %d printable ASCII bytes, no '/'\n"
"                       and no space; more at run time with\n"
"                       `synodectl add-scope`\n"
"  --control PATH       control socket (default: %s/NAME.sock; the\n"
"                       directory %s is created if missing)\n"
"  --strict             strict mode: register, update, join and\n"
"                       update-member only for the caller's own process\n"
"  --log-level LEVEL    error, warning, notice, info or debug (default:\n"
"                       notice); logs go to stderr, one line each, UTC time\n"
"  --max-name-len N     longest registry or group name, bytes (default %d,\n"
"                       at most %d)\n"
"  --max-meta-len N     longest meta, bytes (default %d, at most %d)\n"
"  --conflict-signal SIG  signal sent to a local OS process that loses a\n"
"                       registry conflict: a name (TERM, SIGKILL, ...), a\n"
"                       number, or none (default: none)\n"
"  -h, --help           this text\n"
"  -V, --version        the version\n"
"\n",
		SYNODE_NODE_NAME_MAX, SD_MAX_SCOPES, SYNODE_SCOPE_NAME_MAX,
		SD_RUN_DIR, SD_RUN_DIR,
		SYNODE_NAME_MAX_DEFAULT, SYNODE_NAME_MAX_LIMIT,
		SYNODE_META_MAX_DEFAULT, SYNODE_META_MAX_LIMIT);
	/* Two strings: ISO C promises 4095 bytes in one. */
	fprintf(f,
"Dataplane (each of these needs an EAL section before `--`):\n"
"  EAL options          DPDK's: the ports are its ethdevs, e.g.\n"
"                       --no-huge --no-pci --no-shconf -m 64\n"
"                       --vdev net_memif0,role=server,socket=/tmp/m.sock or\n"
"                       --vdev net_af_packet0,iface=veth0,framecnt=8192,qdisc_bypass=1\n"
"  --ip A.B.C.D/LEN     address of the dataplane ports (required with EAL\n"
"                       options; the same on every port)\n"
"  --udp-port P         UDP port (default %d)\n"
"  --peer A.B.C.D       a peer node (repeatable, at most %d)\n"
"  --broadcast          also find peers by broadcast on the segment\n"
"  --key-file PATH      cluster key: a file of at least %d random bytes,\n"
"                       mode 0600, the same on every node; every frame\n"
"                       carries a MAC with it (required, or --insecure)\n"
"  --key-file-next PATH a second key, accepted as well (a rollover); it may\n"
"                       be missing or empty. SIGHUP re-reads both files:\n"
"                       see dataplane/README.md for a rotation\n"
"  --insecure           no cluster key: frames carry no MAC (and a node with\n"
"                       a key drops them): for a trusted segment only\n"
"  --poll adaptive|busy polling of the dataplane: adaptive sleeps when idle,\n"
"                       busy takes a whole core for the lowest latency\n"
"                       (default adaptive)\n"
"  --down-after-ms MS   a silent peer is down after MS ms (default %d)\n"
"  --lookup-key SCOPE=PATH  the lookup service (UDP, control/sn_lookup.h)\n"
"                       answers SCOPE only to requests authenticated with\n"
"                       this key file (rules of --key-file); other scopes\n"
"                       answer anyone. Repeatable, at most 16\n"
"  --netns NAME         open the ports inside network namespace NAME (a\n"
"                       name of `ip netns`, or a path): only the DPDK ports\n"
"                       live there; the node itself stays in the namespace\n"
"                       it was started in, where the kernel's process-events\n"
"                       connector gives it the exit reasons of processes\n"
"                       (under `ip netns exec` it has none: \"undefined\")\n"
"\n"
"Exit status: 0 after a clean stop, 1 if the node could not start, 2 for a\n"
"bad command line.\n",
		SD_DEFAULT_UDP_PORT, SD_MAX_PEERS, SD_KEY_MIN_BYTES, SD_DEFAULT_DOWN_AFTER_MS);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("synode: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'synode --help'.\n", stderr);
	exit(SD_EXIT_USAGE);
}

/* ------------------------------------------------------ checking values */

/* A decimal number in [min, max], the whole of @p s. */
static bool
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false; /* strtoul would accept " 1", "+1" and "-1" */
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void
check_node_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SYNODE_NODE_NAME_MAX)
		usage_error("--name: a node name has 1 to %d bytes, not %zu",
			    SYNODE_NODE_NAME_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* It names the socket file and forms "NODE/ID". */
		if (c <= ' ' || c >= 0x7f || c == '/')
			usage_error("--name '%s': only printable ASCII, no '/' and no space",
				    name);
	}
}

static void
check_scope(const struct sd_opts *o, const char *scope)
{
	size_t len = strlen(scope);

	if (len == 0 || len > SYNODE_SCOPE_NAME_MAX)
		usage_error("--scope: a scope name has 1 to %d bytes, not %zu",
			    SYNODE_SCOPE_NAME_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)scope[i];

		/* As the node wants them (and add-scope). */
		if (c <= ' ' || c >= 0x7f || c == '/')
			usage_error("--scope '%s': only printable ASCII, no '/' and no space",
				    scope);
	}
	for (unsigned i = 0; i < o->n_scopes; i++)
		if (strcmp(o->scopes[i], scope) == 0)
			usage_error("--scope '%s' given twice", scope);
	if (o->n_scopes == SD_MAX_SCOPES)
		usage_error("--scope: at most %d scopes at start (add more with "
			    "`synodectl add-scope`)", SD_MAX_SCOPES);
}

static enum synode_log_level
parse_log_level(const char *s)
{
	for (unsigned i = 0; i < sizeof(sd_level_names) / sizeof(sd_level_names[0]); i++)
		if (strcmp(s, sd_level_names[i]) == 0)
			return (enum synode_log_level)i;
	usage_error("--log-level '%s': one of error, warning, notice, info, debug", s);
}

/* A signal: "none", a number, or a name with or without "SIG". */
static int
parse_signal(const char *s)
{
	unsigned long v;
	const char *name = s;

	if (strcasecmp(s, "none") == 0)
		return 0;
	if (parse_ulong(s, 0, (unsigned long)SIGRTMAX, &v))
		return (int)v;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);

		if (abbrev != NULL && strcasecmp(abbrev, name) == 0)
			return sig;
	}
	usage_error("--conflict-signal '%s': not a signal (a name such as TERM or "
		    "KILL, a number from 1 to %d, or none)", s, SIGRTMAX);
}

/* An IPv4 address (with its prefix length if @p with_len); returns it in
 * host byte order, the length in *len_out. */
static uint32_t
check_ipv4(const char *opt, const char *s, bool with_len, uint8_t *len_out)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr in;
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long len = 32;

	if (with_len && slash == NULL)
		usage_error("%s '%s': wants A.B.C.D/LEN (an address and its prefix length)",
			    opt, s);
	if (!with_len && slash != NULL)
		usage_error("%s '%s': wants an address A.B.C.D, without /LEN", opt, s);
	if (alen >= sizeof(addr))
		usage_error("%s '%s': not an IPv4 address", opt, s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		usage_error("%s '%s': not an IPv4 address", opt, s);
	if (with_len && !parse_ulong(slash + 1, 1, 32, &len))
		usage_error("%s '%s': the prefix length is a number from 1 to 32", opt, s);
	if (in.s_addr == INADDR_ANY || in.s_addr == INADDR_BROADCAST)
		usage_error("%s '%s': not the address of a node", opt, s);
	if (len_out != NULL)
		*len_out = (uint8_t)len;
	return ntohl(in.s_addr);
}

static void
check_key_file(const char *opt, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		usage_error("%s '%s': %s", opt, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		usage_error("%s '%s': not a regular file", opt, path);
	if (st.st_size < SD_KEY_MIN_BYTES)
		usage_error("%s '%s': %lld bytes, at least %d wanted "
			    "(head -c 32 /dev/urandom >FILE)",
			    opt, path, (long long)st.st_size, SD_KEY_MIN_BYTES);
	if ((st.st_mode & 077) != 0)
		usage_error("%s '%s': mode %03o, readable by others; chmod 600 it",
			    opt, path, (unsigned)(st.st_mode & 0777));
}

static bool
key_file_empty(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

/*
 * Reads a key file into @p buf (SD_KEY_MAX_BYTES): the checks of
 * check_key_file() again, on the open file (it may have changed since).
 * Returns its length; 0 if @p optional and it is missing or empty; -1
 * (logged) if it is not a key file.
 */
static ssize_t
read_key_file(const char *path, uint8_t *buf, bool optional)
{
	struct stat st;
	ssize_t n, len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (optional && errno == ENOENT)
			return 0;
		sd_log(SYNODE_LOG_ERROR, "synode: key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		sd_log(SYNODE_LOG_ERROR, "synode: key file %s: not a regular file of mode "
		       "0600", path);
		close(fd);
		return -1;
	}
	while (len < SD_KEY_MAX_BYTES &&
	       (n = read(fd, buf + len, (size_t)(SD_KEY_MAX_BYTES - len))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sd_log(SYNODE_LOG_ERROR, "synode: key file %s: %s", path,
			       strerror(errno));
			close(fd);
			return -1;
		}
		len += n;
	}
	close(fd);
	if (len == 0 && optional)
		return 0;
	if (len < SD_KEY_MIN_BYTES) {
		sd_log(SYNODE_LOG_ERROR, "synode: key file %s: %zd bytes, at least %d wanted",
		       path, len, SD_KEY_MIN_BYTES);
		return -1;
	}
	return len;
}

static void
check_control_path(const char *path)
{
	struct sockaddr_un sun;

	if (path[0] == '\0')
		usage_error("--control: empty path");
	if (strlen(path) >= sizeof(sun.sun_path))
		usage_error("--control '%s': a socket path has at most %zu bytes",
			    path, sizeof(sun.sun_path) - 1);
}

/* ------------------------------------------------------ the command line */

enum {
	OPT_NAME = 256,
	OPT_SCOPE,
	OPT_CONTROL,
	OPT_STRICT,
	OPT_LOG_LEVEL,
	OPT_MAX_NAME_LEN,
	OPT_MAX_META_LEN,
	OPT_CONFLICT_SIGNAL,
	OPT_IP,
	OPT_UDP_PORT,
	OPT_PEER,
	OPT_BROADCAST,
	OPT_KEY_FILE,
	OPT_KEY_FILE_NEXT,
	OPT_INSECURE,
	OPT_POLL,
	OPT_DOWN_AFTER_MS,
	OPT_NETNS,
	OPT_LOOKUP_KEY,
	OPT_END_
};

static const struct option sd_long_opts[] = {
	{"name", required_argument, NULL, OPT_NAME},
	{"scope", required_argument, NULL, OPT_SCOPE},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"max-name-len", required_argument, NULL, OPT_MAX_NAME_LEN},
	{"max-meta-len", required_argument, NULL, OPT_MAX_META_LEN},
	{"conflict-signal", required_argument, NULL, OPT_CONFLICT_SIGNAL},
	{"ip", required_argument, NULL, OPT_IP},
	{"udp-port", required_argument, NULL, OPT_UDP_PORT},
	{"peer", required_argument, NULL, OPT_PEER},
	{"broadcast", no_argument, NULL, OPT_BROADCAST},
	{"key-file", required_argument, NULL, OPT_KEY_FILE},
	{"key-file-next", required_argument, NULL, OPT_KEY_FILE_NEXT},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	{"poll", required_argument, NULL, OPT_POLL},
	{"down-after-ms", required_argument, NULL, OPT_DOWN_AFTER_MS},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"lookup-key", required_argument, NULL, OPT_LOOKUP_KEY},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* Options given twice are refused, except the repeatable ones. */
static void
check_once(unsigned *seen, int opt, const char *optname)
{
	if (opt == OPT_SCOPE || opt == OPT_PEER || opt == OPT_LOOKUP_KEY)
		return;
	if (seen[opt - OPT_NAME]++ != 0)
		usage_error("--%s given twice", optname);
}

static void
parse_own_options(int argc, char **argv, struct sd_opts *o)
{
	unsigned seen[OPT_END_ - OPT_NAME] = {0};
	unsigned long v;
	int opt, idx = 0;

	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option; ':': report a missing value. */
	while ((opt = getopt_long(argc, argv, "+:hV", sd_long_opts, &idx)) != -1) {
		const char *optname = opt >= OPT_NAME ? sd_long_opts[idx].name : NULL;

		if (optname != NULL)
			check_once(seen, opt, optname);
		switch (opt) {
		case 'h':
			usage(stdout);
			exit(SD_EXIT_OK);
		case 'V':
			printf("synode %s\n", SYNODE_VERSION);
			exit(SD_EXIT_OK);
		case OPT_NAME:
			check_node_name(optarg);
			o->name = optarg;
			break;
		case OPT_SCOPE:
			check_scope(o, optarg);
			o->scopes[o->n_scopes++] = optarg;
			break;
		case OPT_CONTROL:
			check_control_path(optarg);
			o->control = optarg;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_LOG_LEVEL:
			o->log_level = parse_log_level(optarg);
			break;
		case OPT_MAX_NAME_LEN:
			if (!parse_ulong(optarg, 1, SYNODE_NAME_MAX_LIMIT, &v))
				usage_error("--max-name-len '%s': a number from 1 to %d",
					    optarg, SYNODE_NAME_MAX_LIMIT);
			o->max_name_len = v;
			break;
		case OPT_MAX_META_LEN:
			if (!parse_ulong(optarg, 1, SYNODE_META_MAX_LIMIT, &v))
				usage_error("--max-meta-len '%s': a number from 1 to %d",
					    optarg, SYNODE_META_MAX_LIMIT);
			o->max_meta_len = v;
			break;
		case OPT_CONFLICT_SIGNAL:
			o->conflict_signal = parse_signal(optarg);
			break;
		case OPT_IP:
			o->ip = check_ipv4("--ip", optarg, true, &o->prefix_len);
			o->have_ip = true;
			break;
		case OPT_UDP_PORT:
			if (!parse_ulong(optarg, 1, 65535, &v))
				usage_error("--udp-port '%s': a number from 1 to 65535", optarg);
			o->udp_port = (uint16_t)v;
			break;
		case OPT_PEER: {
			uint32_t peer = check_ipv4("--peer", optarg, false, NULL);

			for (unsigned i = 0; i < o->n_peers; i++)
				if (o->peers[i] == peer)
					usage_error("--peer '%s' given twice", optarg);
			if (o->n_peers == SD_MAX_PEERS)
				usage_error("--peer: at most %d peers", SD_MAX_PEERS);
			o->peers[o->n_peers++] = peer;
			break;
		}
		case OPT_BROADCAST:
			o->broadcast = true;
			break;
		case OPT_KEY_FILE:
			check_key_file("--key-file", optarg);
			o->key_file = optarg;
			break;
		case OPT_KEY_FILE_NEXT:
			/* May be missing or empty now: a rotation fills it later. */
			if (access(optarg, F_OK) == 0 && !key_file_empty(optarg))
				check_key_file("--key-file-next", optarg);
			o->key_file_next = optarg;
			break;
		case OPT_INSECURE:
			o->insecure = true;
			break;
		case OPT_POLL:
			if (strcmp(optarg, "adaptive") != 0 && strcmp(optarg, "busy") != 0)
				usage_error("--poll '%s': adaptive or busy", optarg);
			o->poll_busy = strcmp(optarg, "busy") == 0;
			break;
		case OPT_DOWN_AFTER_MS:
			if (!parse_ulong(optarg, 1, SD_MAX_DOWN_AFTER_MS, &v))
				usage_error("--down-after-ms '%s': a number from 1 to %lu",
					    optarg, SD_MAX_DOWN_AFTER_MS);
			o->down_after_ms = (unsigned)v;
			break;
		case OPT_NETNS:
			if (optarg[0] == 0)
				usage_error("--netns needs a namespace name or path");
			o->netns = optarg;
			break;
		case OPT_LOOKUP_KEY: {
			const char *eq = strchr(optarg, '=');
			size_t n = eq != NULL ? (size_t)(eq - optarg) : 0;

			if (eq == NULL || n == 0 || n > SYNODE_SCOPE_NAME_MAX || eq[1] == '\0')
				usage_error("--lookup-key '%s': wants SCOPE=PATH (a scope of 1 "
					    "to %d bytes)", optarg, SYNODE_SCOPE_NAME_MAX);
			if (o->n_lookup_keys >= SD_MAX_LOOKUP_KEYS)
				usage_error("--lookup-key: at most %d", SD_MAX_LOOKUP_KEYS);
			for (unsigned i = 0; i < o->n_lookup_keys; i++)
				if (strlen(o->lookup_scope[i]) == n &&
				    memcmp(o->lookup_scope[i], optarg, n) == 0)
					usage_error("--lookup-key: scope '%.*s' given twice",
						    (int)n, optarg);
			check_key_file("--lookup-key", eq + 1);
			memcpy(o->lookup_scope[o->n_lookup_keys], optarg, n);
			o->lookup_scope[o->n_lookup_keys][n] = '\0';
			o->lookup_key_file[o->n_lookup_keys++] = eq + 1;
			break;
		}
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (opt >= OPT_IP && o->dataplane_opt == NULL)
			o->dataplane_opt = optname;
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static void
parse_command_line(int argc, char **argv, struct sd_opts *o)
{
	int dashdash = -1;

	o->log_level = SYNODE_LOG_NOTICE;
	/* DPDK's convention: EAL options, "--", the program's own options. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	}
	if (dashdash < 0) {
		parse_own_options(argc, argv, o);
	} else {
		o->n_eal = (unsigned)(dashdash - 1);
		o->eal_first = o->n_eal > 0 ? argv[1] : NULL;
		/* getopt wants argv[0] first: reuse the "--" slot for it. */
		argv[dashdash] = argv[0];
		parse_own_options(argc - dashdash, argv + dashdash, o);
	}

	if (o->name == NULL)
		usage_error("--name NAME is required");
	if (o->n_scopes == 0)
		usage_error("at least one --scope SCOPE is required");
#ifdef SYNODE_WITH_DATAPLANE
	if (o->n_eal > 0) {
		if (!o->have_ip)
			usage_error("EAL options given ('%s'%s before '--') but no --ip "
				    "A.B.C.D/LEN: the dataplane is not built without the "
				    "address of its ports", o->eal_first,
				    o->n_eal > 1 ? " ..." : "");
		for (unsigned i = 0; i < o->n_peers; i++)
			if (o->peers[i] == o->ip)
				usage_error("--peer: %s is this node's own --ip",
					    inet_ntoa((struct in_addr){htonl(o->ip)}));
		if (o->insecure && (o->key_file != NULL || o->key_file_next != NULL))
			usage_error("--insecure and a key file: choose one");
		if (!o->insecure && o->key_file == NULL)
			usage_error("no cluster key: give --key-file PATH (a file of at least "
				    "%d random bytes, mode 0600: head -c 32 /dev/urandom >FILE), "
				    "or --insecure for a trusted segment", SD_KEY_MIN_BYTES);
	} else if (o->dataplane_opt != NULL) {
		usage_error("--%s: a dataplane option, but the dataplane is not built "
			    "without an EAL section: give DPDK's options before '--' "
			    "(synode --no-huge ... --vdev ... -- --name ...), or leave the "
			    "dataplane options out to run a single node", o->dataplane_opt);
	}
#else
	if (o->n_eal > 0)
		usage_error("EAL options given ('%s'%s before '--'), but the dataplane "
			    "is not built in (DPDK was not found at build time): this "
			    "synode runs a single node only; remove the EAL section",
			    o->eal_first, o->n_eal > 1 ? " ..." : "");
	if (o->dataplane_opt != NULL)
		usage_error("--%s: the dataplane is not built in (DPDK was not found at "
			    "build time); this synode runs a single node only, without "
			    "dataplane options", o->dataplane_opt);
#endif
}

/* ----------------------------------------------------------------- main */

/* Removes the control socket at @p path if it is still the one @p st says. */
static void
remove_socket(const char *path, bool have_st, const struct stat *sock_st)
{
	struct stat st;

	if (have_st && stat(path, &st) == 0 && st.st_dev == sock_st->st_dev &&
	    st.st_ino == sock_st->st_ino && unlink(path) != 0)
		sd_log(SYNODE_LOG_WARNING, "synode: cannot remove %s: %s", path,
		       strerror(errno));
}

/* Waits for SIGTERM or SIGINT on @p sfd; false if reading failed. SIGHUP
 * calls @p on_hup (NULL: it is ignored) and waits on. */
static bool
wait_stop_signal(const char *name, int sfd, void (*on_hup)(void *), void *arg)
{
	struct signalfd_siginfo si;
	ssize_t r;

	for (;;) {
		r = read(sfd, &si, sizeof(si));
		if (r == (ssize_t)sizeof(si) && si.ssi_signo == SIGHUP) {
			if (on_hup != NULL)
				on_hup(arg);
			else
				sd_log(SYNODE_LOG_NOTICE, "synode: SIGHUP: nothing to reload");
			continue;
		}
		if (r == (ssize_t)sizeof(si))
			break;
		if (r < 0 && errno == EINTR)
			continue;
		sd_log(SYNODE_LOG_ERROR, "synode: reading signals: %s; stopping",
		       r < 0 ? strerror(errno) : "short read");
		return false;
	}
	sd_log(SYNODE_LOG_NOTICE, "synode: %s stopping (SIG%s)", name,
	       sigabbrev_np((int)si.ssi_signo) != NULL ? sigabbrev_np((int)si.ssi_signo) : "?");
	return true;
}

static void
log_start_failure(const char *name, const char *path, int err)
{
	if (err == EADDRINUSE)
		sd_log(SYNODE_LOG_ERROR, "synode: %s is served by another live "
		       "node; stop it or choose --control PATH", path);
	else
		sd_log(SYNODE_LOG_ERROR, "synode: cannot start node %s on %s: %s",
		       name, path, strerror(err));
}

#ifdef SYNODE_WITH_DATAPLANE

/* The signal thread: the main thread runs the dataplane loop. */
struct sd_stopper {
	const char *name;
	int sfd;
	struct synode_dp *dp;
	const struct sd_opts *o;
};

/* The key files, read into @p key and @p next (SD_KEY_MAX_BYTES each);
 * *next_len 0: no second key. 0, or -1 (logged). */
static int
read_keys(const struct sd_opts *o, uint8_t *key, size_t *key_len, uint8_t *next,
	  size_t *next_len)
{
	ssize_t n = read_key_file(o->key_file, key, false);

	if (n < 0)
		return -1;
	*key_len = (size_t)n;
	*next_len = 0;
	if (o->key_file_next != NULL) {
		n = read_key_file(o->key_file_next, next, true);
		if (n < 0)
			return -1;
		*next_len = (size_t)n;
	}
	return 0;
}

/*
 * SIGHUP: the key files again. The key of --key-file signs from now on,
 * that of --key-file-next (if it has one) is accepted too. A file that
 * is no longer a key file changes nothing.
 */
static void
reload_keys(void *arg)
{
	struct sd_stopper *s = arg;
	uint8_t key[SD_KEY_MAX_BYTES], next[SD_KEY_MAX_BYTES];
	size_t key_len, next_len;
	int rc;

	if (s->o->insecure) {
		sd_log(SYNODE_LOG_NOTICE, "synode: SIGHUP: insecure, no key to reload");
		return;
	}
	if (read_keys(s->o, key, &key_len, next, &next_len) < 0) {
		sd_log(SYNODE_LOG_ERROR, "synode: SIGHUP: keys not reloaded; the "
		       "current ones stay");
		return;
	}
	rc = synode_dp_set_keys(s->dp, key, key_len, next_len > 0 ? next : NULL, next_len);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(next, sizeof(next));
	if (rc < 0)
		sd_log(SYNODE_LOG_ERROR, "synode: SIGHUP: keys not reloaded: %s",
		       strerror(-rc));
	else
		sd_log(SYNODE_LOG_NOTICE, "synode: SIGHUP: keys reloaded from %s%s%s",
		       s->o->key_file, next_len > 0 ? " and " : "",
		       next_len > 0 ? s->o->key_file_next : "");
}

static void *
stopper_main(void *arg)
{
	struct sd_stopper *s = arg;

	(void)wait_stop_signal(s->name, s->sfd, reload_keys, s);
	synode_dp_stop(s->dp);
	return NULL;
}

static void
log_drop(const char *reason, uint64_t count, void *arg)
{
	(void)arg;
	sd_log(SYNODE_LOG_INFO, "synode: dataplane dropped %llu frame(s): %s",
	       (unsigned long long)count, reason);
}

/*
 * A node with the dataplane: DPDK, its ports, the node on its link, the
 * loop on this (the main) lcore until a signal. Returns the exit status.
 */
/*
 * --netns: this thread enters the namespace for DPDK's initialisation and
 * port setup (af_packet binds its sockets there; EAL's threads, created
 * meanwhile, stay there, which is harmless), then comes back. Returns 0 and
 * the home namespace in *home, or logs and returns -1.
 */
static int
enter_netns(const char *name, int *home)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(name, '/') != NULL)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	*home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*home < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		sd_log(SYNODE_LOG_ERROR, "synode: --netns %s: cannot enter %s: %s", name, path,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		if (*home >= 0)
			close(*home);
		*home = -1;
		return -1;
	}
	close(fd);
	return 0;
}

static int
leave_netns(const char *name, int home)
{
	int rc = setns(home, CLONE_NEWNET);

	if (rc != 0)
		sd_log(SYNODE_LOG_ERROR, "synode: --netns %s: cannot come back: %s", name,
		       strerror(errno));
	close(home);
	return rc;
}

static int
run_clustered(const struct sd_opts *o, struct synode_params *p, char **argv, int sfd)
{
	static uint8_t key[SD_KEY_MAX_BYTES], key_next[SD_KEY_MAX_BYTES];
	static uint8_t lookup_key[SD_MAX_LOOKUP_KEYS][SD_KEY_MAX_BYTES];
	struct synode_dp_lookup_key lookup_keys[SD_MAX_LOOKUP_KEYS];
	size_t key_len = 0, key_next_len = 0;
	struct synode_dp_params dpp = {0};
	struct synode_dp_stats st;
	struct sd_stopper stopper;
	cpu_set_t any_cpu, lcore_cpu;
	char **eal_argv;
	struct stat sock_st;
	bool have_sock_st, have_cpus;
	struct synode_dp *dp;
	struct synode *node;
	pthread_attr_t attr;
	pthread_t tid;
	int rc, home_ns = -1;

	/* The CPUs we may run on, before EAL pins this thread to its lcore. */
	have_cpus = sched_getaffinity(0, sizeof(any_cpu), &any_cpu) == 0;
	/* rte_eal_init() may reorder its arguments: give it a copy. */
	eal_argv = calloc(o->n_eal + 2, sizeof(*eal_argv));
	if (eal_argv == NULL) {
		sd_log(SYNODE_LOG_ERROR, "synode: out of memory");
		return SD_EXIT_FAIL;
	}
	eal_argv[0] = argv[0];
	for (unsigned i = 0; i < o->n_eal; i++)
		eal_argv[1 + i] = argv[1 + i];
	eal_argv[o->n_eal + 1] = NULL;
	if (o->netns != NULL && enter_netns(o->netns, &home_ns) != 0) {
		free(eal_argv);
		return SD_EXIT_FAIL;
	}
	rc = rte_eal_init((int)o->n_eal + 1, eal_argv);
	free(eal_argv);
	if (rc < 0) {
		rc = rte_errno;
		sd_log(SYNODE_LOG_ERROR, "synode: cannot initialise DPDK (EAL options "
		       "before '--'): %s", rte_strerror(rc));
		return rc == EINVAL ? SD_EXIT_USAGE : SD_EXIT_FAIL;
	}
	if (!o->insecure && read_keys(o, key, &key_len, key_next, &key_next_len) < 0) {
		rte_eal_cleanup();
		return SD_EXIT_FAIL;
	}
	dpp.insecure = o->insecure;
	if (!o->insecure) {
		dpp.key = key;
		dpp.key_len = key_len;
		dpp.key_next = key_next_len > 0 ? key_next : NULL;
		dpp.key_next_len = key_next_len;
	}

	for (unsigned i = 0; i < o->n_lookup_keys; i++) {
		ssize_t n = read_key_file(o->lookup_key_file[i], lookup_key[i], false);

		if (n < 0) {
			explicit_bzero(key, sizeof(key));
			explicit_bzero(key_next, sizeof(key_next));
			explicit_bzero(lookup_key, sizeof(lookup_key));
			rte_eal_cleanup();
			return SD_EXIT_FAIL;
		}
		lookup_keys[i] = (struct synode_dp_lookup_key){
			.scope = o->lookup_scope[i], .key = lookup_key[i], .key_len = (size_t)n,
		};
	}
	dpp.lookup_keys = lookup_keys;
	dpp.n_lookup_keys = o->n_lookup_keys;
	dpp.node_name = o->name;
	dpp.ip = o->ip;
	dpp.prefix_len = o->prefix_len;
	dpp.udp_port = o->udp_port;
	dpp.peers = o->peers;
	dpp.n_peers = o->n_peers;
	dpp.broadcast = o->broadcast;
	dpp.poll = o->poll_busy ? SYNODE_DP_POLL_BUSY : SYNODE_DP_POLL_ADAPTIVE;
	dpp.down_after_ms = o->down_after_ms;
	dpp.log = sd_log_sink;
	dpp.log_level = o->log_level;
	dp = synode_dp_create(&dpp);
	rc = errno;
	explicit_bzero(key, sizeof(key));
	explicit_bzero(key_next, sizeof(key_next));
	explicit_bzero(lookup_key, sizeof(lookup_key));
	/* The ports' sockets are made: back home, before anything else opens
	 * one (the node's process-events connector needs the first namespace). */
	if (home_ns >= 0 && leave_netns(o->netns, home_ns) != 0) {
		if (dp != NULL)
			synode_dp_destroy(dp);
		rte_eal_cleanup();
		return SD_EXIT_FAIL;
	}
	if (dp == NULL) {
		sd_log(SYNODE_LOG_ERROR, "synode: cannot start the dataplane: %s%s",
		       strerror(rc), rc == ENODEV ? " (no DPDK port: add one with "
		       "--vdev in the EAL options)" : "");
		rte_eal_cleanup();
		return SD_EXIT_FAIL;
	}

	/*
	 * The node's control thread and the signal thread must not share the
	 * lcore's CPU (a busy-polling loop would starve them): they are
	 * created with the CPUs the process had before EAL pinned this
	 * thread, which then goes back to its lcore.
	 */
	if (have_cpus && sched_getaffinity(0, sizeof(lcore_cpu), &lcore_cpu) == 0)
		(void)sched_setaffinity(0, sizeof(any_cpu), &any_cpu);
	else
		have_cpus = false;
	p->link = synode_dp_link(dp);
	node = synode_start(p);
	if (node == NULL) {
		log_start_failure(o->name, p->control_path, errno);
		goto fail_node;
	}
	synode_dp_attach(dp, node);
	have_sock_st = stat(p->control_path, &sock_st) == 0;
	stopper.name = o->name;
	stopper.sfd = sfd;
	stopper.dp = dp;
	stopper.o = o;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, stopper_main, &stopper);
	pthread_attr_destroy(&attr);
	if (have_cpus)
		(void)sched_setaffinity(0, sizeof(lcore_cpu), &lcore_cpu);
	if (rc != 0) {
		sd_log(SYNODE_LOG_ERROR, "synode: cannot start the signal thread: %s",
		       strerror(rc));
		synode_stop(node);
		remove_socket(p->control_path, have_sock_st, &sock_st);
		goto fail_node;
	}

	sd_log(SYNODE_LOG_NOTICE, "synode: %s ready on %s", o->name, p->control_path);
	sd_log(SYNODE_LOG_INFO, "synode: %u scope(s), strict mode %s, dataplane with %u "
	       "peer(s)%s, %s polling", o->n_scopes, o->strict ? "on" : "off", o->n_peers,
	       o->broadcast ? " and broadcast" : "", o->poll_busy ? "busy" : "adaptive");

	rc = synode_dp_run(dp);
	if (rc < 0)
		sd_log(SYNODE_LOG_ERROR, "synode: the dataplane loop failed: %s", strerror(-rc));
	synode_stop(node);
	/* The node removes its socket; make sure, if it is still ours. */
	remove_socket(p->control_path, have_sock_st, &sock_st);

	synode_dp_get_stats(dp, &st);
	sd_log(SYNODE_LOG_INFO, "synode: dataplane: %llu frames in, %llu out, %llu dropped, "
	       "%llu resent, %llu session resets", (unsigned long long)st.rx_frames,
	       (unsigned long long)st.tx_frames, (unsigned long long)st.rx_dropped,
	       (unsigned long long)st.retransmits, (unsigned long long)st.resets);
	sd_log(SYNODE_LOG_INFO, "synode: dataplane drops: bad_mac %llu, malformed %llu, "
	       "truncated %llu, replayed %llu, unknown_peer %llu, session %llu",
	       (unsigned long long)st.drop_bad_mac, (unsigned long long)st.drop_malformed,
	       (unsigned long long)st.drop_truncated, (unsigned long long)st.drop_replayed,
	       (unsigned long long)st.drop_unknown_peer, (unsigned long long)st.drop_session);
	synode_dp_foreach_drop(dp, log_drop, NULL);
	if (synode_dp_has_memif(dp)) {
		/*
		 * DPDK 22.11's memif can crash closing a port whose peer is still
		 * connected: the node has stopped and its socket is gone, so end
		 * here, without closing the ports (the kernel frees everything).
		 */
		sd_log(SYNODE_LOG_NOTICE, "synode: %s stopped", o->name);
		fflush(stdout);
		fflush(stderr);
		_exit(rc < 0 ? SD_EXIT_FAIL : SD_EXIT_OK);
	}
	synode_dp_destroy(dp);
	rte_eal_cleanup();
	sd_log(SYNODE_LOG_NOTICE, "synode: %s stopped", o->name);
	return rc < 0 ? SD_EXIT_FAIL : SD_EXIT_OK;

fail_node:
	if (synode_dp_has_memif(dp)) {
		fflush(stdout);
		fflush(stderr);
		_exit(SD_EXIT_FAIL); /* as above */
	}
	synode_dp_destroy(dp);
	rte_eal_cleanup();
	return SD_EXIT_FAIL;
}

#endif /* SYNODE_WITH_DATAPLANE */

int
main(int argc, char **argv)
{
	struct sd_opts o = {0};
	struct synode_params p = {0};
	char default_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat sock_st;
	bool have_sock_st;
	struct synode *node;
	sigset_t stop_sigs;
	const char *path;
	int sfd, status;

	parse_command_line(argc, argv, &o);
	sd_log_level = o.log_level;

	path = o.control;
	if (path == NULL) {
		int n = snprintf(default_path, sizeof(default_path), SD_RUN_DIR "/%s.sock",
				 o.name);

		if (n < 0 || (size_t)n >= sizeof(default_path))
			usage_error("the default control socket path is too long; use --control");
		path = default_path;
		if (mkdir(SD_RUN_DIR, 0755) != 0 && errno != EEXIST) {
			sd_log(SYNODE_LOG_ERROR, "synode: cannot create %s: %s (choose "
			       "another socket with --control PATH)", SD_RUN_DIR,
			       strerror(errno));
			return SD_EXIT_FAIL;
		}
	}

	/*
	 * SIGTERM and SIGINT are read from a signalfd. They are blocked before
	 * DPDK and the node start threads, so that every thread inherits the
	 * mask and the signal always reaches the signalfd, never a default
	 * handler.
	 */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGHUP);          /* key files re-read */
	if (sigprocmask(SIG_BLOCK, &stop_sigs, NULL) != 0) {
		sd_log(SYNODE_LOG_ERROR, "synode: sigprocmask: %s", strerror(errno));
		return SD_EXIT_FAIL;
	}
	sfd = signalfd(-1, &stop_sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		sd_log(SYNODE_LOG_ERROR, "synode: signalfd: %s", strerror(errno));
		return SD_EXIT_FAIL;
	}
	/* A client that goes away mid-answer must not kill the node. */
	signal(SIGPIPE, SIG_IGN);

	p.name = o.name;
	p.scopes = o.scopes;
	p.n_scopes = o.n_scopes;
	p.strict = o.strict;
	p.max_name_len = o.max_name_len;
	p.max_meta_len = o.max_meta_len;
	p.conflict_signal = o.conflict_signal;
	p.control_path = path;
	p.log_level = o.log_level;
	p.log = sd_log_sink;

#ifdef SYNODE_WITH_DATAPLANE
	if (o.n_eal > 0) {
		status = run_clustered(&o, &p, argv, sfd);
		close(sfd);
		return status;
	}
#endif

	node = synode_start(&p);
	if (node == NULL) {
		log_start_failure(o.name, path, errno);
		close(sfd);
		return SD_EXIT_FAIL;
	}
	/* Remembered so that the stop removes our socket and no other. */
	have_sock_st = stat(path, &sock_st) == 0;

	sd_log(SYNODE_LOG_NOTICE, "synode: %s ready on %s", o.name, path);
	sd_log(SYNODE_LOG_INFO, "synode: %u scope(s), strict mode %s, no dataplane",
	       o.n_scopes, o.strict ? "on" : "off");

	(void)wait_stop_signal(o.name, sfd, NULL, NULL);
	synode_stop(node);

	/* The node removes its socket; make sure, if it is still ours. */
	remove_socket(path, have_sock_st, &sock_st);
	close(sfd);
	sd_log(SYNODE_LOG_NOTICE, "synode: %s stopped", o.name);
	return SD_EXIT_OK;
}
