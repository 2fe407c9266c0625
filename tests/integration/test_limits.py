"""Connection limits of the frontend: max_connections, max_connections_per_ip,
idle_timeout_ms and auth_timeout_ms. The tests run a frontend of their own
(low limits, own ports, several workers) in front of the session cluster's
brokers, so that the limits touch nothing the other tests see."""
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

import pytest

import kafka_raw as kr
from conftest import free_port_base
from test_sasl import Closed, RawConn, api_versions_ok, authenticate, handshake, sas_token
from test_scram import frontend_bin
from util import create_topic, unique_topic, wait_for

API_FETCH = 1
PER_IP = 5
TOTAL = 20
IDLE_MS = 1500
AUTH_MS = 1000


class Frontend(dict):
    """An eddy-frontend with low limits; a cluster-like dict for RawConn."""

    def __init__(self, cluster, tmp):
        super().__init__()
        with open(os.path.join(cluster["EDDY_DIR"], "frontend.json")) as f:
            base = json.load(f)
        port = free_port_base()
        self.plain = "127.0.0.1:%d" % port
        self.tls = "127.0.0.1:%d" % (port + 1)
        self.stats_url = "http://127.0.0.1:%d" % (port + 2)
        conf = dict(base)
        conf.update({
            "listeners": [
                {"name": "plain", "listen": self.plain, "advertised": self.plain,
                 "tls": False, "sasl": False},
                {"name": "sasl_ssl", "listen": self.tls, "advertised": self.tls,
                 "tls": True, "sasl": True}],
            "stats_listen": "127.0.0.1:%d" % (port + 2),
            "workers": 3,  # connections close on other threads than the acceptor
            "max_connections": TOTAL,
            "max_connections_per_ip": PER_IP,
            "idle_timeout_ms": IDLE_MS,
            "auth_timeout_ms": AUTH_MS,
        })
        conf.pop("stats_token", None)
        self.config = os.path.join(tmp, "frontend.json")
        with open(self.config, "w") as f:
            json.dump(conf, f)
        # what RawConn and sas_token read
        self.update({"EDDY_BOOTSTRAP_TLS": self.tls, "EDDY_BOOTSTRAP": self.plain,
                     "EDDY_CA": cluster["EDDY_CA"], "EDDY_DIR": tmp})
        self.log_path = os.path.join(tmp, "frontend.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([frontend_bin(), "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def up():
            assert self.proc.poll() is None, "frontend exited:\n" + self.log_text()
            try:
                urllib.request.urlopen(self.stats_url + "/healthz", timeout=2).close()
                return True
            except OSError:
                return False
        wait_for(up, 20, what="the limits frontend to listen")

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stats(self):
        with urllib.request.urlopen(self.stats_url + "/stats", timeout=10) as r:
            return json.loads(r.read())["frontend"]

    def metrics(self):
        with urllib.request.urlopen(self.stats_url + "/metrics", timeout=10) as r:
            return r.read().decode()

    def open_now(self):
        return sum(self.stats()["connections_open"].values())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def topic(cluster):
    # created before the frontend starts: its first cluster map has it
    return create_topic(cluster.bootstrap, unique_topic("limits"), 1)


@pytest.fixture(scope="module")
def fe(cluster, topic):
    tmp = tempfile.mkdtemp(prefix="eddy-it-limits-")
    f = Frontend(cluster, tmp)
    try:
        yield f
    finally:
        f.stop()
        rc = f.proc.returncode
        shutil.rmtree(tmp, ignore_errors=True)
        assert rc == 0, "the limits frontend did not stop cleanly (rc %s)" % rc


@pytest.fixture
def clean(fe):
    """Every test starts with no client connection open on the frontend."""
    wait_for(lambda: fe.open_now() == 0, 10, what="connections of earlier tests to close")
    yield fe


# ------------------------------------------------------------ helpers


def connect(fe, source="127.0.0.1"):
    host, port = fe.plain.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5, source_address=(source, 0))
    return s


