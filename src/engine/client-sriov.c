/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's SR-IOV and mediated device commands (client.h):
 *   hosts sriov HOST PF [--numvfs N] [--autoprobe yes|no] [--persist] [--dry-run]
 *                                   GET|POST /v1/hosts/{id}/devices/{pf}/sriov
 *   hosts mdev HOST                 GET /v1/hosts/{id}/mdev (types, capacity, leftovers)
 *   vms add-mdev VM HOST TYPE [--no-display]   POST /v1/vms/{id}/mdevs
 *   vms remove-mdev VM UUID                    DELETE /v1/vms/{id}/mdevs/{uuid}
 * --json prints the API's documents (docs/api/engine-openapi.yaml).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

/* A short address BB:DD.F gets domain 0000. */
static char *full_address(const char *a)
{
        if (strlen(a) == 7 && a[2] == ':' && a[5] == '.')
                return g_strconcat("0000:", a, NULL);
        return g_strdup(a);
}

/* ---- hosts sriov ---- */

static void print_pf(JsonObject *pf)
{
        g_autofree char *numvfs = hd_client_int_text(pf, "numvfs");
        g_autofree char *total = hd_client_int_text(pf, "totalvfs");
        g_autofree char *vfs = g_strdup_printf("%s of %s", numvfs, total);
        JsonNode *ab = json_object_get_member(pf, "at_boot");
        JsonNode *vn = json_object_get_member(pf, "vfs");
        JsonArray *list = vn && JSON_NODE_HOLDS_ARRAY(vn) ? json_node_get_array(vn) : NULL;

        hd_client_kv("pf", hd_client_str(pf, "pf"));
        hd_client_kv("driver", hd_client_str(pf, "driver") ? hd_client_str(pf, "driver") : "none");
        hd_client_kv("VFs", vfs);
        hd_client_kv("autoprobe", hd_client_bool_text(pf, "drivers_autoprobe", "yes", "no"));
        if (ab && JSON_NODE_HOLDS_OBJECT(ab)) {
                g_autofree char *n = hd_client_int_text(json_node_get_object(ab), "numvfs");
                g_autofree char *text =
                    g_strdup_printf("%s VFs, autoprobe %s", n,
                                    hd_client_bool_text(json_node_get_object(ab),
                                                        "drivers_autoprobe", "yes", "no"));
                hd_client_kv("at boot", text);
        } else {
                hd_client_kv("at boot", "as the kernel makes it (not persisted)");
        }
        if (!list || json_array_get_length(list) == 0)
                return;
        {
                HdClientTable *t = hd_client_table_new(
                    4, (const char *const[]){"  ADDRESS", "DRIVER", "GROUP", "VM"});
                for (guint i = 0; i < json_array_get_length(list); i++) {
                        JsonObject *vf = json_array_get_object_element(list, i);
                        g_autofree char *addr =
                            g_strdup_printf("  %s", hd_client_str(vf, "address"));
                        g_autofree char *grp = hd_client_int_text(vf, "iommu_group");
                        const char *drv = hd_client_str(vf, "driver");
                        const char *vm = hd_client_str(vf, "vm");
                        hd_client_table_add(
                            t, (const char *const[]){addr, drv ? drv : "-", grp, vm ? vm : "-"});
                }
                hd_client_table_print_free(t);
        }
}

