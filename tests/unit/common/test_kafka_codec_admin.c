/* test_kafka_codec_admin.c — codecs of the admin APIs: CreateTopics,
 * DeleteTopics, DescribeConfigs, CreatePartitions, DescribeCluster,
 * AlterConfigs, IncrementalAlterConfigs. Every version is round-tripped with
 * non-default values in every field (see codec_check.h and
 * test_kafka_codec_data.c), then a few hand-checked vectors. */
#include "codec_check.h"
#include "kafka_alterconfigs.h"
#include "kafka_createpartitions.h"
#include "kafka_createtopics.h"
#include "kafka_deletetopics.h"
#include "kafka_describecluster.h"
#include "kafka_describeconfigs.h"
#include "kafka_incrementalalterconfigs.h"

CODEC(createtopics, req, 7)
CODEC(createtopics, resp, 7)
CODEC(deletetopics, req, 6)
CODEC(deletetopics, resp, 6)
CODEC(describeconfigs, req, 4)
CODEC(describeconfigs, resp, 4)
CODEC(createpartitions, req, 3)
CODEC(createpartitions, resp, 3)
CODEC(describecluster, req, 1)
CODEC(describecluster, resp, 1)
CODEC(alterconfigs, req, 2)
CODEC(alterconfigs, resp, 2)
CODEC(incrementalalterconfigs, req, 1)
CODEC(incrementalalterconfigs, resp, 1)

/* ---- CreateTopics ---- */

static kafka_createtopics_req fill_createtopics_req(arena *a, int16_t v) {
    kafka_createtopics_req q = {.timeout_ms = 5000, .validate_only = v >= 1};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_createtopics_topic);
    for (int i = 0; i < 2; i++) {
        kafka_createtopics_topic *t = &q.topics[i];
        t->name = i ? S("beta") : S("alpha");
        t->num_partitions = 3;
        t->replication_factor = 1;
        t->n_assignments = 2;
        t->assignments = ALLOC(a, 2, kafka_createtopics_assignment);
        for (int j = 0; j < 2; j++)
            t->assignments[j] = (kafka_createtopics_assignment){j, I32S(a, 1, 2), 2};
        t->n_configs = 2;
        t->configs = ALLOC(a, 2, kafka_createtopics_config);
        t->configs[0] = (kafka_createtopics_config){S("cleanup.policy"), S("compact")};
        t->configs[1] = (kafka_createtopics_config){S("retention.ms"), NULLS};
    }
    return q;
}

static void cmp_createtopics_req(const kafka_createtopics_req *x, const kafka_createtopics_req *y) {
    EQ(x->timeout_ms, y->timeout_ms);
    EQ(x->validate_only, y->validate_only);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_createtopics_topic *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->name, b->name);
        EQ(a->num_partitions, b->num_partitions);
        EQ(a->replication_factor, b->replication_factor);
        EQ(a->n_assignments, b->n_assignments);
        EACH(j, a, b, n_assignments) {
            EQ(a->assignments[j].partition_index, b->assignments[j].partition_index);
            cmp_i32s(a->assignments[j].broker_ids, a->assignments[j].n_broker_ids,
                     b->assignments[j].broker_ids, b->assignments[j].n_broker_ids);
        }
        EQ(a->n_configs, b->n_configs);
        EACH(j, a, b, n_configs) {
            EQ_STR(a->configs[j].name, b->configs[j].name);
            EQ_STR(a->configs[j].value, b->configs[j].value);
        }
    }
}

static kafka_createtopics_resp fill_createtopics_resp(arena *a, int16_t v) {
    kafka_createtopics_resp q = {.throttle_time_ms = v >= 2 ? 3 : 0};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_createtopics_result);
    for (int i = 0; i < 2; i++) {
        kafka_createtopics_result *t = &q.topics[i];
        t->name = i ? S("beta") : S("alpha");
        t->topic_id = v >= 7 ? U((uint8_t)(i + 1)) : ZERO_UUID;
        t->error_code = 36;
        t->error_message = v >= 1 ? (i ? NULLS : S("exists")) : EMPTYS;
        t->topic_config_error_code = (int16_t)(v >= 5 && i == 0 ? 29 : 0);
        t->num_partitions = v >= 5 ? 3 : -1;
        t->replication_factor = (int16_t)(v >= 5 ? 1 : -1);
        if (v >= 5 && i == 0) {
            t->n_configs = 2;
            t->configs = ALLOC(a, 2, kafka_createtopics_result_config);
            t->configs[0] = (kafka_createtopics_result_config){S("cleanup.policy"), S("compact"), true, 5, false};
            t->configs[1] = (kafka_createtopics_result_config){S("sasl.password"), NULLS, false, 4, true};
        } else if (v >= 5) {
            t->n_configs = -1;
        }
    }
    return q;
}

