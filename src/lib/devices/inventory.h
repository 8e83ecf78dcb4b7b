/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HdInventory: every PCI device of a root and its IOMMU groups, from one scan.
 *
 * The scan lists sys/bus/pci/devices once, sorts the names as addresses, and loads each
 * device through its own directory descriptor with only the requested fields. Entries that
 * are not device names are skipped; a device that vanishes between the listing and its load
 * is dropped (hot-unplug) rather than failing the scan. Groups are built from the devices'
 * iommu_group links, so no second walk of sys/kernel/iommu_groups is needed.
 */
#pragma once

#include <glib.h>

#include "ctx.h"
#include "device.h"
#include "group.h"

typedef struct {
        guint fields;
        GPtrArray *devices;    /* HdDevice*, sorted by address, owned */
        GHashTable *by_name;   /* canonical address -> HdDevice* (borrowed) */
        GPtrArray *groups;     /* HdGroup*, sorted by number, owned; empty without IOMMU */
        GHashTable *by_group;  /* GINT_TO_POINTER(number) -> HdGroup* (borrowed) */
} HdInventory;

HdInventory *hd_inventory_scan(HdCtx *ctx, guint fields, GError **error);
void hd_inventory_free(HdInventory *inv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdInventory, hd_inventory_free)

HdDevice *hd_inventory_lookup(const HdInventory *inv, const char *name);
HdGroup *hd_inventory_lookup_group(const HdInventory *inv, int number);

/* The addresses listed in sys/kernel/iommu_groups/N/devices, sorted; empty when there is no
 * such group. */
GArray *hd_iommu_group_addresses(HdCtx *ctx, int group);


/* The IOMMU groups that hold a PCI device. An mediated device (mdev) gets an emulated IOMMU
 * group of its own, its member named by its UUID, even on a machine without an IOMMU: groups
 * of such members alone say nothing about an IOMMU and are not counted. */
guint hd_iommu_pci_group_count(HdCtx *ctx);

/* Whether the host has an IOMMU the kernel uses for PCI devices: an IOMMU unit the kernel
 * registered (sys/class/iommu) and a group holding a PCI device; never the mere existence of
 * sys/kernel/iommu_groups entries, which mdevs create without an IOMMU. */
gboolean hd_host_has_iommu_groups(HdCtx *ctx);
