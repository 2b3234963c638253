/* pcond's line protocol: splitting, parsing, escaping and the event lines
 * (no I/O, no allocation). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "internal.h"
#include "proto.h"

static const char *const cmd_names[PROTO_CMD_MAX] = {
	[PROTO_PING] = "ping",
	[PROTO_STATUS] = "status",
	[PROTO_LOADAVG] = "loadavg",
	[PROTO_RESCAN] = "rescan",
	[PROTO_LIMIT] = "limit",
	[PROTO_SUBSCRIBE] = "subscribe",
	[PROTO_WATCH] = "watch",
	[PROTO_TASKSTATS] = "taskstats",
};

const char *proto_cmd_name(enum proto_cmd c)
{
	return c >= 0 && c < PROTO_CMD_MAX ? cmd_names[c] : NULL;
}

int proto_line(const char *buf, size_t len, size_t *ret_len, size_t *ret_used)
{
	size_t scan = len < PROTO_LINE_MAX ? len : PROTO_LINE_MAX;
	const char *nl = memchr(buf, '\n', scan);
	if (!nl)
		return len >= PROTO_LINE_MAX ? -E2BIG : 0;
	size_t n = (size_t)(nl - buf);
	*ret_used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*ret_len = n;
	return 1;
}


int proto_unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3)
				return -EINVAL;
			int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0)
			return -EINVAL;
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	if (size == 0)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return (int)o;
}

int proto_escape(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool esc = c <= ' ' || c == '%' || c == '=' || c >= 0x7f;
		if (o + (esc ? 3 : 1) >= size)
			return -ENOBUFS;
		if (esc) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	if (size == 0)
		return -ENOBUFS;
	out[o] = '\0';
	return (int)o;
}

#define MAX_WORDS 4

struct word {
	const char *s;
	size_t n;
};

/* Split on runs of spaces and tabs; every other byte must be printable ASCII. */
static int split(const char *line, size_t len, struct word *w, size_t *ret_n, const char **why)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)line[i];
		if (c == ' ' || c == '\t') {
			i++;
			continue;
		}
		if (n == MAX_WORDS) {
			*why = "too many arguments";
			return -EINVAL;
		}
		w[n].s = line + i;
		for (; i < len && line[i] != ' ' && line[i] != '\t'; i++) {
			c = (unsigned char)line[i];
			if (c < 0x21 || c > 0x7e) {
				*why = "control or non-ASCII byte in request (escape it as %XX)";
				return -EINVAL;
			}
		}
		w[n].n = (size_t)(line + i - w[n].s);
		n++;
	}
	*ret_n = n;
	return 0;
}

static bool word_is(const struct word *w, const char *s)
{
	return w->n == strlen(s) && memcmp(w->s, s, w->n) == 0;
}

