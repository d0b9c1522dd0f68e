/* test_rest.c: the Connect REST API over a worker that runs no threads: routes, status codes, body shapes,
 * Connect's error bodies, secrets masked (and kept on a GET-then-PUT round trip), bad requests of every kind. */
#include "tests/unit/testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <time.h>

#include "agent/check.h"
#include "agent/log.h"
#include "agent/rest.h"
#include "agent/worker.h"

static const char *pg_config =
    "{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",\"database.hostname\":\"db\","
    "\"database.user\":\"u\",\"database.password\":\"s3cret\",\"database.dbname\":\"app\",\"topic.prefix\":\"srv\"}";

typedef struct answer {
    int status;
    json_t *j;
    char *location;
    char *raw;
} answer_t;

/* One request: "METHOD /path?k=v&k=v" and a body (or NULL). */
static answer_t call(rest_t *rs, const char *method, const char *target, const char *body)
{
    char path[8192], *args[64];
    size_t nargs = 0;
    snprintf(path, sizeof path, "%s", target);
    char *q = strchr(path, '?');
    if (q) {
        *q++ = 0;
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && nargs < 32; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq)
                *eq++ = 0;
            args[2 * nargs] = kv;
            args[2 * nargs + 1] = eq;
            nargs++;
        }
    }
    http_req_t rq = { .method = method, .path = path, .args = (const char *const *)args, .nargs = nargs,
                      .body = body ? body : "", .body_len = body ? strlen(body) : 0 };
    http_resp_t rp = { 0 };
    rest_handle(rs, &rq, &rp);
    answer_t a = { .status = rp.status, .location = rp.location, .raw = rp.body };
    if (rp.body)
        a.j = json_loads(rp.body, JSON_DECODE_ANY, NULL);
    return a;
}

static void done(answer_t *a)
{
    json_decref(a->j);
    free(a->location);
    free(a->raw);
}

static const char *str_at(json_t *j, const char *path)
{
    char p[256];
    snprintf(p, sizeof p, "%s", path);
    for (char *save = NULL, *k = strtok_r(p, "/", &save); k && j; k = strtok_r(NULL, "/", &save))
        j = json_is_array(j) ? json_array_get(j, (size_t)atoi(k)) : json_object_get(j, k);
    return j && json_is_string(j) ? json_string_value(j) : NULL;
}

/* An error body in Connect's shape: {"error_code": status, "message": "..."} */
static void expect_error(answer_t a, int status, const char *fragment)
{
    assert_int_equal(a.status, status);
    assert_non_null(a.j);
    assert_int_equal(json_integer_value(json_object_get(a.j, "error_code")), status);
    const char *m = str_at(a.j, "message");
    assert_non_null(m);
    if (fragment && !strstr(m, fragment))
        fail_msg("message '%s' lacks '%s'", m, fragment);
    done(&a);
}

static void expect_status(answer_t a, int status)
{
    if (a.status != status)
        fail_msg("status %d, expected %d: %s", a.status, status, a.raw ? a.raw : "");
    done(&a);
}

/* walcast check's configuration checks behind validate, as main wires them (offline: no servers here) */
static int check_offline(void *ctx, const cfg_map_t *config, cfg_map_t *errors)
{
    (void)ctx;
    chk_list_t l = { 0 };
    chk_opts_t o = { .offline = true };
    chk_connector(NULL, NULL, config, &o, &l);
    int n = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!l.v[i].ok) {
            cfg_map_set(errors, l.v[i].key, l.v[i].message);
            n++;
        }
    chk_list_free(&l);
    return n;
}

static int setup(void **state)
{
    log_set_level(LOG_FATAL);
    rest_t *rs = calloc(1, sizeof *rs);
    rs->worker = wrk_new(NULL, "127.0.0.1:8083", NULL, NULL);
    rs->check = check_offline;
    *state = rs;
    return 0;
}

static int teardown(void **state)
{
    rest_t *rs = *state;
    wrk_free(rs->worker);
    free(rs);
    return 0;
}

static void create_pg(rest_t *rs, const char *name)
{
    char body[2048];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"config\":%s}", name, pg_config);
    expect_status(call(rs, "POST", "/connectors", body), 201);
}

static void test_root_and_health(void **state)
{
    rest_t *rs = *state;
    answer_t a = call(rs, "GET", "/", NULL);
    assert_int_equal(a.status, 200);
    assert_non_null(str_at(a.j, "version"));
    assert_non_null(str_at(a.j, "commit"));
    assert_non_null(str_at(a.j, "kafka_cluster_id"));
    done(&a);
    a = call(rs, "GET", "/health", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "status"), "healthy");
    done(&a);
    expect_error(call(rs, "POST", "/", "{}"), 405, "Method Not Allowed");
    expect_error(call(rs, "GET", "/nothing/here", NULL), 404, "Not Found");
    expect_error(call(rs, "BREW", "/connectors", NULL), 405, NULL);
}

static void test_create_get_delete(void **state)
{
    rest_t *rs = *state;
    char body[2048];
    snprintf(body, sizeof body, "{\"name\":\"inv\",\"config\":%s}", pg_config);
    answer_t a = call(rs, "POST", "/connectors", body);
    assert_int_equal(a.status, 201);
    assert_string_equal(a.location, "/connectors/inv");
    assert_string_equal(str_at(a.j, "name"), "inv");
    assert_string_equal(str_at(a.j, "type"), "source");
    assert_string_equal(str_at(a.j, "config/name"), "inv");
    assert_string_equal(str_at(a.j, "config/database.password"), REST_HIDDEN);
    assert_null(strstr(a.raw, "s3cret"));
    assert_int_equal(json_array_size(json_object_get(a.j, "tasks")), 0);   /* Connect: no tasks yet in the answer */
    done(&a);
    expect_error(call(rs, "POST", "/connectors", body), 409, "Connector inv already exists");

    a = call(rs, "GET", "/connectors", NULL);
    assert_int_equal(a.status, 200);
    assert_true(json_is_array(a.j));
    assert_string_equal(str_at(a.j, "0"), "inv");
    done(&a);
    a = call(rs, "GET", "/connectors?expand=status&expand=info", NULL);
    assert_string_equal(str_at(a.j, "inv/status/connector/state"), "RUNNING");
    assert_string_equal(str_at(a.j, "inv/status/connector/worker_id"), "127.0.0.1:8083");
    assert_string_equal(str_at(a.j, "inv/info/config/database.password"), REST_HIDDEN);
    done(&a);
    a = call(rs, "GET", "/connectors?expand=status", NULL);
    assert_null(json_object_get(json_object_get(a.j, "inv"), "info"));
    assert_string_equal(str_at(a.j, "inv/status/tasks/0/state"), "RUNNING");
    done(&a);

    a = call(rs, "GET", "/connectors/inv/config", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "database.password"), REST_HIDDEN);
    done(&a);
    a = call(rs, "GET", "/connectors/inv/tasks", NULL);
    assert_string_equal(str_at(a.j, "0/id/connector"), "inv");
    assert_string_equal(str_at(a.j, "0/config/task.class"), "io.debezium.connector.postgresql.PostgresConnectorTask");
    assert_string_equal(str_at(a.j, "0/config/database.password"), REST_HIDDEN);
    done(&a);
    a = call(rs, "GET", "/connectors/inv/tasks/0/status", NULL);
    assert_int_equal(json_integer_value(json_object_get(a.j, "id")), 0);
    assert_string_equal(str_at(a.j, "state"), "RUNNING");
    done(&a);
    expect_error(call(rs, "GET", "/connectors/inv/tasks/1/status", NULL), 404, "inv-1");
    expect_error(call(rs, "GET", "/connectors/inv/tasks/x/status", NULL), 404, NULL);

    expect_status(call(rs, "DELETE", "/connectors/inv", NULL), 204);
    expect_error(call(rs, "GET", "/connectors/inv", NULL), 404, "Connector inv not found");
    expect_error(call(rs, "DELETE", "/connectors/inv", NULL), 404, "Connector inv not found");
}

