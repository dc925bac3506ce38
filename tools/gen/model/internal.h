/* What the files of hf-gen's model share (not for tools/gen's other files, which
 * see model.h only).
 *
 * The model walks one person at a time through a journey: persona.c picks who they
 * are and runs their script; the scripts are made of touches, one file per kind:
 * site.c (page views, forms), content.c (downloads, webinars), email.c (campaign
 * e-mails), sales.c (a rep's follow-up), person.c (who a person is, CRM updates),
 * account.c (the companies).  model.c holds the storage, the records and the
 * batches.  Each file keeps the catalogue it draws from as a declarative table.
 *
 * Every random draw comes from the person's stream (gen_person_t.rng) or from a
 * stream of its own (rng.h): the records of a seed stay the same byte for byte
 * only as long as every draw stays where it is, in the same order.  A few
 * expressions draw more than once among a call's arguments or on both sides of an
 * assignment; C leaves that order to the compiler and the records follow the order
 * it chose, so such an expression is best left whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "processors/model/event.h"
#include "tools/gen/rng.h"

#define GEN_SITE "https://www.pipelinepilot.example"

#define SECOND_MS 1000LL
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

/* ---- catalogue types shared between touches ------------------------------------ */

typedef enum gen_page_kind {
    GEN_PAGE_HOME = 0,
    GEN_PAGE_BLOG,
    GEN_PAGE_PRODUCT,
    GEN_PAGE_INTEGRATIONS,
    GEN_PAGE_PRICING,
    GEN_PAGE_CUSTOMERS,
    GEN_PAGE_COMPARE,
    GEN_PAGE_DOCS,
    GEN_PAGE_CAREERS,
    GEN_PAGE_RESOURCES,
    GEN_PAGE_WEBINARS,
    GEN_PAGE__COUNT
} gen_page_kind_t;

typedef struct gen_page {
    gen_page_kind_t kind;
    const char *url;
    const char *title;
} gen_page_t;

/* How far along a visitor is; it decides which pages attract them (site.c). */
typedef enum gen_intent {
    GEN_INTENT_LOW = 0, /* curious, reading */
    GEN_INTENT_MID,     /* researching a problem */
    GEN_INTENT_HIGH,    /* evaluating vendors */
    GEN_INTENT_JOBS,    /* looking for a job, not for software */
    GEN_INTENT__COUNT
} gen_intent_t;

/* Where a visitor came from: the first page view of a session carries it. */
typedef struct gen_traffic {
    const char *referrer;
    const char *utm_source;
    const char *utm_medium;
    const char *utm_campaign;
    uint16_t weight;
} gen_traffic_t;

typedef struct gen_asset gen_asset_t; /* a piece of content (content.c) */

typedef struct gen_geo {
    const char *country; /* ISO 3166-1 alpha-2 */
    const char *region;
    uint16_t weight;
} gen_geo_t;

/* ---- the model, the person, the account ---------------------------------------- */

typedef struct gen_arena_block gen_arena_block_t;

/* An account: derived from (seed, index) alone, never stored between batches. */
typedef struct gen_account {
    uint32_t index;
    char id[24];
    char name[64];
    char domain[80];
    const char *industry;
    int32_t employees;
    const gen_geo_t *geo;
} gen_account_t;

struct gen_model {
    gen_model_opts_t opts;
    uint32_t next_person;

    /* The account walk: known contacts fill account after account, 1-8 each. */
    gen_rng_t walk_rng;
    uint32_t walk_account;
    uint32_t walk_left;

    gen_arena_block_t *arena_first;
    gen_arena_block_t *arena_cur;

    gen_record_t *recs;
    size_t rec_count;
    size_t rec_cap;
    gen_record_t scratch;
    bool oom;

    gen_model_stats_t stats;
};

/* A person on their way through a journey. */
typedef struct gen_person {
    uint32_t index;
    gen_rng_t rng;
    int64_t t_ms; /* the journey's clock, relative to its first event */
    uint32_t seq;
    const gen_geo_t *geo;
    const char *anon_id;    /* the first browser's cookie; NULL for CRM-only people */
    const char *contact_id; /* set once the person may become known */
    bool known;
    bool student;
    bool competitor;
    int title_index; /* into person.c's job titles; -1 for students */
    gen_account_t account;
    hf_traits_t traits;
} gen_person_t;

/* ---- model.c: storage, records, random picks ----------------------------------- */

/* A formatted string in the batch storage ("" when out of memory, which the batch
 * reports at its end). */
