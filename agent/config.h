/* config.h: connector and worker configuration: .properties and JSON files (REST body or flat map),
 * Debezium's keys with their defaults, validated with errors that name key, value and what is allowed. */
#ifndef WALCAST_CONFIG_H
#define WALCAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "decoder/event.h"
#include "decoder/filter.h"
#include "decoder/pgtypes.h"
#include "schemas/converter.h"
#include "schemas/tracking.h"
#include "schemas/transform.h"
#include "sinks/target.h"

typedef struct cfg_kv {
    char *key;
    char *value;
} cfg_kv_t;

typedef struct cfg_map {
    cfg_kv_t *kv;
    size_t n, cap;
} cfg_map_t;

void cfg_map_free(cfg_map_t *m);
void cfg_map_set(cfg_map_t *m, const char *key, const char *value);
/* Adds (or overwrites) every key of src in dst. */
void cfg_map_copy(cfg_map_t *dst, const cfg_map_t *src);
const char *cfg_get(const cfg_map_t *m, const char *key);
/* Reads a .properties or .json file; a REST-style {"name":…,"config":{…}} body puts name in "name". */
int cfg_load_file(const char *path, cfg_map_t *m, char *err, size_t errlen);
int cfg_parse_properties(const char *text, cfg_map_t *m, char *err, size_t errlen);
int cfg_parse_json(const char *text, cfg_map_t *m, char *err, size_t errlen);
/* A JSON object of keys and scalar values (numbers and booleans as their text) into m; keys whose value
 * is null go into nulls when it is given (PATCH removes them), else are left out. */
struct json_t;
int cfg_map_from_json(const struct json_t *obj, cfg_map_t *m, cfg_map_t *nulls, char *err, size_t errlen);
/* True for keys whose values are secrets (passwords, SASL, registry credentials). */
bool cfg_is_secret(const char *key);
/* cfg_is_secret, or a URL-valued key (…url) whose value holds a password (user:password@host or a
 * password= parameter): never shown either. */
bool cfg_is_secret_value(const char *key, const char *value);

/* key.converter / value.converter and, for Avro, its schema registry client settings. */
typedef struct cfg_conv {
    conv_side_t side;             /* kind, schemas.enable, connect.meta.data, subject strategy (registry: the agent's) */
    bool avro;
    char *urls;                   /* schema.registry.url */
    char *user_info;              /* basic.auth.user.info (credentials source USER_INFO) */
    char *ca_file;                /* schema.registry.ssl.truststore.location (PEM) */
    char *cert_file, *cert_type;  /* schema.registry.ssl.keystore.location/.type (PKCS12 or PEM) */
    char *key_file;               /* schema.registry.ssl.key.location (PEM key, walcast's addition) */
    char *key_password;           /* ssl.key.password, else ssl.keystore.password */
    bool verify_host;             /* ssl.endpoint.identification.algorithm=https */
    bool auto_register, use_latest;
} cfg_conv_t;

typedef enum { PUB_ALL_TABLES, PUB_FILTERED, PUB_DISABLED, PUB_NO_TABLES } cfg_pubmode_t;

