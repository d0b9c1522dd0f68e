/* transform.c: the transform chain (Connect's TransformationChain: predicates, negate, a null record
 * ends it), its configuration, the three predicates and Kafka's own transforms, over Connect values. */
#include "schemas/transform_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schemas/json.h"
#include "schemas/regex.h"

/* Debezium's own headers: __debezium.newkey/oldkey and the four context headers. */
#define TF_BASE_HEADERS 5
/* Derived schemas kept before the chain starts over (table versions come and go). */
#define TF_MAX_CACHED 20000

enum { PRED_TOPIC, PRED_HEADER, PRED_TOMBSTONE };

typedef struct tf_pred {
    char *alias;
    int kind;
    regex_t re;
    char *name;
} tf_pred_t;

struct tf_spec {
    tf_step_t *steps;
    size_t nsteps;
    tf_pred_t *preds;
    size_t npreds;
    char **strings;               /* aliases, owned */
    size_t nstrings;
};

typedef struct codec_ent {
    uint64_t uid;
    uint64_t hash;
    char *topic;
    rec_codec_t codec;
} codec_ent_t;

struct tf_chain {
    const tf_spec_t *spec;
    tf_leak_t leak;               /* of the last delete, for its tombstone */
    const char *leak_topic;       /* that delete's topic (the event's, long-lived) */
    arena_t *schemas;             /* derived schemas */
    tf_cache_t *caches;           /* one per step */
    tf_memo_t *memos;             /* two per step, then one per predicate */
    codec_ent_t **codecs;         /* open addressing on (uid, topic) */
    size_t ncodecs, capcodecs;
    size_t cached;
};

/* ---------------------------------------------------------------- options */

const char *tf_opt(const tf_opts_t *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->kv[i].key, key) == 0)
            return o->kv[i].value;
    return NULL;
}

const char *tf_opt_str(const tf_opts_t *o, const char *key, const char *def)
{
    const char *v = tf_opt(o, key);
    return v ? v : def;
}

int tf_opt_required(const tf_opts_t *o, const char *key, const char **out, char *err, size_t errlen)
{
    *out = tf_opt(o, key);
    if (!*out) {
        snprintf(err, errlen, "%s.%s.%s is required", o->kind, o->alias, key);
        return -1;
    }
    return 0;
}

static const char *trimmed(const char *s, size_t *n)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t k = strlen(s);
    while (k && isspace((unsigned char)s[k - 1]))
        k--;
    *n = k;
    return s;
}

int tf_opt_bool(const tf_opts_t *o, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    const char *v = tf_opt(o, key);
    *out = def;
    if (!v)
        return 0;
    size_t n;
    const char *t = trimmed(v, &n);
    if (n == 4 && strncasecmp(t, "true", 4) == 0)
        *out = true;
    else if (n == 5 && strncasecmp(t, "false", 5) == 0)
        *out = false;
    else {
        snprintf(err, errlen, "%s.%s.%s: '%s' is not a boolean; use true or false", o->kind, o->alias, key, v);
        return -1;
    }
    return 0;
}

int tf_opt_enum(const tf_opts_t *o, const char *key, const char *def, const char *const *allowed, int *out,
                char *err, size_t errlen)
{
    const char *v = tf_opt(o, key);
    size_t n;
    const char *t = trimmed(v ? v : def, &n);
    for (int i = 0; allowed[i]; i++)
        if (strlen(allowed[i]) == n && strncasecmp(allowed[i], t, n) == 0) {
            *out = i;
            return 0;
        }
    char list[512] = "";
    for (int i = 0; allowed[i]; i++) {
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, allowed[i], sizeof list - strlen(list) - 1);
    }
    snprintf(err, errlen, "%s.%s.%s: '%s' is not one of %s", o->kind, o->alias, key, v ? v : def, list);
    return -1;
}

char **tf_opt_list(const tf_opts_t *o, const char *key, size_t *count)
{
    const char *v = tf_opt(o, key);
    size_t cap = 4, n = 0;
    char **l = xcalloc(cap, sizeof *l);
    while (v && *v) {
        const char *e = strchr(v, ',');
        size_t len = e ? (size_t)(e - v) : strlen(v);
        char *item = xmalloc(len + 1);
        memcpy(item, v, len);
        item[len] = '\0';
        size_t k;
        const char *t = trimmed(item, &k);
        if (k) {
            if (n + 2 > cap) {
                cap *= 2;
                l = xrealloc(l, cap * sizeof *l);
            }
            memmove(item, t, k);
            item[k] = '\0';
            l[n++] = item;
            l[n] = NULL;
        } else
            free(item);
        v = e ? e + 1 : NULL;
    }
    if (count)
        *count = n;
    return l;
}

void tf_list_free(char **l)
{
    if (!l)
        return;
    for (size_t i = 0; l[i]; i++)
        free(l[i]);
    free(l);
}

static bool list_has(char *const *l, const char *s)
{
    for (size_t i = 0; l && l[i]; i++)
        if (strcmp(l[i], s) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- schemas, values, headers */

static size_t slot_of(uint64_t uid, uint64_t extra, size_t cap)
{
    uint64_t h = (uid * 0x9E3779B97F4A7C15ULL) ^ (extra + 0x7F4A7C15ULL + (uid << 6));
    return (size_t)(h & (cap - 1));
}

const cs_schema_t *tf_cache_get_aux(const tf_cache_t *c, uint64_t uid, uint64_t extra, const void **aux)
{
    if (!c->cap)
        return NULL;
    for (size_t i = slot_of(uid, extra, c->cap);; i = (i + 1) & (c->cap - 1)) {
        const tf_cache_ent_t *e = &c->e[i];
        if (!e->out)
            return NULL;
        if (e->uid == uid && e->extra == extra) {
            if (aux)
                *aux = e->aux;
            return e->out;
        }
    }
}

const cs_schema_t *tf_cache_get(const tf_cache_t *c, uint64_t uid, uint64_t extra)
{
    return tf_cache_get_aux(c, uid, extra, NULL);
}

void tf_cache_put_aux(tf_cache_t *c, uint64_t uid, uint64_t extra, const cs_schema_t *out, const void *aux)
{
    if ((c->n + 1) * 2 > c->cap) {
        tf_cache_t g = { .cap = c->cap ? c->cap * 2 : 16 };
        g.e = xcalloc(g.cap, sizeof *g.e);
        for (size_t i = 0; i < c->cap; i++)
            if (c->e[i].out)
                tf_cache_put_aux(&g, c->e[i].uid, c->e[i].extra, c->e[i].out, c->e[i].aux);
        free(c->e);
        *c = g;
    }
    size_t i = slot_of(uid, extra, c->cap);
    while (c->e[i].out)
        i = (i + 1) & (c->cap - 1);
    c->e[i] = (tf_cache_ent_t){ uid, extra, out, aux };
    c->n++;
}

void tf_cache_put(tf_cache_t *c, uint64_t uid, uint64_t extra, const cs_schema_t *out)
{
    tf_cache_put_aux(c, uid, extra, out, NULL);
}

bool tf_memo_get(const tf_memo_t *m, const char *s, const char **out)
{
    if (!m->cap)
        return false;
    uint64_t h = buf_hash(s, strlen(s), 0);
    for (size_t i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const tf_memo_ent_t *e = &m->e[i];
        if (!e->in)
            return false;
        if (e->hash == h && !strcmp(e->in, s)) {
            *out = e->out;
            return true;
        }
    }
}

void tf_memo_put(tf_memo_t *m, arena_t *a, const char *s, const char *out)
{
    if ((m->n + 1) * 2 > m->cap) {
        tf_memo_t g = { .cap = m->cap ? m->cap * 2 : 16 };
        g.e = xcalloc(g.cap, sizeof *g.e);
        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].in) {
                size_t k = (size_t)m->e[i].hash & (g.cap - 1);
                while (g.e[k].in)
                    k = (k + 1) & (g.cap - 1);
                g.e[k] = m->e[i];
                g.n++;
            }
        free(m->e);
        *m = g;
    }
    uint64_t h = buf_hash(s, strlen(s), 0);
    size_t k = (size_t)h & (m->cap - 1);
    while (m->e[k].in)
        k = (k + 1) & (m->cap - 1);
    m->e[k] = (tf_memo_ent_t){ h, arena_strdup(a, s), out ? arena_strdup(a, out) : NULL };
    m->n++;
}

cs_schema_t *tf_struct_basics(arena_t *a, const cs_schema_t *s)
{
    cs_schema_t *o = cs_new(a, CT_STRUCT, false);
    o->name = s->name;
    o->version = s->version;
    o->doc = s->doc;
    memcpy(o->params, s->params, sizeof o->params);
    o->nparams = s->nparams;
    return o;
}

cv_value_t tf_field_get(const cs_schema_t *s, const cv_value_t *v, size_t i, bool with_default)
{
    cv_value_t r = i < v->u.list.n ? v->u.list.v[i] : cv_null();
    if (r.null && with_default && s->fields[i].schema->def)
        r = *s->fields[i].schema->def;
    return r;
}

bool tf_is_struct(const cs_schema_t *s, const cv_value_t *v)
{
    return s && s->type == CT_STRUCT && v && !v->null;
}

void tf_header_add(tf_rec_t *r, const char *key, const void *value, size_t len)
{
    if (r->nh < REC_MAX_HEADERS)
        r->h[r->nh++] = (rec_header_t){ .key = key, .value = value, .len = len };
}

void tf_header_put(const tf_ctx_t *x, tf_rec_t *r, const char *key, const cs_schema_t *s, const cv_value_t *v,
                   bool in_place)
{
    tf_header_put_as(x, r, key, s, s, v, in_place);
}

