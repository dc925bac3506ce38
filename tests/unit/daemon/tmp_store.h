/* A RocksDB store in a fresh temporary directory, removed afterwards: the fixture of
 * the daemon's store tests (test_store_cache.c, test_timers.c).  Include after
 * <cmocka.h>. */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/store.h"

typedef struct tmp_store {
    char dir[64];
    store_t *store;
} tmp_store_t;

static int tmp_store_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tmp_store_open(tmp_store_t *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/hf-store-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    char err[256];
    assert_int_equal(store_open(&t->store, t->dir, false, err, sizeof(err)), 0);
}

static inline void tmp_store_remove(tmp_store_t *t)
{
    store_close(t->store);
    t->store = NULL;
    nftw(t->dir, tmp_store_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
