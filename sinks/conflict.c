/* conflict.c: conflict policy lookup, names, and version text. The checks themselves run inside the
 * targets' statements (one round trip per batch), which report the conflicts they met. */
#include "sinks/conflict.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

sk_policy_t cf_policy_for(const sk_config_t *cfg, const char *table)
{
    for (size_t i = 0; i < cfg->ntable_policies; i++)
        if (!strcmp(cfg->table_policies[i].table, table))
            return cfg->table_policies[i].policy;
    return cfg->policy;
}

const char *cf_type_name(sk_conflict_t t)
{
    switch (t) {
    case SK_CONFLICT_INSERT_EXISTS: return "insert_exists";
    case SK_CONFLICT_UPDATE_ORIGIN_DIFFERS: return "update_origin_differs";
    case SK_CONFLICT_UPDATE_EXISTS: return "update_exists";
    case SK_CONFLICT_UPDATE_MISSING: return "update_missing";
    case SK_CONFLICT_DELETE_ORIGIN_DIFFERS: return "delete_origin_differs";
    case SK_CONFLICT_DELETE_MISSING: return "delete_missing";
    case SK_CONFLICT_NTYPES: break;
    }
    return "unknown";
}

const char *cf_policy_name(sk_policy_t p)
{
    switch (p) {
    case SK_POLICY_SOURCE_WINS: return "source_wins";
    case SK_POLICY_NEWER_WINS: return "newer_wins";
    case SK_POLICY_TARGET_WINS: return "target_wins";
    case SK_POLICY_ERROR: return "error";
    }
    return "unknown";
}

size_t sk_version_text(const sk_version_t *v, char *out, size_t outlen)
{
    /* offset binary so that negative times (before 1970) still sort first */
    int n = snprintf(out, outlen, "%016" PRIx64 "%016" PRIx64 "%s", (uint64_t)((uint64_t)v->ts_us ^ UINT64_C(0x8000000000000000)),
                     v->lsn, v->source ? v->source : "");
    if (n < 0)
        return 0;
    return (size_t)n < outlen ? (size_t)n : outlen - 1;
}
