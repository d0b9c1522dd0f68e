/* rest.c: Kafka Connect's REST API (ConnectorsResource, ConnectorPluginsResource, LoggingResource,
 * RootResource of Connect 4.x) over worker.c: routes, request bodies, Connect's answers and errors. */
#include "agent/rest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/log.h"
#include "agent/version.h"
#include "schemas/buf.h"

#define DEBEZIUM_VERSION "3.6.1.Final"
#define MAX_SEGMENTS 8

typedef struct plugin {
    const char *cls, *type;
} plugin_t;

static const plugin_t plugins[] = {
    { "io.debezium.connector.jdbc.JdbcSinkConnector", "sink" },
    { "io.debezium.connector.mongodb.MongoDbSinkConnector", "sink" },        /* Debezium 3.x's class */
    { "io.debezium.connector.mongodb.sink.MongoDbSinkConnector", "sink" },   /* the older name, still taken */
    { "io.debezium.connector.postgresql.PostgresConnector", "source" },
};

/* ---- answers -------------------------------------------------------------------------------- */

/* Takes j. */
static void reply(http_resp_t *r, int status, json_t *j)
{
    r->status = status;
    free(r->body);
    r->body = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
}

static void reply_error(http_resp_t *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_error(http_resp_t *r, int status, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* messages may quote request bytes: only valid UTF-8 goes into JSON */
    json_t *m = json_string(msg);
    if (!m)
        m = json_string("the request holds bytes that are not valid UTF-8");
    reply(r, status, json_pack("{s:i,s:o}", "error_code", status, "message", m));
}

static void not_found(http_resp_t *r, const char *name)
{
    reply_error(r, 404, "Connector %s not found", name);
}

static bool shown_plain(const char *key, const char *value)
{
    size_t n = strlen(value);
    /* a config provider reference (${file:/path:key}) is not the secret itself */
    return !cfg_is_secret_value(key, value) || (n > 3 && !strncmp(value, "${", 2) && value[n - 1] == '}');
}

static json_t *config_json(const cfg_map_t *m)
{
    json_t *o = json_object();
    for (size_t i = 0; i < m->n; i++) {
        const char *v = shown_plain(m->kv[i].key, m->kv[i].value) ? m->kv[i].value : REST_HIDDEN;
        json_t *s = json_string(v);
        json_object_set_new(o, m->kv[i].key, s ? s : json_string(""));
    }
    return o;
}

static json_t *info_json(const wrk_info_t *i)
{
    json_t *tasks = json_array();
    for (int t = 0; t < i->ntasks; t++)
        json_array_append_new(tasks, json_pack("{s:s,s:i}", "connector", i->name, "task", t));
    return json_pack("{s:s,s:o,s:o,s:s}", "name", i->name, "config", config_json(&i->config), "tasks", tasks, "type",
                     i->sink ? "sink" : "source");
}

static json_t *state_json(wrk_state_t s, const char *trace, const char *worker_id, int task_id)
{
    json_t *o = json_object();
    if (task_id >= 0)
        json_object_set_new(o, "id", json_integer(task_id));
    json_object_set_new(o, "state", json_string(wrk_state_name(s)));
    json_object_set_new(o, "worker_id", json_string(worker_id));
    json_object_set_new(o, "version", json_string(DEBEZIUM_VERSION));   /* Connect 4: the plugin's version */
    if (trace && s == WRK_FAILED) {
        json_t *t = json_string(trace);
        json_object_set_new(o, "trace", t ? t : json_string("(not valid UTF-8)"));
    }
    return o;
}

/* Task t's TaskState: its own (a sink's tasks in a cluster run on several workers) or the connector's task's. */
static json_t *task_json(const wrk_info_t *i, int t, const char *worker_id, bool restarting)
{
    const struct wrk_task_info *ti = i->tasks ? &i->tasks[t] : NULL;
    return state_json(restarting ? WRK_RESTARTING : ti ? ti->state : i->task_state, ti ? ti->trace : i->task_trace,
                      ti && ti->worker_id ? ti->worker_id : worker_id, t);
}

/* ConnectorStateInfo; restarting: the parts a restart is about to run again are shown RESTARTING. */
static json_t *status_json(const wrk_info_t *i, const char *worker_id, bool restarting)
{
    json_t *tasks = json_array();
    for (int t = 0; t < i->ntasks; t++)
        json_array_append_new(tasks, task_json(i, t, worker_id, restarting));
    return json_pack("{s:s,s:o,s:o,s:s}", "name", i->name, "connector",
                     state_json(restarting ? WRK_RESTARTING : i->state, i->trace, worker_id, -1), "tasks", tasks, "type",
                     i->sink ? "sink" : "source");
}

static void reply_rc(http_resp_t *r, wrk_rc_t rc, const char *name, const char *err)
{
    switch (rc) {
    case WRK_OK:
        r->status = 200;
        break;
    case WRK_NOT_FOUND:
        not_found(r, name);
        break;
    case WRK_EXISTS:
        reply_error(r, 409, "Connector %s already exists", name);
        break;
    case WRK_INVALID:
        reply_error(r, 400, "Connector configuration is invalid and contains the following 1 error(s):\n%s\n"
                    "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
                    err);
        break;
    case WRK_BAD_STATE:
        reply_error(r, 400, "%s", err);
        break;
    case WRK_STORE_FAILED:
        reply_error(r, 500, "%s", err);
        break;
    }
}

/* ---- request bodies ------------------------------------------------------------------------- */

/* The body as JSON, or a 400 already answered (NULL). */
static json_t *body_json(const http_req_t *q, http_resp_t *r)
{
    if (!q->body_len) {
        reply_error(r, 400, "Request body is empty: send a JSON document");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(q->body, q->body_len, 0, &je);
    if (!j) {
        /* jansson's text may quote the body ("near '…'"), which may hold a secret: position and kind only */
        char what[JSON_ERROR_TEXT_LENGTH];
        snprintf(what, sizeof what, "%s", je.text);
        char *near = strstr(what, " near ");
        if (near)
            *near = 0;
        reply_error(r, 400, "Request body is not valid JSON at line %d column %d: %s", je.line, je.column, what);
    }
    return j;
}

static int config_from(const json_t *j, cfg_map_t *m, cfg_map_t *nulls, http_resp_t *r)
{
    char err[512];
    if (cfg_map_from_json(j, m, nulls, err, sizeof err) < 0) {
        reply_error(r, 400, "Invalid connector configuration: %s", err);
        return -1;
    }
    return 0;
}

/* A secret shown as REST_HIDDEN and sent back unchanged (GET config, then PUT it) keeps its stored value. */
static void keep_hidden(rest_t *rs, const char *name, cfg_map_t *m)
{
    wrk_info_t old;
    if (wrk_info(rs->worker, name, &old) != WRK_OK)
        return;
    for (size_t i = 0; i < m->n; i++) {
        const char *was = cfg_get(&old.config, m->kv[i].key);
        if (was && cfg_is_secret_value(m->kv[i].key, was) && !strcmp(m->kv[i].value, REST_HIDDEN)) {
            free(m->kv[i].value);
            m->kv[i].value = xstrdup(was);
        }
    }
    wrk_info_free(&old);
}

static const char *arg(const http_req_t *q, const char *key)
{
    for (size_t i = 0; i < q->nargs; i++)
        if (!strcmp(q->args[2 * i], key))
            return q->args[2 * i + 1] ? q->args[2 * i + 1] : "";
    return NULL;
}

/* A boolean query parameter; -1 (answered 400) when it is neither true nor false. */
static int arg_bool(const http_req_t *q, const char *key, bool def, bool *out, http_resp_t *r)
{
    const char *v = arg(q, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!strcasecmp(v, "true") || !strcasecmp(v, "false")) {
        *out = !strcasecmp(v, "true");
        return 0;
    }
    reply_error(r, 400, "Query parameter %s must be true or false", key);
    return -1;
}

/* ---- /connectors ---------------------------------------------------------------------------- */

static void list_connectors(rest_t *rs, const http_req_t *q, http_resp_t *r)
{
    char **names;
    size_t n = wrk_names(rs->worker, &names);
    bool status = false, info = false, expand = false;
    for (size_t i = 0; i < q->nargs; i++)
        if (!strcmp(q->args[2 * i], "expand") && q->args[2 * i + 1]) {
            expand = true;
            status |= !strcmp(q->args[2 * i + 1], "status");
            info |= !strcmp(q->args[2 * i + 1], "info");
        }
    json_t *out = expand ? json_object() : json_array();
    for (size_t i = 0; i < n; i++) {
        if (!expand) {
            json_array_append_new(out, json_string(names[i]));
        } else {
            wrk_info_t wi;
            if (wrk_info(rs->worker, names[i], &wi) == WRK_OK) {   /* deleted meanwhile: left out, as Connect */
                json_t *e = json_object();
                if (status)
                    json_object_set_new(e, "status", status_json(&wi, wi.worker_id ? wi.worker_id : wrk_worker_id(rs->worker), false));
                if (info)
                    json_object_set_new(e, "info", info_json(&wi));
                json_object_set_new(out, names[i], e);
                wrk_info_free(&wi);
            }
        }
        free(names[i]);
    }
    free(names);
    reply(r, 200, out);
}

/* ConnectorInfo; a created connector is answered with no tasks yet, as Connect (whose tasks are
 * generated after the answer) does. */
static void answer_info(rest_t *rs, const char *name, int status, http_resp_t *r)
{
    wrk_info_t wi;
    if (wrk_info(rs->worker, name, &wi) != WRK_OK) {
        not_found(r, name);
        return;
    }
    int ntasks = wi.ntasks;
    if (status == 201)
        wi.ntasks = 0;
    reply(r, status, info_json(&wi));
    wi.ntasks = ntasks;   /* the tasks' strings are freed by their count */
    wrk_info_free(&wi);
}

static void set_location(http_resp_t *r, const char *name)
{
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "/connectors/%s", name);
    free(r->location);
    r->location = xstrdup(buf_cstr(&b));
    buf_free(&b);
}

/* Connect's check that a config's "name" is the URL's, then walcast's rule for names; -1 when answered. */
static int name_check(const cfg_map_t *m, const char *name, http_resp_t *r)
{
    char err[512];
    const char *in = cfg_get(m, "name");
    if (in && strcmp(in, name)) {
        reply_error(r, 400, "Connector name configuration (%s) doesn't match connector name in the URL (%s)", in, name);
        return -1;
    }
    if (!wrk_name_ok(name, err, sizeof err)) {
        reply_error(r, 400, "%s", err);
        return -1;
    }
    return 0;
}

static void create_connector(rest_t *rs, const http_req_t *q, http_resp_t *r)
{
    json_t *j = body_json(q, r);
    cfg_map_t m = { 0 };
    char err[2048];
    if (!j)
        return;
    if (!json_is_object(j)) {
        reply_error(r, 400, "Request body must be a JSON object: {\"name\":…,\"config\":{…}}");
        goto out;
    }
    json_t *jn = json_object_get(j, "name"), *jc = json_object_get(j, "config"), *js = json_object_get(j, "initial_state");
    if (jn && !json_is_string(jn) && !json_is_null(jn)) {
        reply_error(r, 400, "\"name\" must be a string");
        goto out;
    }
    if (!jc || !json_is_object(jc)) {
        reply_error(r, 400, "Connector config is missing: send {\"name\":…,\"config\":{…}}");
        goto out;
    }
    wrk_target_t initial = WRK_STARTED;
    if (js && !json_is_null(js)) {
        const char *s = json_is_string(js) ? json_string_value(js) : "";
        if (!strcmp(s, "RUNNING"))
            initial = WRK_STARTED;
        else if (!strcmp(s, "PAUSED"))
            initial = WRK_TARGET_PAUSED;
        else if (!strcmp(s, "STOPPED"))
            initial = WRK_TARGET_STOPPED;
        else {
            reply_error(r, 400, "initial_state must be RUNNING, PAUSED or STOPPED");
            goto out;
        }
    }
    /* Connect trims the name */
    char name[512];
    const char *raw = jn && json_is_string(jn) ? json_string_value(jn) : "";
    while (*raw == ' ' || *raw == '\t')
        raw++;
    snprintf(name, sizeof name, "%s", raw);
    for (size_t n = strlen(name); n && (name[n - 1] == ' ' || name[n - 1] == '\t');)
        name[--n] = 0;
    if (config_from(jc, &m, NULL, r) < 0)
        goto out;
    if (name_check(&m, name, r) < 0)
        goto out;
    bool created;
    wrk_rc_t rc = wrk_put(rs->worker, name, &m, initial, false, &created, err, sizeof err);
    if (rc != WRK_OK) {
        reply_rc(r, rc, name, err);
        goto out;
    }
    answer_info(rs, name, 201, r);
    set_location(r, name);
out:
    cfg_map_free(&m);
    json_decref(j);
}

/* PUT (replace) or PATCH (merge; null removes a key) of /connectors/{name}/config. */
static void put_config(rest_t *rs, const char *name, const http_req_t *q, bool patch, http_resp_t *r)
{
    json_t *j = body_json(q, r);
    cfg_map_t m = { 0 }, nulls = { 0 };
    char err[2048];
    if (!j)
        return;
    if (config_from(j, &m, patch ? &nulls : NULL, r) < 0)
        goto out;
    if (patch) {
        wrk_info_t old;
        if (wrk_info(rs->worker, name, &old) != WRK_OK) {
            not_found(r, name);
            goto out;
        }
        cfg_map_t merged = { 0 };
        for (size_t i = 0; i < old.config.n; i++)
            if (!cfg_get(&nulls, old.config.kv[i].key))
                cfg_map_set(&merged, old.config.kv[i].key, old.config.kv[i].value);
        for (size_t i = 0; i < m.n; i++)
            cfg_map_set(&merged, m.kv[i].key, m.kv[i].value);
        wrk_info_free(&old);
        cfg_map_free(&m);
        m = merged;
    }
    if (name_check(&m, name, r) < 0)
        goto out;
    keep_hidden(rs, name, &m);
    bool created;
    wrk_rc_t rc = wrk_put(rs->worker, name, &m, WRK_STARTED, true, &created, err, sizeof err);
    if (rc != WRK_OK) {
        reply_rc(r, rc, name, err);
        goto out;
    }
    answer_info(rs, name, created ? 201 : 200, r);
    if (created)
        set_location(r, name);
out:
    cfg_map_free(&m);
    cfg_map_free(&nulls);
    json_decref(j);
}

static void get_tasks(rest_t *rs, const char *name, http_resp_t *r)
{
    wrk_info_t wi;
    if (wrk_info(rs->worker, name, &wi) != WRK_OK) {
        not_found(r, name);
        return;
    }
    json_t *a = json_array();
    for (int t = 0; t < wi.ntasks; t++) {
        json_t *cfg = config_json(&wi.config);
        json_object_set_new(cfg, "task.class", json_string(cfg_task_class(&wi.config)));
        json_array_append_new(a, json_pack("{s:{s:s,s:i},s:o}", "id", "connector", name, "task", t, "config", cfg));
    }
    wrk_info_free(&wi);
    reply(r, 200, a);
}

/* The task number of a path segment: digits only (Jersey answers 404 for anything else). */
static int task_id(const char *s)
{
    if (!*s || strlen(s) > 9)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return atoi(s);
}

static void task_status(rest_t *rs, const char *name, const char *task, http_resp_t *r)
{
    wrk_info_t wi;
    int t = task_id(task);
    if (wrk_info(rs->worker, name, &wi) != WRK_OK || t < 0 || t >= wi.ntasks) {
        if (wi.name)
            wrk_info_free(&wi);
        reply_error(r, 404, "No status found for task %s-%s", name, task);
        return;
    }
    reply(r, 200, task_json(&wi, t, wi.worker_id ? wi.worker_id : wrk_worker_id(rs->worker), false));
    wrk_info_free(&wi);
}

static void restart(rest_t *rs, const char *name, const char *task, const http_req_t *q, http_resp_t *r)
{
    bool include_tasks = false, only_failed = false, restarted;
    if (task) {
        wrk_info_t wi;
        int t = task_id(task);
        if (wrk_info(rs->worker, name, &wi) != WRK_OK) {
            not_found(r, name);
            return;
        }
        bool known = t >= 0 && t < wi.ntasks;
        wrk_info_free(&wi);
        if (!known) {
            reply_error(r, 404, "Task %s-%s not found", name, task);
            return;
        }
    } else if (arg_bool(q, "includeTasks", false, &include_tasks, r) < 0 || arg_bool(q, "onlyFailed", false, &only_failed, r) < 0) {
        return;
    }
    wrk_info_t before;
    if (wrk_info(rs->worker, name, &before) != WRK_OK) {
        not_found(r, name);
        return;
    }
    char err[1024] = "";
    /* a task restart restarts the task, which is the connector's one thread */
    wrk_rc_t rc = wrk_restart(rs->worker, name, include_tasks || task, only_failed, &restarted, err, sizeof err);
    if (rc != WRK_OK) {
        wrk_info_free(&before);
        reply_rc(r, rc, name, err);
        return;
    }
    if (task || (!include_tasks && !only_failed)) {
        r->status = 204;   /* Connect: a plain restart answers 204 with no body */
    } else {
        /* Connect answers 202 with the plan: what is restarted shows RESTARTING */
        reply(r, 202, status_json(&before, before.worker_id ? before.worker_id : wrk_worker_id(rs->worker), restarted));
    }
    wrk_info_free(&before);
}

static void set_target(rest_t *rs, const char *name, wrk_target_t t, int status, http_resp_t *r)
{
    char err[1024] = "";
    wrk_rc_t rc = wrk_set_target(rs->worker, name, t, err, sizeof err);
    if (rc != WRK_OK) {
        reply_rc(r, rc, name, err);
        return;
    }
    r->status = status;
}

static void delete_connector(rest_t *rs, const char *name, http_resp_t *r)
{
    char err[1024] = "";
    wrk_rc_t rc = wrk_delete(rs->worker, name, err, sizeof err);
    if (rc != WRK_OK) {
        reply_rc(r, rc, name, err);
        return;
    }
    r->status = 204;
}

/* A number given as a JSON integer or as its text ("10" and 10 alike, as Connect); -1 when neither. */
static int json_whole(const json_t *v, long long max, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *t = json_string_value(v);
        char *end;
        if (!*t)
            return -1;
        *out = strtoll(t, &end, 10);
        if (*end)
            return -1;
    } else {
        return -1;
    }
    return *out >= 0 && *out <= max ? 0 : -1;
}

