/* registry.c: Schema Registry client over libcurl. Answers are parsed with jansson; ids are cached per
 * (subject, schema text) so each table version costs one request; credentials never reach a message. */
#include "schemas/registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json.h"

typedef struct sr_entry {
    char *key;                /* subject NUL schema */
    size_t keylen;
    uint64_t hash;
    int32_t id;
} sr_entry_t;

struct sr_client {
    char **urls;
    char **shown;             /* the same URLs without credentials */
    size_t nurls;
    size_t cur;               /* the URL that answered last */
    sr_config_t cfg;
    char *user_info, *ca_file, *cert_file, *cert_type, *key_file, *key_password;
    int away_ms;              /* > 0: no URL answered the last request; wait this long before the next */
    char away_why[1024];      /* every URL's failure then, for the log (credentials never in it) */
    CURL *curl;
    buf_t body, resp;
    sr_entry_t *cache;        /* open addressing, power-of-two size */
    size_t ncache, capcache;
    uint64_t requests;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

void sr_redact_url(const char *url, char *out, size_t outlen)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *end = host + strcspn(host, "/?#");
    const char *at = NULL;
    for (const char *p = host; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    snprintf(out, outlen, "%.*s***@%s", (int)(host - url), url, at + 1);
}

sr_client_t *sr_new(const sr_config_t *cfg, char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init_once);
    if (!cfg->urls || !*cfg->urls) {
        snprintf(err, errlen, "no schema registry URL: set schema.registry.url (e.g. http://localhost:8081)");
        return NULL;
    }
    sr_client_t *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    if (c->cfg.timeout_ms <= 0)
        c->cfg.timeout_ms = 30000;
    if (c->cfg.backoff_max_ms <= 0)
        c->cfg.backoff_max_ms = 10000;
    c->user_info = dup_or_null(cfg->user_info);
    c->ca_file = dup_or_null(cfg->ca_file);
    c->cert_file = dup_or_null(cfg->cert_file);
    c->cert_type = dup_or_null(cfg->cert_type);
    c->key_file = dup_or_null(cfg->key_file);
    c->key_password = dup_or_null(cfg->key_password);
    buf_init(&c->body);
    buf_init(&c->resp);
    char *list = xstrdup(cfg->urls);
    char *save = NULL;
    for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        size_t n = strlen(tok);
        while (n && tok[n - 1] == '/')
            tok[--n] = '\0';
        char shown[512];
        sr_redact_url(tok, shown, sizeof shown);
        if (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0) {
            snprintf(err, errlen, "schema registry URL '%s' must start with http:// or https://", shown);
            free(list);
            sr_free(c);
            return NULL;
        }
        c->urls = xrealloc(c->urls, (c->nurls + 1) * sizeof *c->urls);
        c->shown = xrealloc(c->shown, (c->nurls + 1) * sizeof *c->shown);
        c->urls[c->nurls] = xstrdup(tok);
        c->shown[c->nurls] = xstrdup(shown);
        c->nurls++;
    }
    free(list);
    if (!c->nurls) {
        snprintf(err, errlen, "schema.registry.url holds no URL");
        sr_free(c);
        return NULL;
    }
    c->curl = curl_easy_init();
    if (!c->curl) {
        snprintf(err, errlen, "cannot initialise libcurl");
        sr_free(c);
        return NULL;
    }
    return c;
}

void sr_free(sr_client_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nurls; i++) {
        free(c->urls[i]);
        free(c->shown[i]);
    }
    free(c->urls);
    free(c->shown);
    free(c->user_info);
    free(c->ca_file);
    free(c->cert_file);
    free(c->cert_type);
    free(c->key_file);
    if (c->key_password)
        memset(c->key_password, 0, strlen(c->key_password));
    free(c->key_password);
    for (size_t i = 0; i < c->capcache; i++)
        free(c->cache[i].key);
    free(c->cache);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    buf_free(&c->body);
    buf_free(&c->resp);
    free(c);
}

uint64_t sr_requests(const sr_client_t *c) { return c->requests; }

