/* config.c: parses connector/worker configuration and validates it the way Kafka Connect's ConfigDef
 * would: every bad value is reported with its key, the value and the allowed values. */
#include "agent/config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/log.h"
#include "agent/version.h"

void cfg_map_free(cfg_map_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    memset(m, 0, sizeof *m);
}

void cfg_map_set(cfg_map_t *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->kv[i].key, key) == 0) {
            free(m->kv[i].value);
            m->kv[i].value = xstrdup(value ? value : "");
            return;
        }
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->kv = xrealloc(m->kv, m->cap * sizeof *m->kv);
    }
    m->kv[m->n].key = xstrdup(key);
    m->kv[m->n].value = xstrdup(value ? value : "");
    m->n++;
}

void cfg_map_copy(cfg_map_t *dst, const cfg_map_t *src)
{
    for (size_t i = 0; i < src->n; i++)
        cfg_map_set(dst, src->kv[i].key, src->kv[i].value);
}

const char *cfg_get(const cfg_map_t *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->kv[i].key, key) == 0)
            return m->kv[i].value;
    return NULL;
}

/* The one rule for keys whose values are never shown (logs, errors, the REST API): anything that can
 * hold a password, a secret, key material, a token, a JAAS config or user info. */
bool cfg_is_secret(const char *key)
{
    /* connection.string: a MongoDB URI may hold user:password@ (a JDBC or registry URL is shown unless
     * it holds a password: cfg_is_secret_value) */
    static const char *const marks[] = { "password", "passwd", "secret", "credential", "token", "jaas", "user.info",
                                         "connection.string",
                                         "userinfo", "ssl.key", "keystore.key", "private", "apikey", "api.key",
                                         "sasl.oauthbearer.config", "sasl.username" };
    char low[256];
    size_t n = 0;
    for (; key[n] && n + 1 < sizeof low; n++)
        low[n] = (char)((key[n] >= 'A' && key[n] <= 'Z') ? key[n] + 32 : key[n]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (strstr(low, marks[i]))
            return true;
    return false;
}

bool cfg_is_secret_value(const char *key, const char *value)
{
    if (cfg_is_secret(key))
        return true;
    size_t kn = strlen(key);
    if (!value || kn < 3 || strcasecmp(key + kn - 3, "url"))
        return false;
    if (strcasestr(value, "password="))
        return true;
    /* user:password@ in the authority (between :// and the first / ? # that follows) */
    const char *a = strstr(value, "://");
    if (!a)
        return false;
    a += 3;
    size_t an = strcspn(a, "/?#");
    const char *at = memchr(a, '@', an);
    return at && memchr(a, ':', (size_t)(at - a)) != NULL;
}

/* Java .properties: key=value, key: value or key value; # and ! comments; \ continuation and escapes. */
/* Java's \uXXXX escape at *s (pointing at the 'u'), appended as UTF-8; a high surrogate takes the low one
 * that follows as \uXXXX. False (nothing consumed) when the four hex digits are not there. */
static bool props_unicode(char **s, buf_t *out)
{
    unsigned cp = 0;
    char *p = *s + 1;
    for (int i = 0; i < 4; i++, p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
        if (d < 0)
            return false;
        cp = cp * 16 + (unsigned)d;
    }
    if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
        const char *q = p + 1;
        unsigned low = 0;
        bool ok = true;
        for (int i = 1; i <= 4 && ok; i++) {
            char c = q[i];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            ok = d >= 0;
            low = low * 16 + (unsigned)(d < 0 ? 0 : d);
        }
        if (ok && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
        }
    }
    if (cp >= 0xD800 && cp < 0xE000)
        cp = 0xFFFD;   /* a lone surrogate: the replacement character, as a UTF-8 encoder writes it */
    if (cp < 0x80)
        buf_putc(out, (char)cp);
    else if (cp < 0x800) {
        buf_putc(out, (char)(0xC0 | cp >> 6));
        buf_putc(out, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_putc(out, (char)(0xE0 | cp >> 12));
        buf_putc(out, (char)(0x80 | (cp >> 6 & 0x3F)));
        buf_putc(out, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(out, (char)(0xF0 | cp >> 18));
        buf_putc(out, (char)(0x80 | (cp >> 12 & 0x3F)));
        buf_putc(out, (char)(0x80 | (cp >> 6 & 0x3F)));
        buf_putc(out, (char)(0x80 | (cp & 0x3F)));
    }
    *s = p;
    return true;
}

int cfg_parse_properties(const char *text, cfg_map_t *m, char *err, size_t errlen)
{
    const char *p = text;
    int lineno = 0;
    while (*p) {
        lineno++;
        /* gather a logical line with continuations */
        char *line = NULL;
        size_t len = 0;
        for (;;) {
            const char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n && p[n - 1] == '\r')
                n--;
            const char *s = p;
            if (line)
                while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
            size_t bs = 0;
            while (bs < n && s[n - 1 - bs] == '\\')
                bs++;
            bool cont = bs % 2 == 1;
            line = xrealloc(line, len + n + 1);
            memcpy(line + len, s, cont ? n - 1 : n);
            len += cont ? n - 1 : n;
            line[len] = '\0';
            p = e ? e + 1 : p + strlen(p);
            if (!cont || !*p)
                break;
            lineno++;
        }
        char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\f')
            s++;
        if (!*s || *s == '#' || *s == '!') {
            free(line);
            continue;
        }
        /* java.util.Properties: no length limit, \uXXXX escapes (UTF-16, surrogate pairs joined) */
        buf_t key, val;
        buf_init(&key);
        buf_init(&val);
        while (*s && *s != '=' && *s != ':' && *s != ' ' && *s != '\t') {
            if (*s == '\\' && s[1]) {
                s++;
                if (*s == 'u' && props_unicode(&s, &key))
                    continue;
            }
            buf_putc(&key, *s++);
        }
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '=' || *s == ':')
            s++;
        while (*s == ' ' || *s == '\t')
            s++;
        while (*s) {
            if (*s == '\\' && s[1]) {
                s++;
                if (*s == 'u' && props_unicode(&s, &val))
                    continue;
                char c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s == 'f' ? '\f' : *s;
                buf_putc(&val, c);
                s++;
                continue;
            }
            buf_putc(&val, *s++);
        }
        while (val.len && (val.data[val.len - 1] == ' ' || val.data[val.len - 1] == '\t'))
            val.len--;
        if (!key.len) {
            snprintf(err, errlen, "line %d: missing key before '='", lineno);
            buf_free(&key);
            buf_free(&val);
            free(line);
            return -1;
        }
        cfg_map_set(m, buf_cstr(&key), buf_cstr(&val));
        buf_free(&key);
        buf_free(&val);
        free(line);
    }
    return 0;
}

int cfg_map_from_json(const json_t *obj, cfg_map_t *m, cfg_map_t *nulls, char *err, size_t errlen)
{
    const char *key;
    json_t *val;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "the configuration must be a JSON object of keys and string values");
        return -1;
    }
    json_object_foreach((json_t *)obj, key, val) {
        char tmp[64];
        const char *s;
        if (json_is_string(val))
            s = json_string_value(val);
        else if (json_is_integer(val))
            snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(val)), s = tmp;
        else if (json_is_real(val))
            snprintf(tmp, sizeof tmp, "%g", json_real_value(val)), s = tmp;
        else if (json_is_boolean(val))
            s = json_is_true(val) ? "true" : "false";
        else if (json_is_null(val)) {
            if (nulls)
                cfg_map_set(nulls, key, "");
            continue;
        }
        else {
            snprintf(err, errlen, "config key \"%s\" has a JSON %s value; give it as a string", key,
                     json_is_object(val) ? "object" : "array");
            return -1;
        }
        cfg_map_set(m, key, s);
    }
    return 0;
}

int cfg_parse_json(const char *text, cfg_map_t *m, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    int rc = -1;
    if (!root) {
        /* jansson's text quotes the input near the error ("... near 'p4ss'"), which may be a
         * secret: keep only what went wrong and where */
        char what[JSON_ERROR_TEXT_LENGTH];
        snprintf(what, sizeof what, "%s", je.text);
        char *near = strstr(what, " near ");
        if (near)
            *near = 0;
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s (the text there is not shown: it may be a secret)",
                 je.line, je.column, what);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "connector JSON must be an object: {\"name\":…,\"config\":{…}} or a flat map of keys");
        goto out;
    }
    json_t *config = json_object_get(root, "config");
    if (config && json_is_object(config)) {
        json_t *name = json_object_get(root, "name");
        if (name && json_is_string(name))
            cfg_map_set(m, "name", json_string_value(name));
        rc = cfg_map_from_json(config, m, NULL, err, errlen);
    } else {
        rc = cfg_map_from_json(root, m, NULL, err, errlen);
    }
out:
    json_decref(root);
    return rc;
}

int cfg_load_file(const char *path, cfg_map_t *m, char *err, size_t errlen)
{
    buf_t b;
    buf_init(&b);
    char rerr[512];
    if (buf_read_file(&b, path, rerr, sizeof rerr) < 0) {
        snprintf(err, errlen, "config file: %s", rerr);
        buf_free(&b);
        return -1;
    }
    if (!b.len) {
        snprintf(err, errlen, "config file %s is empty", path);
        buf_free(&b);
        return -1;
    }
    char *text = b.data;
    const char *s = text;
    while (isspace((unsigned char)*s))
        s++;
    char sub[1024];
    int rc;
    size_t pl = strlen(path);
    if (*s == '{' || (pl > 5 && strcmp(path + pl - 5, ".json") == 0))
        rc = cfg_parse_json(text, m, sub, sizeof sub);
    else
        rc = cfg_parse_properties(text, m, sub, sizeof sub);
    free(text);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, sub);
    return rc;
}

