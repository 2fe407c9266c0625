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
    # produce only now: polls made while waiting for the split must not eat
    # messages that a later rebalance would hand to another member again
    produce_keyed(bs, topic, 600)
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


# ---------------------------------------------------------------------------
# Coordinator restart, admin view, bad input, DeleteGroups.

import json
import struct
import urllib.request

from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient

import kafka_raw as kr
from util import admin_client

API_OFFSET_COMMIT, API_JOIN_GROUP, API_HEARTBEAT, API_LEAVE_GROUP, API_SYNC_GROUP = 8, 11, 12, 13, 14
ERR_ILLEGAL_GENERATION, ERR_INCONSISTENT_GROUP_PROTOCOL = 22, 23
ERR_INVALID_GROUP_ID, ERR_UNKNOWN_MEMBER_ID = 24, 25
ERR_INVALID_REQUEST, ERR_MEMBER_ID_REQUIRED = 42, 79


def _fnv1a_partition(group, parts=16):
    """common/group_place.h: FNV-1a 32 of the group id, mod 16."""
    h = 2166136261
    for b in group.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % parts


def _stats(c):
    with urllib.request.urlopen(c["EDDY_STATS_URL"], timeout=5) as r:
        return json.loads(r.read())


def _coordinator_index(c, group):
    """The launcher index of the broker that coordinates `group`: the owner
    of its __consumer_offsets partition, by the frontend's stats."""
    part = _fnv1a_partition(group)
    st = _stats(c)
    owner = None
    for p in st["topics"]["__consumer_offsets"]["partitions"]:
        if p["partition"] == part:
            owner = p["broker"]
    assert owner is not None, st["topics"]["__consumer_offsets"]
    addr = [b["address"] for b in st["brokers"] if b["id"] == owner][0]
    return int(addr.rsplit(":", 1)[1]) - (int(c["EDDY_PORT_BASE"]) + 10)


def _watermarks(bs, topic, parts):
    c = Consumer({"bootstrap.servers": bs, "group.id": unique_topic("wm")})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=20)[1] for p in range(parts)}
    finally:
        c.close()


def _committed(bs, group, topic, parts):
    """The group's committed offsets, read without joining the group."""
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(topic, p) for p in range(parts)], timeout=30)
        return {tp.partition: tp.offset for tp in got}
    finally:
        c.close()


def test_resume_after_coordinator_restart(own_cluster):
    """Offsets committed before the coordinator broker crashes and restarts
    are there after it: a new consumer of the group starts exactly at them."""
    c = own_cluster
    bs = c.bootstrap
    parts = 4
    topic = create_topic(bs, unique_topic("crst"), parts)
    produce_keyed(bs, topic, 200)
    group = unique_topic("gcr")
    c1 = _consumer(bs, group)
    c1.subscribe([topic])
    seen = {}
    _poll_all([c1], seen, 200)
    assert len(seen) == 200
    high = _watermarks(bs, topic, parts)
    # commit a point inside every partition, not just its end
    want = {p: high[p] // 2 for p in range(parts)}
    c1.commit(offsets=[TopicPartition(topic, p, want[p]) for p in range(parts)], asynchronous=False)
    got = c1.committed([TopicPartition(topic, p) for p in range(parts)], timeout=20)
    assert {tp.partition: tp.offset for tp in got} == want
    c1.close()

    idx = _coordinator_index(c, group)
    name = "broker-%d" % idx
    old_pid = c.pids(name)[name]
    r = c.run("stop-broker", "--index", str(idx))  # SIGKILL: a crash
    assert r.returncode == 0, r.stdout
    r = c.run("restart-broker", "--index", str(idx))
    assert r.returncode == 0, r.stdout
    assert c.pids(name)[name] != old_pid
    assert _coordinator_index(c, group) == idx

    assert wait_for(lambda: _committed(bs, group, topic, parts) == want, 60,
                    interval=1, what="committed offsets after the coordinator restart")
    c2 = _consumer(bs, group)
    c2.subscribe([topic])
    seen2 = {}
    expect = {(p, o) for p in range(parts) for o in range(want[p], high[p])}
    _poll_all([c2], seen2, len(expect), timeout=90)
    # nothing skipped, nothing before the committed offsets re-read
    assert set(seen2) == expect
    end = time.time() + 3  # and nothing else arrives
    while time.time() < end:
        m = c2.poll(0.2)
        assert m is None or m.error(), "unexpected extra message at %d/%d" % (m.partition(), m.offset())
    c2.close()


# --- the admin view -------------------------------------------------------------


def _decode_assignment(b):
    """ConsumerProtocolAssignment (any version): {topic: [partitions]}."""
    if not b:
        return {}
    r = kr.Reader(b)
    r.int16()
    out = {}
    for _ in range(r.int32()):
        t = r.string()
        out[t] = [r.int32() for _ in range(r.int32())]
    return out


def _confluent_view(bs, group, topic, parts):
    """(state, [(member_id, client_id, host, {topic: [partitions]})], {p: committed})
    through confluent-kafka's AdminClient: the KIP-222 calls when the installed
    version has them (2.0+), else list_groups() and Consumer.committed()."""
    admin = admin_client(bs)
    if hasattr(AdminClient, "describe_consumer_groups"):
        from confluent_kafka import ConsumerGroupTopicPartitions
        listed = admin.list_consumer_groups(request_timeout=20).result()
        assert group in [g.group_id for g in listed.valid], listed.valid
        d = admin.describe_consumer_groups([group], request_timeout=20)[group].result()
        members = [(m.member_id, m.client_id, m.host,
                    {tp.topic: sorted(x.partition for x in m.assignment.topic_partitions if x.topic == tp.topic)
                     for tp in m.assignment.topic_partitions})
                   for m in d.members]
        state = str(d.state).rsplit(".", 1)[-1].upper()
        res = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(parts)])],
            request_timeout=20)[group].result()
        offsets = {tp.partition: tp.offset for tp in res.topic_partitions}
        return state, members, offsets
    gs = admin.list_groups(timeout=20)
    assert group in [g.id for g in gs], [g.id for g in gs]
    g = admin.list_groups(group=group, timeout=20)[0]
    members = [(m.id, m.client_id, m.client_host, _decode_assignment(m.assignment)) for m in g.members]
    state = {"STABLE": "STABLE"}.get(g.state.upper(), g.state.upper())
    return state, members, _committed(bs, group, topic, parts)


