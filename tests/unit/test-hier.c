/* Unit tests: hierarchy discovery, container names, handles on fake trees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcontest.h"
#include "internal.h"
#include <fcntl.h>

/* This machine's layout: v1 controllers one per mount, a named v1, v2 beside. */
static const char hybrid_mi[] =
	"22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime master:3 shared:7 - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
	"42 31 0:36 / /mnt/pids\\040again rw,relatime - cgroup cgroup rw,pids\n";
static const char hybrid_cgroups[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t3\t1\t1\ncpu\t1\t1\t1\ncpuacct\t1\t1\t1\npids\t8\t1\t1\nhugetlb\t0\t1\t1\n";

static const char pure_v2_mi[] =
	"22 28 0:21 / /proc rw - proc proc rw\n"
	"30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

static const char no_cgroup_mi[] =
	"22 28 0:21 / /proc rw - proc proc rw\n"
	"23 28 0:22 / /sys rw - sysfs sysfs rw\n";

struct fx {
	char *root;
	struct pcon *p;
};

static struct fx *fake(const char *mi, const char *cgroups, const char *const *dirs)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->root = pt_tmpdir();
	pt_write(f->root, "proc/self/mountinfo", mi);
	if (cgroups)
		pt_write(f->root, "proc/cgroups", cgroups);
	for (; dirs && *dirs; dirs++)
		pt_mkdir(f->root, *dirs);
	return f;
}

static void fx_free(struct fx *f)
{
	pcon_close(f->p);
	pt_rmtree(f->root);
	free(f->root);
	free(f);
}

static const char *const hybrid_dirs[] = {
	"sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpuset", "sys/fs/cgroup/pids",
	"sys/fs/cgroup/systemd", "sys/fs/cgroup/unified", NULL,
};

static struct fx *hybrid(void)
{
	struct fx *f = fake(hybrid_mi, hybrid_cgroups, hybrid_dirs);
	pt_write(f->root, "sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
	/* /proc/cgroups lists controllers only: a named hierarchy's id is here */
	pt_write(f->root, "proc/self/cgroup", "9:name=systemd:/\n8:pids:/\n1:cpu,cpuacct:/\n0::/\n");
	assert_int_equal(pcon_open(f->root, &f->p), 0);
	return f;
}

static void test_hybrid_layout(void **state)
{
	(void)state;
	struct fx *f = hybrid();
	size_t n;
	const struct pcon_hier *h = pcon_hiers(f->p, &n);
	assert_int_equal(n, 5); /* the second pids mount is the same hierarchy */
	assert_string_equal(h[0].name, "cpu,cpuacct");
	assert_int_equal(h[0].version, 1);
	assert_int_equal(h[0].id, 1);
	assert_true(pcon_hier_has(&h[0], "cpu") && pcon_hier_has(&h[0], "cpuacct"));
	assert_string_equal(h[1].name, "cpuset");
	assert_false(pcon_hier_has(&h[1], "clone_children"));
	assert_int_equal(h[2].id, 8);
	assert_string_equal(h[3].name, "systemd");
	assert_string_equal(h[3].named, "systemd");
	assert_int_equal(h[3].id, 9);
	assert_null(h[3].controllers);
	assert_string_equal(h[4].name, "unified");
	assert_int_equal(h[4].version, 2);
	assert_true(pcon_hier_has(&h[4], "hugetlb"));
	assert_ptr_equal(pcon_hier_default(f->p), &h[4]);
	fx_free(f);
}

static void test_pure_v2_layout(void **state)
{
	(void)state;
	static const char *const dirs[] = { "sys/fs/cgroup", NULL };
	struct fx *f = fake(pure_v2_mi, NULL, dirs);
	pt_write(f->root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	assert_int_equal(pcon_open(f->root, &f->p), 0);
	size_t n;
	const struct pcon_hier *h = pcon_hiers(f->p, &n);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].version, 2);
	assert_string_equal(h[0].mount, "/sys/fs/cgroup");
	const struct pcon_hier *got;
	assert_int_equal(pcon_hier_find(f->p, "memory", &got), 0);
	assert_ptr_equal(got, &h[0]);
	assert_int_equal(pcon_hier_find(f->p, "unified", &got), 0);
	assert_int_equal(pcon_hier_find(f->p, "freezer", &got), 0); /* core v2 file */
	assert_int_equal(pcon_hier_find(f->p, "rdma", &got), -ENODEV);
	fx_free(f);
}

