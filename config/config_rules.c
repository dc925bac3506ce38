/* The rule sections of the config file, compiled into hf_rules_t: stitching,
 * dedupe, journey, scoring, fit, lifecycle, qualify, interests, buying_group,
 * accounts, the items of routing, the calendars, sla and recycle.
 *
 * Every string and array put into the hf_rules_t is malloc'd, so hf_rules_free()
 * releases it.  Glob patterns are stored as written (the matcher is
 * case-insensitive); event kinds, form types and actions become bit masks. */
#include "config_rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "tzfile.h"

#define RULES(field) offsetof(hf_rules_t, field)

/* Names listed in a message before it says "...". */
#define NAMES_LISTED_MAX 20

static hf_rules_t *rules_of(cfgmap_ctx_t *ctx)
{
    return ((hf_config_t *)ctx->user)->rules;
}

/* ---- symbol sets (names from processors/model/event.h) ---- */

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

/* The string at @key of a list of structs must be unique; reports each repeat at its
 * key as "duplicate @noun". */
static void unique_values(cfgmap_ctx_t *ctx, const yaml_node_t *list, const cfgmap_path_t *path,
                          const void *array, size_t count, size_t stride, size_t offset,
                          const char *key, const char *noun)
{
    const char *base = array;
    for (size_t j = 1; j < count && cfgmap_spend(ctx, j); j++) {
        const char *b = *(char *const *)(base + j * stride + offset);
        for (size_t i = 0; b && i < j; i++) {
            const char *a = *(char *const *)(base + i * stride + offset);
            if (!a || strcmp(a, b) != 0)
                continue;
            cfgmap_path_t item = {path, NULL, j};
            cfgmap_path_t at = {&item, key, 0};
            const yaml_node_t *node = cfgmap_lookup(ctx, cfgmap_item(ctx, list, j), key, NULL);
            cfgmap_error(ctx, node, &at, "duplicate %s \"%s\" (also item [%zu])", noun, b, i);
            break;
        }
    }
}

/* Names of a list of structs must be unique; reports each repeat at its name. */
static void unique_names(cfgmap_ctx_t *ctx, const yaml_node_t *list, const cfgmap_path_t *path,
                         const void *array, size_t count, size_t stride, size_t name_offset)
{
    unique_values(ctx, list, path, array, count, stride, name_offset, "name", "name");
}

/* The value node at root.@section.@key of the document, or NULL. */
static const yaml_node_t *doc_node(cfgmap_ctx_t *ctx, const char *section, const char *key)
{
    if (!ctx->doc)
        return NULL;
    const yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
    return cfgmap_lookup(ctx, cfgmap_lookup(ctx, root, section, NULL), key, NULL);
}

/* ---- stitching, dedupe, journey ---- */

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
    {.key = "disqualified_reset_on_identify",
     .type = CFGMAP_BOOL,
     .def = "true",
     .offset = RULES(disqualified_reset_on_identify),
     .help = "A disqualified contact that is identified again (identify event or form) becomes "
             "known and may qualify anew, behind the recycle gate; `false` keeps it "
             "disqualified until sales recycle it."},
};

/* ---- qualify ---- */

#define CONTACT(field) offsetof(hf_contact_rule_t, field)

/* min_grade: a grade of fit.grades (applied before qualify and accounts), as its
 * index, into the int at @field. */
static void parse_min_grade(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            void *field)
{
    int *min_grade = field;
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
        *min_grade = i;
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
     .offset = CONTACT(min_grade),
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

/* ---- shared by interests, buying_group, accounts and routing ---- */

/* Free text shown to a rep ("reduce churn", "SOC 2 readiness"). */
static const char *valid_topic(const char *s)
{
    size_t n = strlen(s);
    if (n > 80)
        return "expected a topic of at most 80 characters";
    if (s[0] == ' ' || s[n - 1] == ' ')
        return "expected a topic without leading or trailing spaces";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "expected a topic without control characters";
    return NULL;
}

/* Account ids are compared with the account_id trait as it arrives; an id that
 * resolution treats as "unknown" ("null", "0") would never match. */
static const char *valid_account_id(const char *s)
{
    if (strlen(s) > 256)
        return "expected an account id of at most 256 characters";
    if (hf_id_blocked(s))
        return "expected an account id, not a placeholder for an unknown one (null, 0, ...)";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return "expected an account id without spaces or control characters";
    return NULL;
}

/* An e-mail domain as the codec reports it (compared without regard to case). */
static const char *valid_domain(const char *s)
{
    static const char why[] =
        "expected an e-mail domain such as acme.example (letters, digits, '-' and '.')";
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return why;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return why;
    }
    return NULL;
}

/* @limit_key of @map (at most @limit) must not be above @key (@value): reported at
 * @limit_key when the file sets it, else at @key, where the file makes it too small. */
static void bound_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                        const char *limit_key, uint32_t limit, const char *key, uint32_t value)
{
    if (limit <= value)
        return;
    hf_buf_t where = HF_BUF_INIT, msg = HF_BUF_INIT;
    cfgmap_path_format(&where, path);
    const char *section = where.data ? (char *)where.data : "";
    const yaml_node_t *at = cfgmap_lookup(ctx, map, limit_key, NULL);
    cfgmap_path_t p = {path, at ? limit_key : key, 0};
    if (at) {
        hf_buf_printf(&msg, "must not exceed %s.%s (%u)", section, key, (unsigned)value);
    } else {
        at = cfgmap_lookup(ctx, map, key, NULL);
        hf_buf_printf(&msg, "is below %s.%s (%u, its default)", section, limit_key,
                      (unsigned)limit);
    }
    cfgmap_error(ctx, at ? at : map, &p, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
    hf_buf_free(&where);
}

/* Reports @message at @key of @map (at @map when the key is absent). */
static void error_at_key(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         const char *key, const char *message)
{
    cfgmap_path_t p = {path, key, 0};
    const yaml_node_t *at = cfgmap_lookup(ctx, map, key, NULL);
    cfgmap_error(ctx, at ? at : map, &p, "%s", message);
}

/* True if one of the first @before role rules gives @role. */
static bool role_in_rules(const hf_rules_t *r, const char *role, size_t before)
{
    for (size_t i = 0; i < before && i < r->role_rule_count; i++)
        if (r->role_rules[i].role && strcmp(r->role_rules[i].role, role) == 0)
            return true;
    return false;
}

/* True if @role is one buying_group defines: a role rule's or the default role. */
static bool role_known(const hf_rules_t *r, const char *role)
{
    return (r->default_role && strcmp(r->default_role, role) == 0) ||
           role_in_rules(r, role, r->role_rule_count);
}

/* The distinct roles buying_group defines, the default role last, appended to @out
 * (at most NAMES_LISTED_MAX of them, then "..."); returns how many there are. */
static size_t role_names(cfgmap_ctx_t *ctx, const hf_rules_t *r, hf_buf_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->role_rule_count && cfgmap_spend(ctx, i); i++) {
        const char *role = r->role_rules[i].role;
        if (!role || role_in_rules(r, role, i))
            continue;
        if (out && n < NAMES_LISTED_MAX)
            hf_buf_printf(out, "%s%s", n ? ", " : "", role);
        n++;
    }
    if (r->default_role && !role_in_rules(r, r->default_role, r->role_rule_count)) {
        if (out && n < NAMES_LISTED_MAX)
            hf_buf_printf(out, "%s%s", n ? ", " : "", r->default_role);
        n++;
    }
    if (out && n > NAMES_LISTED_MAX)
        hf_buf_append_str(out, ", ...");
    return n;
}