static void cmp_createtopics_resp(const kafka_createtopics_resp *x, const kafka_createtopics_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_createtopics_result *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->name, b->name);
        EQ_UUID(a->topic_id, b->topic_id);
        EQ(a->error_code, b->error_code);
        EQ_STR(a->error_message, b->error_message);
        EQ(a->topic_config_error_code, b->topic_config_error_code);
        EQ(a->num_partitions, b->num_partitions);
        EQ(a->replication_factor, b->replication_factor);
        EQ(a->n_configs, b->n_configs);
        EACH(j, a, b, n_configs) {
            EQ_STR(a->configs[j].name, b->configs[j].name);
            EQ_STR(a->configs[j].value, b->configs[j].value);
            EQ(a->configs[j].read_only, b->configs[j].read_only);
            EQ(a->configs[j].config_source, b->configs[j].config_source);
            EQ(a->configs[j].is_sensitive, b->configs[j].is_sensitive);
        }
    }
}

static void test_createtopics_roundtrip(void) {
    ROUNDTRIP_ALL(createtopics_req, kafka_createtopics_req, fill_createtopics_req, cmp_createtopics_req);
    ROUNDTRIP_ALL(createtopics_resp, kafka_createtopics_resp, fill_createtopics_resp, cmp_createtopics_resp);
}

/* ---- DeleteTopics ---- */

static kafka_deletetopics_req fill_deletetopics_req(arena *a, int16_t v) {
    kafka_deletetopics_req q = {.timeout_ms = 1000};
    if (v >= 6) {
        q.n_topics = 2;
        q.topics = ALLOC(a, 2, kafka_deletetopics_topic);
        q.topics[0] = (kafka_deletetopics_topic){S("alpha"), U(1)};
        q.topics[1] = (kafka_deletetopics_topic){NULLS, U(2)};
    } else {
        q.n_topic_names = 2;
        q.topic_names = ALLOC(a, 2, kafka_str);
        q.topic_names[0] = S("alpha");
        q.topic_names[1] = S("beta");
    }
    return q;
}

static void cmp_deletetopics_req(const kafka_deletetopics_req *x, const kafka_deletetopics_req *y) {
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        EQ_STR(x->topics[i].name, y->topics[i].name);
        EQ_UUID(x->topics[i].topic_id, y->topics[i].topic_id);
    }
    EQ(x->n_topic_names, y->n_topic_names);
    EACH(i, x, y, n_topic_names)
        EQ_STR(x->topic_names[i], y->topic_names[i]);
    EQ(x->timeout_ms, y->timeout_ms);
}

static kafka_deletetopics_resp fill_deletetopics_resp(arena *a, int16_t v) {
    kafka_deletetopics_resp q = {.throttle_time_ms = v >= 1 ? 4 : 0};
    q.n_responses = 2;
    q.responses = ALLOC(a, 2, kafka_deletetopics_result);
    for (int i = 0; i < 2; i++) {
        kafka_deletetopics_result *t = &q.responses[i];
        t->name = v >= 6 && i == 1 ? NULLS : i ? S("beta") : S("alpha");
        t->topic_id = v >= 6 ? U((uint8_t)(i + 1)) : ZERO_UUID;
        t->error_code = 3;
        t->error_message = v >= 5 && i == 0 ? S("gone") : NULLS;
    }
    return q;
}

static void cmp_deletetopics_resp(const kafka_deletetopics_resp *x, const kafka_deletetopics_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_responses, y->n_responses);
    EACH(i, x, y, n_responses) {
        EQ_STR(x->responses[i].name, y->responses[i].name);
        EQ_UUID(x->responses[i].topic_id, y->responses[i].topic_id);
        EQ(x->responses[i].error_code, y->responses[i].error_code);
        EQ_STR(x->responses[i].error_message, y->responses[i].error_message);
    }
}

