/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "address.h"
#include "fileio.h"
#include "macros.h"
#include "parse.h"
#include "usage.h"

/* /proc/net/route is the IPv4 table: "Iface Destination Gateway Flags ... Mask", hex in host
 * byte order. The default route has destination 0 and mask 0. */
static HdNetUse route_use(HdCtx *ctx, const char *ifname, char **detail)
{
        g_autofree char *table =
                hd_read_file_at(hd_ctx_get_root_fd(ctx), "proc/net/route", 1 << 20, NULL);
        g_auto(GStrv) lines = NULL;
        HdNetUse use = HD_NET_IDLE;

        if (!table)
                return HD_NET_IDLE;
        lines = g_strsplit(table, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit_set(*l, " \t", -1);
                g_autoptr(GPtrArray) cols = g_ptr_array_new();
                guint64 dest, gw, mask;

                for (char **c = f; *c; c++)
                        if (**c)
                                g_ptr_array_add(cols, *c);
                if (cols->len < 8 || strcmp(cols->pdata[0], ifname) != 0 ||
                    !hd_parse_hex(cols->pdata[1], G_MAXUINT32, &dest) ||
                    !hd_parse_hex(cols->pdata[2], G_MAXUINT32, &gw) ||
                    !hd_parse_hex(cols->pdata[7], G_MAXUINT32, &mask))
                        continue;
                if (dest == 0 && mask == 0) {
                        if (detail) {
                                g_free(*detail);
                                *detail = g_strdup_printf(
                                        "carries the host's default route via %u.%u.%u.%u",
                                        (guint)(gw & 0xff), (guint)((gw >> 8) & 0xff),
                                        (guint)((gw >> 16) & 0xff), (guint)((gw >> 24) & 0xff));
                        }
                        return HD_NET_DEFAULT_ROUTE;
                }
                if (use == HD_NET_IDLE && detail)
                        *detail = g_strdup_printf("has a route to %u.%u.%u.%u",
                                                  (guint)(dest & 0xff), (guint)((dest >> 8) & 0xff),
                                                  (guint)((dest >> 16) & 0xff),
                                                  (guint)((dest >> 24) & 0xff));
                use = HD_NET_ADDRESS;
        }
        return use;
}

/* /proc/net/if_inet6: "addr ifindex prefixlen scope flags ifname"; scope 0x20 is link-local,
 * which every interface that is up has and which carries no host traffic. */
static gboolean has_global_ipv6(HdCtx *ctx, const char *ifname)
{
        g_autofree char *table =
                hd_read_file_at(hd_ctx_get_root_fd(ctx), "proc/net/if_inet6", 1 << 20, NULL);
        g_auto(GStrv) lines = NULL;

        if (!table)
                return FALSE;
        lines = g_strsplit(table, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " \t", -1);
                g_autoptr(GPtrArray) cols = g_ptr_array_new();

                for (char **c = f; *c; c++)
                        if (**c)
                                g_ptr_array_add(cols, *c);
                if (cols->len >= 6 && strcmp(cols->pdata[5], ifname) == 0 &&
                    strcmp(cols->pdata[3], "20") != 0 && strcmp(cols->pdata[3], "10") != 0)
                        return TRUE;
        }
        return FALSE;
}

HdNetUse hd_usage_netdev(HdCtx *ctx, const char *ifname, char **detail)
{
        HdNetUse use = route_use(ctx, ifname, detail);

        if (use == HD_NET_IDLE && has_global_ipv6(ctx, ifname)) {
                if (detail)
                        *detail = g_strdup("has a global IPv6 address");
                use = HD_NET_ADDRESS;
        }
        return use;
}

/* The names that stand for @blockdev in /proc/mounts and /proc/swaps: /dev/NAME, and for
 * device-mapper /dev/mapper/<dm/name>. */
