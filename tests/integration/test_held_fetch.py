"""Held fetch replies (sendfile from the LMDB data file): the broker keeps the
pages it sent unchanged until the peer acknowledges the reply, even when the
batches are deleted and their pages written again meanwhile.

The test is the RPC peer itself, so that the reply deterministically stays
unread: it asks for a held FETCH, reads nothing, deletes the topic and writes
enough elsewhere to reuse the freed pages, then reads the reply and compares
it with the same FETCH answered before, unheld."""
import json
import socket
import struct
import time
import urllib.request

import pytest

from test_cluster import small_cluster  # noqa: F401 (fixture)
from util import admin_client, create_topic, wait_for

ck = pytest.importorskip("confluent_kafka")

FETCH, REPLY_ACK = 2, 5
MAX = 8 << 20


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def fv(num, v):
    return varint(num << 3) + varint(v) if v else b""


def fb(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def rpc_frame(rid, method, body=b"", acks_held=False):
    hdr = fv(1, rid) + fv(2, method) + fv(5, len(body)) + fv(7, 1 if acks_held else 0)
    return struct.pack(">II", 4 + len(hdr) + len(body), len(hdr)) + hdr + body


def fetch_body(topic):
    part = fb(1, topic.encode()) + fv(4, 0) + fv(5, MAX)  # partition 0, offset 0
    return fv(3, MAX) + fb(4, part)  # max_wait 0, min_bytes 0: answer at once


def parse_fields(buf):
    """Varint fields of a protobuf message (others skipped): {num: value}."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            out[num], i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            i += n
        else:
            raise ValueError("wire type %d" % wt)
    return out


def read_varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def read_reply(s, timeout=30):
    """(header fields, body, tail) of the next frame on @p s."""
    s.settimeout(timeout)
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(1 << 20)
            assert chunk, "connection closed"
            buf += chunk

    need(8)
    flen, hlen = struct.unpack(">II", buf[:8])
    need(4 + flen)
    hdr = parse_fields(buf[8:8 + hlen])
    blen = hdr.get(5, 0)
    body = buf[8 + hlen:8 + hlen + blen]
    return hdr, body, buf[8 + hlen + blen:4 + flen]


def broker_reads(c):
    url = "http://127.0.0.1:%d/stats" % (int(c["EDDY_PORT_BASE"]) + 40)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["reads"]


def test_held_reply_survives_page_reuse(small_cluster):  # noqa: F811
    c = small_cluster
    broker = ("127.0.0.1", int(c["EDDY_PORT_BASE"]) + 10)
    create_topic(c.bootstrap, "held", 1)
    p = ck.Producer({"bootstrap.servers": c.bootstrap, "linger.ms": 50,
                     "batch.size": 262144, "compression.type": "none"})
    for i in range(4000):  # 4 MB in batches of about 256 KiB: they go by sendfile()
        p.produce("held", value=(b"%08d" % i) * 128, partition=0)
    assert p.flush(30) == 0

    # the reference: the same FETCH, not held
    with socket.create_connection(broker, timeout=10) as s:
        s.sendall(rpc_frame(1, FETCH, fetch_body("held")))
        hdr, _, ref = read_reply(s)
    assert hdr.get(3) == 1 and not hdr.get(8)  # a response, not held
    assert len(ref) > 1 << 20

    sent0 = broker_reads(c)["sendfile_bytes"]
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # the rest waits at the broker
    held.connect(broker)
    try:
        held.sendall(rpc_frame(2, FETCH, fetch_body("held"), acks_held=True))
        wait_for(lambda: broker_reads(c)["pinned"] >= 1, 10, what="a pinned read")
        assert broker_reads(c)["sendfile_bytes"] > sent0

        # free the batches' pages and write other bytes where LMDB may reuse them
        adm = admin_client(c.bootstrap)
        fs = adm.delete_topics(["held"], operation_timeout=30)
        for f in fs.values():
            f.result(30)
        time.sleep(2)  # the broker drops the partition's data after the map says so
        create_topic(c.bootstrap, "filler", 1)
        for _ in range(4):
            for i in range(4000):
                p.produce("filler", value=b"\xee" * 1024, partition=0)
            assert p.flush(30) == 0
        assert broker_reads(c)["pinned"] >= 1  # still held: nothing acknowledged

        hdr, _, tail = read_reply(held)
        assert hdr.get(1) == 2 and hdr.get(8) == 1  # our reply, marked held
        assert tail == ref, "the held reply changed under the peer"

        held.sendall(rpc_frame(2, REPLY_ACK))
        wait_for(lambda: broker_reads(c)["pinned"] == 0, 10, what="the pin released")
    finally:
        held.close()
