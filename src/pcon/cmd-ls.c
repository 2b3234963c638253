/* pcon ls: the tree of containers, optionally with their tasks. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static inline void freep_(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(freep_)))

struct ls {
	struct cli *c;
	bool tasks;
	struct json j;
	bool json;
	int unreadable;     /* children listed but not opened */
};

static void ls_help(void)
{
	printf("Usage: pcon ls [-t] [--json] [HIER:PATH...]\n\n"
	       "Show the tree of containers below each container named (default: the\n"
	       "root of every hierarchy).\n\n"
	       "  -t, --tasks  show each container's processes (pid and command line)\n"
	       "  --json       one JSON array of nested {hierarchy, path, id, tasks, children}\n\n"
	       "Names are printed escaped (\\\\, \\t, \\n, \\xHH), as pcon accepts them back.\n"
	       "A container that exists but cannot be opened (a file system mounted over\n"
	       "it, without CAP_DAC_READ_SEARCH) is listed as 'NAME (unreadable)', or with\n"
	       "an \"error\" member in JSON, reported on stderr, and the exit status is 1.\n");
}

/* A process's command line for display: NULs as spaces, control bytes as '?',
 * "[comm]" for kernel threads. */
static void task_command(int proc_fd, pid_t pid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "%d/cmdline", (int)pid);
	ssize_t n = -1;
	int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(path, sizeof(path), "%d/comm", (int)pid);
		fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
		char comm[64] = "?";
		if (fd >= 0) {
			ssize_t m = read(fd, comm, sizeof(comm) - 1);
			comm[m > 0 ? m : 0] = '\0';
			comm[strcspn(comm, "\n")] = '\0';
			close(fd);
		}
		snprintf(buf, size, "[%s]", comm);
		n = (ssize_t)strlen(buf);
	}
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
		else if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n] = '\0';
}

static void print_tasks(struct ls *l, const struct pcon_container *ct, const char *prefix,
			pid_t *pids, int n, bool more)
{
	char cmd[256];
	for (int i = 0; i < n; i++) {
		task_command(pcon_proc_fd(l->c->p), pids[i], cmd, sizeof(cmd));
		if (l->json) {
			json_obj_begin(&l->j, NULL);
			json_u64(&l->j, "pid", (uint64_t)pids[i]);
			json_str(&l->j, "command", cmd);
			json_obj_end(&l->j);
		} else
			printf("%s%s%d %s\n", prefix, (i + 1 < n || more) ? "├─" : "└─", (int)pids[i], cmd);
	}
	(void)ct;
}

/* A child that exists but cannot be opened: listed, marked, reported. */
static void unreadable(struct ls *l, const struct pcon_container *ct, const char *name,
		       const char *prefix, bool last, int err)
{
	_cleanup_free_ char *path = NULL, *esc = NULL;
	if (asprintf(&path, "%s/%s", strcmp(ct->path, "/") ? ct->path : "", name) < 0)
		path = NULL;
	const char *full = cli_spec_name(ct->hier, path ? path : name);
	if (l->json) {
		json_obj_begin(&l->j, NULL);
		json_name(&l->j, "hierarchy", ct->hier->name);
		json_name(&l->j, "path", path);
		json_str(&l->j, "error", cli_strerror(err));
		json_obj_end(&l->j);
	} else {
		(void)pcon_escape_name_dup(name, &esc);
		printf("%s%s%s (unreadable)\n", prefix, last ? "└─" : "├─", esc ? esc : "?");
	}
	cli_errno(full, err);
	l->unreadable++;
}

