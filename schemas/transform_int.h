/* transform_int.h: what the transform families (transform.c: the chain, predicates and Kafka's
 * transforms; transform_dbz.c: Debezium's) share. Not a public surface: include only from schemas/transform*.c. */
#ifndef WALCAST_TRANSFORM_INT_H
#define WALCAST_TRANSFORM_INT_H

#include "schemas/transform.h"

#include <regex.h>
#include <stdint.h>
#include <string.h>

/* The record as a transform sees it (Connect's ConnectRecord): a value NULL with a schema is a null
 * value under that schema (JsonConverter writes {"schema":…,"payload":null}); with no schema, a tombstone. */
typedef struct tf_rec {
    const char *topic;
    const cs_schema_t *ks;
    const cv_value_t *key;
    const cs_schema_t *vs;
    const cv_value_t *value;
    rec_header_t h[REC_MAX_HEADERS];
    int nh;
    bool fresh;                   /* a transform made a new record (Connect's newRecord: headers copied) */
    bool has_partition, has_ts;   /* Connect's kafkaPartition() and timestamp(), when not null */
    int32_t partition;
    int64_t ts_ms;
    bool has_offset;              /* a SinkRecord's kafkaOffset(); a source record has none */
    int64_t offset;
} tf_rec_t;

/* Headers added in place to a delete's own header object, which Debezium shares with the tombstone
 * that follows it: that tombstone starts with them. */
typedef struct tf_leak {
    rec_header_t h[REC_MAX_HEADERS];
    int nh;
} tf_leak_t;

/* A step's own options: the keys after "transforms.<alias>." (or "predicates.<alias>."). */
typedef struct tf_opts {
    const char *kind;             /* "transforms" or "predicates" */
    const char *alias;
    const tf_kv_t *kv;
    size_t n;
} tf_opts_t;

/* Schema cache: (input schema uid, extra) -> derived schema, per step and chain. */
typedef struct tf_cache_ent {
    uint64_t uid, extra;
    const cs_schema_t *out;
    const void *aux;              /* what the transform derived with it (field index maps), or NULL */
} tf_cache_ent_t;
typedef struct tf_cache {
    tf_cache_ent_t *e;
    size_t n, cap;
} tf_cache_t;

/* Memo of a regex over topic names (RegexRouter, ByLogicalTableRouter, TopicNameMatches): topics are few,
 * regexec is not cheap. out NULL: no match. */
typedef struct tf_memo_ent {
    uint64_t hash;
    const char *in, *out;
} tf_memo_ent_t;
typedef struct tf_memo {
    tf_memo_ent_t *e;
    size_t n, cap;
} tf_memo_t;
/* True when s was seen; *out is its result then. */
bool tf_memo_get(const tf_memo_t *m, const char *s, const char **out);
/* Keeps s -> out (both copied into a, the chain's long-lived arena). */
void tf_memo_put(tf_memo_t *m, arena_t *a, const char *s, const char *out);

typedef struct tf_step tf_step_t;

/* What a transform's apply gets besides the record: its configuration, its cache, the chain's
 * long-lived arena for derived schemas, the per-record arena for values. */
typedef struct tf_ctx {
    const tf_step_t *step;
    tf_cache_t *cache;
    arena_t *schemas;
    arena_t *a;
    tf_leak_t *leak;              /* the record is a delete: headers a transform adds in place go here too */
    tf_memo_t *memo;              /* this step's two regex memos (topic, key field) */
} tf_ctx_t;

typedef struct tf_type {
    const char *cls;
    const char *const *options;   /* NULL-terminated; type, predicate and negate are always allowed */
    /* Reads the options into *conf (malloc'd; freed with free_conf); *headers: how many headers one
     * record may gain. */
    int (*configure)(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen);
    void (*free_conf)(void *conf);
    /* Transforms r in place; *drop removes the record. WC_PERMANENT with err on a record it cannot handle. */
    wc_status_t (*apply)(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen);
} tf_type_t;

struct tf_step {
    const char *alias;
    const tf_type_t *type;
    void *conf;
    int pred;                     /* index into the spec's predicates, -1: none */
    bool negate;
};

/* ---- options (errors name "<kind>.<alias>.<key>") ---- */
const char *tf_opt(const tf_opts_t *o, const char *key);
/* The value, or def when unset; an empty value counts as set. */
const char *tf_opt_str(const tf_opts_t *o, const char *key, const char *def);
int tf_opt_bool(const tf_opts_t *o, const char *key, bool def, bool *out, char *err, size_t errlen);
/* Index of the value (case-insensitive) in allowed, or def's when unset. */
int tf_opt_enum(const tf_opts_t *o, const char *key, const char *def, const char *const *allowed, int *out,
                char *err, size_t errlen);
/* Comma-separated list, items trimmed, empty items dropped (Connect's ConfigDef LIST); malloc'd
 * strings in a NULL-terminated array (tf_list_free). */
char **tf_opt_list(const tf_opts_t *o, const char *key, size_t *n);
void tf_list_free(char **l);
int tf_opt_required(const tf_opts_t *o, const char *key, const char **out, char *err, size_t errlen);