/* Tiers (0..TIER_MAX) listed by a rule must be ones an account can have: 0 (not a
 * target account) or the tier of some target.  A rule none of whose tiers is
 * possible can never hold. */
#define TIER_MAX 100

static void tiers_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                        const int32_t *tiers, size_t count)
{
    const hf_rules_t *r = rules_of(ctx);
    if (!count || !cfgmap_spend(ctx, count + r->target_count))
        return;
    bool present[TIER_MAX + 1] = {true}; /* tier 0: every account that is not a target */
    for (size_t i = 0; i < r->target_count; i++)
        if (r->targets[i].tier >= 0 && r->targets[i].tier <= TIER_MAX)
            present[r->targets[i].tier] = true;
    for (size_t i = 0; i < count; i++)
        if (tiers[i] >= 0 && tiers[i] <= TIER_MAX && present[tiers[i]])
            return;
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "no account can have any of these tiers: accounts.targets has ");
    size_t listed = 0;
    for (int32_t t = 1; t <= TIER_MAX; t++)
        if (present[t])
            hf_buf_printf(&msg, "%s%d", listed++ ? ", " : "tiers ", (int)t);
    if (!listed)
        hf_buf_append_str(&msg, "no tiers");
    hf_buf_append_str(&msg, " (and 0 is every other account)");
    error_at_key(ctx, map, path, "tiers", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}

/* ---- interests ---- */

#define INTEREST(field) offsetof(hf_interest_rule_t, field)

static const cfgmap_entry_t interest_rule_entries[] = {
    {.key = "topic",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = INTEREST(topic),
     .valid = valid_topic,
     .doc_type = "topic",
     .help = "The problem a buyer comes to solve, as the rep reads it (`reduce churn`); "
             "several rules may feed one topic."},
    {.key = "weight",
     .type = CFGMAP_FLOAT,
     .flags = CFGMAP_MIN_EXCLUSIVE,
     .def = "1",
     .min = 0,
     .max = 100,
     .offset = INTEREST(weight),
     .help = "Added to the topic for every matching event."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = INTEREST(match),
     .table = &event_match_table,
     .help = "Conditions on the event, exactly as in `scoring.rules[].when`."},
};
static const cfgmap_table_t interest_rule_table = CFGMAP_TABLE(interest_rule_entries, NULL, NULL);

static void interests_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    const hf_rules_t *r = base;
    bound_check(ctx, map, path, "top", r->interests_top, "tracked", r->interests_tracked);
}

static const cfgmap_entry_t interests_entries[] = {
    {.key = "half_life",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(interests_half_life_ms),
     .help = "A topic's weight halves over this much event time; `0` = no decay."},
    {.key = "tracked",
     .type = CFGMAP_UINT32,
     .def = "20",
     .min = 1,
     .max = 1000,
     .offset = RULES(interests_tracked),
     .help = "Topics kept per contact; the weakest is dropped to make room."},
    {.key = "top",
     .type = CFGMAP_UINT32,
     .def = "3",
     .min = 0,
     .max = 100,
     .offset = RULES(interests_top),
     .help = "Strongest topics listed in a handoff; at most `tracked`."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(interest_rules),
     .count_offset = RULES(interest_rule_count),
     .elem_size = sizeof(hf_interest_rule_t),
     .table = &interest_rule_table,
     .help = "Interest rules; every rule that matches an event adds its weight to its topic."},
};

/* ---- buying_group ---- */

#define ROLE(field) offsetof(hf_role_rule_t, field)

static const cfgmap_entry_t role_rule_entries[] = {
    {.key = "role",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = ROLE(role),
     .valid = valid_name,
     .doc_type = "name",
     .help = "The role (`decision_maker`, `champion`, ...); several rules may give one role, "
             "with one weight."},
    {.key = "weight",
     .type = CFGMAP_FLOAT,
     .flags = CFGMAP_MIN_EXCLUSIVE,
     .def = "1",
     .min = 0,
     .max = 100,
     .offset = ROLE(weight),
     .help = "How much a member's score counts in the account score and the buying-group "
             "ranking."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = ROLE(match),
     .table = &trait_match_table,
     .help = "Conditions on the contact's traits (`title`, `seniority`, `department`, ...), "
             "all of which must hold."},
};
static const cfgmap_table_t role_rule_table = CFGMAP_TABLE(role_rule_entries, NULL, NULL);

static const cfgmap_entry_t default_role_entries[] = {
    {.key = "role",
     .type = CFGMAP_STRING,
     .def = "user",
     .offset = RULES(default_role),
     .valid = valid_name,
     .doc_type = "name",
     .help = "Role of a contact no role rule matches."},
    {.key = "weight",
     .type = CFGMAP_FLOAT,
     .flags = CFGMAP_MIN_EXCLUSIVE,
     .def = "1",
     .min = 0,
     .max = 100,
     .offset = RULES(default_role_weight),
     .help = "Its weight."},
};
static const cfgmap_table_t default_role_table = CFGMAP_TABLE(default_role_entries, NULL, NULL);

/* A role has one weight: the account score weighs a member by its role, whichever
 * rule gave it. */
static void buying_group_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base)
{
    const hf_rules_t *r = base;
    const yaml_node_t *list = cfgmap_lookup(ctx, map, "roles", NULL);
    cfgmap_path_t list_path = {path, "roles", 0};
    for (size_t j = 0; j < r->role_rule_count && cfgmap_spend(ctx, j + 1); j++) {
        const hf_role_rule_t *b = &r->role_rules[j];
        if (!b->role)
            continue;
        cfgmap_path_t item = {&list_path, NULL, j};
        const yaml_node_t *node = cfgmap_item(ctx, list, j);
        const char *at_key = cfgmap_lookup(ctx, node, "weight", NULL) ? "weight" : "role";
        hf_buf_t msg = HF_BUF_INIT;
        for (size_t i = 0; i < j && !msg.len; i++) {
            const hf_role_rule_t *a = &r->role_rules[i];
            if (a->role && strcmp(a->role, b->role) == 0 && a->weight != b->weight)
                hf_buf_printf(&msg,
                              "role \"%s\" has weight %g at item [%zu]; a role has one weight",
                              b->role, (double)a->weight, i);
        }
        if (!msg.len && r->default_role && strcmp(r->default_role, b->role) == 0 &&
            r->default_role_weight != b->weight && !role_in_rules(r, b->role, j))
            hf_buf_printf(&msg,
                          "role \"%s\" is also buying_group.default_role, with weight %g; a role "
                          "has one weight",
                          b->role, (double)r->default_role_weight);
        if (msg.len)
            error_at_key(ctx, node, &item, at_key, (char *)msg.data);
        hf_buf_free(&msg);
    }
}

static const cfgmap_entry_t buying_group_entries[] = {
    {.key = "default_role",
     .type = CFGMAP_MAP,
     .table = &default_role_table,
     .help = "The role of a contact no rule matches, e.g. `{ role: user, weight: 1.0 }`."},
    {.key = "roles",
     .type = CFGMAP_LIST,
     .offset = RULES(role_rules),
     .count_offset = RULES(role_rule_count),
     .elem_size = sizeof(hf_role_rule_t),
     .table = &role_rule_table,
     .help = "Role rules, in order; the first that matches a contact's traits gives its role."},
};

/* ---- accounts ---- */

/* accounts.domains: a map of e-mail domain to account id, into the hf_rules_t at
 * @field (the accounts section's base).  Domains are stored in lower case. */
