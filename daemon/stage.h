/* The seam between the pipeline and the stages: what a stage sees of the process.
 *
 * Stage 1 resolves anonymous ids (stage_resolve.c), stage 2 folds contact journeys
 * (stage_contact.c, merges in merge.c), stage 3 folds account journeys
 * (stage_account.c); SLA clocks that fall due fire in clocks.c.  None of them knows
 * about Kafka: a record comes in as bytes with its origin (stage_origin_t), and
 * everything a stage sends goes through the context's output (stage_output_t): to
 * an output topic, or to another stage's partition, through its repartition topic
 * or, when this process owns that partition, through the mailbox (mailbox.h),
 * drained right after the record that set it off (docs/ARCHITECTURE.md "Local
 * re-keying").  The pipeline implements the output with its producer; tests with
 * memory.
 *
 * Errors: 0, or a negative errno that ends the run; the reason is written once into
 * the context's error buffer (the innermost failure names it).  A record that
 * cannot be processed is not an error: it goes to the DLQ (dlq.h).
 *
 * Thread: one context is used by one thread (the pipeline's). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/model/event.h"
#include "processors/rules/rules.h"
#include "util/buf.h"
#include "cache.h"
#include "codec/codec.h"
#include "metrics.h"
#include "timers.h"

/* Topics the pipeline consumes, by what the stages do with them. */
typedef enum stage_role {
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
} stage_role_t;

/* Topics the stages produce to. */
typedef enum stage_out {
    OUT_BY_ANON = 0,
    OUT_BY_CONTACT,
    OUT_BY_ACCOUNT,
    OUT_READY,
    OUT_LIFECYCLE,
    OUT_DLQ,
    OUT_SLA,
    OUT_DIGEST,
    OUT__COUNT
} stage_out_t;

/* Records one input record may set off inside the process (member updates, rosters,
 * merges, redirects); more is a loop. */
#define STAGE_MAIL_BUDGET 100000u

/* A partition and an offset that name none (librdkafka's "unassigned" and
 * "invalid"; a dead letter of a record made inside the process carries them). */
#define STAGE_NO_PARTITION (-1)
#define STAGE_NO_OFFSET (-1001)

/* Where a record came from: what a dead letter names.  For a record made inside the
 * process (owed summaries, SLA clocks) the internal topic of its stage,
 * STAGE_NO_PARTITION, STAGE_NO_OFFSET, no key and an empty value.  Borrowed. */
typedef struct stage_origin {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL = absent */
    size_t key_len;
    const void *value; /* NULL = absent (a record without a value) */
    size_t value_len;
} stage_origin_t;

/* Where the stages send records.  Every function gets @opaque. */
typedef struct stage_output {
    void *opaque;
    /* Queues @value under @key to @out, on @partition (STAGE_NO_PARTITION: the
     * partitioner picks by key) with @timestamp_ms (0: none).  Returns 0, or a
     * negative errno with the reason written into @err (then the run ends). */
    int (*produce)(void *opaque, stage_out_t out, int32_t partition, int64_t timestamp_ms,
                   const void *key, size_t key_len, const void *value, size_t value_len, char *err,
                   size_t errsz);
    /* The partition of the topic of @role that @key (NUL-terminated) belongs to. */
    int32_t (*partition)(void *opaque, stage_role_t role, const char *key);
    /* Whether this process owns @partition of the topic of @role. */
    bool (*owns)(void *opaque, stage_role_t role, int32_t partition);
} stage_output_t;

/* The summaries contacts owe their accounts (accounts.member_updates other than
 * every_event), per contact partition: the partition of the contact topic a contact
 * belongs to (out.partition(ROLE_BY_CONTACT, id)).  on_commit sends every
 * partition's before each commit; coalesced sends a partition's once it folded
 * member_update_records contact records since it last sent, and every partition's
 * when the process is caught up -- points of the input's order, not of the wall
 * clock, so these lists and counts outlive commits: they are written with the
 * states (the store's owed column family) and read back on assignment
 * (stage_contact.h). */
typedef struct stage_owed_part {
    char **ids; /* contacts owed, in the order they first changed */
    size_t count, cap;
    uint32_t records; /* contact records folded since the partition last sent */
    bool due;         /* records reached member_update_records: send after the record */
    bool dirty;       /* changed since the last commit: goes into its batch */
} stage_owed_part_t;

typedef struct stage_owed {
    stage_owed_part_t *parts; /* by partition; grown on demand */
    size_t part_count;
    size_t total; /* contacts owed, over every partition */
    bool due;     /* some partition is due */
} stage_owed_t;

/* What the stages of this run counted, for the summary. */
typedef struct stage_run_counts {
    uint64_t handoffs;
    uint64_t folded;
} stage_run_counts_t;

