/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * Task-state counts per cgroup, in the kernel, for a whole subtree in one
 * walk. Three walks, of which user space loads the first the kernel can run:
 *
 * css_set     (Linux 6.9+) a cgroup iterator (attached to a container's
 *             directory fd, SELF_ONLY or DESCENDANTS_PRE) reads each
 *             cgroup's css_sets and their task lists itself, without the
 *             css_set lock, and checks what it read; a cgroup whose lists
 *             changed under the walk is walked again by the css_task kfuncs.
 * css_task    (Linux 6.7+) the same iterator walks each cgroup's threads
 *             with the css_task kfuncs only.
 * task        (Linux 5.8+) a task iterator visits every thread once and
 *             adds it to its cgroup in the walked hierarchy; a cgroup seen
 *             for the first time brings its ancestors along, so user space
 *             can sum any subtree.
 *
 * Either cgroup walk reads the cgroup's own css ("self"), which links every
 * css_set of the cgroup: it works on v1 hierarchies with or without a
 * controller and on v2. Every walk writes one ts_record per cgroup into the
 * array map recs, slot n_recs onwards; task fields are read straight from
 * the task, never through a helper.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "taskstate.h"

char LICENSE[] SEC("license") = "GPL";

/* Linux 6.7+ kfuncs; libbpf 1.1's headers do not declare them. */
extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
				 unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __weak __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __weak __ksym;
/* Linux 6.2+ (query_css's cache of cgroups). */
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __weak __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __weak __ksym;
extern void bpf_rcu_read_lock(void) __weak __ksym;
extern void bpf_rcu_read_unlock(void) __weak __ksym;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __weak __ksym;

/* The object of type whose member lies at p, as an untrusted pointer: each
 * load through it is one instruction that cannot fault the kernel (a bad
 * address reads as 0). */
#define OWNER(p, type, member)                                                             \
	((type *)bpf_rdonly_cast((void *)(p) - __builtin_offsetof(type, member),           \
				 bpf_core_type_id_kernel(type)))

/* True until the program's loop budget (8M turns) is spent: may_goto, the
 * verifier's bounded-loop instruction (Linux 6.9+), spelled in bytes for
 * clang 14. */
#define can_loop                                                                           \
	({                                                                                 \
		__label__ l_break, l_continue;                                             \
		bool ret = true;                                                           \
		asm volatile goto("1:.byte 0xe5; .byte 0;"                                 \
				  ".long ((%l[l_break] - 1b - 8) / 8) & 0xffff; .short 0"  \
				  :::: l_break);                                           \
		goto l_continue;                                                           \
	l_break:                                                                           \
		ret = false;                                                               \
	l_continue:;                                                                       \
		ret;                                                                       \
	})

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TS_RECS_DEFAULT);
	__type(key, __u32);
	__type(value, struct ts_record);
} recs SEC(".maps");

/* count_tasks: cgroup id -> its slot in recs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TS_RECS_DEFAULT);
	__type(key, __u64);
	__type(value, __u32);
} slots SEC(".maps");

/* Set by user space before each walk, read back after it. */
__u32 n_recs;     /* records written */
__u32 max_recs;   /* slots in recs */
__u32 overflow;   /* a cgroup did not fit: the answer is incomplete */
__u32 hier;       /* count_tasks: TS_HIER_V2 or a v1 hierarchy id */
__u32 unmapped;   /* count_tasks: threads with no cgroup in hier */
__u32 too_deep;   /* count_tasks: a cgroup nested deeper than MAX_DEPTH */
__u64 relocked;   /* css_set walk: cgroups walked again under the lock (never reset) */

#define MAX_DEPTH 32

static __u64 parent_id(struct cgroup *cgrp)
{
	struct cgroup_subsys_state *p = cgrp->self.parent;
	return p ? p->cgroup->kn->id : 0;
}

/* The next free record, set up for cgroup id (parent id parent); NULL (and
 * overflow) when full. */
static struct ts_record *new_record(__u64 id, __u64 parent, __u32 *ret_slot)
{
	__u32 i = n_recs;
	struct ts_record *rec = i < max_recs ? bpf_map_lookup_elem(&recs, &i) : NULL;
	if (!rec) {
		overflow = 1;
		return NULL;
	}
	n_recs = i + 1;
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->cgroup_id = id;
	rec->parent_id = parent;
	*ret_slot = i;
	return rec;
}

/* Offsets in this kernel's structs (BTF), and probe reads at an address:
 * the task walk's count_tasks_all sees threads by address. */
#define OFF(type, field) ((__u64)bpf_core_field_offset(type, field))

