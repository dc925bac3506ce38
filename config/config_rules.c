/* The rule sections of the config file, compiled into hf_rules_t: stitching,
 * dedupe, journey, scoring, fit, lifecycle, qualify, sla.
 *
 * Every string and array put into the hf_rules_t is malloc'd, so hf_rules_free()
 * releases it.  Glob patterns are stored as written (the matcher is
 * case-insensitive); event kinds, form types and actions become bit masks. */
#include "config_rules.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

#define RULES(field) offsetof(hf_rules_t, field)

/* Names listed in a message before it says "...". */
#define NAMES_LISTED_MAX 20

static hf_rules_t *rules_of(cfgmap_ctx_t *ctx)
{
    return ((hf_config_t *)ctx->user)->rules;
}

/* ---- symbol sets (names from processors/event.h) ---- */

static const char *event_kind_name(int v)
{
    return hf_event_kind_name((hf_event_kind_t)v);
}
static const char *form_type_name(int v)
{
    return hf_form_type_name((hf_form_type_t)v);
}
static const char *webinar_action_name(int v)
{
    return hf_webinar_action_name((hf_webinar_action_t)v);
}
static const char *email_action_name(int v)
{
    return hf_email_action_name((hf_email_action_t)v);
}

static const cfgmap_symbols_t event_kinds = {"event kind", hf_event_kind_parse, event_kind_name,
                                             HF_EV__COUNT};
static const cfgmap_symbols_t form_types = {"form type", hf_form_type_parse, form_type_name,
                                            HF_FORM__COUNT};
static const cfgmap_symbols_t webinar_actions = {"webinar action", hf_webinar_action_parse,
                                                 webinar_action_name, HF_WEBINAR__COUNT};
static const cfgmap_symbols_t email_actions = {"email action", hf_email_action_parse,
                                               email_action_name, HF_EMAIL__COUNT};

#define KIND(k) (1u << (k))
#define ALL_KINDS ((1u << HF_EV__COUNT) - 1)

/* Rule and grade names end up in outputs, metrics labels and state keys. */
static const char *valid_name(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return "expected a name of letters, digits, '_', '-' and '.'";
    }
    return n > 64 ? "expected a name of at most 64 characters" : NULL;
}

static const char *valid_grade(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-'))
            return "expected a grade such as A, B+ or F (letters, digits, '+', '-')";
    }
    return n > 8 ? "expected a grade of at most 8 characters" : NULL;
}

/* ---- helpers for checks ---- */

static bool has_any_key(const yaml_node_t *map)
{
    return map && map->type == YAML_MAPPING_NODE &&
           map->data.mapping.pairs.top > map->data.mapping.pairs.start;
}

static void no_condition(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         const cfgmap_table_t *table)
{
    hf_buf_t keys = HF_BUF_INIT;
    for (size_t i = 0; i < table->count; i++)
        hf_buf_printf(&keys, "%s%s", i ? ", " : "", table->entries[i].key);
    cfgmap_error(ctx, map, path, "expected at least one condition; allowed: %s",
                 keys.data ? (char *)keys.data : "");
    hf_buf_free(&keys);
}

static void mask_names(hf_buf_t *out, uint32_t mask)
{
    bool first = true;
    for (int k = 0; k < HF_EV__COUNT; k++) {
        if (!(mask & KIND(k)))
            continue;
        hf_buf_printf(out, "%s%s", first ? "" : ", ", hf_event_kind_name((hf_event_kind_t)k));
        first = false;
    }
}

/* Names of a list of structs must be unique; reports each repeat at its name. */
static void unique_names(cfgmap_ctx_t *ctx, const yaml_node_t *list, const cfgmap_path_t *path,
                         const void *array, size_t count, size_t stride, size_t name_offset)
{
    const char *base = array;
    for (size_t j = 1; j < count && cfgmap_spend(ctx, j); j++) {
        const char *b = *(char *const *)(base + j * stride + name_offset);
        for (size_t i = 0; b && i < j; i++) {
            const char *a = *(char *const *)(base + i * stride + name_offset);
            if (!a || strcmp(a, b) != 0)
                continue;
            cfgmap_path_t item = {path, NULL, j};
            cfgmap_path_t name = {&item, "name", 0};
            const yaml_node_t *node = cfgmap_lookup(ctx, cfgmap_item(ctx, list, j), "name", NULL);
            cfgmap_error(ctx, node, &name, "duplicate name \"%s\" (also item [%zu])", b, i);
            break;
        }
    }
}