typedef struct conn_config {
    char *name;
    char *host, *port, *user, *password, *dbname;
    cfg_map_t libpq;              /* extra libpq keywords: sslmode, sslrootcert, ... */
    char *topic_prefix;
    char *topic_delimiter;
    char *slot_name;
    char *publication_name;
    cfg_pubmode_t pub_mode;
    bool slot_drop_on_stop;
    char *snapshot_mode;
    int snapshot_max_threads;     /* snapshot.max.threads: reader connections */
    int snapshot_fetch_size;      /* snapshot.fetch.size: rows per fetch */
    int snapshot_chunk_rows;      /* walcast.snapshot.chunk.rows: rows per key-range chunk */
    int snapshot_delay_ms;        /* snapshot.delay.ms */
    int encode_threads;           /* walcast.encode.threads: streamed changes are encoded on this many threads (0: on the read thread) */
    bool snapshot_parallel_encode; /* walcast.snapshot.parallel.encode: readers encode their rows (default) */
    bool snapshot_lanes;          /* walcast.snapshot.lanes: two Kafka transactions at once in the initial snapshot (off) */
    char *snapshot_isolation;     /* snapshot.isolation.mode */
    flt_list_t snapshot_include;  /* snapshot.include.collection.list */
    cfg_map_t snapshot_overrides; /* "schema.table" -> snapshot.select.statement.overrides.<schema.table> */
    char *signal_collection;      /* signal.data.collection: "schema.table" of the signal table, or NULL */
    bool signal_source, signal_kafka; /* signal.enabled.channels: source, kafka */
    char *signal_topic;           /* signal.kafka.topic (default <topic.prefix>-signal) */
    char *signal_bootstrap;       /* signal.kafka.bootstrap.servers (default: the worker's) */
    int incremental_chunk_rows;   /* incremental.snapshot.chunk.size */
    int status_interval_ms;
    bool status_on_commit;        /* walcast.status.on.commit: a moved flush position is sent at once */
    int heartbeat_interval_ms;
    char *heartbeat_action_query;
    int max_queue_size;
    int max_batch_size;
    int txn_max_ms;               /* walcast.transaction.max.ms */
    int txn_max_events;           /* walcast.transaction.max.events */
    int txn_min_ms;               /* walcast.transaction.min.ms: earliest commit once caught up */
    bool streaming;               /* walcast.streaming: pgoutput protocol 2 streaming of large transactions */
    int memory_limit_mb;          /* walcast.memory.limit.mb: in-progress streamed transactions kept in memory */
    char *spill_dir;              /* walcast.spill.dir */
    cfg_conv_t key_conv, value_conv;
    evt_config_t evt;             /* strings point into this struct's fields */
    flt_filters_t filters;
    char *placeholder;
    tf_spec_t *transforms;        /* transforms= / predicates=: NULL when none */
    bool errors_tolerance_all;    /* errors.tolerance=all: a record a transform fails on is logged and skipped */
    wc_topic_hook_t topics;       /* not a key: the worker's topic tracking, set by whoever runs the connector */
} conn_config_t;

/* Validates and fills c from the map; unknown keys are logged as warnings. */
/* Kafka Connect: a connector without its own key.converter / value.converter takes the worker's
 * (wm), with the worker's settings for it. */
void cfg_inherit_converters(const cfg_map_t *wm, cfg_map_t *m);
int cfg_connector_parse(const cfg_map_t *m, conn_config_t *c, char *err, size_t errlen);
void cfg_connector_free(conn_config_t *c);

typedef struct worker_config {
    char *bootstrap_servers;      /* "embedded" = in-process mock cluster */
    char *offset_topic;
    int offset_partitions;        /* offset.storage.partitions (25): when walcast creates the offsets topic */
    int offset_replication;       /* offset.storage.replication.factor (-1: the broker's default) */
    cfg_map_t producer;           /* producer.* overrides, prefix stripped */
    cfg_map_t consumer;           /* consumer.* overrides (sinks), prefix stripped */
} worker_config_t;

/* -1 with err for a key one or two edits away from a known worker key; other unknown keys are warned. */
int cfg_worker_parse(const cfg_map_t *m, worker_config_t *w, char *err, size_t errlen);
/* A worker file (Connect standalone's first argument): bootstrap.servers and no connector.class. */
bool cfg_is_worker(const cfg_map_t *m);
void cfg_worker_free(worker_config_t *w);

/* Sinks: a connector file whose connector.class is Debezium's JDBC (or MongoDB) sink connector. */
bool cfg_is_sink(const cfg_map_t *m);
/* The Debezium task class of a connector config (its task records and GET /connectors/{n}/tasks):
 * PostgresConnectorTask, JdbcSinkConnectorTask or MongoDbSinkConnectorTask. */
const char *cfg_task_class(const cfg_map_t *m);
/* Validates and fills c from Debezium JDBC / MongoDB sink keys; err never holds the password. */
int cfg_sink_parse(const cfg_map_t *m, sk_config_t *c, char *err, size_t errlen);
/* How walcast treats a key it accepts: used; accepted and ignored; accepted only with Debezium's default. */
typedef enum { CFG_KEY_USED, CFG_KEY_IGNORED, CFG_KEY_DEFAULT_ONLY } cfg_key_use_t;
typedef void (*cfg_key_fn)(void *ctx, const char *key, cfg_key_use_t use);
/* Every key a source (PostgresConnector) or sink connector config may name, in the order of walcast's
 * key lists (families such as transforms.* are not listed). */
void cfg_known_keys(bool sink, cfg_key_fn fn, void *ctx);
void cfg_sink_free(sk_config_t *c);
/* connection.url (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, postgresql://, mysql://, mongodb://)
 * taken apart; user:password@ and ?user=&password= are read too. */
int cfg_sink_url_parse(const char *url, sk_url_t *u, char *err, size_t errlen);
void cfg_sink_url_free(sk_url_t *u);

#endif
