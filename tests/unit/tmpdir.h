/* tmpdir.h — scratch directories for tests and benchmarks that need a data
 * directory (LMDB environments, certificates). */
#ifndef EDDY_TEST_TMPDIR_H
#define EDDY_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make a fresh directory /tmp/eddy-<name>-<6 random characters> for a test's
 * data, into @p buf. Returns buf, or NULL (errno set) like mkdtemp(). */
static inline char *unit_tmpdir(char *buf, size_t cap, const char *name) {
    int n = snprintf(buf, cap, "/tmp/eddy-%s-", name);
    if (n < 0 || (size_t)n + 7 > cap)
        return NULL;
    memset(buf + n, 'X', 6); /* mkdtemp's template suffix */
    buf[n + 6] = '\0';
    return mkdtemp(buf);
}

static inline int unit_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

/* Remove a directory made by unit_tmpdir and everything below it. */
static inline void unit_tmpdir_remove(const char *dir) {
    nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
