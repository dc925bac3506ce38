/* interests: content mapped to the problems buyers come to solve (conditions of
 * event_match.c); every handoff lists the strongest. */
#include "section.h"

#include <string.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define INTEREST(field) offsetof(hf_interest_rule_t, field)

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
     .table = &config_event_match_table,
     .help = "Conditions on the event, exactly as in `scoring.rules[].when`."},
};
static const cfgmap_table_t interest_rule_table = CFGMAP_TABLE(interest_rule_entries, NULL, NULL);

static void interests_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    const hf_rules_t *r = base;
    config_section_bound_check(ctx, map, path, "top", r->interests.top, "tracked",
                               r->interests.tracked);
}

static const cfgmap_entry_t interests_entries[] = {
    {.key = "half_life",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(interests.half_life_ms),
     .help = "A topic's weight halves over this much event time; `0` = no decay."},
    {.key = "tracked",
     .type = CFGMAP_UINT32,
     .def = "20",
     .min = 1,
     .max = 1000,
     .offset = RULES(interests.tracked),
     .help = "Topics kept per contact; the weakest is dropped to make room."},
    {.key = "top",
     .type = CFGMAP_UINT32,
     .def = "3",
     .min = 0,
     .max = 100,
     .offset = RULES(interests.top),
     .help = "Strongest topics listed in a handoff; at most `tracked`."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(interests.rules),
     .count_offset = RULES(interests.rule_count),
     .elem_size = sizeof(hf_interest_rule_t),
     .table = &interest_rule_table,
     .help = "Interest rules; every rule that matches an event adds its weight to its topic."},
};

static const cfgmap_table_t interests_table =
    CFGMAP_TABLE(interests_entries, interests_check, NULL);

const cfgmap_entry_t config_interests_section =
    CONFIG_SECTION_RULES("interests", interests_table,
                         "Interests: content mapped to the problems buyers come to solve; every "
                         "handoff lists the strongest.");
