#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the markdown report of one rtab_bench run (called by perf/run).

Reads Google Benchmark's JSON (medians of the repetitions, or single runs),
and prints tables of lookups/s with ratios against the baselines, the
targets met or not, the command, the date and the machine. Exit status 1 if
the JSON holds no benchmark.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

TARGETS_NOTE = "medians on this machine; a quick run's figures mean nothing"


def size_value(label):
    """'64K' -> 65536, '1M' -> 1048576, '1000' -> 1000."""
    mult = {"K": 1 << 10, "M": 1 << 20}
    if label and label[-1] in mult:
        return int(label[:-1]) * mult[label[-1]]
    return int(label)


class Results:
    """The benchmarks of one run, by name (without /real_time, /threads:N,
    /iterations:N, /repeats:N) and thread count."""

    def __init__(self, data):
        self.by_key = {}
        self.errors = []
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            parts, threads = [], int(b.get("threads", 1))
            for p in b.get("run_name", b["name"]).split("/"):
                if p.startswith("threads:"):
                    threads = int(p[len("threads:"):])
                elif p in ("real_time", "process_time") or p.split(":")[0] in (
                        "iterations", "repeats", "min_time"):
                    continue
                else:
                    parts.append(p)
            key = ("/".join(parts), threads)
            if b.get("error_occurred"):
                self.errors.append("%s (threads %d): %s" % (key[0], threads, b.get("error_message")))
                continue
            self.by_key[key] = b

    def __len__(self):
        return len(self.by_key)

    def get(self, name, threads=1, field="items_per_second"):
        b = self.by_key.get((name, threads))
        if b is None or field not in b:
            return None
        return float(b[field])

    def sizes(self, prefix, field_index=2):
        """Distinct size labels of the benchmarks whose names start with
        prefix, in increasing order."""
        labels = set()
        for name, _ in self.by_key:
            if name.startswith(prefix):
                p = name.split("/")[field_index]
                labels.add(p.split(":", 1)[1])
        return sorted(labels, key=size_value)


def mps(v):
    return "—" if v is None else "%.2f" % (v / 1e6)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def rx(r):
    return "—" if r is None else "%.2f×" % r


