/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile trees (issue 11 item 4): `--root TREE` must never read or write outside TREE.
 *
 * Each test copies a fixture and replaces a directory or file of it (etc, var,
 * var/lib/hostdev, run, etc/default, sys/bus/pci/drivers, a device attribute, a device entry,
 * proc files, sys itself) by a symlink to a canary directory of the test's own outside the
 * root, once as an absolute link and once as a ../../.. escape. Then it runs the commands that
 * read or write there (detach --persist, attach, recover, list/show/groups, snapshot,
 * kernel-args --apply, the agent's start) and checks that the canary is byte for byte what it
 * was, that no output shows the canary's secret, and that each command either worked inside
 * the root or failed with a message (never a crash). Commands run with a hang guard.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define SECRET "CANARY-SECRET"
#define GUARD 120 /* seconds: a hang guard only */

typedef enum {
        LINK_ABSOLUTE,
        LINK_ESCAPE,
} LinkKind;

static HdTestFixture *pristine;

typedef struct {
        HdTestFixture *fx;
        char *canary; /* the directory outside the root */
        char *before; /* its fingerprint when the test started */
        LinkKind kind;
} Hostile;

static void run_or_fail(const char *const *argv)
{
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, &error);
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static void write_file(const char *path, const char *text)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every entry below @dir with its type and contents (or link target), sorted. */
static void fingerprint_into(GString *out, const char *dir, const char *rel)
{
        g_autofree char *path = rel ? g_build_filename(dir, rel, NULL) : g_strdup(dir);
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)))
                g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *r =
                    rel ? g_build_filename(rel, names->pdata[i], NULL) : g_strdup(names->pdata[i]);
                g_autofree char *full = g_build_filename(dir, r, NULL);
                GStatBuf st;

                g_assert_cmpint(g_lstat(full, &st), ==, 0);
                if (S_ISLNK(st.st_mode)) {
                        g_autofree char *t = g_file_read_link(full, NULL);
                        g_string_append_printf(out, "L %s -> %s\n", r, t);
                } else if (S_ISDIR(st.st_mode)) {
                        g_string_append_printf(out, "D %s\n", r);
                        fingerprint_into(out, dir, r);
                } else if (S_ISREG(st.st_mode)) {
                        g_autofree char *text = NULL;
                        gsize len = 0;
                        g_assert_true(g_file_get_contents(full, &text, &len, NULL));
                        g_string_append_printf(out, "F %s %zu mode %o\n", r, (size_t)len,
                                               (unsigned)st.st_mode);
                        g_string_append_len(out, text, (gssize)len);
                        g_string_append_c(out, '\n');
                } else {
                        g_string_append_printf(out, "O %s %o\n", r, (unsigned)st.st_mode);
                }
        }
}

static char *fingerprint(const char *dir)
{
        GString *s = g_string_new(NULL);

        fingerprint_into(s, dir, NULL);
        return g_string_free(s, FALSE);
}

/* A canary with what hostdev would write to or read from: etc (a grub file, udev rules),
 * var, state, run, a secret file. */
static Hostile *hostile_new(LinkKind kind)
{
        Hostile *h = g_new0(Hostile, 1);
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *p = NULL;

        h->kind = kind;
        h->fx = hd_test_fixture_copy(pristine);
        h->canary = g_build_filename(tmp, "canary", NULL);
        p = g_build_filename(h->canary, "etc/default/grub", NULL);
        write_file(p, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet " SECRET "\"\n");
        g_free(p);
        p = g_build_filename(h->canary, "etc/udev/rules.d/README", NULL);
        write_file(p, SECRET "\n");
        g_free(p);
        /* what detach --persist installs, so a chmod by path would show */
        p = g_build_filename(h->canary, "etc/udev/rules.d/60-hostdev-vfio.rules", NULL);
        write_file(p, SECRET "\n");
        g_assert_cmpint(g_chmod(p, 0600), ==, 0);
        g_free(p);
        p = g_build_filename(h->canary, "etc/initramfs-tools/hooks/hostdev-vfio", NULL);
        write_file(p, SECRET "\n");
        g_assert_cmpint(g_chmod(p, 0600), ==, 0);
        g_free(p);
        p = g_build_filename(h->canary, "var/lib/hostdev/README", NULL);
        write_file(p, SECRET "\n");
        g_free(p);
        p = g_build_filename(h->canary, "state/README", NULL);
        write_file(p, SECRET "\n");
        g_free(p);
        p = g_build_filename(h->canary, "run/README", NULL);
        write_file(p, SECRET "\n");
        g_free(p);
        p = g_build_filename(h->canary, "dev/README", NULL);
        write_file(p, SECRET "\n");
        g_free(p);
        p = g_build_filename(h->canary, "boot/README", NULL);
        write_file(p, SECRET "\n");
        g_free(p);
        p = g_build_filename(h->canary, "secret", NULL);
        write_file(p, SECRET "\n");
        return h;
}

