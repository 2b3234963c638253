/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Container names in text, JSON and OpenMetrics output. A name may hold any
 * byte but '/' and NUL (tabs, 0xFF, invalid UTF-8, terminal escapes), so every
 * printed name goes through one of these; the text form is reversible and is
 * what pcon_spec_parse accepts back.
 */
#include <string.h>

#include "internal.h"

/* A bounded writer that counts what the whole output needs (snprintf style). */
struct sink {
	char *buf;
	size_t size, len;
};

static void put(struct sink *s, const char *p, size_t n)
{
	if (s->len < s->size) {
		size_t room = s->size - 1 - s->len;
		memcpy(s->buf + s->len, p, n < room ? n : room);
	}
	s->len += n;
}

static void putc_(struct sink *s, char c) { put(s, &c, 1); }

static size_t sink_end(struct sink *s)
{
	if (s->size)
		s->buf[s->len < s->size ? s->len : s->size - 1] = '\0';
	return s->len;
}

static void put_hex(struct sink *s, const char *prefix, unsigned v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	put(s, prefix, strlen(prefix));
	for (int i = digits - 1; i >= 0; i--)
		putc_(s, hex[(v >> (4 * i)) & 0xf]);
}

/*
 * Length of the well-formed UTF-8 sequence at p (1-4), its code point in
 * *cp; 0 if p does not start one (a stray continuation byte, an overlong
 * form, a surrogate, a value over U+10FFFF, a truncated sequence).
 */
static size_t utf8_len(const unsigned char *p, uint32_t *cp)
{
	size_t n;
	uint32_t v, min;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		n = 2, v = p[0] & 0x1f, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3, v = p[0] & 0x0f, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4, v = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Code points that are valid but change how a terminal shows the text: C1
 * controls, line and paragraph separators, bidirectional overrides. */
static bool cp_invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

_public_ size_t pcon_escape_name(char *buf, size_t size, const char *name)
{
	struct sink s = { buf, size, 0 };
	for (const unsigned char *p = (const unsigned char *)name; *p;) {
		size_t run = 0; /* printable ASCII but the backslash: as it is, in one copy */
		while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\')
			run++;
		if (run) {
			put(&s, (const char *)p, run);
			p += run;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_len(p, &cp);
		if (*p == '\\')
			put(&s, "\\\\", 2);
		else if (*p == '\t')
			put(&s, "\\t", 2);
		else if (*p == '\n')
			put(&s, "\\n", 2);
		else if (n == 0 || cp < 0x20 || cp == 0x7f || cp_invisible(cp)) {
			/* every byte of it, so that unescaping gives the same bytes back */
			size_t k = n ? n : 1;
			for (size_t i = 0; i < k; i++)
				put_hex(&s, "\\x", p[i], 2);
			p += k;
			continue;
		} else
			put(&s, (const char *)p, n);
		p += n ? n : 1;
	}
	return sink_end(&s);
}


_public_ int pcon_unescape_name(const char *text, char **ret)
{
	_cleanup_free_ char *out = malloc(strlen(text) + 1);
	if (!out)
		return -ENOMEM;
	size_t w = 0;
	for (const char *p = text; *p; p++) {
		if (*p != '\\') {
			out[w++] = *p;
			continue;
		}
		switch (*++p) {
		case '\\': out[w++] = '\\'; break;
		case 't': out[w++] = '\t'; break;
		case 'n': out[w++] = '\n'; break;
		case 'x': {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
			if (lo < 0)
				return -EINVAL;
			char c = (char)(hi << 4 | lo);
			if (c == '\0' || c == '/') /* no name holds these */
				return -EINVAL;
			out[w++] = c;
			p += 2;
			break;
		}
		default: /* also a '\' at the very end */
			return -EINVAL;
		}
	}
	out[w] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

_public_ size_t pcon_escape_json(char *buf, size_t size, const char *str)
{
	struct sink s = { buf, size, 0 };
	for (const unsigned char *p = (const unsigned char *)str; *p;) {
		uint32_t cp;
		size_t n = utf8_len(p, &cp);
		if (n == 0) {
			put(&s, "\\ufffd", 6); /* not UTF-8: the replacement character */
			p++;
			continue;
		}
		switch (cp) {
		case '"': put(&s, "\\\"", 2); break;
		case '\\': put(&s, "\\\\", 2); break;
		case '\n': put(&s, "\\n", 2); break;
		case '\t': put(&s, "\\t", 2); break;
		case '\r': put(&s, "\\r", 2); break;
		default:
			/* U+2028/9 end a line in JavaScript: escaped for embedders */
			if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029)
				put_hex(&s, "\\u", cp, 4);
			else
				put(&s, (const char *)p, n);
		}
		p += n;
	}
	return sink_end(&s);
}

_public_ size_t pcon_escape_label(char *buf, size_t size, const char *str)
{
	struct sink s = { buf, size, 0 };
	for (const unsigned char *p = (const unsigned char *)str; *p;) {
		uint32_t cp;
		size_t n = utf8_len(p, &cp);
		if (n == 0)
			put(&s, "\xef\xbf\xbd", 3); /* U+FFFD: OpenMetrics text is UTF-8 */
		else if (cp == '\\')
			put(&s, "\\\\", 2);
		else if (cp == '"')
			put(&s, "\\\"", 2);
		else if (cp == '\n')
			put(&s, "\\n", 2);
		else
			put(&s, (const char *)p, n);
		p += n ? n : 1;
	}
	return sink_end(&s);
}

/* malloc'ed result of one of the escapes above. */
static int escape_dup(size_t (*fn)(char *, size_t, const char *), const char *in, char **ret)
{
	size_t n = fn(NULL, 0, in);
	char *out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	fn(out, n + 1, in);
	*ret = out;
	return 0;
}

_public_ int pcon_escape_name_dup(const char *name, char **ret)
{
	return escape_dup(pcon_escape_name, name, ret);
}

_public_ int pcon_container_name(const struct pcon_container *c, char **ret)
{
	_cleanup_free_ char *raw = NULL;
	if (asprintf(&raw, "%s:%s", c->hier->name, c->path) < 0)
		return -ENOMEM;
	return escape_dup(pcon_escape_name, raw, ret);
}
