#include "fe_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "netaddr.h"
#include "scram.h"

#define FAIL(...)                                \
    do {                                         \
        snprintf(err, errlen, __VA_ARGS__);      \
        goto fail;                               \
    } while (0)

static int copy_str(char *dst, size_t cap, json_t *v) {
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= cap)
        return -EINVAL;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int load_listener(json_t *j, fe_listener_conf *l, char *err, size_t errlen) {
    const char *key;
    json_t *v;
    memset(l, 0, sizeof *l);
    json_object_foreach(j, key, v) {
        if (!strcmp(key, "name")) {
            if (copy_str(l->name, sizeof l->name, v))
                FAIL("listener name must be a short string");
        } else if (!strcmp(key, "listen")) {
            if (copy_str(l->listen, sizeof l->listen, v))
                FAIL("listener listen must be host:port");
        } else if (!strcmp(key, "advertised")) {
            netaddr a;
            if (!json_is_string(v) || netaddr_parse(json_string_value(v), &a) < 0 || !a.host[0])
                FAIL("listener advertised must be host:port");
            memcpy(l->adv_host, a.host, sizeof l->adv_host);
            l->adv_port = a.port;
        } else if (!strcmp(key, "tls")) {
            if (!json_is_boolean(v))
                FAIL("listener tls must be true or false");
            l->tls = json_is_true(v);
        } else if (!strcmp(key, "sasl")) {
            if (!json_is_boolean(v))
                FAIL("listener sasl must be true or false");
            l->sasl = json_is_true(v);
        } else {
            FAIL("unknown listener key \"%s\"", key);
        }
    }
    if (!l->listen[0])
        FAIL("listener needs \"listen\"");
    netaddr a;
    if (netaddr_parse(l->listen, &a) < 0)
        FAIL("listener listen \"%s\" is not host:port", l->listen);
    if (!l->adv_host[0]) {
        if (!a.host[0] || !strcmp(a.host, "0.0.0.0") || !strcmp(a.host, "::"))
            FAIL("listener %s binds a wildcard address: set \"advertised\"", l->listen);
        memcpy(l->adv_host, a.host, sizeof l->adv_host);
        l->adv_port = a.port;
    }
    if (!l->name[0])
        snprintf(l->name, sizeof l->name, "%s", l->tls ? "tls" : "plain");
    return 0;
fail:
    return -EINVAL;
}

static int load_policy(json_t *j, fe_policy *p, char *err, size_t errlen) {
    const char *key;
    json_t *v;
    memset(p, 0, sizeof *p);
    json_object_foreach(j, key, v) {
        if (!strcmp(key, "name")) {
            if (copy_str(p->name, sizeof p->name, v))
                FAIL("policy name must be a string");
        } else if (!strcmp(key, "key")) {
            if (copy_str(p->key, sizeof p->key, v) || strlen(p->key) < 16)
                FAIL("policy key must be a string of at least 16 characters");
        } else if (!strcmp(key, "rights")) {
            size_t i;
            json_t *r;
            if (!json_is_array(v))
                FAIL("policy rights must be an array");
            json_array_foreach(v, i, r) {
                const char *s = json_string_value(r);
                if (s && !strcmp(s, "Send"))
                    p->rights |= FE_RIGHT_SEND;
                else if (s && !strcmp(s, "Listen"))
                    p->rights |= FE_RIGHT_LISTEN;
                else if (s && !strcmp(s, "Manage"))
                    p->rights |= FE_RIGHT_MANAGE;
                else
                    FAIL("policy right must be Send, Listen or Manage");
            }
        } else {
            FAIL("unknown policy key \"%s\"", key);
        }
    }
    if (!p->name[0] || !p->key[0])
        FAIL("a policy needs name and key");
    return 0;
fail:
    return -EINVAL;
}

static int get_int(json_t *v, long long lo, long long hi, long long *out);

