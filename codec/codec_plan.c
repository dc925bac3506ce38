/* Plans compiled: a record's table against the schema a body was written with and
 * the record's current schema (see codec_plan.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_plan_priv.h"
#include "codec_read.h"

void codec_plan_free(codec_plan_t *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->count; i++) {
        free(plan->ops[i].enum_map);
        free(plan->ops[i].name);
    }
    for (size_t i = 0; i < plan->store_count && plan->stores; i++)
        free(plan->stores[i].items);
    free(plan->stores);
    free(plan->ops);
    free(plan);
}

const char *codec_plan_failed_field(const codec_plan_t *plan)
{
    return plan->failed;
}

/* Appends @op; on success the plan owns its name and enum_map, on failure they are
 * freed here. */
static int plan_push(codec_plan_t *plan, plan_op_t *op)
{
    if (plan->count == plan->cap) {
        size_t cap = plan->cap ? plan->cap * 2 : 32;
        plan_op_t *ops = realloc(plan->ops, cap * sizeof *ops);
        if (!ops) {
            free(op->enum_map);
            free(op->name);
            return -ENOMEM;
        }
        plan->ops = ops;
        plan->cap = cap;
    }
    plan->ops[plan->count++] = *op;
    return 0;
}

/* Splits a union of null and one type into that type and the null's index.  A
 * plain type comes back as itself; other unions are not supported (-1). */
static int unwrap_nullable(avro_schema_t s, avro_schema_t *inner, bool *nullable,
                           uint8_t *null_branch)
{
    s = codec_schema_deref(s);
    *nullable = false;
    *null_branch = 0;
    *inner = s;
    if (avro_typeof(s) != AVRO_UNION)
        return 0;
    if (avro_schema_union_size(s) != 2)
        return -1;
    avro_schema_t b0 = codec_schema_deref(avro_schema_union_branch(s, 0));
    avro_schema_t b1 = codec_schema_deref(avro_schema_union_branch(s, 1));
    bool null0 = avro_typeof(b0) == AVRO_NULL, null1 = avro_typeof(b1) == AVRO_NULL;
    if (null0 == null1)
        return -1;
    *nullable = true;
    *null_branch = null0 ? 0 : 1;
    *inner = null0 ? b1 : b0;
    return 0;
}

/* The items of an array of @type, or NULL. */
static avro_schema_t array_items(avro_schema_t s, avro_type_t type)
{
    if (avro_typeof(s) != AVRO_ARRAY)
        return NULL;
    avro_schema_t items = codec_schema_deref(avro_schema_array_items(s));
    return avro_typeof(items) == type ? items : NULL;
}

static bool is_record_of(avro_schema_t s, const codec_table_t *table)
{
    return s && avro_typeof(s) == AVRO_RECORD && !strcmp(avro_schema_name(s), table->record);
}

static const codec_slot_t *slot_find(const codec_table_t *table, const char *name)
{
    for (size_t i = 0; i < table->count; i++)
        if (!strcmp(table->slots[i].name, name))
            return &table->slots[i];
    return NULL;
}

typedef struct plan_builder {
    codec_plan_t *plan;
    const char *ctype; /* the struct of the table compiled, for messages */
    bool in_item;      /* compiling the fields of an array's items */
    char *err;
    size_t errsz;
} plan_builder_t;

static int compile_record(plan_builder_t *b, avro_schema_t writer, avro_schema_t reader,
                          const codec_table_t *table, uint16_t base, const char *prefix, int depth);

/* Sets @op's code and places for @slot; true when writer type @wt resolves to reader
 * type @rt the way the slot needs. */
