/* digest: the daily digest of each routing team, per owner and for the team
 * (processors/digest/digest.h). */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)

static const cfgmap_entry_t digest_entries[] = {
    {.key = "enabled",
     .type = CFGMAP_BOOL,
     .def = "false",
     .offset = RULES(digest.enabled),
     .help = "Emit a daily digest per owner and per routing team on `topics.digest`. Cases "
             "then also travel to their team's state on `<app>.by-account`; a handoff without a "
             "routing team is in no digest. Turning it on takes a restart (the topic is "
             "checked at start-up); a reload may turn it off."},
    {.key = "at",
     .type = CFGMAP_DURATION32,
     .def = "8h30m",
     .min = 0,
     .max = 24 * 3600 * 1000 - 1,
     .offset = RULES(digest.at_ms),
     .help = "Local time of day of the digest, as a duration after midnight (`8h30m` = "
             "08:30), in the team's calendar (`calendars`; 24x7 UTC without one), on its "
             "business days only: a weekday with working hours that is not a holiday."},
};

static const cfgmap_table_t digest_table = CFGMAP_TABLE(digest_entries, NULL, NULL);

const cfgmap_entry_t config_digest_section =
    CONFIG_SECTION_RULES("digest", digest_table,
                         "Daily digest per owner and per routing team: what waits for them, "
                         "what breached, was won or lost since the last one, and their SLA "
                         "standing against the team.");
