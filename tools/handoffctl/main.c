/* handoffctl: the operator's tool.
 *
 *   handoffctl check [FILE]
 *   handoffctl dump --state DIR [-c FILE] contacts|accounts|identities|offsets|metrics [--id ID]
 *   handoffctl outcomes --state DIR
 *   handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]
 *
 * check and dump read the same rules file as handoffd, HF_CONFIG_DEFAULT_PATH when
 * none is named.  dump opens the store read-only, so it works beside a running
 * daemon.  Every line printed is one JSON object (check and outcomes aside). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "codec/codec.h"
#include "daemon/kafka.h"
#include "daemon/outcomes.h"
#include "daemon/store.h"
#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/identity/identity.h"

/* Bytes of an undecodable value shown: the single-object header (C3 01 and the
 * fingerprint) tells which framing and schema the producer meant; the body may
 * carry personal data and is never shown. */
#define CTL_VALUE_HEAD_BYTES 10

/* Nesting accepted in a JSON value passed through (output.format: json). */
#define CTL_JSON_MAX_DEPTH 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: handoffctl check [FILE]\n"
            "       handoffctl dump --state DIR [-c FILE] "
            "contacts|accounts|identities|offsets|metrics [--id ID]\n"
            "       handoffctl outcomes --state DIR\n"
            "       handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]\n"
            "\n"
            "  FILE, -c FILE  the rules file, as handoffd reads it (default " HF_CONFIG_DEFAULT_PATH
            ",\n"
            "                 relative to the working directory); dump contacts|accounts needs\n"
            "                 it for scores and grades and fails when it cannot be read\n"
            "  --state DIR    handoffd's state directory (opened read-only)\n"
            "  --timeout S    consume: stop after S seconds without a record, and give up on a\n"
            "                 broker that cannot be reached within S seconds (default 10)\n"
            "  --max N        consume: stop after N records (default: no limit)\n");
}

/* ---- JSON ------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at @s (at most @left bytes), or 0 when
 * the bytes there are not one: overlong forms, surrogates and code points over
 * U+10FFFF are not. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string literal of @len bytes of @s.  Well-formed UTF-8 is kept as it is
 * (ids and names in any script stay readable); control characters, DEL and every
 * byte that is not part of well-formed UTF-8 are escaped, the latter as the code
 * point of the byte's value (as Avro's JSON encoding writes bytes), so the line is
 * valid JSON whatever the bytes. */
static void json_string(hf_buf_t *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    hf_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n = utf8_len(p + i, len - i);
        if (c == '"' || c == '\\') {
            hf_buf_printf(out, "\\%c", c);
        } else if (c == '\n') {
            hf_buf_append_str(out, "\\n");
        } else if (c == '\t') {
            hf_buf_append_str(out, "\\t");
        } else if (c == '\r') {
            hf_buf_append_str(out, "\\r");
        } else if (c < 0x20 || c == 0x7f || n == 0) {
            hf_buf_printf(out, "\\u%04x", c);
        } else {
            hf_buf_append(out, p + i, n);
            i += n;
            continue;
        }
        i++;
    }
    hf_buf_append(out, "\"", 1);
}

/* A JSON value passed through (records written with output.format: json), checked
 * against RFC 8259 and copied without the whitespace between tokens, so it is one
 * valid line whatever the producer wrote. */
typedef struct json_scan {
    const unsigned char *p, *start, *end;
    hf_buf_t *out;
    int depth;
} json_scan_t;

