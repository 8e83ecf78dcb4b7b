/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "hd-error.h"
#include "inventory.h"
#include "macros.h"

static gint compare_addresses(gconstpointer a, gconstpointer b)
{
        return hd_address_compare(a, b);
}

static gint compare_groups(gconstpointer a, gconstpointer b)
{
        const HdGroup *ga = *(HdGroup *const *)a;
        const HdGroup *gb = *(HdGroup *const *)b;

        return (ga->number > gb->number) - (ga->number < gb->number);
}

/* List the device names as addresses, sorted. One getdents pass, no stat. */
static GArray *list_addresses(HdCtx *ctx, GError **error)
{
        int fd = dup(hd_ctx_get_pci_devices_fd(ctx));
        g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        DIR *dir;
        struct dirent *de;

        if (fd < 0 || !(dir = fdopendir(fd))) {
                int err = errno;
                if (fd >= 0)
                        close(fd);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot list %s/sys/bus/pci/devices: %s", hd_ctx_get_root(ctx),
                            g_strerror(err));
                return NULL;
        }
        rewinddir(dir);
        while ((de = readdir(dir))) {
                HdAddress a;
                if (hd_address_parse_sysfs_name(de->d_name, &a))
                        g_array_append_val(addrs, a);
        }
        closedir(dir);
        g_array_sort(addrs, compare_addresses);
        return g_steal_pointer(&addrs);
}

HdInventory *hd_inventory_scan(HdCtx *ctx, guint fields, GError **error)
{
        g_autoptr(HdInventory) inv = g_new0(HdInventory, 1);
        g_autoptr(GArray) addrs = NULL;

        inv->fields = fields;
        inv->devices = g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);
        inv->by_name = g_hash_table_new(g_str_hash, g_str_equal);
        inv->groups = g_ptr_array_new_with_free_func((GDestroyNotify)hd_group_free);
        inv->by_group = g_hash_table_new(g_direct_hash, g_direct_equal);

        addrs = list_addresses(ctx, error);
        if (!addrs)
                return NULL;
        for (guint i = 0; i < addrs->len; i++) {
                const HdAddress *a = &g_array_index(addrs, HdAddress, i);
                char name[HD_ADDRESS_STRLEN];
                hd_autofd int dfd = -1;
                HdDevice *dev;

                hd_address_format(a, name);
                dfd = hd_ctx_open_device_dir(ctx, name);
                if (dfd < 0) {
                        hd_ctx_log(ctx, HD_LOG_DEBUG, "%s vanished during the scan: %s", name,
                                   g_strerror(errno));
                        continue;
                }
                dev = hd_device_load_at(ctx, dfd, a, fields, inv->by_name);
                g_ptr_array_add(inv->devices, dev);
                g_hash_table_insert(inv->by_name, dev->name, dev);
        }

        if (fields & HD_FIELD_IOMMU) {
                for (guint i = 0; i < inv->devices->len; i++) {
                        HdDevice *dev = inv->devices->pdata[i];
                        HdGroup *group;

                        if (dev->iommu_group < 0)
                                continue;
                        group = g_hash_table_lookup(inv->by_group,
                                                    GINT_TO_POINTER(dev->iommu_group));
                        if (!group) {
                                group = hd_group_new(dev->iommu_group);
                                g_ptr_array_add(inv->groups, group);
                                g_hash_table_insert(inv->by_group,
                                                    GINT_TO_POINTER(dev->iommu_group), group);
                        }
                        g_ptr_array_add(group->members, dev);
                }
                g_ptr_array_sort(inv->groups, compare_groups);
        }
        return g_steal_pointer(&inv);
}

void hd_inventory_free(HdInventory *inv)
{
        if (!inv)
                return;
        if (inv->by_group)
                g_hash_table_unref(inv->by_group);
        if (inv->groups)
                g_ptr_array_unref(inv->groups);
        if (inv->by_name)
                g_hash_table_unref(inv->by_name);
        if (inv->devices)
                g_ptr_array_unref(inv->devices);
        g_free(inv);
}

HdDevice *hd_inventory_lookup(const HdInventory *inv, const char *name)
{
        return g_hash_table_lookup(inv->by_name, name);
}

HdGroup *hd_inventory_lookup_group(const HdInventory *inv, int number)
{
        return g_hash_table_lookup(inv->by_group, GINT_TO_POINTER(number));
}

GArray *hd_iommu_group_addresses(HdCtx *ctx, int group)
{
        g_autofree char *dir = g_strdup_printf("kernel/iommu_groups/%d/devices", group);
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_sys_fd(ctx), dir, NULL);
        GArray *out = g_array_new(FALSE, FALSE, sizeof(HdAddress));

        for (guint i = 0; names && i < names->len; i++) {
                HdAddress a;
                if (hd_address_parse_sysfs_name(names->pdata[i], &a))
                        g_array_append_val(out, a);
        }
        g_array_sort(out, compare_addresses);
        return out;
}


guint hd_iommu_pci_group_count(HdCtx *ctx)
{
        g_autoptr(GPtrArray) groups =
                hd_list_dir_at(hd_ctx_get_sys_fd(ctx), "kernel/iommu_groups", NULL);
        guint n = 0;

        for (guint i = 0; groups && i < groups->len; i++) {
                g_autofree char *dir =
                        g_strdup_printf("kernel/iommu_groups/%s/devices", (char *)groups->pdata[i]);
                g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_sys_fd(ctx), dir, NULL);
                for (guint k = 0; names && k < names->len; k++) {
                        HdAddress a;
                        if (hd_address_parse_sysfs_name(names->pdata[k], &a)) {
                                n++;
                                break;
                        }
                }
        }
        return n;
}

gboolean hd_host_has_iommu_groups(HdCtx *ctx)
{
        g_autoptr(GPtrArray) units = hd_list_dir_at(hd_ctx_get_sys_fd(ctx), "class/iommu", NULL);

        return units && units->len > 0 && hd_iommu_pci_group_count(ctx) > 0;
}
