/* check.c: `walcast check` and the checks behind REST's config/validate: the connector's configuration,
 * then each server prerequisite, one result with the exact fix each; nothing is changed on any server. */
#include "agent/check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cfgprov.h"
#include "agent/connector.h"
#include "agent/ktopic.h"
#include "agent/log.h"
#include "agent/offsets.h"
#include "agent/publisher.h"
#include "agent/replication.h"
#include "schemas/buf.h"
#include "schemas/registry.h"
#include "sinks/apply.h"

void chk_add(chk_list_t *l, const char *name, const char *key, bool ok, const char *fix, const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    chk_result_t *r = &l->v[l->n++];
    r->name = xstrdup(name);
    r->key = xstrdup(key ? key : "");
    r->ok = ok;
    r->message = xstrdup(msg);
    r->fix = !ok && fix ? xstrdup(fix) : NULL;
}

size_t chk_failures(const chk_list_t *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += !l->v[i].ok;
    return n;
}

void chk_print(const chk_list_t *l, FILE *f)
{
    for (size_t i = 0; i < l->n; i++) {
        const chk_result_t *r = &l->v[i];
        fprintf(f, "%-4s %s: %s\n", r->ok ? "OK" : "FAIL", r->name, r->message);
        if (!r->ok && r->fix)
            fprintf(f, "     fix: %s\n", r->fix);
    }
}

void chk_list_free(chk_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].key);
        free(l->v[i].message);
        free(l->v[i].fix);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The config key a parse error is about, for Connect's per-key error lists: the longest key of the map
 * (or of the keys that may be missing) that the message names as a whole word. Attribution only: no
 * decision is taken from the wording. */
static const char *error_key(const char *err, const cfg_map_t *m, bool sink)
{
    static const char *const absent[] = { "name", "connector.class", "database.hostname", "database.user",
                                          "database.dbname", "topic.prefix", "topics", "topics.regex",
                                          "connection.url", "mongodb.connection.string", "sink.database", NULL };
    const char *best = NULL;
    size_t bestlen = 0;
    for (size_t i = 0; i < m->n + 11; i++) {
        const char *k = i < m->n ? m->kv[i].key : absent[i - m->n];
        if (!k)
            break;
        size_t kl = strlen(k);
        if (kl <= bestlen)
            continue;
        for (const char *p = strstr(err, k); p; p = strstr(p + 1, k)) {
            char before = p == err ? ' ' : p[-1], after = p[kl];
            bool word_before = before == '.' || before == '_' || before == '-' || (before >= 'a' && before <= 'z');
            bool word_after = after == '.' || after == '_' || after == '-' || (after >= 'a' && after <= 'z');
            if (!word_before && !word_after) {
                best = k;
                bestlen = kl;
                break;
            }
        }
    }
    return best ? best : sink ? "connection.url" : "connector.class";
}

/* The configuration itself; fills *c or *sc (the caller frees the one that parsed). */
static bool check_config(const cfg_map_t *wm, const cfg_map_t *m, bool sink, conn_config_t *c, sk_config_t *sc,
                         chk_list_t *out)
{
    char err[1024];
    cfg_map_t mm = { 0 };
    cfg_map_copy(&mm, m);
    int rc = wm ? cfgprov_resolve(wm, &mm, err, sizeof err) : 0;
    if (rc == 0 && wm)
        cfg_inherit_converters(wm, &mm);
    if (rc == 0)
        rc = sink ? cfg_sink_parse(&mm, sc, err, sizeof err) : cfg_connector_parse(&mm, c, err, sizeof err);
    if (rc < 0)
        chk_add(out, "config", error_key(err, &mm, sink), false, "correct the connector configuration as the message says",
                "%s", err);
    else
        chk_add(out, "config", "connector.class", true, NULL, "%s configuration is valid",
                sink ? "sink connector" : "source connector");
    cfg_map_free(&mm);
    return rc == 0;
}

/* Up to 20 names of tables t[i] for which pick(i) holds, as "s"."t", "s"."t2"; the count in *n. */
static void table_list(PGconn *pg, const repl_table_t *t, size_t nt, bool (*pick)(const repl_table_t *), buf_t *out,
                       size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < nt; i++) {
        if (!pick(&t[i]))
            continue;
        if (*n < 20) {
            char *qs = PQescapeIdentifier(pg, t[i].schema, strlen(t[i].schema));
            char *qt = PQescapeIdentifier(pg, t[i].name, strlen(t[i].name));
            buf_printf(out, "%s%s.%s", *n ? ", " : "", qs ? qs : "?", qt ? qt : "?");
            PQfreemem(qs);
            PQfreemem(qt);
        } else if (*n == 20)
            buf_puts(out, ", …");
        (*n)++;
    }
}

