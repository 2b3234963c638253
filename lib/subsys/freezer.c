/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * freezer: stop (freeze) every task of a container and let them go again.
 * Generic values: "frozen", "thawed" (or v1's FROZEN, THAWED), and on reads
 * also "freezing" (asked to freeze, not all tasks stopped yet). v1: the freezer controller's
 * freezer.state (FROZEN/THAWED/FREEZING). v2: core files, no controller:
 * write cgroup.freeze 1/0; the state is the "frozen" key of cgroup.events.
 */
#include <ctype.h>
#include <string.h>

#include "subsys.h"

/* Users type the v1 spellings (FROZEN, THAWED) on either version: both mean
 * one thing, so both are taken; nothing else (FREEZING is not a request). */
static int plan_state(const struct knob_ctx *x, const char *value, const char *frozen,
		      const char *thawed, struct knob_plan *ret)
{
	const char *text = !strcmp(value, "frozen") || !strcmp(value, "FROZEN") ? frozen
			 : !strcmp(value, "thawed") || !strcmp(value, "THAWED") ? thawed : NULL;
	if (!text)
		return -EINVAL;
	struct knob_plan p = { 0 };
	int r = knob_plan_add(&p, x->file, text);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

static int encode_v1(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	return plan_state(x, value, "FROZEN", "THAWED", ret);
}

static int encode_v2(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	return plan_state(x, value, "1", "0", ret);
}

static int decode_v1(const struct knob_ctx *x, char **ret)
{
	_cleanup_free_ char *text = NULL;
	int r = knob_read_stripped(x, x->file, &text);
	if (r < 0)
		return r;
	if (strcmp(text, "FROZEN") && strcmp(text, "THAWED") && strcmp(text, "FREEZING"))
		return -EBADMSG;
	for (char *s = text; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	*ret = TAKE_PTR(text);
	return 0;
}

static int decode_v2(const struct knob_ctx *x, char **ret)
{
	_cleanup_free_ char *want = NULL;
	uint64_t frozen;
	int r = knob_read_stripped(x, x->file, &want);
	if (r < 0 || (r = knob_read_keyed(x->c->fd, x->file2, "frozen", &frozen)) < 0)
		return r;
	const char *state = frozen ? "frozen" : strcmp(want, "1") == 0 ? "freezing" : "thawed";
	char *s = strdup(state);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static const struct knob freezer_knobs[] = {
	{
		.name = "freezer.state",
		.v = { { "freezer.state", NULL, decode_v1, encode_v1 },
		       { "cgroup.freeze", "cgroup.events", decode_v2, encode_v2 } },
		.unit = "",
		.hint = "frozen or thawed, also spelled FROZEN or THAWED (reads may also say freezing)",
	},
	{ .name = NULL },
};

const struct subsys freezer_subsys = {
	.name = "freezer",
	.ctrl = { "freezer", "" },
	.knobs = freezer_knobs,
};
