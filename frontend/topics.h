/* topics.h — making sure topics exist before a request is answered: refresh
 * the map when a name is unknown (another frontend may have created it), and
 * create missing topics when auto-creation is allowed. Shared by Metadata and
 * Produce. */
#ifndef EDDY_FE_TOPICS_H
#define EDDY_FE_TOPICS_H

#include <stdbool.h>

#include "fe.h"

/** Outcome per name, filled by fe_topics_ensure. */
typedef struct fe_topic_want {
    kafka_str name;        /* view, owned by the caller (the request frame) */
    int16_t error;         /* 0 when the topic exists after the call */
} fe_topic_want;

/** Ensure every topic in @p want exists. Unknown ones trigger one map
 *  refresh; those still unknown are created (CREATE_TOPIC, default partition
 *  count) when @p create, then the map is refreshed again. @p done(req, arg)
 *  runs on completion with want[i].error set (UNKNOWN_TOPIC_OR_PARTITION,
 *  INVALID_TOPIC_EXCEPTION, ...). @p want must live in the request's arena. */
void fe_topics_ensure(fe_req *req, fe_topic_want *want, int n, bool create,
                      void (*done)(fe_req *req, void *arg), void *arg);

/** Kafka's rule for topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
bool fe_topic_name_valid(kafka_str name);

/** Whether auto-creation is allowed for this connection and request. */
bool fe_topics_may_autocreate(const fe_req *req);

#endif
