/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host readiness checks on fixture hosts, through the library and through `hostdev check`. */
#include "config.h"

#include <string.h>

#include "testlib.h"

/* Fixtures the tests only read, built once per program (building one takes seconds). */
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

static HdHostReport *check_fixture(const HdTestFixture *fx)
{
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdHostReport *r = hd_host_check(ctx, &error);

        g_assert_no_error(error);
        g_assert_nonnull(r);
        return r;
}

static const HdCheck *get(const HdHostReport *r, const char *id)
{
        const HdCheck *c = hd_host_report_get(r, id);

        g_assert_nonnull(c);
        return c;
}

#define assert_status(r, id, st)                                                                   \
        g_assert_cmpstr(hd_check_status_to_string(get((r), (id))->status), ==,                     \
                        hd_check_status_to_string(st))

static void assert_hint_has(const HdHostReport *r, const char *id, const char *needle)
{
        const HdCheck *c = get(r, id);

        g_assert_nonnull(c->hint);
        if (!strstr(c->hint, needle))
                g_error("hint of %s is '%s', expected it to name '%s'", id, c->hint, needle);
}

/* Run a shell command in the fixture root (edits that turn one host into a variant). */
static void in_root(const HdTestFixture *fx, const char *script)
{
        g_autoptr(GError) error = NULL;
        int status = 0;
        const char *argv[] = {"sh", "-ec", script, NULL};

        g_spawn_sync(fx->root, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, &error);
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static void test_ids_in_order(void)
{
        const HdTestFixture *fx = shared_fixture("desktop");
        g_autoptr(HdHostReport) r = check_fixture(fx);
        static const char *const ids[] = {"cpu-virt",
                                          "kvm",
                                          "iommu-firmware",
                                          "iommu-kernel",
                                          "interrupt-remapping",
                                          "vfio",
                                          "kernel-features",
                                          "groups",
                                          "interrupted", "boot-bindings"};

        g_assert_cmpuint(r->checks->len, ==, G_N_ELEMENTS(ids));
        for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
                g_assert_cmpstr(((HdCheck *)r->checks->pdata[i])->id, ==, ids[i]);
}

static void test_intel_ready(void)
{
        const HdTestFixture *fx = shared_fixture("desktop");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        g_assert_cmpint(r->cpu_vendor, ==, HD_CPU_VENDOR_INTEL);
        g_assert_cmpstr(r->kernel_release, ==, "6.1.0-18-amd64");
        assert_status(r, "cpu-virt", HD_CHECK_PASS);
        assert_status(r, "kvm", HD_CHECK_PASS);
        assert_status(r, "iommu-firmware", HD_CHECK_PASS);
        g_assert_nonnull(strstr(get(r, "iommu-firmware")->summary, "DMAR"));
        assert_status(r, "iommu-kernel", HD_CHECK_PASS);
        g_assert_null(get(r, "iommu-kernel")->hint);
        assert_status(r, "interrupt-remapping", HD_CHECK_PASS);
        assert_status(r, "vfio", HD_CHECK_PASS);
        assert_status(r, "kernel-features", HD_CHECK_PASS);
        assert_status(r, "groups", HD_CHECK_PASS);
        /* the GPU shares its group with its audio function behind a port without ACS */
        assert_hint_has(r, "groups", "0000:01:00.0, 0000:01:00.1");
        g_assert_true(r->passthrough_possible);
}

static void test_amd_ready(void)
{
        const HdTestFixture *fx = shared_fixture("amd-host");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        g_assert_cmpint(r->cpu_vendor, ==, HD_CPU_VENDOR_AMD);
        assert_status(r, "cpu-virt", HD_CHECK_PASS);
        g_assert_nonnull(strstr(get(r, "cpu-virt")->summary, "AMD-V"));
        assert_status(r, "iommu-firmware", HD_CHECK_PASS);
        g_assert_nonnull(strstr(get(r, "iommu-firmware")->summary, "IVRS"));
        assert_status(r, "iommu-kernel", HD_CHECK_PASS);
        assert_status(r, "interrupt-remapping", HD_CHECK_PASS);
        assert_status(r, "vfio", HD_CHECK_PASS);
        g_assert_true(r->passthrough_possible);
}

static void test_firmware_on_kernel_off(void)
{
        const HdTestFixture *fx = shared_fixture("firmware-only");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        assert_status(r, "iommu-firmware", HD_CHECK_PASS);
        assert_status(r, "iommu-kernel", HD_CHECK_FAIL);
        /* booted with intel_iommu=off: the hint says to replace it, and how */
        assert_hint_has(r, "iommu-kernel", "intel_iommu=off");
        assert_hint_has(r, "iommu-kernel", "intel_iommu=on");
        assert_hint_has(r, "iommu-kernel", "hostdev kernel-args --enable iommu --apply");
        assert_status(r, "groups", HD_CHECK_SKIP);
        g_assert_false(r->passthrough_possible);
}

static void test_intel_default_off_kernel(void)
{
        /* Fedora-like: no intel_iommu=off, and the kernel does not turn VT-d on by itself. */
        const HdTestFixture *fx = shared_fixture("grubby-host");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        assert_status(r, "iommu-kernel", HD_CHECK_FAIL);
        assert_hint_has(r, "iommu-kernel", "add the kernel argument intel_iommu=on");
        assert_hint_has(r, "iommu-kernel", "hostdev kernel-args --enable iommu --apply");
}

static void test_intel_default_on_kernel(void)
{
        /* CONFIG_INTEL_IOMMU_DEFAULT_ON=y and no argument turning it off: the hint must not
         * claim that an argument is missing. */
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("grubby-host");
        g_autoptr(HdHostReport) r = NULL;

        in_root(fx, "sed -i 's/^# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set/"
                    "CONFIG_INTEL_IOMMU_DEFAULT_ON=y/' boot/config-6.5.6-300.fc39.x86_64 && "
                    "grep -q '^CONFIG_INTEL_IOMMU_DEFAULT_ON=y' boot/config-6.5.6-300.fc39.x86_64");
        r = check_fixture(fx);
        assert_status(r, "iommu-kernel", HD_CHECK_FAIL);
        assert_hint_has(r, "iommu-kernel", "CONFIG_INTEL_IOMMU_DEFAULT_ON=y");
        g_assert_null(strstr(get(r, "iommu-kernel")->hint, "add the kernel argument"));
}

static void test_amd_kernel_off(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("amd-host");
        g_autoptr(HdHostReport) r = NULL;

        /* booted with amd_iommu=off, and the bootloader still says so (without it in the
         * config the fix would be made already: see test_pending_reboot_amd) */
        in_root(fx, "rm -rf sys/kernel/iommu_groups/* sys/class/iommu/* && "
                    "sed -i 's/$/ amd_iommu=off/' proc/cmdline && "
                    "sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT=\"/&amd_iommu=off /' etc/default/grub");
        r = check_fixture(fx);
        assert_status(r, "iommu-firmware", HD_CHECK_PASS);
        assert_status(r, "iommu-kernel", HD_CHECK_FAIL);
        assert_hint_has(r, "iommu-kernel", "amd_iommu=off");
        assert_hint_has(r, "iommu-kernel", "on by default");
        assert_hint_has(r, "iommu-kernel", "hostdev kernel-args --enable iommu --apply");
        g_assert_null(strstr(get(r, "iommu-kernel")->hint, "intel_iommu"));
        g_assert_false(r->passthrough_possible);
}

static void test_no_firmware_iommu(void)
{
        const HdTestFixture *fx = shared_fixture("no-iommu");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        assert_status(r, "iommu-firmware", HD_CHECK_FAIL);
        assert_hint_has(r, "iommu-firmware", "enable VT-d in the firmware setup");
        assert_status(r, "iommu-kernel", HD_CHECK_FAIL);
        assert_hint_has(r, "iommu-kernel", "firmware");
        assert_status(r, "groups", HD_CHECK_SKIP);
        g_assert_false(r->passthrough_possible);
}

static void test_no_vfio(void)
{
        const HdTestFixture *fx = shared_fixture("no-vfio");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        assert_status(r, "iommu-kernel", HD_CHECK_PASS);
        assert_status(r, "vfio", HD_CHECK_FAIL);
        assert_hint_has(r, "vfio", "CONFIG_VFIO_PCI");
        g_assert_false(r->passthrough_possible);
}

static void test_vfio_builtin_and_loaded(void)
{
        const HdTestFixture *fx = shared_fixture("already-vfio");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        assert_status(r, "vfio", HD_CHECK_PASS);
        g_assert_nonnull(strstr(get(r, "vfio")->summary, "/dev/vfio/vfio"));
}

static void test_interrupt_remapping_off(void)
{
        const HdTestFixture *fx = shared_fixture("ir-off");
        g_autoptr(HdHostReport) r = check_fixture(fx);

        assert_status(r, "interrupt-remapping", HD_CHECK_WARN);
        assert_hint_has(r, "interrupt-remapping", "ecap");
        assert_hint_has(r, "interrupt-remapping", "vfio_iommu_type1.allow_unsafe_interrupts=1");
        assert_hint_has(r, "interrupt-remapping", "hostdev kernel-args --enable unsafe-interrupts");
        /* a warning, not a failure */
        g_assert_true(r->passthrough_possible);
}

/* Running vs configured for the unsafe-interrupts option too (issue 12 item 5). */
static void test_unsafe_interrupts_pending(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("ir-off");
        const char *apply[] = {"--root",      fx->root,   "--backend",         "sim",
                               "kernel-args", "--enable", "unsafe-interrupts", "--apply",
                               NULL};

        g_assert_cmpint(hd_test_run_cli(apply, NULL, NULL, NULL), ==, 0);
        {
                g_autoptr(HdHostReport) r = check_fixture(fx);
                assert_hint_has(r, "interrupt-remapping",
                                "vfio_iommu_type1.allow_unsafe_interrupts=1 is configured for "
                                "the next boot: reboot");
                g_assert_null(strstr(get(r, "interrupt-remapping")->hint, "kernel-args"));
        }
}

static void test_interrupt_remapping_fallback(void)
{
        /* Without /proc/interrupts the VT-d capability decides. */
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdHostReport) r = NULL;

        in_root(fx, "rm proc/interrupts");
        r = check_fixture(fx);
        assert_status(r, "interrupt-remapping", HD_CHECK_PASS);
        g_assert_nonnull(strstr(get(r, "interrupt-remapping")->summary, "ecap"));
}

