/* conflict.c: conflict policy lookup, names, and version text. The checks themselves run inside the
 * targets' statements (one round trip per batch), which report the conflicts they met. */
#include "sinks/conflict.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "schemas/json.h"

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

/* The source id part of a version text (after the 32 hex digits of time and LSN). */
static const char *ver_source(const char *v)
{
    return strlen(v) >= 32 ? v + 32 : "";
}

cf_decision_t cf_decide(const sk_table_t *tab, const sk_change_t *c, bool exists, const char *existing_ver)
{
    cf_decision_t d = { -1, true, false };
    char iv[256];
    sk_version_text(&c->version, iv, sizeof iv);
    bool differs = exists && existing_ver && strcmp(ver_source(existing_ver), ver_source(iv));
    if (c->op == SK_OP_UPSERT) {
        if (c->src_op != 'u')
            d.type = exists ? SK_CONFLICT_INSERT_EXISTS : -1;
        else if (!exists)
            d.type = SK_CONFLICT_UPDATE_MISSING;
        else if (differs)
            d.type = SK_CONFLICT_UPDATE_ORIGIN_DIFFERS;
    } else if (c->op == SK_OP_DELETE) {
        d.type = !exists ? SK_CONFLICT_DELETE_MISSING : differs ? SK_CONFLICT_DELETE_ORIGIN_DIFFERS : -1;
    }
    switch (tab->policy) {
    case SK_POLICY_SOURCE_WINS:
        break;
    case SK_POLICY_NEWER_WINS:
        if (exists && existing_ver && strcmp(existing_ver, iv) >= 0)
            d.apply = false;   /* stale */
        break;
    case SK_POLICY_TARGET_WINS:
        if (d.type == SK_CONFLICT_INSERT_EXISTS || d.type == SK_CONFLICT_UPDATE_ORIGIN_DIFFERS ||
            d.type == SK_CONFLICT_DELETE_ORIGIN_DIFFERS)
            d.apply = false;
        break;
    case SK_POLICY_ERROR:
        d.fail = d.type >= 0;
        break;
    }
    if (c->op == SK_OP_DELETE && !exists)
        d.apply = false;   /* nothing to delete */
    return d;
}

void cf_key_json(buf_t *b, const sk_table_t *tab, const sk_change_t *c)
{
    const cs_schema_t *rs = tab->row;
    buf_putc(b, '{');
    for (size_t p = 0; p < tab->npk; p++) {
        int f = cs_field_index(rs, tab->pk[p]);
        if (p)
            buf_putc(b, ',');
        json_enc_string(b, tab->pk[p], strlen(tab->pk[p]));
        buf_putc(b, ':');
        if (f >= 0)
            json_enc_value(b, rs->fields[f].schema, &c->row.u.list.v[f]);
        else
            buf_puts(b, "null");
    }
    buf_putc(b, '}');
}

void cf_row_json(buf_t *b, const sk_table_t *tab, const sk_change_t *c)
{
    json_enc_value(b, tab->row, &c->row);
}
