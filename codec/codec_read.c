/* Avro binary walked by schema, and Avro-C generic values.
 *
 * The checked reader here fills any generic value from untrusted bytes (for
 * codec_record_to_json and codec_body_to_json): every length is checked against
 * the bytes that are left before anything is copied, enum and union indexes
 * against the schema, strings must be UTF-8 without NUL, nesting and empty items
 * are bounded.  The fill functions build the values the encoders write. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

/* Avro float and double are little-endian IEEE 754; so is every host we build on. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");

int codec_fail(int code, char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return code;
}

int codec_text_check(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Eight ASCII bytes without a zero at a time: most text is plain ASCII. */
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            uint64_t zero = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
            if (!(w & 0x8080808080808080ull) && !zero) {
                i += 8;
                continue;
            }
        }
        uint8_t ch = s[i];
        if (ch == 0)
            return CODEC_TEXT_NUL;
        if (ch < 0x80) {
            i++;
            continue;
        }
        size_t more;
        uint32_t cp;
        if (ch >= 0xc2 && ch <= 0xdf) {
            more = 1;
            cp = ch & 0x1f;
        } else if (ch >= 0xe0 && ch <= 0xef) {
            more = 2;
            cp = ch & 0x0f;
        } else if (ch >= 0xf0 && ch <= 0xf4) {
            more = 3;
            cp = ch & 0x07;
        } else {
            return CODEC_TEXT_NOT_UTF8;
        }
        if (len - i - 1 < more)
            return CODEC_TEXT_NOT_UTF8;
        for (size_t k = 1; k <= more; k++) {
            uint8_t cont = s[i + k];
            if ((cont & 0xc0) != 0x80)
                return CODEC_TEXT_NOT_UTF8;
            cp = cp << 6 | (cont & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return CODEC_TEXT_NOT_UTF8;
        i += more + 1;
    }
    return CODEC_TEXT_OK;
}

int codec_read_block_count(codec_cursor_t *cur, size_t item_min_bytes, uint64_t *count)
{
    int64_t n;
    int r = codec_read_long(cur, &n);
    if (r)
        return r;
    if (n < 0) {
        /* A negative count is followed by the block's size in bytes. */
        if (n == INT64_MIN)
            return CODEC_E_INVALID;
        n = -n;
        int64_t block_bytes;
        r = codec_read_long(cur, &block_bytes);
        if (r)
            return r;
        if (block_bytes < 0)
            return CODEC_E_INVALID;
    }
    if (item_min_bytes) {
        if ((uint64_t)n > codec_cursor_left(cur) / item_min_bytes)
            return CODEC_E_TRUNCATED;
    } else {
        if ((uint64_t)n > CODEC_MAX_EMPTY_ITEMS - cur->empty_items)
            return CODEC_E_INVALID;
        cur->empty_items += (uint32_t)n;
    }
    *count = (uint64_t)n;
    return 0;
}

static avro_schema_t deref(avro_schema_t s)
{
    return avro_typeof(s) == AVRO_LINK ? avro_schema_link_target(s) : s;
}

size_t codec_schema_min_bytes(avro_schema_t schema, int depth)
{
    if (depth > CODEC_MAX_DEPTH)
        return 0;
    schema = deref(schema);
    switch (avro_typeof(schema)) {
    case AVRO_NULL:
        return 0;
    case AVRO_FLOAT:
        return 4;
    case AVRO_DOUBLE:
        return 8;
    case AVRO_FIXED:
        return (size_t)avro_schema_fixed_size(schema);
    case AVRO_RECORD: {
        size_t sum = 0, n = avro_schema_record_size(schema);
        for (size_t i = 0; i < n; i++)
            sum += codec_schema_min_bytes(avro_schema_record_field_get_by_index(schema, (int)i),
                                          depth + 1);
        return sum;
    }
    default:
        /* boolean, int, long, string, bytes, enum, array, map, union: a byte at least */
        return 1;
    }
}

