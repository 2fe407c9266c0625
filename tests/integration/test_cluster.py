"""The cluster: live scale-out (partition moves), a dead broker, several
frontends. Each test starts its own cluster (1 broker, or as stated) with
deploy/local-cluster and drives it with confluent-kafka."""
import json
import os
import random
import socket
import threading
import time
import urllib.request

import pytest

from conftest import launcher, log_tails, parse_env, Cluster

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARTITIONS = 12


def _free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _base(frontends):
    """A port base with P..P+50 and each frontend's P+100*i..+2 free."""
    rng = random.Random()
    for _ in range(300):
        b = rng.randrange(20000, 32000 - 100 * frontends)
        ports = list(range(b, b + 51)) + [b + 100 * i + k for i in range(frontends) for k in range(3)]
        if all(_free(p) for p in ports):
            return b
    raise RuntimeError("no free port range")


@pytest.fixture
def small_cluster(tmp_path, request):
    frontends = getattr(request, "param", 1)
    d = str(tmp_path / "cluster")
    r = None
    for _ in range(3):
        r = launcher("up", "--dir", d, "--brokers", "1", "--frontends", str(frontends),
                     "--port-base", str(_base(frontends)), "--durability", "nosync")
        if r.returncode == 0:
            break
        launcher("down", "--dir", d)
    if r.returncode != 0:
        pytest.fail("up failed:\n%s\n%s" % (r.stdout, log_tails(d)), pytrace=False)
    c = Cluster(parse_env(os.path.join(d, "cluster.env")))
    yield c
    launcher("down", "--dir", d, timeout=60)


def stats(c):
    with urllib.request.urlopen(c["EDDY_STATS_URL"], timeout=5) as r:
        return json.load(r)


def wait_for(cond, timeout, what, c=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.5)
    pytest.fail("timed out waiting for %s\n%s" % (what, log_tails(c.dir) if c else ""),
                pytrace=False)


def create_topic(bootstrap, name, n=PARTITIONS):
    a = AdminClient({"bootstrap.servers": bootstrap})
    for f in a.create_topics([NewTopic(name, n, 1)]).values():
        f.result(30)


class Producing(threading.Thread):
    """acks=all, idempotence off; records what was acknowledged and how
    often the client had to retry (duplicates are allowed only then)."""

    def __init__(self, bootstrap, topic):
        super().__init__(daemon=True)
        self.p = ck.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                              "enable.idempotence": False, "linger.ms": 5,
                              "message.send.max.retries": 1000000,
                              "retry.backoff.ms": 100, "delivery.timeout.ms": 120000,
                              "statistics.interval.ms": 1000,
                              "stats_cb": self._stats})
        self.topic = topic
        self.acked = set()
        self.failed = 0
        self.retries = 0
        self.stop = threading.Event()

    def _stats(self, js):
        d = json.loads(js)
        self.retries = max(self.retries, sum(b.get("txretries", 0) for b in d["brokers"].values()))

    def _cb(self, err, msg):
        if err is None:
            self.acked.add(msg.value())
        else:
            self.failed += 1

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                self.p.produce(self.topic, value=b"v%08d" % i, callback=self._cb)
                i += 1
            except BufferError:
                pass
            self.p.poll(0.002 if i % 20 else 0.01)
        self.p.flush(120)
        self.sent = i


def consume_all(bootstrap, topic, group, expect, timeout=90):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": True})
    c.subscribe([topic])
    seen, n = set(), 0
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and not expect <= seen:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            seen.add(m.value())
            n += 1
    finally:
        c.close()
    return seen, n


def partitions_per_broker(c):
    return {b["id"]: b["partitions"] for b in stats(c)["brokers"] if b["alive"]}


def test_scale_out_moves_partitions_without_loss(small_cluster):
    c = small_cluster
    create_topic(c.bootstrap, "scale")
    prod = Producing(c.bootstrap, "scale")
    prod.start()
    # a consumer group running through the moves
    got = set()
    cons_stop = threading.Event()

    def consuming():
        cc = ck.Consumer({"bootstrap.servers": c.bootstrap, "group.id": "scale-g",
                          "auto.offset.reset": "earliest"})
        cc.subscribe(["scale"])
        while not cons_stop.is_set():
            m = cc.poll(0.2)
            if m is not None and not m.error():
                got.add(m.value())
        cc.close()

    ct = threading.Thread(target=consuming, daemon=True)
    ct.start()
    time.sleep(3)
    for _ in range(2):
        r = c.run("add-broker")
        assert r.returncode == 0, r.stdout
    wait_for(lambda: len([n for n in partitions_per_broker(c).values() if n > 0]) == 3,
             60, "partitions on 3 brokers", c)
    counts = wait_for(lambda: (lambda d: d if max(d.values()) - min(d.values()) <= 1 else None)(
        partitions_per_broker(c)), 60, "balanced partition counts", c)
    assert len(counts) == 3
    time.sleep(2)
    prod.stop.set()
    prod.join(180)
    cons_stop.set()
    ct.join(30)
    assert prod.failed == 0, "%d deliveries failed" % prod.failed
    assert len(prod.acked) > 100
    seen, n = consume_all(c.bootstrap, "scale", "scale-check", prod.acked)
    lost = prod.acked - seen
    assert not lost, "%d acknowledged messages lost (e.g. %r)" % (len(lost), sorted(lost)[:5])
    dups = n - len(seen)
    assert dups <= prod.retries * 10000, "%d duplicates with %d retries" % (dups, prod.retries)
    # the group that ran during the moves read what was there too
    assert len(got) > 0


