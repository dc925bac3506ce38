/* Inside the pipeline: shared by pipeline.c (Kafka, ordering, commits, rebalances)
 * and stages.c (what each stage does with a record).  Not for other modules. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/model/output.h"
#include "cache.h"
#include "codec/codec.h"
#include "metrics.h"
#include "pgroup.h"
#include "pipeline.h"
#include "store.h"
#include "timers.h"

/* Topics the pipeline consumes, by what it does with them. */
typedef enum role {
    ROLE_WEB = 0,
    ROLE_FORM,
    ROLE_DOWNLOAD,
    ROLE_WEBINAR,
    ROLE_EMAIL,
    ROLE_IDENTITY,
    ROLE_SALES,
    ROLE_BY_ANON,    /* stage 1's repartition topic */
    ROLE_BY_CONTACT, /* stage 2's */
    ROLE_BY_ACCOUNT, /* stage 3's */
    ROLE__COUNT
} role_t;

/* Topics the pipeline produces to. */
typedef enum out_topic {
    OUT_BY_ANON = 0,
    OUT_BY_CONTACT,
    OUT_BY_ACCOUNT,
    OUT_READY,
    OUT_LIFECYCLE,
    OUT_DLQ,
    OUT_SLA,
    OUT__COUNT
} out_topic_t;

#define CONSUME_BATCH 1024
/* A partition whose buffer in the partition group reaches PAUSE_AT records stops
 * fetching until it drains to RESUME_AT: bounded memory while waiting for
 * another partition to catch up in event time. */
#define PAUSE_AT 5000
#define RESUME_AT 1000
/* How long the oldest partition may hold the others back (max.task.idle.ms). */
#define MAX_ORDER_WAIT_MS 500
#define STARTUP_ORDER_WAIT_MS 500
#define FLUSH_TIMEOUT_MS 60000
#define METADATA_TIMEOUT_MS 15000
/* Records one input record may set off inside the process (member updates, rosters,
 * merges, redirects); more is a loop. */
#define MAILBOX_MAX_PER_RECORD 100000

/* A record re-keyed to a partition this process owns: handled right after the
 * record that produced it, in the same commit (docs/ARCHITECTURE.md "Local
 * re-keying"). */
typedef struct mail {
    role_t role; /* ROLE_BY_ANON, ROLE_BY_CONTACT or ROLE_BY_ACCOUNT */
    char *key;
    uint8_t *value;
    size_t value_len;
} mail_t;

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
    store_batch_t *batch;       /* filled by the next commit */
    store_batch_t *batch_spare; /* with the writer thread while write_inflight */
    bool write_inflight;
    rd_kafka_topic_partition_list_t *inflight_offsets; /* to the coordinator once durable */
    codec_t *codec;     /* decodes what the stages process; encodes outputs */
    codec_t *enc_codec; /* encodes records between stages */
    cache_t *anon_cache;
    cache_t *contact_cache;
    cache_t *account_cache;
    timers_t *timers; /* SLA clocks of the assigned partitions, by due time */
    metrics_t *metrics;
    uint64_t *ctr;

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *queue;

    const char *role_topic[ROLE__COUNT];
    int32_t role_partitions[ROLE__COUNT];
    const rd_kafka_topic_t *role_rkt[ROLE__COUNT]; /* learnt from messages, for fast lookup */
    rd_kafka_topic_t *out_rkt[OUT__COUNT];

    /* Next offset to consume per role and partition (-1: nothing consumed yet in
     * this assignment), and whether it changed since the last commit. */
    int64_t *next_offset[ROLE__COUNT];
    bool *offset_dirty[ROLE__COUNT];

    /* Records fetched but not processed yet, released in event-time order.  Queue
     * index = role * max_partitions + partition.  Per queue: the offset after the
     * last record fetched (-1 unknown), whether it is assigned, whether paused. */
    pgroup_t *pg;
    int32_t max_partitions;
    int64_t *fetched_next;
    bool *assigned;
    bool *paused;

    /* The input record being processed: event time, and where it came from (a
     * dead letter of anything it sets off names it). */
    int64_t current_ts;
    const rd_kafka_message_t *current_msg;

    /* Local re-keying: FIFO of mail, drained after each input record. */
    mail_t *mail;
    size_t mail_head, mail_count, mail_cap;

    /* Contacts whose account is owed their summary (accounts.member_updates:
     * on_commit), in the order they first changed; sent before every commit. */
    char **owed;
    size_t owed_count, owed_cap;

    /* Producer acknowledgements (delivery reports run on this thread, inside
     * rd_kafka_poll / rd_kafka_flush). */
    uint64_t produced;
    uint64_t delivered;
    bool delivery_failed;
    char delivery_err[256];

    bool fatal;
    char fatal_err[512];
    bool outcomes_changed; /* since the last commit's "outcomes:" line */
    size_t clocks_at_stop; /* entities with SLA clocks pending when the run ended */

    int64_t last_commit_mono_ms;
    hf_buf_t out_buf;
    hf_buf_t enc_buf;
    hf_buf_t key_buf;
    char errbuf[512];

    /* Where this run's time went, for the summary (ms). */
    int64_t run_commit_ms, run_commit_max_ms, run_commits, run_wait_ms;

    /* This run, for the summary. */
    uint64_t run_consumed;
    uint64_t run_handoffs;
    uint64_t run_folded;
    int64_t run_first_mono_ms;
    int64_t run_last_mono_ms;
    /* How long the commit that made the last record's state durable took: the
     * run's rate counts that work too (not the idle wait before it). */
    int64_t run_tail_commit_ms;
    int64_t run_tail_for_ms;  /* the run_last_mono_ms it was measured for */
    int64_t assigned_mono_ms; /* last assignment: idle time counts from here too */
};