int codec_skip_value(codec_cursor_t *cur, avro_schema_t schema, int depth, const char **what)
{
    int r;
    int64_t v;
    size_t len;
    if (depth > CODEC_MAX_DEPTH) {
        *what = "nested too deep";
        return CODEC_E_INVALID;
    }
    schema = deref(schema);
    switch (avro_typeof(schema)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (!codec_cursor_left(cur))
            return CODEC_E_TRUNCATED;
        if (*cur->p > 1) {
            *what = "boolean is not 0 or 1";
            return CODEC_E_INVALID;
        }
        cur->p++;
        return 0;
    case AVRO_INT32: {
        int32_t i32;
        return codec_read_int(cur, &i32);
    }
    case AVRO_INT64:
        return codec_read_long(cur, &v);
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
    case AVRO_FIXED:
        len = codec_schema_min_bytes(schema, depth);
        if (codec_cursor_left(cur) < len)
            return CODEC_E_TRUNCATED;
        cur->p += len;
        return 0;
    case AVRO_STRING:
    case AVRO_BYTES:
        r = codec_read_length(cur, &len);
        if (!r)
            cur->p += len;
        return r;
    case AVRO_ENUM:
        r = codec_read_long(cur, &v);
        if (!r && (v < 0 || v >= avro_schema_enum_number_of_symbols(schema))) {
            *what = "enum index out of range";
            r = CODEC_E_INVALID;
        }
        return r;
    case AVRO_UNION:
        r = codec_read_long(cur, &v);
        if (r)
            return r;
        if (v < 0 || (uint64_t)v >= avro_schema_union_size(schema)) {
            *what = "union branch out of range";
            return CODEC_E_INVALID;
        }
        return codec_skip_value(cur, avro_schema_union_branch(schema, (int)v), depth + 1, what);
    case AVRO_RECORD: {
        size_t n = avro_schema_record_size(schema);
        for (size_t i = 0; i < n; i++) {
            r = codec_skip_value(cur, avro_schema_record_field_get_by_index(schema, (int)i),
                                 depth + 1, what);
            if (r)
                return r;
        }
        return 0;
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
        bool is_map = avro_typeof(schema) == AVRO_MAP;
        avro_schema_t item =
            is_map ? avro_schema_map_values(schema) : avro_schema_array_items(schema);
        size_t item_min = codec_schema_min_bytes(item, depth + 1) + (is_map ? 1 : 0);
        /* Ends with the body: each block costs a byte, each item item_min bytes or
         * one of the bounded empty items. */
        for (;;) {
            uint64_t count;
            r = codec_read_block_count(cur, item_min, &count);
            if (r)
                return r;
            if (!count)
                return 0;
            for (uint64_t i = 0; i < count; i++) {
                if (is_map) {
                    r = codec_read_length(cur, &len);
                    if (r)
                        return r;
                    cur->p += len;
                }
                r = codec_skip_value(cur, item, depth + 1, what);
                if (r)
                    return r;
            }
        }
    }
    default:
        *what = "unsupported type";
        return CODEC_E_INVALID;
    }
}

/* --- the checked reader ------------------------------------------------------- */

typedef struct value_reader {
    codec_cursor_t *cur;
    hf_buf_t text; /* a NUL-terminated copy of the string or map key being read */
    char *err;
    size_t errsz;
} value_reader_t;

static int avro_fail(value_reader_t *vr)
{
    return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "avro: %s", avro_strerror());
}

static int read_fail(value_reader_t *vr, int code, const char *what)
{
    if (code == CODEC_E_TRUNCATED)
        return codec_fail(code, vr->err, vr->errsz, "record ends inside a %s", what);
    return codec_fail(code, vr->err, vr->errsz, "malformed %s", what);
}

static int read_text(value_reader_t *vr, const uint8_t **s, size_t *len, const char *what)
{
    int r = codec_read_length(vr->cur, len);
    if (r)
        return read_fail(vr, r, what);
    switch (codec_text_check(vr->cur->p, *len)) {
    case CODEC_TEXT_NUL:
        return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "a %s contains a NUL byte", what);
    case CODEC_TEXT_NOT_UTF8:
        return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "a %s is not valid UTF-8", what);
    }
    *s = vr->cur->p;
    vr->cur->p += *len;
    return 0;
}