static void test_deletetopics_roundtrip(void) {
    ROUNDTRIP_ALL(deletetopics_req, kafka_deletetopics_req, fill_deletetopics_req, cmp_deletetopics_req);
    ROUNDTRIP_ALL(deletetopics_resp, kafka_deletetopics_resp, fill_deletetopics_resp, cmp_deletetopics_resp);
}

/* ---- DescribeConfigs ---- */

static kafka_describeconfigs_req fill_describeconfigs_req(arena *a, int16_t v) {
    kafka_describeconfigs_req q = {.include_synonyms = v >= 1, .include_documentation = v >= 3};
    q.n_resources = 2;
    q.resources = ALLOC(a, 2, kafka_describeconfigs_resource);
    q.resources[0].resource_type = 2;
    q.resources[0].resource_name = S("alpha");
    q.resources[0].n_configuration_keys = 2;
    q.resources[0].configuration_keys = ALLOC(a, 2, kafka_str);
    q.resources[0].configuration_keys[0] = S("cleanup.policy");
    q.resources[0].configuration_keys[1] = S("retention.ms");
    q.resources[1].resource_type = 4;
    q.resources[1].resource_name = S("1");
    q.resources[1].n_configuration_keys = -1; /* all keys */
    return q;
}

static void cmp_describeconfigs_req(const kafka_describeconfigs_req *x, const kafka_describeconfigs_req *y) {
    EQ(x->include_synonyms, y->include_synonyms);
    EQ(x->include_documentation, y->include_documentation);
    EQ(x->n_resources, y->n_resources);
    EACH(i, x, y, n_resources) {
        const kafka_describeconfigs_resource *a = &x->resources[i], *b = &y->resources[i];
        EQ(a->resource_type, b->resource_type);
        EQ_STR(a->resource_name, b->resource_name);
        EQ(a->n_configuration_keys, b->n_configuration_keys);
        EACH(j, a, b, n_configuration_keys)
            EQ_STR(a->configuration_keys[j], b->configuration_keys[j]);
    }
}

static kafka_describeconfigs_resp fill_describeconfigs_resp(arena *a, int16_t v) {
    kafka_describeconfigs_resp q = {.throttle_time_ms = 5};
    q.n_results = 2;
    q.results = ALLOC(a, 2, kafka_describeconfigs_result);
    for (int i = 0; i < 2; i++) {
        kafka_describeconfigs_result *res = &q.results[i];
        res->error_code = (int16_t)i;
        res->error_message = i ? NULLS : S("message");
        res->resource_type = 2;
        res->resource_name = i ? S("beta") : S("alpha");
        res->n_configs = 2;
        res->configs = ALLOC(a, 2, kafka_describeconfigs_config);
        for (int j = 0; j < 2; j++) {
            kafka_describeconfigs_config *c = &res->configs[j];
            c->name = j ? S("retention.ms") : S("cleanup.policy");
            c->value = j ? NULLS : S("compact");
            c->read_only = true;
            c->is_default = v == 0;
            c->config_source = (int8_t)(v >= 1 ? 4 : -1);
            c->is_sensitive = j == 1;
            if (v >= 1) {
                c->n_synonyms = 2;
                c->synonyms = ALLOC(a, 2, kafka_describeconfigs_synonym);
                c->synonyms[0] = (kafka_describeconfigs_synonym){S("log.cleanup.policy"), S("delete"), 5};
                c->synonyms[1] = (kafka_describeconfigs_synonym){S("x"), NULLS, 4};
            }
            c->config_type = (int8_t)(v >= 3 ? 2 : 0);
            c->documentation = v >= 3 ? (j ? NULLS : S("how to clean")) : EMPTYS;
        }
    }
    return q;
}

