/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF layouts that survive a reboot (`hostdev sriov PF --numvfs N --persist`).
 *
 * VFs vanish at every reboot; the PF's driver makes them again only when told. A udev rule per
 * PF tells it, once the PF has its driver:
 *
 *   ACTION=="add|bind", SUBSYSTEM=="pci", KERNEL=="0000:18:00.0", DRIVER=="?*",
 *     ATTR{vendor}=="0x8086", ATTR{device}=="0x1592", ATTR{sriov_drivers_autoprobe}="0",
 *     ATTR{sriov_numvfs}="4"
 *
 * "bind" is the event of the driver binding (the count cannot be written before: ENOENT);
 * "add" with DRIVER set is the replay of a device whose driver bound in the initramfs, when
 * systemd-udev-trigger replays every device after the switch to the root filesystem. udev
 * applies assignments in order: autoprobe first, since it acts only on VFs created after it.
 * The PF's ids are matched, as persist.h's rules match theirs, so another card moved into the
 * slot is left alone. Writing the count the PF already has is a no-op for the kernel.
 *
 * The VFs' own bindings are persist.h's per-address rules (`hostdev detach VF --persist`):
 * VF addresses follow from the PF's (offset and stride), so they are the same at every boot;
 * those rules set driver_override when a VF is added and, VFs being made with autoprobe 0,
 * probe it themselves.
 *
 * Files (through the backend):
 *   etc/hostdev/sriov.d/<pf>                  numvfs=, autoprobe= (0, 1; -1: left alone),
 *                                             and the PF's vendor=, device=
 *   etc/udev/rules.d/60-hostdev-sriov.rules   generated from sriov.d (removed when empty)
 *
 * Invariants: entries and the rules change under run/hostdev/sriov-persist.lock (persist.h
 * P1); only names that are addresses and numbers that parse reach the rules (P2).
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef struct {
        char *pf;           /* address */
        int numvfs;         /* VFs made at boot */
        int autoprobe;      /* written before them: 0, 1; -1 not written */
        int vendor_id, device_id; /* the PF the layout is for; -1 when not recorded */
        char *not_applied;  /* why the rule will not act at the next boot, NULL when it will */
} HdSriovPersistEntry;

void hd_sriov_persist_entry_free(HdSriovPersistEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdSriovPersistEntry, hd_sriov_persist_entry_free)

/* Record (or replace) @pf's layout at boot and regenerate the rules. */
gboolean hd_sriov_persist_set(HdCtx *ctx, const char *pf, int numvfs, int autoprobe,
                              GError **error);
/* Drop @pf's layout (FALSE with HD_ERROR_NOT_FOUND when none), then regenerate. */
gboolean hd_sriov_persist_remove(HdCtx *ctx, const char *pf, GError **error);
/* @pf's entry, NULL when none. */
HdSriovPersistEntry *hd_sriov_persist_get(HdCtx *ctx, const char *pf);
/* Every entry, by address. */
GPtrArray *hd_sriov_persist_list(HdCtx *ctx);
