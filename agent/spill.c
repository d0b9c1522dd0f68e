/* spill.c: streamed in-progress transactions. Messages are framed (lsn, length, bytes) in a memory
 * buffer per transaction; when all buffers together pass the budget the largest is compressed, in
 * frames of at most SPL_FRAME bytes, to an unlinked temporary file (nothing is left behind after a
 * crash). Subtransaction aborts become cut ranges of the transaction's logical byte stream. */
#include "agent/spill.h"
#include "schemas/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>


#define SPL_FRAME (4u << 20)     /* raw bytes per compressed frame: bounds replay memory */
#define SPL_HDR 12               /* u64 lsn + u32 length */

typedef struct spl_sub {
    uint32_t subxid;
    uint64_t start;              /* logical offset of its first message */
} spl_sub_t;

typedef struct spl_range {
    uint64_t from, to;
} spl_range_t;

/* Memory chunks are private anonymous mappings of SPL_FRAME bytes: only the pages written count
 * (a small transaction costs a few pages), and unmapping gives them back to the system at once. */
typedef struct spl_chunk {
    uint8_t *data;
    size_t len, cap;
} spl_chunk_t;

typedef struct spl_txn {
    uint32_t xid;
    spl_chunk_t *chunks;         /* framed messages not yet in the file, in chunks of ~SPL_FRAME */
    size_t nchunks, capchunks;
    size_t memlen;               /* bytes in chunks */
    uint64_t mem_start;          /* logical offset of the first chunk's first byte */
    uint64_t size;               /* logical bytes appended */
    int fd;                      /* -1 until the first spill */
    spl_sub_t *subs;
    size_t nsubs, capsubs;
    spl_range_t *cuts;
    size_t ncuts, capcuts;
    struct spl_txn *next;
} spl_txn_t;

struct spl_store {
    char *dir;
    size_t limit;
    size_t mem;
    spl_txn_t *txns;
    ZSTD_CCtx *cctx;
    spl_stats_t st;
};

spl_store_t *spl_new(const char *dir, size_t mem_limit, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the spill directory %s: %s (set walcast.spill.dir to a writable directory)",
                 dir, strerror(errno));
        return NULL;
    }
    /* Checked now, not at the first spill hours later: a directory of ours, private, writable. */
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "the spill directory %s is not a directory (set walcast.spill.dir to one)", dir);
        return NULL;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen, "the spill directory %s belongs to user id %u, not to walcast's (%u): other users could "
                 "read spilled changes; set walcast.spill.dir to a directory of walcast's own",
                 dir, (unsigned)st.st_uid, (unsigned)geteuid());
        return NULL;
    }
    if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) < 0) {
        snprintf(err, errlen, "cannot make the spill directory %s private (mode 0700): %s", dir, strerror(errno));
        return NULL;
    }
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/walcast-probe-XXXXXX", dir);
    int fd = mkstemp(probe);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write in the spill directory %s: %s (set walcast.spill.dir to a writable directory)",
                 dir, strerror(errno));
        return NULL;
    }
    unlink(probe);
    close(fd);
    spl_store_t *s = xcalloc(1, sizeof *s);
    s->dir = xstrdup(dir);
    s->limit = mem_limit;
    s->cctx = ZSTD_createCCtx();
    if (!s->cctx)
        abort();
    return s;
}

static void chunk_release(spl_chunk_t *c)
{
    if (c->data)
        munmap(c->data, c->cap);
    c->data = NULL;
    c->len = c->cap = 0;
}

static void chunks_free(spl_txn_t *t, size_t from)
{
    for (size_t i = from; i < t->nchunks; i++)
        chunk_release(&t->chunks[i]);
    t->nchunks = from;
}

static void txn_free(spl_txn_t *t)
{
    chunks_free(t, 0);
    free(t->chunks);
    if (t->fd >= 0)
        close(t->fd);
    free(t->subs);
    free(t->cuts);
    free(t);
}

void spl_reset(spl_store_t *s)
{
    while (s->txns) {
        spl_txn_t *t = s->txns;
        s->txns = t->next;
        s->mem -= t->memlen;
        txn_free(t);
    }
    s->mem = 0;
    s->st.open_txns = 0;
}

void spl_free(spl_store_t *s)
{
    if (!s)
        return;
    spl_reset(s);
    ZSTD_freeCCtx(s->cctx);
    free(s->dir);
    free(s);
}

