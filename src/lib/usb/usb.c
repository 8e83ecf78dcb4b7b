/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "fileio.h"
#include "hd-error.h"
#include "hint.h"
#include "macros.h"
#include "parse.h"
#include "usage.h"
#include "usb.h"

#define USB_DEVICES "sys/bus/usb/devices"
/* A host has a few dozen USB devices; a tree with more is not read further. */
#define USB_DEVICES_MAX 4096
/* Block devices looked at for the storage below USB interfaces (a SAN host has thousands). */
#define BLOCK_DEVICES_MAX (1 << 16)

#define CLASS_HID 0x03
#define CLASS_STORAGE 0x08
#define CLASS_HUB 0x09
#define HID_BOOT_KEYBOARD 1
#define HID_BOOT_MOUSE 2

/* ---------------------------------------------------------------- freeing */

static void interface_free(gpointer p)
{
        HdUsbInterface *i = p;

        g_free(i->name);
        g_free(i->driver);
        g_ptr_array_unref(i->blockdevs);
        g_free(i);
}

static void holder_free(gpointer p)
{
        HdUsbHolder *h = p;

        g_free(h->comm);
        g_free(h->vm);
        g_free(h);
}

void hd_usb_device_free(HdUsbDevice *dev)
{
        if (!dev)
                return;
        g_free(dev->name);
        g_free(dev->devpath);
        g_free(dev->port_path);
        g_free(dev->manufacturer);
        g_free(dev->product);
        g_free(dev->serial);
        g_free(dev->vendor_name);
        g_free(dev->product_name);
        g_free(dev->speed);
        g_free(dev->removable);
        g_ptr_array_unref(dev->interfaces);
        g_free(dev->controller);
        g_free(dev->node);
        g_free(dev->sysfs_path);
        g_ptr_array_unref(dev->reasons);
        g_ptr_array_unref(dev->holders);
        g_ptr_array_unref(dev->host_use);
        g_free(dev);
}

/* ---------------------------------------------------------------- names the kernel gives */

/* A decimal number 1..@max without leading zeros, the whole of [@s, @s + @len). */
static gboolean number_in(const char *s, gsize len, guint max, guint *out)
{
        guint64 v = 0;

        if (len == 0 || len > 3 || s[0] == '0')
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                if (!g_ascii_isdigit(s[i]))
                        return FALSE;
                v = v * 10 + (guint)(s[i] - '0');
        }
        if (v < 1 || v > max)
                return FALSE;
        if (out)
                *out = (guint)v;
        return TRUE;
}

/* Four hex digits. */
static gboolean hex4(const char *s, gsize len, guint16 *out)
{
        guint v = 0;

        if (len != 4)
                return FALSE;
        for (gsize i = 0; i < 4; i++) {
                if (!g_ascii_isxdigit(s[i]))
                        return FALSE;
                v = v * 16 + (guint)g_ascii_xdigit_value(s[i]);
        }
        *out = (guint16)v;
        return TRUE;
}

/* "2.3": 1..HD_USB_PORTS_MAX ports 1..31 separated by dots. */
static gboolean devpath_valid(const char *s)
{
        guint n = 0;
        const char *p = s;

        if (!s || !*s)
                return FALSE;
        while (TRUE) {
                const char *dot = strchr(p, '.');
                gsize len = dot ? (gsize)(dot - p) : strlen(p);

                if (++n > HD_USB_PORTS_MAX || !number_in(p, len, 31, NULL))
                        return FALSE;
                if (!dot)
                        return TRUE;
                p = dot + 1;
        }
}

/* "1-2.3" -> bus 1, devpath "2.3". */
static gboolean port_path_split(const char *s, guint *bus, const char **devpath)
{
        const char *dash = strchr(s, '-');

        if (!dash || !number_in(s, (gsize)(dash - s), 999, bus) || !devpath_valid(dash + 1))
                return FALSE;
        *devpath = dash + 1;
        return TRUE;
}

/* "usb1" -> 1 */
static gboolean root_hub_name(const char *s, guint *bus)
{
        return g_str_has_prefix(s, "usb") && number_in(s + 3, strlen(s + 3), 999, bus);
}

/* ---------------------------------------------------------------- reading attributes */

static char *attr(int dfd, const char *name)
{
        char *v = hd_read_attr_optional_at(dfd, name);

        if (v)
                g_strstrip(v);
        return v;
}

static int attr_int(int dfd, const char *name, gint64 max)
{
        g_autofree char *v = attr(dfd, name);
        gint64 n;

        return v && hd_parse_int(v, 0, max, &n) ? (int)n : -1;
}

static int attr_hex(int dfd, const char *name, guint64 max)
{
        g_autofree char *v = attr(dfd, name);
        guint64 n;

        return v && hd_is_hex_string(v, 1, 4) && hd_parse_hex(v, max, &n) ? (int)n : -1;
}

/* The last PCI address in @path: the controller the device hangs off. */
static char *controller_of(const char *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        char *found = NULL;

        for (char **p = parts; *p; p++) {
                HdAddress a;
                char buf[HD_ADDRESS_STRLEN];

                if (hd_address_parse_sysfs_name(*p, &a)) {
                        g_free(found);
                        found = g_strdup(hd_address_format(&a, buf));
                }
        }
        return found;
}

