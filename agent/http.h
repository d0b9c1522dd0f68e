/* http.h: the one small HTTP server of the process (libmicrohttpd), which the REST API, and later the
 * metrics and the dashboard, answer through: listeners, TLS, HTTP basic auth, bounded request bodies. */
#ifndef WALCAST_HTTP_H
#define WALCAST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* One request, whole. Strings are NUL-terminated and valid for the handler's call only. */
typedef struct http_req {
    const char *method;
    const char *path;                  /* percent-decoded, without the query */
    const char *const *args;           /* query arguments: key, value, key, value, ... (a value may be NULL) */
    size_t nargs;                      /* pairs */
    const char *body;                  /* NUL-terminated; body_len bytes (may hold NULs) */
    size_t body_len;
} http_req_t;

/* What the handler answers: status, and a body (malloc'd, taken over by the server) or none. */
typedef struct http_resp {
    int status;
    char *body;
    const char *content_type;          /* static; NULL means application/json */
    char *location;                    /* malloc'd Location header, or NULL */
} http_resp_t;

/* @locality: one of the server's connection threads; handlers run concurrently. */
/* For a route that answers GET only: a 404 (path_ok false) or a 405 (another method) in Connect's error
 * body, and true; false when the request is to be served. */
bool http_refuse(const http_req_t *req, http_resp_t *resp, bool path_ok);

typedef void (*http_handler_fn)(void *ctx, const http_req_t *req, http_resp_t *resp);

/* Requests whose path starts with prefix go to fn (the longest prefix wins). */
typedef struct http_route {
    const char *prefix;
    http_handler_fn fn;
    void *ctx;
} http_route_t;

typedef struct http_config {
    const char *listeners;             /* Connect's listeners: "http://127.0.0.1:8083,https://:8443" */
    const char *tls_pem_file;          /* https: private key and certificate chain, PEM, in one file */
    const char *tls_key_password;      /* the key's password, or NULL */
    const char *auth_file;             /* basic auth: user=password lines (Connect's PropertyFileLoginModule
                                        * file), or NULL for none */
    size_t max_body;                   /* bytes; larger bodies get 413 (0: 1 MiB) */
} http_config_t;

typedef struct http_server http_server_t;

/* Binds every listener and starts serving; NULL and err when one cannot be used. */
http_server_t *http_start(const http_config_t *c, const http_route_t *routes, size_t nroutes, char *err, size_t errlen);
/* Listener i as "host:port" with the port actually bound (listeners may ask for port 0), or NULL. */
const char *http_listener_addr(const http_server_t *s, size_t i);
/* Stops accepting, waits for running handlers, frees. */
void http_stop(http_server_t *s);

/* Parses a listener URL ("http://host:port", host may be empty or "[v6]"); 0 or -1 with err. */
int http_listener_parse(const char *url, bool *https, char *host, size_t hostlen, int *port, char *err, size_t errlen);

#endif
