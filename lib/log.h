/*
 * log: the one logging API.
 *
 * Messages carry a "subsystem: " prefix chosen by the caller, e.g.
 * log_warn("smtp: %s: %s", host, why).  In the foreground they go to stderr
 * as "herald: <message>"; once log_to_syslog() is called (detached daemon)
 * they go to syslog.  Verbosity: -1 quiet (errors only), 0 normal (warnings
 * and info), 1 verbose (debug too).
 *
 * log_error() is for the one line a command prints when it fails:
 * "herald: <what>: <why>".
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

void	log_init(int verbosity);
int	log_verbosity(void);
void	log_to_syslog(void);
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits with status 1. */
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
