/* The reference encoder of the codec's tests: every record filled into an Avro-C
 * generic value field by field, from a list of its fields written here by hand, and
 * written by Avro-C, so that the codec's own bytes can be checked against Avro-C's.
 * (The codec filled Avro-C values like these until it wrote its records from its
 * tables.)  Inputs are filled from the codec's input tables, as the codec's Avro-C
 * encoder did. */
#include "avro_oracle.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "codec/codec_read.h"
#include "codec/codec_tables.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* --- one field ----------------------------------------------------------------------- */

typedef enum field_kind {
    F_STR,    /* .s; required, or a union with null, as the schema says */
    F_INT,    /* .i */
    F_LONG,   /* .i */
    F_BOOL,   /* .i */
    F_FLOAT,  /* .d */
    F_DOUBLE, /* .d */
    F_ENUM,   /* .i, checked against the schema's symbols */
    F_BYTES,  /* .p, .n; NULL = null (a union), or empty (required) */
    F_OPT,    /* a union with null: .has, then .i as an int or a long, as the schema says */
    F_ITEMS,  /* an array: .n items at .p, each filled by .item */
    F_FIELDS, /* a record: .n fields at .p */
} field_kind_t;

typedef struct field field_t;
typedef int (*item_fn)(avro_value_t *item, const void *items, size_t i);

struct field {
    const char *name;
    field_kind_t kind;
    const char *s;
    int64_t i;
    double d;
    bool has;
    const void *p;
    size_t n;
    item_fn item;
};

static int fill_fields(avro_value_t *rec, const field_t *fields, size_t count);

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

static int set_items(avro_value_t *array, const field_t *f)
{
    if (f->n && !f->p)
        return -EINVAL;
    int r = 0;
    for (size_t i = 0; !r && i < f->n; i++) {
        avro_value_t item;
        r = avro_value_append(array, &item, NULL) ? -ENOMEM : f->item(&item, f->p, i);
    }
    return r;
}

/* @f's value into @v (the field, or the branch of its union).  A plain switch. */
static int set_value(avro_value_t *v, const field_t *f)
{
    switch (f->kind) {
    case F_STR:
        return set_string(v, f->s);
    case F_INT:
        return avro_value_set_int(v, (int32_t)f->i) ? -EINVAL : 0;
    case F_LONG:
        return avro_value_set_long(v, f->i) ? -EINVAL : 0;
    case F_BOOL:
        return avro_value_set_boolean(v, (int)f->i) ? -EINVAL : 0;
    case F_FLOAT:
        return avro_value_set_float(v, (float)f->d) ? -EINVAL : 0;
    case F_DOUBLE:
        return avro_value_set_double(v, f->d) ? -EINVAL : 0;
    case F_ENUM:
        if (f->i < 0 || f->i >= avro_schema_enum_number_of_symbols(avro_value_get_schema(v)))
            return -EINVAL;
        return avro_value_set_enum(v, (int)f->i) ? -EINVAL : 0;
    case F_BYTES:
        return avro_value_set_bytes(v, (void *)(f->p ? f->p : ""), f->n) ? -ENOMEM : 0;
    case F_OPT:
        if (avro_value_get_type(v) == AVRO_INT32)
            return avro_value_set_int(v, (int32_t)f->i) ? -EINVAL : 0;
        return avro_value_set_long(v, f->i) ? -EINVAL : 0;
    case F_ITEMS:
        return set_items(v, f);
    case F_FIELDS:
        return fill_fields(v, f->p, f->n);
    }
    return -EINVAL;
}

static int fill_fields(avro_value_t *rec, const field_t *fields, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const field_t *f = &fields[i];
        avro_value_t v, branch;
        if (avro_value_get_by_name(rec, f->name, &v, NULL))
            return -EINVAL;
        int r = 0;
        if (avro_value_get_type(&v) == AVRO_UNION) {
            bool present = f->kind == F_OPT   ? f->has
                           : f->kind == F_STR ? f->s != NULL
                                              : f->p != NULL;
            r = set_nullable(&v, present, &branch);
            if (!r && present)
                r = set_value(&branch, f);
        } else {
            r = set_value(&v, f);
        }
        if (r)
            return r;
    }
    return 0;
}

static int fill_record(avro_value_t *value, const field_t *fields, size_t count)
{
    return avro_value_reset(value) ? -ENOMEM : fill_fields(value, fields, count);
}