/* The value node at root.@section.@key of the document, or NULL. */
static const yaml_node_t *doc_node(cfgmap_ctx_t *ctx, const char *section, const char *key)
{
    if (!ctx->doc)
        return NULL;
    const yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
    return cfgmap_lookup(ctx, cfgmap_lookup(ctx, root, section, NULL), key, NULL);
}

/* ---- stitching, dedupe, journey, sla ---- */

static const cfgmap_entry_t stitching_entries[] = {
    {.key = "max_events",
     .type = CFGMAP_UINT32,
     .def = "200",
     .min = 0,
     .max = 100000,
     .offset = RULES(stitch_max_events),
     .help = "Events buffered per anonymous id; the oldest are dropped."},
    {.key = "max_age",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 60 * 1000,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(stitch_max_age_ms),
     .help = "Buffered events older than this (relative to the newest) are dropped."},
};

static const cfgmap_entry_t dedupe_entries[] = {
    {.key = "max_ids",
     .type = CFGMAP_UINT32,
     .def = "256",
     .min = 0,
     .max = 100000,
     .offset = RULES(dedupe_max_ids),
     .help = "Event ids remembered per contact."},
    {.key = "window",
     .type = CFGMAP_DURATION,
     .def = "7d",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(dedupe_window_ms),
     .help = "How long after it was seen (processing time) an event id is remembered."},
};

static void journey_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          void *base)
{
    const hf_rules_t *r = base;
    if (r->journey_top_pages <= r->journey_pages_max)
        return;
    cfgmap_path_t p = {path, "top_pages", 0};
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "top_pages", NULL);
    cfgmap_error(ctx, at ? at : map, &p, "must not exceed journey.pages_tracked (%u)",
                 (unsigned)r->journey_pages_max);
}

static const cfgmap_entry_t journey_entries[] = {
    {.key = "recent",
     .type = CFGMAP_UINT32,
     .def = "20",
     .min = 1,
     .max = 1000,
     .offset = RULES(journey_recent_max),
     .help = "Recent touches kept, newest first."},
    {.key = "pages_tracked",
     .type = CFGMAP_UINT32,
     .def = "50",
     .min = 1,
     .max = 10000,
     .offset = RULES(journey_pages_max),
     .help = "Distinct pages counted per contact."},
    {.key = "top_pages",
     .type = CFGMAP_UINT32,
     .def = "5",
     .min = 0,
     .max = 100,
     .offset = RULES(journey_top_pages),
     .help = "Most viewed pages put in a handoff; at most `pages_tracked`."},
    {.key = "downloads",
     .type = CFGMAP_UINT32,
     .def = "10",
     .min = 0,
     .max = 1000,
     .offset = RULES(journey_downloads_max),
     .help = "Downloads kept (newest)."},
    {.key = "webinars",
     .type = CFGMAP_UINT32,
     .def = "10",
     .min = 0,
     .max = 1000,
     .offset = RULES(journey_webinars_max),
     .help = "Webinar events kept (newest)."},
    {.key = "sessions_tracked",
     .type = CFGMAP_UINT32,
     .def = "64",
     .min = 1,
     .max = 100000,
     .offset = RULES(journey_sessions_max),
     .help = "Distinct session ids remembered to count sessions."},
};

static const cfgmap_entry_t sla_entries[] = {
    {.key = "accept_within",
     .type = CFGMAP_DURATION,
     .def = "4h",
     .min = 60 * 1000,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(sla_accept_ms),
     .help = "A handoff must be accepted (or rejected) this soon."},
    {.key = "first_touch_within",
     .type = CFGMAP_DURATION,
     .def = "1d",
     .min = 60 * 1000,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(sla_first_touch_ms),
     .help = "The first contact attempt must happen this soon after the handoff."},
};

/* ---- scoring ---- */

#define MATCH(field) offsetof(hf_event_match_t, field)
#define GLOB_COND(key_, field_, kinds_, help_)                                                     \
    {                                                                                              \
        .key = (key_), .type = CFGMAP_GLOBS, .offset = MATCH(field_), .event_kinds = (kinds_),     \
        .help = (help_)                                                                            \
    }

