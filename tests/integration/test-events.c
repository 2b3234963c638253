/* Integration tests: events of real containers (proc connector, eBPF moves,
 * v2 cgroup.events, v1 emptiness), and a churn of short-lived processes. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcontest.h"
#include "pcon/events.h"

static struct pcon *P;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(pcon_open(NULL, &P), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_cleanup();
	pcon_close(P);
	return 0;
}

struct rec {
	enum pcon_event_type type;
	int sub;
	pid_t pid, parent;
	uint32_t exit_code;
	char comm[17];
	char path[256];
};

static struct rec recs[4096];
static size_t n_recs;
static uint64_t lost_seen, forks_cb, exits_cb;

static int record(const struct pcon_event *ev, void *userdata)
{
	(void)userdata;
	if (ev->type == PCON_EVENT_LOST)
		lost_seen += ev->lost;
	forks_cb += ev->type == PCON_EVENT_FORK;
	exits_cb += ev->type == PCON_EVENT_EXIT;
	if (n_recs == sizeof(recs) / sizeof(recs[0]))
		return 0;
	struct rec *r = &recs[n_recs++];
	*r = (struct rec){ .type = ev->type, .sub = ev->subscription, .pid = ev->pid,
			   .parent = ev->parent_pid, .exit_code = ev->exit_code };
	snprintf(r->comm, sizeof(r->comm), "%s", ev->comm ? ev->comm : "");
	snprintf(r->path, sizeof(r->path), "%s", ev->path ? ev->path : "");
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Dispatch until an event (type, sub, pid>0 to match) is recorded or ms pass. */
static bool wait_for(struct pcon_events *e, enum pcon_event_type type, int sub, pid_t pid, int ms)
{
	int64_t end = now_ms() + ms;
	size_t from = 0;
	for (;;) {
		for (; from < n_recs; from++)
			if (recs[from].type == type && recs[from].sub == sub && (pid <= 0 || recs[from].pid == pid))
				return true;
		int64_t left = end - now_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = { .fd = pcon_events_fd(e), .events = POLLIN };
		(void)poll(&pfd, 1, (int)(left < 100 ? left : 100));
		assert_true(pcon_events_dispatch(e, record, NULL) >= 0);
	}
}

/* A process driven over a pipe: 'f' forks a child that execs /bin/true (left
 * a zombie until 'r' reaps it), 'x' exits with status 7. Reports the child's
 * pid back. */
struct driver {
	pid_t pid;
	int cmd, reply;
};

static void driver_main(int cmd, int reply)
{
	pid_t child = 0;
	char c;
	while (read(cmd, &c, 1) == 1) {
		if (c == 'f') {
			child = fork();
			if (child == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			(void)!write(reply, &child, sizeof(child));
		} else if (c == 'r') {
			waitpid(child, NULL, 0);
			(void)!write(reply, &child, sizeof(child));
		} else if (c == 'x') {
			_exit(7);
		}
	}
	_exit(1);
}

static struct driver driver_start(void)
{
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(a[1]);
		close(b[0]);
		driver_main(a[0], b[1]);
	}
	pt_track(pid);
	close(a[0]);
	close(b[1]);
	return (struct driver){ .pid = pid, .cmd = a[1], .reply = b[0] };
}

static pid_t driver_do(struct driver *d, char c)
{
	pid_t r = 0;
	assert_int_equal(write(d->cmd, &c, 1), 1);
	if (c != 'x')
		assert_int_equal(read(d->reply, &r, sizeof(r)), sizeof(r));
	return r;
}

static struct pcon_container *make(const struct pcon_hier *h, const char *suffix)
{
	char *path;
	struct pcon_container *c;
	assert_true(asprintf(&path, "/%s/%s", pt_prefix(), suffix) > 0);
	assert_true(pcon_container_create(h, path, &c) >= 0);
	free(path);
	return c;
}

/* Only the task events (fork/exec/exit) of one subscription, in order. */
static size_t task_events(int sub, struct rec *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < n_recs && n < max; i++)
		if (recs[i].sub == sub && (recs[i].type == PCON_EVENT_FORK || recs[i].type == PCON_EVENT_EXEC ||
					   recs[i].type == PCON_EVENT_EXIT))
			out[n++] = recs[i];
	return n;
}

static size_t count(int sub, enum pcon_event_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < n_recs; i++)
		n += recs[i].sub == sub && recs[i].type == type;
	return n;
}

