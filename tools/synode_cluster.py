#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""synode_cluster: N synode nodes on this machine, for people and for tests.

tools/cluster is its command line; tests/cluster/ imports it by path. Two
transports (DESIGN.md, Running without a NIC):

af_packet (default)
    A Linux bridge in a network namespace of its own; each node's ports in
    its own namespace with one end of a veth pair, the other end a port of
    the bridge. DPDK drives the node's end with net_af_packet; the node
    opens its ports there (synode --netns) and itself stays in the first
    namespace, where the kernel's process-events connector gives it the
    exit reasons of processes. Node i gets
    10.X.0.i/24 (X derived from the cluster's tag). The kernel has no
    address on the node's end: ARP and ICMP are the dataplane's. A netsplit
    is a bridge port set down (or, between chosen nodes, an nftables rule on
    the bridge); loss is the nftables table `bridge chaos` of DESIGN.md.

forward
    A memif star through synode-forward (tools/synode_forward.c, issue 5): a
    seeded hub that loses, duplicates, reorders, delays, corrupts and cuts
    frames, since this kernel has no netem. Each node has one memif port, a
    client; the forwarder is the server of them all, started before the
    nodes and stopped after them. Its faults: --faults SPEC at start,
    `tools/cluster faults SPEC` later (DIR/forward.faults re-read on
    SIGHUP); `tools/cluster faults` prints them with its counters. The seed
    is printed (--seed N, or $SYNODE_FORWARD_SEED, replays it). Log:
    DIR/forward.log.

memif
    A full mesh of net_memif pairs, no namespaces: node i has one memif port
    per other node j, server side on the lower-numbered node of each pair.
    Nodes start one after the other, each once its control socket answers,
    so that every client finds its server's socket already there.

Everything a cluster creates is named with a tag derived from its directory
(sn<5 hex digits>), so two clusters never clash, and is recorded in
DIR/cluster.json before or as it is created: `stop` removes all of it (its
processes by pid, checked against their start time; the namespaces, which
take the veths, the bridge and the nftables tables with them; sockets; DPDK
runtime dirs), also after a node crashed or after a run that died half way.
Node logs: DIR/nI.log (appended to across restarts).

Python 3.9+, standard library only. Needs root (namespaces, nftables).
"""
import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

STATE_FILE = "cluster.json"
LOCK_FILE = ".cluster.lock"
DEFAULT_DIR = os.environ.get("SYNODE_CLUSTER_DIR", "/tmp/synode-cluster")
DEFAULT_SCOPE = "default"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DPDK_RUN = "/var/run/dpdk"

# The nftables table of DESIGN.md (random loss) and the one of split --from.
LOSS_TABLE = "chaos"
SPLIT_TABLE = "snsplit"

# Transports; "forward": a memif star through synode-forward (issue 5).
TRANSPORTS = ("af_packet", "memif", "forward")
FAULT_KEYS = ("loss", "dup", "reorder", "corrupt", "delay", "delay-us", "jitter",
              "jitter-us", "reorder-us", "cut")

CMD_TIMEOUT = 15.0     # s, one ip/nft/synodectl run
READY_TIMEOUT = 30.0   # s, a node's control socket to answer
STOP_GRACE = 5.0       # s, after SIGTERM before SIGKILL


class ClusterError(Exception):
    """Something the user should read: a bad request or a failed step."""


class CtlResult:
    """One synodectl run: exit status, stdout, stderr, stdout as JSON."""

    def __init__(self, argv, rc, out, err):
        self.argv = argv
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
        return "[%s] rc=%d out=%r err=%r" % (" ".join(map(str, self.argv)), self.rc,
                                             self.out, self.err)


# -- helpers ------------------------------------------------------------------

def tag_for(directory):
    """The cluster's tag: short, derived from its directory's real path."""
    path = os.path.realpath(directory).encode()
    return "sn" + hashlib.sha256(path).hexdigest()[:5]


def run(argv, check=True, timeout=CMD_TIMEOUT, input_text=None):
    """Runs a helper command (ip, nft); raises ClusterError if it fails."""
    try:
        p = subprocess.run(argv, input=input_text, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ClusterError("%s: not installed (Debian: apt-get install %s)"
                           % (argv[0], {"nft": "nftables"}.get(argv[0], "iproute2")))
    except subprocess.TimeoutExpired:
        raise ClusterError("%s: no answer in %.0f s" % (" ".join(argv), timeout))
    if check and p.returncode != 0:
        raise ClusterError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                (p.stderr or p.stdout).strip()))
    return p


def proc_stat(pid):
    """(state, start time in clock ticks) of pid, or None if there is none."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm may hold spaces and parentheses: fields start after the last ')'.
    rest = data[data.rfind(")") + 2:].split()
    return rest[0], int(rest[19])


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def reap(pid):
    """Reaps pid if it is our child and has ended (no zombie left)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError:
        pass


def alive(pid, start):
    """True while the process pid started at tick start runs (not a zombie,
    not a new process that reuses the pid)."""
    if not pid:
        return False
    st = proc_stat(pid)
    if st is None or st[1] != start:
        return False
    if st[0] in ("Z", "X"):
        reap(pid)
        return False
    return True


def signal_pid(pid, start, sig):
    """Sends sig to pid if it is still the process we started."""
    if alive(pid, start):
        try:
            os.kill(pid, sig)
            return True
        except ProcessLookupError:
            pass
    return False


def wait_dead(procs, timeout):
    """Waits until every (pid, start) in procs has ended; returns those
    still running after timeout."""
    end = time.monotonic() + timeout
    left = list(procs)
    while left:
        for p in left:
            reap(p[0])
        left = [p for p in left if alive(*p)]
        if not left or time.monotonic() >= end:
            break
        time.sleep(0.02)
    return left


def socket_answers(path):
    """True if a Unix stream socket at path accepts a connection."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class shielded:
    """Ignores SIGINT and SIGTERM inside (main thread only): a cleanup is
    not to be cut short half way."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = [signal.signal(s, signal.SIG_IGN) for s in self.SIGNALS]
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            for s, h in zip(self.SIGNALS, self.old):
                signal.signal(s, h)
        return False


def tail(path, lines=25):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip("\n").split("\n")[-lines:])


def netns_list():
    p = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def default_binary(name):
    env = os.environ.get(name.upper())
    if env:
        return env
    return os.path.join(ROOT, "build", "tools", name)


def cpu_list():
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cpus = list(range(os.cpu_count() or 1))
    return ",".join(str(c) for c in cpus)


def parse_scope(spec, n):
    """'NAME' (every node) or 'NAME@I,J' (those nodes, 1-based) ->
    (name, [indexes])."""
    name, _, nodes = spec.partition("@")
    if not name:
        raise ClusterError("--scope %r: no name" % spec)
    if not nodes:
        return name, list(range(1, n + 1))
    idx = []
    for part in nodes.split(","):
        part = part.strip().lstrip("n")
        if not part.isdigit() or not 1 <= int(part) <= n:
            raise ClusterError("--scope %r: %r is not a node 1..%d" % (spec, part, n))
        idx.append(int(part))
    return name, sorted(set(idx))


# -- the cluster --------------------------------------------------------------

class Cluster:
    """A cluster in a directory; its state lives in DIR/cluster.json.

    Every method that changes something saves the state at once, so that
    another process (tools/cluster stop) sees all that exists.
    """

    def __init__(self, directory=DEFAULT_DIR, log=None, new_session=True):
        """new_session: start the nodes in a session of their own (the
        command line: they outlive it). A test runner gives False, so that
        killing its process group (a timeout) ends the nodes too."""
        self.dir = os.path.abspath(directory)
        self.new_session = new_session
        self.tag = tag_for(self.dir)
        self.state_path = os.path.join(self.dir, STATE_FILE)
        self.log = log or (lambda msg: None)
        self.children = {}   # pid -> Popen, for the nodes this process started
        self.exit_codes = {}  # pid -> exit status (Popen's), of those that ended
        self.state = None
        self.load()

    # state --------------------------------------------------------------

    def load(self):
        try:
            with open(self.state_path, encoding="utf-8") as f:
                self.state = json.load(f)
        except FileNotFoundError:
            self.state = None
        except ValueError as e:
            raise ClusterError("%s: unreadable (%s); remove it after checking "
                               "what runs" % (self.state_path, e))
        return self.state is not None

    def save(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.state_path)

    def require(self):
        if self.state is None:
            raise ClusterError("no cluster in %s (start one: tools/cluster start N)"
                               % self.dir)
        return self.state

    @property
    def nodes(self):
        return self.require()["nodes"]

    def node(self, ref):
        """A node by name (n2) or number (2)."""
        ref = str(ref)
        for nd in self.nodes:
            if ref == nd["name"] or ref == str(nd["index"]):
                return nd
        raise ClusterError("no node %r (nodes: %s)"
                           % (ref, ", ".join(nd["name"] for nd in self.nodes)))

    def lock(self, create=False):
        """An exclusive lock on the directory (one command at a time)."""
        if create:
            os.makedirs(self.dir, exist_ok=True)
        elif not os.path.isdir(self.dir):
            raise ClusterError("no cluster in %s (no such directory)" % self.dir)
        fd = os.open(os.path.join(self.dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def unlock(fd):
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def owner_alive(self):
        """True while the process that started the cluster runs."""
        owner = (self.state or {}).get("owner") or {}
        return alive(owner.get("pid"), owner.get("start"))

    # names --------------------------------------------------------------

    def ns_bridge(self):
        return self.tag + "br"

    def ns_node(self, i):
        return "%sn%d" % (self.tag, i)

    def subnet_byte(self):
        return int(self.tag[2:], 16) % 250 + 1

    # start --------------------------------------------------------------

    def start(self, n, transport="af_packet", scopes=None, poll=None,
              down_after_ms=None, synode=None, synodectl=None, eal_extra=(),
              node_extra=(), ready_timeout=READY_TIMEOUT, no_eal=False,
              discovery="peers", faults=None, seed=None, insecure=False):
        """Starts n nodes; returns when every control socket answers.
        The nodes share a cluster key, DIR/cluster.key (32 random bytes,
        mode 0600, made anew each start), unless insecure (--insecure: no
        MAC on the frames), or node_extra gives --key-file or --insecure.
        discovery: "peers" (each node gets every other as --peer) or
        "broadcast" (no --peer: nodes find each other with --broadcast,
        af_packet only). On any
        failure or interruption (KeyboardInterrupt, SystemExit) it removes
        all it made and re-raises."""
        if not 1 <= n <= 64:
            raise ClusterError("N must be 1..64, not %d" % n)
        if transport not in TRANSPORTS:
            raise ClusterError("transport: %s, not %r" % (", ".join(TRANSPORTS), transport))
        if (faults or seed is not None) and transport != "forward":
            raise ClusterError("faults and seed need the forward transport")
        if discovery not in ("peers", "broadcast"):
            raise ClusterError("discovery: peers or broadcast, not %r" % discovery)
        if discovery == "broadcast" and transport != "af_packet":
            raise ClusterError("broadcast discovery needs a shared segment: af_packet")
        if transport == "af_packet" and os.geteuid() != 0:
            raise ClusterError("af_packet needs root (network namespaces)")
        synode = os.path.abspath(synode or default_binary("synode"))
        synodectl = os.path.abspath(synodectl or default_binary("synodectl"))
        if not os.access(synode, os.X_OK):
            raise ClusterError("%s: not a program (build it: ninja -C build, or --synode)"
                               % synode)
        scope_map = [parse_scope(s, n) for s in (scopes or [DEFAULT_SCOPE])]
        served = {i: [s for s, idx in scope_map if i in idx] for i in range(1, n + 1)}
        for i, lst in served.items():
            if not lst:
                raise ClusterError("node %d would serve no scope" % i)

        fd = self.lock(create=True)
        try:
            self.load()
            if self.state is not None:
                running = [nd["name"] for nd in self.state["nodes"]
                           if alive(nd.get("pid"), nd.get("start"))]
                if running:
                    raise ClusterError("a cluster runs in %s (nodes %s): tools/cluster "
                                       "stop --dir %s first" % (self.dir, ", ".join(running),
                                                                self.dir))
            # Whatever an earlier run left (it died, or its state is gone).
            self._cleanup()
            x = self.subnet_byte()
            self.state = {
                "tag": self.tag, "dir": self.dir, "transport": transport, "n": n,
                "status": "starting", "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "synode": synode, "synodectl": synodectl,
                "bridge_ns": self.ns_bridge() if transport == "af_packet" else None,
                "bridge": self.tag + "br" if transport == "af_packet" else None,
                "netns": [], "memif_sockets": [], "split": None, "loss": 0,
                "discovery": discovery,
                "key_file": None if insecure else os.path.join(self.dir, "cluster.key"),
                "nodes": [],
                # Who started it: a test sweeps the clusters of dead runs.
                "owner": {"pid": os.getpid(), "start": (proc_stat(os.getpid()) or
                                                        (None, None))[1]},
            }
            for i in range(1, n + 1):
                nd = {
                    "index": i, "name": "n%d" % i, "ip": "10.%d.0.%d" % (x, i),
                    "prefix_len": 24, "scopes": served[i],
                    "socket": os.path.join(self.dir, "n%d.sock" % i),
                    "log": os.path.join(self.dir, "n%d.log" % i),
                    "file_prefix": "%sn%d" % (self.tag, i),
                    "pid": None, "start": None, "restarts": 0,
                }
                if transport == "af_packet":
                    nd["netns"] = self.ns_node(i)
                    nd["veth"] = "%sn%d" % (self.tag, i)
                    nd["bridge_port"] = "%sb%d" % (self.tag, i)
                self.state["nodes"].append(nd)
            self.save()
            try:
                if transport == "af_packet":
                    self._make_bridge()
                elif transport == "forward":
                    # Issue 5: synode-forward, started before the nodes.
                    self._start_forward(faults, seed, eal_extra, ready_timeout)
                else:
                    self._plan_memif()
                if self.state["key_file"] is not None:
                    # Issue 5: the cluster key, only ours may read it.
                    kf = self.state["key_file"]
                    for f in (kf, kf + ".next"):
                        if os.path.lexists(f):
                            os.unlink(f)
                    kfd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    try:
                        os.write(kfd, os.urandom(32))
                    finally:
                        os.close(kfd)
                for nd in self.state["nodes"]:
                    nd["argv"] = self._argv(nd, poll, down_after_ms, eal_extra,
                                            node_extra, no_eal)
                self.save()
                for nd in self.state["nodes"]:
                    self._spawn(nd)
                    if transport == "memif":
                        # A memif client connects once, when its port
                        # starts: its server's socket must be there first.
                        self._wait_listening(nd, ready_timeout)
                self._wait_ready(self.state["nodes"], ready_timeout)
                self.state["status"] = "running"
                self.save()
            except BaseException:
                self.log("start failed: cleaning up")
                with shielded():
                    self._stop_locked()
                raise
        finally:
            self.unlock(fd)

    def _make_bridge(self):
        st = self.state
        br_ns, br = st["bridge_ns"], st["bridge"]
        st["netns"].append(br_ns)
        self.save()
        run(["ip", "netns", "add", br_ns])
        self._quiet_ns(br_ns)
        run(["ip", "-n", br_ns, "link", "add", br, "type", "bridge",
             "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0"])
        run(["ip", "-n", br_ns, "link", "set", br, "up"])
        for nd in st["nodes"]:
            ns = nd["netns"]
            st["netns"].append(ns)
            self.save()
            run(["ip", "netns", "add", ns])
            self._quiet_ns(ns)
            run(["ip", "link", "add", nd["veth"], "netns", ns, "type", "veth",
                 "peer", "name", nd["bridge_port"], "netns", br_ns])
            run(["ip", "-n", br_ns, "link", "set", nd["bridge_port"], "master", br])
            run(["ip", "-n", br_ns, "link", "set", nd["bridge_port"], "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", nd["veth"], "up"])
        self.log("bridge %s in netns %s, %d veth pairs" % (br, br_ns, len(st["nodes"])))

    @staticmethod
    def _quiet_ns(ns):
        # No IPv6 in the namespace: the kernel would send router
        # solicitations and MLD reports on the veths, frames the dataplane
        # has to read and drop. Best effort.
        run(["ip", "netns", "exec", ns, "sysctl", "-qw",
             "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
            check=False)

    def _plan_memif(self):
        st = self.state
        n = st["n"]
        for nd in st["nodes"]:
            nd["memif"] = []
        for i in range(1, n + 1):
            for j in range(i + 1, n + 1):
                path = os.path.join(self.dir, "m%d-%d.sock" % (i, j))
                if len(path) >= 108:
                    raise ClusterError("%s: too long for a Unix socket; use a shorter --dir"
                                       % path)
                st["memif_sockets"].append(path)
                for me, other, role in ((i, j, "server"), (j, i, "client")):
                    st["nodes"][me - 1]["memif"].append({
                        "peer": other, "role": role, "socket": path,
                        # Unique, locally administered, unicast.
                        "mac": "02:53:4e:%02x:%02x:%02x" % (me, other,
                                                          self.subnet_byte()),
                    })
        self.save()

    def _eal(self, nd, eal_extra):
        # Telemetry on (issue 5): /synode/drops, /synode/peers and
        # /synode/stats on /var/run/dpdk/PREFIX/dpdk_telemetry.v2, for
        # dpdk-telemetry.py -f PREFIX.
        eal = ["--no-huge", "--no-pci", "--no-shconf", "-m", "64",
               "--file-prefix", nd["file_prefix"],
               # The main lcore floats over every CPU: pinned (EAL's default)
               # all the nodes would share CPU 0.
               "--lcores", "0@(%s)" % cpu_list(),
               "--log-level", "*:warning"]
        if self.state["transport"] == "af_packet":
            eal += ["--vdev", "net_af_packet0,iface=%s,framecnt=8192,qdisc_bypass=1"
                    % nd["veth"]]
        else:
            for k, m in enumerate(nd["memif"]):
                eal += ["--vdev", "net_memif%d,role=%s,id=0,socket=%s,socket-abstract=no,"
                        "mac=%s" % (k, m["role"], m["socket"], m["mac"])]
        return eal + list(eal_extra)

    def _argv(self, nd, poll, down_after_ms, eal_extra, node_extra, no_eal):
        st = self.state
        opts = ["--name", nd["name"], "--control", nd["socket"]]
        for s in nd["scopes"]:
            opts += ["--scope", s]
        if not no_eal:
            opts += ["--ip", "%s/%d" % (nd["ip"], nd["prefix_len"])]
            if st.get("discovery") == "broadcast":
                opts += ["--broadcast"]
            else:
                for other in st["nodes"]:
                    if other is not nd:
                        opts += ["--peer", other["ip"]]
            if poll:
                opts += ["--poll", poll]
            if down_after_ms:
                opts += ["--down-after-ms", str(down_after_ms)]
            # The cluster key (issue 5), unless the caller gives its own.
            if not {"--key-file", "--insecure"} & set(node_extra):
                if st.get("key_file"):
                    # .next: missing until a rotation writes it (SIGHUP).
                    opts += ["--key-file", st["key_file"],
                             "--key-file-next", st["key_file"] + ".next"]
                else:
                    opts += ["--insecure"]
        if st["transport"] == "af_packet" and not no_eal:
            # Only the ports go in the node's namespace: the node stays in
            # ours, where the kernel's process-events connector gives it
            # the exit reasons of processes (none under ip netns exec).
            opts += ["--netns", nd["netns"]]
        opts += list(node_extra)
        argv = [st["synode"]]
        if not no_eal:
            argv += self._eal(nd, eal_extra) + ["--"]
        argv += opts
        if st["transport"] == "af_packet" and no_eal:
            argv = ["ip", "netns", "exec", nd["netns"]] + argv
        return argv

    def _spawn(self, nd):
        """Starts node nd (its argv), records its pid and start time."""
        for path in [nd["socket"]] + [m["socket"] for m in nd.get("memif", [])
                                      if m["role"] == "server"]:
            # A socket left by a crash: the node could not bind it.
            if os.path.exists(path) and not socket_answers(path):
                os.unlink(path)
        log = open(nd["log"], "ab")
        try:
            log.write(("=== tools/cluster %s: %s\n" % (
                time.strftime("%Y-%m-%dT%H:%M:%S"), " ".join(nd["argv"]))).encode())
            log.flush()
            nd["log_offset"] = log.tell()
            p = subprocess.Popen(nd["argv"], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT,
                                 start_new_session=self.new_session)
        finally:
            log.close()
        # ip netns exec execs synode in place: the pid is the node's.
        st = None
        for _ in range(100):
            st = proc_stat(p.pid)
            if st is not None:
                break
            time.sleep(0.001)
        nd["pid"] = p.pid
        nd["start"] = st[1] if st else None
        self.children[p.pid] = p
        self.save()
        self.log("%s: pid %d" % (nd["name"], p.pid))

    def _wait_listening(self, nd, timeout):
        """Waits until node nd listens on the sockets of its memif server
        ports (DPDK makes them when it probes the ports, before the node is
        ready)."""
        paths = [m["socket"] for m in nd.get("memif", []) if m["role"] == "server"]
        end = time.monotonic() + timeout
        while not all(os.path.exists(p) for p in paths):
            if not self.node_alive(nd):
                raise ClusterError("%s exited before it was ready (status %s); its log "
                                   "%s ends:\n%s" % (nd["name"], self.exit_status(nd),
                                                     nd["log"], tail(nd["log"])))
            if time.monotonic() >= end:
                raise ClusterError("%s: no memif server socket after %.0f s; its log:\n%s"
                                   % (nd["name"], timeout, tail(nd["log"])))
            time.sleep(0.01)

    def _wait_ready(self, nodes, timeout):
        end = time.monotonic() + timeout
        left = list(nodes)
        while left:
            for nd in list(left):
                if not self.node_alive(nd):
                    raise ClusterError("%s exited before it was ready (status %s); its log "
                                       "%s ends:\n%s" % (nd["name"], self.exit_status(nd),
                                                         nd["log"], tail(nd["log"])))
                if os.path.exists(nd["socket"]) and socket_answers(nd["socket"]):
                    left.remove(nd)
            if not left:
                break
            if time.monotonic() >= end:
                raise ClusterError("%s not ready after %.0f s; log of %s:\n%s"
                                   % (", ".join(nd["name"] for nd in left), timeout,
                                      left[0]["name"], tail(left[0]["log"])))
            time.sleep(0.05)

    # processes ----------------------------------------------------------

    def node_alive(self, nd):
        p = self.children.get(nd.get("pid"))
        if p is not None and p.poll() is not None:
            return False
        return alive(nd.get("pid"), nd.get("start"))

    def exit_status(self, nd):
        p = self.children.get(nd.get("pid"))
        if p is not None and p.poll() is not None:
            rc = p.returncode
            return "signal %s" % signal.Signals(-rc).name if rc < 0 else "exit %d" % rc
        return "unknown"

    def _end(self, procs, sig_first=signal.SIGTERM, grace=STOP_GRACE):
        """Ends (pid, start) pairs: sig_first, then SIGKILL after grace s."""
        procs = [p for p in procs if p[0]]
        for pid, start in procs:
            signal_pid(pid, start, sig_first)
        left = wait_dead(procs, grace) if sig_first != signal.SIGKILL else procs
        for pid, start in left:
            if signal_pid(pid, start, signal.SIGKILL):
                self.log("pid %d: killed (SIGKILL)" % pid)
        left = wait_dead(left, 5.0)
        for pid, _ in procs:
            p = self.children.pop(pid, None)
            if p is not None:
                try:
                    self.exit_codes[pid] = p.wait(0.1)
                except subprocess.TimeoutExpired:
                    pass
        return left

    def kill(self, ref, sig=signal.SIGKILL):
        """Sends sig to a node (default SIGKILL) and, for SIGKILL, SIGTERM,
        SIGINT, waits until it has ended."""
        fd = self.lock()
        try:
            self.load()
            nd = self.node(ref)
            if not self.node_alive(nd):
                raise ClusterError("%s is not running" % nd["name"])
            signal_pid(nd["pid"], nd["start"], sig)
            if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
                if wait_dead([(nd["pid"], nd["start"])], 10.0):
                    raise ClusterError("%s (pid %d) still runs 10 s after %s"
                                       % (nd["name"], nd["pid"], sig.name))
                p = self.children.pop(nd["pid"], None)
                if p is not None:
                    self.exit_codes[nd["pid"]] = p.wait(1)
            self.log("%s: pid %d sent %s" % (nd["name"], nd["pid"], sig.name))
        finally:
            self.unlock(fd)

    def restart(self, ref, ready_timeout=READY_TIMEOUT):
        """Stops a node if it runs (SIGTERM, then SIGKILL) and starts it again
        with the same command line."""
        fd = self.lock()
        try:
            self.load()
            nd = self.node(ref)
            if self.node_alive(nd):
                self._end([(nd["pid"], nd["start"])])
            nd["restarts"] = nd.get("restarts", 0) + 1
            self._spawn(nd)
            self._wait_ready([nd], ready_timeout)
            # memif: the client ports of the other nodes reconnect by
            # themselves (their dataplane restarts a client port whose
            # server went away, every second).
        finally:
            self.unlock(fd)

    # stop ---------------------------------------------------------------

    def stop(self):
        """Stops the nodes and removes all the cluster made. Returns a list
        of what it did (empty: nothing was there)."""
        if not os.path.isdir(self.dir):
            # No state, no lock: what the tag names may still exist.
            self.state = None
            done = self._cleanup()
            for d in done:
                self.log(d)
            return done
        fd = self.lock()
        try:
            self.load()
            return self._stop_locked()
        finally:
            self.unlock(fd)

    def _stop_locked(self):
        done = []
        if self.state is not None:
            procs = [(nd["pid"], nd["start"]) for nd in self.state["nodes"]
                     if nd.get("pid") and alive(nd["pid"], nd["start"])]
            if procs:
                left = self._end(procs)
                done.append("stopped %d node(s)" % (len(procs) - len(left)))
                if left:
                    done.append("could not end pids %s" % [p[0] for p in left])
        # The forwarder after the nodes (they are its memif clients).
        done += self._stop_forward()
        done += self._cleanup()
        if os.path.exists(self.state_path):
            os.unlink(self.state_path)
        self.state = None
        for d in done:
            self.log(d)
        return done

    def _stray_nodes(self):
        """Processes of this cluster that its state does not know (a start
        that died between spawning a node and saving its pid): found by
        their DPDK --file-prefix, which holds this cluster's tag."""
        found = []
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            argv = proc_cmdline(int(entry))
            for k, a in enumerate(argv[:-1]):
                if a == b"--file-prefix" and argv[k + 1].decode(
                        "ascii", "replace").startswith(self.tag + "n"):
                    st = proc_stat(int(entry))
                    if st is not None:
                        found.append((int(entry), st[1]))
                    break
        return found

    def _cleanup(self):
        """Removes whatever of this cluster exists, known or not."""
        done = []
        stray = self._stray_nodes()
        if stray:
            left = self._end(stray)
            done.append("ended %d stray node process(es) %s"
                        % (len(stray) - len(left), [p[0] for p in stray]))
        # A forwarder after the nodes (issue 5).
        done += self._cleanup_forward()
        st = self.state or {}
        ns_all = set(st.get("netns", []))
        try:
            ns_all |= {ns for ns in netns_list() if ns.startswith(self.tag)}
        except ClusterError:
            pass
        for ns in sorted(ns_all):
            p = run(["ip", "netns", "del", ns], check=False)
            if p.returncode == 0:
                done.append("deleted netns %s" % ns)
        paths = list(st.get("memif_sockets", []))
        for nd in st.get("nodes", []):
            paths.append(nd.get("socket"))
        if os.path.isdir(self.dir):
            for f in os.listdir(self.dir):
                if f.endswith(".sock") and (f.startswith("n") or f.startswith("m")):
                    paths.append(os.path.join(self.dir, f))
        for path in sorted({p for p in paths if p}):
            if os.path.lexists(path):
                try:
                    os.unlink(path)
                    done.append("removed %s" % path)
                except OSError:
                    pass
        if os.path.isdir(DPDK_RUN):
            for d in os.listdir(DPDK_RUN):
                if d.startswith(self.tag):
                    shutil.rmtree(os.path.join(DPDK_RUN, d), ignore_errors=True)
                    done.append("removed %s" % os.path.join(DPDK_RUN, d))
        return done

    # faults -------------------------------------------------------------

    def _need_bridge(self, what):
        st = self.require()
        if st["transport"] != "af_packet":
            raise ClusterError("%s needs the af_packet transport (a bridge)" % what)
        return st

    def split(self, refs, from_refs=None):
        """Netsplit. Without from_refs: the bridge ports of refs go down (each
        of them is cut off from every node). With from_refs: nftables drops
        every frame between a node of refs and a node of from_refs."""
        fd = self.lock()
        try:
            self.load()
            st = self._need_bridge("split")
            side = [self.node(r) for r in refs]
            if not side:
                raise ClusterError("split: which nodes?")
            br_ns = st["bridge_ns"]
            if not from_refs:
                for nd in side:
                    run(["ip", "-n", br_ns, "link", "set", nd["bridge_port"], "down"])
                ports_down = sorted(set((st["split"] or {}).get("down", []))
                                    | {nd["name"] for nd in side})
                st["split"] = dict(st["split"] or {}, down=ports_down)
            else:
                other = [self.node(r) for r in from_refs]
                both = {nd["name"] for nd in side} & {nd["name"] for nd in other}
                if both:
                    raise ClusterError("split: %s on both sides" % ", ".join(sorted(both)))
                rules = []
                for a in side:
                    for b in other:
                        for i, o in ((a, b), (b, a)):
                            rules.append("add rule bridge %s cut iifname \"%s\" oifname "
                                         "\"%s\" drop" % (SPLIT_TABLE, i["bridge_port"],
                                                          o["bridge_port"]))
                script = ("add table bridge %s\nadd chain bridge %s cut { type filter hook "
                          "forward priority -10; policy accept; }\n%s\n"
                          % (SPLIT_TABLE, SPLIT_TABLE, "\n".join(rules)))
                run(["ip", "netns", "exec", br_ns, "nft", "-f", "-"], input_text=script)
                pairs = list((st["split"] or {}).get("pairs", []))
                pairs += [[a["name"], b["name"]] for a in side for b in other]
                st["split"] = dict(st["split"] or {}, pairs=pairs)
            self.save()
        finally:
            self.unlock(fd)

    def heal(self):
        """Undoes every split: bridge ports up, the split table gone."""
        fd = self.lock()
        try:
            self.load()
            st = self._need_bridge("heal")
            br_ns = st["bridge_ns"]
            for nd in st["nodes"]:
                run(["ip", "-n", br_ns, "link", "set", nd["bridge_port"], "up"])
            run(["ip", "netns", "exec", br_ns, "nft", "delete", "table", "bridge",
                 SPLIT_TABLE], check=False)
            st["split"] = None
            self.save()
        finally:
            self.unlock(fd)

    def loss(self, pct):
        """Drops pct % of the frames the bridge forwards, at random (the
        nftables table of DESIGN.md); 0 removes the table."""
        if not 0 <= pct <= 100:
            raise ClusterError("loss: a percentage 0..100, not %r" % pct)
        fd = self.lock()
        try:
            self.load()
            st = self._need_bridge("loss")
            ns = ["ip", "netns", "exec", st["bridge_ns"]]
            run(ns + ["nft", "delete", "table", "bridge", LOSS_TABLE], check=False)
            if pct > 0:
                run(ns + ["nft", "add", "table", "bridge", LOSS_TABLE])
                run(ns + ["nft", "add", "chain", "bridge", LOSS_TABLE, "lossy",
                          "{ type filter hook forward priority 0; policy accept; }"])
                run(ns + ["nft", "add", "rule", "bridge", LOSS_TABLE, "lossy", "numgen",
                          "random", "mod", "100", "<", str(pct), "drop"])
            st["loss"] = pct
            self.save()
        finally:
            self.unlock(fd)

    # synodectl ----------------------------------------------------------

    def ctl_argv(self, ref, args, json_out=True):
        nd = self.node(ref)
        argv = [self.require()["synodectl"], "--socket", nd["socket"]]
        if json_out:
            argv.append("--json")
        return argv + [str(a) for a in args]

    def ctl(self, ref, *args, json_out=True, timeout=CMD_TIMEOUT):
        """Runs synodectl against a node; returns a CtlResult."""
        argv = self.ctl_argv(ref, args, json_out)
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            return CtlResult(argv, 124, "", "synodectl: no answer in %.0f s" % timeout)
        return CtlResult(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                         p.stderr.decode("utf-8", "replace"))

    def peer_states(self, ref):
        """{peer name: peer object} from the node's `status --json`, or None
        if the node does not answer."""
        r = self.ctl(ref, "status")
        if r.rc != 0 or not isinstance(r.json, dict):
            return None
        return {p.get("node"): p for p in r.json.get("peers", []) if isinstance(p, dict)}

    def running_nodes(self):
        return [nd for nd in self.nodes if self.node_alive(nd)]

    def wait_up(self, timeout=30.0, nodes=None):
        """Waits until every running node (or those given) sees every other
        running one with state "up". Returns the seconds it took; raises
        ClusterError with what each node saw last."""
        t0 = time.monotonic()
        end = t0 + timeout
        last = {}
        while True:
            run_nodes = [self.node(r) for r in nodes] if nodes else self.running_nodes()
            names = {nd["name"] for nd in run_nodes}
            ok = True
            for nd in run_nodes:
                peers = self.peer_states(nd["name"])
                last[nd["name"]] = ({k: v.get("state") for k, v in peers.items()}
                                    if peers is not None else "no answer")
                if peers is None or any(peers.get(o, {}).get("state") != "up"
                                        for o in names - {nd["name"]}):
                    ok = False
            if ok:
                return time.monotonic() - t0
            if time.monotonic() >= end:
                raise ClusterError("peers not all up after %.1f s; each node saw: %s"
                                   % (timeout, json.dumps(last, sort_keys=True)))
            time.sleep(0.1)

    def wait_peer(self, ref, peer, up=True, timeout=10.0):
        """Waits until node ref sees peer up (or, up=False, anything but up:
        down, or gone from its list). Returns the seconds it took."""
        t0 = time.monotonic()
        end = t0 + timeout
        while True:
            peers = self.peer_states(ref)
            if peers is not None:
                state = peers.get(self.node(peer)["name"], {}).get("state")
                if (state == "up") == up:
                    return time.monotonic() - t0
            if time.monotonic() >= end:
                raise ClusterError("%s does not see %s %s after %.1f s (its peers: %s)"
                                   % (self.node(ref)["name"], self.node(peer)["name"],
                                      "up" if up else "down", timeout,
                                      json.dumps(peers, sort_keys=True)))
            time.sleep(0.05)

    # status -------------------------------------------------------------

    def status(self):
        """One dict per node: name, pid, alive, socket (answers), and more."""
        out = []
        for nd in self.nodes:
            live = self.node_alive(nd)
            out.append({
                "node": nd["name"], "pid": nd.get("pid"), "alive": live,
                "socket": nd["socket"],
                "socket_ok": live and os.path.exists(nd["socket"])
                and socket_answers(nd["socket"]),
                "ip": nd["ip"], "netns": nd.get("netns"), "scopes": nd["scopes"],
                "log": nd["log"], "restarts": nd.get("restarts", 0),
            })
        return out

    # forward (issue 5) --------------------------------------------------
    #
    # Transport "forward": every node has one memif port, a client of
    # synode-forward (tools/synode_forward.c), the memif server of them
    # all: a hub that loses, duplicates, reorders, delays, corrupts and
    # cuts frames, seeded. Started before the nodes, stopped after them.
    # Its faults: a spec (FAULT_KEYS; cut=nI-nJ between nodes) written to
    # DIR/forward.faults, which it re-reads on SIGHUP.

    FORWARD_SPEC_HELP = ("loss=PCT,dup=PCT,reorder=PCT,corrupt=PCT (decimals allowed), "
                         "delay=US,jitter=US,reorder-us=US, cut=nI-nJ (repeatable; "
                         "cut=none); empty: no faults")

    def forward_spec(self, spec):
        """The user's spec (node names in cut=) -> the forwarder's (ports)."""
        out = []
        for item in (spec or "").replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            key, eq, val = item.partition("=")
            if not eq:
                raise ClusterError("faults %r: %r is not KEY=VALUE" % (spec, item))
            key = key.strip()
            val = val.strip()
            if key == "cut" and val != "none":
                ends = val.split("-")
                if len(ends) != 2:
                    raise ClusterError("faults: cut=%s: nI-nJ wanted" % val)
                val = "-".join(str(self.node(e.strip())["index"] - 1) for e in ends)
            elif key not in FAULT_KEYS:
                raise ClusterError("faults: unknown %r (%s)" % (key, self.FORWARD_SPEC_HELP))
            out.append("%s=%s" % (key, val))
        return ",".join(out)

    def _forward_paths(self):
        return (os.path.join(self.dir, "forward.log"),
                os.path.join(self.dir, "forward.faults"))

    def _start_forward(self, faults, seed, eal_extra, ready_timeout):
        st = self.state
        fwd_bin = os.path.abspath(default_binary("synode-forward")
                                  if not os.environ.get("SYNODE_FORWARD")
                                  else os.environ["SYNODE_FORWARD"])
        if not os.access(fwd_bin, os.X_OK):
            raise ClusterError("%s: not a program (build it, or set $SYNODE_FORWARD)"
                               % fwd_bin)
        if seed is None and os.environ.get("SYNODE_FORWARD_SEED", "").isdigit():
            # A failed test's seed, to replay it.
            seed = int(os.environ["SYNODE_FORWARD_SEED"])
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "little")
        log, control = self._forward_paths()
        spec = self.forward_spec(faults)
        with open(control + ".tmp", "w", encoding="utf-8") as f:
            f.write(spec + "\n")
        os.replace(control + ".tmp", control)
        eal = ["--no-huge", "--no-pci", "--no-shconf", "-m", "64",
               "--file-prefix", self.tag + "fw", "--no-telemetry",
               "--lcores", "0@(%s)" % cpu_list(), "--log-level", "*:warning"]
        for nd in st["nodes"]:
            path = os.path.join(self.dir, "f%d.sock" % nd["index"])
            if len(path) >= 108:
                raise ClusterError("%s: too long for a Unix socket; use a shorter --dir"
                                   % path)
            st["memif_sockets"].append(path)
            eal += ["--vdev", "net_memif%d,role=server,id=0,socket=%s,socket-abstract=no"
                    % (nd["index"] - 1, path)]
            nd["memif"] = [{"peer": 0, "role": "client", "socket": path,
                            "mac": "02:53:4e:%02x:00:%02x" % (nd["index"],
                                                              self.subnet_byte())}]
        # eal_extra is the nodes' (their EAL), not the forwarder's.
        del eal_extra
        fw = {"argv": [fwd_bin] + eal + ["--", "--seed", str(seed), "--control", control],
              "seed": seed, "faults": faults or "", "port_spec": spec, "log": log, "control": control,
              "pid": None, "start": None, "reloads": 0}
        st["forward"] = fw
        self.save()
        with open(log, "ab") as f:
            f.write(("=== tools/cluster %s: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"),
                                                     " ".join(fw["argv"]))).encode())
            f.flush()
            fw["log_offset"] = f.tell()
            p = subprocess.Popen(fw["argv"], stdin=subprocess.DEVNULL, stdout=f,
                                 stderr=subprocess.STDOUT, start_new_session=self.new_session)
        pst = None
        for _ in range(100):
            pst = proc_stat(p.pid)
            if pst is not None:
                break
            time.sleep(0.001)
        fw["pid"], fw["start"] = p.pid, pst[1] if pst else None
        self.children[p.pid] = p
        self.save()
        self.log("forwarder: pid %d, seed %d (replay: --seed %d), faults %r"
                 % (p.pid, seed, seed, spec))
        end = time.monotonic() + ready_timeout
        while "synode-forward: ready" not in self._forward_log():
            if p.poll() is not None:
                raise ClusterError("synode-forward exited (status %s) before it was ready; "
                                   "its log %s ends:\n%s" % (p.returncode, log, tail(log)))
            if time.monotonic() >= end:
                raise ClusterError("synode-forward not ready after %.0f s; its log:\n%s"
                                   % (ready_timeout, tail(log)))
            time.sleep(0.01)

    def _forward_log(self):
        fw = (self.state or {}).get("forward") or {}
        try:
            with open(fw["log"], "rb") as f:
                f.seek(fw.get("log_offset", 0))
                return f.read().decode("utf-8", "replace")
        except (OSError, KeyError):
            return ""

    def _forward_proc(self):
        fw = self.require().get("forward")
        if not fw:
            raise ClusterError("no forwarder: start the cluster with --transport forward")
        if not alive(fw.get("pid"), fw.get("start")):
            raise ClusterError("the forwarder (pid %s) does not run; its log:\n%s"
                               % (fw.get("pid"), tail(fw["log"])))
        return fw

    def set_faults(self, spec, timeout=5.0):
        """Replaces the forwarder's faults with spec (node names in cut=)
        and waits until it has applied them."""
        fd = self.lock()
        try:
            self.load()
            fw = self._forward_proc()
            fspec = self.forward_spec(spec)
            with open(fw["control"] + ".tmp", "w", encoding="utf-8") as f:
                f.write(fspec + "\n")
            os.replace(fw["control"] + ".tmp", fw["control"])
            # The forwarder numbers every SIGHUP, applied or refused.
            fw["reloads"] = fw.get("reloads", 0) + 1
            n = fw["reloads"]
            self.save()
            os.kill(fw["pid"], signal.SIGHUP)
            end = time.monotonic() + timeout
            while True:
                text = self._forward_log()
                if "reload %d refused" % n in text:
                    # The file back to the faults in force.
                    with open(fw["control"] + ".tmp", "w", encoding="utf-8") as f:
                        f.write(fw.get("port_spec", "") + "\n")
                    os.replace(fw["control"] + ".tmp", fw["control"])
                    raise ClusterError("the forwarder refused %r: %s" % (
                        fspec, text.split("reload %d refused" % n)[1].split("\n")[0].lstrip(", ")))
                if "(reload %d)" % n in text:
                    break
                if time.monotonic() >= end:
                    raise ClusterError("the forwarder did not apply the faults in %.0f s"
                                       % timeout)
                time.sleep(0.01)
            fw["faults"] = spec or ""
            fw["port_spec"] = fspec
            self.save()
            self.log("forwarder faults: %r" % fspec)
        finally:
            self.unlock(fd)

    def forward_counters(self, timeout=5.0):
        """The forwarder's counters now (SIGUSR1), as a dict of ints."""
        fw = self._forward_proc()
        before = self._forward_log().count("counters (SIGUSR1)")
        os.kill(fw["pid"], signal.SIGUSR1)
        end = time.monotonic() + timeout
        while True:
            lines = [ln for ln in self._forward_log().split("\n")
                     if "counters (SIGUSR1)" in ln]
            if len(lines) > before:
                return parse_counters(lines[before])
            if time.monotonic() >= end:
                raise ClusterError("the forwarder printed no counters in %.0f s" % timeout)
            time.sleep(0.01)

    def _stop_forward(self):
        fw = (self.state or {}).get("forward")
        if not fw or not fw.get("pid") or not alive(fw["pid"], fw.get("start")):
            return []
        left = self._end([(fw["pid"], fw["start"])])
        last = [ln for ln in self._forward_log().split("\n") if "counters (exit)" in ln]
        if last:
            self.log("forwarder: " + last[-1].split(": ", 1)[-1])
        return ["stopped the forwarder"] + (["could not end the forwarder (pid %d)"
                                             % fw["pid"]] if left else [])

    def _cleanup_forward(self):
        """A forwarder of this cluster the state does not know (found by its
        DPDK --file-prefix), its sockets and its control file."""
        done = []
        me = os.getpid()
        stray = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            argv = proc_cmdline(int(entry))
            for k, a in enumerate(argv[:-1]):
                if a == b"--file-prefix" and argv[k + 1] == (self.tag + "fw").encode():
                    pst = proc_stat(int(entry))
                    if pst is not None:
                        stray.append((int(entry), pst[1]))
                    break
        if stray:
            self._end(stray)
            done.append("ended stray forwarder(s) %s" % [p[0] for p in stray])
        if os.path.isdir(self.dir):
            for f in os.listdir(self.dir):
                if (f.startswith("f") and f.endswith(".sock")) or \
                        f.startswith("forward.faults"):
                    try:
                        os.unlink(os.path.join(self.dir, f))
                        done.append("removed %s" % os.path.join(self.dir, f))
                    except OSError:
                        pass
        return done


