/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "utf8.h"

static void log_to_stderr(HdLogLevel level, const char *message, gpointer user_data)
{
        HdCli *cli = user_data;

        g_autofree char *shown = NULL;

        if (level == HD_LOG_DEBUG && !cli->verbose)
                return;
        shown = hd_utf8_printable(message); /* names from sysfs: no raw escapes on a tty */
        fprintf(stderr, "hostdev: %s\n", shown);
}

GOptionGroup *cli_common_options(HdCli *cli)
{
        const GOptionEntry entries[] = {
                { "root", 0, 0, G_OPTION_ARG_FILENAME, &cli->root,
                  "Read (and write) the machine under DIR instead of / (a fixture or an "
                  "unpacked snapshot)",
                  "DIR" },
                { "backend", 0, 0, G_OPTION_ARG_STRING, &cli->backend,
                  "Kernel backend: real, sim or auto (default: real for /, sim otherwise)",
                  "KIND" },
                { "json", 0, 0, G_OPTION_ARG_NONE, &cli->json,
                  "Print JSON (stable field names, see docs/json.md)", NULL },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &cli->verbose,
                  "Show what the library does, including every sysfs write", NULL },
                { NULL },
        };
        GOptionGroup *group = g_option_group_new("common", "Options of every command:",
                                                 "Show options of every command", NULL, NULL);

        g_option_group_add_entries(group, entries);
        return group;
}

GOptionContext *cli_option_context(HdCli *cli, const char *params, const char *summary,
                                   const char *example, const GOptionEntry *entries)
{
        GOptionContext *octx = g_option_context_new(params);
        g_autofree char *desc = g_strdup_printf(
                "Example:\n  %s\n\nExit status: 0 ok, 1 refused or not found, 2 bad usage.",
                example);

        g_option_context_set_summary(octx, summary);
        g_option_context_set_description(octx, desc);
        memset(cli->entry_sets, 0, sizeof(cli->entry_sets));
        if (entries)
                cli_option_context_add(cli, octx, entries);
        g_option_context_add_group(octx, cli_common_options(cli));
        return octx;
}

void cli_option_context_add(HdCli *cli, GOptionContext *octx, const GOptionEntry *entries)
{
        for (gsize i = 0; i < G_N_ELEMENTS(cli->entry_sets); i++) {
                if (!cli->entry_sets[i]) {
                        cli->entry_sets[i] = entries;
                        break;
                }
        }
        g_option_context_add_main_entries(octx, entries, NULL);
}

/* Whether --@name (@len bytes) is an option that takes no value: GOption silently drops the
 * "=value" of "--force=abc" or "--persist=no" and takes the flag as given. */
static gboolean is_flag(const HdCli *cli, const char *name, gsize len)
{
        static const char *const common_flags[] = {"json", "verbose"};

        for (gsize i = 0; i < G_N_ELEMENTS(common_flags); i++)
                if (strlen(common_flags[i]) == len && strncmp(common_flags[i], name, len) == 0)
                        return TRUE;
        for (gsize i = 0; i < G_N_ELEMENTS(cli->entry_sets) && cli->entry_sets[i]; i++) {
                for (const GOptionEntry *e = cli->entry_sets[i]; e->long_name; e++) {
                        gboolean flag =
                            e->arg == G_OPTION_ARG_NONE ||
                            (e->arg == G_OPTION_ARG_CALLBACK && (e->flags & G_OPTION_FLAG_NO_ARG));
                        if (flag && strlen(e->long_name) == len &&
                            strncmp(e->long_name, name, len) == 0)
                                return TRUE;
                }
        }
        return FALSE;
}

gboolean cli_parse_options(HdCli *cli, GOptionContext *octx, int *argc, char ***argv)
{
        g_autoptr(GError) error = NULL;
        gboolean json = FALSE;

        /* The parser stops at the first bad option, maybe before --json: look for it first,
         * so that a caller reading JSON gets a JSON error whatever the order. */
        for (int i = 1; i < *argc && strcmp((*argv)[i], "--") != 0; i++)
                json = json || strcmp((*argv)[i], "--json") == 0;
        for (int i = 1; i < *argc && !error && strcmp((*argv)[i], "--") != 0; i++) {
                const char *a = (*argv)[i], *eq = strchr(a, '=');
                if (g_str_has_prefix(a, "--") && eq && is_flag(cli, a + 2, (gsize)(eq - a - 2)))
                        g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "%.*s takes no value (\"%s\")", (int)(eq - a), a, eq + 1);
        }
        if (error || !g_option_context_parse(octx, argc, argv, &error)) {
                g_autoptr(GError) usage = g_error_new(HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                                      "%s (see --help)", error->message);
                cli->json = cli->json || json;
                cli_report_error(cli, usage);
                return FALSE;
        }
        return TRUE;
}

