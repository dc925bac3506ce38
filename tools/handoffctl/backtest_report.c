/* handoffctl backtest: the handoffs of the two runs, their difference and the
 * totals, as text or JSON (backtest.h).  Pure: the report is a function of its
 * arguments. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "json.h"
#include "util/isotime.h"
#include "util/vec.h"

/* ---- the runs --------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int bt_run_add(bt_run_t *run, const hf_handoff_t *h)
{
    bt_handoff_t *items = vec_grow(run->items, &run->cap, run->count + 1, sizeof *items);
    if (!items)
        return -ENOMEM;
    run->items = items;
    bt_handoff_t *b = &items[run->count];
    *b = (bt_handoff_t){
        .handoff_id = strdup(h->handoff_id),
        .entity_type = strdup(hf_entity_type_name(h->entity_type)),
        .entity_id = strdup(h->entity_id),
        .rule = strdup(h->rule),
        .team = dup_or_null(h->routing_team),
        .at_ms = h->qualified_at_ms,
        .reasons = h->reason_count ? calloc(h->reason_count, sizeof(bt_reason_t)) : NULL,
    };
    bool ok = b->handoff_id && b->entity_type && b->entity_id && b->rule &&
              (b->team || !h->routing_team) && (b->reasons || !h->reason_count);
    for (size_t i = 0; ok && i < h->reason_count; i++) {
        const hf_reason_t *r = &h->reasons[i];
        b->reasons[i] = (bt_reason_t){.rule = strdup(r->rule ? r->rule : ""),
                                      .points = r->points,
                                      .count = r->count,
                                      .detail = dup_or_null(r->detail)};
        b->reason_count = i + 1;
        ok = b->reasons[i].rule && (b->reasons[i].detail || !r->detail);
    }
    run->count++; /* freed with the run, whole or not */
    return ok ? 0 : -ENOMEM;
}

static void handoff_free(bt_handoff_t *b)
{
    free(b->handoff_id);
    free(b->entity_type);
    free(b->entity_id);
    free(b->rule);
    free(b->team);
    for (size_t i = 0; i < b->reason_count; i++) {
        free(b->reasons[i].rule);
        free(b->reasons[i].detail);
    }
    free(b->reasons);
}

void bt_run_free(bt_run_t *run)
{
    for (size_t i = 0; i < run->count; i++)
        handoff_free(&run->items[i]);
    free(run->items);
    *run = (bt_run_t){0};
}

/* ---- time ---------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Reads exactly @n digits at *@p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool parse_epoch_ms(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    *ms = v;
    return true;
}

bool bt_parse_time(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, milli = 0;
    if (!digits(&p, 4, &y) || *p != '-')
        return parse_epoch_ms(s, ms);
    p++;
    if (!digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
        return false;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return false;
            if (*p == '.') {
                p++;
                if (!digits(&p, 3, &milli))
                    return false;
            }
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
                return false;
            offset_min = sign * (oh * 60 + om);
        } else {
            return false; /* a local time would depend on the machine's zone */
        }
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 59)
        return false;
    int64_t days = hf_days_from_civil(y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi - offset_min) * 60000 + (int64_t)sec * 1000 + milli;
    return true;
}

void bt_iso_week(int64_t ms, char out[16])
{
    int64_t days = floor_div(ms, 86400000);
    int weekday = (int)((days % 7 + 7 + 3) % 7); /* Monday 0: 1970-01-01 was a Thursday */
    int64_t thursday = days - weekday + 3;       /* the week's year is its Thursday's */
    int64_t y;
    int32_t m, d;
    hf_civil_from_days(thursday, &y, &m, &d);
    int week = (int)((thursday - hf_days_from_civil(y, 1, 1)) / 7 + 1); /* 1..53 */
    snprintf(out, 16, "%04d-W%02d", (int)(y % 100000), week);
}

/* ---- the difference -------------------------------------------------------------- */

/* Entity type, id, rule: who qualified under which rule. */
static int cmp_who(const bt_handoff_t *a, const bt_handoff_t *b)
{
    int c = strcmp(a->entity_type, b->entity_type);
    if (!c)
        c = strcmp(a->entity_id, b->entity_id);
    if (!c)
        c = strcmp(a->rule, b->rule);
    return c;
}

