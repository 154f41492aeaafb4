// SPDX-License-Identifier: Apache-2.0
/*
 * libbpf prints warnings and verifier logs to stderr by default. A library must not print, so libs/bpf routes
 * them here: messages (INFO and WARN, not DEBUG) accumulate in a bounded buffer that the caller takes after a
 * failed call and puts into the error it throws. Main thread only, like the libbpf calls that log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#define LOG_CAP (64 * 1024)

static char log_buf[LOG_CAP];
static size_t log_len;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (log_len >= LOG_CAP - 1)
		log_len = 0; /* keep the newest messages: a verifier log is at the end */
	n = vsnprintf(log_buf + log_len, LOG_CAP - log_len, fmt, ap);
	if (n > 0)
		log_len += (size_t)n < LOG_CAP - log_len ? (size_t)n : LOG_CAP - 1 - log_len;
	return 0;
}

void stinger_libbpf_capture_log(void)
{
	libbpf_set_print(capture);
}

/* Copies up to cap - 1 bytes of the captured log into out (NUL-terminated), clears it, returns the bytes copied. */
size_t stinger_libbpf_take_log(char *out, size_t cap)
{
	size_t n = log_len < cap - 1 ? log_len : cap - 1;

	memcpy(out, log_buf + (log_len - n), n);
	out[n] = 0;
	log_len = 0;
	return n;
}
