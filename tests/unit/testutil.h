/* testutil.h: helpers shared by the cmocka unit tests: hex fixtures and a byte builder. */
#ifndef WALCAST_TESTUTIL_H
#define WALCAST_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Reads a file of hex lines; returns the number of lines, each decoded into out[i]/len[i]. */
static inline size_t tu_read_hex(const char *path, uint8_t **out, size_t *len, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[65536];
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        out[n] = malloc(l / 2 + 1);
        for (size_t i = 0; i + 1 < l; i += 2) {
            unsigned v;
            sscanf(line + i, "%2x", &v);
            out[n][i / 2] = (uint8_t)v;
        }
        len[n] = l / 2;
        n++;
    }
    fclose(f);
    return n;
}

/* The captured pgoutput messages of tests/fixtures/pgoutput_v1.hex, loaded once per test group. */
#define TU_MAXMSG 64
static uint8_t *fx[TU_MAXMSG];
static size_t fxlen[TU_MAXMSG];
static size_t nfx;

static inline int tu_fixtures_setup(void **state)
{
    (void)state;
    nfx = tu_read_hex("tests/fixtures/pgoutput_v1.hex", fx, fxlen, TU_MAXMSG);
    return nfx > 0 ? 0 : -1;
}

static inline int tu_fixtures_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nfx; i++)
        free(fx[i]);
    return 0;
}

typedef struct tu_bytes {
    uint8_t b[4096];
    size_t n;
} tu_bytes_t;

static inline void tu_u8(tu_bytes_t *t, uint8_t v) { t->b[t->n++] = v; }
static inline void tu_u16(tu_bytes_t *t, uint16_t v) { tu_u8(t, (uint8_t)(v >> 8)); tu_u8(t, (uint8_t)v); }
static inline void tu_u32(tu_bytes_t *t, uint32_t v) { tu_u16(t, (uint16_t)(v >> 16)); tu_u16(t, (uint16_t)v); }
static inline void tu_u64(tu_bytes_t *t, uint64_t v) { tu_u32(t, (uint32_t)(v >> 32)); tu_u32(t, (uint32_t)v); }
static inline void tu_str(tu_bytes_t *t, const char *s) { size_t l = strlen(s) + 1; memcpy(t->b + t->n, s, l); t->n += l; }
static inline void tu_mem(tu_bytes_t *t, const void *p, size_t l) { memcpy(t->b + t->n, p, l); t->n += l; }
/* A text column inside a tuple. */
static inline void tu_textcol(tu_bytes_t *t, const char *s) { tu_u8(t, 't'); tu_u32(t, (uint32_t)strlen(s)); tu_mem(t, s, strlen(s)); }

#endif
