/* arena.h — bump allocator for per-request lifetimes.
 *
 * One arena per decoded request: every array and string copy made while
 * decoding lives here and is released at once with arena_free() when the
 * response has been queued. Allocation failure returns NULL; callers turn that
 * into -ENOMEM. */
#ifndef EDDY_ARENA_H
#define EDDY_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head;   /* newest chunk first */
    size_t total;        /* bytes handed out, for limits and stats */
} arena;

/** Initialise an empty arena (no allocation until first use). */
void arena_init(arena *a);

/** Return @p size bytes aligned to 8, zero-filled, or NULL on OOM.
 *  The memory stays valid until arena_free(). */
void *arena_alloc(arena *a, size_t size);

/** Like arena_alloc(n * size) with an overflow check. */
void *arena_calloc(arena *a, size_t n, size_t size);

/** Allocate @p n elements for @p ptr in arena @p a; true on success or when
 *  n <= 0 (ptr untouched). n must come from kr_array()/kr_count(), which
 *  bound it by the input that remains. */
#define ARENA_ALLOC_N(a, ptr, n) \
    ((n) <= 0 || ((ptr) = arena_calloc((a), (size_t)(n), sizeof *(ptr))) != NULL)

/** Copy @p len bytes into the arena and NUL-terminate; NULL on OOM. */
char *arena_strndup(arena *a, const char *s, size_t len);

/** Release every chunk; the arena may be reused afterwards. Accepts an
 *  already-freed arena. */
void arena_free(arena *a);

#endif