static void add_dev_names(HdCtx *ctx, const char *name, GPtrArray *out)
{
        g_autofree char *dm_path = g_strdup_printf("sys/class/block/%s/dm/name", name);
        g_autofree char *dm_name = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), dm_path);

        g_ptr_array_add(out, g_strdup_printf("/dev/%s", name));
        if (dm_name && *dm_name)
                g_ptr_array_add(out, g_strdup_printf("/dev/mapper/%s", dm_name));
}

/* @name and everything stacked on it (holders/ of each, recursively), bounded. */
static void collect_holders(HdCtx *ctx, const char *name, GPtrArray *out, guint depth)
{
        g_autofree char *dir = g_strdup_printf("sys/class/block/%s/holders", name);
        g_autoptr(GPtrArray) holders = NULL;

        add_dev_names(ctx, name, out);
        if (depth > 8)
                return;
        holders = hd_list_dir_at(hd_ctx_get_root_fd(ctx), dir, NULL);
        for (guint i = 0; holders && i < holders->len; i++)
                collect_holders(ctx, holders->pdata[i], out, depth + 1);
}

static gboolean name_in(GPtrArray *names, const char *s)
{
        for (guint i = 0; i < names->len; i++)
                if (strcmp(names->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

GPtrArray *hd_usage_blockdev(HdCtx *ctx, const char *blockdev, gboolean *is_root)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *mounts = hd_read_file_at(root_fd, "proc/mounts", 1 << 22, NULL);
        g_autofree char *swaps = hd_read_file_at(root_fd, "proc/swaps", 1 << 20, NULL);

        collect_holders(ctx, blockdev, names, 0);
        if (mounts) {
                g_auto(GStrv) lines = g_strsplit(mounts, "\n", -1);
                for (char **l = lines; *l; l++) {
                        g_auto(GStrv) f = g_strsplit(*l, " ", 3);
                        if (!f[0] || !f[1] || !name_in(names, f[0]))
                                continue;
                        g_ptr_array_add(out, g_strdup_printf("%s on %s", f[0], f[1]));
                        if (is_root && strcmp(f[1], "/") == 0)
                                *is_root = TRUE;
                }
        }
        if (swaps) {
                g_auto(GStrv) lines = g_strsplit(swaps, "\n", -1);
                for (char **l = lines; *l; l++) {
                        g_auto(GStrv) f = g_strsplit_set(*l, " \t", 2);
                        if (f[0] && name_in(names, f[0]))
                                g_ptr_array_add(out, g_strdup_printf("%s as swap", f[0]));
                }
        }
        return out->len ? g_steal_pointer(&out) : NULL;
}

GPtrArray *hd_usage_group_holders(HdCtx *ctx, int group)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) pids = hd_list_dir_at(root_fd, "proc", NULL);
        g_autofree char *node = g_strdup_printf("/dev/vfio/%d", group);
        g_autofree char *rel_node = g_strdup_printf("%s/dev/vfio/%d",
                                                    hd_ctx_is_live_root(ctx) ? ""
                                                                             : hd_ctx_get_root(ctx),
                                                    group);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; pids && i < pids->len; i++) {
                const char *pid = pids->pdata[i];
                g_autofree char *fd_dir = NULL;
                g_autoptr(GPtrArray) fds = NULL;
                gint64 n;

                if (!hd_parse_int(pid, 1, G_MAXINT, &n))
                        continue;
                fd_dir = g_strdup_printf("proc/%s/fd", pid);
                fds = hd_list_dir_at(root_fd, fd_dir, NULL);
                for (guint j = 0; fds && j < fds->len; j++) {
                        g_autofree char *link = g_strdup_printf("%s/%s", fd_dir,
                                                                (char *)fds->pdata[j]);
                        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                        g_autofree char *comm_path = NULL;
                        g_autofree char *comm = NULL;

                        /* A snapshot's links name the host's /dev; a process on this host that
                         * opened a fixture's node names it with the fixture's prefix. */
                        if (!target || (strcmp(target, node) != 0 && strcmp(target, rel_node) != 0))
                                continue;
                        comm_path = g_strdup_printf("proc/%s/comm", pid);
                        comm = hd_read_attr_optional_at(root_fd, comm_path);
                        g_ptr_array_add(out, g_strdup_printf("%s (%s)", pid,
                                                             comm ? comm : "unknown"));
                        break;
                }
        }
        return out;
}

