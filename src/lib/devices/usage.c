/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "cmdline.h"
#include "fileio.h"
#include "hint.h"
#include "macros.h"
#include "parse.h"
#include "usage.h"

/* The procfs tables the facts come from, each read at most once per question: listing the
 * use of thousands of VF interfaces must not read and parse /proc/net/route thousands of
 * times. */
enum { TABLE_ROUTE, TABLE_INET6, TABLE_MOUNTS, TABLE_SWAPS, TABLE_ROUTE6, N_TABLES };

typedef struct {
        HdCtx *ctx;
        gboolean read[N_TABLES];
        char *text[N_TABLES]; /* NULL when the file is absent */
        GHashTable *lowers;   /* lower ifname -> GPtrArray of uppers (from lower_* links of
                               * the virtual interfaces), made on first use */
} ProcTables;

static const char *proc_table(ProcTables *t, int which)
{
        static const char *const paths[N_TABLES] = {"proc/net/route", "proc/net/if_inet6",
                                                    "proc/mounts", "proc/swaps",
                                                    "proc/net/ipv6_route"};

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
        if (t->lowers)
                g_hash_table_unref(t->lowers);
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

/* /proc/net/ipv6_route: "dest plen src plen gateway metric refcnt use flags dev", 128-bit
 * addresses as 32 hex digits. The kernel's own routes are skipped: rejects (the unreachable
 * default on lo), local and anycast entries, link-local (fe80::/10) and multicast (ff00::/8)
 * prefixes, which every interface with IPv6 has. The default route is ::/0. */
#define RTF_REJECT 0x0200u
#define RTF_ANYCAST 0x00100000u
#define RTF_LOCAL 0x80000000u

static gboolean parse_in6(const char *hex, struct in6_addr *out)
{
        if (strlen(hex) != 32)
                return FALSE;
        for (int i = 0; i < 16; i++) {
                guint64 v;
                char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};
                if (!g_ascii_isxdigit(byte[0]) || !g_ascii_isxdigit(byte[1]) ||
                    !hd_parse_hex(byte, 0xff, &v))
                        return FALSE;
                out->s6_addr[i] = (guint8)v;
        }
        return TRUE;
}

static HdNetUse route6_use(ProcTables *t, const char *ifname, char **detail)
{
        const char *table = proc_table(t, TABLE_ROUTE6);
        g_auto(GStrv) lines = NULL;
        HdNetUse use = HD_NET_IDLE;

        if (!table)
                return HD_NET_IDLE;
        lines = g_strsplit(table, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit_set(*l, " \t", -1);
                g_autoptr(GPtrArray) cols = g_ptr_array_new();
                struct in6_addr dest, gw;
                guint64 plen, flags;
                char text[INET6_ADDRSTRLEN];

                for (char **c = f; *c; c++)
                        if (**c)
                                g_ptr_array_add(cols, *c);
                if (cols->len < 10 || strcmp(cols->pdata[9], ifname) != 0 ||
                    !parse_in6(cols->pdata[0], &dest) ||
                    !hd_parse_hex(cols->pdata[1], 128, &plen) || !parse_in6(cols->pdata[4], &gw) ||
                    !hd_parse_hex(cols->pdata[8], G_MAXUINT32, &flags))
                        continue;
                if (flags & (RTF_REJECT | RTF_ANYCAST | RTF_LOCAL))
                        continue;
                if (plen == 0) {
                        if (detail) {
                                g_free(*detail);
                                if (IN6_IS_ADDR_UNSPECIFIED(&gw))
                                        *detail = g_strdup("carries the host's IPv6 default route");
                                else
                                        *detail = g_strdup_printf(
                                            "carries the host's IPv6 default route via %s",
                                            inet_ntop(AF_INET6, &gw, text, sizeof(text)));
                        }
                        return HD_NET_DEFAULT_ROUTE;
                }
                if ((dest.s6_addr[0] == 0xfe && (dest.s6_addr[1] & 0xc0) == 0x80) ||
                    dest.s6_addr[0] == 0xff)
                        continue;
                if (use == HD_NET_IDLE && detail) {
                        g_free(*detail);
                        *detail = g_strdup_printf("has a route to %s/%u",
                                                  inet_ntop(AF_INET6, &dest, text, sizeof(text)),
                                                  (guint)plen);
                }
                use = HD_NET_ADDRESS;
        }
        return use;
}

/* The use of one interface by itself (no stack): IPv4 default route, IPv6 default route,
 * then any route or global IPv6 address. */
static HdNetUse netdev_use(ProcTables *t, const char *ifname, char **detail)
{
        g_autofree char *d4 = NULL;
        g_autofree char *d6 = NULL;
        HdNetUse use4 = route_use(t, ifname, &d4);
        HdNetUse use6 = HD_NET_IDLE;

        if (use4 != HD_NET_DEFAULT_ROUTE)
                use6 = route6_use(t, ifname, &d6);
        if (use4 == HD_NET_DEFAULT_ROUTE ||
            (use4 == HD_NET_ADDRESS && use6 != HD_NET_DEFAULT_ROUTE)) {
                if (detail)
                        *detail = g_steal_pointer(&d4);
                return use4;
        }
        if (use6 != HD_NET_IDLE) {
                if (detail)
                        *detail = g_steal_pointer(&d6);
                return use6;
        }
        if (has_global_ipv6(t, ifname)) {
                if (detail)
                        *detail = g_strdup("has a global IPv6 address");
                return HD_NET_ADDRESS;
        }
        return HD_NET_IDLE;
}