/* --- shapes ------------------------------------------------------------------------- */

#define STR(field, v)                                                                              \
    {                                                                                              \
        .name = field, .kind = F_STR, .s = (v)                                                     \
    }
#define INT(field, v)                                                                              \
    {                                                                                              \
        .name = field, .kind = F_INT, .i = (v)                                                     \
    }
#define LONG(field, v)                                                                             \
    {                                                                                              \
        .name = field, .kind = F_LONG, .i = (int64_t)(v)                                           \
    }
#define ITEMS(field, items, count, fn)                                                             \
    {                                                                                              \
        .name = field, .kind = F_ITEMS, .p = (items), .n = (count), .item = fn                     \
    }
#define FIELDS(field, fields)                                                                      \
    {                                                                                              \
        .name = field, .kind = F_FIELDS, .p = (fields), .n = COUNT(fields)                         \
    }

static int fill_reason(avro_value_t *item, const void *items, size_t i)
{
    const hf_reason_t *x = (const hf_reason_t *)items + i;
    const field_t f[] = {STR("rule", x->rule), INT("points", x->points), INT("count", x->count),
                         STR("detail", x->detail)};
    return fill_fields(item, f, COUNT(f));
}

static int fill_page(avro_value_t *item, const void *items, size_t i)
{
    const hf_page_t *x = (const hf_page_t *)items + i;
    const field_t f[] = {STR("url", x->url), STR("title", x->title), INT("views", x->views)};
    return fill_fields(item, f, COUNT(f));
}

static int fill_download(avro_value_t *item, const void *items, size_t i)
{
    const hf_download_t *x = (const hf_download_t *)items + i;
    const field_t f[] = {STR("asset_id", x->asset_id), STR("title", x->title), STR("type", x->type),
                         LONG("at", x->at_ms)};
    return fill_fields(item, f, COUNT(f));
}

static int fill_webinar(avro_value_t *item, const void *items, size_t i)
{
    const hf_webinar_t *x = (const hf_webinar_t *)items + i;
    const field_t f[] = {STR("webinar_id", x->webinar_id), STR("title", x->title),
                         STR("action", x->action), INT("minutes", x->minutes),
                         LONG("at", x->at_ms)};
    return fill_fields(item, f, COUNT(f));
}

static int fill_touch(avro_value_t *item, const void *items, size_t i)
{
    const hf_touch_t *x = (const hf_touch_t *)items + i;
    const field_t f[] = {LONG("at", x->at_ms), STR("type", x->type), STR("title", x->title),
                         STR("detail", x->detail)};
    return fill_fields(item, f, COUNT(f));
}

static int fill_interest(avro_value_t *item, const void *items, size_t i)
{
    const hf_interest_t *x = (const hf_interest_t *)items + i;
    const field_t f[] = {STR("topic", x->topic),
                         {.name = "weight", .kind = F_FLOAT, .d = x->weight}};
    return fill_fields(item, f, COUNT(f));
}

static int fill_member(avro_value_t *item, const void *items, size_t i)
{
    const hf_member_t *x = (const hf_member_t *)items + i;
    const field_t f[] = {STR("contact_id", x->contact_id), STR("role", x->role),
                         INT("score", x->score), LONG("last_active", x->last_active_ms)};
    return fill_fields(item, f, COUNT(f));
}

/* A ConversationReady's Member: a RosterUpdate's and the placement. */
static int fill_buying_group_member(avro_value_t *item, const void *items, size_t i)
{
    const hf_member_t *x = (const hf_member_t *)items + i;
    const field_t f[] = {STR("contact_id", x->contact_id), STR("role", x->role),
                         INT("score", x->score), LONG("last_active", x->last_active_ms),
                         STR("placement", x->placement)};
    return fill_fields(item, f, COUNT(f));
}

static int fill_role(avro_value_t *item, const void *items, size_t i)
{
    return set_string(item, ((const char *const *)items)[i]);
}

/* --- outputs -------------------------------------------------------------------------- */

