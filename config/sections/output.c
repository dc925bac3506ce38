/* output: the encoding of the output records. */
#include "section.h"

#define CFG(field) offsetof(hf_config_t, field)

/* Enum fields are written through an int. */
_Static_assert(sizeof(hf_output_format_t) == sizeof(int), "enum size");

static const char *const output_format_names[] = {"avro", "json", NULL};

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

static const cfgmap_table_t output_table = CFGMAP_TABLE(output_entries, NULL, NULL);

const cfgmap_entry_t config_output_section = {
    .key = "output", .type = CFGMAP_MAP, .table = &output_table, .help = "Output records."};
