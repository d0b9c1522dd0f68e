/* dialect.h: SQL identifiers, column types and value text per target dialect (PostgreSQL, MySQL/MariaDB),
 * and table names from collection.name.format. Pure: no connections. */
#ifndef WALCAST_SINK_DIALECT_H
#define WALCAST_SINK_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "schemas/buf.h"
#include "schemas/connect.h"
#include "sinks/target.h"

/* An identifier for SQL: always quoted when quote is true or when it is not a plain lower-case name
 * (Debezium's quote.identifiers=false leaves plain names to the server's case folding; names that would
 * break the statement are quoted regardless). */
void dl_ident(buf_t *b, sk_dialect_t d, const char *name, bool quote);

/* The column type Debezium's JDBC sink creates for a field of schema s (key: part of the primary key,
 * where MySQL needs bounded types). Written into b. */
void dl_type(buf_t *b, sk_dialect_t d, const cs_schema_t *s, bool key);
/* The decimal(prec,scale) column dl_type gives a decimal schema s (Connect Decimal, VariableScaleDecimal:
 * decimal(65,30)) in MySQL; false: s is no decimal. */
bool dl_my_decimal(const cs_schema_t *s, int *prec, int *scale);

typedef enum { DL_NULL, DL_TEXT, DL_BINARY } dl_kind_t;

/* The value as text the server parses into the column dl_type gives (PostgreSQL's text input format,
 * MySQL's literal text before escaping); DL_BINARY: raw bytes (PostgreSQL gets \x hex text instead).
 * Appends to b; -1 with err when the value cannot be represented (poison). */
int dl_value(buf_t *b, sk_dialect_t d, const cs_schema_t *s, const cv_value_t *v, dl_kind_t *kind, char *err,
             size_t errlen);

/* collection.name.format applied: ${topic}, ${source.db}, ${source.schema}, ${source.table}; then '.'
 * replaced by '_' as Debezium's default naming strategy does. */
void dl_table_name(buf_t *b, const char *fmt, const char *topic, const char *db, const char *schema,
                   const char *table);

#endif
