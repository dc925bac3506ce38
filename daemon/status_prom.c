/* The Prometheus text exposition of the status (status_prom.h). */
#include "status_prom.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixed counters of metrics.h exposed one family each; the others have families
 * with labels below (dead letters, handoffs, breaches) or are not counts of
 * anything an operator watches (commits come as a histogram). */
static const struct {
    metric_t id;
    const char *name;
    const char *help;
} fixed_families[] = {
    {M_FOLDED, "handoff_events_folded_total", "Events folded into a journey."},
    {M_DUPLICATES, "handoff_duplicates_total", "Repeated event ids dropped."},
    {M_FORWARDED, "handoff_records_rekeyed_total",
     "Records re-keyed to another stage (through the mailbox or a repartition topic)."},
    {M_REMOTE, "handoff_records_rekeyed_remote_total",
     "Records re-keyed through a repartition topic (another instance's partition)."},
    {M_BUFFERED, "handoff_anonymous_buffered_total", "Anonymous records buffered by stage 1."},
    {M_EVICTED, "handoff_anonymous_evicted_total",
     "Buffered anonymous records dropped by the stitching bounds."},
    {M_IDENTIFIED, "handoff_anonymous_identified_total", "Anonymous ids resolved to a contact."},
    {M_RELINKED, "handoff_anonymous_relinked_total", "Anonymous ids moved to another contact."},
    {M_LIFECYCLE, "handoff_lifecycle_changes_total", "LifecycleChange records emitted."},
    {M_MEMBER_UPDATES, "handoff_member_updates_total", "Contact summaries sent to accounts."},
    {M_ROSTERS, "handoff_rosters_total", "Buying-group rosters sent to contacts."},
    {M_MERGES, "handoff_merges_total", "Contact merges carried out."},
    {M_REDIRECTED, "handoff_events_redirected_total",
     "Events for a merged-away contact sent to its survivor."},
    {M_FEEDBACK, "handoff_sales_feedback_total", "Sales activity records applied."},
    {M_TIMERS_FIRED, "handoff_sla_timers_fired_total", "Entities whose SLA clocks fell due."},
    {M_COMMITS, "handoff_commits_total", "State batches committed to the store."},
};

static const struct {
    metric_hist_t id;
    const char *name;
    const char *help;
} hist_families[] = {
    {MH_EVENT_TO_HANDOFF, "handoff_event_to_handoff_seconds",
     "From the event that qualified (event time) to the handoff's emission (wall time)."},
    {MH_COMMIT_SECONDS, "handoff_commit_duration_seconds",
     "Time the loop spent in a commit (outputs acknowledged, the batch encoded and handed "
     "to the store's writer)."},
    {MH_COMMIT_BYTES, "handoff_commit_size_bytes", "Bytes of a commit's RocksDB batch."},
};

int status_prom_label_value(hf_buf_t *out, const char *v)
{
    int r = 0;
    for (const char *p = v; *p && r == 0; p++) {
        if (*p == '\\')
            r = hf_buf_append_str(out, "\\\\");
        else if (*p == '"')
            r = hf_buf_append_str(out, "\\\"");
        else if (*p == '\n')
            r = hf_buf_append_str(out, "\\n");
        else
            r = hf_buf_append(out, p, 1);
    }
    return r;
}

int status_prom_float(hf_buf_t *out, double v)
{
    if (isnan(v))
        return hf_buf_append_str(out, "NaN");
    if (isinf(v))
        return hf_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
    if (v == floor(v) && fabs(v) < 1e15)
        return hf_buf_printf(out, "%.0f", v);
    char text[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof(text), "%.*g", prec, v);
        if (strtod(text, NULL) == v)
            break;
    }
    return hf_buf_append_str(out, text);
}

/* The text being rendered, and whether an append failed (then it is incomplete). */
typedef struct prom {
    hf_buf_t *out;
    int err;
} prom_t;

static void put(prom_t *w, const char *s)
{
    if (hf_buf_append_str(w->out, s) < 0)
        w->err = -ENOMEM;
}