/* One sink offset of an alter request, checked as Connect's SinkUtils.parseSinkConnectorOffsets does, into
 * canonical form (numbers as JSON integers) appended to out; -1 when answered 400. */
static int sink_offset_entry(const json_t *p, const json_t *v, json_t *out, http_resp_t *r)
{
    if (!p || json_is_null(p)) {
        reply_error(r, 400, "The partition for a sink connector offset cannot be null or missing");
        return -1;
    }
    json_t *t = json_object_get(p, "kafka_topic"), *pn = json_object_get(p, "kafka_partition");
    if (!t || !pn) {
        reply_error(r, 400, "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'");
        return -1;
    }
    if (!json_is_string(t) || !*json_string_value(t)) {
        reply_error(r, 400, "Kafka topic names must be valid strings and may not be null");
        return -1;
    }
    long long part, off = 0;
    if (json_whole(pn, 2147483647LL, &part) < 0) {
        reply_error(r, 400, "Failed to parse a Kafka partition value in the provided offsets. Partition values for sink "
                    "connectors need to be integers.");
        return -1;
    }
    json_t *ko = v && json_is_object(v) ? json_object_get(v, "kafka_offset") : NULL;
    if (v && !json_is_null(v) && !ko) {
        reply_error(r, 400, "The offset for a sink connector should either be null or contain the key 'kafka_offset'");
        return -1;
    }
    if (ko && json_whole(ko, 9223372036854775807LL, &off) < 0) {
        reply_error(r, 400, "Failed to parse a Kafka offset value in the provided offsets. Offset values for sink connectors "
                    "need to be integers.");
        return -1;
    }
    json_array_append_new(out, json_pack("{s:{s:O,s:I},s:o}", "partition", "kafka_topic", t, "kafka_partition",
                                         (json_int_t)part, "offset",
                                         ko ? json_pack("{s:I}", "kafka_offset", (json_int_t)off) : json_null()));
    return 0;
}

