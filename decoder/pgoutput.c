/* pgoutput.c: readers for every pgoutput message (protocol 1-4) and the walsender CopyData frame.
 * Mirrors PostgreSQL's proto.c; unknown message types, tuple markers and column kinds are errors. */
#include "decoder/pgoutput.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool pgo_get_u8(pgo_cursor_t *c, uint8_t *v)
{
    if (c->len - c->pos < 1)
        return false;
    *v = c->p[c->pos++];
    return true;
}

bool pgo_get_u16(pgo_cursor_t *c, uint16_t *v)
{
    if (c->len - c->pos < 2)
        return false;
    const uint8_t *p = c->p + c->pos;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    c->pos += 2;
    return true;
}

bool pgo_get_u32(pgo_cursor_t *c, uint32_t *v)
{
    if (c->len - c->pos < 4)
        return false;
    const uint8_t *p = c->p + c->pos;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    c->pos += 4;
    return true;
}

bool pgo_get_u64(pgo_cursor_t *c, uint64_t *v)
{
    if (c->len - c->pos < 8)
        return false;
    const uint8_t *p = c->p + c->pos;
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = r << 8 | p[i];
    *v = r;
    c->pos += 8;
    return true;
}

bool pgo_get_str(pgo_cursor_t *c, const char **s)
{
    const uint8_t *start = c->p + c->pos;
    const uint8_t *nul = memchr(start, '\0', c->len - c->pos);
    if (!nul)
        return false;
    *s = (const char *)start;
    c->pos += (size_t)(nul - start) + 1;
    return true;
}

bool pgo_get_bytes(pgo_cursor_t *c, size_t n, const uint8_t **p)
{
    if (c->len - c->pos < n)
        return false;
    *p = c->p + c->pos;
    c->pos += n;
    return true;
}

const char *pgo_msgtype_name(int type)
{
    switch (type) {
    case PGO_BEGIN: return "Begin";
    case PGO_COMMIT: return "Commit";
    case PGO_ORIGIN: return "Origin";
    case PGO_RELATION: return "Relation";
    case PGO_TYPE: return "Type";
    case PGO_INSERT: return "Insert";
    case PGO_UPDATE: return "Update";
    case PGO_DELETE: return "Delete";
    case PGO_TRUNCATE: return "Truncate";
    case PGO_MESSAGE: return "Message";
    case PGO_STREAM_START: return "Stream Start";
    case PGO_STREAM_STOP: return "Stream Stop";
    case PGO_STREAM_COMMIT: return "Stream Commit";
    case PGO_STREAM_ABORT: return "Stream Abort";
    case PGO_BEGIN_PREPARE: return "Begin Prepare";
    case PGO_PREPARE: return "Prepare";
    case PGO_COMMIT_PREPARED: return "Commit Prepared";
    case PGO_ROLLBACK_PREPARED: return "Rollback Prepared";
    case PGO_STREAM_PREPARE: return "Stream Prepare";
    }
    return "unknown";
}

#define NEED(expr, what)                                                                        \
    do {                                                                                        \
        if (!(expr)) {                                                                          \
            snprintf(err, errlen, "pgoutput %s message truncated at byte %zu of %zu reading %s", \
                     pgo_msgtype_name(type), c->pos, c->len, what);                             \
            return -1;                                                                          \
        }                                                                                       \
    } while (0)

/* One reader per message, as PostgreSQL's proto.c has: each reads its fields after the type byte (and
 * the streamed xid) and fails naming the field it could not read. */
#define READER(name) static int name(pgo_cursor_t *c, arena_t *a, pgo_msg_t *m, int type, char *err, size_t errlen)