static const cfgmap_entry_t event_match_entries[] = {
    {.key = "event",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(kinds),
     .symbols = &event_kinds,
     .help = "Event kinds matched. Without it, the kinds every other condition applies to."},
    GLOB_COND("url", url, KIND(HF_EV_WEB_VISIT) | KIND(HF_EV_FORM),
              "Page URL of a web visit or form submission."),
    GLOB_COND("title", title, KIND(HF_EV_WEB_VISIT) | KIND(HF_EV_DOWNLOAD) | KIND(HF_EV_WEBINAR),
              "Page title, asset title or webinar title."),
    GLOB_COND("referrer", referrer, KIND(HF_EV_WEB_VISIT), "Referrer of a web visit."),
    GLOB_COND("utm_source", utm_source, KIND(HF_EV_WEB_VISIT), "`utm_source` of a web visit."),
    GLOB_COND("utm_medium", utm_medium, KIND(HF_EV_WEB_VISIT), "`utm_medium` of a web visit."),
    GLOB_COND("utm_campaign", utm_campaign, KIND(HF_EV_WEB_VISIT),
              "`utm_campaign` of a web visit."),
    GLOB_COND("form_id", form_id, KIND(HF_EV_FORM), "Form id of a form submission."),
    {.key = "form_type",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(form_types),
     .symbols = &form_types,
     .event_kinds = KIND(HF_EV_FORM),
     .help = "Form types of a form submission."},
    GLOB_COND("asset_id", asset_id, KIND(HF_EV_DOWNLOAD), "Asset id of a download."),
    GLOB_COND("asset_type", asset_type, KIND(HF_EV_DOWNLOAD),
              "Asset type of a download (`whitepaper`, `ebook`, `case_study`, ...)."),
    GLOB_COND("tags", tags, KIND(HF_EV_DOWNLOAD), "Any tag of a download."),
    GLOB_COND("webinar_id", webinar_id, KIND(HF_EV_WEBINAR), "Webinar id."),
    {.key = "webinar_action",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(webinar_actions),
     .symbols = &webinar_actions,
     .event_kinds = KIND(HF_EV_WEBINAR),
     .help = "Webinar actions."},
    {.key = "email_action",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(email_actions),
     .symbols = &email_actions,
     .event_kinds = KIND(HF_EV_EMAIL),
     .help = "E-mail engagement actions."},
    GLOB_COND("campaign", campaign, KIND(HF_EV_DOWNLOAD) | KIND(HF_EV_WEBINAR) | KIND(HF_EV_EMAIL),
              "Campaign of a download, webinar or e-mail."),
    GLOB_COND("link_url", link_url, KIND(HF_EV_EMAIL), "Clicked link of an e-mail."),
    GLOB_COND("source", source, 0, "Envelope `source` (the producing system)."),
    {.key = "min_duration",
     .type = CFGMAP_DURATION32,
     .min = 0,
     .max = 24 * 3600 * 1000,
     .offset = MATCH(min_duration_ms),
     .event_kinds = KIND(HF_EV_WEB_VISIT),
     .help = "Web visits at least this long."},
    {.key = "min_minutes",
     .type = CFGMAP_INT32,
     .min = 0,
     .max = 1440,
     .offset = MATCH(min_minutes),
     .event_kinds = KIND(HF_EV_WEBINAR),
     .help = "Webinar events with at least this many minutes attended."},
};

static void event_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base);

static const cfgmap_table_t event_match_table =
    CFGMAP_TABLE(event_match_entries, event_match_check, NULL);

/* Conditions are ANDed, and most apply to some event kinds only.  A rule whose
 * conditions cannot hold for one event is a mistake; one without "event" matches
 * exactly the kinds its conditions apply to (so form_type never tests the zeroed
 * form_type of a web visit). */
