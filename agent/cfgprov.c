/* cfgprov.c: ${provider:[path:]key} variables in config values, resolved through the three config providers
 * Kafka ships (file, environment, directory) with Kafka's semantics; values found are never logged. */
#include "agent/cfgprov.h"

#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/log.h"
#include "decoder/filter.h"
#include "schemas/buf.h"

#define PROV_PREFIX "config.providers."
#define CLASS_PKG "org.apache.kafka.common.config.provider."

typedef enum { PROV_FILE, PROV_ENV, PROV_DIR } prov_kind_t;

typedef struct prov {
    char *name;
    prov_kind_t kind;
    char **allowed;          /* allowed.paths, normalised; NULL: every path */
    size_t nallowed;
    bool has_allowlist;
    regex_t allowlist;       /* allowlist.pattern, anchored */
} prov_t;

/* What a provider gave for one path (file: the properties; dir: looked up per key). */
typedef struct lookup {
    size_t prov;
    char *path;
    bool ok;                 /* false: nothing (empty path, not allowed, not a directory) */
    cfg_map_t props;         /* file provider */
} lookup_t;

typedef struct ctx {
    prov_t *p;
    size_t np;
    lookup_t *l;
    size_t nl;
} ctx_t;

static void ctx_free(ctx_t *c)
{
    for (size_t i = 0; i < c->np; i++) {
        free(c->p[i].name);
        for (size_t k = 0; k < c->p[i].nallowed; k++)
            free(c->p[i].allowed[k]);
        free(c->p[i].allowed);
        if (c->p[i].has_allowlist)
            regfree(&c->p[i].allowlist);
    }
    free(c->p);
    for (size_t i = 0; i < c->nl; i++) {
        free(c->l[i].path);
        cfg_map_free(&c->l[i].props);
    }
    free(c->l);
}

/* Java's Path.normalize for POSIX paths: "." dropped, ".." removes the name before it (at the root it
 * stays the root; a relative path keeps its leading ".."), repeated slashes folded. */
static char *path_normalize(const char *path)
{
    size_t n = strlen(path);
    const char **comp = xcalloc(n + 1, sizeof *comp);
    size_t *clen = xcalloc(n + 1, sizeof *clen);
    size_t depth = 0;
    bool abs = path[0] == '/';
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t sl = (size_t)(e - p);
        bool dotdot = sl == 2 && p[0] == '.' && p[1] == '.';
        if (sl == 0 || (sl == 1 && p[0] == '.'))
            ;
        else if (dotdot && depth && !(clen[depth - 1] == 2 && !strncmp(comp[depth - 1], "..", 2)))
            depth--;
        else if (!(dotdot && abs)) {
            comp[depth] = p;
            clen[depth++] = sl;
        }
        p = e;
    }
    buf_t b;
    buf_init(&b);
    if (abs)
        buf_putc(&b, '/');
    for (size_t i = 0; i < depth; i++) {
        if (i)
            buf_putc(&b, '/');
        buf_append(&b, comp[i], clen[i]);
    }
    buf_cstr(&b);
    free(comp);
    free(clen);
    return b.data ? b.data : xstrdup("");
}

static char *dupn(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* Path.startsWith: whole names, so /a/b starts /a/b/c but not /a/bc. */
static bool path_starts_with(const char *p, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 1 && prefix[0] == '/')
        return p[0] == '/';
    return strncmp(p, prefix, n) == 0 && (p[n] == 0 || p[n] == '/');
}

/* AllowedPaths.parseUntrustedPath: the path to read, or NULL when allowed.paths excludes it. */
static char *allowed_path(const prov_t *pv, const char *path)
{
    if (!pv->allowed)
        return xstrdup(path);
    char *norm = path_normalize(path);
    for (size_t i = 0; i < pv->nallowed; i++)
        if (path_starts_with(norm, pv->allowed[i]))
            return norm;
    free(norm);
    return NULL;
}

static const char *param(const cfg_map_t *pm, const char *name, const char *p)
{
    char key[512];
    snprintf(key, sizeof key, PROV_PREFIX "%s.param.%s", name, p);
    return cfg_get(pm, key);
}

