/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's USB, SCSI and vhost-scsi subcommands (client.h), as the API has them
 * (docs/api/engine-openapi.yaml):
 *   hosts usb|scsi|vhost-scsi HOST        GET /v1/hosts/{id}/usb|scsi|vhost-scsi (read from
 *                                         the agent now)
 *   vms add-usb VM HOST SPEC [--force]    POST /v1/vms/{id}/usb
 *   vms remove-usb VM N                   DELETE /v1/vms/{id}/usb/{n}
 *   vms add-scsi VM HOST WWID [--shareable] [--readonly] [--force]
 *                                         POST /v1/vms/{id}/scsi
 *   vms remove-scsi VM N                  DELETE /v1/vms/{id}/scsi/{n}
 *   vms add-vhost-scsi VM HOST WWPN       POST /v1/vms/{id}/vhost-scsi
 *   vms remove-vhost-scsi VM N            DELETE /v1/vms/{id}/vhost-scsi/{n}
 * The VM answers are printed by client-vms.c's printer (hd_client_print_vm).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

/* "a, b" of a string array member; "" when empty or absent. */
static char *joined(JsonObject *o, const char *name)
{
        JsonNode *n = json_object_get_member(o, name);
        g_autoptr(GString) s = g_string_new(NULL);

        if (!n || !JSON_NODE_HOLDS_ARRAY(n))
                return g_strdup("");
        for (guint i = 0; i < json_array_get_length(json_node_get_array(n)); i++) {
                JsonNode *e = json_array_get_element(json_node_get_array(n), i);
                if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
                        continue;
                g_string_append_printf(s, "%s%s", s->len ? "; " : "", json_node_get_string(e));
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The spec that names a USB device for good: vendor:product:serial when it has a serial,
 * else its port path. */
static char *usb_spec_of(JsonObject *d)
{
        const char *v = hd_client_str(d, "vendor_id"), *p = hd_client_str(d, "product_id");
        const char *serial = hd_client_str(d, "serial");

        if (v && p && serial && *serial && !strpbrk(serial, " \t\"'"))
                return g_strdup_printf("%s:%s:%s", v, p, serial);
        return g_strdup(hd_client_str(d, "port_path") ? hd_client_str(d, "port_path") : "-");
}

int hd_client_hosts_usb(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST",
            "The host's USB devices, read from its agent now, with the spec that names each for "
            "good (vendor:product:serial, or the port path) and whether it may go to a VM.",
            "Example:\n  hostdev-engine hosts usb desk1\n\n"
            "--json prints the API's HostUsb {host_id, generation, devices}.",
            NULL);
        g_autoptr(JsonNode) list = NULL;
        JsonArray *devs = NULL;
        HdClientTable *t;
        int rc = 0;

        if (!hd_client_host_read(c, octx, argc, argv, "usb", "devices", &list, &devs, &rc))
                return rc;
        t = hd_client_table_new(5,
                                (const char *const[]){"PORT", "SPEC", "KIND", "NAME", "VERDICT"});
        for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
                JsonObject *d = json_array_get_object_element(devs, i);
                g_autofree char *spec = NULL;
                g_autofree char *why = NULL;
                g_autofree char *verdict = NULL;
                const char *name = hd_client_str(d, "product") ? hd_client_str(d, "product")
                                                               : hd_client_str(d, "product_name");

                if (json_object_has_member(d, "root_hub") &&
                    hd_client_bool_text(d, "root_hub", "y", "n")[0] == 'y')
                        continue; /* the controller's own */
                spec = usb_spec_of(d);
                why = joined(d, "reasons");
                verdict = *why ? g_strdup_printf("%s: %s", hd_client_str(d, "verdict"), why)
                               : g_strdup(hd_client_str(d, "verdict") ? hd_client_str(d, "verdict")
                                                                      : "-");
                hd_client_table_add(t, (const char *const[]){hd_client_str(d, "port_path"), spec,
                                                             hd_client_str(d, "kind"),
                                                             name ? name : "-", verdict});
        }
        hd_client_table_set_shrink(t, 4);
        hd_client_table_print_free(t);
        return HD_CLIENT_EXIT_OK;
}