static int controller_group(HdCtx *ctx, const char *controller)
{
        g_autofree char *link = g_strdup_printf("sys/bus/pci/devices/%s/iommu_group", controller);
        g_autofree char *group = hd_readlink_basename_at(hd_ctx_get_root_fd(ctx), link);
        gint64 n;

        return group && hd_parse_int(group, 0, G_MAXINT, &n) ? (int)n : -1;
}

/* The block devices (names in sys/class/block) whose device lives below @path + "/":
 * resolved once for the scan. */
typedef struct {
        char *name;
        char *path; /* resolved, below the root */
} BlockEntry;

static void block_entry_free(gpointer p)
{
        BlockEntry *e = p;

        g_free(e->name);
        g_free(e->path);
        g_free(e);
}

static GPtrArray *block_entries(HdCtx *ctx)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        GPtrArray *out = g_ptr_array_new_with_free_func(block_entry_free);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, "sys/class/block", NULL);
        hd_autofd int dfd = names ? hd_open_dir_at(root_fd, "sys/class/block", NULL) : -1;

        for (guint i = 0; dfd >= 0 && i < names->len && i < BLOCK_DEVICES_MAX; i++) {
                g_autofree char *target = hd_readlink_at(dfd, names->pdata[i], NULL);
                char *resolved = target ? hd_path_resolve("sys/class/block", target) : NULL;
                BlockEntry *e;

                if (!resolved)
                        continue;
                e = g_new0(BlockEntry, 1);
                e->name = g_strdup(names->pdata[i]);
                e->path = resolved;
                g_ptr_array_add(out, e);
        }
        return out;
}

static void load_interfaces(HdCtx *ctx, HdUsbDevice *dev, GPtrArray *blocks)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) entries = hd_list_dir_at(root_fd, dev->sysfs_path, NULL);
        /* usb1's interfaces are 1-0:1.0 */
        g_autofree char *prefix = dev->root_hub ? g_strdup_printf("%d-0:", dev->busnum)
                                                : g_strconcat(dev->name, ":", NULL);

        for (guint i = 0; entries && i < entries->len; i++) {
                const char *name = entries->pdata[i];
                g_autofree char *dir = NULL;
                g_autofree char *dprefix = NULL;
                hd_autofd int dfd = -1;
                HdUsbInterface *iface;

                if (!g_str_has_prefix(name, prefix))
                        continue;
                dir = g_strdup_printf("%s/%s", dev->sysfs_path, name);
                dfd = hd_open_dir_at(root_fd, dir, NULL);
                if (dfd < 0)
                        continue;
                iface = g_new0(HdUsbInterface, 1);
                iface->name = g_strdup(name);
                iface->number = attr_hex(dfd, "bInterfaceNumber", 0xff);
                iface->iface_class = attr_hex(dfd, "bInterfaceClass", 0xff);
                iface->subclass = attr_hex(dfd, "bInterfaceSubClass", 0xff);
                iface->protocol = attr_hex(dfd, "bInterfaceProtocol", 0xff);
                iface->driver = hd_readlink_basename_at(dfd, "driver");
                iface->blockdevs = g_ptr_array_new_with_free_func(g_free);
                dprefix = g_strconcat(dir, "/", NULL);
                for (guint k = 0; blocks && k < blocks->len; k++) {
                        const BlockEntry *e = blocks->pdata[k];
                        if (g_str_has_prefix(e->path, dprefix))
                                g_ptr_array_add(iface->blockdevs, g_strdup(e->name));
                }
                g_ptr_array_add(dev->interfaces, iface);
        }
}

