/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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

static void set_guard(gpointer data)
{
        alarm(GPOINTER_TO_UINT(data));
}

int hd_test_run_guarded(const char *const *argv, const char *const *env, guint guard_seconds,
                        char **out, char **err)
{
        g_auto(GStrv) envp = g_get_environ();
        g_autoptr(GError) error = NULL;
        int status = 0;

        for (const char *const *e = env; e && *e; e++) {
                g_auto(GStrv) kv = g_strsplit(*e, "=", 2);
                envp = g_environ_setenv(envp, kv[0], kv[1] ? kv[1] : "", TRUE);
        }
        g_spawn_sync(NULL, (char **)argv, envp,
                     (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL) | (err ? 0 : G_SPAWN_STDERR_TO_DEV_NULL),
                     set_guard, GUINT_TO_POINTER(guard_seconds), out, err, &status, &error);
        g_assert_no_error(error);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
                return HD_TEST_HUNG;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -1;
}

int hd_test_run_cli_guarded(const char *const *argv, const char *const *env,
                            guint guard_seconds, char **out, char **err)
{
        const char *cli = g_getenv("HOSTDEV_CLI");
        g_autoptr(GPtrArray) args = g_ptr_array_new();

        g_assert_nonnull(cli);
        g_ptr_array_add(args, (gpointer)cli);
        for (const char *const *a = argv; *a; a++)
                g_ptr_array_add(args, (gpointer)*a);
        g_ptr_array_add(args, NULL);
        return hd_test_run_guarded((const char *const *)args->pdata, env, guard_seconds, out,
                                   err);
}

void hd_test_assert_error_words(const GError *error, int code, const char *what, va_list words)
{
        const char *want;

        g_assert_error(error, HD_ERROR, code);
        while ((want = va_arg(words, const char *)))
                if (!strstr(error->message, want))
                        g_error("%s: wanted '%s' in: %s", what, want, error->message);
}

JsonNode *hd_test_parse_json(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_data(parser, text, -1, &error);
        g_assert_no_error(error);
        return json_node_copy(json_parser_get_root(parser));
}

JsonNode *hd_test_topology_load(const char *topology)
{
        g_autofree char *path = g_strdup_printf("%s/tests/fixtures/topologies/%s.json",
                                                source_dir(), topology);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        json_parser_load_from_file(parser, path, &error);
        g_assert_no_error(error);
        return json_node_copy(json_parser_get_root(parser));
}

HdTestFixture *hd_test_fixture_from_topology(JsonNode *topology)
{
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *path = g_build_filename(tmp, "topology.json", NULL);
        g_autofree char *script = g_build_filename(source_dir(), "tests", "fixtures",
                                                   "mkfixture.py", NULL);
        HdTestFixture *fx = g_new0(HdTestFixture, 1);

        json_generator_set_root(gen, topology);
        json_generator_to_file(gen, path, &error);
        g_assert_no_error(error);
        fx->root = g_build_filename(tmp, "root", NULL);
        {
                const char *argv[] = { "python3", script, path, fx->root, NULL };
                run_or_die(argv, "mkfixture.py");
        }
        return fx;
}

