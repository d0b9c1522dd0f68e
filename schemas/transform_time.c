/* transform_time.c: Kafka Connect's TimestampConverter$Key / $Value (connect/transforms
 * TimestampConverter.java): a field, or the whole key/value, converted between a string (a
 * java.text.SimpleDateFormat pattern, UTC), Unix time (unix.precision) and Connect's Date, Time and
 * Timestamp. The pattern is compiled at start: letters walcast cannot honour are refused there. */
#include "schemas/transform_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DAY_MS 86400000LL
#define LOGICAL_DATE "org.apache.kafka.connect.data.Date"
#define LOGICAL_TIME "org.apache.kafka.connect.data.Time"
#define LOGICAL_TIMESTAMP "org.apache.kafka.connect.data.Timestamp"

typedef enum { TSK_STRING, TSK_UNIX, TSK_DATE, TSK_TIME, TSK_TIMESTAMP } tsk_t;
static const char *const tsk_names[] = { "string", "unix", "Date", "Time", "Timestamp", NULL };
enum { PREC_MILLIS, PREC_MICROS, PREC_NANOS, PREC_SECONDS };
static const char *const prec_names[] = { "milliseconds", "microseconds", "nanoseconds", "seconds", NULL };

/* One element of a compiled pattern: a pattern letter repeated count times, or literal text. */
typedef struct {
    char letter;                  /* 0: literal */
    int count;
    char *lit;
} ts_tok_t;

typedef struct {
    bool key;
    char *field;                  /* "" : the whole key/value */
    tsk_t target;
    int precision;
    bool replace_null;
    char *pattern;                /* NULL: no format */
    ts_tok_t *tok;
    size_t ntok;
} tsc_conf_t;

static const char *const tsc_opts[] = { "field", "target.type", "format", "unix.precision", "replace.null.with.default",
                                        NULL };

static void tsc_free(void *p)
{
    tsc_conf_t *c = p;
    if (!c)
        return;
    for (size_t i = 0; i < c->ntok; i++)
        free(c->tok[i].lit);
    free(c->tok);
    free(c->pattern);
    free(c->field);
    free(c);
}

/* ---- calendar: java.util.GregorianCalendar in UTC (Julian before 1582-10-15) ---- */

#define CUTOVER_DAY (-141427LL)   /* 1582-10-15, the first Gregorian day, in days since 1970-01-01 */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian (astronomical) year, month 1..12, day 1. */
static int64_t greg_days(int64_t y, int m)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The same in the Julian calendar. */
static int64_t jul_days(int64_t y, int m)
{
    int64_t a = (14 - m) / 12, yy = y + 4800 - a, mm = m + 12 * a - 3;
    int64_t jdn = 1 + (153 * mm + 2) / 5 + 365 * yy + floor_div(yy, 4) - 32083;
    return jdn - 2440588;
}

typedef struct {
    int64_t year;                 /* astronomical: 0 is 1 BC */
    int month, day, hour, min, sec, ms, dow /* 1 Sunday .. 7 Saturday */, doy;
} ts_fields_t;

static void ts_split(int64_t ms, ts_fields_t *f)
{
    int64_t days = floor_div(ms, DAY_MS), rem = ms - days * DAY_MS;
    f->hour = (int)(rem / 3600000);
    f->min = (int)(rem / 60000 % 60);
    f->sec = (int)(rem / 1000 % 60);
    f->ms = (int)(rem % 1000);
    f->dow = (int)(floor_div(days + 4, 7) * -7 + days + 4) + 1;
    int64_t y;
    int m, d;
    if (days >= CUTOVER_DAY) {
        int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
        d = (int)(doy - (153 * mp + 2) / 5 + 1);
        m = (int)(mp < 10 ? mp + 3 : mp - 9);
        y = yoe + era * 400 + (m <= 2);
    } else {
        int64_t c = days + 2440588 + 32082, dd = floor_div(4 * c + 3, 1461), e = c - floor_div(1461 * dd, 4);
        int64_t mm = (5 * e + 2) / 153;
        d = (int)(e - (153 * mm + 2) / 5 + 1);
        m = (int)(mm + 3 - 12 * (mm / 10));
        y = dd - 4800 + mm / 10;
    }
    f->year = y;
    f->month = m;
    f->day = d;
    int64_t jan1 = y > 1582 ? greg_days(y, 1) : jul_days(y, 1);
    f->doy = (int)(days - jan1 + 1);
}

