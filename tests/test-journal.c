/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal: crash at every step and recover; locks per group. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <gio/gio.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define NIC "0000:03:00.0"

static guint pending_journals(const HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, "var/lib/hostdev/journal");
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        guint n = 0;

        while (d && g_dir_read_name(d))
                n++;
        return n;
}

static void assert_on(const HdTestFixture *fx, const char *addr, const char *driver,
                      const char *override)
{
        g_autofree char *drv = hd_test_driver(fx, addr);
        g_autofree char *ov = hd_test_override(fx, addr);

        g_assert_cmpstr(drv, ==, driver);
        g_assert_cmpstr(ov, ==, override);
}

/* A key of the journal, freed with the test's other strings. */
static const char *key(GKeyFile *kf, const char *group, const char *name)
{
        static GPtrArray *keep;
        char *v = g_key_file_get_string(kf, group, name, NULL);

        if (!keep)
                keep = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(keep, v);
        return v;
}

static int run(const HdTestFixture *fx, const char *const *args, const char *const *env,
               char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, env, out, err);
}

/* Number of side effects of a command, from its dry run. */
static guint count_writes(const HdTestFixture *fx, const char *const *args)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;

        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, (gpointer) "--dry-run");
        g_ptr_array_add(argv, (gpointer) "--json");
        g_ptr_array_add(argv, NULL);
        g_assert_cmpint(run(fx, (const char *const *)argv->pdata, NULL, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        return json_array_get_length(
                json_object_get_array_member(json_node_get_object(root), "writes"));
}

static void test_crash_every_detach_step(void)
{
        g_autoptr(HdTestFixture) tmpl = hd_test_fixture_new("desktop");
        const char *detach[] = { "detach", GPU, "--group", NULL };
        guint total = count_writes(tmpl, detach);

        g_assert_cmpuint(total, ==, 7);
        for (guint n = 1; n <= total; n++) {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(tmpl);
                g_autofree char *crash = g_strdup_printf("HOSTDEV_CRASH_AT=write:%u", n);
                const char *env[] = { crash, NULL };
                const char *recover[] = { "recover", NULL };
                g_autofree char *out = NULL;

                g_test_message("crash after write %u of %u", n, total);
                g_assert_cmpint(run(fx, detach, env, NULL, NULL), ==, 128 + SIGKILL);
                g_assert_cmpuint(pending_journals(fx), ==, 1);
                g_assert_cmpint(run(fx, recover, NULL, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, "Recovered 1 interrupted operation"));
                /* J4: an unfinished detach is rolled back, never left driverless */
                assert_on(fx, GPU, "nouveau", NULL);
                assert_on(fx, AUDIO, "snd_hda_intel", NULL);
                g_assert_cmpuint(pending_journals(fx), ==, 0);
                /* and the host is usable for the next attempt */
                g_assert_cmpint(run(fx, detach, NULL, NULL, NULL), ==, 0);
                assert_on(fx, GPU, "vfio-pci", "vfio-pci");
                assert_on(fx, AUDIO, "vfio-pci", "vfio-pci");
        }
}

static void test_crash_every_attach_step(void)
{
        g_autoptr(HdTestFixture) tmpl = hd_test_fixture_new("desktop");
        const char *detach[] = { "detach", GPU, "--group", NULL };
        const char *attach[] = { "attach", GPU, "--group", NULL };
        guint total;

        g_assert_cmpint(run(tmpl, detach, NULL, NULL, NULL), ==, 0);
        total = count_writes(tmpl, attach);
        g_assert_cmpuint(total, ==, 6);
        for (guint n = 1; n <= total; n++) {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(tmpl);
                g_autofree char *crash = g_strdup_printf("HOSTDEV_CRASH_AT=write:%u", n);
                const char *env[] = { crash, NULL };
                g_autofree char *out = NULL;
                g_autoptr(JsonNode) root = NULL;

                g_assert_cmpint(run(fx, attach, env, NULL, NULL), ==, 128 + SIGKILL);
                /* the next mutating command recovers first: here the attach itself */
                {
                        const char *again[] = { "attach", GPU, "--group", "--json", NULL };
                        g_assert_cmpint(run(fx, again, NULL, &out, NULL), ==, 0);
                }
                root = hd_test_parse_json(out);
                g_assert_cmpint(json_object_get_int_member(json_node_get_object(root),
                                                           "recovered"),
                                ==, 1);
                assert_on(fx, GPU, "nouveau", NULL);
                assert_on(fx, AUDIO, "snd_hda_intel", NULL);
                g_assert_cmpuint(pending_journals(fx), ==, 0);
        }
        /* recovery alone puts an interrupted attach back on vfio-pci (its original driver) */
        {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(tmpl);
                const char *env[] = { "HOSTDEV_CRASH_AT=write:5", NULL };
                const char *recover[] = { "recover", "--json", NULL };
                g_autofree char *out = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;

                g_assert_cmpint(run(fx, attach, env, NULL, NULL), ==, 128 + SIGKILL);
                g_assert_cmpint(run(fx, recover, NULL, &out, NULL), ==, 0);
                root = hd_test_parse_json(out);
                o = json_node_get_object(root);
                g_assert_cmpint(json_object_get_int_member(o, "recovered"), ==, 1);
                g_assert_cmpint(json_object_get_int_member(o, "pending"), ==, 0);
                /* the rollback's own writes are reported */
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "writes")),
                                 >, 0);
                assert_on(fx, GPU, "vfio-pci", "vfio-pci");
                assert_on(fx, AUDIO, "vfio-pci", "vfio-pci");
        }
}

