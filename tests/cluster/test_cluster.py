#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Multi-node tests of synode (suite cluster): real daemons, real frames.

Each test starts its own cluster with tools/synode_cluster.py (the module
behind tools/cluster): 3 nodes n1, n2, n3 (unless said), each in its own
network namespace with a veth on a Linux bridge, DPDK net_af_packet on the
node's end, --down-after-ms 300. It drives the nodes with synodectl and
proves Syn's multi-node behaviour: what one node writes, every node of the
scope has; deaths, node crashes, restarts, netsplits and frame loss end
with every node holding the same tables. Convergence is always checked on
every node's WHOLE tables (registry, groups, members of every group),
polled until equal or a timeout, never on a sample.

At the end of every test the cluster is stopped and the test checks that
nothing is left: no node process, namespace, socket or DPDK runtime dir,
and that each node still running exited 0 on SIGTERM.

Usage: test_cluster.py [unittest names, e.g. Cluster3.test_netsplit_conflict]
Environment: SYNODE, SYNODECTL (the programs under test), CLUSTER_MODULE
(tools/synode_cluster.py), SYNODE_DATAPLANE (0: synode was built without
its dataplane). Exits 77 (skipped), saying why, when not root,
when network namespaces or AF_PACKET sockets are unavailable, or when the
programs or synode's dataplane were not built.
"""
import importlib.util
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MODULE = os.environ.get("CLUSTER_MODULE") or os.path.join(SRC, "tools", "synode_cluster.py")
SYNODE = os.environ.get("SYNODE") or os.path.join(SRC, "build", "tools", "synode")
SYNODECTL = os.environ.get("SYNODECTL") or os.path.join(SRC, "build", "tools", "synodectl")


def load_module():
    spec = importlib.util.spec_from_file_location("synode_cluster", MODULE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


sc = load_module()

DOWN_MS = 300          # --down-after-ms of the nodes: failures seen fast
UP_TIMEOUT = 20.0      # s, for every node to see every other up
CONVERGE_TIMEOUT = 15.0
READY_TIMEOUT = 30.0
WATCH_READY = 10.0
NO_CONNECTOR = "no process-events connector"


def canon_meta(m):
    return m if m is None or isinstance(m, str) else json.dumps(m, sort_keys=True)


def reg_entry(e):
    """A registry entry as a comparable tuple (name, pid, node, meta)."""
    return (e.get("name") if isinstance(e.get("name"), str) else json.dumps(e.get("name")),
            e.get("pid"), e.get("node"), canon_meta(e.get("meta")))


def member_entry(e):
    return (e.get("pid"), e.get("node"), canon_meta(e.get("meta")))


def reg(name, pid, meta=""):
    """The registry entry expected for name -> pid ("NODE/ID")."""
    return (name, pid, pid.split("/")[0], meta)


def mem(pid, meta=""):
    return (pid, pid.split("/")[0], meta)


class Watch:
    """`synodectl --json watch SCOPE ...` on a node, read as it goes."""

    def __init__(self, test, node, scope, *filters, count=None, timeout_ms=120000):
        args = ["watch", scope, *filters]
        if count is not None:
            args += ["--count", count]
        args += ["--timeout", timeout_ms]
        self.node = node
        self.argv = test.c.ctl_argv(node, args)
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        test.children.append(self.p)
        self.events = []
        self.err = b""
        self.cond = threading.Condition()
        end = time.monotonic() + WATCH_READY
        while b"watching scope" not in self.err:
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None:
                self.p.kill()
                out, rest = self.p.communicate()
                raise AssertionError("watch on %s did not start: rc=%s out=%r err=%r"
                                     % (node, self.p.returncode, out, self.err + rest))
            rl, _, _ = select.select([self.p.stderr], [], [], left)
            if rl:
                chunk = os.read(self.p.stderr.fileno(), 4096)
                if chunk:
                    self.err += chunk
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _read_out(self):
        for line in self.p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"unparsable": line.decode("utf-8", "replace")}
            with self.cond:
                self.events.append(ev)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _read_err(self):
        for chunk in iter(lambda: self.p.stderr.read(4096), b""):
            self.err += chunk

    def wait_for(self, pred, timeout, what):
        """The first event for which pred(event) holds; fails after timeout
        with every event seen."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev in self.events:
                    if pred(ev):
                        return ev
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.t_out.is_alive()):
                    raise AssertionError("watch on %s: no event %s in %.1f s; it saw %s "
                                         "(rc=%s, stderr=%r)"
                                         % (self.node, what, timeout,
                                            json.dumps(self.events), self.p.poll(), self.err))
                self.cond.wait(min(left, 0.2))

    def result(self, timeout=30.0):
        """For a watch with --count: waits for its end (exit 0) and returns
        its events."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.t_out.join(5)
        if self.p.returncode != 0:
            raise AssertionError("watch on %s: exit %s, events %s, stderr %r"
                                 % (self.node, self.p.returncode, self.events, self.err))
        return list(self.events)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.t_out.join(5)
        return list(self.events)


class ClusterTest(unittest.TestCase):
    """Base: a cluster in a temporary directory, started in setUp, stopped
    and checked clean in the cleanups; children (sleepers, watches) killed."""

    n = 3
    transport = "af_packet"
    discovery = "peers"
    scopes = ("s",)
    down_after_ms = DOWN_MS

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sncl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.children = []
        self.addCleanup(self.kill_children)
        self.killed = set()     # nodes this test ended on purpose
        # Nodes in this process group: a timeout (meson kills the group)
        # ends them too; the next run sweeps what else is left.
        self.c = sc.Cluster(self.tmp, log=lambda m: print("cluster: " + m, file=sys.stderr),
                            new_session=False)
        self.addCleanup(self.stop_cluster)
        t0 = time.monotonic()
        self.c.start(self.n, transport=self.transport, scopes=list(self.scopes),
                     down_after_ms=self.down_after_ms, synode=SYNODE, synodectl=SYNODECTL,
                     ready_timeout=READY_TIMEOUT, discovery=self.discovery)
        try:
            took = self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        print("cluster of %d (%s) started in %.1f s, all up %.1f s later"
              % (self.n, self.transport, time.monotonic() - t0 - took, took), file=sys.stderr)

    # teardown ---------------------------------------------------------

    def stop_cluster(self):
        problems = []
        nodes = [dict(nd) for nd in self.c.nodes] if self.c.state else []
        for nd in nodes:
            if nd["name"] not in self.killed and not self.c.node_alive(nd):
                problems.append("node %s died during the test (%s)"
                                % (nd["name"], self.c.exit_status(nd)))
        for nd in nodes:
            log = sc.tail(nd["log"], 100000)
            if "runtime error:" in log or "Sanitizer" in log:
                problems.append("node %s: sanitizer report in its log" % nd["name"])
        live = [nd for nd in nodes if self.c.node_alive(nd)]
        if problems:
            problems.append(self.logs())
        self.c.stop()
        for nd in live:
            rc = self.c.exit_codes.get(nd["pid"])
            if rc != 0:
                problems.append("node %s: exit status %s after SIGTERM (0 wanted); log:\n%s"
                                % (nd["name"], rc, sc.tail(nd["log"])))
        # Nothing left behind.
        left_ns = [ns for ns in sc.netns_list() if ns.startswith(self.c.tag)]
        if left_ns:
            problems.append("namespaces left after stop: %s" % left_ns)
        for nd in nodes:
            if nd.get("pid") and sc.alive(nd["pid"], nd["start"]):
                problems.append("node %s (pid %d) runs after stop" % (nd["name"], nd["pid"]))
        socks = [f for f in os.listdir(self.tmp) if f.endswith(".sock")]
        if socks:
            problems.append("sockets left after stop: %s" % socks)
        if os.path.isdir(sc.DPDK_RUN):
            dirs = [d for d in os.listdir(sc.DPDK_RUN) if d.startswith(self.c.tag)]
            if dirs:
                problems.append("DPDK runtime dirs left: %s" % dirs)
        if problems:
            raise AssertionError("\n".join(problems))

    def kill_children(self):
        for p in self.children:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def logs(self, lines=30):
        out = []
        for nd in self.c.nodes if self.c.state else []:
            out.append("---- %s (%s) log tail:\n%s" % (nd["name"], nd["log"],
                                                     sc.tail(nd["log"], lines)))
        return "\n".join(out)

    # helpers ----------------------------------------------------------

    def sleeper(self):
        """A Linux process of this host to register: a `sleep 300` child."""
        p = subprocess.Popen(["sleep", "300"])
        self.children.append(p)
        return p

    def ctl(self, node, *args):
        return self.c.ctl(node, *args)

    def ok(self, node, *args):
        r = self.c.ctl(node, *args)
        self.assertEqual(r.rc, 0, "on %s: %r" % (node, r))
        return r

    def refused(self, node, status, error, *args):
        r = self.c.ctl(node, *args)
        self.assertEqual((r.rc, r.json), (status, {"error": error}), "on %s: %r" % (node, r))
        return r

    def node_names(self):
        return [nd["name"] for nd in self.c.nodes]

    def death_reason(self, node, reason):
        """The reason the owner node gives: it must have the kernel's
        process-events connector (its ports are in a namespace, the node
        is not: synode --netns)."""
        self.assertNotIn(NO_CONNECTOR, sc.tail(self.c.node(node)["log"], 100000),
                         "%s has no process-events connector: exit reasons would be "
                         "\"undefined\"" % node)
        return reason

    def kill_node(self, node):
        self.killed.add(node)
        self.c.kill(node)

    def restart_node(self, node):
        self.c.restart(node, READY_TIMEOUT)
        self.killed.discard(node)

    def snapshot(self, node, scope, groups=True):
        """One node's whole tables of scope: (registry set, {group: member
        set}), or an error string."""
        r = self.c.ctl(node, "registry", scope)
        if r.rc != 0 or not isinstance(r.json, list):
            return "registry: %r" % r
        registry = frozenset(reg_entry(e) for e in r.json)
        if len(registry) != len(r.json):
            return "registry with duplicates: %r" % r.json
        if not groups:
            return registry, None
        g = self.c.ctl(node, "groups", scope)
        if g.rc != 0 or not isinstance(g.json, list):
            return "groups: %r" % g
        members = {}
        for name in g.json:
            m = self.c.ctl(node, "members", scope, name)
            if m.rc != 0 or not isinstance(m.json, list):
                return "members %s: %r" % (name, m)
            members[name] = frozenset(member_entry(e) for e in m.json)
        return registry, members

    def converge(self, scope, registry=None, groups=None, nodes=None,
                 timeout=CONVERGE_TIMEOUT, check_groups=True):
        """Polls every node's whole tables of scope until they are equal (and
        equal to registry / groups when given: a set of reg() tuples, a dict
        group -> set of mem() tuples). Returns the common snapshot."""
        nodes = nodes or [nd["name"] for nd in self.c.running_nodes()]
        want_reg = frozenset(registry) if registry is not None else None
        want_grp = ({k: frozenset(v) for k, v in groups.items()}
                    if groups is not None else None)
        end = time.monotonic() + timeout

        def agree(snaps, want, part):
            if any(isinstance(x, str) for x in snaps.values()):
                return False
            tables = [x[part] for x in snaps.values()]
            if part == 1:
                tables = [json.dumps(sorted((k, sorted(v)) for k, v in t.items()))
                          for t in tables]
                want = (json.dumps(sorted((k, sorted(v)) for k, v in want.items()))
                        if want is not None else None)
            return len(set(tables)) == 1 and (want is None or tables[0] == want)

        while True:
            # The registries first (cheap); the groups once those agree.
            snaps = {nd: self.snapshot(nd, scope, groups=False) for nd in nodes}
            if agree(snaps, want_reg, 0):
                if not check_groups:
                    return next(iter(snaps.values()))
                snaps = {nd: self.snapshot(nd, scope) for nd in nodes}
                if agree(snaps, want_reg, 0) and agree(snaps, want_grp, 1):
                    return next(iter(snaps.values()))
            if time.monotonic() >= end:
                break
            time.sleep(0.1)
        # Final full picture for the message.
        lines = ["scope %s: the nodes' tables did not converge in %.0f s" % (scope, timeout)]
        if want_reg is not None:
            lines.append("wanted registry: %s" % sorted(want_reg))
        if want_grp is not None:
            lines.append("wanted groups: %s" % {k: sorted(v) for k, v in want_grp.items()})
        for nd in nodes:
            s = self.snapshot(nd, scope, groups=check_groups)
            if isinstance(s, str):
                lines.append("%s: %s" % (nd, s))
                continue
            lines.append("%s registry (%d): %s" % (nd, len(s[0]), sorted(s[0])[:40]))
            if want_reg is not None:
                lines.append("   missing %s, extra %s" % (sorted(want_reg - s[0])[:20],
                                                          sorted(s[0] - want_reg)[:20]))
            if check_groups:
                lines.append("%s groups: %s" % (nd, {k: sorted(v) for k, v in
                                                     sorted(s[1].items())[:20]}))
        lines.append(self.logs(15))
        raise AssertionError("\n".join(lines))


class Cluster3(ClusterTest):
    """3 nodes, af_packet, scope s."""

    def test_register_visible_everywhere(self):
        """A registration on any node is in every node's table."""
        procs = {nd: self.sleeper() for nd in self.node_names()}
        want = set()
        for nd, p in procs.items():
            r = self.ok(nd, "register", "s", "svc-" + nd, "--os-pid", p.pid, "--meta",
                        "from " + nd)
            pid = "%s/%d" % (nd, p.pid)
            self.assertEqual(r.json, {"ok": True, "pid": pid}, r)
            want.add(reg("svc-" + nd, pid, "from " + nd))
        self.converge("s", registry=want, groups={})
        for nd in self.node_names():
            for owner, p in procs.items():
                r = self.ok(nd, "lookup", "s", "svc-" + owner)
                self.assertEqual(r.json, {"name": "svc-" + owner, "pid": "%s/%d" % (owner, p.pid),
                                          "node": owner, "meta": "from " + owner},
                                 "lookup on %s" % nd)
            r = self.ok(nd, "registry-count", "s")
            self.assertEqual(r.json, {"count": 3}, "registry-count on %s" % nd)
            r = self.ok(nd, "registry-count", "s", "--node", "n2")
            self.assertEqual(r.json, {"count": 1}, "registry-count --node n2 on %s" % nd)

    def test_update_and_unregister_propagate(self):
        """update (a new meta) and unregister, made on the owner or asked
        from another node, reach every node."""
        p1, p2 = self.sleeper(), self.sleeper()
        a, b = "n1/%d" % p1.pid, "n2/%d" % p2.pid
        self.ok("n1", "register", "s", "one", "--os-pid", p1.pid, "--meta", "v1")
        self.ok("n1", "register", "s", "two", "--os-pid", p1.pid, "--meta", "v1")
        self.ok("n2", "register", "s", "three", "--os-pid", p2.pid, "--meta", "v1")
        self.converge("s", registry={reg("one", a, "v1"), reg("two", a, "v1"),
                                     reg("three", b, "v1")})
        w = Watch(self, "n3", "s", "--name", "one", count=1)
        self.ok("n1", "update", "s", "one", "--meta", "v2")
        # Registering the same pid again updates its meta too.
        self.ok("n2", "register", "s", "three", "--os-pid", p2.pid, "--meta", "v3")
        self.converge("s", registry={reg("one", a, "v2"), reg("two", a, "v1"),
                                     reg("three", b, "v3")})
        ev = w.result()
        self.assertEqual([(e["event"], e["name"], e["pid"], e["meta"], e.get("prev_meta"))
                          for e in ev], [("registry_updated", "one", a, "v2", "v1")],
                         "the update as n3 saw it")
        # Unregister on the owner, and from n3 for a name n1 owns.
        self.ok("n2", "unregister", "s", "three")
        self.converge("s", registry={reg("one", a, "v2"), reg("two", a, "v1")})
        r = self.ok("n3", "unregister", "s", "two")
        self.assertEqual(r.json, {"ok": True}, r)
        self.converge("s", registry={reg("one", a, "v2")})
        self.refused("n2", 1, "undefined", "lookup", "s", "two")
        self.refused("n1", 1, "undefined", "unregister", "s", "three")

    def test_process_death_propagates(self):
        """kill -9 of a registered, joined process: every node drops it,
        and a peer's watch shows the owner's reason."""
        p = self.sleeper()
        keep = self.sleeper()
        pid, kpid = "n1/%d" % p.pid, "n1/%d" % keep.pid
        self.ok("n1", "register", "s", "victim", "--os-pid", p.pid, "--meta", "m")
        self.ok("n1", "register", "s", "survivor", "--os-pid", keep.pid)
        self.ok("n1", "join", "s", "g", "--os-pid", p.pid)
        self.ok("n1", "join", "s", "g", "--os-pid", keep.pid)
        self.converge("s", registry={reg("victim", pid, "m"), reg("survivor", kpid)},
                      groups={"g": {mem(pid), mem(kpid)}})
        w2 = Watch(self, "n2", "s", "--name", "victim", count=1)
        w3 = Watch(self, "n3", "s", "--group", "g", count=1)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        reason = self.death_reason("n1", "signal:KILL")
        ev = w2.result()
        self.assertEqual([(e["event"], e["name"], e["pid"], e["reason"]) for e in ev],
                         [("unregistered", "victim", pid, reason)], "n2's watch")
        ev = w3.result()
        self.assertEqual([(e["event"], e["group"], e["pid"], e["reason"]) for e in ev],
                         [("left", "g", pid, reason)], "n3's watch")
        self.converge("s", registry={reg("survivor", kpid)}, groups={"g": {mem(kpid)}})
        # A plain exit: its code is the reason.
        q = subprocess.Popen(["sh", "-c", "read x; exit 3"], stdin=subprocess.PIPE)
        self.children.append(q)
        qpid = "n2/%d" % q.pid
        self.ok("n2", "register", "s", "quitter", "--os-pid", q.pid)
        self.converge("s", registry={reg("survivor", kpid), reg("quitter", qpid)})
        w1 = Watch(self, "n1", "s", "--name", "quitter", count=1)
        q.stdin.close()
        q.wait(10)
        ev = w1.result()
        self.assertEqual([(e["event"], e["pid"], e["reason"]) for e in ev],
                         [("unregistered", qpid, self.death_reason("n2", "exit:3"))],
                         "n1's watch")
        self.converge("s", registry={reg("survivor", kpid)})

    def test_remote_owner_register(self):
        """register on n2 for a process n1 owns: ok once n1 wrote it, and
        both see it at once; the others soon. The same for join."""
        p = self.sleeper()
        pid = "n1/%d" % p.pid
        r = self.ok("n2", "register", "s", "remote", pid, "--meta", "r")
        self.assertEqual(r.json, {"ok": True, "pid": pid}, r)
        # No polling: read-your-writes on the caller, and the owner wrote
        # before it answered.
        for nd in ("n2", "n1"):
            r = self.ok(nd, "lookup", "s", "remote")
            self.assertEqual(r.json, {"name": "remote", "pid": pid, "node": "n1",
                                      "meta": "r"}, "lookup on %s right after" % nd)
        r = self.ok("n3", "join", "s", "g", pid, "--meta", "j")
        for nd in ("n3", "n1"):
            r = self.ok(nd, "members", "s", "g")
            self.assertEqual(r.json, [{"pid": pid, "node": "n1", "meta": "j"}],
                             "members on %s right after" % nd)
        self.converge("s", registry={reg("remote", pid, "r")}, groups={"g": {mem(pid, "j")}})
        # The name is taken, whoever asks.
        q = self.sleeper()
        self.refused("n3", 3, "taken", "register", "s", "remote", "--os-pid", q.pid)
        self.refused("n2", 3, "taken", "register", "s", "remote", "n3/%d" % q.pid)
        # A process its owner does not know alive is refused by the owner.
        dead = subprocess.Popen(["true"])
        dead.wait()
        self.refused("n2", 3, "not_alive", "register", "s", "ghost", "n1/%d" % dead.pid)
        self.converge("s", registry={reg("remote", pid, "r")}, groups={"g": {mem(pid, "j")}})

    def test_node_kill_purges(self):
        """kill -9 of n3: n1 and n2 drop all n3 owned (reason
        remote_scope_node_down) and see it down; their data stays."""
        p = {nd: self.sleeper() for nd in self.node_names()}
        pid = {nd: "%s/%d" % (nd, p[nd].pid) for nd in p}
        for nd in self.node_names():
            self.ok(nd, "register", "s", "r-" + nd, "--os-pid", p[nd].pid)
            self.ok(nd, "join", "s", "g", "--os-pid", p[nd].pid)
        self.converge("s", registry={reg("r-" + nd, pid[nd]) for nd in pid},
                      groups={"g": {mem(pid[nd]) for nd in pid}})
        w = Watch(self, "n1", "s")
        t0 = time.monotonic()
        self.kill_node("n3")
        for nd in ("n1", "n2"):
            self.c.wait_peer(nd, "n3", up=False, timeout=DOWN_MS / 1000 + 5)
        down_in = time.monotonic() - t0
        self.converge("s", registry={reg("r-n1", pid["n1"]), reg("r-n2", pid["n2"])},
                      groups={"g": {mem(pid["n1"]), mem(pid["n2"])}})
        w.wait_for(lambda e: (e.get("event"), e.get("name"), e.get("pid"), e.get("reason")) ==
                   ("unregistered", "r-n3", pid["n3"], "remote_scope_node_down"), 5,
                   "unregistered r-n3 remote_scope_node_down")
        w.wait_for(lambda e: (e.get("event"), e.get("group"), e.get("pid"), e.get("reason")) ==
                   ("left", "g", pid["n3"], "remote_scope_node_down"), 5,
                   "left g n3 remote_scope_node_down")
        evs = w.stop()
        others = [e for e in evs if e.get("node") != "n3"]
        self.assertEqual(others, [], "n1 lost data that n3 did not own")
        print("n3 seen down after %.2f s (--down-after-ms %d)" % (down_in, DOWN_MS),
              file=sys.stderr)
        r = self.ok("n1", "nodes", "s")
        self.assertNotIn(("n3", "up"), [(x.get("node"), x.get("state")) for x in r.json], r)

    def test_restart_resyncs(self):
        """n3 killed and restarted: it comes back with the others' data
        (also what they wrote while it was down), its old data is gone
        everywhere, and what it registers now reaches everyone."""
        p = {nd: self.sleeper() for nd in self.node_names()}
        pid = {nd: "%s/%d" % (nd, p[nd].pid) for nd in p}
        for nd in self.node_names():
            self.ok(nd, "register", "s", "old-" + nd, "--os-pid", p[nd].pid)
            self.ok(nd, "join", "s", "g-" + nd, "--os-pid", p[nd].pid)
        self.converge("s", registry={reg("old-" + nd, pid[nd]) for nd in pid})
        self.kill_node("n3")
        for nd in ("n1", "n2"):
            self.c.wait_peer(nd, "n3", up=False, timeout=DOWN_MS / 1000 + 5)
        self.ok("n1", "register", "s", "while-down", "--os-pid", p["n1"].pid, "--meta", "wd")
        self.ok("n2", "join", "s", "g-n1", "--os-pid", p["n2"].pid)
        want_reg = {reg("old-n1", pid["n1"]), reg("old-n2", pid["n2"]),
                    reg("while-down", pid["n1"], "wd")}
        want_grp = {"g-n1": {mem(pid["n1"]), mem(pid["n2"])}, "g-n2": {mem(pid["n2"])}}
        self.converge("s", registry=want_reg, groups=want_grp)
        self.restart_node("n3")
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        self.converge("s", registry=want_reg, groups=want_grp)
        # The restarted node serves and spreads new writes.
        self.ok("n3", "register", "s", "new-n3", "--os-pid", p["n3"].pid, "--meta", "n")
        want_reg.add(reg("new-n3", pid["n3"], "n"))
        self.converge("s", registry=want_reg, groups=want_grp)

    def test_netsplit_conflict(self):
        """n1 cut off from n2 and n3; the same name registered on both sides;
        after healing exactly one owner everywhere (the newer registration,
        n2's), and n1, the loser's owner, emits unregistered with reason
        conflict_resolution."""
        p1, p2, p3 = self.sleeper(), self.sleeper(), self.sleeper()
        a, b, c3 = "n1/%d" % p1.pid, "n2/%d" % p2.pid, "n3/%d" % p3.pid
        self.ok("n3", "register", "s", "before", "--os-pid", p3.pid)
        self.converge("s", registry={reg("before", c3)})
        self.c.split(["n1"])
        for obs, peer in (("n1", "n2"), ("n1", "n3"), ("n2", "n1"), ("n3", "n1")):
            self.c.wait_peer(obs, peer, up=False, timeout=DOWN_MS / 1000 + 5)
        self.converge("s", registry=set(), nodes=["n1"])
        self.converge("s", registry={reg("before", c3)}, nodes=["n2", "n3"])
        self.ok("n1", "register", "s", "dup", "--os-pid", p1.pid, "--meta", "side-a")
        time.sleep(0.05)   # n2's is the newer one
        self.ok("n2", "register", "s", "dup", "--os-pid", p2.pid, "--meta", "side-b")
        self.ok("n1", "register", "s", "only-a", "--os-pid", p1.pid)
        # Groups do not conflict: both sides' members stay.
        self.ok("n1", "join", "s", "sg", "--os-pid", p1.pid, "--meta", "a")
        self.ok("n2", "join", "s", "sg", "--os-pid", p2.pid, "--meta", "b")
        self.converge("s", registry={reg("dup", a, "side-a"), reg("only-a", a)},
                      groups={"sg": {mem(a, "a")}}, nodes=["n1"])
        self.converge("s", registry={reg("before", c3), reg("dup", b, "side-b")},
                      groups={"sg": {mem(b, "b")}}, nodes=["n2", "n3"])
        w = Watch(self, "n1", "s", "--name", "dup")
        self.c.heal()
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        want = {reg("before", c3), reg("dup", b, "side-b"), reg("only-a", a)}
        want_grp = {"sg": {mem(a, "a"), mem(b, "b")}}
        self.converge("s", registry=want, groups=want_grp)
        w.wait_for(lambda e: (e.get("event"), e.get("name"), e.get("pid"), e.get("reason")) ==
                   ("unregistered", "dup", a, "conflict_resolution"), 10,
                   "unregistered dup %s conflict_resolution on n1" % a)
        w.stop()
        # And it stays so: no zombie entry comes back.
        time.sleep(3 * DOWN_MS / 1000)
        self.converge("s", registry=want, groups=want_grp, timeout=2)
        self.assertIsNone(p1.poll(), "the loser's process was signalled (no "
                          "--conflict-signal was given)")

    def test_partial_split(self):
        """split n1 --from n2 (nftables on the bridge): n1 and n2 lose each
        other, n3 keeps both; n1 drops n2's data, n3 keeps everything; after
        healing all agree again."""
        p = {nd: self.sleeper() for nd in self.node_names()}
        pid = {nd: "%s/%d" % (nd, p[nd].pid) for nd in p}
        for nd in self.node_names():
            self.ok(nd, "register", "s", "p-" + nd, "--os-pid", p[nd].pid)
        everything = {reg("p-" + nd, pid[nd]) for nd in pid}
        self.converge("s", registry=everything)
        self.c.split(["n1"], ["n2"])
        self.c.wait_peer("n1", "n2", up=False, timeout=DOWN_MS / 1000 + 5)
        self.c.wait_peer("n2", "n1", up=False, timeout=DOWN_MS / 1000 + 5)
        for obs, peer in (("n3", "n1"), ("n3", "n2"), ("n1", "n3"), ("n2", "n3")):
            self.c.wait_peer(obs, peer, up=True, timeout=1)
        self.converge("s", registry={reg("p-n1", pid["n1"]), reg("p-n3", pid["n3"])},
                      nodes=["n1"])
        self.converge("s", registry={reg("p-n2", pid["n2"]), reg("p-n3", pid["n3"])},
                      nodes=["n2"])
        self.converge("s", registry=everything, nodes=["n3"])
        self.ok("n3", "register", "s", "during", "--os-pid", p["n3"].pid)
        self.c.heal()
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        self.converge("s", registry=everything | {reg("during", pid["n3"])})

    def test_groups_across_nodes(self):
        """join, join again (meta), leave and members across the nodes; a
        member's death removes it from all its groups everywhere."""
        p1, p2a, p2b, p3 = self.sleeper(), self.sleeper(), self.sleeper(), self.sleeper()
        a, b1, b2, c3 = ("n1/%d" % p1.pid, "n2/%d" % p2a.pid, "n2/%d" % p2b.pid,
                         "n3/%d" % p3.pid)
        self.ok("n1", "join", "s", "g1", "--os-pid", p1.pid, "--meta", "a")
        self.ok("n2", "join", "s", "g1", "--os-pid", p2a.pid)
        self.ok("n2", "join", "s", "g1", "--os-pid", p2b.pid)
        self.ok("n3", "join", "s", "g1", "--os-pid", p3.pid, "--meta", "c")
        self.ok("n2", "join", "s", "g2", "--os-pid", p2a.pid)
        self.ok("n3", "join", "s", "g3", "--os-pid", p3.pid)
        self.converge("s", registry=set(), groups={
            "g1": {mem(a, "a"), mem(b1), mem(b2), mem(c3, "c")},
            "g2": {mem(b1)}, "g3": {mem(c3)}})
        # Every node lists the members in the same order (by pid).
        orders = {nd: [m["pid"] for m in self.ok(nd, "members", "s", "g1").json]
                  for nd in self.node_names()}
        self.assertEqual(len({tuple(o) for o in orders.values()}), 1,
                         "members of g1 in different orders: %s" % orders)
        for nd in self.node_names():
            self.assertEqual(self.ok(nd, "member-count", "s", "g1").json, {"count": 4}, nd)
            self.assertEqual(self.ok(nd, "member-count", "s", "g1", "--node", "n2").json,
                             {"count": 2}, nd)
            self.assertEqual(self.ok(nd, "group-count", "s").json, {"count": 3}, nd)
        # Join again: new meta. Leave. A remote join (n3 asks for n1's p1).
        self.ok("n1", "join", "s", "g1", "--os-pid", p1.pid, "--meta", "a2")
        self.ok("n2", "leave", "s", "g1", "--os-pid", p2b.pid)
        self.ok("n3", "join", "s", "g2", a, "--meta", "remote")
        self.ok("n3", "leave", "s", "g3", "--os-pid", p3.pid)
        self.converge("s", registry=set(), groups={
            "g1": {mem(a, "a2"), mem(b1), mem(c3, "c")},
            "g2": {mem(b1), mem(a, "remote")}})
        self.refused("n1", 3, "not_in_group", "leave", "s", "g3", "--os-pid", p1.pid)
        for nd in self.node_names():
            r = self.ctl(nd, "is-member", "s", "g1", b2)
            self.assertEqual((r.rc, r.json), (1, {"member": False}), "%s: %r" % (nd, r))
        # p2a dies: it leaves g1 and g2 on every node.
        w = Watch(self, "n1", "s", count=2)
        os.kill(p2a.pid, signal.SIGKILL)
        p2a.wait(10)
        reason = self.death_reason("n2", "signal:KILL")
        ev = w.result()
        self.assertEqual(sorted((e["event"], e["group"], e["pid"], e["reason"]) for e in ev),
                         [("left", "g1", b1, reason), ("left", "g2", b1, reason)],
                         "n1's watch")
        self.converge("s", registry=set(), groups={
            "g1": {mem(a, "a2"), mem(c3, "c")}, "g2": {mem(a, "remote")}})

    def test_status_and_nodes(self):
        """status: every peer up with a protocol version >= 1; nodes SCOPE:
        the scope's other nodes, up."""
        names = self.node_names()
        for nd in names:
            r = self.ok(nd, "status")
            self.assertEqual(r.json.get("node"), nd, r)
            self.assertEqual(r.json.get("scopes"), ["s"], r)
            peers = {p["node"]: p for p in r.json["peers"]}
            self.assertEqual(sorted(peers), sorted(set(names) - {nd}), "peers of %s" % nd)
            for name, p in peers.items():
                self.assertEqual(p.get("state"), "up", "%s sees %s: %r" % (nd, name, p))
                self.assertIsInstance(p.get("version"), int, "%s sees %s: %r" % (nd, name, p))
                self.assertGreaterEqual(p["version"], 1, "%s sees %s: %r" % (nd, name, p))
            r = self.ok(nd, "nodes", "s")
            self.assertIsInstance(r.json, list, r)
            self.assertEqual(sorted((x.get("node"), x.get("state")) for x in r.json),
                             [(o, "up") for o in sorted(set(names) - {nd})],
                             "nodes s on %s: %r" % (nd, r))
            # The text form answers too.
            r = self.c.ctl(nd, "status", json_out=False)
            self.assertEqual(r.rc, 0, r)
        self.refused("n1", 3, "invalid_scope", "nodes", "nope")


