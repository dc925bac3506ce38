/* handoffctl dump --state DIR [-c FILE] TABLE [--id ID]: a table of handoffd's store,
 * a JSON object per line.  The store is opened read-only, so this works beside a
 * running daemon.  Contacts and accounts show their score and grade as of their
 * last event under the rules file's rules, and their whole state; owed, the
 * summaries each contact partition owes the accounts. */
#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "config/config.h"
#include "daemon/store.h"
#include "hfctl.h"
#include "json.h"
#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/identity/identity.h"

/* The tables dump shows, by the name on the command line. */
static const struct dump_table {
    const char *name;
    store_cf_t cf;
} dump_tables[] = {
    {"contacts", STORE_CF_CONTACT},    {"accounts", STORE_CF_ACCOUNT},
    {"identities", STORE_CF_IDENTITY}, {"offsets", STORE_CF_OFFSETS},
    {"metrics", STORE_CF_METRICS},     {"owed", STORE_CF_OWED},
    {"teams", STORE_CF_TEAM},
};

typedef struct dump_args {
    const char *state_dir;
    const char *config_path; /* NULL: handoffd's default */
    const char *only_id;     /* NULL: every entry */
    const struct dump_table *table;
} dump_args_t;

typedef struct dump_ctx {
    const dump_args_t *args;
    const hf_rules_t *rules; /* NULL without -c for the tables that need none */
    codec_t *codec;
    hf_buf_t line;
    hf_buf_t json;
    unsigned long rows;
} dump_ctx_t;

/* A contacts row: score and grade as of the last event under the rules, stage,
 * cycle, whether handed off, and the whole state when the codec reads it.  A state
 * that does not decode is said on stderr and skipped. */
static int dump_contact(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    contact_state_t *s = NULL;
    if (contact_state_decode(&s, val, len) != 0) {
        fprintf(stderr, "handoffctl: contact %s: state does not decode\n", id);
        return 0;
    }
    int64_t last = contact_state_last_event_ms(s);
    hf_buf_append_str(&d->line, "{\"contact_id\":");
    hfctl_json_string(&d->line, id, strlen(id));
    hf_buf_printf(&d->line,
                  ",\"score\":%ld,\"grade\":\"%s\",\"stage\":\"%s\",\"cycle\":%u,"
                  "\"handed_off\":%s,\"last_event_ms\":%" PRId64,
                  lround(contact_state_score(s, d->rules, last)), contact_state_grade(s, d->rules),
                  hf_stage_name(contact_state_stage(s)), contact_state_cycle(s),
                  contact_state_handed_off(s) ? "true" : "false", last);
    char err[256];
    hf_buf_reset(&d->json);
    if (codec_body_to_json(d->codec, "ContactState", val, len, &d->json, err, sizeof(err)) == 0) {
        hf_buf_append_str(&d->line, ",\"state\":");
        hf_buf_append(&d->line, d->json.data, d->json.len);
    }
    hf_buf_append_str(&d->line, "}");
    contact_state_free(s);
    return 0;
}

/* An accounts row, as dump_contact() does for contacts (members and engaged ones
 * instead of a grade). */
static int dump_account(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    account_state_t *s = NULL;
    if (account_state_decode(&s, val, len) != 0) {
        fprintf(stderr, "handoffctl: account %s: state does not decode\n", id);
        return 0;
    }
    hf_buf_append_str(&d->line, "{\"account_id\":");
    hfctl_json_string(&d->line, id, strlen(id));
    hf_buf_printf(&d->line,
                  ",\"score\":%ld,\"stage\":\"%s\",\"members\":%zu,\"engaged\":%zu,"
                  "\"cycle\":%u,\"handed_off\":%s",
                  lround(account_state_score(s, d->rules, account_state_last_active_ms(s))),
                  hf_stage_name(account_state_stage(s)), account_state_member_count(s),
                  account_state_engaged_count(s, d->rules), account_state_cycle(s),
                  account_state_handed_off(s) ? "true" : "false");
    char err[256];
    hf_buf_reset(&d->json);
    if (codec_body_to_json(d->codec, "AccountState", val, len, &d->json, err, sizeof(err)) == 0) {
        hf_buf_append_str(&d->line, ",\"state\":");
        hf_buf_append(&d->line, d->json.data, d->json.len);
    }
    hf_buf_append_str(&d->line, "}");
    account_state_free(s);
    return 0;
}

