#include "testkit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Tests stop at the first allocation failure: they cannot do anything useful then. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static void *xgrow(void *p, size_t count, size_t size)
{
    p = realloc(p, (count ? count : 1) * size);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

hf_rules_t *tk_rules_new(void)
{
    hf_rules_t *r = xcalloc(1, sizeof *r);
    r->half_life_ms = 0;
    r->max_score = 1000;
    r->min_score = 0;
    r->engaged_score = 0;
    r->grace_ms = 0;
    r->stitch_max_events = 100;
    r->stitch_max_age_ms = 0;
    r->dedupe_max_ids = 1000;
    r->dedupe_window_ms = 0;
    r->journey_recent_max = 10;
    r->journey_pages_max = 10;
    r->journey_top_pages = 3;
    r->journey_downloads_max = 10;
    r->journey_webinars_max = 10;
    r->journey_sessions_max = 10;
    r->sla_accept_ms = 4 * TK_HOUR_MS;
    r->sla_first_touch_ms = 24 * TK_HOUR_MS;
    return r;
}

void tk_globs(hf_globs_t *g, ...)
{
    va_list ap;
    va_start(ap, g);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
        g->patterns = xgrow(g->patterns, g->count + 1, sizeof *g->patterns);
        g->patterns[g->count++] = xstrdup(p);
    }
    va_end(ap);
}

hf_score_rule_t *tk_score_rule(hf_rules_t *r, const char *name, int32_t points)
{
    r->score_rules = xgrow(r->score_rules, r->score_rule_count + 1, sizeof *r->score_rules);
    hf_score_rule_t *s = &r->score_rules[r->score_rule_count++];
    *s = (hf_score_rule_t){.name = xstrdup(name), .points = points};
    return s;
}

void tk_grades(hf_rules_t *r, ...)
{
    va_list ap;
    va_start(ap, r);
    for (const char *l = va_arg(ap, const char *); l; l = va_arg(ap, const char *)) {
        int min = va_arg(ap, int);
        r->grades = xgrow(r->grades, r->grade_count + 1, sizeof *r->grades);
        r->grades[r->grade_count++] = (hf_grade_t){xstrdup(l), min};
    }
    va_end(ap);
}

hf_fit_rule_t *tk_fit_rule(hf_rules_t *r, const char *name, int32_t points)
{
    r->fit_rules = xgrow(r->fit_rules, r->fit_rule_count + 1, sizeof *r->fit_rules);
    hf_fit_rule_t *f = &r->fit_rules[r->fit_rule_count++];
    *f = (hf_fit_rule_t){.name = xstrdup(name), .points = points};
    return f;
}

hf_fit_exclusion_t *tk_exclusion(hf_rules_t *r, const char *name)
{
    r->exclusions = xgrow(r->exclusions, r->exclusion_count + 1, sizeof *r->exclusions);
    hf_fit_exclusion_t *e = &r->exclusions[r->exclusion_count++];
    *e = (hf_fit_exclusion_t){.name = xstrdup(name)};
    return e;
}

hf_contact_rule_t *tk_contact_rule(hf_rules_t *r, const char *name, int32_t min_score,
                                   const char *min_grade, int64_t within_ms, ...)
{
    r->contact_rules = xgrow(r->contact_rules, r->contact_rule_count + 1, sizeof *r->contact_rules);
    hf_contact_rule_t *c = &r->contact_rules[r->contact_rule_count++];
    *c = (hf_contact_rule_t){.name = xstrdup(name),
                             .min_score = min_score,
                             .min_grade = min_grade ? hf_rules_grade_index(r, min_grade) : -1,
                             .within_ms = within_ms};
    va_list ap;
    va_start(ap, within_ms);
    for (const char *q = va_arg(ap, const char *); q; q = va_arg(ap, const char *)) {
        c->requires = xgrow(c->requires, c->requires_count + 1, sizeof *c->requires);
        c->requires[c->requires_count++] = xstrdup(q);
    }
    va_end(ap);
    return c;
}

void tk_hand_raisers(hf_rules_t *r, const char *rule, uint32_t form_mask, bool respect_exclusions)
{
    free(r->hand_raiser_rule);
    r->hand_raiser_rule = xstrdup(rule);
    r->hand_raiser_forms = form_mask;
    r->hand_raisers_respect_exclusions = respect_exclusions;
}