/* GET (what 0), PATCH (1: alter) or DELETE (2: reset) /connectors/{n}/offsets, as Connect (KIP-875):
 * changes only while the connector is STOPPED. A source's are in the offsets topic; a walcast sink's are
 * the positions in its target's offsets table (the ones it starts from), in Connect's sink shape. */
static void offsets(rest_t *rs, const char *name, const http_req_t *q, int what, http_resp_t *r)
{
    wrk_info_t wi;
    char err[1024];
    json_t *j = NULL, *canon = NULL;
    if (wrk_info(rs->worker, name, &wi) != WRK_OK)
        return not_found(r, name);
    if (wi.sink ? !rs->sink_offsets.get : !rs->offsets.get) {
        reply_error(r, 501, wi.sink ? "the offsets endpoints of sinks are not wired in this build"
                                    : "the offsets endpoints need a real Kafka (bootstrap.servers), not the embedded one");
        goto out;
    }
    if (what == 0) {
        char *text = NULL;
        int rc = wi.sink ? rs->sink_offsets.get(rs->sink_offsets.ctx, &wi.config, &text, err, sizeof err)
                         : rs->offsets.get(rs->offsets.ctx, name, &text, err, sizeof err);
        if (rc < 0) {
            reply_error(r, 500, "%s", err);
            goto out;
        }
        json_t *a = json_loads(text, 0, NULL);
        free(text);
        reply(r, 200, json_pack("{s:o}", "offsets", a ? a : json_array()));
        goto out;
    }
    if (what == 1) {
        if (!(j = body_json(q, r)))
            goto out;
        json_t *o = json_is_object(j) ? json_object_get(j, "offsets") : NULL;
        if (!json_is_array(o) || !json_array_size(o)) {
            reply_error(r, 400, "Partitions / offsets need to be provided for an alter offsets request");
            goto out;
        }
        canon = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(o, i, e) {
            json_t *p = json_object_get(e, "partition"), *v = json_object_get(e, "offset");
            if (wi.sink) {
                if (sink_offset_entry(p, v, canon, r) < 0)
                    goto out;
            } else if (!json_is_object(p) || (v && !json_is_object(v) && !json_is_null(v))) {
                reply_error(r, 400, "offsets[%zu]: give {\"partition\":{…},\"offset\":{…}} (an offset null removes the "
                            "partition)", i);
                goto out;
            }
        }
        if (!wi.sink) {
            json_decref(canon);
            canon = json_incref(o);
        }
    }
    if (wi.target != WRK_TARGET_STOPPED) {
        reply_error(r, 400, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done "
                    "for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name);
        goto out;
    }
    int rc;
    if (what == 1) {
        char *text = json_dumps(canon, JSON_COMPACT | JSON_PRESERVE_ORDER);
        rc = wi.sink ? rs->sink_offsets.alter(rs->sink_offsets.ctx, &wi.config, text, err, sizeof err)
                     : rs->offsets.alter(rs->offsets.ctx, name, text, err, sizeof err);
        free(text);
    } else {
        rc = wi.sink ? rs->sink_offsets.reset(rs->sink_offsets.ctx, &wi.config, err, sizeof err)
                     : rs->offsets.reset(rs->offsets.ctx, name, err, sizeof err);
    }
    if (rc < 0) {
        reply_error(r, 500, "%s", err);
        goto out;
    }
    if (wi.sink) {   /* walcast's sink keeps its offsets itself, and they were changed: Connect's words for that */
        reply(r, 200, json_pack("{s:s++}", "message", "The offsets for this connector have been ", what == 1 ? "altered" : "reset",
                                " successfully"));
        goto out;
    }
    /* Debezium's connectors keep no offsets of their own: Connect's answer for that case */
    reply(r, 200, json_pack("{s:s+++}", "message", "The Connect framework-managed offsets for this connector have been ",
                            what == 1 ? "altered" : "reset", " successfully. However, if this connector manages offsets "
                            "externally, they will need to be manually ", what == 1 ? "altered in the system that the "
                            "connector uses." : "reset in the system that the connector uses."));
out:
    json_decref(canon);
    json_decref(j);
    wrk_info_free(&wi);
}

/* GET /connectors/{n}/topics and PUT …/topics/reset, as Connect: the active topics are kept by name in the
 * status store, so an unknown name answers 200 with none (and its reset 202). */
static void topics(rest_t *rs, const char *name, bool reset, http_resp_t *r)
{
    bool allow_reset;
    if (!wrk_topic_tracking(rs->worker, &allow_reset))
        return reply_error(r, 403, "Topic tracking is disabled.");
    if (reset) {
        if (!allow_reset)
            return reply_error(r, 403, "Topic tracking reset is disabled.");
        wrk_topics_reset(rs->worker, name);
        r->status = 202;
        return;
    }
    char **v;
    size_t n = wrk_topics(rs->worker, name, &v);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_string(v[i]);
        json_array_append_new(a, t ? t : json_string("(not valid UTF-8)"));
        free(v[i]);
    }
    free(v);
    json_t *o = json_object();
    json_object_set_new(o, name, json_pack("{s:o}", "topics", a));
    reply(r, 200, o);
}

