/* regex.h: the POSIX extended regexes that stand in for Java's in configuration (include lists,
 * RegexRouter, TopicNameMatches): a guard against patterns glibc would blow up, and whole-string matching. */
#ifndef WALCAST_REGEX_H
#define WALCAST_REGEX_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* Why pattern p (n bytes) is refused before regcomp sees it, or NULL when it may be compiled. */
const char *rx_too_costly(const char *p, size_t n);
/* Compiles p unanchored (its groups keep Java's numbering); what names the setting for the error. */
int rx_compile(regex_t *re, const char *p, const char *what, char *err, size_t errlen);
/* Java's Matcher.matches(): the whole of s, with groups in pm[0..npm) (POSIX leftmost-longest: a
 * match of the whole string, if any, is the one found at offset 0). */
bool rx_matches(const regex_t *re, const char *s, regmatch_t *pm, size_t npm);

#endif