static void parse_domains(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                          void *field)
{
    hf_rules_t *r = field;
    if (cfgmap_is_null(node))
        return;
    if (node->type != YAML_MAPPING_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a map of e-mail domain to account id");
        return;
    }
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (count == 0)
        return;
    hf_domain_account_t *map = cfgmap_calloc(ctx, count, sizeof(*map));
    if (!map)
        return;
    r->domain_accounts = map;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        const yaml_node_t *key = cfgmap_node(ctx, pair->key);
        const yaml_node_t *value = cfgmap_node(ctx, pair->value);
        const char *domain = cfgmap_scalar(key);
        if (!domain || cfgmap_is_null(key)) {
            cfgmap_error_got(ctx, key, path, "expected an e-mail domain");
            continue;
        }
        cfgmap_path_t at = {path, domain, 0};
        const char *why = valid_domain(domain);
        if (why) {
            cfgmap_error_got(ctx, key, &at, "%s", why);
            continue;
        }
        if (!cfgmap_spend(ctx, r->domain_account_count))
            return;
        size_t seen = 0;
        while (seen < r->domain_account_count && strcasecmp(map[seen].domain, domain) != 0)
            seen++;
        if (seen < r->domain_account_count) {
            cfgmap_error(ctx, key, &at, "duplicate domain \"%s\"", map[seen].domain);
            continue;
        }
        if (r->free_mail_domains.count && hf_globs_match(&r->free_mail_domains, domain)) {
            cfgmap_error(ctx, key, &at,
                         "is a free-mail domain (accounts.free_mail_domains): its contacts "
                         "never make an account");
            continue;
        }
        const char *account = cfgmap_scalar(value);
        if (!account || cfgmap_is_null(value) || !*account) {
            cfgmap_error_got(ctx, value, &at, "expected an account id");
            continue;
        }
        if ((why = valid_account_id(account))) {
            cfgmap_error_got(ctx, value, &at, "%s", why);
            continue;
        }
        hf_domain_account_t *da = &map[r->domain_account_count];
        if (!(da->domain = cfgmap_strdup(ctx, domain)) ||
            !(da->account_id = cfgmap_strdup(ctx, account))) {
            free(da->domain);
            da->domain = NULL;
            return;
        }
        for (char *p = da->domain; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        r->domain_account_count++;
    }
}

#define TARGET(field) offsetof(hf_target_account_t, field)

static const cfgmap_entry_t target_entries[] = {
    {.key = "account",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = TARGET(account_id),
     .valid = valid_account_id,
     .doc_type = "account id",
     .help = "The account id (after resolution: an `account_id` trait, a mapped id, or a "
             "domain)."},
    {.key = "tier",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = 1,
     .max = TIER_MAX,
     .offset = TARGET(tier),
     .help = "Its tier (1 = most wanted); accounts not listed have tier 0."},
    {.key = "points",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = -1000,
     .max = 1000,
     .offset = TARGET(points),
     .help = "Fit points the account earns for being a target."},
};
static const cfgmap_table_t target_table = CFGMAP_TABLE(target_entries, NULL, NULL);

static void engaged_member_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, void *base)
{
    const hf_rules_t *r = base;
    if (r->engaged_member_score <= r->max_score)
        return;
    if (cfgmap_lookup(ctx, map, "score", NULL)) {
        hf_buf_t msg = HF_BUF_INIT;
        hf_buf_printf(&msg, "is above scoring.max (%d): no member would be engaged",
                      (int)r->max_score);
        error_at_key(ctx, map, path, "score", msg.data ? (char *)msg.data : "");
        hf_buf_free(&msg);
        return;
    }
    /* the default is above scoring.max; lifecycle already reports scoring.max when it
     * is below engaged_score too, and one mistake is one problem */
    if (r->engaged_score > r->max_score)
        return;
    cfgmap_path_t sp = {NULL, "scoring", 0};
    cfgmap_path_t mp = {&sp, "max", 0};
    cfgmap_error(ctx, doc_node(ctx, "scoring", "max"), &mp,
                 "is below accounts.engaged_member.score (%d): no account member would be "
                 "engaged",
                 (int)r->engaged_member_score);
}

static const cfgmap_entry_t engaged_member_entries[] = {
    {.key = "score",
     .type = CFGMAP_INT32,
     .def = "30",
     .min = 1,
     .max = 1000000,
     .offset = RULES(engaged_member_score),
     .help = "A member is engaged at this behaviour score (decayed); at most `scoring.max`."},
    {.key = "within",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(engaged_member_within_ms),
     .help = "... and active this recently, relative to the account's newest activity; "
             "`0` = any time."},
};
static const cfgmap_table_t engaged_member_table =
    CFGMAP_TABLE(engaged_member_entries, engaged_member_check, NULL);

/* An account's traits are its members' company traits (a person's title never
 * reaches it), so account fit rules have conditions on those only. */
static const cfgmap_entry_t account_trait_match_entries[] = {
    TRAIT_COND("industry", industry, "Industry."),
    TRAIT_COND("company_name", company_name, "Company name."),
    TRAIT_COND("country", country, "Country (ISO 3166-1 alpha-2)."),
    TRAIT_COND("region", region, "Region."),
    {.key = "employees",
     .type = CFGMAP_MAP,
     .table = &employees_table,
     .help = "Company size range, e.g. `{ min: 200, max: 5000 }`."},
};

static void account_trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                      const cfgmap_path_t *path, void *base);
static const cfgmap_table_t account_trait_match_table =
    CFGMAP_TABLE(account_trait_match_entries, account_trait_match_check, NULL);

static void account_trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                      const cfgmap_path_t *path, void *base)
{
    (void)base;
    if (map && !has_any_key(map))
        no_condition(ctx, map, path, &account_trait_match_table);
}

static const cfgmap_entry_t account_fit_rule_entries[] = {
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
     .help = "Fit points when the account's traits match."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(match),
     .table = &account_trait_match_table,
     .help = "Conditions on the account's traits (its members' newest), all of which must "
             "hold."},
};
static const cfgmap_table_t account_fit_rule_table =
    CFGMAP_TABLE(account_fit_rule_entries, NULL, NULL);

#define ACCOUNT(field) offsetof(hf_account_rule_t, field)

/* roles_all / roles_any: role names of buying_group (applied before accounts), one
 * or a list, into @names / @count. */
static void parse_role_list(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            char ***names_out, size_t *count_out)
{
    const hf_rules_t *r = rules_of(ctx);
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && (node->type != YAML_SCALAR_NODE || cfgmap_is_null(node))) {
        cfgmap_error_got(ctx, node, path, "expected a role name or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0) {
        cfgmap_error(ctx, node, path, "expected at least one role name");
        return;
    }
    char **names = cfgmap_calloc(ctx, count, sizeof(*names));
    if (!names)
        return;
    *names_out = names;
    for (size_t i = 0; i < count && cfgmap_spend(ctx, CFGMAP_VISIT_COST + r->role_rule_count);
         i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        if (!s || cfgmap_is_null(item)) {
            cfgmap_error_got(ctx, item, where, "expected a role name");
            continue;
        }
        if (!role_known(r, s)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "unknown role ");
            cfgmap_quote(&msg, s, 64);
            hf_buf_append_str(&msg, "; buying_group has ");
            role_names(ctx, r, &msg);
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        if (!(names[*count_out] = cfgmap_strdup(ctx, s)))
            return;
        (*count_out)++;
    }
}

static void parse_roles_all(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            void *field)
{
    hf_account_rule_t *rule = field; /* offset 0: the whole rule */
    parse_role_list(ctx, node, path, &rule->roles_all, &rule->roles_all_count);
}

static void parse_roles_any(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            void *field)
{
    hf_account_rule_t *rule = field; /* offset 0: the whole rule */
    parse_role_list(ctx, node, path, &rule->roles_any, &rule->roles_any_count);
}

