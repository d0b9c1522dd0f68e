/* coder.h: one record through a source connector's transforms and converter: the encode half of the
 * publish step, for every thread that encodes (the connector thread, the snapshot readers, the stream's
 * encoder threads). Each thread has a coder of its own: converter caches, registry clients and transform
 * chains have no locks. */
#ifndef WALCAST_CODER_H
#define WALCAST_CODER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "schemas/converter.h"
#include "schemas/record.h"
#include "schemas/registry.h"
#include "schemas/status.h"
#include "schemas/transform.h"

/* How a thread waits while the schema registry is away (the reason lists each URL's failure, without
 * credentials): sleeps ms, serving what that thread must keep alive, and returns false when it is stopping. */
typedef bool (*coder_wait_fn)(void *ctx, int ms, const char *why);

typedef struct coder {
    const conn_config_t *cfg;
    const char *skip_msg;         /* the warning of a record skipped under errors.tolerance=all */
    bool log_registry;            /* logs "schema registry answered" after each registry request */
    conv_t *conv;
    sr_client_t *sr_key, *sr_value;   /* Avro converters' registry clients */
    coder_wait_fn wait;
    void *wait_ctx;
    uint64_t sr_requests;
    tf_chain_t *tf;               /* transforms=, NULL when none */
    arena_t *tf_arena;            /* the transformed record's values, reset at each record */
    _Atomic uint64_t skipped;     /* records a transform failed on, skipped (errors.tolerance=all) */
} coder_t;

/* coder_encode waits through wait(wait_ctx) while the registry (Avro) is away. false with err on invalid
 * registry settings (c is then safe to close). */
bool coder_open(coder_t *c, const conn_config_t *cfg, const char *skip_msg, bool log_registry, coder_wait_fn wait,
                void *wait_ctx, char *err, size_t errlen);
void coder_close(coder_t *c);
/* Transforms, then the converter: WC_OK with *out (valid until the next call on c), or WC_OK with
 * *none set when a transform dropped the record or failed on it under errors.tolerance=all (counted
 * and logged); any other failure as the transform or the converter classified it. While no registry URL
 * answers, waits (c->wait) and encodes again; WC_RETRY when the wait says stop. */
wc_status_t coder_encode(coder_t *c, const rec_event_t *ev, rec_t *out, bool *none, char *err, size_t errlen);
/* For a coder_wait_fn off the connector thread: sleeps ms in 50 ms steps; false as soon as quit(ctx). */
bool coder_nap(int ms, bool (*quit)(void *ctx), void *ctx);

#endif
