/* What the section files of config/sections/ share (internal to config/).
 *
 * Each top-level key of the file has one file here holding its table(s), its checks
 * and what it compiles into the hf_config_t (ctx->user) or its hf_rules_t; it
 * exports the section's entry of the root table, config_<key>_section, which
 * registry.c lists in the order the sections are applied.  A few pieces serve
 * several sections: the event matcher (scoring, interests), the trait matchers
 * (fit, buying_group, accounts), min_grade (qualify, accounts), the roles of
 * buying_group and the tiers of accounts.targets (accounts, routing).
 *
 * Every string and array put into the hf_rules_t is malloc'd, so hf_rules_free()
 * releases it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfgmap.h"
#include "config/cfgtypes.h"
#include "config/config.h"
#include "processors/rules/rules.h"
#include "util/buf.h"

/* Names listed in a message before it says "...". */
#define CONFIG_SECTION_NAMES_LISTED_MAX 20

/* The root entry of a rule section: a map filling the config's hf_rules_t. */
#define CONFIG_SECTION_RULES(key_, table_, help_)                                                  \
    {                                                                                              \
        .key = (key_), .type = CFGMAP_MAP, .flags = CFGMAP_DEREF,                                  \
        .deref_offset = offsetof(hf_config_t, rules), .table = &(table_), .help = (help_)          \
    }

/* ---- helpers (section.c) ---- */

/* The hf_rules_t of the config being loaded. */
hf_rules_t *config_section_rules(cfgmap_ctx_t *ctx);

/* NULL if @s is a valid rule, role, team or calendar name, else why not: names end
 * up in outputs, metrics labels and state keys. */
const char *config_section_valid_name(const char *s);

/* True if @map is a map with at least one key. */
bool config_section_has_any_key(const yaml_node_t *map);

/* Reports at @map that a map of conditions has none, listing the keys of @table. */
void config_section_no_condition(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, const cfgmap_table_t *table);

/* The string at @offset of each of the @count structs (of @stride bytes) at @array,
 * the items of @list at @path, must be unique: each repeat is reported at its @key
 * as "duplicate @noun". */
void config_section_unique_values(cfgmap_ctx_t *ctx, const yaml_node_t *list,
                                  const cfgmap_path_t *path, const void *array, size_t count,
                                  size_t stride, size_t offset, const char *key, const char *noun);

/* The same for the "name" of each item. */
void config_section_unique_names(cfgmap_ctx_t *ctx, const yaml_node_t *list,
                                 const cfgmap_path_t *path, const void *array, size_t count,
                                 size_t stride, size_t name_offset);

/* The value node at root.@section.@key of the document, or NULL. */
const yaml_node_t *config_section_doc_node(cfgmap_ctx_t *ctx, const char *section, const char *key);

/* @limit_key of @map (at most @limit) must not be above @key (@value): reported at
 * @limit_key when the file sets it, else at @key, where the file makes it too small. */
void config_section_bound_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                const cfgmap_path_t *path, const char *limit_key, uint32_t limit,
                                const char *key, uint32_t value);

/* Reports @message at @key of @map (at @map when the key is absent). */
void config_section_error_at_key(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, const char *key, const char *message);

/* ---- shared by several sections ---- */

/* The conditions on an event of scoring.rules[].when and interests.rules[].when
 * (event_match.c), into an hf_event_match_t. */
extern const cfgmap_table_t config_event_match_table;

/* The conditions on a contact's traits of fit rules, exclusions and role rules, and
 * on an account's traits of accounts.fit (trait_match.c), into an hf_trait_match_t. */
extern const cfgmap_table_t config_trait_match_table;
extern const cfgmap_table_t config_account_trait_match_table;

/* min_grade: a grade of fit.grades (applied before qualify and accounts), as its
 * index, into the int at @field (fit.c). */
void config_fit_parse_min_grade(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                                const cfgmap_path_t *path, void *field);

/* True if @role is one buying_group defines: a role rule's or the default role
 * (buying_group.c). */
bool config_buying_group_role_known(const hf_rules_t *r, const char *role);

