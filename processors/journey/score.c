#include "score.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/timespan.h"
#include "util/vec.h"

double score_decay(double dt_ms, int64_t half_life_ms)
{
    if (half_life_ms <= 0)
        return 1.0;
    return exp2(-dt_ms / (double)half_life_ms);
}

static double clamp_score(double v, const hf_rules_t *rules)
{
    if (v < rules->scoring.min_score)
        v = rules->scoring.min_score;
    if (rules->scoring.max_score > rules->scoring.min_score && v > rules->scoring.max_score)
        v = rules->scoring.max_score;
    return v;
}

/* The time difference as a double without overflowing int64. */
static double span(int64_t newer, int64_t older)
{
    return (double)timespan_ms(newer, older);
}

/* The formula of score.h on one (value, reference time) pair. */
static void apply_points(double *value, bool *has_at, int64_t *at_ms, double points, int64_t t,
                         const hf_rules_t *rules, bool clamp)
{
    double v;
    if (!*has_at || t >= *at_ms) {
        v = *has_at ? *value * score_decay(span(t, *at_ms), rules->scoring.half_life_ms) : *value;
        *at_ms = t;
        *has_at = true;
        v += points;
    } else {
        v = *value + points * score_decay(span(*at_ms, t), rules->scoring.half_life_ms);
    }
    *value = clamp ? clamp_score(v, rules) : v;
}

static score_rule_stat_t *stat_get(score_t *s, const char *rule)
{
    for (size_t i = 0; i < s->stat_count; i++)
        if (strcmp(s->stats[i].rule, rule) == 0)
            return &s->stats[i];
    score_rule_stat_t *grown =
        vec_grow(s->stats, &s->stat_cap, s->stat_count + 1, sizeof *s->stats);
    if (!grown)
        return NULL;
    s->stats = grown;
    char *name = strdup(rule);
    if (!name)
        return NULL;
    score_rule_stat_t *st = &s->stats[s->stat_count++];
    *st = (score_rule_stat_t){.rule = name};
    return st;
}

const score_rule_stat_t *score_find(const score_t *s, const char *rule)
{
    for (size_t i = 0; i < s->stat_count; i++)
        if (strcmp(s->stats[i].rule, rule) == 0)
            return &s->stats[i];
    return NULL;
}

static bool rule_capped(const score_rule_stat_t *st, const hf_score_rule_t *rule, int64_t t)
{
    if (rule->cap_count == 0)
        return false;
    if (rule->cap_period_ms <= 0)
        return st->awards >= rule->cap_count;
    uint32_t in_window = 0;
    for (size_t i = 0; i < st->award_time_count; i++) {
        int64_t a = st->award_times[i];
        if (a <= t && timespan_ms(t, a) < (uint64_t)rule->cap_period_ms)
            in_window++;
    }
    return in_window >= rule->cap_count;
}

/* Remembers award time @t, keeping the newest cap_count ones in ascending order. */
static int remember_award(score_rule_stat_t *st, const hf_score_rule_t *rule, int64_t t)
{
    size_t keep = rule->cap_count;
    /* a rule reloaded with a smaller cap keeps only what it needs now */
    while (st->award_time_count > keep) {
        vec_remove(st->award_times, st->award_time_count, 0, sizeof *st->award_times);
        st->award_time_count--;
    }
    if (keep == 0)
        return 0;
    size_t pos = st->award_time_count;
    while (pos > 0 && st->award_times[pos - 1] > t)
        pos--;
    if (st->award_time_count == keep) {
        if (pos == 0)
            return 0; /* older than every kept one */
        vec_remove(st->award_times, st->award_time_count, 0, sizeof *st->award_times);
        st->award_time_count--;
        pos--;
    }
    /* count < keep here; the array holds at most cap_count times, sized exactly */
    int64_t *p = realloc(st->award_times, keep * sizeof *st->award_times);
    if (!p)
        return -ENOMEM;
    st->award_times = p;
    vec_insert_gap(st->award_times, st->award_time_count, pos, sizeof *st->award_times);
    st->award_times[pos] = t;
    st->award_time_count++;
    return 0;
}

int score_fold(score_t *s, const hf_event_t *ev, const hf_rules_t *rules, uint32_t *awarded_rules)
{
    uint32_t awarded = 0;
    int64_t t = ev->occurred_at_ms;
    for (size_t i = 0; i < rules->scoring.rule_count; i++) {
        const hf_score_rule_t *rule = &rules->scoring.rules[i];
        if (!rule->name || !hf_event_match(&rule->match, ev))
            continue;
        score_rule_stat_t *st = stat_get(s, rule->name);
        if (!st)
            return -ENOMEM;
        if (!st->has_last_matched || t > st->last_matched_ms)
            st->last_matched_ms = t;
        st->has_last_matched = true;
        if (rule_capped(st, rule, t)) {
            st->capped++;
            continue;
        }
        if (remember_award(st, rule, t) < 0)
            return -ENOMEM;
        apply_points(&s->value, &s->has_at, &s->at_ms, rule->points, t, rules, true);
        bool has_contribution = st->awards > 0;
        apply_points(&st->contribution, &has_contribution, &st->contribution_at_ms, rule->points, t,
                     rules, false);
        st->awards++;
        awarded++;
    }
    if (awarded_rules)
        *awarded_rules = awarded;
    return 0;
}

