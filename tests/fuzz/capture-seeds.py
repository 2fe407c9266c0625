#!/usr/bin/python3
"""capture-seeds.py — capture real Kafka client traffic as fuzz seeds.

Starts a local cluster (deploy/local-cluster, binaries from EDDY_BUILD_DIR),
a second frontend whose plaintext listener advertises the port of a small TCP
proxy run here, so that every connection of the clients goes through the
proxy after bootstrap. The proxy splits both directions into Kafka frames and
writes:
  corpus/kafka_request/cap-<api>-v<ver>-<hash>    request frame, no size prefix
  corpus/kafka_response/cap-<api>-v<ver>-<hash>   api_key, api_version (2+2
                                                  bytes) + response frame
  corpus/kafka_records/cap-produce-<hash>         RECORDS of Produce partitions
Then runs kcat, confluent-kafka (producer, group consumer, admin) and
kafka-python against it. At most PER_KEY files per (api, version, direction);
frames over MAX_SEED bytes are skipped.

  EDDY_BUILD_DIR=build-h13 /usr/bin/python3 tests/fuzz/capture-seeds.py
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from conftest import free_port_base, launcher, parse_env  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
PER_KEY = 4
MAX_SEED = 64 * 1024

lock = threading.Lock()
counts = {}
inflight = {}  # (conn id, correlation id) -> (api, version)


def save(kind, key, data, label):
    with lock:
        n = counts.get((kind, key), 0)
        if n >= PER_KEY or len(data) > MAX_SEED:
            return
        h = hashlib.sha1(data).hexdigest()[:12]
        path = os.path.join(CORPUS, kind, "cap-%s-%s" % (label, h))
        if os.path.exists(path):
            return
        counts[(kind, key)] = n + 1
        with open(path, "wb") as f:
            f.write(data)


def uvarint(b, pos):
    shift = val = 0
    while True:
        c = b[pos]
        pos += 1
        val |= (c & 0x7F) << shift
        if not c & 0x80:
            return val, pos
        shift += 7


def skip_tags(b, pos):
    n, pos = uvarint(b, pos)
    for _ in range(n):
        _, pos = uvarint(b, pos)
        ln, pos = uvarint(b, pos)
        pos += ln
    return pos


def produce_records(frame, ver):
    """Yield the RECORDS bytes of a Produce request (v3+)."""
    flex = ver >= 9
    pos = 8
    cl = struct.unpack_from(">h", frame, pos)[0]
    pos += 2 + max(cl, 0)
    if flex:
        pos = skip_tags(frame, pos)
        n, pos = uvarint(frame, pos)  # transactional_id
        pos += max(n - 1, 0)
    else:
        n = struct.unpack_from(">h", frame, pos)[0]
        pos += 2 + max(n, 0)
    pos += 6  # acks, timeout
    if flex:
        nt, pos = uvarint(frame, pos)
        nt -= 1
    else:
        nt = struct.unpack_from(">i", frame, pos)[0]
        pos += 4
    for _ in range(nt):
        if flex:
            ln, pos = uvarint(frame, pos)
            pos += ln - 1
            np_, pos = uvarint(frame, pos)
            np_ -= 1
        else:
            ln = struct.unpack_from(">h", frame, pos)[0]
            pos += 2 + ln
            np_ = struct.unpack_from(">i", frame, pos)[0]
            pos += 4
        for _ in range(np_):
            pos += 4
            if flex:
                ln, pos = uvarint(frame, pos)
                ln -= 1
            else:
                ln = struct.unpack_from(">i", frame, pos)[0]
                pos += 4
            if ln > 0:
                yield frame[pos:pos + ln]
                pos += ln
            if flex:
                pos = skip_tags(frame, pos)
        if flex:
            pos = skip_tags(frame, pos)


def pump(src, dst, conn_id, to_server):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            while len(buf) >= 4:
                size = struct.unpack_from(">i", buf)[0]
                if size < 0 or len(buf) < 4 + size:
                    break
                frame, buf = buf[4:4 + size], buf[4 + size:]
                if to_server and size >= 8:
                    api, ver, corr = struct.unpack_from(">hhi", frame)
                    with lock:
                        inflight[(conn_id, corr)] = (api, ver)
                    save("kafka_request", (api, ver), frame, "%d-v%d" % (api, ver))
                    if api == 0 and ver >= 3:
                        try:
                            for rec in produce_records(frame, ver):
                                save("kafka_records", ("p", len(rec) // 64), rec, "produce")
                        except (struct.error, IndexError):
                            pass
                elif not to_server and size >= 4:
                    corr = struct.unpack_from(">i", frame)[0]
                    with lock:
                        av = inflight.pop((conn_id, corr), None)
                    if av:
                        save("kafka_response", av, struct.pack(">hh", *av) + frame,
                             "%d-v%d" % av)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def proxy(listen_port, target_port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(64)
    conn_id = 0
    while True:
        c, _ = ls.accept()
        try:
            s = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            c.close()
            continue
        conn_id += 1
        threading.Thread(target=pump, args=(c, s, conn_id, True), daemon=True).start()
        threading.Thread(target=pump, args=(s, c, conn_id, False), daemon=True).start()


def run_clients(bs):
    import confluent_kafka
    from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic, ConfigResource

    topic = "seed-%d" % os.getpid()
    a = AdminClient({"bootstrap.servers": bs})
    for f in a.create_topics([NewTopic(topic, 2, 1)]).values():
        f.result(20)
    for f in a.create_partitions([NewPartitions(topic, 3)]).values():
        f.result(20)
    for f in a.describe_configs([ConfigResource("topic", topic)]).values():
        f.result(20)
    a.list_groups(timeout=10)

    p = confluent_kafka.Producer({"bootstrap.servers": bs, "linger.ms": 5})
    for i in range(50):
        p.produce(topic, key=b"k%d" % i, value=b"value-%d" % i * (i % 5 + 1))
    p.flush(20)
    pi = confluent_kafka.Producer({"bootstrap.servers": bs, "enable.idempotence": True,
                                   "compression.type": "lz4"})
    for i in range(20):
        pi.produce(topic, value=b"idempotent-%d" % i)
    pi.flush(20)

    c = confluent_kafka.Consumer({"bootstrap.servers": bs, "group.id": "seed-group",
                                  "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False})
    c.subscribe([topic])
    got, deadline = 0, time.time() + 30
    while got < 70 and time.time() < deadline:
        m = c.poll(1.0)
        if m is not None and not m.error():
            got += 1
    c.commit(asynchronous=False)
    c.committed([confluent_kafka.TopicPartition(topic, 0)], timeout=10)
    c.offsets_for_times([confluent_kafka.TopicPartition(topic, 0, 0)], timeout=10)
    c.close()
    if hasattr(a, "delete_groups"):  # confluent-kafka >= 1.9
        a.delete_groups(["seed-group"])

    subprocess.run(["kcat", "-b", bs, "-L"], capture_output=True, timeout=30)
    subprocess.run(["kcat", "-b", bs, "-P", "-t", topic, "-z", "snappy"], input=b"a\nb\nc\n",
                   capture_output=True, timeout=30)
    subprocess.run(["kcat", "-b", bs, "-C", "-t", topic, "-e", "-o", "beginning"],
                   capture_output=True, timeout=30)

    try:
        import kafka
        kp = kafka.KafkaProducer(bootstrap_servers=bs)
        for i in range(10):
            kp.send(topic, b"kafka-python-%d" % i)
        kp.flush(20)
        kp.close()
        kc = kafka.KafkaConsumer(topic, bootstrap_servers=bs, group_id="seed-kp",
                                 auto_offset_reset="earliest", consumer_timeout_ms=5000)
        for _ in kc:
            pass
        kc.commit()
        kc.close()
    except Exception as e:  # noqa: BLE001 - seeds are best effort
        print("kafka-python: %s" % e)

    for f in a.delete_topics([topic]).values():
        f.result(20)


def main():
    build = os.environ.get("EDDY_BUILD_DIR", os.path.join(REPO, "build"))
    os.environ["EDDY_BUILD_DIR"] = os.path.abspath(build)
    tmp = tempfile.mkdtemp(prefix="eddy-seeds-")
    d = os.path.join(tmp, "cluster")
    base = free_port_base()
    r = launcher("up", "--dir", d, "--brokers", "2", "--port-base", str(base))
    if r.returncode:
        sys.exit("cluster: " + r.stdout)
    fe = None
    try:
        conf = json.load(open(os.path.join(d, "frontend.json")))
        fe_port, px_port = base + 30, base + 31
        conf["listeners"] = [{"name": "plain", "listen": "127.0.0.1:%d" % fe_port,
                              "advertised": "127.0.0.1:%d" % px_port,
                              "tls": False, "sasl": False}]
        conf.pop("stats_listen", None)
        path = os.path.join(d, "frontend-capture.json")
        json.dump(conf, open(path, "w"))
        fe = subprocess.Popen([os.path.join(build, "frontend", "eddy-frontend"), "--config", path],
                              stderr=open(os.path.join(d, "frontend-capture.log"), "w"))
        threading.Thread(target=proxy, args=(px_port, fe_port), daemon=True).start()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", fe_port)).close()
                break
            except OSError:
                time.sleep(0.1)
        run_clients("127.0.0.1:%d" % px_port)
        time.sleep(1)
    finally:
        if fe:
            fe.terminate()
            fe.wait(10)
        launcher("down", "--dir", d)
    by_kind = {}
    for (kind, _), n in counts.items():
        by_kind[kind] = by_kind.get(kind, 0) + n
    print("captured:", by_kind)


if __name__ == "__main__":
    main()