static int read_tuple(pgo_cursor_t *c, arena_t *a, pgo_tuple_t *t, int type, char *err, size_t errlen)
{
    uint16_t n;
    if (!pgo_get_u16(c, &n)) {
        snprintf(err, errlen, "pgoutput %s message truncated reading the column count", pgo_msgtype_name(type));
        return -1;
    }
    t->ncols = n;
    t->cols = arena_alloc(a, (n ? n : 1) * sizeof *t->cols);
    for (uint16_t i = 0; i < n; i++) {
        uint8_t kind;
        pgo_col_t *col = &t->cols[i];
        if (!pgo_get_u8(c, &kind)) {
            snprintf(err, errlen, "pgoutput %s message truncated at column %u of %u", pgo_msgtype_name(type), i + 1, n);
            return -1;
        }
        col->kind = (char)kind;
        col->len = 0;
        col->data = NULL;
        switch (kind) {
        case PGO_COL_NULL:
        case PGO_COL_UNCHANGED:
            break;
        case PGO_COL_TEXT:
        case PGO_COL_BINARY: {
            uint32_t len;
            const uint8_t *p;
            if (!pgo_get_u32(c, &len) || len > INT32_MAX || !pgo_get_bytes(c, len, &p)) {
                snprintf(err, errlen, "pgoutput %s message truncated in the value of column %u of %u",
                         pgo_msgtype_name(type), i + 1, n);
                return -1;
            }
            col->len = len;
            col->data = (const char *)p;
            break;
        }
        default:
            snprintf(err, errlen, "pgoutput %s message: unknown column kind 0x%02x at column %u (expected n, u, t or b)",
                     pgo_msgtype_name(type), kind, i + 1);
            return -1;
        }
    }
    return 0;
}

READER(read_begin)
{
    uint64_t t;
    NEED(pgo_get_u64(c, &m->u.begin.final_lsn), "final LSN");
    NEED(pgo_get_u64(c, &t), "commit time");
    m->u.begin.commit_time = (int64_t)t;
    NEED(pgo_get_u32(c, &m->xid), "xid");
    return 0;
}

/* Commit and Stream Commit (which starts with the xid). */
READER(read_commit)
{
    uint64_t t;
    if (type == PGO_STREAM_COMMIT)
        NEED(pgo_get_u32(c, &m->xid), "xid");
    NEED(pgo_get_u8(c, &m->u.commit.flags), "flags");
    if (m->u.commit.flags != 0) {
        /* no commit flag is defined up to protocol 4: a new one may change what follows */
        snprintf(err, errlen, "pgoutput %s message: unknown flags 0x%02x (none are defined)", pgo_msgtype_name(type),
                 m->u.commit.flags);
        return -1;
    }
    NEED(pgo_get_u64(c, &m->u.commit.commit_lsn), "commit LSN");
    NEED(pgo_get_u64(c, &m->u.commit.end_lsn), "end LSN");
    NEED(pgo_get_u64(c, &t), "commit time");
    m->u.commit.commit_time = (int64_t)t;
    return 0;
}

READER(read_origin)
{
    NEED(pgo_get_u64(c, &m->u.origin.lsn), "origin LSN");
    NEED(pgo_get_str(c, &m->u.origin.name), "origin name");
    return 0;
}

READER(read_relation)
{
    uint8_t ri;
    uint16_t natts;
    NEED(pgo_get_u32(c, &m->u.relation.relid), "relation id");
    NEED(pgo_get_str(c, &m->u.relation.nspname), "namespace");
    NEED(pgo_get_str(c, &m->u.relation.relname), "relation name");
    NEED(pgo_get_u8(c, &ri), "replica identity");
    if (ri != 'd' && ri != 'f' && ri != 'n' && ri != 'i') {
        snprintf(err, errlen, "pgoutput Relation message: unknown replica identity 0x%02x (expected d, f, n or i)", ri);
        return -1;
    }
    m->u.relation.replident = (char)ri;
    NEED(pgo_get_u16(c, &natts), "column count");
    m->u.relation.natts = natts;
    m->u.relation.atts = arena_alloc(a, (natts ? natts : 1) * sizeof(pgo_att_t));
    for (uint16_t i = 0; i < natts; i++) {
        pgo_att_t *att = &m->u.relation.atts[i];
        uint32_t tm;
        NEED(pgo_get_u8(c, &att->flags), "column flags");
        NEED(pgo_get_str(c, &att->name), "column name");
        NEED(pgo_get_u32(c, &att->typid), "column type");
        NEED(pgo_get_u32(c, &tm), "column type modifier");
        att->typmod = (int32_t)tm;
    }
    return 0;
}

