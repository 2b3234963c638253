/*
 * pcond's request protocol on its Unix socket: one request per line, answered
 * by zero or more data lines and one final "ok ..." or "err ..." line (see
 * man/pcond.8.scd). Pure functions: no I/O, no allocation, so the parser can
 * be unit-tested and fuzzed on its own.
 */
#ifndef PCOND_PROTO_H
#define PCOND_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest request line, newline included. */
#define PROTO_LINE_MAX 4096

enum proto_cmd {
	PROTO_PING,     /* ping                 -> ok pcond VERSION */
	PROTO_STATUS,   /* status               -> status line, ok */
	PROTO_LOADAVG,  /* loadavg [-r] SPEC    -> container lines, ok N */
	PROTO_RESCAN,   /* rescan               -> (root) sample now, ok */
	PROTO_LIMIT,    /* limit N              -> (root) cap on tracked containers, ok */
	PROTO_SUBSCRIBE, /* subscribe [-r] SPEC -> ok N, then event lines until closed */
	PROTO_CMD_MAX,
	PROTO_CMD_INVALID = -EINVAL,
};

struct proto_req {
	enum proto_cmd cmd;
	bool recursive;              /* loadavg -r, subscribe -r */
	bool privileged;             /* only root may ask */
	uint64_t number;             /* limit N */
	char spec[PROTO_LINE_MAX];   /* loadavg, subscribe: percent-decoded HIER:PATH */
};

/*
 * Find the first line of buf[0..len). 1: a complete line of *ret_len bytes
 * (without its '\n'; a '\r' before it is dropped too) was found and takes
 * *ret_used bytes of buf. 0: no newline yet, more input needed. -E2BIG: no
 * newline within PROTO_LINE_MAX bytes.
 */
int proto_line(const char *buf, size_t len, size_t *ret_len, size_t *ret_used);

/*
 * Parse one request line (without newline) into *ret. On error returns
 * -EINVAL (malformed; *ret_why says how, a static string), -ENOENT (unknown
 * command) or -ENAMETOOLONG; *ret is then unspecified.
 */
int proto_parse(const char *line, size_t len, struct proto_req *ret, const char **ret_why);

/*
 * Percent-encode s for a response field: every byte <= ' ', '%', '=' and
 * >= 0x7f becomes %XX. Returns the length, or -ENOBUFS if out is too small.
 */
int proto_escape(const char *s, char *out, size_t size);

/* Decode %XX escapes of s[0..len) into out. -EINVAL bad escape or a NUL,
 * -ENAMETOOLONG out too small. */
int proto_unescape(const char *s, size_t len, char *out, size_t size);

/* Name of a command for logs; NULL if invalid. */
const char *proto_cmd_name(enum proto_cmd c);

#endif
