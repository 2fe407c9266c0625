/* store.c — the broker's LMDB environment (see store.h).
 *
 * MDB_NOTLS: the loop thread keeps a reset/renewed read transaction while
 * the writer thread writes; without NOTLS a reader slot would be tied to the
 * thread rather than the transaction handle. */
#include "store.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <event2/buffer.h>
#include <event2/event-config.h>

#define STORE_MAX_DBS 16
#define STORE_DEFAULT_MAP ((size_t)8 << 30)

struct store_db {
    char *name;
    MDB_dbi dbi;
};

struct br_store {
    MDB_env *env;
    bool sync;
    /* The built-in databases, fixed after open: the writer thread looks them
     * up without touching dbs[] (which br_store_open_db may extend). */
    MDB_dbi meta_dbi, parts_dbi, log_dbi;
    struct store_db dbs[STORE_MAX_DBS];
    int n_dbs;
    /* The loop thread's reusable read transaction: NULL until first use,
     * reset between uses; busy while handed out. */
    MDB_txn *rtxn;
    bool rtxn_busy;
    void *ctx[BR_STORE_CTX_MAX];
    void (*ctx_free[BR_STORE_CTX_MAX])(void *);
    /* Pins: the last unref may come from whichever thread drains the
     * evbuffer, so the free list and the count are under a lock. */
    pthread_mutex_t pin_lock;
    br_pin *pin_free; /* ended pins whose transaction is reset, for renew */
    int pins_live;
    /* The data file as one sendfile segment over the whole map (NULL when
     * libevent has no sendfile); map is where LMDB mapped it. */
    struct evbuffer_file_segment *file_seg;
    const uint8_t *map;
    size_t map_size;
    atomic_uint_least64_t file_bytes;
};

struct br_pin {
    br_store *store;
    MDB_txn *txn;
    atomic_int refs;
    br_pin *next; /* on the free list */
};

int br_store_error(int mdb_rc) {
    switch (mdb_rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return -ENOENT;
    case MDB_MAP_FULL:
        return -ENOSPC;
    case MDB_KEYEXIST:
        return -EEXIST;
    case MDB_READERS_FULL:
        /* All reader slots taken: transient, worth a retry by the caller. */
        return -EAGAIN;
    default:
        break;
    }
    /* LMDB passes system errors through as positive errno values; its own
     * codes are negative (MDB_KEYEXIST .. MDB_LAST_ERRCODE). */
    if (mdb_rc > 0)
        return -mdb_rc;
    return -EIO;
}

/* mkdir -p: create every missing component of @p dir. */
static int mkdir_p(const char *dir) {
    size_t n = strlen(dir);
    if (n == 0)
        return -EINVAL;
    char *path = malloc(n + 1);
    if (!path)
        return -ENOMEM;
    memcpy(path, dir, n + 1);
    int r = 0;
    for (size_t i = 1; i <= n && r == 0; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            r = -errno;
        path[i] = saved;
    }
    if (r == 0) {
        struct stat st;
        if (stat(dir, &st) < 0)
            r = -errno;
        else if (!S_ISDIR(st.st_mode))
            r = -ENOTDIR;
    }
    free(path);
    return r;
}

static int add_db(br_store *s, MDB_txn *txn, const char *name, MDB_dbi *out) {
    if (s->n_dbs == STORE_MAX_DBS)
        return -ENOSPC;
    size_t n = strlen(name);
    char *copy = malloc(n + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, name, n + 1);
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi);
    if (rc) {
        free(copy);
        return br_store_error(rc);
    }
    s->dbs[s->n_dbs].name = copy;
    s->dbs[s->n_dbs].dbi = dbi;
    s->n_dbs++;
    *out = dbi;
    return 0;
}

static int open_builtin_dbs(br_store *s) {
    static const char *const names[] = {"meta", "parts", "log"};
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return br_store_error(rc);
    MDB_dbi *const slots[] = {&s->meta_dbi, &s->parts_dbi, &s->log_dbi};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int r = add_db(s, txn, names[i], slots[i]);
        if (r < 0) {
            mdb_txn_abort(txn);
            return r;
        }
    }
    return br_store_error(mdb_txn_commit(txn));
}

