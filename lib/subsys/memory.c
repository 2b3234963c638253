/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memory: a container's memory limit and usage, in bytes. "max" is no limit:
 * v2 says "max"; v1 has no word for it, writes -1 and reads back
 * PAGE_COUNTER_MAX pages (LONG_MAX rounded down to a page), shown as "max".
 */
#include <ctype.h>
#include <string.h>

#include "subsys.h"

/* Bytes in a value with an optional binary suffix K, M, G or T ("512M"). */
static int parse_size(const char *value, uint64_t *ret)
{
	static const char suffixes[] = "kmgt";
	size_t len = strlen(value);
	unsigned shift = 0;
	_cleanup_free_ char *num = strdup(value);
	if (!num)
		return -ENOMEM;
	if (len > 0) {
		const char *s = strchr(suffixes, tolower((unsigned char)value[len - 1]));
		if (s && *s) {
			shift = 10 * (unsigned)(s - suffixes + 1);
			num[len - 1] = '\0';
		}
	}
	uint64_t v;
	int r = knob_parse_u64(num, &v);
	if (r < 0)
		return r;
	if (v > (uint64_t)INT64_MAX >> shift)
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

static int encode_max(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	const bool v1 = x->c->hier->version == 1;
	char text[32];
	if (strcmp(value, "max") == 0)
		snprintf(text, sizeof(text), "%s", v1 ? "-1" : "max");
	else {
		uint64_t v;
		int r = parse_size(value, &v);
		if (r < 0)
			return r;
		snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	}
	struct knob_plan p = { 0 };
	int r = knob_plan_add(&p, x->file, text);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

/* v1: the largest limit the kernel stores means none. */
static int decode_max_v1(const struct knob_ctx *x, char **ret)
{
	_cleanup_free_ char *text = NULL;
	uint64_t v;
	int r = knob_read_stripped(x, x->file, &text);
	if (r < 0)
		return r;
	if (parse_u64(text, &v) < 0)
		return -EBADMSG;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t unlimited = (uint64_t)INT64_MAX / (uint64_t)page * (uint64_t)page;
	if (v >= unlimited) {
		char *s = strdup("max");
		if (!s)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	*ret = TAKE_PTR(text);
	return 0;
}

static const struct knob memory_knobs[] = {
	{
		.name = "memory.max",
		.v = { { "memory.limit_in_bytes", NULL, decode_max_v1, encode_max },
		       { "memory.max", NULL, NULL, encode_max } },
		.unit = "bytes",
		.hint = "a number of bytes with an optional suffix K, M, G or T (1024-based), or max",
	},
	{
		.name = "memory.current",
		.v = { { "memory.usage_in_bytes", NULL, NULL, NULL },
		       { "memory.current", NULL, NULL, NULL } },
		.unit = "bytes",
		.hint = "read-only: memory used by the container, in bytes",
	},
	{ .name = NULL },
};

const struct subsys memory_subsys = {
	.name = "memory",
	.ctrl = { "memory", "memory" },
	.knobs = memory_knobs,
};
