/* test_group.c — the group coordinator state machine driven directly
 * (fake clock), and committed offsets through a real store and committer in
 * a temp dir, surviving a reopen. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "commit.h"
#include "group.h"
#include "kafka_describegroups.h"
#include "kafka_heartbeat.h"
#include "kafka_joingroup.h"
#include "kafka_offsetcommit.h"
#include "kafka_offsetfetch.h"
#include "kafka_proto.h"
#include "kafka_syncgroup.h"
#include "offsets.h"
#include "unit.h"

static char tmp[64];
static struct event_base *base;
static br_store *store;
static br_committer *committer;
static br_groups *groups;
static int64_t clock_ms = 1000000;

static int64_t fake_now(void *arg) {
    (void)arg;
    return clock_ms;
}

/* A captured answer. */
typedef struct cap {
    int got;
    Eddy__Status st;
    uint8_t buf[8192];
    size_t len;
    arena a;
} cap;

static void on_reply(void *ctx, Eddy__Status st, struct evbuffer *body) {
    cap *c = ctx;
    c->got++;
    c->st = st;
    c->len = body ? evbuffer_get_length(body) : 0;
    if (c->len > sizeof c->buf)
        c->len = sizeof c->buf;
    if (body)
        evbuffer_remove(body, c->buf, c->len);
}

/* Send the request in @p w (consumed); the body buffer stays alive in @p keep. */
static void send_req(int16_t api, int16_t ver, kafka_writer *w, cap *c, uint8_t **keep) {
    size_t len;
    kw_flatten(w, keep, &len);
    kw_free(w);
    /* a capture may be reused: free what the previous reply decoded */
    arena_free(&c->a);
    memset(c, 0, sizeof *c);
    arena_init(&c->a);
    br_group_req r = {api, ver, *keep, len, on_reply, c};
    br_groups_request(groups, &r);
}

static kafka_str S(const char *s) { return s ? (kafka_str){s, (int32_t)strlen(s)} : (kafka_str){NULL, -1}; }

static uint8_t *bodies[64];
static char g1_leader[64];
static int n_bodies;

static void join(cap *c, const char *group, const char *member, const char *instance, int16_t ver) {
    kafka_joingroup_protocol p = {S("range"), {(const uint8_t *)"meta", 4}};
    kafka_joingroup_req q = {.group_id = S(group), .session_timeout_ms = 10000,
                             .rebalance_timeout_ms = 30000, .member_id = S(member),
                             .group_instance_id = S(instance), .protocol_type = S("consumer"),
                             .protocols = &p, .n_protocols = 1, .reason = {NULL, -1}};
    kafka_writer w;
    kw_init(&w);
    kafka_joingroup_req_encode(&w, ver, &q);
    send_req(KAFKA_JOIN_GROUP, ver, &w, c, &bodies[n_bodies++]);
}

static int join_resp(cap *c, int16_t ver, kafka_joingroup_resp *out) {
    kafka_reader r;
    kr_init(&r, c->buf, c->len);
    return kafka_joingroup_resp_decode(&r, ver, &c->a, out);
}

static char *dup_view(kafka_str s) { return strndup(s.ptr, (size_t)s.len); }

static void sync_req(cap *c, const char *group, int32_t gen, const char *member,
                     kafka_syncgroup_assignment *as, int n) {
    kafka_syncgroup_req q = {.group_id = S(group), .generation_id = gen, .member_id = S(member),
                             .group_instance_id = {NULL, -1}, .protocol_type = {NULL, -1},
                             .protocol_name = {NULL, -1}, .assignments = as, .n_assignments = n};
    kafka_writer w;
    kw_init(&w);
    kafka_syncgroup_req_encode(&w, 3, &q);
    send_req(KAFKA_SYNC_GROUP, 3, &w, c, &bodies[n_bodies++]);
}

static int sync_resp(cap *c, kafka_syncgroup_resp *out) {
    kafka_reader r;
    kr_init(&r, c->buf, c->len);
    return kafka_syncgroup_resp_decode(&r, 3, &c->a, out);
}

static int16_t heartbeat(const char *group, int32_t gen, const char *member) {
    kafka_heartbeat_req q = {S(group), gen, S(member), {NULL, -1}};
    kafka_writer w;
    kw_init(&w);
    kafka_heartbeat_req_encode(&w, 3, &q);
    cap c = {0};
    send_req(KAFKA_HEARTBEAT, 3, &w, &c, &bodies[n_bodies++]);
    kafka_heartbeat_resp out = {0};
    kafka_reader r;
    kr_init(&r, c.buf, c.len);
    if (c.got != 1 || kafka_heartbeat_resp_decode(&r, 3, &c.a, &out) < 0)
        return -999;
    arena_free(&c.a);
    return out.error_code;
}

