/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend: imitates the kernel on a tree shaped like sysfs.
 */
#include "config.h"

#include "backend.h"
#include "ctx.h"
#include "fileio.h"
#include "hd-error.h"

static gboolean sim_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                          GError **error)
{
        return hd_write_file_atomic_at(root_fd, path, value, -1, error);
}

static gboolean sim_load_module(HdCtx *ctx, int root_fd, const char *module, GError **error)
{
        return TRUE;
}

static gboolean sim_run(HdCtx *ctx, int root_fd, const char *const *argv, char **output,
                        GError **error)
{
        if (output)
                *output = g_strdup("");
        return TRUE;
}

const HdBackendOps hd_backend_sim = {
        .name = "sim",
        .write = sim_write,
        .load_module = sim_load_module,
        .run = sim_run,
};
