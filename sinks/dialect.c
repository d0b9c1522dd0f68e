/* dialect.c: identifiers, the Connect-schema -> column type mapping of Debezium's JDBC sink, and value
 * text per dialect. Times are UTC; Debezium's time types carry epoch-based integers. */
#include "sinks/dialect.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json.h"

static const char *const reserved[] = {
    "all", "and", "any", "array", "as", "asc", "between", "by", "case", "check", "collate", "column", "constraint",
    "create", "cross", "current_date", "current_time", "current_timestamp", "current_user", "default", "delete",
    "desc", "distinct", "do", "drop", "else", "end", "except", "exists", "false", "fetch", "for", "foreign", "from",
    "full", "grant", "group", "having", "in", "index", "inner", "insert", "interval", "into", "is", "join", "key",
    "left", "like", "limit", "not", "null", "offset", "on", "or", "order", "outer", "primary", "references", "right",
    "select", "set", "some", "table", "then", "to", "true", "union", "unique", "update", "user", "using", "values",
    "when", "where", "with", "window", "range", "rank", "row", "rows", "read", "level", "time", "timestamp", "date",
    "type", "value", "status", "mode", NULL
};

static bool plain_ident(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    if (strlen(s) > 63)
        return false;
    for (int i = 0; reserved[i]; i++)
        if (!strcmp(reserved[i], s))
            return false;
    return true;
}

void dl_ident(buf_t *b, sk_dialect_t d, const char *name, bool quote)
{
    if (!quote && plain_ident(name)) {
        buf_puts(b, name);
        return;
    }
    buf_put_quoted(b, name, d == SK_DIALECT_MYSQL ? '`' : '"');
}

static bool named(const cs_schema_t *s, const char *n)
{
    return s->name && !strcmp(s->name, n);
}

static int param_int(const cs_schema_t *s, const char *k, int dflt)
{
    const char *v = cs_param_get(s, k);
    return v ? atoi(v) : dflt;
}

bool dl_my_decimal(const cs_schema_t *s, int *prec, int *scale)
{
    if (!s->name)
        return false;
    if (named(s, "io.debezium.data.VariableScaleDecimal")) {
        *prec = 65;
        *scale = 30;
        return true;
    }
    if (!named(s, "org.apache.kafka.connect.data.Decimal"))
        return false;
    *scale = param_int(s, "scale", 0);
    *prec = param_int(s, "connect.decimal.precision", 0);
    if (*prec <= 0 || *prec > 65)
        *prec = 65;
    if (*scale > 30)
        *scale = 30;
    if (*scale > *prec)
        *scale = *prec;
    return true;
}