static void cmp_describeconfigs_resp(const kafka_describeconfigs_resp *x, const kafka_describeconfigs_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_results, y->n_results);
    EACH(i, x, y, n_results) {
        const kafka_describeconfigs_result *a = &x->results[i], *b = &y->results[i];
        EQ(a->error_code, b->error_code);
        EQ_STR(a->error_message, b->error_message);
        EQ(a->resource_type, b->resource_type);
        EQ_STR(a->resource_name, b->resource_name);
        EQ(a->n_configs, b->n_configs);
        EACH(j, a, b, n_configs) {
            const kafka_describeconfigs_config *c = &a->configs[j], *d = &b->configs[j];
            EQ_STR(c->name, d->name);
            EQ_STR(c->value, d->value);
            EQ(c->read_only, d->read_only);
            EQ(c->is_default, d->is_default);
            EQ(c->config_source, d->config_source);
            EQ(c->is_sensitive, d->is_sensitive);
            EQ(c->n_synonyms, d->n_synonyms);
            EACH(k, c, d, n_synonyms) {
                EQ_STR(c->synonyms[k].name, d->synonyms[k].name);
                EQ_STR(c->synonyms[k].value, d->synonyms[k].value);
                EQ(c->synonyms[k].source, d->synonyms[k].source);
            }
            EQ(c->config_type, d->config_type);
            EQ_STR(c->documentation, d->documentation);
        }
    }
}

static void test_describeconfigs_roundtrip(void) {
    ROUNDTRIP_ALL(describeconfigs_req, kafka_describeconfigs_req, fill_describeconfigs_req, cmp_describeconfigs_req);
    ROUNDTRIP_ALL(describeconfigs_resp, kafka_describeconfigs_resp, fill_describeconfigs_resp,
                  cmp_describeconfigs_resp);
}

/* ---- CreatePartitions ---- */

static kafka_createpartitions_req fill_createpartitions_req(arena *a, int16_t v) {
    (void)v;
    kafka_createpartitions_req q = {.timeout_ms = 1000, .validate_only = true};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_createpartitions_topic);
    q.topics[0].name = S("alpha");
    q.topics[0].count = 6;
    q.topics[0].n_assignments = 2;
    q.topics[0].assignments = ALLOC(a, 2, kafka_createpartitions_assignment);
    q.topics[0].assignments[0] = (kafka_createpartitions_assignment){I32S(a, 1, 2), 2};
    q.topics[0].assignments[1] = (kafka_createpartitions_assignment){I32S(a, 2, 3), 2};
    q.topics[1].name = S("beta");
    q.topics[1].count = 8;
    q.topics[1].n_assignments = -1; /* broker's choice */
    return q;
}

static void cmp_createpartitions_req(const kafka_createpartitions_req *x, const kafka_createpartitions_req *y) {
    EQ(x->timeout_ms, y->timeout_ms);
    EQ(x->validate_only, y->validate_only);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_createpartitions_topic *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->name, b->name);
        EQ(a->count, b->count);
        EQ(a->n_assignments, b->n_assignments);
        EACH(j, a, b, n_assignments)
            cmp_i32s(a->assignments[j].broker_ids, a->assignments[j].n_broker_ids,
                     b->assignments[j].broker_ids, b->assignments[j].n_broker_ids);
    }
}

static kafka_createpartitions_resp fill_createpartitions_resp(arena *a, int16_t v) {
    (void)v;
    kafka_createpartitions_resp q = {.throttle_time_ms = 3};
    q.n_results = 2;
    q.results = ALLOC(a, 2, kafka_createpartitions_result);
    q.results[0] = (kafka_createpartitions_result){S("alpha"), 37, S("too few")};
    q.results[1] = (kafka_createpartitions_result){S("beta"), 0, NULLS};
    return q;
}

static void cmp_createpartitions_resp(const kafka_createpartitions_resp *x, const kafka_createpartitions_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_results, y->n_results);
    EACH(i, x, y, n_results) {
        EQ_STR(x->results[i].name, y->results[i].name);
        EQ(x->results[i].error_code, y->results[i].error_code);
        EQ_STR(x->results[i].error_message, y->results[i].error_message);
    }
}

static void test_createpartitions_roundtrip(void) {
    ROUNDTRIP_ALL(createpartitions_req, kafka_createpartitions_req, fill_createpartitions_req,
                  cmp_createpartitions_req);
    ROUNDTRIP_ALL(createpartitions_resp, kafka_createpartitions_resp, fill_createpartitions_resp,
                  cmp_createpartitions_resp);
}

