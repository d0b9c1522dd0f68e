/* replication.c: libpq plumbing for the slot. Every server refusal is turned into an error that says
 * what to change (postgresql.conf, ALTER ROLE, CREATE PUBLICATION, slot.name ...). */
#include "agent/replication.h"
#include <errno.h>
#include <poll.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "schemas/clock.h"
#include "decoder/pgoutput.h"

int64_t repl_now_pg(void) { return wc_wall_us() - PGO_EPOCH_OFFSET_US; }

/* The worker's identity on its replication connections, and who may end a walsender holding a slot. */
static char app_name[64] = "walcast";
static repl_holder_gone_fn holder_gone;

void repl_set_identity(const char *application_name, repl_holder_gone_fn gone)
{
    snprintf(app_name, sizeof app_name, "%s", application_name ? application_name : "walcast");
    holder_gone = gone;
}

static PGconn *open_conn(const conn_config_t *c, bool replication, wc_status_t *st, char *err, size_t errlen)
{
    const char *keys[32], *vals[32];
    int n = 0;
    keys[n] = "host"; vals[n++] = c->host;
    keys[n] = "port"; vals[n++] = c->port;
    keys[n] = "user"; vals[n++] = c->user;
    keys[n] = "dbname"; vals[n++] = c->dbname;
    if (c->password && *c->password) {
        keys[n] = "password"; vals[n++] = c->password;
    }
    keys[n] = "application_name"; vals[n++] = replication ? app_name : "walcast-catalog";
    keys[n] = "options";
    vals[n++] = "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 "
                "-c bytea_output=hex -c lc_monetary=C";
    /* events are UTF-8 whatever the database's encoding: the server converts what it sends */
    keys[n] = "client_encoding"; vals[n++] = "UTF8";
    keys[n] = "connect_timeout"; vals[n++] = "10";
    if (replication) {
        keys[n] = "replication"; vals[n++] = "database";
    }
    for (size_t i = 0; i < c->libpq.n && n < 30; i++) {
        keys[n] = c->libpq.kv[i].key;
        vals[n++] = c->libpq.kv[i].value;
    }
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(conn);
        const char *hint = "";
        if (strstr(m, "no pg_hba.conf entry"))
            /* walcast's replication connection is a logical one (replication=database): it matches the
             * ordinary entries of the database, never the 'replication' ones (physical replication only) */
            hint = "; add a pg_hba.conf entry for this database and user (host DATABASE USER ADDRESS METHOD; the "
                   "logical replication connection matches it too, not a 'replication' entry) and reload PostgreSQL";
        else if (strstr(m, "password authentication failed"))
            hint = "; check database.user and database.password";
        else if (strstr(m, "Connection refused") || strstr(m, "could not connect"))
            hint = "; check database.hostname/database.port and that PostgreSQL is running";
        snprintf(err, errlen, "cannot connect to PostgreSQL at %s:%s database %s as %s%s: %.*s%s", c->host, c->port,
                 c->dbname, c->user, replication ? " (replication)" : "", (int)strcspn(m, "\n"), m, hint);
        *st = wc_status_pg_connect(m);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

wc_status_t repl_connect(repl_t *r, const conn_config_t *cfg, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->sql = open_conn(cfg, false, &st, err, errlen);
    if (!r->sql)
        return st;
    r->server_version = PQserverVersion(r->sql);
    if (r->server_version < 100000) {
        snprintf(err, errlen, "PostgreSQL %d.%d has no pgoutput; walcast needs PostgreSQL 10 or later",
                 r->server_version / 10000, r->server_version / 100 % 100);
        repl_close(r);
        return WC_FATAL;
    }
    r->messages = r->server_version >= 140000;
    return WC_OK;
}

void repl_close(repl_t *r)
{
    if (r->sql)
        PQfinish(r->sql);
    if (r->stream)
        PQfinish(r->stream);
    r->sql = r->stream = NULL;
    free(r->pub_added);
    r->pub_added = NULL;
}

/* SQLSTATE of this thread's last failed statement ("" when the connection itself broke). */
static _Thread_local char last_sqlstate[6];

static void note_failure(const PGresult *res)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(last_sqlstate, sizeof last_sqlstate, "%s", st ? st : "");
}

/* A failure that may pass by itself: the connection broke (server restarting, backend terminated),
 * a lock or statement timeout, a deadlock, the server shutting down or out of resources, the slot
 * still held by a walsender that is going away. Not: refusals (privileges, configuration). */
static bool failure_transient(const repl_t *r)
{
    if ((r->sql && PQstatus(r->sql) != CONNECTION_OK) || (r->stream && PQstatus(r->stream) != CONNECTION_OK) ||
        !last_sqlstate[0])
        return true;
    return wc_status_sqlstate(last_sqlstate) == WC_RETRY;   /* the classification the SQL targets use too */
}

static PGresult *query(PGconn *c, const char *sql, int nparams, const char *const *params, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        note_failure(res);
        const char *m = PQresultErrorMessage(res);
        snprintf(err, errlen, "PostgreSQL query failed: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(res);
        return NULL;
    }
    return res;
}

static char *quote_ident(PGconn *c, const char *s)
{
    char *q = PQescapeIdentifier(c, s, strlen(s));
    if (!q)
        abort();
    return q;
}

PGresult *repl_query(repl_t *r, const char *sql, int nparams, const char *const *params, char *err, size_t errlen)
{
    return query(r->sql, sql, nparams, params, err, errlen);
}

void repl_tables_free(repl_table_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].schema);
        free(t[i].name);
    }
    free(t);
}

