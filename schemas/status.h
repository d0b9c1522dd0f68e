/* status.h: the one error classification every layer returns beside its err/errlen text, so that a
 * caller decides what to do from a value, never from the wording of a message or a side flag. */
#ifndef WALCAST_STATUS_H
#define WALCAST_STATUS_H

typedef enum {
    WC_OK = 0,
    WC_RETRY,       /* transient (connection lost, server restarting, stopping mid-wait): try again later */
    WC_ABORT,       /* the open Kafka transaction is lost: abort it, rewind to the last commit, go on */
    WC_PERMANENT,   /* this record or input can never succeed: stop (or dead-letter it), never loop */
    WC_FATAL,       /* the connector cannot go on (auth, privileges, configuration, fenced): stop */
} wc_status_t;

/* The worse of two outcomes (the order above is by severity). */
static inline wc_status_t wc_worst(wc_status_t a, wc_status_t b) { return a > b ? a : b; }

static inline const char *wc_status_name(wc_status_t s)
{
    switch (s) {
    case WC_OK: return "ok";
    case WC_RETRY: return "retry";
    case WC_ABORT: return "abort";
    case WC_PERMANENT: return "permanent";
    default: return "fatal";
    }
}

/* The one classification of server errors (status.c), for the source and every SQL target alike.
 * A PostgreSQL SQLSTATE: WC_FATAL for refusals only a person can lift (28xxx login, 3D000 no such database,
 * 42501 privileges, 53400 a server limit, 57P04 database dropped, 25006 read-only), WC_RETRY for what passes
 * by itself (08 connection, 40 rollbacks, 53 resources, 57 shutdowns and cancels, 55P03/55006 busy), else
 * WC_PERMANENT; NULL or "" (no SQLSTATE: the connection broke) is WC_RETRY. */
wc_status_t wc_status_sqlstate(const char *sqlstate);
/* A failed libpq connection attempt, by its message (libpq keeps that SQLSTATE to itself): WC_FATAL for
 * refused logins, missing roles or databases, pg_hba.conf, no password, a bad sslmode; else WC_RETRY. */
wc_status_t wc_status_pg_connect(const char *message);
/* A MySQL/MariaDB error number: 1045/1044/1049/1142 and other refusals WC_FATAL, connection loss (2002,
 * 2003, 2006, 2013 and the other 2xxx), deadlocks, lock waits, shutdown, too many connections WC_RETRY,
 * else WC_PERMANENT. */
wc_status_t wc_status_mysql(unsigned err);

#endif
