/* Who comes by, and the script each kind of person follows: anonymous browsers and
 * job seekers, newsletter subscribers, content researchers, contacts known only
 * from the CRM, evaluators and hand-raisers.  Known people get traits first
 * (person.c); the scripts are made of the touches of site.c, content.c, email.c
 * and sales.c. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* Who a person is, and so which script they follow. */
typedef enum persona {
    P_BROWSER = 0, /* anonymous: a few pages, never identifies */
    P_JOB_SEEKER,  /* anonymous: careers pages */
    P_NEWSLETTER,  /* subscribes, then reads e-mails */
    P_RESEARCHER,  /* gated content, nurture, maybe a webinar */
    P_CRM,         /* known from the CRM only: e-mails, webinars */
    P_EVALUATOR,   /* deep research, often ends as a hand-raiser */
    P_HAND_RAISER, /* comes for pricing, asks for a demo */
    P__COUNT
} persona_t;

static const uint16_t persona_weights[P__COUNT] = {96, 14, 24, 30, 16, 14, 4};

/* Visits before the person first identifies. */
static int sessions_before(gen_person_t *p, int lo, int hi)
{
    return (int)gen_rng_range(&p->rng, lo, hi);
}

/* @count sessions of up to @max_pages pages on the person's first browser. */
static void anonymous_sessions(gen_model_t *m, gen_person_t *p, int count, gen_intent_t intent,
                               int max_pages)
{
    for (int s = 0; s < count; s++) {
        if (s > 0)
            gen_wait_about(p, 3 * DAY_MS, 30 * MINUTE_MS);
        gen_site_session(m, p, p->anon_id, intent,
                         1 + (int)gen_rng_below(&p->rng, (uint32_t)max_pages), NULL, NULL);
    }
}

/* Asks for sales: the demo or contact form, then the sales team's follow-up. */
static void hand_raise(gen_model_t *m, gen_person_t *p, const char *anon)
{
    if (gen_rng_chance(&p->rng, 0.7)) {
        gen_site_session(m, p, anon, GEN_INTENT_HIGH, 1 + (int)gen_rng_below(&p->rng, 2),
                         &gen_site_demo_page, NULL);
        gen_site_form(m, p, anon, HF_FORM_DEMO_REQUEST, "f-demo", gen_site_demo_page.url);
    } else {
        gen_site_session(m, p, anon, GEN_INTENT_HIGH, 1, &gen_site_contact_sales_page, NULL);
        gen_site_form(m, p, anon, HF_FORM_CONTACT_SALES, "f-contact-sales",
                      gen_site_contact_sales_page.url);
    }
    m->stats.hand_raisers++;
    gen_sales_follow_up(m, p);
}

static void run_browser(gen_model_t *m, gen_person_t *p, gen_intent_t intent)
{
    int sessions = 1 + gen_rng_chance(&p->rng, 0.35) + gen_rng_chance(&p->rng, 0.12);
    anonymous_sessions(m, p, sessions, intent, 4);
}

static void run_newsletter(gen_model_t *m, gen_person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 1, 3), GEN_INTENT_LOW, 4);
    gen_wait_about(p, 2 * DAY_MS, 10 * MINUTE_MS);
    const gen_page_t *blog = gen_site_page_of_kind(&p->rng, GEN_PAGE_BLOG);
    gen_site_session(m, p, p->anon_id, GEN_INTENT_LOW, 1, blog, NULL);
    gen_site_form(m, p, p->anon_id, HF_FORM_NEWSLETTER, "f-newsletter-blog", blog->url);
    gen_email_series(m, p, (int)gen_rng_range(&p->rng, 2, 6), GEN_CAMPAIGN_NEWSLETTER, 0.2);
    if (gen_rng_chance(&p->rng, 0.2)) {
        gen_wait_about(p, 5 * DAY_MS, 1 * HOUR_MS);
        gen_content_webinar(m, p, NULL, 0.2);
    }
}

static void run_researcher(gen_model_t *m, gen_person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 1, 3), GEN_INTENT_MID, 5);
    gen_wait_about(p, 2 * DAY_MS, 10 * MINUTE_MS);
    gen_content_gated_download(m, p, p->anon_id, gen_content_pick_asset(&p->rng, false));
    int more = (int)gen_rng_below(&p->rng, 4);
    for (int i = 0; i < more; i++) {
        gen_wait_about(p, 4 * DAY_MS, 1 * HOUR_MS);
        gen_content_download(m, p, gen_content_pick_asset(&p->rng, gen_rng_chance(&p->rng, 0.3)),
                             gen_rng_chance(&p->rng, 0.5) ? p->anon_id : NULL, "nurture-revops");
    }
    gen_email_series(m, p, (int)gen_rng_range(&p->rng, 2, 6), 1, 0.4);
    if (gen_rng_chance(&p->rng, 0.4)) {
        gen_wait_about(p, 4 * DAY_MS, 1 * HOUR_MS);
        gen_content_webinar(m, p, p->anon_id, 0.4);
    }
    if (gen_rng_chance(&p->rng, 0.4)) {
        gen_wait_about(p, 5 * DAY_MS, 1 * HOUR_MS);
        gen_site_session(m, p, p->anon_id, GEN_INTENT_MID, 2 + (int)gen_rng_below(&p->rng, 4), NULL,
                         NULL);
    }
}