static void test_unknown_connector(void **state)
{
    rest_t *rs = *state;
    static const char *const reqs[][2] = {
        { "GET", "/connectors/nope" },          { "GET", "/connectors/nope/config" },
        { "GET", "/connectors/nope/status" },   { "GET", "/connectors/nope/tasks" },
        { "PUT", "/connectors/nope/pause" },    { "PUT", "/connectors/nope/resume" },
        { "PUT", "/connectors/nope/stop" },     { "POST", "/connectors/nope/restart" },
        { "POST", "/connectors/nope/tasks/0/restart" }, { "DELETE", "/connectors/nope" },
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        expect_error(call(rs, reqs[i][0], reqs[i][1], NULL), 404, "Connector nope not found");
    expect_error(call(rs, "PATCH", "/connectors/nope/config", "{\"a\":\"b\"}"), 404, "Connector nope not found");
}

static void test_put_patch_config(void **state)
{
    rest_t *rs = *state;
    expect_status(call(rs, "PUT", "/connectors/pc/config", pg_config), 201);
    answer_t a = call(rs, "PUT", "/connectors/pc/config", pg_config);
    assert_int_equal(a.status, 200);
    assert_null(a.location);
    done(&a);
    /* GET then PUT back: the masked secret keeps its stored value */
    a = call(rs, "GET", "/connectors/pc/config", NULL);
    char *shown = json_dumps(a.j, JSON_COMPACT);
    done(&a);
    expect_status(call(rs, "PUT", "/connectors/pc/config", shown), 200);
    free(shown);
    wrk_info_t wi;
    assert_int_equal(wrk_info(rs->worker, "pc", &wi), WRK_OK);
    assert_string_equal(cfg_get(&wi.config, "database.password"), "s3cret");
    wrk_info_free(&wi);
    /* PATCH merges; null removes a key */
    a = call(rs, "PATCH", "/connectors/pc/config", "{\"snapshot.mode\":\"never\",\"topic.prefix\":\"two\",\"database.password\":null}");
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "config/snapshot.mode"), "never");
    assert_string_equal(str_at(a.j, "config/topic.prefix"), "two");
    assert_null(json_object_get(json_object_get(a.j, "config"), "database.password"));
    done(&a);
    expect_error(call(rs, "PUT", "/connectors/pc/config", "{\"name\":\"other\"}"), 400,
                 "Connector name configuration (other) doesn't match connector name in the URL (pc)");
    expect_error(call(rs, "PATCH", "/connectors/pc/config", "{\"snapshot.mode\":\"bogus\"}"), 400,
                 "Connector configuration is invalid and contains the following 1 error(s):");
    a = call(rs, "GET", "/connectors/pc/config", NULL);
    assert_string_equal(str_at(a.j, "snapshot.mode"), "never");   /* a refused change changes nothing */
    done(&a);
    expect_error(call(rs, "PUT", "/connectors/pc/config", "{\"a\":{\"b\":1}}"), 400, "\"a\"");
    expect_error(call(rs, "PUT", "/connectors/pc/config", "[1,2]"), 400, NULL);
}