/* An identities row: the contact an anonymous id resolved to (or null) and how
 * many of its records are buffered while it is unknown. */
static int dump_identity(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    anon_state_t *s = NULL;
    if (anon_state_decode(&s, val, len) != 0) {
        fprintf(stderr, "handoffctl: anonymous id %s: state does not decode\n", id);
        return 0;
    }
    hf_buf_append_str(&d->line, "{\"anonymous_id\":");
    hfctl_json_string(&d->line, id, strlen(id));
    hf_buf_append_str(&d->line, ",\"contact_id\":");
    const char *c = anon_state_contact(s);
    if (c)
        hfctl_json_string(&d->line, c, strlen(c));
    else
        hf_buf_append_str(&d->line, "null");
    hf_buf_printf(&d->line, ",\"buffered\":%zu}", anon_state_buffered(s));
    anon_state_free(s);
    return 0;
}

/* An offsets row: the key is the topic, a NUL and the partition (big-endian
 * 32 bits); the value the next offset to consume. */
static void dump_offset(dump_ctx_t *d, const char *key, size_t key_len, const void *val,
                        size_t val_len)
{
    const char *nul = memchr(key, 0, key_len);
    store_offset_t o;
    if (!nul || (size_t)(nul - key) + 5 != key_len || !store_offset_decode(val, val_len, &o))
        return;
    const uint8_t *pb = (const uint8_t *)nul + 1;
    int32_t part =
        (int32_t)((uint32_t)pb[0] << 24 | (uint32_t)pb[1] << 16 | (uint32_t)pb[2] << 8 | pb[3]);
    hf_buf_append_str(&d->line, "{\"topic\":");
    hfctl_json_string(&d->line, key, (size_t)(nul - key));
    hf_buf_printf(&d->line, ",\"partition\":%" PRId32 ",\"next_offset\":%" PRId64, part, o.next);
    if (o.partition_time != INT64_MIN)
        hf_buf_printf(&d->line, ",\"partition_time\":%" PRId64, o.partition_time);
    hf_buf_append_str(&d->line, "}");
}

/* A metrics row: a counter's name and value. */
static void dump_metric(dump_ctx_t *d, const char *key, size_t key_len, const void *val,
                        size_t val_len)
{
    if (val_len != 8)
        return;
    hf_buf_append_str(&d->line, "{\"name\":");
    hfctl_json_string(&d->line, key, key_len);
    hf_buf_printf(&d->line, ",\"value\":%" PRIu64 "}", store_get_be64(val));
}

static int owed_id(void *opaque, const char *id)
{
    hf_buf_t *line = opaque;
    if (line->data[line->len - 1] != '[')
        hf_buf_append_str(line, ",");
    hfctl_json_string(line, id, strlen(id));
    return 0;
}

/* An owed row (accounts.member_updates: coalesced): a partition of the contact
 * topic, the contact records it folded since it last sent its contacts' summaries,
 * and the contacts whose summary it owes, in the order they first changed. */
static void dump_owed(dump_ctx_t *d, const void *key, size_t key_len, const void *val,
                      size_t val_len)
{
    int32_t part;
    uint32_t records;
    size_t count;
    if (!store_owed_key_decode(key, key_len, &part) ||
        store_owed_decode(val, val_len, &records, &count, NULL, NULL) != 0) {
        fprintf(stderr, "handoffctl: an owed row that does not decode\n");
        return;
    }
    hf_buf_printf(&d->line,
                  "{\"partition\":%" PRId32 ",\"records\":%" PRIu32 ",\"count\":%zu,"
                  "\"owed\":[",
                  part, records, count);
    store_owed_decode(val, val_len, &records, &count, owed_id, &d->line);
    hf_buf_append_str(&d->line, "]}");
}

/* A teams row (the daily digest): the routing team and its whole TeamState. */
static int dump_team(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    char err[256];
    hf_buf_append_str(&d->line, "{\"team\":");
    hfctl_json_string(&d->line, id, strlen(id));
    hf_buf_reset(&d->json);
    if (codec_body_to_json(d->codec, "TeamState", val, len, &d->json, err, sizeof(err)) == 0) {
        hf_buf_append_str(&d->line, ",\"state\":");
        hf_buf_append(&d->line, d->json.data, d->json.len);
    } else {
        fprintf(stderr, "handoffctl: team %s: state does not decode: %s\n", id, err);
    }
    hf_buf_append_str(&d->line, "}");
    return 0;
}