void dl_type(buf_t *b, sk_dialect_t d, const cs_schema_t *s, bool key)
{
    bool my = d == SK_DIALECT_MYSQL;
    if (s->name) {
        int prec, scale;
        if (my && dl_my_decimal(s, &prec, &scale)) {
            buf_printf(b, "decimal(%d,%d)", prec, scale);
            return;
        }
        if (named(s, "org.apache.kafka.connect.data.Decimal")) {
            prec = param_int(s, "connect.decimal.precision", 0);
            if (prec > 0)
                buf_printf(b, "numeric(%d,%d)", prec, param_int(s, "scale", 0));
            else
                buf_puts(b, "numeric");
            return;
        }
        if (named(s, "io.debezium.data.VariableScaleDecimal")) {
            buf_puts(b, "numeric");
            return;
        }
        if (named(s, "io.debezium.time.Date") || named(s, "org.apache.kafka.connect.data.Date")) {
            buf_puts(b, "date");
            return;
        }
        if (named(s, "io.debezium.time.Time") || named(s, "org.apache.kafka.connect.data.Time")) {
            /* Debezium's sink: the dialect's default precision (6) unless column.propagate.source.type
             * says otherwise; the values are milliseconds and fit */
            buf_puts(b, "time(6)");
            return;
        }
        if (named(s, "io.debezium.time.MicroTime") || named(s, "io.debezium.time.NanoTime")) {
            buf_puts(b, "time(6)");
            return;
        }
        if (named(s, "io.debezium.time.Timestamp") || named(s, "org.apache.kafka.connect.data.Timestamp")) {
            buf_puts(b, my ? "datetime(6)" : "timestamp(6)"); /* as Time: Debezium's default precision */
            return;
        }
        if (named(s, "io.debezium.time.MicroTimestamp") || named(s, "io.debezium.time.NanoTimestamp")) {
            buf_puts(b, my ? "datetime(6)" : "timestamp(6)");
            return;
        }
        if (named(s, "io.debezium.time.ZonedTimestamp")) {
            /* MySQL's timestamp ends in 2038: UTC in a datetime */
            buf_puts(b, my ? "datetime(6)" : "timestamp(6) with time zone");
            return;
        }
        if (named(s, "io.debezium.time.ZonedTime")) {
            buf_puts(b, my ? "time(6)" : "time(6) with time zone");
            return;
        }
        if (named(s, "io.debezium.time.MicroDuration")) {
            buf_puts(b, my ? "bigint" : "interval");
            return;
        }
        if (named(s, "io.debezium.data.Json")) {
            buf_puts(b, my ? "json" : "json");
            return;
        }
        if (named(s, "io.debezium.data.Uuid")) {
            buf_puts(b, my ? "varchar(36)" : "uuid");
            return;
        }
        if (named(s, "io.debezium.data.Xml")) {
            buf_puts(b, my ? "longtext" : "xml");
            return;
        }
        if (named(s, "io.debezium.data.Bits")) {
            int len = param_int(s, "length", 0);
            if (my)
                buf_printf(b, "bit(%d)", len > 0 && len <= 64 ? len : 64);
            else if (len > 0)
                buf_printf(b, "bit(%d)", len);
            else
                buf_puts(b, "bit varying");
            return;
        }
    }
    switch (s->type) {
    case CT_INT8:
        buf_puts(b, my ? "tinyint" : "smallint");
        return;
    case CT_INT16:
        buf_puts(b, "smallint");
        return;
    case CT_INT32:
        buf_puts(b, my ? "int" : "integer");
        return;
    case CT_INT64:
        buf_puts(b, "bigint");
        return;
    case CT_FLOAT32:
        buf_puts(b, my ? "float" : "real");
        return;
    case CT_FLOAT64:
        buf_puts(b, my ? "double" : "double precision");
        return;
    case CT_BOOLEAN:
        buf_puts(b, "boolean");
        return;
    case CT_STRING:
        buf_puts(b, my ? (key ? "varchar(255)" : "longtext") : "text");
        return;
    case CT_BYTES:
        buf_puts(b, my ? (key ? "varbinary(255)" : "longblob") : "bytea");
        return;
    case CT_ARRAY:
        if (my) {
            buf_puts(b, "longtext");
            return;
        }
        if (s->items && s->items->type != CT_ARRAY && s->items->type != CT_STRUCT && s->items->type != CT_MAP) {
            dl_type(b, d, s->items, false);
            buf_puts(b, "[]");
        } else
            buf_puts(b, "text");
        return;
    case CT_MAP:
    case CT_STRUCT:
        buf_puts(b, my ? "longtext" : "text");
        return;
    }
}

/* days since 1970-01-01 -> civil date (Howard Hinnant's algorithm) */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int put_date(buf_t *b, int64_t days, sk_dialect_t dl, char *err, size_t errlen)
{
    int64_t y;
    unsigned m, d;
    if (days < -2932896 || days > 2932896) { /* years -6000..10000 */
        snprintf(err, errlen, "date %" PRId64 " days from 1970 is out of range", days);
        return -1;
    }
    civil(days, &y, &m, &d);
    if (y <= 0) {
        if (dl == SK_DIALECT_MYSQL) {
            snprintf(err, errlen, "date before year 1 cannot be stored in MySQL");
            return -1;
        }
        buf_printf(b, "%04" PRId64 "-%02u-%02u BC", 1 - y, m, d);
    } else
        buf_printf(b, "%04" PRId64 "-%02u-%02u", y, m, d);
    return 0;
}

