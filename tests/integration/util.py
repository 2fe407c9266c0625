"""Helpers shared by the integration tests (real clients, real cluster)."""
import time
import uuid

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def unique_topic(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def admin_client(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})


def create_topic(bootstrap, name, partitions):
    admin = admin_client(bootstrap)  # must outlive the future
    fs = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1)], request_timeout=20)
    fs[name].result(timeout=30)
    return name


def produce_keyed(bootstrap, topic, n, compression="none", key_fmt="key-%06d",
                  value_fmt="value-%06d-%s", extra=None):
    """Produces n keyed messages with acks=all, waits for every delivery
    report and asserts that all succeeded. Returns {key: (value, partition, offset)}."""
    conf = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "compression.type": compression,
        "linger.ms": 5,
        "message.timeout.ms": 60000,
    }
    conf.update(extra or {})
    p = Producer(conf)
    reports = {}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append((msg.key(), err))
        else:
            reports[msg.key()] = (msg.value(), msg.partition(), msg.offset())

    salt = uuid.uuid4().hex[:8]
    sent = {}
    for i in range(n):
        k = (key_fmt % i).encode()
        v = (value_fmt % (i, salt)).encode()
        sent[k] = v
        while True:
            try:
                p.produce(topic, key=k, value=v, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(90)
    assert left == 0, "%d messages still in flight after flush" % left
    assert not errors, "delivery failures (%d), first: %r" % (len(errors), errors[:3])
    assert len(reports) == n
    for k, v in sent.items():
        assert reports[k][0] == v
    return reports


def consume_all(bootstrap, topic, partitions, expected, timeout=90, extra=None):
    """Reads every partition from the beginning with assign() (no group
    management) until `expected` messages were read and every partition is at
    its end. Returns [(key, value, partition, offset)]."""
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "it-assign-" + uuid.uuid4().hex[:8],
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
    }
    conf.update(extra or {})
    c = Consumer(conf)
    try:
        c.assign([TopicPartition(topic, p, -2) for p in range(partitions)])  # OFFSET_BEGINNING
        got = []
        at_eof = set()
        deadline = time.monotonic() + timeout
        while not (len(got) >= expected and len(at_eof) == partitions):
            if time.monotonic() > deadline:
                raise AssertionError("consumed %d of %d within %ds (partitions at end: %s)"
                                     % (len(got), expected, timeout, sorted(at_eof)))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    at_eof.add(m.partition())
                    continue
                raise AssertionError("consumer error: %s" % m.error())
            at_eof.discard(m.partition())
            got.append((m.key(), m.value(), m.partition(), m.offset()))
        return got
    finally:
        c.close()


def check_roundtrip(reports, consumed, partitions):
    """Exact comparison of what was produced with what was consumed."""
    assert len(consumed) == len(reports), (len(consumed), len(reports))
    seen = set()
    per_part = {}
    for k, v, p, off in consumed:
        assert k in reports, "unexpected key %r" % k
        assert k not in seen, "duplicate key %r" % k
        seen.add(k)
        val, rp, roff = reports[k]
        assert v == val, "value of %r changed" % k
        assert p == rp, "key %r delivered to partition %d, read from %d" % (k, rp, p)
        assert off == roff, "key %r delivered at offset %d, read at %d" % (k, roff, off)
        per_part.setdefault(p, []).append(off)
    for p, offs in per_part.items():
        assert 0 <= p < partitions
        assert sorted(offs) == list(range(len(offs))), "offsets of partition %d not contiguous from 0" % p
    return per_part