static HdUsbDevice *load_device(HdCtx *ctx, const char *name, GPtrArray *blocks)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *link = g_strdup_printf(USB_DEVICES "/%s", name);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
        g_autofree char *path = target ? hd_path_resolve(USB_DEVICES, target) : NULL;
        g_autoptr(HdUsbDevice) dev = NULL;
        hd_autofd int dfd = -1;
        const char *devpath = NULL;
        guint bus = 0;
        gboolean root_hub = root_hub_name(name, &bus);

        if (!root_hub && !port_path_split(name, &bus, &devpath))
                return NULL; /* an interface, or a name the kernel does not give */
        if (!path || (dfd = hd_open_dir_at(root_fd, path, NULL)) < 0)
                return NULL;
        dev = g_new0(HdUsbDevice, 1);
        dev->name = g_strdup(name);
        dev->root_hub = root_hub;
        dev->sysfs_path = g_steal_pointer(&path);
        dev->busnum = attr_int(dfd, "busnum", 999);
        if (dev->busnum < 0)
                dev->busnum = (int)bus;
        dev->devnum = attr_int(dfd, "devnum", 999);
        dev->devpath = attr(dfd, "devpath");
        if (!dev->devpath)
                dev->devpath = g_strdup(root_hub ? "0" : devpath);
        dev->port_path = g_strdup(name);
        dev->vendor_id = attr_hex(dfd, "idVendor", 0xffff);
        dev->product_id = attr_hex(dfd, "idProduct", 0xffff);
        dev->manufacturer = attr(dfd, "manufacturer");
        dev->product = attr(dfd, "product");
        dev->serial = attr(dfd, "serial");
        dev->speed = attr(dfd, "speed");
        dev->device_class = attr_hex(dfd, "bDeviceClass", 0xff);
        dev->removable = attr(dfd, "removable");
        dev->authorized = attr_int(dfd, "authorized", 1);
        dev->maxchild = attr_int(dfd, "maxchild", 255);
        dev->interfaces = g_ptr_array_new_with_free_func(interface_free);
        dev->controller = controller_of(dev->sysfs_path);
        dev->iommu_group = dev->controller ? controller_group(ctx, dev->controller) : -1;
        if (dev->busnum > 0 && dev->devnum > 0)
                dev->node = g_strdup_printf("/dev/bus/usb/%03d/%03d", dev->busnum, dev->devnum);
        dev->reasons = g_ptr_array_new_with_free_func(g_free);
        dev->holders = g_ptr_array_new_with_free_func(holder_free);
        dev->host_use = g_ptr_array_new_with_free_func(g_free);
        load_interfaces(ctx, dev, blocks);
        return g_steal_pointer(&dev);
}

/* Port paths compare by bus, then port by port as numbers; a root hub before its devices. */
static int compare_devpath(const char *a, const char *b)
{
        while (*a && *b) {
                char *ea, *eb;
                unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);

                if (x != y)
                        return x < y ? -1 : 1;
                a = *ea == '.' ? ea + 1 : ea;
                b = *eb == '.' ? eb + 1 : eb;
                if (ea == a && eb == b)
                        break;
        }
        return (*a != 0) - (*b != 0);
}

static gint compare_devices(gconstpointer pa, gconstpointer pb)
{
        const HdUsbDevice *a = *(HdUsbDevice *const *)pa, *b = *(HdUsbDevice *const *)pb;

        if (a->busnum != b->busnum)
                return a->busnum < b->busnum ? -1 : 1;
        if (a->root_hub != b->root_hub)
                return a->root_hub ? -1 : 1;
        return compare_devpath(a->devpath ? a->devpath : "", b->devpath ? b->devpath : "");
}

/* usb.ids: "VVVV  vendor name" at the start of a line, "\tPPPP  product name" below it; the
 * vendor list ends at the first line that is neither (the class tables that follow). */
#define USB_IDS_MAX (8 << 20)

static gboolean ids_line(const char *l, guint16 *id, const char **name)
{
        if (!hex4(l, strlen(l) >= 4 ? 4 : 0, id) || l[4] != ' ' || l[5] != ' ' || !l[6])
                return FALSE;
        *name = l + 6;
        return TRUE;
}

static void load_names(HdCtx *ctx, GPtrArray *devices)
{
        static const char *const paths[] = {"usr/share/hwdata/usb.ids", "usr/share/misc/usb.ids",
                                            "var/lib/usbutils/usb.ids"};
        g_autofree char *text = NULL;
        gboolean vendors_seen = FALSE;
        int vendor = -1;
        char *line, *next;

        for (gsize i = 0; i < G_N_ELEMENTS(paths) && !text; i++)
                text = hd_read_file_at(hd_ctx_get_root_fd(ctx), paths[i], USB_IDS_MAX, NULL);
        if (!text)
                return;
        for (line = text; line; line = next) {
                const char *name;
                guint16 id;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (line[0] == '#' || line[0] == '\0')
                        continue;
                if (line[0] == '\t') {
                        if (vendor < 0 || line[1] == '\t' || !ids_line(line + 1, &id, &name))
                                continue;
                        for (guint k = 0; k < devices->len; k++) {
                                HdUsbDevice *d = devices->pdata[k];
                                if (d->vendor_id == vendor && d->product_id == id &&
                                    !d->product_name)
                                        d->product_name = g_utf8_make_valid(name, -1);
                        }
                        continue;
                }
                if (!ids_line(line, &id, &name)) {
                        if (vendors_seen)
                                break;
                        continue;
                }
                vendors_seen = TRUE;
                vendor = id;
                for (guint k = 0; k < devices->len; k++) {
                        HdUsbDevice *d = devices->pdata[k];
                        if (d->vendor_id == vendor && !d->vendor_name)
                                d->vendor_name = g_utf8_make_valid(name, -1);
                }
        }
}

GPtrArray *hd_usb_scan(HdCtx *ctx, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_usb_device_free);
        g_autoptr(GPtrArray) names = NULL;
        g_autoptr(GPtrArray) blocks = NULL;

        if (!hd_exists_at(root_fd, USB_DEVICES, FALSE))
                return out;
        names = hd_list_dir_at(root_fd, USB_DEVICES, error);
        if (!names) {
                g_ptr_array_unref(out);
                return NULL;
        }
        blocks = block_entries(ctx);
        for (guint i = 0; i < names->len && i < USB_DEVICES_MAX; i++) {
                HdUsbDevice *dev = load_device(ctx, names->pdata[i], blocks);
                if (dev)
                        g_ptr_array_add(out, dev);
        }
        g_ptr_array_sort(out, compare_devices);
        load_names(ctx, out);
        return out;
}