static void run_crm(gen_model_t *m, gen_person_t *p)
{
    /* Imported from a trade show list or entered by a rep: the CRM knows them first. */
    gen_record_t *r = gen_model_emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_TRAITS;
    r->ev.contact_id = p->contact_id;
    r->ev.traits = p->traits;
    p->known = true;
    gen_email_series(m, p, (int)gen_rng_range(&p->rng, 3, 9),
                     gen_rng_below(&p->rng, GEN_CAMPAIGN_COUNT), 0.25);
    if (gen_rng_chance(&p->rng, 0.2)) {
        gen_wait_about(p, 5 * DAY_MS, 1 * HOUR_MS);
        gen_content_webinar(m, p, NULL, 0.3);
    }
}

static void run_evaluator(gen_model_t *m, gen_person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 2, 4), GEN_INTENT_MID, 6);
    gen_wait_about(p, 2 * DAY_MS, 10 * MINUTE_MS);
    gen_content_gated_download(m, p, p->anon_id,
                               gen_content_pick_asset(&p->rng, gen_rng_chance(&p->rng, 0.5)));
    int downloads = 1 + (int)gen_rng_below(&p->rng, 3);
    for (int i = 0; i < downloads; i++) {
        gen_wait_about(p, 2 * DAY_MS, 1 * HOUR_MS);
        gen_content_download(m, p, gen_content_pick_asset(&p->rng, true), p->anon_id, NULL);
    }
    if (gen_rng_chance(&p->rng, 0.7)) {
        gen_wait_about(p, 3 * DAY_MS, 1 * HOUR_MS);
        gen_content_webinar(m, p, p->anon_id, 0.8);
    }
    int sessions = 2 + (int)gen_rng_below(&p->rng, 4);
    for (int s = 0; s < sessions; s++) {
        gen_wait_about(p, 2 * DAY_MS, 30 * MINUTE_MS);
        gen_site_session(m, p, p->anon_id, GEN_INTENT_HIGH, 2 + (int)gen_rng_below(&p->rng, 5),
                         NULL, NULL);
    }
    gen_email_series(m, p, (int)gen_rng_range(&p->rng, 2, 5), 4, 0.7);
    if (gen_rng_chance(&p->rng, 0.25)) {
        gen_wait_about(p, 2 * DAY_MS, 30 * MINUTE_MS);
        hand_raise(m, p, p->anon_id);
    }
}

static void run_hand_raiser(gen_model_t *m, gen_person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 1, 2), GEN_INTENT_HIGH, 5);
    gen_wait_about(p, 1 * DAY_MS, 5 * MINUTE_MS);
    hand_raise(m, p, p->anon_id);
}

int64_t gen_persona_run(gen_model_t *m, uint32_t index)
{
    gen_person_t p;
    memset(&p, 0, sizeof(p));
    p.index = index;
    gen_rng_seed(&p.rng, m->opts.seed, GEN_RNG_PERSON, index);
    persona_t persona = (persona_t)gen_pick_weighted(&p.rng, persona_weights, P__COUNT);
    p.geo = gen_account_pick_geo(&p.rng);
    p.title_index = -1;

    bool known = persona >= P_NEWSLETTER;
    if (persona != P_CRM)
        p.anon_id = gen_model_uuid(m, &p.rng);
    if (known) {
        p.contact_id = gen_model_hex_id(m, &p.rng, "c-");
        gen_person_make_traits(m, &p);
    }

    switch (persona) {
    case P_BROWSER:
        run_browser(m, &p, GEN_INTENT_LOW);
        break;
    case P_JOB_SEEKER:
        run_browser(m, &p, GEN_INTENT_JOBS);
        break;
    case P_NEWSLETTER:
        run_newsletter(m, &p);
        break;
    case P_RESEARCHER:
        run_researcher(m, &p);
        break;
    case P_CRM:
        run_crm(m, &p);
        break;
    case P_EVALUATOR:
        run_evaluator(m, &p);
        break;
    case P_HAND_RAISER:
        run_hand_raiser(m, &p);
        break;
    case P__COUNT:
        break;
    }
    if (known) {
        if (gen_rng_chance(&p.rng, 0.1)) {
            gen_wait_about(&p, 10 * DAY_MS, 1 * DAY_MS);
            gen_person_traits_update(m, &p);
        }
        if (gen_rng_chance(&p.rng, 0.005)) {
            gen_wait_about(&p, 3 * DAY_MS, 1 * HOUR_MS);
            gen_person_duplicate_and_merge(m, &p);
        }
        m->stats.identified++;
    }
    m->stats.people++;
    return p.t_ms;
}
