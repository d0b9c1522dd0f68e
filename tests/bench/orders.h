/* orders.h: the Debezium change events the sink benches decode (bench_avro.c, bench_json_dec.c): the key,
 * row and envelope schemas walcast writes for one table, and values for them. Static: one copy per bench. */
#ifndef WALCAST_BENCH_ORDERS_H
#define WALCAST_BENCH_ORDERS_H

#include <stdio.h>
#include <string.h>

#include "schemas/connect.h"

static cs_schema_t *named(arena_t *a, ct_type_t t, bool opt, const char *name, int version)
{
    cs_schema_t *s = cs_new(a, t, opt);
    s->name = name;
    s->version = version;
    return s;
}

/* The value schema walcast (and Debezium) writes for
 * orders(id int PK, customer text, price numeric(10,2), qty int, created timestamp, updated timestamptz, day date,
 *        paid bool, note text, weight float8) */
static cs_schema_t *row_schema(arena_t *a)
{
    cs_schema_t *r = named(a, CT_STRUCT, true, "bench.public.orders.Value", 0);
    cs_field_add(a, r, "id", cs_new(a, CT_INT32, false));
    cs_field_add(a, r, "customer", cs_new(a, CT_STRING, false));
    cs_schema_t *d = named(a, CT_BYTES, true, "org.apache.kafka.connect.data.Decimal", 1);
    cs_param_add(d, "scale", "2");
    cs_param_add(d, "connect.decimal.precision", "10");
    cs_field_add(a, r, "price", d);
    cs_field_add(a, r, "qty", cs_new(a, CT_INT32, true));
    cs_field_add(a, r, "created", named(a, CT_INT64, true, "io.debezium.time.MicroTimestamp", 1));
    cs_field_add(a, r, "updated", named(a, CT_STRING, true, "io.debezium.time.ZonedTimestamp", 1));
    cs_field_add(a, r, "day", named(a, CT_INT32, true, "io.debezium.time.Date", 1));
    cs_field_add(a, r, "paid", cs_new(a, CT_BOOLEAN, true));
    cs_field_add(a, r, "note", cs_new(a, CT_STRING, true));
    cs_field_add(a, r, "weight", cs_new(a, CT_FLOAT64, true));
    return r;
}

static cs_schema_t *source_schema(arena_t *a)
{
    cs_schema_t *s = named(a, CT_STRUCT, false, "io.debezium.connector.postgresql.Source", 0);
    static const char *const str[] = { "version", "connector", "name" };
    for (size_t i = 0; i < 3; i++)
        cs_field_add(a, s, str[i], cs_new(a, CT_STRING, false));
    cs_field_add(a, s, "ts_ms", cs_new(a, CT_INT64, false));
    cs_schema_t *snap = named(a, CT_STRING, true, "io.debezium.data.Enum", 1);
    cs_param_add(snap, "allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental");
    cs_field_add(a, s, "snapshot", snap);
    cs_field_add(a, s, "db", cs_new(a, CT_STRING, false));
    cs_field_add(a, s, "sequence", cs_new(a, CT_STRING, true));
    cs_field_add(a, s, "ts_us", cs_new(a, CT_INT64, true));
    cs_field_add(a, s, "ts_ns", cs_new(a, CT_INT64, true));
    cs_field_add(a, s, "schema", cs_new(a, CT_STRING, false));
    cs_field_add(a, s, "table", cs_new(a, CT_STRING, false));
    cs_field_add(a, s, "txId", cs_new(a, CT_INT64, true));
    cs_field_add(a, s, "lsn", cs_new(a, CT_INT64, true));
    cs_field_add(a, s, "xmin", cs_new(a, CT_INT64, true));
    return s;
}

static cs_schema_t *envelope_schema(arena_t *a, cs_schema_t *row)
{
    cs_schema_t *e = named(a, CT_STRUCT, false, "bench.public.orders.Envelope", 2);
    cs_field_add(a, e, "before", row);
    cs_field_add(a, e, "after", row);
    cs_field_add(a, e, "source", source_schema(a));
    cs_field_add(a, e, "op", cs_new(a, CT_STRING, false));
    cs_field_add(a, e, "ts_ms", cs_new(a, CT_INT64, true));
    cs_field_add(a, e, "ts_us", cs_new(a, CT_INT64, true));
    cs_field_add(a, e, "ts_ns", cs_new(a, CT_INT64, true));
    return e;
}

static cv_value_t row_value(arena_t *a, long i)
{
    cv_value_t v = cv_list(a, 10);
    cv_value_t *f = v.u.list.v;
    f[0] = cv_int(i);
    char *name = arena_alloc(a, 32);
    snprintf(name, 32, "customer %ld", i * 7919 % 100000);
    f[1] = cv_str(name, strlen(name));
    unsigned char *dec = arena_alloc(a, 3);
    long cents = 100 + i * 37 % 1000000;
    dec[0] = (unsigned char)(cents >> 16), dec[1] = (unsigned char)(cents >> 8), dec[2] = (unsigned char)cents;
    f[2] = cv_str((const char *)dec, 3);
    f[3] = i % 5 ? cv_int(i % 100) : cv_null();
    f[4] = cv_int(1700000000000000 + i * 1000003);
    f[5] = i % 3 ? cv_str("2026-11-26T17:45:00.123456Z", 27) : cv_null();
    f[6] = cv_int(20000 + i % 1000);
    f[7] = cv_bool(i & 1);
    f[8] = i % 4 ? cv_str("a short note on the order", 25) : cv_null();
    f[9] = cv_float((double)i / 3.0);
    return v;
}

static cv_value_t envelope_value(arena_t *a, long i)
{
    cv_value_t e = cv_list(a, 7);
    bool upd = i % 2;
    e.u.list.v[0] = upd ? row_value(a, i) : cv_null();
    e.u.list.v[1] = row_value(a, i + upd);
    cv_value_t s = cv_list(a, 14);
    cv_value_t *f = s.u.list.v;
    f[0] = cv_str("3.6.1.Final", 11);
    f[1] = cv_str("postgresql", 10);
    f[2] = cv_str("bench", 5);
    f[3] = cv_int(1700000000000 + i);
    f[4] = cv_str("false", 5);
    f[5] = cv_str("postgres", 8);
    f[6] = cv_str("[\"24023928\",\"24023928\"]", 23);
    f[7] = cv_int(1700000000000000 + i);
    f[8] = cv_int(1700000000000000000 + i);
    f[9] = cv_str("public", 6);
    f[10] = cv_str("orders", 6);
    f[11] = cv_int(700 + i / 10);
    f[12] = cv_int(24023928 + i * 100);
    f[13] = cv_null();
    e.u.list.v[2] = s;
    e.u.list.v[3] = cv_str(upd ? "u" : "c", 1);
    e.u.list.v[4] = cv_int(1700000000100 + i);
    e.u.list.v[5] = cv_int(1700000000100000 + i);
    e.u.list.v[6] = cv_int(1700000000100000000 + i);
    return e;
}

static cs_schema_t *key_schema(arena_t *a)
{
    cs_schema_t *k = named(a, CT_STRUCT, false, "bench.public.orders.Key", 0);
    cs_field_add(a, k, "id", cs_new(a, CT_INT32, false));
    return k;
}

#endif
