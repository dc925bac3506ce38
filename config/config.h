/* The daemon's configuration: one YAML file (libyaml), validated in full at load.
 *
 * config_load() reads the file, checks every key against the declarative tables of
 * its sections (config/sections/, one file per top-level key: type, default, bounds,
 * help) and compiles the rules.  Every problem is reported, not only the first, each
 * as
 *
 *     handoff.yaml:12:18: scoring.rules[3].points: expected integer in [-1000, 1000], got "1O"
 *        points: 1O
 *                ^
 *
 * Unknown keys are rejected with the list of allowed ones; repeated keys too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include "processors/rules/rules.h"

/* The rules file handoffd and handoffctl read when neither -c nor $HANDOFF_CONFIG
 * names one: the installed file, <sysconfdir>/handoff/handoff.yaml, which meson
 * passes as a compile argument of the config library (config/meson.build).  The
 * value below is for a build outside meson only (the fuzz targets' libFuzzer line),
 * which never reads the default: /etc is where a prefix of /usr installs it. */
#ifndef HF_CONFIG_DEFAULT_PATH
#define HF_CONFIG_DEFAULT_PATH "/etc/handoff/handoff.yaml"
#endif

/* The environment variable that names the rules file when the command line does
 * not: a service manager's Environment=, a checkout's `HANDOFF_CONFIG=config/
 * handoff.yaml`, the tests. */
#define HF_CONFIG_ENV "HANDOFF_CONFIG"

/* The rules file to read when the command line names none: $HANDOFF_CONFIG when it
 * is set and not empty, else HF_CONFIG_DEFAULT_PATH.  The string is the
 * environment's or a literal: never freed.  Any thread (getenv only). */
static inline const char *config_default_path(void)
{
    const char *env = getenv(HF_CONFIG_ENV);
    return env && *env ? env : HF_CONFIG_DEFAULT_PATH;
}

typedef enum hf_output_format {
    HF_OUTPUT_AVRO = 0,
    HF_OUTPUT_JSON,
} hf_output_format_t;

typedef enum hf_guarantee {
    HF_GUARANTEE_AT_LEAST_ONCE = 0, /* exactly-once state, idempotent outputs */
    HF_GUARANTEE_EXACTLY_ONCE,      /* Kafka transactions: not built; a loaded config never
                                       has it (validation refuses the file) */
} hf_guarantee_t;

typedef enum hf_log_format {
    HF_LOG_TEXT = 0,
    HF_LOG_JSON,
} hf_log_format_t;

/* A librdkafka property passed through verbatim (security.protocol, sasl.*, ...). */
typedef struct hf_kafka_prop {
    char *name;
    char *value;
} hf_kafka_prop_t;

typedef struct hf_topics {
    /* inputs (docs/CONTRACTS.md) */
    char *web_visits;         /* mkt.web.visits */
    char *form_submissions;   /* mkt.form.submissions */
    char *content_downloads;  /* mkt.content.downloads */
    char *webinar_attendance; /* mkt.webinar.attendance */
    char *email_engagement;   /* mkt.email.engagement */
    char *identity;           /* mkt.identity */
    char *sales_activity;     /* sales.activity */
    /* outputs */
    char *conversation_ready; /* handoff.conversation-ready */
    char *sla_breach;         /* handoff.sla-breach */
    char *lifecycle;          /* handoff.lifecycle */
    char *dlq;                /* handoff.dlq */
    char *digest;             /* handoff.digest */
    /* internal, derived from app.id: "<app>.by-anonymous" etc. */
    char *by_anonymous;
    char *by_contact;
    char *by_account;
} hf_topics_t;

/* http: the HTTP server of handoffd (daemon/http.h, docs/HTTP.md). */
typedef struct hf_http_config {
    char *listen;     /* "host:port" as written; NULL when "off" */
    char *token_file; /* with ${VAR} expanded; NULL: no token (loopback only) */
    uint32_t max_request_bytes;
    int64_t timeout_ms; /* idle connections are closed after this */
    char *advertised;   /* "host:port" other instances use; NULL: the listen address */
} hf_http_config_t;

/* An http.listen address, parsed. */
typedef struct hf_http_listen {
    char host[48]; /* numeric: "127.0.0.1", "::1" (no brackets) */
    uint16_t port; /* 0: any free port, chosen by the kernel */
    bool ipv6;
    bool loopback; /* 127.0.0.0/8 or ::1 */
} hf_http_listen_t;

