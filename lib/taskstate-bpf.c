/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bpf backend: runs lib/bpf/taskstate.bpf.c. The program is loaded once per
 * pcon handle, on first use, and kept until pcon_close. Loading probes which
 * walk this kernel can run: the cgroup iterator reading css_sets (6.9+)
 * first, then the same with the css_task kfuncs only (6.7+), else the task
 * iterator (5.8+); PCON_BPF_WALK=css_set|css_task|task in the environment
 * at pcon_open forces one. Each walk attaches a short-lived iterator
 * link, runs it with one read() (the programs write no output: a cgroup
 * iterator cannot resume a second read), and reads the records the walk left
 * in the array map, which is mapped into this process.
 *
 * One container's own counts (a cgroup walk, not recursive), from the
 * handle's second such query on, take one bpf(BPF_PROG_RUN) of the
 * sleepable syscall program query_set (query_css for the css_task walk)
 * instead, where the kernel allows css_task kfuncs in it: the link, the
 * iterator fd and its seq buffer cost more than counting 100 threads. The
 * query finds the cgroup in a cache that the container's first query (an
 * iterator, count_set_keep or count_css_keep) fills. Where the query program
 * does not load, the iterator answers every query; PCON_BPF_WALK=css_task_iter
 * forces that for the css_task walk.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "taskstate-internal.h"
#include "taskstate.skel.h"

/* Past this many cgroups in one walk, the backend answers -ENOSPC. */
#define RECS_LIMIT (1u << 20)

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static void silence_libbpf(void)
{
	libbpf_set_print(quiet);
}

void libbpf_quiet(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, silence_libbpf);
}

static void unload(struct pcon *p)
{
	if (p->ts.recs && p->ts.recs != MAP_FAILED)
		munmap(p->ts.recs, p->ts.recs_size);
	p->ts.recs = NULL;
	taskstate_bpf__destroy(p->ts.skel);
	p->ts.skel = NULL;
}

static enum pcon_walk forced_walk(const char *w);

/* Does the walk run a cgroup iterator (and a query program)? */
static bool cgroup_walk(enum pcon_walk w)
{
	return w == PCON_WALK_CSS_SET || w == PCON_WALK_CSS_TASK;
}

/* The loaded cgroup walk's programs: the iterator, the iterator that also
 * keeps the cgroup for the query program, and the query program. */
enum prog { PROG_WALK, PROG_KEEP, PROG_QUERY };

static struct bpf_program *prog(const struct pcon *p, enum prog which)
{
	const struct taskstate_bpf *s = p->ts.skel;
	bool set = p->ts.walk == PCON_WALK_CSS_SET;
	switch (which) {
	case PROG_WALK: return set ? s->progs.count_set : s->progs.count_css;
	case PROG_KEEP: return set ? s->progs.count_set_keep : s->progs.count_css_keep;
	default: return set ? s->progs.query_set : s->progs.query_css;
	}
}

/* Load the program of one walk with room for max records; map its records.
 * query: with the query program and the keeping iterator (cgroup walks
 * only); all: the task walk by count_tasks_all (else by count_tasks). */
