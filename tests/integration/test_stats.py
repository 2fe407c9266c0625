"""The frontend's stats endpoint (docs/stats.md): GET /stats (JSON), /metrics
(Prometheus text format 0.0.4, checked by a strict parser below), /healthz,
/readyz, and the 404 / 405 answers."""
import json
import math
import re
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from util import create_topic, produce_keyed, unique_topic, wait_for

PARTITIONS = 4
N = 600
VALUE_LEN = 200


# ---- HTTP helpers ------------------------------------------------------------

def http(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def base_url(cluster):
    url = cluster["EDDY_STATS_URL"]
    assert url.endswith("/stats"), url
    return url[: -len("/stats")]


def get_stats(cluster):
    status, headers, body = http(cluster["EDDY_STATS_URL"])
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)


def get_metrics(cluster):
    status, headers, body = http(base_url(cluster) + "/metrics")
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain")
    return parse_prometheus(body.decode("utf-8"))


# ---- a strict Prometheus text format (0.0.4) parser ----------------------------

METRIC_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
FLOAT_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


class PromError(AssertionError):
    pass


def _parse_value(s, line):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not FLOAT_RE.match(s):
        raise PromError("bad value %r in %r" % (s, line))
    return float(s)


def _parse_labels(s, i, line):
    """Parse '{a="x",b="y"}' starting at s[i] == '{'. Returns (labels, index
    after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        j = i
        while j < len(s) and (s[j].isalnum() or s[j] == "_"):
            j += 1
        name = s[i:j]
        if not LABEL_RE.match(name) or name.startswith("__"):
            raise PromError("bad label name %r in %r" % (name, line))
        if name in labels:
            raise PromError("label %r twice in %r" % (name, line))
        if s[j: j + 2] != '="':
            raise PromError("expected =\" after label %r in %r" % (name, line))
        j += 2
        val = []
        while True:
            if j >= len(s):
                raise PromError("unterminated label value in %r" % line)
            c = s[j]
            if c == "\\":
                nxt = s[j + 1: j + 2]
                if nxt not in ("\\", '"', "n"):
                    raise PromError("bad escape in label value in %r" % line)
                val.append("\n" if nxt == "n" else nxt)
                j += 2
            elif c == '"':
                j += 1
                break
            elif c == "\n":
                raise PromError("raw newline in label value")
            else:
                val.append(c)
                j += 1
        labels[name] = "".join(val)
        if s[j: j + 1] == ",":
            j += 1
        elif s[j: j + 1] != "}":
            raise PromError("expected , or } in %r" % line)
        i = j


def parse_prometheus(text):
    """Returns {family: {"type", "help", "samples": [(name, labels, value)]}}.
    Raises PromError on anything the exposition format does not allow, and on
    duplicate series, families split apart, TYPE after samples, histograms
    whose buckets are not cumulative or whose +Inf bucket differs from _count."""
    if text and not text.endswith("\n"):
        raise PromError("output does not end with a newline")
    fams = {}
    order = []          # families in order of first appearance
    closed = set()      # families whose block of lines has ended
    seen = set()

    def family(name):
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and fams.get(base, {}).get("type") in ("histogram", "summary"):
                return base
        return name

    def enter(fam):
        if order and order[-1] != fam:
            closed.add(order[-1])
        if fam in closed:
            raise PromError("lines of family %s are not contiguous" % fam)
        if not order or order[-1] != fam:
            order.append(fam)
        return fams.setdefault(fam, {"type": None, "help": None, "samples": []})

    for line in text.split("\n")[:-1]:
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_RE.match(name):
                    raise PromError("bad metric name %r" % name)
                f = enter(name)
                rest = parts[3] if len(parts) == 4 else ""
                if parts[1] == "HELP":
                    if f["help"] is not None:
                        raise PromError("HELP twice for %s" % name)
                    if re.search(r"\\[^\\n]", rest) or rest.endswith("\\"):
                        raise PromError("bad escape in HELP of %s" % name)
                    f["help"] = rest
                else:
                    if f["type"] is not None:
                        raise PromError("TYPE twice for %s" % name)
                    if f["samples"]:
                        raise PromError("TYPE after samples for %s" % name)
                    if rest not in TYPES:
                        raise PromError("bad type %r for %s" % (rest, name))
                    f["type"] = rest
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if not m:
            raise PromError("bad sample line %r" % line)
        name = m.group(0)
        i = m.end()
        labels = {}
        if line[i: i + 1] == "{":
            labels, i = _parse_labels(line, i, line)
        if line[i: i + 1] != " ":
            raise PromError("expected a space before the value in %r" % line)
        fields = line[i + 1:].split(" ")
        if len(fields) not in (1, 2) or "" in fields:
            raise PromError("bad value/timestamp in %r" % line)
        value = _parse_value(fields[0], line)
        if len(fields) == 2 and not re.match(r"-?\d+\Z", fields[1]):
            raise PromError("bad timestamp in %r" % line)
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise PromError("duplicate series %r" % (key,))
        seen.add(key)
        fam = family(name)
        f = enter(fam)
        t = f["type"] or "untyped"
        if t == "counter" and not (value >= 0):
            raise PromError("negative counter %r" % line)
        if t == "histogram":
            if name == fam + "_bucket" and "le" not in labels:
                raise PromError("bucket without le: %r" % line)
            if name == fam:
                raise PromError("histogram sample without suffix: %r" % line)
        f["samples"].append((name, labels, value))

    for fam, f in fams.items():
        if f["type"] == "histogram":
            series = {}
            for name, labels, value in f["samples"]:
                rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                s = series.setdefault(rest, {"buckets": [], "count": None, "sum": None})
                if name.endswith("_bucket"):
                    s["buckets"].append((_parse_value(labels["le"], name), value))
                elif name.endswith("_count"):
                    s["count"] = value
                elif name.endswith("_sum"):
                    s["sum"] = value
            for rest, s in series.items():
                les = [le for le, _ in s["buckets"]]
                if les != sorted(les) or not les or les[-1] != math.inf:
                    raise PromError("%s%r: buckets not ascending or no +Inf" % (fam, rest))
                counts = [c for _, c in s["buckets"]]
                if counts != sorted(counts):
                    raise PromError("%s%r: buckets not cumulative" % (fam, rest))
                if s["count"] != counts[-1] or s["sum"] is None:
                    raise PromError("%s%r: _count != +Inf bucket, or no _sum" % (fam, rest))
    return fams


def samples(fams, name):
    """Every sample named @name (a histogram's _bucket/_sum/_count included)."""
    return [(labels, value) for f in fams.values() for n, labels, value in f["samples"]
            if n == name]


def test_prometheus_parser_rejects_bad_input():
    """The parser below is the test's oracle: make sure it can say no."""
    good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n"
    assert samples(parse_prometheus(good), "a_total") == [({"x": "1"}, 3.0)]
    bad = [
        "1abc 3\n",                                        # metric name
        "a{x=\"1} 3\n",                                    # unterminated value
        "a{x=\"\\q\"} 3\n",                                # bad escape
        "a{__x=\"1\"} 3\n",                                # reserved label
        "a 3\na 4\n",                                      # duplicate series
        "a 1\nb 1\na{x=\"1\"} 2\n",                        # family split apart
        "a 1\n# TYPE a counter\n",                         # TYPE after samples
        "# TYPE a counter\na -1\n",                        # negative counter
        "a one\n",                                         # value
        "a 1",                                             # no final newline
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
        "h_sum 1\nh_count 1\n",                            # not cumulative
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
    ]
    for text in bad:
        with pytest.raises(PromError):
            parse_prometheus(text)


# ---- the endpoint ------------------------------------------------------------

def hw_sum(stats, topic):
    t = stats["topics"].get(topic)
    if not t or stats.get("stale"):
        return None
    hws = [p["high_watermark"] for p in t["partitions"]]
    if len(hws) != PARTITIONS or any(h is None for h in hws):
        return None
    return sum(hws)


@pytest.fixture(scope="module")
def produced(cluster):
    """A new topic with N records (keys + VALUE_LEN-byte values), produced
    uncompressed with acks=all, and the stats before and after."""
    topic = unique_topic("stats")
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})  # alive until the result
    fs = admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)],
                             request_timeout=20)
    fs[topic].result(timeout=30)
    before = get_stats(cluster)
    p = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all",
                  "compression.type": "none", "linger.ms": 5})
    errors = []
    payload = 0
    for i in range(N):
        key = b"k%05d" % i
        value = (b"v%05d-" % i).ljust(VALUE_LEN, b"x")
        payload += len(key) + len(value)
        p.produce(topic, value=value, key=key,
                  on_delivery=lambda err, msg: err and errors.append(err))
        p.poll(0)
    assert p.flush(30) == 0, "undelivered messages"
    assert not errors, errors[:5]
    after = wait_for(lambda: (lambda s: s if hw_sum(s, topic) == N else None)(get_stats(cluster)),
                     timeout=15, what="high watermarks of %s summing to %d in /stats" % (topic, N))
    return {"topic": topic, "payload": payload, "before": before, "after": after}


