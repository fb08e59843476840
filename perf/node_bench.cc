// SPDX-License-Identifier: MIT
//
// node_bench: the node's embedding API and control socket, each beside what
// a user would otherwise write, in one Google Benchmark binary and run:
//   - embed/...: synode.h in-process: every write crosses to the node's
//     control thread and back; lookups read the RCU tables in place.
//     Baseline: a registry in a std::unordered_map behind a pthread rwlock
//     (rwmap/...), written and read under its lock by the calling thread.
//   - client/...: synode_client.h over the Unix control socket: one round
//     trip per call. Baseline: a bare Unix-socket ping-pong of the same
//     size (unix_pingpong), the link's own limit.
//   - memory/...: RSS growth with 1M registrations (16-byte names and meta,
//     one handle each), and the baseline map's growth.
// Figures: items per second (a register+unregister pair, a join+leave pair,
// a lookup, a round trip), or bytes for memory/. perf/run runs it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <urcu/urcu-memb.h>

#include "synode.h"
#include "synode_client.h"

namespace {

constexpr const char *kScope = "bench";
constexpr int kNames = 4096;        // names cycled through by write loops

bool g_quick = false;               // --node_quick: tiny sizes, a smoke test

struct Node {
	struct synode *n = nullptr;
	std::string sock;
	std::vector<struct synode_pid> handles;
	char names[kNames][17];
};

void
fail(benchmark::State &st, const char *what, int rc)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", what, synode_strerror(rc));
	st.SkipWithError(msg);
}

// One node for the whole run, with a control socket in a temp dir.
Node &
node()
{
	static Node *nd = [] {
		auto *x = new Node();
		char dir[] = "/tmp/node_bench.XXXXXX";
		static const char *const scopes[] = { kScope };
		struct synode_params p = {};

		if (mkdtemp(dir) == nullptr)
			abort();
		x->sock = std::string(dir) + "/n.sock";
		p.name = "bench";
		p.scopes = scopes;
		p.n_scopes = 1;
		p.control_path = x->sock.c_str();
		p.log_level = SYNODE_LOG_WARNING;
		x->n = synode_start(&p);
		if (x->n == nullptr) {
			perror("node_bench: synode_start");
			abort();
		}
		x->handles.resize(kNames);
		for (int i = 0; i < kNames; i++) {
			if (synode_handle_new(x->n, &x->handles[i]) != 0)
				abort();
			snprintf(x->names[i], sizeof(x->names[i]), "name-%011d", i);
		}
		return x;
	}();
	return *nd;
}

// ------------------------------------------------------------ embedding API

void
bm_embed_register_unregister(benchmark::State &st)
{
	Node &nd = node();
	int i = 0;

	for (auto _ : st) {
		int rc = synode_register(nd.n, kScope, nd.names[i], 16, &nd.handles[i], "meta-16-bytes-xx", 16);

		if (rc == 0)
			rc = synode_unregister(nd.n, kScope, nd.names[i], 16);
		if (rc != 0) {
			fail(st, "register/unregister", rc);
			break;
		}
		i = (i + 1) % kNames;
	}
	st.SetItemsProcessed(st.iterations());
}

void
bm_embed_join_leave(benchmark::State &st)
{
	Node &nd = node();
	int i = 0;

	for (auto _ : st) {
		int rc = synode_join(nd.n, kScope, "group", 5, &nd.handles[i], "m", 1);

		if (rc == 0)
			rc = synode_leave(nd.n, kScope, "group", 5, &nd.handles[i]);
		if (rc != 0) {
			fail(st, "join/leave", rc);
			break;
		}
		i = (i + 1) % kNames;
	}
	st.SetItemsProcessed(st.iterations());
}

// A writer thread that registers and unregisters names as fast as it can
// (names kNames/2.. so that lookups of the first half always hit).
struct EmbedWriter {
	std::atomic<bool> stop{ false };
	std::atomic<uint64_t> pairs{ 0 };
	std::thread t;