static void test_no_kvm(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdHostReport) r = NULL;

        in_root(fx, "rm dev/kvm");
        r = check_fixture(fx);
        assert_status(r, "kvm", HD_CHECK_FAIL);
        assert_hint_has(r, "kvm", "modprobe kvm_intel");
        g_assert_false(r->passthrough_possible);
}

static void test_no_cpu_virt(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdHostReport) r = NULL;

        in_root(fx, "sed -i 's/ vmx / /' proc/cpuinfo && rm dev/kvm");
        r = check_fixture(fx);
        assert_status(r, "cpu-virt", HD_CHECK_FAIL);
        assert_hint_has(r, "cpu-virt", "enable VT-x in the firmware setup");
        assert_hint_has(r, "kvm", "cpu-virt");
}

static void test_old_kernel(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdHostReport) r = NULL;
        guint major = 0, minor = 0;

        g_assert_true(hd_kernel_release_parse("6.1.0-18-amd64", &major, &minor));
        g_assert_cmpuint(major, ==, 6);
        g_assert_cmpuint(minor, ==, 1);
        g_assert_true(hd_kernel_release_parse("5.15", &major, &minor));
        g_assert_false(hd_kernel_release_parse("linux-5", &major, &minor));
        g_assert_false(hd_kernel_release_parse("5", &major, &minor));

        /* 5.10: driver_override yes, reset_method no */
        in_root(fx, "mv lib/modules/6.1.0-18-amd64 lib/modules/5.10.0-28-amd64 && "
                    "mv boot/config-6.1.0-18-amd64 boot/config-5.10.0-28-amd64 && "
                    "echo 5.10.0-28-amd64 > proc/sys/kernel/osrelease && "
                    "find sys/devices -name reset_method -delete");
        r = check_fixture(fx);
        g_assert_cmpstr(r->kernel_release, ==, "5.10.0-28-amd64");
        assert_status(r, "kernel-features", HD_CHECK_WARN);
        g_assert_nonnull(strstr(get(r, "kernel-features")->summary, "reset_method"));
        assert_status(r, "vfio", HD_CHECK_PASS);
}

