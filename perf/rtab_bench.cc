// SPDX-License-Identifier: MIT
//
// rtab_bench: throughput of rcu_tables (set, ordered_set, bag) against
// baselines, in one Google Benchmark binary and one run:
//   - DPDK rte_hash, lock-free read/write concurrency (RW_CONCURRENCY_LF);
//   - std::unordered_map / std::map guarded by a pthread rwlock;
//   - JudySL guarded by a pthread rwlock.
// Every figure is items per second (lookups, inserts, scanned objects),
// except the "memory/" benchmarks, whose counters are bytes per object.
// perf/README.md describes each benchmark; perf/run runs them and writes
// the report.
//
// Rules that keep the comparisons fair:
//   - Keys are printable random names of exactly 16 or 64 bytes (the lookup
//     tables hold the same names for every implementation); a miss key
//     starts with '_', which no present key does.
//   - Each reader thread walks its own precomputed random permutation of
//     the keys, copied out contiguously so that the harness itself costs
//     one sequential read per lookup; nothing is generated in the timed
//     loop.
//   - A lookup finds the entry and does not read the value.
//   - Tables are built once (lazily, outside any timed loop) and reused by
//     every benchmark and repetition that reads them; lookup tables are
//     sized for their key count (rte_hash cannot grow).
//   - rtab readers take the RCU read lock per lookup, or per bulk batch of
//     32; rwlock baselines take the read lock per lookup.
//   - The "writer" variants run one more thread that replaces the values of
//     existing keys, paced at one write per 100 lookups done by the readers
//     (each reader publishes its count every 256 lookups).
//   - Every lookup benchmark checks its results after the timed loop (all
//     hits found, no miss found) and fails rather than report a wrong run.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <benchmark/benchmark.h>

#include <Judy.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <urcu/urcu-memb.h>

#include "rtab_bag.h"
#include "rtab_oset.h"
#include "rtab_set.h"

#include "flavour.h"

namespace {

// ---------------------------------------------------------------------------
// Sizes. Quick mode (--rtab_quick) shrinks them so that the whole binary runs
// in seconds: a smoke test of the harness, not a measurement.

struct Sizes {
	size_t small, mid, large;   // set lookups
	size_t oset_mid, oset_large; // ordered_set lookups and scans
	size_t fill;                // inserts, deletes, bytes per object
	size_t bag_keys;            // bag: keys (1-4 objects each)
};

constexpr Sizes kFullSizes = {1u << 10, 1u << 16, 1u << 20,
			      1u << 16, 1u << 20, 1u << 20, 1u << 16};
constexpr Sizes kQuickSizes = {1u << 10, 1u << 12, 1u << 14,
			       1u << 12, 1u << 14, 1u << 14, 1u << 10};
Sizes g_sizes = kFullSizes;

constexpr unsigned kBulk = 32;       // keys per rtab_set_lookup_bulk call
constexpr unsigned kBatch = 256;     // lookups between KeepRunningBatch checks
constexpr unsigned kScanPage = 100;  // objects per ordered scan call
constexpr size_t kValueLen = 16;     // every value is 16 bytes
constexpr int kMaxThreads = 8;
constexpr int kWriterStreamId = 7;   // the writer's own key order

std::string
size_label(size_t n)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		return std::to_string(n >> 20) + "M";
	if (n >= (1u << 10) && n % (1u << 10) == 0)
		return std::to_string(n >> 10) + "K";
	return std::to_string(n);
}

// ---------------------------------------------------------------------------
// Keys and per-thread lookup streams.

uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

// 64 printable characters: 6 random bits per character, no bias. '_' is
// not among them, so a name that starts with '_' is never a present key.
constexpr char kAlphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
static_assert(sizeof(kAlphabet) == 65, "64 characters");

// n names of len bytes, packed len bytes apart (no NUL).
struct Keys {
	size_t n = 0, len = 0;
	std::vector<char> bytes;
	const char *at(size_t i) const { return bytes.data() + i * len; }
};

// A thread's lookup order: the keys permuted, copied out contiguously, and
// the same keys as pointers for the bulk calls. m is n rounded down to a
// multiple of kBulk so that a bulk batch never wraps.
struct Stream {
	size_t m = 0, len = 0;
	std::vector<char> bytes;
	std::vector<const void *> ptrs;
	const char *at(size_t i) const { return bytes.data() + i * len; }
};

std::recursive_mutex g_cache_mu; // guards every lazily built object below
std::vector<std::function<void()>> g_cache_clearers; // in creation order

// The object of cache[key], built by build() the first time. Tables are
// built in whichever benchmark thread comes first, before it registers
// with RCU and outside any timed loop.
template <class K, class V, class F>
V &
cached(std::map<K, std::unique_ptr<V>> &cache, const K &key, F build)
{
	std::lock_guard<std::recursive_mutex> lk(g_cache_mu);
	static bool clearer_added = false; // one per cache: F is its own type
	if (!clearer_added) {
		g_cache_clearers.push_back([&cache] { cache.clear(); });
		clearer_added = true;
	}
	auto it = cache.find(key);
	if (it == cache.end())
		it = cache.emplace(key, build()).first;
	return *it->second;
}

const Keys &
keys(size_t n, size_t len, bool miss)
{
	static std::map<std::tuple<size_t, size_t, bool>, std::unique_ptr<Keys>> c;
	return cached(c, std::make_tuple(n, len, miss), [&] {
		auto k = std::make_unique<Keys>();
		k->n = n;
		k->len = len;
		k->bytes.resize(n * len);
		uint64_t rng = n * 1000003u + len * 7919u + (miss ? 1 : 0);
		for (size_t i = 0; i < n; i++) {
			char *p = &k->bytes[i * len];
			uint64_t r = 0;
			for (size_t j = 0; j < len; j++) {
				if (j % 10 == 0)
					r = splitmix64(&rng);
				p[j] = kAlphabet[r & 63];
				r >>= 6;
			}
			if (miss)
				p[0] = '_';
		}
		return k;
	});
}

const Stream &
stream(size_t n, size_t len, bool miss, int thread)
{
	static std::map<std::tuple<size_t, size_t, bool, int>, std::unique_ptr<Stream>> c;
	return cached(c, std::make_tuple(n, len, miss, thread), [&] {
		const Keys &k = keys(n, len, miss);
		std::vector<uint32_t> perm(n);
		for (size_t i = 0; i < n; i++)
			perm[i] = (uint32_t)i;
		uint64_t rng = 0x5eed0000u + (uint64_t)thread * 131u + n + len;
		for (size_t i = n - 1; i > 0; i--)
			std::swap(perm[i], perm[splitmix64(&rng) % (i + 1)]);
		auto s = std::make_unique<Stream>();
		s->m = n - n % kBulk;
		s->len = len;
		s->bytes.resize(s->m * len);
		s->ptrs.resize(s->m);
		for (size_t i = 0; i < s->m; i++) {
			memcpy(&s->bytes[i * len], k.at(perm[i]), len);
		}
		for (size_t i = 0; i < s->m; i++)
			s->ptrs[i] = s->at(i);
		return s;
	});
}