static bool no_select(const repl_table_t *t) { return !t->can_select; }
static bool unpublished(const repl_table_t *t) { return !t->published; }
static bool not_owned(const repl_table_t *t) { return !t->owned; }
static bool any_table(const repl_table_t *t) { (void)t; return true; }
/* Updates and deletes would carry no old row (and PostgreSQL refuses them on a published table). */
static bool no_identity(const repl_table_t *t)
{
    if (t->partitioned)
        return false;
    return t->replident == 'n' || (t->replident == 'd' && !t->has_pk) || (t->replident == 'i' && !t->has_replident_index);
}

/* The publication: exists and covers the captured tables, or walcast can create or set it at start. */
static void check_publication(repl_t *r, const conn_config_t *c, const repl_table_t *t, size_t nt, bool super,
                              bool can_create, const char *qpub, const char *quser, chk_list_t *out)
{
    char err[512];
    const char *params[1] = { c->publication_name };
    PGresult *res = repl_query(r, "SELECT puballtables FROM pg_publication WHERE pubname = $1", 1, params, err, sizeof err);
    if (!res) {
        chk_add(out, "publication", "publication.name", false, "see the message", "%s", err);
        return;
    }
    bool exists = PQntuples(res) > 0, all = exists && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    buf_t miss, owned, fix;
    buf_init(&miss);
    buf_init(&owned);
    buf_init(&fix);
    size_t nmiss = 0, nnotowned = 0;
    table_list(r->sql, t, nt, exists ? unpublished : any_table, &miss, &nmiss);
    table_list(r->sql, t, nt, not_owned, &owned, &nnotowned);
    bool include = c->filters.table_inc.n || c->filters.schema_inc.n;
    const char *inckey = c->filters.table_inc.n ? "table.include.list" : "schema.include.list";
    if (include && nt == 0) {
        chk_add(out, "publication", inckey, false,
                "correct the include list (anchored regular expressions over schema.table, e.g. public\\.orders), or "
                "create the tables first", "%s matches no table in database \"%s\"", inckey, c->dbname);
    } else if (exists && (all || nmiss == 0)) {
        chk_add(out, "publication", "publication.name", true, NULL, "publication \"%s\" exists and publishes %s",
                c->publication_name, all ? "all tables" : "every captured table");
    } else if (exists && !repl_publication_checked(c)) {
        chk_add(out, "publication", "publication.name", true, NULL,
                "publication \"%s\" exists and publishes %zu of the %zu tables; without an include list it chooses "
                "the tables", c->publication_name, nt - nmiss, nt);
    } else if (exists && c->pub_mode == PUB_FILTERED && nnotowned == 0) {
        chk_add(out, "publication", "publication.name", true, NULL,
                "publication \"%s\" misses %zu captured table(s); publication.autocreate.mode=filtered sets its tables at start",
                c->publication_name, nmiss);
    } else if (exists) {
        buf_printf(&fix, "ALTER PUBLICATION %s ADD TABLE %s;%s", qpub, buf_cstr(&miss),
                   nmiss > 20 ? " (and the other tables not listed)" : "");
        chk_add(out, "publication", "publication.name", false, buf_cstr(&fix),
                "publication \"%s\" does not publish %zu captured table(s): %s; their changes would not be streamed",
                c->publication_name, nmiss, buf_cstr(&miss));
    } else if (c->pub_mode == PUB_DISABLED) {
        if (nt && c->filters.table_inc.n + c->filters.table_exc.n + c->filters.schema_inc.n + c->filters.schema_exc.n > 0)
            buf_printf(&fix, "CREATE PUBLICATION %s FOR TABLE %s;", qpub, buf_cstr(&miss));
        else
            buf_printf(&fix, "as a superuser: CREATE PUBLICATION %s FOR ALL TABLES;", qpub);
        buf_puts(&fix, " (or set publication.autocreate.mode=filtered to let walcast create it)");
        chk_add(out, "publication", "publication.autocreate.mode", false, buf_cstr(&fix),
                "publication \"%s\" does not exist and publication.autocreate.mode=disabled", c->publication_name);
    } else if (c->pub_mode == PUB_ALL_TABLES && !super) {
        buf_printf(&fix, "as a superuser: CREATE PUBLICATION %s FOR ALL TABLES; (or set publication.autocreate.mode=filtered)",
                   qpub);
        chk_add(out, "publication", "publication.autocreate.mode", false, buf_cstr(&fix),
                "publication \"%s\" does not exist and publication.autocreate.mode=all_tables needs a superuser to create "
                "it; user %s is not one", c->publication_name, quser);
    } else if (c->pub_mode != PUB_ALL_TABLES && !can_create) {
        char *qdb = PQescapeIdentifier(r->sql, c->dbname, strlen(c->dbname));
        buf_printf(&fix, "GRANT CREATE ON DATABASE %s TO %s; (or create the publication yourself)", qdb ? qdb : "?", quser);
        PQfreemem(qdb);
        chk_add(out, "publication", "publication.autocreate.mode", false, buf_cstr(&fix),
                "publication \"%s\" does not exist and user %s may not create publications in database %s",
                c->publication_name, quser, c->dbname);
    } else if (c->pub_mode == PUB_FILTERED && nnotowned) {
        buf_printf(&fix, "as the tables' owner or a superuser: CREATE PUBLICATION %s FOR TABLE %s; and set "
                   "publication.autocreate.mode=disabled (or ALTER TABLE … OWNER TO %s)", qpub, buf_cstr(&miss), quser);
        chk_add(out, "publication", "publication.autocreate.mode", false, buf_cstr(&fix),
                "publication \"%s\" does not exist and user %s does not own %zu captured table(s) (%s): "
                "publication.autocreate.mode=filtered cannot add them", c->publication_name, quser, nnotowned,
                buf_cstr(&owned));
    } else if (c->pub_mode == PUB_NO_TABLES && nt && repl_publication_checked(c)) {
        buf_printf(&fix, "CREATE PUBLICATION %s FOR TABLE %s; (publication.autocreate.mode=no_tables creates it empty)",
                   qpub, buf_cstr(&miss));
        chk_add(out, "publication", "publication.autocreate.mode", false, buf_cstr(&fix),
                "publication \"%s\" does not exist; publication.autocreate.mode=no_tables would create it without the "
                "%zu captured table(s)", c->publication_name, nt);
    } else {
        chk_add(out, "publication", "publication.name", true, NULL,
                "publication \"%s\" does not exist yet; walcast creates it at start (publication.autocreate.mode=%s%s)",
                c->publication_name, c->pub_mode == PUB_ALL_TABLES ? "all_tables" : c->pub_mode == PUB_FILTERED ? "filtered" : "no_tables",
                c->pub_mode == PUB_NO_TABLES ? ": empty, it publishes nothing until tables are added" : "");
    }
    buf_free(&miss);
    buf_free(&owned);
    buf_free(&fix);
}