/* ---------------------------------------------------------------- what a device is */

gboolean hd_usb_device_is_superspeed(const HdUsbDevice *dev)
{
        gint64 n;

        return dev->speed && hd_parse_int(dev->speed, 0, 1000000, &n) && n >= 5000;
}

gboolean hd_usb_device_has_interface(const HdUsbDevice *dev, int iface_class, int protocol)
{
        for (guint i = 0; i < dev->interfaces->len; i++) {
                const HdUsbInterface *f = dev->interfaces->pdata[i];
                if (f->iface_class == iface_class && (protocol < 0 || f->protocol == protocol))
                        return TRUE;
        }
        return FALSE;
}

const char *hd_usb_class_name(int usb_class)
{
        static const struct {
                int code;
                const char *name;
        } classes[] = {
            {0x01, "audio"},
            {0x02, "communications"},
            {0x03, "HID"},
            {0x05, "physical"},
            {0x06, "imaging"},
            {0x07, "printer"},
            {0x08, "mass storage"},
            {0x09, "hub"},
            {0x0a, "CDC data"},
            {0x0b, "smart card"},
            {0x0d, "content security"},
            {0x0e, "video"},
            {0x0f, "healthcare"},
            {0x10, "audio/video"},
            {0xdc, "diagnostic"},
            {0xe0, "wireless"},
            {0xef, "miscellaneous"},
            {0xfe, "application specific"},
            {0xff, "vendor specific"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(classes); i++)
                if (classes[i].code == usb_class)
                        return classes[i].name;
        return NULL;
}

static void add_kind(GPtrArray *kinds, char *kind)
{
        for (guint i = 0; i < kinds->len; i++)
                if (strcmp(kinds->pdata[i], kind) == 0) {
                        g_free(kind);
                        return;
                }
        g_ptr_array_add(kinds, kind);
}

static char *class_text(int c)
{
        const char *n = hd_usb_class_name(c);

        return n ? g_strdup(n) : g_strdup_printf("class %02x", (guint)c & 0xff);
}

char *hd_usb_device_kind(const HdUsbDevice *dev)
{
        g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) s = g_string_new(NULL);

        if (dev->root_hub)
                return g_strdup("root hub");
        if (dev->device_class > 0 && dev->device_class != 0xef)
                return class_text(dev->device_class);
        for (guint i = 0; i < dev->interfaces->len; i++) {
                const HdUsbInterface *f = dev->interfaces->pdata[i];

                if (f->iface_class < 0)
                        continue;
                if (f->iface_class == CLASS_HID && f->protocol == HID_BOOT_KEYBOARD)
                        add_kind(kinds, g_strdup("HID keyboard"));
                else if (f->iface_class == CLASS_HID && f->protocol == HID_BOOT_MOUSE)
                        add_kind(kinds, g_strdup("HID mouse"));
                else
                        add_kind(kinds, class_text(f->iface_class));
        }
        if (kinds->len == 0)
                return dev->device_class >= 0 ? class_text(dev->device_class) : g_strdup("unknown");
        for (guint i = 0; i < kinds->len; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "", (char *)kinds->pdata[i]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

const char *hd_usb_device_name(const HdUsbDevice *dev)
{
        if (dev->product)
                return dev->product;
        if (dev->product_name)
                return dev->product_name;
        return dev->manufacturer ? dev->manufacturer : dev->vendor_name;
}

/* ---------------------------------------------------------------- the verdict */

static gboolean is_hub(const HdUsbDevice *dev)
{
        return dev->device_class == CLASS_HUB || hd_usb_device_has_interface(dev, CLASS_HUB, -1);
}

/* Whether @d serves the host as a keyboard or mouse (HID boot @protocol): an interface of the
 * kind that is not claimed through usbfs (a device already given to a VM is not the host's),
 * on a device the kernel has authorized. */
static gboolean host_hid(const HdUsbDevice *d, int protocol)
{
        if (d->root_hub || is_hub(d) || d->authorized == 0)
                return FALSE;
        for (guint i = 0; i < d->interfaces->len; i++) {
                const HdUsbInterface *f = d->interfaces->pdata[i];
                if (f->iface_class == CLASS_HID && f->protocol == protocol &&
                    g_strcmp0(f->driver, "usbfs") != 0)
                        return TRUE;
        }
        return FALSE;
}

/* How many devices serve the host as keyboard (mouse). */
static guint count_hid(GPtrArray *devices, int protocol)
{
        guint n = 0;

        for (guint i = 0; i < devices->len; i++)
                n += host_hid(devices->pdata[i], protocol);
        return n;
}

static void set_verdict(HdUsbDevice *dev, const char *code, gboolean forceable)
{
        if (dev->verdict)
                return;
        dev->verdict = code;
        dev->forceable = forceable;
}

/* Mounts, swap and dm/md holders of the block devices of @dev's storage interfaces. */
static gboolean storage_use(HdCtx *ctx, HdUsbDevice *dev, gboolean *is_root)
{
        int root_fd = hd_ctx_get_root_fd(ctx);

        for (guint i = 0; i < dev->interfaces->len; i++) {
                const HdUsbInterface *f = dev->interfaces->pdata[i];

                for (guint k = 0; k < f->blockdevs->len; k++) {
                        const char *b = f->blockdevs->pdata[k];
                        g_autoptr(GPtrArray) uses = hd_usage_blockdev(ctx, b, is_root);
                        g_autofree char *hdir = g_strdup_printf("sys/class/block/%s/holders", b);
                        g_autoptr(GPtrArray) holders = hd_list_dir_at(root_fd, hdir, NULL);

                        for (guint u = 0; uses && u < uses->len; u++)
                                g_ptr_array_add(dev->host_use, g_strdup(uses->pdata[u]));
                        for (guint h = 0; holders && h < holders->len; h++)
                                g_ptr_array_add(dev->host_use,
                                                g_strdup_printf("%s is held by %s", b,
                                                                (char *)holders->pdata[h]));
                }
        }
        return dev->host_use->len > 0;
}

static char *holders_text(const HdUsbDevice *dev)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < dev->holders->len; i++) {
                const HdUsbHolder *h = dev->holders->pdata[i];
                g_string_append_printf(s, "%s%d (%s", i ? ", " : "", h->pid, h->comm);
                if (h->vm)
                        g_string_append_printf(s, ", VM %s", h->vm);
                g_string_append_c(s, ')');
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

void hd_usb_evaluate(HdCtx *ctx, GPtrArray *devices)
{
        g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) procs = NULL;
        guint keyboards = count_hid(devices, HID_BOOT_KEYBOARD);
        guint mice = count_hid(devices, HID_BOOT_MOUSE);

        for (guint i = 0; i < devices->len; i++) {
                const HdUsbDevice *d = devices->pdata[i];
                if (d->node && !d->root_hub)
                        g_ptr_array_add(nodes, g_strdup(d->node));
        }
        procs = hd_usage_node_holders(ctx, nodes);
        for (guint i = 0; i < devices->len; i++) {
                HdUsbDevice *d = devices->pdata[i];
                gboolean usbfs = FALSE, is_root = FALSE;

                d->verdict = NULL;
                d->forceable = FALSE;
                g_ptr_array_set_size(d->reasons, 0);
                g_ptr_array_set_size(d->holders, 0);
                g_ptr_array_set_size(d->host_use, 0);
                for (guint k = 0; d->node && k < procs->len; k++) {
                        const HdProcUse *u = procs->pdata[k];
                        for (guint n = 0; n < u->nodes->len; n++)
                                if (strcmp(u->nodes->pdata[n], d->node) == 0) {
                                        HdUsbHolder *h = g_new0(HdUsbHolder, 1);
                                        h->pid = u->pid;
                                        h->comm = g_strdup(u->comm);
                                        h->vm = hd_usage_vm_of_pid(ctx, u->pid);
                                        g_ptr_array_add(d->holders, h);
                                }
                }
                for (guint k = 0; k < d->interfaces->len; k++)
                        usbfs =
                            usbfs || g_strcmp0(((HdUsbInterface *)d->interfaces->pdata[k])->driver,
                                               "usbfs") == 0;

                if (d->root_hub) {
                        set_verdict(d, "root-hub", FALSE);
                        g_ptr_array_add(d->reasons,
                                        g_strdup_printf("%s is the root hub of controller %s: "
                                                        "pass the controller's PCI function "
                                                        "instead (hostdev show %s)",
                                                        d->name,
                                                        d->controller ? d->controller : "?",
                                                        d->controller ? d->controller : ""));
                }
                if (!d->root_hub && is_hub(d)) {
                        set_verdict(d, "hub", FALSE);
                        g_ptr_array_add(d->reasons,
                                        g_strdup_printf("%s is a hub: QEMU's usb-host does not "
                                                        "take hubs; pass the devices behind it",
                                                        d->port_path));
                }
                if (!d->root_hub && storage_use(ctx, d, &is_root) && is_root) {
                        set_verdict(d, "root-fs", FALSE);
                        g_ptr_array_add(
                            d->reasons,
                            g_strdup_printf("%s holds the host's root filesystem", d->port_path));
                }
                if (usbfs || d->holders->len > 0) {
                        g_autofree char *who = holders_text(d);
                        set_verdict(d, "held", TRUE);
                        if (d->holders->len > 0)
                                g_ptr_array_add(d->reasons,
                                                g_strdup_printf("%s is held: %s has %s open",
                                                                d->port_path, who, d->node));
                        else
                                g_ptr_array_add(d->reasons,
                                                g_strdup_printf("%s is held: an interface is on "
                                                                "usbfs (claimed by a VM or a "
                                                                "libusb program)",
                                                                d->port_path));
                }
                if (d->host_use->len > 0) {
                        g_autoptr(GString) s = g_string_new(NULL);
                        for (guint k = 0; k < d->host_use->len; k++)
                                g_string_append_printf(s, "%s%s", k ? ", " : "",
                                                       (char *)d->host_use->pdata[k]);
                        set_verdict(d, "host-storage", TRUE);
                        g_ptr_array_add(d->reasons,
                                        g_strdup_printf("the host uses the storage of %s: %s; "
                                                        "unmount it first",
                                                        d->port_path, s->str));
                }
                if (keyboards == 1 && host_hid(d, HID_BOOT_KEYBOARD)) {
                        set_verdict(d, "only-keyboard", TRUE);
                        g_ptr_array_add(
                            d->reasons,
                            g_strdup_printf("%s is the host's only keyboard", d->port_path));
                }
                if (mice == 1 && host_hid(d, HID_BOOT_MOUSE)) {
                        set_verdict(d, "only-mouse", TRUE);
                        g_ptr_array_add(d->reasons, g_strdup_printf("%s is the host's only mouse",
                                                                    d->port_path));
                }
                set_verdict(d, "ready", FALSE);
        }
}

/* ---------------------------------------------------------------- identities */

void hd_usb_spec_clear(HdUsbSpec *spec)
{
        g_clear_pointer(&spec->serial, g_free);
        g_clear_pointer(&spec->devpath, g_free);
}

gboolean hd_usb_serial_is_typeable(const char *serial)
{
        gsize n = serial ? strlen(serial) : 0;

        if (n == 0 || n > HD_USB_SERIAL_MAX)
                return FALSE;
        for (const char *p = serial; *p; p++)
                if (*p < 0x21 || *p > 0x7e || *p == '\'' || *p == '"' || *p == '`' || *p == '\\')
                        return FALSE;
        return TRUE;
}

/* "1:4", "001:004", "001/004", "1.4": what people copy from lsusb's "Bus 001 Device 004". */
static gboolean looks_like_devnum(const char *s)
{
        const char *sep = strpbrk(s, ":/");
        gsize a = sep ? (gsize)(sep - s) : 0;

        if (!sep || a == 0 || a > 3 || strlen(sep + 1) == 0 || strlen(sep + 1) > 3)
                return FALSE;
        for (const char *p = s; *p; p++)
                if (p != sep && !g_ascii_isdigit(*p))
                        return FALSE;
        return TRUE;
}

gboolean hd_usb_spec_parse(const char *text, const char *serial, HdUsbSpec *spec, GError **error)
{
        g_autofree char *shown = NULL;
        const char *devpath;
        guint bus;

        memset(spec, 0, sizeof(*spec));
        if (!text)
                text = "";
        shown = g_utf8_make_valid(text, (gssize)MIN(strlen(text), 60));
        for (char *p = shown; *p; p++)
                if ((guchar)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        if (serial && !hd_usb_serial_is_typeable(serial)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "--serial: a serial is 1 to %d printable characters without blanks "
                            "or quotes; name a device whose serial is not by its port path "
                            "(hostdev usb list shows it)",
                            HD_USB_SERIAL_MAX);
                return FALSE;
        }
        if (strlen(text) >= 9 && text[4] == ':' && hex4(text, 4, &spec->vendor) &&
            hex4(text + 5, 4, &spec->product) && (text[9] == '\0' || text[9] == ':')) {
                const char *s = text[9] == ':' ? text + 10 : NULL;

                spec->kind = HD_USB_SPEC_IDS;
                if (s && serial) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%s already names a serial: give it once, either as "
                                    "VVVV:PPPP:SERIAL or with --serial",
                                    shown);
                        return FALSE;
                }
                if (s && !hd_usb_serial_is_typeable(s)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "'%s': the serial after vendor:product is 1 to %d printable "
                                    "characters without blanks or quotes; name a device whose "
                                    "serial is not by its port path (hostdev usb list shows it)",
                                    shown, HD_USB_SERIAL_MAX);
                        return FALSE;
                }
                spec->serial = g_strdup(s ? s : serial);
                return TRUE;
        }
        if (port_path_split(text, &bus, &devpath)) {
                if (serial) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--serial goes with vendor:product, not with the port path "
                                    "%s (a port path names whatever is plugged in there)",
                                    shown);
                        return FALSE;
                }
                spec->kind = HD_USB_SPEC_PORT;
                spec->bus = bus;
                spec->devpath = g_strdup(devpath);
                return TRUE;
        }
        if (root_hub_name(text, &bus)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is a root hub, a part of its host controller, which no VM can be "
                            "given alone: the controller is a PCI function (hostdev usb list "
                            "shows it in the CONTROLLER column; hostdev detach moves it, with "
                            "every port)",
                            shown);
                return FALSE;
        }
        if (looks_like_devnum(text)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "'%s' looks like a bus and device number, which change at every "
                            "replug: name the device by vendor:product[:serial] (e.g. "
                            "046d:c52b) or by its port path (e.g. 1-2.3); hostdev usb list "
                            "shows both",
                            shown);
                return FALSE;
        }
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                    "'%s' is not a USB device: give vendor:product (046d:c52b), "
                    "vendor:product:serial (0403:6001:A10K7XYZ) or a port path (1-2.3, at most "
                    "%d ports of 1 to 31); hostdev usb list shows them",
                    shown, HD_USB_PORTS_MAX);
        return FALSE;
}