double score_value_at(const score_t *s, const hf_rules_t *rules, int64_t at_ms)
{
    if (!s->has_at || at_ms <= s->at_ms)
        return s->value;
    return s->value * score_decay(span(at_ms, s->at_ms), rules->scoring.half_life_ms);
}

double score_contribution_at(const score_rule_stat_t *st, const hf_rules_t *rules, int64_t at_ms)
{
    if (!st->awards || at_ms <= st->contribution_at_ms)
        return st->contribution;
    return st->contribution *
           score_decay(span(at_ms, st->contribution_at_ms), rules->scoring.half_life_ms);
}

int32_t score_round(double v)
{
    if (isnan(v))
        return 0;
    if (v <= INT32_MIN)
        return INT32_MIN;
    if (v >= INT32_MAX)
        return INT32_MAX;
    return (int32_t)lround(v);
}

/* @a and @b, each decayed from its own reference time to the later of the two, added;
 * *@at_ms receives that time. */
static double add_decayed(double a, int64_t a_at, double b, int64_t b_at, int64_t half_life_ms,
                          int64_t *at_ms)
{
    int64_t t = a_at > b_at ? a_at : b_at;
    *at_ms = t;
    return a * score_decay(span(t, a_at), half_life_ms) +
           b * score_decay(span(t, b_at), half_life_ms);
}

static uint32_t add_sat_u32(uint32_t a, uint32_t b)
{
    return a > (uint32_t)INT32_MAX - b ? (uint32_t)INT32_MAX : a + b;
}

/* Award times of both, ascending, the newest @keep of them; into @dst. */
static int merge_award_times(score_rule_stat_t *dst, const score_rule_stat_t *src, size_t keep)
{
    size_t n = dst->award_time_count + src->award_time_count;
    int64_t *all = malloc((n + 1) * sizeof *all);
    if (!all)
        return -ENOMEM;
    size_t i = 0, k = 0, m = 0;
    while (i < dst->award_time_count || k < src->award_time_count) {
        if (k >= src->award_time_count ||
            (i < dst->award_time_count && dst->award_times[i] <= src->award_times[k]))
            all[m++] = dst->award_times[i++];
        else
            all[m++] = src->award_times[k++];
    }
    size_t drop = m > keep ? m - keep : 0;
    memmove(all, all + drop, (m - drop) * sizeof *all);
    free(dst->award_times);
    dst->award_times = all;
    dst->award_time_count = m - drop;
    return 0;
}

int score_merge(score_t *s, const score_t *src, const hf_rules_t *rules)
{
    for (size_t i = 0; i < src->stat_count; i++) {
        const score_rule_stat_t *from = &src->stats[i];
        score_rule_stat_t *st = stat_get(s, from->rule);
        if (!st)
            return -ENOMEM;
        /* the rule's current cap bounds what is kept; a rule no longer configured
         * keeps as many as either side had */
        int idx = hf_rules_score_rule_index(rules, from->rule);
        size_t keep = idx >= 0 ? rules->scoring.rules[idx].cap_count
                      : st->award_time_count > from->award_time_count ? st->award_time_count
                                                                      : from->award_time_count;
        if (merge_award_times(st, from, keep) < 0)
            return -ENOMEM;
        if (from->awards && st->awards)
            st->contribution = add_decayed(st->contribution, st->contribution_at_ms,
                                           from->contribution, from->contribution_at_ms,
                                           rules->scoring.half_life_ms, &st->contribution_at_ms);
        else if (from->awards) {
            st->contribution = from->contribution;
            st->contribution_at_ms = from->contribution_at_ms;
        }
        st->awards = add_sat_u32(st->awards, from->awards);
        st->capped = add_sat_u32(st->capped, from->capped);
        if (from->has_last_matched &&
            (!st->has_last_matched || from->last_matched_ms > st->last_matched_ms)) {
            st->has_last_matched = true;
            st->last_matched_ms = from->last_matched_ms;
        }
    }
    if (src->has_at) {
        if (s->has_at)
            s->value = clamp_score(add_decayed(s->value, s->at_ms, src->value, src->at_ms,
                                               rules->scoring.half_life_ms, &s->at_ms),
                                   rules);
        else {
            s->value = src->value;
            s->at_ms = src->at_ms;
            s->has_at = true;
        }
    }
    return 0;
}

void score_free(score_t *s)
{
    for (size_t i = 0; i < s->stat_count; i++) {
        free(s->stats[i].rule);
        free(s->stats[i].award_times);
    }
    free(s->stats);
    *s = (score_t){0};
}

