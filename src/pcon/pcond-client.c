/* A client of pcond's line protocol (man pcond(8), PROTOCOL). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pcond-client.h"

#define DEFAULT_SOCKET "/run/pcon/pcond.sock"
#define REPLY_MAX (64u << 20)
#define TIMEOUT_MS 10000

const char *pcond_socket(const struct cli *c)
{
	return c->socket && *c->socket ? c->socket : DEFAULT_SOCKET;
}

/* Connect to pcond; a negative errno on failure. */
int pcond_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Send one request and read the reply up to its "ok"/"err" line. */
int pcond_ask(int fd, const char *req, char **ret)
{
	size_t len = strlen(req);
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		buf[n] = '\0';
		/* the final line starts at the start or after a newline */
		char *last = n && buf[n - 1] == '\n' ? memrchr(buf, '\n', n - 1) : NULL;
		last = last ? last + 1 : buf;
		if (n && buf[n - 1] == '\n' && (!strncmp(last, "ok", 2) || !strncmp(last, "err ", 4)))
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, TIMEOUT_MS);
		if (r == 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (n + 1 >= cap) {
			char *nb = cap < REPLY_MAX ? realloc(buf, cap *= 2) : NULL;
			if (!nb) {
				free(buf);
				return -ENOBUFS;
			}
			buf = nb;
		}
		ssize_t k = recv(fd, buf + n, cap - n - 1, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(buf);
			return k < 0 ? -errno : -ECONNRESET;
		}
		n += (size_t)k;
	}
	*ret = buf;
	return 0;
}
