/* br_config.c — load and validate the broker's JSON config once, so that the
 * rest of the broker reads plain fields. */
#include "br_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void br_config_defaults(br_config *c) {
    memset(c, 0, sizeof *c);
    c->id = -1;
    c->sync = true;
    c->map_size_mb = 8192;
    c->default_partitions = 1;
    c->auto_rebalance = true;
    c->rpc_local = true;
    c->log_level = EDDY_LOG_INFO;
}

void br_config_free(br_config *c) {
    if (!c)
        return;
    free(c->data_dir);
    free(c->listen);
    free(c->advertised);
    free(c->controller);
    free(c->stats_listen);
    free(c->stats_token);
    free(c->rpc_tls_ca);
    free(c->rpc_tls_cert);
    free(c->rpc_tls_key);
    br_config_defaults(c);
}

static int dup_opt(char **dst, const char *src) {
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

int br_config_copy(br_config *dst, const br_config *src) {
    *dst = *src;
    int r = 0;
    r |= dup_opt(&dst->data_dir, src->data_dir);
    r |= dup_opt(&dst->listen, src->listen);
    r |= dup_opt(&dst->advertised, src->advertised);
    r |= dup_opt(&dst->controller, src->controller);
    r |= dup_opt(&dst->stats_listen, src->stats_listen);
    r |= dup_opt(&dst->stats_token, src->stats_token);
    r |= dup_opt(&dst->rpc_tls_ca, src->rpc_tls_ca);
    r |= dup_opt(&dst->rpc_tls_cert, src->rpc_tls_cert);
    r |= dup_opt(&dst->rpc_tls_key, src->rpc_tls_key);
    return r ? -ENOMEM : 0;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int br_config_split_addr(const char *addr, char *host, size_t hostlen, int *port) {
    if (!addr)
        return -EINVAL;
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr)
        return -EINVAL;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    /* [v6]:port: the brackets are not part of the host */
    if (h[0] == '[') {
        if (hl < 2 || h[hl - 1] != ']')
            return -EINVAL;
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return -EINVAL;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

static bool wildcard_host(const char *addr) {
    char host[256];
    int port;
    if (br_config_split_addr(addr, host, sizeof host, &port) < 0)
        return false;
    return !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
}

/* Copy a string value; NULL result means OOM (type checked by the caller). */
static int take_string(json_t *v, const char *key, char **dst, char *err, size_t errlen) {
    if (!json_is_string(v) || json_string_length(v) == 0)
        return fail(err, errlen, "config: \"%s\" must be a non-empty string", key);
    char *s = strdup(json_string_value(v));
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

static int take_addr(json_t *v, const char *key, char **dst, char *err, size_t errlen) {
    int r = take_string(v, key, dst, err, errlen);
    if (r < 0)
        return r;
    char host[256];
    int port;
    if (br_config_split_addr(*dst, host, sizeof host, &port) < 0)
        return fail(err, errlen, "config: \"%s\" must be host:port, got \"%s\"", key, *dst);
    return 0;
}

static int take_int(json_t *v, const char *key, long long lo, long long hi, long long *out,
                    char *err, size_t errlen) {
    if (!json_is_integer(v))
        return fail(err, errlen, "config: \"%s\" must be an integer", key);
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return fail(err, errlen, "config: \"%s\" must be between %lld and %lld, got %lld", key,
                    lo, hi, x);
    *out = x;
    return 0;
}

static int apply_key(const char *key, json_t *v, br_config *c, char *err, size_t errlen) {
    long long x = 0; /* set by take_int before any use; gcc cannot tell */
    int r;
    if (!strcmp(key, "data_dir"))
        return take_string(v, key, &c->data_dir, err, errlen);
    if (!strcmp(key, "listen"))
        return take_addr(v, key, &c->listen, err, errlen);
    if (!strcmp(key, "advertised"))
        return take_addr(v, key, &c->advertised, err, errlen);
    if (!strcmp(key, "controller"))
        return take_addr(v, key, &c->controller, err, errlen);
    if (!strcmp(key, "stats_listen"))
        return take_addr(v, key, &c->stats_listen, err, errlen);
    if (!strcmp(key, "stats_token"))
        return take_string(v, key, &c->stats_token, err, errlen);
    if (!strcmp(key, "rpc_tls")) {
        if (!json_is_object(v))
            return fail(err, errlen, "config: \"rpc_tls\" must be an object {\"ca\", \"cert\", \"key\"}");
        const char *k2;
        json_t *v2;
        json_object_foreach(v, k2, v2) {
            char **dst = !strcmp(k2, "ca")     ? &c->rpc_tls_ca
                         : !strcmp(k2, "cert") ? &c->rpc_tls_cert
                         : !strcmp(k2, "key")  ? &c->rpc_tls_key
                                               : NULL;
            if (!dst)
                return fail(err, errlen, "config: unknown key \"rpc_tls.%s\"", k2);
            if (!json_is_string(v2) || json_string_length(v2) == 0)
                return fail(err, errlen, "config: \"rpc_tls.%s\" must be a non-empty string", k2);
            if ((r = take_string(v2, k2, dst, err, errlen)) < 0)
                return r;
        }
        if (!c->rpc_tls_ca || !c->rpc_tls_cert || !c->rpc_tls_key)
            return fail(err, errlen, "config: \"rpc_tls\" needs \"ca\", \"cert\" and \"key\"");
        return 0;
    }
    if (!strcmp(key, "controller_role")) {
        if (!json_is_boolean(v))
            return fail(err, errlen, "config: \"%s\" must be true or false", key);
        c->controller_role = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "auto_rebalance")) {
        if (!json_is_boolean(v))
            return fail(err, errlen, "config: \"%s\" must be true or false", key);
        c->auto_rebalance = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "rpc_local")) {
        if (!json_is_boolean(v))
            return fail(err, errlen, "config: \"%s\" must be true or false", key);
        c->rpc_local = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "id")) {
        if ((r = take_int(v, key, -1, INT32_MAX, &x, err, errlen)) < 0)
            return r;
        c->id = (int32_t)x;
        return 0;
    }
    if (!strcmp(key, "map_size_mb")) {
        /* 16 MiB floor: below that LMDB fills up at the first real load */
        if ((r = take_int(v, key, 16, (long long)1 << 30, &x, err, errlen)) < 0)
            return r;
        c->map_size_mb = (uint64_t)x;
        return 0;
    }
    if (!strcmp(key, "default_partitions")) {
        if ((r = take_int(v, key, 1, 10000, &x, err, errlen)) < 0)
            return r;
        c->default_partitions = (int32_t)x;
        return 0;
    }
    if (!strcmp(key, "durability")) {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, "sync"))
            c->sync = true;
        else if (s && !strcmp(s, "nosync"))
            c->sync = false;
        else
            return fail(err, errlen, "config: \"durability\" must be \"sync\" or \"nosync\"");
        return 0;
    }
    if (!strcmp(key, "log_level")) {
        static const char *names[] = {"debug", "info", "warn", "error"};
        const char *s = json_string_value(v);
        for (int i = 0; s && i < 4; i++) {
            if (!strcmp(s, names[i])) {
                c->log_level = (enum eddy_log_level)i;
                return 0;
            }
        }
        return fail(err, errlen, "config: \"log_level\" must be debug, info, warn or error");
    }
    return fail(err, errlen, "config: unknown key \"%s\"", key);
}