static void test_crash_during_rollback(void)
{
        g_autoptr(HdTestFixture) tmpl = hd_test_fixture_new("desktop");
        const char *detach[] = { "detach", GPU, "--group", NULL };
        const char *fail = "HOSTDEV_SIM_FAIL=probe@" AUDIO "=EINVAL";

        /* 7 forward writes, then the rollback's: crash in each of them */
        for (guint n = 8; n <= 13; n++) {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(tmpl);
                g_autofree char *crash = g_strdup_printf("HOSTDEV_CRASH_AT=write:%u", n);
                const char *env[] = { crash, fail, NULL };
                const char *renv[] = { fail, NULL };
                const char *recover[] = { "recover", NULL };

                g_assert_cmpint(run(fx, detach, env, NULL, NULL), ==, 128 + SIGKILL);
                g_assert_cmpuint(pending_journals(fx), ==, 1);
                g_assert_cmpint(run(fx, recover, renv, NULL, NULL), ==, 0);
                assert_on(fx, GPU, "nouveau", NULL);
                assert_on(fx, AUDIO, "snd_hda_intel", NULL);
                g_assert_cmpuint(pending_journals(fx), ==, 0);
        }
        /* without a crash the same failure rolls back in 13 writes */
        {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(tmpl);
                const char *env[] = { fail, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(fx, detach, env, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "rolled back"));
                assert_on(fx, GPU, "nouveau", NULL);
                assert_on(fx, AUDIO, "snd_hda_intel", NULL);
        }
}