static int put_ts(buf_t *b, int64_t us, sk_dialect_t dl, char *err, size_t errlen)
{
    int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
    if (rem < 0) {
        rem += 86400000000LL;
        days--;
    }
    /* date text first, then the time; BC dates put the era last */
    buf_t tmp;
    buf_init(&tmp);
    int rc = put_date(&tmp, days, dl, err, errlen);
    if (rc == 0) {
        const char *dt = buf_cstr(&tmp);
        const char *bc = strstr(dt, " BC");
        size_t dl_len = bc ? (size_t)(bc - dt) : strlen(dt);
        buf_append(b, dt, dl_len);
        int64_t s = rem / 1000000;
        buf_printf(b, " %02d:%02d:%02d.%06d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
                   (int)(rem % 1000000));
        if (bc)
            buf_puts(b, " BC");
    }
    buf_free(&tmp);
    return rc;
}

static void put_time(buf_t *b, int64_t us)
{
    if (us < 0)
        us = 0;
    int64_t s = us / 1000000;
    /* PostgreSQL's 24:00:00 is a valid time */
    buf_printf(b, "%02d:%02d:%02d.%06d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60), (int)(us % 1000000));
}

static void put_hex(buf_t *b, const unsigned char *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    buf_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = hx[p[i] >> 4];
        b->data[b->len++] = hx[p[i] & 15];
    }
}

static void put_f64(buf_t *b, double f, bool f32)
{
    if (isnan(f))
        buf_puts(b, "NaN");
    else if (isinf(f))
        buf_puts(b, f > 0 ? "Infinity" : "-Infinity");
    else
        buf_printf(b, "%.*g", f32 ? 9 : 17, f);
}

/* An element of a PostgreSQL array literal: quoted, with " and \ escaped. */
static int put_pg_array(buf_t *b, const cs_schema_t *s, const cv_value_t *v, char *err, size_t errlen)
{
    buf_putc(b, '{');
    buf_t el;
    buf_init(&el);
    int rc = 0;
    for (size_t i = 0; i < v->u.list.n && rc == 0; i++) {
        if (i)
            buf_putc(b, ',');
        const cv_value_t *e = &v->u.list.v[i];
        if (e->null) {
            buf_puts(b, "NULL");
            continue;
        }
        dl_kind_t k;
        buf_reset(&el);
        rc = dl_value(&el, SK_DIALECT_POSTGRES, s->items, e, &k, err, errlen);
        if (rc < 0)
            break;
        buf_putc(b, '"');
        for (size_t j = 0; j < el.len; j++) {
            if (el.data[j] == '"' || el.data[j] == '\\')
                buf_putc(b, '\\');
            buf_putc(b, el.data[j]);
        }
        buf_putc(b, '"');
    }
    buf_free(&el);
    buf_putc(b, '}');
    return rc;
}

/* A ZonedTimestamp "2024-01-02T03:04:05.123456Z" as MySQL datetime text (it is always UTC). */
static int put_zoned_mysql(buf_t *b, const char *p, size_t n, char *err, size_t errlen)
{
    if (n < 19 || p[10] != 'T') {
        snprintf(err, errlen, "ZonedTimestamp '%.*s' is not ISO-8601", (int)(n > 40 ? 40 : n), p);
        return -1;
    }
    size_t e = n;
    if (p[e - 1] == 'Z')
        e--;
    else if (e > 6 && (p[e - 6] == '+' || p[e - 6] == '-') && p[e - 3] == ':') {
        if (memcmp(p + e - 6, "+00:00", 6) && memcmp(p + e - 6, "-00:00", 6)) {
            snprintf(err, errlen, "ZonedTimestamp '%.*s' is not UTC", (int)(n > 40 ? 40 : n), p);
            return -1;
        }
        e -= 6;
    }
    buf_append(b, p, 10);
    buf_putc(b, ' ');
    buf_append(b, p + 11, e - 11);
    return 0;
}