static __always_inline __u64 rd64(__u64 addr)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), (const void *)addr);
	return v;
}

static __always_inline __u32 rd32(__u64 addr)
{
	__u32 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), (const void *)addr);
	return v;
}

/* Counts of one cgroup's threads, on the stack while a walk adds them up. */
struct counts {
	__u64 n[TS_B_MAX];
	__u64 io_wait;
};
/* count_tasks counts into a record's own n[] and io_wait through it. */
_Static_assert(__builtin_offsetof(struct ts_record, io_wait) - __builtin_offsetof(struct ts_record, n) ==
		       __builtin_offsetof(struct counts, io_wait), "struct counts is a ts_record's tail");

/* A field of task: a plain load through a pointer the verifier trusts, or
 * (probed) a probe read at the task's address. probed is a constant at
 * every call, so the other way is never compiled in. */
#define TASK_FIELD(task, probed, field)                                                    \
	((probed) ? rd32((__u64)(task) + OFF(struct task_struct, field))                   \
		  : (unsigned int)(task)->field)

/*
 * __state sits in the task's first cache line; exit_state and in_iowait
 * share another, which the kernel's own cgroupstats never touches for a
 * sleeping task. Read it only when the bucket depends on it.
 */
static __always_inline void count(struct counts *c, struct task_struct *task, bool probed)
{
	unsigned int state = TASK_FIELD(task, probed, __state);
	unsigned int exit_state = 0;
	if (ts_needs_exit_state(state))
		exit_state = TASK_FIELD(task, probed, exit_state);
	enum ts_bucket b = ts_classify(state, exit_state);
	if (b < TS_B_MAX)
		c->n[b]++;
	if (b == TS_B_UNINTERRUPTIBLE &&
	    ts_io_wait(state, exit_state,
		       probed ? (int)BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait)
			      : (int)BPF_CORE_READ_BITFIELD(task, in_iowait)))
		c->io_wait++;
}

/* The threads of cset (its tasks list, then mg_tasks, where a migration
 * parks them) into c: how many, or -1 if a list changed under the walk (a
 * thread on it left, or it led elsewhere; a thread unlinked while the walk
 * stood on it points at itself). One loop for both lists: each
 * copy of the loop costs the verifier as much as the rest of the program. */
static __always_inline long walk_cset(struct counts *c, struct css_set *cset)
{
	struct list_head *head = &cset->tasks;
	struct list_head *pos = head->next;
	long n = 0;
	while (can_loop) {
		if (pos == head) {
			if (head == &cset->mg_tasks)
				return n;
			head = &cset->mg_tasks;
			pos = head->next;
			continue;
		}
		struct task_struct *t = OWNER(pos, struct task_struct, cg_list);
		if (t->cgroups != cset)
			return -1;
		count(c, t, false);
		n++;
		struct list_head *next = t->cg_list.next;
		if (next == pos)
			return -1;
		pos = next;
	}
	return -1;
}

/*
 * A cgroup's own threads into c without the css_set lock (called under
 * RCU): 0, or -1 if a list changed while it was read, and c is then
 * garbage. The lock would cost what the kernel's own cgroupstats pays, a
 * lock round trip per thread. RCU keeps every task and css_set the walk can
 * reach allocated, and a cgrp_cset_link that is freed meanwhile reads as
 * garbage that the checks refuse: each link must name this cgroup, each
 * task this css_set, each list end at its own head. A css_set's nr_tasks
 * counts its tasks and mg_tasks lists and changes with them under the lock,
 * so a set that showed that many threads, with nr_tasks the same before and
 * after, was seen whole (dying_tasks are not threads of the cgroup any more,
 * as for the css_task iterator).
 */
static __always_inline int count_cgroup_lockless(struct counts *c, struct cgroup *cgrp)
{
	struct cgroup *me = OWNER(cgrp, struct cgroup, self);
	struct list_head *head = &me->cset_links;
	struct list_head *pos = head->next;
	while (pos != head && can_loop) {
		struct cgrp_cset_link *link = OWNER(pos, struct cgrp_cset_link, cset_link);
		if (link->cgrp != me)
			return -1;
		struct css_set *cset = link->cset;
		int n = cset->nr_tasks;
		if (walk_cset(c, cset) != n || cset->nr_tasks != n)
			return -1;
		pos = link->cset_link.next;
	}
	return pos == head ? 0 : -1;
}