/* A row of a table keyed by an entity id (contacts, accounts, identities); ids too
 * long for any entity and the ids --id does not ask for are skipped. */
static int dump_entity(dump_ctx_t *d, const void *key, size_t key_len, const void *val,
                       size_t val_len)
{
    char id[1024];
    if (key_len >= sizeof(id))
        return 0;
    memcpy(id, key, key_len);
    id[key_len] = 0;
    if (d->args->only_id && strcmp(d->args->only_id, id) != 0)
        return 0;
    store_cf_t cf = d->args->table->cf;
    /* Scores and grades need the rules: hfctl_dump() loads them for these tables. */
    assert(d->rules || (cf != STORE_CF_CONTACT && cf != STORE_CF_ACCOUNT));
    switch (cf) {
    case STORE_CF_CONTACT:
        return dump_contact(d, id, val, val_len);
    case STORE_CF_ACCOUNT:
        return dump_account(d, id, val, val_len);
    case STORE_CF_TEAM:
        return dump_team(d, id, val, val_len);
    default:
        return dump_identity(d, id, val, val_len);
    }
}

/* store_scan()'s callback: one line per row shown. */
static int dump_row(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    dump_ctx_t *d = opaque;
    hf_buf_reset(&d->line);
    store_cf_t cf = d->args->table->cf;
    if (cf == STORE_CF_OFFSETS) {
        dump_offset(d, key, key_len, val, val_len);
    } else if (cf == STORE_CF_METRICS) {
        dump_metric(d, key, key_len, val, val_len);
    } else if (cf == STORE_CF_OWED) {
        dump_owed(d, key, key_len, val, val_len);
    } else {
        int r = dump_entity(d, key, key_len, val, val_len);
        if (r)
            return r;
    }
    if (d->line.len) {
        fwrite(d->line.data, 1, d->line.len, stdout);
        fputc('\n', stdout);
        d->rows++;
    }
    return 0;
}

/* Fills @a from the command line.  Returns false after printing the usage. */
static bool dump_parse_args(int argc, char **argv, dump_args_t *a)
{
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    *a = (dump_args_t){0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:c:i:", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            a->state_dir = optarg;
            break;
        case 'c':
            a->config_path = optarg;
            break;
        case 'i':
            a->only_id = optarg;
            break;
        default:
            hfctl_usage(stderr);
            return false;
        }
    }
    if (a->state_dir && optind == argc - 1) {
        for (size_t i = 0; i < sizeof(dump_tables) / sizeof(dump_tables[0]); i++)
            if (strcmp(argv[optind], dump_tables[i].name) == 0)
                a->table = &dump_tables[i];
    }
    if (!a->table) {
        hfctl_usage(stderr);
        return false;
    }
    return true;
}

/* Prints the rows of @a's table.  Returns the exit status: 0, or 1 when the store
 * cannot be read or --id names no entry. */
static int dump_store(const dump_args_t *a, const hf_rules_t *rules)
{
    char err[512];
    dump_ctx_t d = {.args = a, .rules = rules};
    store_t *store = NULL;
    int rc = 1;
    if (hfctl_codec_new(&d.codec, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        goto out;
    }
    if (store_open(&store, a->state_dir, true, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        goto out;
    }
    if (store_scan(store, a->table->cf, dump_row, &d, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        goto out;
    }
    rc = (a->only_id && d.rows == 0) ? 1 : 0;
    if (rc)
        fprintf(stderr, "handoffctl: no %s entry with id %s\n", a->table->name, a->only_id);
out:
    hf_buf_free(&d.line);
    hf_buf_free(&d.json);
    store_close(store);
    codec_free(d.codec);
    return rc;
}

int hfctl_dump(int argc, char **argv)
{
    dump_args_t a;
    if (!dump_parse_args(argc, argv, &a))
        return 2;
    /* Scores and grades depend on the rules: never show them under rules other than
     * the ones the daemon runs.  The other tables need none. */
    hf_config_t *cfg = NULL;
    store_cf_t cf = a.table->cf;
    if ((a.config_path || cf == STORE_CF_CONTACT || cf == STORE_CF_ACCOUNT) &&
        hfctl_load_rules(&cfg, a.config_path) != 0)
        return 2;
    int rc = dump_store(&a, cfg ? cfg->rules : NULL);
    config_free(cfg);
    return rc;
}
