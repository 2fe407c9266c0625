/* api.h — the Kafka API handlers of the frontend. Each takes ownership of the
 * request and ends it with fe_req_finish / fe_req_finish_silent / fe_req_fail,
 * now or after its RPCs complete. The header is read; req->body is positioned
 * at the request body. */
#ifndef EDDY_FE_API_H
#define EDDY_FE_API_H

#include "fe.h"

void fe_api_versions(fe_req *req);
void fe_api_metadata(fe_req *req);
void fe_api_produce(fe_req *req);
void fe_api_fetch(fe_req *req);
void fe_api_list_offsets(fe_req *req);
void fe_api_offset_for_leader_epoch(fe_req *req);
void fe_api_create_topics(fe_req *req);
void fe_api_delete_topics(fe_req *req);
void fe_api_create_partitions(fe_req *req);
void fe_api_describe_configs(fe_req *req);
void fe_api_describe_cluster(fe_req *req);
/* SASL (sasl.c) */
void fe_api_sasl_handshake(fe_req *req);
void fe_api_sasl_authenticate(fe_req *req);
/** A raw SASL token after a v0 SaslHandshake (no Kafka framing). */
void fe_api_sasl_raw(fe_req *req);
/* idempotent producer (api_producer.c) */
void fe_api_init_producer_id(fe_req *req);
void fe_api_describe_producers(fe_req *req);
/* groups (api_group.c): forwarded to the coordinating broker */
void fe_api_group(fe_req *req);

/** Answer ApiVersions with error UNSUPPORTED_VERSION in the v0 encoding
 *  (KIP-511), whatever version the client asked for. */
void fe_api_versions_unsupported(fe_req *req);

#endif
