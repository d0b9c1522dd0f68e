/* transform_outbox.c: Debezium's outbox event router (io.debezium.transforms.outbox.EventRouter, as Debezium
 * 3.6.1 runs it): one event of an outbox table's row -> a record routed by aggregate type, payload expanded. */
#include "schemas/transform_int.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schemas/avro.h"
#include "schemas/regex.h"

enum { PLACE_HEADER, PLACE_ENVELOPE, PLACE_PARTITION };
enum { INVALID_WARN, INVALID_ERROR, INVALID_FATAL };
/* Jackson's default StreamReadConstraints: a deeper document fails to parse. */
#define OB_MAX_DEPTH 1000

typedef struct ob_extra {
    int placement;
    char *field, *alias;
} ob_extra_t;

typedef struct {
    char *id, *key, *payload, *ts, *route, *version;   /* column names (ts, version: NULL when unset) */
    regex_t re;
    bool has_re;
    char *rep;                    /* route.topic.replacement with ${name} turned into $n */
    size_t ngroups;
    bool tomb_on_empty, expand, null_bytes, missing_ignore, only_headers;
    int invalid;
    avro_adjust_t adjust;
    ob_extra_t *extra;
    size_t nextra;
} outbox_conf_t;

static const char *const outbox_opts[] = {
    "table.field.event.id", "table.field.event.key", "table.field.event.type", "table.field.event.payload",
    "table.field.event.timestamp", "table.fields.additional.placement", "table.field.additional.missing",
    "table.field.event.schema.version", "route.by.field", "route.topic.regex", "route.topic.replacement",
    "route.tombstone.on.empty.payload", "table.op.invalid.behavior", "table.expand.json.payload",
    "table.json.payload.null.behavior", "field.name.adjustment.mode",
    /* tracing: only with OpenTelemetry on the worker's class path, which Debezium's plugin does not bring */
    "tracing.span.context.field", "tracing.operation.name", "tracing.with.context.field.only", NULL
};

static void outbox_free(void *p)
{
    outbox_conf_t *c = p;
    if (!c)
        return;
    free(c->id);
    free(c->key);
    free(c->payload);
    free(c->ts);
    free(c->route);
    free(c->version);
    free(c->rep);
    if (c->has_re)
        regfree(&c->re);
    for (size_t i = 0; i < c->nextra; i++) {
        free(c->extra[i].field);
        free(c->extra[i].alias);
    }
    free(c->extra);
    free(c);
}

static char *trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *o = xmalloc(n + 1);
    memcpy(o, s, n);
    o[n] = '\0';
    return o;
}

/* Java's named groups, which POSIX lacks: (?<name>…) becomes (…) and ${name} in the replacement becomes
 * $n. names[i] is group i+1's name (or NULL). */
static char *regex_unname(const char *p, char **names, size_t max, size_t *ngroups)
{
    size_t n = strlen(p), g = 0;
    char *o = xmalloc(n + 1), *w = o;
    bool bracket = false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == '\\' && i + 1 < n) {
            *w++ = ch;
            *w++ = p[++i];
            continue;
        }
        if (bracket) {
            if (ch == ']')
                bracket = false;
            *w++ = ch;
            continue;
        }
        if (ch == '[') {
            bracket = true;
            *w++ = ch;
            if (i + 1 < n && p[i + 1] == '^')
                *w++ = p[++i];
            if (i + 1 < n && p[i + 1] == ']')
                *w++ = p[++i];
            continue;
        }
        if (ch == '(' && i + 2 < n && p[i + 1] == '?' && p[i + 2] == '<' && i + 3 < n && isalpha((unsigned char)p[i + 3])) {
            size_t k = i + 3;
            while (k < n && isalnum((unsigned char)p[k]))
                k++;
            if (k < n && p[k] == '>') {
                if (g < max)
                    names[g] = trim_dup(p + i + 3, k - i - 3);
                g++;
                *w++ = '(';
                i = k;
                continue;
            }
        }
        if (ch == '(' && !(i + 1 < n && p[i + 1] == '?'))
            g++;
        *w++ = ch;
    }
    *w = '\0';
    *ngroups = g;
    return o;
}

