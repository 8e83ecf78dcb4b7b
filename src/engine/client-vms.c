/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine vms ...: VMs with host devices through the engine's API (client.h), as the
 * API contract of the VM endpoints has them (docs/api/engine-openapi.yaml, /v1/vms):
 *   list, show, create, edit, delete           GET|POST /v1/vms, GET|PATCH|DELETE /v1/vms/{id}
 *   add-device, remove-device                  POST /v1/vms/{id}/devices,
 *                                              DELETE /v1/vms/{id}/devices/{address}
 *   start, stop, destroy                       POST /v1/vms/{id}/start|stop|destroy
 *   add-usb, remove-usb, add-scsi, remove-scsi, add-vhost-scsi, remove-vhost-scsi
 *                                              client-usbscsi.c
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

/* The VM's USB devices, LUNs and vhost-scsi targets (none: nothing printed). */
static void print_usbscsi(JsonObject *v)
{
        JsonNode *un = json_object_get_member(v, "usb");
        JsonNode *sn = json_object_get_member(v, "scsi");
        JsonArray *usb = un && JSON_NODE_HOLDS_ARRAY(un) ? json_node_get_array(un) : NULL;
        JsonArray *scsi = sn && JSON_NODE_HOLDS_ARRAY(sn) ? json_node_get_array(sn) : NULL;
        JsonNode *vn = json_object_get_member(v, "vhost_scsi");
        JsonArray *vhost = vn && JSON_NODE_HOLDS_ARRAY(vn) ? json_node_get_array(vn) : NULL;

        if (usb && json_array_get_length(usb)) {
                HdClientTable *t =
                    hd_client_table_new(3, (const char *const[]){"  N", "USB SPEC", "FORCE"});
                printf("USB devices:\n");
                for (guint i = 0; i < json_array_get_length(usb); i++) {
                        JsonObject *u = json_array_get_object_element(usb, i);
                        g_autofree char *n = hd_client_int_text(u, "n");
                        g_autofree char *cell = g_strdup_printf("  %s", n);
                        hd_client_table_add(
                            t, (const char *const[]){cell, hd_client_str(u, "spec"),
                                                     hd_client_bool_text(u, "force", "yes", "no")});
                }
                hd_client_table_print_free(t);
        }
        if (scsi && json_array_get_length(scsi)) {
                HdClientTable *t = hd_client_table_new(
                    4, (const char *const[]){"  N", "LUN WWID", "SHAREABLE", "READONLY"});
                printf("SCSI LUNs:\n");
                for (guint i = 0; i < json_array_get_length(scsi); i++) {
                        JsonObject *l = json_array_get_object_element(scsi, i);
                        g_autofree char *n = hd_client_int_text(l, "n");
                        g_autofree char *cell = g_strdup_printf("  %s", n);
                        hd_client_table_add(
                            t,
                            (const char *const[]){cell, hd_client_str(l, "wwid"),
                                                  hd_client_bool_text(l, "shareable", "yes", "no"),
                                                  hd_client_bool_text(l, "readonly", "yes", "no")});
                }
                hd_client_table_print_free(t);
        }
        if (vhost && json_array_get_length(vhost)) {
                HdClientTable *t =
                    hd_client_table_new(2, (const char *const[]){"  N", "VHOST-SCSI WWPN"});
                printf("vhost-scsi targets:\n");
                for (guint i = 0; i < json_array_get_length(vhost); i++) {
                        JsonObject *x = json_array_get_object_element(vhost, i);
                        g_autofree char *n = hd_client_int_text(x, "n");
                        g_autofree char *cell = g_strdup_printf("  %s", n);
                        hd_client_table_add(t,
                                            (const char *const[]){cell, hd_client_str(x, "wwpn")});
                }
                hd_client_table_print_free(t);
        }
}