/* A cgroup's own threads into c; lockless: by the css_set walk first. */
static __always_inline void count_cgroup(struct counts *c, struct cgroup *cgrp, bool lockless)
{
	if (lockless) {
		if (count_cgroup_lockless(c, cgrp) == 0)
			return;
		relocked++;
		__builtin_memset(c, 0, sizeof(*c));
	}
	struct bpf_iter_css_task it;
	struct task_struct *task;
	bpf_iter_css_task_new(&it, &cgrp->self, 0); /* 0: every thread */
	while ((task = bpf_iter_css_task_next(&it)))
		count(c, task, false);
	bpf_iter_css_task_destroy(&it);
}

/*
 * query_css's cache: a reference on each cgroup a single-container query
 * asked for, keyed as user space names it. bpf_cgroup_from_id knows only
 * the default hierarchy; a v1 cgroup can be reached only from a walk that
 * is handed it, so count_css_keep (a cgroup iterator run once for the
 * container) leaves it here for the queries after it.
 */
typedef struct cgroup cgroup_t; /* clang 14 keeps a type tag only on a typedef's pointer */
struct cg_ref {
	cgroup_t __kptr *cgrp;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* the oldest go, with their reference */
	__uint(max_entries, TS_CACHE_MAX);
	__type(key, struct ts_cache_key);
	__type(value, struct cg_ref);
} cgrps SEC(".maps");

struct ts_cache_key keep_key; /* count_css_keep: where to leave the cgroup */

/* One cgroup's record: its own threads. */
static __always_inline void record_cgroup(struct cgroup *cgrp, bool lockless)
{
	struct ts_record *rec;
	__u32 slot;

	struct counts c = {};

	if (!(rec = new_record(cgrp->kn->id, parent_id(cgrp), &slot)))
		return;
	count_cgroup(&c, cgrp, lockless);
	/* Into the record once: a store per thread into map memory costs more. */
	for (int b = 0; b < TS_B_MAX; b++)
		rec->n[b] = c.n[b];
	rec->io_wait = c.io_wait;
}

/* A cgroup iterator's visit (under RCU). */
static __always_inline int css(struct bpf_iter__cgroup *ctx, bool lockless)
{
	struct cgroup *cgrp = ctx->cgroup;
	if (cgrp)
		record_cgroup(cgrp, lockless);
	return 0;
}

/* css of one cgroup (SELF_ONLY), which it also leaves in cgrps under
 * keep_key for query. */
static __always_inline int css_keep(struct bpf_iter__cgroup *ctx, bool lockless)
{
	struct cgroup *cgrp = ctx->cgroup;
	if (!cgrp)
		return 0;
	record_cgroup(cgrp, lockless);
	/* Kept only under the kernel's own names for it: a key user space
	 * got wrong can never answer for another cgroup. */
	if (cgrp->kn->id != keep_key.cgroup_id || cgrp->root->hierarchy_id != (int)keep_key.hier_id)
		return 0;
	struct cg_ref zero = {};
	struct ts_cache_key key = keep_key;
	bpf_map_update_elem(&cgrps, &key, &zero, BPF_NOEXIST);
	struct cg_ref *ref = bpf_map_lookup_elem(&cgrps, &key);
	struct cgroup *held = ref ? bpf_cgroup_acquire(cgrp) : NULL;
	if (!held)
		return 0;
	held = bpf_kptr_xchg(&ref->cgrp, held);
	if (held)
		bpf_cgroup_release(held);
	return 0;
}

/*
 * One container's own threads, run with BPF_PROG_RUN: one bpf() call where
 * the iterator costs a link, an iterator fd and its seq buffer per query.
 * The cgroup comes from cgrps; q->found says whether it was there and alive
 * (a removed cgroup's entry is dropped, so its reference goes too).
 */
static __always_inline int query(struct ts_query *q, bool lockless)
{
	struct ts_cache_key key = q->key;
	struct cg_ref *ref = bpf_map_lookup_elem(&cgrps, &key);
	struct cgroup *cgrp = NULL;
	q->found = 0;
	if (!ref)
		return 0;
	bpf_rcu_read_lock();
	struct cgroup *rcu = ref->cgrp;
	if (rcu)
		cgrp = bpf_cgroup_acquire(rcu);
	bpf_rcu_read_unlock();
	if (!cgrp)
		return 0;
	if (!(cgrp->self.flags & CSS_ONLINE)) {
		bpf_cgroup_release(cgrp);
		bpf_map_delete_elem(&cgrps, &key);
		q->found = TS_QUERY_GONE;
		return 0;
	}
	struct counts c = {};
	bpf_rcu_read_lock(); /* a sleepable program: the lockless walk needs it */
	count_cgroup(&c, cgrp, lockless);
	bpf_rcu_read_unlock();
	bpf_cgroup_release(cgrp);
	for (int b = 0; b < TS_B_MAX; b++)
		q->n[b] = c.n[b];
	q->io_wait = c.io_wait;
	q->found = TS_QUERY_FOUND;
	return 0;
}