char *hd_usb_spec_format(const HdUsbSpec *spec)
{
        if (spec->kind == HD_USB_SPEC_PORT)
                return g_strdup_printf("%u-%s", spec->bus, spec->devpath);
        if (spec->serial)
                return g_strdup_printf("%04x:%04x:%s", spec->vendor, spec->product, spec->serial);
        return g_strdup_printf("%04x:%04x", spec->vendor, spec->product);
}

static gboolean ids_match(const HdUsbDevice *d, guint16 vendor, guint16 product)
{
        return !d->root_hub && d->vendor_id == vendor && d->product_id == product;
}

/* "1-3.1 (serial A10K7XYZ): hostdev usb show 0403:6001:A10K7XYZ or hostdev usb show 1-3.1" */
static void append_pick(GString *s, const HdUsbDevice *d, const char *command)
{
        g_string_append_printf(s, "\n  %s", d->port_path);
        if (d->serial)
                g_string_append_printf(s, " (serial %s)", d->serial);
        g_string_append(s, ": ");
        if (hd_usb_serial_is_typeable(d->serial))
                g_string_append_printf(s, "%s %04x:%04x:%s or ", command, (guint)d->vendor_id,
                                       (guint)d->product_id, d->serial);
        g_string_append_printf(s, "%s %s", command, d->port_path);
}

