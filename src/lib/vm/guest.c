/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "fileio.h"
#include "guest.h"
#include "bind.h"
#include "hd-error.h"
#include "inventory.h"

/* First guest slot used on bus 0 when nothing else is said: clear of the slots machine types
 * keep for themselves (q35: 0x00 host bridge, 0x01 VGA, 0x1f LPC/SATA/SMBus; i440fx: 0x01
 * PIIX) and of the low slots libvirt fills first. */
#define AUTO_FIRST_SLOT 0x10
#define MAX_SLOT 0x1f

void hd_guest_device_free(HdGuestDevice *gd)
{
        if (!gd)
                return;
        g_free(gd->id);
        g_free(gd);
}

/* The ROM image for @host, or NULL. */
static const char *rom_for(const HdGuestOptions *opts, const HdAddress *host)
{
        for (guint i = 0; opts->roms && i < opts->n_roms; i++)
                if (hd_address_equal(&opts->roms[i].device, host))
                        return opts->roms[i].file;
        return NULL;
}

/* The ROM BAR setting of @host: its own, else every device's. */
static HdRomBar rom_bar_for(const HdGuestOptions *opts, const HdAddress *host)
{
        for (guint i = 0; opts->rom_bars && i < opts->n_rom_bars; i++)
                if (hd_address_equal(&opts->rom_bars[i].device, host))
                        return opts->rom_bars[i].bar;
        return opts->rom_bar;
}

static gint compare_hosts(gconstpointer a, gconstpointer b)
{
        const HdGuestDevice *x = *(HdGuestDevice *const *)a;
        const HdGuestDevice *y = *(HdGuestDevice *const *)b;

        return hd_address_compare(&x->host, &y->host);
}

GPtrArray *hd_guest_plan(const HdAddress *hosts, guint n_hosts, const HdGuestOptions *opts,
                         GHashTable *used_slots, GError **error)
{
        g_autoptr(GPtrArray) plan =
                g_ptr_array_new_with_free_func((GDestroyNotify)hd_guest_device_free);
        guint next_slot = opts->fixed_address ? opts->guest_slot : AUTO_FIRST_SLOT;
        guint bus = opts->fixed_address ? opts->guest_bus : 0;

        for (guint i = 0; i < n_hosts; i++) {
                HdGuestDevice *gd = g_new0(HdGuestDevice, 1);

                for (guint j = 0; j < i; j++)
                        if (hd_address_equal(&hosts[i], &hosts[j])) {
                                char name[HD_ADDRESS_STRLEN];
                                hd_guest_device_free(gd);
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "%s is listed twice",
                                            hd_address_format(&hosts[i], name));
                                return NULL;
                        }
                gd->host = hosts[i];
                hd_address_format(&hosts[i], gd->host_name);
                g_ptr_array_add(plan, gd);
        }
        g_ptr_array_sort(plan, compare_hosts);

        /* Group by host slot; every group of more than one function needs explicit guest
         * addresses, and so does everything when the user gave an address. */
        for (guint i = 0; i < plan->len;) {
                HdGuestDevice *first = plan->pdata[i];
                guint j = i + 1;
                gboolean has_fn0;

                while (j < plan->len &&
                       hd_address_same_slot(&first->host, &((HdGuestDevice *)plan->pdata[j])->host))
                        j++;
                if (j - i > 1 || opts->fixed_address || used_slots) {
                        while (used_slots &&
                               g_hash_table_contains(used_slots,
                                                     GUINT_TO_POINTER(bus << 8 | next_slot)) &&
                               next_slot <= MAX_SLOT)
                                next_slot++;
                        if (next_slot > MAX_SLOT) {
                                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                            "no free guest slot left on bus %02x for %s", bus,
                                            first->host_name);
                                return NULL;
                        }
                        /* Keep the host's function numbers when function 0 is among them;
                         * otherwise renumber from 0, since a guest only scans a slot whose
                         * function 0 exists. */
                        has_fn0 = first->host.function == 0;
                        for (guint k = i; k < j; k++) {
                                HdGuestDevice *gd = plan->pdata[k];
                                gd->has_guest_address = TRUE;
                                gd->guest.domain = opts->fixed_address ? opts->guest_domain : 0;
                                gd->guest.bus = (guint8)bus;
                                gd->guest.slot = (guint8)next_slot;
                                gd->guest.function = has_fn0 ? gd->host.function : (guint8)(k - i);
                                gd->multifunction = j - i > 1 && gd->guest.function == 0;
                        }
                        next_slot++;
                }
                i = j;
        }
        for (guint i = 0; i < plan->len; i++)
                ((HdGuestDevice *)plan->pdata[i])->id = g_strdup_printf("hostdev%u", i);
        return g_steal_pointer(&plan);
}