static void test_no_cgroup_fs(void **state)
{
	(void)state;
	struct fx *f = fake(no_cgroup_mi, NULL, NULL);
	assert_int_equal(pcon_open(f->root, &f->p), -ENOMEDIUM);
	assert_null(f->p);
	fx_free(f);
}

static void test_options_without_proc_cgroups(void **state)
{
	(void)state;
	struct fx *f = fake(hybrid_mi, NULL, hybrid_dirs);
	assert_int_equal(pcon_open(f->root, &f->p), 0);
	size_t n;
	const struct pcon_hier *h = pcon_hiers(f->p, &n);
	assert_int_equal(n, 5);
	assert_string_equal(h[1].name, "cpuset"); /* clone_children is not a controller */
	assert_string_equal(h[3].name, "systemd"); /* xattr is not either */
	assert_int_equal(h[0].id, 0);
	fx_free(f);
}

static void test_escaped_mount_point(void **state)
{
	(void)state;
	static const char mi[] = "1 0 0:40 / /a\\040b\\134c rw - cgroup cgroup rw,memory\n";
	static const char *const dirs[] = { "a b\\c", NULL };
	struct fx *f = fake(mi, NULL, dirs);
	assert_int_equal(pcon_open(f->root, &f->p), 0);
	size_t n;
	const struct pcon_hier *h = pcon_hiers(f->p, &n);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].mount, "/a b\\c");
	assert_true(h[0].root_fd >= 0);
	fx_free(f);
}

static void test_spec_parse(void **state)
{
	(void)state;
	struct fx *f = hybrid();
	size_t n;
	const struct pcon_hier *h = pcon_hiers(f->p, &n);
	struct pcon_spec s;

	assert_int_equal(pcon_spec_parse(f->p, "cpu:/web", &s), 0);
	assert_int_equal(s.n, 1);
	assert_ptr_equal(s.hiers[0], &h[0]);
	assert_string_equal(s.path, "/web");
	pcon_spec_done(&s);

	/* cpu and cpuacct share one hierarchy: listed once */
	assert_int_equal(pcon_spec_parse(f->p, "cpu,cpuacct,cpuset:web//a/", &s), 0);
	assert_int_equal(s.n, 2);
	assert_ptr_equal(s.hiers[1], &h[1]);
	assert_string_equal(s.path, "/web/a");
	pcon_spec_done(&s);

	assert_int_equal(pcon_spec_parse(f->p, "/web:x", &s), 0); /* bare path */
	assert_ptr_equal(s.hiers[0], &h[4]);
	assert_string_equal(s.path, "/web:x");
	pcon_spec_done(&s);

	assert_int_equal(pcon_spec_parse(f->p, "name=systemd:/", &s), 0);
	assert_ptr_equal(s.hiers[0], &h[3]);
	assert_string_equal(s.path, "/");
	pcon_spec_done(&s);

	assert_int_equal(pcon_spec_parse(f->p, "numtasks:/x", &s), 0);
	assert_ptr_equal(s.hiers[0], &h[2]);
	pcon_spec_done(&s);

	assert_int_equal(pcon_spec_parse(f->p, "nosuch:/x", &s), -ENODEV);
	assert_int_equal(pcon_spec_parse(f->p, "cpu,nosuch:/x", &s), -ENODEV);
	assert_int_equal(pcon_spec_parse(f->p, "memory:/x", &s), -ENODEV); /* not mounted */
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a/../b", &s), -EINVAL);
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a/./b", &s), -EINVAL);
	/* Any byte but '/' and NUL is a name byte; a backslash starts an escape. */
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\tb\x7f c", &s), 0);
	assert_string_equal(s.path, "/a\tb\x7f c");
	pcon_spec_done(&s);
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\\tb/\\xff\\\\/q\\n", &s), 0);
	assert_string_equal(s.path, "/a\tb/\xff\\/q\n");
	pcon_spec_done(&s);
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\\", &s), -EINVAL);     /* lone '\' */
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\\q", &s), -EINVAL);    /* unknown escape */
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\\x2fb", &s), -EINVAL); /* no name holds '/' */
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\\x00", &s), -EINVAL);
	assert_int_equal(pcon_spec_parse(f->p, "cpu:/a\\x4", &s), -EINVAL);
	/* cgroupfs takes components over NAME_MAX: up to what one mkdir path holds */
	char *long_name = malloc(4096 + 6);
	assert_non_null(long_name);
	memset(long_name, 'a', 4096 + 5);
	memcpy(long_name, "cpu:/", 5);
	long_name[4095 + 5] = '\0';
	assert_int_equal(pcon_spec_parse(f->p, long_name, &s), 0);
	assert_int_equal(strlen(s.path), 4096);
	pcon_spec_done(&s);
	long_name[4095 + 5] = 'a';
	long_name[4096 + 5] = '\0';
	assert_int_equal(pcon_spec_parse(f->p, long_name, &s), -ENAMETOOLONG);
	free(long_name);
	/* and no limit on the whole path (deep trees exceed PATH_MAX) */
	char *long_path = malloc(5000);
	assert_non_null(long_path);
	for (int i = 0; i < 2500; i++)
		memcpy(long_path + 2 * i, "/a", 2);
	long_path[5000 - 1] = '\0';
	assert_int_equal(pcon_spec_parse(f->p, long_path, &s), 0);
	assert_int_equal(strlen(s.path), 4998); /* the trailing '/' folded */
	pcon_spec_done(&s);
	free(long_path);
	fx_free(f);
}

