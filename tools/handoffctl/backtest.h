/* handoffctl backtest: what its files share.
 *
 * backtest.c        the command line, the two replays, the run
 * backtest_input.c  the recorded input (an hf-gen --output file, or the input
 *                   topics read from Kafka without a group) in the daemon's order
 * backtest_report.c the handoffs of each run, their difference and the totals,
 *                   as text or JSON; pure (no I/O, no clock), unit-tested by
 *                   test_backtest.c */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/stage.h"
#include "processors/model/output.h"
#include "util/buf.h"

/* ---- backtest_report.c ---------------------------------------------------------- */

typedef struct bt_reason {
    char *rule;
    int32_t points;
    int32_t count;
    char *detail; /* NULL: none */
} bt_reason_t;

/* A handoff as the report shows it, copied out of the stages' record. */
typedef struct bt_handoff {
    char *handoff_id;
    char *entity_type; /* "contact", "account" */
    char *entity_id;
    char *rule;
    char *team;    /* routing team; NULL: none */
    int64_t at_ms; /* qualified_at: event time */
    bt_reason_t *reasons;
    size_t reason_count;
} bt_handoff_t;

/* Every handoff of one run. */
typedef struct bt_run {
    bt_handoff_t *items;
    size_t count, cap;
} bt_run_t;

/* Appends a copy of @h to @run.  0 or -ENOMEM. */
int bt_run_add(bt_run_t *run, const hf_handoff_t *h);
void bt_run_free(bt_run_t *run);

/* What the report says about the input and the two runs besides the handoffs. */
typedef struct bt_header {
    const char *baseline_path;
    const char *proposed_path;
    uint64_t records;          /* input records replayed */
    int64_t first_ms, last_ms; /* their event times (INT64_MIN: none) */
    uint64_t dead_letters[2];  /* baseline, proposed */
    uint64_t sla_breaches[2];  /* baseline, proposed: SLA clocks run on event time */
} bt_header_t;

/* Renders the report of @baseline against @proposed (both sorted in place):
 * the totals by rule, team and ISO week side by side with the difference, then,
 * per rule, the handoffs made under one file and not the other.  Two handoffs
 * match when entity type, id and rule agree (the n-th of an entity under a rule
 * in one run with the n-th in the other); a matched pair at different times is
 * listed as moved, and so is one routed to another team.  The output depends on its arguments
 * alone.  0 or -ENOMEM. */
int bt_report_text(bt_run_t *baseline, bt_run_t *proposed, const bt_header_t *h, hf_buf_t *out);
int bt_report_json(bt_run_t *baseline, bt_run_t *proposed, const bt_header_t *h, hf_buf_t *out);

/* Parses @s as a UTC time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.mmm]]" with "Z" or
 * "+HH:MM"/"-HH:MM" (a space may stand for the T), or milliseconds since the
 * epoch.  true with *ms set, false when @s is none of these. */
bool bt_parse_time(const char *s, int64_t *ms);

/* The ISO 8601 week of @ms (UTC) as "YYYY-Www" into @out. */
void bt_iso_week(int64_t ms, char out[16]);

/* ---- backtest_input.c ----------------------------------------------------------- */

typedef struct bt_input bt_input_t;

/* Where the records come from, and which of them. */
typedef struct bt_input_opts {
    const char *file;    /* an hf-gen --output file, or NULL */
    const char *brokers; /* else these brokers, with @cfg's kafka.properties */
    const hf_config_t *cfg;
    /* Input topic of each input role (ROLE_WEB .. ROLE_SALES); NULL: not read. */
    const char *topic[ROLE_BY_ANON];
    int32_t file_partitions; /* the file's records are spread by murmur2 over these */
    int64_t from_ms, to_ms;  /* event time in [from, to) (INT64_MIN / INT64_MAX: open) */
    double timeout_s;        /* Kafka: reaching the broker, and a fetch that stalls */
} bt_input_opts_t;

/* One record, in the daemon's order; borrowed until the next bt_input_next(). */
typedef struct bt_record {
    stage_role_t role;
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_len;
    const void *value; /* NULL: none */
    size_t value_len;
    int64_t ts_ms;     /* its event time (INT64_MIN: unreadable) */
    int64_t stream_ms; /* the stream time it was released at */
} bt_record_t;

/* Opens the input.  Returns 0 with *out, or -errno with @err. */
int bt_input_open(bt_input_t **out, const bt_input_opts_t *opts, char *err, size_t errsz);

/* Partition count of the topic of each input role. */
void bt_input_partitions(const bt_input_t *in, int32_t partitions[ROLE_BY_ANON]);

/* The next record in event-time order: 1 with *rec, 0 at the end, or -errno with
 * @err. */
int bt_input_next(bt_input_t *in, bt_record_t *rec, char *err, size_t errsz);

/* Takes over the record bt_input_next() handed out last: its key and value stay
 * valid until bt_input_record_free() of the returned pointer. */
void *bt_input_detach(bt_input_t *in);
void bt_input_record_free(void *record);

/* Records skipped for lying outside [from, to). */
uint64_t bt_input_skipped(const bt_input_t *in);

void bt_input_close(bt_input_t *in);
