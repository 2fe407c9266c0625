"""acks=all + durability sync: acknowledged messages survive SIGKILL of
every broker."""
import os
import signal

from util import check_roundtrip, consume_all, create_topic, produce_keyed, unique_topic, wait_for

PARTITIONS = 8
N = 5000


def _gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state in ("Z", "X")
    except FileNotFoundError:
        return True


def test_acked_messages_survive_sigkill(own_cluster):
    c = own_cluster
    assert c["EDDY_DURABILITY"] == "sync"
    bs = c.bootstrap
    topic = create_topic(bs, unique_topic("dur"), PARTITIONS)
    reports = produce_keyed(bs, topic, N)

    brokers = c.pids("broker-")
    assert len(brokers) == int(c["EDDY_BROKERS"]) >= 2, brokers
    for pid in brokers.values():
        os.kill(pid, signal.SIGKILL)
    for name, pid in brokers.items():
        wait_for(lambda: _gone(pid), 10, what="%s (pid %d) to die" % (name, pid))

    for i in sorted(int(n.split("-")[1]) for n in brokers):  # controller (0) first
        r = c.run("restart-broker", "--index", str(i))
        assert r.returncode == 0, r.stdout

    consumed = consume_all(bs, topic, PARTITIONS, N, timeout=120)
    check_roundtrip(reports, consumed, PARTITIONS)
