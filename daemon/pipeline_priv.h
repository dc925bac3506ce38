/* Inside the pipeline: shared by pipeline.c (set-up, the loop and its steps, the
 * summary), pipeline_kafka.c (the producer as the stages' output, intake of
 * fetched records, rebalances), pipeline_commit.c (commits), pipeline_setup.c
 * (what pipeline_new() checks and reads) and pipeline_status.c (what the loop
 * publishes for other threads).  Not for other modules: the stages see stage.h
 * only. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "codec/codec.h"
#include "metrics.h"
#include "pgroup.h"
#include "pipeline.h"
#include "stage.h"
#include "status.h"
#include "store.h"
#include "timers.h"

#define CONSUME_BATCH 1024
/* A partition whose buffer in the partition group reaches PAUSE_AT records stops
 * fetching until it drains to RESUME_AT: bounded memory while waiting for
 * another partition to catch up in event time. */
#define PAUSE_AT 5000
#define RESUME_AT 1000
#define FLUSH_TIMEOUT_MS 60000
#define METADATA_TIMEOUT_MS 15000
/* SLA clocks fired per turn of the loop at most. */
#define CLOCKS_PER_TURN 10000

/* The Kafka clients and the topics by role. */
typedef struct pipeline_kafka {
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *queue;
    const char *role_topic[ROLE__COUNT];
    int32_t role_partitions[ROLE__COUNT];
    const rd_kafka_topic_t *role_rkt[ROLE__COUNT]; /* learnt from messages, for fast lookup */
    rd_kafka_topic_t *out_rkt[OUT__COUNT];
} pipeline_kafka_t;

/* Records fetched but not processed yet, released in event-time order.  Queue
 * index = role * max_partitions + partition.  Per queue: the offset after the last
 * record fetched (-1 unknown), whether it is assigned, whether paused. */
typedef struct pipeline_intake {
    pgroup_t *pg;
    int32_t max_partitions;
    int64_t *fetched_next;
    bool *assigned;
    bool *paused;
    int64_t assigned_mono_ms; /* last assignment: idle time counts from here too */
} pipeline_intake_t;

/* Next offset to consume per role and partition (-1: nothing consumed yet in this
 * assignment), and whether it changed since the last commit. */
typedef struct pipeline_offsets {
    int64_t *next[ROLE__COUNT];
    bool *dirty[ROLE__COUNT];
} pipeline_offsets_t;

/* Producer acknowledgements (delivery reports run on this thread, inside
 * rd_kafka_poll / rd_kafka_flush). */
typedef struct pipeline_delivery {
    uint64_t produced;
    uint64_t delivered;
    bool failed;
    char err[256];
} pipeline_delivery_t;

/* The state batches: one filled by the next commit, one with the store's writer
 * thread while a write is in flight, and the offsets that go to the group
 * coordinator once that write is durable. */
typedef struct pipeline_batches {
    store_batch_t *filling;
    store_batch_t *spare;
    bool write_inflight;
    rd_kafka_topic_partition_list_t *inflight_offsets;
    int64_t last_commit_mono_ms;
} pipeline_batches_t;

/* This run, for the summary. */
typedef struct pipeline_run_stats {
    uint64_t consumed;
    int64_t first_mono_ms;
    int64_t last_mono_ms;
    /* How long the commit that made the last record's state durable took: the
     * run's rate counts that work too (not the idle wait before it). */
    int64_t tail_commit_ms;
    int64_t tail_for_ms; /* the last_mono_ms it was measured for */
    /* Where this run's time went (ms). */
    int64_t commit_ms, commit_max_ms, commits, wait_ms;
    size_t clocks_at_stop; /* entities with SLA clocks pending when the run ended */
} pipeline_run_stats_t;

/* When the loop last did what it does every so often. */
typedef struct pipeline_cron_marks {
    int64_t progress_mono_ms;
    int64_t refresh_mono_ms;
    int consume_timeout_ms; /* short while the partition group waits on a lagging partition */
} pipeline_cron_marks_t;

/* What the loop publishes for other threads (status.h) and the service manager
 * (notify.h); pipeline_status.c. */
typedef struct pipeline_publish {
    status_t *status;         /* borrowed; NULL: nothing published */
    uint64_t *consumed;       /* per queue: records processed since the process started */
    int64_t snapshot_mono_ms; /* the last snapshot */
    int64_t notify_mono_ms;   /* the last status line */
    uint64_t notify_consumed; /* run.consumed then */
    uint64_t lag;             /* summed over the assigned partitions, at the last snapshot */
    int64_t probe_mono_ms;    /* the last reachability probe while the brokers were down */
    bool broker_down;
    bool ready_sent; /* notify_ready(), once the first assignment is loaded */
} pipeline_publish_t;

struct pipeline {
    const hf_config_t *cfg;
    pipeline_clock_fn clock;
    void *clock_opaque;
    volatile sig_atomic_t *reload;
    pipeline_reload_fn reload_fn;
    void *reload_opaque;
    char *brokers;
    int64_t exit_when_idle_ms;
    int64_t progress_every_ms;

    store_t *store;
    codec_t *codec;     /* decodes what the stages process; encodes outputs */
    codec_t *enc_codec; /* encodes records between stages */
    cache_t *anon_cache;
    cache_t *contact_cache;
    cache_t *account_cache;
    cache_t *team_cache; /* the daily digest's team states */
    timers_t *timers;    /* SLA clocks of the assigned partitions, by due time */
    metrics_t *metrics;
    uint64_t *ctr;
    stage_ctx_t stage; /* what the stages see; borrows the above */