#ifdef EVENT__HAVE_SENDFILE
/* Where the data file @p fd is mapped: LMDB does not say (mdb_env_info's
 * me_mapaddr is only the MDB_FIXEDMAP address), /proc/self/maps does. */
static const uint8_t *find_map(int fd, size_t size) {
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return NULL;
    const uint8_t *found = NULL;
    char line[512];
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long start, end, off, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &start, &end, &off, &maj, &min, &ino) == 6 &&
            off == 0 && ino == (unsigned long)st.st_ino && major(st.st_dev) == maj &&
            minor(st.st_dev) == min && end - start == size)
            found = (const uint8_t *)(uintptr_t)start;
    }
    fclose(f);
    return found;
}
#endif

/* Without sendfile, or when the map cannot be found, file_seg stays NULL and
 * reads go by reference or copy. */
static void open_file_segment(br_store *s) {
#ifdef EVENT__HAVE_SENDFILE
    MDB_envinfo info;
    int fd;
    if (mdb_env_info(s->env, &info) || mdb_env_get_fd(s->env, &fd))
        return;
    s->map_size = info.me_mapsize;
    if (!(s->map = find_map(fd, s->map_size))) {
        LOG_WARN("store", "data file map not found: fetches copy instead of sendfile()");
        return;
    }
    /* With sendfile usable, libevent only records fd, offset and length
     * here: no mmap, no read. LMDB keeps the fd open until
     * br_store_close. */
    s->file_seg = evbuffer_file_segment_new(fd, 0, (ev_off_t)s->map_size, EVBUF_FS_DISABLE_MMAP);
#endif
}

int br_store_open(const br_store_opts *opts, br_store **out) {
    int r = mkdir_p(opts->dir);
    if (r < 0)
        return r;
    br_store *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->sync = opts->sync;
    pthread_mutex_init(&s->pin_lock, NULL);
    int rc = mdb_env_create(&s->env);
    if (rc) {
        pthread_mutex_destroy(&s->pin_lock);
        free(s);
        return br_store_error(rc);
    }
    rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS);
    /* room for every pin next to the loop's, the writer's and the tools' */
    if (!rc)
        rc = mdb_env_set_maxreaders(s->env, 126 + BR_STORE_PINS_MAX);
    if (!rc)
        rc = mdb_env_set_mapsize(s->env, opts->map_size ? opts->map_size : STORE_DEFAULT_MAP);
    unsigned flags = MDB_NOTLS | (opts->sync ? 0 : MDB_NOSYNC);
    if (!rc)
        rc = mdb_env_open(s->env, opts->dir, flags, 0644);
    if (rc) {
        r = br_store_error(rc);
        goto fail;
    }
    /* Reader slots left by a crashed process would pin old pages forever. */
    int dead;
    mdb_reader_check(s->env, &dead);
    r = open_builtin_dbs(s);
    if (r < 0)
        goto fail;
    open_file_segment(s);
    *out = s;
    return 0;
fail:
    for (int i = 0; i < s->n_dbs; i++)
        free(s->dbs[i].name);
    mdb_env_close(s->env);
    pthread_mutex_destroy(&s->pin_lock);
    free(s);
    return r;
}

void br_store_close(br_store *s) {
    if (!s)
        return;
    for (int i = BR_STORE_CTX_MAX - 1; i >= 0; i--) {
        if (s->ctx[i] && s->ctx_free[i])
            s->ctx_free[i](s->ctx[i]);
    }
    if (s->rtxn)
        mdb_txn_abort(s->rtxn);
    if (s->pins_live > 0) /* a bug: some evbuffer outlived the server */
        LOG_WARN("store", "closing with %d pinned reads still live", s->pins_live);
    while (s->pin_free) {
        br_pin *p = s->pin_free;
        s->pin_free = p->next;
        mdb_txn_abort(p->txn);
        free(p);
    }
    if (!s->sync)
        mdb_env_sync(s->env, 1);
    for (int i = 0; i < s->n_dbs; i++)
        free(s->dbs[i].name);
    if (s->file_seg)
        evbuffer_file_segment_free(s->file_seg);
    mdb_env_close(s->env);
    pthread_mutex_destroy(&s->pin_lock);
    free(s);
}

