#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of synode (the daemon) and synodectl (its command line).

Proves that every synodectl verb does what DESIGN.md (Interfaces) says, with
its exit status and its --json output, against a real synode daemon serving
a socket in a temporary directory: registrations and memberships of real
Linux processes (`sleep` children, killed for real), every refusal (taken,
not_alive, not_self, not_in_group, invalid_scope, undefined, names and meta
over the limits, empty names), events with their reasons (signal:KILL,
exit:3, normal) through `watch`, handles, strict mode, the node that cannot
be reached, bad command lines, and the daemon's clean stop on SIGTERM and
SIGINT (exit 0, socket removed).

Usage: test_cli.py [unittest arguments, e.g. a class name: Registry]
Environment: SYNODE and SYNODECTL, the programs under test (default: the
build dir's tools/). Exits 77 (skipped) if they were not built. Everything
started is killed by pid and the temporary directories are removed, also
on failure.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SYNODE = os.environ.get("SYNODE", "")
SYNODECTL = os.environ.get("SYNODECTL", "")

READY_TIMEOUT = 10.0   # s, for a daemon to log its ready line
CMD_TIMEOUT = 15.0     # s, for one synodectl run
EVENT_TIMEOUT_MS = 10000


class Result:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.out = out
        self.err = err
        self.json = None
        text = out.strip()
        if text:
            try:
                self.json = json.loads(text)
            except ValueError:
                self.json = None

    def __repr__(self):
        return "rc=%d out=%r err=%r" % (self.rc, self.out, self.err)


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_for(pred, timeout, what):
    """Polls pred() until true, at most timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Node:
    """A synode daemon on a socket in a temporary directory."""

    def __init__(self, tmp, name="n1", scopes=("s",), extra=()):
        self.name = name
        self.sock = os.path.join(tmp, name + ".sock")
        self.log_path = os.path.join(tmp, name + ".log")
        args = [SYNODE, "--name", name, "--control", self.sock]
        for s in scopes:
            args += ["--scope", s]
        args += list(extra)
        self.stopped = False  # by us: stop() sent it a signal
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        ready = "synode: %s ready on %s" % (name, self.sock)
        try:
            wait_for(lambda: ready in self.log_text() or self.proc.poll() is not None,
                     READY_TIMEOUT, "the ready line of " + name)
        except AssertionError:
            self.stop(signal.SIGKILL)
            raise
        if ready not in self.log_text():
            raise AssertionError("synode %s exited with %s before it was ready:\n%s"
                                 % (name, self.proc.returncode, self.log_text()))

    def log_text(self):
        return read_text(self.log_path)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig (by pid) and reaps; returns the exit status."""
        if self.proc.poll() is None:
            self.stopped = True
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        self.log.close()
        return self.proc.returncode

    def death_reason(self, reason):
        """The reason of a death as this node can know it: it learns how a
        process ended from the kernel's process-events connector; without
        one (it logs so at start) every death is "undefined"."""
        if "no process-events connector" in self.log_text():
            return "undefined"
        return reason


def ctl_args(sock, args, json_out=True):
    head = [SYNODECTL]
    if sock is not None:
        head += ["--socket", sock]
    if json_out:
        head.append("--json")
    return head + [str(a) if not isinstance(a, bytes) else a for a in args]


def run_ctl(sock, *args, json_out=True, timeout=CMD_TIMEOUT):
    p = subprocess.run(ctl_args(sock, args, json_out), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                  p.stderr.decode("utf-8", "replace"))


class CliTest(unittest.TestCase):
    """Base: a temporary directory, a node, children killed at the end."""

    node_extra = ()
    node_scopes = ("s", "t")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="synode-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.children = []
        self.addCleanup(self.kill_children)
        self.nodes = []
        self.addCleanup(self.stop_nodes)
        self.node = self.start_node("n1", self.node_scopes, self.node_extra)

    def start_node(self, name, scopes, extra=()):
        n = Node(self.tmp, name, scopes, extra)
        self.nodes.append(n)
        return n

    def stop_nodes(self):
        """Stops every node with SIGTERM: each must have lived until then,
        stop cleanly (exit 0) and log no sanitizer report."""
        problems = []
        for n in self.nodes:
            died = n.proc.poll() is not None and not n.stopped
            rc = n.stop(signal.SIGTERM)
            log = n.log_text()
            if died:
                problems.append("synode %s died during the test (status %s)"
                                % (n.name, rc))
            elif rc != 0:
                problems.append("synode %s: exit status %s after SIGTERM" % (n.name, rc))
            if "runtime error:" in log or "Sanitizer" in log:
                problems.append("synode %s: sanitizer report" % n.name)
            if problems:
                problems.append("its log:\n" + log)
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

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.children.append(p)
        return p

    def sleeper(self):
        """A real Linux process to register: a `sleep 300` child."""
        return self.spawn(["sleep", "300"])

    def dead_pid(self):
        """The pid of a process that existed and is gone (reaped)."""
        p = subprocess.Popen(["true"])
        p.wait()
        return p.pid

    def ctl(self, *args, sock=None, json_out=True):
        return run_ctl(sock or self.node.sock, *args, json_out=json_out)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.rc, 0, r)
        return r

    def refused(self, status, error, *args, **kw):
        """Runs a command that must fail with exit status and --json error."""
        r = self.ctl(*args, **kw)
        self.assertEqual(r.rc, status, r)
        self.assertEqual(r.json, {"error": error}, r)
        self.assertTrue(r.err.strip(), "no message on stderr: %r" % r)
        return r

    def pid_of(self, proc, node=None):
        return "%s/%d" % (node or self.node.name, proc.pid)

    # watch ------------------------------------------------------------

    def start_watch(self, *args, count, sock=None, json_out=True):
        """Starts `watch --count N [--json]` and waits until it is on."""
        cmd = ctl_args(sock or self.node.sock,
                       ["watch", *args, "--count", count, "--timeout", EVENT_TIMEOUT_MS],
                       json_out)
        w = self.spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
        err = b""
        end = time.monotonic() + READY_TIMEOUT
        while b"watching scope" not in err:
            left = end - time.monotonic()
            if left <= 0 or w.poll() is not None:
                w.kill()
                out, rest = w.communicate()
                raise AssertionError("watch did not start: rc=%s out=%r err=%r"
                                     % (w.returncode, out, err + rest))
            rl, _, _ = select.select([w.stderr], [], [], left)
            if rl:
                chunk = os.read(w.stderr.fileno(), 4096)
                if not chunk:
                    continue
                err += chunk
        return w

    def watch_result(self, w):
        """Waits for a watch to end; returns its events (it must exit 0)."""
        out, err = w.communicate(timeout=EVENT_TIMEOUT_MS / 1000 + 10)
        self.assertEqual(w.returncode, 0, "watch: out=%r err=%r" % (out, err))
        return [json.loads(line) for line in out.decode().splitlines()]


