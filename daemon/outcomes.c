/* The outcomes table: see outcomes.h. */
#include "outcomes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"
#include "metrics.h"

/* Columns of the attribution tables, in print order. */
static const char *const FUNNEL[] = {"handoff",  "accepted",  "rejected",
                                     "recycled", "qualified", "opportunity",
                                     "won",      "lost",      "disqualified"};
#define FUNNEL_N (sizeof FUNNEL / sizeof FUNNEL[0])
static const char *const SLA_KINDS[] = {"accept", "first_touch", "follow_up"};
#define SLA_N 3
static const char *const FEEDBACK[] = {"feedback_early", "feedback_stale", "feedback_unknown",
                                       "feedback_ignored", "feedback_no_handoff"};
#define FEEDBACK_N (sizeof FEEDBACK / sizeof FEEDBACK[0])
#define BUCKETS OUTCOMES_BUCKETS

typedef struct row {
    char *dim, *value;
    uint64_t funnel[FUNNEL_N];
    uint64_t met[SLA_N], breached[SLA_N];
    uint64_t feedback[FEEDBACK_N];
    uint64_t *accept_hist, *touch_hist; /* BUCKETS each, allocated on first use */
    char **reasons;                     /* rejection reasons */
    uint64_t *reason_counts;
    size_t reason_count;
} row_t;

struct outcomes {
    row_t *rows;
    size_t count, cap;
};

outcomes_t *outcomes_new(void)
{
    return calloc(1, sizeof(outcomes_t));
}

void outcomes_free(outcomes_t *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++) {
        row_t *r = &o->rows[i];
        free(r->dim);
        free(r->value);
        free(r->accept_hist);
        free(r->touch_hist);
        for (size_t k = 0; k < r->reason_count; k++)
            free(r->reasons[k]);
        free(r->reasons);
        free(r->reason_counts);
    }
    free(o->rows);
    free(o);
}

static row_t *row_of(outcomes_t *o, const char *dim, size_t dim_len, const char *value,
                     size_t value_len)
{
    for (size_t i = 0; i < o->count; i++)
        if (strlen(o->rows[i].dim) == dim_len && memcmp(o->rows[i].dim, dim, dim_len) == 0 &&
            strlen(o->rows[i].value) == value_len &&
            memcmp(o->rows[i].value, value, value_len) == 0)
            return &o->rows[i];
    row_t *g = vec_grow(o->rows, &o->cap, o->count + 1, sizeof *g);
    if (!g)
        return NULL;
    o->rows = g;
    row_t *r = &o->rows[o->count];
    *r = (row_t){0};
    r->dim = strndup(dim, dim_len);
    r->value = strndup(value, value_len);
    if (!r->dim || !r->value) {
        free(r->dim);
        free(r->value);
        return NULL;
    }
    o->count++;
    return r;
}

static int index_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static int add_reason(row_t *r, const char *reason, uint64_t n)
{
    for (size_t i = 0; i < r->reason_count; i++)
        if (strcmp(r->reasons[i], reason) == 0) {
            r->reason_counts[i] += n;
            return 0;
        }
    char **rs = realloc(r->reasons, (r->reason_count + 1) * sizeof *rs);
    if (!rs)
        return -ENOMEM;
    r->reasons = rs;
    uint64_t *cs = realloc(r->reason_counts, (r->reason_count + 1) * sizeof *cs);
    if (!cs)
        return -ENOMEM;
    r->reason_counts = cs;
    if (!(rs[r->reason_count] = strdup(reason)))
        return -ENOMEM;
    cs[r->reason_count++] = n;
    return 0;
}

static int add_hist(uint64_t **hist, const char *detail, uint64_t n)
{
    if (!detail || detail[0] != 'b')
        return 0;
    long b = strtol(detail + 1, NULL, 10);
    if (b < 0 || b >= BUCKETS)
        return 0;
    if (!*hist && !(*hist = calloc(BUCKETS, sizeof **hist)))
        return -ENOMEM;
    (*hist)[b] += n;
    return 0;
}

int outcomes_add(outcomes_t *o, const char *name, uint64_t n)
{
    /* dim|value|metric[|detail] */
    const char *p1 = strchr(name, '|');
    const char *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
    if (!p2)
        return 0;
    const char *metric = p2 + 1;
    const char *p3 = strchr(metric, '|');
    char metric_buf[64];
    size_t mlen = p3 ? (size_t)(p3 - metric) : strlen(metric);
    if (mlen >= sizeof metric_buf)
        return 0;
    memcpy(metric_buf, metric, mlen);
    metric_buf[mlen] = 0;
    const char *detail = p3 ? p3 + 1 : NULL;
    row_t *r = row_of(o, name, (size_t)(p1 - name), p1 + 1, (size_t)(p2 - p1 - 1));
    if (!r)
        return -ENOMEM;
    int i;
    if ((i = index_of(FUNNEL, FUNNEL_N, metric_buf)) >= 0) {
        r->funnel[i] += n;
        if (i == 2 && detail)
            return add_reason(r, detail, n);
    } else if ((i = index_of(FEEDBACK, FEEDBACK_N, metric_buf)) >= 0) {
        r->feedback[i] += n;
    } else if (strcmp(metric_buf, "sla_met") == 0 || strcmp(metric_buf, "sla_breached") == 0) {
        int k = detail ? index_of(SLA_KINDS, SLA_N, detail) : -1;
        if (k >= 0)
            (metric_buf[4] == 'm' ? r->met : r->breached)[k] += n;
    } else if (strcmp(metric_buf, "time_to_accept") == 0) {
        return add_hist(&r->accept_hist, detail, n);
    } else if (strcmp(metric_buf, "time_to_first_touch") == 0) {
        return add_hist(&r->touch_hist, detail, n);
    }
    return 0;
}