HdUsbDevice *hd_usb_resolve(HdCtx *ctx, GPtrArray *devices, const HdUsbSpec *spec,
                            const char *command, GError **error)
{
        g_autoptr(GPtrArray) found = g_ptr_array_new();
        g_autofree char *text = hd_usb_spec_format(spec);

        for (guint i = 0; i < devices->len; i++) {
                HdUsbDevice *d = devices->pdata[i];

                if (spec->kind == HD_USB_SPEC_PORT) {
                        if (!d->root_hub && d->busnum == (int)spec->bus &&
                            g_strcmp0(d->devpath, spec->devpath) == 0)
                                g_ptr_array_add(found, d);
                } else if (ids_match(d, spec->vendor, spec->product) &&
                           (!spec->serial || g_strcmp0(d->serial, spec->serial) == 0)) {
                        g_ptr_array_add(found, d);
                }
        }
        if (found->len == 1)
                return found->pdata[0];
        if (found->len == 0) {
                g_autofree char *list = hd_hint_usb_scsi(ctx, HD_HINT_USB_LIST, NULL);
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no USB device %s on this host%s; %s shows the devices present", text,
                            spec->kind == HD_USB_SPEC_PORT ? " (nothing is plugged into that port)"
                            : spec->serial                 ? " (no device with that vendor:product "
                                                             "has that serial)"
                                                           : "",
                            list);
                return NULL;
        }
        {
                g_autoptr(GString) s = g_string_new(NULL);

                g_string_append_printf(s, "%u USB devices have %s%s; name one:", found->len,
                                       spec->serial ? "vendor:product:serial " : "vendor:product ",
                                       text);
                for (guint i = 0; i < found->len; i++)
                        append_pick(s, found->pdata[i], command);
                g_set_error_literal(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, s->str);
        }
        return NULL;
}

