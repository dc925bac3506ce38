/* dedupe: duplicate input events, dropped per contact. */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)

static const cfgmap_entry_t dedupe_entries[] = {
    {.key = "max_ids",
     .type = CFGMAP_UINT32,
     .def = "256",
     .min = 0,
     .max = 100000,
     .offset = RULES(dedupe.max_ids),
     .help = "Event ids remembered per contact."},
    {.key = "window",
     .type = CFGMAP_DURATION,
     .def = "7d",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(dedupe.window_ms),
     .help = "How long after it was seen (processing time) an event id is remembered."},
};

static const cfgmap_table_t dedupe_table = CFGMAP_TABLE(dedupe_entries, NULL, NULL);

const cfgmap_entry_t config_dedupe_section =
    CONFIG_SECTION_RULES("dedupe", dedupe_table, "Duplicate input events, dropped per contact.");