static void test_lifecycle(void **state)
{
    rest_t *rs = *state;
    create_pg(rs, "lc");
    expect_status(call(rs, "PUT", "/connectors/lc/pause", NULL), 202);
    answer_t a = call(rs, "GET", "/connectors/lc/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "PAUSED");
    assert_string_equal(str_at(a.j, "tasks/0/state"), "PAUSED");
    done(&a);
    expect_status(call(rs, "PUT", "/connectors/lc/pause", NULL), 202);   /* idempotent */
    expect_status(call(rs, "PUT", "/connectors/lc/resume", NULL), 202);
    a = call(rs, "GET", "/connectors/lc/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "RUNNING");
    done(&a);
    expect_status(call(rs, "PUT", "/connectors/lc/stop", NULL), 204);
    a = call(rs, "GET", "/connectors/lc/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "STOPPED");
    assert_int_equal(json_array_size(json_object_get(a.j, "tasks")), 0);
    done(&a);
    a = call(rs, "GET", "/connectors/lc", NULL);
    assert_int_equal(json_array_size(json_object_get(a.j, "tasks")), 0);
    done(&a);
    expect_status(call(rs, "PUT", "/connectors/lc/resume", NULL), 202);
    /* restart: 204 alone, 202 with the plan when includeTasks or onlyFailed is given */
    expect_status(call(rs, "POST", "/connectors/lc/restart", NULL), 204);
    a = call(rs, "POST", "/connectors/lc/restart?includeTasks=true", NULL);
    assert_int_equal(a.status, 202);
    assert_string_equal(str_at(a.j, "connector/state"), "RESTARTING");
    assert_string_equal(str_at(a.j, "tasks/0/state"), "RESTARTING");
    done(&a);
    a = call(rs, "POST", "/connectors/lc/restart?includeTasks=true&onlyFailed=true", NULL);
    assert_int_equal(a.status, 202);
    assert_string_equal(str_at(a.j, "connector/state"), "RUNNING");   /* nothing failed: nothing restarted */
    done(&a);
    expect_error(call(rs, "POST", "/connectors/lc/restart?includeTasks=maybe", NULL), 400, "includeTasks");
    expect_status(call(rs, "POST", "/connectors/lc/tasks/0/restart", NULL), 204);
    expect_error(call(rs, "POST", "/connectors/lc/tasks/7/restart", NULL), 404, "Task lc-7 not found");
    expect_error(call(rs, "GET", "/connectors/lc/pause", NULL), 405, NULL);
    /* created paused or stopped */
    char body[2048];
    snprintf(body, sizeof body, "{\"name\":\"ps\",\"config\":%s,\"initial_state\":\"PAUSED\"}", pg_config);
    expect_status(call(rs, "POST", "/connectors", body), 201);
    a = call(rs, "GET", "/connectors/ps/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "PAUSED");
    done(&a);
    snprintf(body, sizeof body, "{\"name\":\"ps2\",\"config\":%s,\"initial_state\":\"SLEEPING\"}", pg_config);
    expect_error(call(rs, "POST", "/connectors", body), 400, "initial_state");
}

static void test_bad_requests(void **state)
{
    rest_t *rs = *state;
    expect_error(call(rs, "POST", "/connectors", "{bad"), 400, "not valid JSON");
    expect_error(call(rs, "POST", "/connectors", NULL), 400, "empty");
    expect_error(call(rs, "POST", "/connectors", "{\"name\":\"x\"}"), 400, "config");
    expect_error(call(rs, "POST", "/connectors", "{\"name\":\"x\",\"config\":{\"name\":\"y\"}}"), 400, "doesn't match");
    expect_error(call(rs, "POST", "/connectors", "{\"name\":\"x\",\"config\":{\"database.hostname\":\"h\"}}"), 400,
                 "connector type");
    expect_error(call(rs, "POST", "/connectors", "\"just a string\""), 400, NULL);
    /* invalid UTF-8, and a password in a broken body is never echoed */
    expect_error(call(rs, "POST", "/connectors", "{\"name\":\"\xff\xfe\"}"), 400, "not valid JSON");
    answer_t a = call(rs, "POST", "/connectors", "{\"name\":\"x\",\"config\":{\"database.password\":\"hunter2\" oops}}");
    assert_int_equal(a.status, 400);
    assert_null(strstr(a.raw, "hunter2"));
    done(&a);
    /* deeply nested */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = 0;
    expect_error(call(rs, "POST", "/connectors", deep), 400, NULL);
    expect_error(call(rs, "PUT", "/connector-plugins/Postgres/config/validate", deep), 400, NULL);
    free(deep);
    /* names that cannot be a connector's */
    static const char *const bad[] = { "a b", "a\"b", "a'b", "..", "a..b", "a\\b", "tab\tx", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[2048];
        json_t *n = json_string(bad[i]);
        char *ns = json_dumps(n, JSON_ENCODE_ANY);
        snprintf(body, sizeof body, "{\"name\":%s,\"config\":%s}", ns, pg_config);
        free(ns);
        json_decref(n);
        a = call(rs, "POST", "/connectors", body);
        if (a.status != 400)
            fail_msg("name '%s' got %d", bad[i], a.status);
        done(&a);
    }
    expect_error(call(rs, "PUT", "/connectors/a b/config", pg_config), 400, "not allowed");
    expect_error(call(rs, "PUT", "/connectors/../config", pg_config), 400, "..");
    /* a slash in the name is another path: Jersey's 404 */
    expect_error(call(rs, "PUT", "/connectors/a/b/config", pg_config), 404, NULL);
    a = call(rs, "GET", "/connectors", NULL);
    assert_int_equal(json_array_size(a.j), 0);   /* nothing was created by any of these */
    done(&a);
    char longpath[6000];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    expect_error(call(rs, "GET", longpath, NULL), 414, NULL);
}

static void test_many_connectors(void **state)
{
    rest_t *rs = *state;
    cfg_map_t m = { 0 };
    char err[512];
    assert_int_equal(cfg_parse_json(pg_config, &m, err, sizeof err), 0);
    for (int i = 0; i < 10000; i++) {
        char name[32];
        bool created;
        snprintf(name, sizeof name, "c%05d", i);
        cfg_map_set(&m, "name", name);
        assert_int_equal(wrk_put(rs->worker, name, &m, WRK_STARTED, false, &created, err, sizeof err), WRK_OK);
    }
    cfg_map_free(&m);
    answer_t a = call(rs, "GET", "/connectors", NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(json_array_size(a.j), 10000);
    assert_string_equal(str_at(a.j, "9999"), "c09999");
    done(&a);
    a = call(rs, "GET", "/connectors?expand=status", NULL);
    assert_int_equal(json_object_size(a.j), 10000);
    done(&a);
}

static void test_validate_and_plugins(void **state)
{
    rest_t *rs = *state;
    answer_t a = call(rs, "GET", "/connector-plugins", NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(json_array_size(a.j), 4);
    /* MongoDB: Debezium 3.x's class and the older one, both taken (issue 17 item 8) */
    assert_string_equal(str_at(a.j, "1/class"), "io.debezium.connector.mongodb.MongoDbSinkConnector");
    assert_string_equal(str_at(a.j, "1/type"), "sink");
    assert_string_equal(str_at(a.j, "2/class"), "io.debezium.connector.mongodb.sink.MongoDbSinkConnector");
    assert_string_equal(str_at(a.j, "3/class"), "io.debezium.connector.postgresql.PostgresConnector");
    assert_string_equal(str_at(a.j, "3/type"), "source");
    done(&a);
    a = call(rs, "PUT", "/connector-plugins/io.debezium.connector.mongodb.MongoDbSinkConnector/config/validate",
             "{\"name\":\"m\",\"connector.class\":\"io.debezium.connector.mongodb.MongoDbSinkConnector\",\"topics\":\"t\","
             "\"mongodb.connection.string\":\"mongodb://h\",\"sink.database\":\"d\"}");
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "name"), "io.debezium.connector.mongodb.MongoDbSinkConnector");
    assert_int_equal(json_integer_value(json_object_get(a.j, "error_count")), 0);
    done(&a);
    a = call(rs, "GET", "/connector-plugins?connectorsOnly=false", NULL);
    assert_true(json_array_size(a.j) > 3);
    done(&a);
    a = call(rs, "PUT", "/connector-plugins/PostgresConnector/config/validate",
             "{\"name\":\"v\",\"database.hostname\":\"h\",\"database.user\":\"u\",\"database.dbname\":\"d\","
             "\"topic.prefix\":\"p\",\"snapshot.mode\":\"bogus\",\"database.password\":\"pw\"}");
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "name"), "io.debezium.connector.postgresql.PostgresConnector");
    assert_int_equal(json_integer_value(json_object_get(a.j, "error_count")), 1);
    json_t *configs = json_object_get(a.j, "configs");
    size_t i;
    json_t *c;
    bool seen = false;
    json_array_foreach(configs, i, c) {
        const char *k = str_at(c, "definition/name");
        json_t *errs = json_object_get(json_object_get(c, "value"), "errors");
        if (!strcmp(k, "snapshot.mode")) {
            assert_int_equal(json_array_size(errs), 1);
            seen = true;
        } else {
            assert_int_equal(json_array_size(errs), 0);
        }
        if (!strcmp(k, "database.password"))
            assert_string_equal(str_at(c, "value/value"), REST_HIDDEN);
    }
    assert_true(seen);
    assert_null(strstr(a.raw, "\"pw\""));
    done(&a);
    a = call(rs, "PUT", "/connector-plugins/Postgres/config/validate",
             "{\"name\":\"v\",\"database.hostname\":\"h\",\"database.user\":\"u\",\"database.dbname\":\"d\",\"topic.prefix\":\"p\"}");
    assert_int_equal(json_integer_value(json_object_get(a.j, "error_count")), 0);
    done(&a);
    expect_error(call(rs, "PUT", "/connector-plugins/Postgres/config/validate",
                      "{\"connector.class\":\"io.debezium.connector.jdbc.JdbcSinkConnector\"}"), 400, "does not match");
    expect_error(call(rs, "PUT", "/connector-plugins/NoSuch/config/validate", "{}"), 400, "NoSuch");
}

static void test_loggers(void **state)
{
    rest_t *rs = *state;
    answer_t a = call(rs, "GET", "/admin/loggers", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "root/level"), "FATAL");
    done(&a);
    a = call(rs, "PUT", "/admin/loggers/io.debezium", "{\"level\":\"ERROR\"}");
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "0"), "io.debezium");
    done(&a);
    assert_int_equal(log_get_level(), LOG_ERROR);
    a = call(rs, "GET", "/admin/loggers/root", NULL);
    assert_string_equal(str_at(a.j, "level"), "ERROR");
    assert_true(json_is_integer(json_object_get(a.j, "last_modified")));
    done(&a);
    expect_error(call(rs, "PUT", "/admin/loggers/root", "{\"level\":\"LOUD\"}"), 404, "invalid log level 'LOUD'.");
    expect_error(call(rs, "PUT", "/admin/loggers/root", "{}"), 400, "'level'");
    expect_error(call(rs, "GET", "/admin/loggers/com.example.Nope", NULL), 404, "Logger com.example.Nope not found.");
    log_set_level(LOG_FATAL);
}