def test_stats_shape(cluster, produced):
    s = produced["after"]
    assert isinstance(s["brokers"], list) and s["brokers"]
    ids = set()
    for b in s["brokers"]:
        assert set(b) >= {"id", "address", "alive", "partitions"}
        assert isinstance(b["id"], int) and isinstance(b["alive"], bool)
        assert re.match(r".+:\d+\Z", b["address"]), b
        ids.add(b["id"])
    assert all(b["alive"] for b in s["brokers"]), s["brokers"]
    assert isinstance(s["groups"], dict)
    assert s["stale"] is False
    # every placed partition is counted on its broker
    placed = {}
    for t in s["topics"].values():
        for p in t["partitions"]:
            assert p["broker"] in ids, p
            placed[p["broker"]] = placed.get(p["broker"], 0) + 1
    for b in s["brokers"]:
        assert b["partitions"] == placed.get(b["id"], 0), (b, placed)
    fe = s["frontend"]
    for k in ("connections_total", "bytes_in", "bytes_out", "records_in", "records_out",
              "glitches", "auth_failures", "uptime_s"):
        assert isinstance(fe[k], int) and fe[k] >= 0, k
    assert isinstance(fe["connections_open"], dict) and fe["connections_open"]
    assert fe["connections_total"] >= 1
    assert fe["requests"].get("Produce", 0) >= 1, fe["requests"]
    assert set(fe["errors"]) == set(fe["requests"])
    for api, lat in fe["latency_us"].items():
        assert api in fe["requests"]
        assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"], (api, lat)
        # upper bounds of log2 buckets: powers of two
        assert all(v & (v - 1) == 0 for v in lat.values()), (api, lat)