	explicit EmbedWriter(Node &nd)
	{
		t = std::thread([this, &nd] {
			for (int i = kNames / 2; !stop.load(std::memory_order_relaxed);) {
				if (synode_register(nd.n, kScope, nd.names[i], 16, &nd.handles[i], "w", 1) == 0 &&
				    synode_unregister(nd.n, kScope, nd.names[i], 16) == 0)
					pairs.fetch_add(1, std::memory_order_relaxed);
				if (++i == kNames)
					i = kNames / 2;
			}
		});
	}
	~EmbedWriter()
	{
		stop = true;
		t.join();
	}
};

void
bm_embed_lookup(benchmark::State &st, bool writes)
{
	Node &nd = node();
	const int live = 1024;
	uint64_t found = 0;
	int i = 0;

	for (int k = 0; k < live; k++)
		if (synode_register(nd.n, kScope, nd.names[k], 16, &nd.handles[k], "meta", 4) != 0)
			abort();
	{
		std::unique_ptr<EmbedWriter> w(writes ? new EmbedWriter(nd) : nullptr);
		auto t0 = std::chrono::steady_clock::now();
		for (auto _ : st) {
			struct synode_pid pid;
			char meta[16];
			size_t len = sizeof(meta);

			found += synode_lookup(nd.n, kScope, nd.names[i], 16, &pid, meta, &len) == 0;
			i = (i + 1) % live;
		}
		if (w) {
			double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
			st.counters["writer_pairs_per_s"] = (double)w->pairs.load() / s;
		}
	}
	for (int k = 0; k < live; k++)
		(void)synode_unregister(nd.n, kScope, nd.names[k], 16);
	if (found != (uint64_t)st.iterations())
		st.SkipWithError("a lookup missed a registered name");
	st.SetItemsProcessed(st.iterations());
}

// ------------------------------------------------ baseline: rwlock + hash map

struct RwMap {
	pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
	std::unordered_map<std::string, std::pair<uint64_t, std::string>> m;
};

RwMap &
rwmap()
{
	static RwMap *r = new RwMap();
	return *r;
}

void
bm_rwmap_register_unregister(benchmark::State &st)
{
	RwMap &r = rwmap();
	Node &nd = node();
	int i = 0;

	for (auto _ : st) {
		pthread_rwlock_wrlock(&r.lock);
		r.m.emplace(std::string(nd.names[i], 16), std::make_pair((uint64_t)i, std::string("meta-16-bytes-xx")));
		pthread_rwlock_unlock(&r.lock);
		pthread_rwlock_wrlock(&r.lock);
		r.m.erase(std::string(nd.names[i], 16));
		pthread_rwlock_unlock(&r.lock);
		i = (i + 1) % kNames;
	}
	st.SetItemsProcessed(st.iterations());
}

void
bm_rwmap_lookup(benchmark::State &st, bool writes)
{
	RwMap &r = rwmap();
	Node &nd = node();
	const int live = 1024;
	std::atomic<bool> stop{ false };
	std::atomic<uint64_t> pairs{ 0 };
	std::thread w;
	uint64_t found = 0;
	int i = 0;

	for (int k = 0; k < live; k++)
		r.m.emplace(std::string(nd.names[k], 16), std::make_pair((uint64_t)k, std::string("meta")));
	if (writes)
		w = std::thread([&] {
			for (int k = kNames / 2; !stop.load(std::memory_order_relaxed);) {
				std::string key(nd.names[k], 16);
				pthread_rwlock_wrlock(&r.lock);
				r.m.emplace(key, std::make_pair((uint64_t)k, std::string("w")));
				pthread_rwlock_unlock(&r.lock);
				pthread_rwlock_wrlock(&r.lock);
				r.m.erase(key);
				pthread_rwlock_unlock(&r.lock);
				pairs.fetch_add(1, std::memory_order_relaxed);
				if (++k == kNames)
					k = kNames / 2;
			}
		});
	auto t0 = std::chrono::steady_clock::now();
	for (auto _ : st) {
		std::string key(nd.names[i], 16);
		char meta[16];

		pthread_rwlock_rdlock(&r.lock);
		auto it = r.m.find(key);
		if (it != r.m.end()) {
			memcpy(meta, it->second.second.data(), std::min<size_t>(16, it->second.second.size()));
			found++;
		}
		pthread_rwlock_unlock(&r.lock);
		benchmark::DoNotOptimize(meta);
		i = (i + 1) % live;
	}
	if (writes) {
		double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		stop = true;
		w.join();
		st.counters["writer_pairs_per_s"] = (double)pairs.load() / s;
	}
	r.m.clear();
	if (found != (uint64_t)st.iterations())
		st.SkipWithError("a lookup missed a present name");
	st.SetItemsProcessed(st.iterations());
}

