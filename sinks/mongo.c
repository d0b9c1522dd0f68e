/* mongo.c: the MongoDB apply target: upserting replaces and deletes by _id as Debezium's MongoDB sink
 * writes them, sent as unordered write commands, made replay-safe by a version in every document. */
#include "sinks/mongo.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "schemas/buf.h"
#include "sinks/conflict.h"

/* Exactly-once without multi-document transactions (FerretDB has none, nor do many deployments):
 * - every document carries its version (conflict.c: source id, kind, LSN, time; sortable within a source);
 * - source_wins without a conflict log (apply_guarded): an upsert replaces only a document whose
 *   stored version is not newer; when a newer one exists the upsert's filter misses, the server tries
 *   to insert and fails with duplicate key (11000) on _id, which means "a newer version is already
 *   there" and is skipped; deletes carry the same guard;
 * - every other policy, or a conflict log: the one conflict engine of every target (conflict.c cf_apply)
 *   reads the batch's documents through mongo_fetch_existing, decides each change (cf_decide: replays of
 *   the same source skipped, conflicts typed and counted; a document without a version is someone
 *   else's), logs the conflicts through mongo_log_conflicts, and hands the kept changes to apply, which
 *   writes them as compare-and-swap on the version read (apply_decided); a document another writer
 *   changed in between fails the batch with WC_RETRY and the retry decides again;
 * - apply() only reads and decides; the writes wait for commit(), which sends the conflict log, then
 *   the documents, then the consumed offsets (walcast_sink_offsets). A rolled-back batch writes nothing;
 *   a crash between the documents and the offsets replays the batch, which the versions make idempotent. */

#define MONGO_MAX_STMTS 1000                 /* statements per write command */
#define MONGO_MAX_CMD_BYTES (8 * 1024 * 1024) /* below the 16 MiB document limit with room to spare */
#define MONGO_DUPLICATE_KEY 11000

typedef struct mongo_group mongo_group_t;

/* A document the target holds for a change's _id, as read before writing. */
typedef struct {
    bool found;
    bson_t doc;   /* the whole document (for the conflict log) or only _id and the version */
} mongo_existing_t;

struct sk_target {
    const sk_config_t *cfg;   /* the sink's settings (outlive the session) */
    mongoc_client_t *client;
    char *dbname;
    unsigned flags;   /* MONGO_DECIMAL_AS_STRING on FerretDB 1.x */
    size_t max_upd;   /* statements per update command */
    mongo_group_t *pend;      /* the batch's writes, sent at commit (see mongo_commit) */
    size_t npend, cappend;
    char **colls;             /* collections ensure_table created or found in this session */
    size_t ncolls;
    /* what mongo_fetch_existing read, for the log and the apply cf_apply makes next (then forgotten) */
    char *rd_tab;                 /* the collection; NULL: nothing read */
    const sk_change_t **rd_ch;    /* the changes, in the order given */
    bson_t *rd_ids;               /* their _id */
    mongo_existing_t *rd_ex;      /* their documents */
    size_t nrd;
};

static void read_clear(sk_target_t *t)
{
    for (size_t i = 0; i < t->nrd; i++) {
        bson_destroy(&t->rd_ids[i]);
        if (t->rd_ex[i].found)
            bson_destroy(&t->rd_ex[i].doc);
    }
    free(t->rd_tab);
    free(t->rd_ch);
    free(t->rd_ids);
    free(t->rd_ex);
    t->rd_tab = NULL;
    t->rd_ch = NULL;
    t->rd_ids = NULL;
    t->rd_ex = NULL;
    t->nrd = 0;
}

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
    char ta[512], tb[512];
    mongo_version_text(a, ta, sizeof ta);
    mongo_version_text(b, tb, sizeof tb);
    return cf_version_newer(ta, tb) ? 1 : cf_version_newer(tb, ta) ? -1 : 0;
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
    return buf_hash(bson_get_data(b), b->len, 0);
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
    t->cfg = cfg;
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

static void pending_clear(sk_target_t *t);