/* ---- through the CLI ---- */

static void test_cli_exit_codes(void)
{
        const HdTestFixture *ready = shared_fixture("desktop");
        const HdTestFixture *off = shared_fixture("firmware-only");
        g_autofree char *out = NULL;
        g_autofree char *out_q = NULL;
        g_autofree char *out_ready = NULL;
        g_autofree char *err_usage = NULL;

        {
                const char *argv[] = {"--root", ready->root, "check", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out_ready, NULL), ==, 0);
        }
        g_assert_nonnull(strstr(out_ready, "Passthrough is possible"));
        {
                const char *argv[] = {"--root", off->root, "check", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 1);
        }
        /* not a tty: no colours; one line per check, the hint indented below */
        g_assert_nonnull(
            strstr(out, "PASS  Firmware describes an IOMMU (ACPI DMAR: Intel VT-d)\n"));
        g_assert_nonnull(strstr(out, "FAIL  IOMMU not enabled by the kernel\n      "));
        g_assert_null(strstr(out, "\033["));
        {
                const char *argv[] = {"check", "-q", "--root", off->root, NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out_q, NULL), ==, 1);
        }
        g_assert_null(strstr(out_q, "PASS"));
        g_assert_null(strstr(out_q, "SKIP"));
        g_assert_nonnull(strstr(out_q, "FAIL  IOMMU not enabled by the kernel"));
        {
                const char *argv[] = {"--root", off->root, "check", "extra", NULL};
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err_usage), ==, 2);
        }
}