READER(read_type)
{
    NEED(pgo_get_u32(c, &m->u.type.typid), "type id");
    NEED(pgo_get_str(c, &m->u.type.nspname), "type namespace");
    NEED(pgo_get_str(c, &m->u.type.typname), "type name");
    return 0;
}

READER(read_insert)
{
    uint8_t marker;
    NEED(pgo_get_u32(c, &m->u.change.relid), "relation id");
    NEED(pgo_get_u8(c, &marker), "tuple marker");
    if (marker != 'N') {
        snprintf(err, errlen, "pgoutput Insert message: expected new tuple marker 'N', got 0x%02x", marker);
        return -1;
    }
    return read_tuple(c, a, &m->u.change.new_tuple, type, err, errlen);
}

READER(read_update)
{
    uint8_t marker;
    NEED(pgo_get_u32(c, &m->u.change.relid), "relation id");
    NEED(pgo_get_u8(c, &marker), "tuple marker");
    if (marker == 'K' || marker == 'O') {
        m->u.change.old_kind = (char)marker;
        if (read_tuple(c, a, &m->u.change.old_tuple, type, err, errlen) < 0)
            return -1;
        NEED(pgo_get_u8(c, &marker), "new tuple marker");
    }
    if (marker != 'N') {
        snprintf(err, errlen, "pgoutput Update message: expected tuple marker 'K', 'O' or 'N', got 0x%02x", marker);
        return -1;
    }
    return read_tuple(c, a, &m->u.change.new_tuple, type, err, errlen);
}

READER(read_delete)
{
    uint8_t marker;
    NEED(pgo_get_u32(c, &m->u.change.relid), "relation id");
    NEED(pgo_get_u8(c, &marker), "tuple marker");
    if (marker != 'K' && marker != 'O') {
        snprintf(err, errlen, "pgoutput Delete message: expected tuple marker 'K' or 'O', got 0x%02x", marker);
        return -1;
    }
    m->u.change.old_kind = (char)marker;
    return read_tuple(c, a, &m->u.change.old_tuple, type, err, errlen);
}