/* ---- cache --------------------------------------------------------------------------------- */

static sr_entry_t *cache_slot(sr_client_t *c, const char *key, size_t keylen, uint64_t h)
{
    if (!c->capcache)
        return NULL;
    size_t mask = c->capcache - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        sr_entry_t *e = &c->cache[i];
        if (!e->key || (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0))
            return e;
    }
}

static void cache_put(sr_client_t *c, const char *key, size_t keylen, uint64_t h, int32_t id)
{
    if ((c->ncache + 1) * 2 > c->capcache) {
        size_t ncap = c->capcache ? c->capcache * 2 : 64;
        sr_entry_t *old = c->cache;
        size_t oldcap = c->capcache;
        c->cache = xcalloc(ncap, sizeof *c->cache);
        c->capcache = ncap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].key)
                *cache_slot(c, old[i].key, old[i].keylen, old[i].hash) = old[i];
        free(old);
    }
    sr_entry_t *e = cache_slot(c, key, keylen, h);
    if (e->key)
        return;
    e->key = xmalloc(keylen);
    memcpy(e->key, key, keylen);
    e->keylen = keylen;
    e->hash = h;
    e->id = id;
    c->ncache++;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    buf_append(ud, p, size * n);
    return size * n;
}

static void url_escape(buf_t *b, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hx[*p >> 4]);
            buf_putc(b, hx[*p & 15]);
        }
    }
}

typedef enum { HTTP_ANSWER, HTTP_UNREACHABLE, HTTP_TLS_CONFIG } http_rc_t;

/* One request to one URL; *status is the HTTP status when it answered. */
static http_rc_t http_once(sr_client_t *c, size_t u, const char *method, const char *path, const buf_t *body,
                           long *status, char *why, size_t whylen)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    char url[2048];
    snprintf(url, sizeof url, "%s%s", c->urls[u], path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");   /* like Confluent's client: no proxy from the environment */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->cfg.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.timeout_ms < 10000 ? c->cfg.timeout_ms : 10000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
    if (c->user_info) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->user_info);
    }
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->cert_file) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
        if (c->cert_type)
            curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, c->cert_type);
    }
    if (c->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
    if (c->key_password)
        curl_easy_setopt(h, CURLOPT_KEYPASSWD, c->key_password);
    if (!c->cfg.verify_host)
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, "Accept: application/vnd.schemaregistry.v1+json, application/json");
    if (body) {
        hdr = curl_slist_append(hdr, "Content-Type: application/vnd.schemaregistry.v1+json");
        hdr = curl_slist_append(hdr, "Expect:");   /* no 100-continue round trip for large schemas */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body->len);
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    buf_reset(&c->resp);
    c->requests++;
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s: %s", c->shown[u], *detail ? detail : curl_easy_strerror(rc));
        /* a TLS alert from the registry (no or a refused client certificate, no common protocol) is
         * its answer, not a network hiccup: retrying will not change it */
        if ((rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) &&
            strstr(detail, "alert"))
            return HTTP_TLS_CONFIG;
        switch (rc) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_UNSUPPORTED_PROTOCOL:
            return HTTP_TLS_CONFIG;
        default:
            return HTTP_UNREACHABLE;
        }
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return HTTP_ANSWER;
}

/* The registry's {"error_code":…,"message":…}, or the start of the body. */
static void registry_message(const buf_t *resp, char *out, size_t outlen)
{
    json_error_t je;
    json_t *j = resp->len ? json_loadb(resp->data, resp->len, 0, &je) : NULL;
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (m)
        snprintf(out, outlen, "%s (error_code %lld)", m, (long long)json_integer_value(json_object_get(j, "error_code")));
    else
        snprintf(out, outlen, "%.*s", (int)(resp->len > 200 ? 200 : resp->len), resp->len ? resp->data : "");
    json_decref(j);
}

