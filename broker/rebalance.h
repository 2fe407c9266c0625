/* rebalance.h — the controller's placement arithmetic: where new partitions
 * go (the least-loaded alive brokers) and which partitions to move so that
 * the alive brokers' partition counts differ by at most one.
 *
 * Pure functions over arrays, no catalog access: controller.c flattens its
 * topics into them. A broker's load is the number of partitions it owns,
 * counting a partition that is moving as its target's (where it will be).
 * Partitions on dead brokers count for nobody and never move (one copy: the
 * data is on the dead broker's disk). */
#ifndef EDDY_BR_REBALANCE_H
#define EDDY_BR_REBALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One partition as the planner sees it. */
typedef struct br_rb_part {
    int32_t owner;      /* current owner */
    int32_t target;     /* move target, -1 when not moving */
} br_rb_part;

/** Count the load of each of the @p nalive brokers @p alive into @p load
 *  (same order). */
void br_rebalance_load(const br_rb_part *parts, size_t n, const int32_t *alive, size_t nalive,
                       size_t *load);

/** Pick the owner of one new partition: the alive broker with the smallest
 *  @p load, ties broken by starting the scan at @p start (mod nalive) so that
 *  topics of the same size do not all begin on the same broker. Increments
 *  that broker's load. Returns its id; -1 when @p nalive is 0. */
int32_t br_rebalance_pick(const int32_t *alive, size_t nalive, size_t *load, uint32_t start);

/** Plan up to @p max_new moves: while the most and the least loaded alive
 *  brokers differ by more than one, move one not-moving partition of the
 *  most loaded to the least loaded. Writes the chosen partition indexes to
 *  @p out_idx and their targets to @p out_target (both @p max_new long) and
 *  sets parts[idx].target. Returns the number of moves planned (>= 0) or
 *  -ENOMEM. */
int br_rebalance_plan(br_rb_part *parts, size_t n, const int32_t *alive, size_t nalive,
                      size_t max_new, size_t *out_idx, int32_t *out_target);

/** True when the counts of the alive brokers (moves counted at their
 *  targets) differ by at most one. */
bool br_rebalance_balanced(const br_rb_part *parts, size_t n, const int32_t *alive,
                           size_t nalive);

#endif
