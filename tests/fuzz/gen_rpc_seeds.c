/* gen_rpc_seeds.c — write seed frames for the rpc_frame fuzz target with
 * the real encoder (rpc_frame_write) and protobuf-c: one request and one
 * response per method, PRODUCE requests and FETCH responses with a tail of
 * valid record batches (tests/unit/batch_build.h), and a stream of two
 * frames. Built on demand:
 *   ninja -C BUILD tests/fuzz/gen-rpc-seeds && BUILD/tests/fuzz/gen-rpc-seeds tests/fuzz/corpus/rpc_frame */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "batch_build.h"
#include "rpc.h"

static const char *outdir;

static void dump(const char *name, struct evbuffer *b) {
    char path[512];
    snprintf(path, sizeof path, "%s/gen-%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t n = evbuffer_get_length(b);
    fwrite(evbuffer_pullup(b, -1), 1, n, f);
    fclose(f);
    evbuffer_drain(b, n);
}

static void frame(struct evbuffer *out, Eddy__Method m, bool response, const ProtobufCMessage *body,
                  struct evbuffer *tail) {
    Eddy__RpcHeader h = EDDY__RPC_HEADER__INIT;
    h.id = 42;
    h.method = m;
    h.response = response;
    h.map_version = 7;
    if (rpc_frame_write(out, &h, body, tail) < 0)
        exit(1);
}

static uint8_t topic_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    struct evbuffer *b = evbuffer_new(), *tail = evbuffer_new();
    uint8_t batch[4096];

    /* PRODUCE: two partitions, batches in the tail */
    Eddy__ProducePartition pp[2] = {EDDY__PRODUCE_PARTITION__INIT, EDDY__PRODUCE_PARTITION__INIT};
    Eddy__ProducePartition *ppp[2] = {&pp[0], &pp[1]};
    size_t l0 = tb_batch(batch, 3, 1700000000000, 10, 'a');
    evbuffer_add(tail, batch, l0);
    size_t l1 = tb_batch(batch, 1, 1700000000001, 100, 'b');
    evbuffer_add(tail, batch, l1);
    for (int i = 0; i < 2; i++) {
        pp[i].topic = "orders";
        pp[i].topic_id.data = topic_id;
        pp[i].topic_id.len = 16;
        pp[i].partition = i;
        pp[i].epoch = 3;
    }
    pp[0].records_len = (uint32_t)l0;
    pp[1].records_len = (uint32_t)l1;
    Eddy__ProduceRequest preq = EDDY__PRODUCE_REQUEST__INIT;
    preq.acks = -1;
    preq.timeout_ms = 30000;
    preq.n_partitions = 2;
    preq.partitions = ppp;
    frame(b, EDDY__METHOD__PRODUCE, false, &preq.base, tail);
    dump("produce-req", b);

    Eddy__ProducePartitionResult pr = EDDY__PRODUCE_PARTITION_RESULT__INIT, *prp = &pr;
    pr.base_offset = 100;
    pr.log_append_time = -1;
    pr.error_message = "";
    Eddy__ProduceResponse presp = EDDY__PRODUCE_RESPONSE__INIT;
    presp.n_partitions = 1;
    presp.partitions = &prp;
    frame(b, EDDY__METHOD__PRODUCE, true, &presp.base, NULL);
    dump("produce-resp", b);

    /* FETCH */
    Eddy__FetchPartition fp = EDDY__FETCH_PARTITION__INIT, *fpp = &fp;
    fp.topic = "orders";
    fp.topic_id.data = topic_id;
    fp.topic_id.len = 16;
    fp.fetch_offset = 5;
    fp.max_bytes = 1 << 20;
    Eddy__FetchRequest freq = EDDY__FETCH_REQUEST__INIT;
    freq.max_wait_ms = 500;
    freq.min_bytes = 1;
    freq.max_bytes = 50 << 20;
    freq.n_partitions = 1;
    freq.partitions = &fpp;
    frame(b, EDDY__METHOD__FETCH, false, &freq.base, NULL);
    dump("fetch-req", b);

    Eddy__FetchPartitionResult fr = EDDY__FETCH_PARTITION_RESULT__INIT, *frp = &fr;
    l0 = tb_batch(batch, 5, 1700000000000, 20, 'c');
    evbuffer_add(tail, batch, l0);
    fr.records_len = (uint32_t)l0;
    fr.high_watermark = 10;
    Eddy__FetchResponse fresp = EDDY__FETCH_RESPONSE__INIT;
    fresp.n_partitions = 1;
    fresp.partitions = &frp;
    frame(b, EDDY__METHOD__FETCH, true, &fresp.base, tail);
    dump("fetch-resp", b);

    Eddy__FetchWake fw = EDDY__FETCH_WAKE__INIT;
    fw.fetch_id = 9;
    frame(b, EDDY__METHOD__FETCH_WAKE, false, &fw.base, NULL);
    dump("fetch-wake-req", b);
    frame(b, EDDY__METHOD__FETCH_WAKE, true, NULL, NULL);
    dump("fetch-wake-resp", b);

    /* LIST_OFFSETS */
    Eddy__ListOffsetsPartition lp = EDDY__LIST_OFFSETS_PARTITION__INIT, *lpp = &lp;
    lp.topic = "orders";
    lp.timestamp = -2;
    Eddy__ListOffsetsRequest lreq = EDDY__LIST_OFFSETS_REQUEST__INIT;
    lreq.n_partitions = 1;
    lreq.partitions = &lpp;
    frame(b, EDDY__METHOD__LIST_OFFSETS, false, &lreq.base, NULL);
    dump("list-offsets-req", b);
    Eddy__ListOffsetsPartitionResult lr = EDDY__LIST_OFFSETS_PARTITION_RESULT__INIT, *lrp = &lr;
    lr.offset = 3;
    Eddy__ListOffsetsResponse lresp = EDDY__LIST_OFFSETS_RESPONSE__INIT;
    lresp.n_partitions = 1;
    lresp.partitions = &lrp;
    frame(b, EDDY__METHOD__LIST_OFFSETS, true, &lresp.base, NULL);
    dump("list-offsets-resp", b);

    /* GET_MAP and a cluster map with brokers, topics, placements, configs */
    Eddy__GetMapRequest gm = EDDY__GET_MAP_REQUEST__INIT;
    gm.known_version = 3;
    frame(b, EDDY__METHOD__GET_MAP, false, &gm.base, NULL);
    dump("get-map-req", b);
    Eddy__BrokerInfo bi[2] = {EDDY__BROKER_INFO__INIT, EDDY__BROKER_INFO__INIT};
    Eddy__BrokerInfo *bip[2] = {&bi[0], &bi[1]};
    bi[0].id = 0;
    bi[0].address = "127.0.0.1:9010";
    bi[0].alive = true;
    bi[1].id = 1;
    bi[1].address = "[::1]:9011";
    Eddy__PartitionPlacement pl[2] = {EDDY__PARTITION_PLACEMENT__INIT,
                                      EDDY__PARTITION_PLACEMENT__INIT};
    Eddy__PartitionPlacement *plp[2] = {&pl[0], &pl[1]};
    pl[1].partition = 1;
    pl[1].broker_id = 1;
    Eddy__ConfigEntry ce = EDDY__CONFIG_ENTRY__INIT, *cep = &ce;
    ce.name = "retention.ms";
    ce.value = "86400000";
    Eddy__TopicInfo ti = EDDY__TOPIC_INFO__INIT, *tip = &ti;
    ti.name = "orders";
    ti.topic_id.data = topic_id;
    ti.topic_id.len = 16;
    ti.n_partitions = 2;
    ti.partitions = plp;
    ti.n_configs = 1;
    ti.configs = &cep;
    Eddy__ClusterMap cm = EDDY__CLUSTER_MAP__INIT;
    cm.version = 4;
    cm.cluster_id = "eddy-seed";
    cm.n_brokers = 2;
    cm.brokers = bip;
    cm.n_topics = 1;
    cm.topics = &tip;
    frame(b, EDDY__METHOD__GET_MAP, true, &cm.base, NULL);
    dump("get-map-resp", b);

    /* topic admin */
    Eddy__CreateTopicRequest ct = EDDY__CREATE_TOPIC_REQUEST__INIT;
    ct.name = "orders";
    ct.num_partitions = 3;
    ct.n_configs = 1;
    ct.configs = &cep;
    frame(b, EDDY__METHOD__CREATE_TOPIC, false, &ct.base, NULL);
    dump("create-topic-req", b);
    Eddy__TopicResult tr = EDDY__TOPIC_RESULT__INIT;
    tr.topic = &ti;
    tr.map_version = 5;
    frame(b, EDDY__METHOD__CREATE_TOPIC, true, &tr.base, NULL);
    dump("create-topic-resp", b);
    Eddy__DeleteTopicRequest dt = EDDY__DELETE_TOPIC_REQUEST__INIT;
    dt.name = "orders";
    frame(b, EDDY__METHOD__DELETE_TOPIC, false, &dt.base, NULL);
    dump("delete-topic-req", b);
    Eddy__CreatePartitionsRequest cp = EDDY__CREATE_PARTITIONS_REQUEST__INIT;
    cp.name = "orders";
    cp.count = 6;
    frame(b, EDDY__METHOD__CREATE_PARTITIONS, false, &cp.base, NULL);
    dump("create-partitions-req", b);
    Eddy__RegisterBroker rb = EDDY__REGISTER_BROKER__INIT;
    rb.id = -1;
    rb.address = "127.0.0.1:9012";
    frame(b, EDDY__METHOD__REGISTER_BROKER, false, &rb.base, NULL);
    dump("register-req", b);
    Eddy__RegisterResult rr = EDDY__REGISTER_RESULT__INIT;
    rr.id = 2;
    frame(b, EDDY__METHOD__REGISTER_BROKER, true, &rr.base, NULL);
    dump("register-resp", b);

    /* GROUP: a raw Kafka Heartbeat v4 body in the tail */
    Eddy__GroupRequest gr = EDDY__GROUP_REQUEST__INIT;
    gr.api_key = 12;
    gr.api_version = 4;
    gr.group_id = "g1";
    gr.principal = "RootManageSharedAccessKey";
    static const uint8_t hb[] = {3, 'g', '1', 0, 0, 0, 1, 3, 'm', '1', 0, 0};
    evbuffer_add(tail, hb, sizeof hb);
    frame(b, EDDY__METHOD__GROUP, false, &gr.base, tail);
    dump("group-req", b);
    Eddy__GroupResponse grs = EDDY__GROUP_RESPONSE__INIT;
    static const uint8_t hbr[] = {0, 0, 0, 0, 0, 0, 0};
    evbuffer_add(tail, hbr, sizeof hbr);
    frame(b, EDDY__METHOD__GROUP, true, &grs.base, tail);
    dump("group-resp", b);

    /* a stream: three frames back to back */
    frame(b, EDDY__METHOD__GET_MAP, false, &gm.base, NULL);
    frame(b, EDDY__METHOD__REGISTER_BROKER, true, &rr.base, NULL);
    frame(b, EDDY__METHOD__LIST_OFFSETS, false, &lreq.base, NULL);
    evbuffer_drain(tail, evbuffer_get_length(tail));
    dump("stream-3", b);

    evbuffer_free(b);
    evbuffer_free(tail);
    return 0;
}