def parse_counters(line):
    """'... counters (why): k=v k=v' -> {k: int(v)}."""
    out = {}
    for tok in line.split("): ", 1)[-1].split():
        k, _, v = tok.partition("=")
        if v.isdigit():
            out[k] = int(v)
    return out


# -- command line -------------------------------------------------------------

def _add_dir(p):
    p.add_argument("--dir", default=DEFAULT_DIR,
                   help="the cluster's directory: state, logs, sockets "
                        "(default %(default)s, or $SYNODE_CLUSTER_DIR)")


def build_parser():
    ap = argparse.ArgumentParser(
        prog="tools/cluster",
        description="Start, stop and disturb N synode nodes on this machine "
                    "(network namespaces + bridge + af_packet, or memif). "
                    "`tools/cluster COMMAND --help` for each command.",
        epilog="Example: tools/cluster start 3 --scope web; tools/cluster wait-up; "
               "tools/cluster ctl n1 register web api --os-pid $$; "
               "tools/cluster ctl n2 lookup web api; tools/cluster stop")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("start", help="start N nodes",
                       description="Starts N nodes n1..nN. af_packet: node i in netns "
                       "TAGnI with a veth to a bridge in netns TAGbr, address 10.X.0.i/24. "
                       "memif: a full mesh of memif pairs. Every node gets every other as "
                       "--peer. Returns once every control socket answers (then: wait-up). "
                       "On failure or Ctrl-C it removes all it made.")
    p.add_argument("n", type=int, metavar="N", help="number of nodes (1..64)")
    _add_dir(p)
    p.add_argument("--transport", choices=TRANSPORTS, default="af_packet",
                   help="forward: each node's one memif port through synode-forward, "
                        "a seeded fault-injecting hub (see --faults)")
    # forward (issue 5)
    p.add_argument("--faults", metavar="SPEC",
                   help="forward: the faults at start, " + Cluster.FORWARD_SPEC_HELP +
                        " (e.g. loss=10,dup=5,reorder=20,delay=1000,jitter=500,corrupt=0.1)")
    p.add_argument("--seed", type=int, metavar="N",
                   help="forward: the forwarder's seed (default: random; printed)")
    p.add_argument("--scope", action="append", metavar="S[@I,J]",
                   help="a scope every node serves, or only nodes I,J (1-based); "
                        "repeatable (default: %s)" % DEFAULT_SCOPE)
    p.add_argument("--poll", choices=("adaptive", "busy"))
    p.add_argument("--discovery", choices=("peers", "broadcast"), default="peers",
                   help="peers: every other node as --peer (default); broadcast: "
                        "none, nodes find each other by broadcast (af_packet)")
    p.add_argument("--down-after-ms", type=int, metavar="MS")
    p.add_argument("--insecure", action="store_true",
                   help="no cluster key: nodes run with --insecure (default: a key "
                        "in DIR/cluster.key, 32 random bytes, mode 0600)")
    p.add_argument("--synode", metavar="PATH",
                   help="the daemon (default $SYNODE or build/tools/synode)")
    p.add_argument("--synodectl", metavar="PATH",
                   help="the CLI (default $SYNODECTL or build/tools/synodectl)")
    p.add_argument("--eal", action="append", default=[], metavar="ARG",
                   help="one more EAL argument (repeatable), e.g. --eal=--log-level=*:info")
    p.add_argument("--node-arg", action="append", default=[], metavar="ARG",
                   help="one more synode option for every node (repeatable)")
    p.add_argument("--no-eal", action="store_true",
                   help="run each node without EAL section or dataplane options "
                        "(single nodes; to test the plumbing)")
    p.add_argument("--wait-up", action="store_true",
                   help="then wait until every node sees every other up")
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT, metavar="S",
                   help="for the nodes to be ready, and for --wait-up (default %(default)s)")

    p = sub.add_parser("stop", help="stop the nodes, remove everything",
                       description="Stops every node (SIGTERM, SIGKILL after 5 s; by pid "
                       "only) and removes the namespaces, veths, bridge, nftables tables, "
                       "sockets and DPDK runtime dirs of the cluster, also what a crashed "
                       "or interrupted run left. Keeps the logs.")
    _add_dir(p)

    p = sub.add_parser("status", help="per node: pid alive, socket",
                       description="Per node: pid and whether it runs, whether its "
                       "control socket answers, address, scopes, log. Exit status 1 if "
                       "a node does not run (or there is no cluster).")
    _add_dir(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ctl", help="synodectl against a node",
                       description="Runs synodectl --socket <node's socket> ARGS... "
                       "and exits with its status. Example: ctl n2 --json lookup web api")
    _add_dir(p)
    p.add_argument("node", help="name (n2) or number (2)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="synodectl's arguments")

    p = sub.add_parser("kill", help="SIGKILL a node",
                       description="Sends SIGKILL (or --signal) to a node, by pid, and "
                                   "waits until it has ended.")
    _add_dir(p)
    p.add_argument("node")
    p.add_argument("--signal", default="KILL", help="signal name (default KILL)")

    p = sub.add_parser("restart", help="(re)start a node",
                       description="Stops the node if it runs, then starts it with the "
                                   "same command line; waits until its socket answers.")
    _add_dir(p)
    p.add_argument("node")
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT, metavar="S")

    p = sub.add_parser("split", help="netsplit",
                       description="Without --from: sets the bridge ports of NODE... down "
                       "(each is cut off from all). With --from: drops, with nftables on "
                       "the bridge, every frame between NODE... and the --from nodes. "
                       "af_packet only. Undo with heal.")
    _add_dir(p)
    p.add_argument("nodes", nargs="+", metavar="NODE")
    p.add_argument("--from", dest="from_nodes", nargs="+", metavar="NODE")

    p = sub.add_parser("heal", help="undo every split",
                       description="Bridge ports up, the split nftables table removed.")
    _add_dir(p)

    p = sub.add_parser("loss", help="random frame loss on the bridge",
                       description="Drops PCT %% of the frames the bridge forwards "
                       "(nftables: table bridge chaos, numgen random). 0 removes it.")
    _add_dir(p)
    p.add_argument("pct", type=int, metavar="PCT")

    # forward (issue 5)
    p = sub.add_parser("faults", help="the forwarder's faults (transport forward)",
                       description="With SPEC: replaces the forwarder's faults whole "
                       "(" + Cluster.FORWARD_SPEC_HELP + "); waits until it applied them. "
                       "Without: prints the faults, the seed and the forwarder's counters.")
    _add_dir(p)
    p.add_argument("spec", nargs="?", metavar="SPEC")

    p = sub.add_parser("wait-up", help="wait until all peers are up",
                       description="Waits until every running node sees every other "
                       "running node with state up (synodectl --json status). Exit 1 "
                       "on timeout, with what each node saw.")
    _add_dir(p)
    p.add_argument("--timeout", type=float, default=30.0, metavar="S")
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)

    def say(msg):
        print("cluster: " + msg, file=sys.stderr)

    c = Cluster(args.dir, log=say)
    try:
        if args.cmd == "start":
            def interrupted(signum, frame):
                raise KeyboardInterrupt()
            signal.signal(signal.SIGTERM, interrupted)
            try:
                c.start(args.n, transport=args.transport, scopes=args.scope,
                        poll=args.poll, down_after_ms=args.down_after_ms,
                        synode=args.synode, synodectl=args.synodectl,
                        eal_extra=args.eal, node_extra=args.node_arg,
                        ready_timeout=args.timeout, no_eal=args.no_eal,
                        discovery=args.discovery, faults=args.faults, seed=args.seed,
                        insecure=args.insecure)
            except KeyboardInterrupt:
                say("interrupted: everything removed")
                return 130
            finally:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            say("%d node(s) running in %s (tag %s)" % (args.n, c.dir, c.tag))
            if args.wait_up:
                say("all up after %.1f s" % c.wait_up(args.timeout))
            return 0
        if args.cmd == "stop":
            # A stop is not to be cut short half way.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if not c.stop():
                say("nothing to stop in %s" % c.dir)
            return 0
        if args.cmd == "status":
            rows = c.status()
            if args.json:
                print(json.dumps({"dir": c.dir, "tag": c.tag,
                                  "transport": c.state["transport"],
                                  "split": c.state.get("split"),
                                  "loss": c.state.get("loss", 0), "nodes": rows,
                                  "forward": c.state.get("forward")}, indent=1))
            else:
                print("%-5s %-8s %-6s %-7s %-15s %s" % ("node", "pid", "alive", "socket",
                                                      "ip", "scopes"))
                for r in rows:
                    print("%-5s %-8s %-6s %-7s %-15s %s" % (
                        r["node"], r["pid"], "yes" if r["alive"] else "NO",
                        "ok" if r["socket_ok"] else "-", r["ip"], ",".join(r["scopes"])))
                st = c.state
                print("transport %s, dir %s, tag %s%s%s" % (
                    st["transport"], c.dir, c.tag,
                    ", split %s" % json.dumps(st["split"]) if st.get("split") else "",
                    ", loss %d%%" % st["loss"] if st.get("loss") else ""))
                if st.get("forward"):   # issue 5
                    fw = st["forward"]
                    print("forwarder pid %s (%s), seed %s, faults %r, log %s" % (
                        fw.get("pid"), "alive" if alive(fw.get("pid"), fw.get("start"))
                        else "NOT RUNNING", fw.get("seed"), fw.get("faults", ""),
                        fw.get("log")))
            return 0 if all(r["alive"] for r in rows) else 1
        if args.cmd == "ctl":
            a = list(args.args)
            if a and a[0] == "--":
                a = a[1:]
            argv = c.ctl_argv(args.node, a, json_out=False)
            return subprocess.call(argv)
        if args.cmd == "kill":
            name = args.signal.upper()
            sig = signal.Signals[name if name.startswith("SIG") else "SIG" + name]
            c.kill(args.node, sig)
            return 0
        if args.cmd == "restart":
            c.restart(args.node, args.timeout)
            say("%s restarted, pid %d" % (c.node(args.node)["name"],
                                          c.node(args.node)["pid"]))
            return 0
        if args.cmd == "split":
            c.split(args.nodes, args.from_nodes)
            return 0
        if args.cmd == "heal":
            c.heal()
            return 0
        if args.cmd == "loss":
            c.loss(args.pct)
            return 0
        if args.cmd == "faults":
            if args.spec is not None:
                c.set_faults(args.spec)
                return 0
            fw = c._forward_proc()
            print("seed %d, faults %r" % (fw["seed"], fw.get("faults", "")))
            print(" ".join("%s=%d" % kv for kv in c.forward_counters().items()))
            return 0
        if args.cmd == "wait-up":
            say("all up after %.1f s" % c.wait_up(args.timeout))
            return 0
    except ClusterError as e:
        say(str(e))
        return 1
    except KeyError as e:
        say("bad signal %s" % e)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