/* "rights": ["Send", "Listen", "Manage"] into fe_right bits. */
static int parse_rights(json_t *v, unsigned *out) {
    size_t i;
    json_t *r;
    if (!json_is_array(v))
        return -EINVAL;
    json_array_foreach(v, i, r) {
        const char *s = json_string_value(r);
        if (s && !strcmp(s, "Send"))
            *out |= FE_RIGHT_SEND;
        else if (s && !strcmp(s, "Listen"))
            *out |= FE_RIGHT_LISTEN;
        else if (s && !strcmp(s, "Manage"))
            *out |= FE_RIGHT_MANAGE;
        else
            return -EINVAL;
    }
    return 0;
}

/* A base64 config value of 1..cap bytes (exactly @p want when non-zero). */
static int get_b64(json_t *v, uint8_t *out, size_t cap, size_t want, size_t *out_len) {
    const char *s = json_string_value(v);
    if (!s || fe_scram_b64_decode(s, strlen(s), out, cap, out_len) < 0 || *out_len == 0 ||
        (want && *out_len != want))
        return -EINVAL;
    return 0;
}

/* One entry of "credentials": {"salt", "iterations", "stored_key", "server_key"}. */
static int load_scram_cred(json_t *j, int mech, fe_scram_cred *cr, char *err, size_t errlen) {
    const char *key;
    json_t *v;
    long long n;
    size_t h = fe_scram_hash_len(mech), len;
    bool salt = false, stored = false, server = false;
    memset(cr, 0, sizeof *cr);
    if (!json_is_object(j))
        FAIL("scram credentials for %s must be an object", fe_scram_mech_name(mech));
    json_object_foreach(j, key, v) {
        if (!strcmp(key, "salt")) {
            if (get_b64(v, cr->salt, sizeof cr->salt, 0, &cr->salt_len))
                FAIL("scram salt must be base64 of 1 to %d bytes", FE_SCRAM_MAX_SALT);
            salt = true;
        } else if (!strcmp(key, "iterations")) {
            if (get_int(v, FE_SCRAM_MIN_ITERATIONS, FE_SCRAM_MAX_ITERATIONS, &n))
                FAIL("scram iterations must be %d .. %d", FE_SCRAM_MIN_ITERATIONS,
                     FE_SCRAM_MAX_ITERATIONS);
            cr->iterations = (uint32_t)n;
        } else if (!strcmp(key, "stored_key")) {
            if (get_b64(v, cr->stored_key, sizeof cr->stored_key, h, &len))
                FAIL("%s stored_key must be base64 of %zu bytes", fe_scram_mech_name(mech), h);
            stored = true;
        } else if (!strcmp(key, "server_key")) {
            if (get_b64(v, cr->server_key, sizeof cr->server_key, h, &len))
                FAIL("%s server_key must be base64 of %zu bytes", fe_scram_mech_name(mech), h);
            server = true;
        } else {
            FAIL("unknown scram credential key \"%s\"", key);
        }
    }
    if (!salt || !stored || !server || !cr->iterations)
        FAIL("%s credentials need salt, iterations, stored_key and server_key",
             fe_scram_mech_name(mech));
    cr->set = true;
    return 0;
fail:
    return -EINVAL;
}

/* A SCRAM user: name, rights, and either "password" (keys derived here,
 * with a fresh random salt, for "mechanisms" or both) or "credentials"
 * (stored keys per mechanism, the password itself nowhere in the file). */
