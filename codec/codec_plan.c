/* Input records -> hf_event_t.
 *
 * For every writer schema the codec knows (the current schema of each input record
 * and the older ones in schemas/history/), codec_new() compiles a plan: a flat list
 * of operations, one per writer field in writer order, that says how to read the
 * field and where it lands in hf_event_t.  Resolution to the current (reader) schema
 * happens while compiling, by field name as Avro's rules say: a writer-only field
 * becomes a checked skip, a reader-only field must default to null (it stays NULL
 * in the zeroed event), int widens to long, enum symbols map by name.  Running a
 * plan is a loop over the operations: no lookups, no allocation once warm. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

/* The decoder stores enums through memcpy of an int. */
_Static_assert(sizeof(hf_form_type_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_identity_kind_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_webinar_action_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_email_action_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_entity_type_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_sales_action_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_event_t) <= UINT16_MAX, "slot offsets are 16-bit");

#define EV(f) ((uint16_t)offsetof(hf_event_t, f))
#define TR(f) ((uint16_t)offsetof(hf_traits_t, f))
#define STR(n, f)                                                                                  \
    {                                                                                              \
        n, CODEC_SLOT_STR, EV(f), 0                                                                \
    }
#define I32(n, f)                                                                                  \
    {                                                                                              \
        n, CODEC_SLOT_I32, EV(f), 0                                                                \
    }
#define ENUM(n, f, count)                                                                          \
    {                                                                                              \
        n, CODEC_SLOT_ENUM, EV(f), count                                                           \
    }
#define ENVELOPE                                                                                   \
    STR("event_id", event_id), {"occurred_at", CODEC_SLOT_I64, EV(occurred_at_ms), 0},             \
        STR("source", source)

static const codec_slot_t web_visit_slots[] = {
    ENVELOPE,
    STR("anonymous_id", anonymous_id),
    STR("contact_id", contact_id),
    STR("session_id", session_id),
    STR("url", url),
    STR("title", title),
    STR("referrer", referrer),
    STR("utm_source", utm_source),
    STR("utm_medium", utm_medium),
    STR("utm_campaign", utm_campaign),
    I32("duration_ms", duration_ms),
    STR("country", country),
};

static const codec_slot_t form_slots[] = {
    ENVELOPE,
    STR("anonymous_id", anonymous_id),
    STR("contact_id", contact_id),
    STR("form_id", form_id),
    ENUM("form_type", form_type, HF_FORM__COUNT),
    STR("url", url),
    {"traits", CODEC_SLOT_TRAITS, EV(traits), TR(present)},
};

static const codec_slot_t identity_slots[] = {
    ENVELOPE,
    ENUM("kind", identity_kind, HF_IDENTITY__COUNT),
    STR("contact_id", contact_id),
    STR("anonymous_id", anonymous_id),
    STR("merged_contact_id", merged_contact_id),
    {"traits", CODEC_SLOT_TRAITS, EV(traits), TR(present)},
};

static const codec_slot_t download_slots[] = {
    ENVELOPE,
    STR("contact_id", contact_id),
    STR("anonymous_id", anonymous_id),
    STR("asset_id", asset_id),
    STR("asset_title", asset_title),
    STR("asset_type", asset_type),
    {"tags", CODEC_SLOT_STRS, EV(tags), EV(tag_count)},
    STR("campaign", campaign),
};

static const codec_slot_t webinar_slots[] = {
    ENVELOPE,
    STR("contact_id", contact_id),
    STR("webinar_id", webinar_id),
    STR("webinar_title", webinar_title),
    ENUM("action", webinar_action, HF_WEBINAR__COUNT),
    I32("minutes_attended", minutes_attended),
    I32("questions_asked", questions_asked),
    STR("campaign", campaign),
};

static const codec_slot_t email_slots[] = {
    ENVELOPE,
    STR("contact_id", contact_id),
    STR("email_id", email_id),
    STR("campaign", campaign),
    ENUM("action", email_action, HF_EMAIL__COUNT),
    STR("link_url", link_url),
};