/* ---------------------------------------------------------------- stacked interfaces */

/* An interface name as the kernel allows it (dev_valid_name()): what may become a path. */
static gboolean ifname_valid(const char *name)
{
        gsize n = name ? strlen(name) : 0;

        if (n == 0 || n >= 16 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return FALSE;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || g_ascii_isspace(*p))
                        return FALSE;
        return TRUE;
}

static void add_name(GPtrArray *names, const char *name)
{
        if (!ifname_valid(name))
                return;
        for (guint i = 0; i < names->len; i++)
                if (strcmp(names->pdata[i], name) == 0)
                        return;
        g_ptr_array_add(names, g_strdup(name));
}

/* lower -> uppers from the lower_* links of every virtual interface (uppers are virtual:
 * bridges, bonds, teams, VLANs, macvlans) and the slaves file of bonds. */
static GHashTable *lowers_index(ProcTables *t)
{
        int root_fd = hd_ctx_get_root_fd(t->ctx);
        g_autoptr(GPtrArray) virt = NULL;

        if (t->lowers)
                return t->lowers;
        t->lowers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_ptr_array_unref);
        virt = hd_list_dir_at(root_fd, "sys/devices/virtual/net", NULL);
        for (guint i = 0; virt && i < virt->len && i < 4096; i++) {
                const char *up = virt->pdata[i];
                g_autofree char *dir = NULL;
                g_autofree char *slaves_path = NULL;
                g_autofree char *slaves = NULL;
                g_autoptr(GPtrArray) entries = NULL;
                g_autoptr(GPtrArray) lows = g_ptr_array_new_with_free_func(g_free);

                if (!ifname_valid(up))
                        continue;
                dir = g_strdup_printf("sys/devices/virtual/net/%s", up);
                entries = hd_list_dir_at(root_fd, dir, NULL);
                for (guint k = 0; entries && k < entries->len; k++)
                        if (g_str_has_prefix(entries->pdata[k], "lower_"))
                                add_name(lows, (char *)entries->pdata[k] + strlen("lower_"));
                slaves_path = g_strdup_printf("%s/bonding/slaves", dir);
                slaves = hd_read_attr_optional_at(root_fd, slaves_path);
                if (slaves) {
                        g_auto(GStrv) words = g_strsplit_set(slaves, " \t\n", -1);
                        for (char **w = words; *w; w++)
                                add_name(lows, *w);
                }
                for (guint k = 0; k < lows->len; k++) {
                        GPtrArray *list = g_hash_table_lookup(t->lowers, lows->pdata[k]);
                        if (!list) {
                                list = g_ptr_array_new_with_free_func(g_free);
                                g_hash_table_insert(t->lowers, g_strdup(lows->pdata[k]), list);
                        }
                        add_name(list, up);
                }
        }
        return t->lowers;
}

/* The interfaces directly above @ifname, from both sides of the kernel's links. */
static GPtrArray *net_uppers(ProcTables *t, const char *ifname)
{
        int root_fd = hd_ctx_get_root_fd(t->ctx);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *dir = g_strdup_printf("sys/class/net/%s", ifname);
        g_autofree char *master_path = g_strconcat(dir, "/master", NULL);
        g_autofree char *bridge_path = g_strconcat(dir, "/brport/bridge", NULL);
        g_autofree char *master = hd_readlink_basename_at(root_fd, master_path);
        g_autofree char *bridge = hd_readlink_basename_at(root_fd, bridge_path);
        g_autoptr(GPtrArray) entries = hd_list_dir_at(root_fd, dir, NULL);
        GPtrArray *rev;

        if (master)
                add_name(out, master);
        if (bridge)
                add_name(out, bridge);
        for (guint i = 0; entries && i < entries->len; i++)
                if (g_str_has_prefix(entries->pdata[i], "upper_"))
                        add_name(out, (char *)entries->pdata[i] + strlen("upper_"));
        rev = g_hash_table_lookup(lowers_index(t), ifname);
        for (guint i = 0; rev && i < rev->len; i++)
                add_name(out, rev->pdata[i]);
        return out;
}

/* What kind of interface @ifname is: DEVTYPE in its uevent, else its bridge/ or bonding/
 * directory. */
static const char *net_kind(HdCtx *ctx, const char *ifname)
{
        static const char *const kinds[] = {"bridge",  "bond",    "team",  "vlan",
                                            "macvlan", "macvtap", "ipvlan"};
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *uevent_path = g_strdup_printf("sys/class/net/%s/uevent", ifname);
        g_autofree char *uevent = hd_read_attr_optional_at(root_fd, uevent_path);
        g_autofree char *bridge = g_strdup_printf("sys/class/net/%s/bridge", ifname);
        g_autofree char *bonding = g_strdup_printf("sys/class/net/%s/bonding", ifname);

        if (uevent) {
                g_auto(GStrv) lines = g_strsplit(uevent, "\n", -1);
                for (char **l = lines; *l; l++) {
                        if (!g_str_has_prefix(*l, "DEVTYPE="))
                                continue;
                        for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++)
                                if (strcmp(*l + strlen("DEVTYPE="), kinds[k]) == 0)
                                        return kinds[k];
                }
        }
        if (hd_exists_at(root_fd, bridge, FALSE))
                return "bridge";
        if (hd_exists_at(root_fd, bonding, FALSE))
                return "bond";
        return "upper";
}