int br_config_parse(const char *json, br_config *c, char *err, size_t errlen) {
    br_config_defaults(c);
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(err, errlen, "config: line %d: %s", jerr.line, jerr.text);
    int r = 0;
    if (!json_is_object(root)) {
        r = fail(err, errlen, "config: the top level must be an object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if ((r = apply_key(key, v, c, err, errlen)) < 0)
            goto out;
    }
    if (!c->data_dir) {
        r = fail(err, errlen, "config: \"data_dir\" is required");
        goto out;
    }
    if (!c->listen) {
        r = fail(err, errlen, "config: \"listen\" is required");
        goto out;
    }
    if (!c->advertised) {
        /* a wildcard cannot be dialled by others */
        if (wildcard_host(c->listen)) {
            r = fail(err, errlen, "config: \"advertised\" is required when \"listen\" is %s",
                     c->listen);
            goto out;
        }
        if (!(c->advertised = strdup(c->listen))) {
            r = -ENOMEM;
            goto out;
        }
    } else if (wildcard_host(c->advertised)) {
        r = fail(err, errlen, "config: \"advertised\" cannot be a wildcard address");
        goto out;
    }
    if (!c->controller_role && !c->controller) {
        r = fail(err, errlen, "config: \"controller\" is required unless \"controller_role\" is true");
        goto out;
    }
out:
    json_decref(root);
    return r;
}

int br_config_load(const char *path, br_config *c, char *err, size_t errlen) {
    br_config_defaults(c);
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        fail(err, errlen, "config: cannot open %s: %s", path, strerror(e));
        return -e;
    }
    /* config files are small; cap them so a wrong path cannot eat memory */
    enum { MAX_CONFIG = 1 << 20 };
    char *text = malloc(MAX_CONFIG + 1);
    if (!text) {
        fclose(f);
        return -ENOMEM;
    }
    size_t n = fread(text, 1, MAX_CONFIG + 1, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || n > MAX_CONFIG) {
        free(text);
        return fail(err, errlen, "config: %s: %s", path, rerr ? "read error" : "file too large");
    }
    text[n] = '\0';
    int r = br_config_parse(text, c, err, errlen);
    free(text);
    return r;
}
