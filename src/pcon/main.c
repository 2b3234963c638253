/* pcon: process containers and per-container statistics. */
#include <errno.h>
#include <getopt.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PCON_VERSION "0.1.0"

static const struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "hierarchies", cmd_hierarchies, "list the mounted cgroup hierarchies" },
	{ "ls", cmd_ls, "show the tree of containers" },
	{ "create", cmd_create, "create containers (and missing parents)" },
	{ "remove", cmd_remove, "remove containers (-r: with their children)" },
	{ "attach", cmd_attach, "move processes or threads into a container" },
	{ "exec", cmd_exec, "run a command inside containers" },
	{ "tasks", cmd_tasks, "list the processes or threads of containers" },
	{ "apply", cmd_apply, "make containers, knobs and owners as a file says" },
	{ "snapshot", cmd_snapshot, "write the live containers in the format apply reads" },
	{ "classify", cmd_classify, "move processes where the placement rules say" },
	{ "get", cmd_get, "read subsystem knobs" },
	{ "set", cmd_set, "write subsystem knobs" },
	{ "stats", cmd_stats, "task-state statistics of containers" },
	{ "pressure", cmd_pressure, "pressure stall information of containers (v2) and the machine" },
	{ "loadavg", cmd_loadavg, "load averages of containers (asks pcond)" },
	{ "events", cmd_events, "print fork, exec, exit, moves and emptiness as they happen" },
	{ "top", cmd_top, "live view of containers: tasks by state, CPU, memory" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pcon [-s PATH] COMMAND [ARGS...]\n\n"
		   "Process containers on the kernel's cgroup v1 and v2 hierarchies.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nContainers are named HIER:PATH (cpu:/web, cpu,memory:/web, unified:/web);\n"
		   "a bare /PATH means the default hierarchy (the v2 one if mounted).\n"
		   "'pcon COMMAND --help' describes a command; 'man pcon' describes all.\n\n"
		   "Options:\n"
		   "  -s, --socket PATH  pcond's socket (default $PCON_SOCKET or /run/pcon/pcond.sock)\n"
		   "  -h, --help         show this help\n"
		   "  -V, --version      show the version\n"
		   "The same option letter means the same thing in every command (see\n"
		   "CONVENTIONS in 'man pcon').\n");
}

static struct rlimit nofile_at_start;

/* The proc backend keeps per-thread stat files open between samples: take
 * every descriptor the hard limit allows (what systemd does for itself). */
static void raise_nofile(void)
{
	if (getrlimit(RLIMIT_NOFILE, &nofile_at_start) < 0)
		return;
	struct rlimit rl = nofile_at_start;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

void cli_restore_nofile(void)
{
	if (nofile_at_start.rlim_max)
		setrlimit(RLIMIT_NOFILE, &nofile_at_start);
}

int main(int argc, char **argv)
{
	raise_nofile();
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "socket", required_argument, NULL, 's' },
		{ 0 },
	};
	struct cli c = { .socket = getenv("PCON_SOCKET") };
	int o;
	opterr = 0; /* pcon says it in its one-line form */
	while ((o = getopt_long(argc, argv, "+:hVs:", opts, NULL)) != -1) {
		switch (o) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pcon %s\n", PCON_VERSION);
			return 0;
		case 's':
			c.socket = optarg;
			break;
		case ':':
			fprintf(stderr, "pcon: option '%s' needs a value (try 'pcon --help')\n", argv[optind - 1]);
			return 2;
		default:
			if (optopt > 0)
				fprintf(stderr, "pcon: invalid option '-%c' (try 'pcon --help')\n", optopt);
			else
				fprintf(stderr, "pcon: invalid option '%s' (try 'pcon --help')\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "pcon: %s: unknown command (try 'pcon --help')\n", name);
		return 2;
	}

	/* --help must work even where no cgroup file system is mounted. */
	bool help = false;
	/* exec's options end at its container: "-h" after it is the command's */
	bool stops = cmd->run == cmd_exec || cmd->run == cmd_attach;
	for (int i = optind + 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (stops && argv[i][0] != '-')
			break;
		help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
	}

	/* PCON_SYSROOT points pcon at a fake /proc and cgroup tree (for tests). */
	int r = help ? 0 : pcon_open(getenv("PCON_SYSROOT"), &c.p);
	if (r == -ENOMEDIUM)
		return cli_fail(name, "no cgroup file system is mounted "
				      "(no cgroup or cgroup2 entry in /proc/self/mountinfo)");
	if (r < 0)
		return cli_fail(name, "cannot read the cgroup hierarchies: %s", strerror(-r));

	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* full getopt reset for the subcommand */
	opterr = 0; /* subcommands report bad options in pcon's one-line form */
	int rc = cmd->run(&c, sub_argc, sub_argv);
	pcon_close(c.p);
	if (fflush(stdout) != 0 && rc == 0)
		rc = cli_fail(name, "write error: %s", strerror(errno));
	return rc;
}