READER(read_truncate)
{
    uint32_t n;
    NEED(pgo_get_u32(c, &n), "relation count");
    NEED(pgo_get_u8(c, &m->u.truncate.flags), "options");
    NEED(n <= (c->len - c->pos) / 4, "relation ids");
    m->u.truncate.nrelids = n;
    m->u.truncate.relids = arena_alloc(a, (n ? n : 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++)
        NEED(pgo_get_u32(c, &m->u.truncate.relids[i]), "relation id");
    return 0;
}

READER(read_message)
{
    uint32_t n;
    NEED(pgo_get_u8(c, &m->u.message.flags), "flags");
    NEED(pgo_get_u64(c, &m->u.message.lsn), "LSN");
    NEED(pgo_get_str(c, &m->u.message.prefix), "prefix");
    NEED(pgo_get_u32(c, &n), "content length");
    NEED(pgo_get_bytes(c, n, &m->u.message.content), "content");
    m->u.message.content_len = n;
    return 0;
}

READER(read_stream_start)
{
    NEED(pgo_get_u32(c, &m->xid), "xid");
    NEED(pgo_get_u8(c, &m->u.stream_start.first_segment), "first-segment flag");
    return 0;
}

READER(read_stream_abort)
{
    NEED(pgo_get_u32(c, &m->xid), "xid");
    NEED(pgo_get_u32(c, &m->u.stream_abort.subxid), "subtransaction xid");
    /* Protocol 4 with parallel streaming appends the abort LSN and time. */
    if (c->len - c->pos >= 16) {
        uint64_t t;
        NEED(pgo_get_u64(c, &m->u.stream_abort.abort_lsn), "abort LSN");
        NEED(pgo_get_u64(c, &t), "abort time");
        m->u.stream_abort.abort_time = (int64_t)t;
        m->u.stream_abort.has_lsn = true;
    }
    return 0;
}

/* Begin Prepare, Prepare, Stream Prepare and Commit Prepared share a layout (Begin Prepare has no flags). */
READER(read_twophase)
{
    uint64_t t;
    if (type != PGO_BEGIN_PREPARE)
        NEED(pgo_get_u8(c, &m->u.twophase.flags), "flags");
    NEED(pgo_get_u64(c, &m->u.twophase.lsn), "LSN");
    NEED(pgo_get_u64(c, &m->u.twophase.end_lsn), "end LSN");
    NEED(pgo_get_u64(c, &t), "time");
    m->u.twophase.time = (int64_t)t;
    NEED(pgo_get_u32(c, &m->xid), "xid");
    NEED(pgo_get_str(c, &m->u.twophase.gid), "gid");
    return 0;
}

READER(read_rollback_prepared)
{
    uint64_t t1, t2;
    NEED(pgo_get_u8(c, &m->u.twophase.flags), "flags");
    NEED(pgo_get_u64(c, &m->u.twophase.end_lsn), "prepare end LSN");
    NEED(pgo_get_u64(c, &m->u.twophase.rollback_end_lsn), "rollback end LSN");
    NEED(pgo_get_u64(c, &t1), "prepare time");
    NEED(pgo_get_u64(c, &t2), "rollback time");
    m->u.twophase.time = (int64_t)t1;
    m->u.twophase.rollback_time = (int64_t)t2;
    NEED(pgo_get_u32(c, &m->xid), "xid");
    NEED(pgo_get_str(c, &m->u.twophase.gid), "gid");
    return 0;
}

READER(read_nothing)
{
    return 0;
}

int pgo_parse(pgo_state_t *st, const uint8_t *data, size_t len, arena_t *a, pgo_msg_t *m,
              char *err, size_t errlen)
{
    pgo_cursor_t cur = { data, len, 0 }, *c = &cur;
    uint8_t t8;
    memset(m, 0, sizeof *m);
    if (!pgo_get_u8(c, &t8)) {
        snprintf(err, errlen, "empty pgoutput message");
        return -1;
    }
    int type = t8;
    m->type = (pgo_msgtype_t)type;
    /* Inside a streamed block (protocol >= 2), these messages are prefixed by the top-level xid. */
    bool xid_prefix = st->in_stream &&
        (type == PGO_RELATION || type == PGO_TYPE || type == PGO_INSERT || type == PGO_UPDATE ||
         type == PGO_DELETE || type == PGO_TRUNCATE || type == PGO_MESSAGE);
    if (xid_prefix)
        NEED(pgo_get_u32(c, &m->xid), "the streamed transaction id");

    int (*reader)(pgo_cursor_t *, arena_t *, pgo_msg_t *, int, char *, size_t);
    switch (type) {
    case PGO_BEGIN: reader = read_begin; break;
    case PGO_COMMIT:
    case PGO_STREAM_COMMIT: reader = read_commit; break;
    case PGO_ORIGIN: reader = read_origin; break;
    case PGO_RELATION: reader = read_relation; break;
    case PGO_TYPE: reader = read_type; break;
    case PGO_INSERT: reader = read_insert; break;
    case PGO_UPDATE: reader = read_update; break;
    case PGO_DELETE: reader = read_delete; break;
    case PGO_TRUNCATE: reader = read_truncate; break;
    case PGO_MESSAGE: reader = read_message; break;
    case PGO_STREAM_START:
        if (st->in_stream) {
            snprintf(err, errlen, "pgoutput Stream Start inside an open stream block");
            return -1;
        }
        reader = read_stream_start;
        break;
    case PGO_STREAM_STOP:
        if (!st->in_stream) {
            snprintf(err, errlen, "pgoutput Stream Stop without a Stream Start");
            return -1;
        }
        reader = read_nothing;
        break;
    case PGO_STREAM_ABORT: reader = read_stream_abort; break;
    case PGO_BEGIN_PREPARE:
    case PGO_PREPARE:
    case PGO_STREAM_PREPARE:
    case PGO_COMMIT_PREPARED: reader = read_twophase; break;
    case PGO_ROLLBACK_PREPARED: reader = read_rollback_prepared; break;
    default:
        snprintf(err, errlen, "unknown pgoutput message type 0x%02x ('%c'); is the slot using another plugin?",
                 type, type >= 32 && type < 127 ? type : '?');
        return -1;
    }
    if (reader(c, a, m, type, err, errlen) < 0)
        return -1;
    if (c->pos != c->len) {
        snprintf(err, errlen, "pgoutput %s message has %zu unexpected trailing bytes", pgo_msgtype_name(type), c->len - c->pos);
        return -1;
    }
    if (type == PGO_STREAM_START)
        st->in_stream = true;
    else if (type == PGO_STREAM_STOP)
        st->in_stream = false;
    return 0;
}

int pgo_parse_copydata(const uint8_t *data, size_t len, pgo_copydata_t *out, char *err, size_t errlen)
{
    pgo_cursor_t c = { data, len, 0 };
    uint8_t kind;
    uint64_t t;
    memset(out, 0, sizeof *out);
    if (!pgo_get_u8(&c, &kind)) {
        snprintf(err, errlen, "empty CopyData message from the server");
        return -1;
    }
    out->kind = (char)kind;
    if (kind == 'w') {
        if (!pgo_get_u64(&c, &out->data_start) || !pgo_get_u64(&c, &out->wal_end) || !pgo_get_u64(&c, &t)) {
            snprintf(err, errlen, "XLogData header truncated (%zu bytes, need 25)", len);
            return -1;
        }
        out->send_time = (int64_t)t;
        out->payload = c.p + c.pos;
        out->payload_len = c.len - c.pos;
        if (out->payload_len == 0) {
            snprintf(err, errlen, "XLogData without a pgoutput message");
            return -1;
        }
        return 0;
    }
    if (kind == 'k') {
        uint8_t r;
        if (!pgo_get_u64(&c, &out->wal_end) || !pgo_get_u64(&c, &t) || !pgo_get_u8(&c, &r) || c.pos != c.len) {
            snprintf(err, errlen, "primary keepalive message has %zu bytes, expected 18", len);
            return -1;
        }
        out->send_time = (int64_t)t;
        out->reply_requested = r != 0;
        return 0;
    }
    snprintf(err, errlen, "unexpected CopyData message type 0x%02x from the server (expected 'w' or 'k')", kind);
    return -1;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

size_t pgo_build_status(uint8_t out[34], uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
                        int64_t now_pg_us, bool reply_requested)
{
    out[0] = 'r';
    put_u64(out + 1, write_lsn);
    put_u64(out + 9, flush_lsn);
    put_u64(out + 17, apply_lsn);
    put_u64(out + 25, (uint64_t)now_pg_us);
    out[33] = reply_requested ? 1 : 0;
    return 34;
}

void pgo_lsn_format(uint64_t lsn, char out[32])
{
    snprintf(out, 32, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

bool pgo_lsn_parse(const char *s, uint64_t *lsn)
{
    unsigned hi, lo;
    int n = 0;
    if (sscanf(s, "%X/%X%n", &hi, &lo, &n) != 2 || s[n] != '\0')
        return false;
    *lsn = (uint64_t)hi << 32 | lo;
    return true;
}
