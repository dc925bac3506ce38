/* The vendor's web site: its pages and where visitors come from; page views by
 * session, and the forms that make a visitor known. */
#include <stdint.h>

#include "internal.h"

static const gen_page_t pages[] = {
    {GEN_PAGE_HOME, GEN_SITE "/",
     "PipelinePilot - turn marketing signals into sales conversations"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/what-is-an-mql", "What is an MQL, really?"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/lead-scoring-mistakes",
     "7 lead scoring mistakes we see every week"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/speed-to-lead",
     "Speed to lead: why the first five minutes matter"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/revops-org-design", "How to design a RevOps team"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/intent-data-guide", "A practical guide to intent data"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/sales-marketing-sla", "Writing a sales and marketing SLA"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/buying-groups", "Buying groups are the new lead"},
    {GEN_PAGE_BLOG, GEN_SITE "/blog/churn-signals", "Five product signals that predict churn"},
    {GEN_PAGE_PRODUCT, GEN_SITE "/product", "Product overview"},
    {GEN_PAGE_PRODUCT, GEN_SITE "/product/lead-scoring", "Lead scoring"},
    {GEN_PAGE_PRODUCT, GEN_SITE "/product/lead-routing", "Lead routing"},
    {GEN_PAGE_PRODUCT, GEN_SITE "/product/sla-tracking", "SLA tracking"},
    {GEN_PAGE_PRODUCT, GEN_SITE "/product/account-insights", "Account insights"},
    {GEN_PAGE_INTEGRATIONS, GEN_SITE "/integrations/salesforce", "Salesforce integration"},
    {GEN_PAGE_INTEGRATIONS, GEN_SITE "/integrations/hubspot", "HubSpot integration"},
    {GEN_PAGE_INTEGRATIONS, GEN_SITE "/integrations/slack", "Slack alerts"},
    {GEN_PAGE_PRICING, GEN_SITE "/pricing", "Pricing"},
    {GEN_PAGE_PRICING, GEN_SITE "/pricing/enterprise", "Enterprise plan"},
    {GEN_PAGE_CUSTOMERS, GEN_SITE "/customers", "Customers"},
    {GEN_PAGE_CUSTOMERS, GEN_SITE "/customers/northwind-traders", "Northwind Traders case study"},
    {GEN_PAGE_CUSTOMERS, GEN_SITE "/customers/globex", "Globex case study"},
    {GEN_PAGE_COMPARE, GEN_SITE "/compare/spreadsheet-lead-scoring",
     "PipelinePilot vs. spreadsheets"},
    {GEN_PAGE_COMPARE, GEN_SITE "/compare/rivalrevenue", "PipelinePilot vs. RivalRevenue"},
    {GEN_PAGE_DOCS, GEN_SITE "/docs/getting-started", "Docs: getting started"},
    {GEN_PAGE_DOCS, GEN_SITE "/docs/scoring-rules", "Docs: scoring rules"},
    {GEN_PAGE_DOCS, GEN_SITE "/docs/api", "API reference"},
    {GEN_PAGE_CAREERS, GEN_SITE "/careers", "Careers"},
    {GEN_PAGE_CAREERS, GEN_SITE "/careers/senior-backend-engineer", "Senior Backend Engineer"},
    {GEN_PAGE_CAREERS, GEN_SITE "/careers/account-executive-emea", "Account Executive, EMEA"},
    {GEN_PAGE_RESOURCES, GEN_SITE "/resources", "Resources"},
    {GEN_PAGE_WEBINARS, GEN_SITE "/webinars", "Webinars"},
};
#define PAGE_COUNT (sizeof(pages) / sizeof(pages[0]))

/* The hand-raisers' pages (persona.c). */
const gen_page_t gen_site_demo_page = {GEN_PAGE_PRICING, GEN_SITE "/demo", "Book a demo"};
const gen_page_t gen_site_contact_sales_page = {GEN_PAGE_PRICING, GEN_SITE "/contact-sales",
                                                "Talk to sales"};

/* How much each kind of page attracts a visitor, by how far along they are. */
static const uint16_t page_weights[GEN_INTENT__COUNT][GEN_PAGE__COUNT] = {
    /*             home blog prod integ price cust comp docs careers res webinars */
    [GEN_INTENT_LOW] = {20, 45, 8, 2, 4, 3, 1, 8, 5, 3, 1},
    [GEN_INTENT_MID] = {8, 25, 20, 8, 10, 8, 3, 6, 1, 8, 3},
    [GEN_INTENT_HIGH] = {4, 6, 22, 14, 24, 12, 8, 6, 0, 2, 2},
    [GEN_INTENT_JOBS] = {15, 10, 5, 0, 1, 3, 0, 2, 64, 0, 0},
};

