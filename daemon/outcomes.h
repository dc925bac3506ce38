/* Outcomes for marketing, as a table: what became of the handoffs, by rule, source,
 * first- and last-touch campaign; SLA met and breached, and the median time to
 * accept and to first touch, per team and owner.
 *
 * Built from the "outcome" counters the pipeline keeps in the state store
 * ("<dimension>|<value>|<metric>[|<detail>]", see daemon/stages.c), so the same
 * table comes from a running daemon's summary and from `handoffctl outcomes` on its
 * store, and tables of several instances' stores add up. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct outcomes outcomes_t;

outcomes_t *outcomes_new(void);
void outcomes_free(outcomes_t *o);

/* Adds counter @name (without the "outcome." group prefix) with value @n.  Names
 * that are not outcome counters are ignored.  0 or -ENOMEM. */
int outcomes_add(outcomes_t *o, const char *name, uint64_t n);

/* Prints the table (nothing but a line saying so when there is nothing yet). */
void outcomes_print(const outcomes_t *o, FILE *out);

/* One line: "handoffs N, accepted N, rejected N, ..., SLA met N, breached N". */
void outcomes_line(const outcomes_t *o, char *buf, size_t bufsz);

/* ---- Rows, for renderers other than the table (the lookup's JSON) ---- */

#define OUTCOMES_FUNNEL_N 9
#define OUTCOMES_SLA_N 3
#define OUTCOMES_FEEDBACK_N 5
/* Buckets of the duration histograms (metrics_duration_bucket()). */
#define OUTCOMES_BUCKETS 512

/* Column names, or NULL past the last: the funnel ("handoff", "accepted",
 * "rejected", "recycled", "qualified", "opportunity", "won", "lost",
 * "disqualified"), the SLA clocks ("accept", "first_touch", "follow_up") and the
 * feedback counts ("feedback_early", "feedback_stale", "feedback_unknown",
 * "feedback_ignored", "feedback_no_handoff"). */
const char *outcomes_funnel_name(size_t i);
const char *outcomes_sla_name(size_t i);
const char *outcomes_feedback_name(size_t i);

/* One row of the table: a value of a dimension ("all", "rule", "source",
 * "first_campaign", "last_campaign", "team", "owner").  Everything is borrowed from
 * the table and valid during the callback only. */
typedef struct outcomes_row {
    const char *dim;
    const char *value;
    const uint64_t *funnel;         /* OUTCOMES_FUNNEL_N, in outcomes_funnel_name() order */
    const uint64_t *met, *breached; /* OUTCOMES_SLA_N each */
    const uint64_t *feedback;       /* OUTCOMES_FEEDBACK_N */
    uint64_t accepts_timed;         /* durations in the time-to-accept histogram */
    uint64_t touches_timed;         /* ... and in the time-to-first-touch one */
    int64_t median_accept_ms;       /* the middle of the median's bucket; -1: none */
    int64_t median_first_touch_ms;  /* same */
    const uint64_t *accept_hist;    /* OUTCOMES_BUCKETS counts, or NULL when empty */
    const uint64_t *touch_hist;     /* same, time to first touch */
    const char *const *reasons;     /* rejection reasons ... */
    const uint64_t *reason_counts;  /* ... and how often each was given */
    size_t reason_count;
} outcomes_row_t;

typedef int (*outcomes_row_fn)(void *opaque, const outcomes_row_t *row);

/* Calls @fn for every row of dimension @dim (NULL: every row), in the order the
 * rows were first counted, until it returns non-zero (then returned); the medians
 * are the ones outcomes_print() shows. */
int outcomes_each(const outcomes_t *o, const char *dim, outcomes_row_fn fn, void *opaque);
