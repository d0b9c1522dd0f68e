/* transform.h: Kafka Connect single message transforms and predicates (transforms=, predicates=) run
 * natively over walcast's Connect values, with Kafka's and Debezium's semantics, before the converter. */
#ifndef WALCAST_TRANSFORM_H
#define WALCAST_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "schemas/buf.h"
#include "schemas/record.h"
#include "schemas/status.h"

/* One configuration key and its value (the connector's whole configuration may be given: only
 * transforms* and predicates* keys are read). */
typedef struct tf_kv {
    const char *key;
    const char *value;
} tf_kv_t;

/* The parsed chain: immutable after tf_spec_parse, shared by every thread of a connector. */
typedef struct tf_spec tf_spec_t;
/* One thread's chain: the spec and the schemas it derived (and their converter caches). */
typedef struct tf_chain tf_chain_t;

/* Parses transforms=/predicates= and their options. *out is NULL when transforms is unset or empty.
 * A bad configuration (unknown type or option, a value out of range, a regex that does not compile,
 * an unknown predicate) fails with a message naming the transform or predicate and the key. */
int tf_spec_parse(const tf_kv_t *kv, size_t n, tf_spec_t **out, char *err, size_t errlen);
void tf_spec_free(tf_spec_t *s);
/* The transform and predicate classes walcast runs, comma-separated (for messages and the README). */
const char *tf_supported(void);

tf_chain_t *tf_chain_new(const tf_spec_t *s);
void tf_chain_free(tf_chain_t *c);
/* True when the next tf_chain_apply starts the chain's caches over, freeing the schemas of earlier results:
 * a caller that keeps results (a sink's batch) applies them first. */
bool tf_chain_full(const tf_chain_t *c);

/* Runs the chain over ev. On WC_OK either *dropped is true (a transform or Filter removed the record)
 * or *out is the record to encode: its values live in arena a (valid until a is reset) or in ev, its
 * codecs in ev or in c (valid until the next call); err is empty, or a warning the caller logs (Debezium's
 * EventRouter warns of an update it skips, of a payload it could not expand). WC_PERMANENT: a transform cannot handle this record
 * (err names the transform and why); the caller sends it down its error path. */
wc_status_t tf_chain_apply(tf_chain_t *c, arena_t *a, const rec_event_t *ev, rec_event_t *out, bool *dropped,
                           char *err, size_t errlen);

#endif
