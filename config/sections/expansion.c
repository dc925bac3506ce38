/* expansion: products a customer account may buy next, what marks its people's
 * engagement with each (conditions of event_match.c on the items of the members'
 * journeys), and the rules that raise an expansion handoff to the account managers. */
#include "section.h"

#include <string.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define PRODUCT(field) offsetof(hf_product_t, field)
#define SIGNAL(field) offsetof(hf_expansion_signal_t, field)
#define EXP_RULE(field) offsetof(hf_expansion_rule_t, field)

/* Stage 3 sees a member's journey, not its events: web visits (url, title), forms (form
 * id), downloads (asset id, title, type) and webinars (id, title, action, minutes).
 * Conditions on what those items do not keep could never hold there. */
static const char *const signal_unsupported[] = {
    "referrer", "utm_source", "utm_medium",   "utm_campaign", "form_type",    "tags",
    "campaign", "link_url",   "email_action", "source",       "min_duration",
};

#define SIGNAL_KINDS                                                                               \
    (CFGTYPES_KIND(HF_EV_WEB_VISIT) | CFGTYPES_KIND(HF_EV_FORM) | CFGTYPES_KIND(HF_EV_DOWNLOAD) |  \
     CFGTYPES_KIND(HF_EV_WEBINAR))

static void signal_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         void *base)
{
    hf_expansion_signal_t *sig = base;
    const yaml_node_t *when = map ? cfgmap_lookup(ctx, map, "when", NULL) : NULL;
    if (!when || when->type != YAML_MAPPING_NODE)
        return;
    cfgmap_path_t wp = {path, "when", 0};
    for (size_t i = 0; i < sizeof signal_unsupported / sizeof *signal_unsupported; i++) {
        const yaml_node_t *key;
        if (!cfgmap_lookup(ctx, when, signal_unsupported[i], &key))
            continue;
        cfgmap_path_t p = {&wp, signal_unsupported[i], 0};
        cfgmap_error(ctx, key, &p,
                     "not kept in the members' journeys the expansion rules read; use url, "
                     "title, form_id, asset_id, asset_type, webinar_id, webinar_action or "
                     "min_minutes");
    }
    uint32_t kinds = sig->match.kinds ? sig->match.kinds : CFGTYPES_ALL_KINDS;
    if (!(kinds & SIGNAL_KINDS)) {
        const yaml_node_t *key;
        const yaml_node_t *at = cfgmap_lookup(ctx, when, "event", &key);
        cfgmap_path_t p = {&wp, "event", 0};
        cfgmap_error(ctx, at ? key : when, &p,
                     "expansion signals match web visits, forms, downloads or webinars only");
    }
    sig->match.kinds = kinds & SIGNAL_KINDS;
}

static const cfgmap_entry_t signal_entries[] = {
    {.key = "points",
     .type = CFGMAP_INT32,
     .def = "1",
     .min = 1,
     .max = 1000,
     .offset = SIGNAL(points),
     .help = "Points per matching item of a member's journey."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = SIGNAL(match),
     .table = &config_event_match_table,
     .help = "Conditions on the item, as `scoring.rules[].when`, limited to what a member's "
             "journey keeps: `event` (web_visit, form, download, webinar), `url`, `title`, "
             "`form_id`, `asset_id`, `asset_type`, `webinar_id`, `webinar_action`, "
             "`min_minutes`."},
};
static const cfgmap_table_t signal_table = CFGMAP_TABLE(signal_entries, signal_check, NULL);

static const cfgmap_entry_t product_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = PRODUCT(name),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Unique name, as sales name it in `SalesActivity.product` and as the handoff's "
             "`product` carries it."},
    {.key = "signals",
     .type = CFGMAP_LIST,
     .flags = CFGMAP_REQUIRED,
     .offset = PRODUCT(signals),
     .count_offset = PRODUCT(signal_count),
     .elem_size = sizeof(hf_expansion_signal_t),
     .table = &signal_table,
     .help = "The product's material: a journey item matching any of these is engagement "
             "with the product."},
};
static const cfgmap_table_t product_table = CFGMAP_TABLE(product_entries, NULL, NULL);

/* products: names of expansion.products, one or a list (checked against them in
 * expansion_check, once every product is read). */