/* Lenient fields to milliseconds (months and days out of range roll over, as a lenient Calendar). */
static int64_t ts_join(int64_t y, int64_t m, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t ms)
{
    y += floor_div(m - 1, 12);
    m = m - 1 - floor_div(m - 1, 12) * 12 + 1;
    int64_t days = greg_days(y, (int)m) + d - 1;
    if (days < CUTOVER_DAY)
        days = jul_days(y, (int)m) + d - 1;
    return days * DAY_MS + h * 3600000 + mi * 60000 + s * 1000 + ms;
}

/* ---- SimpleDateFormat patterns ---- */

static const char *const months[] = { "January", "February", "March", "April", "May", "June", "July", "August",
                                      "September", "October", "November", "December" };
static const char *const wdays[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

/* SimpleDateFormat's pattern letters; those walcast does not run (week fields: their numbering depends on
 * the JVM's locale) are refused at start. */
#define JAVA_LETTERS "GyMdkHmsSEDFwWahKzZYuXL"
#define RUN_LETTERS "GyMdkHmsSEDFahKzZuXL"

static void tok_add(tsc_conf_t *c, char letter, int count, const char *lit, size_t litlen)
{
    if (!letter && c->ntok && !c->tok[c->ntok - 1].letter) {   /* literal after literal: one token */
        ts_tok_t *t = &c->tok[c->ntok - 1];
        size_t n = strlen(t->lit);
        t->lit = xrealloc(t->lit, n + litlen + 1);
        memcpy(t->lit + n, lit, litlen);
        t->lit[n + litlen] = 0;
        return;
    }
    c->tok = xrealloc(c->tok, (c->ntok + 1) * sizeof *c->tok);
    ts_tok_t *t = &c->tok[c->ntok++];
    t->letter = letter;
    t->count = count;
    t->lit = NULL;
    if (!letter) {
        t->lit = xmalloc(litlen + 1);
        memcpy(t->lit, lit, litlen);
        t->lit[litlen] = 0;
    }
}

/* SimpleDateFormat's IllegalArgumentException, as a start-time error naming the key. */
static int bad_pattern(const tf_opts_t *o, const char *key, const char *p, const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s.%s.%s: '%s' is not a java.text.SimpleDateFormat pattern (%s)", o->kind, o->alias, key, p, why);
    return -1;
}

/* SimpleDateFormat.compile of the option key's pattern p into c: letters, quoted text ('' a quote),
 * anything else literal. */
static int compile_pattern(const tf_opts_t *o, const char *key, tsc_conf_t *c, const char *p, char *err, size_t errlen)
{
    size_t n = strlen(p);
    for (size_t i = 0; i < n;) {
        char ch = p[i];
        if (ch == '\'') {
            if (i + 1 < n && p[i + 1] == '\'') {
                tok_add(c, 0, 0, "'", 1);
                i += 2;
                continue;
            }
            size_t j = i + 1;
            for (;;) {
                if (j >= n)
                    return bad_pattern(o, key, p, "Unterminated quote", err, errlen);
                if (p[j] == '\'') {
                    if (j + 1 < n && p[j + 1] == '\'') {
                        tok_add(c, 0, 0, p + i + 1, j + 1 - (i + 1));   /* text up to and with one quote */
                        i = j + 1;
                        j = i + 1;
                        continue;
                    }
                    break;
                }
                j++;
            }
            if (j > i + 1)
                tok_add(c, 0, 0, p + i + 1, j - i - 1);
            i = j + 1;
            continue;
        }
        if (!isalpha((unsigned char)ch)) {
            tok_add(c, 0, 0, p + i, 1);
            i++;
            continue;
        }
        if (!strchr(JAVA_LETTERS, ch)) {
            char why[64];
            snprintf(why, sizeof why, "Illegal pattern character '%c'", ch);
            return bad_pattern(o, key, p, why, err, errlen);
        }
        size_t j = i;
        while (j < n && p[j] == ch)
            j++;
        int count = (int)(j - i);
        if (!strchr(RUN_LETTERS, ch)) {
            snprintf(err, errlen, "%s.%s.%s: the pattern letter '%c' (%s) is a valid SimpleDateFormat letter but walcast "
                     "does not run it (its value depends on the JVM's locale); supported letters: " RUN_LETTERS,
                     o->kind, o->alias, key, ch, ch == 'Y' ? "week year" : "week number");
            return -1;
        }
        if (ch == 'X' && count > 3) {
            char why[64];
            snprintf(why, sizeof why, "invalid ISO 8601 format: length=%d", count);
            return bad_pattern(o, key, p, why, err, errlen);
        }
        tok_add(c, ch, count, NULL, 0);
        i = j;
    }
    return 0;
}

static void put_num(buf_t *b, int64_t v, int width)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%lld", (long long)(v < 0 ? -v : v));
    if (v < 0)
        buf_putc(b, '-');
    for (int i = n; i < width; i++)
        buf_putc(b, '0');
    buf_append(b, t, (size_t)n);
}