int hd_client_hosts_scsi(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST",
            "The host's SCSI LUNs, read from its agent now: the WWID that names each for good, "
            "its host:channel:target:lun now, its block device, what the host does with it, and "
            "whether it may go to a VM.",
            "Example:\n  hostdev-engine hosts scsi srv1\n\n"
            "--json prints the API's HostScsi {host_id, generation, luns}.",
            NULL);
        g_autoptr(JsonNode) list = NULL;
        JsonArray *luns = NULL;
        HdClientTable *t;
        int rc = 0;

        if (!hd_client_host_read(c, octx, argc, argv, "scsi", "luns", &list, &luns, &rc))
                return rc;
        t = hd_client_table_new(
            6, (const char *const[]){"WWID", "H:C:T:L", "TYPE", "BLOCK", "HOST USE", "VERDICT"});
        for (guint i = 0; luns && i < json_array_get_length(luns); i++) {
                JsonObject *l = json_array_get_object_element(luns, i);
                g_autofree char *use = joined(l, "host_use");
                g_autofree char *verdict =
                    hd_client_str(l, "reason")
                        ? g_strdup_printf("%s: %s", hd_client_str(l, "verdict"),
                                          hd_client_str(l, "reason"))
                        : g_strdup(hd_client_str(l, "verdict") ? hd_client_str(l, "verdict") : "-");
                hd_client_table_add(
                    t, (const char *const[]){
                           hd_client_str(l, "wwid") ? hd_client_str(l, "wwid") : "(none)",
                           hd_client_str(l, "hctl"),
                           hd_client_str(l, "type_name") ? hd_client_str(l, "type_name") : "-",
                           hd_client_str(l, "block") ? hd_client_str(l, "block") : "-",
                           *use ? use : "-", verdict});
        }
        hd_client_table_set_shrink(t, 5);
        hd_client_table_print_free(t);
        return HD_CLIENT_EXIT_OK;
}

int hd_client_hosts_vhost_scsi(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST",
            "The host's vhost-scsi targets (LIO targets in configfs), read from its agent now: "
            "the WWPN that names each for good, its TPG, nexus and LUNs, and whether it is ready "
            "to go to a VM (else what to set up).",
            "Example:\n  hostdev-engine hosts vhost-scsi srv1\n\n"
            "--json prints the API's HostVhostScsi {host_id, generation, targets}.",
            NULL);
        g_autoptr(JsonNode) list = NULL;
        JsonArray *targets = NULL;
        HdClientTable *t;
        int rc = 0;

        if (!hd_client_host_read(c, octx, argc, argv, "vhost-scsi", "targets", &list, &targets,
                                 &rc))
                return rc;
        t = hd_client_table_new(5,
                                (const char *const[]){"WWPN", "TPGT", "NEXUS", "LUNS", "VERDICT"});
        for (guint i = 0; targets && i < json_array_get_length(targets); i++) {
                JsonObject *x = json_array_get_object_element(targets, i);
                g_autofree char *tpgt = hd_client_int_text(x, "tpgt");
                g_autofree char *luns = joined(x, "luns");
                g_autofree char *verdict =
                    hd_client_str(x, "reason")
                        ? g_strdup_printf("not ready: %s", hd_client_str(x, "reason"))
                        : g_strdup(hd_client_bool_text(x, "ready", "ready", "not ready"));
                hd_client_table_add(t, (const char *const[]){hd_client_str(x, "wwpn"), tpgt,
                                                             hd_client_str(x, "nexus")
                                                                 ? hd_client_str(x, "nexus")
                                                                 : "-",
                                                             *luns ? luns : "-", verdict});
        }
        hd_client_table_set_shrink(t, 4);
        hd_client_table_print_free(t);
        return HD_CLIENT_EXIT_OK;
}

/* POST /v1/vms/{id}/@what with {host_id: HOST's id, @key: argv[3], and each of @flags whose
 * option (@values, read after parsing) is set: true}. */
static int add_entry(HdClient *c, GOptionContext *octx, int argc, char **argv, const char *what,
                     const char *key, const char *const *flags, gboolean *const *values)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        g_autofree char *host_id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 2, 2, &rc)))
                return rc;
        if (!(host_id = hd_client_resolve(c, "hosts", argv[2], &error)))
                return hd_client_fail(c, error);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "host_id");
        json_builder_add_string_value(b, host_id);
        json_builder_set_member_name(b, key);
        json_builder_add_string_value(b, argv[3]);
        for (guint i = 0; flags[i]; i++) {
                if (!*values[i])
                        continue;
                json_builder_set_member_name(b, flags[i]);
                json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_end_object(b);
        body = json_builder_get_root(b);
        if ((rc = hd_client_request(c, "POST", "vms", id, what, body, &v)))
                return rc;
        return hd_client_print_vm(c, v);
}

