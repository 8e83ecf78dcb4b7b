/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SR-IOV: the sim's imitation of the kernel's VF count rules and VF creation, the VF count
 * transaction (sriov.h S1-S5), its rollback after a crash, the bounded write, and
 * `hostdev sriov --numvfs`. The sriov-server fixture's E810 PF 0000:18:00.0 has 4 of 64 VFs
 * (0000:18:01.0-3, on iavf, groups 5-8); the ConnectX-5 PF 0000:3b:00.0 has 2. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "testlib.h"

#define PF "0000:18:00.0"
#define VF0 "0000:18:01.0"
#define VF1 "0000:18:01.1"
#define PF_ATTR(name) "sys/bus/pci/devices/" PF "/" name

static char *read_rel(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return g_strstrip(text);
}

static gboolean exists_rel(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);

        return g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
}

static int numvfs(const HdTestFixture *fx)
{
        g_autofree char *text = read_rel(fx, PF_ATTR("sriov_numvfs"));

        return text ? atoi(text) : -1;
}

static guint count_vf_links(const HdTestFixture *fx)
{
        guint n = 0;

        for (int i = 0; i < 64; i++) {
                g_autofree char *rel = g_strdup_printf(PF_ATTR("virtfn%d"), i);

                if (exists_rel(fx, rel))
                        n++;
        }
        return n;
}

/* A process with /dev/vfio/@group open (a QEMU), as /proc shows it. */
static void hold_group_open(const HdTestFixture *fx, int group)
{
        g_autofree char *fd_dir = hd_test_path(fx, "proc/4242/fd");
        g_autofree char *comm = hd_test_path(fx, "proc/4242/comm");
        g_autofree char *link = g_build_filename(fd_dir, "17", NULL);
        g_autofree char *target = g_strdup_printf("/dev/vfio/%d", group);

        g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(comm, "qemu-system-x86\n", -1, NULL));
        g_assert_cmpint(symlink(target, link), ==, 0);
}

static void release_group(const HdTestFixture *fx)
{
        g_autofree char *link = hd_test_path(fx, "proc/4242/fd/17");

        g_assert_cmpint(unlink(link), ==, 0);
}

static gboolean sim_write(HdCtx *ctx, const char *path, const char *value, GError **error)
{
        return hd_ctx_write(ctx, path, value, error);
}

static HdSriovReport *set_numvfs(HdCtx *ctx, int n, int autoprobe, GError **error)
{
        HdAddress a = hd_test_address(PF);
        HdSriovRequest req = { .numvfs = n, .autoprobe = autoprobe };

        return hd_sriov_set_numvfs(ctx, &a, &req, error);
}

static int run(const HdTestFixture *fx, const char *const *args, const char *const *env,
               char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli_guarded((const char *const *)argv->pdata, env, 120, out, err);
}

/* ---------------------------------------------------------------- the sim as the kernel */

/* sriov_numvfs_store()'s answers, in its order. */
static void test_sim_kernel_rules(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_false(sim_write(ctx, PF_ATTR("sriov_numvfs"), "two", &error));
        g_assert_nonnull(strstr(error->message, g_strerror(EINVAL)));
        g_clear_error(&error);
        g_assert_false(sim_write(ctx, PF_ATTR("sriov_numvfs"), "65", &error));
        g_assert_nonnull(strstr(error->message, g_strerror(ERANGE)));
        g_clear_error(&error);
        /* the current count is a no-op, even while VFs exist */
        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "4", &error));
        g_assert_no_error(error);
        /* "4 VFs already enabled. Disable before enabling 2 VFs" */
        g_assert_false(sim_write(ctx, PF_ATTR("sriov_numvfs"), "2", &error));
        g_assert_nonnull(strstr(error->message, g_strerror(EBUSY)));
        g_clear_error(&error);
        g_assert_cmpint(numvfs(fx), ==, 4);
        g_assert_cmpuint(count_vf_links(fx), ==, 4);
}

/* 0 removes every VF with its names and groups; N creates them at offset + stride * i, with
 * the VF device id, a group each, and the VF driver when autoprobe is on. */
