/* buying_group: buying-group roles, from a contact's title, seniority and department
 * (conditions of trait_match.c); the roles accounts rules name. */
#include "section.h"

#include <string.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define ROLE(field) offsetof(hf_role_rule_t, field)

static const cfgmap_entry_t role_rule_entries[] = {
    {.key = "role",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = ROLE(role),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "The role (`decision_maker`, `champion`, ...); several rules may give one role, "
             "with one weight."},
    {.key = "weight",
     .type = CFGMAP_FLOAT,
     .flags = CFGMAP_MIN_EXCLUSIVE,
     .def = "1",
     .min = 0,
     .max = 100,
     .offset = ROLE(weight),
     .help = "How much a member's score counts in the account score and the buying-group "
             "ranking."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = ROLE(match),
     .table = &config_trait_match_table,
     .help = "Conditions on the contact's traits (`title`, `seniority`, `department`, ...), "
             "all of which must hold."},
};
static const cfgmap_table_t role_rule_table = CFGMAP_TABLE(role_rule_entries, NULL, NULL);

static const cfgmap_entry_t default_role_entries[] = {
    {.key = "role",
     .type = CFGMAP_STRING,
     .def = "user",
     .offset = RULES(buying_group.default_role),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Role of a contact no role rule matches."},
    {.key = "weight",
     .type = CFGMAP_FLOAT,
     .flags = CFGMAP_MIN_EXCLUSIVE,
     .def = "1",
     .min = 0,
     .max = 100,
     .offset = RULES(buying_group.default_role_weight),
     .help = "Its weight."},
};
static const cfgmap_table_t default_role_table = CFGMAP_TABLE(default_role_entries, NULL, NULL);

/* True if one of the first @before role rules gives @role. */
static bool role_in_rules(const hf_rules_t *r, const char *role, size_t before)
{
    for (size_t i = 0; i < before && i < r->buying_group.role_count; i++)
        if (r->buying_group.roles[i].role && strcmp(r->buying_group.roles[i].role, role) == 0)
            return true;
    return false;
}

/* A role has one weight: the account score weighs a member by its role, whichever
 * rule gave it. */
static void buying_group_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base)
{
    const hf_rules_t *r = base;
    const yaml_node_t *list = cfgmap_lookup(ctx, map, "roles", NULL);
    cfgmap_path_t list_path = {path, "roles", 0};
    for (size_t j = 0; j < r->buying_group.role_count && cfgmap_spend(ctx, j + 1); j++) {
        const hf_role_rule_t *b = &r->buying_group.roles[j];
        if (!b->role)
            continue;
        cfgmap_path_t item = {&list_path, NULL, j};
        const yaml_node_t *node = cfgmap_item(ctx, list, j);
        const char *at_key = cfgmap_lookup(ctx, node, "weight", NULL) ? "weight" : "role";
        hf_buf_t msg = HF_BUF_INIT;
        for (size_t i = 0; i < j && !msg.len; i++) {
            const hf_role_rule_t *a = &r->buying_group.roles[i];
            if (a->role && strcmp(a->role, b->role) == 0 && a->weight != b->weight)
                hf_buf_printf(&msg,
                              "role \"%s\" has weight %g at item [%zu]; a role has one weight",
                              b->role, (double)a->weight, i);
        }
        if (!msg.len && r->buying_group.default_role &&
            strcmp(r->buying_group.default_role, b->role) == 0 &&
            r->buying_group.default_role_weight != b->weight && !role_in_rules(r, b->role, j))
            hf_buf_printf(&msg,
                          "role \"%s\" is also buying_group.default_role, with weight %g; a role "
                          "has one weight",
                          b->role, (double)r->buying_group.default_role_weight);
        if (msg.len)
            config_section_error_at_key(ctx, node, &item, at_key, (char *)msg.data);
        hf_buf_free(&msg);
    }
}

static const cfgmap_entry_t buying_group_entries[] = {
    {.key = "default_role",
     .type = CFGMAP_MAP,
     .table = &default_role_table,
     .help = "The role of a contact no rule matches, e.g. `{ role: user, weight: 1.0 }`."},
    {.key = "roles",
     .type = CFGMAP_LIST,
     .offset = RULES(buying_group.roles),
     .count_offset = RULES(buying_group.role_count),
     .elem_size = sizeof(hf_role_rule_t),
     .table = &role_rule_table,
     .help = "Role rules, in order; the first that matches a contact's traits gives its role."},
};

static const cfgmap_table_t buying_group_table =
    CFGMAP_TABLE(buying_group_entries, buying_group_check, NULL);

const cfgmap_entry_t config_buying_group_section =
    CONFIG_SECTION_RULES("buying_group", buying_group_table,
                         "Buying-group roles, from a contact's title, seniority and department.");

bool config_buying_group_role_known(const hf_rules_t *r, const char *role)
{
    return (r->buying_group.default_role && strcmp(r->buying_group.default_role, role) == 0) ||
           role_in_rules(r, role, r->buying_group.role_count);
}

size_t config_buying_group_role_names(cfgmap_ctx_t *ctx, const hf_rules_t *r, hf_buf_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->buying_group.role_count && cfgmap_spend(ctx, i); i++) {
        const char *role = r->buying_group.roles[i].role;
        if (!role || role_in_rules(r, role, i))
            continue;
        if (out && n < CONFIG_SECTION_NAMES_LISTED_MAX)
            hf_buf_printf(out, "%s%s", n ? ", " : "", role);
        n++;
    }
    if (r->buying_group.default_role &&
        !role_in_rules(r, r->buying_group.default_role, r->buying_group.role_count)) {
        if (out && n < CONFIG_SECTION_NAMES_LISTED_MAX)
            hf_buf_printf(out, "%s%s", n ? ", " : "", r->buying_group.default_role);
        n++;
    }
    if (out && n > CONFIG_SECTION_NAMES_LISTED_MAX)
        hf_buf_append_str(out, ", ...");
    return n;
}
