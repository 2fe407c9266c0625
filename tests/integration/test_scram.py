"""SASL SCRAM-SHA-256/512 for configured users, and TLS certificate reload on
SIGHUP. The tests run a frontend of their own (own config, own copy of the
certificate, own port) in front of the session cluster's brokers, so that
adding SCRAM users and replacing the certificate touch nothing the other
tests see."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient

from conftest import REPO, free_port_base
from test_sasl import (API_SASL_AUTHENTICATE, ERR_SASL_AUTHENTICATION_FAILED,
                       ERR_UNSUPPORTED_SASL_MECHANISM, Closed, RawConn, create_topic,
                       handshake, metadata_ok)
from util import check_roundtrip, consume_all, produce_keyed, unique_topic, wait_for

ALICE = ("alice", "alice-password-0123")      # password form, both mechanisms
BOB = ("b,o=b", "bob-password-4567")            # credentials form, SHA-256, Listen only
MECHS = ["SCRAM-SHA-256", "SCRAM-SHA-512"]
HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}


def scram_credentials(password, mech, salt=b"eddy-test-salt-0123", iterations=4096):
    h = HASHES[mech]
    salted = hashlib.pbkdf2_hmac(h().name, password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", h).digest()
    return {"salt": base64.b64encode(salt).decode(), "iterations": iterations,
            "stored_key": base64.b64encode(h(client_key).digest()).decode(),
            "server_key": base64.b64encode(hmac.new(salted, b"Server Key", h).digest()).decode()}


def frontend_bin():
    d = os.environ.get("EDDY_BUILD_DIR", os.path.join(REPO, "build"))
    if not os.path.isabs(d):
        d = os.path.join(os.getcwd(), d)
    return os.path.join(d, "frontend", "eddy-frontend")


def new_cert(tls_dir, ca_dir, serial):
    """A server key and certificate for 127.0.0.1 with @serial, signed by the
    cluster's dev CA, written over server.pem / server.key in @tls_dir."""
    ext = os.path.join(tls_dir, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    key, csr, pem = (os.path.join(tls_dir, n) for n in ("new.key", "new.csr", "new.pem"))
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, timeout=60)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(ca_dir, "ca.pem"),
        "-CAkey", os.path.join(ca_dir, "ca.key"), "-set_serial", "0x%X" % serial, "-days", "30",
        "-sha256", "-extfile", ext, "-out", pem)
    # the key first: until both are replaced a reload fails and keeps the old pair
    os.replace(key, os.path.join(tls_dir, "server.key"))
    os.replace(pem, os.path.join(tls_dir, "server.pem"))
    os.unlink(csr)