const char *gen_model_printf(gen_model_t *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A new record of @p's journey at its clock, with a fresh event id; never NULL
 * (a scratch record when out of memory). */
gen_record_t *gen_model_emit(gen_model_t *m, gen_person_t *p, hf_event_kind_t kind,
                             const char *source);

/* A random identifier shaped like a UUID (trackers' event and cookie ids). */
const char *gen_model_uuid(gen_model_t *m, gen_rng_t *r);

/* @prefix and 12 random hex digits. */
const char *gen_model_hex_id(gen_model_t *m, gen_rng_t *r, const char *prefix);

/* Appends @word to @dst in lower case with spaces as dashes (domains, addresses). */
void gen_model_slug_append(char *dst, size_t dstsz, const char *word);

/* An index in [0, n) drawn with the given weights. */
static inline size_t gen_pick_weighted(gen_rng_t *r, const uint16_t *weights, size_t n)
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

/* The index of a row of @table (an array of structs with a .weight) drawn by
 * weight, into @out. */
#define GEN_PICK_WEIGHTED_FIELD(r, table, count, out)                                              \
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

/* Moves the journey's clock on by about @mean_ms (exponential), at least @min_ms. */
static inline void gen_wait_about(gen_person_t *p, int64_t mean_ms, int64_t min_ms)
{
    int64_t d = (int64_t)gen_rng_exp(&p->rng, (double)mean_ms);
    p->t_ms += d < min_ms ? min_ms : d;
}

/* Moves the journey's clock on by a time uniform in [@lo_ms, @hi_ms]. */
static inline void gen_wait_between(gen_person_t *p, int64_t lo_ms, int64_t hi_ms)
{
    p->t_ms += gen_rng_range(&p->rng, lo_ms, hi_ms);
}

/* ---- account.c ------------------------------------------------------------------ */

/* Account @index of the model's seed. */
void gen_account_make(const gen_model_t *m, uint32_t index, gen_account_t *a);

/* The account of the next known contact: accounts take 1-8 contacts each, in
 * order, starting over when every account has been visited. */
uint32_t gen_account_walk_next(gen_model_t *m);

/* A country and region, by how many buyers live there. */
const gen_geo_t *gen_account_pick_geo(gen_rng_t *r);

/* ---- site.c --------------------------------------------------------------------- */

extern const gen_page_t gen_site_demo_page;
extern const gen_page_t gen_site_contact_sales_page;

/* One of the site's pages of @kind. */
const gen_page_t *gen_site_page_of_kind(gen_rng_t *r, gen_page_kind_t kind);

/* One browsing session of @pages_n page views on the browser @anon.  @entry: the
 * landing page (NULL: by intent); @tr: where the visitor came from (NULL: a random
 * source). */
void gen_site_session(gen_model_t *m, gen_person_t *p, const char *anon, gen_intent_t intent,
                      int pages_n, const gen_page_t *entry, const gen_traffic_t *tr);

/* A form filled in on the browser @anon: the person is known from then on. */
void gen_site_form(gen_model_t *m, gen_person_t *p, const char *anon, hf_form_type_t type,
                   const char *form_id, const char *url);

/* ---- content.c ------------------------------------------------------------------ */

/* Educational content (researchers) or evaluation content (case studies,
 * datasheets) when @evaluation. */
const gen_asset_t *gen_content_pick_asset(gen_rng_t *r, bool evaluation);

/* The asset called @id, or NULL. */
const gen_asset_t *gen_content_asset(const char *id);

/* A download of @a by the known person; @anon: the browser, when on the site;
 * @campaign: the campaign that brought it, or NULL. */
void gen_content_download(gen_model_t *m, gen_person_t *p, const gen_asset_t *a, const char *anon,
                          const char *campaign);

/* Downloads a gated asset from the site: the form that identifies, then the file. */
void gen_content_gated_download(gen_model_t *m, gen_person_t *p, const char *anon,
                                const gen_asset_t *a);

/* A webinar: registration (through the site's form when @anon is set, else from
 * an e-mail invite) and what happened on the day.  @engaged raises attendance. */
void gen_content_webinar(gen_model_t *m, gen_person_t *p, const char *anon, double engaged);

/* ---- email.c -------------------------------------------------------------------- */

/* The campaigns, by index in email.c's table. */
#define GEN_CAMPAIGN_COUNT 7
#define GEN_CAMPAIGN_NEWSLETTER 0

const char *gen_email_campaign_name(size_t campaign);

/* One e-mail engagement event of @contact_id. */
gen_record_t *gen_email_event(gen_model_t *m, gen_person_t *p, const char *contact_id,
                              const char *email_id, const char *campaign, hf_email_action_t action);

/* A few e-mails spaced days apart, from campaign @first_campaign on (wrapping).
 * @interest raises open and click rates. */
void gen_email_series(gen_model_t *m, gen_person_t *p, int count, size_t first_campaign,
                      double interest);

/* ---- sales.c -------------------------------------------------------------------- */

/* What the sales team does with a hand-raiser. */
void gen_sales_follow_up(gen_model_t *m, gen_person_t *p);

/* ---- person.c ------------------------------------------------------------------- */

/* Who the person is if they ever fill in a form: name, job, company, e-mail. */
void gen_person_make_traits(gen_model_t *m, gen_person_t *p);

/* A CRM update of the contact's traits (a promotion, a new head count). */
void gen_person_traits_update(gen_model_t *m, gen_person_t *p);

/* A duplicate CRM record for this person (a list import) that gets some e-mail,
 * then is merged into the real contact. */
void gen_person_duplicate_and_merge(gen_model_t *m, gen_person_t *p);

/* ---- persona.c ------------------------------------------------------------------ */

/* Person @index's journey appended to the batch, its times relative to its start.
 * Returns its length in ms (the clock of its last event). */
int64_t gen_persona_run(gen_model_t *m, uint32_t index);
