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

/* Called before each wait between retries with the reason (credentials never in it); sleeps ms and
 * returns false when the caller is stopping, which ends the retries. */
typedef bool (*sr_wait_fn)(void *ctx, int ms, const char *why);

typedef struct sr_client sr_client_t;

/* NULL with err filled when the configuration is unusable (no URL, bad URL scheme). */
sr_client_t *sr_new(const sr_config_t *cfg, sr_wait_fn wait, void *wait_ctx, char *err, size_t errlen);
void sr_free(sr_client_t *c);

/* The id of schema under subject: from the cache, else registered (auto.register.schemas), looked up
 * (auto.register.schemas=false), or the latest version's (use.latest.version, which must be the same
 * schema). Unreachable registries and 5xx answers are retried through wait until they answer (WC_RETRY when wait says stop); a
 * refusal (409 incompatible, 401/403, 404, 422) returns WC_FATAL with the subject, the registry's
 * message and what to change. */
wc_status_t sr_schema_id(sr_client_t *c, const char *subject, const char *schema, size_t len, int32_t *id, char *err,
                 size_t errlen);

/* GET /subjects: the registry answers and accepts the credentials (walcast check). Tries each URL once
 * when the client has no wait hook. */
wc_status_t sr_ping(sr_client_t *c, char *err, size_t errlen);

/* GET /schemas/ids/{id}: the schema text (tests and tools). */
wc_status_t sr_schema_by_id(sr_client_t *c, int32_t id, buf_t *out, char *err, size_t errlen);

/* Requests sent (not answered from the cache), for tests and metrics. */
uint64_t sr_requests(const sr_client_t *c);

/* A URL with any user:password@ removed, for messages. */
void sr_redact_url(const char *url, char *out, size_t outlen);

#endif
