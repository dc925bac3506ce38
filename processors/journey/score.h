/* Behaviour score of one contact (internal to stage 2).
 *
 * One exponentially decayed value S kept at a reference time t_ref, and per scoring
 * rule (keyed by name, so rules reloaded under the same name keep their history) its
 * own decayed contribution, award and cap counts, last match and recent award times.
 *
 * The formula (an independent reimplementation checks these numbers; keep it exact).
 * With d(x) = 2^(-x / half_life_ms) (d = 1 when half_life_ms is 0), each matching
 * rule in rule order awards its points p for an event at time t:
 *
 *     if there is no t_ref yet, or t >= t_ref:  S = S * d(t - t_ref); t_ref = t;
 *                                               S = clamp(S + p)
 *     else (a late event):                      S = clamp(S + p * d(t_ref - t))
 *
 * clamp() bounds to [min_score, max_score] (only the floor when max_score <=
 * min_score).  Only awards move S and t_ref: an event that matches no rule, or whose
 * matches are all capped, leaves them alone.  A rule's contribution follows the same
 * formula at its own reference time, without clamp.  The score reported at time T is
 * S * d(T - t_ref) (T not before t_ref), rounded half away from zero (lround).
 *
 * Frequency cap: a rule with cap_count > 0 is capped for an event at t when cap_count
 * of its awards lie in (t - cap_period_ms, t]; with cap_period_ms <= 0 the cap is for
 * life (cap_count awards in all).  A capped match awards nothing but still counts as
 * a match (the rule's last_matched moves, which `requires` of contact rules reads).
 * The newest cap_count award times are remembered per rule. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/binenc.h"
#include "processors/model/event.h"
#include "processors/rules/rules.h"

typedef struct score_rule_stat {
    char *rule;          /* owned */
    double contribution; /* at contribution_at_ms, decayed like S, unclamped */
    int64_t contribution_at_ms;
    uint32_t awards;
    uint32_t capped;
    bool has_last_matched;
    int64_t last_matched_ms;
    int64_t *award_times; /* ascending, the newest ones; owned */
    size_t award_time_count;
} score_rule_stat_t;

typedef struct score {
    double value; /* S at at_ms */
    bool has_at;  /* false until the first award */
    int64_t at_ms;
    score_rule_stat_t *stats;
    size_t stat_count;
    size_t stat_cap;
} score_t;

/* 2^(-@dt_ms / @half_life_ms); 1 when @half_life_ms <= 0. */
double score_decay(double dt_ms, int64_t half_life_ms);

/* Applies every scoring rule of @rules that matches @ev.  *@awarded_rules (may be
 * NULL) receives how many rules awarded points.  Returns 0 or -ENOMEM. */
int score_fold(score_t *s, const hf_event_t *ev, const hf_rules_t *rules, uint32_t *awarded_rules);

/* S decayed to @at_ms (taken as t_ref when earlier), unrounded. */
double score_value_at(const score_t *s, const hf_rules_t *rules, int64_t at_ms);

/* A rule's contribution decayed to @at_ms (not before its reference time). */
double score_contribution_at(const score_rule_stat_t *st, const hf_rules_t *rules, int64_t at_ms);

/* @v rounded half away from zero (lround), saturated to int32. */
int32_t score_round(double v);

/* One scoring rule's share of a score, as a handoff's reasons and a journey lookup
 * show it. */
typedef struct score_contribution {
    const score_rule_stat_t *stat;
    int32_t points; /* rounded, decayed to the time asked for */
    int32_t count;  /* awards, saturated at INT32_MAX */
} score_contribution_t;

/* The contribution of each of the @n rule stats at @at_ms into @out (@n items),
 * largest magnitude first, ties by rule name. */
void score_contributions(const score_rule_stat_t *stats, size_t n, const hf_rules_t *rules,
                         int64_t at_ms, score_contribution_t *out);

/* "3 matches, 1 over cap, last 2026-03-02T09:00:00Z": what a contribution is made of,
 * into @buf (always terminated). */
void score_contribution_detail(char *buf, size_t n, const score_rule_stat_t *st);

/* The stats of the rule called @rule, or NULL if it never matched. */
const score_rule_stat_t *score_find(const score_t *s, const char *rule);

/* Folds @src into @s (a merge of two contacts): S and each rule's contribution are
 * both decayed to the later of their reference times and added (S clamped); awards,
 * capped counts add up, last_matched is the later, award times are joined (the newest
 * cap_count of the rule as configured now).  Returns 0 or -ENOMEM (@s may then hold
 * part of @src). */
int score_merge(score_t *s, const score_t *src, const hf_rules_t *rules);

/* Multiplies S and every rule's contribution by @factor (a recycle's score policy:
 * 0 resets, 0.5 halves; clamped like S); award and cap history stay. */
void score_scale(score_t *s, const hf_rules_t *rules, double factor);

void score_free(score_t *s);

void score_encode(binenc_writer_t *w, const score_t *s);
/* Reads what score_encode() wrote into the empty @s; errors go to @r. */
void score_decode(binenc_reader_t *r, score_t *s);
