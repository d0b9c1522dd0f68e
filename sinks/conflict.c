/* conflict.c: conflict policy lookup, names, version text and order, the decision per change (cf_decide,
 * pure) and the one conflict wrapper every target runs under (cf_apply): read the rows the batch's keys have,
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

/* The version text (walcast.version.column): "v" + 4 hex digits of the source id's length + ":" + source id
 * + ":" + kind ('r': a snapshot row, 's': a streamed change) + ":" + 16 hex digits of the LSN + ":" + 16 of
 * the source time (µs, offset binary so that times before 1970 sort first). The versions of one source
 * share the prefix up to the kind and, after it, sort bytewise in that source's order (see
 * cf_version_newer); what the MongoDB target compares on the server (mongo.c append_guard) rests on that.
 * Texts of before 2026-12 (32 hex digits of time and LSN, then the source id) are still read. */
size_t sk_version_text(const sk_version_t *v, char *out, size_t outlen)
{
    const char *src = v->source ? v->source : "";
    size_t sl = strlen(src);
    if (sl > 0xffff)
        sl = 0xffff;
    int n = snprintf(out, outlen, "v%04zx:%.*s:%c:%016" PRIx64 ":%016" PRIx64, sl, (int)sl, src,
                     v->snapshot ? 'r' : 's', v->lsn, (uint64_t)((uint64_t)v->ts_us ^ UINT64_C(0x8000000000000000)));
    if (n < 0)
        return 0;
    return (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* A version text taken apart; src points into the text. */
typedef struct cf_ver {
    int64_t ts_us;
    uint64_t lsn;
    bool snapshot;
    const char *src;
    size_t srclen;
} cf_ver_t;

static bool hex_field(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

size_t cf_version_prefix(const char *v)
{
    uint64_t sl;
    size_t n = v ? strlen(v) : 0;
    if (n < 6 || v[0] != 'v' || !hex_field(v + 1, 4, &sl) || v[5] != ':' || n < 6 + sl + 1 || v[6 + sl] != ':')
        return 0;
    return 6 + (size_t)sl + 1;
}

static bool ver_parse(const char *v, cf_ver_t *out)
{
    uint64_t ts, lsn;
    size_t p = cf_version_prefix(v);
    if (p) {
        /* kind ':' lsn ':' ts */
        if (strlen(v + p) != 2 + 16 + 1 + 16 || (v[p] != 'r' && v[p] != 's') || v[p + 1] != ':' ||
            !hex_field(v + p + 2, 16, &lsn) || v[p + 18] != ':' || !hex_field(v + p + 19, 16, &ts))
            return false;
        *out = (cf_ver_t){ (int64_t)(ts ^ UINT64_C(0x8000000000000000)), lsn, v[p] == 'r', v + 6, p - 7 };
        return true;
    }
    /* before 2026-12: time, LSN, source id (every row a streamed change) */
    if (!v || strlen(v) < 32 || !hex_field(v, 16, &ts) || !hex_field(v + 16, 16, &lsn))
        return false;
    *out = (cf_ver_t){ (int64_t)(ts ^ UINT64_C(0x8000000000000000)), lsn, false, v + 32, strlen(v + 32) };
    return true;
}

static bool same_source(const cf_ver_t *a, const cf_ver_t *b)
{
    return a->srclen == b->srclen && memcmp(a->src, b->src, a->srclen) == 0;
}

bool cf_version_same_source(const char *a, const char *b)
{
    cf_ver_t x, y;
    return ver_parse(a, &x) && ver_parse(b, &y) && same_source(&x, &y);
}

bool cf_version_newer(const char *incoming, const char *stored)
{
    cf_ver_t in, st;
    if (!ver_parse(stored, &st))
        return true;    /* not a version walcast wrote: nothing to order by */
    if (!ver_parse(incoming, &in))
        return false;
    if (same_source(&in, &st)) {
        /* the source's commit order, never its clock. Kafka holds a key's events in that order; a streamed
         * change that comes after a snapshot row may still carry a smaller LSN (its transaction was open
         * across the snapshot point or the watermark window), so it is newer than any snapshot row */
        if (!in.snapshot && st.snapshot)
            return true;
        if (in.snapshot && !st.snapshot)
            return in.lsn > st.lsn;
        if (in.lsn != st.lsn)
            return in.lsn > st.lsn;
        return in.ts_us > st.ts_us;
    }
    /* two sources have no common order but their clocks: last writer wins */
    if (in.ts_us != st.ts_us)
        return in.ts_us > st.ts_us;
    if (in.lsn != st.lsn)
        return in.lsn > st.lsn;
    size_t m = in.srclen < st.srclen ? in.srclen : st.srclen;
    int c = memcmp(in.src, st.src, m);
    return c ? c > 0 : in.srclen > st.srclen;
}

cf_decision_t cf_decide(const sk_table_t *tab, const sk_change_t *c, bool exists, const char *existing_ver,
                        bool unversioned_foreign)
{
    cf_decision_t d = { -1, true, false };
    char iv[512];
    sk_version_text(&c->version, iv, sizeof iv);
    /* own: walcast wrote the row from this change's source; foreign: another source did, or someone
     * else (no version, where the target versions every row it writes) */
    bool own = exists && existing_ver && cf_version_same_source(existing_ver, iv);
    bool foreign = exists && (existing_ver ? !own : unversioned_foreign);
    if (own && !cf_version_newer(iv, existing_ver)) {
        d.apply = false;   /* this change, or a later one of its source, is there already: a replay */
        return d;
    }
    /* whether the target should not have the key yet: an insert (or snapshot row), or the new key of a
     * primary-key change; after reduction, src_op and key_changed are those of the key's first change in
     * the batch (a delete then a re-insert expects the row, an insert then a delete does not). A snapshot
     * row that meets walcast's own row of its source (an incremental snapshot, a snapshot read again)
     * reads again what that source wrote: an update, no conflict */
    bool fresh = c->src_op == 'c' || (c->src_op == 'r' && !own) || (c->src_op == 'u' && c->key_changed);
    sk_conflict_t taken = c->key_changed ? SK_CONFLICT_UPDATE_EXISTS : SK_CONFLICT_INSERT_EXISTS;
    if (fresh)
        d.type = exists ? (int)taken : -1;
    else if (c->op == SK_OP_UPSERT)
        d.type = !exists ? SK_CONFLICT_UPDATE_MISSING : foreign ? SK_CONFLICT_UPDATE_ORIGIN_DIFFERS : -1;
    else if (c->op == SK_OP_DELETE)
        d.type = !exists ? SK_CONFLICT_DELETE_MISSING : foreign ? SK_CONFLICT_DELETE_ORIGIN_DIFFERS : -1;
    switch (tab->policy) {
    case SK_POLICY_SOURCE_WINS:
        break;
    case SK_POLICY_NEWER_WINS:
        if (exists && existing_ver && !cf_version_newer(iv, existing_ver))
            d.apply = false;   /* stale */
        break;
    case SK_POLICY_TARGET_WINS:
        /* the target keeps every row that is not walcast's own from this source */
        if (exists && !own && d.type >= 0)
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
        cf_decision_t dc = cf_decide(tab, c, ex[i].found, ex[i].ver, o->unversioned_foreign);
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
        if (cc) {
            cc->n[dc.type]++;
            if (!dc.apply)
                cc->skipped[dc.type]++;
        }
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
        e->change = c;
        e->at = i;
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
