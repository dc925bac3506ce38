/* The sections of the rules file in the order they are applied, whatever the file's
 * order: the rule sections after scoring and fit can then refer to their rules and
 * grades, accounts to the roles of buying_group, routing to the tiers of
 * accounts.targets, calendars to the teams of routing, sla to the calendars.  The
 * order is also that of the reference (docs/CONFIG.md). */
#include "registry.h"

#include "section.h"

static const cfgmap_entry_t *const sections[] = {
    &config_app_section,       &config_kafka_section,     &config_topics_section,
    &config_state_section,     &config_ordering_section,  &config_output_section,
    &config_limits_section,    &config_log_section,       &config_http_section,
    &config_stitching_section, &config_dedupe_section,    &config_journey_section,
    &config_scoring_section,   &config_fit_section,       &config_lifecycle_section,
    &config_qualify_section,   &config_interests_section, &config_buying_group_section,
    &config_accounts_section,  &config_routing_section,   &config_calendars_section,
    &config_sla_section,       &config_recycle_section,   &config_expansion_section,
    &config_digest_section,
};

_Static_assert(sizeof(sections) / sizeof(sections[0]) == CONFIG_REGISTRY_SECTIONS,
               "CONFIG_REGISTRY_SECTIONS");

/* After every section: what spans them. */
static void root_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                       void *base)
{
    config_topics_derive(ctx, map, path, base);
}

void config_registry_init(config_registry_t *reg)
{
    for (size_t i = 0; i < CONFIG_REGISTRY_SECTIONS; i++)
        reg->entries[i] = *sections[i];
    reg->table = (cfgmap_table_t){reg->entries, CONFIG_REGISTRY_SECTIONS, root_check, NULL};
}

void config_registry_hide_secrets(cfgmap_ctx_t *ctx, const yaml_node_t *root)
{
    config_kafka_hide_secrets(ctx, root);
}

bool config_registry_secret(const char *const *keys, size_t depth, bool is_key)
{
    return config_kafka_secret(keys, depth, is_key);
}