static void hostile_free(Hostile *h)
{
        g_autofree char *parent = g_path_get_dirname(h->canary);
        const char *argv[] = {"rm", "-rf", parent, NULL};

        run_or_fail(argv);
        hd_test_fixture_free(h->fx);
        g_free(h->canary);
        g_free(h->before);
        g_free(h);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Hostile, hostile_free)

/* Replace <root>/@rel (whatever it is) by a link to <canary>/@target, absolute or as a
 * ../ escape from the link's directory. */
static void plant_link(Hostile *h, const char *rel, const char *target)
{
        g_autofree char *link = g_build_filename(h->fx->root, rel, NULL);
        g_autofree char *dest = g_build_filename(h->canary, target, NULL);
        g_autofree char *dir = g_path_get_dirname(link);
        g_autofree char *text = NULL;

        {
                const char *argv[] = {"rm", "-rf", link, NULL};
                run_or_fail(argv);
        }
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        if (h->kind == LINK_ABSOLUTE) {
                text = g_strdup(dest);
        } else {
                /* enough ../ to climb from the link's directory to / and then some */
                g_autofree char *real = realpath(dir, NULL);
                GString *s = g_string_new(NULL);
                g_assert_nonnull(real);
                for (const char *c = real; *c; c++)
                        if (*c == '/')
                                g_string_append(s, "../");
                g_string_append(s, "../../");
                g_string_append(s, dest + 1);
                text = g_string_free(s, FALSE);
        }
        g_assert_cmpint(symlink(text, link), ==, 0);
        /* the link really reaches the canary from the outside */
        g_assert_true(g_file_test(link, G_FILE_TEST_EXISTS));
}

/* Where a link planted by plant_link() leads when resolved inside the root (both kinds):
 * <root>/<canary>/@target. Made as a directory so that commands work there. */
static char *make_decoy(Hostile *h, const char *target)
{
        char *inside = g_build_filename(h->fx->root, h->canary, target, NULL);

        g_assert_cmpint(g_mkdir_with_parents(inside, 0755), ==, 0);
        return inside;
}

/* Copy <root>/@rel into <canary>/@target, so the escape has something that works. */
static void copy_to_canary(Hostile *h, const char *rel, const char *target)
{
        g_autofree char *src = g_build_filename(h->fx->root, rel, NULL);
        g_autofree char *dst = g_build_filename(h->canary, target, NULL);
        g_autofree char *dir = g_path_get_dirname(dst);
        const char *argv[] = {"cp", "-a", src, dst, NULL};

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        run_or_fail(argv);
}

static void arm(Hostile *h)
{
        h->before = fingerprint(h->canary);
}

static void assert_canary_untouched(Hostile *h)
{
        g_autofree char *after = fingerprint(h->canary);

        g_assert_cmpstr(after, ==, h->before);
}

/* Run the CLI on the hostile root: it must end (no hang), not by a signal, and either
 * succeed or say why; nothing it prints may come from the canary. Returns the exit code. */
static int run_on(Hostile *h, const char *const *args)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        int rc;

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, h->fx->root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        rc = hd_test_run_cli_guarded((const char *const *)argv->pdata, NULL, GUARD, &out, &err);
        g_test_message("hostdev %s: exit %d\n%s%s", args[0], rc, out, err);
        g_assert_cmpint(rc, !=, HD_TEST_HUNG);
        g_assert_cmpint(rc, >=, 0);
        g_assert_cmpint(rc, <, 128);
        if (rc != 0)
                g_assert_cmpstr(err, !=, "");
        g_assert_null(strstr(out, SECRET));
        g_assert_null(strstr(err, SECRET));
        return rc;
}

#define RUN(h, ...)                                                                                \
        do {                                                                                       \
                const char *args_[] = {__VA_ARGS__, NULL};                                         \
                (void)run_on(h, args_);                                                            \
        } while (0)

static LinkKind kind_of(gconstpointer data)
{
        return (LinkKind)GPOINTER_TO_INT(data);
}

