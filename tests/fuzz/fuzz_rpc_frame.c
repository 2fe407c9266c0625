/* fuzz_rpc_frame.c — the internal RPC framing and every RPC body.
 *
 * Input: a byte stream as read from an RPC socket: frames of
 * u32 frame_len | u32 header_len | RpcHeader | body | tail. The stream goes
 * into an evbuffer and rpc_frame_take() takes frames out of it until it asks
 * for more or refuses (as rpc_client.c / rpc_server.c do). Each frame's body
 * is unpacked as the message its method and direction name (a method we do
 * not know is unpacked as one picked by its number, so every body decoder
 * gets input). For PRODUCE requests and FETCH responses the raw tail is
 * sliced by the partitions' records_len the way broker/data.c and
 * frontend/api_fetch.c do, and each slice validated as record batches.
 * Also runs rpc_frame_parse() on the input minus its first 4 bytes. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fuzz.h"
#include "kafka_records.h"
#include "rpc.h"

/* small cap so that the fuzzer reaches the "too large" path too */
#define FZ_MAX_FRAME (1u << 20)

int eddy_fuzz_init(void) { return 0; }

static const ProtobufCMessageDescriptor *const all_bodies[] = {
    &eddy__empty__descriptor,
    &eddy__produce_request__descriptor,
    &eddy__produce_response__descriptor,
    &eddy__fetch_request__descriptor,
    &eddy__fetch_response__descriptor,
    &eddy__fetch_wake__descriptor,
    &eddy__list_offsets_request__descriptor,
    &eddy__list_offsets_response__descriptor,
    &eddy__get_map_request__descriptor,
    &eddy__cluster_map__descriptor,
    &eddy__create_topic_request__descriptor,
    &eddy__delete_topic_request__descriptor,
    &eddy__create_partitions_request__descriptor,
    &eddy__topic_result__descriptor,
    &eddy__register_broker__descriptor,
    &eddy__register_result__descriptor,
    &eddy__group_request__descriptor,
    &eddy__group_response__descriptor,
};
#define N_BODIES (sizeof all_bodies / sizeof all_bodies[0])

/* The body message of @p method in the given direction (proto comments). */
static const ProtobufCMessageDescriptor *body_desc(uint32_t method, bool response) {
    switch (method) {
    case EDDY__METHOD__PRODUCE:
        return response ? &eddy__produce_response__descriptor : &eddy__produce_request__descriptor;
    case EDDY__METHOD__FETCH:
        return response ? &eddy__fetch_response__descriptor : &eddy__fetch_request__descriptor;
    case EDDY__METHOD__FETCH_WAKE:
        return response ? &eddy__empty__descriptor : &eddy__fetch_wake__descriptor;
    case EDDY__METHOD__LIST_OFFSETS:
        return response ? &eddy__list_offsets_response__descriptor
                        : &eddy__list_offsets_request__descriptor;
    case EDDY__METHOD__GET_MAP:
        return response ? &eddy__cluster_map__descriptor : &eddy__get_map_request__descriptor;
    case EDDY__METHOD__CREATE_TOPIC:
        return response ? &eddy__topic_result__descriptor : &eddy__create_topic_request__descriptor;
    case EDDY__METHOD__DELETE_TOPIC:
        return response ? &eddy__topic_result__descriptor : &eddy__delete_topic_request__descriptor;
    case EDDY__METHOD__REGISTER_BROKER:
        return response ? &eddy__register_result__descriptor : &eddy__register_broker__descriptor;
    case EDDY__METHOD__CREATE_PARTITIONS:
        return response ? &eddy__topic_result__descriptor
                        : &eddy__create_partitions_request__descriptor;
    case EDDY__METHOD__GROUP:
        return response ? &eddy__group_response__descriptor : &eddy__group_request__descriptor;
    default:
        return all_bodies[method % N_BODIES];
    }
}

static void check_slices(const rpc_frame *f, const uint32_t *lens, size_t n) {
    /* broker/data.c: the records_len must add up to the tail exactly */
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lens[i];
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        /* frontend/api_fetch.c: each slice must lie within the tail */
        if (lens[i] > f->tail_len - off)
            return;
        int nb;
        int64_t nr;
        (void)kafka_records_validate(f->tail + off, lens[i], 0, &nb, &nr);
        off += lens[i];
    }
    FZ_CHECK(off == sum && off <= f->tail_len);
}

static void body(const rpc_frame *f) {
    const ProtobufCMessageDescriptor *d = body_desc((uint32_t)f->hdr->method, f->hdr->response);
    ProtobufCMessage *m = rpc_frame_unpack_body(f, d);
    if (!m)
        return;
    uint32_t lens[64];
    size_t n = 0;
    if (d == &eddy__produce_request__descriptor) {
        const Eddy__ProduceRequest *q = (const Eddy__ProduceRequest *)m;
        for (size_t i = 0; i < q->n_partitions && n < 64; i++)
            lens[n++] = q->partitions[i]->records_len;
    } else if (d == &eddy__fetch_response__descriptor) {
        const Eddy__FetchResponse *q = (const Eddy__FetchResponse *)m;
        for (size_t i = 0; i < q->n_partitions && n < 64; i++)
            lens[n++] = q->partitions[i]->records_len;
    }
    if (n)
        check_slices(f, lens, n);
    /* what the server/client does next: re-pack an answer of this type */
    size_t packed = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(packed ? packed : 1);
    if (buf) {
        FZ_CHECK(protobuf_c_message_pack(m, buf) == packed);
        free(buf);
    }
    protobuf_c_message_free_unpacked(m, NULL);
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    struct evbuffer *in = evbuffer_new();
    if (!in)
        return 0;
    /* arrive in two pieces, as a socket read would split them */
    size_t half = size / 2;
    evbuffer_add(in, data, half);
    int frames = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (;;) {
            rpc_frame *f = NULL;
            int r = rpc_frame_take(in, FZ_MAX_FRAME, &f);
            if (r != 1)
                break;
            FZ_CHECK(f && f->body + f->body_len + f->tail_len == f->buf + f->len);
            body(f);
            rpc_frame_unref(f);
            if (++frames > 1000)
                break;
        }
        if (pass == 0)
            evbuffer_add(in, data + half, size - half);
    }
    evbuffer_free(in);

    /* rpc_frame_parse directly: it takes ownership of a malloc'd copy */
    if (size >= 4) {
        uint8_t *copy = malloc(size - 4 ? size - 4 : 1);
        if (copy) {
            memcpy(copy, data + 4, size - 4);
            rpc_frame *f = NULL;
            if (rpc_frame_parse(copy, size - 4, &f) == 0) {
                body(f);
                rpc_frame_unref(f);
            }
        }
    }
    return 0;
}
