/* registry.h: a Confluent Schema Registry client (the REST subset the AvroConverter uses): register or
 * look up a subject's schema, cache ids, fail over between URLs, retry transient failures with backoff. */
#ifndef WALCAST_REGISTRY_H
#define WALCAST_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/buf.h"
#include "schemas/status.h"

typedef struct sr_config {
    const char *urls;             /* schema.registry.url: comma-separated */
    const char *user_info;        /* "user:password" (basic.auth.user.info); NULL: none or in the URL */
    const char *ca_file;          /* PEM CA bundle (schema.registry.ssl.truststore.location, type PEM) */
    const char *cert_file;        /* client certificate (keystore: PKCS12 or PEM) */
    const char *cert_type;        /* "P12" or "PEM" */
    const char *key_file;         /* PEM private key when separate */
    const char *key_password;
    bool verify_host;             /* ssl.endpoint.identification.algorithm=https (default) */
    bool auto_register;           /* auto.register.schemas */
    bool use_latest;              /* use.latest.version */
    int timeout_ms;               /* per request */
    int backoff_max_ms;           /* longest wait between retries */
} sr_config_t;

typedef struct sr_client sr_client_t;

/* NULL with err filled when the configuration is unusable (no URL, bad URL scheme). */
sr_client_t *sr_new(const sr_config_t *cfg, char *err, size_t errlen);
void sr_free(sr_client_t *c);

/* The id of schema under subject: from the cache, else registered (auto.register.schemas), looked up
 * (auto.register.schemas=false), or the latest version's (use.latest.version, which must be the same
 * schema). When no URL answers (unreachable, 5xx, 408, 429): WC_RETRY, and sr_retry_in_ms says how long
 * to wait before calling again; a
 * refusal (409 incompatible, 401/403, 404, 422) returns WC_FATAL with the subject, the registry's
 * message and what to change. */
wc_status_t sr_schema_id(sr_client_t *c, const char *subject, const char *schema, size_t len, int32_t *id, char *err,
                 size_t errlen);

/* GET /subjects: the registry answers and accepts the credentials (walcast check). */
wc_status_t sr_ping(sr_client_t *c, char *err, size_t errlen);

/* GET /schemas/ids/{id}: the schema text (tests and tools). */
wc_status_t sr_schema_by_id(sr_client_t *c, int32_t id, buf_t *out, char *err, size_t errlen);

/* > 0 when the client's last request found no URL answering: how long to wait before the next (100 ms,
 * doubling while it stays away, up to backoff_max_ms); *why (if not NULL) then lists each URL's failure,
 * without credentials. 0 once a URL answered (and for NULL). */
int sr_retry_in_ms(const sr_client_t *c, const char **why);

/* Requests sent (not answered from the cache), for tests and metrics. */
uint64_t sr_requests(const sr_client_t *c);

/* A URL with any user:password@ removed, for messages. */
void sr_redact_url(const char *url, char *out, size_t outlen);

#endif
