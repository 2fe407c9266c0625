"""Integration test fixtures: real Eddy clusters started with
deploy/local-cluster (binaries from ${EDDY_BUILD_DIR:-<repo>/build}), driven by
real Kafka clients. Run with Debian's /usr/bin/python3 (./dev test does)."""
import os
import random
import shutil
import socket
import subprocess
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCHER = os.path.join(REPO, "deploy", "local-cluster")
PORT_SPAN = 51  # P .. P+50


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port_base():
    """A base P in 20000-50000 with P..P+50 free on 127.0.0.1. Bases are
    drawn below Linux's ephemeral range (32768+) first so that outgoing
    connections cannot take our ports between the probe and the start."""
    rng = random.Random()
    for attempt in range(200):
        hi = 32700 - PORT_SPAN if attempt < 150 else 50000 - PORT_SPAN
        base = rng.randrange(20000, hi)
        if all(_port_free(p) for p in range(base, base + PORT_SPAN)):
            return base
    raise RuntimeError("no free port range found")


def parse_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            env[k] = v
    return env


def log_tails(d, lines=40):
    out = []
    if not d or not os.path.isdir(d):
        return ""
    for name in sorted(os.listdir(d)):
        if name.endswith(".log"):
            with open(os.path.join(d, name), errors="replace") as f:
                tail = f.readlines()[-lines:]
            out.append("----- tail of %s -----\n%s" % (name, "".join(tail)))
    return "\n".join(out)


def launcher(*args, timeout=90):
    return subprocess.run([LAUNCHER, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)


class Cluster(dict):
    """The parsed cluster.env (a dict) plus a few helpers."""

    @property
    def dir(self):
        return self["EDDY_DIR"]

    @property
    def bootstrap(self):
        return self["EDDY_BOOTSTRAP"]

    def pids(self, prefix):
        out = {}
        for name in os.listdir(self.dir):
            if name.startswith(prefix) and name.endswith(".pid"):
                with open(os.path.join(self.dir, name)) as f:
                    out[name[:-4]] = int(f.read().strip())
        return out

    def run(self, *args, timeout=90):
        return launcher(*args, "--dir", self.dir, timeout=timeout)

    def dead(self):
        """Names of the cluster's processes that are not running."""
        names = ["frontend"] + ["broker-%d" % i for i in range(int(self["EDDY_BROKERS"]))]
        out = []
        for name in names:
            try:
                with open(os.path.join(self.dir, name + ".pid")) as f:
                    pid = int(f.read().strip())
                with open("/proc/%d/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state in ("Z", "X"):
                    out.append(name)
            except (OSError, ValueError, IndexError):
                out.append(name)
        return out

    def restart(self):
        """Stops what is left and starts the same cluster again (same ports,
        same data), so that one crash does not fail every later test."""
        self.run("down", timeout=60)
        r = self.run("up", "--brokers", self["EDDY_BROKERS"], "--port-base",
                     self["EDDY_PORT_BASE"], "--durability", self["EDDY_DURABILITY"])
        if r.returncode != 0:
            pytest.fail("restarting the cluster failed:\n%s\n%s" % (r.stdout, log_tails(self.dir)),
                        pytrace=False)


def start_cluster(tmp_root, brokers=2, durability="sync"):
    d = os.path.join(tmp_root, "cluster")
    last = None
    for _ in range(3):  # another process may grab a port between probe and bind
        base = free_port_base()
        r = launcher("up", "--dir", d, "--brokers", str(brokers), "--port-base", str(base),
                     "--durability", durability)
        if r.returncode == 0:
            c = Cluster(parse_env(os.path.join(d, "cluster.env")))
            assert c["EDDY_BOOTSTRAP"] == "127.0.0.1:%d" % base
            return c
        last = r.stdout
        launcher("down", "--dir", d)
        if "already in use" not in r.stdout:
            break
    pytest.fail("local-cluster up failed:\n%s\n%s" % (last, log_tails(d)), pytrace=False)


def stop_cluster(d):
    r = launcher("down", "--dir", d, timeout=60)
    if r.returncode != 0:
        print("local-cluster down failed:\n" + r.stdout)


_clusters_in_use = {}


@pytest.fixture(scope="session")
def cluster():
    tmp = tempfile.mkdtemp(prefix="eddy-it-")
    c = start_cluster(tmp)
    _clusters_in_use["session"] = c.dir
    failed = False
    try:
        yield c
    except BaseException:
        failed = True
        raise
    finally:
        _clusters_in_use.pop("session", None)
        stop_cluster(c.dir)
        if not failed and not _session_failed[0]:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("cluster dir kept for inspection: " + tmp)


@pytest.fixture
def own_cluster():
    """A cluster of its own, for tests that kill processes."""
    tmp = tempfile.mkdtemp(prefix="eddy-it-own-")
    c = start_cluster(tmp)
    _clusters_in_use["function"] = c.dir
    try:
        yield c
    finally:
        _clusters_in_use.pop("function", None)
        stop_cluster(c.dir)
        if not _session_failed[0]:
            shutil.rmtree(tmp, ignore_errors=True)


_session_failed = [False]


@pytest.fixture(autouse=True)
def _cluster_watch(request):
    """For tests on the shared cluster: a test during which a process of the
    cluster died fails (at teardown, with the logs), and the next test gets
    the cluster restarted instead of inheriting the crash."""
    if "cluster" not in request.fixturenames:
        yield
        return
    c = request.getfixturevalue("cluster")
    dead = c.dead()
    if dead:
        print("cluster processes %s were dead before this test: restarting" % dead)
        c.restart()
    yield
    dead = c.dead()
    if dead:
        pytest.fail("cluster processes died during this test: %s\n%s"
                    % (", ".join(dead), log_tails(c.dir)), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _session_failed[0] = True
        dirs = []
        for name in ("cluster", "own_cluster"):
            c = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(c, Cluster):
                dirs.append(c.dir)
        if not dirs:
            dirs = list(_clusters_in_use.values())
        for d in dirs:
            report.sections.append(("eddy logs (%s)" % d, log_tails(d)))