/* The slot: missing (created at start), or usable: logical, pgoutput, this database, free, WAL kept. */
static void check_slot(repl_t *r, const conn_config_t *c, chk_list_t *out)
{
    char err[512], fix[1024];
    const char *params[1] = { c->slot_name };
    bool v13 = r->server_version >= 130000;
    PGresult *res = repl_query(r,
                               v13 ? "SELECT slot_type, plugin, database, active_pid, wal_status, "
                                     "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, confirmed_flush_lsn "
                                     "FROM pg_replication_slots WHERE slot_name = $1"
                                   : "SELECT slot_type, plugin, database, active_pid, NULL, "
                                     "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, confirmed_flush_lsn "
                                     "FROM pg_replication_slots WHERE slot_name = $1",
                               1, params, err, sizeof err);
    if (!res) {
        chk_add(out, "slot", "slot.name", false, "see the message", "%s", err);
        return;
    }
    if (PQntuples(res) == 0) {
        chk_add(out, "slot", "slot.name", true, NULL, "slot \"%s\" does not exist yet; walcast creates it at start (pgoutput)",
                c->slot_name);
        PQclear(res);
        return;
    }
    const char *type = PQgetvalue(res, 0, 0), *plugin = PQgetvalue(res, 0, 1), *db = PQgetvalue(res, 0, 2);
    const char *ws = PQgetisnull(res, 0, 4) ? "" : PQgetvalue(res, 0, 4);
    long long retained = PQgetisnull(res, 0, 5) ? -1 : atoll(PQgetvalue(res, 0, 5));
    if (strcmp(type, "logical") != 0 || strcmp(plugin, "pgoutput") != 0) {
        snprintf(fix, sizeof fix, "SELECT pg_drop_replication_slot('%s'); (or set slot.name to another name)", c->slot_name);
        chk_add(out, "slot", "slot.name", false, fix, "slot \"%s\" is a %s slot with plugin '%s'; walcast needs a logical pgoutput slot",
                c->slot_name, type, plugin);
    } else if (strcmp(db, c->dbname) != 0) {
        chk_add(out, "slot", "slot.name", false, "set slot.name to a slot of this database (or a new name)",
                "slot \"%s\" belongs to database '%s', not '%s'", c->slot_name, db, c->dbname);
    } else if (!PQgetisnull(res, 0, 3)) {
        snprintf(fix, sizeof fix, "stop the other consumer (another walcast or Debezium?), or end it: SELECT "
                 "pg_terminate_backend(%s); or set slot.name to another name", PQgetvalue(res, 0, 3));
        chk_add(out, "slot", "slot.name", false, fix, "slot \"%s\" is in use by server process %s", c->slot_name,
                PQgetvalue(res, 0, 3));
    } else if (!strcmp(ws, "lost")) {
        snprintf(fix, sizeof fix, "SELECT pg_drop_replication_slot('%s'); then start with snapshot.mode=when_needed "
                 "(a new snapshot; raise max_slot_wal_keep_size so that it does not happen again)", c->slot_name);
        chk_add(out, "slot", "slot.name", false, fix, "slot \"%s\" has wal_status=lost: the WAL it needed was removed, "
                "changes since its position are gone", c->slot_name);
    } else {
        chk_add(out, "slot", "slot.name", true, NULL, "slot \"%s\" exists (pgoutput, wal_status=%s, retains %.1f MB of WAL, "
                "confirmed_flush_lsn %s)%s", c->slot_name, *ws ? ws : "n/a", retained < 0 ? 0.0 : retained / 1048576.0,
                PQgetisnull(res, 0, 6) ? "none" : PQgetvalue(res, 0, 6),
                !strcmp(ws, "unreserved") ? "; unreserved: the next checkpoint may remove WAL it needs, start it soon "
                                            "or raise max_slot_wal_keep_size" : "");
    }
    PQclear(res);
}

