/* app: the application's id, the consumer group and the prefix of the internal
 * topics (topics.c derives them). */
#include "section.h"

#define CFG(field) offsetof(hf_config_t, field)

/* app.id prefixes internal topics ("<id>.by-anonymous"), which must stay legal. */
static const char *valid_app_id(const char *s)
{
    return config_topics_check_name(s, 200);
}

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

static const cfgmap_table_t app_table = CFGMAP_TABLE(app_entries, NULL, NULL);

const cfgmap_entry_t config_app_section = {
    .key = "app", .type = CFGMAP_MAP, .table = &app_table, .help = "The application."};
