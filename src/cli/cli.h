/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared state and helpers of the `hostdev` command line tool. Each subcommand lives in its
 * own cmd-*.c file and is listed in the table in main.c.
 *
 * Exit codes (documented in docs/cli.md and `hostdev --help`):
 *   0  success
 *   1  refused, not found, or failed
 *   2  bad usage (unknown option, malformed address)
 */
#pragma once

#include <glib.h>

#include "hostdev.h"

enum {
        HD_EXIT_OK = 0,
        HD_EXIT_FAILURE = 1,
        HD_EXIT_USAGE = 2,
};

typedef struct {
        char *root;        /* --root, NULL for "/" */
        char *backend;     /* --backend */
        gboolean json;     /* --json */
        gboolean verbose;  /* -v: library debug messages on stderr */
        gboolean is_tty;   /* stdout is a terminal: tables may be trimmed, colours allowed */
        HdCtx *ctx;        /* opened by cli_open_ctx() */
        /* the command's option tables (cli_option_context, cli_option_context_add), for the
         * check that flags get no "=value" */
        const GOptionEntry *entry_sets[4];
} HdCli;

typedef struct {
        const char *name;
        int (*run)(HdCli *cli, int argc, char **argv);
        const char *summary;
} HdCommand;

/* Options every subcommand accepts (--root, --backend, --json, -v). */
GOptionGroup *cli_common_options(HdCli *cli);

/* Parse a subcommand's options. On failure prints the reason (and with --json anywhere on
 * the command line, the JSON error object, code "invalid-argument") and returns FALSE; the
 * caller exits with HD_EXIT_USAGE. */
gboolean cli_parse_options(HdCli *cli, GOptionContext *octx, int *argc, char ***argv);

/* A GOptionContext for a subcommand with its usage line, summary and example. */
GOptionContext *cli_option_context(HdCli *cli, const char *params, const char *summary,
                                   const char *example, const GOptionEntry *entries);
/* Add more main entries to @octx (an option table the command adds conditionally). */
void cli_option_context_add(HdCli *cli, GOptionContext *octx, const GOptionEntry *entries);

/* The start of every command that takes options but no arguments: parse, refuse stray
 * arguments, open the context. NULL with *exit_code set (2 usage, 1 failure) when it cannot. */
HdCtx *cli_start_without_arguments(HdCli *cli, GOptionContext *octx, int *argc, char ***argv,
                                   int *exit_code);

/* Open the library context for --root/--backend. */
HdCtx *cli_open_ctx(HdCli *cli, GError **error);

/* Report @error (stderr, and as {"error":{...}} on stdout with --json) and return the exit
 * code its domain and code call for. */
int cli_report_error(HdCli *cli, const GError *error);

/* Usage error: one line on stderr (and the JSON error object with --json), exit code 2. */
int cli_usage_error(HdCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Print a finished JSON builder to stdout, indented. */
void cli_print_json(JsonBuilder *b);
/* Stream JSON to stdout as it is produced (same text as cli_print_json), for the big lists. */
HdJsonWriter *cli_json_writer_new(void);
/* Flush, end with a newline; HD_EXIT_FAILURE (and a message) if stdout could not be written. */
int cli_json_writer_finish(HdJsonWriter *w);

/* A plain text table: collect rows, then print with columns padded to fit. */
typedef struct CliTable CliTable;
CliTable *cli_table_new(guint n_columns, const char *const *headers);
void cli_table_add_row(CliTable *t, const char *const *cells);
/* @shrink_column may be trimmed with "…" so lines fit a terminal of @width (0: no limit). */
void cli_table_print(CliTable *t, int shrink_column, int width);
void cli_table_free(CliTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliTable, cli_table_free)

/* printf() to stdout for text that holds names read from the system: line breaks as given,
 * any other control character shown as '?', bytes that are not UTF-8 as U+FFFD. */
void cli_print(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* @a's strings joined with @sep; NULL when @a is NULL or empty. */
char *cli_join(const GPtrArray *a, const char *sep);

/* Terminal width of stdout, 0 when not a terminal. */
int cli_terminal_width(void);
/* The width tables are cut to: the terminal's, or $COLUMNS when stdout is not one and it is
 * set; 0 (no limit) otherwise, so scripts get whole lines. */
int cli_output_width(HdCli *cli);

int cmd_list(HdCli *cli, int argc, char **argv);
int cmd_show(HdCli *cli, int argc, char **argv);
int cmd_groups(HdCli *cli, int argc, char **argv);
int cmd_snapshot(HdCli *cli, int argc, char **argv);
int cmd_xml(HdCli *cli, int argc, char **argv);
int cmd_qemu_args(HdCli *cli, int argc, char **argv);
int cmd_detach(HdCli *cli, int argc, char **argv);
int cmd_attach(HdCli *cli, int argc, char **argv);
int cmd_verify(HdCli *cli, int argc, char **argv);
int cmd_reset(HdCli *cli, int argc, char **argv);
int cmd_vm(HdCli *cli, int argc, char **argv);
int cmd_sriov(HdCli *cli, int argc, char **argv);
int cmd_mdev(HdCli *cli, int argc, char **argv);
int cmd_usb(HdCli *cli, int argc, char **argv);
int cmd_sriov_vf(HdCli *cli, int argc, char **argv);
int cmd_scsi(HdCli *cli, int argc, char **argv);
int cmd_npiv(HdCli *cli, int argc, char **argv);
int cmd_vhost_scsi(HdCli *cli, int argc, char **argv);
int cmd_recover(HdCli *cli, int argc, char **argv);
int cmd_persist(HdCli *cli, int argc, char **argv);

/* The devices argv[1..] name (address.h: addresses in every form people paste, slots, and
 * vendor:device ids; device-spec.h resolves the last two on this host), in order (a device
 * named twice is there twice: the command refuses it as before).
 * @many FALSE: exactly one device. @command: "hostdev show", for the hints. */
GArray *cli_resolve_devices(HdCli *cli, int argc, char **argv, gboolean many,
                            const char *command, GError **error);

/* Shared by the commands that change devices (cmd-detach.c). */
/* cli_resolve_devices(many); on failure *exit_code is what to return. */
gboolean cli_parse_addresses(HdCli *cli, int argc, char **argv, const char *command, GArray **out,
                             int *exit_code);
/* Print a detach/attach report (text or --json, with the write log). */
int cli_print_bind_report(HdCli *cli, HdCtx *ctx, const HdBindReport *report);
/* The context's write log as a numbered list under @title. */
void cli_print_write_log(HdCtx *ctx, const char *title);
int cmd_check(HdCli *cli, int argc, char **argv);
int cmd_kernel_args(HdCli *cli, int argc, char **argv);

/* VF network settings for `hostdev sriov` (cmd-sriov-vf.c; the JSON is sriov-json.h). */
/* "mac 52:54:00:12:34:56, vlan 100 qos 3, spoofchk on, trust off, link auto". */
char *cli_sriov_vf_net_text(const HdVfNet *vf);