/* "a port of bridge vmbr0" */
static char *hop_phrase(const HdNetHop *hop)
{
        const char *k = hop->kind;

        if (strcmp(k, "bridge") == 0 || strcmp(k, "team") == 0)
                return g_strdup_printf("a port of %s %s", k, hop->ifname);
        if (strcmp(k, "bond") == 0)
                return g_strdup_printf("a slave of bond %s", hop->ifname);
        if (strcmp(k, "vlan") == 0)
                return g_strdup_printf("the lower device of VLAN %s", hop->ifname);
        if (strcmp(k, "upper") == 0)
                return g_strdup_printf("below %s", hop->ifname);
        return g_strdup_printf("the lower device of %s %s", k, hop->ifname);
}

static void net_hop_free(gpointer p)
{
        HdNetHop *h = p;

        g_free(h->ifname);
        g_free(h);
}

void hd_net_usage_free(HdNetUsage *u)
{
        if (!u)
                return;
        g_free(u->ifname);
        g_free(u->carrier);
        g_ptr_array_unref(u->via);
        g_free(u->detail);
        g_free(u->text);
        g_free(u);
}

typedef struct {
        char *ifname;
        const char *kind;
        int parent;
        guint depth;
} StackNode;

static HdNetUsage *netdev_usage(ProcTables *t, const char *ifname)
{
        HdNetUsage *u = g_new0(HdNetUsage, 1);
        g_autoptr(GArray) nodes = g_array_new(FALSE, TRUE, sizeof(StackNode));
        StackNode first = {g_strdup(ifname), NULL, -1, 0};
        int best = -1;
        g_autofree char *best_detail = NULL;

        u->ifname = g_strdup(ifname);
        u->via = g_ptr_array_new_with_free_func(net_hop_free);
        g_array_append_val(nodes, first);
        for (guint i = 0; i < nodes->len; i++) {
                StackNode *n = &g_array_index(nodes, StackNode, i);
                g_autofree char *detail = NULL;
                HdNetUse use = netdev_use(t, n->ifname, &detail);
                guint depth = n->depth;
                g_autoptr(GPtrArray) ups = NULL;

                if (use > u->use) {
                        u->use = use;
                        best = (int)i;
                        g_free(best_detail);
                        best_detail = g_steal_pointer(&detail);
                }
                if (ifname_valid(n->ifname) && depth < HD_NET_DEPTH_MAX)
                        ups = net_uppers(t, n->ifname);
                for (guint k = 0; ups && k < ups->len; k++) {
                        gboolean seen = FALSE;
                        for (guint m = 0; m < nodes->len; m++)
                                if (strcmp(g_array_index(nodes, StackNode, m).ifname,
                                           ups->pdata[k]) == 0)
                                        seen = TRUE;
                        if (!seen && nodes->len < HD_NET_IFACES_MAX) {
                                StackNode up = {g_strdup(ups->pdata[k]),
                                                net_kind(t->ctx, ups->pdata[k]), (int)i, depth + 1};
                                g_array_append_val(nodes, up);
                        }
                }
        }
        if (best >= 0) {
                g_autoptr(GString) text = g_string_new(ifname);
                g_autoptr(GPtrArray) rev = g_ptr_array_new();

                for (int i = best; i > 0; i = g_array_index(nodes, StackNode, i).parent)
                        g_ptr_array_add(rev, &g_array_index(nodes, StackNode, i));
                for (guint i = rev->len; i > 0; i--) {
                        StackNode *n = rev->pdata[i - 1];
                        HdNetHop *hop = g_new0(HdNetHop, 1);
                        g_autofree char *phrase = NULL;

                        hop->ifname = g_strdup(n->ifname);
                        hop->kind = n->kind;
                        phrase = hop_phrase(hop);
                        g_string_append_printf(text, "%s %s", i == rev->len ? " is" : ", which is",
                                               phrase);
                        g_ptr_array_add(u->via, hop);
                }
                g_string_append_printf(text, "%s %s", rev->len ? ", which" : "",
                                       best_detail ? best_detail : "is in use");
                u->carrier = g_strdup(g_array_index(nodes, StackNode, best).ifname);
                u->detail = g_steal_pointer(&best_detail);
                u->text = g_string_free(g_steal_pointer(&text), FALSE);
        }
        for (guint i = 0; i < nodes->len; i++)
                g_free(g_array_index(nodes, StackNode, i).ifname);
        return u;
}

HdNetUsage *hd_usage_netdev_full(HdCtx *ctx, const char *ifname)
{
        ProcTables t = { .ctx = ctx };
        HdNetUsage *u = netdev_usage(&t, ifname);

        proc_tables_clear(&t);
        return u;
}