/* ---- DescribeCluster ---- */

static kafka_describecluster_req fill_describecluster_req(arena *a, int16_t v) {
    (void)a;
    return (kafka_describecluster_req){true, (int8_t)(v >= 1 ? 2 : 1)};
}

static void cmp_describecluster_req(const kafka_describecluster_req *x, const kafka_describecluster_req *y) {
    EQ(x->include_cluster_authorized_operations, y->include_cluster_authorized_operations);
    EQ(x->endpoint_type, y->endpoint_type);
}

static kafka_describecluster_resp fill_describecluster_resp(arena *a, int16_t v) {
    kafka_describecluster_resp q = {
        .throttle_time_ms = 1,
        .error_code = 31,
        .error_message = v ? NULLS : S("denied"),
        .endpoint_type = (int8_t)(v >= 1 ? 2 : 1),
        .cluster_id = S("eddy"),
        .controller_id = 1,
        .cluster_authorized_operations = 0x7f,
    };
    q.n_brokers = 2;
    q.brokers = ALLOC(a, 2, kafka_describecluster_broker);
    q.brokers[0] = (kafka_describecluster_broker){1, S("broker-1"), 9092, S("rack-1")};
    q.brokers[1] = (kafka_describecluster_broker){2, S("broker-2"), 9093, NULLS};
    return q;
}

static void cmp_describecluster_resp(const kafka_describecluster_resp *x, const kafka_describecluster_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->error_code, y->error_code);
    EQ_STR(x->error_message, y->error_message);
    EQ(x->endpoint_type, y->endpoint_type);
    EQ_STR(x->cluster_id, y->cluster_id);
    EQ(x->controller_id, y->controller_id);
    EQ(x->n_brokers, y->n_brokers);
    EACH(i, x, y, n_brokers) {
        EQ(x->brokers[i].broker_id, y->brokers[i].broker_id);
        EQ_STR(x->brokers[i].host, y->brokers[i].host);
        EQ(x->brokers[i].port, y->brokers[i].port);
        EQ_STR(x->brokers[i].rack, y->brokers[i].rack);
    }
    EQ(x->cluster_authorized_operations, y->cluster_authorized_operations);
}

static void test_describecluster_roundtrip(void) {
    ROUNDTRIP_ALL(describecluster_req, kafka_describecluster_req, fill_describecluster_req, cmp_describecluster_req);
    ROUNDTRIP_ALL(describecluster_resp, kafka_describecluster_resp, fill_describecluster_resp,
                  cmp_describecluster_resp);
}

/* ---- AlterConfigs and IncrementalAlterConfigs ---- */

static kafka_alterconfigs_req fill_alterconfigs_req(arena *a, int16_t v) {
    (void)v;
    kafka_alterconfigs_req q = {.validate_only = true};
    q.n_resources = 2;
    q.resources = ALLOC(a, 2, kafka_alterconfigs_resource);
    for (int i = 0; i < 2; i++) {
        q.resources[i].resource_type = (int8_t)(i ? 4 : 2);
        q.resources[i].resource_name = i ? S("1") : S("alpha");
        q.resources[i].n_configs = 2;
        q.resources[i].configs = ALLOC(a, 2, kafka_alterconfigs_config);
        q.resources[i].configs[0] = (kafka_alterconfigs_config){S("cleanup.policy"), S("compact")};
        q.resources[i].configs[1] = (kafka_alterconfigs_config){S("retention.ms"), NULLS};
    }
    return q;
}

static void cmp_alterconfigs_req(const kafka_alterconfigs_req *x, const kafka_alterconfigs_req *y) {
    EQ(x->validate_only, y->validate_only);
    EQ(x->n_resources, y->n_resources);
    EACH(i, x, y, n_resources) {
        const kafka_alterconfigs_resource *a = &x->resources[i], *b = &y->resources[i];
        EQ(a->resource_type, b->resource_type);
        EQ_STR(a->resource_name, b->resource_name);
        EQ(a->n_configs, b->n_configs);
        EACH(j, a, b, n_configs) {
            EQ_STR(a->configs[j].name, b->configs[j].name);
            EQ_STR(a->configs[j].value, b->configs[j].value);
        }
    }
}