class SynodeArgs(unittest.TestCase):
    """synode's command line: refusals with exit 2, --help, --version, and
    its clean stop on SIGTERM and SIGINT."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="synode-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def synode(self, *args):
        p = subprocess.run([SYNODE, *args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=CMD_TIMEOUT)
        return Result(p.returncode, p.stdout.decode(), p.stderr.decode())

    def assertUsage(self, words, *args):
        r = self.synode(*args)
        self.assertEqual(r.rc, 2, r)
        for w in words:
            self.assertIn(w, r.err, r)
        # Refused before anything was served.
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.sock")))

    def test_help_and_version(self):
        r = self.synode("--help")
        self.assertEqual(r.rc, 0, r)
        for opt in ("--name", "--scope", "--control", "--strict", "--log-level",
                    "--max-name-len", "--max-meta-len", "--conflict-signal", "--ip",
                    "--udp-port", "--peer", "--key-file", "--poll", "--down-after-ms",
                    "/run/synode/NAME.sock", "notice"):
            self.assertIn(opt, r.out)
        r = self.synode("--version")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"^synode \S+\n$")

    def test_bad_arguments(self):
        sock = os.path.join(self.tmp, "x.sock")
        base = ["--name", "x", "--control", sock]
        self.assertUsage(["--name"], "--scope", "s", "--control", sock)
        self.assertUsage(["--scope"], "--name", "x", "--control", sock)
        self.assertUsage(["unknown option", "--bogus"], *base, "--scope", "s", "--bogus")
        self.assertUsage(["--scope", "needs a value"], *base, "--scope")
        self.assertUsage(["--log-level"], *base, "--scope", "s", "--log-level", "loud")
        self.assertUsage(["--max-name-len"], *base, "--scope", "s", "--max-name-len", "0")
        self.assertUsage(["--max-name-len"], *base, "--scope", "s",
                         "--max-name-len", "1001")
        self.assertUsage(["--max-meta-len"], *base, "--scope", "s",
                         "--max-meta-len", "12x")
        self.assertUsage(["--conflict-signal"], *base, "--scope", "s",
                         "--conflict-signal", "SIGNOPE")
        self.assertUsage(["--name"], "--name", "a/b", "--scope", "s", "--control", sock)
        self.assertUsage(["--name"], "--name", "n" * 64, "--scope", "s", "--control", sock)
        self.assertUsage(["given twice"], *base, "--scope", "s", "--scope", "s")
        self.assertUsage(["--scope"], *base, "--scope", "a b")
        self.assertUsage(["--scope"], *base, "--scope", "x" * 64)
        self.assertUsage(["given twice"], *base, "--scope", "s", "--strict", "--strict")
        self.assertUsage(["unexpected argument"], *base, "--scope", "s", "extra")
        self.assertUsage(["--control"], "--name", "x", "--scope", "s",
                         "--control", "/tmp/" + "p" * 120)

    def test_dataplane_refused(self):
        """The dataplane options are checked, then refused: not built yet."""
        sock = os.path.join(self.tmp, "x.sock")
        base = ["--name", "x", "--scope", "s", "--control", sock]
        key = os.path.join(self.tmp, "key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)
        for opt in (["--ip", "10.0.0.1/24"], ["--udp-port", "4370"],
                    ["--peer", "10.0.0.2"], ["--key-file", key], ["--poll", "busy"],
                    ["--down-after-ms", "500"]):
            self.assertUsage(["dataplane is not built"], *base, *opt)
        # Bad values get their own message first.
        self.assertUsage(["--ip"], *base, "--ip", "10.0.0.1")
        self.assertUsage(["--ip"], *base, "--ip", "10.0.0.300/24")
        self.assertUsage(["--udp-port"], *base, "--udp-port", "70000")
        self.assertUsage(["--peer"], *base, "--peer", "nohost")
        self.assertUsage(["--poll"], *base, "--poll", "sometimes")
        os.chmod(key, 0o644)
        self.assertUsage(["--key-file", "chmod 600"], *base, "--key-file", key)
        with open(key, "wb") as f:
            f.write(b"short")
        os.chmod(key, 0o600)
        self.assertUsage(["--key-file", "at least 32"], *base, "--key-file", key)
        # An EAL section before "--".
        self.assertUsage(["EAL", "dataplane is not built"],
                         "--no-huge", "--no-pci", "--", *base)

    def test_sigterm_and_sigint_stop_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            n = Node(self.tmp, "x", ("s",))
            try:
                self.assertTrue(os.path.exists(n.sock))
                self.assertEqual(run_ctl(n.sock, "status").rc, 0)
            finally:
                rc = n.stop(sig)
            self.assertEqual(rc, 0, n.log_text())
            self.assertFalse(os.path.exists(n.sock), "socket left after " + sig.name)
            self.assertIn("stopped", n.log_text())
            # Log lines carry a UTC timestamp and a level.
            self.assertRegex(n.log_text(),
                             r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z notice: synode: x ready")

    def test_empty_eal_section_runs(self):
        """`synode -- OPTIONS`: an empty EAL section is no EAL section."""
        sock = os.path.join(self.tmp, "y.sock")
        log = open(os.path.join(self.tmp, "y.log"), "wb")
        p = subprocess.Popen([SYNODE, "--", "--name", "y", "--scope", "s",
                              "--control", sock, "--log-level", "debug"],
                             stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_for(lambda: os.path.exists(sock) or p.poll() is not None, READY_TIMEOUT,
                     "y.sock")
            self.assertIsNone(p.poll())
            self.assertEqual(run_ctl(sock, "scopes").json, ["s"])
        finally:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
            p.wait(10)
            log.close()
        self.assertEqual(p.returncode, 0)

    def test_default_socket(self):
        """Without --control: /run/synode/NAME.sock, which synodectl finds by
        --node NAME, or alone when it is the only socket there."""
        if os.geteuid() != 0 and not os.access("/run/synode", os.W_OK):
            self.skipTest("/run/synode is not writable")
        name = "clitest-%d" % os.getpid()
        sock = "/run/synode/%s.sock" % name
        log_path = os.path.join(self.tmp, "d.log")
        log = open(log_path, "wb")
        p = subprocess.Popen([SYNODE, "--name", name, "--scope", "s"],
                             stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_for(lambda: "ready on " + sock in read_text(log_path)
                     or p.poll() is not None, READY_TIMEOUT, "the ready line")
            self.assertIsNone(p.poll(), read_text(log_path))
            r = run_ctl(None, "--node", name, "status")
            self.assertEqual((r.rc, r.json["node"]), (0, name), r)
            socks = [f for f in os.listdir("/run/synode") if f.endswith(".sock")]
            r = run_ctl(None, "status")
            if socks == [name + ".sock"]:
                self.assertEqual((r.rc, r.json["node"]), (0, name), r)
            else:  # other nodes run on this host: which one is meant?
                self.assertEqual((r.rc, r.json), (2, {"error": "usage"}), r)
        finally:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
            p.wait(10)
            log.close()
        self.assertEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(sock))

    def test_second_node_on_same_socket_fails(self):
        n = Node(self.tmp, "x", ("s",))
        try:
            r = self.synode("--name", "x2", "--scope", "s", "--control", n.sock)
            self.assertEqual(r.rc, 1, r)
            self.assertIn(n.sock, r.err)
            # The first node still serves.
            self.assertEqual(run_ctl(n.sock, "status").json["node"], "x")
        finally:
            self.assertEqual(n.stop(), 0)


class Registry(CliTest):
    """register, lookup, update, unregister, registry, registry-count."""

    def test_register_lookup_update_unregister(self):
        a = self.sleeper()
        r = self.ok("register", "s", "alpha", "--os-pid", a.pid, "--meta", "m1")
        self.assertEqual(r.json, {"ok": True, "pid": self.pid_of(a)})
        r = self.ok("lookup", "s", "alpha")
        self.assertEqual(r.json, {"name": "alpha", "pid": self.pid_of(a),
                                  "node": "n1", "meta": "m1"})
        # The text form: NODE/ID, TAB, meta.
        r = self.ok("lookup", "s", "alpha", json_out=False)
        self.assertEqual(r.out, "%s\tm1\n" % self.pid_of(a))
        # The same name, same process, new meta: an update.
        self.ok("register", "s", "alpha", self.pid_of(a), "--meta", "m2")
        self.assertEqual(self.ok("lookup", "s", "alpha").json["meta"], "m2")
        self.assertEqual(self.ok("update", "s", "alpha", "--meta", "m3").json, {"ok": True})
        self.assertEqual(self.ok("lookup", "s", "alpha").json["meta"], "m3")
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 1})
        self.assertEqual(self.ok("unregister", "s", "alpha").json, {"ok": True})
        self.refused(1, "undefined", "lookup", "s", "alpha")
        self.refused(1, "undefined", "unregister", "s", "alpha")
        self.refused(1, "undefined", "update", "s", "alpha", "--meta", "x")
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 0})
        # Other scopes are other namespaces.
        self.refused(1, "undefined", "lookup", "t", "alpha")

    def test_registry_lists_sorted_with_filters(self):
        a, b = self.sleeper(), self.sleeper()
        self.ok("register", "s", "b-name", "--os-pid", a.pid, "--meta", "x")
        self.ok("register", "s", "a-name", "--os-pid", b.pid)
        self.ok("register", "s", "c-name", "--os-pid", a.pid, "--meta", "y")
        self.ok("register", "t", "other", "--os-pid", a.pid)
        want = [
            {"name": "a-name", "pid": self.pid_of(b), "node": "n1", "meta": ""},
            {"name": "b-name", "pid": self.pid_of(a), "node": "n1", "meta": "x"},
            {"name": "c-name", "pid": self.pid_of(a), "node": "n1", "meta": "y"},
        ]
        self.assertEqual(self.ok("registry", "s").json, want)
        self.assertEqual(self.ok("registry", "s", "--local").json, want)
        self.assertEqual(self.ok("registry", "s", "--node", "n1").json, want)
        self.assertEqual(self.ok("registry", "s", "--node", "elsewhere").json, [])
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 3})
        self.assertEqual(self.ok("registry-count", "s", "--local").json, {"count": 3})
        self.assertEqual(self.ok("registry-count", "s", "--node", "elsewhere").json,
                         {"count": 0})
        self.assertEqual(self.ok("registry-count", "t").json, {"count": 1})
        r = self.ok("registry", "s", json_out=False)
        self.assertEqual(r.out.splitlines(), [
            "a-name\t" + self.pid_of(b),
            "b-name\t%s\tx" % self.pid_of(a),
            "c-name\t%s\ty" % self.pid_of(a)])
        self.assertEqual(self.ok("registry-count", "s", json_out=False).out, "3\n")

    def test_refusals(self):
        a, b = self.sleeper(), self.sleeper()
        self.ok("register", "s", "name", "--os-pid", a.pid, "--meta", "first")
        self.refused(3, "taken", "register", "s", "name", "--os-pid", b.pid)
        # The holder is unchanged.
        self.assertEqual(self.ok("lookup", "s", "name").json["meta"], "first")
        self.refused(3, "not_alive", "register", "s", "ghost", "--os-pid", self.dead_pid())
        self.refused(3, "invalid_scope", "register", "s-unknown", "n", "--os-pid", a.pid)
        self.refused(3, "invalid_scope", "lookup", "s-unknown", "n")
        self.refused(3, "invalid_scope", "registry", "s-unknown")
        self.refused(3, "invalid_scope", "registry-count", "s-unknown")
        self.refused(3, "invalid_scope", "unregister", "s-unknown", "n")
        self.refused(3, "invalid_argument", "register", "s", "", "--os-pid", a.pid)
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 1})

    def test_binary_names_in_base64(self):
        """Names that are not UTF-8 are printed as {"base64": ...}."""
        a = self.sleeper()
        self.ok("register", "s", b"\xff\xfebin", "--os-pid", a.pid, "--meta", b"\x80")
        r = self.ok("lookup", "s", b"\xff\xfebin")
        self.assertEqual(r.json["name"], {"base64": "//5iaW4="})
        self.assertEqual(r.json["meta"], {"base64": "gA=="})
        r = self.ok("lookup", "s", b"\xff\xfebin", json_out=False)
        self.assertEqual(r.out, "%s\t\\x80\n" % self.pid_of(a))
        # UTF-8 stays a string, also in the text form.
        self.ok("register", "s", "名前", "--os-pid", a.pid, "--meta", "é\tx")
        self.assertEqual(self.ok("lookup", "s", "名前").json["meta"], "é\tx")
        r = self.ok("lookup", "s", "名前", json_out=False)
        self.assertEqual(r.out, "%s\té\\x09x\n" % self.pid_of(a))


class Limits(CliTest):
    """Names and meta over the node's limits, and empty names."""

    node_extra = ("--max-name-len", "8", "--max-meta-len", "16")

    def test_limits(self):
        a = self.sleeper()
        self.ok("register", "s", "n" * 8, "--os-pid", a.pid, "--meta", "m" * 16)
        self.refused(3, "name_too_long", "register", "s", "n" * 9, "--os-pid", a.pid)
        self.refused(3, "meta_too_long", "register", "s", "x", "--os-pid", a.pid,
                     "--meta", "m" * 17)
        self.refused(3, "meta_too_long", "update", "s", "n" * 8, "--meta", "m" * 17)
        self.refused(3, "invalid_argument", "register", "s", "", "--os-pid", a.pid)
        self.ok("join", "s", "g" * 8, "--os-pid", a.pid)
        self.refused(3, "name_too_long", "join", "s", "g" * 9, "--os-pid", a.pid)
        self.refused(3, "invalid_argument", "join", "s", "", "--os-pid", a.pid)
        self.refused(3, "meta_too_long", "join", "s", "g", "--os-pid", a.pid,
                     "--meta", "m" * 17)
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 1})
        self.assertEqual(self.ok("group-count", "s").json, {"count": 1})