HdNetUse hd_usage_netdev(HdCtx *ctx, const char *ifname, char **detail)
{
        g_autoptr(HdNetUsage) u = hd_usage_netdev_full(ctx, ifname);

        if (detail && u->text)
                *detail = g_strdup(u->text + strlen(ifname) + 1);
        return u->use;
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
 * in count, each device once. @seen holds the names already visited; @stacked (may be NULL)
 * gets the names of the devices stacked above @name (its holders, theirs, ...). */
static void collect_holders(HdCtx *ctx, const char *name, GPtrArray *out, GHashTable *seen,
                            guint depth, GPtrArray *stacked)
{
        g_autofree char *dir = NULL;
        g_autoptr(GPtrArray) holders = NULL;

        if (g_hash_table_size(seen) >= HOLDERS_MAX || g_hash_table_contains(seen, name))
                return;
        g_hash_table_add(seen, g_strdup(name));
        add_dev_names(ctx, name, out);
        if (depth > 0 && stacked)
                g_ptr_array_add(stacked, g_strdup(name));
        if (depth > 8)
                return;
        dir = g_strdup_printf("sys/class/block/%s/holders", name);
        holders = hd_list_dir_at(hd_ctx_get_root_fd(ctx), dir, NULL);
        for (guint i = 0; holders && i < holders->len; i++)
                collect_holders(ctx, holders->pdata[i], out, seen, depth + 1, stacked);
}

static gboolean name_in(GPtrArray *names, const char *s)
{
        for (guint i = 0; i < names->len; i++)
                if (strcmp(names->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

/* What a block device stacked on a disk is, from its dm/ or md/ directory: "LVM vg0-data",
 * "multipath mpatha", "dm-crypt luks-1234", "device-mapper NAME", "md RAID (raid1)". */
static char *holder_phrase(HdCtx *ctx, const char *name)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *p_name = g_strdup_printf("sys/class/block/%s/dm/name", name);
        g_autofree char *p_uuid = g_strdup_printf("sys/class/block/%s/dm/uuid", name);
        g_autofree char *p_level = g_strdup_printf("sys/class/block/%s/md/level", name);
        g_autofree char *dm_name = hd_read_attr_optional_at(root_fd, p_name);
        g_autofree char *uuid = hd_read_attr_optional_at(root_fd, p_uuid);
        g_autofree char *level = hd_read_attr_optional_at(root_fd, p_level);
        const char *kind;

        if (dm_name || uuid) {
                if (uuid && g_str_has_prefix(uuid, "LVM-"))
                        kind = "LVM";
                else if (uuid && g_str_has_prefix(uuid, "mpath-"))
                        kind = "multipath";
                else if (uuid && g_str_has_prefix(uuid, "CRYPT-"))
                        kind = "dm-crypt";
                else if (uuid && g_str_has_prefix(uuid, "part") && strstr(uuid, "-mpath-"))
                        kind = "multipath partition";
                else
                        kind = "device-mapper";
                return g_strdup_printf("%s (%s%s%s)", name, kind, dm_name && *dm_name ? " " : "",
                                       dm_name ? dm_name : "");
        }
        if (level)
                return g_strdup_printf("%s (md RAID, %s)", name, level);
        return g_strdup_printf("%s (stacked block device)", name);
}

void hd_block_use_free(HdBlockUse *use)
{
        if (!use)
                return;
        if (use->uses)
                g_ptr_array_unref(use->uses);
        if (use->holders)
                g_ptr_array_unref(use->holders);
        g_free(use);
}

/* The one decision of what the host does with a block device: its mounts and swap areas,
 * through everything stacked on it, and what is stacked on it. */
static HdBlockUse *blockdev_use_full(ProcTables *t, const char *blockdev)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) stacked = g_ptr_array_new_with_free_func(g_free);
        HdBlockUse *use = g_new0(HdBlockUse, 1);
        const char *mounts = proc_table(t, TABLE_MOUNTS);
        const char *swaps = proc_table(t, TABLE_SWAPS);

        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        use->uses = g_ptr_array_new_with_free_func(g_free);
        use->holders = g_ptr_array_new_with_free_func(g_free);
        collect_holders(t->ctx, blockdev, names, seen, 0, stacked);
        for (guint i = 0; i < stacked->len; i++)
                g_ptr_array_add(use->holders, holder_phrase(t->ctx, stacked->pdata[i]));
        if (mounts) {
                g_auto(GStrv) lines = g_strsplit(mounts, "\n", -1);
                for (char **l = lines; *l; l++) {
                        g_auto(GStrv) f = g_strsplit(*l, " ", 3);
                        if (!f[0] || !f[1] || !name_in(names, f[0]))
                                continue;
                        g_ptr_array_add(use->uses, g_strdup_printf("%s on %s", f[0], f[1]));
                        use->mounted = TRUE;
                        if (strcmp(f[1], "/") == 0)
                                use->root = TRUE;
                }
        }
        if (swaps) {
                g_auto(GStrv) lines = g_strsplit(swaps, "\n", -1);
                for (char **l = lines; *l; l++) {
                        g_auto(GStrv) f = g_strsplit_set(*l, " \t", 2);
                        if (f[0] && name_in(names, f[0])) {
                                g_ptr_array_add(use->uses, g_strdup_printf("%s as swap", f[0]));
                                use->swap = TRUE;
                        }
                }
        }
        return use;
}

static GPtrArray *blockdev_use(ProcTables *t, const char *blockdev, gboolean *is_root)
{
        g_autoptr(HdBlockUse) use = blockdev_use_full(t, blockdev);

        if (is_root && use->root)
                *is_root = TRUE;
        return use->uses->len ? g_steal_pointer(&use->uses) : NULL;
}

GPtrArray *hd_usage_blockdev(HdCtx *ctx, const char *blockdev, gboolean *is_root)
{
        ProcTables t = { .ctx = ctx };
        GPtrArray *out = blockdev_use(&t, blockdev, is_root);

        proc_tables_clear(&t);
        return out;
}

HdBlockUse *hd_usage_blockdev_full(HdCtx *ctx, const char *blockdev)
{
        ProcTables t = { .ctx = ctx };
        HdBlockUse *use = blockdev_use_full(&t, blockdev);

        proc_tables_clear(&t);
        return use;
}

/* The sentences for people that hd_usage_describe() and hd_usage_index() give. */
static void add_netdev_sentence(ProcTables *t, const char *ifname, GPtrArray *out)
{
        g_autoptr(HdNetUsage) u = netdev_usage(t, ifname);

        if (u->text)
                g_ptr_array_add(out, g_steal_pointer(&u->text));
}

static void add_blockdev_sentences(ProcTables *t, const char *blockdev, GPtrArray *out)
{
        g_autoptr(HdBlockUse) use = blockdev_use_full(t, blockdev);

        for (guint j = 0; j < use->uses->len; j++)
                g_ptr_array_add(out, g_strdup(use->uses->pdata[j]));
        /* nothing mounted, but an LVM group, md array, multipath map or dm-crypt mapping is
         * stacked on it: the host uses it all the same (bind.c's storage check refuses it) */
        if (use->uses->len == 0)
                for (guint j = 0; j < use->holders->len; j++)
                        g_ptr_array_add(out, g_strdup_printf("/dev/%s is under %s", blockdev,
                                                             (char *)use->holders->pdata[j]));
}

/* Whether proc entry @pid is this process on the machine it runs on: a node it inherited
 * from its caller (a shell's redirection, a parent's fd) is not a holder, and naming hostdev
 * itself ("held by 4242 (hostdev)") would only mislead. A tree's proc is never this process. */
static gboolean is_self(HdCtx *ctx, gint64 pid)
{
        return hd_ctx_is_live_root(ctx) && pid == (gint64)getpid();
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

                if (!hd_parse_int(pid, 1, G_MAXINT, &n) || is_self(ctx, n))
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
                        vm = hd_usage_vm_of_pid(ctx, (int)n); /* the libvirt domain */
                        g_ptr_array_add(out, vm ? g_strdup_printf("%s (%s, VM %s)", pid,
                                                                  comm ? comm : "unknown", vm)
                                                : g_strdup_printf("%s (%s)", pid,
                                                                  comm ? comm : "unknown"));
                        break;
                }
        }
        return out;
}


