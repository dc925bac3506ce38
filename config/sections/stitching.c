/* stitching: what stage 1 keeps of an anonymous visitor until they are identified. */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)

static const cfgmap_entry_t stitching_entries[] = {
    {.key = "max_events",
     .type = CFGMAP_UINT32,
     .def = "200",
     .min = 0,
     .max = 100000,
     .offset = RULES(stitching.max_events),
     .help = "Events buffered per anonymous id; the oldest are dropped."},
    {.key = "max_age",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 60 * 1000,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(stitching.max_age_ms),
     .help = "Buffered events older than this (relative to the newest) are dropped."},
};

static const cfgmap_table_t stitching_table = CFGMAP_TABLE(stitching_entries, NULL, NULL);

const cfgmap_entry_t config_stitching_section = CONFIG_SECTION_RULES(
    "stitching", stitching_table,
    "Stage 1: what is kept of an anonymous visitor until they are identified.");