static void test_join_sync_heartbeat_expiry(void) {
    cap a1 = {0}, a2 = {0}, b1 = {0}, b2 = {0};
    kafka_joingroup_resp jr;
    /* KIP-394: v4+ without a member id gets one with MEMBER_ID_REQUIRED */
    join(&a1, "g1", "", NULL, 5);
    CHECK_EQ_INT(a1.got, 1);
    CHECK_EQ_INT(join_resp(&a1, 5, &jr), 0);
    CHECK_EQ_INT(jr.error_code, KAFKA_ERR_MEMBER_ID_REQUIRED);
    char *ida = dup_view(jr.member_id);
    CHECK(strlen(ida) > 0);
    join(&a2, "g1", ida, NULL, 5);
    CHECK_EQ_INT(a2.got, 1); /* the only member: the rebalance completes at once */
    CHECK_EQ_INT(join_resp(&a2, 5, &jr), 0);
    CHECK_EQ_INT(jr.error_code, 0);
    CHECK_EQ_INT(jr.generation_id, 1);
    CHECK(kafka_str_eq(jr.leader, ida));

    /* B joins (old version: id given at once): A must rejoin first */
    join(&b1, "g1", "", NULL, 3);
    CHECK_EQ_INT(b1.got, 0);
    CHECK_EQ_INT(heartbeat("g1", 1, ida), KAFKA_ERR_REBALANCE_IN_PROGRESS);
    join(&a1, "g1", ida, NULL, 5);
    CHECK_EQ_INT(a1.got, 1);
    CHECK_EQ_INT(b1.got, 1);
    CHECK_EQ_INT(join_resp(&a1, 5, &jr), 0);
    CHECK_EQ_INT(jr.generation_id, 2);
    CHECK_EQ_INT(jr.n_members, 2); /* the leader gets the members */
    CHECK(kafka_str_eq(jr.protocol_name, "range"));
    CHECK_EQ_INT(join_resp(&b1, 3, &jr), 0);
    CHECK_EQ_INT(jr.error_code, 0);
    CHECK_EQ_INT(jr.n_members, 0);
    char *idb = dup_view(jr.member_id);
    CHECK(strcmp(ida, idb) != 0);

    /* sync: the follower waits for the leader's assignments */
    sync_req(&b2, "g1", 2, idb, NULL, 0);
    CHECK_EQ_INT(b2.got, 0);
    kafka_syncgroup_assignment as[2] = {{S(ida), {(const uint8_t *)"AAA", 3}},
                                        {S(idb), {(const uint8_t *)"BB", 2}}};
    sync_req(&a2, "g1", 2, ida, as, 2);
    CHECK_EQ_INT(a2.got, 1);
    CHECK_EQ_INT(b2.got, 1);
    kafka_syncgroup_resp sr;
    CHECK_EQ_INT(sync_resp(&a2, &sr), 0);
    CHECK_EQ_INT(sr.error_code, 0);
    CHECK_EQ_INT(sr.assignment.len, 3);
    CHECK_EQ_INT(sync_resp(&b2, &sr), 0);
    CHECK_EQ_INT(sr.assignment.len, 2);
    CHECK(sr.assignment.len == 2 && memcmp(sr.assignment.ptr, "BB", 2) == 0);

    CHECK_EQ_INT(heartbeat("g1", 2, ida), 0);
    CHECK_EQ_INT(heartbeat("g1", 1, ida), KAFKA_ERR_ILLEGAL_GENERATION);
    CHECK_EQ_INT(heartbeat("g1", 2, "nobody"), KAFKA_ERR_UNKNOWN_MEMBER_ID);

    /* B stops heartbeating: its session expires and A is told to rejoin */
    clock_ms += 6000;
    CHECK_EQ_INT(heartbeat("g1", 2, ida), 0);
    clock_ms += 6000;
    br_groups_tick(groups);
    CHECK_EQ_INT(heartbeat("g1", 2, ida), KAFKA_ERR_REBALANCE_IN_PROGRESS);
    CHECK_EQ_INT(heartbeat("g1", 2, idb), KAFKA_ERR_UNKNOWN_MEMBER_ID);
    join(&a1, "g1", ida, NULL, 5);
    CHECK_EQ_INT(a1.got, 1);
    CHECK_EQ_INT(join_resp(&a1, 5, &jr), 0);
    CHECK_EQ_INT(jr.generation_id, 3);
    CHECK_EQ_INT(jr.n_members, 1);
    /* a sync of the old generation is refused */
    sync_req(&a2, "g1", 2, ida, NULL, 0);
    CHECK_EQ_INT(a2.got, 1);
    CHECK_EQ_INT(sync_resp(&a2, &sr), 0);
    CHECK_EQ_INT(sr.error_code, KAFKA_ERR_ILLEGAL_GENERATION);
    /* the current generation's sync makes the group stable again */
    kafka_syncgroup_assignment only = {S(ida), {(const uint8_t *)"A", 1}};
    sync_req(&a2, "g1", 3, ida, &only, 1);
    CHECK_EQ_INT(a2.got, 1);
    CHECK_EQ_INT(sync_resp(&a2, &sr), 0);
    CHECK_EQ_INT(sr.error_code, 0);
    CHECK_EQ_INT(heartbeat("g1", 3, ida), 0);
    snprintf(g1_leader, sizeof g1_leader, "%s", ida);
    free(ida);
    free(idb);
    arena_free(&a1.a);
    arena_free(&a2.a);
    arena_free(&b1.a);
    arena_free(&b2.a);
}

