"""Internal RPC over mutual TLS: a cluster started with `local-cluster up
--rpc-tls` (brokers and frontend carry "rpc_tls"; an internal CA in
DIR/tls/rpc-*.pem). Kafka traffic works end to end through frontend ->
broker and broker -> controller RPC; a peer without the internal CA's
certificate gets no RPC answer from a broker."""
import json
import os
import shutil
import socket
import ssl
import struct
import tempfile
import time

import pytest

from conftest import free_port_base, launcher, log_tails, parse_env, Cluster
from util import check_roundtrip, consume_all, create_topic, produce_keyed, unique_topic

# RpcHeader{id = 42, method = GET_MAP (10)}, empty body: a request any broker
# answers (with its cluster map) when it speaks the plaintext protocol.
_HDR = b"\x08\x2a\x10\x0a"
GET_MAP_FRAME = struct.pack(">II", 4 + len(_HDR), len(_HDR)) + _HDR


@pytest.fixture(scope="module")
def tls_cluster():
    tmp = tempfile.mkdtemp(prefix="eddy-it-rpctls-")
    d = os.path.join(tmp, "cluster")
    last = None
    c = None
    for _ in range(3):
        base = free_port_base()
        r = launcher("up", "--dir", d, "--brokers", "2", "--port-base", str(base), "--rpc-tls")
        if r.returncode == 0:
            c = Cluster(parse_env(os.path.join(d, "cluster.env")))
            break
        last = r.stdout
        launcher("down", "--dir", d)
        if "already in use" not in r.stdout:
            break
    if c is None:
        pytest.fail("local-cluster up --rpc-tls failed:\n%s\n%s" % (last, log_tails(d)),
                    pytrace=False)
    ok = False
    try:
        yield c
        ok = True
    finally:
        launcher("down", "--dir", d, timeout=60)
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("cluster dir kept for inspection: " + tmp)


def broker_port(c, i):
    return int(c["EDDY_PORT_BASE"]) + 10 + i


def tls_paths(c):
    t = os.path.join(c.dir, "tls")
    return (os.path.join(t, "rpc-ca.pem"), os.path.join(t, "rpc-cert.pem"),
            os.path.join(t, "rpc-key.pem"))


def read_until_closed(sock, timeout=10):
    """Everything the peer sends until it closes (or the timeout passes:
    then closed is False)."""
    sock.settimeout(0.5)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def test_configs_carry_rpc_tls(tls_cluster):
    ca, cert, key = tls_paths(tls_cluster)
    for name in ("broker-0.json", "broker-1.json", "frontend.json"):
        with open(os.path.join(tls_cluster.dir, name)) as f:
            conf = json.load(f)
        assert conf["rpc_tls"] == {"ca": ca, "cert": cert, "key": key}, name
    for p in (ca, cert, key):
        assert os.path.getsize(p) > 0


def test_produce_consume_over_mutual_tls(tls_cluster):
    bs = tls_cluster.bootstrap
    topic = create_topic(bs, unique_topic("rpctls"), 4)
    reports = produce_keyed(bs, topic, 400)
    consumed = consume_all(bs, topic, 4, 400)
    check_roundtrip(reports, consumed, 4)
    # both brokers took part: broker-1 registered with the controller over TLS
    parts = {p for _, p, _ in reports.values()}
    assert parts == {0, 1, 2, 3}


def test_tls_client_with_internal_cert_is_answered(tls_cluster):
    """The control for the refusals below: the same frame, over TLS with the
    internal certificate, gets an RPC response."""
    ca, cert, key = tls_paths(tls_cluster)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", broker_port(tls_cluster, 0)), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(GET_MAP_FRAME)
            s.settimeout(10)
            buf = b""
            while len(buf) < 8:
                chunk = s.recv(65536)
                assert chunk, "closed without an answer"
                buf += chunk
            flen, hlen = struct.unpack(">II", buf[:8])
            while len(buf) < 4 + flen:
                chunk = s.recv(65536)
                assert chunk
                buf += chunk
            hdr = buf[8:8 + hlen]
            assert hdr.startswith(b"\x08\x2a"), hdr  # id 42 echoed
            assert b"\x18\x01" in hdr, hdr          # response = true


@pytest.mark.parametrize("broker", [0, 1])
def test_plaintext_rpc_gets_no_answer(tls_cluster, broker):
    with socket.create_connection(("127.0.0.1", broker_port(tls_cluster, broker)),
                                  timeout=10) as s:
        s.sendall(GET_MAP_FRAME)
        data, closed = read_until_closed(s)
    assert closed, "the broker kept a plaintext RPC connection open"
    # at most a TLS alert record (content type 21), never an RPC frame
    assert data == b"" or data[0] == 0x15, data[:16]


def test_tls_client_without_certificate_gets_no_answer(tls_cluster):
    ca, _, _ = tls_paths(tls_cluster)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    with socket.create_connection(("127.0.0.1", broker_port(tls_cluster, 0)), timeout=10) as raw:
        try:
            s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        except (ssl.SSLError, ConnectionResetError):
            return  # refused in the handshake (TLS 1.2)
        with s:
            try:
                s.sendall(GET_MAP_FRAME)
            except (ssl.SSLError, OSError):
                return
            data, closed = read_until_closed(s)
    assert closed
    assert data == b"", data[:16]
