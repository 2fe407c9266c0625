"""The malformed-input catalogue (STYLE.md rule 19): hostile and broken input
over real sockets to the frontend's plaintext port. For every case the
frontend either answers as Kafka would (a response with the request's
correlation id) or closes the connection cleanly — it never hangs, never
crashes — and a confluent-kafka producer on another connection keeps working
right after.

Cases: truncated frames, negative sizes, negative counts and counts larger
than the bytes left inside Metadata/Produce bodies, unknown API keys and
versions, HTTP and a TLS ClientHello on the plaintext port, a client sending
one byte per 100 ms, a client that sends many Fetch/Metadata requests and
never reads (the frontend must stop reading from it: its RSS stays bounded),
and 500 idle connections.

Uses the `cluster` session fixture (conftest.py): cluster.env as a dict with
EDDY_BOOTSTRAP and EDDY_DIR (frontend.pid lives there)."""
import os
import resource
import socket
import ssl
import struct
import time

import pytest

import kafka_raw as kr
from util import create_topic, produce_keyed, unique_topic

API_METADATA = 3
API_FETCH = 1

# ------------------------------------------------------------------ helpers


def frontend_pid(cluster):
    with open(os.path.join(cluster["EDDY_DIR"], "frontend.pid")) as f:
        return int(f.read().strip())


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def answer_or_close(sock, corr, timeout=5.0):
    """'answer' when a response frame with correlation id corr arrives,
    'closed' when the server closes; fails on silence or on a wrong answer."""
    deadline = time.monotonic() + timeout
    try:
        head = kr.recv_exact(sock, 4, deadline)
    except (ConnectionError, ConnectionResetError, BrokenPipeError):
        return "closed"
    except TimeoutError:
        pytest.fail("neither an answer nor a close within %.0fs" % timeout)
    (size,) = struct.unpack(">i", head)
    assert 4 <= size <= 64 << 20, "implausible response size %d" % size
    body = kr.recv_exact(sock, size, deadline)
    (got,) = struct.unpack_from(">i", body)
    assert got == corr, "answer with correlation id %d, expected %d" % (got, corr)
    return "answer"


def send_quietly(sock, data):
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed first: fine


@pytest.fixture(scope="module")
def topic(cluster):
    return create_topic(cluster.bootstrap, unique_topic("malformed"), 1)


@pytest.fixture
def still_serving(cluster, topic):
    """After the test: the frontend is the same process and a real producer
    on a new connection still gets acks."""
    pid = frontend_pid(cluster)
    yield
    os.kill(pid, 0)  # raises if the frontend died
    assert frontend_pid(cluster) == pid, "the frontend was restarted"
    produce_keyed(cluster.bootstrap, topic, 5, key_fmt="after-%03d")


def metadata(version, body, corr=11):
    return kr.frame(kr.request_header_v1(API_METADATA, version, corr) + body)


def produce_v3(topics_body, corr=12):
    body = kr.kstring(None) + struct.pack(">hi", -1, 5000) + topics_body
    return kr.frame(kr.request_header_v1(0, 3, corr) + body)


def fetch_v4(topic, max_bytes=1 << 20, corr=13):
    body = struct.pack(">iiiib", -1, 0, 1, max_bytes, 0)  # replica, wait, min, max, isolation
    body += struct.pack(">i", 1) + kr.kstring(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, max_bytes)
    return kr.frame(kr.request_header_v1(API_FETCH, 4, corr) + body)


# ------------------------------------------------------- one-shot byte strings