/* SimpleDateFormat.format in UTC, English names. */
static const char *ts_format(arena_t *a, const tsc_conf_t *c, int64_t ms)
{
    ts_fields_t f;
    ts_split(ms, &f);
    buf_t b;
    buf_init(&b);
    int64_t yoe = f.year > 0 ? f.year : 1 - f.year;
    for (size_t i = 0; i < c->ntok; i++) {
        const ts_tok_t *t = &c->tok[i];
        int n = t->count;
        switch (t->letter) {
        case 0: buf_puts(&b, t->lit); break;
        case 'G': buf_puts(&b, f.year > 0 ? "AD" : "BC"); break;
        case 'y': n == 2 ? put_num(&b, yoe % 100, 2) : put_num(&b, yoe, n); break;
        case 'u': put_num(&b, f.dow == 1 ? 7 : f.dow - 1, n); break;
        case 'M': case 'L':
            if (n >= 4)
                buf_puts(&b, months[f.month - 1]);
            else if (n == 3)
                buf_append(&b, months[f.month - 1], 3);
            else
                put_num(&b, f.month, n);
            break;
        case 'd': put_num(&b, f.day, n); break;
        case 'D': put_num(&b, f.doy, n); break;
        case 'F': put_num(&b, (f.day - 1) / 7 + 1, n); break;
        case 'E':
            if (n >= 4)
                buf_puts(&b, wdays[f.dow - 1]);
            else
                buf_append(&b, wdays[f.dow - 1], 3);
            break;
        case 'a': buf_puts(&b, f.hour < 12 ? "AM" : "PM"); break;
        case 'H': put_num(&b, f.hour, n); break;
        case 'k': put_num(&b, f.hour ? f.hour : 24, n); break;
        case 'K': put_num(&b, f.hour % 12, n); break;
        case 'h': put_num(&b, f.hour % 12 ? f.hour % 12 : 12, n); break;
        case 'm': put_num(&b, f.min, n); break;
        case 's': put_num(&b, f.sec, n); break;
        case 'S': put_num(&b, f.ms, n); break;
        case 'z': buf_puts(&b, n >= 4 ? "Coordinated Universal Time" : "UTC"); break;
        case 'Z': buf_puts(&b, "+0000"); break;
        case 'X': buf_putc(&b, 'Z'); break;
        }
    }
    const char *r = arena_strdup(a, buf_cstr(&b));
    buf_free(&b);
    return r;
}

/* Case-insensitive match of one of names (full, then 3-letter) at s; returns its index and length. */
static int match_name(const char *s, const char *const *names, int n, size_t *len)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            size_t l = pass ? 3 : strlen(names[i]);
            if (!strncasecmp(s, names[i], l)) {
                *len = l;
                return i;
            }
        }
    return -1;
}

/* A field parsed as a number (a month is one when written with one or two letters). */
static bool numeric_tok(const ts_tok_t *t)
{
    return t->letter && (strchr("yudDFHkKhmsS", t->letter) || ((t->letter == 'M' || t->letter == 'L') && t->count <= 2));
}

/* SimpleDateFormat.subParseNumericZone: hh (one digit only with a colon and no count), then mm unless
 * count is 1 (after a ':' when colon). */
static bool numeric_zone(const char **sp, int sign, int count, bool colon, int64_t *off)
{
    const char *s = *sp;
    if (!isdigit((unsigned char)*s))
        return false;
    int h = *s++ - '0', m = 0;
    if (isdigit((unsigned char)*s))
        h = h * 10 + (*s++ - '0');
    else if (count > 0 || !colon)
        return false;
    if (h > 23)
        return false;
    if (count != 1) {
        if (colon && *s++ != ':')
            return false;
        if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
            return false;
        m = (s[0] - '0') * 10 + (s[1] - '0');
        s += 2;
        if (m > 59)
            return false;
    }
    *off = sign * ((int64_t)h * 3600000 + (int64_t)m * 60000);
    *sp = s;
    return true;
}

