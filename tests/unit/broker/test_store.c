/* test_store.c — LMDB environment: open/close, meta round trip, error
 * mapping, extra databases, the reusable read transaction. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "unit.h"

static char tmp[64];

static void path(char *out, size_t cap, const char *sub) {
    snprintf(out, cap, "%s/%s", tmp, sub);
}

static void test_open_meta(void) {
    char dir[256];
    path(dir, sizeof dir, "a/b/data"); /* parents are created */
    br_store *s = NULL;
    br_store_opts o = {.dir = dir, .sync = true};
    CHECK_EQ_INT(br_store_open(&o, &s), 0);
    if (!s)
        return;
    CHECK(br_store_is_sync(s));
    void *v = NULL;
    size_t n = 0;
    CHECK_EQ_INT(br_store_meta_get(s, "broker.id", &v, &n), -ENOENT);
    CHECK_EQ_INT(br_store_meta_put(s, "broker.id", "42", 2), 0);
    CHECK_EQ_INT(br_store_meta_put(s, "empty", "", 0), 0);
    CHECK_EQ_INT(br_store_meta_get(s, "broker.id", &v, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_MEM(v, "42", 2);
    free(v);
    CHECK_EQ_INT(br_store_meta_put(s, "broker.id", "43", 2), 0);
    br_store_stats st;
    CHECK_EQ_INT(br_store_get_stats(s, &st), 0);
    CHECK_EQ_INT(st.map_size, (size_t)8 << 30);
    CHECK(st.page_size >= 4096);
    CHECK(st.max_readers > 0);
    MDB_dbi extra;
    CHECK_EQ_INT(br_store_open_db(s, "offsets", &extra), 0);
    CHECK(br_store_dbi(s, "offsets") == extra);
    CHECK(br_store_dbi(s, "meta") != br_store_dbi(s, "log"));
    CHECK(br_store_dbi(s, "parts") != br_store_dbi(s, "log"));
    br_store_close(s);
    br_store_close(NULL);

    s = NULL;
    o.sync = false;
    CHECK_EQ_INT(br_store_open(&o, &s), 0);
    if (!s)
        return;
    CHECK(!br_store_is_sync(s));
    CHECK_EQ_INT(br_store_meta_get(s, "broker.id", &v, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_MEM(v, "43", 2);
    free(v);
    CHECK_EQ_INT(br_store_meta_get(s, "empty", &v, &n), 0);
    CHECK_EQ_INT(n, 0);
    free(v);
    br_store_close(s);
}

static void test_open_errors(void) {
    char file[256];
    path(file, sizeof file, "plainfile");
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    br_store *s = NULL;
    br_store_opts o = {.dir = file, .sync = true};
    CHECK_EQ_INT(br_store_open(&o, &s), -ENOTDIR);
    char below[300];
    snprintf(below, sizeof below, "%s/sub", file);
    o.dir = below;
    CHECK_EQ_INT(br_store_open(&o, &s), -ENOTDIR);
    o.dir = "";
    CHECK_EQ_INT(br_store_open(&o, &s), -EINVAL);
    CHECK(s == NULL);
}

static void test_error_map(void) {
    CHECK_EQ_INT(br_store_error(MDB_SUCCESS), 0);
    CHECK_EQ_INT(br_store_error(MDB_NOTFOUND), -ENOENT);
    CHECK_EQ_INT(br_store_error(MDB_MAP_FULL), -ENOSPC);
    CHECK_EQ_INT(br_store_error(MDB_KEYEXIST), -EEXIST);
    CHECK_EQ_INT(br_store_error(MDB_READERS_FULL), -EAGAIN);
    CHECK_EQ_INT(br_store_error(MDB_CORRUPTED), -EIO);
    CHECK_EQ_INT(br_store_error(MDB_PAGE_NOTFOUND), -EIO);
    CHECK_EQ_INT(br_store_error(MDB_BAD_TXN), -EIO);
    CHECK_EQ_INT(br_store_error(MDB_TXN_FULL), -EIO);
    CHECK_EQ_INT(br_store_error(ENOMEM), -ENOMEM);
    CHECK_EQ_INT(br_store_error(EACCES), -EACCES);
}

static void test_read_txn(void) {
    char dir[256];
    path(dir, sizeof dir, "rtxn");
    br_store *s = NULL;
    br_store_opts o = {.dir = dir, .map_size = 16 << 20, .sync = false};
    CHECK_EQ_INT(br_store_open(&o, &s), 0);
    if (!s)
        return;
    br_store_stats st;
    CHECK_EQ_INT(br_store_get_stats(s, &st), 0);
    CHECK_EQ_INT(st.map_size, 16 << 20);
    MDB_txn *a = NULL, *b = NULL;
    CHECK_EQ_INT(br_store_read_begin(s, &a), 0);
    CHECK_EQ_INT(br_store_read_begin(s, &b), 0); /* nested: a fresh one */
    CHECK(a != b);
    br_store_read_end(s, b);
    br_store_read_end(s, a);
    /* A write after the reset is visible to the renewed handle. */
    CHECK_EQ_INT(br_store_meta_put(s, "k", "v1", 2), 0);
    for (int i = 0; i < 3; i++) {
        MDB_txn *t = NULL;
        CHECK_EQ_INT(br_store_read_begin(s, &t), 0);
        CHECK(t == a); /* the same handle is reused */
        MDB_val k = {1, "k"}, v;
        CHECK_EQ_INT(mdb_get(t, br_store_dbi(s, "meta"), &k, &v), 0);
        br_store_read_end(s, t);
    }
    br_store_read_end(s, NULL);
    br_store_close(s);
}

int main(void) {
    if (!unit_tmpdir(tmp, sizeof tmp, "test-store")) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_open_meta);
    RUN(test_open_errors);
    RUN(test_error_map);
    RUN(test_read_txn);
    unit_tmpdir_remove(tmp);
    return unit_done();
}