static const codec_slot_t sales_slots[] = {
    ENVELOPE,
    ENUM("entity_type", entity_type, HF_ENTITY__COUNT),
    STR("entity_id", entity_id),
    STR("handoff_id", handoff_id),
    STR("owner_id", owner_id),
    ENUM("action", sales_action, HF_SALES__COUNT),
    STR("reason", reason),
    STR("channel", channel),
};

/* Offsets relative to hf_traits_t. */
static const codec_slot_t traits_slots[] = {
    {"email", CODEC_SLOT_EMAIL, TR(email), 0},
    {"full_name", CODEC_SLOT_STR, TR(full_name), 0},
    {"title", CODEC_SLOT_STR, TR(title), 0},
    {"seniority", CODEC_SLOT_STR, TR(seniority), 0},
    {"department", CODEC_SLOT_STR, TR(department), 0},
    {"company_name", CODEC_SLOT_STR, TR(company_name), 0},
    {"account_id", CODEC_SLOT_STR, TR(account_id), 0},
    {"industry", CODEC_SLOT_STR, TR(industry), 0},
    {"employees", CODEC_SLOT_OPT_I32, TR(employees), TR(has_employees)},
    {"country", CODEC_SLOT_STR, TR(country), 0},
    {"region", CODEC_SLOT_STR, TR(region), 0},
};

#define SLOTS(name, table)                                                                         \
    {                                                                                              \
        name, table, sizeof(table) / sizeof(table[0])                                              \
    }
static const struct {
    const char *record;
    const codec_slot_t *slots;
    size_t count;
} input_tables[HF_EV__COUNT + 1] = {
    [HF_EV_WEB_VISIT] = SLOTS("WebVisit", web_visit_slots),
    [HF_EV_FORM] = SLOTS("FormSubmission", form_slots),
    [HF_EV_IDENTITY] = SLOTS("IdentityEvent", identity_slots),
    [HF_EV_DOWNLOAD] = SLOTS("ContentDownload", download_slots),
    [HF_EV_WEBINAR] = SLOTS("WebinarEvent", webinar_slots),
    [HF_EV_EMAIL] = SLOTS("EmailEngagement", email_slots),
    [HF_EV_SALES] = SLOTS("SalesActivity", sales_slots),
    [HF_EV__COUNT] = SLOTS("Traits", traits_slots),
};

const char *codec_input_record_name(hf_event_kind_t kind)
{
    return (unsigned)kind < HF_EV__COUNT ? input_tables[kind].record : NULL;
}

const codec_slot_t *codec_slots(hf_event_kind_t kind, size_t *count)
{
    if ((unsigned)kind > HF_EV__COUNT)
        return NULL;
    *count = input_tables[kind].count;
    return input_tables[kind].slots;
}

/* --- plans ------------------------------------------------------------------- */

enum plan_code {
    OP_STR,    /* string -> const char * at dst */
    OP_EMAIL,  /* string -> domain at dst, hash at dst2; the address itself is dropped */
    OP_INT,    /* int -> int32_t (or int64_t when widen) at dst; bool at dst2 if any */
    OP_LONG,   /* long -> int64_t at dst */
    OP_ENUM,   /* enum -> C enum at dst, through enum_map */
    OP_STRS,   /* array<string> -> pointers at dst, count at dst2 */
    OP_RECORD, /* nested record: bool at dst2; its fields are the next body_ops ops */
    OP_SKIP,   /* a field the reader does not have: read, check, drop */
};

typedef struct plan_op {
    uint8_t code;
    bool nullable;       /* the writer wrote a union of null and one type */
    uint8_t null_branch; /* index of null in that union */
    bool required;       /* the reader has no null here: a written null is invalid */
    bool widen;          /* OP_INT into an int64_t */
    bool has_dst2;
    uint16_t dst;
    uint16_t dst2;
    uint16_t src;        /* where codec_plan_encode() reads the value (the slot) */
    uint32_t body_ops;   /* OP_RECORD */
    uint32_t enum_count; /* OP_ENUM: symbols of the writer */
    int16_t *enum_map;   /* OP_ENUM: writer symbol -> reader value; -1 = unknown to reader */
    avro_schema_t skip;  /* OP_SKIP: the writer's schema of the field (borrowed) */
    char *name;          /* "url", "traits.email": for messages */
} plan_op_t;

