/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Issue 12, items 4 and 10: one state for a device and its group (state.h), the same in every
 * command; interrupted operations visible in every read command, recover --dry-run, and
 * detach --dry-run after a crash showing the plan the real run follows.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define NVME "0000:02:00.0"
#define NIC "0000:03:00.0"
#define JOURNAL "var/lib/hostdev/journal/1796142040088630-11735-0"

/* Run the CLI on @fx; returns the exit status, stdout in *out. */
static int run(const HdTestFixture *fx, const char *const *args, char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, NULL, out, err);
}

/* The CLI's --json answer (asserting exit status @status). */
static JsonNode *run_json(const HdTestFixture *fx, const char *const *args, int status)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL;

        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, (gpointer) "--json");
        g_ptr_array_add(argv, NULL);
        g_assert_cmpint(run(fx, (const char *const *)argv->pdata, &out, NULL), ==, status);
        return hd_test_parse_json(out);
}

/* A process with /dev/vfio/@group open; with @vm, a QEMU started by libvirt for domain @vm. */
static void hold_group_open(const HdTestFixture *fx, int group, const char *vm)
{
        g_autofree char *fd_dir = hd_test_path(fx, "proc/4242/fd");
        g_autofree char *comm = hd_test_path(fx, "proc/4242/comm");
        g_autofree char *cmdline = hd_test_path(fx, "proc/4242/cmdline");
        g_autofree char *link = g_build_filename(fd_dir, "17", NULL);
        g_autofree char *target = g_strdup_printf("/dev/vfio/%d", group);

        g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(comm, "qemu-system-x86\n", -1, NULL));
        g_assert_cmpint(symlink(target, link), ==, 0);
        if (vm) {
                g_autoptr(GString) args = g_string_new(NULL);
                g_string_append(args, "/usr/bin/qemu-system-x86_64");
                g_string_append_c(args, '\0');
                g_string_append(args, "-name");
                g_string_append_c(args, '\0');
                g_string_append_printf(args, "guest=%s,debug-threads=on", vm);
                g_string_append_c(args, '\0');
                g_string_append(args, "-S");
                g_string_append_c(args, '\0');
                g_assert_true(g_file_set_contents(cmdline, args->str, (gssize)args->len, NULL));
        }
}

/* The group object of @addr in `groups --json`. */
static JsonObject *group_of(JsonNode *groups_root, const char *addr)
{
        JsonArray *groups =
            json_object_get_array_member(json_node_get_object(groups_root), "groups");

        for (guint i = 0; i < json_array_get_length(groups); i++) {
                JsonObject *g = json_array_get_object_element(groups, i);
                JsonArray *devs = json_object_get_array_member(g, "devices");
                for (guint k = 0; k < json_array_get_length(devs); k++)
                        if (strcmp(json_array_get_string_element(devs, k), addr) == 0)
                                return g;
        }
        return NULL;
}

/* The mid-crash host with its journal gone: the GPU on vfio-pci, its audio on snd_hda_intel. */
static HdTestFixture *partly_detached(void)
{
        HdTestFixture *fx = hd_test_fixture_new("mid-crash");
        g_autofree char *journal = hd_test_path(fx, JOURNAL);

        g_assert_cmpint(g_unlink(journal), ==, 0);
        return fx;
}

/* ---------------------------------------------------------------- item 4 */

/* `groups` said "ready" for a group half on vfio-pci and half on a host driver. */
static void test_groups_partly_detached(void)
{
        g_autoptr(HdTestFixture) fx = partly_detached();
        const char *args[] = {"groups", NULL};
        g_autoptr(JsonNode) root = run_json(fx, args, 0);
        JsonObject *g = group_of(root, GPU);
        g_autofree char *out = NULL;

        g_assert_nonnull(g);
        g_assert_cmpstr(json_object_get_string_member(g, "verdict_code"), ==, "partly-detached");
        g_assert_cmpstr(json_object_get_string_member(g, "state"), ==, "partly-detached");
        g_assert_false(json_object_get_boolean_member(g, "viable"));
        g_assert_null(strstr(json_object_get_string_member(g, "verdict"), "ready"));
        g_assert_nonnull(
            strstr(json_object_get_string_member(g, "verdict"), "hostdev detach --group " GPU));
        g_assert_cmpint(run(fx, args, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "group 1: partly detached: " GPU
                                     " (vfio-pci) is on vfio, " AUDIO " (snd_hda_intel) is not"));
}