static char *replacement_unname(const char *rep, char *const *names, size_t ngroups, const tf_opts_t *o, char *err,
                                 size_t errlen)
{
    size_t n = strlen(rep);
    char *out = xmalloc(n + 1), *w = out;
    for (size_t i = 0; i < n; i++) {
        if (rep[i] == '\\' && i + 1 < n) {
            *w++ = rep[i++];
            *w++ = rep[i];
            continue;
        }
        if (rep[i] == '$' && i + 1 < n && rep[i + 1] == '{') {
            const char *end = strchr(rep + i + 2, '}');
            size_t g = 0;
            for (size_t k = 0; end && k < ngroups && k < TF_MAX_GROUPS - 1 && !g; k++)
                if (names[k] && strlen(names[k]) == (size_t)(end - rep - i - 2) && !strncmp(names[k], rep + i + 2, (size_t)(end - rep - i - 2)))
                    g = k + 1;
            if (!g) {
                snprintf(err, errlen, "%s.%s.route.topic.replacement: no group named '%.*s' in route.topic.regex",
                         o->kind, o->alias, end ? (int)(end - rep - i - 2) : (int)(n - i - 2), rep + i + 2);
                free(out);
                return NULL;
            }
            *w++ = '$';
            *w++ = (char)('0' + g);
            i = (size_t)(end - rep);
            continue;
        }
        *w++ = rep[i];
    }
    *w = '\0';
    return out;
}

static int extras_parse(const tf_opts_t *o, outbox_conf_t *c, char *err, size_t errlen)
{
    const char *v = tf_opt(o, "table.fields.additional.placement");
    static const char *const places[] = { "header", "envelope", "partition" };
    size_t cap = 0;
    while (v && *v) {
        const char *e = strchr(v, ',');
        size_t len = e ? (size_t)(e - v) : strlen(v);
        char *item = trim_dup(v, len);
        char *parts[4] = { 0 };
        size_t np = 0;
        for (char *s = item, *colon; np < 4; s = colon + 1) {
            colon = strchr(s, ':');
            parts[np++] = s;
            if (!colon)
                break;
            *colon = '\0';
        }
        /* Java's split(":") drops trailing empty parts */
        while (np > 1 && !*parts[np - 1])
            np--;
        int place = -1;
        for (int i = 0; np >= 2 && i < 3; i++)
            if (!strcasecmp(places[i], parts[1] + strspn(parts[1], " \t")))
                place = i;
        if ((np != 2 && np != 3) || place < 0 || !*parts[0]) {
            snprintf(err, errlen, "%s.%s.table.fields.additional.placement: '%.*s' is not field:placement or "
                     "field:placement:alias with placement header, envelope or partition", o->kind, o->alias,
                     (int)len, v);
            free(item);
            return -1;
        }
        if (c->nextra == cap) {
            cap = cap ? cap * 2 : 4;
            c->extra = xrealloc(c->extra, cap * sizeof *c->extra);
        }
        ob_extra_t *x = &c->extra[c->nextra++];
        x->placement = place;
        x->field = trim_dup(parts[0], strlen(parts[0]));
        x->alias = np == 3 ? trim_dup(parts[2], strlen(parts[2])) : xstrdup(x->field);
        free(item);
        if (place == PLACE_ENVELOPE) {
            /* Connect's SchemaBuilder fails every record on a duplicate field name: refused here */
            bool dup = !strcmp(x->alias, "payload");
            for (size_t i = 0; i + 1 < c->nextra && !dup; i++)
                dup = c->extra[i].placement == PLACE_ENVELOPE && !strcmp(c->extra[i].alias, x->alias);
            if (dup) {
                snprintf(err, errlen, "%s.%s.table.fields.additional.placement: the envelope would have two fields "
                         "named %s", o->kind, o->alias, x->alias);
                return -1;
            }
            c->only_headers = false;
        }
        v = e ? e + 1 : NULL;
    }
    return 0;
}

