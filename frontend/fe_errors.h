/* fe_errors.h — the one place where internal outcomes become Kafka error
 * codes: RPC Status values from brokers and -errno from the RPC layer. */
#ifndef EDDY_FE_ERRORS_H
#define EDDY_FE_ERRORS_H

#include <stdint.h>

#include "eddy_rpc.pb-c.h"

/** Kafka error code for a broker's per-partition or per-call status. */
int16_t fe_kafka_error_from_status(Eddy__Status st);
/** Kafka error code for an RPC transport failure (-ETIMEDOUT, -ECONNRESET...). */
int16_t fe_kafka_error_from_rpc_errno(int err);
/** True when the status means our map is stale: refresh and retry. */
int fe_status_wants_refresh(Eddy__Status st);

#endif