MDB_env *br_store_env(br_store *s) { return s->env; }

bool br_store_is_sync(const br_store *s) { return s->sync; }

MDB_dbi br_store_dbi(br_store *s, const char *name) {
    if (strcmp(name, "log") == 0)
        return s->log_dbi;
    if (strcmp(name, "parts") == 0)
        return s->parts_dbi;
    if (strcmp(name, "meta") == 0)
        return s->meta_dbi;
    for (int i = 0; i < s->n_dbs; i++) {
        if (strcmp(s->dbs[i].name, name) == 0)
            return s->dbs[i].dbi;
    }
    /* A misspelt name would otherwise silently write into the main DB. */
    fprintf(stderr, "br_store_dbi: unknown database \"%s\"\n", name);
    abort();
}

int br_store_open_db(br_store *s, const char *name, MDB_dbi *out) {
    for (int i = 0; i < s->n_dbs; i++) {
        if (strcmp(s->dbs[i].name, name) == 0) {
            *out = s->dbs[i].dbi;
            return 0;
        }
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return br_store_error(rc);
    int r = add_db(s, txn, name, out);
    if (r < 0) {
        mdb_txn_abort(txn);
        return r;
    }
    r = br_store_error(mdb_txn_commit(txn));
    if (r < 0) {
        /* The handle is not valid after a failed commit: forget the name. */
        s->n_dbs--;
        free(s->dbs[s->n_dbs].name);
    }
    return r;
}

int br_store_read_begin(br_store *s, MDB_txn **txn) {
    int rc;
    if (s->rtxn_busy || !s->rtxn) {
        MDB_txn *t;
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t);
        if (rc)
            return br_store_error(rc);
        if (!s->rtxn_busy) {
            s->rtxn = t;
            s->rtxn_busy = true;
        }
        *txn = t;
        return 0;
    }
    rc = mdb_txn_renew(s->rtxn);
    if (rc) {
        /* A handle that cannot renew is dropped; the next call makes one. */
        mdb_txn_abort(s->rtxn);
        s->rtxn = NULL;
        return br_store_error(rc);
    }
    s->rtxn_busy = true;
    *txn = s->rtxn;
    return 0;
}

void br_store_read_end(br_store *s, MDB_txn *txn) {
    if (!txn)
        return;
    if (txn == s->rtxn) {
        mdb_txn_reset(txn);
        s->rtxn_busy = false;
    } else {
        mdb_txn_abort(txn);
    }
}

int br_store_pin_begin(br_store *s, br_pin **pin, MDB_txn **txn) {
    pthread_mutex_lock(&s->pin_lock);
    if (s->pins_live >= BR_STORE_PINS_MAX) {
        pthread_mutex_unlock(&s->pin_lock);
        return -EBUSY;
    }
    br_pin *p = s->pin_free;
    if (p)
        s->pin_free = p->next;
    s->pins_live++;
    pthread_mutex_unlock(&s->pin_lock);
    int rc;
    if (p) {
        rc = mdb_txn_renew(p->txn);
        if (rc) {
            mdb_txn_abort(p->txn);
            p->txn = NULL;
        }
    } else {
        p = calloc(1, sizeof *p);
        rc = p ? 0 : ENOMEM;
    }
    if (!rc && !p->txn)
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &p->txn);
    if (rc) {
        free(p);
        pthread_mutex_lock(&s->pin_lock);
        s->pins_live--;
        pthread_mutex_unlock(&s->pin_lock);
        return br_store_error(rc);
    }
    p->store = s;
    p->next = NULL;
    atomic_store(&p->refs, 1);
    *pin = p;
    *txn = p->txn;
    return 0;
}

