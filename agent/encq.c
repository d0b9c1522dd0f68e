/* encq.c: the stream's encoder threads (see encq.h). One mutex guards the ring's indices and each
 * slot's state; a slot's contents belong to whoever its state names (FREE and DONE: the read thread,
 * QUEUED: nobody, ENCODING: its encoder), so they are read and written outside the lock. */
#include "agent/encq.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/coder.h"
#include "agent/log.h"

/* Ring bounds: records of one decoder call per slot (at most EVT_OUT_MAX = 3). The byte bound counts
 * the copies and the encoded bytes, so a 2M-row transaction adds at most this much to the peak. */
#define ENCQ_SLOTS 256
#define ENCQ_MAX_BYTES (4u << 20)
#define ENCQ_MAX_RECS 3
/* Slots an encoder takes at once, and how many wait before a sleeping encoder is woken (one wake-up per
 * record cost more CPU than the encoding it moved); the read thread wakes it at once when it waits. */
#define ENCQ_BATCH 32
/* A slot whose copy or encoding grew past this gives the memory back when it is reused. */
#define ENCQ_SLOT_KEEP (256u << 10)

enum { SLOT_FREE, SLOT_QUEUED, SLOT_ENCODING, SLOT_DONE };

typedef struct enc_out {
    size_t topic, key, value;     /* offsets into data; SIZE_MAX: NULL */
    size_t keylen, valuelen;
    int nheaders;
    size_t hkey[REC_MAX_HEADERS], hval[REC_MAX_HEADERS], hlen[REC_MAX_HEADERS];
    char op;
    bool has_partition, has_ts;
    int32_t partition;
    int64_t ts_ms;
} enc_out_t;

typedef struct slot {
    int state;
    int owner;                    /* the encoder thread */
    arena_t *arena;               /* the records' copies */
    rec_event_t ev[ENCQ_MAX_RECS];
    size_t n;
    buf_t data;                   /* encoded bytes */
    enc_out_t out[ENCQ_MAX_RECS];
    size_t nout;
    size_t bytes;                 /* counted in q->bytes */
    wc_status_t st;
    char err[512];
} slot_t;

typedef struct encoder {
    encq_t *q;
    int id;
    pthread_t th;
    bool started;
    uint64_t next;                /* the next sequence number to look at */
    coder_t coder;
} encoder_t;

struct encq {
    const conn_config_t *cfg;
    volatile sig_atomic_t *stop;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    slot_t *slots;
    uint64_t head, tail;          /* sequence numbers: next to send, next to fill */
    size_t bytes;
    int busy;                     /* slots being encoded */
    int sleepers;                 /* encoders waiting for work */
    size_t queued;                /* slots queued, not taken by an encoder yet */
    uint64_t want;                /* the read thread waits for this slot (UINT64_MAX: for none) */
    bool quit, abort;
    int nthreads;
    encoder_t *enc;
};

/* ---- copies ------------------------------------------------------------------------------ */

/* A copy of v (of schema sc) in a, with every string and nested value it points to. */
static void cv_deep(arena_t *a, const cs_schema_t *sc, cv_value_t *dst, const cv_value_t *src)
{
    *dst = *src;
    if (src->null || !sc)
        return;
    switch (sc->type) {
    case CT_STRING:
    case CT_BYTES:
        if (src->u.s.p)
            dst->u.s.p = arena_strndup(a, src->u.s.p, src->u.s.n);
        break;
    case CT_STRUCT:
    case CT_ARRAY:
    case CT_MAP: {
        size_t n = src->u.list.n;
        if (!n || !src->u.list.v)
            break;
        cv_value_t *v = arena_alloc(a, n * sizeof *v);
        for (size_t i = 0; i < n; i++) {
            const cs_schema_t *sub = sc->type == CT_STRUCT ? (i < sc->nfields ? sc->fields[i].schema : NULL)
                                     : sc->type == CT_ARRAY ? sc->items
                                     : (i % 2 ? sc->items : sc->keys);
            cv_deep(a, sub, &v[i], &src->u.list.v[i]);
        }
        dst->u.list.v = v;
        break;
    }
    default:
        break;
    }
}

static const cv_value_t *cv_copy_in(arena_t *a, const cs_schema_t *sc, const cv_value_t *v)
{
    if (!v)
        return NULL;
    cv_value_t *c = arena_alloc(a, sizeof *c);
    cv_deep(a, sc, c, v);
    return c;
}

static void event_copy(arena_t *a, rec_event_t *dst, const rec_event_t *src)
{
    *dst = *src;
    dst->topic = src->topic ? arena_strdup(a, src->topic) : NULL;
    dst->key = cv_copy_in(a, src->kc ? src->kc->schema : NULL, src->key);
    dst->value = cv_copy_in(a, src->vc ? src->vc->schema : NULL, src->value);
    for (int i = 0; i < src->nheaders; i++) {
        const rec_header_t *h = &src->headers[i];
        rec_header_t *d = &dst->headers[i];
        d->key = h->key ? arena_strdup(a, h->key) : NULL;
        d->value = h->value ? arena_memdup(a, h->value, h->len) : NULL;
        d->cv = cv_copy_in(a, h->schema, h->cv);
    }
}

