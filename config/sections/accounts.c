/* accounts: which account a contact belongs to (e-mail domains, free-mail domains),
 * target accounts and their tiers, the account score and fit (conditions of
 * trait_match.c), engaged members, and when an account is conversation-ready (roles
 * of buying_group, grades of fit). */
#include "section.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define FIT(field) offsetof(hf_fit_rule_t, field)
#define TARGET(field) offsetof(hf_target_account_t, field)
#define ACCOUNT(field) offsetof(hf_account_rule_t, field)

/* Account ids are compared with the account_id trait as it arrives; an id that
 * resolution treats as "unknown" ("null", "0") would never match. */
static const char *valid_account_id(const char *s)
{
    if (strlen(s) > 256)
        return "expected an account id of at most 256 characters";
    if (hf_id_blocked(s))
        return "expected an account id, not a placeholder for an unknown one (null, 0, ...)";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return "expected an account id without spaces or control characters";
    return NULL;
}

/* An e-mail domain as the codec reports it (compared without regard to case). */
static const char *valid_domain(const char *s)
{
    static const char why[] =
        "expected an e-mail domain such as acme.example (letters, digits, '-' and '.')";
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return why;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return why;
    }
    return NULL;
}

/* accounts.domains: a map of e-mail domain to account id, into the hf_rules_t at
 * @field (the accounts section's base).  Domains are stored in lower case. */
static void parse_domains(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                          const cfgmap_path_t *path, void *field)
{
    hf_rules_t *r = field;
    if (cfgmap_is_null(node))
        return;
    if (node->type != YAML_MAPPING_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a map of e-mail domain to account id");
        return;
    }
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (count == 0)
        return;
    hf_domain_account_t *map = cfgmap_calloc(ctx, count, sizeof(*map));
    if (!map)
        return;
    r->accounts.domains = map;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        const yaml_node_t *key = cfgmap_node(ctx, pair->key);
        const yaml_node_t *value = cfgmap_node(ctx, pair->value);
        const char *domain = cfgmap_scalar(key);
        if (!domain || cfgmap_is_null(key)) {
            cfgmap_error_got(ctx, key, path, "expected an e-mail domain");
            continue;
        }
        cfgmap_path_t at = {path, domain, 0};
        const char *why = valid_domain(domain);
        if (why) {
            cfgmap_error_got(ctx, key, &at, "%s", why);
            continue;
        }
        if (!cfgmap_spend(ctx, r->accounts.domain_count))
            return;
        size_t seen = 0;
        while (seen < r->accounts.domain_count && strcasecmp(map[seen].domain, domain) != 0)
            seen++;
        if (seen < r->accounts.domain_count) {
            cfgmap_error(ctx, key, &at, "duplicate domain \"%s\"", map[seen].domain);
            continue;
        }
        if (r->accounts.free_mail_domains.count &&
            hf_globs_match(&r->accounts.free_mail_domains, domain)) {
            cfgmap_error(ctx, key, &at,
                         "is a free-mail domain (accounts.free_mail_domains): its contacts "
                         "never make an account");
            continue;
        }
        const char *account = cfgmap_scalar(value);
        if (!account || cfgmap_is_null(value) || !*account) {
            cfgmap_error_got(ctx, value, &at, "expected an account id");
            continue;
        }
        if ((why = valid_account_id(account))) {
            cfgmap_error_got(ctx, value, &at, "%s", why);
            continue;
        }
        hf_domain_account_t *da = &map[r->accounts.domain_count];
        if (!(da->domain = cfgmap_strdup(ctx, domain)) ||
            !(da->account_id = cfgmap_strdup(ctx, account))) {
            free(da->domain);
            da->domain = NULL;
            return;
        }
        for (char *p = da->domain; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        r->accounts.domain_count++;
    }
}

static const cfgmap_entry_t target_entries[] = {
    {.key = "account",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = TARGET(account_id),
     .valid = valid_account_id,
     .doc_type = "account id",
     .help = "The account id (after resolution: an `account_id` trait, a mapped id, or a "
             "domain)."},
    {.key = "tier",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = 1,
     .max = CONFIG_ACCOUNTS_TIER_MAX,
     .offset = TARGET(tier),
     .help = "Its tier (1 = most wanted); accounts not listed have tier 0."},
    {.key = "points",
     .type = CFGMAP_INT32,
     .def = "0",
     .min = -1000,
     .max = 1000,
     .offset = TARGET(points),
     .help = "Fit points the account earns for being a target."},
};
static const cfgmap_table_t target_table = CFGMAP_TABLE(target_entries, NULL, NULL);