/* A zone (SimpleDateFormat.subParse): X is Z or +-hh / +-hhmm / +-hh:mm by count; z and Z take +-hhmm,
 * GMT, GMT+-h[h]:mm, or a zone name (walcast knows UTC only). */
static bool parse_zone(const char **sp, const ts_tok_t *t, int64_t *off)
{
    const char *s = *sp;
    int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
    if (t->letter == 'X') {
        if (*s == 'Z') {
            *off = 0;
            *sp = s + 1;
            return true;
        }
        if (!sign)
            return false;
        s++;
        if (!numeric_zone(&s, sign, t->count, t->count == 3, off))
            return false;
        *sp = s;
        return true;
    }
    if (sign) {
        s++;
        if (!numeric_zone(&s, sign, 0, false, off))
            return false;
        *sp = s;
        return true;
    }
    if (!strncasecmp(s, "GMT", 3)) {
        s += 3;
        sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
        *off = 0;
        if (sign) {
            s++;
            if (!numeric_zone(&s, sign, 0, true, off))
                return false;
        }
        *sp = s;
        return true;
    }
    if (!strncasecmp(s, "UTC", 3)) {
        *off = 0;
        *sp = s + 3;
        return true;
    }
    return false;
}

/* SimpleDateFormat.parse (lenient, UTC): false when the text does not match. Trailing text is ignored, as
 * DateFormat.parse(String) does. */
