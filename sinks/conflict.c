/* conflict.c: conflict policy lookup, names, version text, the decision per change (cf_decide, pure) and
 * the one conflict wrapper every SQL target runs under (cf_apply): read the rows the batch's keys have,
 * decide, count, log, then write what the policy keeps. Under source_wins without a conflict log nothing
 * is read: the targets' statements count what they meet (affected rows) in one round trip. */
#include "sinks/conflict.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/buf.h"
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
    /* whether the target should not have the key yet: an insert (or snapshot row), or the new key of a
     * primary-key change; after reduction, src_op and key_changed are those of the key's first change in
     * the batch (a delete then a re-insert expects the row, an insert then a delete does not) */
    bool fresh = c->src_op == 'c' || c->src_op == 'r' || (c->src_op == 'u' && c->key_changed);
    sk_conflict_t taken = c->key_changed ? SK_CONFLICT_UPDATE_EXISTS : SK_CONFLICT_INSERT_EXISTS;
    if (fresh)
        d.type = exists ? (int)taken : -1;
    else if (c->op == SK_OP_UPSERT)
        d.type = !exists ? SK_CONFLICT_UPDATE_MISSING : differs ? SK_CONFLICT_UPDATE_ORIGIN_DIFFERS : -1;
    else if (c->op == SK_OP_DELETE)
        d.type = !exists ? SK_CONFLICT_DELETE_MISSING : differs ? SK_CONFLICT_DELETE_ORIGIN_DIFFERS : -1;
    switch (tab->policy) {
    case SK_POLICY_SOURCE_WINS:
        break;
    case SK_POLICY_NEWER_WINS:
        if (exists && existing_ver && strcmp(existing_ver, iv) >= 0)
            d.apply = false;   /* stale */
        break;
    case SK_POLICY_TARGET_WINS:
        if (d.type == SK_CONFLICT_INSERT_EXISTS || d.type == SK_CONFLICT_UPDATE_ORIGIN_DIFFERS ||
            d.type == SK_CONFLICT_UPDATE_EXISTS || d.type == SK_CONFLICT_DELETE_ORIGIN_DIFFERS)
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

wc_status_t cf_apply(const sk_target_ops_t *o, sk_target_t *t, const sk_config_t *cfg, const sk_table_t *tab,
                     sk_insert_mode_t mode, const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc,
                     char *err, size_t errlen)
{
    if (!n)
        return WC_OK;
    if (ch[0]->op == SK_OP_TRUNCATE || !tab->npk || !o->fetch_existing ||
        (tab->policy == SK_POLICY_SOURCE_WINS && !cfg->conflict_log))
        return o->apply(t, tab, mode, ch, n, cc, err, errlen);

    sk_existing_t *ex = xcalloc(n, sizeof *ex);
    const sk_change_t **kept = xcalloc(n, sizeof *kept);
    sk_conflict_rec_t *logs = xcalloc(n, sizeof *logs);
    size_t m = 0, nlog = 0;
    wc_status_t st = o->fetch_existing(t, tab, ch, n, ex, err, errlen);
    for (size_t i = 0; i < n && st == WC_OK; i++) {
        const sk_change_t *c = ch[i];
        cf_decision_t dc = cf_decide(tab, c, ex[i].found, ex[i].ver);
        if (dc.fail) {
            snprintf(err, errlen, "conflict %s on table %s for %s[%d]@%" PRId64 " (conflict.policy=error)",
                     cf_type_name((sk_conflict_t)dc.type), tab->name, c->topic, c->partition, c->offset);
            st = WC_PERMANENT;
            break;
        }
        if (dc.apply)
            kept[m++] = c;
        if (dc.type < 0)
            continue;
        if (cc)
            cc->n[dc.type]++;
        if (!cfg->conflict_log)
            continue;
        sk_conflict_rec_t *e = &logs[nlog++];
        buf_t b;
        buf_init(&b);
        cf_key_json(&b, tab, c);
        e->key = xstrdup(buf_cstr(&b));
        if (c->op == SK_OP_UPSERT) {
            buf_reset(&b);
            cf_row_json(&b, tab, c);
            e->incoming = xstrdup(buf_cstr(&b));
        }
        buf_free(&b);
        e->existing = ex[i].row;
        e->type = (sk_conflict_t)dc.type;
    }
    if (st == WC_OK && nlog)
        st = o->log_conflicts(t, tab, logs, nlog, err, errlen);
    if (st == WC_OK && m) {
        /* the policy has decided: what is kept overwrites (a same-origin update under target_wins too) */
        sk_table_t decided = *tab;
        decided.policy = SK_POLICY_SOURCE_WINS;
        sk_insert_mode_t wm = ch[0]->op == SK_OP_DELETE || mode == SK_INSERT_UPDATE ? mode : SK_INSERT_UPSERT;
        st = o->apply(t, &decided, wm, kept, m, NULL, err, errlen);
    }
    for (size_t i = 0; i < nlog; i++) {
        free((char *)logs[i].key);
        free((char *)logs[i].incoming);
    }
    for (size_t i = 0; i < n; i++) {
        free(ex[i].ver);
        free(ex[i].row);
    }
    free(logs);
    free(kept);
    free(ex);
    return st;
}
