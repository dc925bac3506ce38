/* qualify: when a contact is conversation-ready (an MQL): hand-raisers, and contact
 * rules on the score, the fit grade and the scoring rules that matched. */
#include "section.h"

#include <string.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define CONTACT(field) offsetof(hf_contact_rule_t, field)

/* requires: names of scoring rules (applied before qualify), one or a list. */
static void parse_requires(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                           const cfgmap_path_t *path, void *field)
{
    hf_contact_rule_t *rule = field; /* offset 0: the whole rule */
    const hf_rules_t *r = config_section_rules(ctx);
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
    for (size_t i = 0; i < count && cfgmap_spend(ctx, CFGMAP_VISIT_COST + r->scoring.rule_count);
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
            if (r->scoring.rule_count == 0)
                hf_buf_append_str(&msg, "none");
            for (size_t k = 0; k < r->scoring.rule_count && k < CONFIG_SECTION_NAMES_LISTED_MAX;
                 k++)
                hf_buf_printf(&msg, "%s%s", k ? ", " : "",
                              r->scoring.rules[k].name ? r->scoring.rules[k].name : "?");
            if (r->scoring.rule_count > CONFIG_SECTION_NAMES_LISTED_MAX)
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
    const hf_rules_t *r = config_section_rules(ctx);
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
    if (min_score && rule->min_score > r->scoring.max_score) {
        cfgmap_path_t p = {path, "min_score", 0};
        cfgmap_error(ctx, min_score, &p, "is above scoring.max (%d): the rule could never hold",
                     (int)r->scoring.max_score);
    }
}

static const cfgmap_entry_t contact_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = CONTACT(name),
     .valid = config_section_valid_name,
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
     .parse = config_fit_parse_min_grade,
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
     .offset = RULES(qualify.hand_raiser_forms),
     .symbols = &cfgtypes_form_types,
     .help = "Form types that qualify a contact at once; `[]` to turn hand-raisers off."},
    {.key = "rule",
     .type = CFGMAP_STRING,
     .def = "hand_raiser",
     .offset = RULES(qualify.hand_raiser_rule),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Rule name reported for hand-raisers; distinct from the contact rules."},
    {.key = "respect_exclusions",
     .type = CFGMAP_BOOL,
     .def = "true",
     .offset = RULES(qualify.hand_raisers_respect_exclusions),
     .help = "Whether excluded contacts (fit.exclude) are ignored as hand-raisers too."},
};
static const cfgmap_table_t hand_raiser_table = CFGMAP_TABLE(hand_raiser_entries, NULL, NULL);

static void qualify_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          void *base)
{
    const hf_rules_t *r = base;
    const yaml_node_t *list = cfgmap_lookup(ctx, map, "contact_rules", NULL);
    cfgmap_path_t list_path = {path, "contact_rules", 0};
    config_section_unique_names(ctx, list, &list_path, r->qualify.contact_rules,
                                r->qualify.contact_rule_count, sizeof(hf_contact_rule_t),
                                CONTACT(name));
    for (size_t i = 0; r->qualify.hand_raiser_rule && i < r->qualify.contact_rule_count; i++) {
        const char *name = r->qualify.contact_rules[i].name;
        if (!name || strcmp(name, r->qualify.hand_raiser_rule) != 0)
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
     .offset = RULES(qualify.grace_ms),
     .help = "A late event can qualify a contact only this close to its newest event."},
    {.key = "hand_raisers",
     .type = CFGMAP_MAP,
     .table = &hand_raiser_table,
     .help = "Hand-raisers (demo request, contact sales) qualify at once."},
    {.key = "contact_rules",
     .type = CFGMAP_LIST,
     .offset = RULES(qualify.contact_rules),
     .count_offset = RULES(qualify.contact_rule_count),
     .elem_size = sizeof(hf_contact_rule_t),
     .table = &contact_rule_table,
     .help = "Evaluated in order; the first that holds fires. Each needs at least one of "
             "`min_score`, `min_grade`, `requires`."},
};

static const cfgmap_table_t qualify_table = CFGMAP_TABLE(qualify_entries, qualify_check, NULL);

const cfgmap_entry_t config_qualify_section = CONFIG_SECTION_RULES(
    "qualify", qualify_table, "When a contact is conversation-ready (an MQL).");