static bool ts_parse(const tsc_conf_t *c, const char *text, int64_t *out)
{
    int64_t y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0, ms = 0, doy = -1, off = 0;
    int ampm = -1, hour12 = -1;
    bool bc = false, have_md = false, ambiguous = false;
    struct tm century;
    const char *p = text;
    for (size_t i = 0; i < c->ntok; i++) {
        const ts_tok_t *t = &c->tok[i];
        if (!t->letter) {
            size_t n = strlen(t->lit);
            if (strncmp(p, t->lit, n))
                return false;
            p += n;
            continue;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        char L = t->letter;
        if ((L == 'M' || L == 'L') && t->count >= 3) {
            size_t len;
            int k = match_name(p, months, 12, &len);
            if (k < 0)
                return false;
            mo = k + 1;
            have_md = true;
            doy = -1;
            p += len;
            continue;
        }
        if (L == 'E' || L == 'a' || L == 'G') {
            size_t len = 2;
            int k = L == 'E' ? match_name(p, wdays, 7, &len)
                  : (!strncasecmp(p, L == 'a' ? "AM" : "BC", 2) ? 0 : !strncasecmp(p, L == 'a' ? "PM" : "AD", 2) ? 1 : -1);
            if (k < 0)
                return false;
            if (L == 'a')
                ampm = k;
            if (L == 'G')
                bc = k == 0;
            p += len;
            continue;
        }
        if (L == 'z' || L == 'Z' || L == 'X') {
            if (!parse_zone(&p, t, &off))
                return false;
            continue;
        }
        /* a number: exactly count digits when the next element is a number too (abutting fields) */
        bool abut = i + 1 < c->ntok && numeric_tok(&c->tok[i + 1]);
        int maxd = abut ? t->count : 18, nd = 0;
        int64_t v = 0;
        bool neg = !abut && *p == '-' && isdigit((unsigned char)p[1]);   /* DecimalFormat takes a minus */
        const char *digits = p + neg;
        while (nd < maxd && isdigit((unsigned char)digits[nd]))
            v = v * 10 + (digits[nd++] - '0');
        if (!nd)
            return false;
        p = digits + nd;
        if (neg)
            v = -v;
        switch (L) {
        case 'y':
            ambiguous = t->count <= 2 && nd == 2 && !neg;
            if (ambiguous) {
                /* two digits: in the century that starts 80 years before now (then checked on the whole
                 * date below, as SimpleDateFormat's defaultCenturyStart) */
                time_t now = time(NULL);
                gmtime_r(&now, &century);
                int64_t start = century.tm_year + 1900 - 80;
                v += start / 100 * 100 + (v < start % 100 ? 100 : 0);
            }
            y = v;
            break;
        case 'M': case 'L': mo = v; have_md = true; doy = -1; break;
        case 'd': d = v; have_md = true; doy = -1; break;
        case 'D': doy = v; have_md = false; break;
        case 'H': h = v; hour12 = -1; break;
        case 'k': h = v == 24 ? 0 : v; hour12 = -1; break;
        case 'K': hour12 = (int)v; break;
        case 'h': hour12 = v == 12 ? 0 : (int)v; break;
        case 'm': mi = v; break;
        case 's': s = v; break;
        case 'S': ms = v; break;
        default: break;   /* u, F: the day of the week does not move a date */
        }
    }
    if (p == text && c->ntok)
        return false;
    if (hour12 >= 0)
        h = hour12 + (ampm == 1 ? 12 : 0);
    if (bc)
        y = 1 - y;
    if (doy >= 0 && !have_md) {
        mo = 1;
        d = doy;
    }
    *out = ts_join(y, mo, d, h, mi, s, ms) - off;
    if (ambiguous && *out < ts_join(century.tm_year + 1900 - 80, century.tm_mon + 1, century.tm_mday, century.tm_hour,
                                    century.tm_min, century.tm_sec, 0))
        *out = ts_join(y + 100, mo, d, h, mi, s, ms) - off;
    return true;
}

/* ---- configuration ---- */

static int tsc_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    tsc_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    const char *type, *v;
    if (tf_opt_required(o, "target.type", &type, err, errlen) < 0)
        goto fail;
    int k = 0;
    while (tsk_names[k] && strcmp(tsk_names[k], type))
        k++;
    if (!tsk_names[k]) {   /* ConfigDef.ValidString: exact, case-sensitive */
        snprintf(err, errlen, "%s.%s.target.type: Invalid value %s: String must be one of: string, unix, Date, Time, Timestamp",
                 o->kind, o->alias, type);
        goto fail;
    }
    c->target = (tsk_t)k;
    v = tf_opt_str(o, "unix.precision", "milliseconds");
    for (k = 0; prec_names[k] && strcmp(prec_names[k], v); k++)
        ;
    if (!prec_names[k]) {
        snprintf(err, errlen, "%s.%s.unix.precision: Invalid value %s: String must be one of: nanoseconds, microseconds, "
                 "milliseconds, seconds", o->kind, o->alias, v);
        goto fail;
    }
    c->precision = k;
    c->field = xstrdup(tf_opt_str(o, "field", ""));
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    v = tf_opt_str(o, "format", "");
    bool blank = true;
    for (const char *q = v; *q; q++)
        if (!isspace((unsigned char)*q))
            blank = false;
    if (blank && c->target == TSK_STRING) {
        snprintf(err, errlen, "%s.%s.format: TimestampConverter requires format option to be specified when using string "
                 "timestamps", o->kind, o->alias);
        goto fail;
    }
    if (!blank) {
        c->pattern = xstrdup(v);
        if (compile_pattern(o, "format", c, v, err, errlen) < 0)
            goto fail;
    }
    *conf = c;
    return 0;
fail:
    tsc_free(c);
    return -1;
}

static int tsc_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return tsc_configure(o, conf, true, err, errlen);
}

static int tsc_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return tsc_configure(o, conf, false, err, errlen);
}

/* ---- apply ---- */

/* timestampTypeFromSchema. */
static int source_kind(const cs_schema_t *s, tsk_t *out, char *err, size_t errlen)
{
    if (tf_named(s, LOGICAL_TIMESTAMP))
        *out = TSK_TIMESTAMP;
    else if (tf_named(s, LOGICAL_DATE))
        *out = TSK_DATE;
    else if (tf_named(s, LOGICAL_TIME))
        *out = TSK_TIME;
    else if (s->type == CT_STRING)
        *out = TSK_STRING;
    else if (s->type == CT_INT64)
        *out = TSK_UNIX;
    else {
        if (s->name)
            snprintf(err, errlen, "Schema Schema{%s:%s} does not correspond to a known timestamp type format", s->name,
                     tf_type_java(s->type));
        else
            snprintf(err, errlen, "Schema Schema{%s} does not correspond to a known timestamp type format",
                     tf_type_java(s->type));
        return -1;
    }
    return 0;
}

/* TimeUnit conversions: a multiply saturates, a divide truncates toward zero. */
static int64_t sat_mul(int64_t v, int64_t m)
{
    if (v > INT64_MAX / m)
        return INT64_MAX;
    if (v < INT64_MIN / m)
        return INT64_MIN;
    return v * m;
}

