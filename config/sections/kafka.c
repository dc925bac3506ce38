/* kafka: the cluster and client settings; kafka.properties passes librdkafka
 * properties through, checked by librdkafka itself, with ${VAR} taken from the
 * environment, and values never shown in any message. */
#include "section.h"

#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define CFG(field) offsetof(hf_config_t, field)

/* Enum fields are written through an int. */
_Static_assert(sizeof(hf_guarantee_t) == sizeof(int), "enum size");

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

/* True (and a problem recorded) if property @name at @key may not be set: it is
 * already among the @n properties at @props, or it has a key of its own. */
static bool name_refused(cfgmap_ctx_t *ctx, const hf_kafka_prop_t *props, size_t n,
                         const yaml_node_t *key, const cfgmap_path_t *at, const char *name)
{
    bool seen = false;
    for (size_t j = 0; j < n && !seen; j++)
        seen = strcmp(props[j].name, name) == 0;
    if (seen) {
        cfgmap_error(ctx, key, at, "duplicate key \"%s\"", name);
        return true;
    }
    size_t r = 0;
    size_t reserved_count = sizeof(reserved_properties) / sizeof(reserved_properties[0]);
    while (r < reserved_count && strcmp(reserved_properties[r].name, name) != 0)
        r++;
    if (r < reserved_count) {
        cfgmap_error(ctx, key, at, "not allowed here: %s", reserved_properties[r].instead);
        return true;
    }
    return false;
}

/* The value at @value with ${VAR} expanded (a new string), or NULL with a problem
 * recorded (or ctx->oom set). */
static char *value_expanded(cfgmap_ctx_t *ctx, const yaml_node_t *value, const cfgmap_path_t *at)
{
    const char *text = cfgmap_scalar(value);
    if (!text || cfgmap_is_null(value)) {
        cfgmap_error(ctx, value, at, "expected a value (a string), got %s",
                     cfgmap_kind_name(value));
        return NULL;
    }
    const char *why;
    char var[128];
    char *expanded = expand_env(text, &why, var, sizeof(var));
    if (expanded)
        return expanded;
    if (!why)
        ctx->oom = true;
    else if (strcmp(why, "environment variable is not set") == 0)
        cfgmap_error(ctx, value, at, "environment variable %s is not set", var);
    else
        cfgmap_error(ctx, value, at, "%s", why);
    return NULL;
}

char *config_kafka_expand_env(cfgmap_ctx_t *ctx, const yaml_node_t *value, const cfgmap_path_t *at)
{
    return value_expanded(ctx, value, at);
}

/* kafka.properties: a map of librdkafka property names to values, passed through.
 * Values may be secrets (sasl.password): no message quotes one, and their source
 * spans were hidden before any table ran. */
static void parse_properties(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                             const cfgmap_path_t *path, void *field)
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
        if (name_refused(ctx, props, n, key, &at, name))
            continue;
        char *expanded = value_expanded(ctx, value, &at);
        if (!expanded)
            continue;
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

void config_kafka_hide_secrets(cfgmap_ctx_t *ctx, const yaml_node_t *root)
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

bool config_kafka_secret(const char *const *keys, size_t depth, bool is_key)
{
    if (depth < 2 || !keys[0] || strcmp(keys[0], "kafka") != 0 || !keys[1])
        return false;
    /* a property indented one level too little (kafka.sasl.password) is as secret as
     * one in its place; a property's name is not */
    if (strcmp(keys[1], "brokers") == 0 || strcmp(keys[1], "partitions") == 0 ||
        strcmp(keys[1], "processing_guarantee") == 0)
        return false;
    return !(is_key && depth == 3);
}

static const char *const guarantee_names[] = {"at_least_once", "exactly_once", NULL};

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

static const cfgmap_table_t kafka_table = CFGMAP_TABLE(kafka_entries, kafka_check, NULL);

const cfgmap_entry_t config_kafka_section = {.key = "kafka",
                                             .type = CFGMAP_MAP,
                                             .table = &kafka_table,
                                             .help = "The Kafka cluster and client settings."};