def num(v, fmt="%.1f"):
    return "—" if v is None else fmt % v


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_describe(root):
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(res, args, data):
    ctx = data.get("context", {})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    set_sizes = res.sizes("set_lookup/")
    large = set_sizes[-1] if set_sizes else "?"
    mid = set_sizes[-2] if len(set_sizes) > 1 else large
    fill = (res.sizes("set_insert/") or ["?"])[-1]
    oset_sizes = res.sizes("oset_lookup/")
    omid = oset_sizes[0] if oset_sizes else "?"

    L = []
    L.append("# rcu_tables benchmarks" + (" — QUICK SMOKE RUN" if args.quick else ""))
    L.append("")
    if args.quick:
        L.append("**A `--quick` run: tiny tables, 10 ms per benchmark. It proves the harness "
                 "runs; its figures are not measurements.**")
        L.append("")
    L.append("- date: %s" % now)
    L.append("- machine: %d CPUs (`nproc`), %s, Linux %s; load average at start %s" % (
        len(os.sched_getaffinity(0)), cpu_model(), platform.release(),
        ", ".join("%.2f" % x for x in ctx.get("load_avg", []))))
    L.append("- source: %s; benchmark build: `buildtype=release` (perf/run's build-perf)" %
             git_describe(args.root))
    L.append("- command: `%s`, which ran `%s` (%s s)" % (args.invocation, args.command, args.seconds))
    try:
        other = float(args.other_cpu) / max(float(args.seconds), 1.0)
        L.append("- other processes on the machine during the run: %.2f CPUs on average "
                 "(%s CPU s)%s%s" % (
                     other, args.other_cpu,
                     "; waited %s s for it to go idle first" % args.waited if args.waited not in ("", "0") else "",
                     " — **a busy machine: the figures are disturbed**" if other >= 0.1 else ""))
    except ValueError:
        pass
    cvs = sorted(float(b["items_per_second"]) for b in data.get("benchmarks", [])
                 if b.get("aggregate_name") == "cv" and "items_per_second" in b)
    if cvs:
        L.append("- spread of the 3 repetitions (coefficient of variation of items/s): median "
                 "%.0f%%, 90th percentile %.0f%% over %d benchmarks%s" % (
                     100 * cvs[len(cvs) // 2], 100 * cvs[int(len(cvs) * 0.9)], len(cvs),
                     " — **noisy: re-run before trusting a ratio near its threshold**"
                     if cvs[len(cvs) // 2] > 0.05 else ""))
    L.append("- figures: millions of items per second (lookups, inserts, deletes, objects "
             "scanned), %s; `T` = reader threads; ratios are rtab ÷ baseline unless stated." %
             ("single runs" if args.quick else "median of 3 repetitions"))
    L.append("- baselines: DPDK 22.11 `rte_hash` (RW_CONCURRENCY_LF, CRC32 hash, sized "
             "for n×1.25); `std::unordered_map` / `std::map` and JudySL behind a "
             "writer-preferring `pthread_rwlock` (read lock per lookup). rte_hash lives in "
             "DPDK's `--no-huge` memory (a memfd on 4 KiB pages: this machine has no "
             "hugepages and shmem THP is off), while rtab's bucket arrays ask for "
             "transparent huge pages; with real hugepages rte_hash would save TLB misses.")
    L.append("")

    # ------------------------------------------------------------------
    # Targets.
    def sl(impl, n, k, hm, mode, rw, t=1):
        return res.get("set_lookup/%s/n:%s/k:%s/%s/%s/%s" % (impl, n, k, hm, mode, rw), t)

    rows = []

    def target(name, measured, value, ok):
        rows.append((name, measured, value,
                     "—" if ok is None else ("**met**" if ok else "**not met**")))

    for mode in ("single", "bulk"):
        a, b = sl("rtab", large, 16, "hit", mode, "ro"), sl("rte_hash", large, 16, "hit", mode, "ro")
        r = ratio(a, b)
        target("set lookup ≥ rte_hash (%s, 16 B, hit, 1T, %s)" % (large, mode),
               "%s vs %s M/s" % (mps(a), mps(b)), rx(r) + " (≥ 1.00×)",
               None if r is None else r >= 1.0)
    for mode in ("single", "bulk"):
        a, b = sl("rtab", large, 16, "hit", mode, "ro", 2), sl("rtab", large, 16, "hit", mode, "ro", 1)
        r = ratio(a, b)
        target("2 readers ≥ 1.8× one (rtab set %s, 16 B, hit, %s)" % (large, mode),
               "%s vs %s M/s" % (mps(a), mps(b)), rx(r) + " (≥ 1.80×)",
               None if r is None else r >= 1.8)
    for mode in ("single", "bulk"):
        for t in (1, 2):
            a, b = sl("rtab", large, 16, "hit", mode, "writer", t), sl("rtab", large, 16, "hit", mode, "ro", t)
            r = ratio(a, b)
            target("reads under a 1%% writer ≥ 0.9× read-only (%s, 16 B, %s, %dT)" % (large, mode, t),
                   "%s vs %s M/s" % (mps(a), mps(b)), rx(r) + " (≥ 0.90×)",
                   None if r is None else r >= 0.9)
    a = res.get("oset_lookup/rtab/n:%s/k:16/hit/single/ro" % omid, 1)
    b = sl("rtab", omid, 16, "hit", "single", "ro")
    r = ratio(a, b)
    target("ordered_set point lookup within 2× of set (%s, 16 B, 1T)" % omid,
           "%s vs %s M/s" % (mps(a), mps(b)), rx(r) + " (≥ 0.50×)", None if r is None else r >= 0.5)
    for var in ("grow", "presized"):
        a = res.get("set_insert/rtab/n:%s/k:16/%s" % (fill, var))
        target("≥ 1M inserts/s (set, %s fresh keys, %s)" % (fill, "default size" if var == "grow" else "presized"),
               "%s M/s" % mps(a), "≥ 1.00 M/s", None if a is None else a >= 1e6)
    for what, field in (("rtab_set_memory()", "lib_overhead_B"), ("heap growth (mallinfo2)", "heap_overhead_B")):
        v = res.get("memory/rtab_set/n:%s/k:16/v:16" % fill, 1, field)
        target("≤ 64 B per object beyond key and value (set, %s, %s)" % (fill, what),
               "%s B" % num(v), "≤ 64 B", None if v is None else v <= 64)

    L.append("## Targets")
    L.append("")
    if args.quick:
        L.append("(Quick run: the verdicts below are not meaningful.)")
        L.append("")
    L.append(table(["target", "measured (rtab vs reference)", "ratio / value", "result"], rows))
    L.append("")

    # ------------------------------------------------------------------
    # Set lookups.
    for t in (1, 2):
        rows = []
        for n in set_sizes:
            for k in (16, 64):
                for hm in ("hit", "miss"):
                    for mode in ("single", "bulk"):
                        a = sl("rtab", n, k, hm, mode, "ro", t)
                        h = sl("rte_hash", n, k, hm, mode, "ro", t)
                        u = sl("rwlock_umap", n, k, hm, mode, "ro", t) if mode == "single" else None
                        row = [n, k, hm, mode, mps(a), mps(h), rx(ratio(a, h)),
                               mps(u) if mode == "single" else "", rx(ratio(a, u)) if mode == "single" else ""]
                        if t == 2:
                            row += [rx(ratio(a, sl("rtab", n, k, hm, mode, "ro", 1))),
                                    rx(ratio(h, sl("rte_hash", n, k, hm, mode, "ro", 1)))]
                        rows.append(row)
        header = ["n", "key B", "lookup", "mode", "rtab", "rte_hash", "rtab/rte_hash",
                  "rwlock umap", "rtab/umap"]
        if t == 2:
            header += ["rtab 2T/1T", "rte_hash 2T/1T"]
        L.append("## Set lookups, %d reader thread%s, read-only (M lookups/s)" % (t, "s" if t > 1 else ""))
        L.append("")
        L.append("`single`: one `rtab_set_lookup` per RCU read-side section; `bulk`: "
                 "`rtab_set_lookup_bulk` of 32 keys per section (rte_hash: "
                 "`rte_hash_lookup_bulk_data` of 32).")
        L.append("")
        L.append(table(header, rows))
        L.append("")

    # ------------------------------------------------------------------
    # Writer.
    rows = []
    for impl in ("rtab", "rte_hash", "rwlock_umap"):
        for k in (16, 64):
            for mode in ("single", "bulk"):
                for t in (1, 2):
                    w = sl(impl, large, k, "hit", mode, "writer", t)
                    if w is None:
                        continue
                    ro = sl(impl, large, k, "hit", mode, "ro", t)
                    pct = res.get("set_lookup/%s/n:%s/k:%s/hit/%s/writer" % (impl, large, k, mode), t, "writes_pct")
                    rows.append([impl, k, mode, t, mps(ro), mps(w), rx(ratio(w, ro)), num(pct, "%.2f")])
    L.append("## Set lookups with a concurrent writer (%s keys, hits; M lookups/s)" % large)
    L.append("")
    L.append("One more thread replaces the values of existing keys, one write per 100 "
             "lookups of the readers (`writes %` is what it achieved). On 2 cores, "
             "2 readers + the writer + liburcu's call_rcu thread share the CPUs.")
    L.append("")
    L.append(table(["impl", "key B", "mode", "T", "read-only", "with writer", "writer/ro", "writes %"], rows))
    L.append("")

    # ------------------------------------------------------------------
    # Flavours.
    rows = []
    fl = sorted({name.split("/")[1] for name, _ in res.by_key if name.startswith("flavour_lookup/")},
                key=lambda f: (f.endswith("-inline"), ["memb", "mb", "qsbr"].index(f.split("-")[0])
                               if f.split("-")[0] in ("memb", "mb", "qsbr") else 9))
    fsize = res.sizes("flavour_lookup/")
    fsize = fsize[-1] if fsize else large
    for f in fl:
        base = "flavour_lookup/%s/n:%s/k:16/hit/single/" % (f, fsize)
        v = {(rw, t): res.get(base + rw, t) for rw in ("ro", "writer") for t in (1, 2)}
        rows.append([f, mps(v[("ro", 1)]), mps(v[("ro", 2)]), mps(v[("writer", 1)]),
                     mps(v[("writer", 2)]), rx(ratio(v[("writer", 2)], v[("ro", 2)]))])
    L.append("## RCU flavours: set lookups at %s, 16 B, hits, single (M lookups/s)" % fsize)
    L.append("")
    L.append("Each flavour's own table (`params.flavor`) and read side: `rcu_read_lock` per "
             "lookup; qsbr reports a quiescent state every 256 lookups. Plain names call "
             "liburcu's functions (a program's default); `-inline` is built with "
             "`_LGPL_SOURCE`. The writer is the same 1% writer as above.")
    L.append("")
    L.append(table(["flavour", "ro 1T", "ro 2T", "writer 1T", "writer 2T", "writer/ro 2T"], rows))
    L.append("")

    # ------------------------------------------------------------------
    # Ordered set.
    rows = []
    for impl in ("rtab", "rwlock_judysl", "rwlock_map"):
        for n in oset_sizes:
            a1 = res.get("oset_lookup/%s/n:%s/k:16/hit/single/ro" % (impl, n), 1)
            a2 = res.get("oset_lookup/%s/n:%s/k:16/hit/single/ro" % (impl, n), 2)
            s1 = sl("rtab", n, 16, "hit", "single", "ro", 1)
            rows.append([impl, n, mps(a1), mps(a2), mps(s1), rx(ratio(a1, s1))])
    L.append("## Ordered set: point lookups (16 B, hits; M lookups/s)")
    L.append("")
    L.append(table(["impl", "n", "1T", "2T", "rtab set 1T (same n)", "1T ÷ rtab set"], rows))
    L.append("")
    rows = []
    scan_sizes = res.sizes("oset_scan/")
    for n in scan_sizes:
        r = res.get("oset_scan/rtab/n:%s/k:16/page:100" % n)
        j = res.get("oset_scan/rwlock_judysl/n:%s/k:16/page:100" % n)
        m = res.get("oset_scan/rwlock_map/n:%s/k:16/page:100" % n)
        rows.append([n, mps(r), mps(j), rx(ratio(r, j)), mps(m), rx(ratio(r, m))])
    L.append("## Ordered set: range scans, pages of 100 (M objects/s)")
    L.append("")
    L.append("The whole table in key order, 100 objects per call, each call in its own "
             "read-side section (rwlock: read lock) resuming from a cursor "
             "(`rtab_oset_scan`; JudySL `JudySLNext`; `std::map::upper_bound`).")
    L.append("")
    L.append(table(["n", "rtab", "JudySL", "rtab/JudySL", "std::map", "rtab/map"], rows))
    L.append("")

    # ------------------------------------------------------------------
    # Inserts and deletes.
    rows = []
    for impl in ("rtab", "rte_hash", "rwlock_umap"):
        for var in ("grow", "presized"):
            v = res.get("set_insert/%s/n:%s/k:16/%s" % (impl, fill, var))
            if v is not None:
                rows.append(["set insert", impl, var, mps(v)])
    for impl in ("rtab", "rte_hash", "rwlock_umap"):
        v = res.get("set_delete/%s/n:%s/k:16" % (impl, fill))
        if v is not None:
            rows.append(["set delete", impl, "", mps(v)])
    for impl in ("rtab", "rwlock_judysl", "rwlock_map"):
        v = res.get("oset_insert/%s/n:%s/k:16" % (impl, fill))
        if v is not None:
            rows.append(["ordered insert", impl, "grow", mps(v)])
    L.append("## Writes: %s fresh 16-byte keys, one thread (M items/s)" % fill)
    L.append("")
    L.append("`grow`: the table starts at its default size; `presized`: created for n. "
             "rwlock baselines take the write lock per insert.")
    L.append("")
    L.append(table(["operation", "impl", "table", "M/s"], rows))
    L.append("")

    # ------------------------------------------------------------------
    # Bag.
    bag = res.sizes("bag_lookup/")
    rows = []
    for n in bag:
        base = "bag_lookup/rtab/keys:%s/k:16/fanout:1-4" % n
        rows.append([n, mps(res.get(base, 1)), mps(res.get(base, 2)),
                     num(res.get(base, 1, "objs_per_key"), "%.2f"),
                     mps(res.get("bag_insert/rtab/keys:%s/k:16/fanout:1-4" % n))])
    L.append("## Bag (1-4 objects per key)")
    L.append("")
    L.append(table(["keys", "lookups 1T (M keys/s)", "lookups 2T", "objects per key",
                    "inserts (M objects/s)"], rows))
    L.append("")

    # ------------------------------------------------------------------
    # Memory.
    rows = []
    for impl in ("rtab_set", "rtab_set_presized", "rtab_oset", "rtab_bag", "rte_hash",
                 "umap", "map", "judysl"):
        base = "memory/%s/n:%s/k:16/v:16" % (impl, fill)
        if (base, 1) not in res.by_key:
            continue
        rows.append([impl, num(res.get(base, 1, "objects"), "%.0f"),
                     num(res.get(base, 1, "heap_B_per_obj")), num(res.get(base, 1, "heap_overhead_B")),
                     num(res.get(base, 1, "lib_overhead_B"))])
    L.append("## Bytes per object (%s objects, 16-byte keys and values)" % fill)
    L.append("")
    L.append("`heap`: growth of the C heap (mallinfo2, every arena) and, for rte_hash, of "
             "DPDK's heap, divided by the objects; `overhead` = that minus the 32 bytes of "
             "key and value; `lib`: `rtab_*_memory()` ÷ count − 32. The bag holds 2.5 objects "
             "per key on average. JudySL's 16-byte values are malloc'ed one by one.")
    L.append("")
    L.append(table(["table", "objects", "heap B/object", "heap overhead B", "lib overhead B"], rows))
    L.append("")

    if res.errors or args.exit_status != 0:
        L.append("## Failures")
        L.append("")
        if args.exit_status != 0:
            L.append("rtab_bench exited %d (3: a result check failed; its stderr names the "
                     "benchmark)." % args.exit_status)
        for e in res.errors:
            L.append("- " + e)
        L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--root", default=".")
    ap.add_argument("--invocation", default="perf/run")
    ap.add_argument("--command", default="")
    ap.add_argument("--seconds", default="?")
    ap.add_argument("--exit-status", type=int, default=0)
    ap.add_argument("--other-cpu", default="?")
    ap.add_argument("--waited", default="0")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    with open(args.json) as f:
        data = json.load(f)
    res = Results(data)
    if len(res) == 0:
        print("report.py: %s holds no benchmark result" % args.json, file=sys.stderr)
        return 1
    text = report(res, args, data)
    tmp = args.md + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