static void test_cli_json(void)
{
        const HdTestFixture *fx = shared_fixture("firmware-only");
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;
        JsonArray *checks;
        gboolean seen_kernel = FALSE;
        const char *argv[] = {"--root", fx->root, "check", "--json", NULL};

        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 1);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        g_assert_false(json_object_get_boolean_member(o, "passthrough_possible"));
        g_assert_cmpstr(json_object_get_string_member(o, "cpu_vendor"), ==, "intel");
        g_assert_cmpstr(json_object_get_string_member(o, "kernel_release"), ==, "6.1.0-18-amd64");
        checks = json_object_get_array_member(o, "checks");
        g_assert_cmpuint(json_array_get_length(checks), ==, 10); /* ..., interrupted, boot-bindings */
        for (guint i = 0; i < json_array_get_length(checks); i++) {
                JsonObject *c = json_array_get_object_element(checks, i);
                const char *id = json_object_get_string_member(c, "id");
                const char *status = json_object_get_string_member(c, "status");

                g_assert_true(json_object_has_member(c, "summary"));
                g_assert_true(json_object_has_member(c, "hint"));
                if (strcmp(id, "iommu-kernel") == 0) {
                        seen_kernel = TRUE;
                        g_assert_cmpstr(status, ==, "fail");
                        g_assert_nonnull(
                            strstr(json_object_get_string_member(c, "hint"), "intel_iommu=on"));
                }
                if (strcmp(id, "iommu-firmware") == 0) {
                        g_assert_cmpstr(status, ==, "pass");
                        g_assert_true(json_object_get_null_member(c, "hint"));
                }
        }
        g_assert_true(seen_kernel);
}

/* Item 5 of issue 12: after `kernel-args --enable iommu --apply` the fix is configured and only
 * a reboot is missing; check must say so (running vs configured) instead of naming the command
 * that was already run. Through the CLI, as the admin does it, in JSON and in text. */
