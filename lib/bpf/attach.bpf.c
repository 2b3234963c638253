/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * Task moves between containers, which the proc connector does not report:
 * the cgroup_attach_task tracepoint (as tp_btf) fires after a successful
 * migration with the destination cgroup, its path and the task (the leader
 * when a whole process moved). One attach_record per move goes to a ring
 * buffer; a full ring counts into `dropped`, which user space reports.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "attach.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} moves SEC(".maps");

unsigned long long dropped = 0;

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(attach_task, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	struct attach_record *r = bpf_ringbuf_reserve(&moves, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	r->time_ns = bpf_ktime_get_ns();
	r->cgroup_id = BPF_CORE_READ(dst, kn, id);
	r->hierarchy_id = BPF_CORE_READ(dst, root, hierarchy_id);
	r->pid = BPF_CORE_READ(task, tgid);
	r->tid = BPF_CORE_READ(task, pid);
	r->threadgroup = threadgroup;
	if (bpf_probe_read_kernel_str(r->path, sizeof(r->path), path) < 0)
		r->path[0] = '\0';
	bpf_ringbuf_submit(r, 0);
	return 0;
}
