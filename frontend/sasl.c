/* sasl.c — SaslHandshake, SaslAuthenticate and the raw token after a v0
 * handshake: SASL PLAIN with Event Hubs credentials (sas.h), and SCRAM-SHA-256
 * / SCRAM-SHA-512 for the configured scram_users (scram.h).
 *
 * States of a connection on a SASL listener (KIP-43, KIP-152, KIP-368):
 *   not authenticated --Handshake v1--> sasl_mechanism_ok --Authenticate--> authenticated
 *   not authenticated --Handshake v0--> sasl_handshake_v0 --raw token--> authenticated
 *   authenticated --Handshake v1 + Authenticate--> authenticated (re-authentication,
 *                   same principal), while session_expiry_ms has not passed
 * A failed authentication answers (or, for raw tokens, does not) and closes
 * the connection, as Kafka does. On a listener without SASL both requests
 * get ILLEGAL_SASL_STATE and the connection stays open (Kafka's KafkaApis
 * handleSaslHandshakeRequest / handleSaslAuthenticateRequest).
 *
 * SCRAM takes two rounds: the handshake creates c->scram; the first
 * SaslAuthenticate (or raw token) carries client-first and gets
 * server-first, keeping the connection in sasl_mechanism_ok (or
 * sasl_handshake_v0); the second carries client-final and gets server-final.
 * The exchange is freed when it ends, fails, or the connection goes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "kafka_api.h"
#include "kafka_saslauthenticate.h"
#include "kafka_saslhandshake.h"
#include "log.h"
#include "sas.h"
#include "scram.h"
#include "stats.h"

#define MECH_PLAIN "PLAIN"

/* True when some SCRAM user may use @p mech. */
static bool scram_offered(const fe_config *conf, int mech) {
    for (int i = 0; i < conf->n_scram_users; i++)
        if (conf->scram_users[i].cred[mech].set)
            return true;
    return false;
}

/* The mechanisms this config offers, in preference order. */
static int32_t offered_mechanisms(const fe_config *conf, kafka_str out[1 + FE_SCRAM_MECHS]) {
    int32_t n = 0;
    if (conf->n_policies > 0)
        out[n++] = (kafka_str){MECH_PLAIN, (int32_t)strlen(MECH_PLAIN)};
    for (int m = FE_SCRAM_MECHS - 1; m >= 0; m--)
        if (scram_offered(conf, m))
            out[n++] = (kafka_str){fe_scram_mech_name(m), (int32_t)strlen(fe_scram_mech_name(m))};
    return n;
}

static void handshake_answer(fe_req *req, int16_t error_code, bool list, bool close) {
    kafka_str mechs[1 + FE_SCRAM_MECHS];
    int32_t n = offered_mechanisms(req->worker->conf, mechs);
    kafka_saslhandshake_resp resp = {
        .error_code = error_code, .mechanisms = mechs, .n_mechanisms = list ? n : 0};
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_saslhandshake_resp_encode(&w, req->hdr.api_version, &resp);
    if (close)
        fe_req_finish_and_close(req, &w);
    else
        fe_req_finish(req, &w);
}

void fe_api_sasl_handshake(fe_req *req) {
    fe_conn *c = req->conn;
    kafka_saslhandshake_req in;
    if (kafka_saslhandshake_req_decode(&req->body, req->hdr.api_version, &req->arena, &in) < 0) {
        fe_req_fail(req, "malformed SaslHandshake request");
        return;
    }
    if (!c->listener->sasl) {
        handshake_answer(req, KAFKA_ERR_ILLEGAL_SASL_STATE, false, false);
        return;
    }
    if (c->sasl_mechanism_ok) {
        /* a second handshake before SaslAuthenticate */
        LOG_INFO("sasl", "%s: closing: repeated SaslHandshake", c->peer);
        handshake_answer(req, KAFKA_ERR_ILLEGAL_SASL_STATE, true, true);
        return;
    }
    if (c->authenticated && req->hdr.api_version < 1) {
        /* re-authentication needs SaslAuthenticate (KIP-368); as Kafka
         * answers a handshake on an authenticated connection */
        handshake_answer(req, KAFKA_ERR_ILLEGAL_SASL_STATE, false, false);
        return;
    }
    const fe_config *conf = req->worker->conf;
    int scram = in.mechanism.len > 0
                    ? fe_scram_mech_by_name(in.mechanism.ptr, (size_t)in.mechanism.len)
                    : -1;
    bool plain = conf->n_policies > 0 && kafka_str_eq(in.mechanism, MECH_PLAIN);
    if (!plain && (scram < 0 || !scram_offered(conf, scram))) {
        LOG_INFO("sasl", "%s: closing: unsupported SASL mechanism", c->peer);
        fe_stats_auth_failure(req->worker->stats);
        handshake_answer(req, KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM, true, true);
        return;
    }
    fe_scram_free(&c->scram);
    if (!plain) {
        int r = fe_scram_new(scram, NULL, &c->scram);
        if (r < 0) {
            eddy_log_err(r, "sasl", "%s: cannot start a SCRAM exchange", c->peer);
            fe_req_fail(req, "cannot start a SCRAM exchange");
            return;
        }
    }
    if (req->hdr.api_version == 0)
        c->sasl_handshake_v0 = true;
    else
        c->sasl_mechanism_ok = true;
    handshake_answer(req, KAFKA_ERR_NONE, true, false);
}

