/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev`: the command line face of libhostdev. This file only finds the subcommand and
 * hands it the arguments; each subcommand is a cmd-*.c file of its own.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const HdCommand commands[] = {
        { "check", cmd_check, "Is this host ready for passthrough, and what to change" },
        { "kernel-args", cmd_kernel_args, "Kernel command line: running, configured, desired" },
        { "list", cmd_list, "List PCI devices with what passthrough needs to know" },
        { "show", cmd_show, "Everything about one device, with its IOMMU group" },
        { "groups", cmd_groups, "IOMMU groups and whether each can go to a VM" },
        { "sriov", cmd_sriov, "An SR-IOV physical function and its virtual functions" },
        { "sriov-vf", cmd_sriov_vf, "A NIC VF's MAC, VLAN, trust...: show, set, save, restore" },
        { "mdev", cmd_mdev, "Mediated devices (vGPU slices): types, list, create, remove" },
        { "usb", cmd_usb, "USB devices: list, show, and xml or qemu-args for a VM" },
        { "scsi", cmd_scsi, "SCSI LUNs by WWID for scsi-generic: list, show, xml, qemu-args" },
        { "npiv", cmd_npiv, "Fibre Channel NPIV vports (virtual HBAs): list, create, delete" },
        { "vhost-scsi", cmd_vhost_scsi, "SCSI targets the host exports via vhost-scsi: list, xml" },
        { "detach", cmd_detach, "Move devices (with --group, their groups) to vfio-pci, safely" },
        { "attach", cmd_attach, "Give devices on vfio-pci back to their host drivers" },
        { "reattach", cmd_attach, "Same as attach" },
        { "verify", cmd_verify, "Prove a VM can use a device: open it through VFIO" },
        { "reset", cmd_reset, "Reset a released device with the kernel's reset" },
        { "recover", cmd_recover, "Finish or undo operations a crash interrupted" },
        { "persist", cmd_persist, "Bindings applied at boot: list, add, remove" },
        { "xml", cmd_xml, "libvirt <hostdev> XML for devices, or add them to a domain" },
        { "qemu-args", cmd_qemu_args, "QEMU -device arguments that give devices to a VM" },
        { "vm", cmd_vm, "Hot-plug devices into a libvirt VM, or out: attach-device, detach-device" },
        { "snapshot", cmd_snapshot, "Capture what hostdev reads on this machine, to replay with --root" },
        { "help", NULL, "This list, or 'help COMMAND': a command's options and an example" },
};

/* Edit distance (insert, delete, substitute, swap of neighbours), capped at 9. */
static guint distance(const char *a, const char *b)
{
        gsize la = MIN(strlen(a), 31), lb = MIN(strlen(b), 31);
        guint d[32][32];

        for (gsize i = 0; i <= la; i++)
                d[i][0] = (guint)i;
        for (gsize j = 0; j <= lb; j++)
                d[0][j] = (guint)j;
        for (gsize i = 1; i <= la; i++)
                for (gsize j = 1; j <= lb; j++) {
                        guint cost = a[i - 1] != b[j - 1];
                        d[i][j] = MIN(MIN(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                d[i][j] = MIN(d[i][j], d[i - 2][j - 2] + 1);
                }
        return MIN(d[la][lb], 9);
}

/* The command @word was most likely meant to be: a prefix of exactly one command, else the
 * nearest within two edits; NULL when nothing is close. */
static const char *did_you_mean(const char *word)
{
        const char *best = NULL, *prefixed = NULL;
        guint best_d = 3, n_prefixed = 0;

        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                guint d = distance(word, commands[i].name);
                if (*word && g_str_has_prefix(commands[i].name, word)) {
                        prefixed = commands[i].name;
                        n_prefixed++;
                }
                if (d < best_d) {
                        best_d = d;
                        best = commands[i].name;
                }
        }
        return n_prefixed == 1 ? prefixed : best;
}

static void print_usage(FILE *out)
{
        fprintf(out, "Usage: hostdev [--root DIR] [--backend KIND] COMMAND [OPTIONS...]\n\n"
                     "PCI device passthrough for KVM hosts.\n\nCommands:\n");
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
                fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\n'hostdev COMMAND --help' shows a command's options and an example.\n"
                     "Every command takes --json (stable field names, docs/json.md), --root DIR\n"
                     "and --backend real|sim.\n\n"
                     "Example:\n  hostdev groups\n\n"
                     "Exit status: 0 ok, 1 refused or not found, 2 bad usage.\n");
}

/* Global options may come before the command; they are handed on to it so that its own
 * option parser sees them as if they came after. Returns the index of the command. */
static int find_command(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (a[0] != '-')
                        return i;
                if ((strcmp(a, "--root") == 0 || strcmp(a, "--backend") == 0) && i + 1 < argc)
                        i++;
        }
        return -1;
}

int main(int argc, char **argv)
{
        HdCli cli = { 0 };
        int idx;
        int r;

        setlocale(LC_ALL, "");
        cli.is_tty = isatty(STDOUT_FILENO);

        for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
                        printf("hostdev %s\n", HOSTDEV_VERSION);
                        return HD_EXIT_OK;
                }
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        print_usage(stdout);
                        return HD_EXIT_OK;
                }
        }

        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                cli.json = cli.json || strcmp(argv[i], "--json") == 0;
        idx = find_command(argc, argv);
        if (idx < 0) {
                print_usage(stderr);
                if (cli.json) /* the JSON error too, for a caller that reads stdout */
                        return cli_usage_error(&cli, "no command given");
                return HD_EXIT_USAGE;
        }
        if (strcmp(argv[idx], "help") == 0) {
                /* "help COMMAND" is "COMMAND --help" */
                if (idx + 1 >= argc) {
                        print_usage(stdout);
                        return HD_EXIT_OK;
                }
                argv[idx] = argv[idx + 1];
                argv[idx + 1] = (char *)"--help";
        }
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autoptr(GPtrArray) args = NULL;

                if (!commands[i].run || strcmp(argv[idx], commands[i].name) != 0)
                        continue;
                /* argv for the command: "hostdev COMMAND", then the global options that came
                 * before the command, then the rest. */
                args = g_ptr_array_new();
                g_ptr_array_add(args, g_strdup_printf("hostdev %s", commands[i].name));
                for (int j = 1; j < idx; j++)
                        g_ptr_array_add(args, g_strdup(argv[j]));
                for (int j = idx + 1; j < argc; j++)
                        g_ptr_array_add(args, g_strdup(argv[j]));
                g_ptr_array_add(args, NULL);
                {
                        int sub_argc = (int)args->len - 1;
                        char **sub_argv = (char **)g_ptr_array_free(g_steal_pointer(&args), FALSE);
                        /* The option parser drops parsed entries from sub_argv without
                         * freeing them: keep the original pointers to free afterwards. */
                        char **owned = g_memdup2(sub_argv, sizeof(char *) * (gsize)(sub_argc + 1));
                        r = commands[i].run(&cli, sub_argc, sub_argv);
                        g_free(sub_argv);
                        g_strfreev(owned);
                }
                hd_ctx_free(cli.ctx);
                g_free(cli.root);
                g_free(cli.backend);
                return r;
        }
        {
                g_autofree char *shown =
                    g_utf8_make_valid(argv[idx], (gssize)MIN(strlen(argv[idx]), 40));
                const char *guess = did_you_mean(argv[idx]);
                if (guess)
                        return cli_usage_error(&cli,
                                               "'%s' is not a command; did you mean '%s'?",
                                               shown, guess);
                return cli_usage_error(&cli, "'%s' is not a command", shown);
        }
}