static void event_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base)
{
    hf_event_match_t *m = base;
    if (!map)
        return;
    if (!has_any_key(map)) {
        no_condition(ctx, map, path, &event_match_table);
        return;
    }
    bool explicit_kinds = cfgmap_lookup(ctx, map, "event", NULL) != NULL;
    uint32_t kinds = explicit_kinds ? m->kinds : ALL_KINDS;
    const char *narrowed_by = NULL;
    for (size_t i = 0; i < event_match_table.count; i++) {
        const cfgmap_entry_t *e = &event_match_table.entries[i];
        const yaml_node_t *key;
        if (!e->event_kinds || !cfgmap_lookup(ctx, map, e->key, &key))
            continue;
        if (explicit_kinds && kinds && !(kinds & e->event_kinds)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_printf(&msg, "\"%s\" applies to ", e->key);
            mask_names(&msg, e->event_kinds);
            hf_buf_append_str(&msg, " events only, and \"event\" names none of them");
            cfgmap_path_t p = {path, e->key, 0};
            cfgmap_error(ctx, key, &p, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        if (explicit_kinds)
            continue;
        if (!(kinds & e->event_kinds)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_printf(&msg, "\"%s\" applies to ", e->key);
            mask_names(&msg, e->event_kinds);
            hf_buf_printf(&msg, " events only, \"%s\" to ", narrowed_by);
            mask_names(&msg, kinds);
            hf_buf_append_str(&msg, ": no event can match both");
            cfgmap_path_t p = {path, e->key, 0};
            cfgmap_error(ctx, key, &p, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        kinds &= e->event_kinds;
        narrowed_by = e->key;
    }
    if (!explicit_kinds && kinds != ALL_KINDS)
        m->kinds = kinds;
}

#define SCORE(field) offsetof(hf_score_rule_t, field)

static const cfgmap_entry_t cap_entries[] = {
    {.key = "count",
     .type = CFGMAP_UINT32,
     .flags = CFGMAP_REQUIRED,
     .min = 1,
     .max = 1000000,
     .offset = SCORE(cap_count),
     .help = "Awards allowed per period."},
    {.key = "period",
     .type = CFGMAP_DURATION,
     .flags = CFGMAP_REQUIRED,
     .min = 1000,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = SCORE(cap_period_ms),
     .help = "The period (event time)."},
};
static const cfgmap_table_t cap_table = CFGMAP_TABLE(cap_entries, NULL, NULL);

static const cfgmap_entry_t score_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = SCORE(name),
     .valid = valid_name,
     .doc_type = "name",
     .help =
         "Unique name, shown in handoff reasons and used by `qualify.contact_rules[].requires`."},
    {.key = "points",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = -1000,
     .max = 1000,
     .offset = SCORE(points),
     .help = "Points per matching event; negative to subtract."},
    {.key = "max_per",
     .type = CFGMAP_MAP,
     .table = &cap_table,
     .help = "Frequency cap, e.g. `{ count: 3, period: 1d }`; none by default."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = SCORE(match),
     .table = &event_match_table,
     .help = "Conditions on the event, all of which must hold; a list of patterns matches if "
             "any pattern does."},
};
static const cfgmap_table_t score_rule_table = CFGMAP_TABLE(score_rule_entries, NULL, NULL);

static void scoring_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          void *base)
{
    const hf_rules_t *r = base;
    if (r->max_score <= r->min_score) {
        cfgmap_path_t p = {path, "max", 0};
        const yaml_node_t *at = cfgmap_lookup(ctx, map, "max", NULL);
        cfgmap_error(ctx, at ? at : map, &p, "must be greater than scoring.min (%d)",
                     (int)r->min_score);
    }
    cfgmap_path_t list = {path, "rules", 0};
    unique_names(ctx, cfgmap_lookup(ctx, map, "rules", NULL), &list, r->score_rules,
                 r->score_rule_count, sizeof(hf_score_rule_t), SCORE(name));
}

static const cfgmap_entry_t scoring_entries[] = {
    {.key = "half_life",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(half_life_ms),
     .help = "The score halves over this much event time; `0` = no decay."},
    {.key = "max",
     .type = CFGMAP_INT32,
     .def = "200",
     .min = 1,
     .max = 1000000,
     .offset = RULES(max_score),
     .help = "Overall cap; greater than `min`."},
    {.key = "min",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = -1000000,
     .max = 1000000,
     .offset = RULES(min_score),
     .help = "Floor."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(score_rules),
     .count_offset = RULES(score_rule_count),
     .elem_size = sizeof(hf_score_rule_t),
     .table = &score_rule_table,
     .help = "Scoring rules; every rule that matches an event awards its points."},
};

/* ---- fit ---- */

#define TRAIT(field) offsetof(hf_trait_match_t, field)

static void employees_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    hf_trait_match_t *m = base;
    if (!map)
        return;
    m->has_employees_range = true;
    if (!has_any_key(map))
        cfgmap_error(ctx, map, path, "expected min, max or both");
    else if (m->employees_min > m->employees_max)
        cfgmap_error(ctx, map, path, "min (%d) is greater than max (%d)", (int)m->employees_min,
                     (int)m->employees_max);
}