/* ---- typed connector configuration ------------------------------------------------------ */

/* Keys a connector file may hold: Debezium's PostgreSQL connector keys (implemented or not: those not
 * implemented are named in check_unimplemented), the keys Kafka Connect itself defines for a source
 * connector, and walcast's own. A key under one of known_prefixes is a family member (converter
 * settings, transforms, client overrides...) and taken as it is. */
static const char *const known_keys[] = {
    /* Debezium */
    "database.hostname", "database.port", "database.user", "database.password", "database.dbname", "database.sslmode",
    "database.sslcert", "database.sslkey", "database.sslpassword", "database.sslrootcert", "database.sslfactory",
    "database.tcpKeepAlive", "database.initial.statements", "database.server.name", "database.query.timeout.ms",
    "topic.prefix", "topic.delimiter", "topic.naming.strategy", "topic.cache.size", "topic.heartbeat.prefix",
    "topic.heartbeat.name", "topic.transaction", "plugin.name", "slot.name", "slot.drop.on.stop", "slot.failover",
    "slot.stream.params", "slot.max.retries", "slot.retry.delay.ms", "slot.seek.to.known.offset.on.start",
    "publication.name", "publication.autocreate.mode", "publish.via.partition.root", "replica.identity.autoset.values",
    "schema.include.list", "schema.exclude.list", "table.include.list", "table.exclude.list", "column.include.list",
    "column.exclude.list", "message.key.columns", "message.prefix.include.list", "message.prefix.exclude.list",
    "snapshot.mode", "snapshot.max.threads", "snapshot.fetch.size", "snapshot.lock.timeout.ms", "snapshot.locking.mode",
    "snapshot.query.mode", "snapshot.select.statement.overrides", "snapshot.include.collection.list", "snapshot.delay.ms",
    "snapshot.isolation.mode", "snapshot.tables.order.by.row.count", "streaming.delay.ms", "heartbeat.interval.ms",
    "heartbeat.action.query", "heartbeat.topics.prefix", "tombstones.on.delete", "provide.transaction.metadata",
    "skipped.operations", "skip.messages.without.change", "max.batch.size", "max.queue.size", "max.queue.size.in.bytes",
    "poll.interval.ms", "status.update.interval.ms", "signal.data.collection", "signal.enabled.channels",
    "signal.poll.interval.ms", "signal.kafka.topic", "signal.kafka.bootstrap.servers", "signal.kafka.groupId",
    "signal.kafka.poll.timeout.ms", "incremental.snapshot.chunk.size", "incremental.snapshot.allow.schema.changes",
    "incremental.snapshot.watermarking.strategy", "unavailable.value.placeholder", "decimal.handling.mode",
    "time.precision.mode", "binary.handling.mode", "interval.handling.mode", "hstore.handling.mode",
    "money.fraction.digits", "include.unknown.datatypes", "xmin.fetch.interval.ms", "schema.name.adjustment.mode",
    "field.name.adjustment.mode", "event.processing.failure.handling.mode", "event.converting.failure.handling.mode",
    "extended.headers.enabled",
    "include.schema.comments", "errors.max.retries", "retriable.restart.connector.wait.ms", "lsn.flush.mode",
    "lsn.flush.timeout.ms", "lsn.flush.timeout.action", "flush.lsn.source", "offset.mismatch.strategy", "read.only",
    "schema.refresh.mode", "column.propagate.source.type", "datatype.propagate.source.type", "converters",
    "custom.metric.tags", "notification.enabled.channels", "post.processors", "query.fetch.size",
    /* Kafka Connect (ConnectorConfig, SourceConnectorConfig) */
    "name", "connector.class", "connector.plugin.version", "tasks.max", "tasks.max.enforce", "key.converter",
    "value.converter", "header.converter", "config.action.reload", "transforms", "predicates", "errors.retry.timeout",
    "errors.retry.delay.max.ms", "errors.retry.delay.initial.ms", "errors.tolerance", "errors.log.enable",
    "errors.log.include.messages", "topic.creation.groups", "exactly.once.support", "transaction.boundary", "transaction.boundary.interval.ms",
    "offsets.storage.topic",
    /* walcast */
    "walcast.transaction.max.ms", "walcast.transaction.max.events", "walcast.transaction.min.ms", "walcast.streaming",
    "walcast.status.on.commit",
    "walcast.memory.limit.mb", "walcast.spill.dir", "walcast.skip.origins", "walcast.snapshot.chunk.rows",
    "walcast.snapshot.parallel.encode", "walcast.snapshot.lanes", "walcast.encode.threads",
    NULL
};
static const char *const known_prefixes[] = {
    "key.converter.", "value.converter.", "header.converter.", "transforms.", "predicates.", "producer.override.",
    "consumer.override.", "admin.override.", "topic.creation.", "column.mask.", "column.truncate.",
    "snapshot.select.statement.overrides.", "signal.consumer.", "notification.", NULL
};

/* Optimal string alignment distance (edits: insert, delete, replace, swap two neighbours), or max + 1
 * when it is larger than max. */
static int key_distance(const char *a, const char *b, int max)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 128 || lb > 128 || (la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    int rows[3][129], *pp = rows[0], *prev = rows[1], *cur = rows[2];   /* rows i-2, i-1, i */
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
        }
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > max ? max + 1 : prev[lb];
}

/* The known key closest to k within two edits, or the prefix family whose name is within two edits of
 * k or of k's first words (transfroms.unwrap.type), or NULL. */
static const char *key_suggest(const char *k, const char *const *keys, const char *const *prefixes)
{
    if (!*k)
        return NULL;   /* an empty key ("" in a JSON config): the loop below reads k[1] (found by fuzz_rest) */
    const char *best = NULL;
    int bestd = 3;
    for (int i = 0; keys[i]; i++) {
        int dd = key_distance(k, keys[i], 2);
        if (dd < bestd)
            bestd = dd, best = keys[i];
    }
    for (int i = 0; prefixes && prefixes[i]; i++) {
        char stem[128], head[128];
        size_t sl = strlen(prefixes[i]) - 1;
        snprintf(stem, sizeof stem, "%.*s", (int)sl, prefixes[i]);
        int dd = key_distance(k, stem, 2);
        for (size_t cut = 1; k[cut] && cut <= sl + 2; cut++) {
            if (k[cut] != '.' || cut + 2 < sl)
                continue;
            snprintf(head, sizeof head, "%.*s", (int)cut, k);
            int dh = key_distance(head, stem, 2);
            if (dh > 0 && dh < dd)
                dd = dh;
        }
        if (dd < bestd)
            bestd = dd, best = prefixes[i];
    }
    return best;
}

static bool key_in(const char *k, const char *const *keys, const char *const *prefixes)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], k) == 0)
            return true;
    for (int i = 0; prefixes && prefixes[i]; i++)
        if (strncmp(prefixes[i], k, strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Unknown keys: one that is one or two edits away from a known key is a typo, and a typo is an error
 * (table.inlcude.list, ignored, captured every table); the others are named in one warning. */
static int check_unknown_keys(const cfg_map_t *m, const char *const *keys, const char *const *prefixes,
                              const char *what, char *err, size_t errlen)
{
    buf_t names;
    buf_init(&names);
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->kv[i].key;
        if (key_in(k, keys, prefixes))
            continue;
        const char *near = key_suggest(k, keys, prefixes);
        if (near) {
            size_t nl = strlen(near);
            bool family = nl && near[nl - 1] == '.';
            snprintf(err, errlen, "unknown %s configuration key '%s': did you mean %s%s? An unknown key is ignored, "
                     "so a misspelt one silently changes what walcast does; correct the name (or remove the key)",
                     what, k, near, family ? "…" : "");
            buf_free(&names);
            return -1;
        }
        if (names.len)
            buf_putc(&names, ',');
        buf_puts(&names, k);
    }
    if (names.len)
        log_warn("unknown configuration keys, ignored", "config=%s keys=%s", what, log_esc(buf_cstr(&names)));
    buf_free(&names);
    return 0;
}

static const char *get_or(const cfg_map_t *m, const char *k, const char *def)
{
    const char *v = cfg_get(m, k);
    return v && *v ? v : def;
}

static int parse_enum(const cfg_map_t *m, const char *key, const char *def, const char *const *allowed,
                      int *out, char *err, size_t errlen)
{
    const char *v = get_or(m, key, def);
    char list[512] = "";
    for (int i = 0; allowed[i]; i++) {
        if (strcasecmp(allowed[i], v) == 0) {
            *out = i;
            return 0;
        }
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, allowed[i], sizeof list - strlen(list) - 1);
    }
    snprintf(err, errlen, "invalid value '%s' for %s; allowed values: %s", v, key, list);
    return -1;
}

static int parse_bool(const cfg_map_t *m, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    const char *v = cfg_get(m, key);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    if (strcasecmp(v, "true") == 0) { *out = true; return 0; }
    if (strcasecmp(v, "false") == 0) { *out = false; return 0; }
    snprintf(err, errlen, "invalid value '%s' for %s; allowed values: true, false", v, key);
    return -1;
}

static int parse_int(const cfg_map_t *m, const char *key, int def, int min, int *out, char *err, size_t errlen)
{
    const char *v = cfg_get(m, key);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long r = strtol(v, &end, 10);
    if (errno || *end || r < min || r > 2147483647L) {
        snprintf(err, errlen, "invalid value '%s' for %s; expected an integer >= %d", v, key, min);
        return -1;
    }
    *out = (int)r;
    return 0;
}