class Frontend(dict):
    """An eddy-frontend of the tests' own, as a cluster-like dict for RawConn."""

    def __init__(self, cluster, tmp):
        super().__init__()
        self.tmp = tmp
        self.tls_dir = os.path.join(tmp, "tls")
        os.makedirs(self.tls_dir)
        src = os.path.join(cluster["EDDY_DIR"], "tls")
        for n in ("server.pem", "server.key"):
            shutil.copy(os.path.join(src, n), self.tls_dir)
        with open(os.path.join(cluster["EDDY_DIR"], "frontend.json")) as f:
            base = json.load(f)
        port = free_port_base()
        self.addr = "127.0.0.1:%d" % port
        conf = {
            "node_id": 0,
            "controller": base["controller"],
            "listeners": [{"name": "sasl_ssl", "listen": self.addr, "advertised": self.addr,
                           "tls": True, "sasl": True}],
            "tls": {"cert": os.path.join(self.tls_dir, "server.pem"),
                    "key": os.path.join(self.tls_dir, "server.key")},
            "policies": base["policies"],
            "scram_users": [
                {"name": ALICE[0], "password": ALICE[1], "rights": ["Send", "Listen", "Manage"]},
                {"name": BOB[0], "rights": ["Listen"],
                 "credentials": {"SCRAM-SHA-256": scram_credentials(BOB[1], "SCRAM-SHA-256",
                                                                    iterations=8192)}},
            ],
            "auto_create_topics": True,
        }
        self.config = os.path.join(tmp, "frontend.json")
        with open(self.config, "w") as f:
            json.dump(conf, f)
        self.log_path = os.path.join(tmp, "frontend.log")
        self.update({"EDDY_BOOTSTRAP_TLS": self.addr, "EDDY_CA": cluster["EDDY_CA"],
                     "EDDY_DIR": tmp})
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([frontend_bin(), "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def up():
            assert self.proc.poll() is None, "frontend exited:\n" + self.log_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, 20, what="the SCRAM frontend to listen")

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

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
def fe(cluster):
    tmp = tempfile.mkdtemp(prefix="eddy-it-scram-")
    f = Frontend(cluster, tmp)
    try:
        yield f
    finally:
        f.stop()
        rc = f.proc.returncode
        shutil.rmtree(tmp, ignore_errors=True)
        assert rc == 0, "the SCRAM frontend did not stop cleanly (rc %s)" % rc


# ------------------------------------------------------------ a SCRAM client


class Scram:
    """The client side of RFC 5802, to drive the frontend byte by byte."""

    def __init__(self, mech, user, password):
        self.h = HASHES[mech]
        self.user, self.password = user, password
        self.cnonce = base64.b64encode(os.urandom(18)).decode()

    def first(self):
        name = self.user.replace("=", "=3D").replace(",", "=2C")
        self.bare = "n=%s,r=%s" % (name, self.cnonce)
        return ("n,," + self.bare).encode()

    def final(self, server_first, tamper=False):
        self.server_first = server_first.decode()
        attrs = dict(a.split("=", 1) for a in self.server_first.split(","))
        assert attrs["r"].startswith(self.cnonce) and len(attrs["r"]) > len(self.cnonce)
        salted = hashlib.pbkdf2_hmac(self.h().name, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", self.h).digest()
        without = "c=biws,r=" + attrs["r"]
        am = ("%s,%s,%s" % (self.bare, self.server_first, without)).encode()
        sig = hmac.new(self.h(client_key).digest(), am, self.h).digest()
        proof = bytearray(a ^ b for a, b in zip(client_key, sig))
        if tamper:
            proof[0] ^= 1
        server_key = hmac.new(salted, b"Server Key", self.h).digest()
        self.server_sig = hmac.new(server_key, am, self.h).digest()
        return (without + ",p=" + base64.b64encode(bytes(proof)).decode()).encode()


def sasl_authenticate(conn, payload):
    """SaslAuthenticate v1 with raw @payload: (error, message, auth_bytes)."""
    body = conn.request(API_SASL_AUTHENTICATE, 1, struct.pack(">i", len(payload)) + payload)
    (err, mlen) = struct.unpack(">hh", body[:4])
    pos, message = 4, None
    if mlen >= 0:
        message = body[pos:pos + mlen].decode()
        pos += mlen
    (blen,) = struct.unpack(">i", body[pos:pos + 4])
    return err, message, body[pos + 4:pos + 4 + max(blen, 0)]


def scram_login(fe, mech, user, password, tamper=False):
    """A raw TLS connection after a SCRAM exchange; returns (conn, error, message)."""
    c = RawConn(fe)
    err, _ = handshake(c, mech)
    assert err == 0
    s = Scram(mech, user, password)
    err, msg, server_first = sasl_authenticate(c, s.first())
    assert err == 0, msg
    err, msg, server_final = sasl_authenticate(c, s.final(server_first, tamper))
    if err == 0:
        assert server_final == b"v=" + base64.b64encode(s.server_sig), server_final
    return c, err, msg


# ------------------------------------------------------------ protocol


def test_handshake_offers_plain_and_scram(fe):
    c = RawConn(fe)
    try:
        err, mechs = handshake(c, "SCRAM-SHA-1")
        assert err == ERR_UNSUPPORTED_SASL_MECHANISM
        assert mechs == ["PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256"]
        assert c.expect_closed()
    finally:
        c.close()


@pytest.mark.parametrize("mech", MECHS)
def test_raw_scram_exchange(fe, mech):
    c, err, msg = scram_login(fe, mech, *ALICE)
    try:
        assert err == 0, msg
        assert metadata_ok(c)
    finally:
        c.close()


def test_raw_scram_escaped_name_and_credentials_form(fe):
    c, err, msg = scram_login(fe, "SCRAM-SHA-256", *BOB)
    try:
        assert err == 0, msg
        assert metadata_ok(c)
    finally:
        c.close()
    # bob has no SHA-512 credentials: refused like a wrong password
    c, err, msg = scram_login(fe, "SCRAM-SHA-512", *BOB)
    try:
        assert err == ERR_SASL_AUTHENTICATION_FAILED
        assert c.expect_closed()
    finally:
        c.close()


@pytest.mark.parametrize("case", ["wrong-password", "tampered-proof", "unknown-user"])
def test_raw_scram_refused(fe, case):
    user, password = ALICE
    if case == "wrong-password":
        password += "x"
    elif case == "unknown-user":
        user = "mallory"
    c, err, msg = scram_login(fe, "SCRAM-SHA-256", user, password, tamper=case == "tampered-proof")
    try:
        assert err == ERR_SASL_AUTHENTICATION_FAILED
        assert "invalid SCRAM username or password" in msg
        assert password not in msg
        assert c.expect_closed()
    finally:
        c.close()


def test_raw_scram_channel_binding_refused(fe):
    c = RawConn(fe)
    try:
        assert handshake(c, "SCRAM-SHA-256")[0] == 0
        err, msg, _ = sasl_authenticate(c, b"p=tls-unique,,n=alice,r=abcdef")
        assert err == ERR_SASL_AUTHENTICATION_FAILED
        assert "channel binding" in msg
        assert c.expect_closed()
    finally:
        c.close()


def test_scram_user_rights_apply(fe, cluster):
    """bob has Listen only: a produce is refused, metadata is served."""
    from confluent_kafka import Producer

    topic = create_topic(cluster.bootstrap, unique_topic("scram-rights"), 1)
    conf = confluent_conf(fe, "SCRAM-SHA-256", *BOB)
    conf["message.timeout.ms"] = 15000
    p = Producer(conf)
    results = []
    p.produce(topic, b"v", on_delivery=lambda err, msg: results.append(err))
    p.flush(30)
    assert results and results[0] is not None
    assert results[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, results[0]


# ------------------------------------------------------------ real clients


def confluent_conf(fe, mech, user, password):
    return {"bootstrap.servers": fe.addr, "security.protocol": "SASL_SSL",
            "sasl.mechanisms": mech, "sasl.username": user, "sasl.password": password,
            "ssl.ca.location": fe["EDDY_CA"]}


@pytest.mark.parametrize("mech", MECHS)
def test_confluent_scram_roundtrip(fe, cluster, mech):
    conf = confluent_conf(fe, mech, *ALICE)
    topic = create_topic(cluster.bootstrap, unique_topic("scram-ck"), 2)
    reports = produce_keyed(fe.addr, topic, 200, extra=conf)
    consumed = consume_all(fe.addr, topic, 2, 200, extra=conf)
    check_roundtrip(reports, consumed, 2)


@pytest.mark.parametrize("mech", MECHS)
def test_confluent_scram_wrong_password_refused(fe, mech):
    errors = []
    conf = confluent_conf(fe, mech, ALICE[0], ALICE[1] + "-wrong")
    conf["error_cb"] = errors.append
    a = AdminClient(conf)
    auth_codes = (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(e.code() in auth_codes for e in errors):
        a.poll(0.5)
        try:
            listed = a.list_topics(timeout=2)
        except Exception:
            listed = None
        assert listed is None, "metadata served to a client with a wrong password"
    assert any(e.code() in auth_codes for e in errors), errors


def _kafka_python_common(fe, mech, user, password):
    return dict(bootstrap_servers=fe.addr, security_protocol="SASL_SSL", sasl_mechanism=mech,
                sasl_plain_username=user, sasl_plain_password=password,
                ssl_cafile=fe["EDDY_CA"], request_timeout_ms=30000)


@pytest.mark.parametrize("mech", MECHS)
def test_kafka_python_scram_roundtrip(fe, cluster, mech):
    # kafka-python 2.0.2 has SCRAM (kafka/scram.py): SaslHandshake v0, raw tokens
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    topic = create_topic(cluster.bootstrap, unique_topic("scram-kp"), 1)
    common = _kafka_python_common(fe, mech, *ALICE)
    producer = KafkaProducer(acks="all", **common)
    try:
        futs = [producer.send(topic, key=b"k%d" % i, value=b"v%d" % i) for i in range(50)]
        producer.flush(timeout=60)
        offsets = sorted(f.get(timeout=1).offset for f in futs)
    finally:
        producer.close(timeout=30)
    assert offsets == list(range(50))
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", **common)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        got = []
        deadline = time.monotonic() + 60
        while len(got) < 50:
            assert time.monotonic() < deadline, "consumed %d of 50" % len(got)
            for records in consumer.poll(timeout_ms=500).values():
                got.extend(r.value for r in records)
    finally:
        consumer.close()
    assert sorted(got) == sorted(b"v%d" % i for i in range(50))


def test_kafka_python_scram_wrong_password_refused(fe):
    from kafka import KafkaProducer
    from kafka.errors import KafkaError as KPError

    with pytest.raises(KPError):
        p = KafkaProducer(api_version_auto_timeout_ms=10000, max_block_ms=10000,
                          **_kafka_python_common(fe, "SCRAM-SHA-512", ALICE[0], "nope-nope"))
        p.close()


# ------------------------------------------------------------ certificate reload


def peer_serial(fe):
    host, port = fe.addr.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=fe["EDDY_CA"])
    with socket.create_connection((host, int(port)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=host) as t:
            return int(t.getpeercert()["serialNumber"], 16)


def test_sighup_reloads_certificate(fe, cluster):
    old_serial = peer_serial(fe)
    # a connection authenticated on the old certificate
    old, err, msg = scram_login(fe, "SCRAM-SHA-256", *ALICE)
    try:
        assert err == 0, msg
        assert metadata_ok(old)

        new_serial = 0x5EED0000 + (os.getpid() & 0xFFFF)
        assert new_serial != old_serial
        new_cert(fe.tls_dir, os.path.join(cluster["EDDY_DIR"], "tls"), new_serial)
        assert peer_serial(fe) == old_serial  # nothing changes before the signal
        os.kill(fe.proc.pid, signal.SIGHUP)
        wait_for(lambda: peer_serial(fe) == new_serial, 10, what="the new certificate")
        assert "new connections use the reloaded certificate" in fe.log_text()

        # the old connection keeps its session; new ones work on the new certificate
        assert metadata_ok(old)
        c, err, msg = scram_login(fe, "SCRAM-SHA-512", *ALICE)
        assert err == 0, msg
        assert metadata_ok(c)
        c.close()

        # a broken certificate file: logged, and the current one stays in use
        with open(os.path.join(fe.tls_dir, "server.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n")
        os.kill(fe.proc.pid, signal.SIGHUP)
        wait_for(lambda: "keeping the current certificate" in fe.log_text(), 10,
                 what="the failed reload to be logged")
        assert fe.proc.poll() is None
        assert peer_serial(fe) == new_serial
        assert metadata_ok(old)
        admin = AdminClient(confluent_conf(fe, "SCRAM-SHA-256", *ALICE))
        assert admin.list_topics(timeout=20).brokers
    finally:
        old.close()
