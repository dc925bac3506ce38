/* recycle: a lead sales sent back (or never followed up) returns to marketing, and
 * may qualify again under these conditions. */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)

/* in the order of HF_RECYCLE_SCORE_* */
static const char *const recycle_score_names[] = {"reset", "halve", "keep", NULL};

static const cfgmap_entry_t recycle_entries[] = {
    {.key = "score",
     .type = CFGMAP_ENUM,
     .def = "halve",
     .offset = RULES(recycle.score_policy),
     .names = recycle_score_names,
     .help = "What a recycle does to the behaviour score: `reset` it to 0, `halve` it, or "
             "`keep` it."},
    {.key = "cooldown",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(recycle.cooldown_ms),
     .help = "Event time after a recycle before the contact may qualify again."},
    {.key = "new_evidence_points",
     .type = CFGMAP_INT32,
     .def = "10",
     .min = 0,
     .max = 1000000,
     .offset = RULES(recycle.new_points),
     .help = "... and the behaviour points it must have earned since the recycle (some "
             "points in any case, even with `0`)."},
    {.key = "hand_raisers_bypass",
     .type = CFGMAP_BOOL,
     .def = "true",
     .offset = RULES(recycle.hand_raisers_bypass),
     .help = "A recycled contact that raises its hand (demo request, ...) qualifies at once, "
             "cooldown or not."},
    {.key = "no_response_after",
     .type = CFGMAP_DURATION,
     .def = "40h",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = RULES(recycle.no_response_ms),
     .help = "A lead whose `sla.follow_up.attempts` contact attempts were all made and that "
             "got no meeting within this much business time after the last one is recycled; "
             "`0` = never."},
};

static const cfgmap_table_t recycle_table = CFGMAP_TABLE(recycle_entries, NULL, NULL);

const cfgmap_entry_t config_recycle_section =
    CONFIG_SECTION_RULES("recycle", recycle_table,
                         "Recycling: a lead sales sent back (or never followed up) returns to "
                         "marketing, and may qualify again under these conditions.");