void tf_header_put_as(const tf_ctx_t *x, tf_rec_t *r, const char *key, const cs_schema_t *s, const cs_schema_t *text_s,
                      const cv_value_t *v, bool in_place)
{
    size_t len;
    const char *text = tf_header_text(x->a, text_s, v, &len);
    cv_value_t *cv = NULL;
    if (v && !v->null) {
        cv = arena_alloc(x->a, sizeof *cv);
        *cv = *v;
    }
    if (r->nh < REC_MAX_HEADERS)
        r->h[r->nh++] = (rec_header_t){ .key = key, .value = text, .len = len, .schema = s, .cv = cv };
    if (in_place && x->leak && !r->fresh && x->leak->nh < REC_MAX_HEADERS) {
        /* kept past this record's arena: copied, as bytes (a tombstone's headers go to no value) */
        void *copy = text ? xmalloc(len ? len : 1) : NULL;
        if (copy && len)
            memcpy(copy, text, len);
        x->leak->h[x->leak->nh++] = (rec_header_t){ .key = key, .value = copy, .len = len };
    }
}

static bool digits(const char *p, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

int tf_header_parse(const char *p, size_t n, const cs_schema_t **s, cv_value_t *v)
{
    *s = NULL;
    *v = cv_null();
    if (!p)
        return 0;   /* SchemaAndValue.NULL */
    *s = cs_primitive(CT_STRING);
    *v = cv_str(p, n);
    if (!n)
        return 0;
    /* Values.Parser's first token: up to an unescaped : , { } [ ] " */
    size_t i = 0;
    for (bool esc = false; i < n; i++) {
        if (p[i] == '\\') {
            esc = !esc;
            continue;
        }
        if (!esc && memchr(":,{}[]\"", p[i], 7))
            break;
        esc = false;
    }
    if (i == 0)   /* a delimiter first: an array or a map, else the text */
        return p[0] == '[' || p[0] == '{' ? -1 : 0;
    size_t a = 0, b = i;   /* the token, trimmed as String.trim */
    while (a < b && (unsigned char)p[a] <= ' ')
        a++;
    while (b > a && (unsigned char)p[b - 1] <= ' ')
        b--;
    if (a == b)   /* blank: alone the text itself; before a delimiter Connect reads past it */
        return i == n ? 0 : -1;
    const char *t = p + a;
    size_t tn = b - a;
    if (i == n && tn == 4 && !memcmp(t, "null", 4)) {
        *s = NULL;
        *v = cv_null();
        return 0;
    }
    if (i == n && ((tn == 4 && !memcmp(t, "true", 4)) || (tn == 5 && !memcmp(t, "false", 5)))) {
        *s = cs_primitive(CT_BOOLEAN);
        *v = cv_bool(tn == 4);
        return 0;
    }
    bool sign = t[0] == '+' || t[0] == '-';
    if (!sign && (t[0] < '0' || t[0] > '9'))
        return 0;   /* no number, no date: the whole text (and after more tokens, true/false/null too) */
    if (i < n)
        return -1;   /* a number or a time of several tokens */
    if (!digits(t + sign, tn - sign))
        return -1;   /* a decimal, a float, a date or time (or text Connect tries as those) */
    /* parseAsExactDecimal: the narrowest of INT8 … INT64 */
    char buf[32];
    if (tn >= sizeof buf)
        return -1;
    memcpy(buf, t, tn);
    buf[tn] = '\0';
    errno = 0;
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (errno == ERANGE)
        return -1;   /* a Decimal */
    *s = cs_primitive(x == (int8_t)x ? CT_INT8 : x == (int16_t)x ? CT_INT16 : x == (int32_t)x ? CT_INT32 : CT_INT64);
    *v = cv_int(x);
    return 0;
}

const char *tf_header_text(arena_t *a, const cs_schema_t *s, const cv_value_t *v, size_t *len)
{
    *len = 0;
    if (!v || v->null)
        return NULL;
    if (s->type == CT_STRING) {
        *len = v->u.s.n;
        return arena_memdup(a, v->u.s.p, v->u.s.n ? v->u.s.n : 1);
    }
    buf_t b;
    buf_init(&b);
    json_enc_header_value(&b, s, v);
    char *out = arena_memdup(a, b.data ? b.data : "", b.len ? b.len : 1);
    *len = b.len;
    buf_free(&b);
    return out;
}

/* ---------------------------------------------------------------- Kafka: RegexRouter */

typedef struct {
    regex_t re;
    char *replacement;
} router_conf_t;

static const char *const router_opts[] = { "regex", "replacement", NULL };

static void router_free(void *p)
{
    router_conf_t *c = p;
    regfree(&c->re);
    free(c->replacement);
    free(c);
}

/* Java's Matcher.appendReplacement syntax: $n (as many digits as name a group), ${name} (named groups:
 * POSIX has none), \x for a literal x. Checked at start so a record never fails on it. */
int tf_replacement_check(const char *rep, size_t ngroups, const tf_opts_t *o, const char *key, char *err, size_t errlen)
{
    for (const char *p = rep; *p; p++) {
        if (*p == '\\') {
            if (!p[1]) {
                snprintf(err, errlen, "%s.%s.%s: character to be escaped is missing at the end of '%s'",
                         o->kind, o->alias, key, rep);
                return -1;
            }
            p++;
        } else if (*p == '$') {
            if (p[1] == '{') {
                snprintf(err, errlen, "%s.%s.%s: named groups (${name}) are not supported; use $1..$9",
                         o->kind, o->alias, key);
                return -1;
            }
            if (!isdigit((unsigned char)p[1])) {
                snprintf(err, errlen, "%s.%s.%s: '$' must be followed by a group number in '%s' (write \\$ "
                         "for a dollar sign)", o->kind, o->alias, key, rep);
                return -1;
            }
            if ((size_t)(p[1] - '0') > ngroups) {
                snprintf(err, errlen, "%s.%s.%s: no group %c in regex (it has %zu)", o->kind, o->alias,
                         key, p[1], ngroups);
                return -1;
            }
        }
    }
    return 0;
}

static int router_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    const char *re, *rep;
    if (tf_opt_required(o, "regex", &re, err, errlen) < 0 || tf_opt_required(o, "replacement", &rep, err, errlen) < 0)
        return -1;
    router_conf_t *c = xcalloc(1, sizeof *c);
    char what[256];
    snprintf(what, sizeof what, "%s.%s.regex", o->kind, o->alias);
    if (rx_compile(&c->re, re, what, err, errlen) < 0) {
        free(c);
        return -1;
    }
    c->replacement = xstrdup(rep);
    if (tf_replacement_check(rep, c->re.re_nsub, o, "replacement", err, errlen) < 0) {
        router_free(c);
        return -1;
    }
    *conf = c;
    return 0;
}

/* Matcher.replaceFirst over a match of the whole string: the expanded replacement. */
const char *tf_replace_groups(arena_t *a, const char *s, const regmatch_t *pm, size_t ngroups, const char *rep)
{
    buf_t b;
    buf_init(&b);
    for (const char *p = rep; *p; p++) {
        if (*p == '\\' && p[1]) {
            buf_putc(&b, *++p);
        } else if (*p == '$' && isdigit((unsigned char)p[1])) {
            size_t g = (size_t)(*++p - '0');
            /* Java takes more digits while they still name a group */
            while (isdigit((unsigned char)p[1]) && g * 10 + (size_t)(p[1] - '0') <= ngroups)
                g = g * 10 + (size_t)(*++p - '0');
            if (g <= ngroups && pm[g].rm_so >= 0)
                buf_append(&b, s + pm[g].rm_so, (size_t)(pm[g].rm_eo - pm[g].rm_so));
        } else
            buf_putc(&b, *p);
    }
    char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return out;
}

static wc_status_t router_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const router_conf_t *c = conf;
    if (!r->topic)
        return WC_OK;
    const char *to;
    if (!tf_memo_get(&x->memo[0], r->topic, &to)) {
        regmatch_t pm[TF_MAX_GROUPS];
        size_t ng = c->re.re_nsub < TF_MAX_GROUPS ? c->re.re_nsub : TF_MAX_GROUPS - 1;
        to = rx_matches(&c->re, r->topic, pm, ng + 1) ? tf_replace_groups(x->a, r->topic, pm, ng, c->replacement) : NULL;
        tf_memo_put(&x->memo[0], x->schemas, r->topic, to);
    }
    if (to) {
        r->topic = to;
        r->fresh = true;
    }
    return WC_OK;
}

static const tf_type_t tf_regex_router = { "org.apache.kafka.connect.transforms.RegexRouter", router_opts,
                                           router_configure, router_free, router_apply };

/* ---------------------------------------------------------------- Kafka: ReplaceField$Key/$Value */

typedef struct {
    bool key;
    char **exclude, **include, **from, **to;
    size_t nrenames;
    bool replace_null;
} replace_conf_t;

static const char *const replace_opts[] = { "exclude", "include", "renames", "replace.null.with.default",
                                            "blacklist", "whitelist", NULL };

static void replace_free(void *p)
{
    replace_conf_t *c = p;
    tf_list_free(c->exclude);
    tf_list_free(c->include);
    tf_list_free(c->from);
    tf_list_free(c->to);
    free(c);
}