static const cfgmap_entry_t account_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = ACCOUNT(name),
     .valid = valid_name,
     .doc_type = "name",
     .help = "Unique name, reported as the account handoff's `rule`."},
    {.key = "min_engaged",
     .type = CFGMAP_UINT32,
     .min = 1,
     .max = 10000,
     .offset = ACCOUNT(min_engaged),
     .help = "At least this many engaged members (see `engaged_member`); at most "
             "`members_max`."},
    {.key = "min_roles",
     .type = CFGMAP_UINT32,
     .min = 1,
     .max = 1000,
     .offset = ACCOUNT(min_roles),
     .help = "At least this many distinct roles among the engaged members."},
    {.key = "roles_all",
     .type = CFGMAP_CUSTOM,
     .parse = parse_roles_all,
     .doc_type = "role name or list of them",
     .help = "Every one of these roles among the engaged members (roles of `buying_group`)."},
    {.key = "roles_any",
     .type = CFGMAP_CUSTOM,
     .parse = parse_roles_any,
     .doc_type = "role name or list of them",
     .help = "At least one of these roles among the engaged members."},
    {.key = "min_score",
     .type = CFGMAP_INT32,
     .min = 1,
     .max = 100000000,
     .offset = ACCOUNT(min_score),
     .help = "Account score at least this; at most `max_score`."},
    {.key = "min_grade",
     .type = CFGMAP_CUSTOM,
     .offset = ACCOUNT(min_grade),
     .parse = parse_min_grade,
     .doc_type = "grade of `fit.grades`",
     .help = "Account fit grade at least this good."},
    {.key = "tiers",
     .type = CFGMAP_INT32S,
     .min = 0,
     .max = TIER_MAX,
     .offset = ACCOUNT(tiers),
     .count_offset = ACCOUNT(tier_count),
     .help = "The account's tier is one of these (`0` = not a target account)."},
};

static void account_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base);
static const cfgmap_table_t account_rule_table =
    CFGMAP_TABLE(account_rule_entries, account_rule_check, NULL);

static void account_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base)
{
    hf_account_rule_t *rule = base;
    const hf_rules_t *r = rules_of(ctx);
    if (!cfgmap_lookup(ctx, map, "min_grade", NULL))
        rule->min_grade = -1;
    if (!map || map->type != YAML_MAPPING_NODE)
        return;
    bool any = false;
    for (size_t i = 0; i < account_rule_table.count; i++)
        any = any || (strcmp(account_rule_table.entries[i].key, "name") != 0 &&
                      cfgmap_lookup(ctx, map, account_rule_table.entries[i].key, NULL));
    if (!any)
        cfgmap_error(ctx, map, path,
                     "expected at least one condition: min_engaged, min_roles, roles_all, "
                     "roles_any, min_score, min_grade or tiers");

    hf_buf_t msg = HF_BUF_INIT;
    if (rule->min_score > r->account_max_score) {
        hf_buf_printf(&msg, "is above accounts.max_score (%d): the rule could never hold",
                      (int)r->account_max_score);
        error_at_key(ctx, map, path, "min_score", msg.data ? (char *)msg.data : "");
        hf_buf_reset(&msg);
    }
    if (rule->min_engaged > r->account_members_max) {
        hf_buf_printf(&msg, "is above accounts.members_max (%u): the rule could never hold",
                      (unsigned)r->account_members_max);
        error_at_key(ctx, map, path, "min_engaged", msg.data ? (char *)msg.data : "");
        hf_buf_reset(&msg);
    }
    if (rule->min_roles > 0) {
        size_t roles = role_names(ctx, r, NULL);
        if (rule->min_roles > roles) {
            hf_buf_printf(&msg, "is more than the %zu role%s buying_group has (", roles,
                          roles == 1 ? "" : "s");
            role_names(ctx, r, &msg);
            hf_buf_append_str(&msg, "): the rule could never hold");
            error_at_key(ctx, map, path, "min_roles", msg.data ? (char *)msg.data : "");
        }
    }
    hf_buf_free(&msg);
    tiers_check(ctx, map, path, rule->tiers, rule->tier_count);
}

static void accounts_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                           void *base)
{
    const hf_rules_t *r = base;
    bound_check(ctx, map, path, "buying_group_max", r->buying_group_max, "members_max",
                r->account_members_max);
    cfgmap_path_t targets = {path, "targets", 0};
    unique_values(ctx, cfgmap_lookup(ctx, map, "targets", NULL), &targets, r->targets,
                  r->target_count, sizeof(hf_target_account_t), TARGET(account_id), "account",
                  "account");
    cfgmap_path_t fit = {path, "fit", 0};
    unique_names(ctx, cfgmap_lookup(ctx, map, "fit", NULL), &fit, r->account_fit_rules,
                 r->account_fit_rule_count, sizeof(hf_fit_rule_t), FIT(name));
    cfgmap_path_t rules = {path, "rules", 0};
    unique_names(ctx, cfgmap_lookup(ctx, map, "rules", NULL), &rules, r->account_rules,
                 r->account_rule_count, sizeof(hf_account_rule_t), ACCOUNT(name));
}

/* Free-mail and disposable domains: their contacts never make an account (an
 * account "gmail.com" would lump strangers together). */
#define FREE_MAIL_DOMAINS                                                                          \
    "gmail.com, googlemail.com, outlook.com, hotmail.com, hotmail.co.uk, hotmail.fr, live.com, "   \
    "msn.com, yahoo.com, yahoo.co.uk, yahoo.fr, ymail.com, aol.com, icloud.com, me.com, mac.com, " \
    "proton.me, protonmail.com, gmx.com, gmx.de, gmx.net, web.de, t-online.de, mail.com, "         \
    "zoho.com, yandex.com, yandex.ru, mail.ru, qq.com, 163.com, 126.com, naver.com, hey.com, "     \
    "fastmail.com, tutanota.com, mailinator.com, guerrillamail.com, 10minutemail.com, "            \
    "yopmail.com, temp-mail.org, trashmail.com, sharklasers.com, dispostable.com, maildrop.cc, "   \
    "getnada.com"

/* in the order of HF_MEMBER_UPDATES_* */
static const char *const member_updates_names[] = {"every_event", "on_commit", NULL};