char *hd_guest_hostdev_xml(const GPtrArray *plan, const HdGuestOptions *opts, guint indent)
{
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *pad = g_strnfill(indent, ' ');

        for (guint i = 0; i < plan->len; i++) {
                const HdGuestDevice *gd = plan->pdata[i];

                g_string_append_printf(s, "%s<hostdev mode='subsystem' type='pci' managed='%s'>\n",
                                       pad, opts->managed ? "yes" : "no");
                g_string_append_printf(s, "%s  <driver name='vfio'/>\n", pad);
                g_string_append_printf(s, "%s  <source>\n", pad);
                g_string_append_printf(s,
                                       "%s    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                                       "function='0x%x'/>\n",
                                       pad, gd->host.domain, gd->host.bus, gd->host.slot,
                                       gd->host.function);
                g_string_append_printf(s, "%s  </source>\n", pad);
                const char *rom = rom_for(opts, &gd->host);
                HdRomBar bar = rom_bar_for(opts, &gd->host);

                if (bar != HD_ROM_BAR_DEFAULT || rom) {
                        g_autofree char *file =
                            rom ? g_markup_printf_escaped(" file='%s'", rom) : g_strdup("");
                        g_string_append_printf(s, "%s  <rom%s%s%s/>\n", pad,
                                               bar == HD_ROM_BAR_DEFAULT ? "" : " bar='",
                                               bar == HD_ROM_BAR_DEFAULT
                                                       ? ""
                                                       : (bar == HD_ROM_BAR_ON ? "on'" : "off'"),
                                               file);
                }
                if (gd->has_guest_address)
                        g_string_append_printf(s,
                                               "%s  <address type='pci' domain='0x%04x' "
                                               "bus='0x%02x' slot='0x%02x' function='0x%x'%s/>\n",
                                               pad, gd->guest.domain, gd->guest.bus,
                                               gd->guest.slot, gd->guest.function,
                                               gd->multifunction ? " multifunction='on'" : "");
                g_string_append_printf(s, "%s</hostdev>\n", pad);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* rombar=, romfile= and x-vga= of one device. */
static void append_rom_and_vga(GString *d, const HdGuestDevice *gd, const HdGuestOptions *opts,
                               gboolean primary)
{
        HdRomBar bar = rom_bar_for(opts, &gd->host);
        const char *rom = rom_for(opts, &gd->host);

        if (bar != HD_ROM_BAR_DEFAULT)
                g_string_append_printf(d, ",rombar=%d", bar == HD_ROM_BAR_ON);
        if (rom) {
                /* QEMU's option syntax: a comma in a value is written twice. */
                g_auto(GStrv) parts = g_strsplit(rom, ",", -1);
                g_autofree char *escaped = g_strjoinv(",,", parts);
                g_string_append_printf(d, ",romfile=%s", escaped);
        }
        if (primary)
                g_string_append(d, ",x-vga=on");
}

/* The first chassis number of our root ports: clear of the small numbers libvirt and people
 * give their own (chassis/slot pairs must be unique in a guest). */
#define ROOT_PORT_CHASSIS_BASE 100

char **hd_guest_qemu_args(const GPtrArray *plan, const HdGuestOptions *opts)
{
        GPtrArray *args = g_ptr_array_new();
        const char *root_bus = opts->machine == HD_GUEST_MACHINE_PC ? "pci.0" : "pcie.0";
        guint port = 0;

        if (opts->primary_gpu) {
                g_ptr_array_add(args, g_strdup("-vga"));
                g_ptr_array_add(args, g_strdup("none"));
        }
        for (guint i = 0; i < plan->len;) {
                const HdGuestDevice *first = plan->pdata[i];
                guint j = i + 1;
                g_autofree char *rp = NULL;

                while (j < plan->len &&
                       hd_address_same_slot(&first->host,
                                            &((const HdGuestDevice *)plan->pdata[j])->host))
                        j++;
                if (opts->machine == HD_GUEST_MACHINE_Q35) {
                        rp = g_strdup_printf("hostdev-rp%u", port);
                        g_ptr_array_add(args, g_strdup("-device"));
                        g_ptr_array_add(args,
                                        g_strdup_printf("pcie-root-port,id=%s,chassis=%u,slot=0",
                                                        rp, ROOT_PORT_CHASSIS_BASE + port));
                        port++;
                }
                for (guint k = i; k < j; k++) {
                        const HdGuestDevice *gd = plan->pdata[k];
                        g_autoptr(GString) d = g_string_new("vfio-pci");
                        gboolean primary =
                            opts->primary_gpu && hd_address_equal(&gd->host, &opts->primary);

                        g_string_append_printf(d, ",host=%s,id=%s", gd->host_name, gd->id);
                        if (rp) {
                                /* behind its own root port: slot 0, the functions kept */
                                g_string_append_printf(d, ",bus=%s,addr=0x0.0x%x", rp,
                                                       gd->has_guest_address ? gd->guest.function
                                                                             : 0);
                                if (gd->multifunction)
                                        g_string_append(d, ",multifunction=on");
                        } else if (gd->has_guest_address) {
                                /* QEMU names the q35 root bus pcie.0 and i440fx's pci.0; other
                                 * buses use libvirt's naming convention (pci.N). */
                                if (gd->guest.bus == 0)
                                        g_string_append_printf(d, ",bus=%s", root_bus);
                                else
                                        g_string_append_printf(d, ",bus=pci.%u", gd->guest.bus);
                                g_string_append_printf(d, ",addr=0x%x.0x%x", gd->guest.slot,
                                                       gd->guest.function);
                                if (gd->multifunction)
                                        g_string_append(d, ",multifunction=on");
                        }
                        append_rom_and_vga(d, gd, opts, primary);
                        g_ptr_array_add(args, g_strdup("-device"));
                        g_ptr_array_add(args, g_string_free(g_steal_pointer(&d), FALSE));
                }
                i = j;
        }
        g_ptr_array_add(args, NULL);
        return (char **)g_ptr_array_free(args, FALSE);
}

/* What a domain document already uses: guest PCI slots and host devices. */
typedef struct {
        GHashTable *used_slots;
        GPtrArray *host_sources; /* HdAddress* of <hostdev><source><address> */
        GSList *stack;           /* element names, innermost first */
        gboolean has_devices;
        guint n_roots;           /* top-level elements */
        gboolean other_root;     /* one of them is not <domain> */
        guint n_domain_devices;  /* <devices> ends directly below <domain> */
        gboolean pci_hostdev;    /* inside a <hostdev type='pci'> (not usb, scsi or mdev, whose
                                  * <address> is no PCI address) */
} DomainScan;

static const char *attr(const char **names, const char **values, const char *name)
{
        for (guint i = 0; names[i]; i++)
                if (strcmp(names[i], name) == 0)
                        return values[i];
        return NULL;
}

static guint parse_num(const char *s)
{
        return s ? (guint)g_ascii_strtoull(s, NULL, 0) : 0;
}

static void scan_start(GMarkupParseContext *pc, const char *element, const char **names,
                       const char **values, gpointer data, GError **error)
{
        DomainScan *scan = data;
        const char *parent = scan->stack ? scan->stack->data : NULL;
        const char *grandparent = scan->stack && scan->stack->next ? scan->stack->next->data : NULL;

        if (strcmp(element, "devices") == 0)
                scan->has_devices = TRUE;
        if (!scan->stack) {
                scan->n_roots++;
                scan->other_root |= strcmp(element, "domain") != 0;
        }
        if (strcmp(element, "hostdev") == 0)
                scan->pci_hostdev = g_strcmp0(attr(names, values, "type"), "pci") == 0;
        if (strcmp(element, "address") == 0) {
                if (g_strcmp0(parent, "source") == 0 && g_strcmp0(grandparent, "hostdev") == 0 &&
                    scan->pci_hostdev) {
                        HdAddress *a = g_new0(HdAddress, 1);
                        a->domain = parse_num(attr(names, values, "domain"));
                        a->bus = (guint8)parse_num(attr(names, values, "bus"));
                        a->slot = (guint8)parse_num(attr(names, values, "slot"));
                        a->function = (guint8)parse_num(attr(names, values, "function"));
                        g_ptr_array_add(scan->host_sources, a);
                } else if (g_strcmp0(attr(names, values, "type"), "pci") == 0) {
                        guint bus = parse_num(attr(names, values, "bus"));
                        guint slot = parse_num(attr(names, values, "slot"));
                        g_hash_table_add(scan->used_slots, GUINT_TO_POINTER(bus << 8 | slot));
                }
        }
        scan->stack = g_slist_prepend(scan->stack, g_strdup(element));
}

static void scan_end(GMarkupParseContext *pc, const char *element, gpointer data,
                     GError **error)
{
        DomainScan *scan = data;
        GSList *top = scan->stack;

        if (strcmp(element, "devices") == 0 && top->next && !top->next->next &&
            strcmp(top->next->data, "domain") == 0)
                scan->n_domain_devices++;
        scan->stack = top->next;
        g_free(top->data);
        g_slist_free_1(top);
}

/* Skip past @end from @p, or to the end of @text when it never comes. */
static const char *skip_past(const char *p, const char *end)
{
        const char *e = strstr(p, end);

        return e ? e + strlen(end) : p + strlen(p);
}

/*
 * Where the end tag of the <devices> element directly below the root is: the first "</devices"
 * that closes an element at depth 2. GMarkup's own position cannot say: it does not count the
 * line ends inside attribute values, and counts bytes where it says characters. So the
 * document, which GMarkup has accepted, is read again here by its lexical structure alone, with
 * GMarkup's own rules for where a passthrough ends: "<?" at the first "?>" (the '?' may be the
 * opening one), "<!--" at the first "-->" (the dashes may be the opening ones), "<![CDATA[" at
 * "]]>", "<!DOCTYPE" where its '<' and '>' balance; a tag at its '>' outside quoted attribute
 * values. "</devices>" inside any of those is text.
 */
static const char *find_domain_devices_close(const char *xml)
{
        const char *p = xml;
        guint depth = 0;

        while ((p = strchr(p, '<'))) {
                if (p[1] == '?') {
                        p = skip_past(p + 1, "?>");
                } else if (g_str_has_prefix(p, "<!--")) {
                        p = skip_past(p + 2, "-->");
                } else if (g_str_has_prefix(p, "<![CDATA[")) {
                        p = skip_past(p + 9, "]]>");
                } else if (p[1] == '!') {
                        guint balance = 1;
                        for (p += 2; *p && balance; p++)
                                balance += *p == '<' ? 1 : *p == '>' ? -1u : 0;
                } else if (p[1] == '/') {
                        if (depth == 2 && strncmp(p + 2, "devices", 7) == 0 &&
                            !g_ascii_isalnum(p[9]) && !strchr("-_.:", p[9]))
                                return p;
                        depth = depth ? depth - 1 : 0;
                        p = skip_past(p, ">");
                } else {
                        char quote = 0;
                        gboolean empty = FALSE;
                        for (p++; *p && (quote || *p != '>'); p++) {
                                if (quote)
                                        quote = *p == quote ? 0 : quote;
                                else if (*p == '\'' || *p == '"')
                                        quote = *p;
                                empty = !quote && *p == '/';
                        }
                        if (!empty)
                                depth++;
                }
        }
        return NULL;
}

/* Parse @domain_xml (one <domain>), refuse @hosts already in it, and plan them around the guest
 * slots it uses. *@devices_close: where its </devices> end tag is (NULL when it has none, or
 * more than one: an error when @need_devices). */
static GPtrArray *plan_in_domain(const char *domain_xml, const HdAddress *hosts, guint n_hosts,
                                 const HdGuestOptions *opts, gboolean need_devices,
                                 const char **devices_close, GError **error)
{
        static const GMarkupParser parser = { .start_element = scan_start,
                                              .end_element = scan_end };
        DomainScan scan = { 0 };
        g_autoptr(GMarkupParseContext) pc = NULL;
        g_autoptr(GError) parse_error = NULL;
        g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_free);
        const char *close;

        scan.used_slots = used;
        scan.host_sources = sources;
        pc = g_markup_parse_context_new(&parser, 0, &scan, NULL);
        if (!g_markup_parse_context_parse(pc, domain_xml, -1, &parse_error) ||
            !g_markup_parse_context_end_parse(pc, &parse_error)) {
                g_slist_free_full(scan.stack, g_free);
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "the domain XML cannot be parsed: %s", parse_error->message);
                return NULL;
        }
        if (scan.n_roots != 1 || scan.other_root) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "the domain XML must be one <domain> element (as virsh dumpxml "
                            "writes it)");
                return NULL;
        }
        /* The end tag the parser saw, not a "</devices>" in an attribute or comment. */
        close = scan.n_domain_devices == 1 ? find_domain_devices_close(domain_xml) : NULL;
        if (!close && need_devices) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            scan.n_domain_devices > 1
                                ? "the domain XML has more than one <devices> element"
                                : "the domain XML has no <devices> element to add host "
                                  "devices to");
                return NULL;
        }
        for (guint i = 0; i < n_hosts; i++)
                for (guint j = 0; j < sources->len; j++)
                        if (hd_address_equal(&hosts[i], sources->pdata[j])) {
                                char name[HD_ADDRESS_STRLEN];
                                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                            "%s is already a <hostdev> of this domain",
                                            hd_address_format(&hosts[i], name));
                                return NULL;
                        }
        *devices_close = close;
        return hd_guest_plan(hosts, n_hosts, opts, used, error);
}