static int replace_configure_side(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    replace_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    if (tf_opt(o, "blacklist") || tf_opt(o, "whitelist")) {
        snprintf(err, errlen, "%s.%s: blacklist/whitelist were removed from Kafka Connect; use exclude/include",
                 o->kind, o->alias);
        goto fail;
    }
    c->exclude = tf_opt_list(o, "exclude", NULL);
    c->include = tf_opt_list(o, "include", NULL);
    char **ren = tf_opt_list(o, "renames", &c->nrenames);
    c->from = xcalloc(c->nrenames + 1, sizeof *c->from);
    c->to = xcalloc(c->nrenames + 1, sizeof *c->to);
    for (size_t i = 0; i < c->nrenames; i++) {
        const char *colon = strchr(ren[i], ':');
        if (!colon || strchr(colon + 1, ':') || colon == ren[i] || !colon[1]) {
            snprintf(err, errlen, "%s.%s.renames: invalid rename mapping '%s'; use old:new pairs, e.g. foo:bar,abc:xyz",
                     o->kind, o->alias, ren[i]);
            tf_list_free(ren);
            goto fail;
        }
        c->from[i] = xstrdup(ren[i]);
        c->from[i][colon - ren[i]] = '\0';
        c->to[i] = xstrdup(colon + 1);
    }
    tf_list_free(ren);
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    *conf = c;
    return 0;
fail:
    replace_free(c);
    return -1;
}

static int replace_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return replace_configure_side(o, conf, true, err, errlen);
}

static int replace_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return replace_configure_side(o, conf, false, err, errlen);
}

static const char *renamed(const replace_conf_t *c, const char *name)
{
    /* Java keeps the last mapping of a name (HashMap.put) */
    const char *out = name;
    for (size_t i = 0; i < c->nrenames; i++)
        if (strcmp(c->from[i], name) == 0)
            out = c->to[i];
    return out;
}

static const char *reverse_renamed(const replace_conf_t *c, const char *name)
{
    const char *out = name;
    for (size_t i = 0; i < c->nrenames; i++)
        if (strcmp(c->to[i], name) == 0)
            out = c->from[i];
    return out;
}

static bool kept(const replace_conf_t *c, const char *name)
{
    return !list_has(c->exclude, name) && (!c->include[0] || list_has(c->include, name));
}

static wc_status_t replace_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const replace_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    if (!v || v->null)
        return WC_OK;
    if (!s || s->type != CT_STRUCT) {
        snprintf(err, errlen, "only a Struct with a schema can be edited by field (the %s is %s)",
                 c->key ? "key" : "value", s ? ct_type_name(s->type) : "schemaless");
        return WC_PERMANENT;
    }
    const void *aux = NULL;
    const cs_schema_t *ns = tf_cache_get_aux(x->cache, s->uid, 0, &aux);
    if (!ns) {
        cs_schema_t *b = tf_struct_basics(x->schemas, s);
        for (size_t i = 0; i < s->nfields; i++)
            if (kept(c, s->fields[i].name)) {
                const char *to = renamed(c, s->fields[i].name);
                if (cs_field_index(b, to) >= 0) {
                    snprintf(err, errlen, "field %s is defined twice after renaming", to);
                    return WC_PERMANENT;
                }
                cs_field_add(x->schemas, b, arena_strdup(x->schemas, to), s->fields[i].schema);
            }
        /* as Kafka does: each output field is read back under its reverse-renamed name, so a field that
         * is itself the target of a rename is looked up under the old name (and may not exist: -1) */
        int *from = arena_alloc(x->schemas, (b->nfields + 1) * sizeof *from);
        for (size_t k = 0; k < b->nfields; k++)
            from[k] = cs_field_index(s, reverse_renamed(c, b->fields[k].name));
        tf_cache_put_aux(x->cache, s->uid, 0, b, from);
        ns = b;
        aux = from;
    }
    const int *from = aux;
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, ns->nfields);
    for (size_t k = 0; k < ns->nfields; k++) {
        if (from[k] < 0) {
            snprintf(err, errlen, "%s is not a valid field name", reverse_renamed(c, ns->fields[k].name));
            return WC_PERMANENT;
        }
        nv->u.list.v[k] = tf_field_get(s, v, (size_t)from[k], c->replace_null);
    }
    if (c->key) {
        r->ks = ns;
        r->key = nv;
    } else {
        r->vs = ns;
        r->value = nv;
    }
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_replace_key = { "org.apache.kafka.connect.transforms.ReplaceField$Key", replace_opts,
                                          replace_configure_key, replace_free, replace_apply };
static const tf_type_t tf_replace_value = { "org.apache.kafka.connect.transforms.ReplaceField$Value", replace_opts,
                                            replace_configure_value, replace_free, replace_apply };

/* ---------------------------------------------------------------- Kafka: Filter, DropHeaders, InsertHeader */

static const char *const no_opts[] = { NULL };

static int filter_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    *conf = NULL;
    return 0;
}

static wc_status_t filter_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    *drop = true;
    return WC_OK;
}

static const tf_type_t tf_filter = { "org.apache.kafka.connect.transforms.Filter", no_opts, filter_configure, free,
                                     filter_apply };

typedef struct {
    char **names;
} drop_headers_conf_t;

static const char *const drop_headers_opts[] = { "headers", NULL };

static void drop_headers_free(void *p)
{
    drop_headers_conf_t *c = p;
    tf_list_free(c->names);
    free(c);
}

static int drop_headers_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    size_t n;
    char **l = tf_opt_list(o, "headers", &n);
    if (!n) {
        tf_list_free(l);
        snprintf(err, errlen, "%s.%s.headers: a non-empty list of header names is required", o->kind, o->alias);
        return -1;
    }
    drop_headers_conf_t *c = xcalloc(1, sizeof *c);
    c->names = l;
    *conf = c;
    return 0;
}

static wc_status_t drop_headers_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err,
                                      size_t errlen)
{
    const drop_headers_conf_t *c = conf;
    int k = 0;
    for (int i = 0; i < r->nh; i++)
        if (!list_has(c->names, r->h[i].key))
            r->h[k++] = r->h[i];
    r->nh = k;
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_drop_headers = { "org.apache.kafka.connect.transforms.DropHeaders", drop_headers_opts,
                                           drop_headers_configure, drop_headers_free, drop_headers_apply };

typedef struct {
    char *header;
    char *text;                   /* SimpleHeaderConverter's bytes of the parsed literal */
    const cs_schema_t *schema;    /* Values.parseString's schema of it, NULL: untyped (or null) */
    cv_value_t cv;
} insert_header_conf_t;

static const char *const insert_header_opts[] = { "header", "value.literal", NULL };

static void insert_header_free(void *p)
{
    insert_header_conf_t *c = p;
    free(c->header);
    free(c->text);
    free(c);
}

static int insert_header_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    const char *h, *lit;
    if (tf_opt_required(o, "header", &h, err, errlen) < 0 || tf_opt_required(o, "value.literal", &lit, err, errlen) < 0)
        return -1;
    insert_header_conf_t *c = xcalloc(1, sizeof *c);
    c->header = xstrdup(h);
    /* Values.parseString then SimpleHeaderConverter: a literal of a primitive type comes out as it was
     * written (numbers, booleans, strings); walcast keeps the text */
    c->text = xstrdup(lit);
    if (tf_header_parse(c->text, strlen(c->text), &c->schema, &c->cv) < 0)
        c->schema = NULL;   /* HeaderToValue refuses it, naming the header */
    *headers = 1;
    *conf = c;
    return 0;
}

static wc_status_t insert_header_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err,
                                       size_t errlen)
{
    const insert_header_conf_t *c = conf;
    if (r->nh < REC_MAX_HEADERS)
        r->h[r->nh++] = (rec_header_t){ .key = c->header, .value = c->text, .len = strlen(c->text), .schema = c->schema,
                                        .cv = c->schema ? &c->cv : NULL };
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_insert_header = { "org.apache.kafka.connect.transforms.InsertHeader", insert_header_opts,
                                            insert_header_configure, insert_header_free, insert_header_apply };

/* ---------------------------------------------------------------- Kafka: ExtractField, HoistField, SetSchemaMetadata, ValueToKey */

/* The key or the value a $Key/$Value transform works on. */
typedef struct {
    bool key;
    char *field;
    char *name;                   /* SetSchemaMetadata */
    int version;                  /* SetSchemaMetadata, -1: keep */
    char **fields;                /* ValueToKey */
    bool replace_null;
} side_conf_t;

static void side_free(void *p)
{
    side_conf_t *c = p;
    free(c->field);
    free(c->name);
    tf_list_free(c->fields);
    free(c);
}

static void side_get(const side_conf_t *c, const tf_rec_t *r, const cs_schema_t **s, const cv_value_t **v)
{
    *s = c->key ? r->ks : r->vs;
    *v = c->key ? r->key : r->value;
}

static void side_set(const side_conf_t *c, tf_rec_t *r, const cs_schema_t *s, const cv_value_t *v)
{
    tf_side_set(r, c->key, s, v);
}

static const char *const extract_opts[] = { "field", "replace.null.with.default", "field.syntax.version", NULL };

static int extract_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    const char *field;
    if (tf_opt_required(o, "field", &field, err, errlen) < 0)
        return -1;
    static const char *const syntax[] = { "V1", NULL };
    int v;
    if (tf_opt_enum(o, "field.syntax.version", "V1", syntax, &v, err, errlen) < 0)
        return -1;
    side_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    c->field = xstrdup(field);
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0) {
        side_free(c);
        return -1;
    }
    *conf = c;
    return 0;
}

static int extract_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return extract_configure(o, conf, true, err, errlen);
}

static int extract_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return extract_configure(o, conf, false, err, errlen);
}

