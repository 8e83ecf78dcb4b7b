/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The caller's mistakes (issue 11, items 10 and 11): each is refused with a code the caller can
 * act on (the agent's 400/404/409, the CLI's exit 2 or 1), never a failure of the host (500),
 * and before anything is written. Library and CLI on fixture trees; the agent maps the library's
 * codes (INVALID_ARGUMENT 400, NOT_FOUND 404, REFUSED 409).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "request.h"
#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define HOST_BRIDGE "0000:00:00.0"
#define IGPU "0000:00:02.0" /* the desktop's boot VGA device */

static int run(const char *const *argv, char **out, char **err)
{
        return hd_test_run_cli(argv, NULL, out, err);
}

/* stdout is exactly one JSON error object with @code */
static void assert_json_error(const char *out, const char *code)
{
        g_autoptr(JsonNode) root = hd_test_parse_json(out);
        JsonObject *e = json_object_get_object_member(json_node_get_object(root), "error");

        g_assert_nonnull(e);
        g_assert_cmpstr(json_object_get_string_member(e, "code"), ==, code);
        g_assert_nonnull(json_object_get_string_member(e, "message"));
}

/* ---- item 11: options ---- */

static void test_list_negative_group(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *argv[] = {"list", "--group", "-5", "--root", fx->root, NULL};
        const char *json[] = {"list", "--json", "--group", "-5", "--root", fx->root, NULL};
        const char *zero[] = {"list", "--group", "0", "--root", fx->root, NULL};
        g_autofree char *out = NULL, *err = NULL, *jout = NULL, *zout = NULL;

        g_assert_cmpint(run(argv, &out, &err), ==, 2);
        g_assert_nonnull(strstr(err, "--group -5"));
        g_assert_null(strstr(out, GPU));
        g_assert_cmpint(run(json, &jout, NULL), ==, 2);
        assert_json_error(jout, "invalid-argument");
        /* group 0 is a group */
        g_assert_cmpint(run(zero, &zout, NULL), ==, 0);
        g_assert_nonnull(strstr(zout, HOST_BRIDGE));
}

static void test_flag_with_value(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *force[] = {"detach", "--force=abc", "--dry-run", "--group",
                               "--root", fx->root,      GPU,         NULL};
        const char *persist[] = {"detach", "--persist=no", "--group", "--root", fx->root, GPU,
                                 NULL};
        const char *dry[] = {"detach", "--group", "--dry-run=false", "--json", "--root", fx->root,
                             GPU,      NULL};
        g_autofree char *err = NULL, *err2 = NULL, *out3 = NULL;

        g_assert_cmpint(run(force, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "--force takes no value"));
        g_assert_cmpint(run(persist, NULL, &err2), ==, 2);
        g_assert_nonnull(strstr(err2, "--persist takes no value"));
        g_assert_cmpint(run(dry, &out3, NULL), ==, 2);
        assert_json_error(out3, "invalid-argument");
        /* nothing moved */
        {
                g_autofree char *drv = hd_test_driver(fx, GPU);
                g_assert_cmpstr(drv, ==, "nouveau");
        }
}

static void test_option_errors_json(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        /* --json after and before the bad option */
        const char *a[] = {"list", "--bogus", "--json", "--root", fx->root, NULL};
        const char *b[] = {"show", "--json", "--nope", "--root", fx->root, GPU, NULL};
        const char *c[] = {"list", "--json", "--class", "toaster", "--root", fx->root, NULL};
        const char *d[] = {"groups", "--json", "--root", fx->root, "extra", NULL};
        const char *e[] = {"frobnicate", "--json", NULL};
        const char *f[] = {"--json", NULL};
        const char *const *cases[] = {a, b, c, d, e, f};

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = NULL;
                g_assert_cmpint(run(cases[i], &out, NULL), ==, 2);
                assert_json_error(out, "invalid-argument");
        }
}

/* ---- item 11: kernel arguments ---- */