static void check_postgres(const conn_config_t *c, chk_list_t *out)
{
    char err[1024], fix[1024];
    repl_t r;
    repl_table_t *t = NULL;
    size_t nt = 0;
    char *quser = NULL, *qpub = NULL;
    PGresult *res = NULL;
    if (repl_connect(&r, c, err, sizeof err) != WC_OK) {
        chk_add(out, "postgresql", "database.hostname", false,
                "check database.hostname, database.port, database.dbname, database.user and database.password, "
                "pg_hba.conf, and that PostgreSQL is running", "%s", err);
        return;
    }
    chk_add(out, "postgresql", "database.hostname", true, NULL, "connected to PostgreSQL %d.%d at %s:%s database %s as %s",
            r.server_version / 10000, r.server_version % 10000 / (r.server_version >= 100000 ? 1 : 100), c->host, c->port,
            c->dbname, c->user);
    const char *params[1] = { c->slot_name };
    res = repl_query(&r, "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int, "
                         "(SELECT count(*) FROM pg_replication_slots)::int, current_setting('max_wal_senders')::int, "
                         "(SELECT count(*) FROM pg_stat_get_wal_senders())::int, "
                         "rolreplication, rolsuper, has_database_privilege(current_database(), 'CREATE'), "
                         "EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) "
                         "FROM pg_roles WHERE rolname = current_user",
                     1, params, err, sizeof err);
    if (!res || PQntuples(res) != 1) {
        chk_add(out, "postgresql", "database.hostname", false, "see the message", "%s", res ? "no pg_roles row for current_user" : err);
        goto out;
    }
    quser = PQescapeIdentifier(r.sql, c->user, strlen(c->user));
    qpub = PQescapeIdentifier(r.sql, c->publication_name, strlen(c->publication_name));
    const char *wal = PQgetvalue(res, 0, 0);
    int max_slots = atoi(PQgetvalue(res, 0, 1)), used_slots = atoi(PQgetvalue(res, 0, 2));
    int max_senders = atoi(PQgetvalue(res, 0, 3)), used_senders = atoi(PQgetvalue(res, 0, 4));
    bool repl_right = PQgetvalue(res, 0, 5)[0] == 't', super = PQgetvalue(res, 0, 6)[0] == 't';
    bool can_create = PQgetvalue(res, 0, 7)[0] == 't', slot_exists = PQgetvalue(res, 0, 8)[0] == 't';

    chk_add(out, "wal_level", "database.hostname", !strcmp(wal, "logical"),
            "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL", "wal_level=%s%s", wal,
            strcmp(wal, "logical") ? "; logical decoding needs wal_level=logical" : "");
    if (slot_exists)
        chk_add(out, "max_replication_slots", "slot.name", true, NULL, "max_replication_slots=%d, %d in use (the slot exists: "
                "none needed)", max_slots, used_slots);
    else {
        snprintf(fix, sizeof fix, "ALTER SYSTEM SET max_replication_slots = %d; then restart PostgreSQL (or drop a slot "
                 "no longer used: SELECT pg_drop_replication_slot('NAME'))", used_slots + 1);
        chk_add(out, "max_replication_slots", "slot.name", used_slots < max_slots, fix,
                "max_replication_slots=%d, %d in use: %s", max_slots, used_slots,
                used_slots < max_slots ? "one is free for the new slot" : "none is free for the new slot");
    }
    snprintf(fix, sizeof fix, "ALTER SYSTEM SET max_wal_senders = %d; then restart PostgreSQL", used_senders + 1);
    chk_add(out, "max_wal_senders", "database.hostname", used_senders < max_senders, fix, "max_wal_senders=%d, %d in use%s",
            max_senders, used_senders, used_senders < max_senders ? "" : ": none is free for walcast's replication connection");
    PQclear(res);
    res = NULL;

    if (!repl_right && !super) {
        snprintf(fix, sizeof fix, "ALTER ROLE %s REPLICATION;", quser);
        chk_add(out, "replication_role", "database.user", false, fix, "user %s has neither REPLICATION nor SUPERUSER",
                c->user);
    } else if (repl_open_replication(&r, err, sizeof err) != WC_OK) {
        snprintf(fix, sizeof fix, "allow this user to connect to this database in pg_hba.conf (host %s %s ADDRESS/MASK "
                 "METHOD: a logical replication connection matches the database's entries, not 'replication' ones), "
                 "then SELECT pg_reload_conf();", c->dbname, c->user);
        chk_add(out, "replication_role", "database.user", false, fix, "user %s has %s but the replication connection "
                "failed: %s", c->user, super ? "SUPERUSER" : "REPLICATION", err);
    } else
        chk_add(out, "replication_role", "database.user", true, NULL, "user %s has %s; replication connection works "
                "(system identifier %s)", c->user, super ? "SUPERUSER" : "REPLICATION", r.system_id);

    if (repl_captured_tables(&r, &t, &nt, err, sizeof err) != WC_OK) {
        chk_add(out, "select", "table.include.list", false, "see the message", "%s", err);
        goto out;
    }
    buf_t list;
    buf_init(&list);
    size_t n = 0;
    table_list(r.sql, t, nt, no_select, &list, &n);
    snprintf(fix, sizeof fix, "GRANT SELECT ON %s TO %s;", buf_cstr(&list), quser);
    if (n)
        chk_add(out, "select", "table.include.list", false, fix, "user %s may not SELECT %zu of the %zu captured "
                "table(s): %s", c->user, n, nt, buf_cstr(&list));
    else
        chk_add(out, "select", "table.include.list", true, NULL, "user %s may SELECT all %zu captured table(s)%s",
                c->user, nt, nt ? "" : " (no table matches the include/exclude lists yet)");
    buf_free(&list);

    check_publication(&r, c, t, nt, super, can_create, qpub, quser, out);
    check_slot(&r, c, out);

    buf_init(&list);
    table_list(r.sql, t, nt, no_identity, &list, &n);
    buf_t fixes;
    buf_init(&fixes);
    size_t shown = 0;
    for (size_t i = 0; i < nt && shown < 20; i++)
        if (no_identity(&t[i])) {
            char *qs = PQescapeIdentifier(r.sql, t[i].schema, strlen(t[i].schema));
            char *qt = PQescapeIdentifier(r.sql, t[i].name, strlen(t[i].name));
            buf_printf(&fixes, "%sALTER TABLE %s.%s REPLICA IDENTITY FULL;", shown ? " " : "", qs, qt);
            PQfreemem(qs);
            PQfreemem(qt);
            shown++;
        }
    if (n)
        buf_puts(&fixes, " (or give each a primary key)");
    if (n)
        chk_add(out, "replica_identity", "table.include.list", false, buf_cstr(&fixes),
                "%zu captured table(s) have no primary key and no replica identity: %s; their updates and deletes "
                "would carry no old row (PostgreSQL refuses them while the table is published)", n, buf_cstr(&list));
    else
        chk_add(out, "replica_identity", "table.include.list", true, NULL,
                "every captured table has a primary key or a replica identity");
    buf_free(&list);
    buf_free(&fixes);
out:
    PQclear(res);
    PQfreemem(quser);
    PQfreemem(qpub);
    repl_tables_free(t, nt);
    repl_close(&r);
}