GPtrArray *hd_guest_plan_for_domain(const char *domain_xml, const HdAddress *hosts,
                                    guint n_hosts, const HdGuestOptions *opts, GError **error)
{
        const char *close = NULL;

        return plan_in_domain(domain_xml, hosts, n_hosts, opts, FALSE, &close, error);
}

char *hd_guest_patch_domain_xml(const char *domain_xml, const HdAddress *hosts, guint n_hosts,
                                const HdGuestOptions *opts, GError **error)
{
        g_autoptr(GPtrArray) plan = NULL;
        g_autofree char *xml = NULL;
        const char *close = NULL;
        const char *line_start;
        guint indent;
        GString *out;

        plan = plan_in_domain(domain_xml, hosts, n_hosts, opts, TRUE, &close, error);
        if (!plan)
                return NULL;
        /* Indent like the document's </devices> line, plus one level. */
        line_start = close;
        while (line_start > domain_xml && line_start[-1] == ' ')
                line_start--;
        indent = (guint)(close - line_start) + 2;
        xml = hd_guest_hostdev_xml(plan, opts, indent);
        out = g_string_new_len(domain_xml, line_start - domain_xml);
        g_string_append(out, xml);
        g_string_append(out, line_start);
        return g_string_free(out, FALSE);
}

char *hd_guest_remove_hostdevs(const char *domain_xml, const HdAddress *hosts, guint n_hosts,
                               GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree gboolean *found = g_new0(gboolean, n_hosts + 1);
        g_autoptr(GArray) before = hd_guest_domain_hostdevs(domain_xml);
        const char *p = domain_xml;

        for (;;) {
                const char *start, *end;
                g_autofree char *wrapped = NULL;
                g_autoptr(GArray) addrs = NULL;
                gboolean drop = FALSE;
                const char *open = strstr(p, "<hostdev");
                const char *comment = strstr(p, "<!--");
                const char *close;

                /* a comment before the next element is copied whole: "<hostdev" in it is text */
                if (comment && (!open || comment < open)) {
                        const char *cend = strstr(comment + 4, "-->");
                        cend = cend ? cend + 3 : comment + strlen(comment);
                        g_string_append_len(out, p, cend - p);
                        p = cend;
                        continue;
                }
                /* "<hostdev" and not a longer name */
                if (open && open[8] != ' ' && open[8] != '>' && open[8] != '\n' &&
                    open[8] != '\t') {
                        g_string_append_len(out, p, open + 8 - p);
                        p = open + 8;
                        continue;
                }
                close = open ? strstr(open, "</hostdev>") : NULL;

                if (!open || !close) {
                        g_string_append(out, p);
                        break;
                }
                end = close + strlen("</hostdev>");
                /* the element with the blanks before it on its line and its line end */
                start = open;
                while (start > p && (start[-1] == ' ' || start[-1] == '\t'))
                        start--;
                if (start > domain_xml && start[-1] != '\n')
                        start = open;
                else if (*end == '\n')
                        end++;
                wrapped = g_strdup_printf("<domain><devices>%.*s</devices></domain>",
                                          (int)(close + strlen("</hostdev>") - open), open);
                addrs = hd_guest_domain_hostdevs(wrapped);
                for (guint i = 0; addrs->len == 1 && i < n_hosts; i++)
                        if (hd_address_equal(&hosts[i], &g_array_index(addrs, HdAddress, 0))) {
                                found[i] = TRUE;
                                drop = TRUE;
                        }
                g_string_append_len(out, p, (drop ? start : end) - p);
                p = end;
        }
        for (guint i = 0; i < n_hosts; i++)
                if (!found[i]) {
                        char name[HD_ADDRESS_STRLEN];
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "%s is not a <hostdev> of this domain",
                                    hd_address_format(&hosts[i], name));
                        return NULL;
                }
        /* what is left parses and lost exactly those */
        {
                g_autoptr(GArray) after = hd_guest_domain_hostdevs(out->str);
                if (after->len + n_hosts != before->len) {
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "the domain XML could not be changed safely (its <hostdev> "
                                    "elements are not as virsh dumpxml writes them); use virsh "
                                    "edit");
                        return NULL;
                }
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