static void test_static_member(void) {
    cap c1 = {0}, c2 = {0};
    kafka_joingroup_resp jr;
    join(&c1, "gs", "", "inst-1", 5); /* static: no MEMBER_ID_REQUIRED round */
    CHECK_EQ_INT(c1.got, 1);
    CHECK_EQ_INT(join_resp(&c1, 5, &jr), 0);
    CHECK_EQ_INT(jr.error_code, 0);
    char *old = dup_view(jr.member_id);
    int32_t gen = jr.generation_id;
    sync_req(&c2, "gs", gen, old, NULL, 0);
    CHECK_EQ_INT(c2.got, 1);
    /* restarted with the same instance id: a new member id, the old fenced */
    join(&c1, "gs", "", "inst-1", 5);
    CHECK_EQ_INT(c1.got, 1);
    CHECK_EQ_INT(join_resp(&c1, 5, &jr), 0);
    CHECK_EQ_INT(jr.error_code, 0);
    CHECK(!kafka_str_eq(jr.member_id, old));
    kafka_heartbeat_req q = {S("gs"), jr.generation_id, S(old), S("inst-1")};
    kafka_writer w;
    kw_init(&w);
    kafka_heartbeat_req_encode(&w, 3, &q);
    cap h = {0};
    send_req(KAFKA_HEARTBEAT, 3, &w, &h, &bodies[n_bodies++]);
    kafka_heartbeat_resp hr = {0};
    kafka_reader r;
    kr_init(&r, h.buf, h.len);
    CHECK_EQ_INT(kafka_heartbeat_resp_decode(&r, 3, &h.a, &hr), 0);
    CHECK_EQ_INT(hr.error_code, KAFKA_ERR_FENCED_INSTANCE_ID);
    free(old);
    arena_free(&c1.a);
    arena_free(&c2.a);
    arena_free(&h.a);
}

/* Run the loop until the answer arrived (the commit completes from the
 * writer thread), 20 s at most. */