/* "1234 (Xorg) has /dev/dri/card0 open" */
static char *proc_use_sentence(const HdProcUse *u)
{
        g_autoptr(GString) s = g_string_new(NULL);

        g_string_append_printf(s, "%d (%s) has ", u->pid, u->comm);
        for (guint k = 0; k < u->nodes->len; k++)
                g_string_append_printf(s, "%s%s", k ? ", " : "", (char *)u->nodes->pdata[k]);
        g_string_append(s, " open");
        return g_string_free(g_steal_pointer(&s), FALSE);
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
        {
                g_autoptr(GPtrArray) clients = hd_usage_gpu_clients(ctx, dev);
                g_autoptr(HdFramebuffer) fb = hd_usage_framebuffer(ctx, dev);

                for (guint i = 0; i < clients->len; i++)
                        g_ptr_array_add(out, proc_use_sentence(clients->pdata[i]));
                if (fb)
                        g_ptr_array_add(out, hd_framebuffer_describe(ctx, fb));
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

static gboolean node_name(const char *name, const char *prefix);
static int nvidia_minor(HdCtx *ctx, const HdDevice *dev);

/* @node (taken) belongs to PCI device @device. */
static void add_node(GHashTable *owner, GPtrArray *nodes, char *node, const char *device)
{
        if (g_hash_table_contains(owner, node)) {
                g_free(node);
                return;
        }
        g_ptr_array_add(nodes, node);
        g_hash_table_insert(owner, node, g_strdup(device));
}

GHashTable *hd_usage_index(HdCtx *ctx)
{
        static const char *const classes[] = {"sys/class/net", "sys/class/block", "sys/class/drm",
                                              "sys/class/graphics"};
        g_autoptr(GHashTable) node_owner =
            g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        g_autoptr(GPtrArray) gpu_nodes = g_ptr_array_new_with_free_func(g_free);
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
                        else if (c == 1)
                                add_blockdev_sentences(&t, name, index_list(index, device));
                        else if (node_name(name, "card") || node_name(name, "renderD") ||
                                 node_name(name, "controlD"))
                                add_node(node_owner, gpu_nodes,
                                         g_strdup_printf("/dev/dri/%s", name), device);
                        else if (node_name(name, "fb"))
                                add_node(node_owner, gpu_nodes, g_strdup_printf("/dev/%s", name),
                                         device);
                }
        }
        proc_tables_clear(&t);
        /* the proprietary nvidia driver's /dev/nvidiaN of the devices bound to it */
        {
                g_autoptr(GPtrArray) bound =
                    hd_list_dir_at(root_fd, "sys/bus/pci/drivers/nvidia", NULL);
                for (guint i = 0; bound && i < bound->len; i++) {
                        HdDevice gpu = {0};
                        int minor;

                        if (!hd_address_parse_sysfs_name(bound->pdata[i], &gpu.address))
                                continue;
                        hd_address_format(&gpu.address, gpu.name);
                        minor = nvidia_minor(ctx, &gpu);
                        add_node(node_owner, gpu_nodes,
                                 minor >= 0 ? g_strdup_printf("/dev/nvidia%d", minor)
                                            : g_strdup("/dev/nvidiactl"),
                                 gpu.name);
                }
        }
        /* one pass over the processes for the nodes of every GPU */
        if (gpu_nodes->len > 0) {
                g_autoptr(GPtrArray) holders = hd_usage_node_holders(ctx, gpu_nodes);

                for (guint i = 0; i < holders->len; i++) {
                        HdProcUse *u = holders->pdata[i];
                        g_autoptr(GHashTable) per_device = g_hash_table_new_full(
                            g_str_hash, g_str_equal, NULL, (GDestroyNotify)hd_proc_use_free);
                        GHashTableIter it;
                        gpointer dev_key, use_value;

                        for (guint k = 0; k < u->nodes->len; k++) {
                                const char *device =
                                    g_hash_table_lookup(node_owner, u->nodes->pdata[k]);
                                HdProcUse *d = g_hash_table_lookup(per_device, device);
                                if (!d) {
                                        d = g_new0(HdProcUse, 1);
                                        d->pid = u->pid;
                                        d->comm = g_strdup(u->comm);
                                        d->nodes = g_ptr_array_new_with_free_func(g_free);
                                        g_hash_table_insert(per_device, (gpointer)device, d);
                                }
                                g_ptr_array_add(d->nodes, g_strdup(u->nodes->pdata[k]));
                        }
                        g_hash_table_iter_init(&it, per_device);
                        while (g_hash_table_iter_next(&it, &dev_key, &use_value))
                                g_ptr_array_add(index_list(index, dev_key),
                                                proc_use_sentence(use_value));
                }
        }
        /* only devices the host uses have an entry */
        g_hash_table_iter_init(&iter, index);
        while (g_hash_table_iter_next(&iter, &key, &value))
                if (((GPtrArray *)value)->len == 0)
                        g_hash_table_iter_remove(&iter);
        return index;
}