wc_status_t repl_captured_tables(repl_t *r, repl_table_t **out, size_t *n, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    const char *params[1] = { c->publication_name };
    *out = NULL;
    *n = 0;
    /* published: as pg_publication_tables shows it (FOR ALL TABLES, TABLES IN SCHEMA, the table), or, for a
     * partitioned table, one of its partitions (publish_via_partition_root=false lists the leaves) */
    PGresult *res = query(r->sql,
                          "SELECT n.nspname, c.relname, "
                          "EXISTS (SELECT 1 FROM pg_publication_tables pt WHERE pt.pubname = $1 AND "
                          "  ((pt.schemaname = n.nspname AND pt.tablename = c.relname) OR (c.relkind = 'p' AND EXISTS "
                          "  (SELECT 1 FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhrelid JOIN pg_namespace pn "
                          "   ON pn.oid = pc.relnamespace WHERE i.inhparent = c.oid AND pn.nspname = pt.schemaname "
                          "   AND pc.relname = pt.tablename)))), "
                          "has_table_privilege(c.oid, 'SELECT'), pg_has_role(c.relowner, 'USAGE'), c.relreplident, "
                          "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
                          "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident), c.relkind "
                          "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE c.relkind IN ('r','p') AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog','information_schema') "
                          "AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition ORDER BY 1, 2",
                          1, params, err, errlen);
    if (!res)
        return failure_transient(r) ? WC_RETRY : WC_FATAL;
    repl_table_t *t = xcalloc((size_t)PQntuples(res) + 1, sizeof *t);
    size_t k = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *ns = PQgetvalue(res, i, 0), *rel = PQgetvalue(res, i, 1);
        if (!flt_table_included(&c->filters, ns, rel))
            continue;
        t[k].schema = xstrdup(ns);
        t[k].name = xstrdup(rel);
        t[k].published = PQgetvalue(res, i, 2)[0] == 't';
        t[k].can_select = PQgetvalue(res, i, 3)[0] == 't';
        t[k].owned = PQgetvalue(res, i, 4)[0] == 't';
        t[k].replident = PQgetvalue(res, i, 5)[0];
        t[k].has_pk = PQgetvalue(res, i, 6)[0] == 't';
        t[k].has_replident_index = PQgetvalue(res, i, 7)[0] == 't';
        t[k].partitioned = PQgetvalue(res, i, 8)[0] == 'p';
        k++;
    }
    PQclear(res);
    *out = t;
    *n = k;
    return WC_OK;
}

/* Which tables are checked against the publication: with publication.autocreate.mode=filtered the
 * include/exclude lists are the publication's definition; otherwise only an include list says which
 * tables the user wants (with none, the publication itself is the choice of tables, as in Debezium). */
bool repl_publication_checked(const conn_config_t *c)
{
    return c->pub_mode == PUB_FILTERED || c->filters.table_inc.n || c->filters.schema_inc.n;
}

/* The captured tables (repl_captured_tables) and those of them the publication does not publish:
 * PostgreSQL never sends their changes, and the slot moves past them. */
typedef struct pub_cover {
    bool exists, all_tables;
    size_t matched, nmissing;
    buf_t wanted;                 /* every captured table, quoted for SQL, comma-separated */
    buf_t missing;                /* the captured tables not published, quoted for SQL */
    buf_t missing_names;          /* the same as schema.table, comma-separated, for logs */
    buf_t missing_lines;          /* the same, one a line (a name may hold a comma), for repl_take_pub_added */
} pub_cover_t;

static void pub_cover_free(pub_cover_t *pc)
{
    buf_free(&pc->wanted);
    buf_free(&pc->missing);
    buf_free(&pc->missing_names);
    buf_free(&pc->missing_lines);
}

static void put_qualified(buf_t *b, const char *ns, const char *rel)
{
    if (b->len)
        buf_puts(b, ", ");
    buf_put_quoted(b, ns, '"');
    buf_putc(b, '.');
    buf_put_quoted(b, rel, '"');
}

static int pub_cover_read(repl_t *r, pub_cover_t *pc, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    memset(pc, 0, sizeof *pc);
    buf_init(&pc->wanted);
    buf_init(&pc->missing);
    buf_init(&pc->missing_names);
    buf_init(&pc->missing_lines);
    const char *params[1] = { c->publication_name };
    PGresult *res = query(r->sql, "SELECT puballtables FROM pg_publication WHERE pubname = $1", 1, params, err, errlen);
    if (!res)
        return -1;
    pc->exists = PQntuples(res) > 0;
    pc->all_tables = pc->exists && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    repl_table_t *t = NULL;
    size_t n = 0;
    if (repl_captured_tables(r, &t, &n, err, errlen) != WC_OK)
        return -1;
    pc->matched = n;
    for (size_t i = 0; i < n; i++) {
        put_qualified(&pc->wanted, t[i].schema, t[i].name);
        if (t[i].published)
            continue;
        pc->nmissing++;
        put_qualified(&pc->missing, t[i].schema, t[i].name);
        if (pc->missing_names.len)
            buf_putc(&pc->missing_names, ',');
        buf_printf(&pc->missing_names, "%s.%s", t[i].schema, t[i].name);
        buf_printf(&pc->missing_lines, "%s%s.%s", pc->missing_lines.len ? "\n" : "", t[i].schema, t[i].name);
    }
    repl_tables_free(t, n);
    return 0;
}

/* The tables walcast added to the publication since the last call (schema.table, one a line; NULL: none). */
char *repl_take_pub_added(repl_t *r)
{
    char *s = r->pub_added;
    r->pub_added = NULL;
    return s;
}