    pipeline_kafka_t kafka;
    pipeline_intake_t intake;
    pipeline_offsets_t offsets;
    pipeline_delivery_t delivery;
    pipeline_batches_t batches;
    pipeline_run_stats_t run;
    pipeline_cron_marks_t marks;
    pipeline_publish_t publish;

    /* The one error channel: functions return a negative errno, and the first
     * failure's reason is written here on the way up (by the stages through their
     * context, or by pipeline_error()).  @failed keeps that errno: once set nothing
     * is committed any more, also not by the rebalance callback that leaving the
     * group runs. */
    int failed;
    char err[512];
};

/* Monotonic clock (ms), for durations and intervals. */
static inline int64_t pipeline_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline size_t pipeline_queue_index(const pipeline_t *p, stage_role_t role, int32_t partition)
{
    return (size_t)role * (size_t)p->intake.max_partitions + (size_t)partition;
}

/* pipeline.c */

/* Marks the run failed with @code (a negative errno) unless it failed already;
 * writes the reason @fmt unless one is there (the innermost wins) and logs it once.
 * Returns @code. */
int pipeline_error(pipeline_t *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The outcomes table of the counters in memory; NULL on out of memory. */
struct outcomes *pipeline_outcomes(pipeline_t *p);

/* pipeline_kafka.c */

/* The producer as the stages' output. */
stage_output_t pipeline_kafka_output(pipeline_t *p);

/* Delivery reports (rd_kafka_conf_set_dr_msg_cb) and rebalances
 * (rd_kafka_conf_set_rebalance_cb); @opaque is the pipeline. */
void pipeline_kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void pipeline_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque);

/* The consumer's errors that are not about a record (rd_kafka_conf_set_error_cb,
 * served on the pipeline thread): all brokers down makes the process not ready
 * (pipeline_status_broker); the others are logged.  @opaque is the pipeline. */
void pipeline_kafka_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque);

/* Takes a fetched record into the partition group (or handles a consumer error).
 * Takes ownership of @m.  Returns 0 or a negative errno (the run failed). */
int pipeline_kafka_intake(pipeline_t *p, rd_kafka_message_t *m);

/* Whether the broker holds records of queue @q that were not fetched yet (the
 * partition group's lag callback; @opaque is the pipeline). */
bool pipeline_kafka_queue_lags(void *opaque, size_t q);

/* Pauses or resumes fetching partition @partition of @role's topic. */
void pipeline_kafka_set_paused(pipeline_t *p, stage_role_t role, int32_t partition, bool pause);

/* Forgets the offsets consumed in this assignment. */
void pipeline_kafka_reset_offsets(pipeline_t *p);

/* pgroup_free()/pgroup_clear()'s destructor of a buffered record. */
void pipeline_kafka_destroy_message(void *m);

/* pipeline_commit.c */

/* Makes the work since the last commit durable: outputs acknowledged (with
 * member_updates: on_commit, the owed summaries sent first), then state, owed
 * summaries, offsets and counters in one atomic batch, written on the
 * store's writer thread while processing goes on; @sync waits for it.  Returns 0 or
 * a negative errno (the run failed; nothing is committed after a failure). */
int pipeline_commit(pipeline_t *p, bool sync);

/* pipeline_status.c: the status (status.h) and the service manager (notify.h) */

/* Before the first turn: the per-partition counts, phase running.  0 or -ENOMEM. */
int pipeline_status_start(pipeline_t *p);

/* The heartbeat and the watchdog; cheap enough for every turn. */
void pipeline_status_beat(pipeline_t *p);

/* Every turn: the heartbeat, and when due a snapshot (about every second), the
 * status line for the service manager (every 5 s), a probe of unreachable brokers. */
void pipeline_status_turn(pipeline_t *p);

/* Assignment: loading @partitions, then loaded (the first time also READY=1). */
void pipeline_status_assigning(pipeline_t *p, int partitions);
void pipeline_status_assigned(pipeline_t *p, int partitions);
void pipeline_status_revoked(pipeline_t *p);

/* The brokers cannot be reached (@why), or (NULL) they can again. */
void pipeline_status_broker(pipeline_t *p, const char *why);

/* The run stops: not ready any more. */
void pipeline_status_stopping(pipeline_t *p);

void pipeline_status_free(pipeline_t *p);

/* A record of queue @q was processed. */
static inline void pipeline_status_consumed(pipeline_t *p, size_t q)
{
    if (p->publish.consumed)
        p->publish.consumed[q]++;
}

/* pipeline_setup.c */

/* The e-mail hash key: read from @path, created with random bytes on first start.
 * 0 or -errno with @err. */
int pipeline_setup_email_key(const char *path, uint8_t *key, size_t *key_len, char *err,
                             size_t errsz);

/* Creates @dir and its parents.  0 or -errno with @err. */
int pipeline_setup_mkdir(const char *dir, char *err, size_t errsz);

/* Checks the topics on the cluster (every one exists, co-partitioned ones have equal
 * partition counts) and sizes the offsets and intake by their partition counts.
 * 0 or -errno with @err. */
int pipeline_setup_topology(pipeline_t *p, char *err, size_t errsz);

/* Our librdkafka defaults (under the config's kafka.properties). */
extern const char *const pipeline_setup_producer_defaults[];
extern const char *const pipeline_setup_consumer_defaults[];
