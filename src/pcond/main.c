/*
 * pcond: per-container load averages and task states, served on a Unix
 * socket and as Prometheus metrics; fans process events out to subscribers.
 * One thread around one epoll loop: a timerfd for the 5 s samples, a
 * signalfd, the API socket and its clients, the HTTP listener and its
 * clients, and the events handle while anyone subscribes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "pcond.h"

#define MAX_TOKENS 64

struct opts {
	const char *socket, *metrics, *rules;
	char *tokens[MAX_TOKENS + 1];
	size_t n_tokens;
	enum pcon_backend backend;
	size_t cap, max_clients, max_per_uid, max_http, request_sec;
};

static void help(void)
{
	printf("Usage: pcond [OPTIONS]\n\n"
	       "Sample the task states of every container every 5 s, keep kernel-exact\n"
	       "load averages per container, and serve them on a Unix socket (pcon loadavg)\n"
	       "and as OpenMetrics for Prometheus; fan the kernel's process events out to\n"
	       "subscribers (pcon events).\n\n"
	       "  -s, --socket=PATH          API socket (default $PCON_SOCKET or %s)\n"
	       "  -m, --metrics=[ADDR:]PORT  serve /metrics over HTTP: PORT 1..65535, ADDR an\n"
	       "                             IPv4 address or host name, or [IPv6] (default\n"
	       "                             127.0.0.1): 9100, 0.0.0.0:9100, [::1]:9100\n"
	       "  -H, --hierarchy=LIST       watch only these hierarchies (cpu,memory,unified;\n"
	       "                             repeatable; default: all)\n"
	       "  -B, --backend=NAME         task-state backend: auto, proc, bpf, kernel\n"
	       "                             (kernel's cgroupstats counts v1 hierarchies\n"
	       "                             only: a v2 one is counted from /proc)\n"
	       "      --max-containers=N     track at most N containers (default 10000)\n"
	       "      --max-clients=N        serve at most N API connections at once, a\n"
	       "                             sixteenth of them (at least 4) kept for root\n"
	       "                             (default 256)\n"
	       "      --max-clients-per-uid=N  at most N API connections (subscribers\n"
	       "                             included), and N HTTP ones, of one user other\n"
	       "                             than root (default 32)\n"
	       "      --max-http-clients=N   serve at most N HTTP connections at once, a\n"
	       "                             sixteenth (at least 2) kept for root; more\n"
	       "                             get 503 (default 64)\n"
	       "      --request-timeout=SEC  a request must arrive whole within SEC of its\n"
	       "                             first byte (default 10)\n"
	       "      --rules=FILE           move each process as it starts a program or\n"
	       "                             changes user or group where the placement rules\n"
	       "                             of FILE say (cgrules.conf format); SIGHUP reads\n"
	       "                             it again\n"
	       "      --log-level=LEVEL      log at LEVEL and above: err, warning, notice,\n"
	       "                             info (default), debug\n"
	       "  -h, --help                 show this help\n"
	       "  -V, --version              show the version\n", PCOND_SOCKET_DEFAULT);
}

#define SIZE_OPT_MAX 100000000ULL

/* A count option: 1..SIZE_OPT_MAX. 0, or 1 with the error logged naming it. */
static int parse_size(const char *opt, const char *s, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > SIZE_OPT_MAX || s[0] == '-')
		return pcond_fail("%s: '%s' is not a number from 1 to %llu", opt, s, SIZE_OPT_MAX);
	*ret = (size_t)v;
	return 0;
}

/* --metrics [ADDR:]PORT or [IPv6]:PORT: the port must be 1..65535 (getaddrinfo
 * would take 99999 modulo 65536, or 0 for any free port). 0, or 1 logged. */
