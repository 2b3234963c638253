/* Thread counts answered by a running pcond, which keeps its eBPF program
 * loaded: a command then neither loads one nor lists any directory. */
#ifndef PCON_PCOND_TASKSTATS_H
#define PCON_PCOND_TASKSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "pcon/taskstate.h"

/* One container of the answer. */
struct pcond_row {
	char *path;                   /* below its hierarchy's root, raw bytes */
	uint64_t id, parent;          /* cgroup ids; parent 0 for a root */
	bool sampled;                 /* false: made after the walk, counts are 0 */
	struct pcon_taskstats own, sum; /* its own threads; its whole subtree */
};

struct pcond_answer {
	struct pcond_row *rows;       /* the container first, then (recursive) its
					 subtree in pre-order, siblings by name */
	size_t n;
	struct pcon_taskstate_info info;
	uint64_t age_us;              /* how long ago the walk was */
};

/*
 * Ask pcond (the --socket of c) for the counts of spec, one container of
 * one hierarchy, and with recursive of every container below it. Only an
 * answer from backend (auto: bpf) of a walk at most PROTO_TASKSTATS_AGE_MS
 * old is taken. A negative errno when there is none: no pcond (-ENOENT,
 * -ECONNREFUSED), a hierarchy it does not watch (-ENODEV), a subtree past
 * its cap (-ERANGE), an older or other answer (-ESTALE), ...
 */
int pcond_taskstats(const struct cli *c, const char *spec, bool recursive,
		    enum pcon_backend backend, struct pcond_answer *ret);
void pcond_answer_free(struct pcond_answer *a);

#endif
