/* The partition group: feeds the stages their records in event-time order.
 *
 * Kafka delivers each partition in offset order but says nothing about the order
 * between partitions and topics; a consumer that takes records as they arrive folds
 * a contact's e-mails of Friday before the web visits of Monday whenever one topic
 * is fetched ahead of another (always, when catching up on a backlog).  Scoring and
 * qualification run on event time, so that would make a replay give other answers
 * than live processing.  As Kafka Streams' PartitionGroup does, this buffers what
 * was fetched, one FIFO queue per topic-partition, and always hands out the head
 * with the smallest event time, across every partition of the process.
 *
 * A queue that is empty but known to have more records on the broker (lag) holds
 * the others back as long as its next record could be the oldest (its key is a lower
 * bound of that record's time: the last time seen on the queue), however long the
 * fetch takes: the order released is a function of the queues' contents, not of
 * when they were fetched, so a replay gives the answers the first run gave.  Only a
 * queue that is caught up may be passed over, once it has been idle for
 * @idle_timeout_ms (0: at once, as Kafka Streams' max.task.idle.ms = 0 does); a
 * record that reaches it later is merged from where the others are.
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

/* A group of @queue_count queues.  NULL on out of memory. */
pgroup_t *pgroup_new(size_t queue_count, int64_t idle_timeout_ms, pgroup_lag_fn lag, void *opaque);

/* Frees the group; @free_record is called for every record still buffered. */
void pgroup_free(pgroup_t *g, void (*free_record)(void *));

/* Appends @record of event time @ts_ms to queue @q (records of one queue arrive in
 * offset order).  Returns 0 or -ENOMEM. */
int pgroup_push(pgroup_t *g, size_t q, void *record, int64_t ts_ms);

typedef enum pgroup_next_result {
    PGROUP_READY = 0, /* *record and *q are set: process it now */
    PGROUP_WAIT,      /* the oldest record may still be on its way: fetch more first */
    PGROUP_EMPTY,     /* nothing buffered */
} pgroup_next_result_t;

/* The record to process next, removed from its queue.  @now_ms is a monotonic
 * clock for the idle timeout. */
pgroup_next_result_t pgroup_next(pgroup_t *g, int64_t now_ms, void **record, size_t *q);

/* The queue the group waits for after PGROUP_WAIT, or -1. */
long pgroup_waiting_on(const pgroup_t *g);

/* Re-reads the lag of the empty queues (call after new records were fetched);
 * @now_ms is the monotonic clock of pgroup_next(). */
void pgroup_refresh(pgroup_t *g, int64_t now_ms);

/* Records buffered in queue @q, and in all queues. */
size_t pgroup_queue_len(const pgroup_t *g, size_t q);
size_t pgroup_total(const pgroup_t *g);

/* Drops every buffered record (calling @free_record), e.g.
 * when partitions are revoked: they will be fetched again from the committed
 * offsets by whoever owns them next. */
void pgroup_clear(pgroup_t *g, void (*free_record)(void *));