class Groups(CliTest):
    """join, leave, members, is-member, member-count, groups, group-count."""

    def test_join_leave_members(self):
        procs = [self.sleeper() for _ in range(3)]
        # Joined in reverse pid order: members come ordered by pid anyway.
        for i, p in enumerate(sorted(procs, key=lambda p: -p.pid)):
            self.assertEqual(self.ok("join", "s", "g", "--os-pid", p.pid,
                                     "--meta", "m%d" % i).json, {"ok": True})
        # Joining again updates the meta; no second membership.
        low = min(procs, key=lambda p: p.pid)
        self.ok("join", "s", "g", self.pid_of(low), "--meta", "again")
        members = self.ok("members", "s", "g").json
        self.assertEqual([m["pid"] for m in members],
                         [self.pid_of(p) for p in sorted(procs, key=lambda p: p.pid)])
        self.assertEqual(members[0], {"pid": self.pid_of(low), "node": "n1",
                                      "meta": "again"})
        self.assertEqual(self.ok("members", "s", "g", "--local").json, members)
        self.assertEqual(self.ok("member-count", "s", "g").json, {"count": 3})
        self.assertEqual(self.ok("member-count", "s", "g", "--local").json, {"count": 3})
        self.assertEqual(self.ok("member-count", "s", "g", "--node", "zz").json,
                         {"count": 0})
        r = self.ok("members", "s", "g", json_out=False)
        self.assertEqual(r.out.splitlines()[0], self.pid_of(low) + "\tagain")

        r = self.ok("is-member", "s", "g", "--os-pid", low.pid)
        self.assertEqual(r.json, {"member": True})
        self.assertEqual(self.ok("is-member", "s", "g", self.pid_of(low), "--local").json,
                         {"member": True})
        self.assertEqual(self.ok("is-member", "s", "g", self.pid_of(low),
                                 json_out=False).out, "true\n")

        self.assertEqual(self.ok("leave", "s", "g", "--os-pid", low.pid).json, {"ok": True})
        self.refused(3, "not_in_group", "leave", "s", "g", "--os-pid", low.pid)
        r = self.ctl("is-member", "s", "g", "--os-pid", low.pid)
        self.assertEqual((r.rc, r.json), (1, {"member": False}), r)
        self.assertEqual(self.ok("member-count", "s", "g").json, {"count": 2})
        # A pid of another node is not a local member.
        r = self.ctl("is-member", "s", "g", "other/%d" % procs[0].pid, "--local")
        self.assertEqual((r.rc, r.json), (1, {"member": False}), r)

    def test_groups_and_counts(self):
        a, b = self.sleeper(), self.sleeper()
        self.assertEqual(self.ok("groups", "s").json, [])
        self.assertEqual(self.ok("group-count", "s").json, {"count": 0})
        self.ok("join", "s", "zeta", "--os-pid", a.pid)
        self.ok("join", "s", "alpha", "--os-pid", b.pid)
        self.ok("join", "s", "alpha", "--os-pid", a.pid)
        self.ok("join", "t", "other", "--os-pid", a.pid)
        self.assertEqual(self.ok("groups", "s").json, ["alpha", "zeta"])
        self.assertEqual(self.ok("groups", "s", "--local").json, ["alpha", "zeta"])
        self.assertEqual(self.ok("groups", "s", "--node", "zz").json, [])
        self.assertEqual(self.ok("groups", "s", json_out=False).out, "alpha\nzeta\n")
        self.assertEqual(self.ok("group-count", "s").json, {"count": 2})
        self.assertEqual(self.ok("group-count", "s", "--local").json, {"count": 2})
        self.assertEqual(self.ok("group-count", "s", "--node", "zz").json, {"count": 0})
        self.assertEqual(self.ok("group-count", "t").json, {"count": 1})
        # A group with no member left is gone.
        self.ok("leave", "s", "zeta", "--os-pid", a.pid)
        self.assertEqual(self.ok("groups", "s").json, ["alpha"])

    def test_refusals(self):
        a = self.sleeper()
        self.refused(3, "not_alive", "join", "s", "g", "--os-pid", self.dead_pid())
        self.refused(3, "invalid_scope", "join", "nope", "g", "--os-pid", a.pid)
        self.refused(3, "invalid_scope", "members", "nope", "g")
        self.refused(3, "invalid_scope", "is-member", "nope", "g", "--os-pid", a.pid)
        self.refused(3, "invalid_scope", "member-count", "nope", "g")
        self.refused(3, "invalid_scope", "groups", "nope")
        self.refused(3, "invalid_scope", "group-count", "nope")
        self.refused(3, "not_in_group", "leave", "s", "g", "--os-pid", a.pid)
        self.assertEqual(self.ok("members", "s", "g").json, [])


