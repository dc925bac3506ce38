/* sla: what sales promised to do with a handoff: the SLA clocks every handoff starts
 * (accept, first touch, follow-up), in business time of its team's calendar. */
#include "section.h"

#include <string.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define SLA_RULE(field) offsetof(hf_sla_rule_t, field)
#define SLA_WITHIN_MAX (365LL * 24 * 3600 * 1000)
#define SLA_ESCALATE_MIN 1000LL

/* sla.calendar: a calendar's name, as its index. */
static void parse_default_calendar(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e,
                                   const yaml_node_t *node, const cfgmap_path_t *path, void *field)
{
    int *index = field;
    const hf_rules_t *r = config_section_rules(ctx);
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node)) {
        cfgmap_error_got(ctx, node, path, "expected a calendar name");
        return;
    }
    if (!cfgmap_spend(ctx, r->calendars.count))
        return;
    const hf_calendar_t *cal = hf_rules_calendar(r, s);
    if (cal) {
        *index = (int)(cal - r->calendars.items);
        return;
    }
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "unknown calendar ");
    cfgmap_quote(&msg, s, 64);
    hf_buf_append_str(&msg, "; calendars has ");
    if (r->calendars.count == 0)
        hf_buf_append_str(&msg, "none");
    for (size_t i = 0; i < r->calendars.count && i < CONFIG_SECTION_NAMES_LISTED_MAX; i++)
        hf_buf_printf(&msg, "%s%s", i ? ", " : "",
                      r->calendars.items[i].name ? r->calendars.items[i].name : "?");
    if (r->calendars.count > CONFIG_SECTION_NAMES_LISTED_MAX)
        hf_buf_append_str(&msg, ", ...");
    cfgmap_error(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}

/* escalate_after: the delays between breach levels, one duration or a list. */
static void parse_escalate_after(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e,
                                 const yaml_node_t *node, const cfgmap_path_t *path, void *field)
{
    hf_sla_rule_t *rule = field; /* offset 0: the whole rule */
    rule->escalate_count = 0;
    if (cfgmap_is_null(node))
        return;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && node->type != YAML_SCALAR_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a duration or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count > HF_SLA_ESCALATIONS_MAX) {
        cfgmap_error(ctx, node, path, "at most %d escalations, got %zu", HF_SLA_ESCALATIONS_MAX,
                     count);
        return;
    }
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        int64_t ms;
        if (!s || cfgmap_is_null(item) || cfgmap_duration_parse(s, &ms) < 0 ||
            ms < SLA_ESCALATE_MIN || ms > SLA_WITHIN_MAX) {
            cfgmap_error_got(ctx, item, where,
                             "expected duration (500ms, 30s, 15m, 4h, 14d, 2w) in [1s, 365d]");
            continue;
        }
        rule->escalate_ms[rule->escalate_count++] = ms;
    }
}

/* within: 0 turns the clock off; anything shorter than a second is a slip. */
static void sla_within_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                             const hf_sla_rule_t *rule)
{
    if (rule->within_ms > 0 && rule->within_ms < 1000)
        config_section_error_at_key(ctx, map, path, "within",
                                    "expected 0 (no such clock) or at least 1s");
}

static void sla_single_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                             void *base)
{
    hf_sla_rule_t *rule = base;
    rule->attempts = 1;
    sla_within_check(ctx, map, path, rule);
}

static void sla_follow_up_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                const cfgmap_path_t *path, void *base)
{
    sla_within_check(ctx, map, path, base);
}

#define SLA_WITHIN(def_, help_)                                                                    \
    {                                                                                              \
        .key = "within", .type = CFGMAP_DURATION, .def = (def_), .min = 0, .max = SLA_WITHIN_MAX,  \
        .offset = SLA_RULE(within_ms), .doc_type = "duration: `0` or in [1s, 365d]",               \
        .help = (help_)                                                                            \
    }
#define SLA_ESCALATE(def_)                                                                         \
    {                                                                                              \
        .key = "escalate_after", .type = CFGMAP_CUSTOM, .def = (def_),                             \
        .parse = parse_escalate_after,                                                             \
        .doc_type = "duration or list of durations in [1s, 365d], at most 8",                      \
        .help = "Delays (business time) from one breach level to the next: level 1 at "            \
                "`within`, level 2 the first delay after it, and so on; `[]` = level 1 only."      \
    }

