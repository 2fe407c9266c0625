"""Idempotent producer (docs/delivery.md): InitProducerId, duplicate
detection on the partition owner, sequence gaps and fenced epochs refused,
DescribeProducers, and exactly-once delivery into the log while a broker is
SIGKILLed and restarted under an idempotent confluent-kafka producer."""
import os
import signal
import struct
import threading
import time
import uuid

from confluent_kafka import Producer

import kafka_raw as kr
from util import consume_all, create_topic, unique_topic, wait_for

ERR_NONE = 0
ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45
ERR_INVALID_PRODUCER_EPOCH = 47
ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53

INIT_PRODUCER_ID = 22
PRODUCE = 0
DESCRIBE_PRODUCERS = 61


# --------------------------------------------------------------- raw protocol

def idempotent_batch(values, producer_id, epoch, base_sequence):
    """A magic-v2 batch like kafka_raw.record_batch_v2, with producer fields."""
    ts = int(time.time() * 1000)
    recs = b"".join(kr.record_v2(i, 0, None, v) for i, v in enumerate(values))
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, producer_id, epoch,
                            base_sequence, len(values)) + recs
    batch_length = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qiibI", 0, batch_length, -1, 2, kr.crc32c(after_crc)) + after_crc


def init_producer_id(sock, version=0, transactional_id=None, producer_id=-1, epoch=-1):
    """InitProducerId v0/v1 (classic encoding) or v2+ (flexible: header v2,
    compact strings; v3+ carries the current id and epoch, KIP-360).
    Returns (error, pid, epoch)."""
    if version < 2:
        body = kr.kstring(transactional_id) + struct.pack(">i", 60000)
        resp = kr.call(sock, INIT_PRODUCER_ID, version, body)
    else:
        tid = b"\x00" if transactional_id is None else \
            uvarint_bytes(len(transactional_id) + 1) + transactional_id.encode()
        body = tid + struct.pack(">iqh", 60000, producer_id, epoch) + b"\x00"
        resp = call_flexible(sock, INIT_PRODUCER_ID, version, body)
    _, err, pid, ep = struct.unpack(">ihqh", resp[:16])
    return err, pid, ep


def call_flexible(sock, api_key, version, body, correlation_id=7):
    """A request with header v2 (tagged fields); returns the body after the
    v1 response header (correlation id + empty tags)."""
    hdr = struct.pack(">hhi", api_key, version, correlation_id) + kr.kstring("eddy-raw-test") + b"\x00"
    sock.sendall(kr.frame(hdr + body))
    resp = kr.recv_frame(sock)
    (corr,) = struct.unpack(">i", resp[:4])
    assert corr == correlation_id
    assert resp[4] == 0, "response header tags"
    return resp[5:]


def produce(sock, topic, batch):
    body = kr.produce_request(3, topic, 0, batch)
    out = kr.produce_response_decode(3, kr.call(sock, PRODUCE, 3, body))
    assert len(out) == 1
    return out[0][2], out[0][3]