class ScopeIsolation(ClusterTest):
    """Scope x served by n1 and n2 only; s by all three."""

    scopes = ("s", "x@1,2")

    def test_scope_isolation(self):
        """n3, outside scope x, sees nothing of it and gets invalid_scope;
        x's data reaches n1 and n2 only, and never lands in s."""
        p1, p3 = self.sleeper(), self.sleeper()
        a = "n1/%d" % p1.pid
        self.assertEqual(self.ok("n3", "scopes").json, ["s"])
        self.ok("n1", "register", "x", "secret", "--os-pid", p1.pid, "--meta", "x-only")
        self.ok("n2", "join", "x", "xg", a)
        self.converge("x", registry={reg("secret", a, "x-only")}, groups={"xg": {mem(a)}},
                      nodes=["n1", "n2"])
        for args in (("registry", "x"), ("lookup", "x", "secret"), ("groups", "x"),
                     ("members", "x", "xg"), ("registry-count", "x"), ("nodes", "x"),
                     ("register", "x", "mine", "--os-pid", p3.pid), ("watch", "x")):
            self.refused("n3", 3, "invalid_scope", *args)
        self.converge("s", registry=set(), groups={})
        r = self.ok("n1", "nodes", "x")
        self.assertEqual([x.get("node") for x in r.json], ["n2"], "nodes x on n1: %r" % r)
        r = self.ok("n1", "nodes", "s")
        self.assertEqual(sorted(x.get("node") for x in r.json), ["n2", "n3"],
                         "nodes s on n1: %r" % r)
        # A process of n3 can be registered in x by a node serving x? No:
        # its owner n3 does not serve x.
        r = self.ctl("n1", "register", "x", "other", "n3/%d" % p3.pid)
        self.assertNotEqual(r.rc, 0, "n3 does not serve x, yet it owns a name there: %r" % r)
        self.converge("x", registry={reg("secret", a, "x-only")}, groups={"xg": {mem(a)}},
                      nodes=["n1", "n2"])