static int outbox_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    outbox_conf_t *c = xcalloc(1, sizeof *c);
    char *names[TF_MAX_GROUPS] = { 0 };
    char *re = NULL;
    c->only_headers = true;
    c->id = xstrdup(tf_opt_str(o, "table.field.event.id", "id"));
    c->key = xstrdup(tf_opt_str(o, "table.field.event.key", "aggregateid"));
    c->payload = xstrdup(tf_opt_str(o, "table.field.event.payload", "payload"));
    c->route = xstrdup(tf_opt_str(o, "route.by.field", "aggregatetype"));
    const char *ts = tf_opt(o, "table.field.event.timestamp"), *ver = tf_opt(o, "table.field.event.schema.version");
    c->ts = ts && *ts ? xstrdup(ts) : NULL;
    c->version = ver && *ver ? xstrdup(ver) : NULL;
    static const char *const invalid[] = { "warn", "error", "fatal", NULL };
    static const char *const nulls[] = { "ignore", "optional_bytes", NULL };
    static const char *const missing[] = { "error", "ignore", NULL };
    static const char *const adjust[] = { "none", "avro", "avro_unicode", NULL };
    int nb, mi, ad;
    if (tf_opt_enum(o, "table.op.invalid.behavior", "warn", invalid, &c->invalid, err, errlen) < 0 ||
        tf_opt_enum(o, "table.json.payload.null.behavior", "ignore", nulls, &nb, err, errlen) < 0 ||
        tf_opt_enum(o, "table.field.additional.missing", "error", missing, &mi, err, errlen) < 0 ||
        tf_opt_enum(o, "field.name.adjustment.mode", "none", adjust, &ad, err, errlen) < 0 ||
        tf_opt_bool(o, "route.tombstone.on.empty.payload", false, &c->tomb_on_empty, err, errlen) < 0 ||
        tf_opt_bool(o, "table.expand.json.payload", false, &c->expand, err, errlen) < 0)
        goto fail;
    c->null_bytes = nb == 1;
    c->missing_ignore = mi == 1;
    c->adjust = ad == 1 ? AVRO_ADJUST_AVRO : ad == 2 ? AVRO_ADJUST_UNICODE : AVRO_ADJUST_NONE;
    if (extras_parse(o, c, err, errlen) < 0)
        goto fail;
    re = regex_unname(tf_opt_str(o, "route.topic.regex", "(?<routedByValue>.*)"), names, TF_MAX_GROUPS, &c->ngroups);
    char what[256];
    snprintf(what, sizeof what, "%s.%s.route.topic.regex", o->kind, o->alias);
    if (rx_compile(&c->re, re, what, err, errlen) < 0)
        goto fail;
    c->has_re = true;
    c->rep = replacement_unname(tf_opt_str(o, "route.topic.replacement", "outbox.event.${routedByValue}"), names,
                                c->ngroups, o, err, errlen);
    if (!c->rep || tf_replacement_check(c->rep, c->re.re_nsub, o, "route.topic.replacement", err, errlen) < 0)
        goto fail;
    int h = 1;   /* "id" */
    for (size_t i = 0; i < c->nextra; i++)
        h += c->extra[i].placement == PLACE_HEADER;
    *headers = h;
    for (size_t i = 0; i < TF_MAX_GROUPS; i++)
        free(names[i]);
    free(re);
    *conf = c;
    return 0;
fail:
    for (size_t i = 0; i < TF_MAX_GROUPS; i++)
        free(names[i]);
    free(re);
    outbox_free(c);
    return -1;
}

/* ---------------------------------------------------------------- schemas: equality, copies */

/* ConnectSchema.hashCode/equals, structurally (a default compares by identity: one table version's). */
static uint64_t sch_hash(const cs_schema_t *s, uint64_t h)
{
    if (!s)
        return buf_hash("-", 1, h);
    int t = (int)s->type, opt = s->optional;
    h = buf_hash(&t, sizeof t, h);
    h = buf_hash(&opt, sizeof opt, h);
    h = buf_hash(&s->version, sizeof s->version, h);
    h = buf_hash(&s->def, sizeof s->def, h);
    if (s->name)
        h = buf_hash(s->name, strlen(s->name) + 1, h);
    if (s->doc)
        h = buf_hash(s->doc, strlen(s->doc) + 1, h ^ 0x55);
    for (size_t i = 0; i < s->nparams; i++) {
        h = buf_hash(s->params[i].key, strlen(s->params[i].key) + 1, h);
        h = buf_hash(s->params[i].value, strlen(s->params[i].value) + 1, h);
    }
    for (size_t i = 0; i < s->nfields; i++) {
        h = buf_hash(s->fields[i].name, strlen(s->fields[i].name) + 1, h);
        h = sch_hash(s->fields[i].schema, h);
    }
    h = sch_hash(s->items, h);
    return sch_hash(s->keys, h ^ 0x77);
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool sch_eq(const cs_schema_t *a, const cs_schema_t *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->type != b->type || a->optional != b->optional || a->version != b->version || a->def != b->def ||
        !str_eq(a->name, b->name) || !str_eq(a->doc, b->doc) || a->nparams != b->nparams || a->nfields != b->nfields)
        return false;
    for (size_t i = 0; i < a->nparams; i++)
        if (!str_eq(a->params[i].key, b->params[i].key) || !str_eq(a->params[i].value, b->params[i].value))
            return false;
    for (size_t i = 0; i < a->nfields; i++)
        if (!str_eq(a->fields[i].name, b->fields[i].name) || !sch_eq(a->fields[i].schema, b->fields[i].schema))
            return false;
    return sch_eq(a->items, b->items) && sch_eq(a->keys, b->keys);
}

/* A deep copy of an inferred schema (no defaults, no parameters) into the chain's long-lived arena. */
static const cs_schema_t *sch_keep(arena_t *a, const cs_schema_t *s)
{
    if (!s)
        return NULL;
    cs_schema_t *c = cs_new(a, s->type, s->optional);
    c->name = s->name ? arena_strdup(a, s->name) : NULL;
    c->version = s->version;
    for (size_t i = 0; i < s->nfields; i++)
        cs_field_add(a, c, arena_strdup(a, s->fields[i].name), sch_keep(a, s->fields[i].schema));
    c->items = sch_keep(a, s->items);
    return c;
}

/* ---------------------------------------------------------------- JSON payloads (JsonSchemaData) */

typedef struct {
    const outbox_conf_t *c;
    arena_t *a;
    char *err;
    size_t errlen;
} infer_t;