/* Seconds a visitor typically stays on a page of each kind. */
static const uint16_t dwell_s[GEN_PAGE__COUNT] = {20, 150, 70, 50, 90, 110, 80, 120, 60, 30, 40};

/* Where sessions come from, by weight. */
static const gen_traffic_t traffic_sources[] = {
    {"https://www.google.com/", NULL, NULL, NULL, 34},
    {NULL, NULL, NULL, NULL, 22},
    {"https://www.linkedin.com/", "linkedin", "paid_social", "revops-leaders-q3", 10},
    {"https://www.google.com/", "google", "cpc", "brand-search", 8},
    {"https://www.google.com/", "google", "cpc", "lead-scoring-software", 6},
    {"https://www.g2.com/categories/lead-management", "g2", "referral", NULL, 6},
    {"https://www.bing.com/", NULL, NULL, NULL, 5},
    {"https://news.ycombinator.com/", NULL, NULL, NULL, 3},
    {"https://www.capterra.com/", "capterra", "cpc", "lead-scoring", 3},
    {NULL, "partner", "referral", "hubspot-app-marketplace", 3},
};
#define TRAFFIC_COUNT (sizeof(traffic_sources) / sizeof(traffic_sources[0]))

const gen_page_t *gen_site_page_of_kind(gen_rng_t *r, gen_page_kind_t kind)
{
    size_t count = 0;
    for (size_t i = 0; i < PAGE_COUNT; i++)
        count += pages[i].kind == kind;
    uint32_t nth = gen_rng_below(r, (uint32_t)count);
    for (size_t i = 0; i < PAGE_COUNT; i++)
        if (pages[i].kind == kind && nth-- == 0)
            return &pages[i];
    return &pages[0];
}

/* The next page a visitor with @intent opens. */
static const gen_page_t *pick_page(gen_rng_t *r, gen_intent_t intent)
{
    return gen_site_page_of_kind(
        r, (gen_page_kind_t)gen_pick_weighted(r, page_weights[intent], GEN_PAGE__COUNT));
}

void gen_site_session(gen_model_t *m, gen_person_t *p, const char *anon, gen_intent_t intent,
                      int pages_n, const gen_page_t *entry, const gen_traffic_t *tr)
{
    if (!tr) {
        size_t k;
        GEN_PICK_WEIGHTED_FIELD(&p->rng, traffic_sources, TRAFFIC_COUNT, k);
        tr = &traffic_sources[k];
    }
    const char *session = gen_model_hex_id(m, &p->rng, "s-");
    const char *previous_url = tr->referrer;
    for (int i = 0; i < pages_n; i++) {
        const gen_page_t *pg = i == 0 && entry ? entry : pick_page(&p->rng, intent);
        gen_record_t *r = gen_model_emit(m, p, HF_EV_WEB_VISIT, "web");
        r->ev.anonymous_id = anon;
        r->ev.contact_id = p->known ? p->contact_id : NULL;
        r->ev.session_id = session;
        r->ev.url = pg->url;
        r->ev.title = pg->title;
        r->ev.referrer = previous_url;
        if (i == 0) {
            r->ev.utm_source = tr->utm_source;
            r->ev.utm_medium = tr->utm_medium;
            r->ev.utm_campaign = tr->utm_campaign;
        }
        int64_t dwell_ms = (int64_t)gen_rng_exp(&p->rng, dwell_s[pg->kind] * 1000.0) + 3000;
        if (dwell_ms > 30 * MINUTE_MS)
            dwell_ms = 30 * MINUTE_MS;
        r->ev.duration_ms = (int32_t)dwell_ms;
        r->ev.country = p->geo->country;
        previous_url = pg->url;
        p->t_ms += dwell_ms + gen_rng_range(&p->rng, 1 * SECOND_MS, 20 * SECOND_MS);
    }
}

void gen_site_form(gen_model_t *m, gen_person_t *p, const char *anon, hf_form_type_t type,
                   const char *form_id, const char *url)
{
    gen_record_t *r = gen_model_emit(m, p, HF_EV_FORM, "web");
    r->ev.anonymous_id = anon;
    r->ev.contact_id = p->contact_id;
    r->ev.form_id = form_id;
    r->ev.form_type = type;
    r->ev.url = url;
    r->ev.traits = p->traits;
    r->hand_raiser = type == HF_FORM_DEMO_REQUEST || type == HF_FORM_CONTACT_SALES;
    p->known = true;
    p->t_ms += gen_rng_range(&p->rng, 2 * SECOND_MS, 30 * SECOND_MS);
}