static void putf(prom_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(prom_t *w, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* our formats are names and numbers, far below the bound */
    if (n < 0 || (size_t)n >= sizeof(text) || hf_buf_append(w->out, text, (size_t)n) < 0)
        w->err = -ENOMEM;
}

static void put_label(prom_t *w, const char *v)
{
    if (status_prom_label_value(w->out, v) < 0)
        w->err = -ENOMEM;
}

static void put_float(prom_t *w, double v)
{
    if (status_prom_float(w->out, v) < 0)
        w->err = -ENOMEM;
}

static void family(prom_t *w, const char *name, const char *type, const char *help)
{
    putf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"} for up to two labels (@k2 NULL: one; @k1 NULL: none). */
static void series(prom_t *w, const char *name, const char *k1, const char *v1, const char *k2,
                   const char *v2)
{
    put(w, name);
    if (!k1)
        return;
    putf(w, "{%s=\"", k1);
    put_label(w, v1);
    if (k2) {
        putf(w, "\",%s=\"", k2);
        put_label(w, v2);
    }
    put(w, "\"}");
}

static void sample_u64(prom_t *w, uint64_t v)
{
    putf(w, " %" PRIu64 "\n", v);
}

static void one_counter(prom_t *w, const char *name, const char *help, uint64_t v)
{
    family(w, name, "counter", help);
    series(w, name, NULL, NULL, NULL, NULL);
    sample_u64(w, v);
}

static void one_gauge(prom_t *w, const char *name, const char *help, double v)
{
    family(w, name, "gauge", help);
    put(w, name);
    put(w, " ");
    put_float(w, v);
    put(w, "\n");
}

/* The partitions: records consumed, lag, how many assigned. */
static void render_partitions(prom_t *w, const status_snapshot_t *snap)
{
    char part[16];
    if (snap->partition_count) {
        family(w, "handoff_records_consumed_total", "counter",
               "Records processed per input partition since the process started.");
        for (size_t i = 0; i < snap->partition_count; i++) {
            const status_partition_t *p = &snap->partitions[i];
            snprintf(part, sizeof(part), "%" PRId32, p->partition);
            series(w, "handoff_records_consumed_total", "topic", p->topic, "partition", part);
            sample_u64(w, p->consumed);
        }
    }
    size_t assigned = 0, known = 0;
    for (size_t i = 0; i < snap->partition_count; i++) {
        assigned += snap->partitions[i].assigned;
        known += snap->partitions[i].assigned && snap->partitions[i].position >= 0 &&
                 snap->partitions[i].high_watermark >= 0;
    }
    if (known) {
        family(w, "handoff_consumer_lag", "gauge",
               "Records of an assigned partition not processed yet (high watermark minus "
               "position).");
        for (size_t i = 0; i < snap->partition_count; i++) {
            const status_partition_t *p = &snap->partitions[i];
            if (!p->assigned || p->position < 0 || p->high_watermark < 0)
                continue;
            snprintf(part, sizeof(part), "%" PRId32, p->partition);
            series(w, "handoff_consumer_lag", "topic", p->topic, "partition", part);
            int64_t lag = p->high_watermark - p->position;
            sample_u64(w, lag > 0 ? (uint64_t)lag : 0);
        }
    }
    one_gauge(w, "handoff_assigned_partitions", "Partitions assigned to this process.",
              (double)assigned);
}

/* A group of named counters whose names are "<a>|<b>" (or one label). */
static void render_named(prom_t *w, const status_snapshot_t *snap, status_group_t g,
                         const char *name, const char *help, const char *k1, const char *k2)
{
    if (!snap->named_count[g])
        return;
    family(w, name, "counter", help);
    for (size_t i = 0; i < snap->named_count[g]; i++) {
        const status_counter_t *c = &snap->named[g][i];
        char a[256];
        snprintf(a, sizeof(a), "%s", c->name);
        char *bar = k2 ? strchr(a, '|') : NULL;
        if (bar)
            *bar = 0;
        series(w, name, k1, a, k2, bar ? bar + 1 : "");
        sample_u64(w, c->value);
    }
}

static void render_hist(prom_t *w, const metrics_hist_t *hist, const char *name, const char *help)
{
    family(w, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t b = 0; b < hist->bound_count; b++) {
        cum += hist->counts[b];
        putf(w, "%s_bucket{le=\"", name);
        put_float(w, hist->bounds[b]);
        putf(w, "\"} %" PRIu64 "\n", cum);
    }
    putf(w, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, hist->count);
    putf(w, "%s_sum ", name);
    put_float(w, hist->sum);
    putf(w, "\n%s_count %" PRIu64 "\n", name, hist->count);
}

static void render_snapshot(prom_t *w, const status_snapshot_t *snap)
{
    render_partitions(w, snap);
    for (size_t i = 0; i < sizeof(fixed_families) / sizeof(fixed_families[0]); i++)
        one_counter(w, fixed_families[i].name, fixed_families[i].help,
                    snap->counters[fixed_families[i].id]);
    render_named(w, snap, STATUS_GROUP_DLQ, "handoff_dead_letters_total",
                 "Records sent to the dead-letter topic, by reason.", "reason", NULL);
    render_named(w, snap, STATUS_GROUP_HANDOFF_TYPES, "handoff_handoffs_total",
                 "ConversationReady handoffs emitted, by entity type and rule.", "entity_type",
                 "rule");
    render_named(w, snap, STATUS_GROUP_BREACH_LEVELS, "handoff_sla_breaches_total",
                 "SLA breaches emitted, by SLA clock and escalation level.", "sla", "level");
    render_named(w, snap, STATUS_GROUP_LATE, "handoff_late_events_total",
                 "Records folded late (after a record of another partition that the event-time "
                 "order puts after them, or beyond ordering.allowed_lateness in their own), by "
                 "topic.",
                 "topic", NULL);
    one_gauge(w, "handoff_sla_clocks_pending",
              "Entities of the assigned partitions with SLA clocks running.",
              (double)snap->sla_clocks_pending);
    for (size_t i = 0; i < sizeof(hist_families) / sizeof(hist_families[0]); i++)
        render_hist(w, &snap->hists[hist_families[i].id], hist_families[i].name,
                    hist_families[i].help);
    if (snap->store_bytes >= 0)
        one_gauge(w, "handoff_store_size_bytes",
                  "Bytes of the state store: SST files and memtables of every column family.",
                  (double)snap->store_bytes);
    if (snap->block_cache_bytes >= 0)
        one_gauge(w, "handoff_store_block_cache_usage_bytes",
                  "Bytes held by the state store's block cache.", (double)snap->block_cache_bytes);
}

static void render_process(prom_t *w, const status_prom_process_t *p)
{
    if (p->resident_bytes >= 0)
        one_gauge(w, "process_resident_memory_bytes", "Resident memory size in bytes.",
                  (double)p->resident_bytes);
    if (p->cpu_seconds >= 0) {
        family(w, "process_cpu_seconds_total", "counter",
               "Total user and system CPU time spent in seconds.");
        put(w, "process_cpu_seconds_total ");
        put_float(w, p->cpu_seconds);
        put(w, "\n");
    }
    if (p->start_time_seconds >= 0)
        one_gauge(w, "process_start_time_seconds",
                  "Start time of the process since unix epoch in seconds.", p->start_time_seconds);
    if (p->open_fds >= 0)
        one_gauge(w, "process_open_fds", "Number of open file descriptors.", (double)p->open_fds);
}

int status_prom_render(hf_buf_t *out, const status_prom_input_t *in)
{
    prom_t wr = {out, 0}, *w = &wr;
    family(w, "handoff_build_info", "gauge", "The running handoffd's version; always 1.");
    series(w, "handoff_build_info", "version", in->version ? in->version : "unknown", "librdkafka",
           in->librdkafka_version ? in->librdkafka_version : "unknown");
    put(w, " 1\n");
    one_gauge(w, "handoff_ready", "1 while /readyz answers 200, else 0.", in->ready ? 1 : 0);
    if (in->last_turn_seconds >= 0)
        one_gauge(w, "handoff_last_loop_turn_timestamp_seconds",
                  "When the pipeline loop last turned (its heartbeat; /healthz fails 10 s after).",
                  in->last_turn_seconds);
    if (in->snap)
        render_snapshot(w, in->snap);
    one_counter(w, "handoff_rebalances_total", "Partition assignments received.", in->rebalances);
    family(w, "handoff_reloads_total", "counter",
           "Reloads of the rules file (SIGHUP), applied (ok) or rejected.");
    series(w, "handoff_reloads_total", "result", "ok", NULL, NULL);
    sample_u64(w, in->reloads_ok);
    series(w, "handoff_reloads_total", "result", "rejected", NULL, NULL);
    sample_u64(w, in->reloads_rejected);
    render_process(w, &in->process);
    return w->err;
}
