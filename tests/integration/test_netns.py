"""Brokers and the frontend on separate network hosts: each in its own
network namespace, joined through a bridge namespace by veth pairs on the
private 10.213.0.0/24 that this test creates (and always removes). Skipped
with the reason when namespaces cannot be made (not root, no iproute2)."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import REPO

ck = pytest.importorskip("confluent_kafka")

BUILD = os.path.join(REPO, os.environ.get("EDDY_BUILD_DIR", "build"))  # absolute stays absolute
NET = "10.213.0"


def ip(*args, check=True):
    return subprocess.run(["ip", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=check)


def netns_available():
    if os.geteuid() != 0 or not shutil.which("ip"):
        return "needs root and iproute2 for ip netns"
    probe = "eddyprobe" + uuid.uuid4().hex[:6]
    r = ip("netns", "add", probe, check=False)
    if r.returncode != 0:
        return "ip netns add failed: " + r.stdout.strip()
    ip("netns", "del", probe, check=False)
    return None


@pytest.fixture
def hosts():
    why = netns_available()
    if why:
        pytest.skip(why)
    tag = uuid.uuid4().hex[:5]
    names = {"fe": "eddyfe" + tag, "b0": "eddyb0" + tag, "b1": "eddyb1" + tag}
    sw = "eddysw" + tag
    made = []
    try:
        ip("netns", "add", sw)
        made.append(sw)
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        addrs = {}
        for i, (role, ns) in enumerate(sorted(names.items())):
            ip("netns", "add", ns)
            made.append(ns)
            a, b = "ve%s%d" % (tag, i), "vs%s%d" % (tag, i)
            ip("link", "add", a, "netns", ns, "type", "veth", "peer", "name", b, "netns", sw)
            addr = "%s.%d" % (NET, 10 + i)
            ip("-n", ns, "addr", "add", addr + "/24", "dev", a)
            ip("-n", ns, "link", "set", a, "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", sw, "link", "set", b, "master", "br0")
            ip("-n", sw, "link", "set", b, "up")
            addrs[role] = addr
        yield names, addrs
    finally:
        for ns in made:
            ip("netns", "del", ns, check=False)


def spawn(ns, args, log):
    return subprocess.Popen(["ip", "netns", "exec", ns, *args], stdout=log, stderr=subprocess.STDOUT)


def test_produce_consume_across_namespaces(hosts, tmp_path):
    names, addrs = hosts
    procs = []
    logf = open(tmp_path / "procs.log", "w")
    try:
        b0 = {"data_dir": str(tmp_path / "b0"), "listen": addrs["b0"] + ":9500",
              "controller_role": True, "durability": "nosync"}
        b1 = {"data_dir": str(tmp_path / "b1"), "listen": addrs["b1"] + ":9500",
              "controller": addrs["b0"] + ":9500", "durability": "nosync"}
        fe = {"node_id": 0, "controller": addrs["b0"] + ":9500",
              "listeners": [{"name": "plain", "listen": addrs["fe"] + ":9092",
                             "advertised": addrs["fe"] + ":9092", "tls": False, "sasl": False}],
              "policies": [], "auto_create_topics": True}
        for name, cfg in (("b0", b0), ("b1", b1), ("fe", fe)):
            path = tmp_path / (name + ".json")
            path.write_text(json.dumps(cfg))
            binary = "frontend/eddy-frontend" if name == "fe" else "broker/eddy-broker"
            procs.append(spawn(names[name], [os.path.join(BUILD, binary), "--config", str(path)],
                               logf))
            time.sleep(0.5)
        # the client runs inside the frontend's namespace: it reaches only
        # the frontend, which reaches the brokers over the veths
        script = r'''
import sys, time
from confluent_kafka import Producer, Consumer
from confluent_kafka.admin import AdminClient, NewTopic
bs = sys.argv[1]
a = AdminClient({"bootstrap.servers": bs})
for f in a.create_topics([NewTopic("ns", 4, 1)]).values():
    f.result(30)
p = Producer({"bootstrap.servers": bs, "acks": "all"})
for i in range(200):
    p.produce("ns", value=b"n%d" % i, partition=i % 4)
assert p.flush(30) == 0
c = Consumer({"bootstrap.servers": bs, "group.id": "ns-g", "auto.offset.reset": "earliest"})
c.subscribe(["ns"])
seen = set(); t = time.time()
while len(seen) < 200 and time.time() - t < 60:
    m = c.poll(0.5)
    if m is not None and not m.error():
        seen.add(m.value())
c.close()
print("seen", len(seen))
sys.exit(0 if len(seen) == 200 else 1)
'''
        r = subprocess.run(["ip", "netns", "exec", names["fe"], "/usr/bin/python3", "-c", script,
                            addrs["fe"] + ":9092"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        logf.flush()
        assert r.returncode == 0, r.stdout[-3000:] + (tmp_path / "procs.log").read_text()[-3000:]
        # each broker announced a local socket in its own namespace: the
        # frontend could not reach it and went by TCP
        assert "(local socket)" not in (tmp_path / "procs.log").read_text()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        logf.close()
