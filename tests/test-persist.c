/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --persist: boot-time bindings installed, listed and removed through the backend. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define RULES "etc/udev/rules.d/60-hostdev-vfio.rules"
#define MODPROBE "etc/modprobe.d/hostdev-vfio.conf"
#define HOOK "etc/initramfs-tools/hooks/hostdev-vfio"
#define DRACUT "etc/dracut.conf.d/hostdev-vfio.conf"

static char *read_file(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *p = hd_test_path(fx, rel);
        char *data = NULL;

        if (!g_file_get_contents(p, &data, NULL, NULL))
                return NULL;
        return data;
}

static gboolean exists(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *p = hd_test_path(fx, rel);

        return g_file_test(p, G_FILE_TEST_EXISTS);
}

static void make_dir(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *p = hd_test_path(fx, rel);

        g_assert_cmpint(g_mkdir_with_parents(p, 0755), ==, 0);
}

static void test_detach_persist_list_remove(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *rules = NULL, *modprobe = NULL, *hook = NULL;
        HdAddress a = hd_test_address(GPU);
        HdBindOptions opts = { .group = TRUE, .persist = TRUE };
        gboolean ran_update = FALSE;

        make_dir(fx, "etc/initramfs-tools/hooks");
        ctx = hd_test_ctx_new(fx);
        r = hd_bind_detach(ctx, &a, 1, &opts, &error);
        g_assert_no_error(error);
        g_assert_true(r->persisted);

        rules = read_file(fx, RULES);
        g_assert_nonnull(rules);
        /* by address, and only for the card there now (its vendor, device, subsystem ids) */
        g_assert_nonnull(strstr(rules,
                                "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:01:00.0\", "
                                "ATTR{vendor}==\"0x10de\", ATTR{device}==\"0x1b80\", "
                                "ATTR{subsystem_vendor}==\"0x1458\", "
                                "ATTR{subsystem_device}==\"0x3702\", "
                                "ATTR{driver_override}=\"vfio-pci\"\n"));
        g_assert_nonnull(strstr(rules, "KERNEL==\"0000:01:00.1\""));
        modprobe = read_file(fx, MODPROBE);
        g_assert_nonnull(strstr(modprobe, "softdep nouveau pre: vfio-pci\n"));
        g_assert_nonnull(strstr(modprobe, "softdep snd_hda_intel pre: vfio-pci\n"));
        hook = read_file(fx, HOOK);
        g_assert_nonnull(strstr(hook, "manual_add_modules vfio-pci"));
        {
                g_autofree char *p = hd_test_path(fx, HOOK);
                g_assert_true(g_file_test(p, G_FILE_TEST_IS_EXECUTABLE));
        }
        g_assert_false(exists(fx, DRACUT));
        for (guint i = 0; i < hd_ctx_get_write_log(ctx)->len; i++) {
                const HdCtxWrite *w = hd_ctx_get_write_log(ctx)->pdata[i];
                if (w->op == HD_BACKEND_OP_RUN && strcmp(w->value, "update-initramfs -u") == 0)
                        ran_update = TRUE;
        }
        g_assert_true(ran_update);

        list = hd_persist_list(ctx, &error);
        g_assert_cmpuint(list->len, ==, 2);
        g_assert_cmpstr(((HdPersistEntry *)list->pdata[0])->name, ==, GPU);
        g_assert_cmpstr(((HdPersistEntry *)list->pdata[0])->driver, ==, "vfio-pci");
        g_assert_cmpstr(((HdPersistEntry *)list->pdata[0])->host_driver, ==, "nouveau");
        g_assert_false(((HdPersistEntry *)list->pdata[0])->builtin);
        g_clear_pointer(&list, g_ptr_array_unref);

        g_assert_true(hd_persist_remove(ctx, AUDIO, &error));
        g_assert_no_error(error);
        g_free(rules);
        rules = read_file(fx, RULES);
        g_assert_null(strstr(rules, AUDIO));
        g_assert_nonnull(strstr(rules, GPU));
        g_assert_false(hd_persist_remove(ctx, AUDIO, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);

        g_assert_true(hd_persist_remove(ctx, GPU, &error));
        g_assert_false(exists(fx, RULES));
        g_assert_false(exists(fx, MODPROBE));
        g_assert_false(exists(fx, HOOK));
        list = hd_persist_list(ctx, &error);
        g_assert_cmpuint(list->len, ==, 0);
}

static void test_attach_drops_persist_and_dracut(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(GPU);
        HdBindOptions opts = { .group = TRUE, .persist = TRUE };
        HdBindOptions back = { .group = TRUE };
        g_autofree char *dracut = NULL;

        make_dir(fx, "etc/dracut.conf.d");
        ctx = hd_test_ctx_new(fx);
        {
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &a, 1, &opts, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r);
                g_assert_nonnull(r);
        }
        dracut = read_file(fx, DRACUT);
        g_assert_nonnull(strstr(dracut, "add_drivers+=\" vfio-pci \""));
        g_assert_nonnull(strstr(dracut, "/etc/udev/rules.d/60-hostdev-vfio.rules"));
        {
                g_autoptr(HdBindReport) r = hd_bind_attach(ctx, &a, 1, &back, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r);
        }
        /* an attach that the next boot would undo is no attach: the binding goes too */
        g_assert_false(hd_persist_has(ctx, GPU));
        g_assert_false(hd_persist_has(ctx, AUDIO));
        g_assert_false(exists(fx, RULES));
        g_assert_false(exists(fx, DRACUT));
}