static void lifecycle(const char *token, unsigned flags)
{
	const struct pcon_hier *h;
	if (pcon_hier_find(P, token, &h) < 0)
		SKIP_BECAUSE("no %s hierarchy here", token);
	assert_int_equal(pt_cleanup(), 0);
	struct pcon_container *a = make(h, "a"), *b = make(h, "b"), *top;
	char *toppath;
	assert_true(asprintf(&toppath, "/%s", pt_prefix()) > 0);
	assert_int_equal(pcon_container_open(h, toppath, &top), 0);
	free(toppath);

	struct pcon_events *e;
	assert_int_equal(pcon_events_new(P, flags, &e), 0);
	int sa = pcon_events_subscribe(e, a, 0);
	int sb = pcon_events_subscribe(e, b, 0);
	int st = pcon_events_subscribe(e, top, PCON_EVENTS_RECURSIVE);
	assert_true(sa >= 0 && sb >= 0 && st >= 0);
	assert_int_equal(pcon_events_populated(e, sa), 0);
	n_recs = 0;

	struct driver d = driver_start();
	/* pcon maps a fork when it reads it: let it see the driver's before it moves */
	assert_true(wait_for(e, PCON_EVENT_FORK, -2, 0, 200) || true);
	assert_int_equal(pcon_container_attach(a, d.pid, false), 0);
	assert_true(wait_for(e, PCON_EVENT_POPULATED, sa, 0, 3000) || h->version == 1);
	pid_t child = driver_do(&d, 'f');
	assert_true(wait_for(e, PCON_EVENT_EXIT, sa, child, 3000));
	driver_do(&d, 'r');
	driver_do(&d, 'x');
	assert_true(wait_for(e, PCON_EVENT_EXIT, sa, d.pid, 3000));
	assert_true(wait_for(e, PCON_EVENT_EMPTY, sa, 0, 3000));
	int status;
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	close(d.cmd);
	close(d.reply);

	struct rec v[16];
	size_t n = task_events(sa, v, 16);
	for (size_t i = 0; n != 4 && i < n_recs; i++)
		printf("# %d %s pid=%d parent=%d path=%s comm=%s\n", recs[i].sub,
		       pcon_event_type_to_string(recs[i].type), recs[i].pid, recs[i].parent,
		       recs[i].path, recs[i].comm);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].type, PCON_EVENT_FORK);
	assert_int_equal(v[0].pid, child);
	assert_int_equal(v[0].parent, d.pid);
	assert_int_equal(v[1].type, PCON_EVENT_EXEC);
	assert_int_equal(v[1].pid, child);
	assert_string_equal(v[1].comm, "true");
	assert_int_equal(v[2].type, PCON_EVENT_EXIT);
	assert_int_equal(v[2].pid, child);
	assert_int_equal(v[2].exit_code, 0);
	assert_int_equal(v[3].type, PCON_EVENT_EXIT);
	assert_int_equal(v[3].pid, d.pid);
	assert_int_equal(WEXITSTATUS(v[3].exit_code), 7);
	assert_int_equal(count(sa, PCON_EVENT_POPULATED), 1);
	assert_int_equal(count(sa, PCON_EVENT_EMPTY), 1);
	/* the sibling heard nothing; the recursive parent heard A's events under A's path */
	for (size_t i = 0; i < n_recs; i++)
		assert_int_not_equal(recs[i].sub, sb);
	assert_int_equal(task_events(st, v, 16), 4);
	assert_string_equal(v[0].path, a->path);
	if (pcon_events_tracks_moves(e))
		assert_int_equal(count(sa, PCON_EVENT_MOVE), 1);
	assert_int_equal(pcon_events_populated(e, sa), 0);

	/* an ended subscription hears nothing more; a removed container's
	 * subscription ends with GONE */
	assert_int_equal(pcon_events_unsubscribe(e, sb), 0);
	assert_int_equal(pcon_events_unsubscribe(e, sb), -ENOENT);
	assert_int_equal(pcon_events_populated(e, sb), -EINVAL);
	assert_int_equal(pcon_container_remove(h, b->path, false), 0);
	assert_int_equal(pcon_container_remove(h, a->path, false), 0);
	assert_true(wait_for(e, PCON_EVENT_GONE, sa, 0, 3000));
	assert_int_equal(count(sa, PCON_EVENT_GONE), 1);
	assert_int_equal(count(sb, PCON_EVENT_GONE), 0);
	assert_int_equal(count(st, PCON_EVENT_GONE), 0);
	assert_int_equal(pcon_events_populated(e, sa), -ENOENT);

	pcon_events_free(e);
	pcon_container_free(a);
	pcon_container_free(b);
	pcon_container_free(top);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_lifecycle_v2(void **state) { (void)state; lifecycle("unified", 0); }
