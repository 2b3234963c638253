/* pcond: the daemon's shared types. One thread, one epoll loop. */
#ifndef PCOND_H
#define PCOND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "pcon/events.h"
#include "pcon/loadavg.h"
#include "pcon/pcon.h"
#include "pcon/taskstate.h"
#include "pcon/when.h"
#include "proto.h"

struct pcon_rules;

#define PCOND_VERSION "0.1.0"
#define PCOND_SOCKET_DEFAULT "/run/pcon/pcond.sock"
#define PCOND_METRICS_PORT "9742"

/* ---- growable output buffers ---- */

struct buf {
	char *p;
	size_t len, off, cap; /* bytes held, bytes already sent, allocated */
};

int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_put(struct buf *b, const char *s, size_t n);
void buf_free(struct buf *b);

/* ---- the container trees ---- */

struct node {
	struct node *parent, *kids, *next; /* kids sorted by name */
	char *name;                        /* last path component; "" for a root */
	struct pcon_container *c;
	uint64_t id;                       /* inode = v2 cgroup id */
	struct pcon_loadavg la;
	struct pcon_taskstats own, sum;    /* last sample: own threads, whole subtree */
	struct pcon_taskstats extra;       /* children over the cap, read recursively */
	bool sampled;                      /* own/sum hold a sample */
	bool over_cap;                     /* some children are not tracked (the cap) */
	bool fresh;                        /* not sampled yet */
};

struct tree {
	const struct pcon_hier *h;
	struct node *root;
	enum pcon_backend used; /* what answered its last read: per hierarchy,
				   as the kernel backend counts v1 ones only */
	char *self_path; /* container of pcond's own thread here, or NULL */
	uint64_t walked_ns; /* monotonic time of the walk own/sum come from */
};

struct tracker {
	struct pcon *p;
	enum pcon_backend backend;
	enum pcon_backend used;  /* what answered the last read */
	enum pcon_walk walk;     /* how bpf walked, PCON_WALK_NONE otherwise */
	struct tree *trees;
	size_t n_trees;
	size_t tracked, cap;
	size_t untracked;        /* containers over the cap at the last scan */
	bool cap_logged;
	bool full_scan;          /* this round lists every directory again */
	uint64_t rounds;         /* samples taken */
	uint64_t skipped;        /* samples due while pcond could not take them */
	uint64_t failed;         /* rounds with a read or scan error */
	uint64_t scan_errors;    /* directories that could not be listed */
	uint64_t read_errors;
	uint64_t generation;     /* changes whenever the counts do */
	double last_cpu_s;       /* CPU time of the last round */
	double last_wall_s;
};

/* Watch the hierarchies named in tokens (NULL-terminated; NULL: every
 * one). Errors as pcon_hier_find. */
int tracker_init(struct tracker *t, struct pcon *p, char *const *tokens,
		 enum pcon_backend backend, size_t cap);
void tracker_done(struct tracker *t);
/* Rescan every tree and read every container's counts; apply n load
 * samples (0: refresh only). */
void tracker_sample(struct tracker *t, unsigned int n);
/* Bring tr's counts (not its load) to this moment: one walk. */
void tracker_refresh(struct tracker *t, struct tree *tr);
/* Set every root's load to the kernel's own (a root holds every task). */
void tracker_roots_now(struct tracker *t);
/* The tree of hierarchy h, or NULL if not watched. */
struct tree *tracker_tree(struct tracker *t, const struct pcon_hier *h);
/* The node at path in tree, or NULL if not tracked. */
struct node *tree_find(struct tree *tr, const char *path);
/* Pre-order successor of n within the subtree of top, or NULL. */
struct node *node_next(struct node *n, const struct node *top);

/* ---- the loop and its connections ---- */

enum ev_kind {
	EV_TIMER,
	EV_SIGNAL,
	EV_API_LISTEN,
	EV_API_CONN,
	EV_HTTP_LISTEN,
	EV_HTTP_CONN,
	EV_EVENTS,
	EV_WATCH,
};