static int cmp_handoff(const void *pa, const void *pb)
{
    const bt_handoff_t *a = pa, *b = pb;
    int c = cmp_who(a, b);
    if (!c)
        c = (a->at_ms > b->at_ms) - (a->at_ms < b->at_ms);
    if (!c)
        c = strcmp(a->handoff_id, b->handoff_id);
    return c;
}

typedef enum diff_kind { ONLY_BASELINE = 0, ONLY_PROPOSED, MOVED } diff_kind_t;

/* A difference: @h (the baseline's for a moved one) and, when moved, @other. */
typedef struct diff {
    diff_kind_t kind;
    const bt_handoff_t *h;
    const bt_handoff_t *other;
} diff_t;

typedef struct diff_list {
    diff_t *items;
    size_t count, cap;
} diff_list_t;

static int diff_add(diff_list_t *l, diff_kind_t kind, const bt_handoff_t *h,
                    const bt_handoff_t *other)
{
    diff_t *items = vec_grow(l->items, &l->cap, l->count + 1, sizeof *items);
    if (!items)
        return -ENOMEM;
    l->items = items;
    items[l->count++] = (diff_t){kind, h, other};
    return 0;
}

/* By rule, then time, then who. */
static int cmp_diff(const void *pa, const void *pb)
{
    const diff_t *a = pa, *b = pb;
    int c = strcmp(a->h->rule, b->h->rule);
    if (!c)
        c = (a->h->at_ms > b->h->at_ms) - (a->h->at_ms < b->h->at_ms);
    if (!c)
        c = cmp_handoff(a->h, b->h);
    if (!c)
        c = (int)a->kind - (int)b->kind;
    return c;
}

/* Walks both sorted runs group by group (entity and rule). */
static int diff_runs(const bt_run_t *a, const bt_run_t *b, diff_list_t *out)
{
    size_t i = 0, j = 0;
    int r = 0;
    while (r == 0 && (i < a->count || j < b->count)) {
        int c = i == a->count ? 1 : j == b->count ? -1 : cmp_who(&a->items[i], &b->items[j]);
        if (c < 0) {
            r = diff_add(out, ONLY_BASELINE, &a->items[i++], NULL);
        } else if (c > 0) {
            r = diff_add(out, ONLY_PROPOSED, &b->items[j++], NULL);
        } else {
            /* the same handoff at another time or to another team (a routing change) */
            const char *ta = a->items[i].team, *tb = b->items[j].team;
            bool other_team = (ta == NULL) != (tb == NULL) || (ta && strcmp(ta, tb) != 0);
            if (a->items[i].at_ms != b->items[j].at_ms || other_team)
                r = diff_add(out, MOVED, &a->items[i], &b->items[j]);
            i++, j++;
        }
    }
    if (r == 0 && out->count)
        qsort(out->items, out->count, sizeof(diff_t), cmp_diff);
    return r;
}

/* ---- totals ------------------------------------------------------------------------ */

typedef enum dim { DIM_RULE = 0, DIM_TEAM, DIM_WEEK, DIM__COUNT } dim_t;
static const char *const dim_name[DIM__COUNT] = {"rule", "team", "week"};
#define NO_TEAM "(none)"

typedef struct tally {
    char name[64 + 16];
    uint64_t n[2];
} tally_t;

typedef struct tally_list {
    tally_t *items;
    size_t count, cap;
} tally_list_t;

static void dim_key(const bt_handoff_t *h, dim_t d, char out[80])
{
    if (d == DIM_WEEK)
        bt_iso_week(h->at_ms, out);
    else
        snprintf(out, 80, "%s", d == DIM_RULE ? h->rule : h->team ? h->team : NO_TEAM);
}

static int cmp_tally(const void *pa, const void *pb)
{
    return strcmp(((const tally_t *)pa)->name, ((const tally_t *)pb)->name);
}

