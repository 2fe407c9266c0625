/* test_route.c — fe_route_group: the items of a request grouped by owning
 * broker, one group per broker in the order of first appearance, items in
 * order, unpicked items left out. */
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "route.h"
#include "unit.h"

typedef struct item {
    bool send;
    int32_t broker;
} item;

static bool pick(const void *items, int i, int32_t *broker_id) {
    const item *it = &((const item *)items)[i];
    *broker_id = it->broker;
    return it->send;
}

static void test_groups(void) {
    arena a;
    arena_init(&a);
    const item items[] = {{true, 7}, {true, 3}, {false, 9}, {true, 7}, {true, 0},
                          {true, 3}, {false, 7}, {true, 7}};
    fe_broker_group *g = NULL;
    int ng = fe_route_group(&a, 8, pick, items, &g);
    CHECK_EQ_INT(ng, 3);
    CHECK_EQ_INT(g[0].broker_id, 7);
    CHECK_EQ_INT(g[0].n, 3);
    CHECK_EQ_INT(g[0].idx[0], 0);
    CHECK_EQ_INT(g[0].idx[1], 3);
    CHECK_EQ_INT(g[0].idx[2], 7);
    CHECK_EQ_INT(g[1].broker_id, 3);
    CHECK_EQ_INT(g[1].n, 2);
    CHECK_EQ_INT(g[1].idx[0], 1);
    CHECK_EQ_INT(g[1].idx[1], 5);
    CHECK_EQ_INT(g[2].broker_id, 0);
    CHECK_EQ_INT(g[2].n, 1);
    CHECK_EQ_INT(g[2].idx[0], 4);
    arena_free(&a);
}

static void test_none(void) {
    arena a;
    arena_init(&a);
    const item items[] = {{false, 1}, {false, 2}};
    fe_broker_group *g = NULL;
    CHECK_EQ_INT(fe_route_group(&a, 2, pick, items, &g), 0);
    CHECK_EQ_INT(fe_route_group(&a, 0, pick, items, &g), 0);
    arena_free(&a);
}

/* Many items over many brokers: every picked item lands exactly once, in
 * its broker's group, in order. */
static void test_many(void) {
    arena a;
    arena_init(&a);
    enum { N = 1000 };
    static item items[N];
    for (int i = 0; i < N; i++)
        items[i] = (item){i % 5 != 0, (int32_t)((i * 7) % 13)};
    fe_broker_group *g = NULL;
    int ng = fe_route_group(&a, N, pick, items, &g);
    CHECK_EQ_INT(ng, 13);
    int seen[N] = {0}, bad = 0, total = 0;
    for (int k = 0; k < ng; k++)
        for (int j = 0; j < g[k].n; j++) {
            int i = g[k].idx[j];
            if (items[i].broker != g[k].broker_id || !items[i].send ||
                (j > 0 && g[k].idx[j - 1] >= i))
                bad++;
            seen[i]++;
            total++;
        }
    for (int i = 0; i < N; i++)
        if (seen[i] != (items[i].send ? 1 : 0))
            bad++;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(total, N - N / 5);
    arena_free(&a);
}

int main(void) {
    RUN(test_groups);
    RUN(test_none);
    RUN(test_many);
    return unit_done();
}
