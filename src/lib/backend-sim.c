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

/* Tests make a host tool fail on demand: HOSTDEV_SIM_FAIL_RUN names the program (argv[0])
 * or is "*" for every program. Read at each call so a test can set it between steps. */
static gboolean sim_run_should_fail(const char *program)
{
        const char *fail = g_getenv("HOSTDEV_SIM_FAIL_RUN");

        return fail && (g_strcmp0(fail, "*") == 0 || g_strcmp0(fail, program) == 0);
}

static gboolean sim_run(HdCtx *ctx, int root_fd, const char *const *argv, char **output,
                        GError **error)
{
        if (sim_run_should_fail(argv[0])) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s failed (exit 1): simulated failure (HOSTDEV_SIM_FAIL_RUN)",
                            argv[0]);
                return FALSE;
        }
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
