/* data.h — the data path methods PRODUCE and LIST_OFFSETS. */
#ifndef EDDY_BR_DATA_H
#define EDDY_BR_DATA_H

#include "rpc.h"
#include "server.h"

/** Kafka's default max.message.bytes. */
#define BR_DEFAULT_MAX_MESSAGE_BYTES 1048588

/** PRODUCE: check ownership and framing per partition, append all good
 *  partitions in one group commit, answer when it is committed, then wake
 *  the fetches waiting on those partitions. Ends @p call. */
void br_data_produce(br_server *s, rpc_call *call);

/** LIST_OFFSETS: earliest (-2), latest (-1), max timestamp (-3) or the first
 *  offset at or after a time. Ends @p call. */
void br_data_list_offsets(br_server *s, rpc_call *call);

#endif
