/* sasl.c — SaslHandshake, SaslAuthenticate and the raw token after a v0
 * handshake: SASL PLAIN with Event Hubs credentials (sas.h).
 *
 * States of a connection on a SASL listener (KIP-43, KIP-152, KIP-368):
 *   not authenticated --Handshake v1--> sasl_mechanism_ok --Authenticate--> authenticated
 *   not authenticated --Handshake v0--> sasl_handshake_v0 --raw token--> authenticated
 *   authenticated --Handshake v1 + Authenticate--> authenticated (re-authentication,
 *                   same principal), while session_expiry_ms has not passed
 * A failed authentication answers (or, for raw tokens, does not) and closes
 * the connection, as Kafka does. On a listener without SASL both requests
 * get ILLEGAL_SASL_STATE and the connection stays open (Kafka's KafkaApis
 * handleSaslHandshakeRequest / handleSaslAuthenticateRequest). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "kafka_api.h"
#include "kafka_saslauthenticate.h"
#include "kafka_saslhandshake.h"
#include "log.h"
#include "sas.h"
#include "stats.h"

#define MECH_PLAIN "PLAIN"

static void handshake_answer(fe_req *req, int16_t error_code, bool list, bool close) {
    kafka_str mechs[] = {{MECH_PLAIN, (int32_t)strlen(MECH_PLAIN)}};
    kafka_saslhandshake_resp resp = {
        .error_code = error_code, .mechanisms = mechs, .n_mechanisms = list ? 1 : 0};
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
    if (!kafka_str_eq(in.mechanism, MECH_PLAIN)) {
        LOG_INFO("sasl", "%s: closing: unsupported SASL mechanism", c->peer);
        fe_stats_auth_failure(req->worker->stats);
        handshake_answer(req, KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM, true, true);
        return;
    }
    if (req->hdr.api_version == 0)
        c->sasl_handshake_v0 = true;
    else
        c->sasl_mechanism_ok = true;
    handshake_answer(req, KAFKA_ERR_NONE, true, false);
}

/* Check a PLAIN message and, on success, apply it to the connection.
 * Returns 0 or -errno with a client-facing reason in *why. */
static int authenticate(fe_conn *c, const kafka_bytes *msg, int64_t now_ms, const char **why) {
    fe_sas_identity id;
    int r = fe_sas_verify_plain(c->worker->conf, msg->ptr, (size_t)msg->len, now_ms, &id, why);
    if (r < 0)
        return r;
    if (c->authenticated && strcmp(c->principal, id.policy->name) != 0) {
        /* KIP-368: re-authentication may not change the principal */
        *why = "re-authentication must use the same policy";
        return -EPERM;
    }
    c->authenticated = true;
    c->rights = id.policy->rights;
    snprintf(c->principal, sizeof c->principal, "%s", id.policy->name);
    snprintf(c->entity_path, sizeof c->entity_path, "%s", id.entity_path);
    c->session_expiry_ms = id.expiry_ms;
    return 0;
}

static void log_failure(fe_conn *c, int r, const char *why) {
    /* reason only: the message holds the key or the signature */
    LOG_INFO("sasl", "%s: closing: authentication failed: %s (%s)", c->peer, why, strerror(-r));
}

static void authenticate_answer(fe_req *req, int16_t error_code, const char *msg,
                                int64_t lifetime_ms, bool close) {
    kafka_saslauthenticate_resp resp = {
        .error_code = error_code,
        .error_message = msg ? (kafka_str){msg, (int32_t)strlen(msg)} : (kafka_str){NULL, -1},
        .auth_bytes = {(const uint8_t *)"", 0},
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
                            0, false);
        return;
    }
    if (!c->sasl_mechanism_ok) {
        LOG_INFO("sasl", "%s: closing: SaslAuthenticate before SaslHandshake", c->peer);
        authenticate_answer(req, KAFKA_ERR_ILLEGAL_SASL_STATE,
                            "SaslAuthenticate request received before SaslHandshake", 0, true);
        return;
    }
    c->sasl_mechanism_ok = false;
    const char *why = "authentication failed";
    int64_t now = fe_wall_ms();
    int r = in.auth_bytes.len < 0 ? -EINVAL : authenticate(c, &in.auth_bytes, now, &why);
    if (r < 0) {
        fe_stats_auth_failure(req->worker->stats);
        log_failure(c, r, why);
        char msg[192];
        snprintf(msg, sizeof msg, "Authentication failed: %s", why);
        authenticate_answer(req, KAFKA_ERR_SASL_AUTHENTICATION_FAILED, msg, 0, true);
        return;
    }
    int64_t lifetime = c->session_expiry_ms ? c->session_expiry_ms - now : 0;
    LOG_DEBUG("sasl", "%s: authenticated as %s%s%s", c->peer, c->principal,
              c->entity_path[0] ? " scoped to " : "", c->entity_path);
    authenticate_answer(req, KAFKA_ERR_NONE, NULL, lifetime, false);
}

void fe_api_sasl_raw(fe_req *req) {
    fe_conn *c = req->conn;
    c->sasl_handshake_v0 = false;
    /* no Kafka header: account the frame as SaslAuthenticate v0 */
    req->hdr.api_key = KAFKA_SASL_AUTHENTICATE;
    req->hdr.api_version = 0;
    kafka_bytes tok = {req->frame->data, (int32_t)req->frame->len};
    const char *why = "authentication failed";
    int r = authenticate(c, &tok, fe_wall_ms(), &why);
    if (r < 0) {
        /* Kafka closes without an answer when a raw v0 token fails */
        fe_stats_auth_failure(req->worker->stats);
        char reason[192];
        snprintf(reason, sizeof reason, "SASL PLAIN (v0) authentication failed: %s (%s)", why,
                 strerror(-r));
        fe_req_fail(req, reason); /* logs it, once */
        return;
    }
    /* the answer is a raw, length-prefixed, empty server token */
    kafka_writer w;
    kw_init(&w);
    (void)kw_reserve_i32(&w); /* fe_req_finish patches it to 0 */
    fe_req_finish(req, &w);
}
