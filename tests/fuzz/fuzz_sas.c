/* fuzz_sas.c — SASL PLAIN messages, Event Hubs connection strings and SAS
 * tokens (frontend/sas.h), checked against a fixed set of policies.
 *
 * Input: the SaslAuthenticate auth_bytes as a client sends them. Every input
 * goes through fe_sas_plain_split and fe_sas_verify_plain, and, taken as a
 * bare password, fe_sas_verify_password / _conn_str / _token. Checks that
 * the result is one of the documented codes, that a failure always comes
 * with a reason and a success with a policy from the config. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fe_config.h"
#include "fuzz.h"
#include "sas.h"

/* 2023-11-14T22:13:20Z: fixed, so that an input's outcome never changes */
#define FZ_NOW_MS 1700000000000LL

static fe_config conf;

int eddy_fuzz_init(void) {
    memset(&conf, 0, sizeof conf);
    static const struct {
        const char *name, *key;
        unsigned rights;
    } pol[] = {
        {"RootManageSharedAccessKey", "c2VjcmV0LWtleS1mb3ItZnV6emluZy0xMjM0NTY3OA==",
         FE_RIGHT_SEND | FE_RIGHT_LISTEN | FE_RIGHT_MANAGE},
        {"send", "send-key-0123456789abcdef", FE_RIGHT_SEND},
        {"listen", "listen-key-0123456789abcdef", FE_RIGHT_LISTEN},
    };
    for (size_t i = 0; i < sizeof pol / sizeof pol[0]; i++) {
        snprintf(conf.policies[i].name, sizeof conf.policies[i].name, "%s", pol[i].name);
        snprintf(conf.policies[i].key, sizeof conf.policies[i].key, "%s", pol[i].key);
        conf.policies[i].rights = pol[i].rights;
    }
    conf.n_policies = (int)(sizeof pol / sizeof pol[0]);
    return 0;
}

static void check(int r, const fe_sas_identity *id, const char *why) {
    FZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG || r == -EACCES || r == -EKEYEXPIRED ||
             r == -EIO /* HMAC failure (OOM in OpenSSL) */);
    if (r == 0) {
        FZ_CHECK(id->policy >= &conf.policies[0] && id->policy < &conf.policies[conf.n_policies]);
        FZ_CHECK(memchr(id->entity_path, '\0', sizeof id->entity_path) != NULL);
    } else {
        FZ_CHECK(why != NULL && why[0] != '\0');
    }
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    const char *user = NULL, *pass = NULL, *why = NULL;
    size_t ul = 0, pl = 0;
    if (fe_sas_plain_split(data, size, &user, &ul, &pass, &pl, &why) == 0) {
        FZ_CHECK(user >= (const char *)data && user + ul <= (const char *)data + size);
        FZ_CHECK(pass >= (const char *)data && pass + pl <= (const char *)data + size);
    }
    /* the call and the check are separate statements: `why` must be read
     * after the call has set it */
    fe_sas_identity id;
    int r;
    memset(&id, 0, sizeof id);
    why = NULL;
    r = fe_sas_verify_plain(&conf, data, size, FZ_NOW_MS, &id, &why);
    check(r, &id, why);

    const char *s = (const char *)data;
    memset(&id, 0, sizeof id);
    why = NULL;
    r = fe_sas_verify_password(&conf, s, size, FZ_NOW_MS, &id, &why);
    check(r, &id, why);
    memset(&id, 0, sizeof id);
    why = NULL;
    r = fe_sas_verify_conn_str(&conf, s, size, &id, &why);
    check(r, &id, why);
    memset(&id, 0, sizeof id);
    why = NULL;
    r = fe_sas_verify_token(&conf, s, size, FZ_NOW_MS, &id, &why);
    check(r, &id, why);
    return 0;
}