static void engaged_member_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, void *base)
{
    const hf_rules_t *r = base;
    if (r->accounts.engaged_member_score <= r->scoring.max_score)
        return;
    if (cfgmap_lookup(ctx, map, "score", NULL)) {
        hf_buf_t msg = HF_BUF_INIT;
        hf_buf_printf(&msg, "is above scoring.max (%d): no member would be engaged",
                      (int)r->scoring.max_score);
        config_section_error_at_key(ctx, map, path, "score", msg.data ? (char *)msg.data : "");
        hf_buf_free(&msg);
        return;
    }
    /* the default is above scoring.max; lifecycle already reports scoring.max when it
     * is below engaged_score too, and one mistake is one problem */
    if (r->lifecycle.engaged_score > r->scoring.max_score)
        return;
    cfgmap_path_t sp = {NULL, "scoring", 0};
    cfgmap_path_t mp = {&sp, "max", 0};
    cfgmap_error(ctx, config_section_doc_node(ctx, "scoring", "max"), &mp,
                 "is below accounts.engaged_member.score (%d): no account member would be "
                 "engaged",
                 (int)r->accounts.engaged_member_score);
}

static const cfgmap_entry_t engaged_member_entries[] = {
    {.key = "score",
     .type = CFGMAP_INT32,
     .def = "30",
     .min = 1,
     .max = 1000000,
     .offset = RULES(accounts.engaged_member_score),
     .help = "A member is engaged at this behaviour score (decayed); at most `scoring.max`."},
    {.key = "within",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(accounts.engaged_member_within_ms),
     .help = "... and active this recently, relative to the account's newest activity; "
             "`0` = any time."},
};
static const cfgmap_table_t engaged_member_table =
    CFGMAP_TABLE(engaged_member_entries, engaged_member_check, NULL);

static const cfgmap_entry_t account_fit_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(name),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Unique name."},
    {.key = "points",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = -1000,
     .max = 1000,
     .offset = FIT(points),
     .help = "Fit points when the account's traits match."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(match),
     .table = &config_account_trait_match_table,
     .help = "Conditions on the account's traits (its members' newest), all of which must "
             "hold."},
};
static const cfgmap_table_t account_fit_rule_table =
    CFGMAP_TABLE(account_fit_rule_entries, NULL, NULL);

/* roles_all / roles_any: role names of buying_group (applied before accounts), one
 * or a list, into @names / @count. */
static void parse_role_list(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            char ***names_out, size_t *count_out)
{
    const hf_rules_t *r = config_section_rules(ctx);
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && (node->type != YAML_SCALAR_NODE || cfgmap_is_null(node))) {
        cfgmap_error_got(ctx, node, path, "expected a role name or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0) {
        cfgmap_error(ctx, node, path, "expected at least one role name");
        return;
    }
    char **names = cfgmap_calloc(ctx, count, sizeof(*names));
    if (!names)
        return;
    *names_out = names;
    for (size_t i = 0;
         i < count && cfgmap_spend(ctx, CFGMAP_VISIT_COST + r->buying_group.role_count); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        if (!s || cfgmap_is_null(item)) {
            cfgmap_error_got(ctx, item, where, "expected a role name");
            continue;
        }
        if (!config_buying_group_role_known(r, s)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "unknown role ");
            cfgmap_quote(&msg, s, 64);
            hf_buf_append_str(&msg, "; buying_group has ");
            config_buying_group_role_names(ctx, r, &msg);
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        if (!(names[*count_out] = cfgmap_strdup(ctx, s)))
            return;
        (*count_out)++;
    }
}

static void parse_roles_all(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                            const cfgmap_path_t *path, void *field)
{
    hf_account_rule_t *rule = field; /* offset 0: the whole rule */
    parse_role_list(ctx, node, path, &rule->roles_all, &rule->roles_all_count);
}

static void parse_roles_any(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                            const cfgmap_path_t *path, void *field)
{
    hf_account_rule_t *rule = field; /* offset 0: the whole rule */
    parse_role_list(ctx, node, path, &rule->roles_any, &rule->roles_any_count);
}

