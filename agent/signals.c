/* signals.c: incremental snapshots for the snapshot module: Debezium's signals (execute-snapshot with
 * data-collections regexes and additional-conditions, stop-snapshot, pause-snapshot, resume-snapshot)
 * from the signal table (signal.data.collection, seen in the stream) and signal.kafka.topic; a bad signal
 * is logged and ignored. */
#include "agent/snapshot.h"
#include "agent/snapshot_int.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "agent/log.h"
#include "agent/replication.h"
#include "schemas/converter.h"

/* ---- incremental snapshots and signals ---- */

void snap_set_incremental(snap_t *s) { s->incremental = true; }

void snap_signal_free(snap_signal_t *sig)
{
    for (size_t i = 0; i < sig->collections.n; i++)
        regfree(&sig->collections.re[i]);
    free(sig->collections.re);
    snap_strv_free(sig->cond_table, sig->nconds);
    snap_strv_free(sig->cond_filter, sig->nconds);
    free(sig->message);
    memset(sig, 0, sizeof *sig);
}

static int add_regex(flt_list_t *l, const char *re, char *err, size_t errlen)
{
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "^(%s)$", re);
    l->re = xrealloc(l->re, (l->n + 1) * sizeof *l->re);
    int rc = regcomp(&l->re[l->n], buf_cstr(&b), REG_EXTENDED | REG_NOSUB);
    buf_free(&b);
    if (rc != 0) {
        char m[128];
        regerror(rc, &l->re[l->n], m, sizeof m);
        snprintf(err, errlen, "data-collections entry '%.200s' is not a valid regular expression: %s", re, m);
        return -1;
    }
    l->n++;
    return 0;
}

static void add_cond(snap_signal_t *sig, const char *table, const char *filter)
{
    sig->cond_table = xrealloc(sig->cond_table, (sig->nconds + 1) * sizeof *sig->cond_table);
    sig->cond_filter = xrealloc(sig->cond_filter, (sig->nconds + 1) * sizeof *sig->cond_filter);
    sig->cond_table[sig->nconds] = xstrdup(table);
    sig->cond_filter[sig->nconds] = xstrdup(filter);
    sig->nconds++;
}