static const cfgmap_entry_t accounts_entries[] = {
    {.key = "free_mail_domains",
     .type = CFGMAP_GLOBS,
     .flags = CFGMAP_ALLOW_EMPTY,
     .def = FREE_MAIL_DOMAINS,
     .offset = RULES(free_mail_domains),
     .help = "E-mail domains that never make an account (free-mail and disposable); "
             "setting it replaces the shipped list, `[]` turns it off."},
    {.key = "extra_free_mail_domains",
     .type = CFGMAP_GLOBS,
     .flags = CFGMAP_ALLOW_EMPTY | CFGMAP_APPEND,
     .offset = RULES(free_mail_domains),
     .help = "Added to `free_mail_domains` (to extend the shipped list)."},
    {.key = "domains",
     .type = CFGMAP_CUSTOM,
     .parse = parse_domains,
     .doc_type = "map of e-mail domain to account id",
     .help = "Contacts of these domains belong to the given account (several domains may "
             "share one); other domains are their own account. No free-mail domain."},
    {.key = "targets",
     .type = CFGMAP_LIST,
     .offset = RULES(targets),
     .count_offset = RULES(target_count),
     .elem_size = sizeof(hf_target_account_t),
     .table = &target_table,
     .help = "Target accounts, e.g. `{ account: acct-acme, tier: 1, points: 30 }`; each "
             "account once."},
    {.key = "max_score",
     .type = CFGMAP_INT32,
     .def = "1000",
     .min = 1,
     .max = 100000000,
     .offset = RULES(account_max_score),
     .help = "Cap of the account score: the sum over members of score (decayed) times role "
             "weight."},
    {.key = "engaged_member",
     .type = CFGMAP_MAP,
     .table = &engaged_member_table,
     .help = "When a member counts as engaged, e.g. `{ score: 30, within: 30d }`."},
    {.key = "members_max",
     .type = CFGMAP_UINT32,
     .def = "50",
     .min = 1,
     .max = 10000,
     .offset = RULES(account_members_max),
     .help = "Members kept per account."},
    {.key = "buying_group_max",
     .type = CFGMAP_UINT32,
     .def = "8",
     .min = 1,
     .max = 1000,
     .offset = RULES(buying_group_max),
     .help = "Members listed in a handoff's `buying_group`; at most `members_max`."},
    {.key = "member_journey",
     .type = CFGMAP_UINT32,
     .def = "5",
     .min = 0,
     .max = 1000,
     .offset = RULES(account_member_journey),
     .help = "Newest touches, downloads and webinars of each member kept for the account's "
             "journey (each list also within `journey`'s bounds): the account handoff merges "
             "them, so every engaged person shows, not only the busiest."},
    {.key = "member_updates",
     .type = CFGMAP_ENUM,
     .def = "on_commit",
     .offset = RULES(member_updates),
     .names = member_updates_names,
     .help = "When a contact's summary reaches its account: `on_commit` (once per commit "
             "interval for every contact that changed; account rules see each contact's "
             "newest summary) or `every_event` (after every event: exact per event, several "
             "times the work)."},
    {.key = "fit",
     .type = CFGMAP_LIST,
     .offset = RULES(account_fit_rules),
     .count_offset = RULES(account_fit_rule_count),
     .elem_size = sizeof(hf_fit_rule_t),
     .table = &account_fit_rule_table,
     .help = "Account fit rules: the points of every rule that matches the account's traits "
             "add up, with the points of its target tier; `fit.grades` grades the sum."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(account_rules),
     .count_offset = RULES(account_rule_count),
     .elem_size = sizeof(hf_account_rule_t),
     .table = &account_rule_table,
     .help = "Account conversation-ready rules, in order; the first that holds fires, once per "
             "cycle. Each needs at least one condition."},
};

/* ---- routing ---- */

#define ROUTE(field) offsetof(hf_route_rule_t, field)

static bool route_has_condition(cfgmap_ctx_t *ctx, const yaml_node_t *item)
{
    return cfgmap_lookup(ctx, item, "country", NULL) || cfgmap_lookup(ctx, item, "region", NULL) ||
           cfgmap_lookup(ctx, item, "tiers", NULL);
}

static void route_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                             void *base)
{
    const hf_route_rule_t *rule = base;
    if (!map || map->type != YAML_MAPPING_NODE)
        return;
    /* first match wins: a rule without conditions before this one takes every lead */
    const yaml_node_t *list =
        ctx->doc ? cfgmap_lookup(ctx, yaml_document_get_root_node(ctx->doc), "routing", NULL)
                 : NULL;
    size_t index = path && !path->key ? path->index : 0;
    for (size_t j = 0; j < index && cfgmap_spend(ctx, 1); j++) {
        const yaml_node_t *earlier = cfgmap_item(ctx, list, j);
        if (!earlier || earlier->type != YAML_MAPPING_NODE || route_has_condition(ctx, earlier))
            continue;
        cfgmap_error(ctx, map, path,
                     "never used: routing[%zu] has no condition and takes every lead first", j);
        break;
    }
    tiers_check(ctx, map, path, rule->tiers, rule->tier_count);
}

static const cfgmap_entry_t route_rule_entries[] = {
    {.key = "team",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = ROUTE(team),
     .valid = valid_name,
     .doc_type = "name",
     .help = "The team, put in the handoff's `routing.team`; several rules may name one team."},
    {.key = "country",
     .type = CFGMAP_GLOBS,
     .offset = ROUTE(country),
     .help = "The lead's country (ISO 3166-1 alpha-2: `DE`, `US`)."},
    {.key = "region",
     .type = CFGMAP_GLOBS,
     .offset = ROUTE(region),
     .help = "The lead's region (`EMEA`, ...)."},
    {.key = "tiers",
     .type = CFGMAP_INT32S,
     .min = 0,
     .max = TIER_MAX,
     .offset = ROUTE(tiers),
     .count_offset = ROUTE(tier_count),
     .help = "The tier of the lead's account (`0` = not a target account)."},
};

/* ---- calendars ---- */

#define CALENDAR(field) offsetof(hf_calendar_t, field)

const char *config_rules_valid_name(const char *s)
{
    return valid_name(s);
}

/* timezone: an IANA zone from the system's tzdata, into the calendar's hf_tz_t. */
static void parse_timezone(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                           void *field)
{
    hf_tz_t *tz = field;
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node) || !*s) {
        cfgmap_error_got(ctx, node, path,
                         "expected an IANA time zone name such as America/New_York");
        return;
    }
    char err[512] = "";
    hf_tz_t loaded;
    int rc = tzfile_load(&loaded, s, NULL, err, sizeof(err));
    if (rc == -ENOMEM) {
        ctx->oom = true;
        return;
    }
    if (rc < 0) {
        cfgmap_error(ctx, node, path, "%s", *err ? err : "cannot load the time zone");
        return;
    }
    hf_tz_free(tz);
    *tz = loaded;
}

/* Weekdays by hf_day_hours_t index (0 = Sunday); ranges run forward through the
 * week from the first day to the second, so "sun-thu" is a Middle East week. */
static const char *const weekday_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

#define WEEKDAYS_ALL 0x7fu
#define WEEKDAYS_MON_FRI 0x3eu
#define WEEKDAYS_WEEKEND 0x41u

static int weekday_parse(const char *s, size_t n)
{
    for (int d = 0; d < 7; d++)
        if (n == 3 && strncasecmp(s, weekday_names[d], 3) == 0)
            return d;
    return -1;
}

/* The days (bit 1 << weekday) an hours key names, or 0. */
static unsigned weekdays_of_key(const char *key)
{
    if (strcasecmp(key, "daily") == 0)
        return WEEKDAYS_ALL;
    if (strcasecmp(key, "weekdays") == 0)
        return WEEKDAYS_MON_FRI;
    if (strcasecmp(key, "weekend") == 0)
        return WEEKDAYS_WEEKEND;
    const char *dash = strchr(key, '-');
    int first = weekday_parse(key, dash ? (size_t)(dash - key) : strlen(key));
    if (first < 0)
        return 0;
    if (!dash)
        return 1u << first;
    int last = weekday_parse(dash + 1, strlen(dash + 1));
    if (last < 0)
        return 0;
    unsigned days = 0;
    for (int d = first;; d = (d + 1) % 7) {
        days |= 1u << d;
        if (d == last)
            break;
    }
    return days;
}