/* A decimal number without sign or leading junk, at most 10^15. */
static int parse_number(const struct word *w, uint64_t *ret)
{
	if (w->n == 0 || w->n > 15)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->s[i] < '0' || w->s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(w->s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* loadavg, subscribe and taskstats: [-r|--recursive] CONTAINER */
static int parse_spec(const struct word *w, size_t n, struct proto_req *req, const char **why)
{
	size_t i = 1;
	if (i < n && (word_is(&w[i], "-r") || word_is(&w[i], "--recursive"))) {
		req->recursive = true;
		i++;
	}
	if (n - i != 1) {
		static const char *const none[PROTO_CMD_MAX] = {
			[PROTO_LOADAVG] = "loadavg needs a container (HIER:PATH)",
			[PROTO_SUBSCRIBE] = "subscribe needs a container (HIER:PATH)",
			[PROTO_TASKSTATS] = "taskstats needs a container (HIER:PATH)",
		};
		static const char *const more[PROTO_CMD_MAX] = {
			[PROTO_LOADAVG] = "loadavg takes one container (and -r)",
			[PROTO_SUBSCRIBE] = "subscribe takes one container (and -r)",
			[PROTO_TASKSTATS] = "taskstats takes one container (and -r)",
		};
		*why = n - i == 0 ? none[req->cmd] : more[req->cmd];
		return -EINVAL;
	}
	int r = proto_unescape(w[i].s, w[i].n, req->spec, sizeof(req->spec));
	if (r == -ENAMETOOLONG) {
		*why = "container name too long";
		return r;
	}
	if (r < 0) {
		*why = "bad %XX escape in container name";
		return r;
	}
	return 0;
}

int proto_parse(const char *line, size_t len, struct proto_req *ret, const char **ret_why)
{
	struct word w[MAX_WORDS];
	size_t n = 0;
	const char *why = "malformed request";
	int r = len >= PROTO_LINE_MAX ? -EINVAL : split(line, len, w, &n, &why);
	if (r == 0 && n == 0) {
		why = "empty request";
		r = -EINVAL;
	}
	if (r < 0)
		goto fail;
	ret->cmd = PROTO_CMD_INVALID;
	for (int c = 0; c < PROTO_CMD_MAX; c++)
		if (word_is(&w[0], cmd_names[c]))
			ret->cmd = (enum proto_cmd)c;
	ret->recursive = false;
	ret->privileged = ret->cmd == PROTO_RESCAN || ret->cmd == PROTO_LIMIT;
	ret->number = 0;
	ret->spec[0] = '\0';
	ret->expr[0] = '\0';
	switch (ret->cmd) {
	case PROTO_PING:
	case PROTO_STATUS:
	case PROTO_RESCAN:
		if (n != 1) {
			why = "this command takes no arguments";
			r = -EINVAL;
		}
		break;
	case PROTO_LOADAVG:
	case PROTO_SUBSCRIBE:
	case PROTO_TASKSTATS:
		r = parse_spec(w, n, ret, &why);
		break;
	case PROTO_WATCH:
		if (n != 3) {
			why = "watch needs an expression and a container (watch load1>1.5 HIER:PATH)";
			r = -EINVAL;
		} else if ((r = proto_unescape(w[1].s, w[1].n, ret->expr, sizeof(ret->expr))) < 0) {
			why = "bad expression";
		} else if ((r = proto_unescape(w[2].s, w[2].n, ret->spec, sizeof(ret->spec))) < 0) {
			why = r == -ENAMETOOLONG ? "container name too long" : "bad %XX escape in container name";
		}
		break;
	case PROTO_LIMIT:
		if (n != 2 || parse_number(&w[1], &ret->number) < 0 || ret->number == 0) {
			why = "limit needs a positive number of containers";
			r = -EINVAL;
		}
		break;
	default:
		why = "unknown command (ping, status, loadavg, taskstats, subscribe, watch, rescan, limit)";
		r = -ENOENT;
		break;
	}
	if (r < 0)
		goto fail;
	return 0;
fail:
	*ret_why = why;
	return r;
}

/* ---- client requests and data lines -------------------------------------- */

int proto_request_format(enum proto_cmd cmd, bool recursive, const char *spec, uint64_t number,
			 char *out, size_t size)
{
	const char *name = proto_cmd_name(cmd);
	if (!name)
		return -EINVAL;
	size_t o = (size_t)snprintf(out, size, "%s%s", name, recursive ? " -r" : "");
	if (o + 2 > size)
		return -ENOBUFS;
	if (cmd == PROTO_LIMIT) {
		int n = snprintf(out + o, size - o, " %llu", (unsigned long long)number);
		if (n < 0 || (size_t)n + 1 >= size - o)
			return -ENOBUFS;
		o += (size_t)n;
	} else if (spec) {
		out[o++] = ' ';
		int n = proto_escape(spec, out + o, size - o);
		if (n < 0)
			return -ENOBUFS;
		o += (size_t)n;
	}
	if (o + 2 > size)
		return -ENOBUFS;
	out[o++] = '\n';
	out[o] = '\0';
	return (int)o;
}

int proto_watch_format(const char *expr, const char *spec, char *out, size_t size)
{
	int o = snprintf(out, size, "watch ");
	if (o < 0 || (size_t)o >= size)
		return -ENOBUFS;
	int n = proto_escape(expr, out + o, size - (size_t)o);
	if (n < 0 || (size_t)(o + n) + 2 >= size)
		return -ENOBUFS;
	o += n;
	out[o++] = ' ';
	n = proto_escape(spec, out + o, size - (size_t)o);
	if (n < 0 || (size_t)(o + n) + 2 > size)
		return -ENOBUFS;
	o += n;
	out[o++] = '\n';
	out[o] = '\0';
	return o;
}

/* The value of the word "key=..." of line, [*ret_v, *ret_v + *ret_n). */
static bool find_value(const char *line, const char *key, const char **ret_v, size_t *ret_n)
{
	size_t kl = strlen(key);
	for (const char *s = strchr(line, ' '); s; s = strchr(s + 1, ' ')) {
		if (strncmp(s + 1, key, kl) != 0 || s[1 + kl] != '=')
			continue;
		const char *v = s + 2 + kl;
		*ret_v = v;
		*ret_n = strcspn(v, " \n");
		return true;
	}
	return false;
}

const char *proto_field(const char *line, const char *key, char *out, size_t size)
{
	const char *v;
	size_t n;
	if (!find_value(line, key, &v, &n) || proto_unescape(v, n, out, size) < 0)
		return NULL;
	return out;
}

/* ---- event lines ----------------------------------------------------------- */

/* The wire names of event types (pcon_event_type_to_string's, checked by
 * the unit tests; kept here so the codec stands alone). */
static const char *const event_names[PCON_EVENT_MAX] = {
	[PCON_EVENT_FORK] = "fork", [PCON_EVENT_EXEC] = "exec", [PCON_EVENT_EXIT] = "exit",
	[PCON_EVENT_UID] = "uid", [PCON_EVENT_GID] = "gid", [PCON_EVENT_MOVE] = "move",
	[PCON_EVENT_POPULATED] = "populated", [PCON_EVENT_EMPTY] = "empty",
	[PCON_EVENT_LOST] = "lost", [PCON_EVENT_GONE] = "gone",
};

struct out {
	char *p;
	size_t len, size;
	bool full;
};

static void put_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* " key=" and value escaped. */
static void put_esc(struct out *o, const char *key, const char *value)
{
	put_fmt(o, " %s=", key);
	if (o->full)
		return;
	int n = proto_escape(value, o->p + o->len, o->size - o->len);
	if (n < 0)
		o->full = true;
	else
		o->len += (size_t)n;
}

static bool has_task(enum pcon_event_type t)
{
	return t != PCON_EVENT_EMPTY && t != PCON_EVENT_POPULATED && t != PCON_EVENT_GONE &&
	       t != PCON_EVENT_LOST;
}

static void put_task(struct out *o, const struct pcon_event *ev, unsigned flags)
{
	put_fmt(o, " pid=%d tid=%d cached=%d", (int)ev->pid, (int)ev->tid,
		ev->flags & PCON_EVENT_F_CACHED ? 1 : 0);
	bool withheld = flags & PROTO_EVENT_WITHHELD;
	switch (ev->type) {
	case PCON_EVENT_FORK:
		put_fmt(o, " parent_pid=%d parent_tid=%d", (int)ev->parent_pid, (int)ev->parent_tid);
		break;
	case PCON_EVENT_EXEC:
		if (withheld)
			put_fmt(o, " withheld=1");
		else if (ev->comm)
			put_esc(o, "comm", ev->comm);
		break;
	case PCON_EVENT_EXIT:
		if (withheld)
			put_fmt(o, " withheld=1");
		else if (WIFSIGNALED(ev->exit_code))
			put_fmt(o, " signal=%d", WTERMSIG(ev->exit_code));
		else
			put_fmt(o, " code=%d", WEXITSTATUS(ev->exit_code));
		break;
	case PCON_EVENT_UID:
		put_fmt(o, " ruid=%u euid=%u", ev->rid, ev->eid);
		break;
	case PCON_EVENT_GID:
		put_fmt(o, " rgid=%u egid=%u", ev->rid, ev->eid);
		break;
	case PCON_EVENT_MOVE:
		if (ev->from_path)
			put_esc(o, "from", ev->from_path);
		break;
	default:
		break;
	}
}

int proto_event_format(const struct pcon_event *ev, const char *hier, int64_t real_ns,
		       unsigned flags, char *out, size_t size)
{
	if ((int)ev->type < 0 || ev->type >= PCON_EVENT_MAX || size == 0)
		return -EINVAL;
	struct out o = { .p = out, .size = size };
	if (real_ns < 0)
		real_ns = 0;
	put_fmt(&o, "event time=%lld.%06lld type=%s", (long long)(real_ns / 1000000000),
		(long long)(real_ns % 1000000000 / 1000), event_names[ev->type]);
	if (ev->type == PCON_EVENT_LOST) {
		put_fmt(&o, " count=%llu source=%s", (unsigned long long)ev->lost,
			flags & PROTO_EVENT_SOURCE_PCOND ? "pcond" : "kernel");
	} else if (hier && ev->path) {
		/* container=HIER:PATH: ':' needs no escape, so this is the
		 * escape of the whole name */
		put_esc(&o, "container", hier);
		put_fmt(&o, ":");
		int n = o.full ? -1 : proto_escape(ev->path, o.p + o.len, o.size - o.len);
		if (n < 0)
			o.full = true;
		else
			o.len += (size_t)n;
		put_esc(&o, "hierarchy", hier);
		put_esc(&o, "path", ev->path);
		if (has_task(ev->type))
			put_task(&o, ev, flags);
	}
	put_fmt(&o, "\n");
	return o.full ? -ENOBUFS : (int)o.len;
}

/* A decimal number of at most 19 digits, optionally negative. */
static int parse_ll(const char *v, size_t n, long long *ret)
{
	bool neg = n > 0 && v[0] == '-';
	size_t i = neg ? 1 : 0;
	if (n == i || n - i > 19)
		return -EINVAL;
	unsigned long long x = 0;
	for (; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	if (x > (unsigned long long)INT64_MAX)
		return -EINVAL;
	*ret = neg ? -(long long)x : (long long)x;
	return 0;
}

/* SEC.USEC into nanoseconds. */
static int parse_time(const char *v, size_t n, int64_t *ret)
{
	const char *dot = memchr(v, '.', n);
	long long sec, usec = 0;
	if (parse_ll(v, dot ? (size_t)(dot - v) : n, &sec) < 0 || sec < 0 ||
	    sec > INT64_MAX / 1000000000 - 1)
		return -EINVAL;
	if (dot) {
		size_t fl = n - (size_t)(dot - v) - 1;
		if (fl == 0 || fl > 6 || parse_ll(dot + 1, fl, &usec) < 0 || usec < 0)
			return -EINVAL;
		for (; fl < 6; fl++)
			usec *= 10;
	}
	*ret = (int64_t)sec * 1000000000 + usec * 1000;
	return 0;
}

/* One "key=value" word of an event line into ret. */
static int parse_word(const char *k, size_t kl, const char *v, size_t n, struct proto_event *ret)
{
	struct pcon_event *ev = &ret->ev;
	static const struct {
		const char *key;
		size_t off;
		bool is_pid;
	} nums[] = {
		{ "pid", offsetof(struct pcon_event, pid), true },
		{ "tid", offsetof(struct pcon_event, tid), true },
		{ "parent_pid", offsetof(struct pcon_event, parent_pid), true },
		{ "parent_tid", offsetof(struct pcon_event, parent_tid), true },
		{ "ruid", offsetof(struct pcon_event, rid), false },
		{ "rgid", offsetof(struct pcon_event, rid), false },
		{ "euid", offsetof(struct pcon_event, eid), false },
		{ "egid", offsetof(struct pcon_event, eid), false },
	};
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
	long long x;
	if (KEY("time"))
		return parse_time(v, n, &ret->real_ns);
	if (KEY("hierarchy"))
		return proto_unescape(v, n, ret->hier, sizeof(ret->hier)) < 0 ? -EINVAL : 0;
	if (KEY("path")) {
		ev->path = ret->path;
		return proto_unescape(v, n, ret->path, sizeof(ret->path)) < 0 ? -EINVAL : 0;
	}
	if (KEY("from")) {
		ev->from_path = ret->from;
		return proto_unescape(v, n, ret->from, sizeof(ret->from)) < 0 ? -EINVAL : 0;
	}
	if (KEY("comm")) {
		ev->comm = ret->comm;
		return proto_unescape(v, n, ret->comm, sizeof(ret->comm)) < 0 ? -EINVAL : 0;
	}
	if (KEY("source")) {
		if (n == 5 && memcmp(v, "pcond", 5) == 0)
			ret->flags |= PROTO_EVENT_SOURCE_PCOND;
		return 0;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (kl != strlen(nums[i].key) || memcmp(k, nums[i].key, kl) != 0)
			continue;
		if (parse_ll(v, n, &x) < 0 || x < 0 || x > (nums[i].is_pid ? INT32_MAX : UINT32_MAX))
			return -EINVAL;
		if (nums[i].is_pid)
			*(pid_t *)((char *)ev + nums[i].off) = (pid_t)x;
		else
			*(uint32_t *)((char *)ev + nums[i].off) = (uint32_t)x;
		return 0;
	}
	bool flag = KEY("cached") || KEY("withheld");
	if (flag || KEY("code") || KEY("signal") || KEY("count")) {
		if (parse_ll(v, n, &x) < 0 || x < 0 || (flag && x > 1) ||
		    ((KEY("code") || KEY("signal")) && x > 255))
			return -EINVAL;
		if (KEY("cached"))
			ev->flags |= x ? PCON_EVENT_F_CACHED : 0;
		else if (KEY("withheld"))
			ret->flags |= x ? PROTO_EVENT_WITHHELD : 0;
		else if (KEY("code"))
			ev->exit_code = (uint32_t)x << 8;
		else if (KEY("signal"))
			ev->exit_code = (uint32_t)x & 0x7f;
		else
			ev->lost = (uint64_t)x;
		return 0;
	}
#undef KEY
	return 0; /* a key of a newer pcond, or container= (hierarchy and path say it) */
}

int proto_event_parse(const char *line, size_t len, struct proto_event *ret)
{
	if (len < 6 || memcmp(line, "event ", 6) != 0)
		return -EINVAL;
	ret->ev = (struct pcon_event){ .type = PCON_EVENT_INVALID, .subscription = -1 };
	ret->real_ns = 0;
	ret->flags = 0;
	ret->hier[0] = ret->path[0] = ret->from[0] = ret->comm[0] = '\0';
	bool typed = false, known = false, has_tid = false;
	for (size_t i = 6; i < len;) {
		size_t wl = 0;
		while (i + wl < len && line[i + wl] != ' ')
			wl++;
		if (wl == 0) {
			i++;
			continue;
		}
		const char *w = line + i, *eq = memchr(w, '=', wl);
		if (!eq)
			return -EINVAL;
		size_t kl = (size_t)(eq - w), vl = wl - kl - 1;
		if (kl == 4 && memcmp(w, "type", 4) == 0) {
			typed = true;
			for (int t = 0; t < PCON_EVENT_MAX; t++)
				if (strlen(event_names[t]) == vl && memcmp(eq + 1, event_names[t], vl) == 0) {
					ret->ev.type = (enum pcon_event_type)t;
					known = true;
				}
		} else if (parse_word(w, kl, eq + 1, vl, ret) < 0) {
			return -EINVAL;
		}
		has_tid |= kl == 3 && memcmp(w, "tid", 3) == 0;
		i += wl;
	}
	if (!typed)
		return -EINVAL;
	if (!known)
		return -ENOENT;
	if (ret->ev.type != PCON_EVENT_LOST && (!ret->hier[0] || !ret->ev.path))
		return -EINVAL;
	if (!has_tid)
		ret->ev.tid = ret->ev.pid;
	return 0;
}