static int read_value(value_reader_t *vr, avro_value_t *value, int depth)
{
    codec_cursor_t *cur = vr->cur;
    avro_schema_t schema = avro_value_get_schema(value);
    int r;
    int64_t v;
    size_t len;
    const uint8_t *s;
    if (depth > CODEC_MAX_DEPTH)
        return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "values nested too deep");

    switch (avro_value_get_type(value)) {
    case AVRO_NULL:
        return avro_value_set_null(value) ? avro_fail(vr) : 0;
    case AVRO_BOOLEAN:
        if (!codec_cursor_left(cur))
            return read_fail(vr, CODEC_E_TRUNCATED, "boolean");
        if (*cur->p > 1)
            return read_fail(vr, CODEC_E_INVALID, "boolean");
        return avro_value_set_boolean(value, *cur->p++) ? avro_fail(vr) : 0;
    case AVRO_INT32: {
        int32_t i32;
        r = codec_read_int(cur, &i32);
        if (r)
            return read_fail(vr, r, "int");
        return avro_value_set_int(value, i32) ? avro_fail(vr) : 0;
    }
    case AVRO_INT64:
        r = codec_read_long(cur, &v);
        if (r)
            return read_fail(vr, r, "long");
        return avro_value_set_long(value, v) ? avro_fail(vr) : 0;
    case AVRO_FLOAT: {
        float f;
        if (codec_cursor_left(cur) < sizeof f)
            return read_fail(vr, CODEC_E_TRUNCATED, "float");
        memcpy(&f, cur->p, sizeof f);
        cur->p += sizeof f;
        return avro_value_set_float(value, f) ? avro_fail(vr) : 0;
    }
    case AVRO_DOUBLE: {
        double d;
        if (codec_cursor_left(cur) < sizeof d)
            return read_fail(vr, CODEC_E_TRUNCATED, "double");
        memcpy(&d, cur->p, sizeof d);
        cur->p += sizeof d;
        return avro_value_set_double(value, d) ? avro_fail(vr) : 0;
    }
    case AVRO_STRING:
        r = read_text(vr, &s, &len, "string");
        if (r)
            return r;
        /* Avro-C copies size bytes, the NUL included, so the source needs one. */
        hf_buf_reset(&vr->text);
        if (hf_buf_append(&vr->text, s, len) < 0)
            return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "out of memory");
        return avro_value_set_string_len(value, (const char *)vr->text.data, len + 1)
                   ? avro_fail(vr)
                   : 0;
    case AVRO_BYTES:
        r = codec_read_length(cur, &len);
        if (r)
            return read_fail(vr, r, "bytes value");
        s = cur->p;
        cur->p += len;
        return avro_value_set_bytes(value, (void *)s, len) ? avro_fail(vr) : 0;
    case AVRO_FIXED:
        len = (size_t)avro_schema_fixed_size(schema);
        if (codec_cursor_left(cur) < len)
            return read_fail(vr, CODEC_E_TRUNCATED, "fixed value");
        s = cur->p;
        cur->p += len;
        return avro_value_set_fixed(value, (void *)s, len) ? avro_fail(vr) : 0;
    case AVRO_ENUM:
        r = codec_read_long(cur, &v);
        if (r)
            return read_fail(vr, r, "enum");
        if (v < 0 || v >= avro_schema_enum_number_of_symbols(schema))
            return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz,
                              "enum %s: index %" PRId64 " out of range", avro_schema_name(schema),
                              v);
        return avro_value_set_enum(value, (int)v) ? avro_fail(vr) : 0;
    case AVRO_UNION: {
        r = codec_read_long(cur, &v);
        if (r)
            return read_fail(vr, r, "union branch");
        if (v < 0 || (uint64_t)v >= avro_schema_union_size(schema))
            return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz,
                              "union branch %" PRId64 " out of range", v);
        avro_value_t branch;
        if (avro_value_set_branch(value, (int)v, &branch))
            return avro_fail(vr);
        return read_value(vr, &branch, depth + 1);
    }
    case AVRO_RECORD: {
        size_t n;
        if (avro_value_get_size(value, &n))
            return avro_fail(vr);
        for (size_t i = 0; i < n; i++) {
            avro_value_t field;
            if (avro_value_get_by_index(value, i, &field, NULL))
                return avro_fail(vr);
            r = read_value(vr, &field, depth + 1);
            if (r)
                return r;
        }
        return 0;
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
        bool is_map = avro_value_get_type(value) == AVRO_MAP;
        avro_schema_t item =
            is_map ? avro_schema_map_values(schema) : avro_schema_array_items(schema);
        size_t item_min = codec_schema_min_bytes(item, depth + 1) + (is_map ? 1 : 0);
        /* Ends with the body, as in codec_skip_value(). */
        for (;;) {
            uint64_t count;
            r = codec_read_block_count(cur, item_min, &count);
            if (r)
                return read_fail(vr, r, is_map ? "map block" : "array block");
            if (!count)
                return 0;
            for (uint64_t i = 0; i < count; i++) {
                avro_value_t child;
                if (is_map) {
                    r = read_text(vr, &s, &len, "map key");
                    if (r)
                        return r;
                    hf_buf_reset(&vr->text);
                    if (hf_buf_append(&vr->text, s, len) < 0)
                        return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "out of memory");
                    if (avro_value_add(value, (const char *)vr->text.data, &child, NULL, NULL))
                        return avro_fail(vr);
                } else if (avro_value_append(value, &child, NULL)) {
                    return avro_fail(vr);
                }
                r = read_value(vr, &child, depth + 1);
                if (r)
                    return r;
            }
        }
    }
    default:
        return codec_fail(CODEC_E_INVALID, vr->err, vr->errsz, "unsupported Avro type");
    }
}