/* `groups` said "ready" while a VM held the group open; the holder is named by its VM. */
static void test_groups_in_use(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        const char *args[] = {"groups", NULL};
        g_autoptr(JsonNode) root = NULL;
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        HdAddress a = hd_test_address(GPU);
        g_autoptr(HdDevice) dev = hd_device_load(ctx, &a, HD_FIELD_IOMMU, NULL);
        g_autofree char *out = NULL;
        JsonObject *g, *holder;
        JsonArray *held;

        hold_group_open(fx, dev->iommu_group, "win10");
        root = run_json(fx, args, 0);
        g = group_of(root, GPU);
        g_assert_cmpstr(json_object_get_string_member(g, "verdict_code"), ==, "in-use");
        g_assert_cmpstr(json_object_get_string_member(g, "state"), ==, "in-use");
        held = json_object_get_array_member(g, "held_by");
        g_assert_cmpuint(json_array_get_length(held), ==, 1);
        holder = json_array_get_object_element(held, 0);
        g_assert_cmpint(json_object_get_int_member(holder, "pid"), ==, 4242);
        g_assert_cmpstr(json_object_get_string_member(holder, "process"), ==, "qemu-system-x86");
        g_assert_cmpstr(json_object_get_string_member(holder, "vm"), ==, "win10");
        g_assert_nonnull(strstr(json_object_get_string_member(g, "verdict"),
                                "in use by VM win10 (process 4242, qemu-system-x86)"));
        /* the text and show say it too */
        g_assert_cmpint(run(fx, args, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "in use by VM win10"));
        {
                const char *show[] = {"show", GPU, NULL};
                g_autoptr(JsonNode) s = run_json(fx, show, 0);
                JsonObject *o = json_node_get_object(s);
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "assigned");
                g_assert_cmpstr(json_object_get_string_member(
                                    json_object_get_object_member(o, "group"), "state"),
                                ==, "in-use");
        }
        /* verify says who holds it */
        {
                const char *verify[] = {"verify", GPU, NULL};
                g_autofree char *err = NULL;
                g_assert_cmpint(run(fx, verify, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "4242 (qemu-system-x86, VM win10)"));
        }
        /* attach refuses, naming the VM */
        {
                const char *attach[] = {"attach", "--group", GPU, NULL};
                g_autofree char *err = NULL;
                g_assert_cmpint(run(fx, attach, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "VM win10"));
        }
}

/* The VM's name from QEMU's command line: libvirt's -name guest=NAME,..., QEMU's ",," escape,
 * a plain -name NAME, and none. */
static void test_vm_name(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *dir = hd_test_path(fx, "proc/77");
        g_autofree char *cmdline = hd_test_path(fx, "proc/77/cmdline");
        static const struct {
                const char *args;
                gsize len;
                const char *vm;
        } cases[] = {
            {"qemu\0-name\0guest=db,,1,debug-threads=on\0", 40, "db,1"},
            {"qemu\0-name\0plain\0-m\0"
             "1024\0",
             23, "plain"},
            {"qemu\0-name\0guest=last", 22, "last"},
            {"qemu\0-m\0"
             "1024\0",
             13, NULL},
            {"qemu\0-name", 10, NULL},
        };

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *vm = NULL;
                g_assert_true(
                    g_file_set_contents(cmdline, cases[i].args, (gssize)cases[i].len, NULL));
                vm = hd_usage_vm_of_pid(ctx, 77);
                g_assert_cmpstr(vm, ==, cases[i].vm);
        }
}

