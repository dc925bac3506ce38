/* The configuration loader: reads the YAML file, applies the root table of the
 * sections (config/sections/, one file per top-level key, listed in the order they
 * are applied by sections/registry.c) and hands out an hf_config_t.
 *
 * The tables are the reference: docs/CONFIG.md is generated from them
 * (config_describe()) and a unit test keeps the two in step. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cfgmap.h"
#include "cfgsyntax.h"
#include "sections/registry.h"

/* A config file larger than this is certainly a mistake (a log, a binary). */
#define CONFIG_FILE_MAX_BYTES (16u << 20)

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
        cfgsyntax_report(ctx, parser, config_registry_secret);
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
    sla_within_format(&sla, r->sla.clocks[HF_SLA_ACCEPT].within_ms);
    hf_buf_append_str(&sla, "/first touch ");
    sla_within_format(&sla, r->sla.clocks[HF_SLA_FIRST_TOUCH].within_ms);
    hf_buf_append_str(&sla, "/follow-up ");
    if (r->sla.clocks[HF_SLA_FOLLOW_UP].within_ms != 0)
        hf_buf_printf(&sla, "%u in ", (unsigned)r->sla.clocks[HF_SLA_FOLLOW_UP].attempts);
    sla_within_format(&sla, r->sla.clocks[HF_SLA_FOLLOW_UP].within_ms);
    fprintf(out,
            "%s: ok (%zu scoring rules, %zu fit rules, %zu contact rules; %zu interest rules, "
            "%zu role rules, %zu account fit rules, %zu account rules, %zu target accounts, "
            "%zu routing rules; %zu calendar%s, %s)\n",
            path ? path : "(defaults)", r->scoring.rule_count, r->fit.rule_count,
            r->qualify.contact_rule_count, r->interests.rule_count, r->buying_group.role_count,
            r->accounts.fit_rule_count, r->accounts.rule_count, r->accounts.target_count,
            r->routing.rule_count, r->calendars.count, r->calendars.count == 1 ? "" : "s",
            sla.data ? (char *)sla.data : "SLA");
    hf_buf_free(&sla);
}

/* Where the problems of a load go: rendered as text into @text, or handed to @fn one
 * by one. */
typedef struct problem_sink {
    hf_buf_t *text;
    config_problem_fn fn;
    void *opaque;
} problem_sink_t;

/* A problem of the file as a whole (it cannot be read, memory ran out). */
static void sink_whole(const problem_sink_t *s, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sink_whole(const problem_sink_t *s, const char *name, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->text)
        hf_buf_printf(s->text, "%s: %s\n", name, msg);
    else
        s->fn(s->opaque, &(config_problem_t){.file = name, .path = "", .message = msg});
}

typedef struct item_adapter {
    const problem_sink_t *sink;
    const char *name;
} item_adapter_t;

static void sink_item(void *opaque, const cfgmap_problem_t *p)
{
    const item_adapter_t *a = opaque;
    config_problem_t item = {.file = a->name, .path = p->path, .message = p->message};
    if (p->has_pos) {
        item.line = p->line + 1;
        item.column = p->col + 1;
    }
    a->sink->fn(a->sink->opaque, &item);
}

/* The problems recorded in @ctx into @s.  0 or -ENOMEM. */
static int sink_recorded(const problem_sink_t *s, cfgmap_ctx_t *ctx, const char *name)
{
    if (s->text)
        return cfgmap_render(ctx, s->text);
    item_adapter_t a = {s, name};
    return cfgmap_each(ctx, sink_item, &a);
}

static int load_text(hf_config_t **out, const char *name, const char *text, size_t len,
                     const problem_sink_t *sink)
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
    cfgmap_ctx_init(&ctx, name, text, len, CONFIG_REGISTRY_SECRET_NOUN);
    if (!yaml_parser_initialize(&parser)) {
        ctx.oom = true;
        goto done;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cfgsyntax_report(&ctx, &parser, config_registry_secret);
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
    config_registry_hide_secrets(&ctx, root);
    if (root && root->type != YAML_MAPPING_NODE && !cfgmap_is_null(root)) {
        cfgmap_error_got(&ctx, root, NULL, "expected a map at the top level");
        root = NULL;
    }
    config_registry_t registry;
    config_registry_init(&registry);
    cfgmap_apply(&ctx, &registry.table, root, NULL, cfg);

done:
    if (ctx.oom) {
        r = -ENOMEM;
        sink_whole(sink, name, "out of memory");
    } else if (ctx.problems > 0) {
        r = ctx.problems;
        if (sink_recorded(sink, &ctx, name) < 0)
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

int config_load_string(hf_config_t **out, const char *name, const char *text, size_t len,
                       hf_buf_t *errors)
{
    return load_text(out, name, text, len, &(problem_sink_t){.text = errors});
}

static int load_file(hf_config_t **out, const char *path, const problem_sink_t *sink)
{
    hf_buf_t text = HF_BUF_INIT;
    int r;
    FILE *f = fopen(path, "rb");
    if (!f) {
        r = -errno;
        sink_whole(sink, path, "cannot open: %s", strerror(-r));
        return r;
    }
    /* each round reads at least one byte, and the total is capped */
    for (;;) {
        if (hf_buf_reserve(&text, 65536) < 0) {
            r = -ENOMEM;
            sink_whole(sink, path, "out of memory");
            goto out;
        }
        size_t n = fread(text.data + text.len, 1, 65536, f);
        text.len += n;
        if (text.len > CONFIG_FILE_MAX_BYTES) {
            r = -EFBIG;
            sink_whole(sink, path, "larger than %u MiB; not a config file?",
                       CONFIG_FILE_MAX_BYTES >> 20);
            goto out;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        r = -EIO;
        sink_whole(sink, path, "cannot read: %s", strerror(EIO));
        goto out;
    }
    r = load_text(out, path, (const char *)text.data, text.len, sink);
out:
    fclose(f);
    hf_buf_free(&text);
    return r;
}

int config_load(hf_config_t **out, const char *path, hf_buf_t *errors)
{
    return load_file(out, path, &(problem_sink_t){.text = errors});
}

int config_load_each(hf_config_t **out, const char *path, config_problem_fn fn, void *opaque)
{
    return load_file(out, path, &(problem_sink_t){.fn = fn, .opaque = opaque});
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
        &cfg->topics.digest,
        &cfg->topics.by_anonymous,
        &cfg->topics.by_contact,
        &cfg->topics.by_account,
    };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
        free(*topics[i]);
    free(cfg->state_dir);
    free(cfg->email_hash_key_file);
    free(cfg->http.listen);
    free(cfg->http.token_file);
    free(cfg->http.advertised);
    hf_rules_free(cfg->rules);
    free(cfg);
}

void config_describe(hf_buf_t *out)
{
    config_registry_t registry;
    config_registry_init(&registry);
    cfgmap_describe(out, &registry.table, "");
}