def test_dead_broker_then_restart(small_cluster):
    c = small_cluster
    assert c.run("add-broker").returncode == 0
    create_topic(c.bootstrap, "dead")
    wait_for(lambda: len(partitions_per_broker(c)) == 2 and
             min(partitions_per_broker(c).values()) > 0, 60, "two brokers with partitions", c)
    p = ck.Producer({"bootstrap.servers": c.bootstrap, "acks": "all"})
    acked = set()
    for i in range(1200):
        p.produce("dead", value=b"a%d" % i, partition=i % PARTITIONS,
                  callback=lambda e, m: e is None and acked.add(m.value()))
    p.flush(60)
    assert len(acked) == 1200
    owners = {pp["partition"]: pp["broker"] for pp in stats(c)["topics"]["dead"]["partitions"]}
    r = c.run("stop-broker", "--index", "1")
    assert r.returncode == 0, r.stdout
    md_client = AdminClient({"bootstrap.servers": c.bootstrap})

    def errs():
        md = md_client.list_topics("dead", timeout=10).topics["dead"].partitions
        return {k for k, v in md.items() if v.error is not None}

    on1 = {k for k, b in owners.items() if b == 1}
    assert on1
    bad = wait_for(lambda: (lambda e: e if e == on1 else None)(errs()), 40,
                   "broker-1's partitions to report errors", c)
    assert bad == on1
    # the others keep working
    ok_part = next(k for k, b in owners.items() if b == 0)
    p.produce("dead", value=b"during", partition=ok_part,
              callback=lambda e, m: e is None and acked.add(m.value()))
    assert p.flush(30) == 0 and b"during" in acked
    r = c.run("restart-broker", "--index", "1")
    assert r.returncode == 0, r.stdout
    wait_for(lambda: not errs(), 40, "every partition served again", c)
    # the restarted broker announced a new local socket name: the frontend
    # follows it rather than staying on TCP
    wait_for(lambda: {b["id"]: b["rpc_transport"] for b in stats(c)["brokers"]}.get(1) == "local",
             40, "the frontend on broker 1's new local socket", c)
    seen, _ = consume_all(c.bootstrap, "dead", "dead-check", acked)
    assert acked <= seen, "%d acknowledged messages missing" % len(acked - seen)