// The 16-byte value stored with key i (version v).
struct Value {
	uint64_t index;
	uint64_t version;
};
static_assert(sizeof(Value) == kValueLen, "values are 16 bytes");

// ---------------------------------------------------------------------------
// RCU registration.

// Registers the calling thread with a flavour for the scope of the object.
// Lazily built tables are created before a benchmark registers its thread,
// and their builders register on their own.
class RcuThread {
public:
	explicit RcuThread(const perf_flavour *f = &perf_flavour_memb) : f_(f)
	{
		f_->register_thread();
	}
	~RcuThread() { f_->unregister_thread(); }
	RcuThread(const RcuThread &) = delete;
	RcuThread &operator=(const RcuThread &) = delete;

private:
	const perf_flavour *f_;
};

// Failed checks of every benchmark, reported again at the end (the
// aggregate-only report drops the failed runs) and turned into exit code 3.
std::mutex g_failures_mu;
std::vector<std::string> g_failures;
thread_local const std::string *t_bench_name; // set by reg()'s wrapper

void
fail(benchmark::State &st, const char *msg)
{
	{
		std::lock_guard<std::mutex> lk(g_failures_mu);
		g_failures.push_back((t_bench_name ? *t_bench_name : std::string("?")) + ": " + msg);
	}
	st.SkipWithError(msg);
}

[[noreturn]] void
die(const char *what, long err)
{
	fprintf(stderr, "rtab_bench: %s: %ld (%s)\n", what, err,
		strerror((int)(err < 0 ? -err : err)));
	exit(1);
}

// ---------------------------------------------------------------------------
// Tables: rtab_set (any flavour), rte_hash, rwlock unordered_map.

struct RtabSet {
	struct rtab_set *s = nullptr;
	const perf_flavour *f = nullptr;
	~RtabSet()
	{
		RcuThread rcu(f);
		rtab_set_free(s);
		f->barrier();
	}
};

struct RtabSet *
make_rtab_set(const Keys &k, size_t initial_size, const perf_flavour *f)
{
	auto t = new RtabSet;
	t->f = f;
	RcuThread rcu(f);
	struct rtab_params p = {};
	p.name = "bench";
	p.initial_size = initial_size;
	// The library's default flavour is urcu-memb: leave it to the default
	// so that the default is what gets measured.
	p.flavor = f == &perf_flavour_memb ? nullptr : f->flavor;
	t->s = rtab_set_create(&p);
	if (t->s == nullptr)
		die("rtab_set_create", errno);
	for (size_t i = 0; i < k.n; i++) {
		Value v = {i, 0};
		int rc = rtab_set_insert_new(t->s, k.at(i), k.len, &v, sizeof(v));
		if (rc != 0)
			die("rtab_set_insert_new", rc);
	}
	if (rtab_set_count(t->s) != k.n)
		die("rtab_set_count differs from the keys inserted", (long)rtab_set_count(t->s));
	f->barrier();
	return t;
}

// The lookup table of n keys of len bytes for flavour f; presized.
// The urcu-memb tables (the library default) are shared by the main set
// benchmarks and the flavour comparison.
struct rtab_set *
rtab_set_table(size_t n, size_t len, const perf_flavour *f)
{
	if (f->flavor == perf_flavour_memb.flavor)
		f = &perf_flavour_memb;
	static std::map<std::tuple<size_t, size_t, const void *>, std::unique_ptr<RtabSet>> c;
	return cached(c, std::make_tuple(n, len, (const void *)f->flavor), [&] {
		return std::unique_ptr<RtabSet>(make_rtab_set(keys(n, len, false), n, f));
	}).s;
}

struct RteHash {
	struct rte_hash *h = nullptr;
	Value *values = nullptr; // data of key i: &values[i], zeroed
	~RteHash()
	{
		rte_hash_free(h);
		rte_free(values);
	}
};

std::atomic<unsigned> g_rte_hash_seq{0};

// An empty LF rte_hash for n keys of len bytes, sized as rte_hash needs:
// entries n * 5/4, rounded up by rte_hash to a power of two of buckets of
// 8, i.e. about 50% load at the sizes benchmarked (cuckoo hashing does not
// reliably reach 100% load without its extendable buckets).
RteHash *
make_rte_hash(size_t n, size_t len)
{
	auto t = new RteHash;
	char name[RTE_HASH_NAMESIZE];
	snprintf(name, sizeof(name), "bench%u", g_rte_hash_seq++);
	struct rte_hash_parameters p = {};
	p.name = name;
	p.entries = (uint32_t)(n + n / 4 + 8);
	p.key_len = (uint32_t)len;
	p.hash_func = nullptr; // DPDK's default: CRC32 where SSE4.2 exists
	p.hash_func_init_val = 0;
	p.socket_id = (int)rte_socket_id();
	p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
	t->h = rte_hash_create(&p);
	if (t->h == nullptr)
		die("rte_hash_create", rte_errno);
	t->values = (Value *)rte_zmalloc(nullptr, n * sizeof(Value), 0);
	if (t->values == nullptr)
		die("rte_malloc", ENOMEM);
	return t;
}

RteHash &
rte_hash_table(size_t n, size_t len)
{
	static std::map<std::tuple<size_t, size_t>, std::unique_ptr<RteHash>> c;
	return cached(c, std::make_tuple(n, len), [&] {
		const Keys &k = keys(n, len, false);
		std::unique_ptr<RteHash> t(make_rte_hash(n, len));
		for (size_t i = 0; i < n; i++) {
			t->values[i] = Value{i, 0};
			int rc = rte_hash_add_key_data(t->h, k.at(i), &t->values[i]);
			if (rc != 0)
				die("rte_hash_add_key_data", rc);
		}
		if ((size_t)rte_hash_count(t->h) != n)
			die("rte_hash_count differs from the keys inserted", rte_hash_count(t->h));
		return t;
	});
}

// Writer-preferring: with glibc's default (readers first) a writer among
// busy readers starves, and the "writer" variants would write far less
// than 1%.
struct RwLock {
	pthread_rwlock_t lk;
	RwLock()
	{
		pthread_rwlockattr_t a;
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&lk, &a);
		pthread_rwlockattr_destroy(&a);
	}
	~RwLock() { pthread_rwlock_destroy(&lk); }
	void rdlock() { pthread_rwlock_rdlock(&lk); }
	void wrlock() { pthread_rwlock_wrlock(&lk); }
	void unlock() { pthread_rwlock_unlock(&lk); }
};

struct RwUmap {
	RwLock lock;
	std::unordered_map<std::string, std::string> m;
};

RwUmap &
rw_umap_table(size_t n, size_t len)
{
	static std::map<std::tuple<size_t, size_t>, std::unique_ptr<RwUmap>> c;
	return cached(c, std::make_tuple(n, len), [&] {
		const Keys &k = keys(n, len, false);
		auto t = std::make_unique<RwUmap>();
		t->m.reserve(n);
		for (size_t i = 0; i < n; i++) {
			Value v = {i, 0};
			t->m.emplace(std::string(k.at(i), len),
				     std::string((const char *)&v, sizeof(v)));
		}
		return t;
	});
}