static void run_until(cap *c) {
    for (int i = 0; i < 20000 && !c->got; i++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        if (!c->got)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

static void commit(cap *c, const char *group, int32_t gen, const char *member, int64_t off) {
    kafka_offsetcommit_req_partition p = {.partition_index = 3, .committed_offset = off,
                                          .committed_leader_epoch = 7, .commit_timestamp = -1,
                                          .committed_metadata = S("md")};
    kafka_offsetcommit_req_topic t = {S("topic-a"), &p, 1};
    kafka_offsetcommit_req q = {.group_id = S(group), .generation_id_or_member_epoch = gen,
                                .member_id = S(member), .group_instance_id = {NULL, -1},
                                .retention_time_ms = -1, .topics = &t, .n_topics = 1};
    kafka_writer w;
    kw_init(&w);
    kafka_offsetcommit_req_encode(&w, 7, &q);
    send_req(KAFKA_OFFSET_COMMIT, 7, &w, c, &bodies[n_bodies++]);
    run_until(c);
}

static int16_t commit_err(cap *c) {
    kafka_offsetcommit_resp out;
    kafka_reader r;
    kr_init(&r, c->buf, c->len);
    if (kafka_offsetcommit_resp_decode(&r, 7, &c->a, &out) < 0 || out.n_topics != 1)
        return -999;
    return out.topics[0].partitions[0].error_code;
}

/* Fetch @p group's offsets (all topics when @p all); *off gets partition 3's. */
static int fetch(const char *group, bool all, int64_t *off, int *n_topics) {
    int32_t parts[1] = {3};
    kafka_offsetfetch_req_topic t = {S("topic-a"), parts, 1};
    kafka_offsetfetch_req q = {.group_id = S(group), .topics = all ? NULL : &t,
                               .n_topics = all ? -1 : 1};
    kafka_writer w;
    kw_init(&w);
    kafka_offsetfetch_req_encode(&w, 6, &q);
    cap c = {0};
    send_req(KAFKA_OFFSET_FETCH, 6, &w, &c, &bodies[n_bodies++]);
    kafka_offsetfetch_resp out;
    kafka_reader r;
    kr_init(&r, c.buf, c.len);
    int rc = c.got == 1 ? kafka_offsetfetch_resp_decode(&r, 6, &c.a, &out) : -1;
    if (rc == 0) {
        *n_topics = out.n_topics;
        *off = out.n_topics ? out.topics[0].partitions[0].committed_offset : -2;
        if (out.n_topics && *off >= 0 && !kafka_str_eq(out.topics[0].partitions[0].metadata, "md"))
            rc = -2;
        rc = rc ? rc : out.error_code;
    }
    arena_free(&c.a);
    return rc;
}

static void open_all(void) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/store", tmp);
    br_store_opts o = {.dir = dir, .map_size = 64u << 20, .sync = true};
    if (br_store_open(&o, &store) < 0 || br_offsets_open(store) < 0 ||
        br_committer_start(store, base, &committer) < 0)
        abort();
    br_groups_opts go = {.min_session_ms = 1000, .now_ms = fake_now, .tick_ms = -1};
    if (br_groups_new(base, store, committer, &go, &groups) < 0)
        abort();
}

static void close_all(void) {
    br_committer_stop(committer);
    br_groups_free(groups);
    br_store_close(store);
}

static void test_offsets(void) {
    cap c = {0};
    /* a simple (assign()) commit: generation -1, no member id */
    commit(&c, "plain", -1, "", 42);
    CHECK_EQ_INT(c.got, 1);
    CHECK_EQ_INT(commit_err(&c), 0);
    arena_free(&c.a);
    int64_t off = 0;
    int nt = 0;
    CHECK_EQ_INT(fetch("plain", false, &off, &nt), 0);
    CHECK_EQ_INT(off, 42);
    CHECK_EQ_INT(fetch("plain", true, &off, &nt), 0);
    CHECK_EQ_INT(nt, 1);
    CHECK_EQ_INT(off, 42);
    CHECK_EQ_INT(fetch("other", false, &off, &nt), 0);
    CHECK_EQ_INT(off, -1);
    /* group commits are checked against the membership of g1 (generation 3) */
    commit(&c, "g1", 2, "nobody", 5);
    CHECK_EQ_INT(commit_err(&c), KAFKA_ERR_UNKNOWN_MEMBER_ID);
    arena_free(&c.a);
    commit(&c, "g1", 99, g1_leader, 5);
    CHECK_EQ_INT(commit_err(&c), KAFKA_ERR_ILLEGAL_GENERATION);
    arena_free(&c.a);
    commit(&c, "g1", 3, g1_leader, 5);
    CHECK_EQ_INT(commit_err(&c), 0);
    arena_free(&c.a);
    commit(&c, "g1", -1, "", 5);
    CHECK_EQ_INT(commit_err(&c), KAFKA_ERR_UNKNOWN_MEMBER_ID);
    arena_free(&c.a);
    /* restart: offsets are durable, membership is not */
    close_all();
    open_all();
    CHECK_EQ_INT(br_groups_count(groups), 0);
    CHECK_EQ_INT(fetch("plain", false, &off, &nt), 0);
    CHECK_EQ_INT(off, 42);
    commit(&c, "plain", -1, "", 43);
    CHECK_EQ_INT(commit_err(&c), 0);
    arena_free(&c.a);
    CHECK_EQ_INT(fetch("plain", false, &off, &nt), 0);
    CHECK_EQ_INT(off, 43);
}

/* JoinGroup carries the client id and host that DescribeGroups shows; a
 * JoinGroup whose metadata is over 1 MiB is refused and changes nothing. */
static void test_client_info_and_metadata_limit(void) {
    cap c = {0};
    kafka_joingroup_resp jr;
    kafka_joingroup_protocol p = {S("range"), {(const uint8_t *)"meta", 4}};
    kafka_joingroup_req q = {.group_id = S("g-info"), .session_timeout_ms = 10000,
                             .rebalance_timeout_ms = 30000, .member_id = S(""),
                             .group_instance_id = {NULL, -1}, .protocol_type = S("consumer"),
                             .protocols = &p, .n_protocols = 1, .reason = {NULL, -1}};
    kafka_writer w;
    kw_init(&w);
    kafka_joingroup_req_encode(&w, 3, &q); /* v3: no MEMBER_ID_REQUIRED round */
    size_t len;
    uint8_t *body;
    kw_flatten(&w, &body, &len);
    kw_free(&w);
    bodies[n_bodies++] = body;
    arena_init(&c.a);
    br_group_req r = {KAFKA_JOIN_GROUP, 3, body, len, on_reply, &c, "my-client", "/10.1.2.3"};
    br_groups_request(groups, &r);
    CHECK_EQ_INT(c.got, 1);
    CHECK_EQ_INT(join_resp(&c, 3, &jr), 0);
    CHECK_EQ_INT(jr.error_code, 0);
    char *id = dup_view(jr.member_id);
    int32_t gen = jr.generation_id;

    /* 1 MiB + 1 of metadata: INVALID_REQUEST, the group does not rebalance */
    size_t big_len = (1u << 20) + 1;
    uint8_t *big = calloc(1, big_len);
    CHECK(big != NULL);
    kafka_joingroup_protocol bp = {S("range"), {big, (int32_t)big_len}};
    q.member_id = S(id);
    q.protocols = &bp;
    kw_init(&w);
    kafka_joingroup_req_encode(&w, 3, &q);
    free(big);
    send_req(KAFKA_JOIN_GROUP, 3, &w, &c, &bodies[n_bodies++]);
    CHECK_EQ_INT(c.got, 1);
    CHECK_EQ_INT(join_resp(&c, 3, &jr), 0);
    CHECK_EQ_INT(jr.error_code, KAFKA_ERR_INVALID_REQUEST);
    CHECK_EQ_INT(heartbeat("g-info", gen, id), 0);
    CHECK_EQ_INT(heartbeat("", gen, id), KAFKA_ERR_INVALID_GROUP_ID);

    kafka_str gid = S("g-info");
    kafka_describegroups_req dq = {.groups = &gid, .n_groups = 1};
    kw_init(&w);
    kafka_describegroups_req_encode(&w, 5, &dq);
    send_req(KAFKA_DESCRIBE_GROUPS, 5, &w, &c, &bodies[n_bodies++]);
    CHECK_EQ_INT(c.got, 1);
    kafka_describegroups_resp dr;
    kafka_reader rd;
    kr_init(&rd, c.buf, c.len);
    CHECK_EQ_INT(kafka_describegroups_resp_decode(&rd, 5, &c.a, &dr), 0);
    CHECK_EQ_INT(dr.n_groups, 1);
    CHECK_EQ_INT(dr.groups[0].n_members, 1);
    kafka_describegroups_member *m = &dr.groups[0].members[0];
    CHECK_EQ_INT(m->client_id.len, 9);
    CHECK_MEM(m->client_id.ptr, "my-client", 9);
    CHECK_EQ_INT(m->client_host.len, 9);
    CHECK_MEM(m->client_host.ptr, "/10.1.2.3", 9);
    arena_free(&c.a);
    free(id);
}

int main(void) {
    evthread_use_pthreads();
    if (!unit_tmpdir(tmp, sizeof tmp, "test-group"))
        return 2;
    base = event_base_new();
    open_all();
    RUN(test_join_sync_heartbeat_expiry);
    RUN(test_static_member);
    RUN(test_offsets);
    RUN(test_client_info_and_metadata_limit);
    close_all();
    event_base_free(base);
    for (int i = 0; i < n_bodies; i++)
        free(bodies[i]);
    unit_tmpdir_remove(tmp);
    return unit_done();
}