static void parse_products(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                           const cfgmap_path_t *path, void *field)
{
    (void)e;
    hf_expansion_rule_t *rule = field; /* offset 0: the whole rule */
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && (node->type != YAML_SCALAR_NODE || cfgmap_is_null(node))) {
        cfgmap_error_got(ctx, node, path, "expected a product name or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0) {
        cfgmap_error(ctx, node, path, "expected at least one product name");
        return;
    }
    char **names = cfgmap_calloc(ctx, count, sizeof(*names));
    if (!names)
        return;
    rule->products = names;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const char *s = cfgmap_scalar(item);
        if (!s || cfgmap_is_null(item)) {
            cfgmap_error_got(ctx, item, list ? &item_path : path, "expected a product name");
            continue;
        }
        if (!(names[rule->product_count] = cfgmap_strdup(ctx, s)))
            return;
        rule->product_count++;
    }
}

static void expansion_rule_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, void *base)
{
    (void)base;
    if (!map || map->type != YAML_MAPPING_NODE)
        return;
    if (!cfgmap_lookup(ctx, map, "min_engaged", NULL) &&
        !cfgmap_lookup(ctx, map, "min_points", NULL))
        cfgmap_error(ctx, map, path, "expected at least one condition: min_engaged or min_points");
}

static const cfgmap_entry_t expansion_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = EXP_RULE(name),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Unique name, the handoff's `rule`."},
    {.key = "products",
     .type = CFGMAP_CUSTOM,
     .parse = parse_products,
     .doc_type = "product name or list of them",
     .help = "Products of `expansion.products` the rule applies to; every product by "
             "default."},
    {.key = "min_engaged",
     .type = CFGMAP_UINT32,
     .min = 1,
     .max = 100000,
     .offset = EXP_RULE(min_engaged),
     .help = "At least this many members engaged with the product's material within "
             "`within`."},
    {.key = "min_points",
     .type = CFGMAP_INT32,
     .min = 1,
     .max = 1000000,
     .offset = EXP_RULE(min_points),
     .help = "At least this many signal points, summed over the members, within `within`."},
    {.key = "within",
     .type = CFGMAP_DURATION,
     .def = "30d",
     .min = 0,
     .max = 365LL * 24 * 3600 * 1000,
     .offset = EXP_RULE(within_ms),
     .help = "How far before the account's newest activity the material counts (event "
             "time); `0` = any time."},
};
static const cfgmap_table_t expansion_rule_table =
    CFGMAP_TABLE(expansion_rule_entries, expansion_rule_check, NULL);

/* The default of expansion.team, also read by calendars (applied before expansion). */
#define EXPANSION_TEAM_DEFAULT "account-management"

bool config_expansion_team_is(cfgmap_ctx_t *ctx, const char *team)
{
    const yaml_node_t *node = config_section_doc_node(ctx, "expansion", "team");
    const char *s = node ? cfgmap_scalar(node) : NULL;
    if (node && (!s || cfgmap_is_null(node)))
        return false;
    return strcmp(s ? s : EXPANSION_TEAM_DEFAULT, team) == 0;
}

static void expansion_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    const hf_rules_t *r = base;
    /* never the new-business teams: those are routing's */
    for (size_t i = 0; r->expansion.team && i < r->routing.rule_count; i++) {
        if (!r->routing.rules[i].team || strcmp(r->routing.rules[i].team, r->expansion.team) != 0)
            continue;
        hf_buf_t msg = HF_BUF_INIT;
        hf_buf_printf(&msg,
                      "\"%s\" is a routing team (routing[%zu]); expansion handoffs go to the "
                      "account managers, a team of their own",
                      r->expansion.team, i);
        config_section_error_at_key(ctx, map, path, "team", msg.data ? (char *)msg.data : "");
        hf_buf_free(&msg);
        break;
    }
    const yaml_node_t *products = map ? cfgmap_lookup(ctx, map, "products", NULL) : NULL;
    const yaml_node_t *rules = map ? cfgmap_lookup(ctx, map, "rules", NULL) : NULL;
    cfgmap_path_t plist = {path, "products", 0}, rlist = {path, "rules", 0};
    config_section_unique_names(ctx, products, &plist, r->expansion.products,
                                r->expansion.product_count, sizeof(hf_product_t), PRODUCT(name));
    config_section_unique_names(ctx, rules, &rlist, r->expansion.rules, r->expansion.rule_count,
                                sizeof(hf_expansion_rule_t), EXP_RULE(name));
    if (r->expansion.rule_count && !r->expansion.product_count)
        config_section_error_at_key(ctx, map, path, "rules",
                                    "expansion rules need at least one of expansion.products");
    for (size_t i = 0; i < r->expansion.rule_count && cfgmap_visit(ctx); i++) {
        const hf_expansion_rule_t *rule = &r->expansion.rules[i];
        const yaml_node_t *item = cfgmap_item(ctx, rules, i);
        const yaml_node_t *names = item ? cfgmap_lookup(ctx, item, "products", NULL) : NULL;
        cfgmap_path_t ip = {&rlist, NULL, i}, np = {&ip, "products", 0};
        for (size_t j = 0; j < rule->product_count; j++) {
            if (hf_rules_product(r, rule->products[j]))
                continue;
            const yaml_node_t *at =
                names && names->type == YAML_SEQUENCE_NODE ? cfgmap_item(ctx, names, j) : names;
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "unknown product ");
            cfgmap_quote(&msg, rule->products[j], 64);
            hf_buf_append_str(&msg, "; expansion.products has ");
            if (!r->expansion.product_count)
                hf_buf_append_str(&msg, "none");
            for (size_t k = 0;
                 k < r->expansion.product_count && k < CONFIG_SECTION_NAMES_LISTED_MAX; k++)
                hf_buf_printf(&msg, "%s%s", k ? ", " : "", r->expansion.products[k].name);
            if (r->expansion.product_count > CONFIG_SECTION_NAMES_LISTED_MAX)
                hf_buf_append_str(&msg, ", ...");
            cfgmap_error(ctx, at ? at : item, &np, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
        }
    }
}

