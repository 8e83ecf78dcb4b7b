/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev usb list|show|xml|qemu-args`: USB devices for passthrough (usb.h). A device is named
 * by vendor:product[:serial] or by its port path, never by its device number; each has a
 * verdict (ready, or why the host keeps it) that xml and qemu-args enforce unless --force.
 *
 * Why a `usb` command group rather than `hostdev xml --usb SPEC`: the positional arguments of
 * xml and qemu-args are PCI devices, and "VVVV:PPPP" is already their vendor:device form, so a
 * USB identity there would be ambiguous; their options (--managed, --rom-bar, --rom-file,
 * --machine, --primary-gpu, --guest-address) concern PCI functions and VFIO only. USB has its
 * own grammar (identities, --serial) and its own checks, as `vm attach-device` has its own.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "utf8.h"

typedef struct {
        char *serial;
        gboolean force;
        char *xhci;
} UsbArgs;

static int open_devices(HdCli *cli, HdCtx **ctx, GPtrArray **devices)
{
        g_autoptr(GError) error = NULL;

        if (!(*ctx = cli_open_ctx(cli, &error)) || !(*devices = hd_usb_scan(*ctx, &error)))
                return cli_report_error(cli, error);
        hd_usb_evaluate(*ctx, *devices);
        return HD_EXIT_OK;
}

static char *drivers_of(const HdUsbDevice *d)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new();

        for (guint i = 0; i < d->interfaces->len; i++) {
                const char *drv = ((HdUsbInterface *)d->interfaces->pdata[i])->driver;
                gboolean seen = FALSE;

                for (guint k = 0; drv && k < names->len; k++)
                        seen = seen || strcmp(names->pdata[k], drv) == 0;
                if (drv && !seen)
                        g_ptr_array_add(names, (gpointer)drv);
        }
        return cli_join(names, ",");
}

static char *ids_of(const HdUsbDevice *d)
{
        if (d->vendor_id < 0 || d->product_id < 0)
                return g_strdup("-");
        return g_strdup_printf("%04x:%04x", (guint)d->vendor_id, (guint)d->product_id);
}

static int usb_list(HdCli *cli)
{
        static const char *const headers[] = {"PORT",  "ID",      "NAME",       "SERIAL", "SPEED",
                                              "CLASS", "DRIVERS", "CONTROLLER", "VERDICT"};
        g_autoptr(GPtrArray) devices = NULL;
        g_autoptr(CliTable) t = NULL;
        HdCtx *ctx;
        int r = open_devices(cli, &ctx, &devices);

        if (r != HD_EXIT_OK)
                return r;
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "devices");
                json_builder_begin_array(b);
                for (guint i = 0; i < devices->len; i++)
                        hd_usb_json_add_device(b, devices->pdata[i]);
                json_builder_end_array(b);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (devices->len == 0) {
                cli_print("no USB devices (no sys/bus/usb/devices on this host)\n");
                return HD_EXIT_OK;
        }
        t = cli_table_new(G_N_ELEMENTS(headers), headers);
        for (guint i = 0; i < devices->len; i++) {
                const HdUsbDevice *d = devices->pdata[i];
                g_autofree char *ids = ids_of(d);
                g_autofree char *kind = hd_usb_device_kind(d);
                g_autofree char *drivers = drivers_of(d);
                const char *name = hd_usb_device_name(d);
                const char *cells[] = {d->port_path,
                                       ids,
                                       name ? name : "-",
                                       d->root_hub || !d->serial ? "-" : d->serial,
                                       d->speed ? d->speed : "-",
                                       kind,
                                       drivers ? drivers : "-",
                                       d->controller ? d->controller : "-",
                                       d->verdict};
                cli_table_add_row(t, cells);
        }
        cli_table_print(t, 2, cli_output_width(cli));
        return HD_EXIT_OK;
}

static gboolean parse_spec(HdCli *cli, const char *text, const char *serial, HdUsbSpec *spec,
                           int *exit_code)
{
        g_autoptr(GError) error = NULL;

        if (hd_usb_spec_parse(text, serial, spec, &error))
                return TRUE;
        *exit_code = cli_usage_error(cli, "%s", error->message);
        return FALSE;
}

static void print_device(const HdUsbDevice *d)
{
        g_autofree char *ids = ids_of(d);
        g_autofree char *kind = hd_usb_device_kind(d);
        const char *name = hd_usb_device_name(d);
        const char *maker = d->manufacturer ? d->manufacturer : d->vendor_name;
        const char *model = d->product ? d->product : d->product_name;

        cli_print("%s  %s %s%s%s\n", d->port_path, ids, maker ? maker : "",
                  maker && model ? " " : "", model ? model : "");
        cli_print("  kind:        %s%s\n", kind, name ? "" : " (no product string)");
        if (d->serial)
                cli_print("  serial:      %s\n", d->serial);
        cli_print("  bus %d, device %d (changes at every replug), port path %s\n", d->busnum,
                  d->devnum, d->root_hub ? "-" : d->port_path);
        cli_print("  speed:       %s Mb/s%s\n", d->speed ? d->speed : "?",
                  hd_usb_device_is_superspeed(d) ? " (SuperSpeed: the guest needs an xHCI "
                                                   "controller)"
                                                 : "");
        if (d->removable)
                cli_print("  removable:   %s\n", d->removable);
        if (d->authorized == 0)
                cli_print("  authorized:  no (the kernel has not configured it)\n");
        if (d->maxchild > 0)
                cli_print("  ports:       %d\n", d->maxchild);
        cli_print("  controller:  %s%s\n", d->controller ? d->controller : "not on PCI",
                  d->iommu_group >= 0 ? "" : (d->controller ? " (no IOMMU group)" : ""));
        if (d->iommu_group >= 0)
                cli_print("  IOMMU group: %d (the controller's)\n", d->iommu_group);
        if (d->node)
                cli_print("  node:        %s\n", d->node);
        for (guint i = 0; i < d->interfaces->len; i++) {
                const HdUsbInterface *f = d->interfaces->pdata[i];
                const char *cname = f->iface_class >= 0 ? hd_usb_class_name(f->iface_class) : NULL;
                g_autofree char *blocks = cli_join(f->blockdevs, " ");

                cli_print("  interface %s: class %02x/%02x/%02x%s%s%s, %s%s%s\n", f->name,
                          (guint)MAX(f->iface_class, 0), (guint)MAX(f->subclass, 0),
                          (guint)MAX(f->protocol, 0), cname ? " (" : "", cname ? cname : "",
                          cname ? ")" : "", f->driver ? f->driver : "no driver",
                          blocks ? ", block devices " : "", blocks ? blocks : "");
        }
        for (guint i = 0; i < d->host_use->len; i++)
                cli_print("  host use:    %s\n", (char *)d->host_use->pdata[i]);
        cli_print("  verdict:     %s\n", d->verdict);
        for (guint i = 0; i < d->reasons->len; i++)
                cli_print("    %s\n", (char *)d->reasons->pdata[i]);
        if (d->forceable)
                cli_print(
                    "    (hostdev usb xml|qemu-args --force gives it to a VM all the same)\n");
}

static int usb_show(HdCli *cli, int argc, char **argv, const UsbArgs *a)
{
        g_auto(HdUsbSpec) spec = {0};
        g_autoptr(GPtrArray) devices = NULL;
        g_autoptr(GError) error = NULL;
        HdUsbDevice *d;
        HdCtx *ctx;
        int r;

        if (argc != 3)
                return cli_usage_error(cli, "usb show takes one device: vendor:product[:serial] "
                                            "or a port path (hostdev usb list shows them)");
        if (a->force || a->xhci)
                return cli_usage_error(cli, "%s goes with usb %s", a->force ? "--force" : "--xhci",
                                       a->force ? "xml and usb qemu-args" : "qemu-args");
        if (!parse_spec(cli, argv[2], a->serial, &spec, &r))
                return r;
        if ((r = open_devices(cli, &ctx, &devices)) != HD_EXIT_OK)
                return r;
        if (!(d = hd_usb_resolve(ctx, devices, &spec, "hostdev usb show", &error)))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                hd_usb_json_add_device(b, d);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        print_device(d);
        return HD_EXIT_OK;
}

static void print_warnings(GPtrArray *warnings)
{
        for (guint i = 0; i < warnings->len; i++) {
                g_autofree char *w = hd_utf8_printable(warnings->pdata[i]);
                fprintf(stderr, "warning: %s\n", w);
        }
}

static int usb_guest(HdCli *cli, int argc, char **argv, const UsbArgs *a, gboolean xml)
{
        const char *command = xml ? "hostdev usb xml" : "hostdev usb qemu-args";
        g_autoptr(GPtrArray) devices = NULL;
        g_autoptr(GArray) chosen = g_array_new(FALSE, TRUE, sizeof(HdUsbGuestDevice));
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        HdUsbGuestOptions opts = {.force = a->force, .xhci = a->xhci};
        HdCtx *ctx;
        int r;

        if (argc < 3)
                return cli_usage_error(cli, "give at least one USB device: "
                                            "vendor:product[:serial] or a port path (hostdev "
                                            "usb list shows them)");
        if (a->serial && argc != 3)
                return cli_usage_error(cli, "--serial goes with one device; name several as "
                                            "VVVV:PPPP:SERIAL each");
        if (a->xhci && (xml || !hd_usb_qemu_id_is_valid(a->xhci)))
                return cli_usage_error(cli, xml ? "--xhci goes with usb qemu-args"
                                                : "--xhci: a QEMU device id is a letter, then "
                                                  "letters, digits, '-', '.' or '_'");
        if ((r = open_devices(cli, &ctx, &devices)) != HD_EXIT_OK)
                return r;
        for (int i = 2; i < argc; i++) {
                g_auto(HdUsbSpec) spec = {0};
                g_autoptr(GError) error = NULL;
                HdUsbGuestDevice g = {0};

                if (!parse_spec(cli, argv[i], a->serial, &spec, &r))
                        return r;
                if (!hd_usb_guest_prepare(ctx, devices, &spec, &opts, command, &g, warnings,
                                          &error))
                        return cli_report_error(cli, error);
                for (guint k = 0; k < chosen->len; k++)
                        if (g_array_index(chosen, HdUsbGuestDevice, k).dev == g.dev) {
                                g_set_error(&error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "USB device %s is named twice (%s)", g.dev->port_path,
                                            argv[i]);
                                return cli_report_error(cli, error);
                        }
                g_array_append_val(chosen, g);
        }
        if (xml) {
                g_autofree char *s =
                    hd_usb_guest_xml((HdUsbGuestDevice *)chosen->data, chosen->len, warnings);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        hd_usb_json_add_guest_xml(b, s, warnings);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else {
                        fputs(s, stdout);
                }
        } else {
                g_auto(GStrv) args = hd_usb_guest_qemu_args((HdUsbGuestDevice *)chosen->data,
                                                            chosen->len, &opts, warnings);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "args");
                        json_builder_begin_array(b);
                        for (char **p = args; *p; p++)
                                json_builder_add_string_value(b, *p);
                        json_builder_end_array(b);
                        hd_json_add_string_list(b, "warnings", warnings);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else {
                        for (char **p = args; *p && p[1]; p += 2)
                                printf("%s %s\n", p[0], p[1]);
                }
        }
        if (!cli->json)
                print_warnings(warnings);
        return HD_EXIT_OK;
}

int cmd_usb(HdCli *cli, int argc, char **argv)
{
        UsbArgs a = {0};
        const GOptionEntry entries[] = {
            {"serial", 's', 0, G_OPTION_ARG_STRING, &a.serial,
             "With one vendor:product: the device with this serial (the same as "
             "VVVV:PPPP:SERIAL)",
             "SERIAL"},
            {"force", 'f', 0, G_OPTION_ARG_NONE, &a.force,
             "xml, qemu-args: give the device even though the host uses it (held by a "
             "process or usbfs, mounted storage, the only keyboard or mouse); never a hub, "
             "a root hub or the root filesystem",
             NULL},
            {"xhci", 0, 0, G_OPTION_ARG_STRING, &a.xhci,
             "qemu-args: the id of the guest's xHCI controller, already on its command line: "
             "the devices go on ID.0 and no qemu-xhci is added",
             "ID"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "list | show SPEC | xml SPEC... | qemu-args SPEC...",
            "USB devices for passthrough. SPEC is vendor:product (046d:c52b), "
            "vendor:product:serial (0403:6001:A10K7XYZ, or --serial) or a port path "
            "(1-2.3: whatever is plugged into that port), never the device number, which "
            "changes at every replug. list and show give each device's verdict, which xml "
            "(libvirt <hostdev type='usb'>) and qemu-args (QEMU usb-host on a guest xHCI) "
            "enforce: hubs, root hubs and the root filesystem's disk are refused, and unless "
            "--force the host's only keyboard or mouse, mounted storage and devices held by a "
            "process or usbfs.",
            "hostdev usb qemu-args 0403:6001:A10K7XYZ", entries);
        int r;

        if (!cli_parse_options(cli, octx, &argc, &argv)) {
                g_free(a.serial);
                g_free(a.xhci);
                return HD_EXIT_USAGE;
        }
        if (argc < 2) {
                r = cli_usage_error(cli, "say list, show, xml or qemu-args");
        } else if (strcmp(argv[1], "list") == 0) {
                r = argc != 2 || a.serial || a.force || a.xhci
                        ? cli_usage_error(cli, "usb list takes no device and no --serial, "
                                               "--force or --xhci")
                        : usb_list(cli);
        } else if (strcmp(argv[1], "show") == 0) {
                r = usb_show(cli, argc, argv, &a);
        } else if (strcmp(argv[1], "xml") == 0 || strcmp(argv[1], "qemu-args") == 0) {
                r = usb_guest(cli, argc, argv, &a, strcmp(argv[1], "xml") == 0);
        } else {
                g_autofree char *shown =
                    g_utf8_make_valid(argv[1], (gssize)MIN(strlen(argv[1]), 40));
                r = cli_usage_error(cli,
                                    "'%s' is not a usb command: say list, show, xml or "
                                    "qemu-args",
                                    shown);
        }
        g_free(a.serial);
        g_free(a.xhci);
        return r;
}