@pytest.mark.parametrize("small_cluster", [2], indirect=True)
def test_two_frontends_see_the_same_cluster(small_cluster):
    c = small_cluster
    fronts = c["EDDY_BOOTSTRAP_ALL"].split(",")
    assert len(fronts) == 2 and fronts[0] == c.bootstrap
    create_topic(fronts[0], "twofe", 4)
    # frontends pull the map every second: the other one sees the new topic
    # within that (as Kafka brokers converge on metadata), not necessarily at once
    admin1 = AdminClient({"bootstrap.servers": fronts[1]})
    md = wait_for(lambda: (lambda m: m if "twofe" in m.topics else None)(
        admin1.list_topics(timeout=10)), 5, "frontend 1 to list the new topic", c)
    assert len(md.topics["twofe"].partitions) == 4
    p = ck.Producer({"bootstrap.servers": fronts[1], "acks": "all"})
    for i in range(100):
        p.produce("twofe", value=b"x%d" % i, partition=i % 4)
    assert p.flush(30) == 0
    # a group consumes and commits through frontend 0 ...
    c0 = ck.Consumer({"bootstrap.servers": fronts[0], "group.id": "twofe-g",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c0.subscribe(["twofe"])
    n = 0
    deadline = time.time() + 60
    while n < 100 and time.time() < deadline:
        m = c0.poll(0.5)
        if m is not None and not m.error():
            n += 1
    assert n == 100
    c0.commit(asynchronous=False)
    c0.close()
    # ... and frontend 1 sees the same committed offsets and high watermarks
    c1 = ck.Consumer({"bootstrap.servers": fronts[1], "group.id": "twofe-g"})
    tps = [ck.TopicPartition("twofe", i) for i in range(4)]
    committed = c1.committed(tps, timeout=20)
    assert sum(tp.offset for tp in committed) == 100
    for i in range(4):
        lo, hi = c1.get_watermark_offsets(ck.TopicPartition("twofe", i), timeout=10)
        assert hi == committed[i].offset
    c1.close()


@pytest.fixture
def manual_cluster(tmp_path):
    """One broker with auto_rebalance off: partitions move only on REBALANCE."""
    import subprocess
    from conftest import LAUNCHER
    d = str(tmp_path / "cluster")
    env = dict(os.environ, EDDY_AUTO_REBALANCE="false")
    r = subprocess.run([LAUNCHER, "up", "--dir", d, "--brokers", "1", "--port-base",
                        str(_base(1)), "--durability", "nosync"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=90)
    try:
        assert r.returncode == 0, r.stdout
        yield Cluster(parse_env(os.path.join(d, "cluster.env")))
    finally:
        launcher("down", "--dir", d, timeout=60)


def test_rebalance_rpc(manual_cluster):
    """With auto_rebalance off, nothing moves until REBALANCE is called."""
    c = manual_cluster
    create_topic(c.bootstrap, "rb", 6)
    assert c.run("add-broker").returncode == 0
    time.sleep(4)
    assert partitions_per_broker(c).get(1, 0) == 0
    r = c.run("rebalance")
    assert r.returncode == 0 and "move" in r.stdout, r.stdout
    wait_for(lambda: partitions_per_broker(c).get(1, 0) == 3, 60, "3 partitions moved", c)


def test_idempotent_state_moves_with_the_partition(manual_cluster):
    """A batch resent after its partition moved to another broker is still
    a duplicate (its original offset, nothing appended), and a sequence gap
    is still refused: the new owner rebuilt the producer's state from the
    copied batches."""
    import kafka_raw as kr
    from test_idempotence import idempotent_batch, init_producer_id
    c = manual_cluster
    create_topic(c.bootstrap, "idem-move", 2)
    s = kr.connect(c.bootstrap, timeout=15)

    def produce(part, batch):
        deadline = time.time() + 60
        while True:  # NOT_LEADER and the like while the move settles
            body = kr.produce_request(3, "idem-move", part, batch)
            (_, _, err, base), = kr.produce_response_decode(3, kr.call(s, 0, 3, body))
            if err in (0, 45) or time.time() > deadline:
                return err, base
            time.sleep(0.2)

    err, pid, epoch = init_producer_id(s)
    assert err == 0
    batches = {}
    for part in (0, 1):
        first = idempotent_batch([b"p%d-a%d" % (part, i) for i in range(3)], pid, epoch, 0)
        last = idempotent_batch([b"p%d-b%d" % (part, i) for i in range(2)], pid, epoch, 3)
        assert produce(part, first) == (0, 0)
        assert produce(part, last) == (0, 3)
        batches[part] = (first, last)

    assert c.run("add-broker").returncode == 0
    r = c.run("rebalance")
    assert r.returncode == 0 and "move" in r.stdout, r.stdout
    wait_for(lambda: partitions_per_broker(c).get(1, 0) == 1, 60, "a partition moved", c)

    for part in (0, 1):  # one of them moved, both must still know the producer
        first, last = batches[part]
        assert produce(part, last) == (0, 3), "partition %d: resent batch appended" % part
        assert produce(part, first) == (0, 0)
        gap = idempotent_batch([b"gap"], pid, epoch, 9)
        assert produce(part, gap)[0] == 45, "partition %d: a gap was accepted" % part
        nxt = idempotent_batch([b"p%d-c" % part], pid, epoch, 5)
        assert produce(part, nxt) == (0, 5)
    s.close()

    cons = ck.Consumer({"bootstrap.servers": c.bootstrap, "group.id": "idem-move-check",
                        "enable.auto.commit": False})
    cons.assign([ck.TopicPartition("idem-move", p, 0) for p in (0, 1)])
    got = {0: [], 1: []}
    deadline = time.time() + 60
    while time.time() < deadline and (len(got[0]) < 6 or len(got[1]) < 6):
        m = cons.poll(0.5)
        if m is not None and not m.error():
            got[m.partition()].append((m.offset(), m.value()))
    cons.close()
    for part in (0, 1):
        assert [v for _, v in got[part]] == \
            [b"p%d-a%d" % (part, i) for i in range(3)] + \
            [b"p%d-b%d" % (part, i) for i in range(2)] + [b"p%d-c" % part], got[part]
        assert [o for o, _ in got[part]] == list(range(6))