/* Jackson's number node classes: IntNode, LongNode, DoubleNode. */
static ct_type_t number_type(const json_t *j)
{
    if (json_is_real(j))
        return CT_FLOAT64;
    json_int_t i = json_integer_value(j);
    return i >= INT32_MIN && i <= INT32_MAX ? CT_INT32 : CT_INT64;
}

/* Jackson's node type: booleans and numbers are one type each. */
static int node_type(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_TRUE:
    case JSON_FALSE:
        return JSON_TRUE;
    case JSON_REAL:
        return JSON_INTEGER;
    default:
        return json_typeof(j);
    }
}

static int infer(infer_t *t, const char *key, const json_t *j, const cs_schema_t **out);

/* mergeSchema: the left's fields, then the right's new ones; an optional-bytes field (a null) yields to a
 * typed one. The merged struct is copySchemaBasics(left): not optional. */
static const cs_schema_t *merge(infer_t *t, const cs_schema_t *l, const cs_schema_t *r)
{
    if (!l)
        return r;
    cs_schema_t *m = cs_new(t->a, CT_STRUCT, false);
    m->name = l->name;
    m->version = l->version;
    for (size_t i = 0; i < l->nfields; i++) {
        const cs_schema_t *fs = l->fields[i].schema;
        int k = cs_field_index(r, l->fields[i].name);
        if (k >= 0 && fs->type == CT_BYTES && r->fields[k].schema->type != CT_BYTES)
            fs = r->fields[k].schema;
        cs_field_add(t->a, m, l->fields[i].name, fs);
    }
    for (size_t i = 0; i < r->nfields; i++)
        if (cs_field_index(l, r->fields[i].name) < 0)
            cs_field_add(t->a, m, r->fields[i].name, r->fields[i].schema);
    return m;
}

/* toConnectSchemaWithCycles: the element schema of a non-empty array, or -1 (a ConnectException). */
static int infer_items(infer_t *t, const char *key, const json_t *arr, const cs_schema_t **out)
{
    const json_t *ref = NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        if (json_is_null(e))
            continue;
        if (!ref)
            ref = e;
        if (node_type(e) != node_type(ref) || (json_is_number(ref) && number_type(e) != number_type(ref))) {
            snprintf(t->err, t->errlen, "Field is not a homogenous array");
            return -1;
        }
    }
    *out = NULL;
    if (ref && json_is_object(ref)) {
        /* Debezium merges a HashSet of the element schemas (its order is not defined): first seen first here */
        const cs_schema_t **seen = arena_alloc(t->a, (json_array_size(arr) + 1) * sizeof *seen);
        size_t nseen = 0;
        json_array_foreach(arr, i, e) {
            if (!json_is_object(e))
                continue;
            const cs_schema_t *s;
            if (infer(t, key, e, &s) < 0)
                return -1;
            bool dup = false;
            for (size_t k = 0; k < nseen && !dup; k++)
                dup = sch_eq(seen[k], s);
            if (dup)
                continue;
            seen[nseen++] = s;
            *out = merge(t, *out, s);
        }
        return 0;
    }
    if (infer(t, NULL, ref ? ref : json_null(), out) < 0)
        return -1;
    if (!*out) {
        snprintf(t->err, t->errlen, "Array has unrecognized member schema");
        return -1;
    }
    return 0;
}

static bool blank(const char *s)
{
    while (s && *s && isspace((unsigned char)*s))
        s++;
    return !s || !*s;
}

/* JsonSchemaData.toConnectSchema: *out NULL when the node has no schema (a null, an empty array). */
static int infer(infer_t *t, const char *key, const json_t *j, const cs_schema_t **out)
{
    *out = NULL;
    switch (json_typeof(j)) {
    case JSON_STRING:
        *out = cs_new(t->a, CT_STRING, true);
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        *out = cs_new(t->a, CT_BOOLEAN, true);
        return 0;
    case JSON_INTEGER:
    case JSON_REAL:
        *out = cs_new(t->a, number_type(j), true);
        return 0;
    case JSON_NULL:
        if (t->c->null_bytes)
            *out = cs_new(t->a, CT_BYTES, true);
        return 0;
    case JSON_ARRAY: {
        if (!json_array_size(j))
            return 0;
        const cs_schema_t *items;
        if (infer_items(t, key, j, &items) < 0)
            return -1;
        cs_schema_t *s = cs_new(t->a, CT_ARRAY, true);
        s->items = items;
        *out = s;
        return 0;
    }
    case JSON_OBJECT: {
        cs_schema_t *s = cs_new(t->a, CT_STRUCT, true);
        s->name = key;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            const char *name = avro_adjust_name(t->a, arena_strdup(t->a, k), t->c->adjust, true);
            size_t kl = (key ? strlen(key) : 0) + strlen(name) + 2;
            char *fkey = arena_alloc(t->a, kl);
            snprintf(fkey, kl, "%s%s%s", blank(key) ? "" : key, blank(key) ? "" : ".", name);
            const cs_schema_t *fs;
            if (infer(t, fkey, v, &fs) < 0)
                return -1;
            if (fs && cs_field_index(s, name) < 0)
                cs_field_add(t->a, s, name, fs);
        }
        *out = s;
        return 0;
    }
    }
    return 0;
}

