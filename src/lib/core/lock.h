/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Locks that keep two hostdev processes (the CLI, the agent) from interleaving their writes on
 * one IOMMU group: one lock file per group, run/hostdev/group-N.lock below the root, held with
 * flock() for the whole transaction including its rollback. Different groups are independent.
 *
 * Taking a lock never waits: a second detach or attach on a group that another process is
 * changing fails at once with HD_ERROR_BUSY naming the holder's pid. Waiting would hide a
 * stuck process and make two admins' commands race for whichever comes second; failing says
 * who is in the way. The lock dies with its process, so a crash never leaves a group locked
 * (its journal is what recovery then finds).
 *
 * The holder's pid: the holder writes it into the lock file just after taking the lock and
 * empties the file before releasing it, and a contender takes the pid from the kernel's table
 * of locks (/proc/locks, by the file's device and inode) first, so the message names the
 * holder even in the moment between its flock() and its write; a pid left in the file by a
 * process that is gone is never named.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef struct HdGroupLocks HdGroupLocks;

/* Lock every group in @groups (ints; -1 stands for "no IOMMU group" and is skipped), in
 * ascending order. On failure nothing stays locked. */
HdGroupLocks *hd_group_locks_acquire(HdCtx *ctx, GArray *groups, GError **error);
void hd_group_locks_release(HdGroupLocks *locks);
/* One lock of another kind, with the same rules (never waits; BUSY naming the holder):
 * run/hostdev/@name.lock, @name one path component ("mdev-mtty"); @what names the thing in
 * messages ("mdev parent mtty"). Released with hd_group_locks_release(). */
HdGroupLocks *hd_named_lock_acquire(HdCtx *ctx, const char *name, const char *what,
                                    GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdGroupLocks, hd_group_locks_release)

/* The pid of the live process holding the lock of @group, 0 when nobody holds it (or the
 * holder cannot be known). Changes nothing: no lock file is created, no lock taken (for the
 * read-only commands that report interrupted operations). */
int hd_group_lock_holder(HdCtx *ctx, int group);
