"""SASL PLAIN the Event Hubs way on the SASL_SSL listener: connection strings
and SAS tokens with real clients (confluent-kafka, kafka-python), and the
protocol corners (handshake v0/v1, failures, expiry, re-authentication)
with raw frames over TLS."""
import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import time
import urllib.parse
import uuid

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient, NewTopic

from util import check_roundtrip, consume_all, produce_keyed, unique_topic

API_METADATA = 3
API_SASL_HANDSHAKE = 17
API_API_VERSIONS = 18
API_SASL_AUTHENTICATE = 36

ERR_UNSUPPORTED_SASL_MECHANISM = 33
ERR_ILLEGAL_SASL_STATE = 34
ERR_SASL_AUTHENTICATION_FAILED = 58


# ------------------------------------------------------------ credentials


def create_topic(bootstrap, name, partitions):
    """CreateTopics over the plaintext listener. The AdminClient is kept
    alive until the future resolves (a dropped handle fails it with _DESTROY)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})
    fs = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                             request_timeout=20)
    fs[name].result(timeout=30)
    return name


def policy(cluster):
    """(name, key) of the first policy in the frontend's config."""
    with open(os.path.join(cluster["EDDY_DIR"], "frontend.json")) as f:
        p = json.load(f)["policies"][0]
    return p["name"], p["key"]


def sas_token(cluster, expiry, topic=None, key=None, name=None):
    """A SAS token built as the Azure SDKs build it."""
    pname, pkey = policy(cluster)
    uri = "sb://%s/" % cluster["EDDY_BOOTSTRAP_TLS"] + (topic or "")
    sr = urllib.parse.quote_plus(uri)
    to_sign = ("%s\n%d" % (sr, expiry)).encode()
    sig = base64.b64encode(hmac.new((key or pkey).encode(), to_sign, hashlib.sha256).digest())
    return "SharedAccessSignature sr=%s&sig=%s&se=%d&skn=%s" % (
        sr, urllib.parse.quote_plus(sig.decode()), expiry, name or pname)


def wrong_key_conn_str(cluster):
    good = cluster["EDDY_CONNECTION_STRING"]
    return good.rsplit("SharedAccessKey=", 1)[0] + "SharedAccessKey=" + "A" * 43 + "="


def confluent_conf(cluster, password):
    return {
        "bootstrap.servers": cluster["EDDY_BOOTSTRAP_TLS"],
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "$ConnectionString",
        "sasl.password": password,
        "ssl.ca.location": cluster["EDDY_CA"],
    }


# ------------------------------------------------------------ raw frames


class Closed(Exception):
    pass


