/* What the pipeline thread publishes for the other threads (the HTTP server's
 * /healthz, /readyz and /metrics, the journey lookup), without ever waiting on
 * them:
 *
 * - a heartbeat: the monotonic time of the last turn of the loop (an atomic);
 * - readiness and its reason, from the assignment (waiting, loading state,
 *   consuming), the broker's reachability and the phase of the process (starting,
 *   running, reloading, stopping), each set where it changes (a mutex held only
 *   to copy a few words);
 * - a snapshot: a copy of the counters, histograms, assigned partitions with their
 *   positions and high watermarks, SLA clocks pending and store sizes, built by
 *   the pipeline at most about once a second and swapped in under the mutex (a
 *   pointer and a reference count); readers hold a reference while they render,
 *   so a new snapshot never waits for a slow reader.
 *
 * Thread: the setters run on the pipeline thread (and main's); the getters on any
 * thread.  Every function accepts a NULL status and then does nothing (returns
 * nothing known): a pipeline run by tests or the benchmark publishes to no one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

typedef struct status status_t;

/* Where the consumer group has the process. */
typedef enum status_assignment {
    STATUS_UNASSIGNED = 0, /* waiting for partition assignment (also after a revoke) */
    STATUS_LOADING,        /* partitions assigned; their state is being loaded */
    STATUS_ASSIGNED,       /* state loaded; consuming */
} status_assignment_t;

/* What the process as a whole is doing. */
typedef enum status_phase {
    STATUS_STARTING = 0, /* before the loop's first turn */
    STATUS_RUNNING,
    STATUS_RELOADING, /* SIGHUP: the rules file is being loaded and checked */
    STATUS_STOPPING,  /* the last commit and leaving the group */
} status_phase_t;

/* ---- the snapshot ----------------------------------------------------------- */

/* One topic-partition this process consumes or consumed since it started. */
typedef struct status_partition {
    char *topic;
    int32_t partition;
    bool assigned;
    int64_t position;       /* next offset to process; -1 unknown */
    int64_t high_watermark; /* the broker's, as last fetched; -1 unknown */
    uint64_t consumed;      /* records processed since the process started */
} status_partition_t;

/* A named counter of metrics.h: the name after "<group>." and its total. */
typedef struct status_counter {
    char *name;
    uint64_t value;
} status_counter_t;

/* The groups of named counters a snapshot copies (the outcome counters, many and
 * read by handoffctl outcomes and the lookup, are not copied). */
typedef enum status_group {
    STATUS_GROUP_DLQ = 0,       /* "dlq": by reason */
    STATUS_GROUP_HANDOFF_TYPES, /* "handoff_types": "<entity type>|<rule>" */
    STATUS_GROUP_BREACH_LEVELS, /* "breach_levels": "<sla>|<level>" */
    STATUS_GROUP_LATE,          /* "late": by topic */
    STATUS_GROUP__COUNT
} status_group_t;

/* The metrics.h group name of @g. */
const char *status_group_name(status_group_t g);

typedef struct status_snapshot {
    int64_t taken_mono_ms;
    uint64_t counters[M__COUNT]; /* totals, kept in the store across restarts */
    status_counter_t *named[STATUS_GROUP__COUNT];
    size_t named_count[STATUS_GROUP__COUNT];
    metrics_hist_t hists[MH__COUNT]; /* bounds point to metrics.c's static arrays */
    status_partition_t *partitions;
    size_t partition_count;
    uint64_t sla_clocks_pending;
    int64_t store_bytes;       /* SST files and memtables; -1 unknown */
    int64_t block_cache_bytes; /* -1 unknown */
    int refs;                  /* status.c's */
} status_snapshot_t;

/* An empty snapshot (sizes -1); NULL on out of memory.  Free with
 * status_snapshot_free() unless published. */
status_snapshot_t *status_snapshot_new(void);
void status_snapshot_free(status_snapshot_t *snap);

/* Copies metrics.h's counters, histograms and the named groups into @snap.
 * 0 or -ENOMEM. */
int status_snapshot_take_metrics(status_snapshot_t *snap, const metrics_t *m);

/* Appends a partition (@topic copied).  0 or -ENOMEM. */
int status_snapshot_add_partition(status_snapshot_t *snap, const status_partition_t *part);

/* ---- the status -------------------------------------------------------------- */

/* A status in phase STATUS_STARTING, unassigned, heartbeat now; NULL on out of
 * memory. */
status_t *status_new(void);

/* Thread: after every other thread let go of it (the HTTP server stopped). */
void status_free(status_t *s);

/* The loop turned (monotonic ms).  One relaxed atomic store: cheap enough for every
 * turn. */
void status_beat(status_t *s, int64_t mono_ms);

/* The assignment changed: @partitions assigned (for the reason's text). */
void status_set_assignment(status_t *s, status_assignment_t a, int partitions);

void status_set_phase(status_t *s, status_phase_t phase);

/* The brokers cannot be reached (@why, e.g. librdkafka's "all broker connections
 * are down"), or (@why NULL) they can again. */
void status_set_broker_down(status_t *s, const char *why);

/* Whether status_set_broker_down() said they cannot be reached. */
bool status_broker_down(status_t *s);

/* Counted for /metrics: assignments received, and reloads applied or rejected. */
void status_count_rebalance(status_t *s);
void status_count_reload(status_t *s, bool applied);

/* Replaces the snapshot with @snap (taken; NULL is ignored).  The one it replaces
 * is freed once its last reader releases it. */
void status_publish(status_t *s, status_snapshot_t *snap);

/* ---- readers (any thread) ---------------------------------------------------- */

/* Monotonic ms of the last status_beat(). */
int64_t status_heartbeat_ms(status_t *s);

/* /healthz's rule: healthy while the last beat is at most @max_age_ms before
 * @now_mono_ms.  Otherwise false with @why saying how long ago the loop last
 * turned.  Pure but for the heartbeat read. */
bool status_healthy(status_t *s, int64_t now_mono_ms, int64_t max_age_ms, char *why, size_t whysz);

/* /readyz's rule: true when running, assigned with state loaded, and the brokers
 * reachable; @reason says why not (or "consuming N partitions"). */
bool status_ready(status_t *s, char *reason, size_t reasonsz);

/* The last snapshot with a reference held (NULL when none was published yet);
 * give it back with status_release(). */
const status_snapshot_t *status_acquire(status_t *s);
void status_release(status_t *s, const status_snapshot_t *snap);

/* Totals of status_count_rebalance() and status_count_reload(). */
uint64_t status_rebalances(status_t *s);
uint64_t status_reloads(status_t *s, bool applied);
