/* Counters of the pipeline.  Kept in the state store (written in the same batch as
 * the state they describe), so totals survive restarts and agree with the state
 * after a crash.  Fixed counters are indexed; counters per rule or per DLQ reason
 * are named.
 *
 * Thread: the pipeline thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

typedef enum metric {
    M_CONSUMED = 0,   /* records read from any topic */
    M_FOLDED,         /* events folded into a journey */
    M_DUPLICATES,     /* repeated event ids dropped */
    M_DLQ,            /* dead letters */
    M_FORWARDED,      /* records re-keyed to an internal topic */
    M_REMOTE,         /* ... of which through a repartition topic (another instance) */
    M_BUFFERED,       /* anonymous records buffered in stage 1 */
    M_EVICTED,        /* buffered anonymous records dropped by the bounds */
    M_IDENTIFIED,     /* anonymous ids resolved to a contact */
    M_RELINKED,       /* anonymous ids moved to another contact */
    M_HANDOFFS,       /* ConversationReady emitted */
    M_LIFECYCLE,      /* LifecycleChange emitted */
    M_COMMITS,        /* state batches written */
    M_MEMBER_UPDATES, /* contact summaries sent to stage 3 */
    M_ROSTERS,        /* buying-group rosters sent to stage 2 */
    M_MERGES,         /* contact merges carried out */
    M_REDIRECTED,     /* events for a merged-away contact sent to its survivor */
    M_FEEDBACK,       /* sales activity applied */
    M_BREACHES,       /* SlaBreach emitted */
    M_TIMERS_FIRED,   /* entities whose SLA clocks fell due */
    M__COUNT
} metric_t;

typedef struct metrics metrics_t;

metrics_t *metrics_new(void);
void metrics_free(metrics_t *m);

const char *metrics_name(metric_t id);

static inline void metrics_inc(uint64_t *counters, metric_t id, uint64_t n)
{
    counters[id] += n;
}

/* The fixed counters (index with metric_t). */
uint64_t *metrics_counters(metrics_t *m);

/* Adds @n to the named counter "@group.@name" (created at 0).  0 or -ENOMEM. */
int metrics_add_named(metrics_t *m, const char *group, const char *name, uint64_t n);

/* Loads persisted totals.  0 or -EIO with @err. */
int metrics_load(metrics_t *m, store_t *s, char *err, size_t errsz);

/* Puts every counter changed since the last call into @b. */
void metrics_flush(metrics_t *m, store_batch_t *b);

/* Writes the totals of a group ("handoffs", "dlq"...) as "name=value, ..." into @out.
 * Returns the sum. */
uint64_t metrics_group_text(const metrics_t *m, const char *group, char *out, size_t outsz);

/* Durations kept as histograms (median time to accept, to first touch): the bucket
 * of @ms, and the lower bound of bucket @b.  Whole seconds below 16 s, then 16
 * buckets per power of two (within 6.25 %), mergeable across instances. */
int metrics_duration_bucket(int64_t ms);
int64_t metrics_bucket_low_ms(int b);

/* Calls @fn with the name (after "@group.") and value of every counter of @group
 * until it returns non-zero (then returned). */
int metrics_each_named(const metrics_t *m, const char *group,
                       int (*fn)(void *opaque, const char *name, uint64_t value), void *opaque);

/* Removes every counter of @group for whose name (after "@group.") @drop says true,
 * from memory and, with deletes put into @b, from the store.  Returns how many. */
size_t metrics_drop_named(metrics_t *m, const char *group,
                          bool (*drop)(void *opaque, const char *name), void *opaque,
                          store_batch_t *b);

/* Value of a named counter, or 0. */
uint64_t metrics_named(const metrics_t *m, const char *group, const char *name);

/* Distributions of this process (not kept in the store: a restart starts them
 * again, as Prometheus expects of a histogram), with fixed upper bounds so that
 * instances add up.  Exposed by /metrics (status_prom.c). */
typedef enum metric_hist {
    MH_EVENT_TO_HANDOFF = 0, /* seconds from qualified_at (event time) to emitted_at (wall) */
    MH_COMMIT_SECONDS,       /* time the loop spent in a commit */
    MH_COMMIT_BYTES,         /* bytes of a commit's RocksDB batch */
    MH__COUNT
} metric_hist_t;

#define METRICS_HIST_BOUNDS_MAX 16

/* Counts per bucket (not cumulative; counts[bound_count] is above the last bound),
 * their total and the sum of the values observed. */
typedef struct metrics_hist {
    const double *bounds; /* upper bounds, increasing; static */
    size_t bound_count;
    uint64_t counts[METRICS_HIST_BOUNDS_MAX + 1];
    uint64_t count;
    double sum;
} metrics_hist_t;

/* Adds @value (a negative one counts as 0) to histogram @h. */
void metrics_observe(metrics_t *m, metric_hist_t h, double value);

/* Histogram @h, to copy (status.h's snapshot) or read. */
const metrics_hist_t *metrics_hist(const metrics_t *m, metric_hist_t h);

/* Named counters: "handoff_types.<entity type>|<rule>" and
 * "breach_levels.<sla>|<level>" say what "handoffs.<rule>" and "breaches.<sla>"
 * do not (/metrics labels); "|" cannot occur in a rule or an SLA name. */
#define METRICS_GROUP_HANDOFF_TYPES "handoff_types"
#define METRICS_GROUP_BREACH_LEVELS "breach_levels"
