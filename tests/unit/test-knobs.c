/* Knobs on a fake cgroupfs: v1/v2 file mapping, converters, validation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcontest.h"

static char *root;
static struct pcon *P;

static const char mountinfo[] =
	"25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
	"30 25 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
	"31 25 0:28 / /sys/fs/cgroup/cpu rw,nosuid shared:11 - cgroup cgroup rw,cpu\n"
	"32 25 0:29 / /sys/fs/cgroup/cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpuacct\n"
	"33 25 0:30 / /sys/fs/cgroup/cpuset rw,nosuid shared:13 - cgroup cgroup rw,cpuset\n"
	"34 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory\n"
	"35 25 0:32 / /sys/fs/cgroup/pids rw,nosuid shared:15 - cgroup cgroup rw,pids\n"
	"36 25 0:33 / /sys/fs/cgroup/freezer rw,nosuid shared:16 - cgroup cgroup rw,freezer\n";

static const char proc_cgroups[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpu\t2\t1\t1\ncpuacct\t3\t1\t1\ncpuset\t4\t1\t1\nmemory\t5\t1\t1\n"
	"pids\t6\t1\t1\nfreezer\t7\t1\t1\n";

#define CG "sys/fs/cgroup/"

/* Write a cgroup file of the fake container "web" in hierarchy dir. */
static void put(const char *hier, const char *file, const char *text)
{
	char rel[512];
	snprintf(rel, sizeof(rel), CG "%s/web/%s", hier, file);
	pt_write(root, rel, text);
}

/* Contents of a cgroup file of "web" (static buffer). */
static const char *got(const char *hier, const char *file)
{
	static char buf[4096];
	char path[4096];
	snprintf(path, sizeof(path), "%s/" CG "%s/web/%s", root, hier, file);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	root = pt_tmpdir();
	pt_write(root, "proc/self/mountinfo", mountinfo);
	pt_write(root, "proc/cgroups", proc_cgroups);
	pt_write(root, "sys/devices/system/cpu/online", "0-3,6\n");
	/* no sys/devices/system/node: a kernel without NUMA */
	pt_write(root, CG "unified/cgroup.controllers", "cpuset cpu memory pids\n");
	pt_write(root, CG "unified/web/cgroup.controllers", "cpuset cpu memory\n");

	put("cpu", "cpu.shares", "1024\n");
	put("cpu", "cpu.cfs_quota_us", "-1\n");
	put("cpu", "cpu.cfs_period_us", "100000\n");
	put("cpu", "cpu.stat", "nr_periods 0\nnr_throttled 0\n");
	put("cpuacct", "cpuacct.usage", "123456789\n");
	put("cpuset", "cpuset.cpus", "0-3\n");
	put("cpuset", "cpuset.mems", "0\n");
	put("memory", "memory.limit_in_bytes", "9223372036854771712\n");
	put("memory", "memory.usage_in_bytes", "4096\n");
	put("pids", "pids.max", "max\n");
	put("pids", "pids.current", "3\n");
	put("freezer", "freezer.state", "THAWED\n");
	put("unified", "cpu.weight", "100\n");
	put("unified", "cpu.max", "max 100000\n");
	put("unified", "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	put("unified", "cpuset.cpus", "\n");
	put("unified", "cpuset.mems", "\n");
	put("unified", "memory.max", "max\n");
	put("unified", "memory.current", "8192\n");
	put("unified", "cgroup.freeze", "0\n");
	put("unified", "cgroup.events", "populated 1\nfrozen 0\n");
	char rel[256];
	snprintf(rel, sizeof(rel), "%s/" CG "cpu/web/child", root);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "%s/" CG "cpu/web/cpu.stat", root);
	assert_int_equal(chmod(rel, 0444), 0);
	assert_int_equal(pcon_open(root, &P), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pcon_close(P);
	pt_rmtree(root);
	free(root);
	return 0;
}

/* The container "web" of hierarchy named name. */
static struct pcon_container *web(const char *name)
{
	const struct pcon_hier *h;
	struct pcon_container *c;
	assert_int_equal(pcon_hier_find(P, name, &h), 0);
	assert_int_equal(pcon_container_open(h, "/web", &c), 0);
	return c;
}

static void assert_get(struct pcon_container *c, const char *knob, const char *want)
{
	char *v = NULL;
	int r = pcon_knob_get(c, knob, &v);
	if (r < 0)
		fail_msg("get %s: %s", knob, strerror(-r));
	assert_string_equal(v, want);
	free(v);
}

static void assert_get_err(struct pcon_container *c, const char *knob, int err)
{
	char *v = NULL;
	assert_int_equal(pcon_knob_get(c, knob, &v), err);
	assert_null(v);
}

/* A refused value leaves the file as it was, through check and set. */
static void assert_refused(struct pcon_container *c, const char *hier, const char *file,
			   const char *knob, const char *value, int err)
{
	char before[4096];
	snprintf(before, sizeof(before), "%s", got(hier, file));
	assert_int_equal(pcon_knob_check(c, knob, value), err);
	int r = pcon_knob_set(c, knob, value);
	if (r != err)
		fail_msg("set %s=%s: got %d, want %d", knob, value, r, err);
	assert_string_equal(got(hier, file), before);
}

static void test_names_and_hints(void **state)
{
	(void)state;
	static const char *const want[] = {
		"cpuset.cpus", "cpuset.mems", "cpuacct.usage", "numtasks.max", "numtasks.current",
		"memory.max", "memory.current", "cpu.weight", "cpu.max", "freezer.state",
	};
	const char *const *names = pcon_knob_names();
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (const char *const *n = names; *n; n++)
			found |= strcmp(*n, want[i]) == 0;
		assert_true(found);
		assert_non_null(pcon_knob_hint(want[i]));
	}
	for (const char *const *n = names; *n; n++)
		assert_non_null(pcon_knob_unit(*n));
	assert_null(pcon_knob_hint("cpu.shares"));
	assert_string_equal(pcon_knob_unit("cpuacct.usage"), "ns");
}