/* A slow config topic: the write takes a while, so two creates of one name overlap. */
static int slow_put_config(void *ctx, const char *name, const cfg_map_t *config, wrk_target_t target, bool created,
                           char *err, size_t errlen)
{
    (void)ctx, (void)name, (void)config, (void)target, (void)created, (void)err, (void)errlen;
    struct timespec ts = { 0, 50 * 1000000L };
    nanosleep(&ts, NULL);
    return 0;
}

typedef struct racer {
    rest_t *rs;
    int status;
} racer_t;

static void *race_create(void *arg)
{
    racer_t *r = arg;
    char body[2048];
    snprintf(body, sizeof body, "{\"name\":\"twin\",\"config\":%s}", pg_config);
    answer_t a = call(r->rs, "POST", "/connectors", body);
    r->status = a.status;
    done(&a);
    return NULL;
}

/* Two POSTs of one new name at once: exactly one 201, the other 409 (Connect's "already exists"). */
static void test_create_race(void **state)
{
    rest_t *rs = *state;
    wrk_store_t st = { .put_config = slow_put_config };
    wrk_set_store(rs->worker, &st);
    for (int round = 0; round < 5; round++) {
        racer_t r[2] = { { rs, 0 }, { rs, 0 } };
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, race_create, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        int created = (r[0].status == 201) + (r[1].status == 201), exists = (r[0].status == 409) + (r[1].status == 409);
        if (created != 1 || exists != 1)
            fail_msg("round %d: statuses %d and %d, expected one 201 and one 409", round, r[0].status, r[1].status);
        expect_status(call(rs, "DELETE", "/connectors/twin", NULL), 204);
    }
}

/* Topic tracking: a fake connector thread tells topics through the hook as a publisher does (each once per
 * epoch); the store gets Connect's records; GET/PUT reset answer as Connect. */
static volatile int fake_sent;

static int fake_run(void *ctx, const cfg_map_t *config, const wc_topic_hook_t *topics, volatile sig_atomic_t *stop, char *err,
                    size_t errlen)
{
    (void)ctx, (void)config, (void)err, (void)errlen;
    wc_topic_mark_t ma = 0, mb = 0;
    while (!*stop) {
        wc_topic_track(topics, &ma, "srv.public.a");
        wc_topic_track(topics, &mb, "srv.public.b");
        __atomic_add_fetch(&fake_sent, 1, __ATOMIC_RELEASE);
        struct timespec ts = { 0, 2 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int topic_writes, topic_tombstones;

static void count_topic(void *ctx, const char *name, const char *topic, bool gone)
{
    (void)ctx, (void)name, (void)topic;
    __atomic_add_fetch(gone ? &topic_tombstones : &topic_writes, 1, __ATOMIC_RELAXED);
}

static void wait_sent(int more)
{
    int until = __atomic_load_n(&fake_sent, __ATOMIC_ACQUIRE) + more;
    for (int i = 0; i < 5000 && __atomic_load_n(&fake_sent, __ATOMIC_ACQUIRE) < until; i++) {
        struct timespec ts = { 0, 1000000L };
        nanosleep(&ts, NULL);
    }
    assert_true(__atomic_load_n(&fake_sent, __ATOMIC_ACQUIRE) >= until);
}

static void test_topics(void **state)
{
    rest_t *rs = *state;
    wrk_free(rs->worker);
    rs->worker = wrk_new(NULL, "127.0.0.1:8083", fake_run, NULL);
    wrk_store_t st = { .topic = count_topic };
    wrk_set_store(rs->worker, &st);
    topic_writes = topic_tombstones = 0;
    create_pg(rs, "src");
    wait_sent(3);
    answer_t a = call(rs, "GET", "/connectors/src/topics", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "src/topics/0"), "srv.public.a");
    assert_string_equal(str_at(a.j, "src/topics/1"), "srv.public.b");
    assert_int_equal(json_array_size(json_object_get(json_object_get(a.j, "src"), "topics")), 2);
    done(&a);
    assert_int_equal(topic_writes, 2);   /* once each, not per record */
    /* reset: tombstones, then the running connector tells its topics again on its next records */
    a = call(rs, "PUT", "/connectors/src/topics/reset", NULL);
    assert_int_equal(a.status, 202);
    assert_null(a.raw);
    done(&a);
    assert_int_equal(topic_tombstones, 2);
    wait_sent(3);
    assert_int_equal(topic_writes, 4);
    /* Connect keeps active topics by name: an unknown one has none (200) */
    a = call(rs, "GET", "/connectors/nope/topics", NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(a.j, "nope"), "topics")), 0);
    done(&a);
    expect_status(call(rs, "PUT", "/connectors/nope/topics/reset", NULL), 202);
    expect_error(call(rs, "POST", "/connectors/src/topics", NULL), 405, NULL);
    /* topics read back from the status topic */
    wrk_topic_add(rs->worker, "old", "x.y");
    a = call(rs, "GET", "/connectors/old/topics", NULL);
    assert_string_equal(str_at(a.j, "old/topics/0"), "x.y");
    done(&a);
    expect_status(call(rs, "DELETE", "/connectors/src", NULL), 204);
    /* worker keys: tracking off, reset off */
    wrk_free(rs->worker);
    cfg_map_t wm = { 0 };
    cfg_map_set(&wm, "topic.tracking.allow.reset", "false");
    rs->worker = wrk_new(&wm, "127.0.0.1:8083", NULL, NULL);
    expect_status(call(rs, "GET", "/connectors/src/topics", NULL), 200);
    expect_error(call(rs, "PUT", "/connectors/src/topics/reset", NULL), 403, "Topic tracking reset is disabled.");
    wrk_free(rs->worker);
    cfg_map_set(&wm, "topic.tracking.enable", "false");
    rs->worker = wrk_new(&wm, "127.0.0.1:8083", NULL, NULL);
    expect_error(call(rs, "GET", "/connectors/src/topics", NULL), 403, "Topic tracking is disabled.");
    expect_error(call(rs, "PUT", "/connectors/src/topics/reset", NULL), 403, "Topic tracking is disabled.");
    cfg_map_free(&wm);
}