def test_stats_after_produce(produced):
    s0, s1, topic = produced["before"], produced["after"], produced["topic"]
    parts = s1["topics"][topic]["partitions"]
    assert sorted(p["partition"] for p in parts) == list(range(PARTITIONS))
    assert sum(p["high_watermark"] for p in parts) == N
    assert all(p["log_start_offset"] == 0 for p in parts), parts
    fe0, fe1 = s0["frontend"], s1["frontend"]
    assert fe1["bytes_in"] - fe0["bytes_in"] >= produced["payload"]
    assert fe1["records_in"] - fe0["records_in"] >= N
    assert fe1["bytes_out"] > fe0["bytes_out"]
    assert fe1["requests"]["Produce"] - fe0["requests"].get("Produce", 0) >= 1
    assert fe1["connections_total"] > fe0["connections_total"]


def test_metrics(cluster, produced):
    fams = get_metrics(cluster)
    topic = produced["topic"]
    expected_types = {
        "eddy_frontend_connections_total": "counter",
        "eddy_frontend_connections_open": "gauge",
        "eddy_frontend_requests_total": "counter",
        "eddy_frontend_errors_total": "counter",
        "eddy_frontend_bytes_in_total": "counter",
        "eddy_frontend_bytes_out_total": "counter",
        "eddy_frontend_records_in_total": "counter",
        "eddy_frontend_records_out_total": "counter",
        "eddy_frontend_glitches_total": "counter",
        "eddy_frontend_auth_failures_total": "counter",
        "eddy_frontend_uptime_seconds": "gauge",
        "eddy_frontend_request_latency_microseconds": "histogram",
        "eddy_partition_high_watermark": "gauge",
        "eddy_partition_log_start_offset": "gauge",
        "eddy_broker_alive": "gauge",
        "eddy_broker_partitions": "gauge",
    }
    for name, t in expected_types.items():
        assert name in fams, name
        assert fams[name]["type"] == t, (name, fams[name]["type"])
        assert fams[name]["help"], name
    for fam in fams.values():
        if fam["type"] == "counter":
            assert all(n.endswith("_total") for n, _, _ in fam["samples"])

    hw = {int(l["partition"]): v for l, v in samples(fams, "eddy_partition_high_watermark")
          if l["topic"] == topic}
    assert sorted(hw) == list(range(PARTITIONS))
    assert sum(hw.values()) == N
    alive = samples(fams, "eddy_broker_alive")
    assert alive and all(v == 1 for _, v in alive), alive
    assert {l["id"] for l, _ in alive} == {str(b["id"]) for b in produced["after"]["brokers"]}

    produce = [v for l, v in samples(fams, "eddy_frontend_requests_total") if l["api"] == "Produce"]
    assert produce and produce[0] >= 1
    count = [v for l, v in samples(fams, "eddy_frontend_request_latency_microseconds_count")
             if l["api"] == "Produce"]
    assert count == produce
    rin = samples(fams, "eddy_frontend_records_in_total")
    assert rin[0][1] >= N
    assert samples(fams, "eddy_stats_stale") == [({}, 0.0)]


