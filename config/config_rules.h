/* Tables of the rule sections (internal to config/): they fill the hf_rules_t of
 * the config being loaded (ctx->user is the hf_config_t). */
#pragma once

#include "cfgmap.h"

extern const cfgmap_table_t config_rules_stitching;
extern const cfgmap_table_t config_rules_dedupe;
extern const cfgmap_table_t config_rules_journey;
extern const cfgmap_table_t config_rules_scoring;
extern const cfgmap_table_t config_rules_fit;
extern const cfgmap_table_t config_rules_lifecycle;
extern const cfgmap_table_t config_rules_qualify;
extern const cfgmap_table_t config_rules_sla;
extern const cfgmap_table_t config_rules_interests;
extern const cfgmap_table_t config_rules_buying_group;
extern const cfgmap_table_t config_rules_accounts;

/* routing is a list at the top level, not a map: config.c's root table lists
 * hf_route_rule_t items against this table. */
extern const cfgmap_table_t config_rules_route_rule;