/* The library itself: a file installed below a root whose etc is a link goes inside. */
static void test_library_install(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = NULL;

        plant_link(h, "etc", "etc");
        arm(h);
        ctx = hd_test_ctx_new(h->fx);
        if (hd_ctx_install_file(ctx, "etc/udev/rules.d/99-test.rules", "x\n", 0644, &error)) {
                /* it went somewhere inside the root */
                g_autofree char *inside = NULL;
                g_autofree char *text = NULL;
                const char *rel = h->kind == LINK_ABSOLUTE ? h->canary + 1 : NULL;
                if (rel) {
                        inside = g_build_filename(h->fx->root, rel,
                                                  "etc/udev/rules.d/99-test.rules", NULL);
                        g_assert_true(g_file_get_contents(inside, &text, NULL, NULL));
                        g_assert_cmpstr(text, ==, "x\n");
                }
        } else {
                g_assert_nonnull(error);
        }
        assert_canary_untouched(h);
}

/* etc -> canary: detach --persist installs udev rules, modprobe.d and initramfs files. Once
 * where the link leads nowhere inside the root (it fails, saying so) and once where it does
 * (the files land there, with their modes, and nothing is changed by path outside). */
static void test_etc_persist(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));
        g_autofree char *inside = NULL;
        g_autofree char *rules = NULL;
        g_autofree char *hook = NULL;
        GStatBuf st;

        plant_link(h, "etc", "etc");
        arm(h);
        RUN(h, "detach", GPU, "--group", "--persist");
        RUN(h, "attach", GPU, "--group");
        assert_canary_untouched(h);

        inside = make_decoy(h, "etc/initramfs-tools");
        {
                const char *args[] = {"detach", GPU, "--group", "--persist", NULL};
                g_assert_cmpint(run_on(h, args), ==, 0);
        }
        RUN(h, "persist", "list", "--json");
        rules = g_build_filename(h->fx->root, h->canary, "etc/udev/rules.d/60-hostdev-vfio.rules",
                                 NULL);
        hook = g_build_filename(h->fx->root, h->canary, "etc/initramfs-tools/hooks/hostdev-vfio",
                                NULL);
        g_assert_cmpint(g_stat(rules, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0644);
        g_assert_cmpint(g_stat(hook, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0755);
        RUN(h, "attach", GPU, "--group");
        assert_canary_untouched(h);
}

/* var -> canary: the journal, origins, the sim's state. */
static void test_var_journal(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));

        plant_link(h, "var", "var");
        arm(h);
        RUN(h, "detach", GPU, "--group");
        RUN(h, "recover");
        RUN(h, "attach", GPU, "--group");
        assert_canary_untouched(h);
        g_free(make_decoy(h, "var"));
        RUN(h, "detach", GPU, "--group");
        RUN(h, "recover");
        RUN(h, "attach", GPU, "--group");
        assert_canary_untouched(h);
}

/* var/lib/hostdev, run and dev -> canary: state and lock directories, the VFIO nodes the sim
 * makes. Then again where the links lead somewhere inside the root. */
static void test_state_dirs(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));

        plant_link(h, "var/lib/hostdev", "state");
        plant_link(h, "run", "run");
        plant_link(h, "dev", "dev");
        arm(h);
        RUN(h, "detach", GPU, "--group");
        RUN(h, "attach", GPU, "--group");
        RUN(h, "recover");
        assert_canary_untouched(h);
        {
                /* dev again a directory (a decoy for it would be reached through the link
                 * itself: the canary lies below /dev/shm), the others leading inside */
                g_autofree char *dev = hd_test_path(h->fx, "dev");
                g_assert_cmpint(g_unlink(dev), ==, 0);
                g_assert_cmpint(g_mkdir(dev, 0755), ==, 0);
        }
        g_free(make_decoy(h, "state"));
        g_free(make_decoy(h, "run"));
        {
                const char *args[] = {"detach", GPU, "--group", NULL};
                g_assert_cmpint(run_on(h, args), ==, 0);
        }
        RUN(h, "verify", GPU);
        {
                const char *args[] = {"attach", GPU, "--group", NULL};
                g_assert_cmpint(run_on(h, args), ==, 0);
        }
        RUN(h, "recover");
        assert_canary_untouched(h);
}

/* Device attributes that are links out: never read (nothing of the secret shows) and never
 * written through. */
