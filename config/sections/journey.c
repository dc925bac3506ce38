/* journey: how much of a contact's journey is kept and put in a handoff. */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)

static void journey_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          void *base)
{
    const hf_rules_t *r = base;
    if (r->journey.top_pages <= r->journey.pages_max)
        return;
    cfgmap_path_t p = {path, "top_pages", 0};
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "top_pages", NULL);
    cfgmap_error(ctx, at ? at : map, &p, "must not exceed journey.pages_tracked (%u)",
                 (unsigned)r->journey.pages_max);
}

static const cfgmap_entry_t journey_entries[] = {
    {.key = "recent",
     .type = CFGMAP_UINT32,
     .def = "20",
     .min = 1,
     .max = 1000,
     .offset = RULES(journey.recent_max),
     .help = "Recent touches kept, newest first."},
    {.key = "pages_tracked",
     .type = CFGMAP_UINT32,
     .def = "50",
     .min = 1,
     .max = 10000,
     .offset = RULES(journey.pages_max),
     .help = "Distinct pages counted per contact."},
    {.key = "top_pages",
     .type = CFGMAP_UINT32,
     .def = "5",
     .min = 0,
     .max = 100,
     .offset = RULES(journey.top_pages),
     .help = "Most viewed pages put in a handoff; at most `pages_tracked`."},
    {.key = "downloads",
     .type = CFGMAP_UINT32,
     .def = "10",
     .min = 0,
     .max = 1000,
     .offset = RULES(journey.downloads_max),
     .help = "Downloads kept (newest)."},
    {.key = "webinars",
     .type = CFGMAP_UINT32,
     .def = "10",
     .min = 0,
     .max = 1000,
     .offset = RULES(journey.webinars_max),
     .help = "Webinar events kept (newest)."},
    {.key = "sessions_tracked",
     .type = CFGMAP_UINT32,
     .def = "64",
     .min = 1,
     .max = 100000,
     .offset = RULES(journey.sessions_max),
     .help = "Distinct session ids remembered to count sessions."},
};

static const cfgmap_table_t journey_table = CFGMAP_TABLE(journey_entries, journey_check, NULL);

const cfgmap_entry_t config_journey_section = CONFIG_SECTION_RULES(
    "journey", journey_table, "How much of a contact's journey is kept and put in a handoff.");
