/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev vm attach-device NAME ADDR... [--live|--config]` and `detach-device`: host devices
 * in and out of a libvirt domain through libvirt's API (virsh attach-device / detach-device),
 * with the checks of `hostdev xml`: the devices on vfio-pci unless --managed, the functions of
 * one host device as one multifunction guest slot, guest slots the domain uses avoided. The
 * CLI twin of the agent's /v1/vms.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
        gboolean live, config, managed;
        char *connect;
} VmArgs;

/* What to change: --live, --config, or (neither) the definition and, when it runs, the
 * running domain too. */
static HdVirtAffect affect_of(HdVirt *virt, const char *name, const VmArgs *a, GError **error)
{
        gboolean active = FALSE;

        if (a->live || a->config)
                return (a->live ? HD_VIRT_AFFECT_LIVE : 0) | (a->config ? HD_VIRT_AFFECT_CONFIG : 0);
        if (!hd_virt_is_active(virt, name, &active, error))
                return 0;
        return HD_VIRT_AFFECT_CONFIG | (active ? HD_VIRT_AFFECT_LIVE : 0);
}

static gint by_function_desc(gconstpointer a, gconstpointer b)
{
        const HdGuestDevice *x = *(HdGuestDevice *const *)a;
        const HdGuestDevice *y = *(HdGuestDevice *const *)b;
        int c = hd_address_compare(&x->host, &y->host);

        /* the slot's function 0 last: QEMU scans a hot-plugged slot when function 0 arrives */
        if (hd_address_same_slot(&x->host, &y->host))
                return (int)y->host.function - (int)x->host.function;
        return c;
}

static void print_result(HdCli *cli, const char *verb, const char *name, GArray *hosts,
                         HdVirtAffect affect)
{
        const char *where = (affect & HD_VIRT_AFFECT_LIVE) && (affect & HD_VIRT_AFFECT_CONFIG)
                                ? "running VM and its definition"
                            : (affect & HD_VIRT_AFFECT_LIVE) ? "running VM"
                                                             : "definition (next start)";
        char buf[HD_ADDRESS_STRLEN];

        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "vm");
                json_builder_add_string_value(b, name);
                json_builder_set_member_name(b, strcmp(verb, "attach") == 0 ? "attached"
                                                                             : "detached");
                json_builder_begin_array(b);
                for (guint i = 0; i < hosts->len; i++)
                        json_builder_add_string_value(
                            b, hd_address_format(&g_array_index(hosts, HdAddress, i), buf));
                json_builder_end_array(b);
                json_builder_set_member_name(b, "live");
                json_builder_add_boolean_value(b, (affect & HD_VIRT_AFFECT_LIVE) != 0);
                json_builder_set_member_name(b, "config");
                json_builder_add_boolean_value(b, (affect & HD_VIRT_AFFECT_CONFIG) != 0);
                json_builder_end_object(b);
                cli_print_json(b);
                return;
        }
        for (guint i = 0; i < hosts->len; i++)
                cli_print("%s %s VM %s: %s\n",
                          hd_address_format(&g_array_index(hosts, HdAddress, i), buf),
                          strcmp(verb, "attach") == 0 ? "attached to" : "detached from", name,
                          where);
}

/* The running domain: one device at a time (libvirt's hot-plug), the slot's function 0 last. */
static gboolean attach_live(HdVirt *virt, const char *name, GPtrArray *plan,
                            const HdGuestOptions *opts, GError **error)
{
        g_ptr_array_sort(plan, by_function_desc);
        for (guint i = 0; i < plan->len; i++) {
                g_autoptr(GPtrArray) one = g_ptr_array_new();
                g_autofree char *xml = NULL;

                g_ptr_array_add(one, plan->pdata[i]);
                xml = hd_guest_hostdev_xml(one, opts, 0);
                if (!hd_virt_attach_device(virt, name, xml, HD_VIRT_AFFECT_LIVE, error)) {
                        g_prefix_error(error, "%s: ", ((HdGuestDevice *)plan->pdata[i])->host_name);
                        if (i > 0)
                                g_prefix_error(error,
                                               "%u of %u hot-plugged before this failed "
                                               "(hostdev vm detach-device %s --live takes them "
                                               "out); ",
                                               i, plan->len, name);
                        return FALSE;
                }
        }
        return TRUE;
}

static int attach(HdCli *cli, HdVirt *virt, const char *name, GArray *hosts, const VmArgs *a)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *doc = NULL;
        g_autofree char *patched = NULL;
        g_autoptr(GPtrArray) plan = NULL;
        HdGuestOptions opts = { .managed = a->managed, .rom_bar = HD_ROM_BAR_DEFAULT };
        HdVirtAffect affect;
        HdCtx *ctx = cli_open_ctx(cli, &error);

        if (!ctx || !hd_guest_check_devices(ctx, (HdAddress *)hosts->data, hosts->len, &opts,
                                            &error))
                return cli_report_error(cli, error);
        /* the guest slots planned around those the definition uses, for both halves */
        if (!(doc = hd_virt_get_definition(virt, name, &error)) ||
            !(plan = hd_guest_plan_for_domain(doc, (HdAddress *)hosts->data, hosts->len, &opts,
                                              &error)) ||
            !(affect = affect_of(virt, name, a, &error)))
                return cli_report_error(cli, error);
        /* the running VM first: when hot-plug fails, the definition is as it was */
        if ((affect & HD_VIRT_AFFECT_LIVE) && !attach_live(virt, name, plan, &opts, &error))
                return cli_report_error(cli, error);
        if ((affect & HD_VIRT_AFFECT_CONFIG) &&
            (!(patched = hd_guest_patch_domain_xml(doc, (HdAddress *)hosts->data, hosts->len,
                                                   &opts, &error)) ||
             !hd_virt_define_xml(virt, patched, &error)))
                return cli_report_error(cli, error);
        print_result(cli, "attach", name, hosts, affect);
        return HD_EXIT_OK;
}

static int detach(HdCli *cli, HdVirt *virt, const char *name, GArray *hosts, const VmArgs *a)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *doc = NULL;
        g_autofree char *changed = NULL;
        HdVirtAffect affect;
        char buf[HD_ADDRESS_STRLEN];

        if (!(doc = hd_virt_get_definition(virt, name, &error)) ||
            !(affect = affect_of(virt, name, a, &error)))
                return cli_report_error(cli, error);
        if ((affect & HD_VIRT_AFFECT_CONFIG) &&
            !(changed = hd_guest_remove_hostdevs(doc, (HdAddress *)hosts->data, hosts->len,
                                                 &error))) {
                g_prefix_error(&error, "VM %s: ", name);
                return cli_report_error(cli, error);
        }
        for (guint i = 0; (affect & HD_VIRT_AFFECT_LIVE) && i < hosts->len; i++) {
                const HdAddress *h = &g_array_index(hosts, HdAddress, i);
                /* libvirt finds the device by its source address */
                g_autofree char *xml = g_strdup_printf(
                    "<hostdev mode='subsystem' type='pci' managed='%s'><source><address "
                    "domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source>"
                    "</hostdev>",
                    a->managed ? "yes" : "no", h->domain, h->bus, h->slot, h->function);
                if (!hd_virt_detach_device(virt, name, xml, HD_VIRT_AFFECT_LIVE, &error)) {
                        g_prefix_error(&error, "%s: ", hd_address_format(h, buf));
                        return cli_report_error(cli, error);
                }
        }
        if (changed && !hd_virt_define_xml(virt, changed, &error))
                return cli_report_error(cli, error);
        print_result(cli, "detach", name, hosts, affect);
        return HD_EXIT_OK;
}

int cmd_vm(HdCli *cli, int argc, char **argv)
{
        VmArgs a = { 0 };
        const GOptionEntry entries[] = {
                { "live", 'l', 0, G_OPTION_ARG_NONE, &a.live,
                  "Only the running VM (hot-plug); default: its definition, and the running VM "
                  "too when it runs",
                  NULL },
                { "config", 0, 0, G_OPTION_ARG_NONE, &a.config,
                  "Only the definition (the next start)", NULL },
                { "managed", 0, 0, G_OPTION_ARG_NONE, &a.managed,
                  "attach-device: libvirt detaches and reattaches the devices (they need not be "
                  "on vfio-pci), refused for devices the host needs as hostdev detach refuses "
                  "them",
                  NULL },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &a.connect,
                  "The libvirt URI (default qemu:///system)", "URI" },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "attach-device|detach-device NAME ADDR...",
                "Add host devices to a libvirt domain, or take them out, through libvirt "
                "(virsh attach-device / detach-device), with the checks of hostdev xml: the "
                "devices on vfio-pci unless --managed, the functions of one device as one guest "
                "slot.",
                "hostdev vm attach-device win10 01:00 --live", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) hosts = NULL;
        g_autoptr(HdVirt) virt = NULL;
        g_autofree char *command = NULL;
        int r;

        if (!cli_parse_options(cli, octx, &argc, &argv)) {
                g_free(a.connect);
                return HD_EXIT_USAGE;
        }
        if (argc < 2 || (strcmp(argv[1], "attach-device") != 0 &&
                         strcmp(argv[1], "detach-device") != 0)) {
                g_free(a.connect);
                return cli_usage_error(cli, "say attach-device or detach-device");
        }
        if (argc < 4 || !hd_vm_name_is_valid(argv[2])) {
                g_free(a.connect);
                return cli_usage_error(cli, argc < 4 ? "give the VM's name and at least one device"
                                                     : "'%s' is not a VM name",
                                       argc < 4 ? "" : argv[2]);
        }
        if (a.live && a.config) {
                g_free(a.connect);
                return cli_usage_error(cli, "give --live or --config, or neither for both");
        }
        command = g_strdup_printf("hostdev vm %s %s", argv[1], argv[2]);
        hosts = cli_resolve_devices(cli, argc - 2, argv + 2, TRUE, command, &error);
        if (!hosts || !(virt = hd_virt_open(a.connect, &error))) {
                g_free(a.connect);
                return cli_report_error(cli, error);
        }
        r = strcmp(argv[1], "attach-device") == 0 ? attach(cli, virt, argv[2], hosts, &a)
                                                  : detach(cli, virt, argv[2], hosts, &a);
        g_free(a.connect);
        return r;
}