class RunTimeScope(ClusterTest):
    """A scope added at run time on two of the nodes."""

    def test_scope_added_at_run_time(self):
        """add-scope y on n1 and n2: they form y's subcluster (each lists
        the other in `nodes y`), y's data goes between them, and n3, which
        does not serve y, refuses it."""
        p1, p2 = self.sleeper(), self.sleeper()
        a, b = "n1/%d" % p1.pid, "n2/%d" % p2.pid
        self.ok("n1", "register", "s", "early", "--os-pid", p1.pid)
        self.ok("n1", "add-scope", "y")
        self.ok("n1", "register", "y", "y1", "--os-pid", p1.pid)
        self.ok("n2", "add-scope", "y")
        self.ok("n2", "join", "y", "yg", "--os-pid", p2.pid)
        self.converge("y", registry={reg("y1", a)}, groups={"yg": {mem(b)}},
                      nodes=["n1", "n2"])
        for nd, other in (("n1", "n2"), ("n2", "n1")):
            end = time.monotonic() + 5
            while True:
                r = self.ok(nd, "nodes", "y")
                got = [(x.get("node"), x.get("state")) for x in r.json]
                if got == [(other, "up")] or time.monotonic() > end:
                    break
                time.sleep(0.05)
            self.assertEqual(got, [(other, "up")], "nodes y on %s" % nd)
        self.refused("n3", 3, "invalid_scope", "registry", "y")
        self.converge("s", registry={reg("early", a)})