class Scopes(CliTest):
    """status, scopes, add-scope, nodes."""

    def test_status_scopes_add_scope(self):
        r = self.ok("status")
        self.assertEqual(r.json["node"], "n1")
        self.assertEqual(r.json["scopes"], ["s", "t"])
        self.assertEqual(r.json["peers"], [])
        self.assertIn("requests", r.json["stats"])
        self.assertEqual(self.ok("scopes").json, ["s", "t"])
        a = self.sleeper()
        self.refused(3, "invalid_scope", "register", "new", "x", "--os-pid", a.pid)
        self.assertEqual(self.ok("add-scope", "new").json, {"ok": True})
        self.assertEqual(self.ok("add-scope", "new").json, {"ok": True})
        self.assertEqual(self.ok("scopes").json, ["new", "s", "t"])
        self.ok("register", "new", "x", "--os-pid", a.pid)
        self.assertEqual(self.ok("lookup", "new", "x").json["pid"], self.pid_of(a))
        self.ok("join", "new", "g", "--os-pid", a.pid)
        self.assertEqual(self.ok("member-count", "new", "g").json, {"count": 1})
        self.assertEqual(self.ok("nodes", "new").json, [])
        self.refused(3, "invalid_scope", "nodes", "nope")
        self.refused(3, "invalid_argument", "add-scope", "")
        self.refused(3, "invalid_argument", "add-scope", "x" * 64)
        self.refused(3, "invalid_argument", "add-scope", "a/b")
        self.assertEqual(self.ok("scopes").json, ["new", "s", "t"])
        self.assertEqual(self.ok("scopes", json_out=False).out, "new\ns\nt\n")
        r = self.ok("status", json_out=False)
        self.assertIn("node: n1", r.out)
        self.assertIn("scopes: new s t", r.out)

    def test_no_peers_alone(self):
        """A node without a dataplane has no peers: status lists none, nodes
        SCOPE is empty (text: nothing at all), an unknown scope is refused."""
        r = self.ok("status")
        self.assertEqual(r.json["peers"], [])
        self.assertEqual(list(r.json), ["node", "scopes", "peers", "stats", "drops"])
        # alone, nothing came from peers, nothing was dropped
        self.assertEqual(r.json["stats"]["peer_messages"], 0)
        self.assertEqual(r.json["drops"], {"bad_mac": 0, "malformed": 0, "truncated": 0,
                                           "replayed": 0, "unknown_peer": 0,
                                           "unknown_scope": 0})
        r = self.ok("status", json_out=False)
        self.assertIn("\npeers: none\n", r.out)
        self.assertNotIn("RTT_MS", r.out)
        for scope in ("s", "t"):
            self.assertEqual(self.ok("nodes", scope).json, [])
            r = self.ok("nodes", scope, json_out=False)
            self.assertEqual((r.out, r.err), ("", ""))
        self.refused(3, "invalid_scope", "nodes", "nope")
        r = self.ctl("nodes", "nope", json_out=False)
        self.assertEqual((r.rc, r.out), (3, ""), r)
        self.assertIn("invalid_scope", r.err)