def test_health_and_ready(cluster):
    status, headers, body = http(base_url(cluster) + "/healthz")
    assert (status, body) == (200, b"ok\n")
    status, headers, body = http(base_url(cluster) + "/readyz")
    assert status == 200, body


def test_unknown_path_and_method(cluster):
    base = base_url(cluster)
    for path in ("/", "/nope", "/stats/", "/statsx", "/metrics/x"):
        status, _, _ = http(base + path)
        assert status == 404, path
    for method in ("POST", "PUT", "DELETE", "HEAD"):
        status, headers, _ = http(base + "/stats", method=method)
        assert status == 405, method
        assert headers["Allow"] == "GET"
    # the endpoint still works afterwards
    assert get_stats(cluster)["brokers"]


# ---- consumer groups -------------------------------------------------------------

GROUP_PARTITIONS = 3
GROUP_N = 60
GROUP_M = 17


def group_of(cluster, gid):
    """(stats, the group's entry or None)."""
    s = get_stats(cluster)
    return s, s["groups"].get(gid)


def group_metrics(cluster, gid):
    fams = get_metrics(cluster)
    members = [v for l, v in samples(fams, "eddy_group_members") if l["group"] == gid]
    lag = {(l["topic"], int(l["partition"])): v for l, v in samples(fams, "eddy_group_lag")
           if l["group"] == gid}
    assert fams["eddy_group_members"]["type"] == "gauge"
    assert fams["eddy_group_lag"]["type"] == "gauge"
    return members, lag


def check_offsets(s, g, topic, lag_total):
    """Every partition of the topic has a committed offset and a lag equal to
    high watermark - committed, summing to lag_total."""
    hw = {p["partition"]: p["high_watermark"] for p in s["topics"][topic]["partitions"]}
    offs = [o for o in g["offsets"] if o["topic"] == topic]
    assert sorted(o["partition"] for o in offs) == list(range(GROUP_PARTITIONS)), g["offsets"]
    for o in offs:
        assert set(o) >= {"topic", "partition", "committed_offset", "high_watermark", "lag"}, o
        assert o["high_watermark"] == hw[o["partition"]], (o, hw)
        assert o["lag"] == o["high_watermark"] - o["committed_offset"], o
    assert sum(o["lag"] for o in offs) == lag_total, offs
    assert g["lag"] == lag_total, g