static void mongo_close(sk_target_t *t)
{
    if (!t)
        return;
    pending_clear(t);
    read_clear(t);
    free(t->pend);
    for (size_t i = 0; i < t->ncolls; i++)
        free(t->colls[i]);
    free(t->colls);
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


/* Collections have no columns to add, but each is created (once per session) before its first write: a name
 * the server will never create (MongoDB refuses '$', FerretDB's SQLite backend '"' with a SQL error) is then
 * its records' fault, WC_PERMANENT naming the collection (dead letter or stop), where a whole write command
 * refused would be retried as transient forever. */
static wc_status_t mongo_ensure_table(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->ncolls; i++)
        if (!strcmp(t->colls[i], tab->name))
            return WC_OK;
    mongoc_database_t *db = mongoc_client_get_database(t->client, t->dbname);
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t e;
    BSON_APPEND_UTF8(&cmd, "create", tab->name);
    bool ok = mongoc_database_command_simple(db, &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    mongoc_database_destroy(db);
    /* NamespaceExists (48): there already */
    if (!ok && !(e.code == 48 && (e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_QUERY))) {
        wc_status_t st = mongo_classify(&e);
        snprintf(err, errlen, "collection \"%s\" in database \"%s\" %s: %s", tab->name, t->dbname,
                 st == WC_PERMANENT ? "cannot be created (the server refuses the name; change collection.name.format)"
                                    : "could not be created", e.message);
        return st;
    }
    t->colls = xrealloc(t->colls, (t->ncolls + 1) * sizeof *t->colls);
    t->colls[t->ncolls++] = xstrdup(tab->name);
    return WC_OK;
}

/* A write statement (an insert's document, an update or a delete statement) and the change it came from
 * (for errors). */
typedef struct {
    bson_t stmt;
    const sk_change_t *ch;
} mongo_stmt_t;

typedef enum { MW_INSERT, MW_UPDATE, MW_DELETE } mongo_write_t;

static const char *const mw_command[] = { "insert", "update", "delete" };
static const char *const mw_array[] = { "documents", "updates", "deletes" };

/* Sends stmts as unordered write commands of at most MONGO_MAX_STMTS statements (max_upd for updates).
 * A duplicate-key error (11000) of statement i sets dup[i]: a guarded upsert whose filter missed (a newer
 * version is stored) or an insert of an _id that exists; any other write error fails. FerretDB stops an
 * update command at its first write error even when unordered: when a reply's n and its errors do not
 * add up to the statements sent, the rest is sent again from the statement after the last error (a
 * server that did run them gets them twice, which the guards make harmless). *nsum accumulates the
 * replies' n (inserted, matched + upserted, deleted). */
static wc_status_t send_writes(mongoc_collection_t *c, const char *coll, mongo_write_t kind, size_t max_upd,
                               mongo_stmt_t *stmts, size_t n, bool *dup, int64_t *nsum, char *err, size_t errlen)
{
    /* FerretDB 1.x ignores "ordered" on update (it always stops at the first error), and a command that
     * said ordered:false and met a write error leaves the next commands' guarded upserts failing with
     * duplicate key although their filter matches (seen with 1.24.2 on SQLite): do not send it there. */
    bool ordered_ignored = kind == MW_UPDATE && max_upd == MONGO_FERRETDB1_MAX_UPDATES;
    size_t start = 0, max = kind == MW_UPDATE ? max_upd : MONGO_MAX_STMTS;
    while (start < n) {
        bson_t cmd = BSON_INITIALIZER, arr, reply;
        bson_error_t e;
        size_t end = start, bytes = 0;
        BSON_APPEND_UTF8(&cmd, mw_command[kind], coll);
        bson_append_array_begin(&cmd, mw_array[kind], -1, &arr);
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
            snprintf(err, errlen, "%s on collection \"%s\" failed: %s", mw_command[kind], coll, e.message);
            bson_destroy(&reply);
            return st == WC_PERMANENT ? WC_RETRY : st;   /* a whole command refused: not one record's fault */
        }
        int64_t rn = 0;
        if (bson_iter_init_find(&it, &reply, "n") && BSON_ITER_HOLDS_NUMBER(&it))
            rn = bson_iter_as_int64(&it);
        *nsum += rn;
        size_t next = end;
        if (has_werr) {
            size_t maxidx = 0, nerr = 0;
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
                if (kind != MW_DELETE && code == MONGO_DUPLICATE_KEY) {
                    dup[abs] = true;
                } else {
                    const sk_change_t *ch = stmts[abs].ch;
                    bson_error_t we = { .domain = MONGOC_ERROR_SERVER, .code = (uint32_t)code };
                    wc_status_t st = mongo_classify(&we);
                    snprintf(err, errlen, "collection \"%s\": %s of the record at %s[%d]@%" PRId64 " refused (code %"
                             PRId64 "): %s", coll, mw_command[kind], ch->topic ? ch->topic : "?",
                             ch->partition, ch->offset, code, msg);
                    bson_destroy(&reply);
                    return st;
                }
                if ((size_t)idx > maxidx)
                    maxidx = (size_t)idx;
                nerr++;
            }
            if ((size_t)rn + nerr < end - start)
                next = start + maxidx + 1;   /* the server stopped at an error */
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

/* ---- the batch's writes, held until commit ----
 *
 * apply() reads and decides but writes nothing: it queues groups of statements, and commit() sends them,
 * conflict log entries first, then the documents in the order they were queued, then the offsets. So a
 * record refused as poison (conflict.policy=error, a document that cannot be built) leaves nothing behind
 * when apply.c rolls the batch back, not even the delete half of its primary-key change, and the offsets
 * never precede the documents they cover. A truncate sends what is queued first (later reads must see
 * it) and runs at once. */

typedef enum {
    MG_LOG,       /* walcast_conflicts entries: a duplicate _id was logged by an earlier attempt */
    MG_GUARDED,   /* version-guarded upserts/deletes: a duplicate key is a stale change, skipped */
    MG_TRY_INSERT,/* inserts of new rows ('c', 'r'); a duplicate key becomes a guarded upsert */
    MG_NEW,       /* inserts of documents read as absent: a duplicate key is another writer, retry */
    MG_CAS,       /* updates/deletes filtered on the version read: n short is another writer, retry */
    MG_OFFSETS    /* walcast_sink_offsets */
} mongo_gkind_t;

struct mongo_group {
    mongo_gkind_t kind;
    mongo_write_t write;
    char *coll;
    char *vfield;          /* MG_TRY_INSERT: the version field (for the guard of the fallback upsert) */
    mongo_stmt_t *stmts;   /* owned */
    size_t n;
};

static void group_free(mongo_group_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        bson_destroy(&g->stmts[i].stmt);
    free(g->stmts);
    free(g->coll);
    free(g->vfield);
}

static void pending_clear(sk_target_t *t)
{
    for (size_t i = 0; i < t->npend; i++)
        group_free(&t->pend[i]);
    t->npend = 0;
}

/* Queues n statements (taking stmts; freed here when n is 0). */
static void pending_add(sk_target_t *t, mongo_gkind_t kind, mongo_write_t write, const char *coll,
                        mongo_stmt_t *stmts, size_t n)
{
    if (!n) {
        free(stmts);
        return;
    }
    if (t->npend == t->cappend) {
        t->cappend = t->cappend ? 2 * t->cappend : 8;
        t->pend = xrealloc(t->pend, t->cappend * sizeof *t->pend);
    }
    t->pend[t->npend++] = (mongo_group_t){ kind, write, xstrdup(coll), NULL, stmts, n };
}

static void append_guard(bson_t *q, const char *vfield, const char *vtext);

/* MG_TRY_INSERT: the documents the insert found already there, as guarded upserts (stale: skipped). */
static wc_status_t try_insert_fallback(sk_target_t *t, mongoc_collection_t *c, const mongo_group_t *g,
                                       const bool *dup, char *err, size_t errlen)
{
    size_t nd = 0;
    for (size_t i = 0; i < g->n; i++)
        nd += dup[i];
    if (!nd)
        return WC_OK;
    mongo_stmt_t *up = xcalloc(nd, sizeof *up);
    bool *stale = xcalloc(nd, sizeof *stale);
    int64_t nsum = 0;
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (!dup[i])
            continue;
        bson_iter_t it;
        bson_t q;
        bson_t *s = &up[k].stmt;
        up[k++].ch = g->stmts[i].ch;
        bson_init(s);
        bson_append_document_begin(s, "q", 1, &q);
        if (bson_iter_init_find(&it, &g->stmts[i].stmt, "_id"))
            bson_append_iter(&q, "_id", 3, &it);
        append_guard(&q, g->vfield, bson_iter_init_find(&it, &g->stmts[i].stmt, g->vfield) &&
                     BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : "");
        bson_append_document_end(s, &q);
        BSON_APPEND_DOCUMENT(s, "u", &g->stmts[i].stmt);
        BSON_APPEND_BOOL(s, "upsert", true);
    }
    wc_status_t st = send_writes(c, g->coll, MW_UPDATE, t->max_upd, up, nd, stale, &nsum, err, errlen);
    for (size_t i = 0; i < nd; i++)
        bson_destroy(&up[i].stmt);
    free(up);
    free(stale);
    return st;
}

static wc_status_t group_send(sk_target_t *t, const mongo_group_t *g, char *err, size_t errlen)
{
    mongoc_collection_t *c = mongoc_client_get_collection(t->client, t->dbname, g->coll);
    bool *dup = calloc(g->n, sizeof *dup);
    int64_t nsum = 0;
    wc_status_t st = WC_OK;
    if (!dup) {
        snprintf(err, errlen, "out of memory");
        st = WC_FATAL;
        goto out;
    }
    st = send_writes(c, g->coll, g->write, t->max_upd, g->stmts, g->n, dup, &nsum, err, errlen);
    if ((g->kind == MG_LOG || g->kind == MG_OFFSETS) && st == WC_PERMANENT)
        st = WC_RETRY;   /* not a record: never dead-letter one because of them */
    if (st != WC_OK)
        goto out;
    if (g->kind == MG_TRY_INSERT) {
        st = try_insert_fallback(t, c, g, dup, err, errlen);
    } else if (g->kind == MG_NEW) {
        for (size_t i = 0; i < g->n; i++)
            if (dup[i]) {
                snprintf(err, errlen, "collection \"%s\": a document for the record at %s[%d]@%" PRId64 " appeared "
                         "between reading and writing (another writer); applying the batch again", g->coll,
                         g->stmts[i].ch->topic ? g->stmts[i].ch->topic : "?", g->stmts[i].ch->partition,
                         g->stmts[i].ch->offset);
                st = WC_RETRY;
                goto out;
            }
    } else if (g->kind == MG_CAS && nsum != (int64_t)g->n) {
        snprintf(err, errlen, "collection \"%s\": %" PRId64 " of %zu documents changed between reading and %s them "
                 "(another writer); applying the batch again", g->coll, (int64_t)g->n - nsum, g->n,
                 g->write == MW_UPDATE ? "replacing" : "deleting");
        st = WC_RETRY;
    }
out:
    free(dup);
    mongoc_collection_destroy(c);
    return st;
}

/* Sends the queued groups of kinds [from, to] in queue order, stopping at the first failure. */
static wc_status_t pending_send(sk_target_t *t, mongo_gkind_t from, mongo_gkind_t to, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->npend; i++)
        if (t->pend[i].kind >= from && t->pend[i].kind <= to) {
            wc_status_t st = group_send(t, &t->pend[i], err, errlen);
            if (st != WC_OK)
                return st;
        }
    return WC_OK;
}