static const cfgmap_entry_t account_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = ACCOUNT(name),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Unique name, reported as the account handoff's `rule`."},
    {.key = "min_engaged",
     .type = CFGMAP_UINT32,
     .min = 1,
     .max = 10000,
     .offset = ACCOUNT(min_engaged),
     .help = "At least this many engaged members (see `engaged_member`); at most "
             "`members_max`."},
    {.key = "min_roles",
     .type = CFGMAP_UINT32,
     .min = 1,
     .max = 1000,
     .offset = ACCOUNT(min_roles),
     .help = "At least this many distinct roles among the engaged members."},
    {.key = "roles_all",
     .type = CFGMAP_CUSTOM,
     .parse = parse_roles_all,
     .doc_type = "role name or list of them",
     .help = "Every one of these roles among the engaged members (roles of `buying_group`)."},
    {.key = "roles_any",
     .type = CFGMAP_CUSTOM,
     .parse = parse_roles_any,
     .doc_type = "role name or list of them",
     .help = "At least one of these roles among the engaged members."},
    {.key = "min_score",
     .type = CFGMAP_INT32,
     .min = 1,
     .max = 100000000,
     .offset = ACCOUNT(min_score),
     .help = "Account score at least this; at most `max_score`."},
    {.key = "min_grade",
     .type = CFGMAP_CUSTOM,
     .offset = ACCOUNT(min_grade),
     .parse = config_fit_parse_min_grade,
     .doc_type = "grade of `fit.grades`",
     .help = "Account fit grade at least this good."},
    {.key = "tiers",
     .type = CFGMAP_INT32S,
     .min = 0,
     .max = CONFIG_ACCOUNTS_TIER_MAX,
     .offset = ACCOUNT(tiers),
     .count_offset = ACCOUNT(tier_count),
     .help = "The account's tier is one of these (`0` = not a target account)."},
};

static void account_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base);
static const cfgmap_table_t account_rule_table =
    CFGMAP_TABLE(account_rule_entries, account_rule_check, NULL);

static void account_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                               void *base)
{
    hf_account_rule_t *rule = base;
    const hf_rules_t *r = config_section_rules(ctx);
    if (!cfgmap_lookup(ctx, map, "min_grade", NULL))
        rule->min_grade = -1;
    if (!map || map->type != YAML_MAPPING_NODE)
        return;
    bool any = false;
    for (size_t i = 0; i < account_rule_table.count; i++)
        any = any || (strcmp(account_rule_table.entries[i].key, "name") != 0 &&
                      cfgmap_lookup(ctx, map, account_rule_table.entries[i].key, NULL));
    if (!any)
        cfgmap_error(ctx, map, path,
                     "expected at least one condition: min_engaged, min_roles, roles_all, "
                     "roles_any, min_score, min_grade or tiers");

    hf_buf_t msg = HF_BUF_INIT;
    if (rule->min_score > r->accounts.max_score) {
        hf_buf_printf(&msg, "is above accounts.max_score (%d): the rule could never hold",
                      (int)r->accounts.max_score);
        config_section_error_at_key(ctx, map, path, "min_score", msg.data ? (char *)msg.data : "");
        hf_buf_reset(&msg);
    }
    if (rule->min_engaged > r->accounts.members_max) {
        hf_buf_printf(&msg, "is above accounts.members_max (%u): the rule could never hold",
                      (unsigned)r->accounts.members_max);
        config_section_error_at_key(ctx, map, path, "min_engaged",
                                    msg.data ? (char *)msg.data : "");
        hf_buf_reset(&msg);
    }
    if (rule->min_roles > 0) {
        size_t roles = config_buying_group_role_names(ctx, r, NULL);
        if (rule->min_roles > roles) {
            hf_buf_printf(&msg, "is more than the %zu role%s buying_group has (", roles,
                          roles == 1 ? "" : "s");
            config_buying_group_role_names(ctx, r, &msg);
            hf_buf_append_str(&msg, "): the rule could never hold");
            config_section_error_at_key(ctx, map, path, "min_roles",
                                        msg.data ? (char *)msg.data : "");
        }
    }
    hf_buf_free(&msg);
    config_accounts_tiers_check(ctx, map, path, rule->tiers, rule->tier_count);
}

