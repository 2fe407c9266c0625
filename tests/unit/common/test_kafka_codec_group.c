/* test_kafka_codec_group.c — codecs of the consumer-group, offset and SASL
 * APIs, and of the embedded consumer protocol.
 *
 * For every API and every version: fill a request and a response with
 * non-default values, encode, decode, compare field by field (fields absent
 * at that version must come back as their protocol defaults), check the
 * whole input was consumed, and check that every strict prefix of the
 * encoding is refused with -EBADMSG. Then byte vectors worked out by hand
 * from the protocol definitions, and malformed inputs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "arena.h"
#include "kafka_consumer_protocol.h"
#include "kafka_deletegroups.h"
#include "kafka_describegroups.h"
#include "kafka_findcoordinator.h"
#include "kafka_heartbeat.h"
#include "kafka_joingroup.h"
#include "kafka_leavegroup.h"
#include "kafka_listgroups.h"
#include "kafka_offsetcommit.h"
#include "kafka_offsetdelete.h"
#include "kafka_offsetfetch.h"
#include "kafka_reader.h"
#include "kafka_saslauthenticate.h"
#include "kafka_saslhandshake.h"
#include "kafka_syncgroup.h"
#include "kafka_writer.h"

/* ---- helpers ------------------------------------------------------------ */

static const kafka_str NUL = {NULL, -1};
static const kafka_str EMPTY = {"", 0};
static const kafka_bytes NUL_BYTES = {NULL, -1};

static kafka_str S(const char *s) { return (kafka_str){s, (int32_t)strlen(s)}; }

static kafka_bytes B(const char *s, size_t n) { return (kafka_bytes){(const uint8_t *)s, (int32_t)n}; }