static void test_lifecycle_v2_nobpf(void **state) { (void)state; lifecycle("unified", PCON_EVENTS_NO_BPF); }
static void test_lifecycle_v1(void **state) { (void)state; lifecycle("pids", 0); }
static void test_lifecycle_v1_nobpf(void **state) { (void)state; lifecycle("pids", PCON_EVENTS_NO_BPF); }

static void test_moves_tracked(void **state)
{
	(void)state;
	struct pcon_events *e;
	assert_int_equal(pcon_events_new(P, 0, &e), 0);
	int ok = pcon_events_tracks_moves(e);
	pcon_events_free(e);
	if (!ok)
		SKIP_BECAUSE("the eBPF move tracker does not load here");
}

static void sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
}

static void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* Two subscriptions of one container share its inotify watch: ending one
 * must not end the other (it heard EMPTY and GONE of a live container). */
static void test_shared_watch(void **state)
{
	(void)state;
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "unified", &h) < 0)
		SKIP_BECAUSE("no v2 hierarchy here");
	assert_int_equal(pt_cleanup(), 0);
	struct pcon_container *c = make(h, "shared");
	const struct pcon_container *in[] = { c };
	pid_t pid = pt_spawn_in(in, 1, sleeper, NULL);
	struct pcon_events *e;
	assert_int_equal(pcon_events_new(P, 0, &e), 0);
	int s1 = pcon_events_subscribe(e, c, 0), s2 = pcon_events_subscribe(e, c, 0);
	assert_true(s1 >= 0 && s2 >= 0);
	assert_int_equal(pcon_events_populated(e, s2), 1);
	n_recs = 0;
	assert_int_equal(pcon_events_unsubscribe(e, s1), 0);
	assert_false(wait_for(e, PCON_EVENT_GONE, s2, 0, 1500));
	assert_int_equal(count(s2, PCON_EVENT_EMPTY), 0);
	kill_reap(pid);
	assert_true(wait_for(e, PCON_EVENT_EMPTY, s2, 0, 3000));
	assert_int_equal(count(s1, PCON_EVENT_EMPTY), 0);
	pcon_events_free(e);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static pid_t spawn_exit(void);

struct mover {
	const struct pcon_container *to;
	int go;
};

static void move_and_exit(void *arg)
{
	const struct mover *m = arg;
	char c;
	if (read(m->go, &c, 1) != 1 || pcon_container_attach(m->to, getpid(), false) < 0)
		_exit(1);
	_exit(9);
}

/* A task moved and exiting before pcon reads the move (its /proc entry is
 * read while exiting): its exit maps to where it moved. */
static void test_move_then_exit(void **state)
{
	(void)state;
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "unified", &h) < 0)
		SKIP_BECAUSE("no v2 hierarchy here");
	assert_int_equal(pt_cleanup(), 0);
	struct pcon_events *e;
	assert_int_equal(pcon_events_new(P, 0, &e), 0);
	if (!pcon_events_tracks_moves(e)) {
		pcon_events_free(e);
		SKIP_BECAUSE("the eBPF move tracker does not load here");
	}
	struct pcon_container *a = make(h, "from"), *b = make(h, "to");
	int sa = pcon_events_subscribe(e, a, 0), sb = pcon_events_subscribe(e, b, 0);
	assert_true(sa >= 0 && sb >= 0);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct mover m = { b, fds[0] };
	const struct pcon_container *in[] = { a };
	n_recs = 0;
	pid_t pid = pt_spawn_in(in, 1, move_and_exit, &m);
	close(fds[0]);
	assert_true(wait_for(e, PCON_EVENT_MOVE, sa, pid, 3000)); /* cached in a */
	/* we forked it and it was moved after: we are not in a, nor what we fork */
	pid_t other = spawn_exit();
	assert_int_equal(waitpid(other, NULL, 0), other);
	assert_false(wait_for(e, PCON_EVENT_EXIT, sa, other, 500));
	assert_false(wait_for(e, PCON_EVENT_FORK, sa, other, 0));
	assert_int_equal(write(fds[1], "g", 1), 1);
	close(fds[1]);
	siginfo_t si;
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0); /* a zombie */
	assert_true(wait_for(e, PCON_EVENT_EXIT, sb, pid, 3000));
	assert_int_equal(count(sa, PCON_EVENT_EXIT), 0);
	struct pcon_events_stats st;
	pcon_events_stats(e, &st);
	assert_int_equal(st.cached, 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	pcon_events_free(e);
	pcon_container_free(a);
	pcon_container_free(b);
	assert_int_equal(pt_cleanup(), 0);
}