/* ---------------------------------------------------------------- guest configuration */

/* @force_word: how the caller asks for force */
static gboolean guest_check(const HdUsbDevice *dev, const HdUsbGuestOptions *opts,
                            const char *force_word, GError **error)
{
        g_autoptr(GString) s = NULL;

        if (!dev->verdict) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "USB device %s has no verdict yet (hd_usb_evaluate() decides it)",
                            dev->port_path);
                return FALSE;
        }
        if (strcmp(dev->verdict, "ready") == 0)
                return TRUE;
        if (dev->forceable && opts && opts->force)
                return TRUE;
        s = g_string_new(NULL);
        g_string_append_printf(s, "USB device %s (%04x:%04x) is refused (%s): ", dev->port_path,
                               (guint)MAX(dev->vendor_id, 0), (guint)MAX(dev->product_id, 0),
                               dev->verdict);
        for (guint i = 0; i < dev->reasons->len; i++)
                g_string_append_printf(s, "%s%s", i ? "; " : "", (char *)dev->reasons->pdata[i]);
        if (dev->forceable)
                g_string_append_printf(s, "; %s gives it to the VM all the same", force_word);
        g_set_error_literal(error, HD_ERROR, HD_ERROR_REFUSED, s->str);
        return FALSE;
}

gboolean hd_usb_guest_check(const HdUsbDevice *dev, const HdUsbGuestOptions *opts, GError **error)
{
        return guest_check(dev, opts, "--force", error);
}