static wc_status_t mongo_begin(sk_target_t *t, char *err, size_t errlen)
{
    pending_clear(t);
    read_clear(t);
    return WC_OK;
}

/* Conflict log first (a crash after it loses no entry; a replay inserts the same _ids again), then
 * the documents, then the offsets (a crash before them replays the batch, which finds its own
 * versions). */
static wc_status_t mongo_commit(sk_target_t *t, char *err, size_t errlen)
{
    wc_status_t st = pending_send(t, MG_LOG, MG_LOG, err, errlen);
    if (st == WC_OK)
        st = pending_send(t, MG_GUARDED, MG_CAS, err, errlen);
    if (st == WC_OK)
        st = pending_send(t, MG_OFFSETS, MG_OFFSETS, err, errlen);
    pending_clear(t);
    read_clear(t);
    return st;
}

static void mongo_rollback(sk_target_t *t)
{
    if (!t)
        return;
    pending_clear(t);
    read_clear(t);
}

/* "The stored version is not newer" (conflict.h cf_version_newer, on the server): no V at all, or V <=
 * vtext bytewise (older of the same source; any text of the old form; a source id that sorts before), or
 * V past every version of vtext's source (another source); for a snapshot row also a streamed change of
 * its source with a smaller LSN. A streamed change's kind ('s') sorts after a snapshot row's ('r'). */