static int check_metrics(const char *spec)
{
	const char *port = spec;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return pcond_fail("--metrics: '%s' is not [ADDR:]PORT ([IPv6]:PORT for IPv6)", spec);
		port = close + 2;
	} else if (strrchr(spec, ':')) {
		port = strrchr(spec, ':') + 1;
	}
	char *end;
	errno = 0;
	unsigned long v = strtoul(port, &end, 10);
	if (errno || end == port || *end || port[0] < '0' || port[0] > '9' || v < 1 || v > 65535)
		return pcond_fail("--metrics: '%s': the port must be a number from 1 to 65535 "
				  "(PORT, ADDR:PORT or [IPv6]:PORT)", spec);
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { OPT_MAX_CONTAINERS = 0x100, OPT_MAX_CLIENTS, OPT_MAX_PER_UID, OPT_MAX_HTTP,
	       OPT_REQUEST_TIMEOUT, OPT_LOG_LEVEL, OPT_RULES };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "hierarchy", required_argument, NULL, 'H' },
		{ "backend", required_argument, NULL, 'B' },
		{ "max-containers", required_argument, NULL, OPT_MAX_CONTAINERS },
		{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
		{ "max-clients-per-uid", required_argument, NULL, OPT_MAX_PER_UID },
		{ "max-http-clients", required_argument, NULL, OPT_MAX_HTTP },
		{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;
	opterr = 0;
	/* Letters only where pcon's convention gives one (-s, -m, -H, -B). */
	while ((c = getopt_long(argc, argv, ":s:m:H:B:hV", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				return pcond_fail("--socket: '': an empty path (give a file name)");
			o->socket = optarg;
			break;
		case OPT_RULES: o->rules = optarg; break;
		case 'm':
			if (check_metrics(optarg) != 0)
				return 1;
			o->metrics = optarg;
			break;
		case 'H':
			for (char *save = NULL, *t = strtok_r(optarg, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (o->n_tokens == MAX_TOKENS)
					return pcond_fail("--hierarchy: more than %d hierarchies named", MAX_TOKENS);
				o->tokens[o->n_tokens++] = t;
			}
			break;
		case 'B':
			o->backend = pcon_backend_from_string(optarg);
			if ((int)o->backend < 0)
				return pcond_fail("--backend: '%s' is not one of auto, proc, bpf, kernel", optarg);
			break;
		case OPT_MAX_CONTAINERS:
			if (parse_size("--max-containers", optarg, &o->cap) != 0)
				return 1;
			break;
		case OPT_MAX_CLIENTS:
			if (parse_size("--max-clients", optarg, &o->max_clients) != 0)
				return 1;
			break;
		case OPT_MAX_PER_UID:
			if (parse_size("--max-clients-per-uid", optarg, &o->max_per_uid) != 0)
				return 1;
			break;
		case OPT_REQUEST_TIMEOUT:
			if (parse_size("--request-timeout", optarg, &o->request_sec) != 0)
				return 1;
			if (o->request_sec > 3600)
				return pcond_fail("--request-timeout: '%s' is not a number of seconds from 1 to 3600", optarg);
			break;
		case OPT_MAX_HTTP:
			if (parse_size("--max-http-clients", optarg, &o->max_http) != 0)
				return 1;
			break;
		case OPT_LOG_LEVEL: {
			int l = pcond_log_level_from_string(optarg);
			if (l < 0)
				return pcond_fail("--log-level: '%s' is not one of err, warning, notice, info, debug", optarg);
			pcond_log_set_level(l);
			break;
		}
		case 'h': help(); exit(0);
		case 'V': printf("pcond %s\n", PCOND_VERSION); exit(0);
		case ':': return pcond_fail("option '%s' needs a value (try 'pcond --help')", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 0x100)
				return pcond_fail("invalid option '-%c' (try 'pcond --help')", optopt);
			return pcond_fail("invalid option '%s' (try 'pcond --help')", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return pcond_fail("unexpected argument '%s' (try 'pcond --help')", argv[optind]);
	return 0;
}

/* Every --hierarchy name must name a mounted hierarchy: 0, or 1 with the
 * unknown name and the known ones logged. */
static int check_hierarchies(struct pcon *p, const struct opts *o)
{
	for (size_t i = 0; i < o->n_tokens; i++) {
		const struct pcon_hier *h;
		if (pcon_hier_find(p, o->tokens[i], &h) == 0)
			continue;
		char known[1024] = "";
		size_t n, w = 0;
		const struct pcon_hier *all = pcon_hiers(p, &n);
		for (size_t k = 0; k < n && w < sizeof(known); k++)
			w += (size_t)snprintf(known + w, sizeof(known) - w, "%s%s", k ? ", " : "", all[k].name);
		return pcond_fail("--hierarchy: no hierarchy named '%s' is mounted (known: %s)",
				  o->tokens[i], known);
	}
	return 0;
}

/* "proc" when every hierarchy used one backend, else "cpu: kernel, unified: proc". */
static void backends_said(const struct tracker *t, char *buf, size_t size)
{
	bool same = true;
	for (size_t i = 1; i < t->n_trees; i++)
		same &= t->trees[i].used == t->trees[0].used;
	if (same) {
		snprintf(buf, size, "%s", pcon_backend_to_string(t->n_trees ? t->trees[0].used : t->used));
		return;
	}
	size_t w = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->n_trees && w < size; i++)
		w += (size_t)snprintf(buf + w, size - w, "%s%s: %s", i ? ", " : "", t->trees[i].h->name,
				      pcon_backend_to_string(t->trees[i].used));
}

/* Descriptors pcond needs besides containers and clients: its loop, the
 * events handle, /proc files, the listeners. */
#define FD_RESERVE 64

static size_t fds_open(void)
{
	DIR *dir = opendir("/proc/self/fd");
	size_t n = 0;
	if (!dir)
		return 16;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own */
}

/*
 * Raise the soft open-file limit to the hard one (pcond holds a directory
 * per container), then check that every client slot fits beside the
 * descriptors already open and FD_RESERVE. *ret: descriptors left for
 * containers. 1 (and an error logged) if the clients do not fit.
 */
static int fd_budget(const struct opts *o, size_t *ret)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pcond_fail("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	size_t need = o->max_clients + o->max_http + FD_RESERVE + fds_open();
	size_t lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SIZE_MAX / 2 ? SIZE_MAX / 2
										 : (size_t)rl.rlim_cur;
	if (need >= lim)
		return pcond_fail("--max-clients %zu and --max-http-clients %zu need %zu descriptors, "
			    "more than the open-file limit of %zu allows", o->max_clients,
			    o->max_http, need, lim);
	*ret = lim - need;
	return 0;
}

static int open_loop(struct pcond *d)
{
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return pcond_fail("epoll: %s", strerror(errno));
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal.kind = EV_SIGNAL;
	d->signal.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timer.kind = EV_TIMER;
	d->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->signal.fd < 0 || d->timer.fd < 0)
		return pcond_fail("signalfd/timerfd: %s", strerror(errno));
	/* Samples on a fixed 5 s grid from the start; a late wake-up is
	 * caught up by pcon_loadavg_due, not by drifting the grid. */
	d->started_ns = now_ns();
	d->next_ns = d->started_ns + PCON_LOAD_FREQ_NS;
	struct itimerspec its = {
		.it_interval = { .tv_sec = PCON_LOAD_FREQ_SEC },
		.it_value = { .tv_sec = (time_t)(d->next_ns / 1000000000ULL),
			      .tv_nsec = (long)(d->next_ns % 1000000000ULL) },
	};
	if (timerfd_settime(d->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ||
	    pcond_epoll_add(d, &d->signal) < 0 || pcond_epoll_add(d, &d->timer) < 0)
		return pcond_fail("timer: %s", strerror(errno));
	return 0;
}

void pcond_sample(struct pcond *d, unsigned int n)
{
	metrics_sampling(d, false);
	tracker_sample(&d->tr, n);
	metrics_sampling(d, true);
}

static void on_timer(struct pcond *d)
{
	uint64_t exp;
	while (read(d->timer.fd, &exp, sizeof(exp)) > 0)
		;
	unsigned int n = pcon_loadavg_due(&d->next_ns, now_ns());
	if (n > 1)
		d->tr.skipped += n - 1; /* applied late, in one round */
	if (n > 0) {
		pcond_sample(d, n);
		watches_sample(d);
	}
	conn_sweep(d);
	listeners_resume(d); /* in case no descriptor was closed since */
	subs_release_idle(d, false);
}

static void on_signal(struct pcond *d)
{
	struct signalfd_siginfo si;
	while (read(d->signal.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			rules_reload(d);
			pcond_sample(d, 0);
		}
		else
			d->quit = true;
	}
}

static void run(struct pcond *d)
{
	struct epoll_event evs[64];
	while (!d->quit) {
		d->pass++;
		conn_resume(d);
		metrics_pass(d);
		int n = epoll_wait(d->epfd, evs, 64, d->n_more || d->render.active ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pcond_fail("epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			enum ev_kind *k = evs[i].data.ptr;
			switch (*k) {
			case EV_TIMER: on_timer(d); break;
			case EV_SIGNAL: on_signal(d); break;
			case EV_API_LISTEN:
			case EV_HTTP_LISTEN: (void)conn_accept(d, (struct listener *)k); break;
			case EV_EVENTS:
				if (d->ev)
					subs_dispatch(d);
				break;
			case EV_WATCH: watch_trigger(d, k); break;
			default:
				if (!((struct conn *)k)->dead)
					conn_event(d, (struct conn *)k, evs[i].events);
				break;
			}
		}
		conn_reap(d);
		watches_reap(d);
	}
}

int main(int argc, char **argv)
{
	const char *env = getenv("PCON_SOCKET");
	struct opts o = { .socket = env && *env ? env : PCOND_SOCKET_DEFAULT, .cap = 10000,
			  .max_clients = 256, .max_per_uid = 32, .max_http = 64,
			  .request_sec = CONN_REQUEST_SEC };
	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	struct pcond d = { .epfd = -1, .api.fd = -1, .http.fd = -1, .lock_fd = -1, .max_api = o.max_clients,
			   .max_per_uid = o.max_per_uid, .max_http = o.max_http,
			   .request_ns = o.request_sec * 1000000000ULL };
	/* root's own slots: what no other user can take, however many users */
	d.root_reserve = o.max_clients / 16 > 4 ? o.max_clients / 16 : 4;
	if (d.root_reserve >= o.max_clients)
		d.root_reserve = o.max_clients - 1;
	d.http_reserve = o.max_http / 16 > 2 ? o.max_http / 16 : 2;
	if (d.http_reserve >= o.max_http)
		d.http_reserve = o.max_http - 1;
	int r = pcon_open(getenv("PCON_SYSROOT"), &d.p);
	if (r < 0)
		return pcond_fail("cannot read the cgroup hierarchies: %s", strerror(-r));
	if (fd_budget(&o, &d.fd_budget) != 0) {
		pcon_close(d.p);
		return 1;
	}
	if (o.cap > d.fd_budget) {
		pcond_log(LOG_WARNING, "--max-containers lowered from %zu to %zu (open-file limit)",
			  o.cap, d.fd_budget);
		o.cap = d.fd_budget;
	}
	/* What no container may take is the proc backend's, for kept stat files. */
	pcon_taskstate_set_fd_budget(d.p, d.fd_budget - o.cap);
	if (check_hierarchies(d.p, &o) != 0) {
		pcon_close(d.p);
		return 1;
	}
	r = tracker_init(&d.tr, d.p, o.n_tokens ? o.tokens : NULL, o.backend, o.cap);
	if (r < 0) {
		tracker_done(&d.tr);
		pcon_close(d.p);
	}
	if (r == -ENODEV)
		return pcond_fail("--hierarchy: no such hierarchy mounted here (see 'pcon hierarchies')");
	if (r < 0)
		return pcond_fail("cannot open the hierarchies: %s", strerror(-r));
	int rc = open_loop(&d);
	if (rc == 0 && o.rules)
		rc = rules_start(&d, o.rules);
	if (rc == 0)
		rc = sd_listen(&d);
	bool http_passed = d.http.fd >= 0;
	if (rc == 0 && !d.activated)
		rc = listen_api(&d, o.socket);
	if (rc == 0 && o.metrics && d.http.fd < 0)
		rc = listen_http(&d, o.metrics);
	if (rc == 0) {
		pcond_sample(&d, 0);
		char backends[512];
		backends_said(&d.tr, backends, sizeof(backends));
		pcond_log(LOG_INFO, "watching %zu hierarchies, %zu containers (backend %s); "
			  "socket %s%s%s", d.tr.n_trees, d.tr.tracked, backends,
			  d.activated ? "from the service manager" : o.socket,
			  d.http.fd >= 0 ? ", metrics on " : "",
			  d.http.fd < 0 ? "" : http_passed ? "the passed socket" : o.metrics);
		char ready[128];
		snprintf(ready, sizeof(ready), "READY=1\nSTATUS=watching %zu containers\nMAINPID=%d",
			 d.tr.tracked, (int)getpid());
		sd_notify_send(ready);
		run(&d);
		sd_notify_send("STOPPING=1");
	}
	while (d.conns)
		conn_close(&d, d.conns);
	conn_reap(&d);
	watches_reap(&d);
	d.n_subs = 0; /* pcond's own subscription too */
	subs_release_idle(&d, true);
	rules_done(&d);
	metrics_sampling(&d, false); /* frees a rendering under way */
	snapshot_put(&d, d.snap);
	listen_api_close(&d);
	if (d.http.fd >= 0)
		close(d.http.fd);
	tracker_done(&d.tr);
	pcon_close(d.p);
	return rc;
}
