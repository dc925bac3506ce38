/* The Markdown reference of config tables (docs/CONFIG.md embeds it): one row per
 * key with its type, default and help.  See cfgmap.h. */
#include "cfgmap_priv.h"

static void describe_type(hf_buf_t *out, const cfgmap_entry_t *e)
{
    if (e->doc_type) {
        hf_buf_append_str(out, e->doc_type);
        return;
    }
    switch (e->type) {
    case CFGMAP_STRING:
        hf_buf_append_str(out, "string");
        break;
    case CFGMAP_INT32:
    case CFGMAP_UINT32:
        hf_buf_append_str(out, "integer in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_FLOAT:
        hf_buf_append_str(out, "number in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_INT32S:
        hf_buf_append_str(out, "integer or list of integers in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_BOOL:
        hf_buf_append_str(out, "boolean");
        break;
    case CFGMAP_DURATION:
    case CFGMAP_DURATION32:
        hf_buf_append_str(out, "duration in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_ENUM:
        hf_buf_append_str(out, "one of ");
        cfgmap_names_format(out, e, "`");
        break;
    case CFGMAP_SYMBOLS:
        hf_buf_printf(out, "%s or list of them: ", e->symbols->noun);
        cfgmap_names_format(out, e, "`");
        break;
    case CFGMAP_MAP:
        hf_buf_append_str(out, "map");
        break;
    case CFGMAP_LIST:
        hf_buf_append_str(out, "list of maps");
        break;
    case CFGMAP_NAMED:
        hf_buf_append_str(out, "map of names to maps");
        break;
    case CFGMAP_CUSTOM:
        hf_buf_append_str(out, "value");
        break;
    }
}

static void describe_rows(hf_buf_t *out, const cfgmap_table_t *table, const char *prefix)
{
    for (size_t i = 0; i < table->count; i++) {
        const cfgmap_entry_t *e = &table->entries[i];
        hf_buf_t key = HF_BUF_INIT;
        hf_buf_printf(&key, "%s%s%s", prefix, *prefix ? "." : "", e->key);
        hf_buf_printf(out, "| `%s` | ", key.data ? (char *)key.data : "");
        describe_type(out, e);
        if (e->def)
            hf_buf_printf(out, " | `%s` | ", e->def);
        else
            hf_buf_append_str(out, e->flags & CFGMAP_REQUIRED ? " | required | " : " | | ");
        hf_buf_printf(out, "%s |\n", e->help ? e->help : "");
        if (e->type == CFGMAP_MAP && key.data)
            describe_rows(out, e->table, (char *)key.data);
        if (e->type == CFGMAP_LIST && key.data) {
            hf_buf_append_str(&key, "[]");
            describe_rows(out, e->table, (char *)key.data);
        }
        if (e->type == CFGMAP_NAMED && key.data) {
            hf_buf_append_str(&key, ".<name>");
            describe_rows(out, e->table, (char *)key.data);
        }
        hf_buf_free(&key);
    }
}

void cfgmap_describe(hf_buf_t *out, const cfgmap_table_t *table, const char *prefix)
{
    for (size_t i = 0; i < table->count; i++) {
        const cfgmap_entry_t *e = &table->entries[i];
        if (e->type != CFGMAP_MAP) {
            hf_buf_t key = HF_BUF_INIT;
            hf_buf_printf(&key, "%s%s%s", prefix, *prefix ? "." : "", e->key);
            hf_buf_printf(out,
                          "### `%s`\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
                          key.data ? (char *)key.data : "");
            hf_buf_free(&key);
            describe_rows(out, &(cfgmap_table_t){e, 1, NULL, NULL}, prefix);
            hf_buf_append_str(out, "\n");
            continue;
        }
        hf_buf_printf(out, "### `%s`\n\n", e->key);
        if (e->help)
            hf_buf_printf(out, "%s\n\n", e->help);
        hf_buf_append_str(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
        describe_rows(out, e->table, e->key);
        hf_buf_append_str(out, "\n");
    }
}
