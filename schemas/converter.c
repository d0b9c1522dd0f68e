/* converter.c: JSON converter (schema part serialised once per schema, then copied) and Confluent
 * Avro converter (schema text and registry id once per schema) over schemas/json.c and avro.c. */
#include "schemas/converter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/avro.h"
#include "schemas/json.h"

struct conv {
    conv_side_t side[2];          /* 0 key, 1 value */
    buf_t kb, vb;
};

conv_t *conv_new(const conv_side_t *key, const conv_side_t *value)
{
    conv_t *c = xcalloc(1, sizeof *c);
    c->side[0] = *key;
    c->side[1] = *value;
    buf_init(&c->kb);
    buf_init(&c->vb);
    return c;
}

void conv_free(conv_t *c)
{
    if (!c)
        return;
    buf_free(&c->kb);
    buf_free(&c->vb);
    free(c);
}

uint64_t conv_registry_requests(const conv_t *c)
{
    uint64_t n = 0;
    for (int i = 0; i < 2; i++)
        if (c->side[i].registry && (i == 0 || c->side[1].registry != c->side[0].registry))
            n += sr_requests(c->side[i].registry);
    return n;
}

/* The schema text the side's converter needs, made once per schema (again when the codec was given
 * another schema: its registry id goes with the old text). */
static wc_status_t codec_ready(const conv_side_t *sd, rec_codec_t *k, char *err, size_t errlen)
{
    if (k->ready && k->uid == k->schema->uid)
        return WC_OK;
    if (k->ready)
        k->id = -1;
    k->ready = false;
    buf_reset(&k->text);
    if (sd->kind == CONV_JSON)
        json_enc_schema(&k->text, k->schema);
    else if (avro_enc_schema(&k->text, k->schema, sd->meta, err, errlen) < 0)
        return WC_FATAL;   /* a name Avro cannot take: every record of the table would fail */
    k->uid = k->schema->uid;
    k->ready = true;
    return WC_OK;
}

static wc_status_t encode_side(const conv_side_t *sd, bool key, rec_codec_t *k, const char *topic,
                               const cv_value_t *v, buf_t *out, char *err, size_t errlen)
{
    if (sd->kind == CONV_JSON) {
        if (!k->plan || json_plan_schema(k->plan) != k->schema || json_plan_uid(k->plan) != k->schema->uid) {
            json_plan_free(k->plan);
            k->plan = json_plan_new(k->schema);
        }
        wc_status_t st = sd->schemas ? codec_ready(sd, k, err, errlen) : WC_OK;   /* without schemas: no text */
        if (st == WC_OK)
            json_enc_envelope(out, sd->schemas ? k->text.data : NULL, k->text.len, k->plan, v);
        return st;
    }
    wc_status_t st = codec_ready(sd, k, err, errlen);
    if (st != WC_OK)
        return st;
    if (k->id < 0) {
        if (!sd->registry) {
            snprintf(err, errlen, "the Avro %s converter has no schema registry client", key ? "key" : "value");
            return WC_FATAL;
        }
        char subject[1024];
        const char *rec = k->schema->name ? k->schema->name : "io.confluent.connect.avro.ConnectDefault";
        switch (sd->subject) {
        case CONV_SUBJ_RECORD: snprintf(subject, sizeof subject, "%s", rec); break;
        case CONV_SUBJ_TOPIC_RECORD: snprintf(subject, sizeof subject, "%s-%s", topic, rec); break;
        default: snprintf(subject, sizeof subject, "%s-%s", topic, key ? "key" : "value"); break;
        }
        int32_t id;
        st = sr_schema_id(sd->registry, subject, k->text.data, k->text.len, &id, err, errlen);
        if (st != WC_OK)
            return st;
        k->id = id;
    }
    avro_enc_header(out, k->id);
    if (avro_enc_value(out, k->schema, v, err, errlen) < 0) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "cannot write an Avro %s for topic %s: %s", key ? "key" : "value", topic, tmp);
        return WC_PERMANENT;
    }
    return WC_OK;
}

wc_status_t conv_encode(conv_t *c, const rec_event_t *ev, rec_t *out, char *err, size_t errlen)
{
    /* every member but the header slots past nheaders (2 KB of headers cleared and copied per record
     * showed in the profile) */
    out->topic = ev->topic;
    out->key = out->value = NULL;
    out->keylen = out->valuelen = 0;
    out->op = ev->op;
    buf_reset(&c->kb);
    buf_reset(&c->vb);
    wc_status_t st;
    if (ev->kc && ev->key && !(ev->key->null && c->side[0].kind == CONV_AVRO)) {
        if ((st = encode_side(&c->side[0], true, ev->kc, ev->topic, ev->key, &c->kb, err, errlen)) != WC_OK)
            return st;
        out->key = c->kb.data;
        out->keylen = c->kb.len;
    }
    /* a null value under a schema (a transform's): JsonConverter writes it, the Avro serializer sends a
     * Kafka null without registering anything */
    if (ev->vc && ev->value && !(ev->value->null && c->side[1].kind == CONV_AVRO)) {
        if ((st = encode_side(&c->side[1], false, ev->vc, ev->topic, ev->value, &c->vb, err, errlen)) != WC_OK)
            return st;
        out->value = c->vb.data;
        out->valuelen = c->vb.len;
    }
    memcpy(out->headers, ev->headers, (size_t)ev->nheaders * sizeof out->headers[0]);
    out->nheaders = ev->nheaders;
    out->has_partition = ev->has_partition;
    out->partition = ev->partition;
    out->has_ts = ev->has_ts;
    out->ts_ms = ev->ts_ms;
    return WC_OK;
}