static uint64_t hist_total(const uint64_t *hist)
{
    uint64_t total = 0;
    for (int b = 0; hist && b < BUCKETS; b++)
        total += hist[b];
    return total;
}

/* The bucket of a histogram's median, or -1 when it is empty. */
static int median_bucket(const uint64_t *hist)
{
    uint64_t total = hist_total(hist);
    if (!total)
        return -1;
    uint64_t half = (total + 1) / 2, seen = 0;
    int b = 0;
    for (; b < BUCKETS - 1; b++)
        if ((seen += hist[b]) >= half)
            break;
    return b;
}

/* The middle of bucket @b in ms: what a median is reported as. */
static int64_t bucket_middle_ms(int b)
{
    int64_t lo = metrics_bucket_low_ms(b), hi = metrics_bucket_low_ms(b + 1);
    return lo + (hi > lo ? (hi - lo) / 2 : 0);
}

/* The median of a histogram as "~1h 04m" (the middle of its bucket), or "-". */
static void median_text(const uint64_t *hist, char *buf, size_t bufsz)
{
    int b = median_bucket(hist);
    if (b < 0) {
        snprintf(buf, bufsz, "-");
        return;
    }
    int64_t s = bucket_middle_ms(b) / 1000;
    if (s < 60)
        snprintf(buf, bufsz, "%s%" PRId64 "s", b < 16 ? "" : "~", s);
    else if (s < 3600)
        snprintf(buf, bufsz, "~%" PRId64 "m %02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, bufsz, "~%" PRId64 "h %02" PRId64 "m", s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, bufsz, "~%" PRId64 "d %02" PRId64 "h", s / 86400, (s % 86400) / 3600);
}

/* The next row of dimension @dim from *@i on (advancing *@i past it), or NULL. */
static const row_t *next_row(const outcomes_t *o, const char *dim, size_t *i)
{
    for (; *i < o->count; (*i)++)
        if (strcmp(o->rows[*i].dim, dim) == 0)
            return &o->rows[(*i)++];
    return NULL;
}

static void print_funnel(const outcomes_t *o, const char *dim, const char *title, FILE *out)
{
    size_t i = 0;
    const row_t *r = next_row(o, dim, &i);
    if (!r)
        return;
    fprintf(out, "\n%-28s", title);
    for (size_t k = 0; k < FUNNEL_N; k++)
        fprintf(out, " %12s", k == 0 ? "handoffs" : FUNNEL[k]);
    fputc('\n', out);
    for (; r; r = next_row(o, dim, &i)) {
        fprintf(out, "%-28.28s", r->value);
        for (size_t k = 0; k < FUNNEL_N; k++)
            fprintf(out, " %12" PRIu64, r->funnel[k]);
        fputc('\n', out);
    }
}

static void print_sla(const outcomes_t *o, const char *dim, const char *title, FILE *out)
{
    size_t i = 0;
    const row_t *r = next_row(o, dim, &i);
    if (!r)
        return;
    fprintf(out, "\n%-28s %14s %14s %14s %14s %16s\n", title, "accept met/br", "1st touch m/b",
            "follow-up m/b", "median accept", "median 1st touch");
    for (; r; r = next_row(o, dim, &i)) {
        char cells[SLA_N][32], ma[32], mt[32];
        for (int k = 0; k < SLA_N; k++)
            snprintf(cells[k], sizeof cells[k], "%" PRIu64 "/%" PRIu64, r->met[k], r->breached[k]);
        median_text(r->accept_hist, ma, sizeof ma);
        median_text(r->touch_hist, mt, sizeof mt);
        fprintf(out, "%-28.28s %14s %14s %14s %14s %16s\n", r->value, cells[0], cells[1], cells[2],
                ma, mt);
    }
}

/* Rejection reasons per value of @dim: what sales said about each rule's leads. */
static void print_reasons_by(const outcomes_t *o, const char *dim, const char *title, FILE *out)
{
    bool any = false;
    size_t i = 0;
    for (const row_t *r; (r = next_row(o, dim, &i));) {
        for (size_t k = 0; k < r->reason_count; k++) {
            if (!any) {
                fprintf(out, "\n%-28s %-40s %12s\n", title, "because", "count");
                any = true;
            }
            fprintf(out, "%-28.28s %-40.40s %12" PRIu64 "\n", r->value, r->reasons[k],
                    r->reason_counts[k]);
        }
    }
}

void outcomes_print(const outcomes_t *o, FILE *out)
{
    const row_t *all = next_row(o, "all", &(size_t){0});
    if (!all) {
        fprintf(out, "no outcomes yet (no handoff or sales feedback recorded)\n");
        return;
    }
    fprintf(out, "Outcomes (handoffs and what sales made of them)\n");
    print_funnel(o, "all", "all", out);
    print_funnel(o, "rule", "by rule", out);
    print_funnel(o, "source", "by source", out);
    print_funnel(o, "first_campaign", "by first-touch campaign", out);
    print_funnel(o, "last_campaign", "by last-touch campaign", out);
    if (all->reason_count) {
        fprintf(out, "\n%-40s %12s\n", "rejected because", "count");
        for (size_t k = 0; k < all->reason_count; k++)
            fprintf(out, "%-40.40s %12" PRIu64 "\n", all->reasons[k], all->reason_counts[k]);
    }
    print_reasons_by(o, "rule", "rejected, by rule", out);
    print_reasons_by(o, "source", "rejected, by source", out);
    print_sla(o, "all", "SLA (met/breached), all", out);
    print_sla(o, "team", "SLA by team", out);
    print_sla(o, "owner", "SLA by owner", out);
    fprintf(out,
            "\nfeedback: early (before its handoff) %" PRIu64
            ", stale (an earlier cycle's) %" PRIu64 ", unknown handoff %" PRIu64
            ", ignored (disqualified, customer) %" PRIu64 ", without a handoff %" PRIu64 "\n",
            all->feedback[0], all->feedback[1], all->feedback[2], all->feedback[3],
            all->feedback[4]);
}

void outcomes_line(const outcomes_t *o, char *buf, size_t bufsz)
{
    const row_t *all = next_row(o, "all", &(size_t){0});
    if (!all) {
        snprintf(buf, bufsz, "none yet");
        return;
    }
    uint64_t met = 0, breached = 0;
    for (int k = 0; k < SLA_N; k++) {
        met += all->met[k];
        breached += all->breached[k];
    }
    snprintf(buf, bufsz,
             "handoffs %" PRIu64 ", accepted %" PRIu64 ", rejected %" PRIu64 ", recycled %" PRIu64
             ", qualified %" PRIu64 ", opportunity %" PRIu64 ", won %" PRIu64 ", lost %" PRIu64
             ", disqualified %" PRIu64 "; SLA met %" PRIu64 ", breached %" PRIu64,
             all->funnel[0], all->funnel[1], all->funnel[2], all->funnel[3], all->funnel[4],
             all->funnel[5], all->funnel[6], all->funnel[7], all->funnel[8], met, breached);
}

/* ---- rows, for renderers other than the table (the lookup's JSON) ---------------- */

_Static_assert(FUNNEL_N == OUTCOMES_FUNNEL_N && SLA_N == OUTCOMES_SLA_N &&
                   FEEDBACK_N == OUTCOMES_FEEDBACK_N,
               "outcomes.h names the columns of this file");

const char *outcomes_funnel_name(size_t i)
{
    return i < FUNNEL_N ? FUNNEL[i] : NULL;
}

const char *outcomes_sla_name(size_t i)
{
    return i < SLA_N ? SLA_KINDS[i] : NULL;
}

const char *outcomes_feedback_name(size_t i)
{
    return i < FEEDBACK_N ? FEEDBACK[i] : NULL;
}

int outcomes_each(const outcomes_t *o, const char *dim, outcomes_row_fn fn, void *opaque)
{
    for (size_t i = 0; i < o->count; i++) {
        const row_t *r = &o->rows[i];
        if (dim && strcmp(r->dim, dim) != 0)
            continue;
        int ba = median_bucket(r->accept_hist), bt = median_bucket(r->touch_hist);
        outcomes_row_t row = {
            .dim = r->dim,
            .value = r->value,
            .funnel = r->funnel,
            .met = r->met,
            .breached = r->breached,
            .feedback = r->feedback,
            .accepts_timed = hist_total(r->accept_hist),
            .touches_timed = hist_total(r->touch_hist),
            .median_accept_ms = ba < 0 ? -1 : bucket_middle_ms(ba),
            .median_first_touch_ms = bt < 0 ? -1 : bucket_middle_ms(bt),
            .accept_hist = r->accept_hist,
            .touch_hist = r->touch_hist,
            .reasons = (const char *const *)r->reasons,
            .reason_counts = r->reason_counts,
            .reason_count = r->reason_count,
        };
        int rc = fn(opaque, &row);
        if (rc)
            return rc;
    }
    return 0;
}
