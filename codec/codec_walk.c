/* A value walked by its schema: one walk for skipping what a reader drops and for
 * rendering any record as JSON, so both check the bytes the same way. */
#include "codec_walk.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "codec_json.h"
#include "codec_read.h"

/* Why a walk stopped, for the two ways of saying it. */
enum walk_why {
    WALK_READ,    /* a value cut short or malformed (@word says which) */
    WALK_BOOL,    /* a boolean neither 0 nor 1 */
    WALK_NUL,     /* JSON only: a string with a NUL */
    WALK_UTF8,    /* JSON only: a string that is not UTF-8 */
    WALK_ENUM,    /* an enum index out of range (@number, @name) */
    WALK_UNION,   /* a union branch out of range (@number) */
    WALK_DEPTH,   /* nested deeper than CODEC_MAX_DEPTH */
    WALK_UNKNOWN, /* a type the walk does not know */
};

typedef struct walker {
    binenc_reader_t *r;
    hf_buf_t *json; /* NULL: check and skip */
    enum walk_why why;
    const char *word;
    const char *name;
    int64_t number;
} walker_t;

static int stop(walker_t *w, int code, enum walk_why why, const char *word)
{
    w->why = why;
    w->word = word;
    return code;
}

/* A read of @word failed: the reader says whether it was cut short. */
static int stop_read(walker_t *w, const char *word)
{
    return stop(w, codec_read_status(w->r), WALK_READ, word);
}

static int put(walker_t *w, const char *text)
{
    return w->json ? hf_buf_append_str(w->json, text) : 0;
}

static int put_long(walker_t *w, int64_t v)
{
    return w->json ? hf_buf_printf(w->json, "%" PRId64, v) : 0;
}

/* The name a union branch goes by: a primitive's type name or a full name. */
static int put_branch_name(walker_t *w, avro_schema_t schema)
{
    if (!w->json)
        return 0;
    schema = codec_schema_deref(schema);
    avro_type_t t = avro_typeof(schema);
    if (t != AVRO_RECORD && t != AVRO_ENUM && t != AVRO_FIXED)
        return hf_buf_printf(w->json, "{\"%s\": ", avro_schema_type_name(schema));
    const char *ns = avro_schema_namespace(schema);
    return hf_buf_printf(w->json, "{\"%s%s%s\": ", ns && *ns ? ns : "", ns && *ns ? "." : "",
                         avro_schema_name(schema));
}

/* A string or map key: only its length is checked when skipped; rendered, it must be
 * text. */
static int walk_text(walker_t *w, const char *word)
{
    size_t len;
    const uint8_t *s = binenc_get_bytes(w->r, &len);
    if (!s)
        return stop_read(w, word);
    if (!w->json)
        return 0;
    switch (codec_text_check(s, len)) {
    case CODEC_TEXT_NUL:
        return stop(w, CODEC_E_INVALID, WALK_NUL, word);
    case CODEC_TEXT_NOT_UTF8:
        return stop(w, CODEC_E_INVALID, WALK_UTF8, word);
    }
    return codec_json_string(w->json, (const char *)s, len);
}

static int walk(walker_t *w, avro_schema_t schema, int depth);

static int walk_union(walker_t *w, avro_schema_t schema, int depth)
{
    int64_t v = binenc_get_long(w->r);
    if (w->r->err)
        return stop_read(w, "union branch");
    if (v < 0 || (uint64_t)v >= avro_schema_union_size(schema)) {
        w->number = v;
        return stop(w, CODEC_E_INVALID, WALK_UNION, NULL);
    }
    avro_schema_t branch = avro_schema_union_branch(schema, (int)v);
    /* a null branch is written as null, any other as {"name": value} */
    bool is_null = avro_typeof(codec_schema_deref(branch)) == AVRO_NULL;
    int r = is_null ? 0 : put_branch_name(w, branch);
    if (!r)
        r = walk(w, branch, depth + 1);
    return r || is_null ? r : put(w, "}");
}

static int walk_record(walker_t *w, avro_schema_t schema, int depth)
{
    size_t n = avro_schema_record_size(schema);
    int r = put(w, "{");
    for (size_t i = 0; !r && i < n; i++) {
        if (w->json) {
            const char *name = avro_schema_record_field_name(schema, (int)i);
            r = i ? put(w, ", ") : 0;
            if (!r)
                r = codec_json_string(w->json, name, strlen(name));
            if (!r)
                r = put(w, ": ");
        }
        if (!r)
            r = walk(w, avro_schema_record_field_get_by_index(schema, (int)i), depth + 1);
    }
    return r ? r : put(w, "}");
}

static int walk_items(walker_t *w, avro_schema_t schema, int depth)
{
    bool is_map = avro_typeof(schema) == AVRO_MAP;
    avro_schema_t item = is_map ? avro_schema_map_values(schema) : avro_schema_array_items(schema);
    size_t item_min = codec_schema_min_bytes(item, depth + 1) + (is_map ? 1 : 0);
    int r = put(w, is_map ? "{" : "[");
    /* Ends with the body: each block costs a byte, each item item_min bytes or one of
     * the bounded empty items. */
    for (size_t done = 0; !r;) {
        size_t count = binenc_get_block_min(w->r, item_min);
        if (w->r->err)
            return stop_read(w, is_map ? "map block" : "array block");
        if (!count)
            break;
        for (size_t i = 0; !r && i < count; i++, done++) {
            r = done ? put(w, ", ") : 0;
            if (!r && is_map) {
                r = walk_text(w, "map key");
                if (!r)
                    r = put(w, ": ");
            }
            if (!r)
                r = walk(w, item, depth + 1);
        }
    }
    return r ? r : put(w, is_map ? "}" : "]");
}

