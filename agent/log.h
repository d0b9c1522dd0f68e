/* log.h: one line per event, "ts=... level=... msg=... key=value", to stderr.
 * Never pass secrets here: callers mask them (cfg_mask) before logging. */
#ifndef WALCAST_LOG_H
#define WALCAST_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL } log_level_t;

void log_set_level(log_level_t l);
log_level_t log_get_level(void);
/* fmt continues after msg="..."; pass the message first, then key=value pairs. */
void log_msg(log_level_t l, const char *msg, const char *kvfmt, ...) __attribute__((format(printf, 3, 4)));

/* Escapes " \ and newlines for a quoted logfmt value; rotates over 8 thread-local buffers, so up
 * to 8 may be used in one log call. */
const char *log_esc(const char *s);

/* Wall-clock microseconds (Unix epoch) at which the process was loaded (before main): the start-up
 * timeline's first mark (connector.c, "start-up trace"). */
long long log_process_start_us(void);

#define log_info(msg, ...) log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_msg(LOG_ERROR, msg, __VA_ARGS__)
#define log_debug(msg, ...) log_msg(LOG_DEBUG, msg, __VA_ARGS__)

#endif
