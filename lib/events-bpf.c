/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Moves between containers, from lib/bpf/attach.bpf.c: the proc connector
 * has no event for them. Optional: where the program does not load (no
 * privilege, no BTF), moves are seen late, when the task next forks, execs
 * or exits (and v1 emptiness by the once-a-second re-check).
 */
#include <bpf/bpf.h>
#include <fcntl.h>
#include <bpf/libbpf.h>
#include <string.h>

#include "events-internal.h"
#include "bpf/attach.h"
#include "attach.skel.h"

struct ev_bpf {
	struct attach_bpf *skel;
	struct ring_buffer *rb;
	uint64_t dropped;   /* the program's drop count last reported */
};

/* Re-read where tid is; cache it if it is somewhere we watch, else forget it. */
static void refresh(struct pcon_events *e, pid_t pid, pid_t tid)
{
	struct ev_where w;
	char *text = NULL;
	if (ev_where_read(e, pid, tid, &w, &text) == 0 && ev_where_interesting(e, &w))
		ev_cache_put(e, pid, tid, text);
	else {
		free(text);
		ev_cache_drop(e, tid);
	}
}

/* A whole process moved: its other threads moved with it. */
static void refresh_threads(struct pcon_events *e, pid_t pid, pid_t leader)
{
	char rel[32];
	snprintf(rel, sizeof(rel), "%d/task", pid);
	int fd = openat(pcon_proc_fd(e->p), rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		closep(&fd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		int tid;
		if (parse_int(de->d_name, &tid) == 0 && tid != leader)
			refresh(e, pid, tid);
	}
}

static void deliver_move(struct pcon_events *e, struct pcon_event *ev, size_t idx)
{
	for (size_t i = 0; i < e->n_subs; i++) {
		const struct ev_sub *s = &e->subs[i];
		if (s->hier_idx != idx || !(ev_sub_covers(s, ev->path, s->recursive) ||
					    ev_sub_covers(s, ev->from_path, s->recursive)))
			continue;
		ev->subscription = s->id;
		ev->hier = s->hier;
		ev_emit(e, ev);
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct pcon_events *e = ctx;
	struct attach_record rec;
	if (size < sizeof(rec))
		return 0;
	memcpy(&rec, data, sizeof(rec));
	rec.path[ATTACH_PATH_MAX - 1] = '\0';
	if (rec.hierarchy_id < 0 || rec.hierarchy_id >= EV_MAX_HIDS || e->hid_map[rec.hierarchy_id] < 0)
		return 0;
	size_t idx = (size_t)e->hid_map[rec.hierarchy_id];

	struct ev_where old = { 0 }, now;
	struct ev_task *t = ev_cache_get(e, rec.tid);
	if (t) {
		snprintf(old.buf, sizeof(old.buf), "%s", t->cgroup);
		ev_where_parse(e, old.buf, &old);
	}
	const char *path = rec.path;
	if (strlen(path) >= ATTACH_PATH_MAX - 1 || !path[0]) { /* truncated: ask /proc */
		if (ev_where_read(e, rec.pid, rec.tid, &now, NULL) < 0 || !now.path[idx])
			return 0;
		path = now.path[idx];
	}
	if (old.path[idx] && strcmp(old.path[idx], path) == 0)
		return 0; /* attached where it already was */

	struct pcon_event ev = { .type = PCON_EVENT_MOVE, .time_ns = rec.time_ns, .pid = rec.pid,
				 .tid = rec.tid, .path = path, .from_path = old.path[idx] };
	if (!rec.threadgroup && rec.pid != rec.tid)
		ev.flags |= PCON_EVENT_F_THREAD;
	struct ev_where in = { 0 };
	in.path[idx] = path;
	ev_task_moved(e, &in, true);
	deliver_move(e, &ev, idx);
	if (old.path[idx])
		ev_task_moved(e, &old, false);

	refresh(e, rec.pid, rec.tid);
	if (rec.threadgroup)
		refresh_threads(e, rec.pid, rec.tid);
	return e->cb_err < 0 ? e->cb_err : 0;
}

int ev_bpf_new(struct pcon_events *e, struct ev_bpf **ret)
{
	struct ev_bpf *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	libbpf_quiet();
	b->skel = attach_bpf__open_and_load();
	int r = b->skel ? 0 : negerrno();
	if (r == 0 && attach_bpf__attach(b->skel) != 0)
		r = negerrno();
	if (r == 0) {
		b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.moves), on_record, e, NULL);
		if (!b->rb)
			r = negerrno();
	}
	if (r < 0) {
		ev_bpf_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void ev_bpf_free(struct ev_bpf *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	attach_bpf__destroy(b->skel);
	free(b);
}

int ev_bpf_fd(const struct ev_bpf *b)
{
	return ring_buffer__epoll_fd(b->rb);
}

void ev_bpf_drain(struct pcon_events *e)
{
	struct ev_bpf *b = e->bpf;
	(void)ring_buffer__consume(b->rb);
	uint64_t dropped = __atomic_load_n(&b->skel->bss->dropped, __ATOMIC_RELAXED);
	if (dropped > b->dropped && e->cb_err == 0) {
		ev_emit_lost(e, dropped - b->dropped, ev_now_ns());
		b->dropped = dropped;
	}
}