int snap_signal_parse(const char *type, const char *data, snap_signal_t *sig, char *err, size_t errlen)
{
    memset(sig, 0, sizeof *sig);
    if (!type) {
        snprintf(err, errlen, "signal without a type");
        return -1;
    }
    if (strcmp(type, "execute-snapshot") == 0)
        sig->kind = SNAP_SIG_EXECUTE;
    else if (strcmp(type, "stop-snapshot") == 0)
        sig->kind = SNAP_SIG_STOP;
    else if (strcmp(type, "pause-snapshot") == 0)
        sig->kind = SNAP_SIG_PAUSE;
    else if (strcmp(type, "resume-snapshot") == 0)
        sig->kind = SNAP_SIG_RESUME;
    else if (strcmp(type, "log") == 0)
        sig->kind = SNAP_SIG_LOG;
    else {
        snprintf(err, errlen, "unknown signal type '%.100s' (walcast knows execute-snapshot, stop-snapshot, pause-snapshot, resume-snapshot, log)", type);
        return -1;
    }
    if (sig->kind == SNAP_SIG_PAUSE || sig->kind == SNAP_SIG_RESUME)
        return 0;
    json_error_t je;
    json_t *o = data && *data ? json_loads(data, 0, &je) : json_object();
    if (!o || !json_is_object(o)) {
        snprintf(err, errlen, "signal data is not a JSON object: %.200s", o ? "not an object" : je.text);
        json_decref(o);
        return -1;
    }
    int rc = -1;
    if (sig->kind == SNAP_SIG_LOG) {
        json_t *m = json_object_get(o, "message");
        sig->message = xstrdup(json_is_string(m) ? json_string_value(m) : "");
        rc = 0;
        goto out;
    }
    json_t *ty = json_object_get(o, "type");
    if (ty && (!json_is_string(ty) || strcasecmp(json_string_value(ty), "incremental") != 0)) {
        snprintf(err, errlen, "signal snapshot type %.100s is not implemented by walcast (only incremental)",
                 json_is_string(ty) ? json_string_value(ty) : "(not a string)");
        goto out;
    }
    json_t *dc = json_object_get(o, "data-collections");
    if (dc && !json_is_array(dc)) {
        snprintf(err, errlen, "signal data-collections must be an array of regular expressions");
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(dc, i, v) {
        if (!json_is_string(v) || !json_string_length(v)) {
            snprintf(err, errlen, "signal data-collections entry %zu is not a non-empty string", i);
            goto out;
        }
        if (add_regex(&sig->collections, json_string_value(v), err, errlen) < 0)
            goto out;
    }
    if (sig->kind == SNAP_SIG_EXECUTE && !sig->collections.n) {
        snprintf(err, errlen, "execute-snapshot signal without data-collections");
        goto out;
    }
    json_t *ac = json_object_get(o, "additional-conditions");
    json_array_foreach(ac, i, v) {
        json_t *t = json_object_get(v, "data-collection"), *f = json_object_get(v, "filter");
        if (!json_is_string(t) || !json_is_string(f)) {
            snprintf(err, errlen, "signal additional-conditions entry %zu needs data-collection and filter strings", i);
            goto out;
        }
        add_cond(sig, json_string_value(t), json_string_value(f));
    }
    json_t *one = json_object_get(o, "additional-condition");
    if (json_is_string(one) && json_string_length(one))
        add_cond(sig, "", json_string_value(one));
    rc = 0;
out:
    json_decref(o);
    if (rc < 0)
        snap_signal_free(sig);
    return rc;
}

const char *snap_signal_filter(const snap_signal_t *sig, const char *schema, const char *table)
{
    char full[1024];
    snprintf(full, sizeof full, "%s.%s", schema, table);
    for (size_t i = 0; i < sig->nconds; i++) {
        if (!sig->cond_table[i][0])
            return sig->cond_filter[i];
        /* data-collection is a regex in Debezium too */
        regex_t re;
        buf_t b;
        buf_init(&b);
        buf_printf(&b, "^(%s)$", sig->cond_table[i]);
        bool ok = regcomp(&re, buf_cstr(&b), REG_EXTENDED | REG_NOSUB) == 0;
        buf_free(&b);
        if (!ok)
            continue;
        bool m = regexec(&re, full, 0, NULL, 0) == 0;
        regfree(&re);
        if (m)
            return sig->cond_filter[i];
    }
    return NULL;
}

wc_status_t snap_signal_apply(snap_t *s, const snap_signal_t *sig, char *err, size_t errlen)
{
    switch (sig->kind) {
    case SNAP_SIG_LOG:
        log_info("signal: log", "connector=%s message=\"%s\"", s->cfg->name, log_esc(sig->message ? sig->message : ""));
        return WC_OK;
    case SNAP_SIG_PAUSE:
        s->paused = true;
        log_info("incremental snapshot paused (signal)", "connector=%s", s->cfg->name);
        return WC_OK;
    case SNAP_SIG_RESUME:
        s->paused = false;
        log_info("incremental snapshot resumed (signal)", "connector=%s", s->cfg->name);
        return WC_OK;
    case SNAP_SIG_STOP: {
        size_t stopped = 0;
        for (size_t i = 0; i < s->plan.nchunks; i++) {
            snap_chunk_t *c = &s->plan.chunks[i];
            const snap_table_t *t = &s->plan.tables[c->table];
            if (c->state != SNAP_TODO || (sig->collections.n && !snap_included(&sig->collections, t->schema, t->name)))
                continue;
            c->state = SNAP_DONE;
            stopped++;
        }
        /* chunks in flight are still to do: those just stopped are not emitted at their high watermark */
        for (size_t i = s->nwm; i-- > 0;)
            if (s->plan.chunks[s->wm[i]->chunk].state == SNAP_DONE)
                snap_wm_drop(s, i);
        log_info("incremental snapshot stopped (signal)", "connector=%s chunks_dropped=%zu", s->cfg->name, stopped);
        return WC_OK;
    }
    case SNAP_SIG_EXECUTE:
        break;
    }
    repl_t r;
    wc_status_t rc = repl_connect(&r, s->cfg, err, errlen);
    if (rc != WC_OK)
        return rc;
    size_t before_t = s->plan.ntables, before_c = s->plan.nchunks;
    if (!s->rels)
        s->rels = rel_cache_new(evt_table_free);
    if (s->finished) {
        /* a finished plan is replaced */
        snap_plan_free(&s->plan);
        free(s->relids);
        s->relids = NULL;
        before_t = before_c = 0;
    }
    if (snap_exec_ok(r.sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0 ||
        snap_plan_build(s, r.sql, true, sig, err, errlen) < 0) {
        repl_close(&r);
        return WC_RETRY;
    }
    snap_exec_ok(r.sql, "COMMIT", err, errlen);
    if (s->plan.ntables == before_t) {
        /* nothing to snapshot: no plan is started (none "completes" either: a "snapshot completed" with no
         * table, which a waiting user or script takes for the end of a snapshot still to come); a running one
         * goes on as it was */
        log_warn("execute-snapshot: no captured table matches data-collections; nothing to do", "connector=%s", s->cfg->name);
        if (!s->plan.nchunks)
            s->have_plan = false;
        repl_close(&r);
        return WC_OK;
    }
    s->have_plan = true;
    s->finished = s->completion_committing = false;
    if (!before_c)
        snap_prog_reset(s);
    else
        s->prog.tables_remaining += s->plan.ntables - before_t;
    s->prog.running = true;
    s->prog.tables_total = s->plan.ntables;
    s->prog.chunks_total = s->plan.nchunks;
    log_info("incremental snapshot requested (signal)", "connector=%s tables=%zu chunks=%zu", s->cfg->name,
             s->plan.ntables - before_t, s->plan.nchunks - before_c);
    repl_close(&r);
    return WC_OK;
}

bool snap_is_signal_table(const snap_t *s, const rel_table_t *t)
{
    return s && s->cfg->signal_source && snap_is_signal_name(s->cfg, t->nspname, t->relname);
}

static char *col_text(const rel_table_t *t, const pgo_tuple_t *tup, const char *name)
{
    int c = rel_column_index(t, name);
    if (c < 0 || (size_t)c >= tup->ncols || tup->cols[c].kind != PGO_COL_TEXT)
        return NULL;
    char *v = xmalloc(tup->cols[c].len + 1);
    memcpy(v, tup->cols[c].data, tup->cols[c].len);
    v[tup->cols[c].len] = 0;
    return v;
}

wc_status_t snap_signal_row(snap_t *s, const rel_table_t *t, const pgo_tuple_t *tup, char *err, size_t errlen)
{
    char *id = col_text(t, tup, "id"), *type = col_text(t, tup, "type"), *data = col_text(t, tup, "data");
    char perr[512];
    snap_signal_t sig;
    wc_status_t rc = WC_OK;
    if (snap_signal_parse(type, data, &sig, perr, sizeof perr) < 0) {
        log_warn("signal ignored", "connector=%s id=\"%s\" type=\"%s\" reason=\"%s\"", s->cfg->name, log_esc(id ? id : ""),
                 log_esc(type ? type : ""), log_esc(perr));
    } else {
        log_info("signal received", "connector=%s id=\"%s\" type=%s", s->cfg->name, log_esc(id ? id : ""), type);
        rc = snap_signal_apply(s, &sig, err, errlen);
        snap_signal_free(&sig);
    }
    free(id);
    free(type);
    free(data);
    return rc;
}

wc_status_t snap_signal_kafka_open(snap_t *s, const worker_config_t *w, char *err, size_t errlen)
{
    char e[512], group[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *bs = s->cfg->signal_bootstrap ? s->cfg->signal_bootstrap : w->bootstrap_servers;
    snprintf(group, sizeof group, "walcast-signal-%s", s->cfg->name);
    /* the producer's security settings apply here too */
    for (size_t i = 0; i < w->producer.n; i++) {
        const char *k = w->producer.kv[i].key;
        if (strncmp(k, "security.", 9) == 0 || strncmp(k, "sasl.", 5) == 0 || strncmp(k, "ssl.", 4) == 0)
            rd_kafka_conf_set(conf, k, w->producer.kv[i].value, e, sizeof e);
    }
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bs, e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", group, e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "signal.kafka consumer: %s", e);
        rd_kafka_conf_destroy(conf);
        return WC_RETRY;
    }
    s->sigrk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!s->sigrk) {
        snprintf(err, errlen, "cannot create the signal.kafka.topic consumer: %s", e);
        return WC_RETRY;
    }
    rd_kafka_poll_set_consumer(s->sigrk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, s->cfg->signal_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t ke = rd_kafka_subscribe(s->sigrk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (ke) {
        snprintf(err, errlen, "cannot subscribe to signal.kafka.topic %s: %s", s->cfg->signal_topic, rd_kafka_err2str(ke));
        return WC_RETRY;
    }
    log_info("listening for signals on Kafka", "connector=%s topic=%s", s->cfg->name, s->cfg->signal_topic);
    return WC_OK;
}

wc_status_t snap_signal_kafka_poll(snap_t *s, char *err, size_t errlen)
{
    if (!s || !s->sigrk)
        return WC_OK;
    for (int i = 0; i < 16; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->sigrk, 0);
        if (!m)
            return WC_OK;
        wc_status_t rc = WC_OK;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && m->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                log_warn("signal.kafka.topic consumer", "error=\"%s\"", log_esc(rd_kafka_message_errstr(m)));
        } else if (!m->key || m->key_len != strlen(s->cfg->topic_prefix) ||
                   memcmp(m->key, s->cfg->topic_prefix, m->key_len) != 0) {
            log_debug("signal for another connector ignored", "topic=%s", s->cfg->signal_topic);
        } else {
            json_error_t je;
            json_t *o = m->payload ? json_loadb(m->payload, m->len, 0, &je) : NULL;
            json_t *ty = o ? json_object_get(o, "type") : NULL, *data = o ? json_object_get(o, "data") : NULL;
            char *d = data ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            snap_signal_t sig;
            char perr[512];
            if (!json_is_string(ty))
                log_warn("signal ignored", "connector=%s channel=kafka reason=\"not a JSON object with a type\"", s->cfg->name);
            else if (snap_signal_parse(json_string_value(ty), d, &sig, perr, sizeof perr) < 0)
                log_warn("signal ignored", "connector=%s channel=kafka type=\"%s\" reason=\"%s\"", s->cfg->name,
                         log_esc(json_string_value(ty)), log_esc(perr));
            else {
                log_info("signal received", "connector=%s channel=kafka type=%s", s->cfg->name, json_string_value(ty));
                rc = snap_signal_apply(s, &sig, err, errlen);
                snap_signal_free(&sig);
            }
            free(d);
            json_decref(o);
        }
        rd_kafka_message_destroy(m);
        if (rc != WC_OK)
            return rc;
    }
    return WC_OK;
}