// -------------------------------------------------------- the control socket

struct synode_client *
client_connect(benchmark::State &st)
{
	struct synode_client *c = synode_client_connect(node().sock.c_str(), 2000);

	if (c == nullptr)
		fail(st, "synode_client_connect", -errno);
	return c;
}

void
bm_client_lookup(benchmark::State &st)
{
	Node &nd = node();
	struct synode_client *c = client_connect(st);
	uint64_t found = 0;

	if (c == nullptr)
		return;
	if (synode_register(nd.n, kScope, nd.names[0], 16, &nd.handles[0], "meta", 4) != 0)
		abort();
	for (auto _ : st) {
		struct synode_pid pid;
		char meta[16];
		size_t len = sizeof(meta);

		found += synode_client_lookup(c, kScope, nd.names[0], 16, &pid, meta, &len) == 0;
	}
	(void)synode_unregister(nd.n, kScope, nd.names[0], 16);
	synode_client_close(c);
	if (found != (uint64_t)st.iterations())
		st.SkipWithError("a lookup over the socket failed");
	st.SetItemsProcessed(st.iterations());
}

void
bm_client_register_unregister(benchmark::State &st)
{
	Node &nd = node();
	struct synode_client *c = client_connect(st);
	int i = 0;

	if (c == nullptr)
		return;
	for (auto _ : st) {
		int rc = synode_client_register(c, kScope, nd.names[i], 16, &nd.handles[i],
						"meta-16-bytes-xx", 16);

		if (rc == 0)
			rc = synode_client_unregister(c, kScope, nd.names[i], 16);
		if (rc != 0) {
			fail(st, "client register/unregister", rc);
			break;
		}
		i = (i + 1) % kNames;
	}
	synode_client_close(c);
	st.SetItemsProcessed(st.iterations());
}

// Baseline: a bare request/answer over a Unix stream socket pair, 48 bytes
// each way (about a lookup's request and answer), echoed by a thread.
void
bm_unix_pingpong(benchmark::State &st)
{
	int sv[2];
	char buf[48] = { 0 };

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		st.SkipWithError("socketpair");
		return;
	}
	std::thread echo([fd = sv[1]] {
		char b[48];
		for (;;) {
			ssize_t got = 0;
			while (got < 48) {
				ssize_t r = read(fd, b + got, 48 - (size_t)got);
				if (r <= 0)
					return;
				got += r;
			}
			if (write(fd, b, 48) != 48)
				return;
		}
	});
	for (auto _ : st) {
		ssize_t got = 0;

		if (write(sv[0], buf, 48) != 48)
			break;
		while (got < 48) {
			ssize_t r = read(sv[0], buf + got, 48 - (size_t)got);
			if (r <= 0)
				break;
			got += r;
		}
	}
	close(sv[0]);
	echo.join();
	close(sv[1]);
	st.SetItemsProcessed(st.iterations());
}

// ------------------------------------------------------------------- memory

