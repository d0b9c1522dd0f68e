/* fuzz_avro.c: libFuzzer target for the Avro side of hostile identifiers: names from the input (split
 * at NUL) go through Debezium's name adjustment and into a record schema. Properties checked: adjusted
 * names are always valid Avro names, an accepted schema's text is valid JSON, and the binary writer never
 * reads outside the value it is given. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    arena_t *a = arena_new(4096);
    buf_t b;
    buf_init(&b);
    char err[512];
    for (int mode = AVRO_ADJUST_NONE; mode <= AVRO_ADJUST_UNICODE; mode++) {
        const char *rec = avro_adjust_name(a, text, (avro_adjust_t)mode, false);
        cs_schema_t *s = cs_new(a, CT_STRUCT, false);
        s->name = *rec ? rec : "x";
        cs_schema_t *opt = cs_new(a, CT_STRING, true);
        size_t nf = 0;
        for (size_t off = strlen(text) + 1; off < size && nf < 8; off += strlen(text + off) + 1, nf++) {
            const char *f = avro_adjust_name(a, text + off, (avro_adjust_t)mode, true);
            if (cs_field_index(s, f) < 0 && *f)
                cs_field_add(a, s, f, opt);
        }
        buf_reset(&b);
        int rc = avro_enc_schema(&b, s, true, err, sizeof err);
        if (mode != AVRO_ADJUST_NONE && *text && rc != 0 && strchr(rec, '.') == NULL)
            abort();   /* an adjusted name must be valid (dotted names may still hold empty segments) */
        if (rc == 0) {
            json_error_t je;
            json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, &je);
            if (!j)
                abort();   /* an accepted schema is JSON whatever the names hold */
            json_decref(j);
        }
        cv_value_t v = cv_list(a, s->nfields);
        for (size_t i = 0; i < s->nfields; i++)
            v.u.list.v[i] = cv_str(text, strlen(text));
        buf_reset(&b);
        if (avro_enc_value(&b, s, &v, err, sizeof err) != 0)
            abort();
    }
    buf_free(&b);
    arena_free(a);
    free(text);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