static void test_pending_reboot(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *out = NULL;
        g_autofree char *text = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *checks;
        const char *hint = NULL;
        const char *apply[] = {"--root",   fx->root, "--backend", "sim", "kernel-args",
                               "--enable", "iommu",  "--apply",   NULL};
        const char *check_json[] = {"--root", fx->root, "check", "--json", NULL};
        const char *check_text[] = {"--root", fx->root, "check", NULL};

        g_assert_cmpint(hd_test_run_cli(apply, NULL, NULL, NULL), ==, 0);
        g_assert_cmpint(hd_test_run_cli(check_json, NULL, &out, NULL), ==, 1);
        root = hd_test_parse_json(out);
        checks = json_object_get_array_member(json_node_get_object(root), "checks");
        for (guint i = 0; i < json_array_get_length(checks); i++) {
                JsonObject *c = json_array_get_object_element(checks, i);
                if (strcmp(json_object_get_string_member(c, "id"), "iommu-kernel") == 0) {
                        /* the running kernel still has no IOMMU: that stays a failure */
                        g_assert_cmpstr(json_object_get_string_member(c, "status"), ==, "fail");
                        hint = json_object_get_string_member(c, "hint");
                }
        }
        g_assert_nonnull(hint);
        if (!strstr(hint, "intel_iommu=on is configured for the next boot: reboot") ||
            !strstr(hint, "/etc/default/grub") || strstr(hint, "kernel-args"))
                g_error("iommu-kernel hint after --apply: '%s'", hint);

        g_assert_cmpint(hd_test_run_cli(check_text, NULL, &text, NULL), ==, 1);
        g_assert_nonnull(strstr(text, "configured for the next boot: reboot"));
        g_assert_null(strstr(text, "hostdev kernel-args --enable iommu --apply"));
}

/* The same through the library on the other bootloaders kernel-args writes (grubby's BLS
 * entries; AMD, where only iommu=off must go), and no claim when nothing is configured. */
static void test_pending_reboot_variants(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("grubby-host");
        g_autoptr(HdHostReport) before = check_fixture(fx);
        const char *apply[] = {"--root",   fx->root, "--backend", "sim", "kernel-args",
                               "--enable", "iommu",  "--apply",   NULL};

        g_assert_null(strstr(get(before, "iommu-kernel")->hint, "next boot"));
        g_assert_cmpint(hd_test_run_cli(apply, NULL, NULL, NULL), ==, 0);
        {
                g_autoptr(HdHostReport) after = check_fixture(fx);
                assert_hint_has(after, "iommu-kernel",
                                "intel_iommu=on is configured for the next boot: reboot");
                assert_hint_has(after, "iommu-kernel", "/boot/loader/entries/");
        }
}

static void test_pending_reboot_amd(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("amd-host");
        const char *apply[] = {"--root",   fx->root, "--backend", "sim", "kernel-args",
                               "--enable", "iommu",  "--apply",   NULL};

        /* AMD booted with amd_iommu=off, groups gone; the config is then fixed */
        in_root(fx, "rm -rf sys/kernel/iommu_groups/* sys/class/iommu/*; "
                    "sed -i 's/$/ amd_iommu=off/' proc/cmdline; "
                    "sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT=\"/&amd_iommu=off /' etc/default/grub");
        {
                g_autoptr(HdHostReport) r = check_fixture(fx);
                assert_hint_has(r, "iommu-kernel", "amd_iommu=off; remove it");
        }
        g_assert_cmpint(hd_test_run_cli(apply, NULL, NULL, NULL), ==, 0);
        {
                g_autoptr(HdHostReport) r = check_fixture(fx);
                assert_hint_has(r, "iommu-kernel", "configured for the next boot: reboot");
                assert_hint_has(r, "iommu-kernel", "with amd_iommu=off");
        }
}

/* A mediated device (mdev) gets an emulated IOMMU group of its own, named by its UUID, even on a
 * machine without an IOMMU (../shared/reference/stay-tuned-devices.md): such groups are no
 * sign of an IOMMU, and PCI groups are counted without them. */
