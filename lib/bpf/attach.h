/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Moves between containers: one record per cgroup_attach_task tracepoint
 * hit, shared by lib/bpf/attach.bpf.c and lib/events-bpf.c. Include after
 * the types (vmlinux.h in BPF, <stdint.h> in user space).
 */
#ifndef PCON_BPF_ATTACH_H
#define PCON_BPF_ATTACH_H

#define ATTACH_PATH_MAX 1024

struct attach_record {
	unsigned long long time_ns;   /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	unsigned long long cgroup_id; /* kernfs id of the destination */
	int hierarchy_id;             /* 0 = v2, as in /proc/<pid>/cgroup */
	int pid, tid;                 /* the task moved (the leader if threadgroup) */
	int threadgroup;              /* the whole process moved */
	char path[ATTACH_PATH_MAX];   /* destination, relative to the hierarchy root */
};

#endif