static void test_kernel_args_control_chars(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *grub = hd_test_path(fx, "etc/default/grub");
        g_autofree char *before = NULL, *after = NULL;
        const char *bad[] = {"quiet\nGRUB_DISABLE_RECOVERY=true",
                             ("a\x01" /* the hex escape ends here */ "b"),
                             "x=\x1b[2J",
                             "tab\there",
                             "del\x7f",
                             "caf\xc3\xa9=1"};

        g_assert_true(g_file_get_contents(grub, &before, NULL, NULL));
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                const char *argv[] = {"kernel-args", "--custom", bad[i],   "--apply",
                                      "--json",      "--root",   fx->root, NULL};
                g_autofree char *out = NULL, *err = NULL;
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                g_autoptr(GPtrArray) custom = g_ptr_array_new();
                HdKernelArgsRequest req = {.custom = custom};
                g_autoptr(GError) error = NULL;
                g_autoptr(HdKernelArgs) ka = NULL;

                g_assert_cmpint(run(argv, &out, &err), ==, 2);
                assert_json_error(out, "invalid-argument");
                g_assert_nonnull(strstr(err, "printable ASCII"));
                g_ptr_array_add(custom, (gpointer)bad[i]);
                ka = hd_kernel_args_plan(ctx, &req, &error);
                g_assert_null(ka);
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        }
        g_assert_true(g_file_get_contents(grub, &after, NULL, NULL));
        g_assert_cmpstr(before, ==, after);
        {
                /* printable words still pass */
                const char *argv[] = {"kernel-args", "--custom", "pcie_aspm=off quiet",
                                      "--root",      fx->root,   NULL};
                g_assert_cmpint(run(argv, NULL, NULL), ==, 0);
        }
}

/* ---- item 10: 5xx for the caller's mistakes ---- */

static void set_cpu_vendor(HdTestFixture *fx, const char *vendor)
{
        g_autofree char *path = hd_test_path(fx, "proc/cpuinfo");
        g_autofree char *text = NULL;
        g_autoptr(GRegex) re = g_regex_new("^vendor_id\\s*:.*$", G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *line = g_strdup_printf("vendor_id\t: %s", vendor);
        g_autofree char *changed = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        changed = g_regex_replace_literal(re, text, -1, 0, line, 0, NULL);
        g_assert_cmpstr(changed, !=, text);
        g_assert_true(g_file_set_contents(path, changed, -1, NULL));
}

static void test_kernel_args_unknown_vendor(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GPtrArray) enable = g_ptr_array_new();
        HdKernelArgsRequest req = {.enable = enable};
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        const char *argv[] = {"kernel-args", "--enable", "iommu", "--root", fx->root, NULL};
        g_autofree char *err = NULL;

        set_cpu_vendor(fx, "CentaurHauls");
        ctx = hd_test_ctx_new(fx);
        g_ptr_array_add(enable, (gpointer) "iommu");
        ka = hd_kernel_args_plan(ctx, &req, &error);
        g_assert_null(ka);
        /* REFUSED is the agent's 409, NOT_SUPPORTED was its 500 */
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "--custom"));
        g_assert_cmpint(run(argv, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "neither Intel nor AMD"));
}

static void test_no_iommu_verify_as_detach(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) verify_error = NULL, detach_error = NULL;
        HdAddress a = hd_test_address(GPU);
        HdVfioInfo info;
        HdBindOptions opts = {.group = TRUE};
        g_autoptr(HdBindReport) report = NULL;

        hd_vfio_info_init(&info);
        g_assert_false(hd_vfio_verify(ctx, &a, &info, &verify_error));
        hd_vfio_info_clear(&info);
        hd_ctx_set_dry_run(ctx, TRUE);
        report = hd_bind_detach(ctx, &a, 1, &opts, &detach_error);
        g_assert_null(report);
        g_assert_error(detach_error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_error(verify_error, HD_ERROR, detach_error->code);
        g_assert_nonnull(strstr(verify_error->message, "no IOMMU group"));
        g_assert_nonnull(strstr(detach_error->message, "no IOMMU group"));
}

static guint journal_count(const HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, "var/lib/hostdev/journal");
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        guint n = 0;

        while (d && g_dir_read_name(d))
                n++;
        return n;
}