/* The providers pm declares (AbstractConfig.instantiateConfigProviders and each provider's configure). */
static int providers_load(const cfg_map_t *pm, ctx_t *c, char *err, size_t errlen)
{
    const char *list = cfg_get(pm, "config.providers");
    if (!list || !*list)
        return 0;
    char *names = xstrdup(list);
    int rc = -1;
    c->p = xcalloc(strlen(list) + 1, sizeof *c->p);
    for (char *save = NULL, *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        char key[512];
        snprintf(key, sizeof key, PROV_PREFIX "%s.class", name);
        const char *cls = cfg_get(pm, key);
        if (!cls) {
            log_warn("config.providers names a provider without a class; it is ignored (as Kafka does)",
                     "provider=\"%s\" missing_key=\"%s\"", log_esc(name), log_esc(key));
            continue;
        }
        prov_t *pv = &c->p[c->np];
        if (!strcmp(cls, CLASS_PKG "FileConfigProvider"))
            pv->kind = PROV_FILE;
        else if (!strcmp(cls, CLASS_PKG "EnvVarConfigProvider"))
            pv->kind = PROV_ENV;
        else if (!strcmp(cls, CLASS_PKG "DirectoryConfigProvider"))
            pv->kind = PROV_DIR;
        else {
            snprintf(err, errlen, "invalid value '%s' for %s: walcast has the config providers " CLASS_PKG
                     "FileConfigProvider, EnvVarConfigProvider and DirectoryConfigProvider", cls, key);
            goto out;
        }
        pv->name = xstrdup(name);
        c->np++;
        if (pv->kind == PROV_ENV) {
            const char *pat = param(pm, name, "allowlist.pattern");
            if (pat) {
                snprintf(key, sizeof key, PROV_PREFIX "%s.param.allowlist.pattern", name);
                if (flt_regex_compile(&pv->allowlist, pat, key, err, errlen) < 0)
                    goto out;
                pv->has_allowlist = true;
            }
            continue;
        }
        const char *ap = param(pm, name, "allowed.paths");
        if (!ap || !*ap)
            continue;
        char *paths = xstrdup(ap);
        pv->allowed = xcalloc(strlen(ap) + 1, sizeof *pv->allowed);
        /* split as Java's String.split(","): empty names in between count, trailing ones do not */
        for (char *s = paths, *e; s; s = e ? e + 1 : NULL) {
            e = strchr(s, ',');
            if (e)
                *e = 0;
            if (!e && !*s && pv->nallowed)
                break;
            char *norm = path_normalize(s);
            struct stat st;
            if (norm[0] != '/' || stat(norm, &st) < 0) {
                snprintf(err, errlen, "invalid value for " PROV_PREFIX "%s.param.allowed.paths: path '%s' %s", name, norm,
                         norm[0] != '/' ? "is not absolute" : "does not exist");
                free(norm);
                free(paths);
                goto out;
            }
            pv->allowed[pv->nallowed++] = norm;
        }
        free(paths);
    }
    rc = 0;
out:
    free(names);
    return rc;
}

static const prov_t *provider(const ctx_t *c, const char *name, size_t n, size_t *idx)
{
    for (size_t i = 0; i < c->np; i++)
        if (strlen(c->p[i].name) == n && !strncmp(c->p[i].name, name, n)) {
            *idx = i;
            return &c->p[i];
        }
    return NULL;
}

/* The provider's data for path, read once per path (ConfigTransformer asks each path once). */
static lookup_t *lookup_path(ctx_t *c, size_t pi, const char *path, const char *cfgkey, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nl; i++)
        if (c->l[i].prov == pi && !strcmp(c->l[i].path, path))
            return &c->l[i];
    const prov_t *pv = &c->p[pi];
    c->l = xrealloc(c->l, (c->nl + 1) * sizeof *c->l);
    lookup_t *l = &c->l[c->nl++];
    memset(l, 0, sizeof *l);
    l->prov = pi;
    l->path = xstrdup(path);
    if (pv->kind == PROV_ENV) {
        if (*path) {
            snprintf(err, errlen, "%s: ${%s:%s:…}: a path is not supported by EnvVarConfigProvider, invalid value '%s'",
                     cfgkey, pv->name, path, path);
            return NULL;
        }
        l->ok = true;
        return l;
    }
    if (!*path)
        return l;
    char *real = allowed_path(pv, path);
    if (!real) {
        log_warn("config provider path is outside allowed.paths; the variable is left as written", "key=\"%s\" provider=%s path=\"%s\"",
                 log_esc(cfgkey), pv->name, log_esc(path));
        return l;
    }
    if (pv->kind == PROV_DIR) {
        struct stat st;
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
            log_warn("config provider path is not a directory; the variable is left as written", "key=\"%s\" provider=%s path=\"%s\"",
                     log_esc(cfgkey), pv->name, log_esc(path));
        else
            l->ok = true;
        free(real);
        return l;
    }
    buf_t b;
    buf_init(&b);
    char sub[512];
    int rc = buf_read_file(&b, real, sub, sizeof sub);
    if (rc == 0)
        rc = cfg_parse_properties(buf_cstr(&b), &l->props, sub, sizeof sub);
    buf_free(&b);
    free(real);
    if (rc < 0) {
        snprintf(err, errlen, "%s: config provider %s could not read properties from file %s (%s)", cfgkey, pv->name, path,
                 sub);
        return NULL;
    }
    l->ok = true;
    return l;
}

