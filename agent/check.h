/* check.h: the prerequisites of a connector checked before it starts (`walcast check`, and the errors of
 * REST's PUT /connector-plugins/{p}/config/validate): its configuration, then the servers it needs. */
#ifndef WALCAST_CHECK_H
#define WALCAST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agent/config.h"

/* One checked prerequisite. Strings are owned by the list (never hold a secret's value). */
typedef struct chk_result {
    char *name;      /* what was checked: "config", "postgresql", "wal_level", "max_replication_slots",
                        "max_wal_senders", "replication_role", "select", "publication", "slot",
                        "replica_identity", "kafka", "kafka_transactions", "offsets_topic", "schema_registry",
                        "target", "offsets_table" */
    char *key;       /* the config key the result belongs to: Connect's ConfigInfos puts a failed result's
                        message in that key's "errors" (e.g. wal_level -> database.hostname, the slot ->
                        slot.name, Kafka -> bootstrap.servers, a bad value -> that key) */
    bool ok;
    char *message;   /* what was found (also when ok: "wal_level=logical") */
    char *fix;       /* what to change, exactly (the SQL statement or the setting); NULL when ok */
} chk_result_t;

typedef struct chk_list {
    chk_result_t *v;
    size_t n, cap;
} chk_list_t;

typedef struct chk_opts {
    bool offline;       /* configuration only, no connection to any server (fast; for validate while typing) */
    int timeout_ms;     /* per server contacted (0: 10000) */
    bool worker_topics; /* a source's also the worker's offsets topic (walcast check; not REST's validate, whose
                         * errors are about the connector's own keys) */
} chk_opts_t;

/* Checks one connector (source or sink, by connector.class) given its config map m and the worker's
 * map wm (NULL: none; its own config providers already resolved, cfgprov_resolve(wm, wm)) and parsed settings
 * w (bootstrap.servers "embedded" counts as reachable). m is the connector's config as written: its
 * ${provider:path:key} variables are resolved here, in a copy, with wm's providers. Every result is appended to out,
 * in the order of the checks; a check that cannot run because an earlier one failed (no connection) is
 * left out. Changes nothing on any server, except that a sink's walcast_sink_offsets table is created
 * when missing (as the sink does at start, and to prove that it can be). Returns 0 when streaming can start (every result ok), 1 if
 * not. */
int chk_connector(const cfg_map_t *wm, const worker_config_t *w, const cfg_map_t *m, const chk_opts_t *o,
                  chk_list_t *out);
/* Appends one result (strings copied; fix NULL when ok). */
void chk_add(chk_list_t *l, const char *name, const char *key, bool ok, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Number of results that are not ok. */
size_t chk_failures(const chk_list_t *l);
/* One line per result: "OK   name: message" or "FAIL name: message\n     fix: ..." */
void chk_print(const chk_list_t *l, FILE *f);
void chk_list_free(chk_list_t *l);

/* `walcast check [--worker FILE] CONNECTOR_FILE...`: exit code 0 only when every connector can start. */
int chk_main(int argc, char **argv);

#endif
