/* The sales team's follow-up of a hand-raiser: rejection (students, competitors,
 * bad fits) or acceptance, touches, a meeting, an opportunity, won or lost; on the
 * account too when the contact's account is known.  A won account has the core
 * product, and its champion may then look at the next one. */
#include <stdbool.h>

#include "internal.h"

static const char *const reject_reasons[] = {"not a fit", "no budget", "bad timing",
                                             "wrong contact", "duplicate"};
#define REJECT_REASON_COUNT (sizeof(reject_reasons) / sizeof(reject_reasons[0]))

static const char *const lost_reasons[] = {"price", "chose competitor", "no decision", "timing"};
#define LOST_REASON_COUNT (sizeof(lost_reasons) / sizeof(lost_reasons[0]))

static const char *const touch_channels[] = {"call", "email", "linkedin", "email", "call"};
#define TOUCH_CHANNEL_COUNT (sizeof(touch_channels) / sizeof(touch_channels[0]))

#define SALES_REP_COUNT 12

/* A sales activity on the contact, or on their account (@type). */
static gen_record_t *sales(gen_model_t *m, gen_person_t *p, hf_entity_type_t type,
                           hf_sales_action_t action, const char *owner)
{
    gen_record_t *r = gen_model_emit(m, p, HF_EV_SALES, "salesforce");
    r->ev.entity_type = type;
    r->ev.entity_id = type == HF_ENTITY_ACCOUNT ? p->traits.account_id : p->contact_id;
    r->ev.owner_id = owner;
    r->ev.sales_action = action;
    return r;
}

/* The plan a won deal buys (SalesActivity.product), and the product a customer's
 * people look at next: expansion.products of the sample rules (config/handoff.yaml). */
#define CORE_PRODUCT "lead_scoring"
static const char next_product_page[] = GEN_SITE "/product/account-insights";
static const char next_product_asset[] = "eb-abm-starter";

/* After the win, the champion often explores the next product: two sessions that
 * start on its page, and its ebook. */
static void explore_next_product(gen_model_t *m, gen_person_t *p)
{
    if (!p->anon_id || !gen_rng_chance(&p->rng, 0.6))
        return;
    const gen_page_t entry = {GEN_PAGE_PRODUCT, next_product_page, "Account insights"};
    for (int i = 0; i < 2; i++) {
        gen_wait_between(p, 1 * DAY_MS, 6 * DAY_MS);
        gen_site_session(m, p, p->anon_id, GEN_INTENT_HIGH, 2, &entry, NULL);
    }
    const gen_asset_t *a = gen_content_asset(next_product_asset);
    if (a)
        gen_content_download(m, p, a, p->anon_id, NULL);
}

void gen_sales_follow_up(gen_model_t *m, gen_person_t *p)
{
    const char *owner =
        gen_model_printf(m, "rep-%02u", 1 + gen_rng_below(&p->rng, SALES_REP_COUNT));
    bool account_known = p->traits.account_id != NULL;
    gen_wait_between(p, 10 * MINUTE_MS, 8 * HOUR_MS);
    if (p->student || p->competitor || gen_rng_chance(&p->rng, 0.1)) {
        gen_record_t *r = sales(m, p, HF_ENTITY_CONTACT, HF_SALES_REJECTED, owner);
        r->ev.reason = p->student ? "student"
                       : p->competitor
                           ? "competitor"
                           : reject_reasons[gen_rng_below(&p->rng, REJECT_REASON_COUNT)];
        if (!p->student && !p->competitor && gen_rng_chance(&p->rng, 0.4)) {
            gen_wait_between(p, 1 * HOUR_MS, 2 * DAY_MS);
            sales(m, p, HF_ENTITY_CONTACT, HF_SALES_RECYCLED, owner)->ev.reason = "nurture";
        }
        return;
    }
    sales(m, p, HF_ENTITY_CONTACT, HF_SALES_ACCEPTED, owner);
    int touches = 1 + (int)gen_rng_below(&p->rng, 3);
    for (int i = 0; i < touches; i++) {
        gen_wait_about(p, i == 0 ? 3 * HOUR_MS : 1 * DAY_MS, 5 * MINUTE_MS);
        sales(m, p, HF_ENTITY_CONTACT, HF_SALES_CONTACTED, owner)->ev.channel =
            touch_channels[gen_rng_below(&p->rng, TOUCH_CHANNEL_COUNT)];
    }
    if (!gen_rng_chance(&p->rng, 0.6)) {
        if (gen_rng_chance(&p->rng, 0.3)) {
            gen_wait_between(p, 1 * DAY_MS, 7 * DAY_MS);
            sales(m, p, HF_ENTITY_CONTACT, HF_SALES_DISQUALIFIED, owner)->ev.reason =
                "no project this year";
        }
        return;
    }
    gen_wait_between(p, 1 * DAY_MS, 5 * DAY_MS);
    sales(m, p, HF_ENTITY_CONTACT, HF_SALES_MEETING_BOOKED, owner)->ev.channel = "meeting";
    if (!gen_rng_chance(&p->rng, 0.5))
        return;
    gen_wait_between(p, 3 * DAY_MS, 14 * DAY_MS);
    sales(m, p, HF_ENTITY_CONTACT, HF_SALES_OPPORTUNITY_CREATED, owner);
    if (account_known)
        sales(m, p, HF_ENTITY_ACCOUNT, HF_SALES_OPPORTUNITY_CREATED, owner);
    gen_wait_between(p, 10 * DAY_MS, 40 * DAY_MS);
    double x = gen_rng_unit(&p->rng);
    if (x < 0.35) {
        sales(m, p, HF_ENTITY_CONTACT, HF_SALES_WON, owner);
        if (account_known) {
            sales(m, p, HF_ENTITY_ACCOUNT, HF_SALES_WON, owner)->ev.product = CORE_PRODUCT;
            explore_next_product(m, p);
        }
    } else if (x < 0.75) {
        const char *why = lost_reasons[gen_rng_below(&p->rng, LOST_REASON_COUNT)];
        sales(m, p, HF_ENTITY_CONTACT, HF_SALES_LOST, owner)->ev.reason = why;
        if (account_known)
            sales(m, p, HF_ENTITY_ACCOUNT, HF_SALES_LOST, owner)->ev.reason = why;
    }
}