/* Make @p principal with @p rights the connection's identity. */
static int apply_identity(fe_conn *c, const char *principal, unsigned rights,
                          const char *entity_path, int64_t expiry_ms, const char **why) {
    if (c->authenticated && strcmp(c->principal, principal) != 0) {
        /* KIP-368: re-authentication may not change the principal */
        *why = "re-authentication must use the same principal";
        return -EPERM;
    }
    c->authenticated = true;
    c->rights = rights;
    snprintf(c->principal, sizeof c->principal, "%s", principal);
    snprintf(c->entity_path, sizeof c->entity_path, "%s", entity_path);
    c->session_expiry_ms = expiry_ms;
    return 0;
}

/* Check a PLAIN message and, on success, apply it to the connection.
 * Returns 0 or -errno with a client-facing reason in *why. */
static int authenticate(fe_conn *c, const kafka_bytes *msg, int64_t now_ms, const char **why) {
    fe_sas_identity id;
    int r = fe_sas_verify_plain(c->worker->conf, msg->ptr, (size_t)msg->len, now_ms, &id, why);
    if (r < 0)
        return r;
    bool first = !c->authenticated;
    r = apply_identity(c, id.policy->name, id.policy->rights, id.entity_path, id.expiry_ms, why);
    if (r == 0 && first && !c->closed)
        fe_stats_conn_authenticated(c->worker->stats, id.policy);
    return r;
}

/* One SCRAM step: client-first or client-final in @p msg, the server's
 * answer into @p out. *@p more is true when another client message is due.
 * The exchange is freed once it ends or fails. */
static int scram_step(fe_conn *c, const kafka_bytes *msg, char *out, size_t *out_len,
                      bool *more, const char **why) {
    int r;
    *more = false;
    if (msg->len < 0) {
        *why = "missing SCRAM message";
        r = -EINVAL;
    } else if (fe_scram_step(c->scram) == 0) {
        r = fe_scram_client_first(c->scram, c->worker->conf, msg->ptr, (size_t)msg->len, out,
                                  FE_SCRAM_MAX_SERVER_MSG, out_len, why);
        *more = r == 0;
    } else {
        const fe_scram_user *u = NULL;
        r = fe_scram_client_final(c->scram, msg->ptr, (size_t)msg->len, out,
                                  FE_SCRAM_MAX_SERVER_MSG, out_len, &u, why);
        if (r == 0)
            r = apply_identity(c, u->name, u->rights, "", 0, why);
    }
    if (!*more)
        fe_scram_free(&c->scram);
    return r;
}

static void log_failure(fe_conn *c, int r, const char *why) {
    /* reason only: the message holds the key or the signature */
    LOG_INFO("sasl", "%s: closing: authentication failed: %s (%s)", c->peer, why, strerror(-r));
}

static void authenticate_answer(fe_req *req, int16_t error_code, const char *msg,
                                const char *auth, size_t auth_len, int64_t lifetime_ms,
                                bool close) {
    kafka_saslauthenticate_resp resp = {
        .error_code = error_code,
        .error_message = msg ? (kafka_str){msg, (int32_t)strlen(msg)} : (kafka_str){NULL, -1},
        .auth_bytes = {(const uint8_t *)(auth ? auth : ""), (int32_t)auth_len},
        .session_lifetime_ms = lifetime_ms,
    };
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_saslauthenticate_resp_encode(&w, req->hdr.api_version, &resp);
    if (close)
        fe_req_finish_and_close(req, &w);
    else
        fe_req_finish(req, &w);
}