class Loss(ClusterTest):
    """10% random frame loss on the bridge (nftables)."""

    down_after_ms = 1000

    def test_loss_converges(self):
        """n1 and n2 each register 250 names and make 250 joins while the
        bridge drops 10% of the frames: every node ends with all 500
        registrations and 500 memberships, nothing lost."""
        self.c.loss(10)
        self.addCleanup(lambda: self.c.state and self.c.loss(0))
        rules = sc.run(["ip", "netns", "exec", self.c.state["bridge_ns"], "nft", "list",
                        "table", "bridge", "chaos"]).stdout
        self.assertIn("numgen random mod 100 < 10 drop", rules)
        procs = {nd: [self.sleeper() for _ in range(5)] for nd in ("n1", "n2")}
        want_reg, want_grp = set(), {}
        errors = []

        def writer(nd):
            try:
                for k in range(250):
                    p = procs[nd][k % 5]
                    name = "%s-name-%03d" % (nd, k)
                    r = self.c.ctl(nd, "register", "s", name, "--os-pid", p.pid, "--meta",
                                   str(k))
                    if r.rc != 0:
                        errors.append(r)
                        return
                for k in range(50):
                    for p in procs[nd]:
                        r = self.c.ctl(nd, "join", "s", "lg%02d" % k, "--os-pid", p.pid)
                        if r.rc != 0:
                            errors.append(r)
                            return
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        for nd in procs:
            for k in range(250):
                want_reg.add(reg("%s-name-%03d" % (nd, k), "%s/%d" % (nd, procs[nd][k % 5].pid),
                                 str(k)))
            for k in range(50):
                want_grp.setdefault("lg%02d" % k, set()).update(
                    mem("%s/%d" % (nd, p.pid)) for p in procs[nd])
        t0 = time.monotonic()
        threads = [threading.Thread(target=writer, args=(nd,)) for nd in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [], "writes failed")
        wrote = time.monotonic() - t0
        self.converge("s", registry=want_reg, groups=want_grp, timeout=90)
        retx = 0
        for nd in self.node_names():
            for peer in (self.c.peer_states(nd) or {}).values():
                retx += peer.get("retransmits", 0) if isinstance(peer.get("retransmits"),
                                                                int) else 0
        print("1000 writes in %.1f s, converged %.1f s after the first, with 10%% loss "
              "(%d retransmits in all)" % (wrote, time.monotonic() - t0, retx), file=sys.stderr)
        self.assertEqual(sum(len(v) for v in want_grp.values()), 500)
        self.assertEqual(len(want_reg), 500)


class Memif(ClusterTest):
    """3 nodes over a full mesh of memif pairs (no namespaces)."""

    transport = "memif"

    def test_memif_cluster(self):
        """Over memif: registrations and joins reach every node, and a
        death reaches them with its reason (these nodes run in the initial
        network namespace: the owner knows the reason)."""
        p = {nd: self.sleeper() for nd in self.node_names()}
        pid = {nd: "%s/%d" % (nd, p[nd].pid) for nd in p}
        for nd in self.node_names():
            self.ok(nd, "register", "s", "m-" + nd, "--os-pid", p[nd].pid)
            self.ok(nd, "join", "s", "mg", "--os-pid", p[nd].pid)
        self.converge("s", registry={reg("m-" + nd, pid[nd]) for nd in pid},
                      groups={"mg": {mem(pid[nd]) for nd in pid}})
        self.assertNotIn(NO_CONNECTOR, sc.tail(self.c.node("n2")["log"], 100000),
                         "n2 runs in the initial namespace, yet has no connector")
        w = Watch(self, "n3", "s", count=2)
        os.kill(p["n2"].pid, signal.SIGKILL)
        p["n2"].wait(10)
        ev = w.result()
        self.assertEqual(sorted((e["event"], e["pid"], e["reason"]) for e in ev),
                         [("left", pid["n2"], "signal:KILL"),
                          ("unregistered", pid["n2"], "signal:KILL")], "n3's watch")
        self.converge("s", registry={reg("m-n1", pid["n1"]), reg("m-n3", pid["n3"])},
                      groups={"mg": {mem(pid["n1"]), mem(pid["n3"])}})

        # n2 is a memif server (of n3) and a client (of n1): killed and
        # restarted, it comes back on both, and resyncs.
        self.kill_node("n2")
        self.converge("s", registry={reg("m-n1", pid["n1"]), reg("m-n3", pid["n3"])},
                      groups={"mg": {mem(pid["n1"]), mem(pid["n3"])}}, nodes=["n1", "n3"])
        self.restart_node("n2")
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("after n2's restart: %s\n%s" % (e, self.logs()))
        self.converge("s", registry={reg("m-n1", pid["n1"]), reg("m-n3", pid["n3"])},
                      groups={"mg": {mem(pid["n1"]), mem(pid["n3"])}})


class Broadcast(ClusterTest):
    """Nodes given no peer find each other by broadcast on the segment."""
    discovery = "broadcast"

    def test_broadcast_discovery(self):
        """Every node sees the two others up (wait_up in setUp), and a
        registration on one is in every table."""
        for nd in self.node_names():
            r = self.ok(nd, "--json", "nodes", "s")
            self.assertEqual(sorted(p["node"] for p in r.json),
                             sorted(x for x in self.node_names() if x != nd), r)
        p = self.sleeper()
        pid = "n3/%d" % p.pid
        self.ok("n3", "register", "s", "found", "--os-pid", p.pid)
        self.converge("s", registry={reg("found", pid, "")}, groups={})


class Cleanup(ClusterTest):
    """tools/cluster's promise: stop removes everything, even when the
    state file is lost (a start that died half way)."""

    def test_stop_without_state(self):
        """The cluster's state file gone: stop still ends every node (found
        by their DPDK --file-prefix, which holds the cluster's tag) and
        removes the namespaces; the teardown checks nothing is left."""
        nodes = [dict(nd) for nd in self.c.nodes]
        os.unlink(self.c.state_path)
        fresh = sc.Cluster(self.tmp)
        self.assertIsNone(fresh.state)
        done = fresh.stop()
        self.assertTrue(any("stray" in d for d in done), done)
        for nd in nodes:
            self.assertFalse(sc.alive(nd["pid"], nd["start"]), "%s still runs" % nd["name"])
            self.killed.add(nd["name"])
        self.assertEqual([ns for ns in sc.netns_list() if ns.startswith(self.c.tag)], [])
        self.c.state = None  # stopped already; the teardown checks


# -- forwarder (issue 5) ------------------------------------------------------

FWD_FAULTS = "loss=10,dup=5,reorder=20,delay=1000,jitter=500,corrupt=0.1"
FWD_PROCS = 10        # OS processes per node
FWD_NAMES = 200       # registrations per process
FWD_GROUPS = 134      # joins per process (one in each group)


