/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by libpcon's files; not part of the public API. */
#ifndef PCON_INTERNAL_H
#define PCON_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pcon/pcon.h"

#define _public_ __attribute__((visibility("default")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void strv_freep(char ***v) { pcon_strv_free(*v); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* The value of a hex digit, or -1 (inline: the fuzzer builds proto.c alone). */
static inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -EBADF; _t; })

/* -errno of the last failed call, never 0 (so a failure cannot read as success). */
static inline int negerrno(void) { return errno > 0 ? -errno : -EIO; }

struct taskstate_bpf;
struct mnl_socket;
struct statcache;

struct pcon {
	char *sysroot;            /* "" for the real machine */
	int proc_fd;
	size_t n_hiers;
	struct pcon_hier *hiers;
	/* Task-state backends' state, made on first use, freed by pcon_close. */
	struct {
		int bpf_err;                  /* 0 not tried, 1 loaded, <0 the loader's error */
		struct taskstate_bpf *skel;
		int walk;                     /* enum pcon_walk the loaded program runs */
		int want;                     /* the walk PCON_BPF_WALK asked for at pcon_open */
		void *recs;                   /* the records map, mapped read-only */
		size_t recs_size;
		uint32_t recs_max;
		struct statcache *stats;      /* proc: kept-open stat files */
		size_t fd_budget;             /* for them; SIZE_MAX: the default */
		struct mnl_socket *nl;        /* taskstats netlink socket */
		unsigned portid, seq;
		uint16_t family;
		bool query;                   /* bpf: query_css loaded (one container per bpf() call) */
		bool no_query;                /* PCON_BPF_WALK=css_task_iter: never load it */
		bool task_visit;              /* PCON_BPF_WALK=task_iter: the task walk by visits */
		bool task_all;                /* the task walk loaded is count_tasks_all */
		uint64_t n_query;             /* queries query_css answered (tests look) */
		bool query_tried;             /* the reload with query_css was tried */
		unsigned n_single;            /* single-container bpf queries so far */
	} ts;
};

/* libbpf's log hook is process-wide: libpcon sets it once to a silent one,
 * never swaps it per call (the library never prints; errors are returned). */
void libbpf_quiet(void);

/* taskstate-bpf.c: note at pcon_open which walk PCON_BPF_WALK forces. */
void taskstate_bpf_setup(struct pcon *p);
/* taskstate-bpf.c, taskstate-kernel.c: free what a handle's backends hold. */
void taskstate_bpf_release(struct pcon *p);
void taskstate_kernel_release(struct pcon *p);

/* util.c */
int read_text_at(int dirfd, const char *name, char **ret);
int write_text_at(int dirfd, const char *name, const char *text);
int open_beneath(int dirfd, const char *path, int flags);
int open_beneath_walk(int dirfd, const char *path, int flags); /* without openat2 */
int open_covered(int dirfd, const char *name, int flags); /* a directory a mount covers */
int parse_u64(const char *s, uint64_t *ret);
int parse_int(const char *s, int *ret);
char *strstrip(char *s);
int strv_push(char ***v, size_t *n, char *s);
bool strv_contains(char *const *v, const char *s);
int strcmp_ptr(const void *a, const void *b); /* qsort of char * */
int pid_list_parse(const char *text, pid_t **ret);
/* Open the directory dirfd names again, as a DIR of its own (dirfd stays
 * open and untouched). */
int opendir_at(int dirfd, DIR **ret);

/* mountinfo.c */
int hiers_parse_mountinfo(FILE *mountinfo, char *const *known_ctrls,
			  struct pcon_hier **ret, size_t *ret_n);
void hier_done(struct pcon_hier *h);

/* subsys.c */
const char *subsys_controller(const char *name, int version);
/* The name controller file (e.g. "cpuset.cpus") has in h: without its
 * "<controller>." prefix on a noprefix hierarchy (the legacy cpuset fs). */
const char *hier_file(const struct pcon_hier *h, const char *file);

#endif