int oracle_fill_handoff(avro_value_t *value, const hf_handoff_t *h)
{
    const hf_journey_t *j = &h->journey;
    const field_t email[] = {INT("opens", j->email_opens), INT("clicks", j->email_clicks),
                             STR("last_campaign", j->email_last_campaign)};
    const field_t journey[] = {
        LONG("first_seen", j->first_seen_ms),
        {.name = "known_since", .kind = F_OPT, .has = j->has_known_since, .i = j->known_since_ms},
        INT("sessions", j->sessions),
        INT("page_views", j->page_views),
        ITEMS("top_pages", j->top_pages, j->top_page_count, fill_page),
        ITEMS("downloads", j->downloads, j->download_count, fill_download),
        ITEMS("webinars", j->webinars, j->webinar_count, fill_webinar),
        FIELDS("email", email),
        ITEMS("recent", j->recent, j->recent_count, fill_touch),
    };
    const field_t routing[] = {STR("team", h->routing_team), STR("region", h->routing_region),
                               STR("note", h->routing_note)};
    const field_t sla[] = {LONG("accept_by", h->sla_accept_by_ms),
                           LONG("first_touch_by", h->sla_first_touch_by_ms)};
    const field_t fields[] = {
        STR("handoff_id", h->handoff_id),
        {.name = "entity_type", .kind = F_ENUM, .i = h->entity_type},
        STR("entity_id", h->entity_id),
        STR("account_id", h->account_id),
        STR("rule", h->rule),
        LONG("qualified_at", h->qualified_at_ms),
        LONG("emitted_at", h->emitted_at_ms),
        INT("score", h->score),
        STR("fit_grade", h->fit_grade),
        STR("stage_before", h->stage_before),
        ITEMS("reasons", h->reasons, h->reason_count, fill_reason),
        FIELDS("journey", journey),
        ITEMS("interests", h->interests, h->interest_count, fill_interest),
        ITEMS("buying_group", h->buying_group, h->buying_group_count, fill_buying_group_member),
        ITEMS("roles_covered", h->roles_covered, h->roles_covered_count, fill_role),
        FIELDS("routing", routing),
        FIELDS("sla", sla),
        STR("kind", h->kind),
        STR("product", h->product),
    };
    return fill_record(value, fields, COUNT(fields));
}

int oracle_fill_lifecycle(avro_value_t *value, const hf_lifecycle_t *lc)
{
    const field_t fields[] = {
        {.name = "entity_type", .kind = F_ENUM, .i = lc->entity_type},
        STR("entity_id", lc->entity_id),
        STR("from_stage", lc->from_stage),
        STR("to_stage", lc->to_stage),
        LONG("at", lc->at_ms),
        STR("cause", lc->cause),
    };
    return fill_record(value, fields, COUNT(fields));
}

int oracle_fill_breach(avro_value_t *value, const hf_breach_t *b)
{
    const field_t fields[] = {
        STR("breach_id", b->breach_id),
        STR("handoff_id", b->handoff_id),
        {.name = "entity_type", .kind = F_ENUM, .i = b->entity_type},
        STR("entity_id", b->entity_id),
        STR("owner_id", b->owner_id),
        {.name = "sla", .kind = F_ENUM, .i = b->sla},
        LONG("due_at", b->due_at_ms),
        LONG("breached_at", b->breached_at_ms),
        INT("level", b->level),
    };
    return fill_record(value, fields, COUNT(fields));
}

int oracle_fill_dead_letter(avro_value_t *value, const hf_dead_letter_t *dl)
{
    const field_t fields[] = {
        STR("topic", dl->topic),
        INT("partition", dl->partition),
        LONG("offset", dl->offset),
        {.name = "key", .kind = F_BYTES, .p = dl->key, .n = dl->key_len},
        {.name = "value", .kind = F_BYTES, .p = dl->value, .n = dl->value_len},
        STR("error", dl->error),
        LONG("at", dl->at_ms),
    };
    return fill_record(value, fields, COUNT(fields));
}

/* --- records between stages ----------------------------------------------------------- */