/* The translators' toRaw then toType: v (under a schema of kind from) to the target (values in a). */
static int convert(arena_t *a, const tsc_conf_t *c, tsk_t from, const cv_value_t *v, cv_value_t *out, char *err,
                   size_t errlen)
{
    if (!v || v->null) {
        *out = cv_null();
        return 0;
    }
    int64_t ms;
    switch (from) {
    case TSK_STRING: {
        char *t = arena_alloc(a, v->u.s.n + 1);
        memcpy(t, v->u.s.p, v->u.s.n);
        t[v->u.s.n] = 0;
        if (!c->pattern) {
            snprintf(err, errlen, "cannot parse the string timestamp (%s): no format is set (Kafka fails with a "
                     "NullPointerException)", t);
            return -1;
        }
        if (!ts_parse(c, t, &ms)) {
            snprintf(err, errlen, "Could not parse timestamp: value (%s) does not match pattern (%s)", t, c->pattern);
            return -1;
        }
        break;
    }
    case TSK_UNIX:
        ms = c->precision == PREC_SECONDS ? sat_mul(v->u.i, 1000)
           : c->precision == PREC_MICROS ? v->u.i / 1000
           : c->precision == PREC_NANOS ? v->u.i / 1000000 : v->u.i;
        break;
    case TSK_DATE: ms = v->u.i * DAY_MS; break;
    default: ms = v->u.i; break;   /* Time, Timestamp: milliseconds */
    }
    switch (c->target) {
    case TSK_STRING: {
        const char *t = ts_format(a, c, ms);
        *out = cv_str(t, strlen(t));
        break;
    }
    case TSK_UNIX:
        *out = cv_int(c->precision == PREC_SECONDS ? ms / 1000
                    : c->precision == PREC_MICROS ? sat_mul(ms, 1000)
                    : c->precision == PREC_NANOS ? sat_mul(ms, 1000000) : ms);
        break;
    case TSK_DATE: *out = cv_int((int32_t)floor_div(ms, DAY_MS)); break;   /* Date.fromLogical's (int) */
    case TSK_TIME: *out = cv_int(ms - floor_div(ms, DAY_MS) * DAY_MS); break;
    default: *out = cv_int(ms); break;
    }
    return 0;
}

/* typeSchema(optional): Connect's own schemas for the target. */
static const cs_schema_t *target_schema(arena_t *a, tsk_t t, bool optional)
{
    static const ct_type_t types[] = { CT_STRING, CT_INT64, CT_INT32, CT_INT32, CT_INT64 };
    static const char *const names[] = { NULL, NULL, LOGICAL_DATE, LOGICAL_TIME, LOGICAL_TIMESTAMP };
    cs_schema_t *s = cs_new(a, types[t], optional);
    if (names[t]) {
        s->name = names[t];
        s->version = 1;
    }
    return s;
}

static wc_status_t tsc_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const tsc_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    const cs_schema_t *ns;
    cv_value_t *nv = NULL;
    if (!s) {
        if (v) {
            snprintf(err, errlen, "the %s has no schema", c->key ? "key" : "value");
            return WC_PERMANENT;
        }
        r->fresh = true;   /* a schemaless null stays null (a new record all the same) */
        return WC_OK;
    }
    if (!*c->field) {
        tsk_t from;
        if (source_kind(s, &from, err, errlen) < 0)
            return WC_PERMANENT;
        ns = tf_cache_get(x->cache, s->uid, 0);
        if (!ns) {
            ns = target_schema(x->schemas, c->target, s->optional);
            tf_cache_put(x->cache, s->uid, 0, ns);
        }
        if (v && !v->null) {
            nv = arena_alloc(x->a, sizeof *nv);
            if (convert(x->a, c, from, v, nv, err, errlen) < 0)
                return WC_PERMANENT;
        }
    } else {
        if (s->type != CT_STRUCT) {
            snprintf(err, errlen, "Cannot list fields on non-struct type");
            return WC_PERMANENT;
        }
        int fi = cs_field_index(s, c->field);
        tsk_t from = TSK_STRING;
        if (fi >= 0 && source_kind(s->fields[fi].schema, &from, err, errlen) < 0)
            return WC_PERMANENT;
        ns = tf_cache_get(x->cache, s->uid, 0);
        if (!ns) {
            cs_schema_t *b = tf_struct_basics(x->schemas, s);
            b->optional = s->optional;
            for (size_t k = 0; k < s->nfields; k++)
                cs_field_add(x->schemas, b, s->fields[k].name,
                             (int)k == fi ? target_schema(x->schemas, c->target, s->fields[k].schema->optional)
                                          : s->fields[k].schema);
            ns = b;
            tf_cache_put(x->cache, s->uid, 0, ns);
        }
        if (v && !v->null) {
            nv = arena_alloc(x->a, sizeof *nv);
            *nv = cv_list(x->a, s->nfields);
            for (size_t k = 0; k < s->nfields; k++) {
                cv_value_t fv = tf_field_get(s, v, k, c->replace_null);
                if ((int)k != fi)
                    nv->u.list.v[k] = fv;
                else if (convert(x->a, c, from, &fv, &nv->u.list.v[k], err, errlen) < 0)
                    return WC_PERMANENT;
                else if (nv->u.list.v[k].null && !ns->fields[k].schema->optional) {
                    snprintf(err, errlen, "Invalid value: null used for required field: \"%s\", schema type: %s",
                             s->fields[k].name, tf_type_java(ns->fields[k].schema->type));
                    return WC_PERMANENT;
                }
            }
        }
    }
    tf_side_set(r, c->key, ns, nv);
    return WC_OK;
}

