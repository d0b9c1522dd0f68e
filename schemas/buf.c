/* buf.c: growable byte buffer and bump arena.
 * Allocation failure aborts: a CDC agent that cannot allocate cannot make progress safely. */
#include "schemas/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *xmalloc(size_t n) { return xrealloc(NULL, n); }

void *xcalloc(size_t count, size_t size)
{
    void *q = calloc(count ? count : 1, size ? size : 1);
    if (!q)
        oom(count * size);
    return q;
}

char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        oom(strlen(s) + 1);
    return p;
}

void buf_init(buf_t *b) { b->data = NULL; b->len = b->cap = 0; }

void buf_free(buf_t *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reserve(buf_t *b, size_t n)
{
    if (b->cap - b->len >= n)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_puts(buf_t *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_put_quoted(buf_t *b, const char *s, char q)
{
    buf_putc(b, q);
    for (const char *p = s; *p; p++) {
        if (*p == q)
            buf_putc(b, q);
        buf_putc(b, *p);
    }
    buf_putc(b, q);
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        buf_append(b, tmp, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* "00" "01" ... "99": two digits per division */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/* The digits of v < 10^8, exactly n of them (leading zeros), ending at end: 32-bit divisions, two digits each. */
static inline void put_digits32(char *end, uint32_t v, int n)
{
    for (; n >= 2; n -= 2) {
        uint32_t q = v / 100;
        end -= 2;
        memcpy(end, digit_pairs + 2 * (v - q * 100), 2);
        v = q;
    }
    if (n)
        end[-1] = (char)('0' + v);
}

static inline int ndigits32(uint32_t v)
{
    return v < 10000 ? (v < 100 ? (v < 10 ? 1 : 2) : (v < 1000 ? 3 : 4))
                     : (v < 1000000 ? (v < 100000 ? 5 : 6) : (v < 10000000 ? 7 : 8));
}

/* Written in place, no copy: split into chunks of 8 digits by one or two 64-bit divisions, then 32-bit
 * ones (timestamps in ns, µs and ms, LSNs and transaction ids are 8-19 digits in every change event; the
 * 64-bit division chain digit pair by digit pair showed at 12% of bench_decoder). */
void buf_put_u64(buf_t *b, uint64_t v)
{
    if (b->cap - b->len < 20)
        buf_reserve(b, 20);
    char *d = b->data + b->len;
    if (v < 100000000) {
        int n = ndigits32((uint32_t)v);
        put_digits32(d + n, (uint32_t)v, n);
        b->len += (size_t)n;
        return;
    }
    uint64_t hi = v / 100000000;
    uint32_t lo = (uint32_t)(v - hi * 100000000);
    if (hi < 100000000) {
        int n = ndigits32((uint32_t)hi);
        put_digits32(d + n, (uint32_t)hi, n);
        put_digits32(d + n + 8, lo, 8);
        b->len += (size_t)n + 8;
        return;
    }
    uint32_t top = (uint32_t)(hi / 100000000), mid = (uint32_t)(hi - (uint64_t)top * 100000000);
    int n = ndigits32(top);   /* at most 4: 2^64 < 1.9 * 10^19 */
    put_digits32(d + n, top, n);
    put_digits32(d + n + 8, mid, 8);
    put_digits32(d + n + 16, lo, 8);
    b->len += (size_t)n + 16;
}

void buf_put_i64(buf_t *b, int64_t v)
{
    if (v < 0) {
        buf_putc(b, '-');
        buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        buf_put_u64(b, (uint64_t)v);
    }
}

const char *buf_cstr(buf_t *b)
{
    buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}

struct block {
    struct block *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

struct arena {
    struct block *head;   /* current block */
    struct block *spare;  /* blocks kept from earlier resets */
    size_t block_size;
    size_t used_total;
};

arena_t *arena_new(size_t block_size)
{
    arena_t *a = xrealloc(NULL, sizeof *a);
    a->head = a->spare = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used_total = 0;
    return a;
}

static void blocks_free(struct block *b)
{
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
}

void arena_free(arena_t *a)
{
    if (!a)
        return;
    blocks_free(a->head);
    blocks_free(a->spare);
    free(a);
}

void arena_reset(arena_t *a)
{
    /* Keep standard-size blocks for reuse; give oversized ones back so one huge row does not pin memory. */
    struct block *b = a->head;
    while (b) {
        struct block *n = b->next;
        if (b->size == a->block_size) {
            b->used = 0;
            b->next = a->spare;
            a->spare = b;
        } else {
            free(b);
        }
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
}

void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (!b || b->size - b->used < n) {
        if (n <= a->block_size && a->spare) {
            b = a->spare;
            a->spare = b->next;
        } else {
            size_t size = n > a->block_size ? n : a->block_size;
            b = xrealloc(NULL, sizeof *b + size);
            b->size = size;
        }
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

void *arena_zalloc(arena_t *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

void *arena_memdup(arena_t *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

size_t arena_used(const arena_t *a) { return a->used_total; }

int buf_read_file(buf_t *b, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, n);
    int rc = 0;
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    buf_cstr(b);
    return rc;
}

size_t buf_utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (w == 0 || w > n) {
        *cp = 0xFFFD;
        return 1;
    }
    unsigned v = w == 1 ? c : w == 2 ? (c & 0x1F) : w == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t i = 1; i < w; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < min[w] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {   /* overlong, out of range, surrogate */
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return w;
}