static void test_sim_creates_and_removes_vfs(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *device = NULL, *vendor = NULL, *physfn = NULL;
        g_autoptr(HdDevice) vf = NULL;
        HdAddress a = hd_test_address(VF1);

        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "0", &error));
        g_assert_no_error(error);
        g_assert_cmpint(numvfs(fx), ==, 0);
        g_assert_cmpuint(count_vf_links(fx), ==, 0);
        g_assert_false(exists_rel(fx, "sys/bus/pci/devices/" VF0));
        g_assert_false(exists_rel(fx, "sys/bus/pci/drivers/iavf/" VF0));
        g_assert_false(exists_rel(fx, "sys/kernel/iommu_groups/5"));

        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "3", &error));
        g_assert_no_error(error);
        g_assert_cmpint(numvfs(fx), ==, 3);
        g_assert_cmpuint(count_vf_links(fx), ==, 3);
        device = read_rel(fx, "sys/bus/pci/devices/" VF1 "/device");
        vendor = read_rel(fx, "sys/bus/pci/devices/" VF1 "/vendor");
        g_assert_cmpstr(device, ==, "0x1889");
        g_assert_cmpstr(vendor, ==, "0x8086");
        physfn = hd_test_path(fx, "sys/bus/pci/devices/" VF1 "/physfn");
        g_assert_true(g_file_test(physfn, G_FILE_TEST_IS_DIR));
        /* the library reads the new VF as any other: ids, driver (iavf, learnt from the VFs
         * that went), its own group (the lowest free id, as the kernel's IDA gives) */
        vf = hd_device_load(ctx, &a, HD_FIELDS_LIST, &error);
        g_assert_no_error(error);
        g_assert_cmpint(vf->device_id, ==, 0x1889);
        g_assert_cmpstr(vf->driver, ==, "iavf");
        g_assert_cmpstr(vf->physfn, ==, PF);
        g_assert_cmpint(vf->iommu_group, ==, 6);
        g_assert_null(vf->driver_override);
        g_assert_cmpuint(hd_test_assert_list_matches_sys(fx->root), >, 0);
}

static void test_sim_autoprobe_off_leaves_vfs_unbound(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "0", &error));
        g_assert_true(sim_write(ctx, PF_ATTR("sriov_drivers_autoprobe"), "0", &error));
        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "2", &error));
        g_assert_no_error(error);
        g_assert_true(exists_rel(fx, "sys/bus/pci/devices/" VF1));
        g_assert_false(exists_rel(fx, "sys/bus/pci/devices/" VF1 "/driver"));
}

/* Only the PF's driver creates VFs: none, or pci-stub, is ENOENT. */
static void test_sim_needs_pf_driver(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "0", &error));
        g_assert_true(sim_write(ctx, "sys/bus/pci/drivers/ice/unbind", PF, &error));
        g_assert_no_error(error);
        g_assert_false(sim_write(ctx, PF_ATTR("sriov_numvfs"), "2", &error));
        g_assert_nonnull(strstr(error->message, g_strerror(ENOENT)));
}

/* ---------------------------------------------------------------- the transaction */

static void assert_writes(HdCtx *ctx, const char *const *want)
{
        const GPtrArray *log = hd_ctx_get_write_log(ctx);
        guint n = 0;

        for (; want[n]; n += 2) {
                const HdCtxWrite *w;

                g_assert_cmpuint(n / 2, <, log->len);
                w = log->pdata[n / 2];
                g_assert_cmpstr(w->path, ==, want[n]);
                g_assert_cmpstr(w->value, ==, want[n + 1]);
        }
        g_assert_cmpuint(log->len, ==, n / 2);
}

