/* Helpers shared by the config loader's unit tests: load a text, expect exact
 * errors.  Inline so that a program using only some of them builds without warnings. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "config/config.h"

typedef struct loaded {
    hf_config_t *cfg;
    hf_buf_t errors;
    int r;
} loaded_t;

static inline loaded_t load(const char *text)
{
    loaded_t l = {NULL, HF_BUF_INIT, 0};
    l.r = config_load_string(&l.cfg, "t.yaml", text, strlen(text), &l.errors);
    return l;
}

static inline const char *errs(const loaded_t *l)
{
    return l->errors.data ? (const char *)l->errors.data : "";
}

static inline void drop(loaded_t *l)
{
    config_free(l->cfg);
    hf_buf_free(&l->errors);
}

/* Loads @text, which must fail with exactly @expected as the error text. */
static inline void expect_errors(const char *text, int problems, const char *expected)
{
    loaded_t l = load(text);
    if (strcmp(errs(&l), expected) != 0 || l.r != problems)
        print_error("got r=%d:\n%s\nexpected r=%d:\n%s\n", l.r, errs(&l), problems, expected);
    assert_int_equal(l.r, problems);
    assert_null(l.cfg);
    assert_string_equal(errs(&l), expected);
    drop(&l);
}

/* Loads @text, which must be valid. */
static inline loaded_t load_ok(const char *text)
{
    loaded_t l = load(text);
    if (l.r != 0)
        print_error("unexpected problems:\n%s\n", errs(&l));
    assert_int_equal(l.r, 0);
    assert_non_null(l.cfg);
    return l;
}

/* Loads @text, which must fail; its errors must contain every @needle. */
static inline void expect_containing(const char *text, int problems, const char *needle, ...)
{
    loaded_t l = load(text);
    if (l.r != problems)
        print_error("got r=%d:\n%s\n", l.r, errs(&l));
    assert_int_equal(l.r, problems);
    va_list ap;
    va_start(ap, needle);
    for (const char *n = needle; n; n = va_arg(ap, const char *)) {
        if (!strstr(errs(&l), n))
            print_error("missing \"%s\" in:\n%s\n", n, errs(&l));
        assert_non_null(strstr(errs(&l), n));
    }
    va_end(ap);
    drop(&l);
}