/* JsonSchemaData.toConnectData under Struct.put's checks: a node whose Java class is not the schema's
 * fails (as the record then does in Debezium). */
static int json_value(infer_t *t, const json_t *j, const cs_schema_t *s, cv_value_t *out)
{
    ct_type_t want;
    switch (json_typeof(j)) {
    case JSON_NULL:
        *out = cv_null();
        if (!s->optional) {
            snprintf(t->err, t->errlen, "a null in the payload where its schema requires a value");
            return -1;
        }
        return 0;
    case JSON_STRING:
        want = CT_STRING;
        *out = cv_str(arena_memdup(t->a, json_string_value(j), json_string_length(j) + 1), json_string_length(j));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        want = CT_BOOLEAN;
        *out = cv_bool(json_is_true(j));
        break;
    case JSON_INTEGER:
        want = number_type(j);
        *out = cv_int(json_integer_value(j));
        break;
    case JSON_REAL:
        want = CT_FLOAT64;
        *out = cv_float(json_real_value(j));
        break;
    case JSON_ARRAY: {
        want = CT_ARRAY;
        if (s->type != want)
            break;
        *out = cv_list(t->a, json_array_size(j));
        size_t i;
        const json_t *e;
        json_array_foreach(j, i, e) if (json_value(t, e, s->items, &out->u.list.v[i]) < 0) return -1;
        return 0;
    }
    default:
        want = CT_STRUCT;
        if (s->type != want)
            break;
        *out = cv_list(t->a, s->nfields);
        for (size_t i = 0; i < s->nfields; i++) {
            const json_t *v = json_object_get(j, s->fields[i].name);
            if (v && json_value(t, v, s->fields[i].schema, &out->u.list.v[i]) < 0)
                return -1;
        }
        return 0;
    }
    if (s->type != want) {
        snprintf(t->err, t->errlen, "a %s in the payload where its inferred schema has a %s", ct_type_name(want),
                 ct_type_name(s->type));
        return -1;
    }
    return 0;
}

static int json_depth(const json_t *j)
{
    int d = 0;
    if (json_is_array(j)) {
        size_t i;
        const json_t *e;
        json_array_foreach(j, i, e) {
            int k = json_depth(e);
            d = k > d ? k : d;
        }
        return d + 1;
    }
    if (json_is_object(j)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            int n = json_depth(v);
            d = n > d ? n : d;
        }
        return d + 1;
    }
    return 0;
}

/* table.expand.json.payload: 1 with *ps and *pv the expanded payload (its schema interned in the chain),
 * 0 when the text is left as it is (warn names why), -1 when Debezium fails the record (err). */
static int expand(const tf_ctx_t *x, const outbox_conf_t *c, const cv_value_t *text, const cs_schema_t **ps,
                  cv_value_t *pv, char *warn, size_t warnlen, char *err, size_t errlen)
{
    const char *p = text->u.s.p;
    size_t n = text->u.s.n;
    if (!n || (p[0] != '{' && p[0] != '[')) {
        snprintf(warn, warnlen, "JSON expansion failed: the payload does not start with { or [");
        return 0;
    }
    json_error_t je;
    json_t *j = json_loadb(p, n, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &je);
    if (!j) {
        if (json_error_code(&je) == json_error_numeric_overflow) {
            /* Jackson reads it as a BigInteger, which no inferred schema takes: the record fails */
            snprintf(err, errlen, "the payload holds a number out of the 64-bit range (at byte %d)", je.position);
            return -1;
        }
        snprintf(warn, warnlen, "JSON expansion failed: %s at byte %d", je.text, je.position);
        return 0;
    }
    int rc = 0;
    if (json_depth(j) > OB_MAX_DEPTH) {
        snprintf(warn, warnlen, "JSON expansion failed: nesting deeper than %d", OB_MAX_DEPTH);
        goto out;
    }
    infer_t t = { c, x->a, warn, warnlen };
    const cs_schema_t *s;
    char why[256] = "";
    t.err = why;
    t.errlen = sizeof why;
    if (infer(&t, c->payload, j, &s) < 0) {
        snprintf(warn, warnlen, "JSON expansion failed: %s", why);
        goto out;
    }
    if (!s || s->type != CT_STRUCT) {
        /* Debezium then puts the text under the array schema it inferred (or none): the record fails */
        snprintf(err, errlen, "table.expand.json.payload: a payload that is %s cannot be expanded",
                 s ? "a JSON array" : "an empty JSON array");
        rc = -1;
        goto out;
    }
    t.err = err;
    t.errlen = errlen;
    if (json_value(&t, j, s, pv) < 0) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "table.expand.json.payload: %s", tmp);
        rc = -1;
        goto out;
    }
    /* one schema object per shape: the converter caches its text per schema */
    uint64_t h = sch_hash(s, 0);
    const void *aux = NULL;
    const cs_schema_t *kept = tf_cache_get_aux(x->cache, h, 10, &aux);
    if (!kept || !sch_eq(kept, s)) {
        const cs_schema_t *k = sch_keep(x->schemas, s);
        if (!kept)
            tf_cache_put(x->cache, h, 10, k);
        kept = k;
    }
    *ps = kept;
    rc = 1;
