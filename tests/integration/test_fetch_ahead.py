"""Fetch read-ahead (frontend/fetch_ahead.h) through librdkafka: a consumer
reading a backlog is answered from read-aheads, gets every message exactly
once and in order, and a seek that breaks the pattern still reads the right
records."""
import json
import urllib.request

from confluent_kafka import Consumer, KafkaError, TopicPartition

from util import check_roundtrip, consume_all, create_topic, produce_keyed, unique_topic

PARTITIONS = 4
N = 8000  # ~1 KiB values in 16 KiB batches: about 2 MB per partition
SMALL_FETCH = {"max.partition.fetch.bytes": 65536, "fetch.max.bytes": 1048576}


def ahead_counters(cluster):
    with urllib.request.urlopen(cluster["EDDY_STATS_URL"], timeout=10) as r:
        fe = json.loads(r.read())["frontend"]
    return fe["fetch_ahead_hits"], fe["fetch_ahead_misses"]


def produce_backlog(cluster, name):
    topic = create_topic(cluster.bootstrap, unique_topic(name), PARTITIONS)
    reports = produce_keyed(cluster.bootstrap, topic, N, value_fmt="%08d-%s-" + "v" * 1000,
                            extra={"linger.ms": 20, "batch.size": 16384})
    return topic, reports


def test_backlog_is_read_ahead_exactly_once(cluster):
    topic, reports = produce_backlog(cluster, "ahead")
    hits0, _ = ahead_counters(cluster)
    # 64 KiB per partition and fetch: each reply reaches the backlog mark,
    # so the next fetch is read ahead
    consumed = consume_all(cluster.bootstrap, topic, PARTITIONS, N, extra=SMALL_FETCH)
    check_roundtrip(reports, consumed, PARTITIONS)
    hits1, miss1 = ahead_counters(cluster)
    assert hits1 - hits0 >= 10, "a backlog read in 64 KiB fetches used %d read-aheads (%d missed)" % (
        hits1 - hits0, miss1)


def test_seek_back_breaks_read_ahead(cluster):
    """Reading on, seeking back, reading again: the read-ahead (for the
    offsets after the first reads) must not answer the fetch after the seek."""
    topic, reports = produce_backlog(cluster, "ahead-seek")
    by_offset = {(p, off): (k, v) for k, (v, p, off) in reports.items()}
    _, miss0 = ahead_counters(cluster)
    conf = {"bootstrap.servers": cluster.bootstrap, "group.id": "it-seek-" + topic,
            "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    conf.update(SMALL_FETCH)
    # a small local queue keeps librdkafka from reading the partition to its
    # end before the seek: there is a read-ahead out when it comes
    conf.update({"queued.max.messages.kbytes": 128, "queued.min.messages": 10})
    c = Consumer(conf)
    try:
        tp = TopicPartition(topic, 0, 0)
        c.assign([tp])
        first = []
        while len(first) < 300:
            m = c.poll(5)
            assert m is not None, "no message within 5 s"
            assert not m.error(), m.error()
            first.append(m.offset())
        assert first == list(range(300))
        # back to 17: what arrives must be offset 17 on, not the read-ahead
        c.seek(TopicPartition(topic, 0, 17))
        again = []
        while len(again) < 400:
            m = c.poll(5)
            assert m is not None, "no message within 5 s after the seek"
            if m.error() and m.error().code() == KafkaError._PARTITION_EOF:
                continue
            assert not m.error(), m.error()
            again.append(m)
        # messages fetched before the seek may still be in librdkafka's
        # queue; everything from the first offset 17 on must follow in order
        offs = [m.offset() for m in again]
        start = offs.index(17)
        assert offs[start:] == list(range(17, 17 + len(offs) - start))
        for m in again[start:]:
            assert (m.key(), m.value()) == by_offset[(0, m.offset())]
    finally:
        c.close()
    _, miss1 = ahead_counters(cluster)
    assert miss1 > miss0, "the fetch after the seek should have dropped a read-ahead"