static void append_guard(bson_t *q, const char *vfield, const char *vtext)
{
    bson_t or, d, c;
    size_t p = cf_version_prefix(vtext);
    char above[512], lo[512], hi[512];
    snprintf(above, sizeof above, "%.*s~", (int)p, vtext);
    bson_append_array_begin(q, "$or", 3, &or);
    bson_append_document_begin(&or, "0", 1, &d);
    bson_append_document_begin(&d, vfield, -1, &c);
    BSON_APPEND_BOOL(&c, "$exists", false);
    bson_append_document_end(&d, &c);
    bson_append_document_end(&or, &d);
    bson_append_document_begin(&or, "1", 1, &d);
    bson_append_document_begin(&d, vfield, -1, &c);
    BSON_APPEND_UTF8(&c, "$lte", vtext);
    bson_append_document_end(&d, &c);
    bson_append_document_end(&or, &d);
    if (p) {
        bson_append_document_begin(&or, "2", 1, &d);
        bson_append_document_begin(&d, vfield, -1, &c);
        BSON_APPEND_UTF8(&c, "$gte", above);
        bson_append_document_end(&d, &c);
        bson_append_document_end(&or, &d);
    }
    if (p && vtext[p] == 'r' && strlen(vtext + p) > 18) {
        /* [prefix "s:", prefix "s:" + this row's LSN) */
        snprintf(lo, sizeof lo, "%.*ss:", (int)p, vtext);
        snprintf(hi, sizeof hi, "%.*ss:%.16s", (int)p, vtext, vtext + p + 2);
        bson_append_document_begin(&or, "3", 1, &d);
        bson_append_document_begin(&d, vfield, -1, &c);
        BSON_APPEND_UTF8(&c, "$gte", lo);
        BSON_APPEND_UTF8(&c, "$lt", hi);
        bson_append_document_end(&d, &c);
        bson_append_document_end(&or, &d);
    }
    bson_append_array_end(q, &or);
}

/* {V: <the value read>} or {V: {$exists: false}}: "the document is still as read" (compare-and-swap on
 * the version; a writer that leaves the version alone is not seen, which is what "written by someone
 * else" means here). */
static void append_cas(bson_t *q, const char *vfield, const bson_t *existing)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, existing, vfield)) {
        bson_append_iter(q, vfield, -1, &it);
    } else {
        bson_t c;
        bson_append_document_begin(q, vfield, -1, &c);
        BSON_APPEND_BOOL(&c, "$exists", false);
        bson_append_document_end(q, &c);
    }
}

/* An _id in a form where values the server finds equal are equal bytes: numbers of any BSON type that
 * hold the same integer compare equal in MongoDB ({id: 1} matches {id: NumberLong(1)}), so a document
 * another writer created with an int32 key is the one our int64 key names. */
static void id_canon(buf_t *b, bson_iter_t *it)
{
    while (bson_iter_next(it)) {
        uint32_t kl = bson_iter_key_len(it);
        buf_append(b, &kl, sizeof kl);
        buf_append(b, bson_iter_key(it), kl);
        bson_type_t ty = bson_iter_type(it);
        double dv = ty == BSON_TYPE_DOUBLE ? bson_iter_double(it) : 0;
        if (ty == BSON_TYPE_INT32 || ty == BSON_TYPE_INT64 ||
            (ty == BSON_TYPE_DOUBLE && dv == (double)(int64_t)dv && dv > -9.2e18 && dv < 9.2e18)) {
            int64_t v = ty == BSON_TYPE_DOUBLE ? (int64_t)dv : bson_iter_as_int64(it);
            buf_putc(b, 'i');
            buf_append(b, &v, sizeof v);
        } else if (ty == BSON_TYPE_DOCUMENT || ty == BSON_TYPE_ARRAY) {
            bson_iter_t sub;
            buf_putc(b, ty == BSON_TYPE_DOCUMENT ? '{' : '[');
            if (bson_iter_recurse(it, &sub))
                id_canon(b, &sub);
            buf_putc(b, '}');
        } else {
            /* the value's own bytes (libbson keeps the element's data between d1 and next_off) */
            buf_putc(b, (char)ty);
            buf_append(b, it->raw + it->d1, it->next_off - it->d1);
        }
    }
}

static void id_canon_of(buf_t *b, const bson_t *id)
{
    bson_iter_t it;
    buf_reset(b);
    if (bson_iter_init(&it, id))
        id_canon(b, &it);
}

/* The documents the target holds for ids[keep[0..m)], into ex[j]: whole when full, else only _id and
 * vfield. One query per 500 keys ($in on _id). */
static wc_status_t read_existing(mongoc_collection_t *c, const char *coll, const char *vfield, bool full,
                                 const bson_t *ids, const size_t *keep, size_t m, mongo_existing_t *ex, char *err,
                                 size_t errlen)
{
    size_t cap = 16, *slot;
    uint64_t *hash;
    wc_status_t st = WC_OK;
    buf_t canon;
    char **keys = calloc(m ? m : 1, sizeof *keys);
    size_t *klen = calloc(m ? m : 1, sizeof *klen);
    while (cap < m * 2)
        cap <<= 1;
    slot = calloc(cap, sizeof *slot);
    hash = calloc(m ? m : 1, sizeof *hash);
    buf_init(&canon);
    if (!slot || !hash || !keys || !klen) {
        snprintf(err, errlen, "out of memory");
        st = WC_FATAL;
        goto out;
    }
    for (size_t j = 0; j < m; j++) {
        id_canon_of(&canon, &ids[keep[j]]);
        keys[j] = xmalloc(canon.len + 1);
        memcpy(keys[j], canon.data, canon.len);
        klen[j] = canon.len;
        uint64_t h = buf_hash(canon.data, canon.len, 0);
        hash[j] = h;
        size_t s = (size_t)h & (cap - 1);
        while (slot[s])
            s = (s + 1) & (cap - 1);
        slot[s] = j + 1;
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
        if (!full) {
            bson_append_document_begin(&opts, "projection", -1, &proj);
            BSON_APPEND_INT32(&proj, vfield, 1);
            bson_append_document_end(&opts, &proj);
        }
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
            id_canon_of(&canon, &id);
            uint64_t h = buf_hash(canon.data, canon.len, 0);
            /* every change with this _id (a key given more than once has one slot per time) */
            for (size_t s = (size_t)h & (cap - 1); slot[s]; s = (s + 1) & (cap - 1)) {
                size_t j = slot[s] - 1;
                if (hash[j] != h || klen[j] != canon.len || memcmp(keys[j], canon.data, canon.len) != 0)
                    continue;   /* not this one ($in matched it some other way, or a collision) */
                if (ex[j].found)
                    bson_destroy(&ex[j].doc);
                ex[j].found = true;
                bson_copy_to(doc, &ex[j].doc);
            }
        }
        if (mongoc_cursor_error(cur, &e)) {
            st = mongo_classify(&e);
            if (st == WC_PERMANENT)
                st = WC_RETRY;
            snprintf(err, errlen, "reading the documents of collection \"%s\" a batch may conflict with: %s", coll,
                     e.message);
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(&filter);
        bson_destroy(&opts);
    }
out:
    for (size_t j = 0; keys && j < m; j++)
        free(keys[j]);
    free(keys);
    free(klen);
    free(slot);
    free(hash);
    buf_free(&canon);
    return st;
}

