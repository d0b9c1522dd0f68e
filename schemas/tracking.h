/* tracking.h: Kafka Connect's topic tracking (KIP-558): a running connector tells its worker each topic it
 * produces to (a source) or consumes from (a sink), once, and again after the worker's active-topic sets
 * were reset (the epoch changed); and, through the same hook, that its task has started. Plain data: the
 * publisher, the sinks and the worker share it. */
#ifndef WALCAST_TRACKING_H
#define WALCAST_TRACKING_H

typedef struct wc_topic_hook {
    void (*seen)(void *ctx, const char *topic);   /* NULL: tracking off */
    void *ctx;
    const unsigned *epoch;                        /* read atomically; a change means "tell again" */
    /* The connector's task has started (a source: its replication slot exists, so every change from now
     * on is captured): the worker shows it RUNNING only from then on, as Connect shows a task RUNNING
     * after its start(). NULL: nobody listens. Called from the connector's thread, any number of times. */
    void (*started)(void *ctx);
} wc_topic_hook_t;

/* One topic's "already told" mark: the epoch it was told in, plus one (0: never). */
typedef unsigned wc_topic_mark_t;

/* Calls h->seen for topic when the mark is older than the epoch; cheap enough for every record. */
static inline void wc_topic_track(const wc_topic_hook_t *h, wc_topic_mark_t *mark, const char *topic)
{
    if (!h || !h->seen)
        return;
    unsigned ep = __atomic_load_n(h->epoch, __ATOMIC_ACQUIRE) + 1u;
    if (*mark != ep) {
        *mark = ep;
        h->seen(h->ctx, topic);
    }
}

#endif
