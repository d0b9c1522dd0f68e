/* http.c: libmicrohttpd under walcast's HTTP listeners: one daemon per listener, a thread per connection
 * (a slow handler never holds up a status poll), basic auth checked before any handler runs. */
#include "agent/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/log.h"
#include "schemas/buf.h"

#define HTTP_MAX_LISTENERS 8
#define HTTP_MAX_ARGS 32

typedef struct http_listener {
    struct MHD_Daemon *d;
    char addr[300];
} http_listener_t;

struct http_server {
    http_listener_t l[HTTP_MAX_LISTENERS];
    size_t nl;
    http_route_t *routes;
    size_t nroutes;
    cfg_map_t users;              /* user -> password */
    bool auth;
    size_t max_body;
    char *pem;
    char *key_password;
};

/* One request in flight: its body as it arrives. */
typedef struct http_conn {
    buf_t body;
    bool too_big;
} http_conn_t;

int http_listener_parse(const char *url, bool *https, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
    const char *p;
    if (!strncmp(url, "http://", 7)) {
        *https = false;
        p = url + 7;
    } else if (!strncmp(url, "https://", 8)) {
        *https = true;
        p = url + 8;
    } else {
        snprintf(err, errlen, "listener '%s' must start with http:// or https://", url);
        return -1;
    }
    const char *colon;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (!e || e[1] != ':') {
            snprintf(err, errlen, "listener '%s': an IPv6 host is written [addr]:port", url);
            return -1;
        }
        if ((size_t)(e - p - 1) >= hostlen)
            goto toolong;
        memcpy(host, p + 1, (size_t)(e - p - 1));
        host[e - p - 1] = 0;
        colon = e + 1;
    } else {
        colon = strrchr(p, ':');
        if (!colon) {
            snprintf(err, errlen, "listener '%s' has no port (write it as http://host:port)", url);
            return -1;
        }
        if ((size_t)(colon - p) >= hostlen)
            goto toolong;
        memcpy(host, p, (size_t)(colon - p));
        host[colon - p] = 0;
    }
    char *end;
    errno = 0;
    long v = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || (*end && strcmp(end, "/")) || v < 0 || v > 65535) {
        snprintf(err, errlen, "listener '%s': the port must be a number from 0 to 65535", url);
        return -1;
    }
    *port = (int)v;
    return 0;
toolong:
    snprintf(err, errlen, "listener '%s': host name too long", url);
    return -1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = 0;
    log_debug("http server", "detail=\"%s\"", log_esc(line));
}

/* Constant-time comparison so that the time to refuse says nothing of the password. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

static bool authorized(http_server_t *s, struct MHD_Connection *c)
{
    if (!s->auth)
        return true;
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    bool ok = false;
    if (user && pass) {
        const char *want = cfg_get(&s->users, user);
        ok = want && same_secret(pass, want);
    }
    if (user)
        MHD_free(user);
    if (pass)
        MHD_free(pass);
    return ok;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    http_req_t *r = cls;
    if (r->nargs >= HTTP_MAX_ARGS)
        return MHD_NO;
    const char **a = (const char **)r->args;
    a[2 * r->nargs] = key;
    a[2 * r->nargs + 1] = value;
    r->nargs++;
    return MHD_YES;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, http_resp_t *rp)
{
    size_t n = rp->body ? strlen(rp->body) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(n, rp->body ? rp->body : (void *)"",
                                                             rp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    rp->body = NULL;
    if (!r)
        return MHD_NO;
    if (n || rp->status != 204)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rp->content_type ? rp->content_type : "application/json");
    if (rp->location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rp->location);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* msg is one of this file's fixed texts: nothing in it needs JSON escaping. */
static char *error_body(int code, const char *msg)
{
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "{\"error_code\":%d,\"message\":\"%s\"}", code, msg);
    buf_cstr(&b);
    return b.data;
}

bool http_refuse(const http_req_t *req, http_resp_t *resp, bool path_ok)
{
    if (!path_ok) {
        resp->status = 404;
        resp->body = error_body(404, "HTTP 404 Not Found");
    } else if (strcmp(req->method, "GET") != 0) {
        resp->status = 405;
        resp->body = error_body(405, "HTTP 405 Method Not Allowed");
    } else
        return false;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server_t *s = cls;
    http_conn_t *hc = *con_cls;
    if (!hc) {
        hc = xcalloc(1, sizeof *hc);
        buf_init(&hc->body);
        *con_cls = hc;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!hc->too_big && hc->body.len + *upload_size > s->max_body) {
            hc->too_big = true;
            buf_free(&hc->body);
            buf_init(&hc->body);
        }
        if (!hc->too_big)
            buf_append(&hc->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    http_resp_t rp = { 0 };
    if (!authorized(s, c)) {
        /* Connect's BasicAuthSecurityRestExtension answers 401 with no challenge header of its own;
         * the challenge is added so that curl and browsers ask for credentials */
        char *b = error_body(401, "User cannot access the resource.");
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(b), b, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "walcast", r);
        MHD_destroy_response(r);
        return ret;
    }
    if (hc->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "Request body larger than %zu bytes", s->max_body);
        rp.status = 413;
        rp.body = error_body(413, msg);
        return send_resp(c, &rp);
    }
    const char *args[2 * HTTP_MAX_ARGS];
    http_req_t rq = { .method = method, .path = url, .args = args, .body = hc->body.data ? (const char *)hc->body.data : "",
                      .body_len = hc->body.len };
    if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &rq) > HTTP_MAX_ARGS) {
        rp.status = 400;
        rp.body = error_body(400, "Too many query parameters");
        return send_resp(c, &rp);
    }
    buf_append(&hc->body, "", 1);   /* NUL-terminated for the handler */
    rq.body = (const char *)hc->body.data;
    const http_route_t *best = NULL;
    size_t bestlen = 0;
    for (size_t i = 0; i < s->nroutes; i++) {
        size_t pl = strlen(s->routes[i].prefix);
        if (!strncmp(url, s->routes[i].prefix, pl) && (!best || pl > bestlen)) {
            best = &s->routes[i];
            bestlen = pl;
        }
    }
    if (best)
        best->fn(best->ctx, &rq, &rp);
    if (!rp.status) {
        rp.status = 404;
        free(rp.body);
        rp.body = error_body(404, "HTTP 404 Not Found");
    }
    enum MHD_Result ret = send_resp(c, &rp);
    free(rp.body);
    free(rp.location);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    http_conn_t *hc = *con_cls;
    if (hc) {
        buf_free(&hc->body);
        free(hc);
        *con_cls = NULL;
    }
}

