/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * numtasks: how many tasks a container may hold, on the kernel's pids
 * controller (same files on v1 and v2). A fork beyond the limit fails with
 * EAGAIN.
 */
#include <stdio.h>
#include <string.h>

#include "subsys.h"

/* The kernel refuses limits at or above PID_MAX_LIMIT + 1 (64-bit: 4194304 + 1). */
#define NUMTASKS_LIMIT_MAX 4194304ULL

/* The number is written as pcon read it: the kernel parses pids.max with
 * base 0, so a verbatim "010" would set 8 and "09" would be refused. */
static int encode_max(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	uint64_t v;
	char text[24] = "max";
	if (strcmp(value, "max") != 0) {
		int r = knob_parse_u64(value, &v);
		if (r < 0)
			return r;
		if (v > NUMTASKS_LIMIT_MAX)
			return -ERANGE;
		snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	}
	struct knob_plan p = { 0 };
	int r = knob_plan_add(&p, x->file, text);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

static const struct knob numtasks_knobs[] = {
	{
		.name = "numtasks.max",
		.v = { { "pids.max", NULL, NULL, encode_max },
		       { "pids.max", NULL, NULL, encode_max } },
		.unit = "tasks",
		.hint = "a number of tasks 0..4194304, or max",
	},
	{
		.name = "numtasks.current",
		.v = { { "pids.current", NULL, NULL, NULL },
		       { "pids.current", NULL, NULL, NULL } },
		.unit = "tasks",
		.hint = "read-only: the number of tasks in the container and its descendants",
	},
	{ .name = NULL },
};

const struct subsys numtasks_subsys = {
	.name = "numtasks",
	.ctrl = { "pids", "pids" },
	.knobs = numtasks_knobs,
};
