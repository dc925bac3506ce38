/* The vendor's e-mail campaigns: what a known contact does with each e-mail
 * (opens, clicks through to the site, bounces, unsubscribes, reports spam). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

typedef struct campaign {
    const char *name;
    gen_page_kind_t link_kind; /* where its links lead */
} campaign_t;

/* The campaigns, GEN_CAMPAIGN_NEWSLETTER first. */
static const campaign_t campaigns[] = {
    {"newsletter-monthly", GEN_PAGE_BLOG},
    {"nurture-lead-scoring", GEN_PAGE_PRODUCT},
    {"nurture-revops", GEN_PAGE_BLOG},
    {"webinar-invite", GEN_PAGE_WEBINARS},
    {"product-launch-sla-tracking", GEN_PAGE_PRODUCT},
    {"customer-stories", GEN_PAGE_CUSTOMERS},
    {"pricing-update", GEN_PAGE_PRICING},
};
_Static_assert(sizeof(campaigns) / sizeof(campaigns[0]) == GEN_CAMPAIGN_COUNT,
               "GEN_CAMPAIGN_COUNT counts the table");

const char *gen_email_campaign_name(size_t campaign)
{
    assert(campaign < GEN_CAMPAIGN_COUNT);
    return campaigns[campaign].name;
}

gen_record_t *gen_email_event(gen_model_t *m, gen_person_t *p, const char *contact_id,
                              const char *email_id, const char *campaign, hf_email_action_t action)
{
    gen_record_t *r = gen_model_emit(m, p, HF_EV_EMAIL, "marketo");
    r->ev.contact_id = contact_id;
    r->ev.email_id = email_id;
    r->ev.campaign = campaign;
    r->ev.email_action = action;
    return r;
}

/* The contact known on a new browser @anon (an e-mail link's tracking token). */
static void identify(gen_model_t *m, gen_person_t *p, const char *anon, const char *source)
{
    gen_record_t *r = gen_model_emit(m, p, HF_EV_IDENTITY, source);
    r->ev.identity_kind = HF_IDENTITY_IDENTIFY;
    r->ev.contact_id = p->contact_id;
    r->ev.anonymous_id = anon;
    p->t_ms += gen_rng_range(&p->rng, 1 * SECOND_MS, 5 * SECOND_MS);
}

/* One e-mail of @c to a known contact and what they did with it.  @interest raises
 * open and click rates.  Returns false once they unsubscribed. */
static bool email(gen_model_t *m, gen_person_t *p, const campaign_t *c, double interest)
{
    const char *email_id = gen_model_hex_id(m, &p->rng, "em-");
    gen_email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_DELIVERED);
    if (gen_rng_chance(&p->rng, 0.015)) {
        p->t_ms += gen_rng_range(&p->rng, 1 * SECOND_MS, 10 * SECOND_MS);
        gen_email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_BOUNCED);
        return true;
    }
    if (!gen_rng_chance(&p->rng, 0.25 + 0.3 * interest)) {
        if (gen_rng_chance(&p->rng, 0.001)) {
            gen_wait_about(p, 1 * DAY_MS, 10 * MINUTE_MS);
            gen_email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_SPAM_REPORTED);
            return false;
        }
        return true;
    }
    gen_wait_about(p, 8 * HOUR_MS, 2 * MINUTE_MS);
    gen_email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_OPENED);
    p->t_ms += gen_rng_range(&p->rng, 5 * SECOND_MS, 3 * MINUTE_MS);
    if (gen_rng_chance(&p->rng, 0.012)) {
        gen_email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_UNSUBSCRIBED);
        return false;
    }
    if (!gen_rng_chance(&p->rng, 0.12 + 0.3 * interest))
        return true;
    const gen_page_t *target = gen_site_page_of_kind(&p->rng, c->link_kind);
    gen_record_t *r = gen_email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_CLICKED);
    r->ev.link_url = gen_model_printf(m, "%s?utm_source=marketo&utm_medium=email&utm_campaign=%s",
                                      target->url, c->name);
    p->t_ms += gen_rng_range(&p->rng, 1 * SECOND_MS, 4 * SECOND_MS);
    /* The click lands on the site: on the known browser, or on a new device that
     * the e-mail link's tracking token identifies. */
    const char *anon = p->anon_id;
    if (!anon || gen_rng_chance(&p->rng, 0.3)) {
        anon = gen_model_uuid(m, &p->rng);
        identify(m, p, anon, "marketo");
        if (!p->anon_id)
            p->anon_id = anon;
    }
    gen_traffic_t tr = {NULL, "marketo", "email", c->name, 1};
    gen_site_session(m, p, anon, interest > 0.5 ? GEN_INTENT_HIGH : GEN_INTENT_MID,
                     1 + (int)gen_rng_below(&p->rng, 3), target, &tr);
    return true;
}

void gen_email_series(gen_model_t *m, gen_person_t *p, int count, size_t first_campaign,
                      double interest)
{
    for (int i = 0; i < count; i++) {
        gen_wait_about(p, 6 * DAY_MS, 12 * HOUR_MS);
        const campaign_t *c = &campaigns[(first_campaign + (size_t)i) % GEN_CAMPAIGN_COUNT];
        if (!email(m, p, c, interest))
            return;
    }
}