static const cfgmap_entry_t employees_entries[] = {
    {.key = "min",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = 0,
     .max = INT32_MAX,
     .offset = TRAIT(employees_min),
     .help = "Fewest employees (inclusive)."},
    {.key = "max",
     .type = CFGMAP_INT32,
     .def = "2147483647",
     .min = 0,
     .max = INT32_MAX,
     .offset = TRAIT(employees_max),
     .help = "Most employees (inclusive)."},
};
static const cfgmap_table_t employees_table =
    CFGMAP_TABLE(employees_entries, employees_check, NULL);

#define TRAIT_COND(key_, field_, help_)                                                            \
    {                                                                                              \
        .key = (key_), .type = CFGMAP_GLOBS, .offset = TRAIT(field_), .help = (help_)              \
    }

static const cfgmap_entry_t trait_match_entries[] = {
    TRAIT_COND("title", title, "Job title."),
    TRAIT_COND("seniority", seniority, "Seniority."),
    TRAIT_COND("department", department, "Department."),
    TRAIT_COND("industry", industry, "Industry."),
    TRAIT_COND("company_name", company_name, "Company name."),
    TRAIT_COND("country", country, "Country (ISO 3166-1 alpha-2)."),
    TRAIT_COND("region", region, "Region."),
    TRAIT_COND("email_domain", email_domain, "Domain of the e-mail address."),
    {.key = "employees",
     .type = CFGMAP_MAP,
     .table = &employees_table,
     .help = "Company size range, e.g. `{ min: 200, max: 5000 }`."},
};

static void trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base);
static const cfgmap_table_t trait_match_table =
    CFGMAP_TABLE(trait_match_entries, trait_match_check, NULL);

static void trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base)
{
    if (map && !has_any_key(map))
        no_condition(ctx, map, path, &trait_match_table);
}

#define GRADE(field) offsetof(hf_grade_t, field)
#define FIT(field) offsetof(hf_fit_rule_t, field)
#define EXCL(field) offsetof(hf_fit_exclusion_t, field)

static const cfgmap_entry_t grade_entries[] = {
    {.key = "grade",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = GRADE(letter),
     .valid = valid_grade,
     .doc_type = "grade name",
     .help = "The grade (`A`, `B+`, ...)."},
    {.key = "min",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = -100000,
     .max = 100000,
     .offset = GRADE(min_points),
     .help = "Fit points from which it is given."},
};
static const cfgmap_table_t grade_table = CFGMAP_TABLE(grade_entries, NULL, NULL);

static const cfgmap_entry_t fit_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(name),
     .valid = valid_name,
     .doc_type = "name",
     .help = "Unique name."},
    {.key = "points",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = -1000,
     .max = 1000,
     .offset = FIT(points),
     .help = "Fit points when the traits match."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(match),
     .table = &trait_match_table,
     .help = "Conditions on the contact's traits, all of which must hold."},
};
static const cfgmap_table_t fit_rule_table = CFGMAP_TABLE(fit_rule_entries, NULL, NULL);

static const cfgmap_entry_t exclusion_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = EXCL(name),
     .valid = valid_name,
     .doc_type = "name",
     .help = "Unique name."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = EXCL(match),
     .table = &trait_match_table,
     .help = "Conditions on the contact's traits, all of which must hold."},
};
static const cfgmap_table_t exclusion_table = CFGMAP_TABLE(exclusion_entries, NULL, NULL);

static const struct {
    const char *letter;
    int32_t min_points;
} default_grades[] = {{"A", 80}, {"B", 60}, {"C", 40}, {"D", 20}, {"F", 0}};

static int grade_cmp(const void *a, const void *b)
{
    const hf_grade_t *x = a, *y = b;
    return x->min_points > y->min_points ? -1 : x->min_points < y->min_points;
}