static hf_event_t base_event(hf_event_kind_t kind, const char *event_id, int64_t at_ms)
{
    return (hf_event_t){
        .kind = kind, .event_id = event_id, .occurred_at_ms = at_ms, .source = "test"};
}

hf_event_t tk_visit(const char *event_id, int64_t at_ms, const char *anonymous_id,
                    const char *contact_id, const char *session_id, const char *url,
                    const char *title)
{
    hf_event_t ev = base_event(HF_EV_WEB_VISIT, event_id, at_ms);
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    ev.session_id = session_id;
    ev.url = url;
    ev.title = title;
    ev.duration_ms = 1000;
    return ev;
}

hf_event_t tk_form(const char *event_id, int64_t at_ms, const char *anonymous_id,
                   const char *contact_id, hf_form_type_t type)
{
    hf_event_t ev = base_event(HF_EV_FORM, event_id, at_ms);
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    ev.form_id = "form-1";
    ev.form_type = type;
    ev.traits.present = true;
    return ev;
}

hf_event_t tk_identify(const char *event_id, int64_t at_ms, const char *anonymous_id,
                       const char *contact_id)
{
    hf_event_t ev = base_event(HF_EV_IDENTITY, event_id, at_ms);
    ev.identity_kind = HF_IDENTITY_IDENTIFY;
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    return ev;
}

hf_event_t tk_download(const char *event_id, int64_t at_ms, const char *contact_id,
                       const char *asset_id, const char *title)
{
    hf_event_t ev = base_event(HF_EV_DOWNLOAD, event_id, at_ms);
    ev.contact_id = contact_id;
    ev.asset_id = asset_id;
    ev.asset_title = title;
    ev.asset_type = "whitepaper";
    return ev;
}

hf_event_t tk_webinar(const char *event_id, int64_t at_ms, const char *contact_id,
                      hf_webinar_action_t action, int32_t minutes)
{
    hf_event_t ev = base_event(HF_EV_WEBINAR, event_id, at_ms);
    ev.contact_id = contact_id;
    ev.webinar_id = "wb-1";
    ev.webinar_title = "Churn in practice";
    ev.webinar_action = action;
    ev.minutes_attended = minutes;
    return ev;
}

hf_event_t tk_email(const char *event_id, int64_t at_ms, const char *contact_id,
                    hf_email_action_t action, const char *campaign)
{
    hf_event_t ev = base_event(HF_EV_EMAIL, event_id, at_ms);
    ev.contact_id = contact_id;
    ev.email_id = "em-1";
    ev.campaign = campaign;
    ev.email_action = action;
    return ev;
}

static int rec_handoff(void *opaque, const hf_handoff_t *h)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->handoff_count == sizeof rec->handoffs / sizeof rec->handoffs[0])
        abort();
    tk_handoff_t *c = &rec->handoffs[rec->handoff_count++];
    *c = (tk_handoff_t){
        .handoff_id = xstrdup(h->handoff_id),
        .entity_id = xstrdup(h->entity_id),
        .account_id = xstrdup(h->account_id),
        .rule = xstrdup(h->rule),
        .fit_grade = xstrdup(h->fit_grade),
        .stage_before = xstrdup(h->stage_before),
        .region = xstrdup(h->routing_region),
        .qualified_at_ms = h->qualified_at_ms,
        .emitted_at_ms = h->emitted_at_ms,
        .accept_by_ms = h->sla_accept_by_ms,
        .first_touch_by_ms = h->sla_first_touch_by_ms,
        .score = h->score,
        .first_seen_ms = h->journey.first_seen_ms,
        .has_known_since = h->journey.has_known_since,
        .known_since_ms = h->journey.known_since_ms,
        .sessions = h->journey.sessions,
        .page_views = h->journey.page_views,
        .email_opens = h->journey.email_opens,
        .email_clicks = h->journey.email_clicks,
        .email_last_campaign = xstrdup(h->journey.email_last_campaign),
        .download_count = h->journey.download_count,
        .webinar_count = h->journey.webinar_count,
    };
    c->reasons = xcalloc(h->reason_count, sizeof *c->reasons);
    c->reason_count = h->reason_count;
    for (size_t i = 0; i < h->reason_count; i++)
        c->reasons[i] = (tk_reason_t){xstrdup(h->reasons[i].rule), h->reasons[i].points,
                                      h->reasons[i].count, xstrdup(h->reasons[i].detail)};
    c->top_page_count = h->journey.top_page_count;
    c->top_page_urls = xcalloc(c->top_page_count, sizeof *c->top_page_urls);
    c->top_page_views = xcalloc(c->top_page_count, sizeof *c->top_page_views);
    for (size_t i = 0; i < c->top_page_count; i++) {
        c->top_page_urls[i] = xstrdup(h->journey.top_pages[i].url);
        c->top_page_views[i] = h->journey.top_pages[i].views;
    }
    c->recent_count = h->journey.recent_count;
    c->recent = xcalloc(c->recent_count, sizeof *c->recent);
    for (size_t i = 0; i < c->recent_count; i++) {
        const hf_touch_t *t = &h->journey.recent[i];
        c->recent[i] =
            (tk_touch_t){t->at_ms, xstrdup(t->type), xstrdup(t->title), xstrdup(t->detail)};
    }
    return 0;
}