static int load_one(struct pcon *p, enum pcon_walk walk, uint32_t max, bool query, bool all)
{
	libbpf_quiet();
	struct taskstate_bpf *skel = taskstate_bpf__open();
	if (!skel)
		return negerrno();
	int r = 0;
	bool set = walk == PCON_WALK_CSS_SET, css = walk == PCON_WALK_CSS_TASK;
	query = query && cgroup_walk(walk);
	if (bpf_program__set_autoload(skel->progs.count_set, set) < 0 ||
	    bpf_program__set_autoload(skel->progs.count_set_keep, set && query) < 0 ||
	    bpf_program__set_autoload(skel->progs.query_set, set && query) < 0 ||
	    bpf_program__set_autoload(skel->progs.count_css, css) < 0 ||
	    bpf_program__set_autoload(skel->progs.count_css_keep, css && query) < 0 ||
	    bpf_program__set_autoload(skel->progs.query_css, css && query) < 0 ||
	    bpf_map__set_max_entries(skel->maps.cgrps, query ? TS_CACHE_MAX : 1) < 0 ||
	    bpf_program__set_autoload(skel->progs.count_tasks, walk == PCON_WALK_TASK && !all) < 0 ||
	    bpf_program__set_autoload(skel->progs.count_tasks_all, walk == PCON_WALK_TASK && all) < 0 ||
	    bpf_map__set_max_entries(skel->maps.recs, max) < 0 ||
	    bpf_map__set_max_entries(skel->maps.slots, walk == PCON_WALK_TASK ? max : 1) < 0 ||
	    taskstate_bpf__load(skel) != 0)
		r = negerrno();
	if (r < 0) {
		taskstate_bpf__destroy(skel);
		return r;
	}
	size_t size = (size_t)max * sizeof(struct ts_record);
	long page = sysconf(_SC_PAGESIZE);
	size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	void *recs = mmap(NULL, size, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.recs), 0);
	if (recs == MAP_FAILED) {
		r = negerrno();
		taskstate_bpf__destroy(skel);
		return r;
	}
	unload(p);
	skel->bss->max_recs = max;
	p->ts.skel = skel;
	p->ts.recs = recs;
	p->ts.recs_size = size;
	p->ts.recs_max = max;
	p->ts.walk = walk;
	p->ts.query = query;
	p->ts.task_all = walk == PCON_WALK_TASK && all;
	return 0;
}

/* Load (or reload, larger) the program of one walk; the query program stays as it was. */
static int load(struct pcon *p, enum pcon_walk walk, uint32_t max)
{
	bool query = p->ts.skel && p->ts.query;
	/* The task walk: in one visit where bpf_loop is (5.17+), unless forced
	 * to visits or already loaded so; else a visit of the iterator a thread. */
	if (walk == PCON_WALK_TASK && !p->ts.task_visit && (!p->ts.skel || p->ts.task_all) &&
	    load_one(p, walk, max, query, true) == 0)
		return 0;
	return load_one(p, walk, max, query, false);
}

/*
 * Loading the query program and its keeping iterator costs about as much as the rest of
 * the program (tens of ms): a process that asks for one container once, as
 * pcon stats does, never pays it. The second single-container query of a
 * handle reloads the program with them, once, where this kernel takes them
 * (the verifier allows the css_task kfuncs in sleepable programs since 6.7,
 * the cgroup kfuncs in syscall programs later); a refusal keeps the walk
 * that runs.
 */
static void want_query(struct pcon *p)
{
	if (!cgroup_walk(p->ts.walk) || p->ts.query || p->ts.no_query || p->ts.query_tried ||
	    ++p->ts.n_single < 2)
		return;
	p->ts.query_tried = true;
	(void)load_one(p, p->ts.walk, p->ts.recs_max, true, false);
}

/* The walk PCON_BPF_WALK asks for, PCON_WALK_NONE to probe, or INVALID. */
void taskstate_bpf_setup(struct pcon *p)
{
	const char *w = getenv("PCON_BPF_WALK");
	p->ts.want = forced_walk(w);
	p->ts.no_query = w && strcmp(w, "css_task_iter") == 0;
	p->ts.task_visit = w && strcmp(w, "task_iter") == 0;
}

static enum pcon_walk forced_walk(const char *w)
{
	if (!w || !*w)
		return PCON_WALK_NONE;
	if (strcmp(w, "css_task_iter") == 0)
		return PCON_WALK_CSS_TASK;
	if (strcmp(w, "task_iter") == 0)
		return PCON_WALK_TASK;
	for (int i = PCON_WALK_CSS_TASK; i < PCON_WALK_MAX; i++)
		if (strcmp(w, pcon_walk_to_string((enum pcon_walk)i)) == 0)
			return (enum pcon_walk)i;
	return PCON_WALK_INVALID;
}

/* Load the program once per handle; remember a failure so auto does not retry per query. */
int taskstate_bpf_ready(struct pcon *p)
{
	/* A sysroot is a fake tree: the running kernel knows nothing of it. */
	if (p->sysroot[0])
		return -EOPNOTSUPP;
	if (p->ts.bpf_err != 0)
		return p->ts.bpf_err < 0 ? p->ts.bpf_err : 0;
	enum pcon_walk want = p->ts.want;
	int r;
	if (want == PCON_WALK_INVALID)
		r = -EINVAL;
	else if (want != PCON_WALK_NONE)
		r = load(p, want, TS_RECS_DEFAULT);
	else if ((r = load(p, PCON_WALK_CSS_SET, TS_RECS_DEFAULT)) < 0 &&
		 /* No may_goto (before 6.9): the css_task kfuncs alone. */
		 (r = load(p, PCON_WALK_CSS_TASK, TS_RECS_DEFAULT)) < 0)
		/* No css_task kfuncs (before 6.7): every thread, once. */
		r = load(p, PCON_WALK_TASK, TS_RECS_DEFAULT);
	p->ts.bpf_err = r < 0 ? r : 1;
	return r;
}

