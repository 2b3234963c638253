/* A client of pcond's line protocol, shared by pcon's commands. */
#ifndef PCON_PCOND_CLIENT_H
#define PCON_PCOND_CLIENT_H

#include <stddef.h>

#include "cli.h"

/* The socket to use: --socket, $PCON_SOCKET, or the default. */
const char *pcond_socket(const struct cli *c);
/* Connect to pcond at path: the fd, or a negative errno. */
int pcond_connect(const char *path);
/* Send one request line and read the reply through its final ok/err line
 * (malloc'ed into *ret). A negative errno if pcond does not answer. */
int pcond_ask(int fd, const char *req, char **ret);
/* Value of key in a "container k=v ..." line, percent-decoded into out; NULL if absent. */
const char *pcond_field(const char *line, const char *key, char *out, size_t size);
/* Percent-encode what the protocol splits on (spaces, controls, '%', '='). */
void pcond_encode(const char *s, char *out, size_t size);

#endif