static void test_attributes(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));

        plant_link(h, "sys/bus/pci/devices/" GPU "/driver_override", "secret");
        plant_link(h, "sys/bus/pci/devices/" GPU "/reset_method", "secret");
        plant_link(h, "sys/bus/pci/devices/" GPU "/numa_node", "secret");
        arm(h);
        RUN(h, "list", "--json");
        RUN(h, "show", GPU, "--json");
        RUN(h, "groups", "--json");
        RUN(h, "detach", GPU, "--group");
        RUN(h, "attach", GPU, "--group");
        assert_canary_untouched(h);
}

/* sys/bus/pci/drivers -> a copy in the canary: bind/unbind and new links are made inside the
 * root or not at all. */
static void test_drivers_dir(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));

        copy_to_canary(h, "sys/bus/pci/drivers", "drivers");
        plant_link(h, "sys/bus/pci/drivers", "drivers");
        arm(h);
        RUN(h, "list", "--json");
        RUN(h, "detach", GPU, "--group");
        RUN(h, "attach", GPU, "--group");
        assert_canary_untouched(h);
}

/* A device entry that leads out of the root is not a device of this tree. */
static void test_device_entry(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));
        g_autofree char *out = NULL;
        const char *argv[] = {"--root", h->fx->root, "list", "--json", NULL};

        copy_to_canary(h, "sys/bus/pci/devices/" GPU "/", "dev05");
        plant_link(h, "sys/bus/pci/devices/0000:05:00.0", "dev05");
        arm(h);
        g_assert_cmpint(hd_test_run_cli_guarded(argv, NULL, GUARD, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, GPU));
        g_assert_null(strstr(out, "0000:05:00.0"));
        RUN(h, "show", "0000:05:00.0", "--json");
        assert_canary_untouched(h);
}

/* proc and etc files that lead out: nothing of them is shown or captured. */
static void test_proc_snapshot(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *snap = g_build_filename(tmp, "snap", NULL);
        g_autofree char *captured = NULL;

        plant_link(h, "proc/cmdline", "secret");
        plant_link(h, "proc/mounts", "secret");
        plant_link(h, "etc/hostname", "secret");
        plant_link(h, "etc/os-release", "secret");
        arm(h);
        RUN(h, "snapshot", "-d", snap);
        RUN(h, "kernel-args", "--json");
        RUN(h, "check", "--json");
        RUN(h, "show", GPU, "--json");
        if (g_file_test(snap, G_FILE_TEST_IS_DIR)) {
                captured = fingerprint(snap);
                g_assert_null(strstr(captured, SECRET));
        }
        assert_canary_untouched(h);
        {
                const char *argv[] = {"rm", "-rf", tmp, NULL};
                run_or_fail(argv);
        }
}

/* etc/default and boot -> canary: kernel-args --apply edits grub and runs update-grub. */
static void test_kernel_args_apply(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));

        plant_link(h, "etc/default", "etc/default");
        plant_link(h, "boot", "boot");
        arm(h);
        RUN(h, "kernel-args", "--json");
        RUN(h, "kernel-args", "--enable", "iommu", "--apply");
        RUN(h, "kernel-args", "--disable", "iommu", "--apply");
        assert_canary_untouched(h);
        g_free(make_decoy(h, "etc/default"));
        g_free(make_decoy(h, "boot"));
        RUN(h, "kernel-args", "--enable", "iommu", "--apply");
        RUN(h, "kernel-args", "--disable", "iommu", "--apply");
        assert_canary_untouched(h);
}

/* sys itself -> a copy in the canary: the tree has no sysfs of its own, so hostdev refuses
 * it rather than reading the canary's. */
static void test_sys_link(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *argv[] = {"--root", h->fx->root, "list", "--json", NULL};

        copy_to_canary(h, "sys", "sys");
        plant_link(h, "sys", "sys");
        arm(h);
        g_assert_cmpint(hd_test_run_cli_guarded(argv, NULL, GUARD, &out, &err), !=, 0);
        g_assert_nonnull(strstr(err, "not a system root"));
        g_assert_null(strstr(out, GPU));
        assert_canary_untouched(h);
}

/* The agent's default token files lie below its root: var -> canary must not get them. */
static void test_agent_tokens(gconstpointer data)
{
        g_autoptr(Hostile) h = hostile_new(kind_of(data));
        const char *bin = g_getenv("HOSTDEVD");
        g_autofree char *err = NULL;
        int rc;

        g_assert_nonnull(bin);
        plant_link(h, "var", "var");
        arm(h);
        {
                /* 192.0.2.1 (TEST-NET-1) is not ours: the agent stops when it cannot listen,
                 * after it has loaded (or created) its tokens. */
                const char *argv[] = {bin,           "--root",        h->fx->root,       "--listen",
                                      "192.0.2.1:9", "--libvirt-uri", "test:///default", NULL};
                rc = hd_test_run_guarded(argv, NULL, GUARD, NULL, &err);
        }
        g_test_message("hostdevd: exit %d\n%s", rc, err);
        g_assert_cmpint(rc, !=, HD_TEST_HUNG);
        g_assert_cmpint(rc, !=, 0);
        assert_canary_untouched(h);
}