static void note_added(repl_t *r, pub_cover_t *pc)
{
    size_t old = r->pub_added ? strlen(r->pub_added) : 0, n = pc->missing_lines.len;
    r->pub_added = xrealloc(r->pub_added, old + n + 2);
    if (old)
        r->pub_added[old++] = '\n';
    memcpy(r->pub_added + old, buf_cstr(&pc->missing_lines), n + 1);
}

/* Captured tables the publication does not publish: under publication.autocreate.mode=filtered they are
 * added (start: SET TABLE to the lists' tables, as Debezium does; while streaming: ADD TABLE, leaving
 * the rest alone); otherwise the connector stops, naming them and the ALTER PUBLICATION that fixes it. */
static int pub_fix_missing(repl_t *r, pub_cover_t *pc, bool at_start, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    buf_t sql;
    buf_init(&sql);
    buf_puts(&sql, "ALTER PUBLICATION ");
    buf_put_quoted(&sql, c->publication_name, '"');
    if (c->pub_mode == PUB_FILTERED && !pc->all_tables) {
        if (at_start)
            buf_printf(&sql, " SET TABLE %s", buf_cstr(&pc->wanted));
        else
            buf_printf(&sql, " ADD TABLE %s", buf_cstr(&pc->missing));
        PGresult *res = query(r->sql, buf_cstr(&sql), 0, NULL, err, errlen);
        if (!res) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "cannot add %s to publication \"%s\": %s (the user must own the publication and the "
                     "tables; or add them yourself)", buf_cstr(&pc->missing_names), c->publication_name, tmp);
            buf_free(&sql);
            return -1;
        }
        PQclear(res);
        if (pc->nmissing) {
            log_warn("tables added to the publication (PostgreSQL sent none of their changes made before)",
                     "publication=%s tables=%s", c->publication_name, log_esc(buf_cstr(&pc->missing_names)));
            note_added(r, pc);
        } else {
            log_info("publication set to the include/exclude lists' tables", "publication=%s", c->publication_name);
        }
        buf_free(&sql);
        return 0;
    }
    buf_printf(&sql, " ADD TABLE %s;", buf_cstr(&pc->missing));
    log_error("the publication does not publish tables the connector is told to capture; run this statement as the "
              "publication's owner", "publication=%s tables=%s sql=\"%s\"", c->publication_name,
              log_esc(buf_cstr(&pc->missing_names)), log_esc(buf_cstr(&sql)));
    snprintf(err, errlen, "publication \"%s\" does not publish %zu table%s that the include list captures (%s): "
             "PostgreSQL never sends their changes and the slot moves past them. Add them: %s (or set "
             "publication.autocreate.mode=filtered and walcast adds them). Changes made before they are added are "
             "not sent: an incremental snapshot (execute-snapshot signal) reads their rows",
             c->publication_name, pc->nmissing, pc->nmissing == 1 ? "" : "s", buf_cstr(&pc->missing_names),
             buf_cstr(&sql));
    buf_free(&sql);
    return -1;
}

/* Whether the publication lists a table the include/exclude lists do not capture (filtered mode then sets
 * it to the lists' tables, as Debezium does when the two differ). A failed query answers false: the
 * publication is left as it is. */
