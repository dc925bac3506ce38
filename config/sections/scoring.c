/* scoring: the behaviour score, points per matching event (conditions of
 * event_match.c), decaying over event time. */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)
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
     .valid = config_section_valid_name,
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
     .table = &config_event_match_table,
     .help = "Conditions on the event, all of which must hold; a list of patterns matches if "
             "any pattern does."},
};
static const cfgmap_table_t score_rule_table = CFGMAP_TABLE(score_rule_entries, NULL, NULL);

static void scoring_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          void *base)
{
    const hf_rules_t *r = base;
    if (r->scoring.max_score <= r->scoring.min_score) {
        cfgmap_path_t p = {path, "max", 0};
        const yaml_node_t *at = cfgmap_lookup(ctx, map, "max", NULL);
        cfgmap_error(ctx, at ? at : map, &p, "must be greater than scoring.min (%d)",
                     (int)r->scoring.min_score);
    }
    cfgmap_path_t list = {path, "rules", 0};
    config_section_unique_names(ctx, cfgmap_lookup(ctx, map, "rules", NULL), &list,
                                r->scoring.rules, r->scoring.rule_count, sizeof(hf_score_rule_t),
                                SCORE(name));
}

static const cfgmap_entry_t scoring_entries[] = {
    {.key = "half_life",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(scoring.half_life_ms),
     .help = "The score halves over this much event time; `0` = no decay."},
    {.key = "max",
     .type = CFGMAP_INT32,
     .def = "200",
     .min = 1,
     .max = 1000000,
     .offset = RULES(scoring.max_score),
     .help = "Overall cap; greater than `min`."},
    {.key = "min",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = -1000000,
     .max = 1000000,
     .offset = RULES(scoring.min_score),
     .help = "Floor."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(scoring.rules),
     .count_offset = RULES(scoring.rule_count),
     .elem_size = sizeof(hf_score_rule_t),
     .table = &score_rule_table,
     .help = "Scoring rules; every rule that matches an event awards its points."},
};

static const cfgmap_table_t scoring_table = CFGMAP_TABLE(scoring_entries, scoring_check, NULL);

const cfgmap_entry_t config_scoring_section = CONFIG_SECTION_RULES(
    "scoring", scoring_table,
    "The behaviour score: points per matching event, decaying over event time.");