GArray *hd_guest_domain_hostdevs(const char *domain_xml)
{
        static const GMarkupParser parser = { .start_element = scan_start,
                                              .end_element = scan_end };
        g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GMarkupParseContext) pc = NULL;
        DomainScan scan = { .used_slots = used, .host_sources = sources };
        GArray *out = g_array_new(FALSE, FALSE, sizeof(HdAddress));

        pc = g_markup_parse_context_new(&parser, 0, &scan, NULL);
        if (g_markup_parse_context_parse(pc, domain_xml, -1, NULL) &&
            g_markup_parse_context_end_parse(pc, NULL))
                for (guint i = 0; i < sources->len; i++)
                        g_array_append_val(out, *(HdAddress *)sources->pdata[i]);
        g_slist_free_full(scan.stack, g_free);
        return out;
}

static gboolean check_rom_file(HdCtx *ctx, const char *dev, const char *file, GError **error)
{
        struct stat st;
        g_autoptr(GBytes) head = NULL;
        g_autoptr(GError) local = NULL;
        const guint8 *b;
        gsize n = 0;
        const char *rel = file + strspn(file, "/");

        if (file[0] != '/') {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "ROM file for %s: '%s' is not an absolute path; QEMU and libvirt "
                            "need one (e.g. /usr/share/vbios/gpu.rom)",
                            dev, file);
                return FALSE;
        }
        if (!*rel || !hd_stat_at(hd_ctx_get_root_fd(ctx), rel, FALSE, &st)) {
                int err = *rel ? errno : EISDIR;
                g_set_error(error, HD_ERROR, err == ENOENT ? HD_ERROR_NOT_FOUND : HD_ERROR_FAILED,
                            "ROM file for %s: cannot use %s%s: %s; give the path of the ROM "
                            "image (a vBIOS dump) with --rom-file %s=FILE",
                            dev, file, hd_ctx_is_live_root(ctx) ? "" : " below the root",
                            g_strerror(err), dev);
                return FALSE;
        }
        if (!S_ISREG(st.st_mode)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "ROM file for %s: %s is not a regular file; give the ROM image "
                            "itself",
                            dev, file);
                return FALSE;
        }
        if (st.st_size > HD_GUEST_ROM_MAX) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "ROM file for %s: %s has %lld bytes, more than a PCI option ROM "
                            "can have (%d MiB); is it the right file?",
                            dev, file, (long long)st.st_size, HD_GUEST_ROM_MAX / (1024 * 1024));
                return FALSE;
        }
        head = hd_read_bytes_at(hd_ctx_get_root_fd(ctx), rel, 2, &local);
        if (!head) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "ROM file for %s: %s", dev,
                            local->message);
                return FALSE;
        }
        b = g_bytes_get_data(head, &n);
        if (n < 2 || b[0] != 0x55 || b[1] != 0xaa) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "ROM file for %s: %s does not start with the PCI option ROM "
                            "signature 55 AA (%s%02x %02x); a vBIOS dump from the device's "
                            "sysfs rom file or GPU-Z starts with it, an nvflash dump must have "
                            "its header cut off first",
                            dev, file, n < 2 ? "it is too short: " : "it starts with ",
                            n > 0 ? b[0] : 0, n > 1 ? b[1] : 0);
                return FALSE;
        }
        return TRUE;
}