// ---------------------------------------------------------------------------
// Ordered tables: rtab_oset, rwlock JudySL, rwlock std::map.

struct RtabOset {
	struct rtab_oset *o = nullptr;
	~RtabOset()
	{
		RcuThread rcu;
		rtab_oset_free(o);
		urcu_memb_barrier();
	}
};

struct rtab_oset *
rtab_oset_table(size_t n)
{
	static std::map<size_t, std::unique_ptr<RtabOset>> c;
	return cached(c, n, [&] {
		const Keys &k = keys(n, 16, false);
		auto t = std::make_unique<RtabOset>();
		RcuThread rcu;
		struct rtab_params p = {};
		p.name = "bench";
		p.initial_size = n;
		t->o = rtab_oset_create(&p);
		if (t->o == nullptr)
			die("rtab_oset_create", errno);
		for (size_t i = 0; i < n; i++) {
			Value v = {i, 0};
			int rc = rtab_oset_insert_new(t->o, k.at(i), k.len, &v, sizeof(v));
			if (rc != 0)
				die("rtab_oset_insert_new", rc);
		}
		if (rtab_oset_count(t->o) != n)
			die("rtab_oset_count differs from the keys inserted", (long)rtab_oset_count(t->o));
		urcu_memb_barrier();
		return t;
	}).o;
}

// JudySL wants NUL-terminated keys; names hold no NUL.
struct JudyKey {
	uint8_t b[RTAB_KEY_MAX + 1];
	const uint8_t *set(const char *k, size_t len)
	{
		memcpy(b, k, len);
		b[len] = 0;
		return b;
	}
};

struct RwJudy {
	RwLock lock;
	Pvoid_t arr = nullptr;
	~RwJudy() { JudySLFreeArray(&arr, PJE0); }
};

RwJudy &
rw_judy_table(size_t n)
{
	static std::map<size_t, std::unique_ptr<RwJudy>> c;
	return cached(c, n, [&] {
		const Keys &k = keys(n, 16, false);
		auto t = std::make_unique<RwJudy>();
		JudyKey jk;
		for (size_t i = 0; i < n; i++) {
			PPvoid_t pv = JudySLIns(&t->arr, jk.set(k.at(i), k.len), PJE0);
			if (pv == PPJERR)
				die("JudySLIns", ENOMEM);
			*(Word_t *)pv = i;
		}
		return t;
	});
}

struct RwMap {
	RwLock lock;
	std::map<std::string, std::string, std::less<>> m;
};

RwMap &
rw_map_table(size_t n)
{
	static std::map<size_t, std::unique_ptr<RwMap>> c;
	return cached(c, n, [&] {
		const Keys &k = keys(n, 16, false);
		auto t = std::make_unique<RwMap>();
		for (size_t i = 0; i < n; i++) {
			Value v = {i, 0};
			t->m.emplace(std::string(k.at(i), k.len),
				     std::string((const char *)&v, sizeof(v)));
		}
		return t;
	});
}

// ---------------------------------------------------------------------------
// Bag: key i holds 1 + i % 4 objects (2.5 on average).

size_t
bag_fanout(size_t i)
{
	return 1 + i % 4;
}

struct RtabBag {
	struct rtab_bag *b = nullptr;
	~RtabBag()
	{
		RcuThread rcu;
		rtab_bag_free(b);
		urcu_memb_barrier();
	}
};

// Fills b with the objects of the first nkeys keys; returns the number of
// objects.
size_t
bag_fill(struct rtab_bag *b, const Keys &k)
{
	size_t objs = 0;
	for (size_t i = 0; i < k.n; i++) {
		for (size_t j = 0; j < bag_fanout(i); j++) {
			Value v = {i, j};
			int rc = rtab_bag_insert(b, k.at(i), k.len, &v, sizeof(v));
			if (rc != 0)
				die("rtab_bag_insert", rc);
			objs++;
		}
	}
	return objs;
}

struct rtab_bag *
rtab_bag_table(size_t nkeys)
{
	static std::map<size_t, std::unique_ptr<RtabBag>> c;
	return cached(c, nkeys, [&] {
		const Keys &k = keys(nkeys, 16, false);
		auto t = std::make_unique<RtabBag>();
		RcuThread rcu;
		struct rtab_params p = {};
		p.name = "bench";
		p.initial_size = nkeys * 5 / 2;
		t->b = rtab_bag_create(&p);
		if (t->b == nullptr)
			die("rtab_bag_create", errno);
		size_t objs = bag_fill(t->b, k);
		if (rtab_bag_count(t->b) != objs)
			die("rtab_bag_count differs from the objects inserted", (long)rtab_bag_count(t->b));
		urcu_memb_barrier();
		return t;
	}).b;
}

// ---------------------------------------------------------------------------
// The concurrent writer of the "writer" variants.

struct alignas(64) Progress {
	std::atomic<uint64_t> done{0};
};
Progress g_progress[kMaxThreads];

// Publishes how many lookups this reader has done, for the writer's pace.
inline void
publish_progress(int thread, uint64_t done)
{
	g_progress[thread].done.store(done, std::memory_order_relaxed);
}

// One thread, registered with the table's RCU flavour, that performs
// write(seq) once per 100 lookups the readers have published, sleeping
// 20 us whenever it has caught up (going offline meanwhile under qsbr).
// A write that fails stops the writer and is reported by stop().
class Writer {
public:
	using WriteFn = std::function<bool(uint64_t seq)>;

	Writer(const perf_flavour *f, WriteFn fn) : f_(f), fn_(std::move(fn))
	{
		for (auto &p : g_progress)
			p.done.store(0, std::memory_order_relaxed);
		th_ = std::thread([this] { run(); });
	}
	~Writer() { stop(); }
	Writer(const Writer &) = delete;
	Writer &operator=(const Writer &) = delete;

	// Stops and joins the writer, and waits for the frees of the objects
	// it replaced (so that they do not spill into the next benchmark);
	// returns false if a write failed.
	bool stop()
	{
		if (th_.joinable()) {
			stop_.store(true, std::memory_order_release);
			th_.join();
			f_->barrier();
		}
		return !failed_;
	}
	uint64_t writes() const { return writes_; }

private:
	void run()
	{
		f_->register_thread();
		struct timespec nap = {0, 20 * 1000};
		while (!stop_.load(std::memory_order_acquire) && !failed_) {
			uint64_t total = 0;
			for (auto &p : g_progress)
				total += p.done.load(std::memory_order_relaxed);
			while (writes_ < total / 100 && !failed_) {
				if (!fn_(writes_))
					failed_ = true;
				writes_++;
			}
			f_->quiescent_state();
			f_->thread_offline();
			nanosleep(&nap, nullptr);
			f_->thread_online();
		}
		f_->unregister_thread();
	}

	const perf_flavour *f_;
	WriteFn fn_;
	std::thread th_;
	std::atomic<bool> stop_{false};
	bool failed_ = false;
	uint64_t writes_ = 0;
};

