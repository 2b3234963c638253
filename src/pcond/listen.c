/*
 * pcond's listeners: the API's Unix socket and the HTTP port.
 *
 * The socket file is handled as a path an attacker may have prepared: it
 * is removed only if it is a socket and pcond holds PATH.lock (a stale one
 * of a pcond that died), never followed, created with its final mode
 * (no chmod through a path that could have been swapped), and removed at
 * exit only if it is still the one this pcond bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pcond.h"

int pcond_epoll_add(struct pcond *d, struct listener *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0 ? -errno : 0;
}

/* Who holds the socket: the pid at its other end, or 0. */
static pid_t socket_owner(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid = 0;
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		struct ucred cr;
		socklen_t n = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) == 0)
			pid = cr.pid;
	}
	if (fd >= 0)
		close(fd);
	return pid;
}

/* mkdir -p of path's directory, each missing one 0755. */
static int make_parents(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	char *end = strrchr(dir, '/');
	int r = 0;
	if (end && end != dir) {
		*end = '\0';
		for (char *s = dir + 1; r == 0; s++) {
			bool last = *s == '\0';
			if (*s != '/' && !last)
				continue;
			*s = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				r = -errno;
			if (last)
				break;
			*s = '/';
		}
	}
	if (r < 0)
		pcond_log(LOG_ERR, "%s: cannot create the directory: %s", dir, strerror(-r));
	free(dir);
	return r;
}

/*
 * Take PATH.lock: one pcond per socket. The lock file is removed at exit,
 * so a lock taken on a file that was removed (or replaced) meanwhile is
 * worth nothing: check that the path still names the locked file.
 */
static int take_lock(struct pcond *d, const char *path)
{
	if (asprintf(&d->lock_path, "%s.lock", path) < 0) {
		d->lock_path = NULL;
		return pcond_fail("out of memory");
	}
	for (int tries = 0; tries < 10; tries++) {
		int lk = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (lk < 0)
			break;
		struct stat a, b;
		if (flock(lk, LOCK_EX | LOCK_NB) < 0) {
			close(lk);
			free(d->lock_path);
			d->lock_path = NULL; /* the other pcond's */
			pid_t pid = socket_owner(path);
			if (pid > 0)
				return pcond_fail("%s: another pcond (pid %d) is already serving this "
						  "socket", path, (int)pid);
			return pcond_fail("%s: another pcond is already serving this socket", path);
		}
		if (fstat(lk, &a) == 0 && stat(d->lock_path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			d->lock_fd = lk; /* held until exit */
			return 0;
		}
		close(lk);
	}
	int e = errno;
	free(d->lock_path);
	d->lock_path = NULL;
	return pcond_fail("%s.lock: %s", path, strerror(e));
}

int listen_api(struct pcond *d, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return pcond_fail("%s: socket path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
	if (make_parents(path) < 0)
		return 1;
	int r = take_lock(d, path);
	if (r != 0)
		return r;
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return pcond_fail("%s: exists and is not a socket: not removing it", path);
	if (lstat(path, &st) == 0 && unlink(path) < 0) /* a stale socket of a pcond that died */
		return pcond_fail("%s: cannot remove the stale socket: %s", path, strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	d->api.kind = EV_API_LISTEN;
	d->api.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->api.fd < 0)
		return pcond_fail("%s: cannot create the socket: %s", path, strerror(errno));
	/* Any local user may connect (access control is per request, by
	 * SO_PEERCRED): the file is made 0666 by bind itself. */
	mode_t old = umask(0111);
	r = bind(d->api.fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r < 0)
		return pcond_fail("%s: cannot create the socket: %s", path, strerror(e));
	if (stat(path, &st) == 0) {
		d->sock_dev = st.st_dev;
		d->sock_ino = st.st_ino;
		d->socket_path = path;
	}
	if (listen(d->api.fd, SOMAXCONN) < 0 || pcond_epoll_add(d, &d->api) < 0)
		return pcond_fail("%s: %s", path, strerror(errno));
	return 0;
}

/* Remove the socket file if it is still ours (another pcond may have bound
 * the path since), then the lock file if it is still ours, then drop the
 * lock. */
void listen_api_close(struct pcond *d)
{
	struct stat st, lk;
	if (d->socket_path && lstat(d->socket_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == d->sock_dev && st.st_ino == d->sock_ino)
		(void)unlink(d->socket_path);
	d->socket_path = NULL;
	if (d->lock_path && d->lock_fd >= 0 && fstat(d->lock_fd, &lk) == 0 &&
	    lstat(d->lock_path, &st) == 0 && st.st_dev == lk.st_dev && st.st_ino == lk.st_ino)
		(void)unlink(d->lock_path);
	free(d->lock_path);
	d->lock_path = NULL;
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
	if (d->api.fd >= 0)
		close(d->api.fd);
	d->api.fd = -1;
}

/* "[ADDR:]PORT", "[v6addr]:PORT"; ADDR defaults to loopback. */
int listen_http(struct pcond *d, const char *spec)
{
	char host[256] = "127.0.0.1", port[32];
	const char *colon = strrchr(spec, ':');
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host))
			return pcond_fail("--metrics: %s: expected [ADDR]:PORT", spec);
		snprintf(host, sizeof(host), "%.*s", (int)(close - spec - 1), spec + 1);
		colon = close + 1;
	} else if (colon && colon != spec) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return pcond_fail("--metrics: %s: address too long", spec);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	}
	snprintf(port, sizeof(port), "%s", colon ? colon + 1 : spec);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	int r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return pcond_fail("--metrics: %s: %s", spec, gai_strerror(r));
	d->http.kind = EV_HTTP_LISTEN;
	d->http.fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (d->http.fd >= 0)
		(void)setsockopt(d->http.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (d->http.fd < 0 || bind(d->http.fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(d->http.fd, 64) < 0 || pcond_epoll_add(d, &d->http) < 0) {
		r = errno;
		freeaddrinfo(ai);
		return pcond_fail("--metrics: %s: cannot listen: %s", spec, strerror(r));
	}
	freeaddrinfo(ai);
	return 0;
}

