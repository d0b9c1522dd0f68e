/* converter.h: key.converter / value.converter: turns a record's Connect values into bytes with the
 * JSON converter or the Confluent Avro converter (schema ids from the registry, subject names). */
#ifndef WALCAST_CONVERTER_H
#define WALCAST_CONVERTER_H

#include <stdbool.h>

#include "schemas/record.h"
#include "schemas/registry.h"
#include "schemas/status.h"

typedef enum { CONV_JSON, CONV_AVRO } conv_kind_t;
/* key/value.subject.name.strategy */
typedef enum { CONV_SUBJ_TOPIC, CONV_SUBJ_RECORD, CONV_SUBJ_TOPIC_RECORD } conv_subject_t;

/* One side (key or value) of the converter pair. */
typedef struct conv_side {
    conv_kind_t kind;
    bool schemas;                 /* JSON: *.converter.schemas.enable */
    bool meta;                    /* Avro: *.connect.meta.data */
    conv_subject_t subject;       /* Avro: *.subject.name.strategy */
    sr_client_t *registry;        /* Avro: borrowed, not freed by the converter */
} conv_side_t;

typedef struct conv conv_t;

conv_t *conv_new(const conv_side_t *key, const conv_side_t *value);
void conv_free(conv_t *c);
/* Encodes ev into out (whose bytes live in c until the next call). Avro asks the registry for the
 * schema id at the first record of each schema: WC_RETRY when told to stop while the registry is
 * away, WC_FATAL when it refuses or a name is not valid Avro, WC_PERMANENT when this record's value
 * cannot be written under its schema. */
wc_status_t conv_encode(conv_t *c, const rec_event_t *ev, rec_t *out, char *err, size_t errlen);
/* Requests the converter's registries sent so far (a change means a schema was registered). */
uint64_t conv_registry_requests(const conv_t *c);

#endif
