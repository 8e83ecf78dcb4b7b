/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sim backend's imitation of the mdev core (sim-mdev.c); backend-sim.c dispatches to it. */
#pragma once

#include <glib.h>

#include "ctx.h"

/* Whether @path (below the root) is an mdev control file: .../mdev_supported_types/T/create
 * or sys/bus/mdev/devices/UUID/remove. */
gboolean hd_sim_mdev_handles(const char *path);
/* Carry out the write of @value to @path as the kernel would (the caller holds the sim lock
 * and has injected faults already). */
gboolean hd_sim_mdev_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                           GError **error);
