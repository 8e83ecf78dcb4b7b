/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's device reset; the rules are at the top of reset.h. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "inventory.h"
#include "lock.h"
#include "reset.h"
#include "state.h"

void hd_reset_report_free(HdResetReport *r)
{
        if (!r)
                return;
        g_free(r->device);
        g_free(r->method);
        if (r->also_reset)
                g_ptr_array_unref(r->also_reset);
        g_free(r);
}

static gboolean is_bus_method(const char *m)
{
        return strcmp(m, "bus") == 0 || strcmp(m, "cxl_bus") == 0;
}

/* Rules 1 and 2 for @dev (state decided by the state module). @why: "" or " (on the bus of
 * 0000:03:00.0, which a bus reset reaches)". */
static gboolean check_released(const HdDevice *dev, const HdGroup *group, const char *why,
                               GError **error)
{
        if (dev->driver && !hd_driver_is_vfio(dev->driver) && strcmp(dev->driver, "pci-stub") != 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s%s is on %s: a reset would pull it from under its host driver; "
                            "hostdev detach %s first",
                            dev->name, why, dev->driver, dev->name);
                return FALSE;
        }
        if (group && group->holders && group->holders->len > 0) {
                g_autofree char *who = hd_holder_describe(group->holders->pdata[0]);
                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "%s%s is in use: its IOMMU group %d is held open by %s; stop it "
                            "first",
                            dev->name, why, group->number, who);
                return FALSE;
        }
        return TRUE;
}

static char *join_methods(char **methods)
{
        return methods && *methods ? g_strjoinv(", ", methods) : g_strdup("none");
}

HdResetReport *hd_device_reset(HdCtx *ctx, const HdAddress *addr, const char *method,
                               GError **error)
{
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(HdResetReport) r = g_new0(HdResetReport, 1);
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
        g_autofree char *reset_path = NULL;
        g_autofree char *method_path = NULL;
        g_autofree char *saved = NULL;
        char name[HD_ADDRESS_STRLEN];
        HdGroupLocks *locks;
        HdDevice *dev;
        gboolean ok;
        struct stat st;

        hd_address_format(addr, name);
        inv = hd_inventory_scan(ctx, HD_FIELDS_LIST | HD_FIELD_RESET, error);
        if (!inv)
                return NULL;
        hd_state_evaluate_inventory(ctx, inv);
        dev = hd_inventory_lookup(inv, name);
        if (!dev) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no PCI device %s on this machine; hostdev list shows the devices",
                            name);
                return NULL;
        }
        reset_path = g_strdup_printf("sys/bus/pci/devices/%s/reset", name);
        if (!hd_stat_at(hd_ctx_get_root_fd(ctx), reset_path, FALSE, &st)) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s cannot be reset: the kernel offers no reset for it (no reset "
                            "attribute); only a power cycle of the host resets it",
                            name);
                return NULL;
        }
        if (method) {
                if (!dev->reset_methods || !g_strv_contains((const char *const *)dev->reset_methods,
                                                            method)) {
                        g_autofree char *have = join_methods(dev->reset_methods);
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%s has no %s reset; the kernel offers: %s", name, method,
                                    have);
                        return NULL;
                }
                r->method = g_strdup(method);
        } else if (dev->reset_methods && *dev->reset_methods) {
                r->method = g_strdup(dev->reset_methods[0]);
        } else {
                r->method = g_strdup("unknown");
        }
        r->kernel_chose = g_strcmp0(dev->reset_source, "kernel") != 0;
        if (r->kernel_chose && method) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "this kernel cannot be told which reset to use for %s (no "
                            "reset_method attribute, before Linux 5.15); hostdev reset %s "
                            "lets it choose (%s first)",
                            name, name, r->method);
                return NULL;
        }
        r->device = g_strdup(name);
        r->also_reset = g_ptr_array_new_with_free_func(g_free);
        if (!check_released(dev, hd_inventory_lookup_group(inv, dev->iommu_group), "", error))
                return NULL;
        g_array_append_val(groups, dev->iommu_group);
        if (is_bus_method(r->method)) {
                for (guint i = 0; i < inv->devices->len; i++) {
                        const HdDevice *o = inv->devices->pdata[i];
                        g_autofree char *why = NULL;
                        if (o == dev || o->address.domain != dev->address.domain ||
                            o->address.bus != dev->address.bus)
                                continue;
                        why = g_strdup_printf(" (on the bus of %s, which a %s reset reaches)",
                                              name, r->method);
                        if (!check_released(o, hd_inventory_lookup_group(inv, o->iommu_group),
                                            why, error))
                                return NULL;
                        g_ptr_array_add(r->also_reset, g_strdup(o->name));
                        g_array_append_val(groups, o->iommu_group);
                }
        }
        r->dry_run = hd_ctx_get_dry_run(ctx);
        locks = hd_group_locks_acquire(ctx, groups, error);
        if (!locks)
                return NULL;
        method_path = g_strdup_printf("sys/bus/pci/devices/%s/reset_method", name);
        if (!r->kernel_chose) {
                saved = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), method_path);
                if (saved)
                        g_strstrip(saved);
        }
        ok = (!saved || hd_ctx_write(ctx, method_path, r->method, error)) &&
             hd_ctx_write(ctx, reset_path, "1", error);
        /* the kernel's list back, whatever happened (an empty list: its default) */
        if (saved) {
                g_autoptr(GError) local = NULL;
                if (!hd_ctx_write(ctx, method_path, *saved ? saved : "default", &local) && ok) {
                        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                                   "%s was reset, but its reset methods could "
                                                   "not be restored to \"%s\": ",
                                                   name, saved);
                        ok = FALSE;
                }
        }
        hd_group_locks_release(locks);
        if (!ok) {
                g_prefix_error(error, "resetting %s (%s): ", name, r->method);
                return NULL;
        }
        return g_steal_pointer(&r);
}

char *hd_device_reset_warning(const char *const *reset_methods, const char *device,
                              guint bus_mates)
{
        static const char *const strong[] = { "flr", "af_flr", "device_specific", "acpi", NULL };
        g_autofree char *have = NULL;

        for (const char *const *m = reset_methods; m && *m; m++)
                if (g_strv_contains(strong, *m))
                        return NULL;
        if (bus_mates == 0)
                return NULL;
        have = reset_methods && *reset_methods ? g_strjoinv(", ", (char **)reset_methods)
                                               : g_strdup("none");
        return g_strdup_printf("%s has no function-level reset (only: %s) and shares its bus with "
                               "%u other device%s: the device may not come back after a VM "
                               "restart (the reset left is weak or reaches them too); give the "
                               "VM every device on its bus so that QEMU can reset the bus, or "
                               "for an AMD GPU load the vendor-reset module",
                               device, have, bus_mates, bus_mates == 1 ? "" : "s");
}

guint hd_inventory_bus_mates(const HdInventory *inv, const HdDevice *dev)
{
        guint n = 0;

        /* a root bus has no bridge above it to reset it */
        if (!dev->upstream || dev->upstream->len == 0)
                return 0;
        for (guint i = 0; i < inv->devices->len; i++) {
                const HdDevice *d = inv->devices->pdata[i];
                n += d->address.domain == dev->address.domain &&
                     d->address.bus == dev->address.bus && !hd_address_equal(&d->address, &dev->address);
        }
        return n;
}