static void test_container_open(void **state)
{
	(void)state;
	struct fx *f = hybrid();
	const struct pcon_hier *h;
	assert_int_equal(pcon_hier_find(f->p, "unified", &h), 0);
	pt_mkdir(f->root, "sys/fs/cgroup/unified/web/db");
	pt_write(f->root, "sys/fs/cgroup/unified/web/cgroup.procs", "30\n10\n20\n10\n");
	pt_write(f->root, "sys/fs/cgroup/unified/web/cgroup.threads", "30\n31\n10\n20\n");
	pt_write(f->root, "sys/fs/cgroup/unified/web/file", "");
	char target[4200], link[4200];
	snprintf(target, sizeof(target), "%s/proc", f->root);
	snprintf(link, sizeof(link), "%s/sys/fs/cgroup/unified/escape", f->root);
	assert_int_equal(symlink(target, link), 0);
	snprintf(link, sizeof(link), "%s/sys/fs/cgroup/unified/web/inner", f->root);
	assert_int_equal(symlink("db", link), 0);

	struct pcon_container *c;
	assert_int_equal(pcon_container_open(h, "/web", &c), 0);
	assert_string_equal(c->path, "/web");
	assert_true(c->fd >= 0 && c->id != 0);
	pid_t *pids;
	assert_int_equal(pcon_container_tasks(c, false, &pids), 3);
	assert_int_equal(pids[0], 10);
	assert_int_equal(pids[2], 30);
	free(pids);
	assert_int_equal(pcon_container_tasks(c, true, &pids), 4);
	free(pids);
	char **kids;
	assert_int_equal(pcon_container_children(c, &kids), 1); /* not the symlink, not the file */
	assert_string_equal(kids[0], "db");
	pcon_strv_free(kids);
	struct pcon_container *child;
	assert_int_equal(pcon_container_open_child(c, "db", &child), 0);
	assert_string_equal(child->path, "/web/db");
	pcon_container_free(child);
	/* Names with any byte but '/' are listed and opened (a tab, 0xFF; tmpfs
	 * stops at NAME_MAX, cgroupfs does not: tests/cli/names.sh goes over). */
	char odd[256];
	memset(odd, 'n', sizeof(odd));
	odd[sizeof(odd) - 1] = '\0';
	const char *const names[] = { "t\tab", "ff\xff", "q\"\\", odd };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(mkdirat(c->fd, names[i], 0755), 0);
	assert_int_equal(pcon_container_children(c, &kids), 5);
	pcon_strv_free(kids);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pcon_container_open_child(c, names[i], &child), 0);
		assert_memory_equal(child->path, "/web/", 5);
		assert_string_equal(child->path + 5, names[i]);
		struct pcon_container *again;
		assert_int_equal(pcon_container_open(h, child->path, &again), 0);
		assert_int_equal(again->id, child->id);
		pcon_container_free(again);
		pcon_container_free(child);
		assert_int_equal(unlinkat(c->fd, names[i], AT_REMOVEDIR), 0);
	}
	/* A path longer than PATH_MAX is opened one level at a time. */
	int fd = dup(c->fd);
	char *deep = calloc(1, 20 * 251 + 1);
	assert_true(fd >= 0 && deep);
	char comp[251];
	memset(comp, 'd', 250);
	comp[250] = '\0';
	for (int i = 0; i < 20; i++) {
		assert_int_equal(mkdirat(fd, comp, 0755), 0);
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
		strcat(deep, "/");
		strcat(deep, comp);
	}
	close(fd);
	char *full = NULL;
	assert_true(asprintf(&full, "/web%s", deep) > 0);
	assert_int_equal(pcon_container_open(h, full, &child), 0);
	assert_string_equal(child->path, full);
	pcon_container_free(child);
	free(full);
	free(deep);
	assert_int_equal(pcon_container_open_child(c, "inner", &child), -ELOOP);
	assert_int_equal(pcon_container_open_child(c, "..", &child), -EINVAL);
	assert_int_equal(pcon_container_open_child(c, "a/b", &child), -EINVAL);
	pcon_container_free(c);

	assert_int_equal(pcon_container_open(h, "/", &c), 0);
	assert_string_equal(c->path, "/");
	pcon_container_free(c);
	assert_int_equal(pcon_container_open(h, "/nosuch", &c), -ENOENT);
	assert_int_equal(pcon_container_open(h, "/escape", &c), -ELOOP);
	assert_int_equal(pcon_container_open(h, "/escape/self", &c), -ELOOP);
	assert_int_equal(pcon_container_open(h, "/web/inner", &c), -ELOOP);
	assert_int_equal(pcon_container_open(h, "/web/file", &c), -ENOTDIR);
	assert_int_equal(pcon_container_open(h, "/web/../..", &c), -EINVAL);
	fx_free(f);
}

