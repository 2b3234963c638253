/* pcon top's state, shared by its sampling (top-sample.c) and its screen
 * and batch output (cmd-top.c). */
#ifndef PCON_TOP_H
#define PCON_TOP_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "table.h"
#include "pcon/taskstate.h"

/* Columns: the same for the screen, -b, -o and -J. */
enum {
	TC_CONTAINER, TC_TASKS, TC_R, TC_S, TC_D, TC_T, TC_IO, TC_LOAD1, TC_LOAD5, TC_LOAD15,
	TC_CPU, TC_MEMORY, TC_INPUT, TC_OUTPUT, TC_CPU_SOME, TC_MEM_SOME, TC_MEM_FULL, TC_IO_SOME,
	TC_N
};

struct top_row {
	char *path;        /* raw */
	int depth;
	bool known[TC_N];  /* v[i] holds a value */
	double v[TC_N];
	bool have_usage, have_io;
	uint64_t usage_ns; /* CPU time so far */
	uint64_t rbytes, wbytes;
};

struct top_sample {
	struct top_row *v;
	size_t n, cap;
	uint64_t when_ns;  /* CLOCK_MONOTONIC */
};

struct top_load {
	char *path;
	double v[3];
};

struct top {
	struct cli *c;
	const struct pcon_hier *tree;   /* rows come from this hierarchy */
	const struct pcon_hier *cpuacct, *memory, *blkio;
	char *root;
	int depth;
	enum pcon_backend backend;
	int sort;          /* a TC_ column */
	bool reverse;
	double delay;
	long count;        /* -c; 0 = unlimited */
	bool batch;
	bool pressure;     /* add the pressure columns */
	bool processes;    /* TASKS counts processes, not threads */
	bool recursive;    /* counts include the descendants */
	struct tout out;
	struct top_sample prev, cur;
	struct top_load *loads; /* from pcond at the last sample, sorted by path */
	size_t n_loads;
};

/* Take a new sample into t->cur (the last one becomes t->prev), with the
 * rates against it. 0 or -errno. */
int top_take_sample(struct top *t);
void top_sample_free(struct top_sample *s);
void top_loads_free(struct top *t);

#endif