/* Subsystem names resolve as hierarchy tokens through their controllers. */
static void test_subsys_tokens(void **state)
{
	(void)state;
	const struct pcon_hier *h;
	assert_int_equal(pcon_hier_find(P, "numtasks", &h), 0);
	assert_string_equal(h->name, "pids");
	assert_int_equal(pcon_hier_find(P, "freezer", &h), 0);
	assert_int_equal(h->version, 1);
	assert_int_equal(pcon_hier_find(P, "taskstate", &h), -ENODEV);
}

static void test_cpu_weight_v1(void **state)
{
	(void)state;
	struct pcon_container *c = web("cpu");
	assert_get(c, "cpu.weight", "100");
	assert_int_equal(pcon_knob_set(c, "cpu.weight", "3"), 0);
	assert_string_equal(got("cpu", "cpu.shares"), "31");     /* 30.72 rounds to 31 */
	assert_get(c, "cpu.weight", "3");
	assert_int_equal(pcon_knob_set(c, "cpu.weight", "10000"), 0);
	assert_string_equal(got("cpu", "cpu.shares"), "102400");
	/* Every weight survives the trip through cpu.shares. */
	for (int w = 1; w <= 10000; w += 7) {
		char buf[16], *v;
		snprintf(buf, sizeof(buf), "%d", w);
		assert_int_equal(pcon_knob_set(c, "cpu.weight", buf), 0);
		assert_int_equal(pcon_knob_get(c, "cpu.weight", &v), 0);
		assert_string_equal(v, buf);
		free(v);
	}
	/* Shares set by others: clamped into 1..10000. */
	put("cpu", "cpu.shares", "2\n");
	assert_get(c, "cpu.weight", "1");
	put("cpu", "cpu.shares", "262144\n");
	assert_get(c, "cpu.weight", "10000");
	put("cpu", "cpu.shares", "1024\n");
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "0", -ERANGE);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "10001", -ERANGE);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "-5", -ERANGE);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "99999999999999999999999", -ERANGE);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "abc", -EINVAL);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "", -EINVAL);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "1 2", -EINVAL);
	assert_refused(c, "cpu", "cpu.shares", "cpu.weight", "5\n6", -EINVAL);
	pcon_container_free(c);
}

