/* The conditions on an event of scoring.rules[].when and interests.rules[].when, into
 * an hf_event_match_t.  Most conditions apply to some event kinds only: the entry's
 * tag holds those kinds (0: every kind). */
#include "section.h"

#define MATCH(field) offsetof(hf_event_match_t, field)
#define GLOB_COND(key_, field_, kinds_, help_)                                                     \
    {                                                                                              \
        .key = (key_), CFGTYPES_GLOBS, .offset = MATCH(field_), .tag = (kinds_), .help = (help_)   \
    }

static const cfgmap_entry_t event_match_entries[] = {
    {.key = "event",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(kinds),
     .symbols = &cfgtypes_event_kinds,
     .help = "Event kinds matched. Without it, the kinds every other condition applies to."},
    GLOB_COND("url", url, CFGTYPES_KIND(HF_EV_WEB_VISIT) | CFGTYPES_KIND(HF_EV_FORM),
              "Page URL of a web visit or form submission."),
    GLOB_COND("title", title,
              CFGTYPES_KIND(HF_EV_WEB_VISIT) | CFGTYPES_KIND(HF_EV_DOWNLOAD) |
                  CFGTYPES_KIND(HF_EV_WEBINAR),
              "Page title, asset title or webinar title."),
    GLOB_COND("referrer", referrer, CFGTYPES_KIND(HF_EV_WEB_VISIT), "Referrer of a web visit."),
    GLOB_COND("utm_source", utm_source, CFGTYPES_KIND(HF_EV_WEB_VISIT),
              "`utm_source` of a web visit."),
    GLOB_COND("utm_medium", utm_medium, CFGTYPES_KIND(HF_EV_WEB_VISIT),
              "`utm_medium` of a web visit."),
    GLOB_COND("utm_campaign", utm_campaign, CFGTYPES_KIND(HF_EV_WEB_VISIT),
              "`utm_campaign` of a web visit."),
    GLOB_COND("form_id", form_id, CFGTYPES_KIND(HF_EV_FORM), "Form id of a form submission."),
    {.key = "form_type",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(form_types),
     .symbols = &cfgtypes_form_types,
     .tag = CFGTYPES_KIND(HF_EV_FORM),
     .help = "Form types of a form submission."},
    GLOB_COND("asset_id", asset_id, CFGTYPES_KIND(HF_EV_DOWNLOAD), "Asset id of a download."),
    GLOB_COND("asset_type", asset_type, CFGTYPES_KIND(HF_EV_DOWNLOAD),
              "Asset type of a download (`whitepaper`, `ebook`, `case_study`, ...)."),
    GLOB_COND("tags", tags, CFGTYPES_KIND(HF_EV_DOWNLOAD), "Any tag of a download."),
    GLOB_COND("webinar_id", webinar_id, CFGTYPES_KIND(HF_EV_WEBINAR), "Webinar id."),
    {.key = "webinar_action",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(webinar_actions),
     .symbols = &cfgtypes_webinar_actions,
     .tag = CFGTYPES_KIND(HF_EV_WEBINAR),
     .help = "Webinar actions."},
    {.key = "email_action",
     .type = CFGMAP_SYMBOLS,
     .offset = MATCH(email_actions),
     .symbols = &cfgtypes_email_actions,
     .tag = CFGTYPES_KIND(HF_EV_EMAIL),
     .help = "E-mail engagement actions."},
    GLOB_COND("campaign", campaign,
              CFGTYPES_KIND(HF_EV_DOWNLOAD) | CFGTYPES_KIND(HF_EV_WEBINAR) |
                  CFGTYPES_KIND(HF_EV_EMAIL),
              "Campaign of a download, webinar or e-mail."),
    GLOB_COND("link_url", link_url, CFGTYPES_KIND(HF_EV_EMAIL), "Clicked link of an e-mail."),
    GLOB_COND("source", source, 0, "Envelope `source` (the producing system)."),
    {.key = "min_duration",
     .type = CFGMAP_DURATION32,
     .min = 0,
     .max = 24 * 3600 * 1000,
     .offset = MATCH(min_duration_ms),
     .tag = CFGTYPES_KIND(HF_EV_WEB_VISIT),
     .help = "Web visits at least this long."},
    {.key = "min_minutes",
     .type = CFGMAP_INT32,
     .min = 0,
     .max = 1440,
     .offset = MATCH(min_minutes),
     .tag = CFGTYPES_KIND(HF_EV_WEBINAR),
     .help = "Webinar events with at least this many minutes attended."},
};

static void event_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base);

const cfgmap_table_t config_event_match_table =
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
    if (!config_section_has_any_key(map)) {
        config_section_no_condition(ctx, map, path, &config_event_match_table);
        return;
    }
    bool explicit_kinds = cfgmap_lookup(ctx, map, "event", NULL) != NULL;
    uint32_t kinds = explicit_kinds ? m->kinds : CFGTYPES_ALL_KINDS;
    const char *narrowed_by = NULL;
    for (size_t i = 0; i < config_event_match_table.count; i++) {
        const cfgmap_entry_t *e = &config_event_match_table.entries[i];
        const yaml_node_t *key;
        if (!e->tag || !cfgmap_lookup(ctx, map, e->key, &key))
            continue;
        if (explicit_kinds && kinds && !(kinds & e->tag)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_printf(&msg, "\"%s\" applies to ", e->key);
            cfgtypes_kinds_format(&msg, e->tag);
            hf_buf_append_str(&msg, " events only, and \"event\" names none of them");
            cfgmap_path_t p = {path, e->key, 0};
            cfgmap_error(ctx, key, &p, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        if (explicit_kinds)
            continue;
        if (!(kinds & e->tag)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_printf(&msg, "\"%s\" applies to ", e->key);
            cfgtypes_kinds_format(&msg, e->tag);
            hf_buf_printf(&msg, " events only, \"%s\" to ", narrowed_by);
            cfgtypes_kinds_format(&msg, kinds);
            hf_buf_append_str(&msg, ": no event can match both");
            cfgmap_path_t p = {path, e->key, 0};
            cfgmap_error(ctx, key, &p, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        kinds &= e->tag;
        narrowed_by = e->key;
    }
    if (!explicit_kinds && kinds != CFGTYPES_ALL_KINDS)
        m->kinds = kinds;
}