/* ---- schemas and values ---- */
const cs_schema_t *tf_cache_get(const tf_cache_t *c, uint64_t uid, uint64_t extra);
void tf_cache_put(tf_cache_t *c, uint64_t uid, uint64_t extra, const cs_schema_t *out);
/* The same with the aux data kept beside the schema. */
const cs_schema_t *tf_cache_get_aux(const tf_cache_t *c, uint64_t uid, uint64_t extra, const void **aux);
void tf_cache_put_aux(tf_cache_t *c, uint64_t uid, uint64_t extra, const cs_schema_t *out, const void *aux);
/* SchemaUtil.copySchemaBasics(s, SchemaBuilder.struct()): name, version, doc, parameters; required,
 * no default, no fields yet. */
cs_schema_t *tf_struct_basics(arena_t *a, const cs_schema_t *s);
/* Struct.get (default when null and the field has one) or getWithoutDefault. */
cv_value_t tf_field_get(const cs_schema_t *s, const cv_value_t *v, size_t i, bool with_default);
bool tf_is_struct(const cs_schema_t *s, const cv_value_t *v);
/* The key (key) or the value of r becomes v under s: a new record (Connect's newRecord). */
static inline void tf_side_set(tf_rec_t *r, bool key, const cs_schema_t *s, const cv_value_t *v)
{
    r->fresh = true;
    if (key) {
        r->ks = s;
        r->key = v;
    } else {
        r->vs = s;
        r->value = v;
    }
}
/* The schema's name is name (Connect's logical types: "org.apache.kafka.connect.data.Decimal", …). */
static inline bool tf_named(const cs_schema_t *s, const char *name)
{
    return s->name && !strcmp(s->name, name);
}
/* One header more (the spec bounded the count); key must outlive the chain (configuration or literal). */
void tf_header_add(tf_rec_t *r, const char *key, const void *value, size_t len);
/* One typed header more (Connect's headers.add(key, value, schema)): its bytes are tf_header_text's, its
 * schema and value kept for HeaderToValue (v copied into the record's arena). in_place: on the record's
 * own headers (Debezium's record.headers().add): when no transform made a new record yet, the header
 * is also the following tombstone's (as bytes). */
void tf_header_put(const tf_ctx_t *x, tf_rec_t *r, const char *key, const cs_schema_t *s, const cv_value_t *v,
                   bool in_place);
/* The same with the bytes written as under text_s (the schema v has), the header typed s. */
void tf_header_put_as(const tf_ctx_t *x, tf_rec_t *r, const char *key, const cs_schema_t *s, const cs_schema_t *text_s,
                      const cv_value_t *v, bool in_place);
/* What Kafka's SimpleHeaderConverter (Values.parseString) makes of header bytes, as far as walcast tells:
 * 0 with *s and *v (an empty text or a string: STRING; true/false: BOOLEAN; an integer: INT8 … INT64;
 * NULL bytes or the literal null: *s NULL and a null *v), -1 for the rest (a decimal or float, a date or
 * time, an array, a map, and texts whose first token Connect would read as one of them). */
int tf_header_parse(const char *p, size_t n, const cs_schema_t **s, cv_value_t *v);
/* Struct.put's check of a value against a field's schema: the type (a struct: the same schema). */
bool tf_fits(const cs_schema_t *field, const cs_schema_t *value_schema, bool null);
/* Kafka's SimpleHeaderConverter bytes of a typed header value: top-level strings as they are, the
 * rest as Values.convertToString; NULL for a null value. */
const char *tf_header_text(arena_t *a, const cs_schema_t *s, const cv_value_t *v, size_t *len);

/* ---- Java regex replacements (RegexRouter, ByLogicalTableRouter) ---- */
#define TF_MAX_GROUPS 10
/* Checks a Matcher.replaceFirst replacement ($n, \x) against a regex of ngroups groups; key names it. */
int tf_replacement_check(const char *rep, size_t ngroups, const tf_opts_t *o, const char *key, char *err, size_t errlen);
/* The expanded replacement for a whole-string match pm of s. */
const char *tf_replace_groups(arena_t *a, const char *s, const regmatch_t *pm, size_t ngroups, const char *rep);

/* ---- Debezium's transforms (transform_dbz.c) ---- */
extern const tf_type_t tf_dbz_unwrap;
extern const tf_type_t tf_dbz_logical_router;
extern const tf_type_t tf_dbz_partition;        /* transform_partition.c */
/* ---- Debezium's outbox EventRouter (transform_outbox.c) ---- */
extern const tf_type_t tf_dbz_outbox;
/* ---- Debezium's HeaderToValue (transform_dbz.c) ---- */
extern const tf_type_t tf_dbz_header_to_value;

/* ---- Kafka's Cast (transform_cast.c) ---- */
/* Schema.Type's name as Java spells it in messages (INT8 … STRUCT). */
const char *tf_type_java(ct_type_t t);
extern const tf_type_t tf_cast_key;
extern const tf_type_t tf_cast_value;

/* ---- Kafka's TimestampConverter (transform_time.c) ---- */
extern const tf_type_t tf_ts_key;
extern const tf_type_t tf_ts_value;
extern const tf_type_t tf_ts_router;

#endif