static void test_cpu_weight_v2(void **state)
{
	(void)state;
	struct pcon_container *c = web("unified");
	assert_int_equal(pcon_knob_set(c, "cpu.weight", " 250\n"), 0);
	assert_string_equal(got("unified", "cpu.weight"), "250");
	assert_get(c, "cpu.weight", "250");
	assert_refused(c, "unified", "cpu.weight", "cpu.weight", "0", -ERANGE);
	pcon_container_free(c);
}

static void test_cpu_max(void **state)
{
	(void)state;
	struct pcon_container *c = web("cpu");
	assert_get(c, "cpu.max", "max 100000");
	assert_int_equal(pcon_knob_set(c, "cpu.max", "50000 200000"), 0);
	assert_string_equal(got("cpu", "cpu.cfs_quota_us"), "50000");
	assert_string_equal(got("cpu", "cpu.cfs_period_us"), "200000");
	assert_get(c, "cpu.max", "50000 200000");
	assert_int_equal(pcon_knob_set(c, "cpu.max", "max"), 0);
	assert_string_equal(got("cpu", "cpu.cfs_quota_us"), "-1");
	assert_string_equal(got("cpu", "cpu.cfs_period_us"), "200000");
	assert_int_equal(pcon_knob_set(c, "cpu.max", "25000"), 0);
	assert_get(c, "cpu.max", "25000 200000");
	const char *bad_range[] = { "999 100000", "50000 999", "50000 1000001", "-1 100000",
				    "17592186044416", "99999999999999999999999 100000" };
	for (size_t i = 0; i < sizeof(bad_range) / sizeof(bad_range[0]); i++) {
		assert_refused(c, "cpu", "cpu.cfs_quota_us", "cpu.max", bad_range[i], -ERANGE);
		assert_refused(c, "cpu", "cpu.cfs_period_us", "cpu.max", bad_range[i], -ERANGE);
	}
	const char *bad[] = { "", "garbage", "50000 100000 7", "max max", "1e5 100000", "50000 x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(c, "cpu", "cpu.cfs_quota_us", "cpu.max", bad[i], -EINVAL);
	pcon_container_free(c);

	c = web("unified");
	assert_get(c, "cpu.max", "max 100000");
	assert_int_equal(pcon_knob_set(c, "cpu.max", "  20000   50000 "), 0);
	assert_string_equal(got("unified", "cpu.max"), "20000 50000");
	assert_int_equal(pcon_knob_set(c, "cpu.max", "max"), 0);
	assert_string_equal(got("unified", "cpu.max"), "max");
	assert_refused(c, "unified", "cpu.max", "cpu.max", "10 100000", -ERANGE);
	pcon_container_free(c);
}

static void test_memory(void **state)
{
	(void)state;
	struct pcon_container *c = web("memory");
	assert_get(c, "memory.max", "max");
	assert_get(c, "memory.current", "4096");
	assert_int_equal(pcon_knob_set(c, "memory.max", "64M"), 0);
	assert_string_equal(got("memory", "memory.limit_in_bytes"), "67108864");
	put("memory", "memory.limit_in_bytes", "67108864\n");
	assert_get(c, "memory.max", "67108864");
	assert_int_equal(pcon_knob_set(c, "memory.max", "2g"), 0);
	assert_string_equal(got("memory", "memory.limit_in_bytes"), "2147483648");
	assert_int_equal(pcon_knob_set(c, "memory.max", "1000"), 0);
	assert_string_equal(got("memory", "memory.limit_in_bytes"), "1000");
	assert_int_equal(pcon_knob_set(c, "memory.max", "max"), 0);
	assert_string_equal(got("memory", "memory.limit_in_bytes"), "-1");
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "-5", -ERANGE);
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "8388608T", -ERANGE);
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "99999999999999999999", -ERANGE);
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "lots", -EINVAL);
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "1.5G", -EINVAL);
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "G", -EINVAL);
	assert_refused(c, "memory", "memory.limit_in_bytes", "memory.max", "10X", -EINVAL);
	assert_refused(c, "memory", "memory.usage_in_bytes", "memory.current", "5", -EROFS);
	pcon_container_free(c);

	c = web("unified");
	assert_get(c, "memory.max", "max");
	assert_int_equal(pcon_knob_set(c, "memory.max", "1K"), 0);
	assert_string_equal(got("unified", "memory.max"), "1024");
	assert_int_equal(pcon_knob_set(c, "memory.max", "max"), 0);
	assert_string_equal(got("unified", "memory.max"), "max");
	assert_get(c, "memory.current", "8192");
	pcon_container_free(c);
}