typedef struct stage_ctx {
    /* Borrowed; set by the owner before stage_ctx_init(), outlive the context. */
    hf_rules_t *const *rules;             /* the rules in force: a reload swaps *rules */
    int64_t (*clock)(void *clock_opaque); /* wall clock (ms) */
    void *clock_opaque;
    codec_t *codec;     /* decodes what the stages process; encodes outputs */
    codec_t *enc_codec; /* encodes records between stages */
    cache_t *anon_cache;
    cache_t *contact_cache;
    cache_t *account_cache;
    cache_t *team_cache; /* the daily digest's team states */
    timers_t *timers;    /* when each entity's SLA clocks next need attention */
    metrics_t *metrics;  /* fixed and named counters */
    stage_output_t out;
    const char *role_topic[ROLE__COUNT]; /* topic names, for dead letters and logs */
    unsigned mail_budget;                /* 0: STAGE_MAIL_BUDGET */
    /* Told of every handoff once it was produced (NULL: nobody is; the daemon).
     * @h is borrowed for the call.  handoffctl backtest (daemon/replay.h) keeps
     * who qualified and why from here rather than decoding its own outputs.  0, or a
     * negative errno that fails the record as a failed output would. */
    int (*on_handoff)(void *opaque, const hf_handoff_t *h);
    void *on_handoff_opaque;
    char *err; /* the reason of a failure, written once */
    size_t errsz;

    /* Kept by the stages. */
    uint64_t *ctr; /* metrics_counters(metrics), set by stage_ctx_init() */
    struct mailbox *mailbox;
    stage_owed_t owed;
    int64_t current_ts; /* event time of the record being processed (0: unknown) */
    stage_run_counts_t run;
    bool outcomes_changed; /* set when an outcome counter moved; the owner clears it */
    hf_buf_t out_buf, enc_buf, key_buf;
} stage_ctx_t;

/* State of each store behind the record caches (cache_new()'s @ops). */
extern const cache_ops_t stage_anon_ops;
extern const cache_ops_t stage_contact_ops;
extern const cache_ops_t stage_account_ops;
extern const cache_ops_t stage_team_ops; /* stage_digest.c */

/* Readies the parts of @c the stages keep (the mailbox); the borrowed fields are set
 * and the rest zero.  Returns 0 or -ENOMEM. */
int stage_ctx_init(stage_ctx_t *c);

/* Frees what the stages keep (undelivered mail, owed summaries, buffers); not the
 * borrowed fields. */
void stage_ctx_release(stage_ctx_t *c);

/* Processes one consumed record of topic @role (@m: the record, also what dead
 * letters name), then everything it set off inside the process, then (coalesced)
 * the owed summaries of every contact partition the record made due.  Returns 0
 * (also when the record was dead-lettered) or a negative errno. */
int stage_process(stage_ctx_t *c, const stage_origin_t *m, stage_role_t role);

/* Processes the mailbox in order, at most @budget records: more means records that
 * keep setting each other off, a loop (-ELOOP).  @origin is what dead letters of
 * those records name.  Returns 0 or a negative errno. */
int stage_drain(stage_ctx_t *c, const stage_origin_t *origin, unsigned budget);

/* Drops undelivered mail and the owed summaries in memory (after a failure; what
 * the last commit stored stays). */
void stage_abandon(stage_ctx_t *c);

/* Whether this process owns @id's stage-2 (contact) or stage-3 (account) partition. */
bool stage_owns(stage_ctx_t *c, hf_entity_type_t type, const char *id);

/* --- for the stage files ------------------------------------------------------ */

/* Writes the reason of a failure into @c's error buffer unless one is there (the
 * innermost reason wins).  Returns @code (a negative errno). */
int stage_fail(stage_ctx_t *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Wall clock (ms). */
int64_t stage_now_ms(const stage_ctx_t *c);

/* The rules in force. */
const hf_rules_t *stage_rules(const stage_ctx_t *c);

/* The origin of records made inside the process for the stage reading @role. */
stage_origin_t stage_internal_origin(const stage_ctx_t *c, stage_role_t role);

/* The cached state of @key in @cache (created with @create when absent, unless
 * @create is NULL), or NULL with *r set: 0 (absent and not created), 1 (corrupt:
 * dead-lettered, naming @origin), or a negative errno. */
cache_entry_t *stage_state_of(stage_ctx_t *c, cache_t *cache, const stage_origin_t *origin,
                              const char *key, void *(*create)(const char *key), int *r);

/* Sends @value to the stage reading @via (a repartition role) under @key: into the
 * mailbox when this process owns the key's partition, else through the repartition
 * topic, with @ts_ms as its timestamp.  0 or a negative errno. */
int stage_deliver(stage_ctx_t *c, stage_role_t via, const char *key, const void *value, size_t len,
                  int64_t ts_ms);

/* An input record re-keyed to the stage reading @via: its original bytes, unchanged,
 * stamped with its event time.  0 or a negative errno. */
int stage_forward_input(stage_ctx_t *c, stage_role_t via, const char *key, const void *raw,
                        size_t len);
