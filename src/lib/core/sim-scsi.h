/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sim backend's FC transport: NPIV vport_create / vport_delete (sim-scsi.c says what). */
#pragma once

#include <glib.h>

#include "backend.h"

/* Whether @path (below the root) is an attribute sim-scsi.c imitates. */
gboolean hd_sim_scsi_handles(const char *path);

/* Write @value to @path as the FC transport class would (the sim's lock held). */
gboolean hd_sim_scsi_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                           GError **error);
