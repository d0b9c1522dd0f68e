/* regex.c: guards and whole-string matching for the POSIX regexes that stand in for Java's.
 * Java-only syntax (lazy quantifiers, lookaround, \d) is refused or fails to compile, never guessed. */
#include "schemas/regex.h"

#include <stdio.h>
#include <string.h>

/* glibc's regcomp expands stacked quantifiers ("a++") and bounded repeats ("(a{200}){200}") into
 * trees whose size multiplies: refuse them before compiling. Java's regex rejects the former too. */
const char *rx_too_costly(const char *p, size_t n)
{
    unsigned long product = 1;
    bool prev_quant = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            i++;
            prev_quant = false;
            continue;
        }
        if (c == '[') {
            /* skip a bracket expression: quantifier characters inside are literals */
            size_t k = i + 1;
            if (k < n && p[k] == '^')
                k++;
            if (k < n && p[k] == ']')
                k++;
            while (k < n && p[k] != ']')
                k++;
            i = k;
            prev_quant = false;
            continue;
        }
        bool quant = c == '*' || c == '+' || c == '?' || c == '{';
        if (quant && prev_quant)
            return "a quantifier directly after another quantifier (lazy/possessive forms are not supported)";
        if (c == '{') {
            unsigned long lo = 0, hi = 0;
            size_t k = i + 1;
            while (k < n && p[k] >= '0' && p[k] <= '9' && lo <= 100000)
                lo = lo * 10 + (unsigned long)(p[k++] - '0');
            hi = lo;
            if (k < n && p[k] == ',') {
                k++;
                hi = 0;
                while (k < n && p[k] >= '0' && p[k] <= '9' && hi <= 100000)
                    hi = hi * 10 + (unsigned long)(p[k++] - '0');
                if (hi == 0)
                    hi = lo;
            }
            if (lo > 255 || hi > 255)
                return "a repeat count above 255";
            product *= hi ? hi : 1;
            if (product > 10000)
                return "repeat counts whose product exceeds 10000";
            while (k < n && p[k] != '}')
                k++;
            i = k;
        }
        prev_quant = quant;
    }
    return NULL;
}

int rx_compile(regex_t *re, const char *p, const char *what, char *err, size_t errlen)
{
    size_t n = strlen(p);
    const char *why = rx_too_costly(p, n);
    if (why) {
        snprintf(err, errlen, "%s: invalid regular expression '%.*s': %s", what, (int)(n > 200 ? 200 : n), p, why);
        return -1;
    }
    int rc = regcomp(re, p, REG_EXTENDED);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        snprintf(err, errlen, "%s: invalid regular expression '%.*s': %s", what, (int)(n > 200 ? 200 : n), p, msg);
        return -1;
    }
    return 0;
}

bool rx_matches(const regex_t *re, const char *s, regmatch_t *pm, size_t npm)
{
    regmatch_t one[1];
    if (npm == 0) {
        pm = one;
        npm = 1;
    }
    if (regexec(re, s, npm, pm, 0) != 0)
        return false;
    return pm[0].rm_so == 0 && (size_t)pm[0].rm_eo == strlen(s);
}