out:
    json_decref(j);
    return rc;
}

/* ---------------------------------------------------------------- the router */

static int field_of(const cs_schema_t *s, const char *name, char *err, size_t errlen)
{
    int i = cs_field_index(s, name);
    if (i < 0)
        snprintf(err, errlen, "%s is not a valid field name", name);
    return i;
}

/* Struct.getString, getInt32, getInt64: the field's type must be t. */
static int typed_field(const cs_schema_t *s, const char *name, ct_type_t t, char *err, size_t errlen)
{
    int i = field_of(s, name, err, errlen);
    if (i >= 0 && s->fields[i].schema->type != t) {
        snprintf(err, errlen, "field %s is a %s, not a %s", name, ct_type_name(s->fields[i].schema->type), ct_type_name(t));
        return -1;
    }
    return i;
}

/* getEventTimestampMs: the envelope's ts_ms, or the timestamp column's value in milliseconds. */
static int event_ts(const outbox_conf_t *c, const cs_schema_t *env, const cv_value_t *envv, const cs_schema_t *es,
                    const cv_value_t *ev, tf_rec_t *r, char *err, size_t errlen)
{
    r->has_ts = false;
    if (c->ts) {
        int i = cs_field_index(es, c->ts);
        if (i < 0) {
            snprintf(err, errlen, "Unable to find timestamp field %s in event", c->ts);
            return -1;
        }
        if ((i = typed_field(es, c->ts, CT_INT64, err, errlen)) < 0)
            return -1;
        cv_value_t v = tf_field_get(es, ev, (size_t)i, false);   /* Struct.getInt64: no default */
        if (!v.null) {
            const char *sn = es->fields[i].schema->name;
            int64_t div = !sn ? 0 : !strcmp(sn, "io.debezium.time.Timestamp") ? 1 :
                          !strcmp(sn, "io.debezium.time.MicroTimestamp") ? 1000 :
                          !strcmp(sn, "io.debezium.time.NanoTimestamp") ? 1000000 : 0;
            if (!div) {
                snprintf(err, errlen, "Unsupported field type %s for event timestamp", sn ? sn : "int64 (without logical schema name)");
                return -1;
            }
            r->has_ts = true;
            r->ts_ms = v.u.i / div;
            return 0;
        }
    }
    int ti = typed_field(env, "ts_ms", CT_INT64, err, errlen);
    if (ti < 0)
        return -1;
    cv_value_t v = tf_field_get(env, envv, (size_t)ti, true);
    if (!v.null) {
        r->has_ts = true;
        r->ts_ms = v.u.i;
    }
    return 0;
}

/* getSchemaName: the after schema's name with the routing value before its last part. */
static const char *value_schema_name(arena_t *a, const char *after, const char *routed)
{
    if (!after)
        return arena_strdup(a, routed);
    const char *dot = strrchr(after, '.');
    size_t n = strlen(after) + strlen(routed) + 3;
    char *o = arena_alloc(a, n);
    if (dot)
        snprintf(o, n, "%.*s%s.%s", (int)(dot - after + 1), after, routed, dot + 1);
    else
        snprintf(o, n, "%s.%s", routed, after);
    return o;
}

/* getValueSchema: cached by the payload schema (structurally), or by the schema version alone when
 * table.field.event.schema.version is set; the name is the one of the first record that built it. */
