/* The options of the commands that sample again and again (stats, top):
 * -d/--delay SECONDS and -c/--count N, parsed and named the same way. */
#ifndef PCON_REPEAT_H
#define PCON_REPEAT_H

#include <stdbool.h>
#include <time.h>

/* --delay SECONDS: a number from min to one year. Prints the usage error
 * (naming opt and the value) itself; 0 or the exit status 2. */
int repeat_delay(const char *cmd, const char *opt, const char *arg, double min, double *ret);
/* --count N: a whole number >= 1. Same. */
int repeat_count(const char *cmd, const char *opt, const char *arg, long *ret);
/* --depth N: a whole number >= 0, at most max. Same. */
int repeat_depth(const char *cmd, const char *opt, const char *arg, int max, int *ret);
/* Sleep until the next tick of a fixed cadence from *next (no drift). */
void repeat_wait(struct timespec *next, double delay);

#endif