static spl_txn_t *find(spl_store_t *s, uint32_t xid, spl_txn_t ***link)
{
    spl_txn_t **p = &s->txns;
    for (; *p; p = &(*p)->next) {
        if ((*p)->xid == xid) {
            if (link)
                *link = p;
            return *p;
        }
    }
    return NULL;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Compresses t's memory chunks to its file, one zstd frame per chunk, freeing each. */
static int spill(spl_store_t *s, spl_txn_t *t, char *err, size_t errlen)
{
    if (t->fd < 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/walcast-txn-XXXXXX", s->dir);
        t->fd = mkstemp(path);
        if (t->fd < 0) {
            snprintf(err, errlen, "cannot create a spill file in %s: %s", s->dir, strerror(errno));
            return -1;
        }
        unlink(path);
    }
    void *z = NULL;
    size_t zcap = 0;
    int rc = -1;
    for (size_t i = 0; i < t->nchunks; i++) {
        spl_chunk_t *c = &t->chunks[i];
        size_t bound = ZSTD_compressBound(c->len);
        if (bound > zcap) {
            free(z);
            zcap = bound;
            z = xmalloc(zcap);
        }
        size_t zn = ZSTD_compressCCtx(s->cctx, z, zcap, c->data, c->len, 1);
        if (ZSTD_isError(zn)) {
            snprintf(err, errlen, "zstd compression of a spilled transaction failed: %s", ZSTD_getErrorName(zn));
            goto out;
        }
        uint32_t hdr[2] = { (uint32_t)zn, (uint32_t)c->len };
        if (write_all(t->fd, hdr, sizeof hdr) < 0 || write_all(t->fd, z, zn) < 0) {
            snprintf(err, errlen, "cannot write a spill file in %s: %s (free some space or set walcast.spill.dir)",
                     s->dir, strerror(errno));
            goto out;
        }
        s->st.spilled_bytes += c->len;
        s->st.file_bytes += zn + sizeof hdr;
    }
    rc = 0;
out:
    free(z);
    if (rc == 0) {
        s->mem -= t->memlen;
        t->mem_start += t->memlen;
        t->memlen = 0;
        chunks_free(t, 0);
    }
    return rc;
}

int spl_append(spl_store_t *s, uint32_t xid, uint32_t subxid, uint64_t lsn, const uint8_t *msg, size_t len,
               char *err, size_t errlen)
{
    spl_txn_t *t = find(s, xid, NULL);
    if (!t) {
        t = xcalloc(1, sizeof *t);
        t->xid = xid;
        t->fd = -1;
        t->next = s->txns;
        s->txns = t;
        s->st.open_txns++;
    }
    if (subxid != xid && (t->nsubs == 0 || t->subs[t->nsubs - 1].subxid != subxid)) {
        bool known = false;
        for (size_t i = 0; i < t->nsubs && !known; i++)
            known = t->subs[i].subxid == subxid;
        if (!known) {
            if (t->nsubs == t->capsubs) {
                t->capsubs = t->capsubs ? t->capsubs * 2 : 8;
                t->subs = xrealloc(t->subs, t->capsubs * sizeof *t->subs);
            }
            t->subs[t->nsubs++] = (spl_sub_t){ subxid, t->size };
        }
    }
    uint32_t l32 = (uint32_t)len;
    if (t->nchunks == 0 || t->chunks[t->nchunks - 1].len + SPL_HDR + len > t->chunks[t->nchunks - 1].cap) {
        if (t->nchunks == t->capchunks) {
            t->capchunks = t->capchunks ? t->capchunks * 2 : 4;
            t->chunks = xrealloc(t->chunks, t->capchunks * sizeof *t->chunks);
        }
        spl_chunk_t *nc = &t->chunks[t->nchunks];
        nc->cap = SPL_HDR + len > SPL_FRAME ? SPL_HDR + len : SPL_FRAME;
        nc->len = 0;
        nc->data = mmap(NULL, nc->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (nc->data == MAP_FAILED) {
            nc->data = NULL;
            snprintf(err, errlen, "cannot map %zu bytes for a streamed transaction: %s", nc->cap, strerror(errno));
            return -1;
        }
        t->nchunks++;
    }
    spl_chunk_t *c = &t->chunks[t->nchunks - 1];
    memcpy(c->data + c->len, &lsn, sizeof lsn);
    memcpy(c->data + c->len + 8, &l32, sizeof l32);
    memcpy(c->data + c->len + SPL_HDR, msg, len);
    c->len += SPL_HDR + len;
    t->size += SPL_HDR + len;
    t->memlen += SPL_HDR + len;
    s->mem += SPL_HDR + len;
    if (s->mem > s->st.peak_mem_bytes)
        s->st.peak_mem_bytes = s->mem;
    /* over budget: move the largest transaction's chunks to its file; one already on file goes on
     * frame by frame */
    if (s->mem > s->limit || (t->fd >= 0 && t->memlen >= SPL_FRAME)) {
        spl_txn_t *big = t;
        if (s->mem > s->limit)
            for (spl_txn_t *x = s->txns; x; x = x->next)
                if (x->memlen > big->memlen)
                    big = x;
        if (spill(s, big, err, errlen) < 0)
            return -1;
    }
    return 0;
}

void spl_abort(spl_store_t *s, uint32_t xid, uint32_t subxid)
{
    spl_txn_t **link;
    spl_txn_t *t = find(s, xid, &link);
    if (!t)
        return;
    if (subxid == xid) {
        *link = t->next;
        s->mem -= t->memlen;
        s->st.open_txns--;
        txn_free(t);
        return;
    }
    size_t i = 0;
    while (i < t->nsubs && t->subs[i].subxid != subxid)
        i++;
    if (i == t->nsubs)
        return;                  /* nothing of that subtransaction was kept */
    uint64_t from = t->subs[i].start;
    t->nsubs = i;                /* it and the subtransactions nested after it are gone */
    if (from >= t->mem_start) {
        /* still in memory: cut the chunks there */
        uint64_t at = t->mem_start;
        size_t i2 = 0;
        while (i2 < t->nchunks && at + t->chunks[i2].len <= from)
            at += t->chunks[i2++].len;
        if (i2 < t->nchunks) {
            t->chunks[i2].len = (size_t)(from - at);
            chunks_free(t, t->chunks[i2].len ? i2 + 1 : i2);
        }
        size_t keep = (size_t)(from - t->mem_start);
        s->mem -= t->memlen - keep;
        t->memlen = keep;
        t->size = from;
        return;
    }
    if (t->ncuts == t->capcuts) {
        t->capcuts = t->capcuts ? t->capcuts * 2 : 4;
        t->cuts = xrealloc(t->cuts, t->capcuts * sizeof *t->cuts);
    }
    t->cuts[t->ncuts++] = (spl_range_t){ from, t->size };
}

static bool is_cut(const spl_txn_t *t, uint64_t off)
{
    for (size_t i = 0; i < t->ncuts; i++)
        if (off >= t->cuts[i].from && off < t->cuts[i].to)
            return true;
    return false;
}

/* Hands the framed messages of one chunk (starting at logical offset base) to fn. */
static wc_status_t replay_chunk(const spl_txn_t *t, const uint8_t *p, size_t n, uint64_t base, spl_replay_fn fn,
                                void *ctx, char *err, size_t errlen)
{
    size_t at = 0;
    while (at + SPL_HDR <= n) {
        uint64_t lsn;
        uint32_t len;
        memcpy(&lsn, p + at, sizeof lsn);
        memcpy(&len, p + at + 8, sizeof len);
        if (at + SPL_HDR + len > n) {
            snprintf(err, errlen, "spill file of transaction %u is damaged (message crosses a frame)", t->xid);
            return WC_RETRY;
        }
        wc_status_t st = is_cut(t, base + at) ? WC_OK : fn(ctx, lsn, p + at + SPL_HDR, len, err, errlen);
        if (st != WC_OK)
            return st;
        at += SPL_HDR + len;
    }
    return WC_OK;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

wc_status_t spl_replay(spl_store_t *s, uint32_t xid, spl_replay_fn fn, void *ctx, char *err, size_t errlen)
{
    spl_txn_t **link;
    spl_txn_t *t = find(s, xid, &link);
    if (!t)
        return WC_OK;
    wc_status_t rc = WC_RETRY;   /* the server streams the transaction again after a reconnect */
    void *z = NULL, *raw = NULL;
    /* Replay holds one frame at a time: a transaction already on file goes there entirely first. */
    if (t->fd >= 0 && t->nchunks && spill(s, t, err, errlen) < 0)
        goto out;
    if (t->fd >= 0) {
        if (lseek(t->fd, 0, SEEK_SET) < 0) {
            snprintf(err, errlen, "cannot rewind the spill file of transaction %u: %s", xid, strerror(errno));
            goto out;
        }
        uint64_t base = 0;
        while (base < t->mem_start) {
            uint32_t hdr[2];
            if (read_all(t->fd, hdr, sizeof hdr) < 0) {
                snprintf(err, errlen, "cannot read the spill file of transaction %u", xid);
                goto out;
            }
            free(z);
            free(raw);
            z = xmalloc(hdr[0]);
            raw = xmalloc(hdr[1]);
            if (read_all(t->fd, z, hdr[0]) < 0) {
                snprintf(err, errlen, "cannot read the spill file of transaction %u", xid);
                goto out;
            }
            size_t n = ZSTD_decompress(raw, hdr[1], z, hdr[0]);
            if (ZSTD_isError(n) || n != hdr[1]) {
                snprintf(err, errlen, "spill file of transaction %u does not decompress: %s", xid,
                         ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
                goto out;
            }
            free(z);
            z = NULL;
            if ((rc = replay_chunk(t, raw, n, base, fn, ctx, err, errlen)) != WC_OK)
                goto out;
            rc = WC_RETRY;
            base += n;
        }
    }
    /* in memory only: chunk by chunk, each freed once replayed */
    uint64_t base = t->mem_start;
    for (size_t i = 0; i < t->nchunks; i++) {
        spl_chunk_t *c = &t->chunks[i];
        if ((rc = replay_chunk(t, c->data, c->len, base, fn, ctx, err, errlen)) != WC_OK)
            goto out;
        rc = WC_RETRY;
        base += c->len;
        s->mem -= c->len;
        t->memlen -= c->len;
        chunk_release(c);
    }
    rc = WC_OK;
out:
    free(z);
    free(raw);
    *link = t->next;
    s->mem -= t->memlen;
    s->st.open_txns--;
    txn_free(t);
    return rc;
}

spl_stats_t spl_stats(const spl_store_t *s)
{
    spl_stats_t st = s->st;
    st.mem_bytes = s->mem;
    return st;
}