/* Counts of both runs by @d, sorted by name. */
static int tally_runs(const bt_run_t *runs[2], dim_t d, tally_list_t *out)
{
    for (int side = 0; side < 2; side++) {
        for (size_t i = 0; i < runs[side]->count; i++) {
            char key[80];
            dim_key(&runs[side]->items[i], d, key);
            size_t k = 0;
            /* few names (rules, teams, weeks): a scan is enough */
            while (k < out->count && strcmp(out->items[k].name, key) != 0)
                k++;
            if (k == out->count) {
                tally_t *items = vec_grow(out->items, &out->cap, out->count + 1, sizeof *items);
                if (!items)
                    return -ENOMEM;
                out->items = items;
                items[k] = (tally_t){.n = {0, 0}};
                snprintf(items[k].name, sizeof items[k].name, "%s", key);
                out->count++;
            }
            out->items[k].n[side]++;
        }
    }
    if (out->count)
        qsort(out->items, out->count, sizeof(tally_t), cmp_tally);
    return 0;
}

/* ---- rendering ------------------------------------------------------------------- */

typedef struct report {
    const bt_run_t *runs[2];
    const bt_header_t *h;
    diff_list_t diffs;
    tally_list_t tallies[DIM__COUNT];
} report_t;

static int report_build(report_t *rp, bt_run_t *baseline, bt_run_t *proposed, const bt_header_t *h)
{
    *rp = (report_t){.runs = {baseline, proposed}, .h = h};
    if (baseline->count)
        qsort(baseline->items, baseline->count, sizeof(bt_handoff_t), cmp_handoff);
    if (proposed->count)
        qsort(proposed->items, proposed->count, sizeof(bt_handoff_t), cmp_handoff);
    int r = diff_runs(baseline, proposed, &rp->diffs);
    for (int d = 0; r == 0 && d < DIM__COUNT; d++)
        r = tally_runs(rp->runs, (dim_t)d, &rp->tallies[d]);
    return r;
}

static void report_free(report_t *rp)
{
    free(rp->diffs.items);
    for (int d = 0; d < DIM__COUNT; d++)
        free(rp->tallies[d].items);
}

static void iso(int64_t ms, char out[HF_ISO8601_SIZE])
{
    hf_iso8601_ms(out, ms);
}

static const char *const kind_text[] = {"only under the baseline", "only under the proposal",
                                        "under both, at another time or team"};
static const char *const kind_json[] = {"only_baseline", "only_proposed", "moved"};

static void text_header(const report_t *rp, hf_buf_t *out)
{
    const bt_header_t *h = rp->h;
    hf_buf_printf(out, "backtest: %" PRIu64 " records", h->records);
    if (h->first_ms != INT64_MIN) {
        char a[HF_ISO8601_SIZE], b[HF_ISO8601_SIZE];
        iso(h->first_ms, a);
        iso(h->last_ms, b);
        hf_buf_printf(out, ", event time %s to %s", a, b);
    }
    hf_buf_append_str(out, "\n");
    const char *paths[2] = {h->baseline_path, h->proposed_path};
    const char *names[2] = {"baseline", "proposed"};
    for (int s = 0; s < 2; s++)
        hf_buf_printf(
            out, "  %-9s %s: %zu handoffs, %" PRIu64 " dead letters, %" PRIu64 " SLA breaches\n",
            names[s], paths[s], rp->runs[s]->count, h->dead_letters[s], h->sla_breaches[s]);
}

static void text_tally(const tally_list_t *t, const char *dim, hf_buf_t *out)
{
    hf_buf_printf(out, "\nhandoffs by %-24s %9s %9s %11s\n", dim, "baseline", "proposed",
                  "difference");
    uint64_t sum[2] = {0, 0};
    for (size_t i = 0; i < t->count; i++) {
        const tally_t *x = &t->items[i];
        hf_buf_printf(out, "  %-33s %9" PRIu64 " %9" PRIu64 " %+11" PRId64 "\n", x->name, x->n[0],
                      x->n[1], (int64_t)x->n[1] - (int64_t)x->n[0]);
        sum[0] += x->n[0];
        sum[1] += x->n[1];
    }
    hf_buf_printf(out, "  %-33s %9" PRIu64 " %9" PRIu64 " %+11" PRId64 "\n", "total", sum[0],
                  sum[1], (int64_t)sum[1] - (int64_t)sum[0]);
}