int hd_client_hosts_sriov(HdClient *c, int argc, char **argv)
{
        gint numvfs = -1;
        g_autofree char *autoprobe = NULL;
        gboolean persist = FALSE, dry_run = FALSE;
        const GOptionEntry entries[] = {
            {"numvfs", 0, 0, G_OPTION_ARG_INT, &numvfs,
             "Change the VF count to N (0 removes the VFs); refused while a VF is a VM's device",
             "N"},
            {"autoprobe", 0, 0, G_OPTION_ARG_STRING, &autoprobe,
             "Whether the kernel binds drivers to new VFs (no for VFs meant for vfio-pci)",
             "yes|no"},
            {"persist", 0, 0, G_OPTION_ARG_NONE, &persist, "Make the same VFs at every boot", NULL},
            {"dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
             "Show the writes the change would make, change nothing", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST PF [--numvfs N] [--autoprobe yes|no] [--persist] [--dry-run]",
            "An SR-IOV physical function of the host: its VF count, autoprobe, the layout at "
            "boot and its VFs with the VM that has each; with --numvfs or --autoprobe, the "
            "change, made by the host's agent as one transaction.",
            "Examples:\n  hostdev-engine hosts sriov node1 0000:18:00.0\n"
            "  hostdev-engine hosts sriov node1 18:00.0 --numvfs 8 --autoprobe no --persist\n\n"
            "--json prints the API's HostSriovPf, or after a change its HostSriovReport.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *id = NULL;
        g_autofree char *pf = NULL;
        g_autofree char *path = NULL;
        gboolean change;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 1, 1, &rc)))
                return rc;
        if (autoprobe && strcmp(autoprobe, "yes") != 0 && strcmp(autoprobe, "no") != 0)
                return hd_client_usage(c, "--autoprobe takes yes or no, not \"%s\"", autoprobe);
        if ((persist || dry_run) && numvfs < 0 && !autoprobe)
                return hd_client_usage(c, "--persist and --dry-run go with --numvfs N or "
                                          "--autoprobe yes|no");
        if (numvfs < -1)
                return hd_client_usage(c, "--numvfs takes 0 or more, not %d", numvfs);
        change = numvfs >= 0 || autoprobe;
        pf = full_address(argv[2]);
        {
                g_autofree char *esc = g_uri_escape_string(pf, NULL, FALSE);
                g_autofree char *tail = g_strconcat("devices/", esc, "/sriov", NULL);
                path = hd_client_path("hosts", id, tail);
        }
        if (!change) {
                if (!hd_client_call(c, "GET", path, NULL, &answer, &error))
                        return hd_client_fail(c, error);
                if (c->json)
                        hd_client_print_json(answer);
                else
                        print_pf(json_node_get_object(answer));
                return HD_CLIENT_EXIT_OK;
        }
        {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) body = NULL;
                JsonObject *o;

                json_builder_begin_object(b);
                if (numvfs >= 0) {
                        json_builder_set_member_name(b, "numvfs");
                        json_builder_add_int_value(b, numvfs);
                }
                if (autoprobe) {
                        json_builder_set_member_name(b, "autoprobe");
                        json_builder_add_boolean_value(b, strcmp(autoprobe, "yes") == 0);
                }
                if (persist) {
                        json_builder_set_member_name(b, "persist");
                        json_builder_add_boolean_value(b, TRUE);
                }
                if (dry_run) {
                        json_builder_set_member_name(b, "dry_run");
                        json_builder_add_boolean_value(b, TRUE);
                }
                json_builder_end_object(b);
                body = json_builder_get_root(b);
                if (!hd_client_call(c, "POST", path, body, &answer, &error))
                        return hd_client_fail(c, error);
                if (c->json) {
                        hd_client_print_json(answer);
                        return HD_CLIENT_EXIT_OK;
                }
                o = json_node_get_object(answer);
                {
                        g_autofree char *before = hd_client_int_text(o, "numvfs_before");
                        g_autofree char *now = hd_client_int_text(o, "numvfs");
                        gboolean changed = json_object_has_member(o, "changed") &&
                                           json_object_get_boolean_member(o, "changed");
                        printf("PF %s on host %s: %s%s VFs (%s before), autoprobe %s%s\n", pf,
                               argv[1], dry_run ? "would have " : (changed ? "" : "already "), now,
                               before, hd_client_bool_text(o, "drivers_autoprobe", "yes", "no"),
                               json_object_has_member(o, "persisted") &&
                                       json_object_get_boolean_member(o, "persisted")
                                   ? ", at every boot"
                                   : "");
                }
        }
        return HD_CLIENT_EXIT_OK;
}

/* ---- hosts mdev ---- */

int hd_client_hosts_mdev(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST",
            "The host's mediated device types per parent with the capacity its agent last "
            "reported, and the mdevs of deleted VMs still to be removed (leftovers).",
            "Example:\n  hostdev-engine hosts mdev node1\n\n--json prints the API's HostMdev.",
            NULL);
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *id = NULL;
        JsonObject *o;
        JsonArray *parents, *leftovers;
        HdClientTable *t = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "GET", "hosts", id, "mdev", NULL, &answer)))
                return rc;
        if (c->json) {
                hd_client_print_json(answer);
                return HD_CLIENT_EXIT_OK;
        }
        o = json_node_get_object(answer);
        parents = json_object_get_array_member(o, "parents");
        if (json_array_get_length(parents) == 0)
                printf("host %s has no mediated device parents\n", argv[1]);
        else
                t = hd_client_table_new(
                    5, (const char *const[]){"PARENT", "TYPE", "NAME", "AVAILABLE", "INSTANCES"});
        for (guint i = 0; t && i < json_array_get_length(parents); i++) {
                JsonObject *p = json_array_get_object_element(parents, i);
                JsonArray *types = json_object_get_array_member(p, "types");
                for (guint j = 0; j < json_array_get_length(types); j++) {
                        JsonObject *ty = json_array_get_object_element(types, j);
                        g_autofree char *avail = hd_client_int_text(ty, "available_instances");
                        g_autofree char *inst = hd_client_int_text(ty, "instances");
                        const char *name = hd_client_str(ty, "name");
                        hd_client_table_add(t,
                                            (const char *const[]){hd_client_str(p, "parent"),
                                                                  hd_client_str(ty, "type"),
                                                                  name ? name : "-", avail, inst});
                }
        }
        if (t)
                hd_client_table_print_free(t);
        leftovers = json_object_get_array_member(o, "leftovers");
        for (guint i = 0; leftovers && i < json_array_get_length(leftovers); i++) {
                JsonObject *l = json_array_get_object_element(leftovers, i);
                const char *why = hd_client_str(l, "last_error");
                printf("leftover mdev %s (%s on %s) of deleted VM %s: %s\n",
                       hd_client_str(l, "uuid"), hd_client_str(l, "type"),
                       hd_client_str(l, "parent"), hd_client_str(l, "vm_name"),
                       why ? why : "to be removed");
        }
        return HD_CLIENT_EXIT_OK;
}

