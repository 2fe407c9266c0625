/* sas.c — SASL PLAIN, connection strings and SAS tokens (see sas.h).
 *
 * All parsing works on (pointer, length) views and never reads past them;
 * decoded copies go into fixed stack buffers with explicit caps. Keys are
 * compared through their SHA-256 digests with CRYPTO_memcmp, so neither the
 * bytes nor the length of a policy key leak through timing. */
#include "sas.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "kafka_proto.h"

/* A view of untrusted bytes. */
typedef struct sv {
    const char *p;
    size_t n;
} sv;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static sv sv_trim(sv v) {
    while (v.n && is_space(v.p[0])) {
        v.p++;
        v.n--;
    }
    while (v.n && is_space(v.p[v.n - 1]))
        v.n--;
    return v;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Case-insensitive equality of a view and a literal. */
static bool sv_ieq(sv v, const char *lit) {
    size_t n = strlen(lit);
    if (v.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(v.p[i]) != lower(lit[i]))
            return false;
    return true;
}

/* Case-insensitive prefix test; on a match advance @p v past the prefix. */
static bool sv_iprefix(sv *v, const char *lit) {
    size_t n = strlen(lit);
    if (v->n < n || !sv_ieq((sv){v->p, n}, lit))
        return false;
    v->p += n;
    v->n -= n;
    return true;
}

static bool valid_topic(sv t) { return kafka_topic_name_valid(t.p, t.n); }

static void copy_topic(char dst[256], sv t) {
    /* valid_topic() bounded t.n to KAFKA_TOPIC_NAME_MAX */
    memcpy(dst, t.p, t.n);
    dst[t.n] = '\0';
}

/* A resource URI: [scheme://]host[/[entity[/]]] with scheme sb, https or
 * amqps (the forms Event Hubs SDKs sign). @p entity gets the topic, or an
 * empty view for the whole namespace. The host is not checked against our
 * own name: a frontend may sit behind any DNS name or balancer. */
static int parse_resource(sv uri, bool need_sb, sv *entity) {
    bool had_scheme = sv_iprefix(&uri, "sb://");
    if (!had_scheme && !need_sb)
        had_scheme = sv_iprefix(&uri, "https://") || sv_iprefix(&uri, "amqps://");
    if (need_sb && !had_scheme)
        return -EINVAL;
    const char *slash = memchr(uri.p, '/', uri.n);
    size_t host_len = slash ? (size_t)(slash - uri.p) : uri.n;
    if (host_len == 0)
        return -EINVAL;
    for (size_t i = 0; i < host_len; i++)
        if ((unsigned char)uri.p[i] <= ' ' || uri.p[i] == 0x7f)
            return -EINVAL;
    *entity = (sv){"", 0};
    if (!slash)
        return 0;
    sv path = {slash + 1, uri.n - host_len - 1};
    if (path.n && path.p[path.n - 1] == '/')
        path.n--;
    if (path.n == 0)
        return 0;
    /* one segment only: publishers/ and consumergroups/ sub-scopes of
     * Event Hubs have no Kafka meaning */
    if (!valid_topic(path))
        return -EINVAL;
    *entity = path;
    return 0;
}

static const fe_policy *find_policy(const fe_config *conf, sv name) {
    for (int i = 0; i < conf->n_policies; i++) {
        const fe_policy *p = &conf->policies[i];
        if (strlen(p->name) == name.n && memcmp(p->name, name.p, name.n) == 0)
            return p;
    }
    return NULL;
}

/* Constant-time key check: compare digests, so lengths do not leak either. */
static bool key_matches(const fe_policy *p, sv key) {
    uint8_t a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)key.p, key.n, a);
    SHA256((const uint8_t *)p->key, strlen(p->key), b);
    bool eq = CRYPTO_memcmp(a, b, sizeof a) == 0;
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return eq;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode @p in into @p out (cap bytes). '+' stays '+': it is a
 * base64 character in sig, and no valid resource or policy has a space.
 * A decoded NUL or control byte is refused. */
