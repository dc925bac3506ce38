/* The sample-traffic model of hf-gen: realistic B2B marketing and sales journeys.
 *
 * People are generated one by one, each from its own random stream (see
 * tools/gen/rng.h): anonymous visitors who read a few pages and leave, newsletter
 * subscribers, content researchers, contacts known only from the CRM, evaluators
 * and hand-raisers, with the sales follow-up of the latter.  The journeys of a batch of
 * people are merged in event-time order, so journeys interleave while the events
 * of one person stay in order.  Only one batch is held in memory at a time.
 *
 * Nothing here does I/O: the records are hf_event_t values, encoded and produced
 * by tools/gen/deliver.c.  How the model's files divide the work: internal.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/model/event.h"

typedef struct gen_model gen_model_t;

typedef struct gen_model_opts {
    uint64_t seed;
    uint32_t contacts; /* people, known or not */
    uint32_t accounts; /* companies; known contacts fill them 1-8 at a time */
    int64_t start_ms;  /* event times lie in [start_ms, start_ms + span_ms] */
    int64_t span_ms;
} gen_model_opts_t;

typedef struct gen_record {
    hf_event_t ev;    /* strings belong to the model, valid until the next batch */
    uint32_t person;  /* index of the person the event belongs to */
    uint32_t seq;     /* position in that person's journey */
    bool hand_raiser; /* a demo_request / contact_sales form */
} gen_record_t;

/* What the people generated so far turned out to be. */
typedef struct gen_model_stats {
    uint64_t people;
    uint64_t identified;   /* people who became known contacts */
    uint64_t hand_raisers; /* people who asked for sales */
    uint64_t merged;       /* duplicate CRM records merged into a contact */
} gen_model_stats_t;

/* Returns 0 and sets *out, or -ENOMEM / -EINVAL (contacts or accounts 0, span < 0). */
int gen_model_new(gen_model_t **out, const gen_model_opts_t *opts);
void gen_model_free(gen_model_t *m);

/* Generates the next batch: the journeys of up to @max_people people following
 * the previous batch, merged by event time (ties: person, then journey order).
 * *recs points to @*count records owned by the model, valid until the next call.
 * Returns 0 (with *count 0 once every person was generated) or -ENOMEM. */
int gen_model_next_batch(gen_model_t *m, uint32_t max_people, const gen_record_t **recs,
                         size_t *count);

void gen_model_get_stats(const gen_model_t *m, gen_model_stats_t *stats);

/* A copy of @src in the model's batch storage (valid until the next batch), for
 * callers that build variants of a record.  NULL on allocation failure. */
char *gen_model_strdup(gen_model_t *m, const char *src);

/* A string of @len copies of @c in the batch storage (oversized-field records). */
char *gen_model_filler(gen_model_t *m, size_t len, char c);
