/* log: the least severe level logged, and the format of the lines. */
#include "section.h"

#define CFG(field) offsetof(hf_config_t, field)

/* Enum fields are written through an int. */
_Static_assert(sizeof(hf_log_format_t) == sizeof(int), "enum size");

static const char *const log_level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};

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
     .help = "`text`: one line per record, its fields as `key=value`; `json`: one JSON object "
             "per line, with `ts`, `level`, `component`, `msg` and the record's fields as "
             "members."},
};

static const cfgmap_table_t log_table = CFGMAP_TABLE(log_entries, NULL, NULL);

const cfgmap_entry_t config_log_section = {
    .key = "log", .type = CFGMAP_MAP, .table = &log_table, .help = "Logging."};
