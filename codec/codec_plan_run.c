/* Plans run: a body read into its record's struct, or written from it (see
 * codec_plan.h).  Every value goes through util/binenc.h's checked reader and its
 * writer; nothing here allocates once the plan's arrays have grown. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_plan_priv.h"
#include "codec_read.h"
#include "codec_walk.h"

/* The C values ops read and write, at the offsets the tables give (memcpy: the
 * struct's alignment is not the op's business). */
#define LOAD_STORE(name, type)                                                                     \
    static inline type load_##name(const uint8_t *p)                                               \
    {                                                                                              \
        type v;                                                                                    \
        memcpy(&v, p, sizeof v);                                                                   \
        return v;                                                                                  \
    }                                                                                              \
    static inline void store_##name(uint8_t *p, type v)                                            \
    {                                                                                              \
        memcpy(p, &v, sizeof v);                                                                   \
    }
LOAD_STORE(i32, int32_t)
LOAD_STORE(i64, int64_t)
LOAD_STORE(bool, bool)
LOAD_STORE(f32, float)
LOAD_STORE(f64, double)
LOAD_STORE(size, size_t)
LOAD_STORE(ptr, const void *)

/* --- reading --------------------------------------------------------------------- */

typedef struct run {
    codec_plan_t *plan;
    binenc_reader_t *r;
    const codec_decode_env_t *env;
    char *err;
    size_t errsz;
} run_t;