int codec_value_read(codec_cursor_t *cur, avro_value_t *value, char *err, size_t errsz)
{
    value_reader_t vr = {.cur = cur, .text = HF_BUF_INIT, .err = err, .errsz = errsz};
    int r = avro_value_reset(value) ? avro_fail(&vr) : read_value(&vr, value, 0);
    hf_buf_free(&vr.text);
    return r;
}

/* --- filling values for the encoders ------------------------------------------ */

static int get_field(avro_value_t *record, const char *name, avro_value_t *field)
{
    return avro_value_get_by_name(record, name, field, NULL) ? -EINVAL : 0;
}

/* Strings written must be readable again: UTF-8 (C strings cannot hold a NUL). */
static int set_string(avro_value_t *v, const char *s)
{
    if (!s)
        return -EINVAL;
    size_t len = strlen(s);
    if (codec_text_check((const uint8_t *)s, len) != CODEC_TEXT_OK)
        return -EINVAL;
    return avro_value_set_string_len(v, s, len + 1) ? -ENOMEM : 0;
}

/* Selects the null or the other branch of a ["null", T] union (either order). */
static int set_nullable(avro_value_t *u, bool present, avro_value_t *branch)
{
    avro_schema_t schema = avro_value_get_schema(u);
    if (avro_typeof(schema) != AVRO_UNION || avro_schema_union_size(schema) != 2)
        return -EINVAL;
    int null_index = avro_typeof(avro_schema_union_branch(schema, 0)) == AVRO_NULL ? 0 : 1;
    int index = present ? 1 - null_index : null_index;
    if (avro_value_set_branch(u, index, branch))
        return -EINVAL;
    return present ? 0 : (avro_value_set_null(branch) ? -EINVAL : 0);
}

static int put_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    return r ? r : set_string(&f, s);
}

static int put_opt_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f, b;
    int r = get_field(rec, name, &f);
    if (!r)
        r = set_nullable(&f, s != NULL, &b);
    if (!r && s)
        r = set_string(&b, s);
    return r;
}

static int put_int(avro_value_t *rec, const char *name, int32_t v)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    return r ? r : (avro_value_set_int(&f, v) ? -EINVAL : 0);
}

static int put_long(avro_value_t *rec, const char *name, int64_t v)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    return r ? r : (avro_value_set_long(&f, v) ? -EINVAL : 0);
}

static int put_opt_long(avro_value_t *rec, const char *name, bool present, int64_t v)
{
    avro_value_t f, b;
    int r = get_field(rec, name, &f);
    if (!r)
        r = set_nullable(&f, present, &b);
    if (!r && present)
        r = avro_value_set_long(&b, v) ? -EINVAL : 0;
    return r;
}

static int put_enum(avro_value_t *rec, const char *name, int v)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    if (r)
        return r;
    if (v < 0 || v >= avro_schema_enum_number_of_symbols(avro_value_get_schema(&f)))
        return -EINVAL;
    return avro_value_set_enum(&f, v) ? -EINVAL : 0;
}

static int put_bytes(avro_value_t *rec, const char *name, const void *data, size_t len)
{
    avro_value_t f, b;
    int r = get_field(rec, name, &f);
    if (!r)
        r = set_nullable(&f, data != NULL, &b);
    if (!r && data)
        r = avro_value_set_bytes(&b, (void *)data, len) ? -ENOMEM : 0;
    return r;
}

/* Appends an item to the array field @name (or to the array @array itself). */
static int append_item(avro_value_t *array, avro_value_t *item)
{
    return avro_value_append(array, item, NULL) ? -ENOMEM : 0;
}

/* Input records, driven by the same tables as the decoder.  The slot type picks
 * the C value; the schema says whether it is a union with null. */