gboolean hd_usb_guest_prepare(HdCtx *ctx, GPtrArray *devices, const HdUsbSpec *spec,
                              const HdUsbGuestOptions *opts, const char *command,
                              HdUsbGuestDevice *out, GPtrArray *warnings, GError **error)
{
        HdUsbDevice *dev = hd_usb_resolve(ctx, devices, spec, command, error);
        guint same = 0;

        if (!dev || !guest_check(dev, opts, hd_hint_option(ctx, HD_HINT_GUEST_FORCE), error))
                return FALSE;
        for (guint k = 0; k < devices->len; k++) {
                const HdUsbDevice *o = devices->pdata[k];
                same += !o->root_hub && o->vendor_id == dev->vendor_id &&
                        o->product_id == dev->product_id;
        }
        *out = (HdUsbGuestDevice){
            .dev = dev,
            .kind = spec->kind,
            .unique_ids = same == 1,
            .serial_given = spec->serial != NULL,
        };
        if (dev->forceable && strcmp(dev->verdict, "ready") != 0 && warnings)
                g_ptr_array_add(warnings,
                                g_strdup_printf("%s: given with force although %s", dev->port_path,
                                                (char *)dev->reasons->pdata[0]));
        return TRUE;
}

/* Whether the configuration must pin the device to where it is now. */
static gboolean pinned(const HdUsbGuestDevice *g)
{
        return !g->unique_ids;
}

char *hd_usb_guest_xml(const HdUsbGuestDevice *devs, guint n, GPtrArray *warnings)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < n; i++) {
                const HdUsbDevice *d = devs[i].dev;

                g_string_append(s, "<hostdev mode='subsystem' type='usb' managed='no'>\n");
                g_string_append(s, "  <source startupPolicy='optional'>\n");
                g_string_append_printf(s, "    <vendor id='0x%04x'/>\n", (guint)d->vendor_id);
                g_string_append_printf(s, "    <product id='0x%04x'/>\n", (guint)d->product_id);
                if (pinned(&devs[i])) {
                        g_string_append_printf(s, "    <address bus='%d' device='%d'/>\n",
                                               d->busnum, d->devnum);
                        if (warnings)
                                g_ptr_array_add(
                                    warnings,
                                    g_strdup_printf(
                                        "%s: several devices share vendor:product %04x:%04x and "
                                        "libvirt cannot match a serial or a port, so the "
                                        "element names bus %d device %d as it is now: after a "
                                        "replug or a reboot it no longer matches (libvirt "
                                        "skips it, startupPolicy='optional'); run hostdev usb "
                                        "xml again then",
                                        d->port_path, (guint)d->vendor_id, (guint)d->product_id,
                                        d->busnum, d->devnum));
                }
                g_string_append(s, "  </source>\n</hostdev>\n");
        }
        return g_string_free(s, FALSE);
}

gboolean hd_usb_qemu_id_is_valid(const char *id)
{
        gsize n = id ? strlen(id) : 0;

        if (n == 0 || n > 64 || !g_ascii_isalpha(id[0]))
                return FALSE;
        for (const char *p = id; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
                        return FALSE;
        return TRUE;
}

char **hd_usb_guest_qemu_args(const HdUsbGuestDevice *devs, guint n, const HdUsbGuestOptions *opts,
                              GPtrArray *warnings)
{
        GPtrArray *args = g_ptr_array_new();
        const char *xhci = opts && opts->xhci ? opts->xhci : "xhci";

        g_return_val_if_fail(hd_usb_qemu_id_is_valid(xhci), NULL);
        if (!opts || !opts->xhci) {
                g_ptr_array_add(args, g_strdup("-device"));
                g_ptr_array_add(args, g_strdup("qemu-xhci,id=xhci"));
        }
        for (guint i = 0; i < n; i++) {
                const HdUsbDevice *d = devs[i].dev;
                g_autoptr(GString) s = g_string_new(NULL);

                g_string_append_printf(s, "usb-host,bus=%s.0", xhci);

                if (devs[i].kind == HD_USB_SPEC_PORT || pinned(&devs[i]))
                        g_string_append_printf(s, ",hostbus=%d,hostport=%s", d->busnum, d->devpath);
                if (devs[i].kind == HD_USB_SPEC_IDS)
                        g_string_append_printf(s, ",vendorid=0x%04x,productid=0x%04x",
                                               (guint)d->vendor_id, (guint)d->product_id);
                g_string_append_printf(s, ",id=usb-%s", d->port_path);
                g_ptr_array_add(args, g_strdup("-device"));
                g_ptr_array_add(args, g_string_free(g_steal_pointer(&s), FALSE));
                if (devs[i].kind == HD_USB_SPEC_IDS && pinned(&devs[i]) && warnings)
                        g_ptr_array_add(
                            warnings,
                            g_strdup_printf("%s: several devices share vendor:product "
                                            "%04x:%04x and QEMU cannot match a serial, so the "
                                            "device is named by the port it is in now (%d-%s) "
                                            "as well: plugged into another port it is not "
                                            "found; run hostdev usb qemu-args again then",
                                            d->port_path, (guint)d->vendor_id, (guint)d->product_id,
                                            d->busnum, d->devpath));
        }
        g_ptr_array_add(args, NULL);
        return (char **)g_ptr_array_free(args, FALSE);
}
