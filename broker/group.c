/* group.c — the classic group coordinator: JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, DescribeGroups, ListGroups, DeleteGroups, with generations,
 * KIP-394 member ids, KIP-345 static members, session and rebalance
 * timeouts. Offsets: offsets.c. The rules follow Kafka's GroupCoordinator
 * (classic protocol). */
#include "group.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "group_place.h"
#include "kafka_consumer_protocol.h"
#include "kafka_deletegroups.h"
#include "kafka_describegroups.h"
#include "kafka_heartbeat.h"
#include "kafka_joingroup.h"
#include "kafka_leavegroup.h"
#include "kafka_listgroups.h"
#include "kafka_proto.h"
#include "kafka_syncgroup.h"
#include "log.h"
#include "offsets.h"
#include "server.h"

#define MAX_MEMBERS 1000
#define MAX_PROTOCOLS 32
/* The protocol metadata one member may store (the sum over its protocols;
 * a consumer's subscription is usually well under 1 KiB). A JoinGroup over
 * it, or with more than MAX_PROTOCOLS protocols, is answered INVALID_REQUEST
 * and changes nothing: the coordinator keeps every member's metadata in
 * memory and hands all of it to the leader. See docs/user-guide.md s. 5. */
#define MAX_MEMBER_METADATA (1u << 20)

typedef enum { GS_EMPTY, GS_PREPARING, GS_COMPLETING, GS_STABLE, GS_DEAD } gstate;
static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable", "Dead"};

/* A held answer: the reply of a JoinGroup or SyncGroup waiting for the
 * rebalance. */
typedef struct held {
    br_group_reply_fn fn;   /* NULL: nothing held */
    void *ctx;
    int16_t version;
} held;

typedef struct proto {
    char *name;
    uint8_t *meta;
    size_t meta_len;
} proto;

typedef struct member {
    char *id;
    char *instance;         /* NULL: dynamic member */
    int32_t session_ms, rebalance_ms;
    proto *protos;
    int n_protos;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t last_seen;
    char *client_id;        /* as DescribeGroups shows it, NULL: "" */
    char *client_host;
    held join, sync;
    struct member *next;
} member;

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined. */
typedef struct pending_id {
    char *id;
    int64_t expires;
    struct pending_id *next;
} pending_id;

typedef struct group {
    char *id;
    size_t id_len;
    gstate state;
    int32_t generation;
    char *protocol_type;    /* NULL until the first member */
    char *protocol;         /* selected, NULL when none */
    char *leader;           /* member id, NULL when none */
    member *members;
    int n_members;
    pending_id *pending;
    int64_t rebalance_deadline;
    struct group *next;
} group;

struct br_groups {
    struct event_base *base;
    br_store *store;
    br_committer *committer;
    br_groups_opts o;
    struct event *timer;
    group *groups;
    size_t n_groups;
    uint64_t id_counter;
};

/* ---- small helpers ----------------------------------------------------- */

