/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Proof that a VMM can use a device: do what QEMU does with it, up to the point where memory
 * would be mapped.
 *
 *   open /dev/vfio/vfio          VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION(TYPE1_IOMMU)
 *   open /dev/vfio/<group>       VFIO_GROUP_GET_STATUS (viable?), VFIO_GROUP_SET_CONTAINER
 *   on the container             VFIO_SET_IOMMU(TYPE1)
 *   on the group                 VFIO_GROUP_GET_DEVICE_FD(address)
 *   on the device                VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO per region,
 *                                VFIO_DEVICE_GET_IRQ_INFO per interrupt index
 *
 * The work goes through the backend (vfio_inspect): on a host the real backend issues the
 * ioctls; on a fixture /dev/vfio/N is a regular file and the sim backend answers from the
 * tree instead (see backend-sim.c for what it can and cannot know).
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"

/* Indexes as in linux/vfio.h (VFIO_PCI_*_REGION_INDEX, VFIO_PCI_*_IRQ_INDEX). */
#define HD_VFIO_REGION_CONFIG 7
#define HD_VFIO_REGION_VGA 8
#define HD_VFIO_IRQ_INTX 0
#define HD_VFIO_IRQ_MSI 1
#define HD_VFIO_IRQ_MSIX 2

typedef struct {
        guint index;
        guint64 size;
        gboolean readable, writable, mmap;
} HdVfioRegion;

typedef struct {
        guint index;
        guint count;
} HdVfioIrq;

struct HdVfioInfo {
        int api_version;        /* VFIO_API_VERSION is 0 */
        gboolean type1;         /* VFIO_TYPE1_IOMMU (or TYPE1v2) supported */
        int group;
        gboolean viable;
        gboolean reset;         /* VFIO_DEVICE_FLAGS_RESET: the device can be reset */
        guint num_regions;
        guint num_irqs;
        GArray *regions;        /* HdVfioRegion, only regions with a size */
        GArray *irqs;           /* HdVfioIrq, every index */
        const char *source;     /* "kernel" or "sim" */
};

/* Allocate the arrays; hd_vfio_info_clear() frees them. */
void hd_vfio_info_init(HdVfioInfo *info);
void hd_vfio_info_clear(HdVfioInfo *info);

/* Inspect @address as a VMM would. Errors: HD_ERROR_NOT_FOUND (no such device),
 * HD_ERROR_NOT_SUPPORTED (vfio not loaded, no TYPE1), HD_ERROR_REFUSED (no IOMMU group, as
 * hd_bind_detach() says; the device is not on vfio-pci, or the group is not viable: the
 * message names the members in the way), HD_ERROR_BUSY (a VM or another process holds the group).
 */
gboolean hd_vfio_verify(HdCtx *ctx, const HdAddress *address, HdVfioInfo *info, GError **error);

/* The real kernel's answer through the ioctls; the real backend's vfio_inspect. */
gboolean hd_vfio_inspect_kernel(HdCtx *ctx, int root_fd, int group, const char *address,
                                HdVfioInfo *info, GError **error);

/* Region names for output: "BAR0".."BAR5", "ROM", "config", "VGA". */
const char *hd_vfio_region_name(guint index);
/* Interrupt index names: "INTx", "MSI", "MSI-X", "ERR", "REQ". */
const char *hd_vfio_irq_name(guint index);