/* The row of a change as a document of every present column (key columns too): a conflict's "incoming". */
static int row_doc(const sk_table_t *tab, const sk_change_t *x, unsigned flags, bson_t *parent, const char *key,
                   char *err, size_t errlen)
{
    bson_t d;
    if (!bson_append_document_begin(parent, key, -1, &d))
        goto toolarge;
    for (size_t i = 0; i < tab->row->nfields && i < x->row.u.list.n; i++) {
        const cs_field_t *f = &tab->row->fields[i];
        if (x->has && !x->has[i])
            continue;
        if (mongo_value_append(&d, f->name, f->schema, &x->row.u.list.v[i], flags, err, errlen) != 0)
            return -1;
    }
    if (bson_append_document_end(parent, &d))
        return 0;
toolarge:
    snprintf(err, errlen, "collection \"%s\": the conflict's incoming row exceeds BSON's size limit", tab->name);
    return -1;
}

/* The conflict log entry of change x: _id names the sink, the record and the half of it (a key change is
 * a delete and an upsert of one record), so a batch replayed after a crash inserts the same _id again and
 * the log keeps one entry per conflict (the first one's "existing"). */
static int conflict_doc(sk_target_t *t, const sk_table_t *tab, const sk_change_t *x, const bson_t *id,
                        int type, const mongo_existing_t *ex, bson_t *doc, char *err, size_t errlen)
{
    bson_t lid;
    const char *sink = t->cfg->name ? t->cfg->name : "";
    bson_append_document_begin(doc, "_id", 3, &lid);
    BSON_APPEND_UTF8(&lid, "sink", sink);
    BSON_APPEND_UTF8(&lid, "topic", x->topic ? x->topic : "");
    BSON_APPEND_INT32(&lid, "partition", x->partition);
    BSON_APPEND_INT64(&lid, "offset", x->offset);
    BSON_APPEND_UTF8(&lid, "op", x->op == SK_OP_DELETE ? "delete" : "upsert");
    bson_append_document_end(doc, &lid);
    bson_append_now_utc(doc, "at", -1);
    BSON_APPEND_UTF8(doc, "sink", sink);
    BSON_APPEND_UTF8(doc, "table_name", tab->name);
    BSON_APPEND_DOCUMENT(doc, "key", id);
    BSON_APPEND_UTF8(doc, "type", cf_type_name((sk_conflict_t)type));
    BSON_APPEND_UTF8(doc, "policy", cf_policy_name(tab->policy));
    if (x->op == SK_OP_UPSERT) {
        if (row_doc(tab, x, t->flags, doc, "incoming", err, errlen) != 0)
            return -1;
    } else {
        BSON_APPEND_NULL(doc, "incoming");
    }
    if (ex->found)
        BSON_APPEND_DOCUMENT(doc, "existing", &ex->doc);
    else
        BSON_APPEND_NULL(doc, "existing");
    return 0;
}

/* A change that leaves some columns out (has[i] false: an unchanged TOASTed value): the document keeps
 * their stored values, so it is written as a $set of the present fields, never as a replacement. */
static bool partial_row(const sk_table_t *tab, const sk_change_t *x)
{
    for (size_t i = 0; x->has && i < tab->row->nfields && i < x->row.u.list.n; i++)
        if (!x->has[i])
            return true;
    return false;
}

/* The "u" of an update statement: doc (without _id) as the replacement, or as {$set: doc} when partial. */
static void append_update(bson_t *s, const bson_t *doc, bool partial)
{
    bson_t body = BSON_INITIALIZER;
    bson_copy_to_excluding_noinit(doc, &body, "_id", NULL);
    if (partial) {
        bson_t u;
        bson_append_document_begin(s, "u", 1, &u);
        BSON_APPEND_DOCUMENT(&u, "$set", &body);
        bson_append_document_end(s, &u);
    } else {
        BSON_APPEND_DOCUMENT(s, "u", &body);
    }
    bson_destroy(&body);
}

/* source_wins without a conflict log: no read, every write guarded by the version (replays leave newer
 * documents alone; a guarded upsert that misses is stale and skipped). Rows that were new at the source
 * (src_op 'c' or 'r': inserts, snapshot reads) are sent as one unordered insert first and only those
 * found already there become guarded upserts: an insert meets the unique _id index alone, while an
 * upsert is a query and a write per document, which FerretDB 1.24 answers by scanning the collection
 * (measured in scripts/bench_sink_mongo.sh). Queued for commit. */