static void test_freezer(void **state)
{
	(void)state;
	struct pcon_container *c = web("freezer");
	assert_get(c, "freezer.state", "thawed");
	assert_int_equal(pcon_knob_set(c, "freezer.state", "frozen"), 0);
	assert_string_equal(got("freezer", "freezer.state"), "FROZEN");
	put("freezer", "freezer.state", "FREEZING\n");
	assert_get(c, "freezer.state", "freezing");
	assert_int_equal(pcon_knob_set(c, "freezer.state", "thawed"), 0);
	assert_string_equal(got("freezer", "freezer.state"), "THAWED");
	assert_refused(c, "freezer", "freezer.state", "freezer.state", "freezing", -EINVAL);
	assert_refused(c, "freezer", "freezer.state", "freezer.state", "FREEZING", -EINVAL);
	assert_refused(c, "freezer", "freezer.state", "freezer.state", "Frozen", -EINVAL);
	/* the v1 spellings are taken as well */
	assert_int_equal(pcon_knob_set(c, "freezer.state", "FROZEN"), 0);
	assert_string_equal(got("freezer", "freezer.state"), "FROZEN");
	assert_int_equal(pcon_knob_set(c, "freezer.state", "THAWED"), 0);
	assert_string_equal(got("freezer", "freezer.state"), "THAWED");
	put("freezer", "freezer.state", "SLUSHY\n");
	assert_get_err(c, "freezer.state", -EBADMSG);
	pcon_container_free(c);

	c = web("unified");
	assert_get(c, "freezer.state", "thawed");
	assert_int_equal(pcon_knob_set(c, "freezer.state", "frozen"), 0);
	assert_string_equal(got("unified", "cgroup.freeze"), "1");
	assert_get(c, "freezer.state", "freezing"); /* asked, not yet frozen */
	put("unified", "cgroup.events", "populated 1\nfrozen 1\n");
	assert_get(c, "freezer.state", "frozen");
	assert_int_equal(pcon_knob_set(c, "freezer.state", "thawed"), 0);
	assert_string_equal(got("unified", "cgroup.freeze"), "0");
	put("unified", "cgroup.events", "populated 1\nfrozen 0\n");
	assert_get(c, "freezer.state", "thawed");
	/* v1 spellings on v2: users type FROZEN/THAWED whatever the kernel */
	assert_int_equal(pcon_knob_set(c, "freezer.state", "FROZEN"), 0);
	assert_string_equal(got("unified", "cgroup.freeze"), "1");
	assert_int_equal(pcon_knob_set(c, "freezer.state", "THAWED"), 0);
	assert_string_equal(got("unified", "cgroup.freeze"), "0");
	assert_refused(c, "unified", "cgroup.freeze", "freezer.state", "FREEZING", -EINVAL);
	pcon_container_free(c);
}

/* The legacy cpuset file system (mount -t cpuset: noprefix) names its files
 * cpus and mems; the generic knobs and the attach check must find them. */
