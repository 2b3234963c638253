/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bpf backend: runs lib/bpf/taskstate.bpf.c, a cgroup iterator that counts
 * each cgroup's threads by __state and in_iowait inside the kernel. The
 * program is loaded once per pcon handle, on first use, and kept until
 * pcon_close; each query attaches a short-lived iterator
 * link to the container's directory fd and reads one record per cgroup.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>

#include "taskstate-internal.h"
#include "taskstate.skel.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0; /* the library never prints; errors are returned */
}

/* Load the program once per handle; remember a failure so auto does not retry per query. */
int taskstate_bpf_ready(struct pcon *p)
{
	/* A sysroot is a fake tree: the running kernel knows nothing of it. */
	if (p->sysroot[0])
		return -EOPNOTSUPP;
	if (p->ts.bpf_err != 0)
		return p->ts.bpf_err < 0 ? p->ts.bpf_err : 0;
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	struct taskstate_bpf *skel = taskstate_bpf__open();
	int r = skel ? 0 : negerrno();
	if (r == 0 && taskstate_bpf__load(skel) != 0)
		r = negerrno();
	libbpf_set_print(old);
	if (r < 0) {
		taskstate_bpf__destroy(skel);
		/* A verifier or BTF refusal (old kernel, no kfuncs) reads best as "not supported". */
		p->ts.bpf_err = (r == -EINVAL || r == -ENOENT || r == -ESRCH) ? -EOPNOTSUPP : r;
		return p->ts.bpf_err;
	}
	p->ts.skel = skel;
	p->ts.bpf_err = 1;
	return 0;
}

void taskstate_bpf_release(struct pcon *p)
{
	taskstate_bpf__destroy(p->ts.skel);
	p->ts.skel = NULL;
	p->ts.bpf_err = 0;
}

static void add_record(struct pcon_taskstats *acc, const struct ts_record *rec)
{
	acc->running += rec->n[TS_B_RUNNING];
	acc->sleeping += rec->n[TS_B_SLEEPING];
	acc->uninterruptible += rec->n[TS_B_UNINTERRUPTIBLE];
	acc->stopped += rec->n[TS_B_STOPPED];
	acc->idle += rec->n[TS_B_IDLE];
	acc->other += rec->n[TS_B_OTHER];
	for (int b = 0; b < TS_B_MAX; b++)
		acc->total += rec->n[b];
	acc->io_wait += rec->io_wait;
	acc->containers++;
}

/* Read every record the iterator fd yields; reads may end mid-record. */
static int read_records(int iter_fd, struct pcon_taskstats *acc)
{
	char buf[64 * sizeof(struct ts_record)];
	size_t have = 0;
	for (;;) {
		ssize_t n = read(iter_fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negerrno();
		if (n == 0)
			break;
		have += (size_t)n;
		size_t used = 0;
		for (; have - used >= sizeof(struct ts_record); used += sizeof(struct ts_record)) {
			struct ts_record rec;
			memcpy(&rec, buf + used, sizeof(rec));
			add_record(acc, &rec);
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	return have == 0 ? 0 : -EBADMSG;
}

int taskstate_bpf_read(struct pcon *p, const struct pcon_container *c, bool recursive,
		       struct pcon_taskstats *acc)
{
	int r = taskstate_bpf_ready(p);
	if (r < 0)
		return r;
	union bpf_iter_link_info info = { 0 };
	info.cgroup.order = recursive ? BPF_CGROUP_ITER_DESCENDANTS_PRE : BPF_CGROUP_ITER_SELF_ONLY;
	info.cgroup.cgroup_fd = (__u32)c->fd;
	/* The raw link call: libbpf's attach helper would print on failure. */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &info, .iter_info_len = sizeof(info));
	int prog_fd = bpf_program__fd(p->ts.skel->progs.taskstate_count);
	_cleanup_close_ int link = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &opts);
	if (link < 0)
		return link == -1 ? negerrno() : link;
	_cleanup_close_ int fd = bpf_iter_create(link);
	if (fd < 0)
		return fd == -1 ? negerrno() : fd;
	struct pcon_taskstats s = { 0 };
	r = read_records(fd, &s);
	if (r < 0)
		return r;
	if (s.containers == 0)
		return -ENOENT; /* the iterator found no cgroup: it is gone */
	*acc = s;
	return 0;
}
