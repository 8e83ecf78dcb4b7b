/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real backend: writes go to the kernel's sysfs files below the root, modules are loaded
 * with modprobe, host tools run as child processes. This is the only file in the library
 * that changes a live host.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "backend.h"
#include "ctx.h"
#include "fileio.h"
#include "hd-error.h"
#include "vfio.h"

static gboolean real_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                           GError **error)
{
        return hd_write_attr_at(root_fd, path, value, error);
}

static gboolean real_run(HdCtx *ctx, int root_fd, const char *const *argv, char **output,
                         int *exit_status, GError **error)
{
        g_autoptr(GSubprocess) proc = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        /* A host tool acts on the running system, never on a tree: the last guard of "nothing
         * below --root reaches the machine" (the callers say so earlier, with advice). */
        if (!hd_ctx_is_live_root(ctx)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "refusing to run %s on this host for the tree %s; use --backend sim",
                            argv[0], hd_ctx_get_root(ctx));
                return FALSE;
        }
        proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                               G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                 error);
        if (!proc)
                return FALSE;
        if (!g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, error))
                return FALSE;
        if (exit_status)
                *exit_status =
                    g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
        if (output)
                *output = g_strconcat(out ? out : "", err ? err : "", NULL);
        if (!g_subprocess_get_successful(proc)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "%s failed (exit %d): %s", argv[0],
                            g_subprocess_get_exit_status(proc),
                            err && *err ? g_strstrip(err) : "no message");
                return FALSE;
        }
        return TRUE;
}

static gboolean real_load_module(HdCtx *ctx, int root_fd, const char *module, GError **error)
{
        const char *argv[] = { "modprobe", module, NULL };

        if (!hd_ctx_is_live_root(ctx)) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "cannot load module %s into a kernel under %s; use --backend sim",
                            module, hd_ctx_get_root(ctx));
                return FALSE;
        }
        return real_run(ctx, root_fd, argv, NULL, NULL, error);
}

static gboolean real_install_file(HdCtx *ctx, int root_fd, const char *path,
                                  const char *contents, int mode, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);

        if (!hd_mkdir_p_at(root_fd, dir, 0755, error) ||
            !hd_write_file_atomic_mode_at(root_fd, path, contents, -1, mode, error))
                return FALSE;
        return TRUE;
}

static gboolean real_remove_file(HdCtx *ctx, int root_fd, const char *path, GError **error)
{
        if (!hd_unlink_at(root_fd, path, 0) && errno != ENOENT) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot remove %s: %s",
                            path, g_strerror(err));
                return FALSE;
        }
        return TRUE;
}

static gboolean real_reboot(HdCtx *ctx, int root_fd, GError **error)
{
        /* systemd stops every unit in order, then reboots; real_run refuses any root but the
         * live one */
        static const char *const argv[] = {"systemctl", "reboot", NULL};

        return real_run(ctx, root_fd, argv, NULL, NULL, error);
}

const HdBackendOps hd_backend_real = {
        .name = "real",
        .write_is_syscall = TRUE,
        .write = real_write,
        .load_module = real_load_module,
        .run = real_run,
        .install_file = real_install_file,
        .remove_file = real_remove_file,
        .vfio_inspect = hd_vfio_inspect_kernel,
        .reboot = real_reboot,
};
