/* pgoutput.h: the pgoutput logical replication protocol (versions 1-4) and its CopyData framing.
 * One reader per message, all through a bounds-checked cursor; decoded strings point into the input. */
#ifndef WALCAST_PGOUTPUT_H
#define WALCAST_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/buf.h"

/* Cursor over wire bytes: a failed read returns false and leaves pos unchanged. */
typedef struct pgo_cursor {
    const uint8_t *p;
    size_t len;
    size_t pos;
} pgo_cursor_t;

bool pgo_get_u8(pgo_cursor_t *c, uint8_t *v);
bool pgo_get_u16(pgo_cursor_t *c, uint16_t *v);
bool pgo_get_u32(pgo_cursor_t *c, uint32_t *v);
bool pgo_get_u64(pgo_cursor_t *c, uint64_t *v);
/* A NUL-terminated string inside the buffer; *s points into it. */
bool pgo_get_str(pgo_cursor_t *c, const char **s);
bool pgo_get_bytes(pgo_cursor_t *c, size_t n, const uint8_t **p);

typedef enum {
    PGO_BEGIN = 'B', PGO_COMMIT = 'C', PGO_ORIGIN = 'O', PGO_RELATION = 'R', PGO_TYPE = 'Y',
    PGO_INSERT = 'I', PGO_UPDATE = 'U', PGO_DELETE = 'D', PGO_TRUNCATE = 'T', PGO_MESSAGE = 'M',
    PGO_STREAM_START = 'S', PGO_STREAM_STOP = 'E', PGO_STREAM_COMMIT = 'c', PGO_STREAM_ABORT = 'A',
    PGO_BEGIN_PREPARE = 'b', PGO_PREPARE = 'P', PGO_COMMIT_PREPARED = 'K',
    PGO_ROLLBACK_PREPARED = 'r', PGO_STREAM_PREPARE = 'p'
} pgo_msgtype_t;

const char *pgo_msgtype_name(int type);

/* Column kinds inside a tuple. */
#define PGO_COL_NULL 'n'
#define PGO_COL_UNCHANGED 'u'
#define PGO_COL_TEXT 't'
#define PGO_COL_BINARY 'b'

typedef struct pgo_col {
    char kind;
    uint32_t len;
    const char *data;   /* not NUL-terminated */
} pgo_col_t;

typedef struct pgo_tuple {
    uint16_t ncols;
    pgo_col_t *cols;
} pgo_tuple_t;

/* Flag bits of the protocol (PostgreSQL's logicalproto.h / proto.c). */
enum {
    PGO_ATT_KEY = 1,              /* Relation column: part of the replica identity key */
    PGO_MESSAGE_TRANSACTIONAL = 1,/* Message: part of a transaction */
    PGO_TRUNCATE_CASCADE = 1,     /* Truncate options */
    PGO_TRUNCATE_RESTART_IDENTITY = 2,
};

typedef struct pgo_att {
    uint8_t flags;      /* PGO_ATT_KEY */
    const char *name;
    uint32_t typid;
    int32_t typmod;
} pgo_att_t;

typedef struct pgo_msg {
    pgo_msgtype_t type;
    uint32_t xid;       /* Begin, stream messages, and changes inside a stream; else 0 */
    union {
        struct { uint64_t final_lsn; int64_t commit_time; } begin;
        struct { uint8_t flags; uint64_t commit_lsn, end_lsn; int64_t commit_time; } commit;
        struct { uint64_t lsn; const char *name; } origin;
        struct {
            uint32_t relid;
            const char *nspname, *relname;
            char replident;
            uint16_t natts;
            pgo_att_t *atts;
        } relation;
        struct { uint32_t typid; const char *nspname, *typname; } type;
        struct {
            uint32_t relid;
            char old_kind;          /* 0, 'K' (key only) or 'O' (whole old row) */
            pgo_tuple_t old_tuple;
            pgo_tuple_t new_tuple;  /* Insert and Update */
        } change;
        struct { uint32_t nrelids; uint8_t flags; uint32_t *relids; } truncate;
        struct {
            uint8_t flags;          /* PGO_MESSAGE_TRANSACTIONAL */
            uint64_t lsn;
            const char *prefix;
            const uint8_t *content;
            uint32_t content_len;
        } message;
        struct { uint8_t first_segment; } stream_start;
        struct { uint32_t subxid; bool has_lsn; uint64_t abort_lsn; int64_t abort_time; } stream_abort;
        struct {
            uint8_t flags;
            uint64_t lsn, end_lsn;  /* prepare/commit LSN and end LSN */
            int64_t time;
            uint64_t rollback_end_lsn;
            int64_t rollback_time;
            const char *gid;
        } twophase;
    } u;
} pgo_msg_t;

/* Protocol state carried between messages: inside a Stream Start/Stop block, changes carry an xid. */
typedef struct pgo_state {
    int proto_version;
    bool in_stream;
} pgo_state_t;

/* Parses one pgoutput message; arrays (atts, cols, relids) come from arena a. The message must be
 * consumed exactly: trailing bytes are an error, as in PostgreSQL's pq_getmsgend. */
int pgo_parse(pgo_state_t *st, const uint8_t *data, size_t len, arena_t *a, pgo_msg_t *out,
              char *err, size_t errlen);

/* CopyData from a walsender: 'w' XLogData or 'k' primary keepalive. */
typedef struct pgo_copydata {
    char kind;
    uint64_t data_start;    /* 'w' */
    uint64_t wal_end;
    int64_t send_time;
    bool reply_requested;   /* 'k' */
    const uint8_t *payload; /* 'w' */
    size_t payload_len;
} pgo_copydata_t;

int pgo_parse_copydata(const uint8_t *data, size_t len, pgo_copydata_t *out, char *err, size_t errlen);
/* Standby status update 'r' message; writes 34 bytes. */
size_t pgo_build_status(uint8_t out[34], uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
                        int64_t now_pg_us, bool reply_requested);

/* LSN text "X/X" both ways. */
void pgo_lsn_format(uint64_t lsn, char out[32]);
bool pgo_lsn_parse(const char *s, uint64_t *lsn);

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define PGO_EPOCH_OFFSET_US INT64_C(946684800000000)

#endif
