/* The sample-traffic model of hf-gen; see gen_model.h.
 *
 * A fictional B2B SaaS vendor ("PipelinePilot") and its market: a web site, gated
 * content, webinars, e-mail campaigns, a CRM and a sales team.  The catalogues
 * below are declarative tables; the persona scripts further down walk a person
 * through them with their own random stream.
 *
 * Allocation failures are sticky: an out-of-memory arena or record vector sets
 * m->oom and hands out a scratch slot, so the scripts stay free of error checks;
 * gen_model_next_batch() reports -ENOMEM at the end of the batch. */
#include "gen_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_rng.h"

#define SITE "https://www.pipelinepilot.example"

#define SECOND_MS 1000LL
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

#define ARENA_BLOCK_BYTES (256 * 1024)

/* Random-stream domains: persons, accounts and the account walk never share one. */
enum { RNG_PERSON = 1, RNG_ACCOUNT, RNG_WALK, RNG_PLACE };

/* ---- catalogues -------------------------------------------------------------- */

typedef enum page_kind {
    PG_HOME = 0,
    PG_BLOG,
    PG_PRODUCT,
    PG_INTEGRATIONS,
    PG_PRICING,
    PG_CUSTOMERS,
    PG_COMPARE,
    PG_DOCS,
    PG_CAREERS,
    PG_RESOURCES,
    PG_WEBINARS,
    PG__COUNT
} page_kind_t;

typedef struct page {
    page_kind_t kind;
    const char *url;
    const char *title;
} page_t;

static const page_t pages[] = {
    {PG_HOME, SITE "/", "PipelinePilot - turn marketing signals into sales conversations"},
    {PG_BLOG, SITE "/blog/what-is-an-mql", "What is an MQL, really?"},
    {PG_BLOG, SITE "/blog/lead-scoring-mistakes", "7 lead scoring mistakes we see every week"},
    {PG_BLOG, SITE "/blog/speed-to-lead", "Speed to lead: why the first five minutes matter"},
    {PG_BLOG, SITE "/blog/revops-org-design", "How to design a RevOps team"},
    {PG_BLOG, SITE "/blog/intent-data-guide", "A practical guide to intent data"},
    {PG_BLOG, SITE "/blog/sales-marketing-sla", "Writing a sales and marketing SLA"},
    {PG_BLOG, SITE "/blog/buying-groups", "Buying groups are the new lead"},
    {PG_BLOG, SITE "/blog/churn-signals", "Five product signals that predict churn"},
    {PG_PRODUCT, SITE "/product", "Product overview"},
    {PG_PRODUCT, SITE "/product/lead-scoring", "Lead scoring"},
    {PG_PRODUCT, SITE "/product/lead-routing", "Lead routing"},
    {PG_PRODUCT, SITE "/product/sla-tracking", "SLA tracking"},
    {PG_PRODUCT, SITE "/product/account-insights", "Account insights"},
    {PG_INTEGRATIONS, SITE "/integrations/salesforce", "Salesforce integration"},
    {PG_INTEGRATIONS, SITE "/integrations/hubspot", "HubSpot integration"},
    {PG_INTEGRATIONS, SITE "/integrations/slack", "Slack alerts"},
    {PG_PRICING, SITE "/pricing", "Pricing"},
    {PG_PRICING, SITE "/pricing/enterprise", "Enterprise plan"},
    {PG_CUSTOMERS, SITE "/customers", "Customers"},
    {PG_CUSTOMERS, SITE "/customers/northwind-traders", "Northwind Traders case study"},
    {PG_CUSTOMERS, SITE "/customers/globex", "Globex case study"},
    {PG_COMPARE, SITE "/compare/spreadsheet-lead-scoring", "PipelinePilot vs. spreadsheets"},
    {PG_COMPARE, SITE "/compare/rivalrevenue", "PipelinePilot vs. RivalRevenue"},
    {PG_DOCS, SITE "/docs/getting-started", "Docs: getting started"},
    {PG_DOCS, SITE "/docs/scoring-rules", "Docs: scoring rules"},
    {PG_DOCS, SITE "/docs/api", "API reference"},
    {PG_CAREERS, SITE "/careers", "Careers"},
    {PG_CAREERS, SITE "/careers/senior-backend-engineer", "Senior Backend Engineer"},
    {PG_CAREERS, SITE "/careers/account-executive-emea", "Account Executive, EMEA"},
    {PG_RESOURCES, SITE "/resources", "Resources"},
    {PG_WEBINARS, SITE "/webinars", "Webinars"},
};
#define PAGE_COUNT (sizeof(pages) / sizeof(pages[0]))

static const page_t demo_page = {PG_PRICING, SITE "/demo", "Book a demo"};
static const page_t contact_sales_page = {PG_PRICING, SITE "/contact-sales", "Talk to sales"};

/* How much each kind of page attracts a visitor, by how far along they are. */
typedef enum intent {
    INTENT_LOW = 0, /* curious, reading */
    INTENT_MID,     /* researching a problem */
    INTENT_HIGH,    /* evaluating vendors */
    INTENT_JOBS,    /* looking for a job, not for software */
    INTENT__COUNT
} intent_t;

static const uint16_t page_weights[INTENT__COUNT][PG__COUNT] = {
    /*             home blog prod integ price cust comp docs careers res webinars */
    [INTENT_LOW] = {20, 45, 8, 2, 4, 3, 1, 8, 5, 3, 1},
    [INTENT_MID] = {8, 25, 20, 8, 10, 8, 3, 6, 1, 8, 3},
    [INTENT_HIGH] = {4, 6, 22, 14, 24, 12, 8, 6, 0, 2, 2},
    [INTENT_JOBS] = {15, 10, 5, 0, 1, 3, 0, 2, 64, 0, 0},
};

/* Seconds a visitor typically stays on a page of each kind. */
static const uint16_t dwell_s[PG__COUNT] = {20, 150, 70, 50, 90, 110, 80, 120, 60, 30, 40};

typedef struct traffic {
    const char *referrer;
    const char *utm_source;
    const char *utm_medium;
    const char *utm_campaign;
    uint16_t weight;
} traffic_t;