/* Each program twice: the css_set walk's (6.9+) and the css_task walk's,
 * which has no may_goto for older verifiers to refuse. */
SEC("iter/cgroup")
int count_set(struct bpf_iter__cgroup *ctx) { return css(ctx, true); }
SEC("iter/cgroup")
int count_css(struct bpf_iter__cgroup *ctx) { return css(ctx, false); }
SEC("iter/cgroup")
int count_set_keep(struct bpf_iter__cgroup *ctx) { return css_keep(ctx, true); }
SEC("iter/cgroup")
int count_css_keep(struct bpf_iter__cgroup *ctx) { return css_keep(ctx, false); }
SEC("syscall")
int query_set(struct ts_query *q) { return query(q, true); }
SEC("syscall")
int query_css(struct ts_query *q) { return query(q, false); }

/*
 * The task walk. count_tasks_all sees threads by address, as it walks the
 * kernel's thread lists itself (container_of on a trusted pointer needs
 * 6.2's bpf_rdonly_cast), so it reads them by probe, offsets from this
 * kernel's BTF; so do both programs for the cgroups of a css_set, which
 * only a thread of another css_set than the last one looks up.
 */
/* count_tasks' memory between threads of one walk (threads of a process
 * come one after another and mostly share a cgroup). */
__u32 ss_slot;    /* the css_set slot of hier's controller, found once */
__u64 last_cgrp;  /* the cgroup of the previous thread, and its record */
__u32 last_rec;

static __u64 cgroup_id_at(__u64 cgrp)
{
	return rd64(rd64(cgrp + OFF(struct cgroup, kn)) + OFF(struct kernfs_node, id));
}

static __u64 cgroup_parent_at(__u64 cgrp)
{
	__u64 css = rd64(cgrp + OFF(struct cgroup, self) + OFF(struct cgroup_subsys_state, parent));
	return css ? rd64(css + OFF(struct cgroup_subsys_state, cgroup)) : 0;
}

/* The cgroup of the css in slot i of css_set cset if it is in the walked
 * hierarchy, else 0. */
static __u64 slot_cgroup(__u64 cset, __u32 i)
{
	__u64 css = rd64(cset + OFF(struct css_set, subsys) + 8 * (__u64)i);
	__u64 cgrp = css ? rd64(css + OFF(struct cgroup_subsys_state, cgroup)) : 0;
	__u64 root = cgrp ? rd64(cgrp + OFF(struct cgroup, root)) : 0;
	return root && rd32(root + OFF(struct cgroup_root, hierarchy_id)) == hier ? cgrp : 0;
}

/* The cgroup of css_set cset in the walked hierarchy, or 0. */
static __u64 cset_cgroup(__u64 cset)
{
	if (hier == TS_HIER_V2)
		return rd64(cset + OFF(struct css_set, dfl_cgrp));
	/* A v1 hierarchy: the css of any of its controllers. */
	__u32 slots = bpf_core_field_size(struct css_set, subsys) / 8;
	__u64 cgrp = slot_cgroup(cset, ss_slot);
	if (cgrp)
		return cgrp;
	for (__u32 i = 0; i < 16 && i < slots; i++)
		if ((cgrp = slot_cgroup(cset, i))) {
			ss_slot = i;
			return cgrp;
		}
	return 0;
}

/* cgrp's record, made (with its ancestors') when first seen. */
static struct ts_record *record_of(__u64 cgrp)
{
	if (cgrp == last_cgrp)
		return bpf_map_lookup_elem(&recs, &last_rec);
	__u64 id = cgroup_id_at(cgrp);
	__u32 *slot = bpf_map_lookup_elem(&slots, &id);
	if (slot) {
		last_cgrp = cgrp;
		last_rec = *slot;
		return bpf_map_lookup_elem(&recs, slot);
	}
	struct ts_record *mine = NULL;
	__u64 first = cgrp;
	__u32 mine_slot = 0;
	int depth;
	for (depth = 0; depth < MAX_DEPTH && cgrp; depth++) {
		__u32 s;
		if (depth > 0 && bpf_map_lookup_elem(&slots, &id))
			break; /* the rest of the chain is known */
		__u64 parent = cgroup_parent_at(cgrp);
		__u64 parent_id = parent ? cgroup_id_at(parent) : 0;
		struct ts_record *rec = new_record(id, parent_id, &s);
		if (!rec || bpf_map_update_elem(&slots, &id, &s, BPF_NOEXIST) != 0) {
			overflow = 1;
			return NULL;
		}
		if (depth == 0) {
			mine = rec;
			mine_slot = s;
		}
		cgrp = parent;
		id = parent_id;
	}
	if (depth == MAX_DEPTH && cgrp && !bpf_map_lookup_elem(&slots, &id))
		too_deep = 1; /* its upper ancestors would miss these threads */
	last_cgrp = first;
	last_rec = mine_slot;
	return mine;
}