GPtrArray *hd_usage_describe(HdCtx *ctx, const HdDevice *dev)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < dev->netdevs->len; i++) {
                const char *ifname = dev->netdevs->pdata[i];
                g_autofree char *detail = NULL;

                if (hd_usage_netdev(ctx, ifname, &detail) != HD_NET_IDLE)
                        g_ptr_array_add(out, g_strdup_printf("%s %s", ifname,
                                                             detail ? detail : "is in use"));
        }
        for (guint i = 0; i < dev->blockdevs->len; i++) {
                gboolean is_root = FALSE;
                g_autoptr(GPtrArray) uses = hd_usage_blockdev(ctx, dev->blockdevs->pdata[i],
                                                              &is_root);

                for (guint j = 0; uses && j < uses->len; j++)
                        g_ptr_array_add(out, g_strdup(uses->pdata[j]));
        }
        if (dev->iommu_group >= 0) {
                g_autoptr(GPtrArray) holders = hd_usage_group_holders(ctx, dev->iommu_group);
                for (guint i = 0; holders && i < holders->len; i++)
                        g_ptr_array_add(out, g_strdup_printf("IOMMU group %d is held open by %s",
                                                             dev->iommu_group,
                                                             (char *)holders->pdata[i]));
        }
        return out;
}

/* The PCI device a class entry belongs to: the last component of its sysfs path that is a
 * PCI address. */
static gboolean owning_device(const char *path, char *name)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        gboolean found = FALSE;

        for (char **p = parts; *p; p++) {
                HdAddress a;
                if (hd_address_parse_sysfs_name(*p, &a)) {
                        hd_address_format(&a, name);
                        found = TRUE;
                }
        }
        return found;
}

static void index_add(GHashTable *index, const char *device, char *sentence)
{
        GPtrArray *list = g_hash_table_lookup(index, device);

        if (!list) {
                list = g_ptr_array_new_with_free_func(g_free);
                g_hash_table_insert(index, g_strdup(device), list);
        }
        g_ptr_array_add(list, sentence);
}

GHashTable *hd_usage_index(HdCtx *ctx)
{
        static const char *const classes[] = { "sys/class/net", "sys/class/block" };
        GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);
        int root_fd = hd_ctx_get_root_fd(ctx);

        for (gsize c = 0; c < G_N_ELEMENTS(classes); c++) {
                g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, classes[c], NULL);

                for (guint i = 0; names && i < names->len; i++) {
                        const char *name = names->pdata[i];
                        g_autofree char *link = g_strdup_printf("%s/%s", classes[c], name);
                        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                        g_autofree char *path = target ? hd_path_resolve(classes[c], target)
                                                       : NULL;
                        char device[HD_ADDRESS_STRLEN];

                        if (!path || !owning_device(path, device))
                                continue;
                        if (c == 0) {
                                g_autofree char *detail = NULL;
                                if (hd_usage_netdev(ctx, name, &detail) != HD_NET_IDLE)
                                        index_add(index, device,
                                                  g_strdup_printf("%s %s", name,
                                                                  detail ? detail : "is in use"));
                        } else {
                                gboolean is_root = FALSE;
                                g_autoptr(GPtrArray) uses = hd_usage_blockdev(ctx, name, &is_root);
                                for (guint j = 0; uses && j < uses->len; j++)
                                        index_add(index, device, g_strdup(uses->pdata[j]));
                        }
                }
        }
        return index;
}