/* ---- vms add-mdev, remove-mdev ---- */

static int print_vm_mdevs(HdClient *c, JsonNode *v, const char *vm, const char *what)
{
        JsonArray *a;

        if (c->json) {
                hd_client_print_json(v);
                return HD_CLIENT_EXIT_OK;
        }
        printf("VM %s: %s\n", vm, what);
        a = json_object_get_array_member(json_node_get_object(v), "mdevs");
        for (guint i = 0; a && i < json_array_get_length(a); i++) {
                JsonObject *m = json_array_get_object_element(a, i);
                const char *parent = hd_client_str(m, "parent");
                printf("  mdev %s  %s%s%s%s\n", hd_client_str(m, "uuid"), hd_client_str(m, "type"),
                       hd_client_bool_text(m, "display", "", " (no display)"), parent ? " on " : "",
                       parent ? parent : "");
        }
        return HD_CLIENT_EXIT_OK;
}

int hd_client_vms_add_mdev(HdClient *c, int argc, char **argv)
{
        gboolean no_display = FALSE;
        const GOptionEntry entries[] = {
            {"no-display", 0, 0, G_OPTION_ARG_NONE, &no_display,
             "The guest gets no display from it (a compute-only vGPU)", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM HOST TYPE [--no-display]",
            "Give a VM a mediated device of TYPE on HOST (hosts mdev HOST lists the types): it "
            "gets its own UUID now, is created just before each start on a parent the VM's "
            "placement picks, and removed after the stop. Pins the VM to HOST. Only while the "
            "VM is down.",
            "Example:\n  hostdev-engine vms add-mdev desk1 node1 nvidia-222\n\n"
            "--json prints the API's Vm.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        g_autofree char *host_id = NULL;
        g_autofree char *what = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 2, 2, &rc)))
                return rc;
        if (!(host_id = hd_client_resolve(c, "hosts", argv[2], &error)))
                return hd_client_fail(c, error);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "host_id");
        json_builder_add_string_value(b, host_id);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, argv[3]);
        json_builder_set_member_name(b, "display");
        json_builder_add_boolean_value(b, !no_display);
        json_builder_end_object(b);
        body = json_builder_get_root(b);
        if ((rc = hd_client_request(c, "POST", "vms", id, "mdevs", body, &v)))
                return rc;
        what = g_strdup_printf("mdev of type %s on host %s added", argv[3], argv[2]);
        return print_vm_mdevs(c, v, argv[1], what);
}

int hd_client_vms_remove_mdev(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM UUID",
            "Take a mediated device from a VM (vms show VM --json lists their UUIDs). Only "
            "while the VM is down; one still on the host is removed there by the engine.",
            "Example:\n  hostdev-engine vms remove-mdev desk1 "
            "6f2c1b1e-8c1a-4f5e-9a77-1c2d3e4f5a6b\n\n--json prints the API's Vm.",
            NULL);
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        g_autofree char *tail = NULL;
        g_autofree char *what = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 1, 1, &rc)))
                return rc;
        {
                g_autofree char *esc = g_uri_escape_string(argv[2], NULL, FALSE);
                tail = g_strconcat("mdevs/", esc, NULL);
        }
        if ((rc = hd_client_request(c, "DELETE", "vms", id, tail, NULL, &v)))
                return rc;
        what = g_strdup_printf("mdev %s removed", argv[2]);
        return print_vm_mdevs(c, v, argv[1], what);
}