static wc_status_t extract_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const side_conf_t *c = conf;
    const cs_schema_t *s;
    const cv_value_t *v;
    side_get(c, r, &s, &v);
    if (!s) {
        if (v) {
            snprintf(err, errlen, "the %s has no schema", c->key ? "key" : "value");
            return WC_PERMANENT;
        }
        r->fresh = true;
        return WC_OK;   /* a schemaless null stays null (a new record all the same) */
    }
    if (s->type != CT_STRUCT) {
        snprintf(err, errlen, "only Struct objects supported for [field extraction], found: %s", ct_type_name(s->type));
        return WC_PERMANENT;
    }
    int i = cs_field_index(s, c->field);
    if (i < 0) {
        snprintf(err, errlen, "Unknown field: %s", c->field);
        return WC_PERMANENT;
    }
    cv_value_t *nv = NULL;
    if (v && !v->null) {
        nv = arena_alloc(x->a, sizeof *nv);
        *nv = tf_field_get(s, v, (size_t)i, c->replace_null);
    }
    side_set(c, r, s->fields[i].schema, nv);
    return WC_OK;
}

static const tf_type_t tf_extract_key = { "org.apache.kafka.connect.transforms.ExtractField$Key", extract_opts,
                                          extract_configure_key, side_free, extract_apply };
static const tf_type_t tf_extract_value = { "org.apache.kafka.connect.transforms.ExtractField$Value", extract_opts,
                                            extract_configure_value, side_free, extract_apply };

static const char *const hoist_opts[] = { "field", NULL };

static int hoist_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    const char *field;
    if (tf_opt_required(o, "field", &field, err, errlen) < 0)
        return -1;
    side_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    c->field = xstrdup(field);
    *conf = c;
    return 0;
}

static int hoist_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return hoist_configure(o, conf, true, err, errlen);
}

static int hoist_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return hoist_configure(o, conf, false, err, errlen);
}

static wc_status_t hoist_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const side_conf_t *c = conf;
    const cs_schema_t *s;
    const cv_value_t *v;
    side_get(c, r, &s, &v);
    if (!s) {
        /* Kafka makes a schemaless map {field: value}; walcast's values always have a schema */
        snprintf(err, errlen, "a %s without a schema (a tombstone) cannot be hoisted by walcast; skip tombstones with "
                 "a RecordIsTombstone predicate", c->key ? "key" : "value");
        return WC_PERMANENT;
    }
    const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, 0);
    if (!ns) {
        cs_schema_t *b = cs_new(x->schemas, CT_STRUCT, false);
        cs_field_add(x->schemas, b, c->field, s);
        tf_cache_put(x->cache, s->uid, 0, b);
        ns = b;
    }
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, 1);
    if (v)
        nv->u.list.v[0] = *v;
    side_set(c, r, ns, nv);
    return WC_OK;
}

static const tf_type_t tf_hoist_key = { "org.apache.kafka.connect.transforms.HoistField$Key", hoist_opts,
                                        hoist_configure_key, side_free, hoist_apply };
static const tf_type_t tf_hoist_value = { "org.apache.kafka.connect.transforms.HoistField$Value", hoist_opts,
                                          hoist_configure_value, side_free, hoist_apply };

static const char *const setschema_opts[] = { "schema.name", "schema.version", "replace.null.with.default", NULL };

static int setschema_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    const char *name = tf_opt(o, "schema.name"), *ver = tf_opt(o, "schema.version");
    if (!name && !ver) {
        snprintf(err, errlen, "%s.%s: neither schema.name nor schema.version is set", o->kind, o->alias);
        return -1;
    }
    side_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    c->name = name ? xstrdup(name) : NULL;
    c->version = -1;
    if (ver) {
        char *end;
        long v = strtol(ver, &end, 10);
        if (!*ver || *end || v < 0 || v > 2147483647L) {
            snprintf(err, errlen, "%s.%s.schema.version: '%s' is not a version number", o->kind, o->alias, ver);
            side_free(c);
            return -1;
        }
        c->version = (int)v;
    }
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0) {
        side_free(c);
        return -1;
    }
    *conf = c;
    return 0;
}

static int setschema_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return setschema_configure(o, conf, true, err, errlen);
}

static int setschema_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return setschema_configure(o, conf, false, err, errlen);
}

static wc_status_t setschema_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err,
                                   size_t errlen)
{
    const side_conf_t *c = conf;
    const cs_schema_t *s;
    const cv_value_t *v;
    side_get(c, r, &s, &v);
    if (!s && !v)
        return WC_OK;
    if (!s) {
        snprintf(err, errlen, "Schema required for [updating schema metadata]");
        return WC_PERMANENT;
    }
    const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, 0);
    if (!ns) {
        cs_schema_t *b = cs_copy(x->schemas, s);
        b->def = s->def;
        if (c->name)
            b->name = c->name;
        if (c->version >= 0)
            b->version = c->version;
        tf_cache_put(x->cache, s->uid, 0, b);
        ns = b;
    }
    const cv_value_t *nvp = v;
    if (v && !v->null && s->type == CT_STRUCT) {
        cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
        *nv = cv_list(x->a, s->nfields);
        for (size_t i = 0; i < s->nfields; i++)
            nv->u.list.v[i] = tf_field_get(s, v, i, c->replace_null);
        nvp = nv;
    }
    side_set(c, r, ns, nvp);
    return WC_OK;
}

static const tf_type_t tf_setschema_key = { "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key", setschema_opts,
                                            setschema_configure_key, side_free, setschema_apply };
static const tf_type_t tf_setschema_value = { "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
                                              setschema_opts, setschema_configure_value, side_free, setschema_apply };

static const char *const value_to_key_opts[] = { "fields", "replace.null.with.default", NULL };

static int value_to_key_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    side_conf_t *c = xcalloc(1, sizeof *c);
    size_t n;
    c->fields = tf_opt_list(o, "fields", &n);
    if (!n) {
        snprintf(err, errlen, "%s.%s.fields: a non-empty list of value fields is required", o->kind, o->alias);
        side_free(c);
        return -1;
    }
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0) {
        side_free(c);
        return -1;
    }
    *conf = c;
    return 0;
}

static wc_status_t value_to_key_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err,
                                      size_t errlen)
{
    const side_conf_t *c = conf;
    if (!r->vs || r->vs->type != CT_STRUCT || !r->value || r->value->null) {
        snprintf(err, errlen, "only Struct objects supported for [copying fields from value to key], found: %s",
                 !r->vs ? "null" : !r->value || r->value->null ? "null value" : ct_type_name(r->vs->type));
        return WC_PERMANENT;
    }
    const cs_schema_t *s = r->vs;
    const cs_schema_t *ks = tf_cache_get(x->cache, s->uid, 0);
    if (!ks) {
        cs_schema_t *b = cs_new(x->schemas, CT_STRUCT, false);
        for (size_t i = 0; c->fields[i]; i++) {
            int fi = cs_field_index(s, c->fields[i]);
            if (fi < 0) {
                snprintf(err, errlen, "Field does not exist: %s", c->fields[i]);
                return WC_PERMANENT;
            }
            if (cs_field_index(b, c->fields[i]) < 0)
                cs_field_add(x->schemas, b, s->fields[fi].name, s->fields[fi].schema);
        }
        tf_cache_put(x->cache, s->uid, 0, b);
        ks = b;
    }
    cv_value_t *kv = arena_alloc(x->a, sizeof *kv);
    *kv = cv_list(x->a, ks->nfields);
    for (size_t i = 0; i < ks->nfields; i++)
        kv->u.list.v[i] = tf_field_get(s, r->value, (size_t)cs_field_index(s, ks->fields[i].name), c->replace_null);
    r->ks = ks;
    r->key = kv;
    return WC_OK;
}

static const tf_type_t tf_value_to_key = { "org.apache.kafka.connect.transforms.ValueToKey", value_to_key_opts,
                                           value_to_key_configure, side_free, value_to_key_apply };

/* ---------------------------------------------------------------- Kafka: InsertField, MaskField, HeaderFrom */

typedef struct {
    char *name;
    bool optional;
} ins_spec_t;

typedef struct {
    bool key;
    ins_spec_t topic, partition, offset, timestamp, fixed;
    char *fixed_value;
    bool replace_null;
} insert_field_conf_t;

static const char *const insert_field_opts[] = { "topic.field", "partition.field", "offset.field", "timestamp.field",
                                                 "static.field", "static.value", "replace.null.with.default", NULL };

static void insert_field_free(void *p)
{
    insert_field_conf_t *c = p;
    free(c->topic.name);
    free(c->partition.name);
    free(c->offset.name);
    free(c->timestamp.name);
    free(c->fixed.name);
    free(c->fixed_value);
    free(c);
}

/* InsertionSpec.parse: a trailing '!' makes the field required, '?' (or nothing) optional. */
static void ins_spec(const tf_opts_t *o, const char *key, ins_spec_t *s)
{
    const char *v = tf_opt(o, key);
    if (!v)
        return;
    size_t n = strlen(v);
    s->optional = true;
    if (n && (v[n - 1] == '!' || v[n - 1] == '?')) {
        s->optional = v[n - 1] == '?';
        n--;
    }
    s->name = xmalloc(n + 1);
    memcpy(s->name, v, n);
    s->name[n] = '\0';
}

static int insert_field_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    insert_field_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    ins_spec(o, "topic.field", &c->topic);
    ins_spec(o, "partition.field", &c->partition);
    ins_spec(o, "offset.field", &c->offset);
    ins_spec(o, "timestamp.field", &c->timestamp);
    ins_spec(o, "static.field", &c->fixed);
    const char *sv = tf_opt(o, "static.value");
    c->fixed_value = sv ? xstrdup(sv) : NULL;
    if (!c->topic.name && !c->partition.name && !c->offset.name && !c->timestamp.name && !c->fixed.name) {
        snprintf(err, errlen, "%s.%s: no field insertion configured (topic.field, partition.field, offset.field, "
                 "timestamp.field or static.field)", o->kind, o->alias);
        goto fail;
    }
    if (c->fixed.name && !c->fixed_value) {
        snprintf(err, errlen, "%s.%s.static.value: no value specified for static field %s", o->kind, o->alias, c->fixed.name);
        goto fail;
    }
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    *conf = c;
    return 0;