static int64_t mono_ms(void *arg) {
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now(br_groups *g) { return g->o.now_ms(g->o.now_arg); }

static char *dup_str(kafka_str s) {
    if (s.len < 0)
        return NULL;
    char *p = malloc((size_t)s.len + 1);
    if (p) {
        memcpy(p, s.ptr, (size_t)s.len);
        p[s.len] = 0;
    }
    return p;
}

static bool str_is(kafka_str s, const char *c) {
    if (s.len < 0)
        return c == NULL;
    return c && strlen(c) == (size_t)s.len && memcmp(s.ptr, c, (size_t)s.len) == 0;
}

static kafka_str view(const char *c) {
    return c ? (kafka_str){c, (int32_t)strlen(c)} : (kafka_str){NULL, -1};
}

static void new_member_id(br_groups *g, char *out, size_t cap) {
    uint8_t rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
        uint64_t v = ++g->id_counter ^ (uint64_t)mono_ms(NULL) * 0x9E3779B97F4A7C15ull;
        memcpy(rnd, &v, sizeof v);
    }
    snprintf(out, cap, "member-%02x%02x%02x%02x-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5], rnd[6], rnd[7]);
}

void br_groups_reply_writer(const br_group_req *r, kafka_writer *w) {
    struct evbuffer *b = evbuffer_new();
    if (!b || kw_error(w) || kw_to_evbuffer(w, b) < 0) {
        kw_free(w);
        if (b)
            evbuffer_free(b);
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    kw_free(w);
    r->reply(r->ctx, EDDY__STATUS__OK, b);
    evbuffer_free(b);
}

static void held_send(held *h, kafka_writer *w) {
    br_group_req r = {.reply = h->fn, .ctx = h->ctx};
    h->fn = NULL;
    br_groups_reply_writer(&r, w);
}

/* ---- groups and members ---------------------------------------------- */

static group *find_group(br_groups *g, const char *id, size_t len) {
    for (group *gr = g->groups; gr; gr = gr->next)
        if (gr->id_len == len && memcmp(gr->id, id, len) == 0)
            return gr;
    return NULL;
}

static group *get_group(br_groups *g, const char *id, size_t len) {
    group *gr = find_group(g, id, len);
    if (gr)
        return gr;
    gr = calloc(1, sizeof *gr);
    if (!gr || !(gr->id = malloc(len + 1))) {
        free(gr);
        return NULL;
    }
    memcpy(gr->id, id, len);
    gr->id[len] = 0;
    gr->id_len = len;
    gr->state = GS_EMPTY;
    gr->next = g->groups;
    g->groups = gr;
    g->n_groups++;
    return gr;
}

static member *find_member(group *gr, kafka_str id) {
    for (member *m = gr->members; m; m = m->next)
        if (str_is(id, m->id))
            return m;
    return NULL;
}

static member *find_instance(group *gr, kafka_str inst) {
    if (inst.len < 0)
        return NULL;
    for (member *m = gr->members; m; m = m->next)
        if (m->instance && str_is(inst, m->instance))
            return m;
    return NULL;
}

static void free_protos(member *m) {
    for (int i = 0; i < m->n_protos; i++) {
        free(m->protos[i].name);
        free(m->protos[i].meta);
    }
    free(m->protos);
    m->protos = NULL;
    m->n_protos = 0;
}

static void answer_error_held(held *h, int16_t api, int16_t err, const char *member_id);

static void free_member(member *m) {
    if (!m)
        return;
    /* a caller must have answered held requests; be safe */
    if (m->join.fn)
        answer_error_held(&m->join, KAFKA_JOIN_GROUP, KAFKA_ERR_UNKNOWN_MEMBER_ID, m->id);
    if (m->sync.fn)
        answer_error_held(&m->sync, KAFKA_SYNC_GROUP, KAFKA_ERR_UNKNOWN_MEMBER_ID, NULL);
    free_protos(m);
    free(m->id);
    free(m->instance);
    free(m->assignment);
    free(m->client_id);
    free(m->client_host);
    free(m);
}

static void free_group(group *gr) {
    while (gr->members) {
        member *m = gr->members;
        gr->members = m->next;
        free_member(m);
    }
    while (gr->pending) {
        pending_id *p = gr->pending;
        gr->pending = p->next;
        free(p->id);
        free(p);
    }
    free(gr->protocol_type);
    free(gr->protocol);
    free(gr->leader);
    free(gr->id);
    free(gr);
}

static void drop_group(br_groups *g, group *gr) {
    for (group **pp = &g->groups; *pp; pp = &(*pp)->next)
        if (*pp == gr) {
            *pp = gr->next;
            g->n_groups--;
            free_group(gr);
            return;
        }
}

static const proto *member_proto(const member *m, const char *name) {
    if (!name)
        return NULL;
    for (int i = 0; i < m->n_protos; i++)
        if (strcmp(m->protos[i].name, name) == 0)
            return &m->protos[i];
    return NULL;
}

/* ---- answers ------------------------------------------------------------ */

static void answer_error_held(held *h, int16_t api, int16_t err, const char *member_id) {
    kafka_writer w;
    kw_init(&w);
    if (api == KAFKA_JOIN_GROUP) {
        kafka_joingroup_resp r = {.error_code = err,
                                  .generation_id = -1,
                                  .protocol_type = {NULL, -1},
                                  .protocol_name = h->version >= 7 ? view(NULL) : view(""),
                                  .leader = view(""),
                                  .member_id = view(member_id ? member_id : "")};
        kafka_joingroup_resp_encode(&w, h->version, &r);
    } else {
        kafka_syncgroup_resp r = {.error_code = err,
                                  .protocol_type = {NULL, -1},
                                  .protocol_name = {NULL, -1},
                                  .assignment = {(const uint8_t *)"", 0}};
        kafka_syncgroup_resp_encode(&w, h->version, &r);
    }
    held_send(h, &w);
}

/* The JoinGroup answer of @p m for the generation just completed. */
static void answer_join(group *gr, member *m) {
    kafka_joingroup_resp r = {
        .error_code = 0,
        .generation_id = gr->generation,
        .protocol_type = view(gr->protocol_type),
        .protocol_name = view(gr->protocol),
        .leader = view(gr->leader),
        .member_id = view(m->id),
    };
    kafka_joingroup_member *list = NULL;
    if (gr->leader && strcmp(gr->leader, m->id) == 0) {
        list = calloc((size_t)(gr->n_members ? gr->n_members : 1), sizeof *list);
        int i = 0;
        for (member *x = gr->members; list && x; x = x->next, i++) {
            const proto *p = member_proto(x, gr->protocol);
            list[i].member_id = view(x->id);
            list[i].group_instance_id = view(x->instance);
            list[i].metadata = p ? (kafka_bytes){p->meta, (int32_t)p->meta_len}
                                 : (kafka_bytes){(const uint8_t *)"", 0};
        }
        if (list) {
            r.members = list;
            r.n_members = gr->n_members;
        }
    }
    if (m->join.version < 7 && !r.protocol_name.ptr)
        r.protocol_name = view("");
    kafka_writer w;
    kw_init(&w);
    kafka_joingroup_resp_encode(&w, m->join.version, &r);
    free(list);
    held_send(&m->join, &w);
}

static void answer_sync(group *gr, member *m, int16_t err) {
    kafka_syncgroup_resp r = {
        .error_code = err,
        .protocol_type = view(err ? NULL : gr->protocol_type),
        .protocol_name = view(err ? NULL : gr->protocol),
        .assignment = {m->assignment ? m->assignment : (const uint8_t *)"",
                       err ? 0 : (int32_t)m->assignment_len},
    };
    kafka_writer w;
    kw_init(&w);
    kafka_syncgroup_resp_encode(&w, m->sync.version, &r);
    held_send(&m->sync, &w);
}

/* ---- the state machine ------------------------------------------------- */

static void complete_join(br_groups *g, group *gr);

static void prepare_rebalance(br_groups *g, group *gr) {
    if (gr->state == GS_COMPLETING) {
        /* assignments of the generation that never became stable are void */
        for (member *m = gr->members; m; m = m->next)
            if (m->sync.fn)
                answer_error_held(&m->sync, KAFKA_SYNC_GROUP, KAFKA_ERR_REBALANCE_IN_PROGRESS, NULL);
    }
    int32_t rb = 0;
    for (member *m = gr->members; m; m = m->next)
        if (m->rebalance_ms > rb)
            rb = m->rebalance_ms;
    gr->state = GS_PREPARING;
    gr->rebalance_deadline = now(g) + rb;
}

static bool all_joined(group *gr) {
    for (member *m = gr->members; m; m = m->next)
        if (!m->join.fn)
            return false;
    return true;
}

static void check_join_complete(br_groups *g, group *gr) {
    if (gr->state == GS_PREPARING && all_joined(gr))
        complete_join(g, gr);
}

/* Remove @p m (answering what it holds with @p err); the caller decides
 * about the rebalance. */
static void remove_member(group *gr, member *m, int16_t err) {
    for (member **pp = &gr->members; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            gr->n_members--;
            break;
        }
    if (m->join.fn)
        answer_error_held(&m->join, KAFKA_JOIN_GROUP, err, m->id);
    if (m->sync.fn)
        answer_error_held(&m->sync, KAFKA_SYNC_GROUP, err, NULL);
    if (gr->leader && strcmp(gr->leader, m->id) == 0) {
        free(gr->leader);
        gr->leader = NULL;
    }
    free_member(m);
}

/* A member left or expired: the rest rebalance. */
static void member_gone(br_groups *g, group *gr, member *m) {
    remove_member(gr, m, KAFKA_ERR_UNKNOWN_MEMBER_ID);
    if (gr->state == GS_STABLE || gr->state == GS_COMPLETING)
        prepare_rebalance(g, gr);
    if (gr->state == GS_PREPARING)
        check_join_complete(g, gr);
    if (gr->n_members == 0 && gr->state != GS_DEAD && gr->state != GS_EMPTY)
        complete_join(g, gr);
}

/* The leader's first protocol that every member supports. */
static const char *select_protocol(group *gr, member *leader) {
    for (int i = 0; i < leader->n_protos; i++) {
        const char *name = leader->protos[i].name;
        bool all = true;
        for (member *m = gr->members; m && all; m = m->next)
            all = member_proto(m, name) != NULL;
        if (all)
            return name;
    }
    return NULL;
}

static void complete_join(br_groups *g, group *gr) {
    /* members that did not rejoin in time are out */
    for (member *m = gr->members, *next; m; m = next) {
        next = m->next;
        if (!m->join.fn)
            remove_member(gr, m, KAFKA_ERR_UNKNOWN_MEMBER_ID);
    }
    gr->generation++;
    free(gr->protocol);
    gr->protocol = NULL;
    if (gr->n_members == 0) {
        gr->state = GS_EMPTY;
        free(gr->leader);
        gr->leader = NULL;
        return;
    }
    member *leader = NULL;
    for (member *m = gr->members; m; m = m->next)
        if (gr->leader && strcmp(gr->leader, m->id) == 0)
            leader = m;
    if (!leader) {
        /* the earliest member (the list is newest first) */
        for (member *m = gr->members; m; m = m->next)
            leader = m;
        free(gr->leader);
        gr->leader = strdup(leader->id);
    }
    const char *sel = select_protocol(gr, leader);
    gr->protocol = sel ? strdup(sel) : NULL;
    gr->state = GS_COMPLETING;
    int64_t t = now(g);
    for (member *m = gr->members; m; m = m->next) {
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        m->last_seen = t;
    }
    /* answer the leader first (it has the most to do) */
    for (member *m = gr->members; m; m = m->next)
        if (m->join.fn && gr->leader && strcmp(m->id, gr->leader) == 0)
            answer_join(gr, m);
    for (member *m = gr->members; m; m = m->next)
        if (m->join.fn)
            answer_join(gr, m);
}

static int set_protocols(member *m, const kafka_joingroup_req *in) {
    proto *p = calloc((size_t)(in->n_protocols ? in->n_protocols : 1), sizeof *p);
    if (!p)
        return -ENOMEM;
    for (int i = 0; i < in->n_protocols; i++) {
        p[i].name = dup_str(in->protocols[i].name);
        size_t ml = in->protocols[i].metadata.len > 0 ? (size_t)in->protocols[i].metadata.len : 0;
        p[i].meta = malloc(ml ? ml : 1);
        if (!p[i].name || !p[i].meta) {
            for (int j = 0; j <= i; j++) {
                free(p[j].name);
                free(p[j].meta);
            }
            free(p);
            return -ENOMEM;
        }
        if (ml)
            memcpy(p[i].meta, in->protocols[i].metadata.ptr, ml);
        p[i].meta_len = ml;
    }
    free_protos(m);
    m->protos = p;
    m->n_protos = in->n_protocols;
    return 0;
}

static bool same_protocols(const member *m, const kafka_joingroup_req *in) {
    if (m->n_protos != in->n_protocols)
        return false;
    for (int i = 0; i < in->n_protocols; i++) {
        const proto *p = &m->protos[i];
        const kafka_joingroup_protocol *q = &in->protocols[i];
        if (!str_is(q->name, p->name) || (size_t)(q->metadata.len > 0 ? q->metadata.len : 0) != p->meta_len ||
            (p->meta_len && memcmp(p->meta, q->metadata.ptr, p->meta_len) != 0))
            return false;
    }
    return true;
}

/* Does the group accept this member's protocols? */
static bool protocols_fit(group *gr, const kafka_joingroup_req *in) {
    if (in->protocol_type.len <= 0 || in->n_protocols <= 0)
        return false;
    if (gr->n_members == 0)
        return true;
    if (!str_is(in->protocol_type, gr->protocol_type))
        return false;
    /* at least one protocol every current member supports */
    for (int i = 0; i < in->n_protocols; i++) {
        char name[256];
        kafka_str n = in->protocols[i].name;
        if (n.len < 0 || (size_t)n.len >= sizeof name)
            continue;
        memcpy(name, n.ptr, (size_t)n.len);
        name[n.len] = 0;
        bool all = true;
        for (member *m = gr->members; m && all; m = m->next)
            all = member_proto(m, name) != NULL;
        if (all)
            return true;
    }
    return false;
}

/* The client id and host of the member's latest JoinGroup (a failed copy
 * keeps the previous ones: they are informational). */
static void set_client(member *m, const br_group_req *r) {
    const char *in[2] = {r->client_id ? r->client_id : "", r->client_host ? r->client_host : ""};
    char **field[2] = {&m->client_id, &m->client_host};
    for (int i = 0; i < 2; i++) {
        if (*field[i] && strcmp(*field[i], in[i]) == 0)
            continue;
        char *p = strdup(in[i]);
        if (p) {
            free(*field[i]);
            *field[i] = p;
        }
    }
}

/* Within the per-member limits (MAX_PROTOCOLS, MAX_MEMBER_METADATA)? */
static bool protocols_within_limits(const kafka_joingroup_req *in) {
    if (in->n_protocols > MAX_PROTOCOLS)
        return false;
    size_t total = 0;
    for (int i = 0; i < in->n_protocols; i++)
        if (in->protocols[i].metadata.len > 0)
            total += (size_t)in->protocols[i].metadata.len;
    return total <= MAX_MEMBER_METADATA;
}

static void join_reply_now(const br_group_req *r, int16_t err, const char *member_id) {
    held h = {r->reply, r->ctx, r->api_version};
    answer_error_held(&h, KAFKA_JOIN_GROUP, err, member_id);
}

/* Join of a known member (new or rejoining) with its request. */
static void do_join(br_groups *g, group *gr, member *m, const br_group_req *r,
                    const kafka_joingroup_req *in, bool is_new) {
    bool same = !is_new && same_protocols(m, in);
    if (!same && set_protocols(m, in) < 0) {
        if (is_new)
            remove_member(gr, m, KAFKA_ERR_UNKNOWN_SERVER_ERROR);
        join_reply_now(r, KAFKA_ERR_UNKNOWN_SERVER_ERROR, NULL);
        return;
    }
    if (!gr->protocol_type)
        gr->protocol_type = dup_str(in->protocol_type);
    set_client(m, r);
    m->session_ms = in->session_timeout_ms;
    m->rebalance_ms = in->rebalance_timeout_ms > 0 ? in->rebalance_timeout_ms : in->session_timeout_ms;
    m->last_seen = now(g);
    if (m->join.fn) /* a duplicate join replaces the held one */
        answer_error_held(&m->join, KAFKA_JOIN_GROUP, KAFKA_ERR_REBALANCE_IN_PROGRESS, m->id);
    m->join = (held){r->reply, r->ctx, r->api_version};
    bool is_leader = gr->leader && strcmp(gr->leader, m->id) == 0;
    switch (gr->state) {
    case GS_EMPTY:
    case GS_DEAD:
        gr->state = GS_EMPTY;
        prepare_rebalance(g, gr);
        break;
    case GS_STABLE:
    case GS_COMPLETING:
        if (same && !is_leader && gr->state == GS_STABLE) {
            /* nothing changed for a follower: it gets the current generation */
            answer_join(gr, m);
            return;
        }
        if (same && gr->state == GS_COMPLETING) {
            answer_join(gr, m);
            return;
        }
        prepare_rebalance(g, gr);
        break;
    case GS_PREPARING:
        break;
    }
    check_join_complete(g, gr);
}

static void handle_join(br_groups *g, const br_group_req *r, arena *a) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_joingroup_req in;
    if (kafka_joingroup_req_decode(&rd, r->api_version, a, &in) < 0) {
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    if (in.group_id.len <= 0) {
        join_reply_now(r, KAFKA_ERR_INVALID_GROUP_ID, NULL);
        return;
    }
    if (in.session_timeout_ms < g->o.min_session_ms || in.session_timeout_ms > g->o.max_session_ms) {
        join_reply_now(r, KAFKA_ERR_INVALID_SESSION_TIMEOUT, NULL);
        return;
    }
    if (!protocols_within_limits(&in)) {
        /* refused before anything is stored: the member, if known, keeps
         * its previous metadata and the group its generation */
        LOG_INFO("group", "%.*s: JoinGroup refused: %d protocol(s) over the limits (%d, %u bytes "
                 "of metadata)", (int)in.group_id.len, in.group_id.ptr, in.n_protocols,
                 MAX_PROTOCOLS, MAX_MEMBER_METADATA);
        join_reply_now(r, KAFKA_ERR_INVALID_REQUEST, NULL);
        return;
    }
    group *gr = get_group(g, in.group_id.ptr, (size_t)in.group_id.len);
    if (!gr) {
        join_reply_now(r, KAFKA_ERR_UNKNOWN_SERVER_ERROR, NULL);
        return;
    }
    if (!protocols_fit(gr, &in)) {
        join_reply_now(r, KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL, NULL);
        return;
    }
    char idbuf[64];
    if (in.member_id.len == 0) {
        member *old = find_instance(gr, in.group_instance_id);
        if (old) {
            /* KIP-345: a static member restarted: it takes over its slot
             * under a new id; the old id is fenced */
            new_member_id(g, idbuf, sizeof idbuf);
            char *nid = strdup(idbuf);
            if (!nid) {
                join_reply_now(r, KAFKA_ERR_UNKNOWN_SERVER_ERROR, NULL);
                return;
            }
            if (old->join.fn)
                answer_error_held(&old->join, KAFKA_JOIN_GROUP, KAFKA_ERR_FENCED_INSTANCE_ID, old->id);
            if (old->sync.fn)
                answer_error_held(&old->sync, KAFKA_SYNC_GROUP, KAFKA_ERR_FENCED_INSTANCE_ID, NULL);
            if (gr->leader && strcmp(gr->leader, old->id) == 0) {
                free(gr->leader);
                gr->leader = strdup(nid);
            }
            free(old->id);
            old->id = nid;
            do_join(g, gr, old, r, &in, false);
            return;
        }
        new_member_id(g, idbuf, sizeof idbuf);
        if (r->api_version >= 4 && in.group_instance_id.len < 0) {
            /* KIP-394: the member must come back with this id */
            pending_id *p = calloc(1, sizeof *p);
            if (!p || !(p->id = strdup(idbuf))) {
                free(p);
                join_reply_now(r, KAFKA_ERR_UNKNOWN_SERVER_ERROR, NULL);
                return;
            }
            p->expires = now(g) + in.session_timeout_ms;
            p->next = gr->pending;
            gr->pending = p;
            join_reply_now(r, KAFKA_ERR_MEMBER_ID_REQUIRED, idbuf);
            return;
        }
        in.member_id = view(idbuf);
    } else {
        member *m = find_member(gr, in.member_id);
        if (m) {
            if (m->instance && in.group_instance_id.len >= 0 && !str_is(in.group_instance_id, m->instance)) {
                join_reply_now(r, KAFKA_ERR_FENCED_INSTANCE_ID, m->id);
                return;
            }
            do_join(g, gr, m, r, &in, false);
            return;
        }
        member *si = find_instance(gr, in.group_instance_id);
        if (si) {
            join_reply_now(r, KAFKA_ERR_FENCED_INSTANCE_ID, NULL);
            return;
        }
        bool was_pending = false;
        for (pending_id **pp = &gr->pending; *pp; pp = &(*pp)->next)
            if (str_is(in.member_id, (*pp)->id)) {
                pending_id *p = *pp;
                *pp = p->next;
                free(p->id);
                free(p);
                was_pending = true;
                break;
            }
        if (!was_pending) {
            join_reply_now(r, KAFKA_ERR_UNKNOWN_MEMBER_ID, NULL);
            return;
        }
    }
    if (gr->n_members >= MAX_MEMBERS) {
        join_reply_now(r, KAFKA_ERR_GROUP_MAX_SIZE_REACHED, NULL);
        return;
    }
    member *m = calloc(1, sizeof *m);
    if (!m || !(m->id = dup_str(in.member_id)) ||
        (in.group_instance_id.len >= 0 && !(m->instance = dup_str(in.group_instance_id)))) {
        if (m) {
            free(m->id);
            free(m);
        }
        join_reply_now(r, KAFKA_ERR_UNKNOWN_SERVER_ERROR, NULL);
        return;
    }
    m->next = gr->members;
    gr->members = m;
    gr->n_members++;
    do_join(g, gr, m, r, &in, true);
}

/* Shared checks of SyncGroup and Heartbeat: 0 and *out, or an error. */
static int16_t member_check(group *gr, kafka_str member_id, kafka_str instance, int32_t generation,
                            member **out) {
    if (!gr || gr->state == GS_DEAD || gr->state == GS_EMPTY)
        return KAFKA_ERR_UNKNOWN_MEMBER_ID;
    member *si = find_instance(gr, instance);
    if (si && !str_is(member_id, si->id))
        return KAFKA_ERR_FENCED_INSTANCE_ID;
    member *m = find_member(gr, member_id);
    if (!m)
        return KAFKA_ERR_UNKNOWN_MEMBER_ID;
    if (generation != gr->generation)
        return KAFKA_ERR_ILLEGAL_GENERATION;
    *out = m;
    return 0;
}

static int copy_assignment(member *m, kafka_bytes b) {
    size_t n = b.len > 0 ? (size_t)b.len : 0;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return -ENOMEM;
    if (n)
        memcpy(p, b.ptr, n);
    free(m->assignment);
    m->assignment = p;
    m->assignment_len = n;
    return 0;
}

static void handle_sync(br_groups *g, const br_group_req *r, arena *a) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_syncgroup_req in;
    if (kafka_syncgroup_req_decode(&rd, r->api_version, a, &in) < 0) {
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    held h = {r->reply, r->ctx, r->api_version};
    if (in.group_id.len <= 0) {
        answer_error_held(&h, KAFKA_SYNC_GROUP, KAFKA_ERR_INVALID_GROUP_ID, NULL);
        return;
    }
    group *gr = find_group(g, in.group_id.ptr, (size_t)in.group_id.len);
    member *m = NULL;
    int16_t err = member_check(gr, in.member_id, in.group_instance_id, in.generation_id, &m);
    if (!err && ((in.protocol_type.len >= 0 && !str_is(in.protocol_type, gr->protocol_type)) ||
                 (in.protocol_name.len >= 0 && !str_is(in.protocol_name, gr->protocol))))
        err = KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
    if (!err && gr->state == GS_PREPARING)
        err = KAFKA_ERR_REBALANCE_IN_PROGRESS;
    if (err) {
        answer_error_held(&h, KAFKA_SYNC_GROUP, err, NULL);
        return;
    }
    m->last_seen = now(g);
    if (m->sync.fn)
        answer_error_held(&m->sync, KAFKA_SYNC_GROUP, KAFKA_ERR_REBALANCE_IN_PROGRESS, NULL);
    m->sync = h;
    if (gr->state == GS_STABLE) {
        answer_sync(gr, m, 0);
        return;
    }
    /* CompletingRebalance: the leader's assignments make the group stable */
    if (!gr->leader || strcmp(gr->leader, m->id) != 0)
        return;
    for (member *x = gr->members; x; x = x->next) {
        kafka_bytes b = {NULL, 0};
        for (int i = 0; i < in.n_assignments; i++)
            if (str_is(in.assignments[i].member_id, x->id))
                b = in.assignments[i].assignment;
        if (copy_assignment(x, b) < 0) {
            prepare_rebalance(g, gr);
            return;
        }
    }
    gr->state = GS_STABLE;
    for (member *x = gr->members; x; x = x->next)
        if (x->sync.fn)
            answer_sync(gr, x, 0);
}

static void handle_heartbeat(br_groups *g, const br_group_req *r, arena *a) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_heartbeat_req in;
    if (kafka_heartbeat_req_decode(&rd, r->api_version, a, &in) < 0) {
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    group *gr = in.group_id.len > 0 ? find_group(g, in.group_id.ptr, (size_t)in.group_id.len) : NULL;
    member *m = NULL;
    int16_t err = in.group_id.len <= 0
                      ? KAFKA_ERR_INVALID_GROUP_ID
                      : member_check(gr, in.member_id, in.group_instance_id, in.generation_id, &m);
    if (!err) {
        m->last_seen = now(g);
        if (gr->state == GS_PREPARING)
            err = KAFKA_ERR_REBALANCE_IN_PROGRESS;
    } else if (err == KAFKA_ERR_ILLEGAL_GENERATION && gr && gr->state == GS_PREPARING) {
        /* a member of the previous generation: tell it to rejoin */
        m = find_member(gr, in.member_id);
        if (m)
            m->last_seen = now(g);
        err = KAFKA_ERR_REBALANCE_IN_PROGRESS;
    }
    kafka_heartbeat_resp out = {.error_code = err};
    kafka_writer w;
    kw_init(&w);
    kafka_heartbeat_resp_encode(&w, r->api_version, &out);
    br_groups_reply_writer(r, &w);
}

static void handle_leave(br_groups *g, const br_group_req *r, arena *a) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_leavegroup_req in;
    if (kafka_leavegroup_req_decode(&rd, r->api_version, a, &in) < 0) {
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    kafka_leavegroup_member one = {.member_id = in.member_id, .group_instance_id = {NULL, -1}};
    kafka_leavegroup_member *list = r->api_version >= 3 ? in.members : &one;
    int n = r->api_version >= 3 ? in.n_members : 1;
    kafka_leavegroup_resp out = {0};
    out.members = arena_calloc(a, (size_t)(n ? n : 1), sizeof *out.members);
    if (!out.members) {
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    out.n_members = n;
    if (in.group_id.len <= 0) {
        /* as Kafka: one error for the request, no per-member answers */
        out.error_code = KAFKA_ERR_INVALID_GROUP_ID;
        out.n_members = 0;
        n = 0;
    }
    group *gr = in.group_id.len > 0 ? find_group(g, in.group_id.ptr, (size_t)in.group_id.len) : NULL;
    for (int i = 0; i < n; i++) {
        kafka_leavegroup_member *lm = &list[i];
        out.members[i].member_id = lm->member_id;
        out.members[i].group_instance_id = lm->group_instance_id;
        if (!gr || gr->state == GS_DEAD) {
            out.members[i].error_code = KAFKA_ERR_UNKNOWN_MEMBER_ID;
            continue;
        }
        member *m = NULL;
        if (lm->group_instance_id.len >= 0) {
            m = find_instance(gr, lm->group_instance_id);
            if (m && lm->member_id.len > 0 && !str_is(lm->member_id, m->id)) {
                out.members[i].error_code = KAFKA_ERR_FENCED_INSTANCE_ID;
                continue;
            }
        } else {
            m = find_member(gr, lm->member_id);
        }
        if (!m) {
            /* a member id from MEMBER_ID_REQUIRED that never joined */
            bool found = false;
            for (pending_id **pp = &gr->pending; *pp; pp = &(*pp)->next)
                if (str_is(lm->member_id, (*pp)->id)) {
                    pending_id *p = *pp;
                    *pp = p->next;
                    free(p->id);
                    free(p);
                    found = true;
                    break;
                }
            if (!found)
                out.members[i].error_code = KAFKA_ERR_UNKNOWN_MEMBER_ID;
            continue;
        }
        member_gone(g, gr, m);
    }
    if (r->api_version < 3 && n > 0)
        out.error_code = out.members[0].error_code;
    kafka_writer w;
    kw_init(&w);
    kafka_leavegroup_resp_encode(&w, r->api_version, &out);
    br_groups_reply_writer(r, &w);
}

/* ---- DescribeGroups / ListGroups / DeleteGroups ---------------------------- */

static void handle_describe(br_groups *g, const br_group_req *r, arena *a) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_describegroups_req in;
    if (kafka_describegroups_req_decode(&rd, r->api_version, a, &in) < 0) {
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    kafka_describegroups_resp out = {0};
    out.n_groups = in.n_groups;
    out.groups = arena_calloc(a, (size_t)(in.n_groups > 0 ? in.n_groups : 1), sizeof *out.groups);
    if (!out.groups) {
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    for (int i = 0; i < in.n_groups; i++) {
        kafka_describegroups_group *o = &out.groups[i];
        kafka_str id = in.groups[i];
        o->group_id = id;
        o->authorized_operations = INT32_MIN;
        o->protocol_type = view("");
        o->protocol_data = view("");
        o->group_state = view(state_names[GS_DEAD]);
        if (id.len < 0 || br_groups_owns(g, id.ptr, (size_t)id.len) != EDDY__STATUS__OK) {
            o->error_code = KAFKA_ERR_NOT_COORDINATOR;
            continue;
        }
        group *gr = find_group(g, id.ptr, (size_t)id.len);
        if (!gr)
            continue; /* Dead, no error, as Kafka answers v0-v5 */
        o->group_state = view(state_names[gr->state]);
        o->protocol_type = view(gr->protocol_type ? gr->protocol_type : "");
        o->protocol_data = view(gr->protocol ? gr->protocol : "");
        o->members = arena_calloc(a, (size_t)(gr->n_members ? gr->n_members : 1), sizeof *o->members);
        if (!o->members) {
            o->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        o->n_members = gr->n_members;
        int k = 0;
        bool stable = gr->state == GS_STABLE;
        for (member *m = gr->members; m; m = m->next, k++) {
            kafka_describegroups_member *dm = &o->members[k];
            const proto *p = member_proto(m, gr->protocol);
            dm->member_id = view(m->id);
            dm->group_instance_id = view(m->instance);
            dm->client_id = view(m->client_id ? m->client_id : "");
            dm->client_host = view(m->client_host ? m->client_host : "");
            dm->member_metadata = (stable && p) ? (kafka_bytes){p->meta, (int32_t)p->meta_len}
                                                : (kafka_bytes){(const uint8_t *)"", 0};
            dm->member_assignment = (stable && m->assignment)
                                        ? (kafka_bytes){m->assignment, (int32_t)m->assignment_len}
                                        : (kafka_bytes){(const uint8_t *)"", 0};
        }
    }
    kafka_writer w;
    kw_init(&w);
    kafka_describegroups_resp_encode(&w, r->api_version, &out);
    br_groups_reply_writer(r, &w);
}

static void handle_list(br_groups *g, const br_group_req *r, arena *a) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_listgroups_req in;
    if (kafka_listgroups_req_decode(&rd, r->api_version, a, &in) < 0) {
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    kafka_listgroups_resp out = {0};
    out.groups = arena_calloc(a, g->n_groups ? g->n_groups : 1, sizeof *out.groups);
    if (!out.groups) {
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    for (group *gr = g->groups; gr; gr = gr->next) {
        if (gr->state == GS_DEAD || br_groups_owns(g, gr->id, gr->id_len) != EDDY__STATUS__OK)
            continue;
        const char *st = state_names[gr->state];
        bool want = in.n_states_filter <= 0;
        for (int i = 0; i < in.n_states_filter; i++)
            if (in.states_filter[i].len == (int32_t)strlen(st) &&
                strncasecmp(in.states_filter[i].ptr, st, strlen(st)) == 0)
                want = true;
        bool type_ok = in.n_types_filter <= 0;
        for (int i = 0; i < in.n_types_filter; i++)
            if (in.types_filter[i].len == 7 && strncasecmp(in.types_filter[i].ptr, "classic", 7) == 0)
                type_ok = true;
        if (!want || !type_ok)
            continue;
        kafka_listgroups_group *o = &out.groups[out.n_groups++];
        o->group_id = (kafka_str){gr->id, (int32_t)gr->id_len};
        o->protocol_type = view(gr->protocol_type ? gr->protocol_type : "");
        o->group_state = view(st);
        o->group_type = view("classic");
    }
    kafka_writer w;
    kw_init(&w);
    kafka_listgroups_resp_encode(&w, r->api_version, &out);
    br_groups_reply_writer(r, &w);
}

/* DeleteGroups: the offsets go in one durable commit, then the answer. */
typedef struct del_ctx {
    br_groups *g;
    br_group_req r;
    arena a;
    kafka_deletegroups_resp out;
    bool *erase;            /* per result: delete its offsets */
} del_ctx;

static int del_fn(MDB_txn *txn, void *arg) {
    del_ctx *c = arg;
    for (int i = 0; i < c->out.n_results; i++) {
        if (!c->erase[i])
            continue;
        kafka_str id = c->out.results[i].group_id;
        int e = br_offsets_del_group(c->g->store, txn, id.ptr, (size_t)id.len);
        if (e < 0)
            return e;
    }
    return 0;
}

static void del_done(int err, void *arg) {
    del_ctx *c = arg;
    for (int i = 0; i < c->out.n_results; i++) {
        if (!c->erase[i])
            continue;
        kafka_str id = c->out.results[i].group_id;
        if (err) {
            c->out.results[i].error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        group *gr = find_group(c->g, id.ptr, (size_t)id.len);
        if (gr && gr->n_members == 0)
            drop_group(c->g, gr);
    }
    kafka_writer w;
    kw_init(&w);
    kafka_deletegroups_resp_encode(&w, c->r.api_version, &c->out);
    br_groups_reply_writer(&c->r, &w);
    arena_free(&c->a);
    free(c);
}

static void handle_delete(br_groups *g, const br_group_req *r) {
    del_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    c->g = g;
    c->r = *r;
    arena_init(&c->a);
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_deletegroups_req in;
    if (kafka_deletegroups_req_decode(&rd, r->api_version, &c->a, &in) < 0) {
        arena_free(&c->a);
        free(c);
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    size_t n = (size_t)(in.n_groups_names > 0 ? in.n_groups_names : 1);
    c->out.results = arena_calloc(&c->a, n, sizeof *c->out.results);
    c->erase = arena_calloc(&c->a, n, sizeof *c->erase);
    if (!c->out.results || !c->erase) {
        arena_free(&c->a);
        free(c);
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    c->out.n_results = in.n_groups_names;
    MDB_txn *txn = NULL;
    bool have_txn = br_store_read_begin(g->store, &txn) == 0;
    int n_erase = 0;
    for (int i = 0; i < in.n_groups_names; i++) {
        kafka_str id = in.groups_names[i];
        c->out.results[i].group_id = id;
        if (id.len <= 0) {
            c->out.results[i].error_code = KAFKA_ERR_INVALID_GROUP_ID;
            continue;
        }
        if (br_groups_owns(g, id.ptr, (size_t)id.len) != EDDY__STATUS__OK) {
            c->out.results[i].error_code = KAFKA_ERR_NOT_COORDINATOR;
            continue;
        }
        group *gr = find_group(g, id.ptr, (size_t)id.len);
        if (gr && gr->n_members > 0) {
            c->out.results[i].error_code = KAFKA_ERR_NON_EMPTY_GROUP;
            continue;
        }
        bool has_offsets = have_txn && br_offsets_group_exists(g->store, txn, id.ptr, (size_t)id.len);
        if (!gr && !has_offsets) {
            c->out.results[i].error_code = KAFKA_ERR_GROUP_ID_NOT_FOUND;
            continue;
        }
        c->erase[i] = true;
        n_erase++;
    }
    if (have_txn)
        br_store_read_end(g->store, txn);
    if (n_erase == 0 || br_commit_submit_fn(g->committer, del_fn, del_done, c) < 0) {
        if (n_erase)
            for (int i = 0; i < c->out.n_results; i++)
                if (c->erase[i])
                    c->out.results[i].error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
        memset(c->erase, 0, n * sizeof *c->erase);
        del_done(0, c);
    }
}

/* ---- entry points -------------------------------------------------------- */

/* The group id of a single-group request, for the ownership check. */
static bool single_group(const br_group_req *r, kafka_str *id) {
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    bool flex = false;
    switch (r->api_key) {
    case KAFKA_JOIN_GROUP: flex = r->api_version >= 6; break;
    case KAFKA_SYNC_GROUP: flex = r->api_version >= 4; break;
    case KAFKA_HEARTBEAT: flex = r->api_version >= 4; break;
    case KAFKA_LEAVE_GROUP: flex = r->api_version >= 4; break;
    case KAFKA_OFFSET_COMMIT: flex = r->api_version >= 8; break;
    case KAFKA_OFFSET_FETCH:
        if (r->api_version >= 8)
            return false; /* per-group answers */
        flex = r->api_version >= 6;
        break;
    case KAFKA_OFFSET_DELETE: break;
    default: return false;
    }
    /* every one of these starts with the group id */
    *id = kr_string(&rd, flex);
    return kr_ok(&rd);
}

void br_groups_request(br_groups *g, const br_group_req *r) {
    kafka_str id;
    if (single_group(r, &id) && id.len > 0) {
        Eddy__Status st = br_groups_owns(g, id.ptr, (size_t)id.len);
        if (st != EDDY__STATUS__OK) {
            r->reply(r->ctx, st == EDDY__STATUS__UNKNOWN_PARTITION ? EDDY__STATUS__NOT_OWNER : st, NULL);
            return;
        }
    }
    arena a;
    arena_init(&a);
    switch (r->api_key) {
    case KAFKA_JOIN_GROUP: handle_join(g, r, &a); break;
    case KAFKA_SYNC_GROUP: handle_sync(g, r, &a); break;
    case KAFKA_HEARTBEAT: handle_heartbeat(g, r, &a); break;
    case KAFKA_LEAVE_GROUP: handle_leave(g, r, &a); break;
    case KAFKA_DESCRIBE_GROUPS: handle_describe(g, r, &a); break;
    case KAFKA_LIST_GROUPS: handle_list(g, r, &a); break;
    case KAFKA_DELETE_GROUPS: handle_delete(g, r); break;
    case KAFKA_OFFSET_COMMIT: br_offsets_commit(g, r); break;
    case KAFKA_OFFSET_FETCH: br_offsets_fetch(g, r); break;
    case KAFKA_OFFSET_DELETE: br_offsets_delete(g, r); break;
    default: r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL); break;
    }
    arena_free(&a);
}

void br_groups_tick(br_groups *g) {
    int64_t t = now(g);
    for (group *gr = g->groups, *next; gr; gr = next) {
        next = gr->next;
        for (pending_id **pp = &gr->pending; *pp;) {
            pending_id *p = *pp;
            if (p->expires <= t) {
                *pp = p->next;
                free(p->id);
                free(p);
            } else {
                pp = &p->next;
            }
        }
        for (member *m = gr->members, *mn; m; m = mn) {
            mn = m->next;
            /* a member waiting in JoinGroup is alive by definition */
            if (!m->join.fn && m->last_seen + m->session_ms <= t)
                member_gone(g, gr, m);
        }
        if (gr->state == GS_PREPARING && gr->rebalance_deadline <= t)
            complete_join(g, gr);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    br_groups_tick(arg);
}

int br_groups_new(struct event_base *base, br_store *store, br_committer *committer,
                  const br_groups_opts *opts, br_groups **out) {
    br_groups *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->base = base;
    g->store = store;
    g->committer = committer;
    if (opts)
        g->o = *opts;
    if (g->o.min_session_ms <= 0)
        g->o.min_session_ms = 6000;
    if (g->o.max_session_ms <= 0)
        g->o.max_session_ms = 1800000;
    if (!g->o.now_ms)
        g->o.now_ms = mono_ms;
    if (g->o.tick_ms == 0)
        g->o.tick_ms = 250;
    if (g->o.tick_ms > 0 && base) {
        g->timer = event_new(base, -1, EV_PERSIST, on_timer, g);
        struct timeval tv = {g->o.tick_ms / 1000, (g->o.tick_ms % 1000) * 1000};
        if (!g->timer || event_add(g->timer, &tv) < 0) {
            if (g->timer)
                event_free(g->timer);
            free(g);
            return -ENOMEM;
        }
    }
    *out = g;
    return 0;
}

static void answer_unavailable(held *h) {
    br_group_reply_fn fn = h->fn;
    h->fn = NULL;
    fn(h->ctx, EDDY__STATUS__UNAVAILABLE, NULL);
}

void br_groups_free(br_groups *g) {
    if (!g)
        return;
    if (g->timer)
        event_free(g->timer);
    while (g->groups) {
        group *gr = g->groups;
        g->groups = gr->next;
        for (member *m = gr->members; m; m = m->next) {
            if (m->join.fn)
                answer_unavailable(&m->join);
            if (m->sync.fn)
                answer_unavailable(&m->sync);
        }
        free_group(gr);
    }
    free(g);
}

size_t br_groups_count(const br_groups *g) { return g->n_groups; }

Eddy__Status br_groups_owns(br_groups *g, const char *group_id, size_t glen) {
    if (!g->o.owns)
        return EDDY__STATUS__OK;
    return g->o.owns(g->o.owns_arg, group_place_partition(group_id, glen));
}

Eddy__Status br_groups_owns_server(void *server, int32_t partition) {
    br_server *s = server;
    const Eddy__TopicInfo *t;
    const Eddy__PartitionPlacement *pl;
    ProtobufCBinaryData none = {0, NULL};
    return br_map_check(s->map, s->self_id, GROUP_OFFSETS_TOPIC, &none, partition, &t, &pl);
}

br_store *br_groups_store(br_groups *g) { return g->store; }
br_committer *br_groups_committer(br_groups *g) { return g->committer; }

int16_t br_groups_commit_check(br_groups *g, const char *group_id, size_t glen, int32_t generation,
                               const char *member_id, size_t mlen, const char *instance,
                               int32_t ilen) {
    group *gr = find_group(g, group_id, glen);
    kafka_str mid = {member_id, (int32_t)mlen};
    kafka_str inst = {instance, ilen};
    if (gr && gr->state == GS_DEAD)
        return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
    if (gr) {
        member *si = find_instance(gr, inst);
        if (si && !str_is(mid, si->id))
            return KAFKA_ERR_FENCED_INSTANCE_ID;
    }
    if (generation < 0 && (!gr || gr->state == GS_EMPTY)) {
        /* a simple consumer (assign()): Kafka only stores its offsets */
        if (!gr && !get_group(g, group_id, glen))
            return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        return 0;
    }
    if (!gr)
        return KAFKA_ERR_ILLEGAL_GENERATION;
    if (gr->state == GS_COMPLETING)
        return KAFKA_ERR_REBALANCE_IN_PROGRESS;
    member *m = find_member(gr, mid);
    if (!m)
        return KAFKA_ERR_UNKNOWN_MEMBER_ID;
    if (generation != gr->generation)
        return KAFKA_ERR_ILLEGAL_GENERATION;
    m->last_seen = now(g);
    return 0;
}

bool br_groups_has_members(br_groups *g, const char *group_id, size_t glen) {
    group *gr = find_group(g, group_id, glen);
    return gr && gr->n_members > 0;
}

bool br_groups_subscribed(br_groups *g, const char *group_id, size_t glen, const char *topic,
                          size_t tlen) {
    group *gr = find_group(g, group_id, glen);
    if (!gr || gr->n_members == 0)
        return false;
    if (!gr->protocol_type || strcmp(gr->protocol_type, "consumer") != 0)
        return true; /* unknown embedded protocol: assume it is in use */
    for (member *m = gr->members; m; m = m->next) {
        const proto *p = member_proto(m, gr->protocol);
        if (!p)
            continue;
        arena a;
        arena_init(&a);
        kafka_reader rd;
        kr_init(&rd, p->meta, p->meta_len);
        kafka_consumer_subscription sub;
        bool hit = false;
        if (kafka_consumer_subscription_decode(&rd, &a, &sub) == 0)
            for (int i = 0; i < sub.n_topics; i++)
                if (sub.topics[i].len == (int32_t)tlen && memcmp(sub.topics[i].ptr, topic, tlen) == 0)
                    hit = true;
        arena_free(&a);
        if (hit)
            return true;
    }
    return false;
}

/* ---- RPC glue -------------------------------------------------------------- */

static void rpc_reply(void *ctx, Eddy__Status st, struct evbuffer *body) {
    Eddy__Empty empty = EDDY__EMPTY__INIT;
    rpc_call_reply(ctx, st, &empty.base, body);
}

void br_groups_rpc_handle(rpc_call *call, void *arg) {
    br_groups *g = arg;
    rpc_frame *f = rpc_call_frame(call);
    Eddy__GroupRequest *q =
        (Eddy__GroupRequest *)rpc_frame_unpack_body(f, &eddy__group_request__descriptor);
    if (!q) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    br_group_req r = {
        .api_key = (int16_t)q->api_key,
        .api_version = (int16_t)q->api_version,
        .body = f->tail,
        .len = f->tail_len,
        .reply = rpc_reply,
        .ctx = call,
        .client_id = q->client_id,
        .client_host = q->client_host,
    };
    br_groups_request(g, &r); /* copies what it keeps of q */
    protobuf_c_message_free_unpacked(&q->base, NULL);
}