static void print_vm(JsonObject *v)
{
        g_autofree char *mem = hd_client_int_text(v, "memory_mib");
        g_autofree char *cpus = hd_client_int_text(v, "vcpus");
        g_autofree char *size = g_strdup_printf("%s MiB, %s vCPUs", mem, cpus);
        JsonNode *dn = json_object_get_member(v, "devices");
        JsonArray *devs = dn && JSON_NODE_HOLDS_ARRAY(dn) ? json_node_get_array(dn) : NULL;

        hd_client_kv("name", hd_client_str(v, "name"));
        hd_client_kv("id", hd_client_str(v, "id"));
        hd_client_kv("state", hd_client_str(v, "state"));
        hd_client_kv("size", size);
        hd_client_kv("host", hd_client_str(v, "host_name") ? hd_client_str(v, "host_name")
                                                           : "(not pinned: no host devices)");
        if (hd_client_str(v, "hardware_changed"))
                hd_client_kv("hardware changed", hd_client_str(v, "hardware_changed"));
        if (hd_client_str(v, "last_error"))
                hd_client_kv("last error", hd_client_str(v, "last_error"));
        print_usbscsi(v);
        {
                JsonNode *mn = json_object_get_member(v, "mdevs");
                JsonArray *mdevs = mn && JSON_NODE_HOLDS_ARRAY(mn) ? json_node_get_array(mn) : NULL;
                for (guint i = 0; mdevs && i < json_array_get_length(mdevs); i++) {
                        JsonObject *m = json_array_get_object_element(mdevs, i);
                        const char *parent = hd_client_str(m, "parent");
                        g_autofree char *text = g_strdup_printf(
                            "%s %s%s%s%s", hd_client_str(m, "type"), hd_client_str(m, "uuid"),
                            hd_client_bool_text(m, "display", "", " (no display)"),
                            parent ? " on " : "", parent ? parent : "");
                        hd_client_kv("mdev", text);
                }
        }
        if (!devs || json_array_get_length(devs) == 0) {
                hd_client_kv("host devices", "none");
                return;
        }
        printf("host devices:\n");
        {
                HdClientTable *t =
                    hd_client_table_new(5, (const char *const[]){"  ADDRESS", "VENDOR:DEVICE",
                                                                 "GROUP", "ROLE", "PRESENT"});
                for (guint i = 0; i < json_array_get_length(devs); i++) {
                        JsonObject *d = json_array_get_object_element(devs, i);
                        g_autofree char *addr =
                            g_strdup_printf("  %s", hd_client_str(d, "address"));
                        g_autofree char *ids = hd_client_device_ids(d);
                        g_autofree char *grp = hd_client_int_text(d, "iommu_group");
                        const char *present = hd_client_bool_text(d, "present", "yes", "NO");
                        hd_client_table_add(t, (const char *const[]){addr, ids, grp,
                                                                     hd_client_str(d, "role"),
                                                                     present});
                }
                hd_client_table_print_free(t);
        }
}

int hd_client_print_vm(HdClient *c, JsonNode *n)
{
        if (c->json)
                hd_client_print_json(n);
        else if (n && JSON_NODE_HOLDS_OBJECT(n))
                print_vm(json_node_get_object(n));
        return HD_CLIENT_EXIT_OK;
}

