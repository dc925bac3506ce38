/* The configuration loader: reads the YAML file, applies the section tables (this
 * file: app, kafka, topics, state, output, limits, log; config_rules.c: the rule
 * sections), checks what spans sections, and hands out an hf_config_t.
 *
 * The tables are the reference: docs/CONFIG.md is generated from them
 * (config_describe()) and a unit test keeps the two in step. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <yaml.h>

#include "cfgmap.h"
#include "cfgsyntax.h"
#include "config_rules.h"

/* Enum fields are written through an int. */
_Static_assert(sizeof(hf_output_format_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_guarantee_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_log_format_t) == sizeof(int), "enum size");

/* A config file larger than this is certainly a mistake (a log, a binary). */
#define CONFIG_FILE_MAX_BYTES (16u << 20)

/* ---- value checks ---- */

/* Kafka's legal topic characters; @max is the length limit. */
static const char *check_topic_chars(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return "too long for a Kafka topic name";
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return "expected a Kafka topic name";
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return "expected a Kafka topic name (letters, digits, '.', '_' and '-')";
    }
    return NULL;
}

static const char *valid_topic(const char *s)
{
    return check_topic_chars(s, 249);
}

/* app.id prefixes internal topics ("<id>.by-anonymous"), which must stay legal. */
static const char *valid_app_id(const char *s)
{
    return check_topic_chars(s, 200);
}

/* ---- kafka.properties ---- */

/* Properties that have a key of their own, where they are checked. */
static const struct {
    const char *name;
    const char *instead;
} reserved_properties[] = {
    {"bootstrap.servers", "set kafka.brokers instead"},
    {"metadata.broker.list", "set kafka.brokers instead"},
    {"group.id", "it is app.id"},
};

/* Expands ${NAME} from the environment ("$${" is a literal "${").  Returns a new
 * string, or NULL with @why (and @var, the variable's name) describing the problem;
 * on allocation failure NULL with why NULL.  Never quotes @value in @why. */
static char *expand_env(const char *value, const char **why, char *var, size_t var_size)
{
    hf_buf_t out = HF_BUF_INIT;
    *why = NULL;
    const char *p = value;
    /* each round consumes at least one byte of @value */
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            hf_buf_append(&out, "${", 2);
            p += 3;
            continue;
        }
        if (!(p[0] == '$' && p[1] == '{')) {
            hf_buf_append(&out, p, 1);
            p++;
            continue;
        }
        const char *name = p + 2;
        const char *close = strchr(name, '}');
        size_t n = close ? (size_t)(close - name) : 0;
        if (!close) {
            *why = "unterminated ${ in the value";
            goto fail;
        }
        bool ok = n > 0 && n < var_size && !(name[0] >= '0' && name[0] <= '9');
        for (size_t i = 0; ok && i < n; i++) {
            char c = name[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_';
        }
        if (!ok) {
            *why = "invalid variable name in ${...} (letters, digits and '_')";
            goto fail;
        }
        memcpy(var, name, n);
        var[n] = 0;
        const char *env = getenv(var);
        if (!env) {
            *why = "environment variable is not set";
            goto fail;
        }
        hf_buf_append_str(&out, env);
        p = close + 1;
    }
    if (hf_buf_append(&out, "", 0) < 0)
        goto fail;
    return (char *)out.data;
fail:
    hf_buf_free(&out);
    return NULL;
}

/* Copies librdkafka's message @why into @out with every occurrence of @value cut
 * out: librdkafka quotes the value it rejects, and a value may be a secret. */
static void redact_value(hf_buf_t *out, const char *why, const char *value)
{
    size_t vlen = strlen(value);
    const char *p = why;
    for (const char *hit; vlen && (hit = strstr(p, value)) != NULL; p = hit + vlen) {
        hf_buf_append(out, p, (size_t)(hit - p));
        hf_buf_append_str(out, "...");
    }
    hf_buf_append_str(out, p);
}

/* The daemon hands every property to librdkafka at start-up and refuses to start
 * when librdkafka rejects one (an unknown name, a value out of range, a protocol not
 * compiled in); asking librdkafka here makes check, start-up and reload refuse the
 * same files.  @conf is created on first use.  Combinations of properties are
 * judged only when a client is created, so they are not caught here. */