static int fill_slots(avro_value_t *rec, const codec_slot_t *slots, size_t count, const void *src)
{
    const uint8_t *base = src;
    for (size_t i = 0; i < count; i++) {
        const codec_slot_t *slot = &slots[i];
        avro_value_t field, target;
        int r = get_field(rec, slot->name, &field);
        if (r)
            return r;
        const char *str = NULL;
        bool present = true;
        switch (slot->type) {
        case CODEC_SLOT_STR:
        case CODEC_SLOT_EMAIL:
            memcpy(&str, base + slot->offset, sizeof str);
            present = str != NULL;
            break;
        case CODEC_SLOT_OPT_I32:
            memcpy(&present, base + slot->aux, sizeof present);
            break;
        case CODEC_SLOT_TRAITS:
            memcpy(&present, base + slot->offset + slot->aux, sizeof present);
            break;
        default:
            break;
        }
        if (avro_value_get_type(&field) == AVRO_UNION) {
            r = set_nullable(&field, present, &target);
            if (r)
                return r;
            if (!present)
                continue;
        } else {
            if (!present && slot->type != CODEC_SLOT_TRAITS)
                return -EINVAL; /* a required field without a value */
            target = field;
        }

        switch (slot->type) {
        case CODEC_SLOT_STR:
        case CODEC_SLOT_EMAIL:
            r = set_string(&target, str);
            break;
        case CODEC_SLOT_I32:
        case CODEC_SLOT_OPT_I32: {
            int32_t v;
            memcpy(&v, base + slot->offset, sizeof v);
            r = avro_value_set_int(&target, v) ? -EINVAL : 0;
            break;
        }
        case CODEC_SLOT_I64: {
            int64_t v;
            memcpy(&v, base + slot->offset, sizeof v);
            r = avro_value_set_long(&target, v) ? -EINVAL : 0;
            break;
        }
        case CODEC_SLOT_ENUM: {
            int v;
            memcpy(&v, base + slot->offset, sizeof v);
            if (v < 0 || v >= slot->aux)
                return -EINVAL;
            r = avro_value_set_enum(&target, v) ? -EINVAL : 0;
            break;
        }
        case CODEC_SLOT_STRS: {
            const char *const *items;
            size_t n;
            memcpy(&items, base + slot->offset, sizeof items);
            memcpy(&n, base + slot->aux, sizeof n);
            if (n && !items)
                return -EINVAL;
            for (size_t k = 0; !r && k < n; k++) {
                avro_value_t item;
                r = append_item(&target, &item);
                if (!r)
                    r = set_string(&item, items[k]);
            }
            break;
        }
        case CODEC_SLOT_TRAITS: {
            /* A required Traits record without values is written with all nulls. */
            size_t n;
            const codec_slot_t *traits = codec_slots(HF_EV__COUNT, &n);
            r = fill_slots(&target, traits, n, base + slot->offset);
            break;
        }
        }
        if (r)
            return r;
    }
    return 0;
}

int codec_value_fill_event(avro_value_t *value, const hf_event_t *ev)
{
    size_t count;
    const codec_slot_t *slots = codec_slots(ev->kind, &count);
    if (!slots || ev->kind == HF_EV__COUNT)
        return -EINVAL;
    if (avro_value_reset(value))
        return -ENOMEM;
    return fill_slots(value, slots, count, ev);
}

int codec_value_fill_lifecycle(avro_value_t *value, const hf_lifecycle_t *lc)
{
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_enum(value, "entity_type", (int)lc->entity_type);
    if (!r)
        r = put_str(value, "entity_id", lc->entity_id);
    if (!r)
        r = put_str(value, "from_stage", lc->from_stage);
    if (!r)
        r = put_str(value, "to_stage", lc->to_stage);
    if (!r)
        r = put_long(value, "at", lc->at_ms);
    if (!r)
        r = put_str(value, "cause", lc->cause);
    return r;
}

int codec_value_fill_breach(avro_value_t *value, const hf_breach_t *b)
{
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_str(value, "breach_id", b->breach_id);
    if (!r)
        r = put_str(value, "handoff_id", b->handoff_id);
    if (!r)
        r = put_enum(value, "entity_type", (int)b->entity_type);
    if (!r)
        r = put_str(value, "entity_id", b->entity_id);
    if (!r)
        r = put_opt_str(value, "owner_id", b->owner_id);
    if (!r)
        r = put_enum(value, "sla", b->sla);
    if (!r)
        r = put_long(value, "due_at", b->due_at_ms);
    if (!r)
        r = put_long(value, "breached_at", b->breached_at_ms);
    if (!r)
        r = put_int(value, "level", b->level);
    return r;
}

int codec_value_fill_dead_letter(avro_value_t *value, const hf_dead_letter_t *dl)
{
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_str(value, "topic", dl->topic);
    if (!r)
        r = put_int(value, "partition", dl->partition);
    if (!r)
        r = put_long(value, "offset", dl->offset);
    if (!r)
        r = put_bytes(value, "key", dl->key, dl->key_len);
    if (!r)
        r = put_bytes(value, "value", dl->value, dl->value_len);
    if (!r)
        r = put_str(value, "error", dl->error);
    if (!r)
        r = put_long(value, "at", dl->at_ms);
    return r;
}

/* Appends @count items of an array field, each filled by @fill(item, i). */
typedef int (*fill_item_fn)(avro_value_t *item, const void *items, size_t i);

static int put_array(avro_value_t *rec, const char *name, const void *items, size_t count,
                     fill_item_fn fill)
{
    avro_value_t array;
    int r = get_field(rec, name, &array);
    if (!r && count && !items)
        r = -EINVAL;
    for (size_t i = 0; !r && i < count; i++) {
        avro_value_t item;
        r = append_item(&array, &item);
        if (!r)
            r = fill(&item, items, i);
    }
    return r;
}