static void test_legacy_cpuset(void **state)
{
	(void)state;
	char *r = pt_tmpdir();
	pt_write(r, "proc/self/mountinfo",
		 "39 32 0:34 / /dev/cpuset rw,relatime - cgroup cpuset "
		 "rw,cpuset,noprefix,release_agent=/sbin/cpuset_release_agent\n");
	pt_write(r, "proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t1\t2\t1\n");
	pt_write(r, "sys/devices/system/cpu/online", "0-1\n");
	pt_write(r, "dev/cpuset/web/cpus", "0-1\n");
	pt_write(r, "dev/cpuset/web/mems", "0\n");
	pt_write(r, "dev/cpuset/web/cgroup.procs", "");
	pt_write(r, "dev/cpuset/empty/cpus", "\n");
	pt_write(r, "dev/cpuset/empty/mems", "0\n");
	pt_write(r, "dev/cpuset/empty/cgroup.procs", "");
	struct pcon *p;
	const struct pcon_hier *h;
	struct pcon_container *c;
	assert_int_equal(pcon_open(r, &p), 0);
	assert_int_equal(pcon_hier_find(p, "cpuset", &h), 0);
	assert_string_equal(h->name, "cpuset");
	assert_true(h->noprefix);
	assert_int_equal(pcon_container_open(h, "/web", &c), 0);
	assert_get(c, "cpuset.cpus", "0-1");
	assert_int_equal(pcon_knob_set(c, "cpuset.cpus", "1"), 0);
	assert_get(c, "cpuset.cpus", "1");
	assert_int_equal(pcon_knob_set(c, "cpuset.cpus", "2"), -ERANGE);
	assert_get(c, "cpuset.mems", "0");
	assert_int_equal(pcon_container_attach(c, getpid(), false), 0);
	pcon_container_free(c);
	/* no CPUs: the attach check reads "cpus" and refuses, as with the prefix */
	assert_int_equal(pcon_container_open(h, "/empty", &c), 0);
	assert_int_equal(pcon_container_attach(c, getpid(), false), -ENOSPC);
	pcon_container_free(c);
	pcon_close(p);
	pt_rmtree(r);
	free(r);
}