int hd_client_vms_add_usb(HdClient *c, int argc, char **argv)
{
        gboolean force = FALSE;
        const GOptionEntry entries[] = {
            {"force", 0, 0, G_OPTION_ARG_NONE, &force,
             "Let the agent pass a device the host uses (held, mounted storage, its only "
             "keyboard or mouse); never a hub or the root filesystem's disk",
             NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM HOST SPEC",
            "Give a VM a USB device of HOST by what does not change: vendor:product, "
            "vendor:product:serial or its port path (never a device number). The VM is pinned to "
            "HOST; the agent finds the device wherever it is plugged at every start. One owner "
            "per device: refused while another VM has it. Only while the VM is down.",
            "Examples:\n  hostdev-engine vms add-usb lab desk1 0403:6001:A10K7XYZ\n"
            "  hostdev-engine vms add-usb lab desk1 1-3.2\n\n"
            "hostdev-engine hosts usb HOST lists the specs. --json prints the API's Vm.",
            entries);

        return add_entry(c, octx, argc, argv, "usb", "spec", (const char *const[]){"force", NULL},
                         (gboolean *const[]){&force});
}

int hd_client_vms_add_scsi(HdClient *c, int argc, char **argv)
{
        gboolean shareable = FALSE, readonly = FALSE, force = FALSE;
        const GOptionEntry entries[] = {
            {"shareable", 0, 0, G_OPTION_ARG_NONE, &shareable,
             "The LUN may be shared with other VMs that take it shareable", NULL},
            {"readonly", 0, 0, G_OPTION_ARG_NONE, &readonly, "The guest may only read it", NULL},
            {"force", 0, 0, G_OPTION_ARG_NONE, &force,
             "Let the agent pass a LUN the host uses (mounted, swap, LVM); never the root "
             "filesystem's",
             NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM HOST WWID",
            "Give a VM a SCSI LUN of HOST by its WWID (naa./eui./t10./name.) or "
            "/dev/disk/by-id/NAME, never by host:channel:target:lun (it changes at reboot). The "
            "VM is pinned to HOST; the agent finds the LUN at every start. One owner per LUN "
            "unless every VM takes it --shareable. Only while the VM is down.",
            "Example:\n  hostdev-engine vms add-scsi backup srv1 naa.50014380272a1b2c\n\n"
            "hostdev-engine hosts scsi HOST lists the WWIDs. --json prints the API's Vm.",
            entries);

        return add_entry(c, octx, argc, argv, "scsi", "wwid",
                         (const char *const[]){"shareable", "readonly", "force", NULL},
                         (gboolean *const[]){&shareable, &readonly, &force});
}

int hd_client_vms_add_vhost_scsi(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "VM HOST WWPN",
            "Give a VM a vhost-scsi target of HOST by its WWPN (naa. and 16 hex digits, as "
            "configfs names the target). The VM is pinned to HOST; the agent checks at every "
            "start that the target is there and ready (a TPG with a nexus and LUNs). One owner "
            "per target: refused while another VM has it. At most 4 per VM. Only while the VM "
            "is down.",
            "Example:\n  hostdev-engine vms add-vhost-scsi db srv1 naa.5001405000000001\n\n"
            "hostdev-engine hosts vhost-scsi HOST lists the targets. --json prints the API's "
            "Vm.",
            NULL);

        return add_entry(c, octx, argc, argv, "vhost-scsi", "wwpn", (const char *const[]){NULL},
                         (gboolean *const[]){NULL});
}

static int remove_entry(HdClient *c, int argc, char **argv, const char *what, const char *params,
                        const char *summary, const char *example)
{
        g_autoptr(GOptionContext) octx = hd_client_options(c, params, summary, example, NULL);
        g_autoptr(JsonNode) v = NULL;
        g_autofree char *id = NULL;
        g_autofree char *tail = NULL;
        g_autofree char *esc = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "vms", octx, &argc, &argv, 1, 1, &rc)))
                return rc;
        esc = g_uri_escape_string(argv[2], NULL, FALSE);
        tail = g_strconcat(what, "/", esc, NULL);
        if ((rc = hd_client_request(c, "DELETE", "vms", id, tail, NULL, &v)))
                return rc;
        return hd_client_print_vm(c, v);
}

int hd_client_vms_remove_usb(HdClient *c, int argc, char **argv)
{
        return remove_entry(c, argc, argv, "usb", "VM N",
                            "Take the USB device number N (as vms show lists them) from a VM. "
                            "Only while the VM is down.",
                            "Example:\n  hostdev-engine vms remove-usb lab 1\n\n"
                            "--json prints the API's Vm.");
}

int hd_client_vms_remove_scsi(HdClient *c, int argc, char **argv)
{
        return remove_entry(c, argc, argv, "scsi", "VM N",
                            "Take the SCSI LUN number N (as vms show lists them) from a VM. "
                            "Only while the VM is down.",
                            "Example:\n  hostdev-engine vms remove-scsi backup 1\n\n"
                            "--json prints the API's Vm.");
}

int hd_client_vms_remove_vhost_scsi(HdClient *c, int argc, char **argv)
{
        return remove_entry(c, argc, argv, "vhost-scsi", "VM N",
                            "Take the vhost-scsi target number N (as vms show lists them) from a "
                            "VM. Only while the VM is down.",
                            "Example:\n  hostdev-engine vms remove-vhost-scsi db 1\n\n"
                            "--json prints the API's Vm.");
}