static void test_persist_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(GPU);
        HdBindOptions opts = { .group = TRUE, .persist = TRUE };
        g_autoptr(HdBindReport) r = NULL;
        const GPtrArray *log;
        gboolean saw_rules = FALSE;

        hd_ctx_set_dry_run(ctx, TRUE);
        r = hd_bind_detach(ctx, &a, 1, &opts, &error);
        g_assert_no_error(error);
        log = hd_ctx_get_write_log(ctx);
        for (guint i = 0; i < log->len; i++) {
                const HdCtxWrite *w = log->pdata[i];
                if (w->op == HD_BACKEND_OP_INSTALL_FILE && strcmp(w->path, RULES) == 0) {
                        saw_rules = TRUE;
                        g_assert_nonnull(strstr(w->value, "KERNEL==\"0000:01:00.1\""));
                }
        }
        g_assert_true(saw_rules);
        g_assert_false(exists(fx, RULES));
        g_assert_false(exists(fx, "etc/hostdev"));
}

static void test_cli_persist(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *arr;

        {
                const char *argv[] = { "--root", fx->root, "detach", GPU, "--group", "--persist",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        {
                const char *argv[] = { "--root", fx->root, "persist", "list", "--json", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        }
        root = hd_test_parse_json(out);
        arr = json_object_get_array_member(json_node_get_object(root), "persistent");
        g_assert_cmpuint(json_array_get_length(arr), ==, 2);
        g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(arr, 1),
                                                      "host_driver"),
                        ==, "snd_hda_intel");
        {
                const char *argv[] = { "--root", fx->root, "persist", "remove", GPU, AUDIO, NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        g_assert_false(exists(fx, RULES));
        {
                const char *argv[] = { "--root", fx->root, "persist", "remove", GPU, NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 1);
        }
        {
                const char *argv[] = { "--root", fx->root, "persist", "frobnicate", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 2);
        }
        {
                const char *argv[] = { "--root", fx->root, "persist", "add", GPU, "--group",
                                       "--dry-run", NULL };
                g_autofree char *dry = NULL;
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &dry, NULL), ==, 0);
                g_assert_nonnull(strstr(dry, "install /" RULES));
        }
        g_assert_false(exists(fx, RULES));
        {
                const char *argv[] = { "--root", fx->root, "persist", "add", GPU, "--group",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        g_assert_true(exists(fx, RULES));
        {
                const char *argv[] = { "--root", fx->root, "persist", "add", "0000:09:00.0",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 1);
        }
}

/* persist add goes through detach's planner and rules (hd_bind_persist()): on the desktop
 * fixture, the root-filesystem NVMe, the NIC with the default route, the boot GPU, a root port
 * and a single function of a shared group are each refused, with the same --force levels and
 * --group as detach, and nothing is written. */
typedef struct {
        const char *addr;
        guint force_needed; /* 0: allowed as is; 3: never */
        const char *words;  /* in the refusal */
} PersistCase;

static const PersistCase persist_cases[] = {
        { "0000:02:00.0", 3, "root filesystem" },                 /* NVMe holding / */
        { "0000:03:00.0", 2, "default route" },                   /* enp3s0 */
        { "0000:00:02.0", 1, "boot VGA" },                        /* i915 */
        { "0000:00:01.0", 3, "PCI bridge" },                      /* root port */
        { "0000:01:00.0", 3, "with --group" },                    /* without --group */
        { "0000:00:14.0", 0, NULL },                              /* xhci: nothing needs it */
};

static void test_persist_add_checks(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");

        for (guint c = 0; c < G_N_ELEMENTS(persist_cases); c++) {
                const PersistCase *pc = &persist_cases[c];
                g_autoptr(HdTestFixture) copy = hd_test_fixture_copy(fx);
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(copy);
                HdAddress a = hd_test_address(pc->addr);

                for (guint force = 0; force <= 2; force++) {
                        HdBindOptions opts = { .force = force };
                        g_autoptr(GError) error = NULL;
                        g_autoptr(HdBindReport) r = hd_bind_persist(ctx, &a, 1, &opts, &error);

                        if (force < pc->force_needed) {
                                g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
                                g_assert_null(r);
                                g_assert_nonnull(strstr(error->message, pc->words));
                                g_assert_false(exists(copy, RULES));
                                g_assert_false(hd_persist_has(ctx, pc->addr));
                        } else {
                                g_assert_no_error(error);
                                g_assert_true(r->persisted);
                                g_assert_true(hd_persist_has(ctx, pc->addr));
                                break;
                        }
                }
                /* and through the CLI, without --force: exit 1, the reason, nothing written */
                if (pc->force_needed > 0) {
                        g_autoptr(HdTestFixture) c2 = hd_test_fixture_copy(fx);
                        const char *argv[] = { "--root", c2->root, "persist", "add", pc->addr,
                                               NULL };
                        g_autofree char *out = NULL, *err = NULL;
                        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, &err), ==, 1);
                        g_assert_nonnull(strstr(err, pc->words));
                        g_assert_null(strstr(out, "every boot"));
                        g_assert_false(exists(c2, RULES));
                }
        }
}

/* A bridge is refused even with --force --force, by the CLI too. */
static void test_persist_add_bridge_forced(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *argv[] = { "--root", fx->root, "persist", "add", "0000:00:1c.0", "--force",
                               "--force", "--group", NULL };
        g_autofree char *err = NULL;

        g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "PCI bridge"));
        g_assert_false(exists(fx, RULES));
}