fail:
    insert_field_free(c);
    return -1;
}

static int insert_field_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return insert_field_configure(o, conf, true, err, errlen);
}

static int insert_field_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return insert_field_configure(o, conf, false, err, errlen);
}

static wc_status_t insert_field_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err,
                                      size_t errlen)
{
    const insert_field_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    if (!v || v->null)
        return WC_OK;
    if (!s || s->type != CT_STRUCT) {
        snprintf(err, errlen, "only Struct objects supported for [field insertion], found: %s",
                 s ? ct_type_name(s->type) : "a schemaless value");
        return WC_PERMANENT;
    }
    if (c->offset.name && !r->has_offset) {
        /* requireSinkRecord: a source record has no offset */
        snprintf(err, errlen, "offset.field: only a sink record has a Kafka offset");
        return WC_PERMANENT;
    }
    const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, 0);
    if (!ns) {
        cs_schema_t *b = tf_struct_basics(x->schemas, s);
        for (size_t i = 0; i < s->nfields; i++)
            cs_field_add(x->schemas, b, s->fields[i].name, s->fields[i].schema);
        /* makeUpdatedSchema's order: topic, partition, offset, timestamp, static */
        const ins_spec_t *add[] = { &c->topic, &c->partition, &c->offset, &c->timestamp, &c->fixed };
        const ct_type_t types[] = { CT_STRING, CT_INT32, CT_INT64, CT_INT64, CT_STRING };
        for (int i = 0; i < 5; i++) {
            if (!add[i]->name)
                continue;
            if (cs_field_index(b, add[i]->name) >= 0) {
                snprintf(err, errlen, "Cannot create field because of field name duplication %s", add[i]->name);
                return WC_PERMANENT;
            }
            cs_schema_t *fs = cs_new(x->schemas, types[i], add[i]->optional);
            if (i == 3) {
                fs->name = "org.apache.kafka.connect.data.Timestamp";
                fs->version = 1;
            }
            cs_field_add(x->schemas, b, add[i]->name, fs);
        }
        tf_cache_put(x->cache, s->uid, 0, b);
        ns = b;
    }
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, ns->nfields);
    for (size_t i = 0; i < s->nfields; i++)
        nv->u.list.v[i] = tf_field_get(s, v, i, c->replace_null);
    /* Debezium's change events have no partition and no timestamp (a transform may have set them:
     * PartitionRouting, the outbox EventRouter): unset ones stay null, and a required one fails as
     * Struct.validate does */
    size_t k = s->nfields;
    if (c->topic.name)
        nv->u.list.v[k++] = cv_str(r->topic, strlen(r->topic));
    const ins_spec_t *meta[] = { &c->partition, &c->offset, &c->timestamp };
    const bool has[] = { r->has_partition, r->has_offset, r->has_ts };
    const int64_t val[] = { r->partition, r->offset, r->ts_ms };
    for (int i = 0; i < 3; i++)
        if (meta[i]->name) {
            if (has[i]) {
                nv->u.list.v[k++] = cv_int(val[i]);
                continue;
            }
            if (!meta[i]->optional) {
                snprintf(err, errlen, "Invalid value: null used for required field: \"%s\"", meta[i]->name);
                return WC_PERMANENT;
            }
            k++;
        }
    if (c->fixed.name)
        nv->u.list.v[k++] = cv_str(c->fixed_value, strlen(c->fixed_value));
    if (c->key) {
        r->ks = ns;
        r->key = nv;
    } else {
        r->vs = ns;
        r->value = nv;
    }
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_insert_field_key = { "org.apache.kafka.connect.transforms.InsertField$Key", insert_field_opts,
                                               insert_field_configure_key, insert_field_free, insert_field_apply };
static const tf_type_t tf_insert_field_value = { "org.apache.kafka.connect.transforms.InsertField$Value",
                                                 insert_field_opts, insert_field_configure_value, insert_field_free,
                                                 insert_field_apply };

typedef struct {
    bool key;
    char **fields;
    char *replacement;
    bool replace_null;
} mask_conf_t;

static const char *const mask_opts[] = { "fields", "replacement", "replace.null.with.default", NULL };

static void mask_free(void *p)
{
    mask_conf_t *c = p;
    tf_list_free(c->fields);
    free(c->replacement);
    free(c);
}

static int mask_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    mask_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    size_t n;
    c->fields = tf_opt_list(o, "fields", &n);
    const char *rep = tf_opt(o, "replacement");
    if (!n) {
        snprintf(err, errlen, "%s.%s.fields: a non-empty list of field names is required", o->kind, o->alias);
        goto fail;
    }
    if (rep && !*rep) {
        snprintf(err, errlen, "%s.%s.replacement: must not be empty", o->kind, o->alias);
        goto fail;
    }
    c->replacement = rep ? xstrdup(rep) : NULL;
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    *conf = c;
    return 0;
fail:
    mask_free(c);
    return -1;
}

static int mask_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return mask_configure(o, conf, true, err, errlen);
}

static int mask_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return mask_configure(o, conf, false, err, errlen);
}

/* Values.convertTo<Integer|Long|…>(null, text) of a replacement, in the field's range. */
static int mask_number(const char *text, const cs_schema_t *fs, cv_value_t *out, char *err, size_t errlen)
{
    char *end;
    if (fs->type == CT_FLOAT32 || fs->type == CT_FLOAT64) {
        double d = strtod(text, &end);
        if (!*text || *end)
            goto bad;
        *out = cv_float(fs->type == CT_FLOAT32 ? (double)(float)d : d);
        return 0;
    }
    long long v = strtoll(text, &end, 10);
    if (!*text || *end)
        goto bad;
    long long lo = fs->type == CT_INT8 ? -128 : fs->type == CT_INT16 ? -32768 : fs->type == CT_INT32 ? -2147483648LL : LLONG_MIN;
    long long hi = fs->type == CT_INT8 ? 127 : fs->type == CT_INT16 ? 32767 : fs->type == CT_INT32 ? 2147483647LL : LLONG_MAX;
    if (v < lo || v > hi)
        goto bad;
    *out = cv_int(v);
    return 0;
bad:
    snprintf(err, errlen, "Unable to convert %s (class java.lang.String) to number", text);
    return -1;
}

/* MaskField.masked: the type's "null" (0, false, "", empty list/map, 0 for Connect's Decimal and
 * dates) or the replacement converted to the field's type; other types fail as Kafka's do. */
static int mask_value(arena_t *a, const mask_conf_t *c, const cs_schema_t *fs, cv_value_t *v, char *err, size_t errlen)
{
    if (v->null)
        return 0;
    bool decimal = tf_named(fs, "org.apache.kafka.connect.data.Decimal");
    bool date = tf_named(fs, "org.apache.kafka.connect.data.Date") || tf_named(fs, "org.apache.kafka.connect.data.Time") ||
                tf_named(fs, "org.apache.kafka.connect.data.Timestamp");
    if (c->replacement) {
        if (date || decimal || fs->type == CT_BOOLEAN || fs->type == CT_BYTES || fs->type == CT_ARRAY ||
            fs->type == CT_MAP || fs->type == CT_STRUCT) {
            /* Kafka converts a replacement to numbers, BigDecimal and strings only; walcast leaves Decimal out */
            snprintf(err, errlen, "Cannot mask value of type %s with custom replacement", fs->name ? fs->name : ct_type_name(fs->type));
            return -1;
        }
        if (fs->type == CT_STRING) {
            *v = cv_str(c->replacement, strlen(c->replacement));
            return 0;
        }
        return mask_number(c->replacement, fs, v, err, errlen);
    }
    switch (fs->type) {
    case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64:
        *v = cv_int(0);
        return 0;
    case CT_FLOAT32: case CT_FLOAT64:
        *v = cv_float(0);
        return 0;
    case CT_BOOLEAN:
        *v = cv_bool(false);
        return 0;
    case CT_STRING:
        *v = cv_str("", 0);
        return 0;
    case CT_ARRAY: case CT_MAP:
        *v = cv_list(a, 0);
        return 0;
    case CT_BYTES:
        if (decimal) {
            *v = cv_str("\0", 1);   /* BigDecimal.ZERO, unscaled */
            return 0;
        }
        break;
    default:
        break;
    }
    snprintf(err, errlen, "Cannot mask value of type: %s", fs->type == CT_BYTES ? "class [B" : ct_type_name(fs->type));
    return -1;
}

static wc_status_t mask_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const mask_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    if (!s || s->type != CT_STRUCT || !v || v->null) {
        snprintf(err, errlen, "only Struct objects supported for [mask fields], found: %s",
                 !v || v->null ? "null" : ct_type_name(s ? s->type : CT_MAP));
        return WC_PERMANENT;
    }
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, s->nfields);
    for (size_t i = 0; i < s->nfields; i++) {
        nv->u.list.v[i] = tf_field_get(s, v, i, c->replace_null);
        if (list_has(c->fields, s->fields[i].name) &&
            mask_value(x->a, c, s->fields[i].schema, &nv->u.list.v[i], err, errlen) < 0)
            return WC_PERMANENT;
    }
    if (c->key)
        r->key = nv;
    else
        r->value = nv;
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_mask_key = { "org.apache.kafka.connect.transforms.MaskField$Key", mask_opts,
                                       mask_configure_key, mask_free, mask_apply };