void fe_api_sasl_authenticate(fe_req *req) {
    fe_conn *c = req->conn;
    kafka_saslauthenticate_req in;
    if (kafka_saslauthenticate_req_decode(&req->body, req->hdr.api_version, &req->arena, &in) < 0) {
        fe_req_fail(req, "malformed SaslAuthenticate request");
        return;
    }
    if (!c->listener->sasl || (c->authenticated && !c->sasl_mechanism_ok)) {
        /* Kafka's answer once authenticated (or without SASL): no close */
        authenticate_answer(req, KAFKA_ERR_ILLEGAL_SASL_STATE,
                            "SaslAuthenticate request received after successful authentication",
                            NULL, 0, 0, false);
        return;
    }
    if (!c->sasl_mechanism_ok) {
        LOG_INFO("sasl", "%s: closing: SaslAuthenticate before SaslHandshake", c->peer);
        authenticate_answer(req, KAFKA_ERR_ILLEGAL_SASL_STATE,
                            "SaslAuthenticate request received before SaslHandshake", NULL, 0, 0,
                            true);
        return;
    }
    c->sasl_mechanism_ok = false;
    const char *why = "authentication failed";
    int64_t now = fe_wall_ms();
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t out_len = 0;
    bool more = false;
    int r;
    if (c->scram)
        r = scram_step(c, &in.auth_bytes, out, &out_len, &more, &why);
    else
        r = in.auth_bytes.len < 0 ? -EINVAL : authenticate(c, &in.auth_bytes, now, &why);
    if (r < 0) {
        fe_stats_auth_failure(req->worker->stats);
        log_failure(c, r, why);
        char msg[192];
        snprintf(msg, sizeof msg, "Authentication failed: %s", why);
        authenticate_answer(req, KAFKA_ERR_SASL_AUTHENTICATION_FAILED, msg, NULL, 0, 0, true);
        return;
    }
    if (more) {
        /* server-first sent: client-final comes in the next SaslAuthenticate */
        c->sasl_mechanism_ok = true;
        authenticate_answer(req, KAFKA_ERR_NONE, NULL, out, out_len, 0, false);
        return;
    }
    int64_t lifetime = c->session_expiry_ms ? c->session_expiry_ms - now : 0;
    LOG_DEBUG("sasl", "%s: authenticated as %s%s%s", c->peer, c->principal,
              c->entity_path[0] ? " scoped to " : "", c->entity_path);
    authenticate_answer(req, KAFKA_ERR_NONE, NULL, out, out_len, lifetime, false);
}

void fe_api_sasl_raw(fe_req *req) {
    fe_conn *c = req->conn;
    c->sasl_handshake_v0 = false;
    /* no Kafka header: account the frame as SaslAuthenticate v0 */
    req->hdr.api_key = KAFKA_SASL_AUTHENTICATE;
    req->hdr.api_version = 0;
    kafka_bytes tok = {req->frame->data, (int32_t)req->frame->len};
    const char *why = "authentication failed";
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t out_len = 0;
    bool more = false;
    bool scram = c->scram != NULL;
    int r = scram ? scram_step(c, &tok, out, &out_len, &more, &why)
                  : authenticate(c, &tok, fe_wall_ms(), &why);
    if (r < 0) {
        /* Kafka closes without an answer when a raw v0 token fails */
        fe_stats_auth_failure(req->worker->stats);
        char reason[192];
        snprintf(reason, sizeof reason, "SASL %s (v0) authentication failed: %s (%s)",
                 scram ? "SCRAM" : "PLAIN", why, strerror(-r));
        fe_req_fail(req, reason); /* logs it, once */
        return;
    }
    /* server-first sent: client-final is the next raw token */
    c->sasl_handshake_v0 = more;
    /* the answer is a raw, length-prefixed server token (empty for PLAIN) */
    kafka_writer w;
    kw_init(&w);
    (void)kw_reserve_i32(&w); /* fe_req_finish patches in the length */
    kw_raw(&w, out, out_len);
    fe_req_finish(req, &w);
}