/* "H:MM" or "HH:MM" at *@p, 24:00 only when @end; advances *@p. */
static bool clock_parse(const char **p, bool end, int32_t *out_s)
{
    const char *s = *p;
    int hours = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 2) {
        hours = hours * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0 || *s++ != ':')
        return false;
    if (!(s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9'))
        return false;
    int minutes = (s[0] - '0') * 10 + (s[1] - '0');
    s += 2;
    if (hours > 24 || (hours == 24 && (minutes != 0 || !end)))
        return false;
    *out_s = (int32_t)(hours * 3600 + minutes * 60);
    *p = s;
    return true;
}

/* "09:00-17:00" (spaces around the dash allowed), opening before closing. */
static bool span_parse(const char *s, int32_t *open_s, int32_t *close_s)
{
    if (!clock_parse(&s, false, open_s))
        return false;
    while (*s == ' ')
        s++;
    if (*s++ != '-')
        return false;
    while (*s == ' ')
        s++;
    return clock_parse(&s, true, close_s) && *s == 0 && *open_s < *close_s;
}

static const char span_expected[] =
    "expected working hours such as \"09:00-17:00\" (opening before closing, from 00:00 to "
    "24:00), a list of them, or \"closed\"";

/* The working hours of one day: "closed", a span, or a list of spans.  False (a
 * problem recorded) if the value is not acceptable. */
static bool day_hours_parse(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            hf_day_hours_t *out)
{
    *out = (hf_day_hours_t){0};
    const char *s = cfgmap_scalar(node);
    if (s && !cfgmap_is_null(node) && strcasecmp(s, "closed") == 0)
        return true;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && (!s || cfgmap_is_null(node))) {
        cfgmap_error_got(ctx, node, path, "%s", span_expected);
        return false;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0) {
        cfgmap_error(ctx, node, path, "expected at least one span (\"closed\" for a closed day)");
        return false;
    }
    if (count > HF_CALENDAR_SPANS) {
        cfgmap_error(ctx, node, path, "at most %d spans a day, got %zu", HF_CALENDAR_SPANS, count);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *text = cfgmap_scalar(item);
        int32_t open_s, close_s;
        if (!text || cfgmap_is_null(item) || !span_parse(text, &open_s, &close_s)) {
            cfgmap_error_got(ctx, item, where, "%s", span_expected);
            ok = false;
            continue;
        }
        uint32_t n = out->span_count;
        if (n > 0 && open_s < out->close_s[n - 1]) {
            cfgmap_error(ctx, item, where,
                         "overlaps the span before it, which closes at %02d:%02d; spans are "
                         "listed in order and do not overlap",
                         (int)(out->close_s[n - 1] / 3600), (int)(out->close_s[n - 1] % 3600 / 60));
            ok = false;
            continue;
        }
        out->open_s[n] = open_s;
        out->close_s[n] = close_s;
        out->span_count = n + 1;
    }
    return ok;
}

/* hours: "always", or a map of weekdays (mon, mon-fri, daily, weekdays, weekend) to
 * their working hours; a day not listed is closed. */
static void parse_hours(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                        void *field)
{
    hf_calendar_t *cal = field; /* offset 0: the whole calendar */
    const char *s = cfgmap_scalar(node);
    if (s && !cfgmap_is_null(node) && strcmp(s, "always") == 0) {
        cal->always = true;
        return;
    }
    if (node->type != YAML_MAPPING_NODE) {
        cfgmap_error_got(ctx, node, path,
                         "expected a map of weekdays to working hours, or \"always\"");
        return;
    }
    int problems = ctx->problems;
    const char *given_by[7] = {NULL};
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        if (!cfgmap_visit(ctx))
            return;
        const yaml_node_t *key = cfgmap_node(ctx, p->key);
        const yaml_node_t *value = cfgmap_node(ctx, p->value);
        const char *name = cfgmap_scalar(key);
        unsigned days = name && !cfgmap_is_null(key) ? weekdays_of_key(name) : 0;
        if (!days) {
            cfgmap_error_got(ctx, key, path,
                             "expected a weekday (mon, tue, wed, thu, fri, sat, sun), a range "
                             "such as mon-fri, daily, weekdays or weekend");
            continue;
        }
        cfgmap_path_t at = {path, name, 0};
        int twice = -1;
        for (int d = 0; d < 7 && twice < 0; d++)
            if ((days & (1u << d)) && given_by[d])
                twice = d;
        if (twice >= 0) {
            cfgmap_error(ctx, key, &at, "%s is given twice (also by \"%s\")", weekday_names[twice],
                         given_by[twice]);
            continue;
        }
        hf_day_hours_t hours;
        bool ok = value && day_hours_parse(ctx, value, &at, &hours);
        for (int d = 0; d < 7; d++) {
            if (!(days & (1u << d)))
                continue;
            given_by[d] = name;
            if (ok)
                cal->hours[d] = hours;
        }
    }
    if (ctx->problems != problems)
        return;
    uint32_t spans = 0;
    for (int d = 0; d < 7; d++)
        spans += cal->hours[d].span_count;
    if (spans == 0)
        cfgmap_error(ctx, node, path,
                     "no working time in the week: every day is closed (\"always\" for round "
                     "the clock)");
}

static int day_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" into days since 1970-01-01, or a message saying what is wrong. */
static const char *date_parse(const char *s, int32_t *out_days)
{
    static const char format[] = "expected a date YYYY-MM-DD";
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return format;
    }
    if (s[10])
        return format;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int32_t m = (s[5] - '0') * 10 + (s[6] - '0');
    int32_t d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int32_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970)
        return "expected a date YYYY-MM-DD from 1970 on";
    if (m < 1 || m > 12)
        return "expected a date YYYY-MM-DD (no such month)";
    if (d < 1 || d > month_days[m - 1] + (m == 2 && is_leap(y)))
        return "expected a date YYYY-MM-DD (no such day in that month)";
    *out_days = (int32_t)hf_days_from_civil(y, m, d);
    return NULL;
}

/* holidays: local dates, one or a list; stored sorted, each once. */
static void parse_holidays(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                           void *field)
{
    hf_calendar_t *cal = field; /* offset 0: the whole calendar */
    if (cfgmap_is_null(node))
        return;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && node->type != YAML_SCALAR_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a date YYYY-MM-DD or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0)
        return;
    int32_t *days = cfgmap_calloc(ctx, count, sizeof(*days));
    if (!days)
        return;
    free(cal->holidays);
    cal->holidays = days;
    cal->holiday_count = 0;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        const char *why = s && !cfgmap_is_null(item) ? date_parse(s, &days[cal->holiday_count])
                                                     : "expected a date YYYY-MM-DD";
        if (why) {
            cfgmap_error_got(ctx, item, where, "%s", why);
            continue;
        }
        cal->holiday_count++;
    }
    qsort(days, cal->holiday_count, sizeof(*days), day_cmp);
    size_t n = 0;
    for (size_t i = 0; i < cal->holiday_count; i++)
        if (n == 0 || days[n - 1] != days[i])
            days[n++] = days[i];
    cal->holiday_count = n;
}

/* True if a routing rule names @team. */
static bool team_routed(const hf_rules_t *r, const char *team)
{
    for (size_t i = 0; i < r->route_rule_count; i++)
        if (r->route_rules[i].team && strcmp(r->route_rules[i].team, team) == 0)
            return true;
    return false;
}

/* The distinct teams of routing, appended to @out (at most NAMES_LISTED_MAX). */
static void team_names(cfgmap_ctx_t *ctx, const hf_rules_t *r, hf_buf_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->route_rule_count && cfgmap_spend(ctx, i); i++) {
        const char *team = r->route_rules[i].team;
        bool earlier = false;
        for (size_t j = 0; team && j < i && !earlier; j++)
            earlier = r->route_rules[j].team && strcmp(r->route_rules[j].team, team) == 0;
        if (!team || earlier)
            continue;
        if (n < NAMES_LISTED_MAX)
            hf_buf_printf(out, "%s%s", n ? ", " : "", team);
        n++;
    }
    if (n == 0)
        hf_buf_append_str(out, "none");
    if (n > NAMES_LISTED_MAX)
        hf_buf_append_str(out, ", ...");
}

