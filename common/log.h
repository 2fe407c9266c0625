/* log.h — one-line logs to stderr with a level, a module tag and the time.
 *
 * Log once, at the place that decides what to do about an error; helpers
 * return -errno and do not log. eddy_log_err() returns its error argument so
 * that a caller can write `return eddy_log_err(r, "rpc", "connect %s", a);`. */
#ifndef EDDY_LOG_H
#define EDDY_LOG_H

enum eddy_log_level { EDDY_LOG_DEBUG = 0, EDDY_LOG_INFO, EDDY_LOG_WARN, EDDY_LOG_ERROR };

/** Set the lowest level printed (default INFO; EDDY_LOG=debug in the
 *  environment lowers it). */
void eddy_log_set_level(enum eddy_log_level lvl);
void eddy_log_init_from_env(void);
/** Name this process in every line ("frontend", "broker-1"). Copied. */
void eddy_log_set_ident(const char *ident);

void eddy_log(enum eddy_log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Log at ERROR with strerror(-err) appended; returns @p err. */
int eddy_log_err(int err, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_DEBUG(mod, ...) eddy_log(EDDY_LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...) eddy_log(EDDY_LOG_INFO, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) eddy_log(EDDY_LOG_WARN, mod, __VA_ARGS__)
#define LOG_ERROR(mod, ...) eddy_log(EDDY_LOG_ERROR, mod, __VA_ARGS__)

#endif