static int load_scram_user(json_t *j, fe_scram_user *u, char *err, size_t errlen) {
    const char *key;
    json_t *v, *password = NULL, *mechs = NULL, *creds = NULL;
    long long iterations = FE_SCRAM_DEFAULT_ITERATIONS;
    bool have_iterations = false;
    memset(u, 0, sizeof *u);
    json_object_foreach(j, key, v) {
        if (!strcmp(key, "name")) {
            if (copy_str(u->name, sizeof u->name, v) || !u->name[0])
                FAIL("scram user name must be a string of 1 to %zu bytes", sizeof u->name - 1);
            for (const unsigned char *p = (const unsigned char *)u->name; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                    FAIL("scram user name must not contain control characters");
        } else if (!strcmp(key, "rights")) {
            if (parse_rights(v, &u->rights))
                FAIL("scram user rights must be an array of Send, Listen, Manage");
        } else if (!strcmp(key, "password")) {
            const char *s = json_string_value(v);
            if (!s || strlen(s) < 8 || strlen(s) > 1024)
                FAIL("scram user password must be a string of 8 to 1024 bytes");
            password = v;
        } else if (!strcmp(key, "iterations")) {
            if (get_int(v, FE_SCRAM_MIN_ITERATIONS, FE_SCRAM_MAX_ITERATIONS, &iterations))
                FAIL("scram iterations must be %d .. %d", FE_SCRAM_MIN_ITERATIONS,
                     FE_SCRAM_MAX_ITERATIONS);
            have_iterations = true;
        } else if (!strcmp(key, "mechanisms")) {
            if (!json_is_array(v) || json_array_size(v) == 0)
                FAIL("scram user mechanisms must be a non-empty array");
            mechs = v;
        } else if (!strcmp(key, "credentials")) {
            if (!json_is_object(v) || json_object_size(v) == 0)
                FAIL("scram user credentials must be an object of mechanisms");
            creds = v;
        } else {
            FAIL("unknown scram user key \"%s\"", key);
        }
    }
    if (!u->name[0])
        FAIL("a scram user needs a name");
    if (!password == !creds)
        FAIL("scram user %s needs exactly one of password and credentials", u->name);
    if (creds) {
        if (mechs || have_iterations)
            FAIL("scram user %s: mechanisms and iterations go with password; "
                 "credentials name their own", u->name);
        json_object_foreach(creds, key, v) {
            int m = fe_scram_mech_by_name(key, strlen(key));
            if (m < 0)
                FAIL("scram user %s: unknown mechanism \"%s\"", u->name, key);
            if (load_scram_cred(v, m, &u->cred[m], err, errlen))
                goto fail_keep;
        }
        return 0;
    }
    bool want[FE_SCRAM_MECHS] = {true, true};
    if (mechs) {
        size_t i;
        json_t *m;
        want[0] = want[1] = false;
        json_array_foreach(mechs, i, m) {
            const char *s = json_string_value(m);
            int k = s ? fe_scram_mech_by_name(s, strlen(s)) : -1;
            if (k < 0)
                FAIL("scram user %s: mechanisms must be SCRAM-SHA-256 and/or SCRAM-SHA-512",
                     u->name);
            want[k] = true;
        }
    }
    const char *pw = json_string_value(password);
    for (int m = 0; m < FE_SCRAM_MECHS; m++) {
        uint8_t salt[FE_SCRAM_GEN_SALT_LEN];
        if (!want[m])
            continue;
        if (RAND_bytes(salt, sizeof salt) != 1 ||
            fe_scram_derive(m, pw, strlen(pw), salt, sizeof salt, (uint32_t)iterations,
                            &u->cred[m]) < 0)
            FAIL("scram user %s: cannot derive keys", u->name);
    }
    return 0;
fail:
fail_keep:
    return -EINVAL;
}

static int get_int(json_t *v, long long lo, long long hi, long long *out) {
    if (!json_is_integer(v))
        return -EINVAL;
    long long n = json_integer_value(v);
    if (n < lo || n > hi)
        return -ERANGE;
    *out = n;
    return 0;
}

int fe_config_load(const char *path, fe_config *c, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return -EINVAL;
    }
    memset(c, 0, sizeof *c);
    c->max_request_bytes = 100u << 20;
    c->max_request_bytes_unauth = 64u << 10;
    c->max_inflight = 64;
    c->max_connections = 10000;
    c->max_connections_per_ip = 1000;
    c->idle_timeout_ms = 0; /* Kafka clients keep idle connections open: never cut them */
    c->auth_timeout_ms = 30000;
    c->auto_create_topics = true;
    c->request_timeout_ms = 30000;
    c->fetch_ahead_bytes = 256ll << 20;
    c->rpc_local = true;

    const char *key;
    json_t *v;
    long long n;
    if (!json_is_object(root))
        FAIL("%s: the top level must be an object", path);
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "node_id")) {
            if (get_int(v, 0, INT32_MAX, &n))
                FAIL("node_id must be an integer >= 0");
            c->node_id = (int32_t)n;
        } else if (!strcmp(key, "controller")) {
            if (copy_str(c->controller, sizeof c->controller, v))
                FAIL("controller must be host:port");
        } else if (!strcmp(key, "listeners")) {
            size_t i;
            json_t *l;
            if (!json_is_array(v) || json_array_size(v) == 0 ||
                json_array_size(v) > FE_MAX_LISTENERS)
                FAIL("listeners must be an array of 1 to %d objects", FE_MAX_LISTENERS);
            json_array_foreach(v, i, l) {
                if (!json_is_object(l) || load_listener(l, &c->listeners[i], err, errlen))
                    goto fail_keep;
            }
            c->n_listeners = (int)json_array_size(v);
        } else if (!strcmp(key, "tls")) {
            if (!json_is_object(v) || copy_str(c->tls_cert, sizeof c->tls_cert, json_object_get(v, "cert")) ||
                copy_str(c->tls_key, sizeof c->tls_key, json_object_get(v, "key")))
                FAIL("tls must be {\"cert\": PATH, \"key\": PATH}");
        } else if (!strcmp(key, "rpc_tls")) {
            if (!json_is_object(v) || json_object_size(v) != 3 ||
                copy_str(c->rpc_tls_ca, sizeof c->rpc_tls_ca, json_object_get(v, "ca")) ||
                copy_str(c->rpc_tls_cert, sizeof c->rpc_tls_cert, json_object_get(v, "cert")) ||
                copy_str(c->rpc_tls_key, sizeof c->rpc_tls_key, json_object_get(v, "key")) ||
                !c->rpc_tls_ca[0] || !c->rpc_tls_cert[0] || !c->rpc_tls_key[0])
                FAIL("rpc_tls must be {\"ca\": PATH, \"cert\": PATH, \"key\": PATH}");
        } else if (!strcmp(key, "policies")) {
            size_t i;
            json_t *p;
            if (!json_is_array(v) || json_array_size(v) > FE_MAX_POLICIES)
                FAIL("policies must be an array of at most %d objects", FE_MAX_POLICIES);
            json_array_foreach(v, i, p) {
                if (!json_is_object(p) || load_policy(p, &c->policies[i], err, errlen))
                    goto fail_keep;
            }
            c->n_policies = (int)json_array_size(v);
        } else if (!strcmp(key, "scram_users")) {
            size_t i;
            json_t *u;
            if (!json_is_array(v) || json_array_size(v) > FE_MAX_SCRAM_USERS)
                FAIL("scram_users must be an array of at most %d objects", FE_MAX_SCRAM_USERS);
            json_array_foreach(v, i, u) {
                if (!json_is_object(u) || load_scram_user(u, &c->scram_users[i], err, errlen))
                    goto fail_keep;
                for (size_t k = 0; k < i; k++)
                    if (!strcmp(c->scram_users[k].name, c->scram_users[i].name))
                        FAIL("scram user %s is defined twice", c->scram_users[i].name);
            }
            c->n_scram_users = (int)json_array_size(v);
        } else if (!strcmp(key, "stats_listen")) {
            if (copy_str(c->stats_listen, sizeof c->stats_listen, v))
                FAIL("stats_listen must be host:port");
        } else if (!strcmp(key, "stats_token")) {
            if (copy_str(c->stats_token, sizeof c->stats_token, v) || !c->stats_token[0])
                FAIL("stats_token must be a non-empty string of at most %zu characters",
                     sizeof c->stats_token - 1);
        } else if (!strcmp(key, "workers")) {
            if (get_int(v, 0, 64, &n))
                FAIL("workers must be 0 (one per core) to 64");
            c->workers = (int)n;
        } else if (!strcmp(key, "max_request_bytes")) {
            if (get_int(v, 1024, 1LL << 30, &n))
                FAIL("max_request_bytes must be 1024 .. 1 GiB");
            c->max_request_bytes = (size_t)n;
        } else if (!strcmp(key, "max_request_bytes_unauth")) {
            if (get_int(v, 1024, 1 << 20, &n))
                FAIL("max_request_bytes_unauth must be 1024 .. 1 MiB");
            c->max_request_bytes_unauth = (size_t)n;
        } else if (!strcmp(key, "rpc_local")) {
            if (!json_is_boolean(v))
                FAIL("rpc_local must be true or false");
            c->rpc_local = json_is_true(v);
        } else if (!strcmp(key, "fetch_ahead_bytes")) {
            if (get_int(v, 0, 1LL << 40, &n))
                FAIL("fetch_ahead_bytes must be 0 .. 1 TiB");
            c->fetch_ahead_bytes = n;
        } else if (!strcmp(key, "max_inflight")) {
            if (get_int(v, 1, 1024, &n))
                FAIL("max_inflight must be 1 .. 1024");
            c->max_inflight = (int)n;
        } else if (!strcmp(key, "max_connections")) {
            if (get_int(v, 1, 1000000, &n))
                FAIL("max_connections must be 1 .. 1000000");
            c->max_connections = (int)n;
        } else if (!strcmp(key, "max_connections_per_ip")) {
            if (get_int(v, 0, 1000000, &n))
                FAIL("max_connections_per_ip must be 0 (no limit) .. 1000000");
            c->max_connections_per_ip = (int)n;
        } else if (!strcmp(key, "idle_timeout_ms")) {
            if (get_int(v, 0, 86400000, &n) || (n > 0 && n < 100))
                FAIL("idle_timeout_ms must be 0 (never) or 100 .. 86400000");
            c->idle_timeout_ms = (int)n;
        } else if (!strcmp(key, "auth_timeout_ms")) {
            if (get_int(v, 100, 600000, &n))
                FAIL("auth_timeout_ms must be 100 .. 600000");
            c->auth_timeout_ms = (int)n;
        } else if (!strcmp(key, "auto_create_topics")) {
            if (!json_is_boolean(v))
                FAIL("auto_create_topics must be true or false");
            c->auto_create_topics = json_is_true(v);
        } else if (!strcmp(key, "allow_sasl_plaintext")) {
            if (!json_is_boolean(v))
                FAIL("allow_sasl_plaintext must be true or false");
            c->allow_sasl_plaintext = json_is_true(v);
        } else if (!strcmp(key, "request_timeout_ms")) {
            if (get_int(v, 100, 600000, &n))
                FAIL("request_timeout_ms must be 100 .. 600000");
            c->request_timeout_ms = (int)n;
        } else if (!strcmp(key, "log_level")) {
            if (!json_is_string(v))
                FAIL("log_level must be a string");
        } else {
            FAIL("%s: unknown key \"%s\"", path, key);
        }
    }
    if (!c->controller[0])
        FAIL("%s: \"controller\" (host:port of the controller broker) is required", path);
    if (!c->n_listeners)
        FAIL("%s: at least one listener is required", path);
    for (int i = 0; i < c->n_listeners; i++) {
        if (c->listeners[i].tls && (!c->tls_cert[0] || !c->tls_key[0]))
            FAIL("listener %s uses TLS: set tls.cert and tls.key", c->listeners[i].name);
        if (c->listeners[i].sasl && !c->listeners[i].tls && !c->allow_sasl_plaintext)
            FAIL("listener %s: SASL without TLS needs \"allow_sasl_plaintext\": true",
                 c->listeners[i].name);
        if (c->listeners[i].sasl && c->n_policies == 0 && c->n_scram_users == 0)
            FAIL("listener %s uses SASL: define at least one policy or scram user",
                 c->listeners[i].name);
    }
    /* a principal names one identity: a SCRAM user is not also a policy */
    for (int i = 0; i < c->n_scram_users; i++)
        for (int k = 0; k < c->n_policies; k++)
            if (!strcmp(c->scram_users[i].name, c->policies[k].name))
                FAIL("scram user %s has the name of a policy", c->scram_users[i].name);
    if (RAND_bytes(c->scram_secret, sizeof c->scram_secret) != 1)
        FAIL("cannot get random bytes for SCRAM");
    json_decref(root);
    return 0;
fail:
fail_keep:
    json_decref(root);
    return -EINVAL;
}