/* `show` said "assignable: yes" for the NVMe that holds the root filesystem. */
static void test_show_root_nvme(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *args[] = {"show", NVME, NULL};
        g_autoptr(JsonNode) root = run_json(fx, args, 0);
        JsonObject *o = json_node_get_object(root);
        g_autofree char *out = NULL;

        g_assert_false(json_object_get_boolean_member(o, "assignable"));
        g_assert_nonnull(
            strstr(json_object_get_string_member(o, "assignable_reason"), "/dev/nvme0n1p2 on /"));
        g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(o, "group"),
                                                      "verdict_code"),
                        ==, "host-needs-it");
        g_assert_cmpint(run(fx, args, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "assignable         no: the host uses it: "));
        g_assert_null(strstr(out, "assignable         yes"));
}

/* ---------------------------------------------------------------- agreement table */

/* A string member, NULL when null or absent (a field older versions lack). */
static const char *str_member(JsonObject *o, const char *name)
{
        JsonNode *n = json_object_get_member(o, name);

        return n && !json_node_is_null(n) ? json_node_get_string(n) : NULL;
}

/* Every verdict agrees with every other: for every device of a topology, list and show say
 * the same assignable, reason and state; groups and show the same group state and verdict;
 * and detach --dry-run --group (no --force) succeeds exactly when every endpoint of the group
 * is assignable and no interrupted operation names it, making no write when the group is in
 * use (already there). */
static void check_agreement(const HdTestFixture *fx)
{
        const char *list_args[] = {"list", NULL};
        const char *groups_args[] = {"groups", NULL};
        g_autoptr(JsonNode) list = run_json(fx, list_args, 0);
        g_autoptr(JsonNode) groups = run_json(fx, groups_args, 0);
        JsonArray *devs = json_object_get_array_member(json_node_get_object(list), "devices");
        guint n_detach_ok = 0, n_detach_refused = 0, n_without_state = 0;

        g_assert_cmpuint(json_array_get_length(devs), >, 0);
        for (guint i = 0; i < json_array_get_length(devs); i++) {
                JsonObject *ld = json_array_get_object_element(devs, i);
                const char *addr = json_object_get_string_member(ld, "address");
                const char *show_args[] = {"show", addr, NULL};
                g_autoptr(JsonNode) show = run_json(fx, show_args, 0);
                JsonObject *sd = json_node_get_object(show);
                JsonObject *gl = group_of(groups, addr);
                JsonObject *gs = json_object_get_null_member(sd, "group")
                                     ? NULL
                                     : json_object_get_object_member(sd, "group");
                const char *detach_args[] = {"detach", "--dry-run", "--group", addr, NULL};
                gboolean group_ok = TRUE;
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;
                int status;

                g_test_message("%s", addr);
                status = run(fx, detach_args, &out, &err);
                g_assert_cmpint(json_object_get_boolean_member(ld, "assignable"), ==,
                                json_object_get_boolean_member(sd, "assignable"));
                g_assert_cmpstr(json_object_get_string_member(ld, "assignable_reason"), ==,
                                json_object_get_string_member(sd, "assignable_reason"));
                g_assert_true(!gl == !gs);
                if (gl) {
                        JsonArray *members = json_object_get_array_member(gl, "devices");
                        JsonArray *bridges = json_object_get_array_member(gl, "bridges");
                        g_assert_cmpstr(json_object_get_string_member(gl, "verdict_code"), ==,
                                        json_object_get_string_member(gs, "verdict_code"));
                        g_assert_cmpstr(json_object_get_string_member(gl, "verdict"), ==,
                                        json_object_get_string_member(gs, "verdict"));
                        /* the group is detachable when each endpoint is assignable */
                        for (guint k = 0; k < json_array_get_length(members); k++) {
                                const char *m = json_array_get_string_element(members, k);
                                gboolean bridge = FALSE;
                                for (guint b = 0; b < json_array_get_length(bridges); b++)
                                        bridge = bridge ||
                                                 strcmp(json_array_get_string_element(bridges, b),
                                                        m) == 0;
                                for (guint d = 0; !bridge && d < json_array_get_length(devs); d++) {
                                        JsonObject *o = json_array_get_object_element(devs, d);
                                        const char *reason =
                                            json_object_get_string_member(o, "assignable_reason");
                                        if (strcmp(json_object_get_string_member(o, "address"),
                                                   m) == 0 &&
                                            !json_object_get_boolean_member(o, "assignable") &&
                                            g_strcmp0(reason, "host bridge") != 0)
                                                group_ok = FALSE;
                                }
                        }
                        if (str_member(gl, "interrupted"))
                                group_ok = FALSE;
                        /* the verdicts that promise a refusal */
                        if (g_strv_contains((const char *const[]){"host-needs-it", "boot-gpu",
                                                                  "no-endpoint", NULL},
                                            json_object_get_string_member(gl, "verdict_code")))
                                g_assert_false(group_ok &&
                                               json_object_get_boolean_member(ld, "assignable"));
                }
                if (json_object_get_boolean_member(ld, "assignable") && group_ok) {
                        if (status != 0)
                                g_error("%s: assignable, but detach --dry-run refuses: %s", addr,
                                        err);
                        n_detach_ok++;
                        if (gl && g_strcmp0(str_member(gl, "state"), "in-use") == 0)
                                g_assert_null(strstr(out, "Would make these changes"));
                } else {
                        if (status == 0)
                                g_error("%s: not assignable (%s), but detach --dry-run accepts",
                                        addr,
                                        json_object_get_string_member(ld, "assignable_reason"));
                        n_detach_refused++;
                }
                /* the states (fields added by issue 12), asserted after the loop */
                n_without_state += !str_member(ld, "state") || (gl && !str_member(gl, "state"));
                g_assert_cmpstr(str_member(ld, "state"), ==, str_member(sd, "state"));
                if (gl)
                        g_assert_cmpstr(str_member(gl, "state"), ==, str_member(gs, "state"));
        }
        g_assert_cmpuint(n_without_state, ==, 0);
        g_test_message("%u detachable, %u refused", n_detach_ok, n_detach_refused);
        g_assert_cmpuint(n_detach_ok, >, 0);
        g_assert_cmpuint(n_detach_refused, >, 0);
}