def _kafka_python_view(kafka, bs, group, topic):
    admin = kafka.KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)
    try:
        listed = admin.list_consumer_groups()
        assert (group, "consumer") in listed, listed
        (d,) = admin.describe_consumer_groups([group])
        assert d.error_code == 0 and d.group == group and d.protocol_type == "consumer"
        members = [(m.member_id, m.client_id, m.client_host,
                    {t: sorted(ps) for t, ps in m.member_assignment.assignment})
                   for m in d.members]
        for m in d.members:
            assert topic in m.member_metadata.subscription
        offs = admin.list_consumer_group_offsets(group)
        return d.state.upper(), members, {tp.partition: om.offset for tp, om in offs.items()
                                          if tp.topic == topic}
    finally:
        admin.close()


def test_admin_view_members_and_lag(cluster):
    """What `kafka-consumer-groups --describe` shows: every partition with its
    committed offset, log end, lag and the member (client id, host) owning it,
    through confluent-kafka's and kafka-python's admin clients."""
    kafka = pytest.importorskip("kafka")
    bs = cluster.bootstrap
    parts = 3
    topic = create_topic(bs, unique_topic("adm"), parts)
    group = unique_topic("gadm")
    cs = [_consumer(bs, group, **{"client.id": "eddy-admin-%s" % n}) for n in "ab"]
    for x in cs:
        x.subscribe([topic])

    def balanced():
        for x in cs:
            m = x.poll(0.1)
            assert m is None or m.error(), "nothing produced yet"
        a = [set(tp.partition for tp in x.assignment()) for x in cs]
        return all(a) and sum(len(s) for s in a) == parts
    wait_for(balanced, 60, what="balanced assignment")
    # produced once the partitions are split: no rebalance makes a
    # partition's new owner read again what the old one read
    produce_keyed(bs, topic, 90)
    seen = {}
    _poll_all(cs, seen, 90)
    assert len(seen) == 90
    for x in cs:
        x.commit(asynchronous=False)
    produce_keyed(bs, topic, 15, key_fmt="lag-%06d")  # not consumed: the lag
    high = _watermarks(bs, topic, parts)
    assert sum(high.values()) == 105

    try:
        for name, (state, members, committed) in (
                ("confluent-kafka", _confluent_view(bs, group, topic, parts)),
                ("kafka-python", _kafka_python_view(kafka, bs, group, topic))):
            assert state == "STABLE", (name, state)
            assert len(members) == 2, (name, members)
            assert sorted(m[1] for m in members) == ["eddy-admin-a", "eddy-admin-b"], (name, members)
            for mid, cid, host, _ in members:
                assert mid and host == "/127.0.0.1", (name, mid, cid, host)
            # the --describe table: topic, partition, current, log end, lag, owner
            table = []
            for p in range(parts):
                owners = [m for m in members if p in m[3].get(topic, [])]
                assert len(owners) == 1, (name, p, members)
                table.append((topic, p, committed[p], high[p], high[p] - committed[p],
                              owners[0][0], owners[0][2], owners[0][1]))
            assert sum(row[4] for row in table) == 15, (name, table)
            assert all(row[2] >= 0 and row[4] >= 0 for row in table), (name, table)
    finally:
        for x in cs:
            x.close()