#define CONN_IN_MAX 8192 /* >= PROTO_LINE_MAX; an HTTP request head */
#define CONN_OUT_MAX (64u << 20)
#define CONN_IDLE_SEC 60     /* a connection with nothing under way */
#define CONN_REQUEST_SEC 10  /* from a request's first byte to its last */
#define CONN_SEND_SEC 30     /* from an answer's first byte queued to its last sent */
#define CONN_STREAM_MAX (256u << 10) /* a subscriber's unsent events, at most */
#define CONN_HTTP_SNDBUF (64 << 10) /* an HTTP socket's send buffer (the kernel doubles it) */
#define METRICS_HELD_MAX (64u << 20) /* /metrics bodies kept for readers, all together */
#define METRICS_NODES_PER_PASS 256 /* containers rendered per loop pass */
#define CONN_REQS_PER_PASS 8
#define CONN_ACCEPTS_PER_PASS 64 /* connections accepted per listener per loop pass */ /* requests served per client per loop pass */
#define EVENTS_LINGER_NS (5ULL * 1000000000ULL) /* events handle kept after the last subscriber */

struct conn {
	enum ev_kind kind;   /* first: what epoll's data.ptr points at */
	int fd;
	uid_t uid;           /* SO_PEERCRED (Unix socket); HTTP: peer.c's, or PEER_REMOTE */
	gid_t gid;
	pid_t pid;
	char in[CONN_IN_MAX];
	size_t in_len;
	struct buf out;
	struct snapshot *body; /* HTTP: the shared /metrics body sent after out */
	size_t body_off;
	bool closing;        /* close once out is sent */
	bool waiting;        /* HTTP: for the /metrics body being rendered */
	bool head_only;      /* HTTP: a HEAD request */
	bool eof;            /* the client shut its writing side */
	bool reading;        /* EPOLLIN wanted */
	uint64_t last_ns;    /* last activity (monotonic) */
	uint64_t req_ns;     /* first byte of the request under way, or 0 */
	uint64_t out_ns;     /* when the unsent answer was queued, or 0 */
	bool dead;           /* closed: freed after this round of the loop */
	bool stream;         /* subscribed: out carries event lines, input is ignored */
	size_t n_subs;       /* its subscriptions not yet gone */
	uint64_t dropped;    /* its events not queued since its last lost line */
	uint64_t kernel_lost; /* the kernel's lost counts it could not be told yet */
	bool more;           /* complete requests left over for the next pass */
	uint64_t pass;       /* the loop pass req_done counts in */
	unsigned req_done;   /* requests served in that pass */
	struct conn *prev, *next;
};

/* A subscription of the events handle, and the connection it feeds. */
struct sub {
	int id;
	struct conn *c;
};

/* One rendering of /metrics, shared by every scrape of its sample. */
struct snapshot {
	unsigned refs;
	uint64_t gen;        /* the tracker generation it shows */
	size_t len;
	char data[];
};

/* A /metrics body being rendered, a step per loop pass. */
struct render {
	bool active;
	uint64_t gen;        /* the tracker generation it shows */
	uint64_t t0;
	struct buf b;
	size_t part, tree;   /* where the next step resumes */
	struct node *n;
	bool headed;
};

struct listener {
	enum ev_kind kind;
	int fd;
};

