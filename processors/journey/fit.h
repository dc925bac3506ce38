/* A contact's traits and the fit grade they earn (internal to stage 2).
 *
 * Each trait keeps its newest non-null value by event time; ties: the later fold
 * wins; from form submissions and identity events.  The e-mail address is kept only
 * as its domain and keyed hash.  Fit points, exclusions and the grade are computed
 * from the stored traits under the current rules, so a reload regrades everyone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/binenc.h"
#include "util/buf.h"
#include "processors/model/event.h"
#include "processors/rules/rules.h"

typedef struct fit_trait {
    char *value; /* owned; NULL = never seen */
    int64_t at_ms;
} fit_trait_t;

/* String traits, in the order of StoredTraits in ContactState.avsc (employees sits
 * between industry and country there). */
enum fit_trait_id {
    FIT_EMAIL_DOMAIN = 0,
    FIT_EMAIL_HASH,
    FIT_FULL_NAME,
    FIT_TITLE,
    FIT_SENIORITY,
    FIT_DEPARTMENT,
    FIT_COMPANY_NAME,
    FIT_ACCOUNT_ID,
    FIT_INDUSTRY,
    FIT_COUNTRY,
    FIT_REGION,
    FIT__COUNT
};

typedef struct fit_traits {
    fit_trait_t str[FIT__COUNT];
    bool has_employees;
    int32_t employees;
    int64_t employees_at_ms;
} fit_traits_t;

typedef struct fit_result {
    int32_t points; /* sum of the matching fit rules */
    int excluded;   /* index of the first matching exclusion, or -1 */
    int grade;      /* index into rules->grades, or -1 when there are none */
} fit_result_t;

/* Takes the traits of @ev (forms and identity events).  Returns 0 or -ENOMEM. */
int fit_fold(fit_traits_t *t, const hf_event_t *ev);

/* Takes each trait of @src that is newer than @t's (ties: @t's stays).  Returns 0 or
 * -ENOMEM (@t may then hold part of @src). */
int fit_merge(fit_traits_t *t, const fit_traits_t *src);

/* A view of the stored traits as hf_traits_t (borrowed strings). */
void fit_view(const fit_traits_t *t, hf_traits_t *view);

/* The value of one string trait, or NULL. */
const char *fit_get(const fit_traits_t *t, enum fit_trait_id id);

void fit_eval(const fit_traits_t *t, const hf_rules_t *rules, fit_result_t *out);

/* The letter of grade index @grade, or "" when there is no such grade. */
const char *fit_grade_letter(const hf_rules_t *rules, int grade);

void fit_free(fit_traits_t *t);

void fit_encode(binenc_writer_t *w, const fit_traits_t *t);
void fit_decode(binenc_reader_t *r, fit_traits_t *t);