/* teams: routing teams (routing is applied before calendars) whose clocks run in
 * this calendar, into hf_rules_t.team_calendars.  A team is in one calendar. */
static void parse_teams(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                        void *field)
{
    hf_calendar_t *cal = field; /* offset 0: the whole calendar */
    hf_rules_t *r = rules_of(ctx);
    if (cfgmap_is_null(node))
        return;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && node->type != YAML_SCALAR_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a team name or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0)
        return;
    hf_team_calendar_t *grown =
        realloc(r->team_calendars, (r->team_calendar_count + count) * sizeof(*grown));
    if (!grown) {
        ctx->oom = true;
        return;
    }
    r->team_calendars = grown;
    int index = (int)(cal - r->calendars);
    for (size_t i = 0; i < count && cfgmap_spend(ctx, CFGMAP_VISIT_COST + r->team_calendar_count +
                                                          r->route_rule_count);
         i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *team = cfgmap_scalar(item);
        const char *why = team && !cfgmap_is_null(item) ? valid_name(team) : "expected a team";
        if (why || !*team) {
            cfgmap_error_got(ctx, item, where, "%s", why ? why : "expected a team");
            continue;
        }
        size_t seen = 0;
        while (seen < r->team_calendar_count && strcmp(r->team_calendars[seen].team, team) != 0)
            seen++;
        if (seen < r->team_calendar_count) {
            int other = r->team_calendars[seen].calendar;
            if (other == index)
                cfgmap_error(ctx, item, where, "duplicate team \"%s\"", team);
            else
                cfgmap_error(ctx, item, where,
                             "team \"%s\" is also in calendar \"%s\"; a team's clocks run in one "
                             "calendar",
                             team, r->calendars[other].name);
            continue;
        }
        if (!team_routed(r, team)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "no routing rule names team ");
            cfgmap_quote(&msg, team, 64);
            hf_buf_append_str(&msg, "; routing has ");
            team_names(ctx, r, &msg);
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        hf_team_calendar_t *tc = &r->team_calendars[r->team_calendar_count];
        if (!(tc->team = cfgmap_strdup(ctx, team)))
            return;
        tc->calendar = index;
        r->team_calendar_count++;
    }
}

static void calendar_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                           void *base)
{
    hf_calendar_t *cal = base;
    if (!cal->tz.name && !(cal->tz.name = cfgmap_strdup(ctx, "UTC")))
        return; /* no timezone (or one that did not load): UTC, no transitions */
    if (cal->always && cal->holiday_count > 0)
        error_at_key(ctx, map, path, "holidays",
                     "an \"always\" calendar is never closed: holidays do not apply to it");
}

static const cfgmap_entry_t calendar_entries[] = {
    {.key = "timezone",
     .type = CFGMAP_CUSTOM,
     .offset = CALENDAR(tz),
     .parse = parse_timezone,
     .doc_type = "IANA time zone name",
     .help = "The zone its hours and holidays are in (`America/New_York`), read from the "
             "system's tzdata (`$TZDIR`, else `/usr/share/zoneinfo`); UTC when absent."},
    {.key = "hours",
     .type = CFGMAP_CUSTOM,
     .flags = CFGMAP_REQUIRED,
     .parse = parse_hours,
     .doc_type = "map of weekdays to working hours, or `always`",
     .help = "Working hours per weekday in local time, e.g. `{ mon-fri: \"09:00-17:00\" }`; a "
             "day not listed is closed. Keys: `mon` ... `sun`, a range such as `mon-fri` or "
             "`sun-thu`, `daily`, `weekdays`, `weekend`; values: `\"HH:MM-HH:MM\"` (closing up "
             "to `24:00`), a list of up to 4 such spans in order, or `closed`. `always` is 24x7 "
             "(business time is wall time)."},
    {.key = "holidays",
     .type = CFGMAP_CUSTOM,
     .parse = parse_holidays,
     .doc_type = "date or list of dates `YYYY-MM-DD`",
     .help = "Local dates closed all day."},
    {.key = "teams",
     .type = CFGMAP_CUSTOM,
     .parse = parse_teams,
     .doc_type = "team name or list of them",
     .help = "Routing teams whose SLA clocks run in this calendar; each named by a routing "
             "rule, and in one calendar only."},
};

/* ---- sla ---- */

#define SLA_RULE(field) offsetof(hf_sla_rule_t, field)
#define SLA_WITHIN_MAX (365LL * 24 * 3600 * 1000)
#define SLA_ESCALATE_MIN 1000LL

/* sla.calendar: a calendar's name, as its index. */
static void parse_default_calendar(cfgmap_ctx_t *ctx, const yaml_node_t *node,
                                   const cfgmap_path_t *path, void *field)
{
    int *index = field;
    const hf_rules_t *r = rules_of(ctx);
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node)) {
        cfgmap_error_got(ctx, node, path, "expected a calendar name");
        return;
    }
    if (!cfgmap_spend(ctx, r->calendar_count))
        return;
    const hf_calendar_t *cal = hf_rules_calendar(r, s);
    if (cal) {
        *index = (int)(cal - r->calendars);
        return;
    }
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "unknown calendar ");
    cfgmap_quote(&msg, s, 64);
    hf_buf_append_str(&msg, "; calendars has ");
    if (r->calendar_count == 0)
        hf_buf_append_str(&msg, "none");
    for (size_t i = 0; i < r->calendar_count && i < NAMES_LISTED_MAX; i++)
        hf_buf_printf(&msg, "%s%s", i ? ", " : "",
                      r->calendars[i].name ? r->calendars[i].name : "?");
    if (r->calendar_count > NAMES_LISTED_MAX)
        hf_buf_append_str(&msg, ", ...");
    cfgmap_error(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}

/* escalate_after: the delays between breach levels, one duration or a list. */
static void parse_escalate_after(cfgmap_ctx_t *ctx, const yaml_node_t *node,
                                 const cfgmap_path_t *path, void *field)
{
    hf_sla_rule_t *rule = field; /* offset 0: the whole rule */
    rule->escalate_count = 0;
    if (cfgmap_is_null(node))
        return;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && node->type != YAML_SCALAR_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a duration or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count > HF_SLA_ESCALATIONS_MAX) {
        cfgmap_error(ctx, node, path, "at most %d escalations, got %zu", HF_SLA_ESCALATIONS_MAX,
                     count);
        return;
    }
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        int64_t ms;
        if (!s || cfgmap_is_null(item) || cfgmap_duration_parse(s, &ms) < 0 ||
            ms < SLA_ESCALATE_MIN || ms > SLA_WITHIN_MAX) {
            cfgmap_error_got(ctx, item, where,
                             "expected duration (500ms, 30s, 15m, 4h, 14d, 2w) in [1s, 365d]");
            continue;
        }
        rule->escalate_ms[rule->escalate_count++] = ms;
    }
}

/* within: 0 turns the clock off; anything shorter than a second is a slip. */
static void sla_within_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                             const hf_sla_rule_t *rule)
{
    if (rule->within_ms > 0 && rule->within_ms < 1000)
        error_at_key(ctx, map, path, "within", "expected 0 (no such clock) or at least 1s");
}

static void sla_single_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                             void *base)
{
    hf_sla_rule_t *rule = base;
    rule->attempts = 1;
    sla_within_check(ctx, map, path, rule);
}

static void sla_follow_up_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                const cfgmap_path_t *path, void *base)
{
    sla_within_check(ctx, map, path, base);
}