static void connector_route(rest_t *rs, const http_req_t *q, char **seg, int nseg, http_resp_t *r)
{
    const char *m = q->method, *name = seg[1];
    const char *sub = nseg > 2 ? seg[2] : NULL;
    bool get = !strcmp(m, "GET"), put = !strcmp(m, "PUT"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE"),
         patch = !strcmp(m, "PATCH");
    wrk_info_t wi;
    if (nseg == 2) {
        if (get)
            answer_info(rs, name, 200, r);
        else if (del)
            delete_connector(rs, name, r);
        else
            goto not_allowed;
        return;
    }
    if (nseg == 3 && !strcmp(sub, "config")) {
        if (get) {
            if (wrk_info(rs->worker, name, &wi) != WRK_OK)
                return not_found(r, name);
            reply(r, 200, config_json(&wi.config));
            wrk_info_free(&wi);
        } else if (put || patch) {
            put_config(rs, name, q, patch, r);
        } else {
            goto not_allowed;
        }
        return;
    }
    if (nseg == 3 && !strcmp(sub, "status")) {
        if (!get)
            goto not_allowed;
        if (wrk_info(rs->worker, name, &wi) != WRK_OK)
            return not_found(r, name);
        reply(r, 200, status_json(&wi, wi.worker_id ? wi.worker_id : wrk_worker_id(rs->worker), false));
        wrk_info_free(&wi);
        return;
    }
    if (nseg == 3 && !strcmp(sub, "tasks")) {
        if (!get)
            goto not_allowed;
        return get_tasks(rs, name, r);
    }
    if (nseg == 3 && !strcmp(sub, "restart")) {
        if (!post)
            goto not_allowed;
        return restart(rs, name, NULL, q, r);
    }
    if (nseg == 3 && (!strcmp(sub, "pause") || !strcmp(sub, "resume") || !strcmp(sub, "stop"))) {
        if (!put)
            goto not_allowed;
        if (!strcmp(sub, "pause"))
            set_target(rs, name, WRK_TARGET_PAUSED, 202, r);
        else if (!strcmp(sub, "resume"))
            set_target(rs, name, WRK_STARTED, 202, r);
        else
            set_target(rs, name, WRK_TARGET_STOPPED, 204, r);
        return;
    }
    if (nseg == 5 && !strcmp(sub, "tasks") && !strcmp(seg[4], "status")) {
        if (!get)
            goto not_allowed;
        return task_status(rs, name, seg[3], r);
    }
    if (nseg == 5 && !strcmp(sub, "tasks") && !strcmp(seg[4], "restart")) {
        if (!post)
            goto not_allowed;
        return restart(rs, name, seg[3], q, r);
    }
    if (nseg == 3 && !strcmp(sub, "offsets")) {
        if (!get && !patch && !del)
            goto not_allowed;
        return offsets(rs, name, q, get ? 0 : patch ? 1 : 2, r);
    }
    if ((nseg == 3 && !strcmp(sub, "topics")) || (nseg == 4 && !strcmp(sub, "topics") && !strcmp(seg[3], "reset"))) {
        if (nseg == 3 ? !get : !put)
            goto not_allowed;
        return topics(rs, name, nseg == 4, r);
    }
    reply_error(r, 404, "HTTP 404 Not Found");
    return;
not_allowed:
    reply_error(r, 405, "HTTP 405 Method Not Allowed");
}

/* ---- /connector-plugins --------------------------------------------------------------------- */

/* The plugin named by its class, its simple name or its alias (Connect's "Postgres" for PostgresConnector). */
static const plugin_t *plugin_find(const char *name)
{
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++)   /* a class first: two share a simple name */
        if (!strcmp(name, plugins[i].cls))
            return &plugins[i];
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++) {
        const char *simple = strrchr(plugins[i].cls, '.') + 1;
        size_t sl = strlen(simple);
        if (!strcmp(name, plugins[i].cls) || !strcmp(name, simple) ||
            (sl > 9 && strlen(name) == sl - 9 && !strncmp(name, simple, sl - 9)))
            return &plugins[i];
    }
    return NULL;
}