static void check_property(cfgmap_ctx_t *ctx, rd_kafka_conf_t **conf, const yaml_node_t *key,
                           const yaml_node_t *value, const cfgmap_path_t *at, const char *name,
                           const char *expanded)
{
    /* Loading a plugin is a side effect no validation should have. */
    if (strcmp(name, "plugin.library.paths") == 0)
        return;
    if (!*conf && !(*conf = rd_kafka_conf_new())) {
        ctx->oom = true;
        return;
    }
    char why[512];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(*conf, name, expanded, why, sizeof why);
    if (res == RD_KAFKA_CONF_OK)
        return;
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        cfgmap_error(ctx, key, at, "not a librdkafka property (librdkafka %s)",
                     rd_kafka_version_str());
        return;
    }
    /* some of librdkafka's messages end in a newline */
    for (size_t n = strlen(why); n > 0 && (why[n - 1] == '\n' || why[n - 1] == ' '); n--)
        why[n - 1] = 0;
    hf_buf_t msg = HF_BUF_INIT;
    redact_value(&msg, why, expanded);
    if (!msg.data)
        ctx->oom = true;
    cfgmap_error(ctx, value, at, "librdkafka refuses the value: %s",
                 msg.data ? (const char *)msg.data : "");
    hf_buf_free(&msg);
}

/* kafka.properties: a map of librdkafka property names to values, passed through.
 * Values may be secrets (sasl.password): no message quotes one, and their source
 * spans were hidden before any table ran. */
static void parse_properties(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                             void *field)
{
    hf_config_t *cfg = ctx->user;
    (void)field;
    if (cfgmap_is_null(node))
        return;
    if (node->type != YAML_MAPPING_NODE) {
        cfgmap_error(ctx, node, path, "expected a map of property names to values, got %s",
                     cfgmap_kind_name(node));
        return;
    }
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (count == 0)
        return;
    hf_kafka_prop_t *props = cfgmap_calloc(ctx, count, sizeof(*props));
    if (!props)
        return;
    cfg->kafka_props = props;
    rd_kafka_conf_t *conf = NULL;
    size_t n = 0;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        const yaml_node_t *key = cfgmap_node(ctx, pair->key);
        const yaml_node_t *value = cfgmap_node(ctx, pair->value);
        const char *name = cfgmap_scalar(key);
        if (!name || cfgmap_is_null(key) || !*name) {
            cfgmap_error(ctx, key, path, "expected a property name, got %s", cfgmap_kind_name(key));
            continue;
        }
        cfgmap_path_t at = {path, name, 0};
        if (!cfgmap_spend(ctx, n))
            break;
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(props[j].name, name) == 0;
        if (seen) {
            cfgmap_error(ctx, key, &at, "duplicate key \"%s\"", name);
            continue;
        }
        size_t r = 0;
        size_t reserved_count = sizeof(reserved_properties) / sizeof(reserved_properties[0]);
        while (r < reserved_count && strcmp(reserved_properties[r].name, name) != 0)
            r++;
        if (r < reserved_count) {
            cfgmap_error(ctx, key, &at, "not allowed here: %s", reserved_properties[r].instead);
            continue;
        }
        const char *text = cfgmap_scalar(value);
        if (!text || cfgmap_is_null(value)) {
            cfgmap_error(ctx, value, &at, "expected a value (a string), got %s",
                         cfgmap_kind_name(value));
            continue;
        }
        const char *why;
        char var[128];
        char *expanded = expand_env(text, &why, var, sizeof(var));
        if (!expanded) {
            if (!why)
                ctx->oom = true;
            else if (strcmp(why, "environment variable is not set") == 0)
                cfgmap_error(ctx, value, &at, "environment variable %s is not set", var);
            else
                cfgmap_error(ctx, value, &at, "%s", why);
            continue;
        }
        check_property(ctx, &conf, key, value, &at, name, expanded);
        char *copy = cfgmap_strdup(ctx, name);
        if (!copy) {
            free(expanded);
            break;
        }
        props[n].name = copy;
        props[n].value = expanded;
        cfg->kafka_prop_count = ++n;
    }
    if (conf)
        rd_kafka_conf_destroy(conf);
}

/* Marks every kafka.properties value of the document as never to be quoted, before
 * any message is formed (also for repeated "kafka" or "properties" keys). */