static void test_agree_desktop(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");

        check_agreement(fx);
}

static void test_agree_already_vfio_in_use(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        HdAddress a = hd_test_address(GPU);
        g_autoptr(HdDevice) dev = hd_device_load(ctx, &a, HD_FIELD_IOMMU, NULL);

        hold_group_open(fx, dev->iommu_group, "win10");
        check_agreement(fx);
}

static void test_agree_partly_detached(void)
{
        g_autoptr(HdTestFixture) fx = partly_detached();

        check_agreement(fx);
}

static void test_agree_sriov(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");

        check_agreement(fx);
}

static void test_agree_proxmox(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-host");

        check_agreement(fx);
}

/* ---------------------------------------------------------------- item 10 */

/* groups, show, check and list say "1 interrupted operation: run hostdev recover", in text
 * and in JSON, and the group it names says so. */
static void test_interrupted_visible(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mid-crash");
        static const char *const commands[][3] = {
            {"groups", NULL}, {"show", AUDIO, NULL}, {"list", NULL}, {"check", NULL}};
        g_autofree char *journal = hd_test_path(fx, JOURNAL);

        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autofree char *out = NULL;
                g_autoptr(JsonNode) root = NULL;
                int status = run(fx, commands[i], &out, NULL);

                g_assert_true(status == 0 || strcmp(commands[i][0], "check") == 0);
                g_assert_nonnull(strstr(out, "1 interrupted operation: run hostdev recover"));
                {
                        g_autoptr(GPtrArray) argv = g_ptr_array_new();
                        g_autofree char *json = NULL;
                        for (const char *const *a = commands[i]; *a; a++)
                                g_ptr_array_add(argv, (gpointer)*a);
                        g_ptr_array_add(argv, (gpointer) "--json");
                        g_ptr_array_add(argv, NULL);
                        (void)run(fx, (const char *const *)argv->pdata, &json, NULL);
                        root = hd_test_parse_json(json);
                }
                g_assert_cmpint(json_object_get_int_member(json_node_get_object(root),
                                                           "interrupted_operations"),
                                ==, 1);
        }
        {
                const char *args[] = {"groups", NULL};
                g_autoptr(JsonNode) root = run_json(fx, args, 0);
                JsonObject *g = group_of(root, GPU);
                g_assert_cmpstr(json_object_get_string_member(g, "state"), ==, "interrupted");
                g_assert_cmpstr(json_object_get_string_member(g, "verdict_code"), ==,
                                "interrupted");
                g_assert_cmpstr(json_object_get_string_member(g, "interrupted"), ==, "/" JOURNAL);
        }
        {
                const char *args[] = {"check", NULL};
                g_autoptr(JsonNode) root = run_json(fx, args, 0);
                JsonArray *checks =
                    json_object_get_array_member(json_node_get_object(root), "checks");
                JsonObject *c = NULL;
                for (guint i = 0; i < json_array_get_length(checks); i++)
                        if (strcmp(json_object_get_string_member(
                                       json_array_get_object_element(checks, i), "id"),
                                   "interrupted") == 0)
                                c = json_array_get_object_element(checks, i);
                g_assert_nonnull(c);
                g_assert_cmpstr(json_object_get_string_member(c, "status"), ==, "warn");
        }
        /* reading changed nothing: the journal is still there */
        g_assert_true(g_file_test(journal, G_FILE_TEST_IS_REGULAR));
        /* after recovery every command is quiet again */
        {
                const char *recover[] = {"recover", NULL};
                const char *groups[] = {"groups", NULL};
                g_autofree char *out = NULL;
                g_assert_cmpint(run(fx, recover, NULL, NULL), ==, 0);
                g_assert_cmpint(run(fx, groups, &out, NULL), ==, 0);
                g_assert_null(strstr(out, "interrupted"));
        }
}