static int url_decode(sv in, char *out, size_t cap, size_t *out_len) {
    size_t o = 0;
    for (size_t i = 0; i < in.n; i++) {
        char c = in.p[i];
        if (c == '%') {
            if (in.n - i < 3)
                return -EINVAL;
            int hi = hexval(in.p[i + 1]), lo = hexval(in.p[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if ((unsigned char)c < ' ' || c == 0x7f)
            return -EINVAL;
        if (o == cap)
            return -E2BIG;
        out[o++] = c;
    }
    *out_len = o;
    return 0;
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict standard base64 with padding into @p out (cap bytes). */
static int b64_decode(sv in, uint8_t *out, size_t cap, size_t *out_len) {
    if (in.n == 0 || in.n % 4)
        return -EINVAL;
    size_t o = 0;
    for (size_t i = 0; i < in.n; i += 4) {
        bool last = i + 4 == in.n;
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in.p[i + (size_t)k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val(c)) < 0) {
                return -EINVAL; /* '=' in the middle, or a non-base64 byte */
            }
        }
        uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        size_t take = 3 - (size_t)pad;
        if (o + take > cap)
            return -E2BIG;
        out[o++] = (uint8_t)(q >> 16);
        if (take > 1)
            out[o++] = (uint8_t)(q >> 8);
        if (take > 2)
            out[o++] = (uint8_t)q;
    }
    *out_len = o;
    return 0;
}

int fe_sas_plain_split(const uint8_t *msg, size_t len, const char **user, size_t *user_len,
                       const char **pass, size_t *pass_len, const char **why) {
    const uint8_t *nul1 = len ? memchr(msg, 0, len) : NULL;
    const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, len - (size_t)(nul1 + 1 - msg)) : NULL;
    if (!nul2) {
        *why = "malformed SASL PLAIN message";
        return -EINVAL;
    }
    size_t authz_len = (size_t)(nul1 - msg);
    size_t u_len = (size_t)(nul2 - nul1 - 1);
    size_t p_len = len - (size_t)(nul2 + 1 - msg);
    if (memchr(nul2 + 1, 0, p_len)) {
        *why = "malformed SASL PLAIN message";
        return -EINVAL;
    }
    if (u_len == 0 || p_len == 0) {
        *why = "SASL PLAIN username and password must not be empty";
        return -EINVAL;
    }
    if (authz_len && (authz_len != u_len || memcmp(msg, nul1 + 1, u_len))) {
        *why = "SASL PLAIN authorization id differs from the username";
        return -EINVAL;
    }
    *user = (const char *)(nul1 + 1);
    *user_len = u_len;
    *pass = (const char *)(nul2 + 1);
    *pass_len = p_len;
    return 0;
}

int fe_sas_verify_conn_str(const fe_config *conf, const char *s, size_t len,
                           fe_sas_identity *out, const char **why) {
    if (len > FE_SAS_MAX_LEN) {
        *why = "connection string too long";
        return -E2BIG;
    }
    sv endpoint = {0}, key_name = {0}, key = {0}, entity = {0};
    bool has_ep = false, has_kn = false, has_key = false, has_entity = false;
    sv rest = {s, len};
    while (true) {
        const char *semi = rest.n ? memchr(rest.p, ';', rest.n) : NULL;
        sv seg = sv_trim((sv){rest.p, semi ? (size_t)(semi - rest.p) : rest.n});
        if (seg.n) {
            const char *eq = memchr(seg.p, '=', seg.n);
            if (!eq) {
                *why = "malformed connection string (expected Key=Value pairs)";
                return -EINVAL;
            }
            sv k = sv_trim((sv){seg.p, (size_t)(eq - seg.p)});
            sv v = sv_trim((sv){eq + 1, seg.n - (size_t)(eq + 1 - seg.p)});
            bool *seen = NULL;
            sv *dst = NULL;
            if (sv_ieq(k, "Endpoint"))
                seen = &has_ep, dst = &endpoint;
            else if (sv_ieq(k, "SharedAccessKeyName"))
                seen = &has_kn, dst = &key_name;
            else if (sv_ieq(k, "SharedAccessKey"))
                seen = &has_key, dst = &key;
            else if (sv_ieq(k, "EntityPath"))
                seen = &has_entity, dst = &entity;
            /* other keys (TransportType, ...) mean nothing to Kafka clients */
            if (seen) {
                if (*seen) {
                    *why = "malformed connection string (repeated key)";
                    return -EINVAL;
                }
                *seen = true;
                *dst = v;
            }
        }
        if (!semi)
            break;
        rest = (sv){semi + 1, rest.n - (size_t)(semi + 1 - rest.p)};
    }
    if (!has_ep || !has_kn || !has_key) {
        *why = "connection string needs Endpoint, SharedAccessKeyName and SharedAccessKey";
        return -EINVAL;
    }
    sv ep_entity;
    if (parse_resource(endpoint, true, &ep_entity) < 0 || ep_entity.n) {
        *why = "connection string Endpoint must be sb://<host>/";
        return -EINVAL;
    }
    if (has_entity && !valid_topic(entity)) {
        *why = "connection string EntityPath is not a valid topic name";
        return -EINVAL;
    }
    const fe_policy *p = find_policy(conf, key_name);
    if (!p || !key_matches(p, key)) {
        *why = "invalid SharedAccessKeyName or SharedAccessKey";
        return -EACCES;
    }
    out->policy = p;
    out->entity_path[0] = '\0';
    if (has_entity)
        copy_topic(out->entity_path, entity);
    out->expiry_ms = 0;
    return 0;
}

/* se: a decimal unix time in seconds, at most 12 digits (no overflow in ms). */
static int parse_expiry(sv se, int64_t *out) {
    if (se.n == 0 || se.n > 12)
        return -EINVAL;
    int64_t v = 0;
    for (size_t i = 0; i < se.n; i++) {
        if (se.p[i] < '0' || se.p[i] > '9')
            return -EINVAL;
        v = v * 10 + (se.p[i] - '0');
    }
    *out = v;
    return 0;
}

int fe_sas_verify_token(const fe_config *conf, const char *s, size_t len, int64_t now_ms,
                        fe_sas_identity *out, const char **why) {
    if (len > FE_SAS_MAX_LEN) {
        *why = "SAS token too long";
        return -E2BIG;
    }
    sv t = sv_trim((sv){s, len});
    if (!sv_iprefix(&t, "SharedAccessSignature") || !t.n || !is_space(t.p[0])) {
        *why = "malformed SAS token (expected \"SharedAccessSignature sr=...\")";
        return -EINVAL;
    }
    t = sv_trim(t);
    sv sr = {0}, sig = {0}, se = {0}, skn = {0};
    bool has_sr = false, has_sig = false, has_se = false, has_skn = false;
    while (true) {
        const char *amp = t.n ? memchr(t.p, '&', t.n) : NULL;
        sv f = {t.p, amp ? (size_t)(amp - t.p) : t.n};
        const char *eq = f.n ? memchr(f.p, '=', f.n) : NULL;
        if (!eq) {
            *why = "malformed SAS token (expected key=value fields)";
            return -EINVAL;
        }
        sv k = {f.p, (size_t)(eq - f.p)};
        sv v = {eq + 1, f.n - (size_t)(eq + 1 - f.p)};
        bool *seen = NULL;
        sv *dst = NULL;
        if (sv_ieq(k, "sr"))
            seen = &has_sr, dst = &sr;
        else if (sv_ieq(k, "sig"))
            seen = &has_sig, dst = &sig;
        else if (sv_ieq(k, "se"))
            seen = &has_se, dst = &se;
        else if (sv_ieq(k, "skn"))
            seen = &has_skn, dst = &skn;
        if (seen) {
            if (*seen) {
                *why = "malformed SAS token (repeated field)";
                return -EINVAL;
            }
            *seen = true;
            *dst = v;
        }
        if (!amp)
            break;
        t = (sv){amp + 1, t.n - (size_t)(amp + 1 - t.p)};
    }
    if (!has_sr || !has_sig || !has_se || !has_skn) {
        *why = "SAS token needs sr, sig, se and skn";
        return -EINVAL;
    }
    char resource[FE_SAS_MAX_LEN];
    char policy_name[sizeof conf->policies[0].name];
    char sig_text[128];
    uint8_t sig_bin[64];
    size_t resource_len, policy_len, sig_text_len, sig_len;
    int64_t expiry_s;
    sv entity;
    if (url_decode(sr, resource, sizeof resource, &resource_len) < 0 ||
        url_decode(skn, policy_name, sizeof policy_name, &policy_len) < 0 ||
        url_decode(sig, sig_text, sizeof sig_text, &sig_text_len) < 0) {
        *why = "malformed SAS token (bad URL encoding)";
        return -EINVAL;
    }
    if (b64_decode((sv){sig_text, sig_text_len}, sig_bin, sizeof sig_bin, &sig_len) < 0 ||
        sig_len != SHA256_DIGEST_LENGTH) {
        *why = "malformed SAS token (sig is not a base64 HMAC-SHA256)";
        return -EINVAL;
    }
    if (parse_expiry(se, &expiry_s) < 0) {
        *why = "malformed SAS token (se is not a unix time)";
        return -EINVAL;
    }
    if (parse_resource((sv){resource, resource_len}, false, &entity) < 0) {
        *why = "SAS token resource (sr) must be sb://<host>/ or sb://<host>/<topic>";
        return -EINVAL;
    }
    const fe_policy *p = find_policy(conf, (sv){policy_name, policy_len});
    if (!p) {
        *why = "invalid SAS token (unknown policy or bad signature)";
        return -EACCES;
    }
    /* signed string: sr exactly as sent (URL-encoded), a newline, se */
    char to_sign[FE_SAS_MAX_LEN + 2];
    memcpy(to_sign, sr.p, sr.n);
    to_sign[sr.n] = '\n';
    memcpy(to_sign + sr.n + 1, se.p, se.n);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha256(), p->key, (int)strlen(p->key), (const uint8_t *)to_sign,
              sr.n + 1 + se.n, mac, &mac_len) ||
        mac_len != SHA256_DIGEST_LENGTH) {
        *why = "cannot compute the SAS signature";
        return -EIO;
    }
    bool ok = CRYPTO_memcmp(mac, sig_bin, SHA256_DIGEST_LENGTH) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    if (!ok) {
        *why = "invalid SAS token (unknown policy or bad signature)";
        return -EACCES;
    }
    if (expiry_s * 1000 <= now_ms) {
        *why = "SAS token has expired";
        return -EKEYEXPIRED;
    }
    out->policy = p;
    out->entity_path[0] = '\0';
    if (entity.n)
        copy_topic(out->entity_path, entity);
    out->expiry_ms = expiry_s * 1000;
    return 0;
}

int fe_sas_verify_password(const fe_config *conf, const char *s, size_t len, int64_t now_ms,
                           fe_sas_identity *out, const char **why) {
    if (len > FE_SAS_MAX_LEN) {
        *why = "password too long";
        return -E2BIG;
    }
    sv t = sv_trim((sv){s, len});
    if (sv_iprefix(&t, "SharedAccessSignature") && t.n && is_space(t.p[0]))
        return fe_sas_verify_token(conf, s, len, now_ms, out, why);
    return fe_sas_verify_conn_str(conf, s, len, out, why);
}

int fe_sas_verify_plain(const fe_config *conf, const uint8_t *msg, size_t len, int64_t now_ms,
                        fe_sas_identity *out, const char **why) {
    const char *user, *pass;
    size_t user_len, pass_len;
    int r = fe_sas_plain_split(msg, len, &user, &user_len, &pass, &pass_len, why);
    if (r < 0)
        return r;
    if (user_len != strlen(FE_SAS_USERNAME) || memcmp(user, FE_SAS_USERNAME, user_len)) {
        *why = "username must be $ConnectionString";
        return -EINVAL;
    }
    return fe_sas_verify_password(conf, pass, pass_len, now_ms, out, why);
}