/* ---- cluster mode: the worker runs only the connectors it owns; the others' statuses come from the
 * status topic, changes of other workers from the config topic ---- */
static char owned_names[64];
static int status_writes_b, config_writes;

static bool owns_listed(void *ctx, const char *name)
{
    (void)ctx;
    char key[80];
    snprintf(key, sizeof key, ",%s,", name);
    return strstr(owned_names, key) != NULL;
}

static unsigned status_tasks_s;   /* bit n+1: a status of sink s's task n (bit 0: its connector) was written */

static void count_status(void *ctx, const char *name, int task, wrk_state_t state, const char *trace, const char *worker_id,
                         bool gone)
{
    (void)ctx, (void)task, (void)state, (void)trace, (void)gone;
    if (!strcmp(name, "b"))
        status_writes_b++;
    if (!strcmp(name, "s"))
        status_tasks_s |= 1u << (task + 1);
    assert_string_equal(worker_id, "127.0.0.1:8083");
}

static int count_put(void *ctx, const char *name, const cfg_map_t *config, wrk_target_t target, bool created, char *err,
                     size_t errlen)
{
    (void)ctx, (void)name, (void)config, (void)target, (void)created, (void)err, (void)errlen;
    config_writes++;
    return 0;
}

static int restart_writes;
static bool restart_include_tasks, restart_only_failed;

static int count_restart(void *ctx, const char *name, bool include_tasks, bool only_failed, char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    assert_string_equal(name, "b");
    restart_writes++;
    restart_include_tasks = include_tasks;
    restart_only_failed = only_failed;
    return 0;
}

/* A late status record of another worker about a connector this worker runs (a worker cut off from Kafka
 * just as it ran it, its record delivered when it was let back: test_cluster.sh's cutmid) makes this worker
 * write its own status again, once a second at most; one of its own, or about another worker's connector,
 * does not. */
static void test_owner_writes_status_again(void **state)
{
    rest_t *rs = *state;
    wrk_store_t st = { .status = count_status, .put_config = count_put };
    wrk_set_store(rs->worker, &st);
    snprintf(owned_names, sizeof owned_names, ",b,");
    wrk_set_owner(rs->worker, owns_listed, NULL);
    create_pg(rs, "a");
    create_pg(rs, "b");
    status_writes_b = 0;
    wrk_remote_status(rs->worker, "b", -1, "RUNNING", NULL, "127.0.0.1:8083");   /* its own: nothing to do */
    wrk_remote_status(rs->worker, "a", -1, "RUNNING", NULL, "10.0.0.9:8083");    /* not its connector */
    assert_int_equal(status_writes_b, 0);
    wrk_remote_status(rs->worker, "b", -1, "RUNNING", NULL, "10.0.0.9:8083");    /* the zombie's late record */
    assert_int_equal(status_writes_b, 2);   /* the connector and its task, with this worker's id (count_status) */
    wrk_remote_status(rs->worker, "b", 0, "RUNNING", NULL, "10.0.0.9:8083");     /* within the second: no more */
    assert_int_equal(status_writes_b, 2);
    answer_t a = call(rs, "GET", "/connectors/b/status", NULL);
    assert_string_equal(str_at(a.j, "connector/worker_id"), "127.0.0.1:8083");
    done(&a);
}

