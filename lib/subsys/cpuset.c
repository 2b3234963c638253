/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpuset: which CPUs and memory nodes a container's tasks may use. Lists use
 * the kernel's syntax ("0-3,6"); every id must be online, checked against
 * sysfs beneath the hierarchy's sysroot before anything is written.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "subsys.h"

struct id_range {
	unsigned lo, hi;
};

/* One decimal id; advances *s. -EINVAL no digits, -ERANGE over INT_MAX. */
static int parse_id(const char **s, unsigned *ret)
{
	const char *p = *s;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	uint64_t v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > INT_MAX) {
			while (*p >= '0' && *p <= '9')
				p++;
			*s = p;
			return -ERANGE;
		}
	}
	*s = p;
	*ret = (unsigned)v;
	return 0;
}

/*
 * Parse "0-3,6" into ranges (malloc'ed); "" is the empty list. -EINVAL bad
 * syntax (including a '-' sign or hi < lo), -ERANGE an id over INT_MAX.
 * A syntax error anywhere wins over a range error.
 */
static int id_list_parse(const char *s, struct id_range **ret, size_t *ret_n)
{
	_cleanup_free_ struct id_range *v = NULL;
	size_t n = 0;
	int range_err = 0;
	while (*s) {
		struct id_range r;
		int e = parse_id(&s, &r.lo);
		if (e == -EINVAL)
			return e;
		range_err = range_err ?: e;
		r.hi = r.lo;
		if (*s == '-') {
			s++;
			e = parse_id(&s, &r.hi);
			if (e == -EINVAL)
				return e;
			range_err = range_err ?: e;
			if (!e && !range_err && r.hi < r.lo)
				return -EINVAL;
		}
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return -EINVAL;
		struct id_range *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			return -ENOMEM;
		v = nv;
		v[n++] = r;
	}
	if (range_err)
		return range_err;
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static bool id_in(const struct id_range *v, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= v[i].lo && id <= v[i].hi)
			return true;
	return false;
}

/* The online ids from sysfs file rel (beneath the sysroot); fallback if absent. */
static int online_read(const struct pcon_hier *h, const char *rel, const char *fallback,
		       struct id_range **ret, size_t *ret_n)
{
	_cleanup_close_ int root = hier_sysroot_open(h);
	if (root < 0)
		return root;
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(root, rel, &text);
	if (r == -ENOENT && fallback)
		return id_list_parse(fallback, ret, ret_n);
	if (r < 0)
		return r;
	r = id_list_parse(strstrip(text), ret, ret_n);
	return r < 0 ? -EBADMSG : r;
}

/* Validate a list against the online set; plan it verbatim. */
static int encode_list(const struct knob_ctx *x, const char *value, const char *rel,
		       const char *fallback, struct knob_plan *ret)
{
	_cleanup_free_ struct id_range *want = NULL, *online = NULL;
	size_t n_want = 0, n_online = 0;
	int r = id_list_parse(value, &want, &n_want);
	if (r < 0)
		return r;
	if ((r = online_read(x->c->hier, rel, fallback, &online, &n_online)) < 0)
		return r;
	for (size_t i = 0; i < n_want; i++)
		for (unsigned id = want[i].lo;; id++) {
			if (!id_in(online, n_online, id))
				return -ERANGE;
			if (id == want[i].hi)
				break;
		}
	struct knob_plan p = { 0 };
	if ((r = knob_plan_add(&p, x->file, value)) < 0)
		return r;
	*ret = p;
	return 0;
}

static int encode_cpus(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	return encode_list(x, value, "sys/devices/system/cpu/online", NULL, ret);
}

/* A kernel without NUMA has no node directory: node 0 is the only one. */
static int encode_mems(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	return encode_list(x, value, "sys/devices/system/node/online", "0", ret);
}

/* A v1 cpuset without CPUs or memory nodes takes no tasks (the kernel says ENOSPC). */
static int cpuset_check_attach(const struct pcon_container *c)
{
	if (c->hier->version != 1)
		return 0;
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *text = NULL;
		int r = read_text_at(c->fd, hier_file(c->hier, files[i]), &text);
		if (r < 0)
			return r;
		if (!strstrip(text)[0])
			return -ENOSPC;
	}
	return 0;
}

static const struct knob cpuset_knobs[] = {
	{
		.name = "cpuset.cpus",
		.v = { { "cpuset.cpus", NULL, NULL, encode_cpus },
		       { "cpuset.cpus", NULL, NULL, encode_cpus } },
		.unit = "",
		.hint = "a list of online CPUs such as 0-3,6 (see /sys/devices/system/cpu/online)",
	},
	{
		.name = "cpuset.mems",
		.v = { { "cpuset.mems", NULL, NULL, encode_mems },
		       { "cpuset.mems", NULL, NULL, encode_mems } },
		.unit = "",
		.hint = "a list of online memory nodes such as 0 or 0-1 (see /sys/devices/system/node/online)",
	},
	{ .name = NULL },
};

const struct subsys cpuset_subsys = {
	.name = "cpuset",
	.ctrl = { "cpuset", "cpuset" },
	.knobs = cpuset_knobs,
	.check_attach = cpuset_check_attach,
};
