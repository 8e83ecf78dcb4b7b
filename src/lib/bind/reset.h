/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resetting a device the way `virsh nodedev-reset` does, with the kernel's reset: the sysfs
 * `reset` attribute, with the method chosen and reported.
 *
 * Rules (each refusal names the device and says what to do):
 * 1. Only a device the host has let go of: on vfio-pci, pci-stub or no driver. A reset under a
 *    host driver pulls the device from under it (hostdev detach first).
 * 2. Not while a process (a VM) holds its IOMMU group open: the VM would see its device reset
 *    under it (stop the VM first).
 * 3. The method: the one asked for, which must be among the kernel's (reset_method), else
 *    the kernel's first. On kernels with reset_method (5.15+) the method is written there
 *    for the reset and the previous list restored after it, so the report says what was
 *    used; on older kernels the kernel chooses and the report says which it tries first.
 * 4. A bus reset (bus, cxl_bus) resets every device on the bus: each of the others must pass
 *    rules 1 and 2 too, and the report lists them.
 * 5. The device's IOMMU group is locked (lock.h) for the whole reset, as detach does.
 *
 * Dry run (hd_ctx_set_dry_run): the checks, and the writes recorded, not made.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"
#include "inventory.h"

typedef struct {
        char *device;
        char *method;          /* the method used (or that the kernel tries first) */
        gboolean kernel_chose; /* no reset_method attribute: the kernel picked */
        GPtrArray *also_reset; /* char*: other devices a bus reset reached */
        gboolean dry_run;
} HdResetReport;

void hd_reset_report_free(HdResetReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdResetReport, hd_reset_report_free)

/* @method NULL: the kernel's first. */
HdResetReport *hd_device_reset(HdCtx *ctx, const HdAddress *addr, const char *method,
                               GError **error);

/* Why the device may not come back after a VM restart, or NULL: it has no function-level
 * reset (no flr, af_flr, device_specific or acpi method: only pm and/or bus, or none) and it
 * shares its bus with other devices, so the reset that remains is weak (pm, often skipped
 * by No_Soft_Reset parts) or reaches them too (bus): AMD GPUs without FLR are the usual case.
 * @bus_mates: how many other devices a reset of its bus reaches (0 on a root bus). */
char *hd_device_reset_warning(const char *const *reset_methods, const char *device,
                              guint bus_mates);

/* How many devices of @inv other than @dev a reset of its bus reaches (0 on a root bus, which
 * no bridge can reset; @dev needs HD_FIELD_TOPOLOGY). */
guint hd_inventory_bus_mates(const HdInventory *inv, const HdDevice *dev);