/* S5: autoprobe, then 0, then N; the report says what went and what came. */
static void test_set_numvfs(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSriovReport) r = set_numvfs(ctx, 2, 0, &error);
        const char *const writes[] = { PF_ATTR("sriov_drivers_autoprobe"), "0",
                                       PF_ATTR("sriov_numvfs"), "0",
                                       PF_ATTR("sriov_numvfs"), "2", NULL };
        g_autofree char *probe = read_rel(fx, PF_ATTR("sriov_drivers_autoprobe"));

        g_assert_no_error(error);
        g_assert_true(r->changed);
        g_assert_cmpint(r->numvfs_before, ==, 4);
        g_assert_cmpint(r->numvfs_after, ==, 2);
        g_assert_cmpint(r->autoprobe_before, ==, 1);
        g_assert_cmpint(r->autoprobe_after, ==, 0);
        g_assert_cmpuint(r->removed->len, ==, 4);
        g_assert_cmpuint(r->created->len, ==, 2);
        g_assert_cmpstr(((HdDevice *)r->created->pdata[1])->name, ==, VF1);
        g_assert_null(((HdDevice *)r->created->pdata[1])->driver);
        assert_writes(ctx, writes);
        g_assert_cmpint(numvfs(fx), ==, 2);
        g_assert_cmpstr(probe, ==, "0");
        g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 0);
}

/* 0 to N is one write; the same count and autoprobe write nothing. */
static void test_set_numvfs_minimal_writes(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSriovReport) same = set_numvfs(ctx, 4, 1, &error);
        g_autoptr(HdSriovReport) zero = NULL, three = NULL;
        const char *const none[] = { NULL };
        const char *const one[] = { PF_ATTR("sriov_numvfs"), "0", NULL };
        const char *const up[] = { PF_ATTR("sriov_numvfs"), "3", NULL };

        g_assert_no_error(error);
        g_assert_false(same->changed);
        assert_writes(ctx, none);
        hd_ctx_free(g_steal_pointer(&ctx));
        ctx = hd_test_ctx_new(fx);
        zero = set_numvfs(ctx, 0, -1, &error);
        g_assert_no_error(error);
        assert_writes(ctx, one);
        g_assert_cmpuint(zero->created->len, ==, 0);
        hd_ctx_free(g_steal_pointer(&ctx));
        ctx = hd_test_ctx_new(fx);
        three = set_numvfs(ctx, 3, -1, &error);
        g_assert_no_error(error);
        assert_writes(ctx, up);
        g_assert_cmpuint(three->created->len, ==, 3);
        g_assert_cmpstr(((HdDevice *)three->created->pdata[0])->driver, ==, "iavf");
}

static void test_refuse_beyond_total_and_without_driver(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSriovReport) r = set_numvfs(ctx, 65, -1, &error);

        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "at most 64"));
        g_assert_nonnull(strstr(error->message, "hostdev sriov " PF " --numvfs 64"));
        g_clear_error(&error);
        g_assert_true(sim_write(ctx, PF_ATTR("sriov_numvfs"), "0", &error));
        g_assert_true(sim_write(ctx, "sys/bus/pci/drivers/ice/unbind", PF, &error));
        r = set_numvfs(ctx, 2, -1, &error);
        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "hostdev attach " PF));
}

/* A VF is not an SR-IOV PF, and says which is. */
static void test_refuse_vf_address(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(VF0);
        HdSriovRequest req = { .numvfs = 0, .autoprobe = -1 };
        g_autoptr(HdSriovReport) r = hd_sriov_set_numvfs(ctx, &a, &req, &error);

        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "hostdev sriov " PF));
}

/* S1: a VF open by a VM, one detached by hostdev, one the host routes through: refused, all
 * named, nothing written. */
