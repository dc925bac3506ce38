/* topics: the names of the input, output and internal topics (docs/CONTRACTS.md);
 * the internal ones derive from app.id, and every name must be distinct. */
#include "section.h"

#include <string.h>

#define TOPIC(field) offsetof(hf_topics_t, field)

const char *config_topics_check_name(const char *s, size_t max_len)
{
    size_t n = strlen(s);
    if (n > max_len)
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
    return config_topics_check_name(s, 249);
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
    {.key = "digest",
     .type = CFGMAP_STRING,
     .def = "handoff.digest",
     .offset = TOPIC(digest),
     .valid = valid_topic,
     .doc_type = "topic name",
     .help = "Output: `Digest`, the daily digest per owner and team (with `digest.enabled`)."},
};

static const cfgmap_table_t topics_table = CFGMAP_TABLE(topics_entries, NULL, NULL);

const cfgmap_entry_t config_topics_section = {
    .key = "topics",
    .type = CFGMAP_MAP,
    .offset = offsetof(hf_config_t, topics),
    .table = &topics_table,
    .help = "Topic names; `docs/CONTRACTS.md` says what each carries. Every name must "
            "be distinct (internal topics included).",
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
        {t->digest, "topics", "digest"},
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

void config_topics_derive(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                          hf_config_t *cfg)
{
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

size_t config_topics(const hf_config_t *cfg, const char **names, size_t max)
{
    topic_ref_t refs[CONFIG_TOPIC_COUNT];
    size_t n = topic_refs(cfg, refs);
    size_t written = 0;
    for (size_t i = 0; i < n && written < max; i++)
        names[written++] = refs[i].name;
    return written;
}