void br_pin_ref(br_pin *pin) { atomic_fetch_add(&pin->refs, 1); }

void br_pin_unref(br_pin *pin) {
    if (atomic_fetch_sub(&pin->refs, 1) != 1)
        return;
    br_store *s = pin->store;
    /* reset releases the snapshot now; the handle stays for a renew */
    mdb_txn_reset(pin->txn);
    pthread_mutex_lock(&s->pin_lock);
    pin->next = s->pin_free;
    s->pin_free = pin;
    s->pins_live--;
    pthread_mutex_unlock(&s->pin_lock);
}

void br_pin_evbuffer_cleanup(const void *data, size_t len, void *pin) {
    (void)data;
    (void)len;
    br_pin_unref(pin);
}

int br_store_add_file_ref(br_store *s, struct evbuffer *out, const void *data, size_t len) {
    if (!s->file_seg)
        return -ENOTSUP;
    const uint8_t *p = data;
    /* a value of a read transaction lies in the map; anything else is a
     * bug of the caller */
    if (p < s->map || len > s->map_size || (size_t)(p - s->map) > s->map_size - len)
        return -EINVAL;
    if (evbuffer_add_file_segment(out, s->file_seg, (ev_off_t)(p - s->map), (ev_off_t)len) < 0)
        return -ENOMEM;
    atomic_fetch_add(&s->file_bytes, len);
    return 0;
}

void *br_store_ctx(br_store *s, int slot) {
    return slot >= 0 && slot < BR_STORE_CTX_MAX ? s->ctx[slot] : NULL;
}

void br_store_set_ctx(br_store *s, int slot, void *ctx, void (*free_fn)(void *ctx)) {
    if (slot < 0 || slot >= BR_STORE_CTX_MAX)
        abort(); /* a bug of the caller, not an input error */
    s->ctx[slot] = ctx;
    s->ctx_free[slot] = free_fn;
}

int br_store_meta_get(br_store *s, const char *key, void **val, size_t *len) {
    MDB_txn *txn;
    int r = br_store_read_begin(s, &txn);
    if (r < 0)
        return r;
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key}, v;
    r = br_store_error(mdb_get(txn, br_store_dbi(s, "meta"), &k, &v));
    if (r == 0) {
        /* malloc(0) may return NULL: allocate at least one byte. */
        void *copy = malloc(v.mv_size ? v.mv_size : 1);
        if (!copy) {
            r = -ENOMEM;
        } else {
            memcpy(copy, v.mv_data, v.mv_size);
            *val = copy;
            *len = v.mv_size;
        }
    }
    br_store_read_end(s, txn);
    return r;
}

int br_store_meta_put(br_store *s, const char *key, const void *val, size_t len) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return br_store_error(rc);
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    MDB_val v = {.mv_size = len, .mv_data = (void *)val};
    rc = mdb_put(txn, br_store_dbi(s, "meta"), &k, &v, 0);
    if (rc) {
        mdb_txn_abort(txn);
        return br_store_error(rc);
    }
    rc = mdb_txn_commit(txn);
    /* Metadata (broker id, catalog) must survive a machine crash even when
     * the data path runs without fsync. */
    if (!rc && !s->sync)
        rc = mdb_env_sync(s->env, 1);
    return br_store_error(rc);
}

int br_store_get_stats(br_store *s, br_store_stats *out) {
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(s->env, &info);
    if (!rc)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return br_store_error(rc);
    out->map_size = info.me_mapsize;
    out->page_size = st.ms_psize;
    out->last_page = info.me_last_pgno;
    out->max_readers = info.me_maxreaders;
    out->num_readers = info.me_numreaders;
    pthread_mutex_lock(&s->pin_lock);
    out->pins_live = (size_t)s->pins_live;
    pthread_mutex_unlock(&s->pin_lock);
    out->file_bytes = atomic_load(&s->file_bytes);
    return 0;
}