static void fit_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                      void *base)
{
    hf_rules_t *r = base;
    const yaml_node_t *grades = cfgmap_lookup(ctx, map, "grades", NULL);
    cfgmap_path_t grades_path = {path, "grades", 0};
    if (!grades) {
        size_t n = sizeof(default_grades) / sizeof(default_grades[0]);
        hf_grade_t *g = cfgmap_calloc(ctx, n, sizeof(*g));
        if (!g)
            return;
        r->grades = g;
        for (size_t i = 0; i < n; i++) {
            if (!(g[i].letter = cfgmap_strdup(ctx, default_grades[i].letter)))
                return;
            g[i].min_points = default_grades[i].min_points;
            r->grade_count = i + 1;
        }
    } else if (r->grade_count == 0 &&
               (grades->type == YAML_SEQUENCE_NODE || cfgmap_is_null(grades))) {
        cfgmap_error(ctx, grades, &grades_path, "expected at least one grade");
    }
    for (size_t j = 1; j < r->grade_count && cfgmap_spend(ctx, j); j++) {
        for (size_t i = 0; i < j; i++) {
            const hf_grade_t *a = &r->grades[i], *b = &r->grades[j];
            cfgmap_path_t item = {&grades_path, NULL, j};
            const yaml_node_t *node = cfgmap_item(ctx, grades, j);
            if (a->letter && b->letter && strcmp(a->letter, b->letter) == 0) {
                cfgmap_path_t p = {&item, "grade", 0};
                cfgmap_error(ctx, cfgmap_lookup(ctx, node, "grade", NULL), &p,
                             "duplicate grade \"%s\" (also item [%zu])", b->letter, i);
                break;
            }
            if (a->min_points == b->min_points) {
                cfgmap_path_t p = {&item, "min", 0};
                cfgmap_error(ctx, cfgmap_lookup(ctx, node, "min", NULL), &p,
                             "grades %s and %s have the same min (%d)", a->letter ? a->letter : "?",
                             b->letter ? b->letter : "?", (int)b->min_points);
                break;
            }
        }
    }
    if (r->grade_count > 1)
        qsort(r->grades, r->grade_count, sizeof(r->grades[0]), grade_cmp);

    cfgmap_path_t rules_path = {path, "rules", 0};
    unique_names(ctx, cfgmap_lookup(ctx, map, "rules", NULL), &rules_path, r->fit_rules,
                 r->fit_rule_count, sizeof(hf_fit_rule_t), FIT(name));
    cfgmap_path_t excl_path = {path, "exclude", 0};
    unique_names(ctx, cfgmap_lookup(ctx, map, "exclude", NULL), &excl_path, r->exclusions,
                 r->exclusion_count, sizeof(hf_fit_exclusion_t), EXCL(name));
}

static const cfgmap_entry_t fit_entries[] = {
    {.key = "grades",
     .type = CFGMAP_LIST,
     .offset = RULES(grades),
     .count_offset = RULES(grade_count),
     .elem_size = sizeof(hf_grade_t),
     .table = &grade_table,
     .help = "Grades by fit points; default A 80, B 60, C 40, D 20, F 0. Sorted by `min`, "
             "highest first; the lowest is the floor, also given to excluded contacts."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(fit_rules),
     .count_offset = RULES(fit_rule_count),
     .elem_size = sizeof(hf_fit_rule_t),
     .table = &fit_rule_table,
     .help = "Fit rules; the points of every matching rule add up."},
    {.key = "exclude",
     .type = CFGMAP_LIST,
     .offset = RULES(exclusions),
     .count_offset = RULES(exclusion_count),
     .elem_size = sizeof(hf_fit_exclusion_t),
     .table = &exclusion_table,
     .help = "Exclusions (competitors, students, ...): a matching contact gets the lowest grade "
             "and never qualifies by contact rules."},
};

/* ---- lifecycle ---- */

static void lifecycle_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    const hf_rules_t *r = base;
    if (r->engaged_score <= r->max_score)
        return;
    cfgmap_path_t p = {path, "engaged_score", 0};
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "engaged_score", NULL);
    if (at) {
        cfgmap_error(ctx, at, &p, "is above scoring.max (%d): no contact would become engaged",
                     (int)r->max_score);
        return;
    }
    cfgmap_path_t sp = {NULL, "scoring", 0};
    cfgmap_path_t mp = {&sp, "max", 0};
    cfgmap_error(ctx, doc_node(ctx, "scoring", "max"), &mp,
                 "is below lifecycle.engaged_score (%d): no contact would become engaged",
                 (int)r->engaged_score);
}

static const cfgmap_entry_t lifecycle_entries[] = {
    {.key = "engaged_score",
     .type = CFGMAP_INT32,
     .def = "30",
     .min = 0,
     .max = 1000000,
     .offset = RULES(engaged_score),
     .help = "A known contact becomes engaged at this score; at most `scoring.max`."},
};

/* ---- qualify ---- */

#define CONTACT(field) offsetof(hf_contact_rule_t, field)