// Writes of the writer variants: replace the value of an existing key with
// a new version, keys taken in the writer's own random order.
Writer::WriteFn
rtab_set_replacer(struct rtab_set *s, size_t n, size_t len)
{
	const Stream &w = stream(n, len, false, kWriterStreamId);
	return [s, &w](uint64_t seq) {
		size_t i = seq % w.m;
		Value v = {i, seq + 1};
		return rtab_set_insert(s, w.at(i), w.len, &v, sizeof(v)) == 1;
	};
}

// ---------------------------------------------------------------------------
// Set lookups.

enum class Impl { Rtab, RteHash, RwUmap };

const char *
impl_name(Impl i)
{
	switch (i) {
	case Impl::Rtab:
		return "rtab";
	case Impl::RteHash:
		return "rte_hash";
	case Impl::RwUmap:
		return "rwlock_umap";
	}
	return "?";
}

struct LookupCfg {
	Impl impl;
	size_t n;
	size_t len;
	bool miss;
	bool bulk;
	bool writer;
};

// Checks what a reader found, then reports items and the writer's share.
void
finish_lookups(benchmark::State &st, bool miss, uint64_t done, uint64_t found,
	       Writer *writer)
{
	if (writer != nullptr && st.thread_index() == 0) {
		bool ok = writer->stop();
		uint64_t total = 0;
		for (auto &p : g_progress)
			total += p.done.load(std::memory_order_relaxed);
		st.counters["writes_pct"] =
			total ? 100.0 * (double)writer->writes() / (double)total : 0;
		if (!ok)
			fail(st, "a concurrent write failed");
	}
	if (found != (miss ? 0 : done))
		fail(st, miss ? "a lookup found a key that is absent"
				      : "a lookup missed a present key");
	st.SetItemsProcessed((int64_t)done);
}

void
bm_set_lookup(benchmark::State &st, LookupCfg c)
{
	const int tid = st.thread_index();
	const Stream &s = stream(c.n, c.len, c.miss, tid);
	uint32_t lens[kBulk];
	std::fill(lens, lens + kBulk, (uint32_t)c.len);
	uint64_t done = 0, found = 0;
	size_t p = 0;
	std::unique_ptr<Writer> writer;

	switch (c.impl) {
	case Impl::Rtab: {
		struct rtab_set *t = rtab_set_table(c.n, c.len, &perf_flavour_memb);
		RcuThread rcu;
		if (c.writer && tid == 0)
			writer = std::make_unique<Writer>(&perf_flavour_memb,
							  rtab_set_replacer(t, c.n, c.len));
		if (!c.bulk) {
			while (st.KeepRunningBatch(kBatch)) {
				for (unsigned i = 0; i < kBatch; i++) {
					urcu_memb_read_lock();
					found += rtab_set_lookup(t, s.at(p), c.len) != nullptr;
					urcu_memb_read_unlock();
					if (++p == s.m)
						p = 0;
				}
				publish_progress(tid, done += kBatch);
			}
		} else {
			const struct rtab_obj *objs[kBulk];
			while (st.KeepRunningBatch(kBatch)) {
				for (unsigned i = 0; i < kBatch; i += kBulk) {
					urcu_memb_read_lock();
					found += rtab_set_lookup_bulk(t, &s.ptrs[p], lens, kBulk, objs);
					urcu_memb_read_unlock();
					if ((p += kBulk) == s.m)
						p = 0;
				}
				publish_progress(tid, done += kBatch);
			}
		}
		finish_lookups(st, c.miss, done, found, writer.get());
		break;
	}
	case Impl::RteHash: {
		RteHash &t = rte_hash_table(c.n, c.len);
		if (c.writer && tid == 0) {
			const Stream &w = stream(c.n, c.len, false, kWriterStreamId);
			const Keys &k = keys(c.n, c.len, false);
			// LF rte_hash replaces the data of a present key atomically.
			// The data stays &values[key index] (readers never read it);
			// the write goes through the full update path all the same.
			RteHash *h = &t;
			auto index_of = std::make_shared<std::unordered_map<std::string_view, size_t>>();
			for (size_t i = 0; i < k.n; i++)
				index_of->emplace(std::string_view(k.at(i), k.len), i);
			writer = std::make_unique<Writer>(&perf_flavour_memb, [h, &w, index_of](uint64_t seq) {
				std::string_view key(w.at(seq % w.m), w.len);
				Value *v = &h->values[index_of->at(key)];
				v->version = seq + 1;
				return rte_hash_add_key_data(h->h, key.data(), v) == 0;
			});
		}
		if (!c.bulk) {
			while (st.KeepRunningBatch(kBatch)) {
				for (unsigned i = 0; i < kBatch; i++) {
					void *data;
					found += rte_hash_lookup_data(t.h, s.at(p), &data) >= 0;
					if (++p == s.m)
						p = 0;
				}
				publish_progress(tid, done += kBatch);
			}
		} else {
			void *data[kBulk];
			while (st.KeepRunningBatch(kBatch)) {
				for (unsigned i = 0; i < kBatch; i += kBulk) {
					uint64_t hits;
					found += (unsigned)rte_hash_lookup_bulk_data(
						t.h, const_cast<const void **>(&s.ptrs[p]),
						kBulk, &hits, data);
					if ((p += kBulk) == s.m)
						p = 0;
				}
				publish_progress(tid, done += kBatch);
			}
		}
		finish_lookups(st, c.miss, done, found, writer.get());
		break;
	}
	case Impl::RwUmap: {
		RwUmap &t = rw_umap_table(c.n, c.len);
		if (c.writer && tid == 0) {
			const Stream &w = stream(c.n, c.len, false, kWriterStreamId);
			writer = std::make_unique<Writer>(&perf_flavour_memb, [&t, &w](uint64_t seq) {
				size_t i = seq % w.m;
				Value v = {i, seq + 1};
				std::string key(w.at(i), w.len);
				std::string val((const char *)&v, sizeof(v));
				t.lock.wrlock();
				auto it = t.m.find(key);
				bool ok = it != t.m.end();
				if (ok)
					it->second = std::move(val);
				t.lock.unlock();
				return ok;
			});
		}
		// One key buffer per reader, so that a lookup copies the name but
		// allocates nothing.
		std::string key(c.len, ' ');
		while (st.KeepRunningBatch(kBatch)) {
			for (unsigned i = 0; i < kBatch; i++) {
				key.assign(s.at(p), c.len);
				t.lock.rdlock();
				found += t.m.find(key) != t.m.end();
				t.lock.unlock();
				if (++p == s.m)
					p = 0;
			}
			publish_progress(tid, done += kBatch);
		}
		finish_lookups(st, c.miss, done, found, writer.get());
		break;
	}
	}
}