class Forward(ClusterTest):
    """3 nodes, each with one memif port, all through synode-forward (a
    seeded hub that loses, duplicates, reorders, delays and corrupts
    frames). The forwarder's seed is printed: SYNODE_FORWARD_SEED=N replays
    its decisions (the same seed and input order: the same faults)."""

    transport = "forward"
    down_after_ms = 1000

    def setUp(self):
        fwd = os.environ.get("SYNODE_FORWARD") or os.path.join(SRC, "build", "tools",
                                                                "synode-forward")
        if not os.access(fwd, os.X_OK):
            self.skipTest("synode-forward not built (%s)" % fwd)
        # Runs after the cluster's stop (cleanups run last first).
        self.addCleanup(self.forwarder_exited_cleanly)
        super().setUp()
        self.fw_pid = self.c.state["forward"]["pid"]

    def forwarder_exited_cleanly(self):
        pid = getattr(self, "fw_pid", None)
        if pid is not None:
            self.assertEqual(self.c.exit_codes.get(pid), 0,
                             "synode-forward's exit status after SIGTERM")

    def test_faulty_network_converges(self):
        """10% loss, 5% duplication, 20% reordering, 1 ms +- 0.5 ms delay,
        0.1% corruption: 3 x 10 processes each register 200 names and join
        134 groups (10,020 writes), a third of the processes killed as soon
        as their writes are done, while the others' go on. Every node ends
        with the same whole tables, exactly the survivors' names and
        memberships: nothing lost, no zombie (a dead process holds nothing
        anywhere). The forwarder's counters prove each fault happened."""
        fw = self.c.state["forward"]
        print("forwarder seed %d (replay: SYNODE_FORWARD_SEED=%d)" % (fw["seed"], fw["seed"]),
              file=sys.stderr)
        self.c.set_faults(FWD_FAULTS)
        before = self.c.forward_counters()
        nodes = self.node_names()
        procs = {nd: [self.sleeper() for _ in range(FWD_PROCS)] for nd in nodes}
        dying = set(range(1, FWD_PROCS, 3))      # 1, 4, 7: 9 deaths in all
        dead, errors = set(), []

        def pid_of(nd, p):
            return "%s/%d" % (nd, p.pid)

        def writer(nd):
            try:
                for k, p in enumerate(procs[nd]):
                    for j in range(FWD_NAMES):
                        r = self.c.ctl(nd, "register", "s", "%s-p%d-%03d" % (nd, k, j),
                                       "--os-pid", p.pid)
                        if r.rc != 0:
                            errors.append(r)
                            return
                    for g in range(FWD_GROUPS):
                        r = self.c.ctl(nd, "join", "s", "g%03d" % g, "--os-pid", p.pid)
                        if r.rc != 0:
                            errors.append(r)
                            return
                    if k in dying:
                        # Its writes may still be on the wire: the death
                        # races them.
                        os.kill(p.pid, signal.SIGKILL)
                        p.wait(10)
                        dead.add(pid_of(nd, p))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        want_reg, want_grp = set(), {}
        for nd in nodes:
            for k, p in enumerate(procs[nd]):
                if k in dying:
                    continue
                for j in range(FWD_NAMES):
                    want_reg.add(reg("%s-p%d-%03d" % (nd, k, j), pid_of(nd, p)))
                for g in range(FWD_GROUPS):
                    want_grp.setdefault("g%03d" % g, set()).add(mem(pid_of(nd, p)))
        t0 = time.monotonic()
        threads = [threading.Thread(target=writer, args=(nd,)) for nd in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(150)
        self.assertEqual(errors, [], "writes failed (forwarder seed %d)" % fw["seed"])
        wrote = time.monotonic() - t0
        self.assertEqual(len(dead), 3 * len(dying))
        try:
            snap = self.converge("s", registry=want_reg, groups=want_grp, timeout=90)
        except AssertionError as e:
            raise AssertionError("forwarder seed %d (replay: SYNODE_FORWARD_SEED=%d)\n%s"
                                 % (fw["seed"], fw["seed"], e))
        took = time.monotonic() - t0
        # No zombie: no trace of a dead process in the common tables.
        self.assertEqual({e[1] for e in snap[0]} & dead, set())
        self.assertEqual({m[0] for ms in snap[1].values() for m in ms} & dead, set())
        self.assertEqual(len(want_reg), 3 * (FWD_PROCS - len(dying)) * FWD_NAMES)
        after = self.c.forward_counters()
        diff = {k: after[k] - before.get(k, 0) for k in after if k != "seed"}
        retx = 0
        for nd in nodes:
            for peer in (self.c.peer_states(nd) or {}).values():
                if isinstance(peer.get("retransmits"), int):
                    retx += peer["retransmits"]
        print("%d writes (%d deaths) in %.1f s, converged %.1f s after the first; "
              "forwarder (seed %d) during the run: %s; %d retransmits"
              % (3 * FWD_PROCS * (FWD_NAMES + FWD_GROUPS), len(dead), wrote, took,
                 fw["seed"], " ".join("%s=%d" % kv for kv in sorted(diff.items())), retx),
              file=sys.stderr)
        for fault in ("lost", "duplicated", "reordered", "delayed", "corrupted"):
            self.assertGreater(diff.get(fault, 0), 0, "the forwarder did no %s" % fault)

    def test_partition_at_run_time(self):
        """The forwarder's faults changed at run time (tools/cluster faults):
        cut=n1-n3 cuts exactly those two (n2 still sees both), a bad spec is
        refused and changes nothing, and no faults heals: every table
        converges, with what n1 registered during the cut."""
        fw = self.c.state["forward"]
        print("forwarder seed %d" % fw["seed"], file=sys.stderr)
        self.c.set_faults("cut=n1-n3")
        self.c.wait_peer("n1", "n3", up=False, timeout=10)
        self.c.wait_peer("n3", "n1", up=False, timeout=10)
        with self.assertRaises(sc.ClusterError):
            self.c.set_faults("loss=200")
        self.assertEqual((self.c.state["forward"]["faults"],
                          self.c.state["forward"]["port_spec"]), ("cut=n1-n3", "cut=0-2"))
        for a, b in (("n1", "n2"), ("n2", "n1"), ("n2", "n3"), ("n3", "n2")):
            self.assertEqual(self.c.peer_states(a)[b]["state"], "up", "%s sees %s" % (a, b))
        p = self.sleeper()
        pid = "n1/%d" % p.pid
        self.ok("n1", "register", "s", "during-cut", "--os-pid", p.pid)
        self.converge("s", registry={reg("during-cut", pid)}, nodes=["n1", "n2"],
                      check_groups=False)
        cut = self.c.forward_counters()["cut"]
        self.assertGreater(cut, 0)
        self.c.set_faults("")
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("after the cut healed: %s\n%s" % (e, self.logs()))
        self.converge("s", registry={reg("during-cut", pid)}, groups={})


# -- hostile frames (issue 5) -------------------------------------------------

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
CLONE_NEWNET = 0x40000000
UDP_PORT = 4370             # the nodes' (synode's default)
ATTACKER_MAC = bytes.fromhex("02deadbeef01")
FRAME_HDR = 44              # dataplane/dp_frame.h
FRAME_F_MAC = 0x01
FRAME_MAC_LEN = 16


def ns_packet_sockets(ns, ifaces):
    """{iface: AF_PACKET socket bound to iface in network namespace ns}.
    Made by a thread that enters ns (setns moves only the calling thread;
    a socket stays in the namespace it was made in) and then ends."""
    out = {}

    def work():
        import ctypes
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
            finally:
                os.close(fd)
            for iface in ifaces:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                s.bind((iface, 0))
                out[iface] = s
        except OSError as e:
            out["error"] = e

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if "error" in out:
        for s in out.values():
            if isinstance(s, socket.socket):
                s.close()
        raise out["error"]
    return out


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return (~total) & 0xffff


def ip_frame(dst_mac, src_mac, src_ip, dst_ip, ip_payload, ip_total=None, frag=0,
             ident=1):
    """An Ethernet + IPv4 (protocol UDP) frame, header checksum right;
    ip_total overrides the total length, frag is the flags + fragment
    offset field."""
    total = ip_total if ip_total is not None else 20 + len(ip_payload)
    ip = (b"\x45\x00" + (total & 0xffff).to_bytes(2, "big") + ident.to_bytes(2, "big") +
          frag.to_bytes(2, "big") + b"\x40\x11\0\0" + socket.inet_aton(src_ip) +
          socket.inet_aton(dst_ip))
    ip = ip[:10] + csum(ip).to_bytes(2, "big") + ip[12:]
    return dst_mac + src_mac + ETH_P_IP.to_bytes(2, "big") + ip + ip_payload


def udp_datagram(src_ip, dst_ip, payload, udp_len=None):
    """A UDP header and payload to and from UDP_PORT, checksum right unless
    udp_len overrides the length (then no checksum: 0)."""
    ulen = udp_len if udp_len is not None else 8 + len(payload)
    udp = (UDP_PORT.to_bytes(2, "big") + UDP_PORT.to_bytes(2, "big") +
           (ulen & 0xffff).to_bytes(2, "big") + b"\0\0" + payload)
    if udp_len is None:
        c = csum(socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) + b"\0\x11" +
                 len(udp).to_bytes(2, "big") + udp) or 0xffff
        udp = udp[:6] + c.to_bytes(2, "big") + udp[8:]
    return udp


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, payload, ip_total=None, udp_len=None):
    """An Ethernet + IPv4 + UDP frame to UDP_PORT (see the two above)."""
    return ip_frame(dst_mac, src_mac, src_ip, dst_ip,
                    udp_datagram(src_ip, dst_ip, payload, udp_len), ip_total)


def parse_udp(frame):
    """(src ip, dst ip, UDP payload) of an IPv4/UDP frame to UDP_PORT, or None."""
    if len(frame) < 42 or frame[12:14] != ETH_P_IP.to_bytes(2, "big") or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0f) * 4
    udp = frame[14 + ihl:]
    if len(udp) < 8 or int.from_bytes(udp[2:4], "big") != UDP_PORT:
        return None
    ulen = int.from_bytes(udp[4:6], "big")
    return socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]), udp[8:ulen]


def sync_register_msg(scope, name, pid_id):
    """A SYNC_REGISTER wire message (control/sn_wire.h), its pid the
    sender's, reason normal, no meta."""
    body = (bytes([len(scope)]) + scope.encode() + len(name).to_bytes(2, "little") +
            name.encode() + b"\0" + pid_id.to_bytes(8, "little") +
            (1763700000000000000).to_bytes(8, "little") + (1).to_bytes(4, "little") +
            b"\0" + b"\0\0")
    return bytes([3, 0]) + len(body).to_bytes(2, "little") + body