/* min_grade: a grade of fit.grades (applied before qualify), as its index. */
static void parse_min_grade(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            void *field)
{
    hf_contact_rule_t *rule = field; /* offset 0: the whole rule */
    const hf_rules_t *r = rules_of(ctx);
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node)) {
        cfgmap_error_got(ctx, node, path, "expected a grade of fit.grades");
        return;
    }
    if (!cfgmap_spend(ctx, r->grade_count))
        return;
    int i = hf_rules_grade_index(r, s);
    if (i >= 0) {
        rule->min_grade = i;
        return;
    }
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "unknown grade ");
    cfgmap_quote(&msg, s, 16);
    hf_buf_append_str(&msg, "; fit.grades has ");
    for (size_t g = 0; g < r->grade_count; g++)
        hf_buf_printf(&msg, "%s%s", g ? ", " : "", r->grades[g].letter ? r->grades[g].letter : "?");
    cfgmap_error(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}

/* requires: names of scoring rules (applied before qualify), one or a list. */
static void parse_requires(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                           void *field)
{
    hf_contact_rule_t *rule = field; /* offset 0: the whole rule */
    const hf_rules_t *r = rules_of(ctx);
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && (node->type != YAML_SCALAR_NODE || cfgmap_is_null(node))) {
        cfgmap_error_got(ctx, node, path, "expected a scoring rule name or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0) {
        cfgmap_error(ctx, node, path, "expected at least one scoring rule name");
        return;
    }
    char **names = cfgmap_calloc(ctx, count, sizeof(*names));
    if (!names)
        return;
    rule->requires = names;
    for (size_t i = 0; i < count && cfgmap_spend(ctx, CFGMAP_VISIT_COST + r->score_rule_count);
         i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        if (!s || cfgmap_is_null(item)) {
            cfgmap_error_got(ctx, item, where, "expected a scoring rule name");
            continue;
        }
        if (hf_rules_score_rule_index(r, s) < 0) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "unknown scoring rule ");
            cfgmap_quote(&msg, s, 64);
            hf_buf_append_str(&msg, "; scoring.rules has ");
            if (r->score_rule_count == 0)
                hf_buf_append_str(&msg, "none");
            for (size_t k = 0; k < r->score_rule_count && k < NAMES_LISTED_MAX; k++)
                hf_buf_printf(&msg, "%s%s", k ? ", " : "",
                              r->score_rules[k].name ? r->score_rules[k].name : "?");
            if (r->score_rule_count > NAMES_LISTED_MAX)
                hf_buf_append_str(&msg, ", ...");
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        if (!(names[rule->requires_count] = cfgmap_strdup(ctx, s)))
            return;
        rule->requires_count++;
    }
}

static void contact_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base)
{
    hf_contact_rule_t *rule = base;
    const hf_rules_t *r = rules_of(ctx);
    if (!cfgmap_lookup(ctx, map, "min_grade", NULL))
        rule->min_grade = -1;
    if (!map || map->type != YAML_MAPPING_NODE)
        return;
    const yaml_node_t *min_score = cfgmap_lookup(ctx, map, "min_score", NULL);
    const yaml_node_t *min_grade = cfgmap_lookup(ctx, map, "min_grade", NULL);
    const yaml_node_t *requires = cfgmap_lookup(ctx, map, "requires", NULL);
    const yaml_node_t *within = cfgmap_lookup(ctx, map, "within", NULL);
    if (!min_score && !min_grade && !requires)
        cfgmap_error(ctx, map, path,
                     "expected at least one condition: min_score, min_grade or requires");
    if (within && !requires) {
        cfgmap_path_t p = {path, "within", 0};
        cfgmap_error(ctx, within, &p, "applies to \"requires\", which this rule does not have");
    }
    if (min_score && rule->min_score > r->max_score) {
        cfgmap_path_t p = {path, "min_score", 0};
        cfgmap_error(ctx, min_score, &p, "is above scoring.max (%d): the rule could never hold",
                     (int)r->max_score);
    }
}

static const cfgmap_entry_t contact_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = CONTACT(name),
     .valid = valid_name,
     .doc_type = "name",
     .help = "Unique name, reported as the handoff's `rule`."},
    {.key = "min_score",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = 0,
     .max = 1000000,
     .offset = CONTACT(min_score),
     .help = "Behaviour score at least this (`0` = no condition); at most `scoring.max`."},
    {.key = "min_grade",
     .type = CFGMAP_CUSTOM,
     .parse = parse_min_grade,
     .doc_type = "grade of `fit.grades`",
     .help = "Fit grade at least this good."},
    {.key = "requires",
     .type = CFGMAP_CUSTOM,
     .parse = parse_requires,
     .doc_type = "scoring rule name or list of them",
     .help = "Each named scoring rule must have matched (within `within`)."},
    {.key = "within",
     .type = CFGMAP_DURATION,
     .def = "0",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = CONTACT(within_ms),
     .help = "Recency window of `requires`; `0` = any time."},
};
static const cfgmap_table_t contact_rule_table =
    CFGMAP_TABLE(contact_rule_entries, contact_rule_check, NULL);