static void json_scan_ws(json_scan_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int json_scan_string(json_scan_t *j)
{
    const unsigned char *from = j->p++; /* the opening quote */
    while (j->p < j->end && *j->p != '"') {
        size_t left = (size_t)(j->end - j->p);
        if (*j->p == '\\') {
            if (left >= 6 && j->p[1] == 'u' && isxdigit(j->p[2]) && isxdigit(j->p[3]) &&
                isxdigit(j->p[4]) && isxdigit(j->p[5]))
                j->p += 6;
            else if (left >= 2 && j->p[1] && strchr("\"\\/bfnrt", j->p[1]))
                j->p += 2;
            else
                return -1;
        } else if (*j->p < 0x20) {
            return -1;
        } else {
            size_t n = utf8_len(j->p, left);
            if (!n)
                return -1;
            j->p += n;
        }
    }
    if (j->p >= j->end)
        return -1;
    j->p++;
    return hf_buf_append(j->out, from, (size_t)(j->p - from));
}

static bool json_scan_digits(json_scan_t *j)
{
    const unsigned char *from = j->p;
    while (j->p < j->end && isdigit(*j->p))
        j->p++;
    return j->p > from;
}

static int json_scan_number(json_scan_t *j)
{
    const unsigned char *from = j->p;
    if (*j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!json_scan_digits(j))
        return -1;
    if (j->p < j->end && *j->p == '.' && (j->p++, !json_scan_digits(j)))
        return -1;
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!json_scan_digits(j))
            return -1;
    }
    return hf_buf_append(j->out, from, (size_t)(j->p - from));
}

static int json_scan_value(json_scan_t *j)
{
    json_scan_ws(j);
    if (j->p >= j->end)
        return -1;
    unsigned char c = *j->p;
    if (c == '"')
        return json_scan_string(j);
    if (c == '-' || isdigit(c))
        return json_scan_number(j);
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(literals[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, literals[i], n) == 0) {
            j->p += n;
            return hf_buf_append(j->out, literals[i], n);
        }
    }
    if ((c != '{' && c != '[') || ++j->depth > CTL_JSON_MAX_DEPTH)
        return -1;
    bool object = c == '{';
    unsigned char close = object ? '}' : ']';
    hf_buf_append(j->out, j->p++, 1);
    json_scan_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->depth--;
        return hf_buf_append(j->out, j->p++, 1);
    }
    for (;;) {
        if (object) {
            json_scan_ws(j);
            if (j->p >= j->end || *j->p != '"' || json_scan_string(j))
                return -1;
            json_scan_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return -1;
            hf_buf_append(j->out, j->p++, 1);
        }
        if (json_scan_value(j))
            return -1;
        json_scan_ws(j);
        if (j->p >= j->end || (*j->p != ',' && *j->p != close))
            return -1;
        bool last = *j->p == close;
        hf_buf_append(j->out, j->p++, 1);
        if (last)
            break;
    }
    j->depth--;
    return 0;
}

/* Appends the JSON value of @len bytes at @data to @out, compacted.  Returns 0, or
 * -EINVAL with *at the offset of the first byte that is not JSON (@out unchanged). */
static int json_compact(hf_buf_t *out, const void *data, size_t len, size_t *at)
{
    json_scan_t j = {data, data, (const unsigned char *)data + len, out, 0};
    size_t mark = out->len;
    int r = json_scan_value(&j);
    if (!r) {
        json_scan_ws(&j);
        r = j.p == j.end ? 0 : -1;
    }
    if (r) {
        *at = (size_t)(j.p - j.start);
        out->len = mark;
        return -EINVAL;
    }
    return 0;
}

/* Characters of the local part and of the domain of an e-mail address. */
static bool email_local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool email_domain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-';
}

/* Appends @len plain characters of a JSON string (no escapes in them) with the local
 * part of everything shaped like an e-mail address replaced by "***". */
static void redact_run(hf_buf_t *out, const unsigned char *s, size_t len)
{
    size_t done = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '@')
            continue;
        size_t from = i, to = i + 1;
        while (from > done && email_local_char(s[from - 1]))
            from--;
        bool dot = false;
        while (to < len && email_domain_char(s[to]))
            dot |= s[to++] == '.';
        if (from == i || !dot || s[i + 1] == '.' || s[to - 1] == '.')
            continue;
        hf_buf_append(out, s + done, from - done);
        hf_buf_append_str(out, "***");
        done = i;
    }
    hf_buf_append(out, s + done, len - done);
}

