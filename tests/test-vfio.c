/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdev verify on the sim backend: what a VMM would get, and each failure's message. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

static void detach_group(HdCtx *ctx, const char *addr)
{
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(addr);
        HdBindOptions opts = { .group = TRUE };
        g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &a, 1, &opts, &error);

        g_assert_no_error(error);
        g_assert_nonnull(r);
}

static void test_verify_after_detach(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(GPU);
        HdVfioInfo info;
        gboolean has_config = FALSE, has_vga = FALSE, has_bar = FALSE;

        detach_group(ctx, GPU);
        hd_vfio_info_init(&info);
        g_assert_true(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_no_error(error);
        g_assert_cmpint(info.group, ==, 1);
        g_assert_true(info.viable);
        g_assert_true(info.type1);
        g_assert_cmpint(info.api_version, ==, 0);
        g_assert_true(info.reset); /* the fixture's GPU has FLR */
        g_assert_cmpuint(info.num_regions, ==, 9);
        g_assert_cmpuint(info.irqs->len, ==, 5);
        g_assert_cmpstr(info.source, ==, "sim");
        for (guint i = 0; i < info.regions->len; i++) {
                HdVfioRegion *r = &g_array_index(info.regions, HdVfioRegion, i);
                if (r->index == HD_VFIO_REGION_CONFIG) {
                        has_config = TRUE;
                        g_assert_cmpuint(r->size, ==, 4096);
                }
                if (r->index == HD_VFIO_REGION_VGA)
                        has_vga = TRUE;
                if (r->index == 0 && r->size > 0 && r->mmap)
                        has_bar = TRUE;
        }
        g_assert_true(has_config && has_vga && has_bar);
        hd_vfio_info_clear(&info);
}

static void test_verify_bars_from_resource(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(AUDIO);
        g_autofree char *res = hd_test_path(fx, "sys/bus/pci/devices/" AUDIO "/resource");
        HdVfioInfo info;

        /* one 16 KiB memory BAR at BAR0, as the kernel prints it */
        g_assert_true(g_file_set_contents(
                res,
                "0x00000000f7080000 0x00000000f7083fff 0x0000000000040200\n"
                "0x0000000000000000 0x0000000000000000 0x0000000000000000\n",
                -1, NULL));
        detach_group(ctx, GPU);
        hd_vfio_info_init(&info);
        g_assert_true(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(g_array_index(info.regions, HdVfioRegion, 0).index, ==, 0);
        g_assert_cmpuint(g_array_index(info.regions, HdVfioRegion, 0).size, ==, 16384);
        g_assert_true(g_array_index(info.regions, HdVfioRegion, 0).mmap);
        /* BAR0 and config; an audio device has no VGA region */
        g_assert_cmpuint(info.regions->len, ==, 2);
        hd_vfio_info_clear(&info);
}

static void test_verify_failures(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(GPU);
        HdVfioInfo info;

        hd_vfio_info_init(&info);
        /* on its host driver */
        g_assert_false(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "is on nouveau, not on vfio-pci"));
        g_clear_error(&error);

        /* the audio function goes back to its driver: the group is not viable */
        detach_group(ctx, GPU);
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/devices/" AUDIO "/driver_override", "\n",
                                   &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/unbind", AUDIO, &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", AUDIO, &error));
        g_assert_false(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "IOMMU group 1 is not viable: 0000:01:00.1 "
                                                "(Audio device, snd_hda_intel) still on a host "
                                                "driver; run 'hostdev detach " GPU " --group'"));
        g_clear_error(&error);

        /* a VM holds the group */
        detach_group(ctx, GPU);
        {
                g_autofree char *fd_dir = hd_test_path(fx, "proc/777/fd");
                g_autofree char *link = g_build_filename(fd_dir, "9", NULL);
                g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
                g_assert_cmpint(symlink("/dev/vfio/1", link), ==, 0);
        }
        g_assert_false(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        g_assert_nonnull(strstr(error->message, "busy"));
        hd_vfio_info_clear(&info);
}

static void test_verify_no_vfio_no_iommu(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(GPU);
        HdVfioInfo info;

        hd_vfio_info_init(&info);
        g_assert_false(hd_vfio_verify(ctx, &a, &info, &error));
        /* the caller's request, not the agent, is at fault: REFUSED (409) as detach says */
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "no IOMMU group"));
        hd_vfio_info_clear(&info);
}

static void test_verify_vfio_not_loaded(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *node = hd_test_path(fx, "dev/vfio/vfio");
        HdAddress a = hd_test_address(GPU);
        HdVfioInfo info;

        hd_vfio_info_init(&info);
        g_assert_true(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_no_error(error);
        g_assert_cmpint(unlink(node), ==, 0);
        g_assert_false(hd_vfio_verify(ctx, &a, &info, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
        g_assert_nonnull(strstr(error->message, "/dev/vfio/vfio"));
        hd_vfio_info_clear(&info);
}

static void test_cli_verify(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        {
                const char *argv[] = { "--root", fx->root, "verify", GPU, NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "hostdev detach 0000:01:00.0"));
        }
        {
                const char *argv[] = { "--root", fx->root, "detach", GPU, "--group", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        {
                const char *argv[] = { "--root", fx->root, "verify", GPU, "--json", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        }
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        g_assert_true(json_object_get_boolean_member(o, "usable"));
        g_assert_true(json_object_get_boolean_member(o, "viable"));
        g_assert_cmpint(json_object_get_int_member(o, "iommu_group"), ==, 1);
        g_assert_cmpstr(json_object_get_string_member(o, "source"), ==, "sim");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "irqs")), ==, 5);
        {
                const char *argv[] = { "--root", fx->root, "verify", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 2);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vfio/verify-after-detach", test_verify_after_detach);
        g_test_add_func("/vfio/bars-from-resource", test_verify_bars_from_resource);
        g_test_add_func("/vfio/failures", test_verify_failures);
        g_test_add_func("/vfio/no-iommu", test_verify_no_vfio_no_iommu);
        g_test_add_func("/vfio/not-loaded", test_verify_vfio_not_loaded);
        g_test_add_func("/vfio/cli", test_cli_verify);
        return g_test_run();
}