/* --group binds the whole group at boot; --dry-run shows that plan and writes nothing; a
 * member on vfio-pci now but not bound at boot still keeps the group from being viable at
 * boot. */
static void test_persist_add_group_plan(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = NULL;
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *devs;

        {
                const char *argv[] = { "--root", fx->root, "persist", "add", GPU, "--group",
                                       "--dry-run", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, GPU "  nouveau now, vfio-pci at every boot"));
                g_assert_nonnull(strstr(out, AUDIO "  snd_hda_intel now, vfio-pci at every boot"));
                g_assert_nonnull(strstr(out, "install /" RULES));
                g_assert_false(exists(fx, RULES));
                g_clear_pointer(&out, g_free);
        }
        {
                const char *argv[] = { "--root", fx->root, "--json", "persist", "add", GPU,
                                       "--group", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        }
        root = hd_test_parse_json(out);
        devs = json_object_get_array_member(json_node_get_object(root), "devices");
        g_assert_cmpuint(json_array_get_length(devs), ==, 2);
        g_assert_false(json_object_get_boolean_member(json_array_get_object_element(devs, 1),
                                                      "requested"));
        g_assert_true(json_object_get_boolean_member(json_node_get_object(root), "persisted"));
        ctx = hd_test_ctx_new(fx);
        g_assert_true(hd_persist_has(ctx, GPU));
        g_assert_true(hd_persist_has(ctx, AUDIO));

        /* detached now, only the GPU bound at boot: the audio would be back on its host driver
         * after a reboot */
        {
                HdAddress a = hd_test_address(GPU);
                HdBindOptions opts = { .group = TRUE };
                g_autoptr(GError) error = NULL;
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &a, 1, &opts, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r);
                g_assert_true(hd_persist_remove(ctx, AUDIO, &error));
                g_assert_true(hd_persist_remove(ctx, GPU, &error));
        }
        {
                HdAddress a = hd_test_address(GPU);
                HdBindOptions opts = { 0 };
                g_autoptr(GError) error = NULL;
                g_autoptr(HdBindReport) r = hd_bind_persist(ctx, &a, 1, &opts, &error);
                g_assert_null(r);
                g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
                g_assert_nonnull(strstr(error->message, AUDIO));
                g_assert_false(hd_persist_has(ctx, GPU));
        }
}

