/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel command line options, bootloader editing and `hostdev kernel-args`, on fixtures with
 * the sim backend: the write log shows the exact files and commands. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "testlib.h"

/* Fixtures that tests only read (plans without --apply), built once per program: building
 * one takes seconds on a slow filesystem. */
static GHashTable *shared_fixtures;

static const HdTestFixture *shared_fixture(const char *topology)
{
        HdTestFixture *fx;

        if (!shared_fixtures)
                shared_fixtures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify)hd_test_fixture_free);
        fx = g_hash_table_lookup(shared_fixtures, topology);
        if (!fx) {
                fx = hd_test_fixture_new(topology);
                g_hash_table_insert(shared_fixtures, g_strdup(topology), fx);
        }
        return fx;
}

static char *read_root_file(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

static void write_root_file(const HdTestFixture *fx, const char *rel, const char *text)
{
        g_autofree char *path = hd_test_path(fx, rel);
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static gboolean root_file_exists(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);

        return g_file_test(path, G_FILE_TEST_EXISTS);
}

static GPtrArray *strs(const char *first, ...)
{
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                g_ptr_array_add(a, g_strdup(s));
        va_end(ap);
        return a;
}

typedef struct {
        GPtrArray *enable, *disable, *custom, *remove;
} Req;

static void req_clear(Req *r)
{
        g_clear_pointer(&r->enable, g_ptr_array_unref);
        g_clear_pointer(&r->disable, g_ptr_array_unref);
        g_clear_pointer(&r->custom, g_ptr_array_unref);
        g_clear_pointer(&r->remove, g_ptr_array_unref);
}

static HdKernelArgs *plan(HdCtx *ctx, Req *r, GError **error)
{
        HdKernelArgsRequest req = {r->enable, r->disable, r->custom, r->remove};
        HdKernelArgs *ka = hd_kernel_args_plan(ctx, &req, error);

        req_clear(r);
        return ka;
}

/* plan() that must succeed. */
static HdKernelArgs *plan_ok(HdCtx *ctx, Req *r)
{
        g_autoptr(GError) error = NULL;
        HdKernelArgs *ka = plan(ctx, r, &error);

        g_assert_no_error(error);
        g_assert_nonnull(ka);
        return ka;
}

/* plan() that must fail with @code, its message holding each of the words that follow (a
 * NULL-terminated list), having written nothing. */
static void assert_plan_fails(HdCtx *ctx, Req *r, int code, ...)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = plan(ctx, r, &error);
        va_list ap;

        g_assert_null(ka);
        va_start(ap, code);
        hd_test_assert_error_words(error, code, "plan", ap);
        va_end(ap);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

/* Plan and apply on a fresh context; returns the context's write log as "op path|value"
 * lines (file contents left out). */
static char *apply(const HdTestFixture *fx, Req *r, HdKernelArgs **out)
{
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = plan(ctx, r, &error);
        g_autoptr(GString) log = g_string_new(NULL);
        const GPtrArray *writes;

        g_assert_no_error(error);
        g_assert_true(hd_kernel_args_apply(ctx, ka, &error));
        g_assert_no_error(error);
        writes = hd_ctx_get_write_log(ctx);
        for (guint i = 0; i < writes->len; i++) {
                const HdCtxWrite *w = writes->pdata[i];
                if (w->op == HD_BACKEND_OP_RUN)
                        g_string_append_printf(log, "run %s\n", w->value);
                else if (w->op == HD_BACKEND_OP_REPLACE_FILE)
                        g_string_append_printf(log, "file %s\n", w->path);
                else
                        g_string_append_printf(log, "other %s\n", w->path);
        }
        if (out)
                *out = g_steal_pointer(&ka);
        return g_string_free(g_steal_pointer(&log), FALSE);
}

static char *join(const GPtrArray *words)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < words->len; i++)
                g_string_append_printf(s, "%s%s", i ? " " : "", (const char *)words->pdata[i]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ---- parsing ---- */

static void test_split(void)
{
        static const struct {
                const char *line;
                const char *joined; /* words joined with '|' */
        } cases[] = {
            {"", ""},
            {"   \t\n", ""},
            {"quiet", "quiet"},
            {"  ro  quiet\tsplash\n", "ro|quiet|splash"},
            {"foo=\"a b\" bar", "foo=\"a b\"|bar"},
            {"\"quoted word\" x", "\"quoted word\"|x"},
            {"dyndbg=\"file drivers/x.c +p\" intel_iommu=on",
             "dyndbg=\"file drivers/x.c +p\"|intel_iommu=on"},
            {"a -- init args", "a|--|init|args"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) words = hd_cmdline_split(cases[i].line, &error);
                g_autoptr(GString) s = g_string_new(NULL);

                g_assert_no_error(error);
                for (guint w = 0; w < words->len; w++)
                        g_string_append_printf(s, "%s%s", w ? "|" : "",
                                               (const char *)words->pdata[w]);
                g_assert_cmpstr(s->str, ==, cases[i].joined);
        }
        {
                g_autoptr(GError) error = NULL;
                g_assert_null(hd_cmdline_split("foo=\"unterminated bar", &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        }
}

static void test_arg_equal(void)
{
        g_autofree char *key = hd_cmdline_arg_key("kvm-intel.nested=1");

        g_assert_cmpstr(key, ==, "kvm_intel.nested");
        g_assert_true(hd_cmdline_arg_equal("kvm-intel.nested=1", "kvm_intel.nested=1"));
        g_assert_false(hd_cmdline_arg_equal("kvm-intel.nested=1", "kvm-intel.nested=0"));
        g_assert_false(hd_cmdline_arg_equal("quiet", "quiet=1"));
        g_assert_true(hd_cmdline_arg_equal("quiet", "quiet"));
}

/* ---- options per vendor ---- */

static char *added_for(const char *topology, const char *option)
{
        const HdTestFixture *fx = shared_fixture(topology);
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs(option, NULL)};

        ka = plan_ok(ctx, &r);
        return join(ka->added);
}

static void test_options_per_vendor(void)
{
        static const struct {
                const char *option, *intel, *amd;
        } cases[] = {
            {"iommu", "intel_iommu=on", ""},
            {"iommu-pt", "iommu=pt", "iommu=pt"},
            {"nested", "kvm-intel.nested=1", "kvm-amd.nested=1"},
            {"unsafe-interrupts", "vfio_iommu_type1.allow_unsafe_interrupts=1",
             "vfio_iommu_type1.allow_unsafe_interrupts=1"},
            {"pci-realloc", "pci=realloc", "pci=realloc"},
            {"blacklist-nouveau", "modprobe.blacklist=nouveau rd.driver.blacklist=nouveau",
             "modprobe.blacklist=nouveau rd.driver.blacklist=nouveau"},
            {"release-framebuffer", "video=efifb:off initcall_blacklist=sysfb_init",
             "video=efifb:off initcall_blacklist=sysfb_init"},
            {"vfio-ids=10de:1b80,10de:10f0", "vfio-pci.ids=10de:1b80,10de:10f0",
             "vfio-pci.ids=10de:1b80,10de:10f0"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *intel = added_for("grubby-host", cases[i].option);
                g_autofree char *amd = added_for("systemd-boot-host", cases[i].option);

                g_assert_cmpstr(intel, ==, cases[i].intel);
                g_assert_cmpstr(amd, ==, cases[i].amd);
        }
}

static void test_amd_iommu_removes_off(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("systemd-boot-host");
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autofree char *log = NULL;
        g_autofree char *text = NULL;
        Req r = {.enable = strs("iommu", NULL)};

        write_root_file(fx, "etc/kernel/cmdline", "root=UUID=7e6d rw amd_iommu=off quiet\n");
        log = apply(fx, &r, &ka);
        text = read_root_file(fx, "etc/kernel/cmdline");
        g_assert_cmpstr(text, ==, "root=UUID=7e6d rw quiet\n");
        g_assert_cmpuint(ka->removed->len, ==, 1);
        g_assert_cmpstr(ka->removed->pdata[0], ==, "amd_iommu=off");
}

/* ---- bad input ---- */

static void expect_plan_error(const char *topology, Req *r, int code, const char *needle)
{
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(shared_fixture(topology));

        assert_plan_fails(ctx, r, code, needle, NULL);
}

static void test_bad_input(void)
{
        Req r;

        r = (Req){.enable = strs("iommmu", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT,
                          "valid options: iommu, iommu-pt");
        r = (Req){.disable = strs("turbo", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT,
                          "unknown kernel option 'turbo'");
        r = (Req){.enable = strs("vfio-ids", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT, "needs a value");
        r = (Req){.enable = strs("vfio-ids=nvidia", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT, "VENDOR:DEVICE");
        r = (Req){.enable = strs("iommu=on", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT, "takes no value");
        r = (Req){.custom = strs("foo=\"open", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT, "unterminated");
}

static void test_conflicts(void)
{
        Req r;

        r = (Req){.enable = strs("iommu", NULL), .disable = strs("iommu", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT, "contradict");
        /* Intel arguments on an AMD host */
        r = (Req){.custom = strs("intel_iommu=on", NULL)};
        expect_plan_error("amd-host", &r, HD_ERROR_REFUSED, "no effect on this AMD host");
        r = (Req){.custom = strs("kvm-amd.nested=1", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_REFUSED, "AMD CPUs");
        /* an option and a custom word that say the opposite */
        r = (Req){.enable = strs("iommu", NULL), .custom = strs("intel_iommu=off", NULL)};
        expect_plan_error("firmware-only", &r, HD_ERROR_REFUSED, "contradict");
        r = (Req){.custom = strs("foo=1", NULL), .remove = strs("foo", NULL)};
        expect_plan_error("desktop", &r, HD_ERROR_INVALID_ARGUMENT, "contradicts");
}

/* ---- GRUB ---- */

static void test_grub_apply_revert(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *log = NULL;
        g_autofree char *log2 = NULL;
        g_autofree char *text = NULL;
        g_autofree char *back = NULL;
        g_autofree char *backup = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autoptr(HdKernelArgs) ka2 = NULL;
        Req r = {.enable = strs("iommu", "iommu-pt", NULL),
                 .custom = strs("foo=\"a b\" bar", NULL)};

        log = apply(fx, &r, &ka);
        g_assert_cmpstr(log, ==,
                        "file etc/default/grub.hostdev-backup\n"
                        "file etc/default/grub\n"
                        "run update-grub\n"
                        "file var/lib/hostdev/kernel-args.json\n");
        g_assert_true(ka->applied);
        g_assert_true(ka->reboot_required);
        g_assert_cmpint(ka->bootloader, ==, HD_BOOTLOADER_GRUB);
        text = read_root_file(fx, "etc/default/grub");
        /* intel_iommu=off replaced in place; new words go to GRUB_CMDLINE_LINUX; custom
         * quotes escaped for the shell */
        g_assert_nonnull(strstr(text, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n"));
        g_assert_nonnull(strstr(text, "\nGRUB_CMDLINE_LINUX=\"iommu=pt foo=\\\"a b\\\" bar\"\n"));
        backup = read_root_file(fx, "etc/default/grub.hostdev-backup");
        g_assert_cmpstr(backup, ==, orig);
        {
                g_autofree char *notes = join(ka->notes);
                g_assert_nonnull(strstr(notes, "intel_iommu=on replaces intel_iommu=off"));
        }

        /* revert: every byte comes back */
        r = (Req){.disable = strs("iommu", "iommu-pt", NULL), .remove = strs("foo", "bar", NULL)};
        log2 = apply(fx, &r, &ka2);
        back = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(back, ==, orig);
        g_assert_false(ka2->reboot_required);
}

static void test_grub_quoting_kept(void)
{
        static const char *const variants[] = {
            /* single quotes, export, comments around, a DEFAULT after LINUX */
            ("# comment\nexport GRUB_CMDLINE_LINUX='console=ttyS0,115200n8'  # serial\n"
             "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet   splash\"\n"),
            /* unquoted, and an earlier assignment that is overridden */
            "GRUB_CMDLINE_LINUX=\"old\"\nGRUB_CMDLINE_LINUX=quiet\n",
            /* empty, no newline at the end */
            "GRUB_CMDLINE_LINUX=\"\"",
            /* no GRUB_CMDLINE_LINUX at all */
            "GRUB_DEFAULT=0\n",
            /* a kernel-quoted value inside shell quotes */
            "GRUB_CMDLINE_LINUX=\"dyndbg=\\\"module vfio +p\\\" quiet\"\n",
        };

        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");

        for (gsize i = 0; i < G_N_ELEMENTS(variants); i++) {
                g_autofree char *state = hd_test_path(fx, HD_KERNEL_ARGS_STATE);
                g_autofree char *l1 = NULL;
                g_autofree char *l2 = NULL;
                g_autofree char *back = NULL;
                g_autoptr(HdKernelArgs) ka = NULL;
                Req r = {.enable = strs("iommu-pt", "nested", NULL)};

                (void)g_unlink(state);
                write_root_file(fx, "etc/default/grub", variants[i]);
                l1 = apply(fx, &r, &ka);
                g_assert_true(ka->applied);
                {
                        /* what is configured now is what the next plan reads back */
                        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                        g_autoptr(GError) error = NULL;
                        Req none = {0};
                        g_autoptr(HdKernelArgs) again = plan(ctx, &none, &error);
                        g_autofree char *conf = NULL;
                        g_assert_no_error(error);
                        conf = join(again->configured);
                        g_assert_nonnull(strstr(conf, "iommu=pt kvm-intel.nested=1"));
                }
                r = (Req){.disable = strs("iommu-pt", "nested", NULL)};
                l2 = apply(fx, &r, NULL);
                back = read_root_file(fx, "etc/default/grub");
                if (i == 1)
                        /* a bare word that needed quotes once keeps them (same value) */
                        g_assert_cmpstr(
                            back, ==, "GRUB_CMDLINE_LINUX=\"old\"\nGRUB_CMDLINE_LINUX=\"quiet\"\n");
                else if (i == 3)
                        /* the line hostdev had to add stays, empty */
                        g_assert_cmpstr(back, ==, "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"\"\n");
                else
                        g_assert_cmpstr(back, ==, variants[i]);
        }
}

static void test_grub_d_noted(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autofree char *dir = hd_test_path(fx, "etc/default/grub.d");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autofree char *notes = NULL;
        Req r = {0};

        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        write_root_file(fx, "etc/default/grub.d/50-cloudimg-settings.cfg",
                        "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\n");
        ka = plan_ok(ctx, &r);
        notes = join(ka->notes);
        g_assert_nonnull(strstr(notes, "/etc/default/grub.d/50-cloudimg-settings.cfg also sets"));
}

static void test_grub_unparseable(void)
{
        static const char *const bad[] = {
            "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX iommu=pt\"\n",
            "GRUB_CMDLINE_LINUX=\"quiet\n",
            "GRUB_CMDLINE_LINUX=`cat /etc/cmdline`\n",
            "GRUB_CMDLINE_LINUX=\"quiet\" splash\n",
            "GRUB_CMDLINE_LINUX=\"foo=\\\"open\"\n",
        };

        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                g_autofree char *after = NULL;
                Req r = {.enable = strs("iommu", NULL)};

                write_root_file(fx, "etc/default/grub", bad[i]);
                assert_plan_fails(ctx, &r, HD_ERROR_FAILED, "cannot parse /etc/default/grub line 1",
                                  "left untouched", NULL);
                after = read_root_file(fx, "etc/default/grub");
                g_assert_cmpstr(after, ==, bad[i]);
        }
}

static void test_failed_command_restores(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *after = NULL;
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", NULL)};

        ka = plan_ok(ctx, &r);
        g_setenv("HOSTDEV_SIM_FAIL_RUN", "update-grub", TRUE);
        g_assert_false(hd_kernel_args_apply(ctx, ka, &error));
        g_unsetenv("HOSTDEV_SIM_FAIL_RUN");
        g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "update-grub failed"));
        g_assert_nonnull(strstr(error->message, "restored"));
        g_assert_false(ka->applied);
        after = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(after, ==, orig);
        /* nothing remembered as added */
        g_assert_false(root_file_exists(fx, HD_KERNEL_ARGS_STATE));
}

static void test_idempotent(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *l1 = NULL;
        g_autofree char *l2 = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", NULL)};

        l1 = apply(fx, &r, NULL);
        r = (Req){.enable = strs("iommu", NULL)};
        l2 = apply(fx, &r, &ka);
        g_assert_cmpstr(l2, ==, "");
        g_assert_false(ka->applied);
        g_assert_cmpuint(ka->added->len, ==, 0);
}

static void test_hand_written_stays(void)
{
        /* desktop's admin wrote intel_iommu=on and iommu=pt by hand */
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *l1 = NULL;
        g_autofree char *l2 = NULL;
        g_autofree char *after = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autoptr(HdKernelArgs) ka2 = NULL;
        Req r = {.disable = strs("iommu", "iommu-pt", NULL)};

        l1 = apply(fx, &r, &ka);
        g_assert_cmpstr(l1, ==, "");
        g_assert_false(ka->reboot_required);
        {
                g_autofree char *notes = join(ka->notes);
                g_assert_nonnull(
                    strstr(notes, "intel_iommu=on was not added by hostdev and stays"));
        }
        after = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(after, ==, orig);

        /* an explicit --remove takes it away */
        r = (Req){.remove = strs("iommu", NULL)};
        l2 = apply(fx, &r, &ka2);
        g_assert_cmpuint(ka2->removed->len, ==, 1);
        g_assert_cmpstr(ka2->removed->pdata[0], ==, "iommu=pt");
        g_assert_true(ka2->reboot_required);
}

static void test_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *after = NULL;
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", NULL)};

        hd_ctx_set_dry_run(ctx, TRUE);
        ka = plan(ctx, &r, &error);
        g_assert_true(hd_kernel_args_apply(ctx, ka, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 4);
        g_assert_false(ka->applied);
        after = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(after, ==, orig);
        g_assert_false(root_file_exists(fx, "etc/default/grub.hostdev-backup"));
}

static void test_real_backend_refused_on_fixture(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = hd_ctx_new(fx->root, HD_BACKEND_REAL, &error);
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", NULL)};

        g_assert_no_error(error);
        ka = plan_ok(ctx, &r);
        g_assert_false(hd_kernel_args_apply(ctx, ka, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

static void test_comma_list_counts(void)
{
        /* intel_iommu=on,sm_on already says "on": nothing to add, nothing replaced */
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autofree char *l1 = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", NULL)};

        write_root_file(fx, "etc/default/grub", "GRUB_CMDLINE_LINUX=\"intel_iommu=on,sm_on\"\n");
        l1 = apply(fx, &r, &ka);
        g_assert_cmpstr(l1, ==, "");
        g_assert_cmpuint(ka->added->len, ==, 0);
}

static void test_vfio_ids_change_and_disable(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        const char *orig = "GRUB_CMDLINE_LINUX=\"quiet\"\n";
        g_autofree char *l1 = NULL;
        g_autofree char *l2 = NULL;
        g_autofree char *l3 = NULL;
        g_autofree char *mid = NULL;
        g_autofree char *back = NULL;
        Req r = {.enable = strs("vfio-ids=10de:1b80", NULL)};

        write_root_file(fx, "etc/default/grub", orig);
        l1 = apply(fx, &r, NULL);
        /* a second value replaces hostdev's first one in place */
        r = (Req){.enable = strs("vfio-ids=10de:1b80,10de:10f0", NULL)};
        l2 = apply(fx, &r, NULL);
        mid = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(mid, ==, "GRUB_CMDLINE_LINUX=\"quiet vfio-pci.ids=10de:1b80,10de:10f0\"\n");
        /* --disable without a value: whatever hostdev set */
        r = (Req){.disable = strs("vfio-ids", NULL)};
        l3 = apply(fx, &r, NULL);
        back = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(back, ==, orig);
}

/* ---- the other bootloaders ---- */

static void test_grubby_apply_revert(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("grubby-host");
        const char *e39 =
            "boot/loader/entries/4c4c4544004e3510805ab3c04f4e3332-6.5.6-300.fc39.x86_64.conf";
        const char *e38 =
            "boot/loader/entries/4c4c4544004e3510805ab3c04f4e3332-6.2.9-300.fc38.x86_64.conf";
        g_autofree char *o39 = read_root_file(fx, e39);
        g_autofree char *o38 = read_root_file(fx, e38);
        g_autofree char *l1 = NULL;
        g_autofree char *l2 = NULL;
        g_autofree char *n39 = NULL;
        g_autofree char *b39 = NULL;
        g_autofree char *b38 = NULL;
        g_autofree char *expect = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", "iommu-pt", NULL), .custom = strs("foo=\"a b\"", NULL)};

        l1 = apply(fx, &r, &ka);
        g_assert_cmpint(ka->bootloader, ==, HD_BOOTLOADER_GRUBBY);
        /* the default (newest) entry is what boots next */
        g_assert_cmpstr(ka->config_path, ==, e39);
        expect = g_strdup_printf(
            "file %s.hostdev-backup\nfile %s\nfile %s.hostdev-backup\nfile %s\n"
            "run grubby --update-kernel=ALL --args=intel_iommu=on iommu=pt foo=\"a b\"\n"
            "file var/lib/hostdev/kernel-args.json\n",
            e38, e38, e39, e39);
        g_assert_cmpstr(l1, ==, expect);
        n39 = read_root_file(fx, e39);
        g_assert_nonnull(
            strstr(n39, "\noptions root=UUID=8d1f5c3a-2b4e-4f6a-9c7d-0e1f2a3b4c5d ro rhgb quiet "
                        "intel_iommu=on iommu=pt foo=\"a b\"\n"));

        r = (Req){.disable = strs("iommu", "iommu-pt", NULL), .remove = strs("foo", NULL)};
        l2 = apply(fx, &r, NULL);
        g_assert_nonnull(strstr(
            l2,
            "run grubby --update-kernel=ALL --remove-args=intel_iommu=on iommu=pt foo=\"a b\"\n"));
        b39 = read_root_file(fx, e39);
        b38 = read_root_file(fx, e38);
        g_assert_cmpstr(b39, ==, o39);
        g_assert_cmpstr(b38, ==, o38);
}

static void test_grubby_kernelopts_unparseable(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("grubby-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        Req r = {.enable = strs("iommu", NULL)};

        write_root_file(
            fx, "boot/loader/entries/4c4c4544004e3510805ab3c04f4e3332-6.5.6-300.fc39.x86_64.conf",
            "title x\noptions $kernelopts $tuned_params\n");
        assert_plan_fails(ctx, &r, HD_ERROR_FAILED, "grubenv", NULL);
}

static void test_systemd_boot_apply_revert(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("systemd-boot-host");
        g_autofree char *orig = read_root_file(fx, "etc/kernel/cmdline");
        g_autofree char *l1 = NULL;
        g_autofree char *l2 = NULL;
        g_autofree char *now = NULL;
        g_autofree char *back = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("nested", "vfio-ids=1002:73bf,1002:ab28", NULL)};

        l1 = apply(fx, &r, &ka);
        g_assert_cmpint(ka->bootloader, ==, HD_BOOTLOADER_SYSTEMD_BOOT);
        g_assert_cmpstr(l1, ==,
                        "file etc/kernel/cmdline.hostdev-backup\n"
                        "file etc/kernel/cmdline\n"
                        "run kernel-install add 6.6.1-arch1-1 /boot/vmlinuz-6.6.1-arch1-1\n"
                        "file var/lib/hostdev/kernel-args.json\n");
        now = read_root_file(fx, "etc/kernel/cmdline");
        g_assert_cmpstr(now, ==,
                        "root=UUID=7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9 rw quiet "
                        "kvm-amd.nested=1 vfio-pci.ids=1002:73bf,1002:ab28\n");
        r = (Req){.disable = strs("nested", "vfio-ids=1002:73bf,1002:ab28", NULL)};
        l2 = apply(fx, &r, NULL);
        back = read_root_file(fx, "etc/kernel/cmdline");
        g_assert_cmpstr(back, ==, orig);
}

static void test_proxmox_apply_revert(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-host");
        g_autofree char *orig = read_root_file(fx, "etc/kernel/cmdline");
        g_autofree char *l1 = NULL;
        g_autofree char *l2 = NULL;
        g_autofree char *back = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu", "iommu-pt", NULL)};

        l1 = apply(fx, &r, &ka);
        g_assert_cmpint(ka->bootloader, ==, HD_BOOTLOADER_PROXMOX);
        g_assert_cmpstr(l1, ==,
                        "file etc/kernel/cmdline.hostdev-backup\n"
                        "file etc/kernel/cmdline\n"
                        "run proxmox-boot-tool refresh\n"
                        "file var/lib/hostdev/kernel-args.json\n");
        r = (Req){.disable = strs("iommu", "iommu-pt", NULL)};
        l2 = apply(fx, &r, NULL);
        back = read_root_file(fx, "etc/kernel/cmdline");
        g_assert_cmpstr(back, ==, orig);
}

static void test_proxmox_grub(void)
{
        /* proxmox-boot-tool on a GRUB install: etc/default/grub, then refresh */
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-host");
        g_autofree char *l1 = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autofree char *path = hd_test_path(fx, "etc/kernel/cmdline");
        Req r = {.enable = strs("iommu-pt", NULL)};

        g_assert_cmpint(g_unlink(path), ==, 0);
        l1 = apply(fx, &r, &ka);
        g_assert_cmpint(ka->bootloader, ==, HD_BOOTLOADER_PROXMOX);
        g_assert_cmpstr(ka->config_path, ==, "etc/default/grub");
        g_assert_nonnull(strstr(l1, "file etc/default/grub\nrun proxmox-boot-tool refresh\n"));
}

static void test_unknown_bootloader(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autofree char *path = hd_test_path(fx, "etc/default/grub");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        Req r = {.enable = strs("iommu-pt", NULL)};

        g_assert_cmpint(g_unlink(path), ==, 0);
        ka = plan_ok(ctx, &r);
        g_assert_cmpint(ka->bootloader, ==, HD_BOOTLOADER_UNKNOWN);
        g_assert_false(hd_kernel_args_apply(ctx, ka, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
}

/* ---- through the CLI ---- */

static void test_cli(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *out = NULL;
        g_autofree char *out2 = NULL;
        g_autofree char *out3 = NULL;
        g_autofree char *err = NULL;
        g_autofree char *err2 = NULL;
        g_autofree char *after = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        {
                const char *argv[] = {"--root", fx->root, "kernel-args", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        }
        g_assert_nonnull(strstr(out, "running     BOOT_IMAGE="));
        g_assert_nonnull(strstr(out, "configured  quiet intel_iommu=off\n"));
        g_assert_nonnull(strstr(out, "desired     quiet intel_iommu=off\n"));
        g_assert_null(strstr(out, "reboot required"));

        {
                const char *argv[] = {"--root", fx->root, "kernel-args", "--enable", "iomu", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err), ==, 2);
        }
        g_assert_nonnull(strstr(err, "valid options"));

        /* a failing update-grub: exit 1, the file is as it was */
        {
                const char *argv[] = {"--root", fx->root,  "kernel-args", "--enable",
                                      "iommu",  "--apply", NULL};
                const char *env[] = {"HOSTDEV_SIM_FAIL_RUN=*", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, env, NULL, &err2), ==, 1);
        }
        after = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(after, ==, orig);

        {
                const char *argv[] = {"--root", fx->root,  "kernel-args", "--enable",
                                      "iommu",  "--apply", "--json",      NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out2, NULL), ==, 0);
        }
        root = hd_test_parse_json(out2);
        o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "bootloader"), ==, "grub");
        g_assert_true(json_object_get_boolean_member(o, "applied"));
        g_assert_true(json_object_get_boolean_member(o, "reboot_required"));
        g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(o, "added"), 0),
                        ==, "intel_iommu=on");
        g_assert_cmpstr(
            json_array_get_string_element(json_object_get_array_member(o, "removed"), 0), ==,
            "intel_iommu=off");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "running")), ==, 5);
        g_assert_true(json_object_has_member(o, "configured"));
        g_assert_true(json_object_has_member(o, "desired"));

        {
                const char *argv[] = {"--root", fx->root, "kernel-args", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out3, NULL), ==, 0);
        }
        g_assert_nonnull(strstr(out3, "configured  quiet intel_iommu=on\n"));
        g_assert_nonnull(strstr(out3, "reboot required"));
}

/* Found by fuzz-bootloader: in etc/kernel/cmdline a word starting with '#' became a comment
 * line when the word before it was removed, and a quoted word spanning lines boots as two
 * (kernel-install knows no quotes). Both are refused, the file left alone. */
static void test_kernel_cmdline_file_refusals(void)
{
        g_autoptr(GPtrArray) words = NULL;
        g_autoptr(GPtrArray) edits =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_arg_edit_free);
        g_autoptr(GError) error = NULL;
        g_autofree char *edited = NULL;

        g_assert_false(hd_bootloader_edit_text(HD_BOOTLOADER_FILE_KERNEL_CMDLINE,
                                               "root=/dev/sda1\nquiet #x\n", NULL, &words, NULL,
                                               &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "starts with '#'"));
        g_clear_error(&error);
        g_assert_false(hd_bootloader_edit_text(HD_BOOTLOADER_FILE_KERNEL_CMDLINE,
                                               "root=/dev/sda1 a=\"b\nc\" quiet\n", NULL,
                                               &words, NULL, &error));
        g_assert_nonnull(strstr(error->message, "spans lines"));
        g_clear_error(&error);

        /* what it accepts round-trips */
        g_ptr_array_add(edits, hd_arg_edit_new(HD_ARG_EDIT_REMOVE, "quiet", NULL));
        g_ptr_array_add(edits, hd_arg_edit_new(HD_ARG_EDIT_ADD, NULL, "intel_iommu=on"));
        g_assert_true(hd_bootloader_edit_text(HD_BOOTLOADER_FILE_KERNEL_CMDLINE,
                                              "root=/dev/sda1\nquiet a=\"b c\"\n", edits,
                                              &words, &edited, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(words->len, ==, 3);
        g_assert_cmpstr(edited, ==, "root=/dev/sda1\na=\"b c\" intel_iommu=on\n");
}

/* Found by fuzz-bootloader: a GRUB_CMDLINE_LINUX line inside another variable's multi-line
 * quotes is no assignment to the shell, and a file whose quote never closes is refused. */
static void test_grub_quoted_lines(void)
{
        g_autoptr(GPtrArray) words = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(hd_bootloader_edit_text(
            HD_BOOTLOADER_FILE_GRUB_DEFAULT,
            "GRUB_CMDLINE_LINUX=\"quiet\"\n# it's a comment\nX=\"a\nGRUB_CMDLINE_LINUX=bogus\n\"\n",
            NULL, &words, NULL, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(words->len, ==, 1);
        g_assert_cmpstr(words->pdata[0], ==, "quiet");
        g_clear_pointer(&words, g_ptr_array_unref);
        g_assert_false(hd_bootloader_edit_text(HD_BOOTLOADER_FILE_GRUB_DEFAULT,
                                               "GRUB_CMDLINE_LINUX=quiet\nX='open\n", NULL,
                                               &words, NULL, &error));
        g_assert_nonnull(strstr(error->message, "unterminated quote"));
        g_clear_error(&error);
        g_assert_false(hd_bootloader_edit_text(HD_BOOTLOADER_FILE_GRUB_DEFAULT,
                                               "X=1 \\\n  GRUB_CMDLINE_LINUX=quiet\n", NULL,
                                               &words, NULL, &error));
        g_assert_nonnull(strstr(error->message, "continued line"));
}

/* ---- issue 12 item 6: backups, diffs, the update command's outcome ---- */

static guint count_stamped_backups(const HdTestFixture *fx, const char *dir, const char *base)
{
        g_autofree char *path = hd_test_path(fx, dir);
        g_autofree char *prefix = g_strdup_printf("%s.hostdev-backup.", base);
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        guint n = 0;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)))
                n += g_str_has_prefix(name, prefix);
        return n;
}

/* Two changes must not lose the admin's file: the first backup stays the original forever,
 * every later apply keeps the version it replaced (timestamped), at most 10 of them. */
static void test_backups_keep_original(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *after1 = NULL;
        g_autofree char *backup = NULL;
        g_autofree char *first = NULL;
        g_autofree char *log = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        const HdBootloaderChange *c;
        Req r = {.enable = strs("iommu", NULL)};

        g_free(apply(fx, &r, NULL));
        after1 = read_root_file(fx, "etc/default/grub");
        r = (Req){.enable = strs("iommu-pt", NULL)};
        log = apply(fx, &r, &ka);
        /* the second change: the original stays, the version it replaced is kept */
        first = read_root_file(fx, "etc/default/grub.hostdev-backup");
        g_assert_cmpstr(first, ==, orig);
        g_assert_cmpuint(ka->changes->len, ==, 1);
        c = ka->changes->pdata[0];
        g_assert_cmpstr(c->first_backup, ==, "etc/default/grub.hostdev-backup");
        g_assert_true(g_str_has_prefix(c->backup, "etc/default/grub.hostdev-backup.20"));
        g_assert_nonnull(strstr(log, c->backup));
        backup = read_root_file(fx, c->backup);
        g_assert_cmpstr(backup, ==, after1);
        g_assert_cmpuint(count_stamped_backups(fx, "etc/default", "grub"), ==, 1);

        /* many more: bounded, oldest pruned, the original never */
        for (guint i = 0; i < 14; i++) {
                g_autoptr(HdKernelArgs) k = NULL;
                g_autofree char *before = read_root_file(fx, "etc/default/grub");
                g_autofree char *kept = NULL;

                r = i % 2 ? (Req){.enable = strs("iommu-pt", NULL)}
                          : (Req){.disable = strs("iommu-pt", NULL)};
                g_free(apply(fx, &r, &k));
                kept = read_root_file(fx, ((HdBootloaderChange *)k->changes->pdata[0])->backup);
                g_assert_cmpstr(kept, ==, before);
        }
        g_assert_cmpuint(count_stamped_backups(fx, "etc/default", "grub"), ==,
                         HD_BOOTLOADER_BACKUPS_KEPT);
        g_free(first);
        first = read_root_file(fx, "etc/default/grub.hostdev-backup");
        g_assert_cmpstr(first, ==, orig);
}

/* `diff -u` of two texts with the given labels (diffutils is essential on Debian). */
static char *diff_u(const char *label, const char *a, const char *b)
{
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *pa = g_build_filename(tmp, "a", NULL);
        g_autofree char *pb = g_build_filename(tmp, "b", NULL);
        g_autofree char *la = g_strdup_printf("a/%s", label);
        g_autofree char *lb = g_strdup_printf("b/%s", label);
        const char *argv[] = {"diff", "-u", "--label", la, "--label", lb, pa, pb, NULL};
        char *out = NULL;

        g_assert_true(g_file_set_contents(pa, a, -1, NULL));
        g_assert_true(g_file_set_contents(pb, b, -1, NULL));
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                                   NULL, NULL, NULL));
        g_unlink(pa);
        g_unlink(pb);
        g_rmdir(tmp);
        return out;
}

/* The dry run shows each change as a unified diff (the one `diff -u` prints) and says
 * "create" or "replace"; JSON carries the same. */
static void test_dry_run_diff(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autoptr(HdTestFixture) sd = hd_test_fixture_new("systemd-boot-host");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *out = NULL;
        g_autofree char *jout = NULL;
        g_autofree char *sout = NULL;
        g_autofree char *after = NULL;
        g_autofree char *expect = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *changes;
        JsonObject *c;
        const char *argv[] = {"--root", fx->root,  "kernel-args", "--enable",
                              "iommu",  "--apply", "--dry-run",   NULL};
        const char *jargv[] = {"--root",   fx->root,   "kernel-args", "--enable", "iommu",
                               "--enable", "iommu-pt", "--json",      NULL};
        const char *sargv[] = {"--root",   sd->root,  "kernel-args", "--enable",
                               "iommu-pt", "--apply", "--dry-run",   NULL};

        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        after = read_root_file(fx, "etc/default/grub");
        g_assert_cmpstr(after, ==, orig);
        g_assert_nonnull(strstr(out, "replace /etc/default/grub\n--- a/etc/default/grub\n"));
        {
                g_autoptr(GString) want = NULL;

                /* what the change would write: the same edit through the library */
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                Req r = {.enable = strs("iommu", NULL)};
                g_autoptr(HdKernelArgs) ka = plan_ok(ctx, &r);
                g_assert_cmpuint(ka->changes->len, ==, 1);
                want = g_string_new(orig);
                g_string_replace(want, "intel_iommu=off", "intel_iommu=on", 1);
                expect = diff_u("etc/default/grub", orig, want->str);
                g_assert_cmpstr(((HdBootloaderChange *)ka->changes->pdata[0])->diff, ==, expect);
                g_assert_nonnull(strstr(out, expect));
                g_assert_nonnull(strstr(expect,
                                        "-GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=off\"\n"
                                        "+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n"));
        }

        g_assert_cmpint(hd_test_run_cli(jargv, NULL, &jout, NULL), ==, 0);
        root = hd_test_parse_json(jout);
        changes = json_object_get_array_member(json_node_get_object(root), "changes");
        g_assert_cmpuint(json_array_get_length(changes), ==, 1);
        c = json_array_get_object_element(changes, 0);
        g_assert_cmpstr(json_object_get_string_member(c, "path"), ==, "/etc/default/grub");
        g_assert_cmpstr(json_object_get_string_member(c, "action"), ==, "replace");
        g_assert_nonnull(
            strstr(json_object_get_string_member(c, "diff"), "+GRUB_CMDLINE_LINUX=\"iommu=pt\"\n"));
        g_assert_true(json_object_get_null_member(c, "backup"));
        g_assert_cmpstr(json_object_get_string_member(c, "first_backup"), ==,
                        "/etc/default/grub.hostdev-backup");
        g_assert_true(json_object_get_null_member(json_node_get_object(root), "update"));

        /* systemd-boot without etc/kernel/cmdline: the file is created */
        {
                g_autofree char *p = hd_test_path(sd, "etc/kernel/cmdline");
                g_unlink(p);
        }
        g_assert_cmpint(hd_test_run_cli(sargv, NULL, &sout, NULL), ==, 0);
        g_assert_nonnull(strstr(sout, "create /etc/kernel/cmdline\n--- /dev/null\n"
                                      "+++ b/etc/kernel/cmdline\n@@ -0,0 +1 @@\n+"));
        g_assert_nonnull(strstr(sout, " iommu=pt\n"));
        g_assert_false(root_file_exists(sd, "etc/kernel/cmdline"));
}

/* --apply reports the update command's outcome, and a failing one (a sim fault) fails the
 * apply with its exit status and output, the file restored. */
static void test_update_command_outcome(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *orig = read_root_file(fx, "etc/default/grub");
        g_autofree char *after = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *jout = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *u;

        {
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                g_autoptr(GError) error = NULL;
                g_autoptr(HdKernelArgs) ka = NULL;
                Req r = {.enable = strs("iommu", NULL)};

                hd_ctx_set_sim_faults(ctx, "run@update-grub=2");
                ka = plan_ok(ctx, &r);
                g_assert_false(hd_kernel_args_apply(ctx, ka, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
                if (!strstr(error->message, "update-grub failed (exit 2), its last output: "
                                            "update-grub: simulated failure") ||
                    !strstr(error->message, "etc/default/grub restored"))
                        g_error("message: %s", error->message);
                g_assert_nonnull(ka->update);
                g_assert_true(ka->update->ran);
                g_assert_false(ka->update->succeeded);
                g_assert_cmpint(ka->update->exit_status, ==, 2);
                g_assert_false(ka->applied);
                after = read_root_file(fx, "etc/default/grub");
                g_assert_cmpstr(after, ==, orig);
        }
        {
                const char *argv[] = {"--root", fx->root,  "kernel-args", "--enable",
                                      "iommu",  "--apply", NULL};
                const char *env[] = {"HOSTDEV_SIM_FAIL=run@update-grub=1", NULL};

                g_assert_cmpint(hd_test_run_cli(argv, env, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "update-grub failed (exit 1)"));
                g_free(after);
                after = read_root_file(fx, "etc/default/grub");
                g_assert_cmpstr(after, ==, orig);
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, "update-grub: succeeded (exit 0)\n"
                                             "  | sim: ran update-grub\n"));
                /* the failed runs left the original in the first backup; this apply keeps
                 * the version it replaced as well */
                g_assert_nonnull(strstr(out, "replaced /etc/default/grub (previous version: "
                                             "/etc/default/grub.hostdev-backup.20"));
                g_assert_nonnull(strstr(out, "; the original: /etc/default/grub.hostdev-backup)"));
                g_free(after);
                after = read_root_file(fx, "etc/default/grub.hostdev-backup");
                g_assert_cmpstr(after, ==, orig);
        }
        {
                const char *argv[] = {"--root",   fx->root,  "kernel-args", "--enable",
                                      "iommu-pt", "--apply", "--json",      NULL};
                JsonObject *c;

                g_assert_cmpint(hd_test_run_cli(argv, NULL, &jout, NULL), ==, 0);
                root = hd_test_parse_json(jout);
                u = json_object_get_object_member(json_node_get_object(root), "update");
                g_assert_true(json_object_get_boolean_member(u, "ran"));
                g_assert_true(json_object_get_boolean_member(u, "succeeded"));
                g_assert_cmpint(json_object_get_int_member(u, "exit_status"), ==, 0);
                g_assert_cmpstr(json_object_get_string_member(u, "output_tail"), ==,
                                "sim: ran update-grub\ndone");
                g_assert_cmpstr(
                    json_array_get_string_element(json_object_get_array_member(u, "command"), 0),
                    ==, "update-grub");
                c = json_array_get_object_element(
                    json_object_get_array_member(json_node_get_object(root), "changes"), 0);
                g_assert_true(g_str_has_prefix(json_object_get_string_member(c, "backup"),
                                               "/etc/default/grub.hostdev-backup.20"));
        }
}

int main(int argc, char **argv)
{
        int r;

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cmdline/split", test_split);
        g_test_add_func("/cmdline/arg-equal", test_arg_equal);
        g_test_add_func("/cmdline/options-per-vendor", test_options_per_vendor);
        g_test_add_func("/cmdline/amd-iommu-removes-off", test_amd_iommu_removes_off);
        g_test_add_func("/cmdline/bad-input", test_bad_input);
        g_test_add_func("/cmdline/conflicts", test_conflicts);
        g_test_add_func("/cmdline/grub-apply-revert", test_grub_apply_revert);
        g_test_add_func("/cmdline/grub-quoting-kept", test_grub_quoting_kept);
        g_test_add_func("/cmdline/grub-unparseable", test_grub_unparseable);
        g_test_add_func("/cmdline/grub-d-noted", test_grub_d_noted);
        g_test_add_func("/cmdline/failed-command-restores", test_failed_command_restores);
        g_test_add_func("/cmdline/idempotent", test_idempotent);
        g_test_add_func("/cmdline/hand-written-stays", test_hand_written_stays);
        g_test_add_func("/cmdline/dry-run", test_dry_run);
        g_test_add_func("/cmdline/comma-list-counts", test_comma_list_counts);
        g_test_add_func("/cmdline/vfio-ids-change-and-disable", test_vfio_ids_change_and_disable);
        g_test_add_func("/cmdline/real-backend-refused", test_real_backend_refused_on_fixture);
        g_test_add_func("/cmdline/grubby-apply-revert", test_grubby_apply_revert);
        g_test_add_func("/cmdline/grubby-kernelopts", test_grubby_kernelopts_unparseable);
        g_test_add_func("/cmdline/systemd-boot-apply-revert", test_systemd_boot_apply_revert);
        g_test_add_func("/cmdline/proxmox-apply-revert", test_proxmox_apply_revert);
        g_test_add_func("/cmdline/proxmox-grub", test_proxmox_grub);
        g_test_add_func("/cmdline/unknown-bootloader", test_unknown_bootloader);
        g_test_add_func("/cmdline/cli", test_cli);
        g_test_add_func("/cmdline/kernel-cmdline-file-refusals",
                        test_kernel_cmdline_file_refusals);
        g_test_add_func("/cmdline/grub-quoted-lines", test_grub_quoted_lines);
        g_test_add_func("/cmdline/backups-keep-original", test_backups_keep_original);
        g_test_add_func("/cmdline/dry-run-diff", test_dry_run_diff);
        g_test_add_func("/cmdline/update-command-outcome", test_update_command_outcome);
        r = g_test_run();
        g_clear_pointer(&shared_fixtures, g_hash_table_unref);
        return r;
}