long
rss_bytes()
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (f != nullptr) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

// 1M registrations in a node of their own (16-byte names and meta, one
// handle each), and the RSS that they add.
void
bm_memory_node(benchmark::State &st)
{
	const int n = g_quick ? 10000 : 1000000;

	for (auto _ : st) {
		static const char *const scopes[] = { "mem" };
		struct synode_params p = {};
		long before = rss_bytes();
		char name[17], meta[17];

		p.name = "mem";
		p.scopes = scopes;
		p.n_scopes = 1;
		p.log_level = SYNODE_LOG_WARNING;
		struct synode *nd = synode_start(&p);
		if (nd == nullptr) {
			st.SkipWithError("synode_start");
			return;
		}
		for (int i = 0; i < n; i++) {
			struct synode_pid h;

			snprintf(name, sizeof(name), "name-%011d", i);
			snprintf(meta, sizeof(meta), "meta-%011d", i);
			if (synode_handle_new(nd, &h) != 0 ||
			    synode_register(nd, "mem", name, 16, &h, meta, 16) != 0) {
				st.SkipWithError("register");
				break;
			}
		}
		long grown = rss_bytes() - before;
		st.counters["registrations"] = n;
		st.counters["rss_growth_MB"] = (double)grown / 1e6;
		st.counters["rss_total_MB"] = (double)rss_bytes() / 1e6;
		st.counters["bytes_per_registration"] = (double)grown / n;
		synode_stop(nd);
	}
}

void
bm_memory_rwmap(benchmark::State &st)
{
	const int n = g_quick ? 10000 : 1000000;

	for (auto _ : st) {
		auto *m = new std::unordered_map<std::string, std::pair<uint64_t, std::string>>();
		long before = rss_bytes();
		char name[17], meta[17];

		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "name-%011d", i);
			snprintf(meta, sizeof(meta), "meta-%011d", i);
			m->emplace(std::string(name, 16), std::make_pair((uint64_t)i, std::string(meta, 16)));
		}
		long grown = rss_bytes() - before;
		st.counters["registrations"] = n;
		st.counters["rss_growth_MB"] = (double)grown / 1e6;
		st.counters["bytes_per_registration"] = (double)grown / n;
		delete m;
	}
}

} // namespace

BENCHMARK(bm_embed_register_unregister)->Name("embed/register_unregister")->UseRealTime();
BENCHMARK(bm_rwmap_register_unregister)->Name("rwmap/register_unregister")->UseRealTime();
BENCHMARK(bm_embed_join_leave)->Name("embed/join_leave")->UseRealTime();
BENCHMARK_CAPTURE(bm_embed_lookup, ro, false)->Name("embed/lookup/ro")->UseRealTime();
BENCHMARK_CAPTURE(bm_rwmap_lookup, ro, false)->Name("rwmap/lookup/ro")->UseRealTime();
BENCHMARK_CAPTURE(bm_embed_lookup, writes, true)->Name("embed/lookup/under_writes")->UseRealTime();
BENCHMARK_CAPTURE(bm_rwmap_lookup, writes, true)->Name("rwmap/lookup/under_writes")->UseRealTime();
BENCHMARK(bm_client_lookup)->Name("client/lookup")->UseRealTime();
BENCHMARK(bm_client_register_unregister)->Name("client/register_unregister")->UseRealTime();
BENCHMARK(bm_unix_pingpong)->Name("unix_pingpong")->UseRealTime();
BENCHMARK(bm_memory_node)->Name("memory/node_1M")->Iterations(1)->UseRealTime();
BENCHMARK(bm_memory_rwmap)->Name("memory/rwmap_1M")->Iterations(1)->UseRealTime();

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--node_quick") == 0) {
			g_quick = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	urcu_memb_register_thread();
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	if (node().n != nullptr)
		synode_stop(node().n);
	urcu_memb_unregister_thread();
	return 0;
}
