"""Same-host RPC over the brokers' local sockets (common/rpc_local.h): the
frontend of a local cluster reaches its brokers by their abstract unix
sockets; a frontend told not to (rpc_local false) reaches them by TCP; both
read the same records through a real client, large batches included (those
leave the broker by sendfile(), held until the frontend has read them)."""
import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import REPO, free_port_base
from util import check_roundtrip, consume_all, create_topic, produce_keyed, unique_topic, wait_for

pytest.importorskip("confluent_kafka")

BUILD = os.path.join(REPO, os.environ.get("EDDY_BUILD_DIR", "build"))  # absolute stays absolute
PARTITIONS = 4
N = 4000  # ~1 KiB values in 256 KiB batches: sendfile-sized (32 KiB and more)


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def transports(stats_url):
    return {b["id"]: b["rpc_transport"] for b in get_json(stats_url)["brokers"]}


def sendfile_bytes(cluster):
    base = int(cluster["EDDY_PORT_BASE"])
    total = 0
    for i in range(int(cluster["EDDY_BROKERS"])):
        total += get_json("http://127.0.0.1:%d/stats" % (base + 40 + i))["reads"]["sendfile_bytes"]
    return total


@pytest.fixture
def tcp_frontend(cluster, tmp_path):
    """A second frontend of the session cluster with rpc_local false."""
    with open(os.path.join(cluster.dir, "frontend.json")) as f:
        conf = json.load(f)
    base = free_port_base()
    conf["node_id"] = 7
    conf["listeners"] = [{"name": "plain", "listen": "127.0.0.1:%d" % base,
                          "advertised": "127.0.0.1:%d" % base, "tls": False, "sasl": False}]
    conf["stats_listen"] = "127.0.0.1:%d" % (base + 2)
    conf["rpc_local"] = False
    path = tmp_path / "frontend-tcp.json"
    path.write_text(json.dumps(conf))
    log = open(tmp_path / "frontend-tcp.log", "w")
    p = subprocess.Popen([os.path.join(BUILD, "frontend", "eddy-frontend"), "--config", str(path)],
                         stdout=log, stderr=subprocess.STDOUT)
    stats_url = "http://127.0.0.1:%d/stats" % (base + 2)
    try:
        def up():
            try:
                return get_json(stats_url)["brokers"]
            except OSError:
                return None
        wait_for(up, 30, what="the second frontend's stats")
        yield "127.0.0.1:%d" % base, stats_url
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def test_local_and_tcp_frontends_read_the_same(cluster, tcp_frontend):
    topic = create_topic(cluster.bootstrap, unique_topic("local"), PARTITIONS)
    reports = produce_keyed(cluster.bootstrap, topic, N, value_fmt="%08d-%s-" + "v" * 1000,
                            extra={"linger.ms": 50, "batch.size": 262144})
    sent0 = sendfile_bytes(cluster)
    check_roundtrip(reports, consume_all(cluster.bootstrap, topic, PARTITIONS, N), PARTITIONS)
    # the frontend of the local cluster talks to every broker over its
    # local socket, and the large batches went by sendfile() over it
    local = transports(cluster["EDDY_STATS_URL"])
    assert local and set(local.values()) == {"local"}, local
    assert sendfile_bytes(cluster) - sent0 > N * 1000 // 2

    bootstrap, stats_url = tcp_frontend
    check_roundtrip(reports, consume_all(bootstrap, topic, PARTITIONS, N), PARTITIONS)
    tcp = transports(stats_url)
    assert set(tcp) == set(local) and set(tcp.values()) == {"tcp"}, tcp
