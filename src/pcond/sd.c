/*
 * systemd's two small protocols, written out rather than linking
 * libsystemd: readiness (one datagram to $NOTIFY_SOCKET, sd_notify(3)) and
 * socket activation (listening sockets from fd 3 on, $LISTEN_FDS and
 * $LISTEN_PID, sd_listen_fds(3)). Both are stable, documented interfaces
 * of a few lines each; libsystemd would bring its own dependencies into a
 * daemon that needs nothing else of it, and pcond must also run where
 * systemd does not (the variables are then simply absent).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pcond.h"

#define LISTEN_FDS_START 3

void sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = path ? strlen(path) : 0;
	if (len == 0 || len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
		pcond_log(LOG_DEBUG, "%s: cannot notify: %s", path, strerror(errno));
	close(fd);
}

/* Sockets passed by the service manager for this process: the API's Unix
 * socket and the HTTP listener, told apart by their address family. */
int sd_listen(struct pcond *d)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	long n = strtol(fds, NULL, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (int fd = LISTEN_FDS_START; n > 0 && fd < LISTEN_FDS_START + n; fd++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int type = 0, acc = 0;
		socklen_t tl = sizeof(type), al = sizeof(acc);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) < 0 ||
		    type != SOCK_STREAM || !acc)
			return pcond_fail("socket activation: fd %d is not a listening stream socket", fd);
		struct listener *l = ss.ss_family == AF_UNIX ? &d->api : &d->http;
		if (l->fd >= 0)
			return pcond_fail("socket activation: more than one %s socket",
					  l == &d->api ? "Unix" : "TCP");
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		l->kind = l == &d->api ? EV_API_LISTEN : EV_HTTP_LISTEN;
		l->fd = fd;
		if (pcond_epoll_add(d, l) < 0)
			return pcond_fail("socket activation: %s", strerror(errno));
	}
	if (d->api.fd < 0)
		return pcond_fail("socket activation: no Unix socket among the %ld passed", n);
	d->activated = true;
	return 0;
}