#define CLOCK(k) ((size_t)(k) * sizeof(hf_sla_rule_t))
static const cfgmap_entry_t expansion_sla_entries[] = {
    {.key = "accept",
     .type = CFGMAP_MAP,
     .offset = CLOCK(HF_SLA_ACCEPT),
     .table = &config_sla_accept_table,
     .help = "The account manager accepts (or rejects) the expansion, as `sla.accept`."},
    {.key = "first_touch",
     .type = CFGMAP_MAP,
     .offset = CLOCK(HF_SLA_FIRST_TOUCH),
     .table = &config_sla_first_touch_table,
     .help = "A first contact about the product, as `sla.first_touch`."},
    {.key = "follow_up",
     .type = CFGMAP_MAP,
     .offset = CLOCK(HF_SLA_FOLLOW_UP),
     .table = &config_sla_follow_up_table,
     .help = "`attempts` contacts within `within`, as `sla.follow_up`."},
};
static const cfgmap_table_t expansion_sla_table = CFGMAP_TABLE(expansion_sla_entries, NULL, NULL);

static const cfgmap_entry_t expansion_entries[] = {
    {.key = "team",
     .type = CFGMAP_STRING,
     .def = EXPANSION_TEAM_DEFAULT,
     .offset = RULES(expansion.team),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "The team every expansion handoff is routed to (the account managers), never a "
             "`routing` team; a calendar's `teams` may list it for the clocks of `sla`."},
    {.key = "cooldown",
     .type = CFGMAP_DURATION,
     .def = "90d",
     .min = 0,
     .max = 3650LL * 24 * 3600 * 1000,
     .offset = RULES(expansion.cooldown_ms),
     .help = "Event time after sales rejected, lost or recycled a product's expansion before "
             "that product may be raised again."},
    {.key = "sla",
     .type = CFGMAP_MAP,
     .offset = RULES(expansion.clocks),
     .table = &expansion_sla_table,
     .help = "The SLA clocks an expansion handoff starts, in business time of the calendar of "
             "`team` (else `sla.calendar`); the same keys and defaults as `sla`'s, set apart so "
             "that account managers keep their own times."},
    {.key = "products",
     .type = CFGMAP_LIST,
     .flags = CFGMAP_ALLOW_EMPTY,
     .offset = RULES(expansion.products),
     .count_offset = RULES(expansion.product_count),
     .elem_size = sizeof(hf_product_t),
     .table = &product_table,
     .help = "Products a customer account may buy next, each with its material."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .flags = CFGMAP_ALLOW_EMPTY,
     .offset = RULES(expansion.rules),
     .count_offset = RULES(expansion.rule_count),
     .elem_size = sizeof(hf_expansion_rule_t),
     .table = &expansion_rule_table,
     .help = "Expansion rules, tried in order per product; the first that holds raises the "
             "product's expansion handoff."},
};

static const cfgmap_table_t expansion_table =
    CFGMAP_TABLE(expansion_entries, expansion_check, NULL);

const cfgmap_entry_t config_expansion_section = CONFIG_SECTION_RULES(
    "expansion", expansion_table,
    "Expansion: a customer account whose people engage with a product it does not have yet "
    "is handed to its account managers.");