/* ConfigKeyInfo: walcast knows each key's name and whether it is a secret, not Debezium's types,
 * defaults and groups (docs/compatibility.md). */
static json_t *key_info(const char *key, bool required, const char *doc)
{
    return json_pack("{s:s,s:s,s:b,s:n,s:s,s:s,s:n,s:s,s:s,s:[],s:i}", "name", key, "type",
                     cfg_is_secret(key) ? "PASSWORD" : "STRING", "required", required, "default_value", "importance",
                     required ? "HIGH" : "MEDIUM", "documentation", doc, "group", "width", "NONE", "display_name", key,
                     "dependents", "order", -1);
}

static void add_key_info(void *ctx, const char *key, cfg_key_use_t use)
{
    /* keys without a default (the source's are not sink keys) */
    static const char *const required_keys[] = { "name", "connector.class", "database.hostname", "database.user",
                                                  "database.dbname", "topic.prefix", NULL };
    bool required = false;
    for (int i = 0; required_keys[i] && !required; i++)
        required = !strcmp(key, required_keys[i]);
    const char *doc = use == CFG_KEY_IGNORED      ? "Accepted for compatibility with Debezium; walcast does not use it."
                      : use == CFG_KEY_DEFAULT_ONLY ? "Accepted only with Debezium's default value; walcast refuses others."
                                                    : "";
    json_array_append_new(ctx, key_info(key, required, doc));
}