// The same lookups as bm_set_lookup (rtab, single, hit) through one
// flavour's read side, with the table created for that flavour.
void
bm_flavour_lookup(benchmark::State &st, const perf_flavour *f, size_t n, bool with_writer)
{
	const size_t len = 16;
	const int tid = st.thread_index();
	const Stream &s = stream(n, len, false, tid);
	struct rtab_set *t = rtab_set_table(n, len, f);
	std::unique_ptr<Writer> writer;
	uint64_t done = 0, found = 0;
	size_t p = 0;

	f->register_thread();
	if (with_writer && tid == 0)
		writer = std::make_unique<Writer>(f, rtab_set_replacer(t, n, len));
	while (st.KeepRunningBatch(kBatch)) {
		found += f->set_lookup_run(t, s.bytes.data(), len, s.m, &p, kBatch);
		publish_progress(tid, done += kBatch);
	}
	// qsbr: stay online until the writer is stopped, then leave.
	finish_lookups(st, false, done, found, writer.get());
	f->unregister_thread();
}

// ---------------------------------------------------------------------------
// Set inserts and deletes: fresh keys into an empty table, all of them per
// iteration; creating and freeing the table are not timed.

void
bm_set_insert(benchmark::State &st, Impl impl, size_t n, bool presized)
{
	const Keys &k = keys(n, 16, false);
	RcuThread rcu;
	for (auto _ : st) {
		st.PauseTiming();
		struct rtab_set *s = nullptr;
		RteHash *h = nullptr;
		RwUmap *m = nullptr;
		if (impl == Impl::Rtab) {
			struct rtab_params p = {};
			p.name = "bench";
			p.initial_size = presized ? n : 0;
			s = rtab_set_create(&p);
			if (s == nullptr)
				die("rtab_set_create", errno);
		} else if (impl == Impl::RteHash) {
			h = make_rte_hash(n, 16);
		} else {
			m = new RwUmap;
			if (presized)
				m->m.reserve(n);
		}
		st.ResumeTiming();
		bool ok = true;
		for (size_t i = 0; i < n; i++) {
			Value v = {i, 0};
			if (s != nullptr) {
				ok &= rtab_set_insert(s, k.at(i), 16, &v, sizeof(v)) == 0;
			} else if (h != nullptr) {
				h->values[i] = v;
				ok &= rte_hash_add_key_data(h->h, k.at(i), &h->values[i]) == 0;
			} else {
				std::string key(k.at(i), 16), val((const char *)&v, sizeof(v));
				m->lock.wrlock();
				ok &= m->m.emplace(std::move(key), std::move(val)).second;
				m->lock.unlock();
			}
		}
		st.PauseTiming();
		if (!ok)
			fail(st, "an insert failed");
		rtab_set_free(s);
		urcu_memb_barrier();
		delete h;
		delete m;
		st.ResumeTiming();
	}
	st.SetItemsProcessed((int64_t)(st.iterations() * n));
}

void
bm_set_delete(benchmark::State &st, Impl impl, size_t n)
{
	const Keys &k = keys(n, 16, false);
	const Stream &order = stream(n, 16, false, kWriterStreamId);
	RcuThread rcu;
	for (auto _ : st) {
		st.PauseTiming();
		struct rtab_set *s = nullptr;
		RteHash *h = nullptr;
		RwUmap *m = nullptr;
		bool ok = true;
		if (impl == Impl::Rtab) {
			struct rtab_params p = {};
			p.name = "bench";
			s = rtab_set_create(&p);
			if (s == nullptr)
				die("rtab_set_create", errno);
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				ok &= rtab_set_insert(s, k.at(i), 16, &v, sizeof(v)) == 0;
			}
			urcu_memb_barrier();
		} else if (impl == Impl::RteHash) {
			h = make_rte_hash(n, 16);
			for (size_t i = 0; i < n; i++)
				ok &= rte_hash_add_key_data(h->h, k.at(i), &h->values[i]) == 0;
		} else {
			m = new RwUmap;
			for (size_t i = 0; i < n; i++)
				m->m.emplace(std::string(k.at(i), 16), std::string(16, 'v'));
		}
		st.ResumeTiming();
		std::string key(16, ' ');
		for (size_t i = 0; i < order.m; i++) {
			if (s != nullptr) {
				ok &= rtab_set_delete(s, order.at(i), 16) == 0;
			} else if (h != nullptr) {
				// LF: a deleted key's slot is recycled only on request,
				// once readers are done with it (here: none).
				int32_t pos = rte_hash_del_key(h->h, order.at(i));
				ok &= pos >= 0 && rte_hash_free_key_with_position(h->h, pos) == 0;
			} else {
				key.assign(order.at(i), 16);
				m->lock.wrlock();
				ok &= m->m.erase(key) == 1;
				m->lock.unlock();
			}
		}
		st.PauseTiming();
		if (!ok)
			fail(st, "a delete failed");
		if (s != nullptr && rtab_set_count(s) != n - order.m)
			fail(st, "rtab_set_count is wrong after the deletes");
		rtab_set_free(s);
		urcu_memb_barrier();
		delete h;
		delete m;
		st.ResumeTiming();
	}
	st.SetItemsProcessed((int64_t)(st.iterations() * order.m));
}

// ---------------------------------------------------------------------------
// Ordered sets.

enum class OImpl { Rtab, RwJudy, RwMap };

const char *
oimpl_name(OImpl i)
{
	switch (i) {
	case OImpl::Rtab:
		return "rtab";
	case OImpl::RwJudy:
		return "rwlock_judysl";
	case OImpl::RwMap:
		return "rwlock_map";
	}
	return "?";
}

void
bm_oset_lookup(benchmark::State &st, OImpl impl, size_t n)
{
	const size_t len = 16;
	const int tid = st.thread_index();
	const Stream &s = stream(n, len, false, tid);
	uint64_t done = 0, found = 0;
	size_t p = 0;

	switch (impl) {
	case OImpl::Rtab: {
		struct rtab_oset *o = rtab_oset_table(n);
		RcuThread rcu;
		while (st.KeepRunningBatch(kBatch)) {
			for (unsigned i = 0; i < kBatch; i++) {
				urcu_memb_read_lock();
				found += rtab_oset_lookup(o, s.at(p), len) != nullptr;
				urcu_memb_read_unlock();
				if (++p == s.m)
					p = 0;
			}
			done += kBatch;
		}
		break;
	}
	case OImpl::RwJudy: {
		RwJudy &t = rw_judy_table(n);
		JudyKey jk;
		while (st.KeepRunningBatch(kBatch)) {
			for (unsigned i = 0; i < kBatch; i++) {
				const uint8_t *key = jk.set(s.at(p), len);
				t.lock.rdlock();
				found += JudySLGet(t.arr, key, PJE0) != nullptr;
				t.lock.unlock();
				if (++p == s.m)
					p = 0;
			}
			done += kBatch;
		}
		break;
	}
	case OImpl::RwMap: {
		RwMap &t = rw_map_table(n);
		while (st.KeepRunningBatch(kBatch)) {
			for (unsigned i = 0; i < kBatch; i++) {
				t.lock.rdlock();
				found += t.m.find(std::string_view(s.at(p), len)) != t.m.end();
				t.lock.unlock();
				if (++p == s.m)
					p = 0;
			}
			done += kBatch;
		}
		break;
	}
	}
	finish_lookups(st, false, done, found, nullptr);
}