GArray *cli_resolve_devices(HdCli *cli, int argc, char **argv, gboolean many,
                            const char *command, GError **error)
{
        g_autoptr(GArray) specs = g_array_new(FALSE, FALSE, sizeof(HdDeviceSpec));
        g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        gboolean need_host = FALSE;

        /* every argument is checked before the host is read */
        for (int i = 1; i < argc; i++) {
                HdDeviceSpec spec;
                if (!hd_device_spec_parse(argv[i], &spec, error))
                        return NULL;
                need_host |= spec.kind != HD_DEVICE_SPEC_ADDRESS;
                g_array_append_val(specs, spec);
        }
        if (need_host && !cli_open_ctx(cli, error))
                return NULL;
        for (guint i = 0; i < specs->len; i++)
                if (!hd_device_spec_resolve(cli->ctx, &g_array_index(specs, HdDeviceSpec, i),
                                            argv[i + 1], many, command, out, error))
                        return NULL;
        if (!many && out->len != 1) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s takes exactly one device, e.g. %s 0000:01:00.0", command,
                            command);
                return NULL;
        }
        return g_steal_pointer(&out);
}

HdCtx *cli_open_ctx(HdCli *cli, GError **error)
{
        HdBackendKind kind = HD_BACKEND_AUTO;

        if (cli->ctx)
                return cli->ctx;
        if (cli->backend && !hd_backend_kind_from_string(cli->backend, &kind)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "--backend %s is not a backend; use real, sim or auto", cli->backend);
                return NULL;
        }
        cli->ctx = hd_ctx_new(cli->root, kind, error);
        if (cli->ctx)
                hd_ctx_set_log_func(cli->ctx, log_to_stderr, cli);
        return cli->ctx;
}

HdCtx *cli_start_without_arguments(HdCli *cli, GOptionContext *octx, int *argc, char ***argv,
                                   int *exit_code)
{
        g_autoptr(GError) error = NULL;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, argc, argv)) {
                *exit_code = HD_EXIT_USAGE;
                return NULL;
        }
        if (*argc > 1) {
                *exit_code = cli_usage_error(cli, "unexpected argument '%s'", (*argv)[1]);
                return NULL;
        }
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                *exit_code = cli_report_error(cli, error);
        return ctx;
}

/* A refusal of the kernel or a file's permissions to a user who is not root: the message names
 * the file already; say what it means. */
static gboolean needs_root(const GError *error)
{
        if (geteuid() == 0)
                return FALSE;
        return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ||
               strstr(error->message, "Permission denied") ||
               strstr(error->message, "Operation not permitted");
}

int cli_report_error(HdCli *cli, const GError *error)
{
        g_autofree char *shown = NULL;
        g_autofree char *text = needs_root(error)
                                    ? g_strdup_printf("%s\nthis needs root: run it again as root "
                                                      "(sudo hostdev ...)",
                                                      error->message)
                                    : g_strdup(error->message);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        /* one line per refusal; each printable (driver names come from sysfs) */
        for (char **l = lines; *l; l++) {
                shown = hd_utf8_printable(*l);
                fprintf(stderr, "%s%s\n", l == lines ? "hostdev: " : "", shown);
                g_clear_pointer(&shown, g_free);
        }
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "error");
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "code");
                json_builder_add_string_value(b, hd_error_code_name(error));
                json_builder_set_member_name(b, "message");
                json_builder_add_string_value(b, text);
                json_builder_end_object(b);
                json_builder_end_object(b);
                cli_print_json(b);
        }
        if (error->domain == HD_ERROR && error->code == HD_ERROR_INVALID_ARGUMENT)
                return HD_EXIT_USAGE;
        return HD_EXIT_FAILURE;
}

int cli_usage_error(HdCli *cli, const char *format, ...)
{
        g_autofree char *msg = NULL;
        g_autoptr(GError) error = NULL;
        va_list ap;

        va_start(ap, format);
        msg = g_strdup_vprintf(format, ap);
        va_end(ap);
        error = g_error_new(HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "%s (see --help)", msg);
        cli_report_error(cli, error); /* with --json, also the JSON error object */
        return HD_EXIT_USAGE;
}