class Events(CliTest):
    """watch: the events of writes and of deaths, with their reasons; a death
    removes the process from every table."""

    def test_writes(self):
        a = self.sleeper()
        pa = self.pid_of(a)
        w = self.start_watch("s", count=6)
        self.ok("register", "s", "x", "--os-pid", a.pid, "--meta", "m1")
        self.ok("register", "s", "x", "--os-pid", a.pid, "--meta", "m2")
        self.ok("unregister", "s", "x")
        self.ok("join", "s", "g", "--os-pid", a.pid, "--meta", "j1")
        self.ok("join", "s", "g", "--os-pid", a.pid, "--meta", "j2")
        self.ok("leave", "s", "g", "--os-pid", a.pid)
        ev = self.watch_result(w)
        base = {"scope": "s", "pid": pa, "node": "n1", "reason": "normal"}
        self.assertEqual(ev, [
            dict(base, event="registered", name="x", meta="m1"),
            dict(base, event="registry_updated", name="x", meta="m2", prev_meta="m1"),
            dict(base, event="unregistered", name="x", meta="m2"),
            dict(base, event="joined", group="g", meta="j1"),
            dict(base, event="member_updated", group="g", meta="j2", prev_meta="j1"),
            dict(base, event="left", group="g", meta="j2"),
        ])

    def test_filters_and_text(self):
        a = self.sleeper()
        w = self.start_watch("s", "--name", "only", count=1)
        wg = self.start_watch("s", "--group", "gg", count=1)
        self.ok("register", "t", "only", "--os-pid", a.pid)     # another scope
        self.ok("register", "s", "other", "--os-pid", a.pid)    # another name
        self.ok("join", "s", "other-group", "--os-pid", a.pid)  # another group
        self.ok("join", "s", "gg", "--os-pid", a.pid)
        self.ok("register", "s", "only", "--os-pid", a.pid)
        self.assertEqual([(e["event"], e.get("name")) for e in self.watch_result(w)],
                         [("registered", "only")])
        self.assertEqual([(e["event"], e.get("group")) for e in self.watch_result(wg)],
                         [("joined", "gg")])
        # The text form.
        w = self.start_watch("s", count=1, json_out=False)
        self.ok("unregister", "s", "only")
        out, err = w.communicate(timeout=EVENT_TIMEOUT_MS / 1000 + 10)
        self.assertEqual(w.returncode, 0, err)
        self.assertEqual(out.decode(), "unregistered scope=s name=only pid=%s meta= "
                         "reason=normal\n" % self.pid_of(a))

    def test_watch_timeout_and_sigint(self):
        r = run_ctl(self.node.sock, "watch", "s", "--count", "1", "--timeout", "300")
        self.assertEqual((r.rc, r.json), (1, {"error": "timeout"}), r)
        r = run_ctl(self.node.sock, "watch", "s", "--timeout", "300")
        self.assertEqual((r.rc, r.out), (0, ""), r)
        self.refused(3, "invalid_scope", "watch", "nope")
        w = self.start_watch("s", count=5)
        os.kill(w.pid, signal.SIGINT)
        self.assertEqual(self.watch_result(w), [])

    def test_kill_removes_everywhere(self):
        a, b = self.sleeper(), self.sleeper()
        pa = self.pid_of(a)
        self.ok("register", "s", "victim", "--os-pid", a.pid, "--meta", "v")
        self.ok("register", "t", "victim-t", "--os-pid", a.pid)
        self.ok("join", "s", "g", "--os-pid", a.pid)
        self.ok("join", "s", "g", "--os-pid", b.pid)
        self.ok("register", "s", "survivor", "--os-pid", b.pid)
        w = self.start_watch("s", count=2)
        wt = self.start_watch("t", count=1)
        os.kill(a.pid, signal.SIGKILL)
        ev = self.watch_result(w)
        evt = self.watch_result(wt)
        killed = self.node.death_reason("signal:KILL")
        self.assertEqual(sorted((e["event"], e.get("name", e.get("group")), e["pid"],
                                 e["reason"]) for e in ev),
                         [("left", "g", pa, killed), ("unregistered", "victim", pa, killed)])
        self.assertEqual([(e["event"], e["name"], e["reason"]) for e in evt],
                         [("unregistered", "victim-t", killed)])
        self.refused(1, "undefined", "lookup", "s", "victim")
        self.refused(1, "undefined", "lookup", "t", "victim-t")
        self.assertEqual([m["pid"] for m in self.ok("members", "s", "g").json],
                         [self.pid_of(b)])
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 1})
        r = self.ctl("is-member", "s", "g", pa)
        self.assertEqual((r.rc, r.json), (1, {"member": False}), r)
        # It cannot come back: the pid is dead (and not reaped yet).
        self.refused(3, "not_alive", "register", "s", "victim", pa)
        a.wait(10)

    def test_exit_code_reason(self):
        """A plain exit with code 3 gives the reason exit:3."""
        p = self.spawn(["sh", "-c", "read line; exit 3"], stdin=subprocess.PIPE)
        self.ok("register", "s", "quitter", "--os-pid", p.pid)
        self.ok("join", "s", "g", "--os-pid", p.pid)
        w = self.start_watch("s", count=2)
        p.stdin.close()  # read fails: the shell exits 3
        ev = self.watch_result(w)
        self.assertEqual(sorted((e["event"], e["reason"]) for e in ev),
                         [("left", self.node.death_reason("exit:3")),
                          ("unregistered", self.node.death_reason("exit:3"))])
        self.refused(1, "undefined", "lookup", "s", "quitter")
        self.assertEqual(self.ok("member-count", "s", "g").json, {"count": 0})
        self.assertEqual(p.wait(10), 3)


