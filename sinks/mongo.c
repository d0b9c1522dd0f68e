/* mongo.c: the MongoDB apply target: upserting replaces and deletes by _id as Debezium's MongoDB sink
 * writes them, sent as unordered write commands, made replay-safe by a version in every document. */
#include "sinks/mongo.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

/* Exactly-once without multi-document transactions (FerretDB has none, nor do many deployments):
 * - every document carries its version (source commit time, LSN, source id as sortable text);
 * - an upsert replaces only a document whose stored version is not newer; when a newer one exists
 *   the upsert's filter misses, the server tries to insert and fails with duplicate key (11000) on
 *   _id, which means "a newer version is already there" and is skipped;
 * - deletes carry the same guard;
 * - the consumed offsets go to walcast_sink_offsets after each batch. A crash between the two
 *   replays the batch, which the guards make idempotent. begin/commit/rollback have nothing to do. */

#define MONGO_MAX_STMTS 1000                 /* statements per write command */
#define MONGO_MAX_CMD_BYTES (8 * 1024 * 1024) /* below the 16 MiB document limit with room to spare */
#define MONGO_DUPLICATE_KEY 11000

struct sk_target {
    mongoc_client_t *client;
    char *dbname;
    unsigned flags;   /* MONGO_DECIMAL_AS_STRING on FerretDB 1.x */
    size_t max_upd;   /* statements per update command */
};

/* FerretDB 1.24's update handler keeps the query iterator of every statement open until the whole
 * command ends (a defer inside its loop, internal/handler/msg_update.go), each holding a pooled
 * backend connection: a command that updates more existing documents than the pool has connections
 * (100 for SQLite, 50 for PostgreSQL) waits forever. Stay well below. */
#define MONGO_FERRETDB1_MAX_UPDATES 32

static pthread_once_t mongo_init_once = PTHREAD_ONCE_INIT;
static void mongo_init_lib(void) { mongoc_init(); }

/* ---- versions ---- */

size_t mongo_version_text(const sk_version_t *v, char *out, size_t outlen)
{
    return sk_version_text(v, out, outlen);   /* the same text as every other target (conflict.c) */
}

int mongo_version_cmp(const sk_version_t *a, const sk_version_t *b)
{
    if (a->ts_us != b->ts_us)
        return a->ts_us < b->ts_us ? -1 : 1;
    if (a->lsn != b->lsn)
        return a->lsn < b->lsn ? -1 : 1;
    int c = strcmp(a->source ? a->source : "", b->source ? b->source : "");
    return c < 0 ? -1 : c > 0;
}

/* ---- values ---- */

#define CONNECT_DECIMAL "org.apache.kafka.connect.data.Decimal"
#define CONNECT_DATE "org.apache.kafka.connect.data.Date"
#define CONNECT_TIME "org.apache.kafka.connect.data.Time"
#define CONNECT_TIMESTAMP "org.apache.kafka.connect.data.Timestamp"

static bool named(const cs_schema_t *s, const char *name) { return s->name && strcmp(s->name, name) == 0; }

/* A Connect Decimal (big-endian two's-complement unscaled value, "scale" parameter) as Decimal128;
 * false when it does not fit 34 digits (the caller stores the text instead). */
static bool decimal_text(const cs_schema_t *s, const unsigned char *p, size_t n, char *out, size_t outlen)
{
    __extension__ typedef unsigned __int128 u128;
    const char *sc = cs_param_get(s, "scale");
    long scale = sc ? strtol(sc, NULL, 10) : 0;
    if (n == 0 || n > 16)
        return false;
    bool neg = p[0] & 0x80;
    u128 u = neg ? ~(u128)0 : 0;
    for (size_t i = 0; i < n; i++)
        u = (u << 8) | p[i];
    if (neg)
        u = ~u + 1;   /* magnitude */
    char digits[48];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && nd < sizeof digits);
    if (nd > 34)
        return false;
    size_t o = 0;
    if (neg && o + 1 < outlen)
        out[o++] = '-';
    while (nd && o + 1 < outlen)
        out[o++] = digits[--nd];
    snprintf(out + o, outlen - o, "E%+ld", -scale);
    return true;
}