static const traffic_t traffic_sources[] = {
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

typedef struct asset {
    const char *id;
    const char *title;
    const char *type;
    const char *url;
    const char *tags[3];
    size_t tag_count;
} asset_t;

static const asset_t assets[] = {
    {"wp-revops-playbook",
     "The RevOps Playbook",
     "whitepaper",
     SITE "/resources/revops-playbook",
     {"revops", "alignment"},
     2},
    {"wp-lead-scoring-guide",
     "The Definitive Guide to Lead Scoring",
     "whitepaper",
     SITE "/resources/lead-scoring-guide",
     {"lead scoring", "mql"},
     2},
    {"eb-speed-to-lead",
     "Speed to Lead: The Five-Minute Rule",
     "ebook",
     SITE "/resources/speed-to-lead",
     {"speed to lead", "sla"},
     2},
    {"eb-abm-starter",
     "ABM Starter Kit",
     "ebook",
     SITE "/resources/abm-starter-kit",
     {"abm", "buying group"},
     2},
    {"eb-intent-data",
     "Intent Data Explained",
     "ebook",
     SITE "/resources/intent-data",
     {"intent", "data"},
     2},
    {"cs-northwind",
     "How Northwind Traders cut lead response time by 60%",
     "case_study",
     SITE "/customers/northwind-traders",
     {"speed to lead", "sla", "logistics"},
     3},
    {"cs-globex",
     "Globex doubles MQL-to-SQL conversion",
     "case_study",
     SITE "/customers/globex",
     {"conversion", "mql"},
     2},
    {"cs-initech",
     "Initech aligns 40 reps on one lead definition",
     "case_study",
     SITE "/customers/initech",
     {"alignment", "revops"},
     2},
    {"ds-platform",
     "PipelinePilot platform datasheet",
     "datasheet",
     SITE "/resources/datasheet",
     {"product"},
     1},
    {"ds-security",
     "Security and compliance datasheet",
     "datasheet",
     SITE "/resources/security",
     {"security", "product"},
     2},
    {"vid-product-tour",
     "Five-minute product tour",
     "video",
     SITE "/resources/product-tour",
     {"product", "demo"},
     2},
    {"rp-benchmark-2024",
     "2024 Lead Response Benchmark Report",
     "report",
     SITE "/resources/benchmark-2024",
     {"benchmark", "speed to lead"},
     2},
};
#define ASSET_COUNT (sizeof(assets) / sizeof(assets[0]))
/* Index ranges of the table above by what evaluators and researchers reach for. */
#define ASSET_FIRST_EDUCATIONAL 0
#define ASSET_EDUCATIONAL_COUNT 5
#define ASSET_FIRST_EVALUATION 5
#define ASSET_EVALUATION_COUNT 6

typedef struct webinar {
    const char *id;
    const char *title;
    const char *url;
} webinar_t;

static const webinar_t webinars[] = {
    {"wb-revops-alignment", "Marketing and sales alignment that survives the quarter",
     SITE "/webinars/revops-alignment"},
    {"wb-lead-scoring-lab", "Lead scoring lab: from MQL to conversation",
     SITE "/webinars/lead-scoring-lab"},
    {"wb-speed-to-lead", "Speed to lead: SLAs that sales actually keep",
     SITE "/webinars/speed-to-lead"},
    {"wb-product-tour-live", "Live product tour and Q&A", SITE "/webinars/product-tour-live"},
    {"wb-abm-playbook", "The ABM playbook for mid-market teams", SITE "/webinars/abm-playbook"},
    {"wb-pipeline-forecasting", "Pipeline forecasting for RevOps",
     SITE "/webinars/pipeline-forecasting"},
};
#define WEBINAR_COUNT (sizeof(webinars) / sizeof(webinars[0]))

typedef struct campaign {
    const char *name;
    page_kind_t link_kind; /* where its links lead */
} campaign_t;

static const campaign_t campaigns[] = {
    {"newsletter-monthly", PG_BLOG},
    {"nurture-lead-scoring", PG_PRODUCT},
    {"nurture-revops", PG_BLOG},
    {"webinar-invite", PG_WEBINARS},
    {"product-launch-sla-tracking", PG_PRODUCT},
    {"customer-stories", PG_CUSTOMERS},
    {"pricing-update", PG_PRICING},
};
#define CAMPAIGN_COUNT (sizeof(campaigns) / sizeof(campaigns[0]))
#define CAMPAIGN_NEWSLETTER 0

typedef struct job_title {
    const char *title;
    const char *seniority;
    const char *department;
    uint16_t weight;
    int8_t promoted_to; /* index of the next title up, or -1 */
} job_title_t;

static const job_title_t job_titles[] = {
    {"VP Marketing", "vp", "marketing", 4, 3},
    {"VP Sales", "vp", "sales", 3, 2},
    {"Chief Revenue Officer", "executive", "sales", 1, -1},
    {"Chief Marketing Officer", "executive", "marketing", 1, -1},
    {"CFO", "executive", "finance", 1, -1},
    {"Head of RevOps", "director", "revops", 3, 2},
    {"Director of Demand Generation", "director", "marketing", 3, 0},
    {"Director of Sales Operations", "director", "revops", 2, 5},
    {"Marketing Operations Manager", "manager", "marketing", 5, 6},
    {"Demand Generation Manager", "manager", "marketing", 5, 6},
    {"Sales Manager", "manager", "sales", 3, 1},
    {"Account Executive", "individual_contributor", "sales", 4, 10},
    {"Sales Development Representative", "individual_contributor", "sales", 4, 11},
    {"Content Marketing Specialist", "individual_contributor", "marketing", 4, 9},
    {"Data Analyst", "individual_contributor", "analytics", 3, -1},
    {"Software Engineer", "individual_contributor", "engineering", 5, 18},
    {"IT Manager", "manager", "it", 2, -1},
    {"Product Manager", "manager", "product", 3, -1},
    {"Engineering Manager", "manager", "engineering", 2, 19},
    {"CTO", "executive", "engineering", 1, -1},
    {"Consultant", "individual_contributor", "consulting", 2, -1},
    {"Marketing Intern", "intern", "marketing", 1, 13},
};
#define JOB_TITLE_COUNT (sizeof(job_titles) / sizeof(job_titles[0]))

static const char *const industries[] = {
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Media",
    "Telecommunications",
    "Insurance",
    "Energy",
    "Professional Services",
    "Education",
};
#define INDUSTRY_COUNT (sizeof(industries) / sizeof(industries[0]))

typedef struct geo {
    const char *country; /* ISO 3166-1 alpha-2 */
    const char *region;
    uint16_t weight;
} geo_t;

static const geo_t geos[] = {
    {"US", "NA", 35},  {"CA", "NA", 5},   {"GB", "EMEA", 12}, {"DE", "EMEA", 9},  {"FR", "EMEA", 6},
    {"NL", "EMEA", 4}, {"SE", "EMEA", 2}, {"ES", "EMEA", 3},  {"IN", "APAC", 7},  {"AU", "APAC", 4},
    {"SG", "APAC", 2}, {"JP", "APAC", 3}, {"BR", "LATAM", 4}, {"MX", "LATAM", 2},
};
#define GEO_COUNT (sizeof(geos) / sizeof(geos[0]))

typedef struct employee_band {
    int32_t min, max;
    uint16_t weight;
} employee_band_t;

static const employee_band_t employee_bands[] = {
    {2, 10, 8}, {11, 50, 17}, {51, 200, 25}, {201, 1000, 25}, {1001, 5000, 15}, {5001, 60000, 10},
};
#define BAND_COUNT (sizeof(employee_bands) / sizeof(employee_bands[0]))

static const char *const first_names[] = {
    "Ava",    "Ben",    "Chloe", "Daniel", "Elena", "Farid",   "Grace",  "Hiro",
    "Isabel", "Jonas",  "Kavya", "Liam",   "Maya",  "Nikolai", "Olivia", "Priya",
    "Quinn",  "Rafael", "Sofia", "Tomas",  "Uma",   "Victor",  "Wei",    "Ximena",
    "Yusuf",  "Zoe",    "Amara", "Bruno",  "Carla", "Dmitri",  "Emma",   "Felix",
    "Hannah", "Ivan",   "Julia", "Kenji",  "Lucia", "Mateo",   "Nora",   "Omar",
};
#define FIRST_NAME_COUNT (sizeof(first_names) / sizeof(first_names[0]))

static const char *const last_names[] = {
    "Anderson", "Becker", "Chen",     "Dubois",    "Eriksson", "Fischer", "Garcia", "Haddad",
    "Ito",      "Jensen", "Kowalski", "Larsen",    "Martin",   "Nguyen",  "Okafor", "Patel",
    "Quintero", "Rossi",  "Schmidt",  "Tanaka",    "Urban",    "Varga",   "Weber",  "Xu",
    "Yilmaz",   "Zhang",  "Alvarez",  "Brennan",   "Costa",    "Dias",    "Evans",  "Fontaine",
    "Gupta",    "Horvat", "Iqbal",    "Jovanovic", "Kim",      "Lopez",   "Moreau", "Novak",
};
#define LAST_NAME_COUNT (sizeof(last_names) / sizeof(last_names[0]))

/* Company names: "<head> <tail>" with a distinct domain per account index. */
static const char *const name_heads[] = {
    "Acme",    "Northwind", "Globex",     "Initech",  "Umbrella",   "Stark",   "Wayne",
    "Bluefin", "Redwood",   "Silverline", "Ironclad", "Brightpath", "Cobalt",  "Evergreen",
    "Fjord",   "Granite",   "Helix",      "Juniper",  "Keystone",   "Lumen",   "Meridian",
    "Nimbus",  "Orchid",    "Pinnacle",   "Quartz",   "Riverbend",  "Summit",  "Tidewater",
    "Vertex",  "Willow",    "Zephyr",     "Aurora",   "Beacon",     "Cascade", "Driftwood",
    "Ember",   "Falcon",    "Harbor",     "Kestrel",  "Lighthouse",
};
#define NAME_HEAD_COUNT (sizeof(name_heads) / sizeof(name_heads[0]))

static const char *const name_tails[] = {
    "Corp",     "Analytics", "Logistics", "Health",    "Capital",    "Systems",  "Foods",
    "Robotics", "Insurance", "Energy",    "Media",     "Labs",       "Networks", "Retail",
    "Bank",     "Software",  "Telecom",   "Partners",  "Industries", "Cloud",    "Mobility",
    "Pharma",   "Security",  "Learning",  "Travel",    "Payments",   "Biotech",  "Studios",
    "Freight",  "Apparel",   "Insights",  "Dynamics",  "Materials",  "Group",    "Ventures",
    "Holdings", "Markets",   "Works",     "Solutions", "Data",
};
#define NAME_TAIL_COUNT (sizeof(name_tails) / sizeof(name_tails[0]))

static const char *const free_mail_domains[] = {"gmail.com", "outlook.com", "gmail.com",
                                                "yahoo.com"};
#define FREE_MAIL_COUNT (sizeof(free_mail_domains) / sizeof(free_mail_domains[0]))

static const char *const reject_reasons[] = {"not a fit", "no budget", "bad timing",
                                             "wrong contact", "duplicate"};
#define REJECT_REASON_COUNT (sizeof(reject_reasons) / sizeof(reject_reasons[0]))

static const char *const lost_reasons[] = {"price", "chose competitor", "no decision", "timing"};
#define LOST_REASON_COUNT (sizeof(lost_reasons) / sizeof(lost_reasons[0]))

static const char *const touch_channels[] = {"call", "email", "linkedin", "email", "call"};
#define TOUCH_CHANNEL_COUNT (sizeof(touch_channels) / sizeof(touch_channels[0]))

#define SALES_REP_COUNT 12

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

/* ---- storage ----------------------------------------------------------------- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t cap;
    char data[];
} arena_block_t;

/* An account: derived from (seed, index) alone, never stored between batches. */
typedef struct account {
    uint32_t index;
    char id[24];
    char name[64];
    char domain[80];
    const char *industry;
    int32_t employees;
    const geo_t *geo;
} account_t;

struct gen_model {
    gen_model_opts_t opts;
    uint32_t next_person;

    /* The account walk: known contacts fill account after account, 1-8 each. */
    gen_rng_t walk_rng;
    uint32_t walk_account;
    uint32_t walk_left;

    arena_block_t *arena_first;
    arena_block_t *arena_cur;

    gen_record_t *recs;
    size_t rec_count;
    size_t rec_cap;
    gen_record_t scratch;
    bool oom;

    gen_model_stats_t stats;
};

typedef struct person {
    uint32_t index;
    gen_rng_t rng;
    persona_t persona;
    int64_t t_ms; /* the journey's clock, relative to its first event */
    uint32_t seq;
    const geo_t *geo;
    const char *anon_id;    /* the first browser's cookie; NULL for CRM-only people */
    const char *contact_id; /* set once the person may become known */
    bool known;
    bool student;
    bool competitor;
    int title_index; /* into job_titles; -1 for students */
    account_t account;
    hf_traits_t traits;
} person_t;

static void *arena_alloc(gen_model_t *m, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    arena_block_t *b = m->arena_cur;
    while (b && b->used + n > b->cap)
        b = b->next;
    if (!b) {
        size_t cap = n > ARENA_BLOCK_BYTES ? n : ARENA_BLOCK_BYTES;
        b = malloc(sizeof(*b) + cap);
        if (!b) {
            m->oom = true;
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        /* Keep the chain in allocation order so a reset reuses every block. */
        if (m->arena_cur) {
            b->next = m->arena_cur->next;
            m->arena_cur->next = b;
        } else {
            b->next = NULL;
            m->arena_first = b;
        }
    }
    m->arena_cur = b;
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static void arena_reset(gen_model_t *m)
{
    for (arena_block_t *b = m->arena_first; b; b = b->next)
        b->used = 0;
    m->arena_cur = m->arena_first;
}

static const char *arena_printf(gen_model_t *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *arena_printf(gen_model_t *m, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return "";
    char *s = arena_alloc(m, (size_t)n + 1);
    if (!s)
        return "";
    if ((size_t)n < sizeof(small)) {
        memcpy(s, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

char *gen_model_strdup(gen_model_t *m, const char *src)
{
    size_t n = strlen(src);
    char *s = arena_alloc(m, n + 1);
    if (s)
        memcpy(s, src, n + 1);
    return s;
}

char *gen_model_filler(gen_model_t *m, size_t len, char c)
{
    char *s = arena_alloc(m, len + 1);
    if (s) {
        memset(s, c, len);
        s[len] = 0;
    }
    return s;
}

/* ---- random picks ------------------------------------------------------------- */

static size_t pick_weighted(gen_rng_t *r, const uint16_t *weights, size_t n)
{
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    uint32_t x = gen_rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}

#define PICK_WEIGHTED_FIELD(r, table, count, out)                                                  \
    do {                                                                                           \
        uint32_t total_ = 0;                                                                       \
        for (size_t i_ = 0; i_ < (count); i_++)                                                    \
            total_ += (table)[i_].weight;                                                          \
        uint32_t x_ = gen_rng_below((r), total_);                                                  \
        size_t k_ = 0;                                                                             \
        while (k_ + 1 < (count) && x_ >= (table)[k_].weight)                                       \
            x_ -= (table)[k_++].weight;                                                            \
        (out) = k_;                                                                                \
    } while (0)

static const geo_t *pick_geo(gen_rng_t *r)
{
    size_t k;
    PICK_WEIGHTED_FIELD(r, geos, GEO_COUNT, k);
    return &geos[k];
}

static const page_t *page_of_kind(gen_rng_t *r, page_kind_t kind)
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
static const page_t *pick_page(gen_rng_t *r, intent_t intent)
{
    return page_of_kind(r, (page_kind_t)pick_weighted(r, page_weights[intent], PG__COUNT));
}

/* A random identifier shaped like a UUID (trackers' event and cookie ids). */
static const char *random_uuid(gen_model_t *m, gen_rng_t *r)
{
    uint64_t a = gen_rng_next(r), b = gen_rng_next(r);
    return arena_printf(m, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
                        (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
                        (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
                        (unsigned long long)(b & 0xffffffffffffULL));
}

static const char *random_hex_id(gen_model_t *m, gen_rng_t *r, const char *prefix)
{
    return arena_printf(m, "%s%012llx", prefix,
                        (unsigned long long)(gen_rng_next(r) & 0xffffffffffffULL));
}

/* ---- accounts ------------------------------------------------------------------ */

static void slug_append(char *dst, size_t dstsz, const char *word)
{
    size_t n = strlen(dst);
    for (const char *c = word; *c && n + 1 < dstsz; c++) {
        char ch = *c;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        dst[n++] = ch == ' ' ? '-' : ch;
    }
    dst[n] = 0;
}

static void account_make(const gen_model_t *m, uint32_t index, account_t *a)
{
    gen_rng_t r;
    gen_rng_seed(&r, m->opts.seed, RNG_ACCOUNT, index);
    a->index = index;
    snprintf(a->id, sizeof(a->id), "acct-%08llx",
             (unsigned long long)(gen_rng_next(&r) & 0xffffffffULL));
    /* A bijection from index to (head, tail) keeps names distinct for the first
     * heads x tails accounts; later ones get a numbered subsidiary. */
    const uint32_t combos = (uint32_t)(NAME_HEAD_COUNT * NAME_TAIL_COUNT);
    uint32_t scrambled = (uint32_t)(((uint64_t)index * 7919u + (m->opts.seed % combos)) % combos);
    const char *head = name_heads[scrambled % NAME_HEAD_COUNT];
    const char *tail = name_tails[scrambled / NAME_HEAD_COUNT];
    uint32_t generation = index / combos;
    a->domain[0] = 0;
    slug_append(a->domain, sizeof(a->domain), head);
    slug_append(a->domain, sizeof(a->domain), "-");
    slug_append(a->domain, sizeof(a->domain), tail);
    if (generation) {
        snprintf(a->name, sizeof(a->name), "%s %s %u", head, tail, generation + 1);
        size_t n = strlen(a->domain);
        snprintf(a->domain + n, sizeof(a->domain) - n, "-%u", generation + 1);
    } else {
        snprintf(a->name, sizeof(a->name), "%s %s", head, tail);
    }
    size_t n = strlen(a->domain);
    snprintf(a->domain + n, sizeof(a->domain) - n, ".example");
    a->industry = industries[gen_rng_below(&r, INDUSTRY_COUNT)];
    size_t band;
    PICK_WEIGHTED_FIELD(&r, employee_bands, BAND_COUNT, band);
    a->employees = (int32_t)gen_rng_range(&r, employee_bands[band].min, employee_bands[band].max);
    a->geo = pick_geo(&r);
}

/* The account of the next known contact: accounts take 1-8 contacts each, in
 * order, starting over when every account has been visited. */
static uint32_t account_walk_next(gen_model_t *m)
{
    if (m->walk_left == 0) {
        m->walk_account = (m->walk_account + 1) % m->opts.accounts;
        m->walk_left = 1 + gen_rng_below(&m->walk_rng, 8);
    }
    m->walk_left--;
    return m->walk_account;
}

/* ---- records ------------------------------------------------------------------- */

static gen_record_t *emit(gen_model_t *m, person_t *p, hf_event_kind_t kind, const char *source)
{
    gen_record_t *r = &m->scratch;
    if (m->rec_count == m->rec_cap) {
        size_t cap = m->rec_cap ? m->rec_cap * 2 : 4096;
        gen_record_t *grown = realloc(m->recs, cap * sizeof(*grown));
        if (!grown)
            m->oom = true;
        else {
            m->recs = grown;
            m->rec_cap = cap;
        }
    }
    if (m->rec_count < m->rec_cap)
        r = &m->recs[m->rec_count++];
    memset(r, 0, sizeof(*r));
    r->ev.kind = kind;
    r->ev.event_id = random_uuid(m, &p->rng);
    r->ev.occurred_at_ms = p->t_ms;
    r->ev.source = source;
    r->person = p->index;
    r->seq = p->seq++;
    return r;
}

/* Moves the journey's clock on by about @mean_ms (exponential), at least @min_ms. */
static void wait_about(person_t *p, int64_t mean_ms, int64_t min_ms)
{
    int64_t d = (int64_t)gen_rng_exp(&p->rng, (double)mean_ms);
    p->t_ms += d < min_ms ? min_ms : d;
}

static void wait_between(person_t *p, int64_t lo_ms, int64_t hi_ms)
{
    p->t_ms += gen_rng_range(&p->rng, lo_ms, hi_ms);
}

/* ---- touches ---------------------------------------------------------------- */

/* One browsing session of @pages page views.  @entry: the landing page (NULL: by
 * intent); @tr: where the visitor came from (NULL: a random source). */
static void web_session(gen_model_t *m, person_t *p, const char *anon, intent_t intent, int pages_n,
                        const page_t *entry, const traffic_t *tr)
{
    if (!tr) {
        size_t k;
        PICK_WEIGHTED_FIELD(&p->rng, traffic_sources, TRAFFIC_COUNT, k);
        tr = &traffic_sources[k];
    }
    const char *session = random_hex_id(m, &p->rng, "s-");
    const char *previous_url = tr->referrer;
    for (int i = 0; i < pages_n; i++) {
        const page_t *pg = i == 0 && entry ? entry : pick_page(&p->rng, intent);
        gen_record_t *r = emit(m, p, HF_EV_WEB_VISIT, "web");
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

static void form(gen_model_t *m, person_t *p, const char *anon, hf_form_type_t type,
                 const char *form_id, const char *url)
{
    gen_record_t *r = emit(m, p, HF_EV_FORM, "web");
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

static void download(gen_model_t *m, person_t *p, const asset_t *a, const char *anon,
                     const char *campaign)
{
    gen_record_t *r = emit(m, p, HF_EV_DOWNLOAD, "marketo");
    r->ev.contact_id = p->contact_id;
    r->ev.anonymous_id = anon;
    r->ev.asset_id = a->id;
    r->ev.asset_title = a->title;
    r->ev.asset_type = a->type;
    r->ev.tags = a->tags;
    r->ev.tag_count = a->tag_count;
    r->ev.campaign = campaign;
    p->t_ms += gen_rng_range(&p->rng, 5 * SECOND_MS, 2 * MINUTE_MS);
}

/* Downloads a gated asset from the site: the form that identifies, then the file. */
static void gated_download(gen_model_t *m, person_t *p, const char *anon, const asset_t *a)
{
    form(m, p, anon, HF_FORM_CONTENT_GATE, arena_printf(m, "f-gate-%s", a->id), a->url);
    download(m, p, a, anon, gen_rng_chance(&p->rng, 0.4) ? "content-syndication-q3" : NULL);
}

static void webinar_event(gen_model_t *m, person_t *p, const webinar_t *w,
                          hf_webinar_action_t action, int32_t minutes, int32_t questions)
{
    gen_record_t *r = emit(m, p, HF_EV_WEBINAR, "zoom");
    r->ev.contact_id = p->contact_id;
    r->ev.webinar_id = w->id;
    r->ev.webinar_title = w->title;
    r->ev.webinar_action = action;
    r->ev.minutes_attended = minutes;
    r->ev.questions_asked = questions;
    r->ev.campaign = "webinar-series-2024";
}

/* Registration (through the site's form when @anon is set, else from an e-mail
 * invite) and what happened on the day.  @engaged raises attendance. */
static void webinar(gen_model_t *m, person_t *p, const char *anon, double engaged)
{
    const webinar_t *w = &webinars[gen_rng_below(&p->rng, WEBINAR_COUNT)];
    if (anon)
        form(m, p, anon, HF_FORM_WEBINAR_REGISTRATION, arena_printf(m, "f-register-%s", w->id),
             w->url);
    webinar_event(m, p, w, HF_WEBINAR_REGISTERED, 0, 0);
    wait_between(p, 2 * DAY_MS, 12 * DAY_MS);
    double x = gen_rng_unit(&p->rng);
    if (x < 0.45 + 0.35 * engaged) {
        int32_t minutes = (int32_t)gen_rng_range(&p->rng, 8, 25 + (int64_t)(35 * engaged));
        int32_t questions = gen_rng_chance(&p->rng, 0.2 + 0.5 * engaged)
                                ? (int32_t)gen_rng_range(&p->rng, 1, 3)
                                : 0;
        webinar_event(m, p, w, HF_WEBINAR_ATTENDED, minutes, questions);
    } else if (x < 0.85) {
        webinar_event(m, p, w, HF_WEBINAR_NO_SHOW, 0, 0);
        if (gen_rng_chance(&p->rng, 0.35)) {
            wait_between(p, 1 * DAY_MS, 7 * DAY_MS);
            webinar_event(m, p, w, HF_WEBINAR_WATCHED_RECORDING,
                          (int32_t)gen_rng_range(&p->rng, 5, 45), 0);
        }
    } else {
        wait_between(p, 1 * DAY_MS, 5 * DAY_MS);
        webinar_event(m, p, w, HF_WEBINAR_WATCHED_RECORDING, (int32_t)gen_rng_range(&p->rng, 5, 45),
                      0);
    }
    wait_between(p, 1 * HOUR_MS, 2 * DAY_MS);
}

static gen_record_t *email_event(gen_model_t *m, person_t *p, const char *contact_id,
                                 const char *email_id, const char *campaign,
                                 hf_email_action_t action)
{
    gen_record_t *r = emit(m, p, HF_EV_EMAIL, "marketo");
    r->ev.contact_id = contact_id;
    r->ev.email_id = email_id;
    r->ev.campaign = campaign;
    r->ev.email_action = action;
    return r;
}

static void identify(gen_model_t *m, person_t *p, const char *anon, const char *source)
{
    gen_record_t *r = emit(m, p, HF_EV_IDENTITY, source);
    r->ev.identity_kind = HF_IDENTITY_IDENTIFY;
    r->ev.contact_id = p->contact_id;
    r->ev.anonymous_id = anon;
    p->t_ms += gen_rng_range(&p->rng, 1 * SECOND_MS, 5 * SECOND_MS);
}

/* One e-mail of @c to a known contact and what they did with it.  @interest raises
 * open and click rates.  Returns false once they unsubscribed. */
static bool email(gen_model_t *m, person_t *p, const campaign_t *c, double interest)
{
    const char *email_id = random_hex_id(m, &p->rng, "em-");
    email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_DELIVERED);
    if (gen_rng_chance(&p->rng, 0.015)) {
        p->t_ms += gen_rng_range(&p->rng, 1 * SECOND_MS, 10 * SECOND_MS);
        email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_BOUNCED);
        return true;
    }
    if (!gen_rng_chance(&p->rng, 0.25 + 0.3 * interest)) {
        if (gen_rng_chance(&p->rng, 0.001)) {
            wait_about(p, 1 * DAY_MS, 10 * MINUTE_MS);
            email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_SPAM_REPORTED);
            return false;
        }
        return true;
    }
    wait_about(p, 8 * HOUR_MS, 2 * MINUTE_MS);
    email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_OPENED);
    p->t_ms += gen_rng_range(&p->rng, 5 * SECOND_MS, 3 * MINUTE_MS);
    if (gen_rng_chance(&p->rng, 0.012)) {
        email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_UNSUBSCRIBED);
        return false;
    }
    if (!gen_rng_chance(&p->rng, 0.12 + 0.3 * interest))
        return true;
    const page_t *target = page_of_kind(&p->rng, c->link_kind);
    gen_record_t *r = email_event(m, p, p->contact_id, email_id, c->name, HF_EMAIL_CLICKED);
    r->ev.link_url = arena_printf(m, "%s?utm_source=marketo&utm_medium=email&utm_campaign=%s",
                                  target->url, c->name);
    p->t_ms += gen_rng_range(&p->rng, 1 * SECOND_MS, 4 * SECOND_MS);
    /* The click lands on the site: on the known browser, or on a new device that
     * the e-mail link's tracking token identifies. */
    const char *anon = p->anon_id;
    if (!anon || gen_rng_chance(&p->rng, 0.3)) {
        anon = random_uuid(m, &p->rng);
        identify(m, p, anon, "marketo");
        if (!p->anon_id)
            p->anon_id = anon;
    }
    traffic_t tr = {NULL, "marketo", "email", c->name, 1};
    web_session(m, p, anon, interest > 0.5 ? INTENT_HIGH : INTENT_MID,
                1 + (int)gen_rng_below(&p->rng, 3), target, &tr);
    return true;
}

/* A few e-mails spaced days apart, from @first_campaign on (wrapping). */
static void email_series(gen_model_t *m, person_t *p, int count, size_t first_campaign,
                         double interest)
{
    for (int i = 0; i < count; i++) {
        wait_about(p, 6 * DAY_MS, 12 * HOUR_MS);
        const campaign_t *c = &campaigns[(first_campaign + (size_t)i) % CAMPAIGN_COUNT];
        if (!email(m, p, c, interest))
            return;
    }
}

static gen_record_t *sales(gen_model_t *m, person_t *p, hf_entity_type_t type,
                           hf_sales_action_t action, const char *owner)
{
    gen_record_t *r = emit(m, p, HF_EV_SALES, "salesforce");
    r->ev.entity_type = type;
    r->ev.entity_id = type == HF_ENTITY_ACCOUNT ? p->traits.account_id : p->contact_id;
    r->ev.owner_id = owner;
    r->ev.sales_action = action;
    return r;
}

/* What the sales team does with a hand-raiser. */
static void sales_follow_up(gen_model_t *m, person_t *p)
{
    const char *owner = arena_printf(m, "rep-%02u", 1 + gen_rng_below(&p->rng, SALES_REP_COUNT));
    bool account_known = p->traits.account_id != NULL;
    wait_between(p, 10 * MINUTE_MS, 8 * HOUR_MS);
    if (p->student || p->competitor || gen_rng_chance(&p->rng, 0.1)) {
        gen_record_t *r = sales(m, p, HF_ENTITY_CONTACT, HF_SALES_REJECTED, owner);
        r->ev.reason = p->student ? "student"
                       : p->competitor
                           ? "competitor"
                           : reject_reasons[gen_rng_below(&p->rng, REJECT_REASON_COUNT)];
        if (!p->student && !p->competitor && gen_rng_chance(&p->rng, 0.4)) {
            wait_between(p, 1 * HOUR_MS, 2 * DAY_MS);
            sales(m, p, HF_ENTITY_CONTACT, HF_SALES_RECYCLED, owner)->ev.reason = "nurture";
        }
        return;
    }
    sales(m, p, HF_ENTITY_CONTACT, HF_SALES_ACCEPTED, owner);
    int touches = 1 + (int)gen_rng_below(&p->rng, 3);
    for (int i = 0; i < touches; i++) {
        wait_about(p, i == 0 ? 3 * HOUR_MS : 1 * DAY_MS, 5 * MINUTE_MS);
        sales(m, p, HF_ENTITY_CONTACT, HF_SALES_CONTACTED, owner)->ev.channel =
            touch_channels[gen_rng_below(&p->rng, TOUCH_CHANNEL_COUNT)];
    }
    if (!gen_rng_chance(&p->rng, 0.6)) {
        if (gen_rng_chance(&p->rng, 0.3)) {
            wait_between(p, 1 * DAY_MS, 7 * DAY_MS);
            sales(m, p, HF_ENTITY_CONTACT, HF_SALES_DISQUALIFIED, owner)->ev.reason =
                "no project this year";
        }
        return;
    }
    wait_between(p, 1 * DAY_MS, 5 * DAY_MS);
    sales(m, p, HF_ENTITY_CONTACT, HF_SALES_MEETING_BOOKED, owner)->ev.channel = "meeting";
    if (!gen_rng_chance(&p->rng, 0.5))
        return;
    wait_between(p, 3 * DAY_MS, 14 * DAY_MS);
    sales(m, p, HF_ENTITY_CONTACT, HF_SALES_OPPORTUNITY_CREATED, owner);
    if (account_known)
        sales(m, p, HF_ENTITY_ACCOUNT, HF_SALES_OPPORTUNITY_CREATED, owner);
    wait_between(p, 10 * DAY_MS, 40 * DAY_MS);
    double x = gen_rng_unit(&p->rng);
    if (x < 0.35) {
        sales(m, p, HF_ENTITY_CONTACT, HF_SALES_WON, owner);
        if (account_known)
            sales(m, p, HF_ENTITY_ACCOUNT, HF_SALES_WON, owner);
    } else if (x < 0.75) {
        const char *why = lost_reasons[gen_rng_below(&p->rng, LOST_REASON_COUNT)];
        sales(m, p, HF_ENTITY_CONTACT, HF_SALES_LOST, owner)->ev.reason = why;
        if (account_known)
            sales(m, p, HF_ENTITY_ACCOUNT, HF_SALES_LOST, owner)->ev.reason = why;
    }
}

/* A CRM update of the contact's traits (a promotion, a new head count). */
static void traits_update(gen_model_t *m, person_t *p)
{
    if (p->title_index >= 0 && job_titles[p->title_index].promoted_to >= 0) {
        const job_title_t *t = &job_titles[job_titles[p->title_index].promoted_to];
        p->traits.title = t->title;
        p->traits.seniority = t->seniority;
        p->traits.department = t->department;
    } else if (p->traits.has_employees) {
        p->traits.employees += p->traits.employees / 10 + 1;
    }
    gen_record_t *r = emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_TRAITS;
    r->ev.contact_id = p->contact_id;
    r->ev.traits = p->traits;
}

/* A duplicate CRM record for this person (a list import) that gets some e-mail,
 * then is merged into the real contact. */
static void duplicate_and_merge(gen_model_t *m, person_t *p)
{
    const char *dup = random_hex_id(m, &p->rng, "c-");
    gen_record_t *r = emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_TRAITS;
    r->ev.contact_id = dup;
    r->ev.traits = p->traits;
    wait_about(p, 2 * DAY_MS, 1 * HOUR_MS);
    const char *email_id = random_hex_id(m, &p->rng, "em-");
    const char *campaign = campaigns[CAMPAIGN_NEWSLETTER].name;
    email_event(m, p, dup, email_id, campaign, HF_EMAIL_DELIVERED);
    if (gen_rng_chance(&p->rng, 0.5)) {
        wait_about(p, 6 * HOUR_MS, 5 * MINUTE_MS);
        email_event(m, p, dup, email_id, campaign, HF_EMAIL_OPENED);
    }
    wait_about(p, 4 * DAY_MS, 1 * HOUR_MS);
    r = emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_MERGE;
    r->ev.contact_id = p->contact_id;
    r->ev.merged_contact_id = dup;
    m->stats.merged++;
}

/* ---- people ------------------------------------------------------------------- */

/* Who the person is if they ever fill in a form: name, job, company, e-mail. */
static void person_make_traits(gen_model_t *m, person_t *p)
{
    gen_rng_t *r = &p->rng;
    account_make(m, account_walk_next(m), &p->account);
    const char *first = first_names[gen_rng_below(r, FIRST_NAME_COUNT)];
    const char *last = last_names[gen_rng_below(r, LAST_NAME_COUNT)];
    hf_traits_t *t = &p->traits;
    memset(t, 0, sizeof(*t));
    t->present = true;
    t->full_name = arena_printf(m, "%s %s", first, last);
    char local[64] = "";
    slug_append(local, sizeof(local), first);
    slug_append(local, sizeof(local), ".");
    slug_append(local, sizeof(local), last);

    double x = gen_rng_unit(r);
    p->student = x < 0.03;
    p->competitor = !p->student && x < 0.04;
    p->geo = gen_rng_chance(r, 0.8) ? p->account.geo : pick_geo(r);
    t->country = p->geo->country;
    t->region = p->geo->region;
    if (p->student) {
        p->title_index = -1;
        t->title = "Student";
        t->seniority = "student";
        t->department = "education";
        t->company_name = "State University";
        t->industry = "Education";
        t->email = arena_printf(m, "%s%02u@%s", local, gen_rng_below(r, 100),
                                free_mail_domains[gen_rng_below(r, FREE_MAIL_COUNT)]);
        return;
    }
    size_t k;
    PICK_WEIGHTED_FIELD(r, job_titles, JOB_TITLE_COUNT, k);
    p->title_index = (int)k;
    t->title = job_titles[k].title;
    t->seniority = job_titles[k].seniority;
    t->department = job_titles[k].department;
    if (p->competitor) {
        t->company_name = "RivalRevenue";
        t->industry = "Software";
        t->has_employees = true;
        t->employees = 420;
        t->email = arena_printf(m, "%s@rival.example", local);
        return;
    }
    t->company_name = gen_model_strdup(m, p->account.name);
    t->industry = p->account.industry;
    t->has_employees = gen_rng_chance(r, 0.7);
    t->employees = t->has_employees ? p->account.employees : 0;
    if (gen_rng_chance(r, 0.18)) {
        /* Free-mail: no account can come from the domain; sometimes the CRM knows it. */
        t->email = arena_printf(m, "%s%02u@%s", local, gen_rng_below(r, 100),
                                free_mail_domains[gen_rng_below(r, FREE_MAIL_COUNT)]);
        if (gen_rng_chance(r, 0.3))
            t->account_id = gen_model_strdup(m, p->account.id);
    } else {
        t->email = arena_printf(m, "%s@%s", local, p->account.domain);
        if (gen_rng_chance(r, 0.6))
            t->account_id = gen_model_strdup(m, p->account.id);
    }
}

static int sessions_before(person_t *p, int lo, int hi)
{
    return (int)gen_rng_range(&p->rng, lo, hi);
}

static void anonymous_sessions(gen_model_t *m, person_t *p, int count, intent_t intent,
                               int max_pages)
{
    for (int s = 0; s < count; s++) {
        if (s > 0)
            wait_about(p, 3 * DAY_MS, 30 * MINUTE_MS);
        web_session(m, p, p->anon_id, intent, 1 + (int)gen_rng_below(&p->rng, (uint32_t)max_pages),
                    NULL, NULL);
    }
}

static const asset_t *pick_asset(gen_rng_t *r, bool evaluation)
{
    if (evaluation)
        return &assets[ASSET_FIRST_EVALUATION + gen_rng_below(r, ASSET_EVALUATION_COUNT)];
    return &assets[ASSET_FIRST_EDUCATIONAL + gen_rng_below(r, ASSET_EDUCATIONAL_COUNT)];
}

/* Asks for sales: the demo or contact form, then the sales team's follow-up. */
static void hand_raise(gen_model_t *m, person_t *p, const char *anon)
{
    if (gen_rng_chance(&p->rng, 0.7)) {
        web_session(m, p, anon, INTENT_HIGH, 1 + (int)gen_rng_below(&p->rng, 2), &demo_page, NULL);
        form(m, p, anon, HF_FORM_DEMO_REQUEST, "f-demo", demo_page.url);
    } else {
        web_session(m, p, anon, INTENT_HIGH, 1, &contact_sales_page, NULL);
        form(m, p, anon, HF_FORM_CONTACT_SALES, "f-contact-sales", contact_sales_page.url);
    }
    m->stats.hand_raisers++;
    sales_follow_up(m, p);
}

static void run_browser(gen_model_t *m, person_t *p, intent_t intent)
{
    int sessions = 1 + gen_rng_chance(&p->rng, 0.35) + gen_rng_chance(&p->rng, 0.12);
    anonymous_sessions(m, p, sessions, intent, 4);
}

static void run_newsletter(gen_model_t *m, person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 1, 3), INTENT_LOW, 4);
    wait_about(p, 2 * DAY_MS, 10 * MINUTE_MS);
    const page_t *blog = page_of_kind(&p->rng, PG_BLOG);
    web_session(m, p, p->anon_id, INTENT_LOW, 1, blog, NULL);
    form(m, p, p->anon_id, HF_FORM_NEWSLETTER, "f-newsletter-blog", blog->url);
    email_series(m, p, (int)gen_rng_range(&p->rng, 2, 6), CAMPAIGN_NEWSLETTER, 0.2);
    if (gen_rng_chance(&p->rng, 0.2)) {
        wait_about(p, 5 * DAY_MS, 1 * HOUR_MS);
        webinar(m, p, NULL, 0.2);
    }
}

static void run_researcher(gen_model_t *m, person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 1, 3), INTENT_MID, 5);
    wait_about(p, 2 * DAY_MS, 10 * MINUTE_MS);
    gated_download(m, p, p->anon_id, pick_asset(&p->rng, false));
    int more = (int)gen_rng_below(&p->rng, 4);
    for (int i = 0; i < more; i++) {
        wait_about(p, 4 * DAY_MS, 1 * HOUR_MS);
        download(m, p, pick_asset(&p->rng, gen_rng_chance(&p->rng, 0.3)),
                 gen_rng_chance(&p->rng, 0.5) ? p->anon_id : NULL, "nurture-revops");
    }
    email_series(m, p, (int)gen_rng_range(&p->rng, 2, 6), 1, 0.4);
    if (gen_rng_chance(&p->rng, 0.4)) {
        wait_about(p, 4 * DAY_MS, 1 * HOUR_MS);
        webinar(m, p, p->anon_id, 0.4);
    }
    if (gen_rng_chance(&p->rng, 0.4)) {
        wait_about(p, 5 * DAY_MS, 1 * HOUR_MS);
        web_session(m, p, p->anon_id, INTENT_MID, 2 + (int)gen_rng_below(&p->rng, 4), NULL, NULL);
    }
}

static void run_crm(gen_model_t *m, person_t *p)
{
    /* Imported from a trade show list or entered by a rep: the CRM knows them first. */
    gen_record_t *r = emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_TRAITS;
    r->ev.contact_id = p->contact_id;
    r->ev.traits = p->traits;
    p->known = true;
    email_series(m, p, (int)gen_rng_range(&p->rng, 3, 9), gen_rng_below(&p->rng, CAMPAIGN_COUNT),
                 0.25);
    if (gen_rng_chance(&p->rng, 0.2)) {
        wait_about(p, 5 * DAY_MS, 1 * HOUR_MS);
        webinar(m, p, NULL, 0.3);
    }
}

static void run_evaluator(gen_model_t *m, person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 2, 4), INTENT_MID, 6);
    wait_about(p, 2 * DAY_MS, 10 * MINUTE_MS);
    gated_download(m, p, p->anon_id, pick_asset(&p->rng, gen_rng_chance(&p->rng, 0.5)));
    int downloads = 1 + (int)gen_rng_below(&p->rng, 3);
    for (int i = 0; i < downloads; i++) {
        wait_about(p, 2 * DAY_MS, 1 * HOUR_MS);
        download(m, p, pick_asset(&p->rng, true), p->anon_id, NULL);
    }
    if (gen_rng_chance(&p->rng, 0.7)) {
        wait_about(p, 3 * DAY_MS, 1 * HOUR_MS);
        webinar(m, p, p->anon_id, 0.8);
    }
    int sessions = 2 + (int)gen_rng_below(&p->rng, 4);
    for (int s = 0; s < sessions; s++) {
        wait_about(p, 2 * DAY_MS, 30 * MINUTE_MS);
        web_session(m, p, p->anon_id, INTENT_HIGH, 2 + (int)gen_rng_below(&p->rng, 5), NULL, NULL);
    }
    email_series(m, p, (int)gen_rng_range(&p->rng, 2, 5), 4, 0.7);
    if (gen_rng_chance(&p->rng, 0.25)) {
        wait_about(p, 2 * DAY_MS, 30 * MINUTE_MS);
        hand_raise(m, p, p->anon_id);
    }
}

static void run_hand_raiser(gen_model_t *m, person_t *p)
{
    anonymous_sessions(m, p, sessions_before(p, 1, 2), INTENT_HIGH, 5);
    wait_about(p, 1 * DAY_MS, 5 * MINUTE_MS);
    hand_raise(m, p, p->anon_id);
}

/* Places the person's journey (relative times from 0) in [start, start + span]:
 * journeys start in person order, so the stream as a whole moves forward in time;
 * a journey longer than the span is compressed into it. */
static void place_journey(gen_model_t *m, const person_t *p, size_t first_rec)
{
    int64_t length_ms = p->t_ms > 0 ? p->t_ms : 0;
    int64_t span_ms = m->opts.span_ms;
    double scale = length_ms > span_ms && length_ms > 0 ? (double)span_ms / (double)length_ms : 1.0;
    int64_t scaled_ms = (int64_t)((double)length_ms * scale);
    int64_t room_ms = scaled_ms < span_ms ? span_ms - scaled_ms : 0;
    gen_rng_t r;
    gen_rng_seed(&r, m->opts.seed, RNG_PLACE, p->index);
    double where = ((double)p->index + gen_rng_unit(&r)) / (double)m->opts.contacts;
    int64_t start_ms = m->opts.start_ms + (int64_t)(where * (double)room_ms);
    for (size_t i = first_rec; i < m->rec_count; i++) {
        hf_event_t *ev = &m->recs[i].ev;
        ev->occurred_at_ms = start_ms + (int64_t)((double)ev->occurred_at_ms * scale);
    }
}

static void run_person(gen_model_t *m, uint32_t index)
{
    person_t p;
    memset(&p, 0, sizeof(p));
    p.index = index;
    gen_rng_seed(&p.rng, m->opts.seed, RNG_PERSON, index);
    p.persona = (persona_t)pick_weighted(&p.rng, persona_weights, P__COUNT);
    p.geo = pick_geo(&p.rng);
    p.title_index = -1;
    size_t first_rec = m->rec_count;

    bool known = p.persona >= P_NEWSLETTER;
    if (p.persona != P_CRM)
        p.anon_id = random_uuid(m, &p.rng);
    if (known) {
        p.contact_id = random_hex_id(m, &p.rng, "c-");
        person_make_traits(m, &p);
    }

    switch (p.persona) {
    case P_BROWSER:
        run_browser(m, &p, INTENT_LOW);
        break;
    case P_JOB_SEEKER:
        run_browser(m, &p, INTENT_JOBS);
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
            wait_about(&p, 10 * DAY_MS, 1 * DAY_MS);
            traits_update(m, &p);
        }
        if (gen_rng_chance(&p.rng, 0.005)) {
            wait_about(&p, 3 * DAY_MS, 1 * HOUR_MS);
            duplicate_and_merge(m, &p);
        }
        m->stats.identified++;
    }
    m->stats.people++;
    place_journey(m, &p, first_rec);
}

