/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend's mdev core: imitates drivers/vfio/mdev (mdev_sysfs.c, mdev_core.c) and a
 * parent driver's capacity on a fixture tree (mkfixture.py's "mdev" section builds one).
 *
 * What it imitates:
 *   <parent>/mdev_supported_types/<type>/create UUID
 *       UUID: 36 characters, an optional newline, hex digits of either case (guid_parse());
 *       otherwise EINVAL. A UUID some mdev already has: EEXIST. No capacity left for the type:
 *       ENOSPC. Otherwise the instance appears as the kernel makes it:
 *         <parent>/<uuid>/                    with mdev_type -> the type's directory,
 *                                             iommu_group -> a NEW emulated group (the highest
 *                                             number there is + 1, as vfio_mdev's
 *                                             vfio_register_emulated_iommu_dev() does even
 *                                             without an IOMMU), driver -> vfio_mdev, remove,
 *                                             subsystem -> sys/bus/mdev
 *         sys/kernel/iommu_groups/N/devices/<uuid>, type "unknown"
 *         sys/bus/mdev/devices/<uuid>, the type's devices/<uuid>, dev/vfio/N
 *       and the parent's available_instances change (below).
 *   sys/bus/mdev/devices/<uuid>/remove N
 *       not a number: EINVAL; 0: nothing; otherwise the instance, its group, its links and
 *       dev/vfio/N go and its capacity comes back. While a process holds /dev/vfio/N the
 *       kernel's write blocks until it lets go (mtty has no request op); the sim cannot block
 *       and fails with EBUSY instead, which hostdev never sees (it refuses first).
 *
 * Capacity: a parent with a model file var/lib/hostdev-sim/mdev/<parent> (lines "capacity N"
 * and "cost TYPE K") shares one pool among its types, as mbochs shares its memory and mtty
 * its 24 ports: after each change every type's available_instances becomes (N - the cost of
 * every instance of every type) / K. Without a model each type counts on its own (one less
 * per instance, one more back per removal).
 *
 * Not modelled: parent driver unload (which destroys idle instances), vendor attributes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "fileio.h"
#include "parse.h"
#include "sim-mdev.h"
#include "usage.h"

#define MDEV_BUS "sys/class/mdev_bus"
#define MDEV_DEVICES "sys/bus/mdev/devices"
#define MDEV_MODEL_DIR "var/lib/hostdev-sim/mdev"

static gboolean mdev_errno(GError **error, int err, const char *path, const char *why)
{
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot write %s: %s%s%s",
                    path, g_strerror(err), why ? " " : "", why ? why : "");
        return FALSE;
}

gboolean hd_sim_mdev_handles(const char *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        guint n = g_strv_length(parts);

        if (n >= 4 && strcmp(parts[n - 1], "create") == 0 &&
            strcmp(parts[n - 3], "mdev_supported_types") == 0)
                return TRUE;
        return n == 6 && g_str_has_prefix(path, MDEV_DEVICES "/") &&
               strcmp(parts[5], "remove") == 0;
}

/* A relative symlink @link -> @target, both below the root. */
static gboolean link_to(int root_fd, const char *link, const char *target, GError **error)
{
        g_autoptr(GString) rel = g_string_new(NULL);

        for (const char *p = link; *p; p++)
                if (*p == '/')
                        g_string_append(rel, "../");
        g_string_append(rel, target);
        (void)hd_unlink_at(root_fd, link, 0);
        if (!hd_symlink_at(rel->str, root_fd, link))
                return mdev_errno(error, errno, link, NULL);
        return TRUE;
}

/* @path with every link in it resolved, below the root; NULL when it leaves the root. */
static char *resolve_dir(int root_fd, const char *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        g_autofree char *cur = g_strdup("");

        for (char **p = parts; *p; p++) {
                g_autofree char *next = *cur ? g_strdup_printf("%s/%s", cur, *p) : g_strdup(*p);
                g_autofree char *target = hd_readlink_at(root_fd, next, NULL);

                if (target) {
                        g_autofree char *resolved = hd_path_resolve(cur, target);
                        if (!resolved)
                                return NULL;
                        g_free(cur);
                        cur = g_steal_pointer(&resolved);
                } else {
                        g_free(cur);
                        cur = g_steal_pointer(&next);
                }
        }
        return g_steal_pointer(&cur);
}

