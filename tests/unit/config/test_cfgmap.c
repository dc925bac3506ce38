/* Unit tests of the generic config engine (config/cfgmap.h, config/cfgsyntax.h) on a
 * table of its own, linked without the rules: a value type supplied through
 * callbacks, defaults, flags passed on to it, a tag read by a check, problems
 * rendered with their line and caret, secrets kept out of syntax errors, the
 * reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config/cfgmap.h"
#include "config/cfgsyntax.h"
#include "util/buf.h"

/* ---- a table of the test's own ---- */

typedef struct words {
    char **items;
    size_t count;
} words_t;

typedef struct server {
    char *name;
    int32_t port;
    int64_t timeout_ms;
    words_t aliases;
    char *greeting;       /* a custom value without set_default */
    uint32_t tagged_keys; /* the tags of the keys present, summed by the check */
} server_t;

static void words_clear(words_t *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->items[i]);
    free(w->items);
    w->items = NULL;
    w->count = 0;
}

static bool words_add(cfgmap_ctx_t *ctx, words_t *w, const char *s)
{
    char **grown = realloc(w->items, (w->count + 1) * sizeof(*grown));
    char *copy = grown ? cfgmap_strdup(ctx, s) : NULL;
    if (grown)
        w->items = grown;
    if (!copy) {
        ctx->oom = true;
        return false;
    }
    w->items[w->count++] = copy;
    return true;
}

/* A value type the engine does not know: one word or a list of words. */
static void words_parse(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                        const cfgmap_path_t *path, void *field)
{
    words_t *w = field;
    size_t count;
    if (!cfgmap_scalar_or_list(ctx, node, path, "expected a word or a list of words", "word",
                               e->flags & CFGMAP_ALLOW_EMPTY, &count))
        return;
    if (!(e->flags & CFGMAP_APPEND))
        words_clear(w);
    for (size_t i = 0; i < count; i++) {
        const char *s = cfgmap_scalar(cfgmap_element(ctx, node, i));
        if (!s || !words_add(ctx, w, s))
            return;
    }
}

/* Its default: words separated by spaces. */
static void words_default(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, void *field)
{
    words_t *w = field;
    words_clear(w);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", e->def);
    for (char *save = NULL, *s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save))
        if (!words_add(ctx, w, s))
            return;
}

/* A custom value whose default reaches the parser as a plain scalar. */
static void greeting_parse(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                           const cfgmap_path_t *path, void *field)
{
    char **greeting = field;
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node) || strncmp(s, "hello", 5) != 0) {
        cfgmap_error_got(ctx, node, path, "expected a greeting (hello ...)");
        return;
    }
    free(*greeting);
    *greeting = cfgmap_strdup(ctx, s);
}

#define WORDS .type = CFGMAP_CUSTOM, .parse = words_parse, .set_default = words_default

static const cfgmap_entry_t server_entries[] = {
    {.key = "name", .type = CFGMAP_STRING, .def = "main", .offset = offsetof(server_t, name)},
    {.key = "port",
     .type = CFGMAP_INT32,
     .def = "8080",
     .min = 1,
     .max = 65535,
     .offset = offsetof(server_t, port),
     .tag = 1,
     .help = "The port."},
    {.key = "timeout",
     .type = CFGMAP_DURATION,
     .def = "30s",
     .min = 1000,
     .max = 3600 * 1000,
     .offset = offsetof(server_t, timeout_ms),
     .tag = 2},
    {.key = "aliases",
     WORDS,
     .flags = CFGMAP_ALLOW_EMPTY,
     .def = "www web",
     .offset = offsetof(server_t, aliases),
     .doc_type = "word or list of words",
     .help = "Other names."},
    {.key = "more_aliases",
     WORDS,
     .flags = CFGMAP_APPEND,
     .offset = offsetof(server_t, aliases),
     .doc_type = "word or list of words"},
    {.key = "greeting",
     .type = CFGMAP_CUSTOM,
     .def = "hello there",
     .parse = greeting_parse,
     .offset = offsetof(server_t, greeting),
     .doc_type = "greeting"},
};

/* The engine hands the tags over untouched: here they mark keys worth counting. */
static void server_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         void *base);
static const cfgmap_table_t server_table = CFGMAP_TABLE(server_entries, server_check, NULL);

static void server_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         void *base)
{
    server_t *s = base;
    for (size_t i = 0; i < server_table.count; i++)
        if (cfgmap_lookup(ctx, map, server_table.entries[i].key, NULL))
            s->tagged_keys += server_table.entries[i].tag;
}

static const cfgmap_entry_t root_entries[] = {
    {.key = "server", .type = CFGMAP_MAP, .table = &server_table, .help = "The server."},
};
static const cfgmap_table_t root_table = CFGMAP_TABLE(root_entries, NULL, NULL);

static void server_free(server_t *s)
{
    free(s->name);
    free(s->greeting);
    words_clear(&s->aliases);
}

/* ---- running it ---- */

/* Parses @text, applies the root table into @s and returns the rendered problems
 * (malloc'd; "" when none).  A syntax error goes through cfgsyntax_report(). */
static char *run(const char *text, server_t *s, cfgsyntax_secret_fn secret)
{
    cfgmap_ctx_t ctx;
    cfgmap_ctx_init(&ctx, "t.yaml", text, strlen(text), "a password");
    yaml_parser_t parser;
    yaml_document_t doc;
    assert_true(yaml_parser_initialize(&parser));
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    bool parsed = yaml_parser_load(&parser, &doc);
    if (parsed) {
        ctx.doc = &doc;
        cfgmap_apply(&ctx, &root_table, yaml_document_get_root_node(&doc), NULL, s);
    } else {
        cfgsyntax_report(&ctx, &parser, secret);
    }
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(cfgmap_render(&ctx, &out), 0);
    hf_buf_append(&out, "", 0);
    assert_false(ctx.oom);
    if (parsed)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    cfgmap_ctx_fini(&ctx);
    return (char *)out.data;
}