/* The file's bytes, NUL-terminated, malloc'd (NULL on failure). */
static char *read_all(const char *path, char *err, size_t errlen)
{
    buf_t b;
    buf_init(&b);
    if (buf_read_file(&b, path, err, errlen) < 0) {
        buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : xstrdup("");
}

static int listen_one(http_server_t *s, const char *url, char *err, size_t errlen)
{
    bool https;
    char host[256];
    int port;
    if (s->nl == HTTP_MAX_LISTENERS) {
        snprintf(err, errlen, "at most %d listeners", HTTP_MAX_LISTENERS);
        return -1;
    }
    if (http_listener_parse(url, &https, host, sizeof host, &port, err, errlen) < 0)
        return -1;
    if (https && !s->pem) {
        snprintf(err, errlen, "listener %s is https but no key and certificate are set: set listeners.https.ssl.keystore.location "
                 "(or ssl.keystore.location) to a PEM file holding the private key and the certificate chain", url);
        return -1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int gr = getaddrinfo(host[0] ? host : NULL, ps, &hints, &ai);
    if (gr != 0) {
        snprintf(err, errlen, "listener %s: cannot resolve '%s': %s", url, host, gai_strerror(gr));
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (https)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls[] = {
        { https ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->pem },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, s->pem },
        { s->key_password ? MHD_OPTION_HTTPS_KEY_PASSWORD : MHD_OPTION_END, 0, s->key_password },
        { MHD_OPTION_END, 0, NULL },
    };
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
                                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                                            MHD_OPTION_CONNECTION_LIMIT, 256u,
                                            MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                            MHD_OPTION_ARRAY, tls,
                                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        snprintf(err, errlen, "cannot listen on %s (port in use, address not on this host%s)", url,
                 https ? ", or the PEM file's key and certificate do not load" : "");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int bound = info ? info->port : port;
    http_listener_t *l = &s->l[s->nl++];
    l->d = d;
    if (strchr(host, ':'))
        snprintf(l->addr, sizeof l->addr, "[%s]:%d", host, bound);
    else
        snprintf(l->addr, sizeof l->addr, "%s:%d", host[0] ? host : "0.0.0.0", bound);
    log_info("REST listener started", "url=%s://%s", https ? "https" : "http", l->addr);
    return 0;
}

http_server_t *http_start(const http_config_t *c, const http_route_t *routes, size_t nroutes, char *err, size_t errlen)
{
    http_server_t *s = xcalloc(1, sizeof *s);
    s->max_body = c->max_body ? c->max_body : 1 << 20;
    s->routes = xcalloc(nroutes ? nroutes : 1, sizeof *routes);
    memcpy(s->routes, routes, nroutes * sizeof *routes);
    s->nroutes = nroutes;
    if (c->auth_file) {
        char sub[512];
        if (cfg_load_file(c->auth_file, &s->users, sub, sizeof sub) < 0) {
            snprintf(err, errlen, "basic auth credentials: %s", sub);
            goto fail;
        }
        s->auth = true;
    }
    if (c->tls_pem_file && !(s->pem = read_all(c->tls_pem_file, err, errlen)))
        goto fail;
    s->key_password = xstrdup(c->tls_key_password);
    const char *p = c->listeners && *c->listeners ? c->listeners : "http://127.0.0.1:8083";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (!n)
            break;
        char url[512];
        snprintf(url, sizeof url, "%.*s", (int)n, p);
        if (listen_one(s, url, err, errlen) < 0)
            goto fail;
        p += n;
    }
    if (!s->nl) {
        snprintf(err, errlen, "listeners is empty: give at least one, e.g. http://127.0.0.1:8083");
        goto fail;
    }
    return s;
fail:
    http_stop(s);
    return NULL;
}

const char *http_listener_addr(const http_server_t *s, size_t i)
{
    return s && i < s->nl ? s->l[i].addr : NULL;
}

void http_stop(http_server_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nl; i++)
        MHD_stop_daemon(s->l[i].d);
    cfg_map_free(&s->users);
    if (s->pem) {
        memset(s->pem, 0, strlen(s->pem));   /* key material */
        free(s->pem);
    }
    free(s->key_password);
    free(s->routes);
    free(s);
}
