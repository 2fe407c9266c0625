/* rebalance.c — placement and move planning (see rebalance.h). */
#include "rebalance.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

static ssize_t alive_index(const int32_t *alive, size_t nalive, int32_t id) {
    for (size_t i = 0; i < nalive; i++)
        if (alive[i] == id)
            return (ssize_t)i;
    return -1;
}

void br_rebalance_load(const br_rb_part *parts, size_t n, const int32_t *alive, size_t nalive,
                       size_t *load) {
    for (size_t i = 0; i < nalive; i++)
        load[i] = 0;
    for (size_t i = 0; i < n; i++) {
        ssize_t k = alive_index(alive, nalive, parts[i].target >= 0 ? parts[i].target
                                                                    : parts[i].owner);
        if (k >= 0)
            load[k]++;
    }
}

int32_t br_rebalance_pick(const int32_t *alive, size_t nalive, size_t *load, uint32_t start) {
    if (nalive == 0)
        return -1;
    size_t best = start % nalive;
    for (size_t j = 1; j < nalive; j++) {
        size_t k = (start + j) % nalive;
        if (load[k] < load[best])
            best = k;
    }
    load[best]++;
    return alive[best];
}

/* Indexes of the most and least loaded brokers (lowest index on ties). */
static void extremes(const size_t *load, size_t nalive, size_t *hi, size_t *lo) {
    *hi = *lo = 0;
    for (size_t i = 1; i < nalive; i++) {
        if (load[i] > load[*hi])
            *hi = i;
        if (load[i] < load[*lo])
            *lo = i;
    }
}

bool br_rebalance_balanced(const br_rb_part *parts, size_t n, const int32_t *alive,
                           size_t nalive) {
    if (nalive < 2)
        return true;
    size_t *load = malloc(nalive * sizeof *load);
    if (!load)
        return true; /* asked again at the next tick */
    br_rebalance_load(parts, n, alive, nalive, load);
    size_t hi, lo;
    extremes(load, nalive, &hi, &lo);
    bool ok = load[hi] - load[lo] <= 1;
    free(load);
    return ok;
}

int br_rebalance_plan(br_rb_part *parts, size_t n, const int32_t *alive, size_t nalive,
                      size_t max_new, size_t *out_idx, int32_t *out_target) {
    if (nalive < 2 || max_new == 0)
        return 0;
    size_t *load = malloc(nalive * sizeof *load);
    if (!load)
        return -ENOMEM;
    br_rebalance_load(parts, n, alive, nalive, load);
    size_t planned = 0;
    while (planned < max_new) {
        size_t hi, lo;
        extremes(load, nalive, &hi, &lo);
        if (load[hi] - load[lo] <= 1)
            break;
        /* the highest-numbered partition of the busiest broker: the newest
         * partitions of a topic move first, spreading each topic */
        ssize_t pick = -1;
        for (size_t i = n; i-- > 0;) {
            if (parts[i].target < 0 && parts[i].owner == alive[hi]) {
                pick = (ssize_t)i;
                break;
            }
        }
        if (pick < 0)
            break; /* its load is all incoming moves: wait for them */
        parts[pick].target = alive[lo];
        load[hi]--;
        load[lo]++;
        out_idx[planned] = (size_t)pick;
        out_target[planned] = alive[lo];
        planned++;
    }
    free(load);
    return (int)planned;
}
