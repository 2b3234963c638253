/* -d/--delay, -c/--count and --depth of stats and top (see repeat.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "repeat.h"

#define YEAR (86400.0 * 365)

int repeat_delay(const char *cmd, const char *opt, const char *arg, double min, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v))
		return cli_usage(cmd, "%s: '%s' is not a number", opt, arg);
	if (v < min || v > YEAR)
		return cli_usage(cmd, "%s: '%s' is out of range (%g to %g seconds)", opt, arg, min, YEAR);
	*ret = v;
	return 0;
}

static int whole(const char *arg, long long *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int repeat_count(const char *cmd, const char *opt, const char *arg, long *ret)
{
	long long v;
	if (whole(arg, &v) < 0)
		return cli_usage(cmd, "%s: '%s' is not a whole number", opt, arg);
	if (v < 1 || v > __LONG_MAX__)
		return cli_usage(cmd, "%s: '%s' is out of range (1 or more)", opt, arg);
	*ret = (long)v;
	return 0;
}

int repeat_depth(const char *cmd, const char *opt, const char *arg, int max, int *ret)
{
	long long v;
	if (whole(arg, &v) < 0)
		return cli_usage(cmd, "%s: '%s' is not a whole number", opt, arg);
	if (v < 0 || v > max)
		return cli_usage(cmd, "%s: '%s' is out of range (0 to %d)", opt, arg, max);
	*ret = (int)v;
	return 0;
}

void repeat_wait(struct timespec *next, double delay)
{
	long long ns = (long long)(delay * 1e9);
	next->tv_sec += ns / 1000000000LL;
	next->tv_nsec += ns % 1000000000LL;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}