static void test_cpuset(void **state)
{
	(void)state;
	struct pcon_container *c = web("cpuset");
	assert_get(c, "cpuset.cpus", "0-3");
	const char *ok[] = { "0", "6", "0-3,6", "1,2", "3-3", "" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(pcon_knob_set(c, "cpuset.cpus", ok[i]), 0);
		/* the empty list goes as a newline: a write of no bytes never
		 * reaches the kernel's handler and would change nothing */
		assert_string_equal(got("cpuset", "cpuset.cpus"), *ok[i] ? ok[i] : "\n");
	}
	put("cpuset", "cpuset.cpus", "0-3\n");
	const char *beyond[] = { "4", "7", "0-6", "5-6", "0-99999", "2147483648", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++)
		assert_refused(c, "cpuset", "cpuset.cpus", "cpuset.cpus", beyond[i], -ERANGE);
	const char *bad[] = { "-1", "abc", "3-1", "0,,1", "0,", ",0", "0-", "1 2", "0-3:2", "0x1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(c, "cpuset", "cpuset.cpus", "cpuset.cpus", bad[i], -EINVAL);

	/* No node directory (no NUMA): node 0 only. Then a NUMA machine. */
	assert_int_equal(pcon_knob_set(c, "cpuset.mems", "0"), 0);
	assert_refused(c, "cpuset", "cpuset.mems", "cpuset.mems", "1", -ERANGE);
	pt_write(root, "sys/devices/system/node/online", "0-1\n");
	assert_int_equal(pcon_knob_set(c, "cpuset.mems", "0-1"), 0);
	assert_string_equal(got("cpuset", "cpuset.mems"), "0-1");
	assert_refused(c, "cpuset", "cpuset.mems", "cpuset.mems", "2", -ERANGE);
	char node[4096];
	snprintf(node, sizeof(node), "%s/sys/devices/system/node", root);
	pt_rmtree(node);
	pcon_container_free(c);

	c = web("unified");
	assert_int_equal(pcon_knob_set(c, "cpuset.cpus", "6"), 0);
	assert_string_equal(got("unified", "cpuset.cpus"), "6");
	assert_refused(c, "unified", "cpuset.cpus", "cpuset.cpus", "5", -ERANGE);
	pcon_container_free(c);
}

static void test_cpuacct(void **state)
{
	(void)state;
	struct pcon_container *c = web("cpuacct");
	assert_get(c, "cpuacct.usage", "123456789");
	assert_refused(c, "cpuacct", "cpuacct.usage", "cpuacct.usage", "0", -EROFS);
	pcon_container_free(c);
	c = web("unified");
	assert_get(c, "cpuacct.usage", "1500000");
	assert_get(c, "cpuacct.user", "1000000");
	assert_get(c, "cpuacct.system", "500000");
	assert_int_equal(pcon_knob_check(c, "cpuacct.usage", "0"), -EROFS);
	pcon_container_free(c);
}

static void test_numtasks(void **state)
{
	(void)state;
	struct pcon_container *c = web("pids");
	assert_get(c, "numtasks.max", "max");
	assert_get(c, "numtasks.current", "3");
	assert_int_equal(pcon_knob_set(c, "numtasks.max", "5"), 0);
	assert_string_equal(got("pids", "pids.max"), "5");
	assert_int_equal(pcon_knob_set(c, "numtasks.max", "max"), 0);
	assert_string_equal(got("pids", "pids.max"), "max");
	/* The kernel reads pids.max in base 0: decimal is written, not the text. */
	assert_int_equal(pcon_knob_set(c, "numtasks.max", "010"), 0);
	assert_string_equal(got("pids", "pids.max"), "10");
	assert_int_equal(pcon_knob_set(c, "numtasks.max", "09"), 0);
	assert_string_equal(got("pids", "pids.max"), "9");
	assert_refused(c, "pids", "pids.max", "numtasks.max", "-1", -ERANGE);
	assert_refused(c, "pids", "pids.max", "numtasks.max", "4194305", -ERANGE);
	assert_refused(c, "pids", "pids.max", "numtasks.max", "five", -EINVAL);
	assert_refused(c, "pids", "pids.max", "numtasks.max", "MAX", -EINVAL);
	assert_refused(c, "pids", "pids.current", "numtasks.current", "1", -EROFS);
	pcon_container_free(c);
}

/* v1 cpu.max writes the period, then the quota: if the kernel refuses the
 * quota, the period it had is put back. */
static void test_cpu_max_rollback(void **state)
{
	(void)state;
	pt_write(root, CG "cpu/web2/cpu.cfs_period_us", "100000\n");
	pt_mkdir(root, CG "cpu/web2/cpu.cfs_quota_us"); /* a write to it fails */
	const struct pcon_hier *h;
	struct pcon_container *c;
	assert_int_equal(pcon_hier_find(P, "cpu", &h), 0);
	assert_int_equal(pcon_container_open(h, "/web2", &c), 0);
	assert_int_equal(pcon_knob_set(c, "cpu.max", "50000 200000"), -EISDIR);
	char path[4096];
	snprintf(path, sizeof(path), "%s/" CG "cpu/web2/cpu.cfs_period_us", root);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[64] = "";
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "100000");
	pcon_container_free(c);
}

