"""The SASL_SSL listener: TLS with the dev CA, SASL PLAIN with the
connection string (username $ConnectionString), as Event Hubs clients do."""
import subprocess
import time

import pytest

from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient

from util import check_roundtrip, consume_all, create_topic, produce_keyed, unique_topic


def sasl_conf(cluster, password=None):
    return {
        "bootstrap.servers": cluster["EDDY_BOOTSTRAP_TLS"],
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "$ConnectionString",
        "sasl.password": cluster["EDDY_CONNECTION_STRING"] if password is None else password,
        "ssl.ca.location": cluster["EDDY_CA"],
    }


def test_kcat_metadata_over_sasl_ssl(cluster):
    c = sasl_conf(cluster)
    args = ["kcat", "-L", "-m", "15", "-b", c["bootstrap.servers"]]
    for k in ("security.protocol", "sasl.mechanisms", "sasl.username", "sasl.password",
              "ssl.ca.location"):
        args += ["-X", "%s=%s" % (k, c[k])]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "broker 0 at %s" % cluster["EDDY_BOOTSTRAP_TLS"] in r.stdout, r.stdout


def test_produce_consume_over_sasl_ssl(cluster):
    conf = sasl_conf(cluster)
    topic = create_topic(cluster.bootstrap, unique_topic("sasl"), 4)
    reports = produce_keyed(conf["bootstrap.servers"], topic, 500, extra=conf)
    consumed = consume_all(conf["bootstrap.servers"], topic, 4, 500, extra=conf)
    check_roundtrip(reports, consumed, 4)


@pytest.mark.parametrize("security", ["plaintext", "sasl_ssl"])
def test_megabyte_requests_roundtrip(cluster, security):
    """1 MiB batches of 8 KiB messages: each produce request is megabytes, read
    by the frontend in large reads past libevent (and, with TLS, decrypted
    from memory); every byte must come back in place."""
    extra = {"batch.size": 1 << 20, "linger.ms": 50, "message.max.bytes": 4 << 20}
    if security == "sasl_ssl":
        extra.update(sasl_conf(cluster))
    bootstrap = extra.get("bootstrap.servers", cluster.bootstrap)
    topic = create_topic(cluster.bootstrap, unique_topic("big-" + security), 2)
    reports = produce_keyed(bootstrap, topic, 3000, value_fmt="value-%06d-%s-" + "x" * 8000,
                            extra=extra)
    consume_extra = {k: v for k, v in extra.items() if k not in ("batch.size", "linger.ms")}
    consumed = consume_all(bootstrap, topic, 2, 3000, extra=consume_extra)
    check_roundtrip(reports, consumed, 2)


def test_wrong_key_is_refused(cluster):
    good = cluster["EDDY_CONNECTION_STRING"]
    bad = good.rsplit("SharedAccessKey=", 1)[0] + "SharedAccessKey=" + "A" * 43 + "="
    errors = []
    conf = sasl_conf(cluster, password=bad)
    conf["error_cb"] = errors.append
    a = AdminClient(conf)
    deadline = time.monotonic() + 20
    auth_codes = (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED)
    listed = None
    while time.monotonic() < deadline and not any(e.code() in auth_codes for e in errors):
        a.poll(0.5)  # serves error_cb
        try:
            listed = a.list_topics(timeout=2)
        except Exception:
            pass
        assert listed is None, "metadata served to a client with a wrong key"
    assert any(e.code() in auth_codes for e in errors), errors