/* ConfigInfo: errors holds the key's messages, one a line, or is NULL. */
static json_t *config_info(const char *key, const char *value, const char *errors)
{
    json_t *errs = json_array();
    for (const char *p = errors; p && *p;) {
        size_t n = strcspn(p, "\n");
        json_t *e = json_stringn(p, n);
        json_array_append_new(errs, e ? e : json_string("(not valid UTF-8)"));
        p += n + (p[n] == '\n');
    }
    json_t *v = value ? json_string(shown_plain(key, value) ? value : REST_HIDDEN) : json_null();
    return json_pack("{s:o,s:{s:s,s:o,s:[],s:o,s:b}}", "definition", key_info(key, false, ""), "value", "name", key, "value",
                     v ? v : json_null(), "recommended_values", "errors", errs, "visible", 1);
}

static void validate(rest_t *rs, const char *plugin, const http_req_t *q, http_resp_t *r)
{
    json_t *j = body_json(q, r);
    cfg_map_t m = { 0 };
    if (!j)
        return;
    if (config_from(j, &m, NULL, r) < 0)
        goto out;
    const char *cls = cfg_get(&m, "connector.class");
    const plugin_t *p = plugin_find(plugin);
    if (!p) {
        reply_error(r, 400, "Failed to find any class that implements Connector and which name matches %s, available connectors "
                    "are: io.debezium.connector.postgresql.PostgresConnector, io.debezium.connector.jdbc.JdbcSinkConnector, "
                    "io.debezium.connector.mongodb.MongoDbSinkConnector, io.debezium.connector.mongodb.sink.MongoDbSinkConnector",
                    plugin);
        goto out;
    }
    if (cls && plugin_find(cls) != p) {
        reply_error(r, 400, "Included connector type %s does not match request type %s", cls, plugin);
        goto out;
    }
    if (!cls)
        cfg_map_set(&m, "connector.class", p->cls);
    cfg_map_t errors = { 0 };
    int bad;
    if (rs->check) {
        bad = rs->check(rs->check_ctx, &m, &errors);
    } else {
        char err[2048];
        bool sink;
        bad = wrk_validate(rs->worker, &m, &sink, err, sizeof err) < 0;
        if (bad)
            cfg_map_set(&errors, "connector.class", err);
    }
    json_t *configs = json_array();
    for (size_t i = 0; i < m.n; i++)
        json_array_append_new(configs, config_info(m.kv[i].key, m.kv[i].value, cfg_get(&errors, m.kv[i].key)));
    for (size_t i = 0; i < errors.n; i++)   /* errors of keys the request left out (a missing required key) */
        if (!cfg_get(&m, errors.kv[i].key))
            json_array_append_new(configs, config_info(errors.kv[i].key, NULL, errors.kv[i].value));
    cfg_map_free(&errors);
    reply(r, 200, json_pack("{s:s,s:i,s:[s],s:o}", "name", p->cls, "error_count", bad, "groups", "Common", "configs", configs));
out:
    cfg_map_free(&m);
    json_decref(j);
}

