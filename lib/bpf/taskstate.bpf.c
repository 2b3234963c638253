/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * Task-state counts per cgroup, in the kernel: a cgroup iterator (attached
 * to a container's directory fd, order SELF_ONLY or DESCENDANTS_PRE) walks
 * each cgroup's threads with the css_task kfuncs and writes one ts_record
 * per cgroup. The cgroup's own css ("self") links to every css_set of that
 * cgroup, so the walk works on v1 hierarchies with or without a controller
 * (name=systemd) and on v2.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "taskstate.h"

char LICENSE[] SEC("license") = "GPL";

/* Linux 6.7+ kfuncs; libbpf 1.1's headers do not declare them. */
extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
				 unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __weak __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __weak __ksym;

SEC("iter/cgroup")
int taskstate_count(struct bpf_iter__cgroup *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct cgroup *cgrp = ctx->cgroup;
	struct bpf_iter_css_task it;
	struct task_struct *task;
	struct ts_record rec = {};

	if (!cgrp)
		return 0; /* end of the walk */
	rec.cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	bpf_iter_css_task_new(&it, &cgrp->self, 0); /* 0: every thread */
	while ((task = bpf_iter_css_task_next(&it))) {
		unsigned int state = BPF_CORE_READ(task, __state);
		unsigned int exit_state = (unsigned int)BPF_CORE_READ(task, exit_state);
		int iowait = (int)BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait);
		enum ts_bucket b = ts_classify(state, exit_state);
		if (b < TS_B_MAX)
			rec.n[b]++;
		if (ts_io_wait(state, exit_state, iowait))
			rec.io_wait++;
	}
	bpf_iter_css_task_destroy(&it);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}