/* Stops the run at @op: remembers the field, says why in the error. */
__attribute__((format(printf, 4, 5))) static int fail_at(run_t *run, const plan_op_t *op, int code,
                                                         const char *fmt, ...)
{
    run->plan->failed = op->name;
    if (code > 0 && run->err && run->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(run->err, run->errsz, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* The reader failed inside @op's value. */
static int field_fail(run_t *run, const plan_op_t *op, int code)
{
    if (code == CODEC_E_TRUNCATED)
        return fail_at(run, op, code, "record ends inside field %s", op->name);
    return fail_at(run, op, code, "field %s: malformed value", op->name);
}

static int read_fail(run_t *run, const plan_op_t *op)
{
    return field_fail(run, op, codec_read_status(run->r));
}

/* Copies @len bytes and a NUL into the arena.  The caller reserved more than the
 * body can need (each string costs its bytes plus at least one length byte), so
 * the arena never moves under the pointers already handed out. */
static const char *arena_put(hf_buf_t *arena, const void *s, size_t len)
{
    if (arena->cap - arena->len < len + 1)
        return NULL;
    char *d = (char *)arena->data + arena->len;
    memcpy(d, s, len);
    d[len] = 0;
    arena->len += len + 1;
    return d;
}

/* Reads a string value: bounds, limit, text.  On success @s points at its bytes in
 * the body. */
static inline int read_text(run_t *run, const plan_op_t *op, const char *what, const uint8_t **s,
                            size_t *len)
{
    uint32_t limit = run->env->max_field_bytes;
    *s = binenc_get_bytes(run->r, len);
    if (!*s)
        return read_fail(run, op);
    if (limit && *len > limit)
        return fail_at(run, op, CODEC_E_LIMIT,
                       "field %s%s is %zu bytes, over limits.max_field_bytes %" PRIu32, op->name,
                       what, *len, limit);
    switch (codec_text_check(*s, *len)) {
    case CODEC_TEXT_NUL:
        return fail_at(run, op, CODEC_E_INVALID, "field %s%s contains a NUL byte", op->name, what);
    case CODEC_TEXT_NOT_UTF8:
        return fail_at(run, op, CODEC_E_INVALID, "field %s%s is not valid UTF-8", op->name, what);
    }
    return 0;
}

/* A checked string copied into the arena, its pointer stored at @dst. */
static inline int read_string(run_t *run, const plan_op_t *op, const char *what, void *dst)
{
    const uint8_t *s;
    size_t len;
    int r = read_text(run, op, what, &s, &len);
    if (r)
        return r;
    const char *copy = arena_put(run->env->strings, s, len);
    if (!copy)
        return fail_at(run, op, CODEC_E_INVALID, "internal: string arena too small");
    memcpy(dst, &copy, sizeof copy);
    return 0;
}

static bool is_blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* traits.email -> domain and keyed hash.  The address is normalised (trimmed,
 * ASCII lower case) in the scratch buffer, which is wiped before returning; it is
 * never stored in the record.  A blank address counts as absent. */
static int read_email(run_t *run, const plan_op_t *op, uint8_t *base)
{
    const codec_decode_env_t *env = run->env;
    const uint8_t *addr;
    size_t len;
    int r = read_text(run, op, "", &addr, &len);
    if (r)
        return r;
    while (len && is_blank(addr[0]))
        addr++, len--;
    while (len && is_blank(addr[len - 1]))
        len--;
    if (!len)
        return 0;
    hf_buf_reset(env->scratch);
    uint8_t *norm = hf_buf_reserve(env->scratch, len) < 0 ? NULL : env->scratch->data;
    if (!norm)
        return fail_at(run, op, -ENOMEM, "out of memory");
    size_t at = len; /* index of the last '@' */
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = addr[i];
        norm[i] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + ('a' - 'A')) : ch;
        if (ch == '@')
            at = i;
    }
    char hex[33];
    r = env->email_hash(env->email_opaque, norm, len, hex);
    const char *domain = NULL, *hash = NULL;
    if (!r) {
        if (at + 1 < len)
            domain = arena_put(env->strings, norm + at + 1, len - at - 1);
        hash = arena_put(env->strings, hex, 32);
    }
    explicit_bzero(norm, len);
    if (r)
        return fail_at(run, op, r, "e-mail hash failed");
    if (!hash || (at + 1 < len && !domain))
        return fail_at(run, op, CODEC_E_INVALID, "internal: string arena too small");
    store_ptr(base + op->dst, domain);
    store_ptr(base + op->dst2, hash);
    return 0;
}

/* Room for @need items of @size bytes in @store. */
static int store_grow(plan_store_t *store, size_t need, size_t size)
{
    if (need <= store->cap)
        return 0;
    size_t cap = store->cap ? store->cap : 16;
    while (cap < need)
        cap *= 2;
    void *items = realloc(store->items, cap * size);
    if (!items)
        return -ENOMEM;
    store->items = items;
    store->cap = cap;
    return 0;
}

static int run_strs(run_t *run, const plan_op_t *op, uint8_t *base)
{
    assert(op->code == OP_STRS && op->store < run->plan->store_count);
    plan_store_t *store = &run->plan->stores[op->store];
    uint32_t max_tags = run->env->max_tags;
    size_t count = 0;
    /* Each block costs at least its count byte, so the loop ends with the body. */
    for (;;) {
        size_t block = binenc_get_block(run->r);
        if (run->r->err)
            return read_fail(run, op);
        if (!block)
            break;
        if (max_tags && count + block > max_tags)
            return fail_at(run, op, CODEC_E_LIMIT,
                           "field %s has %" PRIu64 " items, over limits.max_tags %" PRIu32,
                           op->name, (uint64_t)(count + block), max_tags);
        /* block <= bytes left, so this grows with the body, not with the claim. */
        if (store_grow(store, count + block, sizeof(const char *)))
            return fail_at(run, op, -ENOMEM, "out of memory");
        const char **items = store->items;
        for (size_t i = 0; i < block; i++) {
            int r = read_string(run, op, "[]", &items[count++]);
            if (r)
                return r;
        }
    }
    store_ptr(base + op->dst, count ? store->items : NULL);
    store_size(base + op->dst2, count);
    return 0;
}

static int run_range(run_t *run, size_t begin, size_t end, uint8_t *base);

static int run_array(run_t *run, size_t at, uint8_t *base)
{
    const plan_op_t *op = &run->plan->ops[at];
    assert(op->code == OP_ARRAY && op->item_size && op->store < run->plan->store_count);
    plan_store_t *store = &run->plan->stores[op->store];
    size_t count = 0;
    /* A count the bytes left cannot hold is refused before anything grows. */
    for (;;) {
        size_t block = binenc_get_block_min(run->r, op->item_min);
        if (run->r->err)
            return read_fail(run, op);
        if (!block)
            break;
        if (store_grow(store, count + block, op->item_size))
            return fail_at(run, op, -ENOMEM, "out of memory");
        for (size_t i = 0; i < block; i++, count++) {
            uint8_t *item = (uint8_t *)store->items + count * op->item_size;
            memset(item, 0, op->item_size);
            int r = run_range(run, at + 1, at + 1 + op->body_ops, item);
            if (r)
                return r;
        }
    }
    store_ptr(base + op->dst, count ? store->items : NULL);
    store_size(base + op->dst2, count);
    return 0;
}

static int run_enum(run_t *run, const plan_op_t *op, uint8_t *base)
{
    int64_t index = binenc_get_long(run->r);
    if (run->r->err)
        return read_fail(run, op);
    if (index < 0 || index >= op->enum_count)
        return fail_at(run, op, CODEC_E_INVALID,
                       "field %s: enum index %" PRId64 " out of range (%" PRIu32 " symbols)",
                       op->name, index, op->enum_count);
    int32_t value = op->enum_map[index];
    if (value < 0)
        return fail_at(run, op, CODEC_E_INVALID,
                       "field %s: enum symbol %" PRId64
                       " of the writer is unknown to the current schema",
                       op->name, index);
    store_i32(base + op->dst, value);
    return 0;
}

/* A field the reader does not have: checked, then dropped. */
static int run_skip(run_t *run, const plan_op_t *op)
{
    const char *what = NULL;
    int e = codec_walk_skip(run->r, op->skip, 0, &what);
    if (e == CODEC_E_TRUNCATED || (e && !what))
        return field_fail(run, op, e);
    if (e)
        return fail_at(run, op, e, "field %s: %s", op->name, what);
    return 0;
}

/* Reads the value of @op (not null) into @base.  A plain switch over the ops; the
 * numbers are stored before the reader's error is looked at (a failed run leaves a
 * struct its caller zeroes). */
static inline int run_value(run_t *run, size_t at, uint8_t *base)
{
    const plan_op_t *op = &run->plan->ops[at];
    binenc_reader_t *r = run->r;
    uint8_t *dst = base + op->dst;
    size_t len = 0;
    switch ((enum plan_code)op->code) {
    case OP_STR:
        return read_string(run, op, "", dst);
    case OP_EMAIL:
        return read_email(run, op, base);
    case OP_INT:
        if (op->widen)
            store_i64(dst, binenc_get_int(r));
        else
            store_i32(dst, binenc_get_int(r));
        break;
    case OP_LONG:
        store_i64(dst, binenc_get_long(r));
        if (op->nonneg && !r->err && load_i64(dst) < 0)
            return field_fail(run, op, CODEC_E_INVALID);
        break;
    case OP_BOOL:
        store_bool(dst, binenc_get_bool(r));
        break;
    case OP_FLOAT:
        store_f32(dst, binenc_get_float(r));
        break;
    case OP_DOUBLE:
        store_f64(dst, binenc_get_double(r));
        break;
    case OP_BYTES:
        store_ptr(dst, binenc_get_bytes(r, &len));
        store_size(base + op->dst2, len);
        break;
    case OP_ENUM:
        return run_enum(run, op, base);
    case OP_STRS:
        return run_strs(run, op, base);
    case OP_RECORD:
        break;
    case OP_ARRAY:
        return run_array(run, at, base);
    case OP_SKIP:
        return run_skip(run, op);
    }
    if (r->err)
        return read_fail(run, op);
    if (op->has_dst2 && op->code != OP_BYTES) /* OP_INT, OP_LONG, OP_RECORD: present */
        store_bool(base + op->dst2, true);
    return 0;
}

/* Runs ops [@begin, @end) into the struct at @base. */
static int run_range(run_t *run, size_t begin, size_t end, uint8_t *base)
{
    for (size_t i = begin; i < end; i++) {
        const plan_op_t *op = &run->plan->ops[i];
        if (op->nullable) {
            int64_t branch = binenc_get_long(run->r);
            if (run->r->err)
                return read_fail(run, op);
            if (branch == op->null_branch) {
                if (op->required)
                    return fail_at(run, op, CODEC_E_INVALID,
                                   "field %s is null, but the current schema needs a value",
                                   op->name);
                if (op->code == OP_RECORD || op->code == OP_ARRAY)
                    i += op->body_ops;
                continue;
            }
            if (branch != 1 - op->null_branch)
                return fail_at(run, op, CODEC_E_INVALID,
                               "field %s: union branch %" PRId64 " out of range", op->name, branch);
        }
        int r = run_value(run, i, base);
        if (r)
            return r;
        if (op->code == OP_ARRAY)
            i += op->body_ops;
    }
    return 0;
}

int codec_plan_run(codec_plan_t *plan, binenc_reader_t *r, const codec_decode_env_t *env,
                   void *record, char *err, size_t errsz)
{
    run_t run = {plan, r, env, err, errsz};
    plan->failed = NULL;
    return run_range(&run, 0, plan->count, record);
}

/* --- writing --------------------------------------------------------------------- */

typedef struct enc {
    const codec_plan_t *plan;
    binenc_writer_t *w;
    bool check_text;
} enc_t;

static int put_text(enc_t *e, const char *s)
{
    if (!s)
        return -EINVAL;
    size_t len = strlen(s);
    if (e->check_text && codec_text_check((const uint8_t *)s, len) != CODEC_TEXT_OK)
        return -EINVAL;
    binenc_put_bytes(e->w, s, len);
    return 0;
}

/* Whether the value of @op is there: a pointer that is not NULL, a present flag. */
static bool op_present(const plan_op_t *op, const uint8_t *base)
{
    switch ((enum plan_code)op->code) {
    case OP_STR:
    case OP_EMAIL:
    case OP_BYTES:
        return load_ptr(base + op->src) != NULL;
    case OP_INT:
    case OP_LONG:
    case OP_RECORD:
        return !op->has_dst2 || load_bool(base + op->dst2);
    default:
        return true;
    }
}

static int encode_range(enc_t *e, size_t begin, size_t end, const uint8_t *base);

/* An array: one block of its items, then the end. */
static int encode_items(enc_t *e, size_t at, const uint8_t *base)
{
    const plan_op_t *op = &e->plan->ops[at];
    assert(op->code == OP_STRS || (op->code == OP_ARRAY && op->item_size));
    const uint8_t *items = load_ptr(base + op->src);
    size_t n = load_size(base + op->dst2);
    if (n && !items)
        return -EINVAL;
    if (n)
        binenc_put_long(e->w, (int64_t)n);
    for (size_t k = 0; k < n; k++) {
        int r = op->code == OP_STRS
                    ? put_text(e, ((const char *const *)(const void *)items)[k])
                    : encode_range(e, at + 1, at + 1 + op->body_ops, items + k * op->item_size);
        if (r)
            return r;
    }
    binenc_put_long(e->w, 0);
    return 0;
}

/* Writes the value of @op (there, or a required record or bytes).  A plain switch
 * over the ops. */
static int encode_value(enc_t *e, size_t at, const uint8_t *base)
{
    const plan_op_t *op = &e->plan->ops[at];
    const uint8_t *src = base + op->src;
    switch ((enum plan_code)op->code) {
    case OP_STR:
    case OP_EMAIL:
        return put_text(e, load_ptr(src));
    case OP_INT:
        binenc_put_long(e->w, load_i32(src));
        return 0;
    case OP_LONG:
        binenc_put_long(e->w, load_i64(src));
        return 0;
    case OP_BOOL:
        binenc_put_bool(e->w, load_bool(src));
        return 0;
    case OP_FLOAT:
        binenc_put_float(e->w, load_f32(src));
        return 0;
    case OP_DOUBLE:
        binenc_put_double(e->w, load_f64(src));
        return 0;
    case OP_BYTES: {
        /* required bytes without a pointer are empty: a length says otherwise */
        const void *p = load_ptr(src);
        size_t len = load_size(base + op->dst2);
        if (!p && len)
            return -EINVAL;
        binenc_put_bytes(e->w, p ? p : "", len);
        return 0;
    }
    case OP_ENUM: {
        int32_t v = load_i32(src);
        if (v < 0 || (uint32_t)v >= op->enum_count)
            return -EINVAL;
        binenc_put_long(e->w, v);
        return 0;
    }
    case OP_STRS:
    case OP_ARRAY:
        return encode_items(e, at, base);
    case OP_RECORD:
        return 0; /* its fields are the ops that follow */
    case OP_SKIP:
        break;
    }
    return -EINVAL; /* only plans of a current schema encode */
}

static int encode_range(enc_t *e, size_t begin, size_t end, const uint8_t *base)
{
    for (size_t i = begin; i < end; i++) {
        const plan_op_t *op = &e->plan->ops[i];
        bool present = op_present(op, base);
        if (op->nullable) {
            binenc_put_long(e->w, present ? 1 - op->null_branch : op->null_branch);
            if (!present) {
                if (op->code == OP_RECORD || op->code == OP_ARRAY)
                    i += op->body_ops;
                continue;
            }
        } else if (!present && op->code != OP_RECORD && op->code != OP_BYTES) {
            return -EINVAL; /* a required field without a value */
        }
        /* A required Traits record without values is written with all nulls. */
        int r = encode_value(e, i, base);
        if (r)
            return r;
        if (op->code == OP_ARRAY)
            i += op->body_ops;
    }
    return 0;
}

int codec_plan_encode(const codec_plan_t *plan, const void *record, bool check_text,
                      binenc_writer_t *w)
{
    enc_t e = {plan, w, check_text};
    int r = encode_range(&e, 0, plan->count, record);
    if (r)
        binenc_writer_fail(w, r);
    return w->err;
}