static void test_refuse_vfs_in_use(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) d = NULL;
        g_autoptr(HdSriovReport) r = NULL;
        g_autofree char *route = hd_test_path(fx, "proc/net/route");
        g_autofree char *table = NULL;
        g_autofree char *more = NULL;
        HdAddress a = hd_test_address(VF1);
        HdBindOptions opts = { 0 };

        d = hd_bind_detach(ctx, &a, 1, &opts, &error);
        g_assert_no_error(error);
        {
                HdAddress b = hd_test_address("0000:18:01.2");

                hd_bind_report_free(hd_bind_detach(ctx, &b, 1, &opts, &error));
                g_assert_no_error(error);
        }
        hold_group_open(fx, 7); /* VF 2 on vfio-pci, held, as a VM holds it */
        g_assert_true(g_file_get_contents(route, &table, NULL, NULL));
        more = g_strconcat(table, "ens1f0v3\t0014000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
                           NULL);
        g_assert_true(g_file_set_contents(route, more, -1, NULL));
        hd_ctx_free(g_steal_pointer(&ctx));
        ctx = hd_test_ctx_new(fx);

        r = set_numvfs(ctx, 2, -1, &error);
        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "3 are in use"));
        g_assert_nonnull(strstr(error->message, VF1 " was detached by hostdev for a VM: "
                                                "hostdev attach " VF1));
        g_assert_nonnull(strstr(error->message, "0000:18:01.2 is open by process 4242"));
        g_assert_nonnull(strstr(error->message, "0000:18:01.3: "));
        g_assert_nonnull(strstr(error->message, "ens1f0v3"));
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        g_assert_cmpint(numvfs(fx), ==, 4);
        g_clear_error(&error);
        /* autoprobe alone changes no VF: allowed while they are in use */
        {
                g_autoptr(HdSriovReport) p = NULL;
                g_autofree char *probe = NULL;

                p = set_numvfs(ctx, 4, 0, &error);
                g_assert_no_error(error);
                g_assert_true(p->changed);
                probe = read_rel(fx, PF_ATTR("sriov_drivers_autoprobe"));
                g_assert_cmpstr(probe, ==, "0");
        }
}

/* A dry run checks, logs the writes and changes nothing. */
static void test_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSriovReport) r = NULL;

        hd_ctx_set_dry_run(ctx, TRUE);
        r = set_numvfs(ctx, 8, 0, &error);
        g_assert_no_error(error);
        g_assert_cmpint(r->numvfs_after, ==, 8);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 3);
        g_assert_cmpint(numvfs(fx), ==, 4);
        g_assert_cmpuint(count_vf_links(fx), ==, 4);
        g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 0);
}

/* S3: a crash after each write leaves a journal; recovery returns the PF to 4 VFs with
 * autoprobe on, and the next attempt succeeds. */
static void test_crash_and_recover(void)
{
        g_autoptr(HdTestFixture) tmpl = hd_test_fixture_new("sriov-server");

        for (guint n = 1; n <= 3; n++) {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(tmpl);
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                g_autofree char *crash = g_strdup_printf("HOSTDEV_CRASH_AT=write:%u", n);
                const char *env[] = { crash, NULL };
                const char *set[] = { "sriov", PF, "--numvfs", "2", "--autoprobe", "no", NULL };
                const char *recover[] = { "recover", NULL };
                g_autofree char *out = NULL, *probe = NULL;

                g_test_message("crash after write %u of 3", n);
                g_assert_cmpint(run(fx, set, env, NULL, NULL), ==, 128 + SIGKILL);
                g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 1);
                g_assert_cmpint(run(fx, recover, NULL, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, "Recovered 1 interrupted operation"));
                g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 0);
                g_assert_cmpint(numvfs(fx), ==, 4);
                g_assert_cmpuint(count_vf_links(fx), ==, 4);
                probe = read_rel(fx, PF_ATTR("sriov_drivers_autoprobe"));
                g_assert_cmpstr(probe, ==, "1");
                g_assert_cmpint(run(fx, set, NULL, NULL, NULL), ==, 0);
                g_assert_cmpint(numvfs(fx), ==, 2);
        }
}

/* S2: a count write the kernel keeps waiting (a VF opened after the checks) returns BUSY
 * within its bound; the count already reads 0, the VF's name is gone, and the write finishes
 * in the background once the holder lets go. */
