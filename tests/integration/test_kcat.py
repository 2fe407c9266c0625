"""kcat (librdkafka's command-line client) against a real local Eddy cluster."""
import collections
import re
import subprocess
import uuid

from util import create_topic, unique_topic

PARTITIONS = 8
N = 1000


def kcat(*args, stdin=None, timeout=60):
    r = subprocess.run(["kcat", *args], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    assert r.returncode == 0, "kcat %s failed (%d):\n%s" % (" ".join(args), r.returncode, r.stderr)
    return r


def test_kcat_metadata_produce_consume(cluster):
    bs = cluster.bootstrap
    topic = create_topic(bs, unique_topic("kcat"), PARTITIONS)

    md = kcat("-b", bs, "-L", "-t", topic, "-m", "15").stdout
    assert re.search(r"^\s*1 brokers:\s*$", md, re.M), md
    assert re.search(r"^\s*broker 0 at %s\b" % re.escape(bs), md, re.M), md
    assert re.search(r'^\s*topic "%s" with %d partitions:' % (re.escape(topic), PARTITIONS), md, re.M), md
    leaders = re.findall(r"partition (\d+), leader (-?\d+)", md)
    assert sorted(int(p) for p, _ in leaders) == list(range(PARTITIONS)), md
    assert all(int(l) == 0 for _, l in leaders), md

    salt = uuid.uuid4().hex[:8]
    lines = ["key-%04d:value-%04d-%s" % (i, i, salt) for i in range(N)]
    kcat("-b", bs, "-P", "-t", topic, "-K:", "-X", "acks=all", stdin="\n".join(lines) + "\n")

    out = kcat("-b", bs, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-K:",
               "-X", "fetch.wait.max.ms=100").stdout
    got = [l for l in out.split("\n") if l]
    assert collections.Counter(got) == collections.Counter(lines), (
        "got %d lines, expected %d" % (len(got), len(lines)))