/* Knobs of a subsystem the hierarchy lacks, or a file this container lacks. */
static void test_not_here(void **state)
{
	(void)state;
	struct pcon_container *c = web("cpu");
	assert_get_err(c, "cpuset.cpus", -EOPNOTSUPP);
	assert_get_err(c, "memory.max", -EOPNOTSUPP);
	assert_int_equal(pcon_knob_set(c, "numtasks.max", "5"), -EOPNOTSUPP);
	pcon_container_free(c);
	/* v2: pids is in the hierarchy but not enabled for "web": no pids.max. */
	c = web("unified");
	assert_get_err(c, "numtasks.max", -ENXIO);
	assert_int_equal(pcon_knob_check(c, "numtasks.max", "5"), -ENXIO);
	pcon_container_free(c);
	/* v1 freezer has no freezer.state in the root container. */
	const struct pcon_hier *h;
	assert_int_equal(pcon_hier_find(P, "freezer", &h), 0);
	assert_int_equal(pcon_container_open(h, "/", &c), 0);
	assert_get_err(c, "freezer.state", -ENXIO);
	pcon_container_free(c);
	/* A v1 root (it alone shows release_agent) has cpu.shares, but the
	 * kernel refuses every write of it: not offered, the value is fine. */
	char f[4096];
	pt_write(root, CG "cpu/cpu.shares", "1024\n");
	pt_write(root, CG "cpu/release_agent", "\n");
	snprintf(f, sizeof(f), "%s/" CG "cpu/release_agent", root);
	assert_int_equal(pcon_hier_find(P, "cpu", &h), 0);
	assert_int_equal(pcon_container_open(h, "/", &c), 0);
	assert_get(c, "cpu.weight", "100");
	assert_int_equal(pcon_knob_check(c, "cpu.weight", "5"), -ENXIO);
	assert_int_equal(pcon_knob_set(c, "cpu.weight", "5"), -ENXIO);
	assert_int_equal(pcon_knob_check(c, "cpu.max", "max"), -ENXIO);
	pcon_container_free(c);
	assert_int_equal(unlink(f), 0);
	/* where it is not the root (a cgroup namespace's "/"), it is written */
	assert_int_equal(pcon_container_open(h, "/", &c), 0);
	assert_int_equal(pcon_knob_check(c, "cpu.weight", "5"), 0);
	pcon_container_free(c);
}

static void test_raw_names(void **state)
{
	(void)state;
	struct pcon_container *c = web("cpu");
	assert_get(c, "cpu.shares", "1024");
	assert_get(c, "cpu.stat", "nr_periods 0\nnr_throttled 0");
	assert_int_equal(pcon_knob_set(c, "cpu.shares", "2048"), 0);
	assert_string_equal(got("cpu", "cpu.shares"), "2048");
	assert_get(c, "cpu.weight", "200");
	put("cpu", "cpu.shares", "1024\n");
	assert_get_err(c, "nonexistent", -ENOENT);
	assert_get_err(c, "child", -ENOENT);                /* a directory, not a file */
	assert_get_err(c, "../cpu.shares", -EINVAL);
	assert_get_err(c, "child/cpu.shares", -EINVAL);
	assert_get_err(c, ".hidden", -EINVAL);
	assert_get_err(c, "", -EINVAL);
	assert_get_err(c, "cpu\x01shares", -EINVAL);
	assert_refused(c, "cpu", "cpu.stat", "cpu.stat", "1", -EROFS);
	assert_refused(c, "cpu", "cpu.shares", "cpu.shares", "1\x1b[2J", -EINVAL);
	assert_int_equal(pcon_knob_set(c, "nonexistent", "1"), -ENOENT);
	/* Files whose writing moves or kills tasks are never written; reading is fine. */
	static const char *const moving[] = { "tasks", "cgroup.procs", "cgroup.threads",
					      "cgroup.kill", "release_agent" };
	for (size_t i = 0; i < sizeof(moving) / sizeof(moving[0]); i++) {
		put("cpu", moving[i], "");
		assert_non_null(pcon_knob_refused(moving[i]));
		assert_refused(c, "cpu", moving[i], moving[i], "1", -EPERM);
		assert_get(c, moving[i], "");
	}
	assert_null(pcon_knob_refused("notify_on_release"));
	assert_null(pcon_knob_refused("cpu.shares"));
	pcon_container_free(c);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_names_and_hints),
	cmocka_unit_test(test_subsys_tokens),
	cmocka_unit_test(test_cpu_weight_v1),
	cmocka_unit_test(test_cpu_weight_v2),
	cmocka_unit_test(test_cpu_max),
	cmocka_unit_test(test_cpu_max_rollback),
	cmocka_unit_test(test_memory),
	cmocka_unit_test(test_freezer),
	cmocka_unit_test(test_cpuset),
	cmocka_unit_test(test_cpuacct),
	cmocka_unit_test(test_numtasks),
	cmocka_unit_test(test_not_here),
	cmocka_unit_test(test_raw_names),
	cmocka_unit_test(test_legacy_cpuset),
};

PCONTEST_MAIN(tests, setup, teardown)