static void hide_properties(cfgmap_ctx_t *ctx, const yaml_node_t *root)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *k = cfgmap_scalar(cfgmap_node(ctx, p->key));
        const yaml_node_t *kafka = cfgmap_node(ctx, p->value);
        if (!k || strcmp(k, "kafka") != 0 || !kafka || kafka->type != YAML_MAPPING_NODE)
            continue;
        for (yaml_node_pair_t *q = kafka->data.mapping.pairs.start;
             q < kafka->data.mapping.pairs.top; q++) {
            const char *kk = cfgmap_scalar(cfgmap_node(ctx, q->key));
            const yaml_node_t *props = cfgmap_node(ctx, q->value);
            if (!kk || strcmp(kk, "properties") != 0 || !props)
                continue;
            if (props->type != YAML_MAPPING_NODE) {
                cfgmap_hide(ctx, &props->start_mark, &props->end_mark);
                continue;
            }
            for (yaml_node_pair_t *r = props->data.mapping.pairs.start;
                 r < props->data.mapping.pairs.top; r++) {
                const yaml_node_t *v = cfgmap_node(ctx, r->value);
                if (v)
                    cfgmap_hide(ctx, &v->start_mark, &v->end_mark);
            }
        }
    }
}

/* ---- tables ---- */

static const char *const guarantee_names[] = {"at_least_once", "exactly_once", NULL};
static const char *const output_format_names[] = {"avro", "json", NULL};
static const char *const log_level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};

#define CFG(field) offsetof(hf_config_t, field)
#define TOPIC(field) offsetof(hf_topics_t, field)

static const cfgmap_entry_t app_entries[] = {
    {.key = "id",
     .type = CFGMAP_STRING,
     .def = "handoff",
     .offset = CFG(app_id),
     .valid = valid_app_id,
     .doc_type = "topic name",
     .help = "Consumer group id; prefix of the internal topics `<id>.by-anonymous`, "
             "`<id>.by-contact`, `<id>.by-account`."},
};

static const cfgmap_entry_t kafka_entries[] = {
    {.key = "brokers",
     .type = CFGMAP_STRING,
     .def = "127.0.0.1:9092",
     .offset = CFG(brokers),
     .help = "Bootstrap brokers, `host:port[,host:port...]`."},
    {.key = "partitions",
     .type = CFGMAP_INT32,
     .def = "6",
     .min = 1,
     .max = 1024,
     .offset = CFG(partitions),
     .help = "Partitions per topic of the cluster `handoffd --embedded` runs, and the count "
             "the daemon asks for when topics are missing. Not compared with an existing "
             "cluster: there the daemon only requires the topics one stage reads to have equal "
             "partition counts."},
    {.key = "processing_guarantee",
     .type = CFGMAP_ENUM,
     .def = "at_least_once",
     .offset = CFG(guarantee),
     .names = guarantee_names,
     .help = "`at_least_once`: state and input offsets committed together (each input "
             "folded exactly once), outputs idempotent with deterministic ids, possibly sent "
             "twice after a crash. `exactly_once` (Kafka transactions) is not built yet: a "
             "file that sets it is refused."},
    {.key = "properties",
     .type = CFGMAP_CUSTOM,
     .offset = CFG(kafka_props),
     .parse = parse_properties,
     .doc_type = "map of librdkafka property to string",
     .help = "Passed to librdkafka verbatim (`security.protocol`, `sasl.*`, `ssl.*`, ...); "
             "each name and value is checked by librdkafka when the file is loaded. "
             "`${VAR}` in a value is replaced by the environment variable VAR (an error if "
             "unset; `$${` is a literal `${`). Values are never shown in messages. "
             "`bootstrap.servers` and `group.id` are not allowed here."},
};

/* A value the table accepts but this build cannot run is refused here, so that
 * check, start-up and reload reject the file alike, at the line that asks for it. */
static void kafka_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                        void *base)
{
    const hf_config_t *cfg = base;
    if (cfg->guarantee != HF_GUARANTEE_EXACTLY_ONCE)
        return;
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "processing_guarantee", NULL);
    cfgmap_path_t p = {path, "processing_guarantee", 0};
    cfgmap_error(ctx, at ? at : map, &p,
                 "exactly_once (Kafka transactions) is not built yet; use at_least_once (state "
                 "is exactly-once either way, outputs carry deterministic ids)");
}

