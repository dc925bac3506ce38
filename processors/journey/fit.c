#include "fit.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Which field of hf_traits_t feeds each stored string trait. */
static const size_t TRAIT_EVENT_OFFSET[FIT__COUNT] = {
    [FIT_EMAIL_DOMAIN] = offsetof(hf_traits_t, email_domain),
    [FIT_EMAIL_HASH] = offsetof(hf_traits_t, email_hash),
    [FIT_FULL_NAME] = offsetof(hf_traits_t, full_name),
    [FIT_TITLE] = offsetof(hf_traits_t, title),
    [FIT_SENIORITY] = offsetof(hf_traits_t, seniority),
    [FIT_DEPARTMENT] = offsetof(hf_traits_t, department),
    [FIT_COMPANY_NAME] = offsetof(hf_traits_t, company_name),
    [FIT_ACCOUNT_ID] = offsetof(hf_traits_t, account_id),
    [FIT_INDUSTRY] = offsetof(hf_traits_t, industry),
    [FIT_COUNTRY] = offsetof(hf_traits_t, country),
    [FIT_REGION] = offsetof(hf_traits_t, region),
};

static const char *event_trait(const hf_traits_t *tr, enum fit_trait_id id)
{
    const char *const *field = (const char *const *)((const char *)tr + TRAIT_EVENT_OFFSET[id]);
    return *field;
}

int fit_fold(fit_traits_t *t, const hf_event_t *ev)
{
    if ((ev->kind != HF_EV_FORM && ev->kind != HF_EV_IDENTITY) || !ev->traits.present)
        return 0;
    int64_t at = ev->occurred_at_ms;
    for (int id = 0; id < FIT__COUNT; id++) {
        const char *v = event_trait(&ev->traits, (enum fit_trait_id)id);
        fit_trait_t *st = &t->str[id];
        if (!v || (st->value && at < st->at_ms))
            continue;
        char *copy = strdup(v);
        if (!copy)
            return -ENOMEM;
        free(st->value);
        st->value = copy;
        st->at_ms = at;
    }
    if (ev->traits.has_employees && (!t->has_employees || at >= t->employees_at_ms)) {
        t->has_employees = true;
        t->employees = ev->traits.employees;
        t->employees_at_ms = at;
    }
    return 0;
}

int fit_merge(fit_traits_t *t, const fit_traits_t *src)
{
    for (int id = 0; id < FIT__COUNT; id++) {
        const fit_trait_t *from = &src->str[id];
        fit_trait_t *st = &t->str[id];
        if (!from->value || (st->value && from->at_ms <= st->at_ms))
            continue;
        char *copy = strdup(from->value);
        if (!copy)
            return -ENOMEM;
        free(st->value);
        st->value = copy;
        st->at_ms = from->at_ms;
    }
    if (src->has_employees && (!t->has_employees || src->employees_at_ms > t->employees_at_ms)) {
        t->has_employees = true;
        t->employees = src->employees;
        t->employees_at_ms = src->employees_at_ms;
    }
    return 0;
}

const char *fit_get(const fit_traits_t *t, enum fit_trait_id id)
{
    return t->str[id].value;
}

void fit_view(const fit_traits_t *t, hf_traits_t *view)
{
    *view = (hf_traits_t){.present = true};
    for (int id = 0; id < FIT__COUNT; id++) {
        const char **field = (const char **)((char *)view + TRAIT_EVENT_OFFSET[id]);
        *field = t->str[id].value;
    }
    view->has_employees = t->has_employees;
    view->employees = t->employees;
}

void fit_eval(const fit_traits_t *t, const hf_rules_t *rules, fit_result_t *out)
{
    hf_traits_t view;
    fit_view(t, &view);
    int64_t points = 0;
    for (size_t i = 0; i < rules->fit.rule_count; i++)
        if (hf_trait_match(&rules->fit.rules[i].match, &view))
            points += rules->fit.rules[i].points;
    out->points = points > INT32_MAX ? INT32_MAX : points < INT32_MIN ? INT32_MIN : (int32_t)points;
    out->excluded = -1;
    for (size_t i = 0; i < rules->fit.exclusion_count; i++)
        if (hf_trait_match(&rules->fit.exclusions[i].match, &view)) {
            out->excluded = (int)i;
            break;
        }
    out->grade = -1;
    if (!rules->fit.grade_count)
        return;
    /* the floor grade unless a higher one is earned; excluded contacts get the floor */
    out->grade = (int)rules->fit.grade_count - 1;
    if (out->excluded >= 0)
        return;
    for (size_t i = 0; i < rules->fit.grade_count; i++)
        if (rules->fit.grades[i].min_points <= out->points) {
            out->grade = (int)i;
            break;
        }
}

const char *fit_grade_letter(const hf_rules_t *rules, int grade)
{
    if (grade < 0 || (size_t)grade >= rules->fit.grade_count || !rules->fit.grades[grade].letter)
        return "";
    return rules->fit.grades[grade].letter;
}

void fit_free(fit_traits_t *t)
{
    for (int id = 0; id < FIT__COUNT; id++)
        free(t->str[id].value);
    *t = (fit_traits_t){0};
}

static void put_trait(binenc_writer_t *w, const fit_trait_t *tr)
{
    binenc_put_long(w, tr->value ? 1 : 0);
    if (tr->value) {
        binenc_put_string(w, tr->value);
        binenc_put_long(w, tr->at_ms);
    }
}

void fit_encode(binenc_writer_t *w, const fit_traits_t *t)
{
    for (int id = 0; id < FIT__COUNT; id++) {
        if (id == FIT_COUNTRY) {
            binenc_put_long(w, t->has_employees ? 1 : 0);
            if (t->has_employees) {
                binenc_put_int(w, t->employees);
                binenc_put_long(w, t->employees_at_ms);
            }
        }
        put_trait(w, &t->str[id]);
    }
}

static void get_trait(binenc_reader_t *r, fit_trait_t *tr)
{
    if (binenc_get_union(r, 2) != 1)
        return;
    tr->value = binenc_get_string(r);
    tr->at_ms = binenc_get_long(r);
}

void fit_decode(binenc_reader_t *r, fit_traits_t *t)
{
    for (int id = 0; id < FIT__COUNT; id++) {
        if (id == FIT_COUNTRY && binenc_get_union(r, 2) == 1) {
            t->has_employees = true;
            t->employees = binenc_get_int(r);
            t->employees_at_ms = binenc_get_long(r);
        }
        get_trait(r, &t->str[id]);
    }
}
