/* Pressure files: parsed by field name, a missing "full" line is absent
 * (not zero), no PSI at all is -EOPNOTSUPP, v1 containers have none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"
#include "pcon/pressure.h"

static void test_parse(void **state)
{
	(void)state;
	struct pcon_pressure p = { 0 };
	assert_int_equal(pcon_pressure_parse("some avg10=1.50 avg60=0.25 avg300=0.05 total=123456\n"
					     "full avg10=0.10 avg60=0.00 avg300=0.00 total=42\n",
					     PCON_PSI_MEMORY, &p), 0);
	assert_true(p.have[PCON_PSI_MEMORY][PCON_PSI_SOME] && p.have[PCON_PSI_MEMORY][PCON_PSI_FULL]);
	assert_true(p.v[PCON_PSI_MEMORY][PCON_PSI_SOME].avg10 == 1.5);
	assert_true(p.v[PCON_PSI_MEMORY][PCON_PSI_SOME].avg300 == 0.05);
	assert_int_equal(p.v[PCON_PSI_MEMORY][PCON_PSI_SOME].total_us, 123456);
	assert_int_equal(p.v[PCON_PSI_MEMORY][PCON_PSI_FULL].total_us, 42);
	assert_false(p.have[PCON_PSI_CPU][PCON_PSI_SOME]);
	/* A kernel before 5.13 has no cpu "full"; fields in another order, one more field */
	struct pcon_pressure q = { 0 };
	assert_int_equal(pcon_pressure_parse("some total=7 avg300=3.00 avg60=2.00 avg10=1.00 new=9\n",
					     PCON_PSI_CPU, &q), 0);
	assert_true(q.have[PCON_PSI_CPU][PCON_PSI_SOME]);
	assert_false(q.have[PCON_PSI_CPU][PCON_PSI_FULL]);
	assert_true(q.v[PCON_PSI_CPU][PCON_PSI_SOME].avg60 == 2.0);
	/* Garbage: nothing parses */
	static const char *const bad[] = { "", "some\n", "some avg10=x avg60=0 avg300=0 total=0\n",
					   "some avg10=1 avg60=1 avg300=1\n", "most avg10=1 avg60=1 avg300=1 total=1\n",
					   "some avg10=101 avg60=1 avg300=1 total=1\n",
					   "some avg10=1 avg60=1 avg300=1 total=-1\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pcon_pressure z = { 0 };
		assert_int_equal(pcon_pressure_parse(bad[i], PCON_PSI_IO, &z), -EBADMSG);
		assert_false(z.have[PCON_PSI_IO][PCON_PSI_SOME]);
	}
	assert_int_equal(pcon_pressure_parse("x", PCON_PSI_MAX, &q), -EINVAL);
	assert_int_equal(pcon_psi_resource_from_string("memory"), PCON_PSI_MEMORY);
	assert_int_equal(pcon_psi_resource_from_string("irq"), PCON_PSI_INVALID);
	assert_string_equal(pcon_psi_kind_to_string(PCON_PSI_FULL), "full");
}

static const char *mi_v2 =
	"30 1 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n";
static const char *mi_v1 =
	"31 1 0:27 / /sys/fs/cgroup/cpu rw,nosuid shared:5 - cgroup cgroup rw,cpu\n";

static void test_read_tree(void **state)
{
	(void)state;
	char *root = pt_tmpdir();
	pt_write(root, "proc/self/mountinfo", mi_v2);
	pt_write(root, "sys/fs/cgroup/cgroup.procs", "");
	pt_write(root, "sys/fs/cgroup/cgroup.controllers", "cpu memory io\n");
	pt_write(root, "sys/fs/cgroup/web/cgroup.procs", "");
	pt_write(root, "sys/fs/cgroup/web/cpu.pressure",
		 "some avg10=12.00 avg60=6.00 avg300=1.00 total=900\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	pt_write(root, "sys/fs/cgroup/web/io.pressure",
		 "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=3\n");
	pt_mkdir(root, "sys/fs/cgroup/nopsi");
	pt_write(root, "sys/fs/cgroup/nopsi/cgroup.procs", "");
	struct pcon *p;
	assert_int_equal(pcon_open(root, &p), 0);
	const struct pcon_hier *h = pcon_hier_default(p);
	struct pcon_container *c;
	assert_int_equal(pcon_container_open(h, "/web", &c), 0);
	struct pcon_pressure v;
	assert_int_equal(pcon_pressure_read(c, &v), 0);
	assert_true(v.v[PCON_PSI_CPU][PCON_PSI_SOME].avg10 == 12.0);
	assert_true(v.have[PCON_PSI_IO][PCON_PSI_FULL]);
	assert_false(v.have[PCON_PSI_MEMORY][PCON_PSI_SOME]); /* no memory.pressure file */
	pcon_container_free(c);
	/* psi=0: no pressure files anywhere; and no /proc/pressure */
	assert_int_equal(pcon_container_open(h, "/nopsi", &c), 0);
	assert_int_equal(pcon_pressure_read(c, &v), -EOPNOTSUPP);
	pcon_container_free(c);
	assert_int_equal(pcon_pressure_read_machine(p, &v), -EOPNOTSUPP);
	pcon_close(p);
	pt_write(root, "proc/pressure/cpu", "some avg10=1.00 avg60=1.00 avg300=1.00 total=1\n");
	pt_write(root, "proc/self/mountinfo", mi_v1);
	pt_mkdir(root, "sys/fs/cgroup/cpu");
	pt_write(root, "sys/fs/cgroup/cpu/cgroup.procs", "");
	assert_int_equal(pcon_open(root, &p), 0);
	assert_int_equal(pcon_pressure_read_machine(p, &v), 0);
	assert_true(v.have[PCON_PSI_CPU][PCON_PSI_SOME]);
	assert_int_equal(pcon_container_open(pcon_hier_default(p), "/", &c), 0);
	assert_int_equal(pcon_pressure_read(c, &v), -EOPNOTSUPP); /* v1 keeps none */
	pcon_container_free(c);
	pcon_close(p);
	pt_rmtree(root);
	free(root);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_read_tree),
};

PCONTEST_MAIN(tests, NULL, NULL)