/* The instances of each type of the parent at @pdir: type -> count. */
static GHashTable *count_instances(int root_fd, const char *pdir)
{
        g_autofree char *types_dir = g_strdup_printf("%s/mdev_supported_types", pdir);
        g_autoptr(GPtrArray) types = hd_list_dir_at(root_fd, types_dir, NULL);
        GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; types && i < types->len; i++) {
                g_autofree char *devs =
                        g_strdup_printf("%s/%s/devices", types_dir, (char *)types->pdata[i]);
                g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, devs, NULL);
                g_hash_table_insert(out, g_strdup(types->pdata[i]),
                                    GUINT_TO_POINTER(names ? names->len : 0));
        }
        return out;
}

/* The parent's shared pool, when the fixture describes one: capacity, type -> cost. */
static gboolean load_model(int root_fd, const char *parent, gint64 *capacity, GHashTable *costs)
{
        g_autofree char *path = g_strdup_printf(MDEV_MODEL_DIR "/%s", parent);
        g_autofree char *text = hd_read_file_at(root_fd, path, 1 << 20, NULL);
        g_auto(GStrv) lines = NULL;
        gboolean have = FALSE;

        if (!text)
                return FALSE;
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit(g_strstrip(*l), " ", 3);
                gint64 v;

                if (f[0] && f[1] && strcmp(f[0], "capacity") == 0 &&
                    hd_parse_int(f[1], 0, G_MAXINT, &v)) {
                        *capacity = v;
                        have = TRUE;
                } else if (f[0] && f[1] && f[2] && strcmp(f[0], "cost") == 0 &&
                           hd_parse_int(f[2], 1, G_MAXINT, &v)) {
                        g_hash_table_insert(costs, g_strdup(f[1]), GINT_TO_POINTER((int)v));
                }
        }
        return have;
}

/* Rewrite available_instances of every type of the parent after @type gained (@delta 1) or
 * lost (-1) an instance. */
static gboolean update_capacity(int root_fd, const char *pdir, const char *type, int delta,
                                GError **error)
{
        g_autofree char *parent = g_path_get_basename(pdir);
        g_autoptr(GHashTable) costs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GHashTable) counts = count_instances(root_fd, pdir);
        gint64 capacity = 0, used = 0;
        GHashTableIter it;
        gpointer k, v;

        if (!load_model(root_fd, parent, &capacity, costs)) {
                g_autofree char *path = g_strdup_printf("%s/mdev_supported_types/%s/"
                                                        "available_instances",
                                                        pdir, type);
                g_autofree char *cur = hd_read_attr_optional_at(root_fd, path);
                g_autofree char *text = NULL;
                gint64 n = 0;

                if (cur)
                        (void)hd_parse_int(g_strstrip(cur), 0, G_MAXINT, &n);
                n = MAX(n - delta, 0);
                text = g_strdup_printf("%" G_GINT64_FORMAT "\n", n);
                return hd_write_file_atomic_at(root_fd, path, text, -1, error);
        }
        g_hash_table_iter_init(&it, counts);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                int cost = GPOINTER_TO_INT(g_hash_table_lookup(costs, k));
                used += (gint64)GPOINTER_TO_UINT(v) * MAX(cost, 1);
        }
        g_hash_table_iter_init(&it, counts);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                int cost = MAX(GPOINTER_TO_INT(g_hash_table_lookup(costs, k)), 1);
                g_autofree char *path = g_strdup_printf("%s/mdev_supported_types/%s/"
                                                        "available_instances",
                                                        pdir, (char *)k);
                g_autofree char *text =
                        g_strdup_printf("%" G_GINT64_FORMAT "\n", MAX(capacity - used, 0) / cost);
                if (!hd_write_file_atomic_at(root_fd, path, text, -1, error))
                        return FALSE;
        }
        return TRUE;
}

static int next_group(int root_fd)
{
        g_autoptr(GPtrArray) groups = hd_list_dir_at(root_fd, "sys/kernel/iommu_groups", NULL);
        int next = 0;

        for (guint i = 0; groups && i < groups->len; i++) {
                gint64 n;
                if (hd_parse_int(groups->pdata[i], 0, G_MAXINT - 1, &n) && n >= next)
                        next = (int)n + 1;
        }
        return next;
}

/* The UUID in a create write, lowercase; FALSE when the kernel's guid_parse() would refuse. */
static gboolean parse_written_uuid(const char *value, char out[37])
{
        gsize len = strlen(value);

        if (len == 37 && value[36] == '\n')
                len = 36;
        if (len != 36)
                return FALSE;
        for (guint i = 0; i < 36; i++) {
                gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? value[i] != '-' : !g_ascii_isxdigit(value[i]))
                        return FALSE;
                out[i] = g_ascii_tolower(value[i]);
        }
        out[36] = '\0';
        return TRUE;
}