int dl_value(buf_t *b, sk_dialect_t d, const cs_schema_t *s, const cv_value_t *v, dl_kind_t *kind, char *err,
             size_t errlen)
{
    bool my = d == SK_DIALECT_MYSQL;
    *kind = DL_TEXT;
    if (!v || v->null) {
        *kind = DL_NULL;
        return 0;
    }
    if (s->name) {
        if (named(s, "org.apache.kafka.connect.data.Decimal") && s->type == CT_BYTES) {
            if (v->u.s.n > 128) {
                snprintf(err, errlen, "decimal of %zu bytes is too large", v->u.s.n);
                return -1;
            }
            json_enc_decimal_text(b, (const unsigned char *)v->u.s.p, v->u.s.n, param_int(s, "scale", 0));
            return 0;
        }
        if (named(s, "io.debezium.data.VariableScaleDecimal") && s->type == CT_STRUCT) {
            int si = cs_field_index(s, "scale"), vi = cs_field_index(s, "value");
            if (si < 0 || vi < 0 || v->u.list.v[vi].null || v->u.list.n != s->nfields) {
                *kind = DL_NULL;
                return 0;
            }
            const cv_value_t *uv = &v->u.list.v[vi];
            if (uv->u.s.n > 128) {
                snprintf(err, errlen, "decimal of %zu bytes is too large", uv->u.s.n);
                return -1;
            }
            int64_t sc = v->u.list.v[si].null ? 0 : v->u.list.v[si].u.i;
            if (sc < 0 || sc > 1000) {
                snprintf(err, errlen, "decimal scale %" PRId64 " is out of range", sc);
                return -1;
            }
            json_enc_decimal_text(b, (const unsigned char *)uv->u.s.p, uv->u.s.n, (int)sc);
            return 0;
        }
        if ((named(s, "io.debezium.time.Date") || named(s, "org.apache.kafka.connect.data.Date")) && s->type == CT_INT32)
            return put_date(b, v->u.i, d, err, errlen);
        if ((named(s, "io.debezium.time.Time") || named(s, "org.apache.kafka.connect.data.Time")) && s->type == CT_INT32) {
            put_time(b, v->u.i * 1000);
            return 0;
        }
        if (named(s, "io.debezium.time.MicroTime") && s->type == CT_INT64) {
            put_time(b, v->u.i);
            return 0;
        }
        if (named(s, "io.debezium.time.NanoTime") && s->type == CT_INT64) {
            put_time(b, v->u.i / 1000);
            return 0;
        }
        if ((named(s, "io.debezium.time.Timestamp") || named(s, "org.apache.kafka.connect.data.Timestamp")) &&
            s->type == CT_INT64) {
            if (v->u.i > INT64_MAX / 1000 || v->u.i < INT64_MIN / 1000) {
                snprintf(err, errlen, "timestamp %" PRId64 " ms is out of range", v->u.i);
                return -1;
            }
            return put_ts(b, v->u.i * 1000, d, err, errlen);
        }
        if (named(s, "io.debezium.time.MicroTimestamp") && s->type == CT_INT64)
            return put_ts(b, v->u.i, d, err, errlen);
        if (named(s, "io.debezium.time.NanoTimestamp") && s->type == CT_INT64)
            return put_ts(b, v->u.i / 1000, d, err, errlen);
        if (named(s, "io.debezium.time.ZonedTimestamp") && s->type == CT_STRING && my)
            return put_zoned_mysql(b, v->u.s.p, v->u.s.n, err, errlen);
        if (named(s, "io.debezium.time.ZonedTime") && s->type == CT_STRING && my) {
            size_t n = v->u.s.n;
            if (n && v->u.s.p[n - 1] == 'Z')
                n--;
            buf_append(b, v->u.s.p, n);
            return 0;
        }
        if (named(s, "io.debezium.time.MicroDuration") && s->type == CT_INT64) {
            if (my)
                buf_put_i64(b, v->u.i);
            else
                buf_printf(b, "%" PRId64 " microseconds", v->u.i);
            return 0;
        }
        if (named(s, "io.debezium.data.Bits") && s->type == CT_BYTES) {
            /* little-endian bytes; the text form is most significant bit first */
            int len = param_int(s, "length", (int)(v->u.s.n * 8));
            if (len < 0 || (size_t)len > v->u.s.n * 8)
                len = (int)(v->u.s.n * 8);
            if (my) {
                uint64_t x = 0;
                for (size_t i = 0; i < v->u.s.n && i < 8; i++)
                    x |= (uint64_t)(unsigned char)v->u.s.p[i] << (8 * i);
                buf_put_u64(b, x);
                return 0;
            }
            for (int i = len - 1; i >= 0; i--)
                buf_putc(b, ((unsigned char)v->u.s.p[i / 8] >> (i % 8)) & 1 ? '1' : '0');
            return 0;
        }
    }
    switch (s->type) {
    case CT_INT8:
    case CT_INT16:
    case CT_INT32:
    case CT_INT64:
        buf_put_i64(b, v->u.i);
        return 0;
    case CT_FLOAT32:
    case CT_FLOAT64:
        if (my && (isnan(v->u.f) || isinf(v->u.f))) {
            snprintf(err, errlen, "MySQL cannot store %s", isnan(v->u.f) ? "NaN" : "Infinity");
            return -1;
        }
        put_f64(b, v->u.f, s->type == CT_FLOAT32);
        return 0;
    case CT_BOOLEAN:
        buf_puts(b, my ? (v->u.b ? "1" : "0") : (v->u.b ? "t" : "f"));
        return 0;
    case CT_STRING:
        if (!my && memchr(v->u.s.p, 0, v->u.s.n)) {
            snprintf(err, errlen, "PostgreSQL text cannot hold a NUL character");
            return -1;
        }
        buf_append(b, v->u.s.p, v->u.s.n);
        return 0;
    case CT_BYTES:
        if (my) {
            *kind = DL_BINARY;
            buf_append(b, v->u.s.p, v->u.s.n);
        } else {
            buf_puts(b, "\\x");
            put_hex(b, (const unsigned char *)v->u.s.p, v->u.s.n);
        }
        return 0;
    case CT_ARRAY:
        if (!my && s->items && s->items->type != CT_ARRAY && s->items->type != CT_STRUCT && s->items->type != CT_MAP)
            return put_pg_array(b, s, v, err, errlen);
        json_enc_value(b, s, v);
        return 0;
    case CT_MAP:
    case CT_STRUCT:
        json_enc_value(b, s, v);
        return 0;
    }
    snprintf(err, errlen, "unsupported type");
    return -1;
}

void dl_table_name(buf_t *b, const char *fmt, const char *topic, const char *db, const char *schema,
                   const char *table)
{
    size_t start = b->len;
    for (const char *p = fmt; *p;) {
        if (!strncmp(p, "${topic}", 8)) {
            buf_puts(b, topic);
            p += 8;
        } else if (!strncmp(p, "${source.db}", 12)) {
            buf_puts(b, db ? db : "");
            p += 12;
        } else if (!strncmp(p, "${source.schema}", 16)) {
            buf_puts(b, schema ? schema : "");
            p += 16;
        } else if (!strncmp(p, "${source.table}", 15)) {
            buf_puts(b, table ? table : "");
            p += 15;
        } else
            buf_putc(b, *p++);
    }
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '.')
            b->data[i] = '_';
}