/* ---------------------------------------------------------------- GPU nodes and clients */

void hd_proc_use_free(HdProcUse *use)
{
        if (!use)
                return;
        g_free(use->comm);
        g_ptr_array_unref(use->nodes);
        g_free(use);
}

/* "card0", "renderD128", "controlD64", "fb0": a prefix and a number, nothing else. */
static gboolean node_name(const char *name, const char *prefix)
{
        const char *p = name + strlen(prefix);
        gint64 n;

        return g_str_has_prefix(name, prefix) && hd_parse_int(p, 0, 1 << 20, &n) &&
               g_ascii_isdigit(*p);
}

/* "Device Minor: \t 0" of proc/driver/nvidia/gpus/ADDR/information; -1 unknown. */
static int nvidia_minor(HdCtx *ctx, const HdDevice *dev)
{
        g_autofree char *path =
            g_strdup_printf("proc/driver/nvidia/gpus/%s/information", dev->name);
        g_autofree char *text = hd_read_file_at(hd_ctx_get_root_fd(ctx), path, 1 << 16, NULL);
        g_auto(GStrv) lines = NULL;

        if (!text)
                return -1;
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                gint64 n;
                if (!g_str_has_prefix(*l, "Device Minor:"))
                        continue;
                if (hd_parse_int(g_strstrip(*l + strlen("Device Minor:")), 0, 255, &n))
                        return (int)n;
        }
        return -1;
}

GPtrArray *hd_usage_gpu_nodes(HdCtx *ctx, const HdDevice *dev)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *drm_dir = hd_device_attr_path(&dev->address, "drm");
        g_autofree char *fb_dir = hd_device_attr_path(&dev->address, "graphics");
        g_autoptr(GPtrArray) drm = hd_list_dir_at(root_fd, drm_dir, NULL);
        g_autoptr(GPtrArray) fbs = hd_list_dir_at(root_fd, fb_dir, NULL);

        for (guint i = 0; drm && i < drm->len; i++) {
                const char *n = drm->pdata[i];
                if (node_name(n, "card") || node_name(n, "renderD") || node_name(n, "controlD"))
                        g_ptr_array_add(out, g_strdup_printf("/dev/dri/%s", n));
        }
        for (guint i = 0; fbs && i < fbs->len; i++)
                if (node_name(fbs->pdata[i], "fb"))
                        g_ptr_array_add(out, g_strdup_printf("/dev/%s", (char *)fbs->pdata[i]));
        if (g_strcmp0(dev->driver, "nvidia") == 0) {
                int minor = nvidia_minor(ctx, dev);
                /* without the minor, any user of the driver may be using this GPU */
                g_ptr_array_add(out, minor >= 0 ? g_strdup_printf("/dev/nvidia%d", minor)
                                                : g_strdup("/dev/nvidiactl"));
        }
        return out;
}

/* The index of @target in @nodes: the host's path, or (under another root) the tree's own
 * prefix, as a process on this host that opened a fixture's node names it. -1 if none. */
static int node_index(HdCtx *ctx, GPtrArray *nodes, const char *target)
{
        const char *root = hd_ctx_get_root(ctx);

        if (!hd_ctx_is_live_root(ctx) && g_str_has_prefix(target, root) &&
            target[strlen(root)] == '/')
                target += strlen(root);
        for (guint i = 0; i < nodes->len; i++)
                if (strcmp(nodes->pdata[i], target) == 0)
                        return (int)i;
        return -1;
}