static void test_bounded_write(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(VF0);
        HdBindOptions opts = { 0 };
        gboolean gone = FALSE;

        hd_bind_report_free(hd_bind_detach(ctx, &a, 1, &opts, &error));
        g_assert_no_error(error);
        hold_group_open(fx, 5);
        g_assert_false(hd_ctx_write_bounded(ctx, PF_ATTR("sriov_numvfs"), "0", 300, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        g_assert_nonnull(strstr(error->message, "still waiting"));
        g_assert_cmpint(numvfs(fx), ==, 0);
        g_assert_false(exists_rel(fx, "sys/bus/pci/devices/" VF0));
        /* while it waits, readers skip the count (the kernel's read would wait too) and
         * recovery does not touch the PF */
        g_assert_true(hd_ctx_write_is_pending(ctx, PF_ATTR("sriov_numvfs")));
        {
                g_autoptr(HdDevice) pf = NULL;
                g_autoptr(GError) busy = NULL;
                HdAddress p = hd_test_address(PF);

                pf = hd_device_load(ctx, &p, HD_FIELDS_LIST, &busy);
                g_assert_no_error(busy);
                g_assert_cmpint(pf->sriov_numvfs, ==, 0);
                g_assert_cmpint(pf->sriov_totalvfs, ==, 64);
                g_assert_false(hd_journal_restore_sriov(ctx, PF, 4, -1, 1000, &busy));
                g_assert_error(busy, HD_ERROR, HD_ERROR_BUSY);
        }
        release_group(fx);
        /* a guard against a hang, not a timed assertion */
        for (int i = 0; i < 600 && !gone; i++) {
                gone = !exists_rel(fx, PF_ATTR("virtfn3"));
                if (!gone)
                        g_usleep(50 * 1000);
        }
        g_assert_true(gone);
        for (int i = 0; i < 600 && hd_ctx_write_is_pending(ctx, PF_ATTR("sriov_numvfs")); i++)
                g_usleep(50 * 1000);
        g_assert_false(hd_ctx_write_is_pending(ctx, PF_ATTR("sriov_numvfs")));
}

/* Another thread allocating and freeing GErrors (GSlice in GLib 2.74) and strings the whole
 * time: a fork() while it holds one of those locks would leave the lock held in the child. */
static gpointer churn(gpointer data)
{
        gint *stop = data;

        while (!g_atomic_int_get(stop)) {
                g_autoptr(GError) e = g_error_new(HD_ERROR, HD_ERROR_FAILED, "churn %d", 42);
                g_autofree char *s = g_strdup_printf("%s", e->message);
                (void)s;
        }
        return NULL;
}

/* The real backend's bounded write (one write(2) in a grandchild that makes system calls only),
 * on files of a tree: the value written and the marker gone; the kernel's errno comes back as
 * the G_IO_ERROR it is, with the marker gone too; and many of them while another thread keeps
 * the allocators busy all finish (a grandchild that called malloc or GLib could wait forever on
 * a lock held at the fork). */
static void test_bounded_write_real_backend(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = hd_ctx_new(fx->root, HD_BACKEND_REAL, &error);
        g_autofree char *text = NULL;
        gint stop = 0;
        GThread *thread;

        g_assert_no_error(error);
        g_assert_true(hd_ctx_write_bounded(ctx, PF_ATTR("sriov_drivers_autoprobe"), "0", 10000,
                                           &error));
        g_assert_no_error(error);
        text = read_rel(fx, PF_ATTR("sriov_drivers_autoprobe"));
        g_assert_cmpstr(text, ==, "0");
        g_assert_false(hd_ctx_write_is_pending(ctx, PF_ATTR("sriov_drivers_autoprobe")));

        g_assert_false(hd_ctx_write_bounded(ctx, PF_ATTR("no_such_attribute"), "1", 10000,
                                            &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(hd_ctx_write_is_pending(ctx, PF_ATTR("no_such_attribute")));

        thread = g_thread_new("churn", churn, &stop);
        for (int i = 0; i < 64; i++) {
                const char *v = i % 2 ? "1" : "0";

                g_assert_true(hd_ctx_write_bounded(ctx, PF_ATTR("sriov_drivers_autoprobe"), v,
                                                   60000, &error));
                g_assert_no_error(error);
        }
        g_atomic_int_set(&stop, 1);
        g_thread_join(thread);
}

/* ---------------------------------------------------------------- the command */

static void test_cli(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *set[] = { "sriov", "18:00.0", "--numvfs", "2", "--autoprobe", "no", "--json",
                              NULL };
        const char *bad_probe[] = { "sriov", PF, "--numvfs", "2", "--autoprobe", "maybe", NULL };
        const char *too_many[] = { "sriov", PF, "--numvfs", "100", NULL };
        const char *dry[] = { "sriov", PF, "--numvfs", "1", "--dry-run", NULL };
        const char *text[] = { "sriov", PF, "--numvfs", "3", NULL };
        g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *out3 = NULL, *err2 = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;
        JsonArray *vfs;

        g_assert_cmpint(run(fx, set, NULL, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "pf"), ==, PF);
        g_assert_true(json_object_get_boolean_member(o, "changed"));
        g_assert_false(json_object_get_boolean_member(o, "dry_run"));
        g_assert_cmpint(json_object_get_int_member(o, "numvfs_before"), ==, 4);
        g_assert_cmpint(json_object_get_int_member(o, "numvfs"), ==, 2);
        g_assert_true(json_object_get_boolean_member(o, "drivers_autoprobe_before"));
        g_assert_false(json_object_get_boolean_member(o, "drivers_autoprobe"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "removed")), ==,
                         4);
        vfs = json_object_get_array_member(o, "vfs");
        g_assert_cmpuint(json_array_get_length(vfs), ==, 2);
        g_assert_true(json_object_get_null_member(json_array_get_object_element(vfs, 0),
                                                  "driver"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "writes")), ==,
                         3);

        g_assert_cmpint(run(fx, bad_probe, NULL, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "--autoprobe takes yes or no"));
        g_assert_cmpint(run(fx, too_many, NULL, NULL, &err2), ==, 2);
        g_assert_nonnull(strstr(err2, "at most 64"));
        g_assert_cmpint(run(fx, dry, NULL, &out2, NULL), ==, 0);
        g_assert_nonnull(strstr(out2, "would have 1 VFs (it had 2)"));
        g_assert_nonnull(strstr(out2, "nothing was changed"));
        g_assert_cmpint(numvfs(fx), ==, 2);
        g_assert_cmpint(run(fx, text, NULL, &out3, NULL), ==, 0);
        g_assert_nonnull(strstr(out3, PF " now has 3 VFs (it had 2)"));
        g_assert_nonnull(strstr(out3, "Next: hostdev detach " VF0));
}

/* --persist: the PF's layout as a udev rule (autoprobe, then the count, once the PF has its
 * driver), a VF's binding probing the VF itself; --numvfs 0 --persist drops the layout. */
static void test_persist(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *set[] = { "sriov", PF, "--numvfs", "2", "--autoprobe", "no", "--persist",
                              NULL };
        const char *detach[] = { "detach", VF1, "--persist", NULL };
        const char *show[] = { "sriov", PF, "--json", NULL };
        const char *attach[] = { "attach", VF1, NULL };
        const char *drop[] = { "sriov", PF, "--numvfs", "0", "--persist", NULL };
        g_autofree char *out = NULL, *out2 = NULL;
        g_autofree char *rules = NULL, *vfio = NULL, *entry = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *boot;

        g_assert_cmpint(run(fx, set, NULL, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, PF " comes up with 2 VFs at every boot"));
        rules = read_rel(fx, "etc/udev/rules.d/60-hostdev-sriov.rules");
        g_assert_nonnull(strstr(rules, "\nACTION==\"add|bind\", SUBSYSTEM==\"pci\", "
                                       "KERNEL==\"" PF "\", DRIVER==\"?*\", "
                                       "ATTR{vendor}==\"0x8086\", ATTR{device}==\"0x1592\", "
                                       "ATTR{sriov_drivers_autoprobe}=\"0\", "
                                       "ATTR{sriov_numvfs}=\"2\""));
        entry = read_rel(fx, "etc/hostdev/sriov.d/" PF);
        g_assert_nonnull(strstr(entry, "numvfs=2\nautoprobe=0\nvendor=8086\ndevice=1592"));
        g_assert_cmpint(run(fx, detach, NULL, NULL, NULL), ==, 0);
        vfio = read_rel(fx, "etc/udev/rules.d/60-hostdev-vfio.rules");
        g_assert_nonnull(strstr(vfio, "KERNEL==\"" VF1 "\""));
        g_assert_nonnull(strstr(vfio, "ATTR{driver_override}=\"vfio-pci\", "
                                      "RUN{builtin}+=\"kmod load vfio-pci\", RUN+=\"/bin/sh -c "
                                      "'echo %k > /sys/bus/pci/drivers_probe'\""));
        g_assert_cmpint(run(fx, show, NULL, &out2, NULL), ==, 0);
        root = hd_test_parse_json(out2);
        boot = json_object_get_object_member(json_node_get_object(root), "at_boot");
        g_assert_cmpint(json_object_get_int_member(boot, "numvfs"), ==, 2);
        g_assert_false(json_object_get_boolean_member(boot, "drivers_autoprobe"));
        g_assert_true(json_object_get_null_member(boot, "not_applied"));
        g_assert_cmpint(run(fx, attach, NULL, NULL, NULL), ==, 0);
        g_assert_cmpint(run(fx, drop, NULL, NULL, NULL), ==, 0);
        g_assert_false(exists_rel(fx, "etc/udev/rules.d/60-hostdev-sriov.rules"));
        g_assert_false(exists_rel(fx, "etc/hostdev/sriov.d/" PF));
}

/* Found on the real kernel (tests/vm, t_boot_sriov): a boot starts without vfio-pci loaded,
 * and a VF made with autoprobe 0 makes nothing load it (its ids' host module is its PF's,
 * loaded already, so the softdep never fires): the VF's rule set the override, probed, and
 * the VF stayed without a driver. The rule loads the bound driver's module before it probes,
 * for every VF binding (any driver, as driverctl's overrides), and only for VFs. */
static void test_persist_vf_loads_module(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *set[] = { "sriov", PF, "--numvfs", "2", "--autoprobe", "no", NULL };
        const char *detach[] = { "detach", VF1, "--persist", NULL };
        g_autofree char *vfio = NULL;
        g_auto(GStrv) lines = NULL;
        const char *rule = NULL;

        g_assert_cmpint(run(fx, set, NULL, NULL, NULL), ==, 0);
        g_assert_cmpint(run(fx, detach, NULL, NULL, NULL), ==, 0);
        vfio = read_rel(fx, "etc/udev/rules.d/60-hostdev-vfio.rules");
        lines = g_strsplit(vfio, "\n", -1);
        for (guint i = 0; lines[i]; i++)
                if (strstr(lines[i], "KERNEL==\"" VF1 "\""))
                        rule = lines[i];
        g_assert_nonnull(rule);
        /* the module is loaded before drivers_probe runs: udev runs RUN in order */
        g_assert_nonnull(strstr(rule, "RUN{builtin}+=\"kmod load vfio-pci\""));
        g_assert_true(strstr(rule, "kmod load") < strstr(rule, "drivers_probe"));
        g_assert_true(strstr(rule, "ATTR{driver_override}") < strstr(rule, "kmod load"));
}

/* P2: a hand-made entry that is not an address, or holds a count that is not a number,
 * never reaches a rule; a layout for a card that is no longer there says so. */
static void test_persist_hostile_entries(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = hd_test_path(fx, "etc/hostdev/sriov.d");
        g_autofree char *bad_name = g_build_filename(dir, "x\"; RUN+=\"evil", NULL);
        g_autofree char *bad_count = g_build_filename(dir, "0000:3b:00.0", NULL);
        g_autofree char *gone = g_build_filename(dir, "0000:c1:00.0", NULL);
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *rules = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(bad_name, "[sriov]\nnumvfs=2\n", -1, NULL));
        g_assert_true(g_file_set_contents(bad_count, "[sriov]\nnumvfs=2\"x\n", -1, NULL));
        g_assert_true(g_file_set_contents(gone, "[sriov]\nnumvfs=2\nautoprobe=-1\n", -1, NULL));
        g_assert_true(hd_sriov_persist_set(ctx, PF, 8, 1, &error));
        g_assert_no_error(error);
        list = hd_sriov_persist_list(ctx);
        g_assert_cmpuint(list->len, ==, 2);
        g_assert_cmpstr(((HdSriovPersistEntry *)list->pdata[0])->pf, ==, PF);
        g_assert_null(((HdSriovPersistEntry *)list->pdata[0])->not_applied);
        g_assert_nonnull(strstr(((HdSriovPersistEntry *)list->pdata[1])->not_applied,
                                "no device at 0000:c1:00.0"));
        rules = read_rel(fx, "etc/udev/rules.d/60-hostdev-sriov.rules");
        g_assert_null(strstr(rules, "evil"));
        g_assert_null(strstr(rules, "3b:00.0"));
        g_assert_nonnull(strstr(rules, "KERNEL==\"0000:c1:00.0\", DRIVER==\"?*\", "
                                       "ATTR{sriov_numvfs}=\"2\""));
}

/* VFs made again come up with the driver's defaults: their MAC, VLAN and trust went with the
 * old VFs (sriov-nic: VF 0 had a MAC and VLAN 100). */
static void test_recreated_vfs_forget_net_settings(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-nic");
        const char *show[] = { "sriov", "01:00.0", NULL };
        const char *set[] = { "sriov", "01:00.0", "--numvfs", "2", NULL };
        g_autofree char *before = NULL, *after = NULL;

        g_assert_cmpint(run(fx, show, NULL, &before, NULL), ==, 0);
        g_assert_nonnull(strstr(before, "VF 0 on ens1f0: mac 52:54:00:aa:00:01, vlan 100"));
        g_assert_cmpint(run(fx, set, NULL, NULL, NULL), ==, 0);
        g_assert_cmpint(run(fx, show, NULL, &after, NULL), ==, 0);
        g_assert_nonnull(strstr(after, "VF 0 on ens1f0: mac 00:00:00:00:00:00, no vlan"));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/sriov/sim/kernel-rules", test_sim_kernel_rules);
        g_test_add_func("/sriov/sim/create-remove", test_sim_creates_and_removes_vfs);
        g_test_add_func("/sriov/sim/autoprobe-off", test_sim_autoprobe_off_leaves_vfs_unbound);
        g_test_add_func("/sriov/sim/needs-pf-driver", test_sim_needs_pf_driver);
        g_test_add_func("/sriov/numvfs/change", test_set_numvfs);
        g_test_add_func("/sriov/numvfs/minimal-writes", test_set_numvfs_minimal_writes);
        g_test_add_func("/sriov/numvfs/refuse-total-driver",
                        test_refuse_beyond_total_and_without_driver);
        g_test_add_func("/sriov/numvfs/refuse-vf-address", test_refuse_vf_address);
        g_test_add_func("/sriov/numvfs/refuse-in-use", test_refuse_vfs_in_use);
        g_test_add_func("/sriov/numvfs/dry-run", test_dry_run);
        g_test_add_func("/sriov/numvfs/crash-recover", test_crash_and_recover);
        g_test_add_func("/sriov/numvfs/bounded-write", test_bounded_write);
        g_test_add_func("/sriov/numvfs/bounded-write-real-backend",
                        test_bounded_write_real_backend);
        g_test_add_func("/sriov/cli", test_cli);
        g_test_add_func("/sriov/persist", test_persist);
        g_test_add_func("/sriov/recreated-vfs-forget-net",
                        test_recreated_vfs_forget_net_settings);
        g_test_add_func("/sriov/persist/hostile", test_persist_hostile_entries);
        g_test_add_func("/sriov/persist/vf-loads-module", test_persist_vf_loads_module);
        return g_test_run();
}