struct pcond {
	struct pcon *p;
	struct tracker tr;
	int epfd;
	struct listener timer, signal, api, http;
	struct conn *conns;
	struct conn *graveyard;    /* closed this round: an event may still name them */
	size_t n_conns;            /* API and HTTP */
	size_t n_api, max_api;     /* API connections, subscribers included */
	size_t max_per_uid;        /* API connections of one uid other than root */
	size_t root_reserve;       /* API slots only root may take */
	size_t n_http, max_http;   /* HTTP connections */
	size_t http_reserve;       /* HTTP slots only root may take */
	uint64_t refused;          /* connections refused over a limit */
	uint64_t expired;          /* connections closed past a deadline */
	uint64_t request_ns;       /* --request-timeout */
	bool paused;               /* listeners unwatched: no descriptor free */
	bool fd_logged;
	uint64_t fd_exhausted;     /* times accept ran out of descriptors */
	size_t fd_budget;          /* descriptors left for containers */
	struct pcon_events *ev;    /* while anyone subscribes */
	struct listener events;    /* its fd in the loop */
	uint64_t ev_idle_ns;       /* when its last subscriber left, or 0 */
	uint64_t ev_loads;         /* times it was created */
	struct creds *creds;
	char *line;                /* one event line being formatted (PROTO_EVENT_MAX) */
	struct snapshot *snap;     /* the latest /metrics body, or NULL */
	size_t snap_bytes;         /* bodies alive, readers' included */
	uint64_t renders;          /* /metrics bodies rendered */
	uint64_t render_ns;        /* how long the last one took, start to end */
	struct render render;      /* the one under way */
	size_t n_waiting;          /* scrapes waiting for it */       /* visible.c: tasks' ids, kept past their end */
	uint64_t pass;             /* loop passes */
	size_t n_more;             /* connections with requests left over */
	struct sub *subs;
	size_t n_subs;
	int64_t mono_to_real_ns;   /* event stamps to the epoch */
	uint64_t next_ns;          /* monotonic due time of the next sample */
	uint64_t started_ns;
	uint64_t ts_window_ns;     /* taskstats: the second unprivileged walks are counted in */
	unsigned ts_walks;         /* and how many they asked for in it */
	uint64_t ts_walked;        /* walks made for taskstats requests */
	const char *socket_path;   /* the socket file bound, while it is ours */
	dev_t sock_dev;            /* and its identity, to remove only ours */
	ino_t sock_ino;
	char *lock_path;           /* PATH.lock, while pcond holds it */
	int lock_fd;
	bool activated;            /* listeners passed by the service manager */
	bool quit;
	bool verbose;
	struct pcon_rules *rules;  /* --rules, or NULL */
	const char *rules_path;
	int rules_sub;             /* its events subscription */
	uint64_t rules_moved, rules_failed;
#define RULES_WARNED_MAX 64
	char rules_warned[RULES_WARNED_MAX][128]; /* what was said once */
	size_t rules_warned_n;
	struct watch **watches;    /* threshold expressions, one per connection */
	size_t n_watches;
	struct watch *watch_grave; /* dropped this pass */
};

uint64_t now_ns(void);
/* Parse a request's container name; false once "err ENODEV/EINVAL" is
 * answered for it (api.c). */
bool spec_or_err(struct pcond *d, struct conn *c, const char *name, struct pcon_spec *ret);

/* rules.c: --rules FILE. 0, or 1 with the error logged. */
int rules_start(struct pcond *d, const char *path);
void rules_reload(struct pcond *d);
void rules_on_event(struct pcond *d, const struct pcon_event *ev);
void rules_done(struct pcond *d);
/* api.c: the "err CODE MESSAGE" answer to a request. */
void reply_err(struct conn *c, const char *code, const char *msg);

/* watch.c: "watch EXPR CONTAINER" and its threshold events. */
void watch_request(struct pcond *d, struct conn *c, const char *expr, const char *name);
void watches_sample(struct pcond *d);   /* after each sample */
void watch_trigger(struct pcond *d, void *w); /* a PSI trigger fired */
void watches_drop(struct pcond *d, struct conn *c);
void watches_reap(struct pcond *d);

/* subs.c: a subscription of pcond's own; its events go to rules_on_event. */
int subs_internal(struct pcond *d, const struct pcon_container *c, unsigned flags, int *ret_id);

