/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev xml` and `hostdev qemu-args`: the configuration that gives devices to a VM. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "parse.h"

/* libvirt keeps domain XML far smaller than this. */
#define DOMAIN_XML_MAX (16 * 1024 * 1024)

typedef struct {
        gboolean managed;
        char **rom_bar;     /* "on|off" (every device) or "ADDRESS=on|off", repeatable */
        GArray *rom_bars;   /* HdGuestRomBar */
        char *machine;
        gboolean primary_gpu;
        char **rom_files; /* "FILE" (the first device) or "ADDRESS=FILE", repeatable */
        GArray *roms;     /* HdGuestRom, pointing into rom_files */
        char *guest_address;
        char *domain_file; /* a file, or the name of a libvirt domain */
        char *connect;     /* libvirt URI for a domain by name */
        gboolean write_back;
        gboolean interface; /* xml: <interface type='hostdev'> for a NIC VF */
        char *mac;
        char *vlan;
} GuestArgs;

/* --force may be given twice, as for detach; GOption has no counting flag. */
static guint force_count;

static gboolean count_force(const char *name, const char *value, gpointer data, GError **error)
{
        force_count++;
        return TRUE;
}

/* "DDDD:BB:SS" (or "BB:SS"): where the first guest slot goes. */
static gboolean parse_guest_address(const char *s, HdGuestOptions *o, GError **error)
{
        g_auto(GStrv) parts = g_strsplit(s, ":", -1);
        guint n = g_strv_length(parts);
        guint64 dom = 0, bus, slot;

        if ((n == 3 && hd_is_hex_string(parts[0], 4, 4) && hd_parse_hex(parts[0], 0xffff, &dom) &&
             hd_is_hex_string(parts[1], 2, 2) && hd_parse_hex(parts[1], 0xff, &bus) &&
             hd_is_hex_string(parts[2], 2, 2) && hd_parse_hex(parts[2], 0x1f, &slot)) ||
            (n == 2 && hd_is_hex_string(parts[0], 2, 2) && hd_parse_hex(parts[0], 0xff, &bus) &&
             hd_is_hex_string(parts[1], 2, 2) && hd_parse_hex(parts[1], 0x1f, &slot))) {
                o->fixed_address = TRUE;
                o->guest_domain = (guint)dom;
                o->guest_bus = (guint)bus;
                o->guest_slot = (guint)slot;
                return TRUE;
        }
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                    "--guest-address %s is not 'auto' or a guest slot DDDD:BB:SS (e.g. "
                    "0000:00:10)",
                    s);
        return FALSE;
}

/* --rom-file FILE is for the first device on the command line (the GPU of "xml GPU AUDIO");
 * --rom-file ADDRESS=FILE names the device; either way no other function gets the image. */
static gboolean parse_roms(GuestArgs *a, const GArray *hosts, GError **error)
{
        gboolean plain_seen = FALSE;

        a->roms = g_array_new(FALSE, FALSE, sizeof(HdGuestRom));
        for (char **r = a->rom_files; r && *r; r++) {
                const char *eq = strchr(*r, '=');
                g_autofree char *addr = eq ? g_strndup(*r, eq - *r) : NULL;
                HdGuestRom rom;

                if (addr && hd_address_parse(addr, &rom.device, NULL)) {
                        rom.file = eq + 1;
                } else if (plain_seen) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--rom-file %s: name the device of each ROM file when there "
                                    "are several (--rom-file ADDRESS=FILE)",
                                    *r);
                        return FALSE;
                } else {
                        plain_seen = TRUE;
                        rom.device = g_array_index(hosts, HdAddress, 0);
                        rom.file = *r;
                }
                if (!*rom.file) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--rom-file %s: give a file after '='", *r);
                        return FALSE;
                }
                g_array_append_val(a->roms, rom);
        }
        return TRUE;
}

static gboolean build_options(GuestArgs *a, const GArray *hosts, HdGuestOptions *o,
                              GError **error)
{
        memset(o, 0, sizeof(*o));
        o->managed = a->managed;
        o->force = force_count;
        o->rom_bar = HD_ROM_BAR_DEFAULT;
        if (!parse_roms(a, hosts, error))
                return FALSE;
        o->roms = (const HdGuestRom *)a->roms->data;
        o->n_roms = a->roms->len;
        a->rom_bars = g_array_new(FALSE, FALSE, sizeof(HdGuestRomBar));
        for (char **r = a->rom_bar; r && *r; r++) {
                const char *eq = strchr(*r, '=');
                const char *value = eq ? eq + 1 : *r;
                HdRomBar bar;

                if (strcmp(value, "on") == 0)
                        bar = HD_ROM_BAR_ON;
                else if (strcmp(value, "off") == 0)
                        bar = HD_ROM_BAR_OFF;
                else {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--rom-bar %s: use on, off, or ADDRESS=on|off for one device",
                                    *r);
                        return FALSE;
                }
                if (eq) {
                        g_autofree char *addr = g_strndup(*r, eq - *r);
                        HdGuestRomBar rb = { .bar = bar };
                        gboolean listed = FALSE;
                        if (!hd_address_parse(addr, &rb.device, error)) {
                                g_prefix_error(error, "--rom-bar %s: ", *r);
                                return FALSE;
                        }
                        for (guint i = 0; i < hosts->len && !listed; i++)
                                listed = hd_address_equal(&rb.device,
                                                          &g_array_index(hosts, HdAddress, i));
                        if (!listed) {
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "--rom-bar %s: %s is not one of the devices given",
                                            *r, addr);
                                return FALSE;
                        }
                        g_array_append_val(a->rom_bars, rb);
                } else {
                        o->rom_bar = bar;
                }
        }
        o->rom_bars = (const HdGuestRomBar *)a->rom_bars->data;
        o->n_rom_bars = a->rom_bars->len;
        if (a->machine) {
                if (strcmp(a->machine, "q35") == 0)
                        o->machine = HD_GUEST_MACHINE_Q35;
                else if (strcmp(a->machine, "pc") == 0 || strcmp(a->machine, "i440fx") == 0)
                        o->machine = HD_GUEST_MACHINE_PC;
                else {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--machine %s: use q35 (each device behind a PCIe root port "
                                    "of its own) or pc (i440fx)",
                                    a->machine);
                        return FALSE;
                }
        }
        if (a->primary_gpu) {
                o->primary_gpu = TRUE;
                o->primary = g_array_index(hosts, HdAddress, 0);
        }
        if (o->machine == HD_GUEST_MACHINE_Q35 && a->guest_address &&
            strcmp(a->guest_address, "auto") != 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "--guest-address goes with --machine pc or no --machine: with q35 "
                            "each device sits at slot 0 of its own root port");
                return FALSE;
        }
        if (a->guest_address && strcmp(a->guest_address, "auto") != 0)
                return parse_guest_address(a->guest_address, o, error);
        return TRUE;
}

/* --domain's argument: a path (a '/' in it, or a name ending in .xml) is a file; anything else
 * is the name of a domain libvirt has. */
static gboolean domain_is_name(const char *arg)
{
        return !strchr(arg, '/') && !g_str_has_suffix(arg, ".xml");
}

/* --primary-gpu: x-vga=on is for a VGA controller (class 0300) only. */
static gboolean check_primary(HdCtx *ctx, const GuestArgs *a, const GArray *hosts, GError **error)
{
        const HdAddress *first = &g_array_index(hosts, HdAddress, 0);
        g_autoptr(HdDevice) dev = NULL;

        if (!a->primary_gpu)
                return TRUE;
        dev = hd_device_load(ctx, first, HD_FIELD_IDS, error);
        if (!dev)
                return FALSE;
        if (((guint)dev->class_code >> 8) != 0x0300) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "--primary-gpu: %s is not a VGA controller (class %06x); name the "
                            "GPU first, e.g. hostdev qemu-args --primary-gpu GPU AUDIO",
                            dev->name, (guint)dev->class_code & 0xffffff);
                return FALSE;
        }
        return TRUE;
}

static void free_args(GuestArgs *a)
{
        g_strfreev(a->rom_bar);
        if (a->rom_bars)
                g_array_unref(a->rom_bars);
        g_free(a->machine);
        g_strfreev(a->rom_files);
        if (a->roms)
                g_array_unref(a->roms);
        g_free(a->guest_address);
        g_free(a->domain_file);
        g_free(a->connect);
        g_free(a->mac);
        g_free(a->vlan);
}

/* `hostdev xml --interface VF`: libvirt's <interface type='hostdev'> for a NIC VF on vfio-pci,
 * with the guest's MAC and VLAN, which libvirt sets on the PF (vf-net.h). */
static int run_interface(HdCli *cli, const GuestArgs *a, const GArray *hosts)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        HdGuestOptions opts = { .rom_bar = HD_ROM_BAR_DEFAULT, .managed = a->managed,
                                .force = force_count };
        const HdAddress *vf = &g_array_index(hosts, HdAddress, 0);
        guint8 mac[6];
        gint64 vlan = -1;
        HdCtx *ctx;

        if (hosts->len != 1)
                return cli_usage_error(cli, "--interface takes one VF address");
        if (a->mac && !hd_vf_net_parse_mac(a->mac, mac))
                return cli_usage_error(cli, "--mac %s: give a MAC as 52:54:00:12:34:56", a->mac);
        if (a->vlan && !hd_parse_int(a->vlan, 1, 4095, &vlan))
                return cli_usage_error(cli, "--vlan %s: give a VLAN tag from 1 to 4095", a->vlan);
        if (!(ctx = cli_open_ctx(cli, &error)) ||
            !(xml = hd_vf_net_interface_xml(ctx, vf, a->mac ? mac : NULL, (int)vlan, a->managed, 0,
                                            &error)) ||
            !hd_guest_check_devices(ctx, vf, 1, &opts, &error))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "interface_xml");
                json_builder_add_string_value(b, xml);
                json_builder_end_object(b);
                cli_print_json(b);
        } else {
                fputs(xml, stdout);
        }
        return HD_EXIT_OK;
}

/* The mediated devices among the arguments (UUIDs, hostdev mdev list): each active, none
 * twice. */
static gboolean check_mdevs(HdCtx *ctx, const GPtrArray *mdevs, GError **error)
{
        for (guint i = 0; i < mdevs->len; i++) {
                g_autoptr(HdMdev) m = hd_mdev_get(ctx, mdevs->pdata[i], error);

                for (guint k = 0; k < i; k++)
                        if (strcmp(mdevs->pdata[k], mdevs->pdata[i]) == 0) {
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "mediated device %s is named twice",
                                            (char *)mdevs->pdata[i]);
                                return FALSE;
                        }
                if (!m)
                        return FALSE;
                if (!m->active) {
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "mediated device %s is defined but not active; create it "
                                    "first: hostdev mdev create %s %s --uuid %s",
                                    m->uuid, m->parent ? m->parent : "PARENT",
                                    m->type ? m->type : "TYPE", m->uuid);
                        return FALSE;
                }
        }
        return TRUE;
}

/* @doc with the <hostdev type='mdev'> elements of @mdevs before its last </devices>, indented
 * as that line's children; REFUSED when the domain has one of them already. */
static char *add_mdevs_to_domain(const char *doc, const GPtrArray *mdevs, GError **error)
{
        const char *end = g_strrstr(doc, "</devices>");
        const char *line;
        g_autoptr(GString) out = NULL;
        guint indent;

        if (!end) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "the domain XML has no <devices> element to add mediated devices to");
                return NULL;
        }
        for (guint i = 0; i < mdevs->len; i++) {
                g_autofree char *q1 = g_strdup_printf("uuid='%s'", (char *)mdevs->pdata[i]);
                g_autofree char *q2 = g_strdup_printf("uuid=\"%s\"", (char *)mdevs->pdata[i]);
                if (strstr(doc, q1) || strstr(doc, q2)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "mediated device %s is already a <hostdev> of this domain",
                                    (char *)mdevs->pdata[i]);
                        return NULL;
                }
        }
        for (line = end; line > doc && line[-1] != '\n'; line--)
                ;
        indent = (guint)(end - line) + 2;
        out = g_string_new_len(doc, line - doc);
        for (guint i = 0; i < mdevs->len; i++) {
                g_autofree char *x = hd_mdev_hostdev_xml(mdevs->pdata[i], indent);
                g_string_append(out, x);
        }
        g_string_append(out, line);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static int run_guest(HdCli *cli, int argc, char **argv, gboolean xml)
{
        GuestArgs a = { 0 };
        const GOptionEntry common[] = {
                { "managed", 0, 0, G_OPTION_ARG_NONE, &a.managed,
                  "libvirt detaches and reattaches the devices (devices need not be on vfio-pci "
                  "yet); refused for devices hostdev detach would refuse (the boot GPU, a NIC "
                  "with routes, a controller of mounted filesystems) unless --force",
                  NULL },
                { "force", 'f', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, count_force,
                  "With --managed: as for detach, let libvirt take even the boot GPU, a NIC "
                  "with routes, a controller of mounted filesystems; twice: even the NIC with "
                  "the default route",
                  NULL },
                { "rom-bar", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.rom_bar,
                  "Expose the devices' option ROMs to the guest: on or off; ADDRESS=on|off for "
                  "one device (repeatable)",
                  "[ADDRESS=]on|off" },
                { "rom-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.rom_files,
                  "Give the guest this ROM image (a GPU vBIOS, starting with 55 AA) instead of "
                  "the device's, for the first ADDRESS only; ADDRESS=FILE names the device "
                  "(repeatable)",
                  "[ADDRESS=]FILE" },
                { "guest-address", 0, 0, G_OPTION_ARG_STRING, &a.guest_address,
                  "Guest slot of the first device: auto (default) or DDDD:BB:SS", "ADDR" },
                { NULL },
        };
        const GOptionEntry qemu_only[] = {
                { "machine", 0, 0, G_OPTION_ARG_STRING, &a.machine,
                  "The guest's machine: q35 (each device behind a PCIe root port of its own, as "
                  "Proxmox's PCI-Express option) or pc (i440fx)",
                  "q35|pc" },
                { "primary-gpu", 0, 0, G_OPTION_ARG_NONE, &a.primary_gpu,
                  "The first device (a VGA GPU) is the guest's primary display: x-vga=on, and "
                  "-vga none for QEMU's own",
                  NULL },
                { NULL },
        };
        const GOptionEntry xml_only[] = {
                { "domain", 0, 0, G_OPTION_ARG_FILENAME, &a.domain_file,
                  "Add the devices to a domain and print the result: a libvirt domain XML file "
                  "(a path: it has a / or ends in .xml), or a domain libvirt has defined, by name",
                  "FILE|NAME" },
                { "write", 0, 0, G_OPTION_ARG_NONE, &a.write_back,
                  "With --domain: write the result back (FILE, keeping FILE.orig; a domain by "
                  "name: define it in libvirt) instead of printing it",
                  NULL },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &a.connect,
                  "With --domain NAME: the libvirt URI (default qemu:///system)", "URI" },
                { "interface", 0, 0, G_OPTION_ARG_NONE, &a.interface,
                  "For one NIC VF: an <interface type='hostdev'> (libvirt sets the guest's MAC "
                  "and VLAN on the PF) instead of a <hostdev>; on vfio-pci unless --managed",
                  NULL },
                { "mac", 0, 0, G_OPTION_ARG_STRING, &a.mac,
                  "With --interface: the guest's MAC", "MAC" },
                { "vlan", 0, 0, G_OPTION_ARG_STRING, &a.vlan,
                  "With --interface: the VLAN the PF tags the guest's traffic with (1-4095)", "N" },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDRESS|MDEV-UUID...",
                xml ? "Print libvirt <hostdev> elements for the devices: the functions of one "
                      "host device become functions of one guest slot (multifunction='on' on "
                      "function 0). The devices must be on vfio-pci unless --managed. A "
                      "mediated device (its UUID: hostdev mdev list) must exist and becomes "
                      "<hostdev type='mdev' model='vfio-pci' managed='no'>."
                    : "Print the QEMU -device arguments that give the devices to a VM, one "
                      "'-device vfio-pci,...' per line. The devices must be on vfio-pci. A "
                      "mediated device (its UUID: hostdev mdev list) must exist and becomes "
                      "'-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID'.",
                xml ? "hostdev xml --domain vm.xml --write 0000:01:00.0 0000:01:00.1"
                    : "hostdev qemu-args 0000:01:00.0 0000:01:00.1",
                common);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) hosts = NULL;
        g_autoptr(GPtrArray) plan = NULL;
        g_autoptr(GPtrArray) mdevs = g_ptr_array_new();   /* UUIDs, borrowed from argv */
        g_autoptr(GPtrArray) pci_argv = g_ptr_array_new(); /* the other arguments */
        HdGuestOptions opts;
        HdCtx *ctx;
        int r = HD_EXIT_OK;

        force_count = 0;
        cli_option_context_add(cli, octx, xml ? xml_only : qemu_only);
        if (!cli_parse_options(cli, octx, &argc, &argv)) {
                free_args(&a);
                return HD_EXIT_USAGE;
        }
        if (argc < 2) {
                r = cli_usage_error(cli, "give at least one device address");
                goto out;
        }
        if (!xml && (a.managed || force_count)) {
                r = cli_usage_error(cli, "%s has no meaning for qemu-args: QEMU does not move "
                                         "devices; run 'hostdev detach ADDRESS --group' first, "
                                         "or use 'hostdev xml --managed' for libvirt",
                                    a.managed ? "--managed" : "--force");
                goto out;
        }
        if (force_count && !a.managed) {
                r = cli_usage_error(cli, "--force goes with --managed");
                goto out;
        }
        if ((a.mac || a.vlan) && !a.interface) {
                r = cli_usage_error(cli, "--mac and --vlan go with --interface");
                goto out;
        }
        if (a.interface && (a.domain_file || a.rom_bar || a.rom_files || a.guest_address)) {
                r = cli_usage_error(cli, "--interface prints one <interface type='hostdev'> for a "
                                         "VF: without --domain, --rom-bar, --rom-file or "
                                         "--guest-address");
                goto out;
        }
        if (a.interface) {
                if (!(hosts = cli_resolve_devices(cli, argc, argv, TRUE, "hostdev xml", &error)))
                        r = cli_report_error(cli, error);
                else
                        r = run_interface(cli, &a, hosts);
                goto out;
        }
        if (a.write_back && !a.domain_file) {
                r = cli_usage_error(cli, "--write needs --domain FILE");
                goto out;
        }
        g_ptr_array_add(pci_argv, argv[0]);
        for (int i = 1; i < argc; i++)
                g_ptr_array_add(hd_mdev_uuid_parse(argv[i], NULL) ? mdevs : pci_argv, argv[i]);
        if (pci_argv->len == 1 && (a.rom_files || a.rom_bar || a.primary_gpu || a.managed)) {
                r = cli_usage_error(cli, "--rom-file, --rom-bar, --primary-gpu and --managed are "
                                         "for PCI devices; a mediated device has none of them");
                goto out;
        }
        if (pci_argv->len == 1)
                hosts = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        if ((!hosts && !(hosts = cli_resolve_devices(cli, (int)pci_argv->len,
                                                     (char **)pci_argv->pdata, TRUE,
                                                     xml ? "hostdev xml" : "hostdev qemu-args",
                                                     &error))) ||
            !build_options(&a, hosts, &opts, &error) || !(ctx = cli_open_ctx(cli, &error)) ||
            !check_mdevs(ctx, mdevs, &error) ||
            !check_primary(ctx, &a, hosts, &error) ||
            !hd_guest_check_roms(ctx, (HdAddress *)hosts->data, hosts->len, &opts, &error) ||
            !hd_guest_check_devices(ctx, (HdAddress *)hosts->data, hosts->len, &opts, &error)) {
                r = cli_report_error(cli, error);
                goto out;
        }

        if (xml && a.domain_file) {
                g_autofree char *doc = NULL;
                g_autofree char *patched = NULL;
                g_autoptr(HdVirt) virt = NULL;
                gboolean by_name = domain_is_name(a.domain_file);

                if (!by_name && a.connect) {
                        r = cli_usage_error(cli, "--connect goes with --domain NAME (a domain "
                                                 "libvirt has), not a file");
                        goto out;
                }
                if (by_name)
                        doc = (virt = hd_virt_open(a.connect, &error))
                                  ? hd_virt_get_definition(virt, a.domain_file, &error)
                                  : NULL;
                else
                        doc = hd_read_path(a.domain_file, DOMAIN_XML_MAX, &error);
                if (doc && hosts->len == 0)
                        patched = g_strdup(doc);
                else if (doc)
                        patched = hd_guest_patch_domain_xml(doc, (HdAddress *)hosts->data,
                                                            hosts->len, &opts, &error);
                if (patched && mdevs->len > 0) {
                        char *with = add_mdevs_to_domain(patched, mdevs, &error);
                        g_free(patched);
                        patched = with;
                }
                if (!doc || !patched) {
                        r = cli_report_error(cli, error);
                        goto out;
                }
                if (a.write_back && by_name) {
                        if (!hd_virt_define_xml(virt, patched, &error)) {
                                r = cli_report_error(cli, error);
                                goto out;
                        }
                        if (!cli->json)
                                printf("added %u device(s) to VM %s in libvirt (its next start "
                                       "has them; hostdev vm attach-device %s ... --live "
                                       "hot-plugs into a running VM)\n",
                                       hosts->len + mdevs->len, a.domain_file, a.domain_file);
                } else if (a.write_back) {
                        g_autofree char *backup = g_strconcat(a.domain_file, ".orig", NULL);
                        if (!g_file_set_contents(backup, doc, -1, &error) ||
                            !g_file_set_contents(a.domain_file, patched, -1, &error)) {
                                r = cli_report_error(cli, error);
                                goto out;
                        }
                        if (!cli->json)
                                printf("added %u device(s) to %s (previous version: %s)\n",
                                       hosts->len + mdevs->len, a.domain_file, backup);
                } else if (!cli->json) {
                        fputs(patched, stdout);
                }
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "domain_xml");
                        json_builder_add_string_value(b, patched);
                        json_builder_set_member_name(b, "written");
                        json_builder_add_boolean_value(b, a.write_back);
                        json_builder_end_object(b);
                        cli_print_json(b);
                }
                goto out;
        }

        plan = hd_guest_plan((HdAddress *)hosts->data, hosts->len, &opts, NULL, &error);
        if (!plan) {
                r = cli_report_error(cli, error);
                goto out;
        }
        if (xml) {
                g_autofree char *pci = hd_guest_hostdev_xml(plan, &opts, 0);
                g_autoptr(GString) all = g_string_new(pci);
                g_autofree char *s = NULL;

                for (guint i = 0; i < mdevs->len; i++) {
                        g_autofree char *x = hd_mdev_hostdev_xml(mdevs->pdata[i], 0);
                        g_string_append(all, x);
                }
                s = g_string_free(g_steal_pointer(&all), FALSE);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "hostdev_xml");
                        json_builder_add_string_value(b, s);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else {
                        fputs(s, stdout);
                }
        } else {
                g_auto(GStrv) pci = hd_guest_qemu_args(plan, &opts);
                g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
                g_auto(GStrv) args = NULL;

                for (char **p = pci; *p; p++)
                        g_ptr_array_add(all, g_strdup(*p));
                /* each mediated device on the guest's root bus, ids of their own */
                for (guint i = 0; i < mdevs->len; i++) {
                        g_autofree char *id = g_strdup_printf("mdev%u", i);
                        g_ptr_array_add(all, g_strdup("-device"));
                        g_ptr_array_add(all, hd_mdev_qemu_device(mdevs->pdata[i], id));
                }
                g_ptr_array_add(all, NULL);
                args = (char **)g_ptr_array_steal(all, NULL);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "args");
                        json_builder_begin_array(b);
                        for (char **p = args; *p; p++)
                                json_builder_add_string_value(b, *p);
                        json_builder_end_array(b);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else {
                        for (char **p = args; *p && p[1]; p += 2)
                                printf("%s %s\n", p[0], p[1]);
                }
        }
out:
        free_args(&a);
        return r;
}

int cmd_xml(HdCli *cli, int argc, char **argv)
{
        return run_guest(cli, argc, argv, TRUE);
}

int cmd_qemu_args(HdCli *cli, int argc, char **argv)
{
        return run_guest(cli, argc, argv, FALSE);
}
