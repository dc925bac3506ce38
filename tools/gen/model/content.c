/* The vendor's content: gated and open assets and their downloads, webinars and
 * what registrants do on the day. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

struct gen_asset {
    const char *id;
    const char *title;
    const char *type;
    const char *url;
    const char *tags[3];
    size_t tag_count;
};

static const gen_asset_t assets[] = {
    {"wp-revops-playbook",
     "The RevOps Playbook",
     "whitepaper",
     GEN_SITE "/resources/revops-playbook",
     {"revops", "alignment"},
     2},
    {"wp-lead-scoring-guide",
     "The Definitive Guide to Lead Scoring",
     "whitepaper",
     GEN_SITE "/resources/lead-scoring-guide",
     {"lead scoring", "mql"},
     2},
    {"eb-speed-to-lead",
     "Speed to Lead: The Five-Minute Rule",
     "ebook",
     GEN_SITE "/resources/speed-to-lead",
     {"speed to lead", "sla"},
     2},
    {"eb-abm-starter",
     "ABM Starter Kit",
     "ebook",
     GEN_SITE "/resources/abm-starter-kit",
     {"abm", "buying group"},
     2},
    {"eb-intent-data",
     "Intent Data Explained",
     "ebook",
     GEN_SITE "/resources/intent-data",
     {"intent", "data"},
     2},
    {"cs-northwind",
     "How Northwind Traders cut lead response time by 60%",
     "case_study",
     GEN_SITE "/customers/northwind-traders",
     {"speed to lead", "sla", "logistics"},
     3},
    {"cs-globex",
     "Globex doubles MQL-to-SQL conversion",
     "case_study",
     GEN_SITE "/customers/globex",
     {"conversion", "mql"},
     2},
    {"cs-initech",
     "Initech aligns 40 reps on one lead definition",
     "case_study",
     GEN_SITE "/customers/initech",
     {"alignment", "revops"},
     2},
    {"ds-platform",
     "PipelinePilot platform datasheet",
     "datasheet",
     GEN_SITE "/resources/datasheet",
     {"product"},
     1},
    {"ds-security",
     "Security and compliance datasheet",
     "datasheet",
     GEN_SITE "/resources/security",
     {"security", "product"},
     2},
    {"vid-product-tour",
     "Five-minute product tour",
     "video",
     GEN_SITE "/resources/product-tour",
     {"product", "demo"},
     2},
    {"rp-benchmark-2024",
     "2024 Lead Response Benchmark Report",
     "report",
     GEN_SITE "/resources/benchmark-2024",
     {"benchmark", "speed to lead"},
     2},
};
#define ASSET_COUNT (sizeof(assets) / sizeof(assets[0]))

/* Index ranges of the table above by what evaluators and researchers reach for. */
#define ASSET_FIRST_EDUCATIONAL 0
#define ASSET_EDUCATIONAL_COUNT 5
#define ASSET_FIRST_EVALUATION 5
#define ASSET_EVALUATION_COUNT 6
_Static_assert(ASSET_FIRST_EDUCATIONAL + ASSET_EDUCATIONAL_COUNT <= ASSET_COUNT &&
                   ASSET_FIRST_EVALUATION + ASSET_EVALUATION_COUNT <= ASSET_COUNT,
               "asset ranges within the table");

typedef struct webinar {
    const char *id;
    const char *title;
    const char *url;
} webinar_t;

static const webinar_t webinars[] = {
    {"wb-revops-alignment", "Marketing and sales alignment that survives the quarter",
     GEN_SITE "/webinars/revops-alignment"},
    {"wb-lead-scoring-lab", "Lead scoring lab: from MQL to conversation",
     GEN_SITE "/webinars/lead-scoring-lab"},
    {"wb-speed-to-lead", "Speed to lead: SLAs that sales actually keep",
     GEN_SITE "/webinars/speed-to-lead"},
    {"wb-product-tour-live", "Live product tour and Q&A", GEN_SITE "/webinars/product-tour-live"},
    {"wb-abm-playbook", "The ABM playbook for mid-market teams", GEN_SITE "/webinars/abm-playbook"},
    {"wb-pipeline-forecasting", "Pipeline forecasting for RevOps",
     GEN_SITE "/webinars/pipeline-forecasting"},
};
#define WEBINAR_COUNT (sizeof(webinars) / sizeof(webinars[0]))

const gen_asset_t *gen_content_asset(const char *id)
{
    for (size_t i = 0; i < ASSET_COUNT; i++)
        if (strcmp(assets[i].id, id) == 0)
            return &assets[i];
    return NULL;
}

const gen_asset_t *gen_content_pick_asset(gen_rng_t *r, bool evaluation)
{
    if (evaluation)
        return &assets[ASSET_FIRST_EVALUATION + gen_rng_below(r, ASSET_EVALUATION_COUNT)];
    return &assets[ASSET_FIRST_EDUCATIONAL + gen_rng_below(r, ASSET_EDUCATIONAL_COUNT)];
}

void gen_content_download(gen_model_t *m, gen_person_t *p, const gen_asset_t *a, const char *anon,
                          const char *campaign)
{
    gen_record_t *r = gen_model_emit(m, p, HF_EV_DOWNLOAD, "marketo");
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

void gen_content_gated_download(gen_model_t *m, gen_person_t *p, const char *anon,
                                const gen_asset_t *a)
{
    gen_site_form(m, p, anon, HF_FORM_CONTENT_GATE, gen_model_printf(m, "f-gate-%s", a->id),
                  a->url);
    gen_content_download(m, p, a, anon,
                         gen_rng_chance(&p->rng, 0.4) ? "content-syndication-q3" : NULL);
}

static void webinar_event(gen_model_t *m, gen_person_t *p, const webinar_t *w,
                          hf_webinar_action_t action, int32_t minutes, int32_t questions)
{
    gen_record_t *r = gen_model_emit(m, p, HF_EV_WEBINAR, "zoom");
    r->ev.contact_id = p->contact_id;
    r->ev.webinar_id = w->id;
    r->ev.webinar_title = w->title;
    r->ev.webinar_action = action;
    r->ev.minutes_attended = minutes;
    r->ev.questions_asked = questions;
    r->ev.campaign = "webinar-series-2024";
}

void gen_content_webinar(gen_model_t *m, gen_person_t *p, const char *anon, double engaged)
{
    const webinar_t *w = &webinars[gen_rng_below(&p->rng, WEBINAR_COUNT)];
    if (anon)
        gen_site_form(m, p, anon, HF_FORM_WEBINAR_REGISTRATION,
                      gen_model_printf(m, "f-register-%s", w->id), w->url);
    webinar_event(m, p, w, HF_WEBINAR_REGISTERED, 0, 0);
    gen_wait_between(p, 2 * DAY_MS, 12 * DAY_MS);
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
            gen_wait_between(p, 1 * DAY_MS, 7 * DAY_MS);
            webinar_event(m, p, w, HF_WEBINAR_WATCHED_RECORDING,
                          (int32_t)gen_rng_range(&p->rng, 5, 45), 0);
        }
    } else {
        gen_wait_between(p, 1 * DAY_MS, 5 * DAY_MS);
        webinar_event(m, p, w, HF_WEBINAR_WATCHED_RECORDING, (int32_t)gen_rng_range(&p->rng, 5, 45),
                      0);
    }
    gen_wait_between(p, 1 * HOUR_MS, 2 * DAY_MS);
}
