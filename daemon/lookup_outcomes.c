/* GET /v1/outcomes: the outcomes table of `handoffctl outcomes` as JSON, from the
 * outcome counters of the last commit, through outcomes.c's rows (the same numbers
 * and medians the table prints). */
#include <errno.h>
#include <string.h>

#include "journey_json.h"
#include "lookup_priv.h"
#include "metrics.h"
#include "outcomes.h"

/* The JSON names of the feedback counts (outcomes_feedback_name() order). */
static const char *const FEEDBACK_KEYS[OUTCOMES_FEEDBACK_N] = {"early", "stale", "unknown_handoff",
                                                               "ignored", "without_handoff"};

/* A counter "outcome.<dimension>|..." of the metrics store into the table. */
static int take_counter(void *opaque, const void *key, size_t key_len, const void *val,
                        size_t val_len)
{
    static const char prefix[] = "outcome.";
    if (val_len != 8 || key_len <= sizeof prefix - 1 || key_len > 4096)
        return 0;
    char name[4097];
    memcpy(name, (const char *)key + sizeof prefix - 1, key_len - (sizeof prefix - 1));
    name[key_len - (sizeof prefix - 1)] = 0;
    return outcomes_add(opaque, name, store_get_be64(val)) < 0 ? -ENOMEM : 0;
}

static void put_funnel(journey_json_writer_t *w, const outcomes_row_t *row)
{
    for (size_t k = 0; k < OUTCOMES_FUNNEL_N; k++)
        journey_json_uint(w, k == 0 ? "handoffs" : outcomes_funnel_name(k), row->funnel[k]);
    journey_json_object(w, "rejected_because");
    for (size_t k = 0; k < row->reason_count; k++)
        journey_json_uint(w, row->reasons[k], row->reason_counts[k]);
    journey_json_end(w);
}

static void put_median(journey_json_writer_t *w, const char *key, int64_t ms)
{
    if (ms < 0)
        journey_json_null(w, key);
    else
        journey_json_num(w, key, (double)ms / 1000.0);
}

/* A histogram's non-empty buckets as [low_seconds, high_seconds, count]: what
 * several instances' answers are merged by (a median of the sum is read from the
 * summed buckets, which medians themselves cannot give). */
static void put_buckets(journey_json_writer_t *w, const char *key, const uint64_t *hist)
{
    journey_json_array(w, key);
    for (int b = 0; hist && b < OUTCOMES_BUCKETS; b++) {
        if (!hist[b])
            continue;
        journey_json_array(w, NULL);
        journey_json_num(w, NULL, (double)metrics_bucket_low_ms(b) / 1000.0);
        journey_json_num(w, NULL, (double)metrics_bucket_low_ms(b + 1) / 1000.0);
        journey_json_uint(w, NULL, hist[b]);
        journey_json_end(w);
    }
    journey_json_end(w);
}

static void put_sla(journey_json_writer_t *w, const outcomes_row_t *row, bool buckets)
{
    for (size_t k = 0; k < OUTCOMES_SLA_N; k++) {
        journey_json_object(w, outcomes_sla_name(k));
        journey_json_uint(w, "met", row->met[k]);
        journey_json_uint(w, "breached", row->breached[k]);
        journey_json_end(w);
    }
    put_median(w, "median_accept_seconds", row->median_accept_ms);
    put_median(w, "median_first_touch_seconds", row->median_first_touch_ms);
    if (buckets) {
        put_buckets(w, "accept_buckets", row->accept_hist);
        put_buckets(w, "first_touch_buckets", row->touch_hist);
    }
}

/* What one list renders: its rows' dimension, the name of their value, and whether
 * a row is the funnel or the SLA. */
typedef struct list_ctx {
    journey_json_writer_t *w;
    const char *value_key;
    bool sla, buckets;
} list_ctx_t;

static int put_row(void *opaque, const outcomes_row_t *row)
{
    list_ctx_t *c = opaque;
    journey_json_object(c->w, NULL);
    journey_json_str(c->w, c->value_key, row->value);
    if (c->sla)
        put_sla(c->w, row, c->buckets);
    else
        put_funnel(c->w, row);
    journey_json_end(c->w);
    return 0;
}

static void put_list(journey_json_writer_t *w, const outcomes_t *o, const char *key,
                     const char *dim, const char *value_key, bool sla, bool buckets)
{
    list_ctx_t c = {w, value_key, sla, buckets};
    journey_json_array(w, key);
    outcomes_each(o, dim, put_row, &c);
    journey_json_end(w);
}

/* The "all" row: the funnel, the SLA and the feedback counts. */
static int put_totals(void *opaque, const outcomes_row_t *row)
{
    list_ctx_t *c = opaque;
    journey_json_writer_t *w = c->w;
    journey_json_object(w, "totals");
    put_funnel(w, row);
    journey_json_object(w, "sla");
    put_sla(w, row, c->buckets);
    journey_json_end(w);
    journey_json_object(w, "feedback");
    for (size_t k = 0; k < OUTCOMES_FEEDBACK_N; k++)
        journey_json_uint(w, FEEDBACK_KEYS[k], row->feedback[k]);
    journey_json_end(w);
    journey_json_end(w);
    return 1; /* there is one */
}

void lookup_outcomes_members(journey_json_writer_t *w, const outcomes_t *o, bool buckets)
{
    list_ctx_t c = {w, NULL, true, buckets};
    if (!outcomes_each(o, "all", put_totals, &c))
        journey_json_null(w, "totals"); /* nothing counted yet */
    put_list(w, o, "by_rule", "rule", "rule", false, buckets);
    put_list(w, o, "by_source", "source", "source", false, buckets);
    put_list(w, o, "by_first_campaign", "first_campaign", "campaign", false, buckets);
    put_list(w, o, "by_last_campaign", "last_campaign", "campaign", false, buckets);
    put_list(w, o, "sla_by_team", "team", "team", true, buckets);
    put_list(w, o, "sla_by_owner", "owner", "owner", true, buckets);
}

static int render(hf_buf_t *out, const outcomes_t *o, int64_t as_of_ms)
{
    journey_json_writer_t w;
    journey_json_init(&w, out);
    journey_json_object(&w, NULL);
    journey_json_int(&w, "version", JOURNEY_JSON_VERSION);
    lookup_outcomes_members(&w, o, false);
    journey_json_time(&w, "as_of", as_of_ms);
    journey_json_end(&w);
    return journey_json_finish(&w);
}

int lookup_outcomes(void *opaque, const http_request_t *req, http_response_t *resp)
{
    lookup_t *lk = opaque;
    if (strcmp(req->path, "/v1/outcomes") != 0)
        return lookup_answer_error(resp, 404, "not found", NULL);
    store_snapshot_t *snap = NULL;
    outcomes_t *o = outcomes_new();
    int r = o ? store_snapshot_new(&snap, lk->store) : -ENOMEM;
    char err[512];
    if (r == 0)
        r = store_snapshot_scan_prefix(snap, STORE_CF_METRICS, "outcome.", 8, take_counter, o, err,
                                       sizeof err);
    if (r == -EIO) {
        r = lookup_answer_error(resp, 500, "state store", err);
    } else if (r == 0) {
        hf_buf_reset(&resp->body);
        r = render(&resp->body, o, lookup_as_of(lk, snap));
    }
    store_snapshot_free(snap);
    outcomes_free(o);
    return r;
}