static wc_status_t apply_guarded(sk_target_t *t, const sk_table_t *tab, const char *vfield,
                                 const sk_change_t *const *ch, const bson_t *ids, const size_t *keep, size_t m,
                                 char *err, size_t errlen)
{
    bool upd = ch[keep[0]]->op == SK_OP_UPSERT;
    mongo_stmt_t *stmts = xcalloc(m, sizeof *stmts), *ins = xcalloc(m, sizeof *ins);
    size_t ns = 0, nins = 0;
    for (size_t j = 0; j < m; j++) {
        const sk_change_t *x = ch[keep[j]];
        char vtext[512];
        bson_t q, doc = BSON_INITIALIZER;
        mongo_version_text(&x->version, vtext, sizeof vtext);
        bool partial = upd && partial_row(tab, x);
        if (upd && (x->src_op == 'c' || x->src_op == 'r') && !x->key_changed && !partial) {
            bson_t *d = &ins[nins].stmt;
            ins[nins++].ch = x;
            bson_init(d);
            if (mongo_doc_build(tab, &x->row, x->has, t->flags, &ids[keep[j]], vfield, vtext, d, err, errlen) != 0)
                goto fail;
            continue;
        }
        bson_t *s = &stmts[ns].stmt;
        stmts[ns].ch = x;
        bson_init(s);
        ns++;
        bson_append_document_begin(s, "q", 1, &q);
        BSON_APPEND_DOCUMENT(&q, "_id", &ids[keep[j]]);
        append_guard(&q, vfield, vtext);
        bson_append_document_end(s, &q);
        if (!upd) {
            BSON_APPEND_INT32(s, "limit", 1);
            continue;
        }
        if (mongo_doc_build(tab, &x->row, x->has, t->flags, &ids[keep[j]], vfield, vtext, &doc, err, errlen) != 0) {
            bson_destroy(&doc);
            goto fail;
        }
        append_update(s, &doc, partial);
        BSON_APPEND_BOOL(s, "upsert", true);
        bson_destroy(&doc);
    }
    pending_add(t, MG_TRY_INSERT, MW_INSERT, tab->name, ins, nins);
    if (nins)
        t->pend[t->npend - 1].vfield = xstrdup(vfield);
    pending_add(t, MG_GUARDED, upd ? MW_UPDATE : MW_DELETE, tab->name, stmts, ns);
    return WC_OK;
fail:
    for (size_t i = 0; i < ns; i++)
        bson_destroy(&stmts[i].stmt);
    for (size_t i = 0; i < nins; i++)
        bson_destroy(&ins[i].stmt);
    free(stmts);
    free(ins);
    return WC_PERMANENT;
}

/* Every other policy, and source_wins with a conflict log: cf_apply (conflict.c) read the documents of the
 * batch's keys through mongo_fetch_existing and decided; each kept change is queued as a compare-and-swap
 * against what was read: an absent document by insert (duplicate key: it appeared since), a present one by
 * an update or delete whose filter holds the version read (n short of the statements: one changed since).
 * A document changed between the read and the write fails the commit with WC_RETRY: apply.c applies the
 * batch again, every write of the first attempt is then a replay (same version: skipped), and the new read
 * decides with what is there now. So target_wins never overwrites or deletes what it did not read as its
 * own.
 *
 * Crash windows (no multi-document transactions): the conflict log is written before the documents, so
 * a crash between them loses no entry; its _id (sink, record, half) makes the replay's insert of the
 * same entry a no-op (one entry per conflict, with the "existing" first seen). A crash after the
 * documents and before the offsets replays the batch: upserts find their own version (no conflict,
 * nothing written); a replayed delete finds nothing and is logged as delete_missing, once. No change is
 * lost: the offsets are written only after every document. */
static wc_status_t apply_decided(sk_target_t *t, const sk_table_t *tab, const char *vfield,
                                 const sk_change_t *const *ch, const bson_t *ids, const size_t *keep, size_t m,
                                 char *err, size_t errlen)
{
    bool upd = ch[keep[0]]->op == SK_OP_UPSERT;
    mongo_stmt_t *ins = xcalloc(m, sizeof *ins), *wr = xcalloc(m, sizeof *wr);
    size_t nins = 0, nwr = 0, r = 0;
    wc_status_t st = WC_OK;
    for (size_t j = 0; j < m; j++) {
        const sk_change_t *x = ch[keep[j]];
        const bson_t *id = &ids[keep[j]];
        /* the kept changes come in the order they were read */
        while (r < t->nrd && t->rd_ch[r] != x)
            r++;
        if (r == t->nrd) {
            snprintf(err, errlen, "collection \"%s\": the record at %s[%d]@%" PRId64 " is written without its "
                     "document read first", tab->name, x->topic ? x->topic : "?", x->partition, x->offset);
            st = WC_FATAL;
            goto out;
        }
        const mongo_existing_t *ex = &t->rd_ex[r];
        char vtext[512];
        mongo_version_text(&x->version, vtext, sizeof vtext);
        if (upd && !ex->found) {
            bson_init(&ins[nins].stmt);
            ins[nins].ch = x;
            if (mongo_doc_build(tab, &x->row, x->has, t->flags, id, vfield, vtext, &ins[nins++].stmt, err,
                                errlen) != 0) {
                st = WC_PERMANENT;
                goto out;
            }
            continue;
        }
        bson_t *s = &wr[nwr].stmt, q;
        bson_init(s);
        wr[nwr++].ch = x;
        bson_append_document_begin(s, "q", 1, &q);
        BSON_APPEND_DOCUMENT(&q, "_id", id);
        append_cas(&q, vfield, &ex->doc);
        bson_append_document_end(s, &q);
        if (!upd) {
            BSON_APPEND_INT32(s, "limit", 1);
            continue;
        }
        bson_t doc = BSON_INITIALIZER;
        if (mongo_doc_build(tab, &x->row, x->has, t->flags, id, vfield, vtext, &doc, err, errlen) != 0) {
            bson_destroy(&doc);
            st = WC_PERMANENT;
            goto out;
        }
        /* without _id: the stored one stays (it may be an equal key of another numeric type) */
        append_update(s, &doc, partial_row(tab, x));
        BSON_APPEND_BOOL(s, "upsert", false);
        bson_destroy(&doc);
    }
    /* the queue owns them now */
    pending_add(t, MG_NEW, MW_INSERT, tab->name, ins, nins);
    pending_add(t, MG_CAS, upd ? MW_UPDATE : MW_DELETE, tab->name, wr, nwr);
    ins = wr = NULL;
out:
    for (size_t j = 0; ins && j < nins; j++)
        bson_destroy(&ins[j].stmt);
    for (size_t j = 0; wr && j < nwr; j++)
        bson_destroy(&wr[j].stmt);
    free(ins);
    free(wr);
    return st;
}