gboolean hd_guest_check_roms(HdCtx *ctx, const HdAddress *hosts, guint n_hosts,
                             const HdGuestOptions *opts, GError **error)
{
        for (guint i = 0; opts->roms && i < opts->n_roms; i++) {
                const HdGuestRom *rom = &opts->roms[i];
                char name[HD_ADDRESS_STRLEN];
                gboolean listed = FALSE;

                hd_address_format(&rom->device, name);
                for (guint k = 0; k < n_hosts; k++)
                        listed |= hd_address_equal(&rom->device, &hosts[k]);
                if (!listed) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "a ROM file is given for %s, which is not among the devices; "
                                    "list it, or name one of them (--rom-file ADDRESS=FILE)",
                                    name);
                        return FALSE;
                }
                for (guint j = 0; j < i; j++)
                        if (hd_address_equal(&rom->device, &opts->roms[j].device)) {
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "two ROM files are given for %s; a device has one",
                                            name);
                                return FALSE;
                        }
                if (!check_rom_file(ctx, name, rom->file, error))
                        return FALSE;
        }
        return TRUE;
}

/* A device a VM cannot be given yet: say what would work, computed from detach's own checks
 * (hint.h H2): the detach that passes them; --managed only when the device alone may go (a
 * group that needs its other members would keep the VM from starting) and libvirt's detach
 * passes the checks too; otherwise why not. */