/* Kafka answers; with transactional, init_transactions works for a transactional.id beside the
 * connector's (walcast-<name>-check: never the connector's own, which would fence a running walcast). */
static void check_kafka(const worker_config_t *w, const char *name, bool transactional, int timeout_ms, chk_list_t *out)
{
    char err[1024];
    if (!w->bootstrap_servers || !strcmp(w->bootstrap_servers, "embedded")) {
        chk_add(out, "kafka", "bootstrap.servers", true, NULL,
                "bootstrap.servers=embedded: walcast run starts an in-memory Kafka (not durable)");
        return;
    }
    char tid[512];
    snprintf(tid, sizeof tid, "walcast-%s-check", name);
    pub_t *p = pub_new(w, "walcast-check", transactional ? tid : NULL, NULL, NULL, NULL, err, sizeof err);
    if (!p) {
        chk_add(out, "kafka", "bootstrap.servers", false, "correct the worker's producer.* settings", "%s", err);
        return;
    }
    int nb = 0, ntop = 0;
    if (pub_metadata(p, timeout_ms, &nb, &ntop, err, sizeof err) != WC_OK) {
        chk_add(out, "kafka", "bootstrap.servers", false,
                "check bootstrap.servers in the worker file, that Kafka runs and is reachable from here, and the "
                "producer.security.protocol / producer.sasl.* / producer.ssl.* settings",
                "Kafka at %s: %s", w->bootstrap_servers, err);
        goto out;
    }
    chk_add(out, "kafka", "bootstrap.servers", true, NULL, "Kafka at %s answers: %d broker(s), %d topic(s)",
            w->bootstrap_servers, nb, ntop);
    if (!transactional)
        goto out;
    wc_status_t st = pub_txn_init_once(p, timeout_ms, err, sizeof err);
    chk_add(out, "kafka_transactions", "bootstrap.servers", st == WC_OK,
            "let the brokers run transactions: transaction.state.log.replication.factor and "
            "transaction.state.log.min.isr no larger than the live brokers, transaction.max.timeout.ms >= "
            "producer.transaction.timeout.ms (walcast: 900000), and with ACLs WRITE and DESCRIBE on "
            "TransactionalId walcast-<name> for walcast's principal",
            st == WC_OK ? "transactions work (transactional.id %s initialised)" : "transactions fail for transactional.id %s: %s",
            tid, st == WC_OK ? "" : err);
out:
    pub_free(p);
}