static const cfgmap_entry_t hand_raiser_entries[] = {
    {.key = "forms",
     .type = CFGMAP_SYMBOLS,
     .flags = CFGMAP_ALLOW_EMPTY,
     .def = "demo_request, contact_sales",
     .offset = RULES(hand_raiser_forms),
     .symbols = &form_types,
     .help = "Form types that qualify a contact at once; `[]` to turn hand-raisers off."},
    {.key = "rule",
     .type = CFGMAP_STRING,
     .def = "hand_raiser",
     .offset = RULES(hand_raiser_rule),
     .valid = valid_name,
     .doc_type = "name",
     .help = "Rule name reported for hand-raisers; distinct from the contact rules."},
    {.key = "respect_exclusions",
     .type = CFGMAP_BOOL,
     .def = "true",
     .offset = RULES(hand_raisers_respect_exclusions),
     .help = "Whether excluded contacts (fit.exclude) are ignored as hand-raisers too."},
};
static const cfgmap_table_t hand_raiser_table = CFGMAP_TABLE(hand_raiser_entries, NULL, NULL);

static void qualify_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          void *base)
{
    const hf_rules_t *r = base;
    const yaml_node_t *list = cfgmap_lookup(ctx, map, "contact_rules", NULL);
    cfgmap_path_t list_path = {path, "contact_rules", 0};
    unique_names(ctx, list, &list_path, r->contact_rules, r->contact_rule_count,
                 sizeof(hf_contact_rule_t), CONTACT(name));
    for (size_t i = 0; r->hand_raiser_rule && i < r->contact_rule_count; i++) {
        const char *name = r->contact_rules[i].name;
        if (!name || strcmp(name, r->hand_raiser_rule) != 0)
            continue;
        cfgmap_path_t item = {&list_path, NULL, i};
        cfgmap_path_t p = {&item, "name", 0};
        cfgmap_error(ctx, cfgmap_lookup(ctx, cfgmap_item(ctx, list, i), "name", NULL), &p,
                     "\"%s\" is also qualify.hand_raisers.rule", name);
    }
}

static const cfgmap_entry_t qualify_entries[] = {
    {.key = "grace",
     .type = CFGMAP_DURATION,
     .def = "1h",
     .min = 0,
     .max = 30LL * 24 * 3600 * 1000,
     .offset = RULES(grace_ms),
     .help = "A late event can qualify a contact only this close to its newest event."},
    {.key = "hand_raisers",
     .type = CFGMAP_MAP,
     .table = &hand_raiser_table,
     .help = "Hand-raisers (demo request, contact sales) qualify at once."},
    {.key = "contact_rules",
     .type = CFGMAP_LIST,
     .offset = RULES(contact_rules),
     .count_offset = RULES(contact_rule_count),
     .elem_size = sizeof(hf_contact_rule_t),
     .table = &contact_rule_table,
     .help = "Evaluated in order; the first that holds fires. Each needs at least one of "
             "`min_score`, `min_grade`, `requires`."},
};

const cfgmap_table_t config_rules_stitching = CFGMAP_TABLE(stitching_entries, NULL, NULL);
const cfgmap_table_t config_rules_dedupe = CFGMAP_TABLE(dedupe_entries, NULL, NULL);
const cfgmap_table_t config_rules_journey = CFGMAP_TABLE(journey_entries, journey_check, NULL);
const cfgmap_table_t config_rules_scoring = CFGMAP_TABLE(scoring_entries, scoring_check, NULL);
const cfgmap_table_t config_rules_fit = CFGMAP_TABLE(fit_entries, fit_check, NULL);
const cfgmap_table_t config_rules_lifecycle =
    CFGMAP_TABLE(lifecycle_entries, lifecycle_check, NULL);
const cfgmap_table_t config_rules_qualify = CFGMAP_TABLE(qualify_entries, qualify_check, NULL);
const cfgmap_table_t config_rules_sla = CFGMAP_TABLE(sla_entries, NULL, NULL);