/* Links that stay inside are followed, the absolute ones as if the root were "/": an
 * unpacked tree with sys -> snap/sys and etc -> /snap/etc works as it would on its machine. */
static void test_inside_links(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *sys = hd_test_path(fx, "sys");
        g_autofree char *etc = hd_test_path(fx, "etc");
        g_autofree char *snap = hd_test_path(fx, "snap");
        g_autofree char *snap_sys = hd_test_path(fx, "snap/sys");
        g_autofree char *snap_etc = hd_test_path(fx, "snap/etc");
        g_autofree char *out = NULL;
        g_autofree char *out2 = NULL;

        g_assert_cmpint(g_mkdir(snap, 0755), ==, 0);
        g_assert_cmpint(g_rename(sys, snap_sys), ==, 0);
        g_assert_cmpint(g_rename(etc, snap_etc), ==, 0);
        g_assert_cmpint(symlink("snap/sys", sys), ==, 0);
        g_assert_cmpint(symlink("/snap/etc", etc), ==, 0);
        {
                const char *argv[] = {"--root", fx->root, "list", "--json", NULL};
                g_assert_cmpint(hd_test_run_cli_guarded(argv, NULL, GUARD, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, GPU));
        }
        {
                const char *argv[] = {"--root", fx->root, "kernel-args", "--json", NULL};
                g_assert_cmpint(hd_test_run_cli_guarded(argv, NULL, GUARD, &out2, NULL), ==, 0);
                g_assert_nonnull(strstr(out2, "etc/default/grub"));
        }
}

/* The real backend on a tree never runs a host tool (it would act on this machine). The
 * command is harmless: `true`. */
static void test_real_backend_run(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = hd_ctx_new(fx->root, HD_BACKEND_REAL, &error);
        const char *argv[] = {"true", NULL};

        g_assert_no_error(error);
        g_assert_false(hd_ctx_run(ctx, argv, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, fx->root));
}

/* A kernel without openat2() (played with HOSTDEV_TEST_NO_OPENAT2): a root other than "/"
 * cannot be confined, so it is refused, saying why. */
static void test_no_openat2(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        const char *argv[] = {"--root", fx->root, "list", "--json", NULL};
        const char *env[] = {"HOSTDEV_TEST_NO_OPENAT2=1", NULL};
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        g_assert_cmpint(hd_test_run_cli_guarded(argv, env, GUARD, &out, &err), !=, 0);
        g_assert_nonnull(strstr(err, "openat2"));
        g_assert_null(strstr(out, GPU));
}

static void add(const char *name, GTestDataFunc func)
{
        g_autofree char *abs = g_strdup_printf("/hostile/tree/%s/absolute", name);
        g_autofree char *esc = g_strdup_printf("/hostile/tree/%s/escape", name);

        g_test_add_data_func(abs, GINT_TO_POINTER(LINK_ABSOLUTE), func);
        g_test_add_data_func(esc, GINT_TO_POINTER(LINK_ESCAPE), func);
}

int main(int argc, char **argv)
{
        int r;

        g_test_init(&argc, &argv, NULL);
        pristine = hd_test_fixture_new("desktop");
        add("library-install", test_library_install);
        add("etc-persist", test_etc_persist);
        add("var-journal", test_var_journal);
        add("state-dirs", test_state_dirs);
        add("attributes", test_attributes);
        add("drivers-dir", test_drivers_dir);
        add("device-entry", test_device_entry);
        add("proc-snapshot", test_proc_snapshot);
        add("kernel-args-apply", test_kernel_args_apply);
        add("sys-link", test_sys_link);
        add("agent-tokens", test_agent_tokens);
        g_test_add_func("/hostile/tree/no-openat2", test_no_openat2);
        g_test_add_func("/hostile/tree/inside-links", test_inside_links);
        g_test_add_func("/hostile/tree/real-backend-run", test_real_backend_run);
        r = g_test_run();
        hd_test_fixture_free(pristine);
        return r;
}