/* cf_apply's read: the documents the n changes' _ids have (whole under conflict.log.enabled, else _id and
 * the version), kept for mongo_log_conflicts and the apply that follow; ex[i] gets found and the version. */
static wc_status_t mongo_fetch_existing(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                                        sk_existing_t *ex, char *err, size_t errlen)
{
    const char *vfield = tab->version_column ? tab->version_column : MONGO_VERSION_FIELD;
    mongoc_collection_t *c = NULL;
    size_t *all = NULL;
    wc_status_t st = WC_OK;
    read_clear(t);
    if (!n)
        return WC_OK;
    t->rd_tab = xstrdup(tab->name);
    t->rd_ch = xcalloc(n, sizeof *t->rd_ch);
    t->rd_ids = xcalloc(n, sizeof *t->rd_ids);
    t->rd_ex = xcalloc(n, sizeof *t->rd_ex);
    all = xcalloc(n, sizeof *all);
    for (; t->nrd < n; t->nrd++) {
        size_t i = t->nrd;
        bson_init(&t->rd_ids[i]);
        t->rd_ch[i] = ch[i];
        all[i] = i;
        if (mongo_id_build(tab, &ch[i]->row, ch[i]->has, t->flags, &t->rd_ids[i], err, errlen) != 0) {
            t->nrd++;
            st = WC_PERMANENT;
            goto out;
        }
    }
    c = mongoc_client_get_collection(t->client, t->dbname, tab->name);
    st = read_existing(c, tab->name, vfield, t->cfg->conflict_log, t->rd_ids, all, n, t->rd_ex, err, errlen);
    for (size_t i = 0; st == WC_OK && i < n; i++) {
        bson_iter_t it;
        ex[i].found = t->rd_ex[i].found;
        if (ex[i].found && bson_iter_init_find(&it, &t->rd_ex[i].doc, vfield) && BSON_ITER_HOLDS_UTF8(&it))
            ex[i].ver = xstrdup(bson_iter_utf8(&it, NULL));
    }
out:
    if (c)
        mongoc_collection_destroy(c);
    free(all);
    if (st != WC_OK)
        read_clear(t);
    return st;
}

/* cf_apply's conflict log: one walcast_conflicts document per conflict (conflict_doc), queued for commit. */
static wc_status_t mongo_log_conflicts(sk_target_t *t, const sk_table_t *tab, const sk_conflict_rec_t *v, size_t n,
                                       char *err, size_t errlen)
{
    mongo_stmt_t *logs = xcalloc(n ? n : 1, sizeof *logs);
    size_t k = 0;
    wc_status_t st = WC_OK;
    for (; k < n; k++) {
        if (!t->rd_tab || strcmp(t->rd_tab, tab->name) || v[k].at >= t->nrd || t->rd_ch[v[k].at] != v[k].change) {
            snprintf(err, errlen, "collection \"%s\": a conflict is logged without its document read first", tab->name);
            st = WC_FATAL;
            break;
        }
        bson_init(&logs[k].stmt);
        logs[k].ch = v[k].change;
        if (conflict_doc(t, tab, v[k].change, &t->rd_ids[v[k].at], (int)v[k].type, &t->rd_ex[v[k].at],
                         &logs[k].stmt, err, errlen) != 0) {
            k++;
            st = WC_PERMANENT;
            break;
        }
    }
    if (st != WC_OK) {
        for (size_t i = 0; i < k; i++)
            bson_destroy(&logs[i].stmt);
        free(logs);
        return st;
    }
    pending_add(t, MG_LOG, MW_INSERT, MONGO_CONFLICTS_COLLECTION, logs, n);
    return WC_OK;
}

/* Sends what is queued except the offsets and forgets it (before a truncate). */
static wc_status_t pending_flush(sk_target_t *t, char *err, size_t errlen)
{
    wc_status_t st = pending_send(t, MG_LOG, MG_LOG, err, errlen);
    if (st == WC_OK)
        st = pending_send(t, MG_GUARDED, MG_CAS, err, errlen);
    if (st != WC_OK)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < t->npend; i++) {
        if (t->pend[i].kind == MG_OFFSETS)
            t->pend[k++] = t->pend[i];
        else
            group_free(&t->pend[i]);
    }
    t->npend = k;
    return WC_OK;
}