static inline size_t queue_index(const pipeline_t *p, role_t role, int32_t partition)
{
    return (size_t)role * (size_t)p->max_partitions + (size_t)partition;
}

/* pipeline.c */
int64_t mono_ms(void);
void pipeline_fail(pipeline_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int produce_to(pipeline_t *p, out_topic_t t, int32_t partition, int64_t timestamp_ms,
               const void *key, size_t key_len, const void *val, size_t val_len);
int produce(pipeline_t *p, out_topic_t t, const void *key, size_t key_len, const void *val,
            size_t val_len);

/* The outcomes table of the counters in memory; NULL on out of memory. */
struct outcomes;
struct outcomes *outcomes_of(pipeline_t *p);

/* stages.c */
extern const cache_ops_t stages_anon_ops;
extern const cache_ops_t stages_contact_ops;
extern const cache_ops_t stages_account_ops;
extern const hf_event_kind_t stages_role_kind[ROLE__COUNT];

/* Processes one consumed record of topic role @role, then everything it set off
 * inside the process.  Returns 0 (also when the record was dead-lettered) or a
 * negative errno (fatal; the pipeline is marked failed). */
int stages_process(pipeline_t *p, const rd_kafka_message_t *m, role_t role);

/* Drops undelivered mail (after a fatal error) and the list of owed summaries. */
void stages_mail_clear(pipeline_t *p);

/* Fires the SLA clocks that fell due by @now_ms (at most @max entities) and
 * indexes their next due times.  Returns 0 or a negative errno (fatal). */
int stages_fire_timers(pipeline_t *p, int64_t now_ms, unsigned max);

/* After a reload whose rules say sla.on_reload: recompute: every running clock takes
 * the new deadlines.  Returns 0 or a negative errno (fatal). */
int stages_reschedule(pipeline_t *p);

/* Whether this process owns @id's stage-2 (contact) or stage-3 (account) partition. */
bool stages_owns(pipeline_t *p, hf_entity_type_t type, const char *id);

/* Sends every owed contact summary to its account and processes what that sets off
 * in this process (stage 3, rosters back to stage 2); run first in every commit.
 * Returns 0 or a negative errno (fatal). */
int stages_flush_owed(pipeline_t *p);