static gboolean mdev_create(HdCtx *ctx, int root_fd, const char *path, const char *value,
                            GError **error)
{
        g_autofree char *type_dir = NULL, *types_dir = NULL, *pdir = NULL;
        g_autofree char *type = NULL, *avail_path = NULL, *avail = NULL;
        g_autofree char *dev_dir = NULL, *link = NULL, *gdir = NULL, *file = NULL;
        g_autofree char *node = NULL;
        char uuid[37];
        gint64 n = 0;
        int group;

        type_dir = resolve_dir(root_fd, path);
        if (type_dir) {
                char *slash = strrchr(type_dir, '/');
                if (slash)
                        *slash = '\0'; /* the create file's directory */
        }
        if (!type_dir || !hd_exists_at(root_fd, type_dir, FALSE))
                return mdev_errno(error, ENOENT, path, NULL);
        type = g_path_get_basename(type_dir);
        types_dir = g_path_get_dirname(type_dir);
        pdir = g_path_get_dirname(types_dir);
        if (!parse_written_uuid(value, uuid))
                return mdev_errno(error, EINVAL, path, NULL);
        link = g_strdup_printf(MDEV_DEVICES "/%s", uuid);
        if (hd_exists_at(root_fd, link, TRUE))
                return mdev_errno(error, EEXIST, path, NULL);
        avail_path = g_strdup_printf("%s/available_instances", type_dir);
        avail = hd_read_attr_optional_at(root_fd, avail_path);
        if (!avail || !hd_parse_int(g_strstrip(avail), 0, G_MAXINT, &n) || n < 1)
                return mdev_errno(error, ENOSPC, path, NULL);

        group = next_group(root_fd);
        dev_dir = g_strdup_printf("%s/%s", pdir, uuid);
        gdir = g_strdup_printf("sys/kernel/iommu_groups/%d", group);
        if (!hd_mkdir_p_at(root_fd, dev_dir, 0755, error) ||
            !hd_mkdir_p_at(root_fd, MDEV_DEVICES, 0755, error) ||
            !hd_mkdir_p_at(root_fd, "sys/bus/mdev/drivers/vfio_mdev", 0755, error) ||
            !hd_mkdir_p_at(root_fd, gdir, 0755, error))
                return FALSE;
        file = g_strdup_printf("%s/devices", gdir);
        if (!hd_mkdir_p_at(root_fd, file, 0755, error))
                return FALSE;
        g_free(file);
        file = g_strdup_printf("%s/type", gdir);
        if (!hd_write_file_atomic_at(root_fd, file, "unknown\n", -1, error))
                return FALSE;
        {
                g_autofree char *l_type = g_strdup_printf("%s/mdev_type", dev_dir);
                g_autofree char *l_group = g_strdup_printf("%s/iommu_group", dev_dir);
                g_autofree char *l_drv = g_strdup_printf("%s/driver", dev_dir);
                g_autofree char *l_sub = g_strdup_printf("%s/subsystem", dev_dir);
                g_autofree char *f_rm = g_strdup_printf("%s/remove", dev_dir);
                g_autofree char *f_ev = g_strdup_printf("%s/uevent", dev_dir);
                g_autofree char *ev = g_strdup_printf("MDEV_TYPE=%s\n", type);
                g_autofree char *l_member = g_strdup_printf("%s/devices/%s", gdir, uuid);
                g_autofree char *l_typedev = g_strdup_printf("%s/devices/%s", type_dir, uuid);
                g_autofree char *l_drvdev =
                        g_strdup_printf("sys/bus/mdev/drivers/vfio_mdev/%s", uuid);
                g_autofree char *typedevs = g_strdup_printf("%s/devices", type_dir);

                if (!hd_mkdir_p_at(root_fd, typedevs, 0755, error) ||
                    !link_to(root_fd, l_type, type_dir, error) ||
                    !link_to(root_fd, l_group, gdir, error) ||
                    !link_to(root_fd, l_drv, "sys/bus/mdev/drivers/vfio_mdev", error) ||
                    !link_to(root_fd, l_sub, "sys/bus/mdev", error) ||
                    !hd_write_file_atomic_at(root_fd, f_rm, "", 0, error) ||
                    !hd_write_file_atomic_at(root_fd, f_ev, ev, -1, error) ||
                    !link_to(root_fd, l_member, dev_dir, error) ||
                    !link_to(root_fd, l_typedev, dev_dir, error) ||
                    !link_to(root_fd, l_drvdev, dev_dir, error) ||
                    !link_to(root_fd, link, dev_dir, error))
                        return FALSE;
        }
        node = g_strdup_printf("dev/vfio/%d", group);
        if (!hd_mkdir_p_at(root_fd, "dev/vfio", 0755, error) ||
            !hd_write_file_atomic_at(root_fd, node, "", 0, error))
                return FALSE;
        hd_ctx_log(ctx, HD_LOG_DEBUG, "sim: mdev %s of type %s, IOMMU group %d", uuid, type,
                   group);
        return update_capacity(root_fd, pdir, type, 1, error);
}