static void text_handoff(const diff_t *d, hf_buf_t *out)
{
    const bt_handoff_t *x = d->h;
    char at[HF_ISO8601_SIZE];
    iso(x->at_ms, at);
    hf_buf_printf(out, "  %-7s %-36s %s  team %s  %s", x->entity_type, x->entity_id, at,
                  x->team ? x->team : NO_TEAM, x->handoff_id);
    if (d->kind == MOVED) {
        char other[HF_ISO8601_SIZE];
        iso(d->other->at_ms, other);
        hf_buf_printf(out, "  proposed: %s team %s", other,
                      d->other->team ? d->other->team : NO_TEAM);
    }
    hf_buf_append_str(out, "\n");
    for (size_t k = 0; k < x->reason_count; k++) {
        const bt_reason_t *r = &x->reasons[k];
        if (r->points == 0 && r->count == 0) /* a condition of the rule that held */
            hf_buf_printf(out, "      %s: %s\n", r->rule, r->detail ? r->detail : "");
        else
            hf_buf_printf(out, "      %s %+d points x%d%s%s\n", r->rule, r->points, r->count,
                          r->detail ? ": " : "", r->detail ? r->detail : "");
    }
}

/* Per rule: the number of each kind, then the handoffs. */
static void text_diffs(const report_t *rp, hf_buf_t *out)
{
    const diff_list_t *l = &rp->diffs;
    if (!l->count) {
        hf_buf_append_str(out, "\nno difference: the same handoffs under both files\n");
        return;
    }
    for (size_t i = 0; i < l->count;) {
        size_t end = i, n[3] = {0, 0, 0};
        while (end < l->count && strcmp(l->items[end].h->rule, l->items[i].h->rule) == 0)
            n[l->items[end++].kind]++;
        hf_buf_printf(out, "\nrule %s: %zu only under the baseline, %zu only under the proposal",
                      l->items[i].h->rule, n[ONLY_BASELINE], n[ONLY_PROPOSED]);
        if (n[MOVED])
            hf_buf_printf(out, ", %zu at another time or team", n[MOVED]);
        hf_buf_append_str(out, "\n");
        for (int k = 0; k < 3; k++) {
            if (!n[k])
                continue;
            hf_buf_printf(out, " %s:\n", kind_text[k]);
            for (size_t j = i; j < end; j++)
                if (l->items[j].kind == (diff_kind_t)k)
                    text_handoff(&l->items[j], out);
        }
        i = end;
    }
}

int bt_report_text(bt_run_t *baseline, bt_run_t *proposed, const bt_header_t *h, hf_buf_t *out)
{
    report_t rp;
    int r = report_build(&rp, baseline, proposed, h);
    if (r == 0) {
        text_header(&rp, out);
        for (int d = 0; d < DIM__COUNT; d++)
            text_tally(&rp.tallies[d], dim_name[d], out);
        text_diffs(&rp, out);
    }
    report_free(&rp);
    return r;
}

static void json_str(hf_buf_t *out, const char *s)
{
    if (s)
        hfctl_json_string(out, s, strlen(s));
    else
        hf_buf_append_str(out, "null");
}

static void json_time(hf_buf_t *out, int64_t ms)
{
    char at[HF_ISO8601_SIZE];
    iso(ms, at);
    json_str(out, at);
}

static void json_handoff(const bt_handoff_t *x, hf_buf_t *out)
{
    hf_buf_append_str(out, "{\"handoff_id\":");
    json_str(out, x->handoff_id);
    hf_buf_append_str(out, ",\"entity_type\":");
    json_str(out, x->entity_type);
    hf_buf_append_str(out, ",\"entity_id\":");
    json_str(out, x->entity_id);
    hf_buf_append_str(out, ",\"rule\":");
    json_str(out, x->rule);
    hf_buf_append_str(out, ",\"qualified_at\":");
    json_time(out, x->at_ms);
    hf_buf_append_str(out, ",\"team\":");
    json_str(out, x->team);
    hf_buf_append_str(out, ",\"reasons\":[");
    for (size_t k = 0; k < x->reason_count; k++) {
        const bt_reason_t *r = &x->reasons[k];
        hf_buf_append_str(out, k ? ",{\"rule\":" : "{\"rule\":");
        json_str(out, r->rule);
        hf_buf_printf(out, ",\"points\":%d,\"count\":%d,\"detail\":", r->points, r->count);
        json_str(out, r->detail);
        hf_buf_append_str(out, "}");
    }
    hf_buf_append_str(out, "]}");
}