void score_encode(binenc_writer_t *w, const score_t *s)
{
    binenc_put_double(w, s->value);
    binenc_put_opt_long(w, s->has_at, s->at_ms);
    binenc_put_array_start(w, s->stat_count);
    for (size_t i = 0; i < s->stat_count; i++) {
        const score_rule_stat_t *st = &s->stats[i];
        binenc_put_string(w, st->rule);
        binenc_put_double(w, st->contribution);
        binenc_put_long(w, st->contribution_at_ms);
        binenc_put_int(w, (int32_t)st->awards);
        binenc_put_int(w, (int32_t)st->capped);
        binenc_put_opt_long(w, st->has_last_matched, st->last_matched_ms);
        binenc_put_array_start(w, st->award_time_count);
        for (size_t j = 0; j < st->award_time_count; j++)
            binenc_put_long(w, st->award_times[j]);
        binenc_put_array_end(w);
    }
    binenc_put_array_end(w);
}

static void stat_decode(binenc_reader_t *r, score_rule_stat_t *st)
{
    st->rule = binenc_get_string(r);
    st->contribution = binenc_get_double(r);
    if (!isfinite(st->contribution))
        binenc_fail(r);
    st->contribution_at_ms = binenc_get_long(r);
    st->awards = (uint32_t)binenc_get_int_range(r, 0, INT32_MAX);
    st->capped = (uint32_t)binenc_get_int_range(r, 0, INT32_MAX);
    st->has_last_matched = binenc_get_opt_long(r, &st->last_matched_ms);
    size_t cap = 0;
    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        int64_t *grown =
            vec_grow(st->award_times, &cap, st->award_time_count + n, sizeof *st->award_times);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        st->award_times = grown;
        for (size_t i = 0; i < n && !r->err; i++) {
            int64_t t = binenc_get_long(r);
            if (st->award_time_count && t < st->award_times[st->award_time_count - 1])
                binenc_fail(r);
            st->award_times[st->award_time_count++] = t;
        }
    }
    if (!r->err && st->award_time_count > st->awards)
        binenc_fail(r);
}

void score_decode(binenc_reader_t *r, score_t *s)
{
    s->value = binenc_get_double(r);
    if (!isfinite(s->value))
        binenc_fail(r);
    s->has_at = binenc_get_opt_long(r, &s->at_ms);
    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        score_rule_stat_t *grown =
            vec_grow(s->stats, &s->stat_cap, s->stat_count + n, sizeof *s->stats);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        s->stats = grown;
        for (size_t i = 0; i < n && !r->err; i++) {
            score_rule_stat_t *st = &s->stats[s->stat_count++];
            *st = (score_rule_stat_t){0};
            stat_decode(r, st);
            if (!r->err && score_find(s, st->rule) != st)
                binenc_fail(r); /* two stats for one rule */
        }
    }
}

void score_scale(score_t *s, const hf_rules_t *rules, double factor)
{
    s->value = clamp_score(s->value * factor, rules);
    for (size_t i = 0; i < s->stat_count; i++)
        s->stats[i].contribution *= factor;
}

/* ---- contributions, as reasons show them -------------------------------------- */

static int contribution_cmp(const void *a, const void *b)
{
    const score_contribution_t *x = a, *y = b;
    int64_t ax = x->points < 0 ? -(int64_t)x->points : x->points;
    int64_t ay = y->points < 0 ? -(int64_t)y->points : y->points;
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return strcmp(x->stat->rule, y->stat->rule);
}

void score_contributions(const score_rule_stat_t *stats, size_t n, const hf_rules_t *rules,
                         int64_t at_ms, score_contribution_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i].stat = &stats[i];
        out[i].points = score_round(score_contribution_at(&stats[i], rules, at_ms));
        out[i].count = stats[i].awards > INT32_MAX ? INT32_MAX : (int32_t)stats[i].awards;
    }
    if (n > 1)
        qsort(out, n, sizeof *out, contribution_cmp);
}

/* UTC to the second, "2026-03-02T09:00:00Z"; out of gmtime's range, "<ms>ms". */
static void format_time(char *buf, size_t n, int64_t ms)
{
    int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
    time_t tt = (time_t)secs;
    struct tm tm;
    if ((int64_t)tt != secs || !gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "%" PRId64 "ms", ms);
}

void score_contribution_detail(char *buf, size_t n, const score_rule_stat_t *st)
{
    uint64_t matches = (uint64_t)st->awards + st->capped;
    char capped[48] = "", last[64] = "";
    if (st->capped)
        snprintf(capped, sizeof capped, ", %" PRIu32 " over cap", st->capped);
    if (st->has_last_matched) {
        char when[40];
        format_time(when, sizeof when, st->last_matched_ms);
        snprintf(last, sizeof last, ", last %s", when);
    }
    snprintf(buf, n, "%" PRIu64 " match%s%s%s", matches, matches == 1 ? "" : "es", capped, last);
}