static void test_journal_contents(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *detach[] = { "detach", GPU, "--group", NULL };
        const char *env[] = { "HOSTDEV_CRASH_AT=write:3", NULL };
        g_autofree char *dir = hd_test_path(fx, "var/lib/hostdev/journal");
        g_autoptr(GDir) d = NULL;
        g_autofree char *file = NULL;
        g_autofree char *data = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();

        g_assert_cmpint(run(fx, detach, env, NULL, NULL), ==, 128 + SIGKILL);
        d = g_dir_open(dir, 0, NULL);
        g_assert_nonnull(d);
        file = g_build_filename(dir, g_dir_read_name(d), NULL);
        g_assert_true(g_file_get_contents(file, &data, NULL, NULL));
        g_assert_true(g_key_file_load_from_data(kf, data, -1, 0, NULL));
        g_assert_cmpstr(key(kf, "transaction", "operation"), ==, "detach");
        g_assert_cmpstr(key(kf, "transaction", "state"), ==, "writing");
        g_assert_cmpint(g_key_file_get_integer(kf, "transaction", "devices", NULL), ==, 2);
        g_assert_cmpint(g_key_file_get_integer(kf, "transaction", "steps", NULL), ==, 6);
        g_assert_cmpstr(key(kf, "device 0", "address"), ==, GPU);
        g_assert_cmpstr(key(kf, "device 0", "original_driver"), ==,
                        "nouveau");
        g_assert_false(g_key_file_has_key(kf, "device 0", "original_override", NULL));
        g_assert_cmpstr(key(kf, "device 1", "original_driver"), ==,
                        "snd_hda_intel");
        /* write 1 was the module, 2 the override (marked), 3 the unbind (killed before its
         * mark: the marks lag, which is why recovery looks at the devices, J3) */
        g_assert_true(g_key_file_get_boolean(kf, "step 0", "done", NULL));
        g_assert_false(g_key_file_get_boolean(kf, "step 1", "done", NULL));
        g_assert_cmpstr(key(kf, "step 1", "path"), ==,
                        "sys/bus/pci/drivers/nouveau/unbind");
        /* the device is driverless right now; recovery fixes it */
        {
                g_autofree char *drv = hd_test_driver(fx, GPU);
                g_assert_null(drv);
        }
}

static void test_committing_is_completed(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdJournal) j = hd_journal_new(ctx, HD_TX_DETACH);
        g_auto(GStrv) parts = NULL;
        g_autofree char *drv = NULL;
        guint n = 0;

        /* a transaction that finished its writes and died in the bookkeeping */
        hd_journal_add_device(j, GPU, 1, "nouveau", NULL, "vfio-pci");
        g_assert_true(hd_journal_begin(j, &error));
        g_free(j->state);
        j->state = g_strdup("committing");
        g_assert_true(hd_journal_begin(j, &error)); /* saves whatever state it has... */
        /* ...begin always writes "writing": write the committing state by hand */
        {
                g_autofree char *path = hd_test_path(fx, j->file);
                g_autofree char *data = NULL;
                g_autofree char *edited = NULL;
                g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
                parts = g_strsplit(data, "state=writing", -1);
                edited = g_strjoinv("state=committing", parts);
                g_assert_true(g_file_set_contents(path, edited, -1, NULL));
        }
        g_assert_true(hd_journal_recover(ctx, &n, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        g_assert_true(hd_journal_get_origin(ctx, GPU, &drv, NULL));
        g_assert_cmpstr(drv, ==, "nouveau");
        /* completed forward: nothing was written to the devices */
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

static int hold_lock(const HdTestFixture *fx, int group)
{
        g_autofree char *dir = hd_test_path(fx, "run/hostdev");
        g_autofree char *path = g_strdup_printf("%s/group-%d.lock", dir, group);
        int fd;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0);
        g_assert_cmpint(write(fd, "31337\n", 6), ==, 6);
        return fd;
}

static void test_lock_same_group_busy(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        const char *detach[] = { "detach", GPU, "--group", NULL };
        g_autofree char *err = NULL;
        int fd = hold_lock(fx, 1);
        HdAddress nic = hd_test_address(NIC);
        HdBindOptions force2 = { .force = 2 };

        /* another process is changing group 1: fail at once, name it */
        g_assert_cmpint(run(fx, detach, NULL, NULL, &err), ==, 1);
        {
                /* the holder is this process (the kernel's lock table says so, whatever the
                 * file holds) */
                g_autofree char *expect = g_strdup_printf(
                        "IOMMU group 1 is being changed by another hostdev process (pid %d)",
                        (int)getpid());
                g_assert_nonnull(strstr(err, expect));
        }
        {
                HdAddress gpu = hd_test_address(GPU);
                HdBindOptions opts = { .group = TRUE };
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &gpu, 1, &opts, &error);
                g_assert_null(r);
                g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
                g_clear_error(&error);
        }
        {
                /* other groups are independent */
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &nic, 1, &force2, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r);
        }
        close(fd);
        g_assert_cmpint(run(fx, detach, NULL, NULL, NULL), ==, 0);
}