/* The worker's offsets topic as walcast run will find it: created at start when missing (asked of Kafka with
 * validate_only: nothing is created here), compacted when it exists (Kafka Connect refuses it otherwise). */
static void check_offsets_topic(const worker_config_t *w, int timeout_ms, chk_list_t *out)
{
    if (!w->bootstrap_servers || !strcmp(w->bootstrap_servers, "embedded"))
        return;
    char err[1024], policy[128], repl[32];
    ktop_create_t c = off_topic_create(w);
    const char *t = w->offset_topic;
    if (c.replication > 0)
        snprintf(repl, sizeof repl, "%d", c.replication);
    else
        snprintf(repl, sizeof repl, "the broker's default");
    switch (ktop_probe(w->bootstrap_servers, &w->producer, t, &c, timeout_ms, policy, sizeof policy, err, sizeof err)) {
    case KTOP_CREATED:
        chk_add(out, "offsets_topic", "offset.storage.topic", true, NULL,
                "offsets topic %s is missing: walcast run creates it (cleanup.policy=compact, %d partitions, replication "
                "factor %s), as Kafka Connect does", t, c.partitions, repl);
        break;
    case KTOP_EXISTS:
        if (!*policy)
            chk_add(out, "offsets_topic", "offset.storage.topic", true, NULL,
                    "offsets topic %s exists (its cleanup.policy cannot be read: no DESCRIBE_CONFIGS permission)", t);
        else if (ktop_policy_compact_only(policy))
            chk_add(out, "offsets_topic", "offset.storage.topic", true, NULL, "offsets topic %s exists, cleanup.policy=%s", t,
                    policy);
        else {
            char fix[1024];
            snprintf(fix, sizeof fix, "kafka-configs.sh --bootstrap-server %s --alter --entity-type topics --entity-name %s "
                     "--add-config cleanup.policy=compact", w->bootstrap_servers, t);
            chk_add(out, "offsets_topic", "offset.storage.topic", false, fix,
                    "offsets topic %s is not compacted (cleanup.policy=%s): Kafka deletes a connector's last offset after "
                    "retention.ms without a new one, and it then starts from nothing; Kafka Connect refuses such a topic "
                    "(walcast uses it and warns)", t, policy);
        }
        break;
    case KTOP_REFUSED:
        chk_add(out, "offsets_topic", "offset.storage.topic", false,
                "create the topic compacted yourself, or grant walcast's principal CREATE on it",
                "offsets topic %s is missing and walcast may not create it: %s", t, err);
        break;
    case KTOP_FAILED:
        chk_add(out, "offsets_topic", "offset.storage.topic", false,
                "correct offset.storage.partitions / offset.storage.replication.factor in the worker file, or create the "
                "topic compacted yourself", "offsets topic %s: %s", t, err);
        break;
    case KTOP_NO_ANSWER:
    default:
        chk_add(out, "offsets_topic", "offset.storage.topic", false,
                "check that Kafka runs and answers admin requests (CreateTopics, DescribeConfigs)", "offsets topic %s: %s", t,
                err);
        break;
    }
}

