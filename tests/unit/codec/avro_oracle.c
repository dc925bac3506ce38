/* The reference encoder of the codec's tests: every record filled into an Avro-C
 * generic value field by field and written by Avro-C, so that the codec's own bytes
 * can be checked against Avro-C's.  (The codec shipped these fillers until it wrote
 * its records from its tables; the item fillers follow each schema's nullability.) */
#include "avro_oracle.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "codec/codec_read.h"
#include "codec/codec_tables.h"

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

static int put_opt_str(avro_value_t *rec, const char *name, const char *s);

/* A string field, required or a union with null as its schema says. */
static int put_any_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    if (r)
        return r;
    return avro_value_get_type(&f) == AVRO_UNION ? put_opt_str(rec, name, s)
                                                 : put_str(rec, name, s);
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

static bool slot_present(const codec_slot_t *slot, const uint8_t *base)
{
    const char *str;
    bool present = true;
    switch (slot->type) {
    case CODEC_SLOT_STR:
    case CODEC_SLOT_EMAIL:
        memcpy(&str, base + slot->offset, sizeof str);
        return str != NULL;
    case CODEC_SLOT_OPT_I32:
        memcpy(&present, base + slot->aux, sizeof present);
        return present;
    case CODEC_SLOT_RECORD:
        memcpy(&present, base + slot->offset + slot->aux, sizeof present);
        return present;
    default:
        return true;
    }
}

static int fill_slots(avro_value_t *rec, const codec_table_t *table, const void *src);

/* The value of @slot (present) into @target. */
static int fill_slot(avro_value_t *target, const codec_slot_t *slot, const uint8_t *base)
{
    const uint8_t *at = base + slot->offset;
    int r = 0;
    switch (slot->type) {
    case CODEC_SLOT_STR:
    case CODEC_SLOT_EMAIL: {
        const char *str;
        memcpy(&str, at, sizeof str);
        return set_string(target, str);
    }
    case CODEC_SLOT_I32:
    case CODEC_SLOT_OPT_I32: {
        int32_t v;
        memcpy(&v, at, sizeof v);
        return avro_value_set_int(target, v) ? -EINVAL : 0;
    }
    case CODEC_SLOT_I64: {
        int64_t v;
        memcpy(&v, at, sizeof v);
        return avro_value_set_long(target, v) ? -EINVAL : 0;
    }
    case CODEC_SLOT_ENUM: {
        int v;
        memcpy(&v, at, sizeof v);
        if (v < 0 || v >= slot->aux)
            return -EINVAL;
        return avro_value_set_enum(target, v) ? -EINVAL : 0;
    }
    case CODEC_SLOT_STRS: {
        const char *const *items;
        size_t n;
        memcpy(&items, at, sizeof items);
        memcpy(&n, base + slot->aux, sizeof n);
        if (n && !items)
            return -EINVAL;
        for (size_t k = 0; !r && k < n; k++) {
            avro_value_t item;
            r = append_item(target, &item);
            if (!r)
                r = set_string(&item, items[k]);
        }
        return r;
    }
    case CODEC_SLOT_RECORD:
        /* A required Traits record without values is written with all nulls. */
        return fill_slots(target, slot->sub, at);
    default:
        return -EINVAL; /* no input has other fields */
    }
}

/* Input records, driven by the codec's tables: the slot type picks the C value; the
 * schema says whether it is a union with null. */
static int fill_slots(avro_value_t *rec, const codec_table_t *table, const void *src)
{
    for (size_t i = 0; i < table->count; i++) {
        const codec_slot_t *slot = &table->slots[i];
        bool present = slot_present(slot, src);
        avro_value_t field, target;
        int r = get_field(rec, slot->name, &field);
        if (r)
            return r;
        if (avro_value_get_type(&field) == AVRO_UNION) {
            r = set_nullable(&field, present, &target);
            if (r)
                return r;
            if (!present)
                continue;
        } else {
            if (!present && slot->type != CODEC_SLOT_RECORD)
                return -EINVAL; /* a required field without a value */
            target = field;
        }
        r = fill_slot(&target, slot, src);
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
    return fill_slots(value, table, ev);
}

int oracle_fill_lifecycle(avro_value_t *value, const hf_lifecycle_t *lc)
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

int oracle_fill_breach(avro_value_t *value, const hf_breach_t *b)
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

int oracle_fill_dead_letter(avro_value_t *value, const hf_dead_letter_t *dl)
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
    int r = put_any_str(item, "rule", x->rule);
    if (!r)
        r = put_int(item, "points", x->points);
    if (!r)
        r = put_int(item, "count", x->count);
    if (!r)
        r = put_any_str(item, "detail", x->detail);
    return r;
}

static int fill_page(avro_value_t *item, const void *items, size_t i)
{
    const hf_page_t *x = (const hf_page_t *)items + i;
    int r = put_any_str(item, "url", x->url);
    if (!r)
        r = put_any_str(item, "title", x->title);
    if (!r)
        r = put_int(item, "views", x->views);
    return r;
}

static int fill_download(avro_value_t *item, const void *items, size_t i)
{
    const hf_download_t *x = (const hf_download_t *)items + i;
    int r = put_any_str(item, "asset_id", x->asset_id);
    if (!r)
        r = put_any_str(item, "title", x->title);
    if (!r)
        r = put_any_str(item, "type", x->type);
    if (!r)
        r = put_long(item, "at", x->at_ms);
    return r;
}

