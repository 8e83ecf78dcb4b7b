/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev kernel-args`: the kernel command line running, configured and desired; --apply
 * writes it through the host's bootloader. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static GPtrArray *strv_to_array(char **strv)
{
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

        for (char **s = strv; s && *s; s++)
                g_ptr_array_add(a, g_strdup(*s));
        return a;
}

static void add_words(JsonBuilder *b, const char *name, const GPtrArray *words)
{
        json_builder_set_member_name(b, name);
        json_builder_begin_array(b);
        for (guint i = 0; words && i < words->len; i++)
                json_builder_add_string_value(b, words->pdata[i]);
        json_builder_end_array(b);
}

/* The dry run: each file with "create" or "replace" and the change as a unified diff. */
static void print_changes(const HdKernelArgs *ka)
{
        for (guint i = 0; ka->changes && i < ka->changes->len; i++) {
                const HdBootloaderChange *c = ka->changes->pdata[i];

                cli_print("%s /%s\n", c->create ? "create" : "replace", c->path);
                cli_print("%s", c->diff);
        }
}

/* After --apply: the backups and what the update command said. */
static void print_applied(const HdKernelArgs *ka)
{
        for (guint i = 0; ka->changes && i < ka->changes->len; i++) {
                const HdBootloaderChange *c = ka->changes->pdata[i];

                if (c->create)
                        cli_print("created /%s\n", c->path);
                else if (c->backup && strcmp(c->backup, c->first_backup) == 0)
                        cli_print("replaced /%s (the original is kept in /%s)\n", c->path,
                                  c->backup);
                else if (c->backup)
                        cli_print("replaced /%s (previous version: /%s; the original: /%s)\n",
                                  c->path, c->backup, c->first_backup);
        }
        if (ka->update && ka->update->ran) {
                g_autofree char *cmd = g_strjoinv(" ", ka->update->argv);

                cli_print("%s: succeeded (exit %d)\n", cmd, ka->update->exit_status);
                if (*ka->update->output_tail) {
                        g_auto(GStrv) lines = g_strsplit(ka->update->output_tail, "\n", -1);
                        for (char **l = lines; *l; l++)
                                cli_print("  | %s\n", *l);
                }
        }
}

static void print_json(const HdKernelArgs *ka)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "bootloader");
        json_builder_add_string_value(b, hd_bootloader_kind_to_string(ka->bootloader));
        json_builder_set_member_name(b, "config_path");
        if (ka->config_path) {
                g_autofree char *abs = g_strconcat("/", ka->config_path, NULL);
                json_builder_add_string_value(b, abs);
        } else {
                json_builder_add_null_value(b);
        }
        add_words(b, "running", ka->running);
        add_words(b, "configured", ka->configured);
        add_words(b, "desired", ka->desired);
        add_words(b, "added", ka->added);
        add_words(b, "removed", ka->removed);
        add_words(b, "notes", ka->notes);
        json_builder_set_member_name(b, "reboot_required");
        json_builder_add_boolean_value(b, ka->reboot_required);
        json_builder_set_member_name(b, "applied");
        json_builder_add_boolean_value(b, ka->applied);
        hd_json_add_kernel_args_changes(b, ka);
        json_builder_end_object(b);
        cli_print_json(b);
}

static void print_line(const char *label, const GPtrArray *words)
{
        g_autofree char *s = cli_join(words, " ");

        cli_print("%-11s %s\n", label, s ? s : "(empty)");
}

static void print_human(const HdKernelArgs *ka, gboolean apply, gboolean dry_run)
{
        printf("%-11s %s%s%s\n", "bootloader", hd_bootloader_kind_to_string(ka->bootloader),
               ka->config_path ? " /" : "", ka->config_path ? ka->config_path : "");
        print_line("running", ka->running);
        if (ka->bootloader == HD_BOOTLOADER_UNKNOWN)
                cli_print("%-11s %s\n", "configured",
                          "unknown: no supported bootloader found (GRUB, grubby, systemd-boot, "
                          "Proxmox)");
        else
                print_line("configured", ka->configured);
        print_line("desired", ka->desired);
        for (guint i = 0; i < ka->added->len; i++)
                cli_print("  + %s\n", (const char *)ka->added->pdata[i]);
        for (guint i = 0; i < ka->removed->len; i++)
                cli_print("  - %s\n", (const char *)ka->removed->pdata[i]);
        for (guint i = 0; i < ka->notes->len; i++)
                cli_print("note: %s\n", (const char *)ka->notes->pdata[i]);
        if (dry_run) {
                print_changes(ka);
                printf("dry run: nothing was changed\n");
        } else if (ka->applied) {
                print_applied(ka);
                printf("applied: the bootloader will boot with the desired command line\n");
        } else if (ka->added->len || ka->removed->len)
                printf("%s\n", apply ? "nothing applied"
                                     : "not applied: run again with --apply to write it");
        else if (apply)
                printf("nothing to change\n");
        if (ka->reboot_required)
                printf("reboot required: the running kernel's command line differs from the "
                       "configured one\n");
}

int cmd_kernel_args(HdCli *cli, int argc, char **argv)
{
        g_auto(GStrv) enable = NULL;
        g_auto(GStrv) disable = NULL;
        g_auto(GStrv) custom = NULL;
        g_auto(GStrv) remove = NULL;
        gboolean apply = FALSE, dry_run = FALSE;
        g_autofree char *names = hd_kernel_option_names();
        g_autofree char *enable_help =
            g_strdup_printf("Add the arguments of option OPT (repeatable): %s", names);
        const GOptionEntry entries[] = {
            {"enable", 0, 0, G_OPTION_ARG_STRING_ARRAY, &enable, enable_help, "OPT"},
            {"disable", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disable,
             "Remove the arguments of OPT that hostdev added (repeatable)", "OPT"},
            {"custom", 0, 0, G_OPTION_ARG_STRING_ARRAY, &custom,
             "Add these arguments, split like the kernel splits them (repeatable)", "ARGS"},
            {"remove", 0, 0, G_OPTION_ARG_STRING_ARRAY, &remove,
             "Remove an argument even if hostdev did not add it: NAME=VALUE, or NAME for "
             "every value (repeatable)",
             "ARG"},
            {"apply", 0, 0, G_OPTION_ARG_NONE, &apply,
             "Write the bootloader's config and run its update command; the first backup "
             "(FILE.hostdev-backup) is kept forever, later ones as FILE.hostdev-backup.STAMP",
             NULL},
            {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
             "With --apply: print the files and commands it would change, change nothing", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "",
            "Show the kernel command line the host runs with, the one its bootloader will "
            "boot next, and the one asked for; with --apply, write it through the "
            "bootloader (GRUB, grubby, systemd-boot/kernel-install, Proxmox).\n"
            "--disable removes only arguments hostdev added itself (remembered in "
            "/var/lib/hostdev/kernel-args.json); --remove removes any.",
            "hostdev kernel-args --enable iommu --enable iommu-pt --apply", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autoptr(GPtrArray) a_enable = NULL, a_disable = NULL, a_custom = NULL, a_remove = NULL;
        HdKernelArgsRequest req;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc > 1)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[1]);
        if (dry_run && !apply)
                return cli_usage_error(cli, "--dry-run goes with --apply");
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        hd_ctx_set_dry_run(ctx, dry_run);

        req.enable = a_enable = strv_to_array(enable);
        req.disable = a_disable = strv_to_array(disable);
        req.custom = a_custom = strv_to_array(custom);
        req.remove = a_remove = strv_to_array(remove);
        ka = hd_kernel_args_plan(ctx, &req, &error);
        if (!ka)
                return cli_report_error(cli, error);
        if (apply && !hd_kernel_args_apply(ctx, ka, &error))
                return cli_report_error(cli, error);

        if (dry_run && !cli->json) {
                const GPtrArray *log = hd_ctx_get_write_log(ctx);
                for (guint i = 0; i < log->len; i++) {
                        g_autofree char *what = hd_ctx_write_describe(log->pdata[i]);
                        printf("would %s\n", what);
                }
        }
        if (cli->json)
                print_json(ka);
        else
                print_human(ka, apply, dry_run);
        return HD_EXIT_OK;
}