static size_t put(buf_t *b, const void *p, size_t n)
{
    size_t off = b->len;
    buf_append(b, p, n);
    return off;
}

static void out_store(slot_t *sl, const rec_t *r)
{
    enc_out_t *e = &sl->out[sl->nout++];
    memset(e, 0, sizeof *e);
    e->topic = put(&sl->data, r->topic, strlen(r->topic) + 1);
    e->key = r->key ? put(&sl->data, r->key, r->keylen) : SIZE_MAX;
    e->keylen = r->keylen;
    e->value = r->value ? put(&sl->data, r->value, r->valuelen) : SIZE_MAX;
    e->valuelen = r->valuelen;
    e->nheaders = r->nheaders;
    for (int i = 0; i < r->nheaders; i++) {
        e->hkey[i] = put(&sl->data, r->headers[i].key, strlen(r->headers[i].key) + 1);
        e->hval[i] = r->headers[i].value ? put(&sl->data, r->headers[i].value, r->headers[i].len) : SIZE_MAX;
        e->hlen[i] = r->headers[i].len;
    }
    e->op = r->op;
    e->has_partition = r->has_partition;
    e->partition = r->partition;
    e->has_ts = r->has_ts;
    e->ts_ms = r->ts_ms;
}

static void out_record(const slot_t *sl, const enc_out_t *e, rec_t *r)
{
    const char *d = sl->data.data;
    memset(r, 0, sizeof *r);
    r->topic = d + e->topic;
    r->key = e->key == SIZE_MAX ? NULL : d + e->key;
    r->keylen = e->keylen;
    r->value = e->value == SIZE_MAX ? NULL : d + e->value;
    r->valuelen = e->valuelen;
    r->nheaders = e->nheaders;
    for (int i = 0; i < e->nheaders; i++) {
        r->headers[i].key = d + e->hkey[i];
        r->headers[i].value = e->hval[i] == SIZE_MAX ? NULL : d + e->hval[i];
        r->headers[i].len = e->hlen[i];
    }
    r->op = e->op;
    r->has_partition = e->has_partition;
    r->partition = e->partition;
    r->has_ts = e->has_ts;
    r->ts_ms = e->ts_ms;
}

/* ---- encoder threads ---------------------------------------------------------------------- */

/* One record through the transforms and the converter (what connector.c's publish_one does on the
 * read thread), stored in the slot. */
static wc_status_t encode_one(encoder_t *x, slot_t *sl, const rec_event_t *ev, char *err, size_t errlen)
{
    rec_t r;
    bool none;
    wc_status_t st = coder_encode(&x->coder, ev, &r, &none, err, errlen);
    if (st == WC_OK && !none)
        out_store(sl, &r);
    return st;
}

static void encode_slot(encoder_t *x, slot_t *sl)
{
    sl->nout = 0;
    buf_reset(&sl->data);
    sl->st = WC_OK;
    sl->err[0] = '\0';
    for (size_t i = 0; i < sl->n && sl->st == WC_OK; i++) {
        sl->err[0] = '\0';
        sl->st = encode_one(x, sl, &sl->ev[i], sl->err, sizeof sl->err);
    }
}

