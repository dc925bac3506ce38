#include "interests.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "util/timespan.h"
#include "util/vec.h"

static double decay(int64_t newer, int64_t older, const hf_rules_t *rules)
{
    return score_decay((double)timespan_ms(newer, older), rules->interests.half_life_ms);
}

double interests_weight_at(const interest_t *it, const hf_rules_t *rules, int64_t at_ms)
{
    if (at_ms <= it->at_ms)
        return it->weight;
    return it->weight * decay(at_ms, it->at_ms, rules);
}

static interest_t *find(const interests_t *in, const char *topic)
{
    for (size_t i = 0; i < in->count; i++)
        if (strcmp(in->items[i].topic, topic) == 0)
            return &in->items[i];
    return NULL;
}

/* True when @a is weaker than @b at @at_ms (the eviction order of interests.h). */
static bool weaker(const interest_t *a, const interest_t *b, const hf_rules_t *rules, int64_t at_ms)
{
    double wa = interests_weight_at(a, rules, at_ms), wb = interests_weight_at(b, rules, at_ms);
    if (wa != wb)
        return wa < wb;
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms;
    return strcmp(a->topic, b->topic) > 0;
}

int interests_add(interests_t *in, const char *topic, double weight, int64_t at_ms,
                  const hf_rules_t *rules)
{
    interest_t *it = find(in, topic);
    if (it) {
        if (at_ms >= it->at_ms) {
            it->weight = it->weight * decay(at_ms, it->at_ms, rules) + weight;
            it->at_ms = at_ms;
        } else {
            it->weight += weight * decay(it->at_ms, at_ms, rules);
        }
        return 0;
    }
    size_t max = rules->interests.tracked;
    if (!max)
        return 0;
    interest_t cand = {.topic = (char *)topic, .weight = weight, .at_ms = at_ms};
    size_t victim = SIZE_MAX;
    if (in->count >= max) {
        int64_t newest = at_ms;
        for (size_t i = 0; i < in->count; i++)
            if (in->items[i].at_ms > newest)
                newest = in->items[i].at_ms;
        const interest_t *weakest = &cand;
        for (size_t i = 0; i < in->count; i++)
            if (weaker(&in->items[i], weakest, rules, newest)) {
                weakest = &in->items[i];
                victim = i;
            }
        if (victim == SIZE_MAX)
            return 0; /* the new topic is the weakest: it is not kept */
    }
    char *copy = strdup(topic);
    if (!copy)
        return -ENOMEM;
    if (victim == SIZE_MAX) {
        interest_t *grown = vec_grow(in->items, &in->cap, in->count + 1, sizeof *in->items);
        if (!grown) {
            free(copy);
            return -ENOMEM;
        }
        in->items = grown;
    } else {
        free(in->items[victim].topic);
        vec_remove(in->items, in->count, victim, sizeof *in->items);
        in->count--;
    }
    /* a reload may have lowered interests.tracked: drop the weakest beyond it */
    while (in->count + 1 > max) {
        size_t w = 0;
        for (size_t i = 1; i < in->count; i++)
            if (weaker(&in->items[i], &in->items[w], rules, at_ms))
                w = i;
        free(in->items[w].topic);
        vec_remove(in->items, in->count, w, sizeof *in->items);
        in->count--;
    }
    in->items[in->count++] = (interest_t){copy, weight, at_ms};
    return 0;
}

int interests_fold(interests_t *in, const hf_event_t *ev, const hf_rules_t *rules)
{
    for (size_t i = 0; i < rules->interests.rule_count; i++) {
        const hf_interest_rule_t *ir = &rules->interests.rules[i];
        if (!ir->topic || !hf_event_match(&ir->match, ev))
            continue;
        int r = interests_add(in, ir->topic, ir->weight, ev->occurred_at_ms, rules);
        if (r < 0)
            return r;
    }
    return 0;
}

/* True when topic @a (weight @wa) comes before @b (@wb) in a handoff's list. */
static bool listed_before(double wa, const char *a, double wb, const char *b)
{
    return wa > wb || (wa == wb && strcmp(a, b) < 0);
}

size_t interests_top(const interests_t *in, const hf_rules_t *rules, int64_t at_ms,
                     hf_interest_t *out, size_t max)
{
    /* selection of the next in the (weight, topic) order after the previous pick,
     * @max times: topics are unique, so the order is strict; bounds are small */
    size_t n = 0;
    const char *prev = NULL;
    double prev_w = 0;
    while (n < max) {
        const interest_t *best = NULL;
        double best_w = 0;
        for (size_t i = 0; i < in->count; i++) {
            const interest_t *it = &in->items[i];
            double w = interests_weight_at(it, rules, at_ms);
            if (!(w > 0) || (prev && !listed_before(prev_w, prev, w, it->topic)))
                continue;
            if (!best || listed_before(w, it->topic, best_w, best->topic)) {
                best = it;
                best_w = w;
            }
        }
        if (!best)
            break;
        out[n++] = (hf_interest_t){best->topic, (float)best_w};
        prev = best->topic;
        prev_w = best_w;
    }
    return n;
}

int interests_merge(interests_t *dst, const interests_t *src, const hf_rules_t *rules)
{
    for (size_t i = 0; i < src->count; i++) {
        const interest_t *it = &src->items[i];
        int r = interests_add(dst, it->topic, it->weight, it->at_ms, rules);
        if (r < 0)
            return r;
    }
    return 0;
}

void interests_free(interests_t *in)
{
    for (size_t i = 0; i < in->count; i++)
        free(in->items[i].topic);
    free(in->items);
    *in = (interests_t){0};
}

void interests_encode(binenc_writer_t *w, const interests_t *in)
{
    binenc_put_array_start(w, in->count);
    for (size_t i = 0; i < in->count; i++) {
        binenc_put_string(w, in->items[i].topic);
        binenc_put_double(w, in->items[i].weight);
        binenc_put_long(w, in->items[i].at_ms);
    }
    binenc_put_array_end(w);
}

void interests_decode(binenc_reader_t *r, interests_t *in)
{
    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        interest_t *grown = vec_grow(in->items, &in->cap, in->count + n, sizeof *in->items);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        in->items = grown;
        for (size_t i = 0; i < n && !r->err; i++) {
            interest_t *it = &in->items[in->count++];
            *it = (interest_t){0};
            it->topic = binenc_get_string(r);
            it->weight = binenc_get_double(r);
            it->at_ms = binenc_get_long(r);
            if (!isfinite(it->weight) || (it->topic && find(in, it->topic) != it))
                binenc_fail(r); /* two entries for one topic */
        }
    }
}