static const tf_type_t tf_mask_value = { "org.apache.kafka.connect.transforms.MaskField$Value", mask_opts,
                                         mask_configure_value, mask_free, mask_apply };

typedef struct {
    bool key, move;
    char **fields, **headers;
    size_t n;
    bool replace_null;
} header_from_conf_t;

static const char *const header_from_opts[] = { "fields", "headers", "operation", "replace.null.with.default", NULL };

static void header_from_free(void *p)
{
    header_from_conf_t *c = p;
    tf_list_free(c->fields);
    tf_list_free(c->headers);
    free(c);
}

static int header_from_configure(const tf_opts_t *o, void **conf, int *headers, bool key, char *err, size_t errlen)
{
    header_from_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    size_t nh;
    c->fields = tf_opt_list(o, "fields", &c->n);
    c->headers = tf_opt_list(o, "headers", &nh);
    static const char *const ops[] = { "move", "copy", NULL };
    int op;
    const char *opv;
    if (!c->n || !nh) {
        snprintf(err, errlen, "%s.%s.%s: a non-empty list is required", o->kind, o->alias, !c->n ? "fields" : "headers");
        goto fail;
    }
    if (c->n != nh) {
        snprintf(err, errlen, "%s.%s.headers: %zu header names for %zu fields; they pair up one to one", o->kind,
                 o->alias, nh, c->n);
        goto fail;
    }
    if (tf_opt_required(o, "operation", &opv, err, errlen) < 0 || tf_opt_enum(o, "operation", "move", ops, &op, err, errlen) < 0)
        goto fail;
    c->move = op == 0;
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    *headers = (int)c->n;
    *conf = c;
    return 0;
fail:
    header_from_free(c);
    return -1;
}

static int header_from_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return header_from_configure(o, conf, headers, true, err, errlen);
}

static int header_from_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return header_from_configure(o, conf, headers, false, err, errlen);
}

static wc_status_t header_from_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err,
                                     size_t errlen)
{
    const header_from_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    if (!s || s->type != CT_STRUCT || !v || v->null) {
        snprintf(err, errlen, "only Struct objects supported for [header %s], found: %s", c->move ? "move" : "copy",
                 !v || v->null ? "null" : ct_type_name(s ? s->type : CT_MAP));
        return WC_PERMANENT;
    }
    for (size_t i = 0; i < c->n; i++) {
        int fi = cs_field_index(s, c->fields[i]);
        if (fi < 0) {
            snprintf(err, errlen, "%s is not a valid field name", c->fields[i]);
            return WC_PERMANENT;
        }
        cv_value_t fv = tf_field_get(s, v, (size_t)fi, c->replace_null);
        tf_header_put(x, r, c->headers[i], s->fields[fi].schema, &fv, false);
    }
    if (c->move) {
        const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, 0);
        if (!ns) {
            cs_schema_t *b = tf_struct_basics(x->schemas, s);
            for (size_t i = 0; i < s->nfields; i++)
                if (!list_has(c->fields, s->fields[i].name))
                    cs_field_add(x->schemas, b, s->fields[i].name, s->fields[i].schema);
            tf_cache_put(x->cache, s->uid, 0, b);
            ns = b;
        }
        cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
        *nv = cv_list(x->a, ns->nfields);
        for (size_t i = 0, k = 0; i < s->nfields; i++)
            if (!list_has(c->fields, s->fields[i].name))
                nv->u.list.v[k++] = tf_field_get(s, v, i, c->replace_null);
        if (c->key) {
            r->ks = ns;
            r->key = nv;
        } else {
            r->vs = ns;
            r->value = nv;
        }
    }
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_header_from_key = { "org.apache.kafka.connect.transforms.HeaderFrom$Key", header_from_opts,
                                              header_from_configure_key, header_from_free, header_from_apply };
static const tf_type_t tf_header_from_value = { "org.apache.kafka.connect.transforms.HeaderFrom$Value",
                                                header_from_opts, header_from_configure_value, header_from_free,
                                                header_from_apply };

/* ---------------------------------------------------------------- Kafka: Flatten */

typedef struct {
    bool key;
    char *delim;
} flatten_conf_t;

static const char *const flatten_opts[] = { "delimiter", NULL };

static void flatten_free(void *p)
{
    flatten_conf_t *c = p;
    free(c->delim);
    free(c);
}

static int flatten_configure(const tf_opts_t *o, void **conf, bool key)
{
    flatten_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    c->delim = xstrdup(tf_opt_str(o, "delimiter", "."));
    *conf = c;
    return 0;
}

static int flatten_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return flatten_configure(o, conf, true);
}

static int flatten_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return flatten_configure(o, conf, false);
}

/* buildUpdatedSchema: nested struct fields become prefix<delim>name, optional when any parent is, with
 * their own default or the one the parent's default struct gives. */
static int flatten_schema(arena_t *a, const flatten_conf_t *c, const cs_schema_t *s, const char *prefix, bool optional,
                          const cv_value_t *pdef, cs_schema_t *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const cs_schema_t *fs = s->fields[i].schema;
        char *name = *prefix ? arena_alloc(a, strlen(prefix) + strlen(c->delim) + strlen(s->fields[i].name) + 1)
                             : (char *)s->fields[i].name;
        if (*prefix)
            sprintf(name, "%s%s%s", prefix, c->delim, s->fields[i].name);
        bool opt = optional || fs->optional;
        const cv_value_t *def = fs->def;
        if (!def && pdef && !pdef->null && i < pdef->u.list.n)
            def = &pdef->u.list.v[i];
        if (def && def->null)
            def = NULL;
        if (fs->type == CT_STRUCT) {
            if (flatten_schema(a, c, fs, name, opt, def, out, err, errlen) < 0)
                return -1;
            continue;
        }
        if (fs->type == CT_MAP) {
            snprintf(err, errlen, "Flatten transformation does not support MAP for record with schemas (for field %s).", name);
            return -1;
        }
        if (cs_field_index(out, name) >= 0) {
            snprintf(err, errlen, "Cannot create field because of field name duplication %s", name);
            return -1;
        }
        cs_schema_t *ns = cs_new(a, fs->type, opt);
        ns->name = fs->name;
        ns->version = fs->version;
        ns->doc = fs->doc;
        memcpy(ns->params, fs->params, sizeof ns->params);
        ns->nparams = fs->nparams;
        ns->items = fs->items;
        ns->def = def;
        cs_field_add(a, out, name, ns);
    }
    return 0;
}

/* buildWithSchema: values in the same order (a null nested struct leaves its fields null). */
static void flatten_value(const cs_schema_t *s, const cv_value_t *v, cv_value_t *out, size_t *k)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const cs_schema_t *fs = s->fields[i].schema;
        if (fs->type == CT_STRUCT) {
            cv_value_t sub = v ? tf_field_get(s, v, i, true) : cv_null();
            if (sub.null) {
                size_t before = *k;
                flatten_value(fs, NULL, out, k);
                for (size_t j = before; j < *k; j++)
                    out[j] = cv_null();
            } else
                flatten_value(fs, &sub, out, k);
            continue;
        }
        out[(*k)++] = v ? tf_field_get(s, v, i, true) : cv_null();
    }
}

static wc_status_t flatten_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const flatten_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    if (!s) {
        if (v) {
            snprintf(err, errlen, "the %s has no schema", c->key ? "key" : "value");
            return WC_PERMANENT;
        }
        r->fresh = true;
        return WC_OK;
    }
    if (s->type != CT_STRUCT) {
        snprintf(err, errlen, "only Struct objects supported for [flattening], found: %s", ct_type_name(s->type));
        return WC_PERMANENT;
    }
    const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, 0);
    if (!ns) {
        cs_schema_t *b = tf_struct_basics(x->schemas, s);
        if (flatten_schema(x->schemas, c, s, "", s->optional, s->def, b, err, errlen) < 0)
            return WC_PERMANENT;
        tf_cache_put(x->cache, s->uid, 0, b);
        ns = b;
    }
    cv_value_t *nv = NULL;
    if (v && !v->null) {
        nv = arena_alloc(x->a, sizeof *nv);
        *nv = cv_list(x->a, ns->nfields);
        size_t k = 0;
        flatten_value(s, v, nv->u.list.v, &k);
    }
    if (c->key) {
        r->ks = ns;
        r->key = nv;
    } else {
        r->vs = ns;
        r->value = nv;
    }
    r->fresh = true;
    return WC_OK;
}

static const tf_type_t tf_flatten_key = { "org.apache.kafka.connect.transforms.Flatten$Key", flatten_opts,
                                          flatten_configure_key, flatten_free, flatten_apply };
static const tf_type_t tf_flatten_value = { "org.apache.kafka.connect.transforms.Flatten$Value", flatten_opts,
                                            flatten_configure_value, flatten_free, flatten_apply };

/* ---------------------------------------------------------------- the table of what runs */

static const tf_type_t *const types[] = {
    &tf_dbz_unwrap, &tf_dbz_logical_router, &tf_dbz_outbox, &tf_dbz_header_to_value, &tf_regex_router, &tf_replace_key,
    &tf_replace_value, &tf_filter, &tf_drop_headers,
    &tf_insert_header, &tf_extract_key, &tf_extract_value, &tf_hoist_key, &tf_hoist_value, &tf_setschema_key,
    &tf_setschema_value, &tf_value_to_key, &tf_insert_field_key, &tf_insert_field_value, &tf_mask_key, &tf_mask_value,
    &tf_header_from_key, &tf_header_from_value, &tf_flatten_key, &tf_flatten_value, &tf_cast_key, &tf_cast_value,
    &tf_ts_key, &tf_ts_value, &tf_ts_router, &tf_dbz_partition, NULL
};

