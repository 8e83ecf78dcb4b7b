/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots: capture what the library reads from a machine into a directory tree of the same
 * shape, so that `hostdev --root DIR` on the unpacked copy replays that machine. For bug
 * reports ("attach `hostdev snapshot`") and for test fixtures.
 *
 * Captured: every PCI device directory (its readable attributes, config space, and links:
 * driver, iommu_group, physfn, virtfnN, subsystem), the bus and driver directories with their
 * links, the IOMMU groups, sys/class/{iommu,net,block,drm} entries that belong to PCI
 * devices, SCSI LUNs, adapters and FC ports (sys/bus/scsi/devices, sys/class/{scsi_host,
 * fc_host,fc_vports}, dev/disk/by-id, the dm and md devices stacked on disks), the presence of
 * the ACPI DMAR/IVRS tables (not their contents), the modules the
 * tool cares about, and from procfs and /etc the files the readiness checks and the kernel
 * command line read. Never captured: memory-mapped BARs (resourceN), ROMs, MAC addresses.
 * Write-only kernel files become empty regular files so the sim backend can take writes.
 *
 * Faithful replay: every command says on the snapshot what it says on the machine. Kernel
 * files are read the way procfs wants (small reads until EOF: a sysctl refuses a large read
 * with ENOMEM). What the machine does not have is recorded, not just left out: the
 * directory it would be in is created when the machine has it (sys/firmware/acpi/tables
 * without DMAR reads as "no IOMMU table", not as "no ACPI data"), and the manifest
 * HD_SNAPSHOT_MANIFEST at the top of the tree lists every path looked for and absent
 * ({"format": 1, "absent": ["sys/firmware/acpi/tables/IVRS", ...]}).
 */
#pragma once

#include <glib.h>

#include "ctx.h"

#define HD_SNAPSHOT_MANIFEST "hostdev-snapshot.json"

/* Copy into @dest_dir (created, must not exist). Counts of what was copied go to the log. */
gboolean hd_snapshot_capture(HdCtx *ctx, const char *dest_dir, GError **error);
