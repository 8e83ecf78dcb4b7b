/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "testlib.h"

static const char *source_dir(void)
{
        const char *d = g_getenv("HOSTDEV_SOURCE_DIR");

        g_assert_nonnull(d);
        return d;
}

static void run_or_die(const char *const *argv, const char *what)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        int status = 0;

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                     &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("%s failed: %s", what, err);
}

static gint64 mtime_of(const char *path)
{
        GStatBuf st;

        return g_stat(path, &st) == 0 ? (gint64)st.st_mtime : 0;
}

/* Build a topology once per source version into the cache directory the build gives us
 * (HOSTDEV_FIXTURE_CACHE); tests then copy the pristine tree, which is much cheaper than
 * running the builder every time. Parallel tests may race to build the same tree: each
 * builds into its own temporary name and the first rename wins. */
static char *pristine_tree(const char *topology)
{
        /* On tmpfs when there is one: building a tree there is ten times faster. */
        const char *cache = access("/dev/shm", W_OK) == 0 ? "/dev/shm/hostdev-fixture-cache"
                                                          : g_getenv("HOSTDEV_FIXTURE_CACHE");
        g_autofree char *script = g_build_filename(source_dir(), "tests", "fixtures",
                                                   "mkfixture.py", NULL);
        g_autofree char *topo = g_strdup_printf("%s/tests/fixtures/topologies/%s.json",
                                                source_dir(), topology);
        g_autofree char *tmp = NULL;
        char *tree;

        if (!cache)
                return NULL;
        g_mkdir_with_parents(cache, 0755);
        tree = g_strdup_printf("%s/%s-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, cache, topology,
                               mtime_of(topo), mtime_of(script));
        if (g_file_test(tree, G_FILE_TEST_IS_DIR))
                return tree;
        tmp = g_strdup_printf("%s.tmp-%d", tree, (int)getpid());
        {
                const char *argv[] = { "python3", script, topo, tmp, NULL };
                run_or_die(argv, "mkfixture.py");
        }
        if (g_rename(tmp, tree) != 0) {
                const char *argv[] = { "rm", "-rf", tmp, NULL };
                run_or_die(argv, "rm");
        }
        return tree;
}

/* Fixtures are thousands of tiny files: on a disk file system creating them costs a
 * millisecond each, on tmpfs a few microseconds. Prefer /dev/shm when it is usable. */
char *hd_test_make_tmp_dir(void)
{
        const char *base = g_getenv("HOSTDEV_TEST_TMPDIR");
        g_autofree char *tmpl = NULL;
        char *dir;

        if (!base)
                base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
        tmpl = g_build_filename(base, "hostdev-fixture-XXXXXX", NULL);
        dir = g_mkdtemp(g_steal_pointer(&tmpl));
        g_assert_nonnull(dir);
        return dir;
}

HdTestFixture *hd_test_fixture_new(const char *topology)
{
        HdTestFixture *fx = g_new0(HdTestFixture, 1);
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *pristine = pristine_tree(topology);

        g_assert_no_error(error);
        fx->root = g_build_filename(tmp, "root", NULL);
        if (pristine) {
                const char *argv[] = { "cp", "-a", pristine, fx->root, NULL };
                run_or_die(argv, "cp");
        } else {
                g_autofree char *script = g_build_filename(source_dir(), "tests", "fixtures",
                                                           "mkfixture.py", NULL);
                g_autofree char *topo = g_strdup_printf("%s/tests/fixtures/topologies/%s.json",
                                                        source_dir(), topology);
                const char *argv[] = { "python3", script, topo, fx->root, NULL };
                run_or_die(argv, "mkfixture.py");
        }
        return fx;
}

void hd_test_fixture_free(HdTestFixture *fx)
{
        g_autofree char *parent = NULL;

        if (!fx)
                return;
        parent = g_path_get_dirname(fx->root);
        if (!g_getenv("HOSTDEV_TEST_KEEP")) {
                const char *argv[] = { "rm", "-rf", parent, NULL };
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, NULL, NULL);
        }
        g_free(fx->root);
        g_free(fx);
}

HdCtx *hd_test_ctx_new(const HdTestFixture *fx)
{
        g_autoptr(GError) error = NULL;
        HdCtx *ctx = hd_ctx_new(fx->root, HD_BACKEND_SIM, &error);

        g_assert_no_error(error);
        g_assert_nonnull(ctx);
        return ctx;
}

char *hd_test_path(const HdTestFixture *fx, const char *relpath)
{
        return g_build_filename(fx->root, relpath, NULL);
}

int hd_test_run_cli(const char *const *argv, const char *const *env, char **out, char **err)
{
        const char *cli = g_getenv("HOSTDEV_CLI");
        g_autoptr(GPtrArray) args = g_ptr_array_new();
        g_auto(GStrv) envp = g_get_environ();
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_assert_nonnull(cli);
        g_ptr_array_add(args, (gpointer)cli);
        for (const char *const *a = argv; *a; a++)
                g_ptr_array_add(args, (gpointer)*a);
        g_ptr_array_add(args, NULL);
        for (const char *const *e = env; e && *e; e++) {
                g_auto(GStrv) kv = g_strsplit(*e, "=", 2);
                envp = g_environ_setenv(envp, kv[0], kv[1] ? kv[1] : "", TRUE);
        }
        /* Output nobody asked for must not reach the TAP stream. */
        g_spawn_sync(NULL, (char **)args->pdata, envp,
                     (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL) | (err ? 0 : G_SPAWN_STDERR_TO_DEV_NULL),
                     NULL, NULL, out, err, &status, &error);
        g_assert_no_error(error);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -1;
}

JsonNode *hd_test_parse_json(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_node_copy(json_parser_get_root(parser));
}

HdTestFixture *hd_test_fixture_copy(const HdTestFixture *fx)
{
        HdTestFixture *copy = g_new0(HdTestFixture, 1);
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = hd_test_make_tmp_dir();
        int status = 0;

        copy->root = g_build_filename(tmp, "root", NULL);
        {
                const char *argv[] = { "cp", "-a", fx->root, copy->root, NULL };
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, &status, &error);
        }
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        return copy;
}

char *hd_test_driver(const HdTestFixture *fx, const char *addr)
{
        g_autofree char *link = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver", fx->root, addr);
        g_autofree char *target = g_file_read_link(link, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

char *hd_test_override(const HdTestFixture *fx, const char *addr)
{
        g_autofree char *path = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver_override",
                                                fx->root, addr);
        g_autofree char *v = NULL;

        g_assert_true(g_file_get_contents(path, &v, NULL, NULL));
        g_strchomp(v);
        if (strcmp(v, "(null)") == 0 || !*v)
                return NULL;
        return g_steal_pointer(&v);
}

HdAddress hd_test_address(const char *addr)
{
        HdAddress a;

        g_assert_true(hd_address_parse(addr, &a, NULL));
        return a;
}
