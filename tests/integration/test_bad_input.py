"""Malformed and hostile input on the plaintext Kafka port: the frontend
closes the offending connection and keeps serving everybody else."""
import socket
import ssl
import struct

import pytest

import kafka_raw as kr
from util import consume_all, create_topic, produce_keyed, unique_topic


def tls_client_hello():
    """The bytes of a real TLS ClientHello (what a TLS client sends first)."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = outgoing.read()
    assert hello[0] == 0x16  # handshake record
    return hello


def _unknown_api_key():
    return kr.frame(kr.request_header_v1(9999, 0, 7))


BAD_INPUTS = {
    # A frame announcing 100 bytes, 10 sent, then our side stops writing.
    "truncated_frame": (struct.pack(">i", 100) + b"\x00\x12\x00\x00" + b"\x00" * 6, True),
    "negative_size": (struct.pack(">i", -5) + b"\x00" * 16, False),
    "size_2GB": (struct.pack(">i", 0x7FFFFFFF) + b"\x00\x12\x00\x00\x00\x00\x00\x01", False),
    "unknown_api_key": (_unknown_api_key(), False),
    "garbage_framed": (struct.pack(">i", 32) + bytes.fromhex("deadbeef") * 8, False),
    "garbage_unframed": (bytes(range(255, 0, -1)) * 4, False),
    "http_get": (b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n", False),
    "tls_client_hello": (None, False),
}


@pytest.fixture(scope="module")
def bad_input_topic(cluster):
    return create_topic(cluster.bootstrap, unique_topic("bad"), 1)


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_connection_closed_and_server_survives(cluster, bad_input_topic, case):
    data, half_close = BAD_INPUTS[case]
    if data is None:
        data = tls_client_hello()
    s = kr.connect(cluster.bootstrap)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # already closed by the server: fine
        if half_close:
            s.shutdown(socket.SHUT_WR)
        closed, _ = kr.wait_closed(s, 5.0)
        assert closed, "server kept the connection open after %s" % case
    finally:
        s.close()

    # Another connection, right after: a real client still produces and reads.
    bs = cluster.bootstrap
    before = consume_all(bs, bad_input_topic, 1, 0, timeout=30)
    reports = produce_keyed(bs, bad_input_topic, 20, key_fmt=case + "-%03d")
    after = consume_all(bs, bad_input_topic, 1, len(before) + 20, timeout=30)
    new = [m for m in after if m[0] in reports]
    assert len(new) == 20
    for k, v, p, off in new:
        assert (v, p, off) == reports[k]


def test_api_versions_unsupported_version(cluster):
    s = kr.connect(cluster.bootstrap)
    try:
        body = kr.call(s, kr.API_API_VERSIONS, 99, b"", correlation_id=4242)
        err, apis = kr.api_versions_v0_decode(body)
        assert err == 35  # UNSUPPORTED_VERSION
        assert apis, "KIP-511: the reply lists the supported ranges"
        assert kr.API_API_VERSIONS in apis and kr.API_PRODUCE in apis
        # The connection stays usable: a proper v0 request gets a proper reply.
        body = kr.call(s, kr.API_API_VERSIONS, 0, b"", correlation_id=4243)
        err, apis0 = kr.api_versions_v0_decode(body)
        assert err == 0 and apis0 == apis
    finally:
        s.close()


def test_produce_v2_refused(cluster, bad_input_topic):
    batch = kr.record_batch_v2([(b"k", b"v")])
    s = kr.connect(cluster.bootstrap)
    try:
        s.sendall(kr.frame(kr.request_header_v1(kr.API_PRODUCE, 2, 11)
                           + kr.produce_request(2, bad_input_topic, 0, batch)))
        try:
            resp = kr.recv_frame(s, 10)
        except ConnectionError:
            resp = None  # refused by closing the connection: allowed
        if resp is not None:
            r = kr.Reader(resp)
            assert r.int32() == 11
            parts = kr.produce_response_decode(2, resp[4:])
            assert parts and all(err == 35 for _, _, err, _ in parts), parts
    finally:
        s.close()
    _assert_still_answers(cluster)


def _assert_still_answers(cluster):
    """A new connection right after still gets ApiVersions answered."""
    s = kr.connect(cluster.bootstrap)
    try:
        err, apis = kr.api_versions_v0_decode(kr.call(s, kr.API_API_VERSIONS, 0, b""))
        assert err == 0 and apis
    finally:
        s.close()


def test_produce_v3_corrupt_crc(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("crc"), 1)
    s = kr.connect(bs)
    try:
        good = kr.record_batch_v2([(b"good-key", b"good-value")])
        body = kr.call(s, kr.API_PRODUCE, 3, kr.produce_request(3, topic, 0, good), correlation_id=21)
        assert kr.produce_response_decode(3, body) == [(topic, 0, 0, 0)]

        bad = kr.record_batch_v2([(b"bad-key", b"bad-value")], corrupt_crc=True)
        body = kr.call(s, kr.API_PRODUCE, 3, kr.produce_request(3, topic, 0, bad), correlation_id=22)
        parts = kr.produce_response_decode(3, body)
        assert [(t, p, e) for t, p, e, _ in parts] == [(topic, 0, 2)]  # CORRUPT_MESSAGE
    finally:
        s.close()
    # Only the good batch is in the log.
    got = consume_all(bs, topic, 1, 1, timeout=30)
    assert [(k, v, o) for k, v, _, o in got] == [(b"good-key", b"good-value", 0)]