/* @line (JSON) into @out with the local part of every e-mail address in its strings
 * hidden ("jane@acme.com" -> "***@acme.com").  Decoded input records and dead
 * letters carry addresses as their producer wrote them; the daemon keeps only the
 * domain and a keyed hash, and this tool shows no more.  Escapes are copied whole
 * and never looked into, so the result is valid JSON when @line is. */
static void redact_emails(hf_buf_t *out, const hf_buf_t *line)
{
    const unsigned char *p = line->data, *end = line->data + line->len;
    bool in_string = false;
    while (p < end) {
        if (!in_string) {
            const unsigned char *q = p;
            while (q < end && *q != '"')
                q++;
            if (q < end)
                q++, in_string = true;
            hf_buf_append(out, p, (size_t)(q - p));
            p = q;
        } else if (*p == '"') {
            hf_buf_append(out, p++, 1);
            in_string = false;
        } else if (*p == '\\') {
            size_t n = end - p >= 6 && p[1] == 'u' ? 6 : end - p >= 2 ? 2 : 1;
            hf_buf_append(out, p, n);
            p += n;
        } else {
            const unsigned char *q = p;
            while (q < end && *q != '"' && *q != '\\')
                q++;
            redact_run(out, p, (size_t)(q - p));
            p = q;
        }
    }
}

/* Loads the rules file as handoffd does: @path, or the default when NULL.  Every
 * problem goes to stderr; when the default was meant, a last line says so, since
 * the user named no file. */
static int load_rules(hf_config_t **cfg, const char *path)
{
    int r = config_load_reporting(cfg, path ? path : HF_CONFIG_DEFAULT_PATH, stderr);
    if (r != 0 && !path)
        fprintf(stderr,
                "handoffctl: no rules file given (FILE or -c FILE): %s, the default, relative "
                "to the working directory, is needed\n",
                HF_CONFIG_DEFAULT_PATH);
    return r;
}

static int cmd_check(int argc, char **argv)
{
    if (argc > 2) {
        usage(stderr);
        return 2;
    }
    const char *path = argc == 2 ? argv[1] : NULL;
    hf_config_t *cfg = NULL;
    if (load_rules(&cfg, path) != 0)
        return 2;
    config_print_ok(cfg, path ? path : HF_CONFIG_DEFAULT_PATH, stdout);
    config_free(cfg);
    return 0;
}

/* ---- dump ------------------------------------------------------------------ */

typedef struct dump_ctx {
    const char *what;
    const hf_rules_t *rules;
    codec_t *codec;
    const char *only_id;
    hf_buf_t line;
    hf_buf_t json;
    unsigned long rows;
} dump_ctx_t;