HdTestFixture *hd_test_fixture_without_iommu(const char *topology)
{
        g_autoptr(JsonNode) topo = hd_test_topology_load(topology);
        JsonObject *host = json_object_get_object_member(json_node_get_object(topo), "host");
        JsonObject *kernel = json_object_get_object_member(host, "kernel");
        JsonObject *grub = json_object_get_object_member(host, "grub");

        json_object_set_null_member(host, "iommu");
        json_object_set_string_member(kernel, "cmdline",
                                      "BOOT_IMAGE=/vmlinuz-6.1.0-18-amd64 root=/dev/sda2 ro quiet");
        json_object_set_string_member(grub, "cmdline_linux_default", "quiet");
        json_object_set_string_member(grub, "cmdline_linux", "");
        return hd_test_fixture_from_topology(topo);
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

static char *sys_attr(const char *dir, const char *attr)
{
        g_autofree char *path = g_build_filename(dir, attr, NULL);
        char *s = NULL;

        if (!g_file_get_contents(path, &s, NULL, NULL))
                return NULL;
        return g_strstrip(s);
}

static char *sys_link_base(const char *dir, const char *attr)
{
        g_autofree char *path = g_build_filename(dir, attr, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

/* The attribute as the JSON prints it: lowercase hex of @digits, or NULL. */
static char *sys_hex(const char *dir, const char *attr, int digits)
{
        g_autofree char *v = sys_attr(dir, attr);

        if (!v)
                return NULL;
        return g_strdup_printf("%0*" G_GINT64_MODIFIER "x", digits, g_ascii_strtoll(v, NULL, 16));
}

guint hd_test_assert_list_matches_sys(const char *root)
{
        const char *argv_live[] = { "list", "--json", NULL };
        const char *argv_root[] = { "list", "--json", "--root", root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *devices_dir = g_build_filename(root ? root : "/", "sys/bus/pci/devices", NULL);
        g_autoptr(GDir) dir = g_dir_open(devices_dir, 0, NULL);
        g_autoptr(JsonNode) node = NULL;
        g_autoptr(GHashTable) by_address = g_hash_table_new(g_str_hash, g_str_equal);
        static const struct {
                const char *key, *attr;
                int digits;
        } hex[] = {
                { "vendor_id", "vendor", 4 },
                { "device_id", "device", 4 },
                { "subsystem_vendor_id", "subsystem_vendor", 4 },
                { "subsystem_device_id", "subsystem_device", 4 },
                { "revision", "revision", 2 },
                { "class", "class", 6 },
        };
        JsonArray *devices;
        const char *name;
        guint n = 0;

        g_assert_nonnull(dir);
        g_assert_cmpint(hd_test_run_cli(root ? argv_root : argv_live, NULL, &out, NULL), ==, 0);
        node = hd_test_parse_json(out);
        devices = json_object_get_array_member(json_node_get_object(node), "devices");
        for (guint i = 0; i < json_array_get_length(devices); i++) {
                JsonObject *d = json_array_get_object_element(devices, i);
                g_hash_table_insert(by_address, (gpointer)json_object_get_string_member(d, "address"), d);
        }
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *dev_dir = g_build_filename(devices_dir, name, NULL);
                g_autofree char *driver = sys_link_base(dev_dir, "driver");
                g_autofree char *group = sys_link_base(dev_dir, "iommu_group");
                g_autofree char *numa = sys_attr(dev_dir, "numa_node");
                JsonObject *d = g_hash_table_lookup(by_address, name);

                if (!d)
                        g_error("hostdev list misses %s", name);
                for (gsize k = 0; k < G_N_ELEMENTS(hex); k++) {
                        g_autofree char *want = sys_hex(dev_dir, hex[k].attr, hex[k].digits);
                        const char *have = json_object_get_null_member(d, hex[k].key)
                                                   ? NULL
                                                   : json_object_get_string_member(d, hex[k].key);
                        if (g_strcmp0(want, have) != 0)
                                g_error("%s %s: hostdev says %s, sysfs says %s", name, hex[k].key,
                                        have, want);
                }
                if (driver)
                        g_assert_cmpstr(json_object_get_string_member(d, "driver"), ==, driver);
                else
                        g_assert_true(json_object_get_null_member(d, "driver"));
                if (group)
                        g_assert_cmpint(json_object_get_int_member(d, "iommu_group"), ==,
                                        g_ascii_strtoll(group, NULL, 10));
                else
                        g_assert_true(json_object_get_null_member(d, "iommu_group"));
                if (numa && g_ascii_strtoll(numa, NULL, 10) >= 0)
                        g_assert_cmpint(json_object_get_int_member(d, "numa_node"), ==,
                                        g_ascii_strtoll(numa, NULL, 10));
                else
                        g_assert_true(json_object_get_null_member(d, "numa_node"));
                n++;
        }
        g_assert_cmpuint(n, ==, json_array_get_length(devices));
        return n;
}