/* A topic's replication factor: -1 (the broker's default.replication.factor) or at least 1, as Connect's. */
static int parse_replication(const cfg_map_t *m, const char *key, int *out, char *err, size_t errlen)
{
    if (parse_int(m, key, -1, -1, out, err, errlen) < 0 || *out == 0) {
        snprintf(err, errlen, "invalid value '%s' for %s; expected -1 (the broker's default.replication.factor) or an "
                 "integer >= 1", cfg_get(m, key), key);
        return -1;
    }
    return 0;
}

static char *dup_get(const cfg_map_t *m, const char *k, const char *def)
{
    const char *v = get_or(m, k, def);
    return v ? xstrdup(v) : NULL;
}

static void cfg_conv_free(cfg_conv_t *v)
{
    free(v->urls); free(v->user_info); free(v->ca_file); free(v->cert_file); free(v->cert_type);
    free(v->key_file);
    if (v->key_password)
        memset(v->key_password, 0, strlen(v->key_password));
    free(v->key_password);
}

/* key.converter or value.converter (prefix p) with its converter settings. */
static int parse_converter(const cfg_map_t *m, const char *p, cfg_conv_t *v, char *err, size_t errlen)
{
    conv_kind_t *conv = &v->side.kind;
    bool *meta = &v->side.meta;
    conv_subject_t *subj = &v->side.subject;
    char k[256], k2[256];
    const char *cls = get_or(m, p, "org.apache.kafka.connect.json.JsonConverter");
    memset(v, 0, sizeof *v);
    *conv = CONV_JSON;
    *meta = true;
    *subj = CONV_SUBJ_TOPIC;
    if (strcmp(cls, "org.apache.kafka.connect.json.JsonConverter") == 0)
        return 0;
    if (strcmp(cls, "io.confluent.connect.avro.AvroConverter") != 0) {
        snprintf(err, errlen, "invalid value '%s' for %s; allowed values: org.apache.kafka.connect.json.JsonConverter, io.confluent.connect.avro.AvroConverter",
                 cls, p);
        return -1;
    }
    v->avro = true;
    *conv = CONV_AVRO;
    snprintf(k, sizeof k, "%s.schema.registry.url", p);
    if (!get_or(m, k, NULL)) {
        snprintf(err, errlen, "%s=io.confluent.connect.avro.AvroConverter needs %s (the schema registry's URL, e.g. http://localhost:8081; several comma-separated for failover)",
                 p, k);
        return -1;
    }
    v->urls = dup_get(m, k, NULL);
    static const char *sources[] = { "URL", "USER_INFO", "SASL_INHERIT", NULL };
    int src;
    snprintf(k, sizeof k, "%s.basic.auth.credentials.source", p);
    if (parse_enum(m, k, "URL", sources, &src, err, errlen) < 0)
        return -1;
    if (src == 2) {
        snprintf(err, errlen, "%s=SASL_INHERIT is not supported: walcast has no SASL settings to inherit for the registry; use USER_INFO with %s.basic.auth.user.info",
                 k, p);
        return -1;
    }
    if (src == 1) {
        snprintf(k, sizeof k, "%s.basic.auth.user.info", p);
        snprintf(k2, sizeof k2, "%s.schema.registry.basic.auth.user.info", p);
        const char *ui = get_or(m, k, get_or(m, k2, NULL));
        if (!ui || !strchr(ui, ':')) {
            /* never print the value: it is a secret */
            snprintf(err, errlen, "%s.basic.auth.credentials.source=USER_INFO needs %s in the form user:password", p, k);
            return -1;
        }
        v->user_info = xstrdup(ui);
    }
    snprintf(k, sizeof k, "%s.schema.registry.ssl.truststore.location", p);
    snprintf(k2, sizeof k2, "%s.schema.registry.ssl.truststore.type", p);
    if (get_or(m, k, NULL)) {
        const char *t = get_or(m, k2, "PEM");
        if (strcasecmp(t, "PEM") != 0) {
            snprintf(err, errlen, "%s=%s is not supported: give a PEM file of CA certificates in %s and set %s=PEM (convert with: keytool -exportcert -rfc)",
                     k2, t, k, k2);
            return -1;
        }
        v->ca_file = dup_get(m, k, NULL);
    }
    snprintf(k, sizeof k, "%s.schema.registry.ssl.keystore.location", p);
    snprintf(k2, sizeof k2, "%s.schema.registry.ssl.keystore.type", p);
    if (get_or(m, k, NULL)) {
        const char *t = get_or(m, k2, "PKCS12");
        if (strcasecmp(t, "PKCS12") != 0 && strcasecmp(t, "PEM") != 0) {
            snprintf(err, errlen, "%s=%s is not supported; allowed: PKCS12, PEM (convert a JKS keystore with keytool -importkeystore -deststoretype PKCS12)",
                     k2, t);
            return -1;
        }
        v->cert_file = dup_get(m, k, NULL);
        v->cert_type = xstrdup(strcasecmp(t, "PEM") == 0 ? "PEM" : "P12");
    }
    snprintf(k, sizeof k, "%s.schema.registry.ssl.key.location", p);
    v->key_file = get_or(m, k, NULL) ? dup_get(m, k, NULL) : NULL;
    snprintf(k, sizeof k, "%s.schema.registry.ssl.key.password", p);
    snprintf(k2, sizeof k2, "%s.schema.registry.ssl.keystore.password", p);
    const char *kp = get_or(m, k, get_or(m, k2, NULL));
    v->key_password = kp ? xstrdup(kp) : NULL;
    snprintf(k, sizeof k, "%s.schema.registry.ssl.endpoint.identification.algorithm", p);
    const char *alg = cfg_get(m, k);
    v->verify_host = !(alg && *alg == '\0');
    if (alg && *alg && strcasecmp(alg, "https") != 0) {
        snprintf(err, errlen, "invalid value '%s' for %s; allowed: https, or empty to skip host name verification", alg, k);
        return -1;
    }
    snprintf(k, sizeof k, "%s.auto.register.schemas", p);
    if (parse_bool(m, k, true, &v->auto_register, err, errlen) < 0)
        return -1;
    snprintf(k, sizeof k, "%s.use.latest.version", p);
    if (parse_bool(m, k, false, &v->use_latest, err, errlen) < 0)
        return -1;
    snprintf(k, sizeof k, "%s.connect.meta.data", p);
    if (parse_bool(m, k, true, meta, err, errlen) < 0)
        return -1;
    snprintf(k, sizeof k, "%s.%s.subject.name.strategy", p, strcmp(p, "key.converter") == 0 ? "key" : "value");
    const char *st = get_or(m, k, "io.confluent.kafka.serializers.subject.TopicNameStrategy");
    if (strcmp(st, "io.confluent.kafka.serializers.subject.TopicNameStrategy") == 0)
        *subj = CONV_SUBJ_TOPIC;
    else if (strcmp(st, "io.confluent.kafka.serializers.subject.RecordNameStrategy") == 0)
        *subj = CONV_SUBJ_RECORD;
    else if (strcmp(st, "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy") == 0)
        *subj = CONV_SUBJ_TOPIC_RECORD;
    else {
        snprintf(err, errlen, "invalid value '%s' for %s; allowed: io.confluent.kafka.serializers.subject.TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy (same package)",
                 st, k);
        return -1;
    }
    return 0;
}

void cfg_connector_free(conn_config_t *c)
{
    cfg_conv_free(&c->key_conv);
    cfg_conv_free(&c->value_conv);
    free(c->name); free(c->host); free(c->port); free(c->user); free(c->password); free(c->dbname);
    free(c->topic_prefix); free(c->topic_delimiter); free(c->slot_name); free(c->publication_name);
    free(c->snapshot_isolation);
    free(c->signal_collection); free(c->signal_topic); free(c->signal_bootstrap);
    cfg_map_free(&c->snapshot_overrides);
    for (size_t i = 0; i < c->snapshot_include.n; i++)
        regfree(&c->snapshot_include.re[i]);
    free(c->snapshot_include.re);
    free(c->snapshot_mode); free(c->heartbeat_action_query); free(c->placeholder); free(c->spill_dir);
    cfg_map_free(&c->libpq);
    flt_free(&c->filters);
    tf_spec_free(c->transforms);
    memset(c, 0, sizeof *c);
}

/* column.mask.with.N.chars / column.truncate.to.N.chars / column.mask.hash.v2.ALG.with.salt.SALT */
static int parse_column_rules(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->kv[i].key, *v = m->kv[i].value;
        int n;
        char tail[16];
        if (sscanf(k, "column.mask.with.%d.%15s", &n, tail) == 2 && strcmp(tail, "chars") == 0) {
            if (n < 0) {
                snprintf(err, errlen, "%s: the character count must be >= 0", k);
                return -1;
            }
            if (flt_add_mask(&c->filters, n, v, k, err, errlen) < 0)
                return -1;
        } else if (sscanf(k, "column.truncate.to.%d.%15s", &n, tail) == 2 && strcmp(tail, "chars") == 0) {
            if (n < 0) {
                snprintf(err, errlen, "%s: the character count must be >= 0", k);
                return -1;
            }
            if (flt_add_truncate(&c->filters, n, v, k, err, errlen) < 0)
                return -1;
        } else if (strncmp(k, "column.mask.hash.", 17) == 0) {
            const char *rest = k + 17;
            bool v2 = strncmp(rest, "v2.", 3) == 0;
            if (v2)
                rest += 3;
            const char *ws = strstr(rest, ".with.salt.");
            if (!ws) {
                snprintf(err, errlen, "%s: expected column.mask.hash.v2.<algorithm>.with.salt.<salt>", k);
                return -1;
            }
            if (!v2) {
                snprintf(err, errlen, "%s: hashing v1 depends on Java object serialisation and is not supported; use column.mask.hash.v2.%.*s.with.salt.%s",
                         k, (int)(ws - rest), rest, ws + 11);
                return -1;
            }
            char alg[64];
            snprintf(alg, sizeof alg, "%.*s", (int)(ws - rest), rest);
            if (flt_add_hash(&c->filters, alg, ws + 11, v, k, err, errlen) < 0)
                return -1;
        } else if (strncmp(k, "column.mask.", 12) == 0 || strncmp(k, "column.truncate.", 16) == 0) {
            snprintf(err, errlen, "%s is none of column.mask.with.N.chars, column.truncate.to.N.chars and "
                     "column.mask.hash.v2.ALGORITHM.with.salt.SALT; correct the name (as written it would be ignored)", k);
            return -1;
        }
    }
    return 0;
}

