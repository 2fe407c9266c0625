/* fuzz_main.c — standalone replay driver (any compiler, no libFuzzer).
 *
 *   fuzz-<target> PATH...      run every regular file of each PATH (a file or
 *                              a directory, not recursive) through the target
 *
 * Each input is copied to the end of a read-only mapping that is followed by
 * an inaccessible guard page (as picohttpparser's test.c does), so reading a
 * single byte past the input faults even in a build without ASan, and writing
 * into the input faults too. Exits 0 when every input ran, 1 when a path
 * could not be read or held no input (an empty corpus is a build mistake,
 * not a pass); a bug in the code under test crashes or aborts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Largest input replayed; corpus files are small (libFuzzer's default
 * -max_len is 4096), this only bounds a stray big file. */
#define REPLAY_MAX_INPUT (16u << 20)

static int read_file(const char *path, uint8_t **out, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > (off_t)REPLAY_MAX_INPUT) {
        close(fd);
        return -EFBIG;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    size_t got = 0;
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (!buf)
        return -EIO;
    *out = buf;
    *len = n;
    return 0;
}

/* Run one input placed so that its last byte is the last byte before a
 * PROT_NONE page. */
static int run_guarded(const uint8_t *data, size_t len) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (len + page - 1) / page * page;
    if (body == 0)
        body = page;
    uint8_t *map = mmap(NULL, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (map == MAP_FAILED)
        return -ENOMEM;
    uint8_t *guard = map + body;
    uint8_t *start = guard - len;
    if (len)
        memcpy(start, data, len);
    if (mprotect(guard, page, PROT_NONE) < 0 || mprotect(map, body, PROT_READ) < 0) {
        munmap(map, body + page);
        return -errno;
    }
    eddy_fuzz_one(start, len);
    munmap(map, body + page);
    return 0;
}

static int run_file(const char *path, int *count) {
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = read_file(path, &buf, &len);
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(-r));
        return r;
    }
    if (getenv("EDDY_FUZZ_VERBOSE"))
        fprintf(stderr, "running %s (%zu bytes)\n", path, len);
    r = run_guarded(buf, len);
    free(buf);
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(-r));
        return r;
    }
    (*count)++;
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every regular file of @p dir, in name order (reproducible output). */
static int run_dir(const char *dir, int *count) {
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                r = -ENOMEM;
                break;
            }
            names = nn;
        }
        size_t pl = strlen(dir) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(pl);
        if (!names[n]) {
            r = -ENOMEM;
            break;
        }
        snprintf(names[n], pl, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (r == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            r = run_file(names[i], count);
        free(names[i]);
    }
    free(names);
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    if (eddy_fuzz_init() != 0) {
        fprintf(stderr, "%s: init failed\n", argv[0]);
        return 1;
    }
    int count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int r = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count);
        if (r < 0)
            return 1;
    }
    printf("%s: %d inputs replayed\n", argv[0], count);
    return count > 0 ? 0 : 1;
}