static bool pub_lists_others(repl_t *r, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    const char *params[1] = { c->publication_name };
    PGresult *res = query(r->sql,
                          "SELECT n.nspname, cl.relname FROM pg_publication p JOIN pg_publication_rel pr ON pr.prpubid = p.oid "
                          "JOIN pg_class cl ON cl.oid = pr.prrelid JOIN pg_namespace n ON n.oid = cl.relnamespace "
                          "WHERE p.pubname = $1", 1, params, err, errlen);
    if (!res)
        return false;
    bool others = false;
    for (int i = 0; i < PQntuples(res) && !others; i++)
        others = !flt_table_included(&c->filters, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    return others;
}

/* The operations walcast captures (all but skipped.operations) that the publication does not publish
 * (CREATE PUBLICATION … WITH (publish = 'insert')): PostgreSQL never sends those changes. Under
 * publication.autocreate.mode=filtered the publication's publish list is widened; otherwise -1 with the
 * statement that fixes it (no SQLSTATE: our refusal). */
static int pub_ops_check(repl_t *r, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    const char *params[1] = { c->publication_name };
    PGresult *res = query(r->sql, r->server_version >= 110000
                                      ? "SELECT pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication WHERE pubname = $1"
                                      : "SELECT pubinsert, pubupdate, pubdelete, true FROM pg_publication WHERE pubname = $1",
                          1, params, err, errlen);
    if (!res)
        return -1;
    static const struct { unsigned op; const char *name, *letter; } ops[] = {
        { EVT_OP_C, "insert", "c" }, { EVT_OP_U, "update", "u" }, { EVT_OP_D, "delete", "d" }, { EVT_OP_T, "truncate", "t" },
    };
    buf_t want, missing, skip;
    buf_init(&want);
    buf_init(&missing);
    buf_init(&skip);
    for (int i = 0; i < 4 && PQntuples(res) > 0; i++) {
        bool published = PQgetvalue(res, 0, i)[0] == 't', captured = !(c->evt.skipped_ops & ops[i].op);
        if (published || captured)
            buf_printf(&want, "%s%s", want.len ? ", " : "", ops[i].name);
        if (captured && !published)
            buf_printf(&missing, "%s%s", missing.len ? ", " : "", ops[i].name);
        if (!captured || !published)
            buf_printf(&skip, "%s%s", skip.len ? "," : "", ops[i].letter);
    }
    PQclear(res);
    int rc = 0;
    if (missing.len) {
        buf_t sql;
        buf_init(&sql);
        buf_puts(&sql, "ALTER PUBLICATION ");
        buf_put_quoted(&sql, c->publication_name, '"');
        buf_printf(&sql, " SET (publish = '%s')", buf_cstr(&want));
        if (c->pub_mode == PUB_FILTERED) {
            res = query(r->sql, buf_cstr(&sql), 0, NULL, err, errlen);
            if (res) {
                PQclear(res);
                log_warn("the publication now publishes what walcast captures (PostgreSQL sent none of these changes before)",
                         "publication=%s added=\"%s\"", c->publication_name, buf_cstr(&missing));
            } else {
                char tmp[512];
                snprintf(tmp, sizeof tmp, "%s", err);
                snprintf(err, errlen, "cannot make publication \"%s\" publish %s: %s (the user must own it)",
                         c->publication_name, buf_cstr(&missing), tmp);
                rc = -1;
            }
        } else {
            snprintf(err, errlen, "publication \"%s\" does not publish %s, which the connector captures: PostgreSQL "
                     "never sends those changes. Run %s; (or skip them: skipped.operations=%s)",
                     c->publication_name, buf_cstr(&missing), buf_cstr(&sql), buf_cstr(&skip));
            rc = -1;
        }
        buf_free(&sql);
    }
    buf_free(&want);
    buf_free(&missing);
    buf_free(&skip);
    return rc;
}

static int ensure_publication(repl_t *r, bool retried, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    const char *params[1] = { c->publication_name };
    pub_cover_t pc;
    if (pub_cover_read(r, &pc, err, errlen) < 0)
        return -1;
    int rc = -1;
    bool include = c->filters.table_inc.n || c->filters.schema_inc.n;
    if (include && pc.matched == 0) {
        snprintf(err, errlen, "%s matches no table in database \"%s\" (the entries are anchored regular expressions "
                 "over schema.table, e.g. public\\.orders); correct it, or create the tables first",
                 c->filters.table_inc.n ? "table.include.list" : "schema.include.list", c->dbname);
        goto out;
    }
    r->pub_all_tables = pc.all_tables;
    if (!pc.exists) {
        if (c->pub_mode == PUB_DISABLED) {
            snprintf(err, errlen, "publication \"%s\" does not exist and publication.autocreate.mode=disabled; "
                     "create it (CREATE PUBLICATION \"%s\" FOR ALL TABLES) or set publication.autocreate.mode=all_tables",
                     c->publication_name, c->publication_name);
            goto out;
        }
        buf_t sql;
        buf_init(&sql);
        buf_puts(&sql, "CREATE PUBLICATION ");
        buf_put_quoted(&sql, c->publication_name, '"');
        if (c->pub_mode == PUB_ALL_TABLES)
            buf_puts(&sql, " FOR ALL TABLES");
        else if (c->pub_mode == PUB_FILTERED && pc.matched)
            buf_printf(&sql, " FOR TABLE %s", buf_cstr(&pc.wanted));
        else if (c->pub_mode == PUB_FILTERED)
            log_warn("no table matches the include/exclude lists; the filtered publication stays empty",
                     "publication=%s", c->publication_name);
        PGresult *res = query(r->sql, buf_cstr(&sql), 0, NULL, err, errlen);
        buf_free(&sql);
        if (!res && !retried) {
            /* another connector (same publication.name) may have created it in between: look again */
            char e2[256];
            PGresult *again = query(r->sql, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, params, e2, sizeof e2);
            bool now = again && PQntuples(again) > 0;
            PQclear(again);
            if (now) {
                log_info("publication was created concurrently by another connector", "publication=%s", c->publication_name);
                pub_cover_free(&pc);
                return ensure_publication(r, true, err, errlen);
            }
        }
        if (!res) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "cannot create publication \"%s\": %s (the user needs CREATE on the database, and "
                     "must be superuser for FOR ALL TABLES; or create it yourself and set publication.autocreate.mode=disabled)",
                     c->publication_name, tmp);
            goto out;
        }
        PQclear(res);
        log_info("publication created", "publication=%s mode=%s", c->publication_name,
                 c->pub_mode == PUB_ALL_TABLES ? "all_tables" : c->pub_mode == PUB_FILTERED ? "filtered" : "no_tables");
        pub_cover_free(&pc);
        if (pub_cover_read(r, &pc, err, errlen) < 0)
            return -1;
        r->pub_all_tables = pc.all_tables;
    }
    if (pub_ops_check(r, err, errlen) < 0)
        goto out;
    if (repl_publication_checked(c) && (pc.nmissing || (c->pub_mode == PUB_FILTERED && pc.matched && !pc.all_tables &&
                                                      pub_lists_others(r, err, errlen))) &&
        pub_fix_missing(r, &pc, true, err, errlen) < 0)
        goto out;
    if (pc.all_tables && c->pub_mode == PUB_FILTERED)
        log_info("the publication is FOR ALL TABLES: it publishes every table and the include/exclude lists apply in walcast",
                 "publication=%s", c->publication_name);
    r->next_pub_check_us = repl_clock_us() + (int64_t)c->status_interval_ms * 1000;
    rc = 0;
out:
    pub_cover_free(&pc);
    return rc;
}