static gint compare_pid(gconstpointer a, gconstpointer b)
{
        const HdProcUse *x = *(HdProcUse *const *)a, *y = *(HdProcUse *const *)b;

        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* One pass over proc/PID/fd: for each process with some of @nodes open, an HdProcUse whose
 * nodes keep the order of @nodes; by pid. */
GPtrArray *hd_usage_node_holders(HdCtx *ctx, GPtrArray *nodes)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) pids = NULL;
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_proc_use_free);

        if (nodes->len == 0)
                return out;
        pids = hd_list_dir_at(root_fd, "proc", NULL);
        for (guint i = 0; pids && i < pids->len; i++) {
                const char *pid = pids->pdata[i];
                g_autofree char *fd_dir = NULL;
                g_autoptr(GPtrArray) fds = NULL;
                g_autofree gboolean *held = NULL;
                gboolean any = FALSE;
                gint64 n;

                if (!hd_parse_int(pid, 1, G_MAXINT, &n) || is_self(ctx, n))
                        continue;
                fd_dir = g_strdup_printf("proc/%s/fd", pid);
                fds = hd_list_dir_at(root_fd, fd_dir, NULL);
                held = g_new0(gboolean, nodes->len);
                for (guint j = 0; fds && j < fds->len; j++) {
                        g_autofree char *link =
                            g_strdup_printf("%s/%s", fd_dir, (char *)fds->pdata[j]);
                        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                        int k = target ? node_index(ctx, nodes, target) : -1;

                        if (k >= 0)
                                held[k] = any = TRUE;
                }
                if (any) {
                        HdProcUse *u = g_new0(HdProcUse, 1);
                        g_autofree char *comm_path = g_strdup_printf("proc/%s/comm", pid);
                        g_autofree char *comm = hd_read_attr_optional_at(root_fd, comm_path);

                        u->pid = (int)n;
                        u->comm = g_strdup(comm ? comm : "unknown");
                        u->nodes = g_ptr_array_new_with_free_func(g_free);
                        for (guint k = 0; k < nodes->len; k++)
                                if (held[k])
                                        g_ptr_array_add(u->nodes, g_strdup(nodes->pdata[k]));
                        g_ptr_array_add(out, u);
                }
        }
        g_ptr_array_sort(out, compare_pid);
        return out;
}

GPtrArray *hd_usage_gpu_clients(HdCtx *ctx, const HdDevice *dev)
{
        g_autoptr(GPtrArray) nodes = hd_usage_gpu_nodes(ctx, dev);

        return hd_usage_node_holders(ctx, nodes);
}

#define CLIENTS_SHOWN 8

char *hd_usage_gpu_clients_text(GPtrArray *clients)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; clients && i < clients->len && i < CLIENTS_SHOWN; i++) {
                HdProcUse *u = clients->pdata[i];
                g_string_append_printf(s, "%s%d (%s) has ", i ? ", " : "", u->pid, u->comm);
                for (guint k = 0; k < u->nodes->len; k++)
                        g_string_append_printf(s, "%s%s", k ? ", " : "",
                                               (char *)u->nodes->pdata[k]);
                g_string_append(s, " open");
        }
        if (clients && clients->len > CLIENTS_SHOWN)
                g_string_append_printf(s, " and %u more", clients->len - CLIENTS_SHOWN);
        return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- the console's framebuffer */

void hd_framebuffer_free(HdFramebuffer *fb)
{
        if (!fb)
                return;
        g_free(fb->fb);
        g_free(fb->name);
        g_free(fb->driver);
        g_free(fb);
}

/* The firmware framebuffer drivers by the name they give in proc/fb (fix.id), and the
 * platform device sysfb registers for them. */
static const char *firmware_fb_driver(const char *name, const char *device)
{
        static const struct {
                const char *name, *driver;
        } ids[] = {
            {"EFI VGA", "efifb"},       {"VESA VGA", "vesafb"},
            {"simple", "simplefb"},     {"simpledrmdrmfb", "simpledrm"},
            {"simpledrm", "simpledrm"}, {"VGA16 VGA", "vga16fb"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(ids); i++)
                if (strcmp(name, ids[i].name) == 0)
                        return ids[i].driver;
        if (device && g_str_has_prefix(device, "efi-framebuffer"))
                return "efifb";
        if (device && g_str_has_prefix(device, "vesa-framebuffer"))
                return "vesafb";
        if (device && g_str_has_prefix(device, "simple-framebuffer"))
                return "simplefb";
        return NULL;
}

/* Whether @words hold every argument of release-framebuffer. */
static gboolean words_release(GPtrArray *words)
{
        g_auto(GStrv) wanted = g_strsplit(HD_FRAMEBUFFER_RELEASE_ARGS, " ", -1);

        if (!words)
                return FALSE;
        for (char **w = wanted; *w; w++) {
                gboolean found = FALSE;
                for (guint i = 0; i < words->len; i++)
                        if (hd_cmdline_arg_equal(words->pdata[i], *w))
                                found = TRUE;
                if (!found)
                        return FALSE;
        }
        return TRUE;
}

/* The running command line (proc/cmdline) has them. */
static gboolean release_in_cmdline(HdCtx *ctx)
{
        g_autofree char *line = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), "proc/cmdline");
        g_autoptr(GPtrArray) words = line ? hd_cmdline_split(line, NULL) : NULL;

        return words_release(words);
}

/* The command line the bootloader boots next has them (as `kernel-args` reads it). */
static gboolean release_configured(HdCtx *ctx)
{
        HdKernelArgsRequest req = {NULL, NULL, NULL, NULL};
        g_autoptr(HdKernelArgs) ka = hd_kernel_args_plan(ctx, &req, NULL);

        return ka && words_release(ka->configured);
}