static void json_runs(const report_t *rp, hf_buf_t *out)
{
    const bt_header_t *h = rp->h;
    hf_buf_printf(out, "{\"records\":%" PRIu64 ",\"first_event\":", h->records);
    if (h->first_ms != INT64_MIN)
        json_time(out, h->first_ms);
    else
        hf_buf_append_str(out, "null");
    hf_buf_append_str(out, ",\"last_event\":");
    if (h->first_ms != INT64_MIN)
        json_time(out, h->last_ms);
    else
        hf_buf_append_str(out, "null");
    const char *paths[2] = {h->baseline_path, h->proposed_path};
    const char *names[2] = {"baseline", "proposed"};
    for (int s = 0; s < 2; s++) {
        hf_buf_printf(out, ",\"%s\":{\"file\":", names[s]);
        json_str(out, paths[s]);
        hf_buf_printf(
            out, ",\"handoffs\":%zu,\"dead_letters\":%" PRIu64 ",\"sla_breaches\":%" PRIu64 "}",
            rp->runs[s]->count, h->dead_letters[s], h->sla_breaches[s]);
    }
}

static void json_totals(const report_t *rp, hf_buf_t *out)
{
    hf_buf_append_str(out, ",\"totals\":{");
    for (int d = 0; d < DIM__COUNT; d++) {
        const tally_list_t *t = &rp->tallies[d];
        hf_buf_printf(out, "%s\"%s\":[", d ? "," : "", dim_name[d]);
        for (size_t i = 0; i < t->count; i++) {
            const tally_t *x = &t->items[i];
            hf_buf_append_str(out, i ? ",{\"name\":" : "{\"name\":");
            json_str(out, x->name);
            hf_buf_printf(out,
                          ",\"baseline\":%" PRIu64 ",\"proposed\":%" PRIu64
                          ",\"difference\":%" PRId64 "}",
                          x->n[0], x->n[1], (int64_t)x->n[1] - (int64_t)x->n[0]);
        }
        hf_buf_append_str(out, "]");
    }
    hf_buf_append_str(out, "}");
}

static void json_diffs(const report_t *rp, hf_buf_t *out)
{
    const diff_list_t *l = &rp->diffs;
    hf_buf_append_str(out, ",\"rules\":[");
    for (size_t i = 0; i < l->count;) {
        size_t end = i;
        while (end < l->count && strcmp(l->items[end].h->rule, l->items[i].h->rule) == 0)
            end++;
        hf_buf_append_str(out, i ? ",{\"rule\":" : "{\"rule\":");
        json_str(out, l->items[i].h->rule);
        for (int k = 0; k < 3; k++) {
            hf_buf_printf(out, ",\"%s\":[", kind_json[k]);
            bool first = true;
            for (size_t j = i; j < end; j++) {
                const diff_t *d = &l->items[j];
                if (d->kind != (diff_kind_t)k)
                    continue;
                if (!first)
                    hf_buf_append_str(out, ",");
                first = false;
                if (d->kind == MOVED) {
                    hf_buf_append_str(out, "{\"baseline\":");
                    json_handoff(d->h, out);
                    hf_buf_append_str(out, ",\"proposed\":");
                    json_handoff(d->other, out);
                    hf_buf_append_str(out, "}");
                } else {
                    json_handoff(d->h, out);
                }
            }
            hf_buf_append_str(out, "]");
        }
        hf_buf_append_str(out, "}");
        i = end;
    }
    hf_buf_append_str(out, "]}\n");
}

int bt_report_json(bt_run_t *baseline, bt_run_t *proposed, const bt_header_t *h, hf_buf_t *out)
{
    report_t rp;
    int r = report_build(&rp, baseline, proposed, h);
    if (r == 0) {
        json_runs(&rp, out);
        json_totals(&rp, out);
        json_diffs(&rp, out);
    }
    report_free(&rp);
    return r;
}