# name -> (bytes, correlation id of the request or None when no answer is
# possible, half-close after sending)
CASES = {
    # framing
    "truncated_frame": (struct.pack(">i", 100) + b"\x00\x12\x00\x00" + b"\x00" * 6, None, True),
    "truncated_size": (b"\x00\x00", None, True),
    "size_negative": (struct.pack(">i", -1) + b"\x00" * 16, None, False),
    "size_int_min": (struct.pack(">i", -0x80000000) + b"\x00" * 16, None, False),
    "size_too_small": (struct.pack(">i", 3) + b"\x00\x12\x00", None, False),
    "size_2GB": (struct.pack(">i", 0x7FFFFFFF) + b"\x00\x12\x00\x00\x00\x00\x00\x01", None, False),
    "header_truncated": (kr.frame(struct.pack(">hhi", API_METADATA, 1, 5) + b"\x00\x10ab"),
                         5, False),
    "client_id_negative_length": (kr.frame(struct.pack(">hhih", API_METADATA, 1, 6, -7)), 6, False),
    # counts inside a Metadata body
    "metadata_v1_count_negative": (metadata(1, struct.pack(">i", -5)), 11, False),
    "metadata_v1_count_int_min": (metadata(1, struct.pack(">i", -0x80000000)), 11, False),
    "metadata_v4_count_past_end": (metadata(4, struct.pack(">i", 1000000) + b"\x00\x01x"), 11,
                                   False),
    "metadata_v4_string_past_end": (metadata(4, struct.pack(">ih", 1, 30000) + b"abc"), 11, False),
    "metadata_v9_compact_count_huge": (
        kr.frame(struct.pack(">hhi", API_METADATA, 9, 11) + kr.kstring("c") + b"\x00"
                 + b"\xff\xff\xff\xff\x0f" + b"\x00\x00\x00"), 11, False),
    "metadata_v9_varint_overlong": (
        kr.frame(struct.pack(">hhi", API_METADATA, 9, 11) + kr.kstring("c") + b"\x00"
                 + b"\x80" * 12), 11, False),
    # counts inside a Produce body
    "produce_topics_count_huge": (produce_v3(struct.pack(">i", 0x7FFFFFFF)), 12, False),
    "produce_topics_count_negative": (produce_v3(struct.pack(">i", -2)), 12, False),
    "produce_partitions_count_huge": (
        produce_v3(struct.pack(">i", 1) + kr.kstring("t") + struct.pack(">i", 50000000)), 12, False),
    "produce_records_len_past_end": (
        produce_v3(struct.pack(">i", 1) + kr.kstring("t") + struct.pack(">iii", 1, 0, 1 << 30)
                   + b"\x00" * 16), 12, False),
    "produce_records_len_negative": (
        produce_v3(struct.pack(">i", 1) + kr.kstring("t") + struct.pack(">iii", 1, 0, -9)), 12,
        False),
    "produce_records_garbage": (
        produce_v3(struct.pack(">i", 1) + kr.kstring("t") + struct.pack(">iii", 1, 0, 70)
                   + b"\xee" * 70), 12, False),
    # APIs and versions
    "unknown_api_key": (kr.frame(kr.request_header_v1(9999, 0, 7)), 7, False),
    "negative_api_key": (kr.frame(kr.request_header_v1(-1, 0, 7)), 7, False),
    "unknown_version_metadata": (metadata(99, b""), 11, False),
    "negative_version_metadata": (metadata(-1, b""), 11, False),
    "unknown_version_api_versions": (kr.frame(kr.request_header_v1(18, 99, 8)), 8, False),
    # other protocols on the plaintext port
    "http_get": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", None, False),
    "http_post_large": (b"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000, None,
                        False),
    "tls_client_hello": (None, None, False),
    "garbage": (bytes(range(255, 0, -1)) * 4, None, False),
}