/* A plain switch over the Avro types. */
static int walk(walker_t *w, avro_schema_t schema, int depth)
{
    binenc_reader_t *r = w->r;
    const uint8_t *p;
    size_t len;
    int64_t v;
    if (depth > CODEC_MAX_DEPTH)
        return stop(w, CODEC_E_INVALID, WALK_DEPTH, NULL);
    schema = codec_schema_deref(schema);
    switch (avro_typeof(schema)) {
    case AVRO_NULL:
        return put(w, "null");
    case AVRO_BOOLEAN:
        p = binenc_get_raw(r, 1);
        if (!p)
            return stop_read(w, "boolean");
        if (*p > 1)
            return stop(w, CODEC_E_INVALID, WALK_BOOL, "boolean");
        return put(w, *p ? "true" : "false");
    case AVRO_INT32:
        v = binenc_get_int(r);
        return r->err ? stop_read(w, "int") : put_long(w, v);
    case AVRO_INT64:
        v = binenc_get_long(r);
        return r->err ? stop_read(w, "long") : put_long(w, v);
    case AVRO_FLOAT: {
        float f = binenc_get_float(r);
        if (r->err)
            return stop_read(w, "float");
        return w->json ? codec_json_real(w->json, f, true) : 0;
    }
    case AVRO_DOUBLE: {
        double d = binenc_get_double(r);
        if (r->err)
            return stop_read(w, "double");
        return w->json ? codec_json_real(w->json, d, false) : 0;
    }
    case AVRO_STRING:
        return walk_text(w, "string");
    case AVRO_BYTES:
        p = binenc_get_bytes(r, &len);
        if (!p)
            return stop_read(w, "bytes value");
        return w->json ? codec_json_bytes(w->json, p, len) : 0;
    case AVRO_FIXED:
        len = (size_t)avro_schema_fixed_size(schema);
        p = binenc_get_raw(r, len);
        if (!p)
            return stop_read(w, "fixed value");
        return w->json ? codec_json_bytes(w->json, p, len) : 0;
    case AVRO_ENUM:
        v = binenc_get_long(r);
        if (r->err)
            return stop_read(w, "enum");
        if (v < 0 || v >= avro_schema_enum_number_of_symbols(schema)) {
            w->number = v;
            w->name = avro_schema_name(schema);
            return stop(w, CODEC_E_INVALID, WALK_ENUM, NULL);
        }
        if (!w->json)
            return 0;
        const char *symbol = avro_schema_enum_get(schema, (int)v);
        return codec_json_string(w->json, symbol, strlen(symbol));
    case AVRO_UNION:
        return walk_union(w, schema, depth);
    case AVRO_RECORD:
        return walk_record(w, schema, depth);
    case AVRO_ARRAY:
    case AVRO_MAP:
        return walk_items(w, schema, depth);
    default:
        return stop(w, CODEC_E_INVALID, WALK_UNKNOWN, NULL);
    }
}

int codec_walk_skip(binenc_reader_t *r, avro_schema_t schema, int depth, const char **what)
{
    walker_t w = {.r = r};
    int code = walk(&w, schema, depth);
    static const char *const says[] = {
        [WALK_BOOL] = "boolean is not 0 or 1",      [WALK_ENUM] = "enum index out of range",
        [WALK_UNION] = "union branch out of range", [WALK_DEPTH] = "nested too deep",
        [WALK_UNKNOWN] = "unsupported type",
    };
    *what = code ? says[w.why] : NULL;
    return code;
}

int codec_walk_json(binenc_reader_t *r, avro_schema_t schema, hf_buf_t *out, char *err,
                    size_t errsz)
{
    size_t start = out->len;
    walker_t w = {.r = r, .json = out};
    int code = walk(&w, schema, 0);
    if (!code)
        return 0;
    if (out->data) {
        out->len = start; /* nothing half-written */
        out->data[start] = 0;
    }
    if (code < 0)
        return codec_fail(code, err, errsz, "out of memory");
    switch (w.why) {
    case WALK_READ:
    case WALK_BOOL:
        if (code == CODEC_E_TRUNCATED)
            return codec_fail(code, err, errsz, "record ends inside a %s", w.word);
        return codec_fail(code, err, errsz, "malformed %s", w.word);
    case WALK_NUL:
        return codec_fail(code, err, errsz, "a %s contains a NUL byte", w.word);
    case WALK_UTF8:
        return codec_fail(code, err, errsz, "a %s is not valid UTF-8", w.word);
    case WALK_ENUM:
        return codec_fail(code, err, errsz, "enum %s: index %" PRId64 " out of range", w.name,
                          w.number);
    case WALK_UNION:
        return codec_fail(code, err, errsz, "union branch %" PRId64 " out of range", w.number);
    case WALK_DEPTH:
        return codec_fail(code, err, errsz, "values nested too deep");
    default:
        return codec_fail(code, err, errsz, "unsupported Avro type");
    }
}
