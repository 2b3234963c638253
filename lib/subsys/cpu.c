/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpu: a container's share of CPU time under contention (weight) and its
 * bandwidth limit (max). Generic values use v2's forms; v1 is converted:
 *
 *   cpu.weight 1..10000 (default 100) <-> v1 cpu.shares (default 1024):
 *     shares = round(weight * 1024 / 100), weight = round(shares * 100 / 1024)
 *     clamped to 1..10000. Rounding to nearest (not truncating) both ways makes
 *     every weight survive the round trip: one weight step is 10.24 shares, so
 *     the error of half a share comes back as under 0.05 of a weight.
 *   cpu.max "QUOTA PERIOD" | "max PERIOD" (microseconds; PERIOD optional)
 *     <-> v1 cpu.cfs_quota_us (-1 = max) + cpu.cfs_period_us.
 */
#include <stdio.h>
#include <string.h>

#include "subsys.h"

#define WEIGHT_MIN 1
#define WEIGHT_MAX 10000
/* The kernel's bandwidth bounds: period 1 ms..1 s, quota >= 1 ms and below 2^44 us. */
#define PERIOD_MIN_US 1000ULL
#define PERIOD_MAX_US 1000000ULL
#define QUOTA_MIN_US 1000ULL
#define QUOTA_MAX_US ((1ULL << 44) - 1)

static int parse_weight(const char *value, uint64_t *ret)
{
	uint64_t w;
	int r = knob_parse_u64(value, &w);
	if (r < 0)
		return r;
	if (w < WEIGHT_MIN || w > WEIGHT_MAX)
		return -ERANGE;
	*ret = w;
	return 0;
}

static uint64_t cpu_weight_to_shares(uint64_t weight)
{
	return (weight * 1024 + 50) / 100;
}

static uint64_t cpu_shares_to_weight(uint64_t shares)
{
	if (shares > UINT64_MAX / 200)
		return WEIGHT_MAX;
	uint64_t w = (shares * 100 + 512) / 1024;
	return w < WEIGHT_MIN ? WEIGHT_MIN : w > WEIGHT_MAX ? WEIGHT_MAX : w;
}

static int plan_one(const char *file, uint64_t v, struct knob_plan *ret)
{
	char text[32];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	struct knob_plan p = { 0 };
	int r = knob_plan_add(&p, file, text);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

static int encode_weight(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	uint64_t w;
	int r = parse_weight(value, &w);
	if (r < 0)
		return r;
	return plan_one(x->file, w, ret);
}

static int encode_weight_v1(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	uint64_t w;
	int r = parse_weight(value, &w);
	if (r < 0)
		return r;
	return plan_one(x->file, cpu_weight_to_shares(w), ret);
}

static int decode_weight_v1(const struct knob_ctx *x, char **ret)
{
	_cleanup_free_ char *text = NULL;
	uint64_t shares;
	int r = knob_read_stripped(x, x->file, &text);
	if (r < 0)
		return r;
	if (parse_u64(text, &shares) < 0)
		return -EBADMSG;
	return knob_format_u64(cpu_shares_to_weight(shares), ret);
}

/* "QUOTA [PERIOD]" or "max [PERIOD]"; quota UINT64_MAX = max, period 0 = unchanged. */
static int parse_max(const char *value, uint64_t *ret_quota, uint64_t *ret_period)
{
	_cleanup_free_ char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	char *save = NULL;
	char *q = strtok_r(v, " \t", &save);
	char *p = strtok_r(NULL, " \t", &save);
	if (!q || strtok_r(NULL, " \t", &save))
		return -EINVAL;
	/* Both numbers are parsed first: bad syntax anywhere wins over a range error. */
	uint64_t quota = UINT64_MAX, period = 0;
	int rq = strcmp(q, "max") == 0 ? 0 : knob_parse_u64(q, &quota);
	int rp = p ? knob_parse_u64(p, &period) : 0;
	if (rq == -EINVAL || rp == -EINVAL)
		return -EINVAL;
	if (rq < 0 || rp < 0)
		return -ERANGE;
	if (quota != UINT64_MAX && (quota < QUOTA_MIN_US || quota > QUOTA_MAX_US))
		return -ERANGE;
	if (p && (period < PERIOD_MIN_US || period > PERIOD_MAX_US))
		return -ERANGE;
	*ret_quota = quota;
	*ret_period = period;
	return 0;
}

static int encode_max(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	uint64_t quota, period;
	int r = parse_max(value, &quota, &period);
	if (r < 0)
		return r;
	char text[64], q[24] = "max";
	if (quota != UINT64_MAX)
		snprintf(q, sizeof(q), "%llu", (unsigned long long)quota);
	if (period)
		snprintf(text, sizeof(text), "%s %llu", q, (unsigned long long)period);
	else
		snprintf(text, sizeof(text), "%s", q);
	struct knob_plan p = { 0 };
	if ((r = knob_plan_add(&p, x->file, text)) < 0)
		return r;
	*ret = p;
	return 0;
}

/* v1: the period first (file2), then the quota (file), so the quota is
 * checked against the new period. */
static int encode_max_v1(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	uint64_t quota, period;
	int r = parse_max(value, &quota, &period);
	if (r < 0)
		return r;
	char text[24];
	struct knob_plan p = { 0 };
	if (period) {
		snprintf(text, sizeof(text), "%llu", (unsigned long long)period);
		if ((r = knob_plan_add(&p, x->file2, text)) < 0)
			goto fail;
	}
	if (quota == UINT64_MAX)
		snprintf(text, sizeof(text), "-1");
	else
		snprintf(text, sizeof(text), "%llu", (unsigned long long)quota);
	if ((r = knob_plan_add(&p, x->file, text)) < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	knob_plan_done(&p);
	return r;
}

static int decode_max_v1(const struct knob_ctx *x, char **ret)
{
	_cleanup_free_ char *q = NULL, *p = NULL;
	int r = knob_read_stripped(x, x->file, &q);
	if (r < 0 || (r = knob_read_stripped(x, x->file2, &p)) < 0)
		return r;
	uint64_t period, quota = 0;
	bool unlimited = strcmp(q, "-1") == 0;
	if (parse_u64(p, &period) < 0 || (!unlimited && parse_u64(q, &quota) < 0))
		return -EBADMSG;
	int n = unlimited ? asprintf(ret, "max %llu", (unsigned long long)period)
			  : asprintf(ret, "%llu %llu", (unsigned long long)quota,
				     (unsigned long long)period);
	return n < 0 ? -ENOMEM : 0;
}

static const struct knob cpu_knobs[] = {
	{
		.name = "cpu.weight",
		.v = { { "cpu.shares", NULL, decode_weight_v1, encode_weight_v1 },
		       { "cpu.weight", NULL, NULL, encode_weight } },
		.unit = "",
		.hint = "a weight 1..10000 (default 100; on v1 cpu.shares = weight * 1024 / 100)",
	},
	{
		.name = "cpu.max",
		.v = { { "cpu.cfs_quota_us", "cpu.cfs_period_us", decode_max_v1, encode_max_v1 },
		       { "cpu.max", NULL, NULL, encode_max } },
		.unit = "us",
		.hint = "'QUOTA PERIOD' or 'max PERIOD' in microseconds (quota >= 1000, "
			"period 1000..1000000; PERIOD may be left out)",
	},
	{ .name = NULL },
};

const struct subsys cpu_subsys = {
	.name = "cpu",
	.ctrl = { "cpu", "cpu" },
	.knobs = cpu_knobs,
};
