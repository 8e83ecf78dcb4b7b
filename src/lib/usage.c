/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "address.h"
#include "fileio.h"
#include "macros.h"
#include "parse.h"
#include "state.h"
#include "usage.h"

/* The procfs tables the facts come from, each read at most once per question: listing the
 * use of thousands of VF interfaces must not read and parse /proc/net/route thousands of
 * times. */
enum { TABLE_ROUTE, TABLE_INET6, TABLE_MOUNTS, TABLE_SWAPS, N_TABLES };

typedef struct {
        HdCtx *ctx;
        gboolean read[N_TABLES];
        char *text[N_TABLES]; /* NULL when the file is absent */
} ProcTables;

static const char *proc_table(ProcTables *t, int which)
{
        static const char *const paths[N_TABLES] = { "proc/net/route", "proc/net/if_inet6",
                                                     "proc/mounts", "proc/swaps" };

        if (!t->read[which]) {
                t->text[which] = hd_read_file_at(hd_ctx_get_root_fd(t->ctx), paths[which],
                                                 which == TABLE_MOUNTS ? 1 << 22 : 1 << 20, NULL);
                t->read[which] = TRUE;
        }
        return t->text[which];
}

static void proc_tables_clear(ProcTables *t)
{
        for (int i = 0; i < N_TABLES; i++)
                g_free(t->text[i]);
}

/* /proc/net/route is the IPv4 table: "Iface Destination Gateway Flags ... Mask", hex in host
 * byte order. The default route has destination 0 and mask 0. */