class RawConn:
    """One TLS (or plain) socket speaking Kafka frames."""

    def __init__(self, cluster, tls=True):
        addr = cluster["EDDY_BOOTSTRAP_TLS" if tls else "EDDY_BOOTSTRAP"]
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=15)
        if tls:
            ctx = ssl.create_default_context(cafile=cluster["EDDY_CA"])
            s = ctx.wrap_socket(s, server_hostname=host)
        self.sock = s
        self.corr = 0

    def close(self):
        self.sock.close()

    def send_raw(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _read(self, n):
        out = b""
        while len(out) < n:
            try:
                chunk = self.sock.recv(n - len(out))
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
                chunk = b""
            if not chunk:
                raise Closed()
            out += chunk
        return out

    def recv_frame(self):
        (size,) = struct.unpack(">i", self._read(4))
        return self._read(size)

    def request(self, api_key, version, body, flexible=False):
        """Send a request with header v1 (v2 if flexible); return the
        response body after the correlation id (and tags if flexible)."""
        self.corr += 1
        hdr = struct.pack(">hhih", api_key, version, self.corr, 7) + b"it-sasl"
        if flexible:
            hdr += b"\x00"
        self.send_raw(hdr + body)
        resp = self.recv_frame()
        (corr,) = struct.unpack(">i", resp[:4])
        assert corr == self.corr
        return resp[5:] if flexible else resp[4:]

    def expect_closed(self, timeout=10):
        """True when the server closes without sending anything more."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return data == b""


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def plain_msg(password, user="$ConnectionString"):
    return b"\x00" + user.encode() + b"\x00" + password.encode()


def handshake(conn, mechanism="PLAIN", version=1):
    body = conn.request(API_SASL_HANDSHAKE, version, kstr(mechanism))
    (err, n) = struct.unpack(">hi", body[:6])
    mechs, pos = [], 6
    for _ in range(n):
        (ln,) = struct.unpack(">h", body[pos:pos + 2])
        mechs.append(body[pos + 2:pos + 2 + ln].decode())
        pos += 2 + ln
    return err, mechs


def authenticate(conn, password, user="$ConnectionString"):
    """SaslAuthenticate v1: (error_code, error_message, session_lifetime_ms)."""
    msg = plain_msg(password, user)
    body = conn.request(API_SASL_AUTHENTICATE, 1, struct.pack(">i", len(msg)) + msg)
    (err, mlen) = struct.unpack(">hh", body[:4])
    pos = 4
    message = None
    if mlen >= 0:
        message = body[pos:pos + mlen].decode()
        pos += mlen
    (blen,) = struct.unpack(">i", body[pos:pos + 4])
    pos += 4 + max(blen, 0)
    (lifetime,) = struct.unpack(">q", body[pos:pos + 8])
    return err, message, lifetime


def metadata_ok(conn):
    """Metadata v1 for all topics; True when a response arrived."""
    body = conn.request(API_METADATA, 1, struct.pack(">i", -1))
    return len(body) >= 4


def api_versions_ok(conn):
    body = conn.request(API_API_VERSIONS, 0, b"")
    return struct.unpack(">h", body[:2])[0] == 0


# ------------------------------------------------------------ real clients


def test_confluent_connection_string_roundtrip(cluster):
    conf = confluent_conf(cluster, cluster["EDDY_CONNECTION_STRING"])
    topic = create_topic(cluster.bootstrap, unique_topic("sasl-cs"), 3)
    reports = produce_keyed(conf["bootstrap.servers"], topic, 300, extra=conf)
    consumed = consume_all(conf["bootstrap.servers"], topic, 3, 300, extra=conf)
    check_roundtrip(reports, consumed, 3)


def test_confluent_sas_token_roundtrip(cluster):
    conf = confluent_conf(cluster, sas_token(cluster, int(time.time()) + 3600))
    topic = create_topic(cluster.bootstrap, unique_topic("sasl-sas"), 2)
    reports = produce_keyed(conf["bootstrap.servers"], topic, 200, extra=conf)
    consumed = consume_all(conf["bootstrap.servers"], topic, 2, 200, extra=conf)
    check_roundtrip(reports, consumed, 2)


def _kafka_python_roundtrip(cluster, password, topic, n=200):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    common = dict(bootstrap_servers=cluster["EDDY_BOOTSTRAP_TLS"], security_protocol="SASL_SSL",
                  sasl_mechanism="PLAIN", sasl_plain_username="$ConnectionString",
                  sasl_plain_password=password, ssl_cafile=cluster["EDDY_CA"],
                  request_timeout_ms=30000)
    producer = KafkaProducer(acks="all", **common)
    futures = {}
    try:
        for i in range(n):
            k = b"kp-sasl-%05d" % i
            futures[k] = (b"v-%05d" % i, producer.send(topic, key=k, value=b"v-%05d" % i))
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=30)
    reports = {}
    for k, (v, fut) in futures.items():
        md = fut.get(timeout=1)
        reports[k] = (v, md.partition, md.offset)
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", **common)
    try:
        tps = [TopicPartition(topic, p) for p in range(2)]
        consumer.assign(tps)
        consumer.seek_to_beginning()
        got = []
        deadline = time.monotonic() + 60
        while len(got) < n:
            assert time.monotonic() < deadline, "consumed %d of %d" % (len(got), n)
            for tp, records in consumer.poll(timeout_ms=500).items():
                got.extend((r.key, r.value, tp.partition, r.offset) for r in records)
    finally:
        consumer.close()
    check_roundtrip(reports, got, 2)


def test_kafka_python_connection_string_roundtrip(cluster):
    topic = create_topic(cluster.bootstrap, unique_topic("sasl-kp"), 2)
    _kafka_python_roundtrip(cluster, cluster["EDDY_CONNECTION_STRING"], topic)


def test_kafka_python_sas_token_roundtrip(cluster):
    topic = create_topic(cluster.bootstrap, unique_topic("sasl-kps"), 2)
    _kafka_python_roundtrip(cluster, sas_token(cluster, int(time.time()) + 3600), topic)


def _confluent_auth_error(cluster, password):
    """Errors seen by an AdminClient with @password; asserts no metadata."""
    errors = []
    conf = confluent_conf(cluster, password)
    conf["error_cb"] = errors.append
    a = AdminClient(conf)
    auth_codes = (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(e.code() in auth_codes for e in errors):
        a.poll(0.5)
        listed = None
        try:
            listed = a.list_topics(timeout=2)
        except Exception:
            pass
        assert listed is None, "metadata served to a client with bad credentials"
    return [e for e in errors if e.code() in auth_codes]


def test_confluent_wrong_key_fails(cluster):
    errs = _confluent_auth_error(cluster, wrong_key_conn_str(cluster))
    assert errs, "no authentication error reported"


def test_confluent_expired_token_fails(cluster):
    errs = _confluent_auth_error(cluster, sas_token(cluster, int(time.time()) - 10))
    assert errs, "no authentication error reported"
    assert any("expired" in e.str() for e in errs), [e.str() for e in errs]


def test_kafka_python_wrong_key_fails(cluster):
    from kafka import KafkaProducer
    from kafka.errors import KafkaError as KPError

    with pytest.raises(KPError):
        p = KafkaProducer(bootstrap_servers=cluster["EDDY_BOOTSTRAP_TLS"],
                          security_protocol="SASL_SSL", sasl_mechanism="PLAIN",
                          sasl_plain_username="$ConnectionString",
                          sasl_plain_password=wrong_key_conn_str(cluster),
                          ssl_cafile=cluster["EDDY_CA"], request_timeout_ms=10000,
                          api_version_auto_timeout_ms=10000, max_block_ms=10000)
        p.close()


# ------------------------------------------------------------ protocol corners


def test_plain_ssl_without_sasl_gets_nothing(cluster):
    c = RawConn(cluster)
    try:
        with pytest.raises(Closed):
            metadata_ok(c)
    finally:
        c.close()


def test_handshake_lists_plain_and_refuses_others(cluster):
    c = RawConn(cluster)
    try:
        assert api_versions_ok(c)
        err, mechs = handshake(c, "GSSAPI")
        assert err == ERR_UNSUPPORTED_SASL_MECHANISM
        assert mechs == ["PLAIN"]
        assert c.expect_closed()
    finally:
        c.close()


def test_authenticate_before_handshake_is_illegal(cluster):
    c = RawConn(cluster)
    try:
        err, message, _ = authenticate(c, cluster["EDDY_CONNECTION_STRING"])
        assert err == ERR_ILLEGAL_SASL_STATE
        assert message
        assert c.expect_closed()
    finally:
        c.close()


def test_raw_wrong_key_answers_58_and_closes(cluster):
    c = RawConn(cluster)
    try:
        assert handshake(c) == (0, ["PLAIN"])
        err, message, _ = authenticate(c, wrong_key_conn_str(cluster))
        assert err == ERR_SASL_AUTHENTICATION_FAILED
        assert "SharedAccessKey" in message
        assert "A" * 43 not in message  # the key is never echoed
        assert c.expect_closed()
    finally:
        c.close()


def test_raw_wrong_username_fails(cluster):
    c = RawConn(cluster)
    try:
        assert handshake(c)[0] == 0
        err, message, _ = authenticate(c, cluster["EDDY_CONNECTION_STRING"], user="admin")
        assert err == ERR_SASL_AUTHENTICATION_FAILED
        assert "$ConnectionString" in message
        assert c.expect_closed()
    finally:
        c.close()


def test_connection_string_session_has_no_lifetime(cluster):
    c = RawConn(cluster)
    try:
        assert handshake(c)[0] == 0
        assert authenticate(c, cluster["EDDY_CONNECTION_STRING"]) == (0, None, 0)
        assert metadata_ok(c)
        # a second SaslAuthenticate without a handshake: Kafka's answer, no close
        err, _, _ = authenticate(c, cluster["EDDY_CONNECTION_STRING"])
        assert err == ERR_ILLEGAL_SASL_STATE
        assert metadata_ok(c)
    finally:
        c.close()


def test_handshake_v0_then_raw_token(cluster):
    c = RawConn(cluster)
    try:
        assert handshake(c, version=0) == (0, ["PLAIN"])
        c.send_raw(plain_msg(cluster["EDDY_CONNECTION_STRING"]))
        assert c.recv_frame() == b""  # empty server token
        assert metadata_ok(c)
    finally:
        c.close()


def test_handshake_v0_then_bad_raw_token_closes(cluster):
    c = RawConn(cluster)
    try:
        assert handshake(c, version=0)[0] == 0
        c.send_raw(plain_msg(wrong_key_conn_str(cluster)))
        with pytest.raises(Closed):
            c.recv_frame()
    finally:
        c.close()


def test_sas_token_lifetime_expiry_and_reauthentication(cluster):
    expiry = int(time.time()) + 3
    c = RawConn(cluster)
    try:
        assert handshake(c)[0] == 0
        err, _, lifetime = authenticate(c, sas_token(cluster, expiry))
        assert err == 0
        assert 0 < lifetime <= 3000
        assert metadata_ok(c)
        # KIP-368: re-authenticate with a fresh token before the first expires
        assert handshake(c)[0] == 0
        err, _, lifetime = authenticate(c, sas_token(cluster, expiry + 3600))
        assert err == 0
        assert lifetime > 3000 * 1000
        time.sleep(max(0.0, expiry + 1 - time.time()))  # the first token is past
        assert metadata_ok(c)
    finally:
        c.close()

    # without re-authentication the session ends with the token
    expiry = int(time.time()) + 2
    c = RawConn(cluster)
    try:
        assert handshake(c)[0] == 0
        assert authenticate(c, sas_token(cluster, expiry))[0] == 0
        assert metadata_ok(c)
        time.sleep(max(0.0, expiry + 0.5 - time.time()))
        with pytest.raises(Closed):
            metadata_ok(c)
    finally:
        c.close()


def test_token_for_another_policy_key_fails(cluster):
    c = RawConn(cluster)
    try:
        assert handshake(c)[0] == 0
        token = sas_token(cluster, int(time.time()) + 600, key="not-the-key-" + uuid.uuid4().hex)
        err, message, _ = authenticate(c, token)
        assert err == ERR_SASL_AUTHENTICATION_FAILED
        assert message
        assert c.expect_closed()
    finally:
        c.close()


def test_topic_scoped_token_sees_only_its_topic(cluster):
    topic = create_topic(cluster.bootstrap, unique_topic("sasl-scope"), 1)
    other = create_topic(cluster.bootstrap, unique_topic("sasl-other"), 1)
    conf = confluent_conf(cluster, sas_token(cluster, int(time.time()) + 600, topic=topic))
    a = AdminClient(conf)
    md = a.list_topics(timeout=20)
    assert topic in md.topics
    assert other not in md.topics


def test_sasl_on_plain_listener_is_illegal_state(cluster):
    c = RawConn(cluster, tls=False)
    try:
        err, mechs = handshake(c)
        assert err == ERR_ILLEGAL_SASL_STATE
        assert mechs == []
        assert api_versions_ok(c)  # connection stays usable
    finally:
        c.close()