void cfg_inherit_converters(const cfg_map_t *wm, cfg_map_t *m)
{
    static const char *const pfx[2] = { "key.converter", "value.converter" };
    for (int i = 0; i < 2; i++) {
        if (cfg_get(m, pfx[i]))
            continue;
        size_t n = strlen(pfx[i]);
        for (size_t k = 0; k < wm->n; k++) {
            const char *key = wm->kv[k].key;
            if (strncmp(key, pfx[i], n) == 0 && (key[n] == '\0' || key[n] == '.') && !cfg_get(m, key))
                cfg_map_set(m, key, wm->kv[k].value);
        }
    }
}

/* Debezium keys walcast accepts but does not implement. Those that would change the records Debezium
 * writes are refused, so that the output never differs without a word (a value equal to Debezium's
 * default is fine); the rest are named once, in one warning, at start. */
static const struct { const char *key; const char *fine; } refused_keys[] = {
    { "converters", "" },
    { "column.propagate.source.type", "" }, { "datatype.propagate.source.type", "" },
    { "xmin.fetch.interval.ms", "0" }, { "heartbeat.topics.prefix", "__debezium-heartbeat" },
    { "header.converter", "org.apache.kafka.connect.storage.SimpleHeaderConverter" },
    { "topic.naming.strategy", "io.debezium.schema.SchemaTopicNamingStrategy" }, { "topic.transaction", "transaction" },
    { "topic.heartbeat.prefix", "__debezium-heartbeat" }, { "skip.messages.without.change", "false" },
    { "publish.via.partition.root", "false" }, { "post.processors", "" },
};
static const char *const ignored_keys[] = {
    "tasks.max", "max.batch.size", "max.queue.size", "max.queue.size.in.bytes", "poll.interval.ms",
    "database.initial.statements", "database.tcpKeepAlive", "database.sslfactory", "database.server.name",
    "slot.failover", "slot.stream.params", "slot.max.retries", "slot.retry.delay.ms", "lsn.flush.mode",
    "flush.lsn.source", "snapshot.lock.timeout.ms",
    "event.processing.failure.handling.mode", "errors.max.retries",
    "errors.retry.delay.initial.ms", "errors.retry.delay.max.ms", "errors.log.enable",
    "errors.log.include.messages", "retriable.restart.connector.wait.ms", "custom.metric.tags",
    "notification.enabled.channels", "database.query.timeout.ms", "topic.cache.size", "topic.heartbeat.name",
    "slot.seek.to.known.offset.on.start", "replica.identity.autoset.values", "snapshot.locking.mode",
    "snapshot.query.mode", "snapshot.tables.order.by.row.count", "streaming.delay.ms", "signal.kafka.groupId",
    "signal.kafka.poll.timeout.ms", "incremental.snapshot.allow.schema.changes", "lsn.flush.timeout.ms",
    "lsn.flush.timeout.action", "offset.mismatch.strategy", "read.only", "schema.refresh.mode", "query.fetch.size",
    "connector.plugin.version", "tasks.max.enforce", "config.action.reload", "exactly.once.support",
    "transaction.boundary", "transaction.boundary.interval.ms", "offsets.storage.topic", NULL
};
static const char *const ignored_prefixes[] = { "topic.creation.", "notification.", "incremental.snapshot.watermarking",
                                                "errors.", "offsets.", "signal.consumer.", "signal.poll.", "producer.override.",
                                                "consumer.override.", "admin.override.", NULL };

/* transforms= and predicates= with their options (schemas/transform.c checks each transform's). */
static int parse_transforms(const cfg_map_t *m, tf_spec_t **out, char *err, size_t errlen)
{
    tf_kv_t *kv = xcalloc(m->n + 1, sizeof *kv);
    for (size_t i = 0; i < m->n; i++)
        kv[i] = (tf_kv_t){ m->kv[i].key, m->kv[i].value };
    int rc = tf_spec_parse(kv, m->n, out, err, errlen);
    free(kv);
    return rc;
}

static int check_unimplemented(const cfg_map_t *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof refused_keys / sizeof refused_keys[0]; i++) {
        const char *v = cfg_get(m, refused_keys[i].key);
        if (v && *v && strcmp(v, refused_keys[i].fine) != 0) {
            snprintf(err, errlen, "%s is not implemented by walcast yet, and Debezium's records would differ with it; "
                     "remove it (or set it to '%s')", refused_keys[i].key, refused_keys[i].fine);
            return -1;
        }
    }
    buf_t names;
    buf_init(&names);
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->kv[i].key;
        bool ignored = false;
        for (int j = 0; ignored_keys[j] && !ignored; j++)
            ignored = strcmp(ignored_keys[j], k) == 0;
        for (int j = 0; ignored_prefixes[j] && !ignored; j++)
            ignored = strncmp(ignored_prefixes[j], k, strlen(ignored_prefixes[j])) == 0;
        if (!strcmp(k, "errors.tolerance"))
            ignored = false;   /* read: records a transform fails on (errors.tolerance=all skips them) */
        for (size_t j = 0; j < sizeof refused_keys / sizeof refused_keys[0] && !ignored; j++)
            ignored = strncmp(k, refused_keys[j].key, strlen(refused_keys[j].key)) == 0 && k[strlen(refused_keys[j].key)] == '.';
        if (ignored) {
            if (names.len)
                buf_putc(&names, ',');
            buf_puts(&names, k);
        }
    }
    if (names.len)
        log_warn("Debezium settings that walcast does not implement yet are ignored", "keys=%s", buf_cstr(&names));
    buf_free(&names);
    return 0;
}

/* connector.class, the required keys, plugin.name and the database connection (host, port, login, SSL). */
static int parse_connection(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    int e;
    const char *cls = cfg_get(m, "connector.class");
    if (cls && strcmp(cls, "io.debezium.connector.postgresql.PostgresConnector") != 0) {
        snprintf(err, errlen, "invalid value '%s' for connector.class; walcast runs io.debezium.connector.postgresql.PostgresConnector, "
                 "io.debezium.connector.jdbc.JdbcSinkConnector and io.debezium.connector.mongodb.MongoDbSinkConnector", cls);
        return -1;
    }
    static const char *required[] = { "name", "database.hostname", "database.user", "database.dbname", "topic.prefix", NULL };
    for (int i = 0; required[i]; i++) {
        const char *v = cfg_get(m, required[i]);
        if (!v || !*v) {
            snprintf(err, errlen, "missing required configuration key %s", required[i]);
            return -1;
        }
    }
    const char *plugin = get_or(m, "plugin.name", "pgoutput");
    if (strcmp(plugin, "pgoutput") != 0) {
        snprintf(err, errlen, "invalid value '%s' for plugin.name; walcast supports only pgoutput (built into PostgreSQL 10+), not decoderbufs or wal2json", plugin);
        return -1;
    }
    c->name = dup_get(m, "name", NULL);
    c->host = dup_get(m, "database.hostname", NULL);
    c->port = dup_get(m, "database.port", "5432");
    c->user = dup_get(m, "database.user", NULL);
    c->password = dup_get(m, "database.password", "");
    c->dbname = dup_get(m, "database.dbname", NULL);
    {
        char *end;
        long port = strtol(c->port, &end, 10);
        if (*end || port < 1 || port > 65535) {
            snprintf(err, errlen, "invalid value '%s' for database.port; expected 1-65535", c->port);
            return -1;
        }
    }
    static const char *sslmodes[] = { "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL };
    if (parse_enum(m, "database.sslmode", "prefer", sslmodes, &e, err, errlen) < 0)
        return -1;
    cfg_map_set(&c->libpq, "sslmode", sslmodes[e]);
    static const char *sslkeys[][2] = { { "database.sslcert", "sslcert" }, { "database.sslkey", "sslkey" },
                                        { "database.sslrootcert", "sslrootcert" }, { "database.sslpassword", "sslpassword" } };
    for (size_t i = 0; i < sizeof sslkeys / sizeof sslkeys[0]; i++)
        if (cfg_get(m, sslkeys[i][0]))
            cfg_map_set(&c->libpq, sslkeys[i][1], cfg_get(m, sslkeys[i][0]));
    return 0;
}

/* topic.prefix and its delimiter, the replication slot and the publication. */
static int parse_slot(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    int e;
    c->topic_prefix = dup_get(m, "topic.prefix", NULL);
    for (const char *p = c->topic_prefix; *p; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')) {
            snprintf(err, errlen, "invalid value '%s' for topic.prefix; use only letters, digits, '.', '_' and '-'", c->topic_prefix);
            return -1;
        }
    }
    c->topic_delimiter = dup_get(m, "topic.delimiter", ".");
    c->slot_name = dup_get(m, "slot.name", "debezium");
    for (const char *p = c->slot_name; *p; p++) {
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')) {
            snprintf(err, errlen, "invalid value '%s' for slot.name; PostgreSQL slot names use only lower-case letters, digits and '_'", c->slot_name);
            return -1;
        }
    }
    c->publication_name = dup_get(m, "publication.name", "dbz_publication");
    static const char *pubmodes[] = { "all_tables", "filtered", "disabled", "no_tables", NULL };
    if (parse_enum(m, "publication.autocreate.mode", "all_tables", pubmodes, &e, err, errlen) < 0)
        return -1;
    c->pub_mode = (cfg_pubmode_t)e;
    if (parse_bool(m, "slot.drop.on.stop", false, &c->slot_drop_on_stop, err, errlen) < 0)
        return -1;
    return 0;
}