def api_versions(sock, corr=1):
    err, apis = kr.api_versions_v0_decode(kr.call(sock, kr.API_API_VERSIONS, 0, b"", corr))
    return err == 0 and API_FETCH in apis


def refused_at_once(sock):
    """True when the frontend closes @sock without a byte, well before any
    timeout (idle is 1.5 s) could have done it."""
    closed, got = kr.wait_closed(sock, timeout=0.7)
    sock.close()
    assert got == b"", got
    return closed


def fetch_v4(topic, max_wait_ms, corr):
    body = struct.pack(">iiiib", -1, max_wait_ms, 1, 1 << 20, 0)  # replica, wait, min, max, iso
    body += struct.pack(">i", 1) + kr.kstring(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1 << 20)
    return kr.frame(kr.request_header_v1(API_FETCH, 4, corr) + body)


def fetch_v4_partition_error(body, topic):
    r = kr.Reader(body)
    r.int32()                       # throttle_time_ms
    assert r.int32() == 1
    assert r.string() == topic
    assert r.int32() == 1
    assert r.int32() == 0           # partition
    return r.int16()


# ------------------------------------------------------------ tests


def test_bad_limit_values_refused(cluster):
    with open(os.path.join(cluster.dir, "frontend.json")) as f:
        base = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bad.json")
        for key, bad in (("max_connections", 0), ("max_connections", "10"),
                         ("max_connections_per_ip", -1), ("idle_timeout_ms", 50),
                         ("idle_timeout_ms", -1), ("auth_timeout_ms", 0),
                         ("auth_timeout_ms", 600001)):
            with open(path, "w") as f:
                json.dump(dict(base, **{key: bad}), f)
            r = subprocess.run([frontend_bin(), "--config", path], capture_output=True,
                               timeout=20, text=True)
            assert r.returncode == 2 and key in r.stderr, (key, bad, r.returncode, r.stderr)


def test_per_ip_limit(clean):
    fe = clean
    refused0 = fe.stats()["connections_refused"]
    refused = 0
    socks = [connect(fe) for _ in range(PER_IP)]
    for i, s in enumerate(socks):
        assert api_versions(s, i + 1)
    # the 6th from 127.0.0.1 is closed at once ...
    assert refused_at_once(connect(fe))
    refused += 1
    # ... while another address still gets in
    other = connect(fe, "127.0.0.2")
    assert api_versions(other, 50)
    # ... and the 5 stay open and work
    for i, s in enumerate(socks):
        assert api_versions(s, 100 + i)
    # closing one frees a slot (once its worker has seen the close)
    socks.pop().close()

    def admitted():
        nonlocal refused
        s = connect(fe)
        try:
            if api_versions(s, 200):
                socks.append(s)
                return True
        except (ConnectionError, OSError):
            refused += 1
            s.close()
        return False
    wait_for(admitted, 5, interval=0.05, what="a slot of 127.0.0.1 to free")
    assert refused_at_once(connect(fe))
    refused += 1
    for i, s in enumerate(socks):
        assert api_versions(s, 300 + i)
    # refusals are counted, in /stats and /metrics
    st = fe.stats()
    assert st["connections_refused"] - refused0 == refused, (st["connections_refused"], refused)
    m = re.search(r"^eddy_frontend_connections_refused_total (\d+)$", fe.metrics(), re.M)
    assert m and int(m.group(1)) == st["connections_refused"]
    assert sum(st["connections_open"].values()) == PER_IP + 1
    for s in socks + [other]:
        s.close()


