/* handoffctl: the operator's tool.
 *
 *   handoffctl check FILE
 *   handoffctl dump --state DIR [-c FILE] contacts|accounts|identities|offsets|metrics [--id ID]
 *   handoffctl outcomes --state DIR
 *   handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]
 *
 * dump opens the store read-only, so it works beside a running daemon. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "daemon/codec.h"
#include "daemon/kafka.h"
#include "daemon/outcomes.h"
#include "daemon/store.h"
#include "processors/account.h"
#include "processors/contact.h"
#include "processors/identity.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoffctl check FILE\n"
        "       handoffctl dump --state DIR [-c FILE] contacts|accounts|identities|offsets|metrics "
        "[--id ID]\n"
        "       handoffctl outcomes --state DIR\n"
        "       handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]\n");
}

/* A JSON string literal of @len bytes of @s (control bytes and non-UTF-8 escaped
 * as \u00XX). */
static void json_string(hf_buf_t *out, const char *s, size_t len)
{
    hf_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            hf_buf_printf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            hf_buf_printf(out, "\\u%04x", c);
        else
            hf_buf_append(out, &s[i], 1);
    }
    hf_buf_append(out, "\"", 1);
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    hf_config_t *cfg = NULL;
    if (config_load_reporting(&cfg, argv[1], stderr) != 0)
        return 2;
    config_print_ok(cfg, argv[1], stdout);
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

    hf_config_t *cfg = NULL;
    int r = config_load_reporting(&cfg, config_path, stderr);
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
    dump_ctx_t d = {.what = what, .rules = cfg->rules, .codec = codec, .only_id = only_id};
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
    if (!brokers || !topic || optind != argc || timeout_s <= 0 || timeout_s > 3600) {
        usage(stderr);
        return 2;
    }

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
        kafka_conf_set(conf, "group.id", "handoffctl", err, sizeof(err)) ||
        kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
        fprintf(stderr, "handoffctl: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    char rkerr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (!rk) {
        fprintf(stderr, "handoffctl: %s\n", rkerr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    int32_t parts = 0;
    const char *names[1] = {topic};
    if (kafka_partition_counts(rk, names, 1, &parts, 10000, err, sizeof(err)) < 0 || parts <= 0) {
        fprintf(stderr, "handoffctl: topic %s: %s\n", topic, parts <= 0 ? "not found" : err);
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
    hf_buf_t line = HF_BUF_INIT, json = HF_BUF_INIT;
    long seen = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double last = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    while (max == 0 || seen < max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
        hf_buf_append_str(&line, ",\"value\":");
        hf_buf_reset(&json);
        if (m->payload &&
            codec_record_to_json(codec, m->payload, m->len, &json, err, sizeof(err)) == 0)
            hf_buf_append(&line, json.data, json.len);
        else if (m->payload && m->len && ((const char *)m->payload)[0] == '{')
            hf_buf_append(&line, m->payload, m->len); /* outputs written as JSON */
        else
            hf_buf_append_str(&line, "null");
        hf_buf_append_str(&line, "}\n");
        fwrite(line.data, 1, line.len, stdout);
        seen++;
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    hf_buf_free(&line);
    hf_buf_free(&json);
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