static int vms_list(HdClient *c, int argc, char **argv)
{
        g_autofree char *host = NULL, *state = NULL, *prefix = NULL;
        gint limit = 0, offset = 0;
        const GOptionEntry entries[] = {
            {"host", 0, 0, G_OPTION_ARG_STRING, &host, "Only VMs pinned to HOST (name or id)",
             "HOST"},
            {"state", 0, 0, G_OPTION_ARG_STRING, &state,
             "Only VMs in STATE: down, starting, running, stopping", "STATE"},
            {"name-prefix", 0, 0, G_OPTION_ARG_STRING, &prefix,
             "Only VMs whose name starts with PREFIX", "PREFIX"},
            {"limit", 0, 0, G_OPTION_ARG_INT, &limit, "One page of N VMs (default: all)", "N"},
            {"offset", 0, 0, G_OPTION_ARG_INT, &offset, "The page starts after N VMs", "N"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "", "List the VMs with their state, host and host devices.",
            "Example:\n  hostdev-engine vms list --host node1\n\n"
            "--json prints the API's VmList {vms, total, limit, offset} (every page joined "
            "unless --limit).",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) list = NULL;
        g_autoptr(GString) pq = g_string_new("/v1/vms?");
        g_autofree char *host_id = NULL;
        JsonArray *vms;
        HdClientTable *t;
        int rc = 0;

        if (!hd_client_parse(c, octx, &argc, &argv, 0, 0))
                return HD_CLIENT_EXIT_USAGE;
        if (limit < 0 || offset < 0)
                return hd_client_usage(c, "--limit and --offset are not negative");
        if (host && !(host_id = hd_client_resolve(c, "hosts", host, &error)))
                return hd_client_fail(c, error);
        hd_client_add_query(pq, (const char *const[]){"host_id", host_id, "state", state,
                                                      "name_prefix", prefix, NULL, NULL});
        if (!(list = hd_client_get_list(c, pq, limit, offset, "vms", &rc)))
                return rc;
        if (c->json) {
                hd_client_print_json(list);
                return HD_CLIENT_EXIT_OK;
        }
        vms = json_object_get_array_member(json_node_get_object(list), "vms");
        t = hd_client_table_new(
            6, (const char *const[]){"NAME", "STATE", "HOST", "MEMORY", "VCPUS", "HOST-DEVICES"});
        for (guint i = 0; i < json_array_get_length(vms); i++) {
                JsonObject *v = json_array_get_object_element(vms, i);
                g_autofree char *mem = hd_client_int_text(v, "memory_mib");
                g_autofree char *cpus = hd_client_int_text(v, "vcpus");
                JsonNode *dn = json_object_get_member(v, "devices");
                g_autoptr(GString) devs = g_string_new(NULL);
                JsonArray *da = dn && JSON_NODE_HOLDS_ARRAY(dn) ? json_node_get_array(dn) : NULL;

                for (guint j = 0; da && j < json_array_get_length(da); j++) {
                        JsonObject *d = json_array_get_object_element(da, j);
                        if (g_strcmp0(hd_client_str(d, "role"), "requested") == 0)
                                g_string_append_printf(devs, "%s%s", devs->len ? " " : "",
                                                       hd_client_str(d, "address"));
                }
                if (hd_client_str(v, "hardware_changed"))
                        g_string_append(devs, " (hardware changed)");
                hd_client_table_add(
                    t, (const char *const[]){hd_client_str(v, "name"), hd_client_str(v, "state"),
                                             hd_client_str(v, "host_name"), mem, cpus, devs->str});
        }
        hd_client_table_print_free(t);
        if (json_array_get_length(vms) == 0)
                printf("no VMs%s; create one with hostdev-engine vms create NAME --memory MIB "
                       "--vcpus N\n",
                       host || state || prefix ? " match" : "");
        return HD_CLIENT_EXIT_OK;
}

static int vms_show(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM", "One VM: its state, host, and host devices (requested and placeholders).",
            "Example:\n  hostdev-engine vms show gpu-vm\n\n--json prints the API's Vm.", NULL);
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "GET", "vms", id, NULL, NULL, &v)))
                return rc;
        return hd_client_print_vm(c, v);
}

/* {name?, memory_mib?, vcpus?} */
static JsonNode *vm_body(const char *name, gint memory, gint vcpus)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        if (name) {
                json_builder_set_member_name(b, "name");
                json_builder_add_string_value(b, name);
        }
        if (memory) {
                json_builder_set_member_name(b, "memory_mib");
                json_builder_add_int_value(b, memory);
        }
        if (vcpus) {
                json_builder_set_member_name(b, "vcpus");
                json_builder_add_int_value(b, vcpus);
        }
        json_builder_end_object(b);
        return json_builder_get_root(b);
}