static void expect(const char *text, const char *errors)
{
    server_t s = {0};
    char *got = run(text, &s, NULL);
    if (strcmp(got, errors) != 0)
        print_error("got:\n%s\nexpected:\n%s\n", got, errors);
    assert_string_equal(got, errors);
    free(got);
    server_free(&s);
}

/* ---- tests ---- */

static void test_defaults(void **state)
{
    (void)state;
    server_t s = {0};
    char *errors = run("{}\n", &s, NULL);
    assert_string_equal(errors, "");
    assert_string_equal(s.name, "main");
    assert_int_equal(s.port, 8080);
    assert_int_equal(s.timeout_ms, 30000);
    /* set_default read .def; the parser got "hello there" as a plain scalar */
    assert_int_equal(s.aliases.count, 2);
    assert_string_equal(s.aliases.items[0], "www");
    assert_string_equal(s.aliases.items[1], "web");
    assert_string_equal(s.greeting, "hello there");
    assert_int_equal(s.tagged_keys, 0);
    free(errors);
    server_free(&s);
}

static void test_custom_values(void **state)
{
    (void)state;
    server_t s = {0};
    char *errors = run("server:\n  aliases: [a, b]\n  more_aliases: c\n  port: 99\n", &s, NULL);
    assert_string_equal(errors, "");
    /* the value replaced the default, then CFGMAP_APPEND reached the parser */
    assert_int_equal(s.aliases.count, 3);
    assert_string_equal(s.aliases.items[2], "c");
    assert_int_equal(s.port, 99);
    assert_int_equal(s.tagged_keys, 1);
    free(errors);
    server_free(&s);

    /* CFGMAP_ALLOW_EMPTY reached it too */
    memset(&s, 0, sizeof s);
    errors = run("server:\n  aliases: []\n  timeout: 1m\n", &s, NULL);
    assert_string_equal(errors, "");
    assert_int_equal(s.aliases.count, 0);
    assert_int_equal(s.timeout_ms, 60000);
    assert_int_equal(s.tagged_keys, 2);
    free(errors);
    server_free(&s);
}

static void test_problems(void **state)
{
    (void)state;
    expect("server:\n  more_aliases: []\n  aliases: {a: 1}\n  greeting: bye\n",
           "t.yaml:2:17: server.more_aliases: expected at least one word\n"
           "    more_aliases: []\n"
           "                  ^\n"
           "t.yaml:3:12: server.aliases: expected a word or a list of words, got a map\n"
           "    aliases: {a: 1}\n"
           "             ^\n"
           "t.yaml:4:13: server.greeting: expected a greeting (hello ...), got \"bye\"\n"
           "    greeting: bye\n"
           "              ^\n");
    expect("server:\n  prot: 80\n  timeout: 2h\n",
           "t.yaml:2:3: server: unknown key \"prot\" (did you mean \"port\"?); allowed: name, "
           "port, timeout, aliases, more_aliases, greeting\n"
           "    prot:\n"
           "    ^\n"
           "t.yaml:3:12: server.timeout: expected duration (500ms, 30s, 15m, 4h, 14d, 2w) in "
           "[1s, 1h], got \"2h\"\n"
           "    timeout: 2h\n"
           "             ^\n");
}

/* The caller says which scalars are secrets; the line of a syntax error in one is
 * not shown, and the message says what it holds. */
static bool password_secret(const char *const *keys, size_t depth, bool is_key)
{
    return depth >= 2 && keys[0] && strcmp(keys[0], "server") == 0 && keys[1] &&
           strcmp(keys[1], "password") == 0 && !is_key;
}

static void test_syntax_secret(void **state)
{
    (void)state;
    const char *text = "server:\n  password: [s3cr3t, @x]\n";
    server_t s = {0};
    char *shown = run(text, &s, NULL);
    assert_non_null(strstr(shown, "t.yaml:2:22: server.password[1]: found character that cannot "
                                  "start any token"));
    assert_non_null(strstr(shown, "    password: [s3cr3t, @x]\n"));
    free(shown);
    char *hidden = run(text, &s, password_secret);
    assert_non_null(strstr(hidden, "t.yaml:2:22: server.password[1]: found character that cannot "
                                   "start any token"));
    assert_null(strstr(hidden, "s3cr3t"));
    assert_non_null(strstr(hidden, "    (line not shown: it holds a password)\n"));
    free(hidden);
    server_free(&s);
}

static void test_describe(void **state)
{
    (void)state;
    hf_buf_t out = HF_BUF_INIT;
    cfgmap_describe(&out, &root_table, "");
    hf_buf_append(&out, "", 0);
    const char *ref = (const char *)out.data;
    assert_non_null(strstr(ref, "### `server`\n\nThe server.\n\n"));
    assert_non_null(strstr(ref, "| `server.port` | integer in [1, 65535] | `8080` | The port. |"));
    assert_non_null(strstr(ref, "| `server.timeout` | duration in [1s, 1h] | `30s` |  |"));
    assert_non_null(
        strstr(ref, "| `server.aliases` | word or list of words | `www web` | Other names. |"));
    hf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_custom_values),
        cmocka_unit_test(test_problems), cmocka_unit_test(test_syntax_secret),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