/* Without openat2 the component walk confines opens exactly as openat2 does. */
static void test_open_beneath_walk(void **state)
{
	(void)state;
	struct fx *f = hybrid();
	const struct pcon_hier *h;
	assert_int_equal(pcon_hier_find(f->p, "unified", &h), 0);
	pt_mkdir(f->root, "sys/fs/cgroup/unified/web/db");
	pt_write(f->root, "sys/fs/cgroup/unified/web/file", "");
	char target[4200], link[4200];
	snprintf(target, sizeof(target), "%s/proc", f->root);
	snprintf(link, sizeof(link), "%s/sys/fs/cgroup/unified/escape", f->root);
	assert_int_equal(symlink(target, link), 0);
	snprintf(link, sizeof(link), "%s/sys/fs/cgroup/unified/web/inner", f->root);
	assert_int_equal(symlink("db", link), 0);

	static const char *const paths[] = {
		".", "web", "web/db", "web//db/", "./web", "escape", "escape/self",
		"web/inner", "web/inner/x", "web/file", "web/file/x", "nosuch", "web/nosuch/x",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int a = open_beneath(h->root_fd, paths[i], O_RDONLY | O_DIRECTORY);
		int b = open_beneath_walk(h->root_fd, paths[i], O_RDONLY | O_DIRECTORY);
		if (a < 0 || b < 0) {
			print_message("%s: openat2 %d, walk %d\n", paths[i], a, b);
			assert_int_equal(a, b);
			continue;
		}
		struct stat sa, sb;
		assert_int_equal(fstat(a, &sa), 0);
		assert_int_equal(fstat(b, &sb), 0);
		assert_true(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
		close(a);
		close(b);
	}
	assert_int_equal(open_beneath_walk(h->root_fd, "web/..", O_RDONLY | O_DIRECTORY), -EXDEV);
	assert_int_equal(open_beneath_walk(h->root_fd, "..", O_RDONLY | O_DIRECTORY), -EXDEV);
	fx_free(f);
}

static void test_container_create(void **state)
{
	(void)state;
	struct fx *f = hybrid();
	const struct pcon_hier *h;
	assert_int_equal(pcon_hier_find(f->p, "unified", &h), 0);
	struct pcon_container *c;
	assert_int_equal(pcon_container_create(h, "/a/b/c", &c), 3);
	assert_string_equal(c->path, "/a/b/c");
	pcon_container_free(c);
	assert_int_equal(pcon_container_create(h, "/a/b/c", &c), 0);
	pcon_container_free(c);
	assert_int_equal(pcon_container_create(h, "/a/d", &c), 1);
	pcon_container_free(c);
	pt_write(f->root, "sys/fs/cgroup/unified/a/file", "");
	assert_int_equal(pcon_container_create(h, "/a/file/x", &c), -ENOTDIR);

	/* A fake v1 cpuset dir has no cpuset.cpus, so inheriting fails: the
	 * levels made by that call are removed, the ones before it stay. */
	assert_int_equal(pcon_hier_find(f->p, "cpuset", &h), 0);
	pt_mkdir(f->root, "sys/fs/cgroup/cpuset/old");
	assert_int_equal(pcon_container_create(h, "/old/new/deeper", &c), -ENOENT);
	struct stat st;
	char path[4200];
	snprintf(path, sizeof(path), "%s/sys/fs/cgroup/cpuset/old/new", f->root);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/sys/fs/cgroup/cpuset/old", f->root);
	assert_int_equal(stat(path, &st), 0);
	fx_free(f);
}

static void test_root_cannot_be_removed(void **state)
{
	(void)state;
	struct fx *f = hybrid();
	const struct pcon_hier *h;
	assert_int_equal(pcon_hier_find(f->p, "unified", &h), 0);
	assert_int_equal(pcon_container_remove(h, "/", true), -EPERM);
	assert_int_equal(pcon_container_remove(h, "//", false), -EPERM);
	assert_int_equal(pcon_container_remove(h, "/nosuch", false), -ENOENT);
	assert_int_equal(pcon_container_remove(h, "/..", false), -EINVAL);
	fx_free(f);
}

static char *slurp(const char *root, const char *rel)
{
	char path[4200], *buf = calloc(1, 256);
	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	(void)!fread(buf, 1, 255, f);
	fclose(f);
	return buf;
}

static void test_v2_enable(void **state)
{
	(void)state;
	static const char *const dirs[] = { "sys/fs/cgroup/a/b", NULL };
	struct fx *f = fake(pure_v2_mi, NULL, dirs);
	pt_write(f->root, "sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
	pt_write(f->root, "sys/fs/cgroup/cgroup.subtree_control", "memory\n");
	pt_write(f->root, "sys/fs/cgroup/a/cgroup.subtree_control", "");
	assert_int_equal(pcon_open(f->root, &f->p), 0);
	const struct pcon_hier *h = pcon_hier_default(f->p);
	char *t;

	/* memory is on at the root already: only /a is written */
	assert_int_equal(pcon_container_enable(h, "/a/b", "memory"), 0);
	assert_string_equal(t = slurp(f->root, "sys/fs/cgroup/cgroup.subtree_control"), "memory\n");
	free(t);
	assert_string_equal(t = slurp(f->root, "sys/fs/cgroup/a/cgroup.subtree_control"), "+memory");
	free(t);
	/* numtasks is the pids controller */
	assert_int_equal(pcon_container_enable(h, "/a/b", "numtasks"), 0);
	assert_string_equal(t = slurp(f->root, "sys/fs/cgroup/cgroup.subtree_control"), "+pids");
	free(t);
	assert_int_equal(pcon_container_enable(h, "/a/b", "freezer"), 0); /* core file */
	assert_int_equal(pcon_container_enable(h, "/a/b", "rdma"), -EOPNOTSUPP);
	assert_int_equal(pcon_container_enable(h, "/", "cpu"), 0); /* the root has no parent */

	/* A write that fails below undoes the writes above it. */
	pt_write(f->root, "sys/fs/cgroup/cgroup.subtree_control", "");
	char path[4200];
	snprintf(path, sizeof(path), "%s/sys/fs/cgroup/a/cgroup.subtree_control", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_true(pcon_container_enable(h, "/a/b", "cpu") < 0);
	assert_string_equal(t = slurp(f->root, "sys/fs/cgroup/cgroup.subtree_control"), "-cpu");
	free(t);
	fx_free(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_hybrid_layout),
	cmocka_unit_test(test_pure_v2_layout),
	cmocka_unit_test(test_no_cgroup_fs),
	cmocka_unit_test(test_options_without_proc_cgroups),
	cmocka_unit_test(test_escaped_mount_point),
	cmocka_unit_test(test_spec_parse),
	cmocka_unit_test(test_container_open),
	cmocka_unit_test(test_open_beneath_walk),
	cmocka_unit_test(test_container_create),
	cmocka_unit_test(test_root_cannot_be_removed),
	cmocka_unit_test(test_v2_enable),
};

PCONTEST_MAIN(tests, NULL, NULL)