def test_total_limit(clean):
    fe = clean
    refused0 = fe.stats()["connections_refused"]
    socks = []
    for a in range(TOTAL // PER_IP):  # 127.0.0.1 .. 127.0.0.4, PER_IP each
        for _ in range(PER_IP):
            socks.append(connect(fe, "127.0.0.%d" % (a + 1)))
    for i, s in enumerate(socks):
        assert api_versions(s, i + 1)
    # a fresh address, under its own limit, is refused: the total is reached
    assert refused_at_once(connect(fe, "127.0.0.9"))
    assert fe.stats()["connections_refused"] == refused0 + 1
    socks.pop(0).close()
    wait_for(lambda: fe.open_now() == TOTAL - 1, 5, interval=0.05, what="the close to count")
    s = connect(fe, "127.0.0.9")
    assert api_versions(s, 99)
    socks.append(s)
    for i, s in enumerate(socks):
        assert api_versions(s, 100 + i)
    for s in socks:
        s.close()


def test_idle_timeout(clean):
    fe = clean
    idle = connect(fe)
    assert api_versions(idle)
    t0 = time.monotonic()
    closed, _ = kr.wait_closed(idle, timeout=6)
    took = time.monotonic() - t0
    idle.close()
    assert closed, "an idle connection was not closed"
    assert IDLE_MS / 1000 - 0.2 <= took <= IDLE_MS / 1000 + 1.5, took


def test_idle_timeout_spares_long_poll_and_active(clean, topic):
    fe = clean
    poll = connect(fe)
    busy = connect(fe)
    assert api_versions(poll) and api_versions(busy)
    # out of step with the timer (armed from the last read): otherwise the
    # answer would come just as the timer fires, and the check below could
    # not tell whether the write restarted the idle clock
    time.sleep(0.7)
    # a Fetch on an empty partition waits max_wait_ms (3 s, twice the idle
    # timeout) for data: the connection is not idle meanwhile
    t0 = time.monotonic()
    poll.sendall(fetch_v4(topic, 3000, 7))
    # a connection that talks every 0.5 s is not idle either
    n = 10
    while not select.select([poll], [], [], 0.5)[0]:
        assert time.monotonic() - t0 < 8, "no answer to the fetch"
        n += 1
        assert api_versions(busy, n)
    answered = time.monotonic()
    resp = kr.recv_frame(poll, timeout=5)
    assert struct.unpack(">i", resp[:4])[0] == 7
    assert fetch_v4_partition_error(resp[4:], topic) == 0
    assert answered - t0 >= 2.5, "the fetch did not wait: %.2f s" % (answered - t0)
    # after the answer, the idle clock starts over from the write
    closed, got = kr.wait_closed(poll, timeout=5)
    took = time.monotonic() - answered
    assert closed and got == b""
    assert IDLE_MS / 1000 - 0.3 <= took <= IDLE_MS / 1000 + 1.5, took
    poll.close()
    busy.close()


def test_auth_timeout_on_sasl_listener(clean):
    fe = clean
    failures0 = fe.stats()["auth_failures"]
    # authenticated: stays open past the auth timeout
    good = RawConn(fe)
    assert handshake(good)[0] == 0
    err, msg, _ = authenticate(good, sas_token(fe, int(time.time()) + 3600))
    assert err == 0, msg
    # never authenticates: closed after ~1 s although it keeps talking
    # (ApiVersions needs no authentication), so this is not the idle timeout
    bad = RawConn(fe)
    t0 = time.monotonic()
    closed_after = None
    while time.monotonic() - t0 < 3:
        try:
            ok = api_versions_ok(bad)
        except Closed:
            closed_after = time.monotonic() - t0
            break
        assert ok
        assert api_versions_ok(good)
        time.sleep(0.2)
    assert closed_after is not None, "an unauthenticated connection outlived auth_timeout_ms"
    assert AUTH_MS / 1000 - 0.2 <= closed_after <= AUTH_MS / 1000 + 0.9, closed_after
    assert bad.expect_closed(timeout=2)
    for _ in range(8):  # the authenticated one, 1.6 s more: well past 1 s
        assert api_versions_ok(good)
        time.sleep(0.2)
    assert fe.stats()["auth_failures"] == failures0 + 1
    good.close()
    bad.close()