static bool slot_resolves(plan_builder_t *b, plan_op_t *op, const codec_slot_t *slot,
                          avro_schema_t wt, avro_schema_t rt, bool rnullable, uint16_t base)
{
    avro_type_t w = avro_typeof(wt), r = avro_typeof(rt);
    uint16_t aux = (uint16_t)(base + slot->aux);
    op->dst2 = aux;
    switch (slot->type) {
    case CODEC_SLOT_STR:
        op->code = OP_STR;
        return w == AVRO_STRING && r == AVRO_STRING;
    case CODEC_SLOT_EMAIL:
        /* the raw address is read from .offset by the encoder only; the decoder writes
         * the domain at .aux and the hash in the pointer after it */
        op->code = OP_EMAIL;
        op->dst = aux;
        op->dst2 = (uint16_t)(aux + sizeof(const char *));
        op->has_dst2 = true;
        return w == AVRO_STRING && r == AVRO_STRING;
    case CODEC_SLOT_I32:
    case CODEC_SLOT_OPT_I32:
        op->code = OP_INT;
        op->has_dst2 = slot->type == CODEC_SLOT_OPT_I32;
        return w == AVRO_INT32 && r == AVRO_INT32 && rnullable == op->has_dst2;
    case CODEC_SLOT_I64:
    case CODEC_SLOT_OPT_I64:
        op->code = w == AVRO_INT64 ? OP_LONG : OP_INT;
        op->widen = w == AVRO_INT32;
        op->has_dst2 = slot->type == CODEC_SLOT_OPT_I64;
        return (w == AVRO_INT64 || w == AVRO_INT32) && r == AVRO_INT64 && rnullable == op->has_dst2;
    case CODEC_SLOT_U64:
        op->code = OP_LONG;
        op->nonneg = true;
        return w == AVRO_INT64 && r == AVRO_INT64 && !rnullable;
    case CODEC_SLOT_BOOL:
        op->code = OP_BOOL;
        return w == AVRO_BOOLEAN && r == AVRO_BOOLEAN && !rnullable;
    case CODEC_SLOT_F32:
        op->code = OP_FLOAT;
        return w == AVRO_FLOAT && r == AVRO_FLOAT && !rnullable;
    case CODEC_SLOT_F64:
        op->code = OP_DOUBLE;
        return w == AVRO_DOUBLE && r == AVRO_DOUBLE && !rnullable;
    case CODEC_SLOT_BYTES:
        op->code = OP_BYTES;
        op->has_dst2 = true;
        return w == AVRO_BYTES && r == AVRO_BYTES;
    case CODEC_SLOT_ENUM:
        op->code = OP_ENUM;
        return w == AVRO_ENUM && r == AVRO_ENUM && !rnullable &&
               !strcmp(avro_schema_name(wt), avro_schema_name(rt)) &&
               avro_schema_enum_number_of_symbols(rt) == slot->aux;
    case CODEC_SLOT_STRS:
        op->code = OP_STRS;
        op->has_dst2 = true;
        op->store = (uint16_t)b->plan->store_count++;
        return array_items(wt, AVRO_STRING) && array_items(rt, AVRO_STRING) && !rnullable &&
               !b->in_item;
    case CODEC_SLOT_RECORD:
        op->code = OP_RECORD;
        op->has_dst2 = slot->aux != CODEC_SLOT_ALWAYS;
        op->dst2 = (uint16_t)(base + slot->offset + slot->aux);
        return is_record_of(wt, slot->sub) && is_record_of(rt, slot->sub);
    case CODEC_SLOT_ARRAY:
        op->code = OP_ARRAY;
        op->has_dst2 = true;
        op->store = (uint16_t)b->plan->store_count++;
        op->item_size = slot->sub->size;
        return is_record_of(array_items(wt, AVRO_RECORD), slot->sub) &&
               is_record_of(array_items(rt, AVRO_RECORD), slot->sub) && !rnullable && !b->in_item;
    }
    return false;
}

/* Writer symbol -> reader value, by name. */
static int enum_map_new(plan_op_t *op, avro_schema_t wt, avro_schema_t rt)
{
    op->enum_count = (uint32_t)avro_schema_enum_number_of_symbols(wt);
    op->enum_map = malloc((op->enum_count ? op->enum_count : 1) * sizeof *op->enum_map);
    if (!op->enum_map)
        return -ENOMEM;
    for (uint32_t i = 0; i < op->enum_count; i++)
        op->enum_map[i] =
            (int16_t)avro_schema_enum_get_by_name(rt, avro_schema_enum_get(wt, (int)i));
    return 0;
}

/* The ops of a record's or an array item's fields, after the op at @at. */
static int compile_body(plan_builder_t *b, size_t at, const codec_slot_t *slot, avro_schema_t wt,
                        avro_schema_t rt, uint16_t base, const char *name, int depth)
{
    assert(slot->sub && (slot->type == CODEC_SLOT_RECORD || slot->type == CODEC_SLOT_ARRAY));
    char prefix[264];
    snprintf(prefix, sizeof prefix, "%s.", name);
    int r;
    if (slot->type == CODEC_SLOT_RECORD) {
        r = compile_record(b, wt, rt, slot->sub, (uint16_t)(base + slot->offset), prefix,
                           depth + 1);
    } else {
        avro_schema_t witem = array_items(wt, AVRO_RECORD);
        b->plan->ops[at].item_min = (uint32_t)codec_schema_min_bytes(witem, 0);
        b->in_item = true;
        r = compile_record(b, witem, array_items(rt, AVRO_RECORD), slot->sub, 0, prefix, depth + 1);
        b->in_item = false;
    }
    if (!r)
        b->plan->ops[at].body_ops = (uint32_t)(b->plan->count - at - 1);
    return r;
}