static bool str_eq(kafka_str a, kafka_str b) {
    if (a.len != b.len)
        return false;
    return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

static bool bytes_eq(kafka_bytes a, kafka_bytes b) {
    if (a.len != b.len)
        return false;
    if (a.len <= 0 || !a.ptr || !b.ptr)
        return a.len <= 0;
    return memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        kafka_str _x = (a), _y = (b);                                                    \
        unit_checks++;                                                                   \
        if (!str_eq(_x, _y)) {                                                           \
            unit_failures++;                                                             \
            fprintf(stderr, "%s:%d: %s is \"%.*s\" (len %d), expected \"%.*s\" (len %d)\n", \
                    __FILE__, __LINE__, #a, _x.len > 0 ? (int)_x.len : 0,                \
                    _x.ptr ? _x.ptr : "", (int)_x.len, _y.len > 0 ? (int)_y.len : 0,      \
                    _y.ptr ? _y.ptr : "", (int)_y.len);                                  \
        }                                                                                \
    } while (0)

#define CHECK_BYTES(a, b) CHECK(bytes_eq((a), (b)))

/* Copy what the writer holds into arena memory: decoded views point into
 * the encoding, so it must live as long as the arena that holds the arrays. */
static const uint8_t *flatten(kafka_writer *w, arena *a, size_t *len) {
    uint8_t *tmp = NULL;
    *len = 0;
    int rc = kw_flatten(w, &tmp, len);
    CHECK_EQ_INT(rc, 0);
    kw_free(w);
    if (rc != 0)
        return NULL;
    uint8_t *copy = arena_alloc(a, *len ? *len : 1);
    CHECK(copy != NULL);
    if (copy)
        memcpy(copy, tmp, *len);
    free(tmp);
    return copy;
}

/* A buffer of exactly @p n bytes on the heap, so that ASan sees any read
 * past the end of a truncated input. */
static uint8_t *exact_copy(const uint8_t *src, size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

/* Encode *in at version ver, decode it into *out (first scribbled over, so
 * that decoders must set every field), require success and full
 * consumption, then require -EBADMSG for every strict prefix. */
#define ROUNDTRIP(api, dir, ver, in, out, ar)                                              \
    do {                                                                                   \
        kafka_writer w_;                                                                   \
        kw_init(&w_);                                                                      \
        kafka_##api##_##dir##_encode(&w_, (ver), (in));                                    \
        size_t len_;                                                                       \
        const uint8_t *buf_ = flatten(&w_, (ar), &len_);                                   \
        memset((out), 0xA5, sizeof *(out));                                                \
        kafka_reader r_;                                                                   \
        kr_init(&r_, buf_, len_);                                                          \
        CHECK_EQ_INT(kafka_##api##_##dir##_decode(&r_, (ver), (ar), (out)), 0);            \
        CHECK_EQ_INT(kr_remaining(&r_), 0);                                                \
        size_t bad_cuts_ = 0;                                                              \
        for (size_t cut_ = 0; buf_ && cut_ < len_; cut_++) {                               \
            uint8_t *p_ = exact_copy(buf_, cut_);                                          \
            arena ta_;                                                                     \
            arena_init(&ta_);                                                              \
            kafka_##api##_##dir scratch_;                                                  \
            kafka_reader tr_;                                                              \
            kr_init(&tr_, p_, cut_);                                                       \
            if (kafka_##api##_##dir##_decode(&tr_, (ver), &ta_, &scratch_) != -EBADMSG) {  \
                if (!bad_cuts_)                                                            \
                    fprintf(stderr, "  " #api " " #dir " v%d: prefix of %zu/%zu bytes "    \
                            "was accepted\n", (int)(ver), cut_, len_);                     \
                bad_cuts_++;                                                               \
            }                                                                              \
            arena_free(&ta_);                                                              \
            free(p_);                                                                      \
        }                                                                                  \
        CHECK_EQ_INT(bad_cuts_, 0);                                                        \
    } while (0)

/* Name the version when a check inside a per-version loop failed. */
#define NOTE_VERSION(before, what, v)                                                  \
    do {                                                                               \
        if (unit_failures != (before))                                                 \
            fprintf(stderr, "  (while testing %s v%d)\n", (what), (int)(v));           \
    } while (0)

/* Decode @p len bytes of @p data (exact heap copy) with a decode call; used
 * by the malformed-input tests. */
#define DECODE_RAW(api, dir, ver, data, len, rc_out)                                   \
    do {                                                                               \
        uint8_t *p_ = exact_copy((data), (len));                                       \
        arena a_;                                                                      \
        arena_init(&a_);                                                               \
        kafka_##api##_##dir o_;                                                        \
        kafka_reader r_;                                                               \
        kr_init(&r_, p_, (len));                                                       \
        (rc_out) = kafka_##api##_##dir##_decode(&r_, (ver), &a_, &o_);                 \
        arena_free(&a_);                                                               \
        free(p_);                                                                      \
    } while (0)

/* ---- FindCoordinator (10) ---------------------------------------------- */

static void test_findcoordinator(void) {
    for (int16_t v = 0; v <= 6; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_str keys[2] = {S("group-a"), S("group-b")};
        kafka_findcoordinator_req in = {.key = S("my-group"), .key_type = 1,
                                        .coordinator_keys = keys, .n_coordinator_keys = 2};
        kafka_findcoordinator_req out;
        ROUNDTRIP(findcoordinator, req, v, &in, &out, &a);
        CHECK_STR(out.key, v <= 3 ? in.key : EMPTY);
        CHECK_EQ_INT(out.key_type, v >= 1 ? 1 : 0);
        CHECK_EQ_INT(out.n_coordinator_keys, v >= 4 ? 2 : 0);
        for (int32_t i = 0; i < out.n_coordinator_keys && i < 2; i++)
            CHECK_STR(out.coordinator_keys[i], keys[i]);

        kafka_findcoordinator_coordinator cs[2] = {
            {S("group-a"), 1, S("h1"), 9092, 0, NUL},
            {S("group-b"), 2, S("host-2"), 9093, 15, S("not available")},
        };
        kafka_findcoordinator_resp rin = {.throttle_time_ms = 11, .error_code = 16,
                                          .error_message = S("moved"), .node_id = 3,
                                          .host = S("eddy.local"), .port = 9094,
                                          .coordinators = cs, .n_coordinators = 2};
        kafka_findcoordinator_resp rout;
        ROUNDTRIP(findcoordinator, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 1 ? 11 : 0);
        CHECK_EQ_INT(rout.error_code, v <= 3 ? 16 : 0);
        CHECK_STR(rout.error_message, v >= 1 && v <= 3 ? rin.error_message : EMPTY);
        CHECK_EQ_INT(rout.node_id, v <= 3 ? 3 : 0);
        CHECK_STR(rout.host, v <= 3 ? rin.host : EMPTY);
        CHECK_EQ_INT(rout.port, v <= 3 ? 9094 : 0);
        CHECK_EQ_INT(rout.n_coordinators, v >= 4 ? 2 : 0);
        for (int32_t i = 0; i < rout.n_coordinators && i < 2; i++) {
            CHECK_STR(rout.coordinators[i].key, cs[i].key);
            CHECK_EQ_INT(rout.coordinators[i].node_id, cs[i].node_id);
            CHECK_STR(rout.coordinators[i].host, cs[i].host);
            CHECK_EQ_INT(rout.coordinators[i].port, cs[i].port);
            CHECK_EQ_INT(rout.coordinators[i].error_code, cs[i].error_code);
            CHECK_STR(rout.coordinators[i].error_message, cs[i].error_message);
        }
        arena_free(&a);
        NOTE_VERSION(before, "FindCoordinator", v);
    }
}

/* ---- JoinGroup (11) ------------------------------------------------------ */

static void test_joingroup(void) {
    static const char meta0[] = "\x00\x01\x00\x00\x00\x01\x00\x01t";
    for (int16_t v = 0; v <= 9; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_joingroup_protocol protos[2] = {
            {S("range"), B(meta0, sizeof meta0 - 1)},
            {S("cooperative-sticky"), B("", 0)},
        };
        kafka_joingroup_req in = {.group_id = S("g"), .session_timeout_ms = 45000,
                                  .rebalance_timeout_ms = 300000, .member_id = S("m-1"),
                                  .group_instance_id = S("inst-1"), .protocol_type = S("consumer"),
                                  .protocols = protos, .n_protocols = 2, .reason = S("rejoin")};
        kafka_joingroup_req out;
        ROUNDTRIP(joingroup, req, v, &in, &out, &a);
        CHECK_STR(out.group_id, in.group_id);
        CHECK_EQ_INT(out.session_timeout_ms, 45000);
        CHECK_EQ_INT(out.rebalance_timeout_ms, v >= 1 ? 300000 : -1);
        CHECK_STR(out.member_id, in.member_id);
        CHECK_STR(out.group_instance_id, v >= 5 ? in.group_instance_id : NUL);
        CHECK_STR(out.protocol_type, in.protocol_type);
        CHECK_EQ_INT(out.n_protocols, 2);
        for (int32_t i = 0; i < out.n_protocols && i < 2; i++) {
            CHECK_STR(out.protocols[i].name, protos[i].name);
            CHECK_BYTES(out.protocols[i].metadata, protos[i].metadata);
        }
        CHECK_STR(out.reason, v >= 8 ? in.reason : NUL);

        kafka_joingroup_member members[2] = {
            {S("m-1"), NUL, B(meta0, sizeof meta0 - 1)},
            {S("m-2"), S("inst-2"), B("\xff", 1)},
        };
        kafka_joingroup_resp rin = {.throttle_time_ms = 5, .error_code = 79, .generation_id = 4,
                                    .protocol_type = S("consumer"), .protocol_name = S("range"),
                                    .leader = S("m-1"), .skip_assignment = true,
                                    .member_id = S("m-2"), .members = members, .n_members = 2};
        kafka_joingroup_resp rout;
        ROUNDTRIP(joingroup, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 2 ? 5 : 0);
        CHECK_EQ_INT(rout.error_code, 79);
        CHECK_EQ_INT(rout.generation_id, 4);
        CHECK_STR(rout.protocol_type, v >= 7 ? rin.protocol_type : NUL);
        CHECK_STR(rout.protocol_name, rin.protocol_name);
        CHECK_STR(rout.leader, rin.leader);
        CHECK_EQ_INT(rout.skip_assignment, v >= 9);
        CHECK_STR(rout.member_id, rin.member_id);
        CHECK_EQ_INT(rout.n_members, 2);
        for (int32_t i = 0; i < rout.n_members && i < 2; i++) {
            CHECK_STR(rout.members[i].member_id, members[i].member_id);
            CHECK_STR(rout.members[i].group_instance_id, v >= 5 ? members[i].group_instance_id : NUL);
            CHECK_BYTES(rout.members[i].metadata, members[i].metadata);
        }

        /* protocol_name became nullable in v7 (no protocol chosen yet) */
        if (v >= 7) {
            rin.protocol_name = NUL;
            ROUNDTRIP(joingroup, resp, v, &rin, &rout, &a);
            CHECK_STR(rout.protocol_name, NUL);
        }
        arena_free(&a);
        NOTE_VERSION(before, "JoinGroup", v);
    }
}

/* ---- Heartbeat (12) ------------------------------------------------------ */

static void test_heartbeat(void) {
    for (int16_t v = 0; v <= 4; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_heartbeat_req in = {S("group"), 7, S("member-1"), S("instance-1")};
        kafka_heartbeat_req out;
        ROUNDTRIP(heartbeat, req, v, &in, &out, &a);
        CHECK_STR(out.group_id, in.group_id);
        CHECK_EQ_INT(out.generation_id, 7);
        CHECK_STR(out.member_id, in.member_id);
        CHECK_STR(out.group_instance_id, v >= 3 ? in.group_instance_id : NUL);

        kafka_heartbeat_resp rin = {.throttle_time_ms = 100, .error_code = 27};
        kafka_heartbeat_resp rout;
        ROUNDTRIP(heartbeat, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 1 ? 100 : 0);
        CHECK_EQ_INT(rout.error_code, 27);
        arena_free(&a);
        NOTE_VERSION(before, "Heartbeat", v);
    }
}

/* ---- LeaveGroup (13) ----------------------------------------------------- */

static void test_leavegroup(void) {
    for (int16_t v = 0; v <= 5; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_leavegroup_member ms[2] = {
            {S("m-1"), NUL, NUL},
            {S("m-2"), S("inst-2"), S("shutting down")},
        };
        kafka_leavegroup_req in = {.group_id = S("g"), .member_id = S("m-0"), .members = ms,
                                   .n_members = 2};
        kafka_leavegroup_req out;
        ROUNDTRIP(leavegroup, req, v, &in, &out, &a);
        CHECK_STR(out.group_id, in.group_id);
        CHECK_STR(out.member_id, v <= 2 ? in.member_id : EMPTY);
        CHECK_EQ_INT(out.n_members, v >= 3 ? 2 : 0);
        for (int32_t i = 0; i < out.n_members && i < 2; i++) {
            CHECK_STR(out.members[i].member_id, ms[i].member_id);
            CHECK_STR(out.members[i].group_instance_id, ms[i].group_instance_id);
            CHECK_STR(out.members[i].reason, v >= 5 ? ms[i].reason : NUL);
        }

        kafka_leavegroup_member_resp rms[2] = {
            {S("m-1"), NUL, 0},
            {S("m-2"), S("inst-2"), 25},
        };
        kafka_leavegroup_resp rin = {.throttle_time_ms = 3, .error_code = 16, .members = rms,
                                     .n_members = 2};
        kafka_leavegroup_resp rout;
        ROUNDTRIP(leavegroup, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 1 ? 3 : 0);
        CHECK_EQ_INT(rout.error_code, 16);
        CHECK_EQ_INT(rout.n_members, v >= 3 ? 2 : 0);
        for (int32_t i = 0; i < rout.n_members && i < 2; i++) {
            CHECK_STR(rout.members[i].member_id, rms[i].member_id);
            CHECK_STR(rout.members[i].group_instance_id, rms[i].group_instance_id);
            CHECK_EQ_INT(rout.members[i].error_code, rms[i].error_code);
        }
        arena_free(&a);
        NOTE_VERSION(before, "LeaveGroup", v);
    }
}

/* ---- SyncGroup (14) ------------------------------------------------------ */

static void test_syncgroup(void) {
    static const char assign0[] = "\x00\x00\x00\x00\x00\x01\x00\x01t\x00\x00\x00\x01\x00\x00\x00\x00";
    for (int16_t v = 0; v <= 5; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_syncgroup_assignment as[2] = {
            {S("m-1"), B(assign0, sizeof assign0 - 1)},
            {S("m-2"), B("", 0)},
        };
        kafka_syncgroup_req in = {.group_id = S("g"), .generation_id = 12, .member_id = S("m-1"),
                                  .group_instance_id = S("inst-1"), .protocol_type = S("consumer"),
                                  .protocol_name = S("range"), .assignments = as,
                                  .n_assignments = 2};
        kafka_syncgroup_req out;
        ROUNDTRIP(syncgroup, req, v, &in, &out, &a);
        CHECK_STR(out.group_id, in.group_id);
        CHECK_EQ_INT(out.generation_id, 12);
        CHECK_STR(out.member_id, in.member_id);
        CHECK_STR(out.group_instance_id, v >= 3 ? in.group_instance_id : NUL);
        CHECK_STR(out.protocol_type, v >= 5 ? in.protocol_type : NUL);
        CHECK_STR(out.protocol_name, v >= 5 ? in.protocol_name : NUL);
        CHECK_EQ_INT(out.n_assignments, 2);
        for (int32_t i = 0; i < out.n_assignments && i < 2; i++) {
            CHECK_STR(out.assignments[i].member_id, as[i].member_id);
            CHECK_BYTES(out.assignments[i].assignment, as[i].assignment);
        }

        kafka_syncgroup_resp rin = {.throttle_time_ms = 8, .error_code = 27,
                                    .protocol_type = S("consumer"), .protocol_name = NUL,
                                    .assignment = B(assign0, sizeof assign0 - 1)};
        kafka_syncgroup_resp rout;
        ROUNDTRIP(syncgroup, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 1 ? 8 : 0);
        CHECK_EQ_INT(rout.error_code, 27);
        CHECK_STR(rout.protocol_type, v >= 5 ? rin.protocol_type : NUL);
        CHECK_STR(rout.protocol_name, NUL);
        CHECK_BYTES(rout.assignment, rin.assignment);
        arena_free(&a);
        NOTE_VERSION(before, "SyncGroup", v);
    }
}

/* ---- DescribeGroups (15) ------------------------------------------------- */

static void check_described_group(int16_t v, const kafka_describegroups_group *got,
                                  const kafka_describegroups_group *want) {
    CHECK_EQ_INT(got->error_code, want->error_code);
    CHECK_STR(got->group_id, want->group_id);
    CHECK_STR(got->group_state, want->group_state);
    CHECK_STR(got->protocol_type, want->protocol_type);
    CHECK_STR(got->protocol_data, want->protocol_data);
    CHECK_EQ_INT(got->authorized_operations, v >= 3 ? want->authorized_operations : INT32_MIN);
    CHECK_EQ_INT(got->n_members, want->n_members);
    for (int32_t j = 0; j < got->n_members && j < want->n_members; j++) {
        const kafka_describegroups_member *gm = &got->members[j], *wm = &want->members[j];
        CHECK_STR(gm->member_id, wm->member_id);
        CHECK_STR(gm->group_instance_id, v >= 4 ? wm->group_instance_id : NUL);
        CHECK_STR(gm->client_id, wm->client_id);
        CHECK_STR(gm->client_host, wm->client_host);
        CHECK_BYTES(gm->member_metadata, wm->member_metadata);
        CHECK_BYTES(gm->member_assignment, wm->member_assignment);
    }
}

static void test_describegroups(void) {
    for (int16_t v = 0; v <= 5; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_str names[2] = {S("g1"), S("group-two")};
        kafka_describegroups_req in = {names, 2, true};
        kafka_describegroups_req out;
        ROUNDTRIP(describegroups, req, v, &in, &out, &a);
        CHECK_EQ_INT(out.n_groups, 2);
        for (int32_t i = 0; i < out.n_groups && i < 2; i++)
            CHECK_STR(out.groups[i], names[i]);
        CHECK_EQ_INT(out.include_authorized_operations, v >= 3);

        kafka_describegroups_member ms[2] = {
            {S("m-1"), NUL, S("client-1"), S("/10.0.0.1"), B("\x00\x01", 2), B("\x00\x02", 2)},
            {S("m-2"), S("inst-2"), S("client-2"), S("/10.0.0.2"), B("md", 2), B("", 0)},
        };
        kafka_describegroups_group gs[2] = {
            {0, S("g1"), S("Stable"), S("consumer"), S("range"), ms, 2, 0x0f},
            {69, S("group-two"), S("Dead"), S(""), S(""), NULL, 0, 0},
        };
        kafka_describegroups_resp rin = {.throttle_time_ms = 2, .groups = gs, .n_groups = 2};
        kafka_describegroups_resp rout;
        ROUNDTRIP(describegroups, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 1 ? 2 : 0);
        CHECK_EQ_INT(rout.n_groups, 2);
        for (int32_t i = 0; i < rout.n_groups && i < 2; i++)
            check_described_group(v, &rout.groups[i], &gs[i]);
        arena_free(&a);
        NOTE_VERSION(before, "DescribeGroups", v);
    }
}

/* ---- ListGroups (16) ----------------------------------------------------- */

static void test_listgroups(void) {
    for (int16_t v = 0; v <= 5; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_str states[2] = {S("Stable"), S("Empty")};
        kafka_str types[2] = {S("classic"), S("consumer")};
        kafka_listgroups_req in = {states, 2, types, 2};
        kafka_listgroups_req out;
        ROUNDTRIP(listgroups, req, v, &in, &out, &a);
        CHECK_EQ_INT(out.n_states_filter, v >= 4 ? 2 : 0);
        for (int32_t i = 0; i < out.n_states_filter && i < 2; i++)
            CHECK_STR(out.states_filter[i], states[i]);
        CHECK_EQ_INT(out.n_types_filter, v >= 5 ? 2 : 0);
        for (int32_t i = 0; i < out.n_types_filter && i < 2; i++)
            CHECK_STR(out.types_filter[i], types[i]);

        kafka_listgroups_group gs[2] = {
            {S("g1"), S("consumer"), S("Stable"), S("classic")},
            {S("g2"), S(""), S("Empty"), S("consumer")},
        };
        kafka_listgroups_resp rin = {.throttle_time_ms = 1, .error_code = 15, .groups = gs,
                                     .n_groups = 2};
        kafka_listgroups_resp rout;
        ROUNDTRIP(listgroups, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 1 ? 1 : 0);
        CHECK_EQ_INT(rout.error_code, 15);
        CHECK_EQ_INT(rout.n_groups, 2);
        for (int32_t i = 0; i < rout.n_groups && i < 2; i++) {
            CHECK_STR(rout.groups[i].group_id, gs[i].group_id);
            CHECK_STR(rout.groups[i].protocol_type, gs[i].protocol_type);
            CHECK_STR(rout.groups[i].group_state, v >= 4 ? gs[i].group_state : EMPTY);
            CHECK_STR(rout.groups[i].group_type, v >= 5 ? gs[i].group_type : EMPTY);
        }
        arena_free(&a);
        NOTE_VERSION(before, "ListGroups", v);
    }
}

/* ---- SaslHandshake (17) and SaslAuthenticate (36) ------------------------ */

static void test_saslhandshake(void) {
    for (int16_t v = 0; v <= 1; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_saslhandshake_req in = {S("PLAIN")};
        kafka_saslhandshake_req out;
        ROUNDTRIP(saslhandshake, req, v, &in, &out, &a);
        CHECK_STR(out.mechanism, in.mechanism);

        kafka_str mechs[2] = {S("PLAIN"), S("SCRAM-SHA-256")};
        kafka_saslhandshake_resp rin = {33, mechs, 2};
        kafka_saslhandshake_resp rout;
        ROUNDTRIP(saslhandshake, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.error_code, 33);
        CHECK_EQ_INT(rout.n_mechanisms, 2);
        for (int32_t i = 0; i < rout.n_mechanisms && i < 2; i++)
            CHECK_STR(rout.mechanisms[i], mechs[i]);
        arena_free(&a);
        NOTE_VERSION(before, "SaslHandshake", v);
    }
}

static void test_saslauthenticate(void) {
    static const char token[] = "\0user\0secret";
    for (int16_t v = 0; v <= 2; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_saslauthenticate_req in = {B(token, sizeof token - 1)};
        kafka_saslauthenticate_req out;
        ROUNDTRIP(saslauthenticate, req, v, &in, &out, &a);
        CHECK_BYTES(out.auth_bytes, in.auth_bytes);

        /* error message both null (success) and set (failure) */
        for (int variant = 0; variant < 2; variant++) {
            kafka_saslauthenticate_resp rin = {
                .error_code = variant ? 58 : 0,
                .error_message = variant ? S("Authentication failed") : NUL,
                .auth_bytes = variant ? B("", 0) : B("srv", 3),
                .session_lifetime_ms = 3600000};
            kafka_saslauthenticate_resp rout;
            ROUNDTRIP(saslauthenticate, resp, v, &rin, &rout, &a);
            CHECK_EQ_INT(rout.error_code, rin.error_code);
            CHECK_STR(rout.error_message, rin.error_message);
            CHECK_BYTES(rout.auth_bytes, rin.auth_bytes);
            CHECK_EQ_INT(rout.session_lifetime_ms, v >= 1 ? 3600000 : 0);
        }
        arena_free(&a);
        NOTE_VERSION(before, "SaslAuthenticate", v);
    }
}

/* ---- OffsetCommit (8) ---------------------------------------------------- */

static void check_commit_req_topic(int16_t v, const kafka_offsetcommit_req_topic *got,
                                   const kafka_offsetcommit_req_topic *want) {
    CHECK_STR(got->name, want->name);
    CHECK_EQ_INT(got->n_partitions, want->n_partitions);
    for (int32_t j = 0; j < got->n_partitions && j < want->n_partitions; j++) {
        const kafka_offsetcommit_req_partition *gp = &got->partitions[j], *wp = &want->partitions[j];
        CHECK_EQ_INT(gp->partition_index, wp->partition_index);
        CHECK_EQ_INT(gp->committed_offset, wp->committed_offset);
        CHECK_EQ_INT(gp->committed_leader_epoch, v >= 6 ? wp->committed_leader_epoch : -1);
        CHECK_EQ_INT(gp->commit_timestamp, v == 1 ? wp->commit_timestamp : -1);
        CHECK_STR(gp->committed_metadata, wp->committed_metadata);
    }
}

static void test_offsetcommit(void) {
    for (int16_t v = 0; v <= 9; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_offsetcommit_req_partition p1[2] = {
            {0, 42, 3, 1700000000000, NUL},
            {1, 0x100000000LL, 4, 1700000000001, S("meta")},
        };
        kafka_offsetcommit_req_partition p2[2] = {
            {7, 1, 5, 1700000000002, S("")},
            {8, 2, 6, 1700000000003, S("m2")},
        };
        kafka_offsetcommit_req_topic ts[2] = {{S("orders"), p1, 2}, {S("t2"), p2, 2}};
        kafka_offsetcommit_req in = {.group_id = S("g"), .generation_id_or_member_epoch = 9,
                                     .member_id = S("m-1"), .group_instance_id = S("inst"),
                                     .retention_time_ms = 86400000, .topics = ts, .n_topics = 2};
        kafka_offsetcommit_req out;
        ROUNDTRIP(offsetcommit, req, v, &in, &out, &a);
        CHECK_STR(out.group_id, in.group_id);
        CHECK_EQ_INT(out.generation_id_or_member_epoch, v >= 1 ? 9 : -1);
        CHECK_STR(out.member_id, v >= 1 ? in.member_id : EMPTY);
        CHECK_STR(out.group_instance_id, v >= 7 ? in.group_instance_id : NUL);
        CHECK_EQ_INT(out.retention_time_ms, v >= 2 && v <= 4 ? 86400000 : -1);
        CHECK_EQ_INT(out.n_topics, 2);
        for (int32_t i = 0; i < out.n_topics && i < 2; i++)
            check_commit_req_topic(v, &out.topics[i], &ts[i]);

        kafka_offsetcommit_resp_partition rp1[2] = {{0, 0}, {1, 12}};
        kafka_offsetcommit_resp_partition rp2[2] = {{7, 22}, {8, 25}};
        kafka_offsetcommit_resp_topic rts[2] = {{S("orders"), rp1, 2}, {S("t2"), rp2, 2}};
        kafka_offsetcommit_resp rin = {.throttle_time_ms = 6, .topics = rts, .n_topics = 2};
        kafka_offsetcommit_resp rout;
        ROUNDTRIP(offsetcommit, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 3 ? 6 : 0);
        CHECK_EQ_INT(rout.n_topics, 2);
        for (int32_t i = 0; i < rout.n_topics && i < 2; i++) {
            CHECK_STR(rout.topics[i].name, rts[i].name);
            CHECK_EQ_INT(rout.topics[i].n_partitions, 2);
            for (int32_t j = 0; j < rout.topics[i].n_partitions && j < 2; j++) {
                CHECK_EQ_INT(rout.topics[i].partitions[j].partition_index,
                             rts[i].partitions[j].partition_index);
                CHECK_EQ_INT(rout.topics[i].partitions[j].error_code,
                             rts[i].partitions[j].error_code);
            }
        }
        arena_free(&a);
        NOTE_VERSION(before, "OffsetCommit", v);
    }
}

/* ---- OffsetFetch (9) ----------------------------------------------------- */

static void check_fetch_req_topics(const kafka_offsetfetch_req_topic *got, int32_t n_got,
                                   const kafka_offsetfetch_req_topic *want, int32_t n_want) {
    CHECK_EQ_INT(n_got, n_want);
    for (int32_t i = 0; i < n_got && i < n_want; i++) {
        CHECK_STR(got[i].name, want[i].name);
        CHECK_EQ_INT(got[i].n_partition_indexes, want[i].n_partition_indexes);
        for (int32_t j = 0; j < got[i].n_partition_indexes && j < want[i].n_partition_indexes; j++)
            CHECK_EQ_INT(got[i].partition_indexes[j], want[i].partition_indexes[j]);
    }
}

static void check_fetch_resp_topics(int16_t v, const kafka_offsetfetch_resp_topic *got, int32_t n_got,
                                    const kafka_offsetfetch_resp_topic *want, int32_t n_want) {
    CHECK_EQ_INT(n_got, n_want);
    for (int32_t i = 0; i < n_got && i < n_want; i++) {
        CHECK_STR(got[i].name, want[i].name);
        CHECK_EQ_INT(got[i].n_partitions, want[i].n_partitions);
        for (int32_t j = 0; j < got[i].n_partitions && j < want[i].n_partitions; j++) {
            const kafka_offsetfetch_resp_partition *gp = &got[i].partitions[j];
            const kafka_offsetfetch_resp_partition *wp = &want[i].partitions[j];
            CHECK_EQ_INT(gp->partition_index, wp->partition_index);
            CHECK_EQ_INT(gp->committed_offset, wp->committed_offset);
            CHECK_EQ_INT(gp->committed_leader_epoch, v >= 5 ? wp->committed_leader_epoch : -1);
            CHECK_STR(gp->metadata, wp->metadata);
            CHECK_EQ_INT(gp->error_code, wp->error_code);
        }
    }
}

static void test_offsetfetch(void) {
    int32_t parts_a[2] = {0, 5};
    int32_t parts_b[2] = {2, 3};
    kafka_offsetfetch_req_topic ts[2] = {{S("orders"), parts_a, 2}, {S("t2"), parts_b, 2}};
    kafka_offsetfetch_resp_partition rp1[2] = {{0, 100, 7, NUL, 0}, {5, -1, 8, S("x"), 3}};
    kafka_offsetfetch_resp_partition rp2[2] = {{2, 1, 9, S(""), 0}, {3, 2, 10, S("m"), 88}};
    kafka_offsetfetch_resp_topic rts[2] = {{S("orders"), rp1, 2}, {S("t2"), rp2, 2}};

    for (int16_t v = 0; v <= 9; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        /* groups: one with a member id and a topic list, one asking for all */
        kafka_offsetfetch_req_group gs[2] = {
            {S("g1"), S("m-1"), 5, ts, 2},
            {S("g2"), NUL, 6, NULL, -1},
        };
        kafka_offsetfetch_req in = {.group_id = S("g0"), .topics = ts, .n_topics = 2,
                                    .groups = gs, .n_groups = 2, .require_stable = true};
        kafka_offsetfetch_req out;
        ROUNDTRIP(offsetfetch, req, v, &in, &out, &a);
        CHECK_STR(out.group_id, v <= 7 ? in.group_id : EMPTY);
        if (v <= 7)
            check_fetch_req_topics(out.topics, out.n_topics, ts, 2);
        else
            CHECK_EQ_INT(out.n_topics, 0);
        CHECK_EQ_INT(out.n_groups, v >= 8 ? 2 : 0);
        for (int32_t i = 0; i < out.n_groups && i < 2; i++) {
            CHECK_STR(out.groups[i].group_id, gs[i].group_id);
            CHECK_STR(out.groups[i].member_id, v >= 9 ? gs[i].member_id : NUL);
            CHECK_EQ_INT(out.groups[i].member_epoch, v >= 9 ? gs[i].member_epoch : -1);
            check_fetch_req_topics(out.groups[i].topics, out.groups[i].n_topics, gs[i].topics,
                                   gs[i].n_topics);
            if (gs[i].n_topics < 0)
                CHECK(out.groups[i].topics == NULL);
        }
        CHECK_EQ_INT(out.require_stable, v >= 7);

        /* a null top-level topic list means "all topics" from v2 on; v0-1
         * cannot say so and send an empty list instead */
        if (v <= 7) {
            kafka_offsetfetch_req all = {.group_id = S("g0"), .topics = NULL, .n_topics = -1};
            ROUNDTRIP(offsetfetch, req, v, &all, &out, &a);
            CHECK_EQ_INT(out.n_topics, v >= 2 ? -1 : 0);
            CHECK(out.topics == NULL);
        }

        kafka_offsetfetch_resp_group rgs[2] = {{S("g1"), rts, 2, 0}, {S("g2"), NULL, 0, 69}};
        kafka_offsetfetch_resp rin = {.throttle_time_ms = 4, .topics = rts, .n_topics = 2,
                                      .error_code = 14, .groups = rgs, .n_groups = 2};
        kafka_offsetfetch_resp rout;
        ROUNDTRIP(offsetfetch, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, v >= 3 ? 4 : 0);
        if (v <= 7)
            check_fetch_resp_topics(v, rout.topics, rout.n_topics, rts, 2);
        else
            CHECK_EQ_INT(rout.n_topics, 0);
        CHECK_EQ_INT(rout.error_code, v >= 2 && v <= 7 ? 14 : 0);
        CHECK_EQ_INT(rout.n_groups, v >= 8 ? 2 : 0);
        for (int32_t i = 0; i < rout.n_groups && i < 2; i++) {
            CHECK_STR(rout.groups[i].group_id, rgs[i].group_id);
            check_fetch_resp_topics(v, rout.groups[i].topics, rout.groups[i].n_topics,
                                    rgs[i].topics, rgs[i].n_topics);
            CHECK_EQ_INT(rout.groups[i].error_code, rgs[i].error_code);
        }
        arena_free(&a);
        NOTE_VERSION(before, "OffsetFetch", v);
    }
}

/* ---- DeleteGroups (42) and OffsetDelete (47) ----------------------------- */

static void test_deletegroups(void) {
    for (int16_t v = 0; v <= 2; v++) {
        int before = unit_failures;
        arena a;
        arena_init(&a);

        kafka_str names[2] = {S("old-group"), S("g2")};
        kafka_deletegroups_req in = {names, 2};
        kafka_deletegroups_req out;
        ROUNDTRIP(deletegroups, req, v, &in, &out, &a);
        CHECK_EQ_INT(out.n_groups_names, 2);
        for (int32_t i = 0; i < out.n_groups_names && i < 2; i++)
            CHECK_STR(out.groups_names[i], names[i]);

        kafka_deletegroups_result res[2] = {{S("old-group"), 0}, {S("g2"), 68}};
        kafka_deletegroups_resp rin = {9, res, 2};
        kafka_deletegroups_resp rout;
        ROUNDTRIP(deletegroups, resp, v, &rin, &rout, &a);
        CHECK_EQ_INT(rout.throttle_time_ms, 9);
        CHECK_EQ_INT(rout.n_results, 2);
        for (int32_t i = 0; i < rout.n_results && i < 2; i++) {
            CHECK_STR(rout.results[i].group_id, res[i].group_id);
            CHECK_EQ_INT(rout.results[i].error_code, res[i].error_code);
        }
        arena_free(&a);
        NOTE_VERSION(before, "DeleteGroups", v);
    }
}

static void test_offsetdelete(void) {
    arena a;
    arena_init(&a);
    int16_t v = 0;

    int32_t p1[2] = {0, 1}, p2[2] = {4, 9};
    kafka_offsetdelete_req_topic ts[2] = {{S("orders"), p1, 2}, {S("t2"), p2, 2}};
    kafka_offsetdelete_req in = {S("g"), ts, 2};
    kafka_offsetdelete_req out;
    ROUNDTRIP(offsetdelete, req, v, &in, &out, &a);
    CHECK_STR(out.group_id, in.group_id);
    CHECK_EQ_INT(out.n_topics, 2);
    for (int32_t i = 0; i < out.n_topics && i < 2; i++) {
        CHECK_STR(out.topics[i].name, ts[i].name);
        CHECK_EQ_INT(out.topics[i].n_partitions, 2);
        for (int32_t j = 0; j < out.topics[i].n_partitions && j < 2; j++)
            CHECK_EQ_INT(out.topics[i].partitions[j], ts[i].partitions[j]);
    }

    kafka_offsetdelete_resp_partition rp1[2] = {{0, 0}, {1, 86}};
    kafka_offsetdelete_resp_partition rp2[2] = {{4, 3}, {9, 0}};
    kafka_offsetdelete_resp_topic rts[2] = {{S("orders"), rp1, 2}, {S("t2"), rp2, 2}};
    kafka_offsetdelete_resp rin = {30, 12, rts, 2};
    kafka_offsetdelete_resp rout;
    ROUNDTRIP(offsetdelete, resp, v, &rin, &rout, &a);
    CHECK_EQ_INT(rout.error_code, 30);
    CHECK_EQ_INT(rout.throttle_time_ms, 12);
    CHECK_EQ_INT(rout.n_topics, 2);
    for (int32_t i = 0; i < rout.n_topics && i < 2; i++) {
        CHECK_STR(rout.topics[i].name, rts[i].name);
        CHECK_EQ_INT(rout.topics[i].n_partitions, 2);
        for (int32_t j = 0; j < rout.topics[i].n_partitions && j < 2; j++) {
            CHECK_EQ_INT(rout.topics[i].partitions[j].partition_index,
                         rts[i].partitions[j].partition_index);
            CHECK_EQ_INT(rout.topics[i].partitions[j].error_code, rts[i].partitions[j].error_code);
        }
    }
    arena_free(&a);
}

/* ---- embedded consumer protocol ----------------------------------------- */

static void check_topic_partitions(const kafka_consumer_topic_partitions *got, int32_t n_got,
                                   const kafka_consumer_topic_partitions *want, int32_t n_want) {
    CHECK_EQ_INT(n_got, n_want);
    for (int32_t i = 0; i < n_got && i < n_want; i++) {
        CHECK_STR(got[i].topic, want[i].topic);
        CHECK_EQ_INT(got[i].n_partitions, want[i].n_partitions);
        for (int32_t j = 0; j < got[i].n_partitions && j < want[i].n_partitions; j++)
            CHECK_EQ_INT(got[i].partitions[j], want[i].partitions[j]);
    }
}

/* Encode with @p encode_version, then rewrite the version prefix to
 * @p wire_version and append @p extra junk bytes: a newer version only adds
 * fields after the ones we know. */
static const uint8_t *encode_subscription(arena *a, int16_t encode_version, int16_t wire_version,
                                          size_t extra, const kafka_consumer_subscription *in,
                                          size_t *len) {
    kafka_writer w;
    kw_init(&w);
    kafka_consumer_subscription_encode(&w, encode_version, in);
    for (size_t i = 0; i < extra; i++)
        kw_i8(&w, 0x5a);
    uint8_t *buf = (uint8_t *)flatten(&w, a, len);
    if (buf) {
        buf[0] = (uint8_t)((uint16_t)wire_version >> 8);
        buf[1] = (uint8_t)wire_version;
    }
    return buf;
}

static void test_consumer_subscription(void) {
    kafka_str topics[2] = {S("orders"), S("payments")};
    int32_t pa[2] = {0, 2}, pb[2] = {1, 3};
    kafka_consumer_topic_partitions owned[2] = {{S("orders"), pa, 2}, {S("payments"), pb, 2}};
    kafka_consumer_subscription in = {.topics = topics, .n_topics = 2,
                                      .user_data = B("ud\0x", 4), .owned_partitions = owned,
                                      .n_owned_partitions = 2, .generation_id = 17,
                                      .rack_id = S("rack-a")};
    /* versions 0-3 as they are, and 4/7 as "newer than we know" */
    static const int16_t wire_versions[] = {0, 1, 2, 3, 4, 7};
    for (size_t k = 0; k < sizeof wire_versions / sizeof wire_versions[0]; k++) {
        int16_t wv = wire_versions[k];
        int16_t ev = wv > 3 ? 3 : wv;
        int before = unit_failures;
        arena a;
        arena_init(&a);
        size_t len;
        const uint8_t *buf = encode_subscription(&a, ev, wv, wv > 3 ? 5 : 0, &in, &len);
        kafka_consumer_subscription out;
        memset(&out, 0xA5, sizeof out);
        kafka_reader r;
        kr_init(&r, buf, len);
        CHECK_EQ_INT(kafka_consumer_subscription_decode(&r, &a, &out), 0);
        CHECK_EQ_INT(kr_remaining(&r), 0);
        CHECK_EQ_INT(out.version, wv);
        CHECK_EQ_INT(out.n_topics, 2);
        for (int32_t i = 0; i < out.n_topics && i < 2; i++)
            CHECK_STR(out.topics[i], topics[i]);
        CHECK_BYTES(out.user_data, in.user_data);
        if (ev >= 1)
            check_topic_partitions(out.owned_partitions, out.n_owned_partitions, owned, 2);
        else
            CHECK_EQ_INT(out.n_owned_partitions, 0);
        CHECK_EQ_INT(out.generation_id, ev >= 2 ? 17 : -1);
        CHECK_STR(out.rack_id, ev >= 3 ? in.rack_id : NUL);

        /* every prefix of a known version is refused (newer versions may
         * legitimately end anywhere after the v3 fields) */
        size_t bad = 0;
        for (size_t cut = 0; wv <= 3 && cut < len; cut++) {
            uint8_t *p = exact_copy(buf, cut);
            arena ta;
            arena_init(&ta);
            kafka_consumer_subscription s;
            kafka_reader tr;
            kr_init(&tr, p, cut);
            if (kafka_consumer_subscription_decode(&tr, &ta, &s) != -EBADMSG)
                bad++;
            arena_free(&ta);
            free(p);
        }
        CHECK_EQ_INT(bad, 0);
        arena_free(&a);
        NOTE_VERSION(before, "ConsumerProtocolSubscription", wv);
    }

    /* null user data, and the hand-worked v0 layout */
    static const uint8_t v0[] = {
        0x00, 0x00,                   /* version 0 */
        0x00, 0x00, 0x00, 0x01,       /* 1 topic */
        0x00, 0x01, 't',              /* "t" */
        0xff, 0xff, 0xff, 0xff,       /* user data: null */
    };
    arena a;
    arena_init(&a);
    kafka_consumer_subscription out;
    kafka_reader r;
    kr_init(&r, v0, sizeof v0);
    CHECK_EQ_INT(kafka_consumer_subscription_decode(&r, &a, &out), 0);
    CHECK_EQ_INT(out.n_topics, 1);
    if (out.n_topics == 1)
        CHECK_STR(out.topics[0], S("t"));
    CHECK_BYTES(out.user_data, NUL_BYTES);
    kafka_writer w;
    kw_init(&w);
    kafka_consumer_subscription_encode(&w, 0, &out);
    size_t len;
    const uint8_t *enc = flatten(&w, &a, &len);
    CHECK_EQ_INT(len, sizeof v0);
    if (enc && len == sizeof v0)
        CHECK_MEM(enc, v0, sizeof v0);

    /* a negative version is not a consumer subscription */
    static const uint8_t negative[] = {0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
    kr_init(&r, negative, sizeof negative);
    CHECK_EQ_INT(kafka_consumer_subscription_decode(&r, &a, &out), -EBADMSG);
    arena_free(&a);
}

static void test_consumer_assignment(void) {
    int32_t pa[2] = {0, 1}, pb[2] = {7, 8};
    kafka_consumer_topic_partitions tps[2] = {{S("orders"), pa, 2}, {S("t2"), pb, 2}};
    static const int16_t wire_versions[] = {0, 1, 2, 3, 5};
    for (size_t k = 0; k < sizeof wire_versions / sizeof wire_versions[0]; k++) {
        int16_t wv = wire_versions[k];
        int before = unit_failures;
        arena a;
        arena_init(&a);
        /* alternate null and non-null user data across versions */
        kafka_consumer_assignment in = {.assigned_partitions = tps, .n_assigned_partitions = 2,
                                        .user_data = k % 2 ? NUL_BYTES : B("\x01\x02", 2)};
        kafka_writer w;
        kw_init(&w);
        kafka_consumer_assignment_encode(&w, wv > 3 ? 3 : wv, &in);
        if (wv > 3)
            kw_i32(&w, 0x12345678);   /* a field of a future version */
        size_t len;
        uint8_t *buf = (uint8_t *)flatten(&w, &a, &len);
        if (buf)
            buf[1] = (uint8_t)wv;
        kafka_consumer_assignment out;
        memset(&out, 0xA5, sizeof out);
        kafka_reader r;
        kr_init(&r, buf, len);
        CHECK_EQ_INT(kafka_consumer_assignment_decode(&r, &a, &out), 0);
        CHECK_EQ_INT(kr_remaining(&r), 0);
        CHECK_EQ_INT(out.version, wv);
        check_topic_partitions(out.assigned_partitions, out.n_assigned_partitions, tps, 2);
        CHECK_BYTES(out.user_data, in.user_data);

        size_t bad = 0;
        for (size_t cut = 0; wv <= 3 && cut < len; cut++) {
            uint8_t *p = exact_copy(buf, cut);
            arena ta;
            arena_init(&ta);
            kafka_consumer_assignment s;
            kafka_reader tr;
            kr_init(&tr, p, cut);
            if (kafka_consumer_assignment_decode(&tr, &ta, &s) != -EBADMSG)
                bad++;
            arena_free(&ta);
            free(p);
        }
        CHECK_EQ_INT(bad, 0);
        arena_free(&a);
        NOTE_VERSION(before, "ConsumerProtocolAssignment", wv);
    }
}

/* ---- byte vectors worked out by hand ------------------------------------ */

/* Encode with @p encode into a fresh writer and compare with @p want. */
#define CHECK_ENCODES_TO(api, dir, ver, in, want)                                      \
    do {                                                                               \
        kafka_writer w_;                                                               \
        kw_init(&w_);                                                                  \
        kafka_##api##_##dir##_encode(&w_, (ver), (in));                                \
        uint8_t *got_ = NULL;                                                          \
        size_t len_ = 0;                                                               \
        CHECK_EQ_INT(kw_flatten(&w_, &got_, &len_), 0);                                \
        CHECK_EQ_INT(len_, sizeof(want));                                              \
        if (got_ && len_ == sizeof(want))                                              \
            CHECK_MEM(got_, (want), sizeof(want));                                     \
        free(got_);                                                                    \
        kw_free(&w_);                                                                  \
    } while (0)

static void test_vector_joingroup_v0(void) {
    static const uint8_t req[] = {
        0x00, 0x02, 'g', '1',                              /* group_id "g1" */
        0x00, 0x00, 0x75, 0x30,                            /* session timeout 30000 */
        0x00, 0x00,                                        /* member_id "" */
        0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', /* protocol_type */
        0x00, 0x00, 0x00, 0x01,                            /* 1 protocol */
        0x00, 0x05, 'r', 'a', 'n', 'g', 'e',               /* name "range" */
        0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,          /* metadata, 3 bytes */
    };
    arena a;
    arena_init(&a);
    kafka_joingroup_req out;
    kafka_reader r;
    kr_init(&r, req, sizeof req);
    CHECK_EQ_INT(kafka_joingroup_req_decode(&r, 0, &a, &out), 0);
    CHECK_EQ_INT(kr_remaining(&r), 0);
    CHECK_STR(out.group_id, S("g1"));
    CHECK_EQ_INT(out.session_timeout_ms, 30000);
    CHECK_EQ_INT(out.rebalance_timeout_ms, -1);
    CHECK_STR(out.member_id, EMPTY);
    CHECK_STR(out.group_instance_id, NUL);
    CHECK_STR(out.protocol_type, S("consumer"));
    CHECK_EQ_INT(out.n_protocols, 1);
    if (out.n_protocols == 1) {
        CHECK_STR(out.protocols[0].name, S("range"));
        CHECK_BYTES(out.protocols[0].metadata, B("\x01\x02\x03", 3));
    }
    CHECK_STR(out.reason, NUL);
    CHECK_ENCODES_TO(joingroup, req, 0, &out, req);
    arena_free(&a);
}

static void test_vector_saslhandshake_v1(void) {
    static const uint8_t req[] = {0x00, 0x05, 'P', 'L', 'A', 'I', 'N'};
    arena a;
    arena_init(&a);
    kafka_saslhandshake_req out;
    kafka_reader r;
    kr_init(&r, req, sizeof req);
    CHECK_EQ_INT(kafka_saslhandshake_req_decode(&r, 1, &a, &out), 0);
    CHECK_EQ_INT(kr_remaining(&r), 0);
    CHECK_STR(out.mechanism, S("PLAIN"));
    kafka_saslhandshake_req in = {S("PLAIN")};
    CHECK_ENCODES_TO(saslhandshake, req, 1, &in, req);

    /* and the answer a server gives: no error, mechanisms ["PLAIN"] */
    static const uint8_t resp[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05,
                                   'P',  'L',  'A',  'I',  'N'};
    kafka_str mech = S("PLAIN");
    kafka_saslhandshake_resp rin = {0, &mech, 1};
    CHECK_ENCODES_TO(saslhandshake, resp, 1, &rin, resp);
    arena_free(&a);
}

static void test_vector_offsetfetch_v8(void) {
    static const uint8_t req[] = {
        0x03,                                      /* groups: 2 (compact, n+1) */
        0x03, 'g', '1',                            /* group_id "g1" */
        0x02,                                      /* topics: 1 */
        0x02, 't',                                 /* name "t" */
        0x03, 0, 0, 0, 0, 0, 0, 0, 1,              /* partition indexes [0, 1] */
        0x00,                                      /* topic tags */
        0x00,                                      /* group tags */
        0x03, 'g', '2',                            /* group_id "g2" */
        0x00,                                      /* topics: null = all */
        0x00,                                      /* group tags */
        0x01,                                      /* require_stable */
        0x00,                                      /* request tags */
    };
    arena a;
    arena_init(&a);
    kafka_offsetfetch_req out;
    kafka_reader r;
    kr_init(&r, req, sizeof req);
    CHECK_EQ_INT(kafka_offsetfetch_req_decode(&r, 8, &a, &out), 0);
    CHECK_EQ_INT(kr_remaining(&r), 0);
    CHECK_EQ_INT(out.n_groups, 2);
    CHECK_EQ_INT(out.require_stable, 1);
    if (out.n_groups == 2) {
        CHECK_STR(out.groups[0].group_id, S("g1"));
        CHECK_STR(out.groups[0].member_id, NUL);
        CHECK_EQ_INT(out.groups[0].member_epoch, -1);
        CHECK_EQ_INT(out.groups[0].n_topics, 1);
        if (out.groups[0].n_topics == 1) {
            CHECK_STR(out.groups[0].topics[0].name, S("t"));
            CHECK_EQ_INT(out.groups[0].topics[0].n_partition_indexes, 2);
            if (out.groups[0].topics[0].n_partition_indexes == 2) {
                CHECK_EQ_INT(out.groups[0].topics[0].partition_indexes[0], 0);
                CHECK_EQ_INT(out.groups[0].topics[0].partition_indexes[1], 1);
            }
        }
        CHECK_STR(out.groups[1].group_id, S("g2"));
        CHECK_EQ_INT(out.groups[1].n_topics, -1);
    }
    CHECK_ENCODES_TO(offsetfetch, req, 8, &out, req);
    arena_free(&a);
}

/* ---- malformed input ----------------------------------------------------- */

/* Unknown tagged fields are skipped wherever a tag section may appear. */
static void test_unknown_tags_skipped(void) {
    static const uint8_t hb[] = {
        0x02, 'g',                 /* group_id */
        0x00, 0x00, 0x00, 0x01,    /* generation */
        0x02, 'm',                 /* member_id */
        0x00,                      /* group_instance_id null */
        0x02,                      /* 2 tagged fields */
        0x05, 0x02, 0xaa, 0xbb,    /* tag 5, 2 bytes */
        0x7f, 0x00,                /* tag 127, empty */
    };
    int rc;
    DECODE_RAW(heartbeat, req, 4, hb, sizeof hb, rc);
    CHECK_EQ_INT(rc, 0);

    /* a tag in a nested struct (ListGroups v3 group) */
    static const uint8_t lg[] = {
        0x00, 0x00, 0x00, 0x00,    /* throttle */
        0x00, 0x00,                /* error */
        0x02,                      /* 1 group */
        0x02, 'g', 0x01,           /* group_id "g", protocol_type "" */
        0x01, 0x09, 0x01, 0x00,    /* 1 tag: 9, 1 byte */
        0x00,                      /* response tags */
    };
    DECODE_RAW(listgroups, resp, 3, lg, sizeof lg, rc);
    CHECK_EQ_INT(rc, 0);

    /* a tag whose size runs past the end */
    static const uint8_t bad[] = {0x02, 'g', 0, 0, 0, 1, 0x02, 'm', 0x00, 0x01, 0x05, 0x10, 0xaa};
    DECODE_RAW(heartbeat, req, 4, bad, sizeof bad, rc);
    CHECK_EQ_INT(rc, -EBADMSG);
}

/* Array counts larger than the rest of the input are refused before any
 * allocation, using each element's smallest encoding. */
static void test_lying_counts(void) {
    int rc;
    /* DescribeGroups v0 request: 2^31-1 group names in 4 bytes */
    static const uint8_t dg[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'g', 0x00};
    DECODE_RAW(describegroups, req, 0, dg, sizeof dg, rc);
    CHECK_EQ_INT(rc, -EBADMSG);

    /* DescribeGroups v0 response: 2 groups need at least 2 x 14 bytes */
    static const uint8_t dgr[] = {0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0,    0,    0,    0,    0, 0};
    DECODE_RAW(describegroups, resp, 0, dgr, sizeof dgr, rc);
    CHECK_EQ_INT(rc, -EBADMSG);

    /* OffsetCommit v8 (compact): a huge uvarint topic count */
    static const uint8_t oc[] = {0x02, 'g', 0, 0, 0, 1, 0x01, 0x00,
                                 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
    DECODE_RAW(offsetcommit, req, 8, oc, sizeof oc, rc);
    CHECK_EQ_INT(rc, -EBADMSG);

    /* OffsetDelete: a partition count beyond the input, nested */
    static const uint8_t od[] = {0x00, 0x01, 'g', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
                                 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01};
    DECODE_RAW(offsetdelete, req, 0, od, sizeof od, rc);
    CHECK_EQ_INT(rc, -EBADMSG);

    /* SaslHandshake response: 3 mechanisms, bytes for one */
    static const uint8_t sh[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 'P'};
    DECODE_RAW(saslhandshake, resp, 1, sh, sizeof sh, rc);
    CHECK_EQ_INT(rc, -EBADMSG);

    /* consumer assignment: 1000 partitions in 8 bytes */
    static const uint8_t ca[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
                                 0x00, 0x00, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t *p = exact_copy(ca, sizeof ca);
    arena a;
    arena_init(&a);
    kafka_consumer_assignment asg;
    kafka_reader r;
    kr_init(&r, p, sizeof ca);
    CHECK_EQ_INT(kafka_consumer_assignment_decode(&r, &a, &asg), -EBADMSG);
    arena_free(&a);
    free(p);
}

/* A null where the protocol does not allow one is malformed. */
static void test_null_where_not_nullable(void) {
    int rc;
    /* DeleteGroups v0: null group list */
    static const uint8_t dl[] = {0xff, 0xff, 0xff, 0xff};
    DECODE_RAW(deletegroups, req, 0, dl, sizeof dl, rc);
    CHECK_EQ_INT(rc, -EBADMSG);
    /* OffsetFetch v1: null topics only exist from v2 */
    static const uint8_t of[] = {0x00, 0x01, 'g', 0xff, 0xff, 0xff, 0xff};
    DECODE_RAW(offsetfetch, req, 1, of, sizeof of, rc);
    CHECK_EQ_INT(rc, -EBADMSG);
    DECODE_RAW(offsetfetch, req, 2, of, sizeof of, rc);
    CHECK_EQ_INT(rc, 0);
    /* JoinGroup v6: null protocol_name in the response (nullable only v7+) */
    static const uint8_t jg[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00 /* null name */,
                                 0x01, 0x01, 0x01, 0x00};
    DECODE_RAW(joingroup, resp, 6, jg, sizeof jg, rc);
    CHECK_EQ_INT(rc, -EBADMSG);
    /* Heartbeat v0: null group id */
    static const uint8_t hb[] = {0xff, 0xff, 0, 0, 0, 1, 0x00, 0x00};
    DECODE_RAW(heartbeat, req, 0, hb, sizeof hb, rc);
    CHECK_EQ_INT(rc, -EBADMSG);
}

/* Versions outside validVersions are refused without reading anything. */
static void test_bad_versions(void) {
    static const uint8_t zeros[64];
    int rc;
#define BAD_VERSION(api, max)                                                  \
    do {                                                                       \
        DECODE_RAW(api, req, (max) + 1, zeros, sizeof zeros, rc);              \
        CHECK_EQ_INT(rc, -EBADMSG);                                            \
        DECODE_RAW(api, resp, (max) + 1, zeros, sizeof zeros, rc);             \
        CHECK_EQ_INT(rc, -EBADMSG);                                            \
        DECODE_RAW(api, req, -1, zeros, sizeof zeros, rc);                     \
        CHECK_EQ_INT(rc, -EBADMSG);                                            \
        DECODE_RAW(api, resp, -1, zeros, sizeof zeros, rc);                    \
        CHECK_EQ_INT(rc, -EBADMSG);                                            \
    } while (0)
    BAD_VERSION(findcoordinator, 6);
    BAD_VERSION(joingroup, 9);
    BAD_VERSION(heartbeat, 4);
    BAD_VERSION(leavegroup, 5);
    BAD_VERSION(syncgroup, 5);
    BAD_VERSION(describegroups, 5);
    BAD_VERSION(listgroups, 5);
    BAD_VERSION(saslhandshake, 1);
    BAD_VERSION(saslauthenticate, 2);
    BAD_VERSION(offsetcommit, 9);
    BAD_VERSION(offsetfetch, 9);
    BAD_VERSION(deletegroups, 2);
    BAD_VERSION(offsetdelete, 0);
#undef BAD_VERSION
}

int main(void) {
    RUN(test_findcoordinator);
    RUN(test_joingroup);
    RUN(test_heartbeat);
    RUN(test_leavegroup);
    RUN(test_syncgroup);
    RUN(test_describegroups);
    RUN(test_listgroups);
    RUN(test_saslhandshake);
    RUN(test_saslauthenticate);
    RUN(test_offsetcommit);
    RUN(test_offsetfetch);
    RUN(test_deletegroups);
    RUN(test_offsetdelete);
    RUN(test_consumer_subscription);
    RUN(test_consumer_assignment);
    RUN(test_vector_joingroup_v0);
    RUN(test_vector_saslhandshake_v1);
    RUN(test_vector_offsetfetch_v8);
    RUN(test_unknown_tags_skipped);
    RUN(test_lying_counts);
    RUN(test_null_where_not_nullable);
    RUN(test_bad_versions);
    return unit_done();
}
