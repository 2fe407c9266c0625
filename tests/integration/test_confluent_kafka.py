"""librdkafka (python3-confluent-kafka) against a real local Eddy cluster."""
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from util import (admin_client, check_roundtrip, consume_all, create_topic, produce_keyed,
                  unique_topic, wait_for)

PARTITIONS = 8
N = 20000


def _create_error(bootstrap, topic):
    admin = admin_client(bootstrap)  # must outlive the future
    fs = admin.create_topics(
        [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)], request_timeout=20)
    with pytest.raises(KafkaException) as ei:
        fs[topic].result(timeout=30)
    return ei.value.args[0]


def test_create_topic_errors(cluster):
    topic = unique_topic("create")
    create_topic(cluster.bootstrap, topic, PARTITIONS)
    err = _create_error(cluster.bootstrap, topic)
    assert err.code() == KafkaError.TOPIC_ALREADY_EXISTS, err
    err = _create_error(cluster.bootstrap, "bad name!")
    assert err.code() == KafkaError.TOPIC_EXCEPTION, err  # INVALID_TOPIC_EXCEPTION (17)


@pytest.mark.parametrize("compression", ["none", "lz4"])
def test_produce_consume_20k(cluster, compression):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("cf-" + compression), PARTITIONS)
    reports = produce_keyed(bs, topic, N, compression=compression)
    consumed = consume_all(bs, topic, PARTITIONS, N)
    per_part = check_roundtrip(reports, consumed, PARTITIONS)
    assert len(per_part) == PARTITIONS, "20,000 distinct keys should reach all 8 partitions"

    # Metadata: one broker (the frontend), 8 partitions all led by it.
    md = admin_client(bs).list_topics(topic=topic, timeout=15)
    assert list(md.brokers) == [0]
    b = md.brokers[0]
    assert "%s:%d" % (b.host, b.port) == bs
    t = md.topics[topic]
    assert t.error is None, t.error
    assert sorted(t.partitions) == list(range(PARTITIONS))
    for p in t.partitions.values():
        assert p.leader == 0
        assert p.error is None, p.error

    # Watermarks add up to what was produced.
    c = Consumer({"bootstrap.servers": bs, "group.id": "wm-" + topic})
    try:
        total = 0
        for p in range(PARTITIONS):
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=15)
            assert lo == 0
            assert hi == len(per_part[p])
            total += hi - lo
        assert total == N
    finally:
        c.close()


def test_offsets_for_times(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("times"), 1)
    base = 1_700_000_000_000
    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 50})
    errors = []
    for i in range(10):
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0, timestamp=base + i * 1000,
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
    assert p.flush(30) == 0
    assert not errors, errors

    c = Consumer({"bootstrap.servers": bs, "group.id": "times-" + topic})
    try:
        def lookup(ts):
            (tp,) = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=15)
            assert tp.error is None, tp.error
            return tp.offset

        assert lookup(base - 5000) == 0
        assert lookup(base) == 0
        assert lookup(base + 5000) == 5
        assert lookup(base + 5500) == 6
        assert lookup(base + 9000) == 9
        assert lookup(base + 60000) == -1  # past the last record: end (OFFSET_END)
    finally:
        c.close()


def test_auto_create_on_produce(cluster):
    bs = cluster.bootstrap
    topic = unique_topic("auto")
    reports = produce_keyed(bs, topic, 10)
    a = admin_client(bs)
    # Metadata for all topics may lag a moment behind the creation (the
    # frontend's map is refreshed every second).
    md = wait_for(lambda: (lambda m: m if topic in m.topics else None)(a.list_topics(timeout=15)),
                  10, what="auto-created topic in metadata")
    assert len(md.topics[topic].partitions) >= 1
    consumed = consume_all(bs, topic, len(md.topics[topic].partitions), 10)
    check_roundtrip(reports, consumed, len(md.topics[topic].partitions))


def test_delete_topic(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("del"), 3)
    produce_keyed(bs, topic, 10)
    a = admin_client(bs)
    assert topic in a.list_topics(timeout=15).topics
    a.delete_topics([topic], request_timeout=20)[topic].result(timeout=30)
    # Metadata for all topics (no topic named: no auto-creation).
    wait_for(lambda: topic not in a.list_topics(timeout=15).topics, 20,
             what="deleted topic to leave metadata")