int oracle_fill_member_update(avro_value_t *value, const hf_member_update_t *u)
{
    const field_t fields[] = {
        STR("contact_id", u->contact_id),
        STR("account_id", u->account_id),
        {.name = "leave", .kind = F_BOOL, .i = u->leave},
        LONG("version", u->version),
        LONG("at", u->at_ms),
        {.name = "score", .kind = F_DOUBLE, .d = u->score},
        LONG("score_at", u->score_at_ms),
        STR("role", u->role),
        STR("stage", u->stage),
        STR("fit_grade", u->fit_grade),
        LONG("first_seen", u->first_seen_ms),
        LONG("last_active", u->last_active_ms),
        STR("company_name", u->company_name),
        STR("industry", u->industry),
        {.name = "employees", .kind = F_OPT, .has = u->has_employees, .i = u->employees},
        STR("country", u->country),
        STR("region", u->region),
        ITEMS("interests", u->interests, u->interest_count, fill_interest),
        ITEMS("contributions", u->contributions, u->contribution_count, fill_reason),
        ITEMS("touches", u->touches, u->touch_count, fill_touch),
        ITEMS("downloads", u->downloads, u->download_count, fill_download),
        ITEMS("webinars", u->webinars, u->webinar_count, fill_webinar),
        INT("sessions", u->sessions),
        INT("page_views", u->page_views),
        INT("email_opens", u->email_opens),
        INT("email_clicks", u->email_clicks),
        STR("placement", u->placement),
    };
    return fill_record(value, fields, COUNT(fields));
}

int oracle_fill_roster(avro_value_t *value, const char *contact_id, const hf_roster_t *ro)
{
    const field_t fields[] = {
        STR("contact_id", contact_id),
        STR("account_id", ro->account_id),
        LONG("version", ro->version),
        ITEMS("members", ro->members, ro->member_count, fill_member),
        ITEMS("roles_covered", ro->roles_covered, ro->roles_covered_count, fill_role),
    };
    return fill_record(value, fields, COUNT(fields));
}

int oracle_fill_merge_request(avro_value_t *value, const hf_merge_request_t *m)
{
    const field_t fields[] = {
        STR("event_id", m->event_id),
        LONG("at", m->at_ms),
        STR("survivor_id", m->survivor_id),
        STR("loser_id", m->loser_id),
        {.name = "survivor_known", .kind = F_BOOL, .i = m->survivor_known},
        {.name = "bounced", .kind = F_BOOL, .i = m->bounced},
    };
    return fill_record(value, fields, COUNT(fields));
}

int oracle_fill_merge_state(avro_value_t *value, const hf_merge_state_t *m)
{
    const field_t fields[] = {
        STR("event_id", m->event_id),
        LONG("at", m->at_ms),
        STR("survivor_id", m->survivor_id),
        STR("loser_id", m->loser_id),
        {.name = "state", .kind = F_BYTES, .p = m->state, .n = m->state_len},
    };
    return fill_record(value, fields, COUNT(fields));
}

/* --- inputs, from the codec's tables --------------------------------------------------- */

/* The field of @slot at @base, as the oracle describes fields. */
static field_t slot_field(const codec_slot_t *slot, const uint8_t *base)
{
    const uint8_t *at = base + slot->offset;
    field_t f = {.name = slot->name};
    switch (slot->type) {
    case CODEC_SLOT_STR:
    case CODEC_SLOT_EMAIL:
        f.kind = F_STR;
        memcpy(&f.s, at, sizeof f.s);
        return f;
    case CODEC_SLOT_I32:
    case CODEC_SLOT_ENUM: {
        int32_t v;
        memcpy(&v, at, sizeof v);
        f.kind = slot->type == CODEC_SLOT_I32 ? F_INT : F_ENUM;
        f.i = v;
        return f;
    }
    case CODEC_SLOT_OPT_I32: {
        int32_t v;
        memcpy(&v, at, sizeof v);
        memcpy(&f.has, base + slot->aux, sizeof f.has);
        f.kind = F_OPT;
        f.i = v;
        return f;
    }
    case CODEC_SLOT_I64:
        f.kind = F_LONG;
        memcpy(&f.i, at, sizeof f.i);
        return f;
    case CODEC_SLOT_STRS:
        f.kind = F_ITEMS;
        f.item = fill_role;
        memcpy(&f.p, at, sizeof f.p);
        memcpy(&f.n, base + slot->aux, sizeof f.n);
        return f;
    default:
        f.kind = F_FIELDS; /* filled by fill_table() */
        return f;
    }
}