// Walks the whole table in key order, kScanPage objects per call, each call
// in its own read-side section (rwlock: read lock); the position is kept
// in a cursor between calls and the walk starts over at the end.
void
bm_oset_scan(benchmark::State &st, OImpl impl, size_t n)
{
	uint64_t items = 0, sum = 0, walk_items = 0;
	bool short_walk = false;
	// Every walk must see every object.
	auto end_walk = [&] {
		short_walk |= walk_items != n;
		walk_items = 0;
	};

	switch (impl) {
	case OImpl::Rtab: {
		struct rtab_oset *o = rtab_oset_table(n);
		RcuThread rcu;
		struct rtab_range all = {};
		auto cur = std::make_unique<struct rtab_cursor>();
		rtab_cursor_init(cur.get());
		const struct rtab_obj *out[kScanPage];
		for (auto _ : st) {
			urcu_memb_read_lock();
			int got = rtab_oset_scan(o, &all, cur.get(), out, kScanPage);
			for (int i = 0; i < got; i++)
				sum += out[i]->value_len;
			urcu_memb_read_unlock();
			if (got < 0) {
				fail(st, "rtab_oset_scan failed");
				break;
			}
			items += (uint64_t)got;
			walk_items += (uint64_t)got;
			if (got == 0) {
				rtab_cursor_init(cur.get());
				end_walk();
			}
		}
		break;
	}
	case OImpl::RwJudy: {
		RwJudy &t = rw_judy_table(n);
		uint8_t cur[RTAB_KEY_MAX + 1] = {0};
		bool started = false;
		for (auto _ : st) {
			unsigned got = 0;
			t.lock.rdlock();
			PPvoid_t pv = started ? JudySLNext(t.arr, cur, PJE0)
					      : JudySLFirst(t.arr, cur, PJE0);
			while (pv != nullptr) {
				sum += *(Word_t *)pv;
				if (++got == kScanPage)
					break;
				pv = JudySLNext(t.arr, cur, PJE0);
			}
			t.lock.unlock();
			started = got != 0;
			if (!started) {
				cur[0] = 0;
				end_walk();
			}
			items += got;
			walk_items += got;
		}
		break;
	}
	case OImpl::RwMap: {
		RwMap &t = rw_map_table(n);
		std::string cur;
		bool started = false;
		for (auto _ : st) {
			unsigned got = 0;
			t.lock.rdlock();
			auto it = started ? t.m.upper_bound(cur) : t.m.begin();
			const std::string *last = nullptr;
			for (; it != t.m.end() && got < kScanPage; ++it, ++got) {
				sum += it->second.size();
				last = &it->first;
			}
			if (last != nullptr)
				cur = *last;
			t.lock.unlock();
			started = got != 0;
			if (!started)
				end_walk();
			items += got;
			walk_items += got;
		}
		break;
	}
	}
	benchmark::DoNotOptimize(sum);
	if (short_walk)
		fail(st, "a walk did not see every object exactly once");
	st.SetItemsProcessed((int64_t)items);
}

void
bm_oset_insert(benchmark::State &st, OImpl impl, size_t n)
{
	const Keys &k = keys(n, 16, false);
	RcuThread rcu;
	for (auto _ : st) {
		bool ok = true;
		if (impl == OImpl::Rtab) {
			st.PauseTiming();
			struct rtab_params p = {};
			p.name = "bench";
			struct rtab_oset *o = rtab_oset_create(&p);
			if (o == nullptr)
				die("rtab_oset_create", errno);
			st.ResumeTiming();
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				ok &= rtab_oset_insert(o, k.at(i), 16, &v, sizeof(v)) == 0;
			}
			st.PauseTiming();
			rtab_oset_free(o);
			urcu_memb_barrier();
			st.ResumeTiming();
		} else if (impl == OImpl::RwJudy) {
			RwJudy t;
			JudyKey jk;
			for (size_t i = 0; i < n; i++) {
				const uint8_t *key = jk.set(k.at(i), 16);
				t.lock.wrlock();
				PPvoid_t pv = JudySLIns(&t.arr, key, PJE0);
				ok &= pv != PPJERR;
				if (pv != PPJERR)
					*(Word_t *)pv = i;
				t.lock.unlock();
			}
			st.PauseTiming(); // ~RwJudy
		} else {
			RwMap t;
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				std::string key(k.at(i), 16), val((const char *)&v, sizeof(v));
				t.lock.wrlock();
				ok &= t.m.emplace(std::move(key), std::move(val)).second;
				t.lock.unlock();
			}
			st.PauseTiming(); // ~RwMap
		}
		if (impl != OImpl::Rtab)
			st.ResumeTiming();
		if (!ok)
			fail(st, "an insert failed");
	}
	st.SetItemsProcessed((int64_t)(st.iterations() * n));
}

// ---------------------------------------------------------------------------
// Bag.

int
count_visit(const struct rtab_obj *, void *arg)
{
	++*(uint64_t *)arg;
	return 0;
}

void
bm_bag_lookup(benchmark::State &st, size_t nkeys)
{
	const int tid = st.thread_index();
	const Stream &s = stream(nkeys, 16, false, tid);
	struct rtab_bag *b = rtab_bag_table(nkeys);
	RcuThread rcu;
	uint64_t done = 0, objs = 0, empty = 0;
	size_t p = 0;
	while (st.KeepRunningBatch(kBatch)) {
		for (unsigned i = 0; i < kBatch; i++) {
			uint64_t got = 0;
			urcu_memb_read_lock();
			rtab_bag_lookup(b, s.at(p), 16, count_visit, &got);
			urcu_memb_read_unlock();
			objs += got;
			empty += got == 0;
			if (++p == s.m)
				p = 0;
		}
		done += kBatch;
	}
	if (empty != 0)
		fail(st, "a bag lookup found no object for a present key");
	st.counters["objs_per_key"] = benchmark::Counter(
		(double)objs / (double)(done ? done : 1), benchmark::Counter::kAvgThreads);
	st.SetItemsProcessed((int64_t)done);
}

void
bm_bag_insert(benchmark::State &st, size_t nkeys)
{
	const Keys &k = keys(nkeys, 16, false);
	RcuThread rcu;
	size_t objs = 0;
	for (auto _ : st) {
		st.PauseTiming();
		struct rtab_params p = {};
		p.name = "bench";
		struct rtab_bag *b = rtab_bag_create(&p);
		if (b == nullptr)
			die("rtab_bag_create", errno);
		st.ResumeTiming();
		objs = bag_fill(b, k);
		st.PauseTiming();
		rtab_bag_free(b);
		urcu_memb_barrier();
		st.ResumeTiming();
	}
	st.SetItemsProcessed((int64_t)(st.iterations() * objs));
}

// ---------------------------------------------------------------------------
// Bytes per object: 16-byte keys, 16-byte values. "heap_*" is the growth of
// the C heap (mallinfo2: in-use bytes of every arena plus mmapped chunks),
// plus DPDK's heap for rte_hash; "lib_*" is what rtab_*_memory() reports.
// The *_overhead counters subtract the 32 bytes of key and value.

size_t
c_heap_in_use()
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