static int vms_create(HdClient *c, int argc, char **argv)
{
        gint memory = 0, vcpus = 0;
        const GOptionEntry entries[] = {
            {"memory", 'm', 0, G_OPTION_ARG_INT, &memory, "Memory in MiB", "MIB"},
            {"vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Virtual CPUs", "N"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "NAME --memory MIB --vcpus N",
            "Create a VM (down, not pinned to a host until it gets host devices).",
            "Example:\n  hostdev-engine vms create gpu-vm --memory 8192 --vcpus 4\n\n"
            "--json prints the API's Vm.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) v = NULL;

        if (!hd_client_parse(c, octx, &argc, &argv, 1, 1))
                return HD_CLIENT_EXIT_USAGE;
        if (memory <= 0 || vcpus <= 0)
                return hd_client_usage(c, "vms create needs --memory MIB and --vcpus N (above 0)");
        body = vm_body(argv[1], memory, vcpus);
        if (!hd_client_call(c, "POST", "/v1/vms", body, &v, &error))
                return hd_client_fail(c, error);
        if (!c->json)
                printf("VM %s created\n", argv[1]);
        return hd_client_print_vm(c, v);
}

static int vms_edit(HdClient *c, int argc, char **argv)
{
        g_autofree char *name = NULL;
        gint memory = 0, vcpus = 0;
        const GOptionEntry entries[] = {
            {"name", 0, 0, G_OPTION_ARG_STRING, &name, "Rename the VM", "NAME"},
            {"memory", 'm', 0, G_OPTION_ARG_INT, &memory, "Memory in MiB", "MIB"},
            {"vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Virtual CPUs", "N"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx =
            hd_client_options(c, "VM [--name NAME] [--memory MIB] [--vcpus N]",
                              "Change a VM's name, memory or vCPUs (only while it is down).",
                              "Example:\n  hostdev-engine vms edit gpu-vm --memory 16384\n\n"
                              "--json prints the API's Vm.",
                              entries);
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if (!name && memory <= 0 && vcpus <= 0)
                return hd_client_usage(c, "nothing to change: give --name, --memory or --vcpus");
        body = vm_body(name, MAX(memory, 0), MAX(vcpus, 0));
        if ((rc = hd_client_request(c, "PATCH", "vms", id, NULL, body, &v)))
                return rc;
        return hd_client_print_vm(c, v);
}

static int vms_delete(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM", "Delete a VM with its host devices (refused unless it is down).",
            "Example:\n  hostdev-engine vms delete gpu-vm\n\n"
            "--json prints {\"id\", \"name\", \"deleted\": true}.",
            NULL);
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "DELETE", "vms", id, NULL, NULL, NULL)))
                return rc;
        if (c->json)
                hd_client_print_done(id, argv[1], "deleted");
        else
                printf("VM %s deleted\n", argv[1]);
        return HD_CLIENT_EXIT_OK;
}

/* "01:00.0" -> "0000:01:00.0"; anything else as given (the engine checks it). */
static char *full_address(const char *a)
{
        if (strlen(a) == 7 && a[2] == ':' && a[5] == '.')
                return g_strconcat("0000:", a, NULL);
        return g_strdup(a);
}

static int vms_add_device(HdClient *c, int argc, char **argv)
{
        g_autofree char *host = NULL;
        const GOptionEntry entries[] = {
            {"host", 0, 0, G_OPTION_ARG_STRING, &host,
             "The host of the devices (name or id; default: the host the VM is pinned to)", "HOST"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM --host HOST ADDRESS...",
            "Give a VM host devices: it is pinned to their host, and the rest of each device's "
            "IOMMU group is reserved as placeholders (adding a placeholder makes it requested). "
            "Only while the VM is down.",
            "Example:\n  hostdev-engine vms add-device gpu-vm --host node1 0000:01:00.0\n\n"
            "--json prints the API's Vm.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        g_autofree char *host_id = NULL;
        g_autofree char *path = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 1, G_MAXINT - 2, &rc)))
                return rc;
        path = hd_client_path("vms", id, NULL);
        if (host) {
                host_id = hd_client_resolve(c, "hosts", host, &error);
        } else {
                g_autoptr(JsonNode) vm = NULL;
                if (hd_client_call(c, "GET", path, NULL, &vm, &error)) {
                        const char *h = hd_client_str(json_node_get_object(vm), "host_id");
                        if (!h)
                                return hd_client_usage(c,
                                                       "VM %s is not pinned to a host yet: "
                                                       "give --host HOST",
                                                       argv[1]);
                        host_id = g_strdup(h);
                }
        }
        if (!host_id)
                return hd_client_fail(c, error);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "host_id");
        json_builder_add_string_value(b, host_id);
        json_builder_set_member_name(b, "addresses");
        json_builder_begin_array(b);
        for (int i = 2; i < argc; i++) {
                g_autofree char *a = full_address(argv[i]);
                json_builder_add_string_value(b, a);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        body = json_builder_get_root(b);
        if ((rc = hd_client_request(c, "POST", "vms", id, "devices", body, &v)))
                return rc;
        return hd_client_print_vm(c, v);
}