static int fill_reason(avro_value_t *item, const void *items, size_t i)
{
    const hf_reason_t *x = (const hf_reason_t *)items + i;
    int r = put_str(item, "rule", x->rule);
    if (!r)
        r = put_int(item, "points", x->points);
    if (!r)
        r = put_int(item, "count", x->count);
    if (!r)
        r = put_str(item, "detail", x->detail);
    return r;
}

static int fill_page(avro_value_t *item, const void *items, size_t i)
{
    const hf_page_t *x = (const hf_page_t *)items + i;
    int r = put_str(item, "url", x->url);
    if (!r)
        r = put_opt_str(item, "title", x->title);
    if (!r)
        r = put_int(item, "views", x->views);
    return r;
}

static int fill_download(avro_value_t *item, const void *items, size_t i)
{
    const hf_download_t *x = (const hf_download_t *)items + i;
    int r = put_str(item, "asset_id", x->asset_id);
    if (!r)
        r = put_str(item, "title", x->title);
    if (!r)
        r = put_str(item, "type", x->type);
    if (!r)
        r = put_long(item, "at", x->at_ms);
    return r;
}

static int fill_webinar(avro_value_t *item, const void *items, size_t i)
{
    const hf_webinar_t *x = (const hf_webinar_t *)items + i;
    int r = put_str(item, "webinar_id", x->webinar_id);
    if (!r)
        r = put_str(item, "title", x->title);
    if (!r)
        r = put_str(item, "action", x->action);
    if (!r)
        r = put_int(item, "minutes", x->minutes);
    if (!r)
        r = put_long(item, "at", x->at_ms);
    return r;
}

static int fill_touch(avro_value_t *item, const void *items, size_t i)
{
    const hf_touch_t *x = (const hf_touch_t *)items + i;
    int r = put_long(item, "at", x->at_ms);
    if (!r)
        r = put_str(item, "type", x->type);
    if (!r)
        r = put_str(item, "title", x->title);
    if (!r)
        r = put_opt_str(item, "detail", x->detail);
    return r;
}

static int fill_interest(avro_value_t *item, const void *items, size_t i)
{
    const hf_interest_t *x = (const hf_interest_t *)items + i;
    avro_value_t f;
    int r = put_str(item, "topic", x->topic);
    if (!r)
        r = get_field(item, "weight", &f);
    if (!r)
        r = avro_value_set_float(&f, x->weight) ? -EINVAL : 0;
    return r;
}

static int fill_member(avro_value_t *item, const void *items, size_t i)
{
    const hf_member_t *x = (const hf_member_t *)items + i;
    int r = put_str(item, "contact_id", x->contact_id);
    if (!r)
        r = put_str(item, "role", x->role);
    if (!r)
        r = put_int(item, "score", x->score);
    if (!r)
        r = put_long(item, "last_active", x->last_active_ms);
    return r;
}

static int fill_role(avro_value_t *item, const void *items, size_t i)
{
    return set_string(item, ((const char *const *)items)[i]);
}

static int fill_journey(avro_value_t *j, const hf_journey_t *x)
{
    avro_value_t email;
    int r = put_long(j, "first_seen", x->first_seen_ms);
    if (!r)
        r = put_opt_long(j, "known_since", x->has_known_since, x->known_since_ms);
    if (!r)
        r = put_int(j, "sessions", x->sessions);
    if (!r)
        r = put_int(j, "page_views", x->page_views);
    if (!r)
        r = put_array(j, "top_pages", x->top_pages, x->top_page_count, fill_page);
    if (!r)
        r = put_array(j, "downloads", x->downloads, x->download_count, fill_download);
    if (!r)
        r = put_array(j, "webinars", x->webinars, x->webinar_count, fill_webinar);
    if (!r)
        r = get_field(j, "email", &email);
    if (!r)
        r = put_int(&email, "opens", x->email_opens);
    if (!r)
        r = put_int(&email, "clicks", x->email_clicks);
    if (!r)
        r = put_opt_str(&email, "last_campaign", x->email_last_campaign);
    if (!r)
        r = put_array(j, "recent", x->recent, x->recent_count, fill_touch);
    return r;
}