class NodeStops(CliTest):
    """A node that stops under a watch and a held handle: both end with
    exit status 4 (connection_lost), not a hang."""

    def test_node_stops(self):
        w = self.start_watch("s", count=1)
        h = self.spawn(ctl_args(self.node.sock, ["handle-new"]), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        rl, _, _ = select.select([h.stdout], [], [], READY_TIMEOUT)
        self.assertTrue(rl, "handle-new printed nothing")
        h.stdout.readline()
        self.assertEqual(self.node.stop(), 0)
        out, _ = w.communicate(timeout=CMD_TIMEOUT)
        self.assertEqual((w.returncode, json.loads(out)), (4, {"error": "connection_lost"}))
        out, _ = h.communicate(timeout=CMD_TIMEOUT)
        self.assertEqual(h.returncode, 4)


class Handles(CliTest):
    """handle-new: a process that lives as long as its synodectl."""

    def start_handle(self, sock=None):
        h = self.spawn(ctl_args(sock or self.node.sock, ["handle-new"]),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
        rl, _, _ = select.select([h.stdout], [], [], READY_TIMEOUT)
        self.assertTrue(rl, "handle-new printed nothing")
        line = h.stdout.readline()
        info = json.loads(line)
        self.assertEqual(info["node"], "n1")
        self.assertRegex(info["pid"], r"^n1/\d+$")
        self.assertGreaterEqual(int(info["pid"].split("/")[1]), 1 << 32)
        return h, info["pid"]

    def test_handle_lives_with_its_synodectl(self):
        h, pid = self.start_handle()
        self.ok("register", "s", "leased", pid, "--meta", "h")
        self.ok("join", "s", "hg", pid)
        self.assertEqual(self.ok("lookup", "s", "leased").json["pid"], pid)
        w = self.start_watch("s", count=2)
        os.kill(h.pid, signal.SIGTERM)
        self.assertEqual(h.wait(10), 0)
        ev = self.watch_result(w)
        self.assertEqual(sorted((e["event"], e["pid"], e["reason"]) for e in ev),
                         [("left", pid, "normal"), ("unregistered", pid, "normal")])
        self.refused(1, "undefined", "lookup", "s", "leased")
        self.refused(3, "not_alive", "register", "s", "leased", pid)

    def test_handle_dies_when_killed(self):
        h, pid = self.start_handle()
        self.ok("register", "s", "leased", pid)
        w = self.start_watch("s", count=1)
        os.kill(h.pid, signal.SIGKILL)
        ev = self.watch_result(w)
        self.assertEqual([(e["event"], e["reason"]) for e in ev],
                         [("unregistered", "normal")])


class Strict(CliTest):
    """--strict: writes only for the caller's own process."""

    node_extra = ("--strict",)

    def test_not_self(self):
        a = self.sleeper()
        self.refused(3, "not_self", "register", "s", "x", "--os-pid", a.pid)
        self.refused(3, "not_self", "join", "s", "g", "--os-pid", a.pid)
        self.assertEqual(self.ok("registry-count", "s").json, {"count": 0})
        # Its own pid: `exec` keeps the shell's pid ($$) for synodectl.
        cmd = "exec '%s' --socket '%s' --json register s me --os-pid $$" % (
            SYNODECTL, self.node.sock)
        r = subprocess.run(["sh", "-c", cmd], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=CMD_TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(json.loads(r.stdout)["ok"], True)
        # Another connection's handle is not the caller's either.
        h = self.spawn(ctl_args(self.node.sock, ["handle-new"]), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        rl, _, _ = select.select([h.stdout], [], [], READY_TIMEOUT)
        self.assertTrue(rl)
        pid = json.loads(h.stdout.readline())["pid"]
        self.refused(3, "not_self", "register", "s", "y", pid)
        # Reads are for everyone.
        self.refused(1, "undefined", "lookup", "s", "y")


class Usage(CliTest):
    """synodectl's command line (exit 2), help texts, unreachable nodes (4)."""

    def usage(self, *args, sock="default"):
        r = run_ctl(self.node.sock if sock == "default" else sock, *args)
        self.assertEqual(r.rc, 2, r)
        self.assertEqual(r.json, {"error": "usage"}, r)
        self.assertIn("synodectl", r.err)
        return r

    def test_usage_errors(self):
        self.usage()
        self.usage("frobnicate")
        self.usage("lookup", "s")
        self.usage("lookup", "s", "a", "b")
        self.usage("register", "s", "x")                            # no process
        self.usage("register", "s", "x", "n1/1", "--os-pid", "1")   # two processes
        self.usage("register", "s", "x", "not-a-pid")
        self.usage("register", "s", "x", "--os-pid", "0")
        self.usage("register", "s", "x", "--os-pid", "12ab")
        self.usage("update", "s", "x")                              # no --meta
        self.usage("lookup", "s", "x", "--meta", "m")               # not its option
        self.usage("registry", "s", "--node", "a", "--local")
        self.usage("watch", "s", "--name", "a", "--group", "b")
        self.usage("watch", "s", "--count", "0")
        self.usage("lookup", "s", "x", "--bogus")
        self.usage("lookup", "s", "x", "--timeout", "soon")
        self.usage("lookup", "s", "x", "--socket")
        self.usage("status", sock="")
        r = self.usage("--node", "a", "status")  # after --socket
        self.assertIn("--socket and --node", r.err)

    def test_double_dash_and_equals(self):
        a = self.sleeper()
        self.ok("register", "s", "--os-pid=%d" % a.pid, "--meta=m=1", "--", "-dash")
        # After "--", an option is an argument.
        self.usage("register", "s", "--", "-dash", "--os-pid=%d" % a.pid)
        r = self.ok("lookup", "s", "--", "-dash")
        self.assertEqual((r.json["name"], r.json["meta"]), ("-dash", "m=1"))

    def test_help(self):
        r = run_ctl(None, "--help", json_out=False)
        self.assertEqual(r.rc, 0, r)
        for cmd in ("status", "scopes", "add-scope", "nodes", "register", "update",
                    "unregister", "lookup", "registry", "registry-count", "join", "leave",
                    "members", "is-member", "member-count", "groups", "group-count",
                    "watch", "handle-new", "base64"):
            self.assertIn(cmd, r.out)
        peer_keys = ['"address"', '"state"', '"version"', '"rtt_us"', '"frames_tx"',
                     '"frames_rx"', '"bytes_tx"', '"bytes_rx"', '"retransmits"', '"drops"']
        for cmd, words in (("register", ["--os-pid", "--meta", '{"ok": true, "pid"']),
                           ("status", peer_keys + ['"scopes": [SCOPE', "round-trip"]),
                           ("nodes", peer_keys + ["subcluster", "round-trip"]),
                           ("watch", ["--count", "--name", "--group", '"reason"']),
                           ("members", ["--local", '"pid"'])):
            r = run_ctl(None, cmd, "--help", json_out=False)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("Usage: synodectl", r.out)
            for w in words:
                self.assertIn(w, r.out)
            self.assertEqual(run_ctl(None, "help", cmd, json_out=False).out, r.out)
            self.assertNotIn("runs alone", r.out)  # a node may have peers
        r = run_ctl(None, "--version", json_out=False)
        self.assertRegex(r.out, r"^synodectl \S+\n$")

    def test_unreachable(self):
        missing = os.path.join(self.tmp, "missing.sock")
        r = run_ctl(missing, "status")
        self.assertEqual((r.rc, r.json), (4, {"error": "no_node"}), r)
        self.assertIn(missing, r.err)
        # A socket file nobody listens on (a node that died).
        import socket
        dead = os.path.join(self.tmp, "dead.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(dead)
        s.close()
        r = run_ctl(dead, "lookup", "s", "x")
        self.assertEqual((r.rc, r.json), (4, {"error": "no_node"}), r)
        # A node that does not answer in time: a listener that never accepts.
        mute = os.path.join(self.tmp, "mute.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(mute)
        s.listen(8)
        try:
            t0 = time.monotonic()
            r = run_ctl(mute, "--timeout", "300", "status")
            self.assertEqual((r.rc, r.json), (4, {"error": "timeout"}), r)
            self.assertLess(time.monotonic() - t0, CMD_TIMEOUT)
        finally:
            s.close()
        # The node stopped meanwhile.
        self.assertEqual(self.node.stop(), 0)
        r = run_ctl(self.node.sock, "status")
        self.assertEqual((r.rc, r.json), (4, {"error": "no_node"}), r)
        r = run_ctl(None, "--node", "no-such-node-here", "status")
        self.assertEqual((r.rc, r.json), (4, {"error": "no_node"}), r)


def main():
    for var, prog in (("SYNODE", SYNODE), ("SYNODECTL", SYNODECTL)):
        if not prog or not os.access(prog, os.X_OK):
            print("skipped: %s=%r is not a program (not built?)" % (var, prog))
            sys.exit(77)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