def uvarint_bytes(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def uvarint(r):
    shift = v = 0
    while True:
        b = r.int8() & 0xFF
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v
        shift += 7


def describe_producers(sock, topic, partitions):
    name = topic.encode()
    body = bytes([2]) + bytes([len(name) + 1]) + name + bytes([len(partitions) + 1])
    body += b"".join(struct.pack(">i", p) for p in partitions) + b"\x00" + b"\x00"
    r = kr.Reader(call_flexible(sock, DESCRIBE_PRODUCERS, 0, body))
    r.int32()  # throttle
    out = {}
    for _ in range(uvarint(r) - 1):
        r._take(uvarint(r) - 1)  # topic name
        for _ in range(uvarint(r) - 1):
            p = r.int32()
            err = r.int16()
            n = uvarint(r)  # nullable compact string: 0 = null
            if n:
                r._take(n - 1)
            prods = []
            for _ in range(uvarint(r) - 1):
                pid, ep, seq, ts, ce, txn = r.int64(), r.int32(), r.int32(), r.int64(), r.int32(), r.int64()
                assert uvarint(r) == 0
                prods.append((pid, ep, seq))
            assert uvarint(r) == 0
            out[p] = (err, prods)
        assert uvarint(r) == 0
    return out


def test_resent_batch_gets_its_offset_and_gaps_are_refused(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("idem-raw"), 1)
    s = kr.connect(bs)
    try:
        err, pid, epoch = init_producer_id(s)
        assert err == ERR_NONE and pid >= 0 and epoch == 0, (err, pid, epoch)
        err2, pid2, _ = init_producer_id(s)
        assert err2 == ERR_NONE and pid2 != pid, "producer ids must be unique"

        first = idempotent_batch([b"a0", b"a1", b"a2"], pid, epoch, 0)
        assert produce(s, topic, first) == (ERR_NONE, 0)
        # the same batch again (a retry after a lost answer): same offset, one copy
        assert produce(s, topic, first) == (ERR_NONE, 0)
        assert produce(s, topic, idempotent_batch([b"b0", b"b1"], pid, epoch, 3)) == (ERR_NONE, 3)
        assert produce(s, topic, first) == (ERR_NONE, 0)
        # a skipped sequence is refused and appends nothing
        err, _ = produce(s, topic, idempotent_batch([b"gap"], pid, epoch, 9))
        assert err == ERR_OUT_OF_ORDER_SEQUENCE_NUMBER

        # KIP-360: InitProducerId v3 with the current id/epoch bumps the epoch
        err, pid3, epoch3 = init_producer_id(s, 3, producer_id=pid, epoch=epoch)
        assert (err, pid3, epoch3) == (ERR_NONE, pid, epoch + 1)
        assert produce(s, topic, idempotent_batch([b"c0"], pid, epoch3, 0)) == (ERR_NONE, 5)
        err, _ = produce(s, topic, idempotent_batch([b"old"], pid, epoch, 5))
        assert err == ERR_INVALID_PRODUCER_EPOCH

        # transactions are not offered
        err, _, _ = init_producer_id(s, transactional_id="tx-1")
        assert err == ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED

        d = describe_producers(s, topic, [0, 7])
        assert d[0][0] == ERR_NONE
        assert (pid, epoch3, 0) in d[0][1], d
        assert d[7][0] != ERR_NONE  # no such partition
    finally:
        s.close()

    got = consume_all(bs, topic, 1, 6)
    assert [v for _, v, _, _ in got] == [b"a0", b"a1", b"a2", b"b0", b"b1", b"c0"]
    assert [o for _, _, _, o in got] == list(range(6))


# --------------------------------------------------------------- broker killed mid-stream

def _gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state in ("Z", "X")
    except FileNotFoundError:
        return True


PARTITIONS = 4
N = 20000


def test_idempotent_producer_survives_broker_kill(own_cluster):
    c = own_cluster
    bs = c.bootstrap
    topic = create_topic(bs, unique_topic("idem-kill"), PARTITIONS)
    p = Producer({
        "bootstrap.servers": bs,
        "enable.idempotence": True,
        "linger.ms": 2,
        "batch.num.messages": 200,
        "message.timeout.ms": 300000,
        "retry.backoff.ms": 50,
    })
    salt = uuid.uuid4().hex[:8]
    reports, errors = {}, []

    def on_delivery(err, msg):
        if err is not None:
            errors.append((msg.key(), str(err)))
        else:
            reports[msg.key()] = (msg.partition(), msg.offset())

    # The producer pauses half-way until the broker has been killed, so the
    # stream always spans the kill, however fast the cluster is.
    half, killed = threading.Event(), threading.Event()

    def run():
        for i in range(N):
            if i == N // 2:
                half.set()
                killed.wait(60)
            while True:
                try:
                    p.produce(topic, key=b"k-%06d" % i, value=b"v-%06d-%s" % (i, salt.encode()),
                              on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
        p.flush(240)

    t = threading.Thread(target=run)
    t.start()
    assert half.wait(120), "the producer never got half-way"
    brokers = c.pids("broker-")
    victim = max(brokers)  # not the controller (broker-0)
    pid = brokers[victim]
    os.kill(pid, signal.SIGKILL)
    at_kill = len(reports)
    killed.set()
    wait_for(lambda: _gone(pid), 10, what="%s to die" % victim)
    time.sleep(1.0)  # let retries pile up against the dead owner
    r = c.run("restart-broker", "--index", victim.split("-")[1])
    assert r.returncode == 0, r.stdout
    assert at_kill < N, "the producer finished before the kill: nothing was tested"
    t.join(300)
    assert not t.is_alive(), "producer did not finish"
    assert not errors, errors[:5]
    assert len(reports) == N

    got = consume_all(bs, topic, PARTITIONS, N, timeout=120)
    keys = [k for k, _, _, _ in got]
    assert len(got) == N, "read %d, produced %d" % (len(got), N)
    assert len(set(keys)) == N, "duplicates in the log"
    last = {}
    for k, v, part, off in got:
        assert reports[k] == (part, off), (k, reports[k], part, off)
        idx = int(k[2:])
        assert last.get(part, -1) < idx, "partition %d out of order at %r" % (part, k)
        last[part] = idx