/* The tree's files, links and contents (procfs aside), to prove a dry run changed nothing. */
static char *tree_listing(const HdTestFixture *fx)
{
        g_autofree char *cmd = g_strdup_printf(
            "cd '%s' && find . -path ./proc -prune -o -printf '%%p %%y %%l %%s\\n' | sort && "
            "find sys var dev run -type f -exec md5sum {} + 2>/dev/null | sort",
            fx->root);
        const char *argv[] = {"sh", "-c", cmd, NULL};
        g_autoptr(GError) error = NULL;
        char *out = NULL;
        int status;

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                                   NULL, &status, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(strlen(out), >, 1000);
        return out;
}

static JsonArray *writes_of(JsonNode *root)
{
        return json_object_get_array_member(json_node_get_object(root), "writes");
}

static gboolean same_writes(JsonArray *a, JsonArray *b, guint from_a, guint from_b, guint n)
{
        for (guint i = 0; i < n; i++) {
                JsonObject *x = json_array_get_object_element(a, from_a + i);
                JsonObject *y = json_array_get_object_element(b, from_b + i);
                if (g_strcmp0(json_object_get_string_member(x, "path"),
                              json_object_get_string_member(y, "path")) != 0 ||
                    g_strcmp0(json_object_get_string_member(x, "value"),
                              json_object_get_string_member(y, "value")) != 0)
                        return FALSE;
        }
        return TRUE;
}

/* recover --dry-run says what recovery would do and write, changes nothing, and the real
 * recover then writes exactly that. */