struct codec_plan {
    plan_op_t *ops;
    size_t count;
    size_t cap;
};

void codec_plan_free(codec_plan_t *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->count; i++) {
        free(plan->ops[i].enum_map);
        free(plan->ops[i].name);
    }
    free(plan->ops);
    free(plan);
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

static avro_schema_t deref(avro_schema_t s)
{
    return avro_typeof(s) == AVRO_LINK ? avro_schema_link_target(s) : s;
}

/* Splits a union of null and one type into that type and the null's index.  A
 * plain type comes back as itself; other unions are not supported (-1). */
static int unwrap_nullable(avro_schema_t s, avro_schema_t *inner, bool *nullable,
                           uint8_t *null_branch)
{
    s = deref(s);
    *nullable = false;
    *null_branch = 0;
    *inner = s;
    if (avro_typeof(s) != AVRO_UNION)
        return 0;
    if (avro_schema_union_size(s) != 2)
        return -1;
    avro_schema_t b0 = deref(avro_schema_union_branch(s, 0));
    avro_schema_t b1 = deref(avro_schema_union_branch(s, 1));
    bool null0 = avro_typeof(b0) == AVRO_NULL, null1 = avro_typeof(b1) == AVRO_NULL;
    if (null0 == null1)
        return -1;
    *nullable = true;
    *null_branch = null0 ? 0 : 1;
    *inner = null0 ? b1 : b0;
    return 0;
}

static bool is_string_array(avro_schema_t s)
{
    return avro_typeof(s) == AVRO_ARRAY &&
           avro_typeof(deref(avro_schema_array_items(s))) == AVRO_STRING;
}

static const codec_slot_t *slot_find(const codec_slot_t *slots, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp(slots[i].name, name))
            return &slots[i];
    return NULL;
}

typedef struct plan_builder {
    codec_plan_t *plan;
    char *err;
    size_t errsz;
} plan_builder_t;

static int compile_record(plan_builder_t *b, avro_schema_t writer, avro_schema_t reader,
                          const codec_slot_t *slots, size_t slot_count, uint16_t base,
                          const char *prefix, int depth);

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
    avro_type_t wtype = avro_typeof(wt), rtype = avro_typeof(rt);
    bool ok = false;

    switch (slot->type) {
    case CODEC_SLOT_STR:
    case CODEC_SLOT_EMAIL:
        ok = wtype == AVRO_STRING && rtype == AVRO_STRING;
        op.code = slot->type == CODEC_SLOT_STR ? OP_STR : OP_EMAIL;
        if (slot->type == CODEC_SLOT_EMAIL) {
            op.src = (uint16_t)(base + slot->offset); /* the raw address, encode only */
            op.dst = (uint16_t)(base + TR(email_domain));
            op.dst2 = (uint16_t)(base + TR(email_hash));
            op.has_dst2 = true;
        }
        break;
    case CODEC_SLOT_I32:
    case CODEC_SLOT_OPT_I32:
        ok = wtype == AVRO_INT32 && rtype == AVRO_INT32 &&
             rnullable == (slot->type == CODEC_SLOT_OPT_I32);
        op.code = OP_INT;
        if (slot->type == CODEC_SLOT_OPT_I32) {
            op.dst2 = (uint16_t)(base + slot->aux);
            op.has_dst2 = true;
        }
        break;
    case CODEC_SLOT_I64:
        ok = (wtype == AVRO_INT64 || wtype == AVRO_INT32) && rtype == AVRO_INT64 && !rnullable;
        op.code = wtype == AVRO_INT64 ? OP_LONG : OP_INT;
        op.widen = wtype == AVRO_INT32;
        break;
    case CODEC_SLOT_ENUM:
        ok = wtype == AVRO_ENUM && rtype == AVRO_ENUM && !rnullable &&
             !strcmp(avro_schema_name(wt), avro_schema_name(rt)) &&
             avro_schema_enum_number_of_symbols(rt) == slot->aux;
        if (!ok)
            break;
        op.code = OP_ENUM;
        op.enum_count = (uint32_t)avro_schema_enum_number_of_symbols(wt);
        op.enum_map = malloc((op.enum_count ? op.enum_count : 1) * sizeof *op.enum_map);
        if (!op.enum_map)
            return -ENOMEM;
        for (uint32_t i = 0; i < op.enum_count; i++)
            op.enum_map[i] =
                (int16_t)avro_schema_enum_get_by_name(rt, avro_schema_enum_get(wt, (int)i));
        break;
    case CODEC_SLOT_STRS:
        ok = is_string_array(wt) && is_string_array(rt) && !rnullable;
        op.code = OP_STRS;
        op.dst2 = (uint16_t)(base + slot->aux);
        op.has_dst2 = true;
        break;
    case CODEC_SLOT_TRAITS:
        ok = wtype == AVRO_RECORD && rtype == AVRO_RECORD &&
             !strcmp(avro_schema_name(wt), avro_schema_name(rt));
        op.code = OP_RECORD;
        op.dst2 = (uint16_t)(base + slot->offset + slot->aux);
        op.has_dst2 = true;
        break;
    }
    if (!ok) {
        free(op.enum_map);
        snprintf(b->err, b->errsz,
                 "field %s: writer type %s%s does not resolve to reader type %s%s", name,
                 op.nullable ? "null or " : "", avro_schema_type_name(wt),
                 rnullable ? "null or " : "", avro_schema_type_name(rt));
        return -EINVAL;
    }
    op.name = strdup(name);
    if (!op.name) {
        free(op.enum_map);
        return -ENOMEM;
    }
    size_t at = b->plan->count;
    int r = plan_push(b->plan, &op);
    if (r || op.code != OP_RECORD)
        return r;

    char prefix[264];
    snprintf(prefix, sizeof prefix, "%s.", name);
    size_t count;
    const codec_slot_t *traits = codec_slots(HF_EV__COUNT, &count);
    r = compile_record(b, wt, rt, traits, count, (uint16_t)(base + slot->offset), prefix,
                       depth + 1);
    if (r)
        return r;
    b->plan->ops[at].body_ops = (uint32_t)(b->plan->count - at - 1);
    return 0;
}