/* Tries each URL once, from the one that answered last: WC_OK with *status set when one answers with a
 * status that is not a server-side hiccup; WC_FATAL on a TLS configuration error; else WC_RETRY, with
 * away_ms (100 ms, doubled on each such request in a row up to backoff_max_ms) and away_why set for the
 * caller's wait (sr_retry_in_ms). The client never waits itself: its caller decides how. */
static wc_status_t request(sr_client_t *c, const char *method, const char *path, const buf_t *body, long *status,
                   char *err, size_t errlen)
{
    char *why = c->away_why;
    why[0] = '\0';
    for (size_t k = 0; k < c->nurls; k++) {
        size_t u = (c->cur + k) % c->nurls;
        char one[512];
        http_rc_t r = http_once(c, u, method, path, body, status, one, sizeof one);
        if (r == HTTP_TLS_CONFIG) {
            snprintf(err, errlen, "schema registry TLS failure: %s; check schema.registry.ssl.truststore.location (a PEM CA file), the keystore settings and ssl.endpoint.identification.algorithm",
                     one);
            return WC_FATAL;
        }
        if (r == HTTP_ANSWER) {
            if (*status < 500 && *status != 408 && *status != 429) {
                c->cur = u;
                c->away_ms = 0;
                return WC_OK;
            }
            char m[400];
            registry_message(&c->resp, m, sizeof m);
            snprintf(one, sizeof one, "%s answered HTTP %ld: %s", c->shown[u], *status, m);
        }
        size_t l = strlen(why);
        snprintf(why + l, sizeof c->away_why - l, "%s%s", l ? "; " : "", one);
    }
    c->away_ms = !c->away_ms ? 100 : c->away_ms * 2 > c->cfg.backoff_max_ms ? c->cfg.backoff_max_ms : c->away_ms * 2;
    snprintf(err, errlen, "schema registry unavailable (%s)", why);
    return WC_RETRY;
}

int sr_retry_in_ms(const sr_client_t *c, const char **why)
{
    if (why)
        *why = c && c->away_ms ? c->away_why : "";
    return c ? c->away_ms : 0;
}

static wc_status_t refusal(sr_client_t *c, long status, const char *subject, const char *what, char *err, size_t errlen)
{
    char m[600];
    registry_message(&c->resp, m, sizeof m);
    const char *todo;
    switch (status) {
    case 409:
        todo = "the new schema is incompatible with the subject's earlier versions under its compatibility level: "
               "change the subject's level (PUT /config/<subject>), make the table change compatible (e.g. give a "
               "new NOT NULL column a DEFAULT), or write to a new topic";
        break;
    case 401:
    case 403:
        todo = "the registry refused the credentials: check basic.auth.credentials.source and basic.auth.user.info";
        break;
    case 404:
        todo = c->cfg.auto_register ? "check schema.registry.url (it should be the registry's base URL)"
                                    : "register the schema first or set auto.register.schemas=true";
        break;
    case 422:
        todo = "the registry rejected the schema as invalid";
        break;
    default:
        todo = "check the registry and its logs";
        break;
    }
    snprintf(err, errlen, "schema registry %s refused to %s subject \"%s\": HTTP %ld: %s; %s", c->shown[c->cur], what,
             subject, status, m, todo);
    return WC_FATAL;
}

static wc_status_t answer_id(sr_client_t *c, const char *subject, int32_t *id, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(c->resp.data ? c->resp.data : "", c->resp.len, 0, &je);
    json_t *v = j ? json_object_get(j, "id") : NULL;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) {
        snprintf(err, errlen, "schema registry %s gave no schema id for subject \"%s\" (answer: %.*s)", c->shown[c->cur],
                 subject, (int)(c->resp.len > 200 ? 200 : c->resp.len), c->resp.len ? c->resp.data : "");
        json_decref(j);
        return WC_FATAL;
    }
    *id = (int32_t)json_integer_value(v);
    json_decref(j);
    return WC_OK;
}