size_t
dpdk_heap_in_use()
{
	size_t total = 0;
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

enum class MemImpl { RtabSet, RtabSetPresized, RtabOset, RtabBag, RteHash, RwUmap, RwMap, RwJudy };

const char *
mem_name(MemImpl i)
{
	switch (i) {
	case MemImpl::RtabSet:
		return "rtab_set";
	case MemImpl::RtabSetPresized:
		return "rtab_set_presized";
	case MemImpl::RtabOset:
		return "rtab_oset";
	case MemImpl::RtabBag:
		return "rtab_bag";
	case MemImpl::RteHash:
		return "rte_hash";
	case MemImpl::RwUmap:
		return "umap";
	case MemImpl::RwMap:
		return "map";
	case MemImpl::RwJudy:
		return "judysl";
	}
	return "?";
}

void
bm_memory(benchmark::State &st, MemImpl impl, size_t n)
{
	// Bag: n objects over n / 2.5 keys.
	const Keys &k = keys(impl == MemImpl::RtabBag ? n * 2 / 5 : n, 16, false);
	RcuThread rcu;
	for (auto _ : st) {
		st.PauseTiming();
		urcu_memb_barrier();
		const size_t heap0 = c_heap_in_use(), dpdk0 = dpdk_heap_in_use();
		st.ResumeTiming();
		size_t objs = n, lib = 0;
		struct rtab_params p = {};
		p.name = "bench";
		std::function<void()> cleanup;
		switch (impl) {
		case MemImpl::RtabSet:
		case MemImpl::RtabSetPresized: {
			p.initial_size = impl == MemImpl::RtabSetPresized ? n : 0;
			struct rtab_set *s = rtab_set_create(&p);
			if (s == nullptr)
				die("rtab_set_create", errno);
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				if (rtab_set_insert(s, k.at(i), 16, &v, sizeof(v)) != 0)
					fail(st, "an insert failed");
			}
			urcu_memb_barrier();
			lib = rtab_set_memory(s);
			objs = rtab_set_count(s);
			cleanup = [s] { rtab_set_free(s); };
			break;
		}
		case MemImpl::RtabOset: {
			struct rtab_oset *o = rtab_oset_create(&p);
			if (o == nullptr)
				die("rtab_oset_create", errno);
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				if (rtab_oset_insert(o, k.at(i), 16, &v, sizeof(v)) != 0)
					fail(st, "an insert failed");
			}
			urcu_memb_barrier();
			lib = rtab_oset_memory(o);
			objs = rtab_oset_count(o);
			cleanup = [o] { rtab_oset_free(o); };
			break;
		}
		case MemImpl::RtabBag: {
			struct rtab_bag *b = rtab_bag_create(&p);
			if (b == nullptr)
				die("rtab_bag_create", errno);
			bag_fill(b, k);
			urcu_memb_barrier();
			lib = rtab_bag_memory(b);
			objs = rtab_bag_count(b);
			cleanup = [b] { rtab_bag_free(b); };
			break;
		}
		case MemImpl::RteHash: {
			RteHash *h = make_rte_hash(n, 16);
			for (size_t i = 0; i < n; i++) {
				h->values[i] = Value{i, 0};
				if (rte_hash_add_key_data(h->h, k.at(i), &h->values[i]) != 0)
					fail(st, "an insert failed");
			}
			cleanup = [h] { delete h; };
			break;
		}
		case MemImpl::RwUmap: {
			auto *m = new RwUmap;
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				m->m.emplace(std::string(k.at(i), 16),
					     std::string((const char *)&v, sizeof(v)));
			}
			cleanup = [m] { delete m; };
			break;
		}
		case MemImpl::RwMap: {
			auto *m = new RwMap;
			for (size_t i = 0; i < n; i++) {
				Value v = {i, 0};
				m->m.emplace(std::string(k.at(i), 16),
					     std::string((const char *)&v, sizeof(v)));
			}
			cleanup = [m] { delete m; };
			break;
		}
		case MemImpl::RwJudy: {
			// JudySL holds a word per key: the 16-byte value is allocated
			// on its own.
			auto *j = new RwJudy;
			auto *vals = new std::vector<Value *>();
			vals->reserve(n);
			JudyKey jk;
			for (size_t i = 0; i < n; i++) {
				PPvoid_t pv = JudySLIns(&j->arr, jk.set(k.at(i), 16), PJE0);
				if (pv == PPJERR)
					die("JudySLIns", ENOMEM);
				Value *v = (Value *)malloc(sizeof(Value));
				*v = Value{i, 0};
				*(Value **)pv = v;
				vals->push_back(v);
			}
			cleanup = [j, vals] {
				for (Value *v : *vals)
					free(v);
				delete vals;
				delete j;
			};
			// The bookkeeping vector is not Judy's: leave it out.
			st.PauseTiming();
			st.counters["bookkeeping_B"] = (double)(vals->capacity() * sizeof(Value *));
			st.ResumeTiming();
			break;
		}
		}
		st.PauseTiming();
		double heap = (double)(c_heap_in_use() - heap0) + (double)(dpdk_heap_in_use() - dpdk0);
		if (impl == MemImpl::RwJudy)
			heap -= st.counters["bookkeeping_B"];
		const double obj = (double)(objs ? objs : 1);
		st.counters["objects"] = (double)objs;
		st.counters["heap_B_per_obj"] = heap / obj;
		st.counters["heap_overhead_B"] = heap / obj - 32.0;
		if (lib != 0) {
			st.counters["lib_B_per_obj"] = (double)lib / obj;
			st.counters["lib_overhead_B"] = (double)lib / obj - 32.0;
		}
		cleanup();
		urcu_memb_barrier();
		st.ResumeTiming();
		st.SetItemsProcessed((int64_t)objs);
	}
}

// ---------------------------------------------------------------------------
// Registration.

template <class... Args>
benchmark::internal::Benchmark *
reg(const std::string &name, void (*fn)(benchmark::State &, Args...), Args... args)
{
	auto label = std::make_shared<const std::string>(name);
	return benchmark::RegisterBenchmark(name.c_str(), [label, fn, args...](benchmark::State &st) {
		t_bench_name = label.get();
		fn(st, args...);
	});
}

