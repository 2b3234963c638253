/*
 * pcond's wire protocol on its Unix socket, one codec for both ends (pcond
 * and pcon): one request per line, answered by zero or more data lines and
 * one final "ok ..." or "err ..." line; after "subscribe", event lines (see
 * man/pcond.8.scd). Pure functions: no I/O, no allocation, no static
 * buffers, so they can be unit-tested and fuzzed on their own and used from
 * several threads. Internal to libpcon (not exported from the shared
 * library).
 */
#ifndef PCOND_PROTO_H
#define PCOND_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcon/events.h"

/* How old the counts of a taskstats answer may be. */
#define PROTO_TASKSTATS_AGE_MS 100

/* Longest request line, newline included. */
#define PROTO_LINE_MAX 4096

enum proto_cmd {
	PROTO_PING,     /* ping                 -> ok pcond VERSION */
	PROTO_STATUS,   /* status               -> status line, ok */
	PROTO_LOADAVG,  /* loadavg [-r] SPEC    -> container lines, ok N */
	PROTO_RESCAN,   /* rescan               -> (root) sample now, ok */
	PROTO_LIMIT,    /* limit N              -> (root) cap on tracked containers, ok */
	PROTO_SUBSCRIBE, /* subscribe [-r] SPEC -> ok N, then event lines until closed */
	PROTO_WATCH,    /* watch EXPR SPEC      -> ok 1, then threshold lines until closed */
	PROTO_TASKSTATS, /* taskstats [-r] SPEC -> taskstats lines from a walk at most
			    PROTO_TASKSTATS_AGE_MS old, ok N */
	PROTO_CMD_MAX,
	PROTO_CMD_INVALID = -EINVAL,
};

struct proto_req {
	enum proto_cmd cmd;
	bool recursive;              /* loadavg -r, subscribe -r, taskstats -r */
	bool privileged;             /* only root may ask */
	uint64_t number;             /* limit N */
	char expr[64];               /* watch: percent-decoded threshold expression */
	char spec[PROTO_LINE_MAX];   /* loadavg, subscribe, taskstats: percent-decoded HIER:PATH */
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

/*
 * A request line for cmd (with its newline) into out: "loadavg -r SPEC\n".
 * spec is escaped; NULL for commands without one. The length, or -ENOBUFS.
 */
int proto_request_format(enum proto_cmd cmd, bool recursive, const char *spec, uint64_t number,
			 char *out, size_t size);

/* "watch EXPR SPEC\n" into out, both escaped. The length, or -ENOBUFS. */
int proto_watch_format(const char *expr, const char *spec, char *out, size_t size);

/*
 * The value of key in a data or event line ("word k=v k=v ..."),
 * percent-decoded into out; NULL if the key is absent, its value is badly
 * escaped or does not fit.
 */
const char *proto_field(const char *line, const char *key, char *out, size_t size);

/* ---- event lines --------------------------------------------------------- */

/* Longest event line, newline included: three escaped paths and a name. */
#define PROTO_EVENT_MAX (64u << 10)
#define PROTO_PATH_MAX 4096 /* a decoded path, NUL included */
#define PROTO_NAME_MAX 256  /* a decoded hierarchy or command name */

#define PROTO_EVENT_WITHHELD 0x1u     /* exec/exit: name and status left out */
#define PROTO_EVENT_SOURCE_PCOND 0x2u /* lost: pcond dropped them, not the kernel */

/*
 * Format ev as one event line with its newline: hier is the hierarchy's
 * name (NULL for a lost event), real_ns the time since the epoch, flags
 * PROTO_EVENT_*. The length, or -ENOBUFS if out is too small (out is then
 * unspecified).
 */
int proto_event_format(const struct pcon_event *ev, const char *hier, int64_t real_ns,
		       unsigned flags, char *out, size_t size);

/* An event line decoded: ev's strings point into the buffers here. */
struct proto_event {
	struct pcon_event ev;  /* ev.hier is NULL: see hier */
	int64_t real_ns;       /* 0 if the line had no time */
	unsigned flags;        /* PROTO_EVENT_* */
	char hier[PROTO_NAME_MAX], path[PROTO_PATH_MAX], from[PROTO_PATH_MAX];
	char comm[PROTO_NAME_MAX];
};

/*
 * Decode one event line (without its newline). Unknown keys are ignored.
 * -ENOENT an event of a type this codec does not know (skip it), -EINVAL
 * not a well-formed event line. *ret is unspecified on error.
 */
int proto_event_parse(const char *line, size_t len, struct proto_event *ret);

#endif