static void test_cluster_mode(void **state)
{
    rest_t *rs = *state;
    wrk_store_t st = { .status = count_status, .put_config = count_put };
    wrk_set_store(rs->worker, &st);
    snprintf(owned_names, sizeof owned_names, ",a,");
    wrk_set_owner(rs->worker, owns_listed, NULL);
    status_writes_b = config_writes = 0;
    create_pg(rs, "a");
    create_pg(rs, "b");
    assert_int_equal(config_writes, 2);   /* created through this worker: into the config topic */
    answer_t a = call(rs, "GET", "/connectors/a/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "RUNNING");
    assert_string_equal(str_at(a.j, "connector/worker_id"), "127.0.0.1:8083");
    done(&a);
    /* b is another worker's: not run here, no status written by this worker; shown as the status topic has it */
    a = call(rs, "GET", "/connectors/b/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "UNASSIGNED");
    done(&a);
    assert_int_equal(status_writes_b, 0);
    wrk_remote_status(rs->worker, "b", -1, "RUNNING", NULL, "10.0.0.2:8083");
    wrk_remote_status(rs->worker, "b", 0, "RUNNING", NULL, "10.0.0.2:8083");
    a = call(rs, "GET", "/connectors/b/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "RUNNING");
    assert_string_equal(str_at(a.j, "connector/worker_id"), "10.0.0.2:8083");
    assert_string_equal(str_at(a.j, "tasks/0/worker_id"), "10.0.0.2:8083");
    done(&a);
    a = call(rs, "GET", "/connectors?expand=status", NULL);
    assert_string_equal(str_at(a.j, "b/status/connector/worker_id"), "10.0.0.2:8083");
    assert_string_equal(str_at(a.j, "a/status/connector/worker_id"), "127.0.0.1:8083");
    done(&a);
    /* a restart of another worker's connector: without a store for requests it does nothing here; with
     * one, a request goes to the store (the config topic, read by the worker that runs b) */
    bool restarted = true;
    char rerr[256];
    assert_int_equal(wrk_restart(rs->worker, "b", false, false, &restarted, rerr, sizeof rerr), WRK_OK);
    assert_false(restarted);
    st.restart = count_restart;
    wrk_set_store(rs->worker, &st);
    restart_writes = 0;
    expect_status(call(rs, "POST", "/connectors/b/restart", NULL), 204);
    assert_int_equal(restart_writes, 1);
    assert_false(restart_include_tasks);
    answer_t ra = call(rs, "POST", "/connectors/b/restart?includeTasks=true&onlyFailed=true", NULL);
    assert_int_equal(ra.status, 202);   /* nothing FAILED: the plan restarts nothing, the request still goes */
    assert_string_equal(str_at(ra.j, "connector/state"), "RUNNING");
    assert_string_equal(str_at(ra.j, "connector/worker_id"), "10.0.0.2:8083");
    done(&ra);
    assert_int_equal(restart_writes, 2);
    assert_true(restart_include_tasks && restart_only_failed);
    wrk_remote_status(rs->worker, "b", 0, "FAILED", "boom", "10.0.0.2:8083");
    ra = call(rs, "POST", "/connectors/b/restart?includeTasks=true&onlyFailed=true", NULL);
    assert_int_equal(ra.status, 202);
    assert_string_equal(str_at(ra.j, "tasks/0/state"), "RESTARTING");
    done(&ra);
    expect_status(call(rs, "POST", "/connectors/b/tasks/0/restart", NULL), 204);
    assert_int_equal(restart_writes, 4);
    assert_true(restart_include_tasks && !restart_only_failed);
    wrk_remote_status(rs->worker, "b", 0, "RUNNING", NULL, "10.0.0.2:8083");
    expect_error(call(rs, "POST", "/connectors/nope/restart", NULL), 404, NULL);
    assert_int_equal(restart_writes, 4);
    /* the assignment moves: b comes here (started, its status written by this worker), a goes */
    snprintf(owned_names, sizeof owned_names, ",b,");
    wrk_rebalance(rs->worker);
    assert_true(status_writes_b > 0);
    a = call(rs, "GET", "/connectors/b/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "RUNNING");
    assert_string_equal(str_at(a.j, "connector/worker_id"), "127.0.0.1:8083");
    done(&a);
    a = call(rs, "GET", "/connectors/a/status", NULL);
    assert_string_equal(str_at(a.j, "connector/state"), "UNASSIGNED");
    done(&a);
    /* changes read from the config topic: applied without writing it again; the same record twice is a no-op */
    cfg_map_t c = { 0 };
    json_t *j = json_loads(pg_config, 0, NULL);
    char err[256];
    assert_int_equal(cfg_map_from_json(j, &c, NULL, err, sizeof err), 0);
    json_decref(j);
    config_writes = 0;
    wrk_apply_remote(rs->worker, "c", &c, WRK_STARTED);
    wrk_apply_remote(rs->worker, "c", &c, WRK_STARTED);
    a = call(rs, "GET", "/connectors/c/status", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "connector/state"), "UNASSIGNED");   /* not this worker's */
    done(&a);
    wrk_apply_remote(rs->worker, "c", &c, WRK_TARGET_PAUSED);
    a = call(rs, "GET", "/connectors/c", NULL);
    assert_int_equal(a.status, 200);
    done(&a);
    wrk_info_t wi;
    assert_int_equal(wrk_info(rs->worker, "c", &wi), WRK_OK);
    assert_int_equal(wi.target, WRK_TARGET_PAUSED);
    wrk_info_free(&wi);
    wrk_apply_remote(rs->worker, "c", NULL, WRK_STARTED);
    expect_error(call(rs, "GET", "/connectors/c", NULL), 404, NULL);
    assert_int_equal(config_writes, 0);
    cfg_map_free(&c);
    /* a sink's tasks are assigned each on its own (task 0 by the name, task n by "<name>-<n>"): this worker
     * runs task 2 of s only, writes only its status, and shows the others as the status topic has them */
    snprintf(owned_names, sizeof owned_names, ",b,s-2,");
    status_tasks_s = 0;
    expect_status(call(rs, "POST", "/connectors",
                       "{\"name\":\"s\",\"config\":{\"connector.class\":\"io.debezium.connector.jdbc.JdbcSinkConnector\","
                       "\"tasks.max\":\"3\",\"topics\":\"t\",\"connection.url\":\"jdbc:postgresql://db/x\"}}"),
                  201);
    assert_int_equal(wrk_tasks_mine(rs->worker, "s"), 4);
    assert_int_equal(status_tasks_s, 1u << 3);
    wrk_remote_status(rs->worker, "s", -1, "RUNNING", NULL, "10.0.0.2:8083");
    wrk_remote_status(rs->worker, "s", 0, "RUNNING", NULL, "10.0.0.2:8083");
    wrk_remote_status(rs->worker, "s", 1, "FAILED", "boom", "10.0.0.3:8083");
    a = call(rs, "GET", "/connectors/s/status", NULL);
    assert_string_equal(str_at(a.j, "connector/worker_id"), "10.0.0.2:8083");
    assert_string_equal(str_at(a.j, "tasks/0/worker_id"), "10.0.0.2:8083");
    assert_string_equal(str_at(a.j, "tasks/1/worker_id"), "10.0.0.3:8083");
    assert_string_equal(str_at(a.j, "tasks/1/state"), "FAILED");
    assert_string_equal(str_at(a.j, "tasks/1/trace"), "boom");
    assert_string_equal(str_at(a.j, "tasks/2/worker_id"), "127.0.0.1:8083");
    assert_string_equal(str_at(a.j, "tasks/2/state"), "RUNNING");
    done(&a);
    a = call(rs, "GET", "/connectors/s/tasks/1/status", NULL);
    assert_string_equal(str_at(a.j, "worker_id"), "10.0.0.3:8083");
    done(&a);
    /* the assignment moves: task 0 (with the connector) comes here too, task 2 goes */
    snprintf(owned_names, sizeof owned_names, ",b,s,");
    status_tasks_s = 0;
    wrk_rebalance(rs->worker);
    assert_int_equal(wrk_tasks_mine(rs->worker, "s"), 1);
    assert_int_equal(status_tasks_s, 1u | 1u << 1);
    a = call(rs, "GET", "/connectors/s/status", NULL);
    assert_string_equal(str_at(a.j, "connector/worker_id"), "127.0.0.1:8083");
    assert_string_equal(str_at(a.j, "tasks/0/worker_id"), "127.0.0.1:8083");
    done(&a);
}

/* GET /connector-plugins/{p}/config: Connect's ConfigKeyInfo list of the keys walcast takes for the plugin. */
static void test_plugin_config(void **state)
{
    rest_t *rs = *state;
    answer_t a = call(rs, "GET", "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config", NULL);
    assert_int_equal(a.status, 200);
    assert_true(json_is_array(a.j) && json_array_size(a.j) > 100);
    static const char *const fields[] = { "name", "type", "required", "default_value", "importance", "documentation",
                                          "group", "width", "display_name", "dependents", "order" };
    bool saw_password = false, saw_required = false, saw_ignored = false;
    size_t i;
    json_t *e;
    json_array_foreach(a.j, i, e) {
        assert_int_equal(json_object_size(e), sizeof fields / sizeof fields[0]);
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            assert_non_null(json_object_get(e, fields[f]));
        const char *n = str_at(e, "name");
        if (!strcmp(n, "database.password"))
            saw_password = !strcmp(str_at(e, "type"), "PASSWORD");
        if (!strcmp(n, "topic.prefix"))
            saw_required = json_is_true(json_object_get(e, "required"));
        if (!strcmp(n, "max.queue.size"))
            saw_ignored = strstr(str_at(e, "documentation"), "does not use it") != NULL;
    }
    assert_true(saw_password && saw_required && saw_ignored);
    done(&a);
    a = call(rs, "GET", "/connector-plugins/JdbcSinkConnector/config", NULL);
    assert_int_equal(a.status, 200);
    bool saw_url = false;
    json_array_foreach(a.j, i, e) {
        saw_url |= !strcmp(str_at(e, "name"), "connection.url");
        assert_string_not_equal(str_at(e, "name"), "database.hostname");
    }
    assert_true(saw_url);
    done(&a);
    expect_error(call(rs, "GET", "/connector-plugins/com.example.Nope/config", NULL), 404, "Unknown plugin");
    expect_error(call(rs, "POST", "/connector-plugins/PostgresConnector/config", NULL), 405, NULL);
}

/* Sink offsets: Connect's sink shape checked as SinkUtils does, numbers canonical, changes only while STOPPED. */
static char *sink_altered;
static int sink_resets;

static int fake_sink_get(void *ctx, const cfg_map_t *config, char **json, char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    assert_string_equal(cfg_get(config, "name"), "snk");
    *json = strdup("[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":0},\"offset\":{\"kafka_offset\":7}}]");
    return 0;
}

static int fake_sink_alter(void *ctx, const cfg_map_t *config, const char *json, char *err, size_t errlen)
{
    (void)ctx, (void)config, (void)err, (void)errlen;
    free(sink_altered);
    sink_altered = strdup(json);
    return 0;
}

static int fake_sink_reset(void *ctx, const cfg_map_t *config, char *err, size_t errlen)
{
    (void)ctx, (void)config, (void)err, (void)errlen;
    sink_resets++;
    return 0;
}

static void test_sink_offsets(void **state)
{
    rest_t *rs = *state;
    rs->sink_offsets = (rest_sink_offsets_t){ NULL, fake_sink_get, fake_sink_alter, fake_sink_reset };
    expect_status(call(rs, "POST", "/connectors",
                       "{\"name\":\"snk\",\"config\":{\"connector.class\":\"io.debezium.connector.jdbc.JdbcSinkConnector\","
                       "\"topics\":\"t\",\"connection.url\":\"jdbc:postgresql://db/x\"}}"),
                  201);
    answer_t a = call(rs, "GET", "/connectors/snk/offsets", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "offsets/0/partition/kafka_topic"), "t");
    done(&a);
    /* Debezium's task classes; a MongoDB URI (it may hold user:password@) is masked */
    a = call(rs, "GET", "/connectors/snk/tasks", NULL);
    assert_string_equal(str_at(a.j, "0/config/task.class"), "io.debezium.connector.jdbc.JdbcSinkConnectorTask");
    done(&a);
    expect_status(call(rs, "POST", "/connectors",
                       "{\"name\":\"m\",\"config\":{\"connector.class\":\"io.debezium.connector.mongodb.MongoDbSinkConnector\","
                       "\"topics\":\"t\",\"mongodb.connection.string\":\"mongodb://u:pw@h/\",\"sink.database\":\"d\"}}"),
                  201);
    a = call(rs, "GET", "/connectors/m/tasks", NULL);
    assert_string_equal(str_at(a.j, "0/config/task.class"), "io.debezium.connector.mongodb.sink.MongoDbSinkConnectorTask");
    assert_string_equal(str_at(a.j, "0/config/mongodb.connection.string"), REST_HIDDEN);
    assert_null(strstr(a.raw, "pw@"));
    done(&a);
    const char *good = "{\"offsets\":[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":\"1\"},\"offset\":{\"kafka_offset\":"
                       "\"10\"}},{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":2},\"offset\":null}]}";
    expect_error(call(rs, "PATCH", "/connectors/snk/offsets", good), 400, "STOPPED state");
    expect_error(call(rs, "DELETE", "/connectors/snk/offsets", NULL), 400, "STOPPED state");
    assert_null(sink_altered);
    expect_status(call(rs, "PUT", "/connectors/snk/stop", NULL), 204);
    static const struct { const char *body, *msg; } bad[] = {
        { "{\"offsets\":[{\"offset\":{\"kafka_offset\":1}}]}", "cannot be null or missing" },
        { "{\"offsets\":[{\"partition\":{\"kafka_topic\":\"t\"},\"offset\":{\"kafka_offset\":1}}]}", "must contain the keys" },
        { "{\"offsets\":[{\"partition\":{\"kafka_topic\":null,\"kafka_partition\":0},\"offset\":{\"kafka_offset\":1}}]}",
          "Kafka topic names must be valid strings" },
        { "{\"offsets\":[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":\"x\"},\"offset\":{\"kafka_offset\":1}}]}",
          "Partition values for sink connectors need to be integers" },
        { "{\"offsets\":[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":-1},\"offset\":{\"kafka_offset\":1}}]}",
          "Partition values" },
        { "{\"offsets\":[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":0},\"offset\":{\"x\":1}}]}",
          "either be null or contain the key 'kafka_offset'" },
        { "{\"offsets\":[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":0},\"offset\":{\"kafka_offset\":1.5}}]}",
          "Offset values for sink connectors need to be integers" },
        { "{\"offsets\":[]}", "need to be provided" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(call(rs, "PATCH", "/connectors/snk/offsets", bad[i].body), 400, bad[i].msg);
    assert_null(sink_altered);
    a = call(rs, "PATCH", "/connectors/snk/offsets", good);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "message"), "The offsets for this connector have been altered successfully");
    done(&a);
    assert_string_equal(sink_altered, "[{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":1},\"offset\":{\"kafka_offset\":10}},"
                                      "{\"partition\":{\"kafka_topic\":\"t\",\"kafka_partition\":2},\"offset\":null}]");
    a = call(rs, "DELETE", "/connectors/snk/offsets", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(str_at(a.j, "message"), "The offsets for this connector have been reset successfully");
    done(&a);
    assert_int_equal(sink_resets, 1);
    free(sink_altered);
    sink_altered = NULL;
}