static void *encoder_main(void *arg)
{
    encoder_t *x = arg;
    encq_t *q = x->q;
    pthread_setname_np(pthread_self(), "walcast-encode");   /* in top -H and perf's per-thread figures */
    uint64_t batch[ENCQ_BATCH];
    pthread_mutex_lock(&q->mu);
    while (!q->quit) {
        /* its slots, up to a batch, in queue order */
        size_t nb = 0;
        if (x->next < q->head)
            x->next = q->head;
        for (; x->next < q->tail && nb < ENCQ_BATCH; x->next++) {
            slot_t *c = &q->slots[x->next % ENCQ_SLOTS];
            if (c->owner == x->id && c->state == SLOT_QUEUED) {
                c->state = SLOT_ENCODING;
                batch[nb++] = x->next;
            }
        }
        if (!nb) {
            q->sleepers++;
            pthread_cond_wait(&q->work, &q->mu);
            q->sleepers--;
            continue;
        }
        q->busy += (int)nb;
        q->queued -= nb;
        pthread_mutex_unlock(&q->mu);
        for (size_t i = 0; i < nb; i++)
            encode_slot(x, &q->slots[batch[i] % ENCQ_SLOTS]);
        pthread_mutex_lock(&q->mu);
        bool wake = q->abort;
        for (size_t i = 0; i < nb; i++) {
            slot_t *sl = &q->slots[batch[i] % ENCQ_SLOTS];
            sl->state = SLOT_DONE;
            sl->bytes += sl->data.len;
            q->bytes += sl->data.len;
            wake = wake || batch[i] >= q->want;
        }
        q->busy -= (int)nb;
        if (wake)
            pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static bool quitting(void *ctx)
{
    encq_t *q = ctx;
    pthread_mutex_lock(&q->mu);
    bool quit = q->quit || q->abort || *q->stop;
    pthread_mutex_unlock(&q->mu);
    return quit;
}

/* coder_wait_fn of an encoder's registry client: sleeps while the registry is away (the read thread keeps
 * Kafka and the replication connection served meanwhile, waiting for this record). */
static bool registry_wait(void *ctx, int ms, const char *why)
{
    encoder_t *x = ctx;
    encq_t *q = x->q;
    log_warn("schema registry unavailable; retrying (nothing is lost: events wait for their schema id)",
             "connector=%s thread=encoder reason=\"%s\" retry_in_ms=%d", q->cfg->name, log_esc(why), ms);
    return coder_nap(ms, quitting, q);
}


/* ---- the read thread's side ---------------------------------------------------------------- */

encq_t *encq_new(const conn_config_t *cfg, int nthreads, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    encq_t *q = xcalloc(1, sizeof *q);
    q->cfg = cfg;
    q->stop = stop;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    q->want = UINT64_MAX;
    q->slots = xcalloc(ENCQ_SLOTS, sizeof *q->slots);
    for (size_t i = 0; i < ENCQ_SLOTS; i++) {
        q->slots[i].arena = arena_new(4096);
        buf_init(&q->slots[i].data);
    }
    q->nthreads = nthreads < 1 ? 1 : nthreads;
    q->enc = xcalloc((size_t)q->nthreads, sizeof *q->enc);
    for (int i = 0; i < q->nthreads; i++) {
        encoder_t *x = &q->enc[i];
        x->q = q;
        x->id = i;
        if (!coder_open(&x->coder, cfg, "record skipped (errors.tolerance=all)", true, registry_wait, x, err, errlen))
            goto fail;
        if (pthread_create(&q->enc[i].th, NULL, encoder_main, &q->enc[i]) != 0) {
            snprintf(err, errlen, "cannot start an encoder thread");
            goto fail;
        }
        q->enc[i].started = true;
    }
    return q;
fail:
    encq_free(q);
    return NULL;
}

void encq_free(encq_t *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->quit = true;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < q->nthreads; i++) {
        if (q->enc[i].started)
            pthread_join(q->enc[i].th, NULL);
        coder_close(&q->enc[i].coder);
    }
    for (size_t i = 0; i < ENCQ_SLOTS; i++) {
        arena_free(q->slots[i].arena);
        buf_free(&q->slots[i].data);
    }
    free(q->slots);
    free(q->enc);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->done);
    free(q);
}

/* Which encoder a record goes to: by its schema's converter cache (one writer per cache). */
static int owner_of(const encq_t *q, const rec_event_t *ev)
{
    if (q->nthreads == 1)
        return 0;
    uintptr_t k = (uintptr_t)(ev->vc ? (const void *)ev->vc : ev->kc ? (const void *)ev->kc : (const void *)ev->topic);
    k ^= k >> 17;
    k *= 0x9E3779B97F4A7C15ull;
    return (int)((k >> 32) % (uint64_t)q->nthreads);
}

wc_status_t encq_send_ready(encq_t *q, encq_send_fn send, void *ctx, char *err, size_t errlen)
{
    pthread_mutex_lock(&q->mu);
    uint64_t from = q->head, to = from;
    while (to < q->tail && q->slots[to % ENCQ_SLOTS].state == SLOT_DONE)
        to++;
    pthread_mutex_unlock(&q->mu);
    /* the DONE slots are the read thread's: sent outside the lock */
    wc_status_t st = WC_OK;
    uint64_t sent = from;
    size_t freed = 0;
    for (; sent < to; sent++) {
        slot_t *sl = &q->slots[sent % ENCQ_SLOTS];
        if (sl->st != WC_OK) {
            st = sl->st;
            snprintf(err, errlen, "%s", sl->err);
            break;
        }
        for (size_t i = 0; i < sl->nout && st == WC_OK; i++) {
            rec_t r;
            out_record(sl, &sl->out[i], &r);
            st = send(ctx, &r, err, errlen);
        }
        if (st != WC_OK)
            break;   /* the Kafka transaction is aborted: the slot goes with encq_reset */
        freed += sl->bytes;
        sl->state = SLOT_FREE;
    }
    if (sent > from) {
        pthread_mutex_lock(&q->mu);
        q->head = sent;
        q->bytes -= freed;
        pthread_mutex_unlock(&q->mu);
    }
    return st;
}