static const cs_schema_t *value_schema(const tf_ctx_t *x, const outbox_conf_t *c, const cs_schema_t *ps,
                                       const cs_schema_t *es, const char *routed, bool versioned, const cv_value_t *ver,
                                       char *err, size_t errlen)
{
    uint64_t uid, extra;
    if (versioned) {
        uid = 0x6f7574626f78ULL;
        extra = ver->null ? 0 : (uint64_t)(uint32_t)ver->u.i + 1;
    } else {
        uid = sch_hash(ps, 0);
        extra = 11;
    }
    const void *aux = NULL;
    const cs_schema_t *vs = tf_cache_get_aux(x->cache, uid, extra, &aux);
    if (vs && (versioned || sch_eq(aux, ps)))
        return vs;
    cs_schema_t *b = cs_new(x->schemas, CT_STRUCT, false);
    b->name = value_schema_name(x->schemas, es->name, routed ? routed : "null");
    if (versioned && !ver->null)
        b->version = (int)ver->u.i;
    cs_field_add(x->schemas, b, "payload", ps);
    for (size_t i = 0; i < c->nextra; i++) {
        if (c->extra[i].placement != PLACE_ENVELOPE)
            continue;
        int k = cs_field_index(es, c->extra[i].field);
        if (k < 0) {
            if (!c->missing_ignore) {
                snprintf(err, errlen, "Unable to find field %s in event", c->extra[i].field);
                return NULL;
            }
            continue;
        }
        cs_field_add(x->schemas, b, arena_strdup(x->schemas, c->extra[i].alias), es->fields[k].schema);
    }
    if (!vs)
        tf_cache_put_aux(x->cache, uid, extra, b, ps);
    return b;
}

bool tf_fits(const cs_schema_t *field, const cs_schema_t *value_schema, bool null)
{
    if (null)
        return field->optional;
    if (field->type != value_schema->type)
        return false;
    if (field->type == CT_STRUCT)
        return sch_eq(field, value_schema);
    if (field->type == CT_ARRAY)
        return tf_fits(field->items, value_schema->items, false);
    return true;
}

static bool blank_text(const cv_value_t *v)
{
    for (size_t i = 0; i < v->u.s.n; i++)
        if ((unsigned char)v->u.s.p[i] > ' ')
            return false;
    return true;
}