# --- bad input, with raw frames ---------------------------------------------------


def _subscription(topics):
    """ConsumerProtocolSubscription v0."""
    return struct.pack(">hi", 0, len(topics)) + b"".join(kr.kstring(t) for t in topics) + kr.kbytes(None)


def _assignment(topic, partitions):
    """ConsumerProtocolAssignment v0."""
    return (struct.pack(">hi", 0, 1) + kr.kstring(topic) + struct.pack(">i", len(partitions))
            + b"".join(struct.pack(">i", p) for p in partitions) + kr.kbytes(None))


def _join_v5(sock, group, member_id, protocols, protocol_type="consumer", corr=1):
    """JoinGroup v5 -> (error, generation, protocol, leader, member_id, members)."""
    body = (kr.kstring(group) + struct.pack(">ii", 30000, 30000) + kr.kstring(member_id)
            + kr.kstring(None) + kr.kstring(protocol_type) + struct.pack(">i", len(protocols))
            + b"".join(kr.kstring(n) + kr.kbytes(m) for n, m in protocols))
    r = kr.Reader(kr.call(sock, API_JOIN_GROUP, 5, body, corr, timeout=30))
    r.int32()
    err, gen, proto, leader, mid = r.int16(), r.int32(), r.string(), r.string(), r.string()
    members = []
    for _ in range(r.int32()):
        m = r.string()
        r.string()
        members.append(m)
        r._take(r.int32())
    return err, gen, proto, leader, mid, members


def _sync_v3(sock, group, gen, member_id, assignments, corr=2):
    body = (kr.kstring(group) + struct.pack(">i", gen) + kr.kstring(member_id) + kr.kstring(None)
            + struct.pack(">i", len(assignments))
            + b"".join(kr.kstring(m) + kr.kbytes(a) for m, a in assignments))
    r = kr.Reader(kr.call(sock, API_SYNC_GROUP, 3, body, corr, timeout=30))
    r.int32()
    return r.int16()


def _heartbeat_v3(sock, group, gen, member_id, corr=3):
    body = kr.kstring(group) + struct.pack(">i", gen) + kr.kstring(member_id) + kr.kstring(None)
    r = kr.Reader(kr.call(sock, API_HEARTBEAT, 3, body, corr))
    r.int32()
    return r.int16()


def _commit_v7(sock, group, gen, member_id, topic, offsets, corr=4):
    """OffsetCommit v7 -> {partition: error}."""
    body = (kr.kstring(group) + struct.pack(">i", gen) + kr.kstring(member_id) + kr.kstring(None)
            + struct.pack(">i", 1) + kr.kstring(topic) + struct.pack(">i", len(offsets))
            + b"".join(struct.pack(">iqi", p, o, -1) + kr.kstring(None) for p, o in offsets.items()))
    r = kr.Reader(kr.call(sock, API_OFFSET_COMMIT, 7, body, corr))
    r.int32()
    out = {}
    for _ in range(r.int32()):
        r.string()
        for _ in range(r.int32()):
            p = r.int32()
            out[p] = r.int16()
    return out


def _leave_v3(sock, group, member_id, corr=5):
    body = kr.kstring(group) + struct.pack(">i", 1) + kr.kstring(member_id) + kr.kstring(None)
    r = kr.Reader(kr.call(sock, API_LEAVE_GROUP, 3, body, corr))
    r.int32()
    top = r.int16()
    errs = []
    for _ in range(r.int32()):
        r.string()
        r.string()
        errs.append(r.int16())
    return top, errs