def test_group_state_members_and_lag(cluster):
    """A confluent-kafka group reads a topic and commits: /stats shows it
    Stable with one member holding every partition and lag 0; M more records:
    lag M; after the consumer leaves: Empty, no member, lag still M. /metrics
    agrees."""
    topic = create_topic(cluster.bootstrap, unique_topic("stats-grp"), GROUP_PARTITIONS)
    gid = unique_topic("stats-group")
    produce_keyed(cluster.bootstrap, topic, GROUP_N)
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": gid,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "client.id": "stats-test", "session.timeout.ms": 10000})
    closed = False
    try:
        c.subscribe([topic])
        got = 0
        end = time.monotonic() + 60
        while got < GROUP_N:
            assert time.monotonic() < end, "consumed %d of %d" % (got, GROUP_N)
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got += 1
        assert got == GROUP_N
        c.commit(asynchronous=False)

        def stable_and_caught_up():
            s, g = group_of(cluster, gid)
            if not g or g["state"] != "Stable" or g["lag"] != 0 or s["stale"]:
                return None
            return s, g
        s, g = wait_for(stable_and_caught_up, timeout=20, interval=0.3,
                        what="group %s Stable with lag 0 in /stats" % gid)
        assert "error" not in g, g
        assert g["protocol_type"] == "consumer"
        assert g["protocol"] in ("range", "roundrobin", "cooperative-sticky"), g["protocol"]
        assert isinstance(g["coordinator"], int)
        assert g["coordinator"] in {b["id"] for b in s["brokers"]}
        assert g["members_count"] == 1 and len(g["members"]) == 1, g
        m = g["members"][0]
        assert m["member_id"], m
        assert set(m) >= {"member_id", "client_id", "client_host", "partitions"}
        assert sorted((p["topic"], p["partition"]) for p in m["partitions"]) == \
            [(topic, i) for i in range(GROUP_PARTITIONS)], m
        check_offsets(s, g, topic, 0)
        assert sum(o["committed_offset"] for o in g["offsets"]) == GROUP_N
        members, lag = group_metrics(cluster, gid)
        assert members == [1.0]
        assert sorted(lag) == [(topic, i) for i in range(GROUP_PARTITIONS)]
        assert sum(lag.values()) == 0

        # M more records, not consumed: the committed offsets stay, lag M
        produce_keyed(cluster.bootstrap, topic, GROUP_M, key_fmt="more-%06d")
        s, g = wait_for(lambda: (lambda sg: sg if sg[1] and sg[1]["lag"] == GROUP_M
                                 and not sg[0]["stale"] else None)(group_of(cluster, gid)),
                        timeout=20, interval=0.3, what="lag %d for %s" % (GROUP_M, gid))
        assert g["state"] == "Stable" and g["members_count"] == 1, g
        check_offsets(s, g, topic, GROUP_M)

        c.close()
        closed = True
        s, g = wait_for(lambda: (lambda sg: sg if sg[1] and sg[1]["state"] == "Empty"
                                 and not sg[0]["stale"] else None)(group_of(cluster, gid)),
                        timeout=20, interval=0.3, what="group %s Empty after close" % gid)
        assert g["members"] == [] and g["members_count"] == 0, g
        check_offsets(s, g, topic, GROUP_M)
        members, lag = group_metrics(cluster, gid)
        assert members == [0.0]
        assert sum(lag.values()) == GROUP_M
    finally:
        if not closed:
            c.close()


def test_group_uncommitted_partitions_count_from_log_start(cluster):
    """A member that holds partitions but never committed: those partitions
    are listed with committed_offset -1 and lag = high watermark - log start."""
    topic = create_topic(cluster.bootstrap, unique_topic("stats-grp0"), GROUP_PARTITIONS)
    gid = unique_topic("stats-group0")
    produce_keyed(cluster.bootstrap, topic, GROUP_N)
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": gid,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        c.subscribe([topic])
        wait_for(lambda: c.poll(0.2) is not None or c.assignment(), timeout=30,
                 what="an assignment")

        def listed():
            s, g = group_of(cluster, gid)
            if not g or g["state"] != "Stable" or s["stale"] or len(g["offsets"]) != GROUP_PARTITIONS:
                return None
            return s, g
        s, g = wait_for(listed, timeout=20, interval=0.3, what="group %s with 3 offsets" % gid)
        assert all(o["committed_offset"] == -1 for o in g["offsets"]), g["offsets"]
        ls = {p["partition"]: p["log_start_offset"] for p in s["topics"][topic]["partitions"]}
        for o in g["offsets"]:
            assert o["lag"] == o["high_watermark"] - ls[o["partition"]], o
        assert g["lag"] == GROUP_N, g
    finally:
        c.close()


# ---- brokers' own endpoints, sizes, LMDB, round trips, policies, rates ----------

import os
import shutil
import socket
import subprocess
import tempfile

