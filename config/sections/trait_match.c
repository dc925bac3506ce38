/* The conditions on a contact's traits (fit rules, exclusions, role rules) and on an
 * account's traits (accounts.fit), into an hf_trait_match_t. */
#include "section.h"

#define TRAIT(field) offsetof(hf_trait_match_t, field)

static void employees_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    hf_trait_match_t *m = base;
    if (!map)
        return;
    m->has_employees_range = true;
    if (!config_section_has_any_key(map))
        cfgmap_error(ctx, map, path, "expected min, max or both");
    else if (m->employees_min > m->employees_max)
        cfgmap_error(ctx, map, path, "min (%d) is greater than max (%d)", (int)m->employees_min,
                     (int)m->employees_max);
}

static const cfgmap_entry_t employees_entries[] = {
    {.key = "min",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = 0,
     .max = INT32_MAX,
     .offset = TRAIT(employees_min),
     .help = "Fewest employees (inclusive)."},
    {.key = "max",
     .type = CFGMAP_INT32,
     .def = "2147483647",
     .min = 0,
     .max = INT32_MAX,
     .offset = TRAIT(employees_max),
     .help = "Most employees (inclusive)."},
};
static const cfgmap_table_t employees_table =
    CFGMAP_TABLE(employees_entries, employees_check, NULL);

#define TRAIT_COND(key_, field_, help_)                                                            \
    {                                                                                              \
        .key = (key_), CFGTYPES_GLOBS, .offset = TRAIT(field_), .help = (help_)                    \
    }

static const cfgmap_entry_t trait_match_entries[] = {
    TRAIT_COND("title", title, "Job title."),
    TRAIT_COND("seniority", seniority, "Seniority."),
    TRAIT_COND("department", department, "Department."),
    TRAIT_COND("industry", industry, "Industry."),
    TRAIT_COND("company_name", company_name, "Company name."),
    TRAIT_COND("country", country, "Country (ISO 3166-1 alpha-2)."),
    TRAIT_COND("region", region, "Region."),
    TRAIT_COND("email_domain", email_domain, "Domain of the e-mail address."),
    {.key = "employees",
     .type = CFGMAP_MAP,
     .table = &employees_table,
     .help = "Company size range, e.g. `{ min: 200, max: 5000 }`."},
};

static void trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base);
const cfgmap_table_t config_trait_match_table =
    CFGMAP_TABLE(trait_match_entries, trait_match_check, NULL);

static void trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                              void *base)
{
    if (map && !config_section_has_any_key(map))
        config_section_no_condition(ctx, map, path, &config_trait_match_table);
}

/* An account's traits are its members' company traits (a person's title never
 * reaches it), so account fit rules have conditions on those only. */
static const cfgmap_entry_t account_trait_match_entries[] = {
    TRAIT_COND("industry", industry, "Industry."),
    TRAIT_COND("company_name", company_name, "Company name."),
    TRAIT_COND("country", country, "Country (ISO 3166-1 alpha-2)."),
    TRAIT_COND("region", region, "Region."),
    {.key = "employees",
     .type = CFGMAP_MAP,
     .table = &employees_table,
     .help = "Company size range, e.g. `{ min: 200, max: 5000 }`."},
};

static void account_trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                      const cfgmap_path_t *path, void *base);
const cfgmap_table_t config_account_trait_match_table =
    CFGMAP_TABLE(account_trait_match_entries, account_trait_match_check, NULL);

static void account_trait_match_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                      const cfgmap_path_t *path, void *base)
{
    (void)base;
    if (map && !config_section_has_any_key(map))
        config_section_no_condition(ctx, map, path, &config_account_trait_match_table);
}