static kafka_alterconfigs_resp fill_alterconfigs_resp(arena *a, int16_t v) {
    (void)v;
    kafka_alterconfigs_resp q = {.throttle_time_ms = 2};
    q.n_responses = 2;
    q.responses = ALLOC(a, 2, kafka_alterconfigs_result);
    q.responses[0] = (kafka_alterconfigs_result){40, S("invalid"), 2, S("alpha")};
    q.responses[1] = (kafka_alterconfigs_result){0, NULLS, 4, S("1")};
    return q;
}

static void cmp_alterconfigs_resp(const kafka_alterconfigs_resp *x, const kafka_alterconfigs_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_responses, y->n_responses);
    EACH(i, x, y, n_responses) {
        EQ(x->responses[i].error_code, y->responses[i].error_code);
        EQ_STR(x->responses[i].error_message, y->responses[i].error_message);
        EQ(x->responses[i].resource_type, y->responses[i].resource_type);
        EQ_STR(x->responses[i].resource_name, y->responses[i].resource_name);
    }
}

static kafka_incrementalalterconfigs_req fill_incremental_req(arena *a, int16_t v) {
    (void)v;
    kafka_incrementalalterconfigs_req q = {.validate_only = true};
    q.n_resources = 2;
    q.resources = ALLOC(a, 2, kafka_incrementalalterconfigs_resource);
    for (int i = 0; i < 2; i++) {
        q.resources[i].resource_type = (int8_t)(i ? 4 : 2);
        q.resources[i].resource_name = i ? S("1") : S("alpha");
        q.resources[i].n_configs = 2;
        q.resources[i].configs = ALLOC(a, 2, kafka_incrementalalterconfigs_config);
        q.resources[i].configs[0] = (kafka_incrementalalterconfigs_config){S("cleanup.policy"), 2, S("compact")};
        q.resources[i].configs[1] = (kafka_incrementalalterconfigs_config){S("retention.ms"), 1, NULLS};
    }
    return q;
}

static void cmp_incremental_req(const kafka_incrementalalterconfigs_req *x,
                                const kafka_incrementalalterconfigs_req *y) {
    EQ(x->validate_only, y->validate_only);
    EQ(x->n_resources, y->n_resources);
    EACH(i, x, y, n_resources) {
        const kafka_incrementalalterconfigs_resource *a = &x->resources[i], *b = &y->resources[i];
        EQ(a->resource_type, b->resource_type);
        EQ_STR(a->resource_name, b->resource_name);
        EQ(a->n_configs, b->n_configs);
        EACH(j, a, b, n_configs) {
            EQ_STR(a->configs[j].name, b->configs[j].name);
            EQ(a->configs[j].config_operation, b->configs[j].config_operation);
            EQ_STR(a->configs[j].value, b->configs[j].value);
        }
    }
}

static kafka_incrementalalterconfigs_resp fill_incremental_resp(arena *a, int16_t v) {
    (void)v;
    kafka_incrementalalterconfigs_resp q = {.throttle_time_ms = 2};
    q.n_responses = 2;
    q.responses = ALLOC(a, 2, kafka_incrementalalterconfigs_result);
    q.responses[0] = (kafka_incrementalalterconfigs_result){40, S("invalid"), 2, S("alpha")};
    q.responses[1] = (kafka_incrementalalterconfigs_result){0, NULLS, 4, S("1")};
    return q;
}

static void cmp_incremental_resp(const kafka_incrementalalterconfigs_resp *x,
                                 const kafka_incrementalalterconfigs_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_responses, y->n_responses);
    EACH(i, x, y, n_responses) {
        EQ(x->responses[i].error_code, y->responses[i].error_code);
        EQ_STR(x->responses[i].error_message, y->responses[i].error_message);
        EQ(x->responses[i].resource_type, y->responses[i].resource_type);
        EQ_STR(x->responses[i].resource_name, y->responses[i].resource_name);
    }
}