static HdNetUse route_use(ProcTables *t, const char *ifname, char **detail)
{
        const char *table = proc_table(t, TABLE_ROUTE);
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
static gboolean has_global_ipv6(ProcTables *t, const char *ifname)
{
        const char *table = proc_table(t, TABLE_INET6);
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

static HdNetUse netdev_use(ProcTables *t, const char *ifname, char **detail)
{
        HdNetUse use = route_use(t, ifname, detail);

        if (use == HD_NET_IDLE && has_global_ipv6(t, ifname)) {
                if (detail)
                        *detail = g_strdup("has a global IPv6 address");
                use = HD_NET_ADDRESS;
        }
        return use;
}

HdNetUse hd_usage_netdev(HdCtx *ctx, const char *ifname, char **detail)
{
        ProcTables t = { .ctx = ctx };
        HdNetUse use = netdev_use(&t, ifname, detail);

        proc_tables_clear(&t);
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

/* At most this many block devices stacked on one disk are followed: a real stack is a
 * handful (partitions, dm-crypt, LVM, md); a tree whose holders fan out and loop would
 * otherwise take exponential time. */
#define HOLDERS_MAX 256

/* @name and everything stacked on it (holders/ of each, recursively), bounded in depth and
 * in count, each device once. @seen holds the names already visited. */
static void collect_holders(HdCtx *ctx, const char *name, GPtrArray *out, GHashTable *seen,
                            guint depth)
{
        g_autofree char *dir = NULL;
        g_autoptr(GPtrArray) holders = NULL;

        if (g_hash_table_size(seen) >= HOLDERS_MAX || g_hash_table_contains(seen, name))
                return;
        g_hash_table_add(seen, g_strdup(name));
        add_dev_names(ctx, name, out);
        if (depth > 8)
                return;
        dir = g_strdup_printf("sys/class/block/%s/holders", name);
        holders = hd_list_dir_at(hd_ctx_get_root_fd(ctx), dir, NULL);
        for (guint i = 0; holders && i < holders->len; i++)
                collect_holders(ctx, holders->pdata[i], out, seen, depth + 1);
}

static gboolean name_in(GPtrArray *names, const char *s)
{
        for (guint i = 0; i < names->len; i++)
                if (strcmp(names->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

static GPtrArray *blockdev_use(ProcTables *t, const char *blockdev, gboolean *is_root)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        const char *mounts = proc_table(t, TABLE_MOUNTS);
        const char *swaps = proc_table(t, TABLE_SWAPS);

        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        collect_holders(t->ctx, blockdev, names, seen, 0);
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

GPtrArray *hd_usage_blockdev(HdCtx *ctx, const char *blockdev, gboolean *is_root)
{
        ProcTables t = { .ctx = ctx };
        GPtrArray *out = blockdev_use(&t, blockdev, is_root);

        proc_tables_clear(&t);
        return out;
}

/* The sentences for people that hd_usage_describe() and hd_usage_index() give. */
static void add_netdev_sentence(ProcTables *t, const char *ifname, GPtrArray *out)
{
        g_autofree char *detail = NULL;

        if (netdev_use(t, ifname, &detail) != HD_NET_IDLE)
                g_ptr_array_add(out, g_strdup_printf("%s %s", ifname,
                                                     detail ? detail : "is in use"));
}

static void add_blockdev_sentences(ProcTables *t, const char *blockdev, GPtrArray *out)
{
        gboolean is_root = FALSE;
        g_autoptr(GPtrArray) uses = blockdev_use(t, blockdev, &is_root);

        for (guint j = 0; uses && j < uses->len; j++)
                g_ptr_array_add(out, g_strdup(uses->pdata[j]));
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
                hd_autofd int dfd = -1;
                gint64 n;

                if (!hd_parse_int(pid, 1, G_MAXINT, &n))
                        continue;
                fd_dir = g_strdup_printf("proc/%s/fd", pid);
                /* One confined open of the directory, then names of one component. */
                dfd = hd_open_dir_at(root_fd, fd_dir, NULL);
                if (dfd >= 0)
                        fds = hd_list_dir_at(dfd, ".", NULL);
                for (guint j = 0; fds && j < fds->len; j++) {
                        g_autofree char *target = hd_readlink_at(dfd, fds->pdata[j], NULL);
                        g_autofree char *comm_path = NULL;
                        g_autofree char *comm = NULL;
                        g_autofree char *vm = NULL;

                        /* A snapshot's links name the host's /dev; a process on this host that
                         * opened a fixture's node names it with the fixture's prefix. */
                        if (!target || (strcmp(target, node) != 0 && strcmp(target, rel_node) != 0))
                                continue;
                        comm_path = g_strdup_printf("proc/%s/comm", pid);
                        comm = hd_read_attr_optional_at(root_fd, comm_path);
                        vm = hd_state_vm_of_pid(ctx, (int)n); /* the libvirt domain */
                        g_ptr_array_add(out, vm ? g_strdup_printf("%s (%s, VM %s)", pid,
                                                                  comm ? comm : "unknown", vm)
                                                : g_strdup_printf("%s (%s)", pid,
                                                                  comm ? comm : "unknown"));
                        break;
                }
        }
        return out;
}

GPtrArray *hd_usage_describe(HdCtx *ctx, const HdDevice *dev)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
        ProcTables t = { .ctx = ctx };

        for (guint i = 0; i < dev->netdevs->len; i++)
                add_netdev_sentence(&t, dev->netdevs->pdata[i], out);
        for (guint i = 0; i < dev->blockdevs->len; i++)
                add_blockdev_sentences(&t, dev->blockdevs->pdata[i], out);
        proc_tables_clear(&t);
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

/* The list of sentences of @device in @index, made on first use. */
static GPtrArray *index_list(GHashTable *index, const char *device)
{
        GPtrArray *list = g_hash_table_lookup(index, device);

        if (!list) {
                list = g_ptr_array_new_with_free_func(g_free);
                g_hash_table_insert(index, g_strdup(device), list);
        }
        return list;
}

GHashTable *hd_usage_index(HdCtx *ctx)
{
        static const char *const classes[] = { "sys/class/net", "sys/class/block" };
        GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);
        int root_fd = hd_ctx_get_root_fd(ctx);
        ProcTables t = { .ctx = ctx };
        GHashTableIter iter;
        gpointer key, value;

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
                        if (c == 0)
                                add_netdev_sentence(&t, name, index_list(index, device));
                        else
                                add_blockdev_sentences(&t, name, index_list(index, device));
                }
        }
        proc_tables_clear(&t);
        /* only devices the host uses have an entry */
        g_hash_table_iter_init(&iter, index);
        while (g_hash_table_iter_next(&iter, &key, &value))
                if (((GPtrArray *)value)->len == 0)
                        g_hash_table_iter_remove(&iter);
        return index;
}
