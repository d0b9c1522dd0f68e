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

#endif
