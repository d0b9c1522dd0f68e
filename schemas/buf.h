/* buf.h: growable byte buffer and bump arena, the memory everything else is built on.
 * Buffers hold encoded output; arenas hold per-message values and are reset, never freed piecemeal. */
#ifndef WALCAST_BUF_H
#define WALCAST_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

typedef struct buf {
    char  *data;
    size_t len;
    size_t cap;
} buf_t;

/* Grow-or-die allocation, the one way walcast allocates: a CDC agent that cannot allocate cannot make
 * progress safely, so failure logs and aborts. xstrdup(NULL) is NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

void buf_init(buf_t *b);
void buf_free(buf_t *b);
static inline void buf_reset(buf_t *b) { b->len = 0; }
/* Makes room for n more bytes; aborts on out-of-memory (nothing sensible to do then). */
void buf_reserve(buf_t *b, size_t n);
static inline void buf_append(buf_t *b, const void *p, size_t n)
{
    if (b->cap - b->len < n)
        buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void buf_putc(buf_t *b, char c)
{
    if (b->cap == b->len)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
}
void buf_puts(buf_t *b, const char *s);
/* s between two q characters, each q inside doubled: SQL identifiers ('"' for PostgreSQL, '`' for
 * MySQL) and string literals ('\''). The one quoter of the project. */
void buf_put_quoted(buf_t *b, const char *s, char q);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_put_i64(buf_t *b, int64_t v);
void buf_put_u64(buf_t *b, uint64_t v);
/* FNV-1a (64-bit) over n bytes: the project's one hash of bytes (cache slots, row keys, schema texts). h 0
 * starts a new hash; a previous result (or any other seed) continues from it. */
static inline uint64_t buf_hash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    if (!h)
        h = 14695981039346656037ULL;   /* the FNV-1a offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}
/* Decodes the UTF-8 sequence at s (n > 0 bytes left) into *cp and returns its length; a byte that does not
 * start a well-formed sequence (overlong, surrogate, past U+10FFFF, cut short) is U+FFFD of length 1. */
size_t buf_utf8_next(const unsigned char *s, size_t n, unsigned *cp);
/* NUL-terminates without counting the terminator in len. */
const char *buf_cstr(buf_t *b);
/* Appends the whole file at path (NUL-terminated, not counted); -1 with err naming the file and the
 * reason. */
int buf_read_file(buf_t *b, const char *path, char *err, size_t errlen);

/* Bump allocator. Blocks are kept across resets so a steady workload stops calling malloc. */
typedef struct arena arena_t;
arena_t *arena_new(size_t block_size);
void     arena_free(arena_t *a);
void     arena_reset(arena_t *a);
void    *arena_alloc(arena_t *a, size_t n);
void    *arena_zalloc(arena_t *a, size_t n);
char    *arena_strndup(arena_t *a, const char *s, size_t n);
char    *arena_strdup(arena_t *a, const char *s);
void    *arena_memdup(arena_t *a, const void *p, size_t n);
size_t   arena_used(const arena_t *a);

#endif