/* True when the answer's "schema" is the same JSON as schema (key order and spacing aside). */
static bool latest_is(const sr_client_t *c, const char *schema, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(c->resp.data ? c->resp.data : "", c->resp.len, 0, &je);
    const char *text = j ? json_string_value(json_object_get(j, "schema")) : NULL;
    json_t *theirs = text ? json_loads(text, 0, &je) : NULL;
    json_t *mine = json_loadb(schema, len, 0, &je);
    bool same = mine && theirs && json_equal(mine, theirs);
    json_decref(mine);
    json_decref(theirs);
    json_decref(j);
    return same;
}

wc_status_t sr_schema_id(sr_client_t *c, const char *subject, const char *schema, size_t len, int32_t *id, char *err,
                 size_t errlen)
{
    size_t sl = strlen(subject);
    buf_t key;
    buf_init(&key);
    buf_append(&key, subject, sl + 1);
    buf_append(&key, schema, len);
    uint64_t h = buf_hash(key.data, key.len, 0);
    sr_entry_t *e = cache_slot(c, key.data, key.len, h);
    if (e && e->key) {
        *id = e->id;
        buf_free(&key);
        return WC_OK;
    }
    /* use.latest.version: GET the latest; auto.register.schemas: POST a version; else POST a lookup */
    const char *method = c->cfg.use_latest ? "GET" : "POST";
    const char *suffix = c->cfg.use_latest ? "/versions/latest" : c->cfg.auto_register ? "/versions" : "";
    const char *what = c->cfg.use_latest ? "give the latest version of"
                       : c->cfg.auto_register ? "register a new schema version under"
                                              : "find the event's schema (auto.register.schemas=false) in";
    buf_t path;
    buf_init(&path);
    buf_puts(&path, "/subjects/");
    url_escape(&path, subject);
    buf_puts(&path, suffix);
    buf_reset(&c->body);
    buf_puts(&c->body, "{\"schema\":");
    json_enc_string(&c->body, schema, len);
    buf_putc(&c->body, '}');
    long status = 0;
    wc_status_t rc = request(c, method, buf_cstr(&path), c->cfg.use_latest ? NULL : &c->body, &status, err, errlen);
    if (rc != WC_OK)
        goto out;
    if (status != 200) {
        rc = refusal(c, status, subject, what, err, errlen);
        goto out;
    }
    if (c->cfg.use_latest && !latest_is(c, schema, len)) {
        /* walcast writes with the table's own schema: the latest version must be that very schema */
        snprintf(err, errlen, "use.latest.version: the latest schema of subject \"%s\" at %s is not the schema of the events walcast writes now; register it, or set use.latest.version=false (and auto.register.schemas=true)",
                 subject, c->shown[c->cur]);
        rc = WC_FATAL;
        goto out;
    }
    rc = answer_id(c, subject, id, err, errlen);
    if (rc == WC_OK)
        cache_put(c, key.data, key.len, h, *id);
out:
    buf_free(&path);
    buf_free(&key);
    return rc;
}

wc_status_t sr_ping(sr_client_t *c, char *err, size_t errlen)
{
    long status = 0;
    wc_status_t rc = request(c, "GET", "/subjects", NULL, &status, err, errlen);
    if (rc != WC_OK)
        return rc;
    if (status != 200)
        return refusal(c, status, "(any)", "list", err, errlen);
    return WC_OK;
}

wc_status_t sr_schema_by_id(sr_client_t *c, int32_t id, buf_t *out, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/schemas/ids/%d", id);
    long status = 0;
    wc_status_t rc = request(c, "GET", path, NULL, &status, err, errlen);
    if (rc != WC_OK)
        return rc;
    if (status != 200)
        return refusal(c, status, path, "give", err, errlen);
    json_error_t je;
    json_t *j = json_loadb(c->resp.data, c->resp.len, 0, &je);
    const char *s = j ? json_string_value(json_object_get(j, "schema")) : NULL;
    if (!s) {
        snprintf(err, errlen, "schema registry %s: no schema in the answer for id %d", c->shown[c->cur], id);
        json_decref(j);
        return WC_FATAL;
    }
    buf_puts(out, s);
    json_decref(j);
    return WC_OK;
}