/* log.c: one line on stderr at or above the level (LOG_ERR ... LOG_DEBUG),
 * with journal priority prefixes when stderr is the journal. */
void pcond_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pcond_log_set_level(int level);
/* Log at LOG_ERR; returns 1 (pcond's exit status for an error at start). */
int pcond_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pcond_log_get_level(void);
/* "err", "warning", "info", "debug", ... or 0-7; -EINVAL otherwise. */
int pcond_log_level_from_string(const char *s);

/* peer.c: the uid owning the client socket of a TCP connection from this
 * machine; -ENOENT for a remote peer, -errno on failure. */
#define PEER_REMOTE ((uid_t)-2) /* an HTTP peer whose uid is not known */
int peer_tcp_uid(int fd, uid_t *ret);

/* listen.c: the API socket at path (and PATH.lock); the HTTP listener at
 * [ADDR:]PORT. 0, or 1 with the error logged. */
int listen_api(struct pcond *d, const char *path);
void listen_api_close(struct pcond *d);
int listen_http(struct pcond *d, const char *spec);
int pcond_epoll_add(struct pcond *d, struct listener *l);

/* sd.c: tell the service manager (NOTIFY_SOCKET) "READY=1" etc.; take the
 * listeners it passed (LISTEN_FDS): 0 (none passed is fine) or 1, logged. */
void sd_notify_send(const char *state);
int sd_listen(struct pcond *d);

/* conn.c */
int conn_accept(struct pcond *d, struct listener *l);
void conn_event(struct pcond *d, struct conn *c, uint32_t events);
void conn_close(struct pcond *d, struct conn *c);
void conn_reap(struct pcond *d); /* free the connections closed this round */
void conn_sweep(struct pcond *d); /* close idle connections */
/* Watch the listeners again after running out of descriptors. */
void listeners_resume(struct pcond *d);
/* Serve the requests left over from the last pass (CONN_REQS_PER_PASS). */
void conn_resume(struct pcond *d);
/* Send what can be sent, then re-arm epoll; closes c (returns -1) when it
 * is done or broken. */
int conn_flush(struct pcond *d, struct conn *c);

/* subs.c: event subscriptions */
void subs_request(struct pcond *d, struct conn *c, const char *spec, bool recursive);
void subs_dispatch(struct pcond *d);
/* Free the events handle if nobody subscribed for a while (now: at once). */
void subs_release_idle(struct pcond *d, bool now);
/* End every subscription of c (it is closing). */
void subs_drop(struct pcond *d, struct conn *c);
/* c's backlog drained: tell it what it missed. */
void subs_catch_up(struct conn *c);

/* visible.c: may c see ev's private parts (exit status, signal, exec
 * name)? Only if /proc would show them to c's uid. */
bool visible_private(struct pcond *d, const struct conn *c, const struct pcon_event *ev);
/* Remember ev's task's ids for its exit (fork, exec, uid/gid events). */
void visible_note(struct pcond *d, const struct pcon_event *ev);
void visible_done(struct pcond *d);

/* api.c: one request line of a Unix-socket client; appends the reply. */
void api_request(struct pcond *d, struct conn *c, const char *line, size_t len);
/* metrics.c: a complete HTTP request head; appends the whole reply. */
void http_request(struct pcond *d, struct conn *c, const char *head, size_t len);
/* The OpenMetrics exposition of everything tracked. */
int metrics_render(struct pcond *d, struct buf *b);
/* Render the next part of the body under way, answering the waiting
 * scrapes once it is complete. */
void metrics_pass(struct pcond *d);
/* The tracker is about to sample (done false; a rendering under way must
 * start over: its nodes may go) or has sampled (done true). */
void metrics_sampling(struct pcond *d, bool done);
/* main.c: one sample round (n load samples, 0: counts only), /metrics told. */
void pcond_sample(struct pcond *d, unsigned int n);
void snapshot_put(struct pcond *d, struct snapshot *s); /* NULL is fine */

#endif