static void check_registry(const char *what, const sr_config_t *sc, chk_list_t *out)
{
    char err[1024], shown[512];
    sr_redact_url(sc->urls, shown, sizeof shown);
    sr_client_t *cl = sr_new(sc, err, sizeof err);
    wc_status_t st = cl ? sr_ping(cl, err, sizeof err) : WC_FATAL;
    char key[128];
    snprintf(key, sizeof key, "%s.schema.registry.url", what);
    chk_add(out, "schema_registry", key, st == WC_OK,
            "check schema.registry.url, that the registry runs and is reachable, and its basic.auth / ssl settings",
            st == WC_OK ? "schema registry at %s answers (%s)" : "schema registry at %s (%s): %s", shown, what,
            st == WC_OK ? "" : err);
    sr_free(cl);
}

/* The sink's target: reachable with its credentials, and walcast_sink_offsets readable (created when
 * missing, as the sink does at start: the one change a check makes). */
static void check_target(const sk_config_t *sc, chk_list_t *out)
{
    char err[1024];
    const char *key = sc->conn.dialect == SK_DIALECT_MONGODB ? "mongodb.connection.string" : "connection.url";
    const sk_target_ops_t *o = sk_target_ops_for(sc);
    if (!o) {
        chk_add(out, "target", key, false, "build walcast with libmongoc", "this walcast has no MongoDB target");
        return;
    }
    sk_target_t *t = NULL;
    if (o->connect(sc, &t, err, sizeof err) != WC_OK) {
        chk_add(out, "target", key, false,
                "check the URL, connection.username and connection.password, and that the server runs and is reachable",
                "%s target: %s", o->name, err);
        return;
    }
    chk_add(out, "target", key, true, NULL, "%s target answers", o->name);
    if (o->check_rights) {
        sk_check_t rights[8];
        memset(rights, 0, sizeof rights);
        size_t nr = o->check_rights(t, rights, 8);
        for (size_t i = 0; i < nr; i++)
            chk_add(out, rights[i].name, rights[i].key, rights[i].ok, rights[i].fix, "%s", rights[i].message);
    }
    sk_offset_t *offs = NULL;
    size_t n = 0;
    wc_status_t st = o->read_offsets(t, sc->name, &offs, &n, err, sizeof err);
    if (st == WC_OK)
        chk_add(out, "offsets_table", key, true, NULL, "walcast_sink_offsets is usable (%zu stored position(s) of sink %s)",
                n, sc->name);
    else {
        char fix[1024];
        const char *u = sc->conn.user ? sc->conn.user : "CURRENT_USER";
        if (sc->conn.dialect == SK_DIALECT_MYSQL)
            snprintf(fix, sizeof fix, "GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON `%s`.* TO '%s';",
                     sc->conn.database ? sc->conn.database : "DATABASE", u);
        else if (sc->conn.dialect == SK_DIALECT_POSTGRES)
            snprintf(fix, sizeof fix, "GRANT CREATE ON SCHEMA public TO \"%s\"; (or create walcast_sink_offsets "
                     "as its owner)", u);
        else
            snprintf(fix, sizeof fix, "give the user readWrite on database %s", sc->mongo_database);
        chk_add(out, "offsets_table", key, false, fix, "walcast_sink_offsets: %s", err);
    }
    for (size_t i = 0; i < n; i++)
        free(offs[i].topic);
    free(offs);
    o->close(t);
}