static void test_attach_unknown_driver(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) report = NULL;
        HdAddress a = hd_test_address(GPU);
        HdBindOptions opts = {.group = TRUE, .driver = "no_such_driver"};
        const char *argv[] = {"attach", "--group", "--driver", "no_such_driver", "--json", "--root",
                              fx->root, GPU,       NULL};
        g_autofree char *out = NULL, *drv = NULL, *drv2 = NULL;

        report = hd_bind_attach(ctx, &a, 1, &opts, &error);
        g_assert_null(report);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "no_such_driver"));
        g_assert_nonnull(strstr(error->message, "vfio-pci")); /* names the drivers there are */
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        g_assert_cmpuint(journal_count(fx), ==, 0);
        drv = hd_test_driver(fx, GPU);
        g_assert_cmpstr(drv, ==, "vfio-pci");

        g_assert_cmpint(run(argv, &out, NULL), ==, 2);
        assert_json_error(out, "invalid-argument");
        g_assert_cmpuint(journal_count(fx), ==, 0);
        drv2 = hd_test_driver(fx, AUDIO);
        g_assert_cmpstr(drv2, ==, "vfio-pci");
}

/* A driver that is a module of the running kernel but not loaded is still fine. */
static void test_attach_module_driver(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) report = NULL;
        HdAddress a = hd_test_address(GPU);
        HdBindOptions opts = {.group = TRUE, .driver = "nouveau"};
        g_autofree char *ddir = hd_test_path(fx, "sys/bus/pci/drivers/nouveau");

        g_assert_false(g_file_test(ddir, G_FILE_TEST_EXISTS));
        hd_ctx_set_dry_run(ctx, TRUE);
        report = hd_bind_attach(ctx, &a, 1, &opts, &error);
        g_assert_no_error(error);
        g_assert_nonnull(report);
}

static void test_symlink_loop_device(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *entry = hd_test_path(fx, "sys/bus/pci/devices/" GPU);
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(HdDevice) dev = NULL;
        HdAddress a = hd_test_address(GPU);
        const char *show[] = {"show", "--json", "--root", fx->root, GPU, NULL};
        const char *list[] = {"list", "--json", "--root", fx->root, NULL};
        g_autofree char *out = NULL, *lout = NULL;

        g_assert_cmpint(unlink(entry), ==, 0);
        g_assert_cmpint(symlink(GPU, entry), ==, 0); /* points at itself */
        ctx = hd_test_ctx_new(fx);
        dev = hd_device_load(ctx, &a, HD_FIELDS_LIST, &error);
        g_assert_null(dev);
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "loop"));
        g_assert_cmpint(run(show, &out, NULL), ==, 1);
        assert_json_error(out, "not-found");
        /* the rest of the machine is still listed */
        g_assert_cmpint(run(list, &lout, NULL), ==, 0);
        g_assert_nonnull(strstr(lout, AUDIO));
}

