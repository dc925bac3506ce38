/* The partition group: feeds the stages their records in event-time order.
 *
 * Kafka delivers each partition in offset order but says nothing about the order
 * between partitions and topics; a consumer that takes records as they arrive folds
 * a contact's e-mails of Friday before the web visits of Monday whenever one topic
 * is fetched ahead of another (always, when catching up on a backlog).  Scoring and
 * qualification run on event time, so that would make a replay give other answers
 * than live processing.  This buffers what was fetched, one FIFO queue per
 * topic-partition, and always hands out the head with the smallest key across every
 * partition of the process.
 *
 * The key of a record is its partition time: the newest event time seen on its
 * queue up to and including it (Kafka Streams' partition time).  Keys only grow
 * along a queue, so the order released is the sort of every record by (key, queue,
 * offset): a total order that depends on the partitions' contents alone.  A record
 * older than its partition time (a tracker's delayed batch) keeps its place in its
 * partition.
 *
 * Empty queues decide how long the others wait:
 *  - A queue with records on the broker not fetched yet (lagging) holds back every
 *    record newer than its partition time, however long the fetch takes: a replay
 *    of a backlog gives the same order whatever the fetch timing.
 *  - A caught-up queue holds back the records within @allowed_lateness_ms of the
 *    wall clock (a live partition's next record is expected no further behind "now"
 *    than that), each for at most @idle_timeout_ms of processing time since it was
 *    fetched, and only until it has been dry that long itself.  Records older than
 *    that (a backlog) never wait for a caught-up queue, and no record waits longer
 *    than the idle timeout for one.
 *  - An idle queue (caught up for the idle timeout) holds back nothing until its
 *    next record; that record is merged from where the others are.
 *
 * The stream time is the largest key released so far.  A record released behind it
 * in the order (key, queue) — its queue was passed over, or it ties the stream time
 * and its queue comes before the queue released last — or older than its own
 * queue's partition time by more than @allowed_lateness_ms, is late: it is handed
 * out with late set, to be applied on arrival and counted.  A record late only by
 * the tie has behind_ms 0.
 *
 * Records are opaque here; the caller owns them until they are handed back.
 *
 * Thread: the pipeline thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pgroup pgroup_t;

/* Whether queue @q may have records on the broker that were not fetched yet (true
 * also when that is not known yet). */
typedef bool (*pgroup_lag_fn)(void *opaque, size_t q);

typedef struct pgroup_opts {
    int64_t idle_timeout_ms;     /* 0: a caught-up queue is idle at once */
    int64_t allowed_lateness_ms; /* >= 0 */
} pgroup_opts_t;

/* A group of @queue_count queues.  NULL on out of memory. */
pgroup_t *pgroup_new(size_t queue_count, const pgroup_opts_t *opts, pgroup_lag_fn lag,
                     void *opaque);

/* Frees the group; @free_record is called for every record still buffered. */
void pgroup_free(pgroup_t *g, void (*free_record)(void *));

/* Appends @record of event time @ts_ms to queue @q (records of one queue arrive in
 * offset order; INT64_MIN: unknown, it goes at its partition time), fetched at
 * @now_ms of the monotonic clock of pgroup_next().  Returns 0 or -ENOMEM. */
int pgroup_push(pgroup_t *g, size_t q, void *record, int64_t ts_ms, int64_t now_ms);

typedef enum pgroup_next_result {
    PGROUP_READY = 0, /* *item is set: process it now */
    PGROUP_WAIT,      /* the oldest record may still be on its way: fetch more first */
    PGROUP_EMPTY,     /* nothing buffered */
} pgroup_next_result_t;

/* A record handed out. */
typedef struct pgroup_item {
    void *record;
    size_t q;
    int64_t ts;        /* its event time (INT64_MIN: unknown) */
    int64_t key;       /* its partition time */
    int64_t behind_ms; /* how far its event time lies behind the stream time (>= 0) */
    bool late;         /* released out of the order a backlog would have (above) */
} pgroup_item_t;

/* The record to process next, removed from its queue.  @now_ms is a monotonic
 * clock for the idle timeout, @wall_ms the wall clock (event-time scale) for the
 * allowed lateness of caught-up queues. */
pgroup_next_result_t pgroup_next(pgroup_t *g, int64_t now_ms, int64_t wall_ms, pgroup_item_t *item);

/* The queue the group waits for after PGROUP_WAIT, or -1. */
long pgroup_waiting_on(const pgroup_t *g);

/* Restores queue @q's partition time as of the last commit (@key, the key of the
 * last record processed before it), so that after a restart records are keyed and
 * judged late as in the run before; the stream time grows to it.  Call before the
 * queue's first record. */
void pgroup_set_partition_time(pgroup_t *g, size_t q, int64_t key);

/* Queue @q's partition time as of the last record handed out (INT64_MIN: none yet):
 * what a commit stores beside the queue's next offset. */
int64_t pgroup_partition_time(const pgroup_t *g, size_t q);

/* The largest key released since the group was made or cleared (INT64_MIN: none). */
int64_t pgroup_stream_time(const pgroup_t *g);

/* Re-reads the lag of the empty queues (call after new records were fetched);
 * @now_ms is the monotonic clock of pgroup_next(). */
void pgroup_refresh(pgroup_t *g, int64_t now_ms);

/* Whether the group is caught up: nothing buffered, and no queue lagging (with
 * records on the broker not fetched yet, or not known yet).  In a replay of a
 * backlog that is only at its end; live, whenever what arrived was processed.  The
 * lag of empty queues is as of the last pgroup_refresh() or record handed out. */
bool pgroup_caught_up(const pgroup_t *g);

/* Records buffered in queue @q, and in all queues. */
size_t pgroup_queue_len(const pgroup_t *g, size_t q);
size_t pgroup_total(const pgroup_t *g);

/* Drops every buffered record (calling @free_record), e.g.
 * when partitions are revoked: they will be fetched again from the committed
 * offsets by whoever owns them next. */
void pgroup_clear(pgroup_t *g, void (*free_record)(void *));