static void test_alterconfigs_roundtrip(void) {
    ROUNDTRIP_ALL(alterconfigs_req, kafka_alterconfigs_req, fill_alterconfigs_req, cmp_alterconfigs_req);
    ROUNDTRIP_ALL(alterconfigs_resp, kafka_alterconfigs_resp, fill_alterconfigs_resp, cmp_alterconfigs_resp);
    ROUNDTRIP_ALL(incrementalalterconfigs_req, kafka_incrementalalterconfigs_req, fill_incremental_req,
                  cmp_incremental_req);
    ROUNDTRIP_ALL(incrementalalterconfigs_resp, kafka_incrementalalterconfigs_resp, fill_incremental_resp,
                  cmp_incremental_resp);
}

/* ---- hand-checked byte vectors ---- */

static void test_createtopics_v5_vector(void) {
    static const uint8_t want[] = {
        2,                                   /* topics: compact count 1 */
        2, 't',                              /* name "t" */
        0, 0, 0, 1,                          /* num_partitions 1 */
        0, 1,                                /* replication_factor 1 */
        1,                                   /* assignments: empty */
        2,                                   /* configs: 1 */
        15, 'c', 'l', 'e', 'a', 'n', 'u', 'p', '.', 'p', 'o', 'l', 'i', 'c', 'y',
        8, 'c', 'o', 'm', 'p', 'a', 'c', 't',
        0,                                   /* config tags */
        0,                                   /* topic tags */
        0, 0, 0x03, 0xe8,                    /* timeout_ms 1000 */
        0,                                   /* validate_only false */
        0,                                   /* request tags */
    };
    kafka_createtopics_config cfg = {S("cleanup.policy"), S("compact")};
    kafka_createtopics_topic topic = {.name = S("t"), .num_partitions = 1, .replication_factor = 1,
                                      .configs = &cfg, .n_configs = 1};
    kafka_createtopics_req q = {.topics = &topic, .n_topics = 1, .timeout_ms = 1000};
    check_encoding(&createtopics_req, 5, &q, want, sizeof want);

    kafka_createtopics_req out;
    arena a;
    arena_init(&a);
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&createtopics_req, 5, want, sizeof want, &out, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    CHECK(out.n_topics == 1 && kafka_str_eq(out.topics[0].name, "t"));
    CHECK(out.n_topics == 1 && out.topics[0].n_configs == 1 &&
          kafka_str_eq(out.topics[0].configs[0].value, "compact"));
    /* a config value may be null, a config name may not */
    uint8_t bad[sizeof want];
    memcpy(bad, want, sizeof want);
    bad[11] = 0;
    CHECK_EQ_INT(decode_bytes(&createtopics_req, 5, bad, sizeof bad, &out, &a, NULL), -EBADMSG);
    arena_free(&a);
}

static void test_describeconfigs_v0_vector(void) {
    /* one topic resource "t" with a null key list (all keys) */
    static const uint8_t want[] = {0, 0, 0, 1, 2, 0, 1, 't', 0xff, 0xff, 0xff, 0xff};
    kafka_describeconfigs_resource res = {2, S("t"), NULL, -1};
    kafka_describeconfigs_req q = {.resources = &res, .n_resources = 1};
    check_encoding(&describeconfigs_req, 0, &q, want, sizeof want);
    kafka_describeconfigs_req out;
    arena a;
    arena_init(&a);
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&describeconfigs_req, 0, want, sizeof want, &out, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    CHECK(out.n_resources == 1 && out.resources[0].n_configuration_keys == -1);
    /* a key count larger than the bytes left */
    uint8_t lying[sizeof want];
    memcpy(lying, want, sizeof want);
    lying[8] = 0x00;
    lying[9] = 0x10;
    CHECK_EQ_INT(decode_bytes(&describeconfigs_req, 0, lying, sizeof lying, &out, &a, NULL), -EBADMSG);
    arena_free(&a);
}

int main(void) {
    RUN(test_createtopics_roundtrip);
    RUN(test_deletetopics_roundtrip);
    RUN(test_describeconfigs_roundtrip);
    RUN(test_createpartitions_roundtrip);
    RUN(test_describecluster_roundtrip);
    RUN(test_alterconfigs_roundtrip);
    RUN(test_createtopics_v5_vector);
    RUN(test_describeconfigs_v0_vector);
    return unit_done();
}
