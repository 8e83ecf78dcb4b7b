/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev snapshot`: capture this machine's PCI view for a bug report or a fixture. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixoutputstream.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Open @output for the archive before anything is captured: a path that cannot be written is
 * said at once, in one line, with what to do. */
static int open_output(const char *output, GError **error)
{
        int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);

        if (fd < 0) {
                int e = errno;
                g_autofree char *dir = g_path_get_dirname(output);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot write the snapshot to %s: %s; give -o a file in a directory "
                            "that exists and that you can write (%s)",
                            output, g_strerror(e), dir);
        }
        return fd;
}

/* tar's archive from its stdout into @fd: a write that fails (a full disk) is our error, said
 * in one line, not tar's. */
static gboolean make_tarball(const char *dir, int fd, const char *output, GError **error)
{
        const char *argv[] = { "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                               "-C", dir, "-czf", "-", ".", NULL };
        g_autoptr(GSubprocess) proc = g_subprocess_newv(
                argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, error);
        g_autoptr(GOutputStream) out = NULL;
        g_autoptr(GError) local = NULL;

        if (!proc)
                return FALSE;
        out = g_unix_output_stream_new(fd, FALSE);
        if (g_output_stream_splice(out, g_subprocess_get_stdout_pipe(proc),
                                   G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL, &local) < 0 ||
            !g_output_stream_flush(out, NULL, &local) || fsync(fd) < 0) {
                if (!local)
                        g_set_error(&local, G_IO_ERROR, g_io_error_from_errno(errno), "%s",
                                    g_strerror(errno));
                g_subprocess_force_exit(proc);
                g_subprocess_wait(proc, NULL, NULL);
                g_set_error(error, local->domain, local->code,
                            "cannot write the snapshot to %s: %s; free space there or give -o "
                            "another place",
                            output, local->message);
                return FALSE;
        }
        if (!g_subprocess_wait_check(proc, NULL, &local)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "tar could not archive the captured tree for %s (%s); "
                            "hostdev snapshot -d DIR writes it unpacked",
                            output, local->message);
                return FALSE;
        }
        return TRUE;
}

/* A failed archive is removed when it is a regular file (never a device such as /dev/full or
 * a pipe the caller named). */
static void remove_partial(int fd, const char *output)
{
        struct stat st;

        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                unlink(output);
}

static void remove_tree(const char *dir)
{
        const char *argv[] = { "rm", "-rf", dir, NULL };

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                     NULL);
}

int cmd_snapshot(HdCli *cli, int argc, char **argv)
{
        g_autofree char *output = NULL;
        g_autofree char *directory = NULL;
        const GOptionEntry entries[] = {
                { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
                  "Write a gzip'ed tar archive to FILE", "FILE" },
                { "directory", 'd', 0, G_OPTION_ARG_FILENAME, &directory,
                  "Write the tree unpacked into DIR (must not exist)", "DIR" },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "",
                "Capture what hostdev reads from this machine (PCI devices, config space, IOMMU "
                "groups, drivers, kernel command line, CPU flags, ACPI table presence) so that "
                "'hostdev --root DIR' replays it elsewhere: unpack with "
                "'mkdir DIR && tar xzf FILE -C DIR'. No BAR contents, ROMs or MAC addresses are "
                "captured.",
                "hostdev snapshot -o myhost.tar.gz", entries);
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = NULL;
        g_autofree char *tree = NULL;
        HdCtx *ctx;
        int fd = -1;
        int r = HD_EXIT_OK;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc > 1)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[1]);
        if (!output == !directory)
                return cli_usage_error(cli, "give exactly one of -o FILE.tar.gz or -d DIR");
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);

        if (directory) {
                tree = g_strdup(directory);
        } else {
                fd = open_output(output, &error);
                if (fd < 0)
                        return cli_report_error(cli, error);
                tmp = g_dir_make_tmp("hostdev-snapshot-XXXXXX", &error);
                if (!tmp) {
                        remove_partial(fd, output);
                        close(fd);
                        return cli_report_error(cli, error);
                }
                tree = g_build_filename(tmp, "root", NULL);
        }
        if (!hd_snapshot_capture(ctx, tree, &error) ||
            (output && !make_tarball(tree, fd, output, &error))) {
                r = cli_report_error(cli, error);
                if (output) /* no half archive left behind */
                        remove_partial(fd, output);
        } else if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, output ? "output" : "directory");
                json_builder_add_string_value(b, output ? output : directory);
                json_builder_end_object(b);
                cli_print_json(b);
        } else {
                printf("snapshot written to %s\n", output ? output : directory);
        }
        if (fd >= 0)
                close(fd);
        if (tmp)
                remove_tree(tmp);
        return r;
}