const tf_type_t tf_ts_key = { "org.apache.kafka.connect.transforms.TimestampConverter$Key", tsc_opts, tsc_configure_key,
                              tsc_free, tsc_apply };
const tf_type_t tf_ts_value = { "org.apache.kafka.connect.transforms.TimestampConverter$Value", tsc_opts,
                                tsc_configure_value, tsc_free, tsc_apply };

/* ---- Kafka's TimestampRouter ---- */

typedef struct {
    char *topic_format;
    tsc_conf_t fmt;               /* only the pattern part is used */
} trouter_conf_t;

static const char *const trouter_opts[] = { "topic.format", "timestamp.format", NULL };

static void trouter_free(void *p)
{
    trouter_conf_t *c = p;
    if (!c)
        return;
    for (size_t i = 0; i < c->fmt.ntok; i++)
        free(c->fmt.tok[i].lit);
    free(c->fmt.tok);
    free(c->fmt.pattern);
    free(c->topic_format);
    free(c);
}

/* Kafka builds the SimpleDateFormat at the first record (a bad pattern fails every record); walcast
 * compiles it at start, so a bad one stops the connector there. */
static int trouter_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    trouter_conf_t *c = xcalloc(1, sizeof *c);
    c->topic_format = xstrdup(tf_opt_str(o, "topic.format", "${topic}-${timestamp}"));
    c->fmt.pattern = xstrdup(tf_opt_str(o, "timestamp.format", "yyyyMMdd"));
    if (compile_pattern(o, "timestamp.format", &c->fmt, c->fmt.pattern, err, errlen) < 0) {
        trouter_free(c);
        return -1;
    }
    *conf = c;
    return 0;
}

/* Every literal occurrence of what in s replaced by with (Matcher.replaceAll of a LITERAL pattern). */
static const char *replace_all(arena_t *a, const char *s, const char *what, const char *with)
{
    buf_t b;
    buf_init(&b);
    size_t wl = strlen(what);
    for (const char *p = s;;) {
        const char *q = strstr(p, what);
        if (!q) {
            buf_puts(&b, p);
            break;
        }
        buf_append(&b, p, (size_t)(q - p));
        buf_puts(&b, with);
        p = q + wl;
    }
    const char *r = arena_strdup(a, buf_cstr(&b));
    buf_free(&b);
    return r;
}

static wc_status_t trouter_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const trouter_conf_t *c = conf;
    if (!r->has_ts) {
        snprintf(err, errlen, "Timestamp missing on record (topic %s): Debezium's change events carry no record timestamp; "
                 "only a record a transform gave one (the outbox EventRouter) can be routed by it", r->topic);
        return WC_PERMANENT;
    }
    const char *ts = ts_format(x->a, &c->fmt, r->ts_ms);
    r->topic = replace_all(x->a, replace_all(x->a, c->topic_format, "${topic}", r->topic), "${timestamp}", ts);
    r->fresh = true;
    return WC_OK;
}

const tf_type_t tf_ts_router = { "org.apache.kafka.connect.transforms.TimestampRouter", trouter_opts, trouter_configure,
                                 trouter_free, trouter_apply };