static void not_on_vfio_error(HdCtx *ctx, const HdDevice *dev, GError **error)
{
        g_autoptr(GError) why = NULL;
        gboolean needs_group = FALSE;
        g_autofree char *cmd = hd_bind_suggest_detach(ctx, &dev->address, &needs_group, &why);
        const char *driver = dev->driver ? dev->driver : "no driver";

        if (!cmd) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is on %s, not vfio-pci, and detaching it is refused: %s",
                            dev->name, driver, why ? why->message : "the checks did not say why");
                return;
        }
        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED, "%s is on %s, not vfio-pci: run '%s' first%s",
                    dev->name, driver, cmd,
                    !needs_group && hd_bind_check_managed(ctx, &dev->address, 1, 0, NULL)
                            ? ", or pass --managed to let libvirt detach it"
                            : "");
}

gboolean hd_guest_check_devices(HdCtx *ctx, const HdAddress *hosts, guint n_hosts,
                                const HdGuestOptions *opts, GError **error)
{
        /* Each group is looked at once, however many of its devices are listed. */
        g_autoptr(GHashTable) groups_seen = g_hash_table_new(g_direct_hash, g_direct_equal);
        /* what libvirt would detach itself (managed='yes') */
        g_autoptr(GArray) managed = g_array_new(FALSE, FALSE, sizeof(HdAddress));

        for (guint i = 0; i < n_hosts; i++) {
                g_autoptr(HdDevice) dev = hd_device_load(ctx, &hosts[i],
                                                         HD_FIELD_DRIVER | HD_FIELD_IOMMU |
                                                                 HD_FIELD_HEADER | HD_FIELD_IDS,
                                                         error);
                if (!dev)
                        return FALSE;
                if (hd_device_is_bridge(dev)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "%s is a bridge; bridges stay with the host", dev->name);
                        return FALSE;
                }
                if (!opts->managed && !hd_driver_is_vfio(dev->driver)) {
                        not_on_vfio_error(ctx, dev, error);
                        return FALSE;
                }
                if (opts->managed && !hd_driver_is_vfio(dev->driver))
                        g_array_append_val(managed, hosts[i]);
                if (dev->iommu_group >= 0 &&
                    g_hash_table_add(groups_seen, GINT_TO_POINTER(dev->iommu_group + 1))) {
                        g_autoptr(GArray) members = hd_iommu_group_addresses(ctx, dev->iommu_group);
                        for (guint m = 0; m < members->len; m++) {
                                const HdAddress *a = &g_array_index(members, HdAddress, m);
                                gboolean listed = FALSE;
                                g_autoptr(HdDevice) other = NULL;
                                for (guint k = 0; k < n_hosts; k++)
                                        listed |= hd_address_equal(a, &hosts[k]);
                                if (listed)
                                        continue;
                                other = hd_device_load(ctx, a, HD_FIELD_HEADER | HD_FIELD_DRIVER |
                                                                       HD_FIELD_IDS,
                                                       NULL);
                                if (!other || hd_device_is_bridge(other) ||
                                    hd_device_is_host_bridge(other))
                                        continue;
                                hd_ctx_log(ctx, HD_LOG_WARNING,
                                           "IOMMU group %d is not given whole: %s (%s) stays "
                                           "behind%s",
                                           dev->iommu_group, other->name,
                                           other->driver ? other->driver : "no driver",
                                           hd_driver_is_viable(other->driver)
                                                   ? ""
                                                   : "; the VM will not start until it is "
                                                     "detached too");
                        }
                }
        }
        /* managed='yes': libvirt unbinds these from their host drivers when the VM starts,
         * without hostdev's checks; the host must not lose what it needs that way either */
        if (managed->len > 0 &&
            !hd_bind_check_managed(ctx, (const HdAddress *)managed->data, managed->len,
                                   opts->force, error)) {
                g_prefix_error(error, "with --managed libvirt would detach %s when the VM "
                                      "starts, and hostdev refuses that detach: ",
                               managed->len == 1 ? "this device" : "these devices");
                return FALSE;
        }
        return TRUE;
}
