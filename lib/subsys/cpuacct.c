/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpuacct: CPU time used by a container's tasks, in nanoseconds, read-only.
 * v1 has the cpuacct controller's counters (ns); v2 has the core file
 * cpu.stat in every cgroup, no controller needed (microseconds).
 */
#include <string.h>

#include "subsys.h"

/* v1: one decimal number of nanoseconds. */
static int decode_ns(const struct knob_ctx *x, char **ret)
{
	_cleanup_free_ char *text = NULL;
	uint64_t v;
	int r = knob_read_stripped(x, x->file, &text);
	if (r < 0)
		return r;
	if (parse_u64(text, &v) < 0)
		return -EBADMSG;
	return knob_format_u64(v, ret);
}

/* v2: cpu.stat line "<file2> N" in microseconds, shown in nanoseconds. */
static int decode_stat_usec(const struct knob_ctx *x, char **ret)
{
	uint64_t us;
	int r = knob_read_keyed(x->c->fd, x->file, x->file2, &us);
	if (r < 0)
		return r;
	if (us > UINT64_MAX / 1000)
		return -EOVERFLOW;
	return knob_format_u64(us * 1000, ret);
}

static const struct knob cpuacct_knobs[] = {
	{
		.name = "cpuacct.usage",
		.v = { { "cpuacct.usage", NULL, decode_ns, NULL },
		       { "cpu.stat", "usage_usec", decode_stat_usec, NULL } },
		.unit = "ns",
		.hint = "read-only: CPU time used, in nanoseconds",
	},
	{
		.name = "cpuacct.user",
		.v = { { "cpuacct.usage_user", NULL, decode_ns, NULL },
		       { "cpu.stat", "user_usec", decode_stat_usec, NULL } },
		.unit = "ns",
		.hint = "read-only: CPU time used in user mode, in nanoseconds",
	},
	{
		.name = "cpuacct.system",
		.v = { { "cpuacct.usage_sys", NULL, decode_ns, NULL },
		       { "cpu.stat", "system_usec", decode_stat_usec, NULL } },
		.unit = "ns",
		.hint = "read-only: CPU time used in kernel mode, in nanoseconds",
	},
	{ .name = NULL },
};

const struct subsys cpuacct_subsys = {
	.name = "cpuacct",
	.ctrl = { "cpuacct", "" },
	.knobs = cpuacct_knobs,
};