static int dump_contact(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    contact_state_t *s = NULL;
    if (contact_state_decode(&s, val, len) != 0) {
        fprintf(stderr, "handoffctl: contact %s: state does not decode\n", id);
        return 0;
    }
    int64_t last = contact_state_last_event_ms(s);
    hf_buf_append_str(&d->line, "{\"contact_id\":");
    json_string(&d->line, id, strlen(id));
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

static int dump_account(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    account_state_t *s = NULL;
    if (account_state_decode(&s, val, len) != 0) {
        fprintf(stderr, "handoffctl: account %s: state does not decode\n", id);
        return 0;
    }
    hf_buf_append_str(&d->line, "{\"account_id\":");
    json_string(&d->line, id, strlen(id));
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

static int dump_identity(dump_ctx_t *d, const char *id, const void *val, size_t len)
{
    anon_state_t *s = NULL;
    if (anon_state_decode(&s, val, len) != 0) {
        fprintf(stderr, "handoffctl: anonymous id %s: state does not decode\n", id);
        return 0;
    }
    hf_buf_append_str(&d->line, "{\"anonymous_id\":");
    json_string(&d->line, id, strlen(id));
    hf_buf_append_str(&d->line, ",\"contact_id\":");
    const char *c = anon_state_contact(s);
    if (c)
        json_string(&d->line, c, strlen(c));
    else
        hf_buf_append_str(&d->line, "null");
    hf_buf_printf(&d->line, ",\"buffered\":%zu}", anon_state_buffered(s));
    anon_state_free(s);
    return 0;
}

static int dump_row(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    dump_ctx_t *d = opaque;
    hf_buf_reset(&d->line);
    if (strcmp(d->what, "offsets") == 0) {
        const char *k = key;
        const char *nul = memchr(k, 0, key_len);
        if (!nul || (size_t)(nul - k) + 5 != key_len || val_len != 8)
            return 0;
        const uint8_t *pb = (const uint8_t *)nul + 1;
        int32_t part =
            (int32_t)((uint32_t)pb[0] << 24 | (uint32_t)pb[1] << 16 | (uint32_t)pb[2] << 8 | pb[3]);
        hf_buf_append_str(&d->line, "{\"topic\":");
        json_string(&d->line, k, (size_t)(nul - k));
        hf_buf_printf(&d->line, ",\"partition\":%" PRId32 ",\"next_offset\":%" PRIu64 "}", part,
                      store_get_be64(val));
    } else if (strcmp(d->what, "metrics") == 0) {
        if (val_len != 8)
            return 0;
        hf_buf_append_str(&d->line, "{\"name\":");
        json_string(&d->line, key, key_len);
        hf_buf_printf(&d->line, ",\"value\":%" PRIu64 "}", store_get_be64(val));
    } else {
        char id[1024];
        if (key_len >= sizeof(id))
            return 0;
        memcpy(id, key, key_len);
        id[key_len] = 0;
        if (d->only_id && strcmp(d->only_id, id) != 0)
            return 0;
        int r = strcmp(d->what, "contacts") == 0   ? dump_contact(d, id, val, val_len)
                : strcmp(d->what, "accounts") == 0 ? dump_account(d, id, val, val_len)
                                                   : dump_identity(d, id, val, val_len);
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

static int cmd_dump(int argc, char **argv)
{
    const char *state_dir = NULL, *config_path = NULL, *only_id = NULL;
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:c:i:", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            state_dir = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'i':
            only_id = optarg;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!state_dir || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *what = argv[optind];
    store_cf_t cf;
    if (strcmp(what, "contacts") == 0)
        cf = STORE_CF_CONTACT;
    else if (strcmp(what, "accounts") == 0)
        cf = STORE_CF_ACCOUNT;
    else if (strcmp(what, "identities") == 0)
        cf = STORE_CF_IDENTITY;
    else if (strcmp(what, "offsets") == 0)
        cf = STORE_CF_OFFSETS;
    else if (strcmp(what, "metrics") == 0)
        cf = STORE_CF_METRICS;
    else {
        usage(stderr);
        return 2;
    }

    /* Scores and grades depend on the rules: never show them under rules other than
     * the ones the daemon runs.  The other tables need none. */
    hf_config_t *cfg = NULL;
    int r = 0;
    if (config_path || cf == STORE_CF_CONTACT || cf == STORE_CF_ACCOUNT)
        r = load_rules(&cfg, config_path);
    if (r != 0)
        return 2;

    char err[512];
    codec_t *codec = NULL;
    static const uint8_t unused_key[16];
    codec_opts_t copts = {.email_key = unused_key, .email_key_len = sizeof(unused_key)};
    store_t *store = NULL;
    int rc = 1;
    if (codec_new(&codec, &copts, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        goto out;
    }
    if (store_open(&store, state_dir, true, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        goto out;
    }
    dump_ctx_t d = {
        .what = what, .rules = cfg ? cfg->rules : NULL, .codec = codec, .only_id = only_id};
    r = store_scan(store, cf, dump_row, &d, err, sizeof(err));
    hf_buf_free(&d.line);
    hf_buf_free(&d.json);
    if (r < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        goto out;
    }
    rc = (only_id && d.rows == 0) ? 1 : 0;
    if (rc)
        fprintf(stderr, "handoffctl: no %s entry with id %s\n", what, only_id);
out:
    store_close(store);
    codec_free(codec);
    config_free(cfg);
    return rc;
}

/* ---- consume --------------------------------------------------------------- */

/* What librdkafka last complained about (from its log, written by its threads):
 * why a broker cannot be reached.  A connection failure ("FAIL") says more than
 * what follows it ("1/1 brokers are down"), so it is kept apart.  Nothing of it is
 * printed unless consume fails. */
typedef struct ctl_kafka_log {
    pthread_mutex_t lock;
    char fail[512];
    char other[512];
} ctl_kafka_log_t;

static void on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    ctl_kafka_log_t *kl = rd_kafka_opaque(rk);
    if (level > 4 || !kl) /* errors and warnings only */
        return;
    /* "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ..." */
    const char *text = buf[0] == '[' && strstr(buf, "]: ") ? strstr(buf, "]: ") + 3 : buf;
    pthread_mutex_lock(&kl->lock);
    char *into = strcmp(fac, "FAIL") == 0 ? kl->fail : kl->other;
    snprintf(into, sizeof kl->fail, "%s", text);
    pthread_mutex_unlock(&kl->lock);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends the value of @m to @line: the record as JSON when the codec knows its
 * schema, a JSON record passed through as it is, or null with why it is neither. */
static void consume_value(codec_t *codec, const rd_kafka_message_t *m, hf_buf_t *line,
                          hf_buf_t *json)
{
    char err[256];
    hf_buf_append_str(line, ",\"value\":");
    if (!m->payload) { /* a tombstone */
        hf_buf_append_str(line, "null");
        return;
    }
    hf_buf_reset(json);
    if (codec_record_to_json(codec, m->payload, m->len, json, err, sizeof(err)) == 0) {
        hf_buf_append(line, json->data, json->len);
        return;
    }
    size_t at = 0;
    const char *p = m->payload;
    bool looks_json = m->len && (p[0] == '{' || p[0] == '[');
    if (looks_json && json_compact(line, m->payload, m->len, &at) == 0)
        return; /* a record written with output.format: json */
    hf_buf_append_str(line, "null,\"value_error\":");
    hf_buf_t why = HF_BUF_INIT;
    if (looks_json)
        hf_buf_printf(&why, "not JSON (byte %zu), nor a record the codec reads: %s", at, err);
    else
        hf_buf_append_str(&why, err);
    json_string(line, why.data ? (const char *)why.data : err, why.len);
    hf_buf_free(&why);
    hf_buf_printf(line, ",\"value_size\":%zu,\"value_head_hex\":\"", m->len);
    const uint8_t *b = m->payload;
    for (size_t i = 0; i < m->len && i < CTL_VALUE_HEAD_BYTES; i++)
        hf_buf_printf(line, "%02x", b[i]);
    hf_buf_append_str(line, "\"");
}

static int cmd_consume(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL;
    long max = 0;
    double timeout_s = 10;
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"max", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "b:t:m:T:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'm':
            max = atol(optarg);
            break;
        case 'T':
            timeout_s = atof(optarg);
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!brokers || !topic || optind != argc || max < 0 || !(timeout_s > 0 && timeout_s <= 3600)) {
        usage(stderr);
        return 2;
    }

    char err[512];
    ctl_kafka_log_t klog = {.lock = PTHREAD_MUTEX_INITIALIZER};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
        kafka_conf_set(conf, "group.id", "handoffctl", err, sizeof(err)) ||
        kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
        fprintf(stderr, "handoffctl: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    /* librdkafka's own lines on stderr would bury the one that matters. */
    rd_kafka_conf_set_opaque(conf, &klog);
    rd_kafka_conf_set_log_cb(conf, on_kafka_log);
    char rkerr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (!rk) {
        fprintf(stderr, "handoffctl: %s\n", rkerr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    int32_t parts = 0;
    const char *names[1] = {topic};
    /* Metadata of every topic rather than of @topic: asking for one topic by name
     * creates it on a cluster with auto.create.topics.enable. */
    if (kafka_partition_counts(rk, names, 1, &parts, (int)(timeout_s * 1000), err, sizeof(err)) <
        0) {
        pthread_mutex_lock(&klog.lock);
        fprintf(stderr, "handoffctl: cannot reach the broker at %s within %g s: %s\n", brokers,
                timeout_s,
                klog.fail[0]    ? klog.fail
                : klog.other[0] ? klog.other
                                : err);
        pthread_mutex_unlock(&klog.lock);
        rd_kafka_destroy(rk);
        return 1;
    }
    if (parts <= 0) {
        fprintf(stderr, "handoffctl: topic %s: not found on the broker at %s\n", topic, brokers);
        rd_kafka_destroy(rk);
        return 1;
    }
    /* No group membership: read every partition from the start. */
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    for (int32_t i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(list, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);

    codec_t *codec = NULL;
    static const uint8_t unused_key[16];
    codec_opts_t copts = {.email_key = unused_key, .email_key_len = sizeof(unused_key)};
    if (codec_new(&codec, &copts, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        rd_kafka_destroy(rk);
        return 1;
    }
    hf_buf_t line = HF_BUF_INIT, json = HF_BUF_INIT, shown = HF_BUF_INIT;
    long seen = 0;
    double last = mono_s();
    while (max == 0 || seen < max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        double now = mono_s();
        if (!m) {
            if (now - last > timeout_s)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "handoffctl: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        last = now;
        hf_buf_reset(&line);
        hf_buf_append_str(&line, "{\"topic\":");
        json_string(&line, topic, strlen(topic));
        hf_buf_printf(&line,
                      ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"key\":", m->partition,
                      m->offset);
        if (m->key)
            json_string(&line, m->key, m->key_len);
        else
            hf_buf_append_str(&line, "null");
        consume_value(codec, m, &line, &json);
        hf_buf_append_str(&line, "}");
        hf_buf_reset(&shown);
        redact_emails(&shown, &line);
        hf_buf_append_str(&shown, "\n");
        if (shown.data)
            fwrite(shown.data, 1, shown.len, stdout);
        seen++;
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    hf_buf_free(&line);
    hf_buf_free(&json);
    hf_buf_free(&shown);
    codec_free(codec);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

static int outcome_row(void *opaque, const void *key, size_t key_len, const void *val,
                       size_t val_len)
{
    static const char prefix[] = "outcome.";
    if (val_len != 8 || key_len <= sizeof prefix - 1 || key_len > 4096 ||
        memcmp(key, prefix, sizeof prefix - 1) != 0)
        return 0;
    char name[4097];
    memcpy(name, (const char *)key + sizeof prefix - 1, key_len - (sizeof prefix - 1));
    name[key_len - (sizeof prefix - 1)] = 0;
    return outcomes_add(opaque, name, store_get_be64(val)) < 0 ? -ENOMEM : 0;
}

/* The outcomes table from a store (read-only: works beside a running daemon). */
static int cmd_outcomes(int argc, char **argv)
{
    const char *state_dir = NULL;
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        if (opt != 's') {
            usage(stderr);
            return 2;
        }
        state_dir = optarg;
    }
    if (!state_dir || optind != argc) {
        usage(stderr);
        return 2;
    }
    char err[512];
    store_t *st = NULL;
    if (store_open(&st, state_dir, true, err, sizeof err) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        return 1;
    }
    outcomes_t *o = outcomes_new();
    int r = o ? store_scan(st, STORE_CF_METRICS, outcome_row, o, err, sizeof err) : -ENOMEM;
    store_close(st);
    if (r != 0) {
        fprintf(stderr, "handoffctl: %s\n", r == -ENOMEM ? "out of memory" : err);
        outcomes_free(o);
        return 1;
    }
    outcomes_print(o, stdout);
    outcomes_free(o);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "dump") == 0)
        return cmd_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "consume") == 0)
        return cmd_consume(argc - 1, argv + 1);
    if (strcmp(argv[1], "outcomes") == 0)
        return cmd_outcomes(argc - 1, argv + 1);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