static void add_mdev_group(const HdTestFixture *fx, int number)
{
        g_autofree char *dir = g_strdup_printf("%s/sys/kernel/iommu_groups/%d/devices", fx->root,
                                               number);
        g_autofree char *member =
            g_build_filename(dir, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", NULL);
        g_autofree char *type = g_strdup_printf("%s/sys/kernel/iommu_groups/%d/type", fx->root,
                                                number);

        g_assert_cmpint(g_mkdir_with_parents(member, 0755), ==, 0);
        g_assert_true(g_file_set_contents(type, "unknown\n", -1, NULL));
}

static void test_mdev_group_is_no_iommu(void)
{
        g_autoptr(HdTestFixture) bare = hd_test_fixture_new("no-iommu");
        g_autoptr(HdTestFixture) desk = hd_test_fixture_new("desktop");
        guint desk_groups;

        {
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(bare);
                g_autoptr(HdHostReport) r = NULL;

                add_mdev_group(bare, 0);
                g_assert_false(hd_host_has_iommu_groups(ctx));
                g_assert_cmpuint(hd_iommu_pci_group_count(ctx), ==, 0);
                r = hd_host_check(ctx, NULL);
                g_assert_cmpint(hd_host_report_get(r, "iommu-kernel")->status, ==, HD_CHECK_FAIL);
                g_assert_cmpint(hd_host_report_get(r, "groups")->status, ==, HD_CHECK_SKIP);
                g_assert_false(r->passthrough_possible);
        }
        {
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(desk);
                g_autoptr(HdHostReport) r = NULL;
                g_autofree char *summary = NULL;

                desk_groups = hd_iommu_pci_group_count(ctx);
                g_assert_cmpuint(desk_groups, >, 0);
                add_mdev_group(desk, 99);
                g_assert_true(hd_host_has_iommu_groups(ctx));
                /* the mdev's group is not one of the IOMMU's PCI groups */
                g_assert_cmpuint(hd_iommu_pci_group_count(ctx), ==, desk_groups);
                r = hd_host_check(ctx, NULL);
                summary = g_strdup_printf("(%u IOMMU group", desk_groups);
                g_assert_nonnull(strstr(hd_host_report_get(r, "iommu-kernel")->summary, summary));
                /* group members that are UUIDs are left out of the PCI reads */
                {
                        g_autoptr(GArray) members = hd_iommu_group_addresses(ctx, 99);
                        g_assert_cmpuint(members->len, ==, 0);
                }
        }
}

int main(int argc, char **argv)
{
        int r;

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/host/ids-in-order", test_ids_in_order);
        g_test_add_func("/host/intel-ready", test_intel_ready);
        g_test_add_func("/host/amd-ready", test_amd_ready);
        g_test_add_func("/host/firmware-on-kernel-off", test_firmware_on_kernel_off);
        g_test_add_func("/host/intel-default-off-kernel", test_intel_default_off_kernel);
        g_test_add_func("/host/intel-default-on-kernel", test_intel_default_on_kernel);
        g_test_add_func("/host/amd-kernel-off", test_amd_kernel_off);
        g_test_add_func("/host/no-firmware-iommu", test_no_firmware_iommu);
        g_test_add_func("/host/no-vfio", test_no_vfio);
        g_test_add_func("/host/vfio-loaded", test_vfio_builtin_and_loaded);
        g_test_add_func("/host/interrupt-remapping-off", test_interrupt_remapping_off);
        g_test_add_func("/host/interrupt-remapping-fallback", test_interrupt_remapping_fallback);
        g_test_add_func("/host/no-kvm", test_no_kvm);
        g_test_add_func("/host/no-cpu-virt", test_no_cpu_virt);
        g_test_add_func("/host/old-kernel", test_old_kernel);
        g_test_add_func("/host/cli-exit-codes", test_cli_exit_codes);
        g_test_add_func("/host/cli-json", test_cli_json);
        g_test_add_func("/host/pending-reboot", test_pending_reboot);
        g_test_add_func("/host/pending-reboot-variants", test_pending_reboot_variants);
        g_test_add_func("/host/pending-reboot-amd", test_pending_reboot_amd);
        g_test_add_func("/host/unsafe-interrupts-pending", test_unsafe_interrupts_pending);
        g_test_add_func("/host/mdev-group-is-no-iommu", test_mdev_group_is_no_iommu);
        r = g_test_run();
        g_clear_pointer(&shared_fixtures, g_hash_table_unref);
        return r;
}