/* snapshot.mode and how the snapshot reads. */
static int parse_snapshot(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    int e;
    static const char *snapmodes[] = { "initial", "always", "initial_only", "no_data", "never", "when_needed", "configuration_based", "custom", NULL };
    if (parse_enum(m, "snapshot.mode", "initial", snapmodes, &e, err, errlen) < 0)
        return -1;
    c->snapshot_mode = xstrdup(snapmodes[e]);
    if (strcmp(c->snapshot_mode, "configuration_based") == 0 || strcmp(c->snapshot_mode, "custom") == 0) {
        snprintf(err, errlen, "snapshot.mode=%s is not implemented by walcast; use initial, always, initial_only, no_data or when_needed",
                 c->snapshot_mode);
        return -1;
    }
    if (parse_int(m, "snapshot.max.threads", 1, 1, &c->snapshot_max_threads, err, errlen) < 0 ||
        parse_int(m, "snapshot.fetch.size", 10240, 1, &c->snapshot_fetch_size, err, errlen) < 0 ||
        parse_int(m, "walcast.snapshot.chunk.rows", 50000, 1, &c->snapshot_chunk_rows, err, errlen) < 0 ||
        parse_int(m, "snapshot.delay.ms", 0, 0, &c->snapshot_delay_ms, err, errlen) < 0 ||
        parse_bool(m, "walcast.snapshot.parallel.encode", true, &c->snapshot_parallel_encode, err, errlen) < 0 ||
        parse_bool(m, "walcast.snapshot.lanes", false, &c->snapshot_lanes, err, errlen) < 0)
        return -1;
    if (c->snapshot_max_threads > 64)
        c->snapshot_max_threads = 64;
    static const char *isomodes[] = { "repeatable_read", "serializable", "read_committed", "read_uncommitted", "exclusive", NULL };
    if (parse_enum(m, "snapshot.isolation.mode", "repeatable_read", isomodes, &e, err, errlen) < 0)
        return -1;
    c->snapshot_isolation = xstrdup(isomodes[e]);
    if (flt_list_compile(&c->snapshot_include, cfg_get(m, "snapshot.include.collection.list"),
                         "snapshot.include.collection.list", err, errlen) < 0)
        return -1;
    return 0;
}

/* Incremental snapshots on demand: incremental.snapshot.chunk.size, signal.data.collection (source channel),
 * signal.kafka.topic. */
static int parse_signals(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    if (parse_int(m, "incremental.snapshot.chunk.size", 1024, 1, &c->incremental_chunk_rows, err, errlen) < 0)
        return -1;
    const char *sc = cfg_get(m, "signal.data.collection");
    c->signal_collection = sc && *sc ? xstrdup(sc) : NULL;
    const char *ch = get_or(m, "signal.enabled.channels", "source");
    char *copy = xstrdup(ch);
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "source") == 0)
            c->signal_source = true;
        else if (strcmp(tok, "kafka") == 0)
            c->signal_kafka = true;
        else if (strcmp(tok, "jmx") != 0 && strcmp(tok, "file") != 0) {
            snprintf(err, errlen, "invalid value '%s' in signal.enabled.channels; walcast implements source and kafka", tok);
            free(copy);
            return -1;
        } else
            log_warn("signal channel not implemented by walcast; ignored", "channel=%s", tok);
    }
    free(copy);
    char deftopic[512];
    snprintf(deftopic, sizeof deftopic, "%s-signal", cfg_get(m, "topic.prefix"));
    c->signal_topic = dup_get(m, "signal.kafka.topic", deftopic);
    const char *sb = cfg_get(m, "signal.kafka.bootstrap.servers");
    c->signal_bootstrap = sb && *sb ? xstrdup(sb) : NULL;
    return 0;
}

/* snapshot.select.statement.overrides=s.t,s2.t2 with snapshot.select.statement.overrides.s.t=SELECT ... */
static int parse_snapshot_overrides(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    const char *list = cfg_get(m, "snapshot.select.statement.overrides");
    char *copy = xstrdup(list ? list : "");
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *endp = tok + strlen(tok);
        while (endp > tok && endp[-1] == ' ')
            *--endp = 0;
        if (!*tok)
            continue;
        char key[1024];
        snprintf(key, sizeof key, "snapshot.select.statement.overrides.%s", tok);
        const char *sql = cfg_get(m, key);
        if (!sql || !*sql) {
            snprintf(err, errlen, "snapshot.select.statement.overrides names %s but %s is not set; give the SELECT "
                     "for that table", tok, key);
            free(copy);
            return -1;
        }
        cfg_map_set(&c->snapshot_overrides, tok, sql);
    }
    free(copy);
    return 0;
}

/* Status updates, heartbeats, queue and transaction bounds, memory and spill files, transaction metadata. */
static int parse_streaming(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    if (parse_int(m, "status.update.interval.ms", 10000, 1, &c->status_interval_ms, err, errlen) < 0 ||
        parse_int(m, "heartbeat.interval.ms", 0, 0, &c->heartbeat_interval_ms, err, errlen) < 0 ||
        parse_int(m, "max.queue.size", 8192, 1, &c->max_queue_size, err, errlen) < 0 ||
        parse_int(m, "max.batch.size", 2048, 1, &c->max_batch_size, err, errlen) < 0 ||
        /* while walcast is behind the server (a backlog; caught up, it commits at once): each commit costs
         * the one partition's Produce pipeline ~8-16 ms (the last batch answered, the next producer's
         * AddPartitionsToTxn, its first batch built), 6-13% of a JSON-with-schemas drain at 100 ms (README,
         * Delivery guarantees) */
        parse_int(m, "walcast.transaction.max.ms", 500, 1, &c->txn_max_ms, err, errlen) < 0 ||
        parse_int(m, "walcast.transaction.max.events", 250000, 1, &c->txn_max_events, err, errlen) < 0 ||
        parse_int(m, "walcast.transaction.min.ms", 0, 0, &c->txn_min_ms, err, errlen) < 0 ||
        parse_int(m, "walcast.memory.limit.mb", 64, 1, &c->memory_limit_mb, err, errlen) < 0 ||
        parse_int(m, "walcast.encode.threads", 0, 0, &c->encode_threads, err, errlen) < 0 ||
        parse_bool(m, "walcast.streaming", false, &c->streaming, err, errlen) < 0 ||
        parse_bool(m, "walcast.status.on.commit", true, &c->status_on_commit, err, errlen) < 0)
        return -1;
    if (c->encode_threads > 16)
        c->encode_threads = 16;
    {
        const char *tmp = getenv("TMPDIR");
        char def[1024];
        snprintf(def, sizeof def, "%s/walcast-spill", tmp && *tmp ? tmp : "/tmp");
        c->spill_dir = dup_get(m, "walcast.spill.dir", def);
    }
    c->heartbeat_action_query = cfg_get(m, "heartbeat.action.query") ? dup_get(m, "heartbeat.action.query", NULL) : NULL;
    if (parse_bool(m, "provide.transaction.metadata", false, &c->evt.tx_metadata, err, errlen) < 0)
        return -1;
    return 0;
}

/* Converters, schema and field name adjustment, conversion failures, schemas, tombstones and headers. */
static int parse_converters(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    int e;
    if (parse_converter(m, "key.converter", &c->key_conv, err, errlen) < 0 ||
        parse_converter(m, "value.converter", &c->value_conv, err, errlen) < 0)
        return -1;
    static const char *adjmodes[] = { "none", "avro", "avro_unicode", NULL };
    if (parse_enum(m, "schema.name.adjustment.mode", "none", adjmodes, &e, err, errlen) < 0) return -1;
    c->evt.schema_names = (avro_adjust_t)e;
    if (parse_enum(m, "field.name.adjustment.mode", "none", adjmodes, &e, err, errlen) < 0) return -1;
    c->evt.field_names = (avro_adjust_t)e;
    /* Debezium's value-conversion failures (TableSchemaBuilder); event.processing.failure.handling.mode
     * is about seeking the slot in its PostgreSQL connector and stays ignored */
    static const char *convmodes[] = { "warn", "skip", "fail", NULL };
    if (parse_enum(m, "event.converting.failure.handling.mode", "warn", convmodes, &e, err, errlen) < 0) return -1;
    c->evt.convert_failure = (evt_convert_mode_t)e;
    if (parse_bool(m, "key.converter.schemas.enable", true, &c->key_conv.side.schemas, err, errlen) < 0 ||
        parse_bool(m, "value.converter.schemas.enable", true, &c->value_conv.side.schemas, err, errlen) < 0 ||
        parse_bool(m, "tombstones.on.delete", true, &c->evt.tombstones, err, errlen) < 0 ||
        parse_bool(m, "include.schema.comments", false, &c->evt.schema_comments, err, errlen) < 0 ||
        parse_bool(m, "extended.headers.enabled", true, &c->evt.extended_headers, err, errlen) < 0 ||
        parse_bool(m, "include.unknown.datatypes", false, &c->evt.types.include_unknown, err, errlen) < 0)
        return -1;
    return 0;
}