static int rec_lifecycle(void *opaque, const hf_lifecycle_t *lc)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->change_count == sizeof rec->changes / sizeof rec->changes[0])
        abort();
    rec->changes[rec->change_count++] =
        (tk_lifecycle_t){xstrdup(lc->entity_id), xstrdup(lc->from_stage), xstrdup(lc->to_stage),
                         xstrdup(lc->cause), lc->at_ms};
    return 0;
}

static int rec_forward(void *opaque, const char *contact_id, const void *raw, size_t raw_len)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->forward_count == sizeof rec->forwards / sizeof rec->forwards[0])
        abort();
    tk_forward_t *f = &rec->forwards[rec->forward_count++];
    f->contact_id = xstrdup(contact_id);
    f->raw = xcalloc(raw_len + 1, 1);
    memcpy(f->raw, raw, raw_len);
    f->raw_len = raw_len;
    return 0;
}

hf_sink_t tk_sink(tk_rec_t *rec)
{
    return (hf_sink_t){rec, rec_handoff, rec_lifecycle};
}

identity_sink_t tk_identity_sink(tk_rec_t *rec)
{
    return (identity_sink_t){rec, rec_forward};
}

void tk_rec_clear(tk_rec_t *rec)
{
    for (size_t i = 0; i < rec->handoff_count; i++) {
        tk_handoff_t *h = &rec->handoffs[i];
        free(h->handoff_id);
        free(h->entity_id);
        free(h->account_id);
        free(h->rule);
        free(h->fit_grade);
        free(h->stage_before);
        free(h->region);
        free(h->email_last_campaign);
        for (size_t j = 0; j < h->reason_count; j++) {
            free(h->reasons[j].rule);
            free(h->reasons[j].detail);
        }
        free(h->reasons);
        for (size_t j = 0; j < h->top_page_count; j++)
            free(h->top_page_urls[j]);
        free(h->top_page_urls);
        free(h->top_page_views);
        for (size_t j = 0; j < h->recent_count; j++) {
            free(h->recent[j].type);
            free(h->recent[j].title);
            free(h->recent[j].detail);
        }
        free(h->recent);
    }
    for (size_t i = 0; i < rec->change_count; i++) {
        free(rec->changes[i].entity_id);
        free(rec->changes[i].from);
        free(rec->changes[i].to);
        free(rec->changes[i].cause);
    }
    for (size_t i = 0; i < rec->forward_count; i++) {
        free(rec->forwards[i].contact_id);
        free(rec->forwards[i].raw);
    }
    int fail_with = rec->fail_with;
    *rec = (tk_rec_t){0};
    rec->fail_with = fail_with;
}

const tk_reason_t *tk_find_reason(const tk_handoff_t *h, const char *rule, const char *detail_part)
{
    for (size_t i = 0; i < h->reason_count; i++)
        if (strcmp(h->reasons[i].rule, rule) == 0 &&
            (!detail_part || strstr(h->reasons[i].detail, detail_part)))
            return &h->reasons[i];
    return NULL;
}