void
register_all()
{
	const Sizes &z = g_sizes;
	const std::vector<size_t> set_sizes = {z.small, z.mid, z.large};

	// Set lookups: every implementation, size, key length, hit and miss,
	// single and bulk (the rwlock map has no bulk), read-only.
	for (Impl impl : {Impl::Rtab, Impl::RteHash, Impl::RwUmap}) {
		for (size_t n : set_sizes)
			for (size_t len : {16, 64})
				for (bool miss : {false, true})
					for (bool bulk : {false, true}) {
						if (bulk && impl == Impl::RwUmap)
							continue;
						std::string name = std::string("set_lookup/") + impl_name(impl) +
							"/n:" + size_label(n) + "/k:" + std::to_string(len) +
							(miss ? "/miss" : "/hit") + (bulk ? "/bulk" : "/single") + "/ro";
						reg(name, bm_set_lookup, LookupCfg{impl, n, len, miss, bulk, false})
							->Threads(1)->Threads(2)->UseRealTime();
					}
	}
	// With a concurrent writer at 1%: the largest size, hits.
	for (Impl impl : {Impl::Rtab, Impl::RteHash, Impl::RwUmap})
		for (size_t len : {16, 64})
			for (bool bulk : {false, true}) {
				if (impl != Impl::Rtab && len != 16)
					continue;
				if (bulk && impl == Impl::RwUmap)
					continue;
				std::string name = std::string("set_lookup/") + impl_name(impl) +
					"/n:" + size_label(z.large) + "/k:" + std::to_string(len) +
					"/hit" + (bulk ? "/bulk" : "/single") + "/writer";
				reg(name, bm_set_lookup, LookupCfg{impl, z.large, len, false, bulk, true})
					->Threads(1)->Threads(2)->UseRealTime();
			}

	// RCU flavours: the read side of each, called and inlined.
	for (const perf_flavour *f : {&perf_flavour_memb, &perf_flavour_mb, &perf_flavour_qsbr,
				      &perf_flavour_memb_inline, &perf_flavour_mb_inline,
				      &perf_flavour_qsbr_inline})
		for (bool w : {false, true}) {
			std::string name = std::string("flavour_lookup/") + f->name + "/n:" +
				size_label(z.large) + "/k:16/hit/single" + (w ? "/writer" : "/ro");
			reg(name, bm_flavour_lookup, f, z.large, w)
				->Threads(1)->Threads(2)->UseRealTime();
		}

	// Set inserts and deletes.
	for (Impl impl : {Impl::Rtab, Impl::RteHash, Impl::RwUmap})
		for (bool presized : {false, true}) {
			if (impl == Impl::RteHash && !presized)
				continue; // rte_hash cannot grow
			std::string name = std::string("set_insert/") + impl_name(impl) + "/n:" +
				size_label(z.fill) + "/k:16" + (presized ? "/presized" : "/grow");
			reg(name, bm_set_insert, impl, z.fill, presized)
				->Iterations(1)->UseRealTime();
		}
	for (Impl impl : {Impl::Rtab, Impl::RteHash, Impl::RwUmap}) {
		std::string name = std::string("set_delete/") + impl_name(impl) + "/n:" +
			size_label(z.fill) + "/k:16";
		reg(name, bm_set_delete, impl, z.fill)->Iterations(1)->UseRealTime();
	}

	// Ordered sets.
	for (OImpl impl : {OImpl::Rtab, OImpl::RwJudy, OImpl::RwMap}) {
		reg(std::string("oset_lookup/") + oimpl_name(impl) + "/n:" + size_label(z.oset_mid) +
			    "/k:16/hit/single/ro",
		    bm_oset_lookup, impl, z.oset_mid)
			->Threads(1)->Threads(2)->UseRealTime();
		reg(std::string("oset_lookup/") + oimpl_name(impl) + "/n:" + size_label(z.oset_large) +
			    "/k:16/hit/single/ro",
		    bm_oset_lookup, impl, z.oset_large)
			->Threads(1)->UseRealTime();
		for (size_t n : {z.oset_mid, z.oset_large})
			reg(std::string("oset_scan/") + oimpl_name(impl) + "/n:" + size_label(n) +
				    "/k:16/page:" + std::to_string(kScanPage),
			    bm_oset_scan, impl, n)
				->UseRealTime();
		reg(std::string("oset_insert/") + oimpl_name(impl) + "/n:" + size_label(z.fill) + "/k:16",
		    bm_oset_insert, impl, z.fill)
			->Iterations(1)->UseRealTime();
	}

	// Bag.
	reg("bag_lookup/rtab/keys:" + size_label(z.bag_keys) + "/k:16/fanout:1-4", bm_bag_lookup,
	    z.bag_keys)
		->Threads(1)->Threads(2)->UseRealTime();
	reg("bag_insert/rtab/keys:" + size_label(z.bag_keys) + "/k:16/fanout:1-4", bm_bag_insert,
	    z.bag_keys)
		->UseRealTime();

	// Bytes per object: one run each is enough.
	for (MemImpl impl : {MemImpl::RtabSet, MemImpl::RtabSetPresized, MemImpl::RtabOset,
			     MemImpl::RtabBag, MemImpl::RteHash, MemImpl::RwUmap, MemImpl::RwMap,
			     MemImpl::RwJudy})
		reg(std::string("memory/") + mem_name(impl) + "/n:" + size_label(z.fill) + "/k:16/v:16",
		    bm_memory, impl, z.fill)
			->Iterations(1)->Repetitions(1)->UseRealTime();
}

// Frees every cached table, newest cache first (tables before the keys
// they were built from), before the EAL goes.
void
free_all()
{
	std::lock_guard<std::recursive_mutex> lk(g_cache_mu);
	for (auto it = g_cache_clearers.rbegin(); it != g_cache_clearers.rend(); ++it)
		(*it)();
}

} // namespace

int
main(int argc, char **argv)
{
	// Our own flags go before Google Benchmark sees the rest.
	bool quick = false;
	std::string eal_mem = "1024";
	int out = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rtab_quick") == 0)
			quick = true;
		else if (strncmp(argv[i], "--rtab_eal_mem=", 15) == 0)
			eal_mem = argv[i] + 15;
		else
			argv[out++] = argv[i];
	}
	argc = out;
	argv[argc] = nullptr;
	if (quick)
		g_sizes = kQuickSizes;

	// rte_eal_init pins the calling thread to the main lcore; the benchmark
	// threads inherit the calling thread's affinity, so put it back.
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) {
		perror("sched_getaffinity");
		return 1;
	}
	// 1M 64-byte keys in rte_hash take ~130 MB; several tables are alive
	// at once (perf/README.md).
	std::vector<std::string> eal_args = {argv[0], "--no-huge", "--no-pci", "--no-shconf",
					     "--no-telemetry", "-m", eal_mem,
					     "--log-level=lib.eal:error"};
	std::vector<char *> eal_argv;
	for (auto &a : eal_args)
		eal_argv.push_back(a.data());
	eal_argv.push_back(nullptr);
	if (rte_eal_init((int)eal_args.size(), eal_argv.data()) < 0) {
		fprintf(stderr, "rtab_bench: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus) != 0) {
		fprintf(stderr, "rtab_bench: cannot restore the CPU affinity\n");
		return 1;
	}

	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	benchmark::AddCustomContext("rtab_mode", quick ? "quick" : "full");
	benchmark::AddCustomContext("rtab_eal_mem_mb", eal_mem);
	register_all();
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	// How much of -m the cached tables took (all alive at this point).
	fprintf(stderr, "rtab_bench: DPDK heap in use at the end: %.0f MiB of %s MiB\n",
		(double)dpdk_heap_in_use() / (1 << 20), eal_mem.c_str());
	free_all();
	rte_eal_cleanup();
	if (!g_failures.empty()) {
		fprintf(stderr, "rtab_bench: %zu failed check(s):\n", g_failures.size());
		for (const auto &f : g_failures)
			fprintf(stderr, "  %s\n", f.c_str());
		return 3;
	}
	return 0;
}