class HostileFrames(ClusterTest):
    """Frames an attacker (or a broken host) puts on the segment, sent raw
    (AF_PACKET) on the bridge's port of each node, so that they reach it as
    if from the wire: truncated, oversized, random, right header with a
    garbage body, real frames captured and replayed, frames with the MAC
    flag and a wrong tag carrying a forged registration."""

    def test_hostile_frames(self):
        """After the barrage every node runs, sees its peers up without
        having seen them go down, and holds the very tables it held
        before (nothing forged got in); the frames from a peer's address
        that the decoder must refuse are counted in that peer's drops; a
        registration made afterwards still reaches every node."""
        seed = int(os.environ.get("HOSTILE_SEED") or time.time_ns() % (1 << 30))
        rnd = random.Random(seed)
        print("hostile frames: seed %d (HOSTILE_SEED=%d makes the same frames)"
              % (seed, seed), file=sys.stderr)
        st = self.c.require()
        nodes = list(self.c.nodes)
        names = [nd["name"] for nd in nodes]
        ports = {nd["name"]: nd["bridge_port"] for nd in nodes}
        socks = ns_packet_sockets(st["bridge_ns"], list(ports.values()))
        self.addCleanup(lambda: [s.close() for s in socks.values()])
        macs = {}
        for nd in nodes:
            p = sc.run(["ip", "-n", nd["netns"], "-j", "link", "show", nd["veth"]])
            macs[nd["name"]] = bytes.fromhex(json.loads(p.stdout)[0]["address"]
                                             .replace(":", ""))
        ips = {nd["name"]: nd["ip"] for nd in nodes}
        stranger = ips["n1"].rsplit(".", 1)[0] + ".200"

        # Capture what each node sends while tables spread: real frames.
        captured = {nd: [] for nd in names}     # by sender: (dst ip, eth frame)
        stop = threading.Event()

        def capture():
            while not stop.is_set():
                rl, _, _ = select.select(list(socks.values()), [], [], 0.05)
                for s in rl:
                    fr, addr = s.recvfrom(65535)
                    if addr[2] == socket.PACKET_OUTGOING:
                        continue
                    u = parse_udp(fr)
                    sender = next((n for n, ip in ips.items() if u and ip == u[0]), None)
                    if sender and u[2][:4] == b"SYND":
                        captured[sender].append((u[1], fr))

        t = threading.Thread(target=capture, daemon=True)
        t.start()
        try:
            # Tables to keep: names and members on every node.
            procs = {nd: self.sleeper() for nd in names}
            for nd, p in procs.items():
                self.ok(nd, "register", "s", "keep-" + nd, "--os-pid", p.pid, "--meta", "m")
                self.ok(nd, "join", "s", "g", "--os-pid", p.pid)
            time.sleep(0.3)
        finally:
            stop.set()
            t.join(5)
        before = self.converge("s", registry={reg("keep-" + nd, "%s/%d" % (nd, p.pid), "m")
                                              for nd, p in procs.items()},
                               groups={"g": {mem("%s/%d" % (nd, p.pid))
                                             for nd, p in procs.items()}})
        status0 = {nd: self.ok(nd, "status").json for nd in names}
        logs0 = {nd["name"]: os.path.getsize(nd["log"]) for nd in nodes}

        counted = {nd: 0 for nd in names}   # frames the decoder must refuse
        sent = replayed = 0
        for i, target in enumerate(names):
            peer = names[(i + 1) % len(names)]   # whose address the frames take
            port = socks[ports[target]]
            dmac, smac = macs[target], ATTACKER_MAC
            real = [fr for dst, fr in captured[peer] if dst == ips[target]]
            data = [fr for fr in real if parse_udp(fr)[2][5] == 2 and
                    int.from_bytes(parse_udp(fr)[2][40:42], "little") > 0]
            self.assertTrue(data, "no DATA frame from %s to %s captured (%d frames)"
                            % (peer, target, len(real)))
            model = parse_udp(data[-1])[2]
            # The seq the target expects next from the peer: past the last
            # segment captured (no message goes between them after that).
            next_seq = max((int.from_bytes(parse_udp(fr)[2][32:36], "little") +
                            int.from_bytes(parse_udp(fr)[2][40:42], "little"))
                           for fr in data) & 0xffffffff
            frames = []

            def bad(payload, src=ips[peer]):
                frames.append(udp_frame(dmac, smac, src, ips[target], payload))
                if src == ips[peer]:
                    counted[target] += 1

            # Truncated: a real frame cut anywhere short of its end.
            for cut in sorted({0, 1, 4, 5, 20, FRAME_HDR - 1, FRAME_HDR, FRAME_HDR + 1,
                               FRAME_HDR + 3, len(model) - 1} |
                              {rnd.randrange(len(model)) for _ in range(10)}):
                bad(model[:cut])
            # Truncated below UDP: IP or UDP lengths beyond the bytes.
            full = udp_frame(dmac, smac, ips[peer], ips[target], model)
            frames.append(full[:14 + 20 + 4])
            frames.append(full[:-5])
            frames.append(udp_frame(dmac, smac, ips[peer], ips[target], model,
                                    udp_len=len(model) + 8 + 100))
            # Oversized: lengths claiming 64 KiB, fragments of a 3000-byte
            # datagram, a full-MTU payload whose segment claims 65535 bytes,
            # a header counting 65535 segments.
            frames.append(udp_frame(dmac, smac, ips[peer], ips[target], model,
                                    ip_total=65535))
            frames.append(udp_frame(dmac, smac, ips[peer], ips[target], model,
                                    udp_len=65535))
            dgram = udp_datagram(ips[peer], ips[target],
                                 model[:FRAME_HDR] + rnd.randbytes(2900))
            frames.append(ip_frame(dmac, smac, ips[peer], ips[target], dgram[:1480],
                                   frag=0x2000, ident=77))
            frames.append(ip_frame(dmac, smac, ips[peer], ips[target], dgram[1480:],
                                   frag=1480 // 8, ident=77))
            huge = bytearray(model[:FRAME_HDR] + b"\xff\xff\x00" + bytes(1472 - FRAME_HDR - 3))
            huge[40:42] = (1).to_bytes(2, "little")
            bad(bytes(huge))
            many = bytearray(model[:FRAME_HDR] + b"\x01\x00\x00x" * 300)
            many[40:42] = (0xffff).to_bytes(2, "little")
            bad(bytes(many))
            # Random bytes: as Ethernet payloads, as UDP payloads, and after
            # a right magic and version.
            for _ in range(40):
                n = rnd.randrange(1, 1480)
                frames.append(dmac + smac + ETH_P_IP.to_bytes(2, "big") +
                              rnd.randbytes(n))
            for _ in range(40):
                n = rnd.randrange(0, 1472)
                payload = rnd.randbytes(n)
                if payload[:4] == b"SYND":
                    payload = b"X" + payload[1:]
                bad(payload)
            for _ in range(20):
                bad(b"SYND\x01" + rnd.randbytes(FRAME_HDR - 5) +
                    b"\xff" * rnd.randrange(0, 50), src=stranger)
            # Right header (the peer's sessions, counter, seq), garbage body:
            # a first segment longer than the frame, so never whole.
            for _ in range(20):
                n = rnd.randrange(3, 1000)
                body = bytearray(rnd.randbytes(n))
                body[0:2] = (n + 1 + rnd.randrange(1000)).to_bytes(2, "little")
                hdr = bytearray(model[:FRAME_HDR])
                hdr[40:42] = (1 + rnd.randrange(5)).to_bytes(2, "little")
                bad(bytes(hdr) + bytes(body))
            # The MAC flag with a wrong tag, around a forged registration
            # (valid segments), its counter ahead of the real one, its seq
            # the one expected next (and a few around it): without the MAC
            # check it would be taken.
            for k in range(10):
                msg = sync_register_msg("s", "forged-%s" % target, 4242 + k)
                hdr = bytearray(model[:FRAME_HDR])
                hdr[6] = (hdr[6] | FRAME_F_MAC) & 0x03
                hdr[7] = 1
                hdr[8:16] = (int.from_bytes(hdr[8:16], "little") + 100 + k).to_bytes(
                    8, "little")
                hdr[32:36] = ((next_seq + k - 2) & 0xffffffff).to_bytes(4, "little")
                hdr[40:42] = (1).to_bytes(2, "little")
                bad(bytes(hdr) + len(msg).to_bytes(2, "little") + b"\0" + msg +
                    rnd.randbytes(FRAME_MAC_LEN))
            # Well-formed frames from an address that is no peer: a HELLO
            # (unicast: no discovery) and the real DATA frame, as they are.
            hello = (b"SYND\x01\x01\x00\x00" + (1).to_bytes(8, "little") +
                     rnd.randrange(1, 1 << 64).to_bytes(8, "little") + bytes(20) +
                     (1).to_bytes(2, "little") + (1).to_bytes(2, "little") +
                     UDP_PORT.to_bytes(2, "little") + b"\x08intruder")
            for payload in (hello, model):
                frames.append(udp_frame(dmac, smac, stranger, ips[target], payload))
            # Replayed: every real frame captured from the peer, twice, the
            # second time in reverse order (not counted: before the cluster
            # key, the channel drops them as old segments, HELLOs as stale).
            frames += real + real[::-1]
            replayed += 2 * len(real)
            for fr in frames:
                try:
                    port.send(fr)
                except OSError as e:
                    raise AssertionError("sending a frame of %d bytes: %s: %s"
                                         % (len(fr), e, fr[:64].hex()))
                sent += 1
                if sent % 64 == 0:
                    time.sleep(0.002)   # af_packet's ring: framecnt 8192, never full

        print("hostile frames: %d sent (%d real ones replayed), %d of them the decoder "
              "must refuse from a peer's address (%s)"
              % (sent, replayed, sum(counted.values()), counted), file=sys.stderr)

        # Every node alive and answering, every peer up, never seen down.
        for nd in nodes:
            self.assertTrue(self.c.node_alive(nd), "%s died: %s\n%s"
                            % (nd["name"], self.c.exit_status(nd), self.logs()))
        try:
            self.c.wait_up(5.0)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        # Counted: each node's drops of the peer whose address the refused
        # frames took grew by at least their number.
        end = time.monotonic() + 5.0
        while True:
            status1 = {nd: self.ok(nd, "status").json for nd in names}
            short = {}
            for i, target in enumerate(names):
                peer = names[(i + 1) % len(names)]
                d0 = {p["node"]: p["drops"] for p in status0[target]["peers"]}
                d1 = {p["node"]: p["drops"] for p in status1[target]["peers"]}
                if d1[peer] - d0[peer] < counted[target]:
                    short[target] = "drops of %s grew by %d, want >= %d" % (
                        peer, d1[peer] - d0[peer], counted[target])
            if not short or time.monotonic() >= end:
                break
            time.sleep(0.1)
        self.assertEqual(short, {}, "refused frames not counted")
        # Per-cause counters of `synodectl --json status` ("drops"): every
        # kind of refused frame was counted under its cause. The MAC is
        # checked before the body is decoded, so an attacker's garbage
        # (without the key) counts as bad_mac, never as malformed.
        for nd in names:
            c0, c1 = status0[nd]["drops"], status1[nd]["drops"]
            for cause in ("truncated", "bad_mac", "replayed", "unknown_peer"):
                self.assertGreater(c1[cause] - c0[cause], 0,
                                   "%s: drop counter %r did not grow: %r -> %r"
                                   % (nd, cause, c0, c1))
        for nd in nodes:
            with open(nd["log"], "rb") as f:
                f.seek(logs0[nd["name"]])
                new = f.read().decode("utf-8", "replace")
            self.assertNotIn(" is down", new, "%s saw a peer go down:\n%s" % (nd["name"], new))

        # The very tables of before on every node: nothing forged got in.
        after = self.converge("s", registry=before[0], groups=before[1])
        self.assertEqual(after, before)
        for nd in names:
            self.refused(nd, 1, "undefined", "lookup", "s", "forged-" + nd)
        # And the cluster still works.
        p = self.sleeper()
        pid = "n3/%d" % p.pid
        self.ok("n3", "register", "s", "after-barrage", "--os-pid", p.pid)
        self.converge("s", registry=set(before[0]) | {reg("after-barrage", pid)},
                      groups=before[1])


# -- main -------------------------------------------------------------------

def skip(reason):
    print("skipped: " + reason)
    sys.exit(77)


def preflight():
    """Exits 77 when this machine cannot run the suite."""
    if os.geteuid() != 0:
        skip("needs root (network namespaces, nftables)")
    for var, prog in (("SYNODE", SYNODE), ("SYNODECTL", SYNODECTL)):
        if not os.access(prog, os.X_OK):
            skip("%s=%r is not a program (not built?)" % (var, prog))
    if os.environ.get("SYNODE_DATAPLANE") == "0":
        skip("synode was built without its DPDK dataplane (DPDK not found by meson)")
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
    except (OSError, AttributeError) as e:
        skip("no AF_PACKET sockets here (%s)" % e)
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            print("%s is missing (Debian: apt-get install %s)"
                  % (tool, "nftables" if tool == "nft" else "iproute2"))
            sys.exit(1)
    probe = "snprobe%d" % os.getpid()
    p = subprocess.run(["ip", "netns", "add", probe], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        skip("network namespaces unavailable: ip netns add: %s" % p.stdout.strip())
    subprocess.run(["ip", "netns", "del", probe])


def telemetry(prefix, cmd, timeout=5.0):
    """The JSON answer of DPDK telemetry command cmd (e.g. "/synode/drops")
    from the process of --file-prefix prefix, as dpdk-telemetry.py reads it."""
    path = os.path.join(sc.DPDK_RUN, prefix, "dpdk_telemetry.v2")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(timeout)
        s.connect(path)
        json.loads(s.recv(16384).decode())        # its greeting
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20).decode())[cmd]
    finally:
        s.close()


def write_key(path, key):
    """A key file: key bytes, mode 0600 from the start, replaced whole."""
    tmp = path + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    os.rename(tmp, path)


class ClusterKey(ClusterTest):
    """The cluster key (issue 5): every frame carries a MAC with the key of
    DIR/cluster.key; a node with another key is refused and counted, and
    the key rotates on a running cluster (SIGHUP, --key-file-next)."""

    def key_path(self):
        return self.c.require()["key_file"]

    def drops(self, node):
        return telemetry(self.c.node(node)["file_prefix"], "/synode/drops")

    def set_argv_key(self, node, key_file):
        """node's command line with --key-file key_file (for its restart)."""
        self.c.load()
        nd = self.c.node(node)
        argv = list(nd["argv"])
        argv[argv.index("--key-file") + 1] = key_file
        nd["argv"] = argv
        self.c.save()

    def test_wrong_key_refused(self):
        """n3 restarted with another key: n1 and n2 drop its every frame as
        bad_mac (telemetry) and in its per-peer drops, never see it up;
        n3 drops theirs, sees no peer up and no entry of theirs; what n3
        registers reaches no one. With the right key again it joins."""
        self.assertTrue(self.c.node("n1")["argv"].count("--key-file"))
        self.assertEqual(os.stat(self.key_path()).st_mode & 0o777, 0o600)
        procs = {nd: self.sleeper() for nd in ("n1", "n2")}
        for nd, p in procs.items():
            self.ok(nd, "register", "s", "name-" + nd, "--os-pid", p.pid)
            self.ok(nd, "join", "s", "g", "--os-pid", p.pid)
        before = self.converge("s", nodes=["n1", "n2", "n3"])
        self.assertEqual(len(before[0]), 2)

        wrong = os.path.join(self.tmp, "wrong.key")
        write_key(wrong, os.urandom(32))
        self.kill_node("n3")
        self.set_argv_key("n3", wrong)
        self.restart_node("n3")
        d0 = {nd: self.drops(nd) for nd in ("n1", "n2")}
        peers0 = {nd: self.c.peer_states(nd)["n3"]["drops"] for nd in ("n1", "n2")}
        intruder = self.sleeper()
        self.ok("n3", "register", "s", "intruder", "--os-pid", intruder.pid)
        time.sleep(2.0)        # ~30 HELLO periods at --down-after-ms 300

        # Counted on the others, as bad_mac and in their peer n3's drops.
        for nd in ("n1", "n2"):
            d1 = self.drops(nd)
            self.assertGreaterEqual(d1["bad_mac"] - d0[nd]["bad_mac"], 10,
                                    "%s: %r -> %r" % (nd, d0[nd], d1))
            peer = self.c.peer_states(nd)["n3"]
            self.assertNotEqual(peer["state"], "up", "%s: %r" % (nd, peer))
            self.assertGreaterEqual(peer["drops"] - peers0[nd], 10)
        # n3 sees nothing: no peer up, its registry only its own.
        states = self.c.peer_states("n3")
        self.assertTrue(states is not None and
                        all(p["state"] != "up" for p in states.values()), states)
        self.assertGreater(self.drops("n3")["bad_mac"], 0)
        r = self.ok("n3", "registry", "s").json
        self.assertEqual([e["name"] for e in r], ["intruder"])
        self.assertEqual(self.ok("n3", "members", "s", "g").json, [])
        # ... and changes nothing: n1 and n2 hold what they held.
        self.assertEqual(self.converge("s", nodes=["n1", "n2"], registry=before[0],
                                       groups=before[1]), before)
        log = sc.tail(self.c.node("n3")["log"], 100000)
        self.assertNotIn("dataplane: peer n1", log.split("=== tools/cluster")[-1])

        # The right key again: n3 joins, and the tables agree.
        self.kill_node("n3")
        self.set_argv_key("n3", self.key_path())
        self.restart_node("n3")
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        self.converge("s", registry=before[0], groups=before[1])

    def test_key_rotation(self):
        """Rotation without a restart: the new key in cluster.key.next,
        SIGHUP (both accepted); then the new in cluster.key and the old in
        .next, SIGHUP one node at a time (mixed signers, all accepted);
        then .next emptied, SIGHUP. No peer ever goes down, writes go on
        converging, frames carry the new key id at the end, and a node
        with the old key alone is then refused."""
        kf = self.key_path()
        nxt = kf + ".next"
        self.assertIn(nxt, self.c.node("n1")["argv"])
        with open(kf, "rb") as f:
            old = f.read()
        new = os.urandom(32)
        logs0 = {nd["name"]: os.path.getsize(nd["log"]) for nd in self.c.nodes}
        names = self.node_names()
        want = set()
        step = [0]

        def write_and_converge():
            step[0] += 1
            p = self.sleeper()
            nd = names[step[0] % len(names)]
            self.ok(nd, "register", "s", "rot-%d" % step[0], "--os-pid", p.pid)
            want.add(reg("rot-%d" % step[0], "%s/%d" % (nd, p.pid)))
            self.converge("s", registry=want, check_groups=False)

        def hup(nd):
            n0 = sc.tail(self.c.node(nd)["log"], 100000).count("keys reloaded")
            self.c.kill(nd, signal.SIGHUP)
            end = time.monotonic() + 5
            while sc.tail(self.c.node(nd)["log"], 100000).count("keys reloaded") == n0:
                self.assertLess(time.monotonic(), end, "%s: no reload\n%s"
                                % (nd, self.logs()))
                time.sleep(0.05)

        write_and_converge()
        write_key(nxt, new)
        for nd in names:
            hup(nd)
        write_and_converge()
        write_key(kf, new)
        write_key(nxt, old)
        for nd in names:
            hup(nd)
            write_and_converge()      # some nodes sign with new, some old
        write_key(nxt, b"")
        for nd in names:
            hup(nd)
        write_and_converge()
        for nd in self.c.nodes:
            with open(nd["log"], "rb") as f:
                f.seek(logs0[nd["name"]])
                new_log = f.read().decode("utf-8", "replace")
            self.assertNotIn(" down:", new_log, "%s: a peer went down\n%s"
                             % (nd["name"], new_log))
            self.assertEqual(new_log.count("keys reloaded"), 3, new_log)
        for nd in names:
            self.assertEqual(self.drops(nd)["bad_mac"], 0, nd)

        # The old key alone is refused now.
        oldf = os.path.join(self.tmp, "old.key")
        write_key(oldf, old)
        self.kill_node("n3")
        self.set_argv_key("n3", oldf)
        self.restart_node("n3")
        b0 = self.drops("n1")["bad_mac"]
        time.sleep(1.5)
        self.assertGreater(self.drops("n1")["bad_mac"], b0)
        self.assertNotEqual(self.c.peer_states("n1")["n3"]["state"], "up")

    def test_replayed_counted(self):
        """Real frames from n2 to n1, captured on the bridge and sent to
        n1 again: every one is dropped as replayed (telemetry), none as
        bad_mac; n1 keeps its tables and its peers, never down."""
        st = self.c.require()
        ips = {nd["name"]: nd["ip"] for nd in self.c.nodes}
        port1 = self.c.node("n1")["bridge_port"]
        port2 = self.c.node("n2")["bridge_port"]
        socks = ns_packet_sockets(st["bridge_ns"], [port1, port2])
        self.addCleanup(lambda: [s.close() for s in socks.values()])
        log0 = os.path.getsize(self.c.node("n1")["log"])
        frames = []
        stop = threading.Event()

        def capture():
            s = socks[port2]
            while not stop.is_set():
                rl, _, _ = select.select([s], [], [], 0.05)
                if rl:
                    fr, addr = s.recvfrom(65535)
                    u = parse_udp(fr)
                    if (addr[2] != socket.PACKET_OUTGOING and u and u[0] == ips["n2"] and
                            u[1] == ips["n1"] and u[2][:4] == b"SYND"):
                        frames.append(fr)

        t = threading.Thread(target=capture, daemon=True)
        t.start()
        try:
            for i in range(20):
                p = self.sleeper()
                self.ok("n2", "register", "s", "r%d" % i, "--os-pid", p.pid)
            before = self.converge("s")
            time.sleep(0.3)
        finally:
            stop.set()
            t.join(5)
        self.assertGreater(len(frames), 5)
        d0 = self.drops("n1")
        time.sleep(0.2)
        for fr in frames:
            socks[port1].send(fr)
        end = time.monotonic() + 5
        while True:
            d1 = self.drops("n1")
            if d1["replayed"] - d0["replayed"] >= len(frames) or time.monotonic() > end:
                break
            time.sleep(0.1)
        print("replayed %d frames of n2 to n1: %r -> %r" % (len(frames), d0, d1),
              file=sys.stderr)
        self.assertEqual(d1["replayed"] - d0["replayed"], len(frames))
        self.assertEqual(d1["bad_mac"], d0["bad_mac"])
        self.assertEqual(self.converge("s", registry=before[0], groups=before[1]), before)
        self.assertEqual(self.c.peer_states("n1")["n2"]["state"], "up")
        with open(self.c.node("n1")["log"], "rb") as f:
            f.seek(log0)
            self.assertNotIn(" down:", f.read().decode("utf-8", "replace"))

    def test_insecure_and_keyed_do_not_talk(self):
        """n3 restarted with --insecure: n1 and n2 drop its frames as
        bad_mac (no MAC), it drops theirs as bad_mac (a MAC it cannot
        check); it stays apart."""
        self.kill_node("n3")
        self.c.load()
        nd = self.c.node("n3")
        argv = list(nd["argv"])
        k = argv.index("--key-file")
        del argv[k:k + 4]          # --key-file F --key-file-next F.next
        nd["argv"] = argv + ["--insecure"]
        self.c.save()
        self.restart_node("n3")
        d0 = self.drops("n1")["bad_mac"]
        time.sleep(1.5)
        self.assertGreater(self.drops("n1")["bad_mac"], d0)
        self.assertGreater(self.drops("n3")["bad_mac"], 0)
        self.assertNotEqual(self.c.peer_states("n1")["n3"]["state"], "up")
        self.assertTrue(all(p["state"] != "up" for p in self.c.peer_states("n3").values()))
        self.assertIn("insecure", sc.tail(self.c.node("n3")["log"], 100000))


class LookupService(ClusterTest):
    """The lookup service (issue 6): a client that is no node, in a network
    namespace of its own on the bridge, asks the nodes' dataplanes over
    plain UDP (synodectl --remote); scope "sec" has a --lookup-key."""

    scopes = ("s", "sec")

    def setUp(self):
        # As ClusterTest.setUp, with every node's --lookup-key sec=KEY.
        self.tmp = tempfile.mkdtemp(prefix="sncl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.children = []
        self.addCleanup(self.kill_children)
        self.killed = set()
        self.key = os.path.join(self.tmp, "lookup.key")
        self.wrong_key = os.path.join(self.tmp, "wrong.key")
        for path in (self.key, self.wrong_key):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, os.urandom(32))
            os.close(fd)
        self.c = sc.Cluster(self.tmp, log=lambda m: print("cluster: " + m, file=sys.stderr),
                            new_session=False)
        self.addCleanup(self.stop_cluster)
        self.c.start(self.n, transport=self.transport, scopes=list(self.scopes),
                     down_after_ms=self.down_after_ms, synode=SYNODE, synodectl=SYNODECTL,
                     ready_timeout=READY_TIMEOUT, discovery=self.discovery,
                     node_extra=["--lookup-key", "sec=" + self.key])
        try:
            self.c.wait_up(UP_TIMEOUT)
        except sc.ClusterError as e:
            self.fail("%s\n%s" % (e, self.logs()))
        self.client_ns()

    def client_ns(self):
        """Namespace TAG-lc with a veth on the bridge and a kernel address:
        the client host. Deleted (with its veth) by a cleanup that runs
        before the cluster's stop checks that nothing is left."""
        st = self.c.require()
        self.ns = self.c.tag + "lc"
        veth, port = self.c.tag + "lc0", self.c.tag + "lc1"
        self.client_ip = self.c.nodes[0]["ip"].rsplit(".", 1)[0] + ".200"
        self.addCleanup(sc.run, ["ip", "netns", "del", self.ns], False)
        sc.run(["ip", "netns", "add", self.ns])
        sc.run(["ip", "link", "add", veth, "netns", self.ns, "type", "veth",
                "peer", "name", port, "netns", st["bridge_ns"]])
        sc.run(["ip", "-n", st["bridge_ns"], "link", "set", port, "master", st["bridge"]])
        sc.run(["ip", "-n", st["bridge_ns"], "link", "set", port, "up"])
        sc.run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        sc.run(["ip", "-n", self.ns, "addr", "add", self.client_ip + "/24", "dev", veth])
        sc.run(["ip", "-n", self.ns, "link", "set", veth, "up"])
        # The kernel leaves the UDP checksum of a veth's frames to an
        # offload that never happens on the way to the node's AF_PACKET
        # socket: the node would drop them (udp_checksum). Sum in software.
        if shutil.which("ethtool") is None:
            self.fail("ethtool is needed (apt-get install ethtool)")
        sc.run(["ip", "netns", "exec", self.ns, "ethtool", "-K", veth, "tx", "off"])

    def remote(self, *args, timeout_ms=3000):
        """synodectl --json ... in the client's namespace."""
        argv = ["ip", "netns", "exec", self.ns, SYNODECTL, "--json", "--timeout",
                str(timeout_ms)] + [str(a) for a in args]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return sc.CtlResult(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                            p.stderr.decode("utf-8", "replace"))

    def stats(self, node):
        return telemetry(self.c.node(node)["file_prefix"], "/synode/stats")

    def test_lookup_service(self):
        """Hits, misses, invalid scope, members, counts and a prefix scan
        answered by every node's dataplane as the node answers them on its
        control socket; the keyed scope refuses without its key (and with
        a wrong one: no answer, exit 4) and answers with it; malformed and
        oversized datagrams are counted, crash nothing, and the service
        answers on."""
        names = self.node_names()
        ips = {nd["name"]: nd["ip"] for nd in self.c.nodes}
        procs = {nd: self.sleeper() for nd in names}
        for nd, p in procs.items():
            self.ok(nd, "register", "s", "web-" + nd, "--os-pid", p.pid, "--meta", "m-" + nd)
            self.ok(nd, "join", "s", "g", "--os-pid", p.pid, "--meta", "j-" + nd)
        self.ok("n1", "register", "s", "api", "--os-pid", procs["n1"].pid)
        self.ok("n2", "register", "sec", "secret", "--os-pid", procs["n2"].pid,
                "--meta", "hidden")
        self.converge("s", registry={reg("web-" + nd, "%s/%d" % (nd, p.pid), "m-" + nd)
                                     for nd, p in procs.items()} |
                      {reg("api", "n1/%d" % procs["n1"].pid)},
                      groups={"g": {mem("%s/%d" % (nd, p.pid), "j-" + nd)
                                    for nd, p in procs.items()}})
        self.converge("sec", registry={reg("secret", "n2/%d" % procs["n2"].pid, "hidden")},
                      groups={})

        for nd in names:
            ip = ips[nd]
            # Hits: what the node's control socket says.
            for name in ("web-n1", "web-n3", "api"):
                r = self.remote("lookup", "s", name, "--remote", ip)
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(r.json, self.ok(nd, "lookup", "s", name).json)
            # A miss, a scope nobody serves.
            r = self.remote("lookup", "s", "nobody", "--remote", ip)
            self.assertEqual((r.rc, r.json), (1, {"error": "undefined"}), r)
            r = self.remote("lookup", "nope", "x", "--remote", ip + ":4370")
            self.assertEqual((r.rc, r.json), (3, {"error": "invalid_scope"}), r)
            # Members and counts.
            r = self.remote("members", "s", "g", "--remote", ip)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(sorted(map(json.dumps, r.json)),
                             sorted(map(json.dumps, self.ok(nd, "members", "s", "g").json)))
            for args in (("registry-count", "s"), ("member-count", "s", "g"),
                         ("group-count", "s")):
                r = self.remote(*args, "--remote", ip)
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(r.json, self.ok(nd, *args).json, args)
            r = self.remote("registry-count", "s", "--node", "n2", "--remote", ip)
            self.assertEqual((r.rc, r.json), (0, {"count": 1}), r)
            # A prefix scan, in name order.
            r = self.remote("scan", "s", "web-", "--remote", ip)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual([e["name"] for e in r.json], ["web-n1", "web-n2", "web-n3"])
            self.assertEqual(r.json[1]["pid"], "n2/%d" % procs["n2"].pid)
            # The keyed scope: denied without its key, answered with it.
            r = self.remote("lookup", "sec", "secret", "--remote", ip)
            self.assertEqual((r.rc, r.json), (3, {"error": "denied"}), r)
            r = self.remote("lookup", "sec", "secret", "--remote", ip,
                            "--lookup-key", self.key)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(r.json["meta"], "hidden")
            # Open scopes answer a keyed request too.
            r = self.remote("lookup", "s", "api", "--remote", ip, "--lookup-key", self.key)
            self.assertEqual(r.rc, 0, r)
        # Pages: a scan whose answer does not fit one frame (about ten of
        # these entries do) comes in pages, every one asked for again from
        # its cursor, all in name order.
        routes = ["route-%02d" % i for i in range(30)]
        for name in reversed(routes):
            self.ok("n1", "register", "s", name, "--os-pid", procs["n1"].pid,
                    "--meta", name * 12)
        self.converge("s", registry={reg("web-" + nd, "%s/%d" % (nd, p.pid), "m-" + nd)
                                     for nd, p in procs.items()} |
                      {reg("api", "n1/%d" % procs["n1"].pid)} |
                      {reg(n, "n1/%d" % procs["n1"].pid, n * 12) for n in routes},
                      groups={"g": {mem("%s/%d" % (nd, p.pid), "j-" + nd)
                                    for nd, p in procs.items()}})
        a0 = self.stats("n3")["lookup_answers"]
        r = self.remote("scan", "s", "route-", "--remote", ips["n3"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([(e["name"], e["meta"]) for e in r.json],
                         [(n, n * 12) for n in routes])
        self.assertGreaterEqual(self.stats("n3")["lookup_answers"] - a0, 3)

        # A wrong key: no answer at all (exit 4, timeout), counted as denied.
        d0 = self.stats("n1")["lookup_denied"]
        r = self.remote("lookup", "sec", "secret", "--remote", ips["n1"],
                        "--lookup-key", self.wrong_key, timeout_ms=600)
        self.assertEqual((r.rc, r.json), (4, {"error": "timeout"}), r)
        self.assertGreater(self.stats("n1")["lookup_denied"], d0)
        # Nobody at the address: exit 4.
        r = self.remote("lookup", "s", "api", "--remote",
                        ips["n1"].rsplit(".", 1)[0] + ".222", timeout_ms=400)
        self.assertEqual((r.rc, r.json), (4, {"error": "timeout"}), r)

        # Malformed and oversized datagrams, from the client's host.
        st0 = self.stats("n1")
        bad = [b"SYNL", b"SYNL\x01\x01", b"SYNL\x09\x01\x00\x00\x01\x00\x00\x00",
               b"SYNL\x01\x02\x00\x00\x01\x00\x00\x00" + b"\x00" * 20,
               b"SYNL\x01\x01\x00\x00\xff\xff\x00\x00" + os.urandom(40),
               b"SYNL\x01\x01\x00\x00\x01\x00\x00\x00" + b"\x07\x00\x00\x00\x63\x00",
               b"SYNL\x01\x01\x00\x00\x01\x00\x00\x00" + os.urandom(1400),
               b"SYNL\x01\x01\x00\x00\x03\x00\x00\x00" + os.urandom(1200)]
        bad += [b"SYNL" + os.urandom(random.randrange(0, 1400)) for _ in range(40)]
        script = ("import socket,sys,json\n"
                  "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                  "for h in json.load(sys.stdin):\n"
                  "    s.sendto(bytes.fromhex(h),(sys.argv[1],4370))\n")
        p = subprocess.run(["ip", "netns", "exec", self.ns, sys.executable, "-c", script,
                            ips["n1"]], input=json.dumps([b.hex() for b in bad]).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        deadline = time.monotonic() + 5
        while True:
            st = self.stats("n1")
            if st["lookup_frames"] - st0["lookup_frames"] >= len(bad) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertGreaterEqual(st["lookup_frames"] - st0["lookup_frames"], len(bad))
        # The first eight are malformed whatever the random bytes.
        self.assertGreaterEqual(st["lookup_malformed"] - st0["lookup_malformed"], 6, st)
        # Still serving, still a cluster.
        r = self.remote("lookup", "s", "web-n2", "--remote", ips["n1"])
        self.assertEqual(r.rc, 0, r)
        self.assertGreater(st["lookup_answers"], 0)
        for nd in names:
            self.assertTrue(all(v["state"] == "up" for v in self.c.peer_states(nd).values()))


class Terminated(Exception):
    """SIGTERM (meson's timeout): a test error, so that the cleanups run."""


def on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated("SIGTERM (a timeout?): stopping the cluster")


def sweep():
    """Stops the clusters of earlier runs of this suite that were killed
    before their cleanup (their owner process is gone)."""
    base = tempfile.gettempdir()
    for d in sorted(os.listdir(base)):
        path = os.path.join(base, d)
        if not d.startswith("sncl-") or not os.path.isdir(path):
            continue
        try:
            c = sc.Cluster(path)
            if c.state is not None and c.owner_alive():
                continue   # a run in progress (another build dir?)
            if c.state is not None or time.time() - os.path.getmtime(path) > 600:
                done = c.stop()
                print("swept %s (left by a killed run): %s" % (path, "; ".join(done)))
                shutil.rmtree(path, True)
        except (sc.ClusterError, OSError) as e:
            print("could not sweep %s: %s" % (path, e))


def main():
    preflight()
    sweep()
    signal.signal(signal.SIGTERM, on_sigterm)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