static const cfgmap_entry_t topics_entries[] = {
    {.key = "web_visits",
     .type = CFGMAP_STRING,
     .def = "mkt.web.visits",
     .offset = TOPIC(web_visits),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `WebVisit`."},
    {.key = "form_submissions",
     .type = CFGMAP_STRING,
     .def = "mkt.form.submissions",
     .offset = TOPIC(form_submissions),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `FormSubmission`."},
    {.key = "content_downloads",
     .type = CFGMAP_STRING,
     .def = "mkt.content.downloads",
     .offset = TOPIC(content_downloads),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `ContentDownload`."},
    {.key = "webinar_attendance",
     .type = CFGMAP_STRING,
     .def = "mkt.webinar.attendance",
     .offset = TOPIC(webinar_attendance),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `WebinarEvent`."},
    {.key = "email_engagement",
     .type = CFGMAP_STRING,
     .def = "mkt.email.engagement",
     .offset = TOPIC(email_engagement),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `EmailEngagement`."},
    {.key = "identity",
     .type = CFGMAP_STRING,
     .def = "mkt.identity",
     .offset = TOPIC(identity),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `IdentityEvent`."},
    {.key = "sales_activity",
     .type = CFGMAP_STRING,
     .def = "sales.activity",
     .offset = TOPIC(sales_activity),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Input: `SalesActivity`."},
    {.key = "conversation_ready",
     .type = CFGMAP_STRING,
     .def = "handoff.conversation-ready",
     .offset = TOPIC(conversation_ready),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Output: `ConversationReady`."},
    {.key = "sla_breach",
     .type = CFGMAP_STRING,
     .def = "handoff.sla-breach",
     .offset = TOPIC(sla_breach),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Output: `SlaBreach`."},
    {.key = "lifecycle",
     .type = CFGMAP_STRING,
     .def = "handoff.lifecycle",
     .offset = TOPIC(lifecycle),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Output: `LifecycleChange`."},
    {.key = "dlq",
     .type = CFGMAP_STRING,
     .def = "handoff.dlq",
     .offset = TOPIC(dlq),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Output: `DeadLetter`, records that could not be used."},
};

static void state_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                        void *base)
{
    hf_config_t *cfg = base;
    if (cfg->email_hash_key_file || !cfg->state_dir)
        return;
    hf_buf_t file = HF_BUF_INIT;
    hf_buf_printf(&file, "%s/email-hash.key", cfg->state_dir);
    if (!file.data)
        ctx->oom = true;
    cfg->email_hash_key_file = (char *)file.data; /* steal */
}

static const cfgmap_entry_t state_entries[] = {
    {.key = "path",
     .type = CFGMAP_STRING,
     .def = "./handoff-state",
     .offset = CFG(state_dir),
     .help = "Directory of the RocksDB store (created if missing)."},
    {.key = "commit_interval",
     .type = CFGMAP_DURATION,
     .def = "5s",
     .min = 10,
     .max = 10 * 60 * 1000,
     .offset = CFG(commit_interval_ms),
     .help = "How often state and input offsets are written together (outputs acknowledged "
             "first) and contacts' summaries reach their accounts. Each commit rewrites every "
             "entity that changed, so shorter costs throughput; handoffs are sent as they "
             "happen either way."},
    {.key = "cache_entries",
     .type = CFGMAP_UINT32,
     .def = "200000",
     .min = 1,
     .max = 100000000,
     .offset = CFG(cache_max_entries),
     .help = "Entity states kept in memory between commits."},
    {.key = "email_hash_key_file",
     .type = CFGMAP_STRING,
     .offset = CFG(email_hash_key_file),
     .help = "Key of the e-mail hash; created with random bytes if missing. "
             "Default: `<state.path>/email-hash.key`."},
};

static void limits_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         void *base)
{
    const hf_config_t *cfg = base;
    if (cfg->max_field_bytes <= cfg->max_record_bytes)
        return;
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "max_field_bytes", NULL);
    cfgmap_path_t p = {path, "max_field_bytes", 0};
    cfgmap_error(ctx, at ? at : map, &p, "must not exceed limits.max_record_bytes (%" PRIu32 ")",
                 cfg->max_record_bytes);
}

static const cfgmap_entry_t limits_entries[] = {
    {.key = "max_record_bytes",
     .type = CFGMAP_UINT32,
     .def = "65536",
     .min = 1024,
     .max = 64 << 20,
     .offset = CFG(max_record_bytes),
     .help = "Input records larger than this go to the DLQ."},
    {.key = "max_field_bytes",
     .type = CFGMAP_UINT32,
     .def = "2048",
     .min = 16,
     .max = 64 << 20,
     .offset = CFG(max_field_bytes),
     .help = "Longest string field accepted; at most `max_record_bytes`."},
    {.key = "max_tags",
     .type = CFGMAP_UINT32,
     .def = "32",
     .min = 0,
     .max = 4096,
     .offset = CFG(max_tags),
     .help = "Most tags on a content download."},
};

static const cfgmap_entry_t output_entries[] = {
    {.key = "format",
     .type = CFGMAP_ENUM,
     .def = "avro",
     .offset = CFG(output_format),
     .names = output_format_names,
     .help = "Encoding of the output records (handoffs, lifecycle changes, SLA breaches, "
             "dead letters): `avro`, Avro single-object encoding (`C3 01`, the schema's "
             "8-byte fingerprint, the binary body); `json`, one JSON object per record in "
             "Avro's JSON encoding of the same schema (a union value is wrapped: `{\"string\": "
             "\"...\"}`). Records between the stages are Avro either way."},
};

static const cfgmap_entry_t log_entries[] = {
    {.key = "level",
     .type = CFGMAP_ENUM,
     .def = "info",
     .offset = CFG(log_level),
     .names = log_level_names,
     .help = "Least severe level logged."},
    {.key = "format",
     .type = CFGMAP_ENUM,
     .def = "text",
     .offset = CFG(log_format),
     .names = log_format_names,
     .help = "`text`: one line per event; `json`: one JSON object per line."},
};

static const cfgmap_table_t app_table = CFGMAP_TABLE(app_entries, NULL, NULL);
static const cfgmap_table_t kafka_table = CFGMAP_TABLE(kafka_entries, kafka_check, NULL);
static const cfgmap_table_t topics_table = CFGMAP_TABLE(topics_entries, NULL, NULL);
static const cfgmap_table_t state_table = CFGMAP_TABLE(state_entries, state_check, NULL);
static const cfgmap_table_t output_table = CFGMAP_TABLE(output_entries, NULL, NULL);
static const cfgmap_table_t limits_table = CFGMAP_TABLE(limits_entries, limits_check, NULL);
static const cfgmap_table_t log_table = CFGMAP_TABLE(log_entries, NULL, NULL);

#define RULES_SECTION(name_, table_, help_)                                                        \
    {                                                                                              \
        .key = (name_), .type = CFGMAP_MAP, .flags = CFGMAP_DEREF, .deref_offset = CFG(rules),     \
        .table = &(table_), .help = (help_)                                                        \
    }

/* Sections are applied in this order, whatever the file's order: the rule sections
 * after scoring and fit can then refer to their rules and grades, accounts to the
 * roles of buying_group, routing to the tiers of accounts.targets, calendars to the
 * teams of routing, sla to the calendars. */
static const cfgmap_entry_t root_entries[] = {
    {.key = "app", .type = CFGMAP_MAP, .table = &app_table, .help = "The application."},
    {.key = "kafka",
     .type = CFGMAP_MAP,
     .table = &kafka_table,
     .help = "The Kafka cluster and client settings."},
    {.key = "topics",
     .type = CFGMAP_MAP,
     .offset = CFG(topics),
     .table = &topics_table,
     .help = "Topic names; `docs/CONTRACTS.md` says what each carries. Every name must "
             "be distinct (internal topics included)."},
    {.key = "state", .type = CFGMAP_MAP, .table = &state_table, .help = "The local state store."},
    {.key = "output", .type = CFGMAP_MAP, .table = &output_table, .help = "Output records."},
    {.key = "limits",
     .type = CFGMAP_MAP,
     .table = &limits_table,
     .help = "Bounds on input records."},
    {.key = "log", .type = CFGMAP_MAP, .table = &log_table, .help = "Logging."},
    RULES_SECTION("stitching", config_rules_stitching,
                  "Stage 1: what is kept of an anonymous visitor until they are identified."),
    RULES_SECTION("dedupe", config_rules_dedupe, "Duplicate input events, dropped per contact."),
    RULES_SECTION("journey", config_rules_journey,
                  "How much of a contact's journey is kept and put in a handoff."),
    RULES_SECTION("scoring", config_rules_scoring,
                  "The behaviour score: points per matching event, decaying over event time."),
    RULES_SECTION("fit", config_rules_fit, "The fit grade, from a contact's traits."),
    RULES_SECTION("lifecycle", config_rules_lifecycle, "Lifecycle stage thresholds."),
    RULES_SECTION("qualify", config_rules_qualify,
                  "When a contact is conversation-ready (an MQL)."),
    RULES_SECTION("interests", config_rules_interests,
                  "Interests: content mapped to the problems buyers come to solve; every "
                  "handoff lists the strongest."),
    RULES_SECTION("buying_group", config_rules_buying_group,
                  "Buying-group roles, from a contact's title, seniority and department."),
    RULES_SECTION("accounts", config_rules_accounts,
                  "Accounts: which account a contact belongs to, target accounts, the account "
                  "score and fit, and when an account is conversation-ready."),
    {.key = "routing",
     .type = CFGMAP_LIST,
     .flags = CFGMAP_DEREF,
     .deref_offset = CFG(rules),
     .offset = offsetof(hf_rules_t, route_rules),
     .count_offset = offsetof(hf_rules_t, route_rule_count),
     .elem_size = sizeof(hf_route_rule_t),
     .table = &config_rules_route_rule,
     .help = "Routing: which team a handoff goes to. Tried in order; the first rule whose "
             "`country`, `region` and `tiers` all hold names the team. A lead no rule covers "
             "is handed off all the same, with a note."},
    {.key = "calendars",
     .type = CFGMAP_NAMED,
     .flags = CFGMAP_DEREF,
     .deref_offset = CFG(rules),
     .offset = offsetof(hf_rules_t, calendars),
     .count_offset = offsetof(hf_rules_t, calendar_count),
     .elem_size = sizeof(hf_calendar_t),
     .name_offset = offsetof(hf_calendar_t, name),
     .valid = config_rules_valid_name,
     .table = &config_rules_calendar,
     .doc_type = "map of calendar names to calendars",
     .help = "Business calendars the SLA clocks run in, by name, e.g. `us-east: { timezone: "
             "America/New_York, hours: { mon-fri: \"09:00-17:00\" }, teams: [na-enterprise] "
             "}`. None by default: every clock runs round the clock in UTC."},
    RULES_SECTION("sla", config_rules_sla,
                  "What sales promised to do with a handoff: the SLA clocks every handoff "
                  "starts, measured in business time of its team's calendar."),
    RULES_SECTION("recycle", config_rules_recycle,
                  "Recycling: a lead sales sent back (or never followed up) returns to "
                  "marketing, and may qualify again under these conditions."),
};

/* Every topic of @cfg in config_topics() order, with where it is configured. */
typedef struct topic_ref {
    const char *name;
    const char *section; /* "topics" or "app" */
    const char *key;
} topic_ref_t;

static size_t topic_refs(const hf_config_t *cfg, topic_ref_t *refs)
{
    const hf_topics_t *t = &cfg->topics;
    const topic_ref_t all[CONFIG_TOPIC_COUNT] = {
        {t->web_visits, "topics", "web_visits"},
        {t->form_submissions, "topics", "form_submissions"},
        {t->content_downloads, "topics", "content_downloads"},
        {t->webinar_attendance, "topics", "webinar_attendance"},
        {t->email_engagement, "topics", "email_engagement"},
        {t->identity, "topics", "identity"},
        {t->sales_activity, "topics", "sales_activity"},
        {t->conversation_ready, "topics", "conversation_ready"},
        {t->sla_breach, "topics", "sla_breach"},
        {t->lifecycle, "topics", "lifecycle"},
        {t->dlq, "topics", "dlq"},
        {t->by_anonymous, "app", "id"},
        {t->by_contact, "app", "id"},
        {t->by_account, "app", "id"},
    };
    memcpy(refs, all, sizeof(all));
    return CONFIG_TOPIC_COUNT;
}

static char *internal_topic(cfgmap_ctx_t *ctx, const char *app_id, const char *suffix)
{
    hf_buf_t name = HF_BUF_INIT;
    hf_buf_printf(&name, "%s.%s", app_id, suffix);
    if (!name.data)
        ctx->oom = true;
    return (char *)name.data;
}

static const yaml_node_t *topic_node(cfgmap_ctx_t *ctx, const yaml_node_t *root,
                                     const topic_ref_t *ref)
{
    return cfgmap_lookup(ctx, cfgmap_lookup(ctx, root, ref->section, NULL), ref->key, NULL);
}

static void root_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                       void *base)
{
    hf_config_t *cfg = base;
    if (!cfg->app_id)
        return;
    hf_topics_t *t = &cfg->topics;
    t->by_anonymous = internal_topic(ctx, cfg->app_id, "by-anonymous");
    t->by_contact = internal_topic(ctx, cfg->app_id, "by-contact");
    t->by_account = internal_topic(ctx, cfg->app_id, "by-account");

    /* Two roles on one topic would feed outputs back in as inputs. */
    topic_ref_t refs[CONFIG_TOPIC_COUNT];
    size_t n = topic_refs(cfg, refs);
    for (size_t j = 1; j < n; j++) {
        for (size_t i = 0; i < j; i++) {
            if (!refs[i].name || !refs[j].name || strcmp(refs[i].name, refs[j].name) != 0)
                continue;
            /* report where the file sets it: a topics key rather than app.id, and
             * the later of two topics keys */
            const topic_ref_t *at = &refs[j], *other = &refs[i];
            const yaml_node_t *node = topic_node(ctx, map, at);
            const yaml_node_t *node_i = topic_node(ctx, map, other);
            if (node_i && (!node || strcmp(at->section, "app") == 0)) {
                at = &refs[i];
                other = &refs[j];
                node = node_i;
            }
            cfgmap_path_t sp = {path, at->section, 0};
            cfgmap_path_t kp = {&sp, at->key, 0};
            cfgmap_error(ctx, node ? node : map, &kp, "topic \"%s\" is also the topic of %s.%s%s",
                         refs[j].name, other->section, other->key,
                         strcmp(other->section, "app") == 0 ? " (an internal topic)" : "");
            break;
        }
    }
}

static const cfgmap_table_t root_table = CFGMAP_TABLE(root_entries, root_check, NULL);

/* ---- loading ---- */

static hf_config_t *config_new(const char *name)
{
    hf_config_t *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    cfg->rules = calloc(1, sizeof(*cfg->rules));
    cfg->path = strdup(name);
    if (!cfg->rules || !cfg->path) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* A second document in the stream is a mistake (a pasted file, a stray "---"). */
static void check_single_document(cfgmap_ctx_t *ctx, yaml_parser_t *parser)
{
    yaml_document_t extra;
    if (!yaml_parser_load(parser, &extra)) {
        cfgsyntax_report(ctx, parser);
        return;
    }
    const yaml_node_t *root = yaml_document_get_root_node(&extra);
    if (root)
        cfgmap_error_at(ctx, &extra.start_mark, NULL,
                        "expected one YAML document, found a second one");
    yaml_document_delete(&extra);
}

int config_load_reporting(hf_config_t **out, const char *path, FILE *errout)
{
    hf_buf_t errors = HF_BUF_INIT;
    int r = path ? config_load(out, path, &errors)
                 : config_load_string(out, "(defaults)", "{}", 2, &errors);
    if (r != 0) {
        fprintf(errout, "%.*s", (int)errors.len, errors.data ? (char *)errors.data : "");
        if (r > 0)
            fprintf(errout, "%s: %d problem%s\n", path ? path : "(defaults)", r, r == 1 ? "" : "s");
    }
    hf_buf_free(&errors);
    return r;
}

/* "4h", "90m", or "off" for a clock that is not kept.  Whole hours stay hours: 24h
 * of business time is three working days at 9-17, not "1d". */
static void sla_within_format(hf_buf_t *out, int64_t within_ms)
{
    if (within_ms == 0)
        hf_buf_append_str(out, "off");
    else if (within_ms % 3600000 == 0)
        hf_buf_printf(out, "%lldh", (long long)(within_ms / 3600000));
    else
        cfgmap_duration_format(out, within_ms);
}

void config_print_ok(const hf_config_t *cfg, const char *path, FILE *out)
{
    const hf_rules_t *r = cfg->rules;
    hf_buf_t sla = HF_BUF_INIT;
    hf_buf_append_str(&sla, "SLA accept ");
    sla_within_format(&sla, r->sla[HF_SLA_ACCEPT].within_ms);
    hf_buf_append_str(&sla, "/first touch ");
    sla_within_format(&sla, r->sla[HF_SLA_FIRST_TOUCH].within_ms);
    hf_buf_append_str(&sla, "/follow-up ");
    if (r->sla[HF_SLA_FOLLOW_UP].within_ms != 0)
        hf_buf_printf(&sla, "%u in ", (unsigned)r->sla[HF_SLA_FOLLOW_UP].attempts);
    sla_within_format(&sla, r->sla[HF_SLA_FOLLOW_UP].within_ms);
    fprintf(out,
            "%s: ok (%zu scoring rules, %zu fit rules, %zu contact rules; %zu interest rules, "
            "%zu role rules, %zu account fit rules, %zu account rules, %zu target accounts, "
            "%zu routing rules; %zu calendar%s, %s)\n",
            path ? path : "(defaults)", r->score_rule_count, r->fit_rule_count,
            r->contact_rule_count, r->interest_rule_count, r->role_rule_count,
            r->account_fit_rule_count, r->account_rule_count, r->target_count, r->route_rule_count,
            r->calendar_count, r->calendar_count == 1 ? "" : "s",
            sla.data ? (char *)sla.data : "SLA");
    hf_buf_free(&sla);
}

int config_load_string(hf_config_t **out, const char *name, const char *text, size_t len,
                       hf_buf_t *errors)
{
    cfgmap_ctx_t ctx;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ready = false, doc_ready = false;
    hf_config_t *cfg = NULL;
    int r;

    if (!text) {
        text = "";
        len = 0;
    }
    cfgmap_ctx_init(&ctx, name, text, len);
    if (!yaml_parser_initialize(&parser)) {
        ctx.oom = true;
        goto done;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cfgsyntax_report(&ctx, &parser);
        goto done;
    }
    doc_ready = true;
    ctx.doc = &doc;
    check_single_document(&ctx, &parser);

    if (!(cfg = config_new(name))) {
        ctx.oom = true;
        goto done;
    }
    ctx.user = cfg;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    hide_properties(&ctx, root);
    if (root && root->type != YAML_MAPPING_NODE && !cfgmap_is_null(root)) {
        cfgmap_error_got(&ctx, root, NULL, "expected a map at the top level");
        root = NULL;
    }
    cfgmap_apply(&ctx, &root_table, root, NULL, cfg);

done:
    if (ctx.oom) {
        r = -ENOMEM;
        hf_buf_printf(errors, "%s: out of memory\n", name);
    } else if (ctx.problems > 0) {
        r = ctx.problems;
        if (cfgmap_render(&ctx, errors) < 0)
            r = -ENOMEM;
    } else {
        r = 0;
        *out = cfg;
        cfg = NULL;
    }
    config_free(cfg);
    if (doc_ready)
        yaml_document_delete(&doc);
    if (parser_ready)
        yaml_parser_delete(&parser);
    cfgmap_ctx_fini(&ctx);
    return r;
}

int config_load(hf_config_t **out, const char *path, hf_buf_t *errors)
{
    hf_buf_t text = HF_BUF_INIT;
    int r;
    FILE *f = fopen(path, "rb");
    if (!f) {
        r = -errno;
        hf_buf_printf(errors, "%s: cannot open: %s\n", path, strerror(-r));
        return r;
    }
    /* each round reads at least one byte, and the total is capped */
    for (;;) {
        if (hf_buf_reserve(&text, 65536) < 0) {
            r = -ENOMEM;
            hf_buf_printf(errors, "%s: out of memory\n", path);
            goto out;
        }
        size_t n = fread(text.data + text.len, 1, 65536, f);
        text.len += n;
        if (text.len > CONFIG_FILE_MAX_BYTES) {
            r = -EFBIG;
            hf_buf_printf(errors, "%s: larger than %u MiB; not a config file?\n", path,
                          CONFIG_FILE_MAX_BYTES >> 20);
            goto out;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        r = -EIO;
        hf_buf_printf(errors, "%s: cannot read: %s\n", path, strerror(EIO));
        goto out;
    }
    r = config_load_string(out, path, (const char *)text.data, text.len, errors);
out:
    fclose(f);
    hf_buf_free(&text);
    return r;
}

void config_free(hf_config_t *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->app_id);
    free(cfg->brokers);
    for (size_t i = 0; i < cfg->kafka_prop_count; i++) {
        free(cfg->kafka_props[i].name);
        free(cfg->kafka_props[i].value);
    }
    free(cfg->kafka_props);
    char **topics[] = {
        &cfg->topics.web_visits,
        &cfg->topics.form_submissions,
        &cfg->topics.content_downloads,
        &cfg->topics.webinar_attendance,
        &cfg->topics.email_engagement,
        &cfg->topics.identity,
        &cfg->topics.sales_activity,
        &cfg->topics.conversation_ready,
        &cfg->topics.sla_breach,
        &cfg->topics.lifecycle,
        &cfg->topics.dlq,
        &cfg->topics.by_anonymous,
        &cfg->topics.by_contact,
        &cfg->topics.by_account,
    };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
        free(*topics[i]);
    free(cfg->state_dir);
    free(cfg->email_hash_key_file);
    hf_rules_free(cfg->rules);
    free(cfg);
}

size_t config_topics(const hf_config_t *cfg, const char **names, size_t max)
{
    topic_ref_t refs[CONFIG_TOPIC_COUNT];
    size_t n = topic_refs(cfg, refs);
    size_t written = 0;
    for (size_t i = 0; i < n && written < max; i++)
        names[written++] = refs[i].name;
    return written;
}

void config_describe(hf_buf_t *out)
{
    cfgmap_describe(out, &root_table, "");
}