static int compile_record(plan_builder_t *b, avro_schema_t writer, avro_schema_t reader,
                          const codec_slot_t *slots, size_t slot_count, uint16_t base,
                          const char *prefix, int depth)
{
    char name[256];
    if (depth > 4) {
        snprintf(b->err, b->errsz, "%s: records nested too deep", prefix);
        return -EINVAL;
    }
    /* The table and the current schema must describe the same fields. */
    size_t reader_fields = avro_schema_record_size(reader);
    for (size_t i = 0; i < slot_count; i++) {
        if (avro_schema_record_field_get_index(reader, slots[i].name) < 0) {
            snprintf(b->err, b->errsz, "field %s%s of hf_event_t is not in the schema", prefix,
                     slots[i].name);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < reader_fields; i++) {
        const char *field = avro_schema_record_field_name(reader, (int)i);
        if (!slot_find(slots, slot_count, field)) {
            snprintf(b->err, b->errsz, "field %s%s has no place in hf_event_t", prefix, field);
            return -EINVAL;
        }
        if (avro_schema_record_field_get_index(writer, field) < 0) {
            avro_schema_t t;
            bool nullable;
            uint8_t null_branch;
            if (unwrap_nullable(avro_schema_record_field_get_by_index(reader, (int)i), &t,
                                &nullable, &null_branch) ||
                !nullable || null_branch != 0) {
                snprintf(b->err, b->errsz,
                         "field %s%s is missing from the writer schema and has no null default",
                         prefix, field);
                return -EINVAL;
            }
        }
    }

    size_t writer_fields = avro_schema_record_size(writer);
    for (size_t i = 0; i < writer_fields; i++) {
        const char *field = avro_schema_record_field_name(writer, (int)i);
        avro_schema_t wfield = avro_schema_record_field_get_by_index(writer, (int)i);
        snprintf(name, sizeof name, "%s%s", prefix, field);
        int ri = avro_schema_record_field_get_index(reader, field);
        int r;
        if (ri < 0) {
            plan_op_t op = {.code = OP_SKIP, .skip = wfield, .name = strdup(name)};
            r = op.name ? plan_push(b->plan, &op) : -ENOMEM;
        } else {
            r = compile_field(b, wfield, avro_schema_record_field_get_by_index(reader, ri),
                              slot_find(slots, slot_count, field), base, name, depth);
        }
        if (r)
            return r;
    }
    return 0;
}

int codec_plan_new(codec_plan_t **out, hf_event_kind_t kind, avro_schema_t writer,
                   avro_schema_t reader, char *err, size_t errsz)
{
    if ((unsigned)kind >= HF_EV__COUNT || avro_typeof(writer) != AVRO_RECORD ||
        avro_typeof(reader) != AVRO_RECORD) {
        snprintf(err, errsz, "not an input record schema");
        return -EINVAL;
    }
    codec_plan_t *plan = calloc(1, sizeof *plan);
    if (!plan)
        return -ENOMEM;
    plan_builder_t b = {plan, err, errsz};
    int r = compile_record(&b, writer, reader, input_tables[kind].slots, input_tables[kind].count,
                           0, "", 0);
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

/* --- running a plan ------------------------------------------------------------ */

static int field_fail(int code, const plan_op_t *op, char *err, size_t errsz)
{
    if (code == CODEC_E_TRUNCATED)
        return codec_fail(code, err, errsz, "record ends inside field %s", op->name);
    return codec_fail(code, err, errsz, "field %s: malformed value", op->name);
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
static int read_text(codec_cursor_t *cur, const plan_op_t *op, const codec_decode_env_t *env,
                     const char *what, const uint8_t **s, size_t *len, char *err, size_t errsz)
{
    int r = codec_read_length(cur, len);
    if (r)
        return field_fail(r, op, err, errsz);
    if (env->max_field_bytes && *len > env->max_field_bytes)
        return codec_fail(CODEC_E_LIMIT, err, errsz,
                          "field %s%s is %zu bytes, over limits.max_field_bytes %" PRIu32, op->name,
                          what, *len, env->max_field_bytes);
    switch (codec_text_check(cur->p, *len)) {
    case CODEC_TEXT_NUL:
        return codec_fail(CODEC_E_INVALID, err, errsz, "field %s%s contains a NUL byte", op->name,
                          what);
    case CODEC_TEXT_NOT_UTF8:
        return codec_fail(CODEC_E_INVALID, err, errsz, "field %s%s is not valid UTF-8", op->name,
                          what);
    }
    *s = cur->p;
    cur->p += *len;
    return 0;
}

static bool is_blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* traits.email -> domain and keyed hash.  The address is normalised (trimmed,
 * ASCII lower case) in the scratch buffer, which is wiped before returning; it is
 * never stored in the event.  A blank address counts as absent. */
static int decode_email(const uint8_t *addr, size_t len, const plan_op_t *op,
                        const codec_decode_env_t *env, uint8_t *base, char *err, size_t errsz)
{
    while (len && is_blank(addr[0]))
        addr++, len--;
    while (len && is_blank(addr[len - 1]))
        len--;
    if (!len)
        return 0;
    hf_buf_reset(env->scratch);
    uint8_t *norm = hf_buf_reserve(env->scratch, len) < 0 ? NULL : env->scratch->data;
    if (!norm)
        return -ENOMEM;
    size_t at = len; /* index of the last '@' */
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = addr[i];
        norm[i] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + ('a' - 'A')) : ch;
        if (ch == '@')
            at = i;
    }
    char hex[33];
    int r = env->email_hash(env->email_opaque, norm, len, hex);
    const char *domain = NULL, *hash = NULL;
    if (!r) {
        if (at + 1 < len)
            domain = arena_put(env->strings, norm + at + 1, len - at - 1);
        hash = arena_put(env->strings, hex, 32);
    }
    explicit_bzero(norm, len);
    if (r)
        return r;
    if (!hash || (at + 1 < len && !domain))
        return codec_fail(CODEC_E_INVALID, err, errsz, "internal: string arena too small");
    memcpy(base + op->dst, &domain, sizeof domain);
    memcpy(base + op->dst2, &hash, sizeof hash);
    return 0;
}

static int run_strs(const plan_op_t *op, codec_cursor_t *cur, const codec_decode_env_t *env,
                    uint8_t *base, char *err, size_t errsz)
{
    size_t count = 0;
    /* Each block costs at least its count byte, so the loop ends with the body. */
    for (;;) {
        uint64_t block;
        int r = codec_read_block_count(cur, 1, &block);
        if (r)
            return field_fail(r, op, err, errsz);
        if (!block)
            break;
        if (env->max_tags && count + block > env->max_tags)
            return codec_fail(CODEC_E_LIMIT, err, errsz,
                              "field %s has %" PRIu64 " items, over limits.max_tags %" PRIu32,
                              op->name, (uint64_t)count + block, env->max_tags);
        /* block <= bytes left, so this grows with the body, not with the claim. */
        if (count + block > *env->tags_cap) {
            size_t cap = *env->tags_cap ? *env->tags_cap : 16;
            while (cap < count + block)
                cap *= 2;
            const char **tags = realloc(*env->tags, cap * sizeof *tags);
            if (!tags)
                return -ENOMEM;
            *env->tags = tags;
            *env->tags_cap = cap;
        }
        for (uint64_t i = 0; i < block; i++) {
            const uint8_t *s;
            size_t len;
            r = read_text(cur, op, env, "[]", &s, &len, err, errsz);
            if (r)
                return r;
            const char *copy = arena_put(env->strings, s, len);
            if (!copy)
                return codec_fail(CODEC_E_INVALID, err, errsz, "internal: string arena too small");
            (*env->tags)[count++] = copy;
        }
    }
    const char *const *tags = count ? *env->tags : NULL;
    memcpy(base + op->dst, &tags, sizeof tags);
    memcpy(base + op->dst2, &count, sizeof count);
    return 0;
}

int codec_plan_run(const codec_plan_t *plan, codec_cursor_t *cur, const codec_decode_env_t *env,
                   hf_event_t *ev, char *err, size_t errsz)
{
    uint8_t *base = (uint8_t *)ev;
    const bool yes = true;
    for (size_t i = 0; i < plan->count; i++) {
        const plan_op_t *op = &plan->ops[i];
        int r;
        if (op->nullable) {
            int64_t branch;
            r = codec_read_long(cur, &branch);
            if (r)
                return field_fail(r, op, err, errsz);
            if (branch == op->null_branch) {
                if (op->required)
                    return codec_fail(CODEC_E_INVALID, err, errsz,
                                      "field %s is null, but the current schema needs a value",
                                      op->name);
                if (op->code == OP_RECORD)
                    i += op->body_ops;
                continue;
            }
            if (branch != 1 - op->null_branch)
                return codec_fail(CODEC_E_INVALID, err, errsz,
                                  "field %s: union branch %" PRId64 " out of range", op->name,
                                  branch);
        }

        switch ((enum plan_code)op->code) {
        case OP_STR: {
            const uint8_t *s;
            size_t len;
            r = read_text(cur, op, env, "", &s, &len, err, errsz);
            if (r)
                return r;
            const char *copy = arena_put(env->strings, s, len);
            if (!copy)
                return codec_fail(CODEC_E_INVALID, err, errsz, "internal: string arena too small");
            memcpy(base + op->dst, &copy, sizeof copy);
            break;
        }
        case OP_EMAIL: {
            const uint8_t *s;
            size_t len;
            r = read_text(cur, op, env, "", &s, &len, err, errsz);
            if (!r)
                r = decode_email(s, len, op, env, base, err, errsz);
            if (r)
                return r;
            break;
        }
        case OP_INT: {
            int32_t v;
            r = codec_read_int(cur, &v);
            if (r)
                return field_fail(r, op, err, errsz);
            if (op->widen) {
                int64_t wide = v;
                memcpy(base + op->dst, &wide, sizeof wide);
            } else {
                memcpy(base + op->dst, &v, sizeof v);
            }
            if (op->has_dst2)
                memcpy(base + op->dst2, &yes, sizeof yes);
            break;
        }
        case OP_LONG: {
            int64_t v;
            r = codec_read_long(cur, &v);
            if (r)
                return field_fail(r, op, err, errsz);
            memcpy(base + op->dst, &v, sizeof v);
            break;
        }
        case OP_ENUM: {
            int64_t index;
            r = codec_read_long(cur, &index);
            if (r)
                return field_fail(r, op, err, errsz);
            if (index < 0 || index >= op->enum_count)
                return codec_fail(CODEC_E_INVALID, err, errsz,
                                  "field %s: enum index %" PRId64 " out of range (%" PRIu32
                                  " symbols)",
                                  op->name, index, op->enum_count);
            int value = op->enum_map[index];
            if (value < 0)
                return codec_fail(CODEC_E_INVALID, err, errsz,
                                  "field %s: enum symbol %" PRId64
                                  " of the writer is unknown to the current schema",
                                  op->name, index);
            memcpy(base + op->dst, &value, sizeof value);
            break;
        }
        case OP_STRS:
            r = run_strs(op, cur, env, base, err, errsz);
            if (r)
                return r;
            break;
        case OP_RECORD:
            memcpy(base + op->dst2, &yes, sizeof yes);
            break;
        case OP_SKIP: {
            const char *what = NULL;
            r = codec_skip_value(cur, op->skip, 0, &what);
            if (r == CODEC_E_TRUNCATED)
                return field_fail(r, op, err, errsz);
            if (r)
                return codec_fail(r, err, errsz, "field %s: %s", op->name,
                                  what ? what : "malformed value");
            break;
        }
        }
    }
    return 0;
}

/* --- encoding with a plan -------------------------------------------------------- */

static int put_long(hf_buf_t *out, int64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z > 0x7f) {
        b[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (uint8_t)z;
    return hf_buf_append(out, b, n);
}

static int put_text(hf_buf_t *out, const char *s)
{
    if (!s)
        return -EINVAL;
    size_t len = strlen(s);
    if (codec_text_check((const uint8_t *)s, len) != CODEC_TEXT_OK)
        return -EINVAL;
    int r = put_long(out, (int64_t)len);
    return r ? r : hf_buf_append(out, s, len);
}

int codec_plan_encode(const codec_plan_t *plan, const hf_event_t *ev, hf_buf_t *out)
{
    const uint8_t *base = (const uint8_t *)ev;
    for (size_t i = 0; i < plan->count; i++) {
        const plan_op_t *op = &plan->ops[i];
        const char *str = NULL;
        bool present = true;
        int r;
        switch ((enum plan_code)op->code) {
        case OP_STR:
        case OP_EMAIL:
            memcpy(&str, base + op->src, sizeof str);
            present = str != NULL;
            break;
        case OP_INT:
        case OP_RECORD:
            if (op->has_dst2)
                memcpy(&present, base + op->dst2, sizeof present);
            break;
        case OP_SKIP:
            return -EINVAL; /* only plans of a current schema encode */
        default:
            break;
        }
        if (op->nullable) {
            r = put_long(out, present ? 1 - op->null_branch : op->null_branch);
            if (r)
                return r;
            if (!present) {
                if (op->code == OP_RECORD)
                    i += op->body_ops;
                continue;
            }
        } else if (!present && op->code != OP_RECORD) {
            return -EINVAL; /* a required field without a value */
        }

        switch ((enum plan_code)op->code) {
        case OP_STR:
        case OP_EMAIL:
            r = put_text(out, str);
            break;
        case OP_INT: {
            int32_t v;
            memcpy(&v, base + op->src, sizeof v);
            r = put_long(out, v);
            break;
        }
        case OP_LONG: {
            int64_t v;
            memcpy(&v, base + op->src, sizeof v);
            r = put_long(out, v);
            break;
        }
        case OP_ENUM: {
            int v;
            memcpy(&v, base + op->src, sizeof v);
            if (v < 0 || (uint32_t)v >= op->enum_count)
                return -EINVAL;
            r = put_long(out, v);
            break;
        }
        case OP_STRS: {
            const char *const *items;
            size_t n;
            memcpy(&items, base + op->src, sizeof items);
            memcpy(&n, base + op->dst2, sizeof n);
            if (n && !items)
                return -EINVAL;
            r = n ? put_long(out, (int64_t)n) : 0;
            for (size_t k = 0; !r && k < n; k++)
                r = put_text(out, items[k]);
            if (!r)
                r = put_long(out, 0);
            break;
        }
        default:
            r = 0;
            break;
        }
        if (r)
            return r;
    }
    return 0;
}