/* detach --persist judges the group as it will be at boot, as persist add does: the audio
 * function on vfio-pci now but not bound at boot would keep the GPU's group from being viable
 * after a reboot. */
static void test_detach_persist_boot_viability(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        HdAddress a = hd_test_address(GPU);
        g_autoptr(GError) error = NULL;

        {
                HdBindOptions opts = { .group = TRUE };
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &a, 1, &opts, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r);
        }
        {
                HdBindOptions opts = { .persist = TRUE };
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &a, 1, &opts, &error);
                g_assert_null(r);
                g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
                g_assert_nonnull(strstr(error->message, AUDIO));
                g_assert_nonnull(strstr(error->message, "bind at boot the whole group with --group"));
                g_assert_false(hd_persist_has(ctx, GPU));
                g_clear_error(&error);
        }
        {
                HdBindOptions opts = { .persist = TRUE, .group = TRUE };
                g_autoptr(HdBindReport) r = hd_bind_detach(ctx, &a, 1, &opts, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r);
                g_assert_true(hd_persist_has(ctx, GPU));
                g_assert_true(hd_persist_has(ctx, AUDIO));
        }
}

/* attach removes the boot-time binding and says so, in words and in JSON; --keep-persist keeps
 * it (and then says nothing about it). */
static void test_attach_says_persist_removed(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = NULL;
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *devs;

        {
                const char *argv[] = { "--root", fx->root, "detach", GPU, "--group", "--persist",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        /* a dry run says it would remove it, and does not */
        {
                const char *argv[] = { "--root", fx->root, "attach", GPU, "--group", "--dry-run",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, GPU ": its boot-time binding would be removed"));
                g_assert_nonnull(strstr(out, AUDIO ": its boot-time binding would be removed"));
                g_assert_true(exists(fx, RULES));
                g_clear_pointer(&out, g_free);
        }
        /* --keep-persist: the binding stays, and nothing claims it went */
        {
                g_autoptr(HdTestFixture) keep = hd_test_fixture_copy(fx);
                g_autoptr(HdCtx) kctx = NULL;
                const char *argv[] = { "--root", keep->root, "attach", GPU, "--group",
                                       "--keep-persist", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
                g_assert_null(strstr(out, "boot-time binding"));
                g_clear_pointer(&out, g_free);
                kctx = hd_test_ctx_new(keep);
                g_assert_true(hd_persist_has(kctx, GPU));
                g_assert_true(hd_persist_has(kctx, AUDIO));
                g_assert_true(exists(keep, RULES));
        }
        {
                g_autoptr(HdTestFixture) words = hd_test_fixture_copy(fx);
                const char *argv[] = { "--root", words->root, "attach", GPU, "--group", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, GPU ": its boot-time binding is removed: the host "
                                              "keeps it after a reboot too"));
                g_clear_pointer(&out, g_free);
        }
        {
                const char *argv[] = { "--root", fx->root, "--json", "attach", GPU, "--group",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        }
        root = hd_test_parse_json(out);
        devs = json_object_get_array_member(json_node_get_object(root), "devices");
        g_assert_cmpuint(json_array_get_length(devs), ==, 2);
        for (guint i = 0; i < 2; i++)
                g_assert_true(json_object_get_boolean_member(
                        json_array_get_object_element(devs, i), "persist_removed"));
        ctx = hd_test_ctx_new(fx);
        g_assert_false(hd_persist_has(ctx, GPU));
        g_assert_false(exists(fx, RULES));
}

/* driverctl parity: a boot-time binding to any driver the host has (here pci-stub for the USB
 * controller), checked as detach is; an unknown driver refused. */
static void test_persist_other_driver(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdBindReport) r = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *rules = NULL;
        g_autofree char *modprobe = NULL;
        g_autofree char *hook = NULL;
        HdAddress usb = hd_test_address("0000:00:14.0");
        HdAddress nvme = hd_test_address("0000:02:00.0");
        HdBindOptions stub = { .driver = "pci-stub" };
        HdBindOptions unknown = { .driver = "no_such_driver" };

        make_dir(fx, "etc/initramfs-tools/hooks");
        ctx = hd_test_ctx_new(fx);
        r = hd_bind_persist(ctx, &usb, 1, &stub, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(((HdBindDevice *)r->devices->pdata[0])->to_driver, ==, "pci-stub");
        rules = read_file(fx, RULES);
        g_assert_nonnull(strstr(rules, "KERNEL==\"0000:00:14.0\", ATTR{vendor}==\"0x8086\", "
                                       "ATTR{device}==\"0xa36d\""));
        g_assert_nonnull(strstr(rules, "ATTR{driver_override}=\"pci-stub\"\n"));
        modprobe = read_file(fx, MODPROBE);
        g_assert_nonnull(strstr(modprobe, "softdep xhci_pci pre: pci-stub\n"));
        hook = read_file(fx, HOOK);
        g_assert_nonnull(strstr(hook, "manual_add_modules pci-stub\n"));
        list = hd_persist_list(ctx, &error);
        g_assert_cmpuint(list->len, ==, 1);
        g_assert_cmpstr(((HdPersistEntry *)list->pdata[0])->driver, ==, "pci-stub");
        g_assert_null(((HdPersistEntry *)list->pdata[0])->not_applied);
        g_clear_pointer(&r, hd_bind_report_free);

        /* the same safety as detach: the root disk's controller is refused */
        g_assert_null(hd_bind_persist(ctx, &nvme, 1, &stub, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_clear_error(&error);
        /* a driver this host does not have */
        g_assert_null(hd_bind_persist(ctx, &usb, 1, &unknown, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "no PCI driver no_such_driver on this host"));
}

/* Cards move between slots: a binding is for the card it was made for. Another card at the
 * address is not bound at boot (the rule matches the recorded ids) and list, check and so the
 * agent's readiness say so; an entry from before ids were recorded still binds by address. */
static void test_persist_card_replaced(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdBindReport) r = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_autoptr(HdHostReport) report = NULL;
        g_autofree char *entry = g_build_filename(fx->root, "etc/hostdev/persist.d", GPU, NULL);
        g_autofree char *text = NULL;
        g_autofree char *changed = NULL;
        HdAddress a = hd_test_address(GPU);
        HdBindOptions opts = { .group = TRUE };
        const HdCheck *check;
        const HdPersistEntry *e = NULL;

        r = hd_bind_persist(ctx, &a, 1, &opts, &error);
        g_assert_no_error(error);
        report = hd_host_check(ctx, &error);
        check = hd_host_report_get(report, "boot-bindings");
        g_assert_cmpint(check->status, ==, HD_CHECK_PASS);
        g_clear_pointer(&report, hd_host_report_free);

        /* the binding was made for another card (an AMD one) */
        g_assert_true(g_file_get_contents(entry, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "vendor=10de\ndevice=1b80\n"));
        {
                g_auto(GStrv) parts = g_strsplit(text, "vendor=10de\ndevice=1b80\n", 2);
                changed = g_strjoinv("vendor=1002\ndevice=73bf\n", parts);
        }
        g_assert_true(g_file_set_contents(entry, changed, -1, NULL));
        list = hd_persist_list(ctx, &error);
        for (guint i = 0; i < list->len; i++)
                if (strcmp(((HdPersistEntry *)list->pdata[i])->name, GPU) == 0)
                        e = list->pdata[i];
        g_assert_nonnull(e);
        g_assert_nonnull(e->not_applied);
        g_assert_nonnull(strstr(e->not_applied, "0000:01:00.0 now holds 10de:1b80"));
        g_assert_nonnull(strstr(e->not_applied, "not the card the binding was made for (1002:73bf"));
        g_assert_nonnull(strstr(e->not_applied, "hostdev persist remove 0000:01:00.0"));
        report = hd_host_check(ctx, &error);
        check = hd_host_report_get(report, "boot-bindings");
        g_assert_cmpint(check->status, ==, HD_CHECK_WARN);
        g_assert_nonnull(strstr(check->summary, "1 boot-time binding will not apply"));
        g_assert_nonnull(strstr(check->hint, "0000:01:00.0 now holds 10de:1b80"));
        /* passthrough itself is not at stake */
        g_assert_true(report->passthrough_possible);
        {
                /* and the regenerated rule would not match the card there now */
                g_autoptr(GPtrArray) names = g_ptr_array_new();
                g_autofree char *rules = NULL;
                g_ptr_array_add(names, (gpointer)AUDIO);
                g_assert_true(hd_persist_add(ctx, names, "vfio-pci", &error));
                rules = read_file(fx, RULES);
                g_assert_nonnull(strstr(rules, "KERNEL==\"0000:01:00.0\", ATTR{vendor}==\"0x1002\", "
                                               "ATTR{device}==\"0x73bf\""));
        }
        /* an entry without ids (written before they were recorded): by address, applies */
        g_assert_true(g_file_set_contents(entry, "[persist]\ndriver=vfio-pci\nhost_driver=nouveau\n",
                                          -1, NULL));
        g_clear_pointer(&list, g_ptr_array_unref);
        list = hd_persist_list(ctx, &error);
        for (guint i = 0; i < list->len; i++)
                if (strcmp(((HdPersistEntry *)list->pdata[i])->name, GPU) == 0) {
                        e = list->pdata[i];
                        g_assert_cmpint(e->vendor_id, ==, -1);
                        g_assert_null(e->not_applied);
                }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/persist/detach-list-remove", test_detach_persist_list_remove);
        g_test_add_func("/persist/attach-drops-dracut", test_attach_drops_persist_and_dracut);
        g_test_add_func("/persist/dry-run", test_persist_dry_run);
        g_test_add_func("/persist/cli", test_cli_persist);
        g_test_add_func("/persist/other-driver", test_persist_other_driver);
        g_test_add_func("/persist/card-replaced", test_persist_card_replaced);
        g_test_add_func("/persist/add-checks", test_persist_add_checks);
        g_test_add_func("/persist/add-bridge-forced", test_persist_add_bridge_forced);
        g_test_add_func("/persist/add-group-plan", test_persist_add_group_plan);
        g_test_add_func("/persist/attach-says-removed", test_attach_says_persist_removed);
        g_test_add_func("/persist/detach-persist-boot-viability",
                        test_detach_persist_boot_viability);
        return g_test_run();
}