static int compile_field(plan_builder_t *b, avro_schema_t wfield, avro_schema_t rfield,
                         const codec_slot_t *slot, uint16_t base, const char *name, int depth)
{
    avro_schema_t wt, rt;
    bool rnullable;
    uint8_t rnull_branch;
    plan_op_t op = {0};
    if (unwrap_nullable(wfield, &wt, &op.nullable, &op.null_branch) ||
        unwrap_nullable(rfield, &rt, &rnullable, &rnull_branch)) {
        snprintf(b->err, b->errsz, "field %s: only unions of null and one type are supported",
                 name);
        return -EINVAL;
    }
    op.required = !rnullable;
    op.dst = (uint16_t)(base + slot->offset);
    op.src = op.dst;
    if (!slot_resolves(b, &op, slot, wt, rt, rnullable, base)) {
        snprintf(b->err, b->errsz,
                 "field %s: writer type %s%s does not resolve to reader type %s%s", name,
                 op.nullable ? "null or " : "", avro_schema_type_name(wt),
                 rnullable ? "null or " : "", avro_schema_type_name(rt));
        return -EINVAL;
    }
    if (op.code == OP_ENUM && enum_map_new(&op, wt, rt))
        return -ENOMEM;
    op.name = strdup(name);
    if (!op.name) {
        free(op.enum_map);
        return -ENOMEM;
    }
    size_t at = b->plan->count;
    int r = plan_push(b->plan, &op);
    if (r || (op.code != OP_RECORD && op.code != OP_ARRAY))
        return r;
    return compile_body(b, at, slot, wt, rt, base, name, depth);
}

/* The table and the current schema must describe the same fields, and every field
 * only the writer lacks must default to null. */
static int check_reader(plan_builder_t *b, avro_schema_t writer, avro_schema_t reader,
                        const codec_table_t *table, const char *prefix)
{
    if (strcmp(avro_schema_name(reader), table->record)) {
        snprintf(b->err, b->errsz, "%srecord %s of the schema is not %s", prefix,
                 avro_schema_name(reader), table->record);
        return -EINVAL;
    }
    for (size_t i = 0; i < table->count; i++) {
        if (avro_schema_record_field_get_index(reader, table->slots[i].name) < 0) {
            snprintf(b->err, b->errsz, "field %s%s of %s is not in the schema", prefix,
                     table->slots[i].name, b->ctype);
            return -EINVAL;
        }
    }
    size_t reader_fields = avro_schema_record_size(reader);
    for (size_t i = 0; i < reader_fields; i++) {
        const char *field = avro_schema_record_field_name(reader, (int)i);
        if (!slot_find(table, field)) {
            snprintf(b->err, b->errsz, "field %s%s has no place in %s", prefix, field, b->ctype);
            return -EINVAL;
        }
        if (avro_schema_record_field_get_index(writer, field) >= 0)
            continue;
        avro_schema_t t;
        bool nullable;
        uint8_t null_branch;
        if (unwrap_nullable(avro_schema_record_field_get_by_index(reader, (int)i), &t, &nullable,
                            &null_branch) ||
            !nullable || null_branch != 0) {
            snprintf(b->err, b->errsz,
                     "field %s%s is missing from the writer schema and has no null default", prefix,
                     field);
            return -EINVAL;
        }
    }
    return 0;
}

static int compile_record(plan_builder_t *b, avro_schema_t writer, avro_schema_t reader,
                          const codec_table_t *table, uint16_t base, const char *prefix, int depth)
{
    char name[256];
    if (depth > 4) {
        snprintf(b->err, b->errsz, "%s: records nested too deep", prefix);
        return -EINVAL;
    }
    int r = check_reader(b, writer, reader, table, prefix);
    if (r)
        return r;
    size_t writer_fields = avro_schema_record_size(writer);
    for (size_t i = 0; i < writer_fields; i++) {
        const char *field = avro_schema_record_field_name(writer, (int)i);
        avro_schema_t wfield = avro_schema_record_field_get_by_index(writer, (int)i);
        snprintf(name, sizeof name, "%s%s", prefix, field);
        int ri = avro_schema_record_field_get_index(reader, field);
        if (ri < 0) {
            plan_op_t op = {.code = OP_SKIP, .skip = wfield, .name = strdup(name)};
            r = op.name ? plan_push(b->plan, &op) : -ENOMEM;
        } else {
            r = compile_field(b, wfield, avro_schema_record_field_get_by_index(reader, ri),
                              slot_find(table, field), base, name, depth);
        }
        if (r)
            return r;
    }
    return 0;
}

int codec_plan_new(codec_plan_t **out, const codec_table_t *table, avro_schema_t writer,
                   avro_schema_t reader, char *err, size_t errsz)
{
    if (!table || avro_typeof(writer) != AVRO_RECORD || avro_typeof(reader) != AVRO_RECORD) {
        snprintf(err, errsz, "not a record schema");
        return -EINVAL;
    }
    codec_plan_t *plan = calloc(1, sizeof *plan);
    if (!plan)
        return -ENOMEM;
    plan_builder_t b = {.plan = plan, .ctype = table->ctype, .err = err, .errsz = errsz};
    int r = compile_record(&b, writer, reader, table, 0, "", 0);
    if (!r && plan->store_count) {
        plan->stores = calloc(plan->store_count, sizeof *plan->stores);
        if (!plan->stores)
            r = -ENOMEM;
    }
    if (r == -ENOMEM)
        snprintf(err, errsz, "out of memory");
    if (r)
        goto fail;
    *out = plan;
    plan = NULL;
    return 0;
fail:
    codec_plan_free(plan);
    return r;
}