/* ---- cluster mode: a connector's thread that outlives its ownership (issue 24, the "cut" phase) ---- */
static volatile int lost_running, lost_fail, lost_release;   /* per name: bit 0 "z"/"a1", bit 1 "b1" */
static volatile int lost_returned;
static int lost_failed_writes;

static int bit_of(const cfg_map_t *config)
{
    const char *n = cfg_get(config, "name");
    return n && !strcmp(n, "b1") ? 2 : 1;
}

static void nap_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

/* A connector thread: runs until told to stop (bit in lost_release for the one that ignores its stop until
 * released: a Kafka commit while Kafka is away) or to fail (lost_fail: fenced by the new owner). */
static int lost_run(void *ctx, const cfg_map_t *config, const wc_topic_hook_t *topics, volatile sig_atomic_t *stop, char *err,
                    size_t errlen)
{
    (void)ctx, (void)topics;
    int b = bit_of(config);
    bool stubborn = b == 1 && cfg_get(config, "name") && !strcmp(cfg_get(config, "name"), "a1");
    __atomic_or_fetch(&lost_running, b, __ATOMIC_ACQ_REL);
    int rc = 0;
    for (;;) {
        if (__atomic_load_n(&lost_fail, __ATOMIC_ACQUIRE) & b) {
            snprintf(err, errlen, "cannot commit the Kafka transaction: fenced by a newer producer instance");
            rc = -1;
            break;
        }
        if (stubborn ? (__atomic_load_n(&lost_release, __ATOMIC_ACQUIRE) & b) != 0 : *stop)
            break;
        nap_ms(1);
    }
    __atomic_or_fetch(&lost_returned, b, __ATOMIC_ACQ_REL);
    return rc;
}