static void test_recover_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mid-crash");
        const char *dry[] = {"recover", "--dry-run", NULL};
        const char *real[] = {"recover", NULL};
        g_autofree char *before = tree_listing(fx);
        g_autofree char *after = NULL;
        g_autoptr(JsonNode) d = run_json(fx, dry, 0);
        g_autoptr(JsonNode) r = NULL;
        JsonObject *o = json_node_get_object(d);
        JsonArray *ops = json_object_get_array_member(o, "operations");
        JsonObject *op;
        g_autofree char *text = NULL;
        g_autofree char *drv = NULL;

        after = tree_listing(fx);
        g_assert_cmpstr(before, ==, after);
        g_assert_true(json_object_get_boolean_member(o, "dry_run"));
        g_assert_cmpint(json_object_get_int_member(o, "recovered"), ==, 1);
        g_assert_cmpuint(json_array_get_length(ops), ==, 1);
        op = json_array_get_object_element(ops, 0);
        g_assert_cmpstr(json_object_get_string_member(op, "action"), ==, "roll-back");
        g_assert_cmpstr(json_object_get_string_member(op, "journal"), ==, "/" JOURNAL);
        g_assert_cmpstr(json_object_get_string_member(op, "operation"), ==, "detach");
        g_assert_cmpuint(json_array_get_length(writes_of(d)), >, 0);
        drv = hd_test_driver(fx, GPU);
        g_assert_cmpstr(drv, ==, "vfio-pci");

        g_assert_cmpint(run(fx, dry, &text, NULL), ==, 0);
        g_assert_nonnull(strstr(text, "would be rolled back: " GPU " (back to nouveau)"));
        g_assert_nonnull(strstr(text, "nothing was changed"));

        r = run_json(fx, real, 0);
        g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "recovered"), ==, 1);
        g_assert_cmpuint(json_array_get_length(writes_of(r)), ==,
                         json_array_get_length(writes_of(d)));
        g_assert_true(
            same_writes(writes_of(d), writes_of(r), 0, 0, json_array_get_length(writes_of(d))));
        g_free(drv);
        drv = hd_test_driver(fx, GPU);
        g_assert_cmpstr(drv, ==, "nouveau");
}

/* detach --dry-run after a crash shows the plan the real run follows: recovery first (the GPU
 * back to nouveau), then the detach from nouveau, not from the vfio-pci the crash left. */
static void test_detach_dry_run_after_crash(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mid-crash");
        const char *dry[] = {"detach", "--dry-run", "--group", AUDIO, NULL};
        const char *real[] = {"detach", "--group", AUDIO, NULL};
        g_autoptr(JsonNode) d = run_json(fx, dry, 0);
        g_autoptr(JsonNode) r = NULL;
        JsonObject *o = json_node_get_object(d);
        JsonArray *devices = json_object_get_array_member(o, "devices");
        g_autofree char *text = NULL;
        guint n_recovery;
        gboolean unbinds_nouveau = FALSE;
        g_autofree char *journal = hd_test_path(fx, JOURNAL);

        /* the GPU moves from nouveau, where recovery puts it */
        for (guint i = 0; i < json_array_get_length(devices); i++) {
                JsonObject *dev = json_array_get_object_element(devices, i);
                if (strcmp(json_object_get_string_member(dev, "address"), GPU) == 0) {
                        g_assert_cmpstr(json_object_get_string_member(dev, "from_driver"), ==,
                                        "nouveau");
                        g_assert_true(json_object_get_boolean_member(dev, "changed"));
                }
        }
        g_assert_cmpint(json_object_get_int_member(o, "recovered"), ==, 1);
        n_recovery = (guint)json_object_get_int_member(o, "recovery_writes");
        g_assert_cmpuint(n_recovery, >, 0);
        for (guint i = n_recovery; i < json_array_get_length(writes_of(d)); i++) {
                JsonObject *w = json_array_get_object_element(writes_of(d), i);
                if (strcmp(json_object_get_string_member(w, "path"),
                           "/sys/bus/pci/drivers/nouveau/unbind") == 0)
                        unbinds_nouveau = TRUE;
        }
        g_assert_true(unbinds_nouveau);
        /* nothing changed yet */
        g_assert_true(g_file_test(journal, G_FILE_TEST_EXISTS));
        g_assert_cmpint(run(fx, dry, &text, NULL), ==, 0);
        g_assert_nonnull(strstr(text, "Would first recover 1 interrupted operation"));

        /* the real run makes exactly these writes */
        r = run_json(fx, real, 0);
        g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "recovered"), ==, 1);
        g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "recovery_writes"), ==,
                        n_recovery);
        g_assert_cmpuint(json_array_get_length(writes_of(r)), ==,
                         json_array_get_length(writes_of(d)));
        g_assert_true(
            same_writes(writes_of(d), writes_of(r), 0, 0, json_array_get_length(writes_of(d))));
        g_assert_false(g_file_test(journal, G_FILE_TEST_EXISTS));
}

/* attach --dry-run after a crash too: recovery first puts the GPU back on nouveau, so the
 * attach itself has nothing to do, and the real run writes exactly the same. */