#define SLA_WITHIN(def_, help_)                                                                    \
    {                                                                                              \
        .key = "within", .type = CFGMAP_DURATION, .def = (def_), .min = 0, .max = SLA_WITHIN_MAX,  \
        .offset = SLA_RULE(within_ms), .doc_type = "duration: `0` or in [1s, 365d]",               \
        .help = (help_)                                                                            \
    }
#define SLA_ESCALATE(def_)                                                                         \
    {                                                                                              \
        .key = "escalate_after", .type = CFGMAP_CUSTOM, .def = (def_),                             \
        .parse = parse_escalate_after,                                                             \
        .doc_type = "duration or list of durations in [1s, 365d], at most 8",                      \
        .help = "Delays (business time) from one breach level to the next: level 1 at "            \
                "`within`, level 2 the first delay after it, and so on; `[]` = level 1 only."      \
    }

static const cfgmap_entry_t sla_accept_entries[] = {
    SLA_WITHIN("4h", "The handoff is accepted (or the lead contacted) within this much "
                     "business time; `0` = no such clock."),
    SLA_ESCALATE("4h"),
};

static const cfgmap_entry_t sla_first_touch_entries[] = {
    SLA_WITHIN("8h", "The first contact attempt is made within this much business time; `0` = "
                     "no such clock."),
    SLA_ESCALATE("8h"),
};

static const cfgmap_entry_t sla_follow_up_entries[] = {
    {.key = "attempts",
     .type = CFGMAP_UINT32,
     .def = "3",
     .min = 1,
     .max = 100,
     .offset = SLA_RULE(attempts),
     .help = "Contact attempts (calls, e-mails, meetings) needed."},
    SLA_WITHIN("24h", "... within this much business time of the handoff; `0` = no such "
                      "clock."),
    SLA_ESCALATE(NULL),
};

static const cfgmap_table_t sla_accept_table =
    CFGMAP_TABLE(sla_accept_entries, sla_single_check, NULL);
static const cfgmap_table_t sla_first_touch_table =
    CFGMAP_TABLE(sla_first_touch_entries, sla_single_check, NULL);
static const cfgmap_table_t sla_follow_up_table =
    CFGMAP_TABLE(sla_follow_up_entries, sla_follow_up_check, NULL);

/* on_reload: keep | recompute, into a bool. */
static void parse_on_reload(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            void *field)
{
    bool *recompute = field;
    const char *s = cfgmap_scalar(node);
    if (s && !cfgmap_is_null(node) && strcmp(s, "keep") == 0)
        *recompute = false;
    else if (s && !cfgmap_is_null(node) && strcmp(s, "recompute") == 0)
        *recompute = true;
    else
        cfgmap_error_got(ctx, node, path, "expected keep or recompute");
}

static void sla_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                      void *base)
{
    hf_rules_t *r = base;
    (void)path;
    if (!cfgmap_lookup(ctx, map, "calendar", NULL))
        r->default_calendar = -1;
}

static const cfgmap_entry_t sla_entries[] = {
    {.key = "calendar",
     .type = CFGMAP_CUSTOM,
     .offset = RULES(default_calendar),
     .parse = parse_default_calendar,
     .doc_type = "calendar name",
     .help = "The calendar of handoffs whose team no calendar lists, and of handoffs without a "
             "team; absent = round the clock in UTC."},
    {.key = "accept",
     .type = CFGMAP_MAP,
     .offset = RULES(sla[HF_SLA_ACCEPT]),
     .table = &sla_accept_table,
     .help = "Sales accepts (or rejects) the handoff, e.g. `{ within: 4h, escalate_after: [4h] "
             "}`; contacting the lead counts as accepting."},
    {.key = "first_touch",
     .type = CFGMAP_MAP,
     .offset = RULES(sla[HF_SLA_FIRST_TOUCH]),
     .table = &sla_first_touch_table,
     .help = "Sales makes a first contact attempt."},
    {.key = "follow_up",
     .type = CFGMAP_MAP,
     .offset = RULES(sla[HF_SLA_FOLLOW_UP]),
     .table = &sla_follow_up_table,
     .help = "Sales keeps trying: `attempts` contact attempts within `within`."},
    {.key = "on_reload",
     .type = CFGMAP_CUSTOM,
     .def = "keep",
     .offset = RULES(sla_recompute_on_reload),
     .parse = parse_on_reload,
     .doc_type = "one of `keep`, `recompute`",
     .help = "Clocks already running when a reload changes the SLA: `keep` their deadlines, or "
             "`recompute` them with the new durations and calendars."},
};

/* ---- recycle ---- */

/* in the order of HF_RECYCLE_SCORE_* */
static const char *const recycle_score_names[] = {"reset", "halve", "keep", NULL};

static const cfgmap_entry_t recycle_entries[] = {
    {.key = "score",
     .type = CFGMAP_ENUM,
     .def = "halve",
     .offset = RULES(recycle_score),
     .names = recycle_score_names,
     .help = "What a recycle does to the behaviour score: `reset` it to 0, `halve` it, or "
             "`keep` it."},
    {.key = "cooldown",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(recycle_cooldown_ms),
     .help = "Event time after a recycle before the contact may qualify again."},
    {.key = "new_evidence_points",
     .type = CFGMAP_INT32,
     .def = "10",
     .min = 0,
     .max = 1000000,
     .offset = RULES(recycle_new_points),
     .help = "... and the behaviour points it must have earned since the recycle (some "
             "points in any case, even with `0`)."},
    {.key = "hand_raisers_bypass",
     .type = CFGMAP_BOOL,
     .def = "true",
     .offset = RULES(recycle_hand_raisers_bypass),
     .help = "A recycled contact that raises its hand (demo request, ...) qualifies at once, "
             "cooldown or not."},
    {.key = "no_response_after",
     .type = CFGMAP_DURATION,
     .def = "40h",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(recycle_no_response_ms),
     .help = "A lead whose `sla.follow_up.attempts` contact attempts were all made and that "
             "got no meeting within this much business time after the last one is recycled; "
             "`0` = never."},
};

const cfgmap_table_t config_rules_stitching = CFGMAP_TABLE(stitching_entries, NULL, NULL);
const cfgmap_table_t config_rules_dedupe = CFGMAP_TABLE(dedupe_entries, NULL, NULL);
const cfgmap_table_t config_rules_journey = CFGMAP_TABLE(journey_entries, journey_check, NULL);
const cfgmap_table_t config_rules_scoring = CFGMAP_TABLE(scoring_entries, scoring_check, NULL);
const cfgmap_table_t config_rules_fit = CFGMAP_TABLE(fit_entries, fit_check, NULL);
const cfgmap_table_t config_rules_lifecycle =
    CFGMAP_TABLE(lifecycle_entries, lifecycle_check, NULL);
const cfgmap_table_t config_rules_qualify = CFGMAP_TABLE(qualify_entries, qualify_check, NULL);
const cfgmap_table_t config_rules_interests =
    CFGMAP_TABLE(interests_entries, interests_check, NULL);
const cfgmap_table_t config_rules_buying_group =
    CFGMAP_TABLE(buying_group_entries, buying_group_check, NULL);
const cfgmap_table_t config_rules_accounts = CFGMAP_TABLE(accounts_entries, accounts_check, NULL);
const cfgmap_table_t config_rules_route_rule =
    CFGMAP_TABLE(route_rule_entries, route_rule_check, NULL);
const cfgmap_table_t config_rules_calendar = CFGMAP_TABLE(calendar_entries, calendar_check, NULL);
const cfgmap_table_t config_rules_sla = CFGMAP_TABLE(sla_entries, sla_check, NULL);
const cfgmap_table_t config_rules_recycle = CFGMAP_TABLE(recycle_entries, NULL, NULL);