int chk_connector(const cfg_map_t *wm, const worker_config_t *w, const cfg_map_t *m, const chk_opts_t *o,
                  chk_list_t *out)
{
    size_t first = out->n;
    bool sink = cfg_is_sink(m);
    conn_config_t c;
    sk_config_t sc;
    int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : 10000;
    if (!check_config(wm, m, sink, &c, &sc, out))
        goto out;
    if (o && o->offline)
        goto done;
    if (sink) {
        /* the sink reads with the worker's consumer.* settings (security ones above all) */
        worker_config_t wc = *w;
        wc.producer = w->consumer;
        check_kafka(&wc, sc.name, false, timeout, out);
        if (sc.registry_url) {
            sr_config_t rc = { .urls = sc.registry_url, .user_info = sc.registry_user_info, .verify_host = true,
                               .timeout_ms = timeout };
            check_registry("value.converter", &rc, out);
        }
        check_target(&sc, out);
    } else {
        check_postgres(&c, out);
        size_t before = out->n;
        check_kafka(w, c.name, true, timeout, out);
        bool kafka_ok = true;
        for (size_t i = before; i < out->n; i++)
            kafka_ok = kafka_ok && out->v[i].ok;
        if (o && o->worker_topics && kafka_ok)
            check_offsets_topic(w, timeout, out);
        const cfg_conv_t *conv[2] = { &c.key_conv, &c.value_conv };
        const char *what[2] = { "key.converter", "value.converter" };
        for (int i = 0; i < 2; i++) {
            if (!conv[i]->avro || (i == 1 && c.key_conv.avro && c.key_conv.urls && conv[i]->urls &&
                                   !strcmp(c.key_conv.urls, conv[i]->urls)))
                continue;
            sr_config_t rc = conn_registry_config(conv[i]);
            rc.timeout_ms = timeout;
            check_registry(what[i], &rc, out);
        }
    }
done:
    if (sink)
        cfg_sink_free(&sc);
    else
        cfg_connector_free(&c);
out:;
    for (size_t i = first; i < out->n; i++)
        if (!out->v[i].ok)
            return 1;
    return 0;
}

int chk_main(int argc, char **argv)
{
    const char *worker_file = NULL;
    int nfiles = 0, rc = 0, timeout_ms = 10000;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--worker") && i + 1 < argc)
            worker_file = argv[++i];
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
            timeout_ms = atoi(argv[++i]);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "walcast check: unknown option %s\n", argv[i]);
            return 2;
        } else
            nfiles++;
    }
    if (!nfiles) {
        fprintf(stderr, "walcast check: give at least one connector file (.properties or .json)\n");
        return 2;
    }
    char err[1024];
    cfg_map_t wm = { 0 };
    worker_config_t w = { 0 };
    if (worker_file && (cfg_load_file(worker_file, &wm, err, sizeof err) < 0 || cfgprov_resolve(&wm, &wm, err, sizeof err) < 0)) {
        printf("FAIL worker: %s\n", err);
        rc = 1;
        goto out;
    }
    if (cfg_worker_parse(&wm, &w, err, sizeof err) < 0) {
        printf("FAIL worker: %s\n", err);
        rc = 1;
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--worker") || !strcmp(argv[i], "--timeout-ms")) {
            i++;
            continue;
        }
        chk_list_t l = { 0 };
        cfg_map_t m = { 0 };
        printf("== %s\n", argv[i]);
        if (cfg_load_file(argv[i], &m, err, sizeof err) < 0)
            chk_add(&l, "config", "", false, "give a .properties file or a JSON file ({\"name\":…,\"config\":{…}})",
                    "%s", err);
        else {
            chk_opts_t o = { .timeout_ms = timeout_ms, .worker_topics = true };
            chk_connector(&wm, &w, &m, &o, &l);
        }
        chk_print(&l, stdout);
        if (chk_failures(&l))
            rc = 1;
        chk_list_free(&l);
        cfg_map_free(&m);
    }
    printf(rc ? "walcast check: not ready: fix the FAIL lines above\n" : "walcast check: ready to stream\n");
out:
    cfg_worker_free(&w);
    cfg_map_free(&wm);
    return rc;
}