static int fill_webinar(avro_value_t *item, const void *items, size_t i)
{
    const hf_webinar_t *x = (const hf_webinar_t *)items + i;
    int r = put_any_str(item, "webinar_id", x->webinar_id);
    if (!r)
        r = put_any_str(item, "title", x->title);
    if (!r)
        r = put_any_str(item, "action", x->action);
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
        r = put_any_str(item, "type", x->type);
    if (!r)
        r = put_any_str(item, "title", x->title);
    if (!r)
        r = put_any_str(item, "detail", x->detail);
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
    int r = put_any_str(item, "contact_id", x->contact_id);
    if (!r)
        r = put_any_str(item, "role", x->role);
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

int oracle_fill_handoff(avro_value_t *value, const hf_handoff_t *h)
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

static int put_bool(avro_value_t *rec, const char *name, bool v)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    return r ? r : (avro_value_set_boolean(&f, v) ? -EINVAL : 0);
}

static int put_double(avro_value_t *rec, const char *name, double v)
{
    avro_value_t f;
    int r = get_field(rec, name, &f);
    return r ? r : (avro_value_set_double(&f, v) ? -EINVAL : 0);
}

static int put_opt_int(avro_value_t *rec, const char *name, bool present, int32_t v)
{
    avro_value_t f, b;
    int r = get_field(rec, name, &f);
    if (!r)
        r = set_nullable(&f, present, &b);
    if (!r && present)
        r = avro_value_set_int(&b, v) ? -EINVAL : 0;
    return r;
}

int oracle_fill_member_update(avro_value_t *value, const hf_member_update_t *u)
{
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_str(value, "contact_id", u->contact_id);
    if (!r)
        r = put_str(value, "account_id", u->account_id);
    if (!r)
        r = put_bool(value, "leave", u->leave);
    if (!r)
        r = put_long(value, "version", (int64_t)u->version);
    if (!r)
        r = put_long(value, "at", u->at_ms);
    if (!r)
        r = put_double(value, "score", u->score);
    if (!r)
        r = put_long(value, "score_at", u->score_at_ms);
    if (!r)
        r = put_opt_str(value, "role", u->role);
    if (!r)
        r = put_opt_str(value, "stage", u->stage);
    if (!r)
        r = put_opt_str(value, "fit_grade", u->fit_grade);
    if (!r)
        r = put_long(value, "first_seen", u->first_seen_ms);
    if (!r)
        r = put_long(value, "last_active", u->last_active_ms);
    if (!r)
        r = put_opt_str(value, "company_name", u->company_name);
    if (!r)
        r = put_opt_str(value, "industry", u->industry);
    if (!r)
        r = put_opt_int(value, "employees", u->has_employees, u->employees);
    if (!r)
        r = put_opt_str(value, "country", u->country);
    if (!r)
        r = put_opt_str(value, "region", u->region);
    if (!r)
        r = put_array(value, "interests", u->interests, u->interest_count, fill_interest);
    if (!r)
        r = put_array(value, "contributions", u->contributions, u->contribution_count, fill_reason);
    if (!r)
        r = put_array(value, "touches", u->touches, u->touch_count, fill_touch);
    if (!r)
        r = put_array(value, "downloads", u->downloads, u->download_count, fill_download);
    if (!r)
        r = put_array(value, "webinars", u->webinars, u->webinar_count, fill_webinar);
    if (!r)
        r = put_int(value, "sessions", u->sessions);
    if (!r)
        r = put_int(value, "page_views", u->page_views);
    if (!r)
        r = put_int(value, "email_opens", u->email_opens);
    if (!r)
        r = put_int(value, "email_clicks", u->email_clicks);
    return r;
}

int oracle_fill_roster(avro_value_t *value, const char *contact_id, const hf_roster_t *ro)
{
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_str(value, "contact_id", contact_id);
    if (!r)
        r = put_str(value, "account_id", ro->account_id);
    if (!r)
        r = put_long(value, "version", (int64_t)ro->version);
    if (!r)
        r = put_array(value, "members", ro->members, ro->member_count, fill_member);
    if (!r)
        r = put_array(value, "roles_covered", ro->roles_covered, ro->roles_covered_count,
                      fill_role);
    return r;
}

int oracle_fill_merge_request(avro_value_t *value, const hf_merge_request_t *m)
{
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_opt_str(value, "event_id", m->event_id);
    if (!r)
        r = put_long(value, "at", m->at_ms);
    if (!r)
        r = put_str(value, "survivor_id", m->survivor_id);
    if (!r)
        r = put_str(value, "loser_id", m->loser_id);
    if (!r)
        r = put_bool(value, "survivor_known", m->survivor_known);
    if (!r)
        r = put_bool(value, "bounced", m->bounced);
    return r;
}

int oracle_fill_merge_state(avro_value_t *value, const hf_merge_state_t *m)
{
    avro_value_t f;
    if (avro_value_reset(value))
        return -ENOMEM;
    int r = put_opt_str(value, "event_id", m->event_id);
    if (!r)
        r = put_long(value, "at", m->at_ms);
    if (!r)
        r = put_str(value, "survivor_id", m->survivor_id);
    if (!r)
        r = put_str(value, "loser_id", m->loser_id);
    if (!r)
        r = get_field(value, "state", &f);
    if (!r)
        r = avro_value_set_bytes(&f, (void *)(m->state ? m->state : ""), m->state_len) ? -ENOMEM
                                                                                       : 0;
    return r;
}

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