static void accounts_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                           void *base)
{
    const hf_rules_t *r = base;
    config_section_bound_check(ctx, map, path, "buying_group_max", r->accounts.buying_group_max,
                               "members_max", r->accounts.members_max);
    cfgmap_path_t targets = {path, "targets", 0};
    config_section_unique_values(ctx, cfgmap_lookup(ctx, map, "targets", NULL), &targets,
                                 r->accounts.targets, r->accounts.target_count,
                                 sizeof(hf_target_account_t), TARGET(account_id), "account",
                                 "account");
    cfgmap_path_t fit = {path, "fit", 0};
    config_section_unique_names(ctx, cfgmap_lookup(ctx, map, "fit", NULL), &fit,
                                r->accounts.fit_rules, r->accounts.fit_rule_count,
                                sizeof(hf_fit_rule_t), FIT(name));
    cfgmap_path_t rules = {path, "rules", 0};
    config_section_unique_names(ctx, cfgmap_lookup(ctx, map, "rules", NULL), &rules,
                                r->accounts.rules, r->accounts.rule_count,
                                sizeof(hf_account_rule_t), ACCOUNT(name));
}

/* Free-mail and disposable domains: their contacts never make an account (an
 * account "gmail.com" would lump strangers together). */
#define FREE_MAIL_DOMAINS                                                                          \
    "gmail.com, googlemail.com, outlook.com, hotmail.com, hotmail.co.uk, hotmail.fr, live.com, "   \
    "msn.com, yahoo.com, yahoo.co.uk, yahoo.fr, ymail.com, aol.com, icloud.com, me.com, mac.com, " \
    "proton.me, protonmail.com, gmx.com, gmx.de, gmx.net, web.de, t-online.de, mail.com, "         \
    "zoho.com, yandex.com, yandex.ru, mail.ru, qq.com, 163.com, 126.com, naver.com, hey.com, "     \
    "fastmail.com, tutanota.com, mailinator.com, guerrillamail.com, 10minutemail.com, "            \
    "yopmail.com, temp-mail.org, trashmail.com, sharklasers.com, dispostable.com, maildrop.cc, "   \
    "getnada.com"

/* in the order of HF_MEMBER_UPDATES_* */
static const char *const member_updates_names[] = {"every_event", "on_commit", "coalesced", NULL};