/* Parses @text as "host:port" with host an IPv4 address, "[IPv6 address]" or
 * "localhost" (127.0.0.1), and port in [0, 65535].  Returns NULL and fills *@out,
 * or says what is wrong.  Pure (config/sections/http.c). */
const char *config_http_parse_listen(const char *text, hf_http_listen_t *out);

typedef struct hf_config {
    char *path; /* the file it was loaded from */

    char *app_id; /* consumer group id and prefix of internal topics */

    /* kafka */
    char *brokers;
    int32_t partitions; /* partition count of every topic (launcher creates, daemon checks) */
    hf_guarantee_t guarantee;
    hf_kafka_prop_t *kafka_props;
    size_t kafka_prop_count;
    hf_topics_t topics;

    /* state */
    char *state_dir;
    int64_t commit_interval_ms;
    uint32_t cache_max_entries; /* entity states kept in memory between commits */

    /* ordering: the merge of partitions in event-time order (daemon/pgroup.h) */
    struct {
        int64_t allowed_lateness_ms;
        int64_t idle_timeout_ms;
    } ordering;

    /* outputs */
    hf_output_format_t output_format;

    /* privacy: key for the e-mail hash; created with random bytes if missing */
    char *email_hash_key_file; /* default "<state_dir>/email-hash.key" */

    /* limits on input records; a record over them goes to the DLQ */
    uint32_t max_record_bytes;
    uint32_t max_field_bytes;
    uint32_t max_tags;

    /* logging */
    int log_level; /* LOG_LEVEL_* of daemon/log.h: 0 debug, 1 info, 2 warn, 3 error */
    hf_log_format_t log_format;

    hf_http_config_t http;

    hf_rules_t *rules; /* owned */
} hf_config_t;

/* Loads and validates @path.  On success *out is a new config owned by the caller
 * and 0 is returned.  Otherwise returns the number of problems found (positive;
 * each formatted into @errors as shown above), or a negative errno when the file
 * cannot be read (also described in @errors).  *out is written only on success. */
int config_load(hf_config_t **out, const char *path, hf_buf_t *errors);

/* Same, from memory; @name is used in messages in place of a path. */
int config_load_string(hf_config_t **out, const char *name, const char *text, size_t len,
                       hf_buf_t *errors);

/* For programs: loads @path (NULL: the built-in defaults), writing every problem,
 * then "PATH: N problems" to @errout.  Returns 0 with *out set, a positive count of
 * problems, or a negative errno. */
int config_load_reporting(hf_config_t **out, const char *path, FILE *errout);

/* One problem of a rules file, as config_load_each() hands it over: what
 * config_load() renders as "file:line:column: path: message", without the quoted
 * source line (so a secret of the file never reaches it). */
typedef struct config_problem {
    const char *file;    /* the path given */
    size_t line, column; /* 1-based; both 0 for a problem of the whole file */
    const char *path;    /* the key, "scoring.rules[3].points"; "" for none */
    const char *message; /* what is wrong */
} config_problem_t;

/* Receives one problem; its strings are valid during the call only. */
typedef void (*config_problem_fn)(void *opaque, const config_problem_t *p);

/* config_load(), with the problems handed to @fn as items (a structured log) in the
 * order config_load() renders them, at most as many as it renders (the return value
 * counts them all).  A file that cannot be read is one problem without a position.
 * Returns what config_load() returns; *out is written only on success. */
int config_load_each(hf_config_t **out, const char *path, config_problem_fn fn, void *opaque);

void config_free(hf_config_t *cfg);

/* "PATH: ok (N scoring rules, ...)": what a valid file compiled to, for --check. */
void config_print_ok(const hf_config_t *cfg, const char *path, FILE *out);

/* Number of topics config_topics() knows: 7 inputs, 4 outputs, 3 internal. */
#define CONFIG_TOPIC_COUNT 15

/* Every topic of the config (inputs, outputs, internal) in a fixed order, written to
 * @names (at most @max of them).  Returns the number written.  The pointers belong
 * to @cfg. */
size_t config_topics(const hf_config_t *cfg, const char **names, size_t max);

/* Appends the Markdown reference of every key (type, default, bounds, meaning),
 * generated from the loader's tables; docs/CONFIG.md embeds it. */
void config_describe(hf_buf_t *out);
