/* conflict.h: conflict policies per table, conflict type names, and the order of row versions: within one
 * source its commit order (LSN; a snapshot row at its snapshot's position), across sources their clocks. */
#ifndef WALCAST_SINK_CONFLICT_H
#define WALCAST_SINK_CONFLICT_H

#include <stdbool.h>

#include "schemas/buf.h"
#include "sinks/target.h"

/* The policy for table (conflict.policy.<table> override, else conflict.policy). */
sk_policy_t cf_policy_for(const sk_config_t *cfg, const char *table);
/* PostgreSQL 18's name of a conflict type ("insert_exists", ...). */
const char *cf_type_name(sk_conflict_t t);
const char *cf_policy_name(sk_policy_t p);

/* Whether the version text incoming is newer than stored (both walcast.version.column texts). Of one source:
 * a streamed change is newer than any snapshot row (Kafka holds a key's events in commit order, and a change
 * whose transaction was open across the snapshot point has a smaller LSN than the snapshot), a snapshot row
 * newer than a streamed change of a smaller LSN, and two of a kind are ordered by LSN, then time. Of two
 * sources: by time, then LSN, then source id. A stored text walcast cannot read is older than anything. Pure. */
bool cf_version_newer(const char *incoming, const char *stored);
/* Whether two version texts name the same source id (false when either cannot be read). */
bool cf_version_same_source(const char *a, const char *b);
/* The length of the part of a version text every version of its source shares ("v" + length + ":" +
 * source id + ":"; the kind follows), 0 for a text of the old form. */
size_t cf_version_prefix(const char *v);

/* What a change meets in the target and what the table's policy makes of it. */
typedef struct cf_decision {
    int type;        /* sk_conflict_t met, -1: none */
    bool apply;      /* false: skip the change (stale, target wins, nothing to delete) */
    bool fail;       /* conflict.policy=error met a conflict: the record is poison */
} cf_decision_t;

/* exists: the target has a row with the change's key; existing_ver: its version text (NULL: none);
 * unversioned_foreign: a row without a version is someone else's (the target versions every row it
 * writes, as MongoDB does; a SQL table may hold rows from before its version column). A row of the
 * change's own source whose version is not older is a replay (skipped, no conflict). Types, judged by the
 * key's first change in the batch: an insert, or a snapshot row that finds a row not walcast's own from its
 * source, meets insert_exists, the new
 * key of a primary-key change update_exists; otherwise an upsert meets update_missing or (a foreign row)
 * update_origin_differs, a delete delete_missing or delete_origin_differs. Policies: source_wins applies;
 * newer_wins skips what is not newer (cf_version_newer); target_wins keeps every row that is not walcast's
 * own from this source; error fails on any conflict. Pure. */
cf_decision_t cf_decide(const sk_table_t *tab, const sk_change_t *c, bool exists, const char *existing_ver,
                        bool unversioned_foreign);

/* Applies n changes of one table and op through target ops o, as o->apply does, but decides the
 * conflicts first when the table's policy (or conflict.log.enabled) needs it and o can read existing rows:
 * reads them (o->fetch_existing, locked where the target can), decides each change with cf_decide, counts
 * into *cc, logs them (o->log_conflicts), stops with WC_PERMANENT under conflict.policy=error, then writes
 * only the changes the policy keeps (o->apply with tab->policy = source_wins, right after that read). */
wc_status_t cf_apply(const sk_target_ops_t *o, sk_target_t *t, const sk_config_t *cfg, const sk_table_t *tab,
                     sk_insert_mode_t mode, const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc,
                     char *err, size_t errlen);

/* The change's key as a JSON object and its row as JSON (walcast_conflicts columns); appended to b. */
void cf_key_json(buf_t *b, const sk_table_t *tab, const sk_change_t *c);
void cf_row_json(buf_t *b, const sk_table_t *tab, const sk_change_t *c);

#endif