void taskstate_bpf_release(struct pcon *p)
{
	unload(p);
	p->ts.bpf_err = 0;
	p->ts.query = p->ts.query_tried = false;
	p->ts.n_single = 0;
}

uint64_t taskstate_bpf_queries(const struct pcon *p)
{
	return p->ts.n_query;
}

uint64_t taskstate_bpf_relocked(const struct pcon *p)
{
	return p->ts.skel ? p->ts.skel->bss->relocked : 0;
}

bool taskstate_bpf_task_all(const struct pcon *p)
{
	return p->ts.skel && p->ts.task_all;
}

enum pcon_walk taskstate_bpf_walk_kind(const struct pcon *p)
{
	return p->ts.bpf_err > 0 ? p->ts.walk : PCON_WALK_NONE;
}

/* Run one iterator of prog (attached to cgroup_fd for a cgroup iterator) to
 * its end; one_byte: until the program writes the byte that says its walk
 * is done (count_tasks_all), -EIO if it never does. */
static int run_iter(const struct bpf_program *prog, int cgroup_fd, bool recursive, bool one_byte)
{
	union bpf_iter_link_info info = { 0 };
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	if (cgroup_fd >= 0) {
		info.cgroup.order = recursive ? BPF_CGROUP_ITER_DESCENDANTS_PRE
					      : BPF_CGROUP_ITER_SELF_ONLY;
		info.cgroup.cgroup_fd = (__u32)cgroup_fd;
		opts.iter_info = &info;
		opts.iter_info_len = sizeof(info);
	}
	_cleanup_close_ int link = bpf_link_create(bpf_program__fd(prog), 0, BPF_TRACE_ITER, &opts);
	if (link < 0)
		return link == -1 ? negerrno() : link;
	_cleanup_close_ int fd = bpf_iter_create(link);
	if (fd < 0)
		return fd == -1 ? negerrno() : fd;
	char buf[64];
	ssize_t n;
	while ((n = read(fd, buf, one_byte ? 1 : sizeof(buf))) != 0) {
		if (n < 0 && errno != EINTR)
			return negerrno();
		if (n > 0 && one_byte)
			return 0; /* closing the iterator ends it */
	}
	return one_byte ? -EIO : 0;
}

/* The hierarchy value count_tasks looks threads up in, or -EOPNOTSUPP. */
static int task_walk_hier(const struct pcon_container *c, uint32_t *ret)
{
	if (c->hier->version == 2) {
		*ret = TS_HIER_V2;
		return 0;
	}
	/* A named v1 hierarchy has no controller: no css_set slot leads to it. */
	if (c->hier->id <= 0 || !c->hier->controllers || !c->hier->controllers[0])
		return -EOPNOTSUPP;
	*ret = (uint32_t)c->hier->id;
	return 0;
}

/* Empty count_tasks' id -> slot map for the next walk: one batch delete of
 * the ids the walk recorded. */
static int clear_slots(struct pcon *p)
{
	uint32_t n = p->ts.skel->bss->n_recs;
	if (n == 0)
		return 0;
	_cleanup_free_ uint64_t *ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	const struct ts_record *recs = p->ts.recs;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = recs[i].cgroup_id;
	__u32 count = n;
	if (bpf_map_delete_batch(bpf_map__fd(p->ts.skel->maps.slots), ids, &count, NULL) < 0)
		return negerrno();
	return 0;
}

static struct ts_cache_key cache_key(const struct pcon_container *c)
{
	return (struct ts_cache_key){ .cgroup_id = c->id, .hier_id = (unsigned)c->hier->id };
}

/* One container's own counts by the query program: 1 answered, 0 not in its cache,
 * or -ENOENT (the cgroup was removed). */
