"""kafka-python (python3-kafka) against a real local Eddy cluster."""
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from util import check_roundtrip, unique_topic

PARTITIONS = 8
N = 10000


def test_kafka_python_roundtrip_gzip(cluster):
    bs = cluster.bootstrap
    topic = unique_topic("kp")
    admin = KafkaAdminClient(bootstrap_servers=bs, client_id="eddy-it", request_timeout_ms=20000)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        admin.close()

    producer = KafkaProducer(bootstrap_servers=bs, acks="all", compression_type="gzip",
                             linger_ms=5, request_timeout_ms=30000)
    salt = uuid.uuid4().hex[:8]
    futures = {}
    try:
        for i in range(N):
            k = b"kp-key-%06d" % i
            v = ("kp-value-%06d-%s" % (i, salt)).encode()
            futures[k] = (v, producer.send(topic, key=k, value=v))
        producer.flush(timeout=90)
    finally:
        producer.close(timeout=30)
    reports = {}
    for k, (v, fut) in futures.items():
        md = fut.get(timeout=1)  # raises the delivery error, if any
        reports[k] = (v, md.partition, md.offset)

    consumer = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", request_timeout_ms=30000)
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        consumer.seek_to_beginning()
        got = []
        deadline = time.monotonic() + 90
        while len(got) < N:
            assert time.monotonic() < deadline, "consumed %d of %d" % (len(got), N)
            for tp, records in consumer.poll(timeout_ms=500).items():
                for r in records:
                    got.append((r.key, r.value, tp.partition, r.offset))
        # Nothing beyond what was produced.
        end = consumer.end_offsets([TopicPartition(topic, p) for p in range(PARTITIONS)])
        assert sum(end.values()) == N
    finally:
        consumer.close()
    per_part = check_roundtrip(reports, got, PARTITIONS)
    assert len(per_part) == PARTITIONS