/* The value of key from lookup l (NULL: the provider has none); *owned when the caller must free it. */
static const char *lookup_key(const ctx_t *c, const lookup_t *l, const char *key, char **owned, const char *cfgkey,
                              char *err, size_t errlen, bool *failed)
{
    const prov_t *pv = &c->p[l->prov];
    *owned = NULL;
    if (!l->ok)
        return NULL;
    if (pv->kind == PROV_FILE)
        return cfg_get(&l->props, key);
    if (pv->kind == PROV_ENV) {
        if (pv->has_allowlist && regexec(&pv->allowlist, key, 0, NULL, 0) != 0)
            return NULL;
        return getenv(key);
    }
    /* directory: the regular file named key directly in it */
    if (!*key || strchr(key, '/') || !strcmp(key, ".") || !strcmp(key, ".."))
        return NULL;
    buf_t p;
    buf_init(&p);
    char *real = allowed_path(pv, l->path);
    buf_printf(&p, "%s/%s", real, key);
    free(real);
    struct stat st;
    const char *v = NULL;
    if (stat(buf_cstr(&p), &st) == 0 && S_ISREG(st.st_mode)) {
        buf_t b;
        buf_init(&b);
        char sub[512];
        if (buf_read_file(&b, buf_cstr(&p), sub, sizeof sub) < 0) {
            snprintf(err, errlen, "%s: config provider %s could not read file %s for property %s (%s)", cfgkey, pv->name,
                     buf_cstr(&p), key, sub);
            *failed = true;
        } else if (strlen(buf_cstr(&b)) != b.len) {
            snprintf(err, errlen, "%s: config provider %s: file %s holds a NUL byte; a config value cannot", cfgkey,
                     pv->name, buf_cstr(&p));
            *failed = true;
        } else {
            *owned = b.data;
            v = b.data;
            b.data = NULL;
        }
        buf_free(&b);
    }
    buf_free(&p);
    return v;
}

/* One value through ConfigTransformer.replace: each ${a:b} / ${a:b:c} (no '}' inside) of a declared
 * provider is replaced when found, else left; the text put in is not scanned again. */
static int resolve_value(ctx_t *c, const char *cfgkey, const char *v, buf_t *out, bool *changed, char *err, size_t errlen)
{
    *changed = false;
    const char *p = v;
    for (;;) {
        const char *s = strstr(p, "${");
        if (!s)
            break;
        const char *close = strchr(s + 2, '}');
        if (!close)
            break;
        const char *c1 = memchr(s + 2, ':', (size_t)(close - s - 2));
        if (!c1) {
            buf_append(out, p, (size_t)(s + 1 - p));   /* no match here: Java's find() goes on at the next char */
            p = s + 1;
            continue;
        }
        const char *rest = c1 + 1;
        const char *c2 = memchr(rest, ':', (size_t)(close - rest));
        char *path = c2 ? dupn(rest, (size_t)(c2 - rest)) : xstrdup("");
        char *key = c2 ? dupn(c2 + 1, (size_t)(close - c2 - 1)) : dupn(rest, (size_t)(close - rest));
        size_t pi;
        const prov_t *pv = provider(c, s + 2, (size_t)(c1 - s - 2), &pi);
        const char *val = NULL;
        char *owned = NULL;
        bool failed = false;
        if (pv) {
            lookup_t *l = lookup_path(c, pi, path, cfgkey, err, errlen);
            if (!l)
                failed = true;
            else
                val = lookup_key(c, l, key, &owned, cfgkey, err, errlen, &failed);
            if (!failed && !val) {
                char *var = dupn(s, (size_t)(close + 1 - s));
                log_warn("config variable not resolved (the provider has no such key, or the path gives nothing); "
                         "left as written", "key=\"%s\" variable=\"%s\"", log_esc(cfgkey), log_esc(var));
                free(var);
            }
        }
        free(path);
        free(key);
        if (failed) {
            free(owned);
            return -1;
        }
        buf_append(out, p, (size_t)(s - p));
        if (val) {
            buf_puts(out, val);
            *changed = true;
        } else
            buf_append(out, s, (size_t)(close + 1 - s));
        free(owned);
        p = close + 1;
    }
    buf_puts(out, p);
    return 0;
}

int cfgprov_resolve(const cfg_map_t *pm, cfg_map_t *m, char *err, size_t errlen)
{
    ctx_t c = { 0 };
    int rc = -1;
    if (providers_load(pm, &c, err, errlen) < 0)
        goto out;
    if (!c.np) {
        rc = 0;
        goto out;
    }
    /* all values are read before any is replaced (Kafka transforms a copy of the originals) */
    char **nv = xcalloc(m->n + 1, sizeof *nv);
    for (size_t i = 0; i < m->n; i++) {
        buf_t b;
        buf_init(&b);
        bool changed;
        if (resolve_value(&c, m->kv[i].key, m->kv[i].value, &b, &changed, err, errlen) < 0) {
            buf_free(&b);
            for (size_t k = 0; k < i; k++)
                free(nv[k]);
            free(nv);
            goto out;
        }
        if (changed) {
            buf_cstr(&b);
            nv[i] = b.data;
        } else
            buf_free(&b);
    }
    for (size_t i = 0; i < m->n; i++)
        if (nv[i]) {
            free(m->kv[i].value);
            m->kv[i].value = nv[i];
        }
    free(nv);
    rc = 0;
out:
    ctx_free(&c);
    return rc;
}