/* VM define refuses what start refuses, in start's words. */
static void test_vm_check(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *refused[] = {HOST_BRIDGE, "0000:00:01.0", IGPU};

        for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
                HdAddress a = hd_test_address(refused[i]);
                g_autoptr(GError) check_error = NULL, detach_error = NULL;
                g_autoptr(HdBindReport) report = NULL;
                HdBindOptions opts = {.group = TRUE}; /* as VM start detaches */

                g_assert_false(hd_bind_check_for_vm(ctx, &a, &check_error));
                g_assert_error(check_error, HD_ERROR, HD_ERROR_REFUSED);
                hd_ctx_set_dry_run(ctx, TRUE);
                report = hd_bind_detach(ctx, &a, 1, &opts, &detach_error);
                g_assert_null(report);
                g_assert_error(detach_error, HD_ERROR, HD_ERROR_REFUSED);
                if (!strstr(detach_error->message, check_error->message))
                        g_error("define says \"%s\", start says \"%s\"", check_error->message,
                                detach_error->message);
        }
        {
                HdAddress a = hd_test_address(GPU);
                g_autoptr(GError) error = NULL;
                g_assert_true(hd_bind_check_for_vm(ctx, &a, &error));
                g_assert_no_error(error);
        }
        {
                HdAddress a = hd_test_address("0000:09:00.0");
                g_autoptr(GError) error = NULL;
                g_assert_false(hd_bind_check_for_vm(ctx, &a, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        }
}

/* ---- item 11: disk_image beneath the images directory ---- */

static void test_disk_image(void)
{
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *images = g_build_filename(tmp, "images", NULL);
        g_autofree char *evil = g_build_filename(tmp, "images-evil", NULL);
        g_autofree char *file = g_build_filename(images, "a.qcow2", NULL);
        g_autofree char *link = g_build_filename(images, "shadow.qcow2", NULL);
        g_autofree char *dirlink = g_build_filename(images, "etc", NULL);
        g_autofree char *outside = g_build_filename(tmp, "outside.qcow2", NULL);
        g_autofree char *images_slash = g_strconcat(images, "/", NULL);
        struct {
                const char *path;
                gboolean ok;
        } cases[] = {
            {file, TRUE},           {"new.qcow2", FALSE}, /* relative */
            {"/etc/shadow", FALSE}, {outside, FALSE},
            {images, FALSE},                       /* the directory itself */
            {images_slash, FALSE},  {link, FALSE}, /* a link out of the directory */
            {NULL, FALSE}, /* filled in below: .../images/../outside.qcow2 */
            {NULL, FALSE}, /* .../images-evil/x.qcow2 (a prefix, not a parent) */
            {NULL, FALSE}, /* .../images/etc/passwd through a directory link */
            {NULL, TRUE},  /* .../images/new.qcow2 (not created yet) */
            {NULL, FALSE}, /* .../images/nodir/new.qcow2 */
        };
        g_autofree char *dotdot = g_build_filename(images, "..", "outside.qcow2", NULL);
        g_autofree char *prefix = g_build_filename(evil, "x.qcow2", NULL);
        g_autofree char *through = g_build_filename(images, "etc", "passwd", NULL);
        g_autofree char *fresh = g_build_filename(images, "new.qcow2", NULL);
        g_autofree char *nodir = g_build_filename(images, "nodir", "new.qcow2", NULL);

        cases[7].path = dotdot;
        cases[8].path = prefix;
        cases[9].path = through;
        cases[10].path = fresh;
        cases[11].path = nodir;
        g_assert_cmpint(g_mkdir_with_parents(images, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(evil, 0755), ==, 0);
        g_assert_true(g_file_set_contents(file, "", 0, NULL));
        g_assert_true(g_file_set_contents(outside, "", 0, NULL));
        g_assert_cmpint(symlink(outside, link), ==, 0);
        g_assert_cmpint(symlink("/etc", dirlink), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *resolved = NULL;
                gboolean ok = hd_disk_image_resolve(images, cases[i].path, &resolved, &error);
                if (ok != cases[i].ok)
                        g_error("%s: %s", cases[i].path, error ? error->message : "accepted");
                if (ok) {
                        g_assert_true(g_str_has_prefix(resolved, images) ||
                                      strstr(resolved, "/images/"));
                } else {
                        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                        g_assert_null(resolved);
                }
        }
        /* a trailing slash on the configured directory changes nothing */
        {
                g_autoptr(GError) error = NULL;
                g_autofree char *resolved = NULL;
                g_assert_true(hd_disk_image_resolve(images_slash, file, &resolved, &error));
                g_assert_false(hd_disk_image_resolve(images_slash, prefix, &resolved, &error));
        }
        {
                const char *argv[] = {"rm", "-rf", tmp, NULL};
                g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                                           NULL, NULL, NULL, NULL, NULL));
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostile/usage/list-negative-group", test_list_negative_group);
        g_test_add_func("/hostile/usage/flag-with-value", test_flag_with_value);
        g_test_add_func("/hostile/usage/option-errors-json", test_option_errors_json);
        g_test_add_func("/hostile/usage/kernel-args-control-chars", test_kernel_args_control_chars);
        g_test_add_func("/hostile/usage/kernel-args-unknown-vendor",
                        test_kernel_args_unknown_vendor);
        g_test_add_func("/hostile/usage/no-iommu-verify-as-detach", test_no_iommu_verify_as_detach);
        g_test_add_func("/hostile/usage/attach-unknown-driver", test_attach_unknown_driver);
        g_test_add_func("/hostile/usage/attach-module-driver", test_attach_module_driver);
        g_test_add_func("/hostile/usage/symlink-loop-device", test_symlink_loop_device);
        g_test_add_func("/hostile/usage/vm-check", test_vm_check);
        g_test_add_func("/hostile/usage/disk-image", test_disk_image);
        return g_test_run();
}