/* How values are written: decimal, time, binary, interval, hstore, money. */
static int parse_value_modes(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    int e;
    static const char *decmodes[] = { "precise", "double", "string", NULL };
    static const char *timemodes[] = { "adaptive", "adaptive_time_microseconds", "connect", NULL };
    static const char *binmodes[] = { "bytes", "base64", "base64-url-safe", "hex", NULL };
    static const char *ivmodes[] = { "numeric", "string", NULL };
    static const char *hsmodes[] = { "json", "map", NULL };
    if (parse_enum(m, "decimal.handling.mode", "precise", decmodes, &e, err, errlen) < 0) return -1;
    c->evt.types.decimal = (pgt_decimal_mode_t)e;
    if (parse_enum(m, "time.precision.mode", "adaptive", timemodes, &e, err, errlen) < 0) return -1;
    c->evt.types.time = (pgt_time_mode_t)e;
    if (parse_enum(m, "binary.handling.mode", "bytes", binmodes, &e, err, errlen) < 0) return -1;
    c->evt.types.binary = (pgt_binary_mode_t)e;
    if (parse_enum(m, "interval.handling.mode", "numeric", ivmodes, &e, err, errlen) < 0) return -1;
    c->evt.types.interval = (pgt_interval_mode_t)e;
    if (parse_enum(m, "hstore.handling.mode", "json", hsmodes, &e, err, errlen) < 0) return -1;
    c->evt.types.hstore = (pgt_hstore_mode_t)e;
    if (parse_int(m, "money.fraction.digits", 2, 0, &c->evt.types.money_fraction_digits, err, errlen) < 0)
        return -1;
    return 0;
}

/* skipped.operations: comma list of c,u,d,t or none; default t. */
static int parse_skipped_ops(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    const char *v = get_or(m, "skipped.operations", "t");
    unsigned ops = 0;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", v);
    for (char *save = NULL, *tok = strtok_r(tmp, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(tok, "c")) ops |= EVT_OP_C;
        else if (!strcmp(tok, "u")) ops |= EVT_OP_U;
        else if (!strcmp(tok, "d")) ops |= EVT_OP_D;
        else if (!strcmp(tok, "t")) ops |= EVT_OP_T;
        else if (!strcmp(tok, "none")) ops = 0;
        else {
            snprintf(err, errlen, "invalid value '%s' for skipped.operations; allowed: a comma-separated list of c, u, d, t, or none", v);
            return -1;
        }
    }
    c->evt.skipped_ops = ops;
    return 0;
}

/* Include/exclude lists, skipped origins, message key columns and column rules. */
static int parse_filters(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    static const char *lists[][2] = { { "schema.include.list", "schema.exclude.list" },
                                      { "table.include.list", "table.exclude.list" },
                                      { "column.include.list", "column.exclude.list" },
                                      { "message.prefix.include.list", "message.prefix.exclude.list" } };
    flt_list_t *targets[][2] = { { &c->filters.schema_inc, &c->filters.schema_exc },
                                 { &c->filters.table_inc, &c->filters.table_exc },
                                 { &c->filters.col_inc, &c->filters.col_exc },
                                 { &c->filters.msg_inc, &c->filters.msg_exc } };
    for (int i = 0; i < 4; i++) {
        if (cfg_get(m, lists[i][0]) && cfg_get(m, lists[i][1])) {
            snprintf(err, errlen, "%s and %s cannot both be set; use one of them", lists[i][0], lists[i][1]);
            return -1;
        }
        for (int j = 0; j < 2; j++)
            if (flt_list_compile(targets[i][j], cfg_get(m, lists[i][j]), lists[i][j], err, errlen) < 0)
                return -1;
    }
    /* apply workers mark their sessions with a replication origin named walcast_<sink>: skipping
     * those transactions is what lets two databases replicate into each other without echo */
    if (flt_list_compile(&c->filters.origin_skip, get_or(m, "walcast.skip.origins", "walcast.*"), "walcast.skip.origins",
                         err, errlen) < 0)
        return -1;
    if (cfg_get(m, "message.key.columns") &&
        flt_set_key_columns(&c->filters, cfg_get(m, "message.key.columns"), err, errlen) < 0)
        return -1;
    if (parse_column_rules(m, c, err, errlen) < 0)
        return -1;
    return 0;
}

int cfg_connector_parse(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    flt_init(&c->filters);
    pgt_opts_default(&c->evt.types);
    int e;

    /* the parts in turn (the order they had in one function); the first error stops */
    if (check_unknown_keys(m, known_keys, known_prefixes, "connector", err, errlen) < 0 ||
        check_unimplemented(m, err, errlen) < 0 ||
        parse_connection(m, c, err, errlen) < 0 ||
        parse_slot(m, c, err, errlen) < 0 ||
        parse_snapshot(m, c, err, errlen) < 0 ||
        parse_signals(m, c, err, errlen) < 0 ||
        parse_snapshot_overrides(m, c, err, errlen) < 0 ||
        parse_streaming(m, c, err, errlen) < 0 ||
        parse_converters(m, c, err, errlen) < 0 ||
        parse_value_modes(m, c, err, errlen) < 0 ||
        parse_skipped_ops(m, c, err, errlen) < 0 ||
        parse_filters(m, c, err, errlen) < 0)
        goto fail;

    /* the event settings */
    c->placeholder = dup_get(m, "unavailable.value.placeholder", "__debezium_unavailable_value");
    c->evt.connector_name = c->name;
    c->evt.prefix = c->topic_prefix;
    c->evt.delimiter = c->topic_delimiter;
    c->evt.dbname = c->dbname;
    c->evt.placeholder = c->placeholder;
    c->evt.version = "walcast-" WALCAST_VERSION;
    c->evt.filters = &c->filters;
    if (parse_transforms(m, &c->transforms, err, errlen) < 0)
        goto fail;
    {
        static const char *const tol[] = { "none", "all", NULL };
        if (parse_enum(m, "errors.tolerance", "none", tol, &e, err, errlen) < 0)
            goto fail;
        c->errors_tolerance_all = e == 1;
    }
    return 0;
fail:
    cfg_connector_free(c);
    return -1;
}

/* Kafka Connect's worker keys (WorkerConfig, StandaloneConfig, DistributedConfig); walcast reads
 * bootstrap.servers, offset.storage.topic, the converters and the client families. */
static const char *const worker_keys[] = {
    "bootstrap.servers", "offset.storage.topic", "key.converter", "value.converter", "header.converter",
    "client.dns.lookup", "task.shutdown.graceful.timeout.ms", "offset.flush.interval.ms", "offset.flush.timeout.ms",
    "offset.storage.file.filename", "offset.storage.partitions", "offset.storage.replication.factor", "listeners",
    "rest.advertised.host.name", "rest.advertised.port", "rest.advertised.listener", "admin.listeners",
    "access.control.allow.methods", "access.control.allow.origin", "plugin.path", "plugin.discovery",
    "config.providers", "rest.extension.classes", "connector.client.config.override.policy", "topic.creation.enable",
    "response.http.headers.config", "group.id", "config.storage.topic", "config.storage.replication.factor",
    "status.storage.topic", "status.storage.partitions", "status.storage.replication.factor", "heartbeat.interval.ms",
    "session.timeout.ms", "rebalance.timeout.ms", "worker.sync.timeout.ms", "worker.unsync.backoff.ms",
    "scheduled.rebalance.max.delay.ms", "connect.protocol", "exactly.once.source.support", "security.protocol",
    "client.id", "metadata.max.age.ms", "request.timeout.ms", "retry.backoff.ms", "reconnect.backoff.ms",
    "reconnect.backoff.max.ms", "receive.buffer.bytes", "send.buffer.bytes", "connections.max.idle.ms",
    "auto.include.jmx.reporter", "metric.reporters", NULL
};
static const char *const worker_prefixes[] = {
    "producer.", "consumer.", "admin.", "key.converter.", "value.converter.", "header.converter.", "rest.",
    "listeners.", "ssl.", "sasl.", "metrics.", "config.providers.", "inter.worker.", "walcast.", NULL
};

int cfg_worker_parse(const cfg_map_t *m, worker_config_t *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    /* a misspelt bootstrap.servers would silently mean the embedded, in-memory Kafka */
    if (check_unknown_keys(m, worker_keys, worker_prefixes, "worker", err, errlen) < 0)
        return -1;
    w->bootstrap_servers = xstrdup(get_or(m, "bootstrap.servers", "embedded"));
    w->offset_topic = xstrdup(get_or(m, "offset.storage.topic", "connect-offsets"));
    /* Connect's default partitions (25); its replication factor is 3, walcast's the broker's default (-1), as for
     * the config and status topics: a single broker (a laptop, the tests) cannot hold 3 replicas */
    if (parse_int(m, "offset.storage.partitions", 25, 1, &w->offset_partitions, err, errlen) < 0 ||
        parse_replication(m, "offset.storage.replication.factor", &w->offset_replication, err, errlen) < 0) {
        cfg_worker_free(w);
        return -1;
    }
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->kv[i].key;
        if (strncmp(k, "producer.", 9) == 0)
            cfg_map_set(&w->producer, k + 9, m->kv[i].value);
        else if (strncmp(k, "consumer.", 9) == 0)
            cfg_map_set(&w->consumer, k + 9, m->kv[i].value);
    }
    return 0;
}

/* Connect standalone's form is `connect-standalone worker.properties connector.properties…`: a file
 * with bootstrap.servers and no connector.class is a worker file. */
bool cfg_is_worker(const cfg_map_t *m)
{
    return cfg_get(m, "bootstrap.servers") && !cfg_get(m, "connector.class");
}

void cfg_worker_free(worker_config_t *w)
{
    free(w->bootstrap_servers);
    free(w->offset_topic);
    cfg_map_free(&w->producer);
    cfg_map_free(&w->consumer);
    memset(w, 0, sizeof *w);
}