struct unsub {
	struct pcon_events *e;
};

static int unsub_on_empty(const struct pcon_event *ev, void *userdata)
{
	struct unsub *u = userdata;
	if (ev->type == PCON_EVENT_EMPTY)
		assert_int_equal(pcon_events_unsubscribe(u->e, ev->subscription), 0);
	return record(ev, NULL);
}

/* Unsubscribing from the callback on EMPTY of a removed v1 container: no
 * GONE follows for the ended subscription. */
static void test_unsubscribe_on_empty(void **state)
{
	(void)state;
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "pids", &h) < 0 || h->version != 1)
		SKIP_BECAUSE("no v1 pids hierarchy here");
	assert_int_equal(pt_cleanup(), 0);
	struct pcon_container *c = make(h, "unsub");
	const struct pcon_container *in[] = { c };
	pid_t pid = pt_spawn_in(in, 1, sleeper, NULL);
	struct pcon_events *e;
	assert_int_equal(pcon_events_new(P, 0, &e), 0);
	int s = pcon_events_subscribe(e, c, 0);
	assert_true(s >= 0);
	assert_int_equal(pcon_events_populated(e, s), 1);
	kill_reap(pid);
	assert_int_equal(pcon_container_remove(h, c->path, false), 0);
	n_recs = 0;
	struct unsub u = { e };
	for (int64_t end = now_ms() + 2500; now_ms() < end;) {
		struct pollfd pfd = { .fd = pcon_events_fd(e), .events = POLLIN };
		(void)poll(&pfd, 1, 100);
		assert_true(pcon_events_dispatch(e, unsub_on_empty, &u) >= 0);
	}
	assert_int_equal(count(s, PCON_EVENT_EMPTY), 1);
	assert_int_equal(count(s, PCON_EVENT_GONE), 0);
	assert_int_equal(pcon_events_populated(e, s), -EINVAL);
	pcon_events_free(e);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* One child that exits at once. vfork: a sanitizer build's fork copies its
 * huge page tables and is 10x slower. */
__attribute__((noinline)) static pid_t spawn_exit(void)
{
	pid_t p = vfork();
	if (p == 0)
		_exit(0);
	return p;
}

/* Fork short-lived children as fast as possible for ms; report how many. */
static void churn_main(int ms, int reply)
{
	int64_t end = now_ms() + ms;
	long n = 0;
	while (now_ms() < end) {
		for (int i = 0; i < 64; i++) {
			pid_t p = spawn_exit();
			if (p > 0) {
				waitpid(p, NULL, 0);
				n++;
			}
		}
	}
	(void)!write(reply, &n, sizeof(n));
	_exit(0);
}

struct churn {
	long forks;
	uint64_t forks_seen, exits_seen, lost;
	long rss_growth_kb;
	size_t cached_after;
	double seconds;
};

struct churn_arg {
	int ms, report_fd;
};

static void churn_child(void *arg)
{
	const struct churn_arg *a = arg;
	churn_main(a->ms, a->report_fd);
}

/* Churn ms in a fresh container; dispatch every pause_ms (0: as fast as we can). */
static struct churn churn(const struct pcon_hier *h, const char *suffix, int ms, int rcvbuf, int pause_ms)
{
	struct pcon_container *c = make(h, suffix);
	struct pcon_events *e;
	assert_int_equal(pcon_events_new(P, 0, &e), 0);
	if (rcvbuf)
		assert_int_equal(pcon_events_set_rcvbuf(e, rcvbuf), 0);
	int sub = pcon_events_subscribe(e, c, 0);
	assert_true(sub >= 0);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct churn_arg arg = { ms, fds[1] };
	const struct pcon_container *in[] = { c };
	pid_t pid = pt_spawn_in(in, 1, churn_child, &arg);
	close(fds[1]);