static const cfgmap_entry_t accounts_entries[] = {
    {.key = "free_mail_domains",
     CFGTYPES_GLOBS,
     .flags = CFGMAP_ALLOW_EMPTY,
     .def = FREE_MAIL_DOMAINS,
     .offset = RULES(accounts.free_mail_domains),
     .help = "E-mail domains that never make an account (free-mail and disposable); "
             "setting it replaces the shipped list, `[]` turns it off."},
    {.key = "extra_free_mail_domains",
     CFGTYPES_GLOBS,
     .flags = CFGMAP_ALLOW_EMPTY | CFGMAP_APPEND,
     .offset = RULES(accounts.free_mail_domains),
     .help = "Added to `free_mail_domains` (to extend the shipped list)."},
    {.key = "domains",
     .type = CFGMAP_CUSTOM,
     .parse = parse_domains,
     .doc_type = "map of e-mail domain to account id",
     .help = "Contacts of these domains belong to the given account (several domains may "
             "share one); other domains are their own account. No free-mail domain."},
    {.key = "targets",
     .type = CFGMAP_LIST,
     .offset = RULES(accounts.targets),
     .count_offset = RULES(accounts.target_count),
     .elem_size = sizeof(hf_target_account_t),
     .table = &target_table,
     .help = "Target accounts, e.g. `{ account: acct-acme, tier: 1, points: 30 }`; each "
             "account once."},
    {.key = "max_score",
     .type = CFGMAP_INT32,
     .def = "1000",
     .min = 1,
     .max = 100000000,
     .offset = RULES(accounts.max_score),
     .help = "Cap of the account score: the sum over members of score (decayed) times role "
             "weight."},
    {.key = "engaged_member",
     .type = CFGMAP_MAP,
     .table = &engaged_member_table,
     .help = "When a member counts as engaged, e.g. `{ score: 30, within: 30d }`."},
    {.key = "members_max",
     .type = CFGMAP_UINT32,
     .def = "50",
     .min = 1,
     .max = 10000,
     .offset = RULES(accounts.members_max),
     .help = "Members kept per account."},
    {.key = "buying_group_max",
     .type = CFGMAP_UINT32,
     .def = "8",
     .min = 1,
     .max = 1000,
     .offset = RULES(accounts.buying_group_max),
     .help = "Members listed in a handoff's `buying_group`; at most `members_max`."},
    {.key = "member_journey",
     .type = CFGMAP_UINT32,
     .def = "5",
     .min = 0,
     .max = 1000,
     .offset = RULES(accounts.member_journey),
     .help = "Newest touches, downloads and webinars of each member kept for the account's "
             "journey (each list also within `journey`'s bounds): the account handoff merges "
             "them, so every engaged person shows, not only the busiest."},
    {.key = "member_updates",
     .type = CFGMAP_ENUM,
     .def = "coalesced",
     .offset = RULES(accounts.member_updates),
     .names = member_updates_names,
     .help = "When a contact's summary reaches its account. `coalesced`: a contact that "
             "changed owes its account its newest summary; the owed summaries of one "
             "partition of `<app.id>.by-contact` go after every `member_update_records` "
             "records that partition folded and whenever the process is caught up (nothing "
             "left on the broker, or a live stream waiting for its next record), so "
             "reading the same log again, straight through or across crashes and "
             "rebalances, gives the same account decisions. "
             "`every_event`: after every event (exact per event, about half the rate). "
             "`on_commit`: once per commit interval for every contact that changed; when "
             "the commits fall depends on timing, so a replay may decide accounts "
             "differently."},
    {.key = "member_update_records",
     .type = CFGMAP_UINT32,
     .def = "5000",
     .min = 1,
     .max = 100000000,
     .offset = RULES(accounts.member_update_records),
     .help = "With `member_updates: coalesced`: the contact records (folded into a contact, "
             "repeats included; a record forwarded to a merge survivor counts there) a "
             "partition of `<app.id>.by-contact` folds between two sends of its owed "
             "summaries. Smaller: accounts see their members sooner in a backlog; larger: "
             "fewer member updates."},
    {.key = "fit",
     .type = CFGMAP_LIST,
     .offset = RULES(accounts.fit_rules),
     .count_offset = RULES(accounts.fit_rule_count),
     .elem_size = sizeof(hf_fit_rule_t),
     .table = &account_fit_rule_table,
     .help = "Account fit rules: the points of every rule that matches the account's traits "
             "add up, with the points of its target tier; `fit.grades` grades the sum."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(accounts.rules),
     .count_offset = RULES(accounts.rule_count),
     .elem_size = sizeof(hf_account_rule_t),
     .table = &account_rule_table,
     .help = "Account conversation-ready rules, in order; the first that holds fires, once per "
             "cycle. Each needs at least one condition."},
};

static const cfgmap_table_t accounts_table = CFGMAP_TABLE(accounts_entries, accounts_check, NULL);

const cfgmap_entry_t config_accounts_section = CONFIG_SECTION_RULES(
    "accounts", accounts_table,
    "Accounts: which account a contact belongs to, target accounts, the account "
    "score and fit, and when an account is conversation-ready.");

/* A rule none of whose tiers an account can have (0, or the tier of some target)
 * can never hold. */
void config_accounts_tiers_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, const int32_t *tiers, size_t count)
{
    const hf_rules_t *r = config_section_rules(ctx);
    if (!count || !cfgmap_spend(ctx, count + r->accounts.target_count))
        return;
    bool present[CONFIG_ACCOUNTS_TIER_MAX + 1] = {
        true}; /* tier 0: every account that is not a target */
    for (size_t i = 0; i < r->accounts.target_count; i++)
        if (r->accounts.targets[i].tier >= 0 &&
            r->accounts.targets[i].tier <= CONFIG_ACCOUNTS_TIER_MAX)
            present[r->accounts.targets[i].tier] = true;
    for (size_t i = 0; i < count; i++)
        if (tiers[i] >= 0 && tiers[i] <= CONFIG_ACCOUNTS_TIER_MAX && present[tiers[i]])
            return;
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "no account can have any of these tiers: accounts.targets has ");
    size_t listed = 0;
    for (int32_t t = 1; t <= CONFIG_ACCOUNTS_TIER_MAX; t++)
        if (present[t])
            hf_buf_printf(&msg, "%s%d", listed++ ? ", " : "tiers ", (int)t);
    if (!listed)
        hf_buf_append_str(&msg, "no tiers");
    hf_buf_append_str(&msg, " (and 0 is every other account)");
    config_section_error_at_key(ctx, map, path, "tiers", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}