from conftest import free_port_base


def broker_base(cluster, i):
    return "http://127.0.0.1:%d" % (int(cluster["EDDY_PORT_BASE"]) + 40 + i)


def broker_stats(cluster, i):
    status, headers, body = http(broker_base(cluster, i) + "/stats")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)


LMDB_KEYS = {"map_size", "page_size", "used_pages", "used_bytes", "max_readers", "num_readers"}


def check_lmdb(lm):
    assert set(lm) == LMDB_KEYS, lm
    assert lm["page_size"] in (4096, 8192, 16384, 65536)
    assert 2 <= lm["used_pages"] and lm["used_bytes"] == lm["used_pages"] * lm["page_size"]
    assert lm["used_bytes"] <= lm["map_size"]
    assert 1 <= lm["num_readers"] <= lm["max_readers"]


def test_broker_stats(cluster, produced):
    n = int(cluster["EDDY_BROKERS"])
    topic = produced["topic"]
    fe = get_stats(cluster)
    placement = {p["partition"]: p["broker"] for p in fe["topics"][topic]["partitions"]}
    seen = {}
    controllers = 0
    for i in range(n):
        s = broker_stats(cluster, i)
        assert s["id"] == i, s
        assert s["address"] == "127.0.0.1:%d" % (int(cluster["EDDY_PORT_BASE"]) + 10 + i)
        controllers += s["controller"] is True
        assert s["registered"] is True and s["ready"] is True
        assert s["map_version"] >= 1
        assert {p["id"] for p in s["peers"]} == set(range(n)) - {i}
        assert all(p["alive"] is True for p in s["peers"])
        check_lmdb(s["lmdb"])
        c = s["committer"]
        if any(p["topic"] == topic for p in s["partitions"]):
            assert c["commits"] >= 1 and c["appends"] >= 1 and c["bytes"] >= 1, c
        for p in s["partitions"]:
            if p["topic"] != topic:
                continue
            assert placement[p["partition"]] == i, (p, placement)
            seen[p["partition"]] = p
        for path in ("/healthz", "/readyz"):
            status, _, body = http(broker_base(cluster, i) + path)
            assert status == 200, (path, body)
        status, _, _ = http(broker_base(cluster, i) + "/nope")
        assert status == 404
        status, headers, _ = http(broker_base(cluster, i) + "/stats", method="POST")
        assert status == 405 and headers["Allow"] == "GET"
        status, headers, body = http(broker_base(cluster, i) + "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        fams = parse_prometheus(body.decode("utf-8"))
        # LMDB only grows here; the produced topic is not written any more
        assert samples(fams, "eddy_broker_lmdb_used_pages")[0][1] >= s["lmdb"]["used_pages"]
        hw = {int(lab["partition"]): v for lab, v in
              samples(fams, "eddy_broker_partition_high_watermark") if lab["topic"] == topic}
        assert hw == {k: p["high_watermark"] for k, p in seen.items() if placement[k] == i}
    assert controllers == 1
    assert sorted(seen) == list(range(PARTITIONS))
    assert sum(p["high_watermark"] for p in seen.values()) == N
    assert all(p["log_start_offset"] == 0 for p in seen.values())
    # every record is stored: at least key + value per record
    assert sum(p["size_bytes"] for p in seen.values()) >= produced["payload"]


def test_frontend_size_bytes_grows(cluster):
    topic = create_topic(cluster.bootstrap, unique_topic("size"), 2)

    def sizes():
        s = get_stats(cluster)
        t = s["topics"].get(topic)
        if not t or any(p["size_bytes"] is None for p in t["partitions"]):
            return None
        return [p["size_bytes"] for p in t["partitions"]]

    before = wait_for(sizes, timeout=15, what="size_bytes of %s" % topic)
    assert before == [0, 0]
    produce_keyed(cluster.bootstrap, topic, 200)
    after = wait_for(lambda: (lambda v: v if v and sum(v) > 200 * 10 else None)(sizes()),
                     timeout=15, what="size_bytes of %s growing" % topic)
    assert all(a >= b for a, b in zip(after, before))
    # the same figure as the owning broker's own endpoint
    s = get_stats(cluster)
    for p in s["topics"][topic]["partitions"]:
        own = [q for q in broker_stats(cluster, p["broker"])["partitions"]
               if q["topic"] == topic and q["partition"] == p["partition"]]
        assert own and own[0]["size_bytes"] == p["size_bytes"]
    fams = get_metrics(cluster)
    got = {int(lab["partition"]): v for lab, v in samples(fams, "eddy_partition_size_bytes")
           if lab["topic"] == topic}
    assert sum(got.values()) == sum(after)


def test_frontend_broker_lmdb_and_rtt(cluster, produced):
    s = wait_for(lambda: (lambda s: s if all(b["rpc_rtt_us"] for b in s["brokers"]) else None)(
        get_stats(cluster)), timeout=10, what="rpc_rtt_us for every broker")
    assert len(s["brokers"]) == int(cluster["EDDY_BROKERS"])
    for b in s["brokers"]:
        check_lmdb(b["lmdb"])
        r = b["rpc_rtt_us"]
        assert set(r) == {"p50", "p99", "samples"}
        assert 1 <= r["samples"] <= 256
        assert 0 < r["p50"] <= r["p99"] < 2000000, r
        own = broker_stats(cluster, b["id"])["lmdb"]
        assert own["map_size"] == b["lmdb"]["map_size"]
        assert own["page_size"] == b["lmdb"]["page_size"]
    fams = get_metrics(cluster)
    ids = {lab["id"] for lab, _ in samples(fams, "eddy_broker_lmdb_map_size_bytes")}
    assert ids == {str(b["id"]) for b in s["brokers"]}
    q = {(lab["id"], lab["quantile"]) for lab, _ in samples(fams, "eddy_broker_rpc_rtt_microseconds")}
    assert {(str(b["id"]), "0.99") for b in s["brokers"]} <= q


def test_rates(cluster):
    topic = create_topic(cluster.bootstrap, unique_topic("rate"), 1)
    produce_keyed(cluster.bootstrap, topic, 300)
    r = get_stats(cluster)["frontend"]["rates"]
    assert set(r) == {"window_s", "bytes_in_per_s", "bytes_out_per_s", "records_in_per_s",
                      "records_out_per_s"}
    assert 0 < r["window_s"] <= 11.5
    # 300 records within the window: at least 300 / 11.5 per second
    assert r["records_in_per_s"] >= 300 / 11.5, r
    assert r["bytes_in_per_s"] > r["records_in_per_s"]
    fams = get_metrics(cluster)
    assert samples(fams, "eddy_frontend_records_in_per_second")[0][1] > 0


def test_connections_by_policy(cluster):
    policy = "RootManageSharedAccessKey"
    assert "SharedAccessKeyName=%s;" % policy in cluster["EDDY_CONNECTION_STRING"]

    def pol():
        return get_stats(cluster)["frontend"]["connections_by_policy"][policy]

    before = pol()
    p = Producer({
        "bootstrap.servers": cluster["EDDY_BOOTSTRAP_TLS"],
        "security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN",
        "sasl.username": "$ConnectionString",
        "sasl.password": cluster["EDDY_CONNECTION_STRING"],
        "ssl.ca.location": cluster["EDDY_CA"]})
    topic = create_topic(cluster.bootstrap, unique_topic("pol"), 1)
    p.produce(topic, value=b"x")
    assert p.flush(30) == 0
    during = pol()
    assert during["open"] >= before["open"] + 1, (before, during)
    assert during["total"] >= before["total"] + 1
    fams = get_metrics(cluster)
    assert dict((lab["policy"], v) for lab, v in
                samples(fams, "eddy_frontend_policy_connections_open"))[policy] >= 1
    del p
    import gc
    gc.collect()
    wait_for(lambda: pol()["open"] <= before["open"], timeout=15,
             what="policy connections back to %d" % before["open"])
    assert pol()["total"] == during["total"]


# ---- the token: config parsing and 401 on processes started here -----------------

def build_dir():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    b = os.environ.get("EDDY_BUILD_DIR", "build")
    return b if os.path.isabs(b) else os.path.join(root, b)


def http_auth(url, token):
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def run_bad_config(binary, conf, tmp):
    path = os.path.join(tmp, "bad.json")
    with open(path, "w") as f:
        json.dump(conf, f)
    r = subprocess.run([binary, "--config", path], capture_output=True, timeout=20, text=True)
    return r.returncode, r.stdout + r.stderr


def test_stats_token_config_parsing(cluster):
    fe_bin = os.path.join(build_dir(), "frontend", "eddy-frontend")
    br_bin = os.path.join(build_dir(), "broker", "eddy-broker")
    with open(os.path.join(cluster.dir, "frontend.json")) as f:
        fe_conf = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        for bad in ("", 7, "x" * 300):
            rc, out = run_bad_config(fe_bin, dict(fe_conf, stats_token=bad), tmp)
            assert rc != 0 and "stats_token" in out, (bad, rc, out)
            rc, out = run_bad_config(br_bin, {"data_dir": os.path.join(tmp, "d"),
                                              "listen": "127.0.0.1:1", "controller_role": True,
                                              "stats_token": bad if bad != "x" * 300 else 7}, tmp)
            assert rc != 0 and "stats_token" in out, (bad, rc, out)


def wait_port(port, timeout=20):
    def up():
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(up, timeout=timeout, what="port %d listening" % port)


def check_token_paths(base, token):
    for path in ("/stats", "/metrics"):
        for bad in (None, "Bearer", "Bearer " + token[:-1], "Bearer " + token + "x",
                    "Basic " + token, "bearer " + token):
            status, headers, _ = http_auth(base + path, bad)
            assert status == 401, (path, bad, status)
            assert headers["WWW-Authenticate"].startswith("Bearer")
        status, _, body = http_auth(base + path, "Bearer " + token)
        assert status == 200, (path, body)
    for path in ("/healthz",):
        status, _, _ = http_auth(base + path, None)
        assert status == 200
    status, _, _ = http_auth(base + "/readyz", None)
    assert status in (200, 503)  # open: never 401


def test_stats_token_enforced(cluster):
    """A second frontend (same cluster, spare ports, a token) and a lone
    controller broker with a token."""
    token = "s3cret-token-for-stats"
    base = free_port_base()
    fe_bin = os.path.join(build_dir(), "frontend", "eddy-frontend")
    br_bin = os.path.join(build_dir(), "broker", "eddy-broker")
    with open(os.path.join(cluster.dir, "frontend.json")) as f:
        conf = json.load(f)
    conf["listeners"] = [{"name": "plain", "listen": "127.0.0.1:%d" % base,
                          "advertised": "127.0.0.1:%d" % base, "tls": False, "sasl": False}]
    conf["stats_listen"] = "127.0.0.1:%d" % (base + 2)
    conf["stats_token"] = token
    tmp = tempfile.mkdtemp(prefix="eddy-token-")
    procs = []
    try:
        path = os.path.join(tmp, "frontend.json")
        with open(path, "w") as f:
            json.dump(conf, f)
        log = open(os.path.join(tmp, "frontend.log"), "w")
        procs.append(subprocess.Popen([fe_bin, "--config", path], stdout=log, stderr=subprocess.STDOUT))
        bconf = {"data_dir": os.path.join(tmp, "b"), "listen": "127.0.0.1:%d" % (base + 10),
                 "controller_role": True, "stats_listen": "127.0.0.1:%d" % (base + 40),
                 "stats_token": token, "durability": "nosync", "map_size_mb": 64}
        bpath = os.path.join(tmp, "broker.json")
        with open(bpath, "w") as f:
            json.dump(bconf, f)
        blog = open(os.path.join(tmp, "broker.log"), "w")
        procs.append(subprocess.Popen([br_bin, "--config", bpath], stdout=blog, stderr=subprocess.STDOUT))
        wait_port(base + 2)
        wait_port(base + 40)
        check_token_paths("http://127.0.0.1:%d" % (base + 2), token)
        check_token_paths("http://127.0.0.1:%d" % (base + 40), token)
        status, _, body = http_auth("http://127.0.0.1:%d/stats" % (base + 40), "Bearer " + token)
        s = json.loads(body)
        assert s["controller"] is True and s["peers"] == [] and s["partitions"] == []
        check_lmdb(s["lmdb"])
        assert s["lmdb"]["map_size"] == 64 << 20
        # the cluster's own endpoints need no token
        assert http(cluster["EDDY_STATS_URL"])[0] == 200
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
