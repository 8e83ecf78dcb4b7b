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


/* Whether the host has an IOMMU the kernel uses (sys/kernel/iommu_groups is not empty). */
gboolean hd_host_has_iommu_groups(HdCtx *ctx);