static void count_failed(void *ctx, const char *name, int task, wrk_state_t state, const char *trace, const char *worker_id,
                         bool gone)
{
    (void)ctx, (void)name, (void)task, (void)trace, (void)worker_id, (void)gone;
    if (state == WRK_FAILED)
        __atomic_add_fetch(&lost_failed_writes, 1, __ATOMIC_RELAXED);
}

static bool wait_bits(volatile int *v, int bits, int ms)
{
    for (int i = 0; i < ms && (__atomic_load_n(v, __ATOMIC_ACQUIRE) & bits) != bits; i++)
        nap_ms(1);
    return (__atomic_load_n(v, __ATOMIC_ACQUIRE) & bits) == bits;
}

static void lost_worker(rest_t *rs, const char *owned)
{
    wrk_free(rs->worker);
    rs->worker = wrk_new(NULL, "127.0.0.1:8083", lost_run, NULL);
    wrk_store_t st = { .status = count_failed, .put_config = count_put };
    wrk_set_store(rs->worker, &st);
    snprintf(owned_names, sizeof owned_names, "%s", owned);
    wrk_set_owner(rs->worker, owns_listed, NULL);
    lost_running = lost_fail = lost_release = lost_returned = 0;
    lost_failed_writes = 0;
}

/* The worker lost the connector (its membership ended: cut off from Kafka) and its thread ends with an
 * error (its late commit fenced by the new owner) before the stop reached it: not FAILED, no status
 * written. Before the fix its FAILED status, written with this worker's id, stood over the new owner's
 * RUNNING (test_cluster.sh's cut phase: c5 FAILED on the cut worker while the new owner streamed it). */
static void test_cluster_failure_after_handover(void **state)
{
    rest_t *rs = *state;
    lost_worker(rs, ",z,");
    create_pg(rs, "z");
    assert_true(wait_bits(&lost_running, 1, 5000));
    snprintf(owned_names, sizeof owned_names, ",");   /* lost: its stop has not reached it yet */
    lost_fail = 1;
    assert_true(wait_bits(&lost_returned, 1, 5000));
    bool any_failed = true;
    for (int i = 0; i < 5000 && wrk_active(rs->worker, &any_failed) > 0; i++)
        nap_ms(1);
    assert_int_equal(wrk_active(rs->worker, &any_failed), 0);
    if (lost_failed_writes || any_failed)
        fail_msg("a connector that failed after it was handed on wrote %d FAILED status(es) (any_failed=%d)",
                 lost_failed_writes, any_failed);
    answer_t a = call(rs, "GET", "/connectors/z/status", NULL);
    assert_string_not_equal(str_at(a.j, "tasks/0/state"), "FAILED");
    done(&a);
    wrk_rebalance(rs->worker);
    /* still owned, the same failure is FAILED as always */
    lost_worker(rs, ",z,");
    create_pg(rs, "z");
    assert_true(wait_bits(&lost_running, 1, 5000));
    lost_fail = 1;
    for (int i = 0; i < 5000 && !lost_failed_writes; i++)
        nap_ms(1);
    assert_true(lost_failed_writes > 0);
}

static void *rebalance_thread(void *w)
{
    wrk_rebalance(w);
    return NULL;
}

/* A rebalance that takes two connectors away tells both to stop before it waits for either: one stuck
 * (a Kafka commit while Kafka is away) must not keep the other running on a worker that lost it. Before
 * the fix b1 ran on until a1 ended. */
static void test_cluster_rebalance_stops_all_first(void **state)
{
    rest_t *rs = *state;
    lost_worker(rs, ",a1,b1,");
    create_pg(rs, "a1");
    create_pg(rs, "b1");
    assert_true(wait_bits(&lost_running, 3, 5000));
    snprintf(owned_names, sizeof owned_names, ",");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rebalance_thread, rs->worker), 0);
    bool b1_stopped = wait_bits(&lost_returned, 2, 3000);
    lost_release = 1;   /* a1's commit ends */
    pthread_join(t, NULL);
    if (!b1_stopped)
        fail_msg("b1 still ran while the rebalance waited for a1 to end");
    assert_true(wait_bits(&lost_returned, 3, 5000));
}

/* A worker found lost by its watchdog tells every connector to stop at once, from the watchdog's thread,
 * while the cluster thread still waits for another one (here a rebalance joining a1, which ignores its
 * stop: a sink's consumer closing while Kafka is away). test_cluster.sh's cut phase failed without it: the
 * cut worker ran on for minutes ("lost its cluster membership" never came). */
static void test_cluster_stop_all_now(void **state)
{
    rest_t *rs = *state;
    lost_worker(rs, ",a1,b1,");
    create_pg(rs, "a1");
    create_pg(rs, "b1");
    assert_true(wait_bits(&lost_running, 3, 5000));
    snprintf(owned_names, sizeof owned_names, ",b1,");   /* a1 handed on: the rebalance waits for it */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rebalance_thread, rs->worker), 0);
    nap_ms(50);
    wrk_stop_all_now(rs->worker);   /* b1 is still this worker's: told to stop all the same */
    bool b1_stopped = wait_bits(&lost_returned, 2, 3000);
    lost_release = 1;
    pthread_join(t, NULL);
    if (!b1_stopped)
        fail_msg("b1 was not stopped while the cluster thread waited for a1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root_and_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_connector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_patch_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_connectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_and_plugins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loggers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_writes_status_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_failure_after_handover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_rebalance_stops_all_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_stop_all_now, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
