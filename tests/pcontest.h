/* Shared helpers for pcon's cmocka tests (unit and integration). */
#ifndef PCONTEST_H
#define PCONTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pcon/pcon.h"

/* Skip the current test, saying why (the runner prints the reason). */
#define SKIP_BECAUSE(...)                                                                  \
	do {                                                                               \
		printf("# skip reason: ");                                                 \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		fflush(stdout);                                                            \
		skip();                                                                    \
		return;                                                                    \
	} while (0)

/* Run a group with TAP output (what tests/run reads). */
#define PCONTEST_MAIN(tests, setup, teardown)                                              \
	int main(void);                                                                    \
	int main(void)                                                                     \
	{                                                                                  \
		setenv("CMOCKA_MESSAGE_OUTPUT", "TAP", 1);                                 \
		return cmocka_run_group_tests(tests, setup, teardown) ? 1 : 0;             \
	}

/* The same for a group that needs real cgroups: where they cannot be used
 * here, the whole group is one skip that says why. */
#define PCONTEST_MAIN_ROOT(what, tests, setup, teardown)                                   \
	int main(void);                                                                    \
	int main(void)                                                                     \
	{                                                                                  \
		char why_[128];                                                            \
		setenv("CMOCKA_MESSAGE_OUTPUT", "TAP", 1);                                 \
		if (pt_need_root(why_, sizeof(why_))) {                                    \
			printf("1..1\n# skip reason: %s\nok 1 # SKIP %s\n", why_, what);   \
			return 0;                                                          \
		}                                                                          \
		return cmocka_run_group_tests(tests, setup, teardown) ? 1 : 0;             \
	}

/* ---- fake trees (unit tests) ---- */

/* A fresh temp dir; free() the result after pt_rmtree(). */
char *pt_tmpdir(void);
/* Write text to root/rel, creating parent directories. */
void pt_write(const char *root, const char *rel, const char *text);
/* mkdir -p root/rel */
void pt_mkdir(const char *root, const char *rel);
/* rm -rf */
void pt_rmtree(const char *path);

/* ---- real cgroups (integration tests) ---- */

/* "pcon-test-<pid>": the prefix of every container this test process makes. */
const char *pt_prefix(void);
/* Non-zero (and a reason in why) if real-cgroup tests cannot run here. */
int pt_need_root(char *why, size_t n);
/* Remove every container under pt_prefix() in every hierarchy; kills only
 * processes this test started that are still inside. Returns containers left. */
int pt_cleanup(void);
/* Remember a child pid so pt_cleanup() may kill it. */
void pt_track(pid_t pid);
/* Fork a child that runs body(arg) once it is inside every container of
 * cts[0..n) (the parent attaches it first; it dies with the test, and
 * pt_cleanup may kill it). body should not return; if it does, the child
 * exits 0. */
pid_t pt_spawn_in(const struct pcon_container *const *cts, size_t n, void (*body)(void *arg), void *arg);
/* Run a shell command (pcon CLI tests), capture stdout; returns exit status. */
int pt_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