static const cfgmap_entry_t sla_accept_entries[] = {
    SLA_WITHIN("4h", "The handoff is accepted (or the lead contacted) within this much "
                     "business time; `0` = no such clock."),
    SLA_ESCALATE("4h"),
};

static const cfgmap_entry_t sla_first_touch_entries[] = {
    SLA_WITHIN("8h", "The first contact attempt is made within this much business time; `0` = "
                     "no such clock."),
    SLA_ESCALATE("8h"),
};

static const cfgmap_entry_t sla_follow_up_entries[] = {
    {.key = "attempts",
     .type = CFGMAP_UINT32,
     .def = "3",
     .min = 1,
     .max = 100,
     .offset = SLA_RULE(attempts),
     .help = "Contact attempts (calls, e-mails, meetings) needed."},
    SLA_WITHIN("24h", "... within this much business time of the handoff; `0` = no such "
                      "clock."),
    SLA_ESCALATE(NULL),
};

const cfgmap_table_t config_sla_accept_table =
    CFGMAP_TABLE(sla_accept_entries, sla_single_check, NULL);
const cfgmap_table_t config_sla_first_touch_table =
    CFGMAP_TABLE(sla_first_touch_entries, sla_single_check, NULL);
const cfgmap_table_t config_sla_follow_up_table =
    CFGMAP_TABLE(sla_follow_up_entries, sla_follow_up_check, NULL);

/* on_reload: keep | recompute, into a bool. */
static void parse_on_reload(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                            const cfgmap_path_t *path, void *field)
{
    bool *recompute = field;
    const char *s = cfgmap_scalar(node);
    if (s && !cfgmap_is_null(node) && strcmp(s, "keep") == 0)
        *recompute = false;
    else if (s && !cfgmap_is_null(node) && strcmp(s, "recompute") == 0)
        *recompute = true;
    else
        cfgmap_error_got(ctx, node, path, "expected keep or recompute");
}

static void sla_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                      void *base)
{
    hf_rules_t *r = base;
    (void)path;
    if (!cfgmap_lookup(ctx, map, "calendar", NULL))
        r->calendars.default_index = -1;
}

static const cfgmap_entry_t sla_entries[] = {
    {.key = "calendar",
     .type = CFGMAP_CUSTOM,
     .offset = RULES(calendars.default_index),
     .parse = parse_default_calendar,
     .doc_type = "calendar name",
     .help = "The calendar of handoffs whose team no calendar lists, and of handoffs without a "
             "team; absent = round the clock in UTC."},
    {.key = "accept",
     .type = CFGMAP_MAP,
     .offset = RULES(sla.clocks[HF_SLA_ACCEPT]),
     .table = &config_sla_accept_table,
     .help = "Sales accepts (or rejects) the handoff, e.g. `{ within: 4h, escalate_after: [4h] "
             "}`; contacting the lead counts as accepting."},
    {.key = "first_touch",
     .type = CFGMAP_MAP,
     .offset = RULES(sla.clocks[HF_SLA_FIRST_TOUCH]),
     .table = &config_sla_first_touch_table,
     .help = "Sales makes a first contact attempt."},
    {.key = "follow_up",
     .type = CFGMAP_MAP,
     .offset = RULES(sla.clocks[HF_SLA_FOLLOW_UP]),
     .table = &config_sla_follow_up_table,
     .help = "Sales keeps trying: `attempts` contact attempts within `within`."},
    {.key = "on_reload",
     .type = CFGMAP_CUSTOM,
     .def = "keep",
     .offset = RULES(sla.recompute_on_reload),
     .parse = parse_on_reload,
     .doc_type = "one of `keep`, `recompute`",
     .help = "Clocks already running when a reload changes the SLA: `keep` their deadlines, or "
             "`recompute` them with the new durations and calendars."},
};

static const cfgmap_table_t sla_table = CFGMAP_TABLE(sla_entries, sla_check, NULL);

const cfgmap_entry_t config_sla_section =
    CONFIG_SECTION_RULES("sla", sla_table,
                         "What sales promised to do with a handoff: the SLA clocks every handoff "
                         "starts, measured in business time of its team's calendar.");
