/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev snapshot`: capture this machine's PCI view for a bug report or a fixture. */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>

#include "cli.h"

static gboolean make_tarball(const char *dir, const char *output, GError **error)
{
        const char *argv[] = { "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                               "-C", dir, "-czf", output, ".", NULL };
        g_autoptr(GSubprocess) proc =
                g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
        g_autofree char *err = NULL;

        if (!proc || !g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, error))
                return FALSE;
        if (!g_subprocess_get_successful(proc)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "tar could not write %s: %s", output,
                            err ? g_strstrip(err) : "");
                return FALSE;
        }
        return TRUE;
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
                tmp = g_dir_make_tmp("hostdev-snapshot-XXXXXX", &error);
                if (!tmp)
                        return cli_report_error(cli, error);
                tree = g_build_filename(tmp, "root", NULL);
        }
        if (!hd_snapshot_capture(ctx, tree, &error) ||
            (output && !make_tarball(tree, output, &error))) {
                r = cli_report_error(cli, error);
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
        if (tmp)
                remove_tree(tmp);
        return r;
}