static void plugins_route(rest_t *rs, const http_req_t *q, char **seg, int nseg, http_resp_t *r)
{
    bool get = !strcmp(q->method, "GET");
    if (nseg == 1) {
        if (!get)
            goto not_allowed;
        bool only;
        if (arg_bool(q, "connectorsOnly", true, &only, r) < 0)
            return;
        json_t *a = json_array();
        for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++)
            json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "class", plugins[i].cls, "type", plugins[i].type, "version",
                                               DEBEZIUM_VERSION));
        if (!only) {
            json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "class", "org.apache.kafka.connect.json.JsonConverter", "type",
                                               "converter", "version", WALCAST_VERSION));
            json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "class", "io.confluent.connect.avro.AvroConverter", "type",
                                               "converter", "version", WALCAST_VERSION));
        }
        reply(r, 200, a);
        return;
    }
    if (nseg == 3 && !strcmp(seg[2], "config")) {
        if (!get)
            goto not_allowed;
        const plugin_t *p = plugin_find(seg[1]);
        if (!p) {
            reply_error(r, 404, "Unknown plugin %s.", seg[1]);
            return;
        }
        json_t *a = json_array();
        cfg_known_keys(!strcmp(p->type, "sink"), add_key_info, a);
        reply(r, 200, a);
        return;
    }
    if (nseg == 4 && !strcmp(seg[2], "config") && !strcmp(seg[3], "validate")) {
        if (strcmp(q->method, "PUT"))
            goto not_allowed;
        return validate(rs, seg[1], q, r);
    }
    reply_error(r, 404, "HTTP 404 Not Found");
    return;
not_allowed:
    reply_error(r, 405, "HTTP 405 Method Not Allowed");
}

/* ---- /admin/loggers ------------------------------------------------------------------------- */

/* walcast has one level for the whole process: root and the loggers of walcast, Debezium and Kafka
 * all name it. */
static bool logger_known(const char *name)
{
    return !strcmp(name, "root") || !strncmp(name, "walcast", 7) || !strncmp(name, "io.debezium", 11) ||
           !strncmp(name, "org.apache.kafka", 16);
}