wc_status_t repl_check_publication(repl_t *r, int64_t now, int64_t *deadline, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    if (now < r->next_pub_check_us) {
        if (r->next_pub_check_us < *deadline)
            *deadline = r->next_pub_check_us;
        return WC_OK;
    }
    r->next_pub_check_us = now + (int64_t)c->status_interval_ms * 1000;
    last_sqlstate[0] = 0;
    if (pub_ops_check(r, err, errlen) < 0)   /* no SQLSTATE on a live connection: our refusal */
        return last_sqlstate[0] || PQstatus(r->sql) != CONNECTION_OK ? (failure_transient(r) ? WC_RETRY : WC_FATAL)
                                                                       : WC_FATAL;
    if (r->pub_all_tables || !repl_publication_checked(c))
        return WC_OK;
    pub_cover_t pc;
    if (pub_cover_read(r, &pc, err, errlen) < 0)
        return failure_transient(r) ? WC_RETRY : WC_FATAL;
    wc_status_t st = WC_OK;
    if (pc.nmissing && pub_fix_missing(r, &pc, false, err, errlen) < 0) {
        if (c->pub_mode != PUB_FILTERED)
            st = WC_FATAL;   /* our refusal: the user adds the tables */
        else if (strcmp(last_sqlstate, "42P01") == 0) {
            /* a table created and dropped again between the catalog read and ADD TABLE: look again later */
            log_warn("a table to add to the publication was dropped meanwhile; checked again", "publication=%s error=\"%s\"",
                     c->publication_name, log_esc(err));
        } else
            st = failure_transient(r) ? WC_RETRY : WC_FATAL;
    }
    pub_cover_free(&pc);
    return st;
}

bool repl_slot_busy(void)
{
    return !strcmp(last_sqlstate, "55006");
}

/* The slot is held by walsender pid: when its application_name names a walcast worker that is known
 * to be gone from the cluster (a zombie cut off from Kafka, whose transactions are fenced already),
 * the walsender is terminated and the slot waited for (10 s at most). True when the slot is free. */