int mongo_value_append(bson_t *parent, const char *key, const cs_schema_t *s, const cv_value_t *v, unsigned flags,
                       char *err, size_t errlen)
{
    bool ok = true;
    if (v->null)
        return bson_append_null(parent, key, -1) ? 0 : -1;
    switch (s->type) {
    case CT_INT8:
    case CT_INT16:
    case CT_INT32:
        if (named(s, CONNECT_DATE))
            ok = bson_append_date_time(parent, key, -1, v->u.i * 86400000LL);
        else if (named(s, CONNECT_TIME))
            ok = bson_append_date_time(parent, key, -1, v->u.i);
        else
            ok = bson_append_int32(parent, key, -1, (int32_t)v->u.i);
        break;
    case CT_INT64:
        if (named(s, CONNECT_TIMESTAMP))
            ok = bson_append_date_time(parent, key, -1, v->u.i);
        else
            ok = bson_append_int64(parent, key, -1, v->u.i);
        break;
    case CT_FLOAT32:
    case CT_FLOAT64:
        ok = bson_append_double(parent, key, -1, v->u.f);
        break;
    case CT_BOOLEAN:
        ok = bson_append_bool(parent, key, -1, v->u.b);
        break;
    case CT_STRING:
        if (v->u.s.n > INT32_MAX) {
            snprintf(err, errlen, "field \"%s\": string of %zu bytes is too long for BSON", key, v->u.s.n);
            return -1;
        }
        ok = bson_append_utf8(parent, key, -1, v->u.s.p, (int)v->u.s.n);
        break;
    case CT_BYTES:
        if (named(s, CONNECT_DECIMAL)) {
            char text[64];
            bson_decimal128_t d;
            if (decimal_text(s, (const unsigned char *)v->u.s.p, v->u.s.n, text, sizeof text) &&
                bson_decimal128_from_string(text, &d)) {
                if (flags & MONGO_DECIMAL_AS_STRING) {
                    bson_decimal128_to_string(&d, text);   /* canonical text: "-1.23", "1.0E+3" */
                    ok = bson_append_utf8(parent, key, -1, text, -1);
                } else {
                    ok = bson_append_decimal128(parent, key, -1, &d);
                }
                break;
            }
            snprintf(err, errlen, "field \"%s\": a Decimal of %zu bytes does not fit Decimal128", key, v->u.s.n);
            return -1;
        }
        if (v->u.s.n > INT32_MAX) {
            snprintf(err, errlen, "field \"%s\": %zu bytes are too long for BSON", key, v->u.s.n);
            return -1;
        }
        ok = bson_append_binary(parent, key, -1, BSON_SUBTYPE_BINARY, (const uint8_t *)v->u.s.p,
                                (uint32_t)v->u.s.n);
        break;
    case CT_ARRAY: {
        bson_t child;
        if (!s->items || !bson_append_array_begin(parent, key, -1, &child))
            goto fail;
        for (size_t i = 0; i < v->u.list.n; i++) {
            char ibuf[16];
            const char *ikey;
            bson_uint32_to_string((uint32_t)i, &ikey, ibuf, sizeof ibuf);
            if (mongo_value_append(&child, ikey, s->items, &v->u.list.v[i], flags, err, errlen) != 0)
                return -1;
        }
        ok = bson_append_array_end(parent, &child);
        break;
    }
    case CT_MAP: {
        bson_t child;
        if (!s->keys || !s->items || s->keys->type != CT_STRING) {
            snprintf(err, errlen, "field \"%s\": a map with %s keys has no BSON form (keys must be strings)", key,
                     s->keys ? ct_type_name(s->keys->type) : "no");
            return -1;
        }
        if (!bson_append_document_begin(parent, key, -1, &child))
            goto fail;
        for (size_t i = 0; i + 1 < v->u.list.n; i += 2) {
            const cv_value_t *k = &v->u.list.v[i];
            char *kz = k->null ? NULL : strndup(k->u.s.p, k->u.s.n);
            if (!kz) {
                snprintf(err, errlen, "field \"%s\": a null or unreadable map key", key);
                return -1;
            }
            int rc = mongo_value_append(&child, kz, s->items, &v->u.list.v[i + 1], flags, err, errlen);
            free(kz);
            if (rc != 0)
                return -1;
        }
        ok = bson_append_document_end(parent, &child);
        break;
    }
    case CT_STRUCT: {
        bson_t child;
        if (!bson_append_document_begin(parent, key, -1, &child))
            goto fail;
        for (size_t i = 0; i < s->nfields && i < v->u.list.n; i++)
            if (mongo_value_append(&child, s->fields[i].name, s->fields[i].schema, &v->u.list.v[i], flags, err, errlen) != 0)
                return -1;
        ok = bson_append_document_end(parent, &child);
        break;
    }
    }
    if (ok)
        return 0;
fail:
    snprintf(err, errlen, "field \"%s\": the value (%s) does not fit the BSON document", key, ct_type_name(s->type));
    return -1;
}

/* ---- _id and documents ---- */

static bool is_pk(const sk_table_t *tab, const char *name)
{
    for (size_t i = 0; i < tab->npk; i++)
        if (strcmp(tab->pk[i], name) == 0)
            return true;
    return false;
}