static wc_status_t outbox_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const outbox_conf_t *c = conf;
    if (!r->value) {
        *drop = true;   /* tombstones are ignored */
        return WC_OK;
    }
    const cs_schema_t *env = r->vs;
    size_t nl = env && env->name ? strlen(env->name) : 0;
    if (nl < 9 || strcmp(env->name + nl - 9, ".Envelope"))
        return WC_OK;   /* heartbeats, transaction metadata, messages: unchanged */
    if (env->type != CT_STRUCT) {
        snprintf(err, errlen, "Only Struct objects supported for [Detect Debezium Operation], found: %s", ct_type_name(env->type));
        return WC_PERMANENT;
    }
    int oi = typed_field(env, "op", CT_STRING, err, errlen);
    if (oi < 0)
        return WC_PERMANENT;
    cv_value_t op = tf_field_get(env, r->value, (size_t)oi, true);
    if (op.null) {
        snprintf(err, errlen, "the envelope has a null op");
        return WC_PERMANENT;
    }
    if (op.u.s.n == 1 && op.u.s.p[0] == 'd') {
        *drop = true;
        return WC_OK;
    }
    if (op.u.s.n == 1 && op.u.s.p[0] == 'u') {
        if (c->invalid == INVALID_FATAL) {
            snprintf(err, errlen, "Unexpected update message received, fail (table.op.invalid.behavior=fatal)");
            return WC_PERMANENT;
        }
        snprintf(err, errlen, "Unexpected update message received and ignored (table.op.invalid.behavior=%s)",
                 c->invalid == INVALID_WARN ? "warn" : "error");
        *drop = true;
        return WC_OK;
    }
    int ai = cs_field_index(env, "after");
    if (ai < 0) {
        snprintf(err, errlen, "Unknown field: after");
        return WC_PERMANENT;
    }
    const cs_schema_t *es = env->fields[ai].schema;
    cv_value_t after = tf_field_get(env, r->value, (size_t)ai, true);
    if (es->type != CT_STRUCT || after.null) {
        snprintf(err, errlen, "Only Struct objects supported for [Read Outbox Event], found: %s",
                 after.null ? "null" : ct_type_name(es->type));
        return WC_PERMANENT;
    }
    int pi = cs_field_index(es, c->payload);
    if (pi < 0) {
        snprintf(err, errlen, "Unable to find payload field %s in event", c->payload);
        return WC_PERMANENT;
    }
    const cs_schema_t *ps = es->fields[pi].schema;
    tf_rec_t nr = *r;
    if (event_ts(c, env, r->value, es, &after, &nr, err, errlen) < 0)
        return WC_PERMANENT;
    int ii = field_of(es, c->id, err, errlen);
    if (ii < 0)
        return WC_PERMANENT;
    cv_value_t id = tf_field_get(es, &after, (size_t)ii, true);
    tf_header_put(x, &nr, "id", es->fields[ii].schema, &id, false);
    cv_value_t payload = tf_field_get(es, &after, (size_t)pi, true);
    if (c->expand) {
        if (ps->type == CT_STRING && !payload.null) {
            cv_value_t pv;
            const cs_schema_t *xs;
            int rc = expand(x, c, &payload, &xs, &pv, err, errlen, err, errlen);
            if (rc < 0)
                return WC_PERMANENT;
            if (rc > 0) {
                ps = xs;
                payload = pv;
            }
        } else if (!payload.null) {
            snprintf(err, errlen, "Expand JSON payload is turned on but payload is not a string");
        }
    }
    /* routing value, schema version (read by getValueSchema before anything else) */
    int ri = typed_field(es, c->route, CT_STRING, err, errlen);
    if (ri < 0)
        return WC_PERMANENT;
    cv_value_t rv = tf_field_get(es, &after, (size_t)ri, true);
    const char *routed = rv.null ? NULL : arena_strndup(x->a, rv.u.s.p, rv.u.s.n);
    const cs_schema_t *vs = NULL;
    cv_value_t *value = NULL;
    if (!c->only_headers) {
        cv_value_t ver = cv_null();
        if (c->version) {
            int vi = typed_field(es, c->version, CT_INT32, err, errlen);
            if (vi < 0)
                return WC_PERMANENT;
            ver = tf_field_get(es, &after, (size_t)vi, true);
        }
        if (!(vs = value_schema(x, c, ps, es, routed, c->version != NULL, &ver, err, errlen)))
            return WC_PERMANENT;
        if (!tf_fits(vs->fields[0].schema, ps, payload.null)) {
            /* a version's cached schema with another payload type: Struct.put fails */
            snprintf(err, errlen, "the payload does not fit the value schema cached for this schema version");
            return WC_PERMANENT;
        }
        value = arena_alloc(x->a, sizeof *value);
        *value = cv_list(x->a, vs->nfields);
        value->u.list.v[0] = payload;
    }
    for (size_t i = 0; i < c->nextra; i++) {
        const ob_extra_t *e = &c->extra[i];
        int k = cs_field_index(es, e->field);
        if (k < 0 && c->missing_ignore)
            continue;
        if (k < 0) {
            snprintf(err, errlen, "%s is not a valid field name", e->field);
            return WC_PERMANENT;
        }
        cv_value_t v = tf_field_get(es, &after, (size_t)k, true);
        if (e->placement == PLACE_ENVELOPE) {
            int vi = cs_field_index(vs, e->alias);
            if (vi < 0 || !tf_fits(vs->fields[vi].schema, es->fields[k].schema, v.null)) {
                snprintf(err, errlen, vi < 0 ? "%s is not a valid field name" : "%s does not fit the value schema cached "
                         "for this payload schema", e->alias);
                return WC_PERMANENT;
            }
            value->u.list.v[vi] = v;
        } else if (e->placement == PLACE_HEADER) {
            tf_header_put(x, &nr, e->alias, es->fields[k].schema, &v, false);
        } else {
            if (es->fields[k].schema->type != CT_INT32) {
                snprintf(err, errlen, "field %s is a %s, not an int32 (placement partition)", e->field,
                         ct_type_name(es->fields[k].schema->type));
                return WC_PERMANENT;
            }
            nr.has_partition = !v.null;
            nr.partition = (int32_t)v.u.i;
        }
    }
    bool empty = payload.null || (ps->type == CT_STRING && blank_text(&payload));
    if (empty && c->tomb_on_empty) {
        nr.vs = NULL;
        nr.value = NULL;
    } else if (c->only_headers) {
        cv_value_t *pv = arena_alloc(x->a, sizeof *pv);
        *pv = payload;
        nr.vs = ps;
        nr.value = payload.null ? NULL : pv;
    } else {
        nr.vs = vs;
        nr.value = value;
    }
    int ki = field_of(es, c->key, err, errlen);
    if (ki < 0)
        return WC_PERMANENT;
    cv_value_t key = tf_field_get(es, &after, (size_t)ki, true);
    nr.ks = es->fields[ki].schema;
    cv_value_t *kv = arena_alloc(x->a, sizeof *kv);
    *kv = key;
    nr.key = key.null ? NULL : kv;
    if (!routed) {
        snprintf(err, errlen, "the routing field %s is null", c->route);
        return WC_PERMANENT;
    }
    const char *topic;
    if (!tf_memo_get(&x->memo[0], routed, &topic)) {
        regmatch_t pm[TF_MAX_GROUPS];
        size_t ng = c->re.re_nsub < TF_MAX_GROUPS ? c->re.re_nsub : TF_MAX_GROUPS - 1;
        topic = rx_matches(&c->re, routed, pm, ng + 1) ? tf_replace_groups(x->a, routed, pm, ng, c->rep) : NULL;
        tf_memo_put(&x->memo[0], x->schemas, routed, topic);
        tf_memo_get(&x->memo[0], routed, &topic);
    }
    nr.topic = topic ? topic : routed;
    nr.fresh = true;
    *r = nr;
    return WC_OK;
}

const tf_type_t tf_dbz_outbox = { "io.debezium.transforms.outbox.EventRouter", outbox_opts, outbox_configure,
                                  outbox_free, outbox_apply };