/* Waits up to 50 ms for the encoders to finish the slots up to ahead slots past the head (fewer wake-ups
 * than one per slot while the ring is full); false on the timeout. The caller checks what changed. */
static bool wait_done(encq_t *q, uint64_t ahead)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    bool woke = true;
    pthread_mutex_lock(&q->mu);
    if (q->sleepers && q->queued)
        pthread_cond_broadcast(&q->work);   /* what is queued is needed now */
    if (q->head < q->tail) {
        uint64_t target = q->head + ahead < q->tail ? q->head + ahead : q->tail - 1;
        q->want = target;
        while (q->slots[q->head % ENCQ_SLOTS].state != SLOT_DONE || q->slots[target % ENCQ_SLOTS].state != SLOT_DONE) {
            if (pthread_cond_timedwait(&q->done, &q->mu, &ts) != 0) {
                woke = false;
                break;
            }
        }
        q->want = UINT64_MAX;
    }
    pthread_mutex_unlock(&q->mu);
    return woke;
}

static bool full(encq_t *q)
{
    pthread_mutex_lock(&q->mu);
    bool f = q->tail - q->head >= ENCQ_SLOTS || (q->tail > q->head && q->bytes >= ENCQ_MAX_BYTES);
    pthread_mutex_unlock(&q->mu);
    return f;
}

wc_status_t encq_push(encq_t *q, const rec_event_t *ev, size_t n, encq_send_fn send, encq_wait_fn wait, void *ctx,
                      char *err, size_t errlen)
{
    if (!n)
        return WC_OK;
    wc_status_t st;
    /* what is encoded is sent by the caller's encq_send_ready after each message, or here when full;
     * no stop check while waiting: an encoder always finishes (its registry waits end on *stop) */
    while (full(q)) {
        bool woke = wait_done(q, ENCQ_SLOTS / 8);
        if ((st = encq_send_ready(q, send, ctx, err, errlen)) != WC_OK)
            return st;
        if (!woke && wait)
            wait(ctx);
    }
    /* the slot at tail is FREE (sent, or never used): the read thread's until it is queued */
    slot_t *sl = &q->slots[q->tail % ENCQ_SLOTS];
    if (arena_used(sl->arena) > ENCQ_SLOT_KEEP) {
        arena_free(sl->arena);
        sl->arena = arena_new(4096);
    } else {
        arena_reset(sl->arena);
    }
    if (sl->data.cap > ENCQ_SLOT_KEEP)
        buf_free(&sl->data);
    sl->n = n > ENCQ_MAX_RECS ? ENCQ_MAX_RECS : n;
    for (size_t i = 0; i < sl->n; i++)
        event_copy(sl->arena, &sl->ev[i], &ev[i]);
    sl->owner = owner_of(q, &ev[0]);
    sl->bytes = arena_used(sl->arena);
    pthread_mutex_lock(&q->mu);
    sl->state = SLOT_QUEUED;
    q->bytes += sl->bytes;
    q->tail++;
    q->queued++;
    if (q->sleepers && q->queued >= ENCQ_BATCH)
        pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mu);
    /* more records than a slot holds (never from the decoder: EVT_OUT_MAX) */
    if (n > ENCQ_MAX_RECS)
        return encq_push(q, ev + ENCQ_MAX_RECS, n - ENCQ_MAX_RECS, send, wait, ctx, err, errlen);
    return WC_OK;
}

wc_status_t encq_drain(encq_t *q, encq_send_fn send, encq_wait_fn wait, void *ctx, char *err, size_t errlen)
{
    wc_status_t st;
    for (;;) {
        if ((st = encq_send_ready(q, send, ctx, err, errlen)) != WC_OK)
            return st;
        if (encq_empty(q))
            return WC_OK;
        if (!wait_done(q, ENCQ_SLOTS) && wait)
            wait(ctx);
    }
}

void encq_reset(encq_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->abort = true;
    while (q->busy > 0)
        pthread_cond_wait(&q->done, &q->mu);
    for (uint64_t i = q->head; i < q->tail; i++)
        q->slots[i % ENCQ_SLOTS].state = SLOT_FREE;
    q->head = q->tail;
    q->bytes = 0;
    q->queued = 0;
    q->abort = false;
    pthread_mutex_unlock(&q->mu);
}

bool encq_empty(const encq_t *q)
{
    encq_t *m = (encq_t *)q;
    pthread_mutex_lock(&m->mu);
    bool e = m->head == m->tail;
    pthread_mutex_unlock(&m->mu);
    return e;
}

uint64_t encq_skipped(const encq_t *q)
{
    uint64_t n = 0;
    for (int i = 0; i < q->nthreads; i++)
        n += atomic_load(&q->enc[i].coder.skipped);
    return n;
}