static gboolean mdev_remove(HdCtx *ctx, int root_fd, const char *path, const char *value,
                            GError **error)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        const char *uuid = parts[4];
        g_autofree char *link = g_strdup_printf(MDEV_DEVICES "/%s", uuid);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
        g_autofree char *dev_dir = target ? hd_path_resolve(MDEV_DEVICES, target) : NULL;
        g_autofree char *text = g_strstrip(g_strdup(value));
        g_autofree char *l_type = NULL, *l_group = NULL, *type_target = NULL;
        g_autofree char *type_dir = NULL, *type = NULL, *pdir = NULL, *group = NULL;
        g_autoptr(GPtrArray) holders = NULL;
        gint64 v, g = -1;

        if (!dev_dir || !hd_exists_at(root_fd, dev_dir, FALSE))
                return mdev_errno(error, ENOENT, path, NULL);
        if (!hd_parse_int(text, 0, G_MAXINT64, &v))
                return mdev_errno(error, EINVAL, path, NULL);
        if (v == 0)
                return TRUE;
        l_type = g_strdup_printf("%s/mdev_type", dev_dir);
        l_group = g_strdup_printf("%s/iommu_group", dev_dir);
        type_target = hd_readlink_at(root_fd, l_type, NULL);
        type_dir = type_target ? hd_path_resolve(dev_dir, type_target) : NULL;
        group = hd_readlink_basename_at(root_fd, l_group);
        if (group)
                (void)hd_parse_int(group, 0, G_MAXINT, &g);
        if (g >= 0) {
                holders = hd_usage_group_holders(ctx, (int)g);
                if (holders->len > 0)
                        return mdev_errno(error, EBUSY, path,
                                          "(the kernel would block until the holder of the "
                                          "device exits)");
        }
        pdir = g_path_get_dirname(dev_dir);
        if (type_dir) {
                g_autofree char *l_typedev = g_strdup_printf("%s/devices/%s", type_dir, uuid);
                type = g_path_get_basename(type_dir);
                (void)hd_unlink_at(root_fd, l_typedev, 0);
        }
        {
                static const char *const names[] = { "mdev_type", "iommu_group", "driver",
                                                     "subsystem", "remove", "uevent" };
                g_autofree char *l_drvdev =
                        g_strdup_printf("sys/bus/mdev/drivers/vfio_mdev/%s", uuid);
                for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", dev_dir, names[i]);
                        (void)hd_unlink_at(root_fd, p, 0);
                }
                (void)hd_unlink_at(root_fd, dev_dir, AT_REMOVEDIR);
                (void)hd_unlink_at(root_fd, l_drvdev, 0);
                (void)hd_unlink_at(root_fd, link, 0);
        }
        if (g >= 0) {
                g_autofree char *member =
                        g_strdup_printf("sys/kernel/iommu_groups/%d/devices/%s", (int)g, uuid);
                g_autofree char *devs =
                        g_strdup_printf("sys/kernel/iommu_groups/%d/devices", (int)g);
                g_autofree char *gtype = g_strdup_printf("sys/kernel/iommu_groups/%d/type", (int)g);
                g_autofree char *gdir = g_strdup_printf("sys/kernel/iommu_groups/%d", (int)g);
                g_autofree char *node = g_strdup_printf("dev/vfio/%d", (int)g);

                (void)hd_unlink_at(root_fd, member, 0);
                (void)hd_unlink_at(root_fd, devs, AT_REMOVEDIR);
                (void)hd_unlink_at(root_fd, gtype, 0);
                (void)hd_unlink_at(root_fd, gdir, AT_REMOVEDIR);
                (void)hd_unlink_at(root_fd, node, 0);
        }
        hd_ctx_log(ctx, HD_LOG_DEBUG, "sim: mdev %s removed", uuid);
        return !type || update_capacity(root_fd, pdir, type, -1, error);
}

gboolean hd_sim_mdev_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                           GError **error)
{
        if (g_str_has_prefix(path, MDEV_DEVICES "/"))
                return mdev_remove(ctx, root_fd, path, value, error);
        return mdev_create(ctx, root_fd, path, value, error);
}