int codec_value_fill_handoff(avro_value_t *value, const hf_handoff_t *h)
{
    avro_value_t journey, routing, sla;
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_str(value, "handoff_id", h->handoff_id);
    if (!r)
        r = put_enum(value, "entity_type", (int)h->entity_type);
    if (!r)
        r = put_str(value, "entity_id", h->entity_id);
    if (!r)
        r = put_opt_str(value, "account_id", h->account_id);
    if (!r)
        r = put_str(value, "rule", h->rule);
    if (!r)
        r = put_long(value, "qualified_at", h->qualified_at_ms);
    if (!r)
        r = put_long(value, "emitted_at", h->emitted_at_ms);
    if (!r)
        r = put_int(value, "score", h->score);
    if (!r)
        r = put_str(value, "fit_grade", h->fit_grade);
    if (!r)
        r = put_str(value, "stage_before", h->stage_before);
    if (!r)
        r = put_array(value, "reasons", h->reasons, h->reason_count, fill_reason);
    if (!r)
        r = get_field(value, "journey", &journey);
    if (!r)
        r = fill_journey(&journey, &h->journey);
    if (!r)
        r = put_array(value, "interests", h->interests, h->interest_count, fill_interest);
    if (!r)
        r = put_array(value, "buying_group", h->buying_group, h->buying_group_count, fill_member);
    if (!r)
        r = put_array(value, "roles_covered", h->roles_covered, h->roles_covered_count, fill_role);
    if (!r)
        r = get_field(value, "routing", &routing);
    if (!r)
        r = put_opt_str(&routing, "team", h->routing_team);
    if (!r)
        r = put_opt_str(&routing, "region", h->routing_region);
    if (!r)
        r = put_opt_str(&routing, "note", h->routing_note);
    if (!r)
        r = get_field(value, "sla", &sla);
    if (!r)
        r = put_long(&sla, "accept_by", h->sla_accept_by_ms);
    if (!r)
        r = put_long(&sla, "first_touch_by", h->sla_first_touch_by_ms);
    return r;
}

/* --- JSON ------------------------------------------------------------------------ */

/* Avro's JSON encoding, written here rather than with avro_value_to_json(): Avro-C
 * 1.11 renders bytes through a NUL-terminated string and cuts them at the first zero
 * byte (a dead letter's original record would lose everything after its header),
 * and it names union branches of named types without their namespace.  The layout
 * is Avro-C's ({"a": 1, "b": [2, 3]}, ASCII only), so output looks the same. */

static int json_codepoint(hf_buf_t *out, uint32_t cp)
{
    if (cp < 0x10000)
        return hf_buf_printf(out, "\\u%04x", cp);
    cp -= 0x10000;
    return hf_buf_printf(out, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
}

/* A UTF-8 string (checked on the way in) as an ASCII JSON string. */
static int json_string(hf_buf_t *out, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    int r = hf_buf_append(out, "\"", 1);
    size_t i = 0;
    while (!r && i < len) {
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            r = hf_buf_append(out, p + i, run - i);
            i = run;
            continue;
        }
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') {
            r = hf_buf_printf(out, "\\%c", ch);
            i++;
        } else if (ch == '\n') {
            r = hf_buf_append(out, "\\n", 2);
            i++;
        } else if (ch == '\t') {
            r = hf_buf_append(out, "\\t", 2);
            i++;
        } else if (ch == '\r') {
            r = hf_buf_append(out, "\\r", 2);
            i++;
        } else if (ch < 0x80) {
            r = json_codepoint(out, ch);
            i++;
        } else {
            size_t more = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : 1;
            if (len - i - 1 < more)
                return -EINVAL;
            uint32_t cp = ch & (0x3f >> more);
            for (size_t k = 1; k <= more; k++)
                cp = cp << 6 | (p[i + k] & 0x3f);
            r = json_codepoint(out, cp);
            i += more + 1;
        }
    }
    return r ? r : hf_buf_append(out, "\"", 1);
}

/* Bytes and fixed: each byte is the code point of the same value (Avro spec). */
static int json_bytes(hf_buf_t *out, const uint8_t *p, size_t len)
{
    int r = hf_buf_append(out, "\"", 1);
    for (size_t i = 0; !r && i < len; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            r = hf_buf_append(out, p + i, 1);
        else
            r = json_codepoint(out, p[i]);
    }
    return r ? r : hf_buf_append(out, "\"", 1);
}

/* The shortest decimal that reads back as the same float or double; JSON has no
 * NaN or infinity, so those are written as null. */
static int json_real(hf_buf_t *out, double v, bool single)
{
    if (v != v || v - v != 0)
        return hf_buf_append_str(out, "null");
    char text[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (single ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v)
            break;
    }
    int r = hf_buf_append_str(out, text);
    if (!r && !strpbrk(text, ".eE"))
        r = hf_buf_append_str(out, ".0");
    return r;
}