HdFramebuffer *hd_usage_framebuffer(HdCtx *ctx, const HdDevice *dev)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *proc_fb = hd_read_file_at(root_fd, "proc/fb", 1 << 16, NULL);
        g_autofree char *fb_dir = hd_device_attr_path(&dev->address, "graphics");
        g_autoptr(GPtrArray) own = hd_list_dir_at(root_fd, fb_dir, NULL);
        g_auto(GStrv) lines = NULL;

        if (!proc_fb)
                return NULL;
        lines = g_strsplit(proc_fb, "\n", -1);
        for (char **l = lines; *l; l++) {
                char *space = strchr(*l, ' ');
                g_autofree char *fb = NULL;
                g_autofree char *dev_link = NULL;
                g_autofree char *platform = NULL;
                const char *name;
                const char *fw;
                gint64 n;
                gboolean mine = FALSE;

                if (!space)
                        continue;
                *space = '\0';
                name = space + 1;
                if (!hd_parse_int(*l, 0, 31, &n))
                        continue;
                fb = g_strdup_printf("fb%d", (int)n);
                for (guint i = 0; own && i < own->len; i++)
                        if (strcmp(own->pdata[i], fb) == 0)
                                mine = TRUE;
                if (mine) {
                        HdFramebuffer *out = g_new0(HdFramebuffer, 1);
                        out->fb = g_steal_pointer(&fb);
                        out->name = g_strdup(name);
                        out->driver = g_strdup(dev->driver);
                        out->console = hd_device_is_boot_vga(dev);
                        return out;
                }
                if (!hd_device_is_boot_vga(dev))
                        continue;
                dev_link = g_strdup_printf("sys/class/graphics/%s/device", fb);
                platform = hd_readlink_basename_at(root_fd, dev_link);
                fw = firmware_fb_driver(name, platform);
                if (fw) {
                        HdFramebuffer *out = g_new0(HdFramebuffer, 1);
                        out->fb = g_steal_pointer(&fb);
                        out->name = g_strdup(name);
                        out->driver = g_strdup(fw);
                        out->firmware = TRUE;
                        out->console = TRUE;
                        out->release_in_cmdline = release_in_cmdline(ctx);
                        out->release_configured =
                            !out->release_in_cmdline && release_configured(ctx);
                        return out;
                }
        }
        return NULL;
}

char *hd_framebuffer_describe(HdCtx *ctx, const HdFramebuffer *fb)
{
        g_autofree char *cmd = NULL;

        if (!fb->firmware)
                return g_strdup_printf("%s on %s (%s) of %s",
                                       fb->console ? "the console is" : "a framebuffer is", fb->fb,
                                       fb->name, fb->driver ? fb->driver : "its driver");
        if (fb->release_in_cmdline)
                return g_strdup_printf(
                    "the console is on %s (%s) of %s, the firmware's framebuffer in this "
                    "GPU's memory, although the running kernel has " HD_FRAMEBUFFER_RELEASE_ARGS,
                    fb->fb, fb->name, fb->driver);
        if (fb->release_configured)
                return g_strdup_printf(
                    "the console is on %s (%s) of %s, the firmware's framebuffer in this "
                    "GPU's memory, which vfio-pci cannot reserve while %s holds it; the "
                    "kernel arguments that release it (" HD_FRAMEBUFFER_RELEASE_ARGS
                    ") are configured for the next boot: reboot",
                    fb->fb, fb->name, fb->driver, fb->driver);
        cmd = hd_hint_kernel_args_enable(ctx, HD_FRAMEBUFFER_RELEASE_OPTION);
        return g_strdup_printf("the console is on %s (%s) of %s, the firmware's framebuffer in "
                               "this GPU's memory, which vfio-pci cannot reserve while %s holds "
                               "it; %s (" HD_FRAMEBUFFER_RELEASE_ARGS
                               ") releases it at the next boot",
                               fb->fb, fb->name, fb->driver, fb->driver, cmd);
}

char *hd_usage_vm_of_pid(HdCtx *ctx, int pid)
{
        g_autofree char *path = g_strdup_printf("proc/%d/cmdline", pid);
        g_autoptr(GBytes) bytes = NULL;
        g_auto(GStrv) args = NULL;
        const char *name = NULL;
        g_autoptr(GString) out = NULL;
        const char *data;
        gsize len = 0;

        bytes = hd_read_bytes_at(hd_ctx_get_root_fd(ctx), path, 1 << 20, NULL);
        if (!bytes)
                return NULL;
        data = g_bytes_get_data(bytes, &len);
        if (!data || len == 0)
                return NULL;
        {
                /* the arguments are NUL-separated; the last one may lack its NUL */
                g_autofree char *copy = g_malloc(len + 1);
                g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
                gsize start = 0;

                memcpy(copy, data, len);
                copy[len] = '\0';
                for (gsize i = 0; i <= len; i++) {
                        if (copy[i] != '\0')
                                continue;
                        if (i > start || i < len)
                                g_ptr_array_add(list, g_strndup(copy + start, i - start));
                        start = i + 1;
                }
                g_ptr_array_add(list, NULL);
                args = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
        }
        for (char **a = args; *a; a++) {
                if (strcmp(*a, "-name") == 0 && a[1]) {
                        name = a[1];
                        break;
                }
                if (g_str_has_prefix(*a, "-name=")) {
                        name = *a + 6;
                        break;
                }
        }
        if (!name)
                return NULL;
        if (g_str_has_prefix(name, "guest="))
                name += 6;
        /* QEMU's option syntax: ",," is a comma in the value, a single "," ends it */
        out = g_string_new(NULL);
        for (const char *p = name; *p; p++) {
                if (*p == ',') {
                        if (p[1] != ',')
                                break;
                        p++;
                }
                g_string_append_c(out, *p);
        }
        if (out->len == 0)
                return NULL;
        return g_string_free(g_steal_pointer(&out), FALSE);
}