static const char *const pred_types[] = {
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone", NULL
};

/* Transforms refused with what to use instead: Debezium's scripting ones (Groovy/JavaScript expressions). */
static const struct { const char *cls, *instead; } scripted[] = {
    { "io.debezium.transforms.Filter",
      "use org.apache.kafka.connect.transforms.Filter with a predicate (TopicNameMatches, HasHeaderKey, "
      "RecordIsTombstone, negate=true to keep instead of drop)" },
    { "io.debezium.transforms.ContentBasedRouter",
      "use org.apache.kafka.connect.transforms.RegexRouter (by topic) or ExtractNewRecordState's route.by.field "
      "(by a column's value)" },
};

const char *tf_supported(void)
{
    static char list[4096];
    if (!list[0]) {
        for (int i = 0; types[i]; i++) {
            if (i)
                strcat(list, ", ");
            strcat(list, types[i]->cls);
        }
        for (int i = 0; pred_types[i]; i++) {
            strcat(list, ", ");
            strcat(list, pred_types[i]);
        }
    }
    return list;
}

/* A class by its full name or, as Connect's plugin aliases allow, its simple name ("RegexRouter",
 * "ReplaceField$Value"). */
static bool class_is(const char *want, const char *cls)
{
    if (strcmp(want, cls) == 0)
        return true;
    const char *dot = strrchr(cls, '.');
    return dot && strcmp(want, dot + 1) == 0;
}

/* ---------------------------------------------------------------- parsing */

static char *keep_str(tf_spec_t *s, const char *v)
{
    s->strings = xrealloc(s->strings, (s->nstrings + 1) * sizeof *s->strings);
    return s->strings[s->nstrings++] = xstrdup(v);
}

/* The keys "<kind>.<alias>.*" of kv, prefix cut, in o (kv array malloc'd by the caller's free). */
static tf_kv_t *opts_of(const tf_kv_t *kv, size_t n, const char *kind, const char *alias, tf_opts_t *o)
{
    size_t pl = strlen(kind) + strlen(alias) + 2;
    char *pfx = xmalloc(pl + 1);
    snprintf(pfx, pl + 1, "%s.%s.", kind, alias);
    tf_kv_t *out = xcalloc(n + 1, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(kv[i].key, pfx, pl) == 0)
            out[k++] = (tf_kv_t){ kv[i].key + pl, kv[i].value ? kv[i].value : "" };
    free(pfx);
    *o = (tf_opts_t){ kind, alias, out, k };
    return out;
}

static int check_options(const tf_opts_t *o, const char *cls, const char *const *allowed, char *err, size_t errlen)
{
    for (size_t i = 0; i < o->n; i++) {
        const char *k = o->kv[i].key;
        if (!strcmp(k, "type") || (!strcmp(o->kind, "transforms") && (!strcmp(k, "predicate") || !strcmp(k, "negate"))))
            continue;
        bool ok = false;
        for (int j = 0; allowed[j] && !ok; j++)
            ok = strcmp(allowed[j], k) == 0;
        if (ok)
            continue;
        char list[1024] = "";
        for (int j = 0; allowed[j]; j++) {
            strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, allowed[j], sizeof list - strlen(list) - 1);
        }
        if (!strcmp(k, "drop.tombstones") || !strcmp(k, "delete.handling.mode"))
            snprintf(err, errlen, "%s.%s.%s: removed in Debezium 3; use delete.tombstone.handling.mode (drop, tombstone, "
                     "rewrite, rewrite-with-tombstone, delete-to-tombstone)", o->kind, o->alias, k);
        else
            snprintf(err, errlen, "%s.%s.%s: unknown option of %s; it takes: %s", o->kind, o->alias, k, cls,
                     list[0] ? list : "no options");
        return -1;
    }
    return 0;
}

static int parse_pred(tf_spec_t *s, tf_pred_t *p, const tf_kv_t *kv, size_t n, char *err, size_t errlen)
{
    tf_opts_t o;
    tf_kv_t *own = opts_of(kv, n, "predicates", p->alias, &o);
    int rc = -1;
    const char *type = tf_opt(&o, "type");
    if (!type || !*type) {
        snprintf(err, errlen, "predicates.%s.type is required (one of %s)", p->alias, tf_supported());
        goto out;
    }
    p->kind = -1;
    for (int i = 0; pred_types[i]; i++)
        if (class_is(type, pred_types[i]))
            p->kind = i;
    static const char *const topic_opts[] = { "pattern", NULL }, *const header_opts[] = { "name", NULL };
    if (p->kind < 0) {
        snprintf(err, errlen, "predicates.%s.type: %s is not a predicate walcast runs; supported: %s", p->alias, type,
                 tf_supported());
        goto out;
    }
    const char *const *allowed = p->kind == PRED_TOPIC ? topic_opts : p->kind == PRED_HEADER ? header_opts : no_opts;
    if (check_options(&o, pred_types[p->kind], allowed, err, errlen) < 0)
        goto out;
    if (p->kind == PRED_TOPIC) {
        const char *pat;
        if (tf_opt_required(&o, "pattern", &pat, err, errlen) < 0)
            goto out;
        if (!*pat) {
            snprintf(err, errlen, "predicates.%s.pattern must not be empty", p->alias);
            goto out;
        }
        char what[256];
        snprintf(what, sizeof what, "predicates.%s.pattern", p->alias);
        if (rx_compile(&p->re, pat, what, err, errlen) < 0) {
            p->kind = -1;
            goto out;
        }
    } else if (p->kind == PRED_HEADER) {
        const char *name;
        if (tf_opt_required(&o, "name", &name, err, errlen) < 0)
            goto out;
        if (!*name) {
            snprintf(err, errlen, "predicates.%s.name must not be empty", p->alias);
            goto out;
        }
        p->name = keep_str(s, name);
    }
    rc = 0;
out:
    free(own);
    return rc;
}

static int parse_step(tf_spec_t *s, tf_step_t *st, const tf_kv_t *kv, size_t n, int *headers, char *err, size_t errlen)
{
    tf_opts_t o;
    tf_kv_t *own = opts_of(kv, n, "transforms", st->alias, &o);
    int rc = -1;
    st->pred = -1;
    const char *type = tf_opt(&o, "type");
    if (!type || !*type) {
        snprintf(err, errlen, "transforms.%s.type is required (one of %s)", st->alias, tf_supported());
        goto out;
    }
    for (size_t i = 0; i < sizeof scripted / sizeof scripted[0]; i++)
        if (!strcmp(type, scripted[i].cls) || (!strncmp(scripted[i].cls, "org.apache.kafka.", 17) && class_is(type, scripted[i].cls))) {
            snprintf(err, errlen, "transforms.%s.type: %s %s, which walcast does not; %s", st->alias, type,
                     strstr(type, "io.debezium") ? "runs scripts (Groovy/JavaScript)" : "cannot work on a source connector",
                     scripted[i].instead);
            goto out;
        }
    for (int i = 0; types[i] && !st->type; i++)
        if (class_is(type, types[i]->cls))
            st->type = types[i];
    if (!st->type) {
        snprintf(err, errlen, "transforms.%s.type: %s is not a transform walcast runs; supported: %s", st->alias, type,
                 tf_supported());
        goto out;
    }
    if (check_options(&o, st->type->cls, st->type->options, err, errlen) < 0)
        goto out;
    const char *pred = tf_opt(&o, "predicate");
    if (pred && *pred) {
        for (size_t i = 0; i < s->npreds; i++)
            if (!strcmp(s->preds[i].alias, pred))
                st->pred = (int)i;
        if (st->pred < 0) {
            snprintf(err, errlen, "transforms.%s.predicate: '%s' is not one of predicates=", st->alias, pred);
            goto out;
        }
    }
    if (tf_opt_bool(&o, "negate", false, &st->negate, err, errlen) < 0)
        goto out;
    int h = 0;
    if (st->type->configure(&o, &st->conf, &h, err, errlen) < 0) {
        st->type = NULL;
        goto out;
    }
    *headers += h;
    rc = 0;
out:
    free(own);
    return rc;
}

static const char *kv_get(const tf_kv_t *kv, size_t n, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key))
            v = kv[i].value;
    return v;
}

static int aliases(tf_spec_t *s, const tf_kv_t *kv, size_t n, const char *kind, char ***out, size_t *count,
                   char *err, size_t errlen)
{
    tf_kv_t one = { kind, kv_get(kv, n, kind) };
    tf_opts_t o = { "", kind, &one, 1 };
    *out = tf_opt_list(&o, kind, count);
    for (size_t i = 0; i < *count; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp((*out)[i], (*out)[j])) {
                snprintf(err, errlen, "%s: alias '%s' is listed twice", kind, (*out)[i]);
                return -1;
            }
    return 0;
}