	struct churn r = { 0 };
	long rss0 = rss_kb();
	int64_t t0 = now_ms();
	n_recs = 0;
	lost_seen = forks_cb = exits_cb = 0;
	bool done = false;
	while (!done || now_ms() - t0 < ms + 1500) {
		struct pollfd pfd[2] = { { .fd = pcon_events_fd(e), .events = POLLIN },
					 { .fd = fds[0], .events = POLLIN } };
		if (pause_ms)
			usleep((useconds_t)pause_ms * 1000);
		(void)poll(pfd, done ? 1 : 2, 50);
		if (!done && (pfd[1].revents & (POLLIN | POLLHUP))) {
			assert_int_equal(read(fds[0], &r.forks, sizeof(r.forks)), sizeof(r.forks));
			done = true;
		}
		assert_true(pcon_events_dispatch(e, record, NULL) >= 0);
		n_recs = 0;
	}
	r.seconds = (double)(now_ms() - t0) / 1000;
	r.lost = lost_seen;
	r.forks_seen = forks_cb;
	r.exits_seen = exits_cb;
	r.rss_growth_kb = rss_kb() - rss0;
	struct pcon_events_stats st;
	pcon_events_stats(e, &st);
	r.cached_after = st.cached;
	assert_int_equal(st.lost, lost_seen);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	pcon_events_free(e);
	pcon_container_free(c);
	return r;
}

static void test_churn(void **state)
{
	(void)state;
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "unified", &h) < 0)
		SKIP_BECAUSE("no v2 hierarchy here");
	if (getenv("PCONTEST_SLOW"))
		SKIP_BECAUSE("a throughput test (10,000 forks in 10 s), and PCONTEST_SLOW says this "
			     "machine is an emulated guest");
	/* 1: default 4 MiB buffer, dispatching at once. */
	struct churn a = churn(h, "churn", 10000, 0, 0);
	printf("# churn: %ld forks in 10 s (%.0f/s); seen %llu forks, %llu exits; lost %llu; "
	       "RSS +%ld KiB; cache %zu after\n", a.forks, a.forks / 10.0,
	       (unsigned long long)a.forks_seen, (unsigned long long)a.exits_seen,
	       (unsigned long long)a.lost, a.rss_growth_kb, a.cached_after);
	assert_true(a.forks > 10000); /* thousands a second */
#ifdef __SANITIZE_ADDRESS__
	/* ASan holds freed memory in a 256 MiB quarantine: RSS grows up to that */
	assert_true(a.rss_growth_kb < 320 * 1024);
#else
	assert_true(a.rss_growth_kb < 32 * 1024);
#endif
	assert_true(a.cached_after < 64);
	/* every event the kernel sent us is either seen or counted as lost */
	assert_true(a.forks_seen + a.lost >= (uint64_t)a.forks);
	assert_true(a.exits_seen + a.lost >= (uint64_t)a.forks);
	if (a.lost == 0) {
		/* the churner's own fork counts if pcon read it after the move */
		assert_true(a.forks_seen == (uint64_t)a.forks || a.forks_seen == (uint64_t)a.forks + 1);
		assert_int_equal(a.exits_seen, a.forks + 1); /* + the churner itself */
	}
	/* 2: a tiny buffer read slowly: the kernel drops, and we say how many. */
	struct churn b = churn(h, "churn-small", 2000, 4096, 20);
	printf("# churn, 4 KiB buffer read every 20 ms: %ld forks; seen %llu forks, %llu exits; "
	       "lost %llu; cache %zu after\n", b.forks, (unsigned long long)b.forks_seen,
	       (unsigned long long)b.exits_seen, (unsigned long long)b.lost, b.cached_after);
	assert_true(b.lost > 0);
	assert_true(b.forks_seen + b.lost >= (uint64_t)b.forks);
	assert_true(b.forks_seen < (uint64_t)b.forks);
	assert_true(b.cached_after < 64);
	assert_int_equal(pt_cleanup(), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_moves_tracked),
	cmocka_unit_test(test_lifecycle_v2),
	cmocka_unit_test(test_lifecycle_v2_nobpf),
	cmocka_unit_test(test_lifecycle_v1),
	cmocka_unit_test(test_lifecycle_v1_nobpf),
	cmocka_unit_test(test_shared_watch),
	cmocka_unit_test(test_move_then_exit),
	cmocka_unit_test(test_unsubscribe_on_empty),
	cmocka_unit_test(test_churn),
};

PCONTEST_MAIN_ROOT("events integration tests", tests, setup, teardown)