static const char *level_name(log_level_t l)
{
    static const char *const n[] = { "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };
    return (unsigned)l < 5 ? n[l] : "INFO";
}

static int64_t level_changed_ms;   /* 0: never changed through REST */

static json_t *level_json(void)
{
    int64_t t = __atomic_load_n(&level_changed_ms, __ATOMIC_RELAXED);
    return json_pack("{s:s,s:o}", "level", level_name(log_get_level()), "last_modified", t ? json_integer(t) : json_null());
}

static void loggers_route(const http_req_t *q, char **seg, int nseg, http_resp_t *r)
{
    bool get = !strcmp(q->method, "GET");
    if (nseg == 2) {
        if (!get)
            goto not_allowed;
        reply(r, 200, json_pack("{s:o}", "root", level_json()));
        return;
    }
    if (nseg != 3) {
        reply_error(r, 404, "HTTP 404 Not Found");
        return;
    }
    const char *name = seg[2];
    if (get) {
        if (!logger_known(name)) {
            reply_error(r, 404, "Logger %s not found.", name);
            return;
        }
        reply(r, 200, level_json());
        return;
    }
    if (strcmp(q->method, "PUT"))
        goto not_allowed;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("._$-", *c))) {
            reply_error(r, 400, "Invalid logger name: use a class or package name (letters, digits, . _ $ -)");
            return;
        }
    const char *scope = arg(q, "scope");
    if (scope && strcasecmp(scope, "worker") && strcasecmp(scope, "cluster")) {
        reply_error(r, 400, "Invalid scope '%s'; must be 'worker' or 'cluster'.", scope);
        return;
    }
    json_t *j = body_json(q, r);
    if (!j)
        return;
    json_t *lv = json_is_object(j) ? json_object_get(j, "level") : NULL;
    if (!lv || !json_is_string(lv)) {
        reply_error(r, 400, "Desired 'level' parameter was not specified in the request.");
        json_decref(j);
        return;
    }
    const char *s = json_string_value(lv);
    log_level_t l;
    if (!strcasecmp(s, "TRACE") || !strcasecmp(s, "DEBUG") || !strcasecmp(s, "ALL"))
        l = LOG_DEBUG;
    else if (!strcasecmp(s, "INFO"))
        l = LOG_INFO;
    else if (!strcasecmp(s, "WARN"))
        l = LOG_WARN;
    else if (!strcasecmp(s, "ERROR"))
        l = LOG_ERROR;
    else if (!strcasecmp(s, "FATAL") || !strcasecmp(s, "OFF"))
        l = LOG_FATAL;
    else {
        reply_error(r, 404, "invalid log level '%s'.", s);   /* Connect 4.4's code and words */
        json_decref(j);
        return;
    }
    json_decref(j);
    log_set_level(l);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    __atomic_store_n(&level_changed_ms, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, __ATOMIC_RELAXED);
    log_msg(l > LOG_INFO ? l : LOG_INFO, "log level changed through REST", "logger=%s level=%s", log_esc(name), level_name(l));
    if (scope && !strcasecmp(scope, "cluster")) {
        r->status = 204;   /* Connect: cluster scope answers 204 */
        return;
    }
    reply(r, 200, json_pack("[s]", logger_known(name) ? name : "root"));
    return;
not_allowed:
    reply_error(r, 405, "HTTP 405 Method Not Allowed");
}

/* ---- the router ----------------------------------------------------------------------------- */

void rest_handle(void *ctx, const http_req_t *q, http_resp_t *r)
{
    rest_t *rs = ctx;
    char path[4096];
    char *seg[MAX_SEGMENTS];
    int nseg = 0;
    if (strlen(q->path) >= sizeof path) {
        reply_error(r, 414, "Request path longer than %zu bytes", sizeof path - 1);
        return;
    }
    snprintf(path, sizeof path, "%s", q->path);
    for (char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        if (nseg == MAX_SEGMENTS) {
            reply_error(r, 404, "HTTP 404 Not Found");
            return;
        }
        seg[nseg++] = p;
        p += strcspn(p, "/");
        if (*p)
            *p++ = 0;
    }
    bool get = !strcmp(q->method, "GET");
    if (nseg == 0) {
        if (!get)
            goto not_allowed;
        reply(r, 200, json_pack("{s:s,s:s,s:s}", "version", WALCAST_VERSION, "commit", "walcast", "kafka_cluster_id",
                                rs->kafka_cluster_id ? rs->kafka_cluster_id : ""));
        return;
    }
    if (nseg == 1 && !strcmp(seg[0], "health")) {
        if (!get)
            goto not_allowed;
        reply(r, 200, json_pack("{s:s,s:s}", "status", "healthy", "message",
                                "Worker has completed startup and is ready to handle requests."));
        return;
    }
    if (!strcmp(seg[0], "connectors")) {
        if (nseg == 1) {
            if (get)
                list_connectors(rs, q, r);
            else if (!strcmp(q->method, "POST"))
                create_connector(rs, q, r);
            else
                goto not_allowed;
            return;
        }
        return connector_route(rs, q, seg, nseg, r);
    }
    if (!strcmp(seg[0], "connector-plugins"))
        return plugins_route(rs, q, seg, nseg, r);
    if (!strcmp(seg[0], "admin") && nseg >= 2 && !strcmp(seg[1], "loggers"))
        return loggers_route(q, seg, nseg, r);
    reply_error(r, 404, "HTTP 404 Not Found");
    return;
not_allowed:
    reply_error(r, 405, "HTTP 405 Method Not Allowed");
}