int mongo_id_build(const sk_table_t *tab, const cv_value_t *row, const bool *has, unsigned flags, bson_t *id,
                   char *err, size_t errlen)
{
    if (tab->npk == 0) {
        snprintf(err, errlen, "collection \"%s\": the records have no key columns, so no _id; the MongoDB sink "
                 "needs a record key (a source table with a primary key or REPLICA IDENTITY FULL)", tab->name);
        return -1;
    }
    for (size_t k = 0; k < tab->npk; k++) {
        int i = cs_field_index(tab->row, tab->pk[k]);
        if (i < 0 || (size_t)i >= row->u.list.n || (has && !has[i])) {
            snprintf(err, errlen, "collection \"%s\": key column \"%s\" is missing from the record", tab->name,
                     tab->pk[k]);
            return -1;
        }
        if (mongo_value_append(id, tab->pk[k], tab->row->fields[i].schema, &row->u.list.v[i], flags, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int mongo_doc_build(const sk_table_t *tab, const cv_value_t *row, const bool *has, unsigned flags,
                    const bson_t *id, const char *vfield, const char *vtext, bson_t *doc, char *err, size_t errlen)
{
    if (!bson_append_document(doc, "_id", 3, id))
        goto toolarge;
    for (size_t i = 0; i < tab->row->nfields && i < row->u.list.n; i++) {
        const cs_field_t *f = &tab->row->fields[i];
        if ((has && !has[i]) || is_pk(tab, f->name))
            continue;
        if (vfield && strcmp(f->name, vfield) == 0)
            continue;   /* a source column of that name is replaced by the sink's own version */
        if (mongo_value_append(doc, f->name, f->schema, &row->u.list.v[i], flags, err, errlen) != 0)
            return -1;
    }
    if (vfield && !bson_append_utf8(doc, vfield, -1, vtext, -1))
        goto toolarge;
    return 0;
toolarge:
    snprintf(err, errlen, "collection \"%s\": the document exceeds BSON's size limit", tab->name);
    return -1;
}

/* ---- batch reduction ---- */

static uint64_t id_hash(const bson_t *b)
{
    const uint8_t *p = bson_get_data(b);
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < b->len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static bool id_equal(const bson_t *a, const bson_t *b)
{
    return a->len == b->len && memcmp(bson_get_data(a), bson_get_data(b), a->len) == 0;
}

size_t mongo_reduce(const bson_t *ids, size_t n, size_t *keep)
{
    if (n == 0)
        return 0;
    /* open addressing over the _id bytes; slot holds index+1 of the last change seen for that _id */
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    size_t *slot = calloc(cap, sizeof *slot);
    bool *last = calloc(n, sizeof *last);
    size_t m = 0;
    if (!slot || !last) {   /* no memory: keep everything (correct, just not reduced) */
        for (size_t i = 0; i < n; i++)
            keep[i] = i;
        free(slot);
        free(last);
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)id_hash(&ids[i]) & (cap - 1);
        while (slot[h] && !id_equal(&ids[slot[h] - 1], &ids[i]))
            h = (h + 1) & (cap - 1);
        if (slot[h])
            last[slot[h] - 1] = false;
        slot[h] = i + 1;
        last[i] = true;
    }
    for (size_t i = 0; i < n; i++)
        if (last[i])
            keep[m++] = i;
    free(slot);
    free(last);
    return m;
}

/* ---- errors ---- */

wc_status_t mongo_classify(const bson_error_t *e)
{
    switch (e->domain) {
    case MONGOC_ERROR_STREAM:
    case MONGOC_ERROR_SERVER_SELECTION:
        return WC_RETRY;
    case MONGOC_ERROR_CLIENT:
        return e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE ? WC_FATAL : WC_RETRY;
    default:
        break;
    }
    switch (e->code) {
    case 6: case 7: case 89: case 91: case 189: case 9001: case 10107: case 11600: case 11602: case 13435:
    case 13436: case 262: case 112: case 117: case 251: /* host/network/shutdown/step-down/write conflict */
        return WC_RETRY;
    case 13: case 18: /* Unauthorized, AuthenticationFailed */
        return WC_FATAL;
    default:
        return WC_PERMANENT;
    }
}

/* ---- the target ---- */

static wc_status_t mongo_connect(const sk_config_t *cfg, sk_target_t **out, char *err, size_t errlen)
{
    const char *uri_s = cfg->mongo_uri ? cfg->mongo_uri : (cfg->conn.dialect == SK_DIALECT_MONGODB ? cfg->url : NULL);
    const char *dbname = cfg->mongo_database ? cfg->mongo_database : cfg->conn.database;
    mongoc_uri_t *uri = NULL;
    bson_error_t e;
    bson_t ping = BSON_INITIALIZER;
    wc_status_t st = WC_FATAL;
    sk_target_t *t = NULL;

    *out = NULL;
    if (!uri_s || !*uri_s) {
        snprintf(err, errlen, "mongodb.connection.string is not set");
        goto out;
    }
    if (!dbname || !*dbname) {
        snprintf(err, errlen, "sink.database is not set: the MongoDB sink needs the database to write to");
        goto out;
    }
    pthread_once(&mongo_init_once, mongo_init_lib);
    uri = mongoc_uri_new_with_error(uri_s, &e);
    if (!uri) {
        /* the message names what is wrong, never the URI itself (it may hold a password) */
        snprintf(err, errlen, "mongodb.connection.string is not a valid MongoDB URI: %s", e.message);
        goto out;
    }
    t = calloc(1, sizeof *t);
    if (!t || !(t->dbname = strdup(dbname))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    t->client = mongoc_client_new_from_uri(uri);
    if (!t->client) {
        snprintf(err, errlen, "mongodb.connection.string: libmongoc refused the URI's options");
        goto out;
    }
    mongoc_client_set_error_api(t->client, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_set_appname(t->client, "walcast");
    t->max_upd = MONGO_MAX_STMTS;
    BSON_APPEND_INT32(&ping, "ping", 1);
    if (!mongoc_client_command_simple(t->client, "admin", &ping, NULL, NULL, &e)) {
        st = mongo_classify(&e);
        snprintf(err, errlen, "MongoDB server did not answer a ping: %s", e.message);
        goto out;
    }
    {
        /* FerretDB 1.x has no Decimal128: it drops the connection on one */
        bson_t bi = BSON_INITIALIZER, reply;
        bson_iter_t it;
        BSON_APPEND_INT32(&bi, "buildInfo", 1);
        if (mongoc_client_command_simple(t->client, "admin", &bi, NULL, &reply, &e) &&
            bson_iter_init_find(&it, &reply, "ferretdbVersion") && BSON_ITER_HOLDS_UTF8(&it) &&
            strncmp(bson_iter_utf8(&it, NULL), "v1.", 3) == 0)
        {
            t->flags |= MONGO_DECIMAL_AS_STRING;
            t->max_upd = MONGO_FERRETDB1_MAX_UPDATES;
        }
        bson_destroy(&reply);
        bson_destroy(&bi);
    }
    *out = t;
    t = NULL;
    st = WC_OK;
out:
    bson_destroy(&ping);
    if (uri)
        mongoc_uri_destroy(uri);
    if (t) {
        if (t->client)
            mongoc_client_destroy(t->client);
        free(t->dbname);
        free(t);
    }
    return st;
}

static void mongo_close(sk_target_t *t)
{
    if (!t)
        return;
    mongoc_client_destroy(t->client);
    free(t->dbname);
    free(t);
}

static wc_status_t mongo_read_offsets(sk_target_t *t, const char *name, sk_offset_t **offs, size_t *n, char *err,
                                      size_t errlen)
{
    mongoc_collection_t *c = mongoc_client_get_collection(t->client, t->dbname, MONGO_OFFSETS_COLLECTION);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur;
    const bson_t *doc;
    bson_error_t e;
    wc_status_t st = WC_OK;
    size_t cap = 0;

    *offs = NULL;
    *n = 0;
    BSON_APPEND_UTF8(&filter, "sink", name);
    cur = mongoc_collection_find_with_opts(c, &filter, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *topic = NULL;
        int64_t partition = -1, offset = -1;
        if (bson_iter_init_find(&it, doc, "topic") && BSON_ITER_HOLDS_UTF8(&it))
            topic = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "partition") && BSON_ITER_HOLDS_NUMBER(&it))
            partition = bson_iter_as_int64(&it);
        if (bson_iter_init_find(&it, doc, "offset") && BSON_ITER_HOLDS_NUMBER(&it))
            offset = bson_iter_as_int64(&it);
        if (!topic || partition < 0 || partition > INT32_MAX || offset < 0) {
            snprintf(err, errlen, "%s.%s holds a document of sink \"%s\" without a valid topic, partition and "
                     "offset; remove it to let the sink start from its consumer group", t->dbname,
                     MONGO_OFFSETS_COLLECTION, name);
            st = WC_FATAL;
            goto out;
        }
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            sk_offset_t *p = realloc(*offs, nc * sizeof *p);
            if (!p) {
                snprintf(err, errlen, "out of memory");
                st = WC_FATAL;
                goto out;
            }
            *offs = p;
            cap = nc;
        }
        (*offs)[*n].topic = strdup(topic);
        (*offs)[*n].partition = (int32_t)partition;
        (*offs)[*n].offset = offset;
        if (!(*offs)[*n].topic) {
            snprintf(err, errlen, "out of memory");
            st = WC_FATAL;
            goto out;
        }
        (*n)++;
    }
    if (mongoc_cursor_error(cur, &e)) {
        st = mongo_classify(&e);
        snprintf(err, errlen, "reading %s.%s: %s", t->dbname, MONGO_OFFSETS_COLLECTION, e.message);
    }
out:
    if (st != WC_OK) {
        for (size_t i = 0; i < *n; i++)
            free((*offs)[i].topic);
        free(*offs);
        *offs = NULL;
        *n = 0;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(c);
    return st;
}

static wc_status_t mongo_noop(sk_target_t *t, char *err, size_t errlen) { return WC_OK; }
static void mongo_rollback(sk_target_t *t) {}

static wc_status_t mongo_ensure_table(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen)
{
    return WC_OK;   /* collections are created by their first write and have no columns to add */
}

/* A write statement and the change it came from (for errors and conflict counts). */
typedef struct {
    bson_t stmt;
    const sk_change_t *ch;
} mongo_stmt_t;

/* Sends stmts as unordered "update" or "delete" commands of at most MONGO_MAX_STMTS statements.
 * Duplicate-key errors of guarded upserts mark stale[i] (a newer version exists). FerretDB stops a
 * command at its first write error even when unordered, so after errors the rest is sent again from
 * the statement after the last error; a server that did run them gets them twice, which the guards
 * make harmless. *ndeleted accumulates the reply's n for deletes. */
static wc_status_t send_writes(mongoc_collection_t *c, const char *coll, bool upd, size_t max_upd, mongo_stmt_t *stmts,
                               size_t n, bool *stale, int64_t *ndeleted, char *err, size_t errlen)
{
    /* FerretDB 1.x ignores "ordered" on update (it always stops at the first error), and a command that
     * said ordered:false and met a write error leaves the next commands' guarded upserts failing with
     * duplicate key although their filter matches (seen with 1.24.2 on SQLite): do not send it there. */
    bool ordered_ignored = max_upd == MONGO_FERRETDB1_MAX_UPDATES;
    size_t start = 0, max = upd ? max_upd : MONGO_MAX_STMTS;
    while (start < n) {
        bson_t cmd = BSON_INITIALIZER, arr, reply;
        bson_error_t e;
        size_t end = start, bytes = 0;
        BSON_APPEND_UTF8(&cmd, upd ? "update" : "delete", coll);
        bson_append_array_begin(&cmd, upd ? "updates" : "deletes", -1, &arr);
        while (end < n && end - start < max && (end == start || bytes + stmts[end].stmt.len < MONGO_MAX_CMD_BYTES)) {
            char ibuf[16];
            const char *ikey;
            bson_uint32_to_string((uint32_t)(end - start), &ikey, ibuf, sizeof ibuf);
            bson_append_document(&arr, ikey, -1, &stmts[end].stmt);
            bytes += stmts[end].stmt.len;
            end++;
        }
        bson_append_array_end(&cmd, &arr);
        if (!ordered_ignored)
            BSON_APPEND_BOOL(&cmd, "ordered", false);
        bool ok = mongoc_collection_write_command_with_opts(c, &cmd, NULL, &reply, &e);
        bson_destroy(&cmd);

        bson_iter_t it, ai;
        bool has_werr = bson_iter_init_find(&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
                        bson_iter_recurse(&it, &ai);
        if (!ok && !has_werr) {
            wc_status_t st = mongo_classify(&e);
            snprintf(err, errlen, "%s on collection \"%s\" failed: %s", upd ? "update" : "delete", coll, e.message);
            bson_destroy(&reply);
            return st == WC_PERMANENT ? WC_RETRY : st;   /* a whole command refused: not one record's fault */
        }
        if (!upd && bson_iter_init_find(&it, &reply, "n") && BSON_ITER_HOLDS_NUMBER(&it))
            *ndeleted += bson_iter_as_int64(&it);
        size_t next = end;
        if (has_werr) {
            size_t maxidx = 0;
            while (bson_iter_next(&ai)) {
                bson_iter_t d;
                int64_t idx = -1, code = 0;
                const char *msg = "";
                if (!BSON_ITER_HOLDS_DOCUMENT(&ai) || !bson_iter_recurse(&ai, &d))
                    continue;
                while (bson_iter_next(&d)) {
                    const char *k = bson_iter_key(&d);
                    if (strcmp(k, "index") == 0 && BSON_ITER_HOLDS_NUMBER(&d))
                        idx = bson_iter_as_int64(&d);
                    else if (strcmp(k, "code") == 0 && BSON_ITER_HOLDS_NUMBER(&d))
                        code = bson_iter_as_int64(&d);
                    else if (strcmp(k, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&d))
                        msg = bson_iter_utf8(&d, NULL);
                }
                if (idx < 0 || (size_t)idx >= end - start) {
                    snprintf(err, errlen, "collection \"%s\": a write error without a valid index: %s", coll, msg);
                    bson_destroy(&reply);
                    return WC_RETRY;
                }
                size_t abs = start + (size_t)idx;
                if (upd && code == MONGO_DUPLICATE_KEY) {
                    stale[abs] = true;
                } else {
                    const sk_change_t *ch = stmts[abs].ch;
                    bson_error_t we = { .domain = MONGOC_ERROR_SERVER, .code = (uint32_t)code };
                    wc_status_t st = mongo_classify(&we);
                    snprintf(err, errlen, "collection \"%s\": %s of the record at %s[%d]@%" PRId64 " refused (code %"
                             PRId64 "): %s", coll, upd ? "upsert" : "delete", ch->topic ? ch->topic : "?",
                             ch->partition, ch->offset, code, msg);
                    bson_destroy(&reply);
                    return st;
                }
                if ((size_t)idx > maxidx)
                    maxidx = (size_t)idx;
            }
            next = start + maxidx + 1;
        }
        if (bson_iter_init_find(&it, &reply, "writeConcernError")) {
            snprintf(err, errlen, "collection \"%s\": write concern error", coll);
            bson_destroy(&reply);
            return WC_RETRY;
        }
        bson_destroy(&reply);
        start = next;
    }
    return WC_OK;
}

/* {V: {$lte: vtext}} or no V at all: "the stored version is not newer". */
static void append_guard(bson_t *q, const char *vfield, const char *vtext)
{
    bson_t or, a, b, c, lte;
    bson_append_array_begin(q, "$or", 3, &or);
    bson_append_document_begin(&or, "0", 1, &a);
    bson_append_document_begin(&a, vfield, -1, &lte);
    BSON_APPEND_UTF8(&lte, "$lte", vtext);
    bson_append_document_end(&a, &lte);
    bson_append_document_end(&or, &a);
    bson_append_document_begin(&or, "1", 1, &b);
    bson_append_document_begin(&b, vfield, -1, &c);
    BSON_APPEND_BOOL(&c, "$exists", false);
    bson_append_document_end(&b, &c);
    bson_append_document_end(&or, &b);
    bson_append_array_end(q, &or);
}

/* The stored versions of the documents of ids[keep[0..m)]: stored[j] = the version text, "" for a
 * document without one, NULL for no document. One query per 500 keys ($in on _id). */
static wc_status_t read_versions(mongoc_collection_t *c, const char *coll, const char *vfield, const bson_t *ids,
                                 const size_t *keep, size_t m, char **stored, char *err, size_t errlen)
{
    size_t cap = 16, *slot;
    wc_status_t st = WC_OK;
    while (cap < m * 2)
        cap <<= 1;
    slot = calloc(cap, sizeof *slot);
    if (!slot) {
        snprintf(err, errlen, "out of memory");
        return WC_FATAL;
    }
    for (size_t j = 0; j < m; j++) {
        size_t h = (size_t)id_hash(&ids[keep[j]]) & (cap - 1);
        while (slot[h])
            h = (h + 1) & (cap - 1);
        slot[h] = j + 1;
    }
    for (size_t start = 0; start < m && st == WC_OK; start += 500) {
        bson_t filter = BSON_INITIALIZER, idf, in, opts = BSON_INITIALIZER, proj;
        const bson_t *doc;
        bson_error_t e;
        bson_append_document_begin(&filter, "_id", 3, &idf);
        bson_append_array_begin(&idf, "$in", 3, &in);
        for (size_t j = start; j < m && j < start + 500; j++) {
            char ibuf[16];
            const char *ikey;
            bson_uint32_to_string((uint32_t)(j - start), &ikey, ibuf, sizeof ibuf);
            bson_append_document(&in, ikey, -1, &ids[keep[j]]);
        }
        bson_append_array_end(&idf, &in);
        bson_append_document_end(&filter, &idf);
        bson_append_document_begin(&opts, "projection", -1, &proj);
        BSON_APPEND_INT32(&proj, vfield, 1);
        bson_append_document_end(&opts, &proj);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, &opts, NULL);
        while (mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it;
            uint32_t len;
            const uint8_t *data;
            bson_t id;
            if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_DOCUMENT(&it))
                continue;
            bson_iter_document(&it, &len, &data);
            if (!bson_init_static(&id, data, len))
                continue;
            size_t h = (size_t)id_hash(&id) & (cap - 1);
            while (slot[h] && !id_equal(&ids[keep[slot[h] - 1]], &id))
                h = (h + 1) & (cap - 1);
            if (!slot[h])
                continue;   /* not byte-equal to what was asked: the write's guard still holds */
            size_t j = slot[h] - 1;
            free(stored[j]);
            stored[j] = strdup(bson_iter_init_find(&it, doc, vfield) && BSON_ITER_HOLDS_UTF8(&it)
                               ? bson_iter_utf8(&it, NULL) : "");
        }
        if (mongoc_cursor_error(cur, &e)) {
            st = mongo_classify(&e);
            if (st == WC_PERMANENT)
                st = WC_RETRY;
            snprintf(err, errlen, "reading the versions stored in collection \"%s\": %s", coll, e.message);
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(&filter);
        bson_destroy(&opts);
    }
    free(slot);
    return st;
}

static wc_status_t mongo_apply(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode,
                               const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc, char *err,
                               size_t errlen)
{
    const char *vfield = tab->version_column ? tab->version_column : MONGO_VERSION_FIELD;
    mongoc_collection_t *c = mongoc_client_get_collection(t->client, t->dbname, tab->name);
    bson_t *ids = NULL;
    size_t *keep = NULL, m = 0, nids = 0, ns = 0;
    mongo_stmt_t *stmts = NULL;
    bool *stale = NULL;
    char **stored = NULL;   /* per kept change: the stored version, "" for a document without one */
    int64_t ndeleted = 0;
    wc_status_t st = WC_OK;

    if (n == 0)
        goto out;
    if (ch[0]->op == SK_OP_TRUNCATE) {
        bson_t all = BSON_INITIALIZER;
        bson_error_t e;
        if (!mongoc_collection_delete_many(c, &all, NULL, NULL, &e)) {
            st = mongo_classify(&e);
            snprintf(err, errlen, "truncate of collection \"%s\": %s", tab->name, e.message);
        }
        bson_destroy(&all);
        goto out;
    }
    bool upd = ch[0]->op == SK_OP_UPSERT;
    ids = calloc(n, sizeof *ids);
    keep = calloc(n, sizeof *keep);
    stmts = calloc(n, sizeof *stmts);
    stale = calloc(n, sizeof *stale);
    if (!ids || !keep || !stmts || !stale) {
        snprintf(err, errlen, "out of memory for a batch of %zu changes", n);
        st = WC_FATAL;
        goto out;
    }
    for (; nids < n; nids++) {
        bson_init(&ids[nids]);
        if (ch[nids]->op != ch[0]->op) {
            snprintf(err, errlen, "collection \"%s\": a batch mixes operations (apply.c hands one kind per call)",
                     tab->name);
            st = WC_FATAL;
            nids++;
            goto out;
        }
        if (mongo_id_build(tab, &ch[nids]->row, ch[nids]->has, t->flags, &ids[nids], err, errlen) != 0) {
            st = WC_PERMANENT;
            nids++;
            goto out;
        }
    }
    m = mongo_reduce(ids, n, keep);
    stored = calloc(m, sizeof *stored);
    if (!stored) {
        snprintf(err, errlen, "out of memory for a batch of %zu changes", n);
        st = WC_FATAL;
        goto out;
    }
    st = read_versions(c, tab->name, vfield, ids, keep, m, stored, err, errlen);
    if (st != WC_OK)
        goto out;
    for (size_t j = 0; j < m; j++) {
        const sk_change_t *x = ch[keep[j]];
        char vtext[256];
        bson_t q, doc = BSON_INITIALIZER;
        mongo_version_text(&x->version, vtext, sizeof vtext);
        bool newer = stored[j] && strcmp(stored[j], vtext) > 0;
        if (upd && newer && tab->policy != SK_POLICY_TARGET_WINS) {
            /* a newer version is stored: under source_wins a replay, else a conflict */
            if (tab->policy == SK_POLICY_ERROR) {
                snprintf(err, errlen, "collection \"%s\": the record at %s[%d]@%" PRId64 " is older than the "
                         "stored document (update_origin_differs, conflict.policy=error)", tab->name,
                         x->topic ? x->topic : "?", x->partition, x->offset);
                st = WC_PERMANENT;
                goto out;
            }
            if (tab->policy != SK_POLICY_SOURCE_WINS && cc)
                cc->n[SK_CONFLICT_UPDATE_ORIGIN_DIFFERS]++;
            continue;
        }
        if (upd && tab->policy == SK_POLICY_TARGET_WINS && stored[j]) {
            if (cc)
                cc->n[SK_CONFLICT_INSERT_EXISTS]++;   /* never overwrite what is there */
            continue;
        }
        if (!upd && (!stored[j] || newer)) {
            if (tab->policy != SK_POLICY_SOURCE_WINS && cc)
                cc->n[stored[j] ? SK_CONFLICT_DELETE_ORIGIN_DIFFERS : SK_CONFLICT_DELETE_MISSING]++;
            continue;
        }
        bson_t *s = &stmts[ns].stmt;
        stmts[ns].ch = x;
        bson_init(s);
        ns++;
        bson_append_document_begin(s, "q", 1, &q);
        BSON_APPEND_DOCUMENT(&q, "_id", &ids[keep[j]]);
        /* the guard again: a writer between the read above and this write is not overwritten */
        if (!(upd && tab->policy == SK_POLICY_TARGET_WINS))
            append_guard(&q, vfield, vtext);
        bson_append_document_end(s, &q);
        if (!upd) {
            BSON_APPEND_INT32(s, "limit", 1);
            continue;
        }
        if (mongo_doc_build(tab, &x->row, x->has, t->flags, &ids[keep[j]], vfield, vtext, &doc, err, errlen) != 0) {
            bson_destroy(&doc);
            st = WC_PERMANENT;
            goto out;
        }
        if (tab->policy == SK_POLICY_TARGET_WINS) {
            /* insert when absent, else leave it (a document that appeared since the read) */
            bson_t set, body = BSON_INITIALIZER;
            bson_copy_to_excluding_noinit(&doc, &body, "_id", NULL);
            bson_append_document_begin(s, "u", 1, &set);
            BSON_APPEND_DOCUMENT(&set, "$setOnInsert", &body);
            bson_append_document_end(s, &set);
            bson_destroy(&body);
        } else {
            BSON_APPEND_DOCUMENT(s, "u", &doc);
        }
        BSON_APPEND_BOOL(s, "upsert", true);
        bson_destroy(&doc);
    }
    st = send_writes(c, tab->name, upd, t->max_upd, stmts, ns, stale, &ndeleted, err, errlen);
    if (st != WC_OK)
        goto out;
    /* what a concurrent writer changed between the read and the write */
    for (size_t j = 0; upd && j < ns; j++) {
        if (!stale[j])
            continue;
        if (tab->policy == SK_POLICY_ERROR) {
            snprintf(err, errlen, "collection \"%s\": the record at %s[%d]@%" PRId64 " is older than the "
                     "stored document (update_origin_differs, conflict.policy=error)", tab->name,
                     stmts[j].ch->topic ? stmts[j].ch->topic : "?", stmts[j].ch->partition, stmts[j].ch->offset);
            st = WC_PERMANENT;
            goto out;
        }
        if (tab->policy != SK_POLICY_SOURCE_WINS && cc)
            cc->n[SK_CONFLICT_UPDATE_ORIGIN_DIFFERS]++;
    }
    if (!upd && cc && ndeleted < (int64_t)ns && tab->policy != SK_POLICY_SOURCE_WINS)
        cc->n[SK_CONFLICT_DELETE_MISSING] += (uint64_t)((int64_t)ns - ndeleted);
out:
    for (size_t i = 0; i < nids; i++)
        bson_destroy(&ids[i]);
    for (size_t j = 0; j < ns; j++)
        bson_destroy(&stmts[j].stmt);
    for (size_t j = 0; stored && j < m; j++)
        free(stored[j]);
    free(stored);
    free(ids);
    free(keep);
    free(stmts);
    free(stale);
    mongoc_collection_destroy(c);
    return st;
}

static wc_status_t mongo_store_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n,
                                       char *err, size_t errlen)
{
    mongoc_collection_t *c = mongoc_client_get_collection(t->client, t->dbname, MONGO_OFFSETS_COLLECTION);
    mongo_stmt_t *stmts = calloc(n ? n : 1, sizeof *stmts);
    bool *stale = calloc(n ? n : 1, sizeof *stale);
    int64_t nd = 0;
    wc_status_t st = WC_OK;
    static const sk_change_t none = { .topic = MONGO_OFFSETS_COLLECTION, .partition = -1, .offset = -1 };

    if (!stmts || !stale) {
        snprintf(err, errlen, "out of memory");
        st = WC_FATAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        bson_t *s = &stmts[i].stmt, q, id, u;
        bson_init(s);
        stmts[i].ch = &none;
        bson_init(&id);
        BSON_APPEND_UTF8(&id, "sink", name);
        BSON_APPEND_UTF8(&id, "topic", offs[i].topic);
        BSON_APPEND_INT32(&id, "partition", offs[i].partition);
        bson_append_document_begin(s, "q", 1, &q);
        BSON_APPEND_DOCUMENT(&q, "_id", &id);
        bson_append_document_end(s, &q);
        bson_append_document_begin(s, "u", 1, &u);
        BSON_APPEND_DOCUMENT(&u, "_id", &id);
        BSON_APPEND_UTF8(&u, "sink", name);
        BSON_APPEND_UTF8(&u, "topic", offs[i].topic);
        BSON_APPEND_INT32(&u, "partition", offs[i].partition);
        BSON_APPEND_INT64(&u, "offset", offs[i].offset);
        bson_append_document_end(s, &u);
        BSON_APPEND_BOOL(s, "upsert", true);
        bson_destroy(&id);
    }
    st = send_writes(c, MONGO_OFFSETS_COLLECTION, true, t->max_upd, stmts, n, stale, &nd, err, errlen);
    if (st == WC_PERMANENT)
        st = WC_RETRY;   /* positions are not a record: never dead-letter them */
out:
    for (size_t i = 0; stmts && i < n; i++)
        bson_destroy(&stmts[i].stmt);
    free(stmts);
    free(stale);
    mongoc_collection_destroy(c);
    return st;
}

const sk_target_ops_t sk_mongo_ops = {
    .name = "mongodb",
    .connect = mongo_connect,
    .close = mongo_close,
    .read_offsets = mongo_read_offsets,
    .begin = mongo_noop,
    .ensure_table = mongo_ensure_table,
    .apply = mongo_apply,
    .store_offsets = mongo_store_offsets,
    .commit = mongo_noop,
    .rollback = mongo_rollback,
};
