/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev mdev types [PARENT] | list | create PARENT TYPE [--uuid U] [--persist] |
 * remove UUID [--persist] | start UUID | start-parent PARENT`: mediated devices (mdev.h).
 * start-parent is what 61-hostdev-mdev.rules runs when the kernel announces a parent, on hosts
 * without mdevctl (whose own rule does the same).
 *
 * --json fields (stable; README "hostdev mdev"):
 *   types   {"parents": [{"parent", "path", "pci", "driver", "types": [{"type", "name",
 *           "description", "device_api", "available_instances", "instances": [UUID]}]}]}
 *   list    {"mdevs": [{"uuid", "parent", "type", "active", "defined", "start",
 *           "iommu_group", "driver", "open", "held_by": ["PID (COMM)"]}]}
 *   create  {"uuid", "parent", "type", "persistent", "dry_run", "writes": [...]}
 *   remove  {"uuid", "persistent", "dry_run", "writes": [...]}
 *   start   {"uuid", "started", "dry_run", "writes": [...]} (started false: it was active)
 *   start-parent {"parent", "dry_run", "mdevs": [{"uuid", "type", "outcome": "started" |
 *           "active" | "manual" | "failed", "error"}], "writes": [...]}
 * Absent values are null.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static int mdev_types(HdCli *cli, HdCtx *ctx, const char *arg)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) parents = NULL;

        if (arg) {
                g_autofree char *name = hd_mdev_resolve_parent(ctx, arg, &error);
                HdMdevParent *p = name ? hd_mdev_parent_load(ctx, name, &error) : NULL;
                if (!p)
                        return cli_report_error(cli, error);
                parents = g_ptr_array_new_with_free_func((GDestroyNotify)hd_mdev_parent_free);
                g_ptr_array_add(parents, p);
        } else if (!(parents = hd_mdev_list_parents(ctx, &error))) {
                return cli_report_error(cli, error);
        }
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "parents");
                json_builder_begin_array(b);
                for (guint i = 0; i < parents->len; i++)
                        hd_json_add_mdev_parent(b, parents->pdata[i]);
                json_builder_end_array(b);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (parents->len == 0) {
                printf("No mdev parents: no driver offers mediated devices on this host "
                       "(/sys/class/mdev_bus is empty).\n");
                return HD_EXIT_OK;
        }
        for (guint i = 0; i < parents->len; i++) {
                const HdMdevParent *p = parents->pdata[i];
                static const char *const headers[] = { "TYPE", "AVAILABLE", "API", "INSTANCES",
                                                       "NAME" };
                g_autoptr(CliTable) table = cli_table_new(5, headers);

                cli_print("%s%s  %s%s%s\n", i ? "\n" : "", p->name, p->sysfs_path,
                          p->driver ? ", driver " : "", p->driver ? p->driver : "");
                for (guint k = 0; k < p->types->len; k++) {
                        const HdMdevType *t = p->types->pdata[k];
                        g_autofree char *avail = t->available >= 0
                                                         ? g_strdup_printf("%d", t->available)
                                                         : g_strdup("?");
                        g_autofree char *count = g_strdup_printf("%u", t->instances->len);
                        const char *cells[] = { t->id, avail, t->device_api ? t->device_api : "-",
                                                count, t->name ? t->name : "" };
                        cli_table_add_row(table, cells);
                }
                if (p->types->len == 0)
                        printf("  (no types)\n");
                else
                        cli_table_print(table, 4, cli_output_width(cli));
        }
        return HD_EXIT_OK;
}

static int mdev_list(HdCli *cli, HdCtx *ctx)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) mdevs = hd_mdev_list(ctx, &error);
        static const char *const headers[] = { "UUID", "PARENT", "TYPE", "GROUP", "STATE" };
        g_autoptr(CliTable) table = NULL;

        if (!mdevs)
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "mdevs");
                json_builder_begin_array(b);
                for (guint i = 0; i < mdevs->len; i++)
                        hd_json_add_mdev(b, mdevs->pdata[i]);
                json_builder_end_array(b);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (mdevs->len == 0) {
                printf("No mediated devices ('hostdev mdev create PARENT TYPE' makes one; "
                       "'hostdev mdev types' lists what the parents offer).\n");
                return HD_EXIT_OK;
        }
        table = cli_table_new(5, headers);
        for (guint i = 0; i < mdevs->len; i++) {
                const HdMdev *m = mdevs->pdata[i];
                g_autofree char *group = m->iommu_group >= 0
                                                 ? g_strdup_printf("%d", m->iommu_group)
                                                 : g_strdup("-");
                g_autofree char *holders = cli_join(m->holders, ", ");
                g_autofree char *state = NULL;
                g_autofree char *def = m->defined ? g_strdup_printf("defined, start %s",
                                                                    m->start ? m->start : "?")
                                                  : NULL;

                if (!m->active)
                        state = g_strdup_printf("not active, %s", def);
                else if (holders)
                        state = g_strdup_printf("open by %s%s%s", holders, def ? "; " : "",
                                                def ? def : "");
                else
                        state = g_strdup_printf("active%s%s", def ? ", " : "", def ? def : "");
                const char *cells[] = { m->uuid, m->parent ? m->parent : "?",
                                        m->type ? m->type : "?", group, state };
                cli_table_add_row(table, cells);
        }
        cli_table_print(table, 4, cli_output_width(cli));
        return HD_EXIT_OK;
}

static void print_result(HdCli *cli, HdCtx *ctx, const char *uuid, const char *parent,
                         const char *type, gboolean create, gboolean persist)
{
        gboolean dry = hd_ctx_get_dry_run(ctx);

        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                hd_json_add_mdev_result(b, ctx, uuid, create ? parent : NULL,
                                        create ? type : NULL, persist);
                json_builder_end_object(b);
                cli_print_json(b);
                return;
        }
        if (dry) {
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
                return;
        }
        if (create)
                cli_print("%s\ncreated: an instance of %s on %s%s; hostdev xml %s gives it to "
                          "a libvirt VM, hostdev qemu-args %s to QEMU\n",
                          uuid, type, parent,
                          persist ? " and defined for mdevctl (created again at every boot, by "
                                    "mdevctl's udev rule or hostdev's 61-hostdev-mdev.rules)"
                                  : " (gone at reboot; --persist defines it for mdevctl)",
                          uuid, uuid);
        else
                cli_print("%s removed%s\n", uuid,
                          persist ? ", and its mdevctl definition" : "");
}

static int mdev_start(HdCli *cli, HdCtx *ctx, const char *uuid)
{
        g_autoptr(GError) error = NULL;
        gboolean was_active = FALSE;

        if (!hd_mdev_start(ctx, uuid, &was_active, &error))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "uuid");
                json_builder_add_string_value(b, uuid);
                json_builder_set_member_name(b, "started");
                json_builder_add_boolean_value(b, !was_active);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, hd_ctx_get_dry_run(ctx));
                hd_json_add_write_log(b, ctx);
                json_builder_end_object(b);
                cli_print_json(b);
        } else if (hd_ctx_get_dry_run(ctx) && !was_active) {
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        } else {
                cli_print("%s %s\n", uuid,
                          was_active ? "is already active: nothing to do" : "started");
        }
        return HD_EXIT_OK;
}

static int mdev_start_parent(HdCli *cli, HdCtx *ctx, const char *arg)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *parent = hd_mdev_resolve_parent(ctx, arg, &error);
        g_autoptr(GPtrArray) starts = parent ? hd_mdev_start_parent(ctx, parent, &error) : NULL;
        guint failed = 0;

        if (!starts)
                return cli_report_error(cli, error);
        for (guint i = 0; i < starts->len; i++)
                failed += ((HdMdevStart *)starts->pdata[i])->outcome == HD_MDEV_START_FAILED;
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "parent");
                json_builder_add_string_value(b, parent);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, hd_ctx_get_dry_run(ctx));
                json_builder_set_member_name(b, "mdevs");
                json_builder_begin_array(b);
                for (guint i = 0; i < starts->len; i++) {
                        const HdMdevStart *s = starts->pdata[i];
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "uuid");
                        json_builder_add_string_value(b, s->uuid);
                        hd_json_add_string_or_null(b, "type", s->type);
                        json_builder_set_member_name(b, "outcome");
                        json_builder_add_string_value(b, hd_mdev_start_outcome_to_string(s->outcome));
                        hd_json_add_string_or_null(b, "error", s->error);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                hd_json_add_write_log(b, ctx);
                json_builder_end_object(b);
                cli_print_json(b);
        } else if (starts->len == 0) {
                cli_print("No mediated devices are defined on %s (/etc/mdevctl.d/%s is empty).\n",
                          parent, parent);
        } else {
                for (guint i = 0; i < starts->len; i++) {
                        const HdMdevStart *s = starts->pdata[i];
                        cli_print("%s  %s  %s%s%s\n", s->uuid, s->type ? s->type : "?",
                                  hd_mdev_start_outcome_to_string(s->outcome),
                                  s->error ? ": " : "", s->error ? s->error : "");
                }
                if (hd_ctx_get_dry_run(ctx))
                        cli_print_write_log(ctx, "Would make these changes, in order (nothing "
                                                 "was changed):");
        }
        return failed ? HD_EXIT_FAILURE : HD_EXIT_OK;
}

int cmd_mdev(HdCli *cli, int argc, char **argv)
{
        gboolean dry_run = FALSE, persist = FALSE;
        g_autofree char *uuid = NULL;
        const GOptionEntry entries[] = {
                { "uuid", 'u', 0, G_OPTION_ARG_STRING, &uuid,
                  "create: the new device's UUID (canonical lowercase 8-4-4-4-12); default: a "
                  "new random (v4) one",
                  "UUID" },
                { "persist", 'p', 0, G_OPTION_ARG_NONE, &persist,
                  "create: also define the device in mdevctl's files (/etc/mdevctl.d/PARENT/"
                  "UUID, start auto), so it is created again whenever its parent appears, at "
                  "every boot, and mdevctl and libvirt see it; remove: also remove that "
                  "definition (alone for a defined device that is not active)",
                  NULL },
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "create, remove: print the writes that would be made, and change nothing",
                  NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli,
                "types [PARENT] | list | create PARENT TYPE [--uuid UUID] [--persist] | remove "
                "UUID [--persist] | start UUID | start-parent PARENT",
                "Mediated devices (vGPU slices, mtty, vfio-ccw, vfio-ap). types: the parents "
                "(any bus) and their types with name, description, device API and available "
                "instances (capacity is shared: one instance can lower every type's count). "
                "list: the devices, active and defined for mdevctl, with their IOMMU group "
                "and the process that has them open. create: a new device of TYPE on PARENT "
                "(a PCI address, or the mdev_bus name: mtty, matrix, a css id), with capacity "
                "re-read under a per-parent lock. remove: refused while the device is open "
                "(the kernel would wait for the VM to exit). Create a device just before "
                "its VM starts and remove it after the VM stops. --json fields: types "
                "{parents: [{parent, path, pci, driver, types: [{type, name, description, "
                "device_api, available_instances, instances}]}]}; list {mdevs: [{uuid, parent, "
                "type, active, defined, start, iommu_group, driver, open, held_by}]}; create "
                "{uuid, parent, type, persistent, dry_run, writes}; remove {uuid, persistent, "
                "dry_run, writes}. start: create a device that is defined but not active, as "
                "mdevctl start does; start-parent: every defined device of PARENT with start "
                "auto (what 61-hostdev-mdev.rules runs when the kernel announces the parent, "
                "at boot, on hosts without mdevctl); --json: start {uuid, started, dry_run, "
                "writes}; start-parent {parent, dry_run, mdevs: [{uuid, type, outcome, error}], "
                "writes}, outcome started, active, manual or failed.",
                "hostdev mdev create 0000:00:02.0 i915-GVTg_V5_4 --persist", entries);
        g_autoptr(GError) error = NULL;
        const char *verb;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc < 2)
                return cli_usage_error(cli, "say types, list, create, remove, start or "
                                            "start-parent");
        verb = argv[1];
        if (strcmp(verb, "types") == 0) {
                if (argc > 3)
                        return cli_usage_error(cli, "unexpected argument '%s'", argv[3]);
        } else if (strcmp(verb, "list") == 0) {
                if (argc > 2)
                        return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        } else if (strcmp(verb, "create") == 0) {
                if (argc != 4)
                        return cli_usage_error(cli, "create takes PARENT and TYPE, e.g. hostdev "
                                                    "mdev create mtty mtty-1");
        } else if (strcmp(verb, "start-parent") == 0) {
                if (argc != 3)
                        return cli_usage_error(cli, "start-parent takes one PARENT (hostdev mdev "
                                                    "types shows them)");
        } else if (strcmp(verb, "remove") == 0 || strcmp(verb, "start") == 0) {
                if (argc != 3)
                        return cli_usage_error(cli, "%s takes one UUID (hostdev mdev list "
                                                    "shows them)",
                                               verb);
                if (!hd_mdev_uuid_parse(argv[2], NULL))
                        return cli_usage_error(cli, "%s is not a UUID in canonical form "
                                                    "(8-4-4-4-12 lowercase hex digits)",
                                               argv[2]);
        } else {
                return cli_usage_error(cli, "'%s' is not types, list, create, remove, start or "
                                            "start-parent",
                                       verb);
        }
        if (strcmp(verb, "create") != 0 && uuid)
                return cli_usage_error(cli, "--uuid goes with create");
        if ((strcmp(verb, "types") == 0 || strcmp(verb, "list") == 0) && (persist || dry_run))
                return cli_usage_error(cli, "--persist and --dry-run go with create and remove");
        if (g_str_has_prefix(verb, "start") && persist)
                return cli_usage_error(cli, "--persist goes with create and remove (a device "
                                            "started from its definition stays defined)");
        if (uuid && !hd_mdev_uuid_parse(uuid, NULL))
                return cli_usage_error(cli, "--uuid %s is not a UUID in canonical form "
                                            "(8-4-4-4-12 lowercase hex digits)",
                                       uuid);
        if (!(ctx = cli_open_ctx(cli, &error)))
                return cli_report_error(cli, error);
        hd_ctx_set_dry_run(ctx, dry_run);
        if (strcmp(verb, "types") == 0)
                return mdev_types(cli, ctx, argc > 2 ? argv[2] : NULL);
        if (strcmp(verb, "list") == 0)
                return mdev_list(cli, ctx);
        if (strcmp(verb, "start") == 0)
                return mdev_start(cli, ctx, argv[2]);
        if (strcmp(verb, "start-parent") == 0)
                return mdev_start_parent(cli, ctx, argv[2]);
        if (strcmp(verb, "create") == 0) {
                g_autofree char *parent = hd_mdev_resolve_parent(ctx, argv[2], &error);
                g_autofree char *made = NULL;

                if (!parent ||
                    !hd_mdev_create(ctx, parent, argv[3], uuid, persist, &made, &error))
                        return cli_report_error(cli, error);
                print_result(cli, ctx, made, parent, argv[3], TRUE, persist);
                return HD_EXIT_OK;
        }
        if (!hd_mdev_remove(ctx, argv[2], persist, &error))
                return cli_report_error(cli, error);
        print_result(cli, ctx, argv[2], NULL, NULL, FALSE, persist);
        return HD_EXIT_OK;
}
