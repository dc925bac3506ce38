/* routing: which team a handoff goes to; rules tried in order, on the lead's country,
 * region and account tier (tiers of accounts.targets). */
#include "section.h"

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
    config_accounts_tiers_check(ctx, map, path, rule->tiers, rule->tier_count);
}

static const cfgmap_entry_t route_rule_entries[] = {
    {.key = "team",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = ROUTE(team),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "The team, put in the handoff's `routing.team`; several rules may name one team."},
    {.key = "country",
     CFGTYPES_GLOBS,
     .offset = ROUTE(country),
     .help = "The lead's country (ISO 3166-1 alpha-2: `DE`, `US`)."},
    {.key = "region",
     CFGTYPES_GLOBS,
     .offset = ROUTE(region),
     .help = "The lead's region (`EMEA`, ...)."},
    {.key = "tiers",
     .type = CFGMAP_INT32S,
     .min = 0,
     .max = CONFIG_ACCOUNTS_TIER_MAX,
     .offset = ROUTE(tiers),
     .count_offset = ROUTE(tier_count),
     .help = "The tier of the lead's account (`0` = not a target account)."},
};

static const cfgmap_table_t route_rule_table =
    CFGMAP_TABLE(route_rule_entries, route_rule_check, NULL);

const cfgmap_entry_t config_routing_section = {
    .key = "routing",
    .type = CFGMAP_LIST,
    .flags = CFGMAP_DEREF,
    .deref_offset = offsetof(hf_config_t, rules),
    .offset = offsetof(hf_rules_t, routing.rules),
    .count_offset = offsetof(hf_rules_t, routing.rule_count),
    .elem_size = sizeof(hf_route_rule_t),
    .table = &route_rule_table,
    .help = "Routing: which team a handoff goes to. Tried in order; the first rule whose "
            "`country`, `region` and `tiers` all hold names the team. A lead no rule covers "
            "is handed off all the same, with a note.",
};