static void test_attach_dry_run_after_crash(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mid-crash");
        const char *dry[] = {"attach", "--dry-run", "--group", GPU, NULL};
        const char *real[] = {"attach", "--group", GPU, NULL};
        g_autoptr(JsonNode) d = run_json(fx, dry, 0);
        g_autoptr(JsonNode) r = NULL;
        JsonObject *o = json_node_get_object(d);
        JsonArray *devices = json_object_get_array_member(o, "devices");
        g_autofree char *drv = NULL;

        /* before the fix the dry run planned from vfio-pci: unbind it, probe */
        for (guint i = 0; i < json_array_get_length(devices); i++)
                g_assert_false(json_object_get_boolean_member(
                    json_array_get_object_element(devices, i), "changed"));
        g_assert_cmpint(json_object_get_int_member(o, "recovered"), ==, 1);
        g_assert_cmpint(json_object_get_int_member(o, "recovery_writes"), ==,
                        json_array_get_length(writes_of(d)));
        r = run_json(fx, real, 0);
        g_assert_cmpuint(json_array_get_length(writes_of(r)), ==,
                         json_array_get_length(writes_of(d)));
        g_assert_true(
            same_writes(writes_of(d), writes_of(r), 0, 0, json_array_get_length(writes_of(d))));
        drv = hd_test_driver(fx, GPU);
        g_assert_cmpstr(drv, ==, "nouveau");
}

/* The mid-crash topology is what a real crash leaves: a detach killed after its 4th write. */
static void test_mid_crash_is_a_real_crash(void)
{
        g_autoptr(HdTestFixture) made = hd_test_fixture_new("desktop");
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mid-crash");
        const char *argv[] = {"--root", made->root, "detach", "--group", GPU, NULL};
        const char *env[] = {"HOSTDEV_CRASH_AT=write:4", NULL};
        const char *names[] = {GPU, AUDIO};

        g_assert_cmpint(hd_test_run_cli(argv, env, NULL, NULL), !=, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
                g_autofree char *a = hd_test_driver(made, names[i]);
                g_autofree char *b = hd_test_driver(fx, names[i]);
                g_autofree char *ao = hd_test_override(made, names[i]);
                g_autofree char *bo = hd_test_override(fx, names[i]);
                g_assert_cmpstr(a, ==, b);
                g_assert_cmpstr(ao, ==, bo);
        }
        /* and the same verdicts */
        {
                const char *groups[] = {"groups", NULL};
                g_autoptr(JsonNode) x = run_json(made, groups, 0);
                g_autoptr(JsonNode) y = run_json(fx, groups, 0);
                g_assert_cmpstr(json_object_get_string_member(group_of(x, GPU), "state"), ==,
                                "interrupted");
                g_assert_cmpstr(json_object_get_string_member(group_of(y, GPU), "state"), ==,
                                "interrupted");
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/state/groups/partly-detached", test_groups_partly_detached);
        g_test_add_func("/state/groups/in-use", test_groups_in_use);
        g_test_add_func("/state/vm-name", test_vm_name);
        g_test_add_func("/state/show/root-nvme", test_show_root_nvme);
        g_test_add_func("/state/agree/desktop", test_agree_desktop);
        g_test_add_func("/state/agree/already-vfio-in-use", test_agree_already_vfio_in_use);
        g_test_add_func("/state/agree/partly-detached", test_agree_partly_detached);
        g_test_add_func("/state/agree/sriov-server", test_agree_sriov);
        g_test_add_func("/state/agree/proxmox-host", test_agree_proxmox);
        g_test_add_func("/state/interrupted/visible", test_interrupted_visible);
        g_test_add_func("/state/interrupted/recover-dry-run", test_recover_dry_run);
        g_test_add_func("/state/interrupted/detach-dry-run", test_detach_dry_run_after_crash);
        g_test_add_func("/state/interrupted/attach-dry-run", test_attach_dry_run_after_crash);
        g_test_add_func("/state/interrupted/mid-crash-fixture", test_mid_crash_is_a_real_crash);
        return g_test_run();
}
