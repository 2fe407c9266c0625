#!/usr/bin/python3
"""gen-text-seeds.py — write the seeds of the text-input fuzz targets:
corpus/config (frontend and broker JSON, valid and subtly invalid) and
corpus/sas (SASL PLAIN messages with connection strings and SAS tokens,
signed with the keys fuzz_sas.c configures, at its fixed clock)."""
import base64
import hashlib
import hmac
import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "gen-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


FE = {
    "node_id": 0,
    "controller": "127.0.0.1:9010",
    "listeners": [
        {"name": "plain", "listen": "127.0.0.1:9092", "advertised": "127.0.0.1:9092",
         "tls": False, "sasl": False},
        {"name": "sasl_ssl", "listen": "0.0.0.0:9093", "advertised": "eddy.example:9093",
         "tls": True, "sasl": True},
    ],
    "tls": {"cert": "/etc/eddy/server.pem", "key": "/etc/eddy/server.key"},
    "policies": [{"name": "RootManageSharedAccessKey",
                  "key": "c2VjcmV0LWtleS1mb3ItZnV6emluZy0xMjM0NTY3OA==",
                  "rights": ["Manage", "Send", "Listen"]},
                 {"name": "send", "key": "send-key-0123456789abcdef", "rights": ["Send"]}],
    "stats_listen": "127.0.0.1:9094",
    "workers": 2, "max_request_bytes": 104857600, "max_request_bytes_unauth": 65536,
    "max_inflight": 64, "auto_create_topics": True, "request_timeout_ms": 30000,
    "allow_sasl_plaintext": False, "log_level": "info",
}
BR = {"data_dir": "/var/lib/eddy/b0", "listen": "127.0.0.1:9010", "advertised": "b0:9010",
      "controller_role": True, "controller": "127.0.0.1:9010", "id": 0,
      "durability": "sync", "map_size_mb": 1024, "stats_listen": "127.0.0.1:9040",
      "default_partitions": 1, "log_level": "info"}

write("config", "frontend-full.json", json.dumps(FE, indent=1))
write("config", "broker-full.json", json.dumps(BR, indent=1))
write("config", "broker-minimal.json", '{"data_dir":"d","listen":"[::1]:1"}')
small = dict(FE, listeners=[FE["listeners"][0]])
del small["tls"]
write("config", "frontend-plain.json", json.dumps(small))
write("config", "frontend-sasl-plaintext.json",
      json.dumps(dict(small, allow_sasl_plaintext=True,
                      listeners=[dict(FE["listeners"][0], sasl=True)])))
write("config", "frontend-bad-types.json",
      '{"node_id":-1,"controller":5,"listeners":{},"workers":1e99,"max_inflight":"x"}')
write("config", "frontend-dup-key.json", '{"controller":"a:1","controller":"b:2"}')
write("config", "frontend-long-strings.json",
      json.dumps(dict(small, controller="h" * 300 + ":1",
                      listeners=[dict(FE["listeners"][0], name="n" * 40)])))
write("config", "frontend-9-listeners.json",
      json.dumps(dict(small, listeners=[FE["listeners"][0]] * 9)))
write("config", "broker-bad.json", '{"data_dir":"","listen":"nohost","durability":"maybe",'
      '"map_size_mb":-1,"id":2147483648,"log_level":"loud","extra":null}')
write("config", "nested.json", "[" * 64 + "]" * 64)

# --- SASL PLAIN / Event Hubs credentials
KEY = "c2VjcmV0LWtleS1mb3ItZnV6emluZy0xMjM0NTY3OA=="
POLICY = "RootManageSharedAccessKey"
conn = ("Endpoint=sb://eddy.example/;SharedAccessKeyName=%s;SharedAccessKey=%s" % (POLICY, KEY))


def plain(user, password, authz=""):
    return (authz + "\0" + user + "\0" + password).encode()


def token(uri, se, key=KEY, policy=POLICY):
    sr = urllib.parse.quote(uri, safe="")
    sig = base64.b64encode(hmac.new(key.encode(), ("%s\n%d" % (sr, se)).encode(),
                                    hashlib.sha256).digest()).decode()
    return "SharedAccessSignature sr=%s&sig=%s&se=%d&skn=%s" % (
        sr, urllib.parse.quote(sig, safe=""), se, policy)


write("sas", "conn-str", plain("$ConnectionString", conn))
write("sas", "conn-str-entity", plain("$ConnectionString", conn + ";EntityPath=orders"))
write("sas", "conn-str-authzid", plain("$ConnectionString", conn, "$ConnectionString"))
write("sas", "conn-str-wrong-key",
      plain("$ConnectionString", conn.replace(KEY, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZw==")))
write("sas", "token-valid", plain("$ConnectionString", token("sb://eddy.example/", 1800000000)))
write("sas", "token-entity",
      plain("$ConnectionString", token("sb://eddy.example/orders", 1800000000)))
write("sas", "token-expired", plain("$ConnectionString", token("sb://eddy.example/", 1600000000)))
write("sas", "token-send-policy", plain("$ConnectionString",
      token("sb://eddy.example/", 1800000000, "send-key-0123456789abcdef", "send")))
write("sas", "other-user", plain("alice", "secret"))
write("sas", "bare-conn-str", conn)
write("sas", "bare-token", token("sb://eddy.example/", 1800000000))
write("sas", "no-nul", b"$ConnectionString")
