/* Interests of one contact (internal to stage 2): what problem the buyer comes to
 * solve, by topic.
 *
 * Every interest rule matching an event adds its weight to its topic.  A topic's weight
 * W is kept at a reference time t_ref and decays like the behaviour score, with
 * d(x) = 2^(-x / interests_half_life_ms) (d = 1 when the half-life is 0):
 *
 *     t >= t_ref (or a new topic):  W = W * d(t - t_ref) + w;  t_ref = t
 *     t <  t_ref (a late event):    W = W + w * d(t_ref - t)
 *
 * and W at time T is W * d(T - t_ref) for T after t_ref (W itself before).  At most
 * interests.tracked topics are kept: a new topic beyond that evicts the weakest at the
 * newest reference time of all (ties: the least recently added to, then the greatest
 * topic name), which may be the new topic itself. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/binenc.h"
#include "processors/model/event.h"
#include "processors/model/output.h"
#include "processors/rules/rules.h"

typedef struct interest {
    char *topic; /* owned */
    double weight;
    int64_t at_ms; /* reference time of weight */
} interest_t;

typedef struct interests {
    interest_t *items; /* in order of first appearance */
    size_t count;
    size_t cap;
} interests_t;

/* Applies every interest rule of @rules that matches @ev.  Returns 0 or -ENOMEM. */
int interests_fold(interests_t *in, const hf_event_t *ev, const hf_rules_t *rules);

/* Adds @weight to @topic at @at_ms (the formula above, eviction included).  Returns 0
 * or -ENOMEM (nothing changed). */
int interests_add(interests_t *in, const char *topic, double weight, int64_t at_ms,
                  const hf_rules_t *rules);

/* @it's weight decayed to @at_ms. */
double interests_weight_at(const interest_t *it, const hf_rules_t *rules, int64_t at_ms);

/* The at most @max strongest topics with a positive weight at @at_ms, strongest first
 * (ties: topic name), into @out (room for @max; topics borrowed from @in).  Returns
 * how many. */
size_t interests_top(const interests_t *in, const hf_rules_t *rules, int64_t at_ms,
                     hf_interest_t *out, size_t max);

/* Folds every topic of @src into @dst (each added at its own reference time).  Returns
 * 0 or -ENOMEM (@dst may then hold part of @src). */
int interests_merge(interests_t *dst, const interests_t *src, const hf_rules_t *rules);

void interests_free(interests_t *in);

void interests_encode(binenc_writer_t *w, const interests_t *in);
/* Reads what interests_encode() wrote into the empty @in; errors go to @r. */
void interests_decode(binenc_reader_t *r, interests_t *in);