/* ---- sinks (io.debezium.connector.jdbc.JdbcSinkConnector, MongoDbSinkConnector) ---- */

/* Debezium 3.x's debezium-connector-mongodb names its sink io.debezium.connector.mongodb.MongoDbSinkConnector;
 * the sink-package name walcast took first stays accepted. */
static bool is_mongo_sink_class(const char *c)
{
    return c && (!strcmp(c, "io.debezium.connector.mongodb.MongoDbSinkConnector") ||
                 !strcmp(c, "io.debezium.connector.mongodb.sink.MongoDbSinkConnector"));
}

bool cfg_is_sink(const cfg_map_t *m)
{
    const char *c = cfg_get(m, "connector.class");
    return c && (!strcmp(c, "io.debezium.connector.jdbc.JdbcSinkConnector") || is_mongo_sink_class(c));
}

const char *cfg_task_class(const cfg_map_t *m)
{
    const char *cls = cfg_get(m, "connector.class");
    if (!cfg_is_sink(m))
        return "io.debezium.connector.postgresql.PostgresConnectorTask";
    return is_mongo_sink_class(cls) ? "io.debezium.connector.mongodb.sink.MongoDbSinkConnectorTask"
                                    : "io.debezium.connector.jdbc.JdbcSinkConnectorTask";
}

static char *dup_n(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Percent-decoding for the user/password parts of a URL. */
static char *pct_decode(const char *p, size_t n)
{
    char *s = xmalloc(n + 1), *o = s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && isxdigit((unsigned char)p[i + 1]) && isxdigit((unsigned char)p[i + 2])) {
            char hx[3] = { p[i + 1], p[i + 2], 0 };
            *o++ = (char)strtol(hx, NULL, 16);
            i += 2;
        } else {
            *o++ = p[i];
        }
    }
    *o = '\0';
    return s;
}

int cfg_sink_url_parse(const char *url, sk_url_t *u, char *err, size_t errlen)
{
    static const struct { const char *prefix; sk_dialect_t d; } schemes[] = {
        { "jdbc:postgresql://", SK_DIALECT_POSTGRES }, { "postgresql://", SK_DIALECT_POSTGRES },
        { "postgres://", SK_DIALECT_POSTGRES },        { "jdbc:mysql://", SK_DIALECT_MYSQL },
        { "jdbc:mariadb://", SK_DIALECT_MYSQL },       { "mysql://", SK_DIALECT_MYSQL },
        { "mariadb://", SK_DIALECT_MYSQL },            { "mongodb://", SK_DIALECT_MONGODB },
        { "mongodb+srv://", SK_DIALECT_MONGODB },
    };
    memset(u, 0, sizeof *u);
    const char *p = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (!strncasecmp(url, schemes[i].prefix, strlen(schemes[i].prefix))) {
            p = url + strlen(schemes[i].prefix);
            u->dialect = schemes[i].d;
            break;
        }
    if (!p) {
        /* never echo the URL: it may hold a password */
        snprintf(err, errlen, "connection.url must start with jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, "
                              "postgresql:// or mysql://");
        return -1;
    }
    size_t auth_end = strcspn(p, "/?");
    const char *at = memchr(p, '@', auth_end);
    const char *hp = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            u->user = pct_decode(p, (size_t)(colon - p));
            u->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
        } else {
            u->user = pct_decode(p, (size_t)(at - p));
        }
        hp = at + 1;
    }
    size_t hl = (size_t)(p + auth_end - hp);
    if (hl) {
        const char *hend = hp + hl;
        const char *colon = NULL;
        if (*hp == '[') {   /* [ipv6]:port */
            const char *rb = memchr(hp, ']', hl);
            if (!rb) {
                snprintf(err, errlen, "connection.url: unterminated [ in the host part");
                goto fail;
            }
            u->host = dup_n(hp + 1, (size_t)(rb - hp - 1));
            if (rb + 1 < hend && rb[1] == ':')
                colon = rb + 1;
        } else {
            colon = memchr(hp, ':', hl);
            const char *comma = memchr(hp, ',', hl);
            if (comma) {
                snprintf(err, errlen, "connection.url: several hosts are not supported; give one host");
                goto fail;
            }
            u->host = dup_n(hp, (size_t)((colon ? colon : hend) - hp));
        }
        if (colon) {
            char *end;
            char portbuf[16];
            size_t pl = (size_t)(hend - colon - 1);
            if (pl == 0 || pl >= sizeof portbuf) {
                snprintf(err, errlen, "connection.url: the port is not a number from 1 to 65535");
                goto fail;
            }
            memcpy(portbuf, colon + 1, pl);
            portbuf[pl] = '\0';
            long port = strtol(portbuf, &end, 10);
            if (*end || port < 1 || port > 65535) {
                snprintf(err, errlen, "connection.url: the port '%s' is not a number from 1 to 65535", portbuf);
                goto fail;
            }
            u->port = (int)port;
        }
    }
    p += auth_end;
    if (*p == '/') {
        p++;
        size_t dl = strcspn(p, "?");
        if (dl)
            u->database = pct_decode(p, dl);
        p += dl;
    }
    if (*p == '?' && p[1]) {
        u->params = xstrdup(p + 1);
        /* user/password may be given as JDBC properties in the query string */
        char *q = xstrdup(p + 1), *save = NULL;
        for (char *kv = strtok_r(q, "&;", &save); kv; kv = strtok_r(NULL, "&;", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = '\0';
            if (!strcmp(kv, "user") && !u->user)
                u->user = pct_decode(eq + 1, strlen(eq + 1));
            else if (!strcmp(kv, "password") && !u->password)
                u->password = pct_decode(eq + 1, strlen(eq + 1));
        }
        free(q);
    }
    return 0;
fail:
    cfg_sink_url_free(u);
    return -1;
}

void cfg_sink_url_free(sk_url_t *u)
{
    free(u->host);
    free(u->database);
    free(u->user);
    free(u->password);
    free(u->params);
    memset(u, 0, sizeof *u);
}

static const char *const sink_keys[] = {
    "name", "connector.class", "tasks.max", "topics", "topics.regex", "connection.url", "connection.username",
    "connection.user", "connection.password", "insert.mode", "delete.enabled", "truncate.enabled",
    "primary.key.mode", "primary.key.fields", "collection.name.format", "table.name.format", "quote.identifiers",
    "batch.size", "schema.evolution", "conflict.policy", "conflict.log.enabled", "mongodb.connection.string",
    "sink.database", "use.time.zone", "database.time_zone", "dialect.postgres.postgis.schema",
    "connection.pool.min_size", "connection.pool.max_size", "connection.pool.acquire_increment",
    "connection.pool.timeout", "hibernate.c3p0.idle_test_period", "column.naming.strategy",
    "table.naming.strategy", "collection.naming.strategy", "field.include.list", "field.exclude.list",
    "use.reduction.buffer", "flush.max.retries", "flush.retry.delay.ms", "connection.provider",
    "unavailable.value.placeholder", NULL
};

/* Kafka Connect's own sink connector keys and walcast's; families taken as they are. */
static const char *const sink_keys_connect[] = {
    "connector.plugin.version", "tasks.max.enforce", "config.action.reload", "key.converter", "value.converter",
    "header.converter", "transforms", "predicates", "errors.retry.timeout", "errors.retry.delay.max.ms",
    "errors.tolerance", "errors.log.enable", "errors.log.include.messages", "errors.deadletterqueue.topic.name",
    "errors.deadletterqueue.topic.replication.factor", "errors.deadletterqueue.context.headers.enable",
    "walcast.version.column", "walcast.origin.name", "walcast.retry.backoff.max.ms", NULL
};
static const char *const sink_prefixes[] = {
    "key.converter.", "value.converter.", "header.converter.", "transforms.", "predicates.", "consumer.override.",
    "producer.override.", "admin.override.", "conflict.policy.", NULL
};

void cfg_known_keys(bool sink, cfg_key_fn fn, void *ctx)
{
    if (sink) {
        for (int i = 0; sink_keys[i]; i++)
            fn(ctx, sink_keys[i], CFG_KEY_USED);
        for (int i = 0; sink_keys_connect[i]; i++)
            fn(ctx, sink_keys_connect[i], CFG_KEY_USED);
        return;
    }
    for (int i = 0; known_keys[i]; i++) {
        const char *k = known_keys[i];
        cfg_key_use_t use = CFG_KEY_USED;
        for (int j = 0; ignored_keys[j] && use == CFG_KEY_USED; j++)
            if (!strcmp(ignored_keys[j], k))
                use = CFG_KEY_IGNORED;
        for (size_t j = 0; j < sizeof refused_keys / sizeof refused_keys[0] && use == CFG_KEY_USED; j++)
            if (!strcmp(refused_keys[j].key, k))
                use = CFG_KEY_DEFAULT_ONLY;
        fn(ctx, k, use);
    }
}