/* The css_set of the previous thread, and its record (0: none yet). Threads
 * of a process, and processes started alike, share one css_set: the same
 * set, the same cgroup, with none of the loads that find it. */
__u64 last_cset;
__u32 last_cset_rec;

/* The record of the threads of css_set cset, or NULL (the thread counted
 * as unmapped, or no room). */
static __always_inline struct ts_record *cset_record(__u64 cset)
{
	if (cset && cset == last_cset)
		return bpf_map_lookup_elem(&recs, &last_cset_rec);
	__u64 cgrp = cset ? cset_cgroup(cset) : 0;
	if (!cgrp) {
		unmapped++;
		return NULL;
	}
	struct ts_record *rec = record_of(cgrp);
	if (rec) {
		last_cset = cset;
		last_cset_rec = last_rec;
	}
	return rec;
}

/* Linux 5.8 to 5.16: the task iterator visits every thread, whose fields
 * are read straight from the trusted pointer. Straight into the record:
 * one increment, where adding a whole struct counts would read and write
 * all seven. */
SEC("iter/task")
int count_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ts_record *rec = task ? cset_record((__u64)task->cgroups) : NULL;
	if (rec)
		count((struct counts *)rec->n, task, false);
	return 0;
}

/* The thread at address task into its record, by probe reads. */
static __always_inline void count_at(__u64 task)
{
	struct ts_record *rec = cset_record(rd64(task + OFF(struct task_struct, cgroups)));
	if (rec)
		count((struct counts *)rec->n, (struct task_struct *)task, true);
}

/*
 * Linux 5.17+: one run of the program walks every thread itself, which
 * costs a third of the iterator's visit of each (its next step looks the
 * thread up by pid). The iterator only starts it: the first visit walks
 * the kernel's process list from init_task and each process's thread list,
 * under the RCU read lock the iterator holds (both lists are RCU lists:
 * a thread that goes meanwhile still leads on), then writes one byte, and
 * user space reads one and closes the iterator.
 */
struct all_walk {
	__u64 head;   /* init_task's node in the process list: the end */
	__u64 proc;   /* the process whose threads are at hand */
	__u64 thead;  /* its signal's thread list head */
	__u64 thread; /* the thread at hand (its thread_node), thead when done */
};

static long all_step(__u32 i, struct all_walk *w)
{
	(void)i;
	if (w->thread == w->thead || !w->thread) { /* the next process */
		__u64 next = rd64(w->proc + OFF(struct task_struct, tasks));
		if (!next || next == w->head)
			return 1;
		w->proc = next - OFF(struct task_struct, tasks);
		__u64 sig = rd64(w->proc + OFF(struct task_struct, signal));
		w->thead = sig ? sig + OFF(struct signal_struct, thread_head) : 0;
		w->thread = sig ? rd64(w->thead) : 0;
		return 0;
	}
	__u64 t = w->thread - OFF(struct task_struct, thread_node);
	w->thread = rd64(w->thread);
	count_at(t);
	return 0;
}

__u32 lost; /* count_tasks_all did not find init_task */
/*
 * Zeros the verifier cannot see as zeros. Before Linux 6.7 it checked a
 * bpf_loop callback once, with the state of the first call, and dropped as
 * dead the branches that state cannot take: started from two known zeros,
 * all_step's thread branch was gone, and the walk counted no thread.
 */
__u64 unknown_zero[2];

SEC("iter/task")
int count_tasks_all(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task || lost)
		return 0;
	/* init_task (pid 0): up the parents from the first thread visited. */
	__u64 t = rd64((__u64)task + OFF(struct task_struct, group_leader));
	for (int i = 0; i < 64 && t && rd32(t + OFF(struct task_struct, pid)); i++)
		t = rd64(t + OFF(struct task_struct, real_parent));
	if (!t || rd32(t + OFF(struct task_struct, pid))) {
		lost = 1; /* no byte written: the read ends empty, and user space says so */
		return 0;
	}
	struct all_walk w = { .head = t + OFF(struct task_struct, tasks), .proc = t,
			      .thead = unknown_zero[0], .thread = unknown_zero[1] };
	bpf_loop(1u << 23, all_step, &w, 0);
	char done = 1;
	bpf_seq_write(ctx->meta->seq, &done, 1);
	return 0;
}