int tf_spec_parse(const tf_kv_t *kv, size_t n, tf_spec_t **out, char *err, size_t errlen)
{
    *out = NULL;
    char **ta = NULL, **pa = NULL;
    size_t nt = 0, np = 0;
    tf_spec_t *s = xcalloc(1, sizeof *s);
    int headers = TF_BASE_HEADERS;
    if (aliases(s, kv, n, "transforms", &ta, &nt, err, errlen) < 0 || aliases(s, kv, n, "predicates", &pa, &np, err, errlen) < 0)
        goto fail;
    s->preds = xcalloc(np + 1, sizeof *s->preds);
    for (size_t i = 0; i < np; i++) {
        s->preds[i].alias = keep_str(s, pa[i]);
        s->preds[i].kind = -1;
        s->npreds++;
        if (parse_pred(s, &s->preds[i], kv, n, err, errlen) < 0)
            goto fail;
    }
    s->steps = xcalloc(nt + 1, sizeof *s->steps);
    for (size_t i = 0; i < nt; i++) {
        s->steps[i].alias = keep_str(s, ta[i]);
        s->nsteps++;
        if (parse_step(s, &s->steps[i], kv, n, &headers, err, errlen) < 0)
            goto fail;
    }
    if (headers > REC_MAX_HEADERS) {
        snprintf(err, errlen, "transforms: the chain may add %d headers to a record; walcast carries at most %d "
                 "(Debezium's own take %d): list fewer in add.headers or InsertHeader", headers - TF_BASE_HEADERS,
                 REC_MAX_HEADERS - TF_BASE_HEADERS, TF_BASE_HEADERS);
        goto fail;
    }
    tf_list_free(ta);
    tf_list_free(pa);
    if (!nt) {
        tf_spec_free(s);
        return 0;
    }
    *out = s;
    return 0;
fail:
    tf_list_free(ta);
    tf_list_free(pa);
    tf_spec_free(s);
    return -1;
}

void tf_spec_free(tf_spec_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].conf && s->steps[i].type && s->steps[i].type->free_conf)
            s->steps[i].type->free_conf(s->steps[i].conf);
    for (size_t i = 0; i < s->npreds; i++)
        if (s->preds[i].kind == PRED_TOPIC)
            regfree(&s->preds[i].re);
    for (size_t i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s->steps);
    free(s->preds);
    free(s);
}

/* ---------------------------------------------------------------- the chain */

tf_chain_t *tf_chain_new(const tf_spec_t *s)
{
    tf_chain_t *c = xcalloc(1, sizeof *c);
    c->spec = s;
    c->schemas = arena_new(64 * 1024);
    c->caches = xcalloc(s->nsteps + 1, sizeof *c->caches);
    c->memos = xcalloc(2 * s->nsteps + s->npreds + 1, sizeof *c->memos);
    return c;
}

static void chain_clear(tf_chain_t *c)
{
    for (size_t i = 0; i < c->spec->nsteps; i++) {
        free(c->caches[i].e);
        memset(&c->caches[i], 0, sizeof c->caches[i]);
    }
    for (size_t i = 0; i < 2 * c->spec->nsteps + c->spec->npreds; i++) {
        free(c->memos[i].e);
        memset(&c->memos[i], 0, sizeof c->memos[i]);
    }
    for (size_t i = 0; i < c->capcodecs; i++)
        if (c->codecs[i]) {
            rec_codec_free(&c->codecs[i]->codec);
            free(c->codecs[i]->topic);
            free(c->codecs[i]);
        }
    free(c->codecs);
    c->codecs = NULL;
    c->ncodecs = c->capcodecs = 0;
    c->cached = 0;
    arena_reset(c->schemas);
}

static void leak_clear(tf_leak_t *l)
{
    for (int i = 0; i < l->nh; i++)
        free((void *)l->h[i].value);
    l->nh = 0;
}

void tf_chain_free(tf_chain_t *c)
{
    if (!c)
        return;
    leak_clear(&c->leak);
    chain_clear(c);
    free(c->caches);
    free(c->memos);
    arena_free(c->schemas);
    free(c);
}

static bool pred_test(tf_chain_t *c, size_t pi, const tf_rec_t *r)
{
    const tf_pred_t *p = &c->spec->preds[pi];
    switch (p->kind) {
    case PRED_TOPIC: {
        if (!r->topic)
            return false;
        tf_memo_t *m = &c->memos[2 * c->spec->nsteps + pi];
        const char *hit;
        if (tf_memo_get(m, r->topic, &hit))
            return hit != NULL;
        bool match = rx_matches(&p->re, r->topic, NULL, 0);
        tf_memo_put(m, c->schemas, r->topic, match ? "" : NULL);
        return match;
    }
    case PRED_HEADER:
        for (int i = 0; i < r->nh; i++)
            if (!strcmp(r->h[i].key, p->name))
                return true;
        return false;
    default:
        return r->value == NULL;
    }
}

/* The converter cache of schema s on topic (Avro subjects are per topic): the event's own when
 * nothing changed, else one the chain keeps. */
static rec_codec_t *codec_for(tf_chain_t *c, const cs_schema_t *s, const char *topic, rec_codec_t *orig,
                              const char *orig_topic)
{
    if (orig && orig->schema == s && (topic == orig_topic || !strcmp(topic, orig_topic)))
        return orig;
    uint64_t h = buf_hash(topic, strlen(topic), 0);
    if ((c->ncodecs + 1) * 2 > c->capcodecs) {
        size_t cap = c->capcodecs ? c->capcodecs * 2 : 64;
        codec_ent_t **g = xcalloc(cap, sizeof *g);
        for (size_t i = 0; i < c->capcodecs; i++)
            if (c->codecs[i]) {
                size_t k = slot_of(c->codecs[i]->uid, c->codecs[i]->hash, cap);
                while (g[k])
                    k = (k + 1) & (cap - 1);
                g[k] = c->codecs[i];
            }
        free(c->codecs);
        c->codecs = g;
        c->capcodecs = cap;
    }
    size_t k = slot_of(s->uid, h, c->capcodecs);
    for (; c->codecs[k]; k = (k + 1) & (c->capcodecs - 1))
        if (c->codecs[k]->uid == s->uid && c->codecs[k]->hash == h && !strcmp(c->codecs[k]->topic, topic))
            return &c->codecs[k]->codec;
    codec_ent_t *e = xcalloc(1, sizeof *e);
    e->uid = s->uid;
    e->hash = h;
    e->topic = xstrdup(topic);
    rec_codec_bind(&e->codec, s);
    c->codecs[k] = e;
    c->ncodecs++;
    return &e->codec;
}

static const cv_value_t null_value = { .null = true };

bool tf_chain_full(const tf_chain_t *c)
{
    size_t cached = c->ncodecs;
    for (size_t i = 0; i < c->spec->nsteps; i++)
        cached += c->caches[i].n;
    for (size_t i = 0; i < 2 * c->spec->nsteps + c->spec->npreds; i++)
        cached += c->memos[i].n;
    return cached > TF_MAX_CACHED;
}

wc_status_t tf_chain_apply(tf_chain_t *c, arena_t *a, const rec_event_t *ev, rec_event_t *out, bool *dropped,
                           char *err, size_t errlen)
{
    *dropped = false;
    if (errlen)
        err[0] = '\0';
    if (tf_chain_full(c))
        chain_clear(c);   /* between records: nothing handed out is still in use (tf_chain_full warns keepers) */
    tf_rec_t r;
    memset(&r, 0, sizeof r);
    r.topic = ev->topic;
    if (ev->kc && ev->key) {
        r.ks = ev->kc->schema;
        r.key = ev->key;
    }
    if (ev->value && ev->vc) {
        r.vs = ev->vc->schema;
        r.value = ev->value;
    }
    memcpy(r.h, ev->headers, sizeof r.h);
    r.nh = ev->nheaders;
    r.has_partition = ev->has_partition;
    r.partition = ev->partition;
    r.has_ts = ev->has_ts;
    r.ts_ms = ev->ts_ms;
    r.has_offset = ev->has_offset;
    r.offset = ev->offset;
    /* the tombstone right after a delete: Debezium gave both one header object */
    if (!ev->value && c->leak.nh && c->leak_topic && !strcmp(c->leak_topic, ev->topic))
        for (int i = 0; i < c->leak.nh; i++) {
            const rec_header_t *h = &c->leak.h[i];
            tf_header_add(&r, h->key, h->value ? arena_memdup(a, h->value, h->len ? h->len : 1) : NULL, h->len);
        }
    leak_clear(&c->leak);
    c->leak_topic = ev->op == 'd' ? ev->topic : NULL;
    for (size_t i = 0; i < c->spec->nsteps; i++) {
        const tf_step_t *st = &c->spec->steps[i];
        if (st->pred >= 0 && pred_test(c, (size_t)st->pred, &r) == st->negate)
            continue;
        tf_ctx_t x = { st, &c->caches[i], c->schemas, a, ev->op == 'd' ? &c->leak : NULL, &c->memos[2 * i] };
        bool drop = false;
        char why[768];
        why[0] = '\0';
        wc_status_t rc = st->type->apply(&x, st->conf, &r, &drop, why, sizeof why);
        if (rc != WC_OK) {
            snprintf(err, errlen, "transform %s (%s) failed on a record of topic %s: %s", st->alias, st->type->cls,
                     ev->topic, why);
            return rc;
        }
        if (why[0])   /* a warning (Debezium logs it and goes on) */
            snprintf(err, errlen, "transform %s (%s) on a record of topic %s: %s", st->alias, st->type->cls,
                     ev->topic, why);
        if (drop) {
            *dropped = true;
            return WC_OK;
        }
        /* one form for a null: RecordIsTombstone and the next transforms test the pointer */
        if (r.value && r.value->null)
            r.value = NULL;
        if (r.key && r.key->null)
            r.key = NULL;
    }
    memset(out, 0, sizeof *out);
    out->topic = r.topic;
    out->op = ev->op;
    if (r.key && r.ks) {
        out->key = r.key;
        out->kc = codec_for(c, r.ks, r.topic, ev->kc, ev->topic);
    }
    if (r.vs) {
        out->value = r.value ? r.value : &null_value;
        out->vc = codec_for(c, r.vs, r.topic, ev->vc, ev->topic);
    }
    memcpy(out->headers, r.h, sizeof out->headers);
    out->nheaders = r.nh;
    out->has_partition = r.has_partition;
    out->partition = r.partition;
    out->has_ts = r.has_ts;
    out->ts_ms = r.ts_ms;
    return WC_OK;
}
