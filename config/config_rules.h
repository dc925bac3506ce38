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
extern const cfgmap_table_t config_rules_interests;
extern const cfgmap_table_t config_rules_buying_group;
extern const cfgmap_table_t config_rules_accounts;

/* routing is a list at the top level, not a map: config.c's root table lists
 * hf_route_rule_t items against this table. */
extern const cfgmap_table_t config_rules_route_rule;

/* calendars is a map of names at the top level: config.c's root table maps each
 * name (checked by config_rules_valid_name()) to an hf_calendar_t filled by this
 * table.  It comes after routing, whose teams its `teams` name, and before sla,
 * which names a calendar. */
extern const cfgmap_table_t config_rules_calendar;
extern const cfgmap_table_t config_rules_sla;
extern const cfgmap_table_t config_rules_recycle;

/* NULL if @s is a valid rule, team or calendar name, else why not. */
const char *config_rules_valid_name(const char *s);