static int query_one(struct pcon *p, const struct pcon_container *c, struct pcon_tsnap *s)
{
	struct ts_query q = { .key = cache_key(c) };
	/* A syscall program's context is copied back into ctx_in. */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &q, .ctx_size_in = sizeof(q));
	if (bpf_prog_test_run_opts(bpf_program__fd(prog(p, PROG_QUERY)), &opts) < 0)
		return 0; /* the iterator answers instead, and reports its own error */
	if (q.found != TS_QUERY_FOUND && q.found != TS_QUERY_GONE)
		return 0;
	p->ts.n_query++;
	if (q.found == TS_QUERY_GONE)
		return -ENOENT;
	struct pcon_taskstats own = { 0 };
	for (int b = 0; b < TS_B_MAX; b++)
		taskstats_add_n(&own, (enum ts_bucket)b, q.n[b]);
	own.io_wait = q.io_wait;
	int r = tsnap_add(s, c->id, 0, &own);
	return r < 0 ? r : 1;
}

/* One walk; -ENOSPC if the records did not fit. */
static int walk_once(struct pcon *p, const struct pcon_container *c, bool recursive)
{
	struct taskstate_bpf *skel = p->ts.skel;
	skel->bss->n_recs = 0;
	skel->bss->overflow = 0;
	skel->bss->unmapped = 0;
	skel->bss->too_deep = 0;
	if (cgroup_walk(p->ts.walk) && p->ts.query && !recursive) {
		/* The container's first query: leave its cgroup for the query program. */
		skel->bss->keep_key = cache_key(c);
		int r = run_iter(prog(p, PROG_KEEP), c->fd, false, false);
		if (r < 0)
			return r;
	} else if (cgroup_walk(p->ts.walk)) {
		int r = run_iter(prog(p, PROG_WALK), c->fd, recursive, false);
		if (r < 0)
			return r;
	} else {
		uint32_t hier;
		int r = task_walk_hier(c, &hier);
		if (r < 0)
			return r;
		skel->bss->hier = hier;
		skel->bss->ss_slot = 0;
		skel->bss->last_cgrp = 0;
		skel->bss->last_cset = 0;
		skel->bss->lost = 0;
		r = p->ts.task_all ? run_iter(skel->progs.count_tasks_all, -1, false, true)
				   : run_iter(skel->progs.count_tasks, -1, false, false);
		int rr = clear_slots(p);
		if (r < 0 || rr < 0)
			return r < 0 ? r : rr;
	}
	return skel->bss->overflow ? -ENOSPC : skel->bss->too_deep ? -ELOOP : 0;
}

static void record_counts(const struct ts_record *rec, struct pcon_taskstats *ret)
{
	*ret = (struct pcon_taskstats){ 0 };
	for (int b = 0; b < TS_B_MAX; b++)
		taskstats_add_n(ret, (enum ts_bucket)b, rec->n[b]);
	ret->io_wait = rec->io_wait;
}

int taskstate_bpf_walk(struct pcon *p, const struct pcon_container *c, bool recursive,
		       struct pcon_tsnap *s)
{
	int r = taskstate_bpf_ready(p);
	if (r < 0)
		return r;
	if (!recursive)
		want_query(p);
	if (p->ts.query && !recursive && (r = query_one(p, c, s)) != 0)
		return r < 0 ? r : 0;
	/* A walk that outgrows the map is run again with a larger one. */
	while ((r = walk_once(p, c, recursive)) == -ENOSPC && p->ts.recs_max < RECS_LIMIT) {
		r = load(p, p->ts.walk, p->ts.recs_max * 8 < RECS_LIMIT ? p->ts.recs_max * 8 : RECS_LIMIT);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	const struct ts_record *recs = p->ts.recs;
	uint32_t n = p->ts.skel->bss->n_recs;
	if (cgroup_walk(p->ts.walk) && n == 0)
		return -ENOENT; /* the iterator found no cgroup: it is gone */
	for (uint32_t i = 0; i < n; i++) {
		struct pcon_taskstats own;
		record_counts(&recs[i], &own);
		r = tsnap_add(s, recs[i].cgroup_id, recs[i].parent_id, &own);
		if (r < 0)
			return r;
	}
	return 0;
}
