/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev recover`: finish or undo operations a crash interrupted (journal.h). */
#include "config.h"

#include <stdio.h>

#include "cli.h"

/* The files of the journal directory and what recovery does with each (docs/json-bind.md). */
static void add_operations(JsonBuilder *b, GPtrArray *pending)
{
        json_builder_set_member_name(b, "operations");
        json_builder_begin_array(b);
        for (guint i = 0; i < pending->len; i++) {
                const HdPendingOp *op = pending->pdata[i];
                g_autofree char *file = g_strconcat("/", op->file, NULL);

                json_builder_begin_object(b);
                hd_json_add_string_or_null(b, "journal", file);
                hd_json_add_string_or_null(b, "action", hd_pending_action_to_string(op->action));
                hd_json_add_string_or_null(b, "operation", op->operation);
                hd_json_add_string_or_null(b, "state", op->state);
                hd_json_add_string_or_null(b, "why", op->why);
                json_builder_set_member_name(b, "iommu_groups");
                json_builder_begin_array(b);
                for (guint k = 0; k < op->groups->len; k++)
                        json_builder_add_int_value(b, g_array_index(op->groups, int, k));
                json_builder_end_array(b);
                json_builder_set_member_name(b, "devices");
                json_builder_begin_array(b);
                for (guint k = 0; k < op->devices->len; k++) {
                        const HdJournalDevice *d = op->devices->pdata[k];
                        json_builder_begin_object(b);
                        hd_json_add_string_or_null(b, "address", d->name);
                        hd_json_add_string_or_null(b, "original_driver", d->original_driver);
                        hd_json_add_string_or_null(b, "target_driver", d->target_driver);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

static void print_operations(GPtrArray *pending, gboolean dry_run)
{
        for (guint i = 0; i < pending->len; i++) {
                const HdPendingOp *op = pending->pdata[i];
                g_autoptr(GString) devs = g_string_new(NULL);

                for (guint k = 0; k < op->devices->len; k++) {
                        const HdJournalDevice *d = op->devices->pdata[k];
                        g_string_append_printf(devs, "%s%s (back to %s)", k ? ", " : "", d->name,
                                               d->original_driver ? d->original_driver
                                                                  : "no driver");
                }
                switch (op->action) {
                case HD_PENDING_ROLL_BACK:
                        cli_print("/%s: a %s interrupted while %s; %s rolled back: %s\n", op->file,
                                  op->operation, op->state, dry_run ? "would be" : "is", devs->str);
                        break;
                case HD_PENDING_FINISH:
                        cli_print("/%s: a %s interrupted after its last write; %s finished (only "
                                  "bookkeeping is left)\n",
                                  op->file, op->operation, dry_run ? "would be" : "is");
                        break;
                case HD_PENDING_QUARANTINE:
                        cli_print("/%s: not a journal (%s); %s moved into quarantine/, never "
                                  "read\n",
                                  op->file, op->why, dry_run ? "would be" : "is");
                        break;
                case HD_PENDING_IN_PROGRESS:
                        cli_print("/%s: a %s that process %d is running now; left alone\n",
                                  op->file, op->operation ? op->operation : "transaction", op->pid);
                        break;
                }
        }
}

int cmd_recover(HdCli *cli, int argc, char **argv)
{
        gboolean dry_run = FALSE;
        const GOptionEntry entries[] = {
            {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
             "Say what recovery would do and print every write it would make, in order; "
             "change nothing",
             NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "",
            "Complete or roll back every detach/attach that was interrupted (a crash, a "
            "power cut), so that each device is on its original driver or fully on "
            "vfio-pci; move files that are not journals into quarantine/. Every detach and "
            "attach does this first; the agent at start.",
            "hostdev recover --dry-run", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) pending = NULL;
        guint n = 0;
        HdCtx *ctx;
        int exit_code;

        ctx = cli_start_without_arguments(cli, octx, &argc, &argv, &exit_code);
        if (!ctx)
                return exit_code;
        hd_ctx_set_dry_run(ctx, dry_run);
        pending = hd_journal_list_pending(ctx);
        if (!hd_journal_recover(ctx, &n, &error))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, dry_run);
                json_builder_set_member_name(b, "recovered");
                json_builder_add_int_value(b, n);
                json_builder_set_member_name(b, "pending");
                json_builder_add_int_value(b, hd_journal_count_pending(ctx));
                add_operations(b, pending);
                hd_json_add_write_log(b, ctx);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        print_operations(pending, dry_run);
        if (dry_run) {
                if (pending->len == 0)
                        printf("Nothing to recover.\n");
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
                return HD_EXIT_OK;
        }
        if (n == 0)
                printf("Nothing to recover.\n");
        else
                printf("Recovered %u interrupted operation%s: every device is back on its "
                       "original driver.\n",
                       n, n == 1 ? "" : "s");
        if (cli->verbose)
                cli_print_write_log(ctx, "Changes made, in order:");
        return HD_EXIT_OK;
}
