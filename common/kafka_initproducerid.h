/* kafka_initproducerid.h — InitProducerId (key 22) request and response,
 * v0-v5. Pattern, ownership and return values as in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_INITPRODUCERID_H
#define EDDY_KAFKA_INITPRODUCERID_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_initproducerid_req {
    kafka_str transactional_id;         /* nullable */
    int32_t transaction_timeout_ms;
    int64_t producer_id;                /* v3+, default -1 */
    int16_t producer_epoch;             /* v3+, default -1 */
} kafka_initproducerid_req;

typedef struct kafka_initproducerid_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
} kafka_initproducerid_resp;

/** Decode an InitProducerId request body. Return 0 or -EBADMSG. */
int kafka_initproducerid_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_initproducerid_req *out);
/** Encode an InitProducerId request body; errors are sticky in @p w. */
void kafka_initproducerid_req_encode(kafka_writer *w, int16_t version, const kafka_initproducerid_req *in);
/** Decode an InitProducerId response body. Return 0 or -EBADMSG. */
int kafka_initproducerid_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_initproducerid_resp *out);
/** Encode an InitProducerId response body; errors are sticky in @p w. */
void kafka_initproducerid_resp_encode(kafka_writer *w, int16_t version, const kafka_initproducerid_resp *in);

#endif