static bool end_gone_holder(repl_t *r, const char *pid)
{
    if (!holder_gone)
        return false;
    char e[256];
    const char *params[1] = { pid };
    PGresult *res = query(r->sql, "SELECT application_name FROM pg_stat_activity WHERE pid = $1", 1, params, e, sizeof e);
    char app[64] = "";
    if (res && PQntuples(res) > 0)
        snprintf(app, sizeof app, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!app[0] || !holder_gone(app))
        return false;
    log_warn("the replication slot is held by a walsender of a worker that left the cluster; terminating it",
             "slot=%s pid=%s application_name=%s", r->cfg->slot_name, pid, app);
    res = query(r->sql, "SELECT pg_terminate_backend($1)", 1, params, e, sizeof e);
    PQclear(res);
    const char *sp[1] = { r->cfg->slot_name };
    for (int i = 0; i < 100; i++) {
        res = query(r->sql, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", 1, sp, e, sizeof e);
        bool free_now = res && PQntuples(res) > 0 && PQgetisnull(res, 0, 0);
        PQclear(res);
        if (free_now)
            return true;
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return false;
}

static int ensure_slot(repl_t *r, bool may_end, char *err, size_t errlen)
{
    const conn_config_t *c = r->cfg;
    const char *params[1] = { c->slot_name };
    PGresult *res = query(r->sql,
                          "SELECT plugin, database, confirmed_flush_lsn, active_pid, slot_type FROM pg_replication_slots "
                          "WHERE slot_name = $1", 1, params, err, errlen);
    if (!res)
        return -1;
    if (PQntuples(res) > 0) {
        const char *plugin = PQgetvalue(res, 0, 0), *db = PQgetvalue(res, 0, 1);
        if (strcmp(PQgetvalue(res, 0, 4), "logical") != 0 || strcmp(plugin, "pgoutput") != 0) {
            snprintf(err, errlen, "replication slot \"%s\" uses plugin '%s'; walcast needs a pgoutput slot: drop it "
                     "(SELECT pg_drop_replication_slot('%s')) or set slot.name to another name",
                     c->slot_name, plugin, c->slot_name);
            PQclear(res);
            return -1;
        }
        if (strcmp(db, c->dbname) != 0) {
            snprintf(err, errlen, "replication slot \"%s\" belongs to database '%s', not '%s'; set slot.name to a slot of this database",
                     c->slot_name, db, c->dbname);
            PQclear(res);
            return -1;
        }
        if (may_end && !PQgetisnull(res, 0, 3) && end_gone_holder(r, PQgetvalue(res, 0, 3))) {
            PQclear(res);
            return ensure_slot(r, false, err, errlen);   /* freed: read it again */
        }
        if (!PQgetisnull(res, 0, 3)) {
            /* may clear when the previous walsender (ours, before a reconnect) exits: transient */
            snprintf(last_sqlstate, sizeof last_sqlstate, "55006");
            snprintf(err, errlen, "replication slot \"%s\" is in use by server process %s; stop the other consumer "
                     "(another walcast or Debezium?) or use another slot.name", c->slot_name, PQgetvalue(res, 0, 3));
            PQclear(res);
            return -1;
        }
        if (!PQgetisnull(res, 0, 2))
            pgo_lsn_parse(PQgetvalue(res, 0, 2), &r->slot_confirmed);
        PQclear(res);
        return 0;
    }
    PQclear(res);
    char *slot = quote_ident(r->stream, c->slot_name);
    buf_t sql;
    buf_init(&sql);
    /* snapshots: the slot's exported snapshot is what the snapshot readers import (PG15 syntax
     * first, the older keyword before it) */
    if (!r->export_snapshot)
        buf_printf(&sql, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput NOEXPORT_SNAPSHOT", slot);
    else if (r->server_version >= 150000)
        buf_printf(&sql, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'export')", slot);
    else
        buf_printf(&sql, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput EXPORT_SNAPSHOT", slot);
    PQfreemem(slot);
    res = PQexec(r->stream, buf_cstr(&sql));
    buf_free(&sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        note_failure(res);
        const char *m = PQresultErrorMessage(res);
        snprintf(err, errlen, "cannot create replication slot \"%s\": %.*s%s", c->slot_name, (int)strcspn(m, "\n"), m,
                 strstr(m, "max_replication_slots") ? " (raise max_replication_slots in postgresql.conf)" : "");
        PQclear(res);
        return -1;
    }
    if (PQnfields(res) >= 2)
        pgo_lsn_parse(PQgetvalue(res, 0, 1), &r->slot_confirmed);
    r->slot_created = true;
    r->consistent_point = r->slot_confirmed;
    if (r->export_snapshot && PQnfields(res) >= 3 && !PQgetisnull(res, 0, 2))
        snprintf(r->snapshot_name, sizeof r->snapshot_name, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    log_info("replication slot created", "slot=%s plugin=pgoutput", c->slot_name);
    return 0;
}

/* IDENTIFY_SYSTEM on the replication connection: system_id, timeline, server_lsn. */
static wc_status_t identify(repl_t *r, char *err, size_t errlen)
{
    PGresult *res = PQexec(r->stream, "IDENTIFY_SYSTEM");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < 3) {
        note_failure(res);
        const char *m = PQresultErrorMessage(res);
        snprintf(err, errlen, "IDENTIFY_SYSTEM failed: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(res);
        return failure_transient(r) ? WC_RETRY : WC_FATAL;
    }
    snprintf(r->system_id, sizeof r->system_id, "%s", PQgetvalue(res, 0, 0));
    r->timeline = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    pgo_lsn_parse(PQgetvalue(res, 0, 2), &r->server_lsn);
    PQclear(res);
    return WC_OK;
}

wc_status_t repl_open_replication(repl_t *r, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    r->stream = open_conn(r->cfg, true, &st, err, errlen);
    return r->stream ? identify(r, err, errlen) : st;
}

wc_status_t repl_open(repl_t *r, char *err, size_t errlen)
{
    PGresult *res = query(r->sql, "SELECT current_setting('wal_level'), "
                          "(SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user), current_user",
                          0, NULL, err, errlen);
    if (!res)
        return failure_transient(r) ? WC_RETRY : WC_FATAL;
    const char *wal = PQgetvalue(res, 0, 0);
    if (strcmp(wal, "logical") != 0) {
        snprintf(err, errlen, "PostgreSQL has wal_level=%s; logical decoding needs wal_level=logical: set it in "
                 "postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL", wal);
        PQclear(res);
        return WC_FATAL;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        snprintf(err, errlen, "user \"%s\" may not use replication; grant it: ALTER ROLE \"%s\" REPLICATION",
                 PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 2));
        PQclear(res);
        return WC_FATAL;
    }
    PQclear(res);
    wc_status_t st = WC_OK;
    r->stream = open_conn(r->cfg, true, &st, err, errlen);
    return r->stream ? WC_OK : st;
}

wc_status_t repl_prepare(repl_t *r, char *err, size_t errlen)
{
    wc_status_t st;
    if (!r->stream && (st = repl_open(r, err, errlen)) != WC_OK)
        return st;
    /* here, not in repl_open: the WAL end it reads (server_lsn) is checked against the stored offsets, and
     * read after them no stored offset can be newer (an older instance, fenced before they were read,
     * commits nothing after), however early the connection was opened */
    if ((st = identify(r, err, errlen)) != WC_OK)
        return st;
    last_sqlstate[0] = 0;
    if (ensure_publication(r, false, err, errlen) < 0 || ensure_slot(r, true, err, errlen) < 0) {
        /* our own refusals (wrong plugin, another database) leave no SQLSTATE but a live connection */
        bool fatal = !failure_transient(r) || (last_sqlstate[0] == 0 && PQstatus(r->sql) == CONNECTION_OK &&
                                               PQstatus(r->stream) == CONNECTION_OK);
        return fatal ? WC_FATAL : WC_RETRY;
    }
    return WC_OK;
}

wc_status_t repl_load_types(repl_t *r, pgt_catalog_t *cat, char *err, size_t errlen)
{
    PGresult *res = query(r->sql,
                          "SELECT t.oid, n.nspname, t.typname, t.typtype, t.typelem, t.typbasetype, t.typtypmod, "
                          "(SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) "
                          "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                          "WHERE t.typtype IN ('b','c','e','d','r','m') AND n.nspname <> 'information_schema'",
                          0, NULL, err, errlen);
    if (!res)
        return WC_RETRY;
    for (int i = 0; i < PQntuples(res); i++) {
        pgt_typeinfo_t ti;
        ti.oid = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
        ti.nspname = PQgetvalue(res, i, 1);
        ti.typname = PQgetvalue(res, i, 2);
        ti.typtype = PQgetvalue(res, i, 3)[0];
        ti.typelem = (uint32_t)strtoul(PQgetvalue(res, i, 4), NULL, 10);
        ti.typbasetype = (uint32_t)strtoul(PQgetvalue(res, i, 5), NULL, 10);
        ti.typtypmod = (int32_t)strtol(PQgetvalue(res, i, 6), NULL, 10);
        ti.enum_labels = PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7);
        pgt_catalog_put(cat, &ti);
    }
    PQclear(res);
    return WC_OK;
}

wc_status_t repl_table_info(repl_t *r, uint32_t relid, arena_t *a, rel_catinfo_t *info, char *err, size_t errlen)
{
    char rid[16];
    snprintf(rid, sizeof rid, "%u", relid);
    const char *params[1] = { rid };
    memset(info, 0, sizeof *info);
    PGresult *res = query(r->sql,
                          "SELECT a.attname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum) "
                          "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                          "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                          1, params, err, errlen);
    if (!res)
        return WC_RETRY;
    int n = PQntuples(res);
    rel_catcol_t *cols = arena_zalloc(a, (size_t)(n ? n : 1) * sizeof *cols);
    for (int i = 0; i < n; i++) {
        cols[i].name = arena_strdup(a, PQgetvalue(res, i, 0));
        cols[i].not_null = PQgetvalue(res, i, 1)[0] == 't';
        cols[i].default_expr = PQgetisnull(res, i, 2) ? NULL : arena_strdup(a, PQgetvalue(res, i, 2));
        cols[i].comment = PQgetisnull(res, i, 3) ? NULL : arena_strdup(a, PQgetvalue(res, i, 3));
    }
    PQclear(res);
    info->cols = cols;
    info->ncols = (size_t)n;
    /* Key: the primary key, else the first unique index (by name) over plain columns. */
    res = query(r->sql,
                "SELECT a.attname FROM (SELECT i.indkey FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
                "WHERE i.indrelid = $1::oid AND (i.indisprimary OR (i.indisunique AND i.indexprs IS NULL AND i.indpred IS NULL)) "
                "ORDER BY i.indisprimary DESC, ic.relname LIMIT 1) x "
                "CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = $1::oid AND a.attnum = k.attnum ORDER BY k.ord",
                1, params, err, errlen);
    if (!res)
        return WC_RETRY;
    n = PQntuples(res);
    const char **key = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *key);
    for (int i = 0; i < n; i++)
        key[i] = arena_strdup(a, PQgetvalue(res, i, 0));
    PQclear(res);
    info->key = key;
    info->nkey = (size_t)n;
    return WC_OK;
}

wc_status_t repl_start(repl_t *r, uint64_t start_lsn, bool streaming, char *err, size_t errlen)
{
    if (streaming && r->server_version < 140000) {
        snprintf(err, errlen, "walcast.streaming=true needs PostgreSQL 14 or later (pgoutput protocol 2); this server is %d. "
                 "Set walcast.streaming=false", r->server_version);
        return WC_FATAL;
    }
    char lsn[32];
    pgo_lsn_format(start_lsn, lsn);
    char *slot = quote_ident(r->stream, r->cfg->slot_name);
    /* publication_names is a string literal holding a quoted identifier list */
    char *pubident = quote_ident(r->stream, r->cfg->publication_name);
    char *publit = PQescapeLiteral(r->stream, pubident, strlen(pubident));
    buf_t sql;
    buf_init(&sql);
    buf_printf(&sql, "START_REPLICATION SLOT %s LOGICAL %s (proto_version '%s', publication_names %s%s%s)", slot, lsn,
               streaming ? "2" : "1", publit, r->messages ? ", messages 'true'" : "", streaming ? ", streaming 'on'" : "");
    PQfreemem(slot);
    PQfreemem(pubident);
    PQfreemem(publit);
    PGresult *res = PQexec(r->stream, buf_cstr(&sql));
    buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        const char *m = PQresultErrorMessage(res);
        snprintf(err, errlen, "cannot start replication from slot \"%s\": %.*s", r->cfg->slot_name,
                 (int)strcspn(m, "\n"), m);
        note_failure(res);
        PQclear(res);
        return failure_transient(r) ? WC_RETRY : WC_FATAL;
    }
    PQclear(res);
    return WC_OK;
}

void repl_confirm(repl_t *r, uint64_t flush_lsn)
{
    if (flush_lsn > r->flush_lsn)
        r->flush_lsn = flush_lsn;
}

/* The flush position a status update reports: never more than the server has sent (or had confirmed already). */
static uint64_t confirmable(const repl_t *r)
{
    uint64_t sent = r->received_lsn > r->slot_confirmed ? r->received_lsn : r->slot_confirmed;
    return r->flush_lsn < sent ? r->flush_lsn : sent;
}

void repl_send_status(repl_t *r, bool reply)
{
    if (!r->stream)
        return;
    uint64_t flush = confirmable(r);
    uint8_t msg[34];
    pgo_build_status(msg, r->received_lsn, flush, flush, repl_now_pg(), reply);
    if (PQputCopyData(r->stream, (const char *)msg, sizeof msg) <= 0 || PQflush(r->stream) < 0) {
        const char *m = PQerrorMessage(r->stream);
        log_warn("cannot send the standby status update", "error=\"%.*s\"", (int)strcspn(m, "\n"), log_esc(m));
    } else if (flush != r->sent_flush_lsn) {
        /* scripts/bench.sh: when the flush position that confirms a drain's end left */
        log_debug("standby status update", "flush_lsn=%llu at_us=%lld", (unsigned long long)flush, (long long)wc_wall_us());
    }
    r->sent_flush_lsn = flush;   /* also when it failed: the next interval sends it again, not every loop */
    r->next_status_us = wc_mono_us() + (int64_t)r->cfg->status_interval_ms * 1000;
}

void repl_status_if_due(repl_t *r)
{
    if (r->stream && wc_mono_us() >= r->next_status_us)
        repl_send_status(r, false);
}

int64_t repl_clock_us(void) { return wc_mono_us(); }

static wc_status_t on_copydata(repl_t *r, const repl_handler_t *h, void *ctx, const uint8_t *buf, size_t len,
                               char *err, size_t errlen)
{
    pgo_copydata_t cd;
    if (pgo_parse_copydata(buf, len, &cd, err, errlen) < 0)
        return WC_RETRY;
    if (cd.kind == 'k') {
        if (cd.wal_end > r->received_lsn)
            r->received_lsn = cd.wal_end;
        h->keepalive(ctx, cd.wal_end);
        if (cd.reply_requested)
            repl_send_status(r, false);
        return WC_OK;
    }
    if (cd.data_start > r->received_lsn)
        r->received_lsn = cd.data_start;
    return h->xlogdata(ctx, &cd, err, errlen);
}

/* After pg_recvlogical.c's StreamLogicalLog: drain what libpq has, then do the timed work, then
 * sleep in poll(2) until the socket, the handler's descriptor or the earliest deadline wakes us. */
wc_status_t repl_loop(repl_t *r, const repl_handler_t *h, void *ctx, volatile sig_atomic_t *stop, char *err,
                      size_t errlen)
{
    r->next_status_us = wc_mono_us() + (int64_t)r->cfg->status_interval_ms * 1000;
    unsigned batch = 0;
    wc_status_t st;
    while (!*stop) {
        bool paused = h->paused(ctx);
        char *buf = NULL;
        int n = paused ? 0 : PQgetCopyData(r->stream, &buf, 1);
        if (n > 0) {
            st = on_copydata(r, h, ctx, (const uint8_t *)buf, (size_t)n, err, errlen);
            PQfreemem(buf);
            if (st != WC_OK)
                return st;
            /* a long burst still does its timed work every so often */
            if (++batch < 256)
                continue;
        } else if (n == -1) {
            PGresult *res = PQgetResult(r->stream);
            const char *m = res ? PQresultErrorMessage(res) : "";
            snprintf(err, errlen, "the server ended replication: %.*s", (int)strcspn(m, "\n"), *m ? m : "no reason given");
            if (res)
                PQclear(res);
            return WC_RETRY;
        } else if (n == -2) {
            const char *m = PQerrorMessage(r->stream);
            snprintf(err, errlen, "replication connection lost: %.*s", (int)strcspn(m, "\n"), m);
            return WC_RETRY;
        }
        batch = 0;
        int64_t deadline = r->next_status_us;
        if ((st = h->tick(ctx, n == 0, &deadline, err, errlen)) != WC_OK)
            return st;
        int64_t now = wc_mono_us();
        /* A flush position that moved (a Kafka commit collected in tick) is confirmed at once, as
         * PostgreSQL's apply worker sends feedback whenever its flush position changes (send_feedback):
         * at the next status interval it came up to status.update.interval.ms late (10 s by default), and
         * the slot kept WAL, and a drain's end waited, that long (issue 21). walcast.status.on.commit=false:
         * with the periodic update only. */
        if (now >= r->next_status_us || (r->cfg->status_on_commit && confirmable(r) > r->sent_flush_lsn))
            repl_send_status(r, false);
        if (n != 0)
            continue;
        if (r->next_status_us < deadline)
            deadline = r->next_status_us;
        /* other connectors' threads may take the signal: look at the stop flag at least twice a second */
        int64_t wait_ms = (deadline - now + 999) / 1000;
        if (wait_ms > 500)
            wait_ms = 500;
        if (wait_ms < 0)
            wait_ms = 0;
        /* paused: the socket is not watched (and libpq's buffer does not grow), only the clock */
        struct pollfd pfd[2] = { { .fd = paused ? -1 : PQsocket(r->stream), .events = POLLIN },
                                 { .fd = h->wake_fd, .events = POLLIN } };
        if (poll(pfd, 2, (int)wait_ms) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll on the replication socket failed: %s", strerror(errno));
            return WC_RETRY;
        }
        if (!paused && PQconsumeInput(r->stream) == 0) {
            const char *m = PQerrorMessage(r->stream);
            snprintf(err, errlen, "replication connection lost: %.*s", (int)strcspn(m, "\n"), m);
            return WC_RETRY;
        }
    }
    return WC_OK;
}

void repl_stop(repl_t *r)
{
    if (!r->stream)
        return;
    if (PQputCopyEnd(r->stream, NULL) > 0) {
        PQflush(r->stream);
        /* drain what the server still sends until it ends COPY, for at most 5 s: a half-open
         * connection would block a blocking read for ever */
        int64_t t0 = wc_mono_ms();
        for (;;) {
            char *buf = NULL;
            int n = PQgetCopyData(r->stream, &buf, 1);
            if (buf)
                PQfreemem(buf);
            if (n < 0)
                break;
            if (n > 0)
                continue;
            long left = (long)(5000 - (wc_mono_ms() - t0));
            if (left <= 0)
                return;   /* repl_close drops the connection */
            struct pollfd pfd = { .fd = PQsocket(r->stream), .events = POLLIN };
            if (poll(&pfd, 1, (int)left) <= 0 || PQconsumeInput(r->stream) == 0)
                return;
        }
        PGresult *res;
        while (!PQisBusy(r->stream) && (res = PQgetResult(r->stream)) != NULL)
            PQclear(res);
    }
}

wc_status_t repl_exec(repl_t *r, const char *sql, char *err, size_t errlen)
{
    PGresult *res = query(r->sql, sql, 0, NULL, err, errlen);
    if (!res)
        return failure_transient(r) ? WC_RETRY : WC_FATAL;
    PQclear(res);
    return WC_OK;
}