/* The name a union branch goes by: a primitive's type name or a full name. */
static int json_branch_name(hf_buf_t *out, avro_schema_t schema)
{
    schema = deref(schema);
    avro_type_t t = avro_typeof(schema);
    if (t != AVRO_RECORD && t != AVRO_ENUM && t != AVRO_FIXED)
        return hf_buf_printf(out, "{\"%s\": ", avro_schema_type_name(schema));
    const char *ns = avro_schema_namespace(schema);
    return hf_buf_printf(out, "{\"%s%s%s\": ", ns && *ns ? ns : "", ns && *ns ? "." : "",
                         avro_schema_name(schema));
}

static int json_value(hf_buf_t *out, const avro_value_t *value, int depth)
{
    if (depth > CODEC_MAX_DEPTH)
        return -EINVAL;
    int r = 0;
    switch (avro_value_get_type(value)) {
    case AVRO_NULL:
        return hf_buf_append_str(out, "null");
    case AVRO_BOOLEAN: {
        int b;
        if (avro_value_get_boolean(value, &b))
            return -EINVAL;
        return hf_buf_append_str(out, b ? "true" : "false");
    }
    case AVRO_INT32: {
        int32_t v;
        if (avro_value_get_int(value, &v))
            return -EINVAL;
        return hf_buf_printf(out, "%" PRId32, v);
    }
    case AVRO_INT64: {
        int64_t v;
        if (avro_value_get_long(value, &v))
            return -EINVAL;
        return hf_buf_printf(out, "%" PRId64, v);
    }
    case AVRO_FLOAT: {
        float v;
        if (avro_value_get_float(value, &v))
            return -EINVAL;
        return json_real(out, v, true);
    }
    case AVRO_DOUBLE: {
        double v;
        if (avro_value_get_double(value, &v))
            return -EINVAL;
        return json_real(out, v, false);
    }
    case AVRO_STRING: {
        const char *s;
        size_t size;
        if (avro_value_get_string(value, &s, &size))
            return -EINVAL;
        return json_string(out, s, size ? size - 1 : 0); /* size counts the NUL */
    }
    case AVRO_BYTES: {
        const void *p;
        size_t len;
        if (avro_value_get_bytes(value, &p, &len))
            return -EINVAL;
        return json_bytes(out, p, len);
    }
    case AVRO_FIXED: {
        const void *p;
        size_t len;
        if (avro_value_get_fixed(value, &p, &len))
            return -EINVAL;
        return json_bytes(out, p, len);
    }
    case AVRO_ENUM: {
        int v;
        avro_schema_t schema = avro_value_get_schema(value);
        if (avro_value_get_enum(value, &v) || v < 0 ||
            v >= avro_schema_enum_number_of_symbols(schema))
            return -EINVAL;
        const char *symbol = avro_schema_enum_get(schema, v);
        return json_string(out, symbol, strlen(symbol));
    }
    case AVRO_UNION: {
        avro_value_t branch;
        int index;
        if (avro_value_get_discriminant(value, &index) || index < 0 ||
            avro_value_get_current_branch(value, &branch))
            return -EINVAL;
        if (avro_value_get_type(&branch) == AVRO_NULL)
            return hf_buf_append_str(out, "null");
        r = json_branch_name(out, avro_schema_union_branch(avro_value_get_schema(value), index));
        if (!r)
            r = json_value(out, &branch, depth + 1);
        return r ? r : hf_buf_append(out, "}", 1);
    }
    case AVRO_RECORD:
    case AVRO_MAP:
    case AVRO_ARRAY: {
        avro_type_t t = avro_value_get_type(value);
        bool is_array = t == AVRO_ARRAY;
        size_t n;
        if (avro_value_get_size(value, &n))
            return -EINVAL;
        r = hf_buf_append(out, is_array ? "[" : "{", 1);
        for (size_t i = 0; !r && i < n; i++) {
            avro_value_t child;
            const char *name = NULL;
            if (avro_value_get_by_index(value, i, &child, &name))
                return -EINVAL;
            if (i)
                r = hf_buf_append(out, ", ", 2);
            if (!r && !is_array) {
                r = name ? json_string(out, name, strlen(name)) : -EINVAL;
                if (!r)
                    r = hf_buf_append(out, ": ", 2);
            }
            if (!r)
                r = json_value(out, &child, depth + 1);
        }
        return r ? r : hf_buf_append(out, is_array ? "]" : "}", 1);
    }
    default:
        return -EINVAL;
    }
}

int codec_value_to_json(const avro_value_t *value, hf_buf_t *out)
{
    size_t start = out->len;
    int r = json_value(out, value, 0);
    if (r) {
        out->len = start; /* nothing half-written */
        if (out->data)
            out->data[start] = 0;
    }
    return r;
}