static wc_status_t mongo_apply(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode,
                               const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc, char *err,
                               size_t errlen)
{
    const char *vfield = tab->version_column ? tab->version_column : MONGO_VERSION_FIELD;
    mongoc_collection_t *c = mongoc_client_get_collection(t->client, t->dbname, tab->name);
    bson_t *ids = NULL;
    size_t *keep = NULL, m = 0, nids = 0;
    wc_status_t st = WC_OK;

    if (n == 0)
        goto out;
    if (ch[0]->op == SK_OP_TRUNCATE) {
        bson_t all = BSON_INITIALIZER;
        bson_error_t e;
        if ((st = pending_flush(t, err, errlen)) != WC_OK) {
            bson_destroy(&all);
            goto out;
        }
        if (!mongoc_collection_delete_many(c, &all, NULL, NULL, &e)) {
            st = mongo_classify(&e);
            snprintf(err, errlen, "truncate of collection \"%s\": %s", tab->name, e.message);
        }
        bson_destroy(&all);
        goto out;
    }
    ids = calloc(n, sizeof *ids);
    keep = calloc(n, sizeof *keep);
    if (!ids || !keep) {
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
    if (t->rd_tab && !strcmp(t->rd_tab, tab->name)) {
        st = apply_decided(t, tab, vfield, ch, ids, keep, m, err, errlen);
    } else if (tab->policy == SK_POLICY_SOURCE_WINS && !t->cfg->conflict_log) {
        st = apply_guarded(t, tab, vfield, ch, ids, keep, m, err, errlen);
    } else {
        snprintf(err, errlen, "collection \"%s\": conflict.policy=%s%s needs its documents read and decided first "
                 "(cf_apply)", tab->name, cf_policy_name(tab->policy), t->cfg->conflict_log ? " with a conflict log" : "");
        st = WC_FATAL;
    }
    read_clear(t);
out:
    for (size_t i = 0; i < nids; i++)
        bson_destroy(&ids[i]);
    free(ids);
    free(keep);
    mongoc_collection_destroy(c);
    return st;
}

/* Queues the positions; mongo_commit writes them after every document of the batch. */
static wc_status_t mongo_store_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n,
                                       char *err, size_t errlen)
{
    static const sk_change_t none = { .topic = MONGO_OFFSETS_COLLECTION, .partition = -1, .offset = -1 };
    mongo_stmt_t *stmts = xcalloc(n ? n : 1, sizeof *stmts);
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
    pending_add(t, MG_OFFSETS, MW_UPDATE, MONGO_OFFSETS_COLLECTION, stmts, n);
    return WC_OK;
}

/* Deletes at once (a REST offsets change runs while the sink is stopped: no batch is open). */
static wc_status_t mongo_delete_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                                        size_t errlen)
{
    mongoc_collection_t *c = mongoc_client_get_collection(t->client, t->dbname, MONGO_OFFSETS_COLLECTION);
    wc_status_t st = WC_OK;
    for (size_t i = 0; i < (n ? n : 1) && st == WC_OK; i++) {
        bson_t filter = BSON_INITIALIZER;
        bson_error_t e;
        BSON_APPEND_UTF8(&filter, "sink", name);
        if (n) {
            BSON_APPEND_UTF8(&filter, "topic", offs[i].topic);
            BSON_APPEND_INT32(&filter, "partition", offs[i].partition);
        }
        if (!mongoc_collection_delete_many(c, &filter, NULL, NULL, &e)) {
            snprintf(err, errlen, "deleting from %s.%s: %s", t->dbname, MONGO_OFFSETS_COLLECTION, e.message);
            st = WC_RETRY;
        }
        bson_destroy(&filter);
    }
    mongoc_collection_destroy(c);
    return st;
}

/* walcast check: the sink writes documents (upserts, guarded deletes, its offsets) and creates collections
 * and indexes in sink.database, which a role such as readWrite on that database allows. Proven by writing and
 * removing a probe document in walcast_sink_offsets (the one collection walcast owns): that works on every
 * server, authentication on or off, whatever roles give the right. */
static size_t mongo_check_rights(sk_target_t *t, sk_check_t *out, size_t max)
{
    if (!max)
        return 0;
    sk_check_t *c = &out[0];
    c->name = "target_rights";
    c->key = "mongodb.connection.string";
    mongoc_collection_t *coll = mongoc_client_get_collection(t->client, t->dbname, MONGO_OFFSETS_COLLECTION);
    bson_t sel = BSON_INITIALIZER, upd = BSON_INITIALIZER, set, id;
    bson_error_t e;
    bson_append_document_begin(&sel, "_id", 3, &id);
    BSON_APPEND_UTF8(&id, "sink", "__walcast_check__");
    bson_append_document_end(&sel, &id);
    bson_append_document_begin(&upd, "$set", 4, &set);
    BSON_APPEND_UTF8(&set, "probe", "walcast check: written and removed at once");
    bson_append_document_end(&upd, &set);
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bool ok = mongoc_collection_update_one(coll, &sel, &upd, &opts, NULL, &e) &&
              mongoc_collection_delete_one(coll, &sel, NULL, NULL, &e);
    c->ok = ok;
    if (ok) {
        snprintf(c->message, sizeof c->message, "the user may write in database %s (a probe document in %s written and "
                 "removed)", t->dbname, MONGO_OFFSETS_COLLECTION);
    } else {
        const char *user = NULL;
        mongoc_uri_t *u = mongoc_uri_new(t->cfg->mongo_uri ? t->cfg->mongo_uri : "");
        if (u)
            user = mongoc_uri_get_username(u);
        snprintf(c->message, sizeof c->message, "the user may not write in database %s: %s", t->dbname, e.message);
        snprintf(c->fix, sizeof c->fix, "db.getSiblingDB(\"admin\").grantRolesToUser(\"%s\", [{ role: \"readWrite\", db: "
                 "\"%s\" }])", user ? user : "USER", t->dbname);
        mongoc_uri_destroy(u);
    }
    bson_destroy(&opts);
    bson_destroy(&sel);
    bson_destroy(&upd);
    mongoc_collection_destroy(coll);
    return 1;
}

const sk_target_ops_t sk_mongo_ops = {
    .name = "mongodb",
    .connect = mongo_connect,
    .close = mongo_close,
    .read_offsets = mongo_read_offsets,
    .begin = mongo_begin,
    .ensure_table = mongo_ensure_table,
    .apply = mongo_apply,
    .store_offsets = mongo_store_offsets,
    .delete_offsets = mongo_delete_offsets,
    .check_rights = mongo_check_rights,
    .commit = mongo_commit,
    .rollback = mongo_rollback,
    .fetch_existing = mongo_fetch_existing,
    .log_conflicts = mongo_log_conflicts,
    .unversioned_foreign = true,
};