static void test_recover_skips_live_transaction(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *detach[] = { "detach", GPU, "--group", NULL };
        const char *env[] = { "HOSTDEV_CRASH_AT=write:4", NULL };
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GError) error = NULL;
        guint n = 99;
        int fd;

        g_assert_cmpint(run(fx, detach, env, NULL, NULL), ==, 128 + SIGKILL);
        ctx = hd_test_ctx_new(fx);
        /* as if its process were still running: its group is locked */
        fd = hold_lock(fx, 1);
        g_assert_true(hd_journal_recover(ctx, &n, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(n, ==, 0);
        g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 1);
        close(fd);
        g_assert_true(hd_journal_recover(ctx, &n, &error));
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 0);
        assert_on(fx, GPU, "nouveau", NULL);
}

static void test_bad_journal_does_not_block_others(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *detach[] = { "detach", GPU, "--group", NULL };
        const char *env[] = { "HOSTDEV_CRASH_AT=write:3", NULL };
        g_autofree char *bad = hd_test_path(fx, "var/lib/hostdev/journal/0-garbage");
        g_autofree char *stale = hd_test_path(fx, "var/lib/hostdev/journal/x.tmp.999999999");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GError) error = NULL;
        guint n = 0;

        g_assert_cmpint(run(fx, detach, env, NULL, NULL), ==, 128 + SIGKILL);
        g_assert_true(g_file_set_contents(bad, "[transaction]\noperation=explode\n", -1, NULL));
        g_assert_true(g_file_set_contents(stale, "half a journal", -1, NULL));
        ctx = hd_test_ctx_new(fx);
        /* J5: the file that is not a journal is quarantined (kept, no longer read) */
        g_assert_true(hd_journal_recover(ctx, &n, &error));
        g_assert_no_error(error);
        g_assert_false(g_file_test(bad, G_FILE_TEST_EXISTS));
        {
                g_autofree char *qdir = hd_test_path(fx, "var/lib/hostdev/journal/quarantine");
                g_autoptr(GDir) d = g_dir_open(qdir, 0, NULL);
                const char *name = d ? g_dir_read_name(d) : NULL;
                g_autofree char *kept = name ? g_build_filename(qdir, name, NULL) : NULL;
                g_autofree char *text = NULL;
                g_assert_nonnull(name);
                g_assert_true(g_str_has_prefix(name, "0-garbage."));
                g_assert_true(g_file_get_contents(kept, &text, NULL, NULL));
                g_assert_cmpstr(text, ==, "[transaction]\noperation=explode\n");
        }
        /* the good one was still rolled back, the dead writer's temp file removed */
        g_assert_cmpuint(n, ==, 1);
        assert_on(fx, GPU, "nouveau", NULL);
        g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
        g_assert_cmpuint(hd_journal_count_pending(ctx), ==, 0);
        /* and mutating commands go on */
        g_assert_cmpint(run(fx, detach, NULL, NULL, NULL), ==, 0);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/journal/crash/detach-every-step", test_crash_every_detach_step);
        g_test_add_func("/journal/crash/attach-every-step", test_crash_every_attach_step);
        g_test_add_func("/journal/crash/during-rollback", test_crash_during_rollback);
        g_test_add_func("/journal/contents", test_journal_contents);
        g_test_add_func("/journal/committing-completed", test_committing_is_completed);
        g_test_add_func("/journal/bad-journal", test_bad_journal_does_not_block_others);
        g_test_add_func("/journal/lock/same-group-busy", test_lock_same_group_busy);
        g_test_add_func("/journal/lock/recover-skips-live", test_recover_skips_live_transaction);
        return g_test_run();
}