def test_bad_group_input_raw(cluster):
    """Stale generation, unknown member, foreign protocol type, oversized
    metadata and an empty group id each get their Kafka error code, change
    nothing, and the group goes on working: the raw member keeps its
    generation and a real consumer then resumes at its commits."""
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("rawg"), 2)
    produce_keyed(bs, topic, 40)
    high = _watermarks(bs, topic, 2)
    group = unique_topic("graw")
    protos = [("range", _subscription([topic]))]
    s = kr.connect(bs, timeout=30)
    try:
        err, _, _, _, mid, _ = _join_v5(s, group, "", protos)
        assert err == ERR_MEMBER_ID_REQUIRED and mid
        err, gen, proto, leader, mid2, members = _join_v5(s, group, mid, protos)
        assert (err, proto, leader, mid2, members) == (0, "range", mid, mid, [mid])
        assert _sync_v3(s, group, gen, mid, [(mid, _assignment(topic, [0, 1]))]) == 0
        assert _heartbeat_v3(s, group, gen, mid) == 0
        want = {0: high[0] // 2, 1: high[1] // 2}
        assert _commit_v7(s, group, gen, mid, topic, want) == {0: 0, 1: 0}

        def still_fine():
            assert _heartbeat_v3(s, group, gen, mid) == 0, "the group rebalanced or lost the member"

        # a stale generation
        assert _heartbeat_v3(s, group, gen - 1, mid) == ERR_ILLEGAL_GENERATION
        assert _commit_v7(s, group, gen - 1, mid, topic, {0: 0}) == {0: ERR_ILLEGAL_GENERATION}
        assert _sync_v3(s, group, gen + 1, mid, []) == ERR_ILLEGAL_GENERATION
        still_fine()
        # an unknown member
        assert _heartbeat_v3(s, group, gen, "member-nobody") == ERR_UNKNOWN_MEMBER_ID
        assert _sync_v3(s, group, gen, "member-nobody", []) == ERR_UNKNOWN_MEMBER_ID
        assert _commit_v7(s, group, gen, "member-nobody", topic, {0: 0}) == {0: ERR_UNKNOWN_MEMBER_ID}
        assert _join_v5(s, group, "member-nobody", protos)[0] == ERR_UNKNOWN_MEMBER_ID
        still_fine()
        # a protocol type other than the group's
        assert _join_v5(s, group, "", [("x", b"")], protocol_type="connect")[0] == \
            ERR_INCONSISTENT_GROUP_PROTOCOL
        still_fine()
        # oversized member metadata (limit: 1 MiB per member), new or known member
        big = [("range", _subscription([topic]) + b"\0" * (2 << 20))]
        assert _join_v5(s, group, "", big)[0] == ERR_INVALID_REQUEST
        assert _join_v5(s, group, mid, big)[0] == ERR_INVALID_REQUEST
        still_fine()
        # an empty group id
        assert _join_v5(s, "", "", protos)[0] == ERR_INVALID_GROUP_ID
        assert _heartbeat_v3(s, "", gen, mid) == ERR_INVALID_GROUP_ID
        assert _sync_v3(s, "", gen, mid, []) == ERR_INVALID_GROUP_ID
        assert _leave_v3(s, "", mid)[0] == ERR_INVALID_GROUP_ID
        still_fine()

        # the raw member as admin clients see it: client id and host
        g = admin_client(bs).list_groups(group=group, timeout=20)[0]
        assert g.state == "Stable" and [m.id for m in g.members] == [mid]
        assert g.members[0].client_id == "eddy-raw-test"
        assert g.members[0].client_host == "/127.0.0.1"
        assert _decode_assignment(g.members[0].assignment) == {topic: [0, 1]}

        assert _leave_v3(s, group, mid) == (0, [0])
    finally:
        s.close()

    # a real consumer of the same group starts at the raw member's commits
    c = _consumer(bs, group)
    c.subscribe([topic])
    seen = {}
    expect = {(p, o) for p in range(2) for o in range(want[p], high[p])}
    _poll_all([c], seen, len(expect), timeout=60)
    assert set(seen) == expect
    c.commit(asynchronous=False)
    c.close()
    assert _committed(bs, group, topic, 2) == high


# --- DeleteGroups -------------------------------------------------------------------


def test_delete_groups(cluster):
    """DeleteGroups of a group with members: NON_EMPTY_GROUP, nothing lost;
    once empty: deleted, gone from ListGroups, its offsets gone."""
    kafka = pytest.importorskip("kafka")
    from kafka.errors import GroupIdNotFoundError, NoError, NonEmptyGroupError
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("delg"), 2)
    produce_keyed(bs, topic, 20)
    group = unique_topic("gdel")
    c = _consumer(bs, group)
    c.subscribe([topic])
    seen = {}
    _poll_all([c], seen, 20)
    c.commit(asynchronous=False)
    admin = kafka.KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)
    try:
        assert admin.delete_consumer_groups([group]) == [(group, NonEmptyGroupError)]
        assert (group, "consumer") in admin.list_consumer_groups()
        assert sum(o.offset for o in admin.list_consumer_group_offsets(group).values()) == 20
        c.close()  # LeaveGroup: the group is empty now
        c = None
        wait_for(lambda: admin.describe_consumer_groups([group])[0].state == "Empty", 30,
                 interval=0.5, what="empty group")
        assert admin.delete_consumer_groups([group]) == [(group, NoError)]
        assert group not in [g for g, _ in admin.list_consumer_groups()]
        assert admin.describe_consumer_groups([group])[0].state == "Dead"
        assert admin.list_consumer_group_offsets(group) == {}
        assert admin.delete_consumer_groups([group]) == [(group, GroupIdNotFoundError)]
    finally:
        if c is not None:
            c.close()
        admin.close()
