/* pcond's line protocol: splitting, parsing and escaping (no I/O). */
#include <string.h>

#include "proto.h"

static const char *const cmd_names[PROTO_CMD_MAX] = {
	[PROTO_PING] = "ping",
	[PROTO_STATUS] = "status",
	[PROTO_LOADAVG] = "loadavg",
	[PROTO_RESCAN] = "rescan",
	[PROTO_LIMIT] = "limit",
	[PROTO_SUBSCRIBE] = "subscribe",
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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int proto_unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3)
				return -EINVAL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
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

/* loadavg and subscribe: [-r|--recursive] CONTAINER */
static int parse_spec(const struct word *w, size_t n, struct proto_req *req, const char **why)
{
	size_t i = 1;
	if (i < n && (word_is(&w[i], "-r") || word_is(&w[i], "--recursive"))) {
		req->recursive = true;
		i++;
	}
	if (n - i != 1) {
		bool loadavg = req->cmd == PROTO_LOADAVG;
		if (n - i == 0)
			*why = loadavg ? "loadavg needs a container (HIER:PATH)"
				       : "subscribe needs a container (HIER:PATH)";
		else
			*why = loadavg ? "loadavg takes one container (and -r)"
				       : "subscribe takes one container (and -r)";
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
		r = parse_spec(w, n, ret, &why);
		break;
	case PROTO_LIMIT:
		if (n != 2 || parse_number(&w[1], &ret->number) < 0 || ret->number == 0) {
			why = "limit needs a positive number of containers";
			r = -EINVAL;
		}
		break;
	default:
		why = "unknown command (ping, status, loadavg, subscribe, rescan, limit)";
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
