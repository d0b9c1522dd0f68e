/* status.c: server errors -> wc_status_t, one table per server kind, shared by the source (agent/replication.c)
 * and every SQL target (sinks/postgres.c, sinks/mysql.c), so that a given refusal means the same thing to all. */
#include "schemas/status.h"

#include <stdbool.h>
#include <string.h>

static bool class_is(const char *ss, const char *cls)
{
    return ss[0] == cls[0] && ss[1] == cls[1];
}

wc_status_t wc_status_sqlstate(const char *ss)
{
    if (!ss || strlen(ss) != 5)
        return WC_RETRY;   /* no SQLSTATE: the connection broke before the server could answer */
    /* refusals only a person can lift: login, privileges, a missing or dropped database, a server limit in
     * postgresql.conf (53400: max_replication_slots, max_worker_processes...), a read-only server, corruption */
    if (class_is(ss, "28") || !strcmp(ss, "3D000") || !strcmp(ss, "42501") || !strcmp(ss, "53400") ||
        !strcmp(ss, "57P04") || !strcmp(ss, "25006") || !strcmp(ss, "XX001") || !strcmp(ss, "XX002"))
        return WC_FATAL;
    /* what passes by itself: the connection (08), a rollback the server chose (40: serialization failure,
     * deadlock), resources (53: out of memory, disk full, too many connections), an operator or a restart
     * (57: shutdown, cannot connect now, query cancelled, idle session timeout), the OS (58000, 58030),
     * locks and objects busy (55P03, 55006: a replication slot still held), a session timeout (25P03, 25P04) */
    if (class_is(ss, "08") || class_is(ss, "40") || class_is(ss, "53") || class_is(ss, "57") ||
        !strcmp(ss, "58000") || !strcmp(ss, "58030") || !strcmp(ss, "55P03") || !strcmp(ss, "55006") ||
        !strcmp(ss, "25P03") || !strcmp(ss, "25P04"))
        return WC_RETRY;
    /* the rest (data, constraints, undefined objects, XX000 internal errors, 58P01 a removed WAL segment...)
     * would fail the same way again: never retried (unclassified is not transient) */
    return WC_PERMANENT;
}

/* libpq keeps the server's SQLSTATE of a failed connection attempt to itself (there is no PGresult), and
 * client-side refusals (sslmode, a missing password) have none: the one place an error's wording is read. */
wc_status_t wc_status_pg_connect(const char *message)
{
    const char *m = message ? message : "";
    if (strstr(m, "authentication failed") || strstr(m, "no pg_hba.conf entry") || strstr(m, "does not exist") ||
        strstr(m, "must be superuser or replication role") || strstr(m, "permission denied") ||
        strstr(m, "password is specified") || strstr(m, "no password supplied") || strstr(m, "invalid sslmode"))
        return WC_FATAL;
    return WC_RETRY;
}

/* MySQL/MariaDB error numbers (mysqld_error.h, errmsg.h), as numbers so that schemas/ needs no client headers. */
wc_status_t wc_status_mysql(unsigned e)
{
    switch (e) {
    case 1040:   /* ER_CON_COUNT_ERROR: too many connections */
    case 1041:   /* ER_OUT_OF_RESOURCES */
    case 1053:   /* ER_SERVER_SHUTDOWN */
    case 1203:   /* ER_TOO_MANY_USER_CONNECTIONS */
    case 1205:   /* ER_LOCK_WAIT_TIMEOUT */
    case 1213:   /* ER_LOCK_DEADLOCK */
    case 1226:   /* ER_USER_LIMIT_REACHED: max_user_connections and the hourly limits */
    case 1317:   /* ER_QUERY_INTERRUPTED */
    case 1927:   /* ER_CONNECTION_KILLED */
    case 1969:   /* ER_STATEMENT_TIMEOUT */
        return WC_RETRY;
    case 1044:   /* ER_DBACCESS_DENIED_ERROR */
    case 1045:   /* ER_ACCESS_DENIED_ERROR: wrong user or password */
    case 1049:   /* ER_BAD_DB_ERROR: unknown database */
    case 1142:   /* ER_TABLEACCESS_DENIED_ERROR: e.g. no CREATE or INSERT privilege */
    case 1143:   /* ER_COLUMNACCESS_DENIED_ERROR */
    case 1227:   /* ER_SPECIFIC_ACCESS_DENIED_ERROR */
    case 1290:   /* ER_OPTION_PREVENTS_STATEMENT: --read-only */
    case 1698:   /* ER_ACCESS_DENIED_NO_PASSWORD_ERROR */
    case 1792:   /* ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION */
    case 1820:   /* ER_MUST_CHANGE_PASSWORD */
    case 1836:   /* ER_READ_ONLY_MODE */
    case 1862:   /* ER_MUST_CHANGE_PASSWORD_LOGIN */
    case 4151:   /* ER_ACCOUNT_HAS_BEEN_LOCKED */
    case 2059:   /* CR_AUTH_PLUGIN_CANNOT_LOAD */
        return WC_FATAL;
    case 2020:   /* CR_NET_PACKET_TOO_LARGE: this statement is too big, it will be again */
        return WC_PERMANENT;
    default:
        /* 2xxx are the client's: connection refused (2002, 2003), server gone or lost (2006, 2013, 2055) */
        return e >= 2000 && e < 3000 ? WC_RETRY : WC_PERMANENT;
    }
}
