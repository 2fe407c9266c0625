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