void cli_print_json(JsonBuilder *b)
{
        g_autofree char *s = hd_json_to_string(b, TRUE);

        fputs(s, stdout);
        fputc('\n', stdout);
}

static gboolean flush_to_stdout(const char *data, gsize len, gpointer user_data)
{
        return fwrite(data, 1, len, stdout) == len;
}

HdJsonWriter *cli_json_writer_new(void)
{
        return hd_json_writer_new_stream(flush_to_stdout, NULL);
}

int cli_json_writer_finish(HdJsonWriter *w)
{
        gboolean ok = hd_json_writer_finish(w);

        if (!ok || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
                fprintf(stderr, "hostdev: cannot write the JSON output: %s\n", g_strerror(errno));
                return HD_EXIT_FAILURE;
        }
        return HD_EXIT_OK;
}

int cli_terminal_width(void)
{
        struct winsize ws;

        if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
                return 0;
        return ws.ws_col;
}

int cli_output_width(HdCli *cli)
{
        const char *columns = g_getenv("COLUMNS");
        guint64 n;

        if (cli->is_tty)
                return cli_terminal_width();
        if (columns && g_ascii_string_to_unsigned(columns, 10, 20, 10000, &n, NULL))
                return (int)n;
        return 0;
}

struct CliTable {
        guint n_columns;
        GPtrArray *rows; /* char** of n_columns strings */
};

CliTable *cli_table_new(guint n_columns, const char *const *headers)
{
        CliTable *t = g_new0(CliTable, 1);

        t->n_columns = n_columns;
        t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        if (headers)
                cli_table_add_row(t, headers);
        return t;
}

void cli_table_add_row(CliTable *t, const char *const *cells)
{
        char **row = g_new0(char *, t->n_columns + 1);

        /* names read from sysfs are bytes: no raw control bytes or broken UTF-8 on a tty */
        for (guint i = 0; i < t->n_columns; i++)
                row[i] = cells[i] ? hd_utf8_printable(cells[i]) : g_strdup("-");
        g_ptr_array_add(t->rows, row);
}

void cli_table_print(CliTable *t, int shrink_column, int width)
{
        g_autofree glong *widths = g_new0(glong, t->n_columns);
        glong total = 0;

        for (guint r = 0; r < t->rows->len; r++) {
                char **row = t->rows->pdata[r];
                for (guint c = 0; c < t->n_columns; c++)
                        widths[c] = MAX(widths[c], g_utf8_strlen(row[c], -1));
        }
        for (guint c = 0; c < t->n_columns; c++)
                total += widths[c] + (c + 1 < t->n_columns ? 2 : 0);
        if (width > 0 && shrink_column >= 0 && total > width) {
                glong excess = total - width;
                widths[shrink_column] = MAX(8, widths[shrink_column] - excess);
        }
        for (guint r = 0; r < t->rows->len; r++) {
                char **row = t->rows->pdata[r];
                g_autoptr(GString) line = g_string_new(NULL);
                for (guint c = 0; c < t->n_columns; c++) {
                        const char *cell = row[c];
                        glong len = g_utf8_strlen(cell, -1);
                        gboolean last = c + 1 == t->n_columns;

                        if (len > widths[c]) {
                                const char *cut = g_utf8_offset_to_pointer(cell, widths[c] - 1);
                                g_string_append_len(line, cell, cut - cell);
                                g_string_append(line, "…");
                                len = widths[c];
                        } else {
                                g_string_append(line, cell);
                        }
                        if (!last)
                                for (glong pad = len; pad < widths[c] + 2; pad++)
                                        g_string_append_c(line, ' ');
                }
                /* trailing spaces of an empty last column are noise */
                while (line->len && line->str[line->len - 1] == ' ')
                        g_string_truncate(line, line->len - 1);
                puts(line->str);
        }
}

char *cli_join(const GPtrArray *a, const char *sep)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; a && i < a->len; i++)
                g_string_append_printf(s, "%s%s", i ? sep : "", (const char *)a->pdata[i]);
        return s->len ? g_string_free(g_steal_pointer(&s), FALSE) : NULL;
}

void cli_print(const char *format, ...)
{
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
                g_autofree char *shown = hd_utf8_printable(lines[i]);
                fputs(shown, stdout);
                if (lines[i + 1])
                        fputc('\n', stdout);
        }
}

void cli_table_free(CliTable *t)
{
        if (!t)
                return;
        g_ptr_array_unref(t->rows);
        g_free(t);
}