static int vms_remove_device(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM ADDRESS",
            "Take a host device from a VM: it stays a placeholder while its IOMMU group has a "
            "requested member; a group with none goes. Only while the VM is down.",
            "Example:\n  hostdev-engine vms remove-device gpu-vm 0000:01:00.0\n\n"
            "--json prints the API's Vm.",
            NULL);
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        g_autofree char *addr = NULL;
        g_autofree char *tail = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 1, 1, &rc)))
                return rc;
        addr = full_address(argv[2]);
        {
                g_autofree char *esc = g_uri_escape_string(addr, NULL, FALSE);
                tail = g_strconcat("devices/", esc, NULL);
        }
        if ((rc = hd_client_request(c, "DELETE", "vms", id, tail, NULL, &v)))
                return rc;
        return hd_client_print_vm(c, v);
}

static int vm_action(HdClient *c, int argc, char **argv, const char *action, const char *summary,
                     const char *example, const char *done)
{
        g_autoptr(GOptionContext) octx = hd_client_options(c, "VM", summary, example, NULL);
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "POST", "vms", id, action, NULL, &v)))
                return rc;
        if (c->json)
                return hd_client_print_vm(c, v);
        printf("VM %s %s (state %s)\n", argv[1], done,
               v && JSON_NODE_HOLDS_OBJECT(v) ? hd_client_str(json_node_get_object(v), "state")
                                              : "?");
        return HD_CLIENT_EXIT_OK;
}

static int vms_start(HdClient *c, int argc, char **argv)
{
        return vm_action(c, argc, argv, "start",
                         "Start a VM on its host: refused, with the reason, when the host is not "
                         "up or has passthrough disabled, a device is missing or changed, or "
                         "another running VM uses a device of its groups.",
                         "Example:\n  hostdev-engine vms start gpu-vm\n\n"
                         "--json prints the API's Vm once the agent answered.",
                         "started");
}

static int vms_stop(HdClient *c, int argc, char **argv)
{
        return vm_action(c, argc, argv, "stop",
                         "Shut a VM down; its host devices go back to their host drivers.",
                         "Example:\n  hostdev-engine vms stop gpu-vm\n\n"
                         "--json prints the API's Vm once the agent answered.",
                         "stopped");
}

static int vms_destroy(HdClient *c, int argc, char **argv)
{
        return vm_action(c, argc, argv, "destroy",
                         "Power a VM off at once (no guest shutdown); its host devices go back "
                         "to their host drivers.",
                         "Example:\n  hostdev-engine vms destroy gpu-vm\n\n"
                         "--json prints the API's Vm once the agent answered.",
                         "destroyed");
}

const HdClientCommand hd_client_vm_commands[] = {
    {"list", vms_list, "VMs with their state, host and host devices"},
    {"show", vms_show, "One VM with its host devices and placeholders"},
    {"create", vms_create, "Create a VM (name, memory, vCPUs)"},
    {"edit", vms_edit, "Change a VM's name, memory or vCPUs"},
    {"delete", vms_delete, "Delete a VM (only while down)"},
    {"add-device", vms_add_device, "Give a VM host devices (pins it to their host)"},
    {"remove-device", vms_remove_device, "Take a host device from a VM"},
    {"add-usb", hd_client_vms_add_usb, "Give a VM a USB device by stable identity"},
    {"remove-usb", hd_client_vms_remove_usb, "Take a USB device from a VM"},
    {"add-scsi", hd_client_vms_add_scsi, "Give a VM a SCSI LUN by WWID"},
    {"remove-scsi", hd_client_vms_remove_scsi, "Take a SCSI LUN from a VM"},
    {"add-vhost-scsi", hd_client_vms_add_vhost_scsi, "Give a VM a vhost-scsi target by WWPN"},
    {"remove-vhost-scsi", hd_client_vms_remove_vhost_scsi, "Take a vhost-scsi target from a VM"},
    {"add-mdev", hd_client_vms_add_mdev, "Give a VM a mediated device of a type"},
    {"remove-mdev", hd_client_vms_remove_mdev, "Take a mediated device from a VM"},
    {"start", vms_start, "Start a VM on its host"},
    {"stop", vms_stop, "Shut a VM down"},
    {"destroy", vms_destroy, "Power a VM off at once"},
    {NULL, NULL, NULL},
};