int cfg_sink_parse(const cfg_map_t *m, sk_config_t *c, char *err, size_t errlen)
{
    static const char *const inserts[] = { "insert", "update", "upsert", NULL };
    static const char *const pks[] = { "none", "kafka", "record_key", "record_value", NULL };
    static const char *const evo[] = { "none", "basic", NULL };
    static const char *const pol[] = { "source_wins", "newer_wins", "target_wins", "error", NULL };
    static const char *const tol[] = { "none", "all", NULL };
    int e;
    memset(c, 0, sizeof *c);
    c->name = dup_get(m, "name", NULL);
    c->connector_class = dup_get(m, "connector.class", NULL);
    if (!c->name) {
        snprintf(err, errlen, "the sink has no name; set name=... (its consumer group is connect-<name>)");
        goto fail;
    }
    {
        /* one list of the keys a sink knows: Debezium's (sink_keys), Kafka Connect's and walcast's */
        size_t nk = 0, nd = 0, nc = 0;
        while (sink_keys[nd])
            nd++;
        while (sink_keys_connect[nc])
            nc++;
        const char **all = xcalloc(nd + nc + 1, sizeof *all);
        for (size_t i = 0; i < nd; i++)
            all[nk++] = sink_keys[i];
        for (size_t i = 0; i < nc; i++)
            all[nk++] = sink_keys_connect[i];
        char what[300];
        snprintf(what, sizeof what, "sink %s", c->name);
        int urc = check_unknown_keys(m, all, sink_prefixes, what, err, errlen);
        free(all);
        if (urc < 0)
            goto fail;
    }
    c->topics = dup_get(m, "topics", NULL);
    c->topics_regex = dup_get(m, "topics.regex", NULL);
    if (!c->topics == !c->topics_regex) {
        snprintf(err, errlen, "sink %s: set exactly one of topics and topics.regex", c->name);
        goto fail;
    }
    {
        char why[1024];
        if (parse_transforms(m, &c->transforms, why, sizeof why) < 0) {
            snprintf(err, errlen, "sink %s: %s", c->name, why);
            goto fail;
        }
    }
    bool mongo = is_mongo_sink_class(c->connector_class);
    if (mongo) {
        c->mongo_uri = dup_get(m, "mongodb.connection.string", NULL);
        c->mongo_database = dup_get(m, "sink.database", NULL);
        if (!c->mongo_uri || !c->mongo_database) {
            snprintf(err, errlen, "sink %s: set mongodb.connection.string and sink.database", c->name);
            goto fail;
        }
        c->conn.dialect = SK_DIALECT_MONGODB;
    } else {
        c->url = dup_get(m, "connection.url", NULL);
        if (!c->url) {
            snprintf(err, errlen, "sink %s: set connection.url (jdbc:postgresql://HOST:PORT/DB or jdbc:mysql://...)",
                     c->name);
            goto fail;
        }
        char uerr[256];
        if (cfg_sink_url_parse(c->url, &c->conn, uerr, sizeof uerr) < 0) {
            snprintf(err, errlen, "sink %s: %s", c->name, uerr);
            goto fail;
        }
        const char *user = get_or(m, "connection.username", get_or(m, "connection.user", NULL));
        if (user) {
            free(c->conn.user);
            c->conn.user = xstrdup(user);
        }
        const char *pw = cfg_get(m, "connection.password");
        if (pw) {
            free(c->conn.password);
            c->conn.password = xstrdup(pw);
        }
    }
    if (parse_enum(m, "insert.mode", "insert", inserts, &e, err, errlen) < 0)
        goto fail;
    c->insert_mode = (sk_insert_mode_t)e;
    /* the MongoDB sink's _id is the Kafka key struct (Debezium's MongoDB sink): record_key by default */
    if (parse_enum(m, "primary.key.mode", mongo ? "record_key" : "none", pks, &e, err, errlen) < 0)
        goto fail;
    c->pk_mode = (sk_pk_mode_t)e;
    c->pk_fields = dup_get(m, "primary.key.fields", NULL);
    /* consumer.override.* (Kafka Connect's per-connector client settings), over the worker's consumer.*;
     * the three that exactly-once apply stands on are refused */
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->kv[i].key;
        if (strncmp(k, "consumer.override.", 18))
            continue;
        k += 18;
        const char *v = m->kv[i].value, *need = !strcmp(k, "isolation.level") ? "read_committed"
                                               : !strcmp(k, "enable.auto.commit") || !strcmp(k, "enable.auto.offset.store")
                                                   ? "false" : NULL;
        if (need && strcasecmp(v, need)) {
            snprintf(err, errlen, "consumer.override.%s=%s cannot be used: the sink reads committed records only and "
                     "keeps its positions in the target (remove the key or set it to %s)", k, v, need);
            goto fail;
        }
        if (need)
            continue;   /* what the sink sets anyway */
        c->consumer_override = xrealloc(c->consumer_override, 2 * (c->nconsumer_override + 1) * sizeof(char *));
        c->consumer_override[2 * c->nconsumer_override] = xstrdup(k);
        c->consumer_override[2 * c->nconsumer_override + 1] = xstrdup(m->kv[i].value);
        c->nconsumer_override++;
    }
    if (parse_bool(m, "delete.enabled", false, &c->delete_enabled, err, errlen) < 0 ||
        parse_bool(m, "truncate.enabled", false, &c->truncate_enabled, err, errlen) < 0 ||
        parse_bool(m, "quote.identifiers", false, &c->quote_identifiers, err, errlen) < 0 ||
        parse_bool(m, "conflict.log.enabled", false, &c->conflict_log, err, errlen) < 0 ||
        parse_bool(m, "errors.deadletterqueue.context.headers.enable", false, &c->dlq_context_headers, err, errlen) < 0 ||
        parse_int(m, "batch.size", 500, 1, &c->batch_size, err, errlen) < 0 ||
        parse_int(m, "tasks.max", 1, 1, &c->tasks_max, err, errlen) < 0 ||
        parse_int(m, "errors.deadletterqueue.topic.replication.factor", 3, -1, &c->dlq_replication_factor, err,
                  errlen) < 0 ||
        parse_int(m, "walcast.retry.backoff.max.ms", 30000, 10, &c->retry_backoff_max_ms, err, errlen) < 0)
        goto fail;
    if (c->tasks_max > SK_TASKS_MAX) {
        snprintf(err, errlen, "invalid value '%d' for tasks.max; expected an integer from 1 to %d (each task is its own "
                 "consumer of group connect-%s and its own target session)", c->tasks_max, SK_TASKS_MAX, c->name);
        goto fail;
    }
    if (c->delete_enabled && c->pk_mode != SK_PK_RECORD_KEY && !mongo) {
        snprintf(err, errlen, "sink %s: delete.enabled=true needs primary.key.mode=record_key (as Debezium's JDBC sink)",
                 c->name);
        goto fail;
    }
    if (c->insert_mode != SK_INSERT_INSERT && c->pk_mode == SK_PK_NONE && !mongo) {
        snprintf(err, errlen, "sink %s: insert.mode=%s needs a primary key; set primary.key.mode=record_key",
                 c->name, inserts[c->insert_mode]);
        goto fail;
    }
    if (parse_enum(m, "schema.evolution", "none", evo, &e, err, errlen) < 0)
        goto fail;
    c->schema_evolution = e == 1;
    c->table_format = dup_get(m, "collection.name.format", get_or(m, "table.name.format", "${topic}"));
    if (parse_enum(m, "errors.tolerance", "none", tol, &e, err, errlen) < 0)
        goto fail;
    c->errors_tolerance_all = e == 1;
    c->dlq_topic = dup_get(m, "errors.deadletterqueue.topic.name", NULL);
    if (parse_enum(m, "conflict.policy", "source_wins", pol, &e, err, errlen) < 0)
        goto fail;
    c->policy = (sk_policy_t)e;
    c->version_column = dup_get(m, "walcast.version.column", "__walcast_version");
    c->placeholder = dup_get(m, "unavailable.value.placeholder", "__debezium_unavailable_value");
    /* AvroConverter input: records in the Confluent wire format are decoded with writer schemas by id */
    c->registry_url = dup_get(m, "value.converter.schema.registry.url", get_or(m, "key.converter.schema.registry.url", NULL));
    c->registry_user_info = dup_get(m, "value.converter.basic.auth.user.info",
                                    get_or(m, "key.converter.basic.auth.user.info", NULL));
    const char *hc = get_or(m, "header.converter", "");
    c->header_strings = !strcmp(hc, "org.apache.kafka.connect.storage.StringConverter");
    /* PostgreSQL apply sessions carry the replication origin walcast_<name>, which source connectors skip
     * by default (walcast.skip.origins=walcast.*); walcast.origin.name= (empty) turns it off */
    const char *origin = cfg_get(m, "walcast.origin.name");
    if (!origin) {
        c->origin_name = xmalloc(strlen(c->name) + 9);
        sprintf(c->origin_name, "walcast_%s", c->name);
    } else if (*origin)
        c->origin_name = xstrdup(origin);
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->kv[i].key;
        if (!strncmp(k, "conflict.policy.", 16) && k[16]) {
            if (parse_enum(m, k, "source_wins", pol, &e, err, errlen) < 0)
                goto fail;
            c->table_policies = xrealloc(c->table_policies, (c->ntable_policies + 1) * sizeof *c->table_policies);
            c->table_policies[c->ntable_policies].table = xstrdup(k + 16);
            c->table_policies[c->ntable_policies].policy = (sk_policy_t)e;
            c->ntable_policies++;
        }
    }
    return 0;
fail:
    cfg_sink_free(c);
    return -1;
}

void cfg_sink_free(sk_config_t *c)
{
    tf_spec_free(c->transforms);
    free(c->name);
    free(c->connector_class);
    free(c->topics);
    free(c->topics_regex);
    free(c->url);
    cfg_sink_url_free(&c->conn);
    free(c->pk_fields);
    free(c->table_format);
    free(c->dlq_topic);
    for (size_t i = 0; i < c->ntable_policies; i++)
        free(c->table_policies[i].table);
    free(c->table_policies);
    free(c->version_column);
    free(c->placeholder);
    for (size_t i = 0; i < 2 * c->nconsumer_override; i++)
        free(c->consumer_override[i]);
    free(c->consumer_override);
    free(c->origin_name);
    free(c->mongo_uri);
    free(c->mongo_database);
    free(c->registry_url);
    free(c->registry_user_info);
    memset(c, 0, sizeof *c);
}
