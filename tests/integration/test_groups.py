"""Consumer groups against a real local Eddy cluster: librdkafka balanced
consumers share partitions and take over when one leaves, committed offsets
survive a consumer restart, kafka-python's group consumer and `kcat -G`."""
import shutil
import subprocess
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from util import create_topic, produce_keyed, unique_topic, wait_for

PARTS = 6


def _consumer(bs, group, **extra):
    conf = {"bootstrap.servers": bs, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 500, "topic.metadata.refresh.interval.ms": 2000}
    conf.update(extra)
    return Consumer(conf)


def _poll_all(consumers, seen, want, timeout=90):
    """Poll every consumer round-robin until `want` distinct messages were seen."""
    owners = {}
    deadline = time.time() + timeout
    while len(seen) < want and time.time() < deadline:
        for i, c in enumerate(consumers):
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            key = (m.partition(), m.offset())
            assert key not in seen, "message %r read twice" % (key,)
            seen[key] = i
            owners.setdefault(m.partition(), set()).add(i)
    return owners


def test_three_consumers_share_and_take_over(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("grp"), PARTS)
    produce_keyed(bs, topic, 600)
    group = unique_topic("g")
    cs = [_consumer(bs, group) for _ in range(3)]
    for c in cs:
        c.subscribe([topic])
    # wait until every consumer has an assignment and the partitions are split
    def balanced():
        for c in cs:
            c.poll(0.1)
        a = [set(tp.partition for tp in c.assignment()) for c in cs]
        return all(a) and sum(len(x) for x in a) == PARTS and not (a[0] & a[1] | a[1] & a[2] | a[0] & a[2])
    wait_for(balanced, 60, what="balanced assignment")
    seen = {}
    owners = _poll_all(cs, seen, 600)
    assert len(seen) == 600
    assert all(len(v) == 1 for v in owners.values()), owners
    for c in cs:
        c.commit(asynchronous=False)
    # one leaves: the other two take its partitions over
    cs[2].close()
    rest = cs[:2]
    def taken_over():
        for c in rest:
            c.poll(0.1)
        return sum(len(c.assignment()) for c in rest) == PARTS
    wait_for(taken_over, 60, what="take over after leave")
    produce_keyed(bs, topic, 120, key_fmt="late-%06d")
    _poll_all(rest, seen, 720)
    assert len(seen) == 720
    for c in rest:
        c.close()


def test_commit_then_resume(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("resume"), 2)
    produce_keyed(bs, topic, 100)
    group = unique_topic("gr")
    c = _consumer(bs, group)
    c.subscribe([topic])
    seen = {}
    _poll_all([c], seen, 100)
    assert len(seen) == 100
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=20)
    assert sum(tp.offset for tp in committed) == 100
    c.close()
    produce_keyed(bs, topic, 30, key_fmt="more-%06d")
    c2 = _consumer(bs, group)
    c2.subscribe([topic])
    seen2 = {}
    _poll_all([c2], seen2, 30, timeout=60)
    c2.close()
    assert len(seen2) == 30, "restarted consumer must resume after the committed offsets"
    assert not (set(seen2) & set(seen))


def test_kafka_python_group(cluster):
    kafka = pytest.importorskip("kafka")
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("kp"), 3)
    produce_keyed(bs, topic, 50)
    c = kafka.KafkaConsumer(topic, bootstrap_servers=bs, group_id=unique_topic("kpg"),
                            auto_offset_reset="earliest", consumer_timeout_ms=30000)
    got = set()
    for m in c:
        got.add((m.partition, m.offset))
        if len(got) == 50:
            break
    c.commit()
    c.close()
    assert len(got) == 50


def test_kcat_balanced_consumer(cluster):
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if not kcat:
        pytest.skip("kcat not installed")
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("kc"), 3)
    produce_keyed(bs, topic, 40)
    p = subprocess.run([kcat, "-b", bs, "-G", unique_topic("kcg"), "-o", "beginning", "-e",
                        "-X", "auto.offset.reset=earliest", "-f", "%k\n", topic],
                       capture_output=True, text=True, timeout=90)
    keys = [l for l in p.stdout.splitlines() if l]
    assert len(set(keys)) == 40, p.stderr[-2000:]
