/* Plans run: a body read into its record's struct, or written from it (see
 * codec_plan.h).  Every value goes through util/binenc.h's checked reader and its
 * writer; nothing here allocates once the plan's arrays have grown. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_plan_priv.h"
#include "codec_read.h"
#include "codec_walk.h"

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
    memcpy(base + op->dst, &domain, sizeof domain);
    memcpy(base + op->dst2, &hash, sizeof hash);
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
    const char *const *items = count ? store->items : NULL;
    memcpy(base + op->dst, &items, sizeof items);
    memcpy(base + op->dst2, &count, sizeof count);
    return 0;
}

static int run_range(run_t *run, size_t begin, size_t end, uint8_t *base);

static int run_array(run_t *run, size_t at, uint8_t *base)
{
    const plan_op_t *op = &run->plan->ops[at];
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
    const void *items = count ? store->items : NULL;
    memcpy(base + op->dst, &items, sizeof items);
    memcpy(base + op->dst2, &count, sizeof count);
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
    int value = op->enum_map[index];
    if (value < 0)
        return fail_at(run, op, CODEC_E_INVALID,
                       "field %s: enum symbol %" PRId64
                       " of the writer is unknown to the current schema",
                       op->name, index);
    memcpy(base + op->dst, &value, sizeof value);
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

/* Reads the value of @op (not null) into @base.  A plain switch over the ops. */
static inline int run_value(run_t *run, size_t at, uint8_t *base)
{
    const plan_op_t *op = &run->plan->ops[at];
    binenc_reader_t *r = run->r;
    const bool yes = true;
    switch ((enum plan_code)op->code) {
    case OP_STR:
        return read_string(run, op, "", base + op->dst);
    case OP_EMAIL:
        return read_email(run, op, base);
    case OP_INT: {
        int32_t v = binenc_get_int(r);
        if (r->err)
            return read_fail(run, op);
        if (op->widen) {
            int64_t wide = v;
            memcpy(base + op->dst, &wide, sizeof wide);
        } else {
            memcpy(base + op->dst, &v, sizeof v);
        }
        break;
    }
    case OP_LONG: {
        int64_t v = binenc_get_long(r);
        if (r->err)
            return read_fail(run, op);
        if (op->nonneg && v < 0)
            return field_fail(run, op, CODEC_E_INVALID);
        memcpy(base + op->dst, &v, sizeof v);
        break;
    }
    case OP_BOOL: {
        bool v = binenc_get_bool(r);
        if (r->err)
            return read_fail(run, op);
        memcpy(base + op->dst, &v, sizeof v);
        return 0;
    }
    case OP_FLOAT: {
        float v = binenc_get_float(r);
        if (r->err)
            return read_fail(run, op);
        memcpy(base + op->dst, &v, sizeof v);
        return 0;
    }
    case OP_DOUBLE: {
        double v = binenc_get_double(r);
        if (r->err)
            return read_fail(run, op);
        memcpy(base + op->dst, &v, sizeof v);
        return 0;
    }
    case OP_BYTES: {
        size_t len;
        const void *p = binenc_get_bytes(r, &len);
        if (!p)
            return read_fail(run, op);
        memcpy(base + op->dst, &p, sizeof p);
        memcpy(base + op->dst2, &len, sizeof len);
        return 0;
    }
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
    if (op->has_dst2) /* OP_INT, OP_LONG and OP_RECORD: present */
        memcpy(base + op->dst2, &yes, sizeof yes);
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
    case OP_BYTES: {
        const void *p;
        memcpy(&p, base + op->src, sizeof p);
        return p != NULL;
    }
    case OP_INT:
    case OP_LONG:
    case OP_RECORD: {
        bool present = true;
        if (op->has_dst2)
            memcpy(&present, base + op->dst2, sizeof present);
        return present;
    }
    default:
        return true;
    }
}

static int encode_range(enc_t *e, size_t begin, size_t end, const uint8_t *base);

/* An array: one block of its items, then the end. */
static int encode_items(enc_t *e, size_t at, const uint8_t *base)
{
    const plan_op_t *op = &e->plan->ops[at];
    const uint8_t *items;
    size_t n;
    memcpy(&items, base + op->src, sizeof items);
    memcpy(&n, base + op->dst2, sizeof n);
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
    case OP_EMAIL: {
        const char *s;
        memcpy(&s, src, sizeof s);
        return put_text(e, s);
    }
    case OP_INT: {
        int32_t v;
        memcpy(&v, src, sizeof v);
        binenc_put_long(e->w, v);
        return 0;
    }
    case OP_LONG: {
        int64_t v;
        memcpy(&v, src, sizeof v);
        binenc_put_long(e->w, v);
        return 0;
    }
    case OP_BOOL: {
        bool v;
        memcpy(&v, src, sizeof v);
        binenc_put_bool(e->w, v);
        return 0;
    }
    case OP_FLOAT: {
        float v;
        memcpy(&v, src, sizeof v);
        binenc_put_float(e->w, v);
        return 0;
    }
    case OP_DOUBLE: {
        double v;
        memcpy(&v, src, sizeof v);
        binenc_put_double(e->w, v);
        return 0;
    }
    case OP_BYTES: {
        /* required bytes without a pointer are empty: a length says otherwise */
        const void *p;
        size_t len;
        memcpy(&p, src, sizeof p);
        memcpy(&len, base + op->dst2, sizeof len);
        if (!p && len)
            return -EINVAL;
        binenc_put_bytes(e->w, p ? p : "", len);
        return 0;
    }
    case OP_ENUM: {
        int v;
        memcpy(&v, src, sizeof v);
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
