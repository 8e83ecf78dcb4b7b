/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the host is doing with a device right now, from procfs below the root: routes and
 * addresses on its network interfaces, mounts and swap on its block devices (with their
 * holders: dm, md), processes holding its IOMMU group's /dev/vfio/N open.
 *
 * These are the facts that make a detach dangerous; bind.c turns them into refusals. They are
 * read fresh every time (a route appears, a VM starts) and never cached.
 */
#pragma once

#include <glib.h>

#include "ctx.h"
#include "device.h"

typedef enum {
        HD_NET_IDLE,          /* no route, no global address */
        HD_NET_ADDRESS,       /* a global IPv6 address or a route */
        HD_NET_DEFAULT_ROUTE, /* carries the host's default route */
} HdNetUse;

/* The strongest use of interface @ifname; *detail gets a short explanation
 * ("carries the default route via 192.168.1.1") when not idle. */
HdNetUse hd_usage_netdev(HdCtx *ctx, const char *ifname, char **detail);

/* The mounts and swap areas sitting on @blockdev or anything that holds it (partitions are
 * separate names; dm/md holders are followed). Each entry is "/dev/nvme0n1p2 on /"; *is_root
 * is set when one of them is the root filesystem. NULL when unused. */
GPtrArray *hd_usage_blockdev(HdCtx *ctx, const char *blockdev, gboolean *is_root);

/* Processes with /dev/vfio/@group open: "1234 (qemu-system-x86)" each; empty when none. */
GPtrArray *hd_usage_group_holders(HdCtx *ctx, int group);

/* Everything above for one device (loaded with HD_FIELD_USERS and HD_FIELD_IOMMU), as short
 * sentences for people: "enp3s0 carries the default route via 192.168.1.1",
 * "/dev/nvme0n1p2 on /", "IOMMU group 7 is held open by 1234 (qemu-system-x86)". Empty when
 * the host does not use the device. */
GPtrArray *hd_usage_describe(HdCtx *ctx, const HdDevice *dev);

/* Host use of every PCI device at once, from one pass over sys/class/net and sys/class/block:
 * canonical address -> GPtrArray of sentences as hd_usage_describe() gives them (network and
 * storage only). Devices the host does not use are absent. For listing many devices without
 * a per-device walk of the class directories. */
GHashTable *hd_usage_index(HdCtx *ctx);