/* Print ct's tasks and children below a line already printed; recursive. */
static int walk(struct ls *l, const struct pcon_container *ct, const char *prefix)
{
	pid_t *pids = NULL;
	char **kids = NULL;
	int n_pids = l->tasks ? pcon_container_tasks(ct, false, &pids) : 0;
	int n_kids = pcon_container_children(ct, &kids);
	if (n_pids < 0 || n_kids < 0) {
		int err = n_pids < 0 ? n_pids : n_kids;
		free(pids);
		pcon_strv_free(kids);
		return err == -ENOENT ? 0 : err; /* removed while we looked: skip it */
	}
	if (l->json) {
		json_name(&l->j, "hierarchy", ct->hier->name);
		json_name(&l->j, "path", ct->path);
		json_u64(&l->j, "id", ct->id);
		if (l->tasks) {
			json_arr_begin(&l->j, "tasks");
			print_tasks(l, ct, prefix, pids, n_pids, false);
			json_arr_end(&l->j);
		}
		json_arr_begin(&l->j, "children");
	} else
		print_tasks(l, ct, prefix, pids, n_pids, n_kids > 0);
	free(pids);

	int r = 0;
	size_t plen = strlen(prefix);
	_cleanup_free_ char *sub = malloc(plen + sizeof("│ "));
	if (!sub)
		r = -ENOMEM;
	for (int i = 0; i < n_kids && r == 0; i++) {
		struct pcon_container *kid;
		bool last = i + 1 == n_kids;
		int k = pcon_container_open_child(ct, kids[i], &kid);
		if (k == -ENOENT)
			continue; /* removed since it was listed */
		if (k < 0) {
			unreadable(l, ct, kids[i], prefix, last, k);
			continue;
		}
		memcpy(sub, prefix, plen);
		strcpy(sub + plen, last ? "  " : "│ ");
		if (l->json)
			json_obj_begin(&l->j, NULL);
		else {
			_cleanup_free_ char *esc = NULL;
			(void)pcon_escape_name_dup(kids[i], &esc);
			printf("%s%s%s\n", prefix, last ? "└─" : "├─", esc ? esc : "?");
		}
		r = walk(l, kid, sub);
		if (l->json)
			json_obj_end(&l->j);
		pcon_container_free(kid);
	}
	if (l->json)
		json_arr_end(&l->j);
	pcon_strv_free(kids);
	return r;
}

static int ls_one(struct ls *l, const struct pcon_container *ct)
{
	if (l->json)
		json_obj_begin(&l->j, NULL);
	else
		printf("%s\n", cli_name(ct));
	int r = walk(l, ct, "");
	if (l->json)
		json_obj_end(&l->j);
	return r < 0 ? cli_errno(cli_name(ct), r) : 0;
}

/* The root container of every hierarchy that can be opened. */
static int open_roots(struct cli *c, struct pcon_container ***ret)
{
	size_t nh;
	const struct pcon_hier *h = pcon_hiers(c->p, &nh);
	struct pcon_container **v = calloc(nh + 1, sizeof(*v));
	if (!v)
		return cli_fail("ls", "out of memory"), -1;
	int n = 0;
	for (size_t i = 0; i < nh; i++)
		if (pcon_container_open(&h[i], "/", &v[n]) == 0)
			n++;
	*ret = v;
	return n;
}

int cmd_ls(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tasks", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ls l = { .c = c, .j = { .f = stdout } };
	int o;
	while ((o = getopt_long(argc, argv, "th", opts, NULL)) != -1) {
		switch (o) {
		case 't': l.tasks = true; break;
		case 'j': l.json = true; break;
		case 'h': ls_help(); return 0;
		default: return cli_bad_option(argv[0], argv);
		}
	}
	/* Open everything first, so a bad name prints nothing else. */
	struct pcon_container **cts;
	int n = optind < argc ? cli_open_specs(c, argv + optind, argc - optind, &cts)
			      : open_roots(c, &cts);
	if (n < 0)
		return 1;
	int rc = 0;
	if (l.json)
		json_arr_begin(&l.j, NULL);
	for (int i = 0; i < n && rc == 0; i++) {
		if (i > 0 && !l.json)
			printf("\n");
		rc = ls_one(&l, cts[i]);
	}
	if (l.json) {
		json_arr_end(&l.j);
		json_done(&l.j);
	}
	cli_free_specs(cts, n);
	return rc == 0 && l.unreadable ? 1 : rc;
}