/* The distinct roles buying_group defines, the default role last, appended to @out
 * (NULL: only counted; at most CONFIG_SECTION_NAMES_LISTED_MAX, then "..."); returns
 * how many there are (buying_group.c). */
size_t config_buying_group_role_names(cfgmap_ctx_t *ctx, const hf_rules_t *r, hf_buf_t *out);

/* One SLA clock each (sla.c): accept, first_touch, follow_up, into an hf_sla_rule_t;
 * also the clocks of expansion.sla. */
extern const cfgmap_table_t config_sla_accept_table;
extern const cfgmap_table_t config_sla_first_touch_table;
extern const cfgmap_table_t config_sla_follow_up_table;

/* Highest tier of accounts.targets; tiers of rules are in [0, this] (accounts.c). */
#define CONFIG_ACCOUNTS_TIER_MAX 100

/* The @count tiers a rule at @path lists must include one an account can have: 0
 * (not a target account) or the tier of some target; reported at "tiers" of @map
 * (accounts.c). */
void config_accounts_tiers_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, const int32_t *tiers, size_t count);

/* True if @team is expansion.team as the document sets it (or its default), for
 * calendars, which are applied before expansion (expansion.c). */
bool config_expansion_team_is(cfgmap_ctx_t *ctx, const char *team);

/* ---- the sections, one per file, in the order registry.c applies them ---- */

extern const cfgmap_entry_t config_app_section;
extern const cfgmap_entry_t config_kafka_section;
extern const cfgmap_entry_t config_topics_section;
extern const cfgmap_entry_t config_state_section;
extern const cfgmap_entry_t config_ordering_section;
extern const cfgmap_entry_t config_output_section;
extern const cfgmap_entry_t config_limits_section;
extern const cfgmap_entry_t config_log_section;
extern const cfgmap_entry_t config_http_section;
extern const cfgmap_entry_t config_stitching_section;
extern const cfgmap_entry_t config_dedupe_section;
extern const cfgmap_entry_t config_journey_section;
extern const cfgmap_entry_t config_scoring_section;
extern const cfgmap_entry_t config_fit_section;
extern const cfgmap_entry_t config_lifecycle_section;
extern const cfgmap_entry_t config_qualify_section;
extern const cfgmap_entry_t config_interests_section;
extern const cfgmap_entry_t config_buying_group_section;
extern const cfgmap_entry_t config_accounts_section;
extern const cfgmap_entry_t config_routing_section;
extern const cfgmap_entry_t config_calendars_section;
extern const cfgmap_entry_t config_sla_section;
extern const cfgmap_entry_t config_recycle_section;
extern const cfgmap_entry_t config_expansion_section;
extern const cfgmap_entry_t config_digest_section;

/* ---- what spans sections (topics.c, kafka.c) ---- */

/* A name Kafka accepts for a topic, at most @max_len characters: NULL, or why not. */
const char *config_topics_check_name(const char *s, size_t max_len);

/* After every section: derives the internal topics from app.id and requires every
 * topic of the file to be distinct (@root: the document's root map, or NULL). */
void config_topics_derive(cfgmap_ctx_t *ctx, const yaml_node_t *root, const cfgmap_path_t *path,
                          hf_config_t *cfg);

/* For the YAML syntax errors (a cfgsyntax_secret_fn): a scalar under kafka.properties
 * (at any depth), or under any other key of kafka but the three known scalars, may
 * be a secret; a property's name is not. */
bool config_kafka_secret(const char *const *keys, size_t depth, bool is_key);

/* The scalar at @value with ${VAR} taken from the environment as in
 * kafka.properties (a new string), or NULL with the problem recorded at @at (or
 * ctx->oom set); never quotes the value.  Also for http.token_file. */
char *config_kafka_expand_env(cfgmap_ctx_t *ctx, const yaml_node_t *value, const cfgmap_path_t *at);

/* Before any table runs: marks every kafka.properties value of the document as never
 * to be quoted (also under repeated "kafka" or "properties" keys). */
void config_kafka_hide_secrets(cfgmap_ctx_t *ctx, const yaml_node_t *root);
