#include "fe_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "netaddr.h"

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
    c->auto_create_topics = true;
    c->request_timeout_ms = 30000;

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
        } else if (!strcmp(key, "stats_listen")) {
            if (copy_str(c->stats_listen, sizeof c->stats_listen, v))
                FAIL("stats_listen must be host:port");
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
        } else if (!strcmp(key, "max_inflight")) {
            if (get_int(v, 1, 1024, &n))
                FAIL("max_inflight must be 1 .. 1024");
            c->max_inflight = (int)n;
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
        if (c->listeners[i].sasl && c->n_policies == 0)
            FAIL("listener %s uses SASL: define at least one policy", c->listeners[i].name);
    }
    json_decref(root);
    return 0;
fail:
fail_keep:
    json_decref(root);
    return -EINVAL;
}