def tls_client_hello():
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = out.read()
    assert hello[0] == 0x16
    return hello


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_input(cluster, still_serving, case):
    data, corr, half_close = CASES[case]
    if data is None:
        data = tls_client_hello()
    s = kr.connect(cluster.bootstrap)
    try:
        send_quietly(s, data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        if corr is None:
            closed, _ = kr.wait_closed(s, 5.0)
            assert closed, "server kept the connection open after %s" % case
        else:
            outcome = answer_or_close(s, corr)
            if outcome == "answer":
                # an answer is fine only if the connection still works or
                # is then closed, never left wedged
                s.sendall(kr.frame(kr.request_header_v1(18, 0, 99)))
                assert answer_or_close(s, 99) in ("answer", "closed")
    finally:
        s.close()


# ---------------------------------------------------------- behaviour over time


def test_slow_client_one_byte_per_100ms(cluster, still_serving):
    """A request dribbled in one byte per 100 ms still gets its answer (the
    frontend keeps partial frames; ~2.5 s for an ApiVersions v0)."""
    req = kr.frame(kr.request_header_v1(18, 0, 21, client_id="slow"))
    assert len(req) <= 30  # bounded to about 3 s
    s = kr.connect(cluster.bootstrap)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in req:
            s.sendall(bytes([b]))
            time.sleep(0.1)
        assert answer_or_close(s, 21) == "answer"
    finally:
        s.close()


def test_slow_client_stalls_mid_frame(cluster, still_serving):
    """A client that sends half a frame and stalls does not block others:
    the producer in still_serving runs while this connection is stuck."""
    s = kr.connect(cluster.bootstrap)
    try:
        s.sendall(struct.pack(">i", 40) + b"\x00\x03\x00")
        time.sleep(0.5)
        produce_keyed(cluster.bootstrap, unique_topic("stall"), 1)
    finally:
        s.close()


def never_reading_socket(cluster, security):
    """A connection ready for Fetch: plain, or TLS with SASL PLAIN done (then
    responses leave the frontend encrypted, through its TLS filter)."""
    if security == "plaintext":
        s = kr.connect(cluster.bootstrap)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        return s
    from test_sasl import RawConn, authenticate, handshake
    c = RawConn(cluster)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    assert handshake(c, "PLAIN")[0] == 0
    assert authenticate(c, cluster["EDDY_CONNECTION_STRING"])[0] == 0
    return c.sock


@pytest.mark.parametrize("security", ["plaintext", "sasl_ssl"])
def test_client_that_never_reads(cluster, topic, still_serving, security):
    """Many Fetch (1 MiB each) and Metadata requests, never reading answers:
    the frontend must stop reading this socket once its output backs up, so
    our sends eventually block and its RSS stays bounded. With TLS, output
    that is already encrypted counts too."""
    produce_keyed(cluster.bootstrap, topic, 200, value_fmt="%06d-%s-" + "v" * 4000)
    pid = frontend_pid(cluster)
    rss0 = rss_kb(pid)
    fetch = fetch_v4(topic)
    meta = metadata(4, struct.pack(">i", -1) + b"\x01")
    s = never_reading_socket(cluster, security)
    s.setblocking(False)
    sent = 0
    blocked = False
    peak = rss0
    deadline = time.monotonic() + 8.0
    try:
        i = 0
        msg = None
        while time.monotonic() < deadline:
            if msg is None:
                msg = fetch if i % 2 == 0 else meta
                i += 1
            try:
                n = s.send(msg)
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                # TLS must retry the very same write; plain may too
                blocked = True
                time.sleep(0.05)
                peak = max(peak, rss_kb(pid))
                if time.monotonic() > deadline - 3.0:
                    break  # blocked for a while: the frontend stopped reading
                continue
            except (BrokenPipeError, ConnectionResetError):
                break  # a close is an acceptable answer too
            sent += n
            if n < len(msg):
                blocked = True
                break
            msg = None
            if i % 200 == 0:
                peak = max(peak, rss_kb(pid))
        peak = max(peak, rss_kb(pid))
    finally:
        s.close()
    grown_mb = (peak - rss0) / 1024
    print("never-reading client: sent %d bytes, frontend RSS %d -> %d KiB" % (sent, rss0, peak))
    assert blocked, "sent %d bytes without ever blocking: the frontend kept reading" % sent
    # out-high mark (8 MiB) + max_inflight requests' answers in memory
    assert grown_mb < 256, "frontend RSS grew by %.0f MiB for one non-reading client" % grown_mb


def test_500_idle_connections(cluster, still_serving):
    """500 connections that say nothing: the frontend keeps them (or closes
    them) and serves a real client meanwhile; one of them can still talk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 700:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    socks = []
    try:
        for _ in range(500):
            socks.append(kr.connect(cluster.bootstrap, timeout=10))
        produce_keyed(cluster.bootstrap, unique_topic("idle"), 3)
        last = socks[-1]
        last.sendall(kr.frame(kr.request_header_v1(18, 0, 31)))
        assert answer_or_close(last, 31, timeout=10) == "answer"
    finally:
        for s in socks:
            s.close()


# ------------------------------------------------------ before SASL (TLS port)


def tls_connect(cluster):
    ctx = ssl.create_default_context(cafile=cluster["EDDY_CA"])
    ctx.check_hostname = False
    host, port = cluster["EDDY_BOOTSTRAP_TLS"].rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=5)
    s = ctx.wrap_socket(raw)
    s.settimeout(5)
    return s


UNAUTH_CASES = {
    # over max_request_bytes_unauth (64 KiB) before SASL: closed at the size
    "frame_over_unauth_cap": (struct.pack(">i", 100 << 10) + b"\x00\x03\x00\x01" + b"\x00" * 64,
                              None),
    # a data-path API before SASL: Kafka closes (or answers with an error)
    "metadata_before_sasl": (metadata(1, struct.pack(">i", -1)), 11),
    # SaslHandshake v1 with a mechanism name whose length runs past the end
    "handshake_bad_string": (kr.frame(kr.request_header_v1(17, 1, 41) + struct.pack(">h", 500)
                                      + b"PLAIN"), 41),
}


@pytest.mark.parametrize("case", sorted(UNAUTH_CASES))
def test_malformed_before_sasl(cluster, still_serving, case):
    if "EDDY_BOOTSTRAP_TLS" not in cluster or "EDDY_CA" not in cluster:
        pytest.skip("cluster has no SASL_SSL listener")
    data, corr = UNAUTH_CASES[case]
    s = tls_connect(cluster)
    try:
        send_quietly(s, data)
        if corr is None:
            closed, _ = kr.wait_closed(s, 5.0)
            assert closed, "server kept the connection open after %s" % case
        else:
            try:
                answer_or_close(s, corr)
            except ssl.SSLError:
                pass  # TLS close_notify or abort: a close
    finally:
        s.close()