static int fill_table(avro_value_t *rec, const codec_table_t *table, const uint8_t *base)
{
    for (size_t i = 0; i < table->count; i++) {
        const codec_slot_t *slot = &table->slots[i];
        if (slot->type != CODEC_SLOT_RECORD) {
            field_t f = slot_field(slot, base);
            int r = fill_fields(rec, &f, 1);
            if (r)
                return r;
            continue;
        }
        /* Traits: null when not present; a required one without values is all nulls. */
        avro_value_t v, traits = {0};
        bool present;
        memcpy(&present, base + slot->offset + slot->aux, sizeof present);
        if (avro_value_get_by_name(rec, slot->name, &v, NULL))
            return -EINVAL;
        if (avro_value_get_type(&v) != AVRO_UNION) {
            traits = v;
        } else {
            int r = set_nullable(&v, present, &traits);
            if (r)
                return r;
            if (!present)
                continue;
        }
        int r = fill_table(&traits, slot->sub, base + slot->offset);
        if (r)
            return r;
    }
    return 0;
}

int oracle_fill_event(avro_value_t *value, const hf_event_t *ev)
{
    const codec_table_t *table = codec_table_input(ev->kind);
    if (!table)
        return -EINVAL;
    if (avro_value_reset(value))
        return -ENOMEM;
    return fill_table(value, table, (const uint8_t *)ev);
}

/* --- schemas and bytes ---------------------------------------------------------------- */

int oracle_schema(const char *record, avro_schema_t *schema)
{
    for (size_t i = 0; i < codec_schema_src_count; i++) {
        const codec_schema_src_t *src = &codec_schema_srcs[i];
        if (src->role != CODEC_ROLE_HISTORY && !strcmp(src->name, record))
            return avro_schema_from_json_length(src->json, strlen(src->json), schema) ? -EINVAL : 0;
    }
    return -ENOENT;
}

int oracle_write(avro_value_t *value, uint8_t *body, size_t cap, size_t *len)
{
    avro_writer_t w = avro_writer_memory((char *)body, (int64_t)cap);
    if (!w)
        return -ENOMEM;
    int r = avro_value_write(w, value) ? -EINVAL : 0;
    *len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    return r;
}

hf_handoff_t oracle_sample_handoff(void)
{
    static const hf_reason_t reasons[] = {{"demo_request", 50, 1, "form f-9"},
                                          {"pricing_visits", 10, 3, "3 visits"}};
    static const hf_page_t pages[] = {{"https://example.com/pricing", "Pricing", 3},
                                      {"https://example.com/x", NULL, 1}};
    static const hf_download_t downloads[] = {{"a-1", "Churn guide", "ebook", 1000}};
    static const hf_webinar_t webinars[] = {{"w-1", "Live demo", "attended", 45, 2000}};
    static const hf_touch_t recent[] = {{3000, "form", "Demo request", NULL},
                                        {2000, "webinar", "Live demo", "45 min"}};
    static const hf_interest_t interests[] = {{"reduce churn", 0.75f}};
    static const hf_member_t members[] = {
        {"c-2", "decision_maker", 80, 3000,
         "role rule 2 (decision_maker): title \"CFO\" matched \"c?o\""},
        {"c-3", "user", 12, 2500, NULL}};
    static const char *const roles[] = {"decision_maker", "champion"};
    hf_handoff_t h = {
        .handoff_id = "h-42",
        .entity_type = HF_ENTITY_CONTACT,
        .entity_id = "c-2",
        .account_id = "acct-1",
        .rule = "hand_raiser",
        .qualified_at_ms = 3000,
        .emitted_at_ms = 3500,
        .score = 87,
        .fit_grade = "A",
        .stage_before = "engaged",
        .reasons = reasons,
        .reason_count = 2,
        .journey = {.first_seen_ms = 500,
                    .has_known_since = true,
                    .known_since_ms = 900,
                    .sessions = 4,
                    .page_views = 11,
                    .top_pages = pages,
                    .top_page_count = 2,
                    .downloads = downloads,
                    .download_count = 1,
                    .webinars = webinars,
                    .webinar_count = 1,
                    .email_opens = 6,
                    .email_clicks = 2,
                    .email_last_campaign = "nurture",
                    .recent = recent,
                    .recent_count = 2},
        .interests = interests,
        .interest_count = 1,
        .buying_group = members,
        .buying_group_count = 2,
        .roles_covered = roles,
        .roles_covered_count = 2,
        .routing_team = "emea-smb",
        .routing_region = NULL,
        .sla_accept_by_ms = 90000,
        .sla_first_touch_by_ms = 180000,
    };
    return h;
}
