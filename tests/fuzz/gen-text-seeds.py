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

# --- SASL SCRAM (fuzz_scram.c): "<client-first>[\n<client-final>]", for the
# users fuzz_scram.c configures (password "pencil", RFC 7677 salt, 4096
# iterations) and its fixed server nonce. The full exchanges carry a valid
# proof, so they replay the success path.
SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
SNONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
CNONCE = "rOprNGfwEbeRWgbNEkqO"


def scram_exchange(hname, user, gs2="n,,", cnonce=CNONCE, password="pencil", cfinal_nonce=None):
    first_bare = "n=%s,r=%s" % (user, cnonce)
    server_first = "r=%s%s,s=%s,i=4096" % (cnonce, SNONCE, base64.b64encode(SALT).decode())
    nonce = cfinal_nonce if cfinal_nonce is not None else cnonce + SNONCE
    without_proof = "c=%s,r=%s" % (base64.b64encode(gs2.encode()).decode(), nonce)
    salted = hashlib.pbkdf2_hmac(hname, password.encode(), SALT, 4096)
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored = hashlib.new(hname, client_key).digest()
    auth = ",".join([first_bare, server_first, without_proof]).encode()
    sig = hmac.new(stored, auth, hname).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    return "%s%s\n%s,p=%s" % (gs2, first_bare, without_proof, base64.b64encode(proof).decode())


# RFC 7677 section 3: client-first and the client-final with its proof
write("scram", "rfc7677-client-first", "n,,n=user,r=" + CNONCE)
write("scram", "rfc7677-exchange", scram_exchange("sha256", "user"))
assert scram_exchange("sha256", "user").endswith(
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
write("scram", "sha512-exchange", scram_exchange("sha512", "user"))
write("scram", "escaped-user-exchange", scram_exchange("sha256", "a=2Cb=3Dc"))
write("scram", "authzid-exchange", scram_exchange("sha512", "user", gs2="y,a=user,"))
# librdkafka's client-final nonce: cnonce followed by the whole nonce
write("scram", "rdkafka-nonce-exchange",
      scram_exchange("sha256", "user", cfinal_nonce=CNONCE + CNONCE + SNONCE))
write("scram", "wrong-password-exchange", scram_exchange("sha256", "user", password="pen"))
write("scram", "unknown-user-exchange", scram_exchange("sha256", "mallory"))
# a client-final alone (the target also runs it after a fixed client-first)
write("scram", "client-final-only", scram_exchange("sha256", "user").split("\n")[1])
# malformed or refused client-first messages
write("scram", "channel-binding", "p=tls-server-end-point,,n=user,r=" + CNONCE)
write("scram", "mandatory-ext", "n,,m=x,n=user,r=" + CNONCE)
write("scram", "tokenauth", "n,,n=user,r=%s,tokenauth=true" % CNONCE)
write("scram", "extension-ok", "n,,n=user,r=%s,tokenauth=false,ab=cd" % CNONCE)
write("scram", "bad-escape", "n,,n=us=2Xer,r=" + CNONCE)
write("scram", "authzid-other", "n,a=admin,n=user,r=" + CNONCE)
write("scram", "no-nonce", "n,,n=user,r=")
write("scram", "nonce-comma-end", "n,,n=user,r=abc,")
write("scram", "long-user", "n,,n=%s,r=%s" % ("u" * 200, CNONCE))
write("scram", "too-long", "n,,n=user,r=" + "n" * 1100)
write("scram", "control-char", "n,,n=us\x01er,r=" + CNONCE)
write("scram", "truncated", "n,")
# malformed client-finals after a valid client-first
ex = scram_exchange("sha256", "user")
write("scram", "final-bad-cbind", ex.replace("c=biws", "c=eSws"))
write("scram", "final-noncanonical-b64", ex.replace("c=biws", "c=biwt"))
write("scram", "final-short-proof", ex.split(",p=")[0] + ",p=AAAA")
write("scram", "final-data-after-proof", ex + ",x=1")
write("scram", "final-no-proof", ex.split(",p=")[0])
write("scram", "final-wrong-nonce", ex.replace(SNONCE + ",p=", "x,p="))