/* ---- batches ------------------------------------------------------------------ */

static int record_cmp(const void *a, const void *b)
{
    const gen_record_t *x = a, *y = b;
    if (x->ev.occurred_at_ms != y->ev.occurred_at_ms)
        return x->ev.occurred_at_ms < y->ev.occurred_at_ms ? -1 : 1;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int gen_model_next_batch(gen_model_t *m, uint32_t max_people, const gen_record_t **recs,
                         size_t *count)
{
    arena_reset(m);
    m->rec_count = 0;
    uint32_t end = m->next_person + max_people;
    if (end > m->opts.contacts || end < m->next_person)
        end = m->opts.contacts;
    for (uint32_t i = m->next_person; i < end; i++)
        run_person(m, i);
    m->next_person = end;
    if (m->oom)
        return -ENOMEM;
    qsort(m->recs, m->rec_count, sizeof(*m->recs), record_cmp);
    *recs = m->recs;
    *count = m->rec_count;
    return 0;
}

void gen_model_get_stats(const gen_model_t *m, gen_model_stats_t *stats)
{
    *stats = m->stats;
}

int gen_model_new(gen_model_t **out, const gen_model_opts_t *opts)
{
    if (opts->contacts == 0 || opts->accounts == 0 || opts->span_ms < 0)
        return -EINVAL;
    gen_model_t *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->opts = *opts;
    gen_rng_seed(&m->walk_rng, opts->seed, RNG_WALK, 0);
    m->walk_account = opts->accounts - 1; /* the first step moves to account 0 */
    *out = m;
    return 0;
}

void gen_model_free(gen_model_t *m)
{
    if (!m)
        return;
    arena_block_t *b = m->arena_first;
    while (b) {
        arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    free(m->recs);
    free(m);
}
